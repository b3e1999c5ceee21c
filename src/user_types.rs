//! User-defined types (chapter 17): the PostgreSQL tutorial's `complex`, a base type of our own.
//!
//! A base type is defined below the level of SQL: its input and output functions turn its text
//! form into its internal form and back, its receive and send functions do the same for the
//! binary form of `COPY ... (FORMAT binary)` and of the wire protocol. `complex` is the
//! manual's: two `double precision`, 16 bytes, passed by reference, aligned as a `double`.
//!
//! Both builds must store a `complex` the same way, so that a table written by one can be read
//! by the other (the C build's `complex` is upstream's `struct Complex`). pgrx's
//! `#[derive(PostgresType)]` cannot make that type: it always declares `INTERNALLENGTH =
//! variable` and stores the value as a varlena (CBOR by default, the struct after a varlena
//! header with `pgvarlena_inoutfuncs`). So the type is declared in SQL with `extension_sql!`,
//! and the Rust struct is tied to it by hand: the trait impls under "The layout contract" below
//! are what `#[derive(PostgresType)]` would otherwise write.

use std::ffi::{c_char, c_int, CStr, CString};
use std::fmt::Write as _;

use pgrx::callconv::{BoxRet, DatumPass, FcInfo};
use pgrx::layout::PassBy;
use pgrx::pgrx_sql_entity_graph::metadata::{
    ArgumentError, ReturnsError, ReturnsRef, SqlMappingRef, SqlTranslatable, TypeOrigin,
};
use pgrx::prelude::*;

// ANCHOR: complex_struct
/// The internal form of `complex`: upstream's `typedef struct Complex { double x; double y; }`.
/// `#[repr(C)]` gives it C's layout: `x` at offset 0, `y` at offset 8, 16 bytes, aligned to 8.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Complex {
    pub x: f64,
    pub y: f64,
}

// What CREATE TYPE below declares (INTERNALLENGTH = 16, ALIGNMENT = double), checked when the
// crate compiles. No check can see the SQL from here: the two are kept equal by hand, and by
// the test `the_catalog_agrees_with_the_struct`.
const _: () = assert!(std::mem::size_of::<Complex>() == 16);
const _: () = assert!(std::mem::align_of::<Complex>() == 8);
// ANCHOR_END: complex_struct

// ANCHOR: shell_type
// A shell type: a name for the I/O functions to return and take before the type is complete.
// `creates` tells pgrx's SQL generator that this statement makes the SQL type of `Complex`, so
// every function that takes or returns one comes after it.
extension_sql!(
    "CREATE TYPE complex;",
    name = "complex_shell",
    creates = [Type(Complex)],
);
// ANCHOR_END: shell_type

// --- The layout contract ------------------------------------------------------------------------

// ANCHOR: sql_translatable
// SAFETY: `Complex` is the SQL type `complex`, which this extension creates (extension_sql!
// above and below): a 16-byte value passed by reference and aligned as a double, the size and
// alignment of the struct (asserted above). A `complex` argument is therefore a pointer to a
// `Complex`, and a `complex` result must be one.
unsafe impl SqlTranslatable for Complex {
    const TYPE_IDENT: &'static str = pgrx::pgrx_resolved_type!(Complex);
    const TYPE_ORIGIN: TypeOrigin = TypeOrigin::ThisExtension;
    const ARGUMENT_SQL: Result<SqlMappingRef, ArgumentError> =
        Ok(SqlMappingRef::literal("complex"));
    const RETURN_SQL: Result<ReturnsRef, ReturnsError> =
        Ok(ReturnsRef::One(SqlMappingRef::literal("complex")));
}
// ANCHOR_END: sql_translatable

// ANCHOR: borrow
// SAFETY: a `complex` is passed by reference: its Datum is a pointer (typbyval = false).
unsafe impl DatumPass for Complex {
    const PASS: PassBy = PassBy::Ref;
}

// SAFETY: the pointer of a `complex` Datum points at 16 bytes aligned to 8 (ALIGNMENT =
// double; PostgreSQL aligns the value in a tuple and in palloc'd memory), laid out as
// `Complex` is; any 16 bytes are a valid `Complex` (every bit pattern is an f64). Reading it
// through a shared borrow writes nothing: the value may sit in a shared buffer.
unsafe impl pgrx::array::Element for Complex {
    unsafe fn point_from(ptr: std::ptr::NonNull<u8>) -> std::ptr::NonNull<Complex> {
        ptr.cast()
    }
}
// ANCHOR_END: borrow

// ANCHOR: into_datum
impl IntoDatum for Complex {
    /// The result of a function returning `complex`: a new 16 bytes in the current memory
    /// context, as the C version's `palloc(sizeof(Complex))`.
    fn into_datum(self) -> Option<pg_sys::Datum> {
        // SAFETY: palloc returns memory for 16 bytes aligned to MAXALIGN (8), or raises an
        // ERROR (pgrx's guarded call turns it into a panic, which its wrapper reports); we
        // write a whole Complex into it before anyone reads it.
        unsafe {
            let result = pg_sys::palloc(std::mem::size_of::<Complex>()).cast::<Complex>();
            result.write(self);
            Some(pg_sys::Datum::from(result))
        }
    }

    fn type_oid() -> pg_sys::Oid {
        pgrx::wrappers::rust_regtypein::<Self>()
    }
}

// SAFETY: the Datum is a pointer to a complete `Complex` in the memory context the function
// was called in, which is what PostgreSQL expects of a `complex` result.
unsafe impl BoxRet for Complex {
    unsafe fn box_into<'fcx>(self, fcinfo: &mut FcInfo<'fcx>) -> pgrx::datum::Datum<'fcx> {
        match self.into_datum() {
            // SAFETY: a valid, non-NULL `complex` Datum (see above).
            Some(datum) => unsafe { fcinfo.return_raw_datum(datum) },
            None => fcinfo.return_null(),
        }
    }
}
// ANCHOR_END: into_datum

// --- Text input and output ----------------------------------------------------------------------

// ANCHOR: complex_in
/// `complex_in(cstring) RETURNS complex`: the text form `(x,y)` to the internal form.
///
/// Upstream's C reads it with `sscanf(str, " ( %lf , %lf )", ...)`, which also accepts a
/// missing `)` and anything after it, and turns `1e400` into infinity. Both builds here read
/// it strictly, the way the built-in `point` reads its coordinates: blanks anywhere between
/// the parts, each number read by PostgreSQL's own `float8in_internal` (so `NaN`, `Infinity`
/// and `-Infinity` are numbers, and `1e400` is out of range, SQLSTATE 22003), and nothing
/// after the `)`. Anything else is SQLSTATE 22P02 with the whole input in the message.
#[pg_extern(immutable, parallel_safe)]
pub fn complex_in(input: &CStr) -> Complex {
    let text = input.to_bytes();
    let mut at = skip_blanks(text, 0);
    expect(input, text, &mut at, b'(');
    let x = read_float8(input, &mut at);
    expect(input, text, &mut at, b',');
    let y = read_float8(input, &mut at);
    expect(input, text, &mut at, b')');
    if skip_blanks(text, at) != text.len() {
        syntax_error(input);
    }
    Complex { x, y }
}

/// The position of the first byte at or after `at` that is not blank, as C's `isspace` says,
/// in the locale the server set for the database (`LC_CTYPE`): the C twin and
/// `float8in_internal` ask the same function. (Rust's `u8::is_ascii_whitespace` differs: it
/// knows no locale, and leaves out `\v`.)
fn skip_blanks(text: &[u8], mut at: usize) -> usize {
    while text.get(at).copied().is_some_and(is_c_space) {
        at += 1;
    }
    at
}

fn is_c_space(byte: u8) -> bool {
    // SAFETY: isspace is defined for every value of an unsigned char; it only reads the
    // locale's character table.
    unsafe { libc::isspace(c_int::from(byte)) != 0 }
}

/// The byte `wanted` at `at` (after blanks), or the syntax error.
fn expect(input: &CStr, text: &[u8], at: &mut usize, wanted: u8) {
    *at = skip_blanks(text, *at);
    if text.get(*at) != Some(&wanted) {
        syntax_error(input);
    }
    *at += 1;
}

/// A `double precision` at `at`: `float8in_internal` skips the blanks around it, raises 22P02
/// (naming type `complex` and the whole input) or 22003 itself, and says where it stopped.
fn read_float8(input: &CStr, at: &mut usize) -> f64 {
    let start = input.as_ptr();
    let mut end: *mut c_char = std::ptr::null_mut();
    // SAFETY: `start + *at` is within the NUL-terminated input (`*at` is at most its length,
    // the position of the NUL); float8in_internal only reads it, up to the NUL, and sets `end`
    // to a position within it. Its ERRORs come back through pgrx's guard as panics that the
    // wrapper of complex_in reports.
    let value = unsafe {
        pg_sys::float8in_internal(
            start.add(*at).cast_mut(),
            &mut end,
            c"complex".as_ptr(),
            start,
        )
    };
    // SAFETY: `end` points into the same string, at or after `start + *at`.
    *at = unsafe { end.offset_from(start) } as usize;
    value
}

fn syntax_error(input: &CStr) -> ! {
    ereport!(
        ERROR,
        PgSqlErrorCode::ERRCODE_INVALID_TEXT_REPRESENTATION,
        format!(
            "invalid input syntax for type complex: \"{}\"",
            input.to_string_lossy()
        )
    );
}
// ANCHOR_END: complex_in

// ANCHOR: complex_out
/// `complex_out(complex) RETURNS cstring`: the internal form to the text form `(x,y)`.
///
/// The C version is upstream's: `psprintf("(%g,%g)", ...)`, six significant digits, through
/// PostgreSQL's own `snprintf` (`src/port/snprintf.c`), which writes `NaN`, `Infinity` and
/// `-Infinity` on every platform. Rust has no `%g`; [`write_g`] writes what it writes. Six
/// digits are not enough to read a value back exactly: the text form loses digits (the manual
/// warns about that), the binary form below does not.
#[pg_extern(immutable, parallel_safe)]
pub fn complex_out(complex: &Complex) -> CString {
    let mut text = String::with_capacity(32);
    text.push('(');
    write_g(&mut text, complex.x);
    text.push(',');
    write_g(&mut text, complex.y);
    text.push(')');
    // The text is digits, signs, '.', 'e', letters of NaN and Infinity: no NUL.
    CString::new(text).unwrap_or_default()
}

/// `%g` as PostgreSQL's `snprintf` writes it: `NaN` without a sign, `Infinity` with one, `-0`
/// for minus zero, and otherwise C's `%g` (precision 6): the value rounded to six significant
/// digits, in `%e` form when its exponent X is below -4 or at least 6 and in `%f` form
/// otherwise, trailing zeros and a trailing point removed. Rust's `{:.5e}` rounds as glibc
/// does (exactly, ties to even), which the differential test checks on random values.
pub fn write_g(out: &mut String, value: f64) {
    const PRECISION: i32 = 6;
    if value.is_nan() {
        out.push_str("NaN");
        return;
    }
    if value.is_sign_negative() {
        out.push('-');
    }
    let value = value.abs();
    if value.is_infinite() {
        out.push_str("Infinity");
    } else if value == 0.0 {
        out.push('0');
    } else {
        let scientific = format!("{:.*e}", (PRECISION - 1) as usize, value);
        let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
        let exponent: i32 = exponent.parse().unwrap_or(0);
        if !(-4..PRECISION).contains(&exponent) {
            out.push_str(without_trailing_zeros(mantissa));
            let sign = if exponent < 0 { '-' } else { '+' };
            let _ = write!(out, "e{sign}{:02}", exponent.abs());
        } else {
            let fixed = format!("{:.*}", (PRECISION - 1 - exponent) as usize, value);
            out.push_str(without_trailing_zeros(&fixed));
        }
    }
}

fn without_trailing_zeros(number: &str) -> &str {
    if number.contains('.') {
        number.trim_end_matches('0').trim_end_matches('.')
    } else {
        number
    }
}
// ANCHOR_END: complex_out

// --- Binary input and output --------------------------------------------------------------------

// ANCHOR: complex_recv
/// `complex_recv(internal) RETURNS complex`: the binary form, two `float8` in network byte
/// order, to the internal form.
///
/// PostgreSQL calls it with a `StringInfo` holding the bytes (a field of `COPY ... (FORMAT
/// binary)`, a parameter sent in binary); the function reads what it needs and moves the
/// buffer's cursor, and the caller fails the value if bytes are left over (SQLSTATE 22P03).
/// `pq_getmsgfloat8` raises SQLSTATE 08P01 when fewer than 8 bytes are left. The argument's
/// type is `internal`: pgrx cannot know that it is a `StringInfo`, so we say so, unsafely. And
/// pgrx counts an `Internal` argument as one that may be NULL (as an `Option`), so it would
/// leave the function without `STRICT`, where the C twin has it: `strict` says it.
#[pg_extern(immutable, parallel_safe, strict)]
pub fn complex_recv(mut buf: pgrx::datum::Internal) -> Complex {
    // SAFETY: PostgreSQL calls a type's receive function with a StringInfo, or, for a NULL
    // field, not at all, since it is STRICT (ReceiveFunctionCall in fmgr.c); SQL cannot call
    // it, having no value of type internal to pass.
    let Some(buf) = (unsafe { buf.get_mut::<pg_sys::StringInfoData>() }) else {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED,
            "complex_recv called without a buffer"
        );
    };
    // SAFETY: `buf` is a valid StringInfo; pq_getmsgfloat8 reads 8 bytes at its cursor and
    // moves it, or raises an ERROR (08P01) that pgrx's guard reports.
    unsafe {
        Complex {
            x: pg_sys::pq_getmsgfloat8(buf),
            y: pg_sys::pq_getmsgfloat8(buf),
        }
    }
}
// ANCHOR_END: complex_recv

// ANCHOR: complex_send
/// `complex_send(complex) RETURNS bytea`: the internal form to the binary form.
///
/// The C version is upstream's: `pq_sendfloat8` twice, each the 8 bytes of the `double` in
/// network byte order (big-endian). `f64::to_be_bytes` is the same; returning a `Vec<u8>`
/// makes pgrx build the `bytea`.
#[pg_extern(immutable, parallel_safe)]
pub fn complex_send(complex: &Complex) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(16);
    bytes.extend_from_slice(&complex.x.to_be_bytes());
    bytes.extend_from_slice(&complex.y.to_be_bytes());
    bytes
}
// ANCHOR_END: complex_send

// ANCHOR: create_type
extension_sql!(
    r#"
CREATE TYPE complex (
    internallength = 16,
    input = complex_in,
    output = complex_out,
    receive = complex_recv,
    send = complex_send,
    alignment = double
);
"#,
    name = "complex_type",
    requires = [complex_in, complex_out, complex_recv, complex_send],
);
// ANCHOR_END: create_type

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;

    fn text_of(query: &str) -> Option<String> {
        Spi::get_one::<String>(query).unwrap()
    }

    #[pg_test]
    fn the_catalog_agrees_with_the_struct() {
        assert_eq!(
            text_of(
                "SELECT format('%s %s %s %s', typlen, typbyval, typalign, typstorage) \
                   FROM pg_type WHERE typname = 'complex'"
            ),
            Some(format!("{} f d p", std::mem::size_of::<super::Complex>()))
        );
        assert_eq!(
            Spi::get_one::<i32>("SELECT pg_column_size('(1,2)'::complex)"),
            Ok(Some(16))
        );
    }

    #[pg_test]
    fn input_and_output() {
        assert_eq!(
            text_of("SELECT ' ( 1.5 , -2e3 ) '::complex::text"),
            Some("(1.5,-2000)".into())
        );
        assert_eq!(
            text_of("SELECT '(1.23456789,1e-5)'::complex::text"),
            Some("(1.23457,1e-05)".into())
        );
        assert_eq!(
            text_of("SELECT '(NaN,-Infinity)'::complex::text"),
            Some("(NaN,-Infinity)".into())
        );
        assert_eq!(
            text_of("SELECT '(-0,1e20)'::complex::text"),
            Some("(-0,1e+20)".into())
        );
    }

    #[pg_test]
    fn bad_input_is_an_error() {
        for bad in ["", "(1,2", "1,2", "(1,2)x", "(1;2)", "(,)", "(1,2,3)"] {
            assert_eq!(
                crate::testing::sqlstate_of(&format!("SELECT '{bad}'::complex")),
                Some("22P02".into()),
                "{bad:?}"
            );
        }
        assert_eq!(
            crate::testing::sqlstate_of("SELECT '(1e400,0)'::complex"),
            Some("22003".into())
        );
    }

    #[pg_test]
    fn write_g_is_c_percent_g() {
        let g = |v: f64| {
            let mut s = String::new();
            super::write_g(&mut s, v);
            s
        };
        for (value, c) in [
            (0.0, "0"),
            (-0.0, "-0"),
            (100000.0, "100000"),
            (999999.5, "1e+06"),
            (1234565.0, "1.23456e+06"),
            (0.0001, "0.0001"),
            (0.00001234, "1.234e-05"),
            (f64::MAX, "1.79769e+308"),
            (5e-324, "4.94066e-324"),
            (f64::NEG_INFINITY, "-Infinity"),
            (-f64::NAN, "NaN"),
        ] {
            assert_eq!(g(value), c, "{value:e}");
        }
    }

    #[pg_test]
    fn send_and_receive() {
        assert_eq!(
            Spi::get_one::<Vec<u8>>("SELECT complex_send('(1,-2)')"),
            Ok(Some(
                [1.0f64.to_be_bytes(), (-2.0f64).to_be_bytes()].concat()
            ))
        );
        // SQL cannot call complex_recv: no value, not even a NULL, is an internal.
        assert_eq!(
            crate::testing::sqlstate_of("SELECT complex_recv(NULL)"),
            Some("42883".into())
        );
        assert_eq!(
            Spi::get_one::<bool>(
                "SELECT proisstrict FROM pg_proc WHERE oid = 'complex_recv(internal)'::regprocedure"
            ),
            Ok(Some(true))
        );
    }
}
