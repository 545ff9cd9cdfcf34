"""The search index split by term, for the first search without a wait (docs/javascripts/search-ko-engine.js).

search-ko.js answers queries from its own engine (search-ko-engine.js): for every token of the index,
the sections that have it (a weighted count) and each page's counts, length and title words. Built in
the page from ``search/search_index.json`` (every field of every entry split into tokens), it kept the
first search waiting on a large archive (benchmarks/README.md, "First search on a page just opened").
This module writes the same engine at build time, split by term, beside the index:

``search/kb/base.json``
    ``{"format", "docs": entry count, "check": [first, last location], "pages": [[path, length], ...],
    "shards": [first token of each shard, ...]}``;
``search/kb/docs.json``
    what a result shows of each entry (``[location, title, text, tags]``, :func:`entries`; a large
    archive's text is in ``search/kb/text/``, kb/search_docs.py), the fields only searched stay in
    Material's index, which its worker gets when a query needs lunr (search-lazy.js);
``search/kb/<k>.json``
    shard ``k``: a contiguous run of the sorted tokens, each ``[token, postings, extra, head]``
    (``postings``: entry number (delta-coded) and weighted count, flat; ``extra``: the part of
    that count from the tags and names fields, which a page's own counts leave out; ``head``: the
    page entries whose title or tags have the token), empty lists at the end left out.

A query fetches the shards its terms fall in (a prefix covers a contiguous run of tokens).
Tokens are split and sorted exactly as search-ko-engine.js splits (``tokens``) and sorts them (UTF-16
code units); tests/test_search_split.py compares the engine built from these files with the one
search-ko-engine.js builds from the index (``buildEngine``), and their answers to every query of the
query sets.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

from kb import search_docs
from kb.search_index import SearchIndexError, json_bytes
from kb.search_words import CODE_FIELD, FIELD, NAMES_FIELD

FORMAT = 1
FOLDER = "kb"  # under search/
SHARD_BYTES = 48_000  # about this much JSON a shard (a token with more postings gets a shard alone)

# search-ko-engine.js's field weights (FIELD_WEIGHT): title and tags 2, the rest 1; tags and names do not
# count towards the page's own counts.
PAGE_FIELDS = (("title", 2), ("text", 1), (CODE_FIELD, 1), (FIELD, 1))
EXTRA_FIELDS = (("tags", 2), (NAMES_FIELD, 1))

# search-ko-engine.js's tokens(): tags and entities out, lowercase, split by SEPARATOR. JavaScript's \s
# and \d (without the u flag) are spelled out: Python's differ (\x1c-\x1f, Unicode digits).
_JS_SPACE = "\t\n\x0b\x0c\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
SEPARATOR = re.compile("[" + _JS_SPACE + r"\-,;:!?=\[\](){}<>\"“”‘’/·…「」『』]+|\.(?![0-9])")
TAG = re.compile(r"<[^>]*>")
ENTITY = re.compile(r"&[a-z]+;|&#[0-9]+;")


class SplitError(SearchIndexError):
    """An index this module cannot split; the message names the file."""


def tokens(value) -> list[str]:
    """search-ko-engine.js's ``tokens(text)``."""
    text = "" if value is None else str(value)
    return [t for t in SEPARATOR.split(ENTITY.sub(" ", TAG.sub(" ", text)).lower()) if t]


def js_order(token: str) -> bytes:
    """Sort key of JavaScript's default sort: UTF-16 code units."""
    return token.encode("utf-16-be")


def _counts(doc: dict) -> tuple[dict[str, int], dict[str, int], int]:
    """(weighted count of every token, the part from tags and names, weight the page gets)."""
    tags = doc.get("tags")
    return _counted(tuple(_text(doc.get(field)) for field, _ in PAGE_FIELDS),
                    tuple(tags) if isinstance(tags, list) else tags, _text(doc.get(NAMES_FIELD)))


def _text(value):
    return value if value is None or isinstance(value, str) else str(value)  # as tokens() reads it


@functools.lru_cache(maxsize=65536)
def _counted(page_values: tuple, tags, names) -> tuple[dict[str, int], dict[str, int], int]:
    """:func:`_counts` of one entry's field values, kept: a rebuild after one edit splits the same
    entries again (the callers only read the dicts)."""
    counts: dict[str, int] = {}
    extra: dict[str, int] = {}
    length = 0
    for (_, weight), value in zip(PAGE_FIELDS, page_values):
        for t in tokens(value):
            counts[t] = counts.get(t, 0) + weight
            length += weight
    for (_, weight), value in zip(EXTRA_FIELDS, (" ".join(tags or []), names)):  # tags, then names
        for t in tokens(value):
            counts[t] = counts.get(t, 0) + weight
            extra[t] = extra.get(t, 0) + weight
    return counts, extra, length


def split(index: dict, where: str = "search/search_index.json") -> tuple[dict, list[list]]:
    """(base, shards) of a parsed index, as written by :func:`write`."""
    base, shards = _split(index, where)
    return base, [json.loads(shard) for shard in shards]


def _split(index: dict, where: str) -> tuple[dict, list[str]]:
    """(base, each shard as JSON text) of a parsed index."""
    docs = [d for d in index.get("docs", []) if isinstance(d, dict) and isinstance(d.get("location"), str)]
    if not docs:
        raise SplitError(f"{where}: 검색 색인에 항목이 없습니다")
    _KEPT.update(docs)
    lengths: dict[str, int] = {}
    for location, (_, _, length) in zip(_KEPT.locations, _KEPT.counts):
        path = location.split("#")[0]
        lengths[path] = lengths.get(path, 0) + length
    shards: list[list[str]] = [[]]
    firsts: list[str] = []
    size = 0
    for t in sorted(_KEPT.json, key=js_order):
        text, cost = _KEPT.json[t]
        if shards[-1] and size + cost > SHARD_BYTES:
            shards.append([])
            size = 0
        if not shards[-1]:
            firsts.append(t)
        shards[-1].append(text)
        size += cost
    base = {
        "format": FORMAT,
        "docs": len(docs),
        "check": [docs[0]["location"], docs[-1]["location"]],
        "pages": [[path, n] for path, n in lengths.items()],
        "shards": firsts,
    }
    return base, ["[" + ",".join(shard) + "]" for shard in shards]


class _Kept:
    """The postings of the last index split, kept for the next: in `mkdocs serve`, after one edit only
    the tokens of the entries that changed get their postings and JSON again (benchmarks/README.md,
    "a saved edit"). An entry is unchanged when its location and its :func:`_counts` (the same object
    from the cache while its fields are the same) are; any other index is split from the start."""

    def __init__(self):
        self.locations: list[str] = []
        self.counts: list[tuple] = []  # _counts(doc) of each entry
        self.heads: list[set[str]] = []  # the words of each page entry's title and tags
        self.postings: dict[str, dict[int, int]] = {}  # token -> {entry number: weighted count}
        self.extras: dict[str, dict[int, int]] = {}  # token -> {entry number: the part from tags and names}
        self.heading: dict[str, dict[int, None]] = {}  # token -> the page entries whose title or tags have it
        self.json: dict[str, tuple[str, int]] = {}  # token -> (its shard entry as JSON, that in UTF-8 bytes)

    def update(self, docs: list[dict]) -> None:
        locations = [doc["location"] for doc in docs]
        counts = [_counts(doc) for doc in docs]
        if locations == self.locations:
            changed = [d for d, (new, old) in enumerate(zip(counts, self.counts)) if new is not old]
        else:
            self.__init__()
            self.counts, self.heads = [({}, {}, 0)] * len(docs), [set()] * len(docs)
            changed = range(len(docs))
        touched: set[str] = set()
        for d in changed:
            old_counts, old_extra, _ = self.counts[d]
            new_counts, new_extra, _ = counts[d]
            heads = set()
            if "#" not in locations[d]:
                heads = set(tokens(docs[d].get("title")) + tokens(" ".join(docs[d].get("tags") or [])))
            for table, old, new in ((self.postings, old_counts, new_counts), (self.extras, old_extra, new_extra),
                                    (self.heading, dict.fromkeys(self.heads[d]), dict.fromkeys(heads))):
                for t in old.keys() - new.keys():
                    del table[t][d]
                    touched.add(t)
                for t, n in new.items():
                    if t not in old or old[t] != n:
                        table.setdefault(t, {})[d] = n
                        touched.add(t)
            self.heads[d] = heads
        self.locations, self.counts = locations, counts
        for t in touched:
            if not self.postings.get(t):
                self.postings.pop(t, None), self.extras.pop(t, None), self.heading.pop(t, None)
                self.json.pop(t, None)
                continue
            entry = [t, _delta(self.postings[t]), _delta(self.extras.get(t, {})), _delta(self.heading.get(t, {}))]
            while entry[-1] == [] and len(entry) > 2:
                entry.pop()
            text = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
            self.json[t] = (text, len(text.encode("utf-8")))


_KEPT = _Kept()


def _delta(counted: dict[int, int | None]) -> list[int]:
    """Entry numbers (with their counts where they have them), in order, flat, the numbers as differences."""
    out, last = [], 0
    for d in sorted(counted):
        out.append(d - last)
        last = d
        if counted[d] is not None:
            out.append(counted[d])
    return out


def write(search_dir: Path, index: dict) -> int:
    """Write ``search_dir/kb/`` (base.json, docs.json, the shards and the text chunks) for ``index``;
    returns the shard count."""
    base, shards = _split(index, f"{search_dir.name}/search_index.json")
    inline = search_docs.inline(index)  # whether docs.json holds the text (judged once)
    files = {"base.json": json_bytes(base), "docs.json": json_bytes(entries(index, inline)),
             **{f"{k}.json": shard.encode("utf-8") for k, shard in enumerate(shards)},
             **search_docs.text_files(index, inline)}  # the entries' text, in chunks (search/kb/text/)
    _WRITTEN.update(search_dir / FOLDER, files)
    return len(shards)


class _Written:
    """The files of search/kb/ as the last :func:`write` left them: after one edit in `mkdocs serve`,
    most shards and text chunks are the same bytes, and are not written again. The folder ends
    up holding exactly the new files: a file no longer made goes, and one that is not there (the
    site folder was emptied) or that this process did not write last is written."""

    def __init__(self):
        self.folder: Path | None = None
        self.files: dict[str, bytes] = {}

    def update(self, folder: Path, files: dict[str, bytes]) -> None:
        kept = self.files if folder == self.folder else {}
        self.folder, self.files = folder, {}
        present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} if folder.is_dir() else set()
        for name in present - files.keys():
            (folder / name).unlink()
            if not any((folder / name).parent.iterdir()) and (folder / name).parent != folder:
                (folder / name).parent.rmdir()  # text/, when the text went back into docs.json
        for name, data in files.items():
            if name not in present or kept.get(name) != data:
                (folder / name).parent.mkdir(parents=True, exist_ok=True)
                (folder / name).write_bytes(data)
        self.files = files


_WRITTEN = _Written()


def entries(index: dict, inline: bool | None = None) -> list[list]:
    """What a result shows of every entry: ``[location, title]``, its text if the archive's is small
    (kb/search_docs.py ``inline``, unless the caller says: else in chunks), and its tags when it has
    them; without the fields only searched (morph, syn, code), which Material's worker gets."""
    out, text = [], search_docs.inline(index) if inline is None else inline
    for doc in index.get("docs", []):
        if isinstance(doc, dict) and isinstance(doc.get("location"), str):
            row = [doc["location"], doc.get("title")] + ([doc.get("text")] if text else [])
            if isinstance(doc.get("tags"), list):  # a list: search-ko-engine.js (load) tells it from a text
                row.append(doc["tags"])
            out.append(row)
    return out
