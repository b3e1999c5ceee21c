//! What the chapters need and pgrx does not provide, written once: the SQL names PostgreSQL
//! prints in its messages, allocation that fails with an ERROR instead of an abort ([`try_vec`],
//! [`palloc`]: `try_palloc` and the `text` result `PallocText`), a `text` in the database
//! encoding ([`DbText`]), files with PostgreSQL's error reporting ([`file`]), an LWLock guard
//! ([`LwLockGuard`]), the shared-memory hook pair ([`ShmemStruct`]), and the layer under the
//! functions written without `#[pg_extern]`: the version-1 convention by hand ([`fmgr`]), an
//! `ERROR` raised as C raises it ([`elog`]), and the PostgreSQL functions called without pgrx's
//! guard ([`unguarded`], each listed with its rule in `unguarded.toml`). Each chapter's module
//! keeps only what the chapter teaches.
//!
//! The C twin is `c/pg_support.c`; it has the shared-memory hook pair (C needs none of the
//! rest: PostgreSQL's own headers give it).

use pgrx::prelude::*;
use std::ffi::CStr;

pub mod atomics;
pub mod elog;
pub mod file;
pub mod fmgr;
pub mod funcapi;
mod lwlock;
pub mod miscadmin;
pub mod palloc;
mod shmem;
mod text;
pub mod unguarded;

pub use lwlock::{HoldInterrupts, LwLockGuard};
pub use shmem::ShmemStruct;
pub use text::DbText;

/// `MaxAllocSize` (1 GB - 1): the largest request `palloc` accepts, and a bound on a varlena.
pub const MAX_ALLOC_SIZE: usize = 0x3fff_ffff;

/// The SQL name of a type, as PostgreSQL prints it in messages (`format_type_be`).
pub fn type_name(oid: pg_sys::Oid) -> String {
    // SAFETY: format_type_be returns a palloc'd, NUL-terminated string for any OID (it prints
    // "???" for an unknown one); we copy it before the memory context can go away.
    unsafe { CStr::from_ptr(pg_sys::format_type_be(oid)) }
        .to_string_lossy()
        .into_owned()
}

/// The SQL name of the function being called, for messages (`get_func_name`): one C symbol
/// may serve several SQL functions, so the name comes from the call, not from the code.
///
/// # Safety
/// `fcinfo` must be the call's own `FunctionCallInfo`, as pgrx passes it.
pub unsafe fn function_name(fcinfo: pg_sys::FunctionCallInfo) -> String {
    // SAFETY: fmgr sets flinfo for every call; get_func_name reads the syscache and returns a
    // palloc'd copy of the name, or NULL if no function has that OID.
    let name = unsafe { pg_sys::get_func_name((*(*fcinfo).flinfo).fn_oid) };
    if name.is_null() {
        return "???".into();
    }
    // SAFETY: a non-NULL result is a NUL-terminated string.
    unsafe { CStr::from_ptr(name) }
        .to_string_lossy()
        .into_owned()
}

// ANCHOR: try_vec
/// An empty `Vec` with room for `len` elements, or `ERROR` 53200 (`out of memory`): never the
/// process abort that Rust's infallible allocation (`Vec::with_capacity`, `vec!`, `push`)
/// ends in when `malloc` fails. Use it for every allocation whose size a caller controls.
pub fn try_vec<T>(len: usize) -> Vec<T> {
    let mut vec = Vec::new();
    if alloc_failure_injected() || vec.try_reserve_exact(len).is_err() {
        palloc::out_of_memory(len.saturating_mul(std::mem::size_of::<T>())).raise();
    }
    vec
}
// ANCHOR_END: try_vec

/// In the `#[pg_test]` build a test can make the next `try_vec` of its backend fail, to force
/// the out-of-memory path that no real machine reaches on demand.
#[cfg(any(test, feature = "pg_test"))]
static FAIL_NEXT_ALLOC: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

#[cfg(any(test, feature = "pg_test"))]
fn alloc_failure_injected() -> bool {
    FAIL_NEXT_ALLOC.swap(false, std::sync::atomic::Ordering::Relaxed)
}

#[cfg(not(any(test, feature = "pg_test")))]
#[inline(always)]
fn alloc_failure_injected() -> bool {
    false
}

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;
    use std::sync::atomic::Ordering;

    #[pg_test]
    fn try_vec_failure_is_an_error_and_the_backend_lives() {
        // The test runs inside the backend: the next try_vec here fails, as if malloc had.
        super::FAIL_NEXT_ALLOC.store(true, Ordering::Relaxed);
        assert_eq!(
            crate::testing::sqlstate_of("SELECT reverse_bytes('\\x010203')"),
            Some("53200".into())
        );
        // The flag was consumed; the same backend answers the next call.
        assert!(!super::FAIL_NEXT_ALLOC.load(Ordering::Relaxed));
        assert_eq!(
            Spi::get_one::<Vec<u8>>("SELECT reverse_bytes('\\x010203')"),
            Ok(Some(vec![3, 2, 1]))
        );
    }
}
