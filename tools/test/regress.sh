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
#   tools/test/regress.sh --accept [test...]        after a run: its results become expected/
#
# Expects the cluster to be running with both extensions installed (just install-and-regress).
#
# --accept (just regress-accept) copies the last run's results/<test>.out into expected/, for
# every test of that run or the tests named, but only when the runs agree: xfunc's and xfunc_c's
# results (and xfunc_fast's, for the tests it runs) must be byte for byte the same, or nothing
# is copied and the tests they differ on are named. It prints the difference each copy makes to
# expected/ first; when there is none, it changes nothing.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib/env.sh"
cd "$XFUNC_ROOT"

# The tests that call a function with a fast variant.
fast_tests=(base_types polymorphic shared_memory)
# What the last run ran: its runs and its tests, written when it ends.
last_run=target/regress/last-run

accept() {
  [ -f "$last_run" ] || { say "no finished regress run to accept: run just regress first"; return 1; }
  local ran_exts ran_tests wanted=("$@") disagree=() changed=() t a b other others
  read -r -a ran_exts < <(sed -n 's/^runs: //p' "$last_run")
  read -r -a ran_tests < <(sed -n 's/^tests: //p' "$last_run")
  [ ${#wanted[@]} -gt 0 ] || wanted=("${ran_tests[@]}")
  for t in "${wanted[@]}"; do
    if [[ " ${ran_tests[*]} " != *" $t "* ]]; then
      say "$t was not run by the last regress run (tests: ${ran_tests[*]}): run just regress $t"
      return 1
    fi
    others=(xfunc_c)
    [[ " ${fast_tests[*]} " == *" $t "* ]] && others+=(xfunc_fast)
    for other in xfunc "${others[@]}"; do
      if [[ " ${ran_exts[*]} " != *" $other "* ]]; then
        say "the last regress run did not run against $other (runs: ${ran_exts[*]}): run just regress"
        return 1
      fi
    done
    a=target/regress/xfunc/results/$t.out
    [ -f "$a" ] || { say "$t has no result in ${a%/*}"; return 1; }
    for other in "${others[@]}"; do
      b=target/regress/$other/results/$t.out
      if [ ! -f "$b" ]; then
        say "$t: $other has no result"; disagree+=("$t ($other)")
      elif ! cmp -s "$a" "$b"; then
        say "$t: $other's result differs from xfunc's:"
        diff -u "$a" "$b" || true
        disagree+=("$t ($other)")
      fi
    done
  done
  if [ ${#disagree[@]} -gt 0 ]; then
    say "refused: the builds disagree on ${disagree[*]}; expected/ is unchanged"
    return 1
  fi
  for t in "${wanted[@]}"; do
    a=target/regress/xfunc/results/$t.out
    if ! cmp -s "expected/$t.out" "$a"; then
      diff -u "$(if [ -f "expected/$t.out" ]; then echo "expected/$t.out"; else echo /dev/null; fi)" "$a" || true
      changed+=("$t")
    fi
  done
  if [ ${#changed[@]} -eq 0 ]; then
    say "ok expected/ already holds the results of all ${#wanted[@]} tests, the same for every build: nothing to copy"
    return 0
  fi
  for t in "${changed[@]}"; do cp "target/regress/xfunc/results/$t.out" "expected/$t.out"; done
  say "copied into expected/ (the same for every build; review with git diff): ${changed[*]}"
}
if [ "${1:-}" = "--accept" ]; then shift; accept "$@"; exit; fi

exts=() tests=()
while [ $# -gt 0 ]; do
  if [ "$1" = "--" ]; then shift; tests=("$@"); break; fi
  exts+=("$1"); shift
done
[ ${#exts[@]} -gt 0 ] || exts=(xfunc xfunc_c xfunc_fast)
if [ ${#tests[@]} -eq 0 ]; then
  for f in sql/*.sql; do tests+=("$(basename "$f" .sql)"); done
fi
mkdir -p "${last_run%/*}"; rm -f "$last_run"

status=0
mark=$(crash_check_start "$XFUNC_PGLOG")
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
printf 'runs: %s\ntests: %s\n' "${exts[*]}" "${tests[*]}" > "$last_run"
check_no_crash "$mark" || status=1
exit $status
