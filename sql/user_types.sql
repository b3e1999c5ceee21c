--
-- user_types: the base type complex (the PostgreSQL tutorial's), its text input and output,
-- its binary receive and send, its storage, and the binary COPY format it gives.
-- Chapter 17 of the book. Run against xfunc (Rust) and xfunc_c (C): same expected output.
--
-- After each statement meant to fail, \echo :LAST_ERROR_SQLSTATE prints the SQLSTATE it raised.
--

-- What CREATE TYPE made: 16 bytes, passed by reference, aligned as a double, stored plain.
-- ANCHOR: catalog
SELECT typname, typlen, typbyval, typalign, typstorage,
       typinput, typoutput, typreceive, typsend, typarray::regtype
  FROM pg_type WHERE typname = 'complex';
SELECT pg_column_size('(1,2)'::complex) AS bytes;
-- ANCHOR_END: catalog

-- Text input: blanks anywhere between the parts; NaN and the infinities are numbers, as they
-- are for float8; a number too small to be a float8 but not zero is kept (a subnormal).
-- ANCHOR: input
SELECT '(1.0, 2.5)'::complex AS a, ' ( 4.2 , 3.55 ) '::complex AS b,
       E'\t(1,\n2)\r\n'::complex AS blanks, '(1e-3,-2E+3)'::complex AS exponents;
SELECT '(NaN,Infinity)'::complex AS special, '(-Infinity,-0)'::complex AS minus,
       '(4.9e-324,1.7976931348623157e308)'::complex AS extremes;
-- ANCHOR_END: input

-- Text output: C's %g, six significant digits, with the e form for exponents below -4 and
-- from 6 on, and trailing zeros dropped.
-- ANCHOR: output
SELECT x AS input, x::complex AS output
  FROM (VALUES ('(1.23456789,-0.000012345678)'), ('(123456,1234567)'), ('(0.0001,0.00001)'),
               ('(999999.5,99999.95)'), ('(1e100,-1e-100)'), ('(100,0.5)')) AS v(x);
-- ANCHOR_END: output

-- Bad input: SQLSTATE 22P02 with the whole input; a number out of float8's range: 22003,
-- as for float8 itself.
-- ANCHOR: bad_input
SELECT ''::complex;              -- expect: ERROR 22P02 empty
\echo :LAST_ERROR_SQLSTATE
SELECT '   '::complex;           -- expect: ERROR 22P02 only blanks
\echo :LAST_ERROR_SQLSTATE
SELECT '(1,2'::complex;          -- expect: ERROR 22P02 no closing parenthesis
\echo :LAST_ERROR_SQLSTATE
SELECT '1,2)'::complex;          -- expect: ERROR 22P02 no opening parenthesis
\echo :LAST_ERROR_SQLSTATE
SELECT '(1,2)x'::complex;        -- expect: ERROR 22P02 something after the parenthesis
\echo :LAST_ERROR_SQLSTATE
SELECT '(1,2)(3,4)'::complex;    -- expect: ERROR 22P02 two values
\echo :LAST_ERROR_SQLSTATE
SELECT '(1 2)'::complex;         -- expect: ERROR 22P02 no comma
\echo :LAST_ERROR_SQLSTATE
SELECT '(1,2,3)'::complex;       -- expect: ERROR 22P02 three numbers
\echo :LAST_ERROR_SQLSTATE
SELECT '(,2)'::complex;          -- expect: ERROR 22P02 a missing number
\echo :LAST_ERROR_SQLSTATE
SELECT '(1,two)'::complex;       -- expect: ERROR 22P02 not a number
\echo :LAST_ERROR_SQLSTATE
SELECT '(1e400,0)'::complex;     -- expect: ERROR 22003 out of range for type double precision
\echo :LAST_ERROR_SQLSTATE
SELECT '(0,-1e-400)'::complex;   -- expect: ERROR 22003 out of range: nonzero, yet rounds to 0
\echo :LAST_ERROR_SQLSTATE
-- ANCHOR_END: bad_input

-- NULLs: the functions are STRICT, so none of them runs for a NULL. complex_recv takes an
-- internal, which no SQL value is, not even a NULL: SQL cannot call it at all.
-- ANCHOR: nulls
SELECT NULL::complex IS NULL AS cast_null, complex_in(NULL) IS NULL AS in_null,
       complex_out(NULL) IS NULL AS out_null, complex_send(NULL) IS NULL AS send_null;
SELECT complex_recv(NULL);            -- expect: ERROR 42883 no function takes unknown
\echo :LAST_ERROR_SQLSTATE
SELECT complex_recv(NULL::internal);  -- expect: ERROR 42846 no value is an internal
\echo :LAST_ERROR_SQLSTATE
-- ANCHOR_END: nulls

-- The support functions called directly: the literal becomes a cstring for complex_in.
-- ANCHOR: direct_calls
SELECT complex_in('(1,2)') AS complex_in, complex_out('(1,2)') AS complex_out,
       pg_typeof(complex_out('(1,2)')) AS out_type, complex_send('(1,-2)') AS complex_send;
SELECT complex_in('(1,2');       -- expect: ERROR 22P02 the same check as a cast
\echo :LAST_ERROR_SQLSTATE
-- ANCHOR_END: direct_calls

-- Every base type gets an array type.
-- ANCHOR: arrays
SELECT '{"(1,2)","(3,4.5)"}'::complex[] AS arr, ARRAY['(5,6)'::complex, NULL] AS with_null,
       pg_column_size(ARRAY['(1,2)'::complex, '(3,4)']) AS array_bytes;
-- ANCHOR_END: arrays

-- The text form keeps six digits, so it does not always read back as the value it came from;
-- the binary form (complex_send) is the value's 16 bytes and tells the difference.
-- ANCHOR: round_trip
CREATE TABLE complex_values (id integer, c complex);
INSERT INTO complex_values VALUES
  (1, '(1.5,-2)'), (2, '(1.23456789,0.1)'), (3, '(NaN,-Infinity)'), (4, '(-0,4.9e-324)');
SELECT id, c, complex_send(c) AS binary_form,
       complex_send(c::text::complex) = complex_send(c) AS text_round_trip
  FROM complex_values ORDER BY id;
-- ANCHOR_END: round_trip

-- Binary COPY: each field is its length and its send function's bytes. The file lands in the
-- data directory, named after the database (each build's regression database has its own).
-- ANCHOR: copy_binary
SELECT current_setting('data_directory') || '/complex_' || current_database() AS copy_file,
       current_setting('data_directory') || '/complex_raw_' || current_database() AS raw_file
\gset
COPY complex_values TO :'copy_file' (FORMAT binary);
SELECT n AS tuple, encode(substr(f, 20 + (n - 1) * 30, 30), 'hex') AS bytes
  FROM pg_read_binary_file(:'copy_file') AS f, generate_series(1, 4) AS n;
CREATE TABLE complex_copy (id integer, c complex);
COPY complex_copy FROM :'copy_file' (FORMAT binary);
SELECT id, copy.c, complex_send(copy.c) = complex_send(v.c) AS same_bytes
  FROM complex_copy AS copy JOIN complex_values AS v USING (id) ORDER BY id;
-- ANCHOR_END: copy_binary

-- A field of another length, written as a bytea column of the same shape: complex_recv reads
-- 16 bytes; with 8 it runs out of message (08P01), with 24 the caller finds bytes left over
-- (22P03). Any 16 bytes are a complex.
-- ANCHOR: copy_bad_length
TRUNCATE complex_copy;
CREATE TABLE raw_fields (id integer, c bytea);
INSERT INTO raw_fields VALUES (1, '\x3ff0000000000000');
COPY raw_fields TO :'raw_file' (FORMAT binary);
COPY complex_copy FROM :'raw_file' (FORMAT binary);  -- expect: ERROR 08P01 8 bytes
\echo :LAST_ERROR_SQLSTATE
UPDATE raw_fields SET c = c || c || c;
COPY raw_fields TO :'raw_file' (FORMAT binary);
COPY complex_copy FROM :'raw_file' (FORMAT binary);  -- expect: ERROR 22P03 24 bytes
\echo :LAST_ERROR_SQLSTATE
UPDATE raw_fields SET c = '\x7ff8000000000001fff0000000000000';
COPY raw_fields TO :'raw_file' (FORMAT binary);
COPY complex_copy FROM :'raw_file' (FORMAT binary);
SELECT id, c, complex_send(c) FROM complex_copy;
-- ANCHOR_END: copy_bad_length

DROP TABLE complex_values, complex_copy, raw_fields;

-- The declarations both builds must agree on.
SELECT p.proname, pg_get_function_arguments(p.oid) AS args,
       pg_get_function_result(p.oid) AS result,
       p.provolatile, p.proisstrict, p.proparallel
  FROM pg_proc p
 WHERE p.proname IN ('complex_in', 'complex_out', 'complex_recv', 'complex_send')
 ORDER BY p.proname, args;
