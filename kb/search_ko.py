"""Korean morphemes for Material's search index: the analysis of each entry's title and text
(kb/search_index.py adds its results to the index file that the search plugin wrote).

Material's search (lunr) matches every query term as a prefix of a token of the visible
text. Korean glues particles and endings to words and writes compounds with or without a
space, so the visible text alone misses most queries: ``검증`` does not find ``교차검증은``,
and ``교차검증`` does not find ``교차 검증``. This module adds a field to every entry of
``search/search_index.json``: the morphemes (kiwipiepy, offline model from
kiwipiepy-model) that a prefix search of the entry's title and text cannot find by itself:

* nouns (a noun and its derivational suffix joined: 조건+화 -> 조건화), including the
  parts of known compounds (교차검증 -> 교차, 검증);
* compounds joined from runs of nouns, with or without spaces (교차 검증 -> 교차검증);
* verb and adjective roots of two syllables or more (다른가요 -> 다르).

And a second field, ``syn``: the other names (SYNONYMS) of every concept the entry names and
does not write itself (Adagrad -> 아다그라드; 배치 정규화 -> BN, BatchNorm, 배치놈), so that a
query needs no synonyms of its own (each extra query term costs the search on every keystroke).

A term that is already a prefix of a visible token (모멘텀 of 모멘텀은), or already in the
morphemes, is left out of either field. Each field holds each term once, separated by spaces,
and is indexed with the boost that ``plugins: search: fields:`` gives it in mkdocs.yml. Titles are
left as they are.

The query side is ``docs/javascripts/search-ko.js`` and the search-ko-*.js files it reads: it strips
particles and endings from the query and splits known compounds (search-ko-rewrite.js), finds the
matching entries in its own copy of the index (search-ko-engine.js, search-ko-find.js: the worker's
answer, made in the page), and orders them by page, counting synonyms (search-ko-rank.js). Its word
lists come from kb/search_words.py, written into the site as
``javascripts/search-ko-data.js`` at build time, so both sides share one vocabulary. What the query
side reads hurried queries with (the index's words, the spellings members type for the glossary's
names) is written after the fields, by kb/search_variants.py.

The analysis of each entry (both fields) is cached on disk (``.cache/kb-search/`` in the project, or
``KB_SEARCH_CACHE=DIR``), keyed by a hash of its title and text, in one file per analyser
version (kiwipiepy and its model, the separator, the user words, this module's format and
its source and kb/search_words.py's: any edit to either starts a new cache, so a changed rule is never served
stale). A rebuild analyses only entries whose text changed, and Kiwi (about 2 s of CPU to
load) is loaded only on the first entry that is not in the cache: a build of unchanged pages
never loads it. In `mkdocs serve` it loads in a background thread after the first build
(:meth:`Analyzer.warm_up`), so that the first saved edit finds it loaded. After each build the
file keeps only the entries that build used, written atomically; two builds at once cost each
other cache misses, never a wrong entry. A damaged cache file is ignored (logged) and rewritten.
Nothing here needs MkDocs.
"""

from __future__ import annotations

import bisect
import hashlib
import html
import json
import logging
import os
import re
import threading
from importlib import metadata
from pathlib import Path
from typing import Iterable

from kb import search_words
from kb.search_words import COMPOUNDS, MIN_LENGTH, USER_WORDS, _has_hangul, synonym_terms

CACHE_FORMAT = 2  # of the cache file (2: "morphemes<TAB>names"); the rules: the source hash (analyser_version)
CACHE_ENV = "KB_SEARCH_CACHE"
log = logging.getLogger("mkdocs.plugins.kb.search")


NOUN_TAGS = {"NNG", "NNP"}
ROOT_TAGS = {"VV", "VA", "XR"}
MAX_RUN = 3  # join at most three nouns into one compound
TAG_RE = re.compile(r"<[^>]*>")
# tags that end a line of text; inline tags (code, em, a) are part of the word they touch
BLOCK_TAG_RE = re.compile(r"</?(?:p|li|ul|ol|dl|dt|dd|table|thead|tbody|tr|td|th|div|pre|blockquote|br|hr|h[1-6])\b[^>]*>", re.I)


def plain_text(markup: str) -> str:
    """The index's markup as the reader sees it: blocks on lines of their own, entities decoded."""
    return html.unescape(TAG_RE.sub("", BLOCK_TAG_RE.sub("\n", markup)))


def analyser_version(separator: str) -> str:
    """A hash of everything an entry's terms depend on besides its title and text."""
    parts = [
        str(CACHE_FORMAT),
        metadata.version("kiwipiepy"),
        metadata.version("kiwipiepy_model"),
        separator,
        json.dumps(USER_WORDS, ensure_ascii=False),
        Path(__file__).read_text(encoding="utf-8"),  # the rules and this format
        Path(search_words.__file__).read_text(encoding="utf-8"),  # the words, compounds and synonyms
    ]
    return hashlib.sha1("\0".join(parts).encode("utf-8")).hexdigest()


class TermCache:
    """Terms of search entries on disk: ``{sha1 of title and text: terms}`` in one JSON file.

    ``folder=None`` keeps them in memory only. The file is read on first use and written by
    :meth:`save`, which keeps only the entries looked up since :meth:`begin` (one build).
    """

    def __init__(self, folder: Path | None, version: str):
        self.path = folder / f"terms-{version[:20]}.json" if folder is not None else None
        self._entries: dict[str, str] | None = None
        self.used: set[str] = set()
        self.changed = False

    @property
    def entries(self) -> dict[str, str]:
        if self._entries is None:
            self._entries = self._read()
        return self._entries

    def _read(self) -> dict[str, str]:
        if self.path is None or not self.path.is_file():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            log.warning("%s: unreadable search cache, analysing again (%s)", self.path, exc)
            return {}
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            log.warning("%s: search cache is not a map of strings, analysing again", self.path)
            return {}
        return data

    def begin(self) -> None:
        self.used.clear()

    def get(self, key: str) -> str | None:
        self.used.add(key)
        return self.entries.get(key)

    def put(self, key: str, value: str) -> None:
        self.entries[key] = value
        self.changed = True

    def save(self) -> None:
        """Drop entries this build did not use; write the file atomically if anything changed."""
        stale = self.entries.keys() - self.used
        for key in stale:
            del self.entries[key]
        if self.path is None or not (self.changed or stale or not self.path.is_file()):
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for old in self.path.parent.glob("terms-*.json"):  # other analyser versions
            if old != self.path:
                old.unlink(missing_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.entries, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
        os.replace(tmp, self.path)
        self.changed = False


def load_kiwi():
    """Kiwi with the domain words registered, ready to analyse (about 2 s of CPU).

    Without the multi-word dictionary (proper nouns such as place names): loading and the first
    analysis take about 2.3 s of CPU instead of 5.4 s, and the terms of every entry of this
    site are the same. The first analysis after the words are added prepares Kiwi (more than
    half the cost, whatever the text): made here, so that a load in the background pays it too.
    """
    from kiwipiepy import Kiwi

    kiwi = Kiwi(load_multi_dict=False)
    for word in USER_WORDS:
        kiwi.add_user_word(word, "NNG", 0.0)
    kiwi.tokenize("준비")
    return kiwi


WARM_UP_THREAD = "kb-search-warm-up"


class Analyzer:
    """Kiwi with the domain words registered; turns an entry's title and text into terms.

    ``cache_dir``: where :class:`TermCache` keeps the terms across processes (``None``: in
    memory only). ``analysed`` counts the entries analysed (cache misses), ``hits`` the rest.
    """

    def __init__(self, separator: str, cache_dir: Path | None = None):
        self.separator = re.compile(separator)
        self.cache_dir = cache_dir
        self.cache = TermCache(cache_dir, analyser_version(separator))
        self._kiwi = None
        self._kiwi_lock = threading.Lock()  # one load: a caller that comes during it waits for it
        self.analysed = 0
        self.hits = 0

    @property
    def kiwi(self):
        """Kiwi (:func:`load_kiwi`), loaded on first use: a build whose entries are all cached never
        loads it. Thread-safe: a caller that comes while another thread (:meth:`warm_up`) loads it
        waits for that load; Kiwi is set only once made whole, and a failed load leaves it unset.
        """
        kiwi = self._kiwi
        if kiwi is None:
            with self._kiwi_lock:
                if self._kiwi is None:
                    self._kiwi = load_kiwi()
                kiwi = self._kiwi
        return kiwi

    @kiwi.setter
    def kiwi(self, value) -> None:  # a stand-in, in tests
        self._kiwi = value

    def warm_up(self) -> threading.Thread | None:
        """Load Kiwi in a daemon thread, unless it is loaded (`mkdocs serve`, after its first build).

        Returns the thread. An analysis that needs Kiwi meanwhile waits for this load; if the load
        fails, it is logged here and the next analysis that needs Kiwi loads it again (and fails as
        it would have without the warm-up).
        """
        if self._kiwi is not None:
            return None
        thread = threading.Thread(target=self._load_quietly, name=WARM_UP_THREAD, daemon=True)
        thread.start()
        return thread

    def _load_quietly(self) -> None:
        try:
            self.kiwi
        except Exception as exc:  # noqa: BLE001 - the analysis that needs Kiwi reports it
            # info, not a warning: one logged during a build would fail `mkdocs serve --strict`
            log.info("kb search: loading the Korean analyser in the background failed (%s); "
                     "the next analysis loads it", exc)

    def visible_tokens(self, markup: str) -> list[str]:
        """The tokens the search worker makes of ``markup``, lowercased and sorted.

        Like Material's tokenizer: tags end a token, then the text splits at the separator.
        """
        return sorted(set(self.ordered_tokens(markup)))

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

    def ordered_tokens(self, markup: str) -> list[str]:
        """The tokens of ``markup``, lowercased, in text order (:meth:`visible_tokens`: sorted, once each)."""
        out: list[str] = []
        for part in TAG_RE.split(markup):
            out.extend(t.lower() for t in self.separator.split(html.unescape(part)) if t)
        return out

    def fields(self, title: str, text: str) -> tuple[str, str]:
        """The two fields of one entry, (morphemes, names), cached by its title and text.

        Morphemes: terms a prefix search of title and text would miss. Names: the other names
        of the concepts the entry names, that it does not write (an entry that writes Adagrad
        is found by 아다그라드, one that writes 배치 정규화 by BN). The names are added here, once
        per entry at build time, rather than to every query: each extra query term costs the
        search worker a pass over the index on every keystroke. They are a field of their own
        so that the page ranking in search-ko-rank.js, which reads the morphemes, counts only what
        the page writes.
        """
        key = hashlib.sha1(f"{title}\0{text}".encode("utf-8")).hexdigest()
        cached = self.cache.get(key)
        if cached is not None and "\t" in cached:
            self.hits += 1
            morph, names = cached.split("\t", 1)
            return morph, names
        self.analysed += 1
        ordered = self.ordered_tokens(f"{title}\n{text}")
        visible = sorted(set(ordered))
        found: dict[str, None] = {}
        for term in self.candidates(plain_text(f"<p>{title}</p>{text}")):
            for t in (term, *COMPOUNDS.get(term, ())):
                t = t.lower()
                if len(t) >= MIN_LENGTH and t not in found and not _is_prefix_of_any(t, visible):
                    found[t] = None
        named = sorted(set(visible) | set(found))
        names = [t for t in synonym_terms(ordered, named) if t not in found and not _is_prefix_of_any(t, visible)]
        value = (" ".join(found), " ".join(names))
        self.cache.put(key, "\t".join(value))
        return value

    def terms(self, title: str, text: str) -> str:
        """The morpheme field of one entry (:meth:`fields`)."""
        return self.fields(title, text)[0]

    def names(self, title: str, text: str) -> str:
        """The names field of one entry (:meth:`fields`)."""
        return self.fields(title, text)[1]


def _is_prefix_of_any(term: str, sorted_tokens: list[str]) -> bool:
    i = bisect.bisect_left(sorted_tokens, term)
    return i < len(sorted_tokens) and sorted_tokens[i].startswith(term)


# --- what the plugin calls -------------------------------------------------------------


def cache_dir(project: Path) -> Path:
    """Where the terms are cached: ``KB_SEARCH_CACHE``, else ``.cache/kb-search`` in the project."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    return project / ".cache" / "kb-search"


def analyzer_for(current: Analyzer | None, separator: str, folder: Path) -> Analyzer:
    """``current`` (kept across `mkdocs serve` rebuilds) unless the settings changed, else a new one."""
    if current is None or current.separator.pattern != separator or current.cache_dir != folder:
        return Analyzer(separator, folder)
    return current
