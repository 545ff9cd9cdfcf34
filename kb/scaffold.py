"""New pages with the required front matter: ``python -m kb new meeting`` and ``new qna``.

The front matter is checked with :func:`kb.frontmatter.validate_page` before anything is
written, and an existing file is never overwritten. The body holds :data:`PLACEHOLDERS` where the
writer's text goes; ``kb check`` (and so the strict build) refuses a page that still has one.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from .frontmatter import Page, load_docs, split, validate_page
from .notion import KST, front_matter_block, md_escape, yaml_list, yaml_scalar
from .render import rel

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
QID_RE = re.compile(r"^Q[1-9]\d*$")

# The texts a new page holds until its writer replaces them. kb.check refuses a page under docs/
# with any of them left (file and line), so a page made by `kb new` is not published as made.
QUESTION_PLACEHOLDER = "(질문 원문)"  # kb.notion.reimport: an import fills this quote in
ANSWERS_PLACEHOLDER = "(회의에서 누가 무엇을 말했는지)"
MEETING_HINT = "로 Q&A 페이지를 만들고 여기서 링크합니다._"  # the end of the meeting page's italic hint
PLACEHOLDERS = (QUESTION_PLACEHOLDER, ANSWERS_PLACEHOLDER, MEETING_HINT)


class ScaffoldError(ValueError):
    """A page cannot be made; ``code`` is the exit status (1: refused, 2: bad arguments)."""

    def __init__(self, message: str, code: int):
        self.code = code
        super().__init__(message)


def default_meeting_title(date: dt.date) -> str:
    return f"{date.month}/{date.day}({'월화수목금토일'[date.weekday()]}) 회의록"


def _validated(path: str, text: str, known: set[str]) -> str:
    meta, key_lines, body_line, problems = split(text, f"docs/{path}")
    problems += validate_page(Page(path, meta, key_lines, body_line), known | {path})
    if problems:
        raise ScaffoldError("front matter 검사 실패:\n" + "\n".join(f"  {p}" for p in problems), 2)
    return text


def new_meeting(
    docs_dir: Path,
    date: dt.date,
    *,
    title: str | None,
    author: str,
    attendees: list[str],
    meeting_type: str,
    created: dt.datetime | None = None,
) -> tuple[str, str]:
    """Return (path under docs/, text) of a new meeting page."""
    path = f"meetings/{date.isoformat()}.md"
    if (docs_dir / path).exists():
        raise ScaffoldError(f"docs/{path}: 이미 있습니다. 덮어쓰지 않습니다", 1)
    if not author.strip():
        raise ScaffoldError("작성자가 비어 있습니다: --author로 정해 주세요", 2)
    if created is None:  # the meeting's day: now if that is today, else its midnight (KST)
        now = dt.datetime.now(KST)
        created = now if now.date() == date else dt.datetime.combine(date, dt.time(), KST)
    created = created.astimezone(KST).replace(second=0, microsecond=0)
    fields = [
        ("title", yaml_scalar(title or default_meeting_title(date))),
        ("date", date.isoformat()),
        ("created", created.isoformat()),
        ("author", yaml_scalar(author.strip())),
        ("attendees", yaml_list([a.strip() for a in attendees if a.strip()])),
        ("updated", created.isoformat()),
        ("meeting_type", yaml_scalar(meeting_type)),
        ("tags", yaml_list(["회의록"])),
    ]
    body = (
        "\n## 👉 학습 내용 공유\n\n"
        "### 1. 강의 내용 중 질문하기 🙋\n\n"
        "_질문은 `python -m kb new qna --meeting "
        f"{path} --qid Q1 --slug ... --title ...`{MEETING_HINT}\n"
    )
    known = {p.relative_to(docs_dir).as_posix() for p in docs_dir.rglob("*.md")} if docs_dir.is_dir() else set()
    return path, _validated(path, front_matter_block(fields) + body, known)


def new_qna(
    docs_dir: Path,
    *,
    meeting: str,
    qid: str,
    slug: str,
    title: str,
    tags: list[str],
    asked_by: str | None = None,
) -> tuple[str, str]:
    """Return (path under docs/, text) of a new Q&A page (``status: open``)."""
    meeting = meeting.removeprefix("docs/")
    if not QID_RE.match(qid):
        raise ScaffoldError(f"--qid {qid!r}: 'Q6'처럼 Q와 숫자로 써 주세요", 2)
    if not SLUG_RE.match(slug):
        raise ScaffoldError(f"--slug {slug!r}: 영문 소문자, 숫자, '-'만 씁니다 (예: momentum-vs-nag)", 2)
    if not title.strip():
        raise ScaffoldError("--title이 비어 있습니다", 2)
    if not re.match(r"^meetings/[^/]+\.md$", meeting) or not (docs_dir / meeting).is_file():
        raise ScaffoldError(f"--meeting {meeting!r}: docs/ 아래의 회의록 페이지가 아닙니다 (예: meetings/2021-08-10.md)", 2)
    path = f"qna/{slug}.md"
    if (docs_dir / path).exists():
        raise ScaffoldError(f"docs/{path}: 이미 있습니다. 덮어쓰지 않습니다", 1)
    pages, _ = load_docs(docs_dir)
    for other in pages.values():
        if other.section == "qna" and other.meta.get("meeting") == meeting and other.meta.get("qid") == qid:
            raise ScaffoldError(f"docs/{other.src}: {meeting}의 {qid}는 이미 이 페이지에 있습니다", 1)
    title = title.strip()
    shown = title if title.startswith(f"{qid}.") else f"{qid}. {title}"
    fields = [
        ("title", yaml_scalar(shown)),
        ("qid", qid),
        ("status", "open"),
        ("tags", yaml_list(tags or ["미분류"])),
        ("meeting", meeting),
        ("related", "[]"),
    ]
    if asked_by:
        fields.append(("asked_by", yaml_scalar(asked_by)))
    meeting_title = pages[meeting].meta.get("title", meeting) if meeting in pages else meeting
    body = (
        f"\n## 질문\n\n> {QUESTION_PLACEHOLDER}\n\n"
        f"## 회의에서 나온 답\n\n{ANSWERS_PLACEHOLDER}\n\n"
        "## 정리된 답\n\n"
        '!!! warning "아직 정리되지 않았습니다"\n'
        "    답을 쓰고 front matter의 `status`를 `answered`로 바꿉니다.\n\n"
        f"← 출처 회의: [{md_escape(str(meeting_title))}]({rel(path, meeting)})\n"
    )
    return path, _validated(path, front_matter_block(fields) + body, set(pages))
