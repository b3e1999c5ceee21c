//! The two builds check each other: every SQL function of `xfunc` (Rust) and of `xfunc_c` (C)
//! is called with the same random arguments, in a database of each build, and must give the
//! same answer (the text output of the result, compared byte for byte) or the same SQLSTATE
//! and message, and leave a backend that still answers `SELECT 1`. The fast variants of schema
//! `xfunc_fast` are held to the C build the same way; both builds must declare each function
//! alike (arguments, result, volatility, strictness, parallel safety).
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
//! A new function needs nothing here. Its argument types in pg_proc choose the generators
//! (args.rs; values.rs), what it returns chooses where the call goes (calls.rs: in the select
//! list, three times at one call site, in FROM), and the row types among its arguments and
//! its result choose the catalog changes made under it (changes.rs). A function taking a type
//! with no generator fails the test with a message naming the type; one that returns `record`
//! without OUT columns needs a column list, written by hand in shapes.rs, where the few calls
//! live that the default shapes cannot make (sets whose size an argument gives, the shared
//! log). Calls keep their order: each function's in turn (by signature), each call on the Rust
//! build then on the C one, so that the shared counter and the shared log, which keep state
//! between calls, are in the same state in both builds at every call.
//!
//! Seeded and reproducible: the seed is printed first; a failure prints the seed, the function,
//! the SQL of the call, the catalog changes made before it, and both results. Each function's
//! calls come from its own generator seeded from the run's seed and the function's signature,
//! so `XFUNC_DIFFTEST_SEED=<seed> XFUNC_DIFFTEST_ONLY=<name>` replays one function's run.
//!
//! Run by `just difftest` (in `just test`) against the local cluster, with the extensions
//! installed; `just difftest-long` makes many more calls. Settings (environment):
//! `XFUNC_DIFFTEST_SEED` (default: from the clock; `just difftest` fixes it),
//! `XFUNC_DIFFTEST_CALLS` (calls per function, default 2000), `XFUNC_DIFFTEST_SECONDS` (a time
//! budget for the whole run, shared equally by the functions; a function stops early when its
//! share is spent), `XFUNC_DIFFTEST_ONLY` (comma-separated function names).
//!
//! Not a `cargo test` default target (Cargo.toml: `test = false`): `cargo pgrx test` runs the
//! crate's tests without a local cluster; the recipe names it with `--test differential`.

use xfunc_test_support as support;

mod args;
mod calls;
mod catalog;
mod changes;
mod db;
mod known;
mod log_files;
mod rng;
mod run;
mod shapes;
mod values;

use std::time::Duration;

pub struct Settings {
    pub seed: u64,
    pub calls: u64,
    pub budget: Option<Duration>,
    pub only: Option<Vec<String>>,
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

#[test]
fn rust_and_c_builds_agree() {
    run::run(&settings());
}
