--
-- v1_calling: the version-1 calling convention. NULL arguments in a non-STRICT function,
-- working on a copy of an input, fetching a slice of a TOASTed value.
-- Chapter 4 of the book (and chapter 3, for the version-0 convention that is gone).
-- Run against xfunc (Rust) and xfunc_c (C): same expected output.
--
-- After each statement meant to fail, \echo :LAST_ERROR_SQLSTATE prints the SQLSTATE it raised,
-- so expected/ pins the error code as well as the message.
--

-- add_nullable(a, b): not STRICT, so it is called with NULLs and decides itself.
-- ANCHOR: add_nullable
SELECT add_nullable(40, 2), add_nullable(NULL, 2), add_nullable(40, NULL);
SELECT add_nullable(NULL, NULL) IS NULL AS both_null;
SELECT add_nullable(2147483647, NULL) AS max_and_null, add_nullable(-2147483648, 0) AS min;
-- ANCHOR_END: add_nullable

-- ANCHOR: add_nullable_overflow
SELECT add_nullable(2147483647, 1);    -- expect: ERROR 22003 integer out of range
\echo :LAST_ERROR_SQLSTATE
SELECT add_nullable(-2147483648, -1);  -- expect: ERROR 22003 integer out of range
\echo :LAST_ERROR_SQLSTATE
-- ANCHOR_END: add_nullable_overflow

-- Compare a STRICT function: PostgreSQL returns NULL without calling it.
-- ANCHOR: strict_vs_not
SELECT add_one(NULL) AS strict_add_one, add_nullable(NULL, 1) AS not_strict;
-- ANCHOR_END: strict_vs_not

-- reverse_bytes(bytes): works on a copy of its input.
-- ANCHOR: reverse_bytes
SELECT reverse_bytes('\x0102030405'), reverse_bytes('\x01'), reverse_bytes('');
SELECT reverse_bytes(NULL) IS NULL AS strict_null;
-- Bytes, not characters: a multibyte character comes out as invalid UTF-8.
SELECT reverse_bytes(convert_to('héllo', 'UTF8')) AS reversed_utf8;
SELECT convert_from(reverse_bytes(convert_to('héllo', 'UTF8')), 'UTF8');  -- expect: ERROR 22021
\echo :LAST_ERROR_SQLSTATE
-- ANCHOR_END: reverse_bytes

-- The stored value is untouched. 400 bytes is stored inline and uncompressed, so without the
-- copy the function would be handed a pointer into the table's buffer page.
-- ANCHOR: reverse_bytes_copy
CREATE TABLE stored_bytes (b bytea);
INSERT INTO stored_bytes SELECT decode(repeat('00010203', 100), 'hex');
SELECT md5(b) AS before FROM stored_bytes \gset
SELECT substr(reverse_bytes(b), 1, 8) AS reversed, substr(b, 1, 8) AS same_row
  FROM stored_bytes;
SELECT md5(b) = :'before' AS unchanged, pg_column_size(b) AS stored_size FROM stored_bytes;
-- ANCHOR_END: reverse_bytes_copy

-- A compressed input: PG_GETARG_BYTEA_P_COPY decompresses it into the copy, then it is reversed.
-- ANCHOR: reverse_bytes_toasted
INSERT INTO stored_bytes SELECT convert_to(repeat('abcdefgh', 200000), 'UTF8');
SELECT length(b) AS bytes, pg_column_size(b) < length(b) AS compressed,
       reverse_bytes(reverse_bytes(b)) = b AS round_trip,
       substr(reverse_bytes(b), 1, 8) AS first_reversed
  FROM stored_bytes WHERE length(b) > 400;
-- ANCHOR_END: reverse_bytes_toasted

-- The largest result both builds return: 1073741818 bytes, a varlena of MaxAllocSize - 1 with
-- its 4-byte header (the limit of pgrx's conversion, chapter 2's concat_text). Its copy is one
-- allocation of that size, which may fail (an ERROR) but never aborts the backend. One byte
-- more is 54000, though PostgreSQL can hold that bytea. The input is built at run time from
-- 1 MB pieces (n comes from a table function; OFFSET 0 keeps the planner from folding it).
-- ANCHOR: reverse_bytes_largest
SELECT octet_length(r) AS length, get_byte(r, 0) = ascii('y') AS last_byte_first
  FROM (SELECT reverse_bytes(convert_to(
                   repeat(repeat('x', 1048576), n) || repeat('x', 1048569) || 'y', 'UTF8')) AS r
          FROM generate_series(1023, 1023) AS n OFFSET 0) AS s;
SELECT octet_length(reverse_bytes(convert_to(  -- expect: ERROR 54000 one byte over the limit
           repeat(repeat('x', 1048576), n) || repeat('x', 1048570) || 'y', 'UTF8')))
  FROM generate_series(1023, 1023) AS n OFFSET 0;
\echo :LAST_ERROR_SQLSTATE
-- ANCHOR_END: reverse_bytes_largest

-- text_prefix(string, n): the first n characters.
-- ANCHOR: text_prefix
SELECT text_prefix('PostgreSQL', 4), text_prefix('PostgreSQL', 0), text_prefix('PostgreSQL', 99);
SELECT text_prefix('', 3) = '' AS empty_in_empty_out;
SELECT text_prefix(NULL, 3) IS NULL AS null_string, text_prefix('abc', NULL) IS NULL AS null_n;
-- n counts characters, not bytes: é is 2 bytes in UTF-8, the elephant 4.
SELECT text_prefix('héllo 🐘!', 2) AS two, text_prefix('héllo 🐘!', 7) AS seven,
       octet_length(text_prefix('héllo 🐘!', 7)) AS bytes;
SELECT text_prefix('abc', 2147483647) AS huge_n;
-- ANCHOR_END: text_prefix

-- A negative length is an error, SQLSTATE 22011, as for substr(); left() would instead drop
-- characters from the end, which needs the whole value.
-- ANCHOR: text_prefix_negative
SELECT text_prefix('abc', -1);  -- expect: ERROR 22011 negative prefix length not allowed
\echo :LAST_ERROR_SQLSTATE
SELECT substr('abc', 1, -1);    -- the built-in raises the same SQLSTATE
\echo :LAST_ERROR_SQLSTATE
-- ANCHOR_END: text_prefix_negative

-- A 1 MB value stored EXTERNAL: out of line, uncompressed, in about 2 kB chunks in the table's
-- TOAST table, four to a page.
-- ANCHOR: text_prefix_external
CREATE TABLE big_text (v text);
ALTER TABLE big_text ALTER COLUMN v SET STORAGE EXTERNAL;
INSERT INTO big_text VALUES (repeat('0123456789', 100000));
SELECT octet_length(v) AS bytes, pg_column_size(v) AS stored,
       pg_relation_size(reltoastrelid) / current_setting('block_size')::int AS toast_pages
  FROM big_text, pg_class WHERE relname = 'big_text';
-- ANCHOR_END: text_prefix_external

-- How many pages of the TOAST table a query reads: pg_stat_get_xact_blocks_fetched counts this
-- transaction's buffer requests for a relation, so the difference around one query is its own.
-- ANCHOR: toast_pages_read
CREATE FUNCTION toast_pages_read(query text, tbl text = 'big_text') RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    toast oid := (SELECT reltoastrelid FROM pg_class WHERE relname = tbl);
    before bigint := pg_stat_get_xact_blocks_fetched(toast);
BEGIN
    EXECUTE query;
    RETURN pg_stat_get_xact_blocks_fetched(toast) - before;
END $$;
-- ANCHOR_END: toast_pages_read

-- text_prefix reads one page, like the built-in substr() that also fetches a slice;
-- a function that needs the whole value (md5) reads all of them.
-- ANCHOR: text_prefix_slice
SELECT toast_pages_read('SELECT text_prefix(v, 10) FROM big_text') AS text_prefix_10,
       toast_pages_read('SELECT text_prefix(v, 0) FROM big_text') AS text_prefix_0,
       toast_pages_read('SELECT text_prefix(v, 3000) FROM big_text') AS text_prefix_3000,
       toast_pages_read('SELECT substr(v, 1, 10) FROM big_text') AS substr_10,
       toast_pages_read('SELECT md5(v) FROM big_text') AS md5;
SELECT text_prefix(v, 12) AS prefix, text_prefix(v, 3000) = substr(v, 1, 3000) AS same_as_substr
  FROM big_text;
-- ANCHOR_END: text_prefix_slice

-- The same value compressed (the default storage, EXTENDED): the slice is decompressed only
-- as far as it needs.
-- ANCHOR: text_prefix_compressed
CREATE TABLE compressed_text (v text);
INSERT INTO compressed_text VALUES (repeat('0123456789', 100000));
SELECT pg_column_size(v) < octet_length(v) AS compressed, text_prefix(v, 12) AS prefix,
       text_prefix(v, 999999) = substr(v, 1, 999999) AS same_as_substr
  FROM compressed_text;
-- ANCHOR_END: text_prefix_compressed

-- A slice can end inside a character: '€' takes 3 bytes, so the 4 bytes fetched for one
-- character hold one '€' and a third of the next; only whole characters are returned.
-- ANCHOR: text_prefix_cut
CREATE TABLE euro_text (v text);
ALTER TABLE euro_text ALTER COLUMN v SET STORAGE EXTERNAL;
INSERT INTO euro_text VALUES (repeat('€', 100000));
SELECT text_prefix(v, 1) AS one, text_prefix(v, 5) AS five,
       octet_length(text_prefix(v, 1000)) AS bytes_1000,
       text_prefix(v, 1000) = substr(v, 1, 1000) AS same_as_substr
  FROM euro_text;
-- ANCHOR_END: text_prefix_cut

-- bytes_prefix(bytes, n), the chapter's exercise: the first n bytes, a slice of a bytea.
-- ANCHOR: bytes_prefix
SELECT bytes_prefix('\x0102030405', 2) AS two, bytes_prefix('\x0102030405', 0) AS zero,
       bytes_prefix('\x0102030405', 99) AS all_of_it;
SELECT bytes_prefix(NULL, 1) IS NULL AS null_bytes, bytes_prefix('\x01', NULL) IS NULL AS null_n;
-- Bytes, not characters: two bytes of 'héllo' end inside the é.
SELECT bytes_prefix(convert_to('héllo', 'UTF8'), 2) AS cut;
SELECT bytes_prefix('\x01', -1);  -- expect: ERROR 22011 negative prefix length not allowed
\echo :LAST_ERROR_SQLSTATE
-- A 1 MB value stored out of line: one page of the TOAST table read for 10 bytes.
CREATE TABLE big_bytes (b bytea);
ALTER TABLE big_bytes ALTER COLUMN b SET STORAGE EXTERNAL;
INSERT INTO big_bytes SELECT convert_to(repeat('0123456789', 100000), 'UTF8');
SELECT toast_pages_read('SELECT bytes_prefix(b, 10) FROM big_bytes', 'big_bytes') AS pages_10,
       toast_pages_read('SELECT md5(b) FROM big_bytes', 'big_bytes') AS pages_md5;
SELECT bytes_prefix(b, 10) AS prefix, bytes_prefix(b, 5000) = substr(b, 1, 5000) AS same_as_substr,
       length(bytes_prefix(b, 2147483647)) AS whole_length
  FROM big_bytes;
-- ANCHOR_END: bytes_prefix

DROP TABLE stored_bytes, big_text, compressed_text, euro_text, big_bytes;
DROP FUNCTION toast_pages_read(text, text);

-- No version 0: a symbol without its PG_FUNCTION_INFO_V1 record is refused. Pg_magic_func
-- exists in both libraries, and neither declares it as an SQL-callable function.
-- ANCHOR: no_v0
SELECT probin AS lib FROM pg_proc WHERE proname = 'add_nullable' \gset
CREATE FUNCTION magic() RETURNS integer
    AS :'lib', 'Pg_magic_func' LANGUAGE C;  -- expect: ERROR 42883 could not find function information
\echo :LAST_ERROR_SQLSTATE
-- ANCHOR_END: no_v0

-- Chapter 3's exercise: any symbol with a pg_finfo_ record can be declared under another SQL
-- name; a symbol without one, such as _PG_init, is refused.
-- ANCHOR: v0_exercise
SELECT prosrc AS sym FROM pg_proc WHERE proname = 'add_nullable' \gset
CREATE FUNCTION add_or_keep(a integer, b integer) RETURNS integer
    AS :'lib', :'sym' LANGUAGE C IMMUTABLE;
SELECT add_or_keep(40, 2), add_or_keep(NULL, 2), add_or_keep(NULL, NULL) IS NULL AS both_null;
DROP FUNCTION add_or_keep(integer, integer);
CREATE FUNCTION pg_init() RETURNS void
    AS :'lib', '_PG_init' LANGUAGE C;  -- expect: ERROR 42883 could not find function information
\echo :LAST_ERROR_SQLSTATE
-- ANCHOR_END: v0_exercise

-- The declarations both builds must agree on.
SELECT p.proname, pg_get_function_arguments(p.oid) AS args,
       pg_get_function_result(p.oid) AS result,
       p.provolatile, p.proisstrict, p.proparallel
  FROM pg_proc p
 WHERE p.proname IN ('add_nullable', 'reverse_bytes', 'text_prefix', 'bytes_prefix')
 ORDER BY p.proname;
