//! The version-1 calling convention written by hand, for functions without `#[pg_extern]`: the
//! `pg_finfo_` record (`PG_FUNCTION_INFO_V1`) and the argument accessors (`PG_GETARG_*`), as
//! `fmgr.h` gives them to C. Each accessor is `#[inline(always)]` and compiles to the load the
//! C macro compiles to.

use super::elog::{raise_error, Error};
use super::unguarded;
use pgrx::pg_sys::{self, Datum, FunctionCallInfo};
use pgrx::PgSqlErrorCode;

// ANCHOR: layer
/// `PG_FUNCTION_INFO_V1(name)`: the record PostgreSQL looks up as `pg_finfo_<name>` (`fmgr.c`,
/// `fetch_finfo_record`) before it calls a C-language function `name`. The symbol's name is
/// made by `concat!` in `export_name`, so no other crate is needed.
macro_rules! pg_function_info_v1 {
    ($name:ident) => {
        const _: () = {
            #[export_name = concat!("pg_finfo_", stringify!($name))]
            extern "C" fn finfo() -> &'static ::pgrx::pg_sys::Pg_finfo_record {
                const V1_API: ::pgrx::pg_sys::Pg_finfo_record =
                    ::pgrx::pg_sys::Pg_finfo_record { api_version: 1 };
                &V1_API
            }
        };
    };
}
pub(crate) use pg_function_info_v1;

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
// ANCHOR_END: layer

// ANCHOR: arg_bytes
/// `PG_GETARG_TEXT_PP(n)` as bytes: the argument detoasted once (a no-op for a value that is
/// neither compressed nor out of line), its data read through either header. A header no valid
/// value has, one whose length is shorter than the header itself, is `ERROR` XX001
/// (`data_corrupted`), not a slice of the whole address space.
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
    // VARDATA_ANY for those (pgrx's versions also handle external values, and subtract without
    // a check, which panics or wraps on a corrupt length: paths this function must not have).
    unsafe {
        #[expect(ffi_unwind_calls, reason = "unguarded, listed in unguarded.toml")]
        let v = unguarded::pg_detoast_datum_packed(arg_datum(fcinfo, n).cast_mut_ptr());
        let (header, size) = if pgrx::varlena::varatt_is_1b(v) {
            (pg_sys::VARHDRSZ_SHORT, pgrx::varlena::varsize_1b(v))
        } else {
            (pg_sys::VARHDRSZ, pgrx::varlena::varsize_4b(v))
        };
        match size.checked_sub(header) {
            Some(len) => std::slice::from_raw_parts(v.cast::<u8>().add(header), len),
            None => raise_error(&invalid_varlena_header(size)),
        }
    }
}

/// The `ERROR` for a varlena whose length, `size`, does not even cover its header (SQLSTATE
/// XX001, as `c/base_types.c` raises it).
pub fn invalid_varlena_header(size: usize) -> Error {
    Error {
        code: PgSqlErrorCode::ERRCODE_DATA_CORRUPTED,
        message: c"invalid varlena header",
        detail: Some((c"Its length, %zu, is shorter than its header.", size)),
    }
}
// ANCHOR_END: arg_bytes
