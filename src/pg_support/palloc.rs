//! Memory from PostgreSQL's allocator, asked for in a way that fails with an `ERROR` rather than
//! a process abort: [`try_palloc`], and [`PallocText`], a `text` result built by one allocation
//! at its final size.

use super::elog::Error;
use super::unguarded;
use super::MAX_ALLOC_SIZE;
use pgrx::callconv::{BoxRet, FcInfo};
use pgrx::pg_sys::{self, Datum};
use pgrx::prelude::*;
use std::ffi::c_int;
use std::ptr::NonNull;

// ANCHOR: try_palloc
/// `MaxAllocHugeSize` (`SIZE_MAX / 2`): the largest request with `MCXT_ALLOC_HUGE`.
const MAX_ALLOC_HUGE_SIZE: usize = usize::MAX / 2;

/// `size` bytes in `CurrentMemoryContext`, or `None` when the memory is not there: `palloc`'s
/// allocator asked not to raise `out of memory` (`MCXT_ALLOC_NO_OOM`). It raises no `ERROR`, so
/// it needs no `sigsetjmp` guard wherever it is called. A caller that builds a varlena checks
/// the 1 GB limit itself, before it asks.
///
/// # Safety
/// - Called on the backend's own thread, the one PostgreSQL calls the extension on: nothing
///   checks that here (pgrx checks it in its guard, which this call skips).
/// - `CurrentMemoryContext` is not a slab context, whose allocator raises an `ERROR` for any
///   size but its own. PostgreSQL 15 never makes one current: it creates slab contexts only
///   for logical decoding (`ReorderBufferAllocate` in `reorderbuffer.c`) and allocates in them
///   by name, `MemoryContextAlloc(rb->change_context, ...)`; nor does this crate.
pub unsafe fn try_palloc(size: usize) -> Option<NonNull<u8>> {
    if size > MAX_ALLOC_HUGE_SIZE {
        return None;
    }
    // SAFETY: on the backend's thread (the caller's contract), and the callee cannot raise an
    // ERROR here. MemoryContextAllocExtended (mcxt.c) raises for a size over MaxAllocHugeSize
    // (with MCXT_ALLOC_HUGE), which we refused above, and for memory that is not there unless
    // MCXT_ALLOC_NO_OOM asks for NULL instead; the allocator of the context raises nothing
    // (AllocSetAlloc in aset.c, GenerationAlloc in generation.c: NULL when malloc fails), a
    // slab context's excepted (the caller's contract). CurrentMemoryContext is always a valid
    // context in a backend.
    #[expect(ffi_unwind_calls, reason = "unguarded, listed in unguarded.toml")]
    let p = unsafe {
        unguarded::MemoryContextAllocExtended(
            pg_sys::CurrentMemoryContext,
            size,
            (pg_sys::MCXT_ALLOC_HUGE | pg_sys::MCXT_ALLOC_NO_OOM) as c_int,
        )
    };
    NonNull::new(p.cast())
}

/// The `ERROR` PostgreSQL's `palloc` raises when the memory is not there (SQLSTATE 53200).
pub fn out_of_memory(size: usize) -> Error {
    Error {
        code: PgSqlErrorCode::ERRCODE_OUT_OF_MEMORY,
        message: c"out of memory",
        detail: Some((c"Failed on request of size %zu.", size)),
    }
}
// ANCHOR_END: try_palloc

// ANCHOR: palloc_text
/// A `text` made in `CurrentMemoryContext`, at its final size, by one allocation: returned to
/// PostgreSQL as it is, where a `String` or `&str` result would be copied once more. It
/// implements pgrx's `BoxRet`, so a `#[pg_extern]` function can return it.
pub struct PallocText(NonNull<pg_sys::varlena>);

impl PallocText {
    /// The bytes of `parts`, one after the other: one allocation, one copy of each part. The
    /// errors are the C version's, raised through pgrx's guard: SQLSTATE 54000 when the result
    /// would not fit in a varlena (checked before anything is allocated), 53200 when the memory
    /// is not there.
    pub fn concat(parts: &[&[u8]]) -> PallocText {
        // try_palloc's first rule, checked as pgrx checks it: a panic on another thread.
        pg_sys::thread_check::check_active_thread();
        let size = match Self::size(parts) {
            Ok(size) => size,
            Err(e) => e.raise(),
        };
        // SAFETY: on the backend's thread (checked above); PostgreSQL runs a function in the
        // memory context of the call, never a slab context, and this crate makes none current.
        let Some(text) = (unsafe { try_palloc(size) }) else {
            out_of_memory(size).raise()
        };
        // SAFETY: `text` has `size` bytes, the size `parts` needs.
        unsafe { Self::fill(text, size, parts) }
    }
    // ANCHOR_END: palloc_text

    // ANCHOR: palloc_text_build
    /// The size of the `text` `parts` make, header included, or the error when it would be
    /// `MaxAllocSize` (1 GB − 1) or more. Saturating: no overflow check that could panic, and a
    /// sum past `usize` is too large anyway.
    #[inline(always)]
    fn size(parts: &[&[u8]]) -> Result<usize, Error> {
        let size = parts
            .iter()
            .fold(pg_sys::VARHDRSZ, |size, p| size.saturating_add(p.len()));
        if size >= MAX_ALLOC_SIZE {
            return Err(Error {
                code: PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                message: c"requested length too large",
                detail: None,
            });
        }
        Ok(size)
    }

    /// The `text` of `parts`, written into `text`.
    ///
    /// # Safety
    /// `text` points to `size` bytes of fresh memory, and `size` is [`Self::size`] of `parts`.
    #[inline(always)]
    unsafe fn fill(text: NonNull<u8>, size: usize, parts: &[&[u8]]) -> PallocText {
        // SAFETY: the memory has room for the 4-byte header, then for every part, which we
        // copy one after the other; parts are PostgreSQL values, never this new allocation.
        unsafe {
            let text = text.as_ptr();
            pgrx::varlena::set_varsize_4b(text.cast(), size as i32);
            let mut at = text.add(pg_sys::VARHDRSZ);
            for part in parts {
                std::ptr::copy_nonoverlapping(part.as_ptr(), at, part.len());
                at = at.add(part.len());
            }
            PallocText(NonNull::new_unchecked(text.cast()))
        }
    }

    /// The `Datum` a raw function returns.
    pub fn into_datum(self) -> Datum {
        Datum::from(self.0.as_ptr())
    }
}

// SAFETY: the Datum is a pointer to a complete text, allocated in the memory context the
// function was called in, which is where PostgreSQL expects the result.
unsafe impl BoxRet for PallocText {
    unsafe fn box_into<'fcx>(self, fcinfo: &mut FcInfo<'fcx>) -> pgrx::datum::Datum<'fcx> {
        // SAFETY: a valid, non-NULL text Datum (see above).
        unsafe { fcinfo.return_raw_datum(self.into_datum()) }
    }
}

impl_sql_translatable!(PallocText, "text");
// ANCHOR_END: palloc_text_build

// ANCHOR: concat_in_plain_frames
impl PallocText {
    /// [`concat`](Self::concat) for a raw function whose frames are plain old frames: the
    /// result is allocated with `palloc` itself, unguarded, which raises `out of memory` where
    /// `try_palloc` would return `None`; the error returned is only the 1 GB limit, for the
    /// caller to raise.
    ///
    /// # Safety
    /// Every Rust frame between the caller and the nearest `sigsetjmp` is a plain old frame.
    #[inline(always)]
    pub unsafe fn concat_in_plain_frames(parts: &[&[u8]]) -> Result<PallocText, Error> {
        let size = Self::size(parts)?;
        // SAFETY: plain old frames (the caller's contract): palloc's ERROR skips nothing. The
        // size is under MaxAllocSize, a valid request; palloc never returns NULL, and `text`
        // has the `size` bytes `fill` writes.
        unsafe {
            #[expect(ffi_unwind_calls, reason = "unguarded, listed in unguarded.toml")]
            let text = NonNull::new_unchecked(unguarded::palloc(size).cast());
            Ok(Self::fill(text, size, parts))
        }
    }
}
// ANCHOR_END: concat_in_plain_frames

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;

    // ANCHOR: no_oom_test
    #[pg_test]
    fn try_palloc_failure_is_none_then_53200() {
        // SAFETY: on the backend's thread, in the test's own memory context (as below).
        assert!(unsafe { super::try_palloc(16) }.is_some());
        // 1 PiB: a valid request (under MaxAllocHugeSize) that reaches malloc and fails there,
        // so MemoryContextAllocExtended takes its MCXT_ALLOC_NO_OOM path and returns NULL.
        let size = 1usize << 50;
        // SAFETY: as above.
        assert!(unsafe { super::try_palloc(size) }.is_none());
        // What a caller does then: raise the ERROR palloc itself would raise, through pgrx's
        // guard; clean, and the backend goes on.
        let caught = PgTryBuilder::new(|| {
            // SAFETY: as above.
            if unsafe { super::try_palloc(size) }.is_none() {
                super::out_of_memory(size).raise();
            }
            None
        })
        .catch_others(|e| match e {
            pg_sys::panic::CaughtError::PostgresError(r) => {
                Some((r.sql_error_code(), r.detail().map(str::to_owned)))
            }
            _ => None,
        })
        .execute();
        let (code, detail) = caught.expect("an ERROR");
        assert_eq!(code, PgSqlErrorCode::ERRCODE_OUT_OF_MEMORY);
        assert!(detail.is_some_and(|d| d.contains(&format!(" {size}."))));
        assert_eq!(Spi::get_one::<i32>("SELECT 41 + 1"), Ok(Some(42)));
    }
    // ANCHOR_END: no_oom_test
}
