--
-- base_types: values passed by value, by reference (fixed length) and varlena.
-- Chapter 2 of the book. Run against xfunc (Rust) and xfunc_c (C): same expected output.
--
-- After each statement meant to fail, \echo :LAST_ERROR_SQLSTATE prints the SQLSTATE it raised,
-- so expected/ pins the error code as well as the message.
--

-- add_one(integer): int4 by value.
-- ANCHOR: add_one_int4
SELECT add_one(41);
SELECT add_one(-1), add_one(0), add_one(2147483646);
SELECT add_one(-2147483648) AS min_plus_one;
SELECT add_one(NULL) IS NULL AS strict_null;
-- ANCHOR_END: add_one_int4

-- ANCHOR: add_one_int4_overflow
SELECT add_one(2147483647);  -- expect: ERROR 22003 integer out of range
\echo :LAST_ERROR_SQLSTATE
SELECT 2147483647 + 1;       -- the built-in + raises the same error
\echo :LAST_ERROR_SQLSTATE
-- ANCHOR_END: add_one_int4_overflow

-- Wrong types are refused before our code runs.
SELECT add_one('forty-one');  -- expect: ERROR 22P02 invalid input syntax for type integer
\echo :LAST_ERROR_SQLSTATE
SELECT add_one(4000000000);   -- expect: ERROR 42883 no int8 variant
\echo :LAST_ERROR_SQLSTATE

-- The declaration both builds must agree on.
SELECT p.proname, pg_get_function_arguments(p.oid) AS args,
       pg_get_function_result(p.oid) AS result,
       p.provolatile, p.proisstrict, p.proparallel
  FROM pg_proc p
 WHERE p.proname = 'add_one'
 ORDER BY args;
