"""The measured numbers the book shows, as one namespace of keys, and the targets they are held to.

tools/bench/bench_report.py draws the benchmark tables from these numbers and judges their cells
with the targets below; tools/book/figures.py renders the book's prose figures from the same
numbers and checks that every cell the tables mark **missed** is explained. Nothing here runs a
measurement; it reads what the measurements committed:

    source               file (under book/generated/)         written by
    per_call             benchmarks/per_call.json             tools/bench/bench_report.py
    varlena              benchmarks/varlena.json              tools/bench/bench_report.py
    shared_log           benchmarks/shared_log.json           tools/bench/bench_report.py
    lwlock_contention    benchmarks/lwlock_contention.json    tools/bench/bench_report.py
    aggregates           benchmarks/aggregates.json           tools/bench/bench_report.py
    srf_memory           srf-memory.txt                       tools/bench/srf-memory.sh
    varlena_faults       varlena-faults.txt                   tools/bench/varlena-faults.sh
    callgrind_<case>     benchmarks/callgrind-<case>.txt      tools/bench/bench_callgrind.py
    targets              the TARGETS below

A source is flattened into keys, `/`-separated paths to one number (or string, or null: not
measured), listed by `python3 tools/book/figures.py --list [SOURCE]`:

  - a JSON object's member is a segment named as the member: `stamp/load_after`;
  - an element of a list of objects is a segment made of its identifying members (case, path,
    design, clients, size, in that order, each a segment of its own), which then are not keys:
    `time/c_overpaid/rust_c`, `cases/copytext/loop/rows/1024/fast_c_time`;
  - a pair [x, y] of a list of pairs is the segment x, holding y: `rates/c_kept_open/4`;
  - any other list element is its index.

srf_memory: `<build>/<query>/<rows>/<column>`, e.g. `rust/select_list/10000000/peak_kb`, build
`rust` or `c`, query `select_list` or `from_1gb`, column `count`, `peak_kb` or `ms`.
varlena_faults: `<variant>/<path>/faults_per_copy`, e.g. `c/executor/faults_per_copy`, variant
`rust`, `rust_fast` or `c`, path `executor` or `loop`; also `.../size` and `.../copies`.
callgrind_<case>: `<variant>/calls`, and `<variant>/<function>` for each function of the
profile (the last `::` part of its name): `rust/run_guarded`, the instructions per call, and
`<variant>/calls_of/<function>`, how often per call it was called (`rust/calls_of/__sigsetjmp`).
targets: `<name>` for each target, e.g. `targets:fast_time` = 1.1 (fast over C's time, at most).
"""
import fnmatch
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ROOT / "book" / "generated"
BENCHES = ("per_call", "varlena", "shared_log", "lwlock_contention", "aggregates")
ID_FIELDS = ("case", "path", "design", "clients", "size")


# --- the targets -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    """A bound on the cells of one bench whose key matches `keys` (and `where`, if given).

    A cell measured by the wall clock, of repeated timings, comes with its spread: the keys
    beside it whose segment number `spread_at` (from 0) ends in `_lo` and `_hi` (the quartiles
    of the timings, for a ratio the interval they allow). Such a cell meets its target only when
    its whole spread does, misses it only when its whole spread does, and is otherwise not
    resolved. A count (callgrind's instructions) has no spread."""
    name: str  # the key targets:<name>
    bench: str
    keys: str  # a pattern (see matches)
    value: float
    at_most: bool  # True: the cell must be <= value; False: >= value
    what: str
    where: Callable[[list[str], dict], bool] | None = None  # (key's segments, bench data)
    spread_at: int | None = None


def _largest_size(parts: list[str], data: dict) -> bool:
    """A varlena row at the largest size its case measured."""
    case = next(c for c in data["cases"] if [c["case"], c["path"]] == parts[1:3])
    return int(parts[4]) == max(r["size"] for r in case["rows"])


TARGETS = (
    Target("rust_rows", "per_call", "time/{c_overpaid,retcomposite}/rust_c", 1.20, True,
           "ordinary Rust over C's time per call, for composites and sets", spread_at=2),
    Target("fast_time", "per_call", "time/*/fast_c", 1.10, True,
           "the fast variant over C's time per call", spread_at=2),
    Target("fast_instructions", "per_call", "instructions/*/fast_c", 1.05, True,
           "the fast variant over C's instructions per call"),
    Target("varlena_rust", "varlena", "cases/*/*/rows/*/rust_c_time", 1.30, True,
           "ordinary Rust over C's time per copy, at every size", spread_at=5),
    Target("varlena_fast", "varlena", "cases/*/*/rows/*/fast_c_time", 1.10, True,
           "the fast variant over C's time per copy, at every size", spread_at=5),
    Target("varlena_fast_instructions", "varlena", "instructions/*/*/fast_c", 1.05, True,
           "the fast variant over C's instructions per copy, at every size"),
    Target("memcpy_instructions", "varlena", "instructions/*/{65536,1048576}/fast_memcpy", 1.10,
           True, "the fast variant's instructions per byte over memcpy's own, at 64 KiB and 1 MiB"),
    Target("log_rust_c", "shared_log", "designs/*/rows/*/rust_c", 0.90, False,
           "Rust's rate over C's"),
    Target("log_rust_c_synced", "shared_log", "designs_synced/*/rows/*/rust_c", 0.90, False,
           "Rust's rate over C's, with sync on"),
    # group_commit's reason to exist: one sync for the lines of many clients instead of one per
    # line; and without sync it must cost no more than kept_open.
    Target("log_group_sync", "shared_log", "group_over_kept/16/on_{rust,c}", 8.0, False,
           "group_commit's rate over kept_open's, with sync on, at 16 clients"),
    Target("log_group_nosync", "shared_log", "group_over_kept/*/off_{rust,c}", 0.90, False,
           "group_commit's rate over kept_open's, with sync off, at every client count"),
    # Of kept_open only: open_per_line, the first design of chapter 13, makes four system calls
    # per line where the write() loop makes one, and is the reason kept_open exists.
    Target("log_write_loop", "shared_log", "designs/kept_open/rows/1/rust_write_loop", 0.50,
           False, "kept_open's share (Rust) of the write() loop's rate, at one client"),
    Target("log_scaling", "shared_log", "designs/*/rows/*/rust_own_1_client", 1.0, False,
           "Rust's rate over its own one-client rate, at two clients and more",
           lambda parts, _: int(parts[3]) > 1),
    Target("contention_fast_rate", "lwlock_contention", "cases/*/fast_c/*", 0.90, False,
           "the fast variant's rate over C's, in every cell", spread_at=2),
    Target("contention_fast_instructions", "lwlock_contention", "instructions/*/fast_c", 1.05,
           True, "the fast variant over C's instructions per cycle, at one client"),
    Target("atomic_over_lwlock", "lwlock_contention",
           "against_exclusive/*/{atomic_rust,atomic_fast,atomic_c}", 1.0, False,
           "the atomic add's rate over the exclusive LWLock's, above one client",
           lambda parts, _: int(parts[1]) > 1, spread_at=2),
)


def target(name: str) -> Target:
    return next(t for t in TARGETS if t.name == name)


# --- keys and patterns --------------------------------------------------------------------------

def _segment(x) -> str:
    return str(int(x)) if isinstance(x, float) and x.is_integer() else str(x)


def flatten(value, prefix: str = "") -> dict:
    """{key: scalar} of a JSON value, as the module's docstring describes."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}{k}/"))
        return out
    if isinstance(value, list):
        out = {}
        for i, item in enumerate(value):
            if isinstance(item, dict) and any(f in item for f in ID_FIELDS):
                ident = "/".join(_segment(item[f]) for f in ID_FIELDS if f in item)
                rest = {k: v for k, v in item.items() if k not in ID_FIELDS}
                out.update(flatten(rest, f"{prefix}{ident}/"))
            elif (isinstance(item, list) and len(item) == 2
                  and all(isinstance(x, (int, float)) for x in item[:1])):
                out[f"{prefix}{_segment(item[0])}"] = item[1]
            else:
                out.update(flatten(item, f"{prefix}{i}/"))
        return out
    return {prefix.rstrip("/"): value}


def _alternatives(segment: str) -> list[str]:
    """`{a,b}x` -> ['ax', 'bx'] (one level of braces, as a shell expands them)."""
    m = re.search(r"\{([^{}]*)\}", segment)
    if not m:
        return [segment]
    return [alt for choice in m.group(1).split(",")
            for alt in _alternatives(segment[:m.start()] + choice + segment[m.end():])]


def is_pattern(pattern: str) -> bool:
    return any(ch in pattern for ch in "*?[{")


def matches(pattern: str, key: str) -> bool:
    """Whether `key` matches `pattern`: segment by segment (a `*` never spans a `/`), each
    segment a shell pattern (`*`, `?`, `[...]`) with `{a,b}` alternatives."""
    p, k = pattern.split("/"), key.split("/")
    return len(p) == len(k) and all(
        any(fnmatch.fnmatchcase(ks, alt) for alt in _alternatives(ps))
        for ps, ks in zip(p, k, strict=True))


def wild_parts(pattern: str, key: str) -> list[str]:
    """The segments of `key` where `pattern` has a wildcard: what tells matched keys apart."""
    # Called for a key `matches` accepted: as many segments as the pattern.
    return [ks for ps, ks in zip(pattern.split("/"), key.split("/"), strict=True)
            if is_pattern(ps)]


# --- the sources --------------------------------------------------------------------------------

def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def parse_srf_memory(text: str) -> dict:
    """srf-memory.txt's table: a header line, then `build query rows count kB ms` lines."""
    out = {}
    for line in text.splitlines()[1:]:
        m = re.fullmatch(r"(\S+)\s+(.+?)\s+(\d+)\s+(\d+)\s+(-?\d+)\s+(\d+)\s*", line)
        if not m:
            if line.strip():
                raise ValueError(f"srf-memory.txt: not a row of the table: {line!r}")
            continue
        build, query, rows, count, kb, ms = m.groups()
        key = f"{_slug(build)}/{_slug(query)}/{rows}"
        out.update({f"{key}/count": int(count), f"{key}/peak_kb": int(kb), f"{key}/ms": int(ms)})
    return out


def parse_varlena_faults(text: str) -> dict:
    """varlena-faults.txt's table: a header line, then `variant path size copies faults` lines."""
    out = {}
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) != 5:
            if line.strip():
                raise ValueError(f"varlena-faults.txt: not a row of the table: {line!r}")
            continue
        variant, path, size, copies, faults = fields
        key = f"{variant}/{path}"
        out.update({f"{key}/size": int(size), f"{key}/copies": int(copies),
                    f"{key}/faults_per_copy": float(faults)})
    return out


def parse_callgrind(text: str) -> dict:
    """A profile of bench_callgrind.py: `<bench>/<case>/<variant> (N calls): ...` headers, each
    followed by `  <per call>  <function>  [<library>]` lines and one `  calls per call: <function>
    <n>, ...` line."""
    out, variant = {}, None
    for line in text.splitlines():
        head = re.match(r"\S+/\S+/(\S+) \(([\d,]+) calls\)", line)
        row = re.match(r"\s+([\d.]+)\s+(.*?)\s+\[[^\]]*\]$", line)
        counts = re.match(r"\s+calls per call: (.*)$", line)
        if counts and variant:
            for item in counts.group(1).split(", "):
                name, n = item.rsplit(" ", 1)
                out[f"{variant}/calls_of/{name}"] = float(n)
        elif head:
            variant = head.group(1)
            out[f"{variant}/calls"] = int(head.group(2).replace(",", ""))
        elif row and variant:
            name = row.group(2).split("::")[-1]
            key = f"{variant}/{name}"
            if key in out:
                raise ValueError(f"two functions of the profile are named {name} ({variant})")
            out[key] = float(row.group(1))
    return out


def source_files() -> dict[str, Path]:
    """source name -> the file it is read from (targets: none)."""
    files = {b: GENERATED / "benchmarks" / f"{b}.json" for b in BENCHES}
    files["srf_memory"] = GENERATED / "srf-memory.txt"
    files["varlena_faults"] = GENERATED / "varlena-faults.txt"
    for p in sorted((GENERATED / "benchmarks").glob("callgrind-*.txt")):
        files[f"callgrind_{p.stem.removeprefix('callgrind-')}"] = p
    return files


def load(name: str, files: dict[str, Path] | None = None) -> dict:
    """The keys of one source. Raises KeyError for an unknown source."""
    if name == "targets":
        return {t.name: t.value for t in TARGETS}
    path = (files or source_files())[name]
    text = path.read_text()
    if name == "srf_memory":
        return parse_srf_memory(text)
    if name == "varlena_faults":
        return parse_varlena_faults(text)
    if name.startswith("callgrind_"):
        return parse_callgrind(text)
    return flatten(json.loads(text))


def load_json(bench: str, files: dict[str, Path] | None = None) -> dict:
    return json.loads((files or source_files())[bench].read_text())


# --- verdicts ----------------------------------------------------------------------------------

def rule_for(bench: str, key: str, data: dict) -> Target | None:
    """The target a bench's cell is held to, if any."""
    parts = key.split("/")
    for t in TARGETS:
        if t.bench == bench and matches(t.keys, key) and (t.where is None or t.where(parts, data)):
            return t
    return None


UNRESOLVED = "unresolved"  # a cell whose spread covers its target


def spread_of(t: Target, key: str, keys: dict) -> tuple[float | None, float | None]:
    """The spread of a cell (see Target): its low and high ends, None where unbounded."""
    if t.spread_at is None:
        return spread(key, keys) or (None, None)
    parts = key.split("/")

    def end(suffix: str) -> float | None:
        p = list(parts)
        p[t.spread_at] += suffix
        return keys.get("/".join(p))
    return end("_lo"), end("_hi")


def met(value: float | None, t: Target, lo: float | None = None,
        hi: float | None = None) -> bool | str | None:
    """Whether a value meets its target: True, False, UNRESOLVED when the target has a spread
    and it covers the target, None when the cell was not measured."""
    if value is None:
        return None
    if t.spread_at is None and lo is None and hi is None:
        return value <= t.value if t.at_most else value >= t.value
    if t.at_most:
        if hi is not None and hi <= t.value:
            return True
        return False if lo is not None and lo > t.value else UNRESOLVED
    if lo is not None and lo >= t.value:
        return True
    return False if hi is not None and hi < t.value else UNRESOLVED


def spread(key: str, keys: dict) -> tuple[float, float] | None:
    """The range a cell's value was measured within, when its bench keeps one as the numbers
    under the key's sibling `<name>_range` (a ratio's range from the middle halves of the
    samples of its two rates, tools/bench/bench_report.py's shared_log)."""
    lo, hi = keys.get(f"{key}_range/0"), keys.get(f"{key}_range/1")
    return (lo, hi) if lo is not None and hi is not None else None


def judge(bench: str, key: str, value: float | None, data: dict,
          keys: dict | None = None) -> tuple[Target | None, bool | str | None]:
    """The target of a cell, if any, and the cell's state (see met)."""
    t = rule_for(bench, key, data)
    if t is None:
        return None, None
    lo, hi = spread_of(t, key, keys if keys is not None else flatten(data))
    return t, met(value, t, lo, hi)


def verdict(bench: str, key: str, value: float | None, data: dict,
            keys: dict | None = None) -> str | None:
    """The word a table prints for a cell: "met", "**missed**", "not resolved" (the spread of
    its timings covers the target), "–" when the cell was not measured, None when no target
    applies to it."""
    t, state = judge(bench, key, value, data, keys)
    if t is None:
        return None
    return {None: "–", True: "met", False: "**missed**", UNRESOLVED: "not resolved"}[state]


def judged(bench: str, data: dict) -> list[tuple[str, float | None, Target, bool | str | None]]:
    """(key, value, target, state) for every cell of a bench's data that has a target."""
    keys = flatten(data)
    out = []
    for key, value in keys.items():
        t, state = judge(bench, key, value, data, keys)
        if t is not None:
            out.append((key, value, t, state))
    return out
