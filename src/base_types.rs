//! Base types in C-language functions: the manual's `add_one` examples.
//!
//! PostgreSQL passes a value to a C function in one of three ways: by value (fits in a `Datum`),
//! by reference to fixed-length data, or by reference to variable-length ("varlena") data.
//! This module starts with the first.

use pgrx::prelude::*;

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
        assert_eq!(Spi::get_one::<i32>("SELECT add_one(NULL)"), Ok(None));
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
}
