#!/usr/bin/env python3
"""Counts the instructions each per_call statement executes, with callgrind: a figure that does
not depend on how busy the machine is, to explain a ratio that the wall clock measured.

Takes the statements of the last `cargo bench --bench per_call` run (its run record,
target/criterion/xfunc/per_call.json, holds each case's statements at a smaller row count),
stops the cluster, runs each statement alone in a single-user backend (`postgres --single`, as
`tools/cluster/cluster.sh single` starts it) on the bench database under
`valgrind --tool=callgrind`, and starts the cluster again. Writes the
counts to target/criterion/xfunc/callgrind.json, where tools/bench/bench_report.py finds them:
instructions per call = (count(variant) - count(baseline)) / calls, the backend's start-up and
the statement's own work cancelling out as in the timed run.

    python3 tools/bench/bench_callgrind.py [case...]      (default: every case of the last run)
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


def say(msg: str) -> None:
    print(f"bench-callgrind: {msg}", flush=True)


def cluster(*args: str) -> str:
    return xfunc.cluster(*args).stdout


# The cases whose profile the book shows function by function (chapter 15: where the cost of a
# call goes), each written to book/generated/benchmarks/callgrind-<case>.txt: the functions of
# its profile worth showing (ours and pgrx's, and what PostgreSQL does for us), and the functions
# whose calls it counts (__sigsetjmp: one per guarded call into PostgreSQL, pgrx's guard).
PROFILED = {
    "makepoint": (re.compile(r"xfunc(_c)?\.so\]|MemoryContextAlloc|palloc"), ("__sigsetjmp",)),
    "c_overpaid": (re.compile(r"xfunc(_c)?\.so\]|GetAttributeByName|lookup_rowtype_tupdesc"
                              r"|DecrTupleDescRefCount|nocachegetattr|getBaseType\b|palloc"
                              r"|MemoryContextAlloc|pfree"),
                   ("__sigsetjmp", "lookup_rowtype_tupdesc")),
    "retcomposite": (re.compile(r"xfunc(_c)?\.so\]|heap_form_tuple|HeapTupleHeaderGetDatum"),
                     ("__sigsetjmp",)),
    "copytext": (re.compile(r"xfunc(_c)?\.so\]|pg_detoast_datum_packed|palloc|MemoryContextAlloc"),
                 ("__sigsetjmp",)),
    "concat_text": (re.compile(r"xfunc(_c)?\.so\]|pg_detoast_datum_packed|palloc"
                               r"|MemoryContextAlloc"), ("__sigsetjmp",)),
}
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


def profile(out_file: Path, key: str, calls: int, shown: re.Pattern,
            counted: tuple[str, ...]) -> list[str]:
    """The inclusive instruction counts per call of the functions `shown`, from one profile, and
    how often per call the functions `counted` were called."""
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100",
                           str(out_file)], capture_output=True, text=True, check=True).stdout
    lines = [f"{key} ({calls:,} calls)"]
    floor = 1.0  # then 1 % of the largest shown: less is the backend's start-up, spread thin
    for line in text.splitlines():
        m = re.match(r"\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+\S*?:(.*?) \[(.*)\]$", line)
        if m and shown.search(line):
            per_call = int(m.group(1).replace(",", "")) / calls
            if per_call >= floor:
                floor = max(floor, per_call / 100)
                lines.append(f"  {per_call:8.1f}  {m.group(2)}  [{Path(m.group(3)).name}]")
    per_call = ", ".join(f"{name} {n / calls:.1f}" for name, n in calls_of(out_file, counted).items())
    return lines + [f"  calls per call: {per_call}"]


def count(workdir: str, sql: str) -> int:
    # The single-user backend with the cluster's own settings (tools/cluster/cluster.sh single),
    # run under callgrind.
    r = xfunc.cluster("single", BENCH_DB, "valgrind", "--tool=callgrind",
                      f"--callgrind-out-file={workdir}/callgrind.%p", input=sql + ";\n")
    if "ERROR:" in r.stdout + r.stderr:
        err = [l for l in (r.stdout + r.stderr).splitlines() if "ERROR:" in l]
        raise SystemExit(f"bench-callgrind: {sql[:80]}...: {err[0].strip()}")
    m = re.search(r"Collected : (\d+)", r.stderr)
    if not m:
        raise SystemExit(f"bench-callgrind: no instruction count from callgrind:\n{r.stderr[-800:]}")
    return int(m.group(1))


def last_profile(workdir: str) -> Path:
    return max(Path(workdir).glob("callgrind.*"), key=lambda p: p.stat().st_mtime)


def main() -> int:
    if not shutil.which("valgrind"):
        say("valgrind is not installed (apt-get install valgrind)")
        return 1
    record_path = RECORDS / "per_call.json"
    if not record_path.is_file():
        say(f"no measured per_call run ({record_path} is missing): run `just bench --bench per_call`")
        return 1
    record = json.loads(record_path.read_text())
    statements = record["params"].get("callgrind_statements", {})
    wanted = sys.argv[1:]
    if wanted:
        statements = {k: v for k, v in statements.items() if k.split("/")[1] in wanted}
    if not statements:
        say("the last per_call run measured no case")
        return 1
    was_running = "running:" in cluster("status")
    if was_running:
        say("stopping the cluster (a single-user backend needs the data directory to itself)")
        cluster("stop")
    counts = {}
    profiles: dict[str, list[str]] = {}
    workdir = tempfile.mkdtemp(prefix="xfunc-callgrind-")
    os.chmod(workdir, 0o777)
    try:
        for key, st in sorted(statements.items()):
            n = count(workdir, st["sql"])
            counts[key] = {"instructions": n, "calls": st["calls"]}
            say(f"{key}: {n:,} instructions")
            case = key.split("/")[1]
            if case in PROFILED and key.split("/")[2] in ("rust", "rust_fast", "c"):
                profiles.setdefault(case, []).extend(
                    profile(last_profile(workdir), key, st["calls"], *PROFILED[case]) + [""])
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if was_running:
            cluster("start")
            say("cluster started again")
    version = subprocess.run(["valgrind", "--version"], capture_output=True,
                             text=True).stdout.strip()
    out = {"per_call_started": record["started"], "valgrind": version, "counts": counts}
    (RECORDS / "callgrind.json").write_text(json.dumps(out, indent=2) + "\n")
    for case, lines in profiles.items():
        path = PROFILE_DIR / f"callgrind-{case}.txt"
        path.write_text(f"Instructions per call of the SQL function, in each function and all it "
                        f"calls ({version};\nwritten by tools/bench/bench_callgrind.py)\n\n"
                        + "\n".join(lines))
        say(f"wrote {path.relative_to(ROOT)}")
    say(f"wrote {(RECORDS / 'callgrind.json').relative_to(ROOT)}; `just bench-report` shows it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
