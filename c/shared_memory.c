/*
 * shared_memory.c
 *		Shared memory and LWLocks (chapter 12).
 */
#include "postgres.h"

#include "xfunc_c.h"

void
shared_memory_init(void)
{
}
