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
SELECT add_one(NULL::integer) IS NULL AS strict_null;
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

-- add_one(double precision): float8, by value. float8_pl semantics, side by side with the
-- built-in +: NaN and infinities propagate; 1 added to the largest float8 rounds back to it;
-- from 2^53 to 2^54, where float8 values are 2 apart, x + 1 is a tie rounded to even: 2^53
-- stays, 2^53 + 2 becomes 2^53 + 4.
-- ANCHOR: add_one_float8
SELECT add_one(41.5::float8), add_one(-1.5::float8), add_one(0.1::float8) = 0.1::float8 + 1;
SELECT x, add_one(x) AS add_one, x + 1 AS builtin
  FROM (VALUES ('NaN'::float8), ('Infinity'), ('-Infinity'),
               ('1.7976931348623157e308'), ('-0'), ('4.9e-324'),
               ('9007199254740992'), ('9007199254740994')) AS v(x);
SELECT add_one(NULL::float8) IS NULL AS strict_null;
-- ANCHOR_END: add_one_float8

-- Which overload a call picks: an integer literal finds add_one(integer); a numeric literal or
-- an untyped NULL, the double precision one (numeric casts implicitly to float8 only, and
-- float8 is the preferred type of the numeric category).
-- ANCHOR: add_one_overloads
SELECT pg_typeof(add_one(1)) AS integer_literal, pg_typeof(add_one(1.5)) AS numeric_literal,
       pg_typeof(add_one(NULL)) AS untyped_null;
-- ANCHOR_END: add_one_overloads

-- No finite float8 overflows when 1 is added; the check add_one shares with float8_pl fires
-- when two finite values sum past the largest float8:
-- ANCHOR: float8_overflow
SELECT 1e308::float8 + 1e308::float8;  -- expect: ERROR 22003 value out of range: overflow
\echo :LAST_ERROR_SQLSTATE
-- ANCHOR_END: float8_overflow

-- makepoint(point, point): fixed length, by reference. x from the first, y from the second.
-- ANCHOR: makepoint
SELECT makepoint(point(1, 2), point(3, 4));
SELECT makepoint('(-1.5,NaN)', '(Infinity,-0)');
SELECT makepoint(p, q) FROM (VALUES (point(1, 2), point(3, 4))) AS v(p, q);
SELECT makepoint(NULL, point(3, 4)) IS NULL AS strict_null;
-- ANCHOR_END: makepoint
-- The inputs are not changed: read both back after the call.
CREATE TEMP TABLE points (p point, q point);
INSERT INTO points VALUES (point(1, 2), point(3, 4));
SELECT makepoint(p, q), p, q FROM points;
SELECT makepoint('(1,2,3)', point(3, 4));  -- expect: ERROR 22P02 invalid input syntax for type point
\echo :LAST_ERROR_SQLSTATE

-- add_points(point, point), the chapter's exercise: the built-in point + point, side by side.
-- ANCHOR: add_points
SELECT add_points(point(1, 2), point(3, 4)), point(1, 2) + point(3, 4) AS builtin;
SELECT add_points(p, q), p + q AS builtin
  FROM (VALUES (point(-1.5, 0.25), point(1e300, -2)),
               (point('NaN', 'Infinity'), point(1, '-Infinity'))) AS v(p, q);
SELECT add_points(NULL, point(3, 4)) IS NULL AS strict_null;
SELECT add_points('(1e308,0)', '(1e308,0)');  -- expect: ERROR 22003 value out of range: overflow
\echo :LAST_ERROR_SQLSTATE
SELECT point(1e308, 0) + point(1e308, 0);     -- the built-in raises the same error
\echo :LAST_ERROR_SQLSTATE
SELECT add_points(point(1, 2), '(3)');        -- expect: ERROR 22P02 invalid input syntax for type point
\echo :LAST_ERROR_SQLSTATE
-- ANCHOR_END: add_points

-- copytext(text) and concat_text(text, text): varlena. Empty and multibyte strings.
-- ANCHOR: copytext
SELECT copytext('Hello, world'), copytext(''), copytext('Grüße, 世界 🐘');
SELECT octet_length(copytext('Grüße, 世界 🐘')), length(copytext('Grüße, 世界 🐘'));
SELECT copytext(NULL) IS NULL AS strict_null;
-- ANCHOR_END: copytext
-- ANCHOR: concat_text
SELECT concat_text('Hello, ', 'world'), concat_text('', ''), concat_text('', 'x'),
       concat_text('Grüße, ', '世界 🐘');
SELECT concat_text('x', NULL) IS NULL AS strict_null;
-- ANCHOR_END: concat_text

-- The same functions on each representation of a stored text. Each table's storage is checked
-- with pg_column_size (bytes stored), pg_column_compression and the size of its TOAST table.
-- ANCHOR: toast_setup
-- A short value in a table row has a 1-byte header (stored size = data + 1).
CREATE TEMP TABLE short_text (t text);
INSERT INTO short_text VALUES ('Grüße, 世界 🐘');
-- EXTERNAL: out of line in the TOAST table, never compressed.
CREATE TEMP TABLE external_text (t text);
ALTER TABLE external_text ALTER COLUMN t SET STORAGE EXTERNAL;
INSERT INTO external_text VALUES (repeat('Grüße ', 10000));
-- MAIN: compressed, kept in the row.
CREATE TEMP TABLE compressed_text (t text);
ALTER TABLE compressed_text ALTER COLUMN t SET STORAGE MAIN;
INSERT INTO compressed_text VALUES (repeat('abc', 5000));
SELECT 'short' AS tbl, octet_length(t), pg_column_size(t), pg_column_compression(t),
       pg_relation_size(reltoastrelid) > 0 AS in_toast_table
  FROM short_text, pg_class WHERE oid = 'short_text'::regclass
UNION ALL
SELECT 'external', octet_length(t), pg_column_size(t), pg_column_compression(t),
       pg_relation_size(reltoastrelid) > 0
  FROM external_text, pg_class WHERE oid = 'external_text'::regclass
UNION ALL
SELECT 'compressed', octet_length(t), pg_column_size(t), pg_column_compression(t),
       pg_relation_size(reltoastrelid) > 0
  FROM compressed_text, pg_class WHERE oid = 'compressed_text'::regclass;
-- ANCHOR_END: toast_setup
-- Each result is a plain value with a 4-byte header (stored size = data + 4), equal to its input.
-- ANCHOR: toast_inputs
SELECT copytext(t) = t AS same, pg_column_size(copytext(t)) AS result_size FROM short_text;
SELECT copytext(t) = t AS same, pg_column_size(copytext(t)) AS result_size FROM external_text;
SELECT copytext(t) = t AS same, pg_column_size(copytext(t)) AS result_size FROM compressed_text;
SELECT concat_text(s.t, e.t) = s.t || e.t AS short_external,
       concat_text(e.t, c.t) = e.t || c.t AS external_compressed,
       concat_text(c.t, s.t) = c.t || s.t AS compressed_short,
       pg_column_size(concat_text(c.t, s.t)) AS result_size
  FROM short_text s, external_text e, compressed_text c;
-- ANCHOR_END: toast_inputs

-- A result over the 1 GB varlena limit is refused before anything is allocated. The 512 MB
-- input is built once, at run time: n comes from a table function, so the planner cannot fold
-- repeat() into a 512 MB constant, and OFFSET 0 keeps the subquery from being inlined into
-- both arguments.
-- ANCHOR: concat_text_too_large
SELECT concat_text(t, t)  -- expect: ERROR 54000 requested length too large
  FROM (SELECT repeat(repeat('x', 1024 * 1024), n) AS t
          FROM generate_series(512, 512) AS n OFFSET 0) AS s;
\echo :LAST_ERROR_SQLSTATE
SELECT t || t             -- the built-in: palloc refuses the request itself
  FROM (SELECT repeat(repeat('x', 1024 * 1024), n) AS t
          FROM generate_series(512, 512) AS n OFFSET 0) AS s;
\echo :LAST_ERROR_SQLSTATE
-- ANCHOR_END: concat_text_too_large

-- The exact limit: a result of 1073741818 bytes (a varlena of MaxAllocSize - 1 bytes with its
-- 4-byte header) is the largest both builds return; one byte more is 54000.
-- ANCHOR: concat_text_limit
SELECT octet_length(concat_text(a, b)) AS result_length
  FROM (SELECT repeat(repeat('x', 1048576), n) AS a,
               repeat(repeat('y', 1048576), n - 1) || repeat('y', 1048570) AS b
          FROM generate_series(512, 512) AS n OFFSET 0) AS s;
SELECT octet_length(concat_text(a, b))  -- expect: ERROR 54000 one byte over the limit
  FROM (SELECT repeat(repeat('x', 1048576), n) AS a,
               repeat(repeat('y', 1048576), n - 1) || repeat('y', 1048571) AS b
          FROM generate_series(512, 512) AS n OFFSET 0) AS s;
\echo :LAST_ERROR_SQLSTATE
-- ANCHOR_END: concat_text_limit

-- The declaration both builds must agree on (the one a call finds on the search path).
SELECT p.proname, pg_get_function_arguments(p.oid) AS args,
       pg_get_function_result(p.oid) AS result,
       p.provolatile, p.proisstrict, p.proparallel
  FROM pg_proc p
 WHERE p.proname IN ('add_one', 'makepoint', 'add_points', 'copytext', 'concat_text')
   AND pg_function_is_visible(p.oid)
 ORDER BY p.proname, args;
