#!/usr/bin/env bash
# Writes what the build of both extensions actually produced, for the book's chapters on
# compiling and linking (6) and on PGXS (7) to include instead of pasting it, in two places:
#
#   book/generated/build/      committed: command lines, what PGXS installs and runs, what the
#                              libraries need from the server. The same for every function set,
#                              so `--check` keeps the committed copy honest.
#   book/generated/installed/  not committed (.gitignore): the listings with one entry per SQL
#                              function (pg_proc rows, exported symbols, the .pgrxsc section, the
#                              installed extension scripts). Written at every `just install`
#                              (--installed), so a function a reader adds to a chapter shows up
#                              there, and nothing committed goes stale because of it.
#
#   tools/book/artifacts.sh              rewrite both from the installed build (just book-artifacts)
#   tools/book/artifacts.sh --check      rewrite book/generated/installed/, then exit 1 and print
#                                        the difference when book/generated/build/ is stale
#   tools/book/artifacts.sh --installed  rewrite book/generated/installed/ only (tools/cluster/install.sh)
#
# Reads the installed build (just install): xfunc.so and xfunc_c.so and their extension scripts
# in the checkout's PostgreSQL copy, c/Makefile through `make -n`, and the running cluster, where
# it runs `make installcheck` and reads pg_proc in the reader's databases xfunc and xfunc_c, in
# which just install created each extension afresh.
# To keep the files stable, machine-specific paths are written as $XFUNC_PG (tools/lib/env.sh),
# symbol addresses and test timings are dropped, and lists are sorted. Nothing here depends on
# the Rust profile: a dev and a release install give the same files.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib/env.sh"
cd "$XFUNC_ROOT"

case "${1:-}" in
  "") mode="write" ;;
  --check) mode=check ;;
  --installed) mode=installed ;;
  *) echo "usage: tools/book/artifacts.sh [--check | --installed]" >&2; exit 2 ;;
esac

dest=book/generated/build
dest_installed=book/generated/installed
out=$(mktemp -d)
# The per-function listings are written to $out/installed, the rest to $out.
mkdir "$out/installed"
trap 'rm -rf "$out"' EXIT
fail() { say "$*"; exit 1; }

[ -x "$PG_CONFIG" ] || fail "no PostgreSQL copy at $XFUNC_PG: run bash tools/cluster/setup.sh"
pkglibdir=$("$PG_CONFIG" --pkglibdir)
extdir=$("$PG_CONFIG" --sharedir)/extension
rust_version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
c_version=$(sed -n "s/^default_version = '\(.*\)'$/\1/p" c/xfunc_c.control)
for f in "$pkglibdir/xfunc.so" "$pkglibdir/xfunc_c.so" \
         "$extdir/xfunc--$rust_version.sql" "$extdir/xfunc_c--$c_version.sql"; do
  [ -f "$f" ] || fail "${f#"$XFUNC_PG"/} is not installed: run just install"
done
if [ "$mode" != installed ]; then
  make -s -q -C c PG_CONFIG="$PG_CONFIG" all 2>/dev/null \
    || fail "c/ is not built from its current sources: run just install"
fi
cluster() { xfunc_psql -X -q -v ON_ERROR_STOP=1 "$@"; }
cluster -d postgres -c 'SELECT 1' >/dev/null 2>&1 || fail "the cluster is not running: just cluster-start"
for db in xfunc xfunc_c; do
  [ "$(cluster -d "$db" -A -t -c "SELECT count(*) FROM pg_extension WHERE extname = '$db'" 2>/dev/null)" = 1 ] \
    || fail "database $db has no extension $db: run just install"
done

# Replaces the path of the checkout's PostgreSQL copy (and the cluster's socket and port, which
# only pg_regress prints) by the names tools/lib/env.sh gives them.
normalise() {
  awk -v pg="$XFUNC_PG" -v sock="$XFUNC_PGHOST" -v port="port $XFUNC_PGPORT)" '
    function subst(s, from, to,   i, r) {
      r = ""
      while ((i = index(s, from)) > 0) { r = r substr(s, 1, i - 1) to; s = substr(s, i + length(from)) }
      return r s
    }
    { $0 = subst($0, sock, "$XFUNC_PGHOST"); $0 = subst($0, pg, "$XFUNC_PG")
      print subst($0, port, "port $XFUNC_PGPORT)") }'
}

# Breaks command lines longer than 100 columns into shell continuation lines between words;
# elsewhere, runs of spaces are kept as make printed them.
wrap() {
  awk '{
    if (length($0) <= 100) { print; next }
    n = split($0, w, / /); line = w[1]
    for (i = 2; i <= n; i++) {
      if (w[i] != "" && length(line) + 1 + length(w[i]) > 98) {
        sub(/ +$/, "", line); print line " \\"; line = "    " w[i]
      } else line = line " " w[i]
    }
    print line
  }'
}

# The one line of `input` matching the extended regular expression `pattern`, or a failure:
# the Makefile or PGXS changed in a way this script must learn about.
one_line() {
  local pattern=$1 input=$2 found
  found=$(grep -E -- "$pattern" <<<"$input" || true)
  [ "$(grep -c . <<<"$found")" -eq 1 ] || fail "expected one line matching '$pattern' in make -n output"
  printf '%s\n' "$found"
}

# --- chapter 6: the per-function listings, into $out/installed -------------------------------

# --- chapter 6: the dynamic symbol table of both libraries ------------------------------------
# Reads the catalog of database $1, where just install created extension $1: writes
# $out/$1.functions, "symbol<TAB>function(argument types)" per SQL-callable C function, and
# appends to pg_proc.txt the query the book's chapter 6 asks the reader to run, and its output.
functions_of() {
  local ext=$1 db=$1
  cluster -d "$db" -A -t -F $'\t' -v ext="$ext" >"$out/$ext.functions" <<'SQL'
SELECT p.prosrc, p.oid::regprocedure
  FROM pg_depend d
  JOIN pg_proc p ON d.classid = 'pg_proc'::regclass AND p.oid = d.objid
 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = :'ext')
   AND p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'c')
 ORDER BY 1, 2;
SQL
  # What CREATE EXTENSION stored: MODULE_PATHNAME replaced, $libdir kept for load time; for
  # the functions chapter 6 shows, so that the listing keeps its length whatever the other
  # chapters (or a reader) add.
  cluster -d "$db" -a >>"$out/installed/pg_proc.txt" <<SQL
SELECT oid::regprocedure AS function, probin, prosrc
  FROM pg_proc
 WHERE probin = '\$libdir/$ext'
   AND proname IN ($chapter2_sql)
 ORDER BY oid::regprocedure::text;
SQL
}

# The SQL names of the functions chapter 6's listings show: chapter 2's (c/base_types.sql), and
# chapter 4's two written by hand as raw version-1 functions in Rust too.
chapter2_functions=$({ sed -n 's/^CREATE FUNCTION \([a-z_0-9]*\)(.*/\1/p' c/base_types.sql
                       printf '%s\n' text_prefix bytes_prefix; } | LC_ALL=C sort -u)
chapter2_sql=$(awk '{ printf "%s\047%s\047", (NR > 1 ? "," : ""), $0 }' <<<"$chapter2_functions")

# excerpt FILE: the lines of an annotated symbol table (dynsym's output) that chapter 6 shows:
# every symbol that is not one of an SQL function's pair, and the pairs of the functions above;
# then one line saying how many pairs were left out.
excerpt() {
  awk -v keep="$(paste -s -d ' ' <<<"$chapter2_functions")" '
    BEGIN { n = split(keep, k, " "); for (i = 1; i <= n; i++) wanted[k[i]] = 1 }
    {
      sql = ""
      if (match($0, /called for SQL function [a-z_0-9.]+\(/)) sql = substr($0, RSTART + 24, RLENGTH - 25)
      sub(/^[a-z_0-9]+\./, "", sql)
      if (sql != "" && !(sql in wanted)) { left++; next }
      if ($0 ~ /PG_FUNCTION_INFO_V1\(/) {
        sym = $1; sub(/^pg_finfo_/, "", sym)
        if (!(sym in shown)) { finfo[++nf] = $0; fsym[nf] = sym; next }
      }
      if (sql != "") shown[$1] = 1
      lines[++nl] = $0
    }
    END {
      for (i = 1; i <= nf; i++) if (fsym[i] in shown) lines[++nl] = finfo[i]; else leftf++
      # the original order: sort by symbol name, as nm printed them
      for (i = 1; i <= nl; i++) print lines[i] | "LC_ALL=C sort"
      close("LC_ALL=C sort")
      printf "... and %d more SQL functions, each a symbol and its pg_finfo_ record\n", left
    }' "$1"
}

# Annotates the sorted names of the symbols a library exports (nm -D --defined-only) with what
# PostgreSQL does with each. $1: library name; $2: the file functions_of wrote for it.
dynsym() {
  nm -D --defined-only --format=posix "$pkglibdir/$1.so" | awk '{ print $1 }' | LC_ALL=C sort -u |
    awk -F '\t' -v functions="$2" '
      BEGIN { while ((getline line < functions) > 0) {
                split(line, f, "\t"); prev = (f[1] in sql) ? sql[f[1]] ", " : ""; sql[f[1]] = prev f[2] } }
      { names[NR] = $1; exported[$1] = 1 }
      END {
        for (s in sql) if (!(s in exported)) {
          print "artifacts: CREATE FUNCTION names symbol " s ", which the library does not export" > "/dev/stderr"
          exit 1
        }
        width = 0
        for (i = 1; i <= NR; i++) if (length(names[i]) > width) width = length(names[i])
        for (i = 1; i <= NR; i++) {
          s = names[i]
          if (s == "Pg_magic_func") role = "PG_MODULE_MAGIC: the magic block, checked when the library is loaded"
          else if (s == "_PG_init") role = "called once, just after the library is loaded"
          else if (s ~ /^pg_finfo_/) role = "PG_FUNCTION_INFO_V1(" substr(s, 10) "): version-1 calling convention"
          else if (s in sql) role = "called for SQL function " sql[s]
          else role = "(not called by PostgreSQL through pg_proc)"
          printf "%-" width "s  %s\n", s, role
        }
      }'
}

: >"$out/installed/pg_proc.txt"
for lib in xfunc xfunc_c; do
  { echo "-- ANCHOR: $lib"; echo "-- in database $lib (just psql -d $lib)"; } >>"$out/installed/pg_proc.txt"
  functions_of "$lib"
  echo "-- ANCHOR_END: $lib" >>"$out/installed/pg_proc.txt"
  dynsym "$lib" "$out/$lib.functions" >"$out/installed/$lib.dynsym.txt"
  excerpt "$out/installed/$lib.dynsym.txt" >"$out/installed/$lib.dynsym-excerpt.txt"
  rm "$out/$lib.functions"
done

# --- chapter 6: how cargo-pgrx knows which SQL to write --------------------------------------
# Each #[pg_extern] function gets an anchor named after its Rust path without the crate
# (xfunc::base_types::add_one -> base_types-add_one) in both files, for the book to include one.
#
# The schema section .pgrxsc that the pgrx macros fill: one entry (a u32 length, then the
# payload: a kind byte and fields) per SQL entity. Printed one entry per paragraph with the
# strings it holds (each a u32 length and its bytes), sorted, because the linker may order the
# entries differently in a dev and a release build.
objcopy -O binary --only-section=.pgrxsc "$pkglibdir/xfunc.so" "$out/pgrxsc.bin"
python3 - "$out/pgrxsc.bin" >"$out/installed/xfunc.pgrxsc.txt" <<'PY'
import struct, sys
KINDS = {0: "sentinel", 1: "schema", 2: "extension_sql", 3: "function", 4: "type", 5: "enum",
         6: "ord", 7: "hash", 8: "aggregate", 9: "trigger"}
data = open(sys.argv[1], "rb").read()
entries, pos = [], 0
while pos + 4 <= len(data):
    (size,) = struct.unpack_from("<I", data, pos)
    if size == 0:
        break
    payload, pos = data[pos + 4:pos + 4 + size], pos + 4 + size
    strings, i = [], 1
    while i + 4 <= len(payload):
        (n,) = struct.unpack_from("<I", payload, i)
        text = payload[i + 4:i + 4 + n]
        if 0 < n and len(text) == n and all(32 <= b < 127 for b in text):
            strings.append(text.decode())
            i += 4 + n
        else:
            i += 1
    kind = KINDS.get(payload[0], str(payload[0]))
    body = [kind] + ["    " + s for s in strings]
    if kind == "function" and len(strings) >= 4:  # SQL name, Rust name, module path, full path
        anchor = "-".join((strings[2] + "::" + strings[1]).split("::")[1:])
        body = [f"# ANCHOR: {anchor}"] + body + [f"# ANCHOR_END: {anchor}"]
    entries.append((kind != "sentinel", body[0], "\n".join(body)))
print("\n\n".join(e[2] for e in sorted(entries)))
PY
rm "$out/pgrxsc.bin"

# The extension scripts as installed: what CREATE EXTENSION runs. pgrx's with anchors added
# around each block of connected objects, named after the Rust functions the block declares;
# c/Makefile's with an anchor around the two header lines the Makefile writes.
awk '
  /^\/\* <begin connected objects> \*\// { inblock = 1; n = 0; anchors = "" }
  inblock {
    block[++n] = $0
    # "-- xfunc::base_types::add_one" names the module (and the SQL name); the symbol in
    # "AS 'MODULE_PATHNAME', 'add_one_wrapper';" names the Rust function.
    if ($0 ~ /^-- [A-Za-z_][A-Za-z0-9_]*::/) {
      module = substr($0, 4); sub(/::[^:]*$/, "", module); sub(/^[^:]*(::)?/, "", module)
      gsub(/::/, "-", module)
    }
    if (match($0, /^AS .MODULE_PATHNAME., .[A-Za-z0-9_]+_wrapper.;$/)) {
      fn = $0; sub(/^AS .MODULE_PATHNAME., ./, "", fn); sub(/_wrapper.;$/, "", fn)
      anchors = anchors " " (module == "" ? fn : module "-" fn)
    }
    if ($0 ~ /^\/\* <\/end connected objects> \*\//) {
      k = split(anchors, a, " ")
      for (j = 1; j <= k; j++) print "-- ANCHOR: " a[j]
      for (j = 1; j <= n; j++) print block[j]
      for (j = 1; j <= k; j++) print "-- ANCHOR_END: " a[j]
      inblock = 0
    }
    next
  }
  { print }' "$extdir/xfunc--$rust_version.sql" >"$out/xfunc.install.unsorted.sql"
# pgrx writes the blocks in an order that changes from one run to the next ("The ordering of
# items is not stable", says its header): a dependency graph's order among independent items.
# Sorted by the source location each block names (file, then line), the file is the same for
# every run, and still in dependency order: each of our types is declared above, in the same
# file, the functions that use it.
python3 - "$out/xfunc.install.unsorted.sql" >"$out/installed/xfunc.install.sql" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
blocks = re.findall(r"(?:-- ANCHOR: [^\n]*\n)*/\* <begin connected objects> \*/\n.*?"
                    r"/\* </end connected objects> \*/\n(?:-- ANCHOR_END: [^\n]*\n)*\n?", text, re.S)
assert "".join(blocks) == text, "unexpected layout of the generated SQL"
def where(block):
    m = re.search(r"^-- (src/\S+?):(\d+)$", block, re.M)
    return (m.group(1), int(m.group(2))) if m else ("", 0)
head, rest = blocks[0], blocks[1:]
sys.stdout.write(head + "".join(sorted(rest, key=where)))
PY
rm "$out/xfunc.install.unsorted.sql"
awk 'NR == 1 { print "-- ANCHOR: header" } { print } NR == 2 { print "-- ANCHOR_END: header" }' \
  "$extdir/xfunc_c--$c_version.sql" >"$out/installed/xfunc_c.install.sql"

cat >"$out/installed/README.md" <<'EOF'
Written by `tools/book/artifacts.sh` at every `just install`, from the installed build: the
listings with one entry per SQL function. Not committed (a function added to a chapter changes
them); do not edit.
EOF
mkdir -p "$dest_installed"
find "$dest_installed" -maxdepth 1 -type f -delete
cp "$out"/installed/* "$dest_installed"/
rm -r "$out/installed"
if [ "$mode" = installed ]; then
  say "wrote $(find "$dest_installed" -maxdepth 1 -type f | wc -l) files in $dest_installed"
  exit 0
fi

# --- chapter 6: what PGXS runs to compile and link xfunc_c.so --------------------------------
# -B: every command, as for a build from scratch, whatever is already built.
build=$(make -n -B --no-print-directory -C c PG_CONFIG="$PG_CONFIG" COPT=-Werror all | normalise)
one_line ' -c -o xfunc_c\.o xfunc_c\.c$' "$build" | wrap > "$out/xfunc_c.compile.txt"
one_line ' -emit-llvm -c -o xfunc_c\.bc xfunc_c\.c$' "$build" | wrap > "$out/xfunc_c.bitcode.txt"
one_line ' -shared -o xfunc_c\.so ' "$build" | wrap > "$out/xfunc_c.link.txt"

# --- chapter 6: what the libraries need from the server; exports without a record ------------
# Chapter 3: the exported symbols that have no pg_finfo_ record of their own, which CREATE
# FUNCTION refuses to declare (fetch_finfo_record).
for lib in xfunc xfunc_c; do
  echo "# ANCHOR: $lib"
  nm -D --defined-only --format=posix "$pkglibdir/$lib.so" | awk '{ print $1 }' | LC_ALL=C sort -u |
    awk '{ s[NR] = $1; e[$1] = 1 }
         END { for (i = 1; i <= NR; i++) if (s[i] !~ /^pg_finfo_/ && !(("pg_finfo_" s[i]) in e)) print s[i] }'
  echo "# ANCHOR_END: $lib"
done >"$out/no-finfo.txt"

# What the C library needs from its host: symbols it leaves undefined (PostgreSQL's, resolved
# against the postgres executable when it is loaded), then the libraries it names as NEEDED.
nm -D --undefined-only --format=posix "$pkglibdir/xfunc_c.so" | awk '{ print $2, $1 }' |
  LC_ALL=C sort -k 2 >"$out/xfunc_c.undefined.txt"
# Calls the dynamic linker binds at load time (PLT slots): the server's functions, but also the
# library's own exported ones, which a symbol of the same name loaded earlier would interpose.
readelf -r --wide "$pkglibdir/xfunc_c.so" | awk '$3 ~ /JUMP_SLOT$/ { print $5 }' | LC_ALL=C sort \
  >"$out/xfunc_c.plt.txt"
# Chapter 6's exercise: the calls of each library that another library loaded earlier could
# interpose, those whose PLT slot names a symbol the library itself exports.
for lib in xfunc xfunc_c; do
  echo "# ANCHOR: $lib"
  found=$(comm -12 \
    <(readelf -r --wide "$pkglibdir/$lib.so" | awk '$3 ~ /JUMP_SLOT$/ { print $5 }' | LC_ALL=C sort) \
    <(nm -D --defined-only --format=posix "$pkglibdir/$lib.so" | awk '{ print $1 }' | LC_ALL=C sort -u))
  printf '%s\n' "${found:-(nothing)}"
  echo "# ANCHOR_END: $lib"
done >"$out/interposable.txt"
for lib in xfunc xfunc_c; do
  needed=$(readelf -d "$pkglibdir/$lib.so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p' | paste -s -d ' ')
  printf '%-11s %s\n' "$lib.so" "${needed:-(none)}"
done >"$out/needed.txt"
# cargo pgrx installs the control file with @CARGO_VERSION@ replaced; PGXS copies it as it is.
cp "$extdir/xfunc.control" "$out/xfunc.control"

# --- chapter 7: where each tool installed what, and PGXS's install and test commands ----------
find "$pkglibdir" "$extdir" \( -name 'xfunc.*' -o -name 'xfunc--*' -o -name 'xfunc_c*' \
  -o -path '*/bitcode/xfunc_c/*' \) -print |
  normalise | LC_ALL=C sort >"$out/installed.txt"
make -n --no-print-directory -C c PG_CONFIG="$PG_CONFIG" install | normalise | wrap \
  >"$out/xfunc_c.install.txt"
make -n -B --no-print-directory -C c PG_CONFIG="$PG_CONFIG" installcheck | normalise | wrap \
  >"$out/xfunc_c.installcheck-n.txt"
mapfile -t cluster_env < <(tools/cluster/cluster.sh env)
# The run itself, against the cluster; a failing test fails this script.
if ! env "${cluster_env[@]}" make -s --no-print-directory -C c PG_CONFIG="$PG_CONFIG" installcheck \
     >"$out/installcheck.log" 2>&1; then
  cat "$out/installcheck.log" target/regress/xfunc_c-pgxs/regression.diffs 2>/dev/null || true
  fail "make installcheck failed"
fi
normalise <"$out/installcheck.log" |
  sed -E 's/^(test .* \.\.\. [a-z ]*ok)[[:space:]]+[0-9]+ ms$/\1/' >"$out/xfunc_c.installcheck.txt"
# Chapter 7's exercise: one test only, REGRESS overridden on make's command line.
if ! env "${cluster_env[@]}" make -s --no-print-directory -C c PG_CONFIG="$PG_CONFIG" installcheck \
     REGRESS=returning_rows >"$out/installcheck.log" 2>&1; then
  cat "$out/installcheck.log" target/regress/xfunc_c-pgxs/regression.diffs 2>/dev/null || true
  fail "make installcheck REGRESS=returning_rows failed"
fi
normalise <"$out/installcheck.log" |
  sed -E 's/^(test .* \.\.\. [a-z ]*ok)[[:space:]]+[0-9]+ ms$/\1/' >"$out/xfunc_c.installcheck-one.txt"
rm "$out/installcheck.log"

cat >"$out/README.md" <<'EOF'
Written by `tools/book/artifacts.sh` from the installed build; do not edit. After a change to the
build (the Makefile, the toolchain, what PGXS installs), `just install && just book-artifacts`
rewrites them; `tools/book/artifacts.sh --check` fails while they differ from what the build
produces. The listings with one entry per SQL function are in ../installed/, not committed.
EOF

if [ "$mode" = write ]; then
  mkdir -p "$dest"
  find "$dest" -maxdepth 1 -type f -delete
  cp "$out"/* "$dest"/
  say "wrote $(find "$dest" -maxdepth 1 -type f | wc -l) files in $dest"
elif diff -ru "$dest" "$out"; then
  say "ok $dest is what the installed build gives"
else
  fail "$dest is stale (the diff above turns it into what the build gives): run just book-artifacts"
fi
