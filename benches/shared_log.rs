//! shared_log: `xfunc_log(text)` appends one line to a log file under an LWLock, Rust (`xfunc`)
//! against its C twin (`xfunc_c`), in each of the two designs (`open_per_line`: open, lock,
//! append, unlock, close; `kept_open`: the file stays open in each backend), from 1, 2, 4, 8
//! and 16 client connections at once (each its own backend), as lines per second; and a plain
//! loop of one write() per line to a file in this process, the limit a single writer can reach.
//!
//! Each client runs one statement per iteration that logs LINES lines
//! (`count(xfunc_log(...))` over a generate_series); an iteration ends when every client's
//! statement has. The baseline is the same statement without the call, from the same clients.

use xfunc_test_support::bench as common;

use std::io::Write;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};

/// Concurrent client connections.
const CLIENTS: &[usize] = &[1, 2, 4, 8, 16];
/// Lines each client logs per statement.
const LINES: u64 = 2_000;
/// The line every call logs (64 bytes with the newline the log adds).
const LINE: &str = "xfunc bench: one line of a shared log, always the same length..";

// ANCHOR: cases
/// The function, its variants, and the setting that names each one's log file: set in every
/// session to a file of the bench's own when the setting exists and a session may set it, left
/// as the server has it otherwise.
const FUNCTION: (&str, &[&str]) = ("xfunc_log", &["text"]);
const VARIANTS: &[(&str, &str, &str)] = &[
    ("rust", "rust.xfunc_log", "xfunc.log_file"),
    ("c", "c.xfunc_log", "xfunc_c.log_file"),
];
/// The designs, set in every session through `xfunc.log_design` (`xfunc_c.log_design`); the
/// benchmark id is `<variant>_<design>`.
const DESIGNS: &[&str] = &["open_per_line", "kept_open"];
// ANCHOR_END: cases

fn lines() -> u64 {
    if common::measuring() {
        LINES
    } else {
        1
    }
}

fn statement(call: Option<&str>) -> String {
    let expr = match call {
        Some(f) => format!("{f}('{LINE}')"),
        None => "g".to_string(),
    };
    format!(
        "SELECT count({expr}) FROM generate_series(1, {}) AS g",
        lines()
    )
}

/// Sets `setting` to `file` in each session when it exists and sessions may set it; returns
/// whether it did.
fn set_log_file(clients: &mut [postgres::Client], setting: &str, file: &str) -> bool {
    let settable = clients[0]
        .query_opt(
            "SELECT 1 FROM pg_settings WHERE name = $1 AND context IN ('user', 'superuser')",
            &[&setting],
        )
        .unwrap_or_else(|e| common::stop(&common::db_error(&e)))
        .is_some();
    if settable {
        for client in clients.iter_mut() {
            client
                .execute("SELECT set_config($1, $2, false)", &[&setting, &file])
                .unwrap_or_else(|e| common::stop(&common::db_error(&e)));
        }
    }
    settable
}

fn configure(g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    g.sampling_mode(SamplingMode::Flat);
}

fn shared_log(c: &mut Criterion, client: &mut postgres::Client, record: &mut common::RunRecord) {
    let (fname, args) = FUNCTION;
    let signature = format!("{fname}({})", args.join(", "));
    let present: Vec<&(&str, &str, &str)> = VARIANTS
        .iter()
        .filter(|(schema, _, _)| common::find_function(client, schema, fname, args).is_some())
        .collect();
    if present.is_empty() {
        let why = format!("{signature} is in neither schema rust nor c of the bench database");
        record.skip("shared_log/lines", &why);
        return;
    }
    for (schema, _, _) in VARIANTS {
        if !present.iter().any(|(s, _, _)| s == schema) {
            let why = format!("{schema}.{signature} is not in the bench database");
            record.skip(&format!("shared_log/lines/{schema}"), &why);
        }
    }
    let largest = CLIENTS.iter().copied().max().unwrap_or(1);
    let mut clients: Vec<postgres::Client> =
        (0..largest).map(|_| common::another_client()).collect();
    let dir = std::env::temp_dir();

    let name = "shared_log/lines";
    record.group(name);
    let mut g = c.benchmark_group(name);
    configure(&mut g);
    for &n in CLIENTS {
        g.throughput(Throughput::Elements(lines() * n as u64));
        let baseline = statement(None);
        g.bench_function(BenchmarkId::new("baseline", n), |b| {
            b.iter_custom(|iters| common::all_at_once(&mut clients[..n], &baseline, iters))
        });
        for design in DESIGNS {
            for (variant, function, setting) in &present {
                let file = dir.join(format!("xfunc-bench-{variant}.log"));
                let file = file.to_string_lossy().into_owned();
                let ours = set_log_file(&mut clients[..n], setting, &file);
                let design_setting = setting.replace("log_file", "log_design");
                for client in clients[..n].iter_mut() {
                    client
                        .execute(
                            "SELECT set_config($1, $2, false)",
                            &[&design_setting, design],
                        )
                        .unwrap_or_else(|e| common::stop(&common::db_error(&e)));
                }
                let sql = statement(Some(function));
                let id = format!("{variant}_{design}");
                g.bench_function(BenchmarkId::new(id, n), |b| {
                    b.iter_custom(|iters| common::all_at_once(&mut clients[..n], &sql, iters))
                });
                if ours {
                    // The server created it; it may be gone already if no line was written.
                    let _ = std::fs::remove_file(&file);
                }
            }
        }
    }
    g.finish();
}

/// The limit: one process writing the same lines, one write() each, to a file of its own.
fn raw_write(c: &mut Criterion, record: &mut common::RunRecord) {
    let path = std::env::temp_dir().join(format!("xfunc-bench-raw-{}.log", std::process::id()));
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap_or_else(|e| common::stop(&format!("{}: {e}", path.display())));
    let line = format!("{LINE}\n");
    let name = "shared_log/raw_write";
    record.group(name);
    let mut g = c.benchmark_group(name);
    configure(&mut g);
    g.throughput(Throughput::Elements(lines()));
    g.bench_function(BenchmarkId::new("write", 1), |b| {
        b.iter(|| {
            for _ in 0..lines() {
                file.write_all(line.as_bytes())
                    .unwrap_or_else(|e| common::stop(&format!("{}: {e}", path.display())));
            }
        })
    });
    g.finish();
    let _ = std::fs::remove_file(&path);
}

fn main() {
    let mut client = common::bench_client();
    let mut record = common::RunRecord::new("shared_log");
    record.param("lines_per_statement", lines().into());
    record.param("clients", CLIENTS.into());
    record.param("designs", DESIGNS.into());
    let mut criterion = common::criterion(20, Duration::from_secs(1), Duration::from_secs(4));
    shared_log(&mut criterion, &mut client, &mut record);
    raw_write(&mut criterion, &mut record);
    criterion.final_summary();
    record.write(&mut client);
}
