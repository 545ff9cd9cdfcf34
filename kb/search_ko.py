"""Korean morphemes for Material's search index (an MkDocs hook, listed under ``hooks:``).

Material's search (lunr) matches every query term as a prefix of a token of the visible
text. Korean glues particles and endings to words and writes compounds with or without a
space, so the visible text alone misses most queries: ``검증`` does not find ``교차검증은``,
and ``교차검증`` does not find ``교차 검증``. This hook adds one more field to every entry of
``search/search_index.json``: the morphemes (kiwipiepy, offline model from
kiwipiepy-model) that a prefix search of the entry's title and text cannot find by itself:

* nouns (a noun and its derivational suffix joined: 조건+화 -> 조건화), including the
  parts of known compounds (교차검증 -> 교차, 검증);
* compounds joined from runs of nouns, with or without spaces (교차 검증 -> 교차검증);
* verb and adjective roots of two syllables or more (다른가요 -> 다르).

A term that is already a prefix of a visible token (모멘텀 of 모멘텀은) is left out: the text
field finds it. The field holds each term once, separated by spaces, and is indexed with the
boost that ``plugins: search: fields:`` gives it in mkdocs.yml. Titles, text and highlighting
are left as they are.

The query side is ``docs/javascripts/search-ko.js``: it strips particles and endings from
the query, splits known compounds and adds synonyms before the query reaches Material's
search worker. Its word lists come from this module, written into the site as
``javascripts/search-ko-data.js`` at build time, so both sides share one vocabulary.

Kiwi is loaded once per process (about a second) and the analysis of each title and text
is cached by content hash across rebuilds of ``mkdocs serve``. The index is written back
as UTF-8 (Material escapes every Hangul syllable as six ASCII characters), which more than
pays for the new field. Anything unexpected in the search index (a missing field, a field
that is already there, text that is not a string) raises a PluginError naming the page's
source file.
"""

from __future__ import annotations

import bisect
import hashlib
import html
import json
import re
from pathlib import Path
from typing import Iterable

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

FIELD = "morph"
DATA_JS = "javascripts/search-ko-data.js"

# Domain words Kiwi's dictionary lacks or splits wrongly, registered as general nouns (NNG).
# Compounds are not registered whole: Kiwi splits them into these parts and the hook joins
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
}

# Names of one concept; a query naming one also searches the others. Matching ignores case,
# spaces and hyphens ("Batch Normalization" = "batchnormalization").
SYNONYMS: tuple[tuple[str, ...], ...] = (
    ("배치 정규화", "batch normalization", "BatchNorm", "BN"),
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

NOUN_TAGS = {"NNG", "NNP"}
ROOT_TAGS = {"VV", "VA", "XR"}
MAX_RUN = 3  # join at most three nouns into one compound
MIN_LENGTH = 2  # a one-syllable term (배, 률, 층) would prefix-match too much to help
HANGUL = re.compile(r"[\uac00-\ud7a3]")
TAG_RE = re.compile(r"<[^>]*>")
# tags that end a line of text; inline tags (code, em, a) are part of the word they touch
BLOCK_TAG_RE = re.compile(r"</?(?:p|li|ul|ol|dl|dt|dd|table|thead|tbody|tr|td|th|div|pre|blockquote|br|hr|h[1-6])\b[^>]*>", re.I)


def plain_text(markup: str) -> str:
    """The index's markup as the reader sees it: blocks on lines of their own, entities decoded."""
    return html.unescape(TAG_RE.sub("", BLOCK_TAG_RE.sub("\n", markup)))


def _has_hangul(text: str) -> bool:
    return HANGUL.search(text) is not None


class Analyzer:
    """Kiwi with the domain words registered; turns an entry's title and text into terms."""

    def __init__(self, separator: str):
        from kiwipiepy import Kiwi  # import here: the model loads in about a second

        self.kiwi = Kiwi()
        for word in USER_WORDS:
            self.kiwi.add_user_word(word, "NNG", 0.0)
        self.separator = re.compile(separator)
        self.cache: dict[str, str] = {}  # sha1 of title and text -> terms
        self.used: set[str] = set()  # keys looked up since the last clear (one build)

    def visible_tokens(self, markup: str) -> list[str]:
        """The tokens the search worker makes of ``markup``, lowercased and sorted.

        Like Material's tokenizer: tags end a token, then the text splits at the separator.
        """
        tokens = set()
        for part in TAG_RE.split(markup):
            tokens.update(t.lower() for t in self.separator.split(html.unescape(part)) if t)
        return sorted(tokens)

    def units(self, tokens) -> list[tuple[str, int, int, str]]:
        """(form, start, end, kind) with kind 'noun' or 'root'; a noun keeps its prefix and suffix."""
        out: list[tuple[str, int, int, str]] = []
        i = 0
        while i < len(tokens):
            t = tokens[i]
            if t.tag in NOUN_TAGS:
                form, start, end = t.form, t.start, t.end
                if i > 0 and tokens[i - 1].tag == "XPN" and tokens[i - 1].end == start:
                    form, start = tokens[i - 1].form + form, tokens[i - 1].start
                while i + 1 < len(tokens) and tokens[i + 1].tag == "XSN" and tokens[i + 1].start == end:
                    i += 1
                    form, end = form + tokens[i].form, tokens[i].end
                if _has_hangul(form):
                    out.append((form, start, end, "noun"))
            elif t.tag in ROOT_TAGS and _has_hangul(t.form) and len(t.form) >= MIN_LENGTH:
                out.append((t.form, t.start, t.end, "root"))
            i += 1
        return out

    def candidates(self, text: str) -> Iterable[str]:
        """Every noun, root, joined compound and compound part of ``text``, in order."""
        units = self.units(self.kiwi.tokenize(text))
        run: list[tuple[str, int, int, str]] = []

        def flush():
            for n in range(2, min(MAX_RUN, len(run)) + 1):
                for k in range(len(run) - n + 1):
                    yield "".join(u[0] for u in run[k : k + n])
            run.clear()

        for unit in units:
            form, start, _end, kind = unit
            if kind == "noun":
                gap = text[run[-1][2] : start] if run else ""
                if gap.strip() or "\n" in gap:  # a run is nouns apart only by spaces, on one line
                    yield from flush()
                run.append(unit)
            else:
                yield from flush()
            yield form
        yield from flush()

    def terms(self, title: str, text: str) -> str:
        """The field's value for one entry: terms a prefix search of title and text would miss."""
        key = hashlib.sha1(f"{title}\0{text}".encode("utf-8")).hexdigest()
        self.used.add(key)
        if key in self.cache:
            return self.cache[key]
        visible = self.visible_tokens(f"{title}\n{text}")
        found: dict[str, None] = {}
        for term in self.candidates(plain_text(f"<p>{title}</p>{text}")):
            for t in (term, *COMPOUNDS.get(term, ())):
                t = t.lower()
                if len(t) >= MIN_LENGTH and t not in found and not _is_prefix_of_any(t, visible):
                    found[t] = None
        value = " ".join(found)
        self.cache[key] = value
        return value


def _is_prefix_of_any(term: str, sorted_tokens: list[str]) -> bool:
    i = bisect.bisect_left(sorted_tokens, term)
    return i < len(sorted_tokens) and sorted_tokens[i].startswith(term)


def query_data() -> dict:
    """What the query side (search-ko.js) needs: known words, compounds, synonym groups."""
    parts = {p for ps in COMPOUNDS.values() for p in ps if len(p) >= MIN_LENGTH}
    words = sorted(set(USER_WORDS) | set(COMPOUNDS) | parts)
    return {
        "field": FIELD,
        "words": words,
        "compounds": {k: list(v) for k, v in COMPOUNDS.items()},
        "synonyms": [list(group) for group in SYNONYMS],
    }


def add_field(index: dict, analyzer: Analyzer, source_of) -> dict:
    """Add the morpheme field to every entry of a parsed search index (in place) and return it.

    ``source_of(location)`` names the page's source file for error messages.
    """
    if not isinstance(index, dict) or not isinstance(index.get("docs"), list) or "config" not in index:
        raise PluginError("search/search_index.json: expected an object with 'config' and 'docs'")
    fields = index["config"].get("fields", {})
    if FIELD not in fields:
        raise PluginError(
            f"search/search_index.json: field '{FIELD}' is not configured; add it under "
            f"plugins: search: fields: in mkdocs.yml so that the worker indexes it"
        )
    for doc in index["docs"]:
        location = doc.get("location") if isinstance(doc, dict) else None
        if not isinstance(location, str):
            raise PluginError(f"search/search_index.json: entry without a location: {str(doc)[:80]}")
        where = source_of(location)
        if FIELD in doc:
            raise PluginError(f"{where}: search entry '{location}' already has a '{FIELD}' field")
        title, text = doc.get("title"), doc.get("text")
        if not isinstance(title, str) or not isinstance(text, str):
            raise PluginError(f"{where}: search entry '{location}' has no title or text string")
        try:
            value = analyzer.terms(title, text)
        except Exception as exc:  # Kiwi's errors do not name the page
            raise PluginError(f"{where}: morpheme analysis of '{location}' failed: {exc}") from exc
        if value:
            doc[FIELD] = value
    return index


# --- MkDocs hook ------------------------------------------------------------------------

_analyzer: Analyzer | None = None  # kept across rebuilds of `mkdocs serve`: MkDocs loads a hook once
_sources: dict[str, str] = {}  # page URL -> source file, for error messages


def _search_config(config):
    """The search plugin's configuration (Material registers it as material/search)."""
    plugin = config.plugins.get("material/search") or config.plugins.get("search")
    if plugin is None:
        raise PluginError(f"{Path(__file__).name}: Material's search plugin is not enabled in mkdocs.yml")
    return plugin.config


def on_config(config):
    search = _search_config(config)
    if FIELD not in search.fields:
        raise PluginError(
            f"mkdocs.yml: plugins: search: fields: has no '{FIELD}' entry; {Path(__file__).name} "
            f"writes that field and the search worker indexes only configured fields"
        )
    return config


def on_files(files, config):
    if files.get_file_from_path(DATA_JS) is not None:
        raise PluginError(f"docs/{DATA_JS}: this file is generated by {Path(__file__).name}; remove it")
    content = "// Generated by kb/search_ko.py at build time: the query side's vocabulary.\n"
    content += "window.kbSearchKoData = " + json.dumps(query_data(), ensure_ascii=False) + ";\n"
    files.append(File.generated(config, DATA_JS, content=content))
    return files


def on_page_context(context, page, config, nav):
    _sources[page.url] = f"docs/{page.file.src_uri}"
    return context


@event_priority(-100)  # after the search plugin has written the index
def on_post_build(config):
    global _analyzer
    search = _search_config(config)
    if not search.enabled:
        return
    path = Path(config.site_dir) / "search" / "search_index.json"
    if not path.is_file():
        raise PluginError(f"{path}: the search plugin wrote no index")
    if _analyzer is None or _analyzer.separator.pattern != search.separator:
        _analyzer = Analyzer(search.separator)
    index = json.loads(path.read_text(encoding="utf-8"))

    def source_of(location: str) -> str:
        return _sources.get(location.split("#", 1)[0], f"page '{location}'")

    _analyzer.used.clear()
    add_field(index, _analyzer, source_of)
    _analyzer.cache = {k: v for k, v in _analyzer.cache.items() if k in _analyzer.used}  # drop stale texts
    path.write_text(json.dumps(index, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
