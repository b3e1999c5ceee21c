/*
 * v1_calling.c
 *		Version-1 calling convention (chapter 4): NULL arguments, copies, slices.
 *
 * The C twin of src/v1_calling.rs. Every function here has the one version-1 signature,
 * Datum f(FunctionCallInfo fcinfo), spelled PG_FUNCTION_ARGS, and is announced to PostgreSQL by
 * PG_FUNCTION_INFO_V1. Same SQL contract: see c/v1_calling.sql and sql/v1_calling.sql.
 */
#include "postgres.h"

#include "access/detoast.h"
#include "common/int.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

/* ANCHOR: add_nullable */
/*
 * add_nullable(a integer, b integer) RETURNS integer, not STRICT
 *
 * A NULL argument counts as absent, as in sum(): the result is NULL only when both are.
 * Without STRICT, PostgreSQL calls the function even for NULL arguments, so it must test
 * PG_ARGISNULL(n) before each PG_GETARG_INT32(n): the Datum in a NULL slot is garbage.
 */
PG_FUNCTION_INFO_V1(add_nullable);

Datum
add_nullable(PG_FUNCTION_ARGS)
{
	int32		result;

	if (PG_ARGISNULL(0) && PG_ARGISNULL(1))
		PG_RETURN_NULL();
	if (PG_ARGISNULL(0))
		PG_RETURN_INT32(PG_GETARG_INT32(1));
	if (PG_ARGISNULL(1))
		PG_RETURN_INT32(PG_GETARG_INT32(0));

	if (unlikely(pg_add_s32_overflow(PG_GETARG_INT32(0), PG_GETARG_INT32(1), &result)))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("integer out of range")));

	PG_RETURN_INT32(result);
}
/* ANCHOR_END: add_nullable */

/* ANCHOR: reverse_bytes */
/*
 * reverse_bytes(bytes bytea) RETURNS bytea
 *
 * The function reverses its input in place, so it must not work on the input itself:
 * PG_GETARG_BYTEA_P(0) may return a pointer into a shared buffer page, and writing there would
 * change the stored row for every session. PG_GETARG_BYTEA_P_COPY(0) returns a detoasted copy
 * in the function's memory context, ours to change and to return.
 *
 * The largest bytea is refused (54000), as concat_text refuses a result that large: the Rust
 * twin's result goes through pgrx's conversion to a varlena, which accepts one byte less than
 * palloc. toast_raw_datum_size reads the size from the header, before anything is copied.
 */
PG_FUNCTION_INFO_V1(reverse_bytes);

Datum
reverse_bytes(PG_FUNCTION_ARGS)
{
	bytea	   *copy;
	char	   *lo;
	char	   *hi;

	if (toast_raw_datum_size(PG_GETARG_DATUM(0)) >= MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("requested length too large")));
	copy = PG_GETARG_BYTEA_P_COPY(0);
	lo = VARDATA(copy);
	hi = lo + VARSIZE(copy) - VARHDRSZ;

	/* hi points one past the last byte */
	while (hi - lo > 1)
	{
		char		byte = *lo;

		*lo++ = *--hi;
		*hi = byte;
	}

	PG_RETURN_BYTEA_P(copy);
}
/* ANCHOR_END: reverse_bytes */

/* ANCHOR: text_prefix */
/* Raise substr()'s error (SQLSTATE 22011) for a negative prefix length. */
static void
check_prefix_length(int32 n)
{
	if (n < 0)
		ereport(ERROR,
				(errcode(ERRCODE_SUBSTRING_ERROR),
				 errmsg("negative prefix length not allowed")));
}

/*
 * text_prefix(string text, n integer) RETURNS text
 *
 * The first n characters of string. For a value stored out of line (TOASTed),
 * PG_GETARG_TEXT_P_SLICE(0, 0, len) fetches and decompresses only the first len bytes, where
 * PG_GETARG_TEXT_P(0) would fetch all of it. Like substr(), a negative length is an error.
 */
PG_FUNCTION_INFO_V1(text_prefix);

Datum
text_prefix(PG_FUNCTION_ARGS)
{
	int32		n = PG_GETARG_INT32(1);
	int32		slice_len;
	text	   *slice;
	const char *data;
	int			len;
	int			prefix_len = 0;

	check_prefix_length(n);

	/*
	 * n characters take at most n * (longest character of the encoding) bytes; past INT32_MAX,
	 * a negative length asks for the whole value.
	 */
	if (pg_mul_s32_overflow(n, pg_database_encoding_max_length(), &slice_len))
		slice_len = -1;

	slice = PG_GETARG_TEXT_P_SLICE(0, 0, slice_len);

	data = VARDATA(slice);
	len = VARSIZE(slice) - VARHDRSZ;

	/*
	 * Count the bytes of the first n characters. The slice may end inside the character after
	 * them, so never look at that one: stop after n characters, or at the end of a shorter
	 * value. pg_mblen_with_len never reads past data + len.
	 */
	for (int32 i = 0; i < n && prefix_len < len; i++)
		prefix_len += pg_mblen_with_len(data + prefix_len, len - prefix_len);

	PG_RETURN_TEXT_P(cstring_to_text_with_len(data, prefix_len));
}
/* ANCHOR_END: text_prefix */

/* ANCHOR: bytes_prefix */
/*
 * bytes_prefix(bytes bytea, n integer) RETURNS bytea
 *
 * The chapter's exercise: the first n bytes of bytes, fetching only the part of a TOASTed
 * value that holds them. Bytes need no character counting, and the slice is already a new
 * bytea in the current memory context, so it is the result as it is. The check of n is
 * text_prefix's check_prefix_length.
 */
PG_FUNCTION_INFO_V1(bytes_prefix);

Datum
bytes_prefix(PG_FUNCTION_ARGS)
{
	int32		n = PG_GETARG_INT32(1);

	check_prefix_length(n);

	PG_RETURN_BYTEA_P(PG_GETARG_BYTEA_P_SLICE(0, 0, n));
}
/* ANCHOR_END: bytes_prefix */
