"""`python -m kb import-notion`: the seed export becomes a meeting page and five Q&A pages.

Imported once (the module fixture ``imported``) and checked end to end: front matter, links between
the meeting and its Q&A pages, nothing lost, tables, links, headings, code and math, the glossary
check, the nothing-lost check itself, and agreement with the published docs/meetings/2021-08-10.md.
Expected values are read off the export by eye (tests/fixtures/2021-08-10-meeting-notion-export.md),
not taken from the importer's output.

Elsewhere: re-importing and the options (tests/test_notion_overwrite.py), malformed and odd exports
(tests/test_notion_malformed.py), script in the notes (tests/test_notion_safety.py), dates
(tests/test_notion_units.py), a failed write (tests/test_notion_writeout.py).
"""

from __future__ import annotations

import datetime as dt
import html
import re
import shutil
import subprocess
from pathlib import Path

import markdown
import pytest

from conftest import DOCS
from notion_cli import kb_main
from notion_seed import SEED, SEED_TEXT, body, front_matter, make_export
from kb import notion
from kb.frontmatter import load_docs

pytestmark = pytest.mark.xdist_group("test_import_notion")  # its module fixture once, on one worker (pytest.ini)

KST = dt.timezone(dt.timedelta(hours=9))
QIDS = ["Q1", "Q2", "Q3", "Q4", "Q5"]

kb = kb_main  # kb.cli.main in this process (tests/test_cli.py runs the real entry point)


def letters(text: str) -> str:
    """This test's own normalization: tags removed (their text kept), letters and digits only."""
    text = html.unescape(re.sub(r"</?[A-Za-z][\w-]*(?:\s[^<>]*)?/?>", "", text))
    return "".join(ch for ch in text if ch.isalnum())


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """The seed imported once into a docs folder that has only the real glossary."""
    docs = tmp_path_factory.mktemp("imported") / "docs"
    docs.mkdir()
    shutil.copy(DOCS / "glossary.md", docs / "glossary.md")
    result = kb("import-notion", SEED, "--docs", docs)
    assert result.returncode == 0, result.stderr
    return docs, result


# --- the seed ---------------------------------------------------------------------------


def test_meeting_front_matter_holds_the_export_properties(imported):
    docs, _ = imported
    meta = front_matter(docs / "meetings/2021-08-10.md")
    assert meta == {
        "title": "8/10(화) 회의록",
        "date": dt.date(2021, 8, 10),  # 8/10 from the title, 2021 from 작성일시
        "created": dt.datetime(2021, 8, 6, 17, 57, tzinfo=KST),  # @2021년 8월 6일 오후 5:57
        "author": "이하람",  # <span>하람</span> 이하람: avatar label + name
        "attendees": [],  # 👥 참석자 is empty
        "updated": dt.datetime(2021, 8, 17, 14, 0, tzinfo=KST),  # @2021년 8월 17일 오후 2:00
        "meeting_type": "일일 회의",
        "tags": ["회의록"],
        "source": "Notion export (2021-08-10-meeting-notion-export.md)",
    }
    text = (docs / "meetings/2021-08-10.md").read_text(encoding="utf-8")
    assert "created: 2021-08-06T17:57:00+09:00\n" in text and "updated: 2021-08-17T14:00:00+09:00\n" in text


def test_five_open_qna_pages_one_per_question(imported):
    docs, _ = imported
    pages = sorted((docs / "qna").glob("*.md"))
    assert [p.name for p in pages] == [f"2021-08-10-q{i}.md" for i in range(1, 6)]
    for qid, page in zip(QIDS, pages):
        meta = front_matter(page)
        assert meta["qid"] == qid
        assert meta["status"] == "open"
        assert meta["meeting"] == "meetings/2021-08-10.md"
        assert meta["related"] == []
        assert meta["title"].startswith(f"{qid}. ")
        assert meta["tags"] and all(isinstance(t, str) and t.strip() for t in meta["tags"])
    assert front_matter(docs / "qna/2021-08-10-q5.md")["title"] == "Q5. Bagging 과 Ensemble의 차이"
    assert front_matter(docs / "qna/2021-08-10-q4.md")["title"] == "Q4. 24:37 강의 설명중에서 (momentum 과 NAG 비교)"
    # tags come from the glossary's Korean terms of the question's English terms
    assert front_matter(docs / "qna/2021-08-10-q5.md")["tags"] == ["배깅", "앙상블"]
    assert front_matter(docs / "qna/2021-08-10-q1.md")["tags"] == ["미분류"]


def test_meeting_and_qna_pages_link_to_each_other(imported):
    docs, _ = imported
    meeting = body(docs / "meetings/2021-08-10.md")
    for qid in QIDS:
        n = qid[1:]
        assert f"](../qna/2021-08-10-q{n}.md)" in meeting
        assert re.search(rf"^#+ {qid}\. .* \{{ #q{n} \}}$", meeting, re.M), f"no anchored heading for {qid}"
        qna = body(docs / f"qna/2021-08-10-q{n}.md")
        assert f"](../meetings/2021-08-10.md#q{n})" in qna


def test_every_nonempty_export_line_is_in_the_output(imported):
    docs, _ = imported
    lines = SEED.read_text(encoding="utf-8").splitlines()
    props_end = next(i for i, line in enumerate(lines) if line.startswith("📌"))
    meeting = letters(body(docs / "meetings/2021-08-10.md"))
    missing = [
        (n, line) for n, line in enumerate(lines, 1) if n > props_end + 1 and letters(line) not in meeting
    ]
    assert missing == []
    # the title and properties are in the front matter (checked value by value above)
    assert front_matter(docs / "meetings/2021-08-10.md")["title"] == lines[4].removeprefix("# ")


def test_each_qna_page_quotes_its_question_and_the_notes_under_it(imported):
    docs, _ = imported
    lines = SEED.read_text(encoding="utf-8").splitlines()
    q1 = letters(body(docs / "qna/2021-08-10-q1.md"))
    assert letters(lines[16]) in q1  # "Q1. 토치 익숙하신분, ..."
    assert letters("self.init_param() # initialize parameters") in q1  # the code under it
    assert letters(lines[50]) in q1  # "를 호출하면 \_\_init\_\_에서 ..." (the last answer line)
    assert letters("Q2.") not in q1
    q2 = body(docs / "qna/2021-08-10-q2.md")
    assert "| 학습 과정에서 참조할 수 있는가? | O | O | X |" in q2
    q4 = letters(body(docs / "qna/2021-08-10-q4.md"))
    assert letters("x_{n+1} := x_n - \\alpha \\cdot a_{n+1}") in q4
    assert letters("Bagging이 ensemble기법") not in q4


def test_output_validates_with_kb_frontmatter(imported):
    docs, _ = imported
    pages, problems = load_docs(docs)
    assert problems == []
    assert {p for p in pages if p != "glossary.md"} == {"meetings/2021-08-10.md"} | {
        f"qna/2021-08-10-q{i}.md" for i in range(1, 6)
    }


def test_tab_table_becomes_a_markdown_table(imported):
    docs, _ = imported
    meeting = body(docs / "meetings/2021-08-10.md")
    assert (
        "|  | Training dataset | Validation dataset | Test dataset |\n"
        "|---|---|---|---|\n"
        "| 학습 과정에서 참조할 수 있는가? | O | O | X |\n"
        "| 모델의 인자값 (가중치) 설정에 이용되는가? | O | X | X |\n"
        "| 모델의 성능 평가에 이용되는가? | X | O | O |\n"
    ) in meeting


def test_notion_escapes_in_urls_become_working_links(imported):
    docs, _ = imported
    meeting = body(docs / "meetings/2021-08-10.md")
    assert "\\\\_" not in meeting
    assert "[https://www.youtube.com/watch?v=3\\_qGrmD6iQY](https://www.youtube.com/watch?v=3_qGrmD6iQY)" in meeting
    rendered = markdown.markdown(meeting)
    assert '<a href="https://www.youtube.com/watch?v=3_qGrmD6iQY">https://www.youtube.com/watch?v=3_qGrmD6iQY</a>' in rendered
    assert (
        '<a href="https://github.com/KimDaeUng/PLM-Implementation/tree/main/01_Vanilla-Transformer">'
        "https://github.com/KimDaeUng/PLM-Implementation/tree/main/01_Vanilla-Transformer</a>"
    ) in rendered


def test_escaped_underscore_in_autolink_is_unescaped(tmp_path):
    src = tmp_path / "e.md"
    src.write_text(make_export("Q1. 링크?\n\n<https://example.org/a\\_b\\_c>\n"), encoding="utf-8")
    docs = tmp_path / "docs"
    docs.mkdir()
    assert kb("import-notion", src, "--docs", docs).returncode == 0
    text = body(docs / "meetings/2021-08-10.md")
    assert "<https://example.org/a_b_c>" in text
    assert 'href="https://example.org/a_b_c"' in markdown.markdown(text)


def test_empty_headings_are_kept_with_a_note(imported):
    docs, _ = imported
    meeting = body(docs / "meetings/2021-08-10.md")
    note = '!!! note "원본에서 비어 있던 제목"'
    for heading in ("Momentum", "Nesterov"):
        m = re.search(rf"^(#+) {heading}\n\n(.*)$", meeting, re.M)
        assert m, heading
        assert len(m.group(1)) == 5  # below "#### Q4." whose answer they are part of
        assert m.group(2) == note
    assert meeting.count(note) == 2  # "## 2. CNN 논문 리뷰" has sub-headings: not empty


def test_quoted_code_keeps_its_text_and_is_marked_as_not_runnable(imported):
    docs, _ = imported
    meeting = body(docs / "meetings/2021-08-10.md")
    marker = '<!--pytest.mark.skip(reason="fragment quoted from the meeting notes")-->\n```python\nprev_dim = 1024\n'
    assert marker in meeting
    seed_code = SEED.read_text(encoding="utf-8").split("```\n", 2)[1]
    assert seed_code in meeting


def test_display_math_is_kept_as_written(imported):
    docs, _ = imported
    meeting = body(docs / "meetings/2021-08-10.md")
    assert "\n$$W_{t+1} = W_t - \\frac{\\eta}{\\sqrt{G_t} + \\epsilon} g_t$$\n" in meeting
    assert "\n$$x_{n+1} := x_n - \\alpha \\cdot a_{n+1}$$\n" in meeting


def test_glossary_check_lists_terms_missing_from_the_glossary(imported):
    _, result = imported
    glossary = [line for line in result.stderr.splitlines() if "용어집" in line]
    assert len(glossary) == 1, glossary  # one line: term(line행), ...
    listed = {(n, t) for t, n in re.findall(r"([\w-]+)\((\d+)행\)", glossary[0])}
    terms = {t for _, t in listed}
    # in docs/glossary.md: not listed
    for term in ("Adagrad", "momentum", "NAG", "Bagging", "Ensemble", "cross-validation", "hyperparameter"):
        assert term not in terms
    # not in it: listed with the export line they first appear on
    assert ("85", "slope") in listed
    assert ("17", "iterable") in listed
    assert "용어집" in result.stderr


def test_missing_glossary_is_reported_not_fatal(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    result = kb("import-notion", SEED, "--docs", docs)
    assert result.returncode == 0
    assert f"용어집 {docs}/glossary.md이(가) 없어" in result.stderr
    assert "momentum(81행)" in result.stderr  # the first ten terms are named, by line


# --- the nothing-lost check itself ------------------------------------------------------


def convert_seed(tmp_path):
    plan = notion.prepare(SEED, "seed.md", tmp_path)
    return plan.results[0]


def test_a_lost_line_stops_the_import(tmp_path):
    result = convert_seed(tmp_path)  # prepare() ran verify_complete on the real output: it passed
    meeting = result.files["meetings/2021-08-10.md"]
    result.files["meetings/2021-08-10.md"] = meeting.replace("2d-conv2d.\n", "")
    with pytest.raises(notion.ConversionBug, match=r"seed\.md:123: 문단 \(123번째 줄\)이 회의록 페이지에 없습니다: '2d-conv2d\.'"):
        notion.verify_complete(result)
    swapped = meeting.replace("Sum of gradient squares", "").replace("for numerical stability", "Sum of gradient squares")
    result.files["meetings/2021-08-10.md"] = swapped
    with pytest.raises(notion.ConversionBug, match=r"seed\.md:75: "):
        notion.verify_complete(result)


# --- the built site and the published page ----------------------------------------------


# The strict build right after importing the seed: tests/test_notion_fixtures.py (one build for all imports).


PUBLISHED = DOCS / "meetings/2021-08-10.md"


@pytest.mark.skipif(not PUBLISHED.exists(), reason="docs/meetings/2021-08-10.md is not written yet")
def test_import_agrees_with_the_published_meeting_page(imported):
    docs, _ = imported
    mine, published = front_matter(docs / "meetings/2021-08-10.md"), front_matter(PUBLISHED)
    for key in ("title", "date", "created", "updated", "author", "attendees", "meeting_type", "tags", "source"):
        assert mine[key] == published[key], key
    published_text = letters(body(PUBLISHED))
    export = notion.parse(SEED_TEXT, "seed.md", "seed.md")
    questions = [b for b in export.blocks if b.kind == "question"]
    assert [b.qid for b in questions] == QIDS
    for b in questions:
        assert letters(b.text) in published_text, b.qid
