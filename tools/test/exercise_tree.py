#!/usr/bin/env python3
"""The scratch copy of tools/test/exercise.sh: this checkout with the chapter-1 exercise solved.

    python3 tools/test/exercise_tree.py DEST            make DEST this checkout's files (as git
                                                        sees them: ignored files left out), with
                                                        the solution in exercises/ written in
    python3 tools/test/exercise_tree.py DEST --touched  print the files of DEST whose content is
                                                        not this checkout's, one a line

A file of DEST is written only when its content changes, so that a second run leaves every
time stamp as it was and cargo and make rebuild nothing. DEST's ignored files (its target/,
build outputs, book/generated/installed/) are kept.

Where the solution goes, as the chapter says (the ANCHOR lines are the book's, left out):
  exercises/src/dynamic_loading.rs   after the reporters in src/dynamic_loading.rs
  exercises/c/dynamic_loading.c      region `include` above #include "fmgr.h" in
                                     c/dynamic_loading.c, region `my_add_one` after the reporters
  exercises/c/dynamic_loading.sql    at the end of c/dynamic_loading.sql
  exercises/sql/dynamic_loading.sql  at the end of sql/dynamic_loading.sql (the reader's test)
"""
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOLUTION = ROOT / "exercises"
ANCHOR_LINE = re.compile(r"\b(ANCHOR|ANCHOR_END):\s*\w+")


def region(text: str, name: str) -> str:
    m = re.search(rf"^[^\n]*ANCHOR: {name}\b[^\n]*\n(.*?)^[^\n]*ANCHOR_END: {name}\b[^\n]*\n",
                  text, re.S | re.M)
    if not m:
        sys.exit(f"exercise: the solution has no region {name}")
    return m.group(1)


def unanchored(text: str) -> str:
    return "".join(line for line in text.splitlines(True) if not ANCHOR_LINE.search(line))


def insert(text: str, pattern: str, addition: str, where: str, before: bool = False) -> str:
    """`addition` after the last line of `text` matching `pattern`, or before the first."""
    lines = text.splitlines(True)
    hits = [i for i, line in enumerate(lines) if re.search(pattern, line)]
    if not hits:
        sys.exit(f"exercise: {where} has no line matching {pattern}")
    at = hits[0] if before else hits[-1] + 1
    return "".join(lines[:at]) + addition + "".join(lines[at:])


def solved(rel: str, text: str) -> str:
    """The file `rel` of this checkout, `text`, as the reader leaves it after the exercise."""
    sol = lambda p: (SOLUTION / p).read_text()  # noqa: E731
    if rel == "src/dynamic_loading.rs":
        return insert(text, r"ANCHOR_END: reporters", "\n" + unanchored(sol(rel)), rel)
    if rel == "c/dynamic_loading.c":
        text = insert(text, r'^#include "fmgr\.h"', region(sol(rel), "include"), rel, before=True)
        return insert(text, r"ANCHOR_END: reporters", "\n" + region(sol(rel), "my_add_one"), rel)
    if rel in ("c/dynamic_loading.sql", "sql/dynamic_loading.sql"):
        return text + "\n" + unanchored(sol(rel))
    return text


def git_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=ROOT, check=True, capture_output=True).stdout.decode()
    return sorted({f for f in out.split("\0") if f and (ROOT / f).is_file()})


def ignored(paths: list[str]) -> set[str]:
    """Which of `paths` (relative) this checkout's .gitignore rules ignore."""
    if not paths:
        return set()
    out = subprocess.run(["git", "check-ignore", "--no-index", "-z", "--stdin"], cwd=ROOT,
                         input="\0".join(paths).encode(), capture_output=True).stdout.decode()
    return {p for p in out.split("\0") if p}


def extra_files(dest: Path, wanted: set[str]) -> list[str]:
    """Files of `dest` that are not in `wanted` and not ignored (deleted in this checkout)."""
    found = []
    for top, dirs, names in os.walk(dest):
        here = Path(top).relative_to(dest).as_posix()
        if here == ".":
            dirs[:] = [d for d in dirs if d not in ("target", ".git")]
        found += [rel for rel in (Path(here, n).as_posix().removeprefix("./") for n in names)
                  if rel not in wanted]
    return sorted(set(found) - ignored(found))


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__.strip().splitlines()[2].strip())
        return 2
    dest = Path(sys.argv[1]).resolve()
    touched_only = "--touched" in sys.argv[2:]
    files = git_files()
    changed = []
    for rel in files:
        source = (ROOT / rel).read_bytes()
        target = dest / rel
        have = target.read_bytes() if target.is_file() else None
        if touched_only:
            if have != source:
                changed.append(rel)
            continue
        want = source
        if rel.endswith((".rs", ".c", ".sql")):
            want = solved(rel, source.decode()).encode()
        if have != want:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(want)
            target.chmod((ROOT / rel).stat().st_mode & 0o777)
            changed.append(rel)
    extra = extra_files(dest, set(files))
    if touched_only:
        print("\n".join(sorted(changed + extra)))
        return 0
    for rel in extra:
        (dest / rel).unlink()
    print(f"exercise: scratch copy in {dest.relative_to(ROOT)}: {len(changed)} file(s) written, "
          f"{len(extra)} removed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
