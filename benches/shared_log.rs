//! shared_log: `xfunc_log(text)` appends one line to a log file, Rust (`xfunc`) against its C
//! twin (`xfunc_c`), in each of the three designs (`open_per_line`: open, lock, append,
//! unlock, close; `kept_open`: the file stays open in each backend; `group_commit`: lines meet
//! in a shared buffer and one backend writes them all), with `xfunc.log_sync` off and on, from
//! 1, 2, 4, 8 and 16 client connections at once (each its own backend), as lines per second;
//! and two loops in this process, the limits a single writer can reach: one write() per line,
//! and one write() and one fdatasync() per line (the cost of a sync on this machine's disk,
//! in the file system of the cluster's data directory).
//!
//! Each client runs one statement per iteration that logs LINES lines (LINES_SYNCED with sync
//! on, where a line may wait for the disk) (`count(xfunc_log(...))` over a generate_series); an
//! iteration ends when every client's statement has. The baseline is the same statement
//! without the call, from the same clients. Criterion's samples are the repeated runs whose
//! median and spread the report gives.

use xfunc_test_support::bench as common;

use std::io::Write;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};

/// Concurrent client connections.
const CLIENTS: &[usize] = &[1, 2, 4, 8, 16];
/// Lines each client logs per statement, with sync off ...
const LINES: u64 = 2_000;
/// ... and with sync on: in open_per_line and kept_open each line waits for a disk flush.
const LINES_SYNCED: u64 = 20;
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
const DESIGNS: &[&str] = &["open_per_line", "kept_open", "group_commit"];
/// `xfunc.log_sync` (`xfunc_c.log_sync`), set in every session: one benchmark group each.
const SYNCS: &[(&str, &str)] = &[("shared_log/lines", "off"), ("shared_log/synced", "on")];
// ANCHOR_END: cases

fn lines(sync: &str) -> u64 {
    match (common::measuring(), sync) {
        (false, _) => 1,
        (true, "on") => LINES_SYNCED,
        (true, _) => LINES,
    }
}

fn statement(call: Option<&str>, lines: u64) -> String {
    let expr = match call {
        Some(f) => format!("{f}('{LINE}')"),
        None => "g".to_string(),
    };
    format!("SELECT count({expr}) FROM generate_series(1, {lines}) AS g")
}

/// Sets `setting` to `value` in each session.
fn set(clients: &mut [postgres::Client], setting: &str, value: &str) {
    for client in clients.iter_mut() {
        client
            .execute("SELECT set_config($1, $2, false)", &[&setting, &value])
            .unwrap_or_else(|e| common::stop(&common::db_error(&e)));
    }
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
        set(clients, setting, file);
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
    // Beside the data directory, in its file system, as the fdatasync() loop's file: a sync
    // costs what that file system's disk makes it cost (in a tmpfs, nothing).
    let dir = common::state_dir();

    for &(name, sync) in SYNCS {
        record.group(name);
        let mut g = c.benchmark_group(name);
        configure(&mut g);
        if sync == "on" {
            // Each iteration waits for many disk flushes: the fewest samples criterion takes.
            g.sample_size(10);
        }
        let lines = lines(sync);
        for &n in CLIENTS {
            g.throughput(Throughput::Elements(lines * n as u64));
            let baseline = statement(None, lines);
            g.bench_function(BenchmarkId::new("baseline", n), |b| {
                b.iter_custom(|iters| common::all_at_once(&mut clients[..n], &baseline, iters))
            });
            for design in DESIGNS {
                for (variant, function, setting) in &present {
                    let file = dir.join(format!("xfunc-bench-{variant}.log"));
                    let file = file.to_string_lossy().into_owned();
                    let ours = set_log_file(&mut clients[..n], setting, &file);
                    set(
                        &mut clients[..n],
                        &setting.replace("log_file", "log_design"),
                        design,
                    );
                    set(
                        &mut clients[..n],
                        &setting.replace("log_file", "log_sync"),
                        sync,
                    );
                    let sql = statement(Some(function), lines);
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
}

/// The limits: one process writing the same lines, one write() each, to a file of its own; and
/// the same with an fdatasync() after each, in the file system of the data directory.
fn loops(c: &mut Criterion, record: &mut common::RunRecord) {
    let line = format!("{LINE}\n");
    let here = std::process::id();
    let cases = [
        (
            "shared_log/raw_write",
            "write",
            std::env::temp_dir(),
            false,
            lines("off"),
        ),
        (
            "shared_log/sync_write",
            "write_fdatasync",
            common::state_dir(),
            true,
            lines("on"),
        ),
    ];
    for (name, id, dir, sync, lines) in cases {
        let path = dir.join(format!("xfunc-bench-{id}-{here}.log"));
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .unwrap_or_else(|e| common::stop(&format!("{}: {e}", path.display())));
        record.group(name);
        let mut g = c.benchmark_group(name);
        configure(&mut g);
        g.throughput(Throughput::Elements(lines));
        g.bench_function(BenchmarkId::new(id, 1), |b| {
            b.iter(|| {
                for _ in 0..lines {
                    file.write_all(line.as_bytes())
                        .and_then(|()| if sync { file.sync_data() } else { Ok(()) })
                        .unwrap_or_else(|e| common::stop(&format!("{}: {e}", path.display())));
                }
            })
        });
        g.finish();
        let _ = std::fs::remove_file(&path);
    }
}

fn main() {
    let mut client = common::bench_client();
    let mut record = common::RunRecord::new("shared_log");
    record.param("lines_per_statement", lines("off").into());
    record.param("lines_per_statement_synced", lines("on").into());
    record.param("clients", CLIENTS.into());
    record.param("designs", DESIGNS.into());
    let syncs: Vec<&str> = SYNCS.iter().map(|(_, s)| *s).collect();
    record.param("syncs", syncs.into());
    let mut criterion = common::criterion(20, Duration::from_secs(1), Duration::from_secs(4));
    shared_log(&mut criterion, &mut client, &mut record);
    loops(&mut criterion, &mut record);
    criterion.final_summary();
    record.write(&mut client);
}
