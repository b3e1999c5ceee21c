-- Interfacing extensions to indexes (chapter 19). Part of the xfunc_c extension script: the
-- Makefile joins the c/*.sql parts, in chapter order, into xfunc_c--1.0.sql.

-- ANCHOR: complex_abs_cmp
CREATE FUNCTION complex_abs_cmp("a" complex, "b" complex) RETURNS integer
    AS 'MODULE_PATHNAME', 'complex_abs_cmp'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- ANCHOR_END: complex_abs_cmp

-- ANCHOR: opclass
CREATE OPERATOR CLASS complex_abs_ops
    DEFAULT FOR TYPE complex USING btree AS
        OPERATOR        1       < ,
        OPERATOR        2       <= ,
        OPERATOR        3       = ,
        OPERATOR        4       >= ,
        OPERATOR        5       > ,
        FUNCTION        1       complex_abs_cmp(complex, complex);
-- ANCHOR_END: opclass
