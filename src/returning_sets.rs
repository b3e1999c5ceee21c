//! Returning sets (chapter 10): the manual's `retcomposite`, a set-returning function (SRF) that
//! returns composite rows one at a time.
//!
//! PostgreSQL calls a value-per-call SRF once per row. The first call sets up a
//! `FuncCallContext` whose `multi_call_memory_ctx` outlives the calls; each call returns one row
//! and says "more to come" until the last, which says "done". pgrx's `TableIterator` drives a
//! Rust iterator through that protocol: the function body runs on the first call (in the
//! multi-call context) and returns the iterator, which is stored in the `FuncCallContext`; every
//! call, the first included, takes exactly one item from it (pgrx `src/iter.rs`).

use pgrx::prelude::*;

use crate::returning_rows::checked_result_tupdesc;

// ANCHOR: check_rows_of
/// Raises `ERROR` 42804 unless the rows this call must return are exactly `types`, before the
/// first row: `retcomposite`'s row type is a named composite type that `ALTER TYPE` may change at
/// any moment (chapter 9, `check_result_row`).
///
/// `TableIterator` does not check this itself. On the first row it asks `get_call_result_type`
/// for the descriptor, blesses it and stores it in the `FuncCallContext` (pgrx
/// `src/iter.rs`, `fill_fcinfo_fcx` for tuples); every row then goes to `heap_form_tuple` with
/// that descriptor and arrays sized by the Rust tuple (`into_heap_tuple`), whatever the
/// descriptor says. So the function body, which runs once, on the first call, checks the same
/// descriptor first. The two lookups see the same catalog: the second finds in the caches what
/// the first put there, and a backend applies other sessions' catalog changes to its caches only
/// when it takes a lock (`AcceptInvalidationMessages`, called from `LockRelationOid` in
/// PostgreSQL's `src/backend/storage/lmgr/lmgr.c`), which nothing between them does.
///
/// # Safety
/// `fcinfo` must be the call's own `FunctionCallInfo`, as pgrx passes it.
unsafe fn check_rows_of(fcinfo: pg_sys::FunctionCallInfo, types: &[pg_sys::Oid]) {
    // SAFETY: fcinfo is this call's (our caller's contract). The descriptor is a copy in the
    // multi-call memory context, freed with it when the set is done.
    unsafe { checked_result_tupdesc(fcinfo, types) };
}
// ANCHOR_END: check_rows_of

// ANCHOR: retcomposite
/// `retcomposite(count, base)`: the manual's set-returning example, `count` identical rows of
/// `(f1, f2, f3) = (base, 2 * base, 3 * base)`.
///
/// One symbol serves two SQL declarations, as in the manual: `retcomposite` returns
/// `SETOF __retcomposite` (a named composite type), `retcomposite_out` declares OUT parameters
/// and returns `SETOF record`. Neither is what pgrx would generate from the signature
/// (`TableIterator` maps to `RETURNS TABLE(...)`), so the declarations are written out below.
///
/// The C version does by hand what `TableIterator` does: `SRF_FIRSTCALL_INIT`, switching to
/// `multi_call_memory_ctx`, `get_call_result_type` + `BlessTupleDesc` once, then
/// `heap_form_tuple` + `SRF_RETURN_NEXT` per row and `SRF_RETURN_DONE` at the end.
/// Unlike the 2008 manual (which read the count with `PG_GETARG_UINT32` and multiplied without
/// checking), both builds refuse a negative count (22023) and an overflowing product (22003)
/// on the first call, before any row is returned.
#[pg_extern(
    immutable,
    strict,
    parallel_safe,
    sql = r#"
CREATE TYPE __retcomposite AS (f1 integer, f2 integer, f3 integer);

CREATE FUNCTION retcomposite("count" integer, "base" integer)
    RETURNS SETOF __retcomposite
    AS 'MODULE_PATHNAME', 'retcomposite_wrapper'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION retcomposite_out("count" integer, "base" integer,
                                 OUT f1 integer, OUT f2 integer, OUT f3 integer)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'retcomposite_wrapper'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
"#
)]
fn retcomposite(
    count: i32,
    base: i32,
    fcinfo: pg_sys::FunctionCallInfo,
) -> TableIterator<'static, (name!(f1, i32), name!(f2, i32), name!(f3, i32))> {
    let Ok(rows) = usize::try_from(count) else {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            "count must not be negative"
        );
    };
    let (Some(twice), Some(thrice)) = (base.checked_mul(2), base.checked_mul(3)) else {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
            "integer out of range"
        );
    };
    // SAFETY: fcinfo is this call's, passed by pgrx's wrapper.
    unsafe { check_rows_of(fcinfo, &[pg_sys::INT4OID; 3]) };
    // A lazy iterator: nothing is computed or stored per row until PostgreSQL asks for it.
    TableIterator::new(std::iter::repeat_n((base, twice, thrice), rows))
}
// ANCHOR_END: retcomposite

// ANCHOR: multiples
/// Exercise of chapter 10: `multiples(count, base)` returns the rows `(n, n * base)` for
/// `n = 1 .. count`, one per call: unlike `retcomposite`, every row is different.
///
/// The C version keeps its position in `FuncCallContext.call_cntr` and computes each row from
/// it; here the position is the state of a `RangeInclusive`, and `TableIterator` keeps the
/// iterator in `user_fctx` for us. pgrx generates the declaration,
/// `RETURNS TABLE (n integer, product integer)`, which the C version writes out. Both check
/// the arguments once, on the first call: `|n * base| <= |count * base|`, so if the last
/// product fits in an `integer`, every product does.
///
/// `support` names the planner support function of chapter 16 (`src/support_functions.rs`):
/// pgrx writes `SUPPORT multiples_support` into the declaration, where the C twin attaches it
/// later with `ALTER FUNCTION ... SUPPORT` (`c/support_functions.sql`).
#[pg_extern(immutable, strict, parallel_safe, support = multiples_support)]
fn multiples(
    count: i32,
    base: i32,
    fcinfo: pg_sys::FunctionCallInfo,
) -> TableIterator<'static, (name!(n, i32), name!(product, i32))> {
    if count < 0 {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            "count must not be negative"
        );
    }
    if count.checked_mul(base).is_none() {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
            "integer out of range"
        );
    }
    // SAFETY: fcinfo is this call's, passed by pgrx's wrapper.
    unsafe { check_rows_of(fcinfo, &[pg_sys::INT4OID; 2]) };
    // Cannot overflow: the last product, count * base, was checked above.
    TableIterator::new((1..=count).map(move |n| (n, n * base)))
}
// ANCHOR_END: multiples

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;

    #[pg_test]
    fn retcomposite_returns_count_rows_of_multiples() {
        assert_eq!(
            Spi::get_one::<i64>(
                "SELECT count(*) FROM retcomposite(1000, 7) \
                 WHERE (f1, f2, f3) = (7, 14, 21)"
            ),
            Ok(Some(1000))
        );
        assert_eq!(
            Spi::get_one::<i64>("SELECT count(*) FROM retcomposite_out(5, -3) WHERE f3 = -9"),
            Ok(Some(5))
        );
        assert_eq!(
            Spi::get_one::<i64>("SELECT count(*) FROM retcomposite(0, 1)"),
            Ok(Some(0))
        );
    }

    #[pg_test]
    fn retcomposite_streams_under_limit() {
        // Value-per-call in the select list: LIMIT stops after three calls out of 2^31 - 1.
        assert_eq!(
            Spi::get_one::<i64>(
                "SELECT count(*) FROM (SELECT retcomposite(2147483647, 1) LIMIT 3) AS s"
            ),
            Ok(Some(3))
        );
    }

    #[pg_test]
    fn retcomposite_bad_arguments_sqlstates() {
        assert_eq!(
            crate::testing::sqlstate_of("SELECT * FROM retcomposite(-1, 1)"),
            Some("22023".into())
        );
        assert_eq!(
            crate::testing::sqlstate_of("SELECT * FROM retcomposite(1, 1073741824)"),
            Some("22003".into())
        );
        assert_eq!(
            crate::testing::sqlstate_of("SELECT * FROM retcomposite_out(1, 715827883)"),
            Some("22003".into())
        );
        assert_eq!(
            crate::testing::sqlstate_of("SELECT * FROM retcomposite(1, 715827882)"),
            None
        );
    }

    #[pg_test]
    fn multiples_rows_and_bad_arguments() {
        assert_eq!(
            Spi::get_one::<i64>(
                "SELECT sum(product) FROM multiples(100, -3) WHERE product = -3 * n"
            ),
            Ok(Some(-15150))
        );
        assert_eq!(
            Spi::get_one::<i64>("SELECT count(*) FROM multiples(0, 7)"),
            Ok(Some(0))
        );
        assert_eq!(
            Spi::get_one::<i32>("SELECT max(product) FROM multiples(2, 1073741823)"),
            Ok(Some(2147483646))
        );
        assert_eq!(
            crate::testing::sqlstate_of("SELECT * FROM multiples(-1, 7)"),
            Some("22023".into())
        );
        assert_eq!(
            crate::testing::sqlstate_of("SELECT * FROM multiples(2, 1073741824)"),
            Some("22003".into())
        );
    }
}
