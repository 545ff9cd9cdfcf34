"""The text of the search entries in chunks, for the first result without the whole text (search-ko-text.js).

A result shows an entry's location, title, tags and a teaser cut from its text. search-ko-find.js and
search-ko-rank.js find and rank results from the index split by term (kb/search_split.py) and the
entries' locations and titles (``search/kb/docs.json``); only the sections drawn need their text, which
is nine tenths of what a result shows (7.5 of 8.2 MB at 520 pages). So the text of an archive with more
than ``INLINE_BYTES`` of it is written apart, in chunks of ``TEXT_ENTRIES`` consecutive entries, and
search-ko-text.js fetches the chunks of the results Material draws first (ten pages), then the rest in
the background (a smaller archive's text stays in docs.json):

``search/kb/text/<k>.json``
    ``{"first": k * TEXT_ENTRIES, "text": [text of entry first, first + 1, ...]}``, entries counted
    as in docs.json (every entry of the index with a string location, in order).

``TEXT_ENTRIES`` is also written in search-ko-text.js; a chunk names its first entry, so a page
that assumes another size finds out. tests/test_search_text.py checks the files and, in Chromium,
that the results drawn from these chunks are the ones drawn from the whole text.
"""

from __future__ import annotations

from kb.search_index import json_bytes

TEXT_ENTRIES = 32  # entries a chunk: about 40 KB of JSON (a query's first ten pages need 10-20 chunks)
FOLDER = "text"  # under search/kb/
# Up to this much text in all, docs.json holds it and no chunk is written: the first search fetches
# it with docs.json, and the results are drawn once, with their teasers (at 72 pages, 0.9 MB of text,
# the chunks drew the first result no sooner and its teaser 0.15 s later: benchmarks/README.md).
INLINE_BYTES = 2_000_000


def texts(index: dict) -> list:
    """The text of every entry docs.json lists, in its order."""
    return [doc.get("text") for doc in index.get("docs", [])
            if isinstance(doc, dict) and isinstance(doc.get("location"), str)]


def inline(index: dict) -> bool:
    """Whether docs.json holds the text (an archive with up to INLINE_BYTES of it)."""
    return sum(len(t.encode("utf-8")) for t in texts(index) if isinstance(t, str)) <= INLINE_BYTES


def chunks(index: dict) -> list[dict]:
    """The text files' contents, chunk k first."""
    all_text = texts(index)
    return [{"first": first, "text": all_text[first:first + TEXT_ENTRIES]}
            for first in range(0, len(all_text), TEXT_ENTRIES)]


def text_files(index: dict, inlined: bool | None = None) -> dict[str, bytes]:
    """The files ``text/<k>.json`` under search/kb/ (kb/search_split.py's ``write`` writes them) for
    ``index``, none when docs.json holds the text (:func:`inline`, or ``inlined`` when the caller has
    judged it)."""
    if inline(index) if inlined is None else inlined:
        return {}
    return {f"{FOLDER}/{k}.json": json_bytes(chunk) for k, chunk in enumerate(chunks(index))}  # orjson: 189 chunks in 8 ms
