r"""A page body -> blocks: headings, questions, paragraphs and lists, code, math, tables, callouts.

Block kinds and where they come from:

* ``heading``: ``#`` .. ``######``; ``question``: a line or heading that asks a question, in the
  forms groups use (``Q1.``, ``Q1)``, ``Q1:``, ``Q.``, ``Q:``, ``**Q1.**``, ``- Q1.``, ``질문:``,
  ``질문 1.``, a heading ``### Q1 …``); a question without a number gets the next free one. A
  zero-width space does not hide a question (``Q\u200b1.`` is Q1). A list-item question's
  indented lines are its answer's first blocks.
* ``code``: a fence (``````` or ``~~~``), indented or not, closed by CommonMark's rule
  (:mod:`kb.markdown_scan`: the same character, at least as many); ``math``: ``$$`` on one line
  or around a block; ``aside``: Notion's callout ``<aside>💡 …</aside>``, its content parsed as
  blocks (an indented ``<aside>``, a callout inside a list item or toggle, stays the item's text:
  the tags go, the words stay in the item);
* ``table``: tab-separated lines (the copy-paste form; a table starts at a line with a tab after
  its first text: leading tabs alone indent a nested list item); ``pipetable``: ``| a | b |`` rows, where a
  cell holding a line break continues the row on the next line(s);
* ``para``: everything else, kept line by line (lists, toggles, to-dos, quotes, text).

Errors name the line: an unclosed fence, ``$$`` or ``<aside>``, a broken table, a question number
longer than :data:`MAX_QID_DIGITS` digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..markdown_scan import export_closes, export_opening
from .messages import NotionError, Warnings

MAX_QID_DIGITS = 3
LINE_BREAK = "\ue010"  # a line break inside a table cell, written as <br> after cleaning
ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u2060\ufeff\u00ad"))

HEADING_RE = re.compile(r"^(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_QUESTION_RE = re.compile(
    r"^(?P<lead>[ \t]{0,3}(?:[-*+][ \t]+)?)(?P<bold>\*\*|__)?"
    r"(?:Q[ \t]?(?P<num>\d+)?[ \t]*[.):：]|질문[ \t]*(?P<knum>\d+)?[ \t]*[.):：])"
    r"(?P<close>\*\*|__)?(?P<rest>(?:[ \t].*)?)$"
)
_HEADING_QUESTION_RE = re.compile(r"^(?P<bold>\*\*|__)?Q[ \t]?(?P<num>\d+)(?:[ \t]*[.):：])?(?P<close>\*\*|__)?(?P<rest>(?:[ \t].*)?)$")
_LIST_ITEM_RE = re.compile(r"^[ \t]{0,3}[-*+][ \t]+")
_ASIDE_RE = re.compile(r"^ {0,3}<aside(?=[\s>])", re.I)
_PIPE_ROW_RE = re.compile(r"^[ \t]{0,3}\|")
_PIPE_SEP_RE = re.compile(r"^[ \t]{0,3}\|?(?:[ \t]*:?-{1,}:?[ \t]*\|){1,200}[ \t]*(?::?-{1,}:?[ \t]*)?$")


@dataclass
class Block:
    """A block of a page's body; ``line`` is the 1-based line it starts on."""

    kind: str
    line: int
    lines: list[str]
    level: int = 0  # heading level (question: its heading's level, 0 for a paragraph)
    text: str = ""  # heading text; question: the question without its number
    qid: str = ""
    lang: str = ""
    children: list["Block"] = field(default_factory=list)  # aside content; a list question's answer
    numbered: bool = True  # question: its number was written


Row = tuple[int, str]  # (1-based line number, text)


def match_question(line: str) -> re.Match[str] | None:
    return _QUESTION_RE.match(line.translate(ZERO_WIDTH))


def parse_body(rows: list[Row], label: str, warnings: Warnings) -> list[Block]:
    blocks = _Parser(rows, label, warnings).parse()
    _number_questions(blocks, label)
    return blocks


def _tab_row(line: str) -> bool:
    """A tab after the line's first text separates cells; leading tabs alone are indentation
    (a nested list item ``\t1. …``), as Markdown reads them."""
    return "\t" in line.lstrip(" \t")


def cell_count(row: str) -> int:
    """Cells of a pipe-table row: '|' outside code spans and not escaped."""
    row = re.sub(r"`[^`]{0,2000}`", "", row.strip())
    bars = len(re.findall(r"(?<!\\)\|", row))
    return bars - (row.startswith("|")) - (row.endswith("|") and len(row) > 1) + 1


class _Parser:
    def __init__(self, rows: list[Row], label: str, warnings: Warnings):
        self.rows = rows
        self.label = label
        self.warnings = warnings

    def error(self, k: int, text: str) -> NotionError:
        return NotionError(self.label, self.rows[k][0], text)

    def special(self, text: str) -> bool:
        s = text.strip()
        return bool(
            export_opening(text) or HEADING_RE.match(text) or match_question(text) or s.startswith("$$")
            or _tab_row(text) or bool(_ASIDE_RE.match(text))
        )

    def parse(self) -> list[Block]:
        blocks: list[Block] = []
        k, n = 0, len(self.rows)
        while k < n:
            line = self.rows[k][1]
            if not line.strip():
                k += 1
                continue
            for method in (self.fence, self.aside, self.math, self.heading, self.question, self.tab_table, self.pipe_table):
                found = method(k)
                if found:
                    block, k = found
                    blocks.append(block)
                    break
            else:
                j = k + 1
                while j < n and self.rows[j][1].strip() and not self.special(self.rows[j][1]):
                    j += 1
                blocks.append(Block("para", self.rows[k][0], [r[1] for r in self.rows[k:j]]))
                k = j
        return blocks

    def fence(self, k: int):
        opened = export_opening(self.rows[k][1])
        if not opened:
            return None
        _, fence, info = opened
        for j in range(k + 1, len(self.rows)):
            if export_closes(fence, self.rows[j][1]):
                return Block("code", self.rows[k][0], [r[1] for r in self.rows[k : j + 1]], lang=info.strip()), j + 1
        raise self.error(k, f"코드 블록({fence})이 열린 뒤 닫히지 않았습니다")

    def aside(self, k: int):
        line = self.rows[k][1]
        if not _ASIDE_RE.match(line):  # indented: a list item's or toggle's child, kept as its text
            return None
        m = re.match(r"^[ \t]*<aside[^>]{0,200}>(.*)$", line, re.I)
        if not m:
            return None
        inner: list[Row] = []
        first = m.group(1)
        for j in range(k, len(self.rows)):
            text = first if j == k else self.rows[j][1]
            end = re.search(r"</aside\s*>", text, re.I)
            if end:
                inner.append((self.rows[j][0], text[: end.start()]))
                if text[end.end():].strip():
                    raise self.error(j, "</aside> 뒤에 같은 줄에 글이 있습니다: 줄을 나눠 주세요")
                children = _Parser(inner, self.label, self.warnings).parse()
                return Block("aside", self.rows[k][0], [r[1] for r in self.rows[k : j + 1]], children=children), j + 1
            inner.append((self.rows[j][0], text))
        raise self.error(k, "콜아웃(<aside>)이 열린 뒤 닫히지 않았습니다")

    def math(self, k: int):
        stripped = self.rows[k][1].strip()
        if not stripped.startswith("$$"):
            return None
        if len(stripped) > 4 and stripped.endswith("$$"):
            return Block("math", self.rows[k][0], [self.rows[k][1]]), k + 1
        for j in range(k + 1, len(self.rows)):
            if self.rows[j][1].strip().endswith("$$"):
                return Block("math", self.rows[k][0], [r[1] for r in self.rows[k : j + 1]]), j + 1
        raise self.error(k, "수식($$)이 열린 뒤 닫히지 않았습니다")

    def heading(self, k: int):
        m = HEADING_RE.match(self.rows[k][1])
        if not m:
            return None
        number, line = self.rows[k]
        level, text = len(m.group(1)), (m.group(2) or "")
        plain = text.translate(ZERO_WIDTH)
        if q := _HEADING_QUESTION_RE.match(plain) or _QUESTION_RE.match(plain):
            num = q.group("num") or q.groupdict().get("knum")
            rest = q.group("rest").strip()
            if q.group("bold") and not q.group("close"):
                rest = re.sub(r"(\*\*|__)[ \t]*$", "", rest)
            return Block("question", number, [line], level=level, text=rest, qid=self._qid(num, k), numbered=bool(num)), k + 1
        if not text.strip():
            self.warnings.add(self.label, number, "글자가 없는 제목: 그대로 둡니다")
            return Block("text", number, [line]), k + 1
        return Block("heading", number, [line], level=level, text=text), k + 1

    def _qid(self, num: str | None, k: int) -> str:
        if num is None:
            return ""
        if len(num.lstrip("0") or "0") > MAX_QID_DIGITS:
            raise self.error(k, f"질문 번호가 너무 깁니다: Q{num[:20]}{'…' if len(num) > 20 else ''} ({MAX_QID_DIGITS}자리까지)")
        return f"Q{int(num)}"

    def question(self, k: int):
        number, line = self.rows[k]
        q = match_question(line)
        if not q:
            return None
        rest = q.group("rest").strip()
        if q.group("bold") and not q.group("close"):
            rest = re.sub(r"(\*\*|__)[ \t]*$", "", rest)  # **Q1. 질문 전체**
        num = q.group("num") or q.group("knum")
        block = Block("question", number, [line], text=rest, qid=self._qid(num, k), numbered=bool(num))
        k += 1
        if _LIST_ITEM_RE.match(line):  # '- Q1. …' with the answer indented under it
            j = k
            inner: list[Row] = []
            while j < len(self.rows) and (not self.rows[j][1].strip() or self.rows[j][1].startswith(("  ", "\t"))):
                inner.append(self.rows[j])
                j += 1
            while inner and not inner[-1][1].strip():
                inner.pop()
                j -= 1
            if inner:
                width = min(len(t) - len(t.lstrip()) for _, t in inner if t.strip())
                block.children = _Parser([(n, t[width:]) for n, t in inner], self.label, self.warnings).parse()
                k = j
        return block, k

    def tab_table(self, k: int):
        if not _tab_row(self.rows[k][1]):
            return None
        j = k
        while j < len(self.rows) and self.rows[j][1].strip() and "\t" in self.rows[j][1] and not export_opening(self.rows[j][1]):
            j += 1
        lines = [r[1] for r in self.rows[k:j]]
        if len(lines) == 1:
            self.warnings.add(self.label, self.rows[k][0], "탭으로 나뉜 줄이 하나뿐이라 표로 보지 않고 글로 둡니다")
            return Block("text", self.rows[k][0], lines), j
        width = len(lines[0].split("\t"))
        for off, row in enumerate(lines[1:], start=1):
            if len(row.split("\t")) != width:
                raise self.error(k + off, f"표가 깨졌습니다: 이 줄은 칸이 {len(row.split(chr(9)))}개인데 머리줄({self.rows[k][0]}번 줄)은 {width}개입니다")
        return Block("table", self.rows[k][0], lines), j

    def pipe_table(self, k: int):
        if not _PIPE_ROW_RE.match(self.rows[k][1]) or k + 1 >= len(self.rows) or not _PIPE_SEP_RE.match(self.rows[k + 1][1]):
            return None
        width = cell_count(self.rows[k][1])
        rows, j = [self.rows[k][1].strip(), self.rows[k + 1][1].strip()], k + 2
        while j < len(self.rows) and _PIPE_ROW_RE.match(self.rows[j][1]):
            start, row = j, self.rows[j][1].strip()
            while not (row.endswith("|") and cell_count(row) >= width):  # a cell with a line break
                j += 1
                if j >= len(self.rows) or not self.rows[j][1].strip():
                    raise self.error(start, f"표의 행이 닫히지 않았습니다 (칸 {width}개, '|'로 끝나야 합니다)")
                row += LINE_BREAK + self.rows[j][1].strip()
            if cell_count(row) != width:
                raise self.error(start, f"표가 깨졌습니다: 이 행은 칸이 {cell_count(row)}개인데 머리줄({self.rows[k][0]}번 줄)은 {width}개입니다")
            rows.append(row)
            j += 1
        return Block("pipetable", self.rows[k][0], rows), j


def _number_questions(blocks: list[Block], label: str) -> None:
    """Give unnumbered questions the next free number; a number used twice is an error."""
    questions = [b for b in _walk(blocks) if b.kind == "question"]
    seen: dict[str, int] = {}
    for b in questions:
        if b.qid:
            if b.qid in seen:
                raise NotionError(label, b.line, f"질문 번호 {b.qid}가 두 번 나옵니다 (먼저 {seen[b.qid]}번 줄)")
            seen[b.qid] = b.line
    last = 0
    for b in questions:
        if b.qid:
            last = max(last, int(b.qid[1:]))
            continue
        last += 1
        while f"Q{last}" in seen:
            last += 1
        b.qid = f"Q{last}"
        seen[b.qid] = b.line


def _walk(blocks: list[Block]):
    """Top-level blocks only: a question nested in a list or callout is kept as text."""
    yield from blocks
