/*
 * aggregates.c
 *		User-defined aggregates: mean(double precision), the twin of the built-in
 *		avg(double precision), with a state updated in place and the combine, serial and
 *		deserial functions that let it run in parallel.
 *
 * The C twin of src/aggregates.rs. Same SQL contract: see c/aggregates.sql and the regression
 * test sql/aggregates.sql, which both builds must pass with the same output.
 *
 * The state is the built-in's (src/backend/utils/adt/float.c, float8_accum): N, Sx = sum(X)
 * and Sxx = sum((X - Sx/N)^2), updated by the Youngs-Cramer algorithm. avg needs only N and Sx,
 * but the built-in reports an overflow when Sx or Sxx overflows, so to give the very same
 * answers and errors we keep Sxx too. Where the built-in keeps the three numbers in a float8[]
 * (a real SQL type, which parallel workers can pass back as it is), ours is a C struct of
 * type internal: no array header to check per row, but workers must serialize it to bytea.
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "libpq/pqformat.h"
#include "utils/float.h"

/* ANCHOR: state */
typedef struct MeanState
{
	float8		N;				/* the number of non-NULL inputs, as float8 like the built-in's */
	float8		Sx;				/* their sum */
	float8		Sxx;			/* the sum of squared differences from the mean */
} MeanState;

/*
 * The aggregate memory context of this call, or an ERROR when we are not called as an
 * aggregate. A state of type internal is a pointer; outside an aggregate we have nowhere to
 * keep one that outlives the call, and SQL cannot pass one in.
 */
static MemoryContext
aggregate_context(FunctionCallInfo fcinfo, const char *caller)
{
	MemoryContext aggcontext;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "%s called in non-aggregate context", caller);
	return aggcontext;
}
/* ANCHOR_END: state */

/* ANCHOR: mean_state */
/*
 * float_mean_state(internal, double precision) RETURNS internal: the transition function.
 *
 * Not STRICT (a state of type internal has no initial value to start from), so it sees the
 * NULL inputs that avg skips, and skips them itself. The first non-NULL input allocates the
 * state in the aggregate's memory context, where it lives until the group is done; every
 * later call changes it in place and returns the same pointer. float8_accum does the same
 * to its array when AggCheckCallContext says it may, and copies it otherwise.
 */
PG_FUNCTION_INFO_V1(float_mean_state);

Datum
float_mean_state(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = aggregate_context(fcinfo, "float_mean_state");
	MeanState  *state = PG_ARGISNULL(0) ? NULL : (MeanState *) PG_GETARG_POINTER(0);
	float8		newval;
	float8		N,
				Sx,
				Sxx,
				tmp;

	if (PG_ARGISNULL(1))
	{
		if (state == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(state);
	}
	newval = PG_GETARG_FLOAT8(1);
	if (state == NULL)
		state = (MeanState *) MemoryContextAllocZero(aggcontext, sizeof(MeanState));

	/* float8_accum's Youngs-Cramer step, operation for operation */
	N = state->N + 1.0;
	Sx = state->Sx + newval;
	Sxx = state->Sxx;
	if (state->N > 0.0)
	{
		tmp = newval * N - Sx;
		Sxx += tmp * tmp / (N * state->N);

		/* an overflow is an error only when finite inputs give an infinite result */
		if (isinf(Sx) || isinf(Sxx))
		{
			if (!isinf(state->Sx) && !isinf(newval))
				float_overflow_error();
			Sxx = get_float8_nan();
		}
	}
	else if (isnan(newval) || isinf(newval))
		Sxx = get_float8_nan();

	state->N = N;
	state->Sx = Sx;
	state->Sxx = Sxx;
	PG_RETURN_POINTER(state);
}
/* ANCHOR_END: mean_state */

/* ANCHOR: mean_combine */
/*
 * float_mean_combine(internal, internal) RETURNS internal: merges the state of one partial
 * aggregation into another (float8_combine's formula). Not STRICT: either state may be NULL,
 * for a worker that saw no non-NULL row. The result must live in the aggregate context, so a
 * state we did not allocate there (the second, or the first when it is NULL) is copied.
 */
PG_FUNCTION_INFO_V1(float_mean_combine);

Datum
float_mean_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = aggregate_context(fcinfo, "float_mean_combine");
	MeanState  *state1 = PG_ARGISNULL(0) ? NULL : (MeanState *) PG_GETARG_POINTER(0);
	MeanState  *state2 = PG_ARGISNULL(1) ? NULL : (MeanState *) PG_GETARG_POINTER(1);
	float8		N,
				Sx,
				Sxx,
				tmp;

	if (state2 == NULL)
	{
		if (state1 == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(state1);
	}
	if (state1 == NULL)
	{
		state1 = (MeanState *) MemoryContextAlloc(aggcontext, sizeof(MeanState));
		*state1 = *state2;
		PG_RETURN_POINTER(state1);
	}

	if (state1->N == 0.0)
	{
		N = state2->N;
		Sx = state2->Sx;
		Sxx = state2->Sxx;
	}
	else if (state2->N == 0.0)
		PG_RETURN_POINTER(state1);
	else
	{
		N = state1->N + state2->N;
		Sx = float8_pl(state1->Sx, state2->Sx);
		tmp = state1->Sx / state1->N - state2->Sx / state2->N;
		Sxx = state1->Sxx + state2->Sxx + state1->N * state2->N * tmp * tmp / N;
		if (unlikely(isinf(Sxx)) && !isinf(state1->Sxx) && !isinf(state2->Sxx))
			float_overflow_error();
	}
	state1->N = N;
	state1->Sx = Sx;
	state1->Sxx = Sxx;
	PG_RETURN_POINTER(state1);
}
/* ANCHOR_END: mean_combine */

/* ANCHOR: mean_serial */
/*
 * float_mean_serial(internal) RETURNS bytea: the state as 24 bytes, three float8s in network byte
 * order (pq_sendfloat8), for a parallel worker to hand to the leader. STRICT: a NULL state
 * stays NULL.
 */
PG_FUNCTION_INFO_V1(float_mean_serial);

Datum
float_mean_serial(PG_FUNCTION_ARGS)
{
	MeanState  *state;
	StringInfoData buf;

	(void) aggregate_context(fcinfo, "float_mean_serial");
	state = (MeanState *) PG_GETARG_POINTER(0);

	pq_begintypsend(&buf);
	pq_sendfloat8(&buf, state->N);
	pq_sendfloat8(&buf, state->Sx);
	pq_sendfloat8(&buf, state->Sxx);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}
/* ANCHOR_END: mean_serial */

/* ANCHOR: mean_deserial */
/*
 * float_mean_deserial(bytea, internal) RETURNS internal: the state back from float_mean_serial's bytes.
 * The second argument is not used: it is there so that the function takes an internal, which
 * a function returning internal must (CREATE FUNCTION refuses it otherwise), and so SQL
 * cannot call it. The bytes are read with pq_getmsgfloat8, which raises an ERROR (08P01) when
 * fewer than 24 remain, and pq_getmsgend one when more do: bytes of the wrong size never
 * become a state.
 */
PG_FUNCTION_INFO_V1(float_mean_deserial);

Datum
float_mean_deserial(PG_FUNCTION_ARGS)
{
	bytea	   *sstate;
	MeanState  *state;
	StringInfoData buf;

	(void) aggregate_context(fcinfo, "float_mean_deserial");
	sstate = PG_GETARG_BYTEA_PP(0);

	/* a StringInfo over a copy of the bytes, as the built-in deserial functions do */
	initStringInfo(&buf);
	appendBinaryStringInfo(&buf, VARDATA_ANY(sstate), VARSIZE_ANY_EXHDR(sstate));

	state = (MeanState *) palloc(sizeof(MeanState));
	state->N = pq_getmsgfloat8(&buf);
	state->Sx = pq_getmsgfloat8(&buf);
	state->Sxx = pq_getmsgfloat8(&buf);
	pq_getmsgend(&buf);
	PG_RETURN_POINTER(state);
}
/* ANCHOR_END: mean_deserial */

/* ANCHOR: mean_finalize */
/*
 * float_mean_finalize(internal) RETURNS double precision: Sx / N, as float8_avg computes it.
 * STRICT: with no non-NULL input there is no state (the first one makes it), and PostgreSQL
 * returns NULL without calling us.
 */
PG_FUNCTION_INFO_V1(float_mean_finalize);

Datum
float_mean_finalize(PG_FUNCTION_ARGS)
{
	MeanState  *state;

	(void) aggregate_context(fcinfo, "float_mean_finalize");
	state = (MeanState *) PG_GETARG_POINTER(0);
	if (state->N == 0.0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(state->Sx / state->N);
}
/* ANCHOR_END: mean_finalize */
