-- Version-1 calling convention (chapter 4). Part of the xfunc_c extension script: the Makefile
-- joins the c/*.sql parts, in chapter order, into xfunc_c--1.0.sql.

-- ANCHOR: add_nullable
-- Not STRICT: called for NULL arguments too (CALLED ON NULL INPUT is the default).
CREATE FUNCTION add_nullable("a" integer, "b" integer) RETURNS integer
    AS 'MODULE_PATHNAME', 'add_nullable'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- ANCHOR_END: add_nullable

-- ANCHOR: reverse_bytes
CREATE FUNCTION reverse_bytes("bytes" bytea) RETURNS bytea
    AS 'MODULE_PATHNAME', 'reverse_bytes'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- ANCHOR_END: reverse_bytes

-- ANCHOR: text_prefix
CREATE FUNCTION text_prefix("string" text, "n" integer) RETURNS text
    AS 'MODULE_PATHNAME', 'text_prefix'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- ANCHOR_END: text_prefix

-- ANCHOR: bytes_prefix
CREATE FUNCTION bytes_prefix("bytes" bytea, "n" integer) RETURNS bytea
    AS 'MODULE_PATHNAME', 'bytes_prefix'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- ANCHOR_END: bytes_prefix
