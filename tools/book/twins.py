#!/usr/bin/env python3
"""mdbook preprocessor: a Rust/C pair shown side by side, from one line.

A line of a page that holds only

    {{#twins base_types:add_one_int4}}

becomes a `<div class="twins">` (book/theme/twins.css sets the two columns) with a Rust side
that includes `src/base_types.rs`, anchor `add_one_int4`, and a C side that includes
`c/base_types.c`, same anchor, each under a label naming its file ("Rust: `src/base_types.rs`",
"C: `c/base_types.c`"). The forms:

    {{#twins STEM:ANCHOR}}                 src/STEM.rs and c/STEM.c, the same anchor on both
    {{#twins STEM:RUST_ANCHOR:C_ANCHOR}}   the same files, a different anchor on each side
    {{#twins LEFT | RIGHT}}                any two files: each side is PATH or PATH:ANCHOR, the
                                           path from the repository root (the book's parent),
                                           e.g. {{#twins src/lib.rs:pg_init | c/xfunc_c.c:pg_init}}

A label in double quotes may follow each side (in the STEM forms, which name both sides at
once, two labels follow), replacing "Rust: `PATH`" / "C: `PATH`"; text in backticks shows as
code: {{#twins shared_memory:init "Rust" "C"}}. The code block's language comes from the file
name (.rs rust, .c/.h c, .sql sql, .sh sh, .txt/.control text, justfile make).

The directive must stand alone on its line (indented as a list item's content is, if need be);
to show it in prose, escape it as mdbook's own helpers are: `\\{{#twins ...}}`. It writes
`{{#include PATH:ANCHOR}}` lines, which mdbook's `links` preprocessor then expands, so it must
run before `links` (book/book.toml: `before = ["links"]`); a twins directive inside an included
file is therefore not expanded.

Where mdbook only warns (a missing file) or says nothing at all (an anchor the file does not
define), this preprocessor fails the build: every problem is printed as
`twins: PAGE:LINE: {{#twins ...}}: FILE ...`, and it exits 1. An anchor must be opened and
closed as mdbook finds them (`ANCHOR: name`, `ANCHOR_END: name`), and not be empty.

mdbook runs it as `python3 ../tools/book/twins.py` from the book's root: first with `supports
RENDERER` (it supports every renderer: exit 0), then with the JSON [context, book] on stdin,
answering the book on stdout. tools/book/book_check.py and tools/book/api_map.py import it to read the
pages as mdbook will.
"""
import html
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

DIRECTIVE = re.compile(r"^(?P<indent>[ \t]*)\{\{#twins\s+(?P<body>[^}]*?)\s*\}\}[ \t]*$")
ANY_DIRECTIVE = re.compile(r"(?<!\\)\{\{#twins\b")
TOKEN = re.compile(r'"[^"]*"|\||[^\s"|]+')
STEM = re.compile(r"[A-Za-z0-9_]+")
ANCHOR_NAME = re.compile(r"[\w-]+")
# As mdbook 0.5's links preprocessor finds anchors (take_lines.rs).
ANCHOR_START = re.compile(r"ANCHOR:\s*([\w-]+)")
ANCHOR_END = re.compile(r"ANCHOR_END:\s*([\w-]+)")
LANGUAGES = {".rs": "rust", ".c": "c", ".h": "c", ".sql": "sql", ".sh": "sh", ".txt": "text",
             ".control": "text", "justfile": "make"}


class TwinsError(Exception):
    pass


@dataclass
class Side:
    path: str  # from the repository root
    anchor: str | None
    label: str  # HTML

    @property
    def language(self) -> str:
        name = Path(self.path).name
        return LANGUAGES.get(name) or LANGUAGES[Path(name).suffix]


def label_html(text: str) -> str:
    """A label as written in the directive: `code` spans become <code>, the rest is escaped."""
    parts = text.split("`")
    if len(parts) % 2 == 0:
        raise TwinsError(f"label {text!r} has an unclosed `")
    return "".join(f"<code>{html.escape(p, quote=False)}</code>" if i % 2
                   else html.escape(p, quote=False) for i, p in enumerate(parts))


def parse(body: str) -> tuple[Side, Side]:
    """The two sides a directive's body names (what is between `{{#twins ` and `}}`)."""
    tokens = TOKEN.findall(body)
    if TOKEN.sub("", body).strip():
        raise TwinsError("a label must be in double quotes, closed")
    labels = [t[1:-1] for t in tokens if t.startswith('"')]
    if "|" not in tokens:
        if len(tokens) not in (1, 3) or tokens[0].startswith('"') or len(labels) != len(tokens) - 1:
            raise TwinsError('expected STEM:ANCHOR[:C_ANCHOR], optionally followed by two '
                             '"labels", or LEFT | RIGHT')
        stem, *anchors = tokens[0].split(":")
        if not STEM.fullmatch(stem) or len(anchors) not in (1, 2):
            raise TwinsError(f"{tokens[0]!r} is not STEM:ANCHOR or STEM:RUST_ANCHOR:C_ANCHOR "
                             "(a stem names src/STEM.rs and c/STEM.c; for other files write "
                             "LEFT | RIGHT)")
        rust, c = anchors[0], anchors[-1]
        sides = [(f"src/{stem}.rs", rust), (f"c/{stem}.c", c)]
    else:
        if tokens.count("|") != 1:
            raise TwinsError("more than two sides")
        bar = tokens.index("|")
        halves = [tokens[:bar], tokens[bar + 1:]]
        sides, labels = [], []
        for half in halves:
            if not half or half[0].startswith('"') or len(half) > 2 or (
                    len(half) == 2 and not half[1].startswith('"')):
                raise TwinsError('each side is PATH[:ANCHOR], optionally followed by a "label"')
            path, colon, anchor = half[0].partition(":")
            sides.append((path, anchor if colon else None))
            if len(half) == 2:
                labels.append(half[1][1:-1])
        if len(labels) == 1:
            raise TwinsError("a label on one side only: label both sides or neither")
    result = []
    for (path, anchor), prefix, i in zip(sides, ("Rust", "C"), (0, 1), strict=True):
        p = Path(path)
        if p.is_absolute() or ".." in p.parts or not path:
            raise TwinsError(f"{path!r}: a path from the repository root, inside it")
        if anchor is not None and not ANCHOR_NAME.fullmatch(anchor):
            raise TwinsError(f"{anchor!r} is not an anchor name (letters, digits, _ and -)")
        if anchor is not None and anchor.isdigit():
            raise TwinsError(f"{path}:{anchor}: mdbook would read a line number; use an anchor")
        if p.name not in LANGUAGES and p.suffix not in LANGUAGES:
            raise TwinsError(f"{path}: no code block language for this kind of file (known: "
                             f"{', '.join(sorted(LANGUAGES))})")
        label = label_html(labels[i]) if labels else f"{prefix}: <code>{html.escape(path)}</code>"
        result.append(Side(path, anchor, label))
    return result[0], result[1]


def anchored_lines(text: str, anchor: str) -> list[str] | None:
    """The lines of anchor `anchor`, as mdbook includes them; None if it is not defined.
    Raises TwinsError when it is opened but never closed."""
    lines, found = [], False
    for line in text.splitlines():
        if found:
            end = ANCHOR_END.search(line)
            if end and end.group(1) == anchor:
                return lines
            if not end and not ANCHOR_START.search(line):
                lines.append(line)
        else:
            start = ANCHOR_START.search(line)
            found = bool(start and start.group(1) == anchor)
    if found:
        raise TwinsError(f"has `ANCHOR: {anchor}` but no `ANCHOR_END: {anchor}`")
    return None


def side_problems(side: Side, repo: Path) -> list[str]:
    """What is wrong with one side's file and anchor (nothing: [])."""
    f = repo / side.path
    if not f.is_file():
        hint = " (just install writes it)" if "generated/installed/" in side.path else ""
        return [f"{side.path} does not exist{hint}"]
    if side.anchor is None:
        return []
    try:
        region = anchored_lines(f.read_text(errors="replace"), side.anchor)
    except TwinsError as e:
        return [f"{side.path} {e}"]
    if region is None:
        return [f"{side.path} has no anchor '{side.anchor}' (`ANCHOR: {side.anchor}`)"]
    if not any(line.strip() for line in region):
        return [f"{side.path}: anchor '{side.anchor}' is empty"]
    return []


def render(left: Side, right: Side, page_dir: Path, repo: Path) -> list[str]:
    """The lines a directive stands for, including files relative to the page's directory."""
    out = ['<div class="twins">']
    for side in (left, right):
        target = os.path.relpath(repo / side.path, page_dir)
        if side.anchor:
            target += ":" + side.anchor
        out += ["<div>", f'<p class="twin-label">{side.label}</p>', "",
                f"```{side.language}", f"{{{{#include {target}}}}}", "```", "", "</div>"]
    out.append("</div>")
    return out


def directives(text: str) -> list[tuple[int, str, str | None]]:
    """(line number, indentation, body) of each directive of a page; body None for a line that
    mentions `{{#twins` without being a directive on its own."""
    found = []
    for lineno, line in enumerate(text.split("\n"), 1):
        if ANY_DIRECTIVE.search(line):
            m = DIRECTIVE.match(line)
            found.append((lineno, m.group("indent"), m.group("body")) if m else (lineno, "", None))
    return found


def expand(text: str, page: Path, repo: Path, where: str) -> tuple[str, list[str]]:
    """A page's text with every directive expanded, and the problems found ("PAGE:LINE: ...",
    with `where` naming the page). `page` is the page's file on disk."""
    lines = text.split("\n")
    problems = []
    for lineno, indent, body in reversed(directives(text)):
        at = f"{where}:{lineno}"
        if body is None:
            problems.append(f"{at}: a {{{{#twins ...}}}} directive must stand alone on its line "
                            "(escape it as \\{{#twins to show it)")
            continue
        try:
            left, right = parse(body)
        except TwinsError as e:
            problems.append(f"{at}: {{{{#twins {body}}}}}: {e}")
            continue
        bad = side_problems(left, repo) + side_problems(right, repo)
        problems += [f"{at}: {{{{#twins {body}}}}}: {b}" for b in reversed(bad)]
        if not bad:
            lines[lineno - 1:lineno] = [indent + line if line else line
                                        for line in render(left, right, page.parent, repo)]
    return "\n".join(lines), problems[::-1]


def chapters(items: list) -> list[dict]:
    """Every chapter of mdbook's book JSON, sub-chapters included."""
    found = []
    for item in items:
        if isinstance(item, dict) and "Chapter" in item:
            found.append(item["Chapter"])
            found += chapters(item["Chapter"].get("sub_items", []))
    return found


def main() -> int:
    if len(sys.argv) > 1:
        if sys.argv[1] == "supports":
            return 0  # the directive becomes Markdown and HTML every renderer passes on
        print(f"usage: {sys.argv[0]} [supports RENDERER] < [context, book]", file=sys.stderr)
        return 2
    context, book = json.load(sys.stdin)
    # mdbook runs preprocessors from the book's root.
    root = Path(context["root"]) if Path(context["root"]).is_absolute() else Path.cwd()
    src = root / context["config"].get("book", {}).get("src", "src")
    repo = root.parent
    problems = []
    for ch in chapters(book.get("items", book.get("sections", []))):  # "sections" before 0.5
        if not ch.get("path"):
            continue  # a draft chapter: no file, no content
        page = src / (ch.get("source_path") or ch["path"])
        where = os.path.relpath(page, repo) if page.is_relative_to(repo) else str(page)
        ch["content"], found = expand(ch["content"], page, repo, where)
        problems += found
    if problems:
        for p in problems:
            print(f"twins: {p}", file=sys.stderr)
        print(f"twins: {len(problems)} problem(s); the book is not built", file=sys.stderr)
        return 1
    sys.stdout.write(json.dumps(book))
    return 0


if __name__ == "__main__":
    sys.exit(main())
