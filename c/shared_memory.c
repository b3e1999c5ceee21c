/*
 * shared_memory.c
 *		Shared memory and LWLocks (chapter 12): a counter every backend sees.
 *
 * The C twin of src/shared_memory.rs.
 *
 * What lives in shared memory: one SharedCounter struct, named "xfunc_c shared counter" in
 * the shared memory index, holding a running total (value) and the number of updates made to
 * it (updates). Both fields are guarded by one LWLock, the only lock of the named tranche
 * "xfunc_c"; the tranche name is what pg_stat_activity.wait_event shows while a backend waits.
 *
 * Locking: readers take the lock LW_SHARED, writers LW_EXCLUSIVE. No code path holds it across
 * anything that can raise an ERROR; if one did, the transaction abort's LWLockReleaseAll would
 * release it. The lock is never taken together with another lock, so there is no lock order
 * to respect.
 *
 * Set-up: only when the library is loaded by shared_preload_libraries. _PG_init asks for the
 * struct through shmem_struct_request (pg_support.c), whose two hooks (PostgreSQL 15's
 * protocol) do the work: shmem_request_hook asks for the space and the tranche,
 * shmem_startup_hook creates (or, in a process that finds it, attaches to) the struct. Without
 * preloading no hook runs, counter.ptr stays NULL, and every function raises SQLSTATE 55000.
 *
 * Crash: shared memory is reinitialised when the postmaster restarts after a backend crash, so
 * the counter starts again from zero. It is statistics, not data.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/int.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"

#include "xfunc_c.h"

/* ANCHOR: shared_struct */
/* The struct in shared memory. value and updates are guarded by lock. */
typedef struct SharedCounter
{
	LWLock	   *lock;			/* the one lock of tranche "xfunc_c" */
	int64		value;			/* the running total */
	int64		updates;		/* how many shared_counter_add calls changed it */
	/* for the contention benchmark: a count changed by atomic instructions only, ... */
	pg_atomic_uint64 bumps_atomic;
	/* ... and one guarded by the spinlock spin */
	slock_t		spin;
	int64		bumps_spin;
} SharedCounter;

static void shared_counter_init(void *ptr, LWLock *lock);

/* The struct, found by name in the shared memory index, and its lock: the tranche "xfunc_c". */
static ShmemStruct counter = {
	.name = "xfunc_c shared counter",
	.tranche = "xfunc_c",
	.size = sizeof(SharedCounter),
	.init = shared_counter_init,
};

/* Its first value, written where the startup hook found room for it. */
static void
shared_counter_init(void *ptr, LWLock *lock)
{
	SharedCounter *c = ptr;

	c->lock = lock;
	c->value = 0;
	c->updates = 0;
	pg_atomic_init_u64(&c->bumps_atomic, 0);
	SpinLockInit(&c->spin);
	c->bumps_spin = 0;
}
/* ANCHOR_END: shared_struct */

/* ANCHOR: init */
/*
 * Called from _PG_init: asks for the struct (when the library is being preloaded; the hooks
 * are in pg_support.c, shared with chapter 13).
 */
void
shared_memory_init(void)
{
	shmem_struct_request(&counter);
}
/* ANCHOR_END: init */


/* ANCHOR: add */
/*
 * shared_counter_add(delta bigint) RETURNS bigint
 *
 * Adds delta to the shared total and returns the new total. The read, the check and the
 * write happen under the exclusive lock, so no concurrent update is lost. When either count
 * would overflow (the total, or the number of updates after 2^63 - 1 of them), nothing
 * changes: the lock is released first, then SQLSTATE 22003 is raised.
 */
PG_FUNCTION_INFO_V1(shared_counter_add);

Datum
shared_counter_add(PG_FUNCTION_ARGS)
{
	int64		delta = PG_GETARG_INT64(0);
	SharedCounter *c = shmem_struct_get(&counter);
	int64		result;
	int64		updates;
	bool		overflow;

	LWLockAcquire(c->lock, LW_EXCLUSIVE);
	overflow = pg_add_s64_overflow(c->value, delta, &result) ||
		pg_add_s64_overflow(c->updates, 1, &updates);
	if (!overflow)
	{
		c->value = result;
		c->updates = updates;
	}
	LWLockRelease(c->lock);

	if (overflow)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("bigint out of range")));

	PG_RETURN_INT64(result);
}
/* ANCHOR_END: add */

/* ANCHOR: read */
/*
 * shared_counter() RETURNS TABLE(value bigint, updates bigint)
 *
 * Both fields read under one shared lock: a consistent pair, while other readers go on.
 * One row, returned the PostgreSQL 15 way for set-returning functions (a tuplestore).
 */
PG_FUNCTION_INFO_V1(shared_counter);

Datum
shared_counter(PG_FUNCTION_ARGS)
{
	static const Oid int8x2[] = {INT8OID, INT8OID};
	SharedCounter *c = shmem_struct_get(&counter);
	ReturnSetInfo *rsinfo;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	/* Its own OUT parameters, which no ALTER TYPE can change; checked all the same (chapter 9). */
	check_result_row(fcinfo, rsinfo->setDesc, lengthof(int8x2), int8x2);

	LWLockAcquire(c->lock, LW_SHARED);
	values[0] = Int64GetDatum(c->value);
	values[1] = Int64GetDatum(c->updates);
	LWLockRelease(c->lock);

	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	return (Datum) 0;
}
/* ANCHOR_END: read */

/* ANCHOR: swap */
/*
 * shared_counter_swap(new_value bigint) RETURNS bigint
 *
 * Exercise of chapter 12: sets the shared total to new_value and returns the total it
 * replaced, as one update (refused, SQLSTATE 22003, after 2^63 - 1 of them, as
 * shared_counter_add is). Read and write under one exclusive lock, so that no other
 * backend's update can fall in between and be lost.
 */
PG_FUNCTION_INFO_V1(shared_counter_swap);

Datum
shared_counter_swap(PG_FUNCTION_ARGS)
{
	int64		new_value = PG_GETARG_INT64(0);
	SharedCounter *c = shmem_struct_get(&counter);
	int64		old_value;
	int64		updates;
	bool		overflow;

	LWLockAcquire(c->lock, LW_EXCLUSIVE);
	old_value = c->value;
	overflow = pg_add_s64_overflow(c->updates, 1, &updates);
	if (!overflow)
	{
		c->value = new_value;
		c->updates = updates;
	}
	LWLockRelease(c->lock);

	if (overflow)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("bigint out of range")));

	PG_RETURN_INT64(old_value);
}
/* ANCHOR_END: swap */

/*
 * shared_counter_reset() RETURNS void
 *
 * Sets both fields back to zero, under the exclusive lock, and the benchmark's counts too
 * (each under its own protection).
 */
PG_FUNCTION_INFO_V1(shared_counter_reset);

Datum
shared_counter_reset(PG_FUNCTION_ARGS)
{
	SharedCounter *c = shmem_struct_get(&counter);

	LWLockAcquire(c->lock, LW_EXCLUSIVE);
	c->value = 0;
	c->updates = 0;
	LWLockRelease(c->lock);
	pg_atomic_write_u64(&c->bumps_atomic, 0);
	SpinLockAcquire(&c->spin);
	c->bumps_spin = 0;
	SpinLockRelease(&c->spin);

	PG_RETURN_VOID();
}

/* ANCHOR: contention */
/*
 * For the contention benchmark (benches/lwlock_contention.rs): the other ways PostgreSQL
 * offers to share a number between backends. Each bump adds one and returns the count after
 * it.
 */

/* shared_counter_value() RETURNS bigint: the total, read under the lock in shared mode. */
PG_FUNCTION_INFO_V1(shared_counter_value);

Datum
shared_counter_value(PG_FUNCTION_ARGS)
{
	SharedCounter *c = shmem_struct_get(&counter);
	int64		value;

	LWLockAcquire(c->lock, LW_SHARED);
	value = c->value;
	LWLockRelease(c->lock);
	PG_RETURN_INT64(value);
}

/*
 * shared_counter_bump_atomic() RETURNS bigint: no lock at all: pg_atomic_fetch_add_u64 is
 * one locked instruction (lock xadd on x86-64), inlined here.
 */
PG_FUNCTION_INFO_V1(shared_counter_bump_atomic);

Datum
shared_counter_bump_atomic(PG_FUNCTION_ARGS)
{
	SharedCounter *c = shmem_struct_get(&counter);

	PG_RETURN_INT64((int64) (pg_atomic_fetch_add_u64(&c->bumps_atomic, 1) + 1));
}

/*
 * shared_counter_bump_spinlock() RETURNS bigint: the count under a spinlock, held for a few
 * instructions; nothing in between may raise an ERROR.
 */
PG_FUNCTION_INFO_V1(shared_counter_bump_spinlock);

Datum
shared_counter_bump_spinlock(PG_FUNCTION_ARGS)
{
	SharedCounter *c = shmem_struct_get(&counter);
	int64		count;

	SpinLockAcquire(&c->spin);
	count = ++c->bumps_spin;
	SpinLockRelease(&c->spin);
	PG_RETURN_INT64(count);
}
/* ANCHOR_END: contention */
