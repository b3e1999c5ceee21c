#!/usr/bin/env python3
"""Counts the length of each page of the built book in rendered lines of text.

    python3 tools/book/book_lines.py [BOOK_HTML_DIR]     (default: book/book, what `mdbook build` writes)

A rendered line is what a text browser would print for the page's <main> element at 80
columns (as `lynx -dump -width=80` or `w3m -dump -cols 80` do): each paragraph, list item,
heading and table row is wrapped at 80 characters; each line of a code block is one line; an
image is one line; empty lines are not counted. The pages are those SUMMARY.md lists, in its
order. Only the standard library is used, so the count is the same on every machine.
"""
import re
import sys
import textwrap
from html.parser import HTMLParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
import xfunc  # noqa: E402  (tools/lib/xfunc.py: the checkout's environment)

ROOT = xfunc.ROOT
WIDTH = 80
BLOCKS = {"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "div", "blockquote", "dt", "dd",
          "table", "ul", "ol", "section", "figure", "hr", "br"}


class Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0          # inside <main> when > 0
        self.pre = 0
        self.lines: list[str] = []
        self.buf: list[str] = []
        self.skip = 0           # inside <script> or <style>

    def flush(self) -> None:
        text = " ".join("".join(self.buf).split())
        self.buf = []
        if text:
            self.lines += textwrap.wrap(text, WIDTH) or [""]

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "main":
            self.depth += 1
            return
        if not self.depth:
            return
        if tag in ("script", "style"):
            self.skip += 1
            return
        if tag == "pre":
            self.flush()
            self.pre += 1
        elif tag in BLOCKS and not self.pre:
            self.flush()
        elif tag == "img":
            self.flush()
            self.lines.append(f"[{a.get('alt', 'image')}]")
        elif tag in ("td", "th"):
            self.buf.append(" | ")

    def handle_endtag(self, tag):
        if tag == "main" and self.depth:
            self.flush()
            self.depth -= 1
            return
        if not self.depth:
            return
        if tag in ("script", "style") and self.skip:
            self.skip -= 1
            return
        if tag == "pre" and self.pre:
            code = "".join(self.buf)
            self.buf = []
            self.lines += code.strip("\n").split("\n")
            self.pre -= 1
        elif tag in BLOCKS and not self.pre:
            self.flush()

    def handle_data(self, data):
        if self.depth and not self.skip:
            self.buf.append(data)


def count(html: Path) -> int:
    t = Text()
    t.feed(html.read_text(errors="replace"))
    t.flush()
    return sum(1 for line in t.lines if line.strip())


def main() -> int:
    book = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "book" / "book"
    summary = (ROOT / "book" / "src" / "SUMMARY.md").read_text()
    total = 0
    for m in re.finditer(r"\[([^\]]+)\]\(([^)\s]+)\.md\)", summary):
        html = book / f"{m.group(2)}.html"
        if not html.is_file():
            print(f"{'-':>6}  {m.group(2)}.html (not built)")
            continue
        n = count(html)
        total += n
        print(f"{n:6d}  {m.group(2)}.html")
    print(f"{total:6d}  total")
    return 0


if __name__ == "__main__":
    sys.exit(main())
