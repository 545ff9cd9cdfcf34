"""Pages a reader expects, in the built site and in a real Chromium: a Korean 404, author and
dates on every content page, source/edit links and notebook buttons built from the one
repository setting (plain links: nothing is requested), a home page whose meeting and Q&A lists
differ, a notebooks index, and screenshots (light, dark, phone) of a Q&A, a paper and a notebook
page in test-artifacts/.
"""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup
from mkdocs.utils import yaml_load

from browser_helpers import Tab, chromium, site_pages, site_url, tab  # noqa: F401  (fixtures)
from conftest import DOCS, ROOT, SITE_REPOSITORY
from test_reader_math import ARTIFACTS

pytestmark = pytest.mark.browser


def config() -> dict:
    with open(ROOT / "mkdocs.yml", encoding="utf-8") as f:
        return yaml_load(f)  # resolves !ENV as the build does


def soup_of(built_site, path: str) -> BeautifulSoup:
    return BeautifulSoup((built_site / path / "index.html").read_text(encoding="utf-8"), "html.parser")


def source_of(path: str):
    """docs/ file of a built page path ('qna/adagrad/' -> docs/qna/adagrad.md)."""
    stem = path.rstrip("/")
    for candidate in (DOCS / f"{stem}.md", DOCS / stem / "index.md", DOCS / f"{stem}.ipynb"):
        if candidate.exists():
            return candidate
    raise AssertionError(f"no source for {path}")


def test_404_page_is_korean(tab):
    page = tab.goto("404.html")
    assert page.locator("html").get_attribute("lang") == "ko"
    assert "페이지를 찾을 수 없습니다" in page.locator("article h1").inner_text()
    assert "Not found" not in page.locator("article").inner_text()
    assert page.locator("article a", has_text="Q&A 목록").count() == 1
    assert tab.errors == []


def test_every_content_page_names_author_dates_and_its_source(built_site):
    repo = SITE_REPOSITORY  # the shared build's address (conftest.built_site)
    branch = config()["extra"]["branch"]
    pages = [p for p in site_pages(built_site) if p]  # all but the home page
    assert len(pages) >= 15
    for path in pages:
        facts = soup_of(built_site, path).select_one("article aside.kb-page-facts")
        assert facts is not None, f"{path}: no author and dates"
        assert facts.select_one(".kb-page-facts__author").get_text(strip=True).startswith("작성")
        assert re.search(r"\d{4}-\d{2}-\d{2}", facts.select_one(".kb-page-facts__updated").get_text())
        src = source_of(path).relative_to(ROOT).as_posix()
        assert facts.select_one("a.kb-page-facts__source")["href"] == f"{repo}/blob/{branch}/{src}"
        assert facts.select_one("a.kb-page-facts__edit")["href"] == f"{repo}/edit/{branch}/{src}"


def test_front_matter_author_and_dates_are_shown(built_site):
    meeting = DOCS / "meetings" / "2021-08-10.md"
    meta = yaml_load(meeting.read_text(encoding="utf-8").split("---")[1])
    facts = soup_of(built_site, "meetings/2021-08-10/").select_one("aside.kb-page-facts").get_text(" ", strip=True)
    assert f"작성 {meta['author']}" in facts
    assert f"처음 작성 {meta['created'].date().isoformat()}" in facts
    assert f"마지막 수정 {meta['updated'].date().isoformat()}" in facts


def _front_matter(path) -> dict:
    return yaml_load(path.read_text(encoding="utf-8").split("---")[1])


@pytest.mark.parametrize("section", ["qna", "papers", "lectures"])
def test_pages_from_a_meeting_show_the_meetings_date(built_site, section):
    """A Q&A, paper review or lecture note without its own `created` shows the day of its meeting."""
    sources = [p for p in sorted((DOCS / section).glob("*.md")) if p.name != "index.md"]
    assert sources
    for source in sources:
        meeting = _front_matter(DOCS / _front_matter(source)["meeting"])
        facts = soup_of(built_site, f"{section}/{source.stem}/").select_one("aside.kb-page-facts")
        created = facts.select_one(".kb-page-facts__created")
        assert created is not None, f"{source.name}: no date of its meeting"
        assert created.get_text(" ", strip=True) == f"다룬 회의 {meeting['date'].isoformat()}", source.name


@pytest.mark.parametrize("name", ["attention", "optimizer-playground"])
def test_notebook_has_labelled_download_and_colab_buttons(built_site, name):
    repo = SITE_REPOSITORY  # the shared build's address (conftest.built_site)
    owner_repo = repo.removeprefix("https://github.com/")
    buttons = soup_of(built_site, f"notebooks/{name}/").select("article .kb-nb-actions a")
    labels = [b.get_text(strip=True) for b in buttons]
    assert labels == ["노트북 내려받기 (.ipynb)", "Colab에서 열기"]
    assert buttons[0]["href"] == f"{name}.ipynb" and buttons[0].has_attr("download")
    assert buttons[1]["href"] == (f"https://colab.research.google.com/github/{owner_repo}/blob/"
                                  f"{config()['extra']['branch']}/docs/notebooks/{name}.ipynb")


def test_home_lists_meetings_and_questions_separately(built_site):
    article = soup_of(built_site, "").select_one("article")
    sections = {}
    for h2 in article.find_all("h2"):
        links = []
        for sib in h2.find_next_siblings():
            if sib.name == "h2":
                break
            links += [a["href"] for a in sib.find_all("a", href=True) if not a["href"].startswith("#")]
        sections[h2.get_text(strip=True).rstrip("¶")] = links
    meetings, questions = sections["최근 회의"], sections["새 Q&A"]
    assert meetings and all("meetings/" in h for h in meetings), meetings
    assert questions and all("qna/" in h for h in questions), questions
    assert not set(meetings) & set(questions)


def test_notebooks_index_lists_every_notebook(built_site):
    soup = soup_of(built_site, "notebooks/")
    links = {a["href"].rstrip("/").split("/")[-1] for a in soup.select("article table a[href]")}
    notebooks = {p.stem for p in (DOCS / "notebooks").glob("*.ipynb")}
    assert notebooks <= links
    nav = [a.get_text(strip=True) for a in soup.select("nav.md-nav--primary a.md-nav__link")]
    assert "노트북" in nav


SCREENS = {
    "light": {"color_scheme": "light", "viewport": {"width": 1280, "height": 900}},
    "dark": {"color_scheme": "dark", "viewport": {"width": 1280, "height": 900}},
    "phone": {"color_scheme": "light", "viewport": {"width": 390, "height": 844}, "device_scale_factor": 2,
              "is_mobile": True, "has_touch": True},
}
SCREEN_PAGES = {"qna": "qna/momentum-vs-nag/", "paper": "papers/attention-is-all-you-need/",
                "notebook": "notebooks/attention/"}


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("kind", SCREEN_PAGES)
def test_screenshots_of_qna_paper_and_notebook(chromium, site_url, kind, screen):
    t = Tab(chromium, site_url, **SCREENS[screen])
    try:
        page = t.goto(SCREEN_PAGES[kind])
        t.settle()
        assert page.evaluate("() => document.fonts.ready.then(() => document.fonts.check('16px Pretendard', '가'))")
        scheme = page.locator("body").get_attribute("data-md-color-scheme")
        assert scheme == ("slate" if screen == "dark" else "default")
        # nothing wider than the screen: the page does not scroll sideways
        assert page.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / f"reader-{kind}-{screen}.png"
        page.screenshot(path=str(shot), full_page=False)
        assert shot.stat().st_size > 20_000
    finally:
        t.close()
    assert t.blocked == [] and t.errors == []
