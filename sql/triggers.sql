--
-- triggers: the manual's trigf (INFO at each firing, a NULL first column skips the row) and
-- row_version, a BEFORE ROW trigger that changes the row it stores; row and statement level,
-- BEFORE and AFTER, and what happens when either is used where it does not belong.
-- Chapter 21 of the book. Run against xfunc (Rust) and xfunc_c (C): same expected output.
--
-- After each statement meant to fail, \echo :LAST_ERROR_SQLSTATE prints the SQLSTATE it raised.
--

-- The manual's session, on its table ttest.
-- ANCHOR: ttest
CREATE TABLE ttest (x integer);
CREATE TRIGGER tbefore BEFORE INSERT OR UPDATE OR DELETE ON ttest
    FOR EACH ROW EXECUTE FUNCTION trigf();
CREATE TRIGGER tafter AFTER INSERT OR UPDATE OR DELETE ON ttest
    FOR EACH ROW EXECUTE FUNCTION trigf();
-- ANCHOR_END: ttest

-- A NULL first column: the BEFORE trigger returns NULL, the row is skipped (INSERT 0 0), and
-- the AFTER trigger is not fired for it.
-- ANCHOR: skip
INSERT INTO ttest VALUES (NULL);
SELECT * FROM ttest;
-- ANCHOR_END: skip

-- A row: the BEFORE trigger does not see it yet, the AFTER trigger does.
-- ANCHOR: insert
INSERT INTO ttest VALUES (1);
INSERT INTO ttest SELECT x * 2 FROM ttest;
SELECT * FROM ttest;
-- ANCHOR_END: insert

-- UPDATE: the new row is checked; setting the first column to NULL skips the update.
-- ANCHOR: update
UPDATE ttest SET x = NULL WHERE x = 2;
UPDATE ttest SET x = 4 WHERE x = 2;
SELECT * FROM ttest;
-- ANCHOR_END: update

-- DELETE: the old row is returned, so the delete goes ahead.
-- ANCHOR: delete
DELETE FROM ttest;
SELECT * FROM ttest;
-- ANCHOR_END: delete

-- Statement level: fired once per statement, even for no rows, with no row at all; the
-- manual's version would read the NULL first column of a row that is not there.
-- ANCHOR: statement
CREATE TRIGGER tstatement BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON ttest
    FOR EACH STATEMENT EXECUTE FUNCTION trigf();
INSERT INTO ttest VALUES (5), (6);
UPDATE ttest SET x = x WHERE false;
TRUNCATE ttest;
DROP TRIGGER tstatement ON ttest;
-- ANCHOR_END: statement

-- INSTEAD OF, on a view: the function does the work of the statement, or here only reports it.
CREATE VIEW ttest_view AS SELECT * FROM ttest;
CREATE TRIGGER tinstead INSTEAD OF INSERT ON ttest_view
    FOR EACH ROW EXECUTE FUNCTION trigf();
INSERT INTO ttest_view VALUES (7);
DROP VIEW ttest_view;

-- A table without columns has no first column: NULL, and the row is skipped.
CREATE TABLE no_columns ();
CREATE TRIGGER tbefore BEFORE INSERT ON no_columns FOR EACH ROW EXECUTE FUNCTION trigf();
INSERT INTO no_columns DEFAULT VALUES;
SELECT count(*) FROM no_columns;
DROP TABLE no_columns;

-- The count is of the table the trigger fires on, whatever its name.
CREATE TABLE "Mixed Case" (a text);
CREATE TRIGGER tafter AFTER INSERT ON "Mixed Case" FOR EACH ROW EXECUTE FUNCTION trigf();
INSERT INTO "Mixed Case" VALUES ('a'), ('b');
DROP TABLE "Mixed Case";

-- Called outside a trigger: an ERROR, not a crash. Both builds say XX000, an internal error,
-- each with a message of its own (the C function's elog, pgrx's wrapper's check), so only the
-- SQLSTATE is shown.
-- ANCHOR: not_trigger
\set VERBOSITY sqlstate
SELECT trigf();                          -- expect: ERROR XX000 not called by trigger manager
SELECT row_version();                    -- expect: ERROR XX000 not called by trigger manager
\set VERBOSITY default
-- ANCHOR_END: not_trigger

-- row_version: a BEFORE ROW trigger that changes the row it stores.
-- ANCHOR: row_version
CREATE TABLE doc (id integer PRIMARY KEY, body text, version integer);
CREATE TRIGGER doc_version BEFORE INSERT OR UPDATE ON doc
    FOR EACH ROW EXECUTE FUNCTION row_version('version');
INSERT INTO doc VALUES (1, 'first', 42), (2, 'second', NULL);
UPDATE doc SET body = body || ' edited';
UPDATE doc SET body = 'again', version = 100 WHERE id = 1;
SELECT * FROM doc ORDER BY id;
-- ANCHOR_END: row_version

-- ON CONFLICT DO UPDATE fires the UPDATE trigger on the existing row; RETURNING shows the
-- row as stored, after the trigger.
-- ANCHOR: upsert
INSERT INTO doc VALUES (1, 'upsert', 0)
    ON CONFLICT (id) DO UPDATE SET body = excluded.body
    RETURNING *;
-- ANCHOR_END: upsert

-- A NULL counter (from before the trigger existed) restarts at 1; the largest integer cannot
-- be counted past.
ALTER TABLE doc DISABLE TRIGGER doc_version;
UPDATE doc SET version = NULL WHERE id = 1;
UPDATE doc SET version = 2147483647 WHERE id = 2;
ALTER TABLE doc ENABLE TRIGGER doc_version;
UPDATE doc SET body = 'restart' WHERE id = 1;
SELECT * FROM doc ORDER BY id;
UPDATE doc SET body = 'overflow' WHERE id = 2;  -- expect: ERROR 22003 the counter overflows
\echo :LAST_ERROR_SQLSTATE

-- The cases the manual warns about, as the function's own checks: fired for a statement,
-- after the event, for a DELETE; a missing or extra argument, a column that is not there or
-- not an integer. Each is an ERROR when the trigger fires, not when it is created.
-- ANCHOR: misuse
CREATE TABLE misuse (id integer, version integer, label text);
INSERT INTO misuse VALUES (1, 0, 'a');
CREATE TRIGGER t BEFORE UPDATE ON misuse
    FOR EACH STATEMENT EXECUTE FUNCTION row_version('version');
UPDATE misuse SET id = 2;                 -- expect: ERROR 39P01 must be fired for row
\echo :LAST_ERROR_SQLSTATE
DROP TRIGGER t ON misuse;
CREATE TRIGGER t AFTER UPDATE ON misuse
    FOR EACH ROW EXECUTE FUNCTION row_version('version');
UPDATE misuse SET id = 2;                 -- expect: ERROR 39P01 must be fired before event
\echo :LAST_ERROR_SQLSTATE
DROP TRIGGER t ON misuse;
CREATE TRIGGER t BEFORE DELETE ON misuse
    FOR EACH ROW EXECUTE FUNCTION row_version('version');
DELETE FROM misuse;                       -- expect: ERROR 39P01 not for DELETE
\echo :LAST_ERROR_SQLSTATE
DROP TRIGGER t ON misuse;
CREATE TRIGGER t BEFORE UPDATE ON misuse FOR EACH ROW EXECUTE FUNCTION row_version();
UPDATE misuse SET id = 2;                 -- expect: ERROR 09000 one argument was expected
\echo :LAST_ERROR_SQLSTATE
DROP TRIGGER t ON misuse;
CREATE TRIGGER t BEFORE UPDATE ON misuse
    FOR EACH ROW EXECUTE FUNCTION row_version('version', 'extra');
UPDATE misuse SET id = 2;                 -- expect: ERROR 09000 one argument was expected
\echo :LAST_ERROR_SQLSTATE
DROP TRIGGER t ON misuse;
CREATE TRIGGER t BEFORE UPDATE ON misuse FOR EACH ROW EXECUTE FUNCTION row_version('nope');
UPDATE misuse SET id = 2;                 -- expect: ERROR 09000 no such column
\echo :LAST_ERROR_SQLSTATE
DROP TRIGGER t ON misuse;
CREATE TRIGGER t BEFORE UPDATE ON misuse FOR EACH ROW EXECUTE FUNCTION row_version('label');
UPDATE misuse SET id = 2;                 -- expect: ERROR 09000 the column is text
\echo :LAST_ERROR_SQLSTATE
DROP TRIGGER t ON misuse;
CREATE TRIGGER t BEFORE UPDATE ON misuse FOR EACH ROW EXECUTE FUNCTION row_version('ctid');
UPDATE misuse SET id = 2;                 -- expect: ERROR 09000 a system column is not ours
\echo :LAST_ERROR_SQLSTATE
DROP TRIGGER t ON misuse;
-- ANCHOR_END: misuse
-- A dropped column is not there, even if its name is given; a column added later is.
ALTER TABLE misuse DROP COLUMN version;
CREATE TRIGGER t BEFORE UPDATE ON misuse FOR EACH ROW EXECUTE FUNCTION row_version('version');
UPDATE misuse SET id = 2;                 -- expect: ERROR 09000 the column was dropped
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE misuse ADD COLUMN version integer;
UPDATE misuse SET id = 2;
SELECT * FROM misuse;
-- Case matters: the argument names the column exactly.
DROP TRIGGER t ON misuse;
CREATE TRIGGER t BEFORE UPDATE ON misuse FOR EACH ROW EXECUTE FUNCTION row_version('VERSION');
UPDATE misuse SET id = 3;                 -- expect: ERROR 09000 no column VERSION
\echo :LAST_ERROR_SQLSTATE
DROP TABLE misuse;

-- The declarations both builds must agree on.
SELECT p.proname, pg_get_function_arguments(p.oid) AS args,
       pg_get_function_result(p.oid) AS result,
       p.provolatile, p.proisstrict, p.proparallel
  FROM pg_proc p
 WHERE p.proname IN ('trigf', 'row_version')
 ORDER BY p.proname;
DROP TABLE doc;
DROP TABLE ttest;
