"""A real Chromium on the built site: local server, browser launch, request guard, search box.

Used by tests/test_browser.py, tests/test_search.py and kb/bench_search.py, kb/bench_search_quality.py.

* ``serve(site)`` serves a directory on 127.0.0.1 (ephemeral port) from a thread.
* ``launch(playwright)`` starts headless Chromium: Debian's /usr/bin/chromium (or any
  ``chromium`` on PATH) when there is one, else Playwright's own browser
  (``playwright install chromium``). ``browser_unavailable()`` says why none can start.
* ``guard(context)`` lets requests reach 127.0.0.1 only; every other host is aborted and
  recorded in the returned list.
* ``SearchBox`` types into Material's search box and reads the result list.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ALLOWED_HOSTS = {"127.0.0.1"}


def system_chromium() -> str | None:
    """Debian's Chromium, or a ``chromium`` on PATH; None when there is neither."""
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    return shutil.which("chromium")


def browser_unavailable() -> str | None:
    """Why no Chromium can be launched here, or None when one can."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        return f"the playwright package is not installed ({exc}); pip install -r requirements.txt"
    if system_chromium():
        return None
    with sync_playwright() as p:
        bundled = p.chromium.executable_path
    if bundled and Path(bundled).exists():
        return None
    return (
        "no Chromium: install Debian's chromium (apt-get install chromium fonts-noto-cjk) "
        "or run `python -m playwright install chromium`"
    )


def launch(playwright, **kwargs):
    """Headless Chromium with the project's flags, preferring the system browser."""
    executable = system_chromium()
    options = {"headless": True, "args": CHROMIUM_ARGS, **kwargs}
    if executable:
        options["executable_path"] = executable
    return playwright.chromium.launch(**options)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # keep pytest's output clean
        pass


@contextlib.contextmanager
def serve(site: Path):
    """Serve ``site`` on http://127.0.0.1:<free port>/ for the duration of the block."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def guard(context) -> list[str]:
    """Abort every request to a host other than 127.0.0.1; return the list of those URLs."""
    blocked: list[str] = []

    def handle(route):
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about") or parts.hostname in ALLOWED_HOSTS:
            route.continue_()
        else:
            blocked.append(url)
            route.abort("blockedbyclient")

    context.route("**/*", handle)
    return blocked


def site_pages(site: Path) -> list[str]:
    """URL paths of every built page (directory URLs: 'qna/adagrad/'), home first."""
    pages = []
    for html in sorted(site.rglob("index.html")):
        rel = html.parent.relative_to(site).as_posix()
        pages.append("" if rel == "." else rel + "/")
    return sorted(pages, key=lambda p: (p != "", p))


# Material's search box. Material searches on `keyup`; Playwright's keyboard.type() of
# Hangul fires no keyup, so text is inserted and End pressed (which fires keyup).
_MEASURE_JS = """
() => { window.__kbSearchResult = new Promise(resolve => {
  const input = document.querySelector("input.md-search__input");
  const list = document.querySelector(".md-search-result__list");
  const meta = document.querySelector(".md-search-result__meta");
  let t0 = null;
  input.addEventListener("keyup", () => { if (t0 === null) t0 = performance.now(); },
                         { capture: true, once: true });
  const observer = new MutationObserver(() => {
    if (t0 === null) return;
    observer.disconnect();
    const links = [...list.querySelectorAll(":scope > li")].map(li => {
      const a = li.querySelector("a.md-search-result__link");
      return a ? a.href : null;
    });
    resolve({
      ms: performance.now() - t0,
      links,
      meta: meta.textContent,
      marks: list.querySelectorAll("mark").length,
    });
  });
  observer.observe(list.parentElement, { childList: true, subtree: true, characterData: true });
}); }
"""


class SearchBox:
    """Material's search box on an open page."""

    INPUT = "input.md-search__input"
    META = ".md-search-result__meta"

    def __init__(self, page, base_url: str):
        self.page = page
        self.base = base_url

    def open(self, timeout_ms: int = 15000):
        """Focus the box and wait until the search worker has loaded the index."""
        page = self.page
        page.locator(self.INPUT).focus()
        placeholder = page.evaluate("() => JSON.parse(document.getElementById('__config').textContent)"
                                    ".translations['search.result.placeholder']")
        page.wait_for_function(
            "(text) => document.querySelector('.md-search-result__meta').textContent.trim() === text",
            arg=placeholder,
            timeout=timeout_ms,
        )
        # search-ko.js orders results with its own copy of the index, fetched on first focus
        page.wait_for_function("() => !window.kbSearchKo || window.kbSearchKo.ready()", timeout=timeout_ms)

    def clear(self):
        page = self.page
        page.locator(self.INPUT).fill("")
        page.keyboard.press("End")  # keyup: Material searches for "" and shows the placeholder

    def search(self, query: str, timeout_ms: int = 10000) -> dict:
        """Type ``query`` and return {ms, paths, meta, marks} of the first result render."""
        page = self.page
        self.clear()
        page.wait_for_function(
            "() => document.querySelector('.md-search-result__list').children.length === 0"
        )
        page.evaluate(_MEASURE_JS)
        page.locator(self.INPUT).focus()
        page.keyboard.insert_text(query)
        page.keyboard.press("End")
        result = page.evaluate("() => window.__kbSearchResult", None)  # awaits the first render
        result["paths"] = [self.path_of(href) for href in result.pop("links") if href]
        return result

    def path_of(self, href: str) -> str:
        """'http://127.0.0.1:1234/qna/adagrad/?h=x#frag' -> 'qna/adagrad/'."""
        parts = urlsplit(href)
        base = urlsplit(self.base).path
        path = parts.path
        return path[len(base):] if path.startswith(base) else path.lstrip("/")


def ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


# --- pytest fixtures (imported by the browser test modules) ---------------------------------


class _Chromium:
    """One Playwright and one Chromium for the whole test session, shared by test modules."""

    users = 0
    playwright = None
    browser = None

    @classmethod
    def acquire(cls):
        if cls.browser is None:
            from playwright.sync_api import sync_playwright

            cls.playwright = sync_playwright().start()
            cls.browser = launch(cls.playwright)
        cls.users += 1
        return cls.browser

    @classmethod
    def release(cls):
        cls.users -= 1
        if cls.users == 0 and cls.browser is not None:
            cls.browser.close()
            cls.playwright.stop()
            cls.browser = cls.playwright = None


@pytest.fixture(scope="session")
def chromium():
    """Headless Chromium; a missing browser skips locally (saying why) and fails under CI=true."""
    why = browser_unavailable()
    if why:
        if ci():
            pytest.fail(f"CI=true and {why}", pytrace=False)
        pytest.skip(why)
    browser = _Chromium.acquire()
    yield browser
    _Chromium.release()


@pytest.fixture(scope="session")
def site_url(built_site):
    """The strict build served on 127.0.0.1."""
    with serve(built_site) as url:
        yield url


class Tab:
    """A fresh browser context and page with the request guard and console capture."""

    def __init__(self, browser, base_url: str, **context_options):
        self.context = browser.new_context(**context_options)
        self.blocked = guard(self.context)
        self.page = self.context.new_page()
        self.base = base_url
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(f"console.{m.type}: {m.text}")
                     if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))

    def goto(self, path: str = ""):
        self.page.goto(self.base + path, wait_until="load")
        return self.page

    def close(self):
        self.context.close()


@pytest.fixture
def tab(chromium, site_url):
    """A page on the served site; fails the test if it tried to reach another host."""
    t = Tab(chromium, site_url)
    yield t
    t.close()
    assert t.blocked == [], f"requests to other hosts were attempted: {t.blocked}"
