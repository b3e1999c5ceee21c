//! lwlock_contention: many backends hammering one piece of shared state (chapter 12), Rust
//! (`xfunc`) against C (`xfunc_c`), from 1, 2, 4, 8 and 16 client connections at once, each its
//! own backend, as calls per second of all clients together:
//!
//! - `exclusive`: `shared_counter_add(1)`, the LWLock taken exclusively; in the Rust build also
//!   by hand (no guard) and through pgrx's `PgLwLock`;
//! - `shared`: `shared_counter_value()`, the LWLock taken in shared mode;
//! - `mix`: one call in eight adds (exclusive), seven read (shared);
//! - `atomic`: `pg_atomic_fetch_add_u64`, no lock;
//! - `spinlock`: a spinlock around the count.
//!
//! Each client runs one statement per iteration: ROWS rows of a generate_series, each row
//! making CALLS_PER_ROW calls (`num_nonnulls(f(), f(), ...)`, so that the calls outweigh the
//! executor's work per row); an iteration ends when every client's statement has. The baseline
//! is the same statement with the row number in place of each call, from the same clients; its
//! time is subtracted. Meanwhile one more session samples `pg_stat_activity` every SAMPLE_EVERY and
//! counts, for the clients running a statement, what they were waiting on: the report gives
//! the share of samples in which a client waited on the LWLock, or slept on the spinlock
//! (`SpinDelay`).

use xfunc_test_support::bench as common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use serde_json::json;

/// Concurrent client connections.
const CLIENTS: &[usize] = &[1, 2, 4, 8, 16];
/// Rows per statement, and calls per row.
const ROWS: u64 = 20_000;
const CALLS_PER_ROW: usize = 8;
/// How often the wait events of the clients are sampled.
const SAMPLE_EVERY: Duration = Duration::from_millis(10);
/// The application_name of the clients, so that the sampler finds them.
const APP: &str = "xfunc_contention";

// ANCHOR: cases
/// One case: its name, and its variants: (id, schema, function looked up, the calls of one
/// row: one call, repeated CALLS_PER_ROW times, or CALLS_PER_ROW calls separated by `;`;
/// `{s}` is the schema).
struct Case {
    name: &'static str,
    variants: &'static [(&'static str, &'static str, &'static str, &'static str)],
}

/// One add and seven reads.
const MIX: &str = "{s}.shared_counter_add(1);{s}.shared_counter_value();\
                   {s}.shared_counter_value();{s}.shared_counter_value();\
                   {s}.shared_counter_value();{s}.shared_counter_value();\
                   {s}.shared_counter_value();{s}.shared_counter_value()";

const CASES: &[Case] = &[
    Case {
        name: "exclusive",
        variants: &[
            (
                "rust",
                "rust",
                "shared_counter_add",
                "{s}.shared_counter_add(1)",
            ),
            ("c", "c", "shared_counter_add", "{s}.shared_counter_add(1)"),
            (
                "rust_by_hand",
                "rust",
                "rust_counter_add_by_hand",
                "{s}.rust_counter_add_by_hand(1)",
            ),
            (
                "rust_pglwlock",
                "rust",
                "rust_counter_add_pglwlock",
                "{s}.rust_counter_add_pglwlock(1)",
            ),
        ],
    },
    Case {
        name: "shared",
        variants: &[
            (
                "rust",
                "rust",
                "shared_counter_value",
                "{s}.shared_counter_value()",
            ),
            (
                "c",
                "c",
                "shared_counter_value",
                "{s}.shared_counter_value()",
            ),
        ],
    },
    Case {
        name: "mix",
        variants: &[
            ("rust", "rust", "shared_counter_value", MIX),
            ("c", "c", "shared_counter_value", MIX),
        ],
    },
    Case {
        name: "atomic",
        variants: &[
            (
                "rust",
                "rust",
                "shared_counter_bump_atomic",
                "{s}.shared_counter_bump_atomic()",
            ),
            (
                "c",
                "c",
                "shared_counter_bump_atomic",
                "{s}.shared_counter_bump_atomic()",
            ),
        ],
    },
    Case {
        name: "spinlock",
        variants: &[
            (
                "rust",
                "rust",
                "shared_counter_bump_spinlock",
                "{s}.shared_counter_bump_spinlock()",
            ),
            (
                "c",
                "c",
                "shared_counter_bump_spinlock",
                "{s}.shared_counter_bump_spinlock()",
            ),
        ],
    },
];
// ANCHOR_END: cases

fn rows() -> u64 {
    if common::measuring() {
        ROWS
    } else {
        2
    }
}

/// The statement whose row makes the calls `calls` (see [`Case`]); `None`: the baseline.
fn statement(calls: Option<&str>) -> String {
    let args: Vec<String> = match calls {
        Some(calls) if calls.contains(';') => calls.split(';').map(str::to_owned).collect(),
        Some(call) => vec![call.to_owned(); CALLS_PER_ROW],
        None => vec!["g".to_owned(); CALLS_PER_ROW],
    };
    assert_eq!(args.len(), CALLS_PER_ROW);
    format!(
        "SELECT count(num_nonnulls({})) FROM generate_series(1, {}) AS g",
        args.join(", "),
        rows()
    )
}

/// Counts, until `stop`, what the clients running a statement wait on: "running" when they
/// wait on nothing, else "<wait_event_type>:<wait_event>".
fn sample_waits(stop: &AtomicBool) -> BTreeMap<String, u64> {
    let mut sampler = common::another_client();
    let mut counts = BTreeMap::new();
    while !stop.load(Ordering::Relaxed) {
        let rows = sampler
            .query(
                "SELECT coalesce(wait_event_type || ':' || wait_event, 'running')
                   FROM pg_stat_activity WHERE application_name = $1 AND state = 'active'",
                &[&APP],
            )
            .unwrap_or_else(|e| common::stop(&common::db_error(&e)));
        for row in rows {
            *counts.entry(row.get::<_, String>(0)).or_insert(0) += 1;
        }
        std::thread::sleep(SAMPLE_EVERY);
    }
    counts
}

fn contention(c: &mut Criterion, client: &mut postgres::Client, record: &mut common::RunRecord) {
    let largest = CLIENTS.iter().copied().max().unwrap_or(1);
    let mut clients: Vec<postgres::Client> = (0..largest)
        .map(|_| {
            let mut client = common::another_client();
            client
                .batch_execute(&format!("SET application_name = '{APP}'"))
                .unwrap_or_else(|e| common::stop(&common::db_error(&e)));
            client
        })
        .collect();
    let mut waits = serde_json::Map::new();
    for case in CASES {
        let present: Vec<_> = case
            .variants
            .iter()
            .filter(|(id, schema, function, _)| {
                let found = common::find_function(client, schema, function, &[]).is_some()
                    || common::find_function(client, schema, function, &["int8"]).is_some();
                if !found {
                    record.skip(
                        &format!("lwlock_contention/{}/{id}", case.name),
                        &format!("{schema}.{function} is not in the bench database"),
                    );
                }
                found
            })
            .collect();
        if present.is_empty() {
            continue;
        }
        let name = format!("lwlock_contention/{}", case.name);
        record.group(&name);
        let mut g = c.benchmark_group(&name);
        g.sampling_mode(SamplingMode::Flat);
        for &n in CLIENTS {
            g.throughput(Throughput::Elements(
                rows() * CALLS_PER_ROW as u64 * n as u64,
            ));
            let baseline = statement(None);
            g.bench_function(BenchmarkId::new("baseline", n), |b| {
                b.iter_custom(|iters| common::all_at_once(&mut clients[..n], &baseline, iters))
            });
            for (id, schema, _, expr) in &present {
                let sql = statement(Some(&expr.replace("{s}", schema)));
                let stop = AtomicBool::new(false);
                let counts = std::thread::scope(|s| {
                    let sampler = s.spawn(|| sample_waits(&stop));
                    g.bench_function(BenchmarkId::new(*id, n), |b| {
                        b.iter_custom(|iters| common::all_at_once(&mut clients[..n], &sql, iters))
                    });
                    stop.store(true, Ordering::Relaxed);
                    sampler.join().unwrap_or_default()
                });
                waits.insert(format!("{name}/{id}/{n}"), json!(counts));
            }
        }
        g.finish();
    }
    record.param("waits", serde_json::Value::Object(waits));
}

fn main() {
    let mut client = common::bench_client();
    let mut record = common::RunRecord::new("lwlock_contention");
    record.param("rows_per_statement", rows().into());
    record.param("calls_per_row", CALLS_PER_ROW.into());
    record.param("clients", CLIENTS.into());
    record.param("sample_every_ms", (SAMPLE_EVERY.as_millis() as u64).into());
    let mut criterion = common::criterion(10, Duration::from_secs(1), Duration::from_secs(3));
    contention(&mut criterion, &mut client, &mut record);
    criterion.final_summary();
    record.write(&mut client);
}
