//! Calls written by hand, for the functions the default shapes (calls.rs) cannot call well:
//! a column definition list for a `record` result, a set whose size an argument gives, an
//! argument whose values matter only around another's, the shared log, whose calls must
//! read back what they wrote, and the functions SQL cannot call, reached through what calls
//! them: a receive function (its argument is an `internal`) through a binary COPY, a planner
//! support function through the planner, an aggregate's support functions, which take
//! `internal`, through the executor, and trigger functions through DML. Every other function is
//! called by its argument types alone.

use crate::args::{self, Ctx};
use crate::calls::{Arg, Call, Place};
use crate::catalog::Function;
use crate::rng::Rng;
use crate::values::{self, quote};

/// A hand-written call shape for the functions of one name (all their signatures).
pub struct Shape {
    pub function: &'static str,
    pub call: fn(&mut Ctx<'_>, &Function) -> Call,
}

pub const SHAPES: &[Shape] = &[
    Shape {
        function: "split_pair",
        call: split_pair,
    },
    Shape {
        function: "retcomposite",
        call: counted_set,
    },
    Shape {
        function: "retcomposite_out",
        call: counted_set,
    },
    Shape {
        function: "multiples",
        call: counted_set,
    },
    Shape {
        function: "text_prefix",
        call: prefix,
    },
    Shape {
        function: "bytes_prefix",
        call: prefix,
    },
    Shape {
        function: "xfunc_log",
        call: log,
    },
    Shape {
        function: "shared_counter_add_cycles",
        call: cycles,
    },
    Shape {
        function: "shared_counter_value_cycles",
        call: cycles,
    },
    Shape {
        function: "shared_counter_mix_cycles",
        call: cycles,
    },
    Shape {
        function: "shared_counter_bump_atomic_cycles",
        call: cycles,
    },
    Shape {
        function: "shared_counter_bump_spinlock_cycles",
        call: cycles,
    },
    Shape {
        function: "xfunc_log_tail",
        call: log_tail,
    },
    Shape {
        function: "complex_recv",
        call: binary_field,
    },
    Shape {
        function: "multiples_support",
        call: planner_support,
    },
    Shape {
        function: "mean",
        call: mean_of_values,
    },
    Shape {
        function: "float_mean_state",
        call: mean_of_values,
    },
    Shape {
        function: "float_mean_finalize",
        call: mean_of_values,
    },
    Shape {
        function: "float_mean_combine",
        call: mean_in_parallel,
    },
    Shape {
        function: "float_mean_serial",
        call: mean_in_parallel,
    },
    Shape {
        function: "float_mean_deserial",
        call: mean_in_parallel,
    },
    Shape {
        function: "trigf",
        call: trigf_dml,
    },
    Shape {
        function: "row_version",
        call: row_version_dml,
    },
];

pub fn find(name: &str) -> Option<&'static Shape> {
    SHAPES.iter().find(|s| s.function == name)
}

/// The functions that write the shared log: each build's file is rotated every 500 calls, so
/// that a long run does not fill the disk.
pub const WRITES_LOG: &[&str] = &["xfunc_log"];

/// The functions only a parallel plan calls (mean_in_parallel): each call starts worker
/// processes, tens of milliseconds, so they get a tenth as many calls.
pub const PARALLEL: &[&str] = &[
    "float_mean_combine",
    "float_mean_serial",
    "float_mean_deserial",
];

/// Settings under which a parallel plan is the cheapest (the test's sessions otherwise run with
/// max_parallel_workers_per_gather = 0).
const PARALLEL_SETTINGS: &str = "SET LOCAL parallel_setup_cost = 0; \
    SET LOCAL parallel_tuple_cost = 0; SET LOCAL min_parallel_table_scan_size = 0; \
    SET LOCAL max_parallel_workers_per_gather = 2; ";

/// `split_pair(text) RETURNS record`: in FROM with a column definition list of any shape
/// (the function must check it), or, now and then, in the select list, where the caller gives
/// no column types.
fn split_pair(cx: &mut Ctx<'_>, f: &Function) -> Call {
    let arg = values::text(cx.rng, cx.enc);
    let columns = match cx.rng.below(12) {
        0 => "key text".to_owned(),
        1 => "key text, value text, more text".to_owned(),
        _ => {
            let ty = cx.rng.pick(&[
                "text",
                "text",
                "integer",
                "bigint",
                "boolean",
                "bytea",
                "numeric",
                "point",
                "float8",
                "name",
                "varchar(2)",
                "posint",
                "mood",
                "jsonb",
            ]);
            format!("key text, value {ty}")
        }
    };
    let place = if cx.rng.one_in(10) {
        Place::Select
    } else {
        Place::From(format!("t({columns})"))
    };
    Call::new(f.sql_name(), vec![arg], place)
}

/// `(count integer, base integer)` set-returning functions: counts around 0, the 200 rows the
/// comparison reads, and the int4 extremes, in the select list (which reads 200 rows of
/// them); in FROM, which materializes every row, at most 1000.
fn counted_set(cx: &mut Ctx<'_>, f: &Function) -> Call {
    let rng = &mut *cx.rng;
    let count = match rng.below(4) {
        0 => values::int4(rng),
        1 => format!(
            "'{}'::integer",
            rng.pick(&[0, 1, 2, 199, 200, 201, i32::MAX, -1, i32::MIN])
        ),
        _ => format!("'{}'::integer", rng.below(30)),
    };
    let count = if rng.one_in(12) {
        "NULL::integer".into()
    } else {
        count
    };
    let base = Arg::Expr(values::nullable(rng, "integer", values::int4));
    if rng.one_in(3) && !count.contains("2147483647") {
        let count = Arg::Expr(format!("least({count}, 1000)"));
        Call::new(f.sql_name(), vec![count, base], Place::From("t".into()))
    } else {
        Call::new(f.sql_name(), vec![Arg::Expr(count), base], Place::Select)
    }
}

/// `shared_counter_*_cycles(cycles bigint)`: the contention benchmark's loops. A count from the
/// bigint generator would run for years; these are the counts around 0 and the negative
/// extremes, and up to a thousand cycles (the statement timeout's stop is in the regress test).
fn cycles(cx: &mut Ctx<'_>, f: &Function) -> Call {
    let rng = &mut *cx.rng;
    let n = match rng.below(8) {
        0 => format!(
            "'{}'::bigint",
            rng.pick(&[i64::MIN, i64::MIN + 1, -1, 0, 1, 7, 8, 9])
        ),
        1 => "NULL::bigint".to_owned(),
        2 => format!("'{}'::bigint", rng.below(1001)),
        _ => format!("'{}'::bigint", rng.below(20) as i64 - 2),
    };
    Call::new(f.sql_name(), vec![Arg::Expr(n)], Place::Select)
}

/// `text_prefix(text, n)`, `bytes_prefix(bytea, n)`: the value by its type; the length around
/// 0, the value's own length, the slice limits, the multiplication by the encoding's maximum
/// character length, and the int4 extremes.
fn prefix(cx: &mut Ctx<'_>, f: &Function) -> Call {
    let mut args = args::generate(cx, &f.args[..1], 0);
    let rng = &mut *cx.rng;
    let n: i64 = match rng.below(6) {
        0 => rng.pick(&[
            0,
            1,
            2,
            3,
            -1,
            i32::MIN as i64,
            i32::MAX as i64,
            536_870_911,
            536_870_912,
            1_073_741_823,
            1_073_741_824,
            1995,
            1996,
            1997,
            1998,
            2000,
            4000,
            8000,
            100_000,
            1_000_000,
            2_000_000,
            2_100_000,
        ]),
        1 => rng.next() as i32 as i64,
        2 => rng.below(3_000_000) as i64,
        _ => rng.below(70) as i64 - 2,
    };
    args.push(Arg::Expr(format!("'{n}'::integer")));
    Call::new(f.sql_name(), args, Place::Select)
}

// The shared log: each build writes its own scratch file (log_files.rs), and gets the same
// calls in the same order. Lines are compared without their timestamp and pid.

/// `xfunc_log(text)`: messages of up to 100,000 characters: xfunc_log_tail reads the lines
/// back, and each call would read megabytes.
fn log(cx: &mut Ctx<'_>, f: &Function) -> Call {
    let message = values::text_up_to(cx.rng, cx.enc, 100_000);
    Call::new(f.sql_name(), vec![message], Place::Select)
}

/// `xfunc_log_tail(lines integer DEFAULT 10)`: around its limit of 1000 lines, and its lines
/// without what differs between the builds (time and pid).
fn log_tail(cx: &mut Ctx<'_>, f: &Function) -> Call {
    let rng = &mut *cx.rng;
    let args = match rng.below(6) {
        0 => vec![],
        1 => vec![values::int4(rng)],
        2 => vec![format!(
            "'{}'::integer",
            rng.pick(&[0, 1, 999, 1000, 1001, -1])
        )],
        _ => vec![format!("'{}'::integer", rng.below(30))],
    };
    let args = args.into_iter().map(Arg::Expr).collect();
    let mut call = Call::new(f.sql_name(), args, Place::From("l".into()));
    call.select = r"regexp_replace(l, '^\S+ \d+ ', '')".into();
    call
}

/// `complex_recv(internal)`, the receive function of the type `complex`: SQL has no value of type
/// `internal` to pass it, so the call is a binary `COPY` of one field of random bytes into a
/// `complex` column (`complex_via_copy`, made in every database by db.rs), which hands the
/// bytes to it in a `StringInfo`.
fn binary_field(cx: &mut Ctx<'_>, _f: &Function) -> Call {
    let field = values::complex_field(cx.rng);
    Call::new("complex_via_copy", vec![Arg::Expr(field)], Place::Select)
}

// Chapter 16's planner support function: only the planner calls it (no SQL expression has type
// internal), so it is called through EXPLAIN of a call of multiples, and the two builds'
// estimates are compared.

/// `multiples_support(internal)`: `plan_estimate` (db.rs) of a query calling `multiples`, whose
/// count is a constant, an expression the planner folds, NULL, negative or the int4 extremes,
/// or not known before execution; in the select list, in FROM, in a join and laterally.
fn planner_support(cx: &mut Ctx<'_>, _: &Function) -> Call {
    let rng = &mut *cx.rng;
    let count = match rng.below(8) {
        0 => "NULL".to_owned(),
        1 => format!("{} + {}", rng.below(100), rng.below(100)),
        2 => "(random() * 10)::integer".to_owned(),
        3 => format!("length({})", quote(&"x".repeat(rng.below(40) as usize))),
        4 => format!("'{}'::integer", rng.pick(&[0, -1, i32::MIN, i32::MAX, 1])),
        _ => rng.below(100_000).to_string(),
    };
    let base = values::nullable(rng, "integer", values::int4);
    let query = match rng.below(4) {
        0 => format!("SELECT multiples({count}, {base})"),
        1 => format!(
            "SELECT * FROM multiples({count}, {base}) a JOIN multiples(1000, 1) b USING (n)"
        ),
        2 => format!("SELECT * FROM generate_series(1, 3) g, multiples(g + {count}, {base})"),
        _ => format!("SELECT * FROM multiples({count}, {base})"),
    };
    Call::select_from(format!("plan_estimate({})", quote(&query)), None)
}

// Chapter 20's aggregate. Its support functions take internal, so only the executor calls
// them: the transition and final functions in every call of mean; combine, serial and deserial
// in a parallel plan only.

/// `mean(double precision)` and its transition and final functions: mean over a few values
/// (none, NULLs, the float extremes), or as a window aggregate, whose final function runs on a
/// growing state once per row.
fn mean_of_values(cx: &mut Ctx<'_>, _: &Function) -> Call {
    let rng = &mut *cx.rng;
    let values: Vec<String> = (0..rng.below(8))
        .map(|_| {
            if rng.one_in(5) {
                "(NULL::float8)".to_owned()
            } else {
                format!("({})", values::float8(rng))
            }
        })
        .collect();
    let from = if values.is_empty() {
        "(SELECT 1.0::float8 WHERE false) AS v(x)".to_owned()
    } else {
        format!("(VALUES {}) AS v(x)", values.join(", "))
    };
    let select = if rng.one_in(4) {
        "mean(x) OVER (ROWS UNBOUNDED PRECEDING)"
    } else {
        "mean(x)"
    };
    Call::select_from(select.into(), Some(from))
}

/// The combine, serial and deserial functions: mean over part of `agg_input` (db.rs), scaled,
/// in a parallel plan; now and then over its NULLs only, so that every worker's state is NULL.
fn mean_in_parallel(cx: &mut Ctx<'_>, _: &Function) -> Call {
    let rng = &mut *cx.rng;
    let factor = rng.below(1_000_001) as i64 - 500_000;
    let modulus = 1 + rng.below(50);
    let filter = if rng.one_in(8) {
        "x IS NULL".to_owned()
    } else {
        format!("id % {modulus} = {}", rng.below(modulus))
    };
    Call {
        select: format!("mean(x * {factor})"),
        from: Some(format!("agg_input WHERE {filter}")),
        settings: PARALLEL_SETTINGS,
    }
}

// Chapter 21's trigger functions: through DML on the tables db.rs makes with the extension,
// whose triggers call them, or now and then called outside a trigger (an ERROR in both builds,
// each in its own words: known.rs).

/// `trigf()`: INSERT, UPDATE, DELETE and TRUNCATE on `trig_t`, whose row triggers (BEFORE and
/// AFTER) and statement trigger it is; the rows the statement returns, or after a TRUNCATE what
/// is left of the table.
fn trigf_dml(cx: &mut Ctx<'_>, f: &Function) -> Call {
    let rng = &mut *cx.rng;
    if rng.one_in(15) {
        return Call::new(f.sql_name(), vec![], Place::Select);
    }
    let x = |rng: &mut Rng| {
        if rng.one_in(3) {
            "NULL".to_owned()
        } else {
            (rng.below(2001) as i64 - 1000).to_string()
        }
    };
    let statement = match rng.below(10) {
        0..=4 => {
            let rows: Vec<String> = (0..1 + rng.below(3))
                .map(|_| format!("({}, 'r')", x(rng)))
                .collect();
            format!(
                "WITH d AS (INSERT INTO trig_t VALUES {} RETURNING x) \
                 SELECT coalesce(x::text, '<null>') FROM d",
                rows.join(", ")
            )
        }
        5..=6 => format!(
            "WITH d AS (UPDATE trig_t SET x = {} WHERE x % {} = 0 RETURNING x) \
             SELECT count(*)::text FROM d",
            x(rng),
            1 + rng.below(5)
        ),
        7..=8 => format!(
            "WITH d AS (DELETE FROM trig_t WHERE x % {} = 0 RETURNING x) \
             SELECT count(*)::text FROM d",
            1 + rng.below(5)
        ),
        _ => "TRUNCATE trig_t".to_owned(),
    };
    let statements = if statement.starts_with("TRUNCATE") {
        vec![statement, "SELECT count(*)::text FROM trig_t".to_owned()]
    } else {
        vec![statement]
    };
    dml(&statements)
}

/// `row_version()`: INSERT (with ON CONFLICT) and UPDATE on `version_t`, whose BEFORE row
/// trigger it is, with counters of NULL, 0 and around the int4 extremes; and an UPDATE of a row
/// whose counter was set with the trigger disabled (NULL, or the largest integer).
fn row_version_dml(cx: &mut Ctx<'_>, f: &Function) -> Call {
    let rng = &mut *cx.rng;
    if rng.one_in(15) {
        return Call::new(f.sql_name(), vec![], Place::Select);
    }
    let id = 1 + rng.below(20);
    let v = rng.pick(&["NULL", "0", "1", "2147483646", "2147483647", "-2147483648"]);
    let statements = match rng.below(6) {
        0..=2 => vec![format!(
            "WITH d AS (INSERT INTO version_t VALUES ({id}, 'b', {v}) \
             ON CONFLICT (id) DO UPDATE SET body = excluded.body RETURNING id, v) \
             SELECT id || ' ' || coalesce(v::text, '<null>') FROM d"
        )],
        3..=4 => vec![format!(
            "WITH d AS (UPDATE version_t SET body = 'u', v = {v} WHERE id % {} = 0 \
             RETURNING id, v) SELECT string_agg(id || ' ' || v, ',' ORDER BY id) FROM d",
            1 + rng.below(4)
        )],
        _ => vec![
            "ALTER TABLE version_t DISABLE TRIGGER tv".to_owned(),
            format!("UPDATE version_t SET v = {v} WHERE id = {id}"),
            "ALTER TABLE version_t ENABLE TRIGGER tv".to_owned(),
            format!(
                "WITH d AS (UPDATE version_t SET body = 'w' WHERE id = {id} RETURNING v) \
                 SELECT coalesce(v::text, '<null>') FROM d"
            ),
        ],
    };
    dml(&statements)
}

/// Statements run one after the other by `run_dml` (db.rs), the rows of the last one returned:
/// DML cannot be nested in the subquery the comparison wraps a call in.
fn dml(statements: &[String]) -> Call {
    let quoted: Vec<String> = statements.iter().map(|s| quote(s)).collect();
    Call::select_from(
        "r".into(),
        Some(format!("run_dml({}) AS r", quoted.join(", "))),
    )
}
