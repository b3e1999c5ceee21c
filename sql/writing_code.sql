--
-- writing_code: the manual's rules for writing C-language functions, shown in both builds:
-- where palloc'd memory lives, and why the padding of a struct must be zeroed.
-- Chapter 5 of the book. Run against xfunc (Rust) and xfunc_c (C): same expected output.
--

-- Called for each row, a function allocates in the per-tuple expression context, which the
-- executor resets between rows: nothing needs pfree.
-- ANCHOR: memory_context_name
SELECT memory_context_name();
SELECT DISTINCT memory_context_name() FROM generate_series(1, 3);
-- ANCHOR_END: memory_context_name

-- A struct {int16 a; int64 b} has 6 bytes of padding after a. Its raw bytes, as a bytea
-- (x86-64 and AArch64 are little-endian: a = 1 is 01 00, b = 2 is 02 00 .. 00).
-- ANCHOR: padded_pair
SELECT padded_pair(1::smallint, 2);
SELECT padded_pair(1::smallint, 2) = padded_pair(1::smallint, 2) AS equal_bytes,
       md5(padded_pair(1::smallint, 2)) = md5(padded_pair(1::smallint, 2)) AS equal_md5;
SELECT padded_pair(-1::smallint, -1), padded_pair(32767::smallint, 9223372036854775807);
SELECT padded_pair(NULL, 2) IS NULL AS strict_null_a,
       padded_pair(1::smallint, NULL) IS NULL AS strict_null_b;
-- ANCHOR_END: padded_pair

-- The bug: the same pair, but the padding keeps what was in the memory before (here 7f).
-- Anything that hashes or compares the bytes sees two different values.
-- ANCHOR: padded_pair_unzeroed
SELECT padded_pair_unzeroed(1::smallint, 2);
SELECT padded_pair_unzeroed(1::smallint, 2) = padded_pair(1::smallint, 2) AS equal_bytes,
       md5(padded_pair_unzeroed(1::smallint, 2)) = md5(padded_pair(1::smallint, 2)) AS equal_md5;
SELECT count(DISTINCT bytes) AS distinct_values
  FROM (VALUES (padded_pair(1::smallint, 2)),
               (padded_pair_unzeroed(1::smallint, 2)),
               (padded_pair(1::smallint, 2))) AS v(bytes);
-- ANCHOR_END: padded_pair_unzeroed

-- The chapter's exercise: the padding made a field, set like the others. palloc, not palloc0,
-- and the same bytes as padded_pair.
-- ANCHOR: padded_pair_explicit
SELECT padded_pair_explicit(1::smallint, 2);
SELECT padded_pair_explicit(1::smallint, 2) = padded_pair(1::smallint, 2) AS same_1_2,
       padded_pair_explicit(-1::smallint, -1) = padded_pair(-1::smallint, -1) AS same_minus_1;
SELECT padded_pair_explicit(NULL, 2) IS NULL AS strict_null;
SELECT padded_pair_explicit(32768::smallint, 0);  -- expect: ERROR 22003 smallint out of range
\echo :LAST_ERROR_SQLSTATE
-- ANCHOR_END: padded_pair_explicit

-- Bad input is refused before our code runs. (A bare 1 is an integer, which PostgreSQL does
-- not narrow to smallint implicitly: hence the casts.)
SELECT padded_pair(32768::smallint, 0);  -- expect: ERROR 22003 smallint out of range
\echo :LAST_ERROR_SQLSTATE
SELECT padded_pair(1::smallint, '9223372036854775808');  -- expect: ERROR 22003 out of range for bigint
\echo :LAST_ERROR_SQLSTATE
SELECT padded_pair('', 0);  -- expect: ERROR 22P02 invalid input syntax for type smallint
\echo :LAST_ERROR_SQLSTATE

-- The declarations both builds must agree on.
SELECT p.proname, pg_get_function_arguments(p.oid) AS args,
       pg_get_function_result(p.oid) AS result,
       p.provolatile, p.proisstrict, p.proparallel
  FROM pg_proc p
 WHERE p.proname IN ('memory_context_name', 'padded_pair', 'padded_pair_unzeroed',
                     'padded_pair_explicit')
 ORDER BY p.proname, args;
