#!/usr/bin/env python3
"""Keeps the book's appendix "The C API and its Rust counterparts" true to the C sources.

What counts as PostgreSQL API: every identifier that c/*.c (or c/*.h) uses in its code (comments
and strings do not count, struct members do not count) and that the headers it includes from
the PostgreSQL server include directory define as a macro or declare as a function or a global
variable. The C compiler's preprocessor says which headers those are and where each name is
defined, so C library names (memcpy, ...) and the sources' own names are left out, and what
PostgreSQL redefines (snprintf, in port.h) is in. One name PostgreSQL calls in the library,
_PG_init, counts too although the library defines it.

book/api-map.toml gives, for each such name, what the Rust side (pgrx) uses instead; a key
with a `*` (ERRCODE_*) stands for every used name it matches. The appendix
(book/src/appendix-api-map.md) is generated from that file and from the sources: where each
name is defined, which C file uses it, which chapter shows it (a page that includes the lines
that use it).

    python3 tools/book/api_map.py            check; exit 1 when the map or the appendix is out of date
    python3 tools/book/api_map.py --write    rewrite the appendix (after editing the map)

The check fails, one line per problem, when c/ uses a name the map lacks (with the file:line of
each use and a TOML stub to fill in), when the map lists a name c/ no longer uses, when an
entry has no Rust side, and when the committed appendix differs from what would be generated.

It also checks what each row *says* (each `code span` of its `rust` text) against the code:

  - `pg_sys::NAME`: NAME is in pgrx-pg-sys 0.18.1's PostgreSQL 15 bindings, and the Rust side
    uses it: src/ calls it, or pgrx 0.18.1 does on our behalf;
  - a span of code (`const BLOCK: u64 = 8192`, `element_type == pg_sys::InvalidOid`,
    `fn float8_pl`, ...): it is in src/ as written, comments aside, `...` standing for anything;
  - `pgrx::...`, `Type::item`, `macro!`: the last name is defined in pgrx 0.18.1 or in src/;
  - an item of ours that the row names (`format_prefix`, `xfunc_log_tail`, `ExternalFile`): its
    code, in src/ and in c/, is what it was when the row was last reviewed. The code's
    fingerprint is kept in book/api-map.reviewed; when the code changes, the row fails until
    someone re-reads it against the code, fixes it, and records it again with
    `python3 tools/book/api_map.py --reviewed NAME...`. Only what a row names counts: a new
    function that uses a name (a reader's own, say) changes nothing the row says;
  - `code = ["src/file.rs: snippet", ...]` in an entry: each snippet is in that file as written.
    A row pins with it what it states about a signature or a behaviour.
"""
import difflib
import fnmatch
import hashlib
import os
import re
import sys
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import twins as twins_preprocessor  # noqa: E402  {{#twins}}: pages as mdbook reads them
import xfunc  # noqa: E402  (tools/lib/xfunc.py: the checkout's environment)

ROOT = xfunc.ROOT
C_DIR = ROOT / "c"
MAP = ROOT / "book" / "api-map.toml"
BOOK_SRC = ROOT / "book" / "src"
PAGE = BOOK_SRC / "appendix-api-map.md"
PG_CONFIG = xfunc.env()["PG_CONFIG"]  # the checkout's PostgreSQL copy (tools/lib/env.sh)
RUST_DIR = ROOT / "src"
REVIEWED = ROOT / "book" / "api-map.reviewed"
CARGO_SRC = Path(os.environ.get("CARGO_HOME", Path.home() / ".cargo")) / "registry" / "src"
PGRX_VERSION = "0.18.1"

# Names PostgreSQL looks up in the library by name: the library defines them, they are API.
CALLED_BY_POSTGRES = {"_PG_init": "fmgr.h"}  # declared there from PostgreSQL 16; dfmgr.c calls it

C_KEYWORDS = set("""
    auto break case char const continue default do double else enum extern float for goto if
    inline int long register restrict return short signed sizeof static struct switch typedef
    union unsigned void volatile while _Bool _Complex _Imaginary _Alignas _Alignof _Atomic
    _Generic _Noreturn _Static_assert _Thread_local __attribute__ __asm__ __inline__ __inline
    __restrict __extension__ __typeof__ __builtin_va_list asm typeof
""".split())


@dataclass
class Api:
    name: str
    header: str  # relative to the server include directory
    kind: str  # "macro", "function", "variable"
    uses: list[tuple[str, int]] = field(default_factory=list)  # (c/file, line)


def toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else f'"{key}"'


def run(cmd: list[str]) -> str:
    r = xfunc.run(cmd)
    if r.returncode != 0:
        sys.exit(f"api-map: {' '.join(cmd[:3])} ... failed:\n{r.stderr}")
    return r.stdout


def strip_c(text: str) -> str:
    """Blanks comments, string and character literals and #include lines; keeps line numbers."""
    def blank(m: re.Match) -> str:
        s = m.group(0)
        if s.startswith("/") or s.startswith("#"):
            return re.sub(r"[^\n]", " ", s)
        return s[0] + re.sub(r"[^\n]", " ", s[1:-1]) + s[-1]
    return re.sub(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|'
                  r'^[ \t]*#[ \t]*include[^\n]*', blank, text, flags=re.S | re.M)


def header_names(c_file: Path, server: str) -> dict[str, tuple[str, str]]:
    """name -> (header, kind) for what c_file's PostgreSQL server headers define or declare."""
    cc = run([PG_CONFIG, "--cc"]).split()
    cppflags = [f for f in run([PG_CONFIG, "--cppflags"]).split() if f.startswith(("-D", "-I"))]
    out = run(cc + ["-E", "-dD", *cppflags, f"-I{server}", f"-I{C_DIR}", str(c_file)])
    roots = tuple({server.rstrip("/") + "/", os.path.realpath(server) + "/"})
    names: dict[str, tuple[str, str]] = {}
    current = None  # the server header the following lines come from, or None
    decls: dict[str, list[str]] = defaultdict(list)
    for line in out.splitlines():
        m = re.match(r'^# \d+ "([^"]+)"', line)
        if m:
            path = os.path.normpath(m.group(1))
            root = next((r for r in roots if path.startswith(r)), None)
            current = path[len(root):] if root else None
            continue
        if current is None:
            continue
        m = re.match(r"^#define\s+(\w+)", line)
        if m:
            names.setdefault(m.group(1), (current, "macro"))
        elif not line.startswith("#"):
            decls[current].append(line)
    for header, lines in decls.items():
        for stmt in re.split(r"[;{}]", "\n".join(lines)):
            stmt = " ".join(stmt.split())
            pointer = re.match(r"^extern\b[^(]*\(\s*\*\s*(\w+)\s*\)\s*\(", stmt)
            if pointer:  # extern int (*pg_popcount32) (uint32 word): a variable
                names.setdefault(pointer.group(1), (header, "variable"))
            elif re.match(r"^extern\b", stmt) or re.match(r"^static (__)?inline\b", stmt):
                calls = [n for n in re.findall(r"\b(\w+)\s*\(", stmt) if n not in C_KEYWORDS]
                if calls:
                    names.setdefault(calls[0], (header, "function"))
                elif stmt.startswith("extern") and "(" not in stmt:
                    m = re.search(r"\b(\w+)\s*(\[[^\]]*\]\s*)*$", stmt)
                    if m and m.group(1) not in C_KEYWORDS:
                        names.setdefault(m.group(1), (header, "variable"))
    return names


def scan_sources() -> dict[str, Api]:
    server = run([PG_CONFIG, "--includedir-server"]).strip()
    sources = sorted(C_DIR.glob("*.c"))
    own: set[str] = set()  # what the sources define themselves
    texts = {}
    for f in sorted(C_DIR.glob("*.[ch]")):
        texts[f] = strip_c(f.read_text())
        own.update(re.findall(r"^(\w+)\s*\([^;{]*\)\s*\{", texts[f], re.M))  # definitions
        own.update(re.findall(r"^[ \t]*#[ \t]*define[ \t]+(\w+)", texts[f], re.M))
        own.update(re.findall(r"^extern\b[^;(]*?\b(\w+)\s*\(", texts[f], re.M))
    apis: dict[str, Api] = {}
    known: dict[str, tuple[str, str]] = {}
    for f in sources:
        known.update(header_names(f, server))
    for name, header in CALLED_BY_POSTGRES.items():
        known[name] = (header, "function")
    for f, text in texts.items():
        rel = str(f.relative_to(ROOT))
        for lineno, line in enumerate(text.splitlines(), 1):
            for m in re.finditer(r"(?<![\w.])(?<!->)([A-Za-z_]\w*)", line):
                name = m.group(1)
                if name not in known or (name in own and name not in CALLED_BY_POSTGRES):
                    continue
                if line[:m.start()].rstrip().endswith(("->", ".")):
                    continue  # a struct member that happens to share a name
                header, kind = known[name]
                api = apis.setdefault(name, Api(name, header, kind))
                if (rel, lineno) not in api.uses:
                    api.uses.append((rel, lineno))
    return apis


# --- the book: which page shows which lines of which C file ---------------------------------


def summary() -> list[tuple[str, str]]:
    """(page file, title) in SUMMARY.md order."""
    text = (BOOK_SRC / "SUMMARY.md").read_text()
    return [(m.group(2), re.sub(r"`|\*+|\\(?=.)", "", m.group(1)).strip())
            for m in re.finditer(r"\[((?:[^\]\\]|\\.)+)\]\(([^)\s]+\.md)\)", text)]


def shown_lines() -> dict[tuple[str, int], list[str]]:
    """(c/file, line) -> the pages whose {{#include}} shows that line."""
    shown: dict[tuple[str, int], list[str]] = defaultdict(list)
    for page, _ in summary():
        path = BOOK_SRC / page
        if not path.is_file() or path == PAGE:
            continue
        # {{#twins}} lines as the includes they stand for (book-check reports their errors)
        text, _ = twins_preprocessor.expand(path.read_text(), path, ROOT, page)
        for m in re.finditer(r"\{\{#(?:rustdoc_)?include\s+([^}\s]+)\s*\}\}", text):
            file_part, _, anchor = m.group(1).partition(":")
            target = (path.parent / file_part).resolve()
            if target.parent != C_DIR.resolve() or not target.is_file():
                continue
            rel = str(target.relative_to(ROOT.resolve()))
            lines = target.read_text().splitlines()
            inside = not anchor
            for lineno, line in enumerate(lines, 1):
                if anchor and re.search(r"ANCHOR_END:\s*" + re.escape(anchor) + r"\b", line):
                    inside = False
                elif anchor and re.search(r"ANCHOR:\s*" + re.escape(anchor) + r"\b", line):
                    inside = True
                elif inside and page not in shown[(rel, lineno)]:
                    shown[(rel, lineno)].append(page)
    return shown


def render(apis: dict[str, Api], entries: dict[str, dict]) -> str:
    order = {page: i for i, (page, _) in enumerate(summary())}
    titles = dict(summary())
    shown = shown_lines()

    def chapter(page: str) -> str:
        """A chapter's number (book/src/NN-stem.md is chapter NN), else its title."""
        m = re.match(r"(\d+)-", page)
        return str(int(m.group(1))) if m else titles.get(page, page)

    def rust_of(name: str) -> str:
        if name in entries:
            return entries[name]["rust"]
        for key in entries:
            if "*" in key and fnmatch.fnmatchcase(name, key):
                return entries[key]["rust"].replace(key, name)  # ERRCODE_* -> ERRCODE_XYZ
        return ""

    by_header: dict[str, list[Api]] = defaultdict(list)
    for api in apis.values():
        by_header[api.header].append(api)
    out = [
        "# Appendix: The C API and Its Rust Counterparts",
        "",
        "<!-- Generated by tools/book/api_map.py from book/api-map.toml and c/*.c: do not edit.",
        "     After changing either, run: just api-map -->",
        "",
        "Every PostgreSQL macro, function and global variable that the C twins in `c/` use,",
        "grouped by the server header that defines it, with what the Rust side uses instead and",
        "the chapters that show it in C. The table is generated from the C sources and",
        "`book/api-map.toml`, and `just api-map-check` (part of the tests) fails when the C code",
        "starts or stops using a name, so the table lists exactly what the C code uses. It also",
        "checks what each row says: the `pg_sys` names and the code it quotes must be in the Rust",
        "sources or in pgrx 0.18.1, and a row fails when the code of a Rust item it names has",
        "changed since the row was last reviewed against it (`book/api-map.reviewed`).",
        "Functions are shown with `()`, macros and global variables without.",
        "",
    ]
    for header in sorted(by_header, key=lambda h: (h.count("/"), h)):
        out += [f"## `{header}`", "", "| C | Rust (pgrx) | shown in chapter |",
                "|---|---|---|"]
        for api in sorted(by_header[header], key=lambda a: a.name.lstrip("_").lower()):
            pages = sorted({p for use in api.uses for p in shown.get(use, [])},
                           key=lambda p: order.get(p, 1 << 30))
            c = f"`{api.name}()`" if api.kind == "function" else f"`{api.name}`"
            where = ", ".join(f"[{chapter(p)}]({p})" for p in pages) or "not shown"
            out.append(f"| {c} | {rust_of(api.name).replace('|', '&#124;')} | {where} |")
        out.append("")
    return "\n".join(out)


# --- what each row says, checked against the code ---------------------------------------------


def strip_rust(text: str) -> str:
    """Blanks // and /* */ comments (doc comments included); keeps strings and line numbers."""
    def blank(m: re.Match) -> str:
        s = m.group(0)
        return s if s.startswith(("\"", "'")) else re.sub(r"[^\n]", " ", s)
    return re.sub(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])\'|/\*.*?\*/|//[^\n]*', blank, text,
                  flags=re.S)


def squash(text: str) -> str:
    return " ".join(text.split())


DEFINED = r"\b(?:fn|struct|enum|trait|type|const|static|mod|union|macro_rules!)\s+(\w+)"


@dataclass
class Code:
    rust: dict[str, str]  # src/file.rs -> code without comments
    ours: dict[str, list[str]]  # name -> the src/ files that define it
    pgrx_names: set[str]  # every identifier defined or used in pgrx 0.18.1's sources
    pg_sys: set[str]  # what pgrx-pg-sys 0.18.1 defines for PostgreSQL 15
    c: dict[str, str]  # c/file -> code without comments


def crate_dir(name: str) -> Path | None:
    found = sorted(CARGO_SRC.glob(f"*/{name}-{PGRX_VERSION}"))
    return found[0] if found else None


def load_code() -> Code:
    rust = {str(f.relative_to(ROOT)): strip_rust(f.read_text()) for f in sorted(RUST_DIR.rglob("*.rs"))}
    ours: dict[str, list[str]] = defaultdict(list)
    for f, text in rust.items():
        # Not `&raw const x` / `&raw mut x` (a raw borrow) nor `const fn` (a function, named
        # after `fn`): neither defines an item named by the word after `const`.
        for name in re.findall(r"(?<![\w'])(?<!&raw )(?:fn|struct|enum|trait|type|const(?!\s+fn\b)"
                               r"|static|union)\s+(?:mut\s+)?(\w+)", text):
            if f not in ours[name]:
                ours[name].append(f)
    pgrx_names: set[str] = set()
    pg_sys: set[str] = set()
    for crate in ("pgrx", "pgrx-macros", "pgrx-sql-entity-graph", "pgrx-pg-sys"):
        d = crate_dir(crate)
        if d is None:
            sys.exit(f"api-map: {crate}-{PGRX_VERSION} is not in {CARGO_SRC} (run cargo fetch)")
        for f in d.rglob("*.rs"):
            if crate == "pgrx-pg-sys" and f.parent.name == "include" and f.name != "pg15.rs":
                continue  # the bindings of the other majors
            text = f.read_text(errors="replace")
            words = set(re.findall(r"\b[A-Za-z_]\w*", text))
            pgrx_names |= words
            if crate == "pgrx-pg-sys":
                pg_sys |= set(re.findall(DEFINED, text)) | set(
                    re.findall(r"^\s*pub\s+(?:const|static|fn|type|struct|union|enum)\s+(?:mut\s+)?(\w+)",
                               text, re.M))
    c = {str(f.relative_to(ROOT)): strip_c(f.read_text()) for f in sorted(C_DIR.glob("*.[ch]"))}
    return Code(rust, dict(ours), pgrx_names, pg_sys, c)


def item_text(code: Code, name: str) -> str:
    """The code of our item `name`: each Rust definition of it, and each C function of that name."""
    parts = []
    for f, text in list(code.rust.items()) + list(code.c.items()):
        if f.startswith("src/"):
            pattern = r"^[ \t]*(?:#\[[^\n]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?(?:unsafe\s+)?" \
                      r"(?:extern\s+\"[^\"]*\"\s+)?(?:fn|struct|enum|trait|type|const|static|mod|impl)\s+" \
                      + re.escape(name) + r"\b"
        else:
            pattern = r"^" + re.escape(name) + r"\s*\([^;{]*\)\s*\{"
        for m in re.finditer(pattern, text, re.M):
            start, depth, i = m.start(), 0, m.start()
            while i < len(text):
                ch = text[i]
                if ch == "{":
                    depth += 1
                elif ch == "}":
                    depth -= 1
                    if depth == 0:
                        break
                elif ch == ";" and depth == 0:
                    break
                i += 1
            parts.append(f + ": " + squash(text[start:i + 1]))
        if f.startswith("src/"):  # impl blocks of the type: its methods are part of it
            for m in re.finditer(r"^impl(?:<[^>]*>)?\s+(?:[\w:<>, ']+\s+for\s+)?" + re.escape(name)
                                 + r"\b[^{]*\{", text, re.M):
                depth, i = 0, m.start()
                while i < len(text):
                    if text[i] == "{":
                        depth += 1
                    elif text[i] == "}":
                        depth -= 1
                        if depth == 0:
                            break
                    i += 1
                parts.append(f + ": " + squash(text[m.start():i + 1]))
    return "\n".join(parts)


def fingerprint(code: Code, name: str) -> str:
    return hashlib.sha256(item_text(code, name).encode()).hexdigest()[:16]


def snippet_in(snippet: str, text: str) -> bool:
    """Whether `snippet` is in `text`, whitespace aside, each `...` standing for anything."""
    parts = [re.escape(squash(p)) for p in squash(snippet).split("...")]
    return re.search(r".*?".join(parts), squash(text)) is not None


CODE_LIKE = re.compile(r" = |==|\bfn |#\[|\w: |\.\w+\(|\(\*|\[\d+\]|^static |^const ")


def named_items(code: Code, text: str) -> list[str]:
    """Our items that a row's text is about: those it names in a code span."""
    found: list[str] = []
    for span in re.findall(r"`([^`]+)`", text):
        for word in re.findall(r"(?<![\w:])([A-Za-z_]\w*)", span):
            if word in code.ours and word not in found and not word.isupper() and len(word) > 3:
                found.append(word)
    return found


def check_row(code: Code, key: str, entry: dict, reviewed: dict[tuple[str, str], str]) -> list[str]:
    where = f"{MAP.relative_to(ROOT)}: [{toml_key(key)}]"
    problems = []
    all_rust = "\n".join(code.rust.values())
    text = str(entry.get("rust", ""))
    for span in re.findall(r"`([^`]+)`", text):
        for name in re.findall(r"\bpg_sys::(\w+)", span):
            if name not in code.pg_sys:
                problems.append(f"{where} names `pg_sys::{name}`, which pgrx-pg-sys {PGRX_VERSION} "
                                "does not define for PostgreSQL 15")
            elif not re.search(r"\b" + re.escape(name) + r"\b", all_rust) and name not in code.pgrx_names:
                problems.append(f"{where} names `pg_sys::{name}`, which neither src/ nor pgrx uses")
            elif (not re.search(r"\bpg_sys::" + re.escape(name) + r"\b", all_rust)
                  and not text.lower().startswith(("not needed", "not used"))
                  and not re.search("`" + re.escape(span) + r"` (?:exists|too)\b", text)
                  and not re.search(r"`" + re.escape(span) + r"` exists too", text)
                  and not re.search(r"\b(?:calls?|uses?|which|pgrx)\b[^.;]*`" + re.escape(span) + "`",
                                    text)):
                problems.append(f"{where} says the Rust side uses `pg_sys::{name}`, which src/ "
                                "does not call (say what calls it: pgrx, which calls ...)")
        if CODE_LIKE.search(span) and (re.search(r"\bpg_sys::", span) or any(
                w in code.ours for w in re.findall(r"[A-Za-z_]\w*", span))):
            if not snippet_in(span, all_rust):
                problems.append(f"{where} quotes `{span}`, which is not in src/ as written")
        m = re.fullmatch(r"(?:pgrx::)?(?:[\w]+::)*(?:<\w+>::)?(\w+)(?:!|\(.*\)|::<.*>)?(?:\(.*\))?", span)
        if m and ("::" in span or span.endswith("!")) and not span.startswith(("std::", "pg_sys::")):
            last = m.group(1)
            if last not in code.pgrx_names and last not in code.ours and not re.fullmatch(
                    r"(?:i|u)(?:8|16|32|64|size)|f32|f64|str|Vec|String|Option|CStr|CString", span.split("::")[0]):
                problems.append(f"{where} names `{span}`: `{last}` is neither in pgrx {PGRX_VERSION} nor "
                                "in src/")
    items = named_items(code, text)
    for item in items:
        fp = fingerprint(code, item)
        old = reviewed.get((key, item))
        if old is None:
            problems.append(f"{where} is about `{item}`, whose code was never recorded as reviewed for "
                            f"this row: read the row against the code, then run "
                            f"`python3 tools/book/api_map.py --reviewed {key}`")
        elif old != fp:
            files = ", ".join(code.ours.get(item, []))
            problems.append(f"{where} is about `{item}` ({files}), whose code changed since the row was "
                            f"reviewed: re-read the row against the code, fix what it says, then run "
                            f"`python3 tools/book/api_map.py --reviewed {key}`")
    for (k, item) in reviewed:
        if k == key and item not in items:
            problems.append(f"{where} was reviewed against `{item}`, which it no longer names: run "
                            f"`python3 tools/book/api_map.py --reviewed {key}` once the row is right")
    pins = entry.get("code", [])
    if not isinstance(pins, list):
        problems.append(f"{where}: code must be a list of \"src/file.rs: snippet\" strings")
        pins = []
    for pin in pins:
        file, sep, snippet = str(pin).partition(": ")
        target = code.rust.get(file) or code.c.get(file)
        if not sep or target is None:
            problems.append(f"{where}: code = \"{pin}\" must start with a file of src/ or c/ and \": \"")
        elif not snippet_in(snippet, target):
            problems.append(f"{where} pins `{snippet}` in {file}, which is no longer there: the row "
                            "describes code that changed; fix the row and its pin")
    return problems


def read_reviewed() -> dict[tuple[str, str], str]:
    out = {}
    if REVIEWED.exists():
        for line in REVIEWED.read_text().splitlines():
            if line and not line.startswith("#"):
                key, item, fp = line.split("\t")
                out[(key, item)] = fp
    return out


def write_reviewed(code: Code, entries: dict, keys: list[str], reviewed: dict) -> None:
    for key in keys:
        for k in [k for k in reviewed if k[0] == key]:
            del reviewed[k]
        for item in named_items(code, str(entries[key].get("rust", ""))):
            reviewed[(key, item)] = fingerprint(code, item)
    lines = ["# Written by `python3 tools/book/api_map.py --reviewed KEY...` after a person re-read the",
             "# row KEY of book/api-map.toml against the code: row, item of ours the row names,",
             "# fingerprint of that item's code in src/ and c/. `just api-map-check` fails when that",
             "# code changes."]
    lines += [f"{k}\t{i}\t{fp}" for (k, i), fp in sorted(reviewed.items())]
    REVIEWED.write_text("\n".join(lines) + "\n")


def main() -> int:
    write = "--write" in sys.argv[1:]
    if sys.argv[1:2] == ["--reviewed"]:
        entries = tomllib.loads(MAP.read_text())
        keys = [k for pat in sys.argv[2:] for k in entries if fnmatch.fnmatchcase(k, pat)]
        if not keys:
            print("usage: python3 tools/book/api_map.py --reviewed KEY... (keys of book/api-map.toml)")
            return 2
        write_reviewed(load_code(), entries, keys, read_reviewed())
        print(f"api-map: recorded {len(keys)} row(s) as reviewed in {REVIEWED.relative_to(ROOT)}")
        return 0
    apis = scan_sources()
    try:
        entries = tomllib.loads(MAP.read_text()) if MAP.exists() else {}
    except tomllib.TOMLDecodeError as e:
        print(f"api-map: {MAP.relative_to(ROOT)}: {e}")
        return 1
    problems: list[str] = []

    def covered(name: str) -> bool:
        return name in entries or any(
            "*" in k and fnmatch.fnmatchcase(name, k) for k in entries)

    missing = sorted(n for n in apis if not covered(n))
    for name in missing:
        api = apis[name]
        uses = ", ".join(f"{f}:{n}" for f, n in api.uses[:4])
        more = f" (+{len(api.uses) - 4} more)" if len(api.uses) > 4 else ""
        problems.append(f"c/ uses {name} ({api.kind}, {api.header}) but {MAP.relative_to(ROOT)} "
                        f"has no entry for it: {uses}{more}")
    for key, entry in entries.items():
        if not isinstance(entry, dict) or not str(entry.get("rust", "")).strip():
            problems.append(f"{MAP.relative_to(ROOT)}: [{toml_key(key)}] needs rust = \"...\"")
        unknown = set(entry) - {"rust", "code"} if isinstance(entry, dict) else set()
        if unknown:
            problems.append(f"{MAP.relative_to(ROOT)}: [{toml_key(key)}] has unknown keys "
                            f"{sorted(unknown)} (only rust and code)")
        used = (key in apis) if "*" not in key else any(fnmatch.fnmatchcase(n, key) for n in apis)
        if not used:
            problems.append(f"{MAP.relative_to(ROOT)}: [{toml_key(key)}] is no longer used in c/: "
                            "remove it")
    code, reviewed = load_code(), read_reviewed()
    for key, entry in entries.items():
        if isinstance(entry, dict):
            problems += check_row(code, key, entry, reviewed)
    for (key, _item) in sorted(reviewed):
        if key not in entries:
            problems.append(f"{REVIEWED.relative_to(ROOT)} names row [{toml_key(key)}], which "
                            f"{MAP.relative_to(ROOT)} no longer has: remove the line")
    if not problems:
        page = render(apis, entries)
        if write:
            if not PAGE.exists() or PAGE.read_text() != page:
                PAGE.write_text(page)
                print(f"api-map: wrote {PAGE.relative_to(ROOT)}")
        elif not PAGE.exists() or PAGE.read_text() != page:
            old = PAGE.read_text().splitlines() if PAGE.exists() else []
            diff = list(difflib.unified_diff(old, page.splitlines(), "committed", "generated",
                                             n=0, lineterm=""))
            problems.append(f"{PAGE.relative_to(ROOT)} is out of date with c/, the book's "
                            "includes or the map: run `just api-map` and commit it; "
                            "the difference:\n  " + "\n  ".join(diff[2:22])
                            + ("\n  ..." if len(diff) > 22 else ""))
    for p in problems:
        print(f"api-map: {p}")
    if missing:
        print(f"api-map: add to {MAP.relative_to(ROOT)} (what the Rust side uses instead, "
              "in Markdown), then run `just api-map`:")
        for name in missing:
            print(f'\n[{toml_key(name)}]\nrust = ""')
    if problems:
        print(f"api-map: {len(problems)} problem(s)")
        return 1
    if not write:
        print(f"api-map: {len(apis)} PostgreSQL names used in c/, each mapped to its Rust "
              f"side; {PAGE.relative_to(ROOT)} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
