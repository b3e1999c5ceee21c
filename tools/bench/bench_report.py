#!/usr/bin/env python3
"""Turns the last `cargo bench` run into the Markdown fragments of the book's benchmarks chapter.

Reads, for each bench file (per_call, varlena, shared_log, lwlock_contention, aggregates), the
run record the bench wrote (target/criterion/xfunc/<bench>.json: when it ran, which groups it
measured, what it skipped) and criterion's results of that run (target/criterion/<group>/<id>/new/
benchmark.json and estimates.json; results older than the run are ignored). Writes, per bench:

  book/generated/benchmarks/<bench>.json   the numbers the report shows, computed from the run:
                                           the stamp (date, CPU, PostgreSQL, rustc, commit), the
                                           values (ns per call, GB/s, lines or calls per second)
                                           and every ratio and share the tables print
  book/generated/benchmarks/<bench>.md     tables of those numbers with their targets, and the
                                           plots, included by the benchmarks chapter
  book/src/benchmarks/<bench>-<what>.svg   the plots (matplotlib), which the fragment shows

The stamp of a run says when and where it was measured, from which commit (and whether the tree
had uncommitted changes: then the run measured code no commit holds, and this script refuses to
write it into the book unless given --dirty, which marks it so in every table), and the load
average of the machine when the bench started and when it ended. The start is known when the
bench was run by --run (`just bench`, `just measure`), which writes the load beside the bench's
own record (target/criterion/xfunc/<bench>.load.json); a bench run by `cargo bench` directly has
only the end's.

The fragments and plots are a function of the JSON alone: --from-data rewrites them from the
committed JSON without a run (just bench-tables), and --check (just bench-tables-check) fails
when they are not what the JSON gives (the SVGs are deterministic: fixed hash salt, no date,
one font). A bench with no run record keeps its committed files (from the last reviewed run,
which carries its own stamp). Nothing in them is typed by hand.

    python3 tools/bench/bench_report.py --run [--clean] [--settle] [-- CARGO_BENCH_ARGS...]
                         (run the benches, one bench file at a time, recording the load
                         average before and after each; --clean: refuse a tree with uncommitted
                         changes; --settle: first wait, up to SETTLE_MAX_S, for the 1-minute
                         load average to fall below SETTLE_LOAD)
    python3 tools/bench/bench_report.py [--dirty] [--criterion DIR] [--out DIR] [--plots DIR]
    python3 tools/bench/bench_report.py --from-data [--check] [--out DIR] [--plots DIR]
    python3 tools/bench/bench_report.py --print BENCH     (that bench's tables, no plots)
"""
import argparse
import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
import xfunc  # noqa: E402  (tools/lib/xfunc.py: the checkout's environment)

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_data  # noqa: E402  (the numbers' keys, the targets and the verdicts)

# python3-matplotlib, for the plots (--print needs none).
matplotlib = __import__("matplotlib") if xfunc.debian_python_for("matplotlib") else None

ROOT = xfunc.ROOT
BENCHES = ("per_call", "varlena", "shared_log", "lwlock_contention", "aggregates")
DATA_DIR = ROOT / "book" / "generated" / "benchmarks"
PLOT_DIR = ROOT / "book" / "src" / "benchmarks"
# Where the chapter that includes the fragments (book/src/15-benchmarks.md) finds the plots.
PLOT_URL = "benchmarks"

# The targets of the benchmarks (a variant's time over C's, or a share of a limit), and which
# cells each one judges: tools/bench/bench_data.py, which the book's prose figures share.
T = {t.name: t.value for t in bench_data.TARGETS}

PER_CALL_VARIANTS = ("rust", "rust_fast", "c", "builtin")
VARIANT_LABEL = {"rust": "Rust", "rust_fast": "Rust, fast", "fast": "Rust, fast", "c": "C", "builtin": "built-in", "memcpy": "memcpy",
                 "write": "write() loop", "rust_open_per_line": "Rust, open_per_line",
                 "c_open_per_line": "C, open_per_line", "rust_kept_open": "Rust, kept_open",
                 "c_kept_open": "C, kept_open", "rust_group_commit": "Rust, group_commit",
                 "c_group_commit": "C, group_commit", "write_fdatasync": "write() + fdatasync() loop",
                 "rust_by_hand": "Rust, by hand", "rust_pglwlock": "Rust, PgLwLock",
                 "exclusive/rust_fast": "LWLock excl., Rust fast", "exclusive/c": "LWLock excl., C",
                 "shared/rust_fast": "LWLock shared, Rust fast", "shared/c": "LWLock shared, C",
                 "atomic/rust_fast": "atomic, Rust fast", "atomic/c": "atomic, C",
                 "spinlock/rust_fast": "spinlock, Rust fast", "spinlock/c": "spinlock, C"}
COLORS = {"rust": "#d2691e", "rust_fast": "#e377c2", "c": "#1f77b4", "builtin": "#2ca02c", "memcpy": "#7f7f7f",
          "write": "#7f7f7f", "rust_open_per_line": "#f4a460", "c_open_per_line": "#87ceeb",
          "rust_kept_open": "#d2691e", "c_kept_open": "#1f77b4", "rust_group_commit": "#8b0000",
          "c_group_commit": "#000080", "write_fdatasync": "#7f7f7f", "rust_by_hand": "#8b4513",
          "rust_pglwlock": "#9467bd", "exclusive/rust_fast": "#d2691e", "exclusive/c": "#1f77b4",
          "shared/rust_fast": "#f4a460", "shared/c": "#87ceeb", "atomic/rust_fast": "#2ca02c",
          "atomic/c": "#98df8a", "spinlock/rust_fast": "#9467bd", "spinlock/c": "#c5b0d5"}
LIMITS = ("memcpy", "write", "write_fdatasync")  # drawn dashed: a limit to compare with, not a variant


# --- a run: criterion's results and the bench's run record ----------------------------------

def load_results(criterion: Path, record: dict) -> dict:
    """(group, function, value) -> {"median": ns per iteration, "samples": ns per iteration of
    each of criterion's samples, "throughput": {...}} for every benchmark of the record's groups
    measured during the run the record describes."""
    started = record["started"]
    groups = set(record["groups"])
    out = {}
    for bench_json in criterion.glob("**/new/benchmark.json"):
        meta = json.loads(bench_json.read_text())
        if meta["group_id"] not in groups:
            continue
        estimates = bench_json.with_name("estimates.json")
        if not estimates.is_file() or estimates.stat().st_mtime < started:
            continue  # an older run's result of a variant this run skipped
        median = json.loads(estimates.read_text())["median"]["point_estimate"]
        sample = bench_json.with_name("sample.json")
        samples = []
        if sample.is_file():
            sam = json.loads(sample.read_text())
            samples = [t / i for t, i in zip(sam["times"], sam["iters"], strict=True) if i]
        key = (meta["group_id"], meta["function_id"], meta["value_str"])
        out[key] = {"median": median, "samples": samples or [median],
                    "throughput": meta.get("throughput") or {}}
    return out


DIRTY = " (with uncommitted changes)"  # what benches/common/mod.rs appends to the commit


def load_1min(loadavg: str | None) -> float | None:
    """The 1-minute load average of a /proc/loadavg line."""
    fields = (loadavg or "").split()
    return float(fields[0]) if fields else None


def load_record(criterion: Path, record: dict) -> dict | None:
    """What --run wrote around the bench's run (the load before and after), if it ran it."""
    path = criterion / "xfunc" / f"{record['bench']}.load.json"
    if not path.is_file():
        return None
    load = json.loads(path.read_text())
    # The bench's record is written inside the window --run timed (whole seconds).
    inside = load["started"] - 1 <= record["started"] <= record["finished"] <= load["finished"] + 1
    return load if inside else None


def run_stamp(record: dict, load: dict | None) -> dict:
    """When and where the run was measured, as the bench (and --run) recorded it."""
    commit = record.get("commit") or ""
    return {
        "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(record["finished"])),
        "cpu": record.get("cpu"),
        "cpus": record.get("cpus"),
        "load_before": load_1min(load["loadavg_before"]) if load else None,
        "load_after": load_1min(record.get("loadavg_at_end")),
        "postgres": record.get("postgres", "").split(" on ")[0] or None,
        "rustc": record.get("rustc"),
        "commit": commit.removesuffix(DIRTY) or None,
        "clean": bool(commit) and not commit.endswith(DIRTY),
    }


def positive(t: float) -> float | None:
    """A time left after subtracting the baseline; none when noise swallowed it."""
    return t if t > 0 else None


def div(a: float | None, b: float | None) -> float | None:
    return a / b if a and b else None


def series(points: dict) -> list[list[float]]:
    """{x: y} as sorted [x, y] pairs (JSON has no number keys)."""
    return [[x, y] for x, y in sorted(points.items())]


def at(pairs: list | None, x: float) -> float | None:
    """The y of x in [x, y] pairs."""
    return next((y for px, y in pairs or [] if px == x), None)


def net_time(results: dict, key: tuple, base: tuple | None) -> tuple[float, float, float] | None:
    """The time of one benchmark (`key`, a (group, function, value) of `results`) less its
    baseline's (`base`, none for no baseline): from the medians, and from the quartiles, the
    interval the two spreads allow (low: the variant's first quartile less the baseline's third;
    high: the other way round)."""
    r = results.get(key)
    if r is None:
        return None
    v1, _, v3 = quartiles(r["samples"])
    b = results.get(base) if base else None
    if b is None:
        return r["median"], v1, v3
    b1, _, b3 = quartiles(b["samples"])
    return r["median"] - b["median"], v1 - b3, v3 - b1


def ratio_spread(a: tuple | None, b: tuple | None) -> tuple:
    """a / b of two (median, low, high) times, with the interval their spreads allow: low a over
    high b, high a over low b; a bound the subtraction of a baseline left at zero or below is
    none (a low end of 0, a high end unbounded)."""
    if a is None or b is None or a[0] <= 0 or b[0] <= 0:
        return None, None, None
    lo = max(a[1], 0.0) / b[2] if b[2] > 0 else None
    hi = a[2] / b[1] if b[1] > 0 else None
    return a[0] / b[0], lo, hi


def ratio_cells(name: str, r: tuple) -> dict:
    """{name, name_lo, name_hi} of a ratio and its spread, as the JSON keeps them."""
    return {name: r[0], f"{name}_lo": r[1], f"{name}_hi": r[2]}


# --- the fragments: formatting ----------------------------------------------------------------

def stamp(s: dict) -> str:
    before = s.get("load_before")
    after = s.get("load_after")
    load_text = (f"; load average {fmt(before) if before is not None else 'not recorded'} at "
                 f"the start, {fmt(after) if after is not None else 'not recorded'} at the end")
    dirty = "" if s.get("clean") else " **with uncommitted changes**"
    # The versions' first two words ("PostgreSQL 15.20", "rustc 1.95.0"); the JSON has them all.
    def short(v, unknown):
        return " ".join((v or unknown).split()[:2])
    return (f"*Measured {s['measured']} on {s.get('cpu') or 'an unknown CPU'} "
            f"({s.get('cpus') or '?'} CPUs{load_text}); "
            f"{short(s.get('postgres'), 'PostgreSQL (unknown)')}; "
            f"{short(s.get('rustc'), 'rustc (unknown)')}; "
            f"commit `{s.get('commit') or 'unknown'}`{dirty}.*\n")


def skipped(data: dict) -> str:
    if not data["skipped"]:
        return ""
    lines = "".join(f"- `{s.split(': ', 1)[0]}`: {s.split(': ', 1)[1]}\n"
                    for s in data["skipped"])
    return f"\nNot measured in this run:\n\n{lines}"


def fmt(x: float | None, digits: int = 2) -> str:
    """A number, or an en dash when it was not measured or was below the noise."""
    return "–" if x is None else f"{x:,.{digits}f}"


def spread(x: float | None, lo: float | None, hi: float | None, digits: int = 2) -> str:
    """A measured value and the spread of its repeated timings: `1.02 (0.95–1.10)`; an end left
    unbounded is a `?`."""
    if x is None:
        return "–"
    def ends(v):
        return "?" if v is None else f"{v:,.{digits}f}"
    return f"{x:,.{digits}f} ({ends(lo)}–{ends(hi)})"


def pct(x: float | None) -> str:
    return "–" if x is None else f"{x * 100:.0f} %"


def table(header: list[str], rows: list[list[str]]) -> str:
    align = ["---"] + ["--:"] * (len(header) - 1)
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def verdict(bench: str, data: dict, key: str, value: float | None, none: str = "") -> str:
    """A cell's verdict on its target (bench_data.TARGETS), or `none` when it has none."""
    return bench_data.verdict(bench, key, value, data) or none


def size_label(n: float) -> str:
    n = int(n)
    for unit, div_ in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= div_ and n % div_ == 0:
            return f"{n // div_} {unit}"
    return f"{n} B"


# --- the plots --------------------------------------------------------------------------------

class Plot:
    """A line chart of named [x, y] series: y from 0, x logarithmic (base 2) with a tick at
    every measured x. Written as an SVG file the fragment shows with an <img>."""

    def __init__(self, name: str, title: str, lines: list[tuple[str, list]], x_label: str,
                 y_label: str, x_tick_label=lambda x: f"{x:g}", y_unit: float = 1.0):
        self.name, self.title, self.lines = name, title, lines
        self.x_label, self.y_label = x_label, y_label
        self.x_tick_label, self.y_unit = x_tick_label, y_unit

    def markdown(self) -> str:
        """The image, and its alt text: what it plots, for a reader who cannot see it."""
        names = "; ".join(VARIANT_LABEL.get(n, n) for n, _ in self.lines)
        alt = f"{self.title}: {self.y_label} against {self.x_label} ({names})"
        # As the diagrams: a click opens the SVG at full size.
        return f"[![{alt}]({PLOT_URL}/{self.name})]({PLOT_URL}/{self.name})\n"

    def svg(self) -> str:
        if matplotlib is None:
            sys.exit("bench-report: matplotlib is missing: run bash tools/cluster/setup.sh "
                     "(Debian python3-matplotlib)")
        matplotlib.use("svg")
        from matplotlib import font_manager
        from matplotlib import pyplot as plt
        from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator
        # The same file from the same numbers on every machine: a fixed salt for the ids
        # matplotlib makes up, no date in the metadata, one font (matplotlib's own DejaVu Sans,
        # its letters drawn as paths, so the plot does not depend on the reader's fonts).
        matplotlib.rcParams.update({
            "svg.hashsalt": "xfunc-bench-report", "svg.fonttype": "path",
            "font.family": "DejaVu Sans", "font.size": 9, "axes.titlesize": 10,
        })
        font_manager.findfont("DejaVu Sans", fallback_to_default=False)
        fig, ax = plt.subplots(figsize=(7.2, 3.6), dpi=100)
        xs = sorted({x for _, pts in self.lines for x, _ in pts})
        for name, pts in self.lines:
            ax.plot([x for x, _ in pts], [y / self.y_unit for _, y in pts],
                    color=COLORS.get(name, "black"), marker="o", markersize=4, linewidth=1.8,
                    linestyle="--" if name in LIMITS else "-",
                    label=VARIANT_LABEL.get(name, name))
        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_locator(FixedLocator(xs))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xticklabels([self.x_tick_label(x) for x in xs])
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:,g}"))
        ax.grid(axis="y", alpha=0.3)
        ax.set_title(self.title)
        ax.set_xlabel(self.x_label)
        ax.set_ylabel(self.y_label)
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
        out = io.StringIO()
        fig.savefig(out, format="svg", facecolor="white", bbox_inches="tight", pad_inches=0.1,
                    metadata={"Date": None})
        plt.close(fig)
        # matplotlib ends path lines with a space; git would flag each as trailing whitespace.
        return re.sub(r"[ \t]+$", "", out.getvalue(), flags=re.M)


# --- per_call --------------------------------------------------------------------------------

def callgrind_counts(criterion: Path, bench: str, record: dict) -> dict:
    """key -> instructions per call (statement less its baseline, over its calls), from
    tools/bench/bench_callgrind.py's counts of this very run's statements of `bench`; empty when
    it has not counted them since."""
    path = criterion / "xfunc" / "callgrind.json"
    if not path.is_file():
        return {}
    data = json.loads(path.read_text())
    if (data.get("runs") or {}).get(bench) != record["started"]:
        return {}
    counts = data["counts"]
    out = {}
    for key, c in counts.items():
        base = counts.get(c.get("baseline", ""))
        if key.startswith(f"{bench}/") and base and c["calls"]:
            out[key] = (c["instructions"] - base["instructions"]) / c["calls"]
    return out


def memcpy_counts(criterion: Path, record: dict) -> dict:
    """size -> memcpy's own instructions per byte, counted with varlena's run (as above)."""
    path = criterion / "xfunc" / "callgrind.json"
    if not path.is_file():
        return {}
    data = json.loads(path.read_text())
    if (data.get("runs") or {}).get("varlena") != record["started"]:
        return {}
    return {int(size): m["instructions"] / (m["copies"] * int(size))
            for size, m in (data.get("memcpy") or {}).items()}


def measure_per_call(record: dict, results: dict, criterion: Path) -> dict:
    counted = callgrind_counts(criterion, "per_call", record)
    cases, instr_cases = [], []
    for group in record["groups"]:
        case = group.split("/", 1)[1]
        base = next((k for k in results if k[0] == group and k[1] == "baseline"), None)
        if base is None:
            continue
        t = {}
        for key, r in results.items():
            calls = r["throughput"].get("Elements", 0)
            net = net_time(results, key, base) if key[0] == group and key != base else None
            if calls and net:
                t[key[1]] = tuple(x / calls for x in net)
        ns = {v: positive(t[v][0]) if v in t else None for v in PER_CALL_VARIANTS}
        lo = {v: positive(t[v][1]) if v in t else None for v in PER_CALL_VARIANTS}
        hi = {v: positive(t[v][2]) if v in t else None for v in PER_CALL_VARIANTS}
        cases.append({"case": case, "ns": ns, "ns_lo": lo, "ns_hi": hi,
                      **ratio_cells("rust_c", ratio_spread(t.get("rust"), t.get("c"))),
                      **ratio_cells("fast_c", ratio_spread(t.get("rust_fast"), t.get("c")))})
        if counted:
            i = {v: counted.get(f"per_call/{case}/{v}") for v in PER_CALL_VARIANTS}
            instr_cases.append({"case": case, "per_call": i, "rust_c": div(i["rust"], i["c"]),
                                "fast_c": div(i["rust_fast"], i["c"])})
    p = record["params"]
    return {"params": {"rows": p["rows"], "calls_per_row": p["calls_per_row"]},
            "time": cases, "instructions": instr_cases}


def report_per_call(data: dict) -> tuple[str, list[Plot]]:
    rows, instr_rows = [], []
    for c in data["time"]:
        ns, cell = c["ns"], f"time/{c['case']}"
        rows.append([f"`{c['case']}`", *(fmt(ns.get(v)) for v in PER_CALL_VARIANTS),
                     spread(c["rust_c"], c["rust_c_lo"], c["rust_c_hi"]),
                     verdict("per_call", data, f"{cell}/rust_c", c["rust_c"], "–"),
                     spread(c["fast_c"], c["fast_c_lo"], c["fast_c_hi"]),
                     verdict("per_call", data, f"{cell}/fast_c", c["fast_c"])])
    for c in data["instructions"]:
        i = c["per_call"]
        instr_rows.append([f"`{c['case']}`", *(fmt(i.get(v), 1) for v in PER_CALL_VARIANTS),
                           fmt(c["rust_c"], 3), fmt(c["fast_c"], 3),
                           verdict("per_call", data, f"instructions/{c['case']}/fast_c",
                                   c["fast_c"])])
    p = data["params"]
    text = [stamp(data["stamp"]), "\n",
            f"Nanoseconds per call: the median statement time minus the baseline's, over the "
            f"calls in the statement ({p['rows']:,} rows, {p['calls_per_row']} calls per row; one "
            f"per row for a set-returning function). *Rust*: the ordinary `#[pg_extern]` "
            f"function; *fast*: its twin of *Rust at the Speed of C*. A ratio of times is "
            f"followed by its spread, the interval the quartiles of the two variants' and the "
            f"baseline's timings allow; its verdict is *not resolved* when that interval holds "
            f"the target (fast/C ≤ {T['fast_time']:.2f}; Rust/C ≤ {T['rust_rows']:.2f} for "
            f"composites and sets).\n\n"]
    header = ["case", "Rust ns", "fast ns", "C ns", "built-in ns", "Rust/C (spread)", "verdict",
              "fast/C (spread)", f"≤ {T['fast_time']:.2f}"]
    if rows:
        text.append(table(header, rows))
    else:
        text.append("No case was measured.\n")
    if instr_rows:
        text.append("\nInstructions per call: the same subtraction on callgrind's counts of the "
                    "same statements (fewer rows), each alone in a single-user backend (`just "
                    f"bench-callgrind`); target fast/C ≤ {T['fast_instructions']:.2f}.\n\n")
        text.append(table(["case", "Rust", "fast", "C", "built-in", "Rust/C", "fast/C",
                           f"≤ {T['fast_instructions']:.2f}"], instr_rows))
    text.append(skipped(data))
    return "".join(text), []


# --- varlena ---------------------------------------------------------------------------------

VARLENA_PATHS = (("varlena", "executor", "through the executor"),
                 ("varlena_loop", "loop", "in a PL/pgSQL loop, without plan nodes"))


def bandwidth(results: dict, group: str) -> dict:
    """variant -> {size: bytes per second}, baseline subtracted (memcpy has none)."""
    out: dict = {}
    base = {int(v): r["median"] for (g, f, v), r in results.items()
            if g == group and f == "baseline"}
    for (g, f, v), r in results.items():
        if g != group or f == "baseline":
            continue
        size = int(v)
        t = r["median"] - base.get(size, 0.0)
        nbytes = r["throughput"].get("Bytes", 0)
        if positive(t) and nbytes:
            out.setdefault(f, {})[size] = nbytes / t * 1e9
    return out


def measure_varlena(record: dict, results: dict, criterion: Path) -> dict:
    memcpy = bandwidth(results, "varlena/memcpy").get("memcpy", {})
    cases = []
    for group in record["groups"]:
        if not group.startswith("varlena/") or group == "varlena/memcpy":
            continue
        case = group.split("/", 1)[1]
        for prefix, path, _ in VARLENA_PATHS:
            g = f"{prefix}/{case}"
            bw = bandwidth(results, g)
            if not bw:
                continue
            sizes = sorted({s for v in bw.values() for s in v})
            rows = []
            for size in sizes:
                t = {v: net_time(results, (g, v, str(size)), (g, "baseline", str(size)))
                     for v in ("rust", "rust_fast", "c")}
                rows.append({"size": size,
                             **ratio_cells("rust_c_time", ratio_spread(t["rust"], t["c"])),
                             **ratio_cells("fast_c_time", ratio_spread(t["rust_fast"], t["c"])),
                             "fast_memcpy": div(bw.get("rust_fast", {}).get(size),
                                                memcpy.get(size))})
            cases.append({"case": case, "path": path,
                          "gbps": {v: series({s: b / 1e9 for s, b in pts.items()})
                                   for v, pts in sorted(bw.items())},
                          "rows": rows})
    counted = callgrind_counts(criterion, "varlena", record)
    memcpy_ipb = memcpy_counts(criterion, record)
    instr = []
    for key in sorted({k.rsplit("/", 2)[0] for k in counted}):
        case = key.split("/")[1]
        sizes = sorted({int(k.rsplit("/", 1)[1]) for k in counted if k.startswith(f"{key}/")})
        for size in sizes:
            i = {v: counted.get(f"varlena/{case}/{v}/{size}") for v in PER_CALL_VARIANTS}
            per_byte = {v: (x / size if x is not None else None) for v, x in i.items()}
            instr.append({"case": case, "size": size, "per_call": i, "per_byte": per_byte,
                          "rust_c": div(i["rust"], i["c"]), "fast_c": div(i["rust_fast"], i["c"]),
                          "fast_memcpy": div(per_byte["rust_fast"], memcpy_ipb.get(size))})
    return {"memcpy_gbps": series({s: b / 1e9 for s, b in memcpy.items()}), "cases": cases,
            "memcpy_per_byte": series(memcpy_ipb), "instructions": instr}


def report_varlena(data: dict) -> tuple[str, list[Plot]]:
    memcpy = data["memcpy_gbps"]
    text = [stamp(data["stamp"]), "\n",
            "GB/s (10⁹ bytes per second) of the copies' results, the baseline's time subtracted "
            "(– where the noise swallowed it); *Rust* and *fast* as above; Rust/C and fast/C "
            "are ratios of times (lower is better for Rust), each with its spread as above; "
            "memcpy copies in the bench process into a buffer allocated once.\n"]
    plots = []
    for c in data["cases"]:
        gbps = c["gbps"]
        how = dict((p, h) for _, p, h in VARLENA_PATHS)[c["path"]]
        rows = []
        for r in c["rows"]:
            s, share = r["size"], r["fast_memcpy"]
            cell = f"cases/{c['case']}/{c['path']}/rows/{s}"
            rows.append([size_label(s), *(fmt(at(gbps.get(v), s))
                                          for v in ("rust", "rust_fast", "c", "builtin")),
                         fmt(at(memcpy, s)),
                         spread(r["rust_c_time"], r["rust_c_time_lo"], r["rust_c_time_hi"]),
                         verdict("varlena", data, f"{cell}/rust_c_time", r["rust_c_time"]),
                         spread(r["fast_c_time"], r["fast_c_time_lo"], r["fast_c_time_hi"]),
                         verdict("varlena", data, f"{cell}/fast_c_time", r["fast_c_time"]),
                         (fmt(share * 100, 0) + " %") if share else "–"])
        text.append(f"\n#### `{c['case']}`, {how}\n\n")
        text.append(table(["size", "Rust GB/s", "fast GB/s", "C GB/s", "built-in GB/s",
                           "memcpy GB/s", "Rust/C time (spread)", f"≤ {T['varlena_rust']:.2f}",
                           "fast/C time (spread)", f"≤ {T['varlena_fast']:.2f}",
                           "fast / memcpy"], rows))
        lines = list(gbps.items()) + ([("memcpy", memcpy)] if memcpy else [])
        plot = Plot(f"varlena-{c['case']}-{c['path']}.svg", f"{c['case']}, {how}", lines,
                    "value size", "GB/s", x_tick_label=size_label)
        plots.append(plot)
        text.append("\n" + plot.markdown())
    if not data["cases"]:
        text.append("\nNo copying function was measured.\n")
    if memcpy and not data["cases"]:  # otherwise each table has its memcpy column
        text.append("\n#### The limit: memcpy in the bench process\n\n")
        text.append(table(["size", "memcpy GB/s"], [[size_label(s), fmt(b)] for s, b in memcpy]))
    if data.get("instructions"):
        mem = data["memcpy_per_byte"]
        text.append("\n#### Instructions per copy\n\n"
                    "Callgrind's count of each copy through the executor (`just bench-callgrind`: "
                    "the statement less its baseline, over its copies) and per byte; memcpy's own, "
                    "per byte, counted the same way in a C program that only copies "
                    "(`tools/bench/memcpy_count.c`). Targets: fast/C ≤ "
                    f"{T['varlena_fast_instructions']:.2f} at every size; the fast copy's "
                    f"instructions per byte within {T['memcpy_instructions']:.2f} of memcpy's at "
                    "64 KiB and 1 MiB.\n")
        for case in dict.fromkeys(r["case"] for r in data["instructions"]):
            rows = []
            for r in data["instructions"]:
                if r["case"] != case:
                    continue
                i, pb, s = r["per_call"], r["per_byte"], r["size"]
                cell = f"instructions/{case}/{s}"
                rows.append([size_label(s), *(fmt(i.get(v), 0) for v in PER_CALL_VARIANTS),
                             fmt(pb.get("rust_fast"), 3), fmt(at(mem, s), 3),
                             fmt(r["rust_c"], 3), fmt(r["fast_c"], 3),
                             verdict("varlena", data, f"{cell}/fast_c", r["fast_c"]),
                             fmt(r["fast_memcpy"], 3),
                             verdict("varlena", data, f"{cell}/fast_memcpy", r["fast_memcpy"],
                                     "")])
            text.append(f"\n`{case}`:\n\n")
            text.append(table(["size", "Rust", "fast", "C", "built-in", "fast per byte",
                               "memcpy per byte", "Rust/C", "fast/C",
                               f"≤ {T['varlena_fast_instructions']:.2f}", "fast / memcpy per byte",
                               f"≤ {T['memcpy_instructions']:.2f} at 64 KiB, 1 MiB"], rows))
    text.append(skipped(data))
    return "".join(text), plots


# --- shared_log ------------------------------------------------------------------------------

def rates(results: dict, group: str) -> dict:
    """variant -> {clients: calls (or lines) per second of all clients}, baseline subtracted."""
    base = {int(v): r["median"] for (g, f, v), r in results.items()
            if g == group and f == "baseline"}
    out: dict = {}
    for (g, f, v), r in results.items():
        if g == group and f != "baseline":
            n = int(v)
            t = r["median"] - base.get(n, 0.0)
            if positive(t):
                out.setdefault(f, {})[n] = r["throughput"].get("Elements", 0) / t * 1e9
    return out


def quartiles(xs: list[float]) -> tuple[float, float, float] | None:
    """(first quartile, median, third quartile) of xs, linearly interpolated."""
    xs = sorted(xs)
    if not xs:
        return None

    def q(p: float) -> float:
        i = p * (len(xs) - 1)
        lo = int(i)
        return xs[lo] + (xs[min(lo + 1, len(xs) - 1)] - xs[lo]) * (i - lo)
    return q(0.25), q(0.5), q(0.75)


def sample_rates(results: dict, group: str) -> dict:
    """variant -> {clients: (q1, median, q3) of the rates of its samples}: each sample's time
    per iteration, the baseline's median subtracted, over the lines of an iteration. The middle
    half of the samples is the spread the tables give."""
    base = {int(v): r["median"] for (g, f, v), r in results.items()
            if g == group and f == "baseline"}
    out: dict = {}
    for (g, f, v), r in results.items():
        if g != group or f == "baseline":
            continue
        n, lines = int(v), r["throughput"].get("Elements", 0)
        per_sample = [lines / t * 1e9 for t in (s - base.get(n, 0.0) for s in r["samples"])
                      if t > 0]
        if per_sample:
            out.setdefault(f, {})[n] = quartiles(per_sample)
    return out


def ratio_range(a: tuple | None, b: tuple | None) -> list[float] | None:
    """The range of a / b that the middle halves of their samples allow: [a's q1 / b's q3,
    a's q3 / b's q1]."""
    if not a or not b or not b[0] or not b[2]:
        return None
    return [a[0] / b[2], a[2] / b[0]]


def measure_shared_log(record: dict, results: dict) -> dict:
    p = record["params"]
    clients = sorted(p["clients"])
    designs = p.get("designs", [])
    loop = {f: r["throughput"].get("Elements", 0) / r["median"] * 1e9
            for (g, f, _), r in results.items() if g in ("shared_log/raw_write",
                                                          "shared_log/sync_write")}
    raw_rate, sync_rate = loop.get("write"), loop.get("write_fdatasync")
    q = {"off": sample_rates(results, "shared_log/lines"),
         "on": sample_rates(results, "shared_log/synced")}
    med = {sync: {v: {n: x[1] for n, x in cells.items()} for v, cells in by.items()}
           for sync, by in q.items()}
    out = {"params": {"lines_per_statement": p["lines_per_statement"],
                      "lines_per_statement_synced": p.get("lines_per_statement_synced"),
                      "clients": clients, "designs": designs},
           "write_loop": raw_rate,
           "sync_loop": sync_rate,
           "sync_ms": 1e3 / sync_rate if sync_rate else None,
           "rates": {v: series(pts) for v, pts in sorted(med["off"].items())},
           "rates_synced": {v: series(pts) for v, pts in sorted(med["on"].items())},
           "spread": {sync: {v: {str(n): [x[0], x[2]] for n, x in sorted(cells.items())}
                             for v, cells in sorted(by.items())} for sync, by in q.items()},
           "designs": [], "designs_synced": [], "second_over_first": [],
           "group_over_kept": []}
    for sync, key, limit in (("off", "designs", raw_rate), ("on", "designs_synced", sync_rate)):
        rate, spread = med[sync], q[sync]
        for design in designs:
            rust, c = rate.get(f"rust_{design}", {}), rate.get(f"c_{design}", {})
            if not rust and not c:
                continue
            rows = []
            for n in clients:
                row = {"clients": n, "rust_c": div(rust.get(n), c.get(n)),
                       "rust_c_range": ratio_range(spread.get(f"rust_{design}", {}).get(n),
                                                   spread.get(f"c_{design}", {}).get(n))}
                if sync == "off":
                    row.update({"rust_write_loop": div(rust.get(n), limit),
                                "rust_own_1_client": div(rust.get(n), rust.get(1))})
                else:
                    row["rust_sync_loop"] = div(rust.get(n), limit)
                rows.append(row)
            out[key].append({"design": design, "rows": rows})
    if {"open_per_line", "kept_open"} <= set(designs):
        out["second_over_first"] = [
            {"clients": n, **{lang: div(med["off"].get(f"{lang}_kept_open", {}).get(n),
                                        med["off"].get(f"{lang}_open_per_line", {}).get(n))
                              for lang in ("rust", "c")}} for n in clients]
    if {"kept_open", "group_commit"} <= set(designs):
        for n in clients:
            row = {"clients": n}
            for sync in ("off", "on"):
                for lang in ("rust", "c"):
                    g = q[sync].get(f"{lang}_group_commit", {}).get(n)
                    k = q[sync].get(f"{lang}_kept_open", {}).get(n)
                    row[f"{sync}_{lang}"] = div(g and g[1], k and k[1])
                    row[f"{sync}_{lang}_range"] = ratio_range(g, k)
            out["group_over_kept"].append(row)
    return out


def spread_text(x: list | None, digits: int = 0) -> str:
    return "" if not x else f" ({fmt(x[0], digits)}–{fmt(x[1], digits)})"


def rate_cell(data: dict, sync: str, variant: str, n: int) -> str:
    """A rate, the median of the samples, with the middle half of them."""
    rates = data["rates" if sync == "off" else "rates_synced"].get(variant)
    spread = data.get("spread", {}).get(sync, {}).get(variant, {}).get(str(n))
    return fmt(at(rates, n), 0) + spread_text(spread)


def report_shared_log(data: dict) -> tuple[str, list[Plot]]:
    p, rate, raw_rate = data["params"], data["rates"], data["write_loop"]
    synced_lines = p.get("lines_per_statement_synced")
    text = [stamp(data["stamp"]), "\n",
            f"Lines per second, all clients together ({p['lines_per_statement']:,}"
            " lines per client per statement"
            + (f", {synced_lines:,} with sync on" if synced_lines else "")
            + ", the baseline's time subtracted): the median of criterion's samples, and in "
            "brackets the middle half of them (first to third quartile); a ratio's bracket is "
            "the range those of its two rates allow, and a target it covers is *not resolved*. "
            "The write() loop is one process writing the same lines, one write() each, to a "
            "file of its own; the fdatasync() loop the same with an fdatasync() after each "
            "write, in the file system of the cluster's data directory.\n\n"]
    if raw_rate:
        text.append(f"write() loop: {fmt(raw_rate, 0)} lines/s.")
    if data.get("sync_loop"):
        text.append(f" fdatasync() loop: {fmt(data['sync_loop'], 0)} lines/s, "
                    f"{fmt(data['sync_ms'], 2)} ms per synced line.")
    text.append("\n\n")
    for d in data["designs"]:
        design = d["design"]
        rows = []
        for r in d["rows"]:
            n, share, scale = r["clients"], r["rust_write_loop"], r["rust_own_1_client"]
            cell = f"designs/{design}/rows/{n}"
            rows.append([str(n), rate_cell(data, "off", f"rust_{design}", n),
                         rate_cell(data, "off", f"c_{design}", n),
                         fmt(r["rust_c"], 3) + spread_text(r.get("rust_c_range"), 2),
                         verdict("shared_log", data, f"{cell}/rust_c", r["rust_c"]),
                         (fmt(share * 100, 0) + " %") if share else "–",
                         verdict("shared_log", data, f"{cell}/rust_write_loop", share),
                         (fmt(scale * 100, 0) + " %") if scale else "–",
                         verdict("shared_log", data, f"{cell}/rust_own_1_client", scale)])
        text.append(f"\n#### `{design}`, sync off\n\n")
        text.append(table(["clients", "Rust lines/s", "C lines/s", "Rust/C rate",
                           f"≥ {T['log_rust_c']:.2f}", "Rust / write() loop",
                           f"≥ {T['log_write_loop']:.0%} at 1 (kept_open)", "Rust / own 1-client rate",
                           f"≥ {T['log_scaling']:.0%} at 2+"], rows))
    for d in data.get("designs_synced", []):
        design = d["design"]
        rows = []
        for r in d["rows"]:
            n, share = r["clients"], r["rust_sync_loop"]
            cell = f"designs_synced/{design}/rows/{n}"
            rows.append([str(n), rate_cell(data, "on", f"rust_{design}", n),
                         rate_cell(data, "on", f"c_{design}", n),
                         fmt(r["rust_c"], 3) + spread_text(r.get("rust_c_range"), 2),
                         verdict("shared_log", data, f"{cell}/rust_c", r["rust_c"]),
                         fmt(share, 2) if share else "–"])
        text.append(f"\n#### `{design}`, sync on\n\n")
        text.append(table(["clients", "Rust lines/s", "C lines/s", "Rust/C rate",
                           f"≥ {T['log_rust_c_synced']:.2f}",
                           "Rust / fdatasync() loop"], rows))
    if data["second_over_first"]:
        rows = [[str(r["clients"]), fmt(r["rust"], 2), fmt(r["c"], 2)]
                for r in data["second_over_first"]]
        text.append("\n#### `kept_open` against `open_per_line`, sync off\n\n")
        text.append(table(["clients", "Rust: kept_open / open_per_line",
                           "C: kept_open / open_per_line"], rows))
    if data.get("group_over_kept"):
        rows = []
        for r in data["group_over_kept"]:
            n = r["clients"]
            row = [str(n)]
            for sync in ("off", "on"):
                for lang in ("rust", "c"):
                    k = f"{sync}_{lang}"
                    row.append(fmt(r[k], 2) + spread_text(r.get(f"{k}_range"), 2))
                    row.append(verdict("shared_log", data, f"group_over_kept/{n}/{k}", r[k]))
            rows.append(row)
        text.append("\n#### `group_commit` against `kept_open`\n\n")
        text.append(table(["clients", "Rust, sync off", f"≥ {T['log_group_nosync']:.2f}",
                           "C, sync off", f"≥ {T['log_group_nosync']:.2f}", "Rust, sync on",
                           f"≥ {T['log_group_sync']:.0f} at 16", "C, sync on",
                           f"≥ {T['log_group_sync']:.0f} at 16"], rows))
    plots = []
    if rate:
        lines = list(rate.items())
        if raw_rate:
            lines.append(("write", [[n, raw_rate] for n in p["clients"]]))
        plot = Plot("shared_log-clients.svg", "xfunc_log, sync off: lines per second against clients",
                    lines, "concurrent clients", "thousand lines/s", y_unit=1e3)
        plots.append(plot)
        text.append("\n" + plot.markdown())
    else:
        text.append("The logger was not measured.\n")
    if data.get("rates_synced"):
        lines = list(data["rates_synced"].items())
        if data.get("sync_loop"):
            lines.append(("write_fdatasync", [[n, data["sync_loop"]] for n in p["clients"]]))
        plot = Plot("shared_log-synced.svg", "xfunc_log, sync on: lines per second against clients",
                    lines, "concurrent clients", "lines/s")
        plots.append(plot)
        text.append("\n" + plot.markdown())
    text.append(skipped(data))
    return "".join(text), plots


# --- lwlock_contention -----------------------------------------------------------------------

CONTENTION_CASES = {
    "exclusive": "`shared_counter_add_cycles`: the LWLock taken exclusively",
    "shared": "`shared_counter_value_cycles`: the LWLock taken in shared mode",
    "mix": "`shared_counter_mix_cycles`: one cycle in eight adds (exclusive), seven read (shared)",
    "atomic": "`shared_counter_bump_atomic_cycles`: `pg_atomic_fetch_add_u64`, no lock",
    "spinlock": "`shared_counter_bump_spinlock_cycles`: a spinlock",
}
CONTENTION_VARIANTS = ("rust", "rust_fast", "c", "rust_by_hand", "rust_pglwlock")


def wait_share(waits: dict, key: str) -> tuple[float | None, float | None]:
    """(share of client samples waiting on an LWLock, share sleeping on a spinlock)."""
    counts = waits.get(key)
    if not counts:
        return None, None
    total = sum(counts.values())
    lw = sum(c for k, c in counts.items() if k.startswith("LWLock:"))
    spin = sum(c for k, c in counts.items() if k == "Timeout:SpinDelay")
    return (lw / total, spin / total) if total else (None, None)


def measure_lwlock_contention(record: dict, results: dict, criterion: Path) -> dict:
    """The rates of each cell, from the times of every round the run record holds: median and
    quartiles; the ratios of two variants, round by round (both measured in the same round), then
    their median and quartiles."""
    p = record["params"]
    clients = sorted(p["clients"])
    times, waits, cycles = p.get("times", {}), p.get("waits", {}), p.get("cycles", {})

    def rates(case: str, v: str, n: int) -> list[float]:
        total = n * -(-cycles[case] // n)  # each client runs ceil(cycles / n)
        return [total / t for t in times.get(f"{case}/{v}/{n}", []) if t > 0]

    def pairs(a: list[float], b: list[float]) -> tuple:
        r = [x / y for x, y in zip(a, b, strict=True)] if a and len(a) == len(b) else []
        if not r:
            return None, None, None
        q1, q2, q3 = quartiles(r)
        return q2, q1, q3

    out = {"params": {"cycles": cycles, "clients": clients,
                      "repetitions": p.get("repetitions"), "target_ms": p.get("target_ms"),
                      "sample_every_ms": p["sample_every_ms"]},
           "statement_share": [], "cases": [], "instructions": [], "against_exclusive": []}
    for case in CONTENTION_CASES:
        if case not in cycles:
            continue
        variants = [v for v in CONTENTION_VARIANTS
                    if any(f"{case}/{v}/{n}" in times for n in clients)]
        entry = {"case": case, "rates": {}, "rates_lo": {}, "rates_hi": {}, "waited": {}}
        for v in variants:
            qs = {n: quartiles(rates(case, v, n)) for n in clients if rates(case, v, n)}
            entry["rates"][v] = series({n: q[1] for n, q in qs.items()})
            entry["rates_lo"][v] = series({n: q[0] for n, q in qs.items()})
            entry["rates_hi"][v] = series({n: q[2] for n, q in qs.items()})
            shares = {n: wait_share(waits, f"{case}/{v}/{n}") for n in clients}
            entry["waited"][v] = [[n, spin if case == "spinlock" else lw]
                                  for n, (lw, spin) in shares.items()]
        for name, v in (("rust_c", "rust"), ("fast_c", "rust_fast")):
            r = {n: pairs(rates(case, v, n), rates(case, "c", n)) for n in clients}
            for i, suffix in enumerate(("", "_lo", "_hi")):
                entry[name + suffix] = [[n, r[n][i]] for n in clients]
        out["cases"].append(entry)
    for n in clients:
        base = times.get(f"baseline/{n}", [])
        cells = [quartiles(ts)[1] for k, ts in times.items()
                 if not k.startswith("baseline/") and k.endswith(f"/{n}") and ts]
        if base and cells:
            out["statement_share"].append([n, quartiles(base)[1] / min(cells)])
    if "exclusive" in cycles:
        for n in clients:
            row = {"clients": n}
            for case in ("atomic", "spinlock"):
                for name, v in (("rust", "rust"), ("fast", "rust_fast"), ("c", "c")):
                    if case in cycles:
                        r = pairs(rates(case, v, n), rates("exclusive", v, n))
                        row.update(ratio_cells(f"{case}_{name}", r))
            out["against_exclusive"].append(row)
    counted = callgrind_counts(criterion, "lwlock_contention", record)
    for case in CONTENTION_CASES:
        per = {v: next((x for k, x in counted.items()
                        if k.split("/")[1:3] == [case, v]), None) for v in CONTENTION_VARIANTS}
        if any(x is not None for x in per.values()):
            out["instructions"].append({"case": case, "per_cycle": per,
                                        "rust_c": div(per["rust"], per["c"]),
                                        "fast_c": div(per["rust_fast"], per["c"])})
    return out


def report_lwlock_contention(data: dict) -> tuple[str, list[Plot]]:
    p = data["params"]
    clients = p["clients"]
    cycles = ", ".join(f"{c} {n:,}" for c, n in p["cycles"].items())
    text = [stamp(data["stamp"]), "\n",
            "Millions of cycles per second of all clients together, each client its own backend "
            "making one call of the case's `*_cycles` function, the cycles shared among the "
            f"clients ({cycles}: about {p['target_ms']} ms of the C variant at one client); the "
            f"median of {p['repetitions']} rounds, and in parentheses the quartiles. A ratio of "
            "two variants is taken round by round (both measured in the same round, one after "
            "the other), then its median and quartiles; its verdict is *not resolved* when "
            f"they hold the target (fast/C ≥ {T['contention_fast_rate']:.2f}). *waited*: the "
            "share of the samples of `pg_stat_activity` (every "
            f"{p['sample_every_ms']} ms) that found a client waiting on an LWLock, or sleeping "
            "on a spinlock (`SpinDelay`).\n"]
    for c in data["cases"]:
        rate, variants = c["rates"], list(c["rates"])
        header = ["clients"]
        for v in variants:
            header += [f"{VARIANT_LABEL.get(v, v)} M/s", "waited"]
        header += ["Rust/C", "fast/C", f"≥ {T['contention_fast_rate']:.2f}"]
        rows = []
        for n in clients:
            row = [str(n)]
            for v in variants:
                m = at(rate[v], n)
                row += [spread(m and m / 1e6, (at(c["rates_lo"][v], n) or 0) / 1e6 or None,
                               (at(c["rates_hi"][v], n) or 0) / 1e6 or None, 1),
                        pct(at(c["waited"].get(v), n))]
            row += [spread(at(c["rust_c"], n), at(c["rust_c_lo"], n), at(c["rust_c_hi"], n)),
                    spread(at(c["fast_c"], n), at(c["fast_c_lo"], n), at(c["fast_c_hi"], n)),
                    verdict("lwlock_contention", data, f"cases/{c['case']}/fast_c/{n}",
                            at(c["fast_c"], n))]
            rows.append(row)
        text.append(f"\n#### `{c['case']}`: {CONTENTION_CASES[c['case']]}\n\n")
        text.append(table(header, rows))
    if data["statement_share"]:
        text.append("\nThe statement around the loop (a call of no cycle, from every client at "
                    "once) took " + ", ".join(f"{pct(x)} at {n}" for n, x in
                                              data["statement_share"])
                    + " of the shortest cell's time at as many clients.\n")
    if data["instructions"]:
        rows = []
        for r in data["instructions"]:
            i = r["per_cycle"]
            rows.append([f"`{r['case']}`", *(fmt(i.get(v), 1) for v in CONTENTION_VARIANTS),
                         fmt(r["rust_c"], 3), fmt(r["fast_c"], 3),
                         verdict("lwlock_contention", data, f"instructions/{r['case']}/fast_c",
                                 r["fast_c"])])
        text.append("\n#### Instructions per cycle, one client\n\n"
                    "Callgrind's count of a call of 100,000 cycles less a call of none, over "
                    "100,000, each alone in a single-user backend (`just bench-callgrind`); target "
                    f"fast/C ≤ {T['contention_fast_instructions']:.2f}.\n\n")
        text.append(table(["case", *(VARIANT_LABEL[v] for v in CONTENTION_VARIANTS), "Rust/C",
                           "fast/C", f"≤ {T['contention_fast_instructions']:.2f}"], rows))
    plots = []
    if data["against_exclusive"]:
        rows = []
        for r in data["against_exclusive"]:
            cells = []
            for k in ("atomic_rust", "atomic_fast", "atomic_c", "spinlock_rust",
                      "spinlock_fast", "spinlock_c"):
                cells.append(spread(r.get(k), r.get(f"{k}_lo"), r.get(f"{k}_hi")))
            beats = [verdict("lwlock_contention", data, f"against_exclusive/{r['clients']}/{k}",
                             r.get(k)) for k in ("atomic_rust", "atomic_fast", "atomic_c")]
            rows.append([str(r["clients"]), *cells, " / ".join(beats) if all(beats) else ""])
        text.append("\n#### Atomic and spinlock against the exclusive LWLock\n\n"
                    "Rate over the exclusive LWLock's rate in the same build and round.\n\n")
        text.append(table(["clients", "atomic: Rust", "fast", "C", "spinlock: Rust", "fast", "C",
                           "atomic > LWLock above 1 client (Rust / fast / C)"], rows))
        by_case = {c["case"]: c["rates"] for c in data["cases"]}
        lines = [(f"{case}/{lang}", by_case[case][lang])
                 for case in ("exclusive", "shared", "atomic", "spinlock")
                 for lang in ("rust_fast", "c") if by_case.get(case, {}).get(lang)]
        plot = Plot("lwlock_contention-clients.svg",
                    "one shared counter: cycles per second against clients", lines,
                    "concurrent clients", "million cycles/s", y_unit=1e6)
        plots.append(plot)
        text.append("\n" + plot.markdown())
    if not data["cases"]:
        text.append("\nNothing was measured.\n")
    text.append(skipped(data))
    return "".join(text), plots

# --- aggregates ------------------------------------------------------------------------------

AGGREGATE_VARIANTS = ("rust", "fast", "c", "builtin")


def measure_aggregates(record: dict, results: dict, criterion: Path) -> dict:
    """ns and instructions per row of each variant: the statement's minus count(*)'s, per row."""
    group = "aggregates/mean_float8"
    base = [r for (g, f, _), r in results.items() if g == group and f == "baseline"]
    rows = record["params"]["rows"]
    ns = {}
    if base:
        for (g, f, _), r in results.items():
            if g == group and f != "baseline":
                ns[f] = positive((r["median"] - base[0]["median"]) / rows)
    counted = callgrind_counts(criterion, "aggregates", record)
    instr = {v: counted[f"{group}/{v}"] for v in AGGREGATE_VARIANTS if f"{group}/{v}" in counted}
    ns = {v: ns.get(v) for v in AGGREGATE_VARIANTS}
    instr = {v: instr.get(v) for v in AGGREGATE_VARIANTS} if instr else {}
    return {"params": {"rows": rows},
            "ns_per_row": ns, "instructions_per_row": instr,
            "ratios": {"rust_c": div(ns["rust"], ns["c"]), "fast_c": div(ns["fast"], ns["c"]),
                       "c_builtin": div(ns["c"], ns["builtin"]),
                       "instructions_rust_c": div(instr.get("rust"), instr.get("c")),
                       "instructions_fast_c": div(instr.get("fast"), instr.get("c")),
                       "instructions_c_builtin": div(instr.get("c"), instr.get("builtin"))}}


def report_aggregates(data: dict) -> tuple[str, list[Plot]]:
    ns, instr = data["ns_per_row"], data["instructions_per_row"]
    rows = []
    for v in AGGREGATE_VARIANTS:
        rows.append([VARIANT_LABEL[v] if v != "builtin" else "built-in `avg`",
                     fmt(ns.get(v)), fmt(instr.get(v), 1) if instr else "–",
                     fmt(div(ns.get(v), ns.get("c")), 3),
                     fmt(div(instr.get(v), instr.get("c")), 3) if instr else "–"])
    p = data["params"]
    text = [stamp(data["stamp"]), "\n",
            f"`mean(x)` over {p['rows']:,} rows in one backend: per row, less `count(*)`'s cost; "
            "nanoseconds from the median statement times, instructions from callgrind's counts. "
            "*Rust* is the `#[pg_aggregate]` version, *fast* its raw version-1 twin.\n\n",
            table(["variant", "ns per row", "instructions per row", "time / C",
                   "instructions / C"], rows)]
    if not instr:
        text.append("\nNo instruction counts for this run (`just bench-callgrind` after "
                    "`just bench --bench aggregates`).\n")
    text.append(skipped(data))
    return "".join(text), []


MEASURES = {"per_call": measure_per_call, "varlena": measure_varlena,
            "lwlock_contention": measure_lwlock_contention, "aggregates": measure_aggregates}
REPORTS = {"per_call": report_per_call, "varlena": report_varlena,
           "shared_log": report_shared_log, "lwlock_contention": report_lwlock_contention,
           "aggregates": report_aggregates}


# --- the files --------------------------------------------------------------------------------

def measure(bench: str, criterion: Path, record: dict) -> dict:
    """The numbers of one run of a bench, as the JSON keeps them."""
    results = load_results(criterion, record)
    if bench == "shared_log":
        numbers = measure_shared_log(record, results)
    else:
        numbers = MEASURES[bench](record, results, criterion)
    return {"bench": bench, "stamp": run_stamp(record, load_record(criterion, record)),
            "skipped": record["skipped"], **numbers}


# --- --run: the benches, with the load before and after each --------------------------------

SETTLE_LOAD = 0.5  # the 1-minute load average --settle waits for
SETTLE_MAX_S = 300  # and for at most this long
SETTLE_POLL_S = 5  # the kernel updates the load average every 5 s


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().strip()


def settle() -> bool:
    """Waits until the 1-minute load average is below SETTLE_LOAD, or SETTLE_MAX_S have passed:
    the load a previous bench (or a build) left behind decays over a minute or two."""
    deadline = time.monotonic() + SETTLE_MAX_S
    said = False
    while (load := load_1min(loadavg())) >= SETTLE_LOAD:
        if time.monotonic() >= deadline:
            print(f"bench-report: the load average is still {load:.2f} after {SETTLE_MAX_S} s: "
                  "measuring anyway (the stamp records it)", flush=True)
            return False
        if not said:
            print(f"bench-report: load average {load:.2f}; waiting for it to fall below "
                  f"{SETTLE_LOAD} (at most {SETTLE_MAX_S} s)", flush=True)
            said = True
        time.sleep(SETTLE_POLL_S)
    return True


def run(cargo_args: list[str], clean: bool, settle_first: bool, criterion: Path) -> int:
    """`cargo bench CARGO_ARGS`, one bench file at a time, each between two readings of
    /proc/loadavg, written to target/criterion/xfunc/<bench>.load.json for the report."""
    dirty = xfunc.run(["git", "status", "--porcelain", "--untracked-files=no"]).stdout
    if dirty.strip():
        changed = ", ".join(line[3:] for line in dirty.splitlines() if line.strip())
        if clean:
            print(f"bench-report: the tree has uncommitted changes ({changed}): a run of it "
                  "measures code that no commit holds. Commit them first (just measure makes "
                  "the book's committed run and refuses this).")
            return 1
        print(f"bench-report: NOTE: uncommitted changes ({changed}); the tables will say so, "
              "and `just bench-report` writes them only with --dirty", flush=True)
    benches, rest, i = [], [], 0
    while i < len(cargo_args):
        a = cargo_args[i]
        if a == "--bench" and i + 1 < len(cargo_args):
            benches.append(cargo_args[i + 1])
            i += 2
            continue
        if a.startswith("--bench="):
            benches.append(a.split("=", 1)[1])
        elif a == "--":
            rest += cargo_args[i:]
            break
        else:
            rest.append(a)
        i += 1
    benches = benches or list(BENCHES)
    # Compile first, so that the build's load is not in a bench's window.
    build = ["cargo", "bench", "--no-run", *[f"--bench={b}" for b in benches],
             *[a for a in rest[:rest.index("--") if "--" in rest else len(rest)]]]
    if subprocess.run(build, cwd=ROOT).returncode != 0:
        return 1
    (criterion / "xfunc").mkdir(parents=True, exist_ok=True)
    for bench in benches:
        settled = settle() if settle_first else None
        before, started = loadavg(), time.time()
        print(f"bench-report: {bench}: load average {before.split()[0]} at the start", flush=True)
        code = subprocess.run(["cargo", "bench", f"--bench={bench}", *rest], cwd=ROOT).returncode
        after, finished = loadavg(), time.time()
        print(f"bench-report: {bench}: load average {after.split()[0]} at the end", flush=True)
        if code != 0:
            return code
        if bench in BENCHES:
            (criterion / "xfunc" / f"{bench}.load.json").write_text(json.dumps({
                "bench": bench, "started": started, "finished": finished, "settled": settled,
                "loadavg_before": before, "loadavg_after": after}, indent=1) + "\n")
    return 0


def render(bench: str, data: dict) -> dict[str, str]:
    """file name -> content: the fragment (<bench>.md) and its plots (<bench>-*.svg)."""
    text, plots = REPORTS[bench](data)
    header = (f"<!-- Generated by tools/bench/bench_report.py from the run of benches/{bench}.rs "
              f"(numbers: book/generated/benchmarks/{bench}.json); do not edit. -->\n")
    files = {f"{bench}.md": header + text}
    for plot in plots:
        files[plot.name] = plot.svg()
    return files


def data_json(data: dict) -> str:
    """Indented, with each innermost list ([x, y], the clients) on one line: a diff of two runs
    shows which numbers moved."""
    text = json.dumps(data, indent=1, ensure_ascii=False)
    return re.sub(r"\[([^\[\]{}]*)\]",
                  lambda m: "[" + re.sub(r"\s*\n\s*", " ", m[1]).strip() + "]", text) + "\n"


def main() -> int:
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    if sys.argv[1:2] == ["--run"]:
        opts = sys.argv[2:]
        cargo_args = opts[opts.index("--") + 1:] if "--" in opts else []
        opts = opts[:opts.index("--")] if "--" in opts else opts
        unknown = set(opts) - {"--clean", "--settle"}
        if unknown:
            sys.exit(f"bench-report: --run: unknown {sorted(unknown)} (options: --clean, "
                     "--settle; cargo bench's arguments after --)")
        return run(cargo_args, "--clean" in opts, "--settle" in opts, target / "criterion")
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--criterion", type=Path, default=target / "criterion")
    ap.add_argument("--out", type=Path, default=DATA_DIR,
                    help="where the fragments and their JSON are (default %(default)s)")
    ap.add_argument("--plots", type=Path, default=None,
                    help=f"where the plots go (default {PLOT_DIR}; with --out DIR: DIR/{PLOT_URL})")
    ap.add_argument("--from-data", action="store_true",
                    help="rewrite the fragments and plots from the JSON in --out, without a run")
    ap.add_argument("--check", action="store_true",
                    help="with --from-data: write nothing, fail when a fragment or plot differs")
    ap.add_argument("--dirty", action="store_true",
                    help="write a run made with uncommitted changes too (its stamp says so)")
    ap.add_argument("--print", dest="show", choices=BENCHES,
                    help="print that bench's tables (no plots) instead of writing the book's files")
    args = ap.parse_args()
    if args.check and not args.from_data:
        ap.error("--check needs --from-data")
    plots_dir = args.plots or (PLOT_DIR if args.out == DATA_DIR else args.out / PLOT_URL)
    def rel(p):
        return p.relative_to(ROOT) if p.is_relative_to(ROOT) else p
    written, stale = 0, []
    for bench in [args.show] if args.show else BENCHES:
        if args.from_data:
            data_path = args.out / f"{bench}.json"
            if not data_path.is_file():
                print(f"bench-report: {rel(data_path)} is missing")
                stale.append(str(rel(data_path)))
                continue
            data = json.loads(data_path.read_text())
        else:
            record_path = args.criterion / "xfunc" / f"{bench}.json"
            if not record_path.is_file():
                print(f"bench-report: no measured run of {bench} ({record_path} is missing): "
                      f"keeping book/generated/benchmarks/{bench}.md")
                continue
            data = measure(bench, args.criterion, json.loads(record_path.read_text()))
            if not data["stamp"]["clean"] and not args.dirty and not args.show:
                print(f"bench-report: the run of {bench} was made with uncommitted changes "
                      f"(commit {data['stamp']['commit']}): it measured code that no commit "
                      "holds. Commit, run again, or pass --dirty to write it marked so.")
                stale.append(bench)
                continue
        if args.show:
            text, _ = REPORTS[bench](data)
            print("\n".join(line for line in text.splitlines() if not line.startswith("[![")))
            return 0
        files = render(bench, data)
        old_plots = {p.name for p in plots_dir.glob(f"{bench}-*.svg")}
        paths = {name: (args.out if name.endswith(".md") else plots_dir) / name for name in files}
        if args.check:
            for name, content in files.items():
                path = paths[name]
                if not path.is_file() or path.read_text() != content:
                    stale.append(str(rel(path)))
            stale += [str(rel(plots_dir / n)) for n in sorted(old_plots - set(files))]
            continue
        args.out.mkdir(parents=True, exist_ok=True)
        plots_dir.mkdir(parents=True, exist_ok=True)
        if not args.from_data:
            (args.out / f"{bench}.json").write_text(data_json(data))
        for name, content in files.items():
            paths[name].write_text(content)
        for name in sorted(old_plots - set(files)):  # a plot of a case no longer measured
            (plots_dir / name).unlink()
        print(f"bench-report: wrote {', '.join(str(rel(p)) for p in paths.values())}")
        written += 1
    if args.check:
        if stale:
            print("bench-report: not what the committed numbers give (just bench-tables "
                  f"rewrites them): {', '.join(stale)}")
            return 1
        print(f"bench-report: the fragments and plots of {', '.join(BENCHES)} are what their "
              "JSON gives")
        return 0
    if not written and not stale:
        print("bench-report: nothing to report: " + (f"no JSON in {rel(args.out)}" if args.from_data
                                                     else "run `just bench` first"))
        return 1
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
