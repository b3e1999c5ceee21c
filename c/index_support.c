/*
 * index_support.c
 *		Interfacing extensions to indexes: complex_abs_cmp, support function 1 of the B-tree
 *		operator class complex_abs_ops (c/index_support.sql).
 *
 * The C twin of src/index_support.rs. Same SQL contract: see c/index_support.sql and the
 * regression test sql/index_support.sql, which both builds must pass with the same output.
 */
#include "postgres.h"

#include "fmgr.h"

#include "xfunc_c.h"

/* ANCHOR: complex_abs_cmp */
/*
 * complex_abs_cmp(complex, complex) RETURNS integer
 *
 * Below, at or above zero as a is below, equal to or above b: the comparison the operators
 * of operators.c wrap, so that the index and the operators agree on every pair of values.
 */
PG_FUNCTION_INFO_V1(complex_abs_cmp);

Datum
complex_abs_cmp(PG_FUNCTION_ARGS)
{
	Complex    *a = PG_GETARG_COMPLEX_P(0);
	Complex    *b = PG_GETARG_COMPLEX_P(1);

	PG_RETURN_INT32(complex_abs_cmp_internal(a, b));
}
/* ANCHOR_END: complex_abs_cmp */
