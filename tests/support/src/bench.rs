//! What every xfunc benchmark needs: a connection to the reader's local cluster (found, or
//! started, through tools/cluster/cluster.sh) in a database where both builds sit side by side:
//! `xfunc` (Rust) in schema `rust`, `xfunc_c` (C) in schema `c`, built-ins in `pg_catalog`.
//! Every variant is then measured on one connection, in one run, so ratios hold on a noisy host.
//! A bench file takes it as `use xfunc_test_support::bench as common;`.

use std::path::PathBuf;
use std::process::{exit, Command};
use std::time::{Duration, Instant};

pub use crate::db_error;
use crate::{cluster_sh as cluster, env_value};

pub const BENCH_DB: &str = "xfunc_bench";

/// Each variant a bench measures, and the schema of the bench database its functions are in:
/// the Rust build, its fast variants (book chapter "Rust at the Speed of C", created by the same extension), the C build.
pub const VARIANT_SCHEMAS: &[(&str, &str)] =
    &[("rust", "rust"), ("rust_fast", "xfunc_fast"), ("c", "c")];

/// Stops the benchmark with one line that says what to do.
pub fn stop(why: &str) -> ! {
    eprintln!("xfunc bench: {why}");
    exit(1)
}

/// Connects to `dbname` on the local cluster (found through tools/cluster/cluster.sh env).
pub fn connect_to(dbname: &str) -> postgres::Client {
    crate::config(dbname)
        .connect(postgres::NoTls)
        .unwrap_or_else(|e| {
            let host = env_value("PGHOST");
            stop(&format!("cannot connect to the cluster at {host}: {e}"))
        })
}

/// Connects to the bench database, made afresh with both extensions, on the local cluster.
pub fn bench_client() -> postgres::Client {
    let status = String::from_utf8_lossy(&cluster(&["status"]).stdout).into_owned();
    if status.contains("no cluster yet") {
        stop("no local cluster: run `bash tools/cluster/setup.sh && just up` (or `just install`) first");
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

/// One more session on the bench database (made by `bench_client`), with the same settings.
pub fn another_client() -> postgres::Client {
    let mut client = connect_to(BENCH_DB);
    client
        .batch_execute("SET jit = off; SET max_parallel_workers_per_gather = 0;")
        .unwrap_or_else(|e| stop(&db_error(&e)));
    client
}

/// The directory that holds the cluster's data directory (XFUNC_STATE): a file there is in the
/// data directory's file system, as the log files the server writes are.
pub fn state_dir() -> PathBuf {
    crate::env_path("XFUNC_STATE")
}

/// Runs `sql` once and returns how long it took, failing the bench on an error.
pub fn time_query(client: &mut postgres::Client, sql: &str) -> Duration {
    let start = Instant::now();
    client
        .simple_query(sql)
        .unwrap_or_else(|e| stop(&format!("{sql}: {}", db_error(&e))));
    start.elapsed()
}

/// True under `cargo bench` (which passes `--bench`); false under `cargo test --benches`, where
/// criterion runs every benchmark once, untimed, to prove that it still works.
pub fn measuring() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// A function of one of the two extensions, found in the bench database.
pub struct Function {
    /// Its argument types as SQL spells them, schema-qualified where needed (`rust.emp`).
    pub arg_types: Vec<String>,
    /// For each argument of a composite type: its column names, in order.
    pub arg_columns: Vec<Vec<String>>,
}

/// Looks up `schema.name(arg_types)` in pg_proc, each argument type given by its pg_type name
/// (`int4`, `float8`, `point`, `text`, `emp`...), whatever schema the type lives in. `None` when
/// the function is not there: the chapter that defines it is not in this build yet.
pub fn find_function(
    client: &mut postgres::Client,
    schema: &str,
    name: &str,
    arg_types: &[&str],
) -> Option<Function> {
    let wanted: Vec<String> = arg_types.iter().map(|t| t.to_string()).collect();
    let row = client
        .query_opt(
            "SELECT array(SELECT format_type(a.t, NULL) FROM unnest(p.proargtypes::oid[])
                          WITH ORDINALITY AS a(t, n) ORDER BY n),
                    array(SELECT coalesce((SELECT string_agg(att.attname::text, ','
                                                              ORDER BY att.attnum)
                                             FROM pg_type ty JOIN pg_attribute att
                                               ON att.attrelid = ty.typrelid
                                            WHERE ty.oid = a.t AND att.attnum > 0
                                              AND NOT att.attisdropped), '')
                            FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY AS a(t, n)
                           ORDER BY n)
               FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
              WHERE n.nspname = $1 AND p.proname = $2
                AND array(SELECT ty.typname::text FROM unnest(p.proargtypes::oid[])
                          WITH ORDINALITY AS a(t, n) JOIN pg_type ty ON ty.oid = a.t
                          ORDER BY n) = $3::text[]",
            &[&schema, &name, &wanted],
        )
        .unwrap_or_else(|e| stop(&format!("looking up {schema}.{name}: {}", db_error(&e))))?;
    let columns: Vec<String> = row.get(1);
    Some(Function {
        arg_types: row.get(0),
        arg_columns: columns
            .iter()
            .map(|c| {
                c.split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .collect(),
    })
}

/// Criterion with this bench's sampling defaults; the command line (`-- --measurement-time 2`)
/// still overrides them, which per-group settings would not allow.
pub fn criterion(
    sample_size: usize,
    warm_up: Duration,
    measurement: Duration,
) -> criterion::Criterion {
    criterion::Criterion::default()
        .sample_size(sample_size)
        .warm_up_time(warm_up)
        .measurement_time(measurement)
        .configure_from_args()
}

/// Times `sql` as one criterion benchmark: each iteration is one statement on `client`.
/// Criterion's own estimates (target/criterion/<group>/<id>/new/) are the record.
pub fn bench_statement<M>(
    group: &mut criterion::BenchmarkGroup<'_, M>,
    id: criterion::BenchmarkId,
    client: &mut postgres::Client,
    sql: &str,
) where
    M: criterion::measurement::Measurement<Value = Duration>,
{
    group.bench_function(id, |b| {
        b.iter_custom(|iters| (0..iters).map(|_| time_query(client, sql)).sum())
    });
}

/// The directory criterion writes its results to (found the way criterion finds it).
pub fn criterion_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => crate::root().join("target"),
    }
    .join("criterion")
}

/// What one measured run of a bench file did, for tools/bench/bench_report.py: which benchmark
/// groups it measured in this run (older results under target/criterion are ignored), what it
/// skipped and why, and the parameters the report needs. Written only under `cargo bench`.
pub struct RunRecord {
    bench: &'static str,
    started: std::time::SystemTime,
    groups: Vec<String>,
    skipped: Vec<String>,
    params: serde_json::Map<String, serde_json::Value>,
}

impl RunRecord {
    pub fn new(bench: &'static str) -> Self {
        RunRecord {
            bench,
            started: std::time::SystemTime::now(),
            groups: Vec::new(),
            skipped: Vec::new(),
            params: serde_json::Map::new(),
        }
    }

    /// A benchmark group measured in this run.
    pub fn group(&mut self, name: &str) {
        if !self.groups.iter().any(|g| g == name) {
            self.groups.push(name.to_owned());
        }
    }

    /// A variant not measured, with the reason, also printed as one line.
    pub fn skip(&mut self, what: &str, why: &str) {
        eprintln!("xfunc bench: skip {what}: {why}");
        self.skipped.push(format!("{what}: {why}"));
    }

    /// A parameter of the run that the report shows or computes with (rows, calls per row...).
    pub fn param(&mut self, key: &str, value: serde_json::Value) {
        self.params.insert(key.to_owned(), value);
    }

    /// Writes target/criterion/xfunc/<bench>.json, under `cargo bench` only.
    pub fn write(&self, client: &mut postgres::Client) {
        if !measuring() {
            return;
        }
        let secs = |t: std::time::SystemTime| {
            t.duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        };
        let version: String = client
            .query_one("SELECT version()", &[])
            .map(|r| r.get(0))
            .unwrap_or_else(|e| stop(&db_error(&e)));
        let output = |program: &str, args: &[&str]| {
            Command::new(program)
                .args(args)
                .current_dir(crate::root())
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
                .unwrap_or_default()
        };
        let cpu = output("lscpu", &[])
            .lines()
            .find_map(|l| l.strip_prefix("Model name:").map(|m| m.trim().to_owned()))
            .unwrap_or_default();
        let mut commit = output("git", &["rev-parse", "--short=12", "HEAD"]);
        if !output("git", &["status", "--porcelain", "--untracked-files=no"]).is_empty() {
            commit.push_str(" (with uncommitted changes)");
        }
        let record = serde_json::json!({
            "cpu": cpu,
            "cpus": std::thread::available_parallelism().map_or(0, |n| n.get()),
            "rustc": output("rustc", &["--version"]),
            "commit": commit,
            "bench": self.bench,
            "started": secs(self.started),
            "finished": secs(std::time::SystemTime::now()),
            "postgres": version,
            "loadavg_at_end": std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim(),
            "groups": self.groups,
            "skipped": self.skipped,
            "params": self.params,
        });
        let dir = criterion_dir().join("xfunc");
        let path = dir.join(format!("{}.json", self.bench));
        std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::write(&path, format!("{record:#}\n")))
            .unwrap_or_else(|e| stop(&format!("writing {}: {e}", path.display())));
    }
}

/// Runs `sql` on every client at once, `iters` times each; returns the wall time.
pub fn all_at_once(clients: &mut [postgres::Client], sql: &str, iters: u64) -> Duration {
    let start = Instant::now();
    std::thread::scope(|s| {
        for client in clients.iter_mut() {
            s.spawn(move || {
                for _ in 0..iters {
                    time_query(client, sql);
                }
            });
        }
    });
    start.elapsed()
}
