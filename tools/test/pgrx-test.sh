#!/usr/bin/env bash
# cargo pgrx test, against a second private copy of PostgreSQL 15 (pg15-test): pgrx installs
# the test build of xfunc (with its tests schema) into whatever pg_config it is given, and that
# must not be the copy the local cluster runs from. pgrx starts its own temporary cluster; as
# root it runs that cluster as postgres (--runas), in a directory whose parent postgres owns.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib/env.sh"
cd "$XFUNC_ROOT"

test_pg=$XFUNC_STATE/pg$PG_MAJOR-test
ensure_pg_copy "$test_pg"
export PGRX_HOME=$XFUNC_ROOT/target/pgrx-home-test
ensure_pgrx_home "$PGRX_HOME" "$test_pg/lib/postgresql/$PG_MAJOR/bin/pg_config"

if [ "$(id -u)" -eq 0 ]; then
  exec cargo pgrx test pg$PG_MAJOR --runas "$XFUNC_RUNAS" --pgdata "$XFUNC_STATE/pgrx-test-data" "$@"
else
  exec cargo pgrx test pg$PG_MAJOR "$@"
fi
