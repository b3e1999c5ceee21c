/*
 * shared_log.c
 *		Synchronizing between backends (chapter 13): one log file, many backends.
 */
#include "postgres.h"

#include "xfunc_c.h"

void
shared_log_init(void)
{
}
