/*
 * pg_support.c
 *		The shared-memory hook pair, written once for chapters 12 and 13.
 *
 * The C twin of src/pg_support/shmem.rs. Each chapter declares a ShmemStruct and calls
 * shmem_struct_request() from _PG_init; one pair of hooks (PostgreSQL 15's protocol) serves
 * them all: shmem_request_hook asks for the space and the locks, shmem_startup_hook creates
 * the structs.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"

#include "xfunc_c.h"

/* Every struct requested, in the order of the shmem_struct_request calls: a list. */
static ShmemStruct *registered = NULL;
static ShmemStruct **registered_tail = &registered;

/* The hooks that were installed before ours: we must call them. */
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void pg_support_shmem_request(void);
static void pg_support_shmem_startup(void);

/* The struct's size, its tail included: only from the request hook on. */
static Size
shmem_struct_size(const ShmemStruct *s)
{
	return add_size(s->size, s->tail_size ? s->tail_size() : 0);
}

/* ANCHOR: register */
/*
 * Called from _PG_init. Outside shared_preload_libraries it is too late to ask for shared
 * memory (the postmaster has sized the segment already), so nothing is asked.
 */
void
shmem_struct_request(ShmemStruct *s)
{
	if (!process_shared_preload_libraries_in_progress)
		return;

	if (registered == NULL)
	{
		prev_shmem_request_hook = shmem_request_hook;
		shmem_request_hook = pg_support_shmem_request;
		prev_shmem_startup_hook = shmem_startup_hook;
		shmem_startup_hook = pg_support_shmem_startup;
	}
	*registered_tail = s;
	registered_tail = &s->next;
}
/* ANCHOR_END: register */

/* ANCHOR: get */
/* The struct, or ERROR 55000 when the library was not preloaded. */
void *
shmem_struct_get(const ShmemStruct *s)
{
	if (s->ptr == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("xfunc_c must be loaded via shared_preload_libraries")));
	return s->ptr;
}
/* ANCHOR_END: get */

/* ANCHOR: request */
/*
 * shmem_request_hook: runs once in the postmaster, after every preloaded library's _PG_init,
 * while the postmaster adds up how big the shared memory segment must be.
 */
static void
pg_support_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();

	for (ShmemStruct *s = registered; s != NULL; s = s->next)
	{
		RequestAddinShmemSpace(MAXALIGN(shmem_struct_size(s)));
		RequestNamedLWLockTranche(s->tranche, 1);
	}
}
/* ANCHOR_END: request */

/* ANCHOR: startup */
/*
 * shmem_startup_hook: runs in the postmaster once the segment exists (and again after every
 * crash restart, on a new segment). ShmemInitStruct finds each struct by name in the shared
 * memory index or carves it out; found says which. AddinShmemInitLock makes the look-up and
 * the initialisation one step, for the EXEC_BACKEND builds where each backend runs this too.
 */
static void
pg_support_shmem_startup(void)
{
	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	for (ShmemStruct *s = registered; s != NULL; s = s->next)
	{
		bool		found;

		s->ptr = ShmemInitStruct(s->name, shmem_struct_size(s), &found);
		if (!found)
			s->init(s->ptr, &(GetNamedLWLockTranche(s->tranche))->lock);
	}
	LWLockRelease(AddinShmemInitLock);
}
/* ANCHOR_END: startup */
