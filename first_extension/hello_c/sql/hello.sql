-- hello: the first extension's function, in either build (pg_regress --load-extension
-- creates hello or hello_c in the test database first).
-- ANCHOR: test
SELECT hello('world');
SELECT hello('');
SELECT hello(NULL) IS NULL AS strict;  -- STRICT: NULL in, NULL out, no call
-- ANCHOR_END: test
