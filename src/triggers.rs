//! Trigger functions (chapter 21): the manual's `trigf`, and `row_version`, a BEFORE trigger
//! that changes the row it is given.
//!
//! A trigger function is an ordinary version-1 function declared `RETURNS trigger`. The
//! trigger manager calls it with no arguments and `fcinfo->context` pointing to a
//! `TriggerData` node: what fired it, the table, the row (the new row too, for an UPDATE) and
//! the trigger's definition, with the arguments of `CREATE TRIGGER`. It returns the row to
//! store, or NULL to skip it.
//!
//! `#[pg_trigger]` writes the wrapper: it checks that the call comes from the trigger manager
//! (`PgTrigger::from_fcinfo`, `called_as_trigger`) before our function runs, hands it a
//! `PgTrigger` whose methods read `TriggerData` (`event()`, `old()`, `new()`, `extra_args()`,
//! `relation()`), and turns the `Option<PgHeapTuple>` we return into the Datum the trigger
//! manager expects, a tuple pointer or a NULL pointer (pgrx-sql-entity-graph,
//! `pg_trigger/mod.rs`). The C twin does each of these by hand.

use pgrx::prelude::*;
use pgrx::WhoAllocated;
use std::num::NonZeroUsize;

/// The errors our trigger functions return: pgrx raises each as an `ERROR` (XX000, with the
/// error's text) when the function returns it. Every error a user can cause is raised with
/// `ereport!` instead, so that it carries the SQLSTATE and message the C twin gives.
#[derive(Debug)]
pub enum TriggerError {
    Trigger(PgTriggerError),
    Spi(pgrx::spi::SpiError),
    Datum(pgrx::datum::TryFromDatumError),
}

impl std::fmt::Display for TriggerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Trigger(e) => e.fmt(f),
            Self::Spi(e) => e.fmt(f),
            Self::Datum(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for TriggerError {}

impl From<PgTriggerError> for TriggerError {
    fn from(e: PgTriggerError) -> Self {
        Self::Trigger(e)
    }
}

impl From<pgrx::spi::SpiError> for TriggerError {
    fn from(e: pgrx::spi::SpiError) -> Self {
        Self::Spi(e)
    }
}

impl From<pgrx::datum::TryFromDatumError> for TriggerError {
    fn from(e: pgrx::datum::TryFromDatumError) -> Self {
        Self::Datum(e)
    }
}

// ANCHOR: trigf
/// `trigf() RETURNS trigger`: the manual's example ("A Complete Trigger Example"). Reports, at
/// INFO, how many rows the table has when the trigger fires, and in a BEFORE ROW trigger for
/// INSERT or UPDATE skips the row when its first column is NULL.
///
/// Unlike the manual, it counts the rows of the table it fires on, not of a table named ttest,
/// and it checks for NULLs only when there is a row: fired FOR EACH STATEMENT there is none,
/// and `trigger.new()` says so with `None` where the manual's C reads a NULL pointer.
#[pg_trigger]
fn trigf<'a>(
    trigger: &'a PgTrigger<'a>,
) -> Result<Option<PgHeapTuple<'a, impl WhoAllocated>>, TriggerError> {
    let event = trigger.event();
    // The tuple to return to the executor: the new row of an INSERT or UPDATE, the old row of
    // a DELETE, none at statement level.
    let rettuple = if event.fired_by_delete() {
        trigger.old()
    } else {
        trigger.new()
    };
    let checknull = !event.fired_by_delete() && event.fired_before() && event.fired_for_row();
    let when = if event.fired_before() {
        "before"
    } else if event.fired_after() {
        "after"
    } else {
        "instead of"
    };

    let relation = trigger.relation()?;
    let query = format!(
        "SELECT count(*) FROM {}",
        spi::quote_qualified_identifier(relation.namespace(), relation.name())
    );
    // Spi connects and disconnects around the query, as SPI_connect and SPI_finish do.
    let rows = Spi::get_one::<i64>(&query)?.unwrap_or(0);
    info!(
        "trigf (fired {when}): there are {rows} rows in {}",
        relation.name()
    );

    if checknull && first_column_is_null(trigger) {
        return Ok(None);
    }
    Ok(rettuple)
}
// ANCHOR_END: trigf

/// Whether the first column of the row a BEFORE ROW trigger for INSERT or UPDATE would store
/// is NULL, whatever its type. pgrx's `get_by_index` needs a Rust type to convert the value
/// to; this needs none, so it asks `SPI_getbinval`, as the C twin does, which also says NULL
/// for a table without columns.
fn first_column_is_null(trigger: &PgTrigger<'_>) -> bool {
    let data = trigger.trigger_data();
    let tuple = if trigger.event().fired_by_update() {
        data.tg_newtuple
    } else {
        data.tg_trigtuple
    };
    let mut isnull = true;
    // SAFETY: the trigger manager's TriggerData, which #[pg_trigger] checked is one; for a
    // row-level INSERT or UPDATE the tuple is the row and rd_att its table's descriptor.
    // SPI_getbinval needs no SPI connection and checks the attribute number.
    unsafe { pg_sys::SPI_getbinval(tuple, (*data.tg_relation).rd_att, 1, &mut isnull) };
    isnull
}

// ANCHOR: row_version
/// `row_version() RETURNS trigger`, used as `CREATE TRIGGER ... BEFORE INSERT OR UPDATE ON t
/// FOR EACH ROW EXECUTE FUNCTION row_version('column')`. Keeps an integer column counting the
/// updates of each row: 0 when the row is inserted, the old row's value plus one (1 when that
/// was NULL) whenever it is updated, whatever the INSERT or UPDATE said.
///
/// The row the executor stores is the one we return: `into_owned` copies the new row, and
/// `set_by_index` replaces the column in the copy (the C twin: `heap_modify_tuple_by_cols`).
#[pg_trigger]
fn row_version<'a>(
    trigger: &'a PgTrigger<'a>,
) -> Result<Option<PgHeapTuple<'a, impl WhoAllocated>>, TriggerError> {
    let event = trigger.event();
    let protocol = |msg: &str| -> ! {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED,
            format!("row_version: {msg}")
        );
    };
    if !event.fired_for_row() {
        protocol("must be fired for row");
    }
    if !event.fired_before() {
        protocol("must be fired before event");
    }
    if !event.fired_by_insert() && !event.fired_by_update() {
        protocol("must be fired for INSERT or UPDATE");
    }

    let relation = trigger.relation()?;
    let relname = relation.name();
    let action = |msg: String| -> ! {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_TRIGGERED_ACTION_EXCEPTION,
            msg
        );
    };
    let args = trigger.extra_args()?;
    let [column] = args.as_slice() else {
        action(format!(
            "row_version ({relname}): one argument was expected"
        ));
    };
    let tupdesc = relation.tuple_desc();
    let Some((index, attribute)) = tupdesc
        .iter()
        .enumerate()
        .find(|(_, a)| !a.is_dropped() && a.name() == column)
    else {
        action(format!("\"{relname}\" has no attribute \"{column}\""));
    };
    if attribute.type_oid().value() != pg_sys::INT4OID {
        action(format!(
            "attribute \"{column}\" of \"{relname}\" must be type integer"
        ));
    }
    let attnum = NonZeroUsize::MIN.saturating_add(index);

    let version = match trigger.old() {
        // INSERT: there is no old row.
        None => 0,
        Some(old) => match old.get_by_index::<i32>(attnum)? {
            None => 1,
            Some(v) => v.checked_add(1).unwrap_or_else(|| {
                ereport!(
                    ERROR,
                    PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                    "integer out of range"
                );
            }),
        },
    };
    // INSERT and UPDATE always have a new row.
    let Some(new) = trigger.new() else {
        protocol("must be fired for INSERT or UPDATE");
    };
    let mut new = new.into_owned();
    new.set_by_index(attnum, version)?;
    Ok(Some(new))
}
// ANCHOR_END: row_version

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;

    #[pg_test]
    fn trigf_skips_a_row_with_a_null_first_column() {
        Spi::run(
            "CREATE TABLE ttest (x integer); \
             CREATE TRIGGER tbefore BEFORE INSERT ON ttest FOR EACH ROW EXECUTE FUNCTION trigf(); \
             INSERT INTO ttest VALUES (NULL), (1), (NULL), (2)",
        )
        .unwrap();
        assert_eq!(
            Spi::get_one::<i64>("SELECT count(*) FROM ttest"),
            Ok(Some(2))
        );
    }

    #[pg_test]
    fn row_version_counts_updates_and_refuses_misuse() {
        Spi::run(
            "CREATE TABLE doc (id integer, v integer); \
             CREATE TRIGGER t BEFORE INSERT OR UPDATE ON doc \
                 FOR EACH ROW EXECUTE FUNCTION row_version('v'); \
             INSERT INTO doc VALUES (1, 42); UPDATE doc SET id = 2; UPDATE doc SET v = 7",
        )
        .unwrap();
        assert_eq!(Spi::get_one::<i32>("SELECT v FROM doc"), Ok(Some(2)));
        Spi::run(
            "CREATE TABLE other (id integer); \
             CREATE TRIGGER t AFTER UPDATE ON other \
                 FOR EACH ROW EXECUTE FUNCTION row_version('id'); \
             INSERT INTO other VALUES (1)",
        )
        .unwrap();
        assert_eq!(
            crate::testing::sqlstate_of("UPDATE other SET id = 2"),
            Some("39P01".into())
        );
        assert_eq!(
            crate::testing::sqlstate_of("SELECT trigf()"),
            Some("XX000".into())
        );
    }
}
