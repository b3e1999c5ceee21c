//! Returning rows (chapter 9): one composite value built from Datums (`divmod`), one built from C
//! strings (`split_pair`).
//!
//! Either way the function first asks `get_call_result_type` for the tuple descriptor of the row
//! it must return: the declared composite type (`divmod_result`), or, for `RETURNS record`, the
//! column definition list the caller wrote in `FROM`. pgrx has no safe wrapper for that call, so
//! both functions make it through `pg_sys`, exactly as the C twins do.

use pgrx::prelude::*;
use pgrx::PgTupleDesc;

use crate::pg_support::DbText;
use crate::pg_support::{function_name, type_name};

/// The descriptor of the row the current call must return, or the manual's error (SQLSTATE
/// 0A000) when the caller gave none: `RETURNS record` called where a record cannot be accepted.
///
/// # Safety
/// `fcinfo` must be the call's own `FunctionCallInfo`, as pgrx passes it.
// ANCHOR: result_tupdesc
unsafe fn call_result_tupdesc<'a>(fcinfo: pg_sys::FunctionCallInfo) -> PgTupleDesc<'a> {
    let mut tupdesc: pg_sys::TupleDesc = std::ptr::null_mut();
    // SAFETY: fcinfo is valid (our caller's contract); on TYPEFUNC_COMPOSITE, tupdesc is set.
    let class = unsafe { pg_sys::get_call_result_type(fcinfo, std::ptr::null_mut(), &mut tupdesc) };
    if class != pg_sys::TypeFuncClass::TYPEFUNC_COMPOSITE {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
            "function returning record called in context that cannot accept type record"
        );
    }
    // SAFETY: the descriptor is either a copy of the named type's, palloc'd in the current memory
    // context, or the executor's descriptor of the column definition list; neither is
    // reference-counted and neither is ours to free, so the wrapper neither releases nor frees it.
    unsafe { PgTupleDesc::from_pg_unchecked(tupdesc) }
}
// ANCHOR_END: result_tupdesc

// ANCHOR: divmod_type
extension_sql!(
    "CREATE TYPE divmod_result AS (quotient integer, remainder integer);",
    name = "divmod_result",
);
// ANCHOR_END: divmod_type

// ANCHOR: divmod
/// The descriptor of the `divmod_result` row this call returns: asked for, checked
/// (`check_result_row`, below) and blessed, before any arithmetic can fail.
///
/// # Safety
/// `fcinfo` must be the call's own `FunctionCallInfo`, as pgrx passes it.
unsafe fn divmod_tupdesc<'a>(fcinfo: pg_sys::FunctionCallInfo) -> PgTupleDesc<'a> {
    // SAFETY: fcinfo is this call's (our caller's contract).
    let tupdesc = unsafe { checked_result_tupdesc(fcinfo, &[pg_sys::INT4OID, pg_sys::INT4OID]) };
    // SAFETY: BlessTupleDesc only registers a RECORD descriptor in the type cache (a no-op for a
    // named type like divmod_result) and returns the same pointer.
    unsafe { pg_sys::BlessTupleDesc(tupdesc.as_ptr()) };
    tupdesc
}

/// Truncating division, `(dividend / divisor, dividend % divisor)`, with the errors of the
/// built-in `int4div`: division by zero, and `i32::MIN / -1`, whose quotient does not fit.
fn checked_divmod(dividend: i32, divisor: i32) -> (i32, i32) {
    if divisor == 0 {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_DIVISION_BY_ZERO,
            "division by zero"
        );
    }
    let (Some(quotient), Some(remainder)) =
        (dividend.checked_div(divisor), dividend.checked_rem(divisor))
    else {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
            "integer out of range"
        );
    };
    (quotient, remainder)
}

/// The row `(quotient, remainder)`, formed from two Datums by `heap_form_tuple`.
///
/// # Safety
/// `tupdesc` must come from `divmod_tupdesc`, which checked that it has two `integer` columns.
unsafe fn divmod_row(
    tupdesc: PgTupleDesc<'static>,
    quotient: i32,
    remainder: i32,
) -> PgHeapTuple<'static, AllocatedByRust> {
    // SAFETY: two int4 Datums for a descriptor of two int4 columns (our caller's contract).
    let row = unsafe {
        PgHeapTuple::from_datums(tupdesc, [quotient.into_datum(), remainder.into_datum()])
    };
    match row {
        Ok(row) => row,
        Err(e) => {
            // Unreachable after check_result_row; an error, not a panic, all the same.
            ereport!(ERROR, PgSqlErrorCode::ERRCODE_INTERNAL_ERROR, e.to_string());
        }
    }
}

/// `divmod(dividend, divisor)`: truncating division, like SQL's `/` and `%`, returned as one row
/// of the named type `divmod_result` built from Datums.
///
/// The C version calls `get_call_result_type`, `BlessTupleDesc`, `heap_form_tuple` and
/// `HeapTupleGetDatum`; here `PgHeapTuple::from_datums` calls `heap_form_tuple`, and returning
/// the `PgHeapTuple` makes the composite Datum. Division by zero and `i32::MIN / -1` are errors,
/// as in the built-in `int4div`: `checked_div` catches the overflow that in C would trap.
/// Not `pub`: its `fcinfo` must be the one PostgreSQL passes, never a pointer from Rust code.
#[pg_extern(immutable, parallel_safe, requires = ["divmod_result"])]
fn divmod(
    dividend: i32,
    divisor: i32,
    fcinfo: pg_sys::FunctionCallInfo,
) -> pgrx::composite_type!('static, "divmod_result") {
    // SAFETY: fcinfo is this call's, passed by pgrx's wrapper.
    let tupdesc = unsafe { divmod_tupdesc(fcinfo) };
    let (quotient, remainder) = checked_divmod(dividend, divisor);
    // SAFETY: tupdesc comes from divmod_tupdesc.
    unsafe { divmod_row(tupdesc, quotient, remainder) }
}
// ANCHOR_END: divmod

// ANCHOR: floor_divmod
/// `floor_divmod(dividend, divisor)`: the chapter's exercise. Division rounded toward minus
/// infinity, as Python's `divmod` does: the remainder takes the divisor's sign. Same row type,
/// same errors as `divmod`, whose helpers it shares.
///
/// As in the C version, the truncating quotient is corrected by one step when the remainder
/// and the divisor have opposite signs.
#[pg_extern(immutable, parallel_safe, requires = ["divmod_result"])]
fn floor_divmod(
    dividend: i32,
    divisor: i32,
    fcinfo: pg_sys::FunctionCallInfo,
) -> pgrx::composite_type!('static, "divmod_result") {
    // SAFETY: fcinfo is this call's, passed by pgrx's wrapper.
    let tupdesc = unsafe { divmod_tupdesc(fcinfo) };
    let (quotient, remainder) = checked_divmod(dividend, divisor);
    // Cannot overflow: with a nonzero remainder, the quotient was rounded toward zero from a
    // value that is not an integer, so it is above i32::MIN; and remainder and divisor have
    // opposite signs, so their sum lies between them.
    let (quotient, remainder) = if remainder != 0 && (remainder < 0) != (divisor < 0) {
        (quotient - 1, remainder + divisor)
    } else {
        (quotient, remainder)
    };
    // SAFETY: tupdesc comes from divmod_tupdesc.
    unsafe { divmod_row(tupdesc, quotient, remainder) }
}
// ANCHOR_END: floor_divmod

// ANCHOR: check_result_row
/// Raises `ERROR` 42804 (`datatype_mismatch`) unless `tupdesc`, the descriptor of the row the
/// current call must return, is exactly the row we build: `types.len()` attributes, none
/// dropped, each of exactly the given type (not a domain over it: `heap_form_tuple` would not
/// check a domain's constraints).
///
/// A named composite type is a type like any other: `ALTER TYPE ... ADD`, `DROP` or
/// `ALTER ATTRIBUTE ... TYPE` change it after `CREATE FUNCTION`, and the next call's
/// `get_call_result_type` returns the new shape. `heap_form_tuple` trusts the descriptor blindly:
/// with one attribute more it reads past the end of our arrays, with a `text` attribute it takes
/// our int4 for a pointer. The message names the SQL function (one symbol may serve several, as
/// `retcomposite` and `retcomposite_out` do) and the row it builds; the detail says what differs.
///
/// # Safety
/// `fcinfo` must be the call's own `FunctionCallInfo`, as pgrx passes it.
pub unsafe fn check_result_row(
    fcinfo: pg_sys::FunctionCallInfo,
    tupdesc: &PgTupleDesc,
    types: &[pg_sys::Oid],
) {
    let detail =
        (0..tupdesc.len().max(types.len())).find_map(|i| match (tupdesc.get(i), types.get(i)) {
            (Some(att), _) if att.attisdropped => {
                Some(format!("Attribute {} has been dropped.", i + 1))
            }
            (Some(att), Some(&want)) if att.atttypid != want => Some(format!(
                "Attribute {} has type {}, not {}.",
                i + 1,
                type_name(att.atttypid),
                type_name(want)
            )),
            (Some(_), Some(_)) => None,
            _ => Some(format!(
                "It has {} attributes, not {}.",
                tupdesc.len(),
                types.len()
            )),
        });
    if let Some(detail) = detail {
        let row: Vec<String> = types.iter().map(|&t| type_name(t)).collect();
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
            format!(
                "result type {} of function {} is not ({})",
                type_name(tupdesc.oid()),
                // SAFETY: fcinfo is this call's (our caller's contract).
                unsafe { function_name(fcinfo) },
                row.join(", ")
            ),
            detail
        );
    }
}

/// The descriptor of the row the current call must return, checked by `check_result_row`
/// against `types` (and not yet blessed).
///
/// # Safety
/// `fcinfo` must be the call's own `FunctionCallInfo`, as pgrx passes it.
pub unsafe fn checked_result_tupdesc<'a>(
    fcinfo: pg_sys::FunctionCallInfo,
    types: &[pg_sys::Oid],
) -> PgTupleDesc<'a> {
    // SAFETY: fcinfo is this call's (our caller's contract).
    let tupdesc = unsafe { call_result_tupdesc(fcinfo) };
    // SAFETY: the same.
    unsafe { check_result_row(fcinfo, &tupdesc, types) };
    tupdesc
}
// ANCHOR_END: check_result_row

// ANCHOR: split_pair
/// `split_pair(pair)`: splits `key=value` at the first `=` into a row of two columns whose types
/// the caller chooses with a column definition list. With no `=`, the value column is NULL.
///
/// The C version converts each part with `BuildTupleFromCStrings`, which runs the input function
/// of each column's type; pgrx has no wrapper for it, so we call it the same way. Only the
/// splitting is safe Rust; the C strings are palloc'd copies, as in C.
/// The text is read as bytes in the database encoding (`DbText`, of the support module), not
/// as a `&str`, which pgrx accepts only in UTF-8: in a LATIN1 or SQL_ASCII database a
/// non-ASCII `é` would be an `XX000` where the C twin splits the bytes. Like the C twin's `text_to_cstring`, it reads
/// the text up to its first NUL byte, which a SQL_ASCII database lets a text hold.
/// Not `pub`, like `divmod`: `fcinfo` must be the one PostgreSQL passes.
#[pg_extern(stable, parallel_safe)]
fn split_pair(
    pair: DbText,
    fcinfo: pg_sys::FunctionCallInfo,
) -> pgrx::composite_type!('static, "record") {
    // SAFETY: fcinfo is this call's, passed by pgrx's wrapper.
    let tupdesc = unsafe { call_result_tupdesc(fcinfo) };
    if tupdesc.len() != 2 {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
            format!(
                "split_pair returns 2 columns, but the column definition list has {}",
                tupdesc.len()
            )
        );
    }
    let pair = pair.as_bytes();
    let pair = pair.split(|&b| b == 0).next().unwrap_or_default();
    let (key, value) = match pair.iter().position(|&b| b == b'=') {
        Some(eq) => (&pair[..eq], Some(&pair[eq + 1..])),
        None => (pair, None),
    };

    // SAFETY: TupleDescGetAttInMetadata blesses the descriptor and looks up each column's input
    // function. pnstrdup copies `len` bytes into a NUL-terminated palloc'd string; a null pointer
    // in `values` makes a NULL field. BuildTupleFromCStrings reads exactly natts (2) strings.
    let tuple = unsafe {
        let attinmeta = pg_sys::TupleDescGetAttInMetadata(tupdesc.as_ptr());
        let cstring = |s: &[u8]| pg_sys::pnstrdup(s.as_ptr().cast(), s.len());
        let mut values = [cstring(key), value.map_or(std::ptr::null_mut(), cstring)];
        pg_sys::BuildTupleFromCStrings(attinmeta, values.as_mut_ptr())
    };
    // SAFETY: the tuple was just formed for this descriptor.
    unsafe { PgHeapTuple::from_heap_tuple(tupdesc, tuple) }.into_owned()
}
// ANCHOR_END: split_pair

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;

    #[pg_test]
    fn divmod_truncates_like_sql() {
        for (a, b) in [
            (7, 2),
            (-7, 2),
            (7, -2),
            (-7, -2),
            (i32::MIN, 1),
            (i32::MAX, -1),
        ] {
            let same = Spi::get_one_with_args::<bool>(
                "SELECT divmod($1, $2) = ROW($1 / $2, $1 % $2)::divmod_result",
                &[a.into(), b.into()],
            );
            assert_eq!(same, Ok(Some(true)), "divmod({a}, {b})");
        }
    }

    #[pg_test]
    fn divmod_bad_input() {
        assert_eq!(
            crate::testing::sqlstate_of("SELECT divmod(1, 0)"),
            Some("22012".into())
        );
        assert_eq!(
            crate::testing::sqlstate_of("SELECT divmod(-2147483648, -1)"),
            Some("22003".into())
        );
        assert_eq!(
            Spi::get_one::<bool>("SELECT divmod(NULL, 1) IS NULL"),
            Ok(Some(true))
        );
    }

    #[pg_test]
    fn split_pair_uses_the_callers_types() {
        assert_eq!(
            Spi::get_one::<i32>(
                "SELECT value FROM split_pair('port=5432') AS (key text, value integer)"
            ),
            Ok(Some(5432))
        );
        assert_eq!(
            Spi::get_one::<String>(
                "SELECT value FROM split_pair('a=b=c') AS (key text, value text)"
            ),
            Ok(Some("b=c".into()))
        );
        assert_eq!(
            Spi::get_one::<bool>(
                "SELECT value IS NULL FROM split_pair('flag') AS (key text, value bool)"
            ),
            Ok(Some(true))
        );
    }

    #[pg_test]
    fn split_pair_bad_input() {
        for (query, sqlstate) in [
            ("SELECT split_pair('a=1')", "0A000"),
            ("SELECT * FROM split_pair('a=1') AS (key text)", "42804"),
            (
                "SELECT * FROM split_pair('a=x') AS (key text, value integer)",
                "22P02",
            ),
            (
                "SELECT * FROM split_pair('a=99999999999') AS (key text, value integer)",
                "22003",
            ),
        ] {
            assert_eq!(
                crate::testing::sqlstate_of(query),
                Some(sqlstate.into()),
                "{query}"
            );
        }
    }

    #[pg_test]
    fn floor_divmod_rounds_toward_minus_infinity() {
        // The same property the regression test checks over a grid, for the four sign cases
        // and the extremes: quotient = floor(a / b), remainder = a - b * quotient.
        for (a, b) in [
            (7, 2),
            (-7, 2),
            (7, -2),
            (-7, -2),
            (6, -3),
            (i32::MIN, 1),
            (i32::MIN, 2),
            (i32::MIN, i32::MAX),
            (i32::MAX, i32::MIN),
            (i32::MAX, -1),
        ] {
            let same = Spi::get_one_with_args::<bool>(
                "SELECT floor_divmod($1, $2) = ROW(floor($1::numeric / $2)::integer, \
                 ($1 - $2 * floor($1::numeric / $2))::integer)::divmod_result",
                &[a.into(), b.into()],
            );
            assert_eq!(same, Ok(Some(true)), "floor_divmod({a}, {b})");
        }
        assert_eq!(
            crate::testing::sqlstate_of("SELECT floor_divmod(1, 0)"),
            Some("22012".into())
        );
        assert_eq!(
            crate::testing::sqlstate_of("SELECT floor_divmod(-2147483648, -1)"),
            Some("22003".into())
        );
    }
}
