//! Calls written by hand, for the functions the default shapes (calls.rs) cannot call well:
//! a column definition list for a `record` result, a set whose size an argument gives, an
//! argument whose values matter only around another's, and the shared log, whose calls must
//! read back what they wrote. Every other function is called by its argument types alone.

use crate::args::{self, Ctx};
use crate::calls::{Arg, Call, Place};
use crate::catalog::Function;
use crate::values;

/// A hand-written call shape for the functions of one name (all their signatures).
pub struct Shape {
    pub function: &'static str,
    pub call: fn(&mut Ctx<'_>, &Function) -> Call,
}

pub const SHAPES: &[Shape] = &[
    Shape {
        function: "split_pair",
        call: split_pair,
    },
    Shape {
        function: "retcomposite",
        call: counted_set,
    },
    Shape {
        function: "retcomposite_out",
        call: counted_set,
    },
    Shape {
        function: "multiples",
        call: counted_set,
    },
    Shape {
        function: "text_prefix",
        call: prefix,
    },
    Shape {
        function: "bytes_prefix",
        call: prefix,
    },
    Shape {
        function: "xfunc_log",
        call: log,
    },
    Shape {
        function: "xfunc_log_tail",
        call: log_tail,
    },
];

pub fn find(name: &str) -> Option<&'static Shape> {
    SHAPES.iter().find(|s| s.function == name)
}

/// The functions that write the shared log: each build's file is rotated every 500 calls, so
/// that a long run does not fill the disk.
pub const WRITES_LOG: &[&str] = &["xfunc_log"];

/// `split_pair(text) RETURNS record`: in FROM with a column definition list of any shape
/// (the function must check it), or, now and then, in the select list, where the caller gives
/// no column types.
fn split_pair(cx: &mut Ctx<'_>, f: &Function) -> Call {
    let arg = values::text(cx.rng, cx.enc);
    let columns = match cx.rng.below(12) {
        0 => "key text".to_owned(),
        1 => "key text, value text, more text".to_owned(),
        _ => {
            let ty = cx.rng.pick(&[
                "text",
                "text",
                "integer",
                "bigint",
                "boolean",
                "bytea",
                "numeric",
                "point",
                "float8",
                "name",
                "varchar(2)",
                "posint",
                "mood",
                "jsonb",
            ]);
            format!("key text, value {ty}")
        }
    };
    let place = if cx.rng.one_in(10) {
        Place::Select
    } else {
        Place::From(format!("t({columns})"))
    };
    Call::new(f.sql_name(), vec![arg], place)
}

/// `(count integer, base integer)` set-returning functions: counts around 0, the 200 rows the
/// comparison reads, and the int4 extremes, in the select list (which reads 200 rows of
/// them); in FROM, which materializes every row, at most 1000.
fn counted_set(cx: &mut Ctx<'_>, f: &Function) -> Call {
    let rng = &mut *cx.rng;
    let count = match rng.below(4) {
        0 => values::int4(rng),
        1 => format!(
            "'{}'::integer",
            rng.pick(&[0, 1, 2, 199, 200, 201, i32::MAX, -1, i32::MIN])
        ),
        _ => format!("'{}'::integer", rng.below(30)),
    };
    let count = if rng.one_in(12) {
        "NULL::integer".into()
    } else {
        count
    };
    let base = Arg::Expr(values::nullable(rng, "integer", values::int4));
    if rng.one_in(3) && !count.contains("2147483647") {
        let count = Arg::Expr(format!("least({count}, 1000)"));
        Call::new(f.sql_name(), vec![count, base], Place::From("t".into()))
    } else {
        Call::new(f.sql_name(), vec![Arg::Expr(count), base], Place::Select)
    }
}

/// `text_prefix(text, n)`, `bytes_prefix(bytea, n)`: the value by its type; the length around
/// 0, the value's own length, the slice limits, the multiplication by the encoding's maximum
/// character length, and the int4 extremes.
fn prefix(cx: &mut Ctx<'_>, f: &Function) -> Call {
    let mut args = args::generate(cx, &f.args[..1], 0);
    let rng = &mut *cx.rng;
    let n: i64 = match rng.below(6) {
        0 => rng.pick(&[
            0,
            1,
            2,
            3,
            -1,
            i32::MIN as i64,
            i32::MAX as i64,
            536_870_911,
            536_870_912,
            1_073_741_823,
            1_073_741_824,
            1995,
            1996,
            1997,
            1998,
            2000,
            4000,
            8000,
            100_000,
            1_000_000,
            2_000_000,
            2_100_000,
        ]),
        1 => rng.next() as i32 as i64,
        2 => rng.below(3_000_000) as i64,
        _ => rng.below(70) as i64 - 2,
    };
    args.push(Arg::Expr(format!("'{n}'::integer")));
    Call::new(f.sql_name(), args, Place::Select)
}

// The shared log: each build writes its own scratch file (log_files.rs), and gets the same
// calls in the same order. Lines are compared without their timestamp and pid.

/// `xfunc_log(text)`: messages of up to 100,000 characters: xfunc_log_tail reads the lines
/// back, and each call would read megabytes.
fn log(cx: &mut Ctx<'_>, f: &Function) -> Call {
    let message = values::text_up_to(cx.rng, cx.enc, 100_000);
    Call::new(f.sql_name(), vec![message], Place::Select)
}

/// `xfunc_log_tail(lines integer DEFAULT 10)`: around its limit of 1000 lines, and its lines
/// without what differs between the builds (time and pid).
fn log_tail(cx: &mut Ctx<'_>, f: &Function) -> Call {
    let rng = &mut *cx.rng;
    let args = match rng.below(6) {
        0 => vec![],
        1 => vec![values::int4(rng)],
        2 => vec![format!(
            "'{}'::integer",
            rng.pick(&[0, 1, 999, 1000, 1001, -1])
        )],
        _ => vec![format!("'{}'::integer", rng.below(30))],
    };
    let args = args.into_iter().map(Arg::Expr).collect();
    let mut call = Call::new(f.sql_name(), args, Place::From("l".into()));
    call.select = r"regexp_replace(l, '^\S+ \d+ ', '')".into();
    call
}
