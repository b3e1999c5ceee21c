#!/usr/bin/env bash
# Tests of chapters 12 and 13 that a regress file cannot make: many backends at once, a
# backend killed with SIGKILL, failing writes and reads, a database that is not UTF-8, and a
# cluster that does not preload the libraries. Each runs against both builds, xfunc (Rust) and
# xfunc_c (C).
#
#   tools/shmem-tests.sh [concurrency|crash|failures|encoding|rotate|mixed|no-preload|all]...
#                                                                              default: all
#
# Each test but no-preload, mixed and rotate runs once per log design (DESIGNS, default both:
# open_per_line kept_open), set for every session through PGOPTIONS (xfunc.log_design,
# xfunc_c.log_design); the files it writes carry the design's name.
# Expects the cluster to be running with both extensions installed (just install). Changes
# xfunc.log_file and xfunc_c.log_file with ALTER SYSTEM while it runs and resets them at the
# end; the crash test restarts every backend of the cluster, so run nothing else meanwhile.
# Variables: CLIENTS (16), CALLS per client (10000).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$XFUNC_ROOT"

CLIENTS=${CLIENTS:-16}
CALLS=${CALLS:-10000}
read -r -a DESIGNS <<<"${DESIGNS:-open_per_line kept_open}"
EXTS=(xfunc xfunc_c)
DESIGN=kept_open
# use_design DESIGN: every session started from now on logs with DESIGN, in both builds.
use_design() {
  DESIGN=$1
  export PGOPTIONS="-c xfunc.log_design=$1 -c xfunc_c.log_design=$1"
}
WORK=$XFUNC_ROOT/target/shmem-tests
mkdir -p "$WORK"

PSQL=("$PG_BINDIR/psql" -X -q -h "$XFUNC_PGHOST" -p "$XFUNC_PGPORT" -U postgres)
PGBENCH=("$PG_BINDIR/pgbench" -h "$XFUNC_PGHOST" -p "$XFUNC_PGPORT" -U postgres -n)

fail() { echo "shmem-tests: FAIL [$DESIGN]: $*" >&2; exit 1; }
ok() { echo "shmem-tests: ok [$DESIGN] $*"; }
# (grep -q on a pipe would end the writer early, which pipefail reports as a failure: the
# checks below grep strings.)
# sql DB ARGS...: one psql session, unaligned tuples only, stops at the first error.
sql() { local db=$1; shift; "${PSQL[@]}" -v ON_ERROR_STOP=1 -At -d "$db" "$@"; }
# sqlstate_of DB QUERY: runs QUERY and prints "SQLSTATE: message" of its error, or "ok".
sqlstate_of() {
  local out
  if out=$("${PSQL[@]}" -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -At -d "$1" -c "$2" 2>&1); then echo ok
  else sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\): \(.*\)$/\1: \2/p' <<<"$out" | head -n 1; fi
}
expect_error() {  # expect_error DB QUERY "SQLSTATE: message prefix"
  local got; got=$(sqlstate_of "$1" "$2")
  [[ $got == "$3"* ]] || fail "$2: expected $3..., got '$got'"
  ok "$2 -> $got"
}
db_of() { echo "shmem_$1"; }
log_mark() { stat -c %s "$XFUNC_PGLOG"; }                  # where the server log is now
log_since() { tail -c +"$(($1 + 1))" "$XFUNC_PGLOG"; }      # what it got since the mark

# set_log_file EXT FILE: ALTER SYSTEM + reload. A connection made after pg_reload_conf()
# returns is forked by a postmaster that has read the file again (chapter 13 says why); the
# loop only guards against a slow machine.
set_log_file() {
  local ext=$1 file=$2
  sql postgres -c "ALTER SYSTEM SET $ext.log_file = '$file'" -c "SELECT pg_reload_conf()" >/dev/null
  for _ in $(seq 100); do
    [ "$(sql postgres -c "SHOW $ext.log_file")" = "$file" ] && return
    sleep 0.1
  done
  fail "$ext.log_file did not become $file"
}
fresh_log_file() {  # fresh_log_file EXT NAME: point the setting at a new, empty file
  as_server rm -f "$XFUNC_PGDATA/$2"
  set_log_file "$1" "$2"
}
reset_settings() {
  for ext in "${EXTS[@]}"; do sql postgres -c "ALTER SYSTEM RESET $ext.log_file" >/dev/null || true; done
  sql postgres -c "SELECT pg_reload_conf()" >/dev/null || true
}

setup() {
  [[ $(tools/cluster.sh status) == "cluster: running"* ]] || fail "the cluster is not running (just install)"
  for ext in "${EXTS[@]}"; do
    local db; db=$(db_of "$ext")
    [ -n "$(sql postgres -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" ] \
      || sql postgres -c "CREATE DATABASE $db" >/dev/null
    # Afresh, so that the database has the functions of the build just installed.
    sql "$db" -c "SET client_min_messages = warning" -c "DROP EXTENSION IF EXISTS $ext CASCADE" \
      -c "CREATE EXTENSION $ext" >/dev/null
  done
  trap reset_settings EXIT
}

# ANCHOR: pgbench_script
# Each transaction logs one line whose message has a tab and a newline to escape.
write_pgbench_script() {
  cat >"$WORK/xfunc_log.sql" <<'SQL'
SELECT xfunc_log(E'pgbench client :client_id: a tab\there, a newline\nthere');
SQL
}
# ANCHOR_END: pgbench_script

# ANCHOR: concurrency
# CLIENTS backends x CALLS calls: exactly CLIENTS*CALLS lines, numbered 1.. in file order,
# CALLS from each client. Meanwhile a sampler counts the LWLock wait events of the clients.
concurrency() {
  local ext=$1 db file; db=$(db_of "$ext"); file=shmem_concurrency_${ext}_$DESIGN.log
  fresh_log_file "$ext" "$file"
  write_pgbench_script
  sql "$db" >"$WORK/waits_$ext.txt" <<'SQL' &
CREATE TEMP TABLE samples (wait_event text);
DO $$
BEGIN
  FOR i IN 1..6000 LOOP
    PERFORM pg_stat_clear_snapshot();
    INSERT INTO samples SELECT wait_event FROM pg_stat_activity
     WHERE application_name = 'pgbench' AND wait_event_type = 'LWLock';
    EXIT WHEN i > 100 AND NOT EXISTS
      (SELECT 1 FROM pg_stat_activity WHERE application_name = 'pgbench');
    PERFORM pg_sleep(0.01);
  END LOOP;
END $$;
SELECT wait_event || ' ' || count(*) FROM samples GROUP BY wait_event ORDER BY count(*) DESC;
SQL
  local sampler=$!
  "${PGBENCH[@]}" -c "$CLIENTS" -j 2 -t "$CALLS" -f "$WORK/xfunc_log.sql" "$db" \
    >"$WORK/pgbench_$ext.txt" 2>&1 || { cat "$WORK/pgbench_$ext.txt"; fail "pgbench ($ext)"; }
  wait "$sampler"
  ok "$ext: pgbench $CLIENTS clients x $CALLS calls, $(grep -o 'tps = [0-9.]*' "$WORK/pgbench_$ext.txt" | head -n 1)"
  python3 tools/shmem_check_log.py "$XFUNC_PGDATA/$file" --lines $((CLIENTS * CALLS)) \
    --clients "$CLIENTS" --per-client "$CALLS" || fail "$ext: the log file"
  local tranche=${ext}_log
  grep -q "^$tranche " "$WORK/waits_$ext.txt" \
    || fail "$ext: no backend seen waiting on LWLock $tranche: $(tr '\n' ',' <"$WORK/waits_$ext.txt")"
  ok "$ext: wait events sampled (LWLock): $(tr '\n' ',' <"$WORK/waits_$ext.txt" | sed 's/,$//')"
  # One client alone, for the cost of the lock (no waiting at all).
  "${PGBENCH[@]}" -c 1 -t "$CALLS" -f "$WORK/xfunc_log.sql" "$db" >"$WORK/pgbench1_$ext.txt" 2>&1
  ok "$ext: pgbench 1 client x $CALLS calls, $(grep -o 'tps = [0-9.]*' "$WORK/pgbench1_$ext.txt" | head -n 1)"
  # The chapter 12 counter under the same load: no update lost.
  cat >"$WORK/counter.sql" <<'SQL'
SELECT shared_counter_add(1);
SQL
  sql "$db" -c "SELECT shared_counter_reset()" >/dev/null
  "${PGBENCH[@]}" -c "$CLIENTS" -j 2 -t 1000 -f "$WORK/counter.sql" "$db" >/dev/null 2>&1
  local counted; counted=$(sql "$db" -c "SELECT value || ' ' || updates FROM shared_counter()")
  [ "$counted" = "$((CLIENTS * 1000)) $((CLIENTS * 1000))" ] || fail "$ext: counter $counted"
  ok "$ext: shared_counter after $CLIENTS clients x 1000 adds: value updates = $counted"
  # The contention benchmark's other counters: atomic, spinlock (and in Rust, pgrx's PgLwLock).
  local f fns=(shared_counter_bump_atomic shared_counter_bump_spinlock)
  [ "$ext" = xfunc ] && fns+=(rust_counter_add_pglwlock rust_counter_add_by_hand)
  for f in "${fns[@]}"; do
    local call="$f()"; [[ $f == rust_* ]] && call="$f(1)"
    echo "SELECT $call;" >"$WORK/counter_$f.sql"
    sql "$db" -c "SELECT shared_counter_reset()" >/dev/null
    "${PGBENCH[@]}" -c "$CLIENTS" -j 2 -t 1000 -f "$WORK/counter_$f.sql" "$db" >/dev/null 2>&1 \
      || fail "$ext: pgbench $f"
    counted=$(sql "$db" -c "SELECT $call")
    [ "$counted" = "$((CLIENTS * 1000 + 1))" ] || fail "$ext: $f counted $counted"
  done
  ok "$ext: ${fns[*]}: $CLIENTS clients x 1000 calls, none lost"
}
# ANCHOR_END: concurrency

wait_for_server() {
  for _ in $(seq 600); do
    sql postgres -c "SELECT 1" >/dev/null 2>&1 && return
    sleep 0.1
  done
  fail "the server did not come back"
}

# ANCHOR: crash
# kill -9 one backend while CLIENTS others log. The postmaster ends every backend, creates
# shared memory anew (the chapter 12 counter is 0 again), and logging goes on; the file holds
# only whole lines, numbered without a gap across the crash, and every call pgbench counted
# as done has its line.
crash() {
  local ext=$1 db file mark; db=$(db_of "$ext"); file=shmem_crash_${ext}_$DESIGN.log
  fresh_log_file "$ext" "$file"
  write_pgbench_script
  sql "$db" -c "SELECT shared_counter_reset()" -c "SELECT shared_counter_add(42)" >/dev/null
  mark=$(log_mark)
  "${PGBENCH[@]}" -c "$CLIENTS" -j 2 -T 60 -f "$WORK/xfunc_log.sql" "$db" \
    >"$WORK/pgbench_crash_$ext.txt" 2>&1 &
  local bench=$!
  local victim=""
  for _ in $(seq 100); do
    sleep 0.1
    victim=$(sql postgres -c "SELECT pid FROM pg_stat_activity
                               WHERE application_name = 'pgbench' AND datname = '$db'
                               ORDER BY random() LIMIT 1")
    [ -n "$victim" ] && [ "$(cat "$XFUNC_PGDATA/$file" 2>/dev/null | wc -l)" -gt 5000 ] && break
  done
  [ -n "$victim" ] || fail "$ext: no pgbench backend to kill"
  echo "$victim" >> "$XFUNC_EXPECTED_KILLS"
  kill -9 "$victim"
  if wait "$bench"; then fail "$ext: pgbench did not notice the crash"; fi
  wait_for_server
  local server_log; server_log=$(log_since "$mark")
  grep -q "server process (PID $victim) was terminated by signal 9" <<<"$server_log" \
    || fail "$ext: the server log does not show the crash"
  grep -q "all server processes terminated; reinitializing" <<<"$server_log" \
    || fail "$ext: the server log does not show the restart"
  ok "$ext: killed backend $victim; the postmaster reinitialized"
  local counter; counter=$(sql "$db" -c "SELECT value FROM shared_counter()")
  [ "$counter" = 0 ] || fail "$ext: counter is $counter after the restart, not 0"
  ok "$ext: shared_counter is 0 again: shared memory was set up anew"

  local before processed
  before=$(wc -l <"$XFUNC_PGDATA/$file")
  processed=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' \
    "$WORK/pgbench_crash_$ext.txt")
  python3 tools/shmem_check_log.py "$XFUNC_PGDATA/$file" --lines "$before" \
    --min-lines "${processed:-0}" || fail "$ext: the log file after the crash"
  ok "$ext: $before lines before and during the crash; pgbench counted ${processed:-?} calls done"
  "${PGBENCH[@]}" -c 4 -j 2 -t 1000 -f "$WORK/xfunc_log.sql" "$db" >/dev/null 2>&1 \
    || fail "$ext: pgbench after the restart"
  python3 tools/shmem_check_log.py "$XFUNC_PGDATA/$file" --lines $((before + 4000)) \
    || fail "$ext: the log file after the restart"
  ok "$ext: 4000 more lines after the restart, numbered on from $((before + 1))"

  # A last line cut short (as a power failure could leave it) is removed, with a LOG line.
  mark=$(log_mark)
  as_server sh -c "printf '2001-02-03T04:05:06.000007Z 1 %s torn' $((before + 4001)) >>'$XFUNC_PGDATA/$file'"
  sql "$db" -c "SELECT xfunc_log('after a torn line')" >/dev/null
  server_log=$(log_since "$mark")
  grep -q "removed an incomplete last line of [0-9]* bytes" <<<"$server_log" \
    || fail "$ext: no LOG line about the torn line"
  python3 tools/shmem_check_log.py "$XFUNC_PGDATA/$file" --lines $((before + 4001)) \
    || fail "$ext: the log file after the torn line"
  ok "$ext: a torn last line was cut off, numbering went on"
}
# ANCHOR_END: crash

# ANCHOR: failures
# Writes that fail: the ERROR carries the errno's SQLSTATE, the lock is free afterwards (the
# next call in the same session and in another does not hang), and the file stays whole.
failures() {
  local ext=$1 db file; db=$(db_of "$ext"); file=shmem_failures_${ext}_$DESIGN.log
  # Disk full: a symbolic link in the data directory to /dev/full.
  as_server ln -sfn /dev/full "$XFUNC_PGDATA/shmem_full_$ext.log"
  set_log_file "$ext" "shmem_full_$ext.log"
  local out
  out=$(timeout 60 "${PSQL[@]}" -At -v VERBOSITY=verbose -d "$db" \
        -c "SELECT xfunc_log('one')" -c "SELECT xfunc_log('two')" \
        -c "SELECT count(*) FROM xfunc_log_tail(5)" 2>&1) \
    || fail "$ext: disk full: psql failed or hung: $out"
  [ "$(grep -c '^ERROR:  53100: could not write to log file "shmem_full_'"$ext"'.log": No space left on device' <<<"$out")" = 2 ] \
    || fail "$ext: disk full: $out"
  ok "$ext: disk full -> 53100, twice in one session, then the shared lock: $(tail -n 1 <<<"$out") rows"
  as_server rm -f "$XFUNC_PGDATA/shmem_full_$ext.log"

  fresh_log_file "$ext" "$file"
  sql "$db" -c "SELECT xfunc_log('first')" >/dev/null
  # Permission denied: the server's user may not open the file.
  as_server chmod 000 "$XFUNC_PGDATA/$file"
  expect_error "$db" "SELECT xfunc_log('refused')" \
    "42501: could not open log file \"$file\": Permission denied"
  as_server chmod 600 "$XFUNC_PGDATA/$file"
  sql "$db" -c "SELECT xfunc_log('second')" >/dev/null
  python3 tools/shmem_check_log.py "$XFUNC_PGDATA/$file" --lines 2 || fail "$ext: after EACCES"
  # The file removed: the next call makes a new one, whose numbering starts again at 1.
  as_server rm "$XFUNC_PGDATA/$file"
  sql "$db" -c "SELECT xfunc_log('in a new file')" >/dev/null
  python3 tools/shmem_check_log.py "$XFUNC_PGDATA/$file" --lines 1 || fail "$ext: after rm"
  ok "$ext: a removed file is created again, numbered from 1"
  # A message whose escaped line would not fit in 1 GB (MaxAllocSize): the same ERROR from
  # both builds, before anything is written: 2^28 control characters, 4 bytes each escaped.
  expect_error "$db" "SELECT xfunc_log(repeat(chr(1), 268435456))" \
    "54000: message is too long to log"
  python3 tools/shmem_check_log.py "$XFUNC_PGDATA/$file" --lines 1 || fail "$ext: after a too long message"
  # Created with the mode of the server's own files (0600, or 0640 with group access).
  local mode; mode=$(stat -c %a "$XFUNC_PGDATA/$file")
  [ "$mode" = "$(stat -c %a "$XFUNC_PGDATA/PG_VERSION")" ] || fail "$ext: the file's mode is $mode"
  ok "$ext: a new file has mode $mode, as the server's own files"

  # A short read: a sysfs file says it holds 4096 bytes and gives a few. Both builds take it
  # for a file cut short under them: EIO.
  local short=/sys/devices/system/cpu/online
  if [ "$(stat -c %s "$short" 2>/dev/null)" = 4096 ] && [ "$(wc -c <"$short")" -lt 4096 ]; then
    as_server ln -sfn "$short" "$XFUNC_PGDATA/shmem_short_$ext.log"
    set_log_file "$ext" "shmem_short_$ext.log"
    for query in "SELECT * FROM xfunc_log_tail(1)" "SELECT xfunc_log_lines()"; do
      expect_error "$db" "$query" \
        "58030: could not read log file \"shmem_short_$ext.log\": Input/output error"
    done
    as_server rm -f "$XFUNC_PGDATA/shmem_short_$ext.log"
  else
    echo "shmem-tests: SKIPPED $ext: short read ($short is not a 4096-byte sysfs file)"
  fi
}
# ANCHOR_END: failures

# ANCHOR: encoding
# A LATIN1 database: the message goes into the file as LATIN1 bytes, and comes back from
# xfunc_log_tail as the same line. The C build works on the bytes; so must the Rust build.
# In a UTF-8 database, the same line is not valid text: 22021.
LATIN1_MESSAGE=$'café, naïve, ½ «ÿ», a tab\there'
LATIN1_BYTES='caf\351, na\357ve, \275 \253\377\273, a tab\\there'  # printf: the escaped message
encoding() {
  local ext=$1 db=shmem_latin1_$1 file=shmem_latin1_$1_$DESIGN.log
  [ -n "$(sql postgres -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" ] \
    || sql postgres -c "CREATE DATABASE $db ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C'
                        TEMPLATE template0" >/dev/null
  sql "$db" -c "SET client_min_messages = warning" -c "DROP EXTENSION IF EXISTS $ext CASCADE" \
    -c "CREATE EXTENSION $ext" >/dev/null
  fresh_log_file "$ext" "$file"
  PGCLIENTENCODING=UTF8 sql "$db" -c "SELECT xfunc_log('$LATIN1_MESSAGE')" >/dev/null
  python3 tools/shmem_check_log.py "$XFUNC_PGDATA/$file" --lines 1 || fail "$ext: LATIN1 log file"
  # The message field of the line, byte for byte.
  printf "$LATIN1_BYTES\n" >"$WORK/latin1_expected.txt"
  cut -d ' ' -f 4- "$XFUNC_PGDATA/$file" >"$WORK/latin1_message_$ext.txt"
  cmp "$WORK/latin1_expected.txt" "$WORK/latin1_message_$ext.txt" \
    || fail "$ext: the file holds $(od -An -c "$WORK/latin1_message_$ext.txt")"
  ok "$ext: LATIN1 database: the file holds the message in LATIN1: $(od -An -tx1 "$WORK/latin1_message_$ext.txt" | tr -s ' \n' ' ')"
  # Read back in the database encoding, the row is the file's line, byte for byte ...
  PGCLIENTENCODING=LATIN1 sql "$db" -c "SELECT * FROM xfunc_log_tail(1)" >"$WORK/latin1_tail_$ext.txt"
  cmp "$XFUNC_PGDATA/$file" "$WORK/latin1_tail_$ext.txt" \
    || fail "$ext: xfunc_log_tail returned $(od -An -c "$WORK/latin1_tail_$ext.txt")"
  # ... and in UTF-8, the message that was logged.
  local message
  message=$(PGCLIENTENCODING=UTF8 sql "$db" -c "SELECT substring(line FROM '^\S+ \d+ \d+ (.*)$')
                                               FROM xfunc_log_tail(1) AS line")
  [ "$message" = "${LATIN1_MESSAGE/$'\t'/'\t'}" ] || fail "$ext: xfunc_log_tail returned '$message'"
  ok "$ext: LATIN1 database: xfunc_log_tail returns the line as written: '$message'"
  expect_error "$(db_of "$ext")" "SELECT * FROM xfunc_log_tail(1)" \
    "22021: log file \"$file\" holds a line that is not valid text"

  # A path that is not UTF-8: é in LATIN1, set from the LATIN1 database. The C build's
  # message holds the path's bytes; the Rust build's messages are Rust strings (pgrx's
  # ereport! takes nothing else), which hold U+FFFD instead, "ï¿½" read as LATIN1. The one
  # difference between the builds' messages; the SQLSTATE is the same.
  local path=$'no_such_directory/\u00e9.log' shown
  PGCLIENTENCODING=UTF8 sql "$db" -c "ALTER SYSTEM SET $ext.log_file = '$path'" \
    -c "SELECT pg_reload_conf()" >/dev/null
  for _ in $(seq 100); do
    [ "$(PGCLIENTENCODING=UTF8 sql "$db" -c "SHOW $ext.log_file")" = "$path" ] && break
    sleep 0.1
  done
  case $ext in
    xfunc) shown=$'no_such_directory/\u00ef\u00bf\u00bd.log' ;;
    *) shown=$path ;;
  esac
  PGCLIENTENCODING=UTF8 expect_error "$db" "SELECT xfunc_log('lost')" \
    "58P01: could not open log file \"$shown\": No such file or directory"
}
# ANCHOR_END: encoding

# ANCHOR: mixed
# Both designs at once on one file: CLIENTS/2 pgbench clients with each. Every line whole,
# numbered 1.. in file order, CALLS from each client: the designs share one critical section.
mixed() {
  local ext=$1 db file half=$((CLIENTS / 2)); db=$(db_of "$ext"); file=shmem_mixed_$ext.log
  DESIGN=mixed
  fresh_log_file "$ext" "$file"
  write_pgbench_script
  local pids=() d
  for d in open_per_line kept_open; do
    PGOPTIONS="-c $ext.log_design=$d" "${PGBENCH[@]}" -c "$half" -j 1 -t "$CALLS" \
      -f "$WORK/xfunc_log.sql" "$db" >"$WORK/pgbench_mixed_${ext}_$d.txt" 2>&1 &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || fail "$ext: pgbench (mixed designs)"; done
  # pgbench numbers its clients from 0 in each run: two runs give each client id twice.
  python3 tools/shmem_check_log.py "$XFUNC_PGDATA/$file" --lines $((2 * half * CALLS)) \
    --clients "$half" --per-client $((2 * CALLS)) || fail "$ext: the log file (mixed designs)"
  ok "$ext: $half clients open_per_line + $half clients kept_open x $CALLS calls: one sequence"
}
# ANCHOR_END: mixed

# ANCHOR: rotate
# kept_open: one session keeps its file open. The file is renamed away (log rotation) or
# deleted; after RECHECK (100 ms) the same session logs into a new file, numbered from 1.
rotate() {
  local ext=$1 db file; db=$(db_of "$ext"); file=shmem_rotate_$ext.log
  DESIGN=kept_open
  fresh_log_file "$ext" "$file"
  as_server rm -f "$XFUNC_PGDATA/$file.1"
  PGOPTIONS="-c $ext.log_design=kept_open" sql "$db" >/dev/null <<SQL
SELECT xfunc_log('one');
SELECT xfunc_log('two');
\\! mv '$XFUNC_PGDATA/$file' '$XFUNC_PGDATA/$file.1'
SELECT pg_sleep(0.2);
SELECT xfunc_log('three, in a new file');
\\! rm '$XFUNC_PGDATA/$file'
SELECT pg_sleep(0.2);
SELECT xfunc_log('four, in another new file');
SELECT xfunc_log('five');
SQL
  python3 tools/shmem_check_log.py "$XFUNC_PGDATA/$file.1" --lines 2 || fail "$ext: the rotated file"
  python3 tools/shmem_check_log.py "$XFUNC_PGDATA/$file" --lines 2 || fail "$ext: the new file"
  grep -q ' 1 four, in another new file$' "$XFUNC_PGDATA/$file" || fail "$ext: $(cat "$XFUNC_PGDATA/$file")"
  ok "$ext: a kept file renamed away, then deleted: the same session went on in a new file"
  as_server rm -f "$XFUNC_PGDATA/$file.1"
}
# ANCHOR_END: rotate

# ANCHOR: no_preload
# A second, throw-away cluster from the same PostgreSQL copy, without shared_preload_libraries:
# CREATE EXTENSION works, every function that needs shared memory raises 55000, nothing crashes.
no_preload() {
  local data=$XFUNC_STATE/nopreload-data sock=$XFUNC_STATE/nopreload-socket
  local log=$XFUNC_STATE/nopreload.log
  local PSQL=("$PG_BINDIR/psql" -X -q -h "$sock" -p "$XFUNC_PGPORT" -U postgres)
  stop_no_preload() {
    [ -f "$data/postmaster.pid" ] && as_server "$PG_BINDIR/pg_ctl" -D "$data" -w -m immediate stop >/dev/null
    rm -rf "$data" "$sock" "$log"
  }
  stop_no_preload
  install -d -o "$XFUNC_RUNAS" "$data" "$sock"
  as_server "$PG_BINDIR/initdb" -D "$data" -U postgres --auth=trust --no-sync >"$WORK/nopreload-initdb.log" 2>&1 \
    || { cat "$WORK/nopreload-initdb.log"; fail "initdb"; }
  # Only a Unix socket in a directory of its own: the port number cannot clash.
  as_server "$PG_BINDIR/pg_ctl" -D "$data" -l "$log" -w -t 60 \
    -o "-p $XFUNC_PGPORT -k $sock -c listen_addresses=''" start >/dev/null
  trap 'stop_no_preload; reset_settings' EXIT
  for ext in "${EXTS[@]}"; do
    sql postgres -c "CREATE DATABASE $ext" >/dev/null
    sql "$ext" -c "CREATE EXTENSION $ext" >/dev/null
    for query in "SELECT shared_counter_add(1)" "SELECT * FROM shared_counter()" \
                 "SELECT shared_counter_reset()" "SELECT shared_counter_swap(1)" \
                 "SELECT xfunc_log('hello')" \
                 "SELECT * FROM xfunc_log_tail(1)"; do
      expect_error "$ext" "$query" "55000: $ext must be loaded via shared_preload_libraries"
    done
    # The setting exists (defined by _PG_init in the backend) and is checked.
    [ "$(sql "$ext" -c "LOAD '$ext'" -c "SHOW $ext.log_file")" = "$ext.log" ] || fail "$ext: SHOW"
  done
  check_no_crash 0 "$log" || fail "a backend of the cluster without preload crashed"
  stop_no_preload
  trap reset_settings EXIT
}
# ANCHOR_END: no_preload

setup
mark=$(server_log_mark)
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(all)
for t in "${tests[@]}"; do
  case $t in
    concurrency|crash|failures)
      for d in "${DESIGNS[@]}"; do use_design "$d"; for ext in "${EXTS[@]}"; do "$t" "$ext"; done; done ;;
    mixed|rotate) for ext in "${EXTS[@]}"; do "$t" "$ext"; done ;;
    encoding)
      for d in "${DESIGNS[@]}"; do
        use_design "$d"
        for ext in "${EXTS[@]}"; do encoding "$ext"; done
        cmp "$WORK/latin1_message_xfunc.txt" "$WORK/latin1_message_xfunc_c.txt" \
          || fail "the two builds wrote different bytes"
        ok "LATIN1 database: both builds wrote the same bytes"
      done ;;
    no-preload) no_preload ;;
    all)
      for d in "${DESIGNS[@]}"; do
        use_design "$d"
        for ext in "${EXTS[@]}"; do concurrency "$ext"; crash "$ext"; failures "$ext"; encoding "$ext"; done
        cmp "$WORK/latin1_message_xfunc.txt" "$WORK/latin1_message_xfunc_c.txt" \
          || fail "the two builds wrote different bytes"
      done
      unset PGOPTIONS
      for ext in "${EXTS[@]}"; do mixed "$ext"; rotate "$ext"; done
      no_preload ;;
    *) echo "usage: $0 [concurrency|crash|failures|encoding|rotate|mixed|no-preload|all]..." >&2; exit 2 ;;
  esac
done
check_no_crash "$mark" || fail "a backend died by a signal no test sent"
echo "shmem-tests: every check passed"
