/*
 * xfunc_c.c
 *		The library's one-per-library parts: the magic block and _PG_init.
 *
 * Each chapter of the book has its own file (base_types.c, ...); this one holds what the whole
 * shared library needs exactly once.
 */
#include "postgres.h"

#include "fmgr.h"

#include "xfunc_c.h"

/* ANCHOR: magic */
PG_MODULE_MAGIC;
/* ANCHOR_END: magic */

/* ANCHOR: pg_init */
/* PostgreSQL 16 declares this in fmgr.h; on 15 the module declares it itself. */
void		_PG_init(void);

/*
 * Runs once per process that loads the library: in the postmaster when the library is in
 * shared_preload_libraries, otherwise in each backend at its first call into the library.
 */
void
_PG_init(void)
{
	dynamic_loading_init();
	shared_memory_init();
	shared_log_init();
}
/* ANCHOR_END: pg_init */
