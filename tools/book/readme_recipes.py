#!/usr/bin/env python3
"""Writes the README's table of recipes from `just --list`: one row per recipe, by group, with
the recipe's own one-line comment, so that the table says what the justfile says.

    python3 tools/book/readme_recipes.py           rewrite the table in README.md (just readme-recipes)
    python3 tools/book/readme_recipes.py --check   fail when it is stale (just readme-recipes-check)

The table sits between the two marker comments BEGIN and END below; the rest of README.md is
left as it is.
"""
import difflib
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
import xfunc  # noqa: E402  (tools/lib/xfunc.py: the checkout's environment)

README = xfunc.ROOT / "README.md"
BEGIN = "<!-- recipes: written by `just readme-recipes` (part of `just gen`) from `just --list`; do not edit -->"
END = "<!-- end of recipes -->"


def recipes() -> list[tuple[str, str, str]]:
    """(group, recipe with its parameters, comment) in the justfile's order."""
    just = shutil.which("just")
    if just is None:
        sys.exit("readme-recipes: just not found: run bash tools/cluster/setup.sh")
    r = xfunc.run([just, "--justfile", str(xfunc.ROOT / "justfile"), "--list", "--unsorted",
                   "--list-heading", "", "--list-prefix", ""])
    if r.returncode != 0:
        sys.exit(f"readme-recipes: just --list failed:\n{r.stderr}")
    rows, group = [], ""
    for line in r.stdout.splitlines():
        if not line.strip():
            continue
        if line.startswith("[") and line.endswith("]"):
            group = line[1:-1]
            continue
        recipe, sep, doc = line.partition(" # ")
        if not sep:
            sys.exit(f"readme-recipes: the recipe {recipe.strip()} has no comment in the justfile")
        rows.append((group, " ".join(recipe.split()), doc.strip()))
    return rows


def table() -> str:
    lines = [BEGIN, "| group | recipe | what it does |", "|---|---|---|"]
    previous = None
    for group, recipe, doc in recipes():
        shown = f"**{group}**" if group != previous else ""
        previous = group
        lines.append(f"| {shown} | `just {recipe}` | {doc.replace('|', '&#124;')} |")
    lines.append(END)
    return "\n".join(lines)


def main() -> int:
    text = README.read_text()
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        print(f"readme-recipes: README.md lacks the markers\n  {BEGIN}\n  {END}")
        return 1
    new = text[:start] + table() + text[end + len(END):]
    if "--check" in sys.argv[1:]:
        if new != text:
            diff = difflib.unified_diff(text.splitlines(), new.splitlines(), "README.md",
                                        "from just --list", n=0, lineterm="")
            print("\n".join(diff))
            print("readme-recipes: README.md's table of recipes is stale: run just readme-recipes")
            return 1
        print("readme-recipes: README.md's table of recipes is what just --list says")
        return 0
    if new != text:
        README.write_text(new)
        print("readme-recipes: wrote README.md's table of recipes")
    else:
        print("readme-recipes: README.md's table of recipes is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
