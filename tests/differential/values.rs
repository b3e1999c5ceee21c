//! Values of the argument types: numbers at and around their limits, floats of every class,
//! points, text with the characters that matter (and bytes invalid in the database encoding),
//! huge values, bytea, values read from the stored table (TOAST pointers, compressed values),
//! and elements of every kind for the polymorphic functions. Each gives an SQL expression.

use crate::calls::Arg;
use crate::db::{Encoding, STORED};
use crate::rng::Rng;
use std::fmt::Write as _;

pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A value of `gen`, or now and then a NULL of type `ty`.
pub fn nullable(rng: &mut Rng, ty: &str, gen: fn(&mut Rng) -> String) -> String {
    if rng.one_in(12) {
        format!("NULL::{ty}")
    } else {
        gen(rng)
    }
}

pub fn int4(rng: &mut Rng) -> String {
    let v: i64 = match rng.below(10) {
        0 => rng.pick(&[i32::MIN as i64, i32::MAX as i64, 0, -1, 1]),
        1 => rng.pick(&[
            i32::MIN as i64 + 1,
            i32::MAX as i64 - 1,
            1 << 30,
            -(1 << 30),
            715_827_882,
            715_827_883,
            536_870_912,
            268_435_456,
            46341,
            -46341,
        ]),
        2 => rng.next() as i32 as i64,
        3 | 4 => rng.below(2001) as i64 - 1000,
        _ => rng.below(41) as i64 - 20,
    };
    format!("'{v}'::integer")
}

pub fn int2(rng: &mut Rng) -> String {
    let v: i64 = match rng.below(4) {
        0 => rng.pick(&[i16::MIN as i64, i16::MAX as i64, 0, -1, 1]),
        1 => rng.next() as i16 as i64,
        _ => rng.below(201) as i64 - 100,
    };
    format!("'{v}'::smallint")
}

pub fn int8(rng: &mut Rng) -> String {
    let v: i128 = match rng.below(5) {
        0 => rng.pick(&[
            i64::MIN as i128,
            i64::MAX as i128,
            0,
            -1,
            1,
            i64::MAX as i128 - 1,
            i64::MIN as i128 + 1,
            i32::MAX as i128 + 1,
        ]),
        1 => rng.next() as i64 as i128,
        _ => rng.below(2001) as i128 - 1000,
    };
    format!("'{v}'::bigint")
}

pub fn float8_literal(rng: &mut Rng) -> String {
    let v: f64 = match rng.below(6) {
        0 => rng.pick(&[
            0.0,
            -0.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MAX,
            -f64::MAX,
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
            5e-324,
            -5e-324,
            f64::MIN_POSITIVE / 3.0,
            1.0,
            -1.0,
            f64::EPSILON,
            9007199254740992.0,
            f64::MAX / 2.0,
        ]),
        1 => f64::from_bits(rng.next()),
        2 => (rng.below(2_000_001) as f64 - 1_000_000.0) / 8.0,
        3 => {
            f64::MAX
                * (1.0 - rng.below(4) as f64 * f64::EPSILON)
                * (-1f64).powi(rng.below(2) as i32)
        }
        _ => (rng.next() as i64) as f64 / 1e6,
    };
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "Infinity".into()
    } else if v == f64::NEG_INFINITY {
        "-Infinity".into()
    } else {
        format!("{v:e}")
    }
}

pub fn float8(rng: &mut Rng) -> String {
    format!("'{}'::float8", float8_literal(rng))
}

pub fn point(rng: &mut Rng) -> String {
    match rng.below(8) {
        0 => format!("'({},{})'::point", float8_literal(rng), float8_literal(rng)),
        _ => format!("point({}, {})", float8(rng), float8(rng)),
    }
}

/// A `complex` in its text form: two float8 literals (NaN and the infinities too), with blanks
/// of every kind C's `isspace` knows around the parts now and then.
pub fn complex_text(rng: &mut Rng) -> String {
    let blank = |rng: &mut Rng| -> &'static str {
        if rng.one_in(3) {
            rng.pick(&[" ", "  ", "\t", "\n", "\u{b}", "\u{c}", "\r"])
        } else {
            ""
        }
    };
    let x = float8_literal(rng);
    let y = float8_literal(rng);
    format!(
        "{}({}{x}{},{}{y}{}){}",
        blank(rng),
        blank(rng),
        blank(rng),
        blank(rng),
        blank(rng),
        blank(rng)
    )
}

/// A `cstring`: the argument of a type's input function, so mostly the text of one of ours
/// (`complex`): well-formed, often broken (a part missing, one too many, something after it),
/// numbers out of float8's range or spelled as strtod spells them; and random characters,
/// empty.
pub fn cstring(rng: &mut Rng, enc: Encoding) -> String {
    let text = match rng.below(12) {
        0..=4 => complex_text(rng),
        5 => {
            // one edit of a well-formed input: a byte removed, doubled or replaced
            let mut t: Vec<char> = complex_text(rng).chars().collect();
            let at = rng.below(t.len() as u64) as usize;
            match rng.below(3) {
                0 => {
                    t.remove(at);
                }
                1 => t.insert(at, t[at]),
                _ => t[at] = rng.pick(&['(', ')', ',', ' ', 'x', '.', 'e', '-', '+', '0', '\0']),
            }
            t.into_iter().filter(|&c| c != '\0').collect()
        }
        6 => {
            let number = |rng: &mut Rng| {
                rng.pick(&[
                    "1e400",
                    "-1e400",
                    "1e-400",
                    "-1e-400",
                    "1e-320",
                    "nan",
                    "NAN",
                    "inf",
                    "-inf",
                    "+inf",
                    "Infinity",
                    "-Infinity",
                    "+Infinity",
                    "infinity",
                    "0x1p3",
                    "+1",
                    "1.",
                    ".5",
                    "1e",
                    "e1",
                    "--1",
                    "1e+",
                    "00",
                    "1_0",
                    "0.0e0",
                    "4.9e-324",
                    "1.7976931348623157e308",
                    "1.7976931348623159e308",
                ])
            };
            format!("({},{})", number(rng), number(rng))
        }
        7 => format!(
            "{}{}",
            complex_text(rng),
            rng.pick(&["x", ")", ",", "(1,2)", " ;"])
        ),
        8 => rng
            .pick(&[
                "", " ", "(", ")", "()", "(,)", "(1)", "(1,2,3)", "1,2", "(1 2)",
            ])
            .into(),
        _ => short_string(rng, enc),
    };
    if rng.one_in(15) {
        "NULL::cstring".into()
    } else {
        format!("{}::cstring", quote(&text))
    }
}

/// A `complex` value: from its text form, or one of the values the comparisons must order
/// (NaN, the infinities, magnitudes past the largest float8, minus zero), or NULL.
pub fn complex(rng: &mut Rng) -> String {
    let text = match rng.below(10) {
        0 => rng
            .pick(&[
                "(NaN,0)",
                "(0,NaN)",
                "(Infinity,0)",
                "(-Infinity,NaN)",
                "(1e200,1e200)",
                "(-1e300,0)",
                "(-0,0)",
                "(0,0)",
                "(3,4)",
                "(-5,0)",
                "(1e308,-1e308)",
            ])
            .to_owned(),
        1 => format!(
            "({},{})",
            rng.below(21) as i64 - 10,
            rng.below(21) as i64 - 10
        ),
        _ => format!("({},{})", float8_literal(rng), float8_literal(rng)),
    };
    if rng.one_in(12) {
        "NULL::complex".into()
    } else {
        format!("{}::complex", quote(&text))
    }
}

/// The bytes of one binary `complex` field for complex_recv, as a `bytea`: mostly 16 (two
/// float8 in network byte order, special values included), now and then shorter or longer.
pub fn complex_field(rng: &mut Rng) -> String {
    let float8_bytes = |rng: &mut Rng| -> [u8; 8] {
        let v: f64 = match float8_literal(rng).as_str() {
            "NaN" => f64::from_bits(0x7ff8_0000_0000_0000 | rng.below(1 << 51)),
            "Infinity" => f64::INFINITY,
            "-Infinity" => f64::NEG_INFINITY,
            other => other.parse().unwrap_or(0.0),
        };
        v.to_be_bytes()
    };
    let mut bytes: Vec<u8> = Vec::new();
    bytes.extend(float8_bytes(rng));
    bytes.extend(float8_bytes(rng));
    match rng.below(8) {
        0 => bytes.truncate(rng.below(16) as usize),
        1 => bytes.extend((0..rng.below(9) + 1).map(|_| rng.below(256) as u8)),
        2 => bytes.iter_mut().for_each(|b| *b = rng.below(256) as u8),
        _ => {}
    }
    let mut hex = String::new();
    for b in bytes {
        write!(hex, "{b:02x}").unwrap();
    }
    format!("'\\x{hex}'::bytea")
}

/// A short string of characters that matter: quotes, backslashes, '=', control characters,
/// multibyte characters.
pub fn short_string(rng: &mut Rng, enc: Encoding) -> String {
    let ascii = [
        "a", "b", "=", " ", "'", "\\", "\t", "\n", "\r", ",", "\"", "(", ")", "{", "}", "0", "9",
        "\u{7}", "\u{7f}",
    ];
    let latin1 = ["é", "ü", "ß", "ÿ", "\u{a0}", "\u{80}"];
    let wide = ["€", "🐘", "日", "\u{301}", "\u{fffd}", "\u{10ffff}"];
    let len = match rng.below(4) {
        0 => 0,
        1 => rng.below(3),
        2 => rng.below(12),
        _ => rng.below(60),
    };
    let mut s = String::new();
    for _ in 0..len {
        s.push_str(match (rng.below(6), enc) {
            (0, Encoding::Utf8) => rng.pick(&wide),
            (0 | 1, Encoding::Utf8 | Encoding::Latin1) => rng.pick(&latin1),
            _ => rng.pick(&ascii),
        });
    }
    s
}

/// Random bytes, as text through the binary cast: often invalid in the database encoding
/// (truncated UTF-8 sequences, lone continuation bytes, overlong forms, NUL bytes).
pub fn raw_text(rng: &mut Rng) -> String {
    let pieces: &[&str] = &[
        "ff", "80", "c3", "c3a9", "e282", "e282ac", "f09f9098", "f09f90", "c0af", "eda080", "00",
        "3d", "61", "62", "5c", "27", "0a", "f4908080",
    ];
    let mut hex = String::new();
    for _ in 0..rng.below(12) {
        hex.push_str(rng.pick(pieces));
    }
    format!("'\\x{hex}'::bytea::text")
}

/// A value of the stored table: column `column` (t: text, b: bytea) in one of its storages.
fn stored(rng: &mut Rng, column: &str) -> Arg {
    let id = rng.below(STORED.len() as u64) + 1;
    let storage = rng.pick(&["plain", "ext", "main"]);
    Arg::Read {
        table: "stored".into(),
        column: Some(format!("{column}_{storage}")),
        filter: Some(format!("id = {id}")),
    }
}

/// A text argument.
pub fn text(rng: &mut Rng, enc: Encoding) -> Arg {
    text_up_to(rng, enc, 3_000_000)
}

/// A text argument whose generated huge values are at most `huge` characters long.
pub fn text_up_to(rng: &mut Rng, enc: Encoding, huge: u64) -> Arg {
    Arg::Expr(match rng.below(14) {
        0 => "NULL::text".into(),
        1 => "''::text".into(),
        2 => raw_text(rng),
        3 => return stored(rng, "t"),
        4 if rng.one_in(8) => {
            // huge: up to a few MB
            let n = rng.below(huge) + 1;
            let unit = if enc == Encoding::Utf8 {
                rng.pick(&["'a'", "'é'", "'€'", "'a='"])
            } else {
                "'a'"
            };
            format!("repeat({unit}, {n})")
        }
        5 => format!(
            "repeat({}, {})",
            quote(&short_string(rng, enc)),
            rng.below(3000)
        ),
        _ => format!("{}::text", quote(&short_string(rng, enc))),
    })
}

pub fn bytea(rng: &mut Rng) -> Arg {
    Arg::Expr(match rng.below(10) {
        0 => "NULL::bytea".into(),
        1 => "''::bytea".into(),
        2 => return stored(rng, "b"),
        3 if rng.one_in(8) => format!("decode(repeat('00ff', {}), 'hex')", rng.below(2_000_000)),
        _ => {
            let mut hex = String::new();
            for _ in 0..rng.below(40) {
                write!(hex, "{:02x}", rng.below(256)).unwrap();
            }
            format!("'\\x{hex}'::bytea")
        }
    })
}

/// A value for an `anyelement` argument, of any type (or one a polymorphic function must
/// refuse: arrays of arrays, unknown, anonymous records); two calls with the same `kind` give
/// the same type. Kinds from GENERATED_KINDS on are one of a few constants each.
pub fn element(rng: &mut Rng, enc: Encoding, kind: u64) -> Arg {
    let kind = kind as usize;
    if kind >= GENERATED_KINDS {
        return Arg::Expr(rng.pick(FIXED_ELEMENTS[kind - GENERATED_KINDS]).to_owned());
    }
    Arg::Expr(match kind {
        0 => int2(rng),
        1 => int4(rng),
        2 => int8(rng),
        3 => format!("'{}'::float4", float8_literal(rng)),
        4 => float8(rng),
        5 => return text(rng, enc),
        6 => point(rng),
        7 => format!(
            "ROW({}, {})::pair2",
            int4(rng),
            quote(&short_string(rng, enc))
        ),
        8 => format!(
            "ROW('x', {}, {}, {})::emp",
            int4(rng),
            int4(rng),
            point(rng)
        ),
        9 => format!("{}::posint", rng.below(100) + 1),
        10 => format!("ARRAY[{}, {}]", int4(rng), int4(rng)), // arrays of arrays: refused
        11 => quote(&short_string(rng, Encoding::SqlAscii)),  // unknown: refused
        12 => "NULL".into(),                                  // unknown: refused
        13 => format!("ROW({}, {})", int4(rng), quote("r")),  // anonymous record
        14 => format!("{}::varchar(3)", quote(&short_string(rng, enc))),
        15 => format!("{}::char(3)", quote(&short_string(rng, enc))),
        16 => format!("{}::name", quote(&short_string(rng, enc))),
        17 => format!("{}::\"char\"", quote(&short_string(rng, enc))),
        18 => return bytea(rng),
        19 => format!(
            "'{} days {} microseconds'::interval",
            rng.below(100000),
            rng.next() as i32
        ),
        20 => format!("'{}'::money", rng.below(100000)),
        _ => format!("'{}'::oid", rng.next() as u32),
    })
}

const GENERATED_KINDS: usize = 22;

/// The element kinds whose values are constants: one list per kind.
const FIXED_ELEMENTS: &[&[&str]] = &[
    &[
        "'0'::numeric",
        "'-0.000'::numeric",
        "'NaN'::numeric",
        "'1e1000'::numeric",
        "'-123456789.123456789'::numeric",
        "'Infinity'::numeric",
        "'-Infinity'::numeric",
        "'3.14'::numeric",
    ],
    &["true", "false", "NULL::boolean"],
    &["'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid"],
    &[
        "'2000-02-29'::date",
        "'infinity'::date",
        "'4713-01-01 BC'::date",
    ],
    &[
        "'2000-01-01 00:00+00'::timestamptz",
        "'-infinity'::timestamptz",
    ],
    &["'{\"a\": [1, 2]}'::jsonb", "'null'::jsonb", "'\"\"'::jsonb"],
    &[
        "'[1,10)'::int4range",
        "'empty'::int4range",
        "'(,)'::int4range",
    ],
    &["'ok'::mood", "'sad'::mood"],
    &["'(0,1)'::tid"],
    &["ROW(NULL, NULL, NULL, NULL)::emp_d"],
    &["'a b'::tsvector"],
];

pub const ELEMENT_KINDS: u64 = (GENERATED_KINDS + FIXED_ELEMENTS.len()) as u64;
