-- Dynamic loading (chapter 1). Part of the xfunc_c extension script: the Makefile joins the
-- c/*.sql parts, in chapter order, into xfunc_c--1.0.sql.

-- ANCHOR: reporters
CREATE FUNCTION init_calls() RETURNS integer
    AS 'MODULE_PATHNAME', 'init_calls'
    LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;

CREATE FUNCTION init_in_preload() RETURNS boolean
    AS 'MODULE_PATHNAME', 'init_in_preload'
    LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;

CREATE FUNCTION init_inherited() RETURNS boolean
    AS 'MODULE_PATHNAME', 'init_inherited'
    LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;
-- ANCHOR_END: reporters
