"""Pages made by `kb new` are not published as made: their placeholders fail `kb check` and the
strict build (file and line), until the writer replaces them; `new meeting --date D` is created on D.

Every command runs through the real entry point (``python -m kb`` in a subprocess).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from conftest import build_site, copy_project, run_kb
from kb.scaffold import ANSWERS_PLACEHOLDER, MEETING_HINT, PLACEHOLDERS, QUESTION_PLACEHOLDER

KST = dt.timezone(dt.timedelta(hours=9))


def front_matter(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8").split("\n---\n", 1)[0][4:])


def line_of(path: Path, text: str) -> int:
    """The 1-based line of ``path`` that holds ``text`` (exactly one)."""
    found = [n for n, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1) if text in line]
    assert len(found) == 1, (path, text, found)
    return found[0]


@pytest.fixture
def drafts(tmp_path) -> Path:
    """docs/ with a meeting page and one of its Q&A pages, both as `kb new` made them."""
    docs = tmp_path / "docs"
    docs.mkdir()
    made = run_kb("new", "meeting", "--date", "2021-08-10", "--author", "이하람", "--docs", docs)
    assert made.returncode == 0, made.stderr
    made = run_kb(
        "new", "qna", "--meeting", "meetings/2021-08-10.md", "--qid", "Q1", "--slug", "dropout",
        "--title", "드롭아웃은 왜 과적합을 줄이나요?", "--docs", docs,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    return docs


def test_the_placeholders_are_what_kb_new_writes(drafts):
    body = (drafts / "qna/dropout.md").read_text(encoding="utf-8") + (drafts / "meetings/2021-08-10.md").read_text(encoding="utf-8")
    assert set(PLACEHOLDERS) == {QUESTION_PLACEHOLDER, ANSWERS_PLACEHOLDER, MEETING_HINT}
    assert all(text in body for text in PLACEHOLDERS)


def test_pages_left_as_made_fail_check_naming_each_placeholder_line(drafts):
    result = run_kb("check", "--docs", drafts)
    assert result.returncode == 1, result.stdout + result.stderr
    qna, meeting = drafts / "qna/dropout.md", drafts / "meetings/2021-08-10.md"
    expected = [
        f"docs/meetings/2021-08-10.md:{line_of(meeting, MEETING_HINT)}: 자리표시자가 남았습니다: {MEETING_HINT!r}",
        f"docs/qna/dropout.md:{line_of(qna, QUESTION_PLACEHOLDER)}: 자리표시자가 남았습니다: {QUESTION_PLACEHOLDER!r}",
        f"docs/qna/dropout.md:{line_of(qna, ANSWERS_PLACEHOLDER)}: 자리표시자가 남았습니다: {ANSWERS_PLACEHOLDER!r}",
    ]
    lines = result.stdout.splitlines()
    assert len(lines) == len(expected), result.stdout
    for line, start in zip(lines, expected):
        assert line.startswith(start), (line, start)
    assert "Traceback" not in result.stderr


def test_pages_pass_check_once_their_placeholders_are_replaced(drafts):
    qna, meeting = drafts / "qna/dropout.md", drafts / "meetings/2021-08-10.md"
    text = meeting.read_text(encoding="utf-8")
    hint = text.split("\n")[line_of(meeting, MEETING_HINT) - 1]
    meeting.write_text(text.replace(hint, "- [Q1. 드롭아웃은 왜 과적합을 줄이나요?](../qna/dropout.md)"), encoding="utf-8")
    text = qna.read_text(encoding="utf-8")
    text = text.replace(QUESTION_PLACEHOLDER, "드롭아웃은 왜 과적합을 줄이나요?")
    text = text.replace(ANSWERS_PLACEHOLDER, "김민: 앙상블처럼 작동한다고 했습니다.\n\n```text\n> (질문 원문)\n```")
    qna.write_text(text, encoding="utf-8")  # a placeholder quoted in code is not one left over
    result = run_kb("check", "--docs", drafts)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_new_meeting_is_created_on_its_date(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    made = run_kb("new", "meeting", "--date", "2021-08-17", "--author", "이하람", "--docs", docs)
    assert made.returncode == 0, made.stderr
    meta = front_matter(docs / "meetings/2021-08-17.md")
    assert meta["created"] == dt.datetime(2021, 8, 17, tzinfo=KST)
    assert meta["updated"] == meta["created"]


def test_strict_build_refuses_a_page_with_a_placeholder(tmp_path):
    project = copy_project(tmp_path / "project")
    made = run_kb(
        "new", "qna", "--meeting", "meetings/2021-08-10.md", "--qid", "Q9", "--slug", "left-as-made",
        "--title", "채우지 않은 질문", "--docs", project / "docs", cwd=project,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    page = project / "docs/qna/left-as-made.md"
    result = build_site(project, tmp_path / "site")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert f"docs/qna/left-as-made.md:{line_of(page, QUESTION_PLACEHOLDER)}: 자리표시자가 남았습니다" in output
