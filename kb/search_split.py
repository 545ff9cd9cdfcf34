"""The search index split by term, for the first search without a wait (docs/javascripts/search-ko.js).

search-ko.js answers queries from its own engine: for every token of the index, the sections
that have it (a weighted count) and each page's counts, length and title words. Built in the page
from ``search/search_index.json`` (every field of every entry split into tokens), it kept the first
search waiting on a large archive (benchmarks/README.md, "First search on a page just opened"). This
module writes the same engine at build time, split by term, beside the index:

``search/kb/base.json``
    ``{"format", "docs": entry count, "check": [first, last location], "pages": [[path, length], ...],
    "shards": [first token of each shard, ...]}``;
``search/kb/docs.json``
    what a result shows of each entry (``[location, title, text, tags]``, :func:`entries`), about half
    the index: the fields only searched stay in Material's, which its worker gets when a query needs
    lunr (search-lazy.js);
``search/kb/<k>.json``
    shard ``k``: a contiguous run of the sorted tokens, each ``[token, postings, extra, head]``
    (``postings``: entry number (delta-coded) and weighted count, flat; ``extra``: the part of
    that count from the tags and names fields, which a page's own counts leave out; ``head``: the
    page entries whose title or tags have the token), empty lists at the end left out.

A query fetches the shards its terms fall in (a prefix covers a contiguous run of tokens).
Tokens are split and sorted exactly as search-ko.js splits (``tokens``) and sorts them (UTF-16 code
units); tests/test_search_split.py compares the engine built from these files with the one
search-ko.js builds from the index, and their answers to every query of the query sets.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
from pathlib import Path

from kb.search_ko import CODE_FIELD, FIELD, NAMES_FIELD, SearchIndexError

FORMAT = 1
FOLDER = "kb"  # under search/
SHARD_BYTES = 48_000  # about this much JSON a shard (a token with more postings gets a shard alone)

# search-ko.js's field weights (FIELD_WEIGHT): title and tags 2, the rest 1; tags and names do not
# count towards the page's own counts.
PAGE_FIELDS = (("title", 2), ("text", 1), (CODE_FIELD, 1), (FIELD, 1))
EXTRA_FIELDS = (("tags", 2), (NAMES_FIELD, 1))

# search-ko.js's tokens(): tags and entities out, lowercase, split by SEPARATOR. JavaScript's \s
# and \d (without the u flag) are spelled out: Python's differ (\x1c-\x1f, Unicode digits).
_JS_SPACE = "\t\n\x0b\x0c\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
SEPARATOR = re.compile("[" + _JS_SPACE + r"\-,;:!?=\[\](){}<>\"“”‘’/·…「」『』]+|\.(?![0-9])")
TAG = re.compile(r"<[^>]*>")
ENTITY = re.compile(r"&[a-z]+;|&#[0-9]+;")


class SplitError(SearchIndexError):
    """An index this module cannot split; the message names the file."""


def tokens(value) -> list[str]:
    """search-ko.js's ``tokens(text)``."""
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
    docs = [d for d in index.get("docs", []) if isinstance(d, dict) and isinstance(d.get("location"), str)]
    if not docs:
        raise SplitError(f"{where}: 검색 색인에 항목이 없습니다")
    postings: dict[str, list[int]] = {}
    extras: dict[str, list[int]] = {}
    heads: dict[str, list[int]] = {}
    lengths: dict[str, int] = {}
    for d, doc in enumerate(docs):
        path = doc["location"].split("#")[0]
        counts, extra, length = _counts(doc)
        lengths[path] = lengths.get(path, 0) + length
        for t, n in counts.items():
            postings.setdefault(t, []).append(d)
            postings[t].append(n)
        for t, n in extra.items():
            extras.setdefault(t, []).append(d)
            extras[t].append(n)
        if "#" not in doc["location"]:
            for t in set(tokens(doc.get("title")) + tokens(" ".join(doc.get("tags") or []))):
                heads.setdefault(t, []).append(d)
    shards: list[list] = [[]]
    firsts: list[str] = []
    size = 0
    for t in sorted(postings, key=js_order):
        entry = [t, _delta(postings[t], 2), _delta(extras.get(t, []), 2), _delta(heads.get(t, []), 1)]
        while entry[-1] == [] and len(entry) > 2:
            entry.pop()
        cost = len(json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
        if shards[-1] and size + cost > SHARD_BYTES:
            shards.append([])
            size = 0
        if not shards[-1]:
            firsts.append(t)
        shards[-1].append(entry)
        size += cost
    base = {
        "format": FORMAT,
        "docs": len(docs),
        "check": [docs[0]["location"], docs[-1]["location"]],
        "pages": [[path, n] for path, n in lengths.items()],
        "shards": firsts,
    }
    return base, shards


def _delta(flat: list[int], step: int) -> list[int]:
    """Entry numbers of a flat list (every ``step``-th item, increasing) as differences."""
    out = list(flat)
    for i in range(len(out) - step, 0, -step):
        out[i] -= out[i - step]
    return out


def write(search_dir: Path, index: dict) -> int:
    """Write ``search_dir/kb/`` (base.json and the shards) for ``index``; returns the shard count."""
    base, shards = split(index, f"{search_dir.name}/search_index.json")
    folder = search_dir / FOLDER
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)

    def dump(name: str, data) -> None:
        (folder / name).write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")

    dump("base.json", base)
    dump("docs.json", entries(index))
    for k, shard in enumerate(shards):
        dump(f"{k}.json", shard)
    return len(shards)


def entries(index: dict) -> list[list]:
    """What a result shows of every entry: ``[location, title, text]``, and its tags when it has
    them; without the fields only searched (morph, syn, code), which Material's worker gets."""
    out = []
    for doc in index.get("docs", []):
        if isinstance(doc, dict) and isinstance(doc.get("location"), str):
            row = [doc["location"], doc.get("title"), doc.get("text")]
            if "tags" in doc:
                row.append(doc["tags"])
            out.append(row)
    return out
