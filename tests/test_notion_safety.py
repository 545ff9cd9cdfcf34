"""Imported notes never carry script into the site nor code into the build.

Titles and properties: entities are decoded once and markup removed (the line is named), so
``&lt;script&gt;`` is neither markup nor shown as a script tag. Prose: real markup is reduced by
nh3, text that only looks like markup is kept. Code: every fence Markdown treats as Python gets the
skip marker. The rendered-HTML check (kb.notion.verify.verify_safe) is shown to catch what the
cleaner would miss. An export full of script, event handlers, ``javascript:`` links and a snippet
include imports with all of them gone or escaped and their text kept.
"""

from __future__ import annotations

import re
from pathlib import Path

import markdown
import pytest
import yaml

from notion_cli import kb_main as run_kb
from notion_seed import body, make_export
from kb import notion
from kb.safety import markup_in

PAGE = "3 26 회의록 0123456789abcdef0123456789abcdef.md"


def write_page(tmp_path: Path, text: str) -> Path:
    src = tmp_path / "export" / PAGE
    src.parent.mkdir(exist_ok=True)
    src.write_text(text, encoding="utf-8")
    return src


def front_matter(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8").split("\n---\n", 1)[0][4:])


HOSTILE = """# 3/26 회의록 &lt;script&gt;alert(450)&lt;/script&gt;

작성일시: 2021년 3월 26일 오후 3:00
작성자: <img src=x onerror=alert(1)>김민지
참석자: 박서준, &lt;b onmouseover=alert(2)&gt;이하람&lt;/b&gt;
회의 유형: 정기 <script>alert(3)</script>회의
태그: CNN, <svg onload=alert(4)>

Q1. <a href="javascript:alert(5)">눌러</a> 보세요?

본문 <iframe src="https://evil.example"></iframe>끝 [링크](javascript:alert(6)) <b onclick="x()">굵게</b>
"""


def test_markup_in_title_and_properties_is_removed_and_named(tmp_path):
    src = write_page(tmp_path, HOSTILE)
    docs = tmp_path / "docs"
    docs.mkdir()
    result = run_kb("import-notion", src, "--docs", docs)
    assert result.returncode == 0, result.stderr
    meta = front_matter(docs / "meetings/2021-03-26.md")
    assert meta["title"] == "3/26 회의록"  # the script element went with its content
    assert meta["author"] == "김민지"
    assert meta["attendees"] == ["박서준", "이하람"]
    assert meta["meeting_type"] == "정기 회의"
    assert meta["tags"] == ["회의록", "CNN"]
    for line in (1, 4, 5, 6, 7):
        assert f"경고: 3 26 회의록.md:{line}: " in result.stderr and "HTML이 있어 태그를 지우고" in result.stderr, line
    for page in [docs / "meetings/2021-03-26.md", *(docs / "qna").glob("*.md")]:
        text = page.read_text(encoding="utf-8").lower()
        for bad in ("<script", "&lt;script", "onerror", "onmouseover", "onload", "onclick", "javascript:", "<iframe", "<svg", "<img"):
            assert bad not in text, (page.name, bad)
    body = (docs / "meetings/2021-03-26.md").read_text(encoding="utf-8")
    assert "<b>굵게</b>" in body and "눌러 보세요" in body and "본문 끝 링크" in body


@pytest.mark.parametrize(
    "title",
    [
        "&lt;script&gt;alert(450)&lt;/script&gt;",
        "&amp;lt;script&amp;gt;alert(451)&amp;lt;/script&amp;gt;",
        "&LT;SCRIPT&GT;alert(452)&LT;/SCRIPT&GT;",
        "<ScRiPt>alert(453)</sCrIpT>",
        '"><img src=x onerror=alert(454)>',
        "[눌러](javascript:alert(455))",
        "javascript:alert(456)",
        "{: onclick=alert(457) }",
    ],
)
def test_hostile_titles_import_without_markup(tmp_path, title):
    src = write_page(tmp_path, f"# 3/26 회의록 {title}\n\n작성일시: 2021년 3월 26일 오후 3:00\n\nQ1. 질문?\n")
    docs = tmp_path / "docs"
    docs.mkdir()
    result = run_kb("import-notion", src, "--docs", docs)
    assert result.returncode == 0, result.stderr
    if not title.startswith("["):  # a Markdown link in a title is reduced to its text, as in a heading
        assert "경고: 3 26 회의록.md:1: 제목에 HTML이 있어" in result.stderr
    for page in (docs / "meetings/2021-03-26.md", docs / "qna/2021-03-26-q1.md"):
        meta = front_matter(page)
        for key, value in meta.items():
            assert markup_in(str(value)) is None, (page.name, key, value)
        assert "alert(" not in str(meta)


def test_text_that_looks_like_markup_stays_text():
    warnings = notion.Warnings()
    cleaner = notion.clean.Cleaner("x.md", warnings, lambda url, image, line: url)
    assert cleaner.clean("List<Student>와 Map<K, V>", 1) == "List&lt;Student>와 Map&lt;K, V>"
    assert cleaner.clean("a < b 이고 <redacted> 처리", 2) == "a < b 이고 &lt;redacted> 처리"
    assert cleaner.clean("주석처럼 <!-- kb:meetings --> 보임", 3) == "주석처럼 &lt;!-- kb:meetings --> 보임"
    assert cleaner.clean("<script>alert(1)</script>안녕 <b>굵게</b>", 4) == "안녕 <b>굵게</b>"


@pytest.mark.parametrize(
    "info", ["python", "py", "py3", "python3", "{.python}", "{ .py3 }", 'python title="x.py"', '{.python title="x.py"}', "ipython3"]
)
def test_every_python_fence_is_marked_not_to_run(tmp_path, info):
    src = write_page(tmp_path, f"# 3/26 회의록\n\n작성일시: 2021년 3월 26일 오후 3:00\n\n```{info}\nopen('/tmp/pwned', 'w')\n```\n")
    docs = tmp_path / "docs"
    docs.mkdir()
    result = run_kb("import-notion", src, "--docs", docs)
    assert result.returncode == 0, result.stderr
    body = (docs / "meetings/2021-03-26.md").read_text(encoding="utf-8")
    m = re.search(r"(?m)^(.*)\n```python( title=\"x\.py\")?\nopen\(", body)
    assert m and m.group(1) == notion.SKIP_MARKER, body
    assert body.count("```") == 2  # the one block, normalised; no other form left for the build


@pytest.mark.parametrize("info", ["java", "sql", "c", "text", "console"])
def test_other_code_keeps_its_language_and_no_marker(info):
    assert notion.python_fence(info)[0] == info


def test_rendered_html_check_catches_what_the_cleaner_missed(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    good = "---\ntitle: t\n---\n\n본문\n"
    notion.verify_safe(docs, {"x.md": good})  # passes
    for bad in ('<img src="x" onerror="alert(1)">', "<script>alert(1)</script>", "[x](javascript:alert(1))"):
        with pytest.raises(notion.ConversionBug, match=r"docs/x\.md: "):
            notion.verify_safe(docs, {"x.md": good + bad + "\n"})


def test_generated_lists_are_checked_too(tmp_path, monkeypatch):
    """The check renders every page as the build does, generated lists included: with a list
    builder that wrote titles unescaped, the meetings index is where the script shows up."""
    from kb.notion import verify

    class UnescapedLists(verify.Site):
        def expand_markers(self, src, markdown):
            return markdown.replace("<!-- kb:meetings -->", "\n".join(p.meta["title"] for p in self.meetings()))

    monkeypatch.setattr(verify, "Site", UnescapedLists)
    docs = tmp_path / "docs"
    (docs / "meetings").mkdir(parents=True)
    (docs / "meetings/index.md").write_text("# 회의록\n\n<!-- kb:meetings -->\n", encoding="utf-8")
    page = (
        "---\ntitle: '<img src=x onerror=alert(1)>'\ndate: 2021-03-26\ncreated: 2021-03-26T15:00:00+09:00\n"
        "author: a\nattendees: []\nupdated: 2021-03-26T15:00:00+09:00\nmeeting_type: b\ntags: [회의록]\n---\n\n본문\n"
    )
    with pytest.raises(notion.ConversionBug, match=r"docs/meetings/index\.md: onerror= attribute on <img>"):
        notion.verify_safe(docs, {"meetings/2021-03-26.md": page})


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
    result = run_kb("import-notion", src, "--docs", docs)
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
