"""Queries typed in a hurry (issue #29): unspaced Korean, glued endings, other spellings, one wrong key.

The build side (kb/search_variants.py) is tested directly; the query side (search-ko-query.js and
the "hurried queries" part of search-ko-words.js) in Chromium on the built site, through
``window.kbSearchKo.expand`` and ``normalize``. The whole search over tests/search_hurried.yaml is
measured with the careful sets in tests/test_search.py (test_site_search_recall).
"""

from __future__ import annotations

import json

import pytest

from browser_helpers import Tab, chromium, site_url  # noqa: F401  (fixtures)
from kb import search_variants, search_words
from search_box import SearchBox


# --- build side ------------------------------------------------------------------------------

GLOSSARY = """# 용어집

| 영문 | 한글 | 비고 |
|---|---|---|
| adaptive gradient (Adagrad) | 적응적 경사 (Adagrad) | |
| k-fold cross-validation | k-겹 교차검증 | |
| cross entropy | 교차 엔트로피 | VGG: 끝 층 |
| dropout | 드롭아웃 | |
"""


def test_variants_are_made_from_the_glossary_by_rule(tmp_path):
    path = tmp_path / "glossary.md"
    path.write_text(GLOSSARY, encoding="utf-8")
    made = search_variants.variants(*search_variants.glossary_names(path))
    assert made["sounds"]["TKLT"] == "adagrad"  # 아다그라드, 에이다그래드: the consonants of adagrad
    assert made["sounds"][search_variants.latin_skeleton("dropout")] == "dropout"
    assert "k fold cross validation" in made["joined"] and "cross entropy" in made["joined"]
    assert made["spaced"] == ["교차 엔트로피", "적응적 경사"]  # 교차엔트로피 is split on the query side
    assert "vgg" not in " ".join(made["sounds"].values())  # an acronym of 비고 has a skeleton of two: left out


@pytest.mark.parametrize("latin, skeleton", [
    ("adagrad", "TKLT"), ("bootstrap", "PTSTLP"), ("nesterov", "NSTLP"), ("normalization", "NMLCSN"),
    ("smoothing", "SMTG"), ("transformer", "TLNSPM"), ("hyperparameter", "HPLMT"), ("kfold", "KPLT"),
])
def test_latin_skeleton_keeps_the_consonants_korean_spelling_writes(latin, skeleton):
    assert search_variants.latin_skeleton(latin) == skeleton


def test_a_skeleton_of_the_sites_own_names_is_not_shared_with_glossary_words():
    sounds = search_variants.query_variants(search_words.SYNONYMS)["sounds"]
    assert sounds["KPLT"] == "k-fold"  # not covariate (internal covariate shift), which spells the same consonants


def test_index_words_cut_particles_and_keep_only_words_no_other_word_starts_with():
    index = {"docs": [{"title": "모멘텀과 NAG", "text": "<p>모멘텀은 관성 &amp; 모멘텀계수를</p>", "morph": "관성항"}]}
    assert search_variants.index_words(index) == ["nag", "관성항", "모멘텀계수"]


def test_front_coded_words_read_back_as_written():
    words = ["adagrad", "adam", "모멘텀계수", "모멘텀항", "모수", "학습률감쇠"]
    coded = search_variants.front_coded(words)
    assert coded == "0adagrad 3m 0모멘텀계수 3항 1수 0학습률감쇠"
    assert search_variants.read_front_coded(coded) == words


def test_the_built_site_serves_the_index_words_and_the_variants(built_site):
    words = json.loads((built_site / "search" / search_variants.WORDS_FILE).read_text(encoding="utf-8"))
    assert words["format"] == search_variants.WORDS_FORMAT
    listed = search_variants.read_front_coded(words["words"])
    assert listed == sorted(listed) and "드롭아웃" in listed and "adagrad" in listed
    assert {k: words[k] for k in ("sounds", "joined", "spaced")} == search_variants.query_variants(search_words.SYNONYMS)
    page = (built_site / "index.html").read_text(encoding="utf-8")
    assert (page.index("search-ko-data.js") < page.index("search-ko-query.js") < page.index("search-ko-words.js")
            < page.index("search-ko.js\""))


# --- query side, in the browser --------------------------------------------------------------


@pytest.fixture(scope="module")
def tab(chromium, site_url):
    t = Tab(chromium, site_url)
    t.goto("")
    SearchBox(t.page, t.base).open()  # the index words are fetched on first use
    yield t
    t.close()
    assert t.blocked == [], f"requests to other hosts were attempted: {t.blocked}"
    assert t.errors == []


def rewrite(tab, typed: str) -> dict:
    result = tab.page.evaluate("(q) => window.kbSearchKo.normalize(q)", typed)
    result["sent"] = result["query"].lower().split()
    return result


def sends(result: dict, term: str) -> bool:
    """Whether the search is sent ``term`` or a term it starts with (the search matches prefixes)."""
    return any(term.startswith(q) for q in result["sent"])


UNSPACED = [
    # typed -> words that must be searched (each a word of the index)
    ("드롭아웃과배치정규화", ["드롭아웃", "배치정규화"]),
    ("옵티마이저학습률차이", ["옵티마이저", "학습률"]),
    ("정규화가왜필요해요", ["정규화", "필요"]),
    ("드롭아웃이뭐에요", ["드롭아웃"]),
    ("kfold하고나서최종모델", ["fold", "최종", "모델"]),
]


@pytest.mark.browser
@pytest.mark.parametrize("typed, searched", UNSPACED, ids=[u[0] for u in UNSPACED])
def test_unspaced_korean_is_split_into_the_words_the_index_knows(tab, typed, searched):
    result = rewrite(tab, typed)
    for term in searched:
        assert sends(result, term), (typed, result["sent"])
    assert len(result["sent"]) <= len(searched) + 1, (typed, result["sent"])  # endings are not searched


SPELLINGS = [
    # typed -> the name the pages write
    ("에이다그래드", "adagrad"),
    ("네스테롭", "nesterov"),
    ("붓스트랩", "bootstrap"),
    ("배치노멀라이제이션", "normalization"),
    ("엔엘피엔지니어", "nlp"),
    ("브이지지", "vgg"),
    ("kfold", "fold"),
    ("트렌스포머", "transformer"),
    ("옵티마이져", "optimizer"),
]


@pytest.mark.browser
@pytest.mark.parametrize("typed, name", SPELLINGS, ids=[s[0] for s in SPELLINGS])
def test_a_name_spelled_another_way_is_read_as_the_pages_write_it(tab, typed, name):
    result = rewrite(tab, typed)
    assert sends(result, name), (typed, result["sent"])


@pytest.mark.browser
def test_a_letter_typed_apart_from_its_name_is_not_searched_alone(tab):
    result = rewrite(tab, "k fold 테스트셋")
    assert "k" not in result["sent"] and sends(result, "fold")  # k alone starts nearly every word
    assert "교차" in result["concept"]  # k-fold's synonyms still rank


# Korean words: a loanword with a wrong vowel (트렌스포머, 옵티마이져) is read by its consonants (SPELLINGS)
TYPOS = [("앙상불", "앙상블"), ("교차겸증", "교차검증"), ("배치졍규화", "배치정규화"), ("과적헙", "과적합"),
         ("역전퍄", "역전파"), ("합성꼽", "합성곱")]


@pytest.mark.browser
@pytest.mark.parametrize("typed, meant", TYPOS, ids=[t[0] for t in TYPOS])
def test_one_wrong_korean_letter_is_forgiven(tab, typed, meant):
    result = rewrite(tab, typed)
    assert meant in result["concept"] and sends(result, meant), (typed, result["concept"])
    assert typed not in result["concept"], (typed, result["concept"])


@pytest.mark.browser
def test_jamo_distance_counts_korean_letters_not_syllables(tab):
    got = tab.page.evaluate("""() => {
      const Q = window.kbSearchKoQuery, d = (a, b) => Q.jamoDistance(Q.jamo(a), Q.jamo(b), 3);
      return [d("모맨텀", "모멘텀"), d("가", "각"), d("각", "낙"), d("모멘텀", "모멘텀"), d("앙상블", "앙상"),
              d("배깅", "부스팅")];
    }""")
    # a vowel; a final letter; an initial letter; none; a syllable of three letters; more than three
    assert got == [1, 1, 1, 0, 3, 4]


@pytest.mark.browser
def test_short_words_and_words_the_index_knows_are_left_as_typed(tab):
    expand = "(q) => window.kbSearchKo.expand(q)"
    assert tab.page.evaluate(expand, "폴드") == ["폴드"]  # two syllables: 홀드 is one letter away too
    assert tab.page.evaluate(expand, "교차검증은") == ["교차검증은"]  # careful queries read as before
    assert tab.page.evaluate(expand, "Adagrad의") == ["Adagrad의"]
    assert tab.page.evaluate(expand, "나눠서") == ["나눠서"]  # not 나눠 + a syllable nothing knows


@pytest.mark.browser
def test_skeletons_of_member_spellings_agree_with_the_build_side(tab):
    pairs = [("adagrad", "에이다그래드"), ("adagrad", "아다그라드"), ("bootstrap", "붓스트랩"), ("nesterov", "네스테롭"),
             ("normalization", "노멀라이제이션"), ("label", "레이블"), ("label", "라벨"), ("smoothing", "스무딩"),
             ("transformer", "트렌스포머"), ("optimizer", "옵티마이져"), ("dropout", "드랍아웃"), ("momentum", "모멘텀")]
    got = tab.page.evaluate("(words) => words.map((w) => window.kbSearchKoQuery.skeleton(w))", [h for _, h in pairs])
    assert got == [search_variants.latin_skeleton(latin) for latin, _ in pairs]
