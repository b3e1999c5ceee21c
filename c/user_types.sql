-- User-defined types (chapter 17). Part of the xfunc_c extension script: the Makefile joins
-- the c/*.sql parts, in chapter order, into xfunc_c--1.0.sql.

-- ANCHOR: shell_type
-- A shell type: a name for the I/O functions to return and take before the type is complete.
CREATE TYPE complex;
-- ANCHOR_END: shell_type

-- ANCHOR: io_functions
CREATE FUNCTION complex_in("input" cstring) RETURNS complex
    AS 'MODULE_PATHNAME', 'complex_in'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION complex_out("complex" complex) RETURNS cstring
    AS 'MODULE_PATHNAME', 'complex_out'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION complex_recv("buf" internal) RETURNS complex
    AS 'MODULE_PATHNAME', 'complex_recv'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION complex_send("complex" complex) RETURNS bytea
    AS 'MODULE_PATHNAME', 'complex_send'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- ANCHOR_END: io_functions

-- ANCHOR: create_type
CREATE TYPE complex (
    internallength = 16,
    input = complex_in,
    output = complex_out,
    receive = complex_recv,
    send = complex_send,
    alignment = double
);
-- ANCHOR_END: create_type
