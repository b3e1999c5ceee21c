//! Arguments chosen by type: a function's argument types in pg_proc pick the generators, so a
//! new function is called without a generator of its own. A type with no generator here fails
//! the test with a message that names it; then add one to SCALARS (values.rs makes the values).

use crate::calls::Arg;
use crate::catalog::{RowType, RowTypes};
use crate::db::Encoding;
use crate::rng::Rng;
use crate::values::{self, element, nullable, quote, short_string, ELEMENT_KINDS};

/// What a generator needs to know about where the call runs.
pub struct Ctx<'a> {
    pub rng: &'a mut Rng,
    pub enc: Encoding,
    /// The row types among the function's argument types, as they are now in this database
    /// (the test changes them between calls).
    pub rows: &'a RowTypes,
}

/// A generator of the values of one type, for a database of one encoding.
type Generator = fn(&mut Rng, Encoding) -> Arg;

/// The generators of the argument types but row types and `anyelement`, by the name
/// `format_type` gives the type.
const SCALARS: &[(&str, Generator)] = &[
    ("integer", |rng, _| {
        Arg::Expr(nullable(rng, "integer", values::int4))
    }),
    ("smallint", |rng, _| {
        Arg::Expr(nullable(rng, "smallint", values::int2))
    }),
    ("bigint", |rng, _| {
        Arg::Expr(nullable(rng, "bigint", values::int8))
    }),
    ("double precision", |rng, _| {
        Arg::Expr(nullable(rng, "float8", values::float8))
    }),
    ("point", |rng, _| {
        Arg::Expr(nullable(rng, "point", values::point))
    }),
    ("text", values::text),
    ("bytea", |rng, _| values::bytea(rng)),
    ("complex", |rng, _| Arg::Expr(values::complex(rng))),
    ("cstring", |rng, enc| Arg::Expr(values::cstring(rng, enc))),
];

fn scalar(ty: &str) -> Option<Generator> {
    SCALARS.iter().find(|(t, _)| *t == ty).map(|(_, gen)| *gen)
}

/// Whether an argument of type `ty` can be generated (`rows`: the row types among the types).
pub fn has_generator(ty: &str, rows: &RowTypes) -> bool {
    ty == "anyelement" || scalar(ty).is_some() || rows.contains_key(ty)
}

/// Arguments for a call of a function taking `types`, of which the last `defaults` have
/// defaults: now and then the call leaves some of those out.
pub fn generate(cx: &mut Ctx<'_>, types: &[String], defaults: usize) -> Vec<Arg> {
    let mut n = types.len();
    if defaults > 0 && cx.rng.one_in(6) {
        n -= 1 + cx.rng.below(defaults as u64) as usize;
    }
    let mut anyelement = None;
    types[..n]
        .iter()
        .map(|ty| {
            if ty == "anyelement" {
                polymorphic(cx, &mut anyelement)
            } else if let Some(gen) = scalar(ty) {
                gen(cx.rng, cx.enc)
            } else {
                let row = cx
                    .rows
                    .get(ty)
                    .unwrap_or_else(|| panic!("no argument generator for type {ty}"));
                row_value(cx.rng, cx.enc, ty, row)
            }
        })
        .collect()
}

/// An `anyelement` argument. All of a call's have the one type the call resolves them to: the
/// first picks the kind of element, the others take it, but now and then another kind (which
/// the call must refuse) or an untyped NULL (which takes the type of the others).
fn polymorphic(cx: &mut Ctx<'_>, kind: &mut Option<u64>) -> Arg {
    let Some(first) = *kind else {
        let k = cx.rng.below(ELEMENT_KINDS);
        *kind = Some(k);
        return element(cx.rng, cx.enc, k);
    };
    if cx.rng.one_in(6) {
        return Arg::Expr("NULL".into());
    }
    let k = if cx.rng.one_in(8) {
        cx.rng.below(ELEMENT_KINDS)
    } else {
        first
    };
    element(cx.rng, cx.enc, k)
}

/// A value of the row type `ty` for its current columns: NULL, the rows of its table, one of
/// them through a subquery, or ROW(...) of values of the column types, cast to the type or to a
/// domain over it.
fn row_value(rng: &mut Rng, enc: Encoding, ty: &str, row: &RowType) -> Arg {
    match rng.below(6) {
        0 => Arg::Expr(format!("NULL::{ty}")),
        1 if row.table => Arg::Read {
            table: ty.to_owned(),
            column: None,
            filter: None,
        },
        2 if row.table => Arg::Expr(format!(
            "(SELECT e FROM {ty} AS e LIMIT 1 OFFSET {})",
            rng.below(6)
        )),
        _ => {
            let values: Vec<String> = row
                .columns
                .iter()
                .map(|(_, column_type)| field(rng, enc, column_type))
                .collect();
            let cast = match row.domains.len() {
                n if n > 0 && rng.one_in(4) => row.domains[rng.below(n as u64) as usize].as_str(),
                _ => ty,
            };
            Arg::Expr(format!("ROW({})::{cast}", values.join(", ")))
        }
    }
}

/// A value of a column of a row type: often NULL; the types the test gives `emp`'s columns,
/// and NULL for the others.
fn field(rng: &mut Rng, enc: Encoding, ty: &str) -> String {
    if rng.one_in(5) {
        return format!("NULL::{ty}");
    }
    match ty {
        "integer" => values::int4(rng),
        "bigint" => values::int8(rng),
        "smallint" => values::int2(rng),
        "numeric" => format!(
            "'{}'::numeric",
            rng.pick(&["0", "NaN", "1e30", "-2147483649", "2147483647", "12.5"])
        ),
        "posint" => format!("{}::posint", rng.below(1000) + 1),
        "point" => values::point(rng),
        "text" => format!("{}::text", quote(&short_string(rng, enc))),
        _ => format!("NULL::{ty}"),
    }
}
