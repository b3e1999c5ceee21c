//! What `port/atomics.h` and `storage/spin.h` give C as inline code, inline in Rust too, for the
//! functions without `#[pg_extern]`. pgrx reaches them through functions of its C shim
//! (`pg_sys::pg_atomic_fetch_add_u64`, `pg_sys::SpinLockAcquire`, `pg_sys::SpinLockRelease`),
//! each a call through its `sigsetjmp` guard where C has one or two instructions.

use super::unguarded;
use pgrx::pg_sys;
use std::ffi::{c_int, CStr};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};

// ANCHOR: atomics
/// `pg_atomic_fetch_add_u64(ptr, add)`: adds `add` and returns the value before, with full
/// barrier semantics, as `port/atomics.h` promises: `lock xadd` on x86-64, the instruction the
/// C build inlines.
///
/// # Safety
/// `ptr` points to a `pg_atomic_uint64` that `pg_atomic_init_u64` initialised, and that is
/// only ever changed by atomic operations.
#[inline(always)]
pub unsafe fn pg_atomic_fetch_add_u64(ptr: *mut pg_sys::pg_atomic_uint64, add: i64) -> u64 {
    // SAFETY: the caller's contract; the field is a u64 aligned to 8 bytes, as AtomicU64 needs.
    unsafe { AtomicU64::from_ptr(&raw mut (*ptr).value) }.fetch_add(add as u64, Ordering::SeqCst)
}

/// `SpinLockAcquire(lock)`: `S_LOCK` of `s_lock.h`, one test-and-set (`lock xchgb` on x86-64,
/// an atomic swap with acquire ordering); only when the lock was taken, `s_lock`, which spins
/// and sleeps until it is free.
///
/// # Safety
/// `lock` points to a spinlock that `SpinLockInit` initialised. As in C, the caller holds it
/// for a few instructions, calls nothing that can raise an `ERROR` meanwhile, and releases it.
#[inline(always)]
#[expect(ffi_unwind_calls, reason = "unguarded, listed in unguarded.toml")]
pub unsafe fn spin_lock_acquire(lock: *mut pg_sys::slock_t) {
    // SAFETY: the caller's contract. s_lock raises no ERROR: after about a minute of spinning it
    // raises PANIC (stuck spinlock), which ends the process without jumping over any frame.
    unsafe {
        if AtomicU8::from_ptr(lock).swap(1, Ordering::Acquire) != 0 {
            unguarded::s_lock(
                lock,
                FILE.as_ptr(),
                line!() as c_int,
                c"spin_lock_acquire".as_ptr(),
            );
        }
    }
}

/// `SpinLockRelease(lock)`: `S_UNLOCK`, a store of 0 with release ordering (on x86-64 a plain
/// store behind a compiler barrier, as in C).
///
/// # Safety
/// The caller holds the spinlock `lock`.
#[inline(always)]
pub unsafe fn spin_lock_release(lock: *mut pg_sys::slock_t) {
    // SAFETY: the caller's contract.
    unsafe { AtomicU8::from_ptr(lock) }.store(0, Ordering::Release);
}
// ANCHOR_END: atomics

/// This file's name, for the `stuck spinlock` message (`s_lock`).
const FILE: &CStr = match CStr::from_bytes_with_nul(concat!(file!(), "\0").as_bytes()) {
    Ok(file) => file,
    Err(_) => panic!("a file name with a NUL in it"),
};
