//! Catalog changes under a function, between its calls: the table whose row type it takes
//! (columns dropped, added, retyped, renamed; rows added) and the composite type it returns
//! (attributes added, dropped, retyped). Which functions get them follows from their types.

use crate::catalog::{self, Function, RowTypes};
use crate::db::Db;
use crate::rng::Rng;

/// Something that may change under a function, and how often (once in `one_in` calls).
pub struct Target {
    one_in: u64,
    kind: Kind,
}

enum Kind {
    /// A table whose row type is an argument type, with its list of changes.
    Table(TableChange),
    /// A composite type the function returns, and its first attribute.
    RowType { ty: String, first: String },
}

/// A change of a table, picked at random: a statement, or None: recreate the extension.
type TableChange = fn(&mut Rng) -> Option<String>;

/// The tables whose changes the test knows, by name: a function taking the row type of one
/// of them gets its changes.
const TABLES: &[(&str, TableChange)] = &[("emp", emp_change)];

/// What changes under `f`: the tables among its argument types (`rows`), its result's type
/// when that is a composite type of its own (read from `db`).
pub fn targets(f: &Function, rows: &RowTypes, db: &mut Db) -> Vec<Target> {
    let mut targets: Vec<Target> = TABLES
        .iter()
        .filter(|(table, _)| rows.get(*table).is_some_and(|row| row.table))
        .map(|(_, change)| Target {
            one_in: 40,
            kind: Kind::Table(*change),
        })
        .collect();
    let result = catalog::row_types(db, [&f.returns]);
    if let Some(first) = result
        .get(&f.returns)
        .filter(|row| !row.table)
        .and_then(|row| row.columns.first())
    {
        targets.push(Target {
            one_in: 60,
            kind: Kind::RowType {
                ty: f.returns.clone(),
                first: first.0.clone(),
            },
        });
    }
    targets
}

impl Target {
    /// Whether to change it before this call, and how: None, no change; Some(None), recreate
    /// the extensions; Some(Some(sql)), that statement, in both databases.
    pub fn roll(&self, rng: &mut Rng) -> Option<Option<String>> {
        if !rng.one_in(self.one_in) {
            return None;
        }
        Some(match &self.kind {
            Kind::Table(change) => change(rng),
            Kind::RowType { ty, first } => row_type_change(rng, ty, first),
        })
    }
}

/// Statements that change `emp` (a table of the extension, so the row type of the argument of
/// c_overpaid and overpaid_by), applied in both databases of a pair. None: recreate the extension.
fn emp_change(rng: &mut Rng) -> Option<String> {
    let sql = match rng.below(14) {
        0 => return None,
        1 => "ALTER TABLE emp DROP COLUMN IF EXISTS age",
        2 => "ALTER TABLE emp DROP COLUMN IF EXISTS salary",
        3 => "ALTER TABLE emp DROP COLUMN IF EXISTS name",
        4 => "ALTER TABLE emp ADD COLUMN IF NOT EXISTS salary integer DEFAULT 7",
        5 => "ALTER TABLE emp ADD COLUMN IF NOT EXISTS extra text DEFAULT 'extra'",
        6 => "ALTER TABLE emp ALTER COLUMN salary TYPE bigint",
        7 => "ALTER TABLE emp ALTER COLUMN salary TYPE numeric",
        8 => "ALTER TABLE emp ALTER COLUMN salary TYPE smallint USING (salary % 32768)::smallint",
        9 => "ALTER TABLE emp ALTER COLUMN salary TYPE posint USING nullif(abs(salary::bigint) % 1000, 0)::integer",
        10 => "ALTER TABLE emp ALTER COLUMN salary TYPE integer USING salary::numeric::integer",
        11 => "ALTER TABLE emp RENAME COLUMN salary TO pay",
        12 => "ALTER TABLE emp RENAME COLUMN pay TO salary",
        _ => "INSERT INTO emp DEFAULT VALUES",
    };
    Some(sql.to_owned())
}

/// Changes of a result row type (divmod_result, __retcomposite) whose first attribute is
/// `first`. None: recreate the extension.
fn row_type_change(rng: &mut Rng, ty: &str, first: &str) -> Option<String> {
    let sql = match rng.below(7) {
        0 => return None,
        1 => format!("ALTER TYPE {ty} ADD ATTRIBUTE extra integer"),
        2 => format!("ALTER TYPE {ty} ADD ATTRIBUTE note text"),
        3 => format!("ALTER TYPE {ty} DROP ATTRIBUTE IF EXISTS extra"),
        4 => format!("ALTER TYPE {ty} DROP ATTRIBUTE IF EXISTS {first}"),
        5 => format!("ALTER TYPE {ty} ALTER ATTRIBUTE {first} TYPE bigint"),
        _ => format!("ALTER TYPE {ty} ALTER ATTRIBUTE {first} TYPE text"),
    };
    Some(sql)
}
