"""The site builds with --strict, every page is in the navigation, and the seed meeting is complete."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from mkdocs.config import load_config

from conftest import DOCS, ROOT
from kb import nav
from kb.frontmatter import SCHEMAS, load_docs
from sitetext import article, links, normalize, soup

SEED = Path(__file__).parent / "fixtures" / "2021-08-10-meeting-notion-export.md"
MEETING = "meetings/2021-08-10.md"
QNA = sorted(p.relative_to(DOCS).as_posix() for p in (DOCS / "qna").glob("*.md") if p.name != "index.md")


def nav_pages(nav) -> list[str]:
    out: list[str] = []
    for item in nav:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict):
            for value in item.values():
                out += nav_pages(value) if isinstance(value, list) else [value]
    return out


def test_strict_build_passes(built_site):
    assert (built_site / "index.html").is_file()
    assert (built_site / "meetings" / "2021-08-10" / "index.html").is_file()


def site_nav() -> list:
    """The navigation the build uses: mkdocs.yml's, with meetings and Q&A generated (kb/nav.py)."""
    config = load_config(str(ROOT / "mkdocs.yml"))
    return nav.generate(config["nav"], DOCS)


def test_every_page_is_reachable_from_the_navigation():
    in_nav = {p for p in nav_pages(site_nav()) if p.endswith(".md")}  # notebooks: tests/test_notebooks.py
    on_disk = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    assert on_disk - in_nav == set(), "pages missing from nav in mkdocs.yml"
    assert in_nav - on_disk == set(), "nav entries without a page"


def test_meetings_and_qna_need_no_hand_edit_of_the_navigation():
    config = load_config(str(ROOT / "mkdocs.yml"))
    listed = set(nav_pages(config["nav"]))
    generated = {p for p in nav_pages(site_nav()) if p.startswith(("meetings/", "qna/"))}
    assert generated - listed == {MEETING, *QNA}  # mkdocs.yml names only the two index pages


def test_all_front_matter_is_valid():
    pages, problems = load_docs(DOCS)
    assert [str(p) for p in problems] == []
    assert len(pages) >= 15


@pytest.mark.parametrize("section", ["qna", "papers", "lectures"])
def test_answer_writer_and_dates_are_optional_fields(tmp_path, section):
    """author, created and updated may be set on a page that came from a meeting, and are checked."""
    import shutil

    from kb.frontmatter import FrontMatterError, validate_docs

    docs = tmp_path / "docs"
    shutil.copytree(DOCS, docs)
    page = next(p for p in sorted((docs / section).glob("*.md")) if p.name != "index.md")
    head, rest = page.read_text(encoding="utf-8").split("\n---\n", 1)
    page.write_text(f"{head}\nauthor: 김민지\ncreated: 2021-08-12T21:00:00+09:00\nupdated: 2021-09-01\n---\n{rest}",
                    encoding="utf-8")
    assert validate_docs(docs)[f"{section}/{page.name}"].meta["author"] == "김민지"
    page.write_text(f"{head}\ncreated: 어제\n---\n{rest}", encoding="utf-8")
    line = head.count("\n") + 2
    with pytest.raises(FrontMatterError, match=rf"{section}/{page.name}:{line}: .*created"):
        validate_docs(docs)


def _export_lines() -> list[str]:
    """Non-empty lines of the export, with Notion's markup reduced to the text a reader sees."""
    out = []
    for raw in SEED.read_text(encoding="utf-8").splitlines():
        line = re.sub(r"<span>[^<]*</span>", "", raw)  # Notion's avatar label before a name
        line = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line)  # [text](url) -> text
        line = line.replace("\\_", "_").replace("\\", "")
        line = re.sub(r"^\$\$|\$\$$", "", line.strip())
        if normalize(line):
            out.append(line)
    return out


def test_meeting_page_keeps_every_line_of_the_export(built_site):
    page = article(soup(built_site, MEETING))
    text = normalize(page.get_text(" "))
    lines = _export_lines()
    assert len(lines) > 60
    missing = [line for line in lines if normalize(line) not in text]
    assert missing == []


def test_meeting_page_keeps_every_link_of_the_export(built_site):
    page = article(soup(built_site, MEETING))
    hrefs = {a["href"] for a in page.find_all("a", href=True)}
    urls = set(re.findall(r"https?://[^\s<>()\]]+", SEED.read_text(encoding="utf-8").replace("\\_", "_")))
    urls = {u.replace("\\", "") for u in urls}
    assert len(urls) >= 8
    assert urls - hrefs == set()


def test_meeting_page_shows_its_properties(built_site):
    page = article(soup(built_site, MEETING))
    table = page.select_one(".kb-properties table")
    assert table is not None
    rows = {normalize(tr.find_all("td")[0].get_text()): tr.find_all("td")[1].get_text(strip=True)
            for tr in table.find_all("tr") if tr.find_all("td")}
    assert rows == {
        "작성일시": "2021년 8월 6일 오후 5:57",
        "작성자": "이하람",
        "참석자": "(기록 없음)",
        "최종편집일시": "2021년 8월 17일 오후 2:00",
        "회의유형": "일일 회의",
    }


def test_meeting_table_is_a_real_table(built_site):
    page = article(soup(built_site, MEETING))
    tables = [t for t in page.find_all("table") if "Validation dataset" in t.get_text()]
    assert len(tables) == 1
    cells = [[c.get_text(strip=True) for c in tr.find_all(["td", "th"])] for tr in tables[0].find_all("tr")]
    assert cells[0] == ["", "Training dataset", "Validation dataset", "Test dataset"]
    assert cells[1:] == [
        ["학습 과정에서 참조할 수 있는가?", "O", "O", "X"],
        ["모델의 인자값 (가중치) 설정에 이용되는가?", "O", "X", "X"],
        ["모델의 성능 평가에 이용되는가?", "X", "O", "O"],
    ]


def test_empty_headings_of_the_export_are_filled_and_marked(built_site):
    page = article(soup(built_site, MEETING))
    for heading in ("Momentum", "Nesterov"):
        h = page.find(lambda tag: tag.name in {"h2", "h3", "h4", "h5"} and tag.get_text(strip=True).rstrip("¶") == heading)
        assert h is not None, heading
        section = []
        for sib in h.find_next_siblings():
            if sib.name and re.match(r"h[1-5]$", sib.name):
                break
            section.append(sib)
        text = " ".join(s.get_text(" ") for s in section)
        assert "원본에서 비어 있던 제목" in text
        assert any(s.find("math") for s in section), f"{heading}: no formula under the heading"


@pytest.mark.parametrize("src", QNA)
def test_qna_page_has_required_front_matter(src):
    text = (DOCS / src).read_text(encoding="utf-8")
    meta = yaml.safe_load(text.split("---")[1])
    required = {k for k, (req, _) in SCHEMAS["qna"].items() if req}
    assert required <= set(meta)
    assert meta["status"] in {"answered", "open"}
    assert meta["meeting"] == MEETING
    assert meta["tags"]


@pytest.mark.parametrize("src", QNA)
def test_qna_page_and_meeting_link_both_ways(built_site, src):
    meeting_links = links(article(soup(built_site, MEETING)), "meetings/2021-08-10/")
    assert src.removesuffix(".md") + "/" in meeting_links
    qna_links = links(article(soup(built_site, src)), src.removesuffix(".md") + "/")
    assert "meetings/2021-08-10/" in qna_links


def test_qna_index_lists_every_entry_with_status_and_tags(built_site):
    page = article(soup(built_site, "qna/index.md"))
    rows = page.select(".kb-qna-index tbody tr")
    assert len(rows) == len(QNA)
    for row in rows:
        cells = row.find_all("td")
        assert cells[1].select_one(".kb-status"), row
        assert cells[2].find("code"), row


def test_home_shows_latest_meeting_and_newest_qna(built_site):
    page = article(soup(built_site, "index.md"))
    hrefs = links(page, "")
    assert "meetings/2021-08-10/" in hrefs
    assert sum(h.startswith("qna/") for h in hrefs) >= 5


def test_formulas_render_as_mathml_without_raw_tex(built_site):
    for src in [MEETING, "qna/adagrad.md", "qna/momentum-vs-nag.md", "papers/batch-normalization.md",
                "papers/attention-is-all-you-need.md"]:
        page = article(soup(built_site, src))
        assert page.find("math"), f"{src}: no MathML"
        for ann in page.find_all("annotation"):
            ann.decompose()
        for code in page.find_all("code"):
            code.decompose()
        visible = page.get_text(" ")
        assert "$$" not in visible and "\\frac" not in visible, src


def test_recent_meetings_and_open_questions_lists():
    import datetime as dt

    from kb.frontmatter import Page
    from kb.render import Site

    tz = dt.timezone(dt.timedelta(hours=9))
    pages = {}
    for day in range(1, 8):  # seven meetings, 2022-03-01 .. 2022-03-07
        src = f"meetings/2022-03-0{day}.md"
        pages[src] = Page(src, {"title": f"3/{day} 회의록", "date": dt.date(2022, 3, day), "meeting_type": "일일 회의",
                                "created": dt.datetime(2022, 3, day, tzinfo=tz)})
    for day, status in ((2, "open"), (5, "answered"), (6, "open")):
        src = f"qna/q{day}.md"
        pages[src] = Page(src, {"title": f"질문 {day}", "qid": "Q1", "status": status,
                                "meeting": f"meetings/2022-03-0{day}.md"})
    site = Site(pages)
    recent = site.expand_markers("index.md", "<!-- kb:recent-meetings -->")
    assert [line.split("|")[2].strip() for line in recent.splitlines()[2:]] == [
        f"[3/{d} 회의록](meetings/2022-03-0{d}.md)" for d in (7, 6, 5, 4, 3)]
    waiting = site.expand_markers("index.md", "<!-- kb:open-qna -->")
    assert waiting.splitlines() == ["- [질문 6](qna/q6.md) ([3/6 회의록](meetings/2022-03-06.md))",
                                    "- [질문 2](qna/q2.md) ([3/2 회의록](meetings/2022-03-02.md))"]
