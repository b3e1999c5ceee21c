// ANCHOR: my_add_one
/// `my_add_one(integer)`: its argument plus one; past the largest integer, the error the
/// built-in `+` raises (22003).
#[pg_extern(immutable, parallel_safe)]
pub fn my_add_one(arg: i32) -> i32 {
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
// ANCHOR_END: my_add_one
