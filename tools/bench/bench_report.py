#!/usr/bin/env python3
"""Turns the last `cargo bench` run into the Markdown fragments of the book's benchmarks chapter.

Reads, for each bench file (per_call, varlena, shared_log), the run record the bench wrote
(target/criterion/xfunc/<bench>.json: when it ran, which groups it measured, what it skipped)
and criterion's results of that run (target/criterion/<group>/<id>/new/benchmark.json and
estimates.json; results older than the run are ignored). Writes, into book/generated/benchmarks/:

  <bench>.md    a stamp (date, CPU, PostgreSQL, rustc, commit), tables of medians and ratios
                against the targets, and SVG plots inlined in the page

A bench with no run record keeps its committed fragment (from the last reviewed run, which
carries its own stamp). Nothing in the fragments is typed by hand.

    python3 tools/bench/bench_report.py [--criterion DIR] [--out DIR]
"""
import argparse
import html
import json
import math
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCHES = ("per_call", "varlena", "shared_log", "lwlock_contention")

# The targets of the benchmarks (a variant's time over C's, or a share of a limit).
# Ordinary Rust (#[pg_extern]) per call, where chapter 15 sets one:
PER_CALL_TARGETS = {
    "c_overpaid": 1.20,
    "retcomposite": 1.20,
}
# The fast variants of the chapter "Rust at the Speed of C" (schema xfunc_fast): time and instructions per call over C's.
FAST_TIME_TARGET = 1.10
FAST_INSTR_TARGET = 1.05
VARLENA_RATIO_TARGET = 1.30  # ordinary Rust over C, at every size
VARLENA_FAST_TARGET = 1.10  # the fast variant over C, at every size
MEMCPY_SHARE_TARGET = 0.80  # of memcpy's bandwidth, at the largest size
LOG_RAW_SHARE_TARGET = 0.50  # of the raw write loop, at 1 client
LOG_SCALING_TARGET = 1.0  # of the logger's own 1-client rate, at 2 clients and more
LOG_RUST_C_TARGET = 0.90  # Rust's rate over C's, at least

VARIANT_LABEL = {"rust": "Rust", "rust_fast": "Rust, fast", "c": "C", "builtin": "built-in", "memcpy": "memcpy",
                 "write": "write() loop", "rust_open_per_line": "Rust, open_per_line",
                 "c_open_per_line": "C, open_per_line", "rust_kept_open": "Rust, kept_open",
                 "c_kept_open": "C, kept_open", "rust_by_hand": "Rust, by hand",
                 "rust_pglwlock": "Rust, PgLwLock", "exclusive/rust": "LWLock excl., Rust",
                 "exclusive/c": "LWLock excl., C", "shared/rust": "LWLock shared, Rust",
                 "shared/c": "LWLock shared, C", "atomic/rust": "atomic, Rust",
                 "atomic/c": "atomic, C", "spinlock/rust": "spinlock, Rust",
                 "spinlock/c": "spinlock, C"}
COLORS = {"rust": "#d2691e", "rust_fast": "#e377c2", "c": "#1f77b4", "builtin": "#2ca02c", "memcpy": "#7f7f7f",
          "write": "#7f7f7f", "rust_open_per_line": "#f4a460", "c_open_per_line": "#87ceeb",
          "rust_kept_open": "#d2691e", "c_kept_open": "#1f77b4", "rust_by_hand": "#8b4513",
          "rust_pglwlock": "#9467bd", "exclusive/rust": "#d2691e", "exclusive/c": "#1f77b4",
          "shared/rust": "#f4a460", "shared/c": "#87ceeb", "atomic/rust": "#2ca02c",
          "atomic/c": "#98df8a", "spinlock/rust": "#9467bd", "spinlock/c": "#c5b0d5"}


def load_results(criterion: Path, record: dict) -> dict:
    """(group, function, value) -> {"median": ns per iteration, "throughput": {...}} for every
    benchmark of the record's groups measured during the run the record describes."""
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
        key = (meta["group_id"], meta["function_id"], meta["value_str"])
        out[key] = {"median": median, "throughput": meta.get("throughput") or {}}
    return out


def stamp(record: dict) -> str:
    """When and where the run was measured, as the bench recorded it."""
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(record["finished"]))
    pg = record.get("postgres", "").split(" on ")[0] or "PostgreSQL (unknown version)"
    load = record.get("loadavg_at_end", "").split()
    load_text = f", load average {load[0]} at the end" if load else ""
    return (f"*Measured {when} on {record.get('cpu') or 'an unknown CPU'} "
            f"({record.get('cpus', '?')} CPUs{load_text}); {pg}; "
            f"{record.get('rustc') or 'rustc (unknown version)'}; "
            f"commit `{record.get('commit') or 'unknown'}`.*\n")


def skipped(record: dict) -> str:
    if not record["skipped"]:
        return ""
    lines = "".join(f"- `{s.split(': ', 1)[0]}`: {s.split(': ', 1)[1]}\n"
                    for s in record["skipped"])
    return f"\nNot measured in this run:\n\n{lines}"


def positive(t: float) -> float | None:
    """A time left after subtracting the baseline; none when noise swallowed it."""
    return t if t > 0 else None


def fmt(x: float | None, digits: int = 2) -> str:
    """A number, or an en dash when it was not measured or was below the noise."""
    return "–" if x is None else f"{x:,.{digits}f}"


def table(header: list[str], rows: list[list[str]]) -> str:
    align = ["---"] + ["--:"] * (len(header) - 1)
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def verdict(value: float | None, target: float, at_most: bool) -> str:
    if value is None:
        return "–"
    ok = value <= target if at_most else value >= target
    return "met" if ok else "**missed**"


def size_label(n: int) -> str:
    for unit, div in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= div and n % div == 0:
            return f"{n // div} {unit}"
    return f"{n} B"


# --- SVG -------------------------------------------------------------------------------------

def svg_plot(title: str, series: list[tuple[str, list[tuple[float, float]]]], x_label: str,
             y_label: str, log_x: bool, x_tick_label=str, y_unit: float = 1.0) -> str:
    """A line chart of (x, y) series, drawn in currentColor so it reads in every book theme.
    The y axis starts at 0; x is logarithmic (base 2) when log_x."""
    w, h, left, right, top, bottom = 640, 320, 70, 130, 30, 45
    points = [p for _, s in series for p in s]
    if not points:
        return ""
    fx = (lambda x: math.log2(x)) if log_x else (lambda x: x)
    xs = sorted({x for x, _ in points})
    x0, x1 = fx(xs[0]), fx(xs[-1])
    x1 = x1 if x1 > x0 else x0 + 1
    y_max = max(y for _, y in points) / y_unit
    base = 10 ** (math.floor(math.log10(y_max)) - 1) if y_max > 0 else 1
    step = next(base * m for m in (1, 2, 5, 10, 20, 50, 100) if y_max / (base * m) <= 6)
    y_top = step * math.ceil(y_max / step) if y_max > 0 else 1
    px = lambda x: left + (fx(x) - x0) / (x1 - x0) * (w - left - right)
    py = lambda y: top + (1 - y / y_unit / y_top) * (h - top - bottom)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="100%" '
           f'style="max-width:{w}px;font:12px sans-serif" role="img" '
           f'aria-label="{html.escape(title)}">',
           f'<text x="{w / 2}" y="16" text-anchor="middle" fill="currentColor">'
           f'{html.escape(title)}</text>',
           f'<line x1="{left}" y1="{h - bottom}" x2="{w - right}" y2="{h - bottom}" '
           f'stroke="currentColor"/>',
           f'<line x1="{left}" y1="{top}" x2="{left}" y2="{h - bottom}" stroke="currentColor"/>']
    tick = 0.0
    while tick <= y_top + 1e-9:
        y = top + (1 - tick / y_top) * (h - top - bottom)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{w - right}" y2="{y:.1f}" '
                   f'stroke="currentColor" stroke-opacity="0.15"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" '
                   f'fill="currentColor">{tick:g}</text>')
        tick += step
    for x in xs:
        out.append(f'<text x="{px(x):.1f}" y="{h - bottom + 16}" text-anchor="middle" '
                   f'fill="currentColor">{html.escape(x_tick_label(x))}</text>')
    out.append(f'<text x="{(left + w - right) / 2}" y="{h - 8}" text-anchor="middle" '
               f'fill="currentColor">{html.escape(x_label)}</text>')
    out.append(f'<text x="14" y="{(top + h - bottom) / 2}" text-anchor="middle" '
               f'fill="currentColor" transform="rotate(-90 14 {(top + h - bottom) / 2})">'
               f'{html.escape(y_label)}</text>')
    for i, (name, pts) in enumerate(series):
        color = COLORS.get(name, "currentColor")
        dash = ' stroke-dasharray="5 4"' if name in ("memcpy", "write") else ""
        pts = sorted(pts)
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts)
        out.append(f'<polyline points="{path}" fill="none" stroke="{color}" '
                   f'stroke-width="2"{dash}/>')
        for x, y in pts:
            out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{color}"/>')
        ly = top + 10 + 18 * i
        out.append(f'<line x1="{w - right + 12}" y1="{ly}" x2="{w - right + 32}" y2="{ly}" '
                   f'stroke="{color}" stroke-width="2"{dash}/>')
        out.append(f'<text x="{w - right + 38}" y="{ly + 4}" fill="currentColor">'
                   f'{html.escape(VARIANT_LABEL.get(name, name))}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


# --- per_call --------------------------------------------------------------------------------

def instructions(criterion: Path, record: dict) -> dict:
    """(case, variant) -> instructions per call, from tools/bench_callgrind.py's counts of
    this very run's statements; empty when it has not been run since."""
    path = criterion / "xfunc" / "callgrind.json"
    if not path.is_file():
        return {}
    data = json.loads(path.read_text())
    if data.get("per_call_started") != record["started"]:
        return {}
    counts = data["counts"]
    out = {}
    for key, c in counts.items():
        _, case, variant = key.split("/")
        base = counts.get(f"per_call/{case}/baseline")
        if variant != "baseline" and base and c["calls"]:
            out[(case, variant)] = (c["instructions"] - base["instructions"]) / c["calls"]
    return out


def report_per_call(record: dict, results: dict, criterion: Path) -> str:
    instr = instructions(criterion, record)
    rows, instr_rows = [], []
    for group in record["groups"]:
        case = group.split("/", 1)[1]
        base = [r for (g, f, _), r in results.items() if g == group and f == "baseline"]
        if not base:
            continue
        ns = {}
        for (g, f, _), r in results.items():
            if g == group and f != "baseline":
                calls = r["throughput"].get("Elements", 0)
                ns[f] = positive((r["median"] - base[0]["median"]) / calls) if calls else None
        ratio = ns["rust"] / ns["c"] if ns.get("rust") and ns.get("c") else None
        fast = ns["rust_fast"] / ns["c"] if ns.get("rust_fast") and ns.get("c") else None
        target = PER_CALL_TARGETS.get(case)
        has_fast = "rust_fast" in ns
        rows.append([f"`{case}`", fmt(ns.get("rust")), fmt(ns.get("rust_fast")), fmt(ns.get("c")),
                     fmt(ns.get("builtin")), fmt(ratio, 3),
                     verdict(ratio, target, True) if target else "–", fmt(fast, 3),
                     verdict(fast, FAST_TIME_TARGET, True) if has_fast else "–"])
        if instr:
            i = {v: instr.get((case, v)) for v in ("rust", "rust_fast", "c", "builtin")}
            ir = i["rust"] / i["c"] if i["rust"] and i["c"] else None
            fr = i["rust_fast"] / i["c"] if i["rust_fast"] and i["c"] else None
            instr_rows.append([f"`{case}`", fmt(i["rust"], 1), fmt(i["rust_fast"], 1),
                               fmt(i["c"], 1), fmt(i["builtin"], 1), fmt(ir, 3), fmt(fr, 3),
                               verdict(fr, FAST_INSTR_TARGET, True) if has_fast else "–"])
    p = record["params"]
    text = [stamp(record), "\n",
            f"Nanoseconds per call: the median statement time minus the baseline's, divided by "
            f"the calls in the statement ({p['rows']:,} rows, {p['calls_per_row']} calls per row; "
            f"one call per row for a set-returning function). *Rust* is the ordinary "
            f"`#[pg_extern]` function, *fast* its twin of the chapter *Rust at the Speed of C* (schema `xfunc_fast`); the "
            f"targets: fast/C ≤ {FAST_TIME_TARGET:.2f}, and Rust/C ≤ "
            f"{max(PER_CALL_TARGETS.values()):.2f} for the cases that have no fast twin.\n\n"]
    header = ["case", "Rust ns", "fast ns", "C ns", "built-in ns", "Rust/C", "verdict",
              "fast/C", f"≤ {FAST_TIME_TARGET:.2f}"]
    if rows:
        text.append(table(header, rows))
    else:
        text.append("No case was measured.\n")
    if instr_rows:
        text.append("\nInstructions per call: the same subtraction on callgrind's instruction "
                    "counts of the same statements (at fewer rows), each run alone in a "
                    "single-user backend (`just bench-callgrind`); target fast/C ≤ "
                    f"{FAST_INSTR_TARGET:.2f}.\n\n")
        text.append(table(["case", "Rust", "fast", "C", "built-in", "Rust/C", "fast/C",
                           f"≤ {FAST_INSTR_TARGET:.2f}"], instr_rows))
    text.append(skipped(record))
    return "".join(text)


# --- varlena ---------------------------------------------------------------------------------

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


def report_varlena(record: dict, results: dict) -> str:
    memcpy = bandwidth(results, "varlena/memcpy").get("memcpy", {})
    text = [stamp(record), "\n",
            "Throughput in GB/s (10⁹ bytes per second) of the bytes the copies produce, the "
            "baseline's time subtracted (– where it was lost in the noise); *Rust* is the ordinary "
            "`#[pg_extern]` function, *fast* its twin of the chapter *Rust at the Speed of C*; Rust/C and fast/C are ratios "
            "of the times (lower is better for Rust); memcpy is a plain copy in the bench "
            "process, into a buffer allocated once.\n"]
    cases = [g for g in record["groups"] if g.startswith("varlena/") and g != "varlena/memcpy"]
    for group in cases:
        case = group.split("/", 1)[1]
        for prefix, how in (("varlena", "through the executor"),
                            ("varlena_loop", "in a PL/pgSQL loop, without plan nodes")):
            bw = bandwidth(results, f"{prefix}/{case}")
            if not bw:
                continue
            sizes = sorted({s for v in bw.values() for s in v})
            rows = []
            gb = lambda v, s: bw.get(v, {}).get(s) and bw[v][s] / 1e9
            for s in sizes:
                r, f, c = (bw.get(v, {}).get(s) for v in ("rust", "rust_fast", "c"))
                ratio = c / r if r and c else None
                fast = c / f if f and c else None
                share = f / memcpy[s] if f and memcpy.get(s) else None
                is_last = s == sizes[-1]
                rows.append([size_label(s), fmt(gb("rust", s)), fmt(gb("rust_fast", s)),
                             fmt(gb("c", s)), fmt(gb("builtin", s)),
                             fmt(memcpy.get(s) and memcpy[s] / 1e9),
                             fmt(ratio, 3), verdict(ratio, VARLENA_RATIO_TARGET, True),
                             fmt(fast, 3), verdict(fast, VARLENA_FAST_TARGET, True),
                             (fmt(share and share * 100, 0) + " %") if share else "–",
                             verdict(share, MEMCPY_SHARE_TARGET, False) if is_last else ""])
            text.append(f"\n#### `{case}`, {how}\n\n")
            text.append(table(["size", "Rust GB/s", "fast GB/s", "C GB/s", "built-in GB/s",
                               "memcpy GB/s", "Rust/C time", f"≤ {VARLENA_RATIO_TARGET:.2f}",
                               "fast/C time", f"≤ {VARLENA_FAST_TARGET:.2f}",
                               "fast / memcpy", f"≥ {MEMCPY_SHARE_TARGET:.0%} at largest"],
                              rows))
            series = [(v, sorted(pts.items())) for v, pts in sorted(bw.items())]
            if memcpy:
                series.append(("memcpy", sorted(memcpy.items())))
            text.append("\n" + svg_plot(f"{case}, {how}", series, "value size", "GB/s",
                                        log_x=True, x_tick_label=lambda x: size_label(int(x)),
                                        y_unit=1e9))
    if not cases:
        text.append("\nNo copying function was measured.\n")
    if memcpy:
        text.append("\n#### The limit: memcpy in the bench process\n\n")
        text.append(table(["size", "memcpy GB/s"],
                          [[size_label(s), fmt(b / 1e9)] for s, b in sorted(memcpy.items())]))
    text.append(skipped(record))
    return "".join(text)


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


def report_shared_log(record: dict, results: dict) -> str:
    rate = rates(results, "shared_log/lines")
    raw = [r["throughput"].get("Elements", 0) / r["median"] * 1e9
           for (g, f, _), r in results.items() if g == "shared_log/raw_write"]
    raw_rate = raw[0] if raw else None
    text = [stamp(record), "\n",
            f"Lines per second, all clients together ({record['params']['lines_per_statement']:,}"
            " lines per client per statement, the baseline's time subtracted). The write() loop "
            "is one process writing the same lines, one write() each, to a file of its own.\n\n"]
    if raw_rate:
        text.append(f"write() loop: {fmt(raw_rate, 0)} lines/s.\n\n")
    clients = sorted(record["params"]["clients"])
    designs = record["params"].get("designs", [])
    for design in designs:
        rust, c = rate.get(f"rust_{design}", {}), rate.get(f"c_{design}", {})
        if not rust and not c:
            continue
        rows = []
        for n in clients:
            r, cr = rust.get(n), c.get(n)
            share = r / raw_rate if r and raw_rate else None
            one = rust.get(1)
            scale = r / one if r and one else None
            ratio = r / cr if r and cr else None
            rows.append([str(n), fmt(r, 0), fmt(cr, 0), fmt(ratio, 3),
                         verdict(ratio, LOG_RUST_C_TARGET, False),
                         (fmt(share * 100, 0) + " %") if share else "–",
                         verdict(share, LOG_RAW_SHARE_TARGET, False) if n == 1 else "",
                         (fmt(scale * 100, 0) + " %") if scale else "–",
                         verdict(scale, LOG_SCALING_TARGET, False) if n > 1 else ""])
        text.append(f"\n#### `{design}`\n\n")
        text.append(table(["clients", "Rust lines/s", "C lines/s", "Rust/C rate",
                           f"≥ {LOG_RUST_C_TARGET:.2f}", "Rust / write() loop",
                           f"≥ {LOG_RAW_SHARE_TARGET:.0%} at 1", "Rust / own 1-client rate",
                           f"≥ {LOG_SCALING_TARGET:.0%} at 2+"], rows))
    if len(designs) == 2:
        a, b = designs
        rows = []
        for n in clients:
            row = [str(n)]
            for lang in ("rust", "c"):
                x, y = rate.get(f"{lang}_{a}", {}).get(n), rate.get(f"{lang}_{b}", {}).get(n)
                row.append(fmt(y / x if x and y else None, 2))
            rows.append(row)
        text.append(f"\n#### `{b}` against `{a}`\n\n")
        text.append(table(["clients", f"Rust: {b} / {a}", f"C: {b} / {a}"], rows))
    if rate:
        series = [(v, sorted(pts.items())) for v, pts in sorted(rate.items())]
        if raw_rate:
            series.append(("write", [(n, raw_rate) for n in clients]))
        text.append("\n" + svg_plot("xfunc_log: lines per second against clients", series,
                                    "concurrent clients", "thousand lines/s", log_x=True,
                                    y_unit=1e3))
    else:
        text.append("The logger was not measured.\n")
    text.append(skipped(record))
    return "".join(text)


# --- lwlock_contention -----------------------------------------------------------------------

CONTENTION_CASES = {
    "exclusive": "`shared_counter_add(1)`: the LWLock taken exclusively",
    "shared": "`shared_counter_value()`: the LWLock taken in shared mode",
    "mix": "one call in eight adds (exclusive), seven read (shared)",
    "atomic": "`shared_counter_bump_atomic()`: `pg_atomic_fetch_add_u64`, no lock",
    "spinlock": "`shared_counter_bump_spinlock()`: a spinlock",
}


def wait_share(waits: dict, key: str) -> tuple[float | None, float | None]:
    """(share of client samples waiting on an LWLock, share sleeping on a spinlock)."""
    counts = waits.get(key)
    if not counts:
        return None, None
    total = sum(counts.values())
    lw = sum(c for k, c in counts.items() if k.startswith("LWLock:"))
    spin = sum(c for k, c in counts.items() if k == "Timeout:SpinDelay")
    return (lw / total, spin / total) if total else (None, None)


def pct(x: float | None) -> str:
    return "–" if x is None else f"{x * 100:.0f} %"


def report_lwlock_contention(record: dict, results: dict) -> str:
    p = record["params"]
    clients = sorted(p["clients"])
    waits = p.get("waits", {})
    text = [stamp(record), "\n",
            f"Calls per second, all clients together ({p['rows_per_statement']:,} rows of "
            f"{p['calls_per_row']} calls per client per statement, the baseline's time "
            "subtracted), each client its own "
            "backend. *waited*: the share of the samples of `pg_stat_activity` (one every "
            f"{p['sample_every_ms']} ms) in which a client running its statement was waiting "
            "on an LWLock (`wait_event_type = 'LWLock'`), or sleeping on a spinlock "
            "(`SpinDelay`).\n"]
    all_rates = {}
    for case, what in CONTENTION_CASES.items():
        group = f"lwlock_contention/{case}"
        rate = rates(results, group)
        if not rate:
            continue
        all_rates[case] = rate
        variants = [v for v in ("rust", "c", "rust_by_hand", "rust_pglwlock") if v in rate]
        header = ["clients"]
        for v in variants:
            header += [f"{VARIANT_LABEL.get(v, v)} calls/s", "waited"]
        header.append("Rust/C rate")
        rows = []
        for n in clients:
            row = [str(n)]
            for v in variants:
                lw, spin = wait_share(waits, f"{group}/{v}/{n}")
                row += [fmt(rate[v].get(n), 0), pct(spin if case == "spinlock" else lw)]
            r, c = rate.get("rust", {}).get(n), rate.get("c", {}).get(n)
            row.append(fmt(r / c if r and c else None, 3))
            rows.append(row)
        text.append(f"\n#### `{case}`: {what}\n\n")
        text.append(table(header, rows))
    if "atomic" in all_rates and "exclusive" in all_rates:
        rows = []
        for n in clients:
            ratio = {}
            for case in ("atomic", "spinlock"):
                for lang in ("rust", "c"):
                    a = all_rates.get(case, {}).get(lang, {}).get(n)
                    x = all_rates["exclusive"].get(lang, {}).get(n)
                    ratio[case, lang] = a / x if a and x else None
            beats = [ratio["atomic", lang] for lang in ("rust", "c")]
            rows.append([str(n)] + [fmt(ratio[k], 2) for k in
                                    (("atomic", "rust"), ("atomic", "c"),
                                     ("spinlock", "rust"), ("spinlock", "c"))]
                        + [" / ".join(verdict(b, 1.0, False) for b in beats) if n > 1 else ""])
        text.append("\n#### Atomic and spinlock against the exclusive LWLock\n\n")
        text.append(table(["clients", "Rust atomic / LWLock", "C atomic / LWLock",
                           "Rust spinlock / LWLock", "C spinlock / LWLock",
                           "atomic > LWLock above 1 client"], rows))
        series = []
        for case in ("exclusive", "shared", "atomic", "spinlock"):
            for lang in ("rust", "c"):
                pts = all_rates.get(case, {}).get(lang)
                if pts:
                    series.append((f"{case}/{lang}", sorted(pts.items())))
        text.append("\n" + svg_plot("one shared counter: calls per second against clients",
                                    series, "concurrent clients", "thousand calls/s",
                                    log_x=True, y_unit=1e3))
    if not all_rates:
        text.append("\nNothing was measured.\n")
    text.append(skipped(record))
    return "".join(text)


REPORTS = {"per_call": report_per_call, "varlena": report_varlena,
           "shared_log": report_shared_log, "lwlock_contention": report_lwlock_contention}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    ap.add_argument("--criterion", type=Path, default=target / "criterion")
    ap.add_argument("--out", type=Path, default=ROOT / "book/generated/benchmarks")
    ap.add_argument("--print", dest="show", choices=BENCHES,
                    help="print that bench's tables (no plots) instead of writing the book's files")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    written = 0
    for bench in [args.show] if args.show else BENCHES:
        record_path = args.criterion / "xfunc" / f"{bench}.json"
        if not record_path.is_file():
            print(f"bench-report: no measured run of {bench} ({record_path} is missing): "
                  f"keeping book/generated/benchmarks/{bench}.md")
            continue
        record = json.loads(record_path.read_text())
        results = load_results(args.criterion, record)
        if bench == "per_call":
            text = report_per_call(record, results, args.criterion)
        else:
            text = REPORTS[bench](record, results)
        if args.show:
            print("\n".join(l for l in text.splitlines() if not l.lstrip().startswith("<")))
            return 0
        header = (f"<!-- Generated by tools/bench/bench_report.py from the run of benches/{bench}.rs; "
                  f"do not edit. -->\n")
        (args.out / f"{bench}.md").write_text(header + text)
        print(f"bench-report: wrote {(args.out / f'{bench}.md').relative_to(ROOT)}")
        written += 1
    if not written:
        print("bench-report: nothing to report: run `just bench` first")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
