#!/usr/bin/env bash
# The one place that creates and starts a PostgreSQL 15 cluster: the reader's private cluster of
# this checkout, and every other cluster a test needs (a throw-away one without preloading, the
# chapter "Your First Extension"'s, a single-user backend for callgrind).
#
#   tools/cluster/cluster.sh [option...] create|start|stop|restart|destroy|status|single DB [wrapper...]
#   tools/cluster/cluster.sh psql [args]|psql-line|reader-databases|env
#
# Options (each defaults to the checkout's cluster, as tools/lib/env.sh computes it):
#   --data DIR         data directory (XFUNC_PGDATA)
#   --socket DIR       Unix socket directory (XFUNC_PGHOST); the server listens on no TCP port
#   --port N           port, which names the socket (XFUNC_PGPORT)
#   --log FILE         server log (XFUNC_PGLOG)
#   --pg DIR           the PostgreSQL copy whose programs run (XFUNC_PG)
#   --set NAME=VALUE   a setting, added to SETTINGS below or replacing one of them
#   --no-sync          create does not wait for the new files to reach the disk (a throw-away cluster)
#
# The settings are given at every start (pg_ctl -o '-c NAME=VALUE ...'), never written into
# postgresql.conf, so that a setting changed here reaches a cluster created before the change.
# They win over postgresql.conf and ALTER SYSTEM. start and stop are idempotent; start creates
# the cluster when there is none. `single DB [wrapper...]` runs a single-user backend
# (postgres --single) on the stopped cluster's database DB with the same settings, under
# wrapper (valgrind ...) when one is given, reading statements from standard input.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib/env.sh"

# What every start gives the server: no TCP port (only the socket), both extensions preloaded
# (chapter 12: shared memory is reserved at start), no JIT compilation.
SETTINGS=(
  "listen_addresses="
  "shared_preload_libraries=xfunc, xfunc_c"
  "jit=off"
)

say() { printf 'cluster: %s\n' "$*"; }
usage() {
  sed -n 's/^#   \(tools\/cluster\/cluster.sh .*\)/usage: \1/p' "${BASH_SOURCE[0]}" >&2
  exit 2
}

# set_setting NAME=VALUE: replaces the setting NAME in SETTINGS, or adds it.
set_setting() {
  local i
  for i in "${!SETTINGS[@]}"; do
    if [ "${SETTINGS[$i]%%=*}" = "${1%%=*}" ]; then SETTINGS[i]=$1; return; fi
  done
  SETTINGS+=("$1")
}
setting() {
  local s
  for s in "${SETTINGS[@]}"; do [ "${s%%=*}" = "$1" ] && { echo "${s#*=}"; return; }; done
  echo ""
}

default_cluster=true create_options=()
while [ $# -gt 0 ]; do
  case "$1" in
    --data) XFUNC_PGDATA=$2; default_cluster=false; shift 2 ;;
    --socket) XFUNC_PGHOST=$2; shift 2 ;;
    --port) XFUNC_PGPORT=$2; shift 2 ;;
    --log) XFUNC_PGLOG=$2; shift 2 ;;
    --pg) XFUNC_PG=$2; PG_BINDIR=$XFUNC_PG/lib/postgresql/$PG_MAJOR/bin; PG_CONFIG=$PG_BINDIR/pg_config; shift 2 ;;
    --set) [[ "$2" == *=* ]] || usage; set_setting "$2"; shift 2 ;;
    --no-sync) create_options+=(--no-sync); shift ;;
    -*) usage ;;
    *) break ;;
  esac
done
XFUNC_PSQL_CONNECT=(-h "$XFUNC_PGHOST" -p "$XFUNC_PGPORT" -U postgres)

running() { [ -f "$XFUNC_PGDATA/postmaster.pid" ] && as_server "$PG_BINDIR/pg_ctl" -D "$XFUNC_PGDATA" status >/dev/null 2>&1; }
psql_line() {
  if $default_cluster; then echo "psql ${XFUNC_PSQL_CONNECT[*]} xfunc"; else echo "psql ${XFUNC_PSQL_CONNECT[*]}"; fi
}

create() {
  if [ -f "$XFUNC_PGDATA/PG_VERSION" ]; then return; fi
  say "creating a cluster in $XFUNC_PGDATA"
  local parent out
  parent=$(dirname "$XFUNC_PGDATA")
  [ -d "$parent" ] || install -d -o "$XFUNC_RUNAS" "$parent"
  out=$(as_server "$PG_BINDIR/initdb" -D "$XFUNC_PGDATA" -U postgres --auth=trust --encoding=UTF8 \
    --locale=C.UTF-8 "${create_options[@]}" 2>&1) || { printf '%s\n' "$out"; exit 1; }
}

missing_libraries() {
  local dir lib missing=()
  dir=$("$PG_CONFIG" --pkglibdir)
  for lib in $(setting shared_preload_libraries | tr ',' ' '); do
    [ -f "$dir/$lib.so" ] || missing+=("$lib")
  done
  echo "${missing[*]}"
}

# The server's options: the port, the socket directory and each setting, quoted for the shell
# that pg_ctl starts the server with.
server_options() {
  local s options="-p $XFUNC_PGPORT -k '${XFUNC_PGHOST//\'/\'\\\'\'}'"
  for s in "${SETTINGS[@]}"; do options+=" -c '${s//\'/\'\\\'\'}'"; done
  echo "$options"
}

start() {
  create
  if running; then say "running"; else
    local missing; missing=$(missing_libraries)
    if [ -n "$missing" ]; then
      say "cannot start: shared_preload_libraries names $missing, not installed yet. Run: just install"
      exit 1
    fi
    # A cluster created before the settings were given at start has them at the end of its
    # postgresql.conf: removed, so that a setting dropped from SETTINGS does not stay behind.
    if grep -q '^# --- xfunc: written by tools/cluster/cluster.sh' "$XFUNC_PGDATA/postgresql.conf"; then
      # shellcheck disable=SC2016 # sed's address range ends at $, the last line: no expansion meant
      as_server sed -i '/^# --- xfunc: written by tools\/cluster\/cluster.sh/,$d' "$XFUNC_PGDATA/postgresql.conf"
    fi
    as_server mkdir -p "$XFUNC_PGHOST"
    # A Rust backtrace setting inherited by the server would add DETAIL lines to the errors
    # raised inside xfunc's functions, and regress output would depend on the caller's shell.
    as_server env -u RUST_BACKTRACE -u RUST_LIB_BACKTRACE \
      "$PG_BINDIR/pg_ctl" -D "$XFUNC_PGDATA" -l "$XFUNC_PGLOG" -w -t 60 \
      -o "$(server_options)" start >/dev/null \
      || { tail -n 20 "$XFUNC_PGLOG"; exit 1; }
    say "started"
  fi
  say "data $XFUNC_PGDATA, port $XFUNC_PGPORT, socket $XFUNC_PGHOST, log $XFUNC_PGLOG"
  say "connect: $(psql_line)"
}

# single DB [wrapper...]: a single-user backend on database DB, statements from standard input.
single() {
  [ $# -ge 1 ] || usage
  local db=$1 s options=()
  shift
  if running; then say "the cluster runs: a single-user backend needs it stopped"; exit 1; fi
  for s in "${SETTINGS[@]}"; do options+=(-c "$s"); done
  as_server env -u RUST_BACKTRACE -u RUST_LIB_BACKTRACE \
    "$@" "$PG_BINDIR/postgres" --single -D "$XFUNC_PGDATA" "${options[@]}" "$db"
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
  single) shift; single "$@" ;;
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
  *) usage ;;
esac
