"""Importing a newer export of a meeting that is already published.

The meeting page is replaced by the new import (the CLI shows the diff first). A Q&A page that
exists for one of the meeting's questions (found by ``meeting:`` and ``qid:``, whatever its file
name) keeps its file name, its front matter and everything from ``## 정리된 답`` on, byte for byte:
only the part that quotes the meeting, from ``## 질문`` up to ``## 정리된 답``, is replaced. So a
consolidated answer (``status: answered``) is never replaced, with or without ``--force``.

Conflicts, reported together, and nothing is written: an existing Q&A page whose quoted part
cannot be found (the two headings are missing or out of order), and a Q&A page for a question the
new export no longer has (its link to the meeting's ``#qN`` would break).
"""

from __future__ import annotations

from ..frontmatter import Page
from .convert import QUOTED_END, QUOTED_START, Converted


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


def _quoted_span(text: str) -> tuple[int, int] | None:
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines) if line.rstrip() == QUOTED_START]
    ends = [i for i, line in enumerate(lines) if line.rstrip() == QUOTED_END]
    if len(starts) != 1 or len(ends) != 1 or starts[0] > ends[0]:
        return None
    offset = lambda i: sum(len(line) + 1 for line in lines[:i])  # noqa: E731
    return offset(starts[0]), offset(ends[0])


def merge_qna(old: str, new: str) -> str | None:
    """``old`` with its quoted part replaced by ``new``'s; None if either has no such part."""
    a, b = _quoted_span(old), _quoted_span(new)
    if a is None or b is None:
        return None
    return old[: a[0]] + new[b[0] : b[1]] + old[a[1] :]


def merge(result: Converted, pages: dict[str, Page], read) -> list[str]:
    """Merge ``result``'s Q&A pages with those on disk (``read(src) -> text``); return conflicts."""
    problems = []
    have = existing_qna(pages, result.meeting)
    asked = {q.qid for q in result.questions}
    for qid, slug in sorted(have.items()):
        if qid not in asked:
            status = pages[f"qna/{slug}.md"].meta.get("status")
            problems.append(
                f"docs/qna/{slug}.md: {result.meeting}의 {qid}에 대한 Q&A 페이지(status: {status})가 있는데 "
                f"새 내보내기({result.export.label})에는 {qid}가 없습니다: 질문을 되살리거나 이 페이지의 meeting/qid를 고친 뒤 다시 가져오세요"
            )
    for q in result.questions:
        path = f"qna/{q.slug}.md"
        if path not in pages:
            continue
        merged = merge_qna(read(path), result.files[path])
        if merged is None:
            problems.append(f"docs/{path}: '{QUOTED_START}'부터 '{QUOTED_END}'까지의 회의 인용 부분을 찾을 수 없어 갱신할 수 없습니다 (두 제목이 한 번씩, 이 순서로 있어야 합니다)")
        else:
            result.files[path] = merged
    return problems
