//! Writing code (chapter 5): the manual's rules for C-language functions, and what becomes of
//! each in Rust.
//!
//! - Allocate with `palloc`, in a memory context PostgreSQL frees for you: `memory_context_name`
//!   shows which context a function's allocations land in.
//! - Zero the bytes of structures you hand to PostgreSQL, padding included: `padded_pair` (zeroed)
//!   and `padded_pair_unzeroed` (the bug) return the raw bytes of a padded struct.
//!
//! The other two rules (`postgres.h` first; no symbol clashes) are about C's preprocessor and
//! linker; the chapter says why pgrx makes them moot.

use core::ffi::CStr;
use pgrx::prelude::*;
use pgrx::{AllocatedByRust, PgBox};

// ANCHOR: memory_context_name
/// The name of `CurrentMemoryContext` when PostgreSQL calls the function: where `palloc`, and
/// every value pgrx converts into a `Datum`, allocates.
///
/// The C version reads `CurrentMemoryContext->name` the same way. VOLATILE, so that the planner
/// does not fold a call with constant arguments into a constant, in its own context, at plan time.
#[pg_extern(volatile, parallel_safe)]
pub fn memory_context_name() -> String {
    // SAFETY: while a function runs, CurrentMemoryContext is a valid context, and its name is
    // a NUL-terminated string that lives as long as the context (in practice, a literal).
    let name = unsafe { CStr::from_ptr((*pg_sys::CurrentMemoryContext).name) };
    name.to_string_lossy().into_owned()
}
// ANCHOR_END: memory_context_name

// ANCHOR: padded_pair_struct
/// A fixed-length value with a hole in it: `a` takes 2 bytes, then 6 bytes of padding put `b`
/// on an 8-byte boundary. The layout is C's (`#[repr(C)]`), the same as `PaddedPair` in
/// `c/writing_code.c`.
#[repr(C)]
struct PaddedPair {
    a: i16,
    b: i64,
}

const PADDED_PAIR_SIZE: usize = core::mem::size_of::<PaddedPair>();
const _: () = assert!(PADDED_PAIR_SIZE == 16, "2 bytes of a, 6 of padding, 8 of b");

/// The struct's raw bytes, padding included, as PostgreSQL would hash, compare with
/// `memcmp`, or write to disk a by-reference value of this type.
fn padded_pair_bytes(pair: &PgBox<PaddedPair, AllocatedByRust>) -> Vec<u8> {
    // SAFETY: `pair` points at PADDED_PAIR_SIZE bytes of palloc'd memory, every one of them
    // written since the allocation (by palloc0 or by write_bytes, then the field stores).
    unsafe { core::slice::from_raw_parts(pair.as_ptr().cast::<u8>(), PADDED_PAIR_SIZE) }.to_vec()
}
// ANCHOR_END: padded_pair_struct

// ANCHOR: padded_pair
/// `padded_pair(a, b)`: the rule done right. The memory comes from `palloc0` (`PgBox::alloc0`),
/// so the padding is zero and two equal pairs have equal bytes.
///
/// The C version is the same `palloc0` and two stores. In Rust, store the fields one by one:
/// assigning a whole `PaddedPair { a, b }` would copy a value whose padding is uninitialized,
/// and the compiler may write anything into those 6 bytes.
#[pg_extern(immutable, parallel_safe)]
pub fn padded_pair(a: i16, b: i64) -> Vec<u8> {
    // SAFETY: palloc0 in CurrentMemoryContext; all-zero bytes are a valid PaddedPair.
    let mut pair = unsafe { PgBox::<PaddedPair>::alloc0() };
    pair.a = a;
    pair.b = b;
    padded_pair_bytes(&pair)
}
// ANCHOR_END: padded_pair

// ANCHOR: padded_pair_unzeroed
/// `padded_pair_unzeroed(a, b)`: the bug. `palloc` (`PgBox::alloc`) hands back memory that
/// another allocation may have used; setting the two fields leaves the padding as it was.
///
/// What "as it was" holds depends on what ran before, so to make the bug show the same way on
/// every run we fill the chunk with the byte 0x7F first, standing in for a previous tenant's data
/// (0x7F is what a PostgreSQL built with CLOBBER_FREED_MEMORY writes into freed memory).
#[pg_extern(immutable, parallel_safe)]
pub fn padded_pair_unzeroed(a: i16, b: i64) -> Vec<u8> {
    // SAFETY: palloc in CurrentMemoryContext; every byte is written before it is read.
    let mut pair = unsafe { PgBox::<PaddedPair>::alloc() };
    // SAFETY: the chunk is PADDED_PAIR_SIZE bytes, ours alone.
    unsafe {
        pair.as_ptr()
            .cast::<u8>()
            .write_bytes(0x7f, PADDED_PAIR_SIZE)
    };
    pair.a = a;
    pair.b = b;
    padded_pair_bytes(&pair)
}
// ANCHOR_END: padded_pair_unzeroed

// ANCHOR: padded_pair_explicit
/// The same pair with its padding made a field: 2 + 6 + 8 bytes of fields and no padding, so
/// every byte of the struct is initialized once every field is.
#[repr(C)]
struct ExplicitPair {
    a: i16,
    pad: [u8; 6],
    b: i64,
}

const _: () = assert!(
    core::mem::size_of::<ExplicitPair>() == 2 + 6 + 8,
    "no padding: every byte is a field"
);

/// `padded_pair_explicit(a, b)`: the chapter's exercise, the bytes of `padded_pair` without
/// `palloc0`, because the struct has no padding left to forget.
///
/// The C version `palloc`s the struct and sets all three fields, `pad` with `memset`. Here the
/// struct is built whole on the stack, which is sound now that it has no padding, and viewing
/// it as bytes is sound for the same reason.
#[pg_extern(immutable, parallel_safe)]
pub fn padded_pair_explicit(a: i16, b: i64) -> Vec<u8> {
    let pair = ExplicitPair { a, pad: [0; 6], b };
    // SAFETY: ExplicitPair is repr(C) and its fields fill all of its size (the assertion
    // above), so its 16 bytes are initialized; the slice lives no longer than `pair`.
    let bytes = unsafe {
        core::slice::from_raw_parts(
            (&raw const pair).cast::<u8>(),
            core::mem::size_of::<ExplicitPair>(),
        )
    };
    bytes.to_vec()
}
// ANCHOR_END: padded_pair_explicit

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;

    #[pg_test]
    fn padded_pair_padding_is_zero() {
        let bytes = Spi::get_one::<Vec<u8>>("SELECT padded_pair(1::smallint, 2)")
            .unwrap()
            .unwrap();
        assert_eq!(bytes.len(), 16);
        assert_eq!(&bytes[2..8], &[0u8; 6]);
        assert_eq!(i16::from_ne_bytes([bytes[0], bytes[1]]), 1);
        assert_eq!(i64::from_ne_bytes(bytes[8..16].try_into().unwrap()), 2);
    }

    #[pg_test]
    fn equal_pairs_have_equal_bytes_only_when_zeroed() {
        assert_eq!(
            Spi::get_one::<bool>(
                "SELECT padded_pair(-7::smallint, 1) = padded_pair(-7::smallint, 1)"
            ),
            Ok(Some(true))
        );
        assert_eq!(
            Spi::get_one::<bool>(
                "SELECT padded_pair_unzeroed(-7::smallint, 1) = padded_pair(-7::smallint, 1)"
            ),
            Ok(Some(false))
        );
    }

    #[pg_test]
    fn explicit_padding_gives_the_zeroed_bytes() {
        for (a, b) in [(1, 2), (-1, -1), (i16::MAX, i64::MAX), (i16::MIN, i64::MIN)] {
            assert_eq!(
                Spi::get_one::<bool>(&format!(
                    "SELECT padded_pair_explicit('{a}'::smallint, '{b}'::bigint) \
                        = padded_pair('{a}'::smallint, '{b}'::bigint)"
                )),
                Ok(Some(true)),
                "({a}, {b})"
            );
        }
        assert_eq!(
            crate::testing::sqlstate_of("SELECT padded_pair_explicit(32768::smallint, 0)"),
            Some("22003".into())
        );
    }

    #[pg_test]
    fn palloc_lands_in_the_per_tuple_context() {
        assert_eq!(
            Spi::get_one::<String>("SELECT memory_context_name() FROM generate_series(1, 1)"),
            Ok(Some("ExprContext".into()))
        );
    }
}
