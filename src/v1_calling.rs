//! Version-1 calling convention (chapter 4): NULL arguments, copies, slices.
//!
//! Every C-language function PostgreSQL calls has one signature,
//! `Datum f(FunctionCallInfo fcinfo)`: the arguments, their NULL flags and the call's context all
//! come through `fcinfo`. In C the `PG_GETARG_*`, `PG_ARGISNULL` and `PG_RETURN_*` macros read
//! and write it; `#[pg_extern]` generates a wrapper that does the same from the Rust signature.
//! The last function here, `text_prefix`, is written as a raw version-1 function in Rust, the way
//! that wrapper is, because it needs the undetoasted argument that pgrx never hands out.

use pgrx::prelude::*;

use crate::pg_support::try_vec;
use crate::pg_support::MAX_ALLOC_SIZE;

// ANCHOR: add_nullable
/// `add_nullable(a integer, b integer)`: a non-STRICT function that handles NULL itself.
///
/// PostgreSQL 15's manual calls `PG_ARGISNULL(n)` in `make_array` (its `c_overpaid` is STRICT);
/// this is the smallest function that needs it. A NULL argument counts as absent, as in `sum()`:
/// the result is NULL only when both are. In C, a non-STRICT function must check it before every
/// `PG_GETARG_*`, or it reads whatever `Datum` sits in the NULL slot. In Rust an `Option`
/// argument is how pgrx learns that the function is not STRICT, and the compiler then refuses
/// any use of the value that does not handle `None`.
#[pg_extern(immutable, parallel_safe)]
pub fn add_nullable(a: Option<i32>, b: Option<i32>) -> Option<i32> {
    match (a, b) {
        (None, None) => None,
        (Some(x), None) | (None, Some(x)) => Some(x),
        (Some(x), Some(y)) => match x.checked_add(y) {
            Some(sum) => Some(sum),
            None => {
                ereport!(
                    ERROR,
                    PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                    "integer out of range"
                );
            }
        },
    }
}
// ANCHOR_END: add_nullable

// ANCHOR: reverse_bytes
/// `reverse_bytes(bytes bytea)`: an input that must be modified, so the function works on a copy.
///
/// The C version reads its argument with `PG_GETARG_BYTEA_P_COPY(0)`: a fresh palloc'd copy it
/// may reverse in place, where `PG_GETARG_BYTEA_P(0)` may point straight into a shared buffer
/// page. In Rust the choice is in the type: `&[u8]` borrows the argument and cannot be written
/// through. pgrx would also give a `Vec<u8>`, an owned copy, but it makes that copy with Rust's
/// infallible allocation (`impl FromDatum for Vec<u8>`, pgrx `src/datum/from.rs`): a `bytea` of
/// up to 1 GB that `malloc` cannot hold would abort the backend. So we borrow, and copy into a
/// `Vec` whose allocation fails with an `ERROR` instead (`try_vec`, chapter 5). The result
/// goes back through pgrx's conversion to a varlena, which asserts `size < MaxAllocSize`: the
/// largest `bytea` has no reversed twin here, so both builds refuse it as `concat_text` refuses
/// a result that large, with SQLSTATE 54000.
#[pg_extern(immutable, parallel_safe)]
pub fn reverse_bytes(bytes: &[u8]) -> Vec<u8> {
    if pg_sys::VARHDRSZ + bytes.len() >= MAX_ALLOC_SIZE {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
            "requested length too large"
        );
    }
    let mut reversed = try_vec(bytes.len());
    reversed.extend(bytes.iter().rev());
    reversed
}
// ANCHOR_END: reverse_bytes

// ANCHOR: text_prefix
/// Raises `substr()`'s error (SQLSTATE 22011) for a negative prefix length.
fn check_prefix_length(n: i32) {
    if n < 0 {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_SUBSTRING_ERROR,
            "negative prefix length not allowed"
        );
    }
}

/// Tells PostgreSQL that `text_prefix` follows the version-1 convention: what
/// `PG_FUNCTION_INFO_V1(text_prefix)` expands to in C, and what `#[pg_extern]` emits as
/// `pg_finfo_<name>_wrapper` for every other function of this crate.
#[no_mangle]
pub extern "C" fn pg_finfo_text_prefix() -> &'static pg_sys::Pg_finfo_record {
    const V1_API: pg_sys::Pg_finfo_record = pg_sys::Pg_finfo_record { api_version: 1 };
    &V1_API
}

/// `text_prefix(string text, n integer)`: the first `n` characters of `string`, fetching only
/// the part of a TOASTed value that holds them.
///
/// The C version reads its argument with `PG_GETARG_TEXT_P_SLICE(0, 0, bytes)`. pgrx converts
/// every `text` argument (`&str`, `String`) by detoasting all of it, so this function is
/// written the way `#[pg_extern]`'s wrapper is: a `Datum f(FunctionCallInfo)` with
/// `#[pg_guard]` (which turns a PostgreSQL error into a Rust unwind and back), its own
/// `pg_finfo_` record above, and its `CREATE FUNCTION` in `extension_sql!` below.
///
/// # Safety
///
/// Only PostgreSQL calls this, through the `CREATE FUNCTION` below: `fcinfo` is valid and holds
/// two non-NULL arguments (the function is STRICT), a `text` and an `integer`.
#[pg_guard]
#[no_mangle]
pub unsafe extern "C-unwind" fn text_prefix(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum {
    // SAFETY: fcinfo is valid and argument 1 is a non-NULL int4 (see # Safety). An int4 Datum
    // holds the value in its low 32 bits: the cast is DatumGetInt32.
    let n = unsafe { pgrx::fcinfo::pg_getarg_datum_raw(fcinfo, 1) }.value() as i32;
    check_prefix_length(n);
    // n characters take at most n * (longest character of the encoding) bytes; past i32::MAX,
    // a negative length asks for the whole value.
    // SAFETY: a plain read of the database encoding, set up before any function call.
    let max_char_len = unsafe { pg_sys::pg_database_encoding_max_length() };
    let slice_len = n.checked_mul(max_char_len).unwrap_or(-1);
    // SAFETY: argument 0 is a non-NULL text Datum (see # Safety). pg_detoast_datum_slice copies
    // at most slice_len bytes of it, fetching and decompressing no more than it needs, into a
    // fresh varlena in the current memory context, which outlives this call.
    unsafe {
        let string = pgrx::fcinfo::pg_getarg_datum_raw(fcinfo, 0);
        let slice = pg_sys::pg_detoast_datum_slice(string.cast_mut_ptr(), 0, slice_len);
        let data = pgrx::varlena::vardata_any(slice);
        // A varlena's length fits in 30 bits.
        let len = pgrx::varlena::varsize_any_exhdr(slice) as i32;
        // Count the bytes of the first n characters. The slice may end inside the character
        // after them, so never look at that one: stop after n characters, or at the end of a
        // shorter value. pg_mblen_with_len never reads past data + len.
        let mut prefix_len = 0;
        let mut chars = 0;
        while chars < n && prefix_len < len {
            prefix_len +=
                pg_sys::pg_mblen_with_len(data.add(prefix_len as usize), len - prefix_len);
            chars += 1;
        }
        pg_sys::Datum::from(pg_sys::cstring_to_text_with_len(data, prefix_len))
    }
}
// ANCHOR_END: text_prefix

// ANCHOR: text_prefix_sql
extension_sql!(
    r#"
CREATE FUNCTION text_prefix("string" text, "n" integer) RETURNS text
    AS 'MODULE_PATHNAME', 'text_prefix'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
"#,
    name = "text_prefix"
);
// ANCHOR_END: text_prefix_sql

// ANCHOR: bytes_prefix
/// The version-1 record of `bytes_prefix`: `PG_FUNCTION_INFO_V1(bytes_prefix)` in C.
#[no_mangle]
pub extern "C" fn pg_finfo_bytes_prefix() -> &'static pg_sys::Pg_finfo_record {
    const V1_API: pg_sys::Pg_finfo_record = pg_sys::Pg_finfo_record { api_version: 1 };
    &V1_API
}

/// `bytes_prefix(bytes bytea, n integer)`: the chapter's exercise, the first `n` bytes of
/// `bytes`, fetching only the part of a TOASTed value that holds them.
///
/// The C version returns `PG_GETARG_BYTEA_P_SLICE(0, 0, n)` as it comes: bytes need no
/// character counting, and the slice is already a new `bytea` in the current memory context.
/// Here, as for `text_prefix`, the function is written without `#[pg_extern]`, because pgrx
/// detoasts every `bytea` argument whole; it shares `text_prefix`'s `check_prefix_length`.
///
/// # Safety
///
/// Only PostgreSQL calls this, through the `CREATE FUNCTION` below: `fcinfo` is valid and holds
/// two non-NULL arguments (the function is STRICT), a `bytea` and an `integer`.
#[pg_guard]
#[no_mangle]
pub unsafe extern "C-unwind" fn bytes_prefix(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum {
    // SAFETY: fcinfo is valid and argument 1 is a non-NULL int4 (see # Safety).
    let n = unsafe { pgrx::fcinfo::pg_getarg_datum_raw(fcinfo, 1) }.value() as i32;
    check_prefix_length(n);
    // SAFETY: argument 0 is a non-NULL bytea Datum (see # Safety). pg_detoast_datum_slice
    // returns a fresh varlena of at most n bytes in the current memory context, fetching and
    // decompressing no more of the value than it needs.
    unsafe {
        let bytes = pgrx::fcinfo::pg_getarg_datum_raw(fcinfo, 0);
        pg_sys::Datum::from(pg_sys::pg_detoast_datum_slice(bytes.cast_mut_ptr(), 0, n))
    }
}

extension_sql!(
    r#"
CREATE FUNCTION bytes_prefix("bytes" bytea, "n" integer) RETURNS bytea
    AS 'MODULE_PATHNAME', 'bytes_prefix'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
"#,
    name = "bytes_prefix"
);
// ANCHOR_END: bytes_prefix

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;

    #[pg_test]
    fn add_nullable_treats_null_as_absent() {
        assert_eq!(
            Spi::get_one::<i32>("SELECT add_nullable(40, 2)"),
            Ok(Some(42))
        );
        assert_eq!(
            Spi::get_one::<i32>("SELECT add_nullable(NULL, 2)"),
            Ok(Some(2))
        );
        assert_eq!(
            Spi::get_one::<i32>("SELECT add_nullable(40, NULL)"),
            Ok(Some(40))
        );
        assert_eq!(
            Spi::get_one::<i32>("SELECT add_nullable(NULL, NULL)"),
            Ok(None)
        );
        assert_eq!(
            crate::testing::sqlstate_of("SELECT add_nullable(2147483647, 1)"),
            Some("22003".into())
        );
    }

    #[pg_test]
    fn reverse_bytes_leaves_the_stored_value_alone() {
        Spi::run(
            "CREATE TEMP TABLE rb AS SELECT decode(repeat('00010203', 100), 'hex') AS b; \
             SELECT reverse_bytes(b) FROM rb",
        )
        .expect("setting up rb");
        assert_eq!(
            Spi::get_one::<bool>(
                "SELECT b = decode(repeat('00010203', 100), 'hex') \
                    AND reverse_bytes(b) = decode(repeat('03020100', 100), 'hex') FROM rb"
            ),
            Ok(Some(true))
        );
    }

    #[pg_test]
    fn text_prefix_counts_characters_not_bytes() {
        assert_eq!(
            Spi::get_one::<String>("SELECT text_prefix('h\u{e9}llo \u{1f418}', 7)"),
            Ok(Some("h\u{e9}llo \u{1f418}".into()))
        );
        assert_eq!(
            Spi::get_one::<String>("SELECT text_prefix('h\u{e9}llo', 2)"),
            Ok(Some("h\u{e9}".into()))
        );
        assert_eq!(
            crate::testing::sqlstate_of("SELECT text_prefix('abc', -1)"),
            Some("22011".into())
        );
    }

    #[pg_test]
    fn text_prefix_of_an_external_value_equals_substr() {
        Spi::run(
            "CREATE TEMP TABLE big (v text); \
             ALTER TABLE big ALTER COLUMN v SET STORAGE EXTERNAL; \
             INSERT INTO big SELECT string_agg(i::text, ',') FROM generate_series(1, 200000) i",
        )
        .expect("setting up big");
        for n in [0, 1, 1995, 1996, 1997, 5000, 2_000_000] {
            assert_eq!(
                Spi::get_one::<bool>(&format!(
                    "SELECT text_prefix(v, {n}) = substr(v, 1, {n}) FROM big"
                )),
                Ok(Some(true)),
                "n = {n}"
            );
        }
    }

    #[pg_test]
    fn text_prefix_stops_before_a_character_the_slice_cuts() {
        // '\u{20ac}' (the euro sign) is 3 bytes: the 4-byte slice for n = 1 ends inside the
        // second one, and the 8 bytes for n = 2 inside the third.
        Spi::run(
            "CREATE TEMP TABLE euro (v text); \
             ALTER TABLE euro ALTER COLUMN v SET STORAGE EXTERNAL; \
             INSERT INTO euro VALUES (repeat('\u{20ac}', 100000))",
        )
        .expect("setting up euro");
        for n in [1, 2, 3, 4, 1000, 100_000, 100_001] {
            assert_eq!(
                Spi::get_one::<bool>(&format!(
                    "SELECT text_prefix(v, {n}) = substr(v, 1, {n}) FROM euro"
                )),
                Ok(Some(true)),
                "n = {n}"
            );
        }
    }

    #[pg_test]
    fn bytes_prefix_is_a_slice() {
        assert_eq!(
            Spi::get_one::<Vec<u8>>("SELECT bytes_prefix('\\x0102030405', 2)"),
            Ok(Some(vec![1, 2]))
        );
        assert_eq!(
            Spi::get_one::<Vec<u8>>("SELECT bytes_prefix('\\x01', 99)"),
            Ok(Some(vec![1]))
        );
        assert_eq!(
            Spi::get_one::<Vec<u8>>("SELECT bytes_prefix('\\x01', 0)"),
            Ok(Some(vec![]))
        );
        Spi::run(
            "CREATE TEMP TABLE bb (b bytea); \
             ALTER TABLE bb ALTER COLUMN b SET STORAGE EXTERNAL; \
             INSERT INTO bb SELECT convert_to(repeat('0123456789', 100000), 'UTF8')",
        )
        .expect("setting up bb");
        for n in [0, 1, 1995, 1996, 1997, 5000, 1_000_000, 2_000_000] {
            assert_eq!(
                Spi::get_one::<bool>(&format!(
                    "SELECT bytes_prefix(b, {n}) = substr(b, 1, {n}) FROM bb"
                )),
                Ok(Some(true)),
                "n = {n}"
            );
        }
        assert_eq!(
            crate::testing::sqlstate_of("SELECT bytes_prefix('\\x01', -1)"),
            Some("22011".into())
        );
    }

    #[pg_test]
    fn wrappers_are_the_symbols_postgres_calls() {
        // #[pg_extern] functions are called through the generated <name>_wrapper symbol; the
        // hand-written text_prefix is its own symbol.
        assert_eq!(
            Spi::get_one::<String>(
                "SELECT prosrc::text FROM pg_proc WHERE proname = 'add_nullable'"
            ),
            Ok(Some("add_nullable_wrapper".into()))
        );
        assert_eq!(
            Spi::get_one::<String>(
                "SELECT prosrc::text FROM pg_proc WHERE proname = 'text_prefix'"
            ),
            Ok(Some("text_prefix".into()))
        );
    }
}
