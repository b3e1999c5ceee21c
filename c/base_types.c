/*
 * base_types.c
 *		Base types in C-language functions: add_one (by value), makepoint
 *		(fixed length, by reference), copytext and concat_text (varlena).
 *
 * The C twin of src/base_types.rs. Same SQL contract: see c/base_types.sql and the regression
 * test sql/base_types.sql, which both builds must pass with the same expected output.
 */
#include "postgres.h"

#include "common/int.h"
#include "fmgr.h"
#include "utils/float.h"
#include "utils/geo_decls.h"
#include "utils/memutils.h"

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

/* ANCHOR: add_one_float8 */
/*
 * add_one(double precision) RETURNS double precision
 *
 * A float8, passed by value on every 64-bit platform (FLOAT8PASSBYVAL). float8_pl is the
 * function behind the built-in float8 + float8: NaN and infinities propagate as IEEE 754 says,
 * but an infinite result from finite inputs raises "value out of range: overflow" (22003).
 */
PG_FUNCTION_INFO_V1(add_one_float8);

Datum
add_one_float8(PG_FUNCTION_ARGS)
{
	float8		arg = PG_GETARG_FLOAT8(0);

	PG_RETURN_FLOAT8(float8_pl(arg, 1.0));
}
/* ANCHOR_END: add_one_float8 */

/* ANCHOR: makepoint */
/*
 * makepoint(point, point) RETURNS point
 *
 * A point is 16 bytes, passed by reference: the Datum is a Point *. The inputs may point into a
 * shared buffer, so the result is a new Point in palloc'd memory.
 */
PG_FUNCTION_INFO_V1(makepoint);

Datum
makepoint(PG_FUNCTION_ARGS)
{
	Point	   *pointx = PG_GETARG_POINT_P(0);
	Point	   *pointy = PG_GETARG_POINT_P(1);
	Point	   *new_point = (Point *) palloc(sizeof(Point));

	new_point->x = pointx->x;
	new_point->y = pointy->y;

	PG_RETURN_POINT_P(new_point);
}
/* ANCHOR_END: makepoint */

/* ANCHOR: add_points */
/*
 * add_points(a point, b point) RETURNS point
 *
 * The chapter's exercise: the built-in point + point (point_add) written again. Both inputs
 * are only read; the sum is a new Point, each coordinate added by float8_pl, which raises
 * "value out of range: overflow" (22003) when two finite values sum past the largest float8.
 */
PG_FUNCTION_INFO_V1(add_points);

Datum
add_points(PG_FUNCTION_ARGS)
{
	Point	   *a = PG_GETARG_POINT_P(0);
	Point	   *b = PG_GETARG_POINT_P(1);
	Point	   *result = (Point *) palloc(sizeof(Point));

	result->x = float8_pl(a->x, b->x);
	result->y = float8_pl(a->y, b->y);

	PG_RETURN_POINT_P(result);
}
/* ANCHOR_END: add_points */

/* ANCHOR: text_data_len */
/*
 * VARSIZE_ANY_EXHDR of a detoasted argument, refusing a header no valid value has: a 4-byte
 * header whose length is shorter than the header itself (a short header always counts
 * itself). Unchecked, the subtraction would wrap around to a length near SIZE_MAX, and the
 * copies below would read and write far past the value. Only corrupt data has such a header:
 * SQLSTATE XX001, as the Rust twin raises it (arg_bytes, src/pg_support/fmgr.rs).
 */
static Size
text_data_len(const text *t)
{
	if (!VARATT_IS_1B(t) && VARSIZE_4B(t) < VARHDRSZ)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid varlena header"),
				 errdetail("Its length, %zu, is shorter than its header.",
						   (Size) VARSIZE_4B(t))));
	return VARSIZE_ANY_EXHDR(t);
}
/* ANCHOR_END: text_data_len */

/* ANCHOR: copytext */
/*
 * copytext(text) RETURNS text
 *
 * PG_GETARG_TEXT_PP detoasts (decompresses, fetches from the TOAST table) but leaves a short
 * 1-byte header alone, so the value is read with VARSIZE_ANY_EXHDR and VARDATA_ANY, which
 * understand both headers (text_data_len, above, is VARSIZE_ANY_EXHDR with a check). The
 * copy always gets a 4-byte header: VARHDRSZ + len bytes, with the length written by
 * SET_VARSIZE and the data copied to VARDATA.
 */
PG_FUNCTION_INFO_V1(copytext);

Datum
copytext(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	Size		len = text_data_len(t);
	text	   *new_t = (text *) palloc(VARHDRSZ + len);

	SET_VARSIZE(new_t, VARHDRSZ + len);
	memcpy(VARDATA(new_t), VARDATA_ANY(t), len);

	PG_RETURN_TEXT_P(new_t);
}
/* ANCHOR_END: copytext */

/* ANCHOR: concat_text */
/*
 * concat_text(text, text) RETURNS text
 *
 * Each input is under 1 GB, so their sum fits in a Size; the result must also fit in one
 * palloc chunk. Check that before allocating and say so with SQLSTATE 54000, as repeat() does.
 * The limit is one byte under MaxAllocSize, the same as the Rust twin's (PallocText::concat),
 * so both accept the same inputs.
 */
PG_FUNCTION_INFO_V1(concat_text);

Datum
concat_text(PG_FUNCTION_ARGS)
{
	text	   *arg1 = PG_GETARG_TEXT_PP(0);
	text	   *arg2 = PG_GETARG_TEXT_PP(1);
	Size		len1 = text_data_len(arg1);
	Size		len2 = text_data_len(arg2);
	Size		new_text_size = VARHDRSZ + len1 + len2;
	text	   *new_text;

	if (new_text_size >= MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("requested length too large")));

	new_text = (text *) palloc(new_text_size);
	SET_VARSIZE(new_text, new_text_size);
	memcpy(VARDATA(new_text), VARDATA_ANY(arg1), len1);
	memcpy(VARDATA(new_text) + len1, VARDATA_ANY(arg2), len2);

	PG_RETURN_TEXT_P(new_text);
}
/* ANCHOR_END: concat_text */
