"""A real Chromium on the built site: local server, browser launch, request guard, tabs.

Used by tests/test_browser.py, tests/test_search*.py, the other browser tests and the benchmarks that
open pages (benchmarks/bench_search.py, bench_search_quality.py, ...). Material's search box on such a
page is driven by tests/search_box.py (``SearchBox``).

* ``serve(site, mounts)`` serves a directory on 127.0.0.1 (ephemeral port) from a thread, at the
  root or under a path such as /knowledge-base/ (optionally answering a missing file with the
  site's 404.html, as GitHub Pages does).
* ``launch(playwright)`` starts headless Chromium: ``KB_CHROMIUM`` (a path, or ``playwright``),
  else Debian's /usr/bin/chromium (or any ``chromium`` on PATH) when there is one, else
  Playwright's own browser (``playwright install --with-deps chromium``, the CI workflow's).
  ``browser_unavailable()`` says why none can start.
* ``guard(context)`` records every request to a host other than 127.0.0.1 in the returned list;
  Chromium resolves no other host (``--host-resolver-rules`` in CHROMIUM_ARGS), so none is answered.
  A listener, not ``context.route``: routing switches the browser's HTTP cache off and sends every
  request through this process, which made each page load fetch the fonts and bundles again
  (the hostile-site scan of 56 pages: 23 s with routing, 16 s without).
* Under pytest-xdist every worker attaches to one Chromium per test run (``start_shared_chromium``,
  a Playwright browser server, tests/playwright_server.js) instead of starting its own; the
  controller stops it at the end (``stop_shared_chromium``, from tests/conftest.py).
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

# The features Playwright 1.65 (requirements.txt) switches off with its own --disable-features. Chromium
# heeds only the last --disable-features it is given, so the one in CHROMIUM_ARGS names these again
# (tests/test_chromium_switches.py checks that it still names every one Playwright passes) and adds the
# address bar's popup: new headless Chromium starts a WebUI renderer for it in every browser context
# (a window), which no test looks at; about a third of the browser's CPU for a context that loads one page.
PLAYWRIGHT_DISABLED_FEATURES = (
    "AvoidUnnecessaryBeforeUnloadCheckSync", "DestroyProfileOnBrowserClose", "HttpsUpgrades",
    "HttpsFirstBalancedModeAutoEnable", "LensOverlay", "MediaRouter", "PaintHolding", "ThirdPartyStoragePartitioning",
    "AvoidCorsURLLoaderRestartOnRedirect", "TcpPortRandomizationWin", "OptimizationHints", "NetworkTimeServiceQuerying",
    "AimEnabled", "PreconnectToSearch", "msForceBrowserSignIn", "msEdgeUpdateLaunchServicesPreferredVersion",
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--disable-features=" + ",".join(PLAYWRIGHT_DISABLED_FEATURES + ("WebUIOmniboxPopup", "WebUIOmniboxAimPopup")),
]
ALLOWED_HOSTS = {"127.0.0.1"}


def system_chromium() -> str | None:
    """The Chromium to launch instead of Playwright's own: ``KB_CHROMIUM`` (a path, or
    ``playwright`` for Playwright's own build even where another is installed, as on GitHub's
    runners, whose preinstalled Chromium is not the one Playwright was released with), else
    Debian's /usr/bin/chromium or a ``chromium`` on PATH; None for Playwright's own."""
    chosen = os.environ.get("KB_CHROMIUM", "")
    if chosen == "playwright":
        return None
    if chosen:
        if not Path(chosen).is_file():
            raise FileNotFoundError(f"KB_CHROMIUM={chosen}: no such file")
        return chosen
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    return shutil.which("chromium")


def browser_unavailable() -> str | None:
    """Why no Chromium can be launched here, or None when one can."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        return f"the playwright package is not installed ({exc}); pip install -r requirements.txt"
    try:
        if system_chromium():
            return None
    except FileNotFoundError as exc:
        return str(exc)
    with sync_playwright() as p:
        bundled = p.chromium.executable_path
    if bundled and Path(bundled).exists():
        return None
    return (
        "no Chromium: install Debian's chromium (apt-get install chromium fonts-noto-cjk) "
        "or run `python -m playwright install --with-deps chromium`"
    )


def launch(playwright, **kwargs):
    """Headless Chromium with the project's flags, preferring the system browser."""
    executable = system_chromium()
    options = {"headless": True, "args": CHROMIUM_ARGS, **kwargs}
    if executable:
        options["executable_path"] = executable
    return playwright.chromium.launch(**options)


SHARED_SERVER_JS = Path(__file__).with_name("playwright_server.js")
SHARED_START_S = 60


def start_shared_chromium(folder: Path, watch: int | None = None) -> str | None:
    """Start a Playwright browser server for the whole run; its endpoint goes to ``folder/endpoint``
    and its process group to ``folder/pid``. Returns an error text, or None once it is up. The
    server ends itself when process ``watch`` (default: this one's parent, the xdist controller) has."""
    import playwright
    from playwright._impl._driver import compute_driver_executable

    node, cli = compute_driver_executable()
    options = {"headless": True, "args": CHROMIUM_ARGS}
    if system_chromium():
        options["executablePath"] = system_chromium()
    (folder / "options.json").write_text(json.dumps(options), encoding="utf-8")
    endpoint = folder / "endpoint"
    with (folder / "server.log").open("wb") as log:
        proc = subprocess.Popen(
            [node, str(SHARED_SERVER_JS), str(Path(cli).parent), str(folder / "options.json"), str(endpoint),
             str(watch or os.getppid())],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            env=dict(os.environ, PLAYWRIGHT_SKIP_BROWSER_GC="1"))
    (folder / "pid").write_text(str(proc.pid), encoding="utf-8")
    deadline = time.monotonic() + SHARED_START_S
    while not endpoint.is_file():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            log_text = (folder / "server.log").read_text(encoding="utf-8", errors="replace")[-2000:]
            return f"the shared Chromium (Playwright {playwright.__version__} browser server) did not start:\n{log_text}"
        time.sleep(0.1)
    return None


def stop_shared_chromium(folder: Path) -> None:
    """End the browser server that :func:`start_shared_chromium` started in ``folder``, if any."""
    pid_file = folder / "pid"
    if not pid_file.is_file():
        return
    with contextlib.suppress(ProcessLookupError, ValueError):
        os.killpg(int(pid_file.read_text(encoding="utf-8")), signal.SIGTERM)
    pid_file.unlink()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the site at each path of ``mounts`` (longest first; "/" is the server's root); with
    ``pages_404`` a missing file is answered with the site's 404.html and status 404, as GitHub
    Pages answers, else with the standard library's error page."""

    mounts: tuple[str, ...] = ("/",)
    pages_404 = False

    def log_message(self, format, *args):  # keep pytest's output clean
        pass

    def end_headers(self):
        # as GitHub Pages answers: a page visited after another reuses the stylesheets, scripts
        # and fonts from the browser's cache (a new browser context starts with an empty one)
        self.send_header("Cache-Control", "max-age=600")
        super().end_headers()

    def translate_path(self, path):
        for mount in sorted(self.mounts, key=len, reverse=True):
            if path.startswith(mount):
                return super().translate_path("/" + path[len(mount):])
        return super().translate_path("/__outside_the_site__/")

    def send_error(self, code, message=None, explain=None):
        page = Path(self.directory) / "404.html"
        if code != 404 or not self.pages_404 or not page.is_file():
            return super().send_error(code, message, explain)
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        """A browser that drops a request it no longer needs (it navigated on) is no error; the
        default printed a traceback into the test output. Anything else is still printed."""
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


@contextlib.contextmanager
def serve(site: Path, mounts: tuple[str, ...] = ("/",), *, pages_404: bool = False):
    """Serve ``site`` on http://127.0.0.1:<free port> at each path of ``mounts`` for the duration of
    the block; yields the address of the first. ``pages_404``: see :class:`_QuietHandler`."""
    handler_class = type("_Handler", (_QuietHandler,), {"mounts": mounts, "pages_404": pages_404})
    handler = functools.partial(handler_class, directory=str(site))
    server = _Server(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{mounts[0]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def guard(context) -> list[str]:
    """Record every request to a host other than 127.0.0.1 (the browser cannot resolve one: see
    CHROMIUM_ARGS); return the list of those URLs."""
    blocked: list[str] = []

    def seen(request):
        parts = urlsplit(request.url)
        if parts.scheme not in ("data", "blob", "about") and parts.hostname not in ALLOWED_HOSTS:
            blocked.append(request.url)

    context.on("request", seen)
    return blocked


def site_pages(site: Path) -> list[str]:
    """URL paths of every built page (directory URLs: 'qna/adagrad/'), home first."""
    pages = []
    for html in sorted(site.rglob("index.html")):
        rel = html.parent.relative_to(site).as_posix()
        pages.append("" if rel == "." else rel + "/")
    return sorted(pages, key=lambda p: (p != "", p))


def ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


# --- pytest fixtures (imported by the browser test modules) ---------------------------------


class _Chromium:
    """One Playwright and one Chromium for the whole test session, shared by test modules."""

    users = 0
    playwright = None
    browser = None

    @classmethod
    def acquire(cls, shared: Path | None = None):
        """The browser: launched here, or (``shared``: a folder of :func:`start_shared_chromium`)
        the run's one Chromium, attached to over Playwright's protocol."""
        if cls.browser is None:
            from playwright.sync_api import sync_playwright

            cls.playwright = sync_playwright().start()
            if shared is None:
                cls.browser = launch(cls.playwright)
            else:
                cls.browser = cls.playwright.chromium.connect((shared / "endpoint").read_text(encoding="utf-8"))
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
def chromium(tmp_path_factory):
    """Headless Chromium; a missing browser skips locally (saying why) and fails under CI=true.
    Under pytest-xdist, one Chromium for all workers of the run (see :func:`start_shared_chromium`)."""
    why = browser_unavailable()
    if why:
        if ci():
            pytest.fail(f"CI=true and {why}", pytrace=False)
        pytest.skip(why)
    shared = None
    if os.environ.get("PYTEST_XDIST_WORKER") is not None:
        from conftest import once_per_run

        shared = once_per_run(tmp_path_factory, "chromium", start_shared_chromium)
    browser = _Chromium.acquire(shared)
    yield browser
    _Chromium.release()


@pytest.fixture(scope="session")
def site_url(built_site):
    """The strict build served at the root of 127.0.0.1, and at its published path too
    (conftest.SITE_URL), where the absolute paths of its 404 page point."""
    from conftest import SITE_URL

    with serve(built_site, ("/", urlsplit(SITE_URL).path)) as url:
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
        self.in_flight = 0  # requests sent and not yet finished or failed
        self.page.on("request", lambda r: self._count(+1))
        self.page.on("requestfinished", lambda r: self._count(-1))
        self.page.on("requestfailed", lambda r: self._count(-1))
        self.changed = time.monotonic()

    def _count(self, step: int) -> None:
        self.in_flight += step
        self.changed = time.monotonic()

    def goto(self, path: str = ""):
        self.page.goto(self.base + path, wait_until="load")
        return self.page

    def settle(self, quiet_ms: int = 150, timeout_ms: int = 15000) -> None:
        """Wait until no request has been in flight for ``quiet_ms``: Playwright's "networkidle",
        whose fixed 500 ms of quiet made up half of a test that visits every page."""
        end = time.monotonic() + timeout_ms / 1000
        while not (self.in_flight <= 0 and time.monotonic() - self.changed >= quiet_ms / 1000):
            if time.monotonic() > end:
                raise TimeoutError(f"{self.page.url}: {self.in_flight} request(s) still in flight")
            self.page.wait_for_timeout(20)  # lets Playwright deliver the events counted above

    def close(self):
        self.context.close()


def guarded(t):
    """Yield the tab ``t`` to a test, then close it; fail if it tried to reach another host."""
    yield t
    t.close()
    assert t.blocked == [], f"requests to other hosts were attempted: {t.blocked}"


@pytest.fixture
def tab(chromium, site_url):
    """A page on the served site; fails the test if it tried to reach another host."""
    yield from guarded(Tab(chromium, site_url))


@pytest.fixture(scope="module")
def shared_tab(chromium, site_url):
    """The site's home page in one tab for a whole test module (tests/test_search.py and
    tests/test_search_query.py); fails if it tried to reach another host or logged an error."""
    t = Tab(chromium, site_url)
    t.goto("")
    yield t
    t.close()
    assert t.blocked == [], f"requests to other hosts were attempted: {t.blocked}"
    assert t.errors == []


def used_fonts(page, selector: str) -> dict[str, int]:
    """The fonts Chromium drew a node's text with (DevTools protocol), by family name: glyph counts."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    return {f["familyName"]: f["glyphCount"] for f in fonts}
