"""The built site in a real Chromium: pages load cleanly and offline, math renders as MathML,
the copy button copies the code shown, the Q&A index filters, and both colour schemes render
Hangul (screenshots in test-artifacts/).

The site is served on 127.0.0.1 only; every request to another host fails, is recorded and
fails the test (the `tab` fixture; test_the_guard_records_and_stops_every_request_to_another_host).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from browser_helpers import Tab, chromium, site_pages, site_url, tab  # noqa: F401  (fixtures)
from conftest import DOCS

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
INLINE_CODE = re.compile(r"`[^`\n]+`")
# $$...$$, or $...$ with no space just inside the dollars (CONTRIBUTING.md)
MATH = re.compile(r"\$\$.+?\$\$|\$(?=\S)[^$\n]+?(?<=\S)\$", re.S)


def page_of(source: Path) -> str:
    rel = source.relative_to(DOCS).with_suffix("").as_posix()
    if rel == "index":
        return ""
    return rel.removesuffix("/index") + "/" if rel.endswith("/index") else rel + "/"


def markdown_of(source: Path) -> str:
    """A page's Markdown: the file, or a notebook's Markdown cells."""
    if source.suffix == ".ipynb":
        cells = json.loads(source.read_text(encoding="utf-8"))["cells"]
        return "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return source.read_text(encoding="utf-8")


def pages_with_math() -> list[str]:
    out = []
    for source in sorted([*DOCS.rglob("*.md"), *DOCS.rglob("*.ipynb")]):
        if ".ipynb_checkpoints" in source.parts:
            continue
        text = INLINE_CODE.sub("", FENCE.sub("", markdown_of(source)))
        if MATH.search(text):
            out.append(page_of(source))
    return out


def test_every_page_loads_without_console_errors(chromium, site_url, built_site):
    pages = site_pages(built_site)
    assert len(pages) >= 15
    t = Tab(chromium, site_url)
    failed_requests: list[str] = []
    visit, sent_on = [0], {}  # which visit sent each request
    t.page.on("request", lambda r: sent_on.__setitem__(r, visit[0]))

    def failed(r):
        # A request of the page before, cut short by going to the next one, is no failure; nor is
        # the browser's own favicon fetch given up under load (a missing favicon is still an HTTP 404).
        cut_short = r.failure == "net::ERR_ABORTED" and (
            sent_on.get(r) != visit[0] or r.url.endswith("/assets/images/favicon.png"))
        if not cut_short:
            failed_requests.append(f"{r.url}: {r.failure}")

    t.page.on("requestfailed", failed)
    t.page.on("response", lambda r: failed_requests.append(f"{r.url}: HTTP {r.status}") if r.status >= 400 else None)
    problems = {}
    try:
        for path in pages:
            t.errors.clear()
            failed_requests.clear()
            visit[0] += 1
            t.goto(path)
            t.settle()
            if t.errors or failed_requests:
                problems[path or "/"] = t.errors + failed_requests
    finally:
        t.close()
    assert t.blocked == [], f"requests to other hosts were attempted: {t.blocked}"
    assert problems == {}


# The article's visible text outside code (a page may quote TeX in `code` on purpose) and
# outside <math> (whose TeX annotation is not displayed).
VISIBLE_PROSE_JS = """() => {
  const article = document.querySelector("article");
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
  const parts = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (el.closest("code, pre, math, script, style")) continue;
    if (!el.checkVisibility()) continue;
    parts.push(node.textContent);
  }
  return parts.join(" ");
}"""


@pytest.mark.parametrize("path", pages_with_math())
def test_math_is_rendered_as_mathml(tab, path):
    page = tab.goto(path)
    sizes = page.eval_on_selector_all(
        "article math", "els => els.map(m => { const r = m.getBoundingClientRect(); return [r.width, r.height]; })"
    )
    assert sizes, f"{path}: the page has formulas but no <math> element"
    assert all(w > 0 and h > 0 for w, h in sizes), f"{path}: a <math> element has no size"
    prose = page.evaluate(VISIBLE_PROSE_JS)
    for raw in ("$$", "\\frac", "\\sqrt", "\\beta", "\\alpha", "\\nabla", "\\sum"):
        assert raw not in prose, f"{path}: raw TeX {raw!r} in the visible text"
    assert tab.errors == []


def test_copy_button_copies_exactly_the_code_shown(chromium, site_url, built_site):
    # Material's code blocks (<pre><code>), which get the copy button; notebook cells
    # (mkdocs-jupyter's <pre> without <code>) do not
    pages = [p for p in site_pages(built_site)
             if BeautifulSoup((built_site / p / "index.html").read_text(encoding="utf-8"), "html.parser")
             .select_one("article pre > code")]
    assert pages, "no page with a code block"
    t = Tab(chromium, site_url)
    t.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site_url.rstrip("/"))
    checked = 0
    try:
        for path in pages:
            page = t.goto(path)
            # code inside folded sections (흔한 실수: question first, the diff inside) as a reader opens it
            page.evaluate("() => document.querySelectorAll('article details').forEach(d => { d.open = true; })")
            # each button's target, whether it is folded, whether its target is the code of its own
            # block, and that code's text as shown: asked of the page at once
            info = page.evaluate("""() => Array.from(document.querySelectorAll(
                'button.md-code__button[data-clipboard-target]')).map(b => {
                  const target = b.getAttribute('data-clipboard-target'), c = document.querySelector(target);
                  const box = e => e.closest('div.highlight') || e.closest('pre');
                  return {target, folded: !!b.closest('details'), shown: c ? c.innerText : null,
                          own: !!c && c.tagName === 'CODE' && !!box(b) && box(c) === box(b)};
                })""")
            assert info, f"{path}: code block without a copy button"
            # every button outside folded sections, and the first inside them (the 흔한 실수 diffs:
            # dozens of the same kind; the rest are checked to target the code of their own block)
            folded = [b["folded"] for b in info]
            first_folded = folded.index(True) if True in folded else -1
            for i, button_info in enumerate(info):
                target = button_info["target"]
                assert button_info["own"], f"{path} {target}: the button copies another block's code"
                if folded[i] and i != first_folded:
                    continue
                shown = button_info["shown"]
                # the button scrolled into view, then clicked where it is, as a reader's pointer would
                x, y = page.evaluate("""async (i) => {
                  await navigator.clipboard.writeText('(nothing copied)');
                  const b = document.querySelectorAll('button.md-code__button[data-clipboard-target]')[i];
                  b.scrollIntoView({block: 'center'});
                  const r = b.getBoundingClientRect();
                  return [r.x + r.width / 2, r.y + r.height / 2];
                }""", i)
                page.mouse.click(x, y)
                copied = page.evaluate("""async () => {
                  const end = Date.now() + 10000;  // the copy lands after the click's handlers run
                  while (Date.now() < end) {
                    const text = await navigator.clipboard.readText();
                    if (text !== '(nothing copied)') return text;
                    await new Promise(r => setTimeout(r, 10));
                  }
                  return '(nothing copied within 10 s)';
                }""")
                assert copied.rstrip("\n") == shown.rstrip("\n"), f"{path} {target}"
                checked += 1
    finally:
        t.close()
    assert t.blocked == [] and t.errors == []
    assert checked > 0


def _hangul_has_glyphs(page) -> bool:
    """Whether the page's font draws 가 differently from a character no font has (tofu)."""
    return page.evaluate(
        """() => {
          const font = getComputedStyle(document.querySelector("article")).fontFamily;
          const draw = (ch) => {
            const c = document.createElement("canvas");
            c.width = 64; c.height = 64;
            const g = c.getContext("2d");
            g.font = `48px ${font}`;
            g.fillText(ch, 4, 52);
            return g.getImageData(0, 0, 64, 64).data.join(",");
          };
          return draw("가") !== draw("\\u{10FFFD}") && draw("가") !== draw("각");
        }"""
    )


@pytest.mark.parametrize("scheme, palette", [("light", "default"), ("dark", "slate")])
def test_qna_page_screenshot_in_light_and_dark(chromium, site_url, scheme, palette):
    t = Tab(chromium, site_url, color_scheme=scheme, viewport={"width": 1280, "height": 900},
            device_scale_factor=1)
    try:
        page = t.goto("qna/momentum-vs-nag/")
        t.settle()
        assert page.locator("body").get_attribute("data-md-color-scheme") == palette
        assert page.evaluate("() => document.fonts.ready.then(() => true)")
        assert _hangul_has_glyphs(page), "Hangul renders as boxes: install fonts-noto-cjk"
        title = page.locator("article h1").inner_text()
        assert "모멘텀" in title
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / f"qna-momentum-vs-nag-{scheme}.png"
        page.screenshot(path=str(shot), full_page=False)
        assert shot.stat().st_size > 20_000
    finally:
        t.close()
    assert t.blocked == [] and t.errors == []


# --- Q&A index filters -------------------------------------------------------------------


def _rows(page):
    return page.eval_on_selector_all(
        ".kb-qna-index tbody tr",
        """rows => rows.map(r => ({
            hidden: r.hidden,
            status: (r.cells[1].querySelector('.kb-status').className.match(/kb-status--(\\w+)/) || [])[1],
            tags: [...r.cells[2].querySelectorAll('code')].map(c => c.textContent.trim()),
        }))""",
    )


def test_qna_index_shows_every_row_without_javascript(chromium, site_url):
    t = Tab(chromium, site_url, java_script_enabled=False)
    try:
        page = t.goto("qna/")
        assert page.locator("form.kb-qna-filter").count() == 0
        assert page.locator(".kb-qna-index tbody tr").count() >= 5
        assert all(row.is_visible() for row in page.locator(".kb-qna-index tbody tr").all())
    finally:
        t.close()


def test_qna_index_filters_by_status_and_tag(tab):
    page = tab.goto("qna/")
    form = page.locator("form.kb-qna-filter")
    assert form.is_visible()
    rows = _rows(page)
    assert len(rows) >= 5 and not any(r["hidden"] for r in rows)

    tags = sorted({t for r in rows for t in r["tags"]})
    tag = max(tags, key=lambda t: sum(t in r["tags"] for r in rows))  # the most used tag
    form.locator("select[name=tag]").select_option(tag)
    shown = [r for r in _rows(page) if not r["hidden"]]
    assert shown and all(tag in r["tags"] for r in shown)
    assert len(shown) == sum(tag in r["tags"] for r in rows)
    assert f"{len(rows)}개 중 {len(shown)}개" in form.inner_text()
    assert "tag=" in page.url

    form.locator("select[name=status]").select_option("answered")
    shown = [r for r in _rows(page) if not r["hidden"]]
    assert all(r["status"] == "answered" and tag in r["tags"] for r in shown)

    form.locator("select[name=status]").select_option("open")
    shown = [r for r in _rows(page) if not r["hidden"]]
    expected = [r for r in rows if r["status"] == "open" and tag in r["tags"]]
    assert len(shown) == len(expected)
    assert page.locator(".kb-qna-filter__empty").is_visible() == (not expected)

    form.locator("button[type=reset]").click()
    page.wait_for_function("() => [...document.querySelectorAll('.kb-qna-index tbody tr')].every(r => !r.hidden)")
    assert "tag=" not in page.url and "status=" not in page.url

    # a tag in a row narrows the list, and the address keeps the choice across a reload
    page.locator(".kb-qna-index tbody tr").first.locator("button.kb-qna-filter__tag").first.click()
    first_tag = rows[0]["tags"][0]
    assert form.locator("select[name=tag]").input_value() == first_tag
    page.reload()
    assert page.locator("form.kb-qna-filter select[name=tag]").input_value() == first_tag
    assert all(first_tag in r["tags"] for r in _rows(page) if not r["hidden"])
    assert tab.errors == []


PAGE_REACHING_OUT = """<!doctype html><html><head>
<link rel="stylesheet" href="https://fonts.googleapis.com/css2?family=Noto+Sans+KR">
<script src="https://cdn.jsdelivr.net/npm/katex/dist/katex.min.js"></script></head>
<body><img src="https://example.org/figure.png">
<script>
  fetch("https://api.example.net/v1").catch(() => {});
  new Worker(URL.createObjectURL(new Blob(['fetch("https://worker.example.com/x").catch(() => {})'])));
</script></body></html>"""


def test_the_guard_records_and_stops_every_request_to_another_host(chromium, site_url, tmp_path):  # noqa: F811
    """The check every browser test ends with (``t.blocked == []``) can fail: a page that reaches
    for a web font, a CDN script, an image, an API and, from a worker, another host has each
    request recorded, and none is answered (Chromium resolves no host but 127.0.0.1)."""
    import time
    from urllib.parse import urlsplit

    t = Tab(chromium, site_url)
    failed: list[str] = []
    t.context.on("requestfailed", lambda r: failed.append(r.url))
    try:
        t.goto("")  # the site's own page loads, and records nothing
        assert t.blocked == []
        t.page.set_content(PAGE_REACHING_OUT, wait_until="load")
        hosts = {"fonts.googleapis.com", "cdn.jsdelivr.net", "example.org", "api.example.net", "worker.example.com"}
        recorded = lambda: {urlsplit(u).hostname for u in t.blocked}  # noqa: E731
        deadline = time.monotonic() + 30
        while recorded() != hosts and time.monotonic() < deadline:
            t.page.wait_for_timeout(50)
        assert recorded() == hosts, t.blocked
        while len(failed) < len(hosts) and time.monotonic() < deadline:
            t.page.wait_for_timeout(50)
        assert sorted(failed) == sorted(t.blocked)  # every one failed: no answer came
    finally:
        t.close()
