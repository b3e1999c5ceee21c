-- Returning sets (chapter 10). Part of the xfunc_c extension script: the Makefile joins the
-- c/*.sql parts, in chapter order, into xfunc_c--1.0.sql.

-- ANCHOR: retcomposite
CREATE TYPE __retcomposite AS (f1 integer, f2 integer, f3 integer);

CREATE FUNCTION retcomposite("count" integer, "base" integer)
    RETURNS SETOF __retcomposite
    AS 'MODULE_PATHNAME', 'retcomposite'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION retcomposite_out("count" integer, "base" integer,
                                 OUT f1 integer, OUT f2 integer, OUT f3 integer)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'retcomposite'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- ANCHOR_END: retcomposite

-- ANCHOR: multiples
CREATE FUNCTION multiples("count" integer, "base" integer)
    RETURNS TABLE(n integer, product integer)
    AS 'MODULE_PATHNAME', 'multiples'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- ANCHOR_END: multiples
