//! `text` in the database encoding, for `#[pg_extern]` arguments and results.

use pgrx::callconv::{Arg, ArgAbi, BoxRet, FcInfo};
use pgrx::pg_sys;
use pgrx::prelude::*;
use std::borrow::Cow;

// ANCHOR: db_text
/// A `text` argument or result as PostgreSQL holds it: the bytes of its characters in the
/// database encoding, what the C version reads with `VARDATA_ANY` and makes with
/// `cstring_to_text_with_len`. pgrx's `&str` and `String` demand UTF-8: in a LATIN1 database
/// they fail on any non-ASCII character. pgrx has no `text` type without that check, so this
/// one maps itself to SQL `text` and implements what `#[pg_extern]` asks of an argument
/// (`ArgAbi`, as pgrx's own derives do, through `FromDatum`) and of a result (`BoxRet`).
pub struct DbText<'a>(Cow<'a, [u8]>);

impl_sql_translatable!(DbText<'_>, "text");

impl DbText<'_> {
    /// The text's bytes, in the database encoding.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl DbText<'static> {
    /// A result made of `bytes`, which must be valid text in the database encoding
    /// (`pg_verifymbstr` says whether bytes from outside the database are).
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        DbText(Cow::Owned(bytes))
    }
}

impl<'a> FromDatum for DbText<'a> {
    unsafe fn from_polymorphic_datum(
        datum: pg_sys::Datum,
        is_null: bool,
        _typoid: pg_sys::Oid,
    ) -> Option<Self> {
        if is_null || datum.is_null() {
            return None;
        }
        // SAFETY: the caller passes a non-NULL text Datum. pg_detoast_datum_packed returns it,
        // or a detoasted copy in the current memory context, which outlives the call: what
        // PG_GETARG_TEXT_PP does. The slice covers its VARSIZE_ANY_EXHDR bytes of data.
        unsafe {
            let varlena = pg_sys::pg_detoast_datum_packed(datum.cast_mut_ptr());
            Some(DbText(Cow::Borrowed(pgrx::varlena::varlena_to_byte_slice(
                varlena,
            ))))
        }
    }
}

// SAFETY: DbText is declared `text` (impl_sql_translatable above), so the argument is a text
// Datum, which is what from_polymorphic_datum reads.
unsafe impl<'fcx> ArgAbi<'fcx> for DbText<'fcx> {
    unsafe fn unbox_arg_unchecked(arg: Arg<'_, 'fcx>) -> Self {
        // SAFETY: as above.
        match unsafe { arg.unbox_arg_using_from_datum() } {
            Some(text) => text,
            // Not reached: a function with a DbText argument (not Option<DbText>) is STRICT.
            None => {
                ereport!(
                    ERROR,
                    PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED,
                    "text argument is NULL"
                );
            }
        }
    }
}

// SAFETY: the Datum returned is a fresh text varlena, allocated where pgrx's own String
// results are (CurrentMemoryContext at the time of the call).
unsafe impl BoxRet for DbText<'_> {
    unsafe fn box_into<'fcx>(self, fcinfo: &mut FcInfo<'fcx>) -> pgrx::datum::Datum<'fcx> {
        let Ok(len) = i32::try_from(self.0.len()) else {
            ereport!(
                ERROR,
                PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                "text value is too long"
            );
        };
        // SAFETY: cstring_to_text_with_len copies `len` bytes from the slice into a new
        // varlena; the Datum is returned to PostgreSQL as the function's result.
        unsafe {
            let text = pg_sys::cstring_to_text_with_len(self.0.as_ptr().cast(), len);
            fcinfo.return_raw_datum(pg_sys::Datum::from(text))
        }
    }
}
// ANCHOR_END: db_text
