/* ANCHOR: include */
#include "common/int.h"
/* ANCHOR_END: include */

/* ANCHOR: my_add_one */
/*
 * my_add_one(integer) RETURNS integer: its argument plus one; past the largest integer, the
 * error the built-in + raises (22003).
 */
PG_FUNCTION_INFO_V1(my_add_one);

Datum
my_add_one(PG_FUNCTION_ARGS)
{
	int32		arg = PG_GETARG_INT32(0);
	int32		result;

	if (unlikely(pg_add_s32_overflow(arg, 1, &result)))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("integer out of range")));

	PG_RETURN_INT32(result);
}
/* ANCHOR_END: my_add_one */
