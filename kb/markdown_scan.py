"""Where a page's Markdown has code, found as the build finds it: fenced blocks and inline code spans.

Everyone who must tell code from text before Markdown runs asks this module: ``kb check`` (markers
and placeholders outside code), :mod:`kb.mathml` (no math in code), :mod:`kb.blocks` (the Python
fences of a page), and the Notion importer (the fences of an export, and the fences it writes).

Fenced blocks (:func:`fences`) follow pymdownx.superfences, which takes the place of Markdown's
``fenced_code`` in the build (mkdocs.yml), not CommonMark:

* the opening is a run of 3 or more backticks or tildes after any indentation and ``>`` quote
  marks (so a fence nests in a list item, an admonition, a tab or a quote), with the info string
  superfences accepts, read by its own regular expression: a language, ``{attributes}``, or only
  the options pymdownx.highlight takes (``title=``, ``hl_lines=``, ``linenums=``, ``title_mode=``).
  Anything else (```` ```python foo````, a backtick in the info string) opens nothing;
* the closing is the same run exactly (same character, same length) at the opening's indentation,
  followed by spaces only: a longer or shorter run, or one indented otherwise, is code;
* a content line indented less than the opening, or an opening that is never closed, makes no
  block at all: the build shows those lines as text (inline code spans may then take them);
* tabs count as 4 columns, as Markdown expands them before the fences are read.

The build also reads an indented code block (4 spaces at the top level, after a blank line) as
code; a fence indented so is shown there as text inside that block. This module finds fences only.

Inline code spans (:func:`code_spans`) follow Python-Markdown (``BacktickInlineProcessor``, which
pymdownx.inlinehilite keeps): a run of N backticks not escaped by a backslash opens a span that
the next run of exactly N closes; with none, the first longest shorter run closes it. Spans may
cross lines within a paragraph (:func:`span_columns` gives them per line).

A Notion export is CommonMark written by Notion, not a page: :func:`export_opening` and
:func:`export_closes` read its fences by CommonMark's rule (a closing run at least as long), and
:func:`write_fence` writes one that the build reads back as exactly one block with the same code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from pymdownx.superfences import RE_HL_LINES, RE_LINENUMS, RE_NESTED_FENCE_START, RE_OPTIONS

TAB = 4  # Markdown's tab_length
_PREFIX = " \t>"  # what superfences skips before a fence (pymdownx.superfences.PREFIX_CHARS)
# pymdownx.highlight's options a fence may carry (with use_pygments, its default), and what each accepts
_OPTIONS = {"hl_lines": RE_HL_LINES, "linenums": RE_LINENUMS, "title": None, "title_mode": None}
_EXPORT_FENCE = re.compile(r"^([ \t]*)(`{3,}|~{3,})(.*)$")


@dataclass(frozen=True)
class Fence:
    """A fenced code block; ``start`` and ``end`` index the opening and closing lines (0-based)."""

    start: int
    end: int
    indent: str  # what precedes the run on the opening line (tabs expanded)
    fence: str  # the run: ``````` , ``~~~~`` ...
    info: str  # the rest of the opening line, stripped
    lang: str  # the language superfences reads from it, '' for none

    @property
    def body(self) -> range:
        """The indexes of the code lines (between opening and closing)."""
        return range(self.start + 1, self.end)


def _lines(text: str | Sequence[str]) -> list[str]:
    lines = text.split("\n") if isinstance(text, str) else list(text)
    return [line.rstrip("\r").expandtabs(TAB) for line in lines]


def _accepted(m: re.Match[str]) -> tuple[bool, str]:
    """(opens a block, language) for an opening as pymdownx.superfences judges its info string."""
    lang = m.group("lang") or ""
    if m.group("unrecognized"):
        return False, lang  # relaxed_headers is off
    if m.group("attrs") is not None:
        from markdown.extensions.attr_list import get_attrs_and_remainder

        attrs, _ = get_attrs_and_remainder(m.group("attrs"))
        classes = [v for k, v in attrs if k == "."]
        return True, lang or (classes[0] if classes else "")
    for option in RE_OPTIONS.finditer(m.group("options") or ""):
        key, value = option.group("key"), option.group("value")
        check = _OPTIONS.get(key, False)
        if check is False or (check is not None and not check.match(value if value is not None else key)):
            return False, lang  # an option highlight does not take becomes an attribute: no block
    return True, lang


def opening(line: str) -> tuple[str, str, str, str] | None:
    """``(indent, fence, info, lang)`` if ``line`` opens a fence the build accepts (whether it is
    closed is for :func:`fences` to say), else None."""
    line = line.rstrip("\r").expandtabs(TAB)
    width = len(line) - len(line.lstrip(_PREFIX))
    m = RE_NESTED_FENCE_START.match(line, width)
    if m is None:
        return None
    ok, lang = _accepted(m)
    return (line[:width], m.group("fence"), line[m.end("fence"):].strip(), lang) if ok else None


def _split(line: str, width: int) -> tuple[str, str]:
    """The prefix superfences strips from a line inside a fence (at most ``width`` columns) and the rest."""
    n = 0
    while n < len(line) and n < width and line[n] in _PREFIX:
        n += 1
    return line[:n], line[n:]


def fences(text: str | Sequence[str]) -> list[Fence]:
    """The fenced code blocks of ``text`` (a page, or its lines), as pymdownx.superfences finds them."""
    found: list[Fence] = []
    lines = _lines(text)
    start = -1
    indent = fence = info = lang = ""
    quote = empty = 0
    for i, line in enumerate(lines):
        if start < 0:
            if (opened := opening(line)) is not None:
                indent, fence, info, lang = opened
                start, quote, empty = i, indent.count(">"), 0
            continue
        ws, content = _split(line, len(indent))
        level = ws.count(">")
        closes = re.match(re.escape(fence) + r"[ \t]*$", content) is not None
        if quote:  # superfences' eval_quoted
            if level > quote:
                verdict = "drop"
            elif content == "":
                verdict, empty = "code", empty + 1
            elif len(ws) < len(indent) or (empty and level < quote):
                verdict = "drop"
            else:
                verdict, empty = ("close" if closes else "code"), 0
        elif level:
            verdict = "drop"  # a quoted line in a fence opened outside a quote
        elif not (ws + content).strip():
            verdict = "code"
        elif len(ws) != len(indent):
            verdict = "drop"  # indented less than the opening
        else:
            verdict = "close" if closes and not content.startswith((" ", "\t")) else "code"
        if verdict == "close":
            found.append(Fence(start, i, indent, fence, info, lang))
        if verdict != "code":
            start = -1
    return found


def fence_lines(text: str | Sequence[str]) -> list[bool]:
    """For each line: is it part of a fenced block (opening, code or closing)?"""
    lines = _lines(text)
    inside = [False] * len(lines)
    for f in fences(lines):
        inside[f.start:f.end + 1] = [True] * (f.end + 1 - f.start)
    return inside


# --- inline code spans ---------------------------------------------------------------------------


def code_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each inline code span of ``text`` (one paragraph), backticks included."""
    spans = []
    i, n = 0, len(text)
    while (j := text.find("`", i)) >= 0:
        backslashes = 0
        while j - backslashes > i and text[j - backslashes - 1] == "\\":
            backslashes += 1
        if backslashes % 2:  # an escaped backtick is text; the next one may open a span
            i = j + 1
            continue
        k = j
        while k < n and text[k] == "`":
            k += 1
        ticks, longest, end = k - j, 0, None
        m = k
        while m < n:
            if text[m] != "`":
                m += 1
                continue
            run = m
            while m < n and text[m] == "`":
                m += 1
            if m - run == ticks:
                end = m
                break
            if m - run > longest:
                longest, longest_end = m - run, m
        if end is None and 0 < longest < ticks:
            end = longest_end
        if end is None:
            i = k  # no closing run: the opening run is text
            continue
        spans.append((j, end))
        i = end
    return spans


# Lines that start a block of their own, so a span never crosses into them: list items, headings,
# admonitions and details (``!!!``, ``???``), tabs (``===``), quotes, footnote definitions.
_BLOCK_START = re.compile(r"^[ \t]*(?:[-*+][ \t]|\d+\.[ \t]|#{1,6}(?:[ \t]|$)|!!!|\?\?\?|===|>|\[\^[^\]]+\]:)")
_QUOTE = re.compile(r"^[ \t]*>")
_ONE_LINE_BLOCK = re.compile(r"^[ \t]*(?:#{1,6}(?:[ \t]|$)|!!!|\?\?\?|===)")


def span_columns(text: str | Sequence[str]) -> dict[int, list[tuple[int, int]]]:
    """Inline code spans per line: ``{line index: [(start column, end column), ...]}``.

    Spans are found in runs of text lines outside fences, broken at blank lines and where a block
    starts (Python-Markdown's paragraphs, near enough: tables and raw HTML are not told apart), so
    a span may cross lines as it does in a paragraph. Columns count characters of the lines as
    given (a tab is one)."""
    lines = text.split("\n") if isinstance(text, str) else list(text)
    inside = fence_lines(lines)
    runs: list[list[int]] = []
    for i, line in enumerate(lines):
        if inside[i] or not line.strip():
            runs.append([])
            continue
        run = runs[-1] if runs else []
        quoted = run and _QUOTE.match(lines[run[0]]) and _QUOTE.match(line)  # a quote goes on (lazily too)
        if not run or (_BLOCK_START.match(line) and not quoted) or _ONE_LINE_BLOCK.match(lines[run[-1]]):
            runs.append([])
        runs[-1].append(i)
    columns: dict[int, list[tuple[int, int]]] = {}
    for run in filter(None, runs):
        offsets, pos = [], 0
        for i in run:
            offsets.append(pos)
            pos += len(lines[i]) + 1
        for start, end in code_spans("\n".join(lines[i] for i in run)):
            for i, off in zip(run, offsets):
                a, b = max(start, off) - off, min(end, off + len(lines[i])) - off
                if a < b:
                    columns.setdefault(i, []).append((a, b))
    return columns


# --- Notion exports: CommonMark's reading, and fences written for the build -----------------------


def export_opening(line: str) -> tuple[str, str, str] | None:
    """``(indent, fence, info)`` if ``line`` of an export opens a fence by CommonMark's rule (at any
    indentation: Notion indents code inside list items), else None. A backtick fence's info string
    holds no backtick."""
    m = _EXPORT_FENCE.match(line)
    if m is None or (m.group(2)[0] == "`" and "`" in m.group(3)):
        return None
    return m.group(1), m.group(2), m.group(3)


def export_closes(fence: str, line: str) -> bool:
    """Does ``line`` of an export close ``fence``: the same character, at least as many, nothing else?"""
    run = line.strip()
    return len(run) >= len(fence) and run == fence[0] * len(run)


def write_fence(indent: str, fence: str, info: str, body: Sequence[str]) -> list[str]:
    """Lines of a fenced block that the build reads as one block showing ``body`` as CommonMark
    shows it under an opening indented by ``indent``: a body line indented less gets the opening's
    indentation (CommonMark drops what it has, superfences would drop the block), the fence is
    longer than any body line made of its character (which would close it in CommonMark or here),
    and the closing line is the opening's run at its indentation."""
    width = len(indent.expandtabs(TAB))
    lines = []
    for line in body:
        stripped = line.lstrip(" \t")
        short = stripped and len(line[:len(line) - len(stripped)].expandtabs(TAB)) < width
        lines.append(indent + stripped if short else line)
    closers = [len(line.strip()) for line in lines if line.strip() and not line.strip().strip(fence[0])]
    fence = fence[0] * max(len(fence), max(closers, default=0) + 1)  # no body line closes it in CommonMark either
    out = [f"{indent}{fence}{info}", *lines, indent + fence]
    if [(f.start, f.end) for f in fences(out)] != [(0, len(out) - 1)]:  # an info string the build refuses
        raise ValueError(f"the build would not read this as one code block: {out[0]!r}")
    return out
