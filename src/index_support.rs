//! Interfacing extensions to indexes (chapter 19): the tutorial's B-tree operator class for
//! `complex`, `complex_abs_ops`, which sorts values by absolute value.
//!
//! A B-tree index knows nothing of `complex`. An operator class tells it which operator is
//! `<`, `<=`, `=`, `>=` and `>` (strategies 1 to 5) and which function compares two values
//! (support function 1, returning an integer below, at or above zero). pgrx has no attribute
//! for an operator class of a type it did not derive (`#[derive(PostgresOrd)]` writes one from
//! Rust's `Ord`, for a `#[derive(PostgresType)]` type), so the class is written in SQL with
//! `extension_sql!`, as the C twin writes it in `c/index_support.sql`.

use pgrx::prelude::*;

use crate::operators::complex_abs_cmp_internal;
use crate::user_types::Complex;

// ANCHOR: complex_abs_cmp
/// `complex_abs_cmp(complex, complex) RETURNS integer`: B-tree support function 1 of
/// `complex_abs_ops`, the three-way comparison the operators of chapter 18 wrap, so that the
/// index and the operators agree on every pair of values.
#[pg_extern(immutable, parallel_safe, requires = ["complex_type"])]
pub fn complex_abs_cmp(a: &Complex, b: &Complex) -> i32 {
    complex_abs_cmp_internal(a, b)
}
// ANCHOR_END: complex_abs_cmp

// ANCHOR: opclass
extension_sql!(
    r#"
CREATE OPERATOR CLASS complex_abs_ops
    DEFAULT FOR TYPE complex USING btree AS
        OPERATOR        1       < ,
        OPERATOR        2       <= ,
        OPERATOR        3       = ,
        OPERATOR        4       >= ,
        OPERATOR        5       > ,
        FUNCTION        1       complex_abs_cmp(complex, complex);
"#,
    name = "complex_abs_ops",
    requires = [
        operators::complex_abs_lt,
        operators::complex_abs_le,
        operators::complex_abs_eq,
        operators::complex_abs_ge,
        operators::complex_abs_gt,
        complex_abs_cmp
    ],
);
// ANCHOR_END: opclass

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;

    #[pg_test]
    fn an_index_agrees_with_a_scan_and_passes_amcheck() {
        Spi::run(
            "CREATE TABLE t (a complex); \
             INSERT INTO t SELECT format('(%s,%s)', i % 17 - 8, i % 11 - 5)::complex \
               FROM generate_series(1, 2000) AS i; \
             CREATE INDEX t_a ON t (a); \
             CREATE EXTENSION IF NOT EXISTS amcheck; \
             SELECT bt_index_check('t_a', true)",
        )
        .unwrap();
        let count = |settings: &str| {
            Spi::run(settings).unwrap();
            Spi::get_one::<i64>("SELECT count(*) FROM t WHERE a < '(3,4)'").unwrap()
        };
        let by_index = count("SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off");
        let by_scan = count(
            "SET LOCAL enable_seqscan = on; SET LOCAL enable_indexscan = off; \
             SET LOCAL enable_indexonlyscan = off",
        );
        assert_eq!(by_index, by_scan);
        assert!(by_index.is_some_and(|n| n > 0 && n < 2000));
    }

    #[pg_test]
    fn complex_abs_cmp_is_three_way() {
        assert_eq!(
            Spi::get_one::<String>(
                "SELECT format('%s %s %s', complex_abs_cmp('(3,4)', '(0,6)'), \
                        complex_abs_cmp('(3,4)', '(-5,0)'), complex_abs_cmp('(0,6)', '(3,4)'))"
            ),
            Ok(Some("-1 0 1".into()))
        );
    }
}
