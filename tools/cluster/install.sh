#!/usr/bin/env bash
# Builds both extensions and installs them into this checkout's PostgreSQL copy:
# xfunc (Rust, release profile) with cargo pgrx, xfunc_c (C, warnings are errors) with PGXS.
# XFUNC_INSTALL_PROFILE=dev installs an unoptimized Rust build, quicker to compile while
# iterating; benchmarks and the test command use the release build.
# The cluster preloads both libraries, so it is stopped around the install and started again;
# then databases xfunc and xfunc_c get the freshly installed extensions, and the book's listings
# with one entry per SQL function (book/generated/installed/) are rewritten from the new build.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib/env.sh"
cd "$XFUNC_ROOT"

[ -x "$PG_CONFIG" ] || { echo "install: no PostgreSQL copy at $XFUNC_PG: run bash tools/cluster/setup.sh"; exit 1; }
tools/cluster/cluster.sh stop
# ANCHOR: build_and_install
if [ "${XFUNC_INSTALL_PROFILE:-release}" = dev ]; then
  cargo pgrx install --pg-config "$PG_CONFIG"
else
  cargo pgrx install --release --pg-config "$PG_CONFIG"
fi
make -s -C c PG_CONFIG="$PG_CONFIG" COPT=-Werror
make -s -C c PG_CONFIG="$PG_CONFIG" install
# ANCHOR_END: build_and_install
tools/cluster/cluster.sh start
tools/cluster/cluster.sh reader-databases
tools/book/artifacts.sh --installed
