--
-- aggregates: mean(double precision), the twin of the built-in avg(double precision): a
-- transition function that updates its state in place, with final, combine, serial and
-- deserial functions so that the aggregate runs in parallel. Same answers as avg, bit for bit,
-- same errors; what SQL can and cannot do with the support functions.
-- Chapter 20 of the book. Run against xfunc (Rust) and xfunc_c (C): same expected output.
--
-- After each statement meant to fail, \echo :LAST_ERROR_SQLSTATE prints the SQLSTATE it raised.
--

-- The aggregate and its functions, as both builds declare them.
-- ANCHOR: declarations
SELECT a.aggfnoid::regprocedure AS aggregate, a.aggtransfn, a.aggfinalfn, a.aggcombinefn,
       a.aggserialfn, a.aggdeserialfn, a.aggtranstype::regtype, a.agginitval,
       p.proparallel
  FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
 WHERE a.aggfnoid = 'mean(double precision)'::regprocedure;
SELECT p.proname, pg_get_function_arguments(p.oid) AS args,
       pg_get_function_result(p.oid) AS result, p.provolatile, p.proisstrict, p.proparallel
  FROM pg_proc p
 WHERE p.proname LIKE 'float\_mean\_%' AND pg_function_is_visible(p.oid)
 ORDER BY p.proname;
-- ANCHOR_END: declarations

-- Same answers as avg: compared as values and as their bits (float8send), for a mixture of
-- signs and magnitudes, NULLs (skipped), no rows and only NULLs (NULL).
-- ANCHOR: same_as_avg
CREATE TABLE samples (g integer, x double precision);
INSERT INTO samples
SELECT i % 3, CASE WHEN i % 7 = 0 THEN NULL ELSE (i * 7919 % 1000) / 7.0 - 60 END
  FROM generate_series(1, 1000) i;
SELECT g, mean(x), avg(x), float8send(mean(x)) = float8send(avg(x)) AS same_bits
  FROM samples GROUP BY g ORDER BY g;
SELECT mean(x) AS no_rows FROM samples WHERE false;
SELECT mean(x) AS only_nulls FROM samples WHERE x IS NULL;
SELECT mean(x) FILTER (WHERE x > 0) = avg(x) FILTER (WHERE x > 0) AS filtered FROM samples;
-- ANCHOR_END: same_as_avg
SELECT mean(DISTINCT x) = avg(DISTINCT x) AS distinct_same FROM samples;

-- As a window aggregate the final function runs once per row on a state that goes on
-- growing: it must leave the state as it found it.
-- ANCHOR: window
SELECT i, mean(i::float8) OVER w, avg(i::float8) OVER w
  FROM generate_series(1, 5) i
WINDOW w AS (ORDER BY i ROWS BETWEEN 1 PRECEDING AND CURRENT ROW);
SELECT count(*) FILTER (WHERE float8send(m) <> float8send(a)) AS differences
  FROM (SELECT mean(x) OVER w AS m, avg(x) OVER w AS a FROM samples
        WINDOW w AS (PARTITION BY g ORDER BY x ROWS UNBOUNDED PRECEDING)) s;
-- ANCHOR_END: window

-- Infinities and NaN go through as in avg; an overflow of finite inputs is an error, in the
-- sum (Sx) or in the sum of squares (Sxx) that avg keeps for the variance aggregates.
-- ANCHOR: special_values
SELECT mean(x), avg(x) FROM (VALUES (1.0::float8), ('Infinity')) v(x);
SELECT mean(x), avg(x) FROM (VALUES ('Infinity'::float8), ('-Infinity')) v(x);
SELECT mean(x), avg(x) FROM (VALUES (1.0::float8), ('NaN')) v(x);
SELECT mean(x) FROM (VALUES (1e308::float8), (1e308)) v(x);   -- expect: ERROR 22003 Sx overflows
\echo :LAST_ERROR_SQLSTATE
SELECT avg(x) FROM (VALUES (1e308::float8), (1e308)) v(x);    -- expect: ERROR 22003 the built-in too
\echo :LAST_ERROR_SQLSTATE
SELECT mean(x) FROM (VALUES (1e200::float8), (-1e200)) v(x);  -- expect: ERROR 22003 Sxx overflows
\echo :LAST_ERROR_SQLSTATE
SELECT avg(x) FROM (VALUES (1e200::float8), (-1e200)) v(x);   -- expect: ERROR 22003 the built-in too
\echo :LAST_ERROR_SQLSTATE
-- ANCHOR_END: special_values

-- In parallel: each worker (and the leader) aggregates part of the table into a state of its
-- own (Partial Aggregate), serializes it to bytea for the Gather, and the leader deserializes
-- and combines them (Finalize Aggregate). The settings make a parallel plan the cheapest for
-- any table; the table has whole numbers, whose sums are exact in any order.
-- ANCHOR: parallel
CREATE TABLE numbers AS SELECT i::float8 AS x FROM generate_series(1, 100000) i;
ANALYZE numbers;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT mean(x) FROM numbers;
SELECT mean(x), avg(x) FROM numbers;
-- ANCHOR_END: parallel
-- A worker that sees only NULLs sends no state: the combine function gets a NULL.
SELECT mean(NULLIF(x, x)) AS all_null_in_parallel FROM numbers;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

-- SQL cannot call the support functions: they take an argument of type internal, and no SQL
-- expression has that type, not even NULL.
-- ANCHOR: from_sql
SELECT float_mean_state(NULL, 1.0);                 -- expect: ERROR 42883 no match for unknown
\echo :LAST_ERROR_SQLSTATE
SELECT float_mean_finalize(NULL::internal);          -- expect: ERROR 42846 nothing casts to internal
\echo :LAST_ERROR_SQLSTATE
SELECT float_mean_deserial('\x00'::bytea, NULL);     -- expect: ERROR 42883 no match for unknown
\echo :LAST_ERROR_SQLSTATE
-- ANCHOR_END: from_sql

-- Only a superuser can reach them otherwise, by declaring a symbol again with arguments SQL
-- can give (redeclare copies the library and symbol of an existing function). Called as a
-- plain function, every one refuses: an ERROR, not a crash.
CREATE FUNCTION pg_temp.redeclare(fn regprocedure, decl text) RETURNS void
    LANGUAGE plpgsql AS $$
DECLARE
    lib text;
    sym text;
BEGIN
    SELECT probin, prosrc INTO STRICT lib, sym FROM pg_proc WHERE oid = fn;
    EXECUTE format('CREATE FUNCTION pg_temp.%s AS %L, %L LANGUAGE C', decl, lib, sym);
END $$;
-- ANCHOR: plain_call
SELECT pg_temp.redeclare('float_mean_state(internal, double precision)',
    'state_plain(bigint, double precision) RETURNS bigint');
SELECT pg_temp.redeclare('float_mean_deserial(bytea, internal)',
    'deserial_plain(bytea, bigint) RETURNS bigint STRICT');
\set VERBOSITY sqlstate
SELECT pg_temp.state_plain(NULL, 1.0);     -- expect: ERROR XX000 not called as an aggregate
SELECT pg_temp.state_plain(12345, 1.0);    -- expect: ERROR XX000 not an address: never read
\set VERBOSITY default
SELECT pg_temp.deserial_plain('\x00', 0);  -- expect: ERROR XX000 not called as an aggregate
\echo :LAST_ERROR_SQLSTATE
-- ANCHOR_END: plain_call

-- And a superuser can make an aggregate hand it bytes of the wrong size: the deserial
-- function's symbol declared as a transition function whose state is a bytea. Too few bytes,
-- too many: an ERROR each, before anything is read past the end.
-- ANCHOR: bad_bytes
SELECT pg_temp.redeclare('float_mean_deserial(bytea, internal)',
    'deserial_step(bytea, double precision) RETURNS bytea STRICT');
CREATE AGGREGATE pg_temp.deserial_probe(double precision)
    (SFUNC = pg_temp.deserial_step, STYPE = bytea, INITCOND = '\x0102');
SELECT pg_temp.deserial_probe(1.0);        -- expect: ERROR 08P01 2 bytes, not 24
\echo :LAST_ERROR_SQLSTATE
DROP AGGREGATE pg_temp.deserial_probe(double precision);
CREATE AGGREGATE pg_temp.deserial_probe(double precision)
    (SFUNC = pg_temp.deserial_step, STYPE = bytea,
     INITCOND = '\x00000000000000000000000000000000000000000000000000');
SELECT pg_temp.deserial_probe(1.0);        -- expect: ERROR 08P01 25 bytes, not 24
\echo :LAST_ERROR_SQLSTATE
-- ANCHOR_END: bad_bytes

-- Only a superuser can create an aggregate whose state is internal at all.
CREATE ROLE regress_aggregate_user;
SET ROLE regress_aggregate_user;
CREATE AGGREGATE pg_temp.mean_again(double precision) (  -- expect: ERROR 42P13 internal needs superuser
    SFUNC = float_mean_state, STYPE = internal, FINALFUNC = float_mean_finalize);
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
DROP ROLE regress_aggregate_user;
SELECT mean(x) AS still_alive FROM (VALUES (1.0::float8), (2.0)) v(x);
DROP TABLE numbers;
DROP TABLE samples;
