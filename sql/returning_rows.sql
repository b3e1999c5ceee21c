--
-- returning_rows: functions that return one row (a composite value).
-- Chapter 9 of the book. Run against xfunc (Rust) and xfunc_c (C): same expected output.
--
-- divmod builds its row of the named type divmod_result from Datums; split_pair returns record
-- and builds its row from C strings, in the column types the caller's column definition list
-- chooses. After each statement meant to fail, \echo :LAST_ERROR_SQLSTATE prints its SQLSTATE.
--

-- ANCHOR: divmod
SELECT divmod(7, 2);
-- ANCHOR: try_divmod
SELECT * FROM divmod(7, -2);
-- ANCHOR_END: try_divmod
SELECT (divmod(-7, 2)).*, -7 / 2 AS "-7 / 2", -7 % 2 AS "-7 % 2";
SELECT (divmod(-2147483648, 1)).quotient AS min_int, (divmod(2147483647, -1)).quotient AS neg_max;
-- ANCHOR_END: divmod

-- ANCHOR: divmod_errors
SELECT divmod(-2147483648, -1);   -- expect: ERROR 22003 the quotient 2^31 does not fit
\echo :LAST_ERROR_SQLSTATE
SELECT -2147483648 / -1;          -- the built-in / raises the same error
\echo :LAST_ERROR_SQLSTATE
SELECT divmod(1, 0);              -- expect: ERROR 22012 division by zero
\echo :LAST_ERROR_SQLSTATE
-- ANCHOR_END: divmod_errors

-- A NULL argument gives a NULL row (STRICT), which FROM expands to one row of NULL columns.
-- ANCHOR: divmod_null
SELECT divmod(NULL, 2) IS NULL AS null_row;
SELECT * FROM divmod(7, NULL);
-- ANCHOR_END: divmod_null

-- The row type can change after CREATE FUNCTION: divmod checks it at each call.
-- ANCHOR: divmod_altered
BEGIN;
ALTER TYPE divmod_result ADD ATTRIBUTE note text;
SELECT divmod(7, 2);              -- expect: ERROR 42804 three columns
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
ALTER TYPE divmod_result ALTER ATTRIBUTE remainder TYPE text;
SELECT divmod(7, 2);              -- expect: ERROR 42804 remainder is text
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
ALTER TYPE divmod_result DROP ATTRIBUTE remainder;
SELECT divmod(7, 2);              -- expect: ERROR 42804 remainder was dropped
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
ALTER TYPE divmod_result DROP ATTRIBUTE remainder;
ALTER TYPE divmod_result ADD ATTRIBUTE remainder integer;
SELECT divmod(7, 2);              -- expect: ERROR 42804 a dropped column is still in the row
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
-- ANCHOR_END: divmod_altered

-- A named row type needs no column definition list, and accepts none.
SELECT * FROM divmod(7, 2) AS (q integer, r integer);  -- expect: ERROR 42601 not RETURNS record
\echo :LAST_ERROR_SQLSTATE

-- ANCHOR: split_pair
-- ANCHOR: try_split_pair
SELECT * FROM split_pair('port=5432') AS (key text, value integer);
-- ANCHOR_END: try_split_pair
SELECT * FROM split_pair('big=99999999999') AS (key text, value bigint);
SELECT * FROM split_pair('expr=a=b') AS (key text, value text);
SELECT * FROM split_pair('day=2024-02-29') AS (key name, value date);
-- ANCHOR_END: split_pair

-- No '=': a NULL field. An empty part is an empty string, not NULL. A NULL argument: NULL row.
-- ANCHOR: split_pair_nulls
SELECT key, value, value IS NULL AS value_is_null
    FROM split_pair('verbose') AS (key text, value boolean);
SELECT key, value, value IS NULL AS value_is_null
    FROM split_pair('=') AS (key text, value text);
SELECT * FROM split_pair(NULL) AS (key text, value text);
-- ANCHOR_END: split_pair_nulls

-- ANCHOR: split_pair_record_error
-- ANCHOR: try_record_error
SELECT split_pair('port=5432');   -- expect: ERROR 0A000 no column definition list in SELECT
-- ANCHOR_END: try_record_error
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM split_pair('port=5432');  -- expect: ERROR 42601 FROM needs one
\echo :LAST_ERROR_SQLSTATE
-- ANCHOR_END: split_pair_record_error

-- ANCHOR: split_pair_errors
SELECT * FROM split_pair('port=5432') AS (key text);  -- expect: ERROR 42804 one column, not 2
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM split_pair('port=lots') AS (key text, value integer);   -- expect: ERROR 22P02
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM split_pair('port=99999999999') AS (key text, value integer);  -- expect: ERROR 22003
\echo :LAST_ERROR_SQLSTATE
-- ANCHOR_END: split_pair_errors

-- The exercise: floor_divmod rounds toward minus infinity; the remainder takes the divisor's
-- sign. Checked against SQL's floor() over every pair of a grid that includes the extremes.
-- ANCHOR: floor_divmod
SELECT * FROM floor_divmod(7, -2);
SELECT a, b, (floor_divmod(a, b)).*
    FROM (VALUES (7), (-7)) AS x(a), (VALUES (2), (-2)) AS y(b)
    ORDER BY a DESC, b DESC;
SELECT count(*) AS pairs,
       count(*) FILTER (WHERE floor_divmod(a, b) =
           ROW(floor(a::numeric / b)::integer,
               (a - b * floor(a::numeric / b))::integer)::divmod_result) AS as_floor
    FROM unnest('{-2147483648,-2147483647,-7,-6,-1,0,1,6,7,2147483647}'::integer[]) AS a,
         unnest('{-2147483648,-7,-2,1,2,3,7,2147483647}'::integer[]) AS b;
SELECT floor_divmod(-2147483648, -1);  -- expect: ERROR 22003 the quotient 2^31 does not fit
\echo :LAST_ERROR_SQLSTATE
SELECT floor_divmod(7, 0);             -- expect: ERROR 22012 division by zero
\echo :LAST_ERROR_SQLSTATE
BEGIN;
ALTER TYPE divmod_result ALTER ATTRIBUTE remainder TYPE bigint;
SELECT floor_divmod(7, 2);             -- expect: ERROR 42804 remainder is bigint
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
-- ANCHOR_END: floor_divmod

-- What both builds must agree on: the functions' declarations and divmod_result's columns.
SELECT p.proname, pg_get_function_arguments(p.oid) AS args,
       pg_get_function_result(p.oid) AS result,
       p.provolatile, p.proisstrict, p.proparallel
  FROM pg_proc p
 WHERE p.proname IN ('divmod', 'floor_divmod', 'split_pair')
 ORDER BY p.proname, args;
SELECT attnum, attname, format_type(atttypid, atttypmod) AS type
  FROM pg_attribute
 WHERE attrelid = 'divmod_result'::regclass AND attnum > 0
 ORDER BY attnum;
