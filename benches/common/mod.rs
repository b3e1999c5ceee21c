//! What every xfunc benchmark needs: a connection to the reader's local cluster (found, or
//! started, through tools/cluster.sh) in a database where both builds sit side by side:
//! `xfunc` (Rust) in schema `rust`, `xfunc_c` (C) in schema `c`, built-ins in `pg_catalog`.
//! Every variant is then measured on one connection, in one run, so ratios hold on a noisy host.

use std::path::Path;
use std::process::{exit, Command};
use std::time::{Duration, Instant};

pub const BENCH_DB: &str = "xfunc_bench";

fn cluster(args: &[&str]) -> std::process::Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/cluster.sh");
    Command::new("bash")
        .arg(script)
        .args(args)
        .output()
        .unwrap_or_else(|e| stop(&format!("cannot run tools/cluster.sh: {e}")))
}

/// The server's message for a failed statement (the client error alone says only "db error").
pub fn db_error(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {} ({})", db.severity(), db.message(), db.code().code()),
        None => e.to_string(),
    }
}

/// Stops the benchmark with one line that says what to do.
pub fn stop(why: &str) -> ! {
    eprintln!("xfunc bench: {why}");
    exit(1)
}

fn connect_to(dbname: &str) -> postgres::Client {
    let env = String::from_utf8_lossy(&cluster(&["env"]).stdout).into_owned();
    let get = |key: &str| {
        env.lines()
            .find_map(|l| l.strip_prefix(key))
            .map(str::to_owned)
            .unwrap_or_else(|| stop(&format!("tools/cluster.sh env printed no {key}")))
    };
    let (host, port) = (get("PGHOST="), get("PGPORT="));
    postgres::Config::new()
        .host_path(&host)
        .port(port.parse().unwrap_or_else(|_| stop("bad PGPORT")))
        .user("postgres")
        .dbname(dbname)
        .connect(postgres::NoTls)
        .unwrap_or_else(|e| stop(&format!("cannot connect to the cluster at {host}: {e}")))
}

/// Connects to the bench database, made afresh with both extensions, on the local cluster.
pub fn bench_client() -> postgres::Client {
    let status = String::from_utf8_lossy(&cluster(&["status"]).stdout).into_owned();
    if status.contains("no cluster yet") {
        stop("no local cluster: run `bash tools/setup.sh && just up` (or `just install`) first");
    }
    if !status.contains("running") || status.contains("stopped") {
        let out = cluster(&["start"]);
        if !out.status.success() {
            stop(&format!(
                "the cluster would not start ({}); run `just install`",
                String::from_utf8_lossy(&out.stdout).trim()
            ));
        }
    }
    let mut admin = connect_to("postgres");
    for ext in ["xfunc", "xfunc_c"] {
        let available = admin
            .query_opt(
                "SELECT 1 FROM pg_available_extensions WHERE name = $1",
                &[&ext],
            )
            .unwrap_or_else(|e| stop(&db_error(&e)));
        if available.is_none() {
            stop(&format!(
                "extension {ext} is not installed: run `just install`"
            ));
        }
    }
    // Two statements: CREATE DATABASE cannot run in the implicit transaction of a batch.
    for sql in [
        format!("DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)"),
        format!("CREATE DATABASE {BENCH_DB}"),
    ] {
        admin
            .batch_execute(&sql)
            .unwrap_or_else(|e| stop(&format!("{sql}: {}", db_error(&e))));
    }
    let mut client = connect_to(BENCH_DB);
    client
        .batch_execute(
            "CREATE SCHEMA rust; CREATE EXTENSION xfunc SCHEMA rust;
             CREATE SCHEMA c; CREATE EXTENSION xfunc_c SCHEMA c;
             SET jit = off; SET max_parallel_workers_per_gather = 0;",
        )
        .unwrap_or_else(|e| stop(&format!("creating the extensions: {}", db_error(&e))));
    client
}

/// Runs `sql` once and returns how long it took, failing the bench on an error.
pub fn time_query(client: &mut postgres::Client, sql: &str) -> Duration {
    let start = Instant::now();
    client
        .simple_query(sql)
        .unwrap_or_else(|e| stop(&format!("{sql}: {}", db_error(&e))));
    start.elapsed()
}

/// Median of the per-statement times recorded for one variant.
pub fn median(samples: &mut [Duration]) -> Option<Duration> {
    if samples.is_empty() {
        return None;
    }
    samples.sort_unstable();
    Some(samples[samples.len() / 2])
}
