"""The search's vocabulary, shared by both sides: the words, compounds and synonyms that
kb/search_ko.py's analysis registers and looks for in every entry, and what the query side
(``docs/javascripts/search-ko-words.js``) gets of them, written into the site at build time as
``javascripts/search-ko-data.js`` (:func:`data_js`), so that index and query read one list.

Also the names of the fields the analysis adds to the index (``morph``, ``syn``) and of the code
field (kb/search_index.py), which the query side reads by these names, and the rule by which a
text names a concept of :data:`SYNONYMS` (:func:`synonym_terms`). An edit here starts a new
analysis cache (kb/search_ko.py ``analyser_version`` hashes this file too). Nothing here needs MkDocs.
"""

from __future__ import annotations

import bisect
import json
import re

FIELD = "morph"
NAMES_FIELD = "syn"  # the other names of the concepts an entry names (SYNONYMS)
FIELDS = (FIELD, NAMES_FIELD)  # what kb/search_ko.py's analysis adds to every entry
CODE_FIELD = "code"  # the code and output moved out of an entry's text (kb/search_index.py split_code)
DATA_JS = "javascripts/search-ko-data.js"
MIN_LENGTH = 2  # a one-syllable term (배, 률, 층) would prefix-match too much to help
HANGUL = re.compile(r"[\uac00-\ud7a3]")


# Domain words Kiwi's dictionary lacks or splits wrongly, registered as general nouns (NNG).
# Compounds are not registered whole: Kiwi splits them into these parts and this module joins
# them again (배치 + 정규화 -> 배치정규화), so the parts stay searchable too.
USER_WORDS: tuple[str, ...] = (
    "배깅", "부스팅", "스태킹", "앙상블", "부트스트랩",
    "옵티마이저", "모멘텀", "네스테로프", "아다그라드", "아담", "알엠에스프롭",
    "어텐션", "트랜스포머", "인코더", "디코더", "임베딩", "토큰", "토크나이저", "셀프",
    "정규화", "배치", "미니배치", "드롭아웃", "하이퍼파라미터", "파라미터",
    "과적합", "과소적합", "교차", "검증", "홀드아웃",
    "역전파", "합성곱", "풀링", "스트라이드", "패딩", "활성화",
    "이터레이터", "파이토치", "텐서", "레이어",
)

# Compounds and their parts, for queries and for text where Kiwi keeps the compound whole.
COMPOUNDS: dict[str, tuple[str, ...]] = {
    "교차검증": ("교차", "검증"),
    "배치정규화": ("배치", "정규화"),
    "층정규화": ("층", "정규화"),
    "경사하강법": ("경사", "하강법"),
    "확률적경사하강법": ("확률적", "경사", "하강법"),
    "학습률": ("학습", "률"),
    "손실함수": ("손실", "함수"),
    "활성화함수": ("활성화", "함수"),
    "셀프어텐션": ("셀프", "어텐션"),
    "멀티헤드어텐션": ("멀티헤드", "어텐션"),
    "하이퍼파라미터": ("하이퍼", "파라미터"),
    "미니배치": ("미니", "배치"),
    "적응적학습률": ("적응적", "학습률"),
    "가중치감쇠": ("가중치", "감쇠"),
    "위치인코딩": ("위치", "인코딩"),
    "복원추출": ("복원", "추출"),
}

# Names of one concept; a query naming one also searches the others. Matching ignores case,
# spaces and hyphens ("Batch Normalization" = "batchnormalization").
SYNONYMS: tuple[tuple[str, ...], ...] = (
    ("배치 정규화", "batch normalization", "BatchNorm", "BN", "배치놈", "batch norm"),
    ("모멘텀", "momentum"),
    ("네스테로프", "Nesterov", "NAG"),
    ("교차 검증", "cross-validation", "k-fold", "k-겹"),
    ("배깅", "bagging", "bootstrap aggregating"),
    ("앙상블", "ensemble"),
    ("부트스트랩", "bootstrap"),
    ("아다그라드", "Adagrad"),
    ("어텐션", "attention"),
    ("트랜스포머", "Transformer"),
    ("옵티마이저", "optimizer", "최적화기"),
    ("과적합", "overfitting"),
    ("하이퍼파라미터", "hyperparameter"),
    ("학습률", "learning rate"),
    ("드롭아웃", "dropout"),
    ("합성곱", "convolution"),
    ("역전파", "backpropagation"),
    ("경사 하강법", "gradient descent"),
    ("손실 함수", "loss function"),
    ("임베딩", "embedding"),
    ("모듈", "module"),
    ("이터레이터", "iterator"),
    ("파이토치", "PyTorch"),
)


def _has_hangul(text: str) -> bool:
    return HANGUL.search(text) is not None


def _parts(name: str) -> list[str]:
    """A synonym as the worker splits it, lowercased: "cross-validation" -> cross, validation."""
    return [p for p in re.split(r"[\s\-]+", name.lower()) if p]


def _names(term: str, sorted_tokens: list[str]) -> bool:
    """Whether a token starts with ``term``, as the worker matches a typed word.

    A short Latin term (BN, NAG) must be the whole token or be followed by digits only (bn1):
    as a prefix it would also name "bnb" or "nagle".
    """
    i = bisect.bisect_left(sorted_tokens, term)
    for token in sorted_tokens[i:]:
        if not token.startswith(term):
            return False
        rest = token[len(term):]
        if not rest or len(term) > 3 or _has_hangul(term) or rest.isdigit():
            return True
    return False


def _names_in_order(parts: list[str], ordered: list[str], starts: dict[str, list[int]] | None = None) -> bool:
    """Whether the words ``parts`` follow each other in ``ordered`` (the last may carry a particle).

    ``starts``: where each token occurs in ``ordered`` (:func:`_positions`), if already made.
    """
    n = len(parts)
    if starts is None:
        starts = _positions(ordered)
    for i in starts.get(parts[0], ()):
        if (i + n <= len(ordered) and ordered[i : i + n - 1] == parts[:-1]
                and ordered[i + n - 1].startswith(parts[-1])):
            return True
    return False


def _positions(ordered: list[str]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for i, token in enumerate(ordered):
        out.setdefault(token, []).append(i)
    return out


def synonym_terms(ordered: list[str], sorted_tokens: list[str]) -> list[str]:
    """The parts of every name of each SYNONYMS group that the text names, in group order.

    ``ordered``: the text's tokens in order; ``sorted_tokens``: its tokens and morphemes, sorted.
    A group is named by any of its names: written joined (BatchNorm2d, 배치정규화는) or word by
    word (batch normalization, 교차 검증에서). Parts of one letter (the k of k-fold) are left out.
    """
    out: dict[str, None] = {}
    starts = _positions(ordered)
    for group in _SYNONYM_PARTS:
        for parts in group:
            if _names("".join(parts), sorted_tokens) or (len(parts) > 1 and _names_in_order(parts, ordered, starts)):
                break
        else:
            continue
        for parts in group:
            for part in parts:
                if len(part) >= MIN_LENGTH:
                    out[part] = None
    return list(out)


_SYNONYM_PARTS = [[_parts(name) for name in group] for group in SYNONYMS]


def query_data() -> dict:
    """What the query side (search-ko-words.js) needs: known words, compounds, synonym groups."""
    parts = {p for ps in COMPOUNDS.values() for p in ps if len(p) >= MIN_LENGTH}
    words = sorted(set(USER_WORDS) | set(COMPOUNDS) | parts)
    return {
        "field": FIELD,
        "names": NAMES_FIELD,
        "words": words,
        "compounds": {k: list(v) for k, v in COMPOUNDS.items()},
        "synonyms": [list(group) for group in SYNONYMS],
    }


def data_js() -> str:
    """``javascripts/search-ko-data.js``: the query side's vocabulary (:func:`query_data`)."""
    content = "// Generated by kb/search_words.py at build time: the query side's vocabulary.\n"
    return content + "window.kbSearchKoData = " + json.dumps(query_data(), ensure_ascii=False) + ";\n"
