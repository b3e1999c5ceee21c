--
-- shared_log: many backends append lines to one file, under an LWLock held exclusively.
-- Chapter 13 of the book. Run against xfunc (Rust) and xfunc_c (C): same expected output.
--
-- Each build has its own setting (xfunc.log_file, xfunc_c.log_file): the extension's name
-- goes into the psql variable ext, and :ext stands for it below. Error messages about the
-- setting name it, so where they would differ, VERBOSITY sqlstate prints only the SQLSTATE.
-- Lines carry a timestamp and a pid, which change from run to run: the queries check them
-- instead of printing them. Concurrency and crashes: tests/cluster/.
--

SELECT extname AS ext FROM pg_extension WHERE extname IN ('xfunc', 'xfunc_c') \gset
SELECT current_setting('data_directory') || '/shared_log_not_ours.txt' AS not_ours,
       current_setting('data_directory') || '/../outside.log' AS above_datadir \gset

-- The default file: <extension>.log, in the data directory.
SELECT current_setting(:'ext' || '.log_file') = :'ext' || '.log' AS default_log_file;

-- ANCHOR: log
SELECT xfunc_log('hello from the regression test');
SELECT xfunc_log(E'two\nlines, a tab\t, a backslash \\ and a bell \007');
SELECT xfunc_log('');
SELECT xfunc_log('élan, naïve, 日本語');
SELECT xfunc_log(NULL);  -- STRICT: not called, nothing written
-- ANCHOR_END: log

-- ANCHOR: tail
-- The last four lines, taken apart: timestamp, pid, sequence number, message.
SELECT m[1]::timestamptz BETWEEN now() - interval '1 hour' AND now() AS recent,
       m[2]::int = pg_backend_pid() AS our_pid,
       m[3]::bigint - lag(m[3]::bigint) OVER (ORDER BY n) AS seq_step,
       m[4] AS message
  FROM xfunc_log_tail(4) WITH ORDINALITY AS t(line, n),
       regexp_match(line, '^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z) (\d+) ([1-9]\d*) (.*)$') AS m
 ORDER BY n;
-- ANCHOR_END: tail

-- Another backend continues the same sequence.
SELECT split_part(line, ' ', 3)::bigint AS last_seq FROM xfunc_log_tail(1) AS line \gset
\c
SELECT xfunc_log('from another backend');
SELECT split_part(line, ' ', 3)::bigint - :last_seq AS seq_step,
       split_part(line, ' ', 2)::int = pg_backend_pid() AS our_pid
  FROM xfunc_log_tail(1) AS line;

-- ANCHOR: designs
-- Three designs (xfunc.log_design, xfunc_c.log_design; default kept_open): one sequence.
SELECT current_setting(:'ext' || '.log_design') AS log_design;
SET :ext.log_design = 'open_per_line';
SELECT xfunc_log('open_per_line: open, lock, append, unlock, close');
SET :ext.log_design = 'kept_open';
SELECT xfunc_log('kept_open: the file stays open');
SELECT xfunc_log('kept_open again');
SET :ext.log_design = 'group_commit';
SELECT xfunc_log('group_commit: through the shared buffer');
SELECT m[1]::bigint - lag(m[1]::bigint) OVER (ORDER BY n) AS seq_step, m[2] AS message
  FROM xfunc_log_tail(4) WITH ORDINALITY AS t(line, n),
       regexp_match(line, '^\S+ \d+ (\d+) (.*)$') AS m
 ORDER BY n;
\set VERBOSITY sqlstate
SET :ext.log_design = 'fast';  -- expect: ERROR 22023 invalid value
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
RESET :ext.log_design;
-- ANCHOR_END: designs

-- ANCHOR: sync
-- xfunc.log_sync (xfunc_c.log_sync; default off): on, each call returns once its line is
-- synced (fdatasync), in every design. A superuser's setting, as the design is.
SELECT current_setting(:'ext' || '.log_sync') AS log_sync;
SELECT split_part(name, '.', 2) AS setting, context, vartype
  FROM pg_settings WHERE name LIKE :'ext' || '.log\_%' ORDER BY name;
SET :ext.log_sync = on;
SET :ext.log_design = 'open_per_line';
SELECT xfunc_log('synced, open_per_line');
SET :ext.log_design = 'kept_open';
SELECT xfunc_log('synced, kept_open');
SET :ext.log_design = 'group_commit';
SELECT xfunc_log('synced, group_commit');
-- A line longer than a half of the buffer (64 kB) goes to the file as kept_open writes it.
SELECT xfunc_log(repeat('long ', 14000));
SELECT xfunc_log('after the long line');
SELECT m[1]::bigint - lag(m[1]::bigint) OVER (ORDER BY n) AS seq_step,
       octet_length(m[2]) AS message_bytes, left(m[2], 30) AS message
  FROM xfunc_log_tail(5) WITH ORDINALITY AS t(line, n),
       regexp_match(line, '^\S+ \d+ (\d+) (.*)$') AS m
 ORDER BY n;
\set VERBOSITY sqlstate
SET :ext.log_sync = 'sometimes';  -- expect: ERROR 22023 invalid value
\echo :LAST_ERROR_SQLSTATE
CREATE ROLE regress_shared_log_writer IN ROLE pg_write_server_files;
SET ROLE regress_shared_log_writer;
SET :ext.log_sync = off;  -- expect: ERROR 42501 permission denied to set parameter
\echo :LAST_ERROR_SQLSTATE
SET :ext.log_design = 'kept_open';  -- expect: ERROR 42501 permission denied to set parameter
\echo :LAST_ERROR_SQLSTATE
SELECT xfunc_log('a writer logs with the settings it was given');
RESET ROLE;
\set VERBOSITY default
DROP ROLE regress_shared_log_writer;
RESET :ext.log_sync;
RESET :ext.log_design;
-- ANCHOR_END: sync

SELECT count(*) FROM xfunc_log_tail(0);
SELECT count(*) FROM xfunc_log_tail(-1);  -- expect: ERROR 22023 lines must be between 0 and 1000
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM xfunc_log_tail(1001);  -- expect: ERROR 22023 lines must be between 0 and 1000
\echo :LAST_ERROR_SQLSTATE

-- ANCHOR: privileges
-- Only superusers and members of pg_write_server_files may log (pg_read_server_files: read).
CREATE ROLE regress_shared_log_nobody;
CREATE ROLE regress_shared_log_writer IN ROLE pg_write_server_files, pg_read_server_files;
SET ROLE regress_shared_log_nobody;
SELECT xfunc_log('not allowed');  -- expect: ERROR 42501 permission denied for function
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM xfunc_log_tail(1);  -- expect: ERROR 42501 permission denied for function
\echo :LAST_ERROR_SQLSTATE
SET ROLE regress_shared_log_writer;
SELECT xfunc_log('from a member of pg_write_server_files');
SELECT substring(line FROM '^\S+ \d+ \d+ (.*)$') AS message FROM xfunc_log_tail(1) AS line;
RESET ROLE;
-- ANCHOR_END: privileges
DROP ROLE regress_shared_log_nobody;
DROP ROLE regress_shared_log_writer;

-- ANCHOR: setting
-- Only postgresql.conf or ALTER SYSTEM can change the file, and only to one in the data
-- directory or log_directory.
\set VERBOSITY sqlstate
SET :ext.log_file = 'other.log';  -- expect: ERROR 55P02 cannot be changed now
\echo :LAST_ERROR_SQLSTATE
ALTER SYSTEM SET :ext.log_file = '../outside.log';  -- expect: ERROR 42501 ".." component
\echo :LAST_ERROR_SQLSTATE
ALTER SYSTEM SET :ext.log_file = 'log/../../outside.log';  -- expect: ERROR 42501 ".." component
\echo :LAST_ERROR_SQLSTATE
ALTER SYSTEM SET :ext.log_file = 'log/..';  -- expect: ERROR 42501 ".." component
\echo :LAST_ERROR_SQLSTATE
ALTER SYSTEM SET :ext.log_file = '/tmp/outside.log';  -- expect: ERROR 42501 outside the data directory
\echo :LAST_ERROR_SQLSTATE
ALTER SYSTEM SET :ext.log_file = :'above_datadir';  -- expect: ERROR 42501 ".." component
\echo :LAST_ERROR_SQLSTATE
ALTER SYSTEM SET :ext.log_file = '';  -- expect: ERROR 22023 empty
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
-- ANCHOR_END: setting

-- Accepted: a relative path, "." components, an absolute path inside the data directory.
-- (ALTER SYSTEM runs the check hook; nothing is reloaded here.)
ALTER SYSTEM SET :ext.log_file = './log//xfunc.log';
ALTER SYSTEM SET :ext.log_file = :'not_ours';
ALTER SYSTEM RESET :ext.log_file;

-- ANCHOR: failures
-- A file that cannot be opened: ERROR before the lock is taken.
ALTER SYSTEM SET :ext.log_file = 'no_such_directory/shared_log.log';
SELECT pg_reload_conf();
\c
SELECT xfunc_log('lost');  -- expect: ERROR 58P01 could not open log file
\echo :LAST_ERROR_SQLSTATE

-- A file whose last line is not ours: ERROR while the lock is held. The file is left as it
-- was, and the lock is released: the next calls do not wait for it.
COPY (SELECT 'a line that xfunc_log did not write') TO :'not_ours';
ALTER SYSTEM SET :ext.log_file = 'shared_log_not_ours.txt';
SELECT pg_reload_conf();
\c
SELECT xfunc_log('lost');  -- expect: ERROR XX001 last line has no sequence number
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM xfunc_log_tail(5);  -- takes the lock in shared mode
SELECT xfunc_log('lost again');  -- expect: ERROR XX001 last line has no sequence number
\echo :LAST_ERROR_SQLSTATE
SET :ext.log_design = 'group_commit';
SELECT xfunc_log('lost in a group');  -- expect: ERROR XX001 last line has no sequence number
\echo :LAST_ERROR_SQLSTATE
RESET :ext.log_design;

-- A binary file: its last line is not ours either, and ends without a newline. It is not
-- cut, and xfunc_log_tail refuses to return what is not text.
COPY (SELECT 1) TO :'not_ours' WITH (FORMAT binary);
SELECT size AS size_before FROM pg_stat_file(:'not_ours') \gset
SELECT xfunc_log('lost');  -- expect: ERROR XX001 last line has no sequence number
\echo :LAST_ERROR_SQLSTATE
SELECT size = :size_before AS unchanged FROM pg_stat_file(:'not_ours');
SELECT * FROM xfunc_log_tail(1);  -- expect: ERROR 22021 not valid text
\echo :LAST_ERROR_SQLSTATE
-- ANCHOR_END: failures

-- Exercise: xfunc_log_lines(), the number of the last complete line.
-- ANCHOR: xfunc_log_lines
SELECT xfunc_log_lines();  -- expect: ERROR XX001 the binary file's last line is not ours
\echo :LAST_ERROR_SQLSTATE
COPY (SELECT WHERE false) TO :'not_ours';  -- now empty
SELECT xfunc_log_lines() AS empty_file;
SELECT xfunc_log('first line');
SELECT xfunc_log('second line');
SELECT xfunc_log_lines() AS lines;
SELECT count(*) AS lines_of_1000 FROM xfunc_log_tail(1000);  -- the most lines one may ask for
CREATE ROLE regress_shared_log_reader IN ROLE pg_read_server_files;
CREATE ROLE regress_shared_log_nobody;
SET ROLE regress_shared_log_reader;
SELECT xfunc_log_lines() AS lines_as_reader;
SET ROLE regress_shared_log_nobody;
SELECT xfunc_log_lines();  -- expect: ERROR 42501 permission denied for function
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- ANCHOR_END: xfunc_log_lines
DROP ROLE regress_shared_log_reader;
DROP ROLE regress_shared_log_nobody;
ALTER SYSTEM SET :ext.log_file = 'no_such_directory/shared_log.log';
SELECT pg_reload_conf();
\c
SELECT xfunc_log_lines() AS no_file;

-- ANCHOR: limits
-- The longest message: its escaped line fits in MaxAllocSize (1 GB - 1) with the prefix and
-- the newline. 268,435,439 control characters take 4 bytes each, escaped; one more byte is
-- the longest message, two are one byte too many. Then read back: the last line (a text of
-- almost 1 GB), and the last two, together too long for one palloc.
SELECT current_setting('data_directory') || '/shared_log_limits.log' AS limits_file \gset
ALTER SYSTEM SET :ext.log_file = 'shared_log_limits.log';
SELECT pg_reload_conf();
\c
SELECT xfunc_log(repeat(chr(1), 268435439) || 'xx');  -- expect: ERROR 54000 message is too long to log
\echo :LAST_ERROR_SQLSTATE
SELECT xfunc_log(repeat(chr(1), 268435439) || 'x');
SELECT octet_length(line) - octet_length(split_part(line, ' ', 1))
       - octet_length(split_part(line, ' ', 2)) - octet_length(split_part(line, ' ', 3)) - 3
       AS message_bytes
  FROM xfunc_log_tail(1) AS line;
SELECT xfunc_log('and a short line');
SELECT count(*) FROM xfunc_log_tail(2);  -- expect: ERROR 54000 the last 2 lines are too long
\echo :LAST_ERROR_SQLSTATE
SELECT xfunc_log_lines() AS lines;
COPY (SELECT WHERE false) TO :'limits_file';  -- empty again: the disk space back
-- ANCHOR_END: limits

ALTER SYSTEM RESET :ext.log_file;
SELECT pg_reload_conf();
\c
SELECT current_setting(:'ext' || '.log_file') = :'ext' || '.log' AS default_log_file;
-- ANCHOR: try_it
SELECT xfunc_log('back to the default file');
SELECT substring(line FROM '^\S+ \d+ \d+ (.*)$') AS message FROM xfunc_log_tail(1) AS line;
-- ANCHOR_END: try_it
SELECT xfunc_log_lines() = split_part(line, ' ', 3)::bigint AS lines_is_last_seq
  FROM xfunc_log_tail(1) AS line;

-- The declarations both builds must agree on.
SELECT p.proname, pg_get_function_arguments(p.oid) AS args,
       pg_get_function_result(p.oid) AS result,
       p.provolatile, p.proisstrict, p.proparallel, p.proretset,
       p.proacl::text[] AS acl
  FROM pg_proc p
 WHERE p.proname LIKE 'xfunc\_log%'
 ORDER BY p.proname;
