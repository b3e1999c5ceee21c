/*
 * base_types.c
 *		Base types in C-language functions: the manual's add_one examples.
 *
 * The C twin of src/base_types.rs. Same SQL contract: see c/base_types.sql and the regression
 * test sql/base_types.sql, which both builds must pass with the same expected output.
 */
#include "postgres.h"

#include "common/int.h"
#include "fmgr.h"

/* ANCHOR: add_one_int4 */
/*
 * add_one(integer) RETURNS integer
 *
 * An int4 passed by value. The manual's version returned arg + 1, which wraps around at 2^31;
 * like the built-in int4pl we check the addition and raise SQLSTATE 22003 on overflow.
 */
PG_FUNCTION_INFO_V1(add_one);

Datum
add_one(PG_FUNCTION_ARGS)
{
	int32		arg = PG_GETARG_INT32(0);
	int32		result;

	if (unlikely(pg_add_s32_overflow(arg, 1, &result)))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("integer out of range")));

	PG_RETURN_INT32(result);
}
/* ANCHOR_END: add_one_int4 */
