"""The site where GitHub Pages really serves it: under a project path (/knowledge-base/), with a
missing address answered by 404.html and status 404. In Chromium, the home page, a Q&A page, a
notebook page and a deep missing address load every stylesheet and script with no failed request
and no request to another host, and search finds pages from the 404 page.

The shared build is published at conftest.SITE_URL (https://example-owner.github.io/knowledge-base/),
so its 404 page asks for /knowledge-base/assets/...; built without a site_url it would ask for
/assets/... and show an unstyled page with broken search under any project path.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from browser_helpers import Tab, chromium, serve  # noqa: F401  (chromium is a fixture)
from conftest import SITE_URL
from search_box import SearchBox

pytestmark = pytest.mark.browser

MOUNT = urlsplit(SITE_URL).path  # /knowledge-base/
PAGES = {  # name -> (path under MOUNT, HTTP status of the page)
    "home": ("", 200),
    "qna": ("qna/adagrad/", 200),
    "notebook": ("notebooks/attention/", 200),
    "missing": ("a/b/c/missing/", 404),
}
LOADED_JS = """() => ({
  sheets: [...document.querySelectorAll('link[rel=stylesheet]')].map(l => [l.href, l.sheet !== null]),
  scripts: [...document.querySelectorAll('script[src]')].map(s => s.src),
  header: getComputedStyle(document.querySelector('.md-header')).position,
  material: typeof document$ === 'object' && typeof document$.subscribe === 'function',
  kb: typeof window.kbSearchKo === 'object',
  title: document.querySelector('article h1') && document.querySelector('article h1').textContent,
})"""


@pytest.fixture(scope="module")
def subpath_tab(chromium, built_site):
    """One tab on the site served at http://127.0.0.1:<port>/knowledge-base/ as GitHub Pages
    serves it; ``problems`` collects failed requests and error responses of what a page loads."""
    with serve(built_site, (MOUNT,), pages_404=True) as url:
        t = Tab(chromium, url)
        t.problems = []
        t.page.on("requestfailed", lambda r: t.problems.append(f"failed {r.url}: {r.failure}"))
        t.page.on("response", lambda r: t.problems.append(f"{r.status} {r.url}")
                  if r.status >= 400 and r.request.resource_type != "document" else None)
        yield t
        t.close()
    assert t.blocked == [], f"requests to other hosts were attempted: {t.blocked}"


def open_page(t: Tab, path: str, status: int):
    t.problems.clear()
    t.errors.clear()
    response = t.page.goto(t.base + path, wait_until="load")
    assert response.status == status, (path, response.status)
    t.settle()
    return t.page.evaluate(LOADED_JS)


@pytest.mark.parametrize("name", PAGES)
def test_page_loads_its_styles_and_scripts_under_the_project_path(subpath_tab, name):
    path, status = PAGES[name]
    loaded = open_page(subpath_tab, path, status)
    assert len(loaded["sheets"]) >= 4 and all(ok for _, ok in loaded["sheets"]), loaded["sheets"]
    assert all(urlsplit(href).path.startswith(MOUNT) for href, _ in loaded["sheets"]), loaded["sheets"]
    assert len(loaded["scripts"]) >= 4 and all(urlsplit(s).path.startswith(MOUNT) for s in loaded["scripts"])
    assert loaded["header"] == "sticky", "Material's stylesheet is not applied"
    assert loaded["material"] and loaded["kb"], "Material's or the site's scripts did not run"
    assert subpath_tab.problems == []
    # a 404 document is reported by Chromium as a console error; nothing else may be
    expected = ["console.error: Failed to load resource: the server responded with a status of 404 (Not Found)"]
    assert subpath_tab.errors == (expected if status == 404 else [])
    if name == "missing":
        assert "페이지를 찾을 수 없습니다" in loaded["title"]
        links = subpath_tab.page.eval_on_selector_all("article .kb-404-links a", "els => els.map(a => a.pathname)")
        assert links == [MOUNT] + [MOUNT + p for p in ("qna/", "meetings/", "papers/", "notebooks/")]


def test_search_from_a_deep_missing_address_finds_pages_under_the_project_path(subpath_tab):
    open_page(subpath_tab, PAGES["missing"][0], 404)
    box = SearchBox(subpath_tab.page, subpath_tab.base)
    box.open()
    result = box.search("모멘텀")
    assert "qna/momentum-vs-nag/" in result["paths"], result
    hrefs = subpath_tab.page.eval_on_selector_all("a.md-search-result__link", "els => els.map(a => a.href)")
    assert hrefs and all(urlsplit(h).path.startswith(MOUNT) for h in hrefs), hrefs
    subpath_tab.problems.clear()
    subpath_tab.page.locator("a.md-search-result__link").first.click()
    subpath_tab.page.wait_for_load_state("load")
    assert urlsplit(subpath_tab.page.url).path.startswith(MOUNT + "qna/"), subpath_tab.page.url
    assert subpath_tab.problems == []
