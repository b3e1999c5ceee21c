--
-- returning_sets: retcomposite, a value-per-call set-returning function, declared twice
-- (a named composite type; OUT parameters returning SETOF record).
-- Chapter 10 of the book. Run against xfunc (Rust) and xfunc_c (C): same expected output.
--
-- After each statement meant to fail, \echo :LAST_ERROR_SQLSTATE prints the SQLSTATE it raised.
--

-- Both declarations: count rows of (base, 2 * base, 3 * base).
-- ANCHOR: retcomposite
SELECT * FROM retcomposite(3, 10);
SELECT * FROM retcomposite_out(2, -7);
-- ANCHOR_END: retcomposite

-- The row type comes from the declaration.
-- ANCHOR: row_types
SELECT pg_typeof(r) AS row_type, r FROM retcomposite(1, 5) AS r;
SELECT pg_typeof(r) AS row_type, r FROM retcomposite_out(1, 5) AS r;
SELECT f3 FROM retcomposite_out(2, 100);
-- ANCHOR_END: row_types

-- Many rows, all equal.
SELECT count(*), min(f1), max(f2), sum(f3) FROM retcomposite(100000, 3);

-- Zero rows; NULL arguments (STRICT: no call, no rows).
-- ANCHOR: empty
SELECT * FROM retcomposite(0, 5);
SELECT count(*) AS null_count FROM retcomposite(NULL, 1);
SELECT count(*) AS null_base FROM retcomposite_out(1, NULL);
-- ANCHOR_END: empty

-- A negative count is an error, not zero rows and not four billion rows.
-- ANCHOR: bad_count
SELECT * FROM retcomposite(-1, 1);       -- expect: ERROR 22023 count must not be negative
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM retcomposite_out(-2147483648, 1);  -- expect: ERROR 22023 count must not be negative
\echo :LAST_ERROR_SQLSTATE
-- ANCHOR_END: bad_count

-- Overflow of 2 * base or 3 * base: checked on the first call, before any row,
-- even when no row would be returned.
-- ANCHOR: overflow
SELECT * FROM retcomposite(1, 715827882);      -- 3 * base = 2147483646: fits
SELECT * FROM retcomposite(1, -715827882);
SELECT * FROM retcomposite(1, 715827883);      -- expect: ERROR 22003 3 * base overflows
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM retcomposite_out(1, 1073741824); -- expect: ERROR 22003 2 * base overflows
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM retcomposite(0, -2147483648);    -- expect: ERROR 22003 even for zero rows
\echo :LAST_ERROR_SQLSTATE
SELECT retcomposite(3, 1073741824) LIMIT 1;    -- expect: ERROR 22003 no row comes first
\echo :LAST_ERROR_SQLSTATE
-- ANCHOR_END: overflow

-- In the select list an SRF runs in a ProjectSet node, which asks for one row at a time:
-- LIMIT 3 stops after three calls out of 2147483647. In FROM, a Function Scan would first
-- store every row the function returns in a tuplestore.
-- ANCHOR: huge_count
SELECT retcomposite(2147483647, 1) AS r LIMIT 3;
EXPLAIN (COSTS OFF) SELECT retcomposite(2147483647, 1) LIMIT 3;
EXPLAIN (COSTS OFF) SELECT * FROM retcomposite(2147483647, 1) LIMIT 3;
-- ANCHOR_END: huge_count

-- The row type can change under the function: __retcomposite is a type like any other, and
-- ALTER TYPE may add, drop or retype its attributes at any moment. Both builds check the row
-- type on the first call, before any row: SQLSTATE 42804, in FROM and in the select list,
-- even for zero rows; never a row read past the end of an array or a Datum of the wrong type.
-- ANCHOR: altered_row_type
BEGIN;
ALTER TYPE __retcomposite ADD ATTRIBUTE f4 integer;
SELECT * FROM retcomposite(2, 1);        -- expect: ERROR 42804 four attributes, three built
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
ALTER TYPE __retcomposite ALTER ATTRIBUTE f2 TYPE text;
SELECT retcomposite(2, 1);               -- expect: ERROR 42804 f2 is text
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
ALTER TYPE __retcomposite DROP ATTRIBUTE f3;
SELECT * FROM retcomposite(2, 1);        -- expect: ERROR 42804 two attributes
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
ALTER TYPE __retcomposite DROP ATTRIBUTE f3, ADD ATTRIBUTE f3 integer;
SELECT * FROM retcomposite(2, 1);        -- expect: ERROR 42804 the dropped f3 stays in the row
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
-- ANCHOR_END: altered_row_type
BEGIN;
CREATE DOMAIN f1_domain AS integer CHECK (VALUE > 0);
ALTER TYPE __retcomposite ALTER ATTRIBUTE f1 TYPE f1_domain;
SELECT * FROM retcomposite(1, -1);       -- expect: ERROR 42804 a domain is not integer
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
ALTER TYPE __retcomposite ADD ATTRIBUTE f4 integer;
SELECT * FROM retcomposite(0, 1);        -- expect: ERROR 42804 checked even for zero rows
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
ALTER TYPE __retcomposite ADD ATTRIBUTE f4 integer;
SELECT * FROM retcomposite(-1, 1);       -- expect: ERROR 22023 the arguments are checked first
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
SELECT * FROM retcomposite(1, 1);        -- the type is back: rows again

-- A superuser may declare the same symbol again with another row type: OUT parameters, a
-- RETURNS TABLE list, or a table's row type that ALTER TABLE then changes. redeclare() copies
-- the library and symbol of an existing function, so the test does not print their paths.
CREATE FUNCTION pg_temp.redeclare(fn regproc, decl text) RETURNS void
    LANGUAGE plpgsql AS $$
DECLARE
    lib text;
    sym text;
BEGIN
    SELECT probin, prosrc INTO STRICT lib, sym FROM pg_proc WHERE oid = fn;
    EXECUTE format('CREATE FUNCTION pg_temp.%s AS %L, %L LANGUAGE C STRICT', decl, lib, sym);
END $$;
-- ANCHOR: redeclared
SELECT pg_temp.redeclare('retcomposite_out', 'retcomposite_wide(integer, integer, '
    'OUT a integer, OUT b integer, OUT c integer, OUT d integer) RETURNS SETOF record');
SELECT * FROM pg_temp.retcomposite_wide(1, 1);  -- expect: ERROR 42804 four OUT parameters
\echo :LAST_ERROR_SQLSTATE
SELECT pg_temp.redeclare('multiples', 'multiples_text(integer, integer) '
    'RETURNS TABLE(n integer, product text)');
SELECT * FROM pg_temp.multiples_text(3, 2);     -- expect: ERROR 42804 product is text
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE triple (f1 integer, f2 integer, f3 integer);
SELECT pg_temp.redeclare('retcomposite', 'retcomposite_triple(integer, integer) '
    'RETURNS SETOF triple');
SELECT * FROM pg_temp.retcomposite_triple(2, 4);  -- the table's row type fits: rows
ALTER TABLE triple ALTER COLUMN f3 TYPE bigint;
SELECT * FROM pg_temp.retcomposite_triple(2, 4);  -- expect: ERROR 42804 f3 is bigint
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE triple DROP COLUMN f3;
SELECT * FROM pg_temp.retcomposite_triple(2, 4);  -- expect: ERROR 42804 f3 was dropped
\echo :LAST_ERROR_SQLSTATE
-- ANCHOR_END: redeclared
-- shared_counter (chapter 12) builds a row of its OUT parameters: checked the same way.
SELECT pg_temp.redeclare('shared_counter',
    'shared_counter_int4() RETURNS TABLE(value integer, updates bigint)');
SELECT * FROM pg_temp.shared_counter_int4();  -- expect: ERROR 42804 value is integer
\echo :LAST_ERROR_SQLSTATE
DROP FUNCTION pg_temp.retcomposite_triple(integer, integer);
DROP TABLE triple;
SELECT * FROM multiples(2, 3);           -- the backend lives on

-- Wrong arguments are refused before our code runs.
SELECT * FROM retcomposite(1);                -- expect: ERROR 42883 no one-argument variant
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM retcomposite(3000000000, 1);    -- expect: ERROR 42883 no bigint variant
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM retcomposite_out(1, 1) AS t(a integer, b integer, c integer);  -- expect: ERROR 42601 column list redundant with OUT parameters
\echo :LAST_ERROR_SQLSTATE

-- The declarations both builds must agree on.
-- ANCHOR: declarations
SELECT p.proname, pg_get_function_arguments(p.oid) AS args,
       pg_get_function_result(p.oid) AS result,
       p.provolatile, p.proisstrict, p.proparallel, p.proretset
  FROM pg_proc p
 WHERE p.proname IN ('retcomposite', 'retcomposite_out') AND pg_function_is_visible(p.oid)
 ORDER BY p.proname;
SELECT a.attnum, a.attname, format_type(a.atttypid, a.atttypmod) AS type
  FROM pg_attribute a
 WHERE a.attrelid = '__retcomposite'::regclass AND a.attnum > 0
 ORDER BY a.attnum;
-- ANCHOR_END: declarations

-- Exercise: multiples(count, base), rows (n, n * base) for n = 1 .. count.
-- ANCHOR: multiples
SELECT * FROM multiples(4, 25);
SELECT * FROM multiples(0, 7);
SELECT * FROM multiples(2, 1073741823);  -- 2 * base = 2147483646: fits
SELECT multiples(2147483647, -1) AS r LIMIT 2;  -- one row per call
SELECT * FROM multiples(-1, 7);          -- expect: ERROR 22023 count must not be negative
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM multiples(2, 1073741824);  -- expect: ERROR 22003 the last product overflows
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM multiples(0, -2147483648);  -- 0 * base fits: no rows, no error
-- ANCHOR_END: multiples
SELECT count(*) AS null_count FROM multiples(NULL, 1);
SELECT p.proname, pg_get_function_arguments(p.oid) AS args,
       pg_get_function_result(p.oid) AS result,
       p.provolatile, p.proisstrict, p.proparallel, p.proretset
  FROM pg_proc p
 WHERE p.proname = 'multiples';
