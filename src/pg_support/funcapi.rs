//! The value-per-call protocol of a set-returning function (`funcapi.h`) for the functions
//! without `#[pg_extern]`: the `SRF_*` macros, as C has them.

use super::unguarded;
use pgrx::pg_sys::{self, Datum, FuncCallContext, FunctionCallInfo};

// ANCHOR: srf
/// `SRF_IS_FIRSTCALL()`: no `FuncCallContext` yet.
///
/// # Safety
/// `fcinfo` is the call's own.
#[inline(always)]
pub unsafe fn srf_is_first_call(fcinfo: FunctionCallInfo) -> bool {
    // SAFETY: the caller's contract; fmgr sets flinfo for every call.
    unsafe { (*(*fcinfo).flinfo).fn_extra.is_null() }
}

/// `SRF_RETURN_NEXT(funcctx, result)`: one more row, and more to come.
///
/// # Safety
/// `fcinfo` is the call's own, `funcctx` its `FuncCallContext` (`SRF_PERCALL_SETUP()`).
#[inline(always)]
pub unsafe fn srf_return_next(
    fcinfo: FunctionCallInfo,
    funcctx: *mut FuncCallContext,
    result: Datum,
) -> Datum {
    // SAFETY: the caller's contract; init_MultiFuncCall made sure resultinfo is a
    // ReturnSetInfo. The count cannot reach u64::MAX: it stays below max_calls.
    unsafe {
        (*funcctx).call_cntr = (*funcctx).call_cntr.wrapping_add(1);
        let rsi = (*fcinfo).resultinfo.cast::<pg_sys::ReturnSetInfo>();
        (*rsi).isDone = pg_sys::ExprDoneCond::ExprMultipleResult;
    }
    result
}

/// `SRF_RETURN_DONE(funcctx)`: no more rows; the multi-call memory is freed.
///
/// # Safety
/// As for [`srf_return_next`], and every Rust frame between the caller and the nearest
/// `sigsetjmp` is a plain old frame (`end_MultiFuncCall` is called without pgrx's guard).
#[inline(always)]
#[expect(ffi_unwind_calls, reason = "unguarded, listed in unguarded.toml")]
pub unsafe fn srf_return_done(fcinfo: FunctionCallInfo, funcctx: *mut FuncCallContext) -> Datum {
    // SAFETY: the caller's contract.
    unsafe {
        unguarded::end_MultiFuncCall(fcinfo, funcctx);
        let rsi = (*fcinfo).resultinfo.cast::<pg_sys::ReturnSetInfo>();
        (*rsi).isDone = pg_sys::ExprDoneCond::ExprEndResult;
        (*fcinfo).isnull = true;
    }
    Datum::from(0)
}
// ANCHOR_END: srf
