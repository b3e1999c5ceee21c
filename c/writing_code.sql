-- Writing code (chapter 5). Part of the xfunc_c extension script: the Makefile joins the c/*.sql
-- parts, in chapter order, into xfunc_c--1.0.sql.

-- ANCHOR: memory_context_name
CREATE FUNCTION memory_context_name() RETURNS text
    AS 'MODULE_PATHNAME', 'memory_context_name'
    LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
-- ANCHOR_END: memory_context_name

-- ANCHOR: padded_pair
CREATE FUNCTION padded_pair("a" smallint, "b" bigint) RETURNS bytea
    AS 'MODULE_PATHNAME', 'padded_pair'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- ANCHOR_END: padded_pair

-- ANCHOR: padded_pair_unzeroed
CREATE FUNCTION padded_pair_unzeroed("a" smallint, "b" bigint) RETURNS bytea
    AS 'MODULE_PATHNAME', 'padded_pair_unzeroed'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- ANCHOR_END: padded_pair_unzeroed

-- ANCHOR: padded_pair_explicit
CREATE FUNCTION padded_pair_explicit("a" smallint, "b" bigint) RETURNS bytea
    AS 'MODULE_PATHNAME', 'padded_pair_explicit'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- ANCHOR_END: padded_pair_explicit
