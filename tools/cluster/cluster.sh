#!/usr/bin/env bash
# The reader's private PostgreSQL 15 cluster for this checkout.
#
#   tools/cluster/cluster.sh create|start|stop|restart|destroy|status|psql [args]|psql-line|reader-databases|env
#
# Its own data directory, port and socket directory (see tools/lib/env.sh); jit off; both extensions
# preloaded. start and stop are idempotent. start creates the cluster when there is none.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib/env.sh"

PRELOAD="xfunc, xfunc_c"

say() { printf 'cluster: %s\n' "$*"; }
running() { [ -f "$XFUNC_PGDATA/postmaster.pid" ] && as_server "$PG_BINDIR/pg_ctl" -D "$XFUNC_PGDATA" status >/dev/null 2>&1; }
psql_line() { echo "psql ${XFUNC_PSQL_CONNECT[*]} ${1:-xfunc}"; }

create() {
  if [ -f "$XFUNC_PGDATA/PG_VERSION" ]; then return; fi
  say "creating a cluster in $XFUNC_PGDATA"
  install -d -o "$XFUNC_RUNAS" "$XFUNC_STATE"
  as_server mkdir -p "$XFUNC_PGHOST"
  as_server "$PG_BINDIR/initdb" -D "$XFUNC_PGDATA" -U postgres --auth=trust --encoding=UTF8 \
    --locale=C.UTF-8 >"$XFUNC_STATE/initdb.log" 2>&1 || { cat "$XFUNC_STATE/initdb.log"; exit 1; }
  as_server tee -a "$XFUNC_PGDATA/postgresql.conf" >/dev/null <<CONF

# --- xfunc: written by tools/cluster/cluster.sh (which gives port and socket directory at start) ---
listen_addresses = ''
shared_preload_libraries = '$PRELOAD'
jit = off
CONF
}

missing_libraries() {
  local dir missing=()
  dir=$("$PG_CONFIG" --pkglibdir)
  for lib in ${PRELOAD//,/ }; do [ -f "$dir/$lib.so" ] || missing+=("$lib"); done
  echo "${missing[*]}"
}

start() {
  create
  if running; then say "running"; else
    local missing; missing=$(missing_libraries)
    if [ -n "$missing" ]; then
      say "cannot start: shared_preload_libraries names $missing, not installed yet. Run: just install"
      exit 1
    fi
    as_server mkdir -p "$XFUNC_PGHOST"
    # A Rust backtrace setting inherited by the server would add DETAIL lines to the errors
    # raised inside xfunc's functions, and regress output would depend on the caller's shell.
    as_server env -u RUST_BACKTRACE -u RUST_LIB_BACKTRACE \
      "$PG_BINDIR/pg_ctl" -D "$XFUNC_PGDATA" -l "$XFUNC_PGLOG" -w -t 60 \
      -o "-p $XFUNC_PGPORT -k $XFUNC_PGHOST" start >/dev/null \
      || { tail -n 20 "$XFUNC_PGLOG"; exit 1; }
    say "started"
  fi
  say "data $XFUNC_PGDATA, port $XFUNC_PGPORT, socket $XFUNC_PGHOST, log $XFUNC_PGLOG"
  say "connect: $(psql_line)"
}

# One database per build for the reader to try things in: xfunc with the Rust extension and
# xfunc_c with the C twin (the two declare the same functions, so they cannot share one).
# The extension is created afresh so that it has the functions of the build just installed;
# objects of the reader's that depend on it (CASCADE) go with it.
reader_databases() {
  local psql=(xfunc_psql -X -q -v ON_ERROR_STOP=1)
  for db in xfunc xfunc_c; do
    if [ -z "$("${psql[@]}" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]; then
      "${psql[@]}" -d postgres -c "CREATE DATABASE $db"
    fi
    "${psql[@]}" -d "$db" -c "SET client_min_messages = warning" \
      -c "DROP EXTENSION IF EXISTS $db CASCADE" -c "CREATE EXTENSION $db"
  done
  say "databases xfunc (Rust build) and xfunc_c (C build) have their extension"
}

stop() {
  if running; then
    as_server "$PG_BINDIR/pg_ctl" -D "$XFUNC_PGDATA" -w -t 60 -m fast stop >/dev/null
    say "stopped"
  else
    say "not running"
  fi
}

case "${1:-status}" in
  create) create; say "data $XFUNC_PGDATA" ;;
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  destroy) stop; rm -rf "$XFUNC_PGDATA" "$XFUNC_PGHOST" "$XFUNC_PGLOG"; say "destroyed $XFUNC_PGDATA" ;;
  status)
    if running; then say "running: data $XFUNC_PGDATA, port $XFUNC_PGPORT"; say "connect: $(psql_line)"
    elif [ -f "$XFUNC_PGDATA/PG_VERSION" ]; then say "stopped: data $XFUNC_PGDATA"
    else say "no cluster yet (just cluster-start creates one)"; fi ;;
  # database xfunc by default (a -d in the arguments wins: psql takes the last one)
  psql) shift; xfunc_psql -d xfunc "$@" ;;
  reader-databases) reader_databases ;;
  psql-line) psql_line ;;
  # Every value tools/lib/env.sh computes, KEY=VALUE a line: how Python and Rust tools read them.
  env)
    printf 'PGHOST=%s\nPGPORT=%s\nPGUSER=postgres\n' "$XFUNC_PGHOST" "$XFUNC_PGPORT"
    for v in XFUNC_ROOT XFUNC_STATE XFUNC_PG PG_MAJOR PG_BINDIR PG_CONFIG PG_REGRESS XFUNC_PGDATA \
             XFUNC_PGHOST XFUNC_PGPORT XFUNC_PGLOG XFUNC_RUNAS XFUNC_EXPECTED_KILLS PGRX_HOME; do
      printf '%s=%s\n' "$v" "${!v}"
    done ;;
  *) echo "usage: $0 create|start|stop|restart|destroy|status|psql|psql-line|reader-databases|env" >&2; exit 2 ;;
esac
