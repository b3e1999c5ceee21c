# shellcheck shell=bash
# shellcheck disable=SC2034 # sourced: the scripts that source it use the values it sets
# Sourced by the tools/ scripts: where this checkout keeps its PostgreSQL 15 and its cluster.
#
# The checkout gets a private copy of the system's PostgreSQL 15 installation (Debian's build is
# relocatable: the copied binaries find their share/ and lib/ directories next to themselves).
# Both extensions are installed into that copy, never into /usr, so two checkouts never see
# each other's xfunc.so, and the system PostgreSQL stays as Debian installed it.
# Any value can be overridden from the environment.

PG_MAJOR=15
PG_SYSTEM_BINDIR=/usr/lib/postgresql/$PG_MAJOR/bin

XFUNC_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# The port is derived from the checkout's path, so two checkouts never fight over one.
XFUNC_PGPORT=${XFUNC_PGPORT:-$((20000 + 0x$(printf '%s' "$XFUNC_ROOT" | md5sum | cut -c1-4) % 10000))}

# PostgreSQL refuses to run as root; as root the cluster runs as the postgres user.
if [ "$(id -u)" -eq 0 ]; then XFUNC_RUNAS=${XFUNC_RUNAS:-postgres}; else XFUNC_RUNAS=${XFUNC_RUNAS:-$(id -un)}; fi

# What the server runs or reads (the PostgreSQL copy, the cluster) lives in target/xfunc when
# the server's user can reach it there; a checkout under /root is not reachable by postgres,
# and then it lives in a per-checkout directory under /var/tmp.
if [ -z "${XFUNC_STATE:-}" ]; then
  XFUNC_STATE=$XFUNC_ROOT/target/xfunc
  if [ "$(id -u)" -eq 0 ] && ! runuser -u "$XFUNC_RUNAS" -- test -x "$XFUNC_ROOT" 2>/dev/null; then
    XFUNC_STATE=/var/tmp/xfunc-$(printf '%s' "$XFUNC_ROOT" | md5sum | cut -c1-8)
  fi
fi
XFUNC_PG=${XFUNC_PG:-$XFUNC_STATE/pg$PG_MAJOR}
PG_BINDIR=$XFUNC_PG/lib/postgresql/$PG_MAJOR/bin
PG_CONFIG=$PG_BINDIR/pg_config
PG_REGRESS=$XFUNC_PG/lib/postgresql/$PG_MAJOR/lib/pgxs/src/test/regress/pg_regress
XFUNC_PGDATA=${XFUNC_PGDATA:-$XFUNC_STATE/pgdata}
XFUNC_PGHOST=${XFUNC_PGHOST:-$XFUNC_STATE/socket}
XFUNC_PGLOG=$XFUNC_STATE/postgresql.log

# cargo-pgrx's configuration for this checkout: points pgrx at the private copy's pg_config.
# .cargo/config.toml gives cargo's build scripts the same value.
export PGRX_HOME=$XFUNC_ROOT/target/pgrx-home

say() { printf '%s: %s\n' "$(basename "$0" .sh)" "$*"; }

# xfunc_psql ARGS...: psql on this checkout's cluster, as user postgres: the one place the psql
# command line is built (a database and options follow: -d xfunc_c, -X, -c ...). The Rust
# tests and benches connect with the same values (tests/support/mod.rs).
XFUNC_PSQL_CONNECT=(-h "$XFUNC_PGHOST" -p "$XFUNC_PGPORT" -U postgres)
xfunc_psql() { "$PG_BINDIR/psql" "${XFUNC_PSQL_CONNECT[@]}" "$@"; }

# ensure_pg_copy DIR: makes DIR a copy of the system PostgreSQL installation, unless it already
# is one of the installed Debian version. Extensions installed into an outdated copy are lost.
ensure_pg_copy() {
  local dest=$1 version
  version=$(dpkg-query -W -f='${Version} ' "postgresql-$PG_MAJOR" "postgresql-server-dev-$PG_MAJOR")
  if [ "$(cat "$dest/.system-version" 2>/dev/null)" = "$version" ]; then
    say "ok PostgreSQL copy in $dest"
    return
  fi
  say "copying the system PostgreSQL $PG_MAJOR into $dest"
  install -d -o "$XFUNC_RUNAS" "$XFUNC_STATE"
  if [ -x "$dest/lib/postgresql/$PG_MAJOR/bin/pg_ctl" ] && [ -f "$XFUNC_PGDATA/postmaster.pid" ]; then
    as_server "$dest/lib/postgresql/$PG_MAJOR/bin/pg_ctl" -D "$XFUNC_PGDATA" -m fast stop || true
  fi
  rm -rf "$dest"
  install -d "$dest/lib/postgresql" "$dest/share/postgresql" "$dest/include"
  cp -a "/usr/lib/postgresql/$PG_MAJOR" "$dest/lib/postgresql/"
  cp -a "/usr/share/postgresql/$PG_MAJOR" "$dest/share/postgresql/"
  ln -s /usr/include/postgresql "$dest/include/postgresql"
  if [ "$("$dest/lib/postgresql/$PG_MAJOR/bin/pg_config" --pkglibdir)" != "$dest/lib/postgresql/$PG_MAJOR/lib" ]; then
    say "the copy in $dest does not find its own lib/ directory (not relocatable?)"
    return 1
  fi
  echo "$version" > "$dest/.system-version"
}

# ensure_pgrx_home HOME PG_CONFIG: a pgrx configuration (cargo pgrx init) that uses PG_CONFIG.
ensure_pgrx_home() {
  local home=$1 pg_config=$2
  if grep -qs "pg$PG_MAJOR = \"$pg_config\"" "$home/config.toml"; then
    say "ok cargo pgrx init (PGRX_HOME=$home)"
  else
    say "cargo pgrx init --pg$PG_MAJOR $pg_config (PGRX_HOME=$home)"
    mkdir -p "$home"
    PGRX_HOME=$home cargo pgrx init --pg$PG_MAJOR "$pg_config"
  fi
}

# Run a command as the server's user (directly when that is us).
as_server() {
  # From /, since the server's user may not be allowed into the caller's directory (/root).
  if [ "$(id -un)" = "$XFUNC_RUNAS" ]; then "$@"; else (cd / && runuser -u "$XFUNC_RUNAS" -- "$@"); fi
}

# ANCHOR: crash_check
# A backend that dies by a signal is a failed test, whatever the test's own checks said: the
# postmaster logs "server process (PID n) was terminated by signal s" (or an exit code other
# than 0 and 1) and restarts every backend. This is the one check of it: tools/test/regress.sh
# calls these functions, the Rust tests too (tests/support/src/crash_check.rs).
# A run of tests starts with crash_check_start, which empties the list of PIDs killed on purpose
# and prints a mark of the server log; a test that kills a backend on purpose lists its PID
# (crash_check_expect_kill PID); the run ends with check_no_crash MARK. Each listed PID excuses
# one death, and no list outlives its run: the system reuses PIDs, and a PID killed on purpose
# once must not hide the real crash of a later process that got the same PID.
XFUNC_EXPECTED_KILLS=${XFUNC_EXPECTED_KILLS:-$XFUNC_STATE/expected-kills}
# crash_check_start [LOG]: empties the list, prints the size of LOG (the cluster's by default).
crash_check_start() {
  rm -f "$XFUNC_EXPECTED_KILLS"
  stat -c %s "${1:-$XFUNC_PGLOG}" 2>/dev/null || echo 0
}
crash_check_expect_kill() { echo "$1" >> "$XFUNC_EXPECTED_KILLS"; }
# check_no_crash MARK [LOG]: fails, printing the lines, when LOG (the cluster's log by default)
# says since byte MARK that a server process died by a signal it was not sent on purpose.
check_no_crash() {
  local mark=$1 log=${2:-$XFUNC_PGLOG} crashes=""
  if [ -f "$log" ]; then
    crashes=$(tail -c +"$((mark + 1))" "$log" | awk -v kills="$XFUNC_EXPECTED_KILLS" '
      BEGIN { while ((getline line < kills) > 0) if (split(line, f) > 0) excused[f[1]]++ }
      match($0, /\(PID [0-9]+\) (was terminated by signal|exited with exit code ([2-9]|[1-9][0-9]+))/) {
        pid = substr($0, RSTART + 5); sub(/\).*/, "", pid)
        if (excused[pid]-- > 0) next
        print
      }')
  fi
  if [ -n "$crashes" ]; then
    say "FAIL: a server process died (server log $log):"
    printf '%s\n' "$crashes"
    return 1
  fi
  say "ok no server process died by a signal (server log $log)"
}
# ANCHOR_END: crash_check
