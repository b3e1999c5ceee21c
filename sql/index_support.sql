--
-- index_support: the B-tree operator class complex_abs_ops and its support function
-- complex_abs_cmp: an index over complex, the queries that use it, and amcheck's verdict on
-- the index each build makes. Chapter 19 of the book. Run against xfunc (Rust) and xfunc_c
-- (C): same expected output.
--
-- After each statement meant to fail, \echo :LAST_ERROR_SQLSTATE prints the SQLSTATE it raised.
--

-- The operator class: the default one for complex and btree, its five strategies and its
-- support function.
-- ANCHOR: catalog
SELECT c.opcname, c.opcdefault, am.amname, c.opcintype::regtype
  FROM pg_opclass AS c JOIN pg_am AS am ON am.oid = c.opcmethod
 WHERE c.opcname = 'complex_abs_ops';
SELECT o.amopstrategy AS strategy, o.amopopr::regoperator AS operator
  FROM pg_amop AS o JOIN pg_opclass AS c ON c.opcfamily = o.amopfamily
 WHERE c.opcname = 'complex_abs_ops' ORDER BY strategy;
SELECT p.amprocnum AS support, p.amproc::regprocedure AS function
  FROM pg_amproc AS p JOIN pg_opclass AS c ON c.opcfamily = p.amprocfamily
 WHERE c.opcname = 'complex_abs_ops';
-- ANCHOR_END: catalog

-- The support function: below, at or above zero, as the operators say.
-- ANCHOR: cmp
SELECT a, b, complex_abs_cmp(a, b) AS cmp, a < b AS lt, a = b AS eq, a > b AS gt
  FROM (VALUES ('(3,4)'::complex, '(0,6)'::complex), ('(3,4)', '(-5,0)'), ('(0,6)', '(3,4)'),
               ('(NaN,1)', '(Infinity,0)'), ('(0,NaN)', '(NaN,0)')) AS v(a, b);
SELECT complex_abs_cmp(NULL, '(1,1)') IS NULL AS strict_null;
-- ANCHOR_END: cmp

-- A table with an index on its complex column: no USING or operator class needed, since
-- complex_abs_ops is the default for complex and btree. (No autovacuum: the plans below must
-- not depend on whether it has run yet.)
-- ANCHOR: index
CREATE TABLE complex_index (id integer, a complex) WITH (autovacuum_enabled = off);
INSERT INTO complex_index SELECT i, format('(%s,%s)', i % 37 - 18, i % 23 - 11)::complex
  FROM generate_series(1, 5000) AS i;
INSERT INTO complex_index VALUES
  (5001, '(NaN,0)'), (5002, '(Infinity,0)'), (5003, '(-0,0)'), (5004, NULL);
CREATE INDEX complex_index_a ON complex_index (a);
VACUUM ANALYZE complex_index;
-- ANCHOR_END: index

-- The index answers the comparisons, and gives the rows in its order for ORDER BY.
-- ANCHOR: explain
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id, a FROM complex_index WHERE a = '(5,0)';
SELECT id, a FROM complex_index WHERE a = '(5,0)' ORDER BY id LIMIT 6;
EXPLAIN (COSTS OFF) SELECT a FROM complex_index WHERE a IS NOT NULL ORDER BY a DESC LIMIT 4;
SELECT a FROM complex_index WHERE a IS NOT NULL ORDER BY a DESC LIMIT 4;
EXPLAIN (COSTS OFF) SELECT count(*) FROM complex_index WHERE a <= '(1,1)';
-- ANCHOR_END: explain

-- The index and a sequential scan agree on every comparison. Each count of by_index is a
-- query whose WHERE clause is an index condition, with the heap reachable only through the
-- index (the plan of the <= query above).
-- ANCHOR: agree
SET enable_bitmapscan = off;
CREATE TEMP TABLE by_index AS
  SELECT '<' AS op, count(*) AS n FROM complex_index WHERE a < '(3,4)'
  UNION ALL SELECT '<=', count(*) FROM complex_index WHERE a <= '(3,4)'
  UNION ALL SELECT '=', count(*) FROM complex_index WHERE a = '(3,4)'
  UNION ALL SELECT '>=', count(*) FROM complex_index WHERE a >= '(3,4)'
  UNION ALL SELECT '>', count(*) FROM complex_index WHERE a > '(3,4)';
RESET enable_seqscan;
SET enable_indexscan = off;
SET enable_indexonlyscan = off;
SET enable_bitmapscan = off;
SELECT op, i.n AS by_index, count(*) AS by_scan
  FROM by_index AS i JOIN complex_index AS t ON CASE op
         WHEN '<' THEN t.a < '(3,4)' WHEN '<=' THEN t.a <= '(3,4)' WHEN '=' THEN t.a = '(3,4)'
         WHEN '>=' THEN t.a >= '(3,4)' ELSE t.a > '(3,4)' END
 GROUP BY op, i.n ORDER BY op;
RESET enable_indexscan;
RESET enable_indexonlyscan;
RESET enable_bitmapscan;
-- ANCHOR_END: agree

-- amcheck checks the index against the operator class: every page in the order
-- complex_abs_cmp gives, every heap row in the index (heapallindexed), and, with the parent
-- check, every downlink against its child page.
-- ANCHOR: amcheck
CREATE EXTENSION amcheck;
SELECT bt_index_check('complex_index_a', true);
SELECT bt_index_parent_check('complex_index_a', true);
-- ANCHOR_END: amcheck

-- A unique index is unique by absolute value: (3,4) and (-5,0) are the same key.
-- ANCHOR: unique
CREATE TABLE complex_unique (a complex UNIQUE);
INSERT INTO complex_unique VALUES ('(3,4)'), ('(0,1)');
INSERT INTO complex_unique VALUES ('(-5,0)');  -- expect: ERROR 23505 duplicate key value
\echo :LAST_ERROR_SQLSTATE
-- ANCHOR_END: unique

DROP TABLE complex_index, complex_unique;
DROP EXTENSION amcheck;

-- The declarations both builds must agree on.
SELECT p.proname, pg_get_function_arguments(p.oid) AS args,
       pg_get_function_result(p.oid) AS result,
       p.provolatile, p.proisstrict, p.proparallel
  FROM pg_proc p
 WHERE p.proname IN ('complex_abs_cmp')
 ORDER BY p.proname, args;
