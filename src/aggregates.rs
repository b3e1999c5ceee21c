//! User-defined aggregates (chapter 20): `mean(double precision)`, the twin of the built-in
//! `avg(double precision)`, with a state updated in place and the combine, serial and deserial
//! functions that let it run in parallel.
//!
//! The state is the built-in's (`float8_accum` in PostgreSQL's
//! `src/backend/utils/adt/float.c`): N, Sx = sum(X) and Sxx = sum((X - Sx/N)^2), updated by the
//! Youngs-Cramer algorithm. `avg` needs only N and Sx, but the built-in reports an overflow
//! when Sx or Sxx overflows, so to give the very same answers and errors we keep Sxx too.
//!
//! pgrx's aggregate support (`#[pg_aggregate]`, the `Aggregate` trait) writes the transition,
//! combine, final and serial functions from the trait's methods, each in the aggregate's
//! memory context (`Aggregate::in_memory_context`, pgrx `src/aggregate.rs`). Its `deserial`
//! cannot be used: pgrx declares it with three arguments, (state, bytea, internal)
//! (pgrx-sql-entity-graph `aggregate/mod.rs`), where `CREATE AGGREGATE` looks for a
//! `DESERIALFUNC` of two, (bytea, internal). So `float_mean_deserial` is a `#[pg_extern]` of
//! its own, and the `CREATE AGGREGATE` is ours, given to pgrx with `#[pgrx(sql = ...)]`: pgrx
//! would write one without `DESERIALFUNC`, which PostgreSQL refuses beside a `SERIALFUNC`.

use pgrx::aggregate::{Aggregate, ParallelOption};
use pgrx::prelude::*;
use pgrx::{AggregateName, Internal};

// ANCHOR: state
/// The transition state, allocated in the aggregate's memory context by the first non-NULL
/// input and changed in place by every later one. `#[repr(C)]`: the same three `float8`s as the
/// C twin's `MeanState`.
#[derive(Clone, Copy, Default, Debug)]
#[repr(C)]
pub struct MeanState {
    /// The number of non-NULL inputs, as `float8` like the built-in's.
    n: f64,
    /// Their sum.
    sx: f64,
    /// The sum of squared differences from the mean.
    sxx: f64,
}

/// The one error of the arithmetic: an overflow of finite inputs (`float_overflow_error()` of
/// PostgreSQL's `utils/float.h`, SQLSTATE 22003), which the caller raises. The arithmetic
/// itself neither raises nor panics, so that the fast twin below can use it too.
#[derive(Debug)]
pub struct Overflow;

impl MeanState {
    /// `float8_accum`'s Youngs-Cramer step, operation for operation.
    pub fn accum(&mut self, newval: f64) -> Result<(), Overflow> {
        let n = self.n + 1.0;
        let sx = self.sx + newval;
        let mut sxx = self.sxx;
        if self.n > 0.0 {
            let tmp = newval * n - sx;
            sxx += tmp * tmp / (n * self.n);
            // An overflow is an error only when finite inputs give an infinite result.
            if sx.is_infinite() || sxx.is_infinite() {
                if !self.sx.is_infinite() && !newval.is_infinite() {
                    return Err(Overflow);
                }
                sxx = f64::NAN;
            }
        } else if newval.is_nan() || newval.is_infinite() {
            sxx = f64::NAN;
        }
        *self = MeanState { n, sx, sxx };
        Ok(())
    }

    /// `float8_combine`'s formula: `other` merged into `self`.
    pub fn combine(&mut self, other: &MeanState) -> Result<(), Overflow> {
        if other.n == 0.0 {
            return Ok(());
        }
        if self.n == 0.0 {
            *self = *other;
            return Ok(());
        }
        let n = self.n + other.n;
        // float8_pl: an infinite sum of finite terms is an overflow.
        let sx = self.sx + other.sx;
        if sx.is_infinite() && !self.sx.is_infinite() && !other.sx.is_infinite() {
            return Err(Overflow);
        }
        let tmp = self.sx / self.n - other.sx / other.n;
        let sxx = self.sxx + other.sxx + self.n * other.n * tmp * tmp / n;
        if sxx.is_infinite() && !self.sxx.is_infinite() && !other.sxx.is_infinite() {
            return Err(Overflow);
        }
        *self = MeanState { n, sx, sxx };
        Ok(())
    }

    /// `float8_avg`: Sx / N, NULL for no input.
    pub fn mean(&self) -> Option<f64> {
        (self.n != 0.0).then(|| self.sx / self.n)
    }

    /// The serialized form: three `float8`s in network byte order, as `pq_sendfloat8` writes
    /// them in the C twin.
    pub fn to_bytes(self) -> [u8; 24] {
        let [n, sx, sxx] = [self.n, self.sx, self.sxx].map(f64::to_be_bytes);
        let mut out = [0u8; 24];
        let (a, rest) = out.split_at_mut(8);
        let (b, c) = rest.split_at_mut(8);
        a.copy_from_slice(&n);
        b.copy_from_slice(&sx);
        c.copy_from_slice(&sxx);
        out
    }

    /// The state back from [`MeanState::to_bytes`], or the message of the error
    /// `pq_getmsgfloat8` (fewer than 24 bytes) or `pq_getmsgend` (more) raises in the C twin:
    /// SQLSTATE 08P01 either way.
    pub fn from_bytes(bytes: &[u8]) -> Result<MeanState, &'static std::ffi::CStr> {
        let float = |b: &[u8; 8]| f64::from_be_bytes(*b);
        match bytes.split_first_chunk::<8>().and_then(|(n, rest)| {
            let (sx, rest) = rest.split_first_chunk::<8>()?;
            let (sxx, rest) = rest.split_first_chunk::<8>()?;
            Some((n, sx, sxx, rest))
        }) {
            None => Err(c"insufficient data left in message"),
            Some((_, _, _, rest)) if !rest.is_empty() => Err(c"invalid message format"),
            Some((n, sx, sxx, _)) => Ok(MeanState {
                n: float(n),
                sx: float(sx),
                sxx: float(sxx),
            }),
        }
    }
}

/// Raises the overflow as an `ERROR`, from a `#[pg_extern]` function.
fn overflow_error(_: Overflow) -> ! {
    ereport!(
        ERROR,
        PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
        "value out of range: overflow"
    );
}
// ANCHOR_END: state

// ANCHOR: mean
/// The aggregate `mean(double precision)`: its name, for pgrx's `ToAggregateName`.
#[derive(AggregateName)]
#[aggregate_name = "mean"]
pub struct Mean;

/// The implementation for `double precision` input. pgrx names the functions after the two
/// types, `float_mean_state`, `float_mean_combine`, `float_mean_finalize`,
/// `float_mean_serial`; the C twin uses the same names.
pub struct Float;

#[pg_aggregate]
#[pgrx(sql = r#"
CREATE AGGREGATE mean(value double precision) (
    SFUNC = float_mean_state,
    STYPE = internal,
    FINALFUNC = float_mean_finalize,
    COMBINEFUNC = float_mean_combine,
    SERIALFUNC = float_mean_serial,
    DESERIALFUNC = float_mean_deserial,
    PARALLEL = SAFE
);
"#)]
impl Aggregate<Mean> for Float {
    type State = Internal;
    type Args = pgrx::name!(value, Option<f64>);
    type Finalize = Option<f64>;
    const PARALLEL: Option<ParallelOption> = Some(ParallelOption::Safe);

    /// The transition function. Not STRICT (a state of type internal has no initial value to
    /// start from), so it sees the NULL inputs that `avg` skips, and skips them itself.
    /// pgrx's wrapper has already made the aggregate's memory context current, or raised an
    /// ERROR when the call does not come from an aggregate; so the state that
    /// `get_or_insert_default` makes on the first non-NULL input lives as long as the group.
    #[pgrx(immutable, parallel_safe)]
    fn state(
        mut current: Internal,
        value: Option<f64>,
        _fcinfo: pg_sys::FunctionCallInfo,
    ) -> Internal {
        if let Some(newval) = value {
            // SAFETY: the state of this aggregate is a MeanState made here or by
            // float_mean_combine/float_mean_deserial, never anything else: no SQL can pass an internal.
            unsafe { current.get_or_insert_default::<MeanState>() }
                .accum(newval)
                .unwrap_or_else(|e| overflow_error(e));
        }
        current
    }

    /// The combine function: merges the state of one partial aggregation into another. Either
    /// may be NULL, for a worker that saw no non-NULL row; the result must live in the
    /// aggregate context, where `get_or_insert_default` makes a state when the first is NULL.
    #[pgrx(immutable, parallel_safe)]
    fn combine(
        mut current: Internal,
        other: Internal,
        _fcinfo: pg_sys::FunctionCallInfo,
    ) -> Internal {
        // SAFETY: both are MeanStates or NULL, as in state.
        if let Some(other) = unsafe { other.get::<MeanState>() } {
            // SAFETY: as above; a new state is made in the aggregate context.
            unsafe { current.get_or_insert_default::<MeanState>() }
                .combine(other)
                .unwrap_or_else(|e| overflow_error(e));
        }
        current
    }

    /// The final function: Sx / N, NULL for no non-NULL input. STRICT: with no state at all,
    /// PostgreSQL returns NULL without calling it.
    #[pgrx(immutable, strict, parallel_safe)]
    fn finalize(
        current: Internal,
        _direct_args: (),
        _fcinfo: pg_sys::FunctionCallInfo,
    ) -> Option<f64> {
        // SAFETY: a MeanState or NULL, as in state.
        unsafe { current.get::<MeanState>() }.and_then(MeanState::mean)
    }

    /// The serial function: the state as 24 bytes, for a parallel worker to hand to the
    /// leader. PostgreSQL calls it only with a state: it is STRICT.
    #[pgrx(immutable, strict, parallel_safe)]
    fn serial(current: Internal, _fcinfo: pg_sys::FunctionCallInfo) -> Vec<u8> {
        // SAFETY: a MeanState, as in state; STRICT keeps NULL out.
        let state = unsafe { current.get::<MeanState>() }
            .copied()
            .unwrap_or_default();
        state.to_bytes().to_vec()
    }
}
// ANCHOR_END: mean

// ANCHOR: mean_deserial
/// `float_mean_deserial(bytea, internal) RETURNS internal`: the state back from `mean_serial`'s bytes,
/// in the current memory context (the executor's per-row one; `float_mean_combine` copies what it
/// keeps). The second argument is not used: it is there because a function returning internal
/// must take one (`CREATE FUNCTION` refuses it otherwise), which also keeps SQL from calling
/// it. Like every function of the aggregate it refuses a call that does not come from an
/// aggregate, and bytes of the wrong size never become a state.
#[pg_extern(immutable, strict, parallel_safe)]
fn float_mean_deserial(
    bytes: &[u8],
    _internal: Internal,
    fcinfo: pg_sys::FunctionCallInfo,
) -> Internal {
    // SAFETY: fcinfo is this call's, from pgrx's wrapper; AggCheckCallContext only reads it.
    if unsafe { pg_sys::AggCheckCallContext(fcinfo, std::ptr::null_mut()) } == 0 {
        error!("float_mean_deserial called in non-aggregate context");
    }
    match MeanState::from_bytes(bytes) {
        Ok(state) => Internal::new(state),
        Err(message) => {
            ereport!(
                ERROR,
                PgSqlErrorCode::ERRCODE_PROTOCOL_VIOLATION,
                message.to_str().unwrap_or_default()
            );
        }
    }
}
// ANCHOR_END: mean_deserial

// The fast twin (the style of chapter 14, "Rust at the Speed of C"): the same five functions as
// raw version-1 functions in schema xfunc_fast, each `Datum f(FunctionCallInfo)` as the C twin
// writes it, with no pgrx wrapper, no memory-context switch per row and no `sigsetjmp` guard.
// They keep chapter 14's rule: every frame is a plain old frame (no destructor, no
// catch_unwind), nothing can panic, and every call into PostgreSQL without the guard says in
// its SAFETY comment why an ERROR it raises skips nothing.

use crate::pg_support::elog::{raise_error, Error};
use crate::pg_support::fmgr::{
    arg, arg_bytes, arg_datum, arg_is_null, pg_function_info_v1, ByValue,
};
use crate::pg_support::palloc::{out_of_memory, PallocText};
use crate::pg_support::unguarded;
use pgrx::pg_sys::{Datum, FunctionCallInfo, MemoryContext};
use std::ffi::c_int;

const FLOAT_OVERFLOW: Error = Error {
    code: PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
    message: c"value out of range: overflow",
    detail: None,
};

// ANCHOR: fast_context
/// The aggregate memory context of this call, or the C twin's `ERROR` when the call does not
/// come from an aggregate (`elog` gives XX000).
///
/// # Safety
/// `fcinfo` is the call's own; every frame up to PostgreSQL's is a plain old frame.
#[inline(always)]
unsafe fn fast_aggregate_context(
    fcinfo: FunctionCallInfo,
    caller: &'static Error,
) -> MemoryContext {
    let mut aggcontext: MemoryContext = std::ptr::null_mut();
    // SAFETY: AggCheckCallContext (nodeAgg.c) only reads fcinfo->context and the AggState it
    // may point to; it raises no ERROR.
    #[expect(ffi_unwind_calls, reason = "unguarded, listed in unguarded.toml")]
    let called_as = unsafe { unguarded::AggCheckCallContext(fcinfo, &mut aggcontext) };
    if called_as == 0 {
        // SAFETY: plain old frames (our caller's contract).
        unsafe { raise_error(caller) }
    }
    aggcontext
}
// ANCHOR_END: fast_context

/// The message of each function's non-aggregate call, as the C twin's `elog` words it.
const fn not_aggregate(message: &'static std::ffi::CStr) -> Error {
    Error {
        code: PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
        message,
        detail: None,
    }
}
const STATE_NOT_AGGREGATE: Error =
    not_aggregate(c"float_mean_state called in non-aggregate context");
const COMBINE_NOT_AGGREGATE: Error =
    not_aggregate(c"float_mean_combine called in non-aggregate context");
const FINALIZE_NOT_AGGREGATE: Error =
    not_aggregate(c"float_mean_finalize called in non-aggregate context");
const SERIAL_NOT_AGGREGATE: Error =
    not_aggregate(c"float_mean_serial called in non-aggregate context");
const DESERIAL_NOT_AGGREGATE: Error =
    not_aggregate(c"float_mean_deserial called in non-aggregate context");

/// A new zeroed `MeanState` in `context`, or the `ERROR` palloc would raise.
///
/// # Safety
/// `context` is a valid memory context; plain old frames up to PostgreSQL's.
#[inline(always)]
unsafe fn fast_new_state(context: MemoryContext) -> *mut MeanState {
    let size = std::mem::size_of::<MeanState>();
    // SAFETY: with MCXT_ALLOC_NO_OOM, MemoryContextAllocExtended (mcxt.c) returns NULL instead
    // of raising an ERROR when the memory is not there, and 24 bytes is a valid request. The
    // context is an AllocSet, whose allocator raises nothing: the aggregate context (an
    // ExprContext's per-tuple memory, AllocSetContextCreate in execUtils.c; a window
    // aggregate's, in nodeWindowAgg.c) or the current one, never a slab context (see
    // try_palloc). The memory is zeroed (MCXT_ALLOC_ZERO), a valid MeanState, and palloc's
    // alignment (MAXALIGN) is enough for f64.
    #[expect(ffi_unwind_calls, reason = "unguarded, listed in unguarded.toml")]
    let p = unsafe {
        unguarded::MemoryContextAllocExtended(
            context,
            size,
            (pg_sys::MCXT_ALLOC_ZERO | pg_sys::MCXT_ALLOC_NO_OOM) as c_int,
        )
    };
    if p.is_null() {
        // SAFETY: plain old frames (our caller's contract).
        unsafe { raise_error(&out_of_memory(size)) }
    }
    p.cast()
}

/// Returns SQL NULL from a raw function: `PG_RETURN_NULL()`.
///
/// # Safety
/// `fcinfo` is the call's own.
#[inline(always)]
unsafe fn return_null(fcinfo: FunctionCallInfo) -> Datum {
    // SAFETY: the caller's contract.
    unsafe { (*fcinfo).isnull = true };
    Datum::null()
}

/// Argument `n`, a state of type internal, or NULL.
///
/// # Safety
/// As for `arg_datum`; the argument is a `MeanState` this aggregate made, or NULL.
#[inline(always)]
unsafe fn state_arg(fcinfo: FunctionCallInfo, n: usize) -> *mut MeanState {
    // SAFETY: the caller's contract.
    unsafe {
        if arg_is_null(fcinfo, n) {
            std::ptr::null_mut()
        } else {
            arg_datum(fcinfo, n).cast_mut_ptr()
        }
    }
}

// ANCHOR: fast_state
pg_function_info_v1!(fast_float_mean_state);

/// `xfunc_fast.float_mean_state(internal, double precision)`: the transition function, as the
/// C twin writes it.
///
/// # Safety
/// Only PostgreSQL calls it, through the `CREATE FUNCTION` below.
#[no_mangle]
pub unsafe extern "C" fn fast_float_mean_state(fcinfo: FunctionCallInfo) -> Datum {
    // SAFETY: called as declared below (not STRICT: both arguments may be NULL); the state is
    // ours (no SQL can pass an internal); this frame is a plain old frame.
    unsafe {
        let aggcontext = fast_aggregate_context(fcinfo, &STATE_NOT_AGGREGATE);
        let mut state = state_arg(fcinfo, 0);
        if arg_is_null(fcinfo, 1) {
            return if state.is_null() {
                return_null(fcinfo)
            } else {
                Datum::from(state)
            };
        }
        if state.is_null() {
            state = fast_new_state(aggcontext);
        }
        match (*state).accum(arg::<f64>(fcinfo, 1)) {
            Ok(()) => Datum::from(state),
            Err(Overflow) => raise_error(&FLOAT_OVERFLOW),
        }
    }
}

// ANCHOR_END: fast_state

pg_function_info_v1!(fast_float_mean_combine);

/// `xfunc_fast.float_mean_combine(internal, internal)`.
///
/// # Safety
/// Only PostgreSQL calls it, through the `CREATE FUNCTION` below.
#[no_mangle]
pub unsafe extern "C" fn fast_float_mean_combine(fcinfo: FunctionCallInfo) -> Datum {
    // SAFETY: as in fast_float_mean_state, with two states.
    unsafe {
        let aggcontext = fast_aggregate_context(fcinfo, &COMBINE_NOT_AGGREGATE);
        let state1 = state_arg(fcinfo, 0);
        let state2 = state_arg(fcinfo, 1);
        if state2.is_null() {
            return if state1.is_null() {
                return_null(fcinfo)
            } else {
                Datum::from(state1)
            };
        }
        if state1.is_null() {
            let copy = fast_new_state(aggcontext);
            *copy = *state2;
            return Datum::from(copy);
        }
        match (*state1).combine(&*state2) {
            Ok(()) => Datum::from(state1),
            Err(Overflow) => raise_error(&FLOAT_OVERFLOW),
        }
    }
}

pg_function_info_v1!(fast_float_mean_finalize);

/// `xfunc_fast.float_mean_finalize(internal)`: STRICT, so the state is there.
///
/// # Safety
/// Only PostgreSQL calls it, through the `CREATE FUNCTION` below.
#[no_mangle]
pub unsafe extern "C" fn fast_float_mean_finalize(fcinfo: FunctionCallInfo) -> Datum {
    // SAFETY: as in fast_float_mean_state; STRICT: argument 0 is a state.
    unsafe {
        fast_aggregate_context(fcinfo, &FINALIZE_NOT_AGGREGATE);
        match (*state_arg(fcinfo, 0)).mean() {
            Some(mean) => mean.to_datum(),
            None => return_null(fcinfo),
        }
    }
}

pg_function_info_v1!(fast_float_mean_serial);

/// `xfunc_fast.float_mean_serial(internal)`: the 24 bytes in a new `bytea`.
///
/// # Safety
/// Only PostgreSQL calls it, through the `CREATE FUNCTION` below.
#[no_mangle]
pub unsafe extern "C" fn fast_float_mean_serial(fcinfo: FunctionCallInfo) -> Datum {
    // SAFETY: as in fast_float_mean_finalize. A bytea is laid out as a text is: a varlena
    // header, then the bytes; concat_in_plain_frames allocates it with palloc, unguarded,
    // which is sound in plain old frames.
    unsafe {
        fast_aggregate_context(fcinfo, &SERIAL_NOT_AGGREGATE);
        let bytes = (*state_arg(fcinfo, 0)).to_bytes();
        match PallocText::concat_in_plain_frames(&[&bytes]) {
            Ok(varlena) => varlena.into_datum(),
            Err(e) => raise_error(&e),
        }
    }
}

pg_function_info_v1!(fast_float_mean_deserial);

/// `xfunc_fast.float_mean_deserial(bytea, internal)`.
///
/// # Safety
/// Only PostgreSQL calls it, through the `CREATE FUNCTION` below.
#[no_mangle]
pub unsafe extern "C" fn fast_float_mean_deserial(fcinfo: FunctionCallInfo) -> Datum {
    // SAFETY: as in fast_float_mean_finalize; STRICT: argument 0 is a bytea, which arg_bytes
    // detoasts unguarded (sound in plain old frames). The new state is allocated in the
    // current memory context, as the C twin's palloc does.
    unsafe {
        fast_aggregate_context(fcinfo, &DESERIAL_NOT_AGGREGATE);
        match MeanState::from_bytes(arg_bytes(fcinfo, 0)) {
            Ok(read) => {
                let state = fast_new_state(pg_sys::CurrentMemoryContext);
                *state = read;
                Datum::from(state)
            }
            Err(message) => raise_error(&Error {
                code: PgSqlErrorCode::ERRCODE_PROTOCOL_VIOLATION,
                message,
                detail: None,
            }),
        }
    }
}

extension_sql!(
    r#"
CREATE FUNCTION xfunc_fast.float_mean_state("this" internal, "value" double precision)
    RETURNS internal
    AS 'MODULE_PATHNAME', 'fast_float_mean_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION xfunc_fast.float_mean_combine("this" internal, "v" internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'fast_float_mean_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION xfunc_fast.float_mean_finalize("this" internal) RETURNS double precision
    AS 'MODULE_PATHNAME', 'fast_float_mean_finalize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION xfunc_fast.float_mean_serial("this" internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'fast_float_mean_serial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION xfunc_fast.float_mean_deserial("bytes" bytea, "_internal" internal)
    RETURNS internal
    AS 'MODULE_PATHNAME', 'fast_float_mean_deserial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE xfunc_fast.mean(value double precision) (
    SFUNC = xfunc_fast.float_mean_state,
    STYPE = internal,
    FINALFUNC = xfunc_fast.float_mean_finalize,
    COMBINEFUNC = xfunc_fast.float_mean_combine,
    SERIALFUNC = xfunc_fast.float_mean_serial,
    DESERIALFUNC = xfunc_fast.float_mean_deserial,
    PARALLEL = SAFE
);
"#,
    name = "xfunc_fast_mean",
    requires = ["xfunc_fast_schema"]
);

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use super::MeanState;
    use pgrx::prelude::*;

    #[pg_test]
    fn mean_equals_avg() {
        assert_eq!(
            Spi::get_one::<bool>(
                "SELECT mean(x) = avg(x) FROM (SELECT random() * 1e6 - 5e5 AS x \
                 FROM generate_series(1, 10000)) s"
            ),
            Ok(Some(true))
        );
        assert_eq!(
            Spi::get_one::<f64>("SELECT mean(x) FROM (VALUES (NULL::float8)) v(x)"),
            Ok(None)
        );
    }

    #[pg_test]
    fn serialized_state_round_trips() {
        let mut s = MeanState::default();
        for x in [1.5, -2.25, 1e150] {
            s.accum(x).unwrap();
        }
        // 1e300 after these: Sxx, the sum of squares, overflows, an error as in avg.
        let mut t = s;
        assert!(t.accum(1e300).is_err());
        let back = MeanState::from_bytes(&s.to_bytes()).unwrap();
        assert_eq!(back.to_bytes(), s.to_bytes());
        assert!(MeanState::from_bytes(&[0; 23]).is_err());
        assert!(MeanState::from_bytes(&[0; 25]).is_err());
    }
}
