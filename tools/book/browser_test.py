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
  - an image (<img>: the diagrams, book/src/diagrams/*.svg rendered from book/diagrams/*.gv, and
    the benchmark plots, book/src/benchmarks/*.svg) that does not load, has no alt text, or that
    a page shows with no size, hidden, or wider than the window, at 1440 px and at a narrow
    400 px; every SVG under book/src is also opened on its own (empty, not an SVG, or drawing
    nothing is a problem), so one that no page shows yet is still checked;
  - the chapter "Your First Extension" (first-extension.html) without links to the chapters it
    builds on, or with one that does not resolve (the link check above, counted for it).
It saves a full-page PNG of one chapter (default: chapter 2) to target/browser-test/, and one
PNG of each image as a page shows it (diagram-<page>-<name>.png for a diagram,
image-<page>-<name>.png for any other).

Chromium is Debian's /usr/bin/chromium, driven through WebDriver by Selenium and Debian's
chromedriver (python3-selenium, chromium-driver: bash tools/cluster/setup.sh installs them). What a page
loaded, and with which HTTP status, is read from the page's own Resource Timing entries; console
errors and JavaScript exceptions from the browser's log. Every host name but 127.0.0.1 fails to
resolve inside that Chromium, so the test reads the book as it is on disk and never waits for
the network.

    python3 tools/book/browser_test.py [--search TERM] [--screenshot PAGE.html] [--no-build]
"""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
import xfunc  # noqa: E402  (tools/lib/xfunc.py: the checkout's environment)

if not xfunc.debian_python_for("selenium"):
    print("browser-test: no Selenium for this Python; run: bash tools/cluster/setup.sh",
          file=sys.stderr)
    sys.exit(2)
import argparse
import functools
import json
import re
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402

ROOT = xfunc.ROOT
SUMMARY = ROOT / "book" / "src" / "SUMMARY.md"
OUT = ROOT / "target" / "browser-test"
CHROMIUM = os.environ.get("XFUNC_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("XFUNC_CHROMEDRIVER", "/usr/bin/chromedriver")
# Wide enough for mdbook's sidebar and for the two columns of .twins (twins.css: >= 1200px).
WIDTH, HEIGHT = 1440, 1000
NARROW = 400  # a phone held upright: diagrams and plots must still show, scaled to the column
BOOK_SRC = ROOT / "book" / "src"
DIAGRAMS = BOOK_SRC / "diagrams"
FIRST_EXTENSION = "first-extension.html"
PAGE_TIMEOUT = 20.0
SEARCH_TIMEOUT = 15.0

problems: list[str] = []


def problem(where: str, what: str) -> None:
    problems.append(f"{where}: {what}")


# --- the browser: Chromium through chromedriver (WebDriver) ----------------------------------

# What the document loaded: its own HTTP status and every resource's (Resource Timing Level 2:
# responseStatus). The server sends no-store, so every page load asks it again.
LOADED = r"""
(() => {
  const nav = performance.getEntriesByType('navigation')[0];
  return {
    status: nav ? nav.responseStatus : null,
    resources: performance.getEntriesByType('resource')
        .map(r => ({url: r.name, status: r.responseStatus})),
  };
})()
"""


class Chromium:
    """One headless Chromium with one tab, through Selenium and chromedriver."""

    def __init__(self, binary: str, driver: str, profile: str):
        options = webdriver.ChromeOptions()
        options.binary_location = binary
        for arg in (
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--disable-component-update", "--no-first-run",
            "--no-default-browser-check", "--disable-sync", "--disable-quic", "--mute-audio",
            "--hide-scrollbars", f"--window-size={WIDTH},{HEIGHT}",
            # The book must stand on its own: every host but the local server fails at once.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            f"--user-data-dir={profile}",
        ):
            options.add_argument(arg)
        # Console errors, JavaScript exceptions and failed requests, read after each load.
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        service = Service(driver, log_path=str(OUT / "chromedriver.log"))
        self.driver = webdriver.Chrome(service=service, options=options)
        self.driver.set_page_load_timeout(PAGE_TIMEOUT)
        self.driver.set_script_timeout(PAGE_TIMEOUT)
        # The window's frame (even headless) takes some height: size the window so that the
        # page itself gets WIDTH x HEIGHT, as a reader's browser window would.
        inner = self.js("window.innerHeight")
        self._frame = max(0, self.driver.get_window_size()["height"] - inner)
        self.width(WIDTH)

    def navigate(self, url: str) -> tuple[int | None, dict]:
        """Loads url; returns the document's HTTP status and what the load produced:
        {"resources": [{url, status}], "log": [browser log entries]}."""
        self.driver.get_log("browser")  # forget what earlier pages logged
        try:
            self.driver.get(url)
        except WebDriverException as e:
            raise RuntimeError(f"cannot load {url}: {e.msg}") from None
        # Scripts run on load (sidebar, highlighting); give late console errors a moment.
        time.sleep(0.2)
        loaded = self.js(LOADED) or {}
        return loaded.get("status"), {"resources": loaded.get("resources", []),
                                      "log": self.driver.get_log("browser")}

    def js(self, expression: str):
        try:
            return self.driver.execute_script("return " + expression.strip())
        except WebDriverException as e:
            raise RuntimeError(f"script failed: {e.msg}: {expression.strip()[:80]}") from None

    def keys(self, *keys: str) -> None:
        """Typed into whatever has the focus, as a reader types (key down, key up, per key)."""
        ActionChains(self.driver).send_keys(*keys).perform()

    def screenshot(self, path: Path) -> None:
        """The whole page: the window is made as tall as the page, so the sidebar and the
        fixed navigation are drawn as a reader sees them, then put back."""
        height = self.js("Math.ceil(document.documentElement.scrollHeight)")
        self.driver.set_window_size(WIDTH, height + self._frame)
        time.sleep(0.3)
        self.driver.save_screenshot(str(path))
        self.width(WIDTH)

    def width(self, width: int) -> None:
        self.driver.set_window_size(width, HEIGHT + self._frame)
        time.sleep(0.2)  # mdbook's layout reacts to the resize (sidebar, content width)

    def screenshot_element(self, path: Path, index: int) -> None:
        """The index-th image of the page, as the reader sees it."""
        self.driver.find_elements(By.TAG_NAME, "img")[index].screenshot(str(path))

    def close(self) -> None:
        try:
            self.driver.quit()  # stops Chromium, then chromedriver
        except Exception:
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

    def end_headers(self) -> None:
        # Never from the browser's cache: each page load fetches (and checks) what it uses.
        self.send_header("Cache-Control", "no-store")
        super().end_headers()


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


# The images a page shows (document order, as find_elements sees them), measured where drawn.
IMAGE_FACTS = r"""
(() => [...document.querySelectorAll('img')].map(i => {
    const r = i.getBoundingClientRect();
    // mdbook shows a lone image in a click-to-zoom label: its zoomed copy, in .img-wrapper,
    // is hidden until the reader clicks; it must load, but is not drawn on the page.
    const label = i.closest('.checkbox-label');
    const box = label && label.querySelector('.checkbox-img');
    const style = getComputedStyle(i);
    const main = (document.querySelector('main') || document.body).getBoundingClientRect();
    return {
      src: i.getAttribute('src') || '', alt: i.alt, complete: i.complete,
      natural: [i.naturalWidth, i.naturalHeight],
      w: r.width, h: r.height,
      zoomCopy: !!(box && !box.checked && i.closest('.img-wrapper')),
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
          texts: svg.querySelectorAll('text').length, shapes: svg.querySelectorAll('g').length,
          paths: svg.querySelectorAll('path, use, polygon, polyline, ellipse, rect').length};
})()
"""


def page_problems(where: str, status: int | None, loaded: dict) -> None:
    if status != 200:
        problem(where, f"HTTP status {status} (expected 200)")
    for r in loaded["resources"]:
        if r["status"] >= 400:
            problem(where, f"HTTP {r['status']} for {r['url']}")
    for entry in loaded["log"]:
        if entry["level"] != "SEVERE":
            continue
        # chromedriver's log line: "<URL or source> <line>:<column> <text>"; a console
        # message's text is its arguments as JSON.
        text = re.sub(r"^\S+ \d+:\d+ ", "", entry["message"].splitlines()[0])
        if entry.get("source") == "console-api" and text.startswith('"'):
            try:
                text = json.loads(text)
            except ValueError:
                pass
        if entry.get("source") == "javascript":
            problem(where, f"JavaScript exception: {text}")
        elif entry.get("source") == "console-api":
            problem(where, f"console error: {text}")
        elif entry.get("source") != "network":  # HTTP errors: above, from the page's own record
            problem(where, f"browser error: {text}")


def other_hosts(origin: str, loaded: dict) -> set[str]:
    """The URLs of other hosts the page asked for (they fail to resolve here)."""
    urls = {r["url"] for r in loaded["resources"]}
    urls |= {e["message"].split(" ", 1)[0] for e in loaded["log"] if e.get("source") == "network"}
    return {u for u in urls if u.startswith(("http:", "https:")) and not u.startswith(origin)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--search", default=os.environ.get("XFUNC_BOOK_SEARCH", "make_array"),
                    help="a term the search must find (default make_array, or $XFUNC_BOOK_SEARCH)")
    ap.add_argument("--screenshot", default=None,
                    help="page to save as PNG (default: the page of chapter 2, 02-*.html)")
    ap.add_argument("--no-build", action="store_true", help="reuse target/browser-test/book")
    args = ap.parse_args()

    started = time.monotonic()
    for binary, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not os.access(binary, os.X_OK):
            print(f"browser-test: {binary} ({package}) not found; run: bash tools/cluster/setup.sh",
                  file=sys.stderr)
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
    for old in [*OUT.glob("diagram-*.png"), *OUT.glob("image-*.png")]:
        old.unlink()

    profile = tempfile.mkdtemp(prefix="xfunc-chromium-")
    server = serve(site)
    origin = f"http://127.0.0.1:{server.server_address[1]}/"
    browser = None
    try:
        browser = Chromium(CHROMIUM, CHROMEDRIVER, profile)
        check_pages(browser, origin, pages, shot_page)
        check_search(browser, origin, pages, args.search)
    except (RuntimeError, WebDriverException) as e:
        problem("browser-test", getattr(e, "msg", None) or str(e))
    finally:
        if browser:
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


def check_images_on_page(browser: Chromium, path: str, shown: dict[str, list[str]]) -> None:
    """Every image the page shows: loaded, with alt text, visible, with a size, at both widths."""
    wide = browser.js(IMAGE_FACTS)
    if not wide:
        return
    browser.width(NARROW)
    narrow = browser.js(IMAGE_FACTS)
    browser.width(WIDTH)
    if len(wide) != len(narrow):
        problem(path, f"{len(wide)} images at {WIDTH} px wide, {len(narrow)} at {NARROW} px")
        return
    for index, (d, n) in enumerate(zip(wide, narrow, strict=True)):
        src = urllib.parse.urlparse(d["src"]).path
        name = Path(src).stem
        shown.setdefault(src, []).append(path)
        kind = "diagram" if re.search(r"(^|/)diagrams/[^/]+\.svg$", src) else "image"
        where = f"{path}: {kind} {d['src']}"
        if not d["complete"] or min(d["natural"]) <= 0:
            problem(where, f"does not load as an image (natural size {d['natural']})")
            continue
        if not d["alt"].strip():
            problem(where, "has no alt text")
        if d["zoomCopy"]:
            continue  # drawn only when the reader clicks the image shown above it
        for m, width in ((d, WIDTH), (n, NARROW)):
            if not m["shown"] or m["w"] < 1 or m["h"] < 1:
                problem(where, f"not visible at {width}px ({m['w']:.0f}x{m['h']:.0f}, "
                               f"shown={m['shown']})")
            elif m["overflow"]:
                problem(where, f"wider than the page at {width}px ({m['w']:.0f}px)")
        if min(d["w"], d["h"]) >= 1:
            browser.screenshot_element(OUT / f"{kind}-{Path(path).stem}-{name}.png", index)


def check_svg_files(browser: Chromium, origin: str, shown: dict[str, list[str]]) -> int:
    """Every SVG of the book on its own (diagrams, plots), as the browser renders the file."""
    files = sorted(BOOK_SRC.rglob("*.svg"))
    for svg in files:
        rel = svg.relative_to(BOOK_SRC).as_posix()
        is_diagram = svg.parent == DIAGRAMS
        if svg.stat().st_size == 0:
            problem(rel, "is empty")
            continue
        status, loaded = browser.navigate(origin + rel)
        # A document that is not HTML makes Chromium ask for /favicon.ico, which mdbook's
        # output does not have (the pages name theirs); that request is not the SVG's.
        loaded["resources"] = [r for r in loaded["resources"]
                               if not r["url"].endswith("/favicon.ico")]
        page_problems(rel, status, loaded)
        for width in (WIDTH, NARROW):
            browser.width(width)
            f = browser.js(SVG_FACTS)
            if not f.get("svg"):
                problem(rel, f"does not open as an SVG document at {width}px")
                break
            # A diagram labels its boxes with <text>; a plot may draw its letters as paths.
            if f["w"] < 1 or f["h"] < 1 or (f["texts"] == 0 if is_diagram else f["paths"] == 0):
                problem(rel, f"draws nothing at {width}px ({f['w']:.0f}x{f['h']:.0f}, "
                             f"{f['texts']} texts, {f['paths']} shapes)")
        browser.width(WIDTH)
    rels = [svg.relative_to(BOOK_SRC).as_posix() for svg in files]
    unshown = [rel for rel in rels if not any(src.endswith(rel) for src in shown)]
    if unshown:
        print(f"browser-test: note: SVGs on no page yet (checked on their own): "
              f"{', '.join(unshown)}")
    return len(files)


def check_first_extension(links: list[tuple[str, dict]], pages: list[tuple[str, str]]) -> None:
    """The first-extension chapter links to the chapters it builds on (the link check has
    already made sure that each resolves)."""
    if FIRST_EXTENSION not in {p for p, _ in pages}:
        problem(FIRST_EXTENSION, "not in SUMMARY.md")
        return
    own = [link for p, link in links if p == FIRST_EXTENSION and link["where"] == "text"]
    chapters = {urllib.parse.urlparse(link["href"]).path.rsplit("/", 1)[-1] for link in own}
    for needed in ("02-base-types.html", "04-v1-calling.html", "07-pgxs.html"):
        if needed not in chapters:
            problem(FIRST_EXTENSION, f"no link to {needed}")
    print(f"browser-test: {FIRST_EXTENSION}: {len(own)} links in the text, to "
          f"{len(chapters)} pages (each resolves, or is listed as a problem)")


def check_pages(browser: Chromium, origin: str, pages: list[tuple[str, str]], shot: str) -> None:
    ids: dict[str, set[str] | None] = {}  # page URL -> its ids (None: does not load)
    shown: dict[str, list[str]] = {}  # image path -> pages that show it
    links: list[tuple[str, dict]] = []
    blocked: set[str] = set()
    for path, title in pages:
        url = origin + path
        status, loaded = browser.navigate(url)
        page_problems(path, status, loaded)
        blocked |= other_hosts(origin, loaded)
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
        check_images_on_page(browser, path, shown)
        if path == shot:
            browser.screenshot(OUT / Path(path).with_suffix(".png").name)
    check_first_extension(links, pages)
    n = check_svg_files(browser, origin, shown)
    on_pages = {p for ps in shown.values() for p in ps}
    print(f"browser-test: {len(shown)} images load and show on {len(on_pages)} pages, at "
          f"{WIDTH}px and {NARROW}px; {n} SVG files render on their own")
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
    status, loaded = browser.navigate(origin + first)
    page_problems(f"{first} (before search)", status, loaded)
    browser.js("document.activeElement && document.activeElement.blur()")
    browser.keys("s")
    deadline = time.monotonic() + 5
    while not browser.js("document.activeElement?.id === 'mdbook-searchbar'"):
        if time.monotonic() > deadline:
            problem(where, "pressing 's' did not open the search bar")
            return
        time.sleep(0.1)
    browser.keys(term)
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
        browser.keys(Keys.END)
    header = browser.js("document.getElementById('mdbook-searchresults-header').textContent")
    if not results:
        problem(where, f"no result within {SEARCH_TIMEOUT:.0f} s ({header.strip()!r})")
        return
    chapters = {origin + p for p, _ in pages}
    hits = [r for r in results if r.split("#")[0].split("?")[0] in chapters]
    if not hits:
        problem(where, f"{len(results)} result(s), none links to a chapter: {results[:3]}")
        return
    status, loaded = browser.navigate(hits[0])
    page_problems(f"{where}: first result", status, loaded)
    marked = browser.js("[...document.querySelectorAll('main mark')].map(m => m.textContent)")
    if not any(term.lower() in m.lower() or m.lower() in term.lower() for m in marked or []):
        problem(where, f"first result {hits[0][len(origin):]} does not mark {term!r} "
                       f"(marked: {marked[:5]})")
    print(f"browser-test: search {term!r}: {header.strip()}; first: {hits[0][len(origin):]}")


if __name__ == "__main__":
    sys.exit(main())
