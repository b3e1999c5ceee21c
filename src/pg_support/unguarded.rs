//! The PostgreSQL functions this crate calls without pgrx's `sigsetjmp` guard, declared once.
//!
//! pgrx's build script wraps every function of its bindings in `pg_guard_ffi_boundary`
//! (pgrx-bindgen, `build.rs`, `apply_pg_guard`, which puts `#[pg_guard]` on each `extern` block;
//! pgrx-macros, `rewriter.rs`, `foreign_item_fn`), so `pg_sys::palloc` is a guarded call and
//! these are not. An `ERROR` raised by one of them is a `siglongjmp` to the nearest `sigsetjmp`
//! (a `PG_TRY`, the main loop, or pgrx's guard): every Rust frame in between is jumped over, and
//! must hold nothing with a destructor and no `catch_unwind` (a *plain old frame*).
//!
//! The rules, held by a check rather than by care:
//!
//! - every function declared here has one entry in `unguarded.toml`, beside this file: whether
//!   it can raise an `ERROR` or a `FATAL`, where PostgreSQL 15 says so, and which of our frames
//!   an `ERROR` from it may jump over;
//! - `tools/test/unguarded_check.py` (`just unguarded-check`, in `just lint`) compiles the crate
//!   to MIR and fails when a declaration has no entry, when an entry's frames are not exactly
//!   the functions that call it (directly, or through a function that does), or when such a
//!   frame holds a value whose type is not plain: references, raw pointers, numbers, and the
//!   types of [`plain_types!`] below, or `Option`s, `Result`s, tuples and arrays of those.
//!
//! The chapter "Rust at the Speed of C" renders its table of these functions from that list.

use pgrx::pg_sys::{self, Datum};
use std::ffi::{c_char, c_int, c_void};

// ANCHOR: unguarded
// Same names and C signatures as in pgrx's bindings (`errstart` and friends, which pgrx keeps
// out of them, as pgrx declares them in `panic.rs`, `do_ereport`). Every call of one of these
// carries a `// SAFETY:` that says which rule makes it sound, and `unguarded.toml` lists it.
unsafe extern "C-unwind" {
    pub fn palloc(size: usize) -> *mut c_void;
    pub fn MemoryContextAllocExtended(
        context: pg_sys::MemoryContext,
        size: usize,
        flags: c_int,
    ) -> *mut c_void;
    pub fn pg_detoast_datum_packed(datum: *mut pg_sys::varlena) -> *mut pg_sys::varlena;
    pub fn get_fn_expr_argtype(flinfo: *mut pg_sys::FmgrInfo, argnum: c_int) -> pg_sys::Oid;
    pub fn get_typlenbyvalalign(
        typid: pg_sys::Oid,
        typlen: *mut i16,
        typbyval: *mut bool,
        typalign: *mut c_char,
    );
    pub fn construct_md_array(
        elems: *mut Datum,
        nulls: *mut bool,
        ndims: c_int,
        dims: *mut c_int,
        lbs: *mut c_int,
        elmtype: pg_sys::Oid,
        elmlen: c_int,
        elmbyval: bool,
        elmalign: c_char,
    ) -> *mut pg_sys::ArrayType;
    pub fn LWLockAcquire(lock: *mut pg_sys::LWLock, mode: pg_sys::LWLockMode::Type) -> bool;
    pub fn LWLockRelease(lock: *mut pg_sys::LWLock);
    pub fn errstart(elevel: c_int, domain: *const c_char) -> bool;
    pub fn errcode(sqlerrcode: c_int) -> c_int;
    pub fn errmsg(fmt: *const c_char, ...) -> c_int;
    pub fn errdetail(fmt: *const c_char, ...) -> c_int;
    pub fn errfinish(filename: *const c_char, lineno: c_int, funcname: *const c_char);
}
// ANCHOR_END: unguarded

// ANCHOR: plain_types
/// The named types a frame that an unguarded `ERROR` may jump over is allowed to hold. The
/// compiler checks here that none has a destructor (`needs_drop`); the check of
/// `unguarded.toml` accepts no other named type in such a frame.
macro_rules! plain_types {
    ($($ty:ty),* $(,)?) => {
        $(const _: () = assert!(!std::mem::needs_drop::<$ty>());)*
    };
}

plain_types!(
    pgrx::pg_sys::Datum,
    pgrx::pg_sys::Oid,
    pgrx::pg_sys::Point,
    pgrx::PgSqlErrorCode,
    std::convert::Infallible,
    crate::pg_support::elog::Error,
    crate::pg_support::palloc::PallocText,
);
// ANCHOR_END: plain_types
