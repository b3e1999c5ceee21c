//! Composite-type arguments (chapter 8): the manual's `c_overpaid(emp, integer)`.
//!
//! A row passed to a function arrives as one `Datum` pointing at a `HeapTupleHeader`: the row's
//! fields plus its type's OID, no descriptor. To read a field by name the function looks the row
//! type's descriptor up at run time, and must cope with a type whose shape has changed since
//! `CREATE FUNCTION`: `ALTER TABLE` can drop the column or change its type.

use pgrx::prelude::*;

use crate::pg_support::type_name;

// ANCHOR: emp_table
// The manual's table. Its row type, `emp`, is the type of `c_overpaid`'s first argument, so the
// extension creates it before the function (`requires = ["emp"]` below orders the script).
extension_sql!(
    r#"
CREATE TABLE emp (
    name        text,
    salary      integer,
    age         integer,
    cubicle     point
);
-- Rows a user puts in the extension's table are the user's data: pg_dump must dump them.
SELECT pg_catalog.pg_extension_config_dump('emp', '');
"#,
    name = "emp",
);
// ANCHOR_END: emp_table

// ANCHOR: c_overpaid
/// The employee's salary, `None` when it is NULL, read once `check_salary_column` has made sure
/// the row type has an `integer` column `salary`.
fn salary_of(emp: &PgHeapTuple<'_, AllocatedByRust>) -> Option<i32> {
    let salary = check_salary_column(emp);
    match emp.get_by_index::<i32>(salary) {
        Ok(salary) => salary,
        // Unreachable after check_salary_column; an error, not a panic, all the same.
        Err(e) => {
            ereport!(ERROR, PgSqlErrorCode::ERRCODE_INTERNAL_ERROR, e.to_string());
        }
    }
}

/// `c_overpaid(emp, integer)`: the manual's composite-argument example. Is the employee's
/// salary above the limit? A NULL salary is "not overpaid", as in the manual.
///
/// The C version fetches the row with `PG_GETARG_HEAPTUPLEHEADER(0)` and the field with
/// `GetAttributeByName`; pgrx hands us a `PgHeapTuple` that already holds the row type's
/// descriptor (looked up, and released when the tuple is dropped). Both versions check the
/// column's existence and type first, so a changed row type is a clear error, never a misread.
#[pg_extern(immutable, parallel_safe, requires = ["emp"])]
pub fn c_overpaid(emp: pgrx::composite_type!("emp"), limit: i32) -> bool {
    match salary_of(&emp) {
        Some(salary) => salary > limit,
        // Alternatively, we might prefer to return NULL for a null salary.
        None => false,
    }
}
// ANCHOR_END: c_overpaid

// ANCHOR: check_salary
/// Returns the attribute number of the row's `salary` column, or raises a clear error unless the
/// row type has one of type `integer` (or a domain over `integer`).
///
/// `PgHeapTuple::get_by_name::<i32>("salary")` would find the column and check its type too,
/// but it returns `Ok(None)` for a NULL value before looking at the type: a `numeric` salary
/// that happens to be NULL would pass. Checking the column first makes the answer depend on the
/// row type alone, as in the C twin.
fn check_salary_column(emp: &PgHeapTuple<'_, AllocatedByRust>) -> std::num::NonZeroUsize {
    let Some((attno, att)) = emp.get_attribute_by_name("salary") else {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_UNDEFINED_COLUMN,
            format!(
                "column \"salary\" not found in data type {}",
                type_name(row_type(emp))
            )
        );
    };
    // SAFETY: getBaseType reads the syscache for a type OID taken from a live tuple descriptor;
    // it raises an ERROR (never returns garbage) if the type vanished.
    if unsafe { pg_sys::getBaseType(att.atttypid) } != pg_sys::INT4OID {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
            format!(
                "column \"salary\" of data type {} has type {}, not integer",
                type_name(row_type(emp)),
                type_name(att.atttypid)
            )
        );
    }
    attno
}
// ANCHOR_END: check_salary

// ANCHOR: overpaid_by
/// `overpaid_by(emp, integer)`: the chapter's exercise. By how much is the salary above the
/// limit? `salary - limit`, negative below it, NULL for a NULL salary.
///
/// The row access is `c_overpaid`'s helper, `salary_of`. The arithmetic is new, since the
/// manual's comparison did not need it: the C version subtracts with `pg_sub_s32_overflow`;
/// `checked_sub` is its Rust twin.
#[pg_extern(immutable, parallel_safe, requires = ["emp"])]
pub fn overpaid_by(emp: pgrx::composite_type!("emp"), limit: i32) -> Option<i32> {
    let salary = salary_of(&emp)?;
    match salary.checked_sub(limit) {
        Some(difference) => Some(difference),
        None => {
            ereport!(
                ERROR,
                PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                "integer out of range"
            );
        }
    }
}
// ANCHOR_END: overpaid_by

/// The OID of the row's type (`emp`, or whatever the row type of an altered table now is).
fn row_type(emp: &PgHeapTuple<'_, AllocatedByRust>) -> pg_sys::Oid {
    emp.composite_type_oid().unwrap_or(pg_sys::RECORDOID)
}

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;

    fn fill_emp() {
        Spi::run(
            "INSERT INTO emp VALUES ('Bill', 1000, 30, '(1,1)'), ('Sam', 2000, 40, '(1,2)'), \
             ('Ginger', NULL, 25, '(2,1)')",
        )
        .expect("filling emp");
    }

    fn overpaid(name: &str) -> Option<bool> {
        Spi::get_one_with_args::<bool>(
            "SELECT c_overpaid(emp, 1500) FROM emp WHERE name = $1",
            &[name.into()],
        )
        .expect("calling c_overpaid")
    }

    #[pg_test]
    fn c_overpaid_compares_salary_with_limit() {
        fill_emp();
        assert_eq!(overpaid("Bill"), Some(false));
        assert_eq!(overpaid("Sam"), Some(true));
        // Equal is not above.
        assert_eq!(
            Spi::get_one::<bool>("SELECT c_overpaid(ROW('x', 1500, 1, NULL)::emp, 1500)"),
            Ok(Some(false))
        );
    }

    #[pg_test]
    fn c_overpaid_null_salary_is_false_null_row_is_null() {
        fill_emp();
        assert_eq!(overpaid("Ginger"), Some(false));
        assert_eq!(
            Spi::get_one::<bool>("SELECT c_overpaid(NULL::emp, 1500)"),
            Ok(None)
        );
    }

    #[pg_test]
    fn c_overpaid_changed_row_type_is_a_clear_error() {
        fill_emp();
        let query = "SELECT c_overpaid(emp, 1500) FROM emp WHERE name = 'Ginger'";
        Spi::run("ALTER TABLE emp ALTER COLUMN salary TYPE numeric").expect("altering emp");
        // Even for a NULL salary: the type is wrong whatever the value.
        assert_eq!(crate::testing::sqlstate_of(query), Some("42804".into()));
        Spi::run("ALTER TABLE emp DROP COLUMN salary").expect("altering emp");
        assert_eq!(crate::testing::sqlstate_of(query), Some("42703".into()));
    }

    #[pg_test]
    fn overpaid_by_subtracts_with_overflow_check() {
        fill_emp();
        let by = |name: &str| {
            Spi::get_one_with_args::<i32>(
                "SELECT overpaid_by(emp, 1500) FROM emp WHERE name = $1",
                &[name.into()],
            )
        };
        assert_eq!(by("Bill"), Ok(Some(-500)));
        assert_eq!(by("Sam"), Ok(Some(500)));
        assert_eq!(by("Ginger"), Ok(None));
        assert_eq!(
            crate::testing::sqlstate_of(
                "SELECT overpaid_by(ROW('x', -2147483648, 1, NULL)::emp, 1)"
            ),
            Some("22003".into())
        );
        Spi::run("ALTER TABLE emp ALTER COLUMN salary TYPE bigint").expect("altering emp");
        assert_eq!(
            crate::testing::sqlstate_of("SELECT overpaid_by(emp, 1) FROM emp"),
            Some("42804".into())
        );
    }
}
