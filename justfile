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
    @echo "try it:  $(tools/cluster.sh psql-line) -c 'SELECT add_one(41)'"
    @just book-serve

# every test: lint, pgrx tests, regress on both builds, book check, bench smoke run
test: lint pgrx-test install-and-regress book-check bench-smoke
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

# build both extensions (Rust in release), install them into the checkout's PostgreSQL, restart
install:
    tools/install.sh

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

# open psql on the cluster (arguments go to psql, e.g. just psql -c 'SELECT add_one(41)')
[positional-arguments]
psql *args:
    tools/cluster.sh psql "$@"

# --- tests --------------------------------------------------------------------------------------

# cargo fmt --check and clippy with warnings denied
lint:
    cargo fmt --check
    cargo clippy --all-targets -- -D warnings

# the #[pg_test] tests, in a temporary cluster pgrx starts (as postgres when run as root)
pgrx-test:
    tools/pgrx-test.sh

# run the regress suite (or the named tests) against both installed extensions
[positional-arguments]
regress *tests:
    tools/regress.sh xfunc xfunc_c -- "$@"

# install both extensions, then run the same regress suite against xfunc and against xfunc_c
install-and-regress: install regress

# build the book and fail on pasted code, dangling anchors, missing files, broken links
book-check:
    python3 tools/book_check.py

# run every benchmark once, quickly, against the running cluster, so that they cannot rot
bench-smoke:
    cargo test --benches

# --- book and benchmarks ------------------------------------------------------------------------

# build the book into book/book
book-build:
    mdbook build book

# serve the book on localhost (XFUNC_BOOK_PORT, default 3000), rebuilding on change
book-serve:
    @echo "book: http://127.0.0.1:{{book_port}}/"
    mdbook serve book -n 127.0.0.1 -p {{book_port}}

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
