-- Composite-type arguments (chapter 8). Part of the xfunc_c extension script: the Makefile joins
-- the c/*.sql parts, in chapter order, into xfunc_c--1.0.sql.

-- ANCHOR: emp_table
-- The manual's table. Its row type, emp, is the type of c_overpaid's first argument, so the
-- extension creates it before the function: the table is part of the extension's contract.
CREATE TABLE emp (
    name        text,
    salary      integer,
    age         integer,
    cubicle     point
);
-- Rows a user puts in the extension's table are the user's data: pg_dump must dump them.
SELECT pg_catalog.pg_extension_config_dump('emp', '');
-- ANCHOR_END: emp_table

-- ANCHOR: c_overpaid
CREATE FUNCTION c_overpaid("emp" emp, "limit" integer) RETURNS boolean
    AS 'MODULE_PATHNAME', 'c_overpaid'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- ANCHOR_END: c_overpaid

-- ANCHOR: overpaid_by
CREATE FUNCTION overpaid_by("emp" emp, "limit" integer) RETURNS integer
    AS 'MODULE_PATHNAME', 'overpaid_by'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- ANCHOR_END: overpaid_by
