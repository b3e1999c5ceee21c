-- User-defined operators and operator optimization information (chapter 18). Part of the
-- xfunc_c extension script: the Makefile joins the c/*.sql parts, in chapter order, into
-- xfunc_c--1.0.sql.

-- ANCHOR: complex_add
CREATE FUNCTION complex_add("a" complex, "b" complex) RETURNS complex
    AS 'MODULE_PATHNAME', 'complex_add'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR + (
    leftarg = complex,
    rightarg = complex,
    function = complex_add,
    commutator = +
);
-- ANCHOR_END: complex_add

-- ANCHOR: complex_abs_lt
CREATE FUNCTION complex_abs_lt("a" complex, "b" complex) RETURNS boolean
    AS 'MODULE_PATHNAME', 'complex_abs_lt'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR < (
    leftarg = complex, rightarg = complex, function = complex_abs_lt,
    commutator = > , negator = >= ,
    restrict = scalarltsel, join = scalarltjoinsel
);
-- ANCHOR_END: complex_abs_lt

-- ANCHOR: complex_abs_others
CREATE FUNCTION complex_abs_le("a" complex, "b" complex) RETURNS boolean
    AS 'MODULE_PATHNAME', 'complex_abs_le'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR <= (
    leftarg = complex, rightarg = complex, function = complex_abs_le,
    commutator = >= , negator = > ,
    restrict = scalarlesel, join = scalarlejoinsel
);

CREATE FUNCTION complex_abs_eq("a" complex, "b" complex) RETURNS boolean
    AS 'MODULE_PATHNAME', 'complex_abs_eq'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- No negator: there is no <> for complex.
CREATE OPERATOR = (
    leftarg = complex, rightarg = complex, function = complex_abs_eq,
    commutator = = ,
    restrict = eqsel, join = eqjoinsel
);

CREATE FUNCTION complex_abs_ge("a" complex, "b" complex) RETURNS boolean
    AS 'MODULE_PATHNAME', 'complex_abs_ge'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR >= (
    leftarg = complex, rightarg = complex, function = complex_abs_ge,
    commutator = <= , negator = < ,
    restrict = scalargesel, join = scalargejoinsel
);

CREATE FUNCTION complex_abs_gt("a" complex, "b" complex) RETURNS boolean
    AS 'MODULE_PATHNAME', 'complex_abs_gt'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR > (
    leftarg = complex, rightarg = complex, function = complex_abs_gt,
    commutator = < , negator = <= ,
    restrict = scalargtsel, join = scalargtjoinsel
);
-- ANCHOR_END: complex_abs_others
