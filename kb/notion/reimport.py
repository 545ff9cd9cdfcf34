"""Importing a newer export of a meeting that is already published.

The meeting page is replaced by the new import (the CLI shows the diff first), unless that would
drop a line of the published page that the new import does not have (:func:`hand_edits`: added on
the site after the import, or changed or removed in Notion; nothing records which): then the
import is refused, naming each such line, and ``--discard-edits`` lets them go. Each Q&A page of
the meeting (``meeting:`` in its front matter, whatever its file name) is matched with a question
of the new export by the question itself, not by its number, so that a question inserted above
it (which renumbers the rest) never moves an answer to another question:

1. the question line quoted on the page (the ``> …`` line under ``## 질문``) equals the new
   question line, compared without the ``Qn.`` label, Markdown/Notion escapes, bold markers, HTML
   entities, zero-width characters and runs of white space (NFC); when two pages or two questions
   are equal this way, the one with the same number wins, else it is ambiguous;
2. a page that quotes no question (its quoted part is missing, or holds ``kb new qna``'s
   placeholder) goes with the question of its ``qid:``, as before;
3. a question whose text was edited slightly (a typo fix: :data:`SIMILAR` or more by difflib)
   goes with that page if it is the only similar page, the page has no other similar question,
   and the number is the same. Otherwise (two candidates, or the text *and* the number changed)
   the import is refused, naming the question line and the pages.

A matched page keeps its file name, its front matter and everything from ``## 정리된 답`` on;
only the part that quotes the meeting, from ``## 질문`` up to ``## 정리된 답``, is replaced. When
the question's number changed, ``qid:``, the ``Qn.`` that starts ``title:`` and the page's links to
the meeting's question anchors (``…/meetings/DATE.md#qn``) follow it. So a consolidated answer
(``status: answered``) stays with its question, with or without ``--force``. A new question gets a
new page (``DATE-qN``, or ``DATE-qN-2`` … when that name is taken by another question's page).

Conflicts, reported together, and nothing is written: a question that cannot be matched safely,
a page whose question the new export no longer has (its answer would be orphaned), a page whose
quoted part cannot be found (the two headings missing or out of order), and a ``--slug`` that
names another question's page or a second page for a question that has one.
"""

from __future__ import annotations

import difflib
import html
import re
import unicodedata
from dataclasses import dataclass

from ..frontmatter import Page, split
from .blocks import ZERO_WIDTH
from .convert import QUOTED_END, QUOTED_START, Converted, Question

SIMILAR = 0.85  # difflib ratio from which an edited question line is the same question
LOST_SHOWN = 20  # lines of a meeting page that --force would drop, named one by one
_LABEL_RE = re.compile(r"^(?:[-*+][ \t]+)?(?:Q[ \t]?\d+(?:[ \t]*[.):：])?|Q[ \t]*[.):：]|질문[ \t]*\d*[ \t]*[.):：])[ \t]*")
_ESCAPE_RE = re.compile(r"\\([!-/:-@\[-`{-~])")


class Conflict(ValueError):
    """Changes that cannot be merged; ``problems`` name the files."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def existing_qna(pages: dict[str, Page], meeting_src: str) -> dict[str, str]:
    """qid -> slug of the Q&A pages that already exist for ``meeting_src``."""
    out = {}
    for page in pages.values():
        if page.section == "qna" and not page.is_index and page.meta.get("meeting") == meeting_src and isinstance(page.meta.get("qid"), str):
            out[page.meta["qid"].upper()] = page.src.removeprefix("qna/").removesuffix(".md")
    return out


def question_key(quote: str) -> str:
    """A quoted question line reduced to what identifies the question (see the module docstring)."""
    text = html.unescape(unicodedata.normalize("NFC", quote).translate(ZERO_WIDTH))
    text = _ESCAPE_RE.sub(r"\1", text).replace("**", "").replace("__", "")
    return " ".join(_LABEL_RE.sub("", text.strip()).split())


@dataclass
class _Old:
    """A published Q&A page of the meeting."""

    slug: str
    qid: str
    status: object
    quote: str  # its quoted question line ('' if none)
    line: int  # the line of that quote in the page

    @property
    def key(self) -> str:
        return question_key(self.quote)

    @property
    def name(self) -> str:
        return f"docs/qna/{self.slug}.md" + (f":{self.line}" if self.line else "")


def _quoted_span(text: str) -> tuple[int, int] | None:
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines) if line.rstrip() == QUOTED_START]
    ends = [i for i, line in enumerate(lines) if line.rstrip() == QUOTED_END]
    if len(starts) != 1 or len(ends) != 1 or starts[0] > ends[0]:
        return None
    offset = lambda i: sum(len(line) + 1 for line in lines[:i])  # noqa: E731
    return offset(starts[0]), offset(ends[0])


def _published(pages: dict[str, Page], meeting: str, read) -> list[_Old]:
    out = []
    for page in sorted(pages.values(), key=lambda p: p.src):
        meta = page.meta
        if page.section != "qna" or page.is_index or meta.get("meeting") != meeting or not isinstance(meta.get("qid"), str):
            continue
        text, quote, line = read(page.src), "", 0
        if (span := _quoted_span(text)) is not None:
            first = text[: span[0]].count("\n") + 1
            for n, row in enumerate(text[span[0] : span[1]].split("\n"), start=first):
                if row.startswith(">"):
                    quote, line = row[1:].strip(), n
                    break
        from ..scaffold import QUESTION_PLACEHOLDER  # not at the top: kb.scaffold imports kb.notion

        if quote == QUESTION_PLACEHOLDER:  # kb new qna's quote, before an import fills it
            quote = ""
        out.append(_Old(page.src.removeprefix("qna/").removesuffix(".md"), meta["qid"].upper(), meta.get("status"), quote, line))
    return out


def _similar(a: str, b: str) -> bool:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() >= SIMILAR


def _match(questions: list[Question], olds: list[_Old], label: str) -> tuple[dict[str, _Old], list[str], set[str]]:
    """qid -> its published page; the questions that cannot be matched safely; the pages they name."""
    pairs: dict[str, _Old] = {}
    problems: list[str] = []
    doubtful: set[str] = set()
    key = {q.qid: question_key(q.quote) for q in questions}
    said = lambda q: f"{label}:{q.block.line}: 질문 {q.qid} {q.quote!r}"  # noqa: E731
    hint = lambda q: (  # noqa: E731
        ". 답이 다른 질문으로 옮겨 가지 않도록 가져오지 않습니다: 같은 질문인 페이지의 '## 질문' 인용을 이 질문 줄과 "
        f"똑같이 고치거나 --slug {q.qid}=<그 페이지 이름>으로 정한 뒤 다시 가져오세요"
    )
    for k in dict.fromkeys(v for v in key.values() if v):  # 1. the same question line
        qs, os_ = [q for q in questions if key[q.qid] == k], [o for o in olds if o.key == k]
        if len(qs) == 1 and len(os_) == 1:
            pairs[qs[0].qid] = os_[0]
            continue
        for q in qs:
            if same := [o for o in os_ if o.qid == q.qid]:
                pairs[q.qid] = same[0]
        rest = [o for o in os_ if o not in pairs.values()]
        for q in (q for q in qs if q.qid not in pairs and rest):
            doubtful.update(o.slug for o in rest)
            problems.append(f"{said(q)}: 같은 글의 질문이나 페이지가 여럿이라 어느 페이지의 질문인지 정할 수 없습니다: "
                            + "; ".join(f"{o.name} ({o.qid} {o.quote!r})" for o in rest) + hint(q))
    free = [o for o in olds if o not in pairs.values()]
    for q in questions:  # 2. a page that quotes no question goes by its number
        if q.qid not in pairs and (by_number := [o for o in free if not o.key and o.qid == q.qid]):
            pairs[q.qid] = by_number[0]
    free = [o for o in olds if o not in pairs.values() and o.key]
    left = [q for q in questions if q.qid not in pairs and key[q.qid]]
    for q in left:  # 3. a slightly edited question line
        near = [o for o in free if _similar(o.key, key[q.qid])]
        if not near:
            continue
        rivals = [p for p in left if p is not q and any(_similar(o.key, key[p.qid]) for o in near)]
        if len(near) == 1 and not rivals and near[0].qid == q.qid:
            pairs[q.qid] = near[0]
            continue
        if len(near) > 1:
            why = "비슷한 Q&A 페이지가 여럿입니다"
        elif rivals:
            why = "이 페이지와 비슷한 질문이 여럿입니다 (" + ", ".join(f"{p.qid} {p.quote!r}" for p in rivals) + ")"
        else:
            why = f"번호({near[0].qid} -> {q.qid})와 글이 함께 바뀌어 같은 질문인지 알 수 없습니다"
        doubtful.update(o.slug for o in near)
        problems.append(f"{said(q)}: {why}: " + "; ".join(f"{o.name} ({o.qid} {o.quote!r})" for o in near) + hint(q))
    return pairs, problems, doubtful


def _free(names: dict[str, str], qids: list[str], meeting: str, pages: dict[str, Page]) -> dict[str, str]:
    """``names`` with a name for each of ``qids`` that has none: ``DATE-qN``, or ``DATE-qN-2`` …
    when a page on disk or another question has that name."""
    taken = {src.removeprefix("qna/").removesuffix(".md") for src in pages if src.startswith("qna/")} | set(names.values())
    for qid in qids:
        if qid not in names:
            base = f"{meeting.removeprefix('meetings/').removesuffix('.md')}-{qid.lower()}"
            name, n = base, 1
            while name in taken:
                n += 1
                name = f"{base}-{n}"
            names[qid] = name
            taken.add(name)
    return names


def first_names(pages: dict[str, Page], meeting: str, qids: list[str], slugs: dict[str, str]) -> dict[str, str]:
    """The Q&A page names of a first conversion, before :func:`merge` reads the published pages:
    ``--slug``, else the page of the same ``qid``, else a free name; never one name twice."""
    names = {q: s for q, s in existing_qna(pages, meeting).items() if q in qids and s not in slugs.values()}
    return _free({**names, **slugs}, qids, meeting, pages)


def _names(result: Converted, pages: dict[str, Page], pairs: dict[str, _Old]) -> tuple[dict[str, str], list[str]]:
    """qid -> Q&A page name for every question, and the ``--slug`` options that cannot be followed."""
    names, problems = {qid: o.slug for qid, o in pairs.items()}, []
    for qid, slug in sorted(result.slugs.items()):
        if qid in pairs and pairs[qid].slug != slug:
            problems.append(f"{qid}: 이 질문의 Q&A 페이지가 이미 docs/qna/{pairs[qid].slug}.md에 있습니다 (--slug {qid}={pairs[qid].slug}); 같은 질문의 페이지를 두 개 만들지 않습니다")
        elif qid not in pairs and f"qna/{slug}.md" in pages:  # a page of this meeting would be in pairs
            other = pages[f"qna/{slug}.md"].meta.get("meeting")
            problems.append(f"--slug {qid}={slug}: docs/qna/{slug}.md는 이미 있는 다른 페이지입니다 (meeting: {other}); 다른 이름을 주세요")
        names.setdefault(qid, slug)
    return _free(names, [q.qid for q in result.questions], result.meeting, pages), problems


def merge_qna(old: str, new: str) -> str | None:
    """``old`` with its quoted part replaced by ``new``'s; None if either has no such part."""
    a, b = _quoted_span(old), _quoted_span(new)
    if a is None or b is None:
        return None
    return old[: a[0]] + new[b[0] : b[1]] + old[a[1] :]


def hand_edits(old: str, new: str, src: str) -> list[str]:
    """The lines of the body of the published meeting page ``old`` (``docs/src``) that --force would
    drop with nothing in their place, comparing the non-blank lines of ``old`` and of ``new`` (the page
    this import would write) with difflib: a deleted run, and in a run replaced by fewer lines, the
    surplus lines least like the new ones. A line changed in Notion is not listed; a section added on
    the site, or a paragraph removed in Notion, is."""
    _, _, body_line, _ = split(old, f"docs/{src}")
    a = [(n, line.strip()) for n, line in enumerate(old.split("\n"), 1) if n >= body_line and line.strip()]
    b = [line.strip() for line in new.split("\n")[split(new, "new")[2] - 1 :] if line.strip()]
    opcodes = difflib.SequenceMatcher(None, [line for _, line in a], b, autojunk=False).get_opcodes()
    lost = []
    for tag, i1, i2, j1, j2 in opcodes:  # a run replaced by fewer lines: its least similar lines are dropped
        if tag in ("delete", "replace") and i2 - i1 > j2 - j1:
            score = lambda k: max((difflib.SequenceMatcher(None, a[k][1], line).ratio() for line in b[j1:j2]), default=0)  # noqa: E731
            lost += sorted(sorted(range(i1, i2), key=score)[: (i2 - i1) - (j2 - j1)])
    lost = [a[k] for k in lost]
    problems = [f"docs/{src}:{n}: 다시 가져오면 사라지는 줄 (새 내보내기에 없음): {line!r}" for n, line in lost[:LOST_SHOWN]]
    if len(lost) > LOST_SHOWN:
        problems.append(f"docs/{src}: … 이런 줄이 {len(lost) - LOST_SHOWN}개 더 있습니다")
    if lost:
        problems.append(
            f"docs/{src}: 회의 뒤 사이트에서 덧붙인 글이면 Q&A 페이지(python -m kb new qna)나 Notion 원본으로 옮긴 뒤 "
            "다시 가져오세요. Notion에서 고치거나 지운 줄이라 사라져도 되면 --discard-edits를 더해 가져오세요"
        )
    return problems


def renumber(text: str, meeting: str, moved: dict[str, str]) -> str:
    """A matched page whose question numbers changed (``moved``: old qid -> new): its ``qid:``,
    the ``Qn.`` starting its ``title:``, and its links to the meeting's ``#qn`` anchors."""
    if not moved:
        return text
    head, sep, body = text.partition("\n---\n")
    qid_re = "|".join(map(re.escape, moved))
    head = re.sub(rf"(?m)^(qid:[ \t]*[\"']?)({qid_re})(?=[\"']?[ \t]*$)", lambda m: m.group(1) + moved[m.group(2)], head)
    head = re.sub(rf"(?m)^(title:[ \t]*[\"']?)({qid_re})(?=\. )", lambda m: m.group(1) + moved[m.group(2)], head)
    page = re.escape(meeting)

    def link(m: re.Match[str]) -> str:  # '[… — Q1](../meetings/DATE.md#q1)' or '(../meetings/DATE.md#q1)'
        label = m.group("qid") and moved.get(m.group("qid"), m.group("qid"))
        anchor = moved.get(m.group("anchor").upper(), m.group("anchor")).lower()
        return (f" — {label}]" if label else "") + f"({m.group('url')}{anchor})"

    body = re.sub(rf"(?: — (?P<qid>Q\d+)\])?\((?P<url>[^()\s]*{page}#)(?P<anchor>q\d+)\)", link, body)
    return head + sep + body


def merge(result: Converted, pages: dict[str, Page], read) -> list[str]:
    """Match ``result``'s questions with the published Q&A pages (``read(src) -> text``), rename its
    pages to theirs (``result.redo``) and merge them; return conflicts (the caller then writes nothing)."""
    olds = _published(pages, result.meeting, read)
    explicit = {qid: o for qid, slug in result.slugs.items() for o in olds if o.slug == slug}  # --slug Qn=<its page>
    pairs, problems, doubtful = _match(
        [q for q in result.questions if q.qid not in explicit], [o for o in olds if o not in explicit.values()], result.export.label
    )
    pairs.update(explicit)
    names, wrong = _names(result, pages, pairs)
    problems += wrong
    for o in olds:
        if o not in pairs.values() and o.slug not in doubtful:
            problems.append(
                f"docs/qna/{o.slug}.md: {result.meeting}의 {o.qid}에 대한 Q&A 페이지(status: {o.status})가 있는데 "
                f"새 내보내기({result.export.label})에는 이 질문{f' {o.quote!r}' if o.quote else f'({o.qid})'}이 없습니다: "
                "질문을 되살리거나, 글을 고친 같은 질문이면 이 페이지의 '## 질문' 인용을 새 질문 줄로 고친 뒤 다시 가져오세요"
            )
    if problems:
        return problems
    if names != {q.qid: q.slug for q in result.questions} and result.redo is not None:
        again = result.redo(names)
        result.files, result.questions = again.files, again.questions
    moved = {o.qid: qid for qid, o in pairs.items() if o.qid != qid}
    for q in result.questions:
        path = f"qna/{q.slug}.md"
        if path not in pages:
            continue
        merged = merge_qna(renumber(read(path), result.meeting, moved), result.files[path])
        if merged is None:
            problems.append(f"docs/{path}: '{QUOTED_START}'부터 '{QUOTED_END}'까지의 회의 인용 부분을 찾을 수 없어 갱신할 수 없습니다 (두 제목이 한 번씩, 이 순서로 있어야 합니다)")
        else:
            result.files[path] = merged
    return problems
