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

/// `float_overflow_error()` of PostgreSQL's `utils/float.h`: SQLSTATE 22003.
fn float_overflow_error() -> ! {
    ereport!(
        ERROR,
        PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
        "value out of range: overflow"
    );
}

impl MeanState {
    /// `float8_accum`'s Youngs-Cramer step, operation for operation.
    pub fn accum(&mut self, newval: f64) {
        let n = self.n + 1.0;
        let sx = self.sx + newval;
        let mut sxx = self.sxx;
        if self.n > 0.0 {
            let tmp = newval * n - sx;
            sxx += tmp * tmp / (n * self.n);
            // An overflow is an error only when finite inputs give an infinite result.
            if sx.is_infinite() || sxx.is_infinite() {
                if !self.sx.is_infinite() && !newval.is_infinite() {
                    float_overflow_error();
                }
                sxx = f64::NAN;
            }
        } else if newval.is_nan() || newval.is_infinite() {
            sxx = f64::NAN;
        }
        *self = MeanState { n, sx, sxx };
    }

    /// `float8_combine`'s formula: `other` merged into `self`.
    pub fn combine(&mut self, other: &MeanState) {
        if other.n == 0.0 {
            return;
        }
        if self.n == 0.0 {
            *self = *other;
            return;
        }
        let n = self.n + other.n;
        // float8_pl: an infinite sum of finite terms is an overflow.
        let sx = self.sx + other.sx;
        if sx.is_infinite() && !self.sx.is_infinite() && !other.sx.is_infinite() {
            float_overflow_error();
        }
        let tmp = self.sx / self.n - other.sx / other.n;
        let sxx = self.sxx + other.sxx + self.n * other.n * tmp * tmp / n;
        if sxx.is_infinite() && !self.sxx.is_infinite() && !other.sxx.is_infinite() {
            float_overflow_error();
        }
        *self = MeanState { n, sx, sxx };
    }

    /// `float8_avg`: Sx / N, NULL for no input.
    pub fn mean(&self) -> Option<f64> {
        (self.n != 0.0).then(|| self.sx / self.n)
    }

    /// The serialized form: three `float8`s in network byte order, as `pq_sendfloat8` writes
    /// them in the C twin.
    pub fn to_bytes(self) -> [u8; 24] {
        let mut out = [0u8; 24];
        for (chunk, v) in out.chunks_exact_mut(8).zip([self.n, self.sx, self.sxx]) {
            chunk.copy_from_slice(&v.to_be_bytes());
        }
        out
    }

    /// The state back from [`MeanState::to_bytes`], or the error `pq_getmsgfloat8` (fewer than
    /// 24 bytes) or `pq_getmsgend` (more) raises in the C twin: SQLSTATE 08P01 either way.
    pub fn from_bytes(bytes: &[u8]) -> Result<MeanState, &'static str> {
        let Ok(bytes) = <&[u8; 24]>::try_from(bytes) else {
            return Err(if bytes.len() < 24 {
                "insufficient data left in message"
            } else {
                "invalid message format"
            });
        };
        let f = |i: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&bytes[i * 8..i * 8 + 8]);
            f64::from_be_bytes(b)
        };
        Ok(MeanState {
            n: f(0),
            sx: f(1),
            sxx: f(2),
        })
    }
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
            unsafe { current.get_or_insert_default::<MeanState>() }.accum(newval);
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
            unsafe { current.get_or_insert_default::<MeanState>() }.combine(other);
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
            ereport!(ERROR, PgSqlErrorCode::ERRCODE_PROTOCOL_VIOLATION, message);
        }
    }
}
// ANCHOR_END: mean_deserial

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
        for x in [1.5, -2.25, 1e300] {
            s.accum(x);
        }
        let back = MeanState::from_bytes(&s.to_bytes()).unwrap();
        assert_eq!(back.to_bytes(), s.to_bytes());
        assert!(MeanState::from_bytes(&[0; 23]).is_err());
        assert!(MeanState::from_bytes(&[0; 25]).is_err());
    }
}
