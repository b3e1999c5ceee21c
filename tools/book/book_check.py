#!/usr/bin/env python3
"""Checks that the book only shows code and output taken from compiled, tested files.

Fails (exit 1, one line per problem) on:
  - a fenced code block that is not made of {{#include}} lines (shell commands for the reader
    to type, in ```console / ```sh blocks, are the only thing that may be written by hand);
  - an include of a missing file, of an anchor the file does not define (or defines empty),
    or by line numbers (ranges drift silently: use an anchor);
  - a {{#twins ...}} line (a Rust/C pair side by side, tools/book/twins.py) that is malformed,
    or one of whose two sides names a missing file or an anchor the file does not define (or
    defines empty, or never closes);
  - a Rust/C pair written by hand (HTML with class "twins" or "twin-label"): {{#twins ...}} is
    the only way to write one;
  - a page under book/src that SUMMARY.md does not list, or a SUMMARY entry with no page;
  - a link from one page to another page or heading that does not exist (inline links and
    reference-style link definitions);
  - any warning or error from `mdbook build` (a missing include is only a warning there);
  - a chapter page (any page but the appendices and the glossary) that does not open with "What
    you will learn", the first line after its title;
  - a page of the built book longer than MAX_RENDERED_LINES rendered lines (as `just
    book-lines` counts them), but the generated API appendix;
  - a table or profile of book/generated/benchmarks/ included by more than one page, or twice;
  - a measured figure typed by hand in the prose, a {{#fig}} or {{#check}} the committed numbers
    do not support, a missed cell of a benchmark table that the text beside it does not explain
    (tools/book/figures.py, the preprocessor that renders the figures, says what each means);
  - an entry of book/claims.toml (the claims the book cites rather than executes) whose chapter
    does not exist or does not name the cited function, or whose source is not in a known form:
    `postgresql:src/...`, `postgresql:doc/src/sgml/...` (PostgreSQL 15; a header under
    src/include/ must be in the server's include directory, pg_config --includedir-server), or
    `<crate>-0.18.1/path` for pgrx's crates, which must exist in cargo's registry and hold the
    function.
"""
import html
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import figures  # noqa: E402  the book's {{#fig}} preprocessor: figures from the numbers
import twins  # noqa: E402  the book's {{#twins}} preprocessor
import xfunc  # noqa: E402  (tools/lib/xfunc.py: the checkout's environment)

ROOT = xfunc.ROOT
BOOK = ROOT / "book"
SRC = BOOK / "src"
HAND_WRITTEN_OK = {"console", "sh", "bash", "shell"}
INCLUDE = re.compile(r"\{\{#(include|rustdoc_include)\s+([^}\s]+)\s*\}\}")
FENCE = re.compile(r"^(```+|~~~+)\s*([\w+-]*)")
LINK = re.compile(r"\]\(([^)\s]+)\)")
LINK_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?([^>\s]+)>?")  # [label]: target
TWINS_HTML = re.compile(r"""class\s*=\s*["'][^"']*\btwin(?:s|-label)\b""")
CODE_SPAN = re.compile(r"(`+).+?\1")

problems: list[str] = []


def anchor_region(path: Path, anchor: str) -> list[str] | None:
    lines = path.read_text(errors="replace").splitlines()
    start = re.compile(r"ANCHOR:\s*" + re.escape(anchor) + r"\b")
    end = re.compile(r"ANCHOR_END:\s*" + re.escape(anchor) + r"\b")
    region, inside, seen = [], False, False
    for line in lines:
        if end.search(line):
            inside = False
        elif start.search(line):
            inside, seen = True, True
        elif inside and "ANCHOR" not in line:
            region.append(line)
    return region if seen else None


def check_include(page: Path, lineno: int, target: str) -> None:
    where = f"{page.relative_to(ROOT)}:{lineno}"
    path_part, _, anchor = target.partition(":")
    path = (page.parent / path_part).resolve()
    if not path.is_file():
        hint = " (just install writes it)" if "generated/installed/" in path_part else ""
        problems.append(f"{where}: includes a missing file {path_part}{hint}")
        return
    if not anchor:
        return
    if re.fullmatch(r"[0-9:]+", anchor):
        problems.append(f"{where}: includes {path_part} by line numbers ({anchor}); use an anchor")
        return
    region = anchor_region(path, anchor)
    if region is None:
        problems.append(f"{where}: anchor '{anchor}' is not defined in {path_part}")
    elif not any(line.strip() for line in region):
        problems.append(f"{where}: anchor '{anchor}' in {path_part} is empty")


def check_page(page: Path) -> None:
    fence = None
    lang = ""
    body: list[tuple[int, str]] = []
    text = page.read_text()
    _, twins_problems = twins.expand(text, page, ROOT, str(page.relative_to(ROOT)))
    problems.extend(twins_problems)
    for lineno, line in enumerate(text.splitlines(), 1):
        for m in INCLUDE.finditer(line):
            check_include(page, lineno, m.group(2))
        m = FENCE.match(line)
        if fence is None and m:
            fence, lang, body, start = m.group(1), m.group(2), [], lineno
            continue
        if fence is not None and line.startswith(fence):
            written = [line for _, line in body if line.strip() and not INCLUDE.search(line)]
            if written and lang not in HAND_WRITTEN_OK:
                problems.append(
                    f"{page.relative_to(ROOT)}:{start}: ```{lang} block written by hand "
                    f"({len(written)} lines); include it from a tested file by anchor"
                )
            fence = None
            continue
        if fence is not None:
            body.append((lineno, line))
        else:
            if TWINS_HTML.search(CODE_SPAN.sub("", line)):
                problems.append(f"{page.relative_to(ROOT)}:{lineno}: a Rust/C pair written in "
                                "HTML; write {{#twins STEM:ANCHOR}} (forms: tools/book/twins.py)")
            for m in LINK.finditer(line):
                check_link(page, lineno, m.group(1))
            m = LINK_DEFINITION.match(line)
            if m:
                check_link(page, lineno, m.group(1))
    if fence is not None:
        problems.append(f"{page.relative_to(ROOT)}: unclosed code block")


def headings(page: Path) -> set[str]:
    ids = set()
    for line in page.read_text().splitlines():
        m = re.match(r"^#+\s+(.*)", line)
        if m:
            text = re.sub(r"[`*]|\[([^]]*)\]\([^)]*\)", r"\1", m.group(1)).strip().lower()
            ids.add(re.sub(r"[^\w\- ]", "", html.unescape(text)).replace(" ", "-"))
    return ids


def check_link(page: Path, lineno: int, url: str) -> None:
    if re.match(r"^[a-z]+:", url) or url.startswith("/"):
        return
    target, _, frag = url.partition("#")
    dest = (page.parent / target).resolve() if target else page
    where = f"{page.relative_to(ROOT)}:{lineno}"
    if not dest.exists():
        problems.append(f"{where}: link to missing {target}")
    elif frag and dest.suffix == ".md" and frag not in headings(dest):
        problems.append(f"{where}: link to missing heading #{frag} in {target or page.name}")


def check_summary() -> None:
    summary = SRC / "SUMMARY.md"
    listed = set()
    for m in LINK.finditer(summary.read_text()):
        p = (SRC / m.group(1)).resolve()
        listed.add(p)
        if not p.is_file():
            problems.append(f"book/src/SUMMARY.md: lists {m.group(1)}, which does not exist")
    for page in sorted(SRC.rglob("*.md")):
        if page.name != "SUMMARY.md" and page.resolve() not in listed:
            problems.append(f"{page.relative_to(ROOT)}: not listed in SUMMARY.md (orphan page)")


# The pages that open with "What you will learn": all but the reference pages at the end.
REFERENCE_PAGES = {"glossary.md"}
# The longest page a newcomer is asked to hold, in rendered lines (tools/book/book_lines.py); the
# API appendix is a generated table, looked up rather than read.
MAX_RENDERED_LINES = 900
LONG_PAGES_ALLOWED = {"appendix-api-map.md"}


def summary_pages() -> list[Path]:
    return [SRC / m.group(1) for m in LINK.finditer((SRC / "SUMMARY.md").read_text())]


def check_openings() -> None:
    """Each chapter page opens with "What you will learn": the first line after the title."""
    for page in summary_pages():
        if not page.is_file() or page.name in REFERENCE_PAGES or page.name.startswith("appendix-"):
            continue
        lines = [line.strip() for line in page.read_text().splitlines() if line.strip()]
        if len(lines) < 2 or not lines[0].startswith("# ") or lines[1] != "## What you will learn":
            problems.append(f"{page.relative_to(ROOT)}: the first line after the title must be "
                            "'## What you will learn'")


def check_benchmark_includes() -> None:
    """A generated benchmark table (or profile) is printed by one page, once."""
    seen: dict[str, list[str]] = {}
    for page in summary_pages():
        if not page.is_file():
            continue
        for lineno, line in enumerate(page.read_text().splitlines(), 1):
            for m in INCLUDE.finditer(line):
                target = m.group(2)
                if "generated/benchmarks/" in target:
                    seen.setdefault(target, []).append(f"{page.name}:{lineno}")
    for target, where in sorted(seen.items()):
        if len(where) > 1:
            problems.append(f"{target} is printed {len(where)} times ({', '.join(where)}); "
                            "print it once and link to it")


def check_page_lengths() -> None:
    """After the build: no page longer than MAX_RENDERED_LINES, but the API appendix."""
    import book_lines  # noqa: E402  (tools/book/book_lines.py: the count `just book-lines` prints)
    for page in summary_pages():
        html_page = BOOK / "book" / f"{page.stem}.html"
        if page.name in LONG_PAGES_ALLOWED or not html_page.is_file():
            continue
        n = book_lines.count(html_page)
        if n > MAX_RENDERED_LINES:
            problems.append(f"book/src/{page.name}: {n} rendered lines, over {MAX_RENDERED_LINES}; "
                            "split it or move a section where it belongs")


def check_mdbook_build() -> None:
    r = subprocess.run(["mdbook", "build", str(BOOK)], capture_output=True, text=True)
    for line in (r.stdout + r.stderr).splitlines():
        if "WARN" in line or "ERROR" in line:
            problems.append(f"mdbook build: {line.strip()}")
    if r.returncode != 0:
        problems.append(f"mdbook build exited {r.returncode}")


CLAIMS = BOOK / "claims.toml"
PG_SOURCE = re.compile(r"^postgresql:((?:src|doc/src/sgml|contrib)/[\w./-]+\.(?:c|h|sgml|y|l|pl)"
                       r"|src/makefiles/Makefile\.\w+|src/makefiles/pgxs\.mk)$")
PGRX_SOURCE = re.compile(r"^((?:cargo-)?pgrx(?:-[a-z-]+)?-0\.18\.1)/([\w./-]+\.rs)$")


def check_claims() -> int:
    """book/claims.toml: each cited claim names an existing chapter that names the function,
    and a source in a known form."""
    if not CLAIMS.exists():
        problems.append(f"{CLAIMS.relative_to(ROOT)} is missing")
        return 0
    try:
        claims = tomllib.loads(CLAIMS.read_text()).get("claim", [])
    except tomllib.TOMLDecodeError as e:
        problems.append(f"{CLAIMS.relative_to(ROOT)}: {e}")
        return 0
    pg_config = xfunc.env()["PG_CONFIG"]
    try:
        server = Path(subprocess.run([pg_config, "--includedir-server"], capture_output=True,
                                     text=True, check=True).stdout.strip())
    except (OSError, subprocess.CalledProcessError):
        server = None
    registry = Path(os.environ.get("CARGO_HOME", Path.home() / ".cargo")) / "registry" / "src"
    for i, c in enumerate(claims, 1):
        where = f"{CLAIMS.relative_to(ROOT)}: claim {i}"
        missing = {"chapter", "claim", "source", "function"} - set(c)
        if missing:
            problems.append(f"{where}: lacks {sorted(missing)}")
            continue
        page = SRC / c["chapter"]
        if not page.is_file():
            problems.append(f"{where}: no chapter {c['chapter']}")
        elif c["function"] not in page.read_text():
            problems.append(f"{where}: {c['chapter']} does not name `{c['function']}`, the function "
                            "it cites")
        sources = c["source"] if isinstance(c["source"], list) else [c["source"]]
        pgrx_texts = []
        for source in sources:
            m, r = PG_SOURCE.match(source), PGRX_SOURCE.match(source)
            if m:
                path = m.group(1)
                if path.startswith("src/include/") and server is not None and not (
                        server / path[len("src/include/"):]).is_file():
                    problems.append(f"{where}: {path} is not a header of the server ({server})")
            elif r:
                found = sorted(registry.glob(f"*/{r.group(1)}/{r.group(2)}"))
                if not found:
                    problems.append(f"{where}: {source} is not in {registry}")
                else:
                    pgrx_texts.append(found[0].read_text())
            else:
                problems.append(f"{where}: source {source!r} is not postgresql:src/..., "
                                "postgresql:doc/src/sgml/... nor pgrx-...-0.18.1/...")
        name = c["function"].split("::")[-1].rstrip("!()")
        if pgrx_texts and not any(name in text for text in pgrx_texts):
            problems.append(f"{where}: no pgrx source it names holds `{c['function']}`")
    return len(claims)


def main() -> int:
    pages = sorted(SRC.rglob("*.md"))
    for page in pages:
        check_page(page)
    check_summary()
    check_openings()
    check_benchmark_includes()
    figure_problems = figures.check(figures.book_pages(SRC), figures.Data())[1]
    problems.extend(f"figures: {p}" for p in figure_problems)
    claims = check_claims()
    if "--no-build" not in sys.argv:
        check_mdbook_build()
        check_page_lengths()
    for p in problems:
        print(f"book-check: {p}")
    if problems:
        print(f"book-check: {len(problems)} problem(s)")
        return 1
    print(f"book-check: {len(pages)} pages, every code block included by anchor (Rust/C pairs by "
          "{{#twins}}), links resolve, measured figures rendered from the numbers; "
          f"{claims} cited claims in {CLAIMS.relative_to(ROOT)}, each source in a known form; "
          "every chapter opens with what it teaches; each benchmark table printed once"
          + ("" if "--no-build" in sys.argv else
             f"; no page over {MAX_RENDERED_LINES} rendered lines but the API appendix"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
