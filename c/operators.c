/*
 * operators.c
 *		User-defined operators: the tutorial's complex_add (the operator +) and the comparison
 *		by absolute value behind <, <=, =, >= and > (complex_abs_lt ... complex_abs_gt).
 *
 * The C twin of src/operators.rs. Same SQL contract: see c/operators.sql, where the operators
 * and their optimization clauses are declared, and the regression test sql/operators.sql,
 * which both builds must pass with the same output.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/float.h"

#include "xfunc_c.h"

/* ANCHOR: complex_add */
/*
 * complex_add(complex, complex) RETURNS complex
 *
 * Upstream adds with C's +, where two large finite parts make an infinite one; float8_pl, the
 * function of the built-in float8 + float8, raises "value out of range: overflow" (22003).
 */
PG_FUNCTION_INFO_V1(complex_add);

Datum
complex_add(PG_FUNCTION_ARGS)
{
	Complex    *a = PG_GETARG_COMPLEX_P(0);
	Complex    *b = PG_GETARG_COMPLEX_P(1);
	Complex    *result;

	result = (Complex *) palloc(sizeof(Complex));
	result->x = float8_pl(a->x, b->x);
	result->y = float8_pl(a->y, b->y);
	PG_RETURN_COMPLEX_P(result);
}
/* ANCHOR_END: complex_add */

/* ANCHOR: abs_cmp_internal */
/*
 * The three-way comparison behind every comparison operator of complex and behind the B-tree
 * support function complex_abs_cmp (index_support.c): by absolute value, that is by its
 * square. Writing the operators as wrappers of one function keeps them consistent with each
 * other and with the index, as the manual advises.
 *
 * Upstream returns 0 whenever neither < nor > holds, which makes a NaN equal to every value;
 * float8_cmp_internal orders NaN above every other value and equal to itself, as float8's own
 * B-tree operator class does.
 */
#define Mag(c)	((c)->x*(c)->x + (c)->y*(c)->y)

int
complex_abs_cmp_internal(const Complex *a, const Complex *b)
{
	double		amag = Mag(a),
				bmag = Mag(b);

	return float8_cmp_internal(amag, bmag);
}
/* ANCHOR_END: abs_cmp_internal */

/* ANCHOR: complex_abs_lt */
PG_FUNCTION_INFO_V1(complex_abs_lt);

Datum
complex_abs_lt(PG_FUNCTION_ARGS)
{
	Complex    *a = PG_GETARG_COMPLEX_P(0);
	Complex    *b = PG_GETARG_COMPLEX_P(1);

	PG_RETURN_BOOL(complex_abs_cmp_internal(a, b) < 0);
}
/* ANCHOR_END: complex_abs_lt */

/* ANCHOR: complex_abs_others */
PG_FUNCTION_INFO_V1(complex_abs_le);

Datum
complex_abs_le(PG_FUNCTION_ARGS)
{
	Complex    *a = PG_GETARG_COMPLEX_P(0);
	Complex    *b = PG_GETARG_COMPLEX_P(1);

	PG_RETURN_BOOL(complex_abs_cmp_internal(a, b) <= 0);
}

PG_FUNCTION_INFO_V1(complex_abs_eq);

Datum
complex_abs_eq(PG_FUNCTION_ARGS)
{
	Complex    *a = PG_GETARG_COMPLEX_P(0);
	Complex    *b = PG_GETARG_COMPLEX_P(1);

	PG_RETURN_BOOL(complex_abs_cmp_internal(a, b) == 0);
}

PG_FUNCTION_INFO_V1(complex_abs_ge);

Datum
complex_abs_ge(PG_FUNCTION_ARGS)
{
	Complex    *a = PG_GETARG_COMPLEX_P(0);
	Complex    *b = PG_GETARG_COMPLEX_P(1);

	PG_RETURN_BOOL(complex_abs_cmp_internal(a, b) >= 0);
}

PG_FUNCTION_INFO_V1(complex_abs_gt);

Datum
complex_abs_gt(PG_FUNCTION_ARGS)
{
	Complex    *a = PG_GETARG_COMPLEX_P(0);
	Complex    *b = PG_GETARG_COMPLEX_P(1);

	PG_RETURN_BOOL(complex_abs_cmp_internal(a, b) > 0);
}
/* ANCHOR_END: complex_abs_others */
