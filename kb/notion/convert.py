"""A parsed page -> the meeting page and one Q&A page per question (Markdown with front matter).

Structure: a question's answer is everything after it up to the next question, the next numbered
heading (``2. …``, ``(1) …``), or, after the last question, the next heading of any kind. Heading
levels are not used for this: Notion pages mix them. On the meeting page each question gets a
heading ``Qn. <short title> { #qn }`` (a heading question keeps its heading) and a link to its Q&A
page; the Q&A page quotes the question and the notes under it, then leaves a placeholder for the
answer written after the meeting (``status: open``). Body headings are moved one level down when
the body uses ``#`` (the page title is the H1).

Each block is written by kb.notion.to_markdown, the front matter by kb.notion.meeting.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Callable

from .assets import Links, localize
from .blocks import Block
from .clean import md_escape
from .looks import house_title
from .meeting import front_matter_block, meeting_fields, yaml_list, yaml_scalar
from .messages import NotionError
from .page import Export, plain
from .to_markdown import Renderer

UNSORTED_TAG = "미분류"
TITLE_CHARS = 60
_NUMBERED_RE = re.compile(r"^(?:\d{1,4}[.)]|\(\d{1,4}\)|[IVX]{1,6}\.)\s")
EMPTY_NOTE = '!!! note "원본에서 비어 있던 제목"\n    Notion 원본에서 이 제목 아래에는 내용이 없었습니다.'


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
        text = plain(export, b.text, b.line, "질문") or b.qid
        slug = slugs.get(b.qid) or existing.get(b.qid) or f"{date.isoformat()}-{b.qid.lower()}"
        q = Question(b.qid, b, b.children + blocks[k + 1 : j], slug, text, level)
        questions.append(q)
        items.append(q)
        k = j
    return items, questions


# --- the pages --------------------------------------------------------------------------


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
    title = house_title(plain(export, export.title, export.title_line, "제목") or export.name, day)
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
