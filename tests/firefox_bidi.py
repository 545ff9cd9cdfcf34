"""A small WebDriver BiDi client for a stock Firefox (Debian's firefox-esr), for the browser tests.

Playwright 1.65 cannot drive it: its Firefox is a patched build downloaded from Playwright's
servers, and its BiDi channel (``firefox.launch(channel="moz-firefox")``) sends
``emulation.setMediaFeaturesOverride`` on every new context, which Firefox ESR 153 answers with
"unknown command". Firefox itself speaks WebDriver BiDi (https://w3c.github.io/webdriver-bidi/)
when started with ``--remote-debugging-port``; no geckodriver is needed.

    with Firefox.launch() as ff:
        ctx = ff.new_tab(width=1280, height=900)
        ff.navigate(ctx, url)
        ff.call(ctx, "(a, b) => a + b", 1, 2)      # 3
        ff.screenshot(ctx, Path("shot.png"))

* ``Firefox.launch()`` starts ``firefox-esr --headless`` on a new empty profile in a temporary
  folder; Firefox writes the port it listens on to ``WebDriverBiDiServer.json`` there.
  ``close()`` ends the session, kills Firefox's process group (it starts content processes)
  and removes the folder.
* ``command(method, **params)`` sends one command and returns its result; a BiDi error raises
  :class:`BidiError` naming the command. Events that arrive meanwhile go to the handlers
  registered with ``on(event, handler)``; a handler may ``send`` commands without waiting.
* Values cross as JSON: arguments and results of ``call``/``evaluate`` are serialised with
  ``JSON.stringify`` in the page, so they must be JSON-serialisable.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from websockets.sync.client import connect

FIREFOX_CANDIDATES = ("/usr/bin/firefox-esr", "/usr/bin/firefox")


class BidiError(RuntimeError):
    """Firefox answered a command with an error, did not start, or closed the connection."""


def system_firefox() -> str | None:
    """Debian's firefox-esr (or a firefox on PATH); None when there is none."""
    for path in FIREFOX_CANDIDATES:
        if Path(path).exists():
            return path
    return shutil.which("firefox-esr") or shutil.which("firefox")


class Firefox:
    """One headless Firefox and one BiDi session on it."""

    def __init__(self, proc: subprocess.Popen, folder: Path, timeout: float):
        self.proc = proc
        self.folder = folder
        self.timeout = timeout
        self.ws = None
        self.version = ""
        self._ids = itertools.count(1)
        self._handlers: dict[str, list[Callable[[dict], None]]] = {}
        self._unanswered: dict[int, tuple[str, ...]] = {}  # sent by send(), answer not awaited -> harmless errors

    # --- start and stop -------------------------------------------------------------------------

    @classmethod
    def launch(cls, executable: str | None = None, timeout: float = 60) -> Firefox:
        """Start headless Firefox on an empty profile and open a BiDi session on it."""
        executable = executable or system_firefox()
        if not executable:
            raise BidiError("no Firefox: apt-get install firefox-esr")
        folder = Path(tempfile.mkdtemp(prefix="kb-firefox-"))
        (folder / "profile").mkdir()
        # The page is parsed in one go, as on a machine with time to spare: under load Gecko stops
        # parsing a long page to lay out what it has, and a MathML element caught with only some of
        # its children logs "Invalid markup: Incorrect number of children for <msub/> tag", though
        # the page's markup is whole (seen once on papers/batch-normalization/ in a loaded CI run).
        (folder / "profile" / "user.js").write_text('user_pref("content.interrupt.parsing", false);\n',
                                                    encoding="utf-8")
        log = open(folder / "firefox.log", "wb")
        proc = subprocess.Popen(
            [executable, "--headless", "--no-remote", "--remote-debugging-port=0",
             "--profile", str(folder / "profile")],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,  # own process group
        )
        log.close()
        ff = cls(proc, folder, timeout)
        try:
            ff._connect()
        except BaseException:
            ff.close()
            raise
        return ff

    def _connect(self):
        port_file = self.folder / "profile" / "WebDriverBiDiServer.json"
        deadline = time.monotonic() + self.timeout
        while not port_file.exists() or not port_file.read_text().strip().endswith("}"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise BidiError(f"{self.proc.args[0]} did not start its BiDi server within "
                                f"{self.timeout:.0f} s (exit code {self.proc.poll()}); its log:\n{self.log_tail()}")
            time.sleep(0.1)
        server = json.loads(port_file.read_text())
        url = f"ws://{server['ws_host']}:{server['ws_port']}/session"
        # screenshots of long pages are several MB; Firefox pings are not answered quickly under load
        self.ws = connect(url, legacy=True,  # a connection closed by close(), not a context manager
                          max_size=None, ping_interval=None, open_timeout=self.timeout, proxy=None)
        session = self.command("session.new", capabilities={})
        self.version = session["capabilities"]["browserVersion"]

    def log_tail(self, lines: int = 20) -> str:
        path = self.folder / "firefox.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def close(self):
        """End the session, stop Firefox and its child processes, remove the profile."""
        try:
            if self.ws is not None:
                try:
                    self.command("session.end")
                except (BidiError, OSError):
                    pass  # Firefox may already be gone; it is killed below either way
                self.ws.close()
        finally:
            self._kill()
            shutil.rmtree(self.folder, ignore_errors=True)

    def _kill(self):
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.proc.wait(timeout=10)
                return
            except subprocess.TimeoutExpired:
                continue

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- protocol ---------------------------------------------------------------------------------

    def send(self, method: str, _harmless: tuple[str, ...] = (), **params) -> int:
        """Send a command without waiting for its answer. An error answer raises later, unless
        its error code is one of ``_harmless``."""
        cid = next(self._ids)
        self.ws.send(json.dumps({"id": cid, "method": method, "params": params}))
        self._unanswered[cid] = _harmless
        return cid

    def command(self, method: str, **params) -> dict:
        """Send a command and return its result; dispatch the events that arrive meanwhile."""
        cid = self.send(method, **params)
        self._unanswered.pop(cid, None)
        deadline = time.monotonic() + self.timeout
        while True:
            left = deadline - time.monotonic()
            try:
                message = json.loads(self.ws.recv(timeout=max(left, 0)))
            except TimeoutError:
                raise BidiError(f"{method}: no answer from Firefox within {self.timeout:.0f} s") from None
            except Exception as exc:  # the connection closed: Firefox crashed or was killed
                raise BidiError(f"{method}: connection to Firefox lost ({exc})\n{self.log_tail()}") from exc
            if message.get("type") == "event":
                for handler in self._handlers.get(message["method"], []):
                    handler(message["params"])
            elif message.get("id") == cid:
                if message.get("type") == "error":
                    raise BidiError(f"{method}: {message['error']}: {message.get('message', '')}")
                return message["result"]
            elif message.get("id") in self._unanswered:
                harmless = self._unanswered.pop(message["id"])
                if message.get("type") == "error" and message.get("error") not in harmless:
                    raise BidiError(f"command {message['id']} sent earlier: {message['error']}: "
                                    f"{message.get('message', '')}")

    def on(self, event: str, handler: Callable[[dict], None]):
        """Call ``handler(params)`` for each ``event`` (subscribe with ``session.subscribe``)."""
        self._handlers.setdefault(event, []).append(handler)

    # --- conveniences used by the tests ---------------------------------------------------------

    def new_tab(self, width: int = 1280, height: int = 900) -> str:
        """A new top-level browsing context (a tab) with the given viewport; returns its id."""
        ctx = self.command("browsingContext.create", type="tab")["context"]
        self.command("browsingContext.setViewport", context=ctx, viewport={"width": width, "height": height})
        return ctx

    def navigate(self, ctx: str, url: str) -> str:
        """Load ``url`` and wait for its load event; returns the URL loaded."""
        return self.command("browsingContext.navigate", context=ctx, url=url, wait="complete")["url"]

    def call(self, ctx: str, function: str, *args):
        """Run a JavaScript function with JSON arguments in the page; awaits a returned promise."""
        wrapper = f"async (args) => JSON.stringify(await ({function})(...JSON.parse(args)))"
        result = self.command(
            "script.callFunction", functionDeclaration=wrapper, awaitPromise=True,
            target={"context": ctx}, arguments=[{"type": "string", "value": json.dumps(args)}],
        )
        return self._value(result, function)

    def evaluate(self, ctx: str, expression: str):
        """Evaluate a JavaScript expression in the page; awaits a promise; returns its JSON value."""
        result = self.command(
            "script.evaluate", expression=f"(async () => JSON.stringify(await ({expression})))()",
            awaitPromise=True, target={"context": ctx},
        )
        return self._value(result, expression)

    @staticmethod
    def _value(result: dict, source: str):
        if result["type"] == "exception":
            details = result["exceptionDetails"]
            raise BidiError(f"JavaScript error: {details['text']}\n  in: {source.strip()[:200]}")
        value = result["result"]
        return None if value["type"] == "undefined" else json.loads(value["value"])

    def screenshot(self, ctx: str, path: Path, full_page: bool = True) -> Path:
        """Save a PNG of the viewport, or of the whole document with ``full_page``."""
        data = self.command("browsingContext.captureScreenshot", context=ctx,
                            origin="document" if full_page else "viewport")["data"]
        path.write_bytes(base64.b64decode(data))
        return path
