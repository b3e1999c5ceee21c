//! per_call: what one call of an example function costs, Rust (`xfunc`) against C (`xfunc_c`)
//! against the closest built-in, all in one run on the local cluster.
//!
//! A measurement is one statement that evaluates an expression for each of ROWS rows; the
//! expression makes CALLS calls of the function, so the client round trip and the executor's
//! per-row work are paid once per CALLS calls. The same statement without the calls (the
//! baseline: the bare argument, in the same shape) is measured in the same group, and
//! `ns per call` is (median(variant) - median(baseline)) / (ROWS * CALLS). Rows come from a
//! `generate_series` in the select list (a ProjectSet, streamed; in FROM it would be
//! materialized first). jit is off in the cluster and in the session.
//!
//! A case whose function is not in the bench database (its chapter is not built yet) skips
//! itself with one line; tools/bench/bench_report.py turns the results into the book's benchmarks chapter.

use xfunc_test_support::bench as common;

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use serde_json::json;

/// Rows per statement.
const ROWS: u64 = 1_000_000;
/// Calls per row.
const CALLS: usize = 8;

/// Rows per statement when tools/bench/bench_callgrind.py counts instructions (100x slower).
const CALLGRIND_ROWS: u64 = 100_000;

/// Rows per statement: ROWS under `cargo bench`, a handful in smoke mode (`cargo test --benches`).
fn rows() -> u64 {
    if common::measuring() {
        ROWS
    } else {
        10
    }
}

/// How the calls of one row are strung together.
enum Shape {
    /// Each call's result is the next call's argument: f(f(...f(arg)...)), CALLS deep.
    Nest,
    /// CALLS independent calls on the same argument, collected by one `num_nonnulls(...)`
    /// (PostgreSQL does not merge equal subexpressions, so each one is evaluated).
    Spread,
    /// A set-returning function in the select list, one call per row it returns: `{rows}` in
    /// the template is ROWS.
    Set,
}

/// One example: the function (name and pg_type names of its arguments, looked up in schemas
/// `rust`, `c` and `xfunc_fast`), the first call's argument, and how to call it, `{}` being the
/// argument. The variants are `rust` (the ordinary `#[pg_extern]` function), `rust_fast` (its
/// fast twin (book chapter "Rust at the Speed of C"), in schema `xfunc_fast`), `c` and `builtin`.
/// `{emp}` stands for a constant `emp` row of the type the variant's function takes.
struct Case {
    name: &'static str,
    function: (&'static str, &'static [&'static str]),
    arg: &'static str,
    shape: Shape,
    variants: &'static [(&'static str, &'static str)],
}

// ANCHOR: cases
// ANCHOR: cases_head
const CASES: &[Case] = &[
    Case {
        name: "add_one_int4",
        function: ("add_one", &["int4"]),
        arg: "g",
        shape: Shape::Nest,
        variants: &[
            ("rust", "rust.add_one({})"),
            ("rust_fast", "xfunc_fast.add_one({})"),
            ("c", "c.add_one({})"),
            ("builtin", "({} + 1)"),
        ],
    },
    Case {
        name: "add_one_float8",
        function: ("add_one", &["float8"]),
        arg: "g::float8",
        shape: Shape::Nest,
        variants: &[
            ("rust", "rust.add_one({})"),
            ("rust_fast", "xfunc_fast.add_one({})"),
            ("c", "c.add_one({})"),
            ("builtin", "({} + float8 '1')"),
        ],
    },
    // ANCHOR_END: cases_head
    Case {
        name: "makepoint",
        function: ("makepoint", &["point", "point"]),
        arg: "point(g, g)",
        shape: Shape::Nest,
        variants: &[
            ("rust", "rust.makepoint({}, point '(1,2)')"),
            ("rust_fast", "xfunc_fast.makepoint({}, point '(1,2)')"),
            ("c", "c.makepoint({}, point '(1,2)')"),
            ("builtin", "point(({})[0], float8 '2')"),
        ],
    },
    // Small varlena values, for their instruction counts (benches/varlena.rs times the sizes).
    Case {
        name: "copytext",
        function: ("copytext", &["text"]),
        arg: "g::text",
        shape: Shape::Nest,
        variants: &[
            ("rust", "rust.copytext({})"),
            ("rust_fast", "xfunc_fast.copytext({})"),
            ("c", "c.copytext({})"),
            ("builtin", "({} || '')"),
        ],
    },
    Case {
        name: "concat_text",
        function: ("concat_text", &["text", "text"]),
        arg: "g::text",
        shape: Shape::Nest,
        variants: &[
            ("rust", "rust.concat_text({}, 'x')"),
            ("rust_fast", "xfunc_fast.concat_text({}, 'x')"),
            ("c", "c.concat_text({}, 'x')"),
            ("builtin", "({} || 'x')"),
        ],
    },
    Case {
        name: "c_overpaid",
        function: ("c_overpaid", &["emp", "int4"]),
        arg: "g",
        shape: Shape::Spread,
        variants: &[
            ("rust", "rust.c_overpaid({emp}, {})"),
            ("c", "c.c_overpaid({emp}, {})"),
            ("builtin", "(({emp}).salary > {})"),
        ],
    },
    Case {
        name: "retcomposite",
        function: ("retcomposite", &["int4", "int4"]),
        arg: "g",
        shape: Shape::Set,
        variants: &[
            ("rust", "rust.retcomposite({rows}, 3)"),
            ("c", "c.retcomposite({rows}, 3)"),
            ("builtin", "ROW(generate_series(1, {rows}), 6, 9)"),
        ],
    },
    // The uncontended cost of an LWLock: shared_counter_add takes the counter's lock
    // exclusively, adds, and releases it; the built-in does the same addition with no lock.
    Case {
        name: "shared_counter_add",
        function: ("shared_counter_add", &["int8"]),
        arg: "g::int8",
        shape: Shape::Spread,
        variants: &[
            ("rust", "rust.shared_counter_add({})"),
            ("rust_fast", "xfunc_fast.shared_counter_add({})"),
            ("c", "c.shared_counter_add({})"),
            ("builtin", "(g::int8 + {})"),
        ],
    },
    Case {
        name: "make_array",
        function: ("make_array", &["anyelement"]),
        arg: "g",
        shape: Shape::Spread,
        variants: &[
            ("rust", "rust.make_array({})"),
            ("rust_fast", "xfunc_fast.make_array({})"),
            ("c", "c.make_array({})"),
            ("builtin", "ARRAY[{}]"),
        ],
    },
    // ANCHOR: exercise_add_points
    // The benchmarks chapter's exercise: chapter 2's exercise, add_points, against the built-in `+`.
    Case {
        name: "add_points",
        function: ("add_points", &["point", "point"]),
        arg: "point(g, g)",
        shape: Shape::Nest,
        variants: &[
            ("rust", "rust.add_points({}, point '(1,2)')"),
            ("c", "c.add_points({}, point '(1,2)')"),
            ("builtin", "({} + point '(1,2)')"),
        ],
    },
    // ANCHOR_END: exercise_add_points
];
/// The `emp` row the `{emp}` of c_overpaid stands for: a value for each column, by name.
const EMP: &[(&str, &str)] = &[
    ("name", "Sam"),
    ("salary", "1000"),
    ("age", "30"),
    ("cubicle", "(1,1)"),
];
// ANCHOR_END: cases

impl Case {
    /// The expression a row evaluates: CALLS calls of `template` on the case's argument (for a
    /// set-returning function: the call that returns `rows` rows).
    fn expression(&self, template: &str, rows: u64) -> String {
        let once = |inner: &str| template.replace("{}", inner);
        match self.shape {
            Shape::Nest => (0..CALLS).fold(self.arg.to_string(), |inner, _| once(&inner)),
            Shape::Spread => {
                let calls = vec![once(self.arg); CALLS];
                format!("num_nonnulls({})", calls.join(", "))
            }
            Shape::Set => template.replace("{rows}", &rows.to_string()),
        }
    }

    /// Function calls in a statement of `rows` rows.
    fn calls(&self, rows: u64) -> u64 {
        match self.shape {
            Shape::Nest | Shape::Spread => rows * CALLS as u64,
            Shape::Set => rows,
        }
    }

    /// The statement that calls `template` on `rows` rows.
    fn statement(&self, template: &str, rows: u64) -> String {
        let expr = self.expression(template, rows);
        match self.shape {
            Shape::Set => format!("SELECT count(r) FROM (SELECT {expr} AS r) AS rows"),
            _ => format!(
                "SELECT count({expr}) FROM (SELECT generate_series(1, {rows}) AS g) AS rows"
            ),
        }
    }

    /// The same statement without the function: the bare argument, in the same shape.
    fn baseline(&self, rows: u64) -> String {
        match self.shape {
            Shape::Set => self.statement("generate_series(1, {rows})", rows),
            _ => self.statement("{}", rows),
        }
    }
}

/// An `emp` literal of `function`'s argument of that type, columns filled in from EMP by name.
fn emp_literal(function: &common::Function) -> Option<String> {
    let i = function
        .arg_types
        .iter()
        .position(|t| t == "emp" || t.ends_with(".emp"))?;
    let fields: Vec<String> = function.arg_columns[i]
        .iter()
        .map(|col| match EMP.iter().find(|(name, _)| name == col) {
            Some((_, value)) => format!("\"{value}\""),
            None => String::new(), // NULL: a column this table does not know
        })
        .collect();
    Some(format!(
        "'({})'::{}",
        fields.join(","),
        function.arg_types[i]
    ))
}

/// Measures the baseline and every variant of every case whose function exists.
fn per_call(c: &mut Criterion, client: &mut postgres::Client, record: &mut common::RunRecord) {
    let mut callgrind = serde_json::Map::new();
    for case in CASES {
        let (fname, args) = case.function;
        let found: Vec<(&str, Option<common::Function>)> = common::VARIANT_SCHEMAS
            .iter()
            .map(|&(variant, schema)| {
                let function = common::find_function(client, schema, fname, args);
                (variant, function)
            })
            .collect();
        let signature = format!("{fname}({})", args.join(", "));
        let missing: Vec<&str> = found
            .iter()
            .filter(|(_, f)| f.is_none())
            .map(|(s, _)| *s)
            .collect();
        if missing.len() == found.len() {
            let why = format!("{signature} is in none of the schemas of the bench database");
            record.skip(&format!("per_call/{}", case.name), &why);
            continue;
        }
        let mut runnable = Vec::new();
        for (variant, template) in case.variants {
            // A built-in takes `{emp}` from whichever twin is there.
            let function = match found.iter().find(|(s, _)| s == variant) {
                Some((_, f)) => f.as_ref(),
                None => found.iter().find_map(|(_, f)| f.as_ref()),
            };
            let what = format!("per_call/{}/{variant}", case.name);
            let Some(function) = function else {
                record.skip(
                    &what,
                    &format!("{variant}.{signature} is not in the bench database"),
                );
                continue;
            };
            let mut template = template.to_string();
            if template.contains("{emp}") {
                match emp_literal(function) {
                    Some(emp) => template = template.replace("{emp}", &emp),
                    None => {
                        record.skip(&what, &format!("{signature} takes no emp argument"));
                        continue;
                    }
                }
            }
            runnable.push((*variant, template));
        }
        if !runnable.iter().any(|(v, _)| *v == "rust" || *v == "c") {
            continue;
        }
        let name = format!("per_call/{}", case.name);
        record.group(&name);
        let mut group = c.benchmark_group(&name);
        group.sampling_mode(SamplingMode::Flat);
        group.throughput(Throughput::Elements(rows()));
        let id = BenchmarkId::new("baseline", rows());
        common::bench_statement(&mut group, id, client, &case.baseline(rows()));
        callgrind.insert(
            format!("{name}/baseline"),
            json!({"sql": case.baseline(CALLGRIND_ROWS), "calls": case.calls(CALLGRIND_ROWS)}),
        );
        group.throughput(Throughput::Elements(case.calls(rows())));
        for (variant, template) in &runnable {
            let id = BenchmarkId::new(*variant, case.calls(rows()));
            common::bench_statement(&mut group, id, client, &case.statement(template, rows()));
            callgrind.insert(
                format!("{name}/{variant}"),
                json!({
                    "sql": case.statement(template, CALLGRIND_ROWS),
                    "calls": case.calls(CALLGRIND_ROWS),
                }),
            );
        }
        group.finish();
    }
    record.param("callgrind_statements", callgrind.into());
}

fn main() {
    let mut client = common::bench_client();
    let mut record = common::RunRecord::new("per_call");
    record.param("rows", rows().into());
    record.param("calls_per_row", CALLS.into());
    let mut criterion = common::criterion(30, Duration::from_secs(1), Duration::from_secs(6));
    per_call(&mut criterion, &mut client, &mut record);
    criterion.final_summary();
    record.write(&mut client);
    if common::measuring() {
        // The ns per call and the Rust/C ratio of this run, as the benchmarks chapter will show them.
        let report = std::process::Command::new("python3")
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tools/bench/bench_report.py"
            ))
            .args(["--print", "per_call"])
            .status();
        if !matches!(report, Ok(s) if s.success()) {
            println!("per_call: tools/bench/bench_report.py could not summarise this run");
        }
        println!(
            "per_call: `just bench-report` turns these results into the book's benchmarks chapter"
        );
    } else {
        println!("per_call: smoke run (each variant ran once); `cargo bench` measures");
    }
}
