/*
 * returning_sets.c
 *		Returning sets: the manual's retcomposite, a value-per-call set-returning function.
 *
 * The C twin of src/returning_sets.rs. Same SQL contract: see c/returning_sets.sql and the
 * regression test sql/returning_sets.sql, which both builds must pass with the same output.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/int.h"
#include "fmgr.h"
#include "funcapi.h"

#include "xfunc_c.h"

/* The rows we build: retcomposite's three integer columns, multiples' two. */
static const Oid int4x3[] = {INT4OID, INT4OID, INT4OID};
static const Oid int4x2[] = {INT4OID, INT4OID};

/* ANCHOR: retcomposite */
/* ANCHOR: result_tupdesc */
/*
 * The blessed descriptor of the rows this call returns, from its declaration (a named row type,
 * OUT parameters or RETURNS TABLE columns), checked against the ntypes columns we build before
 * the first row: retcomposite's row type is a named composite type that ALTER TYPE may change at
 * any moment (chapter 9, check_result_row). Called in multi_call_memory_ctx, so that the
 * descriptor lives as long as the FuncCallContext that keeps it.
 */
static TupleDesc
result_tupdesc(FunctionCallInfo fcinfo, int ntypes, const Oid *types)
{
	return BlessTupleDesc(checked_result_tupdesc(fcinfo, ntypes, types));
}
/* ANCHOR_END: result_tupdesc */

/*
 * retcomposite(count integer, base integer) RETURNS SETOF __retcomposite
 * retcomposite_out(count integer, base integer, OUT f1, OUT f2, OUT f3) RETURNS SETOF record
 *
 * count identical rows (base, 2 * base, 3 * base), one per call. The arguments are checked on
 * the first call, before any row is returned: a negative count is an error (the manual read it
 * with PG_GETARG_UINT32, so -1 meant four billion rows), and so is an overflowing product.
 * The manual formatted the values as strings for BuildTupleFromCStrings; we form the tuple from
 * Datums with heap_form_tuple, which skips the text round trip.
 */
PG_FUNCTION_INFO_V1(retcomposite);

Datum
retcomposite(PG_FUNCTION_ARGS)
{
	FuncCallContext *funcctx;

	if (SRF_IS_FIRSTCALL())
	{
		int32		count = PG_GETARG_INT32(0);
		int32		base = PG_GETARG_INT32(1);
		int32		twice;
		int32		thrice;
		MemoryContext oldcontext;
		Datum	   *row;

		if (count < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("count must not be negative")));
		if (unlikely(pg_mul_s32_overflow(base, 2, &twice) ||
					 pg_mul_s32_overflow(base, 3, &thrice)))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("integer out of range")));

		funcctx = SRF_FIRSTCALL_INIT();

		/* What must survive from call to call is allocated in multi_call_memory_ctx. */
		oldcontext = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);

		funcctx->max_calls = count;

		/* The row type comes from the declaration: __retcomposite or the OUT parameters. */
		funcctx->tuple_desc = result_tupdesc(fcinfo, lengthof(int4x3), int4x3);

		/* Every row is the same: compute it once. */
		row = (Datum *) palloc(3 * sizeof(Datum));
		row[0] = Int32GetDatum(base);
		row[1] = Int32GetDatum(twice);
		row[2] = Int32GetDatum(thrice);
		funcctx->user_fctx = row;

		MemoryContextSwitchTo(oldcontext);
	}

	/* Every call, the first included. */
	funcctx = SRF_PERCALL_SETUP();

	if (funcctx->call_cntr < funcctx->max_calls)
	{
		bool		nulls[3] = {false, false, false};
		HeapTuple	tuple;

		/* Allocated in the per-call context, which the executor resets between rows. */
		tuple = heap_form_tuple(funcctx->tuple_desc, (Datum *) funcctx->user_fctx, nulls);
		SRF_RETURN_NEXT(funcctx, HeapTupleGetDatum(tuple));
	}

	SRF_RETURN_DONE(funcctx);
}
/* ANCHOR_END: retcomposite */

/* ANCHOR: multiples */
/*
 * multiples(count integer, base integer) RETURNS TABLE(n integer, product integer)
 *
 * Exercise of chapter 10: the rows (n, n * base) for n = 1 .. count, one per call. Every row
 * is different, so nothing is kept but the tuple descriptor: call_cntr says where we are, and
 * the arguments, which the executor evaluates once for the whole set, are read again on every
 * call. |n * base| <= |count * base|, so checking the last product on the first call checks
 * them all.
 */
PG_FUNCTION_INFO_V1(multiples);

Datum
multiples(PG_FUNCTION_ARGS)
{
	FuncCallContext *funcctx;

	if (SRF_IS_FIRSTCALL())
	{
		int32		count = PG_GETARG_INT32(0);
		int32		last;
		MemoryContext oldcontext;

		if (count < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("count must not be negative")));
		if (unlikely(pg_mul_s32_overflow(count, PG_GETARG_INT32(1), &last)))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("integer out of range")));

		funcctx = SRF_FIRSTCALL_INIT();
		oldcontext = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
		funcctx->max_calls = count;
		funcctx->tuple_desc = result_tupdesc(fcinfo, lengthof(int4x2), int4x2);
		MemoryContextSwitchTo(oldcontext);
	}

	funcctx = SRF_PERCALL_SETUP();

	if (funcctx->call_cntr < funcctx->max_calls)
	{
		/* call_cntr < count <= PG_INT32_MAX, so n fits, and n * base was checked above */
		int32		n = (int32) funcctx->call_cntr + 1;
		Datum		values[2];
		bool		nulls[2] = {false, false};
		HeapTuple	tuple;

		values[0] = Int32GetDatum(n);
		values[1] = Int32GetDatum(n * PG_GETARG_INT32(1));
		tuple = heap_form_tuple(funcctx->tuple_desc, values, nulls);
		SRF_RETURN_NEXT(funcctx, HeapTupleGetDatum(tuple));
	}

	SRF_RETURN_DONE(funcctx);
}
/* ANCHOR_END: multiples */
