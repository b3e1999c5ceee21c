-- User-defined aggregates (chapter 20). Part of the xfunc_c extension script: the Makefile joins
-- the c/*.sql parts, in chapter order, into xfunc_c--1.0.sql.

-- ANCHOR: create_aggregate
CREATE FUNCTION float_mean_state("this" internal, "value" double precision) RETURNS internal
    AS 'MODULE_PATHNAME', 'float_mean_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION float_mean_combine("this" internal, "v" internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'float_mean_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION float_mean_finalize("this" internal) RETURNS double precision
    AS 'MODULE_PATHNAME', 'float_mean_finalize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION float_mean_serial("this" internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'float_mean_serial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION float_mean_deserial("bytes" bytea, "_internal" internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'float_mean_deserial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE AGGREGATE mean(value double precision) (
    SFUNC = float_mean_state,
    STYPE = internal,
    FINALFUNC = float_mean_finalize,
    COMBINEFUNC = float_mean_combine,
    SERIALFUNC = float_mean_serial,
    DESERIALFUNC = float_mean_deserial,
    PARALLEL = SAFE
);
-- ANCHOR_END: create_aggregate
