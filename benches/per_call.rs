//! per_call: what one call of an example function costs, Rust (`xfunc`) against C (`xfunc_c`)
//! against the closest built-in, all in one run on the local cluster.
//!
//! A measurement is one statement that evaluates an expression for each of ROWS rows; the
//! expression nests CALLS calls of the function, so the client round trip and the executor's
//! per-row work are paid once per CALLS calls. The same statement without the calls (the
//! baseline) is measured in the same group, and `ns per call` is
//! (median(variant) - median(baseline)) / (ROWS * CALLS). Rows come from a `generate_series`
//! in the select list (a ProjectSet, streamed; in FROM it would be materialized first). jit is
//! off in the cluster and in the session.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};

/// Rows per statement.
const ROWS: u64 = 1_000_000;
/// Calls per row: the function is applied CALLS times, each call's result the next one's input.
const CALLS: usize = 8;

/// One example: how to call it, once, on `{}`, for each variant; `{}` starts as the row's `g`.
struct Case {
    name: &'static str,
    variants: &'static [(&'static str, &'static str)],
}

// ANCHOR: cases
const CASES: &[Case] = &[Case {
    name: "add_one_int4",
    variants: &[
        ("rust", "rust.add_one({})"),
        ("c", "c.add_one({})"),
        ("builtin", "({} + 1)"),
    ],
}];
// ANCHOR_END: cases

/// `template` applied CALLS times to `g`: add_one(add_one(...add_one(g)...)).
fn nested(template: &str) -> String {
    (0..CALLS).fold("g".to_string(), |inner, _| template.replace("{}", &inner))
}

fn statement(expr: &str) -> String {
    format!("SELECT count({expr}) FROM (SELECT generate_series(1, {ROWS}) AS g) AS rows")
}

/// Measures every variant of every case plus the baseline; returns the median statement time
/// of each, keyed "case/variant" (and "baseline").
fn per_call(c: &mut Criterion, client: &mut postgres::Client) -> BTreeMap<String, Duration> {
    let mut medians = BTreeMap::new();
    let mut measure = |group: &mut criterion::BenchmarkGroup<_>, key: String, id, sql: String| {
        let mut samples = Vec::new();
        group.bench_function(id, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let t = common::time_query(client, &sql);
                    samples.push(t);
                    total += t;
                }
                total
            })
        });
        if let Some(m) = common::median(&mut samples) {
            medians.insert(key, m);
        }
    };
    for case in CASES {
        let mut group = c.benchmark_group(format!("per_call/{}", case.name));
        group
            .sampling_mode(SamplingMode::Flat)
            .sample_size(30)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(6));
        let baseline = BenchmarkId::new("baseline", ROWS);
        group.throughput(Throughput::Elements(ROWS));
        measure(
            &mut group,
            format!("{}/baseline", case.name),
            baseline,
            statement("g"),
        );
        group.throughput(Throughput::Elements(ROWS * CALLS as u64));
        for (variant, template) in case.variants {
            let id = BenchmarkId::new(*variant, ROWS * CALLS as u64);
            let key = format!("{}/{variant}", case.name);
            measure(&mut group, key, id, statement(&nested(template)));
        }
        group.finish();
    }
    medians
}

fn report(medians: &BTreeMap<String, Duration>) {
    // `cargo bench` passes --bench; `cargo test --benches` does not, and criterion then runs
    // every variant once to prove it works.
    if !std::env::args().any(|a| a == "--bench") {
        println!("\nper_call: smoke run (each variant ran once); `cargo bench` measures");
        return;
    }
    let calls = (ROWS * CALLS as u64) as f64;
    println!(
        "\nper_call: ns per call, median minus baseline, {ROWS} rows x {CALLS} calls per statement"
    );
    for case in CASES {
        let get = |v: &str| {
            medians
                .get(&format!("{}/{v}", case.name))
                .map(Duration::as_nanos)
        };
        let Some(base) = get("baseline") else {
            continue;
        };
        let ns = |v: &str| get(v).map(|t| t.saturating_sub(base) as f64 / calls);
        let cells: Vec<String> = case
            .variants
            .iter()
            .map(|(v, _)| ns(v).map_or(format!("{v} -"), |x| format!("{v} {x:.2}")))
            .collect();
        let ratio = match (ns("rust"), ns("c")) {
            (Some(r), Some(c)) if c > 0.0 => format!("{:.3}", r / c),
            _ => "-".into(),
        };
        println!("  {:<16} {}   Rust/C {ratio}", case.name, cells.join("  "));
    }
}

fn main() {
    let mut client = common::bench_client();
    let mut criterion = Criterion::default().configure_from_args();
    let medians = per_call(&mut criterion, &mut client);
    criterion.final_summary();
    report(&medians);
}
