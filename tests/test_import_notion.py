"""`python -m kb import-notion`: the seed export becomes a meeting page and five Q&A pages.

Expected values are read off the export by eye (tests/fixtures/2021-08-10-meeting-notion-export.md),
not taken from the importer's output. Malformed exports are made in tmp_path by each test.
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
import yaml

from conftest import DOCS, ROOT
from notion_cli import kb_main, snapshot
from kb import notion
from kb.frontmatter import load_docs

pytestmark = pytest.mark.xdist_group("test_import_notion")  # its module fixture once, on one worker (pytest.ini)

SEED = ROOT / "tests/fixtures/2021-08-10-meeting-notion-export.md"
KST = dt.timezone(dt.timedelta(hours=9))
QIDS = ["Q1", "Q2", "Q3", "Q4", "Q5"]

PROPS = (
    "🕒 작성일시\t@2021년 8월 6일 오후 5:57\n"
    "👤 작성자\t<span>하람</span> 이하람\n"
    "👥 참석자\t\n"
    "🕒 최종 편집일시\t@2021년 8월 17일 오후 2:00\n"
    "📌 회의 유형\t일일 회의\n"
)


def make_export(body: str, props: str = PROPS, title: str = "# 8/10(화) 회의록") -> str:
    """Title on line 1, properties on lines 3-7, body from line 9."""
    return f"{title}\n\n{props}\n{body}"


kb = kb_main  # kb.cli.main in this process (tests/test_cli.py runs the real entry point)



def front_matter(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("\n---\n", 1)[0][4:])


def body(path: Path) -> str:
    return path.read_text(encoding="utf-8").split("\n---\n", 1)[1]


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


# --- overwriting ------------------------------------------------------------------------


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


# --- malformed input --------------------------------------------------------------------

SEED_TEXT = SEED.read_text(encoding="utf-8")
MALFORMED = {
    # name: (file content, expected message parts)
    "no-year-for-the-title-date": (
        "# 8/10(화) 회의록\n\nQ1. 질문?\n",
        [":1: ", "회의 날짜를 정할 수 없습니다", "연도를 알 수 없습니다", "--date"],
    ),
    "unparseable-date": (
        make_export("Q1. 질문?\n", props=PROPS.replace("@2021년 8월 17일 오후 2:00", "@지난 화요일 오후")),
        [":6: ", "날짜를 읽을 수 없습니다", "@지난 화요일 오후"],
    ),
    "impossible-date": (
        make_export("Q1. 질문?\n", props=PROPS.replace("8월 6일", "2월 30일")),
        [":3: ", "없는 날짜"],
    ),
    "broken-table": (
        make_export("Q1. 표\n\n\tA\tB\n행1\tO\tX\n행2\tO\n"),
        [":13: ", "표가 깨졌습니다", "칸이 2개", "머리줄(11번 줄)은 3개"],
    ),
    "unclosed-code-fence": (
        make_export("Q1. 코드\n\n```python\nprint(1)\n\n다음 줄\n"),
        [":11: ", "코드 블록(```)이 열린 뒤 닫히지 않았습니다"],
    ),
    "unclosed-math": (
        make_export("Q1. 수식\n\n$$\na + b\n\n끝\n"),
        [":11: ", "수식($$)이 열린 뒤 닫히지 않았습니다"],
    ),
    "empty-file": ("", ["빈 파일입니다"]),
    "whitespace-only": ("\n  \n\t\n", ["빈 파일입니다"]),
    "no-title": (PROPS + "\nQ1. 질문?\n", [":1: ", "제목"]),
    "duplicate-question": (
        make_export("Q1. 하나\n\nQ1. 둘\n"),
        [":11: ", "질문 번호 Q1가 두 번", "먼저 9번 줄"],
    ),
    "no-date-at-all": (
        "# 정기 회의록\n\nQ1. 질문?\n",
        [":1: ", "회의 날짜를 정할 수 없습니다", "--date"],
    ),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_export_names_the_line_and_writes_nothing(tmp_path, name):
    content, expected = MALFORMED[name]
    src = tmp_path / f"{name}.md"
    src.write_text(content, encoding="utf-8")
    docs = tmp_path / "docs"
    (docs / "meetings").mkdir(parents=True)
    (docs / "meetings/keep.md").write_text("untouched\n", encoding="utf-8")
    before = snapshot(docs)
    result = kb("import-notion", src, "--docs", docs)
    assert result.returncode == 1, result.stderr
    assert f"{src}" in result.stderr
    for part in expected:
        assert part in result.stderr
    assert snapshot(docs) == before


def test_binary_input_is_refused(tmp_path):
    src = tmp_path / "image.md"
    src.write_bytes(b"# 8/10\n\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    docs = tmp_path / "docs"
    docs.mkdir()
    result = kb("import-notion", src, "--docs", docs)
    assert result.returncode == 1
    assert f"{src}:4: " in result.stderr and "NUL 바이트" in result.stderr  # \x89PNG\r\n, \x1a\n, then NUL
    assert snapshot(docs) == {}


def test_file_over_the_size_limit_is_refused_with_the_limit(tmp_path):
    src = tmp_path / "big.md"
    src.write_text(SEED_TEXT + "\n" + ("가나다라마바사 " * 100 + "\n") * 2500, encoding="utf-8")
    assert src.stat().st_size > 5 * 1024 * 1024
    docs = tmp_path / "docs"
    docs.mkdir()
    result = kb("import-notion", src, "--docs", docs)
    assert result.returncode == 1
    assert "파일이 너무 큽니다" in result.stderr and "제한 5 MB" in result.stderr
    assert snapshot(docs) == {}


def test_cp949_file_is_refused_with_the_iconv_command(tmp_path):
    content = make_export("Q1. 질문?\n", props=PROPS.replace("🕒 ", "").replace("👤 ", "").replace("👥 ", "").replace("📌 ", ""))
    src = tmp_path / "euckr.md"
    src.write_bytes(content.encode("cp949"))
    docs = tmp_path / "docs"
    docs.mkdir()
    result = kb("import-notion", src, "--docs", docs)
    assert result.returncode == 1
    assert f"{src}:1: UTF-8이 아닙니다" in result.stderr
    assert "iconv -f cp949 -t utf-8" in result.stderr
    assert snapshot(docs) == {}


def test_missing_export_file_is_a_usage_error(tmp_path):
    result = kb("import-notion", tmp_path / "nope.md", "--docs", tmp_path)
    assert result.returncode == 2
    assert "내보내기 파일이 없습니다" in result.stderr


# --- safety -----------------------------------------------------------------------------

XSS_BODY = """Q1. 안전한가요?

<script>alert("xss")</script>안녕

<a href="https://example.org" onclick="steal()">클릭</a> 그리고 <img src=x onerror="alert(1)">

[눌러 보기](javascript:alert(1)) 와 [이미지](JaVaScRiPt&#58;alert(2))

<javascript:alert(3)> 주소, 그냥 javascript:alert(4) 글

문단 끝 {: onclick="alert(5)" }

<!-- kb:evil -->

--8<-- "/etc/passwd"

<scr<script>ipt>alert(6)</script>
"""


def test_script_event_handlers_and_javascript_urls_never_reach_the_output(tmp_path):
    src = tmp_path / "xss.md"
    src.write_text(make_export(XSS_BODY), encoding="utf-8")
    docs = tmp_path / "docs"
    docs.mkdir()
    result = kb("import-notion", src, "--docs", docs)
    assert result.returncode == 0, result.stderr
    for page in (docs / "meetings/2021-08-10.md", docs / "qna/2021-08-10-q1.md"):
        text = page.read_text(encoding="utf-8")
        lowered = text.lower()
        for bad in ("<script", "onclick=", "onerror=", "javascript:", "<!-- kb:", "<a ", "<img"):
            assert bad not in lowered, (page.name, bad)
        assert '\n;--8<-- "/etc/passwd"\n' in text  # escaped: the build shows it instead of including it
        for kept in ("안녕", "클릭", "그리고", "눌러 보기", "이미지", "주소", "그냥", "문단 끝"):
            assert kept in text, kept
        rendered = markdown.markdown(body(page), extensions=["attr_list", "md_in_html"])
        assert not re.search(r"<script|\son\w+\s*=|javascript:", rendered, re.I), rendered
    assert "경고: xss.md:11: " in result.stderr  # warnings name the page (as in the export) and the line


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


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("@2021년 8월 6일 오후 5:57", dt.datetime(2021, 8, 6, 17, 57, tzinfo=KST)),
        ("@2021년 8월 6일 오전 12:05", dt.datetime(2021, 8, 6, 0, 5, tzinfo=KST)),
        ("@2021년 8월 6일 오후 12:00", dt.datetime(2021, 8, 6, 12, 0, tzinfo=KST)),
        ("@2021년 12월 31일 오전 9:03", dt.datetime(2021, 12, 31, 9, 3, tzinfo=KST)),
    ],
)
def test_korean_12_hour_clock(value, expected):
    assert notion.parse_datetime(value, "x.md", 1).value == expected


def test_january_meeting_written_in_december_gets_the_next_year():
    text = make_export("본문\n", title="# 1/3(월) 회의록", props=PROPS.replace("2021년 8월 6일", "2021년 12월 28일"))
    export = notion.parse(text, "x.md", "x.md")
    assert notion.meeting_date(export) == dt.date(2022, 1, 3)
    assert not [w for w in export.warnings if "요일" in w.text]  # 2022-01-03 is a Monday


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


ODDITIES = """Q1. 이상한 것들

혼자 있는\t탭 줄

#

$$a = b
+ c$$

$$\\frac{1}$$

```bash
echo hi
```

```
not python: (
```
"""


def test_constructs_it_does_not_understand_are_kept_with_a_warning(tmp_path):
    src = tmp_path / "odd.md"
    props = PROPS + "🏷️ 분류\t스터디\n"  # a property the importer does not know (line 8)
    src.write_text(make_export(ODDITIES, props=props), encoding="utf-8")
    docs = tmp_path / "docs"
    docs.mkdir()
    result = kb("import-notion", src, "--docs", docs)
    assert result.returncode == 0, result.stderr
    text = body(docs / "meetings/2021-08-10.md")
    # body lines start at 10 here (one more property line)
    assert "경고: odd.md:8: 모르는 속성 '분류'" in result.stderr and "분류: 스터디" in text
    assert "경고: odd.md:12: 탭으로 나뉜 줄이 하나뿐이라" in result.stderr and "혼자 있는\t탭 줄" in text
    assert "경고: odd.md:14: 글자가 없는 제목 1개를 뺐습니다" in result.stderr and "\n#\n" not in text  # issue 23 item 6(d)
    assert "\n$$\na = b\n+ c\n$$\n" in text  # "$$a ... c$$" rewrapped so the build reads it as display math
    # the build cannot render it: kept as code, so the imported page builds and nothing is lost
    assert "경고: odd.md:19: 이 수식은 빌드에서 렌더링되지 않아 코드 블록으로 옮겼습니다" in result.stderr
    assert "```latex\n$$\\frac{1}$$\n```" in text
    assert "경고: odd.md:21: ```bash 블록을 ```console로" in result.stderr and '```console title="bash"\necho hi\n```' in text
    assert "```text\nnot python: (\n```" in text  # a bare fence that is not Python
    assert "pytest.mark.skip" not in text  # no python block here


def test_a_failed_write_leaves_nothing_behind(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "qna").write_text("a file where the qna/ folder should be\n", encoding="utf-8")
    before = snapshot(docs)
    result = kb("import-notion", SEED, "--docs", docs)
    assert result.returncode == 1
    assert "파일을 쓰지 못했습니다" in result.stderr
    assert snapshot(docs) == before  # the meeting page was written to a temporary file only, now removed
    assert sorted(p.name for p in docs.iterdir()) == ["qna"]  # and meetings/ made for it is gone
