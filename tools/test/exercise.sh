#!/usr/bin/env bash
# The chapter-1 exercise (book/src/01-dynamic-loading.md, "Exercise: your first function"), done
# as a reader does it, in a scratch copy of this checkout: its solution written into the three
# files the chapter names, the steps the chapter lists run one by one, and then the checks of
# `just test` that read the set of functions. It must pass, and the reader's change must touch
# only what the chapter says it touches.
#
#   tools/test/exercise.sh     (just exercise-check, part of just test)
#
# The solution is exercises/, laid out as the repository is, and the chapter includes it from
# there, so the book shows exactly what is tested; tools/test/exercise_tree.py writes it where the
# chapter says (its header lists where each piece goes).
#
# The steps are the block below; the chapter includes it, so it lists every step this script
# takes. A step whose comment starts with "fails" must fail. `just test` stands for the checks
# that a new function in a chapter can make fail: rustfmt and clippy on the library (the
# reader's Rust is there), the regress suite, the differential test on the new function,
# gen-check, book-check, spelling. The rest of `just test` reads no list of functions and no
# code of the reader's (pgrx's tests, clippy on the test and bench targets, the unguarded-call
# check and its self-test, the cluster tests, the first-extension chapter, the browser, the
# benchmarks), and the outer `just test` runs it on the checkout.
#
# Where: target/exercise/ (the copy; its cluster, port and PostgreSQL copy follow from its path,
# see tools/lib/env.sh). It is kept between runs, and a file is rewritten only when its content
# changes, so a second run rebuilds nothing. Its Rust target directory starts as a copy of this
# checkout's target/debug, so only the crate itself compiles. The Rust build is the dev profile
# (XFUNC_INSTALL_PROFILE=dev, which the chapter mentions); the cluster is stopped at the end.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib/env.sh"
cd "$XFUNC_ROOT"

scratch=$XFUNC_ROOT/target/exercise
started=$SECONDS

step() { printf 'exercise: [%3d s] %s\n' "$((SECONDS - started))" "$*"; }
fail() { printf 'exercise: FAILED: %s\n' "$*" >&2; exit 1; }

# What the reader types, in order; the chapter shows this block.
steps() {
  sed -n '/^# ANCHOR: steps$/,/^# ANCHOR_END: steps$/p' "${BASH_SOURCE[0]}" | grep -v '^# ANCHOR'
}
: <<'STEPS'
# ANCHOR: steps
# ANCHOR: steps_build
just install
just psql -c 'SELECT my_add_one(41)'
just psql -d xfunc_c -c 'SELECT my_add_one(41)'
# ANCHOR_END: steps_build
# ANCHOR: steps_test
just regress dynamic_loading           # fails: expected/ does not have your test's output yet
just regress-accept dynamic_loading    # read the difference it prints: it is your test's output
just test
# ANCHOR_END: steps_test
# ANCHOR_END: steps
STEPS

# --- the copy, with the solution written in -----------------------------------------------------
# A file of the copy is rewritten only when its content changes (tools/test/exercise_tree.py), so
# cargo and make rebuild only what the solution changed. The test's expected output starts as
# the checkout's: accepting the new output is one of the reader's steps.
python3 tools/test/exercise_tree.py "$scratch"
if [ ! -d "$scratch/target/debug" ]; then
  step "copying target/debug into the scratch copy, once (only the crate itself will compile)"
  mkdir -p "$scratch/target"
  cp -a target/debug "$scratch/target/"
fi

# --- the reader's steps, in the scratch copy ---------------------------------------------------
# Nothing of this checkout's environment may reach the copy: it has a cluster of its own.
scrub=()
for v in $(compgen -e); do case "$v" in XFUNC_*|PGRX_HOME|PG*) scrub+=(-u "$v") ;; esac; done
in_scratch() { (cd "$scratch" && env "${scrub[@]}" XFUNC_INSTALL_PROFILE=dev "$@"); }
trap 'in_scratch tools/cluster/cluster.sh stop >/dev/null 2>&1 || true' EXIT

in_scratch bash tools/cluster/setup.sh >/dev/null
while IFS= read -r line; do
  command=${line%%#*}
  command=${command%"${command##*[![:space:]]}"}
  comment=${line#"$command"}
  if [ "$command" = "just test" ]; then
    # See the header: the checks of just test that a new function can make fail.
    command="cargo fmt --all --check && cargo clippy --lib -- -D warnings && just regress"
    command+=" && just gen-check && just book-check && just spelling"
    step "just test (here: $command, then the differential test on my_add_one)"
    in_scratch bash -c "$command" >"$scratch/target/exercise.log" 2>&1 \
      || { cat "$scratch/target/exercise.log"; fail "just test failed in the scratch copy"; }
    in_scratch env XFUNC_DIFFTEST_ONLY=my_add_one just difftest >>"$scratch/target/exercise.log" 2>&1 \
      || { cat "$scratch/target/exercise.log"; fail "the differential test failed on my_add_one"; }
    grep -q 'my_add_one' "$scratch/target/exercise.log" \
      || fail "the differential test did not call my_add_one"
    continue
  fi
  step "$command"
  if [[ "$comment" == *"# fails"* ]]; then
    if in_scratch bash -c "$command" >"$scratch/target/exercise.log" 2>&1; then
      cat "$scratch/target/exercise.log"; fail "$command succeeded, but the chapter says it fails"
    fi
  elif ! in_scratch bash -c "$command" >"$scratch/target/exercise.log" 2>&1; then
    cat "$scratch/target/exercise.log"; fail "$command failed"
  fi
done < <(steps)
in_scratch just psql -X -A -t -c 'SELECT my_add_one(41)' | grep -qx 42 || fail "xfunc: my_add_one(41) is not 42"
in_scratch just psql -X -A -t -d xfunc_c -c 'SELECT my_add_one(41)' | grep -qx 42 \
  || fail "xfunc_c: my_add_one(41) is not 42"

# --- what the reader's change touched ------------------------------------------------------------
allowed='^(src/dynamic_loading\.rs|c/dynamic_loading\.c|c/dynamic_loading\.sql|sql/.*|expected/.*)$'
touched=$(python3 tools/test/exercise_tree.py "$scratch" --touched)
step "the exercise changed: $(paste -s -d ' ' <<<"$touched")"
others=$(grep -v -E "$allowed" <<<"$touched" || true)
[ -z "$others" ] || fail "the exercise made the reader change files beyond the chapter's: $others"
for f in src/dynamic_loading.rs c/dynamic_loading.c c/dynamic_loading.sql sql/dynamic_loading.sql \
         expected/dynamic_loading.out; do
  grep -qx "$f" <<<"$touched" || fail "$f should have changed, and did not"
done
step "ok: the exercise passes as chapter 1 shows it ($((SECONDS - started)) s)"
