#!/usr/bin/env python3
"""Holds the calls into PostgreSQL that skip pgrx's guard to their list, with the compiler's help.

A PostgreSQL ERROR is a siglongjmp to the nearest sigsetjmp. src/pg_support/unguarded.rs
declares the PostgreSQL functions the crate calls without pgrx's sigsetjmp guard, so an ERROR
one of them raises jumps over every Rust frame between the call and the nearest sigsetjmp; that
is sound only when each of those frames is a *plain old frame* (RFC 2945): no value with a
destructor, no catch_unwind. src/pg_support/unguarded.toml lists each declared function once:
whether it can raise ERROR or FATAL, where PostgreSQL 15 shows it, the functions of ours that
call it (`callers`), and the frames an ERROR from it may jump over (`crosses`).

This check compiles the crate to MIR (rustc's mid-level IR, after type checking and drop
elaboration: every local and temporary with its type, every call, every drop) and fails, one
line per problem, when:

  - a function is declared in an `extern` block anywhere in src/ but not listed, or outside
    unguarded.rs; or an entry names no declared function, or one declared twice;
  - an entry's `callers` are not exactly the functions whose MIR calls it;
  - an entry's `crosses` are not exactly the frames an ERROR from it may jump over: its callers,
    their callers and so on, up to a function PostgreSQL calls (an exported `extern "C"` fn) or
    up to pgrx's guard (`pg_guard_ffi_boundary`, whose sigsetjmp catches the ERROR); a frame of
    a function outside this crate in between (a closure run by std or pgrx) is a problem;
    an entry that cannot raise (`error = ""`) crosses nothing, and must say `why`;
  - a frame in `crosses` holds a value whose type is not plain: plain are numbers, `bool`,
    references, raw pointers, function pointers, the named types of the `plain_types!` list in
    unguarded.rs (each of which the compiler checks has no destructor), and `Option`, `Result`,
    tuples, arrays and closures made only of plain types; or it has a drop, a cleanup block
    (a landing pad: something runs when an unwind passes) or a call to catch_unwind;
  - a function PostgreSQL calls directly among those frames, or a function of this crate it
    calls, has an overflow or bounds check (a panic in an `extern "C"` function aborts the
    process) or calls a panicking function.

    tools/test/unguarded_check.py             check the crate
    tools/test/unguarded_check.py --self-test plant an unlisted declaration, and a String held
                                              across an unguarded call, in a copy of the
                                              crate; pass only if the check names both

The MIR is what `cargo rustc --lib -- --emit=mir=FILE` writes for the dev profile, through a
RUSTC_WORKSPACE_WRAPPER that leaves out cargo's own --emit (so nothing else is written and no
dependency is rebuilt). Its text format is rustc's (1.95 here), which may change: the check
fails loudly rather than pass when it finds no MIR it can read.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
import xfunc  # noqa: E402  (tools/lib/xfunc.py: the checkout's environment)

ROOT = xfunc.ROOT
DECLARATIONS = Path("src/pg_support/unguarded.rs")
LIST = Path("src/pg_support/unguarded.toml")
# The frame whose sigsetjmp catches an ERROR raised in the closure it runs (pgrx-pg-sys 0.18.1,
# src/submodules/ffi.rs): an ERROR stops there, and goes on as a Rust panic that unwinds.
LANDING = {"pg_guard_ffi_boundary"}
PG_SOURCE = re.compile(r"^postgresql:src/[\w./-]+\.c:\w+$")
FIELDS = {"name", "error", "fatal", "source", "callers", "crosses"}

PRIMITIVES = set("""i8 i16 i32 i64 i128 isize u8 u16 u32 u64 u128 usize f32 f64 bool char str !
    ()""".split())
# Generic std types that have a destructor exactly when one of their arguments has one.
TRANSPARENT = {"Option", "Result", "ControlFlow"}
# Generic std types that never have a destructor, whatever their arguments.
NEVER_DROP = {"NonNull", "PhantomData", "ManuallyDrop", "MaybeUninit", "Iter"}
# What a panic is called in MIR: the overflow and bounds checks of `assert` terminators (not the
# debug build's checks of pointer alignment and null, which abort), and the panicking functions.
PANICKING_ASSERT = re.compile(r'^\s*assert\(.*"(attempt to |index out of bounds)')
PANICKING_CALL = re.compile(r"(^|::)(panic\w*|begin_panic|unwrap\w*|expect\w*|unreachable\w*)$")


# --- the list and the declarations -------------------------------------------------------------

def load_list(root: Path, problems: list[str]) -> list[dict]:
    try:
        entries = tomllib.loads((root / LIST).read_text()).get("function", [])
    except (OSError, tomllib.TOMLDecodeError) as e:
        problems.append(f"{LIST}: {e}")
        return []
    seen = set()
    for i, e in enumerate(entries, 1):
        where = f"{LIST}: entry {i} ({e.get('name', '?')})"
        missing = FIELDS - set(e)
        if missing:
            problems.append(f"{where}: lacks {sorted(missing)}")
            continue
        if e["name"] in seen:
            problems.append(f"{where}: listed twice")
        seen.add(e["name"])
        if not e["error"] and not e.get("why"):
            problems.append(f"{where}: cannot raise (error = \"\"), so `why` must say why not")
        if not e["error"] and e["crosses"]:
            problems.append(f"{where}: cannot raise, yet crosses {e['crosses']}")
        for s in e["source"]:
            if not PG_SOURCE.match(s):
                problems.append(f"{where}: source {s!r} is not postgresql:src/FILE.c:FUNCTION")
    return entries


def strip_comments(text: str) -> str:
    return re.sub(r"//[^\n]*", "", text)


def declarations(root: Path, problems: list[str]) -> dict[str, str]:
    """name -> file of every function declared in an `extern` block of src/."""
    found: dict[str, str] = {}
    for path in sorted((root / "src").rglob("*.rs")):
        rel = path.relative_to(root)
        text = strip_comments(path.read_text())
        for m in re.finditer(r'\bextern\s+"[^"]*"\s*\{', text):
            depth, i = 1, m.end()
            while depth:
                depth += {"{": 1, "}": -1}.get(text[i], 0)
                i += 1
            for name in re.findall(r"\bfn\s+(\w+)", text[m.end():i]):
                if name in found:
                    problems.append(f"{rel}: {name} is declared again (also in {found[name]})")
                found[name] = str(rel)
                if rel != DECLARATIONS:
                    problems.append(f"{rel}: declares {name} outside {DECLARATIONS}: every "
                                    "function called without pgrx's guard is declared there, once")
    return found


def plain_named_types(root: Path, problems: list[str]) -> set[str]:
    """The paths listed in `plain_types!(...)` in unguarded.rs, `crate::` left out."""
    text = strip_comments((root / DECLARATIONS).read_text())
    m = re.search(r"\bplain_types!\((.*?)\);", text, re.S)
    if not m:
        problems.append(f"{DECLARATIONS}: no plain_types!(...) list")
        return set()
    return {re.sub(r"^crate::", "", t.strip()) for t in m.group(1).split(",") if t.strip()}


# --- the MIR -------------------------------------------------------------------------------------

WRAPPER = """#!/bin/sh
# RUSTC_WORKSPACE_WRAPPER of tools/test/unguarded_check.py: rustc with no --emit but ours.
rustc="$1"; shift
for a do
  shift
  case "$a" in --emit=mir=*) set -- "$@" "$a" ;; --emit=*) ;; *) set -- "$@" "$a" ;; esac
done
exec "$rustc" "$@"
"""


def mir_of(crate: Path) -> str:
    """The crate's MIR, for the dev profile (overflow checks on)."""
    with tempfile.TemporaryDirectory() as tmp:
        wrapper = Path(tmp) / "rustc-mir"
        wrapper.write_text(WRAPPER)
        wrapper.chmod(0o755)
        out = Path(tmp) / "crate.mir"
        # No incremental state: it would be one more directory per crate path (the self-test's
        # copy has its own) for a build whose only output is the MIR.
        env = dict(os.environ, RUSTC_WORKSPACE_WRAPPER=str(wrapper),
                   CARGO_TARGET_DIR=str(ROOT / "target"), CARGO_INCREMENTAL="0")
        env.setdefault("PGRX_HOME", xfunc.env()["PGRX_HOME"])
        r = subprocess.run(["cargo", "rustc", "--quiet", "--lib", "--", f"--emit=mir={out}"],
                           cwd=crate, env=env, capture_output=True, text=True)
        if r.returncode != 0 or not out.exists():
            sys.exit(f"unguarded-check: cargo rustc failed in {crate}:\n{r.stderr}")
        return out.read_text()


def split_path(path: str) -> list[str]:
    """`a::<impl at f.rs:1:1: 1:5>::b::{closure#0}` -> its segments (none split inside <>, {})."""
    segs, depth, cur = [], 0, ""
    i = 0
    while i < len(path):
        c = path[i]
        if c in "<{(":
            depth += 1
        elif c in ">})" and not (c == ">" and path[i - 1] == "-"):
            depth -= 1
        if depth == 0 and path.startswith("::", i):
            segs.append(cur)
            cur = ""
            i += 2
            continue
        cur += c
        i += 1
    segs.append(cur)
    return segs


def strip_generics(path: str) -> str:
    """`f::<T>` and `Type::<T>::f` without their turbofish arguments."""
    out, i = "", 0
    while i < len(path):
        if path.startswith("::<", i):
            depth, i = 0, i + 2
            while True:
                depth += {"<": 1, ">": -1}.get(path[i], 0)
                if path[i] == ">" and path[i - 1] == "-":
                    depth += 1
                i += 1
                if depth == 0:
                    break
            continue
        out += path[i]
        i += 1
    return out


def callee_of(call: str) -> str | None:
    """`path::<T, fn(A) -> B>(args)` -> `path::<T, fn(A) -> B>`: the text before the `(` that
    opens the arguments (none nested in <>, {}, [])."""
    depth = 0
    for i, c in enumerate(call):
        if c in "<{[":
            depth += 1
        elif c in ">}]" and not (c == ">" and call[i - 1] == "-"):
            depth -= 1
        elif c == "(" and depth == 0:
            return call[:i] if i else None
    return None


@dataclass
class Body:
    raw: str  # the name as the MIR header spells it
    module: list[str] = field(default_factory=list)
    self_type: str | None = None
    name: str = ""
    closures: list[str] = field(default_factory=list)  # {closure#N} suffixes
    closure_type: str | None = None  # {closure@FILE:L:C: L:C}, for a closure's body
    locals: dict[str, str] = field(default_factory=dict)  # _N -> type
    calls: list[tuple[str, str]] = field(default_factory=list)  # (callee, terminator line)
    lines: list[str] = field(default_factory=list)
    upvars: set[str] = field(default_factory=set)  # for a closure: its captures' types

    @property
    def display(self) -> str:
        base = f"{self.self_type}::{self.name}" if self.self_type else self.name
        return "::".join([base, *self.closures])


def impl_type(root: Path, impl: str) -> str:
    """`<impl at src/x.rs:12:1: 12:20>` -> the last segment of the type that impl is for."""
    m = re.match(r"<impl at ([^:]+):(\d+):", impl)
    if not m:
        return impl
    line = (root / m.group(1)).read_text().splitlines()[int(m.group(2)) - 1]
    m = re.search(r"\bimpl\b(?:<[^>]*>)?\s+(?:[\w:<>,' ]+?\s+for\s+)?([\w:]+)", line)
    return m.group(1).split("::")[-1] if m else impl


def parse_mir(text: str, root: Path) -> list[Body]:
    bodies: list[Body] = []
    body = None
    for line in text.splitlines():
        if line.startswith("fn "):
            m = re.match(r"fn (.+?)\((.*)\) -> .* \{$", line)
            if not m:
                continue
            body = Body(raw=m.group(1))
            segs = split_path(body.raw)
            while segs and segs[-1].startswith("{closure#"):
                body.closures.insert(0, segs.pop())
            body.name = segs.pop() if segs else body.raw
            if segs and segs[-1].startswith("<impl at "):
                body.self_type = impl_type(root, segs.pop())
            body.module = segs
            if body.closures:
                c = re.search(r"_1: &?(?:mut )?(\{closure@[^}]*\})", m.group(2))
                body.closure_type = c.group(1) if c else None
            bodies.append(body)
            continue
        if body is None:
            continue
        if line == "}":
            body = None
            continue
        body.lines.append(line)
        m = re.match(r"\s+(?:let|debug) (?:mut )?(_\d+): (.+);$", line)
        if m and line.lstrip().startswith("let"):
            body.locals[m.group(1)] = m.group(2)
        for u in re.findall(r"\(_1\.\d+: ([^)]+)\)", line):
            body.upvars.add(u)
        m = re.match(r"\s+(?:_\d+ = )?(.+\)) -> .*;$", line)
        callee = m and callee_of(m.group(1))
        if callee and callee not in {"assert", "drop", "switchInt"}:
            body.calls.append((callee, line))
    return bodies


# --- types ---------------------------------------------------------------------------------------

def split_args(text: str) -> list[str]:
    """`A, B<C, D>, (E, F)` -> its top-level comma-separated parts."""
    parts, depth, cur = [], 0, ""
    for i, c in enumerate(text):
        if c in "<([{":
            depth += 1
        elif c in ">)]}" and not (c == ">" and text[i - 1] == "-"):
            depth -= 1
        if c == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += c
    if cur.strip():
        parts.append(cur.strip())
    return parts


class Types:
    def __init__(self, named: set[str], bodies: list[Body]):
        self.named = named
        self.named_last = {n.split("::")[-1].split("<")[0] for n in named}
        self.closures = {b.closure_type: b for b in bodies if b.closure_type}

    def plain(self, ty: str) -> bool:
        ty = ty.strip()
        if ty in PRIMITIVES or re.match(r"^(&|\*const |\*mut )", ty):
            return True  # a reference or a raw pointer owns nothing
        if re.match(r"^(for<[^>]*> )?(unsafe )?(extern \"[^\"]+\" )?fn\(", ty):
            return True  # a function pointer
        if ty.startswith("{closure@"):
            b = self.closures.get(ty)
            return b is not None and all(self.plain(u) for u in b.upvars)
        if ty.startswith("(") and ty.endswith(")"):
            return all(self.plain(t) for t in split_args(ty[1:-1]))
        if ty.startswith("[") and ty.endswith("]"):
            return self.plain(split_args(ty[1:-1].rsplit(";", 1)[0])[0])
        m = re.match(r"^([\w:]+)(?:<(.*)>)?$", ty)
        if not m:
            return False
        path, args = m.group(1), [a for a in split_args(m.group(2) or "")
                                  if not a.startswith("'")]
        last = path.split("::")[-1]
        std = "::" not in path or path.startswith(("std::", "core::"))
        if std and last in NEVER_DROP:
            return True
        if std and last in TRANSPARENT:
            return all(self.plain(a) for a in args)
        if path in self.named or ("::" not in path and last in self.named_last):
            return all(self.plain(a) for a in args)
        return False


# --- the check -----------------------------------------------------------------------------------

def resolve(callee: str, bodies: list[Body]) -> list[Body]:
    """The bodies of this crate a call's callee can be (none: a function of another crate)."""
    segs = split_path(strip_generics(callee))
    name, qual = segs[-1], (segs[-2] if len(segs) > 1 else None)
    found = []
    for b in bodies:
        if b.closures or b.name != name:
            continue
        if qual is None:
            if b.self_type is None:
                found.append(b)
        elif qual.startswith("<") and " as " in qual:
            if b.self_type == qual[1:].split(" as ")[0].split("::")[-1].split("<")[0]:
                found.append(b)
        elif b.self_type == qual or (b.self_type is None and b.module and b.module[-1] == qual):
            found.append(b)
    return found


def arg_types(body: Body, line: str) -> set[str]:
    return {body.locals[v] for v in re.findall(r"(?:move|copy|&) ?(_\d+)", line)
            if v in body.locals}


def exported_extern_c(root: Path) -> set[str]:
    """Functions PostgreSQL calls by name: `#[no_mangle]` ... `extern "C" fn NAME`."""
    names = set()
    for path in (root / "src").rglob("*.rs"):
        text = strip_comments(path.read_text())
        names.update(re.findall(r'#\[(?:unsafe\()?no_mangle\)?\]\s*(?:#\[[^\]]*\]\s*)*'
                                r'pub\s+(?:unsafe\s+)?'
                                r'extern\s+"C"\s+fn\s+(\w+)', text))
    return names


def frames_crossed(start: list[Body], bodies: list[Body], entry_points: set[str],
                   problems: list[str], what: str) -> set[str]:
    """The bodies an ERROR raised in `start` jumps over: `start`, their callers, theirs, ..."""
    crossed: dict[str, Body] = {}
    todo = list(start)
    while todo:
        b = todo.pop()
        if b.display in crossed:
            continue
        crossed[b.display] = b
        callers = []
        for other in bodies:
            for callee, line in other.calls:
                if b in resolve(callee, bodies) or (
                        b.closure_type and callee.startswith(f"<{b.closure_type} as ")):
                    callers.append(other)
                elif b.closure_type and b.closure_type in callee + " ".join(
                        arg_types(other, line)):
                    # the closure is handed to the callee, which runs it in its own frame
                    runners = resolve(callee, bodies)
                    outer = split_path(strip_generics(callee))[-1]
                    if outer in LANDING:
                        continue
                    if not runners:
                        problems.append(f"{what}: an ERROR from {b.display} would jump over a "
                                        f"frame of {strip_generics(callee)}, outside this "
                                        "crate, which nothing can check")
                    callers.extend(runners)
            if re.search(rf"\b{re.escape(b.name)}\b.*ReifyFnPointer", "\n".join(other.lines)):
                problems.append(f"{what}: {b.display} is taken as a function pointer in "
                                f"{other.display}: who calls it cannot be checked")
        landed = b.closure_type and any(
            b.closure_type in callee and split_path(strip_generics(callee))[-1] in LANDING
            for other in bodies for callee, _ in other.calls)
        entry = not b.closures and b.self_type is None and b.name in entry_points
        if not callers and not landed and not entry:
            problems.append(f"{what}: {b.display} has no caller in the crate (a call through a "
                            "pointer or a trait object cannot be followed), and is not an "
                            "exported extern \"C\" function PostgreSQL calls")
        todo.extend(callers)
    return set(crossed)


def check_plain(b: Body, types: Types, problems: list[str]) -> None:
    for local, ty in b.locals.items():
        if not types.plain(ty):
            problems.append(f"frame {b.display}: holds a {ty} ({local}), which is not a plain "
                            f"type (plain_types! in {DECLARATIONS} lists the named ones)")
    for line in b.lines:
        s = line.strip()
        if re.match(r"bb\d+ \(cleanup\): \{", s):
            problems.append(f"frame {b.display}: has a cleanup block (a landing pad), so it is "
                            "not a plain old frame")
            break
    for line in b.lines:
        if re.match(r"\s*drop\(", line):
            problems.append(f"frame {b.display}: drops a value ({line.strip()})")
    for callee, _ in b.calls:
        if re.search(r"catch_unwind|panicking::try", callee):
            problems.append(f"frame {b.display}: calls {strip_generics(callee)}")


def check_no_panic(entry: Body, bodies: list[Body], problems: list[str]) -> None:
    """`entry`, an extern "C" function, and the functions of this crate it calls: no panic."""
    seen, todo = set(), [entry]
    while todo:
        b = todo.pop()
        if b.raw in seen:
            continue
        seen.add(b.raw)
        for line in b.lines:
            if PANICKING_ASSERT.match(line):
                problems.append(f"{b.display} (called from {entry.display}): may panic: "
                                f"{line.strip()[:100]}")
        for callee, _ in b.calls:
            last = split_path(strip_generics(callee))[-1]
            if PANICKING_CALL.search(last):
                problems.append(f"{b.display} (called from {entry.display}): calls {last}, "
                                "which panics")
            todo.extend(resolve(callee, bodies))


def check(root: Path, mir: str | None = None) -> list[str]:
    problems: list[str] = []
    entries = load_list(root, problems)
    declared = declarations(root, problems)
    listed = {e["name"] for e in entries}
    for name in sorted(set(declared) - listed):
        problems.append(f"{declared[name]}: {name} is declared but not listed in {LIST}")
    for name in sorted(listed - set(declared)):
        problems.append(f"{LIST}: {name} is listed but not declared in {DECLARATIONS}")
    named = plain_named_types(root, problems)
    bodies = parse_mir(mir if mir is not None else mir_of(root), root)
    if len(bodies) < 10 or not any(b.calls for b in bodies):
        return problems + ["unguarded-check: found no function bodies in the MIR: has rustc's "
                           "MIR format changed?"]
    types = Types(named, bodies)
    entry_points = exported_extern_c(root)
    crossed_all: dict[str, Body] = {}
    for e in entries:
        if {"name", "callers", "crosses"} - set(e):
            continue
        name = e["name"]
        direct = [b for b in bodies
                  if any(split_path(strip_generics(c))[-2:] == ["unguarded", name]
                         for c, _ in b.calls)]
        callers = {b.display for b in direct}
        if callers != set(e["callers"]):
            problems.append(f"{LIST}: {name}: callers = {sorted(e['callers'])}, but the code "
                            f"calls it from {sorted(callers)}")
        for b in bodies:
            for line in b.lines:
                if re.search(rf"unguarded::{name}\b(?!\()", line):
                    problems.append(f"{b.display}: takes unguarded::{name} as a value: calls "
                                    "through it cannot be checked")
        if not e["error"]:
            continue
        crossed = frames_crossed(direct, bodies, entry_points, problems, f"{LIST}: {name}")
        if crossed != set(e["crosses"]):
            problems.append(f"{LIST}: {name}: crosses = {sorted(e['crosses'])}, but an ERROR "
                            f"from it may jump over {sorted(crossed)}")
        for b in bodies:
            if b.display in crossed:
                crossed_all[b.display] = b
    for b in crossed_all.values():
        check_plain(b, types, problems)
    for b in crossed_all.values():
        if not b.closures and b.self_type is None and b.name in entry_points:
            check_no_panic(b, bodies, problems)
    return list(dict.fromkeys(problems))


# --- the self-test -------------------------------------------------------------------------------

PLANTED = '''
// Planted by tools/test/unguarded_check.py --self-test: must fail the check.
unsafe extern "C-unwind" {
    pub fn pfree(pointer: *mut std::ffi::c_void);
}

#[no_mangle]
pub unsafe extern "C" fn planted_string_across_palloc(_fcinfo: FunctionCallInfo) -> Datum {
    let label = std::hint::black_box(String::from("planted"));
    // SAFETY: none: planted to be found.
    let p = unsafe { unguarded::palloc(label.len()) };
    drop(label);
    Datum::from(p)
}

#[no_mangle]
pub unsafe extern "C" fn planted_string_across_raise(_fcinfo: FunctionCallInfo) -> Datum {
    let label = std::hint::black_box(String::from("planted"));
    if label.is_empty() {
        return Datum::from(0);
    }
    // SAFETY: none: planted to be found.
    unsafe { raise_error(&crate::pg_support::palloc::out_of_memory(label.len())) }
}

#[no_mangle]
pub unsafe extern "C" fn planted_overflow(fcinfo: FunctionCallInfo) -> Datum {
    // SAFETY: none: planted to be found.
    let n: i32 = unsafe { arg(fcinfo, 0) };
    if n == 0 {
        // SAFETY: none: planted to be found.
        unsafe { raise_error(&crate::pg_support::palloc::out_of_memory(0)) }
    }
    Datum::from(n + 1)
}
'''

# What the check must say about the planted code (the list is given the planted frames, so
# that each String is found by what the frame holds, not only by a list that is out of date).
EXPECTED = [
    r"src/fast_calls\.rs: declares pfree outside",
    r"pfree is declared but not listed",
    r"frame planted_string_across_palloc: holds a std::string::String",
    r"frame planted_string_across_palloc: has a cleanup block",
    r"frame planted_string_across_raise: holds a std::string::String",
    r"planted_overflow \(called from planted_overflow\): may panic: .*attempt to compute",
]


def self_test() -> int:
    # Always the same path, so that cargo sees the same package each time (one set of
    # fingerprints, no growing target/).
    crate = ROOT / "target" / "unguarded-self-test"
    shutil.rmtree(crate, ignore_errors=True)
    crate.mkdir(parents=True)
    try:
        for f in ("Cargo.toml", "Cargo.lock", "xfunc.control"):
            shutil.copy(ROOT / f, crate / f)
        for d in ("src", "tests", "benches"):  # the targets Cargo.toml names
            shutil.copytree(ROOT / d, crate / d)
        fast = crate / "src" / "fast_calls.rs"
        fast.write_text(fast.read_text() + PLANTED)
        listing = crate / LIST
        text = listing.read_text()
        for field_name, first in (("callers", "fast_makepoint"), ("crosses", "fast_makepoint"),
                                  ("crosses", "raise_error")):
            planted = ('"planted_string_across_raise", "planted_overflow"'
                       if first == "raise_error" else '"planted_string_across_palloc"')
            text = re.sub(rf'^{field_name} = \["{first}", ',
                          f'{field_name} = [{planted}, "{first}", ', text, flags=re.M)
        listing.write_text(text)
        problems = check(crate)
    finally:
        shutil.rmtree(crate, ignore_errors=True)
    missing = [p for p in EXPECTED if not any(re.search(p, q) for q in problems)]
    for p in problems:
        print(f"unguarded-check --self-test: the check says: {p}")
    if missing:
        for p in missing:
            print(f"unguarded-check --self-test: FAILED: nothing matched {p!r}")
        return 1
    print(f"unguarded-check --self-test: the planted declaration, both Strings held across an "
          f"unguarded call and the overflow are found ({len(EXPECTED)} expected problems among "
          f"{len(problems)})")
    return 0


def main() -> int:
    if "--self-test" in sys.argv:
        return self_test()
    problems = check(ROOT)
    for p in problems:
        print(f"unguarded-check: {p}")
    if problems:
        print(f"unguarded-check: {len(problems)} problem(s)")
        return 1
    entries = tomllib.loads((ROOT / LIST).read_text())["function"]
    frames = {f for e in entries for f in e["crosses"]}
    print(f"unguarded-check: {len(entries)} functions called without pgrx's guard, each listed "
          f"in {LIST}; the {len(frames)} frames an ERROR may jump over are plain old frames")
    return 0


if __name__ == "__main__":
    sys.exit(main())
