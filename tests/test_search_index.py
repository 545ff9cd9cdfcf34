"""Korean search, the index side: the morpheme and names fields the build adds to Material's index.

kb/search_ko.py's analyser (morphemes, compounds, other names of a concept, its cache) is tested
directly on small texts; then the built site's index (kb/search_index.py adds the fields, changing
nothing else) and the query vocabulary and scripts the build serves beside it (kb/search_words.py).
The query side is tested in tests/test_search_query.py, the search box as a reader uses it in
tests/test_search.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from kb import search_index, search_ko, search_words

SCRIPTS = Path(__file__).resolve().parent.parent / "docs" / "javascripts"
# The query side's scripts in the order each needs the ones before it (each reads what those define on
# window); search-ko.js, which wraps Material's search worker, last.
SEARCH_KO_CHAIN = ["search-ko-data.js", "search-ko-query.js", "search-ko-text.js", "search-ko-words.js",
                   "search-ko-rewrite.js", "search-ko-engine.js", "search-ko-rank.js", "search-ko-find.js",
                   "search-ko.js"]
DEFAULT_SEPARATOR = r"[\s\-]+"


@pytest.fixture(scope="module")
def analyzer():
    return search_ko.Analyzer(DEFAULT_SEPARATOR)


def terms(analyzer, text: str, title: str = "") -> list[str]:
    return analyzer.terms(title, f"<p>{text}</p>").split()


# --- index side -------------------------------------------------------------------------


def test_compound_parts_are_indexed_when_prefix_search_misses_them(analyzer):
    found = terms(analyzer, "교차검증은 과적합을 막습니다.")
    assert "검증" in found  # 검증* does not match the visible token 교차검증은
    assert "교차검증" not in found and "교차" not in found  # 교차검증* and 교차* already match it


def test_nouns_written_apart_are_joined(analyzer):
    found = terms(analyzer, "교차 검증에서 k-겹을 나눕니다. 배치 정규화 층")
    assert "교차검증" in found
    assert "배치정규화" in found


def test_verb_and_adjective_roots_are_indexed(analyzer):
    found = terms(analyzer, "두 방법은 무엇이 다른가요? 기울기를 구해 내려오나요?")
    assert "다르" in found and "구하" in found  # 다르* and 구하* match neither 다른가요 nor 구해
    assert "내려오" not in found  # 내려오* already matches 내려오나요


def test_domain_words_are_single_nouns(analyzer):
    forms = {(t.form, t.tag) for t in analyzer.kiwi.tokenize("배깅과 앙상블, 아다그라드와 네스테로프, 옵티마이저를")}
    for word in ("배깅", "앙상블", "아다그라드", "네스테로프", "옵티마이저"):
        assert (word, "NNG") in forms, forms


def test_words_across_lines_or_markup_are_not_joined(analyzer):
    found = terms(analyzer, "<p>배치</p><p>정규화</p>")
    assert "배치정규화" not in found
    # an inline tag inside a word does not split it: <code>x</code>는 stays a particle
    assert "는" not in " ".join(terms(analyzer, "<code>momentum</code>은 옵티마이저의 모멘텀과 다릅니다"))


def test_one_syllable_terms_are_left_out(analyzer):
    assert all(len(t) >= search_ko.MIN_LENGTH for t in terms(analyzer, "학습률 배 층 집 폭을 정합니다"))


# --- the names field: other names of the concepts an entry names ------------------------------


def names(analyzer, text: str, title: str = "") -> list[str]:
    return analyzer.names(title, f"<p>{text}</p>").split()


@pytest.mark.parametrize("text", [
    "BatchNorm2d를 쓴다",  # written joined, as the start of a longer token
    "batch normalization을 쓴다",  # word by word
    "Batch-Normalization 층",  # the worker splits at the hyphen
    "배치 정규화는 평균을 뺀다",  # Korean word by word, a particle on the last word
    "배치정규화는 평균을 뺀다",  # Korean joined
    "BN 층",
    "bn1 = nn.BatchNorm2d(64)",  # a short name followed by digits
])
def test_an_entry_naming_a_concept_gets_its_other_names(analyzer, text):
    found = names(analyzer, text)
    tokens = analyzer.visible_tokens(f"<p>{text}</p>")
    morphemes = terms(analyzer, text)
    for name in ("배치", "정규화", "batchnorm", "bn", "배치놈", "batch", "normalization"):
        # each name is in the field unless the entry's own tokens or morphemes already find it
        assert name in found or name in morphemes or search_ko._is_prefix_of_any(name, tokens), (text, name, found)
    assert not set(found) & set(morphemes)


@pytest.mark.parametrize("text", [
    "bnb 양자화와 nagle 알고리즘",  # a short name (BN, NAG) is a whole token, not any prefix
    "배치 크기와 정규 분포",  # 배치 alone and 정규 are not 배치 정규화
    "bootstrap 표본",  # bootstrap names the bootstrap group, not bagging (bootstrap aggregating)
    "normalization batch",  # words of a name, in the wrong order
])
def test_an_entry_not_naming_a_concept_gets_none_of_its_names(analyzer, text):
    found = set(names(analyzer, text))
    assert not found & {"배치놈", "batchnorm", "네스테로프", "nesterov", "배깅", "bagging"}, (text, found)


def test_names_of_one_letter_are_left_out_and_nothing_visible_is_repeated(analyzer):
    found = names(analyzer, "k-fold로 나눈다")
    assert "교차" in found and "cross" in found and "validation" in found
    assert "k" not in found and "fold" not in found  # one letter; visible (k-fold -> k, fold)
    assert names(analyzer, "Adagrad와 아다그라드") == []  # both names written: nothing to add


def test_names_are_cached_with_the_terms(analyzer, monkeypatch):
    first = names(analyzer, "Adagrad는 학습률을 바꾼다")
    assert "아다그라드" in first
    monkeypatch.setattr(search_ko, "synonym_terms", lambda *a: pytest.fail("names computed twice"))
    assert names(analyzer, "Adagrad는 학습률을 바꾼다") == first


def _index(docs, fields=("title", "text", "tags", search_words.FIELD, search_words.NAMES_FIELD)):
    return {"config": {"fields": {f: {"boost": 1.0} for f in fields}}, "docs": docs}


def test_unexpected_entry_raises_with_the_source_file(analyzer):
    def source_of(location):
        return "docs/qna/adagrad.md"

    with pytest.raises(search_index.SearchIndexError, match=r"docs/qna/adagrad\.md.*qna/adagrad/#x"):
        search_index.add_field(_index([{"location": "qna/adagrad/#x", "title": "t", "text": None}]),
                            analyzer, source_of)
    for field in (search_words.FIELD, search_words.NAMES_FIELD):
        with pytest.raises(search_index.SearchIndexError, match=rf"docs/qna/adagrad\.md.*already has a '{field}'"):
            search_index.add_field(_index([{"location": "qna/adagrad/", "title": "t", "text": "", field: ""}]),
                                analyzer, source_of)
    with pytest.raises(search_index.SearchIndexError, match="'morph' is not configured"):
        search_index.add_field(_index([], fields=("title", "text")), analyzer, source_of)
    with pytest.raises(search_index.SearchIndexError, match="'syn' is not configured"):
        search_index.add_field(_index([], fields=("title", "text", search_words.FIELD)), analyzer, source_of)
    with pytest.raises(search_index.SearchIndexError, match="'config' and 'docs'"):
        search_index.add_field({"docs": []}, analyzer, source_of)


def test_analysis_is_cached_by_content(analyzer, monkeypatch):
    first = analyzer.terms("제목", "<p>교차검증은 과적합을 막습니다.</p>")

    class NoKiwi:
        def tokenize(self, text):
            raise AssertionError("analysed twice")

    monkeypatch.setattr(analyzer, "kiwi", NoKiwi())
    assert analyzer.terms("제목", "<p>교차검증은 과적합을 막습니다.</p>") == first


@pytest.fixture(scope="module")
def built_index(built_site) -> dict:
    return json.loads((built_site / "search" / "search_index.json").read_text(encoding="utf-8"))


def test_built_index_configures_and_fills_the_morpheme_field(built_index):
    assert search_words.FIELD in built_index["config"]["fields"]
    with_field = [d for d in built_index["docs"] if d.get(search_words.FIELD)]
    assert len(with_field) >= len(built_index["docs"]) // 2
    page = next(d for d in built_index["docs"] if d["location"] == "qna/cross-validation/")
    assert "교차검증에서" in page["title"]
    # 검증* does not match the title's 교차검증에서; the entry is found by it through the field
    # (or through a visible token that starts with 검증, which makes the field term redundant)
    analyzer = search_ko.Analyzer.__new__(search_ko.Analyzer)  # tokenizer only, no Kiwi
    analyzer.separator = re.compile(built_index["config"]["separator"])
    visible = analyzer.visible_tokens(f"{page['title']}\n{page['text']}")
    assert "검증" in page.get(search_words.FIELD, "").split() or search_ko._is_prefix_of_any("검증", visible)


def test_morpheme_terms_are_hangul_and_invisible_to_prefix_search(built_index):
    separator = built_index["config"]["separator"]
    analyzer = search_ko.Analyzer.__new__(search_ko.Analyzer)  # tokenizer only, no Kiwi
    analyzer.separator = re.compile(separator)
    for doc in built_index["docs"]:
        visible = analyzer.visible_tokens(f"{doc['title']}\n{doc['text']}")
        for term in doc.get(search_words.FIELD, "").split():
            assert re.search(r"[가-힣]", term), (doc["location"], term)
            assert not search_ko._is_prefix_of_any(term, visible), (doc["location"], term)


def test_names_field_holds_only_names_of_concepts_the_entry_names(built_index):
    analyzer = search_ko.Analyzer.__new__(search_ko.Analyzer)  # tokenizer only, no Kiwi
    analyzer.separator = re.compile(built_index["config"]["separator"])
    groups_of: dict[str, list[tuple[str, ...]]] = {}  # a part (bootstrap) can belong to two groups
    for group in search_words.SYNONYMS:
        for part in {p for name in group for p in search_words._parts(name)}:
            groups_of.setdefault(part, []).append(group)
    for doc in built_index["docs"]:
        markup = f"{doc['title']}\n{doc['text']}"
        visible = analyzer.visible_tokens(markup)
        named = sorted(set(visible) | set(doc.get(search_words.FIELD, "").split()))
        ordered = analyzer.ordered_tokens(markup)
        for term in doc.get(search_words.NAMES_FIELD, "").split():
            assert any(search_words._names("".join(search_words._parts(n)), named)
                       or search_words._names_in_order(search_words._parts(n), ordered)
                       for group in groups_of[term] for n in group), (doc["location"], term)  # KeyError: no name
            assert not search_ko._is_prefix_of_any(term, visible), (doc["location"], term)
    by_location = {d["location"]: d for d in built_index["docs"]}
    assert "아다그라드" in by_location["qna/adagrad/"].get(search_words.NAMES_FIELD, "").split()  # the page writes Adagrad
    assert not any("배치놈" in d.get(search_words.NAMES_FIELD, "") for loc, d in by_location.items()
                   if loc.startswith("qna/cross-validation/"))  # it never names batch normalization


def test_hook_adds_the_fields_and_changes_nothing_else(built_index, analyzer):
    """The build's fields computed again from its index without them: every entry through the
    run's search cache (what a rebuild does), and the entries of every third page by a fresh
    analyser without any cache (the analysis itself is deterministic, not only the cache)."""
    import copy
    import os

    ours = (search_words.FIELD, search_words.NAMES_FIELD)
    plain = copy.deepcopy(built_index)
    for doc in plain["docs"]:
        for field in ours:
            doc.pop(field, None)
    separator = plain["config"]["separator"]
    cached = search_ko.Analyzer(separator, Path(os.environ["KB_SEARCH_CACHE"]))
    again = search_index.add_field(copy.deepcopy(plain), cached, lambda location: location)
    assert again == built_index
    for before, after in zip(plain["docs"], again["docs"]):
        after = {k: v for k, v in after.items() if k not in ours}
        assert after == before  # title, text, tags, location as Material wrote them

    pages = sorted({doc["location"].split("#")[0] for doc in plain["docs"]})[::3]
    assert len(pages) >= 6
    sample = {**plain, "docs": [doc for doc in plain["docs"] if doc["location"].split("#")[0] in pages]}
    fresh = search_ko.Analyzer(separator)  # no cache; this module's Kiwi, loaded in this process
    fresh.kiwi = analyzer.kiwi
    fresh = search_index.add_field(copy.deepcopy(sample), fresh, lambda location: location)
    assert fresh["docs"] == [doc for doc in built_index["docs"] if doc["location"].split("#")[0] in pages]


def test_query_vocabulary_is_served_with_the_site(built_site):
    data_js = (built_site / search_words.DATA_JS).read_text(encoding="utf-8")
    data = json.loads(data_js.split("=", 1)[1].strip().rstrip(";"))
    assert data == search_words.query_data()
    page = (built_site / "index.html").read_text(encoding="utf-8")
    loaded = re.findall(r'<script src="[^"]*javascripts/(search-ko[a-z-]*\.js)"', page)
    # every query-side script of the site (search-ko-data.js is written by the build), none twice
    written = {Path(search_words.DATA_JS).name} | {p.name for p in SCRIPTS.glob("search-ko*.js")}
    assert sorted(loaded) == sorted(written)
    assert loaded == SEARCH_KO_CHAIN
    # all of them run before Material's bundle creates the search worker that search-ko.js wraps
    assert page.rindex('javascripts/search-ko.js"') < page.index("bundle.")
