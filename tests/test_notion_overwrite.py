"""`python -m kb import-notion` of the seed where pages already exist, and the options that decide
what is written: a second import skips, ``--force`` shows a diff and keeps an answered Q&A page's
answer, ``--dry-run`` writes nothing, ``--slug`` names Q&A pages (an existing Q&A page for a question
is reused, not duplicated), ``--date`` overrides the title's date.

The seed is tests/fixtures/2021-08-10-meeting-notion-export.md; its import end to end is
tests/test_import_notion.py.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from notion_cli import kb_main as kb  # kb.cli.main in this process (tests/test_cli.py runs the real entry point)
from notion_cli import snapshot
from notion_seed import SEED, body, front_matter


def test_second_import_skips_the_published_meeting_and_names_it(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    assert kb("import-notion", SEED, "--docs", docs).returncode == 0
    before = snapshot(docs)
    result = kb("import-notion", SEED, "--docs", docs)
    assert result.returncode == 0  # nothing to do: the export is what is published
    assert f"이미 최신입니다: {docs}/meetings/2021-08-10.md" in result.stderr
    assert snapshot(docs) == before


def test_force_twice_gives_identical_files_and_no_diff(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    assert kb("import-notion", SEED, "--docs", docs).returncode == 0
    first = snapshot(docs)
    again = kb("import-notion", SEED, "--docs", docs, "--force")
    assert again.returncode == 0
    assert snapshot(docs) == first
    assert "---" not in again.stdout and "+++" not in again.stdout


def test_force_prints_a_unified_diff_then_writes(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    assert kb("import-notion", SEED, "--docs", docs).returncode == 0
    original = (docs / "meetings/2021-08-10.md").read_text(encoding="utf-8")
    (docs / "meetings/2021-08-10.md").write_text(original + "\n손으로 덧붙인 줄\n", encoding="utf-8")
    # a hand-added line is refused by --force alone (tests/test_notion_hand_edits.py); --discard-edits lets it go
    result = kb("import-notion", SEED, "--docs", docs, "--force", "--discard-edits")
    assert result.returncode == 0, result.stderr
    page = f"{docs}/meetings/2021-08-10.md"
    assert f"--- {page}\t(지금 파일)\n+++ {page}\t(새 내용)\n" in result.stdout
    assert "-손으로 덧붙인 줄\n" in result.stdout
    assert result.stdout.count("\n--- ") + result.stdout.startswith("--- ") == 1  # unchanged files get no diff
    assert result.stdout.index("-손으로 덧붙인 줄") < result.stdout.index(f"덮어씀: {page}")
    assert (docs / "meetings/2021-08-10.md").read_text(encoding="utf-8") == original


def test_force_keeps_an_answered_qna_page_except_the_quoted_part(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    assert kb("import-notion", SEED, "--docs", docs).returncode == 0
    q3 = docs / "qna/2021-08-10-q3.md"
    head, quoted, rest = re.match(r"(?s)(.*?)(## 질문\n.*?)(## 정리된 답\n.*)", q3.read_text(encoding="utf-8")).groups()
    answered = head.replace("status: open", "status: answered") + quoted.replace("> Q3.", "> 손으로 바꾼 인용 Q3.") + (
        "## 정리된 답\n\nAdagrad는 누적 제곱합으로 나눕니다.\n"
    )
    q3.write_text(answered, encoding="utf-8")
    result = kb("import-notion", SEED, "--docs", docs, "--force")
    assert result.returncode == 0, result.stderr
    expected = head.replace("status: open", "status: answered") + quoted + "## 정리된 답\n\nAdagrad는 누적 제곱합으로 나눕니다.\n"
    assert q3.read_text(encoding="utf-8") == expected  # quote restored from the export, answer untouched


def test_dry_run_writes_nothing(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    result = kb("import-notion", SEED, "--docs", docs, "--dry-run")
    assert result.returncode == 0
    assert "meetings/2021-08-10.md (새 파일)" in result.stdout
    assert snapshot(docs) == {}


def test_slug_option_names_the_qna_pages(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    result = kb("import-notion", SEED, "--docs", docs, "--slug", "Q1=module-modules", "--slug", "Q4=momentum-vs-nag")
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in (docs / "qna").glob("*.md"))
    assert names == ["2021-08-10-q2.md", "2021-08-10-q3.md", "2021-08-10-q5.md", "module-modules.md", "momentum-vs-nag.md"]
    assert "](../qna/module-modules.md)" in body(docs / "meetings/2021-08-10.md")


@pytest.mark.parametrize("slug", ["Q1=모듈", "Q1=Has_Caps", "module-modules", "Q1="])
def test_bad_slug_option_is_a_usage_error(tmp_path, slug):
    result = kb("import-notion", SEED, "--docs", tmp_path, "--slug", slug)
    assert result.returncode == 2
    assert "--slug" in result.stderr


def test_slug_for_a_question_not_in_the_export_is_refused(tmp_path):
    result = kb("import-notion", SEED, "--docs", tmp_path, "--slug", "Q9=nine")
    assert result.returncode == 1
    assert "Q9" in result.stderr
    assert snapshot(tmp_path) == {}


ADAGRAD = "---\ntitle: Adagrad\nqid: Q3\nstatus: answered\ntags: [Adagrad]\nmeeting: meetings/2021-08-10.md\nrelated: []\n---\n\n"


def test_question_that_already_has_a_qna_page_is_not_duplicated(tmp_path):
    docs = tmp_path / "docs"
    (docs / "qna").mkdir(parents=True)
    answer = "## 정리된 답\n\n손으로 쓴 답.\n"
    (docs / "qna/adagrad.md").write_text(ADAGRAD + "## 질문\n\n옛 인용\n\n" + answer, encoding="utf-8")
    result = kb("import-notion", SEED, "--docs", docs)
    assert result.returncode == 0, result.stderr
    assert not (docs / "qna/2021-08-10-q3.md").exists()
    assert "](../qna/adagrad.md)" in body(docs / "meetings/2021-08-10.md")
    text = (docs / "qna/adagrad.md").read_text(encoding="utf-8")
    assert text.startswith(ADAGRAD + "## 질문\n\n> Q3. ") and text.endswith("\n" + answer)
    assert "옛 인용" not in text


def test_existing_qna_page_without_the_quoted_part_is_a_conflict(tmp_path):
    docs = tmp_path / "docs"
    (docs / "qna").mkdir(parents=True)
    (docs / "qna/adagrad.md").write_text(ADAGRAD + "본문\n", encoding="utf-8")
    before = snapshot(docs)
    result = kb("import-notion", SEED, "--docs", docs)
    assert result.returncode == 1
    assert "docs/qna/adagrad.md: '## 질문'부터 '## 정리된 답'까지" in result.stderr
    assert "아무것도 쓰지 않았습니다" in result.stderr
    assert snapshot(docs) == before


def test_slug_option_that_would_duplicate_an_existing_qna_page_is_refused(tmp_path):
    docs = tmp_path / "docs"
    (docs / "qna").mkdir(parents=True)
    (docs / "qna/adagrad.md").write_text(ADAGRAD + "본문\n", encoding="utf-8")
    before = snapshot(docs)
    result = kb("import-notion", SEED, "--docs", docs, "--slug", "Q3=another")
    assert result.returncode == 1
    assert "--slug Q3=adagrad" in result.stderr
    assert snapshot(docs) == before


def test_date_option_overrides_the_title(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    assert kb("import-notion", SEED, "--docs", docs, "--date", "2021-08-11").returncode == 0
    assert front_matter(docs / "meetings/2021-08-11.md")["date"] == dt.date(2021, 8, 11)
    assert front_matter(docs / "qna/2021-08-11-q1.md")["meeting"] == "meetings/2021-08-11.md"
