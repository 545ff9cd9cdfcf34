"""Notion exports in the shape Notion really writes them (tests/fixtures/notion/, written for
these tests): each imports, loses no text a reader sees, copies every file it shows, and the strict
build passes right after, with no hand edit of the navigation.

Fixtures:
  ko-page/     a Korean-locale database row: images (one linked NFD-encoded, one attachment
               double-encoded), a callout, a toggle list, to-dos, a table with a broken row,
               inline, in-sentence and display math, java and {.python} code
  en-page/     an English-locale page (English dates, a date range), four question forms, a
               notion.so link
  plain-page/  a page outside a database: no properties (imported with --date)
  parts/       two pages that link to each other, zipped here into Part-1.zip and Part-2.zip
               inside Export-….zip, under the workspace wrapper folder
  database/    a database export: Name <id>.csv, Name <id>_all.csv and three row pages

Expected values are read off the fixtures by eye, not from the importer's output.
"""

from __future__ import annotations

import datetime as dt
import html
import posixpath
import re
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup

from notion_cli import kb_main as run_kb
from added_pages import DATABASE, EN_PAGE, FIX, KO_PAGE, PLAIN_PAGE

pytestmark = pytest.mark.xdist_group("test_notion_fixtures")  # its module fixture once, on one worker (pytest.ini)

KST = dt.timezone(dt.timedelta(hours=9))

# meeting page -> the fixture page it comes from
MEETINGS = {
    "2021-07-16": KO_PAGE,
    "2022-03-10": EN_PAGE,
    "2021-09-01": PLAIN_PAGE,
    "2021-09-07": next((FIX / "parts/Part-1").rglob("*.md")),
    "2021-09-14": next((FIX / "parts/Part-2").rglob("*.md")),
    **{d: next(DATABASE.rglob(f"{n} 회의록 *.md")) for d, n in (("2021-10-05", "10 5"), ("2021-10-12", "10 12"), ("2021-10-19", "10 19"))},
}


@pytest.fixture(scope="module")
def site(added_pages):
    """Every fixture imported into one copy of the project, then one strict build; the copy is shared
    with the corpus and ``kb new`` tests (tests/added_pages.py: ``import_fixtures`` says what is imported)."""
    return added_pages.docs, added_pages.site, added_pages.runs["fixtures"], added_pages.build


def front_matter(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8").split("\n---\n", 1)[0][4:])


def page_html(site_dir: Path, src: str) -> BeautifulSoup:
    return BeautifulSoup((site_dir / src.removesuffix(".md") / "index.html").read_text(encoding="utf-8"), "html.parser")


def reader_letters(soup: BeautifulSoup) -> str:
    """Letters and digits a reader sees in the article (an image as its alt text, a formula as its TeX)."""
    article = soup.select_one("article") or soup
    for img in article.find_all("img"):
        img.replace_with(img.get("alt", ""))
    for formula in article.find_all("math"):  # the TeX as written, not the rendered symbols
        formula.replace_with(formula.find("annotation").get_text())
    return "".join(ch for ch in article.get_text(" ") if ch.isalnum())


def notion_letters(line: str) -> str:
    """Letters and digits of an export line as Notion shows it: link targets, callout tags and
    to-do boxes are not text; an image whose alt is its path or Notion's default "Untitled" shows
    no text (the importer names it "<title> 그림 N", issue 23 item 6(c))."""
    line = re.sub(r"!\[([^\]]*)\]\(\1\)", "", line)
    line = re.sub(r"!\[Untitled(?: \d+)?\]\([^)]*\)", "", line)
    line = re.sub(r"\]\([^)]*\)", "]", line)
    line = re.sub(r"</?aside>", "", line)
    line = re.sub(r"^\s*- \[[ x]\]", "", line)
    return "".join(ch for ch in html.unescape(line) if ch.isalnum())


def body_lines(page: Path) -> list[tuple[int, str]]:
    """Non-empty lines after the title and the properties block, fences left out."""
    lines = page.read_text(encoding="utf-8").split("\n")
    start = 2 if ":" not in lines[2] else lines.index("", 2) + 1
    return [(n, line) for n, line in enumerate(lines[start:], start + 1) if line.strip() and not line.startswith("```")]


def test_every_fixture_page_imports(site):
    docs, _, runs, _ = site
    for name, run in runs.items():
        assert run.returncode == 0, (name, run.stderr)
    assert runs["database"].stderr.count("[") >= 3 and "[3/3]" in runs["database"].stderr  # a progress line per page
    for day in MEETINGS:
        assert (docs / f"meetings/{day}.md").is_file(), day


def test_strict_build_passes_right_after_the_imports(site):
    _, site_dir, _, build = site
    assert build.returncode == 0, build.stderr[-3000:]
    for day in MEETINGS:
        assert (site_dir / f"meetings/{day}/index.html").is_file()


def test_imported_meetings_and_questions_are_in_the_navigation(site):
    _, site_dir, _, build = site
    assert build.returncode == 0, build.stderr[-3000:]
    def nav_links(src: str) -> set[str]:  # navigation.prune: a page carries its own section's part
        nav = page_html(site_dir, src).select_one("nav.md-nav--primary")
        return {posixpath.normpath(posixpath.join(src.removesuffix(".md"), a.get("href", ""))) for a in nav.find_all("a")}

    # The copy holds the corpus's meetings too (tests/added_pages.py): more than kb/nav.py's FLAT_LIMIT,
    # so meetings are nested by month and a meeting's page carries the entries of its own month.
    for day in MEETINGS:
        assert f"meetings/{day}" in nav_links(f"meetings/{day}.md"), day
    assert {f"qna/2022-03-10-q{n}" for n in range(1, 5)} <= nav_links("qna/2022-03-10-q1.md")


@pytest.mark.parametrize("day", sorted(MEETINGS))
def test_no_text_a_reader_sees_is_lost(site, day):
    docs, site_dir, _, build = site
    assert build.returncode == 0, build.stderr[-3000:]
    shown = reader_letters(page_html(site_dir, f"meetings/{day}.md"))
    missing = []
    pos = 0
    for n, line in body_lines(MEETINGS[day]):
        needle = notion_letters(line)
        found = shown.find(needle, pos)
        if found < 0:
            missing.append((n, line))
        else:
            pos = found + len(needle)
    assert missing == []


def test_text_that_only_looks_like_html_is_shown(site):
    _, site_dir, _, build = site
    assert build.returncode == 0, build.stderr[-3000:]
    text = page_html(site_dir, "meetings/2021-07-16.md").select_one("article").get_text(" ")
    assert "List<Student>처럼" in text
    assert "a < b 이면 <redacted> 처리한" in text
    assert "List<Student>students=newArrayList<>();" in re.sub(r"\s+", "", text)  # java code, as written


def test_every_file_the_page_shows_is_copied_to_its_attachments_folder(site):
    docs, site_dir, _, build = site
    assert build.returncode == 0, build.stderr[-3000:]
    sources = sorted(p.read_bytes() for p in KO_PAGE.with_suffix("").iterdir())
    copied = sorted(p.read_bytes() for p in (docs / "attachments/2021-07-16").iterdir())
    assert copied == sources and len(copied) == 3  # Untitled.png, NFD-linked PNG, double-encoded PDF
    article = page_html(site_dir, "meetings/2021-07-16.md").select_one("article")
    targets = [img["src"] for img in article.find_all("img")] + [a["href"] for a in article.find_all("a") if a.get("href", "").endswith(".pdf")]
    assert len(targets) == 3
    page_dir = site_dir / "meetings/2021-07-16"
    from urllib.parse import unquote

    for target in targets:
        assert (page_dir / unquote(target)).resolve().read_bytes() in sources, target
    zipped = sorted((docs / "attachments/2021-09-07").iterdir())
    assert [p.name for p in zipped] == ["Untitled.png"]


def test_callout_toggle_todos_table_and_math_render(site):
    _, site_dir, _, build = site
    assert build.returncode == 0, build.stderr[-3000:]
    article = page_html(site_dir, "meetings/2021-07-16.md").select_one("article")
    tip = article.select_one("div.admonition.tip")
    assert tip is not None and "발표 자료는 공유 폴더에 있습니다" in tip.get_text()
    nested = article.select("li > ul > li")
    assert [li.get_text(strip=True) for li in nested] == ["노트북", "충전기"]
    boxes = article.select("li.task-list-item input[type=checkbox]")
    assert [b.has_attr("checked") for b in boxes] == [True, False]
    table = next(t for t in article.find_all("table") if "모델" in t.get_text())
    rows = table.select("tbody tr")
    assert [td.get_text(" ", strip=True) for td in rows[1].find_all("td")] == ["ResNet", "94.3", "층이 깊어도 잘 학습됨"]
    annotations = [a.get_text() for a in article.select("math annotation")]
    assert "a^2 + b^2 = c^2" in annotations  # written inside a sentence as $$…$$
    assert any("\\frac{\\partial L}{\\partial w}" in a for a in annotations)
    assert any(a.startswith("L = -\\sum_i") for a in annotations)


def test_python_in_notes_is_marked_not_to_run_and_other_code_is_kept(site):
    docs, _, _, _ = site
    text = (docs / "meetings/2021-07-16.md").read_text(encoding="utf-8")
    assert '<!--pytest.mark.skip(reason="fragment quoted from the meeting notes")-->\n```python\nprint(' in text
    assert "```java\nList<Student> students" in text
    assert "{.python}" not in text


def test_english_page_properties_and_question_forms(site):
    docs, _, runs, _ = site
    meta = front_matter(docs / "meetings/2022-03-10.md")
    assert meta["created"] == dt.datetime(2022, 3, 10, 21, 26, tzinfo=KST)  # March 10, 2022 9:26 PM
    assert meta["updated"] == dt.datetime(2022, 3, 11, 8, 0, tzinfo=KST)  # Mar 11, 2022 8:00 AM
    assert meta["author"] == "Jane Doe" and meta["attendees"] == ["Jane Doe", "John Roe"]
    assert meta["meeting_type"] == "Weekly"
    text = (docs / "meetings/2022-03-10.md").read_text(encoding="utf-8")
    assert "Date: @March 10, 2022 → March 11, 2022" in text  # the range's end is kept on the page
    titles = {front_matter(docs / f"qna/2022-03-10-q{n}.md")["qid"]: front_matter(docs / f"qna/2022-03-10-q{n}.md")["title"] for n in range(1, 5)}
    assert titles == {
        "Q1": "Q1. Why does dropout help at training time only?",  # **Q1.**
        "Q2": "Q2. What does torch.no_grad() change?",  # - Q2.
        "Q3": "Q3. How large should the batch be?",  # ### Q3
        "Q4": "Q4. Is weight decay the same as L2?",  # Q:
    }
    q2 = (docs / "qna/2022-03-10-q2.md").read_text(encoding="utf-8")
    assert "- No graph is recorded." in q2 and "- Memory use goes down." in q2
    assert "https://www.notion.so/0123456789abcdef0123456789abcdef" in text
    assert ":24: Notion 페이지 링크" in runs["en"].stderr


def test_pages_of_one_export_link_to_each_other(site):
    _, site_dir, _, build = site
    assert build.returncode == 0, build.stderr[-3000:]
    hrefs = [a["href"] for a in page_html(site_dir, "meetings/2021-09-07.md").select("article a")]
    assert "../2021-09-14/" in hrefs
    hrefs = [a["href"] for a in page_html(site_dir, "meetings/2021-09-14.md").select("article a")]
    assert "../2021-09-07/" in hrefs


def test_database_rows_become_meetings_and_missing_author_is_a_warning(site):
    docs, _, runs, _ = site
    assert front_matter(docs / "meetings/2021-10-12.md")["created"] == dt.datetime(2021, 10, 12, 19, 30, tzinfo=KST)
    assert next(DATABASE.rglob("10 19 *.md"), None) is not None  # the row whose page has no author
    assert "경고: 회의록/10 19 회의록.md:1: 작성자가 없습니다" in runs["database"].stderr
    assert "경고: 회의록/10 19 회의록.md:1: 회의 유형이 없습니다" in runs["database"].stderr
    assert front_matter(docs / "qna/2021-10-12-q1.md")["title"] == "Q1. 조기 종료는 언제 하나요?"
    assert front_matter(docs / "qna/2021-10-19-q1.md")["title"] == "Q1. 데이터 증강은 어디까지 해도 되나요?"


def test_page_without_properties_needs_a_date_and_imports_with_one(site, tmp_path):
    docs, _, runs, _ = site
    meta = front_matter(docs / "meetings/2021-09-01.md")
    assert meta["title"] == "9/1(수) 논문 읽기 노트" and meta["date"] == dt.date(2021, 9, 1)  # the house format (issue 23 item 6(a))
    result = run_kb("import-notion", PLAIN_PAGE, "--docs", tmp_path)
    assert result.returncode == 1
    assert f"{PLAIN_PAGE}:1: 회의 날짜를 정할 수 없습니다" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_seed_builds_with_its_anchors_links_and_math(site):
    _, site_dir, _, build = site
    assert build.returncode == 0, build.stderr[-3000:]
    page = (site_dir / "meetings/2021-08-03/index.html").read_text(encoding="utf-8")
    for n in range(1, 6):
        assert f'id="q{n}"' in page and f'href="../../qna/2021-08-03-q{n}/"' in page
    assert page.count('class="kb-math') == 3  # the seed's three formulas
    q4 = (site_dir / "qna/2021-08-03-q4/index.html").read_text(encoding="utf-8")
    assert 'href="../../meetings/2021-08-03/#q4"' in q4
