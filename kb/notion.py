r"""Import a Notion meeting export (Markdown) as a meeting page and one Q&A page per question.

``python -m kb import-notion EXPORT.md`` reads a page that Notion exported as Markdown, such as
``/work/shared/seed/2021-08-10-meeting-notion-export.md``, and writes

* ``docs/meetings/YYYY-MM-DD.md``: the whole meeting, every line of the export kept;
* ``docs/qna/<slug>.md`` for each question ``Q1.`` .. ``Qn.``: the question as asked, what the
  notes say under it, and a placeholder for the answer written after the meeting
  (``status: open``).

The input format
----------------
::

    # 8/10(화) 회의록                                <- title; month/day give the meeting date
                                                    <- blank
    🕒 작성일시<TAB>@2021년 8월 6일 오후 5:57       <- properties block: "icon name<TAB>value"
    👤 작성자<TAB><span>하람</span> 이하람
    👥 참석자<TAB>
    🕒 최종 편집일시<TAB>@2021년 8월 17일 오후 2:00
    📌 회의 유형<TAB>일일 회의
                                                    <- blank, then the body

Properties become front matter (the names are those of ``kb.frontmatter.SCHEMAS["meetings"]``):
작성일시 -> ``created``, 최종 편집일시 -> ``updated`` (Korean 오전/오후 12-hour clock, read as
Korea time, written as ISO 8601 with ``+09:00``), 작성자 -> ``author``, 참석자 -> ``attendees``
(comma separated; empty -> ``[]``; the property may be left out), 회의 유형 -> ``meeting_type``.
In person values Notion writes an avatar label before each name (``<span>하람</span> 이하람``);
the label is dropped and the name kept. The meeting ``date`` is the title's ``M/D`` with the year
of 작성일시 (of the three candidate years the one closest to 작성일시, so a January meeting
written in December gets the next year); ``--date`` overrides it. A weekday in the title that does
not match the date is a warning. ``tags`` is ``[회의록]``; ``source`` names the export file.
Other properties are kept in a note at the top of the page, with a warning.

The body
--------
* Headings are kept. A question is a line (paragraph or heading) starting with ``Qn.``. Its
  answer is everything after it up to the next question, the next numbered heading
  (``2. ...``, ``(1) ...``), or, after the last question, the next heading of any kind. Heading
  levels are not used for this: Notion pages mix them (``## 2. CNN`` next to ``### 3. 특강``),
  and the seed's ``## Momentum``/``## Nesterov`` belong to Q4. Headings inside an answer are
  moved one level below the question's heading so the table of contents nests.
* On the meeting page each paragraph question gets a heading ``Qn. <short title> { #qn }``
  followed by the question line as a quote; a heading question keeps its heading and gets the
  anchor. After the answer a line links to the Q&A page; the Q&A page links back to
  ``meetings/DATE.md#qn`` (the build also adds a back-link box from ``meeting:``).
* A heading with nothing under it (the next block is a heading of the same or a higher level,
  a question, or the end) is kept and followed by a note saying it was empty in the notes.
* Tables: consecutive lines with tabs; the first is the header (its first cell may be empty).
  A row with another number of cells is an error naming the line. A single tab-separated line
  is not a table: it is kept as text, with a warning.
* Display math ``$$...$$`` is kept (one line, or ``$$`` lines around a block; a block written as
  ``$$a`` ... ``b$$`` is re-wrapped as ``$$`` / ``a`` ... ``b`` / ``$$``). A formula that the build
  could not render is a warning naming the line; an unclosed ``$$`` is an error.
* Code blocks are kept with their language. A bare fence becomes ``python`` when its content
  parses as Python and ``text`` otherwise; ``sh``/``bash``/``shell``/``zsh`` become ``console`` with the
  original language as the block's ``title`` (the test suite would execute them). Every ``python`` block is preceded by
  ``<!--pytest.mark.skip(reason="fragment quoted from the meeting notes")-->``: code quoted from
  notes is not known to be a whole program, and runnable code belongs in ``snippets/``.
  An unclosed fence is an error naming the line where it opens.
* Links: Notion escapes ``_`` in URLs (``<https://x/a\_b>``; in link texts even twice,
  ``[https://x/a\\_b](https://x/a_b)``). URLs are unescaped and link texts get a single
  escape, so both render as written in Notion. Links whose target is not http(s)/mailto
  (Notion-internal pages, attached images, ``javascript:``) keep their text only, with a warning.
* Raw HTML is reduced to its text: ``<script>``/``<style>`` go with their content, tags (and so
  their ``on...=`` attributes) are removed, ``javascript:``/``vbscript:`` words are removed, and any
  ``<`` still starting something tag-like (``<!--`` included, so notes cannot inject build markers
  or test markers) is written as ``&lt;``. ``{...=...}`` (an attr_list that could set ``onclick``)
  is escaped, and snippet lines (``--8<-- "file"``) are escaped with ``;`` so the build cannot be made
  to include files. Code blocks and math are left as they are (the build shows them as text).
  After conversion every page is rendered with Python-Markdown and refused if the HTML has a
  script element, an ``on...`` attribute or a non-http(s) link: a second line of defence.
* Everything else (lists, quotes, text) is kept as written.

Checks and guarantees
---------------------
* Nothing is lost: after conversion each non-empty export line, reduced to its letters and
  digits (HTML tags' text kept; the deliberate drops above applied first; a code fence's
  language not compared), must appear in the meeting page in order, and each question's lines in its Q&A page; a property line must be
  reproduced by the front matter (dates formatted back with ``kb.render.korean_datetime``).
  A failure is an internal error and nothing is written.
* All front matter is validated with ``kb.frontmatter.validate_page`` before anything is written.
* Errors name the file and line and nothing is written: no title, missing properties block or
  required property, an unparseable date, a broken table, an unclosed code fence or ``$$``, an
  empty file, binary input (NUL bytes), a file over ``MAX_BYTES`` (5 MiB), text that is not UTF-8
  (with the ``iconv`` command when it looks like CP949/EUC-KR), a question number used twice.
* The glossary check lists English words of the export's prose (not code, math or URLs) that
  are not in ``docs/glossary.md``'s ``| 영문 | 한글 | 비고 |`` table, as warnings. Q&A ``tags`` are
  the glossary's Korean terms for the English terms in the question (at most three), or
  ``[미분류]``.
* Output is a pure function of the export and the options (no clock, no absolute paths), so a
  second import is byte-identical.

Compared with the published docs/meetings/2021-08-10.md
-------------------------------------------------------
The hand-written page (commit 69f836d) and an import of the seed agree on the front matter
values ``title``, ``date``, ``created``, ``updated``, ``author``, ``attendees``, ``meeting_type``,
``tags`` and ``source``, and every question line of the import appears in it
(tests/test_import_notion.py checks both). Every other non-empty export line appears there too,
except line 153, whose link text is its own URL: the page writes it once, as an autolink.
Imported with ``--slug Q1=module-modules --slug Q2=cross-validation --slug Q3=adagrad
--slug Q4=momentum-vs-nag --slug Q5=bagging-vs-ensemble``, the Q&A links point to the same
pages. The remaining differences are editorial choices of the published page:

* It has a ``description``, an H1 ``# 8/10(화) 회의록`` (CONTRIBUTING.md says pages with a
  ``title`` should have none; the import writes none) and an "이 페이지에 대하여" note that
  explains the ``<span>하람</span>`` avatar label.
* Question headings carry hand-written short titles (``Q1. `self.modules()`는 어디서 오나요?``);
  the import uses the question's first sentence cut to 60 characters. Link lines read
  "→ 정리된 답: <the Q&A page's title>" there, "→ Q&A 페이지: <the import's title>" here, and
  the import's Q&A pages are ``status: open`` placeholders where the published ones are answered.
* Q1's quote writes ``add_module`` unescaped (the import keeps Notion's ``add\_module``; both
  render the same), and a sentence before the code explains that it is a fragment; the skip
  reason is longer. "회의에서 나온 답:" / "회의에서 나온 이야기:" lead-ins are added.
* Q4's elaboration paragraphs are inside the question quote; the import keeps them as
  paragraphs after the question heading. The NAG formula written twice on one line is shown
  once, with the original line in a code span; the import keeps the line as it is.
* The empty ``Momentum``/``Nesterov`` headings get an ``!!! info`` note *and* the missing
  explanation; the import adds only a ``!!! note`` saying they were empty. Both demote them
  to ``#####`` under Q4.
* Answer paragraphs become lists (Q1, Q5, Batch Normalization, the NLP lecture notes), Q3's two
  annotations become ``$\epsilon$: ...`` / ``$G_t$: ...`` plus "(원본에는 링크가 남아 있지 않습니다)",
  and the table's O/X columns are centred (``:---:``).
* It links the paper reviews and the lecture page ("→ 리뷰: [VGG](../papers/vgg.md)"); the
  import does not create or link those pages.
"""

from __future__ import annotations

import ast
import datetime as dt
import html
import re
import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import yaml

from . import mathml
from .frontmatter import Page, split, validate_page
from .render import korean_datetime, rel

MAX_BYTES = 5 * 1024 * 1024
KST = dt.timezone(dt.timedelta(hours=9))
MEETING_TAGS = ["회의록"]
UNSORTED_TAG = "미분류"
SKIP_MARKER = '<!--pytest.mark.skip(reason="fragment quoted from the meeting notes")-->'
TITLE_CHARS = 60
SAFE_SCHEMES = {"http", "https", "mailto"}

# Notion's property names -> front matter fields (kb.frontmatter.SCHEMAS["meetings"]).
PROPERTIES = {
    "작성일시": "created",
    "작성자": "author",
    "참석자": "attendees",
    "최종 편집일시": "updated",
    "회의 유형": "meeting_type",
}
REQUIRED_PROPERTIES = ("작성일시", "작성자", "최종 편집일시", "회의 유형")


# --- messages ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """An error or warning about one line of the export (``line`` is None for the whole file)."""

    path: str
    line: int | None
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text}" if self.line else f"{self.path}: {self.text}"


class NotionError(ValueError):
    """The export cannot be imported; the message names the file and, where there is one, the line."""

    def __init__(self, path: str, line: int | None, text: str):
        self.message = Message(path, line, text)
        super().__init__(str(self.message))


class ConversionBug(RuntimeError):
    """A check on the converter's own output failed (a line lost, invalid front matter...)."""


# --- reading the file -------------------------------------------------------------------


def read_export(path: Path, label: str | None = None) -> str:
    """Return the export's text (LF line ends, no BOM) or raise :class:`NotionError`."""
    label = label or str(path)
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise NotionError(
            label, None, f"파일이 너무 큽니다: {size:,} 바이트 (제한 {MAX_BYTES // (1024 * 1024)} MB = {MAX_BYTES:,} 바이트)"
        )
    with path.open("rb") as f:
        data = f.read(MAX_BYTES + 1)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise NotionError(label, 1, "UTF-16 파일입니다. UTF-8로 바꿔 주세요: iconv -f utf-16 -t utf-8")
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise NotionError(label, line, "NUL 바이트가 있습니다: 텍스트가 아닌(바이너리) 파일로 보입니다")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        hint = ""
        try:
            data.decode("cp949")
            hint = f" CP949(EUC-KR)로 보입니다. 변환: iconv -f cp949 -t utf-8 {path.name} > {path.stem}.utf8{path.suffix}"
        except UnicodeDecodeError:
            pass
        raise NotionError(label, line, f"UTF-8이 아닙니다 (바이트 0x{data[exc.start]:02x}).{hint}") from None
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise NotionError(label, None, "빈 파일입니다")
    return text


# --- parsing ----------------------------------------------------------------------------

_HEADING_RE = re.compile(r"^(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_QUESTION_RE = re.compile(r"^[ \t]*Q(\d+)\.[ \t]*(.*)$")
_FENCE_RE = re.compile(r"^([ \t]*)(`{3,}|~{3,})(.*)$")
_PROPERTY_RE = re.compile(r"^(?:(?P<icon>[^\w\s]+)[ \t]+)?(?P<name>[^\t]*?)[ \t]*\t(?P<value>.*)$")
_NUMBERED_RE = re.compile(r"^(?:\d+[.)]|\(\d+\)|[IVX]+\.)\s")
_DATE_RE = re.compile(
    r"^@?\s*(\d{4})년\s*(\d{1,2})월\s*(\d{1,2})일(?:\s*\(.\))?"
    r"(?:\s*(오전|오후)\s*(\d{1,2}):(\d{2}))?\s*$"
)
_TITLE_DATE_RE = re.compile(r"(?<!\d)(\d{1,2})/(\d{1,2})(?!\d)(?:\s*\(([월화수목금토일])\))?")
_AVATAR_RE = re.compile(r"<span>([^<>]*)</span>\s*")


@dataclass
class Block:
    """A block of the export's body; ``line`` is the 1-based line it starts on."""

    kind: str  # heading | question | para | code | math | table | text
    line: int
    lines: list[str]
    level: int = 0  # heading level (question: its heading's level, 0 for a paragraph)
    text: str = ""  # heading/question text
    qid: str = ""
    lang: str = ""


@dataclass
class Property:
    name: str
    value: str
    line: int
    raw: str


@dataclass
class Export:
    label: str
    name: str
    lines: list[str]
    title: str
    title_line: int
    properties: dict[str, Property]
    extra_properties: list[Property]
    blocks: list[Block]
    warnings: list[Message] = field(default_factory=list)


def parse(text: str, label: str, name: str) -> Export:
    """Parse an export's text into title, properties and body blocks."""
    lines = text.split("\n")
    warnings: list[Message] = []
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    m = _HEADING_RE.match(lines[i])
    if not m or len(m.group(1)) != 1 or not (m.group(2) or "").strip():
        raise NotionError(label, i + 1, f"첫 줄이 제목('# 8/10(화) 회의록' 같은 줄)이 아닙니다: {lines[i][:60]!r}")
    title, title_line = m.group(2).strip(), i + 1
    i += 1
    while i < len(lines) and not lines[i].strip():
        i += 1
    props: dict[str, Property] = {}
    extra: list[Property] = []
    first_prop_line = i + 1
    while i < len(lines) and lines[i].strip() and "\t" in lines[i]:
        pm = _PROPERTY_RE.match(lines[i])
        if not pm or not pm.group("name").strip():
            raise NotionError(label, i + 1, f"속성 줄을 읽을 수 없습니다 ('아이콘 이름<TAB>값' 형식이어야 합니다): {lines[i]!r}")
        prop = Property(pm.group("name").strip(), pm.group("value").strip(), i + 1, lines[i])
        if prop.name in props:
            raise NotionError(label, i + 1, f"속성 '{prop.name}'이 두 번 나옵니다 (먼저 {props[prop.name].line}번 줄)")
        if prop.name in PROPERTIES:
            props[prop.name] = prop
        else:
            extra.append(prop)
            warnings.append(Message(label, i + 1, f"모르는 속성 '{prop.name}': 회의록 맨 위 안내 상자에 그대로 옮깁니다"))
        i += 1
    if not props and not extra:
        raise NotionError(
            label,
            first_prop_line,
            "속성 블록이 없습니다: 제목 아래에 '🕒 작성일시<TAB>@2021년 8월 6일 오후 5:57' 같은 줄들이 있어야 합니다",
        )
    for required in REQUIRED_PROPERTIES:
        if required not in props:
            raise NotionError(label, first_prop_line, f"필수 속성 '{required}'이 속성 블록(줄 {first_prop_line}~{i})에 없습니다")
    blocks = _parse_body(lines, i, label, warnings)
    return Export(label, name, lines, title, title_line, props, extra, blocks, warnings)


def _parse_body(lines: list[str], start: int, label: str, warnings: list[Message]) -> list[Block]:
    blocks: list[Block] = []
    i = start
    n = len(lines)

    def special(line: str) -> bool:
        return bool(
            _FENCE_RE.match(line)
            or _HEADING_RE.match(line)
            or _QUESTION_RE.match(line)
            or line.strip().startswith("$$")
            or "\t" in line
        )

    while i < n:
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        if m := _FENCE_RE.match(line):
            indent, fence, info = m.groups()
            for j in range(i + 1, n):
                c = lines[j].strip()
                if c.startswith(fence[0] * len(fence)) and not c.lstrip(fence[0]):
                    break
            else:
                raise NotionError(label, i + 1, f"코드 블록({fence})이 열린 뒤 닫히지 않았습니다")
            blocks.append(Block("code", i + 1, lines[i : j + 1], lang=info.strip()))
            i = j + 1
            continue
        stripped = line.strip()
        if stripped.startswith("$$"):
            if len(stripped) > 4 and stripped.endswith("$$"):
                blocks.append(Block("math", i + 1, [line]))
                i += 1
                continue
            for j in range(i + 1, n):
                if lines[j].strip().endswith("$$"):
                    break
            else:
                raise NotionError(label, i + 1, "수식($$)이 열린 뒤 닫히지 않았습니다")
            blocks.append(Block("math", i + 1, lines[i : j + 1]))
            i = j + 1
            continue
        if m := _HEADING_RE.match(line):
            level, text = len(m.group(1)), m.group(2) or ""
            if q := _QUESTION_RE.match(text):
                blocks.append(Block("question", i + 1, [line], level=level, text=text.strip(), qid=f"Q{int(q.group(1))}"))
            elif not text.strip():
                warnings.append(Message(label, i + 1, "글자가 없는 제목: 그대로 둡니다"))
                blocks.append(Block("text", i + 1, [line]))
            else:
                blocks.append(Block("heading", i + 1, [line], level=level, text=text))
            i += 1
            continue
        if q := _QUESTION_RE.match(line):
            blocks.append(Block("question", i + 1, [line], text=line.strip(), qid=f"Q{int(q.group(1))}"))
            i += 1
            continue
        if "\t" in line:
            j = i
            while j < n and lines[j].strip() and "\t" in lines[j] and not _FENCE_RE.match(lines[j]):
                j += 1
            rows = lines[i:j]
            if len(rows) == 1:
                warnings.append(Message(label, i + 1, "탭으로 나뉜 줄이 하나뿐이라 표로 보지 않고 글로 둡니다"))
                blocks.append(Block("text", i + 1, rows))
            else:
                width = len(rows[0].split("\t"))
                for k, row in enumerate(rows[1:], start=i + 2):
                    cells = len(row.split("\t"))
                    if cells != width:
                        raise NotionError(
                            label, k, f"표가 깨졌습니다: 이 줄은 칸이 {cells}개인데 머리줄({i + 1}번 줄)은 {width}개입니다"
                        )
                blocks.append(Block("table", i + 1, rows))
            i = j
            continue
        j = i + 1
        while j < n and lines[j].strip() and not special(lines[j]):
            j += 1
        blocks.append(Block("para", i + 1, lines[i:j]))
        i = j
    return blocks


def parse_datetime(value: str, label: str, line: int) -> dt.datetime:
    """'@2021년 8월 6일 오후 5:57' -> 2021-08-06T17:57:00+09:00 (Korea time)."""
    m = _DATE_RE.match(value.strip())
    if not m:
        raise NotionError(label, line, f"날짜를 읽을 수 없습니다: {value!r} ('@2021년 8월 6일 오후 5:57' 형식이어야 합니다)")
    year, month, day, half, hour, minute = m.groups()
    h, mi = (int(hour), int(minute)) if hour else (0, 0)
    if half and not 0 <= h <= 12 or mi > 59:
        raise NotionError(label, line, f"날짜의 시각이 잘못되었습니다: {value!r}")
    if half == "오후" and h < 12:
        h += 12
    elif half == "오전" and h == 12:
        h = 0
    try:
        return dt.datetime(int(year), int(month), int(day), h, mi, tzinfo=KST)
    except ValueError as exc:
        raise NotionError(label, line, f"없는 날짜입니다: {value!r} ({exc})") from None


def _people(value: str) -> list[str]:
    """'<span>하람</span> 이하람, <span>민</span> 김민' -> ['이하람', '김민'] (avatar labels dropped)."""
    text = _AVATAR_RE.sub("", value)
    text = html.unescape(re.sub(r"<[^<>]*>", "", text))
    return [p.strip() for p in text.split(",") if p.strip()]


def meeting_date(export: Export, created: dt.datetime, override: dt.date | None) -> dt.date:
    if override is not None:
        return override
    m = _TITLE_DATE_RE.search(export.title)
    if not m:
        raise NotionError(
            export.label, export.title_line, f"제목 {export.title!r}에서 날짜(M/D)를 찾지 못했습니다: --date YYYY-MM-DD로 정해 주세요"
        )
    month, day = int(m.group(1)), int(m.group(2))
    candidates = []
    for year in (created.year - 1, created.year, created.year + 1):
        try:
            candidates.append(dt.date(year, month, day))
        except ValueError:
            pass
    if not candidates:
        raise NotionError(export.label, export.title_line, f"제목의 날짜 {m.group(0)!r}는 없는 날짜입니다")
    date = min(candidates, key=lambda d: abs((d - created.date()).days))
    weekday = "월화수목금토일"[date.weekday()]
    if m.group(3) and m.group(3) != weekday:
        export.warnings.append(
            Message(export.label, export.title_line, f"제목의 요일({m.group(3)})이 {date.isoformat()}의 요일({weekday})과 다릅니다")
        )
    return date


# --- cleaning prose ---------------------------------------------------------------------

_SCRIPT_RE = re.compile(r"<(script|style)\b[^>]*>.*?(?:</\1\s*>|\Z)", re.I | re.S)
_TAG_RE = re.compile(r"</?[A-Za-z][A-Za-z0-9:-]*(?:\s(?:[^<>\"']|\"[^\"]*\"|'[^']*')*)?/?>")
_AUTOLINK_RE = re.compile(r"<([A-Za-z][A-Za-z0-9+.-]{1,31}):([^<>\s]*)>")
_MDLINK_RE = re.compile(
    r"(!?)\[((?:[^\[\]\\\n]|\\.|\[[^\[\]\n]*\])*)\]"
    r"\([ \t]*(<[^<>\n]*>|(?:[^()\s\\]|\\.|\([^()\s]*\))*)((?:[ \t]+(?:\"[^\"\n]*\"|'[^'\n]*'))?)[ \t]*\)"
)
_REFDEF_RE = re.compile(r"^( {0,3})\[([^\]\n]+)\]:[ \t]*(\S+)")
_BARE_JS_RE = re.compile(r"(?i)\b(?:java|vb)script\s*:[^\s<>]*")
_ATTR_LIST_RE = re.compile(r"\{:?([^{}\n]*=[^{}\n]*)\}")
_EVENT_ATTR_LIST_RE = re.compile(r"\{:?[^{}\n]*\bon\w+\s*=[^{}\n]*\}", re.I)
_TAGLIKE_LT_RE = re.compile(r"<(?=[A-Za-z/!?])")
_SNIPPET_LINE_RE = re.compile(r"^([ \t]*)(-+8<-+(?:[ \t]+(?:\"[^\"\n]+\"|'[^'\n]+'))?[ \t]*)$")
_URL_ESCAPE_RE = re.compile(r"\\+([!-/:-@\[-`{-~])")
_PLACEHOLDER_RE = re.compile("\x00(\\d+)\x00")


def _scheme(url: str) -> str | None:
    cleaned = re.sub(r"[\x00-\x20]", "", html.unescape(url))
    m = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", cleaned)
    return m.group(1).lower() if m else None


def _is_web(url: str) -> bool:
    return _scheme(url) in SAFE_SCHEMES


def unescape_url(url: str) -> str:
    """Notion's ``\\_`` (and ``\\\\_``) inside URLs -> ``_``: autolinks do not process escapes."""
    return _URL_ESCAPE_RE.sub(r"\1", url)


def intended_drops(text: str) -> str:
    """Remove what the import drops on purpose: scripts, non-web link targets, ``javascript:`` words.

    Used by the converter and by the nothing-lost check on the source side.
    """
    text = _SCRIPT_RE.sub(lambda m: "\n" * m.group(0).count("\n"), text)

    def link(m: re.Match[str]) -> str:
        dest = m.group(3)[1:-1] if m.group(3).startswith("<") else m.group(3)
        return m.group(0) if _is_web(unescape_url(dest)) else m.group(2)

    text = _MDLINK_RE.sub(link, text)
    text = _AUTOLINK_RE.sub(lambda m: m.group(0) if m.group(1).lower() in SAFE_SCHEMES else "", text)
    text = _EVENT_ATTR_LIST_RE.sub("", text)
    return _BARE_JS_RE.sub("", text)


class _Cleaner:
    """Makes one paragraph, heading or table cell of notes safe Markdown, keeping its text."""

    def __init__(self, label: str, warnings: list[Message]):
        self.label = label
        self.warnings = warnings

    def warn(self, line: int, text: str) -> None:
        msg = Message(self.label, line, text)
        if msg not in self.warnings:
            self.warnings.append(msg)

    def clean(self, text: str, line: int) -> str:
        stash: list[str] = []

        def keep(s: str) -> str:
            stash.append(s)
            return f"\x00{len(stash) - 1}\x00"

        if _SCRIPT_RE.search(text):
            self.warn(line, "<script>/<style> 요소를 내용과 함께 지웠습니다")
            text = _SCRIPT_RE.sub("", text)
        # code spans and inline math are shown as written (the build escapes them)
        text = mathml._CODE_SPAN_RE.sub(lambda m: keep(m.group(0)), text)
        text = mathml._INLINE_RE.sub(lambda m: keep(m.group(0)), text)

        def link(m: re.Match[str]) -> str:
            bang, label, dest, title = m.groups()
            bracketed = dest.startswith("<")
            url = unescape_url(dest[1:-1] if bracketed else dest)
            label = self._strip_tags(label, line)
            if not _is_web(url):
                kind = "이미지" if bang else "링크"
                self.warn(line, f"{kind} 대상 {dest[:80]!r}은 http(s) 주소가 아니라 글자만 남깁니다")
                return label
            # Notion writes a URL used as link text with doubled escapes: 3\\_q -> 3\_q
            label = re.sub(r"\\\\(?=[!-/:-@\[-`{-~])", r"\\", label)
            target = f"<{url}>" if bracketed or re.search(r"[\s()]", url) else url
            return keep(f"{bang}[{label}]({target}{title})")

        text = _MDLINK_RE.sub(link, text)

        def autolink(m: re.Match[str]) -> str:
            if m.group(1).lower() not in SAFE_SCHEMES:
                self.warn(line, f"{m.group(1)}: 주소는 옮기지 않습니다: {m.group(0)[:80]!r}")
                return ""
            return keep(f"<{unescape_url(m.group(1) + ':' + m.group(2))}>")

        text = _AUTOLINK_RE.sub(autolink, text)
        text = self._strip_tags(text, line)
        if _BARE_JS_RE.search(text):
            self.warn(line, "javascript:/vbscript: 주소를 지웠습니다")
            text = _BARE_JS_RE.sub("", text)
        if _EVENT_ATTR_LIST_RE.search(text):
            self.warn(line, "이벤트 처리기(on...=)가 든 속성 목록 {...}을 지웠습니다")
            text = _EVENT_ATTR_LIST_RE.sub("", text)
        if _ATTR_LIST_RE.search(text):
            self.warn(line, "속성 목록처럼 읽힐 {...=...}의 괄호를 이스케이프했습니다")
            text = _ATTR_LIST_RE.sub(lambda m: "\\{" + m.group(1) + "\\}", text)
        if _TAGLIKE_LT_RE.search(text):
            self.warn(line, "HTML로 읽힐 '<'를 &lt;로 바꿨습니다")
            text = _TAGLIKE_LT_RE.sub("&lt;", text)
        for _ in range(3):  # placeholders may nest (a code span inside a link text)
            text = _PLACEHOLDER_RE.sub(lambda m: stash[int(m.group(1))], text)
        return text

    def _strip_tags(self, text: str, line: int) -> str:
        if _TAG_RE.search(text):
            self.warn(line, "HTML 태그를 지우고 글자만 남겼습니다")
            text = _TAG_RE.sub("", text)
        return text


def _escape_snippet_line(line: str) -> tuple[str, bool]:
    m = _SNIPPET_LINE_RE.match(line)
    return (m.group(1) + ";" + m.group(2), True) if m else (line, False)


_MD_SPECIAL_RE = re.compile(r"([\\`*_\[\]<>#|$~])")


def md_escape(text: str) -> str:
    return _MD_SPECIAL_RE.sub(r"\\\1", text)


def plain_text(markdown: str) -> str:
    """Markdown of one line -> the text a reader sees (links -> their text, escapes resolved)."""
    text = _MDLINK_RE.sub(lambda m: m.group(2), markdown)
    text = re.sub(r"`+([^`]*)`+", r"\1", text)
    text = _TAG_RE.sub("", text)
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)
    text = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text)
    return html.unescape(text).strip()


def short_title(text: str, limit: int = TITLE_CHARS) -> str:
    """The first sentence, cut at a word boundary to ``limit`` characters."""
    m = re.search(r"[?!.]+(?=\s|$)", text[8:])
    sentence = text[: 8 + m.end()] if m else text
    if len(sentence) > limit:
        cut = sentence[:limit].rsplit(" ", 1)[0] if " " in sentence[:limit] else sentence[:limit]
        sentence = cut.rstrip(" ,.;:") + "…"
    return sentence.strip()


# --- structure: which blocks belong to which question -----------------------------------


@dataclass
class Question:
    qid: str
    block: Block
    answer: list[Block]
    slug: str
    text: str  # the question as plain text, without 'Qn.'
    level: int  # heading level on the meeting page

    @property
    def anchor(self) -> str:
        return self.qid.lower()

    @property
    def title(self) -> str:
        return f"{self.qid}. {short_title(self.text)}"


def _structure(export: Export, slugs: dict[str, str], date: dt.date) -> tuple[list[object], list[Question]]:
    """Group blocks: returns the meeting's items (Block or Question) and the questions."""
    blocks = export.blocks
    q_indexes = [k for k, b in enumerate(blocks) if b.kind == "question"]
    seen: dict[str, int] = {}
    for k in q_indexes:
        b = blocks[k]
        if b.qid in seen:
            raise NotionError(export.label, b.line, f"질문 번호 {b.qid}가 두 번 나옵니다 (먼저 {seen[b.qid]}번 줄)")
        seen[b.qid] = b.line
    unknown = sorted(set(slugs) - set(seen))
    if unknown:
        raise NotionError(export.label, None, f"--slug로 준 질문 {', '.join(unknown)}이(가) 내보내기 파일에 없습니다 (있는 질문: {', '.join(seen) or '없음'})")
    last_q = q_indexes[-1] if q_indexes else -1
    items: list[object] = []
    questions: list[Question] = []
    outside_level = 1
    k = 0
    while k < len(blocks):
        b = blocks[k]
        if b.kind != "question":
            if b.kind == "heading":
                outside_level = b.level
            items.append(b)
            k += 1
            continue
        j = k + 1
        while j < len(blocks):
            nb = blocks[j]
            if nb.kind == "question":
                break
            if nb.kind == "heading" and (_NUMBERED_RE.match(nb.text) or j > last_q):
                break
            j += 1
        level = b.level or min(outside_level + 1, 6)
        text = plain_text(_QUESTION_RE.match(b.text).group(2)) or b.qid
        slug = slugs.get(b.qid, f"{date.isoformat()}-{b.qid.lower()}")
        q = Question(b.qid, b, blocks[k + 1 : j], slug, text, level)
        questions.append(q)
        items.append(q)
        k = j
    return items, questions


# --- rendering --------------------------------------------------------------------------

EMPTY_NOTE = '!!! note "원본에서 비어 있던 제목"\n    Notion 원본에서 이 제목 아래에는 내용이 없었습니다.'


class _Renderer:
    def __init__(self, export: Export):
        self.export = export
        self.cleaner = _Cleaner(export.label, export.warnings)

    def warn(self, line: int, text: str) -> None:
        self.cleaner.warn(line, text)

    def clean(self, text: str, line: int) -> str:
        return self.cleaner.clean(text, line)

    def lines_escaped(self, lines: list[str], first: int) -> list[str]:
        out = []
        for n, line in enumerate(lines, start=first):
            line, escaped = _escape_snippet_line(line)
            if escaped:
                self.warn(n, "스니펫 포함 줄(--8<--)은 ';'로 이스케이프해 글로 보여 줍니다")
            out.append(line)
        return out

    def block(self, b: Block, level: int | None = None) -> str:
        if b.kind == "heading":
            return "#" * (level or b.level) + " " + self.clean(b.text, b.line)
        if b.kind == "code":
            return self.code(b)
        if b.kind == "math":
            return self.math(b)
        if b.kind == "table":
            return self.table(b)
        # para, text, and anything else: kept, made safe line by line
        cleaned = self.clean("\n".join(b.lines), b.line).split("\n")
        return "\n".join(self.lines_escaped(cleaned, b.line))

    def code(self, b: Block) -> str:
        m = _FENCE_RE.match(b.lines[0])
        indent, fence, _ = m.groups()
        content = b.lines[1:-1]
        lang = b.lang.split()[0] if b.lang else ""
        rest = b.lang[len(lang) :].strip()
        if not lang:
            try:
                ast.parse("\n".join(line[len(indent) :] if line.startswith(indent) else line for line in content))
                lang = "python"
            except (SyntaxError, ValueError):
                lang = "text"
        elif lang.lower() in {"sh", "bash", "shell", "zsh"}:
            self.warn(b.line, f"```{lang} 블록을 ```console로 바꿨습니다 (테스트가 sh/bash 블록을 실행하므로)")
            if "title=" not in rest:
                rest = f'title="{lang}" {rest}'.strip()
            lang = "console"
        body = self.lines_escaped(content, b.line + 1)
        out = [f"{indent}{fence}{lang}" + (f" {rest}" if rest else ""), *body, b.lines[-1]]
        if lang.lower() in {"python", "py", "python3"}:
            out.insert(0, indent + SKIP_MARKER)
        return "\n".join(out)

    def math(self, b: Block) -> str:
        if len(b.lines) == 1:
            out = b.lines
            tex = b.lines[0].strip()[2:-2]
        else:
            first, last = b.lines[0].strip(), b.lines[-1].strip()
            inner = b.lines[1:-1]
            head = [first[2:]] if first[2:].strip() else []
            tail = [last[:-2]] if last[:-2].strip() else []
            out = ["$$", *head, *inner, *tail, "$$"]
            tex = "\n".join(head + inner + tail)
        try:
            mathml.to_mathml(tex, True)
        except ValueError as exc:
            self.warn(b.line, f"이 수식은 빌드에서 렌더링되지 않습니다 ({exc}): 고치지 않으면 mkdocs build가 실패합니다")
        return "\n".join(self.lines_escaped(out, b.line))

    def table(self, b: Block) -> str:
        rows = []
        for n, row in enumerate(b.lines, start=b.line):
            cells = [self.clean(c.strip(), n).replace("|", "\\|") for c in row.split("\t")]
            rows.append("| " + " | ".join(cells) + " |")
        width = len(b.lines[0].split("\t"))
        rows.insert(1, "|" + "---|" * width)
        return "\n".join(rows)


def _is_empty_heading(items: list[tuple[str, int, str]], k: int) -> bool:
    """items: (kind, level, text) in page order; a heading followed by a heading at its level or above, or nothing."""
    kind, level, _ = items[k]
    if kind != "heading":
        return False
    if k + 1 == len(items):
        return True
    nkind, nlevel, _ = items[k + 1]
    # "link" closes a question's answer on the meeting page
    return nkind == "link" or (nkind in ("heading", "qheading") and nlevel <= level)


def _assemble(parts: list[tuple[str, int, str]]) -> str:
    """Join rendered parts, adding the empty-section note after empty headings."""
    out = []
    for k, (kind, _, text) in enumerate(parts):
        out.append(text)
        if _is_empty_heading(parts, k):
            out.append(EMPTY_NOTE)
    return "\n\n".join(out)


def _answer_parts(r: _Renderer, answer: list[Block], base_level: int) -> list[tuple[str, int, str]]:
    heading_levels = [b.level for b in answer if b.kind == "heading"]
    top = min(heading_levels) if heading_levels else 0
    parts = []
    for b in answer:
        if b.kind == "heading":
            level = min(base_level + (b.level - top), 6)
            parts.append(("heading", level, r.block(b, level)))
        else:
            parts.append((b.kind, 0, r.block(b)))
    return parts


# --- front matter -----------------------------------------------------------------------


def yaml_scalar(value: str, in_flow: bool = False) -> str:
    doc = f"k: [{value}]" if in_flow else f"k: {value}"
    try:
        loaded = yaml.safe_load(doc)
    except yaml.YAMLError:
        loaded = None
    expected = {"k": [value]} if in_flow else {"k": value}
    if loaded == expected and value == value.strip() and "\n" not in value:
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def yaml_list(values: list[str]) -> str:
    return "[" + ", ".join(yaml_scalar(v, in_flow=True) for v in values) + "]"


def front_matter_block(fields: list[tuple[str, str]]) -> str:
    return "---\n" + "".join(f"{k}: {v}\n" for k, v in fields) + "---\n"


# --- glossary ---------------------------------------------------------------------------

_STOPWORDS = set(
    """a an the and or but nor of in on at to for from by with without into onto over under as is are was were be
    been being am do does did done have has had it its this that these those there here what which who whom whose
    when where why how all any both each few more most other some such no not only own same so than too very can
    will just should would could may might must shall also if then else than about above after again against
    before below between during through until up down out off once further while you your yours we our us they
    their them he she his her him i me my mine one two use used using need needs""".split()
)
_WORD_RE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")
_CODEISH_RE = re.compile(r"[\w\\]*(?:\.[A-Za-z_]\w*|\\?_\w*|\(\))[\w\\.()]*")
_URL_RE = re.compile(r"<[^<>\s]+>|\]\([^)]*\)|https?://\S+")


@dataclass
class GlossaryEntry:
    english: str
    korean: str
    aliases: list[str]


def load_glossary(path: Path) -> list[GlossaryEntry] | None:
    """Rows of the ``| 영문 | 한글 | 비고 |`` table of ``glossary.md``; None if the file is missing."""
    if not path.is_file():
        return None
    entries: list[GlossaryEntry] = []
    in_table = False
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.strip().startswith("|") else None
        if cells is None:
            in_table = False
            continue
        if cells[:2] == ["영문", "한글"]:
            in_table = True
            continue
        if not in_table or set("".join(cells)) <= set("-: "):
            continue
        english = cells[0]
        korean = re.sub(r"\s*\([^)]*\)\s*$", "", cells[1] if len(cells) > 1 else "").strip()
        base = re.sub(r"\s*\([^)]*\)", "", english).strip()
        aliases = {english.lower(), base.lower()}
        for inner in re.findall(r"\(([^)]*)\)", english):
            aliases.update(a.strip().lower() for a in inner.split(",") if a.strip())
        entries.append(GlossaryEntry(english, korean, sorted(a for a in aliases if a)))
    return entries


def _alias_re(alias: str) -> re.Pattern[str]:
    body = r"[\s-]+".join(re.escape(w) for w in re.split(r"[\s-]+", alias))
    return re.compile(rf"(?<![A-Za-z0-9]){body}(?:s|es)?(?![A-Za-z0-9])", re.I)


def _prose(text: str) -> str:
    text = _TAG_RE.sub(" ", intended_drops(text))
    text = mathml._CODE_SPAN_RE.sub(" ", text)
    text = mathml._INLINE_RE.sub(" ", text)
    text = _URL_RE.sub(" ", text)
    return _CODEISH_RE.sub(" ", text)


def glossary_terms(text: str, glossary: list[GlossaryEntry]) -> tuple[list[GlossaryEntry], list[str]]:
    """(glossary entries used in ``text``, in order; English words of ``text`` not in the glossary)."""
    text = _prose(text)
    found: list[tuple[int, GlossaryEntry]] = []
    for entry in glossary:
        for alias in sorted(entry.aliases, key=len, reverse=True):
            pattern = _alias_re(alias)
            m = pattern.search(text)
            if m:
                found.append((m.start(), entry))
            text = pattern.sub(" ", text)
    words = []
    for w in _WORD_RE.findall(text):
        if not re.search("[A-Za-z]", w) or re.fullmatch(r"Q\d+", w):  # numbers; question numbers
            continue
        if w.lower() in _STOPWORDS or (len(w) < 3 and not (w.isupper() and len(w) == 2)):
            continue
        words.append(w)
    used = []
    for _, entry in sorted(found, key=lambda t: t[0]):
        if entry not in used:
            used.append(entry)
    return used, words


@dataclass
class GlossaryReport:
    path: str  # the glossary
    exists: bool
    missing: list[tuple[str, int]]  # (term, export line)
    source: str = ""  # the export


def _glossary_report(export: Export, glossary: list[GlossaryEntry] | None, glossary_label: str) -> GlossaryReport:
    seen: set[str] = set()
    missing: list[tuple[str, int]] = []
    for b in export.blocks:
        if b.kind in ("code", "math"):
            continue
        for n, line in enumerate(b.lines, start=b.line):
            _, words = glossary_terms(line.replace("\t", " "), glossary or [])
            for w in words:
                if w.lower() not in seen:
                    seen.add(w.lower())
                    missing.append((w, n))
    return GlossaryReport(glossary_label, glossary is not None, missing, export.label)


# --- checks on the output ---------------------------------------------------------------


def normalize(text: str) -> str:
    """Letters and digits only (HTML tags removed, their text kept), for the nothing-lost check."""
    text = _TAG_RE.sub("", re.sub(r"<!--.*?-->", "", text, flags=re.S))
    text = unicodedata.normalize("NFC", html.unescape(text))
    return "".join(ch for ch in text if ch.isalnum())


def _find_in_order(needles: list[tuple[int, str]], haystack: str) -> list[int]:
    """Lines whose normalized text does not appear in ``haystack`` in order."""
    missing = []
    pos = 0
    for line, needle in needles:
        if not needle:
            continue
        found = haystack.find(needle, pos)
        if found < 0:
            missing.append(line)
        else:
            pos = found + len(needle)
    return missing


def _source_needles(export: Export, blocks: list[Block]) -> list[tuple[int, str]]:
    needles = []
    for b in blocks:
        text = "\n".join(b.lines)
        if b.kind == "code":  # the language may change (bare -> python/text, bash -> console)
            m = _FENCE_RE.match(b.lines[0])
            text = "\n".join([m.group(3).strip()[len(b.lang.split()[0]) if b.lang else 0 :], *b.lines[1:]])
        elif b.kind != "math":
            text = intended_drops(text)
        for n, line in enumerate(text.split("\n"), start=b.line):
            needles.append((n, normalize(line)))
    return needles


def _body(text: str) -> str:
    return text.split("\n---\n", 1)[1] if text.startswith("---\n") else text


def verify_complete(export: Export, meeting_text: str, qna_texts: dict[str, str], questions: list[Question]) -> None:
    """Raise :class:`ConversionBug` naming every export line missing from the output."""
    problems = []
    body = normalize(_body(meeting_text))
    for line in _find_in_order(_source_needles(export, export.blocks), body):
        problems.append(f"{export.label}:{line}: 회의록 페이지에 없습니다: {export.lines[line - 1][:80]!r}")
    for q in questions:
        page = normalize(_body(qna_texts[q.slug]))
        for line in _find_in_order(_source_needles(export, [q.block, *q.answer]), page):
            problems.append(f"{export.label}:{line}: qna/{q.slug}.md에 없습니다: {export.lines[line - 1][:80]!r}")
    meta, _, _, fm_problems = split(meeting_text, "meeting")
    if fm_problems or meta.get("title") != plain_text(export.title):
        problems.append(f"{export.label}:{export.title_line}: 제목이 front matter의 title과 다릅니다")
    for prop in export.properties.values():
        value = meta.get(PROPERTIES[prop.name])
        if isinstance(value, dt.datetime):
            shown = korean_datetime(value)
        elif isinstance(value, list):
            shown = ", ".join(value)
        else:
            shown = str(value)
        expected = normalize(prop.name + _AVATAR_RE.sub("", prop.value))
        if normalize(prop.name + shown) != expected:
            problems.append(f"{export.label}:{prop.line}: 속성 '{prop.name}'이 front matter에 그대로 옮겨지지 않았습니다: {shown!r}")
    for prop in export.extra_properties:
        if normalize(prop.raw) not in body:
            problems.append(f"{export.label}:{prop.line}: 속성 줄이 회의록 페이지에 없습니다: {prop.raw!r}")
    if problems:
        raise ConversionBug("변환 결과 검사 실패 (변환기 버그; 아무것도 쓰지 않았습니다):\n" + "\n".join(f"  {p}" for p in problems))


class _HTMLScan(HTMLParser):
    URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "iframe", "object", "embed", "style", "base", "meta", "link", "form"}:
            self.found.append(f"<{tag}> element")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{name}= attribute on <{tag}>")
            if name in self.URL_ATTRS and value and _scheme(value) not in (None, *SAFE_SCHEMES):
                self.found.append(f"{name}={value!r} on <{tag}>")


def _markdown_html(text: str) -> str:
    import markdown

    extensions = ["abbr", "admonition", "attr_list", "def_list", "footnotes", "md_in_html", "tables", "toc"]
    try:
        import pymdownx  # noqa: F401

        extensions += ["pymdownx.superfences", "pymdownx.details", "pymdownx.tasklist"]
    except ImportError:  # pragma: no cover - pymdown-extensions comes with mkdocs-material
        extensions.append("fenced_code")
    md, _ = mathml.extract(_body(text))
    return markdown.markdown(md, extensions=extensions)


def verify_safe(files: dict[str, str]) -> None:
    """Render each page with Python-Markdown; raise if the HTML could run script."""
    problems = []
    for path, text in files.items():
        scan = _HTMLScan()
        scan.feed(_markdown_html(text))
        problems += [f"docs/{path}: {f}" for f in scan.found]
    if problems:
        raise ConversionBug("변환 결과에 스크립트가 될 수 있는 HTML이 남았습니다 (아무것도 쓰지 않았습니다):\n" + "\n".join(problems))


def verify_front_matter(files: dict[str, str], known_pages: set[str]) -> None:
    problems = []
    known = known_pages | set(files)
    for path, text in files.items():
        meta, key_lines, body_line, found = split(text, f"docs/{path}")
        problems += found
        problems += validate_page(Page(path, meta, key_lines, body_line), known)
    if problems:
        raise ConversionBug("만든 페이지의 front matter가 kb.frontmatter 검사를 통과하지 못했습니다:\n" + "\n".join(f"  {p}" for p in problems))


# --- the conversion ---------------------------------------------------------------------


@dataclass
class Result:
    files: dict[str, str]  # path under docs/ -> text
    warnings: list[Message]
    glossary: GlossaryReport
    meeting: str
    questions: list[Question]


def convert(
    export: Export,
    *,
    date: dt.date | None = None,
    slugs: dict[str, str] | None = None,
    glossary: list[GlossaryEntry] | None = None,
    glossary_label: str = "docs/glossary.md",
    known_pages: set[str] = frozenset(),
) -> Result:
    """Convert a parsed export; check the result; return the pages to write."""
    label = export.label
    props = export.properties
    created = parse_datetime(props["작성일시"].value, label, props["작성일시"].line)
    updated = parse_datetime(props["최종 편집일시"].value, label, props["최종 편집일시"].line)
    authors = _people(props["작성자"].value)
    if not authors:
        raise NotionError(label, props["작성자"].line, "작성자가 비어 있습니다")
    author = ", ".join(authors)
    attendees = _people(props["참석자"].value) if "참석자" in props else []
    meeting_type = plain_text(props["회의 유형"].value)
    if not meeting_type:
        raise NotionError(label, props["회의 유형"].line, "회의 유형이 비어 있습니다")
    day = meeting_date(export, created, date)
    meeting_src = f"meetings/{day.isoformat()}.md"
    items, questions = _structure(export, slugs or {}, day)
    r = _Renderer(export)

    # the meeting page
    parts: list[tuple[str, int, str]] = []
    if export.extra_properties:
        rows = "\n".join(f"    - {r.clean(p.raw.replace(chr(9), ': ', 1), p.line)}" for p in export.extra_properties)
        parts.append(("note", 0, f'!!! note "Notion의 다른 속성"\n\n{rows}'))
    for item in items:
        if isinstance(item, Block):
            kind = item.kind
            parts.append((kind, item.level if kind == "heading" else 0, r.block(item)))
            continue
        q = item
        qpage = f"qna/{q.slug}.md"
        if q.block.level:
            head = "#" * q.level + " " + r.clean(q.block.text, q.block.line) + f" {{ #{q.anchor} }}"
            parts.append(("qheading", q.level, head))
        else:
            parts.append(("qheading", q.level, "#" * q.level + f" {q.qid}. {md_escape(short_title(q.text))} {{ #{q.anchor} }}"))
            parts.append(("quote", 0, "> **질문** — " + r.clean(q.block.text, q.block.line)))
        parts += _answer_parts(r, q.answer, q.level + 1)
        parts.append(("link", 0, f"→ Q&A 페이지: [{md_escape(q.title)}]({rel(meeting_src, qpage)})"))
    meeting_fields = [
        ("title", yaml_scalar(plain_text(export.title))),
        ("date", day.isoformat()),
        ("created", created.isoformat()),
        ("author", yaml_scalar(author)),
        ("attendees", yaml_list(attendees)),
        ("updated", updated.isoformat()),
        ("meeting_type", yaml_scalar(meeting_type)),
        ("tags", yaml_list(MEETING_TAGS)),
        ("source", yaml_scalar(f"Notion export ({export.name})")),
    ]
    meeting_text = front_matter_block(meeting_fields) + "\n" + _assemble(parts) + "\n"

    # the Q&A pages
    qna_texts: dict[str, str] = {}
    for q in questions:
        used, _ = glossary_terms(q.text, glossary or [])
        tags = [e.korean or e.english for e in used if (e.korean or e.english)][:3] or [UNSORTED_TAG]
        qpage = f"qna/{q.slug}.md"
        fields = [
            ("title", yaml_scalar(q.title)),
            ("qid", q.qid),
            ("status", "open"),
            ("tags", yaml_list(list(dict.fromkeys(tags)))),
            ("meeting", meeting_src),
            ("related", "[]"),
        ]
        quoted = r.clean(q.block.text, q.block.line)  # for a heading question, the heading's text
        answer = _answer_parts(r, q.answer, 3)
        body = [
            ("heading", 2, "## 질문"),
            ("quote", 0, "> " + quoted),
            ("heading", 2, "## 회의에서 나온 답"),
        ]
        if answer:
            body.append(("p", 0, "회의 노트에서 이 질문 아래에 적힌 내용입니다(질문을 덧붙인 말도 섞여 있을 수 있습니다)."))
            body += answer
        else:
            body.append(("p", 0, "_회의 노트에는 이 질문 아래에 아무 내용도 없습니다._"))
        body += [
            ("heading", 2, "## 정리된 답"),
            (
                "note",
                0,
                '!!! warning "아직 정리되지 않았습니다"\n    회의 뒤에 정리한 답을 여기에 쓰고 front matter의 '
                "`status`를 `answered`로 바꿉니다.",
            ),
            ("link", 0, f"← 출처 회의: [{md_escape(plain_text(export.title))} — {q.qid}]({rel(qpage, meeting_src)}#{q.anchor})"),
        ]
        qna_texts[q.slug] = front_matter_block(fields) + "\n" + _assemble(body) + "\n"

    files = {meeting_src: meeting_text, **{f"qna/{slug}.md": text for slug, text in qna_texts.items()}}
    verify_complete(export, meeting_text, qna_texts, questions)
    verify_front_matter(files, set(known_pages))
    verify_safe(files)
    report = _glossary_report(export, glossary, glossary_label)
    return Result(files, export.warnings, report, meeting_src, questions)
