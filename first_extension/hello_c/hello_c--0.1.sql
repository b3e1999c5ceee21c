-- ANCHOR: script
\echo Use "CREATE EXTENSION hello_c" to load this file. \quit

CREATE FUNCTION hello(name text) RETURNS text
    AS 'MODULE_PATHNAME', 'hello'
    LANGUAGE C STRICT;
-- ANCHOR_END: script
