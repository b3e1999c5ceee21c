#!/usr/bin/env python3
"""mdbook preprocessor: the book's measured figures, rendered from the committed numbers.

A figure or comparison in the prose that comes from a measurement is written as an expression
over the numbers the measurements committed (book/generated/benchmarks/*.json, srf-memory.txt,
the callgrind profiles: their keys are described in tools/bench/bench_data.py and listed by
`python3 tools/book/figures.py --list [SOURCE]`), never typed:

    {{#fig EXPR}}      the value of EXPR, in the text: a number, or words chosen by the data
    {{#check EXPR}}    nothing, but the build fails unless EXPR is true: a statement the prose
                       makes in words, held against the numbers
    {{#missed SOURCE:PATTERN}}
                       nothing; says that the text around it explains the cells of a bench's
                       table, marked **missed**, whose keys match PATTERN (at least one must be)
    {{#missed SOURCE:PATTERN ?}}
                       the same for cells that may be met or missed from run to run: the text
                       around it chooses its words with the numbers, and none need be missed
    {{#cited TEXT}}    TEXT: a figure quoted from a source the text names (not ours, no data)
    {{#let NAME = EXPR}}
                       nothing; names EXPR's value for the page's other directives, which
                       write NAME where they would write EXPR (a page's lets are evaluated
                       first, in order, each seeing the ones above it)

For example `{{#fig pct(shared_log:designs/open_per_line/rows/1/rust_write_loop)}}` renders
"17 %", `{{#fig if(per_call:time/copytext/ns/rust < per_call:time/copytext/ns/c, "faster",
"slower")}}` renders the word the run supports.

EXPR: numbers, "strings", references SOURCE:KEY, the page's NAMEs, arithmetic (+ - * /, + also joins strings),
comparisons (< <= > >= == !=), and, or, not, parentheses and these functions:

    num(x[, d])          x with thousands separators and d decimals (default: 0 for a whole
                         number, else 2)
    pct(x[, d])          x as a percentage, d decimals (default 0): 0.17 -> "17 %"
    range(v[, d])        "lo to hi" of a set of values (just "lo" when both print the same)
    pctrange(v[, d])     the same as percentages: "6 to 8 %"
    min(v, ...) max(v, ...)        of numbers and sets (not-measured values left out)
    argmin(v) argmax(v)  the wildcard part of the key of the smallest / largest value
    all(v) any(v)        of a set of comparisons (not-measured values left out)
    count(v, ...)        how many of the values are true (or measured, for numbers)
    which(v[, t])        the wildcard parts of the keys whose value is true: "2, 4 and 8";
                         with a template t, each written into it: which(v, "{2} clients ({1})")
                         puts the second wildcard part at {2}, the first at {1}
    median(v, ...)       of numbers and sets
    only(v, m)           the values of the set v where the set of comparisons m is true
    union(v, ...)        the sets as one
    known(x)             whether x was measured (not null); of a set: a set
    if(c, a, b)          a when c is true, else b (only the branch taken is evaluated)
    abs(x)

A KEY (or SOURCE) holding `*`, `?`, `[...]` or `{a,b}` is a pattern and names the set of the
values whose keys match it, segment by segment (`*` never spans a `/`); a pattern that matches
nothing, a key the source does not have, a value that was not measured where a number is
needed, and a {{#check}} that is false each fail the build. Put spaces around an operator that
follows a reference (a `/` inside one is part of the key).

The build also fails on:
  - a figure typed by hand: a percentage, a ratio (`3 ×`, `2.6 times as`), a time per call,
    a bandwidth, a count per second, a number of millions, a fraction of something (`a seventh
    of`), in the prose of any page, outside code and the directives above;
  - a cell of a generated benchmark table marked **missed** (a *not resolved* one, whose
    spread holds its target, need not be) that no {{#missed}} on a page that includes that
    table explains, and a {{#missed}} whose pattern matches no missed cell (the
    miss it explains is gone: the text is stale), or that stands on a page without the table.

`python3 tools/book/figures.py --render 15-benchmarks.md` prints a page as rendered.
`python3 tools/book/figures.py --self-test` plants such faults in a copy of the book and its
numbers and fails unless the check reports each one (`just book-check` runs it).

As tools/book/twins.py, mdbook runs it from the book's root before `links` (book/book.toml): with
`supports RENDERER`, then with [context, book] on stdin. A directive may stand anywhere in a
line, and span lines; a line left empty by {{#check}}s or {{#missed}}s is dropped; escape a
directive to show it, `\\{{#fig ...}}`. tools/book/book_check.py imports it to check the pages
as mdbook reads them.
"""
import difflib
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import bench_data  # noqa: E402  (the numbers' sources, keys, targets and verdicts)

ROOT = Path(__file__).resolve().parents[2]
KINDS = ("fig", "check", "missed", "cited", "let")
DIRECTIVE = re.compile(r"(?<!\\)\{\{#(?P<kind>" + "|".join(KINDS) + r")\b"
                       r"(?P<body>(?:[^{}]|\{[^{}]*\})*?)\}\}")
FENCE = re.compile(r"^\s*(```+|~~~+)")
NOTHING = "\x00"  # what a {{#check}} or {{#missed}} leaves, until its line is judged

# What a measured figure typed by hand looks like (see the docstring).
HAND_FIGURE = re.compile(r"""
    \d[\d,.]*\s?%
  | \d[\d,.]*\s?×(?!\s?\d)
  | \d[\d,.]*\s+times\s+(?:as|faster|slower|more|less|fewer|that|the)\b
  | \d[\d,.]*\s?(?:ns|µs|GB/s|MB/s)(?!\w)
  | \d[\d,.]*\s+(?:million|thousand|billion)\b
  | \d[\d,.]*\s+(?:lines|calls|rows)\s+(?:a|per)\s+second
  | \b(?:a|one)\s+(?:half|third|quarter|fifth|sixth|seventh|eighth|ninth|tenth)\s+of\b
  | \b(?:twice|half|thrice)\s+as\b
""", re.X | re.I)
CODE_SPAN = re.compile(r"(`+).+?\1")
HTML_COMMENT = re.compile(r"<!--.*?-->")
LINK_TARGET = re.compile(r"\]\([^)]*\)")


class FigureError(Exception):
    pass


# --- the numbers ---------------------------------------------------------------------------------

class Data:
    """The sources' keys, read once; the self-test edits copies of them."""

    def __init__(self, files: dict[str, Path] | None = None):
        self.files = files or bench_data.source_files()
        self._keys: dict[str, dict] = {}
        self._raw: dict[str, dict] = {}

    def sources(self) -> list[str]:
        return sorted([*self.files, "targets"])

    def keys(self, source: str) -> dict:
        if source not in self._keys:
            if source not in self.sources():
                raise FigureError(f"no source {source!r} (sources: {', '.join(self.sources())})")
            try:
                self._keys[source] = bench_data.load(source, self.files)
            except (OSError, ValueError) as e:
                raise FigureError(f"{source}: cannot read {self.files.get(source)}: {e}") from e
        return self._keys[source]

    def raw(self, bench: str) -> dict:
        if bench not in self._raw:
            self._raw[bench] = bench_data.load_json(bench, self.files)
        return self._raw[bench]

    def missed(self, bench: str) -> list[str]:
        """The keys of the cells of a bench's tables marked **missed** (not those whose spread
        holds the target: not resolved, which a {{#missed ... ?}} may explain)."""
        keys, raw = self.keys(bench), self.raw(bench)
        out = []
        for key, value in keys.items():
            t, state = bench_data.judge(bench, key, value, raw, keys)
            if t is not None and state is False:
                out.append(key)
        return out


@dataclass
class Vec:
    """The values a pattern names, each with the wildcard part of its key."""
    items: list[tuple[str, object]]


def lookup(data: Data, source: str, key: str) -> object:
    sources = [s for s in data.sources() if bench_data.matches(source, s)]
    if not bench_data.is_pattern(source) and not bench_data.is_pattern(key):
        keys = data.keys(source)
        if key not in keys:
            near = difflib.get_close_matches(key, list(keys), n=3)
            raise FigureError(f"{source} has no key {key!r}"
                              + (f" (did you mean {', '.join(near)}?)" if near else ""))
        return keys[key]
    items = []
    for s in sources:
        for k, v in data.keys(s).items():
            if bench_data.matches(key, k):
                label = bench_data.wild_parts(key, k)
                if bench_data.is_pattern(source):
                    label = [s] + label
                items.append(("/".join(label), v))
    if not items:
        raise FigureError(f"{source}:{key} matches no key")
    return Vec(items)


# --- expressions -------------------------------------------------------------------------------

REF = re.compile(r"(?:[a-z0-9_*?\[\]]|\{[a-z0-9_,*]*\})+:(?=[^\s:])")
NUMBER = re.compile(r"\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
NAME = re.compile(r"[a-z_][a-z0-9_]*")
OPERATOR = re.compile(r"<=|>=|==|!=|[-+*/<>(),]")
KEY_CHARS = re.compile(r"[\w/*?{},.\[\]-]+")


def tokens(text: str) -> list[tuple[str, object]]:
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c.isspace():
            i += 1
            continue
        if c == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise FigureError("a string is not closed")
            out.append(("str", text[i + 1:end]))
            i = end + 1
            continue
        m = REF.match(text, i)
        if m:
            j, depth = m.end(), 0
            while j < len(text) and not text[j].isspace() and (
                    depth or text[j] not in "),"):
                depth += {"{": 1, "}": -1}.get(text[j], 0)
                j += 1
            key = text[m.end():j]
            if not KEY_CHARS.fullmatch(key):
                raise FigureError(f"{text[i:j]!r} is not SOURCE:KEY (spaces around operators)")
            out.append(("ref", (m.group()[:-1], key)))
            i = j
            continue
        for kind, rx in (("num", NUMBER), ("name", NAME), ("op", OPERATOR)):
            m = rx.match(text, i)
            if m:
                out.append((kind, float(m.group()) if kind == "num" else m.group()))
                i = m.end()
                break
        else:
            raise FigureError(f"unexpected {text[i:i + 10]!r}")
    return out


class Parser:
    """EXPR -> a tree of tuples: ("num", x) ("str", s) ("ref", source, key) ("call", name,
    [args]) ("bin", op, a, b) ("neg", a) ("not", a)."""

    def __init__(self, text: str):
        self.toks, self.i = tokens(text), 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None)

    def take(self, kind=None, value=None):
        tok = self.peek()
        if tok[0] is None or (kind and tok[0] != kind) or (value and tok[1] != value):
            want = value or kind or "more"
            raise FigureError(f"expected {want!r}, found {tok[1]!r}" if tok[0] else
                              f"expected {want!r} at the end")
        self.i += 1
        return tok

    def parse(self):
        tree = self.expr()
        if self.peek()[0] is not None:
            raise FigureError(f"unexpected {self.peek()[1]!r}")
        return tree

    def expr(self):
        return self.binary(("or",), self.conj)

    def conj(self):
        return self.binary(("and",), self.negation)

    def negation(self):
        if self.peek() == ("name", "not"):
            self.take()
            return ("not", self.negation())
        return self.comparison()

    def comparison(self):
        a = self.sum()
        if self.peek()[0] == "op" and self.peek()[1] in ("<", "<=", ">", ">=", "==", "!="):
            op = self.take()[1]
            return ("bin", op, a, self.sum())
        return a

    def sum(self):
        return self.binary(("+", "-"), self.product)

    def product(self):
        return self.binary(("*", "/"), self.unary)

    def binary(self, ops, operand):
        a = operand()
        while self.peek()[1] in ops and self.peek()[0] in ("op", "name"):
            op = self.take()[1]
            a = ("bin", op, a, operand())
        return a

    def unary(self):
        if self.peek() == ("op", "-"):
            self.take()
            return ("neg", self.unary())
        return self.atom()

    def atom(self):
        kind, value = self.peek()
        if kind in ("num", "str"):
            self.take()
            return (kind, value)
        if kind == "ref":
            self.take()
            return ("ref", *value)
        if kind == "name":
            self.take()
            if self.peek() != ("op", "("):
                if value in ("and", "or", "not"):
                    raise FigureError(f"unexpected {value!r}")
                return ("var", value)
            if value not in FUNCTIONS and value != "if":
                raise FigureError(f"no function {value!r} (functions: if, "
                                  f"{', '.join(sorted(FUNCTIONS))})")
            self.take("op", "(")
            args = []
            if self.peek() != ("op", ")"):
                args.append(self.expr())
                while self.peek() == ("op", ","):
                    self.take()
                    args.append(self.expr())
            self.take("op", ")")
            return ("call", value, args)
        if (kind, value) == ("op", "("):
            self.take()
            tree = self.expr()
            self.take("op", ")")
            return tree
        raise FigureError(f"unexpected {value!r}" if kind else "the expression ends too soon")


def is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def scalar_op(op: str, a, b):
    if op in ("and", "or"):
        if not isinstance(a, bool) or not isinstance(b, bool):
            raise FigureError(f"{op} needs two comparisons, not {a!r} and {b!r}")
        return (a and b) if op == "and" else (a or b)
    if a is None or b is None:
        return None  # not measured: so is anything computed from it
    if op == "+" and isinstance(a, str) and isinstance(b, str):
        return a + b
    if op in ("==", "!=") and isinstance(a, str) and isinstance(b, str):
        return (a == b) if op == "==" else (a != b)
    if not is_number(a) or not is_number(b):
        raise FigureError(f"{op} needs numbers, not {a!r} and {b!r}")
    if op == "/" and b == 0:
        raise FigureError("division by zero")
    return {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "/": lambda: a / b,
            "<": lambda: a < b, "<=": lambda: a <= b, ">": lambda: a > b, ">=": lambda: a >= b,
            "==": lambda: a == b, "!=": lambda: a != b}[op]()


def elementwise(f, *args):
    """f over scalars, or over the values of sets (all sets of the same keys) with scalars."""
    vecs = [a for a in args if isinstance(a, Vec)]
    if not vecs:
        return f(*args)
    labels = [label for label, _ in vecs[0].items]
    for v in vecs[1:]:
        if [label for label, _ in v.items] != labels:
            raise FigureError("two sets of different keys: "
                              f"{', '.join(labels)} and {', '.join(label for label, _ in v.items)}")
    return Vec([(label, f(*[a.items[i][1] if isinstance(a, Vec) else a for a in args]))
                for i, label in enumerate(labels)])


def values(*args, numbers=True) -> list:
    """The measured values of scalars and sets, flattened."""
    out = []
    for a in args:
        out += [v for _, v in a.items] if isinstance(a, Vec) else [a]
    out = [v for v in out if v is not None]
    if not out:
        raise FigureError("nothing measured among " + ", ".join(map(repr, args)))
    bad = [v for v in out if numbers and not is_number(v)]
    if bad:
        raise FigureError(f"not a number: {bad[0]!r}")
    return out


def number(x, what: str) -> float:
    if x is None:
        raise FigureError(f"{what}: the value was not measured (null); guard it with known()")
    if isinstance(x, Vec):
        raise FigureError(f"{what}: a set of values where one is needed (take min, max, ...)")
    if not is_number(x):
        raise FigureError(f"{what}: not a number: {x!r}")
    return x


def fmt_num(x, d=None) -> str:
    x = number(x, "num")
    if d is None:
        d = 0 if float(x).is_integer() else 2
    text = f"{x:,.{int(d)}f}"
    return text[1:] if re.fullmatch(r"-0[.,0]*", text) else text


def fmt_pct(x, d=0) -> str:
    return f"{fmt_num(number(x, 'pct') * 100, d)} %"


def english(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def f_range(v, d=None, pct=False) -> str:
    vals = values(v)
    scale = 100 if pct else 1
    lo, hi = fmt_num(min(vals) * scale, d), fmt_num(max(vals) * scale, d)
    text = lo if lo == hi else f"{lo} to {hi}"
    return text + " %" if pct else text


def arg_extreme(v, pick) -> str:
    if not isinstance(v, Vec):
        raise FigureError("argmin/argmax need a set of values (a pattern)")
    measured = [(label, x) for label, x in v.items if x is not None]
    if not measured:
        raise FigureError("nothing measured")
    return pick(measured, key=lambda item: number(item[1], "argmin/argmax"))[0]


def bools(v) -> list[bool]:
    out = values(v, numbers=False)
    if not all(isinstance(b, bool) for b in out):
        raise FigureError("all/any/which need comparisons")
    return out


def f_which(v, template: str = "{1}") -> str:
    if not isinstance(v, Vec):
        raise FigureError("which needs a set of comparisons (a pattern)")
    bools(v)
    chosen = [label for label, b in v.items if b is True]
    if not chosen:
        raise FigureError("which: none is true (guard it with any())")

    def fill(label: str) -> str:
        parts = label.split("/")
        try:
            return re.sub(r"\{(\d)\}", lambda m: parts[int(m.group(1)) - 1], template)
        except IndexError:
            raise FigureError(f"which: {template!r} names a part that {label!r} lacks") from None
    return english([fill(label) for label in chosen])


def f_only(v, mask) -> Vec:
    if not isinstance(v, Vec) or not isinstance(mask, Vec):
        raise FigureError("only(v, mask) needs two sets")
    elementwise(lambda a, b: None, v, mask)  # the same keys
    chosen = [(label, x) for (label, x), (_, b) in zip(v.items, mask.items, strict=True)
              if b is True]
    if not chosen:
        raise FigureError("only: the mask chooses nothing (guard it with any())")
    return Vec(chosen)


def f_union(*args) -> Vec:
    if not all(isinstance(a, Vec) for a in args):
        raise FigureError("union needs sets")
    return Vec([item for a in args for item in a.items])


def f_median(*args) -> float:
    vals = sorted(values(*args))
    mid = len(vals) // 2
    return vals[mid] if len(vals) % 2 else (vals[mid - 1] + vals[mid]) / 2


def f_count(*v) -> int:
    out = values(*v, numbers=False)
    return sum(1 for b in out if b is True) if all(isinstance(b, bool) for b in out) else len(out)


FUNCTIONS = {
    "num": fmt_num,
    "pct": fmt_pct,
    "range": f_range,
    "pctrange": lambda v, d=0: f_range(v, d, pct=True),
    "median": f_median,
    "only": f_only,
    "union": f_union,
    "min": lambda *a: min(values(*a)),
    "max": lambda *a: max(values(*a)),
    "argmin": lambda v: arg_extreme(v, min),
    "argmax": lambda v: arg_extreme(v, max),
    "all": lambda v: all(bools(v)),
    "any": lambda v: any(bools(v)),
    "count": f_count,
    "which": f_which,
    "known": lambda x: elementwise(lambda y: y is not None, x),
    "abs": lambda x: elementwise(lambda y: None if y is None else abs(number(y, "abs")), x),
}


def evaluate(tree, data: Data, seen: dict, names: dict | None = None):
    """The value of a tree; `seen` collects the references read (for the error messages),
    `names` holds the page's {{#let}}s."""
    names = names if names is not None else {}
    kind = tree[0]
    if kind in ("num", "str"):
        return tree[1]
    if kind == "var":
        if tree[1] not in names:
            raise FigureError(f"no {{{{#let {tree[1]} = ...}}}} on this page (nor a function: "
                              "a function's name is followed by its arguments in parentheses)")
        seen[tree[1]] = names[tree[1]]
        return names[tree[1]]
    if kind == "ref":
        value = lookup(data, tree[1], tree[2])
        seen[f"{tree[1]}:{tree[2]}"] = value
        return value
    if kind == "neg":
        return elementwise(lambda x: None if x is None else -number(x, "-"),
                           evaluate(tree[1], data, seen, names))
    if kind == "not":
        return elementwise(lambda x: None if x is None else not x,
                           evaluate(tree[1], data, seen, names))
    if kind == "bin":
        a, b = evaluate(tree[2], data, seen, names), evaluate(tree[3], data, seen, names)
        return elementwise(lambda x, y: scalar_op(tree[1], x, y), a, b)
    name, args = tree[1], tree[2]
    if name == "if":
        if len(args) != 3:
            raise FigureError("if(condition, then, else)")
        c = evaluate(args[0], data, seen, names)
        if not isinstance(c, bool):
            raise FigureError(f"if: the condition is {c!r}, not true or false")
        return evaluate(args[1] if c else args[2], data, seen, names)
    try:
        return FUNCTIONS[name](*[evaluate(a, data, seen, names) for a in args])
    except TypeError as e:
        raise FigureError(f"{name}: {e}") from e


def render(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        raise FigureError("a comparison, not a figure: choose words with if(), or use {{#check}}")
    return fmt_num(number(value, "figure"))


def shown(seen: dict) -> str:
    def one(v):
        if isinstance(v, Vec):
            return "{" + ", ".join(f"{label}: {x}" for label, x in v.items) + "}"
        return repr(v) if v is None or isinstance(v, str) else f"{v:g}"
    return "; ".join(f"{k} = {one(v)}" for k, v in seen.items())


# --- pages ------------------------------------------------------------------------------------

@dataclass
class Page:
    where: str  # the page, as messages name it
    text: str


@dataclass
class Found:
    page: Page
    lineno: int
    kind: str
    body: str

    @property
    def at(self) -> str:
        return f"{self.page.where}:{self.lineno}: {{{{#{self.kind} {self.body}}}}}"


def directives(page: Page) -> list[Found]:
    return [Found(page, page.text.count("\n", 0, m.start()) + 1, m.group("kind"),
                  m.group("body").strip())
            for m in DIRECTIVE.finditer(page.text)]


def hand_figures(page: Page) -> list[str]:
    """Measured figures typed by hand in a page's prose (outside code and directives)."""
    problems, fence = [], None
    # A directive (which may span lines) becomes a word without digits, its lines kept.
    text = DIRECTIVE.sub(lambda m: " FIGURE " + "\n" * m.group().count("\n"), page.text)
    for lineno, line in enumerate(text.split("\n"), 1):
        m = FENCE.match(line)
        if m:
            fence = None if fence and line.strip().startswith(fence) else (fence or m.group(1))
            continue
        if fence:
            continue
        prose = line
        for rx in (CODE_SPAN, HTML_COMMENT, LINK_TARGET):
            prose = rx.sub(" ", prose)
        for m in HAND_FIGURE.finditer(prose):
            problems.append(f"{page.where}:{lineno}: {m.group().strip()!r}: a measured figure "
                            "typed by hand; render it from the numbers with {{#fig ...}} (or, "
                            "for one quoted from a source the text names, {{#cited ...}})")
    return problems


LET = re.compile(r"\s*([a-z_][a-z0-9_]*)\s*=(?!=)(.*)", re.S)


def lets(page: Page, data: Data) -> tuple[dict, list[str]]:
    """The values a page's {{#let}}s name, in order, and their problems."""
    names, problems = {}, []
    for f in directives(page):
        if f.kind != "let":
            continue
        m = LET.fullmatch(f.body)
        if not m:
            problems.append(f"{f.at}: expected NAME = EXPR")
            continue
        name, expr = m.groups()
        if name in names or name in FUNCTIONS or name in ("if", "and", "or", "not"):
            problems.append(f"{f.at}: {name} is taken")
            continue
        try:
            names[name] = evaluate(Parser(expr).parse(), data, {}, names)
        except FigureError as e:
            problems.append(f"{f.at}: {e}")
    return names, problems


def expand(page: Page, data: Data) -> tuple[str, list[str]]:
    """A page's text with its directives replaced, and the problems of its directives."""
    names, problems = lets(page, data)

    def replace(m: re.Match) -> str:
        kind, body = m.group("kind"), " ".join(m.group("body").split())
        lineno = page.text.count("\n", 0, m.start()) + 1
        at = f"{page.where}:{lineno}: {{{{#{kind} {body}}}}}"
        if kind == "cited":
            if not body:
                problems.append(f"{at}: cites nothing")
            return body
        if kind == "missed":
            return NOTHING  # checked against the whole book: missed_problems
        if kind == "let":
            return NOTHING  # evaluated first: lets
        seen: dict = {}
        try:
            value = evaluate(Parser(body).parse(), data, seen, names)
            if kind == "fig":
                return render(value)
            if value is not True:
                problems.append(f"{at}: contradicted by the numbers: it is {value!r}"
                                + (f" ({shown(seen)})" if seen else ""))
        except FigureError as e:
            problems.append(f"{at}: {e}")
        return "" if kind == "fig" else NOTHING

    text = DIRECTIVE.sub(replace, page.text)
    # A line that held only {{#check}}s, {{#missed}}s and {{#let}}s goes, so that it does not end a paragraph.
    lines = [line.replace(NOTHING, "") for line in text.split("\n")
             if not (NOTHING in line and not line.replace(NOTHING, "").strip())]
    return "\n".join(lines), problems


def owners(pages: list[Page], bench: str) -> list[Page]:
    return [p for p in pages if f"generated/benchmarks/{bench}.md" in p.text]


def missed_problems(pages: list[Page], data: Data) -> list[str]:
    """Every missed cell explained on a page that shows its table; no explanation stale."""
    problems = []
    explained: dict[str, list[tuple[Found, str, bool]]] = {b: [] for b in bench_data.BENCHES}
    for page in pages:
        for f in directives(page):
            if f.kind != "missed":
                continue
            body, optional = f.body.removesuffix("?").strip(), f.body.endswith("?")
            source, colon, pattern = body.partition(":")
            if not colon or source not in bench_data.BENCHES or not pattern:
                problems.append(f"{f.at}: expected BENCH:PATTERN, BENCH one of "
                                f"{', '.join(bench_data.BENCHES)}")
                continue
            if page not in owners(pages, source):
                problems.append(f"{f.at}: this page does not show {source}'s tables "
                                f"(generated/benchmarks/{source}.md): explain a miss beside "
                                "its table")
                continue
            explained[source].append((f, pattern, optional))
    for bench in bench_data.BENCHES:
        try:
            missed = data.missed(bench)
        except (FigureError, OSError, ValueError) as e:
            problems.append(f"{bench}: {e}")
            continue
        for f, pattern, optional in explained[bench]:
            if not optional and not any(bench_data.matches(pattern, k) for k in missed):
                problems.append(f"{f.at}: no cell it names is missed in the numbers now (the "
                                "text around it explains a miss that is gone)")
        for key in missed:
            if not any(bench_data.matches(p, key) for _, p, _ in explained[bench]):
                where = ", ".join(p.where for p in owners(pages, bench)) or "no page"
                problems.append(f"{bench}:{key} is marked **missed** and nothing explains it: "
                                f"say why beside its table ({where}) and mark the text "
                                f"{{{{#missed {bench}:{key}}}}} (or a pattern)")
    return problems


def check(pages: list[Page], data: Data) -> tuple[dict[str, str], list[str]]:
    """The pages expanded (by `where`), and every problem of the book's figures."""
    out, problems = {}, []
    for page in pages:
        out[page.where], found = expand(page, data)
        problems += found + hand_figures(page)
    return out, problems + missed_problems(pages, data)


def book_pages(src: Path | None = None) -> list[Page]:
    src = src or ROOT / "book" / "src"
    return [Page(str(p.relative_to(ROOT)), p.read_text()) for p in sorted(src.rglob("*.md"))
            if p.name != "SUMMARY.md"]


# --- the self-test ----------------------------------------------------------------------------

def self_test() -> int:
    """Plants faults in a copy of the book and of its numbers; each must be reported."""
    pages = book_pages()
    clean = check(pages, Data())[1]
    if clean:
        print("figures self-test: the book as committed has problems already:")
        print("\n".join(f"  {p}" for p in clean))
        return 1
    page15 = next(p for p in pages if p.where.endswith("15-benchmarks.md"))
    c2 = Data().keys("lwlock_contention")["cases/exclusive/rates/c/2"]
    c4 = Data().keys("lwlock_contention")["cases/exclusive/rates/c/4"]
    # The word the numbers do not support, whichever way the committed run went.
    wrong = ("<=" if c4 > c2 else ">")
    plants = [
        ("a stale figure typed by hand (about a seventh, 17 %)",
         "In the reviewed run the logger reached about a seventh of the loop's rate (17 %).",
         ["'a seventh of'", "'17 %'"]),
        ("a figure of a case the numbers do not have (a stale reference)",
         "Rust took {{#fig num(per_call:time/text_length/rust_c, 2)}} of C's time.",
         ["per_call has no key 'time/text_length/rust_c'"]),
        ("a contradicted comparison (the C rate stops growing after two clients)",
         "{{#check lwlock_contention:cases/exclusive/rates/c/4 " + wrong
         + " lwlock_contention:cases/exclusive/rates/c/2}}",
         ["contradicted by the numbers: it is False"]),
    ]
    failed = 0
    for what, line, expected in plants:
        planted = [Page(p.where, p.text + "\n" + line + "\n") if p is page15 else p
                   for p in pages]
        failed += report(what, check(planted, Data())[1], expected)
    # A new run whose numbers contradict the text: a miss explained that is gone, and a cell
    # missed that nothing explains.
    data = Data()
    explained = [f for p in pages for f in directives(p)
                 if f.kind == "missed" and not f.body.endswith("?")]
    rerun_pages = pages
    if not explained:
        # Every {{#missed}} of the book allows a met cell: plant, beside the table, a strict
        # one for a cell the numbers mark missed.
        strict = next((f"{b}:{key}" for b in bench_data.BENCHES for key in data.missed(b)), None)
        if strict is None:
            print("figures self-test: no cell is missed in the committed numbers: nothing for a "
                  "rerun to turn around")
            return 1 if failed else 0
        rerun_pages = [Page(p.where, p.text + "\n{{#missed " + strict + "}}\n")
                       if p is page15 else p for p in pages]
        explained = [f for f in directives(next(p for p in rerun_pages if p.where == page15.where))
                     if f.kind == "missed" and f.body.strip() == strict]
    bench, pattern = explained[0].body.strip().split(":", 1)
    keys, raw = data.keys(bench), data.raw(bench)
    for key in data.missed(bench):
        if bench_data.matches(pattern, key):
            t = bench_data.rule_for(bench, key, raw)
            for k in (key, *spread_keys(t, key)):
                keys[k] = t.value  # exactly on target, spread and all: met
            keys.pop(f"{key}_range/0", None)  # a planted value has no samples around it
            keys.pop(f"{key}_range/1", None)
    failed += report(f"a rerun in which {bench}:{pattern} meets its target",
                     check(rerun_pages, data)[1], ["no cell it names is missed in the numbers now"])
    data = Data()
    for bench in bench_data.BENCHES:
        keys, raw = data.keys(bench), data.raw(bench)
        met = [k for k, v in keys.items()
               if bench_data.judge(bench, k, v, raw, keys)[1] is True]
        if met:
            t = bench_data.rule_for(bench, met[0], raw)
            for k in (met[0], *spread_keys(t, met[0])):
                keys[k] = t.value * (2 if t.at_most else 0.5)
            keys.pop(f"{met[0]}_range/0", None)  # a planted value has no samples around it
            keys.pop(f"{met[0]}_range/1", None)
            # The text that would explain it, if any, is taken out with it.
            def explains(m: re.Match, bench: str = bench, met: list = met) -> bool:
                source, _, pattern = m.group("body").strip().removesuffix("?").strip() \
                    .partition(":")
                return (m.group("kind") == "missed" and source == bench
                        and bench_data.matches(pattern, met[0]))
            unexplained = [Page(p.where, DIRECTIVE.sub(
                lambda m: "" if explains(m) else m.group(), p.text)) for p in pages]
            failed += report(f"a rerun in which {bench}:{met[0]} misses its target, and "
                             "no text explains it", check(unexplained, data)[1],
                             [f"{bench}:{met[0]} is marked **missed** and nothing explains it"])
            break
    if failed:
        print(f"figures self-test: {failed} planted fault(s) not caught")
        return 1
    print("figures self-test: every planted fault was caught; the book as committed passes")
    return 0


def spread_keys(t: bench_data.Target, key: str) -> list[str]:
    """The keys of a cell's spread, if its target has one."""
    if t.spread_at is None:
        return []
    parts = key.split("/")
    return ["/".join(parts[:t.spread_at] + [parts[t.spread_at] + suffix]
                     + parts[t.spread_at + 1:]) for suffix in ("_lo", "_hi")]


def report(what: str, problems: list[str], expected: list[str]) -> int:
    print(f"figures self-test: planted {what}:")
    for p in problems:
        print(f"  caught: {p}")
    missing = [e for e in expected if not any(e in p for p in problems)]
    for e in missing:
        print(f"  NOT CAUGHT: nothing reported {e!r}")
    return len(missing)


# --- mdbook -----------------------------------------------------------------------------------

def chapters(items: list) -> list[dict]:
    found = []
    for item in items:
        if isinstance(item, dict) and "Chapter" in item:
            found.append(item["Chapter"])
            found += chapters(item["Chapter"].get("sub_items", []))
    return found


def list_keys(source: str | None) -> int:
    data = Data()
    for s in [source] if source else data.sources():
        try:
            for k, v in data.keys(s).items():
                print(f"{s}:{k} = {v!r}")
        except FigureError as e:
            print(f"figures: {e}", file=sys.stderr)
            return 1
    return 0


def main() -> int:
    args = sys.argv[1:]
    if args[:1] == ["supports"]:
        return 0
    if args[:1] == ["--list"] and len(args) <= 2:
        return list_keys(args[1] if len(args) == 2 else None)
    if args == ["--self-test"]:
        return self_test()
    if args[:1] == ["--render"] and len(args) == 2:
        page = next((p for p in book_pages() if p.where.endswith(args[1])), None)
        if page is None:
            print(f"figures: no page {args[1]}", file=sys.stderr)
            return 2
        text, problems = expand(page, Data())
        print(text)
        for p in problems:
            print(f"figures: {p}", file=sys.stderr)
        return 1 if problems else 0
    if args == ["--check"]:
        problems = check(book_pages(), Data())[1]
        for p in problems:
            print(f"figures: {p}")
        print(f"figures: {len(problems)} problem(s)" if problems else
              "figures: every measured figure is rendered from the numbers, every missed cell "
              "explained")
        return 1 if problems else 0
    if args:
        print(f"usage: {sys.argv[0]} [supports RENDERER | --list [SOURCE] | --check | "
              "--self-test | --render PAGE] < [context, book]", file=sys.stderr)
        return 2
    context, book = json.load(sys.stdin)
    root = Path(context["root"]) if Path(context["root"]).is_absolute() else Path.cwd()
    src = root / context["config"].get("book", {}).get("src", "src")
    repo = root.parent
    pages, by_where = [], {}
    for ch in chapters(book.get("items", book.get("sections", []))):
        if not ch.get("path"):
            continue
        page = src / (ch.get("source_path") or ch["path"])
        where = os.path.relpath(page, repo) if page.is_relative_to(repo) else str(page)
        pages.append(Page(where, ch["content"]))
        by_where[where] = ch
    expanded, problems = check(pages, Data())
    if problems:
        for p in problems:
            print(f"figures: {p}", file=sys.stderr)
        print(f"figures: {len(problems)} problem(s); the book is not built", file=sys.stderr)
        return 1
    for where, ch in by_where.items():
        ch["content"] = expanded[where]
    sys.stdout.write(json.dumps(book))
    return 0


if __name__ == "__main__":
    sys.exit(main())
