"""A parsed page -> the meeting page and one Q&A page per question (Markdown with front matter).

Structure: a question's answer is everything after it up to the next question, the next numbered
heading (``2. …``, ``(1) …``), or, after the last question, the next heading of any kind. Heading
levels are not used for this: Notion pages mix them. On the meeting page each question gets a
heading ``Qn. <short title> { #qn }`` (a heading question keeps its heading) and a link to its Q&A
page; the Q&A page quotes the question and the notes under it, then leaves a placeholder for the
answer written after the meeting (``status: open``). Body headings are moved one level down when
the body uses ``#`` (the page title is the H1).

Blocks: callouts become admonitions (💡 tip, ⚠️ warning, ℹ️/📌 info, else note), to-dos and toggles
stay nested lists (pymdownx.tasklist), tab and pipe tables become Markdown tables (a cell's line
break as ``<br>``), ``$$…$$`` inside a sentence becomes inline math. Code keeps its language; a
fence Markdown would treat as Python (``python``, ``py``, ``py3``, ``python3``, ``{.python}``,
``.python``, ``python title="x"`` …, or a bare fence whose text parses as Python) is written as
``python`` after the skip marker, so the build never runs it; ``sh``/``bash`` become ``console``.
Display math keeps its text but not ``\\href`` links; one the build cannot render becomes a
``latex`` code block (kb.notion.clean does the same for inline math). Every code block is written as
a fence the build reads back as one block with the same code (:func:`kb.markdown_scan.write_fence`:
the export's closing may be longer or indented otherwise; the build's must match the opening).
"""

from __future__ import annotations

import ast
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Callable

import yaml
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from ..markdown_scan import export_opening, opening, write_fence
from .assets import Links, localize
from .blocks import LINE_BREAK, Block, parse_body
from .clean import Cleaner, escape_snippet_line, math_for_build, md_escape, plain_value
from .messages import NotionError, Warnings
from .looks import drop_empty_headings, house_title, name_untitled_images
from .properties import KST, Header, Property, When, parse_datetime, parse_header, people

MEETING_TAGS = ["회의록"]
UNSORTED_TAG = "미분류"
UNKNOWN = "기록 없음"
SKIP_MARKER = '<!--pytest.mark.skip(reason="fragment quoted from the meeting notes")-->'
TITLE_CHARS = 60
_NUMBERED_RE = re.compile(r"^(?:\d{1,4}[.)]|\(\d{1,4}\)|[IVX]{1,6}\.)\s")
_TITLE_DATE_RE = re.compile(r"(?<!\d)(\d{1,2})/(\d{1,2})(?!\d)(?:\s*\(([월화수목금토일])\))?")
_TITLE_DATE_SPACE_RE = re.compile(r"^(\d{1,2}) (\d{1,2})(?!\d)")  # '03/10 …' as a file name: '03 10 …'
_SHELL = {"sh", "bash", "shell", "zsh", "console", "shell-session"}
_ASIDE_KINDS = [("💡", "tip"), ("⚠", "warning"), ("❗", "warning"), ("🚨", "danger"), ("⛔", "danger"), ("ℹ", "info"), ("📌", "info"), ("✅", "success")]
EMPTY_NOTE = '!!! note "원본에서 비어 있던 제목"\n    Notion 원본에서 이 제목 아래에는 내용이 없었습니다.'


@dataclass
class Export:
    """One page of an export, parsed."""

    label: str  # the page in messages
    name: str  # its file name
    lines: list[str]
    header: Header
    blocks: list[Block]
    warnings: Warnings = field(default_factory=Warnings)

    @property
    def title(self) -> str:
        return self.header.title

    @property
    def title_line(self) -> int:
        return self.header.title_line


def parse(text: str, label: str, name: str, warnings: Warnings | None = None) -> Export:
    warnings = warnings if warnings is not None else Warnings()
    lines = text.split("\n")
    header = parse_header(lines, label, warnings)
    rows = [(n + 1, lines[n]) for n in range(header.body_start, len(lines))]
    blocks = drop_empty_headings(parse_body(rows, label, warnings), label, warnings)
    name_untitled_images(blocks, header.title)
    return Export(label, name, lines, header, blocks, warnings)


# --- front matter values ----------------------------------------------------------------


def _when(export: Export, field_name: str) -> When | None:
    prop = export.header.properties.get(field_name)
    if prop is None or not prop.value.strip():
        return None
    return parse_datetime(prop.value, export.label, prop.line)


def meeting_date(export: Export, override: dt.date | None = None) -> dt.date:
    """--date, a date property, the title's M/D, or the creation date, in that order."""
    if override is not None:
        return override
    if (when := _when(export, "date")) is not None:
        return when.value.date()
    created = _when(export, "created") or _when(export, "updated")
    m = _TITLE_DATE_RE.search(export.title) or _TITLE_DATE_SPACE_RE.search(export.title)
    if m and created is not None:
        return _title_date(export, m, created.value)
    if m and (year := re.search(r"(?<!\d)(20\d\d)(?!\d)", export.title)):
        return _title_date(export, m, dt.datetime(int(year.group(1)), int(m.group(1)), 1, tzinfo=KST))
    if created is not None:
        return created.value.date()
    hint = "제목에 M/D가 있지만 연도를 알 수 없습니다" if m else "날짜 속성도, 제목의 M/D도, 작성일시도 없습니다"
    raise NotionError(export.label, export.title_line, f"회의 날짜를 정할 수 없습니다 ({hint}): --date YYYY-MM-DD로 정해 주세요")


def _title_date(export: Export, m: re.Match[str], near: dt.datetime) -> dt.date:
    month, day = int(m.group(1)), int(m.group(2))
    candidates = []
    for year in (near.year - 1, near.year, near.year + 1):
        try:
            candidates.append(dt.date(year, month, day))
        except ValueError:
            pass
    if not candidates:
        raise NotionError(export.label, export.title_line, f"제목의 날짜 {m.group(0)!r}는 없는 날짜입니다")
    date = min(candidates, key=lambda d: abs((d - near.date()).days))
    weekday = "월화수목금토일"[date.weekday()]
    if m.lastindex and m.lastindex >= 3 and m.group(3) and m.group(3) != weekday:
        export.warnings.add(export.label, export.title_line, f"제목의 요일({m.group(3)})이 {date.isoformat()}의 요일({weekday})과 다릅니다")
    return date


def _plain(export: Export, text: str, line: int, what: str) -> str:
    try:
        value, had_markup = plain_value(text)
    except ValueError as exc:
        raise NotionError(export.label, line, f"{what}의 HTML을 지울 수 없어 가져오지 않습니다 ({exc})") from None
    if had_markup:
        export.warnings.add(export.label, line, f"{what}에 HTML이 있어 태그를 지우고 글자만 남겼습니다 (엔티티는 한 번만 풀었습니다)")
    return value


def _people(export: Export, prop: Property | None) -> list[str]:
    if prop is None:
        return []
    return [v for v in (_plain(export, p, prop.line, f"속성 '{prop.name}'") for p in people(prop.value)) if v]


def meeting_fields(export: Export, day: dt.date) -> tuple[list[tuple[str, str]], list[str]]:
    """(front matter fields, notes for the page: values the front matter cannot hold)."""
    props, label = export.header.properties, export.label
    notes: list[str] = []
    created, updated = _when(export, "created"), _when(export, "updated")
    for name, when in (("created", created), ("updated", updated), ("date", _when(export, "date"))):
        if when is not None and when.end is not None:
            prop = props[name]
            notes.append(f"{prop.name}: {prop.value}")
    if created is None and updated is None:
        export.warnings.add(label, export.title_line, f"작성일시가 없어 회의 날짜 {day.isoformat()} 0시(한국 시간)로 둡니다")
    stamp = dt.datetime(day.year, day.month, day.day, tzinfo=KST)
    created_at = (created or updated).value if (created or updated) else stamp
    updated_at = (updated or created).value if (updated or created) else stamp
    authors = _people(export, props.get("author"))
    if not authors:
        export.warnings.add(label, props["author"].line if "author" in props else export.title_line, f"작성자가 없습니다: '{UNKNOWN}'으로 둡니다")
    kind = _plain(export, props["meeting_type"].value, props["meeting_type"].line, "회의 유형") if "meeting_type" in props else ""
    if not kind:
        export.warnings.add(label, props["meeting_type"].line if "meeting_type" in props else export.title_line, f"회의 유형이 없습니다: '{UNKNOWN}'으로 둡니다")
    tags = list(MEETING_TAGS)
    if "tags" in props:
        tags += [t for t in _people(export, props["tags"]) if t not in tags]
    fields = [
        ("title", yaml_scalar(house_title(_plain(export, export.title, export.title_line, "제목") or export.name, day))),
        ("date", day.isoformat()),
        ("created", created_at.isoformat()),
        ("author", yaml_scalar(", ".join(authors) or UNKNOWN)),
        ("attendees", yaml_list(_people(export, props.get("attendees")))),
        ("updated", updated_at.isoformat()),
        ("meeting_type", yaml_scalar(kind or UNKNOWN)),
        ("tags", yaml_list(tags)),
        ("source", yaml_scalar(f"Notion export ({export.name})")),
    ]
    return fields, notes


# --- structure --------------------------------------------------------------------------


@dataclass
class Question:
    qid: str
    block: Block
    answer: list[Block]
    slug: str
    text: str  # the question as plain text, without its number
    level: int  # heading level on the meeting page
    quote: str = ""  # the question line as its Q&A page quotes it (Markdown), set by convert()

    @property
    def anchor(self) -> str:
        return self.qid.lower()

    @property
    def title(self) -> str:
        return f"{self.qid}. {short_title(self.text)}"


def short_title(text: str, limit: int = TITLE_CHARS) -> str:
    """The first sentence, cut at a word boundary to ``limit`` characters."""
    m = re.search(r"[?!.]+(?=\s|$)", text[8:])
    sentence = text[: 8 + m.end()] if m else text
    if len(sentence) > limit:
        cut = sentence[:limit].rsplit(" ", 1)[0] if " " in sentence[:limit] else sentence[:limit]
        sentence = cut.rstrip(" ,.;:") + "…"
    return sentence.strip()


def structure(export: Export, slugs: dict[str, str], date: dt.date, shift: int, existing: dict[str, str]) -> tuple[list[object], list[Question]]:
    """Group blocks: the meeting's items (Block or Question) and the questions.

    A question's Q&A page is named by ``slugs`` (--slug), else ``existing`` (qid -> the page it
    already has, see reimport.py), else ``DATE-qN``."""
    blocks = export.blocks
    q_indexes = [k for k, b in enumerate(blocks) if b.kind == "question"]
    unknown = sorted(set(slugs) - {blocks[k].qid for k in q_indexes})
    if unknown:
        have = ", ".join(blocks[k].qid for k in q_indexes) or "없음"
        raise NotionError(export.label, None, f"--slug로 준 질문 {', '.join(unknown)}이(가) 내보내기 파일에 없습니다 (있는 질문: {have})")
    last_q = q_indexes[-1] if q_indexes else -1
    items: list[object] = []
    questions: list[Question] = []
    outside_level = 1
    k = 0
    while k < len(blocks):
        b = blocks[k]
        if b.kind != "question":
            if b.kind == "heading":
                outside_level = min(b.level + shift, 6)
            items.append(b)
            k += 1
            continue
        j = k + 1
        while j < len(blocks):
            nb = blocks[j]
            if nb.kind == "question" or (nb.kind == "heading" and (_NUMBERED_RE.match(nb.text) or j > last_q)):
                break
            j += 1
        level = min(b.level + shift, 6) if b.level else min(outside_level + 1, 6)
        text = _plain(export, b.text, b.line, "질문") or b.qid
        slug = slugs.get(b.qid) or existing.get(b.qid) or f"{date.isoformat()}-{b.qid.lower()}"
        q = Question(b.qid, b, b.children + blocks[k + 1 : j], slug, text, level)
        questions.append(q)
        items.append(q)
        k = j
    return items, questions


# --- rendering --------------------------------------------------------------------------


def python_fence(info: str) -> tuple[str, str] | None:
    """(language, rest) of a fence's info string; language is 'python' for every Python alias."""
    info = info.strip()
    if info.startswith("{"):  # {.python title="x"} / { .py3 }
        m = re.match(r"^\{\s*\.([\w+-]{1,40})\s*(.{0,500}?)\s*\}$", info)
        lang, rest = (m.group(1), m.group(2)) if m else ("", info)
    else:
        lang, _, rest = info.partition(" ")
        lang = lang.removeprefix(".")  # ```.python: pymdownx.superfences reads it as python
    try:
        lexer = get_lexer_by_name(lang.lower()) if lang else None
    except ClassNotFound:
        lexer = None
    if lexer is not None and lexer.name.startswith(("Python", "IPython")) and "Traceback" not in lexer.name:
        return "python", rest.strip()
    return lang, rest.strip()


class Renderer:
    def __init__(self, export: Export, links: Links, shift: int):
        self.export = export
        self.shift = shift
        self.cleaner = Cleaner(export.label, export.warnings, links.resolve)

    def warn(self, line: int, text: str) -> None:
        self.cleaner.warn(line, text)

    def clean(self, text: str, line: int) -> str:
        return self.cleaner.clean(text, line)

    def escaped_lines(self, lines: list[str], first: int) -> list[str]:
        out = []
        for n, line in enumerate(lines, start=first):
            line, escaped = escape_snippet_line(line)
            if escaped:
                self.warn(n, "스니펫 포함 줄(--8<--)은 ';'로 이스케이프해 글로 보여 줍니다")
            out.append(line)
        return out

    def block(self, b: Block, level: int | None = None) -> str:
        if b.kind == "heading":
            return "#" * (level or min(b.level + self.shift, 6)) + " " + self.clean(b.text, b.line)
        method = {"code": self.code, "math": self.math, "table": self.table, "pipetable": self.pipetable, "aside": self.aside}.get(b.kind)
        if method:
            return method(b)
        cleaned = self.clean("\n".join(b.lines), b.line).split("\n")  # para, text, nested question
        return "\n".join(self.escaped_lines(cleaned, b.line))

    def code(self, b: Block) -> str:
        indent, fence, _ = export_opening(b.lines[0])
        content = b.lines[1:-1]
        lang, rest = python_fence(b.lang)
        if not lang:
            try:
                ast.parse("\n".join(line[len(indent):] if line.startswith(indent) else line for line in content))
                lang = "python"
            except (SyntaxError, ValueError):
                lang = "text"
        elif lang.lower() in _SHELL - {"console"}:
            self.warn(b.line, f"```{lang} 블록을 ```console로 바꿨습니다 (테스트가 sh/bash 블록을 실행하므로)")
            if "title=" not in rest:
                rest = f'title="{lang}" {rest}'.strip()
            lang = "console"
        elif not re.fullmatch(r"[\w+#.-]{1,40}", lang):
            self.warn(b.line, f"코드 블록의 언어 {lang[:40]!r}를 읽을 수 없어 text로 둡니다")
            lang, rest = "text", ""
        if rest and (not re.fullmatch(r'(?:[\w-]{1,40}="[^"<>\n]{0,200}"\s*){1,5}', rest)
                     or opening(f"```{lang} {rest}") is None):  # an option the build's fences refuse
            self.warn(b.line, f"코드 블록 머리의 {rest[:60]!r}는 옮기지 않습니다")
            rest = ""
        body = self.escaped_lines(content, b.line + 1)
        # the closing line as the build needs it (the export's may be longer or indented otherwise)
        out = write_fence(indent, fence, lang + (f" {rest}" if rest else ""), body)
        if lang == "python":
            out.insert(0, indent + SKIP_MARKER)
        return "\n".join(out)

    def math(self, b: Block) -> str:
        indent = b.lines[0][: len(b.lines[0]) - len(b.lines[0].lstrip())]
        if len(b.lines) == 1:
            out = [b.lines[0]]
            tex = b.lines[0].strip()[2:-2]
        else:
            first, last = b.lines[0].strip(), b.lines[-1].strip()
            head = [first[2:]] if first[2:].strip() else []
            tail = [last[:-2]] if last[:-2].strip() else []
            inner = head + b.lines[1:-1] + tail
            out = [indent + "$$", *inner, indent + "$$"]
            tex = "\n".join(inner)
        new, error = math_for_build(tex, True)
        if error:  # kept as code, so the build neither fails on it nor loses it
            self.warn(b.line, f"이 수식은 빌드에서 렌더링되지 않아 코드 블록으로 옮겼습니다 ({error})")
            out = write_fence(indent, "```", "latex", b.lines)
        elif new != tex:
            self.warn(b.line, "수식의 \\href{주소}{글}을 글만 남겼습니다 (빌드의 수식에는 링크가 없습니다)")
            out = [indent + "$$", *new.split("\n"), indent + "$$"] if len(b.lines) > 1 else [f"{indent}$${new}$$"]
        return "\n".join(self.escaped_lines(out, b.line))

    def table(self, b: Block) -> str:
        rows = []
        for n, row in enumerate(b.lines, start=b.line):
            cells = [self.clean(c.strip(), n).replace("|", "\\|") for c in row.split("\t")]
            rows.append("| " + " | ".join(cells) + " |")
        rows.insert(1, "|" + "---|" * len(b.lines[0].split("\t")))
        return "\n".join(rows)

    def pipetable(self, b: Block) -> str:
        rows = [self.clean(row, b.line).replace(LINE_BREAK, "<br>") for row in b.lines]
        return "\n".join(rows[:1] + [b.lines[1]] + rows[2:])

    def aside(self, b: Block) -> str:
        text = "".join("".join(c.lines) for c in b.children[:1])
        kind = next((k for icon, k in _ASIDE_KINDS if text.lstrip().startswith(icon)), "note")
        inner = "\n\n".join(self.block(c) for c in b.children)
        body = "\n".join(("    " + line) if line.strip() else "" for line in inner.split("\n"))
        return f'!!! {kind} ""\n\n{body}' if body.strip() else f'!!! {kind} ""\n    (빈 콜아웃)'


def _is_empty_heading(items: list[tuple[str, int, str]], k: int) -> bool:
    kind, level, _ = items[k]
    if kind != "heading":
        return False
    if k + 1 == len(items):
        return True
    nkind, nlevel, _ = items[k + 1]
    return nkind == "link" or (nkind in ("heading", "qheading") and nlevel <= level)


def assemble(parts: list[tuple[str, int, str]]) -> str:
    out = []
    for k, (_, _, text) in enumerate(parts):
        out.append(text)
        if _is_empty_heading(parts, k):
            out.append(EMPTY_NOTE)
    return "\n\n".join(out)


def answer_parts(r: Renderer, answer: list[Block], base_level: int) -> list[tuple[str, int, str]]:
    levels = [b.level for b in answer if b.kind == "heading"]
    top = min(levels) if levels else 0
    parts = []
    for b in answer:
        if b.kind == "heading":
            level = min(base_level + (b.level - top), 6)
            parts.append(("heading", level, r.block(b, level)))
        else:
            parts.append((b.kind, 0, r.block(b)))
    return parts


# --- the pages --------------------------------------------------------------------------


@dataclass
class Converted:
    export: Export
    meeting: str  # docs/ path of the meeting page
    files: dict[str, str]  # docs/ path -> text
    questions: list[Question]
    links: Links
    slugs: dict[str, str] = field(default_factory=dict)  # --slug: qid -> page name
    redo: Callable[[dict[str, str]], "Converted"] | None = None  # the same page converted (and checked) with other Q&A names


def convert(export: Export, day: dt.date, links: Links, slugs: dict[str, str], tags_of, existing: dict[str, str] | None = None) -> Converted:
    """The meeting page and its Q&A pages. ``tags_of(question text) -> tags``."""
    meeting_src = f"meetings/{day.isoformat()}.md"
    shift = 1 if any(b.kind in ("heading", "question") and b.level == 1 for b in export.blocks) else 0
    fields, notes = meeting_fields(export, day)
    items, questions = structure(export, slugs, day, shift, existing or {})
    r = Renderer(export, links, shift)
    parts: list[tuple[str, int, str]] = []
    extra = [f"{p.name}: {p.value}" for p in export.header.extra] + notes
    lines_of_extra = [p.line for p in export.header.extra] + [export.title_line] * len(notes)
    if extra:
        rows = "\n".join(f"    - {r.clean(text, line)}" for text, line in zip(extra, lines_of_extra))
        parts.append(("note", 0, f'!!! note "Notion의 다른 속성"\n\n{rows}'))
    title = house_title(_plain(export, export.title, export.title_line, "제목") or export.name, day)
    for item in items:
        if isinstance(item, Block):
            parts.append((item.kind, min(item.level + shift, 6) if item.kind == "heading" else 0, r.block(item)))
            continue
        q = item
        if q.block.level:
            text = r.clean(q.block.lines[0].lstrip("#").strip(), q.block.line)
            parts.append(("qheading", q.level, "#" * q.level + f" {text} {{ #{q.anchor} }}"))
        else:
            parts.append(("qheading", q.level, "#" * q.level + f" {q.qid}. {md_escape(short_title(q.text))} {{ #{q.anchor} }}"))
            parts.append(("quote", 0, "> **질문** — " + _quote(r, q)))
        parts += answer_parts(r, q.answer, q.level + 1)
        parts.append(("link", 0, f"→ Q&A 페이지: [{md_escape(q.title)}](\ue002qna/{q.slug}.md\ue003)"))
    files = {meeting_src: localize(front_matter_block(fields) + "\n" + assemble(parts) + "\n", meeting_src)}
    for q in questions:
        path = f"qna/{q.slug}.md"
        q.quote = r.clean(q.block.lines[0].lstrip("#").strip(), q.block.line) if q.block.level else _quote(r, q)
        files[path] = localize(_qna_page(r, q, meeting_src, title, tags_of(q.text)), path)
    return Converted(export, meeting_src, files, questions, links, dict(slugs))


def _quote(r: Renderer, q: Question) -> str:
    text = r.clean(q.block.lines[0].strip(), q.block.line)
    return re.sub(r"^[-*+][ \t]+", "", text)


QUOTED_START = "## 질문"
QUOTED_END = "## 정리된 답"


def _qna_page(r: Renderer, q: Question, meeting_src: str, meeting_title: str, tags: list[str]) -> str:
    fields = [
        ("title", yaml_scalar(q.title)),
        ("qid", q.qid),
        ("status", "open"),
        ("tags", yaml_list(list(dict.fromkeys(tags)) or [UNSORTED_TAG])),
        ("meeting", meeting_src),
        ("related", "[]"),
    ]
    answer = answer_parts(r, q.answer, 3)
    body = [("heading", 2, QUOTED_START), ("quote", 0, "> " + q.quote), ("heading", 2, "## 회의에서 나온 답")]
    if answer:
        body.append(("p", 0, "회의 노트에서 이 질문 아래에 적힌 내용입니다(질문을 덧붙인 말도 섞여 있을 수 있습니다)."))
        body += answer
    else:
        body.append(("p", 0, "_회의 노트에는 이 질문 아래에 아무 내용도 없습니다._"))
    body += [
        ("heading", 2, QUOTED_END),
        ("note", 0, '!!! warning "아직 정리되지 않았습니다"\n    회의 뒤에 정리한 답을 여기에 쓰고 front matter의 '
                    "`status`를 `answered`로 바꿉니다."),
        ("link", 0, f"← 출처 회의: [{md_escape(meeting_title)} — {q.qid}](\ue002{meeting_src}\ue003#{q.anchor})"),
    ]
    return front_matter_block(fields) + "\n" + assemble(body) + "\n"


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
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def yaml_list(values: list[str]) -> str:
    return "[" + ", ".join(yaml_scalar(v, in_flow=True) for v in values) + "]"


def front_matter_block(fields: list[tuple[str, str]]) -> str:
    return "---\n" + "".join(f"{k}: {v}\n" for k, v in fields) + "---\n"
