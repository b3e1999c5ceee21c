/*
 * user_types.c
 *		User-defined types: the tutorial's complex, its text input and output (complex_in,
 *		complex_out) and its binary input and output (complex_recv, complex_send).
 *
 * The C twin of src/user_types.rs. Same SQL contract: see c/user_types.sql and the regression
 * test sql/user_types.sql, which both builds must pass with the same output. The struct
 * Complex is in xfunc_c.h, for the operators (operators.c) and the index support
 * (index_support.c) to share.
 */
#include "postgres.h"

#include <ctype.h>

#include "fmgr.h"
#include "libpq/pqformat.h"
#include "utils/float.h"

#include "xfunc_c.h"

/* ANCHOR: complex_in */
static void complex_syntax_error(const char *str) pg_attribute_noreturn();

static void
complex_syntax_error(const char *str)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type %s: \"%s\"",
					"complex", str)));
}

/*
 * Skips blanks at p, then the character c; returns the position after it. Anything else
 * (the end of the string too) is a syntax error in str, the whole input.
 */
static char *
complex_expect(char *p, char c, const char *str)
{
	while (isspace((unsigned char) *p))
		p++;
	if (*p != c)
		complex_syntax_error(str);
	return p + 1;
}

/*
 * complex_in(cstring) RETURNS complex
 *
 * Upstream reads "(x,y)" with sscanf(str, " ( %lf , %lf )", ...), which also accepts a missing
 * ')' and anything after it, and turns 1e400 into infinity. This version reads it strictly, as
 * the built-in point reads its coordinates: blanks anywhere between the parts, each number read
 * by float8in_internal (NaN, Infinity, -Infinity are numbers; 1e400 is out of range, SQLSTATE
 * 22003), nothing after the ')'. Anything else is SQLSTATE 22P02 with the whole input.
 */
PG_FUNCTION_INFO_V1(complex_in);

Datum
complex_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	char	   *p = str;
	Complex    *result = (Complex *) palloc(sizeof(Complex));

	p = complex_expect(p, '(', str);
	result->x = float8in_internal(p, &p, "complex", str);
	p = complex_expect(p, ',', str);
	result->y = float8in_internal(p, &p, "complex", str);
	p = complex_expect(p, ')', str);
	while (isspace((unsigned char) *p))
		p++;
	if (*p != '\0')
		complex_syntax_error(str);

	PG_RETURN_COMPLEX_P(result);
}
/* ANCHOR_END: complex_in */

/* ANCHOR: complex_out */
/*
 * complex_out(complex) RETURNS cstring
 *
 * Upstream's: "%g" gives six significant digits, so the text form does not always read back
 * as the same value (the manual warns about it); the binary form below does. psprintf uses
 * PostgreSQL's own snprintf (src/port/snprintf.c), which writes NaN, Infinity and -Infinity
 * the same on every platform.
 */
PG_FUNCTION_INFO_V1(complex_out);

Datum
complex_out(PG_FUNCTION_ARGS)
{
	Complex    *complex = PG_GETARG_COMPLEX_P(0);
	char	   *result;

	result = psprintf("(%g,%g)", complex->x, complex->y);
	PG_RETURN_CSTRING(result);
}
/* ANCHOR_END: complex_out */

/* ANCHOR: complex_recv */
/*
 * complex_recv(internal) RETURNS complex
 *
 * The binary form, two float8 in network byte order, from the StringInfo the caller (COPY,
 * a parameter in binary) hands over. pq_getmsgfloat8 reads 8 bytes at the cursor and moves
 * it, or raises "insufficient data left in message" (SQLSTATE 08P01); the caller checks that
 * nothing is left over (SQLSTATE 22P03).
 */
PG_FUNCTION_INFO_V1(complex_recv);

Datum
complex_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	Complex    *result;

	result = (Complex *) palloc(sizeof(Complex));
	result->x = pq_getmsgfloat8(buf);
	result->y = pq_getmsgfloat8(buf);
	PG_RETURN_COMPLEX_P(result);
}
/* ANCHOR_END: complex_recv */

/* ANCHOR: complex_send */
/*
 * complex_send(complex) RETURNS bytea
 *
 * The internal form to the binary form: each float8 as pq_sendfloat8 writes it, its 8 bytes
 * in network byte order, in a bytea that pq_begintypsend and pq_endtypsend make.
 */
PG_FUNCTION_INFO_V1(complex_send);

Datum
complex_send(PG_FUNCTION_ARGS)
{
	Complex    *complex = PG_GETARG_COMPLEX_P(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendfloat8(&buf, complex->x);
	pq_sendfloat8(&buf, complex->y);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}
/* ANCHOR_END: complex_send */
