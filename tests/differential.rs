//! The two builds check each other: every SQL function of `xfunc` (Rust) and of `xfunc_c` (C)
//! is called with the same random arguments, in a database of each build, and must give the
//! same answer (the text output of the result, compared byte for byte) or the same SQLSTATE
//! and message, and leave a backend that still answers `SELECT 1`.
//!
//! Arguments: NULLs; integer and float extremes (min/max, ±0, NaN, ±Infinity, denormals);
//! empty and huge (megabytes) values and lengths around each function's own limits; text with
//! bytes that are invalid in the database encoding (through a binary-coercible cast from
//! bytea, which a superuser may create), in UTF8, SQL_ASCII and LATIN1 databases; values read
//! from a table with EXTERNAL and MAIN storage, so that a function gets a TOAST pointer or a
//! compressed value; `emp` rows with NULL fields, read from a table whose row type is altered
//! (columns dropped, added, retyped, renamed) between calls; result row types altered the same
//! way; every kind of element type `make_array` accepts (and those it refuses).
//!
//! Seeded and reproducible: the seed is printed first; a failure prints the seed, the function,
//! the SQL of the call, the catalog changes made before it, and both results. Each function's
//! calls come from its own generator seeded from the run's seed and the function's signature,
//! so `XFUNC_DIFFTEST_SEED=<seed> XFUNC_DIFFTEST_ONLY=<name>` replays one function's run.
//!
//! Run by `just difftest` (in `just test`) against the local cluster, with the extensions
//! installed; `just difftest-long` makes many more calls. Settings (environment):
//! `XFUNC_DIFFTEST_SEED` (default: from the clock; `just difftest` fixes it), `XFUNC_DIFFTEST_CALLS` (calls per function,
//! default 2000), `XFUNC_DIFFTEST_SECONDS` (a time budget for the whole run, shared equally by
//! the functions; a function stops early when its share is spent), `XFUNC_DIFFTEST_ONLY`
//! (comma-separated function names).
//!
//! Not a `cargo test` default target (Cargo.toml: `test = false`): `cargo pgrx test` runs the
//! crate's tests without a local cluster; the recipe names it with `--test differential`.

mod support;

use postgres::{Client, SimpleQueryMessage};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

// --- a small seeded generator (splitmix64) ---------------------------------------------------

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// 0..n
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    /// true with probability 1/n
    fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

// --- the databases ----------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Encoding {
    Utf8,
    SqlAscii,
    Latin1,
}

const ENCODINGS: [Encoding; 3] = [Encoding::Utf8, Encoding::SqlAscii, Encoding::Latin1];

impl Encoding {
    fn suffix(self) -> &'static str {
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
const STORED: &[(i32, &str, &str)] = &[
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
-- The aggregate's parallel calls (chapter 20) scan this: whole numbers, some NULLs, whose sums
-- are exact in any order, so that both builds' parallel answers are the same bits.
CREATE TABLE agg_input (id integer, x double precision);
INSERT INTO agg_input
SELECT i, CASE WHEN i % 11 = 0 THEN NULL ELSE (i * 7919 % 2001) - 1000 END
  FROM generate_series(1, 20000) i;
ANALYZE agg_input;
-- The planner's estimates of a query, for the support function (chapter 16): rows, startup
-- and total cost of the top plan node.
CREATE FUNCTION plan_estimate(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    plan json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || query INTO plan;
    RETURN concat_ws(' ', plan->0->'Plan'->>'Node Type', plan->0->'Plan'->>'Plan Rows',
                     plan->0->'Plan'->>'Startup Cost', plan->0->'Plan'->>'Total Cost');
END $$;
-- Statements run one after the other, the rows of the last returned: DML for the trigger
-- functions (chapter 21), which a query cannot nest in a subquery.
CREATE FUNCTION run_dml(VARIADIC statements text[]) RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1 .. array_length(statements, 1) - 1 LOOP
        EXECUTE statements[i];
    END LOOP;
    RETURN QUERY EXECUTE statements[array_length(statements, 1)];
END $$;
";

const EXT_OBJECTS: &str = "
SET client_min_messages = warning;
CREATE DOMAIN emp_d AS emp;
INSERT INTO emp VALUES ('Bill', 1000, 30, '(1,1)'), ('Sam', 2000, 40, '(1,2)'),
                       ('Ginger', NULL, 25, '(2,1)'), (NULL, -2147483648, NULL, NULL),
                       ('', 2147483647, 0, '(NaN,Infinity)');
-- The tables the trigger functions fire on (chapter 21), afresh with the extension, which
-- takes their triggers with it when it is dropped.
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

struct Db {
    ext: &'static str,
    client: Client,
}

impl Db {
    fn open(ext: &'static str, enc: Encoding) -> Db {
        let mut client = support::connect_to(&db_name(ext, enc));
        client
            .batch_execute("SET jit = off; SET max_parallel_workers_per_gather = 0")
            .expect("session settings");
        Db { ext, client }
    }

    fn run(&mut self, sql: &str) -> Result<(), String> {
        self.client
            .batch_execute(sql)
            .map_err(|e| support::db_error(&e))
    }

    fn reset_extension(&mut self) {
        let sql = format!(
            "SET client_min_messages = warning; DROP EXTENSION IF EXISTS {0} CASCADE; \
             CREATE EXTENSION {0}; {EXT_OBJECTS}",
            self.ext
        );
        self.run(&sql)
            .unwrap_or_else(|e| panic!("recreating {} : {e}", self.ext));
    }
}

fn create_databases() {
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
            db.reset_extension();
        }
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

// --- one call, on both builds -----------------------------------------------------------------

#[derive(Clone, PartialEq, Eq, Debug)]
enum Outcome {
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

/// One call: `SELECT <select> FROM <from>`, the result of which is compared.
struct Call {
    select: String,
    from: Option<String>,
}

impl Call {
    fn expr(select: String) -> Call {
        Call { select, from: None }
    }

    fn sql(&self) -> String {
        match &self.from {
            Some(from) => format!("SELECT {} FROM {from}", self.select),
            None => format!("SELECT {}", self.select),
        }
    }

    /// The call, wrapped so that whatever it returns comes back as one line of ASCII: every
    /// row's text output (NULL as <null>), rows joined by newlines, as escaped bytes, or the
    /// length and md5 when that is long. Set-returning calls stop after 200 rows.
    fn wrapped(&self) -> String {
        format!(
            "SELECT CASE WHEN octet_length(b) > 2000 \
                         THEN format('%s bytes, md5 %s', octet_length(b), md5(b)) \
                         ELSE encode(b, 'escape') END \
               FROM (SELECT coalesce(string_agg(coalesce(r::text, '<null>'), E'\\n'), \
                                     '<no rows>')::bytea AS b \
                       FROM ({} LIMIT 200) AS s(r)) AS q",
            self.sql()
        )
    }
}

fn call(db: &mut Db, sql: &str) -> Outcome {
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

/// Differences known and reported, kept here so that the test stays green until the fix is
/// merged; each entry names what it allows. `rust`/`c`: the two outcomes.
struct Known {
    function: &'static str,
    why: &'static str,
    matches: fn(call_sql: &str, rust: &Outcome, c: &Outcome) -> bool,
}

/// Functions of the Rust build with no C twin, by design: the contention benchmark's other two
/// ways to take the shared counter's lock (by hand, and through pgrx's `PgLwLock`).
const RUST_ONLY: &[&str] = &[
    "rust_counter_add_by_hand(bigint)",
    "rust_counter_add_pglwlock(bigint)",
];

/// Fast variants not called here: `shared_counter_add` changes the shared counter, which a
/// second call would move away from the C build's. The regress suite's third run covers it.
const STATEFUL_FAST: &[&str] = &["shared_counter_add"];

const KNOWN: &[Known] = &[
    Known {
        function: "trigf",
        why: "a trigger function called outside a trigger: XX000 in both builds, the C \
              function's message (\"trigf: not called by trigger manager\") against the panic \
              of #[pg_trigger]'s wrapper (pgrx-sql-entity-graph 0.18.1, pg_trigger/mod.rs)",
        matches: |_, rust, c| not_trigger(rust, c),
    },
    Known {
        function: "row_version",
        why: "a trigger function called outside a trigger: XX000 in both builds, each with its \
              own message (see trigf)",
        matches: |_, rust, c| not_trigger(rust, c),
    },
    Known {
        function: "copytext",
        why: "copytext (src/base_types.rs) takes its text as &str: in a SQL_ASCII or LATIN1 \
              database, non-ASCII text is an ERROR XX000 from pgrx (\"datums converted to &str \
              should be valid UTF-8\"), where the C twin copies the bytes",
        matches: |_, rust, _| pgrx_str_panic(rust),
    },
    Known {
        function: "concat_text",
        why: "concat_text (src/base_types.rs) takes its texts as &str: in a SQL_ASCII or LATIN1 \
              database, non-ASCII text is an ERROR XX000 from pgrx, where the C twin concatenates \
              the bytes",
        matches: |_, rust, _| pgrx_str_panic(rust),
    },
    Known {
        function: "split_pair",
        why: "an ERROR that PostgreSQL raises inside a pgrx-guarded call (here a column's input \
              function in BuildTupleFromCStrings) comes back with its message converted to UTF-8 \
              lossily (pgrx-pg-sys 0.18.1, src/submodules/ffi.rs, to_string_lossy of \
              errdata.message and errdata.detail): in a LATIN1 database a non-ASCII byte of the \
              message becomes U+FFFD, same SQLSTATE; in a SQL_ASCII database the C build's raw \
              message or detail may not convert for a UTF-8 client at all (22021 in its place), \
              where the Rust build's lossy copy is sent with its own SQLSTATE",
        matches: |_, rust, c| lossy_message(rust, c),
    },
];

/// The same ERROR but for the message, which the Rust build holds with U+FFFD (shown as "ï¿½"
/// through a LATIN1 database) where the C build has the database's bytes. In a SQL_ASCII
/// database those bytes may not be valid UTF-8, and then the C build's message cannot be sent to
/// this (UTF-8) client: the client gets 22021 instead, e.g. for
/// `SELECT * FROM split_pair(convert_from('\x3dff', 'SQL_ASCII')) AS t(key text, value integer)`.
fn lossy_message(rust: &Outcome, c: &Outcome) -> bool {
    // The C build's error may not reach a UTF-8 client at all: its message or detail holds
    // bytes that are not UTF-8, and the conversion for the client fails with 22021 in its
    // place. The Rust build's lossy copy goes through, with its own SQLSTATE.
    let c_unsendable = |cc: &str, cm: &str| {
        cc == "22021" && cm.starts_with("invalid byte sequence for encoding \"UTF8\"")
    };
    matches!((rust, c), (Outcome::Error(rc, rm), Outcome::Error(cc, cm))
        if c_unsendable(cc, cm)
            || (rc == cc && (rm.contains('\u{fffd}') || rm.contains("\u{ef}\u{bf}\u{bd}"))))
}

/// The ERROR of a trigger function called outside a trigger, in each build's words.
fn not_trigger(rust: &Outcome, c: &Outcome) -> bool {
    matches!((rust, c), (Outcome::Error(rc, rm), Outcome::Error(cc, cm))
        if rc == "XX000" && cc == "XX000"
            && rm == "PgTrigger::from_fcinfo failed: NotTrigger"
            && cm.ends_with(": not called by trigger manager"))
}

/// The ERROR pgrx raises when a `&str` or `String` argument is not valid UTF-8.
fn pgrx_str_panic(o: &Outcome) -> bool {
    matches!(o, Outcome::Error(code, message)
        if code == "XX000" && message.starts_with("datums converted to &str should be valid UTF-8"))
}

// --- argument generators ------------------------------------------------------------------------

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn int4(rng: &mut Rng) -> String {
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

/// A value of `gen`, or now and then a NULL of type `ty`.
fn nullable(rng: &mut Rng, ty: &str, gen: fn(&mut Rng) -> String) -> String {
    if rng.one_in(12) {
        format!("NULL::{ty}")
    } else {
        gen(rng)
    }
}

fn int2(rng: &mut Rng) -> String {
    let v: i64 = match rng.below(4) {
        0 => rng.pick(&[i16::MIN as i64, i16::MAX as i64, 0, -1, 1]),
        1 => rng.next() as i16 as i64,
        _ => rng.below(201) as i64 - 100,
    };
    format!("'{v}'::smallint")
}

fn int8(rng: &mut Rng) -> String {
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

fn float8_literal(rng: &mut Rng) -> String {
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

fn float8(rng: &mut Rng) -> String {
    format!("'{}'::float8", float8_literal(rng))
}

fn point(rng: &mut Rng) -> String {
    match rng.below(8) {
        0 => format!("'({},{})'::point", float8_literal(rng), float8_literal(rng)),
        _ => format!("point({}, {})", float8(rng), float8(rng)),
    }
}

/// A short string of characters that matter: quotes, backslashes, '=', control characters,
/// multibyte characters.
fn short_string(rng: &mut Rng, enc: Encoding) -> String {
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
fn raw_text(rng: &mut Rng) -> String {
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

fn stored(rng: &mut Rng, column: &str) -> (String, String) {
    let id = rng.below(STORED.len() as u64) + 1;
    let storage = rng.pick(&["plain", "ext", "main"]);
    (
        format!("v.{column}_{storage}"),
        format!("stored AS v WHERE v.id = {id}"),
    )
}

/// A text argument: the expression, and the FROM clause it needs (a stored value).
fn text(rng: &mut Rng, enc: Encoding) -> (String, Option<String>) {
    text_up_to(rng, enc, 3_000_000)
}

/// A text argument whose generated huge values are at most `huge` characters long.
fn text_up_to(rng: &mut Rng, enc: Encoding, huge: u64) -> (String, Option<String>) {
    let expr = match rng.below(14) {
        0 => "NULL::text".into(),
        1 => "''::text".into(),
        2 => raw_text(rng),
        3 => {
            let (expr, from) = stored(rng, "t");
            return (expr, Some(from));
        }
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
    };
    (expr, None)
}

fn bytea(rng: &mut Rng) -> (String, Option<String>) {
    let expr = match rng.below(10) {
        0 => "NULL::bytea".into(),
        1 => "''::bytea".into(),
        2 => {
            let (expr, from) = stored(rng, "b");
            return (expr, Some(from));
        }
        3 if rng.one_in(8) => format!("decode(repeat('00ff', {}), 'hex')", rng.below(2_000_000)),
        _ => {
            let mut hex = String::new();
            for _ in 0..rng.below(40) {
                write!(hex, "{:02x}", rng.below(256)).unwrap();
            }
            format!("'\\x{hex}'::bytea")
        }
    };
    (expr, None)
}

/// A length for the prefix functions: around 0, the value's own length, the slice limits, the
/// multiplication by the encoding's maximum character length, and the int4 extremes.
fn prefix_length(rng: &mut Rng) -> String {
    let v: i64 = match rng.below(6) {
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
    format!("'{v}'::integer")
}

/// Arguments that may come from the stored table (or from emp): each stored value gets its own
/// alias (v0, v1...). Returns the expressions, and the FROM items and conditions they need.
fn with_aliases(args: Vec<(String, Option<String>)>) -> (Vec<String>, Vec<String>, Vec<String>) {
    let (mut exprs, mut tables, mut conds) = (Vec::new(), Vec::new(), Vec::new());
    for (i, (expr, from)) in args.into_iter().enumerate() {
        match from {
            None => exprs.push(expr),
            Some(from) => {
                let alias = format!("v{i}");
                let (table, cond) = match from.split_once(" WHERE ") {
                    Some((t, c)) => (t.to_owned(), Some(c.to_owned())),
                    None => (from.clone(), None),
                };
                if table.ends_with("AS v") {
                    tables.push(format!("{}{alias}", &table[..table.len() - 1]));
                    conds.extend(cond.map(|c| c.replace("v.", &format!("{alias}."))));
                    exprs.push(expr.replacen("v.", &format!("{alias}."), 1));
                } else {
                    tables.push(table);
                    conds.extend(cond);
                    exprs.push(expr);
                }
            }
        }
    }
    (exprs, tables, conds)
}

fn from_clause(tables: &[String], conds: &[String]) -> Option<String> {
    if tables.is_empty() {
        return None;
    }
    let mut from = tables.join(", ");
    if !conds.is_empty() {
        write!(from, " WHERE {}", conds.join(" AND ")).unwrap();
    }
    Some(from)
}

fn call_with(name: &str, args: Vec<(String, Option<String>)>) -> Call {
    let (exprs, tables, conds) = with_aliases(args);
    Call {
        select: format!("{name}({})", exprs.join(", ")),
        from: from_clause(&tables, &conds),
    }
}

fn plain(e: String) -> (String, Option<String>) {
    (e, None)
}

/// An element for make_array / make_pair, of any type (or one they must refuse), as an
/// expression; two calls with the same `kind` give the same type.
fn element(rng: &mut Rng, enc: Encoding, kind: u64) -> (String, Option<String>) {
    let e = match kind {
        0 => int2(rng),
        1 => int4(rng),
        2 => int8(rng),
        3 => format!("'{}'::float4", float8_literal(rng)),
        4 => float8(rng),
        5 => format!(
            "'{}'::numeric",
            rng.pick(&[
                "0",
                "-0.000",
                "NaN",
                "1e1000",
                "-123456789.123456789",
                "Infinity",
                "-Infinity",
                "3.14"
            ])
        ),
        6 => return text(rng, enc),
        7 => point(rng),
        8 => format!(
            "ROW({}, {})::pair2",
            int4(rng),
            quote(&short_string(rng, enc))
        ),
        9 => format!(
            "ROW('x', {}, {}, {})::emp",
            int4(rng),
            int4(rng),
            point(rng)
        ),
        10 => format!("{}::posint", rng.below(100) + 1),
        11 => format!("ARRAY[{}, {}]", int4(rng), int4(rng)), // arrays of arrays: refused
        12 => quote(&short_string(rng, Encoding::SqlAscii)),  // unknown: refused
        13 => "NULL".into(),                                  // unknown: refused
        14 => format!("ROW({}, {})", int4(rng), quote("r")),  // anonymous record
        15 => format!("{}::varchar(3)", quote(&short_string(rng, enc))),
        16 => format!("{}::char(3)", quote(&short_string(rng, enc))),
        17 => format!("{}::name", quote(&short_string(rng, enc))),
        18 => format!("{}::\"char\"", quote(&short_string(rng, enc))),
        19 => rng.pick(&["true", "false", "NULL::boolean"]).to_string(),
        20 => return bytea(rng),
        21 => format!(
            "'{} days {} microseconds'::interval",
            rng.below(100000),
            rng.next() as i32
        ),
        22 => "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid".into(),
        23 => rng
            .pick(&[
                "'2000-02-29'::date",
                "'infinity'::date",
                "'4713-01-01 BC'::date",
            ])
            .to_string(),
        24 => rng
            .pick(&[
                "'2000-01-01 00:00+00'::timestamptz",
                "'-infinity'::timestamptz",
            ])
            .to_string(),
        25 => rng
            .pick(&["'{\"a\": [1, 2]}'::jsonb", "'null'::jsonb", "'\"\"'::jsonb"])
            .to_string(),
        26 => rng
            .pick(&[
                "'[1,10)'::int4range",
                "'empty'::int4range",
                "'(,)'::int4range",
            ])
            .to_string(),
        27 => rng.pick(&["'ok'::mood", "'sad'::mood"]).to_string(),
        28 => "'(0,1)'::tid".into(),
        29 => "ROW(NULL, NULL, NULL, NULL)::emp_d".into(),
        30 => format!("'{}'::money", rng.below(100000)),
        31 => "'a b'::tsvector".into(),
        _ => format!("'{}'::oid", rng.next() as u32),
    };
    plain(e)
}

const ELEMENT_KINDS: u64 = 33;

// --- catalog changes: row types that change under the functions -------------------------------

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

/// Changes of a result row type (divmod_result, __retcomposite). None: recreate the extension.
fn row_type_change(rng: &mut Rng, ty: &str) -> Option<String> {
    let first = if ty == "divmod_result" {
        "quotient"
    } else {
        "f1"
    };
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

/// emp's current columns (name, type), read from the Rust build's database.
fn emp_columns(db: &mut Db) -> Vec<(String, String)> {
    db.client
        .query(
            "SELECT attname::text, format_type(atttypid, atttypmod) FROM pg_attribute \
              WHERE attrelid = 'emp'::regclass AND attnum > 0 AND NOT attisdropped \
              ORDER BY attnum",
            &[],
        )
        .map(|rows| rows.iter().map(|r| (r.get(0), r.get(1))).collect())
        .unwrap_or_default()
}

fn value_of_type(rng: &mut Rng, enc: Encoding, ty: &str) -> String {
    if rng.one_in(5) {
        return format!("NULL::{ty}");
    }
    match ty {
        "integer" => int4(rng),
        "bigint" => int8(rng),
        "smallint" => int2(rng),
        "numeric" => format!(
            "'{}'::numeric",
            rng.pick(&["0", "NaN", "1e30", "-2147483649", "2147483647", "12.5"])
        ),
        "posint" => format!("{}::posint", rng.below(1000) + 1),
        "point" => point(rng),
        "text" => format!("{}::text", quote(&short_string(rng, enc))),
        _ => format!("NULL::{ty}"),
    }
}

/// An emp argument for the current shape of emp.
fn emp_arg(rng: &mut Rng, enc: Encoding, columns: &[(String, String)]) -> (String, Option<String>) {
    match rng.below(6) {
        0 => plain("NULL::emp".into()),
        1 => ("e".into(), Some("emp AS e".into())),
        2 => plain(format!(
            "(SELECT e FROM emp AS e LIMIT 1 OFFSET {})",
            rng.below(6)
        )),
        _ => {
            let values: Vec<String> = columns
                .iter()
                .map(|(_, ty)| value_of_type(rng, enc, ty))
                .collect();
            let cast = if rng.one_in(4) { "emp_d" } else { "emp" };
            plain(format!("ROW({})::{cast}", values.join(", ")))
        }
    }
}

// --- the functions ---------------------------------------------------------------------------

/// What the generator of one function needs to know about where it runs.
struct Ctx<'a> {
    rng: &'a mut Rng,
    enc: Encoding,
    emp_columns: &'a [(String, String)],
}

/// Every function of both builds (regprocedure text) and how to call it. A function found in
/// the catalog but not here fails the test: each new function needs a generator.
fn generate(signature: &str, cx: &mut Ctx<'_>) -> Option<Call> {
    let enc = cx.enc;
    let rng = &mut *cx.rng;
    let call = match signature {
        "add_one(integer)" => call_with("add_one", vec![plain(nullable(rng, "integer", int4))]),
        "add_one(double precision)" => {
            call_with("add_one", vec![plain(nullable(rng, "float8", float8))])
        }
        "makepoint(point,point)" | "add_points(point,point)" => {
            let name = signature.split('(').next().unwrap();
            let a = nullable(rng, "point", point);
            let b = nullable(rng, "point", point);
            call_with(name, vec![plain(a), plain(b)])
        }
        "copytext(text)" => call_with("copytext", vec![text(rng, enc)]),
        "concat_text(text,text)" => {
            let a = text(rng, enc);
            let b = text(rng, enc);
            call_with("concat_text", vec![a, b])
        }
        "c_overpaid(emp,integer)" | "overpaid_by(emp,integer)" => {
            let name = signature.split('(').next().unwrap();
            let emp = emp_arg(rng, enc, cx.emp_columns);
            call_with(name, vec![emp, plain(nullable(rng, "integer", int4))])
        }
        "init_calls()" | "init_in_preload()" | "init_inherited()" | "memory_context_name()" => {
            let name = signature.split('(').next().unwrap();
            match rng.below(3) {
                0 => Call::expr(format!("{name}()")),
                1 => Call {
                    select: format!("{name}()"),
                    from: Some("generate_series(1, 3)".into()),
                },
                _ => Call {
                    select: "f".into(),
                    from: Some(format!("{name}() AS f")),
                },
            }
        }
        "make_array(anyelement)" => {
            let kind = rng.below(ELEMENT_KINDS);
            call_with("make_array", vec![element(rng, enc, kind)])
        }
        "make_pair(anyelement,anyelement)" => {
            let kind = rng.below(ELEMENT_KINDS);
            let other = if rng.one_in(8) {
                rng.below(ELEMENT_KINDS)
            } else {
                kind
            };
            let a = element(rng, enc, kind);
            let b = if rng.one_in(6) {
                plain("NULL".into())
            } else {
                element(rng, enc, other)
            };
            call_with("make_pair", vec![a, b])
        }
        "divmod(integer,integer)" | "floor_divmod(integer,integer)" => {
            let name = signature.split('(').next().unwrap();
            let a = nullable(rng, "integer", int4);
            let b = nullable(rng, "integer", int4);
            if rng.one_in(3) {
                Call {
                    select: "d".into(),
                    from: Some(format!("{name}({a}, {b}) AS d")),
                }
            } else {
                call_with(name, vec![plain(a), plain(b)])
            }
        }
        "split_pair(text)" => {
            let arg = text(rng, enc);
            let columns = match rng.below(12) {
                0 => "key text".to_owned(),
                1 => "key text, value text, more text".to_owned(),
                _ => {
                    let ty = rng.pick(&[
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
            let (exprs, mut tables, conds) = with_aliases(vec![arg]);
            let arg = &exprs[0];
            if rng.one_in(10) {
                // in the select list: the caller gives no column types
                Call {
                    select: format!("split_pair({arg})"),
                    from: from_clause(&tables, &conds),
                }
            } else {
                tables.push(format!("split_pair({arg}) AS t({columns})"));
                Call {
                    select: "t".into(),
                    from: from_clause(&tables, &conds),
                }
            }
        }
        "retcomposite(integer,integer)"
        | "retcomposite_out(integer,integer)"
        | "multiples(integer,integer)" => {
            let name = signature.split('(').next().unwrap();
            let count = match rng.below(4) {
                0 => int4(rng),
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
            let base = nullable(rng, "integer", int4);
            if rng.one_in(3) && !count.contains("2147483647") {
                // in FROM: materialized, so only modest counts
                let count = format!("least({count}, 1000)");
                Call {
                    select: "t".into(),
                    from: Some(format!("{name}({count}, {base}) AS t")),
                }
            } else {
                call_with(name, vec![plain(count), plain(base)])
            }
        }
        "add_nullable(integer,integer)" => {
            let a = nullable(rng, "integer", int4);
            let b = if rng.one_in(4) {
                "NULL".into()
            } else {
                int4(rng)
            };
            call_with("add_nullable", vec![plain(a), plain(b)])
        }
        "reverse_bytes(bytea)" => call_with("reverse_bytes", vec![bytea(rng)]),
        "text_prefix(text,integer)" => {
            let t = text(rng, enc);
            call_with("text_prefix", vec![t, plain(prefix_length(rng))])
        }
        "bytes_prefix(bytea,integer)" => {
            let b = bytea(rng);
            call_with("bytes_prefix", vec![b, plain(prefix_length(rng))])
        }
        "padded_pair(smallint,bigint)"
        | "padded_pair_unzeroed(smallint,bigint)"
        | "padded_pair_explicit(smallint,bigint)" => {
            let name = signature.split('(').next().unwrap();
            let a = nullable(rng, "smallint", int2);
            let b = nullable(rng, "bigint", int8);
            call_with(name, vec![plain(a), plain(b)])
        }
        // The shared counter: one per build, in shared memory. Both start from
        // shared_counter_reset() and get the same calls in the same order, so every answer
        // must be the same.
        "shared_counter_add(bigint)" | "shared_counter_swap(bigint)" => {
            let name = signature.split('(').next().unwrap();
            call_with(name, vec![plain(nullable(rng, "bigint", int8))])
        }
        "shared_counter()" => match rng.below(2) {
            0 => Call::expr("shared_counter()".into()),
            _ => Call {
                select: "c".into(),
                from: Some("shared_counter() AS c".into()),
            },
        },
        "shared_counter_reset()" => Call::expr("shared_counter_reset()".into()),
        // The contention benchmark's counters: the same calls in the same order in both
        // builds, from the same reset, give the same values.
        "shared_counter_value()" => Call::expr("shared_counter_value()".into()),
        "shared_counter_bump_atomic()" => Call::expr("shared_counter_bump_atomic()".into()),
        "shared_counter_bump_spinlock()" => Call::expr("shared_counter_bump_spinlock()".into()),
        // The shared log: each build writes its own scratch file (LogFiles), and gets the same
        // calls in the same order. Lines are compared without their timestamp and pid.
        // Messages of up to 100,000 characters: xfunc_log_tail reads the lines back, and each
        // call would read megabytes.
        "xfunc_log(text)" => call_with("xfunc_log", vec![text_up_to(rng, enc, 100_000)]),
        "xfunc_log_lines()" => Call::expr("xfunc_log_lines()".into()),
        "xfunc_log_tail(integer)" => {
            let args = match rng.below(6) {
                0 => String::new(),
                1 => int4(rng),
                2 => format!("'{}'::integer", rng.pick(&[0, 1, 999, 1000, 1001, -1])),
                _ => format!("'{}'::integer", rng.below(30)),
            };
            Call {
                select: r"regexp_replace(l, '^\S+ \d+ ', '')".into(),
                from: Some(format!("xfunc_log_tail({args}) AS l")),
            }
        }
        // Chapter 16's support function: only the planner calls it (no SQL expression has type
        // internal), so it is called through EXPLAIN of a call of multiples, and the estimates
        // are compared: constant, folded, NULL, negative and non-constant counts.
        "multiples_support(internal)" => {
            let count = match rng.below(8) {
                0 => "NULL".to_owned(),
                1 => format!("{} + {}", rng.below(100), rng.below(100)),
                2 => "(random() * 10)::integer".to_owned(),
                3 => format!("length({})", quote(&"x".repeat(rng.below(40) as usize))),
                4 => format!("'{}'::integer", rng.pick(&[0, -1, i32::MIN, i32::MAX, 1])),
                _ => rng.below(100_000).to_string(),
            };
            let base = nullable(rng, "integer", int4);
            let query = match rng.below(4) {
                0 => format!("SELECT multiples({count}, {base})"),
                1 => format!(
                    "SELECT * FROM multiples({count}, {base}) a JOIN multiples(1000, 1) b USING (n)"
                ),
                2 => {
                    format!("SELECT * FROM generate_series(1, 3) g, multiples(g + {count}, {base})")
                }
                _ => format!("SELECT * FROM multiples({count}, {base})"),
            };
            Call::expr(format!("plan_estimate({})", quote(&query)))
        }
        // Chapter 20's aggregate. Its support functions take internal, so only the executor
        // calls them: the transition and final functions in every call of mean; combine, serial
        // and deserial in a parallel plan, which the loop sets up for their signatures
        // (PARALLEL).
        "mean(double precision)"
        | "float_mean_state(internal,double precision)"
        | "float_mean_finalize(internal)" => {
            let values: Vec<String> = (0..rng.below(8))
                .map(|_| {
                    if rng.one_in(5) {
                        "(NULL::float8)".to_owned()
                    } else {
                        format!("({})", float8(rng))
                    }
                })
                .collect();
            let from = if values.is_empty() {
                "(SELECT 1.0::float8 WHERE false) AS v(x)".to_owned()
            } else {
                format!("(VALUES {}) AS v(x)", values.join(", "))
            };
            if rng.one_in(4) {
                // as a window aggregate: the final function on a growing state, once per row
                Call {
                    select: "mean(x) OVER (ROWS UNBOUNDED PRECEDING)".into(),
                    from: Some(from),
                }
            } else {
                Call {
                    select: "mean(x)".into(),
                    from: Some(from),
                }
            }
        }
        "float_mean_combine(internal,internal)"
        | "float_mean_serial(internal)"
        | "float_mean_deserial(bytea,internal)" => {
            let factor = rng.below(1_000_001) as i64 - 500_000;
            let modulus = 1 + rng.below(50);
            let filter = if rng.one_in(8) {
                "x IS NULL".to_owned() // every worker's state is NULL
            } else {
                format!("id % {modulus} = {}", rng.below(modulus))
            };
            Call {
                select: format!("mean(x * {factor})"),
                from: Some(format!("agg_input WHERE {filter}")),
            }
        }
        // Chapter 21's trigger functions: through DML on the tables of EXT_OBJECTS, whose
        // triggers call them, or now and then called outside a trigger.
        "trigf()" | "row_version()" if rng.one_in(15) => Call::expr(signature.to_owned()),
        "trigf()" => {
            let x = |rng: &mut Rng| {
                if rng.one_in(3) {
                    "NULL".to_owned()
                } else {
                    (rng.below(2001) as i64 - 1000).to_string()
                }
            };
            let statement = match rng.below(10) {
                0..=4 => {
                    let rows: Vec<String> = (0..1 + rng.below(3))
                        .map(|_| format!("({}, 'r')", x(rng)))
                        .collect();
                    format!(
                        "WITH d AS (INSERT INTO trig_t VALUES {} RETURNING x) \
                         SELECT coalesce(x::text, '<null>') FROM d",
                        rows.join(", ")
                    )
                }
                5..=6 => format!(
                    "WITH d AS (UPDATE trig_t SET x = {} WHERE x % {} = 0 RETURNING x) \
                     SELECT count(*)::text FROM d",
                    x(rng),
                    1 + rng.below(5)
                ),
                7..=8 => format!(
                    "WITH d AS (DELETE FROM trig_t WHERE x % {} = 0 RETURNING x) \
                     SELECT count(*)::text FROM d",
                    1 + rng.below(5)
                ),
                _ => "TRUNCATE trig_t".to_owned(),
            };
            // The rows the statement returned; after a TRUNCATE, what is left of the table.
            let statements = if statement.starts_with("TRUNCATE") {
                vec![statement, "SELECT count(*)::text FROM trig_t".to_owned()]
            } else {
                vec![statement]
            };
            Call {
                select: "r".into(),
                from: Some(format!(
                    "run_dml({}) AS r",
                    statements
                        .iter()
                        .map(|s| quote(s))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            }
        }
        "row_version()" => {
            let id = 1 + rng.below(20);
            let v = rng.pick(&["NULL", "0", "1", "2147483646", "2147483647", "-2147483648"]);
            let mut statements = Vec::new();
            match rng.below(6) {
                0..=2 => statements.push(format!(
                    "WITH d AS (INSERT INTO version_t VALUES ({id}, 'b', {v}) \
                     ON CONFLICT (id) DO UPDATE SET body = excluded.body RETURNING id, v) \
                     SELECT id || ' ' || coalesce(v::text, '<null>') FROM d"
                )),
                3..=4 => statements.push(format!(
                    "WITH d AS (UPDATE version_t SET body = 'u', v = {v} WHERE id % {} = 0 \
                     RETURNING id, v) SELECT string_agg(id || ' ' || v, ',' ORDER BY id) FROM d",
                    1 + rng.below(4)
                )),
                _ => {
                    // a counter from before the trigger: NULL, or at the largest integer
                    statements.push("ALTER TABLE version_t DISABLE TRIGGER tv".to_owned());
                    statements.push(format!("UPDATE version_t SET v = {v} WHERE id = {id}"));
                    statements.push("ALTER TABLE version_t ENABLE TRIGGER tv".to_owned());
                    statements.push(format!(
                        "WITH d AS (UPDATE version_t SET body = 'w' WHERE id = {id} \
                         RETURNING v) SELECT coalesce(v::text, '<null>') FROM d"
                    ));
                }
            }
            Call {
                select: "r".into(),
                from: Some(format!(
                    "run_dml({}) AS r",
                    statements
                        .iter()
                        .map(|s| quote(s))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            }
        }
        _ => return None,
    };
    Some(call)
}

/// The functions that only a parallel plan calls: their calls run with settings that make a
/// parallel plan the cheapest (the sessions otherwise have max_parallel_workers_per_gather = 0).
const PARALLEL: &[&str] = &[
    "float_mean_combine(internal,internal)",
    "float_mean_serial(internal)",
    "float_mean_deserial(bytea,internal)",
];

/// `SET LOCAL` lasts for the implicit transaction of the query string that holds it: the one
/// call.
const PARALLEL_SETTINGS: &str = "SET LOCAL parallel_setup_cost = 0; \
    SET LOCAL parallel_tuple_cost = 0; SET LOCAL min_parallel_table_scan_size = 0; \
    SET LOCAL max_parallel_workers_per_gather = 2;";

// --- the run ------------------------------------------------------------------------------------

struct Settings {
    seed: u64,
    calls: u64,
    budget: Option<Duration>,
    only: Option<Vec<String>>,
}

fn settings() -> Settings {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let seed = var("XFUNC_DIFFTEST_SEED")
        .map(|s| s.parse().expect("XFUNC_DIFFTEST_SEED: an unsigned integer"))
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64 % 1_000_000_000)
        });
    Settings {
        seed,
        calls: var("XFUNC_DIFFTEST_CALLS")
            .map(|s| s.parse().expect("XFUNC_DIFFTEST_CALLS: a number"))
            .unwrap_or(2000),
        budget: var("XFUNC_DIFFTEST_SECONDS")
            .map(|s| Duration::from_secs(s.parse().expect("XFUNC_DIFFTEST_SECONDS: a number"))),
        only: var("XFUNC_DIFFTEST_ONLY").map(|s| s.split(',').map(str::to_owned).collect()),
    }
}

fn extension_functions(db: &mut Db) -> BTreeSet<String> {
    db.client
        .query(
            "SELECT p.oid::regprocedure::text FROM pg_depend AS d
               JOIN pg_extension AS e ON d.refclassid = 'pg_extension'::regclass
                                     AND d.refobjid = e.oid
               JOIN pg_proc AS p ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
              WHERE e.extname = $1 AND d.deptype = 'e'",
            &[&db.ext],
        )
        .expect("listing the extension's functions")
        .iter()
        .map(|r| r.get(0))
        .collect()
}

struct Pair {
    enc: Encoding,
    rust: Db,
    c: Db,
    /// A second session on the Rust build's database whose search path finds the fast
    /// variants of schema `xfunc_fast` (chapter 14) first: a third build, held to the C one.
    fast: Db,
    /// Catalog changes made since the extensions were last created, in order.
    history: Vec<String>,
}

impl Pair {
    fn reset(&mut self) {
        self.rust.reset_extension();
        self.c.reset_extension();
        self.history.clear();
    }
}

struct Failure(String);

/// Points each build's log at a scratch file in the data directory for the run (ALTER SYSTEM,
/// reload), and puts the settings back and removes the files when dropped.
struct LogFiles {
    admin: Client,
    data_directory: std::path::PathBuf,
    generation: u32,
}

impl LogFiles {
    fn file(ext: &str, generation: u32) -> String {
        format!("difftest_{ext}_{generation}.log")
    }

    fn new() -> LogFiles {
        let mut admin = support::connect_to("postgres");
        let data_directory: String = admin
            .query_one("SELECT current_setting('data_directory')", &[])
            .expect("data_directory")
            .get(0);
        let mut files = LogFiles {
            admin,
            data_directory: data_directory.into(),
            generation: 0,
        };
        // Left over from a run that was killed: the builds must start from empty files.
        files.remove(0);
        files.point_at(Some(0));
        files
    }

    /// Sets both builds' log_file to the files of `generation` (None: back to the default).
    fn point_at(&mut self, generation: Option<u32>) {
        for ext in ["xfunc", "xfunc_c"] {
            let sql = match generation {
                Some(g) => format!("ALTER SYSTEM SET {ext}.log_file = '{}'", Self::file(ext, g)),
                None => format!("ALTER SYSTEM RESET {ext}.log_file"),
            };
            self.admin.batch_execute(&sql).expect("ALTER SYSTEM");
        }
        self.admin
            .batch_execute("SELECT pg_reload_conf()")
            .expect("pg_reload_conf");
    }

    /// Waits until `db` sees the current files (a reload reaches each backend when it next
    /// reads a command).
    fn wait_for(&self, db: &mut Db) {
        let want = Self::file(db.ext, self.generation);
        let sql = format!("SELECT current_setting('{}.log_file')", db.ext);
        for _ in 0..200 {
            let now: String = db.client.query_one(&sql, &[]).expect(&sql).get(0);
            if now == want {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("{} never saw {}.log_file = {want}", db.ext, db.ext);
    }

    /// New, empty files; the old ones are removed (a long run would fill the disk).
    fn rotate(&mut self, pairs: &mut [Pair]) {
        let old = self.generation;
        self.generation += 1;
        self.remove(self.generation);
        self.point_at(Some(self.generation));
        for pair in pairs.iter_mut() {
            self.wait_for(&mut pair.rust);
            self.wait_for(&mut pair.c);
        }
        self.remove(old);
    }

    fn remove(&self, generation: u32) {
        for ext in ["xfunc", "xfunc_c"] {
            let _ = std::fs::remove_file(self.data_directory.join(Self::file(ext, generation)));
        }
    }
}

impl Drop for LogFiles {
    fn drop(&mut self) {
        self.point_at(None);
        self.remove(self.generation);
    }
}

#[test]
fn rust_and_c_builds_agree() {
    let s = settings();
    println!(
        "differential test: seed {} ({} calls per function{})",
        s.seed,
        s.calls,
        s.budget
            .map(|b| format!(", at most {}s in all", b.as_secs()))
            .unwrap_or_default()
    );
    println!("replay: XFUNC_DIFFTEST_SEED={} just difftest", s.seed);
    let started = Instant::now();
    create_databases();
    let mut pairs: Vec<Pair> = ENCODINGS
        .iter()
        .map(|&enc| Pair {
            enc,
            rust: Db::open("xfunc", enc),
            c: Db::open("xfunc_c", enc),
            fast: {
                let mut fast = Db::open("xfunc", enc);
                fast.run("SET search_path = xfunc_fast, public")
                    .expect("search path of the fast session");
                fast
            },
            history: Vec::new(),
        })
        .collect();

    // Every function of one build has a twin of the same name and signature in the other, but
    // the fast variants (compared below, through the fast session) and the Rust-only variants
    // of the contention benchmark (two more ways to take the same lock, chapter 12).
    let all_rust = extension_functions(&mut pairs[0].rust);
    let fast_names: BTreeSet<String> = all_rust
        .iter()
        .filter_map(|f| f.strip_prefix("xfunc_fast."))
        .filter_map(|f| f.split('(').next())
        .filter(|name| !STATEFUL_FAST.contains(name))
        .map(str::to_owned)
        .collect();
    let rust_functions: BTreeSet<String> = all_rust
        .into_iter()
        .filter(|f| !f.starts_with("xfunc_fast.") && !RUST_ONLY.contains(&f.as_str()))
        .collect();
    let c_functions = extension_functions(&mut pairs[0].c);
    let mut failures: Vec<Failure> = Vec::new();
    for f in rust_functions.symmetric_difference(&c_functions) {
        let only = if rust_functions.contains(f) {
            "xfunc"
        } else {
            "xfunc_c"
        };
        failures.push(Failure(format!("{f} is only in {only}")));
    }
    let functions: Vec<String> = rust_functions
        .union(&c_functions)
        .filter(|f| {
            s.only
                .as_ref()
                .is_none_or(|only| only.iter().any(|o| f.split('(').next() == Some(o.as_str())))
        })
        .cloned()
        .collect();
    println!("{} functions in both builds", functions.len());

    let mut log_files = LogFiles::new();
    for pair in &mut pairs {
        log_files.wait_for(&mut pair.rust);
        log_files.wait_for(&mut pair.c);
    }

    // The shared counter of each build starts from zero.
    for pair in &mut pairs {
        for db in [&mut pair.rust, &mut pair.c] {
            db.run("SELECT shared_counter_reset()")
                .expect("resetting the counter");
        }
    }

    let per_function_budget = s.budget.map(|b| b / functions.len().max(1) as u32);
    let mut total_calls = 0u64;
    let mut known_seen: Vec<(String, u64)> = Vec::new();
    for signature in &functions {
        let fn_started = Instant::now();
        let mut rng = Rng(s.seed ^ fnv(signature));
        let name = signature.split('(').next().unwrap_or(signature).to_owned();
        let mut calls = 0u64;
        let mut errors = 0u64;
        let mut fn_failures = 0;
        for pair in &mut pairs {
            pair.reset();
        }
        let mut emp_cols: Vec<Vec<(String, String)>> =
            pairs.iter_mut().map(|p| emp_columns(&mut p.rust)).collect();
        // A parallel call starts worker processes (tens of milliseconds): a tenth as many.
        let max_calls = if PARALLEL.contains(&signature.as_str()) {
            (s.calls / 10).max(20)
        } else {
            s.calls
        };
        while calls < max_calls {
            if per_function_budget.is_some_and(|b| fn_started.elapsed() > b) {
                break;
            }
            let p = match rng.below(10) {
                0 => 1,
                1 => 2,
                _ => 0,
            };
            let enc = pairs[p].enc;
            // Now and then, change a row type under the function.
            let change = match name.as_str() {
                "c_overpaid" | "overpaid_by" if rng.one_in(40) => Some(emp_change(&mut rng)),
                "divmod" | "floor_divmod" if rng.one_in(60) => {
                    Some(row_type_change(&mut rng, "divmod_result"))
                }
                "retcomposite" if rng.one_in(60) => {
                    Some(row_type_change(&mut rng, "__retcomposite"))
                }
                _ => None,
            };
            if let Some(change) = change {
                let pair = &mut pairs[p];
                match change {
                    None => pair.reset(),
                    Some(sql) => {
                        let r = pair
                            .rust
                            .run(&sql)
                            .map_err(|e| e.replace("xfunc_c", "xfunc"));
                        let c = pair.c.run(&sql).map_err(|e| e.replace("xfunc_c", "xfunc"));
                        if r != c {
                            failures.push(Failure(format!(
                                "seed {}: {sql} in {:?}: xfunc {r:?}, xfunc_c {c:?}",
                                s.seed, pair.enc
                            )));
                        }
                        if r.is_ok() {
                            pair.history.push(sql);
                        }
                    }
                }
                emp_cols[p] = emp_columns(&mut pairs[p].rust);
            }
            if name == "xfunc_log" && calls % 500 == 499 {
                log_files.rotate(&mut pairs);
            }
            let mut cx = Ctx {
                rng: &mut rng,
                enc,
                emp_columns: &emp_cols[p],
            };
            let Some(call_spec) = generate(signature, &mut cx) else {
                failures.push(Failure(format!(
                    "{signature}: no generator in tests/differential.rs; add one"
                )));
                break;
            };
            let sql = if PARALLEL.contains(&signature.as_str()) {
                format!("{PARALLEL_SETTINGS} {}", call_spec.wrapped())
            } else {
                call_spec.wrapped()
            };
            let pair = &mut pairs[p];
            let rust = call(&mut pair.rust, &sql);
            let mut c = call(&mut pair.c, &sql);
            calls += 1;
            if name.starts_with("xfunc_log") {
                // The messages name each build's setting and file.
                if let Outcome::Error(_, message) = &mut c {
                    *message = message.replace("xfunc_c", "xfunc");
                }
            }
            if matches!(rust, Outcome::Error(..)) {
                errors += 1;
            }
            // The fast variant, where there is one, must agree with C too.
            let fast = fast_names
                .contains(&name)
                .then(|| call(&mut pair.fast, &sql))
                .filter(|fast| {
                    *fast != c
                        && (matches!(fast, Outcome::Dead(_))
                            || !KNOWN.iter().any(|k| {
                                k.function == name && (k.matches)(&call_spec.sql(), fast, &c)
                            }))
                });
            if let Some(fast) = fast {
                fn_failures += 1;
                failures.push(Failure(format!(
                    "seed {} function xfunc_fast.{signature} call {calls} database pair {:?}\n  \
                     call:    {};\n  xfunc_fast: {fast}\n  xfunc_c:    {c}\n",
                    s.seed,
                    pair.enc,
                    call_spec.sql()
                )));
                if matches!(fast, Outcome::Dead(_)) {
                    print_failures(&failures, s.seed);
                    panic!("a backend died; seed {}", s.seed);
                }
            }
            let same = rust == c;
            let dead = matches!(rust, Outcome::Dead(_)) || matches!(c, Outcome::Dead(_));
            if same && !dead {
                continue;
            }
            if !dead {
                if let Some(k) = KNOWN
                    .iter()
                    .find(|k| k.function == name && (k.matches)(&call_spec.sql(), &rust, &c))
                {
                    match known_seen.iter_mut().find(|(w, _)| w == k.why) {
                        Some((_, n)) => *n += 1,
                        None => known_seen.push((k.why.to_owned(), 1)),
                    }
                    continue;
                }
            }
            fn_failures += 1;
            let mut report = format!(
                "seed {} function {signature} call {calls} database pair {:?} \
                 (difftest_xfunc{} / difftest_xfunc_c{})\n  replay:  XFUNC_DIFFTEST_SEED={} \
                 XFUNC_DIFFTEST_ONLY={name} XFUNC_DIFFTEST_CALLS={calls} just difftest\n",
                s.seed,
                pair.enc,
                pair.enc.suffix(),
                pair.enc.suffix(),
                s.seed
            );
            if !pair.history.is_empty() {
                writeln!(report, "  after: {};", pair.history.join("; ")).unwrap();
            }
            writeln!(report, "  call:    {};", call_spec.sql()).unwrap();
            writeln!(report, "  xfunc:   {rust}").unwrap();
            writeln!(report, "  xfunc_c: {c}").unwrap();
            failures.push(Failure(report));
            if dead {
                // A crash restarts the whole cluster: nothing after it means anything.
                print_failures(&failures, s.seed);
                panic!("a backend died; seed {}", s.seed);
            }
            if fn_failures >= 20 {
                break;
            }
        }
        total_calls += calls;
        println!(
            "{signature:<45} {calls:>8} calls ({errors} errors, same in both) {:>7.1}s",
            fn_started.elapsed().as_secs_f64()
        );
    }
    for pair in &mut pairs {
        pair.reset();
    }
    for (why, n) in &known_seen {
        println!("known difference, allowed ({n} calls): {why}");
    }
    println!(
        "differential test: {total_calls} calls in {:.1}s, seed {}",
        started.elapsed().as_secs_f64(),
        s.seed
    );
    if !failures.is_empty() {
        print_failures(&failures, s.seed);
        panic!("{} differences; seed {}", failures.len(), s.seed);
    }
}

fn print_failures(failures: &[Failure], seed: u64) {
    eprintln!(
        "\n{} differences between xfunc and xfunc_c (seed {seed}):",
        failures.len()
    );
    for f in failures.iter().take(60) {
        eprintln!("{}", f.0);
    }
    eprintln!("replay: XFUNC_DIFFTEST_SEED={seed} just difftest");
}
