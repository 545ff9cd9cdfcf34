"""Re-importing a meeting whose questions were renumbered (issue #22 item 5): a Q&A page goes with
its question's text, never with its number, so a consolidated answer never moves to another
question. Each export is written here; answers are written into the Q&A pages as members would."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from notion_cli import kb_main as run_kb
from notion_cli import snapshot

HEAD = "# 7/16 스터디 회의록\n\n작성일시: 2021년 7월 16일 오후 3:52\n작성자: 김민지\n회의 유형: 정기 회의\n\n# 질문\n"
BN = "배치 정규화는 왜 학습을 빠르게 하나요?"
LR = "학습률은 어떻게 정하나요?"
NEW = "드롭아웃은 언제 쓰나요?"


def export_text(*questions: str) -> str:
    """Q1, Q2, … in order, each with one line of notes under it (its first word, so notes move along)."""
    body = "".join(f"\nQ{n}. {text}\n\n{text.split()[0]} 이야기를 했습니다.\n" for n, text in enumerate(questions, 1))
    return HEAD + body


def line_of(text: str, needle: str) -> int:
    return text.split("\n").index(needle) + 1


@pytest.fixture
def site(tmp_path):
    """An export of Q1 (batch norm) and Q2 (learning rate) imported, each page answered since."""
    export = tmp_path / "7 16 스터디 회의록 3f1c2a9be07d4c5f8a61b2d3e4f5a6b7.md"
    export.write_text(export_text(BN, LR), encoding="utf-8")
    docs = tmp_path / "docs"
    docs.mkdir()
    result = run_kb("import-notion", export, "--docs", docs)
    assert result.returncode == 0, result.stderr
    answers = {}
    for n, topic in ((1, "배치 정규화"), (2, "학습률")):
        page = docs / f"qna/2021-07-16-q{n}.md"
        answers[n] = f"## 정리된 답\n\n{topic}에 대해 정리한 답 (손으로 씀).\n\n← 출처 회의: [7/16 스터디 회의록 — Q{n}](../meetings/2021-07-16.md#q{n})\n"
        text = page.read_text(encoding="utf-8").replace("status: open", "status: answered")
        page.write_text(text.split("## 정리된 답\n")[0] + answers[n], encoding="utf-8")
    return export, docs, answers


def meta(page: Path) -> dict:
    return yaml.safe_load(page.read_text(encoding="utf-8").split("\n---\n", 1)[0][4:])


def quote(page: Path) -> str:
    return re.search(r"(?m)^## 질문\n\n> (.*)$", page.read_text(encoding="utf-8")).group(1)


def linked_page(meeting: str, qid: str) -> str:
    """The Q&A page the meeting page links under question ``qid``'s heading."""
    section = re.search(rf"(?s)\{{ #{qid.lower()} \}}\n(.*?)→ Q&A 페이지: \[[^\]]*\]\(\.\./qna/([\w-]+)\.md\)", meeting)
    return section.group(2)


def test_a_question_inserted_first_leaves_every_answer_with_its_question(site):
    export, docs, answers = site
    export.write_text(export_text(NEW, BN, LR), encoding="utf-8")
    result = run_kb("import-notion", export, "--docs", docs, "--force")
    assert result.returncode == 0, result.stderr
    bn, lr = docs / "qna/2021-07-16-q1.md", docs / "qna/2021-07-16-q2.md"
    # each answer stays with its question's text; the number follows the new export
    assert quote(bn) == f"Q2. {BN}" and bn.read_text(encoding="utf-8").endswith(answers[1].replace("#q1", "#q2").replace("— Q1", "— Q2"))
    assert quote(lr) == f"Q3. {LR}" and lr.read_text(encoding="utf-8").endswith(answers[2].replace("#q2", "#q3").replace("— Q2", "— Q3"))
    assert (meta(bn)["qid"], meta(bn)["status"], meta(bn)["title"]) == ("Q2", "answered", f"Q2. {BN}")
    assert (meta(lr)["qid"], meta(lr)["status"], meta(lr)["title"]) == ("Q3", "answered", f"Q3. {LR}")
    # the new question gets a page of its own, not one of the answered ones
    new = [p for p in (docs / "qna").glob("*.md") if p not in (bn, lr)]
    assert len(new) == 1 and quote(new[0]) == f"Q1. {NEW}"
    assert (meta(new[0])["qid"], meta(new[0])["status"]) == ("Q1", "open")
    meeting = (docs / "meetings/2021-07-16.md").read_text(encoding="utf-8")
    assert [linked_page(meeting, q) for q in ("Q1", "Q2", "Q3")] == [new[0].stem, bn.stem, lr.stem]
    # and the same export again changes nothing
    after = snapshot(docs)
    again = run_kb("import-notion", export, "--docs", docs, "--force")
    assert again.returncode == 0, again.stderr
    assert snapshot(docs) == after and "+++" not in again.stdout


def test_a_typo_fixed_question_keeps_its_page_while_the_others_are_renumbered(site):
    export, docs, answers = site
    fixed = BN.replace("빠르게", "더 빠르게")
    export.write_text(export_text(fixed, NEW, LR), encoding="utf-8")
    result = run_kb("import-notion", export, "--docs", docs, "--force")
    assert result.returncode == 0, result.stderr
    bn, lr = docs / "qna/2021-07-16-q1.md", docs / "qna/2021-07-16-q2.md"
    assert quote(bn) == f"Q1. {fixed}" and bn.read_text(encoding="utf-8").endswith(answers[1])
    assert quote(lr) == f"Q3. {LR}" and meta(lr)["qid"] == "Q3"
    assert "학습률에 대해 정리한 답" in lr.read_text(encoding="utf-8")
    meeting = (docs / "meetings/2021-07-16.md").read_text(encoding="utf-8")
    assert linked_page(meeting, "Q1") == bn.stem and linked_page(meeting, "Q3") == lr.stem
    assert linked_page(meeting, "Q2") not in (bn.stem, lr.stem)


def test_a_question_edited_and_renumbered_is_refused_naming_the_page_and_the_line(site):
    export, docs, _ = site
    edited = LR.replace("정하나요", "정하나여")
    text = export_text(NEW, BN, edited)
    export.write_text(text, encoding="utf-8")
    before = snapshot(docs)
    result = run_kb("import-notion", export, "--docs", docs, "--force")
    assert result.returncode == 1
    assert f"{export}:{line_of(text, f'Q3. {edited}')}: 질문 Q3 'Q3. {edited}'" in result.stderr
    assert "번호(Q2 -> Q3)와 글이 함께 바뀌어" in result.stderr
    assert f"docs/qna/2021-07-16-q2.md:12 (Q2 'Q2. {LR}')" in result.stderr
    assert "아무것도 쓰지 않았습니다" in result.stderr and "Traceback" not in result.stderr
    assert snapshot(docs) == before


def test_a_question_like_two_pages_is_refused_naming_both(tmp_path):
    export = tmp_path / "7 16 회의록.md"
    export.write_text(export_text("Adam의 학습률은 어떻게 정하나요?", "AdamW의 학습률은 어떻게 정하나요?"), encoding="utf-8")
    docs = tmp_path / "docs"
    docs.mkdir()
    assert run_kb("import-notion", export, "--docs", docs).returncode == 0
    text = export_text("Adam W의 학습률은 어떻게 정하나요?", NEW)
    export.write_text(text, encoding="utf-8")
    before = snapshot(docs)
    result = run_kb("import-notion", export, "--docs", docs, "--force")
    assert result.returncode == 1
    assert f"{export}:{line_of(text, 'Q1. Adam W의 학습률은 어떻게 정하나요?')}: 질문 Q1" in result.stderr
    assert "비슷한 Q&A 페이지가 여럿입니다" in result.stderr
    assert "docs/qna/2021-07-16-q1.md:12 (Q1 'Q1. Adam의 학습률은 어떻게 정하나요?')" in result.stderr
    assert "docs/qna/2021-07-16-q2.md:12 (Q2 'Q2. AdamW의 학습률은 어떻게 정하나요?')" in result.stderr
    assert snapshot(docs) == before


def test_a_question_rewritten_under_the_same_number_does_not_take_its_page(site):
    export, docs, _ = site
    export.write_text(export_text(BN, NEW), encoding="utf-8")
    before = snapshot(docs)
    result = run_kb("import-notion", export, "--docs", docs, "--force")
    assert result.returncode == 1
    assert "docs/qna/2021-07-16-q2.md: meetings/2021-07-16.md의 Q2에 대한 Q&A 페이지(status: answered)가 있는데" in result.stderr
    assert f"이 질문 'Q2. {LR}'이 없습니다" in result.stderr
    assert snapshot(docs) == before


def test_slug_option_names_the_page_of_a_question_that_cannot_be_matched_alone(site):
    export, docs, answers = site
    edited = LR.replace("정하나요", "정하나여")
    export.write_text(export_text(NEW, BN, edited), encoding="utf-8")
    result = run_kb("import-notion", export, "--docs", docs, "--force", "--slug", "Q3=2021-07-16-q2")
    assert result.returncode == 0, result.stderr
    lr = docs / "qna/2021-07-16-q2.md"
    assert quote(lr) == f"Q3. {edited}" and meta(lr)["qid"] == "Q3"
    assert lr.read_text(encoding="utf-8").endswith(answers[2].replace("#q2", "#q3").replace("— Q2", "— Q3"))
    assert quote(docs / "qna/2021-07-16-q1.md") == f"Q2. {BN}"


def test_slug_option_for_a_second_page_of_a_matched_question_is_refused(site):
    export, docs, _ = site
    export.write_text(export_text(NEW, BN, LR), encoding="utf-8")
    before = snapshot(docs)
    result = run_kb("import-notion", export, "--docs", docs, "--force", "--slug", "Q2=batch-norm")
    assert result.returncode == 1
    assert "Q2: 이 질문의 Q&A 페이지가 이미 docs/qna/2021-07-16-q1.md에 있습니다 (--slug Q2=2021-07-16-q1)" in result.stderr
    assert snapshot(docs) == before
