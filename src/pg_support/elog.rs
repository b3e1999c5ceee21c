//! An `ERROR` described once, raised two ways: unguarded, as C raises it, from a function whose
//! frames are plain old frames ([`raise_error`]); or through pgrx's guard, from any frame
//! ([`Error::raise`]).

use super::unguarded;
use pgrx::pg_sys;
use pgrx::PgSqlErrorCode;
use std::ffi::{c_int, CStr};

// ANCHOR: error
/// An error to raise: its SQLSTATE, its message, and an optional detail: a format with one
/// `%zu`, and the `size_t` that fills it.
pub struct Error {
    pub code: PgSqlErrorCode,
    pub message: &'static CStr,
    pub detail: Option<(&'static CStr, usize)>,
}

/// `ereport(ERROR, (errcode(code), errmsg("%s", message)))`, as C writes it: the calls `elog.h`'s
/// macro makes, unguarded. `errfinish` does not return: it jumps to the `sigsetjmp` of the
/// nearest `PG_TRY` (or of the main loop, or of pgrx's guard), over every frame in between.
///
/// It is `extern "C"`, a function that cannot unwind: a call to it needs no landing pad, so a
/// caller that calls nothing else stays a leaf function on its path that returns normally.
///
/// # Safety
/// Every Rust frame between the caller and the nearest `sigsetjmp` must be a plain old frame:
/// nothing with a destructor, no `catch_unwind`.
#[cold]
#[inline(never)]
pub unsafe extern "C" fn raise_error(error: &Error) -> ! {
    // SAFETY: plain old frames (the caller's contract), and this one is one too: `error` is a
    // borrow. The format strings take the arguments given: one string, one size_t.
    unsafe {
        if unguarded::errstart(pg_sys::PGERROR as c_int, std::ptr::null()) {
            unguarded::errcode(error.code as c_int);
            unguarded::errmsg(c"%s".as_ptr(), error.message.as_ptr());
            if let Some((format, size)) = error.detail {
                unguarded::errdetail(format.as_ptr(), size);
            }
        }
        unguarded::errfinish(FILE.as_ptr(), line!() as c_int, c"raise_error".as_ptr());
    }
    // errfinish returns only below ERROR, and this is ERROR.
    std::process::abort()
}

impl Error {
    /// The same `ERROR`, raised from any frame, such as a `#[pg_extern]` function's: through
    /// pgrx's guard, whose `sigsetjmp` catches it and goes on as a Rust panic, which unwinds
    /// properly (dropping what the frames hold) to pgrx's wrapper, which raises it again.
    pub fn raise(&self) -> ! {
        // SAFETY: the closure is the only frame between raise_error and the guard's sigsetjmp,
        // and it holds a borrow: a plain old frame. pg_guard_ffi_boundary panics rather than
        // call PostgreSQL from a thread that is not the backend's.
        unsafe { pg_sys::ffi::pg_guard_ffi_boundary::<(), _>(|| raise_error(self)) };
        unreachable!("raise_error returned")
    }
}
// ANCHOR_END: error

/// This file's name, for the error's location (`errfinish`).
const FILE: &CStr = match CStr::from_bytes_with_nul(concat!(file!(), "\0").as_bytes()) {
    Ok(file) => file,
    Err(_) => panic!("a file name with a NUL in it"),
};
