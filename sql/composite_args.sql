--
-- composite_args: a row as an argument, the manual's c_overpaid(emp, integer).
-- Chapter 8 of the book. Run against xfunc (Rust) and xfunc_c (C): same expected output.
--
-- The extension creates the manual's table emp; this file fills it, runs the manual's query,
-- then passes NULL rows, NULL salaries and rows of the wrong type, and changes emp's row type
-- under the function (inside transactions that are rolled back).
-- After each statement meant to fail, \echo :LAST_ERROR_SQLSTATE prints the SQLSTATE it raised.
--

-- ANCHOR: emp_rows
INSERT INTO emp VALUES
    ('Bill',   1000, 30, '(1,1)'),
    ('Sam',    2000, 40, '(1,2)'),
    ('Ginger', NULL, 25, '(2,1)');
-- ANCHOR_END: emp_rows

-- The manual's query.
-- ANCHOR: manual_query
SELECT name, c_overpaid(emp, 1500) AS overpaid
    FROM emp
    WHERE name = 'Bill' OR name = 'Sam';
-- ANCHOR_END: manual_query

-- A NULL salary is "not overpaid"; a NULL row never reaches the function (STRICT).
-- ANCHOR: nulls
SELECT name, salary, c_overpaid(emp, 1500) AS overpaid FROM emp ORDER BY name;
SELECT c_overpaid(NULL::emp, 1500) IS NULL AS null_row_gives_null;
SELECT c_overpaid(e, NULL) IS NULL AS null_limit_gives_null FROM emp e WHERE name = 'Sam';
-- ANCHOR_END: nulls

-- Any value of type emp will do, not only a row read from the table; named notation works too.
-- ANCHOR: row_values
SELECT c_overpaid(ROW('Ann', 1500, 33, NULL)::emp, 1500) AS equal_is_not_over,
       c_overpaid(ROW('Ann', 2147483647, 33, NULL), -2147483648) AS extremes,
       c_overpaid("limit" => 999, emp => ('Bob', 1000, 50, '(0,0)')) AS named;
-- ANCHOR_END: row_values

-- Rows of another type are refused before our code runs.
-- ANCHOR: wrong_rows
CREATE TABLE dept (name text, budget integer);
SELECT c_overpaid(d, 1500) FROM dept d;          -- expect: ERROR 42883 no c_overpaid(dept, ...)
\echo :LAST_ERROR_SQLSTATE
SELECT c_overpaid(ROW('Bill', 1000), 1500);      -- expect: ERROR 42846 two fields, emp has four
\echo :LAST_ERROR_SQLSTATE
SELECT c_overpaid(ROW('Bill', 3000000000, 30, NULL), 1500);  -- expect: ERROR 42846 bigint salary
\echo :LAST_ERROR_SQLSTATE
SELECT c_overpaid('(Bill,3000000000,30,)', 1500);  -- expect: ERROR 22003 salary out of int4 range
\echo :LAST_ERROR_SQLSTATE
-- ANCHOR_END: wrong_rows

-- The row type can change after CREATE FUNCTION: the function checks the column at each call.
-- ANCHOR: altered_emp
BEGIN;
ALTER TABLE emp ALTER COLUMN salary TYPE numeric;
SELECT c_overpaid(emp, 1500) FROM emp WHERE name = 'Sam';     -- expect: ERROR 42804 numeric
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
ALTER TABLE emp ALTER COLUMN salary TYPE bigint;
SELECT c_overpaid(emp, 1500) FROM emp WHERE name = 'Ginger';  -- expect: ERROR 42804 even if NULL
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
-- ANCHOR: dropped_salary
BEGIN;
ALTER TABLE emp DROP COLUMN salary;
SELECT c_overpaid(emp, 1500) FROM emp WHERE name = 'Sam';     -- expect: ERROR 42703 no salary
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
-- ANCHOR_END: dropped_salary
-- ANCHOR_END: altered_emp

-- Rows stored before the change keep their old layout: a row of emp kept in another table's
-- column has no value for a salary column added later (NULL: not overpaid), and a salary
-- renamed or dropped and added again with another type is found by name, checked, refused.
-- ANCHOR: stored_rows
BEGIN;
CREATE TABLE emp_archive (e emp);
INSERT INTO emp_archive SELECT emp FROM emp;
ALTER TABLE emp DROP COLUMN salary;
ALTER TABLE emp ADD COLUMN salary integer;
SELECT (e).name, c_overpaid(e, 1500), overpaid_by(e, 1500) FROM emp_archive ORDER BY 1;
ALTER TABLE emp DROP COLUMN salary;
ALTER TABLE emp ADD COLUMN salary text;
SELECT c_overpaid(e, 1500) FROM emp_archive;          -- expect: ERROR 42804 salary is text now
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
ALTER TABLE emp RENAME COLUMN salary TO pay;
SELECT c_overpaid(emp, 1500) FROM emp;                 -- expect: ERROR 42703 no salary
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
-- ANCHOR_END: stored_rows

-- A domain over integer is still an integer: accepted.
-- ANCHOR: domain_salary
BEGIN;
CREATE DOMAIN pay AS integer CHECK (VALUE >= 0);
ALTER TABLE emp ALTER COLUMN salary TYPE pay;
SELECT name, c_overpaid(emp, 1500) AS overpaid FROM emp ORDER BY name;
ROLLBACK;
-- ANCHOR_END: domain_salary

-- The exercise: overpaid_by(emp, integer) is salary - limit, NULL for a NULL salary, with the
-- subtraction checked and the row type checked as in c_overpaid.
-- ANCHOR: overpaid_by
SELECT name, salary, overpaid_by(emp, 1500) AS by FROM emp ORDER BY name;
SELECT overpaid_by(ROW('Ann', 2147483647, 33, NULL), 0) AS max_over_zero,
       overpaid_by(ROW('Ann', -1, 33, NULL), 2147483647) AS min_int;
SELECT overpaid_by(ROW('Ann', -2147483648, 33, NULL), 1);  -- expect: ERROR 22003 below int4
\echo :LAST_ERROR_SQLSTATE
SELECT overpaid_by(ROW('Ann', 2147483647, 33, NULL), -1);  -- expect: ERROR 22003 above int4
\echo :LAST_ERROR_SQLSTATE
BEGIN;
ALTER TABLE emp ALTER COLUMN salary TYPE text;
SELECT overpaid_by(emp, 1500) FROM emp WHERE name = 'Sam';  -- expect: ERROR 42804 text salary
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
-- ANCHOR_END: overpaid_by

-- What both builds must agree on: the declarations a call finds on the search path, and the
-- table's columns.
SELECT p.proname, pg_get_function_arguments(p.oid) AS args,
       pg_get_function_result(p.oid) AS result,
       p.provolatile, p.proisstrict, p.proparallel
  FROM pg_proc p
 WHERE p.proname IN ('c_overpaid', 'overpaid_by') AND pg_function_is_visible(p.oid)
 ORDER BY p.proname, args;
SELECT attnum, attname, format_type(atttypid, atttypmod) AS type
  FROM pg_attribute
 WHERE attrelid = 'emp'::regclass AND attnum > 0
 ORDER BY attnum;
