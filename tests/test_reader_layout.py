"""Korean text as a reader sees it in a real Chromium, on a phone (390 px) and a desktop (1280 px):
words are not broken in the middle, one font draws Hangul and Latin, wide tables and formulas
scroll with a visible hint instead of being cut, and figures are readable at page size and open
enlarged on click.
"""

from __future__ import annotations

import base64
import re

import pytest
from bs4 import BeautifulSoup

from browser_helpers import Tab, chromium, site_pages, site_url, used_fonts  # noqa: F401  (fixtures)
from test_reader_math import ARTIFACTS

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
WIDTHS = {"phone": PHONE, "desktop": DESKTOP}


def open_tab(chromium, site_url, viewport, **options) -> Tab:
    return Tab(chromium, site_url, viewport=viewport, **options)


# Every run of letters and digits (a Korean word with its particles, an identifier such as
# BatchNorm1d) in the text of the article, the navigation, the table of contents and the footer,
# outside code blocks and formulas, with the line boxes it
# was laid out in. A run may only be broken when the unspaced text around it (a URL, a long
# dotted name) is wider than its block: nothing else could fit.
SPLIT_WORDS_JS = """async () => {
  await document.fonts.ready;
  const split = [];
  let runs = 0;
  for (const area of document.querySelectorAll("article, .md-sidebar, .md-footer")) {
  const walker = document.createTreeWalker(area, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (el.closest("pre, math, script, style, .headerlink") || !el.checkVisibility()) continue;
    const block = el.closest("td, th, p, li, h1, h2, h3, h4, dd, dt, figcaption, div");
    const rectsOf = (start, end) => {
      const range = document.createRange();
      range.setStart(node, start);
      range.setEnd(node, end);
      return [...range.getClientRects()].filter(r => r.width > 0);
    };
    for (const token of node.textContent.matchAll(/\\S+/g)) {
      const tokenWidth = rectsOf(token.index, token.index + token[0].length).reduce((s, r) => s + r.width, 0);
      if (tokenWidth > block.clientWidth) continue;
      for (const m of token[0].matchAll(/[\\p{L}\\p{N}_]+/gu)) {
        if (m[0].length < 2) continue;
        runs++;
        const tops = new Set(rectsOf(token.index + m.index, token.index + m.index + m[0].length).map(r => Math.round(r.top)));
        if (tops.size > 1) split.push(`${m[0]} (in <${block.localName}>, ${tops.size} lines)`);
      }
    }
  }
  }
  return { runs, split };
}"""

LAYOUT_PAGES = ["qna/", "qna/cross-validation/", "papers/vgg/", "meetings/2021-08-10/", "notebooks/optimizer-playground/"]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("path", LAYOUT_PAGES)
def test_no_word_is_broken_across_lines(chromium, site_url, path, width):
    t = open_tab(chromium, site_url, WIDTHS[width])
    try:
        got = t.goto(path).evaluate(SPLIT_WORDS_JS)
    finally:
        t.close()
    assert got["runs"] > 50, f"{path}: too little text found ({got['runs']} words)"
    assert got["split"] == [], f"{path} at {width}: words broken across lines: {got['split']}"
    assert t.blocked == [] and t.errors == []


def test_one_webfont_draws_hangul_and_latin(chromium, site_url):
    t = open_tab(chromium, site_url, DESKTOP)
    try:
        page = t.goto("qna/momentum-vs-nag/")
        page.evaluate("() => document.fonts.ready")
        faces = page.evaluate("() => [...document.fonts].filter(f => f.family.replace(/\"/g, '') === 'Pretendard')"
                              ".map(f => [f.weight, f.status])")
        assert ["100 500", "loaded"] in faces, f"the regular Pretendard face did not load: {faces}"
        # the first paragraph of the answer mixes Hangul and Latin (모멘텀(momentum), NAG ...)
        selector = "article p:not(.admonition-title)"
        text = page.locator(selector).first.inner_text()
        assert re.search("[가-힣]", text) and re.search("[A-Za-z]", text), text
        fonts = used_fonts(page, selector)
    finally:
        t.close()
    # Latin is Pretendard's; Hangul too, unless a Korean font that docs/stylesheets/kb-fonts.css names
    # first (local(): no download) is installed, as fonts-noto-cjk is here (tests/test_fonts.py)
    korean = {"Noto Sans CJK KR", "Source Han Sans K", "Noto Sans KR", "Apple SD Gothic Neo", "Malgun Gothic"}
    assert "Pretendard" in fonts and set(fonts) <= {"Pretendard"} | korean, f"text drawn with {fonts}"
    assert t.blocked == [] and t.errors == []


# Tables and display formulas wider than the column: scrollable, marked, hinted; nothing sticks
# out of the viewport (where it would be cut).
OVERFLOW_JS = """() => {
  const vw = document.documentElement.clientWidth;
  const out = [];
  for (const el of document.querySelectorAll("article .md-typeset__scrollwrap, article .kb-math--block")) {
    const r = el.getBoundingClientRect();
    const hint = el.nextElementSibling && el.nextElementSibling.classList.contains("kb-scroll-hint")
      ? el.nextElementSibling : null;
    out.push({
      kind: el.classList.contains("kb-math--block") ? "math" : "table",
      overflows: el.scrollWidth > el.clientWidth + 1,
      scrolls: ["auto", "scroll"].includes(getComputedStyle(el).overflowX),
      marked: el.classList.contains("kb-scroll--more"),
      hint: hint ? hint.checkVisibility() && hint.textContent : null,
      inside: r.left >= -1 && r.right <= vw + 1,
    });
  }
  return out;
}"""


@pytest.mark.parametrize("path", ["papers/vgg/", "notebooks/attention/", "notebooks/optimizer-playground/"])
def test_wide_tables_and_formulas_scroll_with_a_hint_on_a_phone(chromium, site_url, path):
    t = open_tab(chromium, site_url, PHONE)
    try:
        page = t.goto(path)
        page.evaluate("() => document.fonts.ready")
        boxes = page.evaluate(OVERFLOW_JS)
    finally:
        t.close()
    assert boxes, f"{path}: no table or display formula"
    assert all(b["inside"] for b in boxes), f"{path}: a table or formula sticks out of the screen: {boxes}"
    wide = [b for b in boxes if b["overflows"]]
    assert all(b["scrolls"] and b["marked"] and b["hint"] for b in wide), f"{path}: {wide}"
    if path == "papers/vgg/":  # Table 1 of the paper has more columns than a phone shows
        assert any(b["kind"] == "table" for b in wide)
        assert any("옆으로" in b["hint"] for b in wide)
    assert t.blocked == [] and t.errors == []


# --- Figures ----------------------------------------------------------------------------------


def png_facts(data: bytes) -> dict:
    """The PNG's width, its dpi (pHYs) and its text chunks."""
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    facts, i = {"text": {}}, 8
    while i + 8 <= len(data):
        size = int.from_bytes(data[i:i + 4], "big")
        kind, chunk = data[i + 4:i + 8], data[i + 8:i + 8 + size]
        i += 12 + size
        if kind == b"IHDR":
            facts["width"] = int.from_bytes(chunk[:4], "big")
        elif kind == b"pHYs" and chunk[8] == 1:  # unit: metre
            facts["dpi"] = int.from_bytes(chunk[:4], "big") * 0.0254
        elif kind == b"tEXt":
            key, _, value = chunk.partition(b"\0")
            facts["text"][key.decode("latin-1")] = value.decode("latin-1")
    return facts


FIGURE_IMGS = "article .kb-figure img, article .jp-RenderedImage img"
FIGURE_PAGES = [
    "notebooks/attention/",
    "notebooks/optimizer-playground/",
    "qna/momentum-vs-nag/",
    "papers/attention-is-all-you-need/",
    "papers/batch-normalization/",
    "papers/vgg/",
]


def page_figures(built_site, path: str) -> list[dict]:
    """Each figure of a built page: its alt text and the facts of its PNG (inline or a file)."""
    soup = BeautifulSoup((built_site / path / "index.html").read_text(encoding="utf-8"), "html.parser")
    figures = []
    for img in soup.select(FIGURE_IMGS):
        src = img["src"]
        if src.startswith("data:image/png;base64,"):
            data = base64.b64decode(src.split(",", 1)[1])
        else:
            data = (built_site / path / src).resolve().read_bytes()
        figures.append({"alt": img.get("alt", ""), **png_facts(data)})
    return figures


def test_every_page_with_figures_is_checked(built_site):
    with_figures = {p for p in site_pages(built_site) if page_figures(built_site, p)}
    listed = set(FIGURE_PAGES)
    assert with_figures == listed


@pytest.mark.parametrize("path", FIGURE_PAGES)
def test_figure_text_is_at_least_11px_on_the_page_and_alt_is_korean(chromium, site_url, built_site, path):
    figures = page_figures(built_site, path)
    assert figures, f"{path}: no figure"
    t = open_tab(chromium, site_url, DESKTOP)
    try:
        page = t.goto(path)
        imgs = page.locator(FIGURE_IMGS)
        shown = []
        for i in range(imgs.count()):  # figures of Markdown pages load lazily: bring each into view
            imgs.nth(i).scroll_into_view_if_needed()
            page.wait_for_function("(i) => i.complete && i.naturalWidth > 0", arg=imgs.nth(i).element_handle())
            shown.append(imgs.nth(i).evaluate("i => [i.naturalWidth, i.getBoundingClientRect().width]"))
    finally:
        t.close()
    assert len(shown) == len(figures)
    for fig, (natural, displayed) in zip(figures, shown):
        assert natural == fig["width"]
        assert "KB-Min-Font-Pt" in fig["text"], f"{path}: '{fig['alt'][:40]}…' does not record its smallest font size"
        min_pt = float(fig["text"]["KB-Min-Font-Pt"])  # the smallest font size the figure used
        px = min_pt * fig["dpi"] / 72 * displayed / natural
        assert px >= 11, (f"{path}: '{fig['alt'][:40]}…' has {min_pt:g} pt text at {fig['dpi']:.0f} dpi, "
                          f"{natural} px shown {displayed:.0f} px wide: {px:.1f} px on the page")
        assert re.search("[가-힣]", fig["alt"]), f"{path}: alt text is not Korean: {fig['alt']!r}"
    assert t.blocked == [] and t.errors == []


# The element's width once the opening animation is over (unchanged for 10 frames).
SETTLED_WIDTH_JS = """async (el) => {
  let last = -1, same = 0;
  for (let i = 0; i < 300 && same < 10; i++) {
    await new Promise(r => requestAnimationFrame(r));
    const w = el.complete ? el.getBoundingClientRect().width : -1;
    same = w === last && w > 0 ? same + 1 : 0;
    last = w;
  }
  return last;
}"""


def test_figure_opens_enlarged_on_click_offline(chromium, site_url):
    t = open_tab(chromium, site_url, DESKTOP)
    try:
        page = t.goto("notebooks/attention/")
        link = page.locator(".jp-RenderedImage a.kb-zoom").first
        alt = link.locator("img").get_attribute("alt")
        link.scroll_into_view_if_needed()
        link.click()
        box = page.locator(".glightbox-container .gslide.current img")
        box.wait_for(state="visible")
        width = box.evaluate(SETTLED_WIDTH_JS)
        thumb = link.locator("img").evaluate("i => i.getBoundingClientRect().width")
        assert width > thumb, f"enlarged figure {width:.0f} px is not larger than on the page ({thumb:.0f} px)"
        assert alt in page.locator(".glightbox-container .gslide.current .gslide-desc").inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "figure-zoom-desktop.png"))
        page.keyboard.press("Escape")
        page.locator(".glightbox-container").wait_for(state="detached")
    finally:
        t.close()
    assert t.blocked == [] and t.errors == []


# --- Code -------------------------------------------------------------------------------------

# Colour of the first keyword (`import`) and background of the first Python code block.
CODE_COLOURS_JS = """([selector, painted]) => {
  const block = document.querySelector(selector);
  const kw = block.querySelector(".kn, .k");
  return { keyword: getComputedStyle(kw).color, background: getComputedStyle(block.querySelector(painted)).backgroundColor };
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_notebook_code_has_the_site_highlighting(chromium, site_url, scheme):
    t = open_tab(chromium, site_url, DESKTOP, color_scheme=scheme)
    try:
        # Material paints a code block's <code>; mkdocs-jupyter its .highlight-ipynb box
        site = t.goto("qna/adagrad/").evaluate(CODE_COLOURS_JS, ["article .language-python.highlight", "pre > code"])
        notebook = t.goto("notebooks/attention/").evaluate(
            CODE_COLOURS_JS, ["article .jp-CodeCell .jp-InputArea", ".highlight-ipynb"])
    finally:
        t.close()
    assert notebook == site
    assert t.blocked == [] and t.errors == []


# Rectangles of each output block's copy button and of its first line of text (the button
# stays in place while a long line scrolls under it).
COPY_BUTTON_JS = """() => [...document.querySelectorAll("article .kb-output pre")].map(pre => {
  const code = pre.querySelector("code");
  const text = code.firstChild && code.firstChild.nodeType === 3 ? code.firstChild : document.createTreeWalker(code, NodeFilter.SHOW_TEXT).nextNode();
  const range = document.createRange();
  range.setStart(text, 0);
  range.setEnd(text, Math.max(1, text.textContent.indexOf("\\n")));
  const line = range.getBoundingClientRect();
  const b = pre.querySelector("button.md-code__button").getBoundingClientRect();
  // lines scroll sideways under the button: it must sit above the first line's band, not in it
  return { overlap: !(b.bottom <= line.top + 1 || b.top >= line.bottom - 1),
           line: [line.left, line.top, line.right, line.bottom], button: [b.left, b.top, b.right, b.bottom] };
})"""


def test_copy_button_does_not_cover_the_first_line_of_output(chromium, site_url):
    t = open_tab(chromium, site_url, DESKTOP)
    try:
        page = t.goto("qna/adagrad/")
        page.locator("article .kb-output pre button.md-code__button").first.wait_for(state="attached")
        boxes = page.evaluate(COPY_BUTTON_JS)
    finally:
        t.close()
    assert boxes, "no output block with a copy button"
    assert not [b for b in boxes if b["overlap"]], boxes
    assert t.blocked == [] and t.errors == []
