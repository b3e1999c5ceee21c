#!/usr/bin/env bash
# Measures how much memory a backend needs to consume retcomposite's rows, for each build.
#
#   tools/bench/srf-memory.sh [output file]     default: book/generated/srf-memory.txt
#
# For each extension (xfunc, xfunc_c) and row count, a fresh session warms up (loads the
# library, fills its caches), reads its own peak resident set size (VmHWM in /proc/self/status,
# through pg_read_file, so it is the backend's number and not psql's), runs the query, and
# reads VmHWM again: the difference is the most memory the query added at any moment.
#
#   select list  SELECT count(*) FROM (SELECT retcomposite(n, 1)) s   ProjectSet: a row per call
#   FROM         SELECT count(*) FROM retcomposite(n, 1)             Function Scan: a tuplestore,
#                with work_mem = 1GB, so that it stays in memory (the default 4MB spills to disk)
#
# The FROM rows are a control: they show that the method sees memory that grows with n.
# Expects the cluster to be running with both extensions installed (just install).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib/env.sh"
cd "$XFUNC_ROOT"
out=${1:-book/generated/srf-memory.txt}

sql() { xfunc_psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
hwm="(regexp_match(pg_read_file('/proc/self/status'), 'VmHWM:\s+(\d+) kB'))[1]::bigint"

# measure DB WORK_MEM QUERY: prints "<rows counted> <peak growth in kB> <milliseconds>" for one
# fresh session. QUERY must name its one column count.
measure() {
  sql -d "$1" <<SQL
SET work_mem = '$2';
SELECT count(*) AS warm_up FROM (SELECT retcomposite(1000, 1)) AS s \gset
SELECT count(*) AS warm_up FROM retcomposite(1000, 1) \gset
SELECT $hwm AS before, clock_timestamp() AS t0 \gset
$3 \gset
SELECT format('%s %s %s', :count, $hwm - :before,
              round(extract(epoch FROM clock_timestamp() - :'t0') * 1000));
SQL
}

{
  printf '%-8s %-12s %10s %9s %22s %9s\n' build query rows count 'peak RSS growth (kB)' ms
  for ext in xfunc xfunc_c; do
    db=srf_memory_$ext
    [ "$ext" = xfunc ] && build=Rust || build=C
    sql -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" \
      -c "CREATE DATABASE $db"
    sql -d "$db" -c "CREATE EXTENSION $ext"
    for n in 1000000 10000000; do
      read -r count kb ms < <(measure "$db" 4MB \
        "SELECT count(*) AS count FROM (SELECT retcomposite($n, 1)) AS s")
      printf '%-8s %-12s %10s %9s %22s %9s\n' "$build" 'select list' "$n" "$count" "$kb" "$ms"
    done
    n=1000000
    read -r count kb ms < <(measure "$db" 1GB "SELECT count(*) AS count FROM retcomposite($n, 1)")
    printf '%-8s %-12s %10s %9s %22s %9s\n' "$build" 'FROM, 1GB' "$n" "$count" "$kb" "$ms"
    sql -d postgres -c "DROP DATABASE $db"
  done
} | tee "$out.tmp"
mv "$out.tmp" "$out"
echo "srf-memory: written to $out"
