#!/usr/bin/env bash
# Installs what xfunc needs on a Debian 12 machine, skipping everything already present.
#
# Idempotent: a second run only checks and prints "ok" lines. Works as root, or as a normal user
# with sudo (apt-get runs through sudo; cargo tools go to that user's ~/.cargo/bin).
#
#   Debian:  postgresql-15 postgresql-server-dev-15 libclang-dev clang sudo, chromium and
#            codespell (the book's browser test and spelling check), chromium-driver and
#            python3-selenium (the browser test drives Chromium through WebDriver; Debian's
#            Python, /usr/bin/python3, imports them), python3-matplotlib (the benchmark plots:
#            just bench-report), valgrind (just bench-callgrind),
#            graphviz (the book's diagrams: just diagrams, diagrams-check), gdb (debugging a
#            backend, as the chapter "Your First Extension" shows), shellcheck (just lint)
#   cargo:   cargo-pgrx 0.18.1 (must match the pgrx pin in Cargo.toml; unoptimized, see below), mdbook
#   pip:     just (the rust-just wheel), or cargo install just when pip is absent;
#            ruff 0.17.6 (just lint checks tools/ with it; pinned, as a newer ruff may add checks)
#   checkout: a private copy of the system PostgreSQL 15 in target/ (tools/lib/env.sh says why),
#            and cargo pgrx init against it, never a download
set -euo pipefail

PG_MAJOR=15
PGRX_VERSION=0.18.1

say() { printf 'setup: %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# Each phase's wall time, printed as a table at the end: "name seconds" lines.
phases=()
phase_started=$SECONDS
phase_done() { phases+=("$1 $((SECONDS - phase_started))"); phase_started=$SECONDS; }

# --- mdbook, built in the background meanwhile ---------------------------------------------------
# It needs nothing the rest installs, and its build overlaps with apt's downloads and with the
# stretches of cargo-pgrx's build that keep one core alone busy. Waited for at the end.
mdbook_pid=""
if command -v mdbook >/dev/null 2>&1; then
  say "ok mdbook ($(mdbook --version))"
else
  mdbook_log=$(mktemp)
  mdbook_time=$(mktemp)
  say "installing mdbook 0.5.4 in the background (about 2 minutes on 2 cores; output: $mdbook_log)"
  ( started=$SECONDS; cargo install mdbook --version 0.5.4 --locked >"$mdbook_log" 2>&1
    status=$?; echo $((SECONDS - started)) >"$mdbook_time"; exit $status ) &
  mdbook_pid=$!
  # A step below that fails ends the script: the build in the background ends with it.
  trap 'kill "$mdbook_pid" 2>/dev/null || true' EXIT
fi

# --- Debian packages -------------------------------------------------------------------------
debs=("postgresql-$PG_MAJOR" "postgresql-server-dev-$PG_MAJOR" libclang-dev clang sudo chromium chromium-driver
      python3-selenium python3-matplotlib codespell valgrind graphviz gdb shellcheck)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  say "ok Debian packages (${debs[*]})"
fi
# The headers must be those of the server that loads the libraries: a server-dev newer than the
# server declares functions the server does not have (the libraries would fail to load).
server=$(dpkg-query -W -f='${Version}' postgresql-$PG_MAJOR)
headers=$(dpkg-query -W -f='${Version}' postgresql-server-dev-$PG_MAJOR)
if [ "$server" != "$headers" ]; then
  say "postgresql-$PG_MAJOR $server and its headers $headers differ: installing the same version of both"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR
fi
phase_done "Debian packages"

# --- cargo-pgrx --------------------------------------------------------------------------------
if cargo pgrx --version 2>/dev/null | grep -q " $PGRX_VERSION\$"; then
  say "ok cargo-pgrx $PGRX_VERSION"
else
  # Built without optimization (--debug): it compiles in about a third of the CPU time of a
  # release build, and what it does at run time (run cargo, read the library's .pgrxsc section,
  # copy files) takes the same fraction of a second either way.
  say "installing cargo-pgrx $PGRX_VERSION (about 2 to 3 minutes on 2 cores)"
  cargo install cargo-pgrx --version "$PGRX_VERSION" --locked --debug
fi
phase_done "cargo-pgrx"

# --- this checkout's private copy of PostgreSQL 15 (see tools/lib/env.sh) ------------------------
. "$(dirname "${BASH_SOURCE[0]}")/../lib/env.sh"
ensure_pg_copy "$XFUNC_PG"

# --- cargo pgrx init against that copy, never a download --------------------------------------
ensure_pgrx_home "$PGRX_HOME" "$PG_CONFIG"
phase_done "PostgreSQL copy, pgrx init"

# --- just ---------------------------------------------------------------------------------------
if command -v just >/dev/null 2>&1; then
  say "ok just ($(just --version))"
else
  if command -v pip3 >/dev/null 2>&1 && pip3 install -q rust-just; then
    command -v pyenv >/dev/null 2>&1 && pyenv rehash
  fi
  if ! command -v just >/dev/null 2>&1; then
    say "installing just with cargo"
    cargo install just --locked
  fi
  say "installed $(just --version)"
fi
phase_done "just"

# --- ruff ---------------------------------------------------------------------------------------
RUFF_VERSION=0.17.6
if ruff --version 2>/dev/null | grep -q " $RUFF_VERSION\$"; then
  say "ok ruff $RUFF_VERSION"
elif command -v pip3 >/dev/null 2>&1 && pip3 install -q "ruff==$RUFF_VERSION"; then
  command -v pyenv >/dev/null 2>&1 && pyenv rehash
  say "installed $(ruff --version)"
else
  say "cannot install ruff $RUFF_VERSION: no pip3 (just lint needs it)"
  exit 1
fi
phase_done "ruff"

# --- mdbook (started at the top) ---------------------------------------------------------------
if [ -n "$mdbook_pid" ]; then
  if ! wait "$mdbook_pid"; then
    cat "$mdbook_log"
    say "installing mdbook failed (output above)"
    exit 1
  fi
  trap - EXIT
  rm -f "$mdbook_log"
  say "installed $(mdbook --version)"
  phase_done "waiting for mdbook"
  phases+=("(mdbook, in the background) $(cat "$mdbook_time")")
  rm -f "$mdbook_time"
fi

total=$SECONDS
printf 'setup: time of each phase (wall clock)\n'
printf '%s\n' "${phases[@]}" | awk '{ t = $NF; $NF = ""; printf "  %-30s %3d:%02d\n", $0, t / 60, t % 60 }'
printf '  %-30s %3d:%02d\n' "total" $((total / 60)) $((total % 60))
