"""The search index is downloaded when search is first used (docs/javascripts/search-lazy.js)."""

from __future__ import annotations

import pytest

from browser_helpers import chromium, site_url, tab  # noqa: F401  (fixtures)
from search_box import SearchBox

pytestmark = pytest.mark.browser
INDEX = "search/search_index.json"


def _index_requests(page) -> list[tuple[str, str]]:
    """(resource type, URL) of every request for the index: Material's is an "xhr"."""
    requests: list[tuple[str, str]] = []
    page.on("request", lambda r: requests.append((r.resource_type, r.url)) if r.url.endswith(INDEX) else None)
    return requests


def test_a_page_view_does_not_download_the_search_index(tab):
    page = tab.page
    requests = _index_requests(page)
    split: list[str] = []  # the index split by term (kb/search_split.py), search-ko.js's: on first use too
    page.on("request", lambda r: split.append(r.url) if "/search/kb/" in r.url else None)
    tab.goto("qna/adagrad/")
    page.wait_for_load_state("networkidle")
    assert requests == [] and split == []
    assert page.evaluate("() => window.kbSearchLazy.loaded") is False


def test_first_use_fetches_the_split_index_and_lunr_syntax_the_whole_one(tab):
    page = tab.page
    requests = _index_requests(page)
    split: list[str] = []
    page.on("request", lambda r: split.append(r.url.rsplit("/", 1)[-1]) if "/search/kb/" in r.url else None)
    tab.goto("qna/adagrad/")
    page.wait_for_load_state("networkidle")
    box = SearchBox(page, tab.base)
    box.open(timeout_ms=60_000)  # focus: search-ko.js fetches the index split by term (kb/search_split.py)
    assert "qna/adagrad/" in box.search("아다그라드", timeout_ms=30_000)["paths"]
    assert {"base.json", "docs.json"} <= set(split) and requests == []  # Material's index: not needed
    result = box.search("title:adagrad", timeout_ms=60_000)  # lunr syntax: Material's worker, its index
    assert [kind for kind, _ in requests] == ["xhr"]
    assert "qna/adagrad/" in result["paths"]
    assert tab.errors == []


def test_a_page_opened_from_a_search_result_downloads_the_index_for_highlighting(tab):
    page = tab.page
    requests = _index_requests(page)
    with page.expect_request(lambda r: r.url.endswith(INDEX) and r.resource_type == "xhr", timeout=30_000):
        tab.goto("qna/adagrad/?h=%EC%95%84%EB%8B%A4%EA%B7%B8%EB%9D%BC%EB%93%9C")
    assert [kind for kind, _ in requests].count("xhr") == 1
