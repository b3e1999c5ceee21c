# xfunc: the PostgreSQL manual's C-language functions in Rust (pgrx) and in C (PGXS).
# `just` lists the recipes. On a fresh machine, README.md's two commands are all you need.

set shell := ["bash", "-euo", "pipefail", "-c"]

pg_config := `bash -c '. tools/env.sh && echo $PG_CONFIG'`
export PGRX_HOME := justfile_directory() / "target/pgrx-home"
book_port := env_var_or_default("XFUNC_BOOK_PORT", "3000")

# list the recipes
default:
    @just --list --unsorted

# --- the two entry points ---------------------------------------------------------------------

# build and install both extensions, start the cluster, serve the book (README's first command)
up: install cluster-start
    @echo "try it:  just psql -c 'SELECT add_one(41)'       (Rust build, database xfunc)"
    @echo "         just psql -d xfunc_c -c 'SELECT add_one(41)'  (C build)"
    @echo "    or:  $(tools/cluster.sh psql-line) -c 'SELECT add_one(41)'"
    @just book-serve

# every test: lint, pgrx tests, regress on both builds, book check, bench smoke run
test: lint pgrx-test install-and-regress difftest cluster-tests book-artifacts-check expand-check diagrams-check book-check api-map spelling first-extension browser-test bench-smoke
    @echo "just test: every check passed"

# --- set-up -------------------------------------------------------------------------------------

# install what is missing: PostgreSQL 15 + headers, clang, cargo-pgrx 0.18.1, just, mdbook
setup:
    bash tools/setup.sh

# --- build and install --------------------------------------------------------------------------

# compile both extensions without installing them (dev profile; C with -Werror)
build:
    cargo build --lib
    make -s -C c PG_CONFIG={{pg_config}} COPT=-Werror

# ANCHOR: install
# build both extensions (Rust in release), install them into the checkout's PostgreSQL, restart
install:
    tools/install.sh
# ANCHOR_END: install

# --- the local cluster (data, port and socket: tools/env.sh) --------------------------------------

# create the cluster if needed and start it (idempotent)
cluster-start:
    tools/cluster.sh start

# stop the cluster (idempotent)
cluster-stop:
    tools/cluster.sh stop

# say whether the cluster exists and runs, and how to connect
cluster-status:
    tools/cluster.sh status

# stop the cluster and delete its data directory
cluster-destroy:
    tools/cluster.sh destroy

# psql on the cluster, database xfunc (Rust build) unless -d says otherwise (-d xfunc_c: C)
[positional-arguments]
psql *args:
    @tools/cluster.sh psql "$@"

# --- tests --------------------------------------------------------------------------------------

# cargo fmt --check and clippy with warnings denied
lint:
    cargo fmt --check
    cargo clippy --all-targets -- -D warnings
    cargo clippy --test differential --test cluster -- -D warnings

# the #[pg_test] tests, in a temporary cluster pgrx starts (as postgres when run as root)
pgrx-test:
    tools/pgrx-test.sh

# ANCHOR: regress
# run the regress suite (or the named tests) against both installed extensions and the fast variants
[positional-arguments]
regress *tests:
    @tools/regress.sh xfunc xfunc_c xfunc_fast -- "$@"

# install both extensions, then run the same regress suite against xfunc and against xfunc_c
install-and-regress: install regress
# ANCHOR_END: regress

# call every function of both installed builds with the same random arguments; demand the same
# answers (a fixed seed here, so the test command is repeatable; XFUNC_DIFFTEST_SEED picks another,
# XFUNC_DIFFTEST_ONLY=name,... picks functions; difftest-long seeds from the clock)
difftest:
    XFUNC_DIFFTEST_SEED=${XFUNC_DIFFTEST_SEED:-20261202} cargo test --test differential -- --nocapture

# the differential test at length: up to a million calls per function, in at most an hour
difftest-long seconds="3600":
    XFUNC_DIFFTEST_CALLS=${XFUNC_DIFFTEST_CALLS:-1000000} XFUNC_DIFFTEST_SECONDS={{seconds}} \
        cargo test --test differential -- --nocapture

# chapters 12-13 on both builds and both log designs (tests/cluster.rs): 16 pgbench clients logging, kill -9, failing writes, no preload
# (or the named cases; CLIENTS, CALLS, DESIGNS override the defaults)
[positional-arguments]
cluster-tests *cases:
    cargo test --test cluster -- "$@"

# build the book and fail on pasted code, dangling anchors, missing files, broken links
book-check:
    python3 tools/book_check.py

# open every page of the built book in headless Chromium: titles, code blocks, links, search
[positional-arguments]
browser-test *args:
    python3 tools/browser_test.py "$@"

# fail when the book's C-to-Rust appendix misses a name c/ uses, lists an unused one, or is stale
api-map:
    PG_CONFIG={{pg_config}} python3 tools/api_map.py

# rewrite the appendix book/src/appendix-api-map.md from book/api-map.toml and c/
api-map-update:
    PG_CONFIG={{pg_config}} python3 tools/api_map.py --write

# spell-check the book, the comments and the docs (codespell; right words: tools/spelling-words.txt)
spelling:
    codespell --ignore-words tools/spelling-words.txt --skip '*.o,*.so,*.bc,*.svg' \
        README.md justfile book/src book/diagrams book/api-map.toml src c sql benches tests tools \
        first_extension

# fail when book/generated/build/ is not what the installed build gives (run after install-and-regress)
book-artifacts-check:
    tools/artifacts.sh --check

# run every benchmark once, quickly, against the running cluster, so that they cannot rot
bench-smoke:
    cargo test --benches

# --- book and benchmarks ------------------------------------------------------------------------

# render the book's diagrams, book/diagrams/*.gv, to book/src/diagrams/*.svg (Graphviz)
diagrams:
    tools/diagrams.sh

# fail when a diagram's committed SVG is not what its source renders to
diagrams-check:
    tools/diagrams.sh --check

# the book's "Your First Extension" chapter, run: cargo pgrx new/run/test and a PGXS twin, in target/
first-extension:
    tools/first-extension.sh

# the length of each page of the built book in rendered lines (run just book-build first)
book-lines:
    python3 tools/book_lines.py

# build the book into book/book
book-build:
    mdbook build book

# rewrite book/generated/build/ (compile lines, symbol tables, generated SQL) from the installed build
book-artifacts:
    tools/artifacts.sh

# serve the book on localhost (XFUNC_BOOK_PORT, default 3000), rebuilding on change
book-serve:
    @echo "book: http://127.0.0.1:{{book_port}}/"
    mdbook serve book -n 127.0.0.1 -p {{book_port}}

# the backend's peak memory while consuming 1M and 10M rows of retcomposite, for both builds
srf-memory:
    tools/srf-memory.sh

# regenerate book/generated/expanded.rs: excerpts of what pgrx's macros expand our code to
expand:
    python3 tools/expand.py

# fail when book/generated/expanded.rs is not what the macros expand the current code to
expand-check:
    python3 tools/expand.py --check

# run the criterion benchmarks against the local cluster (arguments go to cargo bench)
[positional-arguments]
bench *args:
    cargo bench "$@"

# count each per_call statement's instructions with callgrind (stops the cluster meanwhile)
[positional-arguments]
bench-callgrind *cases:
    python3 tools/bench_callgrind.py "$@"

# turn the last `just bench` run into the benchmark chapter's tables and plots (book/generated/benchmarks)
bench-report:
    python3 tools/bench_report.py
