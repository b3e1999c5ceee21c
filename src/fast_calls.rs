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

use crate::pg_support::atomics::{pg_atomic_fetch_add_u64, spin_lock_acquire, spin_lock_release};
use crate::pg_support::elog::{raise_error, Error};
use crate::pg_support::fmgr::{
    arg, arg_bytes, arg_datum, arg_is_null, arg_ref, pg_function_info_v1, ByValue,
};
use crate::pg_support::funcapi::{srf_is_first_call, srf_return_done, srf_return_next};
use crate::pg_support::miscadmin::check_for_interrupts;
use crate::pg_support::palloc::PallocText;
use crate::pg_support::{type_name, unguarded};
use crate::returning_rows::checked_result_tupdesc;
use crate::shared_memory::SharedCounter;
use std::ffi::{c_char, c_int};

use pgrx::pg_sys::{self, Datum, FunctionCallInfo};
use pgrx::prelude::*;
use pgrx::PgMemoryContexts;

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

// ANCHOR: add_points
pg_function_info_v1!(fast_add_points);

/// `xfunc_fast.add_points(point, point)`: chapter 2's exercise as its C twin is written: one
/// unguarded `palloc`, each coordinate added by `float8_pl`.
///
/// # Safety
/// Only PostgreSQL calls it, through the `CREATE FUNCTION` below.
#[no_mangle]
pub unsafe extern "C" fn fast_add_points(fcinfo: FunctionCallInfo) -> Datum {
    // SAFETY: called as declared below: STRICT, two point arguments. Plain old frame: an ERROR
    // from palloc or from float8_pl skips nothing. The 16 bytes are ours to write.
    unsafe {
        let (a, b): (&pg_sys::Point, &pg_sys::Point) = (arg_ref(fcinfo, 0), arg_ref(fcinfo, 1));
        let result = unguarded::palloc(size_of::<pg_sys::Point>()).cast::<pg_sys::Point>();
        result.write(pg_sys::Point {
            x: float8_pl(a.x, b.x),
            y: float8_pl(a.y, b.y),
        });
        Datum::from(result)
    }
}

/// `float8_pl` of `utils/float.h`: an infinite sum of two finite values is `ERROR` 22003.
///
/// # Safety
/// As for [`raise_error`].
#[inline(always)]
unsafe fn float8_pl(val1: f64, val2: f64) -> f64 {
    let result = val1 + val2;
    if result.is_infinite() {
        // C's `unlikely(isinf(result))`: the arguments are looked at only on this rare path.
        // Without the hint the compiler tests all three values on every call.
        std::hint::cold_path();
        if !val1.is_infinite() && !val2.is_infinite() {
            // SAFETY: the caller's contract.
            unsafe { raise_error(&FLOAT8_OVERFLOW) }
        }
    }
    result
}

/// `float_overflow_error()`'s `ERROR`.
const FLOAT8_OVERFLOW: Error = Error {
    code: PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
    message: c"value out of range: overflow",
    detail: None,
};
// ANCHOR_END: add_points

// ANCHOR: c_overpaid
pg_function_info_v1!(fast_c_overpaid);

/// `xfunc_fast.c_overpaid(emp, integer)`: chapter 8's function as its C twin is written: the row
/// detoasted, its type's descriptor looked up to check the `salary` column, the field read with
/// `GetAttributeByName`, every call into PostgreSQL unguarded.
///
/// # Safety
/// Only PostgreSQL calls it, through the `CREATE FUNCTION` below.
#[no_mangle]
pub unsafe extern "C" fn fast_c_overpaid(fcinfo: FunctionCallInfo) -> Datum {
    // SAFETY: called as declared below: STRICT, a row and an integer. Plain old frame: an
    // ERROR from the detoasting, or from salary_of, skips nothing.
    unsafe {
        let emp = unguarded::pg_detoast_datum(arg_datum(fcinfo, 0).cast_mut_ptr());
        let limit: i32 = arg(fcinfo, 1);
        let mut isnull = false;
        let salary = salary_of(emp.cast(), &mut isnull);
        // A NULL salary is "not overpaid", as in the manual.
        Datum::from(!isnull && salary > limit)
    }
}

/// `attname` of a column named `salary`: the name and the NUL that ends it (a `NameData` is
/// padded with NULs, so these seven bytes are what `strcmp(name, "salary") == 0` compares).
const SALARY: [c_char; 7] = [
    b's' as c_char,
    b'a' as c_char,
    b'l' as c_char,
    b'a' as c_char,
    b'r' as c_char,
    b'y' as c_char,
    0,
];

/// C's `salary_of` with its `check_salary_column`: the row type must have a column `salary`
/// of type `integer` (or a domain over it), checked at every call; then the field, and whether
/// it is NULL.
///
/// # Safety
/// `emp` is a detoasted composite value, and every Rust frame between the caller and the
/// nearest `sigsetjmp` is a plain old frame.
#[inline(always)]
#[expect(ffi_unwind_calls, reason = "unguarded, listed in unguarded.toml")]
unsafe fn salary_of(emp: pg_sys::HeapTupleHeader, isnull: &mut bool) -> i32 {
    // SAFETY: the caller's contract. lookup_rowtype_tupdesc returns the type cache's descriptor
    // with its reference count raised, which ReleaseTupleDesc (below) lowers again; an ERROR
    // in between leaves it to the resource owner, which releases it at abort, as in C. The
    // loop reads natts attributes of the descriptor's array.
    unsafe {
        let rowtype = (*emp).t_choice.t_datum.datum_typeid;
        let typmod = (*emp).t_choice.t_datum.datum_typmod;
        let tupdesc = unguarded::lookup_rowtype_tupdesc(rowtype, typmod);
        let mut salary_type = pg_sys::InvalidOid;
        for i in 0..(*tupdesc).natts {
            let att = &*(*tupdesc).attrs.as_ptr().add(i as usize);
            if !att.attisdropped && att.attname.data.starts_with(&SALARY) {
                salary_type = att.atttypid;
                break;
            }
        }
        if (*tupdesc).tdrefcount >= 0 {
            unguarded::DecrTupleDescRefCount(tupdesc); // ReleaseTupleDesc
        }
        if salary_type == pg_sys::InvalidOid
            || unguarded::getBaseType(salary_type) != pg_sys::INT4OID
        {
            salary_column_error(rowtype, salary_type);
        }
        let salary = unguarded::GetAttributeByName(emp, c"salary".as_ptr(), isnull);
        if *isnull {
            0
        } else {
            salary.value() as i32 // DatumGetInt32
        }
    }
}

/// The `ERROR` of a row type whose `salary` column is missing (`salary_type` is
/// `InvalidOid`) or of another type: the messages of chapter 8, written with `format!` and
/// raised by `ereport!`, through pgrx's guard. Called from a fast function, its `ERROR` jumps
/// over that function's plain old frames only, as an `ERROR` from any `#[pg_guard]` function
/// jumps over the C frames that called it.
#[pg_guard]
#[cold]
unsafe extern "C-unwind" fn salary_column_error(
    rowtype: pg_sys::Oid,
    salary_type: pg_sys::Oid,
) -> std::convert::Infallible {
    if salary_type == pg_sys::InvalidOid {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_UNDEFINED_COLUMN,
            format!(
                "column \"salary\" not found in data type {}",
                type_name(rowtype)
            )
        );
    }
    ereport!(
        ERROR,
        PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
        format!(
            "column \"salary\" of data type {} has type {}, not integer",
            type_name(rowtype),
            type_name(salary_type)
        )
    );
}
// ANCHOR_END: c_overpaid

// ANCHOR: retcomposite
pg_function_info_v1!(fast_retcomposite);

/// `xfunc_fast.retcomposite(integer, integer)` and `xfunc_fast.retcomposite_out`: chapter 10's
/// set-returning function in the value-per-call protocol, as its C twin is written. The first
/// call's work, done once per set, is ordinary Rust behind pgrx's guard
/// ([`retcomposite_first_call`]); each row is `heap_form_tuple` and `HeapTupleHeaderGetDatum`,
/// unguarded.
///
/// # Safety
/// Only PostgreSQL calls it, through the `CREATE FUNCTION`s below.
#[no_mangle]
pub unsafe extern "C" fn fast_retcomposite(fcinfo: FunctionCallInfo) -> Datum {
    // SAFETY: called as declared below. Plain old frame: an ERROR from the first call's work,
    // from heap_form_tuple or from HeapTupleHeaderGetDatum skips nothing. The first call left a
    // FuncCallContext with the checked, blessed descriptor of three integer columns and the
    // three Datums of the row in user_fctx, both in the multi-call memory context.
    unsafe {
        if srf_is_first_call(fcinfo) {
            retcomposite_first_call(fcinfo);
        }
        let funcctx = unguarded::per_MultiFuncCall(fcinfo);
        if (*funcctx).call_cntr < (*funcctx).max_calls {
            let mut nulls = [false; 3];
            let tuple = unguarded::heap_form_tuple(
                (*funcctx).tuple_desc,
                (*funcctx).user_fctx.cast(),
                nulls.as_mut_ptr(),
            );
            // HeapTupleGetDatum
            let row = unguarded::HeapTupleHeaderGetDatum((*tuple).t_data);
            srf_return_next(fcinfo, funcctx, row)
        } else {
            srf_return_done(fcinfo, funcctx)
        }
    }
}

/// What the C twin does under `SRF_IS_FIRSTCALL()`, in ordinary Rust behind pgrx's guard: the
/// arguments checked, `SRF_FIRSTCALL_INIT()`, then, in the multi-call memory context, the
/// number of rows, the row type's descriptor (chapter 9's check, then blessed) and the row's
/// three Datums, computed once. Its `ERROR`s jump over the fast function's plain old frame.
#[pg_guard]
#[cold]
unsafe extern "C-unwind" fn retcomposite_first_call(fcinfo: FunctionCallInfo) {
    // SAFETY: fcinfo is the call's (fast_retcomposite's caller): two integer arguments, not
    // NULL (STRICT).
    let (count, base): (i32, i32) = unsafe { (arg(fcinfo, 0), arg(fcinfo, 1)) };
    let Ok(count) = u64::try_from(count) else {
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
    // SAFETY: init_MultiFuncCall makes the FuncCallContext (or raises 0A000 outside a set
    // context) and its memory context, in which what must outlive this call is allocated: the
    // descriptor (get_call_result_type copies a named type's into the current context) and the
    // row, three Datums.
    unsafe {
        let funcctx = pg_sys::init_MultiFuncCall(fcinfo);
        PgMemoryContexts::For((*funcctx).multi_call_memory_ctx).switch_to(|_| {
            (*funcctx).max_calls = count;
            let tupdesc = checked_result_tupdesc(fcinfo, &[pg_sys::INT4OID; 3]);
            (*funcctx).tuple_desc = pg_sys::BlessTupleDesc(tupdesc.as_ptr());
            let row = pg_sys::palloc(3 * size_of::<Datum>()).cast::<Datum>();
            row.write(Datum::from(base));
            row.add(1).write(Datum::from(twice));
            row.add(2).write(Datum::from(thrice));
            (*funcctx).user_fctx = row.cast();
        });
    }
}
// ANCHOR_END: retcomposite

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

// ANCHOR: counter_helpers
/// The chapter 12 counter's struct, or `ERROR` 55000 when the library was not preloaded.
///
/// # Safety
/// Every Rust frame between the caller and the nearest `sigsetjmp` is a plain old frame.
#[inline(always)]
unsafe fn counter() -> *mut SharedCounter {
    let shared = crate::shared_memory::COUNTER.ptr();
    if shared.is_null() {
        // SAFETY: plain old frames (the caller's contract).
        unsafe {
            raise_error(&Error {
                code: PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                message: c"xfunc must be loaded via shared_preload_libraries",
                detail: None,
            })
        }
    }
    shared
}

/// What `shared_counter_add(delta)` does under the lock: with the lock held exclusively, both
/// counts checked, then written, and the lock released; the new total, or `None`, with nothing
/// changed, when either count would overflow. The caller raises the `ERROR`, after the release.
///
/// # Safety
/// `shared` is [`counter`]'s, and every Rust frame between the caller and the nearest
/// `sigsetjmp` is a plain old frame: `LWLockAcquire` may raise an `ERROR` (too many LWLocks
/// held) before it takes the lock.
#[inline(always)]
#[expect(ffi_unwind_calls, reason = "unguarded, listed in unguarded.toml")]
unsafe fn add_locked(shared: *mut SharedCounter, delta: i64) -> Option<i64> {
    // SAFETY: `shared` points to the struct in shared memory (chapter 12), whose `lock` never
    // changes. Holding the lock exclusively, we alone read and write the fields. LWLockRelease
    // of a lock we hold cannot raise an ERROR (it does for a lock not held, "lock is not
    // held"). Both sums are checked, so nothing here can panic while the lock is held.
    unsafe {
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
    }
}

/// The `ERROR` of an update that would overflow either count.
const BIGINT_OUT_OF_RANGE: Error = Error {
    code: PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
    message: c"bigint out of range",
    detail: None,
};
// ANCHOR_END: counter_helpers

// ANCHOR: shared_counter_add
pg_function_info_v1!(fast_shared_counter_add);

/// `xfunc_fast.shared_counter_add(bigint)`: chapter 12's function with the lock taken and
/// released by hand, as in C ([`add_locked`], above). The ordinary version's `LwLockGuard`
/// releases the lock in its `Drop`: a value with a destructor, which makes its frame no plain
/// old frame, so that every call that may raise an `ERROR` there must be guarded. Here there is
/// none: when either count would overflow, nothing changes, the lock is released, and then the
/// ERROR raised.
///
/// # Safety
/// Only PostgreSQL calls it, through the `CREATE FUNCTION` below.
#[no_mangle]
pub unsafe extern "C" fn fast_shared_counter_add(fcinfo: FunctionCallInfo) -> Datum {
    // SAFETY: called as declared below: STRICT, one bigint argument. Plain old frame: nothing
    // here has a destructor; an ERROR from LWLockAcquire, or ours, skips nothing.
    unsafe {
        let delta: i64 = arg(fcinfo, 0);
        match add_locked(counter(), delta) {
            Some(sum) => sum.to_datum(),
            // The lock is released.
            None => raise_error(&BIGINT_OUT_OF_RANGE),
        }
    }
}
// ANCHOR_END: shared_counter_add

// ANCHOR: counters
/// What `shared_counter_value()` does: the total, read under the lock in shared mode.
///
/// # Safety
/// As for [`add_locked`].
#[inline(always)]
#[expect(ffi_unwind_calls, reason = "unguarded, listed in unguarded.toml")]
unsafe fn read_locked(shared: *mut SharedCounter) -> i64 {
    // SAFETY: as in add_locked; writers hold the lock exclusively, so the field does not change
    // while we hold it in shared mode.
    unsafe {
        let lock = (*shared).lock;
        unguarded::LWLockAcquire(lock, pg_sys::LWLockMode::LW_SHARED);
        let value = (*shared).value;
        unguarded::LWLockRelease(lock);
        value
    }
}

/// What `shared_counter_bump_atomic()` does: one atomic add, inline, as C has it.
///
/// # Safety
/// `shared` is [`counter`]'s.
#[inline(always)]
unsafe fn bump_atomic(shared: *mut SharedCounter) -> i64 {
    // SAFETY: the startup hook initialised the atomic (pg_atomic_init_u64), and it is only ever
    // changed by atomic operations. The count wraps, as the C build's does.
    let before = unsafe { pg_atomic_fetch_add_u64(&raw mut (*shared).bumps_atomic, 1) };
    before.wrapping_add(1) as i64
}

/// What `shared_counter_bump_spinlock()` does: the count under the spinlock, taken and released
/// inline, as C has them.
///
/// # Safety
/// `shared` is [`counter`]'s.
#[inline(always)]
unsafe fn bump_spinlock(shared: *mut SharedCounter) -> i64 {
    // SAFETY: the startup hook initialised the spinlock (SpinLockInit); the count is only
    // touched while it is held, and nothing in between can raise an ERROR or panic (the count
    // wraps, as the C build's does).
    unsafe {
        spin_lock_acquire(&raw mut (*shared).spin);
        let count = (*shared).bumps_spin.wrapping_add(1);
        (*shared).bumps_spin = count;
        spin_lock_release(&raw mut (*shared).spin);
        count
    }
}

pg_function_info_v1!(fast_shared_counter_value);

/// `xfunc_fast.shared_counter_value()`.
///
/// # Safety
/// Only PostgreSQL calls it, through the `CREATE FUNCTION` below.
#[no_mangle]
pub unsafe extern "C" fn fast_shared_counter_value(_fcinfo: FunctionCallInfo) -> Datum {
    // SAFETY: plain old frame: an ERROR from LWLockAcquire, or the 55000, skips nothing.
    unsafe { read_locked(counter()) }.to_datum()
}

pg_function_info_v1!(fast_shared_counter_bump_atomic);

/// `xfunc_fast.shared_counter_bump_atomic()`.
///
/// # Safety
/// Only PostgreSQL calls it, through the `CREATE FUNCTION` below.
#[no_mangle]
pub unsafe extern "C" fn fast_shared_counter_bump_atomic(_fcinfo: FunctionCallInfo) -> Datum {
    // SAFETY: plain old frame.
    unsafe { bump_atomic(counter()) }.to_datum()
}

pg_function_info_v1!(fast_shared_counter_bump_spinlock);

/// `xfunc_fast.shared_counter_bump_spinlock()`.
///
/// # Safety
/// Only PostgreSQL calls it, through the `CREATE FUNCTION` below.
#[no_mangle]
pub unsafe extern "C" fn fast_shared_counter_bump_spinlock(_fcinfo: FunctionCallInfo) -> Datum {
    // SAFETY: plain old frame.
    unsafe { bump_spinlock(counter()) }.to_datum()
}
// ANCHOR_END: counters

// ANCHOR: cycles
/// The number of cycles a `*_cycles` function was asked for: never negative (22023).
///
/// # Safety
/// As for [`arg`], and every Rust frame between the caller and the nearest `sigsetjmp` is a
/// plain old frame.
#[inline(always)]
unsafe fn cycles_arg(fcinfo: FunctionCallInfo) -> i64 {
    // SAFETY: the caller's contract: argument 0 is a bigint, not NULL (STRICT).
    let cycles: i64 = unsafe { arg(fcinfo, 0) };
    if cycles < 0 {
        // SAFETY: plain old frames.
        unsafe {
            raise_error(&Error {
                code: PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
                message: c"cycles must not be negative",
                detail: None,
            })
        }
    }
    cycles
}

// ANCHOR: add_cycles
pg_function_info_v1!(fast_shared_counter_add_cycles);

/// `xfunc_fast.shared_counter_add_cycles(cycles bigint)`: [`add_locked`] with 1, `cycles`
/// times, each cycle after a check for interrupts.
///
/// # Safety
/// Only PostgreSQL calls it, through the `CREATE FUNCTION` below.
#[no_mangle]
pub unsafe extern "C" fn fast_shared_counter_add_cycles(fcinfo: FunctionCallInfo) -> Datum {
    // SAFETY: called as declared below: STRICT, one bigint argument. Plain old frame: nothing
    // here has a destructor, so an ERROR from ProcessInterrupts or LWLockAcquire, or ours,
    // skips nothing; the lock is never held across a check for interrupts.
    unsafe {
        let shared = counter();
        let mut result = 0;
        for _ in 0..cycles_arg(fcinfo) {
            check_for_interrupts();
            match add_locked(shared, 1) {
                Some(sum) => result = sum,
                None => raise_error(&BIGINT_OUT_OF_RANGE),
            }
        }
        result.to_datum()
    }
}
// ANCHOR_END: add_cycles

pg_function_info_v1!(fast_shared_counter_value_cycles);

/// `xfunc_fast.shared_counter_value_cycles(cycles bigint)`: [`read_locked`], `cycles` times.
///
/// # Safety
/// Only PostgreSQL calls it, through the `CREATE FUNCTION` below.
#[no_mangle]
pub unsafe extern "C" fn fast_shared_counter_value_cycles(fcinfo: FunctionCallInfo) -> Datum {
    // SAFETY: as in fast_shared_counter_add_cycles.
    unsafe {
        let shared = counter();
        let mut result = 0;
        for _ in 0..cycles_arg(fcinfo) {
            check_for_interrupts();
            result = read_locked(shared);
        }
        result.to_datum()
    }
}

pg_function_info_v1!(fast_shared_counter_mix_cycles);

/// `xfunc_fast.shared_counter_mix_cycles(cycles bigint)`: one cycle in eight (the first, the
/// ninth, ...) [`add_locked`] with 1, the seven others [`read_locked`].
///
/// # Safety
/// Only PostgreSQL calls it, through the `CREATE FUNCTION` below.
#[no_mangle]
pub unsafe extern "C" fn fast_shared_counter_mix_cycles(fcinfo: FunctionCallInfo) -> Datum {
    // SAFETY: as in fast_shared_counter_add_cycles.
    unsafe {
        let shared = counter();
        let mut result = 0;
        for i in 0..cycles_arg(fcinfo) {
            check_for_interrupts();
            if i & 7 != 0 {
                // i % 8, for a count that is never negative, without the checks of `%`
                result = read_locked(shared);
            } else {
                match add_locked(shared, 1) {
                    Some(sum) => result = sum,
                    None => raise_error(&BIGINT_OUT_OF_RANGE),
                }
            }
        }
        result.to_datum()
    }
}

pg_function_info_v1!(fast_shared_counter_bump_atomic_cycles);

/// `xfunc_fast.shared_counter_bump_atomic_cycles(cycles bigint)`: [`bump_atomic`], `cycles`
/// times.
///
/// # Safety
/// Only PostgreSQL calls it, through the `CREATE FUNCTION` below.
#[no_mangle]
pub unsafe extern "C" fn fast_shared_counter_bump_atomic_cycles(fcinfo: FunctionCallInfo) -> Datum {
    // SAFETY: as in fast_shared_counter_add_cycles.
    unsafe {
        let shared = counter();
        let mut result = 0;
        for _ in 0..cycles_arg(fcinfo) {
            check_for_interrupts();
            result = bump_atomic(shared);
        }
        result.to_datum()
    }
}

pg_function_info_v1!(fast_shared_counter_bump_spinlock_cycles);

/// `xfunc_fast.shared_counter_bump_spinlock_cycles(cycles bigint)`: [`bump_spinlock`],
/// `cycles` times.
///
/// # Safety
/// Only PostgreSQL calls it, through the `CREATE FUNCTION` below.
#[no_mangle]
pub unsafe extern "C" fn fast_shared_counter_bump_spinlock_cycles(
    fcinfo: FunctionCallInfo,
) -> Datum {
    // SAFETY: as in fast_shared_counter_add_cycles; the spinlock is never held across a call.
    unsafe {
        let shared = counter();
        let mut result = 0;
        for _ in 0..cycles_arg(fcinfo) {
            check_for_interrupts();
            result = bump_spinlock(shared);
        }
        result.to_datum()
    }
}
// ANCHOR_END: cycles

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

// ANCHOR: fast_sql_more
// The fast twins of chapter 2's exercise, chapter 8's row argument, chapter 10's set and
// chapter 12's other counters, after the types they take or return.
extension_sql!(
    r#"
CREATE FUNCTION xfunc_fast.add_points("a" point, "b" point) RETURNS point
    AS 'MODULE_PATHNAME', 'fast_add_points' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION xfunc_fast.c_overpaid("emp" emp, "limit" integer) RETURNS boolean
    AS 'MODULE_PATHNAME', 'fast_c_overpaid' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION xfunc_fast.retcomposite("count" integer, "base" integer)
    RETURNS SETOF __retcomposite
    AS 'MODULE_PATHNAME', 'fast_retcomposite' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION xfunc_fast.retcomposite_out("count" integer, "base" integer,
                                            OUT f1 integer, OUT f2 integer, OUT f3 integer)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'fast_retcomposite' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION xfunc_fast.shared_counter_value() RETURNS bigint
    AS 'MODULE_PATHNAME', 'fast_shared_counter_value' LANGUAGE C VOLATILE STRICT;
CREATE FUNCTION xfunc_fast.shared_counter_bump_atomic() RETURNS bigint
    AS 'MODULE_PATHNAME', 'fast_shared_counter_bump_atomic' LANGUAGE C VOLATILE STRICT;
CREATE FUNCTION xfunc_fast.shared_counter_bump_spinlock() RETURNS bigint
    AS 'MODULE_PATHNAME', 'fast_shared_counter_bump_spinlock' LANGUAGE C VOLATILE STRICT;
CREATE FUNCTION xfunc_fast.shared_counter_add_cycles("cycles" bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'fast_shared_counter_add_cycles' LANGUAGE C VOLATILE STRICT;
CREATE FUNCTION xfunc_fast.shared_counter_value_cycles("cycles" bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'fast_shared_counter_value_cycles' LANGUAGE C VOLATILE STRICT;
CREATE FUNCTION xfunc_fast.shared_counter_mix_cycles("cycles" bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'fast_shared_counter_mix_cycles' LANGUAGE C VOLATILE STRICT;
CREATE FUNCTION xfunc_fast.shared_counter_bump_atomic_cycles("cycles" bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'fast_shared_counter_bump_atomic_cycles' LANGUAGE C VOLATILE STRICT;
CREATE FUNCTION xfunc_fast.shared_counter_bump_spinlock_cycles("cycles" bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'fast_shared_counter_bump_spinlock_cycles' LANGUAGE C VOLATILE STRICT;
"#,
    name = "xfunc_fast_more_functions",
    requires = ["xfunc_fast_schema", "emp", returning_sets::retcomposite]
);
// ANCHOR_END: fast_sql_more

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

    #[pg_test]
    fn fast_counters_without_preload_are_55000() {
        // Every fast counter, the *_cycles ones even for no cycle and for a negative count:
        // the struct is asked for first, as in the other builds.
        for query in [
            "SELECT xfunc_fast.shared_counter_value()",
            "SELECT xfunc_fast.shared_counter_bump_atomic()",
            "SELECT xfunc_fast.shared_counter_bump_spinlock()",
            "SELECT xfunc_fast.shared_counter_add_cycles(0)",
            "SELECT xfunc_fast.shared_counter_value_cycles(1)",
            "SELECT xfunc_fast.shared_counter_mix_cycles(1)",
            "SELECT xfunc_fast.shared_counter_bump_atomic_cycles(1)",
            "SELECT xfunc_fast.shared_counter_bump_spinlock_cycles(-1)",
        ] {
            assert_eq!(error_then_alive(query), Some("55000".into()), "{query}");
        }
    }

    #[pg_test]
    fn fast_retcomposite_outside_a_set_context_is_0a000() {
        // Called with no ReturnSetInfo, as no SQL statement can call it: init_MultiFuncCall, in
        // the first call's work behind pgrx's guard, refuses, and the fast function's frame is
        // jumped over.
        assert_eq!(
            sqlstate_of_direct_call(
                "xfunc_fast.retcomposite(integer, integer)",
                &[2.into(), 3.into()]
            ),
            Some(PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED)
        );
        assert_eq!(
            Spi::get_one::<i64>("SELECT count(*) FROM xfunc_fast.retcomposite(2, 3)"),
            Ok(Some(2))
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
