/*
 * writing_code.c
 *		The manual's rules for writing C-language functions: allocate with palloc in a
 *		memory context, zero the bytes of the structures you hand to PostgreSQL.
 *
 * The C twin of src/writing_code.rs. Same SQL contract: see c/writing_code.sql and the
 * regression test sql/writing_code.sql.
 */
/* ANCHOR: includes */
#include "postgres.h"			/* always first: it sets up what every other header needs */

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
/* ANCHOR_END: includes */

/* ANCHOR: memory_context_name */
/*
 * memory_context_name() RETURNS text
 *
 * The name of CurrentMemoryContext when PostgreSQL calls us: where palloc allocates.
 */
PG_FUNCTION_INFO_V1(memory_context_name);

Datum
memory_context_name(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(CurrentMemoryContext->name));
}
/* ANCHOR_END: memory_context_name */

/* ANCHOR: padded_pair_struct */
/*
 * A fixed-length value with a hole in it: a takes 2 bytes, then 6 bytes of padding put b on
 * an 8-byte boundary.
 */
typedef struct PaddedPair
{
	int16		a;
	/* 6 bytes of padding */
	int64		b;
} PaddedPair;

StaticAssertDecl(sizeof(PaddedPair) == 16, "2 bytes of a, 6 of padding, 8 of b");

/*
 * The struct's raw bytes, padding included, as PostgreSQL would hash, compare with memcmp,
 * or write to disk a by-reference value of this type. static: the symbol stays in this file.
 */
static bytea *
padded_pair_bytes(const PaddedPair *pair)
{
	bytea	   *result = (bytea *) palloc(VARHDRSZ + sizeof(PaddedPair));

	SET_VARSIZE(result, VARHDRSZ + sizeof(PaddedPair));
	memcpy(VARDATA(result), pair, sizeof(PaddedPair));
	return result;
}
/* ANCHOR_END: padded_pair_struct */

/* ANCHOR: padded_pair */
/*
 * padded_pair(a smallint, b bigint) RETURNS bytea
 *
 * The rule done right: palloc0 zeroes the padding, so equal pairs have equal bytes.
 */
PG_FUNCTION_INFO_V1(padded_pair);

Datum
padded_pair(PG_FUNCTION_ARGS)
{
	PaddedPair *pair = (PaddedPair *) palloc0(sizeof(PaddedPair));

	pair->a = PG_GETARG_INT16(0);
	pair->b = PG_GETARG_INT64(1);

	PG_RETURN_BYTEA_P(padded_pair_bytes(pair));
}
/* ANCHOR_END: padded_pair */

/* ANCHOR: padded_pair_unzeroed */
/*
 * padded_pair_unzeroed(a smallint, b bigint) RETURNS bytea
 *
 * The bug: palloc hands back memory another allocation may have used, and setting the two
 * fields leaves the padding as it was. To make the bug show the same way on every run, fill
 * the chunk with 0x7F first, standing in for a previous tenant's data (0x7F is what a server
 * built with CLOBBER_FREED_MEMORY writes into freed memory).
 */
PG_FUNCTION_INFO_V1(padded_pair_unzeroed);

Datum
padded_pair_unzeroed(PG_FUNCTION_ARGS)
{
	PaddedPair *pair = (PaddedPair *) palloc(sizeof(PaddedPair));

	memset(pair, 0x7f, sizeof(PaddedPair));
	pair->a = PG_GETARG_INT16(0);
	pair->b = PG_GETARG_INT64(1);

	PG_RETURN_BYTEA_P(padded_pair_bytes(pair));
}
/* ANCHOR_END: padded_pair_unzeroed */

/* ANCHOR: padded_pair_explicit */
/*
 * The same pair with its padding made a field: 2 + 6 + 8 bytes of fields and no padding.
 */
typedef struct ExplicitPair
{
	int16		a;
	char		pad[6];
	int64		b;
} ExplicitPair;

StaticAssertDecl(sizeof(ExplicitPair) == 2 + 6 + 8, "no padding: every byte is a field");

/*
 * padded_pair_explicit(a smallint, b bigint) RETURNS bytea
 *
 * The chapter's exercise: the bytes of padded_pair without palloc0, because the struct has no
 * padding left to forget. Setting the three fields sets every byte.
 */
PG_FUNCTION_INFO_V1(padded_pair_explicit);

Datum
padded_pair_explicit(PG_FUNCTION_ARGS)
{
	bytea	   *result = (bytea *) palloc(VARHDRSZ + sizeof(ExplicitPair));
	ExplicitPair *pair = (ExplicitPair *) palloc(sizeof(ExplicitPair));

	pair->a = PG_GETARG_INT16(0);
	memset(pair->pad, 0, sizeof(pair->pad));
	pair->b = PG_GETARG_INT64(1);

	SET_VARSIZE(result, VARHDRSZ + sizeof(ExplicitPair));
	memcpy(VARDATA(result), pair, sizeof(ExplicitPair));
	PG_RETURN_BYTEA_P(result);
}
/* ANCHOR_END: padded_pair_explicit */
