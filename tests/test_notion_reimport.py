"""Re-importing a newer export of a published meeting: the meeting page is updated, each Q&A
page's quote of the meeting is updated, and a consolidated answer is kept byte for byte."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from notion_cli import kb_main as run_kb
from notion_cli import snapshot

KO = Path(__file__).parent / "fixtures/notion/ko-page"
ANSWER = "## 정리된 답\n\n배치 정규화는 층마다 입력 분포를 고정해 큰 학습률을 쓸 수 있게 합니다.\n\n```text\n손으로 쓴 답\n```\n"



@pytest.fixture
def published(tmp_path):
    """The Korean fixture imported, and Q1 answered since: (export copy, docs, Q1's answered text)."""
    export = tmp_path / "export"
    shutil.copytree(KO, export)
    docs = tmp_path / "docs"
    docs.mkdir()
    assert run_kb("import-notion", export, "--docs", docs).returncode == 0
    q1 = docs / "qna/2021-07-16-q1.md"
    head, quoted, _ = re.match(r"(?s)(.*?)(## 질문\n.*?)(## 정리된 답\n.*)", q1.read_text(encoding="utf-8")).groups()
    q1.write_text(head.replace("status: open", "status: answered") + quoted + ANSWER, encoding="utf-8")
    return export, docs, q1.read_text(encoding="utf-8")


def edit_export(export: Path, old: str, new: str) -> None:
    page = next(export.glob("*.md"))
    text = page.read_text(encoding="utf-8")
    assert old in text
    page.write_text(text.replace(old, new), encoding="utf-8")


def test_reimport_updates_the_meeting_and_the_quote_and_keeps_the_answer(published):
    export, docs, answered = published
    edit_export(export, "a < b 이면 <redacted> 처리한 값만 씁니다.", "평균과 분산으로 정규화합니다.")
    edit_export(export, "다음 주에는 ResNet 논문을 읽습니다.", "다음 주에는 DenseNet 논문을 읽습니다.")
    result = run_kb("import-notion", export, "--docs", docs, "--force")
    assert result.returncode == 0, result.stderr
    meeting = (docs / "meetings/2021-07-16.md").read_text(encoding="utf-8")
    assert "DenseNet" in meeting and "ResNet 논문" not in meeting
    q1 = (docs / "qna/2021-07-16-q1.md").read_text(encoding="utf-8")
    assert q1.endswith(ANSWER) and "status: answered" in q1
    assert q1.split("## 질문\n")[0] == answered.split("## 질문\n")[0]  # front matter untouched
    assert "평균과 분산으로 정규화합니다." in q1 and "redacted" not in q1
    # the changes were shown before they were written
    assert "-다음 주에는 ResNet 논문을 읽습니다.\n+다음 주에는 DenseNet 논문을 읽습니다.\n" in result.stdout
    assert result.stdout.index("+평균과 분산으로") < result.stdout.index("덮어씀: ")


def test_reimport_without_force_skips_and_lists_the_meeting(published):
    export, docs, _ = published
    before = snapshot(docs)
    result = run_kb("import-notion", export, "--docs", docs)
    assert result.returncode == 0  # the same export: nothing to do
    assert "이미 최신입니다: " in result.stderr and "meetings/2021-07-16.md" in result.stderr
    assert snapshot(docs) == before


def test_dry_run_shows_the_change_and_writes_nothing(published):
    export, docs, _ = published
    edit_export(export, "다음 주에는 ResNet", "다음 주에는 DenseNet")
    before = snapshot(docs)
    result = run_kb("import-notion", export, "--docs", docs, "--force", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "+다음 주에는 DenseNet 논문을 읽습니다." in result.stdout
    assert snapshot(docs) == before


def test_a_question_removed_from_the_export_is_a_conflict_and_nothing_is_written(published):
    export, docs, _ = published
    edit_export(export, "Q2) 학습률은 어떻게 정하나요?", "학습률 이야기도 했습니다.")
    before = snapshot(docs)
    result = run_kb("import-notion", export, "--docs", docs, "--force")
    assert result.returncode == 1
    assert "docs/qna/2021-07-16-q2.md: meetings/2021-07-16.md의 Q2에 대한 Q&A 페이지(status: open)" in result.stderr
    assert "아무것도 쓰지 않았습니다" in result.stderr
    assert snapshot(docs) == before


def test_answered_page_with_its_headings_edited_away_is_a_conflict(published):
    export, docs, answered = published
    q1 = docs / "qna/2021-07-16-q1.md"
    q1.write_text(answered.replace("## 질문\n", "## 물어본 것\n"), encoding="utf-8")
    before = snapshot(docs)
    result = run_kb("import-notion", export, "--docs", docs, "--force")
    assert result.returncode == 1
    assert "docs/qna/2021-07-16-q1.md: '## 질문'부터 '## 정리된 답'까지의 회의 인용 부분을 찾을 수 없어" in result.stderr
    assert snapshot(docs) == before
