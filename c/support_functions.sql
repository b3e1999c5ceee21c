-- Function optimization information (chapter 16). Part of the xfunc_c extension script: the
-- Makefile joins the c/*.sql parts, in chapter order, into xfunc_c--1.0.sql.

-- ANCHOR: multiples_support
CREATE FUNCTION multiples_support("request" internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'multiples_support'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- multiples (chapter 10) is declared before its support function exists; attach it now.
ALTER FUNCTION multiples(integer, integer) SUPPORT multiples_support;
-- ANCHOR_END: multiples_support
