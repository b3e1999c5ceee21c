//! Shared memory and LWLocks (chapter 12): a counter every backend sees.
//!
//! What lives in shared memory: one [`SharedCounter`], named "xfunc shared counter" in the
//! shared memory index, holding a running total (`value`) and the number of updates made to it
//! (`updates`). Both fields are guarded by one LWLock, the only lock of the named tranche
//! "xfunc"; the tranche name is what `pg_stat_activity.wait_event` shows while a backend waits.
//!
//! Locking: readers take the lock `LW_SHARED`, writers `LW_EXCLUSIVE`, always through
//! [`LwLockGuard`], which releases it when dropped, on every path out of the locked section.
//! The lock is never taken together with another lock.
//!
//! Set-up: only when the library is loaded by `shared_preload_libraries`. `_PG_init` asks for
//! the struct through [`ShmemStruct`] (`pg_support`), whose two hooks (PostgreSQL 15's
//! protocol) do the work: `shmem_request_hook` asks for the space and the tranche,
//! `shmem_startup_hook` creates the struct. Without preloading no hook runs, the pointer stays
//! null, and every function raises SQLSTATE 55000.
//!
//! Crash: shared memory is reinitialised when the postmaster restarts after a backend crash,
//! so the counter starts again from zero. It is statistics, not data.
//!
//! The C twin is `c/shared_memory.c`; its hooks are in `c/pg_support.c`, as ours are in
//! `src/pg_support/shmem.rs`.

use pgrx::pg_sys;
use pgrx::prelude::*;

use crate::pg_support::{LwLockGuard, ShmemStruct};
use crate::returning_rows::checked_result_tupdesc;

// ANCHOR: shared_struct
/// The struct in shared memory. `value` and `updates` are guarded by `lock`.
#[repr(C)]
pub(crate) struct SharedCounter {
    /// The one lock of tranche "xfunc".
    pub(crate) lock: *mut pg_sys::LWLock,
    /// The running total.
    pub(crate) value: i64,
    /// How many `shared_counter_add` calls changed it.
    pub(crate) updates: i64,
    /// For the contention benchmark: a count changed by atomic instructions only, ...
    bumps_atomic: pg_sys::pg_atomic_uint64,
    /// ... and one guarded by the spinlock `spin`.
    spin: pg_sys::slock_t,
    bumps_spin: i64,
}

/// The struct, found by name in the shared memory index, and its lock: the tranche "xfunc".
pub(crate) static COUNTER: ShmemStruct<SharedCounter> =
    ShmemStruct::new(c"xfunc shared counter", c"xfunc", SharedCounter::init);

impl SharedCounter {
    /// Its first value, written where the startup hook found room for it.
    ///
    /// # Safety
    /// `this` points to uninitialised shared memory of the struct's size and alignment, which
    /// no other process sees yet.
    unsafe fn init(this: *mut SharedCounter, lock: *mut pg_sys::LWLock) {
        // SAFETY: as the caller guarantees; the atomic and the spinlock are then initialised
        // in place, as PostgreSQL's functions for them require.
        unsafe {
            this.write(SharedCounter {
                lock,
                value: 0,
                updates: 0,
                bumps_atomic: pg_sys::pg_atomic_uint64 { value: 0 },
                spin: 0,
                bumps_spin: 0,
            });
            pg_sys::pg_atomic_init_u64(&raw mut (*this).bumps_atomic, 0);
            pg_sys::SpinLockInit(&raw mut (*this).spin);
        }
    }
}
// ANCHOR_END: shared_struct

// ANCHOR: init
/// Called from `_PG_init`: asks for the struct (when the library is being preloaded; the
/// hooks are in `pg_support`, shared with chapter 13).
pub fn init() {
    COUNTER.request();
    // pgrx's own way, for the contention benchmark: PgLwLock's hooks, installed by its macro.
    pgrx::pg_shmem_init!(PGRX_TOTALS);
}
// ANCHOR_END: init

// ANCHOR: add
/// `shared_counter_add(delta bigint) RETURNS bigint`, our example for the manual's section
/// "Shared Memory and LWLocks" (which describes the set-up but shows no function): adds
/// `delta` to the shared total and returns the new total. The read, the check and the write
/// happen under the exclusive lock, so no concurrent update is lost. When either count would
/// overflow (the total, or the number of updates after 2^63 - 1 of them), nothing changes and
/// SQLSTATE 22003 is raised (the guard releases the lock as the error unwinds).
///
/// The C version declares `PG_FUNCTION_INFO_V1`, reads `PG_GETARG_INT64(0)` and releases the
/// lock by hand before `ereport`; here pgrx writes the wrapper, and `Drop` releases the lock.
#[pg_extern(volatile)]
pub fn shared_counter_add(delta: i64) -> i64 {
    let shared = COUNTER.get();
    // SAFETY: `shared` points to the struct in shared memory, which lives as long as the
    // process; its `lock` was set once, before any backend existed, and never changes.
    let _guard = unsafe { LwLockGuard::acquire((*shared).lock, pg_sys::LWLockMode::LW_EXCLUSIVE) };
    // SAFETY: we hold the lock exclusively, so no other process reads or writes these fields.
    unsafe {
        let (Some(sum), Some(updates)) = (
            (*shared).value.checked_add(delta),
            (*shared).updates.checked_add(1),
        ) else {
            ereport!(
                ERROR,
                PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                "bigint out of range"
            );
        };
        (*shared).value = sum;
        (*shared).updates = updates;
        sum
    }
}
// ANCHOR_END: add

// ANCHOR: read
/// `shared_counter() RETURNS TABLE(value bigint, updates bigint)`: both fields read under one
/// shared lock, a consistent pair, while other readers go on. The C version fills a
/// tuplestore (`InitMaterializedSRF`); pgrx builds the rows from the iterator.
#[pg_extern(volatile)]
fn shared_counter(
    fcinfo: pg_sys::FunctionCallInfo,
) -> TableIterator<'static, (name!(value, i64), name!(updates, i64))> {
    // SAFETY: fcinfo is this call's, passed by pgrx's wrapper. (The row type is the function's
    // own OUT parameters, which no ALTER TYPE can change; checked all the same, as every
    // function that builds a row checks it: chapter 9.)
    unsafe { checked_result_tupdesc(fcinfo, &[pg_sys::INT8OID; 2]) };
    let shared = COUNTER.get();
    let row = {
        // SAFETY: as in shared_counter_add.
        let _guard = unsafe { LwLockGuard::acquire((*shared).lock, pg_sys::LWLockMode::LW_SHARED) };
        // SAFETY: we hold the lock; writers hold it exclusively, so the fields do not change.
        unsafe { ((*shared).value, (*shared).updates) }
    };
    TableIterator::once(row)
}
// ANCHOR_END: read

// ANCHOR: swap
/// Exercise of chapter 12: `shared_counter_swap(new_value bigint) RETURNS bigint` sets the
/// shared total to `new_value` and returns the total it replaced; it counts as one update (and
/// is refused, SQLSTATE 22003, after 2^63 - 1 of them, as `shared_counter_add` is).
///
/// Reading with `shared_counter()` and then writing would let another backend's update fall
/// in between and be lost; under one exclusive lock the read and the write are one step. The C
/// version acquires and releases the lock by hand; here the guard releases it.
#[pg_extern(volatile)]
pub fn shared_counter_swap(new_value: i64) -> i64 {
    let shared = COUNTER.get();
    // SAFETY: as in shared_counter_add.
    let _guard = unsafe { LwLockGuard::acquire((*shared).lock, pg_sys::LWLockMode::LW_EXCLUSIVE) };
    // SAFETY: we hold the lock exclusively, so no other process reads or writes these fields.
    unsafe {
        let Some(updates) = (*shared).updates.checked_add(1) else {
            ereport!(
                ERROR,
                PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                "bigint out of range"
            );
        };
        let old = (*shared).value;
        (*shared).value = new_value;
        (*shared).updates = updates;
        old
    }
}
// ANCHOR_END: swap

/// `shared_counter_reset() RETURNS void`: sets both fields back to zero, under the exclusive
/// lock, and the benchmark's counts too (each under its own protection). The C version writes
/// the V1 wrapper and `PG_RETURN_VOID()`; pgrx derives both from the Rust signature, and the
/// guard releases the lock.
#[pg_extern(volatile)]
pub fn shared_counter_reset() {
    let shared = COUNTER.get();
    {
        // SAFETY: `shared` points to the struct in shared memory, which lives as long as the
        // process; its `lock` was set once, before any backend existed, and never changes.
        let _guard =
            unsafe { LwLockGuard::acquire((*shared).lock, pg_sys::LWLockMode::LW_EXCLUSIVE) };
        // SAFETY: we hold the lock exclusively.
        unsafe {
            (*shared).value = 0;
            (*shared).updates = 0;
        }
    }
    // SAFETY: the atomic is written with an atomic instruction; the spinlock's count under
    // the spinlock, held for two stores (nothing in between can raise an ERROR).
    unsafe {
        pg_sys::pg_atomic_write_u64(&raw mut (*shared).bumps_atomic, 0);
        pg_sys::SpinLockAcquire(&raw mut (*shared).spin);
        (*shared).bumps_spin = 0;
        pg_sys::SpinLockRelease(&raw mut (*shared).spin);
    }
    *PGRX_TOTALS.exclusive() = Totals::default();
}

// ANCHOR: contention
// For the contention benchmark (benches/lwlock_contention.rs): the other ways PostgreSQL offers
// to share a number between backends. Each `bump` adds one and returns the count after it.

/// `shared_counter_value() RETURNS bigint`: the total, read under the lock in shared mode:
/// readers never wait for each other, only for a writer.
#[pg_extern(volatile)]
pub fn shared_counter_value() -> i64 {
    let shared = COUNTER.get();
    // SAFETY: as in shared_counter_add.
    let _guard = unsafe { LwLockGuard::acquire((*shared).lock, pg_sys::LWLockMode::LW_SHARED) };
    // SAFETY: we hold the lock; writers hold it exclusively, so the field does not change.
    unsafe { (*shared).value }
}

/// `shared_counter_bump_atomic() RETURNS bigint`: no lock at all: `pg_atomic_fetch_add_u64`
/// is one locked instruction (`lock xadd` on x86-64). pgrx reaches PostgreSQL's inline
/// function through a C shim, one function call; C inlines it.
#[pg_extern(volatile)]
pub fn shared_counter_bump_atomic() -> i64 {
    let shared = COUNTER.get();
    // SAFETY: the atomic was initialised by the startup hook; atomic operations need no lock.
    let before = unsafe { pg_sys::pg_atomic_fetch_add_u64(&raw mut (*shared).bumps_atomic, 1) };
    before.wrapping_add(1) as i64
}

/// `shared_counter_bump_spinlock() RETURNS bigint`: the count under a spinlock, which a
/// waiting backend spins on (and then sleeps a little, `SpinDelay`) instead of queueing.
/// Held for a few instructions; nothing in between may raise an ERROR, or panic: the count
/// wraps, as the atomic one does (and the C one, compiled with `-fwrapv` as PostgreSQL is).
#[pg_extern(volatile)]
pub fn shared_counter_bump_spinlock() -> i64 {
    let shared = COUNTER.get();
    // SAFETY: the spinlock was initialised by the startup hook; the count is only touched
    // while it is held, and nothing between acquire and release can fail.
    unsafe {
        pg_sys::SpinLockAcquire(&raw mut (*shared).spin);
        let count = (*shared).bumps_spin.wrapping_add(1);
        (*shared).bumps_spin = count;
        pg_sys::SpinLockRelease(&raw mut (*shared).spin);
        count
    }
}

/// What [`PGRX_TOTALS`] guards: the same two fields as [`SharedCounter`].
#[derive(Clone, Copy, Default)]
#[repr(C)]
pub struct Totals {
    value: i64,
    updates: i64,
}

// SAFETY: two integers, no pointer: the same bytes mean the same in every process.
unsafe impl pgrx::PGRXSharedMemory for Totals {}

// SAFETY: no other shared memory struct or tranche of this library has this name.
static PGRX_TOTALS: pgrx::PgLwLock<Totals> = unsafe { pgrx::PgLwLock::new(c"xfunc_pgrx_totals") };

/// `rust_counter_add_pglwlock(delta bigint) RETURNS bigint` (Rust build only): what
/// `shared_counter_add` does, with pgrx's `PgLwLock` (its hooks, its struct, its guard).
/// `PgLwLock` panics when its hooks did not run; our own pointer tells first (55000).
#[pg_extern(volatile)]
pub fn rust_counter_add_pglwlock(delta: i64) -> i64 {
    COUNTER.get();
    let mut totals = PGRX_TOTALS.exclusive();
    let (Some(sum), Some(updates)) = (
        totals.value.checked_add(delta),
        totals.updates.checked_add(1),
    ) else {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
            "bigint out of range"
        );
    };
    totals.value = sum;
    totals.updates = updates;
    sum
}

/// `rust_counter_add_by_hand(delta bigint) RETURNS bigint` (Rust build only):
/// `shared_counter_add` without [`LwLockGuard`]: acquire and release by hand, as the C
/// version does, the lock released before the ERROR.
#[pg_extern(volatile)]
pub fn rust_counter_add_by_hand(delta: i64) -> i64 {
    let shared = COUNTER.get();
    // SAFETY: as in shared_counter_add; every path below releases the lock once.
    let sum = unsafe {
        pg_sys::LWLockAcquire((*shared).lock, pg_sys::LWLockMode::LW_EXCLUSIVE);
        let sum = match (
            (*shared).value.checked_add(delta),
            (*shared).updates.checked_add(1),
        ) {
            (Some(sum), Some(updates)) => {
                (*shared).value = sum;
                (*shared).updates = updates;
                Some(sum)
            }
            _ => None,
        };
        pg_sys::LWLockRelease((*shared).lock);
        sum
    };
    let Some(sum) = sum else {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
            "bigint out of range"
        );
    };
    sum
}
// ANCHOR_END: contention

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;

    // The pgrx test cluster does not preload xfunc: the functions must refuse, not crash.
    #[pg_test]
    fn shared_counter_without_preload_is_55000() {
        for query in [
            "SELECT shared_counter_add(1)",
            "SELECT * FROM shared_counter()",
            "SELECT shared_counter_reset()",
            "SELECT shared_counter_swap(1)",
            "SELECT shared_counter_value()",
            "SELECT shared_counter_bump_atomic()",
            "SELECT shared_counter_bump_spinlock()",
            "SELECT rust_counter_add_pglwlock(1)",
            "SELECT rust_counter_add_by_hand(1)",
        ] {
            assert_eq!(
                crate::testing::sqlstate_of(query),
                Some("55000".into()),
                "{query}"
            );
        }
    }

    #[pg_test(error = "xfunc must be loaded via shared_preload_libraries")]
    fn shared_counter_without_preload_message() {
        Spi::get_one::<i64>("SELECT shared_counter_add(1)").unwrap();
    }
}
