/*
 * xfunc_c.h
 *		What the chapters of xfunc_c share: the load-time set-up each chapter provides, and the
 *		check of a result row type that chapters 9, 10 and 12 use.
 */
#ifndef XFUNC_C_H
#define XFUNC_C_H

#include "access/tupdesc.h"
#include "fmgr.h"

/* Called once from _PG_init (xfunc_c.c), in chapter order. */
extern void dynamic_loading_init(void);
extern void shared_memory_init(void);
extern void shared_log_init(void);

/* Returning rows (returning_rows.c): every function that builds a row checks its type first. */
extern void check_result_row(FunctionCallInfo fcinfo, TupleDesc tupdesc,
							 int ntypes, const Oid *types);
extern TupleDesc checked_result_tupdesc(FunctionCallInfo fcinfo, int ntypes, const Oid *types);

#endif							/* XFUNC_C_H */
