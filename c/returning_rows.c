/*
 * returning_rows.c
 *		Returning rows (composite types): one row built from Datums, one from C strings.
 *
 * The C twin of src/returning_rows.rs. Same SQL contract: see c/returning_rows.sql and the
 * regression test sql/returning_rows.sql, which both builds must pass with the same expected
 * output.
 *
 * Either way, the function first asks get_call_result_type for the tuple descriptor of the row
 * it must return: the declared composite type (divmod_result), or, for RETURNS record, the
 * column definition list the caller wrote in FROM.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "xfunc_c.h"

/* ANCHOR: check_result_row */
/*
 * Raise ERROR 42804 (datatype_mismatch) unless tupdesc, the descriptor of the row the current
 * call must return, is exactly the row we build: ntypes attributes, none dropped, each of exactly
 * the given type (not a domain over it: heap_form_tuple would not check a domain's constraints).
 *
 * A named composite type is a type like any other: ALTER TYPE ... ADD, DROP or ALTER ATTRIBUTE
 * ... TYPE change it after CREATE FUNCTION, and the next call's get_call_result_type returns the
 * new shape. heap_form_tuple trusts the descriptor blindly: with one attribute more it reads past
 * the end of our values[], with a text attribute it takes our int4 for a pointer. The message
 * names the SQL function (one symbol may serve several, as retcomposite and retcomposite_out do)
 * and the row it builds; the detail says what differs.
 */
void
check_result_row(FunctionCallInfo fcinfo, TupleDesc tupdesc, int ntypes, const Oid *types)
{
	int			n = Max(tupdesc->natts, ntypes);
	char	   *detail = NULL;
	StringInfoData row;
	char	   *fname;

	for (int i = 0; detail == NULL && i < n; i++)
	{
		Form_pg_attribute att = i < tupdesc->natts ? TupleDescAttr(tupdesc, i) : NULL;

		if (att != NULL && att->attisdropped)
			detail = psprintf("Attribute %d has been dropped.", i + 1);
		else if (att != NULL && i < ntypes && att->atttypid != types[i])
			detail = psprintf("Attribute %d has type %s, not %s.", i + 1,
							  format_type_be(att->atttypid), format_type_be(types[i]));
		else if (att == NULL || i >= ntypes)
			detail = psprintf("It has %d attributes, not %d.", tupdesc->natts, ntypes);
	}
	if (detail == NULL)
		return;

	initStringInfo(&row);
	for (int i = 0; i < ntypes; i++)
		appendStringInfo(&row, "%s%s", i > 0 ? ", " : "", format_type_be(types[i]));
	fname = get_func_name(fcinfo->flinfo->fn_oid);
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("result type %s of function %s is not (%s)",
					format_type_be(tupdesc->tdtypeid), fname ? fname : "???", row.data),
			 errdetail_internal("%s", detail)));
}

/*
 * The descriptor of the row the current call must return, checked by check_result_row against
 * types[] (and not yet blessed); the manual's error when the caller gave none.
 */
TupleDesc
checked_result_tupdesc(FunctionCallInfo fcinfo, int ntypes, const Oid *types)
{
	TupleDesc	tupdesc;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("function returning record called in context "
						"that cannot accept type record")));
	check_result_row(fcinfo, tupdesc, ntypes, types);
	return tupdesc;
}
/* ANCHOR_END: check_result_row */

/* ANCHOR: divmod */
/*
 * The descriptor of the divmod_result row this call returns: asked for, checked
 * (check_result_row, above) and blessed, before any arithmetic can fail.
 */
static TupleDesc
divmod_tupdesc(FunctionCallInfo fcinfo)
{
	static const Oid types[] = {INT4OID, INT4OID};

	return BlessTupleDesc(checked_result_tupdesc(fcinfo, lengthof(types), types));
}

/*
 * Truncating division, (dividend / divisor, dividend % divisor), with the checks of the built-in
 * int4div: dividing by zero is an error, and so is PG_INT32_MIN / -1, whose quotient does not
 * fit (in C it would not even wrap: the CPU traps).
 */
static void
checked_divmod(int32 dividend, int32 divisor, int32 *quotient, int32 *remainder)
{
	if (divisor == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DIVISION_BY_ZERO),
				 errmsg("division by zero")));
	if (divisor == -1)
	{
		if (unlikely(dividend == PG_INT32_MIN))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("integer out of range")));
		*quotient = -dividend;
		*remainder = 0;
	}
	else
	{
		*quotient = dividend / divisor;
		*remainder = dividend % divisor;
	}
}

/*
 * The row (quotient, remainder), formed from two Datums by heap_form_tuple, as the composite
 * Datum to return. tupdesc must come from divmod_tupdesc.
 */
static Datum
divmod_row(TupleDesc tupdesc, int32 quotient, int32 remainder)
{
	Datum		values[2];
	bool		nulls[2] = {false, false};
	HeapTuple	tuple;

	values[0] = Int32GetDatum(quotient);
	values[1] = Int32GetDatum(remainder);
	tuple = heap_form_tuple(tupdesc, values, nulls);
	return HeapTupleGetDatum(tuple);
}

/*
 * divmod(dividend integer, divisor integer) RETURNS divmod_result
 *
 * Truncating division, like SQL's / and %, returned as one row (quotient, remainder) built from
 * Datums with heap_form_tuple.
 */
PG_FUNCTION_INFO_V1(divmod);

Datum
divmod(PG_FUNCTION_ARGS)
{
	int32		dividend = PG_GETARG_INT32(0);
	int32		divisor = PG_GETARG_INT32(1);
	TupleDesc	tupdesc = divmod_tupdesc(fcinfo);
	int32		quotient;
	int32		remainder;

	checked_divmod(dividend, divisor, &quotient, &remainder);
	PG_RETURN_DATUM(divmod_row(tupdesc, quotient, remainder));
}
/* ANCHOR_END: divmod */

/* ANCHOR: floor_divmod */
/*
 * floor_divmod(dividend integer, divisor integer) RETURNS divmod_result
 *
 * The chapter's exercise: division rounded toward minus infinity, as Python's divmod does, so
 * the remainder takes the divisor's sign. Same row type and same errors as divmod, whose
 * helpers it shares.
 */
PG_FUNCTION_INFO_V1(floor_divmod);

Datum
floor_divmod(PG_FUNCTION_ARGS)
{
	int32		dividend = PG_GETARG_INT32(0);
	int32		divisor = PG_GETARG_INT32(1);
	TupleDesc	tupdesc = divmod_tupdesc(fcinfo);
	int32		quotient;
	int32		remainder;

	checked_divmod(dividend, divisor, &quotient, &remainder);

	/*
	 * C truncates toward zero; step down when the remainder and the divisor have opposite signs.
	 * This cannot overflow: with a nonzero remainder the quotient was rounded toward zero from a
	 * value that is not an integer, so it is above PG_INT32_MIN, and the sum of two numbers of
	 * opposite signs lies between them.
	 */
	if (remainder != 0 && (remainder < 0) != (divisor < 0))
	{
		quotient -= 1;
		remainder += divisor;
	}

	PG_RETURN_DATUM(divmod_row(tupdesc, quotient, remainder));
}
/* ANCHOR_END: floor_divmod */

/* ANCHOR: split_pair */
/*
 * split_pair(pair text) RETURNS record
 *
 * Splits "key=value" at the first '=' into a row of two columns whose types the caller chooses
 * with a column definition list: each part is a C string, converted by the input function of its
 * column's type (BuildTupleFromCStrings). With no '=', the value column is NULL.
 */
PG_FUNCTION_INFO_V1(split_pair);

Datum
split_pair(PG_FUNCTION_ARGS)
{
	char	   *pair = text_to_cstring(PG_GETARG_TEXT_PP(0));
	TupleDesc	tupdesc;
	AttInMetadata *attinmeta;
	char	   *values[2];
	char	   *sep;
	HeapTuple	tuple;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("function returning record called in context "
						"that cannot accept type record")));
	if (tupdesc->natts != 2)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("split_pair returns 2 columns, "
						"but the column definition list has %d",
						tupdesc->natts)));
	/* Blesses the descriptor and looks up each column's input function. */
	attinmeta = TupleDescGetAttInMetadata(tupdesc);

	/* pair is our own copy (text_to_cstring), so we may cut it in two. */
	sep = strchr(pair, '=');
	values[0] = pair;
	values[1] = NULL;			/* a NULL pointer makes a NULL field */
	if (sep != NULL)
	{
		*sep = '\0';
		values[1] = sep + 1;
	}

	tuple = BuildTupleFromCStrings(attinmeta, values);
	PG_RETURN_DATUM(HeapTupleGetDatum(tuple));
}
/* ANCHOR_END: split_pair */
