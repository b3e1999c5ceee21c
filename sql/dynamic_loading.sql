--
-- dynamic_loading: how the server finds and loads the library, and what _PG_init saw.
-- Chapter 1 of the book. Run against xfunc (Rust) and xfunc_c (C): same expected output.
--
-- After each statement meant to fail, \echo :LAST_ERROR_SQLSTATE prints the SQLSTATE it raised,
-- so expected/ pins the error code as well as the message.
--

-- The library's file, as CREATE FUNCTION recorded it ($libdir/xfunc or $libdir/xfunc_c), into
-- a psql variable: psql echoes :'lib', not its value, so both runs print the same lines.
SELECT probin AS lib FROM pg_proc WHERE proname = 'init_calls' \gset

-- The cluster preloads both libraries: _PG_init ran once, in the postmaster, at server start,
-- and this backend inherited the postmaster's memory when it was forked.
-- ANCHOR: pg_init_ran
SHOW shared_preload_libraries;
SELECT init_calls(), init_in_preload(), init_inherited();
-- ANCHOR_END: pg_init_ran

-- LOAD of a library that is already loaded does nothing: no second _PG_init.
-- ANCHOR: load_again
LOAD :'lib';
SELECT init_calls();
-- ANCHOR_END: load_again

-- A name without a directory is looked up in dynamic_library_path, with and without the
-- .so suffix; with an empty path there is nowhere to look. $libdir needs no search.
-- ANCHOR: library_path
SHOW dynamic_library_path;
LOAD 'plpgsql';
LOAD '$libdir/plpgsql.so';
SET dynamic_library_path = '';
LOAD 'plpgsql';             -- expect: ERROR 58P01 could not access file "plpgsql"
\echo :LAST_ERROR_SQLSTATE
LOAD '$libdir/plpgsql';
RESET dynamic_library_path;
-- ANCHOR_END: library_path

-- CREATE FUNCTION ... LANGUAGE C loads the library and looks up the symbol at once, so a typo
-- fails here, not at the first call.
-- ANCHOR: missing_library
CREATE FUNCTION no_such_function() RETURNS integer
    AS 'no_such_library', 'no_such_function' LANGUAGE C;  -- expect: ERROR 58P01
\echo :LAST_ERROR_SQLSTATE
CREATE FUNCTION no_such_function() RETURNS integer
    AS '$libdir/no_such_library', 'no_such_function' LANGUAGE C;  -- expect: ERROR 58P01
\echo :LAST_ERROR_SQLSTATE
-- ANCHOR_END: missing_library

-- The message for a missing symbol names the library's full path, which differs between the two
-- builds and between machines: print only the SQLSTATE.
-- ANCHOR: missing_symbol
\set VERBOSITY sqlstate
CREATE FUNCTION no_such_function() RETURNS integer
    AS :'lib', 'no_such_function' LANGUAGE C;  -- expect: ERROR 42883 could not find function
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
-- ANCHOR_END: missing_symbol

-- check_function_bodies = off (pg_dump's scripts set it) skips the body check of an SQL
-- function, but not the C validator, fmgr_c_validator (src/backend/catalog/pg_proc.c): it
-- loads the library and looks up the symbol and its pg_finfo_ record whatever the setting.
-- ANCHOR: check_function_bodies_off
SET check_function_bodies = off;
CREATE FUNCTION unchecked_sql() RETURNS integer
    AS 'SELECT no_such_column FROM no_such_table' LANGUAGE sql;
DROP FUNCTION unchecked_sql();
CREATE FUNCTION no_such_function() RETURNS integer
    AS 'no_such_library', 'no_such_function' LANGUAGE C;  -- expect: ERROR 58P01
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY sqlstate
CREATE FUNCTION no_such_function() RETURNS integer
    AS :'lib', 'no_such_function' LANGUAGE C;  -- expect: ERROR 42883 could not find function
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
CREATE FUNCTION no_such_function() RETURNS integer
    AS :'lib', 'Pg_magic_func' LANGUAGE C;  -- expect: ERROR 42883 no function information
\echo :LAST_ERROR_SQLSTATE
RESET check_function_bodies;
-- ANCHOR_END: check_function_bodies_off

-- Nothing was created by the failed statements.
SELECT count(*) AS leftovers FROM pg_proc WHERE proname = 'no_such_function';

-- The declarations both builds must agree on.
SELECT p.proname, pg_get_function_arguments(p.oid) AS args,
       pg_get_function_result(p.oid) AS result,
       p.provolatile, p.proisstrict, p.proparallel
  FROM pg_proc p
 WHERE p.proname IN ('init_calls', 'init_in_preload', 'init_inherited')
 ORDER BY p.proname;
