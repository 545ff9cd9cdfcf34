"""The entries' text in chunks (kb/search_docs.py) and the results drawn before it (search-ko-text.js).

A large archive's text is written in chunks: search-ko.js finds (search-ko-find.js) and ranks
(search-ko-rank.js) the results from the index split by term and docs.json (locations, titles, tags),
shows them at once, and shows them again when the text of what was drawn has come. In process: the
chunks hold every entry's text, in docs.json's order; a small archive's text stays in docs.json. In
Chromium, on the shared build with its text written in chunks as a large archive's: with the text held
back until the first results are drawn, they are the final results in the same order without teasers,
and the second drawing is the one made with every text at hand; and every query of the query sets gets
from the chunks the answer the engine built from the whole index gives (ranking, highlighting,
teasers), as tests/test_search_split.py checks on the shared build itself.
"""

from __future__ import annotations

import json
import shutil
import time

import pytest

from browser_helpers import Tab, chromium, serve  # noqa: F401  (fixtures)
from kb import search_docs, search_split
from search_box import SearchBox
from test_search_split import COMPARE_JS, DUMP_JS, QUERIES

N = search_docs.TEXT_ENTRIES


def _index(count: int) -> dict:
    docs = []
    for i in range(count):
        page = f"p{i // 5}/"
        docs.append({"location": page if i % 5 == 0 else f"{page}#s{i}", "title": f"T{i}", "text": f"<p>text {i}</p>",
                     **({"tags": ["a", "b"]} if i % 7 == 0 else {})})
    docs.insert(3, {"title": "no location: not an entry"})
    return {"config": {}, "docs": docs}


@pytest.fixture
def large(monkeypatch):
    """Every archive's text in chunks, as one with more than INLINE_BYTES of it."""
    monkeypatch.setattr(search_docs, "INLINE_BYTES", 0)


def test_chunks_hold_every_entrys_text_in_docs_json_order(large):
    index = _index(2 * N + 5)
    chunks = search_docs.chunks(index)
    assert [c["first"] for c in chunks] == [0, N, 2 * N]
    assert [len(c["text"]) for c in chunks] == [N, N, 5]
    rows = search_split.entries(index)
    texts = [t for c in chunks for t in c["text"]]
    entries = [d for d in index["docs"] if "location" in d]
    assert len(rows) == len(texts) == len(entries)
    for row, text, doc in zip(rows, texts, entries):
        # docs.json and the chunks together: what a result showed of the entry, nothing left out
        assert [row[0], row[1], text] + row[2:] == [doc["location"], doc["title"], doc["text"]] + (
            [doc["tags"]] if "tags" in doc else [])


def test_docs_json_rows_have_no_text(tmp_path, large):
    index = _index(N + 1)
    search_split.write(tmp_path, index)
    rows = json.loads((tmp_path / "kb" / "docs.json").read_text(encoding="utf-8"))
    assert rows[0] == ["p0/", "T0", ["a", "b"]] and rows[1] == ["p0/#s1", "T1"]
    files = sorted((tmp_path / "kb" / "text").iterdir())
    assert [f.name for f in files] == ["0.json", "1.json"]
    assert json.loads(files[1].read_text(encoding="utf-8")) == {"first": N, "text": [f"<p>text {N}</p>"]}


def test_a_small_archives_text_stays_in_docs_json(tmp_path, monkeypatch):
    index = _index(N + 1)
    monkeypatch.setattr(search_docs, "INLINE_BYTES", sum(len(d.get("text", "")) for d in index["docs"]))
    search_split.write(tmp_path, index)
    rows = json.loads((tmp_path / "kb" / "docs.json").read_text(encoding="utf-8"))
    assert rows[0] == ["p0/", "T0", "<p>text 0</p>", ["a", "b"]] and rows[1] == ["p0/#s1", "T1", "<p>text 1</p>"]
    assert not (tmp_path / "kb" / "text").exists()
    monkeypatch.setattr(search_docs, "INLINE_BYTES", search_docs.INLINE_BYTES - 1)  # a byte more than that: chunks
    search_split.write(tmp_path, index)
    assert (tmp_path / "kb" / "text" / "1.json").is_file()


def test_a_rebuild_after_an_edit_writes_the_edited_text_and_no_other_file(tmp_path, large):
    index = _index(3 * N)
    search_split.write(tmp_path, index)  # the build before the edit
    folder = tmp_path / "kb"
    (folder / "stale.json").write_text("[]", encoding="utf-8")  # a file this build does not make
    written = {p.name: p.stat().st_mtime_ns for p in (folder / "text").iterdir()}
    time.sleep(0.05)  # a file written again gets a later time
    index["docs"][41]["text"] = "<p>edited</p>"  # entry 40 (41 with the one that is not an entry)
    search_split.write(tmp_path, index)
    made = search_docs.chunks(index)
    assert sorted(p.name for p in (folder / "text").iterdir()) == sorted(f"{k}.json" for k in range(len(made))) == sorted(written)
    for k, chunk in enumerate(made):
        assert json.loads((folder / "text" / f"{k}.json").read_text(encoding="utf-8")) == chunk
    assert made[1]["text"][40 - N] == "<p>edited</p>"
    again = {p.name: p.stat().st_mtime_ns for p in (folder / "text").iterdir()}
    assert {name for name in written if again[name] != written[name]} == {"1.json"}
    assert not (folder / "stale.json").exists()
    base, expected = search_split.split(index)  # the shards are the whole index's split
    assert [json.loads((folder / f"{k}.json").read_text(encoding="utf-8")) for k in range(len(base["shards"]))] == expected


# --- in Chromium, on the shared build -----------------------------------------------------------

# Each drawing of the result list (Material clears it and draws the pages in one go), summed up:
# per page, its results' addresses, titles (with their marks) and teasers (what else they show).
DRAWS_JS = """() => {
  window.__draws = [];  // watched once, emptied on each call
  if (window.__drawsWatched) return;
  window.__drawsWatched = true;
  const list = document.querySelector(".md-search-result__list");
  const OTHER = "h1, h2, nav, .md-search-result__icon, .md-search-result__terms";
  new MutationObserver(() => {
    if (!list.children.length) return;
    window.__draws.push([...list.children].map(li => [...li.querySelectorAll("a.md-search-result__link")].map(a => {
      const article = a.querySelector("article"), head = article.querySelector("h1, h2");
      const rest = [...article.childNodes].filter(n => !(n.nodeType === 1 && n.matches(OTHER)));
      return [a.getAttribute("href"), head.innerHTML, rest.map(n => n.nodeType === 1 ? n.outerHTML : n.textContent).join(""),
              article.outerHTML];
    })));
  }).observe(list, {childList: true, subtree: true});
}"""
QUERY = "모멘텀"


@pytest.fixture(scope="module")
def chunked_url(built_site, tmp_path_factory):
    """The shared build with its text in chunks, as a large archive's (its own stays in docs.json)."""
    site = tmp_path_factory.mktemp("chunked") / "site"
    shutil.copytree(built_site, site)
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    saved, search_docs.INLINE_BYTES = search_docs.INLINE_BYTES, 0
    try:
        search_split.write(site / "search", index)
    finally:
        search_docs.INLINE_BYTES = saved
    assert len(list((site / "search" / "kb" / "text").glob("*.json"))) > 3
    with serve(site) as url:
        yield url


@pytest.mark.browser
def test_results_are_drawn_before_their_text_then_again_as_with_all_of_it(chromium, chunked_url):
    tab = Tab(chromium, chunked_url)
    held, chunks = [], []
    try:
        page = tab.page
        page.on("request", lambda r: chunks.append(r.url) if "/search/kb/text/" in r.url else None)
        page.route("**/search/kb/text/*.json", lambda route: held.append(route))  # the text: held back
        tab.goto("qna/adagrad/")
        page.evaluate(DRAWS_JS)
        box = page.locator(SearchBox.INPUT)
        box.focus()
        page.keyboard.insert_text(QUERY)
        page.keyboard.press("End")
        page.wait_for_function("() => window.__draws.length > 0", timeout=60_000)
        page.wait_for_timeout(300)  # no text, no second drawing
        first = page.evaluate("() => window.__draws")
        assert len(first) == 1 and held, (len(first), len(held))

        for route in held:
            route.continue_()
        page.unroute("**/search/kb/text/*.json")
        page.wait_for_function("() => window.__draws.length > 1", timeout=30_000)
        page.wait_for_function("() => window.kbSearchKo.ready()", timeout=60_000)  # every text and shard
        again = page.evaluate("() => window.__draws")[1]

        page.locator(SearchBox.INPUT).fill("")  # the same query once everything has come: drawn once
        page.keyboard.press("End")
        page.wait_for_function("() => !document.querySelector('.md-search-result__list').children.length")
        page.evaluate(DRAWS_JS)
        page.keyboard.insert_text(QUERY)
        page.keyboard.press("End")
        page.wait_for_function("() => window.__draws.length > 0", timeout=30_000)
        page.wait_for_timeout(300)
        final = page.evaluate("() => window.__draws")
    finally:
        tab.close()
    assert tab.blocked == [] and tab.errors == []
    assert len(final) == 1, len(final)
    first, final = first[0], final[0]
    assert len(final) >= 5  # pages found, each with its results
    # before the text: the same pages, results and titles (marks too) in the same order, no teaser
    assert [[r[:2] for r in li] for li in first] == [[r[:2] for r in li] for li in final]
    assert all(r[2] == "" for li in first for r in li)
    # with it: what is drawn when every text is at hand, to the byte (teasers, marks, missing words)
    assert again == final
    assert sum(r[2] != "" for li in final for r in li) >= len(final)  # teasers were drawn


@pytest.mark.browser
def test_every_query_gets_from_the_chunks_the_answer_of_the_whole_index(chromium, chunked_url):
    tab = Tab(chromium, chunked_url)
    try:
        tab.goto("qna/adagrad/")
        tab.page.locator(SearchBox.INPUT).focus()
        tab.page.wait_for_function("() => window.kbSearchKo.split.engine() !== null", timeout=60_000)
        result = tab.page.evaluate(COMPARE_JS, [QUERIES, DUMP_JS])  # the text of every chunk loaded first
    finally:
        tab.close()
    assert tab.blocked == [] and tab.errors == []
    for q, r in result["answers"].items():
        assert r["alone"] is None, (q, r["alone"])  # (where the answers part, from the chunks, from the index)
    assert sum(r["found"] for r in result["answers"].values()) >= len(QUERIES) - 3
