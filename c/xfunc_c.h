/*
 * xfunc_c.h
 *		What the chapters of xfunc_c share: the load-time set-up each chapter provides.
 */
#ifndef XFUNC_C_H
#define XFUNC_C_H

/* Called once from _PG_init (xfunc_c.c), in chapter order. */
extern void dynamic_loading_init(void);
extern void shared_memory_init(void);
extern void shared_log_init(void);

#endif							/* XFUNC_C_H */
