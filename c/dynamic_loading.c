/*
 * dynamic_loading.c
 *		Dynamic loading (chapter 1).
 */
#include "postgres.h"

#include "xfunc_c.h"

void
dynamic_loading_init(void)
{
}
