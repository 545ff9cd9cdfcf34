"""The search index split by term (kb/search_split.py) and search-ko-engine.js's engine made from it.

The engine search-ko-engine.js makes from the split index (base.json and the shards a query needs) must
be the one it builds from the whole index (``buildEngine``, the path before the split), and answer
every query of the query sets (tests/search_quality.py) with the same results in the same order.
Both run in Chromium on the shared build: the split engine from base.json, docs.json, the shards and
the entries' text (search/kb/text/, kb/search_docs.py), buildEngine from search_index.json.
"""

from __future__ import annotations

import json

import pytest

import search_quality
from browser_helpers import Tab, chromium, site_url  # noqa: F401  (fixtures)
from kb import search_split
from search_box import SearchBox

pytestmark = pytest.mark.xdist_group("search_split")  # the page and the comparison once, on one worker (pytest.ini)
QUERIES = [q["query"] for name in search_quality.QUERY_SETS for q in search_quality.load(name)]


# --- the files, in process --------------------------------------------------------------------


def _index(docs: list[dict]) -> dict:
    return {"config": {}, "docs": docs}


def test_tokens_are_split_as_search_ko_js_splits_them():
    # tags and entities out; a dot splits unless a digit follows (0.9 stays); JavaScript's \s has
    # U+FEFF and not U+001C, its \d no Arabic-Indic digits
    text = "<b>nn.Module</b>의 lr=0.9&amp;Adam\ufeff모멘텀\x1c항 v.\u0663"
    assert search_split.tokens(text) == ["nn", "module", "의", "lr", "0.9", "adam", "모멘텀\x1c항", "v", "\u0663"]


def test_every_term_is_in_one_shard_in_javascript_order(monkeypatch):
    monkeypatch.setattr(search_split, "SHARD_BYTES", 60)  # a few terms a shard
    words = ["\U0001f600", "\uffe0", "beta", "alpha", "모멘텀", "모델", "adam", "ada"]  # U+1F600 sorts before U+FFE0 in UTF-16
    docs = [{"location": "p/", "title": "P", "text": " ".join(words)},
            {"location": "p/#s", "title": "S", "text": "alpha alpha", "tags": ["beta"]}]
    base, shards = search_split.split(_index(docs))
    terms = [entry[0] for shard in shards for entry in shard]
    assert terms == sorted(terms, key=search_split.js_order) and len(terms) == len(set(terms))
    assert terms.index("\U0001f600") < terms.index("\uffe0")
    assert len(shards) > 2 and base["shards"] == [shard[0][0] for shard in shards]
    alpha = next(entry for shard in shards for entry in shard if entry[0] == "alpha")
    assert alpha[1] == [0, 1, 1, 2]  # entry 0 once, entry 1 (delta-coded) twice
    beta = next(entry for shard in shards for entry in shard if entry[0] == "beta")
    assert beta[1] == [0, 1, 1, 2] and beta[2] == [1, 2]  # the tag counts 2, none of it the page's


def test_pages_get_their_length_and_title_words():
    docs = [{"location": "a/", "title": "Adam 옵티마이저", "text": "x y", "tags": ["optim"]},
            {"location": "a/#b", "title": "B", "text": "z", "morph": "옵티", "syn": "adaptive"}]
    base, shards = search_split.split(_index(docs))
    # title words count twice; text, morph once; tags and names not at all
    assert base["pages"] == [["a/", 2 * 2 + 2 + 2 + 1 + 1]]
    heads = {entry[0]: entry[3] for shard in shards for entry in shard if len(entry) > 3}
    assert heads == {"adam": [0], "옵티마이저": [0], "optim": [0]}


def test_an_index_without_entries_is_refused_with_its_file():
    with pytest.raises(search_split.SplitError, match="search/search_index.json"):
        search_split.split(_index([]))


# --- in Chromium, on the shared build -----------------------------------------------------------

# Every part of an engine that ranking and finding read.
DUMP_JS = """(e) => {
  const pages = {};
  for (const path of Object.keys(e.pages)) {
    const p = e.pages[path];
    pages[path] = {length: p.length, sorted: p.sorted, tf: p.sorted.map(t => p.tf.get(t)), tfSize: p.tf.size,
                   head: p.headSorted, headSize: p.head.size};
  }
  const s = e.sections;
  return {count: e.count, avgLength: e.avgLength, pages, docs: s.docs.length, articles: [...s.articles],
          tokens: s.tokens, postings: s.tokens.map(t => s.postings.get(t)), size: s.postings.size};
}"""

COMPARE_JS = """async ([queries, dump]) => {
  const split = window.kbSearchKo.split;
  const built = await split.built();  // buildEngine, as before the split
  const shared = split.fresh();  // the shards of every query, loaded one query after another
  const answers = {};
  for (const q of queries) {
    const alone = split.fresh();  // only the shards this query needs
    await split.load(alone, q);
    await split.load(shared, q);
    // compared here, as JSON (every field of every result, and the suggestions): the answers are large
    const was = JSON.stringify(split.answer(built, q));
    const one = JSON.stringify(split.answer(alone, q)), all = JSON.stringify(split.answer(shared, q));
    const at = (a) => { let i = 0; while (i < a.length && a[i] === was[i]) i++; return i; };
    answers[q] = {found: was !== "null" && JSON.parse(was).items.length > 0,
                  alone: one === was ? null : [at(one), one.slice(at(one) - 80, at(one) + 80), was.slice(at(one) - 80, at(one) + 80)],
                  shared: all === was ? null : [at(all), all.slice(at(all) - 80, at(all) + 80), was.slice(at(all) - 80, at(all) + 80)]};
  }
  const engineDump = new Function("return " + dump)();
  const full = split.fresh();
  await split.loadAll(full);
  return {answers, split: engineDump(full), built: engineDump(built), shards: full.shards.length};
}"""


@pytest.fixture(scope="module")
def page(chromium, site_url):
    """A page of the shared build whose search box was used: search-ko-engine.js has made its engine
    from the split index (base.json, docs.json)."""
    tab = Tab(chromium, site_url)
    tab.goto("qna/adagrad/")
    tab.page.locator(SearchBox.INPUT).focus()
    tab.page.wait_for_function("() => window.kbSearchKo.split.engine() !== null", timeout=60_000)
    yield tab.page
    tab.close()
    assert tab.blocked == [], f"requests to other hosts were attempted: {tab.blocked}"
    assert tab.errors == []


def spanning_queries(site) -> list[str]:
    """Prefixes whose terms lie in two shards or more: the common start of the last term of one
    shard and the first of the next (or the next one's first letter)."""
    folder = site / "search" / search_split.FOLDER
    base = json.loads((folder / "base.json").read_text(encoding="utf-8"))
    out = []
    for k in range(1, len(base["shards"])):
        last = json.loads((folder / f"{k - 1}.json").read_text(encoding="utf-8"))[-1][0]
        first = base["shards"][k]
        common = next((first[:i] for i in range(min(len(last), len(first)), 0, -1) if last[:i] == first[:i]), "")
        out.append(common or first[0])
    return out


@pytest.fixture(scope="module")
def compared(page, built_site):
    spanning = spanning_queries(built_site)
    result = page.evaluate(COMPARE_JS, [QUERIES + spanning, DUMP_JS])
    result["spanning"] = spanning
    return result


@pytest.mark.browser
def test_the_page_makes_its_engine_from_the_split_index(page):
    assert page.evaluate("() => Array.isArray(window.kbSearchKo.split.engine().shards)")


@pytest.mark.browser
def test_engine_from_the_split_index_is_the_one_built_from_the_whole_index(compared):
    split, built = compared["split"], compared["built"]
    assert compared["shards"] > 1
    assert split["tokens"] == built["tokens"]
    for key in ("count", "avgLength", "docs", "articles", "size"):
        assert split[key] == built[key], key
    for i, token in enumerate(built["tokens"]):
        assert split["postings"][i] == built["postings"][i], token
    assert split["pages"].keys() == built["pages"].keys()
    for path, page in built["pages"].items():
        assert split["pages"][path] == page, path


@pytest.mark.browser
def test_every_query_gets_the_same_answer_from_the_shards_it_needs(compared):
    answered = 0
    for q, r in compared["answers"].items():  # the query sets, then prefixes that span shards
        assert r["alone"] is None, (q, r["alone"])  # only this query's shards loaded: (where, split, built)
        assert r["shared"] is None, (q, r["shared"])  # and with those of the queries before it
        answered += r["found"]
    assert answered >= len(QUERIES) - 3  # the comparison is of answers, not of nothing
    spanning = [q for q in compared["spanning"] if compared["answers"][q]["found"]]
    assert spanning, compared["spanning"]  # some prefix found terms in more than one shard


@pytest.mark.browser
def test_a_query_fetches_only_the_shards_it_needs(chromium, site_url):
    tab = Tab(chromium, site_url)
    try:
        fetched: list[str] = []
        tab.page.on("request", lambda r: fetched.append(r.url.split("/search/kb/")[1]) if "/search/kb/" in r.url else None)
        tab.goto("")
        box = SearchBox(tab.page, tab.base)
        result = box.search("모멘텀이란", timeout_ms=60_000)
        assert result["paths"][0] == "qna/momentum-vs-nag/"
        shards = [name for name in fetched if name[0].isdigit()]  # not base.json, docs.json, text/ (the entries' text)
        base = json.loads(tab.page.evaluate("() => JSON.stringify(window.kbSearchKo.split.engine().shards)"))
        assert fetched[0] == "base.json" and 0 < len(shards) < len(base), fetched
        assert tab.page.evaluate("() => window.kbSearchKo.answered") == 1  # answered here, not by lunr
    finally:
        tab.close()
    assert tab.blocked == [] and tab.errors == []
