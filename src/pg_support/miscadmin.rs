//! `CHECK_FOR_INTERRUPTS()` (`miscadmin.h`) for the functions without `#[pg_extern]`: a long
//! loop checks at each turn whether a signal asked the backend to cancel the query or to end,
//! and then lets PostgreSQL act on it.

use super::unguarded;
use pgrx::pg_sys;

// ANCHOR: check_for_interrupts
/// `CHECK_FOR_INTERRUPTS()`: one read of `InterruptPending`, and only when a signal handler
/// set it, `ProcessInterrupts()`, which raises the `ERROR` of a cancelled query or a timeout, or
/// the `FATAL` of a backend told to end.
///
/// # Safety
/// On the backend's thread, and every Rust frame between the caller and the nearest
/// `sigsetjmp` is a plain old frame: `ProcessInterrupts` is called without pgrx's guard.
#[inline(always)]
#[expect(ffi_unwind_calls, reason = "unguarded, listed in unguarded.toml")]
pub unsafe fn check_for_interrupts() {
    // SAFETY: InterruptPending is a `volatile sig_atomic_t` that a signal handler sets: read as
    // C reads it, once per check, never hoisted out of the caller's loop. ProcessInterrupts'
    // ERROR jumps over plain old frames only (the caller's contract).
    unsafe {
        if std::ptr::read_volatile(&raw const pg_sys::InterruptPending) != 0 {
            unguarded::ProcessInterrupts();
        }
    }
}
// ANCHOR_END: check_for_interrupts
