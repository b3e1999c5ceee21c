--
-- support_functions: a planner support function (pg_proc.prosupport) for multiples(count, base),
-- the set-returning function of chapter 10: SupportRequestRows gives EXPLAIN the true row
-- estimate for a constant count, SupportRequestCost a cost that grows with it.
-- Chapter 16 of the book. Run against xfunc (Rust) and xfunc_c (C): same expected output.
--
-- After each statement meant to fail, \echo :LAST_ERROR_SQLSTATE prints the SQLSTATE it raised.
--

-- The planner's estimates for a query, from EXPLAIN (FORMAT JSON): the top plan node, its row
-- estimate, its startup and total cost, as EXPLAIN prints them (two decimals). With default
-- settings and no table statistics involved, they are the same in every run.
-- ANCHOR: estimate
CREATE FUNCTION pg_temp.estimate(query text,
    OUT node text, OUT plan_rows float8, OUT startup_cost numeric, OUT total_cost numeric)
    LANGUAGE plpgsql AS $$
DECLARE
    plan json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || query INTO plan;
    node := plan->0->'Plan'->>'Node Type';
    plan_rows := (plan->0->'Plan'->>'Plan Rows')::float8;
    startup_cost := (plan->0->'Plan'->>'Startup Cost')::numeric;
    total_cost := (plan->0->'Plan'->>'Total Cost')::numeric;
END $$;
-- ANCHOR_END: estimate

-- The support function is attached: both builds declare the same.
-- ANCHOR: declaration
SELECT p.proname, p.prosupport, s.provolatile, s.proisstrict, s.proparallel,
       pg_get_function_arguments(s.oid) AS support_args,
       pg_get_function_result(s.oid) AS support_result
  FROM pg_proc p JOIN pg_proc s ON s.oid = p.prosupport
 WHERE p.proname = 'multiples';
-- ANCHOR_END: declaration

-- Before: the same function declared again without SUPPORT (same library and symbol). The
-- planner knows only prorows and procost: 1000 rows whatever the count.
CREATE FUNCTION pg_temp.redeclare(fn regproc, decl text) RETURNS void
    LANGUAGE plpgsql AS $$
DECLARE
    lib text;
    sym text;
BEGIN
    SELECT probin, prosrc INTO STRICT lib, sym FROM pg_proc WHERE oid = fn;
    EXECUTE format('CREATE FUNCTION pg_temp.%s AS %L, %L LANGUAGE C IMMUTABLE STRICT', decl, lib, sym);
END $$;
SELECT pg_temp.redeclare('multiples', 'multiples_plain("count" integer, "base" integer) '
    'RETURNS TABLE(n integer, product integer)');
-- ANCHOR: before
SELECT * FROM pg_temp.estimate('SELECT * FROM pg_temp.multiples_plain(10, 3)');
SELECT * FROM pg_temp.estimate('SELECT * FROM pg_temp.multiples_plain(1000000, 3)');
-- ANCHOR_END: before

-- After: with the support function, a constant count is the estimate, and the cost grows
-- with it. In FROM (a Function Scan, whose function cost is all startup: the rows go to a
-- tuplestore first) and in the select list (a ProjectSet).
-- ANCHOR: after
SELECT * FROM pg_temp.estimate('SELECT * FROM multiples(10, 3)');
SELECT * FROM pg_temp.estimate('SELECT * FROM multiples(1000000, 3)');
SELECT * FROM pg_temp.estimate('SELECT multiples(10, 3)');
-- ANCHOR_END: after

-- The argument need only be constant once the planner has folded it: an expression of
-- constants, an immutable function of constants, a parameter of a custom plan.
-- ANCHOR: folded
SELECT * FROM pg_temp.estimate('SELECT * FROM multiples(6 * 7, 3)');
SELECT * FROM pg_temp.estimate('SELECT * FROM multiples(length(''twelve chars''), 3)');
PREPARE m(integer) AS SELECT * FROM multiples($1, 3);
SET plan_cache_mode = force_custom_plan;
SELECT * FROM pg_temp.estimate('EXECUTE m(25)');
RESET plan_cache_mode;
DEALLOCATE m;
-- ANCHOR_END: folded

-- Not a constant: the support function declines, and the planner falls back on prorows.
-- A constant NULL, a negative or a zero count: no rows, which the planner shows as 1 (it
-- never estimates fewer than one row).
-- ANCHOR: declined
SELECT * FROM pg_temp.estimate('SELECT * FROM multiples((random() * 10)::integer, 3)');
SELECT * FROM pg_temp.estimate('SELECT * FROM generate_series(1, 3) g, multiples(g, 3)');
SELECT * FROM pg_temp.estimate('SELECT * FROM multiples(NULL, 3)');
SELECT * FROM pg_temp.estimate('SELECT * FROM multiples(5, NULL)');
SELECT * FROM pg_temp.estimate('SELECT * FROM multiples(-5, 3)');
SELECT * FROM pg_temp.estimate('SELECT * FROM multiples(0, 3)');
-- ANCHOR_END: declined

-- The estimate changes the plan: with 1000 rows estimated on each side the planner sorts both
-- and merges them; knowing that one side has 3 rows, it hashes those 3 and probes the hash
-- with the other side's rows.
-- ANCHOR: join_plan
EXPLAIN (COSTS OFF)
SELECT * FROM pg_temp.multiples_plain(3, 1) a JOIN pg_temp.multiples_plain(1000, 1) b USING (n);
EXPLAIN (COSTS OFF)
SELECT * FROM multiples(3, 1) a JOIN multiples(1000, 1) b USING (n);
-- ANCHOR_END: join_plan

-- The answers do not change: the support function only informs the planner.
SELECT count(*), sum(product) FROM multiples(1000, 3);
SELECT * FROM multiples(3, 1) a JOIN multiples(1000, 1) b USING (n);

-- From SQL, the support function cannot be called at all: no SQL expression yields a value of
-- type internal, not even NULL (a NULL literal is of type unknown, and nothing casts to
-- internal). Only the planner calls it, with a request node.
-- ANCHOR: from_sql
SELECT multiples_support(NULL);           -- expect: ERROR 42883 unknown does not match internal
\echo :LAST_ERROR_SQLSTATE
SELECT multiples_support(NULL::internal); -- expect: ERROR 42846 nothing casts to internal
\echo :LAST_ERROR_SQLSTATE
SELECT multiples_support(1::internal);    -- expect: ERROR 42846 nothing casts to internal
\echo :LAST_ERROR_SQLSTATE
-- ANCHOR_END: from_sql

-- A support function is a superuser's choice: attaching one needs superuser.
-- ANCHOR: superuser
CREATE ROLE regress_support_user;
CREATE FUNCTION pg_temp.other_srf(integer) RETURNS SETOF integer
    LANGUAGE sql AS 'SELECT generate_series(1, $1)';
ALTER FUNCTION pg_temp.other_srf(integer) OWNER TO regress_support_user;
SET ROLE regress_support_user;
ALTER FUNCTION pg_temp.other_srf(integer) SUPPORT multiples_support;  -- expect: ERROR 42501 must be superuser
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- ANCHOR_END: superuser
-- A superuser who attaches it to a function of other arguments gets no estimate, not a wrong
-- one: only an integer constant count is read.
CREATE FUNCTION pg_temp.text_srf(text, text) RETURNS SETOF text
    LANGUAGE sql AS 'SELECT $1 UNION ALL SELECT $2';
ALTER FUNCTION pg_temp.text_srf(text, text) SUPPORT multiples_support;
SELECT * FROM pg_temp.estimate('SELECT * FROM pg_temp.text_srf(''a'', ''b'')');
SELECT * FROM pg_temp.text_srf('a', 'b');
DROP FUNCTION pg_temp.other_srf(integer);
DROP ROLE regress_support_user;

-- A request may come with no planner: inlining an SQL function whose parameter is used twice
-- costs the argument with cost_qual_eval(..., NULL), and SupportRequestCost's root is NULL
-- (supportnodes.h: "could be NULL"). The support function declines it.
-- ANCHOR: no_planner
CREATE FUNCTION pg_temp.twice(integer) RETURNS integer
    LANGUAGE sql IMMUTABLE AS 'SELECT $1 + $1';
SELECT pg_temp.twice((multiples(3, 2)).product);
-- ANCHOR_END: no_planner
