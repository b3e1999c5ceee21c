//! Base types in C-language functions: the manual's `add_one` examples.
//!
//! PostgreSQL passes a value to a C function in one of three ways: by value (fits in a `Datum`),
//! by reference to fixed-length data, or by reference to variable-length ("varlena") data.
//! `add_one` shows the first (`integer`, `double precision`), `makepoint` the second (`point`),
//! `copytext` and `concat_text` the third (`text`).

use pgrx::prelude::*;

use crate::pg_support::palloc::PallocText;

// ANCHOR: add_one_int4
/// `add_one(integer)`: the manual's first example, an `int4` passed by value.
///
/// The C version declares `PG_FUNCTION_INFO_V1(add_one)`, reads its argument with
/// `PG_GETARG_INT32(0)` and returns with `PG_RETURN_INT32`; pgrx writes that wrapper from the
/// Rust signature and declares the function STRICT because no argument is an `Option`.
/// The 2008 manual returned `arg + 1` and wrapped around at 2^31; like the built-in `+`, we raise
/// SQLSTATE 22003 instead.
#[pg_extern(immutable, parallel_safe)]
pub fn add_one(arg: i32) -> i32 {
    match arg.checked_add(1) {
        Some(sum) => sum,
        None => {
            ereport!(
                ERROR,
                PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                "integer out of range"
            );
        }
    }
}
// ANCHOR_END: add_one_int4

// ANCHOR: add_one_float8
/// `add_one(double precision)`: the manual's overload of `add_one` for `float8`.
///
/// `float8` is 8 bytes and, on every 64-bit platform PostgreSQL 15 supports, passed by value in
/// the `Datum`. The C version reads it with `PG_GETARG_FLOAT8` and adds with the server's own
/// `float8_pl`; pgrx unboxes the `f64` for us and we spell out `float8_pl` below. Rust needs a
/// distinct name for the overload (`add_one_float8`); `name = "add_one"` gives the SQL name.
#[pg_extern(name = "add_one", immutable, parallel_safe)]
pub fn add_one_float8(arg: f64) -> f64 {
    float8_pl(arg, 1.0)
}

/// The built-in `float8 + float8` (`float8_pl` in `utils/float.h`): IEEE 754 addition, where a
/// NaN or an infinity in is a NaN or an infinity out, but an infinite result from two finite
/// inputs is an error, not a silent `Infinity`.
fn float8_pl(val1: f64, val2: f64) -> f64 {
    let result = val1 + val2;
    if result.is_infinite() && !val1.is_infinite() && !val2.is_infinite() {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
            "value out of range: overflow"
        );
    }
    result
}
// ANCHOR_END: add_one_float8

// ANCHOR: makepoint
/// `makepoint(point, point)`: the manual's fixed-length, by-reference example. The result takes
/// its x from the first point and its y from the second.
///
/// The C version gets two `Point *` with `PG_GETARG_POINT_P`, `palloc`s a third and returns it
/// with `PG_RETURN_POINT_P`. pgrx's `FromDatum for pg_sys::Point` copies each 16-byte point out of
/// the argument (so an input can never be written through), and `IntoDatum` `palloc`s the result
/// in `CurrentMemoryContext` and copies it there: the same two steps, done by the conversion.
#[pg_extern(immutable, parallel_safe)]
pub fn makepoint(pointx: pg_sys::Point, pointy: pg_sys::Point) -> pg_sys::Point {
    pg_sys::Point {
        x: pointx.x,
        y: pointy.y,
    }
}
// ANCHOR_END: makepoint

// ANCHOR: add_points
/// `add_points(a point, b point)`: the chapter's exercise, the built-in `point + point`
/// (`point_add`) written again: a fixed-length, by-reference result built from two inputs.
///
/// The C version reads two `Point *`, `palloc`s the result and adds each coordinate with
/// `float8_pl`, as `point_add` does; here pgrx copies the points in and out, and the module's
/// `float8_pl` above raises the same 22003 for a sum past the largest `float8`.
#[pg_extern(immutable, parallel_safe)]
pub fn add_points(a: pg_sys::Point, b: pg_sys::Point) -> pg_sys::Point {
    pg_sys::Point {
        x: float8_pl(a.x, b.x),
        y: float8_pl(a.y, b.y),
    }
}
// ANCHOR_END: add_points

// ANCHOR: copytext
/// `copytext(text)`: the manual's varlena example, a copy of its argument.
///
/// The C version detoasts with `PG_GETARG_TEXT_PP`, `palloc`s `VARHDRSZ + len` bytes, writes the
/// header with `SET_VARSIZE` and `memcpy`s the data. Here the argument arrives as a `&str`
/// borrowed from the detoasted value (pgrx calls `pg_detoast_datum_packed`, which copies only
/// when the value is compressed or out of line), and returning it makes pgrx build a new `text`
/// in `CurrentMemoryContext`: `palloc`, 4-byte header, copy. The borrow checker is what keeps
/// us from writing into the input.
#[pg_extern(immutable, parallel_safe)]
pub fn copytext(t: &str) -> &str {
    t
}
// ANCHOR_END: copytext

// ANCHOR: concat_text
/// `concat_text(text, text)`: the manual's second varlena example, its arguments joined.
///
/// The C version computes the length of the result from both headers, checks it, then
/// `palloc`s, `SET_VARSIZE`s and `memcpy`s twice. pgrx detoasts the arguments into `&str`s; the
/// result is a [`PallocText`] (`src/pg_support/palloc.rs`), a `text` allocated once at its
/// final size into which each argument is copied once, as in C, and which pgrx returns as it
/// is. (A `String`
/// result would be built by one copy and copied again into a `text` by pgrx.) It raises the
/// C version's errors: SQLSTATE 54000 when the result would be over the 1 GB varlena limit,
/// checked before anything is allocated, and 53200 when the memory is not there.
#[pg_extern(immutable, parallel_safe)]
pub fn concat_text(arg1: &str, arg2: &str) -> PallocText {
    PallocText::concat(&[arg1.as_bytes(), arg2.as_bytes()])
}
// ANCHOR_END: concat_text

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;

    #[pg_test]
    fn add_one_adds_one() {
        assert_eq!(Spi::get_one::<i32>("SELECT add_one(41)"), Ok(Some(42)));
        assert_eq!(Spi::get_one::<i32>("SELECT add_one(-1)"), Ok(Some(0)));
        assert_eq!(
            Spi::get_one::<i32>("SELECT add_one(2147483646)"),
            Ok(Some(i32::MAX))
        );
    }

    #[pg_test]
    fn add_one_is_strict() {
        assert_eq!(
            Spi::get_one::<i32>("SELECT add_one(NULL::integer)"),
            Ok(None)
        );
    }

    #[pg_test(error = "integer out of range")]
    fn add_one_overflow_is_an_error() {
        Spi::get_one::<i32>("SELECT add_one(2147483647)").unwrap();
    }

    #[pg_test]
    fn add_one_overflow_sqlstate_is_22003() {
        // The same SQLSTATE as the built-in int4pl ('+') raises.
        assert_eq!(
            crate::testing::sqlstate_of("SELECT add_one(2147483647)"),
            Some("22003".into())
        );
        assert_eq!(crate::testing::sqlstate_of("SELECT add_one(1)"), None);
    }

    #[pg_test]
    fn add_one_float8_follows_float8_pl() {
        assert_eq!(
            Spi::get_one::<f64>("SELECT add_one(41.5::float8)"),
            Ok(Some(42.5))
        );
        assert_eq!(
            Spi::get_one::<f64>("SELECT add_one('Infinity'::float8)"),
            Ok(Some(f64::INFINITY))
        );
        let nan = Spi::get_one::<f64>("SELECT add_one('NaN'::float8)").unwrap();
        assert!(nan.is_some_and(f64::is_nan));
        // 1 added to the largest float8 rounds back to it: no overflow, as with the built-in.
        assert_eq!(
            Spi::get_one::<f64>("SELECT add_one(1.7976931348623157e308::float8)"),
            Ok(Some(f64::MAX))
        );
    }

    #[pg_test]
    fn float8_pl_overflow_sqlstate_is_22003() {
        // Unreachable from add_one (x + 1.0 never overflows a finite x), so test the helper.
        assert_eq!(super::float8_pl(1.0, 2.0), 3.0);
        assert_eq!(super::float8_pl(f64::INFINITY, 1.0), f64::INFINITY);
        let caught = PgTryBuilder::new(|| {
            super::float8_pl(f64::MAX, f64::MAX);
            None
        })
        .catch_others(|e| match e {
            pg_sys::panic::CaughtError::ErrorReport(r) => Some(r.sql_error_code()),
            _ => None,
        })
        .execute();
        assert_eq!(
            caught,
            Some(PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE)
        );
    }

    #[pg_test]
    fn makepoint_takes_x_then_y() {
        assert_eq!(
            Spi::get_one::<String>("SELECT makepoint(point(1, 2), point(3, 4))::text"),
            Ok(Some("(1,4)".into()))
        );
        assert_eq!(
            Spi::get_one::<String>("SELECT makepoint(NULL, point(3, 4))::text"),
            Ok(None)
        );
    }

    #[pg_test]
    fn add_points_is_the_builtin_point_add() {
        assert_eq!(
            Spi::get_one::<bool>(
                "SELECT add_points(p, q) ~= p + q \
                   FROM (VALUES (point(1, 2), point(3, 4)), (point(-1.5, 0), point(1e300, -2))) \
                     AS v(p, q)"
            ),
            Ok(Some(true))
        );
        assert_eq!(
            Spi::get_one::<String>("SELECT add_points(point(1, 2), point(3, 4))::text"),
            Ok(Some("(4,6)".into()))
        );
        assert_eq!(
            crate::testing::sqlstate_of("SELECT add_points('(1e308,0)', '(1e308,0)')"),
            Some("22003".into())
        );
        assert_eq!(
            crate::testing::sqlstate_of("SELECT add_points('(0,-1e308)', '(0,-1e308)')"),
            Some("22003".into())
        );
    }

    #[pg_test]
    fn copytext_and_concat_text_handle_every_header() {
        crate::testing::text_functions_handle_every_header("");
        assert_eq!(
            Spi::get_one::<String>("SELECT concat_text('', '')"),
            Ok(Some(String::new()))
        );
    }

    #[pg_test]
    fn concat_text_over_1gb_sqlstate_is_54000() {
        assert_eq!(
            crate::testing::sqlstate_of(
                "SELECT concat_text(t, t) FROM (SELECT repeat(repeat('x', 1048576), n) AS t \
                 FROM generate_series(512, 512) AS n OFFSET 0) AS s"
            ),
            Some("54000".into())
        );
    }
}
