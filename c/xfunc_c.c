/*
 * xfunc_c.c
 *		The library's one-per-module parts: the magic block.
 *
 * Each chapter of the book has its own file (base_types.c, ...); this one holds what the whole
 * shared library needs exactly once.
 */
#include "postgres.h"

#include "fmgr.h"

/* ANCHOR: magic */
PG_MODULE_MAGIC;
/* ANCHOR_END: magic */
