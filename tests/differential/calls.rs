//! A call as SQL, and where it goes in its statement: the default shapes, chosen by what
//! pg_proc says the function returns (shapes.rs holds the calls written by hand).

use crate::args::{self, Ctx};
use crate::catalog::{Function, RowTypes};
use std::fmt::Write as _;

/// One argument of a call.
pub enum Arg {
    /// An expression that needs nothing from the statement.
    Expr(String),
    /// A value read from a table (a stored, perhaps toasted, value, or a table's row): `column`
    /// (None: the whole row) of the rows of `table` that `filter`, on its columns, picks.
    Read {
        table: String,
        column: Option<String>,
        filter: Option<String>,
    },
}

/// Where a call goes in its statement.
pub enum Place {
    /// `SELECT f(...)`: a set-returning function gives its rows one by one.
    Select,
    /// `SELECT f(...) FROM generate_series(1, 3)`: three calls at one call site, which share
    /// what a function keeps between calls (fn_extra).
    Thrice,
    /// `SELECT t FROM f(...) AS t`: a table function (a set is materialized, a row's columns
    /// are the columns). The alias may carry a column definition list: `t(a integer, b text)`.
    From(String),
}

/// One call: `SELECT <select> FROM <from>`, the result of which is compared.
pub struct Call {
    pub select: String,
    pub from: Option<String>,
    /// Settings for the call's statement alone (`SET LOCAL ...;`, which lasts for the implicit
    /// transaction of the query string that holds it), or "".
    pub settings: &'static str,
}

impl Call {
    /// `name(args)`, placed at `place`; each argument read from a table gets its own alias.
    pub fn new(name: &str, args: Vec<Arg>, place: Place) -> Call {
        let (mut exprs, mut tables, mut conds) = (Vec::new(), Vec::new(), Vec::new());
        for (i, arg) in args.into_iter().enumerate() {
            match arg {
                Arg::Expr(expr) => exprs.push(expr),
                Arg::Read {
                    table,
                    column,
                    filter,
                } => {
                    let alias = format!("v{i}");
                    tables.push(format!("{table} AS {alias}"));
                    conds.extend(filter.map(|f| format!("{alias}.{f}")));
                    exprs.push(match column {
                        Some(column) => format!("{alias}.{column}"),
                        None => alias,
                    });
                }
            }
        }
        let call = format!("{name}({})", exprs.join(", "));
        let select = match place {
            Place::Select => call,
            Place::Thrice => {
                tables.push("generate_series(1, 3) AS i".into());
                call
            }
            Place::From(alias) => {
                let select = alias.split('(').next().unwrap_or(&alias).to_owned();
                tables.push(format!("{call} AS {alias}"));
                select
            }
        };
        let from = (!tables.is_empty()).then(|| {
            let mut from = tables.join(", ");
            if !conds.is_empty() {
                write!(from, " WHERE {}", conds.join(" AND ")).unwrap();
            }
            from
        });
        Call {
            select,
            from,
            settings: "",
        }
    }

    /// `SELECT <select> [FROM <from>]`, with no settings.
    pub fn select_from(select: String, from: Option<String>) -> Call {
        Call {
            select,
            from,
            settings: "",
        }
    }

    /// The statement, without its settings.
    fn query(&self) -> String {
        match &self.from {
            Some(from) => format!("SELECT {} FROM {from}", self.select),
            None => format!("SELECT {}", self.select),
        }
    }

    /// The call as it is made: its settings, then the statement.
    pub fn sql(&self) -> String {
        format!("{}{}", self.settings, self.query())
    }

    /// The call, wrapped so that whatever it returns comes back as one line of ASCII: every
    /// row's text output (NULL as <null>), rows joined by newlines, as escaped bytes, or the
    /// length and md5 when that is long. Set-returning calls stop after 200 rows.
    pub fn wrapped(&self) -> String {
        format!(
            "{}SELECT CASE WHEN octet_length(b) > 2000 \
                         THEN format('%s bytes, md5 %s', octet_length(b), md5(b)) \
                         ELSE encode(b, 'escape') END \
               FROM (SELECT coalesce(string_agg(coalesce(r::text, '<null>'), E'\\n'), \
                                     '<no rows>')::bytea AS b \
                       FROM ({} LIMIT 200) AS s(r)) AS q",
            self.settings,
            self.query()
        )
    }
}

/// Why a function cannot be called in the default shapes, if it cannot: an argument type with
/// no generator (named), or a `record` result without declared columns.
pub fn default_refused(f: &Function, rows: &RowTypes) -> Option<String> {
    if let Some(ty) = f.args.iter().find(|ty| !args::has_generator(ty, rows)) {
        return Some(format!(
            "type {ty}: no argument generator (an argument of {}); add one to SCALARS in \
             tests/differential/args.rs",
            f.signature
        ));
    }
    if f.returns == "record" && !f.out_columns {
        return Some(format!(
            "{}: returns record without OUT or TABLE columns, so a call needs a column \
             definition list; write its call shape in tests/differential/shapes.rs",
            f.signature
        ));
    }
    None
}

/// A call in the default shapes: arguments by type; three times at one call site now and then;
/// in FROM a third of the time, or half of it for a set-returning function, whose usual place
/// that is; in the select list otherwise. In FROM a set's rows are all materialized (a
/// function whose argument says how many rows there are needs a shape that bounds it, in
/// shapes.rs) and a row's columns are columns; in the select list a set is read row by row.
pub fn default_call(cx: &mut Ctx<'_>, f: &Function) -> Call {
    let args = args::generate(cx, &f.args, f.defaults);
    let in_from = if f.returns_set { 6 } else { 4 };
    let place = match cx.rng.below(12) {
        0 => Place::Thrice,
        k if k <= in_from => Place::From("t".into()),
        _ => Place::Select,
    };
    Call::new(f.sql_name(), args, place)
}
