#!/usr/bin/env bash
# Counts the page faults a backend takes per 1 MiB copytext result, through the executor and in
# a PL/pgSQL loop, for each build: what makes the executor's large copies slower than memcpy.
#
#   tools/bench/varlena-faults.sh [output file]   default: book/generated/varlena-faults.txt
#
# The two statements are those of benches/varlena.rs at 1 MiB: through the executor, 8 rows of
# 8 calls on one value made by a MATERIALIZED CTE (the 8 results of a row live until the row's
# memory is reset); in a loop, `IF copytext(t) IS NULL` 1024 times (each result freed before the
# next is made). Each runs once to warm up, then once between two readings of the backend's
# minor page faults (field minflt of /proc/self/stat, read by the backend itself with
# pg_read_file); the same statement with the bare value in place of the calls is the baseline.
# A minor fault is a page the process touches for the first time since the kernel gave it (or
# took it back): 256 per MiB written to fresh memory, none to memory already in use.
# Expects the cluster to be running with both extensions installed (just install).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib/env.sh"
cd "$XFUNC_ROOT"
out=${1:-book/generated/varlena-faults.txt}
size=1048576
rows=8
calls=8
loops=1024

sql() { xfunc_psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
minflt="(string_to_array(split_part(pg_read_file('/proc/self/stat'), ') ', 2), ' '))[8]::bigint"

# faults DB STATEMENT: the minor faults of one run of STATEMENT, after one run to warm up.
faults() {
  sql -d "$1" <<SQL
\o /dev/null
$2;
SELECT $minflt AS before \gset
$2;
\o
SELECT $minflt - :before;
SQL
}

per_copy() { awk -v n="$1" -v base="$2" -v copies="$3" 'BEGIN { printf "%.1f", (n - base) / copies }'; }

executor() {  # the executor statement, with CALL (t: the value) 8 times a row
  local calls_sql
  calls_sql=$(printf "$1, %.0s" $(seq $calls))
  echo "WITH v AS MATERIALIZED (SELECT repeat('x', $size) AS t)
        SELECT count(num_nonnulls(${calls_sql%, }))
        FROM (SELECT generate_series(1, $rows) AS g, t FROM v) AS rows"
}

{
  printf '%-10s %-9s %8s %7s %21s\n' variant path size copies 'page faults per copy'
  for ext in xfunc xfunc_c; do
    db=varlena_faults_$ext
    sql -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" \
      -c "CREATE DATABASE $db"
    sql -d "$db" -c "CREATE EXTENSION $ext"
    variants=("copytext(t)")
    [ "$ext" = xfunc ] && variants+=("xfunc_fast.copytext(t)")
    sql -d "$db" <<'SQL'
CREATE FUNCTION copies(t text, n int, fast bool) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..n LOOP
        IF fast THEN
            IF xfunc_fast.copytext(t) IS NULL THEN RAISE EXCEPTION 'unexpected NULL'; END IF;
        ELSIF copytext(t) IS NULL THEN RAISE EXCEPTION 'unexpected NULL'; END IF;
    END LOOP;
END $$;
CREATE FUNCTION bare(t text, n int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..n LOOP
        IF t IS NULL THEN RAISE EXCEPTION 'unexpected NULL'; END IF;
    END LOOP;
END $$;
SQL
    base_executor=$(faults "$db" "$(executor t)")
    base_loop=$(faults "$db" "SELECT bare(repeat('x', $size), $loops)")
    for call in "${variants[@]}"; do
      case "$ext:$call" in
        xfunc_c:*) variant=c fast=false ;;
        xfunc:xfunc_fast.*) variant=rust_fast fast=true ;;
        *) variant=rust fast=false ;;
      esac
      n=$(faults "$db" "$(executor "$call")")
      printf '%-10s %-9s %8s %7s %21s\n' "$variant" executor $size $((rows * calls)) \
        "$(per_copy "$n" "$base_executor" $((rows * calls)))"
      n=$(faults "$db" "SELECT copies(repeat('x', $size), $loops, $fast)")
      printf '%-10s %-9s %8s %7s %21s\n' "$variant" loop $size $loops \
        "$(per_copy "$n" "$base_loop" $loops)"
    done
    sql -d postgres -c "DROP DATABASE $db"
  done
} | tee "$out.tmp"
mv "$out.tmp" "$out"
echo "varlena-faults: written to $out"
