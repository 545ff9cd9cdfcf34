"""Math as a reader sees it in a real Chromium: the site's own math font, stretchy fences and
display-size operators, and a page of every formula on the site (screenshot in test-artifacts/).

Without a font that has an OpenType MATH table, Chromium cannot stretch fences or enlarge a
display Σ; with ``lang="ko"`` its ``serif`` fallback is a CJK font without one, which is what
readers saw before the site shipped STIX Two Math (docs/assets/fonts/stix-two-math).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from browser_helpers import Tab, chromium, ci, site_pages, site_url, tab  # noqa: F401  (fixtures)
from conftest import DOCS, ROOT

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
MATH_FONT = "KB STIX Two Math"
MATH_FONT_FILE = DOCS / "assets" / "fonts" / "stix-two-math" / "STIXTwoMath-Regular.woff2"


def test_shipped_math_font_has_a_math_table_and_its_license():
    from fontTools.ttLib import TTFont  # reading WOFF2 needs brotli (requirements.txt)

    font = TTFont(MATH_FONT_FILE)
    assert "MATH" in font, "the math font has no OpenType MATH table: fences and roots cannot stretch"
    variants = font["MATH"].table.MathVariants
    assert variants.VertGlyphCoverage is not None and variants.VertGlyphCount > 50
    cmap = font.getBestCmap()
    assert all(ord(ch) in cmap for ch in "αβηθκ∑∏√∫∇≤≥∞⊤ℓ(){}[]")
    assert "SIL Open Font License" in (MATH_FONT_FILE.parent / "OFL.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("tex, expected, wrong", [
    # one relation, as TeX spaces :=; latex2mathml gave <mi>:</mi><mo>=</mo> ("a: = b")
    ("a_{n+1} := b", "<mo>:=</mo>", "<mi>:</mi>"),
    # an ordinary symbol: no operator space between − and ∞
    ("M = -\\infty", "<mi>&#x0221E;</mi>", "<mo>&#x0221E;</mo>"),
    # one upright word, not seven letters
    ("\\mathrm{softmax}(x)", '<mi mathvariant="normal">softmax</mi>', '<mi mathvariant="normal">s</mi>'),
])
def test_converter_output_is_spaced_as_tex(tex, expected, wrong):
    from kb.mathml import to_mathml

    out = to_mathml(tex, display=False)
    assert expected in out and wrong not in out, out


# Which font family a <math> uses, and whether that face was downloaded and is usable.
MATH_FONT_JS = """async (family) => {
  await document.fonts.ready;
  const m = document.querySelector("article math");
  const faces = [...document.fonts].filter(f => f.family.replace(/"/g, "") === family);
  return {
    computed: getComputedStyle(m).fontFamily,
    faces: faces.map(f => f.status),
    check: document.fonts.check(`16px "${family}"`, "∑"),
  };
}"""


@pytest.mark.parametrize("path", ["notebooks/attention/", "qna/adagrad/"])
def test_math_uses_the_shipped_font(tab, path):
    page = tab.goto(path)
    got = page.evaluate(MATH_FONT_JS, MATH_FONT)
    first = got["computed"].split(",")[0].strip().strip('"')
    assert first == MATH_FONT, f"{path}: <math> font-family is {got['computed']}"
    assert got["faces"] == ["loaded"], f"{path}: the math font did not load: {got['faces']}"
    assert got["check"]
    assert tab.errors == []


# Heights in px of a stretchy fence and of what it encloses, of a display Σ (its ink) and its
# font size; line height of the surrounding text.
STRETCH_JS = """async () => {
  await document.fonts.ready;
  const out = { fences: [], sums: [] };
  const h = el => el.getBoundingClientRect().height;
  for (const mo of document.querySelectorAll("article math[display=block] mo[stretchy=true][form=prefix]")) {
    const inner = mo.nextElementSibling;
    if (inner && inner.localName === "mfrac") out.fences.push({ fence: h(mo), inner: h(inner) });
  }
  for (const mo of document.querySelectorAll("article math[display=block] munderover > mo:first-child, article math[display=block] munder > mo:first-child")) {
    if (mo.textContent.trim() !== "\\u2211") continue;
    out.sums.push({ sum: h(mo), size: parseFloat(getComputedStyle(mo).fontSize) });
  }
  out.line = parseFloat(getComputedStyle(document.querySelector("article p")).lineHeight);
  return out;
}"""


def test_fences_stretch_around_a_fraction(tab):
    # softmax(QKᵀ/√d_k): \\left( \\frac{..}{..} \\right) in the attention notebook
    page = tab.goto("notebooks/attention/")
    got = page.evaluate(STRETCH_JS)
    assert got["fences"], "no \\left( \\frac ... \\right) on the page"
    for f in got["fences"]:
        assert f["fence"] > got["line"], f"fence {f['fence']:.1f} px is not taller than a text line ({got['line']} px)"
        assert f["fence"] >= 0.9 * f["inner"], f"fence {f['fence']:.1f} px does not cover the fraction ({f['inner']:.1f} px)"
    assert tab.errors == []


def test_display_sum_is_display_size(tab):
    # measured in Chromium: a text-size ∑ (a font without a MATH table) has ink 0.92 em tall, STIX
    # Two Math's display variant 1.36 em
    page = tab.goto("papers/batch-normalization/")
    got = page.evaluate(STRETCH_JS)
    assert got["sums"], "no display ∑ on the page"
    for s in got["sums"]:
        assert s["sum"] > 1.2 * s["size"], f"display ∑ is {s['sum']:.1f} px at font size {s['size']:.1f} px: text size"
    assert tab.errors == []


def _every_formula(built_site: Path) -> list[str]:
    """The MathML of every formula on the site, in page order, without repeats."""
    seen: dict[str, None] = {}
    for path in site_pages(built_site):
        soup = BeautifulSoup((built_site / path / "index.html").read_text(encoding="utf-8"), "html.parser")
        for m in soup.select("article math"):
            seen.setdefault(str(m), None)
    return list(seen)


# Puts every formula (MathML strings) into the page's article, as the pages wrap them; returns
# how many <math> elements the article then holds. Used on 404.html: any page of the site gives
# its stylesheets and fonts. (Also used by tests/test_reader_firefox.py.)
EVERY_FORMULA_JS = """(items) => {
  const article = document.querySelector("article");
  article.innerHTML = "<h1>사이트의 모든 수식</h1>" + items.map(m =>
    m.includes('display="block"') ? `<div class="kb-math kb-math--block">${m}</div>` : `<p>${m}</p>`).join("");
  return article.querySelectorAll("math").length;
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_page_of_every_formula_screenshot(chromium, site_url, built_site, scheme):
    formulas = _every_formula(built_site)
    assert len(formulas) >= 100
    t = Tab(chromium, site_url, color_scheme=scheme, viewport={"width": 1280, "height": 900})
    try:
        page = t.goto("404.html")  # any page of the site: its stylesheets and fonts, then our content
        count = page.evaluate(EVERY_FORMULA_JS, formulas)
        assert count == len(formulas)
        got = page.evaluate(MATH_FONT_JS, MATH_FONT)
        assert got["faces"] == ["loaded"]
        sizes = page.eval_on_selector_all("article math", "els => els.map(m => m.getBoundingClientRect().height)")
        assert all(h > 0 for h in sizes)
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / f"formulas-chromium-{scheme}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 50_000
    finally:
        t.close()
    assert t.blocked == [] and t.errors == []


# --- Side by side with KaTeX -------------------------------------------------------------------
# KaTeX is not part of the site; the comparison takes it from the npm package, unpacked by CI
# (.github/workflows/site.yml) or by hand: npm pack katex@0.19.1 && tar xzf katex-0.19.1.tgz -C .cache/katex
KATEX_VERSION = "0.19.1"
KATEX_DIR = Path(os.environ.get("KB_KATEX_DIR", ROOT / ".cache" / "katex" / "package" / "dist"))

# Our MathML and KaTeX's rendering of the same TeX in two columns; heights of both, and KaTeX's
# error for TeX it does not accept.
SIDE_BY_SIDE_JS = """(items) => {
  const article = document.querySelector("article");
  article.innerHTML = "<h1>수식 비교: 이 사이트(MathML + STIX Two Math) | KaTeX</h1>";
  const table = document.createElement("table");
  table.className = "kb-compare";
  article.appendChild(table);
  const out = [];
  for (const [mathml, tex, display] of items) {
    const row = table.insertRow();
    const ours = row.insertCell(), theirs = row.insertCell();
    ours.innerHTML = display ? `<div class="kb-math kb-math--block">${mathml}</div>` : mathml;  // as on the pages
    let error = null;
    // output "html": KaTeX's visible rendering without its hidden MathML copy, which Firefox
    // reports as invalid for \\min in a subscript (<msub> with three children, KaTeX 0.19.1)
    try { katex.render(tex, theirs, { displayMode: display, throwOnError: true, output: "html" }); }
    catch (e) { error = String(e); }
    out.push({ tex, display, error, ours: ours.querySelector("math").getBoundingClientRect().height,
               katex: error ? 0 : theirs.querySelector(".katex").getBoundingClientRect().height });
  }
  return out;
}"""


COMPARE_CSS = ".kb-compare td { width: 50%; vertical-align: middle; text-align: center; }"


def require_katex():
    """Skip locally (fail under CI=true) when KaTeX is not unpacked at KATEX_DIR."""
    if not (KATEX_DIR / "katex.min.js").exists():
        why = f"KaTeX {KATEX_VERSION} is not unpacked at {KATEX_DIR} (npm pack katex@{KATEX_VERSION})"
        if ci():
            pytest.fail(f"CI=true and {why}", pytrace=False)
        pytest.skip(why)


def katex_items(built_site: Path) -> list[list]:
    """[MathML, its TeX, display?] for every formula: the argument of SIDE_BY_SIDE_JS."""
    items = []
    for mathml in _every_formula(built_site):
        soup = BeautifulSoup(mathml, "html.parser")
        items.append([mathml, soup.find("annotation").get_text(), soup.math.get("display") == "block"])
    return items


def test_every_formula_side_by_side_with_katex(chromium, site_url, built_site):
    require_katex()
    items = katex_items(built_site)
    t = Tab(chromium, site_url, viewport={"width": 1280, "height": 900})
    # KaTeX's files are served under /__katex/ on the same local server
    t.context.route(re.compile(r"^http://127\.0\.0\.1:\d+/__katex/"),
                    lambda route: route.fulfill(path=str(KATEX_DIR / route.request.url.split("/__katex/", 1)[1])))
    try:
        page = t.goto("404.html")
        page.add_style_tag(url="/__katex/katex.min.css")
        page.add_style_tag(content=COMPARE_CSS)
        page.add_script_tag(url="/__katex/katex.min.js")
        rows = page.evaluate(SIDE_BY_SIDE_JS, items)
        page.evaluate("() => document.fonts.ready")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "formulas-vs-katex-chromium.png"), full_page=True)
    finally:
        t.close()
    assert t.blocked == [] and t.errors == []
    assert [r for r in rows if r["error"]] == [], "TeX on the site that KaTeX does not accept"
    # Sizes are compared by eye in the screenshot: a formula's overall height does not tell a
    # stretched fence from an unstretched one (tried: with and without the math font every display
    # formula stayed above 0.8 of KaTeX's height, relative to a plain x), so stretching is checked
    # above, element by element.
    assert all(r["ours"] > 0 and r["katex"] > 0 for r in rows)
