#!/usr/bin/env python3
"""Counts the instructions the benchmarks' statements execute, with callgrind: a figure that does
not depend on how busy the machine is, to judge a ratio that the wall clock cannot.

Takes the statements of the last measured run of each bench that has some (per_call and
aggregates: each case's statements at a smaller row count, for an aggregate a call being a row,
one transition call; varlena: each copy at each size, through the
executor; lwlock_contention: each counter's *_cycles call, of 0 cycles and of 100,000), from
its run record (target/criterion/xfunc/<bench>.json), stops the cluster, runs each statement
alone in a single-user backend (`postgres --single`, as `tools/cluster/cluster.sh single`
starts it) on the bench database under `valgrind --tool=callgrind`, and starts the cluster
again. For varlena it also counts memcpy's own instructions per byte at the same sizes, in a
small C program (tools/bench/memcpy_count.c) under callgrind. Writes the counts to
target/criterion/xfunc/callgrind.json, where
tools/bench/bench_report.py finds them: instructions per call = (count(statement) -
count(its baseline)) / calls, the backend's start-up and the statement's own work cancelling
out as in the timed run (per cycle, for the contention bench: the baseline is the call of no
cycle).

    python3 tools/bench/bench_callgrind.py [case...]   (default: every case of the last runs)

A case name (`makepoint`, `copytext`, `atomic`) counts that case's statements in every bench
that has it; the counts of the other cases of the same runs are kept.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
import xfunc  # noqa: E402  (tools/lib/xfunc.py: the checkout's environment)

ROOT = xfunc.ROOT
RECORDS = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "criterion" / "xfunc"
BENCH_DB = "xfunc_bench"
# The bench files whose run records hold statements to count.
COUNTED = ("per_call", "aggregates", "varlena", "lwlock_contention")
MEMCPY_SOURCE = ROOT / "tools" / "bench" / "memcpy_count.c"
MEMCPY_BYTES = 64 << 20  # what memcpy_count copies at each size, about


def say(msg: str) -> None:
    print(f"bench-callgrind: {msg}", flush=True)


def cluster(*args: str) -> str:
    return xfunc.cluster(*args).stdout


# The cases whose profile the book shows function by function (chapter 15: where the cost of a
# call goes), each written to book/generated/benchmarks/callgrind-<name>.txt: the functions of
# its profile worth showing (ours and pgrx's, and what PostgreSQL does for us), and the functions
# whose calls it counts (__sigsetjmp: one per guarded call into PostgreSQL, pgrx's guard). Keyed
# by (bench, case); the profile's name is the case's for per_call, lwlock_<case> for the
# contention bench (per cycle: the call of 100,000 cycles, over its cycles).
PER_CALL_PROFILED = {
    "makepoint": (re.compile(r"xfunc(_c)?\.so\]|MemoryContextAlloc|palloc"), ("__sigsetjmp",)),
    "c_overpaid": (re.compile(r"xfunc(_c)?\.so\]|GetAttributeByName|lookup_rowtype_tupdesc"
                              r"|DecrTupleDescRefCount|nocachegetattr|getBaseType\b|palloc"
                              r"|MemoryContextAlloc|pfree"),
                   ("__sigsetjmp", "lookup_rowtype_tupdesc")),
    "retcomposite": (re.compile(r"xfunc(_c)?\.so\]|heap_form_tuple|HeapTupleHeaderGetDatum"),
                     ("__sigsetjmp",)),
    "add_points": (re.compile(r"xfunc(_c)?\.so\]|MemoryContextAlloc|palloc"), ("__sigsetjmp",)),
    "copytext": (re.compile(r"xfunc(_c)?\.so\]|pg_detoast_datum_packed|palloc|MemoryContextAlloc"),
                 ("__sigsetjmp",)),
    "concat_text": (re.compile(r"xfunc(_c)?\.so\]|pg_detoast_datum_packed|palloc"
                               r"|MemoryContextAlloc"), ("__sigsetjmp",)),
}
LOCK_FUNCTIONS = re.compile(r"xfunc(_c)?\.so\]|LWLockAcquire|LWLockRelease|s_lock\b"
                            r"|ProcessInterrupts|pg_atomic")
PROFILED = {("per_call", case): (case, *shown) for case, shown in PER_CALL_PROFILED.items()}
PROFILED.update({("lwlock_contention", case): (f"lwlock_{case}", LOCK_FUNCTIONS, ("__sigsetjmp",))
                 for case in ("exclusive", "shared", "mix", "atomic", "spinlock")})
PROFILE_DIR = ROOT / "book" / "generated" / "benchmarks"


def calls_of(out_file: Path, names: tuple[str, ...]) -> dict[str, int]:
    """How often the profile's functions `names` were called, from its call records: a
    `cfn=(id) name` line (later `cfn=(id)` alone) names the callee of the `calls=N ...` lines
    that follow it."""
    named, callee, total = {}, None, dict.fromkeys(names, 0)
    for line in out_file.read_text(errors="replace").splitlines():
        m = re.match(r"(c?fn)=\((\d+)\)(?: (.*))?", line)
        if m:
            if m.group(3):
                named[m.group(2)] = m.group(3).strip()
            if m.group(1) == "cfn":
                callee = named.get(m.group(2))
            continue
        m = re.match(r"calls=(\d+)", line)
        if m and callee in total:
            total[callee] += int(m.group(1))
    return total


def inclusive(out_file: Path, shown: re.Pattern) -> dict[tuple[str, str], int]:
    """(function, library) -> its inclusive instruction count in one profile, for the functions
    `shown`. A function's code inlined from another file (a header's inline function, such as
    the C build's atomics, or Rust's core) is a line of its own, under that file: summed here."""
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100",
                           str(out_file)], capture_output=True, text=True, check=True).stdout
    totals: dict[tuple[str, str], int] = {}
    for line in text.splitlines():
        m = re.match(r"\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+\S*?:(.*?) \[(.*)\]$", line)
        if m and shown.search(line):
            name = (m.group(2), Path(m.group(3)).name)
            totals[name] = totals.get(name, 0) + int(m.group(1).replace(",", ""))
    return totals


def profile(out_file: Path, base_file: Path, key: str, calls: int, shown: re.Pattern,
            counted: tuple[str, ...]) -> list[str]:
    """The inclusive instruction counts per call of the functions `shown`, and how often per
    call the functions `counted` were called: the statement's profile less its baseline's, as
    the counts are (what the backend's start-up and the statement's own work cost cancels
    out), over its calls."""
    totals, base = inclusive(out_file, shown), inclusive(base_file, shown)
    net = {name: n - base.get(name, 0) for name, n in totals.items()}
    lines = [f"{key} ({calls:,} calls)"]
    floor = 1.0  # then 1 % of the largest shown
    for (name, library), n in sorted(net.items(), key=lambda item: (-item[1], item[0])):
        per_call = n / calls
        if per_call >= floor:
            floor = max(floor, per_call / 100)
            lines.append(f"  {per_call:8.1f}  {name}  [{library}]")
    made, made_base = calls_of(out_file, counted), calls_of(base_file, counted)
    per_call = ", ".join(f"{name} {(n - made_base[name]) / calls:.1f}"
                         for name, n in made.items())
    return lines + [f"  calls per call: {per_call}"]


def count(workdir: str, sql: str) -> int:
    # The single-user backend with the cluster's own settings (tools/cluster/cluster.sh single),
    # run under callgrind.
    r = xfunc.cluster("single", BENCH_DB, "valgrind", "--tool=callgrind",
                      f"--callgrind-out-file={workdir}/callgrind.%p", input=sql + ";\n")
    if "ERROR:" in r.stdout + r.stderr:
        err = [line for line in (r.stdout + r.stderr).splitlines() if "ERROR:" in line]
        raise SystemExit(f"bench-callgrind: {sql[:80]}...: {err[0].strip()}")
    m = re.search(r"Collected : (\d+)", r.stderr)
    if not m:
        raise SystemExit(f"bench-callgrind: no instruction count from callgrind:\n{r.stderr[-800:]}")
    return int(m.group(1))


def last_profile(workdir: str) -> Path:
    return max(Path(workdir).glob("callgrind.*"), key=lambda p: p.stat().st_mtime)


def memcpy_per_byte(workdir: str, sizes: list[int]) -> dict:
    """size -> {"copies", "instructions"}: memcpy's instructions for `copies` copies of `size`
    bytes, counted by callgrind as the difference between memcpy_count with them and without."""
    binary = Path(workdir) / "memcpy_count"
    subprocess.run(["cc", "-O2", "-o", str(binary), str(MEMCPY_SOURCE)], check=True)

    def run(size: int, copies: int) -> int:
        r = subprocess.run(["valgrind", "--tool=callgrind",
                            f"--callgrind-out-file={workdir}/memcpy.%p", str(binary), str(size),
                            str(copies)], capture_output=True, text=True)
        m = re.search(r"Collected : (\d+)", r.stderr)
        if r.returncode != 0 or not m:
            raise SystemExit(f"bench-callgrind: memcpy_count {size} {copies}:\n{r.stderr[-800:]}")
        return int(m.group(1))

    out = {}
    for size in sizes:
        copies = max(1, MEMCPY_BYTES // size)
        out[str(size)] = {"copies": copies, "instructions": run(size, copies) - run(size, 0)}
        say(f"memcpy of {size:,} bytes: {out[str(size)]['instructions'] / (copies * size):.3f} "
            "instructions a byte")
    return out


def main() -> int:
    if not shutil.which("valgrind"):
        say("valgrind is not installed (apt-get install valgrind)")
        return 1
    wanted = sys.argv[1:]
    records, statements = {}, {}
    for bench in COUNTED:
        path = RECORDS / f"{bench}.json"
        if not path.is_file():
            continue
        record = json.loads(path.read_text())
        found = record["params"].get("callgrind_statements", {})
        if wanted:
            found = {k: v for k, v in found.items() if k.split("/")[1] in wanted}
        if found:
            records[bench] = record
            statements.update(found)
    if not statements:
        say("no measured run of " + ", ".join(COUNTED) + " has a statement to count"
            + (f" for {', '.join(wanted)}" if wanted else "")
            + ": run `just bench --bench per_call` (or aggregates, varlena, lwlock_contention) first")
        return 1
    # The counts of the same runs made earlier are kept (a run of some cases adds to them).
    out_path = RECORDS / "callgrind.json"
    old = json.loads(out_path.read_text()) if out_path.is_file() else {}
    runs = {b: r["started"] for b, r in records.items()}
    for b, started in (old.get("runs") or {}).items():
        if b not in runs and (RECORDS / f"{b}.json").is_file() and json.loads(
                (RECORDS / f"{b}.json").read_text())["started"] == started:
            runs[b] = started
    counts = {k: v for k, v in (old.get("counts") or {}).items()
              if runs.get(k.split("/")[0]) == (old.get("runs") or {}).get(k.split("/")[0])}
    memcpy = old.get("memcpy", {}) if runs.get("varlena") == (old.get("runs") or {}).get(
        "varlena") else {}
    was_running = "running:" in cluster("status")
    if was_running:
        say("stopping the cluster (a single-user backend needs the data directory to itself)")
        cluster("stop")
    profiles: dict[str, list[str]] = {}
    outs: dict[str, Path] = {}  # key -> its profile, kept while the later statements run
    workdir = tempfile.mkdtemp(prefix="xfunc-callgrind-")
    os.chmod(workdir, 0o777)
    try:
        # Each baseline first (a statement without one), so that its profile is there to subtract.
        for key, st in sorted(statements.items(), key=lambda item: ("baseline" in item[1],
                                                                    item[0])):
            n = count(workdir, st["sql"])
            outs[key] = last_profile(workdir)
            counts[key] = {"instructions": n, "calls": st["calls"],
                           **({"baseline": st["baseline"]} if "baseline" in st else {})}
            say(f"{key}: {n:,} instructions")
            bench, case, variant = key.split("/")[:3]
            profiled = PROFILED.get((bench, case))
            if (profiled and variant in ("rust", "rust_fast", "c")
                    and st.get("baseline") in outs):
                name, shown, counted = profiled
                profiles.setdefault(name, []).extend(
                    profile(outs[key], outs[st["baseline"]], f"{bench}/{case}/{variant}",
                            st["calls"], shown, counted) + [""])
        if "varlena" in records:
            sizes = sorted({int(s) for s in records["varlena"]["params"].get("sizes", {})})
            memcpy = memcpy_per_byte(workdir, sizes)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if was_running:
            cluster("start")
            say("cluster started again")
    version = subprocess.run(["valgrind", "--version"], capture_output=True,
                             text=True).stdout.strip()
    out = {"runs": runs, "valgrind": version, "counts": counts, "memcpy": memcpy}
    out_path.write_text(json.dumps(out, indent=2, sort_keys=True) + "\n")
    for name, lines in profiles.items():
        path = PROFILE_DIR / f"callgrind-{name}.txt"
        what = "per cycle of the counter" if name.startswith("lwlock_") else \
            "per call of the SQL function"
        path.write_text(f"Instructions {what}, in each function and all it calls ({version};\n"
                        f"written by tools/bench/bench_callgrind.py)\n\n"
                        + "\n".join(lines))
        say(f"wrote {path.relative_to(ROOT)}")
    say(f"wrote {out_path.relative_to(ROOT)}; `just bench-report` shows it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
