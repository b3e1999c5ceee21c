-- Base types (chapter 2). Part of the xfunc_c extension script: the Makefile joins the c/*.sql
-- parts, in chapter order, into xfunc_c--1.0.sql.

-- ANCHOR: add_one_int4
CREATE FUNCTION add_one("arg" integer) RETURNS integer
    AS 'MODULE_PATHNAME', 'add_one'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- ANCHOR_END: add_one_int4
