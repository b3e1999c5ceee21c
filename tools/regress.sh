#!/usr/bin/env bash
# Runs the one pg_regress suite (sql/*.sql, expected/*.out) against each build in turn:
# xfunc (Rust) and xfunc_c (C). The same files must give the same output on both; a diff in
# either run fails and is printed.
#
#   tools/regress.sh [extension...] [-- test...]     default: xfunc xfunc_c, every sql/*.sql
#
# Expects the cluster to be running with both extensions installed (just install-and-regress).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$XFUNC_ROOT"

exts=() tests=()
while [ $# -gt 0 ]; do
  if [ "$1" = "--" ]; then shift; tests=("$@"); break; fi
  exts+=("$1"); shift
done
[ ${#exts[@]} -gt 0 ] || exts=(xfunc xfunc_c)
if [ ${#tests[@]} -eq 0 ]; then
  for f in sql/*.sql; do tests+=("$(basename "$f" .sql)"); done
fi

status=0
mark=$(server_log_mark)
# ANCHOR: pg_regress
for ext in "${exts[@]}"; do
  out=$XFUNC_ROOT/target/regress/$ext
  rm -rf "$out"; mkdir -p "$out"
  echo "regress: ${#tests[@]} tests against $ext (output in ${out#"$XFUNC_ROOT"/})"
  if ! "$PG_REGRESS" --inputdir=. --outputdir="$out" --bindir="$PG_BINDIR" \
       --host="$XFUNC_PGHOST" --port="$XFUNC_PGPORT" --user=postgres \
       --dbname="regress_$ext" --load-extension="$ext" "${tests[@]}"; then
    status=1
    if [ -f "$out/regression.diffs" ]; then
      echo "regress: $ext differs from expected/:"
      cat "$out/regression.diffs"
    fi
  fi
done
# ANCHOR_END: pg_regress
check_no_crash "$mark" || status=1
exit $status
