//! User-defined operators and operator optimization information (chapter 18): the tutorial's
//! `+` for `complex`, and its comparison operators by absolute value, `<`, `<=`, `=`, `>=`,
//! `>`, with the clauses that tell the planner what it may do with them.
//!
//! An operator is a name for a function of one or two arguments; `#[pg_operator]` makes pgrx
//! write `CREATE OPERATOR` after the function's `CREATE FUNCTION`, with the clauses its
//! attributes give (`#[commutator]`, `#[negator]`, `#[restrict]`, `#[join]`). The C twin writes
//! the same statements in `c/operators.sql`.

use pgrx::prelude::*;

use crate::base_types::float8_pl;
use crate::user_types::Complex;

// ANCHOR: complex_add
/// `complex_add(complex, complex) RETURNS complex`, the function of the operator `+`.
///
/// The C version reads two `Complex *` with `PG_GETARG_COMPLEX_P` and `palloc`s the sum;
/// here the arguments are borrowed from their Datums (the layout contract of chapter 17) and
/// the result is copied into a new `palloc`'d `complex` by its `IntoDatum`. Upstream adds with
/// C's `+`, where two large finite parts make an infinite one; both builds add with
/// `float8_pl`, the function of the built-in `float8 + float8` (chapter 2), which raises
/// SQLSTATE 22003 instead.
#[pg_operator(immutable, parallel_safe, requires = ["complex_type"])]
#[opname(+)]
#[commutator(+)]
pub fn complex_add(a: &Complex, b: &Complex) -> Complex {
    Complex {
        x: float8_pl(a.x, b.x),
        y: float8_pl(a.y, b.y),
    }
}
// ANCHOR_END: complex_add

// ANCHOR: abs_cmp_internal
/// The one three-way comparison behind every comparison operator of `complex` and behind the
/// B-tree support function `complex_abs_cmp` (chapter 19): by absolute value, that is by the
/// square of it, `x*x + y*y`. Writing the five operators as wrappers of one function is the
/// manual's advice: a B-tree index needs them to agree on every pair of values.
///
/// Upstream's version says "equal" whenever neither `<` nor `>` holds, so a NaN would be equal
/// to every value and the order would not be an order. Both builds order NaN as
/// `float8_cmp_internal` orders a `float8`: above every other value, equal to itself.
pub fn complex_abs_cmp_internal(a: &Complex, b: &Complex) -> i32 {
    let amag = a.x * a.x + a.y * a.y;
    let bmag = b.x * b.x + b.y * b.y;
    match (amag.is_nan(), bmag.is_nan()) {
        (true, true) => 0,
        (true, false) => 1,
        (false, true) => -1,
        (false, false) if amag < bmag => -1,
        (false, false) if amag > bmag => 1,
        (false, false) => 0,
    }
}
// ANCHOR_END: abs_cmp_internal

// ANCHOR: complex_abs_lt
/// `complex_abs_lt(complex, complex) RETURNS bool`, the function of `<`. Its commutator is `>`
/// (`a < b` is `b > a`), its negator `>=` (`a < b` is `NOT a >= b`), and the planner estimates
/// how many rows it keeps with the built-in estimators of `<`.
#[pg_operator(immutable, parallel_safe, requires = ["complex_type"])]
#[opname(<)]
#[commutator(>)]
#[negator(>=)]
#[restrict(scalarltsel)]
#[join(scalarltjoinsel)]
pub fn complex_abs_lt(a: &Complex, b: &Complex) -> bool {
    complex_abs_cmp_internal(a, b) < 0
}
// ANCHOR_END: complex_abs_lt

// ANCHOR: complex_abs_others
/// `complex_abs_le(complex, complex) RETURNS bool`, the function of `<=`.
#[pg_operator(immutable, parallel_safe, requires = ["complex_type"])]
#[opname(<=)]
#[commutator(>=)]
#[negator(>)]
#[restrict(scalarlesel)]
#[join(scalarlejoinsel)]
pub fn complex_abs_le(a: &Complex, b: &Complex) -> bool {
    complex_abs_cmp_internal(a, b) <= 0
}

/// `complex_abs_eq(complex, complex) RETURNS bool`, the function of `=`: equal absolute values.
/// Upstream gives it no negator, as there is no `<>` for `complex`.
#[pg_operator(immutable, parallel_safe, requires = ["complex_type"])]
#[opname(=)]
#[commutator(=)]
#[restrict(eqsel)]
#[join(eqjoinsel)]
pub fn complex_abs_eq(a: &Complex, b: &Complex) -> bool {
    complex_abs_cmp_internal(a, b) == 0
}

/// `complex_abs_ge(complex, complex) RETURNS bool`, the function of `>=`.
#[pg_operator(immutable, parallel_safe, requires = ["complex_type"])]
#[opname(>=)]
#[commutator(<=)]
#[negator(<)]
#[restrict(scalargesel)]
#[join(scalargejoinsel)]
pub fn complex_abs_ge(a: &Complex, b: &Complex) -> bool {
    complex_abs_cmp_internal(a, b) >= 0
}

/// `complex_abs_gt(complex, complex) RETURNS bool`, the function of `>`.
#[pg_operator(immutable, parallel_safe, requires = ["complex_type"])]
#[opname(>)]
#[commutator(<)]
#[negator(<=)]
#[restrict(scalargtsel)]
#[join(scalargtjoinsel)]
pub fn complex_abs_gt(a: &Complex, b: &Complex) -> bool {
    complex_abs_cmp_internal(a, b) > 0
}
// ANCHOR_END: complex_abs_others

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use super::{complex_abs_cmp_internal, Complex};
    use pgrx::prelude::*;

    #[pg_test]
    fn add_is_the_sum_of_the_parts() {
        assert_eq!(
            Spi::get_one::<String>("SELECT ('(1,2.5)'::complex + '(4.2,3.55)')::text"),
            Ok(Some("(5.2,6.05)".into()))
        );
        assert_eq!(
            crate::testing::sqlstate_of("SELECT '(1e308,0)'::complex + '(1e308,0)'"),
            Some("22003".into())
        );
    }

    #[pg_test]
    fn comparisons_are_by_absolute_value() {
        assert_eq!(
            Spi::get_one::<bool>(
                "SELECT '(3,4)'::complex = '(-5,0)' AND '(3,4)'::complex < '(0,5.1)' \
                    AND '(1,1)'::complex <= '(-1,1)' AND '(0,6)'::complex > '(3,4)' \
                    AND '(0,6)'::complex >= '(6,0)' AND NOT '(0,6)'::complex < '(6,0)'"
            ),
            Ok(Some(true))
        );
    }

    #[pg_test]
    fn nan_is_above_everything_and_equal_to_itself() {
        let c = |x: f64, y: f64| Complex { x, y };
        let nan = c(f64::NAN, 0.0);
        assert_eq!(complex_abs_cmp_internal(&nan, &nan), 0);
        assert_eq!(complex_abs_cmp_internal(&nan, &c(f64::INFINITY, 0.0)), 1);
        assert_eq!(complex_abs_cmp_internal(&c(1e300, 0.0), &nan), -1);
        // Magnitudes past the largest float8 are all infinite, so all equal.
        assert_eq!(complex_abs_cmp_internal(&c(1e200, 0.0), &c(0.0, 2e200)), 0);
    }
}
