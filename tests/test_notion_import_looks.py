"""Imported pages look like the group's own pages (issue 23, item 6; kb/notion/looks.py).

(a) a title without a date gets the meeting's, in the house format of docs/meetings/ and
``kb new meeting`` (``8/10(화) 회의록``), so the nav and the Q&A pages show when it was;
(b) ``작성자``, ``담당자`` and ``Created by`` are the author; (c) an image with Notion's default alt
text ("Untitled") is named ``<page title> 그림 N``, one with a caption keeps it; (d) a heading with
no text is dropped, with one warning, instead of an empty heading and its "empty heading" note.
Each goes through ``python -m kb import-notion`` on a page made here as Notion writes it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from bs4 import BeautifulSoup
from markdown import markdown

from kb import nav
from kb.frontmatter import load_docs
from kb.notion.convert import EMPTY_NOTE
from notion_cli import kb_main as run_kb

ID = "0123456789abcdef0123456789abcdef"
PROPS = "작성일시: 2021년 8월 6일 오후 5:57\n회의 유형: 일일 회의\n"


def imported(tmp_path: Path, title: str, props: str, body: str, files: dict[str, bytes] = {}):
    """Import one page; (result, front matter, HTML of the meeting page, docs)."""
    stem = f"{title.replace('/', ' ')} {ID}"
    src = tmp_path / "export" / f"{stem}.md"
    (src.parent / stem).mkdir(parents=True)
    for name, data in files.items():
        (src.parent / stem / name).write_bytes(data)
        body = body.replace(f"<{name}>", quote(f"{stem}/{name}"))
    src.write_text(f"# {title}\n\n{props}\n{body}\n", encoding="utf-8")
    docs = tmp_path / "docs"
    (docs / "meetings").mkdir(parents=True)
    result = run_kb("import-notion", src, "--docs", docs)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    pages = list((docs / "meetings").glob("*.md"))
    assert len(pages) == 1, pages
    _, meta, text = pages[0].read_text(encoding="utf-8").split("---\n", 2)
    return result, yaml.safe_load(meta), BeautifulSoup(markdown(text, extensions=["admonition", "attr_list"]), "html.parser"), docs


# --- (a) the date in the title ----------------------------------------------------------


def test_a_title_without_a_date_gets_the_meeting_date_in_the_house_format(tmp_path):
    day = dt.date(2021, 8, 10)
    house = f"{day.month}/{day.day}({'월화수목금토일'[day.weekday()]})"  # kb.scaffold.default_meeting_title's form
    assert house == "8/10(화)"
    result, meta, _, docs = imported(tmp_path, "Attention 논문 리뷰", "날짜: 2021-08-10\n" + PROPS, "Q1. 왜 scaled인가요?\n\n답")
    assert meta["title"] == f"{house} Attention 논문 리뷰"
    pages, _ = load_docs(docs)
    assert nav.meetings(pages) == [{f"{house} Attention 논문 리뷰": "meetings/2021-08-10.md"}]
    qna = (docs / "qna/2021-08-10-q1.md").read_text(encoding="utf-8")
    assert f"[{house} Attention 논문 리뷰 — Q1]" in qna


def test_a_title_with_a_date_is_kept_as_written(tmp_path):
    _, meta, _, _ = imported(tmp_path, "8/10 회의록", PROPS, "내용")
    assert meta["title"] == "8/10 회의록"


# --- (b) the author -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["작성자", "담당자", "Created by"])
def test_author_properties_become_the_author(tmp_path, name):
    result, meta, html, _ = imported(tmp_path, "8/10 회의록", f"{PROPS}{name}: 이하람\n", "내용")
    assert meta["author"] == "이하람"
    assert "작성자가 없습니다" not in result.stderr
    assert "Notion의 다른 속성" not in html.get_text()


def test_with_a_writer_and_an_assignee_the_writer_is_the_author_and_the_assignee_is_kept(tmp_path):
    result, meta, html, _ = imported(tmp_path, "8/10 회의록", f"{PROPS}담당자: 김민\n작성자: 이하람\n", "내용")
    assert meta["author"] == "이하람"
    box = html.find("div", class_="admonition")
    assert box is not None and "Notion의 다른 속성" in box.get_text() and "담당자: 김민" in box.get_text()
    assert "'담당자'은(는) 회의록 맨 위 안내 상자에" in result.stderr


# --- (c) image alt text -------------------------------------------------------------------


def test_untitled_images_are_named_after_the_page_and_captions_are_kept(tmp_path):
    files = {"Untitled.png": b"\x89PNG 1", "Untitled 1.png": b"\x89PNG 2", "Untitled 2.png": b"\x89PNG 3", "old.png": b"\x89PNG 4"}
    body = (
        "![Untitled](<Untitled.png>)\n\n![손실 곡선](<Untitled 1.png>)\n\n"
        "문단 안의 ![Untitled 2](<Untitled 2.png>) 그림\n\n"
        "![<Untitled 2.png>](<Untitled 2.png>)\n\n![<old.png>](<old.png>)"
    )
    result, _, html, _ = imported(tmp_path, "8/10 회의록", PROPS, body, files)
    alts = [img["alt"] for img in html.find_all("img")]
    # the N-th image of the page; an older export's alt is the path: "Untitled …" named, "old" kept
    assert alts == ["8/10 회의록 그림 1", "손실 곡선", "8/10 회의록 그림 3", "8/10 회의록 그림 4", "old"]
    assert "Untitled" not in result.stderr  # nor read as an English term for the glossary


# --- (d) empty headings ---------------------------------------------------------------------


def test_headings_without_text_are_dropped_with_one_warning(tmp_path):
    body = "## 배운 점\n\n내용\n\n#\n\n## \n\n### ###\n\n## 다음 시간\n\n준비"
    result, _, html, _ = imported(tmp_path, "8/10 회의록", PROPS, body)
    headings = [h.get_text(strip=True) for h in html.find_all(["h1", "h2", "h3", "h4", "h5", "h6"])]
    assert headings == ["배운 점", "다음 시간"]
    assert EMPTY_NOTE.split("\n")[0].split('"')[1] not in html.get_text()
    warnings = [line for line in result.stderr.splitlines() if "글자가 없는 제목" in line]
    assert len(warnings) == 1 and "3개" in warnings[0], result.stderr
    assert all(f"{n}" in warnings[0] for n in (10, 12, 14)), warnings  # lines: title, blank, 2 props, blank, body
