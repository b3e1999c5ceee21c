//! An LWLock held for a scope, and interrupts held off for a scope.

use pgrx::pg_sys;

// ANCHOR: guard
/// An LWLock held by this backend, released when the guard is dropped: at the end of the
/// locked section, or while a Rust panic (which is how pgrx raises `ereport!(ERROR)`)
/// unwinds through it.
pub struct LwLockGuard(*mut pg_sys::LWLock);

impl LwLockGuard {
    /// Waits for `lock` in `mode`.
    ///
    /// # Safety
    /// `lock` must point to an initialised LWLock in shared memory.
    pub unsafe fn acquire(lock: *mut pg_sys::LWLock, mode: pg_sys::LWLockMode::Type) -> Self {
        // SAFETY: the caller guarantees `lock` is an LWLock.
        unsafe { pg_sys::LWLockAcquire(lock, mode) };
        LwLockGuard(lock)
    }
}

impl Drop for LwLockGuard {
    fn drop(&mut self) {
        // SAFETY: we hold the lock. An ERROR raised inside PostgreSQL code zeroes
        // InterruptHoldoffCount before it unwinds to us; then LWLockRelease must not run (it
        // would decrement the count below zero) and the transaction abort's LWLockReleaseAll
        // releases the lock instead. pgrx's own PgLwLock guard makes the same test.
        unsafe {
            if pg_sys::InterruptHoldoffCount > 0 {
                pg_sys::LWLockRelease(self.0);
            }
        }
    }
}
// ANCHOR_END: guard

// ANCHOR: guard_or_wait
impl LwLockGuard {
    /// Takes `lock` in `mode` if nobody holds it; `None`, at once, if somebody does
    /// (`LWLockConditionalAcquire`).
    ///
    /// # Safety
    /// `lock` must point to an initialised LWLock in shared memory.
    pub unsafe fn try_acquire(
        lock: *mut pg_sys::LWLock,
        mode: pg_sys::LWLockMode::Type,
    ) -> Option<Self> {
        // SAFETY: the caller guarantees `lock` is an LWLock. (`then`, not `then_some`: a guard
        // made and dropped when the lock was not taken would release it.)
        unsafe { pg_sys::LWLockConditionalAcquire(lock, mode) }.then(|| LwLockGuard(lock))
    }

    /// Takes `lock` in `mode` if nobody holds it; otherwise sleeps until it is released and
    /// returns `None` without taking it (`LWLockAcquireOrWait`, the call `XLogFlush` makes to
    /// wait for WALWriteLock).
    ///
    /// # Safety
    /// `lock` must point to an initialised LWLock in shared memory.
    pub unsafe fn acquire_or_wait(
        lock: *mut pg_sys::LWLock,
        mode: pg_sys::LWLockMode::Type,
    ) -> Option<Self> {
        // SAFETY: the caller guarantees `lock` is an LWLock.
        unsafe { pg_sys::LWLockAcquireOrWait(lock, mode) }.then(|| LwLockGuard(lock))
    }
}
// ANCHOR_END: guard_or_wait

// ANCHOR: hold_interrupts
/// Query cancel, `statement_timeout` and termination held off for a scope, as C's
/// `HOLD_INTERRUPTS()` ... `RESUME_INTERRUPTS()` hold them: a signal that arrives meanwhile is
/// remembered and acted on at the next `CHECK_FOR_INTERRUPTS()` after the scope.
pub struct HoldInterrupts(());

impl Default for HoldInterrupts {
    fn default() -> Self {
        Self::new()
    }
}

impl HoldInterrupts {
    pub fn new() -> Self {
        // SAFETY: a backend's own counter, read and written by its one thread.
        unsafe { pg_sys::InterruptHoldoffCount += 1 };
        HoldInterrupts(())
    }
}

impl Drop for HoldInterrupts {
    fn drop(&mut self) {
        // SAFETY: as in `new`. An ERROR raised inside PostgreSQL code has zeroed the count
        // already (errfinish, elog.c), as for `LwLockGuard`: then there is nothing to resume.
        unsafe { pg_sys::InterruptHoldoffCount = pg_sys::InterruptHoldoffCount.saturating_sub(1) };
    }
}
// ANCHOR_END: hold_interrupts
