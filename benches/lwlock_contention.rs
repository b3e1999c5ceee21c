//! lwlock_contention: many backends updating one piece of shared state (chapter 12), Rust
//! (`xfunc`, and its fast variants of the chapter "Rust at the Speed of C" in schema
//! `xfunc_fast`) against C (`xfunc_c`), from 1, 2, 4, 8 and 16 client connections at once, each
//! its own backend, as cycles per second of all clients together:
//!
//! - `exclusive`: `shared_counter_add_cycles(n)`, the LWLock taken exclusively; in the Rust
//!   build also by hand (no guard) and through pgrx's `PgLwLock`;
//! - `shared`: `shared_counter_value_cycles(n)`, the LWLock taken in shared mode;
//! - `mix`: `shared_counter_mix_cycles(n)`: one cycle in eight adds (exclusive), seven read;
//! - `atomic`: `shared_counter_bump_atomic_cycles(n)`, `pg_atomic_fetch_add_u64`, no lock;
//! - `spinlock`: `shared_counter_bump_spinlock_cycles(n)`, a spinlock around the count.
//!
//! Each function runs its cycles in a tight loop, in one call: a client makes one call per
//! measurement, so the executor's work, once per call, is a vanishing part of it, and what is
//! timed is the lock operations (as PostgreSQL's own LWLock microbenchmarks loop in one backend).
//! Every case runs the same number of cycles in all, shared among the clients; that number is
//! set once per case so that the C variant takes about TARGET at one client. A measurement is
//! the wall time from the moment the clients start their calls to the moment the last one
//! returns. Measurements are repeated (REPETITIONS rounds), every variant of a cell measured in
//! each round one after the other, in an order that turns from round to round, so that a ratio
//! of two variants can be taken within a round, where the machine's other work weighs on both.
//!
//! Meanwhile one more session samples `pg_stat_activity` every SAMPLE_EVERY and counts, for
//! the clients running a statement, what they were waiting on: the report gives the share of
//! samples in which a client waited on the LWLock, or slept on the spinlock (`SpinDelay`).
//!
//! No criterion here: the run record (target/criterion/xfunc/lwlock_contention.json) holds
//! every time measured, and tools/bench/bench_report.py takes the medians and the spreads. The
//! instructions of one cycle, the same in every round, are counted by `just bench-callgrind`
//! from the statements the record gives it. `cargo bench --bench lwlock_contention -- --quick`
//! makes fewer rounds; a further argument runs only the cases whose name contains it.

use xfunc_test_support::bench as common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::json;

/// Concurrent client connections.
const CLIENTS: &[usize] = &[1, 2, 4, 8, 16];
/// How long the C variant's call should take at one client: sets each case's cycles.
const TARGET: Duration = Duration::from_millis(100);
/// Rounds of measurements (`--quick`: QUICK_REPETITIONS).
const REPETITIONS: usize = 10;
const QUICK_REPETITIONS: usize = 3;
/// The cycles of one call counted by callgrind (and 0, its baseline).
const CALLGRIND_CYCLES: u64 = 100_000;
/// How often the wait events of the clients are sampled.
const SAMPLE_EVERY: Duration = Duration::from_millis(10);
/// The application_name of the clients, so that the sampler finds them.
const APP: &str = "xfunc_contention";

// ANCHOR: cases
/// One case: its name, and its variants: (id, schema, function), the function taking the
/// number of cycles.
struct Case {
    name: &'static str,
    variants: &'static [(&'static str, &'static str, &'static str)],
}

/// Each way to share the count, in each build.
const fn variants(function: &'static str) -> [(&'static str, &'static str, &'static str); 3] {
    [
        ("rust", "rust", function),
        ("rust_fast", "xfunc_fast", function),
        ("c", "c", function),
    ]
}

const CASES: &[Case] = &[
    Case {
        name: "exclusive",
        variants: &[
            variants("shared_counter_add_cycles")[0],
            variants("shared_counter_add_cycles")[1],
            variants("shared_counter_add_cycles")[2],
            ("rust_by_hand", "rust", "rust_counter_add_by_hand_cycles"),
            ("rust_pglwlock", "rust", "rust_counter_add_pglwlock_cycles"),
        ],
    },
    Case {
        name: "shared",
        variants: &variants("shared_counter_value_cycles"),
    },
    Case {
        name: "mix",
        variants: &variants("shared_counter_mix_cycles"),
    },
    Case {
        name: "atomic",
        variants: &variants("shared_counter_bump_atomic_cycles"),
    },
    Case {
        name: "spinlock",
        variants: &variants("shared_counter_bump_spinlock_cycles"),
    },
];
// ANCHOR_END: cases

/// The statement a client runs: `cycles` cycles of `function`.
fn statement(schema: &str, function: &str, cycles: u64) -> String {
    format!("SELECT {schema}.{function}({cycles})")
}

/// Runs `sql` on each of `clients` at once; the wall time until the last one is done.
fn all_at_once(clients: &mut [postgres::Client], sql: &str) -> Duration {
    common::all_at_once(clients, sql, 1)
}

/// The cycles of one call, in all, for a case: what the C variant does in about TARGET at one
/// client, two significant digits, measured the fastest of three times.
fn calibrate(client: &mut postgres::Client, case: &Case) -> u64 {
    if !common::measuring() {
        return 64;
    }
    let (_, schema, function) = case
        .variants
        .iter()
        .find(|(id, ..)| *id == "c")
        .unwrap_or(&case.variants[0]);
    let probe = 200_000u64;
    let sql = statement(schema, function, probe);
    let best = (0..3)
        .map(|_| common::time_query(client, &sql))
        .min()
        .unwrap_or(TARGET);
    let cycles = (probe as f64 * TARGET.as_secs_f64() / best.as_secs_f64().max(1e-6)) as u64;
    let scale = 10u64.pow((cycles.max(1).ilog10()).saturating_sub(1));
    (cycles / scale * scale).clamp(10_000, 1_000_000_000)
}

/// Counts, until `stop`, what the clients running a statement wait on, for the cell `current`
/// names: "running" when they wait on nothing, else "<wait_event_type>:<wait_event>".
fn sample_waits(
    stop: &AtomicBool,
    current: &Mutex<Option<String>>,
) -> BTreeMap<String, BTreeMap<String, u64>> {
    let mut sampler = common::another_client();
    let mut counts: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    while !stop.load(Ordering::Relaxed) {
        let rows = sampler
            .query(
                "SELECT coalesce(wait_event_type || ':' || wait_event, 'running')
                   FROM pg_stat_activity WHERE application_name = $1 AND state = 'active'",
                &[&APP],
            )
            .unwrap_or_else(|e| common::stop(&common::db_error(&e)));
        let cell = current.lock().map(|c| c.clone()).unwrap_or(None);
        if let Some(cell) = cell {
            let cell = counts.entry(cell).or_default();
            for row in rows {
                *cell.entry(row.get::<_, String>(0)).or_insert(0) += 1;
            }
        }
        std::thread::sleep(SAMPLE_EVERY);
    }
    counts
}

fn contention(client: &mut postgres::Client, record: &mut common::RunRecord) {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let filter: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let repetitions = match (common::measuring(), quick) {
        (false, _) => 1,
        (true, true) => QUICK_REPETITIONS,
        (true, false) => REPETITIONS,
    };
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
    // The cases to run, each with the variants whose function is there, and its cycles.
    let mut cases = Vec::new();
    for case in CASES {
        if !filter.is_empty() && !filter.iter().any(|f| case.name.contains(f.as_str())) {
            continue;
        }
        let present: Vec<_> = case
            .variants
            .iter()
            .filter(|(id, schema, function)| {
                let found = common::find_function(client, schema, function, &["int8"]).is_some();
                if !found {
                    record.skip(
                        &format!("lwlock_contention/{}/{id}", case.name),
                        &format!("{schema}.{function}(bigint) is not in the bench database"),
                    );
                }
                found
            })
            .copied()
            .collect();
        if !present.is_empty() {
            let cycles = calibrate(&mut clients[0], case);
            println!(
                "lwlock_contention/{}: {cycles} cycles per measurement",
                case.name
            );
            cases.push((case.name, present, cycles));
        }
    }

    let stop = AtomicBool::new(false);
    let current = Mutex::new(None);
    let mut times: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let started = Instant::now();
    let waits = std::thread::scope(|s| {
        let sampler = s.spawn(|| sample_waits(&stop, &current));
        for round in 0..repetitions {
            for &n in CLIENTS {
                // The statement around the loop, alone: a call of no cycle from every client.
                let t = all_at_once(&mut clients[..n], "SELECT c.shared_counter_value_cycles(0)");
                times
                    .entry(format!("baseline/{n}"))
                    .or_default()
                    .push(t.as_secs_f64());
            }
            for (name, present, cycles) in &cases {
                for &n in CLIENTS {
                    let each = cycles.div_ceil(n as u64);
                    for k in 0..present.len() {
                        let (id, schema, function) = present[(k + round) % present.len()];
                        let cell = format!("{name}/{id}/{n}");
                        *current.lock().expect("the sampler's cell") = Some(cell.clone());
                        let t = all_at_once(&mut clients[..n], &statement(schema, function, each));
                        *current.lock().expect("the sampler's cell") = None;
                        times.entry(cell).or_default().push(t.as_secs_f64());
                    }
                }
            }
            println!(
                "lwlock_contention: round {} of {repetitions} done ({:.0} s)",
                round + 1,
                started.elapsed().as_secs_f64()
            );
        }
        stop.store(true, Ordering::Relaxed);
        sampler.join().unwrap_or_default()
    });

    let mut callgrind = serde_json::Map::new();
    for (name, present, _) in &cases {
        for (id, schema, function) in present {
            for cycles in [0, CALLGRIND_CYCLES] {
                let key = format!("lwlock_contention/{name}/{id}/{cycles}");
                let mut entry = json!({
                    "sql": statement(schema, function, cycles),
                    "calls": CALLGRIND_CYCLES,
                });
                if cycles > 0 {
                    entry["baseline"] = json!(format!("lwlock_contention/{name}/{id}/0"));
                }
                callgrind.insert(key, entry);
            }
        }
    }
    let cycles: serde_json::Map<String, serde_json::Value> = cases
        .iter()
        .map(|(name, _, cycles)| (name.to_string(), json!(cycles)))
        .collect();
    record.param("cycles", cycles.into());
    record.param("repetitions", repetitions.into());
    record.param("times", json!(times));
    record.param("waits", json!(waits));
    record.param("callgrind_statements", callgrind.into());
}

fn main() {
    let mut client = common::bench_client();
    let mut record = common::RunRecord::new("lwlock_contention");
    record.param("clients", CLIENTS.into());
    record.param("sample_every_ms", (SAMPLE_EVERY.as_millis() as u64).into());
    record.param("target_ms", (TARGET.as_millis() as u64).into());
    contention(&mut client, &mut record);
    record.write(&mut client);
    if !common::measuring() {
        println!("lwlock_contention: smoke run (one round, a few cycles); `cargo bench` measures");
    }
}
