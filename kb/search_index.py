"""The search index file: what kb adds to Material's ``search/search_index.json`` and writes beside it
(kb/plugin.py calls :func:`add_fields_to_file` after the search plugin has written the index).

Every entry gets the two fields of kb/search_ko.py's analysis (``morph``: the Korean morphemes a prefix
search of the visible text cannot find; ``syn``: the other names of the concepts it names). The text
shown under a result (Material's preview) is prose: code and program output (``<pre>`` blocks) move
from ``text`` to a third field, ``code`` (:func:`split_code`), which both searches still index, so a
code identifier still finds its page but a preview never shows code. A page's own entry left without
prose, or a notebook's (whose introduction is its H1 section), begins with the page's first paragraph
(:func:`_lead_for_pages`). The morphemes and names are found in what a reader sees (title and prose);
code is found by its own words, in the code field.

The index is written back as UTF-8 (Material escapes every Hangul syllable as six ASCII characters),
which more than pays for the new fields, read and written with orjson (:func:`json_bytes`,
:func:`json_value`). Beside it: the same index split by term for the first search
(kb/search_split.py, with the entries' text from kb/search_docs.py) and the index's words for hurried
queries (kb/search_variants.py). Anything unexpected in the index (a missing field, a field that is
already there, text that is not a string) raises a :class:`SearchIndexError` naming the page's source
file (the plugin shows it as MkDocs' PluginError). Nothing here needs MkDocs.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import orjson

from kb.search_ko import BLOCK_TAG_RE, TAG_RE, plain_text
from kb.search_words import CODE_FIELD, FIELD, FIELDS, NAMES_FIELD, SYNONYMS

if TYPE_CHECKING:
    from kb.search_ko import Analyzer

PRE_RE = re.compile(r"<pre\b[^>]*>.*?</pre\s*>", re.S | re.I)
PARAGRAPH_RE = re.compile(r"<p>(?:(?!</p>).)*</p>", re.S)


class SearchIndexError(ValueError):
    """The search index or its configuration is not what this module can add fields to."""


def add_field(index: dict, analyzer: Analyzer, source_of) -> dict:
    """Add the morpheme field to every entry of a parsed search index (in place) and return it.

    ``source_of(location)`` names the page's source file for error messages.
    """
    if not isinstance(index, dict) or not isinstance(index.get("docs"), list) or "config" not in index:
        raise SearchIndexError("search/search_index.json: expected an object with 'config' and 'docs'")
    fields = index["config"].get("fields", {})
    for field in FIELDS:
        if field not in fields:
            raise SearchIndexError(
                f"search/search_index.json: field '{field}' is not configured; add it under "
                f"plugins: search: fields: in mkdocs.yml so that the worker indexes it"
            )
    for doc in index["docs"]:  # the text a preview shows first, then its terms
        location = doc.get("location") if isinstance(doc, dict) else None
        if not isinstance(location, str):
            raise SearchIndexError(f"search/search_index.json: entry without a location: {str(doc)[:80]}")
        where = source_of(location)
        for field in FIELDS:
            if field in doc:
                raise SearchIndexError(f"{where}: search entry '{location}' already has a '{field}' field")
        title, text = doc.get("title"), doc.get("text")
        if not isinstance(title, str) or not isinstance(text, str):
            raise SearchIndexError(f"{where}: search entry '{location}' has no title or text string")
        if _has_code(text):
            if CODE_FIELD not in fields:
                raise SearchIndexError(
                    f"mkdocs.yml: plugins: search: fields: has no '{CODE_FIELD}' entry; kb/search_index.py moves "
                    f"code out of the previews into that field ({where}: '{location}' has code)")
            if CODE_FIELD in doc:
                raise SearchIndexError(f"{where}: search entry '{location}' already has a '{CODE_FIELD}' field")
            doc["text"], doc[CODE_FIELD] = split_code(text)
    _lead_for_pages(index["docs"], source_of)
    for doc in index["docs"]:
        location = doc["location"]
        try:
            value, names = analyzer.fields(doc["title"], doc["text"])
        except Exception as exc:  # Kiwi's errors do not name the page
            raise SearchIndexError(f"{source_of(location)}: morpheme analysis of '{location}' failed: {exc}") from exc
        if value:
            doc[FIELD] = value
        if names:
            doc[NAMES_FIELD] = names
    return index


@functools.lru_cache(maxsize=65536)  # a rebuild after one edit looks at the same entries' texts again
def _has_code(text: str) -> bool:
    return PRE_RE.search(text) is not None


@functools.lru_cache(maxsize=65536)  # a rebuild after one edit splits the same entries' texts again
def split_code(text: str) -> tuple[str, str]:
    """(the entry's text without its ``<pre>`` blocks, their plain text joined): what a preview shows,
    and what is only searched."""
    # entities stay escaped, as in ``text``: both searches split them off (the separator's &[a-z]+;)
    code = " ".join(TAG_RE.sub("", BLOCK_TAG_RE.sub(" ", m.group(0))) for m in PRE_RE.finditer(text))
    prose = re.sub(r"\s{2,}", " ", PRE_RE.sub(" ", text)).strip()
    return prose, re.sub(r"\s+", " ", code).strip()


def _lead_for_pages(docs: list[dict], source_of) -> None:
    """A page's own entry whose preview would not start with what the page is about begins with
    the first paragraph of the page's first section that has one: an entry without prose, and a
    notebook's, which gathers its code cells' outputs and whatever Markdown cells precede no heading,
    while the notebook's introduction is its H1 section."""
    for i, doc in enumerate(docs):
        location = doc["location"]
        if "#" in location or (plain_text(doc["text"]).strip() and not source_of(location).endswith(".ipynb")):
            continue
        for later in docs[i + 1:]:
            if not later["location"].startswith(location + "#"):
                break
            lead = next((p.group(0) for p in PARAGRAPH_RE.finditer(later["text"]) if plain_text(p.group(0)).strip()), None)
            if lead:
                if not doc["text"].startswith(lead):
                    doc["text"] = f"{lead} {doc['text']}".strip()
                break


def check_fields(configured) -> None:
    """Refuse a search configuration (``plugins: search: fields:``) that lacks a field written here."""
    for field in FIELDS:
        if field not in configured:
            raise SearchIndexError(
                f"mkdocs.yml: plugins: search: fields: has no '{field}' entry; kb/search_index.py "
                f"writes that field and the search worker indexes only configured fields"
            )


def json_bytes(value) -> bytes:
    """``value`` as compact JSON in UTF-8, non-ASCII as is (``json.dumps(value, ensure_ascii=False,
    separators=(",", ":"))``), written by orjson: a 500-page site's index in a fifth of json's time,
    on every `mkdocs serve` rebuild (benchmarks/README.md); by json where orjson refuses a value
    (an integer over 64 bits). A value JSON has no type for is written as its ``str``, as Material
    writes it."""
    try:
        return orjson.dumps(value, default=str)
    except (orjson.JSONEncodeError, TypeError):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")


def json_value(data: bytes):
    """The JSON value of ``data`` (UTF-8), read by orjson, or by json where orjson refuses it
    (an escaped lone surrogate, which json reads)."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


class Captured:
    """Material's index as the value its search plugin would write: kb writes the file itself, with
    its fields (:func:`add_fields_to_file`), so Material need not dump it nor kb read it back (15 MB
    at 500 pages, about a tenth of a saved edit in `mkdocs serve`, benchmarks/README.md).

    ``Captured(index)`` takes over ``index.generate_search_index`` (Material's ``SearchIndex``, which
    its plugin's on_post_build calls): it keeps ``{"config": ..., "docs": ...}``, as Material builds it,
    and hands Material an empty index to write until kb writes the real one. Material's own merge
    of a ``--dirty`` build (a ``prev`` index: kb/partial.py gives none) is left to Material."""

    KEYS = ("lang", "separator", "pipeline", "fields")  # what Material writes of its options

    def __init__(self, index):
        self.value: dict | None = None
        generate = index.generate_search_index

        def generate_search_index(prev):
            if prev:
                self.value = None
                return generate(prev)
            config = {key: index.config[key] for key in self.KEYS}
            self.value = {"config": config, "docs": [dict(entry) for entry in index.entries]}
            return '{"config":{},"docs":[]}'

        index.generate_search_index = generate_search_index

    def take(self) -> dict | None:
        value, self.value = self.value, None
        return value


def add_fields_to_file(path: Path, analyzer: Analyzer, source_of: Callable[[str], str],
                       index: dict | None = None) -> tuple[int, int]:
    """Add both fields to every entry of the index file at ``path`` (or of ``index``, the value the
    search plugin wrote there: :class:`Captured`), rewritten as UTF-8;
    returns (entries analysed, entries from the cache) of this call."""
    if not path.is_file():
        raise SearchIndexError(f"{path}: the search plugin wrote no index")
    if index is None:
        index = json_value(path.read_bytes())
    analyzer.cache.begin()
    analysed, hits = analyzer.analysed, analyzer.hits
    add_field(index, analyzer, source_of)
    analyzer.cache.save()
    path.write_bytes(json_bytes(index))
    from kb.search_split import write  # the same index split by term, for the first search (search/kb/)

    write(path.parent, index)
    from kb.search_variants import write_words  # the index's words and names' spellings, for hurried queries

    write_words(path.parent, index, SYNONYMS)
    return analyzer.analysed - analysed, analyzer.hits - hits
