/*
 * hello_c: the C twin of the Rust extension hello (../hello/src/lib.rs).
 */
/* ANCHOR: hello */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(hello);

/* hello(name text) RETURNS text, declared STRICT: never called with a NULL. */
Datum
hello(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));

	elog(LOG, "hello: called with %s", name);
	PG_RETURN_TEXT_P(cstring_to_text(psprintf("Hello, %s!", name)));
}
/* ANCHOR_END: hello */
