//! Function optimization information (chapter 16): a planner support function for
//! `multiples(count, base)`, the set-returning function of chapter 10.
//!
//! Without help, the planner knows of a set-returning function only what its `pg_proc` row
//! says: `prorows` (1000 unless `ROWS` says otherwise) rows per call, `procost` (1 unless
//! `COST` says otherwise) times `cpu_operator_cost` per evaluation. A support function
//! (`pg_proc.prosupport`) is asked instead, with a request node that names the call and says
//! what the planner wants to know (`nodes/supportnodes.h`); it answers by filling in the
//! request and returning it, or declines by returning a NULL pointer, and the planner falls back
//! on `prorows` and `procost`.
//!
//! pgrx has no types for the requests: the function reads PostgreSQL's nodes through `pg_sys`,
//! as the C twin does, and every read is `unsafe`. What pgrx gives is the declaration: the
//! `support = multiples_support` attribute on `multiples` (`src/returning_sets.rs`) writes
//! `SUPPORT multiples_support` into its `CREATE FUNCTION`, where the C twin attaches it
//! afterwards with `ALTER FUNCTION ... SUPPORT`.

use pgrx::pg_sys::{self, Node, NodeTag};
use pgrx::prelude::*;
use pgrx::{is_a, Internal, PgList};

// ANCHOR: count_estimate
/// What the planner can know of `multiples`' count before the query runs.
enum CountEstimate {
    /// Not a constant even after `estimate_expression_value` (a column, a volatile function).
    Unknown,
    /// `count` or `base` is a constant NULL: `multiples` is STRICT, so it is not called and
    /// returns no rows.
    Null,
    /// A constant.
    Known(i32),
}

/// The estimate of the count of the call `node`. A `FuncExpr` is all we expect, but the
/// request only promises "the parse node invoking the function", so anything else is
/// `Unknown`.
///
/// # Safety
/// `root` is the planner's (or NULL) and `node` a valid node tree or NULL, as the request
/// that holds them promises.
unsafe fn estimate_count(root: *mut pg_sys::PlannerInfo, node: *mut Node) -> CountEstimate {
    // A request may come with no planner (supportnodes.h: root "could be NULL"; cost_qual_eval
    // with a NULL root asks for a cost), and estimate_expression_value reads root->glob.
    if root.is_null() {
        return CountEstimate::Unknown;
    }
    // SAFETY: node is NULL or a node (the caller's contract); is_a reads only its tag.
    if node.is_null() || !unsafe { is_a(node, NodeTag::T_FuncExpr) } {
        return CountEstimate::Unknown;
    }
    // SAFETY: node is a FuncExpr, whose args is a List of expression nodes.
    let args = unsafe { PgList::<Node>::from_pg((*node.cast::<pg_sys::FuncExpr>()).args) };
    let (Some(count), Some(base)) = (args.get_ptr(0), args.get_ptr(1)) else {
        return CountEstimate::Unknown;
    };
    if args.len() != 2 {
        return CountEstimate::Unknown;
    }
    // SAFETY: root and the arguments come from the request. estimate_expression_value folds
    // constant subexpressions and takes a bound parameter's current value; it may raise an
    // ERROR (out of memory), which pgrx's guard on the binding turns into a Rust panic that
    // unwinds to our #[pg_extern] wrapper, where nothing of ours needs dropping.
    let (count, base) = unsafe {
        (
            pg_sys::estimate_expression_value(root, count),
            pg_sys::estimate_expression_value(root, base),
        )
    };
    // SAFETY: both are nodes; a node that is_a Const is a pg_sys::Const.
    let as_const =
        |n: *mut Node| unsafe { is_a(n, NodeTag::T_Const).then(|| &*n.cast::<pg_sys::Const>()) };
    match (as_const(count), as_const(base)) {
        (Some(c), _) | (_, Some(c)) if c.constisnull => CountEstimate::Null,
        // An int4 constant, as multiples is declared; anything else we do not estimate.
        (Some(c), _) if c.consttype == pg_sys::INT4OID => {
            CountEstimate::Known(c.constvalue.value() as i32)
        }
        _ => CountEstimate::Unknown,
    }
}
// ANCHOR_END: count_estimate

// ANCHOR: multiples_support
/// `multiples_support(request internal) RETURNS internal`: the planner support function of
/// `multiples(count, base)`. It answers two requests and declines every other:
///
/// `SupportRequestRows`: the number of rows. A constant count is the answer (a negative one
/// raises an ERROR before any row, so 0), a constant NULL argument means 0; otherwise decline,
/// and the planner uses `prorows`.
///
/// `SupportRequestCost`: the cost of one evaluation, which for a set-returning function is the
/// work of all its rows. `procost` would be scaled by `cpu_operator_cost` for us; an answer
/// here is not, so we scale it ourselves: one `cpu_operator_cost` per row, as if each row were
/// one operator call (the multiplication), and one for the call itself.
///
/// The planner calls it with `OidFunctionCall1`, which raises an ERROR when a function returns
/// SQL NULL (`fmgr.c`, `FunctionCall1Coll`): declining is a NULL *pointer* in a non-NULL
/// Datum, `Internal::from(Some(Datum::null()))`, never `Internal::from(None)`.
#[pg_extern(immutable, strict, parallel_safe)]
fn multiples_support(request: Internal) -> Internal {
    let declined = Internal::from(Some(pg_sys::Datum::null()));
    let Some(datum) = request.unwrap() else {
        return declined;
    };
    let rawreq = datum.cast_mut_ptr::<Node>();
    // SAFETY: the planner passes a request node (supportnodes.h); SQL cannot call a function
    // with an internal argument at all (sql/support_functions.sql shows it).
    unsafe {
        if is_a(rawreq, NodeTag::T_SupportRequestRows) {
            let req = &mut *rawreq.cast::<pg_sys::SupportRequestRows>();
            req.rows = match estimate_count(req.root, req.node) {
                CountEstimate::Null => 0.0,
                CountEstimate::Known(count) => f64::from(count.max(0)),
                CountEstimate::Unknown => return declined,
            };
            return Internal::from(Some(datum));
        }
        if is_a(rawreq, NodeTag::T_SupportRequestCost) {
            let req = &mut *rawreq.cast::<pg_sys::SupportRequestCost>();
            // node is NULL when the planner cannot tie the arguments to the call: decline.
            let CountEstimate::Known(count) = estimate_count(req.root, req.node) else {
                return declined;
            };
            req.startup = 0.0;
            req.per_tuple = pg_sys::cpu_operator_cost * (1.0 + f64::from(count.max(0)));
            return Internal::from(Some(datum));
        }
    }
    declined
}
// ANCHOR_END: multiples_support

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;

    /// The planner's row estimate for `query`, from `EXPLAIN (FORMAT JSON)`.
    fn plan_rows(query: &str) -> f64 {
        let plan = Spi::get_one::<pgrx::Json>(&format!("EXPLAIN (FORMAT JSON) {query}"))
            .unwrap()
            .unwrap();
        plan.0[0]["Plan"]["Plan Rows"].as_f64().unwrap()
    }

    #[pg_test]
    fn rows_follow_a_constant_count() {
        assert_eq!(plan_rows("SELECT * FROM multiples(42, 3)"), 42.0);
        assert_eq!(plan_rows("SELECT * FROM multiples(40 + 2, 3)"), 42.0);
        // Not a constant: the default, prorows.
        assert_eq!(
            plan_rows("SELECT * FROM multiples((random() * 10)::integer, 3)"),
            1000.0
        );
        // Zero rows, shown as 1: the planner never estimates fewer (clamp_row_est).
        assert_eq!(plan_rows("SELECT * FROM multiples(NULL, 3)"), 1.0);
    }

    #[pg_test]
    fn support_function_cannot_be_called_from_sql() {
        assert_eq!(
            crate::testing::sqlstate_of("SELECT multiples_support(NULL)"),
            Some("42883".into())
        );
        assert_eq!(
            crate::testing::sqlstate_of("SELECT multiples_support(NULL::internal)"),
            Some("42846".into())
        );
    }
}
