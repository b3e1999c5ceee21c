//! An LWLock held for a scope.

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
