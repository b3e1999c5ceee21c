-- Polymorphic arguments and return types (chapter 11). Part of the xfunc_c extension script:
-- the Makefile joins the c/*.sql parts, in chapter order, into xfunc_c--1.0.sql.

-- ANCHOR: make_array
CREATE FUNCTION make_array("element" anyelement) RETURNS anyarray
    AS 'MODULE_PATHNAME', 'make_array'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- ANCHOR_END: make_array

-- ANCHOR: make_pair
CREATE FUNCTION make_pair("first" anyelement, "second" anyelement) RETURNS anyarray
    AS 'MODULE_PATHNAME', 'make_pair'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- ANCHOR_END: make_pair
