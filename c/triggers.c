/*
 * triggers.c
 *		Trigger functions in C: the manual's trigf, and row_version, a BEFORE trigger that
 *		changes the row it is given.
 *
 * The C twin of src/triggers.rs. Same SQL contract: see c/triggers.sql and the regression test
 * sql/triggers.sql, which both builds must pass with the same output.
 *
 * A trigger function is an ordinary version-1 function declared RETURNS trigger. The trigger
 * manager calls it with no arguments and fcinfo->context pointing to a TriggerData node: what
 * fired it (tg_event, read with the TRIGGER_FIRED_* macros), the table (tg_relation), the row
 * (tg_trigtuple; for an UPDATE also the new row, tg_newtuple) and the trigger's definition
 * (tg_trigger, with the arguments of CREATE TRIGGER in tgargs). It returns a HeapTuple pointer
 * as its Datum: for a BEFORE ROW trigger the row to store instead, or NULL to skip the row.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "common/int.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

/* ANCHOR: trigf */
/*
 * trigf() RETURNS trigger
 *
 * The manual's example ("A Complete Trigger Example"): reports, at INFO, how many rows the
 * table has when the trigger fires, and in a BEFORE ROW trigger for INSERT or UPDATE skips
 * the row when its first column is NULL. Unlike the manual, it counts the rows of the table
 * it fires on, not of a table named ttest, and it checks for NULLs only when there is a row:
 * fired FOR EACH STATEMENT (or on TRUNCATE) there is none, tg_trigtuple is NULL, and the
 * manual's SPI_getbinval(NULL, ...) would read through a NULL pointer.
 */
PG_FUNCTION_INFO_V1(trigf);

Datum
trigf(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	tupdesc;
	HeapTuple	rettuple;
	const char *when;
	char	   *query;
	bool		checknull = false;
	bool		isnull;
	int			ret;
	int64		rows;

	/* make sure it's called as a trigger at all */
	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "trigf: not called by trigger manager");

	/* tuple to return to executor */
	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		rettuple = trigdata->tg_newtuple;
	else
		rettuple = trigdata->tg_trigtuple;

	/* check for null values: only a BEFORE ROW trigger can skip its row */
	if (!TRIGGER_FIRED_BY_DELETE(trigdata->tg_event)
		&& TRIGGER_FIRED_BEFORE(trigdata->tg_event)
		&& TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		checknull = true;

	if (TRIGGER_FIRED_BEFORE(trigdata->tg_event))
		when = "before";
	else if (TRIGGER_FIRED_AFTER(trigdata->tg_event))
		when = "after";
	else
		when = "instead of";

	tupdesc = trigdata->tg_relation->rd_att;

	/* connect to SPI manager */
	if ((ret = SPI_connect()) < 0)
		elog(ERROR, "trigf (fired %s): SPI_connect returned %d", when, ret);

	/* get number of rows in the table */
	query = psprintf("SELECT count(*) FROM %s",
					 quote_qualified_identifier(get_namespace_name(RelationGetNamespace(trigdata->tg_relation)),
												RelationGetRelationName(trigdata->tg_relation)));
	ret = SPI_exec(query, 0);

	if (ret < 0)
		elog(ERROR, "trigf (fired %s): SPI_exec returned %d", when, ret);

	/* count(*) returns int8, so be careful to convert */
	rows = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
									   SPI_tuptable->tupdesc,
									   1,
									   &isnull));

	elog(INFO, "trigf (fired %s): there are " INT64_FORMAT " rows in %s",
		 when, rows, RelationGetRelationName(trigdata->tg_relation));

	SPI_finish();

	if (checknull)
	{
		SPI_getbinval(rettuple, tupdesc, 1, &isnull);
		if (isnull)
			rettuple = NULL;
	}

	return PointerGetDatum(rettuple);
}
/* ANCHOR_END: trigf */

/* ANCHOR: row_version */
/*
 * row_version() RETURNS trigger, used as
 *		CREATE TRIGGER ... BEFORE INSERT OR UPDATE ON t FOR EACH ROW
 *			EXECUTE FUNCTION row_version('column')
 *
 * Keeps an integer column counting the updates of each row: 0 when the row is inserted,
 * the old row's value plus one (1 when that was NULL) whenever it is updated, whatever the
 * INSERT or UPDATE said. The row the executor stores is the one we return, a copy of the new
 * row with the column replaced (heap_modify_tuple_by_cols).
 *
 * The checks follow contrib/spi's insert_username: a trigger fired for the wrong event is an
 * error in the trigger's definition (SQLSTATE 39P01, trigger protocol violated); a wrong
 * argument is a triggered action exception (09000); the counter's overflow is 22003.
 */
PG_FUNCTION_INFO_V1(row_version);

Datum
row_version(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Relation	rel;
	TupleDesc	tupdesc;
	char	   *relname;
	const char *column;
	int			attnum;
	Datum		newval;
	bool		newnull = false;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "row_version: not called by trigger manager");
	if (!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("row_version: must be fired for row")));
	if (!TRIGGER_FIRED_BEFORE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("row_version: must be fired before event")));
	if (!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) &&
		!TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("row_version: must be fired for INSERT or UPDATE")));

	rel = trigdata->tg_relation;
	relname = RelationGetRelationName(rel);
	tupdesc = RelationGetDescr(rel);

	if (trigdata->tg_trigger->tgnargs != 1)
		ereport(ERROR,
				(errcode(ERRCODE_TRIGGERED_ACTION_EXCEPTION),
				 errmsg("row_version (%s): one argument was expected", relname)));
	column = trigdata->tg_trigger->tgargs[0];

	/* SPI_fnumber needs no SPI connection; system columns are negative, dropped ones absent */
	attnum = SPI_fnumber(tupdesc, column);
	if (attnum <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_TRIGGERED_ACTION_EXCEPTION),
				 errmsg("\"%s\" has no attribute \"%s\"", relname, column)));
	if (TupleDescAttr(tupdesc, attnum - 1)->atttypid != INT4OID)
		ereport(ERROR,
				(errcode(ERRCODE_TRIGGERED_ACTION_EXCEPTION),
				 errmsg("attribute \"%s\" of \"%s\" must be type integer",
						column, relname)));

	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		newval = Int32GetDatum(0);
	else
	{
		bool		oldnull;
		Datum		old = heap_getattr(trigdata->tg_trigtuple, attnum, tupdesc, &oldnull);
		int32		version;

		if (oldnull)
			version = 1;
		else if (unlikely(pg_add_s32_overflow(DatumGetInt32(old), 1, &version)))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("integer out of range")));
		newval = Int32GetDatum(version);
	}

	/* the new row: tg_trigtuple for INSERT, tg_newtuple for UPDATE */
	return PointerGetDatum(heap_modify_tuple_by_cols(TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ?
													 trigdata->tg_newtuple :
													 trigdata->tg_trigtuple,
													 tupdesc, 1, &attnum, &newval, &newnull));
}
/* ANCHOR_END: row_version */
