//! Rust at the speed of C (the book chapter of that name): the hot examples again, written so
//! that one call costs what the C call costs, and the rules that make that sound.
//!
//! Three routes, each used below and measured in the benchmarks chapter:
//!
//! 1. A raw version-1 function: `extern "C" fn(FunctionCallInfo) -> Datum` with its own
//!    `pg_finfo_` record, arguments read from `fcinfo`, declared in `extension_sql!`. The small
//!    layer under it (`src/pg_support/`: the record from one macro and typed argument accessors
//!    in `fmgr.rs`, `raise_error` in `elog.rs`) compiles to what the C macros compile to.
//! 2. Calls into PostgreSQL without pgrx's `sigsetjmp` guard (`src/pg_support/unguarded.rs`),
//!    only where that is sound: the callee cannot raise an `ERROR`, or every Rust frame an
//!    `ERROR` would jump over is a plain old frame: no value with a destructor, no
//!    `catch_unwind`. `src/pg_support/unguarded.toml` lists each such function with the frames
//!    it may jump over, and `just unguarded-check` holds the code to that list.
//! 3. One copy for a varlena result: the `text` is allocated once, at its final size, and each
//!    input is copied into it once ([`PallocText`]).
//!
//! The rule every function here keeps: its frames are plain old frames from the first line to
//! the last, so nothing is lost when an `ERROR` jumps over them, and it cannot panic (no
//! indexing, no `unwrap`, no arithmetic that can overflow). It is declared `extern "C"`, not
//! `"C-unwind"`: were a panic ever to reach its end, Rust would abort the process rather than
//! unwind into PostgreSQL's C frames.
//!
//! The functions live in schema `xfunc_fast`, under the names of the ordinary ones, and pass the
//! very same regression tests (`tools/test/regress.sh` runs base_types, polymorphic and
//! shared_memory a third time with `search_path = xfunc_fast, public`).

use crate::pg_support::elog::{raise_error, Error};
use crate::pg_support::fmgr::{
    arg, arg_bytes, arg_datum, arg_is_null, arg_ref, pg_function_info_v1, ByValue,
};
use crate::pg_support::palloc::PallocText;
use crate::pg_support::unguarded;
use std::ffi::{c_char, c_int};

use pgrx::pg_sys::{self, Datum, FunctionCallInfo};
use pgrx::prelude::*;

// ANCHOR: schema
extension_sql!(
    r#"
-- The fast variants of the chapter "Rust at the Speed of C", under the ordinary names.
CREATE SCHEMA xfunc_fast;
"#,
    name = "xfunc_fast_schema"
);
// ANCHOR_END: schema

// ANCHOR: add_one
pg_function_info_v1!(fast_add_one);

/// `xfunc_fast.add_one(integer)`: chapter 2's `add_one` as the C function is written. The
/// function is STRICT, so argument 0 is never NULL.
///
/// # Safety
/// Only PostgreSQL calls it, through the `CREATE FUNCTION` below.
#[no_mangle]
pub unsafe extern "C" fn fast_add_one(fcinfo: FunctionCallInfo) -> Datum {
    // SAFETY: called as declared below: STRICT, one integer argument.
    let arg: i32 = unsafe { arg(fcinfo, 0) };
    match arg.checked_add(1) {
        Some(sum) => sum.to_datum(),
        // SAFETY: this frame is a plain old frame: nothing to drop, no catch_unwind.
        None => unsafe { raise_error(&INT4_OUT_OF_RANGE) },
    }
}

const INT4_OUT_OF_RANGE: Error = Error {
    code: PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
    message: c"integer out of range",
    detail: None,
};
// ANCHOR_END: add_one

// ANCHOR: add_one_float8
pg_function_info_v1!(fast_add_one_float8);

/// `xfunc_fast.add_one(double precision)`: `float8_pl(arg, 1.0)`, as chapter 2 spells it out.
///
/// # Safety
/// Only PostgreSQL calls it, through the `CREATE FUNCTION` below.
#[no_mangle]
pub unsafe extern "C" fn fast_add_one_float8(fcinfo: FunctionCallInfo) -> Datum {
    // SAFETY: called as declared below: STRICT, one double precision argument.
    let arg: f64 = unsafe { arg(fcinfo, 0) };
    let result = arg + 1.0;
    if result.is_infinite() {
        // SAFETY: this frame is a plain old frame.
        unsafe { float8_overflow_unless_infinite(arg) };
    }
    result.to_datum()
}

/// `float8_pl`'s check, on the rare path where the sum is infinite: an error unless an input
/// was infinite already (the C function tests `isinf(result)` first, the inputs only then).
///
/// # Safety
/// As for [`raise_error`].
#[cold]
unsafe extern "C" fn float8_overflow_unless_infinite(arg: f64) {
    if !arg.is_infinite() {
        // SAFETY: the caller's contract; this frame is a plain old frame too.
        unsafe {
            raise_error(&Error {
                code: PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                message: c"value out of range: overflow",
                detail: None,
            })
        }
    }
}
// ANCHOR_END: add_one_float8

// ANCHOR: makepoint
pg_function_info_v1!(fast_makepoint);

/// `xfunc_fast.makepoint(point, point)`: the points are read where they are, and the result is
/// one `palloc`, made without the `sigsetjmp` guard.
///
/// # Safety
/// Only PostgreSQL calls it, through the `CREATE FUNCTION` below.
#[no_mangle]
pub unsafe extern "C" fn fast_makepoint(fcinfo: FunctionCallInfo) -> Datum {
    // SAFETY: called as declared below: STRICT, two point arguments.
    let (pointx, pointy): (&pg_sys::Point, &pg_sys::Point) =
        unsafe { (arg_ref(fcinfo, 0), arg_ref(fcinfo, 1)) };
    // SAFETY: plain old frame: palloc may raise an ERROR (out of memory), which would jump
    // over this frame, and it holds nothing to drop. The 16 bytes are ours to write.
    unsafe {
        let new_point = unguarded::palloc(size_of::<pg_sys::Point>()).cast::<pg_sys::Point>();
        new_point.write(pg_sys::Point {
            x: pointx.x,
            y: pointy.y,
        });
        Datum::from(new_point)
    }
}
// ANCHOR_END: makepoint

// ANCHOR: copytext
pg_function_info_v1!(fast_copytext);

/// `xfunc_fast.copytext(text)`: the argument is detoasted once, the copy is one allocation and
/// one `memcpy`.
///
/// # Safety
/// Only PostgreSQL calls it, through the `CREATE FUNCTION` below.
#[no_mangle]
pub unsafe extern "C" fn fast_copytext(fcinfo: FunctionCallInfo) -> Datum {
    // SAFETY: called as declared below: STRICT, one text argument. Plain old frame: an ERROR
    // from the detoasting or from palloc, or the one we raise, skips nothing.
    unsafe {
        match PallocText::concat_in_plain_frames(&[arg_bytes(fcinfo, 0)]) {
            Ok(text) => text.into_datum(),
            Err(e) => raise_error(&e),
        }
    }
}
// ANCHOR_END: copytext

// ANCHOR: concat_text
pg_function_info_v1!(fast_concat_text);

/// `xfunc_fast.concat_text(text, text)`: each input copied once, into a result allocated at its
/// final size.
///
/// # Safety
/// Only PostgreSQL calls it, through the `CREATE FUNCTION` below.
#[no_mangle]
pub unsafe extern "C" fn fast_concat_text(fcinfo: FunctionCallInfo) -> Datum {
    // SAFETY: as in fast_copytext, with two text arguments. `Error` has no destructor, so the
    // frame stays a plain old frame while it holds one.
    unsafe {
        let (arg1, arg2) = (arg_bytes(fcinfo, 0), arg_bytes(fcinfo, 1));
        match PallocText::concat_in_plain_frames(&[arg1, arg2]) {
            Ok(text) => text.into_datum(),
            Err(e) => raise_error(&e),
        }
    }
}
// ANCHOR_END: concat_text

// ANCHOR: make_array
pg_function_info_v1!(fast_make_array);

/// `xfunc_fast.make_array(anyelement)`: chapter 11's function with its three calls into
/// PostgreSQL unguarded. The element and its NULL flag sit in arrays on the stack, not in
/// `Vec`s, so the frame has nothing to drop.
///
/// # Safety
/// Only PostgreSQL calls it, through the `CREATE FUNCTION` below.
#[no_mangle]
pub unsafe extern "C" fn fast_make_array(fcinfo: FunctionCallInfo) -> Datum {
    // SAFETY: called as declared below: one anyelement argument, not STRICT. Plain old frame:
    // an ERROR raised by any of the three calls (a failed cache lookup, memory that is not
    // there) or by us skips nothing.
    unsafe {
        let element_type = unguarded::get_fn_expr_argtype((*fcinfo).flinfo, 0);
        if element_type == pg_sys::InvalidOid {
            raise_error(&Error {
                code: PgSqlErrorCode::ERRCODE_INDETERMINATE_DATATYPE,
                message: c"could not determine data type of input",
                detail: None,
            });
        }
        let isnull = arg_is_null(fcinfo, 0);
        let mut element = if isnull {
            Datum::from(0)
        } else {
            arg_datum(fcinfo, 0)
        };
        let mut isnull = isnull;
        let (mut typlen, mut typbyval, mut typalign) = (0i16, false, 0 as c_char);
        unguarded::get_typlenbyvalalign(element_type, &mut typlen, &mut typbyval, &mut typalign);
        let (mut dims, mut lbs): (c_int, c_int) = (1, 1);
        Datum::from(unguarded::construct_md_array(
            &mut element,
            &mut isnull,
            1,
            &mut dims,
            &mut lbs,
            element_type,
            typlen.into(),
            typbyval,
            typalign,
        ))
    }
}
// ANCHOR_END: make_array

// ANCHOR: shared_counter_add
pg_function_info_v1!(fast_shared_counter_add);

/// `xfunc_fast.shared_counter_add(bigint)`: chapter 12's function with the lock taken and
/// released by hand, as in C. The ordinary version's `LwLockGuard` releases the lock in its
/// `Drop`: a value with a destructor, which makes its frame no plain old frame, so that every
/// call that may raise an `ERROR` there must be guarded. Here there is none: when either count
/// would overflow, nothing changes, the lock is released, and then the ERROR raised.
///
/// # Safety
/// Only PostgreSQL calls it, through the `CREATE FUNCTION` below.
#[no_mangle]
pub unsafe extern "C" fn fast_shared_counter_add(fcinfo: FunctionCallInfo) -> Datum {
    // SAFETY: called as declared below: STRICT, one bigint argument.
    let delta: i64 = unsafe { arg(fcinfo, 0) };
    let shared = crate::shared_memory::COUNTER.ptr();
    if shared.is_null() {
        // SAFETY: plain old frame.
        unsafe {
            raise_error(&Error {
                code: PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                message: c"xfunc must be loaded via shared_preload_libraries",
                detail: None,
            })
        }
    }
    // SAFETY: `shared` points to the struct in shared memory (chapter 12), whose `lock` never
    // changes. Plain old frame: LWLockAcquire may raise an ERROR (too many LWLocks held)
    // before it takes the lock, and nothing here has a destructor. Holding the lock
    // exclusively, we alone read and write the fields. LWLockRelease of a lock we hold cannot
    // raise an ERROR (it does for a lock not held, "lock is not held"). Both sums are checked,
    // so nothing here can panic while the lock is held.
    let sum = unsafe {
        let lock = (*shared).lock;
        unguarded::LWLockAcquire(lock, pg_sys::LWLockMode::LW_EXCLUSIVE);
        let sums = (
            (*shared).value.checked_add(delta),
            (*shared).updates.checked_add(1),
        );
        let sum = match sums {
            (Some(sum), Some(updates)) => {
                (*shared).value = sum;
                (*shared).updates = updates;
                Some(sum)
            }
            _ => None,
        };
        unguarded::LWLockRelease(lock);
        sum
    };
    match sum {
        Some(sum) => sum.to_datum(),
        // SAFETY: plain old frame; the lock is released.
        None => unsafe {
            raise_error(&Error {
                code: PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                message: c"bigint out of range",
                detail: None,
            })
        },
    }
}
// ANCHOR_END: shared_counter_add

// ANCHOR: fast_sql
extension_sql!(
    r#"
CREATE FUNCTION xfunc_fast.add_one("arg" integer) RETURNS integer
    AS 'MODULE_PATHNAME', 'fast_add_one' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION xfunc_fast.add_one("arg" double precision) RETURNS double precision
    AS 'MODULE_PATHNAME', 'fast_add_one_float8' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION xfunc_fast.makepoint("pointx" point, "pointy" point) RETURNS point
    AS 'MODULE_PATHNAME', 'fast_makepoint' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION xfunc_fast.copytext("t" text) RETURNS text
    AS 'MODULE_PATHNAME', 'fast_copytext' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION xfunc_fast.concat_text("arg1" text, "arg2" text) RETURNS text
    AS 'MODULE_PATHNAME', 'fast_concat_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION xfunc_fast.make_array("element" anyelement) RETURNS anyarray
    AS 'MODULE_PATHNAME', 'fast_make_array' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION xfunc_fast.shared_counter_add("delta" bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'fast_shared_counter_add' LANGUAGE C VOLATILE STRICT;
"#,
    name = "xfunc_fast_functions",
    requires = ["xfunc_fast_schema"]
);
// ANCHOR_END: fast_sql

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;

    /// The SQLSTATE of `query`, then proof that the backend is alive and its transaction
    /// usable: a query after the error gives its answer.
    fn error_then_alive(query: &str) -> Option<String> {
        let state = crate::testing::sqlstate_of(query);
        assert_eq!(Spi::get_one::<i32>("SELECT 41 + 1"), Ok(Some(42)));
        state
    }

    #[pg_test]
    fn fast_add_one_overflow_is_22003_and_the_backend_lives() {
        assert_eq!(
            Spi::get_one::<i32>("SELECT xfunc_fast.add_one(41)"),
            Ok(Some(42))
        );
        assert_eq!(
            error_then_alive("SELECT xfunc_fast.add_one(2147483647)"),
            Some("22003".into())
        );
    }

    #[pg_test(error = "integer out of range")]
    fn fast_add_one_overflow_message() {
        Spi::get_one::<i32>("SELECT xfunc_fast.add_one(2147483647)").unwrap();
    }

    #[pg_test]
    fn fast_shared_counter_add_without_preload_is_55000() {
        // The pgrx test cluster does not preload xfunc.
        assert_eq!(
            error_then_alive("SELECT xfunc_fast.shared_counter_add(1)"),
            Some("55000".into())
        );
    }

    /// The SQLSTATE `function` (an SQL signature) raises when PostgreSQL calls it with `args`
    /// and no expression tree (`OidFunctionCall1Coll`, `OidFunctionCall2Coll`), caught by
    /// pgrx's guard; the backend goes on.
    fn sqlstate_of_direct_call(function: &str, args: &[pg_sys::Datum]) -> Option<PgSqlErrorCode> {
        let oid = Spi::get_one_with_args::<pg_sys::Oid>(
            "SELECT $1::regprocedure::oid",
            &[function.into()],
        )
        .expect("looking up the function")
        .expect("it exists");
        PgTryBuilder::new(|| {
            // SAFETY: oid names a function of args.len() arguments, and the callers pass
            // Datums of the arguments' types.
            unsafe {
                match *args {
                    [a] => pg_sys::OidFunctionCall1Coll(oid, pg_sys::InvalidOid, a),
                    [a, b] => pg_sys::OidFunctionCall2Coll(oid, pg_sys::InvalidOid, a, b),
                    _ => unreachable!("one or two arguments"),
                }
            };
            None
        })
        .catch_others(|e| match e {
            pg_sys::panic::CaughtError::PostgresError(r)
            | pg_sys::panic::CaughtError::ErrorReport(r) => Some(r.sql_error_code()),
            _ => None,
        })
        .execute()
    }

    #[pg_test]
    fn fast_make_array_unknown_element_type_is_42p18() {
        // OidFunctionCall1Coll calls the function with no expression tree: no type to read.
        assert_eq!(
            sqlstate_of_direct_call("xfunc_fast.make_array(anyelement)", &[42.into()]),
            Some(PgSqlErrorCode::ERRCODE_INDETERMINATE_DATATYPE)
        );
        assert_eq!(
            Spi::get_one::<String>("SELECT xfunc_fast.make_array(42)::text"),
            Ok(Some("{42}".into()))
        );
    }

    // ANCHOR: corrupt_header_test
    #[pg_test]
    fn fast_text_functions_refuse_a_corrupt_header_with_xx001() {
        // A 4-byte varlena header whose length, 2, is shorter than the header itself: no valid
        // value has one and no SQL statement makes one, so the test writes it in memory.
        // SAFETY: palloc0 gives 8 zeroed bytes, the 4 of the header written by set_varsize_4b.
        let corrupt = unsafe {
            let v = pg_sys::palloc0(8).cast::<pg_sys::varlena>();
            pgrx::varlena::set_varsize_4b(v, 2);
            pg_sys::Datum::from(v)
        };
        let good = "ok".into_datum().expect("a text Datum");
        for (function, args) in [
            ("xfunc_fast.copytext(text)", vec![corrupt]),
            ("xfunc_fast.concat_text(text, text)", vec![good, corrupt]),
        ] {
            assert_eq!(
                sqlstate_of_direct_call(function, &args),
                Some(PgSqlErrorCode::ERRCODE_DATA_CORRUPTED),
                "{function}"
            );
        }
        assert_eq!(Spi::get_one::<i32>("SELECT 41 + 1"), Ok(Some(42)));
    }
    // ANCHOR_END: corrupt_header_test

    #[pg_test]
    fn fast_concat_text_over_1gb_is_54000() {
        assert_eq!(
            error_then_alive(
                "SELECT xfunc_fast.concat_text(t, t) FROM (SELECT repeat(repeat('x', 1048576), n) \
                 AS t FROM generate_series(512, 512) AS n OFFSET 0) AS s"
            ),
            Some("54000".into())
        );
    }

    #[pg_test]
    fn fast_variants_handle_every_text_header() {
        crate::testing::text_functions_handle_every_header("xfunc_fast.");
    }
}
