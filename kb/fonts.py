"""The site's web fonts, cut to what pages draw (docs/assets/fonts; kb/plugin.py calls it).

* Math (every build): STIX Two Math is subset to the characters of the built pages' MathML, plus
  what the browsers draw for them without the characters being in the text (the italic letter of
  a one-letter ``<mi>``, a ``mathvariant``'s styled letters, the radical of ``<msqrt>``). fontTools
  keeps the OpenType MATH table and closes over its size variants and assemblies, so fences,
  radicals and display operators still stretch. The subset is cached in ``.cache/kb-webfonts/`` by
  its code points, so a warm build only scans the pages; ``mkdocs serve`` follows new formulas.
  The full font (``MATH_SOURCE``) is the build's input only: mkdocs.yml excludes it from the site.
  It is a WOFF2 without the glyf transform, so fontTools reads only the glyphs the subset needs (a
  transformed glyf is rebuilt whole first, all 5,169 glyphs: 2.3 s of a fresh clone's first build
  against 0.6 s); the subset written into the site gets WOFF2's usual transforms.
* Text (once, committed): Pretendard in ``unicode-range`` slices with their ``@font-face`` rules in
  docs/stylesheets/kb-fonts.css, made by ``python -m kb.fonts slices PACKAGE SITE`` from the
  npm package pretendard's KS X 1001 subsets and a built site (the syllables its pages use,
  ordered by how many pages use them). Hangul slices name the system's Korean fonts first
  (``local()``), so a browser that has one fetches no Hangul font at all; one that has none
  fetches only the slices its text needs. Latin comes from Pretendard everywhere.

No MkDocs here. Problems raise :class:`FontError` naming the file.
"""

from __future__ import annotations

import hashlib
import html
import io
import os
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path

MATH_SOURCE = "assets/fonts/stix-two-math/STIXTwoMath-Regular.woff2"  # under docs/, never in the site
MATH_SUBSET = "assets/fonts/stix-two-math/STIXTwoMath-Regular.subset.woff2"  # in the site
CACHE_KEEP = 8  # subsets kept in the cache (the site, test copies, `mkdocs serve` edits)

_MATH_RE = re.compile(r"<math\b.*?</math\s*>", re.S)
_ANNOTATION_RE = re.compile(r"<annotation(?:-xml)?\b.*?</annotation(?:-xml)?\s*>", re.S)
_LEAF_RE = re.compile(r"<(m[a-z]+)\b([^>]*)>([^<]+)<")
_VARIANT_RE = re.compile(r'\bmathvariant\s*=\s*["\']([a-z-]+)["\']')

# mathvariant -> the style's word in Unicode's names (MATHEMATICAL BOLD ITALIC SMALL A)
_STYLES = {
    "italic": "ITALIC", "bold": "BOLD", "bold-italic": "BOLD ITALIC", "double-struck": "DOUBLE-STRUCK",
    "script": "SCRIPT", "bold-script": "BOLD SCRIPT", "fraktur": "FRAKTUR", "bold-fraktur": "BOLD FRAKTUR",
    "sans-serif": "SANS-SERIF", "bold-sans-serif": "SANS-SERIF BOLD", "sans-serif-italic": "SANS-SERIF ITALIC",
    "sans-serif-bold-italic": "SANS-SERIF BOLD ITALIC", "monospace": "MONOSPACE",
}
# Styled letters that Unicode encodes in Letterlike Symbols, not in the mathematical block
_HOLES = {
    ("ITALIC", "h"): "ℎ",
    **{("SCRIPT", c): s for c, s in zip("BEFHILMRego", "ℬℰℱℋℐℒℳℛℯℊℴ")},
    **{("FRAKTUR", c): s for c, s in zip("CHIRZ", "ℭℌℑℜℨ")},
    **{("DOUBLE-STRUCK", c): s for c, s in zip("CHNPQRZ", "ℂℍℕℙℚℝℤ")},
}


class FontError(Exception):
    """A font the build needs is missing or unreadable; the message names the file."""


def styled(ch: str, variant: str) -> str | None:
    """``ch`` in a ``mathvariant`` style as browsers draw it (x, italic -> 𝑥), or None."""
    style = _STYLES.get(variant)
    if style is None:
        return None
    if (style, ch) in _HOLES:
        return _HOLES[style, ch]
    name = unicodedata.name(ch, "")
    m = re.fullmatch(r"(?:LATIN|GREEK) (CAPITAL|SMALL) LETTER ([A-Z ]+)", name)
    if m:
        wanted = f"MATHEMATICAL {style} {m[1]} {m[2]}"
    elif name.startswith("GREEK ") and name.endswith(" SYMBOL"):  # ϵ ϑ ϕ ϱ ϖ ϰ ϴ
        wanted = f"MATHEMATICAL {style} " + name[6:].replace("LUNATE ", "")
    elif name in ("PARTIAL DIFFERENTIAL", "NABLA") or name.startswith("DIGIT "):
        wanted = f"MATHEMATICAL {style} {name}"
    else:
        return None
    try:
        return unicodedata.lookup(wanted)
    except KeyError:
        return None


def math_codepoints(page: str) -> set[int]:
    """The code points the MathML of one HTML page draws (its TeX annotations left out)."""
    out: set[int] = set()
    for math in _MATH_RE.findall(page):
        math = _ANNOTATION_RE.sub("", math)
        variants = {v for v in _VARIANT_RE.findall(math) if v != "normal"}
        if "<msqrt" in math or "<mroot" in math:
            out.add(0x221A)  # the radical sign is drawn from the font, not from the text
        for tag, attrs, text in _LEAF_RE.findall(math):
            text = html.unescape(text)
            drawn = set(text)
            if tag == "mi" and len(text.strip()) == 1 and "mathvariant" not in attrs:
                drawn.add(styled(text.strip(), "italic") or text.strip())  # text-transform: math-auto
            if tag == "mo" and "-" in text:
                drawn.add("\u2212")  # a hyphen operator is drawn as a minus sign
            for v in variants:
                drawn |= {s for s in (styled(c, v) for c in text) if s}
            out |= {ord(c) for c in drawn if not c.isspace() or c == " "}
    return out


def file_math_codepoints(path: Path) -> set[int]:
    """:func:`math_codepoints` of one built page's file."""
    page = path.read_text(encoding="utf-8", errors="replace")
    return math_codepoints(page) if "<math" in page else set()


def site_math_codepoints(site_dir: Path, codepoints_of=file_math_codepoints) -> set[int]:
    """The code points of every formula in the built site's pages (``codepoints_of``: one page
    file's, :func:`file_math_codepoints` or a cache of it, kb/incremental.py)."""
    out: set[int] = set()
    for path in site_dir.rglob("*.html"):
        out |= codepoints_of(path)
    return out


def subset_font(source: Path, codepoints: set[int], layout_features=("*",)) -> bytes:
    """WOFF2 of ``source`` with the glyphs of ``codepoints`` and what its GSUB and MATH tables reach
    from them (size variants, assemblies, script-style alternates); names and licence kept."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    try:
        font = TTFont(source, recalcTimestamp=False)  # the source's date: the same code points give the same file
    except Exception as exc:  # fontTools raises several kinds for a damaged file
        raise FontError(f"{source}: 글꼴을 읽을 수 없습니다 ({exc})") from None
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = list(layout_features)
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(codepoints))
    subsetter.subset(font)
    out = io.BytesIO()
    font.flavor = "woff2"
    font.flavorData = None  # WOFF2's default transforms for the site's file (glyf, loca: smaller), not the source's
    font.save(out)
    return out.getvalue()


def write_math_font(docs_dir: Path, site_dir: Path, cache_dir: Path, codepoints_of=file_math_codepoints) -> set[int]:
    """Write the math font subset for the built site into ``site_dir``; returns its code points.
    A site without formulas needs no math font (and gets none)."""
    codepoints = site_math_codepoints(site_dir, codepoints_of)
    if not codepoints:
        return codepoints
    source = docs_dir / MATH_SOURCE
    if not source.is_file():
        raise FontError(f"docs/{MATH_SOURCE}: 수학 글꼴 원본이 없습니다 "
                        "(docs/assets/fonts/stix-two-math/SOURCE.txt 참고)")
    from fontTools import version as fonttools_version

    key = hashlib.sha256(source.read_bytes()).hexdigest() + fonttools_version
    key += ",".join(map(str, sorted(codepoints)))
    cached = cache_dir / f"math-{hashlib.sha256(key.encode()).hexdigest()[:20]}.woff2"
    if cached.is_file():
        data = cached.read_bytes()
        cached.touch()
    else:
        data = subset_font(source, codepoints)
        cache_dir.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(f"{cached.name}.{os.getpid()}.part")  # builds may run side by side
        partial.write_bytes(data)
        os.replace(partial, cached)
        for old in sorted(cache_dir.glob("math-*.woff2"), key=lambda p: p.stat().st_mtime)[:-CACHE_KEEP]:
            old.unlink(missing_ok=True)
    target = site_dir / MATH_SUBSET
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return codepoints


# --- Pretendard slices (python -m kb.fonts slices) ---------------------------------------------

TEXT_DIR = "assets/fonts/pretendard"
STYLESHEET = "stylesheets/kb-fonts.css"  # under docs/; mkdocs.yml extra_css
WEIGHTS = {"Regular": "100 500", "Bold": "600 900"}
# Google Fonts' "latin" range: what every page's Latin text, digits and punctuation need
LATIN = (set(range(0x20, 0x100)) | {0x131, 0x152, 0x153, 0x2BB, 0x2BC, 0x2C6, 0x2DA, 0x2DC, 0x304, 0x308, 0x329}
         | set(range(0x2000, 0x2070)) | {0x2074, 0x20AC, 0x2122, 0x2191, 0x2193, 0x2212, 0x2215, 0xFEFF, 0xFFFD})
HANGUL = range(0xAC00, 0xD7A4)
# Installed fonts tried before a Hangul slice is fetched: Pretendard itself, the Source Han Sans
# family its Hangul is drawn from, then the Korean fonts of macOS and Windows.
LOCAL = {
    "Regular": ["Pretendard Regular", "Pretendard-Regular", "Noto Sans CJK KR", "NotoSansCJKkr-Regular",
                "Source Han Sans K Regular", "SourceHanSansK-Regular", "Noto Sans KR Regular", "NotoSansKR-Regular",
                "Apple SD Gothic Neo Regular", "AppleSDGothicNeo-Regular", "Malgun Gothic", "MalgunGothic"],
    "Bold": ["Pretendard Bold", "Pretendard-Bold", "Noto Sans CJK KR Bold", "NotoSansCJKkr-Bold",
             "Source Han Sans K Bold", "SourceHanSansK-Bold", "Noto Sans KR Bold", "NotoSansKR-Bold",
             "Apple SD Gothic Neo Bold", "AppleSDGothicNeo-Bold", "Malgun Gothic Bold", "MalgunGothicBold"],
}
# Material asks for kern and liga; the rest are needed to shape text at all
TEXT_FEATURES = ("ccmp", "locl", "mark", "mkmk", "rvrn", "kern", "liga", "ljmo", "vjmo", "tjmo")


def unicode_range(codepoints) -> str:
    """``U+ac00-ac01, U+ac04`` for a set of code points."""
    cps = sorted(codepoints)
    parts, start = [], None
    for i, cp in enumerate(cps):
        if start is None:
            start = cp
        if i + 1 == len(cps) or cps[i + 1] != cp + 1:
            parts.append(f"U+{start:x}" if start == cp else f"U+{start:x}-{cp:x}")
            start = None
    return ", ".join(parts)


def parse_unicode_range(text: str) -> set[int]:
    out: set[int] = set()
    for a, b in re.findall(r"U\+([0-9a-fA-F]+)(?:-([0-9a-fA-F]+))?", text):
        out.update(range(int(a, 16), int(b or a, 16) + 1))
    return out


def page_texts(site_dir: Path) -> list[str]:
    """The text of every built page: tags, styles and formulas left out, inline scripts kept (Material's UI strings)."""
    out = []
    for path in sorted(site_dir.rglob("*.html")):
        page = path.read_text(encoding="utf-8", errors="replace")
        page = re.sub(r"<(style|math)\b.*?</\1\s*>", " ", page, flags=re.S)  # scripts hold UI strings
        out.append(html.unescape(re.sub(r"<[^>]+>", " ", page)))
    return out


def plan_slices(cmap: set[int], texts: list[str]) -> list[tuple[str, set[int]]]:
    """[(name, code points)] of one weight's slices.

    latin: every page needs it. symbols: the other non-Hangul characters the pages use; symbols-more:
    the rest. hangul-1..: the pages' syllables by the number of pages using them, most first;
    hangul-more: the font's other syllables (its range: every syllable not in another slice, so
    a syllable the font lacks falls back to the next font of the stack). Ranges never overlap:
    ``document.fonts.check`` and the browser's choice of a slice then depend on one rule per character.
    """
    used = [set(map(ord, t)) & cmap for t in texts]
    pages_using = Counter(cp for s in used for cp in s)
    latin = LATIN & cmap
    other = {cp for cp in cmap if cp not in latin and cp not in HANGUL}
    symbols = {cp for cp in other if pages_using[cp]}
    syllables = sorted((cp for cp in pages_using if cp in HANGUL), key=lambda cp: (-pages_using[cp], cp))
    common = [cp for cp in syllables if pages_using[cp] * 2 >= len(used)]
    rest = syllables[len(common):]
    slices = [("latin", latin), ("symbols", symbols), ("symbols-more", other - symbols),
              ("hangul-1", set(common))]
    step = max(1, -(-len(rest) // 3))
    slices += [(f"hangul-{i + 2}", set(rest[j:j + step])) for i, j in enumerate(range(0, len(rest), step))]
    slices.append(("hangul-more", {cp for cp in cmap if cp in HANGUL} - set(syllables)))
    return [(name, cps) for name, cps in slices if cps]


def make_slices(package: Path, site_dir: Path, docs_dir: Path) -> str:
    """Write Pretendard's slices into ``docs_dir/TEXT_DIR`` and the stylesheet; returns its text."""
    from fontTools.ttLib import TTFont

    texts = page_texts(site_dir)
    rules: dict[tuple[str, str], str] = {}
    for weight, weight_range in WEIGHTS.items():
        source = package / "dist" / "web" / "static" / "woff2-subset" / f"Pretendard-{weight}.subset.woff2"
        if not source.is_file():
            raise FontError(f"{source}: 파일이 없습니다 (npm pack pretendard@1.3.9 로 받아 푼 package 폴더를 주세요)")
        cmap = set(TTFont(source).getBestCmap())
        slices = plan_slices(cmap, texts)
        # hangul-more claims every syllable no other slice has (a short list of gaps, not its 2,000)
        claimed = set().union(*(cps for name, cps in slices if name.startswith("hangul-") and name != "hangul-more"))
        for name, cps in slices:
            file = f"Pretendard-{weight}.{name}.woff2"
            css_range = unicode_range(set(HANGUL) - claimed if name == "hangul-more" else cps)
            (docs_dir / TEXT_DIR / file).write_bytes(subset_font(source, cps, TEXT_FEATURES))
            local = [f'local("{n}")' for n in (LOCAL[weight] if name.startswith("hangul") else LOCAL[weight][:2])]
            src = ", ".join(local + [f'url("../{TEXT_DIR}/{file}") format("woff2")'])
            rules[name, weight] = (f'@font-face {{ font-family: "Pretendard"; font-weight: {weight_range}; '
                                   f"font-display: swap;\n  src: {src};\n  unicode-range: {css_range}; }}")
    # a slice's two weights side by side: gzip then sends its long unicode-range about once
    rules = [_HEADER] + [rules[key] for key in sorted(rules, key=lambda k: (_slice_order(k[0]), k[1] != "Regular"))]
    css = "\n".join(rules + [_MATH_RULE]) + "\n"
    (docs_dir / STYLESHEET).write_text(css, encoding="utf-8")
    return css


def _slice_order(name: str) -> tuple:
    kind, _, n = name.partition("-")
    return (["latin", "symbols", "hangul"].index(kind), n == "more", n)


_HEADER = """\
/* Made by `python -m kb.fonts slices` (kb/fonts.py): do not edit by hand. Pretendard 1.3.9 (KS X 1001
   subset; docs/assets/fonts/pretendard/SOURCE.txt) in unicode-range slices: a browser fetches a
   slice only when the page has a character in its range. Hangul slices take an installed Korean
   font first (local()), so most readers fetch no Hangul font; Latin is Pretendard everywhere. */"""

_MATH_RULE = f"""\
/* STIX Two Math cut at build to the site's formulas (kb/fonts.py write_math_font): the OpenType MATH
   table stretches fences and roots and sizes display operators. Without it Chromium falls back
   (lang="ko") to a CJK serif. */
@font-face {{ font-family: "KB STIX Two Math"; font-display: swap;
  src: url("../{MATH_SUBSET}") format("woff2"); }}"""


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] != "slices":
        print("usage: python -m kb.fonts slices PRETENDARD_PACKAGE_DIR BUILT_SITE_DIR", file=sys.stderr)
        return 2
    docs_dir = Path(__file__).resolve().parent.parent / "docs"
    try:
        make_slices(Path(argv[1]), Path(argv[2]), docs_dir)
    except FontError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
