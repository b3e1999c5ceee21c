//! aggregates: what one row costs an aggregate, `mean(double precision)` of chapter 20 (Rust
//! with pgrx's `Aggregate` trait, its fast twin in schema `xfunc_fast`, C) against the built-in
//! `avg(double precision)`, over ROWS rows of a table.
//!
//! A measurement is one statement, `SELECT <aggregate>(x) FROM agg_input`, on a table of ROWS
//! `double precision` values made once, before the first measurement, and read from shared
//! buffers (the table is scanned once first). Parallel query is off (bench_client sets
//! `max_parallel_workers_per_gather = 0`): one backend runs every transition call, so the
//! statement's time is the scan's plus ROWS transition calls plus one final call. The baseline is
//! the same scan with `count(*)`, whose transition function adds one to an int8; `ns per row`
//! is (median(variant) - median(baseline)) / ROWS: the cost of our transition call over
//! count's. Throughput is declared in rows, so criterion reports rows per second.

use xfunc_test_support::bench as common;

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use serde_json::json;

/// Rows in the table under `cargo bench`.
const ROWS: u64 = 10_000_000;
/// Rows of the statements tools/bench/bench_callgrind.py counts instructions of (a smaller
/// table, since callgrind runs about a hundred times slower).
const CALLGRIND_ROWS: u64 = 100_000;

/// Rows: ROWS under `cargo bench`, a handful in smoke mode (`cargo test --benches`).
fn rows() -> u64 {
    if common::measuring() {
        ROWS
    } else {
        10
    }
}

// ANCHOR: variants
/// The variants of one group: the `BenchmarkId` and the aggregate call.
const VARIANTS: &[(&str, &str)] = &[
    ("rust", "rust.mean(x)"),
    ("fast", "xfunc_fast.mean(x)"),
    ("c", "c.mean(x)"),
    ("builtin", "avg(x)"),
];
// ANCHOR_END: variants

/// Makes `table` with `rows` values: whole and fractional, positive and negative, so that every
/// branch of the transition function's arithmetic that a finite input takes is taken.
fn make_table(client: &mut postgres::Client, table: &str, rows: u64) {
    // One statement each: VACUUM cannot run in the implicit transaction of a batch.
    for sql in [
        format!("DROP TABLE IF EXISTS {table}"),
        format!(
            "CREATE TABLE {table} AS SELECT ((i::int8 * 7919) % 100003 - 50000)::float8 / 8 AS x \
               FROM generate_series(1, {rows}) i"
        ),
        format!("VACUUM (FREEZE, ANALYZE) {table}"),
    ] {
        client
            .batch_execute(&sql)
            .unwrap_or_else(|e| common::stop(&format!("making {table}: {}", common::db_error(&e))));
    }
}

/// The same answer from every variant, or the bench stops: a faster wrong aggregate is no
/// result.
fn check_answers(client: &mut postgres::Client) {
    let calls: Vec<String> = VARIANTS
        .iter()
        .map(|(_, call)| format!("float8send({call})"))
        .collect();
    let sql = format!("SELECT {} FROM agg_input", calls.join(", "));
    let row = client
        .query_one(&sql, &[])
        .unwrap_or_else(|e| common::stop(&format!("{sql}: {}", common::db_error(&e))));
    let first: Vec<u8> = row.get(0);
    for (i, (variant, _)) in VARIANTS.iter().enumerate() {
        let bits: Vec<u8> = row.get(i);
        if bits != first {
            common::stop(&format!("{variant} gives another answer than rust: {sql}"));
        }
    }
}

fn aggregates(c: &mut Criterion, client: &mut postgres::Client, record: &mut common::RunRecord) {
    for (variant, _) in VARIANTS {
        let schema = match *variant {
            "rust" => "rust",
            "fast" => "xfunc_fast",
            "c" => "c",
            _ => continue,
        };
        if common::find_function(client, schema, "float_mean_state", &["internal", "float8"])
            .is_none()
        {
            record.skip(
                &format!("aggregates/mean_float8/{variant}"),
                &format!("{schema}.mean(double precision) is not in the bench database"),
            );
            return;
        }
    }
    make_table(client, "agg_input", rows());
    make_table(client, "agg_input_callgrind", CALLGRIND_ROWS);
    check_answers(client);
    let statement = |call: &str, table: &str| format!("SELECT {call} FROM {table}");

    let name = "aggregates/mean_float8";
    record.group(name);
    let mut group = c.benchmark_group(name);
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(rows()));
    let mut callgrind = serde_json::Map::new();
    for (variant, call) in [("baseline", "count(*)")].iter().chain(VARIANTS) {
        let sql = statement(call, "agg_input");
        common::time_query(client, &sql); // the table into shared buffers, the plan cached
        common::bench_statement(&mut group, BenchmarkId::new(*variant, rows()), client, &sql);
        let mut entry =
            json!({"sql": statement(call, "agg_input_callgrind"), "calls": CALLGRIND_ROWS});
        if *variant != "baseline" {
            // What bench_callgrind.py subtracts: the statement without the aggregate.
            entry["baseline"] = format!("{name}/baseline").into();
        }
        callgrind.insert(format!("{name}/{variant}"), entry);
    }
    group.finish();
    record.param("callgrind_statements", callgrind.into());
}

fn main() {
    let mut client = common::bench_client();
    let mut record = common::RunRecord::new("aggregates");
    record.param("rows", rows().into());
    let mut criterion = common::criterion(10, Duration::from_secs(2), Duration::from_secs(10));
    aggregates(&mut criterion, &mut client, &mut record);
    criterion.final_summary();
    record.write(&mut client);
}
