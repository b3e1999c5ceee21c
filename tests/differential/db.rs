//! The databases: one per build and encoding, made afresh for each run, with the same objects
//! and the same stored values; one call, on one of them, and what it gave.

use crate::support;
use postgres::{Client, SimpleQueryMessage};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Encoding {
    Utf8,
    SqlAscii,
    Latin1,
}

pub const ENCODINGS: [Encoding; 3] = [Encoding::Utf8, Encoding::SqlAscii, Encoding::Latin1];

impl Encoding {
    pub fn suffix(self) -> &'static str {
        match self {
            Encoding::Utf8 => "",
            Encoding::SqlAscii => "_sql_ascii",
            Encoding::Latin1 => "_latin1",
        }
    }

    fn sql_name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF8",
            Encoding::SqlAscii => "SQL_ASCII",
            Encoding::Latin1 => "LATIN1",
        }
    }
}

/// One database per build and encoding, made afresh: difftest_xfunc, difftest_xfunc_c, ...
fn db_name(ext: &str, enc: Encoding) -> String {
    format!("difftest_{ext}{}", enc.suffix())
}

/// The values the stored table holds, the same in every database: (id, text, bytea), each
/// column in three storages. Rows with huge values are toasted (EXTERNAL: out of line,
/// uncompressed; MAIN: compressed inline when it fits; default: compressed and out of line).
pub const STORED: &[(i32, &str, &str)] = &[
    (1, "''", "''::bytea"),
    (2, "'key=value'", "'\\x00ff'::bytea"),
    (
        3,
        "repeat('ab', 5000)",
        "decode(repeat('0102', 5000), 'hex')",
    ),
    (
        4,
        "repeat('€', 100000)",
        "decode(repeat('e282ac', 100000), 'hex')",
    ),
    (
        5,
        "string_agg(i::text, ',') FROM generate_series(1, 200000) AS i",
        "convert_to(repeat('0123456789', 100000), 'UTF8')",
    ),
    (
        6,
        "repeat('x=y', 700000)",
        "decode(repeat('ff', 2100000), 'hex')",
    ),
    (
        7,
        "'é=🐘' || repeat('ü', 3000)",
        "decode(repeat('c3', 3001), 'hex')",
    ),
    (
        8,
        "repeat('k', 1999) || '=' || repeat('v', 2000)",
        "'\\x3d'::bytea",
    ),
];

/// What every database gets besides the extension (its objects are made again whenever the
/// extension is, since some depend on the extension's types).
const DB_SETUP: &str = "
SET client_min_messages = warning;
-- Text with any bytes at all, without convert_from (which checks them): a binary-coercible
-- cast, which only a superuser may create.
CREATE CAST (bytea AS text) WITHOUT FUNCTION;
-- And back, so that a result's bytes are compared as they are (textsend would convert them to
-- the client encoding).
CREATE CAST (text AS bytea) WITHOUT FUNCTION;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE pair2 AS (a integer, b text);
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
CREATE TABLE stored (id integer PRIMARY KEY,
                     t_plain text, t_ext text, t_main text,
                     b_plain bytea, b_ext bytea, b_main bytea);
ALTER TABLE stored ALTER t_ext SET STORAGE EXTERNAL, ALTER t_main SET STORAGE MAIN,
                   ALTER b_ext SET STORAGE EXTERNAL, ALTER b_main SET STORAGE MAIN;
-- What the aggregate's parallel calls (chapter 20) scan: whole numbers, some NULLs, whose sums
-- are exact in any order, so that both builds' parallel answers are the same bits.
CREATE TABLE agg_input (id integer, x double precision);
INSERT INTO agg_input
SELECT i, CASE WHEN i % 11 = 0 THEN NULL ELSE (i * 7919 % 2001) - 1000 END
  FROM generate_series(1, 20000) i;
ANALYZE agg_input;
-- The planner's estimates for a query, for the support function (chapter 16): node type, rows,
-- startup and total cost of the top plan node.
CREATE FUNCTION plan_estimate(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    plan json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || query INTO plan;
    RETURN concat_ws(' ', plan->0->'Plan'->>'Node Type', plan->0->'Plan'->>'Plan Rows',
                     plan->0->'Plan'->>'Startup Cost', plan->0->'Plan'->>'Total Cost');
END $$;
-- Statements run one after the other, the rows of the last one returned: DML for the trigger
-- functions (chapter 21), which a query cannot nest in a subquery.
CREATE FUNCTION run_dml(VARIADIC statements text[]) RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1 .. array_length(statements, 1) - 1 LOOP
        EXECUTE statements[i];
    END LOOP;
    RETURN QUERY EXECUTE statements[array_length(statements, 1)];
END $$;
";

/// Made with the extension: a domain over the row type of its table `emp` (an argument of that
/// domain is an `emp` to the function), and rows of `emp` for arguments read from the table;
/// `complex_via_copy`, which reaches the receive function of the type `complex` (chapter 17)
/// through a binary COPY; the tables whose triggers call the trigger functions (chapter 21), made afresh, empty (the
/// extension takes their triggers with it when it is dropped).
const EXT_OBJECTS: &str = "
SET client_min_messages = warning;
CREATE DOMAIN emp_d AS emp;
INSERT INTO emp VALUES ('Bill', 1000, 30, '(1,1)'), ('Sam', 2000, 40, '(1,2)'),
                       ('Ginger', NULL, 25, '(2,1)'), (NULL, -2147483648, NULL, NULL),
                       ('', 2147483647, 0, '(NaN,Infinity)');
-- complex_recv takes an internal, which SQL cannot pass: it runs when a binary COPY reads a
-- complex field. This writes the bytes given as one such field (a bytea column has the same
-- framing) into a file in the data directory and copies it into a complex column.
CREATE FUNCTION complex_via_copy(bytes bytea) RETURNS complex LANGUAGE plpgsql AS $$
DECLARE
    file text := current_setting('data_directory') || '/difftest_recv_' || current_database();
    result complex;
BEGIN
    CREATE TEMP TABLE recv_in (b bytea) ON COMMIT DROP;
    CREATE TEMP TABLE recv_out (c complex) ON COMMIT DROP;
    INSERT INTO recv_in VALUES (bytes);
    EXECUTE format('COPY recv_in TO %L (FORMAT binary)', file);
    EXECUTE format('COPY recv_out FROM %L (FORMAT binary)', file);
    SELECT c INTO result FROM recv_out;
    DROP TABLE recv_in, recv_out;
    RETURN result;
END $$;
DROP TABLE IF EXISTS trig_t, version_t;
CREATE TABLE trig_t (x integer, y text);
CREATE TRIGGER tb BEFORE INSERT OR UPDATE OR DELETE ON trig_t
    FOR EACH ROW EXECUTE FUNCTION trigf();
CREATE TRIGGER ta AFTER INSERT OR UPDATE OR DELETE ON trig_t
    FOR EACH ROW EXECUTE FUNCTION trigf();
CREATE TRIGGER ts BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON trig_t
    FOR EACH STATEMENT EXECUTE FUNCTION trigf();
CREATE TABLE version_t (id integer PRIMARY KEY, body text, v integer);
CREATE TRIGGER tv BEFORE INSERT OR UPDATE ON version_t
    FOR EACH ROW EXECUTE FUNCTION row_version('v');
";

/// The scratch files of `complex_via_copy`, one per database, in the data directory.
pub fn remove_recv_files() {
    let mut admin = support::connect_to("postgres");
    let data_directory: String = admin
        .query_one("SELECT current_setting('data_directory')", &[])
        .expect("data_directory")
        .get(0);
    for enc in ENCODINGS {
        for ext in ["xfunc", "xfunc_c"] {
            let file = format!("difftest_recv_{}", db_name(ext, enc));
            let _ = std::fs::remove_file(std::path::Path::new(&data_directory).join(file));
        }
    }
}

pub struct Db {
    pub ext: &'static str,
    pub client: Client,
}

impl Db {
    pub fn open(ext: &'static str, enc: Encoding) -> Db {
        let mut client = support::connect_to(&db_name(ext, enc));
        client
            .batch_execute("SET jit = off; SET max_parallel_workers_per_gather = 0")
            .expect("session settings");
        Db { ext, client }
    }

    pub fn run(&mut self, sql: &str) -> Result<(), String> {
        self.client
            .batch_execute(sql)
            .map_err(|e| support::db_error(&e))
    }

    pub fn reset_extension(&mut self) {
        let sql = format!(
            "SET client_min_messages = warning; DROP EXTENSION IF EXISTS {0} CASCADE; \
             CREATE EXTENSION {0}; {EXT_OBJECTS}",
            self.ext
        );
        self.run(&sql)
            .unwrap_or_else(|e| panic!("recreating {} : {e}", self.ext));
    }
}

/// The databases of one encoding, one per build, and where a call made in them is reported.
pub struct Pair {
    pub enc: Encoding,
    pub rust: Db,
    pub c: Db,
    /// A second session on the Rust build's database whose search path finds the fast
    /// variants of schema `xfunc_fast` (chapter 14) first: a third build, held to the C one.
    pub fast: Db,
    /// Catalog changes made since the extensions were last created, in order.
    pub history: Vec<String>,
}

impl Pair {
    pub fn open(enc: Encoding) -> Pair {
        let mut fast = Db::open("xfunc", enc);
        fast.run("SET search_path = xfunc_fast, public")
            .expect("search path of the fast session");
        Pair {
            enc,
            rust: Db::open("xfunc", enc),
            c: Db::open("xfunc_c", enc),
            fast,
            history: Vec::new(),
        }
    }

    pub fn reset(&mut self) {
        self.rust.reset_extension();
        self.c.reset_extension();
        self.history.clear();
    }
}

/// Drops and creates every database, fills its stored table and creates its extension.
pub fn create_databases() {
    let mut admin = support::connect_to("postgres");
    for enc in ENCODINGS {
        for ext in ["xfunc", "xfunc_c"] {
            let name = db_name(ext, enc);
            for sql in [
                format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                format!(
                    "CREATE DATABASE {name} TEMPLATE template0 ENCODING '{}' \
                     LC_COLLATE 'C' LC_CTYPE 'C'",
                    enc.sql_name()
                ),
            ] {
                admin
                    .batch_execute(&sql)
                    .unwrap_or_else(|e| panic!("{sql}: {}", support::db_error(&e)));
            }
            let mut db = Db::open(ext, enc);
            db.run(DB_SETUP)
                .unwrap_or_else(|e| panic!("setting up {name}: {e}"));
            fill_stored(&mut db, enc, &name);
            db.reset_extension();
        }
    }
}

fn fill_stored(db: &mut Db, enc: Encoding, name: &str) {
    for (id, text, bytes) in STORED {
        let text = text_for(enc, text);
        let (t_expr, t_from) = split_from(&text);
        let (b_expr, b_from) = split_from(bytes);
        let sql = format!(
            "INSERT INTO stored VALUES ({id}, (SELECT {t_expr}{t_from}), \
             (SELECT {t_expr}{t_from}), (SELECT {t_expr}{t_from}), \
             (SELECT {b_expr}{b_from}), (SELECT {b_expr}{b_from}), \
             (SELECT {b_expr}{b_from}))"
        );
        db.run(&sql)
            .unwrap_or_else(|e| panic!("{name}: {sql}: {e}"));
    }
}

/// A stored text expression for a database: LATIN1 cannot hold the elephant or the euro sign.
fn text_for(enc: Encoding, expr: &str) -> String {
    if enc == Encoding::Latin1 {
        expr.replace('🐘', "E").replace('€', "e")
    } else {
        expr.to_owned()
    }
}

fn split_from(expr: &str) -> (&str, String) {
    match expr.find(" FROM ") {
        Some(at) => (&expr[..at], expr[at..].to_owned()),
        None => (expr, String::new()),
    }
}

// --- one call ----------------------------------------------------------------------------------

#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Outcome {
    /// The result rows' text output, escaped (or, when long, its length and md5).
    Value(String),
    /// SQLSTATE and message.
    Error(String, String),
    /// The connection broke: the backend died.
    Dead(String),
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Value(v) => write!(f, "value {v}"),
            Outcome::Error(code, message) => write!(f, "ERROR {code}: {message}"),
            Outcome::Dead(why) => write!(f, "BACKEND DIED (connection: {why})"),
        }
    }
}

/// Runs `sql` (one wrapped call) on `db`.
pub fn call(db: &mut Db, sql: &str) -> Outcome {
    match db.client.simple_query(sql) {
        Ok(messages) => {
            let mut out = String::new();
            for m in messages {
                if let SimpleQueryMessage::Row(row) = m {
                    out.push_str(row.get(0).unwrap_or("<null>"));
                }
            }
            Outcome::Value(out)
        }
        Err(e) => match e.as_db_error() {
            Some(db_error) => {
                // The backend must still answer: an ERROR is fine, a dead process is not.
                match db.client.simple_query("SELECT 1") {
                    Ok(_) => Outcome::Error(
                        db_error.code().code().to_owned(),
                        db_error.message().to_owned(),
                    ),
                    Err(e2) => Outcome::Dead(format!(
                        "ERROR {}: {}, then SELECT 1: {e2}",
                        db_error.code().code(),
                        db_error.message()
                    )),
                }
            }
            None => Outcome::Dead(e.to_string()),
        },
    }
}
