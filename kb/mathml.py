"""TeX math in Markdown rendered to MathML at build time, so pages need no math JavaScript.

Syntax, as in the Notion export and most Markdown editors:

* display math: ``$$ ... $$`` (on one line, or with the ``$$`` lines around a block);
* inline math: ``$...$`` with no space just inside the dollars (``$5 and $6`` stays text).

Code (fenced blocks and inline code spans, found as the build finds them: :mod:`kb.markdown_scan`)
and HTML comments are left alone. Math is
swapped for an alphanumeric placeholder before Markdown runs (so ``_`` and ``*`` in TeX
are not read as emphasis) and the MathML is put back into the HTML afterwards.

A formula that latex2mathml cannot render faithfully (unbalanced braces, an unknown
command, a fraction with one argument) raises :class:`MathError` naming the page, the line
and the formula.

Notebook pages skip Markdown (mkdocs-jupyter renders them); :func:`find_in_text` finds the
same math in their already-rendered HTML text (see kb/notebooks.py).
"""

from __future__ import annotations

import functools
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from latex2mathml.converter import convert

from . import markdown_scan

_BLOCK_ONE_LINE_RE = re.compile(r"^(\s*)\$\$(.+?)\$\$\s*$")
# Hangul may touch the dollars (a particle right after a formula: $G_t$가); ASCII letters
# and digits may not, so prices such as $5 stay text.
_INLINE_RE = re.compile(r"(?<![\\$0-9A-Za-z])\$(?![\s$])((?:\\\$|[^$\n])+?)(?<![\s\\])\$(?![0-9A-Za-z$])")
_COMMENT_RE = re.compile(r"<!--.*?-->", re.S)

PLACEHOLDER = "KBMATH{kind}{index:05d}X"
_PLACEHOLDER_RE = re.compile(r"(<p>\s*)?KBMATH(B|I)(\d{5})X(\s*</p>)?")

# Arity of the MathML elements whose arguments TeX gives in braces.
_ARITY = {"mfrac": 2, "msub": 2, "msup": 2, "msubsup": 3, "mroot": 2, "munder": 2, "mover": 2, "munderover": 3}
_MATHML_NS = "{http://www.w3.org/1998/Math/MathML}"


class MathError(ValueError):
    """A formula that cannot be rendered; the message names page, line and formula."""


@dataclass
class Formula:
    tex: str
    display: bool
    line: int


def _braces_balanced(tex: str) -> bool:
    depth = 0
    i = 0
    while i < len(tex):
        ch = tex[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth < 0:
                return False
        i += 1
    return depth == 0


# latex2mathml copies the argument of text-mode commands into <mtext> without escaping it, so
# \text{<script>} would reach the page as markup. Inside those arguments < > & are swapped for
# private-use characters before conversion and written back as entities after it.
_TEXT_CMD_RE = re.compile(r"\\(?:text[a-z]*|mbox|hbox)\s*\{")
_PROTECT = {"<": "\ue000", ">": "\ue001", "&": "\ue002"}
_RESTORE = {"\ue000": "&lt;", "\ue001": "&gt;", "\ue002": "&amp;"}
# What the converter may produce: MathML elements and presentation attributes, nothing else.
_ALLOWED_TAGS = frozenset(
    "math semantics annotation mrow mi mn mo ms mtext mspace mfrac msqrt mroot mstyle merror mpadded "
    "mphantom menclose msub msup msubsup munder mover munderover mtable mtr mtd mlabeledtr".split()
)
_ALLOWED_ATTRS = frozenset(
    "display mathvariant stretchy fence separator lspace rspace accent accentunder columnalign "
    "columnspacing columnlines rowspacing rowlines rowalign displaystyle scriptlevel width height depth "
    "minsize maxsize movablelimits symmetric largeop form linethickness notation frame framespacing "
    "equalrows equalcolumns align encoding voffset".split()
)


def _protect_text(tex: str) -> str:
    out, pos = [], 0
    for m in _TEXT_CMD_RE.finditer(tex):
        if m.start() < pos:
            continue
        depth, i = 1, m.end()
        while i < len(tex) and depth:
            depth += {"{": 1, "}": -1}.get(tex[i], 0) if tex[i - 1] != "\\" else 0
            i += 1
        arg = tex[m.end() : i]
        out += [tex[pos : m.end()], "".join(_PROTECT.get(ch, ch) for ch in arg)]
        pos = i
    out.append(tex[pos:])
    return "".join(out)


def _check_elements(root: ET.Element) -> None:
    for el in root.iter():
        tag = el.tag.removeprefix(_MATHML_NS)
        if tag not in _ALLOWED_TAGS or not el.tag.startswith(_MATHML_NS):
            raise ValueError(f"unexpected element <{tag}> in the MathML")
        for name in el.attrib:
            if name not in _ALLOWED_ATTRS:
                raise ValueError(f"unexpected attribute {name!r} on <{tag}> in the MathML")


@functools.lru_cache(maxsize=8192)  # `kb check` at the build's start renders every formula the pages render again
def to_mathml(tex: str, display: bool) -> str:
    """Render one formula; raise ``ValueError`` with the reason if it cannot be done faithfully."""
    if not tex.strip():
        raise ValueError("empty formula")
    if not _braces_balanced(tex):
        raise ValueError("unbalanced braces")
    try:
        mathml = convert(_protect_text(tex.strip()), display="block" if display else "inline")
    except Exception as exc:  # latex2mathml raises a variety of exception types
        raise ValueError(f"latex2mathml failed: {exc}") from exc
    for ch, entity in _RESTORE.items():
        mathml = mathml.replace(ch, entity)
    mathml = _typeset(mathml)
    try:
        root = ET.fromstring(mathml)
    except ET.ParseError as exc:
        raise ValueError(f"the converter produced invalid MathML ({exc})") from None
    _check_elements(root)
    for el in root.iter():
        tag = el.tag.removeprefix(_MATHML_NS)
        if tag in _ARITY and len(el) != _ARITY[tag]:
            raise ValueError(f"<{tag}> needs {_ARITY[tag]} arguments, got {len(el)}")
        if el.text and "\\" in el.text:
            raise ValueError(f"unknown command {el.text.strip()!r}")
    return _annotate(mathml, tex.strip())


# --- issue 10 (reader engineer): latex2mathml output spaced as TeX spaces it ------------------
# latex2mathml writes \infty as an operator (<mo>: spaced as one, "− ∞"), the colon of := as an
# identifier (so "a: = b"), and \mathrm{softmax} as one <mi> per letter. MathML Core spaces
# <mo>:=</mo> as one relation (its operator dictionary has ":="), ∞ as an identifier, and a
# multi-letter <mi> as one upright word, as TeX and KaTeX do.
_COLON_EQUALS_RE = re.compile(r"<mi>:</mi>\s*<mo>(?:=|&#x0003D;)</mo>")
_INFINITY_RE = re.compile(r"<mo>(∞|&#x0221E;)</mo>")
_UPRIGHT_WORD_RE = re.compile(r'<mrow>((?:<mi mathvariant="normal">[A-Za-z]</mi>){2,})</mrow>')


def _typeset(mathml: str) -> str:
    mathml = _COLON_EQUALS_RE.sub("<mo>:=</mo>", mathml)
    mathml = _INFINITY_RE.sub(r"<mi>\1</mi>", mathml)
    return _UPRIGHT_WORD_RE.sub(
        lambda m: '<mi mathvariant="normal">' + "".join(re.findall(r">([A-Za-z])<", m.group(1))) + "</mi>", mathml)
# --- end issue 10 ----------------------------------------------------------------------------


def _annotate(mathml: str, tex: str) -> str:
    """Keep the TeX source inside the MathML (``<semantics>`` + ``<annotation>``).

    Browsers render only the presentation part; the source stays available to screen
    readers, copy-and-paste and to tests that compare the page with its notes.
    """
    start = mathml.index(">") + 1
    end = mathml.rindex("</math>")
    source = tex.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return (
        f"{mathml[:start]}<semantics><mrow>{mathml[start:end]}</mrow>"
        f'<annotation encoding="application/x-tex" data-search-exclude>{source}</annotation></semantics></math>'
    )


def extract(markdown: str, first_line: int = 1) -> tuple[str, list[Formula]]:
    """Replace math in ``markdown`` with placeholders; return the new text and the formulas.

    ``first_line`` is the line of the source file on which ``markdown`` starts, so that
    errors name the line in the file (after its front matter).
    """
    formulas: list[Formula] = []
    out: list[str] = []
    lines = markdown.split("\n")
    fence_ends = {f.start: f.end for f in markdown_scan.fences(lines)}
    spans = markdown_scan.span_columns(lines)
    fence_end: int | None = None
    block: list[str] | None = None
    block_start = 0
    block_indent = ""
    in_comment = False

    def add(tex: str, display: bool, line: int) -> str:
        formulas.append(Formula(tex, display, line))
        return PLACEHOLDER.format(kind="B" if display else "I", index=len(formulas) - 1)

    for index, line in enumerate(lines):
        number = first_line + index
        if fence_end is not None:
            out.append(line)
            if index == fence_end:
                fence_end = None
            continue
        if block is not None:
            if line.strip() == "$$":
                out.append(block_indent + add("\n".join(block), True, block_start))
                block = None
            else:
                block.append(line)
            continue
        if in_comment:
            out.append(line)
            if "-->" in line:
                in_comment = False
            continue
        if index in fence_ends:
            fence_end = fence_ends[index]
            out.append(line)
            continue
        if line.strip() == "$$":
            block, block_start, block_indent = [], number, line[: len(line) - len(line.lstrip())]
            continue
        m = _BLOCK_ONE_LINE_RE.match(line)
        if m:
            out.append(m.group(1) + add(m.group(2), True, number))
            continue
        if "<!--" in line and "-->" not in line.split("<!--", 1)[1]:
            in_comment = True
            out.append(line)
            continue
        out.append(_inline(line, number, add, spans.get(index, [])))
    if block is not None:
        raise MathError(f"line {block_start}: display math opened with '$$' is never closed")
    return "\n".join(out), formulas


def _inline(line: str, number: int, add, code_spans: list[tuple[int, int]]) -> str:
    """Replace inline ``$...$`` in one line, skipping code spans (their columns) and HTML comments."""
    protected = code_spans + [(m.start(), m.end()) for m in _COMMENT_RE.finditer(line)]

    def repl(m: re.Match[str]) -> str:
        if any(a <= m.start() < b for a, b in protected):
            return m.group(0)
        return add(m.group(1), False, number)

    return _INLINE_RE.sub(repl, line)


_DISPLAY_IN_TEXT_RE = re.compile(r"(?<![\\$])\$\$(?!\$)(.+?)(?<!\\)\$\$", re.S)


def find_in_text(text: str) -> list[tuple[int, int, str, bool]]:
    """Math in text that Markdown has already rendered (a notebook's Markdown cell as HTML).

    Returns ``(start, end, tex, display)`` for each ``$$...$$`` (which may span lines) and
    each ``$...$``, by the inline rule of :func:`extract` (so ``$5 and $6`` stays text).
    ``text`` is one run of text between tags, still HTML-escaped: ``tex`` is returned as it
    stands there, and the caller unescapes it.
    """
    found: list[tuple[int, int, str, bool]] = []
    last = 0

    def inline(start: int, end: int) -> None:
        for m in _INLINE_RE.finditer(text[start:end]):
            found.append((start + m.start(), start + m.end(), m.group(1), False))

    for m in _DISPLAY_IN_TEXT_RE.finditer(text):
        inline(last, m.start())
        found.append((m.start(), m.end(), m.group(1), True))
        last = m.end()
    inline(last, len(text))
    return found


def render(html: str, formulas: list[Formula], page: str) -> str:
    """Put MathML for ``formulas`` into ``html`` where their placeholders are."""
    rendered: dict[int, str] = {}
    errors = []
    for i, f in enumerate(formulas):
        try:
            rendered[i] = to_mathml(f.tex, f.display)
        except ValueError as exc:
            errors.append(f"{page}:{f.line}: cannot render formula ${f.tex}$: {exc}")
    if errors:
        raise MathError("\n".join(errors))
    seen: set[int] = set()

    def repl(m: re.Match[str]) -> str:
        index = int(m.group(3))
        seen.add(index)
        mathml = rendered[index]
        if m.group(2) == "B":
            inner = f'<div class="kb-math kb-math--block">{mathml}</div>'
            if m.group(1) and m.group(4):
                return inner
            return (m.group(1) or "") + inner + (m.group(4) or "")
        return (m.group(1) or "") + f'<span class="kb-math">{mathml}</span>' + (m.group(4) or "")

    html = _PLACEHOLDER_RE.sub(repl, html)
    lost = sorted(set(rendered) - seen)
    if lost:
        lines = ", ".join(f"line {formulas[i].line}" for i in lost)
        raise MathError(f"{page}: formula(s) at {lines} were swallowed by Markdown (inside a link or HTML?)")
    return html
