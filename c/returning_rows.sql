-- Returning rows (chapter 9). Part of the xfunc_c extension script: the Makefile joins the
-- c/*.sql parts, in chapter order, into xfunc_c--1.0.sql.

-- ANCHOR: divmod
-- The row type divmod returns: a named composite type, part of the extension's contract.
CREATE TYPE divmod_result AS (quotient integer, remainder integer);

CREATE FUNCTION divmod("dividend" integer, "divisor" integer) RETURNS divmod_result
    AS 'MODULE_PATHNAME', 'divmod'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- ANCHOR_END: divmod

-- ANCHOR: floor_divmod
CREATE FUNCTION floor_divmod("dividend" integer, "divisor" integer) RETURNS divmod_result
    AS 'MODULE_PATHNAME', 'floor_divmod'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- ANCHOR_END: floor_divmod

-- ANCHOR: split_pair
-- RETURNS record with no OUT parameters: the caller's column definition list gives the row type.
-- STABLE, not IMMUTABLE: the caller's input functions may depend on settings (DateStyle,
-- TimeZone), just as the built-in record_in is STABLE.
CREATE FUNCTION split_pair("pair" text) RETURNS record
    AS 'MODULE_PATHNAME', 'split_pair'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
-- ANCHOR_END: split_pair
