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
 * The type of the call's first argument, read from its expression tree by get_fn_expr_argtype,
 * or an error for a call that has none (through OidFunctionCall1, say): there is then no type
 * to use. The manual raised it with elog (SQLSTATE XX000, internal error); we give it a
 * SQLSTATE of its own.
 */
static Oid
element_type_of(FunctionCallInfo fcinfo)
{
	Oid			element_type = get_fn_expr_argtype(fcinfo->flinfo, 0);

	if (!OidIsValid(element_type))
		ereport(ERROR,
				(errcode(ERRCODE_INDETERMINATE_DATATYPE),
				 errmsg("could not determine data type of input")));
	return element_type;
}

/*
 * A one-dimensional array of element_type holding the n elements (nulls[i] makes elements[i]
 * NULL). get_typlenbyvalalign gives what construct_md_array needs to copy a value of that type;
 * construct_md_array detoasts and copies the elements: the inputs are never modified.
 */
static ArrayType *
array_of(Oid element_type, Datum *elements, bool *nulls, int n)
{
	int16		typlen;
	bool		typbyval;
	char		typalign;
	int			dims[1] = {n};	/* one dimension of n elements */
	int			lbs[1] = {1};	/* whose lower bound is 1 */

	get_typlenbyvalalign(element_type, &typlen, &typbyval, &typalign);

	return construct_md_array(elements, nulls, 1, dims, lbs,
							  element_type, typlen, typbyval, typalign);
}

/*
 * make_array(anyelement) RETURNS anyarray
 *
 * A one-element array of whatever it is given. The element's type is known only at run time
 * (element_type_of), so the array is built with that type's storage properties (array_of). Not
 * STRICT: a NULL argument gives an array holding one NULL.
 */
PG_FUNCTION_INFO_V1(make_array);

Datum
make_array(PG_FUNCTION_ARGS)
{
	Oid			element_type = element_type_of(fcinfo);
	Datum		element;
	bool		isnull;

	/* get the provided element, being careful in case it's NULL */
	isnull = PG_ARGISNULL(0);
	if (isnull)
		element = (Datum) 0;
	else
		element = PG_GETARG_DATUM(0);

	PG_RETURN_ARRAYTYPE_P(array_of(element_type, &element, &isnull, 1));
}
/* ANCHOR_END: make_array */

/* ANCHOR: make_pair */
/*
 * make_pair(first anyelement, second anyelement) RETURNS anyarray
 *
 * Exercise of chapter 11: a two-element array; either element may be NULL. The parser has
 * resolved both anyelement arguments to one type and coerced both to it, so argument 0's type
 * is the element type. The rest is make_array with arrays of two, through the same helpers,
 * element_type_of and array_of.
 */
PG_FUNCTION_INFO_V1(make_pair);

Datum
make_pair(PG_FUNCTION_ARGS)
{
	Oid			element_type = element_type_of(fcinfo);
	Datum		elements[2];
	bool		nulls[2];

	for (int i = 0; i < 2; i++)
	{
		nulls[i] = PG_ARGISNULL(i);
		elements[i] = nulls[i] ? (Datum) 0 : PG_GETARG_DATUM(i);
	}

	PG_RETURN_ARRAYTYPE_P(array_of(element_type, elements, nulls, 2));
}
/* ANCHOR_END: make_pair */
