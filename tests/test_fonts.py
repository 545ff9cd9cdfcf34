"""The site's web fonts are cut to what its pages draw (kb/fonts.py, docs/stylesheets/kb-fonts.css).

The built site never names the whole fonts; the math font subset has every character of the
site's MathML and the glyphs browsers substitute for them; every Hangul syllable of the site is
in the unicode-range of the slice a browser picks for it, and in that slice's file; and in a real
Chromium a Q&A page draws its Korean text and math with the intended fonts and fetches only the
slices its text needs (with installed Korean fonts: no Hangul slice at all; without: only
slices whose range meets the page's text).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from browser_helpers import Tab, chromium, site_url, used_fonts  # noqa: F401  (fixtures)
from conftest import DOCS

FONT_CSS = "stylesheets/kb-fonts.css"
FULL_FONTS = ["STIXTwoMath-Regular.woff2", "Pretendard-Regular.subset.woff2", "Pretendard-Bold.subset.woff2"]
MATH_SUBSET = "assets/fonts/stix-two-math/STIXTwoMath-Regular.subset.woff2"
QNA_PAGE = "qna/adagrad/"  # Korean prose, bold text and formulas


def _cmap(path: Path) -> set[int]:
    from fontTools.ttLib import TTFont  # WOFF2 needs brotli (requirements.txt)

    return set(TTFont(path).getBestCmap())


def _ranges(text: str) -> set[int]:
    out: set[int] = set()
    for a, b in re.findall(r"U\+([0-9a-fA-F]+)(?:-([0-9a-fA-F]+))?", text):
        out.update(range(int(a, 16), int(b or a, 16) + 1))
    return out


def faces(site: Path) -> list[dict]:
    """The @font-face rules of the built kb-fonts.css, in order: family, weight, file, range."""
    css = (site / FONT_CSS).read_text(encoding="utf-8")
    out = []
    for body in re.findall(r"@font-face\s*\{(.*?)\}", css, re.S):
        url = re.search(r'url\("([^"]+)"\)', body).group(1)
        rng = re.search(r"unicode-range:\s*([^;]+)", body)
        out.append({
            "family": re.search(r'font-family:\s*"([^"]+)"', body).group(1),
            "weight": (re.search(r"font-weight:\s*([^;]+);", body) or [None, ""])[1],
            "file": (site / "stylesheets" / url).resolve(),
            "range": _ranges(rng.group(1)) if rng else None,
            "local": "local(" in body,
        })
    return out


def _pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def test_no_built_page_or_stylesheet_names_the_whole_fonts(built_site: Path):
    named = [f"{p.relative_to(built_site)}: {name}" for p in _pages(built_site) + sorted(built_site.rglob("*.css"))
             for name in FULL_FONTS if name in p.read_text(encoding="utf-8", errors="replace")]
    assert named == []
    copied = [str(p.relative_to(built_site)) for name in FULL_FONTS for p in built_site.rglob(name)]
    assert copied == [], "a whole font is copied into the site"
    for face in faces(built_site):
        assert face["file"].is_file(), f"{FONT_CSS} names {face['file']}, which the build did not write"
        assert face["file"].stat().st_size < 200_000, f"{face['file'].name}: a whole font, not a slice"
    assert (built_site / MATH_SUBSET).is_file()


# MathML Core's italic mapping of a one-letter <mi> (text-transform: math-auto), for the letters
# the site uses: a-z, A-Z (h is U+210E), α-ω.
def _italic(ch: str) -> int | None:
    if "A" <= ch <= "Z":
        return 0x1D434 + ord(ch) - ord("A")
    if ch == "h":
        return 0x210E
    if "a" <= ch <= "z":
        return 0x1D44E + ord(ch) - ord("a")
    if "α" <= ch <= "ω":
        return 0x1D6FC + ord(ch) - ord("α")
    return None


def _math_drawn(site: Path) -> tuple[set[int], int]:
    """Code points the site's MathML draws (annotations apart), and how many formulas there are."""
    drawn, count = set(), 0
    # the <math> elements cut out of each page, parsed together (parsing whole pages takes seconds)
    fragments = [m for path in _pages(site)
                 for m in re.findall(r"<math\b.*?</math>", path.read_text(encoding="utf-8"), re.S)]
    for math in BeautifulSoup("".join(fragments), "html.parser").find_all("math"):
        count += 1
        for note in math.find_all(["annotation", "annotation-xml"]):
            note.decompose()
        for leaf in math.find_all(["mi", "mn", "mo", "mtext", "ms"]):
            s = leaf.get_text()
            drawn |= {ord(c) for c in s if not c.isspace()}
            if leaf.name == "mi" and len(s.strip()) == 1 and not leaf.get("mathvariant"):
                drawn.add(_italic(s.strip()) or ord(s.strip()))
        if math.find(["msqrt", "mroot"]):
            drawn.add(0x221A)
    return drawn, count


def test_math_subset_has_every_character_of_the_sites_mathml(built_site: Path):
    from fontTools.ttLib import TTFont

    drawn, count = _math_drawn(built_site)
    assert count >= 100 and len(drawn) >= 100, (count, len(drawn))
    full = _cmap(DOCS / "assets" / "fonts" / "stix-two-math" / "STIXTwoMath-Regular.woff2")
    subset = TTFont(built_site / MATH_SUBSET)
    missing = sorted(chr(cp) for cp in (drawn & full) - set(subset.getBestCmap()))
    assert missing == [], f"characters of the site's formulas missing from the math font subset: {missing}"
    assert len(subset.getBestCmap()) < len(full) // 4, "the math font is not cut"
    # the MATH table keeps the size variants of what stretches: ( √ ∑
    assert "MATH" in subset, "the subset lost the MATH table: fences and roots cannot stretch"
    variants = subset["MATH"].table.MathVariants
    covered = set(variants.VertGlyphCoverage.glyphs)
    names = subset.getBestCmap()
    for ch in "(√∑":
        glyph = names[ord(ch)]
        assert glyph in covered, f"{ch}: no vertical variants in the subset's MATH table"
        construction = variants.VertGlyphConstruction[variants.VertGlyphCoverage.glyphs.index(glyph)]
        assert construction.VariantCount > 1, f"{ch}: no larger size kept"


def test_the_math_font_is_cut_without_rebuilding_every_glyph_and_written_with_the_usual_transforms(built_site: Path):
    """A fresh clone's first build (and every test build with its own cache) cuts the math font. A
    source whose glyf table is WOFF2-transformed is rebuilt whole, all 5,169 glyphs, before the few
    hundred a site needs can be read: 2.3 s against 0.6 s on a 2-core machine (SOURCE.txt). The
    site's subset still gets WOFF2's default transforms (smaller than one that kept the source's)."""
    import io

    from fontTools.ttLib import TTFont

    from kb import fonts

    source = TTFont(DOCS / fonts.MATH_SOURCE)
    assert source.flavor == "woff2"
    assert not source.flavorData.transformedTables, (
        f"docs/{fonts.MATH_SOURCE} has a transformed glyf table: every cut rebuilds all its glyphs first; "
        "re-encode it as SOURCE.txt says")
    cut = TTFont(io.BytesIO(fonts.subset_font(DOCS / fonts.MATH_SOURCE, {ord("x"), 0x2211})))
    for font in (cut, TTFont(built_site / MATH_SUBSET)):
        assert font.flavor == "woff2" and font.flavorData.transformedTables == {"glyf", "loca"}
    assert set(cut.getBestCmap()) >= {ord("x"), 0x2211} and "MATH" in cut


def test_the_same_formulas_give_the_same_math_font_file(monkeypatch):
    """A site built twice from the same pages gets the same subset, byte for byte (its date is the
    source font's, not the build's), so a rebuild with no change of formulas changes no font file."""
    from fontTools.ttLib.tables import _h_e_a_d

    from kb import fonts

    clock = iter(range(3_900_000_000, 3_900_000_100))  # every save "a second later"
    monkeypatch.setattr(_h_e_a_d, "timestampNow", lambda: next(clock))
    cuts = [fonts.subset_font(DOCS / fonts.MATH_SOURCE, {ord("x"), 0x2211}) for _ in range(2)]
    assert cuts[0] == cuts[1]


@lru_cache(maxsize=1)
def _site_hangul(site: Path) -> frozenset[int]:
    out: set[int] = set()
    for path in _pages(site):
        out |= {ord(c) for c in re.findall("[가-힣]", path.read_text(encoding="utf-8"))}
    return frozenset(out)


def test_every_hangul_syllable_of_the_site_is_in_the_slice_the_browser_picks(built_site: Path):
    # A later @font-face rule is checked first for a character (CSS Fonts 4, 4.5): the browser
    # takes the last rule of the weight whose range has the syllable, so that file must have it.
    syllables = _site_hangul(built_site)
    assert len(syllables) > 300
    rules = [f for f in faces(built_site) if f["family"] == "Pretendard"]
    weights = {f["weight"] for f in rules}
    assert weights == {"100 500", "600 900"}, weights
    cmaps = {f["file"]: _cmap(f["file"]) for f in rules}
    for weight in weights:
        mine = [f for f in rules if f["weight"] == weight]
        uncovered, wrong = [], []
        for cp in syllables:
            picked = [f for f in mine if cp in f["range"]]
            if not picked:
                uncovered.append(chr(cp))
            elif cp not in cmaps[picked[-1]["file"]]:
                wrong.append(f"{chr(cp)} ({picked[-1]['file'].name})")
        assert uncovered == [], f"weight {weight}: syllables in no slice's unicode-range: {uncovered}"
        assert wrong == [], f"weight {weight}: the slice picked lacks the syllable: {wrong}"
        overlaps = [(a["file"].name, b["file"].name) for i, a in enumerate(mine) for b in mine[i + 1:]
                    if a["range"] & b["range"]]
        assert overlaps == [], f"unicode-ranges overlap (document.fonts.check needs one rule per character): {overlaps}"


# --- in Chromium -----------------------------------------------------------------------------

PAGE_FONTS_JS = """async () => {
  await document.fonts.ready;
  const math = document.querySelector("article math");
  const text = document.querySelector("article p:not(.admonition-title)");
  const faces = [...document.fonts].map(f => ({ family: f.family.replace(/"/g, ""), weight: f.weight,
    status: f.status, range: f.unicodeRange }));
  return { text: getComputedStyle(text).fontFamily, math: getComputedStyle(math).fontFamily,
           chars: [...new Set(document.body.innerText)].join(""), faces };
}"""


def _visit(chromium, site_url, css: str | None = None) -> dict:
    """Open QNA_PAGE with an empty cache (``css``: served instead of kb-fonts.css); what it drew
    and every font file it fetched."""
    t = Tab(chromium, site_url, viewport={"width": 1280, "height": 900})
    fetched: list[str] = []
    t.page.on("request", lambda r: fetched.append(r.url.rsplit("/", 1)[1]) if r.resource_type == "font" else None)
    if css is not None:
        t.context.route(re.compile(r".*/" + re.escape(FONT_CSS) + r"$"),
                        lambda route: route.fulfill(body=css, content_type="text/css"))
    try:
        page = t.goto(QNA_PAGE)
        t.settle()
        got = page.evaluate(PAGE_FONTS_JS)
        got["hangul_drawn_with"] = used_fonts(page, "article p:not(.admonition-title)")
        got["math_drawn_with"] = used_fonts(page, "article .kb-math--block mi")  # a node with text of its own
    finally:
        t.close()
    assert t.blocked == [] and t.errors == []
    got["fetched"] = sorted(fetched)
    return got


def _needed(site: Path, chars: str) -> set[str]:
    """Font files whose unicode-range meets the page's characters (either weight)."""
    cps = {ord(c) for c in chars}
    return {f["file"].name for f in faces(site) if f["range"] is None or f["range"] & cps}


@pytest.mark.browser
def test_qna_page_draws_with_the_intended_fonts_and_fetches_only_what_it_needs(chromium, site_url, built_site):
    css = (built_site / FONT_CSS).read_text(encoding="utf-8")
    installed = _visit(chromium, site_url)
    bare = _visit(chromium, site_url, re.sub(r'local\("[^"]*"\),\s*', "", css))  # no Korean font installed
    for got in (installed, bare):
        assert got["text"].split(",")[0].strip('" ') == "Pretendard", got["text"]
        assert got["math"].split(",")[0].strip('" ') == "KB STIX Two Math", got["math"]
        assert re.search("[가-힣]", got["chars"]) and re.search("[A-Za-z]", got["chars"])
        assert [f for f in got["faces"] if f["status"] == "error"] == []
        math = [f for f in got["faces"] if f["family"] == "KB STIX Two Math"]
        assert [f["status"] for f in math] == ["loaded"]
        assert set(got["math_drawn_with"]) == {"STIX Two Math"}, got["math_drawn_with"]
        assert "STIXTwoMath-Regular.subset.woff2" in got["fetched"]
        assert "Pretendard-Regular.latin.woff2" in got["fetched"]
        needless = set(got["fetched"]) - _needed(built_site, got["chars"])
        assert needless == set(), f"fetched fonts the page has no character for: {needless}"
        assert len(got["fetched"]) == len(set(got["fetched"])), f"a font fetched twice: {got['fetched']}"
    # with an installed Korean font (Debian's fonts-noto-cjk here) no Hangul slice is fetched
    assert [f for f in installed["fetched"] if ".hangul-" in f] == [], installed["fetched"]
    assert "Pretendard" in installed["hangul_drawn_with"]  # Latin and digits
    # without one, the page's slices are fetched and Pretendard draws Hangul and Latin alike
    assert set(bare["hangul_drawn_with"]) == {"Pretendard"}, bare["hangul_drawn_with"]
    assert any(".hangul-1." in f for f in bare["fetched"])
    assert not any(".hangul-more." in f for f in bare["fetched"]), bare["fetched"]
