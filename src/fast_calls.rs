//! Rust at the speed of C (the book chapter of that name): the hot examples again, written so
//! that one call costs what the C call costs, and the rules that make that sound.
//!
//! Three routes, each used below and measured in the benchmarks chapter:
//!
//! 1. A raw version-1 function: `extern "C" fn(FunctionCallInfo) -> Datum` with its own
//!    `pg_finfo_` record, arguments read from `fcinfo`, declared in `extension_sql!`. The small
//!    layer of this module (the record from one macro, typed argument accessors, `raise_error`)
//!    compiles to what the C macros compile to.
//! 2. Calls into PostgreSQL without pgrx's `sigsetjmp` guard, only where that is sound: the
//!    callee cannot raise an `ERROR` (`MemoryContextAllocExtended` with `MCXT_ALLOC_NO_OOM` and a
//!    valid size), or every Rust frame an `ERROR` would jump over is a plain old frame: no value
//!    with a destructor, no `catch_unwind`.
//! 3. One copy for a varlena result: the `text` is allocated once, at its final size, and each
//!    input is copied into it once ([`PallocText`]).
//!
//! The rule every function here keeps: its frames are plain old frames from the first line to
//! the last, so nothing is lost when an `ERROR` jumps over them, and it cannot panic (no
//! indexing, no `unwrap`, no arithmetic that can overflow). It is declared `extern "C"`, not
//! `"C-unwind"`: were a panic ever to reach its end, Rust would abort the process rather than
//! unwind into PostgreSQL's C frames.
//!
//! The functions live in schema `xfunc_fast`, under the names of the ordinary ones, and pass the
//! very same regression tests (`tools/test/regress.sh` runs base_types, polymorphic and
//! shared_memory a third time with `search_path = xfunc_fast, public`).

use crate::pg_support::MAX_ALLOC_SIZE;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::ptr::NonNull;

use pgrx::callconv::{BoxRet, FcInfo};
use pgrx::pg_sys::{self, Datum, FunctionCallInfo};
use pgrx::prelude::*;

// ANCHOR: unguarded
/// PostgreSQL functions declared by us, without pgrx's `sigsetjmp` guard. pgrx's build script
/// wraps every function of its bindings in `pg_guard_ffi_boundary` (pgrx-bindgen, `build.rs`,
/// `apply_pg_guard`, which puts `#[pg_guard]` on each `extern` block; pgrx-macros,
/// `rewriter.rs`, `foreign_item_fn`), so `pg_sys::palloc` is a guarded call and these are not.
/// Same names and C signatures as in pgrx's bindings (`errstart` and friends pgrx keeps out of
/// them and declares in `panic.rs`, `do_ereport`). Every call of one of these carries a
/// `// SAFETY:` that says which rule makes it sound.
pub(crate) mod unguarded {
    use super::*;

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
        pub fn AggCheckCallContext(
            fcinfo: FunctionCallInfo,
            aggcontext: *mut pg_sys::MemoryContext,
        ) -> c_int;
    }
}
// ANCHOR_END: unguarded

// ANCHOR: layer
/// `PG_FUNCTION_INFO_V1(name)`: the record PostgreSQL looks up as `pg_finfo_<name>` (`fmgr.c`,
/// `fetch_finfo_record`) before it calls a C-language function `name`. The symbol's name is
/// made by `concat!` in `export_name`, so no other crate is needed.
macro_rules! pg_function_info_v1 {
    ($name:ident) => {
        const _: () = {
            #[export_name = concat!("pg_finfo_", stringify!($name))]
            extern "C" fn finfo() -> &'static pg_sys::Pg_finfo_record {
                const V1_API: pg_sys::Pg_finfo_record = pg_sys::Pg_finfo_record { api_version: 1 };
                &V1_API
            }
        };
    };
}

/// `PG_GETARG_DATUM(n)`: argument `n` of the call.
///
/// # Safety
/// `fcinfo` is the call's own, and the call has an argument `n`.
#[inline(always)]
pub unsafe fn arg_datum(fcinfo: FunctionCallInfo, n: usize) -> Datum {
    // SAFETY: the caller's contract; `args` is a flexible array member of `nargs` entries.
    unsafe {
        (*(&raw const (*fcinfo).args)
            .cast::<pg_sys::NullableDatum>()
            .add(n))
        .value
    }
}

/// `PG_ARGISNULL(n)`.
///
/// # Safety
/// As for [`arg_datum`].
#[inline(always)]
pub unsafe fn arg_is_null(fcinfo: FunctionCallInfo, n: usize) -> bool {
    // SAFETY: as in arg_datum.
    unsafe {
        (*(&raw const (*fcinfo).args)
            .cast::<pg_sys::NullableDatum>()
            .add(n))
        .isnull
    }
}

/// `PG_GETARG_INT32(n)`, `PG_GETARG_INT64(n)`, `PG_GETARG_FLOAT8(n)`: a by-value argument.
///
/// # Safety
/// As for [`arg_datum`], and argument `n` is a non-NULL value of the SQL type that maps to
/// `T` (`integer`, `bigint`, `double precision`).
#[inline(always)]
pub unsafe fn arg<T: ByValue>(fcinfo: FunctionCallInfo, n: usize) -> T {
    // SAFETY: the caller's contract.
    T::from_arg(unsafe { arg_datum(fcinfo, n) })
}

/// A type passed by value in a `Datum`, read and written as the `DatumGet*` and `*GetDatum`
/// macros of `postgres.h` do.
pub trait ByValue {
    fn from_arg(d: Datum) -> Self;
    fn to_datum(self) -> Datum;
}

impl ByValue for i32 {
    #[inline(always)]
    fn from_arg(d: Datum) -> Self {
        d.value() as i32 // DatumGetInt32: the low 32 bits
    }
    #[inline(always)]
    fn to_datum(self) -> Datum {
        Datum::from(self)
    }
}

impl ByValue for i64 {
    #[inline(always)]
    fn from_arg(d: Datum) -> Self {
        d.value() as i64
    }
    #[inline(always)]
    fn to_datum(self) -> Datum {
        Datum::from(self)
    }
}

impl ByValue for f64 {
    #[inline(always)]
    fn from_arg(d: Datum) -> Self {
        f64::from_bits(d.value() as u64) // FLOAT8PASSBYVAL on every 64-bit platform
    }
    #[inline(always)]
    fn to_datum(self) -> Datum {
        Datum::from(self.to_bits())
    }
}

/// `PG_GETARG_POINTER(n)` for a fixed-length type passed by reference (`PG_GETARG_POINT_P`).
///
/// # Safety
/// As for [`arg_datum`], and argument `n` is a non-NULL value of a type whose C struct is `T`.
/// The pointee may sit in a shared buffer: read it, never write through it.
#[inline(always)]
pub unsafe fn arg_ref<'fcx, T>(fcinfo: FunctionCallInfo, n: usize) -> &'fcx T {
    // SAFETY: the caller's contract; the value outlives the call.
    unsafe { &*arg_datum(fcinfo, n).cast_mut_ptr::<T>() }
}

/// `PG_GETARG_TEXT_PP(n)` as bytes: the argument detoasted once (a no-op for a value that is
/// neither compressed nor out of line), its data read through either header.
///
/// # Safety
/// As for [`arg_datum`], and argument `n` is a non-NULL `text` (or other varlena). Every Rust
/// frame of the call must be a plain old frame: `pg_detoast_datum_packed` may raise an
/// `ERROR` (a TOAST value that cannot be read), and it is not guarded.
#[inline(always)]
pub unsafe fn arg_bytes<'fcx>(fcinfo: FunctionCallInfo, n: usize) -> &'fcx [u8] {
    // SAFETY: plain old frames (the caller's contract): an ERROR may jump over them. The
    // detoasted value is in memory, neither compressed nor external: its header is a short
    // 1-byte one or a plain 4-byte one, and the two cases below are VARSIZE_ANY_EXHDR and
    // VARDATA_ANY for those (pgrx's versions also handle external values, and panic on a
    // tag they do not know, a path this function must not have).
    unsafe {
        let v = unguarded::pg_detoast_datum_packed(arg_datum(fcinfo, n).cast_mut_ptr());
        let (header, len) = if pgrx::varlena::varatt_is_1b(v) {
            (1, pgrx::varlena::varsize_1b(v).wrapping_sub(1))
        } else {
            (
                pg_sys::VARHDRSZ,
                pgrx::varlena::varsize_4b(v).wrapping_sub(pg_sys::VARHDRSZ),
            )
        };
        std::slice::from_raw_parts(v.cast::<u8>().add(header), len)
    }
}

/// An error to raise: its SQLSTATE, its message, and an optional detail with one `size_t`.
pub struct Error {
    pub code: PgSqlErrorCode,
    pub message: &'static CStr,
    pub detail: Option<(&'static CStr, usize)>,
}

/// `ereport(ERROR, (errcode(code), errmsg("%s", message)))`, as C writes it: the calls `elog.h`'s
/// macro makes, unguarded. `errfinish` does not return: it jumps to the `sigsetjmp` of the
/// nearest `PG_TRY` (or of the main loop), over every frame in between.
///
/// It is `extern "C"`, a function that cannot unwind: a call to it needs no landing pad, so a
/// caller that calls nothing else stays a leaf function on its path that returns normally.
///
/// # Safety
/// Every Rust frame between the caller and the nearest PostgreSQL frame must be a plain old
/// frame: nothing with a destructor, no `catch_unwind`.
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
        unguarded::errfinish(
            c"fast_calls.rs".as_ptr(),
            line!() as c_int,
            c"raise_error".as_ptr(),
        );
    }
    // errfinish returns only below ERROR, and this is ERROR.
    std::process::abort()
}
// ANCHOR_END: layer

// `pg_function_info_v1!` for the fast twins of other chapters (chapter 20, `src/aggregates.rs`).
pub(crate) use pg_function_info_v1;

// ANCHOR: try_palloc
/// `MaxAllocHugeSize` (`SIZE_MAX / 2`): the largest request with `MCXT_ALLOC_HUGE`.
const MAX_ALLOC_HUGE_SIZE: usize = usize::MAX / 2;

/// `size` bytes in `CurrentMemoryContext`, or `None` when the memory is not there. Unlike
/// `palloc`, it never raises an `ERROR`, so it needs no `sigsetjmp` guard wherever it is called.
/// A caller that builds a varlena checks the 1 GB limit itself, before it asks.
pub fn try_palloc(size: usize) -> Option<NonNull<u8>> {
    if size > MAX_ALLOC_HUGE_SIZE {
        return None;
    }
    // SAFETY: the callee cannot raise an ERROR here. With MCXT_ALLOC_NO_OOM,
    // MemoryContextAllocExtended (mcxt.c) returns NULL when the memory is not there; its only
    // other error, "invalid memory alloc request size", is for a size over MaxAllocHugeSize
    // (with MCXT_ALLOC_HUGE), which we refused above. CurrentMemoryContext is always a valid
    // context in a backend.
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
    /// The bytes of `parts`, one after the other: one allocation, one copy of each part; or
    /// the error to raise: SQLSTATE 54000 when the result would not fit in a varlena, 53200
    /// when the memory is not there. It raises nothing itself, so it may run in any frame.
    pub fn try_concat(parts: &[&[u8]]) -> Result<PallocText, Error> {
        Self::build(parts, try_palloc)
    }

    /// The same, for a raw function whose frames are plain old frames: the result is
    /// allocated with `palloc` itself, unguarded, which raises `out of memory` where
    /// `try_palloc` would return `None`, and the error returned is only the 1 GB limit.
    ///
    /// # Safety
    /// Every Rust frame between the caller and the nearest PostgreSQL frame is a plain old
    /// frame.
    #[inline(always)]
    pub unsafe fn concat_in_plain_frames(parts: &[&[u8]]) -> Result<PallocText, Error> {
        // SAFETY: plain old frames (the caller's contract): palloc's ERROR skips nothing.
        // build asks for at most MaxAllocSize - 1 bytes, a valid request; palloc never
        // returns NULL.
        Self::build(parts, |size| unsafe {
            Some(NonNull::new_unchecked(unguarded::palloc(size).cast()))
        })
    }

    #[inline(always)]
    fn build(
        parts: &[&[u8]],
        alloc: impl FnOnce(usize) -> Option<NonNull<u8>>,
    ) -> Result<PallocText, Error> {
        // Saturating: no overflow check that could panic, and a sum past usize is too large.
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
        let Some(text) = alloc(size) else {
            return Err(out_of_memory(size));
        };
        // SAFETY: `text` has `size` bytes: the 4-byte header, then room for every part, which
        // we copy one after the other; parts are PostgreSQL values, never this new allocation.
        unsafe {
            let text = text.as_ptr();
            pgrx::varlena::set_varsize_4b(text.cast(), size as i32);
            let mut at = text.add(pg_sys::VARHDRSZ);
            for part in parts {
                std::ptr::copy_nonoverlapping(part.as_ptr(), at, part.len());
                at = at.add(part.len());
            }
            Ok(PallocText(NonNull::new_unchecked(text.cast())))
        }
    }

    /// [`try_concat`](Self::try_concat) for a `#[pg_extern]` function: the error is raised with
    /// `ereport!`, a Rust panic that pgrx's wrapper turns into the `ERROR`.
    pub fn concat(parts: &[&[u8]]) -> PallocText {
        match Self::try_concat(parts) {
            Ok(text) => text,
            Err(e) => {
                let message = e.message.to_string_lossy().into_owned();
                match e.detail {
                    Some((_, size)) => {
                        let detail = format!("Failed on request of size {size}.");
                        ereport!(ERROR, e.code, message, detail);
                    }
                    None => {
                        ereport!(ERROR, e.code, message);
                    }
                }
            }
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
// ANCHOR_END: palloc_text

// ANCHOR: schema
extension_sql!(
    r#"
-- The fast variants of the chapter "Rust at the Speed of C", under the ordinary names.
CREATE SCHEMA xfunc_fast;
"#,
    name = "xfunc_fast_schema"
);
// ANCHOR_END: schema

// ANCHOR: add_one
pg_function_info_v1!(fast_add_one);

/// `xfunc_fast.add_one(integer)`: chapter 2's `add_one` as the C function is written. The
/// function is STRICT, so argument 0 is never NULL.
///
/// # Safety
/// Only PostgreSQL calls it, through the `CREATE FUNCTION` below.
#[no_mangle]
pub unsafe extern "C" fn fast_add_one(fcinfo: FunctionCallInfo) -> Datum {
    // SAFETY: called as declared below: STRICT, one integer argument.
    let arg: i32 = unsafe { arg(fcinfo, 0) };
    match arg.checked_add(1) {
        Some(sum) => sum.to_datum(),
        // SAFETY: this frame is a plain old frame: nothing to drop, no catch_unwind.
        None => unsafe { raise_error(&INT4_OUT_OF_RANGE) },
    }
}

const INT4_OUT_OF_RANGE: Error = Error {
    code: PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
    message: c"integer out of range",
    detail: None,
};
// ANCHOR_END: add_one

// ANCHOR: add_one_float8
pg_function_info_v1!(fast_add_one_float8);

/// `xfunc_fast.add_one(double precision)`: `float8_pl(arg, 1.0)`, as chapter 2 spells it out.
///
/// # Safety
/// Only PostgreSQL calls it, through the `CREATE FUNCTION` below.
#[no_mangle]
pub unsafe extern "C" fn fast_add_one_float8(fcinfo: FunctionCallInfo) -> Datum {
    // SAFETY: called as declared below: STRICT, one double precision argument.
    let arg: f64 = unsafe { arg(fcinfo, 0) };
    let result = arg + 1.0;
    if result.is_infinite() {
        // SAFETY: this frame is a plain old frame.
        unsafe { float8_overflow_unless_infinite(arg) };
    }
    result.to_datum()
}

/// `float8_pl`'s check, on the rare path where the sum is infinite: an error unless an input
/// was infinite already (the C function tests `isinf(result)` first, the inputs only then).
///
/// # Safety
/// As for [`raise_error`].
#[cold]
unsafe extern "C" fn float8_overflow_unless_infinite(arg: f64) {
    if !arg.is_infinite() {
        // SAFETY: the caller's contract; this frame is a plain old frame too.
        unsafe {
            raise_error(&Error {
                code: PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                message: c"value out of range: overflow",
                detail: None,
            })
        }
    }
}
// ANCHOR_END: add_one_float8

// ANCHOR: makepoint
pg_function_info_v1!(fast_makepoint);

/// `xfunc_fast.makepoint(point, point)`: the points are read where they are, and the result is
/// one `palloc`, made without the `sigsetjmp` guard.
///
/// # Safety
/// Only PostgreSQL calls it, through the `CREATE FUNCTION` below.
#[no_mangle]
pub unsafe extern "C" fn fast_makepoint(fcinfo: FunctionCallInfo) -> Datum {
    // SAFETY: called as declared below: STRICT, two point arguments.
    let (pointx, pointy): (&pg_sys::Point, &pg_sys::Point) =
        unsafe { (arg_ref(fcinfo, 0), arg_ref(fcinfo, 1)) };
    // SAFETY: plain old frame: palloc may raise an ERROR (out of memory), which would jump
    // over this frame, and it holds nothing to drop. The 16 bytes are ours to write.
    unsafe {
        let new_point = unguarded::palloc(size_of::<pg_sys::Point>()).cast::<pg_sys::Point>();
        new_point.write(pg_sys::Point {
            x: pointx.x,
            y: pointy.y,
        });
        Datum::from(new_point)
    }
}
// ANCHOR_END: makepoint

// ANCHOR: copytext
pg_function_info_v1!(fast_copytext);

/// `xfunc_fast.copytext(text)`: the argument is detoasted once, the copy is one allocation and
/// one `memcpy`.
///
/// # Safety
/// Only PostgreSQL calls it, through the `CREATE FUNCTION` below.
#[no_mangle]
pub unsafe extern "C" fn fast_copytext(fcinfo: FunctionCallInfo) -> Datum {
    // SAFETY: called as declared below: STRICT, one text argument. Plain old frame: an ERROR
    // from the detoasting or from palloc, or the one we raise, skips nothing.
    unsafe {
        match PallocText::concat_in_plain_frames(&[arg_bytes(fcinfo, 0)]) {
            Ok(text) => text.into_datum(),
            Err(e) => raise_error(&e),
        }
    }
}
// ANCHOR_END: copytext

// ANCHOR: concat_text
pg_function_info_v1!(fast_concat_text);

/// `xfunc_fast.concat_text(text, text)`: each input copied once, into a result allocated at its
/// final size.
///
/// # Safety
/// Only PostgreSQL calls it, through the `CREATE FUNCTION` below.
#[no_mangle]
pub unsafe extern "C" fn fast_concat_text(fcinfo: FunctionCallInfo) -> Datum {
    // SAFETY: as in fast_copytext, with two text arguments. `Error` has no destructor, so the
    // frame stays a plain old frame while it holds one.
    unsafe {
        let (arg1, arg2) = (arg_bytes(fcinfo, 0), arg_bytes(fcinfo, 1));
        match PallocText::concat_in_plain_frames(&[arg1, arg2]) {
            Ok(text) => text.into_datum(),
            Err(e) => raise_error(&e),
        }
    }
}
// ANCHOR_END: concat_text

// ANCHOR: make_array
pg_function_info_v1!(fast_make_array);

/// `xfunc_fast.make_array(anyelement)`: chapter 11's function with its three calls into
/// PostgreSQL unguarded. The element and its NULL flag sit in arrays on the stack, not in
/// `Vec`s, so the frame has nothing to drop.
///
/// # Safety
/// Only PostgreSQL calls it, through the `CREATE FUNCTION` below.
#[no_mangle]
pub unsafe extern "C" fn fast_make_array(fcinfo: FunctionCallInfo) -> Datum {
    // SAFETY: called as declared below: one anyelement argument, not STRICT. Plain old frame:
    // an ERROR raised by any of the three calls (a failed cache lookup, memory that is not
    // there) or by us skips nothing.
    unsafe {
        let element_type = unguarded::get_fn_expr_argtype((*fcinfo).flinfo, 0);
        if element_type == pg_sys::InvalidOid {
            raise_error(&Error {
                code: PgSqlErrorCode::ERRCODE_INDETERMINATE_DATATYPE,
                message: c"could not determine data type of input",
                detail: None,
            });
        }
        let isnull = arg_is_null(fcinfo, 0);
        let mut element = if isnull {
            Datum::from(0)
        } else {
            arg_datum(fcinfo, 0)
        };
        let mut isnull = isnull;
        let (mut typlen, mut typbyval, mut typalign) = (0i16, false, 0 as c_char);
        unguarded::get_typlenbyvalalign(element_type, &mut typlen, &mut typbyval, &mut typalign);
        let (mut dims, mut lbs): (c_int, c_int) = (1, 1);
        Datum::from(unguarded::construct_md_array(
            &mut element,
            &mut isnull,
            1,
            &mut dims,
            &mut lbs,
            element_type,
            typlen.into(),
            typbyval,
            typalign,
        ))
    }
}
// ANCHOR_END: make_array

// ANCHOR: shared_counter_add
pg_function_info_v1!(fast_shared_counter_add);

/// `xfunc_fast.shared_counter_add(bigint)`: chapter 12's function with the lock taken and
/// released by hand, as in C. The ordinary version's `LwLockGuard` releases the lock in its
/// `Drop`: a value with a destructor, which makes its frame no plain old frame, so that every
/// call that may raise an `ERROR` there must be guarded. Here there is none: on overflow the
/// lock is released first, then the ERROR raised.
///
/// # Safety
/// Only PostgreSQL calls it, through the `CREATE FUNCTION` below.
#[no_mangle]
pub unsafe extern "C" fn fast_shared_counter_add(fcinfo: FunctionCallInfo) -> Datum {
    // SAFETY: called as declared below: STRICT, one bigint argument.
    let delta: i64 = unsafe { arg(fcinfo, 0) };
    let shared = crate::shared_memory::COUNTER.ptr();
    if shared.is_null() {
        // SAFETY: plain old frame.
        unsafe {
            raise_error(&Error {
                code: PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                message: c"xfunc must be loaded via shared_preload_libraries",
                detail: None,
            })
        }
    }
    // SAFETY: `shared` points to the struct in shared memory (chapter 12), whose `lock` never
    // changes. Plain old frame: LWLockAcquire may raise an ERROR (too many LWLocks held)
    // before it takes the lock, and nothing here has a destructor. Holding the lock
    // exclusively, we alone read and write the fields. LWLockRelease of a lock we hold cannot
    // raise an ERROR (it does for a lock not held, "lock is not held").
    let sum = unsafe {
        let lock = (*shared).lock;
        unguarded::LWLockAcquire(lock, pg_sys::LWLockMode::LW_EXCLUSIVE);
        let sum = (*shared).value.checked_add(delta);
        if let Some(sum) = sum {
            (*shared).value = sum;
            (*shared).updates += 1;
        }
        unguarded::LWLockRelease(lock);
        sum
    };
    match sum {
        Some(sum) => sum.to_datum(),
        // SAFETY: plain old frame; the lock is released.
        None => unsafe {
            raise_error(&Error {
                code: PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                message: c"bigint out of range",
                detail: None,
            })
        },
    }
}
// ANCHOR_END: shared_counter_add

// ANCHOR: fast_sql
extension_sql!(
    r#"
CREATE FUNCTION xfunc_fast.add_one("arg" integer) RETURNS integer
    AS 'MODULE_PATHNAME', 'fast_add_one' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION xfunc_fast.add_one("arg" double precision) RETURNS double precision
    AS 'MODULE_PATHNAME', 'fast_add_one_float8' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION xfunc_fast.makepoint("pointx" point, "pointy" point) RETURNS point
    AS 'MODULE_PATHNAME', 'fast_makepoint' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION xfunc_fast.copytext("t" text) RETURNS text
    AS 'MODULE_PATHNAME', 'fast_copytext' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION xfunc_fast.concat_text("arg1" text, "arg2" text) RETURNS text
    AS 'MODULE_PATHNAME', 'fast_concat_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION xfunc_fast.make_array("element" anyelement) RETURNS anyarray
    AS 'MODULE_PATHNAME', 'fast_make_array' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION xfunc_fast.shared_counter_add("delta" bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'fast_shared_counter_add' LANGUAGE C VOLATILE STRICT;
"#,
    name = "xfunc_fast_functions",
    requires = ["xfunc_fast_schema"]
);
// ANCHOR_END: fast_sql

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;

    /// The SQLSTATE of `query`, then proof that the backend is alive and its transaction
    /// usable: a query after the error gives its answer.
    fn error_then_alive(query: &str) -> Option<String> {
        let state = crate::testing::sqlstate_of(query);
        assert_eq!(Spi::get_one::<i32>("SELECT 41 + 1"), Ok(Some(42)));
        state
    }

    #[pg_test]
    fn fast_add_one_overflow_is_22003_and_the_backend_lives() {
        assert_eq!(
            Spi::get_one::<i32>("SELECT xfunc_fast.add_one(41)"),
            Ok(Some(42))
        );
        assert_eq!(
            error_then_alive("SELECT xfunc_fast.add_one(2147483647)"),
            Some("22003".into())
        );
    }

    #[pg_test(error = "integer out of range")]
    fn fast_add_one_overflow_message() {
        Spi::get_one::<i32>("SELECT xfunc_fast.add_one(2147483647)").unwrap();
    }

    #[pg_test]
    fn fast_shared_counter_add_without_preload_is_55000() {
        // The pgrx test cluster does not preload xfunc.
        assert_eq!(
            error_then_alive("SELECT xfunc_fast.shared_counter_add(1)"),
            Some("55000".into())
        );
    }

    #[pg_test]
    fn fast_make_array_unknown_element_type_is_42804() {
        // OidFunctionCall1Coll calls the function with no expression tree: no type to read.
        let oid = Spi::get_one::<pg_sys::Oid>(
            "SELECT 'xfunc_fast.make_array(anyelement)'::regprocedure::oid",
        )
        .expect("looking up xfunc_fast.make_array")
        .expect("it exists");
        let caught = PgTryBuilder::new(|| {
            // SAFETY: oid names a function of one argument, and 42 is a valid by-value Datum.
            unsafe { pg_sys::OidFunctionCall1Coll(oid, pg_sys::InvalidOid, 42.into()) };
            None
        })
        .catch_others(|e| match e {
            pg_sys::panic::CaughtError::PostgresError(r)
            | pg_sys::panic::CaughtError::ErrorReport(r) => Some(r.sql_error_code()),
            _ => None,
        })
        .execute();
        assert_eq!(caught, Some(PgSqlErrorCode::ERRCODE_INDETERMINATE_DATATYPE));
        assert_eq!(
            Spi::get_one::<String>("SELECT xfunc_fast.make_array(42)::text"),
            Ok(Some("{42}".into()))
        );
    }

    // ANCHOR: no_oom_test
    #[pg_test]
    fn try_palloc_failure_is_none_then_53200() {
        assert!(super::try_palloc(16).is_some());
        // 1 PiB: a valid request (under MaxAllocHugeSize) that reaches malloc and fails there,
        // so MemoryContextAllocExtended takes its MCXT_ALLOC_NO_OOM path and returns NULL.
        let size = 1usize << 50;
        assert!(super::try_palloc(size).is_none());
        // What a caller does then: the ERROR palloc itself would raise, through the guarded
        // path; clean, and the backend goes on.
        let caught = PgTryBuilder::new(|| {
            if super::try_palloc(size).is_none() {
                // SAFETY: pgrx's guard catches the ERROR at its sigsetjmp and turns it into a
                // Rust panic for PgTryBuilder; the closure in between is a plain old frame.
                unsafe {
                    pg_sys::ffi::pg_guard_ffi_boundary(|| {
                        super::raise_error(&super::out_of_memory(size))
                    })
                };
            }
            None
        })
        .catch_others(|e| match e {
            pg_sys::panic::CaughtError::PostgresError(r) => Some(r.sql_error_code()),
            _ => None,
        })
        .execute();
        assert_eq!(caught, Some(PgSqlErrorCode::ERRCODE_OUT_OF_MEMORY));
        assert_eq!(Spi::get_one::<i32>("SELECT 41 + 1"), Ok(Some(42)));
    }

    // ANCHOR_END: no_oom_test

    #[pg_test]
    fn fast_concat_text_over_1gb_is_54000() {
        assert_eq!(
            error_then_alive(
                "SELECT xfunc_fast.concat_text(t, t) FROM (SELECT repeat(repeat('x', 1048576), n) \
                 AS t FROM generate_series(512, 512) AS n OFFSET 0) AS s"
            ),
            Some("54000".into())
        );
    }

    #[pg_test]
    fn fast_variants_handle_every_text_header() {
        crate::testing::text_functions_handle_every_header("xfunc_fast.");
    }
}
