#!/usr/bin/env python3
"""Reads the built book the way a reader does: in a real browser (headless Chromium).

Builds the book into target/browser-test/book, serves it on 127.0.0.1 (a free port, this
process only), opens every page SUMMARY.md lists in Chromium and fails, one line per problem, on:
  - a page that does not load (HTTP status other than 200) or whose <h1> is not the title its
    SUMMARY.md entry promises;
  - an empty code block (<pre><code> with no text), or an mdbook include left unexpanded
    ("{{#include ...}}" in the rendered text: mdbook keeps the directive when the include fails);
  - a Rust/C pair (<div class="twins">) whose two sides are not side by side on a wide screen;
  - a page or resource request answered with an HTTP error, a JavaScript exception, or a
    console error;
  - a Rust block with mdbook's Run button (pgrx code cannot run on play.rust-lang.org);
  - an empty sidebar (mdbook draws it with JavaScript), or a link (sidebar, in-page, previous and
    next) to a page of the book that does not load, or to a #fragment no element has as its id;
  - a search (press `s`, type the term) that finds nothing, or whose results link to no chapter;
    the first result must open with the term marked.
  - a diagram (book/src/diagrams/*.svg, rendered from book/diagrams/*.gv) that is empty, that
    does not load as an SVG, or that a page shows with no size, hidden, or wider than the
    window, at 1440 px and at a narrow 400 px; every diagram is also opened on its own, so one
    that no page shows yet is still checked;
  - the chapter "Your First Extension" (first-extension.html) without links to the chapters it
    builds on, or with one that does not resolve (the link check above, counted for it).
It saves a full-page PNG of one chapter (default: chapter 2) to target/browser-test/, and one
PNG of each diagram as a page shows it (diagram-<page>-<name>.png).

Chromium is Debian's /usr/bin/chromium (bash tools/setup.sh installs it), driven over the
Chrome DevTools Protocol through a pipe (--remote-debugging-pipe): only the Python standard
library, no WebDriver. Every host name but 127.0.0.1 fails to resolve inside that Chromium, so
the test reads the book as it is on disk and never waits for the network.

    python3 tools/book/browser_test.py [--search TERM] [--screenshot PAGE.html] [--no-build]
"""
import argparse
import base64
import fcntl
import functools
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SUMMARY = ROOT / "book" / "src" / "SUMMARY.md"
OUT = ROOT / "target" / "browser-test"
CHROMIUM = os.environ.get("XFUNC_CHROMIUM", "/usr/bin/chromium")
# Wide enough for mdbook's sidebar and for the two columns of .twins (twins.css: >= 1200px).
WIDTH, HEIGHT = 1440, 1000
NARROW = 400  # a phone held upright: diagrams must still show, scaled to the column
DIAGRAMS = ROOT / "book" / "src" / "diagrams"
FIRST_EXTENSION = "first-extension.html"
PAGE_TIMEOUT = 20.0
SEARCH_TIMEOUT = 15.0

problems: list[str] = []


def problem(where: str, what: str) -> None:
    problems.append(f"{where}: {what}")


class Timeout(Exception):
    pass


# --- the browser: Chromium over the DevTools protocol on fds 3 (commands) and 4 (replies) ------


class Chromium:
    """One headless Chromium and one tab, spoken to in NUL-separated JSON over two pipes."""

    def __init__(self, binary: str, profile: str):
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def fds_3_and_4() -> None:
            # Move both ends out of the way first: either may already be fd 3 or 4.
            r = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)
            w = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
            os.dup2(r, 3)
            os.dup2(w, 4)

        args = [
            binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--disable-component-update", "--no-first-run",
            "--no-default-browser-check", "--disable-sync", "--disable-quic", "--mute-audio",
            "--hide-scrollbars", f"--window-size={WIDTH},{HEIGHT}",
            # The book must stand on its own: every host but the local server fails at once.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            f"--user-data-dir={profile}", "--remote-debugging-pipe", "about:blank",
        ]
        # Started before any thread exists (preexec_fn and threads do not mix), in its own
        # process group so that stopping it also stops its helper processes.
        with open(OUT / "chromium.log", "wb") as log:
            self.proc = subprocess.Popen(
                args, preexec_fn=fds_3_and_4, close_fds=False, start_new_session=True,
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
            )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buf = b""
        self._next_id = 0
        self.events: list[dict] = []
        self.session = ""

    # -- protocol --
    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout("no reply from Chromium")
            ready, _, _ = select.select([self._from_browser], [], [], left)
            if ready:
                chunk = os.read(self._from_browser, 1 << 20)
                if not chunk:
                    raise RuntimeError("Chromium exited (see target/browser-test/chromium.log)")
                self._buf += chunk
        raw, _, self._buf = self._buf.partition(b"\0")
        return json.loads(raw)

    def call(self, method: str, params: dict | None = None, timeout: float = PAGE_TIMEOUT,
             session: bool = True) -> dict:
        self._next_id += 1
        msg = {"id": self._next_id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error'].get('message')}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def wait_event(self, method: str, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for i, ev in enumerate(self.events):
                if ev["method"] == method:
                    return self.events.pop(i)
            msg = self._read_message(deadline)
            if "method" in msg:
                self.events.append(msg)

    def drain(self) -> None:
        """Collects the events already sent, without waiting."""
        while True:
            try:
                msg = self._read_message(time.monotonic() + 0.05)
            except Timeout:
                return
            if "method" in msg:
                self.events.append(msg)

    # -- the tab --
    def open_tab(self) -> None:
        target = self.call("Target.createTarget", {"url": "about:blank"}, session=False)
        attached = self.call("Target.attachToTarget",
                             {"targetId": target["targetId"], "flatten": True}, session=False)
        self.session = attached["sessionId"]
        for domain in ("Page", "Runtime", "Network", "Log"):
            self.call(f"{domain}.enable")
        self.call("Network.setCacheDisabled", {"cacheDisabled": True})
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False})

    def navigate(self, url: str) -> tuple[int | None, list[dict]]:
        """Loads url; returns the document's HTTP status and the events the load produced."""
        self.drain()
        self.events.clear()
        result = self.call("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise RuntimeError(f"cannot load {url}: {result['errorText']}")
        self.wait_event("Page.loadEventFired", PAGE_TIMEOUT)
        # Scripts run on load (sidebar, highlighting); give late console errors a moment.
        time.sleep(0.2)
        self.drain()
        seen, self.events = self.events, []
        status = None
        for ev in seen:
            if (ev["method"] == "Network.responseReceived"
                    and ev["params"].get("type") == "Document"
                    and ev["params"]["response"]["url"].split("#")[0] == url.split("#")[0]):
                status = ev["params"]["response"]["status"]
        return status, seen

    def js(self, expression: str):
        r = self.call("Runtime.evaluate",
                      {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in r:
            raise RuntimeError(f"script failed: {r['exceptionDetails'].get('text')}: {expression}")
        return r["result"].get("value")

    def key(self, key: str, code: str, keycode: int, text: str | None = None) -> None:
        down = {"type": "keyDown", "key": key, "code": code, "windowsVirtualKeyCode": keycode}
        if text is not None:
            down["text"] = text
        self.call("Input.dispatchKeyEvent", down)
        self.call("Input.dispatchKeyEvent",
                  {"type": "keyUp", "key": key, "code": code, "windowsVirtualKeyCode": keycode})

    def type_text(self, text: str) -> None:
        for ch in text:
            if ch.isalpha():
                self.key(ch, f"Key{ch.upper()}", ord(ch.upper()), ch)
            elif ch.isdigit():
                self.key(ch, f"Digit{ch}", ord(ch), ch)
            else:
                self.key(ch, "", 0, ch)

    def screenshot(self, path: Path) -> None:
        """The whole page: the window is made as tall as the page, so the sidebar and the
        fixed navigation are drawn as a reader sees them, then put back."""
        height = self.js("Math.ceil(document.documentElement.scrollHeight)")
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": WIDTH, "height": height, "deviceScaleFactor": 1, "mobile": False})
        time.sleep(0.3)
        shot = self.call("Page.captureScreenshot", {"format": "png"})
        path.write_bytes(base64.b64decode(shot["data"]))
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False})

    def width(self, width: int) -> None:
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False})
        time.sleep(0.2)  # mdbook's layout reacts to the resize (sidebar, content width)

    def screenshot_clip(self, path: Path, box: dict) -> None:
        """The part of the page in box (document coordinates), as the reader sees it."""
        shot = self.call("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": box["x"], "y": box["y"], "width": box["w"], "height": box["h"],
                     "scale": 1},
        })
        path.write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        try:
            self.call("Browser.close", session=False, timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        try:  # the browser's own process group: its renderers and helpers, if any are left
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=10)
        for fd in (self._to_browser, self._from_browser):
            try:
                os.close(fd)
            except OSError:
                pass


# --- the book: what SUMMARY.md promises, a local server for what mdbook built ----------------


def summary_pages() -> list[tuple[str, str]]:
    """(html path, title) of every page SUMMARY.md links to, in book order."""
    pages = []
    for m in re.finditer(r"\[((?:[^\]\\]|\\.)+)\]\(([^)\s]+\.md)\)", SUMMARY.read_text()):
        # The rendered heading's text: no code spans, emphasis or escapes.
        title = re.sub(r"`|\*+|\\(?=.)", "", m.group(1))
        title = re.sub(r"(?<!\w)_([^_]+)_(?!\w)", r"\1", title).strip()
        pages.append((re.sub(r"\.md$", ".html", m.group(2)), " ".join(title.split())))
    return pages


def serve(directory: Path) -> ThreadingHTTPServer:
    handler = functools.partial(QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


class Ids(HTMLParser):
    """The ids (and <a name>s) of a page, for a page not opened in the browser."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs) -> None:
        for k, v in attrs:
            if k == "id" or (tag == "a" and k == "name"):
                self.ids.add(v or "")


# What the checks need from a page, read in the page once its scripts have run.
PAGE_FACTS = r"""
(() => {
  const all = sel => [...document.querySelectorAll(sel)];
  const squeeze = text => text.trim().replace(/\s+/g, ' ');
  // Where an element is, for a reader: the twin label and the heading above it.
  const context = el => {
    const twin = el.closest('.twins > div');
    const label = twin && twin.querySelector('.twin-label')
        ? squeeze(twin.querySelector('.twin-label').textContent) : '';
    for (let e = el; e && e !== document.body; e = e.parentElement) {
      for (let p = e.previousElementSibling; p; p = p.previousElementSibling) {
        if (/^H[1-6]$/.test(p.tagName)) {
          return (label ? label + ' under ' : '') + '"' + squeeze(p.textContent) + '"';
        }
      }
    }
    return label || 'top of page';
  };
  const directive = /\{\{#[^}]*\}?\}?/;
  const codes = all('main pre > code');
  const prose = (document.querySelector('main') || document.body).cloneNode(true);
  prose.querySelectorAll('code').forEach(c => c.remove());  // `{{#include}}` may be quoted
  return {
    h1: all('main h1').map(h => squeeze(h.textContent)),
    emptyCode: codes.filter(c => !c.textContent.trim()).map(context),
    unexpanded: codes.filter(c => directive.test(c.textContent))
        .map(c => context(c) + ': ' + c.textContent.match(directive)[0])
        .concat(prose.textContent.match(new RegExp(directive, 'g')) || []),
    twins: all('main .twins').map(t => {
      const [a, b] = [...t.children].map(c => c.getBoundingClientRect());
      return {
        where: context(t.querySelector('pre') || t),
        sides: t.children.length,
        sideBySide: !!(a && b && Math.abs(a.top - b.top) < 2 && b.left >= a.right),
        codes: [...t.children].map(c => c.querySelectorAll('pre > code').length),
      };
    }),
    playground: all('main pre.playground').length,
    sidebarLinks: all('#mdbook-sidebar a[href]').length,
    sidebarActive: all('#mdbook-sidebar a.active').map(a => a.getAttribute('href')),
    links: all('a[href]').map(a => ({
      href: a.href,
      raw: a.getAttribute('href'),
      text: squeeze(a.textContent || a.title || a.getAttribute('aria-label') || '').slice(0, 50),
      where: a.closest('#mdbook-sidebar') ? 'sidebar' : a.closest('main') ? 'text' : 'page chrome',
    })),
    ids: all('[id], a[name]').map(e => e.id || e.getAttribute('name')),
  };
})()
"""


# The diagrams a page shows, measured where they are drawn.
DIAGRAM_FACTS = r"""
(() => [...document.querySelectorAll('main img')]
  .filter(i => /(^|\/)diagrams\/[^\/]+\.svg$/.test(i.getAttribute('src') || ''))
  .map(i => {
    const r = i.getBoundingClientRect();
    const style = getComputedStyle(i);
    const main = document.querySelector('main').getBoundingClientRect();
    return {
      src: i.getAttribute('src'), alt: i.alt, complete: i.complete,
      natural: [i.naturalWidth, i.naturalHeight],
      w: r.width, h: r.height, x: r.left + window.scrollX, y: r.top + window.scrollY,
      shown: style.display !== 'none' && style.visibility !== 'hidden' && style.opacity !== '0',
      overflow: r.right > Math.max(main.right, window.innerWidth) + 1,
    };
  }))()
"""

# An SVG opened on its own: its root element and the size of what it draws.
SVG_FACTS = r"""
(() => {
  const svg = document.documentElement;
  if (!svg || svg.tagName.toLowerCase() !== 'svg') return {svg: false};
  const box = svg.getBBox();
  return {svg: true, w: box.width, h: box.height,
          texts: svg.querySelectorAll('text').length, shapes: svg.querySelectorAll('g').length};
})()
"""


def page_problems(where: str, status: int | None, events: list[dict]) -> None:
    if status != 200:
        problem(where, f"HTTP status {status} (expected 200)")
    for ev in events:
        p = ev["params"]
        if ev["method"] == "Network.responseReceived" and p["response"]["status"] >= 400:
            problem(where, f"HTTP {p['response']['status']} for {p['response']['url']}")
        elif ev["method"] == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            text = d.get("exception", {}).get("description") or d.get("text")
            problem(where, f"JavaScript exception: {text.splitlines()[0]}")
        elif ev["method"] == "Runtime.consoleAPICalled" and p["type"] == "error":
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in p["args"])
            problem(where, f"console error: {args}")
        elif (ev["method"] == "Log.entryAdded" and p["entry"]["level"] == "error"
              and p["entry"].get("source") not in ("network",)):
            problem(where, f"browser error: {p['entry']['text']}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--search", default=os.environ.get("XFUNC_BOOK_SEARCH", "make_array"),
                    help="a term the search must find (default make_array, or $XFUNC_BOOK_SEARCH)")
    ap.add_argument("--screenshot", default=None,
                    help="page to save as PNG (default: the page of chapter 2, 02-*.html)")
    ap.add_argument("--no-build", action="store_true", help="reuse target/browser-test/book")
    args = ap.parse_args()

    started = time.monotonic()
    if not os.access(CHROMIUM, os.X_OK):
        print(f"browser-test: {CHROMIUM} not found; run: bash tools/setup.sh", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    site = OUT / "book"
    if not args.no_build:
        shutil.rmtree(site, ignore_errors=True)
        r = subprocess.run(["mdbook", "build", str(ROOT / "book"), "--dest-dir", str(site)],
                           capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            print(r.stdout + r.stderr, file=sys.stderr)
            print("browser-test: mdbook build failed", file=sys.stderr)
            return 1
    pages = summary_pages()
    if not pages:
        print("browser-test: SUMMARY.md lists no page", file=sys.stderr)
        return 1
    shot_page = args.screenshot or next((p for p, _ in pages if p.startswith("02-")), pages[0][0])
    if shot_page not in {p for p, _ in pages}:
        print(f"browser-test: --screenshot {shot_page}: not a page of SUMMARY.md", file=sys.stderr)
        return 2
    shot = OUT / Path(shot_page).with_suffix(".png").name
    shot.unlink(missing_ok=True)
    for old in OUT.glob("diagram-*.png"):
        old.unlink()

    profile = tempfile.mkdtemp(prefix="xfunc-chromium-")
    browser = Chromium(CHROMIUM, profile)  # before the server thread: see Chromium.__init__
    server = serve(site)
    origin = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        browser.open_tab()
        check_pages(browser, origin, pages, shot_page)
        check_search(browser, origin, pages, args.search)
    except (Timeout, RuntimeError) as e:
        problem("browser-test", str(e))
    finally:
        browser.close()
        server.shutdown()
        server.server_close()
        shutil.rmtree(profile, ignore_errors=True)

    if not problems and not shot.is_file():
        problem(shot_page, f"no screenshot saved to {shot.relative_to(ROOT)}")
    for p in problems:
        print(f"browser-test: {p}")
    took = time.monotonic() - started
    if problems:
        print(f"browser-test: {len(problems)} problem(s) ({took:.1f} s)")
        return 1
    print(f"browser-test: {len(pages)} pages render (titles, code blocks, Rust/C side by side), "
          f"links resolve, search finds {args.search!r}; screenshot {shot.relative_to(ROOT)} "
          f"({took:.1f} s)")
    return 0


def check_diagrams_on_page(browser: Chromium, path: str, shown: dict[str, list[str]]) -> None:
    """Every diagram the page shows: loaded, visible, with a size, at both widths."""
    wide = browser.js(DIAGRAM_FACTS)
    if not wide:
        return
    browser.width(NARROW)
    narrow = browser.js(DIAGRAM_FACTS)
    browser.width(WIDTH)
    for d, n in zip(wide, narrow):
        name = Path(d["src"]).stem
        shown.setdefault(name, []).append(path)
        where = f"{path}: diagram {d['src']}"
        if not d["complete"] or min(d["natural"]) <= 0:
            problem(where, f"does not load as an image (natural size {d['natural']})")
            continue
        if not d["alt"].strip():
            problem(where, "has no alt text")
        for label, m, width in (("wide", d, WIDTH), ("narrow", n, NARROW)):
            if not m["shown"] or m["w"] < 1 or m["h"] < 1:
                problem(where, f"not visible at {width}px ({m['w']:.0f}x{m['h']:.0f}, "
                               f"shown={m['shown']})")
            elif m["overflow"]:
                problem(where, f"wider than the page at {width}px ({m['w']:.0f}px)")
        stem = Path(path).stem
        margin = 8
        browser.screenshot_clip(OUT / f"diagram-{stem}-{name}.png", {
            "x": max(0, d["x"] - margin), "y": max(0, d["y"] - margin),
            "w": d["w"] + 2 * margin, "h": d["h"] + 2 * margin})


def check_diagram_files(browser: Chromium, origin: str, shown: dict[str, list[str]]) -> int:
    """Every diagram on its own, as the browser renders the SVG file."""
    files = sorted(DIAGRAMS.glob("*.svg"))
    for svg in files:
        where = f"diagrams/{svg.name}"
        if svg.stat().st_size == 0:
            problem(where, "is empty")
            continue
        status, events = browser.navigate(origin + "diagrams/" + svg.name)
        # A document that is not HTML makes Chromium ask for /favicon.ico, which mdbook's
        # output does not have (the pages name theirs); that request is not the diagram's.
        events = [ev for ev in events
                  if not ev["params"].get("response", {}).get("url", "").endswith("/favicon.ico")]
        page_problems(where, status, events)
        for width in (WIDTH, NARROW):
            browser.width(width)
            f = browser.js(SVG_FACTS)
            if not f.get("svg"):
                problem(where, f"does not open as an SVG document at {width}px")
                break
            if f["w"] < 1 or f["h"] < 1 or f["texts"] == 0:
                problem(where, f"draws nothing at {width}px ({f['w']:.0f}x{f['h']:.0f}, "
                               f"{f['texts']} texts)")
        browser.width(WIDTH)
    unshown = [svg.stem for svg in files if svg.stem not in shown]
    if unshown:
        print(f"browser-test: note: diagrams on no page yet (checked on their own): "
              f"{', '.join(unshown)}")
    return len(files)


def check_first_extension(links: list[tuple[str, dict]], pages: list[tuple[str, str]]) -> None:
    """The first-extension chapter links to the chapters it builds on (the link check has
    already made sure that each resolves)."""
    if FIRST_EXTENSION not in {p for p, _ in pages}:
        problem(FIRST_EXTENSION, "not in SUMMARY.md")
        return
    own = [l for p, l in links if p == FIRST_EXTENSION and l["where"] == "text"]
    chapters = {urllib.parse.urlparse(l["href"]).path.rsplit("/", 1)[-1] for l in own}
    for needed in ("02-base-types.html", "04-v1-calling.html", "07-pgxs.html"):
        if needed not in chapters:
            problem(FIRST_EXTENSION, f"no link to {needed}")
    print(f"browser-test: {FIRST_EXTENSION}: {len(own)} links in the text, to "
          f"{len(chapters)} pages (each resolves, or is listed as a problem)")


def check_pages(browser: Chromium, origin: str, pages: list[tuple[str, str]], shot: str) -> None:
    ids: dict[str, set[str] | None] = {}  # page URL -> its ids (None: does not load)
    shown: dict[str, list[str]] = {}  # diagram name -> pages that show it
    links: list[tuple[str, dict]] = []
    blocked: set[str] = set()
    for path, title in pages:
        url = origin + path
        status, events = browser.navigate(url)
        page_problems(path, status, events)
        blocked.update(ev["params"]["request"]["url"] for ev in events
                       if ev["method"] == "Network.requestWillBeSent"
                       and ev["params"]["request"]["url"].startswith(("http:", "https:"))
                       and not ev["params"]["request"]["url"].startswith(origin))
        f = browser.js(PAGE_FACTS)
        ids[url] = set(f["ids"]) if status == 200 else None
        if f["h1"][:1] != [title]:
            problem(path, f"first <h1> is {f['h1'][:1] or 'missing'}; "
                          f"SUMMARY.md promises {title!r}")
        for where in f["emptyCode"]:
            problem(path, f"empty code block ({where})")
        for where in f["unexpanded"]:
            problem(path, f"mdbook directive left unexpanded (a failed include?): {where}")
        for t in f["twins"]:
            if t["sides"] != 2 or any(n == 0 for n in t["codes"]):
                problem(path, f"twins block {t['where']} has {t['sides']} sides with "
                              f"{t['codes']} code blocks (expected 2 sides, each with code)")
            elif not t["sideBySide"]:
                problem(path, f"twins block {t['where']}: Rust and C are not side by side "
                              f"at {WIDTH}px")
        if f["playground"]:
            problem(path, f"{f['playground']} Rust block(s) offer mdbook's Run button, which sends "
                          "them to play.rust-lang.org, where pgrx code cannot compile; set "
                          "[output.html.playground] runnable = false in book/book.toml")
        if f["sidebarLinks"] < len(pages):
            problem(path, f"sidebar has {f['sidebarLinks']} links for {len(pages)} pages")
        if path not in f["sidebarActive"]:
            problem(path, f"sidebar does not mark this page as the current one "
                          f"({f['sidebarActive']})")
        links += [(path, link) for link in f["links"]]
        check_diagrams_on_page(browser, path, shown)
        if path == shot:
            browser.screenshot(OUT / Path(path).with_suffix(".png").name)
    check_first_extension(links, pages)
    n = check_diagram_files(browser, origin, shown)
    print(f"browser-test: {n} diagrams render on their own and on "
          f"{len({p for ps in shown.values() for p in ps})} pages, at {WIDTH}px and {NARROW}px")
    if blocked:
        print(f"browser-test: note: the pages asked other hosts for {len(blocked)} URL(s), "
              f"not served here: {', '.join(sorted(blocked)[:3])}")

    # Every link to a page of the book: the page loads, the fragment names an element.
    for path, link in links:
        href = urllib.parse.urldefrag(link["href"])
        if not href.url.startswith(origin):
            continue  # another site: not checked (no network here)
        target = href.url.split("?")[0]
        if target.endswith("/"):
            target += "index.html"
        if target not in ids:
            ids[target] = fetch_ids(target)
        where = f"{path}: {link['where']} link {link['text']!r} ({link['raw']})"
        if ids[target] is None:
            problems.append(f"{where}: {target[len(origin):]} does not load")
        elif href.fragment and urllib.parse.unquote(href.fragment) not in ids[target]:
            problems.append(f"{where}: no element with id {href.fragment!r} "
                            f"in {target[len(origin):]}")


def fetch_ids(url: str) -> set[str] | None:
    """Ids of a page that is not a chapter (index.html, print.html, ...), read without a browser
    (print.html opens the print dialog)."""
    try:
        with urllib.request.urlopen(url, timeout=PAGE_TIMEOUT) as r:
            if r.status != 200:
                return None
            parser = Ids()
            parser.feed(r.read().decode("utf-8", "replace"))
            return parser.ids
    except (urllib.error.URLError, OSError):
        return None


def check_search(browser: Chromium, origin: str, pages: list[tuple[str, str]], term: str) -> None:
    where = f"search {term!r}"
    first = pages[0][0]
    status, events = browser.navigate(origin + first)
    page_problems(f"{first} (before search)", status, events)
    browser.js("document.activeElement && document.activeElement.blur()")
    browser.key("s", "KeyS", ord("S"), "s")
    deadline = time.monotonic() + 5
    while not browser.js("document.activeElement?.id === 'mdbook-searchbar'"):
        if time.monotonic() > deadline:
            problem(where, "pressing 's' did not open the search bar")
            return
        time.sleep(0.1)
    browser.type_text(term)
    typed = browser.js("document.getElementById('mdbook-searchbar').value")
    if typed != term:
        problem(where, f"the search bar holds {typed!r} after typing {term!r}")
        return
    deadline = time.monotonic() + SEARCH_TIMEOUT
    results: list[str] = []
    while time.monotonic() < deadline:
        results = browser.js(
            "[...document.querySelectorAll('#mdbook-searchresults li a')].map(a => a.href)") or []
        if results:
            break
        time.sleep(0.2)
        # The index loads asynchronously; a key release after it has loaded runs the search.
        browser.key("End", "End", 35)
    header = browser.js("document.getElementById('mdbook-searchresults-header').textContent")
    if not results:
        problem(where, f"no result within {SEARCH_TIMEOUT:.0f} s ({header.strip()!r})")
        return
    chapters = {origin + p for p, _ in pages}
    hits = [r for r in results if r.split("#")[0].split("?")[0] in chapters]
    if not hits:
        problem(where, f"{len(results)} result(s), none links to a chapter: {results[:3]}")
        return
    status, events = browser.navigate(hits[0])
    page_problems(f"{where}: first result", status, events)
    marked = browser.js("[...document.querySelectorAll('main mark')].map(m => m.textContent)")
    if not any(term.lower() in m.lower() or m.lower() in term.lower() for m in marked or []):
        problem(where, f"first result {hits[0][len(origin):]} does not mark {term!r} "
                       f"(marked: {marked[:5]})")
    print(f"browser-test: search {term!r}: {header.strip()}; first: {hits[0][len(origin):]}")


if __name__ == "__main__":
    sys.exit(main())
