//! varlena: copying a variable-length value, Rust (`xfunc`, and its fast variants of the chapter "Rust at the Speed of C"
//! in schema `xfunc_fast`) against C (`xfunc_c`) against the built-in `||`, at 16 B, 1 KiB, 64 KiB and 1 MiB, as bytes per second; and a plain memcpy of
//! the same sizes in this process, the physical limit.
//!
//! The value is made once per statement, by `repeat('x', n)` in a MATERIALIZED CTE, so it sits
//! in memory, untoasted, and every call reads the same datum: what is measured is the copy,
//! not generating or detoasting the value. Two ways to call the functions:
//!
//! - `varlena/<case>`: through the executor. A statement evaluates CALLS independent calls per
//!   row (collected by one `num_nonnulls`) for ROWS rows, ROWS chosen so that a statement
//!   copies about TOTAL bytes; the baseline is the same statement with the bare value in place
//!   of each call.
//! - `varlena_loop/<case>`: in the backend without the executor's plan nodes. A PL/pgSQL loop
//!   evaluates `IF <call> IS NULL` LOOPS times; PL/pgSQL evaluates such a simple expression
//!   directly (ExecEvalExpr, no plan, no portal), and the result is never copied again. The
//!   baseline is the same loop on the bare value.
//!
//! (cargo pgrx bench, which would run a #[pg_bench] function in the backend, needs to start a
//! cluster of its own as the current user, and cannot when that user is root.)

use xfunc_test_support::bench as common;

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};

/// Value sizes, bytes.
const SIZES: &[u64] = &[16, 1 << 10, 64 << 10, 1 << 20];
/// Calls per row (executor) and the bytes one statement or loop copies, at most.
const CALLS: u64 = 8;
const TOTAL: u64 = 64 << 20;
/// Rows per statement and iterations per loop are capped, for the small sizes.
const MAX_ROWS: u64 = 100_000;
const MAX_LOOPS: u64 = 200_000;

/// A copying function and its built-in counterpart. In a template, `{t}` is the value of the
/// size being measured; `{a}` and `{b}` are its two halves, so that `a || b` has that size.
struct Case {
    name: &'static str,
    function: (&'static str, &'static [&'static str]),
    variants: &'static [(&'static str, &'static str)],
}

// ANCHOR: cases
const CASES: &[Case] = &[
    Case {
        name: "copytext",
        function: ("copytext", &["text"]),
        variants: &[
            ("rust", "rust.copytext({t})"),
            ("rust_fast", "xfunc_fast.copytext({t})"),
            ("c", "c.copytext({t})"),
            ("builtin", "({t} || '')"),
        ],
    },
    Case {
        name: "concat_text",
        function: ("concat_text", &["text", "text"]),
        variants: &[
            ("rust", "rust.concat_text({a}, {b})"),
            ("rust_fast", "xfunc_fast.concat_text({a}, {b})"),
            ("c", "c.concat_text({a}, {b})"),
            ("builtin", "({a} || {b})"),
        ],
    },
];
// ANCHOR_END: cases

/// In smoke mode (`cargo test --benches`) every statement is kept tiny.
fn rows(size: u64) -> u64 {
    if !common::measuring() {
        return 1;
    }
    (TOTAL / (size * CALLS)).clamp(1, MAX_ROWS)
}

fn loops(size: u64) -> u64 {
    if !common::measuring() {
        return 1;
    }
    (TOTAL / size).clamp(1, MAX_LOOPS)
}

fn fill(template: &str, t: &str, a: &str, b: &str) -> String {
    template
        .replace("{t}", t)
        .replace("{a}", a)
        .replace("{b}", b)
}

/// The executor statement: CALLS evaluations of `call` per row, on the CTE's value.
fn statement(call: &str, size: u64) -> String {
    let calls = vec![fill(call, "t", "a", "b"); CALLS as usize].join(", ");
    format!(
        "WITH v AS MATERIALIZED (SELECT repeat('x', {size}) AS t, repeat('x', {half}) AS a, \
         repeat('x', {rest}) AS b) \
         SELECT count(num_nonnulls({calls})) \
         FROM (SELECT generate_series(1, {rows}) AS g, t, a, b FROM v) AS rows",
        half = size / 2,
        rest = size - size / 2,
        rows = rows(size),
    )
}

/// A PL/pgSQL function that evaluates `call` n times on its arguments.
fn loop_function(name: &str, call: &str) -> String {
    format!(
        "CREATE FUNCTION loops.{name}(t text, a text, b text, n bigint) RETURNS void
         LANGUAGE plpgsql AS $$
         BEGIN
             FOR i IN 1..n LOOP
                 IF {call} IS NULL THEN RAISE EXCEPTION 'unexpected NULL'; END IF;
             END LOOP;
         END $$",
        call = fill(call, "t", "a", "b"),
    )
}

fn loop_statement(name: &str, size: u64) -> String {
    format!(
        "SELECT loops.{name}(repeat('x', {size}), repeat('x', {half}), repeat('x', {rest}), {n})",
        half = size / 2,
        rest = size - size / 2,
        n = loops(size),
    )
}

fn group<'a>(
    c: &'a mut Criterion,
    record: &mut common::RunRecord,
    name: &str,
) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
    record.group(name);
    let mut group = c.benchmark_group(name);
    group.sampling_mode(SamplingMode::Flat);
    group
}

fn varlena(c: &mut Criterion, client: &mut postgres::Client, record: &mut common::RunRecord) {
    client
        .batch_execute("CREATE SCHEMA loops")
        .unwrap_or_else(|e| common::stop(&common::db_error(&e)));
    for case in CASES {
        let (fname, args) = case.function;
        let signature = format!("{fname}({})", args.join(", "));
        let missing: Vec<&str> = common::VARIANT_SCHEMAS
            .iter()
            .filter(|(_, schema)| common::find_function(client, schema, fname, args).is_none())
            .map(|&(variant, _)| variant)
            .collect();
        if missing.len() == common::VARIANT_SCHEMAS.len() {
            let why = format!("{signature} is in none of the schemas of the bench database");
            record.skip(&format!("varlena/{}", case.name), &why);
            continue;
        }
        let mut variants = vec![("baseline", "{t}")];
        for (variant, template) in case.variants {
            if missing.contains(variant) {
                let what = format!("varlena/{}/{variant}", case.name);
                record.skip(
                    &what,
                    &format!("{variant}.{signature} is not in the bench database"),
                );
            } else {
                variants.push((variant, template));
            }
        }
        for (variant, template) in &variants {
            let sql = loop_function(&format!("{}_{variant}", case.name), template);
            client
                .batch_execute(&sql)
                .unwrap_or_else(|e| common::stop(&format!("{sql}: {}", common::db_error(&e))));
        }

        let mut g = group(c, record, &format!("varlena/{}", case.name));
        for &size in SIZES {
            g.throughput(Throughput::Bytes(size * CALLS * rows(size)));
            for (variant, template) in &variants {
                let sql = statement(template, size);
                common::bench_statement(&mut g, BenchmarkId::new(*variant, size), client, &sql);
            }
        }
        g.finish();

        let mut g = group(c, record, &format!("varlena_loop/{}", case.name));
        for &size in SIZES {
            g.throughput(Throughput::Bytes(size * loops(size)));
            for (variant, _) in &variants {
                let sql = loop_statement(&format!("{}_{variant}", case.name), size);
                common::bench_statement(&mut g, BenchmarkId::new(*variant, size), client, &sql);
            }
        }
        g.finish();
    }
}

/// The physical limit: copying the same sizes with memcpy in this process, into a buffer
/// allocated once.
fn memcpy(c: &mut Criterion, record: &mut common::RunRecord) {
    let mut g = group(c, record, "varlena/memcpy");
    let largest = *SIZES.iter().max().unwrap_or(&0) as usize;
    let source = vec![b'x'; largest];
    let mut dest = vec![0u8; largest];
    for &size in SIZES {
        let n = size as usize;
        g.throughput(Throughput::Bytes(size));
        g.bench_function(BenchmarkId::new("memcpy", size), |b| {
            b.iter(|| {
                dest[..n].copy_from_slice(black_box(&source[..n]));
                black_box(&mut dest);
            })
        });
    }
    g.finish();
}

fn main() {
    let mut client = common::bench_client();
    let mut record = common::RunRecord::new("varlena");
    record.param("calls_per_row", CALLS.into());
    let sizes: serde_json::Map<String, serde_json::Value> = SIZES
        .iter()
        .map(|&s| {
            (
                s.to_string(),
                serde_json::json!({"rows": rows(s), "loops": loops(s)}),
            )
        })
        .collect();
    record.param("sizes", sizes.into());
    let mut criterion = common::criterion(20, Duration::from_secs(1), Duration::from_secs(4));
    varlena(&mut criterion, &mut client, &mut record);
    memcpy(&mut criterion, &mut record);
    criterion.final_summary();
    record.write(&mut client);
}
