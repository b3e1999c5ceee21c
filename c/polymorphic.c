/*
 * polymorphic.c
 *		Polymorphic arguments and return types: the manual's make_array.
 *
 * The C twin of src/polymorphic.rs. Same SQL contract: see c/polymorphic.sql and the
 * regression test sql/polymorphic.sql, which both builds must pass with the same output.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/array.h"
#include "utils/lsyscache.h"

/* ANCHOR: make_array */
/*
 * make_array(anyelement) RETURNS anyarray
 *
 * A one-element array of whatever it is given. The element's type is known only at run time:
 * get_fn_expr_argtype reads it from the call's expression tree, and get_typlenbyvalalign gives
 * what construct_md_array needs to copy a value of that type. Not STRICT: a NULL argument gives
 * an array holding one NULL. The manual raised the "could not determine" error with elog
 * (SQLSTATE XX000, internal error); we give it a SQLSTATE of its own.
 */
PG_FUNCTION_INFO_V1(make_array);

Datum
make_array(PG_FUNCTION_ARGS)
{
	ArrayType  *result;
	Oid			element_type = get_fn_expr_argtype(fcinfo->flinfo, 0);
	Datum		element;
	bool		isnull;
	int16		typlen;
	bool		typbyval;
	char		typalign;
	int			dims[1] = {1};	/* one dimension of one element */
	int			lbs[1] = {1};	/* whose lower bound is 1 */

	if (!OidIsValid(element_type))
		ereport(ERROR,
				(errcode(ERRCODE_INDETERMINATE_DATATYPE),
				 errmsg("could not determine data type of input")));

	/* get the provided element, being careful in case it's NULL */
	isnull = PG_ARGISNULL(0);
	if (isnull)
		element = (Datum) 0;
	else
		element = PG_GETARG_DATUM(0);

	get_typlenbyvalalign(element_type, &typlen, &typbyval, &typalign);

	/* construct_md_array detoasts and copies the element: the input is never modified */
	result = construct_md_array(&element, &isnull, 1, dims, lbs,
								element_type, typlen, typbyval, typalign);

	PG_RETURN_ARRAYTYPE_P(result);
}
/* ANCHOR_END: make_array */

/* ANCHOR: make_pair */
/*
 * make_pair(first anyelement, second anyelement) RETURNS anyarray
 *
 * Exercise of chapter 11: a two-element array; either element may be NULL. The parser has
 * resolved both anyelement arguments to one type and coerced both to it, so argument 0's type
 * is the element type. The rest is make_array with arrays of two.
 */
PG_FUNCTION_INFO_V1(make_pair);

Datum
make_pair(PG_FUNCTION_ARGS)
{
	ArrayType  *result;
	Oid			element_type = get_fn_expr_argtype(fcinfo->flinfo, 0);
	Datum		elements[2];
	bool		nulls[2];
	int16		typlen;
	bool		typbyval;
	char		typalign;
	int			dims[1] = {2};	/* one dimension of two elements */
	int			lbs[1] = {1};

	if (!OidIsValid(element_type))
		ereport(ERROR,
				(errcode(ERRCODE_INDETERMINATE_DATATYPE),
				 errmsg("could not determine data type of input")));

	for (int i = 0; i < 2; i++)
	{
		nulls[i] = PG_ARGISNULL(i);
		elements[i] = nulls[i] ? (Datum) 0 : PG_GETARG_DATUM(i);
	}

	get_typlenbyvalalign(element_type, &typlen, &typbyval, &typalign);

	result = construct_md_array(elements, nulls, 1, dims, lbs,
								element_type, typlen, typbyval, typalign);

	PG_RETURN_ARRAYTYPE_P(result);
}
/* ANCHOR_END: make_pair */
