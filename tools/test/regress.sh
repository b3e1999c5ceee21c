#!/usr/bin/env bash
# Runs the one pg_regress suite (sql/*.sql, expected/*.out) against each build in turn:
# xfunc (Rust) and xfunc_c (C). The same files must give the same output on both; a diff in
# either run fails and is printed.
#
# A third run, xfunc_fast, checks the fast variants of the chapter "Rust at the Speed of C" (schema xfunc_fast of the
# xfunc extension, under the ordinary names) against the same expected output: the tests that
# call them run again with search_path = xfunc_fast, public, so that every call of add_one,
# makepoint, copytext, concat_text, make_array and shared_counter_add reaches the fast one.
#
#   tools/test/regress.sh [run...] [-- test...]     default: xfunc xfunc_c xfunc_fast, every sql/*.sql
#
# Expects the cluster to be running with both extensions installed (just install-and-regress).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib/env.sh"
cd "$XFUNC_ROOT"

exts=() tests=()
while [ $# -gt 0 ]; do
  if [ "$1" = "--" ]; then shift; tests=("$@"); break; fi
  exts+=("$1"); shift
done
[ ${#exts[@]} -gt 0 ] || exts=(xfunc xfunc_c xfunc_fast)
# The tests that call a function with a fast variant.
fast_tests=(base_types polymorphic shared_memory)
if [ ${#tests[@]} -eq 0 ]; then
  for f in sql/*.sql; do tests+=("$(basename "$f" .sql)"); done
fi

status=0
mark=$(server_log_mark)
# ANCHOR: pg_regress
for ext in "${exts[@]}"; do
  out=$XFUNC_ROOT/target/regress/$ext
  rm -rf "$out"; mkdir -p "$out"
  run_tests=("${tests[@]}") options=${PGOPTIONS:-} load=$ext
  if [ "$ext" = xfunc_fast ]; then
    load=xfunc options="${options:+$options }-c search_path=xfunc_fast,public"
    run_tests=()
    for t in "${tests[@]}"; do
      [[ " ${fast_tests[*]} " == *" $t "* ]] && run_tests+=("$t")
    done
    [ ${#run_tests[@]} -gt 0 ] || continue
  fi
  echo "regress: ${#run_tests[@]} tests against $ext (output in ${out#"$XFUNC_ROOT"/})"
  if ! PGOPTIONS=$options "$PG_REGRESS" --inputdir=. --outputdir="$out" --bindir="$PG_BINDIR" \
       --host="$XFUNC_PGHOST" --port="$XFUNC_PGPORT" --user=postgres \
       --dbname="regress_$ext" --load-extension="$load" "${run_tests[@]}"; then
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
