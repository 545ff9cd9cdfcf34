"""What a `mkdocs serve` rebuild keeps from the last one, and that every change still gets through.

A saved edit at 500 pages no longer parses every page's front matter, expands every page's lists,
scans every page's snippet lines or has Material dump its index for kb to read back
(benchmarks/README.md); nor does a rebuild ask git for a page's date again until HEAD moves
(kb/git_dates.py). Each of those is kept by what it depends on; each test here changes one
thing it depends on and requires the new answer, and that a caller cannot change what the next one gets.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from material.plugins.search.plugin import SearchIndex

from kb import check as kb_check
from kb import frontmatter, included, render
from kb.search_index import Captured

QUESTION = """---
title: "{title}"
description: 요약입니다.
qid: Q1
status: open
tags: [옵티마이저]
meeting: meetings/m1.md
related: [{related}]
---

# 질문

본문입니다.
"""


def _write(docs: Path, src: str, text: str) -> None:
    (docs / src).parent.mkdir(parents=True, exist_ok=True)
    (docs / src).write_text(text, encoding="utf-8")


def test_front_matter_is_validated_again_when_another_page_goes(tmp_path):
    """The same bytes, but the page a field names was deleted: the problem is found (the list of
    pages is part of what is kept)."""
    docs = tmp_path / "docs"
    _write(docs, "qna/q1.md", QUESTION.format(title="Q1", related="qna/q2.md"))
    _write(docs, "qna/q2.md", QUESTION.format(title="Q2", related=""))
    _, problems = frontmatter.load_docs(docs)
    assert not [p for p in problems if "qna/q2.md" in p.message]
    (docs / "qna/q2.md").unlink()
    _, problems = frontmatter.load_docs(docs)
    assert [p.path for p in problems if "names 'qna/q2.md'" in p.message] == ["docs/qna/q1.md"]


def test_each_caller_gets_front_matter_of_its_own(tmp_path):
    docs = tmp_path / "docs"
    _write(docs, "qna/q1.md", QUESTION.format(title="Q1", related=""))
    pages, _ = frontmatter.load_docs(docs)
    pages["qna/q1.md"].meta["title"] = "바뀐 제목"
    pages["qna/q1.md"].meta["tags"].append("덧붙인 태그")
    again, _ = frontmatter.load_docs(docs)
    assert again["qna/q1.md"].meta["title"] == "Q1" and again["qna/q1.md"].meta["tags"] == ["옵티마이저"]


def test_an_edit_of_one_byte_is_read(tmp_path):
    """Same size, same second: the bytes are what is compared, not the file's time."""
    docs = tmp_path / "docs"
    _write(docs, "qna/q1.md", QUESTION.format(title="Q1", related=""))
    assert frontmatter.load_docs(docs)[0]["qna/q1.md"].meta["title"] == "Q1"
    _write(docs, "qna/q1.md", QUESTION.format(title="Q2", related=""))
    assert frontmatter.load_docs(docs)[0]["qna/q1.md"].meta["title"] == "Q2"


def test_page_texts_come_with_the_front_matter_as_text_mode_reads_them(tmp_path):
    docs = tmp_path / "docs"
    _write(docs, "a.md", "")
    (docs / "a.md").write_bytes(b"# A\r\n\r\nline\rnext\n")
    (docs / "b.md").write_bytes(b"# B\n\xff\n")
    texts: dict[str, str] = {}
    _, problems = frontmatter.load_docs(docs, texts)
    assert texts == {"a.md": (docs / "a.md").read_text(encoding="utf-8")} == {"a.md": "# A\n\nline\nnext\n"}
    assert [(p.path, p.message) for p in problems] == [("docs/b.md", "file is not valid UTF-8")]


def _site(title: str) -> render.Site:
    meeting = frontmatter.Page("meetings/m1.md", {"title": "회의", "date": "2022-01-03"})
    question = frontmatter.Page("qna/q1.md", {"title": title, "status": "open", "meeting": "meetings/m1.md",
                                              "qid": "Q1", "tags": ["옵티마이저"]})
    return render.Site({"meetings/m1.md": meeting, "qna/q1.md": question})


def test_a_generated_list_follows_a_title_edit():
    page = "# Q&A\n\n<!-- kb:qna-index -->\n"
    before = _site("학습률은 왜 줄이나요?").expand_markers("qna/index.md", page)
    after = _site("학습률은 언제 줄이나요?").expand_markers("qna/index.md", page)
    assert "학습률은 왜 줄이나요?" in before and "학습률은 언제 줄이나요?" in after
    assert "학습률은 왜 줄이나요?" not in after


def test_an_include_key_follows_the_file_in_the_next_build(tmp_path):
    """Within one build, pages naming the same files share a key; the next build reads them again."""
    (tmp_path / "snippets").mkdir()
    snippet = tmp_path / "snippets" / "s.py"
    snippet.write_text("x = 1\n", encoding="utf-8")
    page_a, page_b = '앞\n\n--8<-- "snippets/s.py"\n', '다른 글\n\n--8<-- "snippets/s.py"\n'
    read, digests = {}, {}
    first = included.included_key(page_a, tmp_path, read, digests)
    assert first and included.included_key(page_b, tmp_path, read, digests) == first
    assert included.included_key("스니펫 없는 글\n", tmp_path, read, digests) == []
    snippet.write_text("x = 2\n", encoding="utf-8")
    assert included.included_key(page_a, tmp_path, {}, {}) != first


def test_a_snippet_problem_follows_the_file_in_the_next_check(tmp_path):
    docs = tmp_path / "docs"
    _write(docs, "index.md", '# 홈\n\n```python\n--8<-- "snippets/s.py:step"\n```\n')
    (tmp_path / "snippets").mkdir()
    (tmp_path / "snippets" / "s.py").write_text("x = 1\n", encoding="utf-8")
    problems, _ = kb_check.check(docs, tmp_path)
    assert [p.message for p in problems if "구역 표시" in p.message]
    (tmp_path / "snippets" / "s.py").write_text("# --8<-- [start:step]\nx = 1\n# --8<-- [end:step]\n", encoding="utf-8")
    problems, _ = kb_check.check(docs, tmp_path)
    assert not [p.message for p in problems if "스니펫" in p.message]
    (tmp_path / "snippets" / "s.py").unlink()
    problems, _ = kb_check.check(docs, tmp_path)
    assert [p.message for p in problems if "스니펫 파일이 없습니다" in p.message]


def _material_index(entries: list[dict]) -> SearchIndex:
    index = SearchIndex(lang=["en"], separator=r"[\s\-]+", pipeline=["stemmer"], fields={"title": {"boost": 1000.0}},
                        jieba_dict=None)
    index.entries = [dict(e) for e in entries]
    return index


ENTRIES = [{"location": "qna/q1/", "title": "Q1", "text": "<p>본문</p>", "tags": ["옵티마이저"]},
           {"location": "qna/q1/#step", "title": "보폭", "text": "<p>보폭은</p>", "boost": 2.0}]


def test_the_captured_index_is_what_material_writes():
    expected = json.loads(_material_index(ENTRIES).generate_search_index(None))
    index = _material_index(ENTRIES)
    captured = Captured(index)
    written = json.loads(index.generate_search_index(None))
    assert written == {"config": {}, "docs": []}  # what the file holds until kb writes the index
    value = captured.take()
    assert value == expected and captured.take() is None
    value["docs"][0]["text"] = "kb가 바꾼 글"  # kb's fields go into copies, not Material's entries
    assert index.entries[0]["text"] == "<p>본문</p>"


def test_a_dirty_merge_is_left_to_material():
    previous = _material_index(ENTRIES)
    index = _material_index([{"location": "qna/q1/", "title": "Q1 고침", "text": ""}])
    expected = json.loads(_material_index(index.entries).generate_search_index(previous))
    captured = Captured(index)
    assert json.loads(index.generate_search_index(previous)) == expected
    assert captured.take() is None


@pytest.mark.parametrize("number", [2, 2 ** 70])  # orjson writes the first, json the second (over 64 bits)
def test_a_value_json_has_no_type_for_is_written_as_material_writes_it(number):
    """Material dumps its index with ``default=str``; kb, now writing the index Material made, too."""
    from kb.search_index import json_bytes

    assert json.loads(json_bytes({"a": [number, Path("x")]})) == json.loads(json.dumps({"a": [number, Path("x")]}, default=str))


class _GitUtil:
    """Stands in for git-revision-date-localized's Util (made anew by the plugin each build): HEAD
    and each page's last commit, counting what git is asked."""

    def __init__(self, repo: dict):
        self.repo = repo

    def get_head_commit(self, path):
        return self.repo["head"]

    def get_git_commit_timestamp(self, path, is_first_commit=False):
        self.repo["asked"].append(path)
        if path in self.repo.get("warn", ()):
            logging.getLogger("mkdocs.plugins.git-revision-date-localized").warning("%s: not committed", path)
        return f"{self.repo['head']}:{path}", len(self.repo["asked"])


class _Config(dict):
    def __init__(self, util):
        super().__init__(docs_dir="docs")
        self.plugins = {"git-revision-date-localized": type("Plugin", (), {"util": util})()}


def test_page_dates_are_asked_of_git_once_until_head_moves():
    from kb.incremental import Incremental

    repo = {"head": "c1", "asked": [], "warn": {"new.md"}}
    incremental = Incremental()

    def build(*pages):
        util = _GitUtil(repo)
        incremental.git.wrap(_Config(util))
        return [util.get_git_commit_timestamp(path=p) for p in pages]

    first = build("a.md", "b.md")
    assert build("a.md", "b.md") == first and repo["asked"] == ["a.md", "b.md"]  # the next build asks nothing
    repo["head"] = "c2"  # a commit: every date is asked again, and the new ones are shown
    assert [d[0] for d in build("a.md")] == ["c2:a.md"] and repo["asked"][-1] == "a.md"
    asked = len(repo["asked"])
    mkdocs_log = logging.getLogger("mkdocs")
    level = mkdocs_log.level
    mkdocs_log.setLevel(logging.INFO)  # as in a build (test_incremental.py's serve fixture quiets it while it lives)
    try:
        build("new.md")
        build("new.md")  # one that logged a warning is asked again (--strict sees it on every build)
    finally:
        mkdocs_log.setLevel(level)
    assert len(repo["asked"]) == asked + 2
