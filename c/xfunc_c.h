/*
 * xfunc_c.h
 *		What the chapters of xfunc_c share: the load-time set-up each chapter provides, the
 *		check of a result row type that chapters 9, 10 and 12 use, the shared-memory hook
 *		pair of chapters 12 and 13 (pg_support.c), and the type complex of chapters 17 to 19.
 */
#ifndef XFUNC_C_H
#define XFUNC_C_H

#include "access/tupdesc.h"
#include "fmgr.h"
#include "storage/lwlock.h"

/* Called once from _PG_init (xfunc_c.c), in chapter order. */
extern void dynamic_loading_init(void);
extern void shared_memory_init(void);
extern void shared_log_init(void);

/* Returning rows (returning_rows.c): every function that builds a row checks its type first. */
extern void check_result_row(FunctionCallInfo fcinfo, TupleDesc tupdesc,
							 int ntypes, const Oid *types);
extern TupleDesc checked_result_tupdesc(FunctionCallInfo fcinfo, int ntypes, const Oid *types);

/* ANCHOR: shmem_struct_type */
/*
 * A struct in shared memory (pg_support.c), named name in the shared memory index, with the
 * one lock of the LWLock tranche tranche. init writes its first value, given its lock: once
 * per segment, at server start and after every crash restart. tail_size, if set, gives the
 * bytes that follow the struct: an array whose length is known only once the postmaster has
 * read its settings (one slot per backend, MaxBackends). ptr is this process's pointer to it:
 * set by the startup hook, NULL when the library was not preloaded. next links the structs a
 * library requested.
 */
typedef struct ShmemStruct
{
	const char *name;
	const char *tranche;
	Size		size;
	Size		(*tail_size) (void);
	void		(*init) (void *ptr, LWLock *lock);
	void	   *ptr;
	struct ShmemStruct *next;
} ShmemStruct;

extern void shmem_struct_request(ShmemStruct *s);
extern void *shmem_struct_get(const ShmemStruct *s);
/* ANCHOR_END: shmem_struct_type */

/* ANCHOR: complex_struct */
/*
 * The internal form of the type complex (user_types.c): two float8, 16 bytes, aligned as a
 * double, passed by reference. CREATE TYPE complex (c/user_types.sql) declares the same
 * internallength and alignment.
 */
typedef struct Complex
{
	double		x;
	double		y;
} Complex;

#define DatumGetComplexP(X)		((Complex *) DatumGetPointer(X))
#define ComplexPGetDatum(X)		PointerGetDatum(X)
#define PG_GETARG_COMPLEX_P(n)	DatumGetComplexP(PG_GETARG_DATUM(n))
#define PG_RETURN_COMPLEX_P(x)	return ComplexPGetDatum(x)
/* ANCHOR_END: complex_struct */

/* The comparison behind the operators of complex and its B-tree support (operators.c). */
extern int	complex_abs_cmp_internal(const Complex *a, const Complex *b);

#endif							/* XFUNC_C_H */
