"""Bad input fails the strict build with the file (and line or field) named.

What stops the build in each case is ``kb check``: the plugin's on_files runs :func:`kb.check.check`
and fails the build with its problems, one per line. So each case breaks one page in a copy of
docs/ and asks ``check`` in this process; tests/test_rules.py builds a broken copy for real and
shows that the strict build stops with every line ``check`` gives. The last test builds for real:
pages made by ``kb new`` appear in the navigation with no edit.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import DOCS, ROOT
from kb.check import check


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    """A copy of docs/ to break, checked against this project's mkdocs.yml and snippets."""
    return shutil.copytree(DOCS, tmp_path / "docs")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def refused(docs: Path, root: Path = ROOT) -> str:
    """The problems that stop the build, as its error lists them (``str`` of each, one a line)."""
    problems, _ = check(docs, root)
    assert problems, "kb check, and so the build, should have refused these pages"
    return "\n".join(str(p) for p in problems)


def test_missing_required_field_names_file_and_field(docs):
    edit(docs / "qna/adagrad.md", "status: answered\n", "")
    out = refused(docs)
    assert "docs/qna/adagrad.md" in out and "missing required front matter field 'status'" in out


def test_invalid_field_value_names_file_line_and_field(docs):
    edit(docs / "qna/adagrad.md", "status: answered", "status: maybe")
    out = refused(docs)
    assert "docs/qna/adagrad.md:5: field 'status' must be one of: answered, open" in out


def test_malformed_yaml_names_file_and_line(docs):
    edit(docs / "qna/adagrad.md", "tags: [옵티마이저, Adagrad, 학습률]", "tags: [옵티마이저, Adagrad")
    out = refused(docs)
    assert "docs/qna/adagrad.md:" in out and "front matter is not valid YAML" in out


def test_unclosed_front_matter_is_reported(docs):
    page = docs / "qna/adagrad.md"
    page.write_text(page.read_text(encoding="utf-8").replace("\n---\n", "\n\n", 1), encoding="utf-8")
    out = refused(docs)
    assert "docs/qna/adagrad.md:1: front matter opened with '---' is never closed" in out


def test_reference_to_missing_page_is_reported(docs):
    edit(docs / "qna/adagrad.md", "related: [qna/momentum-vs-nag.md]", "related: [qna/nope.md]")
    out = refused(docs)
    assert "docs/qna/adagrad.md:8: field 'related' names 'qna/nope.md'" in out


def test_dangling_link_names_file_and_target(docs):
    edit(docs / "qna/adagrad.md", "## 질문\n", "## 질문\n\n[없는 페이지](no-such-page.md)\n")
    out = refused(docs)
    assert "qna/adagrad.md" in out and "no-such-page.md" in out


def test_dangling_anchor_is_reported(docs):
    edit(docs / "qna/adagrad.md", "## 질문\n", "## 질문\n\n[회의](../meetings/2021-08-10.md#q99)\n")
    out = refused(docs)
    assert "qna/adagrad.md" in out and "#q99" in out


def test_missing_snippet_include_is_reported(docs):
    edit(docs / "qna/adagrad.md", "## 질문\n",
         '## 질문\n\n```python title="x"\n--8<-- "snippets/qna/no_such_file.py"\n```\n')
    out = refused(docs)
    assert "no_such_file.py" in out


def test_unrenderable_formula_names_page_line_and_formula(docs):
    edit(docs / "qna/adagrad.md", "## 질문\n", "## 질문\n\n$$\\frac{a}$$\n")
    out = refused(docs)
    assert "docs/qna/adagrad.md:13: cannot render formula $\\frac{a}$" in out


def test_unknown_generated_list_marker_is_reported(docs):
    edit(docs / "qna/index.md", "<!-- kb:qna-index -->", "<!-- kb:qna-indx -->")
    out = refused(docs)
    assert "docs/qna/index.md" in out and "unknown marker 'kb:qna-indx'" in out


ORPHAN = "---\ntitle: 고아\ntags: [x]\nmeeting: meetings/2021-08-10.md\n---\n\n본문\n"


def test_page_left_out_of_navigation_is_reported(docs):
    """Papers, lectures and notebooks are listed by hand in mkdocs.yml; one left out stops the build."""
    (docs / "lectures/orphan.md").write_text(ORPHAN, encoding="utf-8")
    out = refused(docs)
    assert "lectures/orphan.md" in out


def test_new_meeting_and_qna_pages_appear_in_the_navigation_with_no_edit(added_pages):
    """`kb new meeting` and `kb new qna`, their placeholders filled, then the strict build: no hand edit
    of mkdocs.yml. The copy holds the Notion tests' imports too (tests/added_pages.py ``new_pages``)."""
    for name, made in added_pages.runs["kb new"].items():
        assert made.returncode == 0, (name, made.stderr)
    result = added_pages.build
    assert result.returncode == 0, result.stdout + result.stderr
    html = (added_pages.site / "qna/index.html").read_text(encoding="utf-8")
    nav = html[html.index("md-nav--primary"):]
    # newest meeting first, and the new question under its meeting
    assert nav.index("8/17(화) 회의록") < nav.index("8/10(화) 회의록")
    assert nav.index("새 질문") < nav.index("Q1. nn.Module")
