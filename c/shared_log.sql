-- Synchronizing between backends (chapter 13). Part of the xfunc_c extension script.

-- ANCHOR: functions
CREATE FUNCTION xfunc_log("message" text) RETURNS void
    AS 'MODULE_PATHNAME', 'xfunc_log'
    LANGUAGE C VOLATILE STRICT;

CREATE FUNCTION xfunc_log_tail("lines" integer DEFAULT 10) RETURNS SETOF text
    AS 'MODULE_PATHNAME', 'xfunc_log_tail'
    LANGUAGE C VOLATILE STRICT;
-- ANCHOR_END: functions

-- ANCHOR: grants
-- Writing a file on the server is what pg_write_server_files may do; reading, what
-- pg_read_server_files may do. Superusers may do both.
REVOKE EXECUTE ON FUNCTION xfunc_log(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION xfunc_log(text) TO pg_write_server_files;
REVOKE EXECUTE ON FUNCTION xfunc_log_tail(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION xfunc_log_tail(integer) TO pg_read_server_files;
-- ANCHOR_END: grants

-- ANCHOR: xfunc_log_lines
CREATE FUNCTION xfunc_log_lines() RETURNS bigint
    AS 'MODULE_PATHNAME', 'xfunc_log_lines'
    LANGUAGE C VOLATILE STRICT;

REVOKE EXECUTE ON FUNCTION xfunc_log_lines() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION xfunc_log_lines() TO pg_read_server_files;
-- ANCHOR_END: xfunc_log_lines
