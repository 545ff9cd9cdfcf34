"""Korean search, the query side: docs/javascripts/search-ko.js and the search-ko-*.js files it reads.

Run in Chromium on the built site (one tab for the module, ``shared_tab``): the functions the
scripts put on ``window.kbSearchKo`` are called in the page, the query rewriter (``normalize``,
``workerQuery``), teasers, a page's sections ranked, names marked in text, and the answers made in
the page compared with Material's own search worker (lunr) on the same index. The index side is
tested in tests/test_search_index.py, the search box as a reader uses it in tests/test_search.py.
"""

from __future__ import annotations

import pytest

from browser_helpers import chromium, shared_tab, site_url  # noqa: F401  (fixtures)
from search_box import SearchBox
import search_quality

# --- query side, in the browser -----------------------------------------------------------

NORMALIZED = [
    # typed -> terms that must be searched, synonyms that ranking counts (the index holds them,
    # so they are not sent), terms that must be neither
    ("모멘텀이란", ["모멘텀"], ["momentum"], ["모멘텀이란"]),
    ("배치 정규화가 뭐야", ["배치", "정규화", "배치정규화"], ["batchnorm", "bn"], ["정규화가", "뭐야"]),
    ("교차 검증에서", ["교차", "검증", "교차검증"], ["cross", "validation"], ["검증에서"]),
    ("교차검증은", ["교차검증", "교차", "검증"], [], ["교차검증은"]),
    ("BN", ["bn"], ["배치", "정규화", "batchnorm"], []),
    ("NAG", ["nag"], ["네스테로프", "nesterov"], []),
    ("네스테로프", ["네스테로프"], ["nag"], []),
    ("k-fold", ["fold"], ["교차", "검증"], ["k-fold", "k"]),
    ("Adagrad의 아이디어", ["adagrad", "아이디어"], ["아다그라드"], ["adagrad의"]),
    ("nn.Module의 modules()는", ["nn.module", "modules"], [], ["nn.module의"]),
    ("add_module", ["add_module"], [], []),
    ("차이", ["차이"], [], []),  # a weak word alone is still searched
]


@pytest.mark.browser
@pytest.mark.parametrize("typed, searched, counted, absent", NORMALIZED, ids=[n[0] for n in NORMALIZED])
def test_query_rewriting(shared_tab, typed, searched, counted, absent):
    result = shared_tab.page.evaluate("(q) => window.kbSearchKo.normalize(q)", typed)
    got = result["query"].lower().split()
    for term in searched:  # searched: the worker matches each query term as a prefix
        assert any(term.startswith(q) for q in got), (typed, result)
        assert term in result["concept"], (typed, result)  # and ranking counts it
    for term in counted:  # not sent (each query term costs the worker a pass), but ranked by
        assert term not in got and term in result["concept"], (typed, result)
        assert term in result["added"], (typed, result)
    for term in absent:
        assert term not in got and term not in result["concept"], (typed, result)


@pytest.mark.browser
@pytest.mark.parametrize("typed", ["배치 정규화가 뭐야", "BN", "아다그라드는 학습률을 어떻게 바꾸나요", "교차검증"])
def test_query_sends_no_term_another_term_already_matches(shared_tab, typed):
    """batchnorm after batch finds nothing more (prefix match) and only slows the worker down."""
    result = shared_tab.page.evaluate("(q) => window.kbSearchKo.normalize(q)", typed)
    got = result["query"].lower().split()
    assert len(got) == len(set(got))
    for term in got:
        assert not any(other != term and term.startswith(other) for other in got), (term, got)
    assert len(result["concept"]) > len(got)  # the covered forms still count for ranking


TEASER_JS = """(text) => {
  const out = window.kbSearchKo.teaser(text);
  const plain = (html) => { const d = document.createElement("div"); d.innerHTML = html; return d.textContent; };
  return {out, plain: plain(out), whole: plain(text), marks: (out.match(/<mark>/g) || []).length};
}"""


@pytest.mark.browser
@pytest.mark.parametrize("offset", [0, 150, 500, 2000])
def test_long_section_text_is_cut_around_its_first_match(shared_tab, offset):
    filler = "가나다 <code>x &amp; y</code> 라마 &lt;tag&gt; <a href=\"#a\">링크</a> " * 60
    text = filler[:offset] + " 앞 <mark>정규화</mark> 뒤 " + filler
    r = shared_tab.page.evaluate(TEASER_JS, text)
    assert len(r["out"]) < 480 < len(text)
    assert r["marks"] == 1, r["out"]  # the first highlighted word is in the teaser
    core = r["plain"].removeprefix("… ").removesuffix(" …")
    assert core in r["whole"], r["out"]  # only whole tags and entities: the text is a piece of the original
    assert r["plain"].endswith(" …")
    assert r["plain"].startswith("… ") == (offset > 100)


@pytest.mark.browser
def test_short_section_text_is_kept_whole(shared_tab):
    text = "짧은 <mark>글</mark> &amp; <code>코드</code>"
    assert shared_tab.page.evaluate("(t) => window.kbSearchKo.teaser(t)", text) == text


@pytest.mark.browser
def test_a_page_shows_its_best_sections_only(shared_tab):
    group = [{"location": "qna/x/", "title": "x", "text": "", "score": 1, "terms": {}}] + [
        {"location": f"qna/x/#s{i}", "title": f"s{i}", "text": "", "score": s, "terms": {}}
        for i, s in enumerate([5, 1, 9, 3, 7, 2, 8])]
    shown = shared_tab.page.evaluate(
        "(g) => window.kbSearchKo.rank([g], {concept: {}, added: []})[0].map(i => i.location)", group)
    assert shown == ["qna/x/", "qna/x/#s0", "qna/x/#s2", "qna/x/#s4", "qna/x/#s6"]  # page first, 4 best in page order


@pytest.mark.browser
def test_lunr_syntax_is_left_alone(shared_tab):
    for typed in ('"교차검증에서"', "title:모멘텀이란", "모멘텀이란~1", "+모멘텀이란"):
        result = shared_tab.page.evaluate("(q) => window.kbSearchKo.normalize(q)", typed)
        if typed.startswith("+"):
            assert result["query"] == "+모멘텀"
        else:
            assert result["query"] == typed


# Material's own worker (lunr) on the site's index, started in the page from a blob: URL, so that
# search-ko.js does not attach to it. Answers {query: [sorted locations of every matched section]}.
LUNR_JS = """async (queries) => {
  const config = JSON.parse(document.getElementById("__config").textContent);
  const base = new URL(config.base, location.href);
  const index = await (await fetch(new URL("search/search_index.json", base))).json();
  const url = new URL(config.search, base).href;
  const blob = URL.createObjectURL(new Blob([`importScripts(${JSON.stringify(url)})`], {type: "text/javascript"}));
  const worker = new Worker(blob);
  const next = () => new Promise(resolve => worker.addEventListener("message", ev => resolve(ev.data), {once: true}));
  let ready = next();
  worker.postMessage({type: 0, data: {config: index.config, docs: index.docs, options: {suggest: true}}});
  await ready;
  const out = {};
  for (const q of queries) {
    const sent = window.kbSearchKo.workerQuery(q);  // what the worker is sent, when it is asked
    const answer = next();
    worker.postMessage({type: 2, data: sent});
    const result = (await answer).data;
    const mine = window.kbSearchKo.find(q);
    const sections = (items) => items.flat().filter(i => Object.values(i.terms).some(Boolean))
      .map(i => i.location).sort();
    out[q] = {lunr: sections(result.items), kb: sections(mine.items),
              lunrPages: result.items.map(g => g[0].location.split("#")[0]).sort(),
              kbPages: mine.items.map(g => g[0].location.split("#")[0]).sort()};
  }
  worker.terminate();
  return out;
}"""


@pytest.mark.browser
def test_answers_made_in_the_page_match_the_same_sections_as_material_worker(shared_tab):
    """search-ko.js answers queries from its own copy of the index; it must find what lunr finds."""
    queries = [q["query"] for name in search_quality.QUERY_SETS for q in search_quality.load(name)]
    shared_tab.page.locator(SearchBox.INPUT).focus()  # the index is fetched on first use
    shared_tab.page.wait_for_function("() => window.kbSearchKo.ready()")
    results = shared_tab.page.evaluate(LUNR_JS, queries)
    assert sum(bool(r["lunr"]) for r in results.values()) >= len(queries) - 2  # the worker did answer
    for q, r in results.items():
        assert r["kb"] == r["lunr"], (q, sorted(set(r["kb"]) ^ set(r["lunr"])))
        assert r["kbPages"] == r["lunrPages"], q


@pytest.mark.browser
@pytest.mark.parametrize("typed, start", [("모멘", "모멘"), ("adag", "adag"), ("nn.Mod", "mod"), ("컨볼", None)])
def test_answers_made_in_the_page_suggest_a_title_word_that_completes_the_last_one(shared_tab, typed, start):
    """search.suggest: the last suggestion completes the last word, from a title that has every word."""
    shared_tab.page.locator(SearchBox.INPUT).focus()
    shared_tab.page.wait_for_function("() => window.kbSearchKo.ready()")
    found = shared_tab.page.evaluate("(q) => window.kbSearchKo.find(q)", typed)
    if start is None:  # no title has a word that starts with it (Material's worker suggests nothing either)
        assert found["suggest"] == []
        return
    last = found["suggest"][-1]
    assert last.startswith(start), found["suggest"]
    titles = [item["title"].lower() for group in found["items"] for item in group]
    assert any(last in title for title in titles), (last, titles[:5])


# Material's worker created as Material creates it (search-ko.js attaches to it), with a listener
# added after search-ko.js's own, where Material's is: what would Material be shown?
SHOWN_JS = """async ([first, second, wait]) => {
  const config = JSON.parse(document.getElementById("__config").textContent);
  const base = new URL(config.base, location.href);
  const index = await (await fetch(new URL("search/search_index.json", base))).json();
  const worker = new Worker(new URL(config.search, base).href);
  const shown = [];
  let ready;
  const isReady = new Promise(resolve => { ready = resolve; });
  worker.addEventListener("message", ev => {
    if (ev.data.type === 1) ready();
    else shown.push(ev.data.data.items.map(g => g[0].location.split("#")[0]));
  });
  worker.postMessage({type: 0, data: {config: index.config, docs: index.docs, options: {suggest: true}}});
  await isReady;
  const answered = window.kbSearchKo.answered;
  worker.postMessage({type: 2, data: first});
  // wait: until the worker has answered the first query (a fixed second was too short under load)
  for (const until = Date.now() + 30000; wait && shown.length === 0 && Date.now() < until;)
    await new Promise(resolve => setTimeout(resolve, 20));
  if (second !== null) worker.postMessage({type: 2, data: second});
  await new Promise(resolve => setTimeout(resolve, 1500));
  worker.terminate();
  return {shown, answeredHere: window.kbSearchKo.answered - answered};
}"""


@pytest.mark.browser
def test_a_worker_answer_older_than_one_made_in_the_page_is_not_shown(shared_tab):
    shared_tab.page.locator(SearchBox.INPUT).focus()
    shared_tab.page.wait_for_function("() => window.kbSearchKo.ready()")
    # lunr syntax goes to the worker; the next query is answered in the page before the worker replies
    r = shared_tab.page.evaluate(SHOWN_JS, ["title:어텐션", "모멘텀이란", False])
    assert r["answeredHere"] == 1
    assert len(r["shown"]) == 1 and r["shown"][0][0] == "qna/momentum-vs-nag/", r
    # the worker's answer is shown when no later query was answered first
    r = shared_tab.page.evaluate(SHOWN_JS, ["title:어텐션", "모멘텀이란", True])
    assert len(r["shown"]) == 2 and any(p.startswith(("papers/attention", "notebooks/attention")) for p in r["shown"][0]), r
    assert r["shown"][1][0] == "qna/momentum-vs-nag/"
    r = shared_tab.page.evaluate(SHOWN_JS, ["title:어텐션", None, False])  # and alone, of course
    assert r["answeredHere"] == 0 and len(r["shown"]) == 1 and r["shown"][0], r


@pytest.mark.browser
def test_worker_is_not_sent_a_hyphen_lunr_would_read_as_without(shared_tab):
    q = "(q) => window.kbSearchKo.workerQuery(q)"
    assert shared_tab.page.evaluate(q, "cross-validation") == "cross validation"
    assert shared_tab.page.evaluate(q, "-모멘텀") == "-모멘텀"  # a real "without" stays
    assert shared_tab.page.evaluate(q, "title:모멘텀이란") == "title:모멘텀이란"  # lunr syntax: as typed


MARKED = [
    # text, names -> text with the names marked
    ("Adagrad는 학습률을", ["adagrad"], "<mark>Adagrad</mark>는 학습률을"),
    ('<a href="adagrad.html" title="adagrad">보기</a> (adagrad)', ["adagrad"],
     '<a href="adagrad.html" title="adagrad">보기</a> (<mark>adagrad</mark>)'),  # never inside a tag
    ("&amp; amp", ["amp"], "&amp; <mark>amp</mark>"),  # nor an entity
    ("<mark>batch</mark>norm batchnorm", ["batchnorm"], "<mark>batch</mark>norm <mark>batchnorm</mark>"),
    ("minibatchnorm 배치놈은", ["batchnorm", "배치놈"], "minibatchnorm <mark>배치놈</mark>은"),  # word starts only
    ("axb a+b", ["a.b", "a+b"], "axb <mark>a+b</mark>"),  # names are text, not patterns
]


@pytest.mark.browser
@pytest.mark.parametrize("text, names, expected", MARKED)
def test_names_found_through_the_index_are_marked_in_text_only(shared_tab, text, names, expected):
    assert shared_tab.page.evaluate("([t, n]) => window.kbSearchKo.markNames(t, n)", [text, names]) == expected
