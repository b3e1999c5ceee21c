--
-- operators: the operator + of complex and its comparison operators by absolute value, with
-- their optimization clauses (COMMUTATOR, NEGATOR, RESTRICT, JOIN), and what the planner does
-- with and without them. Chapter 18 of the book. Run against xfunc (Rust) and xfunc_c (C):
-- same expected output.
--
-- After each statement meant to fail, \echo :LAST_ERROR_SQLSTATE prints the SQLSTATE it raised.
--

-- The operator + and its function.
-- ANCHOR: add
SELECT '(1.0,2.5)'::complex + '(4.2,3.55)' AS operator,
       complex_add('(1.0,2.5)', '(4.2,3.55)') AS function;
SELECT a + b AS sum, b + a AS commuted
  FROM (VALUES ('(33,51.4)'::complex, '(100.42,93.55)'::complex),
               ('(Infinity,1)', '(-Infinity,1)'), ('(NaN,-0)', '(1,-0)')) AS v(a, b);
SELECT NULL::complex + '(1,1)' IS NULL AS strict_null;
SELECT '(1e308,0)'::complex + '(1e308,0)';  -- expect: ERROR 22003 value out of range: overflow
\echo :LAST_ERROR_SQLSTATE
-- ANCHOR_END: add

-- The comparisons are by absolute value: (3,4) and (-5,0) are "equal". A NaN magnitude is
-- above every other and equal to itself; magnitudes past the largest float8 are all equal.
-- ANCHOR: compare
SELECT a, b, a < b AS lt, a <= b AS le, a = b AS eq, a >= b AS ge, a > b AS gt
  FROM (VALUES ('(3,4)'::complex, '(-5,0)'::complex), ('(1,1)', '(0,1.5)'),
               ('(0,6)', '(3,4)'), ('(NaN,0)', '(Infinity,0)'), ('(NaN,0)', '(0,NaN)'),
               ('(1e200,0)', '(0,-2e200)')) AS v(a, b);
SELECT '(1,1)'::complex < NULL IS NULL AS strict_null;
-- ANCHOR_END: compare

-- What CREATE OPERATOR recorded. A commutator or negator named before it existed was made as
-- a shell operator and filled in when it was defined.
-- ANCHOR: catalog
SELECT o.oprname AS op, o.oprcode AS function, c.oprname AS commutator, n.oprname AS negator,
       o.oprrest AS restrict, o.oprjoin AS join
  FROM pg_operator AS o
       LEFT JOIN pg_operator AS c ON c.oid = o.oprcom
       LEFT JOIN pg_operator AS n ON n.oid = o.oprnegate
 WHERE o.oprleft = 'complex'::regtype
 ORDER BY o.oprcode::text;
-- ANCHOR_END: catalog

-- The same functions again, as operators with no optimization clause at all, in a schema of
-- their own, with a B-tree operator class so that an index can use them too.
-- ANCHOR: bare_operators
CREATE SCHEMA bare;
CREATE OPERATOR bare.< (leftarg = complex, rightarg = complex, function = complex_abs_lt);
CREATE OPERATOR bare.<= (leftarg = complex, rightarg = complex, function = complex_abs_le);
CREATE OPERATOR bare.= (leftarg = complex, rightarg = complex, function = complex_abs_eq);
CREATE OPERATOR bare.>= (leftarg = complex, rightarg = complex, function = complex_abs_ge);
CREATE OPERATOR bare.> (leftarg = complex, rightarg = complex, function = complex_abs_gt);
CREATE OPERATOR CLASS bare.complex_bare_ops FOR TYPE complex USING btree AS
    OPERATOR 1 bare.<, OPERATOR 2 bare.<=, OPERATOR 3 bare.=, OPERATOR 4 bare.>=,
    OPERATOR 5 bare.>, FUNCTION 1 complex_abs_cmp(complex, complex);
-- ANCHOR_END: bare_operators

-- 10,000 values on a grid, indexed once by each operator class, and ANALYZEd: a table this
-- small is sampled whole, so the statistics, and the estimates below, are the same every run.
-- (No autovacuum: the plans must not depend on whether it has run yet.)
-- ANCHOR: table
CREATE TABLE grid (id integer, a complex) WITH (autovacuum_enabled = off);
INSERT INTO grid SELECT i, format('(%s,%s)', i % 100, i / 100)::complex
  FROM generate_series(0, 9999) AS i;
CREATE TABLE few (b complex) WITH (autovacuum_enabled = off);
INSERT INTO few SELECT format('(%s,%s)', i, -i)::complex FROM generate_series(1, 50) AS i;
CREATE INDEX grid_a ON grid (a);
CREATE INDEX grid_a_bare ON grid (a bare.complex_bare_ops);
VACUUM ANALYZE grid, few;
-- ANCHOR_END: table

-- The planner's row estimate for a query, from EXPLAIN, and the rows the query returns.
CREATE FUNCTION pg_temp.estimated_rows(query text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    plan json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || query INTO plan;
    RETURN (plan -> 0 -> 'Plan' ->> 'Plan Rows')::bigint;
END $$;
CREATE FUNCTION pg_temp.actual_rows(query text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    EXECUTE 'SELECT count(*) FROM (' || query || ') AS q' INTO n;
    RETURN n;
END $$;

-- RESTRICT and JOIN: with scalarltsel, eqsel and eqjoinsel the estimates follow the data
-- (ANALYZE's histogram and most common values, sorted by the default operator class's <);
-- without an estimator the planner assumes that half the rows pass (selectivity 0.5).
-- ANCHOR: estimates
SELECT query, pg_temp.estimated_rows(query) AS estimated, pg_temp.actual_rows(query) AS actual
  FROM (VALUES
    ('SELECT * FROM grid WHERE a < ''(30,40)'''),
    ('SELECT * FROM grid WHERE a OPERATOR(bare.<) ''(30,40)'''),
    ('SELECT * FROM grid WHERE a > ''(90,90)'''),
    ('SELECT * FROM grid WHERE a OPERATOR(bare.>) ''(90,90)'''),
    ('SELECT * FROM grid WHERE a = ''(50,0)'''),
    ('SELECT * FROM grid WHERE a OPERATOR(bare.=) ''(50,0)'''),
    ('SELECT * FROM grid JOIN few ON a = b'),
    ('SELECT * FROM grid JOIN few ON a OPERATOR(bare.=) b')) AS q(query);
-- ANCHOR_END: estimates

-- The estimate chooses the plan: a few rows are worth an index scan, half the table is not.
-- ANCHOR: plan_choice
EXPLAIN (COSTS OFF) SELECT * FROM grid WHERE a < '(1,1)';
EXPLAIN (COSTS OFF) SELECT * FROM grid WHERE a OPERATOR(bare.<) '(1,1)';
-- ANCHOR_END: plan_choice

-- From here on, an index scan whenever one is possible.
SET enable_seqscan = off;
SET enable_bitmapscan = off;

-- COMMUTATOR: an index scan needs the indexed column on the left. With a commutator the
-- planner turns '(1,1)' > a into a < '(1,1)'; without one it cannot, and scans the table even
-- when told not to.
-- ANCHOR: commutator
EXPLAIN (COSTS OFF) SELECT * FROM grid WHERE '(1,1)' > a;
EXPLAIN (COSTS OFF) SELECT * FROM grid WHERE '(1,1)' OPERATOR(bare.>) a;
EXPLAIN (COSTS OFF) SELECT * FROM grid WHERE a OPERATOR(bare.<) '(1,1)';
-- ANCHOR_END: commutator

-- NEGATOR: NOT (a < c) becomes a >= c, which the index can answer; without a negator the NOT
-- stays a filter over every row.
-- ANCHOR: negator
EXPLAIN (COSTS OFF) SELECT * FROM grid WHERE NOT (a < '(99,98)');
EXPLAIN (COSTS OFF) SELECT * FROM grid WHERE NOT (a OPERATOR(bare.<) '(99,98)');
SELECT count(*) AS with_negator FROM grid WHERE NOT (a < '(99,98)');
SELECT count(*) AS without_negator FROM grid WHERE NOT (a OPERATOR(bare.<) '(99,98)');
-- ANCHOR_END: negator

RESET enable_seqscan;
RESET enable_bitmapscan;

-- No HASHES, no MERGES: a join on = can only be a nested loop.
-- ANCHOR: join
EXPLAIN (COSTS OFF) SELECT * FROM grid JOIN few ON a = b;
-- ANCHOR_END: join

DROP TABLE grid, few;
SET client_min_messages = warning;
DROP SCHEMA bare CASCADE;
RESET client_min_messages;

-- The declarations both builds must agree on.
SELECT p.proname, pg_get_function_arguments(p.oid) AS args,
       pg_get_function_result(p.oid) AS result,
       p.provolatile, p.proisstrict, p.proparallel
  FROM pg_proc p
 WHERE p.proname IN ('complex_add', 'complex_abs_lt', 'complex_abs_le', 'complex_abs_eq',
                     'complex_abs_ge', 'complex_abs_gt')
 ORDER BY p.proname, args;
