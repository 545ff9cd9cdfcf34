"""Math as a reader sees it in a real Firefox (Debian's firefox-esr, driven over WebDriver BiDi by
tests/firefox_bidi.py): the shipped math font, stretchy fences, a display-size Σ, the page of every
formula and the same formulas beside KaTeX (screenshots in test-artifacts/), and no request to
another host. The checks and the page-building JavaScript are tests/test_reader_math.py's, which
runs them in Chromium; Firefox lays MathML out with its own engine, so both are tested.
"""

from __future__ import annotations

import base64
import json
import mimetypes
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from browser_helpers import ALLOWED_HOSTS, ci, guarded, site_url  # noqa: F401  (site_url is a fixture)
from test_reader_math import (
    ARTIFACTS, COMPARE_CSS, EVERY_FORMULA_JS, KATEX_DIR, MATH_FONT, MATH_FONT_JS, SIDE_BY_SIDE_JS,
    STRETCH_JS, _every_formula, katex_items, require_katex,
)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("test_reader_firefox")]  # one Firefox, on one worker (pytest.ini)


def firefox_unavailable() -> str | None:
    """Why no Firefox can be driven here, or None when one can."""
    try:
        from firefox_bidi import system_firefox
    except ImportError as exc:
        return f"the websockets package is not installed ({exc}); pip install -r requirements.txt"
    if system_firefox() is None:
        return "no Firefox: install Debian's firefox-esr (apt-get install firefox-esr)"
    return None


@pytest.fixture(scope="module")
def firefox():
    """Headless Firefox over BiDi; a missing or broken Firefox skips locally and fails under CI=true."""
    why = firefox_unavailable()
    if why is None:
        from firefox_bidi import BidiError, Firefox

        try:
            ff = Firefox.launch()
        except BidiError as exc:
            why = f"Firefox did not start: {exc}"
    if why:
        if ci():
            pytest.fail(f"CI=true and {why}", pytrace=False)
        pytest.skip(why)
    yield ff
    ff.close()


# Answer to letting a blocked request go (continue, fail, respond) when the page has already
# dropped it (navigated on, or the request was cancelled): nothing is left to let go.
GONE = ("no such request",)


# How many element children each MathML script and fraction element has; what the page's elements of
# a name have, when Firefox said some had another number (FirefoxTab.console_errors)
MATHML_CHILDREN = {"mfrac": 2, "mroot": 2, "msub": 2, "msup": 2, "munder": 2, "mover": 2, "msubsup": 3, "munderover": 3}
MISCOUNT_RE = re.compile(r"javascript: Invalid markup: Incorrect number of children for <(\w+)/> tag\.$")
MISCOUNTED_JS = """(counts) => Object.entries(counts).flatMap(([tag, n]) =>
  [...document.getElementsByTagName(tag)].filter(e => e.children.length !== n).map(() => tag))"""


class FirefoxTab:
    """A Firefox tab on the served site. Requests to a host other than 127.0.0.1 are failed and
    recorded in ``blocked`` (as browser_helpers.guard does in Chromium); paths under a prefix of
    ``files`` are answered from that folder; console errors and uncaught exceptions go to ``errors``."""

    def __init__(self, ff, base_url: str, files: dict[str, Path] | None = None):
        self.ff, self.base, self.files = ff, base_url, files or {}
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.ctx = ff.new_tab(width=1280, height=900)
        ff.on("network.beforeRequestSent", self._request)
        ff.on("log.entryAdded", self._log)
        ff.command("session.subscribe", events=["network.beforeRequestSent", "log.entryAdded"],
                   contexts=[self.ctx])
        ff.command("network.addIntercept", phases=["beforeRequestSent"], contexts=[self.ctx])

    def _request(self, event: dict):
        if event["context"] != self.ctx or not event.get("isBlocked"):
            return
        url, request = event["request"]["url"], event["request"]["request"]
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about") or parts.hostname in ALLOWED_HOSTS:
            for prefix, folder in self.files.items():
                if parts.path.startswith(prefix):
                    return self._answer(request, folder / parts.path[len(prefix):])
            self.ff.send("network.continueRequest", GONE, request=request)
        else:
            self.blocked.append(url)
            self.ff.send("network.failRequest", GONE, request=request)

    def _answer(self, request: str, path: Path):
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        self.ff.send("network.provideResponse", GONE, request=request, statusCode=200, reasonPhrase="OK",
                     headers=[{"name": "Content-Type", "value": {"type": "string", "value": kind}}],
                     body={"type": "base64", "value": base64.b64encode(path.read_bytes()).decode()})

    def _log(self, entry: dict):
        if entry["source"].get("context") == self.ctx and entry["level"] == "error":
            self.errors.append(f"{entry['type']}: {entry['text']}")

    def console_errors(self) -> list[str]:
        """``errors`` once Firefox has sent what it logged so far (its log events can arrive
        after the answer to the command that caused them). Firefox also reports a MathML element
        laid out while the page was still arriving, before its last child was parsed ("Incorrect
        number of children for <mover/> tag", seen once in a fresh-clone run); such a report stays
        an error only if an element of that name in the page has the wrong number of children."""
        self.call("() => new Promise(done => setTimeout(done, 100)).then(() => null)")
        miscounted = set(self.call(MISCOUNTED_JS, MATHML_CHILDREN)) if any(
            MISCOUNT_RE.match(e) for e in self.errors) else set()
        return [e for e in self.errors if not ((m := MISCOUNT_RE.match(e)) and m.group(1) not in miscounted)]

    def goto(self, path: str = "") -> FirefoxTab:
        self.ff.navigate(self.ctx, self.base + path)
        return self

    def call(self, function: str, *args):
        return self.ff.call(self.ctx, function, *args)

    def load(self, tag: str, url: str):
        """Add a <script src> or <link rel=stylesheet href> to the page and wait until it loads."""
        self.call("""(tag, url) => new Promise((resolve, reject) => {
          const el = document.createElement(tag);
          if (tag === "link") { el.rel = "stylesheet"; el.href = url; } else { el.src = url; }
          el.onload = resolve;
          el.onerror = () => reject(new Error(`could not load ${url}`));
          document.head.appendChild(el);
        })""", tag, url)

    def close(self):
        self.ff.command("browsingContext.close", context=self.ctx)


@pytest.fixture
def ftab(firefox, site_url):
    """A Firefox tab on the served site; fails the test if it tried to reach another host."""
    yield from guarded(FirefoxTab(firefox, site_url))


@pytest.mark.parametrize("path", ["notebooks/attention/", "qna/adagrad/"])
def test_math_uses_the_shipped_font_in_firefox(ftab, path):
    got = ftab.goto(path).call(MATH_FONT_JS, MATH_FONT)
    first = got["computed"].split(",")[0].strip().strip('"')
    assert first == MATH_FONT, f"{path}: <math> font-family is {got['computed']}"
    assert got["faces"] == ["loaded"], f"{path}: the math font did not load: {got['faces']}"
    assert got["check"]
    assert ftab.console_errors() == []


def test_fences_stretch_around_a_fraction_in_firefox(ftab):
    # softmax(QKᵀ/√d_k): \\left( \\frac{..}{..} \\right) in the attention notebook
    got = ftab.goto("notebooks/attention/").call(STRETCH_JS)
    assert got["fences"], "no \\left( \\frac ... \\right) on the page"
    for f in got["fences"]:
        assert f["fence"] > got["line"], f"fence {f['fence']:.1f} px is not taller than a text line ({got['line']} px)"
        assert f["fence"] >= 0.9 * f["inner"], f"fence {f['fence']:.1f} px does not cover the fraction ({f['inner']:.1f} px)"
    assert ftab.console_errors() == []


def test_display_sum_is_display_size_in_firefox(ftab):
    # STIX Two Math's display ∑ is 1.36 em tall, its text ∑ 0.92 em (measured in Chromium)
    got = ftab.goto("papers/batch-normalization/").call(STRETCH_JS)
    assert got["sums"], "no display ∑ on the page"
    for s in got["sums"]:
        assert s["sum"] > 1.2 * s["size"], f"display ∑ is {s['sum']:.1f} px at font size {s['size']:.1f} px: text size"
    assert ftab.console_errors() == []


def test_page_of_every_formula_in_firefox(ftab, built_site):
    formulas = _every_formula(built_site)
    assert len(formulas) >= 100
    ftab.goto("404.html")  # any page of the site: its stylesheets and fonts, then our content
    assert ftab.call(EVERY_FORMULA_JS, formulas) == len(formulas)
    assert ftab.call(MATH_FONT_JS, MATH_FONT)["faces"] == ["loaded"]
    heights = ftab.call("() => [...document.querySelectorAll('article math')].map(m => m.getBoundingClientRect().height)")
    assert len(heights) == len(formulas) and all(h > 0 for h in heights)
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ftab.ff.screenshot(ftab.ctx, ARTIFACTS / "formulas-firefox.png")
    assert shot.stat().st_size > 50_000
    assert ftab.console_errors() == []


def test_every_formula_side_by_side_with_katex_in_firefox(firefox, site_url, built_site):
    require_katex()
    items = katex_items(built_site)
    # KaTeX's files are answered under /__katex/ on the same local server (its fonts must be same-origin)
    t = FirefoxTab(firefox, site_url, files={"/__katex/": KATEX_DIR})
    try:
        t.goto("404.html")
        t.load("link", "/__katex/katex.min.css")
        t.load("script", "/__katex/katex.min.js")
        t.call("(css) => { document.head.appendChild(document.createElement('style')).textContent = css; }", COMPARE_CSS)
        rows = t.call(SIDE_BY_SIDE_JS, items)
        t.call("() => document.fonts.ready.then(() => null)")
        ARTIFACTS.mkdir(exist_ok=True)
        firefox.screenshot(t.ctx, ARTIFACTS / "formulas-vs-katex-firefox.png")
        errors = t.console_errors()
    finally:
        t.close()
    assert t.blocked == [] and errors == []
    assert [r for r in rows if r["error"]] == [], "TeX on the site that KaTeX does not accept"
    assert all(r["ours"] > 0 and r["katex"] > 0 for r in rows)


def test_request_guard_sees_other_hosts_in_firefox(firefox, site_url):
    # the guard behind every test above: a page that asks another host is caught, not let through
    t = FirefoxTab(firefox, site_url)
    try:
        t.goto("404.html")
        t.call("""() => new Promise(done => { const img = new Image();
          img.onerror = img.onload = () => done(null); img.src = "http://example.com/kb-guard.png"; })""")
    finally:
        t.close()
    assert t.blocked == ["http://example.com/kb-guard.png"]


class _Wire:
    """Firefox's side of the websocket, scripted: the answers it sends, in order."""

    def __init__(self, answers: list[dict]):
        self.answers = [json.dumps(a) for a in answers]
        self.sent: list[dict] = []

    def send(self, text: str):
        self.sent.append(json.loads(text))

    def recv(self, timeout=None):
        return self.answers.pop(0)


@pytest.mark.parametrize("error, raises", [("no such request", False), ("unknown error", True)])
def test_an_error_answer_to_an_earlier_command_raises_unless_harmless(error, raises):
    """Letting go of a request the page already dropped is harmless; any other error is not."""
    from firefox_bidi import BidiError, Firefox

    ff = Firefox(proc=None, folder=Path("."), timeout=5)
    ff.ws = _Wire([{"type": "error", "id": 1, "error": error, "message": "x"},
                   {"type": "success", "id": 2, "result": {"ok": True}}])
    ff.send("network.continueRequest", GONE, request="r1")
    if raises:
        with pytest.raises(BidiError, match=f"command 1 sent earlier: {error}"):
            ff.command("session.status")
    else:
        assert ff.command("session.status") == {"ok": True}
