# xfunc: the PostgreSQL manual's C-language functions in Rust (pgrx) and in C (PGXS).
# `just` lists the recipes by group. On a fresh machine, README.md's two commands are all you need.
#
# Naming: a recipe X that writes files into the repository has a twin X-check that fails, and
# shows the difference, when the committed files are not what X would write.
# The environment (the checkout's PostgreSQL copy, its cluster, port and socket) is computed
# once, by tools/lib/env.sh; `tools/cluster/cluster.sh env` prints it for everything else.

set shell := ["bash", "-euo", "pipefail", "-c"]

# The value tools/lib/env.sh exports and .cargo/config.toml gives cargo, set here too so that a
# PGRX_HOME in the caller's environment does not win for the recipes that run cargo directly.
export PGRX_HOME := justfile_directory() / "target/pgrx-home"
book_port := env_var_or_default("XFUNC_BOOK_PORT", "3000")

# What `just gen` writes and `just gen-check` checks: each name is a recipe X with its X-check.
# Everything here is derived deterministically from the sources (book-artifacts: from the
# installed build, so after `just install`). Measurements are not: see the `measure` group.
# book/generated/first-extension/ is derived deterministically too, from a run of the chapter's
# steps, but that run is a test of its own (first-extension-check, in `just test`): left out.
generated := "book-artifacts expand api-map unguarded-table diagrams bench-tables readme-recipes"

[private]
default:
    @just --list --unsorted

# --- set-up -------------------------------------------------------------------------------------

# build and install both extensions, start the cluster, serve the book (README's first command, after setup)
[group('set-up')]
up: install cluster-start
    @echo "try it:  just psql -c 'SELECT add_one(41)'       (Rust build, database xfunc)"
    @echo "         just psql -d xfunc_c -c 'SELECT add_one(41)'  (C build)"
    @echo "    or:  $(tools/cluster/cluster.sh psql-line) -c 'SELECT add_one(41)'"
    @just book-serve

# install what is missing: PostgreSQL 15 + headers, clang, cargo-pgrx 0.18.1, just, mdbook, ...
[group('set-up')]
setup:
    bash tools/cluster/setup.sh

# compile both extensions without installing them (dev profile; C with -Werror)
[group('set-up')]
build:
    cargo build --lib
    . tools/lib/env.sh && make -s -C c PG_CONFIG="$PG_CONFIG" COPT=-Werror

# ANCHOR: install
# build both extensions (Rust in release; XFUNC_INSTALL_PROFILE=dev: quicker), install them, restart the cluster
[group('set-up')]
install:
    tools/cluster/install.sh
# ANCHOR_END: install

# --- the local cluster (data, port and socket: tools/lib/env.sh) --------------------------------

# create the cluster if needed and start it (idempotent)
[group('cluster')]
cluster-start:
    tools/cluster/cluster.sh start

# stop the cluster (idempotent)
[group('cluster')]
cluster-stop:
    tools/cluster/cluster.sh stop

# say whether the cluster exists and runs, and how to connect
[group('cluster')]
cluster-status:
    tools/cluster/cluster.sh status

# stop the cluster and delete its data directory
[group('cluster')]
cluster-destroy:
    tools/cluster/cluster.sh destroy

# psql on the cluster, database xfunc (Rust build) unless -d says otherwise (-d xfunc_c: C)
[group('cluster')]
[positional-arguments]
psql *args:
    @tools/cluster/cluster.sh psql "$@"

# --- tests --------------------------------------------------------------------------------------

# The steps of `just test`, in the order a newcomer would run them.
test_steps := "lint checker-tests pgrx-test install-and-regress difftest cluster-tests gen-check book-check spelling first-extension-check exercise-check browser-test bench-smoke"

# every test, in the order a newcomer would run them, then each step's time (README's second command)
[group('test')]
test:
    #!/usr/bin/env bash
    set -uo pipefail
    rows=() failed=""
    for step in {{test_steps}}; do
      started=$SECONDS
      {{just_executable()}} "$step" || failed=$step
      rows+=("$step $((SECONDS - started)) ${failed:+FAILED}")
      [ -z "$failed" ] || break
    done
    printf '\njust test: time of each step (wall clock)\n'
    printf '%s\n' "${rows[@]}" | awk '{ t += $2; printf "  %-24s %3d:%02d %s\n", $1, $2 / 60, $2 % 60, $3 }
      END { printf "  %-24s %3d:%02d\n", "total", t / 60, t % 60 }'
    if [ -n "$failed" ]; then echo "just test: $failed FAILED (its output is above)"; exit 1; fi
    echo "just test: every check passed"
# cargo fmt --check, clippy with warnings denied, the calls into PostgreSQL without pgrx's guard, shellcheck and ruff on the tools
[group('test')]
lint:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings
    cargo clippy --test differential --test cluster --test checkers -- -D warnings
    @{{just_executable()}} unguarded-check
    git ls-files -z '*.sh' .ci/run | xargs -0 shellcheck
    ruff check --no-cache $(git ls-files '*.py')

# every call into PostgreSQL without pgrx's guard is in src/pg_support/unguarded.toml, from plain old frames (MIR); then the check's self-test
[group('test')]
unguarded-check:
    python3 tools/test/unguarded_check.py
    python3 tools/test/unguarded_check.py --self-test

# the tests' own checkers refuse what they must: the log-file check, the crash check (tests/checkers.rs)
[group('test')]
checker-tests:
    cargo test --test checkers

# the #[pg_test] tests, in a temporary cluster pgrx starts (as postgres when run as root)
[group('test')]
pgrx-test:
    tools/test/pgrx-test.sh

# ANCHOR: regress
# the sql/ suite against the installed xfunc, then xfunc_c, then the fast variants (xfunc_fast): one expected/
[group('test')]
[positional-arguments]
regress *tests:
    @tools/test/regress.sh xfunc xfunc_c xfunc_fast -- "$@"

# install both extensions, then run the same regress suite against xfunc and against xfunc_c
[group('test')]
install-and-regress: install regress
# ANCHOR_END: regress

# after `just regress`: copy its results into expected/ when xfunc, xfunc_c (and xfunc_fast) gave the very same output
[group('test')]
[positional-arguments]
regress-accept *tests:
    @tools/test/regress.sh --accept "$@"

# XFUNC_DIFFTEST_SEED replays another seed; XFUNC_DIFFTEST_ONLY=name,... picks functions.
# call every function of both installed builds with the same random arguments (fixed seed): same answers
[group('test')]
difftest:
    XFUNC_DIFFTEST_SEED=${XFUNC_DIFFTEST_SEED:-20261202} cargo test --test differential -- --nocapture

# the differential test at length: up to a million calls per function in at most an hour, seeded from the clock
[group('test')]
difftest-long seconds="3600":
    XFUNC_DIFFTEST_CALLS=${XFUNC_DIFFTEST_CALLS:-1000000} XFUNC_DIFFTEST_SECONDS={{seconds}} \
        cargo test --test differential -- --nocapture

# CLIENTS, CALLS, CALLS_SYNC, DESIGNS and SYNCS override the defaults (16, 10000, 200, all three designs, sync off and on).
# Each CASE is a filter of the test names (`cargo test --test cluster -- --list`); libtest-mimic
# takes one filter a run, so several cases run one after the other, in the order given.
# chapters 12-13 on both builds and log designs (tests/cluster/), or the named cases: load, kill -9, failing writes, no preload
[group('test')]
[positional-arguments]
cluster-tests *cases:
    #!/usr/bin/env bash
    set -uo pipefail
    if [ $# -le 1 ] || [[ " $* " == *" -"* ]]; then exec cargo test --test cluster -- "$@"; fi
    failed=()
    for c in "$@"; do cargo test --test cluster -- "$c" || failed+=("$c"); done
    if [ ${#failed[@]} -gt 0 ]; then echo "cluster-tests: failed: ${failed[*]}"; exit 1; fi

# spell-check the book, the comments and the docs (codespell; right words: tools/book/spelling-words.txt)
[group('test')]
spelling:
    codespell --ignore-words tools/book/spelling-words.txt --skip '*.o,*.so,*.bc,*.svg' \
        README.md justfile book/src book/diagrams book/api-map.toml src c sql benches tests tools \
        first_extension exercises

# run the chapter "Your First Extension" step by step in target/; fail when a step prints other than the book shows
[group('test')]
first-extension-check:
    tools/test/first-extension.sh

# do chapter 1's exercise as the book shows it, in a scratch copy (target/exercise): it must pass
[group('test')]
exercise-check:
    tools/test/exercise.sh

# run every benchmark once, quickly, against the running cluster, so that they cannot rot
[group('test')]
bench-smoke:
    cargo test --benches

# --- the book -----------------------------------------------------------------------------------

# build the book into book/book
[group('book')]
book-build:
    mdbook build book

# serve the book on localhost (XFUNC_BOOK_PORT, default 3000), rebuilding on change
[group('book')]
book-serve:
    @echo "book: http://127.0.0.1:{{book_port}}/"
    mdbook serve book -n 127.0.0.1 -p {{book_port}}

# build the book and fail on pasted code, dangling anchors, missing files, broken links, pages over 900 lines, figures not from the numbers
[group('book')]
book-check:
    python3 tools/book/figures.py --self-test
    python3 tools/book/book_check.py

# open every page of the built book in headless Chromium (Selenium): titles, code, links, images, search
[group('book')]
[positional-arguments]
browser-test *args:
    python3 tools/book/browser_test.py "$@"

# the length of each page of the built book in rendered lines (run just book-build first)
[group('book')]
book-lines:
    python3 tools/book/book_lines.py

# --- generated files: `just gen` writes them all, `just gen-check` checks them all ---------------

# rewrite everything derived from the sources: book/generated/, the API appendix, the diagrams, the README's recipe table (after just install)
[group('generate')]
gen:
    #!/usr/bin/env bash
    set -euo pipefail
    for r in {{generated}}; do {{just_executable()}} "$r"; done

# fail, naming each, when a file `just gen` writes is stale (every check runs, then the verdict)
[group('generate')]
gen-check:
    #!/usr/bin/env bash
    set -uo pipefail
    stale=()
    for r in {{generated}}; do {{just_executable()}} "$r-check" || stale+=("$r"); done
    if [ ${#stale[@]} -gt 0 ]; then
      echo "gen-check: stale: ${stale[*]} (the differences are above; just gen rewrites them)"
      exit 1
    fi
    echo "gen-check: up to date: {{generated}}"

# rewrite book/generated/build/ (command lines, what PGXS installs and runs) and installed/ (per-function listings)
[group('generate')]
book-artifacts:
    tools/book/artifacts.sh

# fail when book/generated/build/ is not what the installed build gives
[group('generate')]
book-artifacts-check:
    tools/book/artifacts.sh --check

# rewrite book/generated/expanded.rs: excerpts of what pgrx's macros expand our code to
[group('generate')]
expand:
    python3 tools/book/expand.py

# fail when book/generated/expanded.rs is not what the macros expand the current code to
[group('generate')]
expand-check:
    python3 tools/book/expand.py --check

# rewrite book/generated/unguarded.md, chapter 14's tables, from src/pg_support/unguarded.toml
[group('generate')]
unguarded-table:
    python3 tools/book/unguarded_table.py

# fail when book/generated/unguarded.md is not what src/pg_support/unguarded.toml gives
[group('generate')]
unguarded-table-check:
    python3 tools/book/unguarded_table.py --check

# rewrite the C-to-Rust appendix, book/src/appendix-api-map.md, from book/api-map.toml and c/
[group('generate')]
api-map:
    python3 tools/book/api_map.py --write

# fail when the C-to-Rust appendix misses a name c/ uses, lists an unused one, misquotes the code, or is stale
[group('generate')]
api-map-check:
    python3 tools/book/api_map.py

# render the book's diagrams, book/diagrams/*.gv, to book/src/diagrams/*.svg (Graphviz)
[group('generate')]
diagrams:
    tools/book/diagrams.sh

# fail when a diagram's committed SVG is not what its source renders to
[group('generate')]
diagrams-check:
    tools/book/diagrams.sh --check

# rewrite the README's table of recipes from `just --list`
[group('generate')]
readme-recipes:
    python3 tools/book/readme_recipes.py

# fail when the README's table of recipes is not what `just --list` says
[group('generate')]
readme-recipes-check:
    python3 tools/book/readme_recipes.py --check

# rewrite the first-extension chapter's outputs, book/generated/first-extension/, from a run of its steps
[group('generate')]
first-extension:
    tools/test/first-extension.sh --write

# redraw the benchmark chapter's tables and plots from the committed run data (book/generated/benchmarks)
[group('generate')]
bench-tables:
    python3 tools/bench/bench_report.py --from-data

# fail when the benchmark chapter's tables and plots are not what the committed run data gives
[group('generate')]
bench-tables-check:
    python3 tools/bench/bench_report.py --from-data --check

# --- measurements -------------------------------------------------------------------------------
# What these write depends on the machine and its load (time, memory), so `just gen` does not
# run them and `just gen-check` does not compare them: a re-measurement is a decision, made with
# `just measure` (or one recipe) on a quiet machine, and its result is reviewed before it is
# committed. bench-tables is the exception: it redraws the tables and plots from the data a
# reviewed run committed, deterministically, and belongs to `generated`.

# The committed run: the release build installed first (whatever profile the last install
# used), from a clean tree (a run of uncommitted code is refused), each bench file started once
# the load average has fallen (tools/bench/bench_report.py --run --settle), the benches first,
# before anything rewrites a committed file.
# measure everything the book reports, from a committed tree: install (release), bench, bench-callgrind, srf-memory, varlena-faults, then bench-report (takes long)
[group('measure')]
measure:
    env -u XFUNC_INSTALL_PROFILE {{just_executable()}} install
    python3 tools/bench/bench_report.py --run --clean --settle
    {{just_executable()}} bench-callgrind
    {{just_executable()}} srf-memory
    {{just_executable()}} varlena-faults
    {{just_executable()}} bench-report

# the backend's peak memory while consuming 1M and 10M rows of retcomposite, for both builds (book/generated/srf-memory.txt)
[group('measure')]
srf-memory:
    tools/bench/srf-memory.sh

# the page faults per 1 MiB copytext result, through the executor and in a PL/pgSQL loop, for both builds (book/generated/varlena-faults.txt)
[group('measure')]
varlena-faults:
    tools/bench/varlena-faults.sh

# run the criterion benchmarks against the local cluster, a file at a time, noting the load before and after (arguments go to cargo bench)
[group('measure')]
[positional-arguments]
bench *args:
    python3 tools/bench/bench_report.py --run -- "$@"

# count the instructions of each per_call and aggregates statement with callgrind (stops the cluster meanwhile)
[group('measure')]
[positional-arguments]
bench-callgrind *cases:
    python3 tools/bench/bench_callgrind.py "$@"

# turn the last `just bench` run into the benchmark chapter's numbers (JSON), tables and plots
[group('measure')]
[positional-arguments]
bench-report *args:
    python3 tools/bench/bench_report.py "$@"
