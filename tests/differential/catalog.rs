//! What the catalog says about the functions under test: their argument types, what they
//! return and how they are declared (pg_proc), and the row types among their arguments and
//! results (pg_type, pg_attribute), read again whenever the test changes them.

use crate::db::Db;
use std::collections::BTreeMap;

/// A function of an extension, as pg_proc describes it.
pub struct Function {
    /// `oid::regprocedure` as text: the name (qualified when its schema is not on the search
    /// path, e.g. `xfunc_fast.add_one(integer)`) and the argument types.
    pub signature: String,
    /// `proname`.
    pub name: String,
    /// The types of the arguments a call passes (`proargtypes`, as `format_type` spells them).
    pub args: Vec<String>,
    /// How many of the last arguments have defaults, so that a call may leave them out.
    pub defaults: usize,
    /// The result type (`prorettype`): `record` for OUT and TABLE columns as well.
    pub returns: String,
    /// RETURNS SETOF or TABLE.
    pub returns_set: bool,
    /// The columns of a `record` result are declared (OUT or TABLE parameters): a call needs no
    /// column definition list.
    pub out_columns: bool,
    pub volatile: bool,
    /// The declaration as the two builds must agree on it: arguments with their names and
    /// defaults, result, volatility, strictness, parallel safety.
    pub declared: String,
}

impl Function {
    /// The name as a call spells it.
    pub fn sql_name(&self) -> &str {
        self.signature.split('(').next().unwrap_or(&self.signature)
    }
}

/// Every function of `db`'s extension, by signature.
pub fn extension_functions(db: &mut Db) -> BTreeMap<String, Function> {
    db.client
        .query(
            "SELECT p.oid::regprocedure::text, p.proname::text,
                    ARRAY(SELECT format_type(a.t, NULL)
                            FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY AS a(t, i)
                           ORDER BY a.i),
                    p.pronargdefaults::integer, format_type(p.prorettype, NULL), p.proretset,
                    p.proallargtypes IS NOT NULL, p.provolatile = 'v',
                    concat_ws(' ', '(' || pg_get_function_arguments(p.oid) || ')',
                              'RETURNS', pg_get_function_result(p.oid),
                              CASE p.provolatile WHEN 'i' THEN 'IMMUTABLE'
                                                 WHEN 's' THEN 'STABLE' ELSE 'VOLATILE' END,
                              CASE WHEN p.proisstrict THEN 'STRICT' END,
                              CASE p.proparallel WHEN 's' THEN 'PARALLEL SAFE'
                                                 WHEN 'r' THEN 'PARALLEL RESTRICTED'
                                                 ELSE 'PARALLEL UNSAFE' END)
               FROM pg_depend AS d
               JOIN pg_extension AS e ON d.refclassid = 'pg_extension'::regclass
                                     AND d.refobjid = e.oid
               JOIN pg_proc AS p ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
              WHERE e.extname = $1 AND d.deptype = 'e'",
            &[&db.ext],
        )
        .expect("listing the extension's functions")
        .iter()
        .map(|r| {
            let f = Function {
                signature: r.get(0),
                name: r.get(1),
                args: r.get(2),
                defaults: r.get::<_, i32>(3) as usize,
                returns: r.get(4),
                returns_set: r.get(5),
                out_columns: r.get(6),
                volatile: r.get(7),
                declared: r.get(8),
            };
            (f.signature.clone(), f)
        })
        .collect()
}

/// A composite type: the row type of a table (like the extension's `emp`) or a type made by
/// CREATE TYPE ... AS (like `divmod_result`).
pub struct RowType {
    /// Its columns now, (name, type), in order.
    pub columns: Vec<(String, String)>,
    /// The row type of a table, whose rows an argument may be read from.
    pub table: bool,
    /// The domains over it: a value of one of them is a value of the type to a function.
    pub domains: Vec<String>,
}

/// The row types among `types`, by name; the others are not composite.
pub type RowTypes = BTreeMap<String, RowType>;

pub fn row_types<'a>(db: &mut Db, types: impl IntoIterator<Item = &'a String>) -> RowTypes {
    let mut rows = RowTypes::new();
    for ty in types {
        if let Some(row) = row_type(db, ty) {
            rows.insert(ty.clone(), row);
        }
    }
    rows
}

fn row_type(db: &mut Db, ty: &str) -> Option<RowType> {
    let row = db
        .client
        .query_opt(
            "SELECT c.relkind = 'r',
                    ARRAY(SELECT attname::text FROM pg_attribute
                           WHERE attrelid = c.oid AND attnum > 0 AND NOT attisdropped
                           ORDER BY attnum),
                    ARRAY(SELECT format_type(atttypid, atttypmod) FROM pg_attribute
                           WHERE attrelid = c.oid AND attnum > 0 AND NOT attisdropped
                           ORDER BY attnum),
                    ARRAY(SELECT d.oid::regtype::text FROM pg_type AS d
                           WHERE d.typbasetype = t.oid ORDER BY d.oid)
               FROM pg_type AS t JOIN pg_class AS c ON c.oid = t.typrelid
              WHERE t.oid = to_regtype($1) AND t.typtype = 'c'",
            &[&ty],
        )
        .unwrap_or_else(|e| panic!("reading the row type {ty}: {e}"))?;
    let names: Vec<String> = row.get(1);
    let types: Vec<String> = row.get(2);
    Some(RowType {
        table: row.get(0),
        columns: names.into_iter().zip(types).collect(),
        domains: row.get(3),
    })
}
