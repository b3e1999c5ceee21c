--
-- polymorphic: make_array(anyelement) RETURNS anyarray, for every kind of argument type:
-- by value, fixed-length by reference, varlena, composite, domain; NULLs; unresolvable types.
-- Chapter 11 of the book. Run against xfunc (Rust) and xfunc_c (C): same expected output.
--
-- After each statement meant to fail, \echo :LAST_ERROR_SQLSTATE prints the SQLSTATE it raised.
--

-- By value (int4, float8), fixed length by reference (point), varlena (text, numeric).
-- ANCHOR: kinds
SELECT make_array(42) AS int4, make_array(2.5::float8) AS float8,
       make_array(point(1, 2)) AS point;
SELECT make_array('hello'::text) AS text,
       make_array(12345678901234567890.123::numeric) AS numeric;
SELECT pg_typeof(make_array(42)) AS int4, pg_typeof(make_array(point(1, 2))) AS point,
       pg_typeof(make_array('x'::text)) AS text;
-- ANCHOR_END: kinds

-- A long varlena stored compressed (TOAST) in a table: the array gets a detoasted copy.
CREATE TEMP TABLE long_text (v text);
INSERT INTO long_text VALUES (repeat('xfunc', 100000));
SELECT length(v) AS stored, length((make_array(v))[1]) AS in_array,
       (make_array(v))[1] = v AS same FROM long_text;

-- Composite: a row type, with a NULL field, and a NULL row.
-- ANCHOR: composite
CREATE TYPE pair AS (a integer, b text);
SELECT make_array(ROW(1, 'one')::pair) AS pair_array,
       pg_typeof(make_array(ROW(1, 'one')::pair)) AS type;
SELECT make_array(ROW(NULL, 'no a')::pair) AS null_field,
       make_array(NULL::pair) AS null_row;
SELECT (make_array(ROW(2, 'two')::pair))[1].b AS field_b;
-- ANCHOR_END: composite

-- Domain: anyelement keeps the domain (arrays over domains exist since PostgreSQL 11), so the
-- result is an array of the domain, the same type ARRAY[...] builds.
-- ANCHOR: domain
CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
SELECT make_array(7::positive) AS arr, pg_typeof(make_array(7::positive)) AS type,
       pg_typeof((make_array(7::positive))[1]) AS element_type,
       pg_typeof(ARRAY[7::positive]) AS array_constructor;
-- ANCHOR_END: domain

-- NULL of a known type: one NULL element (the function is not STRICT).
-- ANCHOR: nulls
SELECT make_array(NULL::integer) AS int4, make_array(NULL::text) AS text,
       pg_typeof(make_array(NULL::text)) AS type,
       array_length(make_array(NULL::integer), 1) AS length;
-- ANCHOR_END: nulls

-- A type the parser cannot resolve: refused before the function runs.
-- ANCHOR: unknown
SELECT make_array('x');         -- expect: ERROR 42804 input has type unknown
\echo :LAST_ERROR_SQLSTATE
SELECT make_array(NULL);        -- expect: ERROR 42804 input has type unknown
\echo :LAST_ERROR_SQLSTATE
SELECT make_array('x'::text);   -- a cast says which type is meant
-- ANCHOR_END: unknown

-- An array argument: anyarray would have to be an array of arrays, which has no type.
-- ANCHOR: array_arg
SELECT make_array(ARRAY[1, 2]); -- expect: ERROR 42704 no array type for integer[]
\echo :LAST_ERROR_SQLSTATE
-- ANCHOR_END: array_arg

-- The declaration both builds must agree on (the one a call finds on the search path).
SELECT p.proname, pg_get_function_arguments(p.oid) AS args,
       pg_get_function_result(p.oid) AS result,
       p.provolatile, p.proisstrict, p.proparallel
  FROM pg_proc p
 WHERE p.proname = 'make_array' AND pg_function_is_visible(p.oid);

-- Exercise: make_pair(anyelement, anyelement), a two-element array.
-- ANCHOR: make_pair
SELECT make_pair(1, 2) AS int4, make_pair('a'::text, NULL) AS text,
       make_pair(NULL::point, point(1, 2)) AS point;
SELECT make_pair(1, '2') AS unknown_becomes_int4, make_pair(7::positive, 8::positive) AS domain,
       pg_typeof(make_pair(7::positive, 8::positive)) AS type;
SELECT make_pair(ROW(1, 'one')::pair, NULL) AS rows;
-- anyelement wants the very same type twice: no implicit cast, not even integer to numeric.
SELECT make_pair(1, 2.5);        -- expect: ERROR 42883 no make_pair(integer, numeric)
\echo :LAST_ERROR_SQLSTATE
SELECT make_pair(1, 'x'::text);  -- expect: ERROR 42883 no make_pair(integer, text)
\echo :LAST_ERROR_SQLSTATE
SELECT make_pair(NULL, NULL);    -- expect: ERROR 42804 could not determine polymorphic type
\echo :LAST_ERROR_SQLSTATE
-- ANCHOR_END: make_pair
SELECT p.proname, pg_get_function_arguments(p.oid) AS args,
       pg_get_function_result(p.oid) AS result,
       p.provolatile, p.proisstrict, p.proparallel
  FROM pg_proc p
 WHERE p.proname = 'make_pair' AND pg_function_is_visible(p.oid);
