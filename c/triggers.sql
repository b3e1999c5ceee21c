-- Trigger functions in C (chapter 21). Part of the xfunc_c extension script: the Makefile joins
-- the c/*.sql parts, in chapter order, into xfunc_c--1.0.sql.

-- ANCHOR: trigf
CREATE FUNCTION trigf() RETURNS trigger
    AS 'MODULE_PATHNAME', 'trigf'
    LANGUAGE C;
-- ANCHOR_END: trigf

-- ANCHOR: row_version
CREATE FUNCTION row_version() RETURNS trigger
    AS 'MODULE_PATHNAME', 'row_version'
    LANGUAGE C;
-- ANCHOR_END: row_version
