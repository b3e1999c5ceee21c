/*
 * dynamic_loading.c
 *		Dynamic loading (chapter 1): what _PG_init saw when the library was loaded.
 *
 * The C twin of src/dynamic_loading.rs. PostgreSQL loads a C-language function's library the
 * first time a process needs it, or, for a library in shared_preload_libraries, once in the
 * postmaster at server start. Either way it calls the library's _PG_init once per loading
 * process. dynamic_loading_init records what that call saw; three SQL functions report it.
 *
 * These variables belong to one process and each backend runs on one thread: plain statics.
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"

#include "xfunc_c.h"

/* ANCHOR: init */
/* How many times _PG_init has run in this process's memory. */
static int	init_calls_seen = 0;

/* Whether _PG_init ran while shared_preload_libraries was being processed. */
static bool init_in_preload_seen = false;

/* The process id of the process that ran _PG_init. */
static int	init_pid = 0;

/* Called once from _PG_init (xfunc_c.c) when the library is loaded. */
void
dynamic_loading_init(void)
{
	init_calls_seen++;
	init_in_preload_seen = process_shared_preload_libraries_in_progress;
	init_pid = MyProcPid;
}
/* ANCHOR_END: init */

/* ANCHOR: reporters */
/*
 * init_calls() RETURNS integer: how many times _PG_init ran in this process's memory.
 */
PG_FUNCTION_INFO_V1(init_calls);

Datum
init_calls(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(init_calls_seen);
}

/*
 * init_in_preload() RETURNS boolean: whether _PG_init ran during shared_preload_libraries
 * processing.
 */
PG_FUNCTION_INFO_V1(init_in_preload);

Datum
init_in_preload(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(init_in_preload_seen);
}

/*
 * init_inherited() RETURNS boolean: whether _PG_init ran in another process, the postmaster,
 * whose memory this backend inherited when it was forked.
 */
PG_FUNCTION_INFO_V1(init_inherited);

Datum
init_inherited(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(init_calls_seen > 0 && init_pid != MyProcPid);
}
/* ANCHOR_END: reporters */
