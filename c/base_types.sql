-- Base types (chapter 2). Part of the xfunc_c extension script: the Makefile joins the c/*.sql
-- parts, in chapter order, into xfunc_c--1.0.sql.

-- ANCHOR: add_one_int4
CREATE FUNCTION add_one("arg" integer) RETURNS integer
    AS 'MODULE_PATHNAME', 'add_one'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- ANCHOR_END: add_one_int4

-- ANCHOR: add_one_float8
CREATE FUNCTION add_one("arg" double precision) RETURNS double precision
    AS 'MODULE_PATHNAME', 'add_one_float8'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- ANCHOR_END: add_one_float8

-- ANCHOR: makepoint
CREATE FUNCTION makepoint("pointx" point, "pointy" point) RETURNS point
    AS 'MODULE_PATHNAME', 'makepoint'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- ANCHOR_END: makepoint

-- ANCHOR: add_points
CREATE FUNCTION add_points("a" point, "b" point) RETURNS point
    AS 'MODULE_PATHNAME', 'add_points'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- ANCHOR_END: add_points

-- ANCHOR: copytext
CREATE FUNCTION copytext("t" text) RETURNS text
    AS 'MODULE_PATHNAME', 'copytext'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- ANCHOR_END: copytext

-- ANCHOR: concat_text
CREATE FUNCTION concat_text("arg1" text, "arg2" text) RETURNS text
    AS 'MODULE_PATHNAME', 'concat_text'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- ANCHOR_END: concat_text
