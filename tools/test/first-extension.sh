#!/usr/bin/env bash
# Runs the book's chapter "Your First Extension" (book/src/first-extension.md), step by step,
# in a scratch directory, and checks that what the steps print is what the chapter shows.
#
#   tools/test/first-extension.sh           run, then compare with book/generated/first-extension/
#                                           (just first-extension-check, part of just test)
#   tools/test/first-extension.sh --write   run, then rewrite book/generated/first-extension/
#                                           (just first-extension)
#
# The steps, as a reader takes them (the chapter shows the same commands):
#   cargo pgrx new hello; cargo pgrx init --pg15 <pg_config>; our src/lib.rs
#   (first_extension/hello/src/lib.rs); cargo pgrx run pg15 (--install-only as root: PostgreSQL
#   will not run as root, and cargo pgrx run starts it as the caller); cargo pgrx test pg15;
#   the C twin first_extension/hello_c: make install, make installcheck; the same regress test
#   against the Rust build; a psql session; the server log; gdb attached to a backend.
#
# Where it runs: target/first-extension/ (the crate and the C twin's copy), and a private copy
# of the system PostgreSQL 15 (pg15-first, see tools/lib/env.sh) that both extensions are installed
# into, with a cluster of its own (port: this checkout's port + 1), stopped at the end.
# cargo pgrx test installs into the copy `just pgrx-test` uses (pg15-test), as it does for
# xfunc, and starts its own temporary cluster on a free port pgrx reserves for the run.
#
# Speed: the new crate builds in this checkout's target directory (CARGO_TARGET_DIR) with this
# checkout's Cargo.lock, so pgrx and every other dependency is the build `just lint` and
# `just pgrx-test` already made (same versions, features and profile); only the crate itself
# compiles. The lock also keeps the crate on versions this rustc (1.95) can build.
#
# What is compared: each step's output, made independent of the run (paths of the scratch
# directory and the PostgreSQL copy are written as the reader's: ~/hello and the system's
# /usr/lib/postgresql/15; durations, process ids and colours are removed).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib/env.sh"
cd "$XFUNC_ROOT"

write=false
[ "${1:-}" = "--write" ] && write=true

started=$SECONDS
scratch=$XFUNC_ROOT/target/first-extension
out=$scratch/out
expected=$XFUNC_ROOT/book/generated/first-extension
pg=$XFUNC_STATE/pg$PG_MAJOR-first
pg_config=$pg/lib/postgresql/$PG_MAJOR/bin/pg_config
bindir=$pg/lib/postgresql/$PG_MAJOR/bin
state=$XFUNC_STATE/first-extension   # what the server's user must reach: data, socket, log
pgdata=$state/pgdata
sock=$state                          # the socket directory, as the chapter has it
log=$state/postgresql.log
port=$((XFUNC_PGPORT + 1))

step() { printf 'first-extension: %s\n' "$*"; }
fail() { printf 'first-extension: FAILED: %s\n' "$*" >&2; exit 1; }

# --- the scratch directory and PostgreSQL -------------------------------------------------------
ensure_pg_copy "$pg"
rm -rf "$scratch"
mkdir -p "$scratch" "$out"
install -d -o "$XFUNC_RUNAS" "$XFUNC_STATE"
# The cluster of step 3, started by tools/cluster/cluster.sh with these options: this copy of
# PostgreSQL, the chapter's paths, a port of its own, no preloaded library (the chapter's
# cluster has none), log lines without a prefix (as the chapter shows them).
cluster=("$XFUNC_ROOT/tools/cluster/cluster.sh" --pg "$pg" --data "$pgdata" --socket "$sock" --port "$port" --log "$log"
         --set shared_preload_libraries= --set log_line_prefix=)
"${cluster[@]}" stop >/dev/null
rm -rf "$state"
install -d -o "$XFUNC_RUNAS" "$state"

# Written as the reader's paths: the scratch directory is ~, the PostgreSQL copy is /usr.
normalize() {
  sed -e 's/\x1b\[[0-9;]*m//g' \
      -e "s#$pg/#/usr/#g" \
      -e "s#${pg#"$XFUNC_ROOT"/}/#/usr/#g" \
      -e "s#$scratch#~#g" \
      -e "s#$state#/tmp/hello#g" \
      -e "s#$XFUNC_ROOT/target#~/hello/target#g" \
      -e "s#$XFUNC_ROOT#~/hello#g" \
      -e "s/port $port/port 5433/g"
}

# --- 1. cargo pgrx new --------------------------------------------------------------------------
cd "$scratch"
step "cargo pgrx new hello"
cargo pgrx new hello
(cd hello && find . -type f | LC_ALL=C sort) > "$out/new-files.txt"
cp hello/Cargo.toml "$out/Cargo.toml"
cp hello/src/lib.rs "$out/template-lib.rs"
cp hello/hello.control "$out/hello.control"

# --- 2. cargo pgrx init against PostgreSQL 15 ---------------------------------------------------
# The reader's ~/.pgrx is a PGRX_HOME of the scratch directory's own. The builds below use the
# PGRX_HOME of `just pgrx-test` instead (target/pgrx-home-test, for the copy pg15-test): pgrx's
# build script rebuilds its bindings whenever the config.toml it last read changes or
# disappears, and a config.toml made afresh on every run would cost that rebuild here and in
# the checkout's next build. Both point at a copy of the same PostgreSQL 15.
step "cargo pgrx init --pg$PG_MAJOR $pg_config"
PGRX_HOME=$scratch/pgrx-home cargo pgrx init --pg$PG_MAJOR "$pg_config" > "$scratch/init.log" 2>&1 \
  || { cat "$scratch/init.log"; fail "cargo pgrx init"; }
grep -q "pg$PG_MAJOR = \"$pg_config\"" "$scratch/pgrx-home/config.toml" \
  || fail "cargo pgrx init did not write $pg_config into $scratch/pgrx-home/config.toml"
test_pg=$XFUNC_STATE/pg$PG_MAJOR-test
ensure_pg_copy "$test_pg"
export PGRX_HOME=$XFUNC_ROOT/target/pgrx-home-test
ensure_pgrx_home "$PGRX_HOME" "$test_pg/lib/postgresql/$PG_MAJOR/bin/pg_config"

# --- 3. our function, then cargo pgrx run -------------------------------------------------------
cp "$XFUNC_ROOT/first_extension/hello/src/lib.rs" hello/src/lib.rs
cp "$XFUNC_ROOT/Cargo.lock" hello/Cargo.lock   # the checkout's versions: reused, and rustc 1.95's
# The checkout's other dev-dependencies, which the test build unifies features with: with them
# the scratch crate's test build is the very build `just pgrx-test` made (pgrx, pgrx-tests and
# what they depend on, compiled with the same features), and is not compiled a second time. A
# crate of your own needs none of them; the chapter shows the Cargo.toml `cargo pgrx new` wrote.
# Not the checkout's own crates, given by a path (the tests' support crate): the scratch crate
# cannot reach them, and what they depend on is among the other lines.
extra_dev=$(sed -n '/^\[dev-dependencies\]/,/^$/p' "$XFUNC_ROOT/Cargo.toml" \
  | grep -v -e '^\[' -e '^pgrx-tests' -e '^$' -e 'path *=')
awk -v extra="$extra_dev" '{ print } $0 == "[dev-dependencies]" { print extra }' hello/Cargo.toml \
  > hello/Cargo.toml.new && mv hello/Cargo.toml.new hello/Cargo.toml
export CARGO_TARGET_DIR=$XFUNC_ROOT/target
cd hello
# As a normal user, cargo pgrx run builds, installs, starts pgrx's own server (port 28815, in
# $PGRX_HOME) and opens psql: here psql reads an empty input and exits, and the server is
# stopped again. As root the server cannot start (PostgreSQL refuses to run as root), and
# `cargo pgrx run --install-only` still ends by opening psql on it (cargo-pgrx 0.18.1,
# src/command/run.rs): root uses cargo pgrx install, which builds and installs the same way.
t=$SECONDS
if [ "$(id -u)" -eq 0 ]; then
  step "cargo pgrx install --pg-config $pg_config (as root; cargo pgrx run for other users)"
  cargo pgrx install --pg-config "$pg_config" > "$scratch/run.log" 2>&1 \
    || { cat "$scratch/run.log"; fail "cargo pgrx install"; }
else
  step "cargo pgrx run pg$PG_MAJOR"
  cargo pgrx run pg$PG_MAJOR < /dev/null > "$scratch/run.log" 2>&1 \
    || { cat "$scratch/run.log"; fail "cargo pgrx run"; }
  cargo pgrx stop pg$PG_MAJOR >> "$scratch/run.log" 2>&1 || true
fi
step "  built and installed in $((SECONDS - t)) s"
grep -E 'Installing|Copying|Discovered|Writing|Finished installing' "$scratch/run.log" \
  | normalize > "$out/run.txt"
[ -f "$($pg_config --pkglibdir)/hello.so" ] || fail "cargo pgrx run did not install hello.so"

# The cluster cargo pgrx run would start for a user who is not root: ours, as the server's user.
"${cluster[@]}" start || fail "tools/cluster/cluster.sh start"
stop_cluster() { "${cluster[@]}" stop >/dev/null 2>&1 || true; }
trap stop_cluster EXIT
export PGHOST=$sock PGPORT=$port PGUSER=postgres
psql=("$bindir/psql" -X -v ON_ERROR_STOP=1)
"${psql[@]}" -q -d postgres -c "CREATE DATABASE hello"

step "psql: CREATE EXTENSION hello, SELECT hello('world')"
"${psql[@]}" -d hello -a -f "$XFUNC_ROOT/first_extension/session.sql" 2>&1 | normalize > "$out/psql.txt"

# --- 4. cargo pgrx test -------------------------------------------------------------------------
step "cargo pgrx test pg$PG_MAJOR"
t=$SECONDS
if [ "$(id -u)" -eq 0 ]; then
  install -d -o "$XFUNC_RUNAS" "$state/pgrx-test"
  test_args=(--runas "$XFUNC_RUNAS" --pgdata "$state/pgrx-test/data")
else
  test_args=()
fi
cargo pgrx test pg$PG_MAJOR "${test_args[@]}" > "$scratch/test.log" 2>&1 \
  || { cat "$scratch/test.log"; fail "cargo pgrx test"; }
step "  tested in $((SECONDS - t)) s"
{ grep -E '^test tests::' "$scratch/test.log" | LC_ALL=C sort
  grep -E '^test result:' "$scratch/test.log" | sed -e 's/; finished in .*//'; } > "$out/test.txt"

# --- 5. the C twin: make install, make installcheck ---------------------------------------------
cd "$scratch"
cp -r "$XFUNC_ROOT/first_extension/hello_c" hello_c
cd hello_c
step "make install (PGXS)"
make PG_CONFIG="$pg_config" COPT=-Werror install 2>&1 | normalize > "$out/make-install.txt"
[ -f "$($pg_config --pkglibdir)/hello_c.so" ] || fail "make install did not install hello_c.so"
step "make installcheck"
if ! make PG_CONFIG="$pg_config" installcheck > "$scratch/installcheck.log" 2>&1; then
  cat "$scratch/installcheck.log"; cat regression.diffs 2>/dev/null || true
  fail "make installcheck (the C twin)"
fi
sed -e '/^echo /d' -e 's/ \{1,\}[0-9]\{1,\} ms$/ N ms/' "$scratch/installcheck.log" \
  | normalize > "$out/installcheck.txt"
# The same test, the same expected output, against the Rust build.
step "the same regress test against the Rust extension hello"
"$bindir/../lib/pgxs/src/test/regress/pg_regress" --inputdir=. --outputdir="$scratch/regress-rust" \
  --bindir="$bindir" --load-extension=hello hello > "$scratch/regress-rust.log" 2>&1 \
  || { cat "$scratch/regress-rust.log" "$scratch/regress-rust/regression.diffs" 2>/dev/null; \
       fail "the regress test against the Rust build"; }

# --- 6. debugging: the server log, the backend's pid, gdb ----------------------------------------
step "the server log"
grep -E '^LOG:  hello: ' "$log" > "$out/server-log.txt"   # in call order: psql, C, Rust
[ "$(wc -l < "$out/server-log.txt")" -ge 1 ] || fail "no 'hello:' line in the server log $log"

step "gdb attached to a backend, stopped in hello"
if command -v gdb >/dev/null 2>&1; then
  fifo=$scratch/psql.in
  mkfifo "$fifo"
  "${psql[@]}" -d hello -At < "$fifo" > "$scratch/gdb-psql.out" 2>&1 &
  psql_pid=$!
  exec 7>"$fifo"
  echo "SELECT pg_backend_pid();" >&7
  for _ in $(seq 50); do [ -s "$scratch/gdb-psql.out" ] && break; sleep 0.1; done
  backend=$(head -n 1 "$scratch/gdb-psql.out")
  [[ "$backend" =~ ^[0-9]+$ ]] || fail "no backend pid from psql: $backend"
  timeout 60 gdb -p "$backend" -batch -nx -ex 'set pagination off' -ex 'set breakpoint pending on' \
    -ex 'break hello_wrapper' -ex 'continue' -ex 'bt 3' -ex 'detach' \
    > "$scratch/gdb.log" 2>&1 &
  gdb_pid=$!
  for _ in $(seq 100); do grep -q 'Breakpoint 1 at' "$scratch/gdb.log" 2>/dev/null && break; sleep 0.1; done
  sleep 0.5
  echo "SELECT hello('gdb');" >&7
  exec 7>&-
  wait "$gdb_pid" || true
  wait "$psql_pid" || true
  if grep -q '^#0 .*hello_wrapper .* at src/lib.rs:[0-9]' "$scratch/gdb.log"; then
    step "  gdb stopped in hello_wrapper (backend $backend)"
  elif grep -qi 'ptrace: Operation not permitted\|could not attach' "$scratch/gdb.log"; then
    step "  skipped: this machine does not let gdb attach (ptrace): $(grep -i ptrace "$scratch/gdb.log" | head -n 1)"
  else
    cat "$scratch/gdb.log"; fail "gdb did not stop in hello_wrapper"
  fi
  grep -q '^Hello, gdb!$' "$scratch/gdb-psql.out" || { cat "$scratch/gdb-psql.out"; fail "psql after gdb"; }
else
  step "  skipped: gdb is not installed (bash tools/cluster/setup.sh installs it)"
fi

# --- compare --------------------------------------------------------------------------------------
cd "$XFUNC_ROOT"
if $write; then
  rm -rf "$expected"; mkdir -p "$expected"
  cp "$out"/* "$expected"/
  step "wrote ${expected#"$XFUNC_ROOT"/} ($((SECONDS - started)) s)"
elif ! diff -ru "$expected" "$out"; then
  fail "the steps print something else than book/generated/first-extension/ (the chapter's); review the diff above, then: just first-extension"
else
  step "every step ran and printed what the chapter shows ($((SECONDS - started)) s)"
fi
