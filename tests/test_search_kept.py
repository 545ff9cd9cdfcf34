"""What kb/search_split.py keeps from one `mkdocs serve` rebuild to the next (issue #28 item 1).

After an edit, the split index is made again only for the tokens of the entries that changed. What
is written must be what a first build writes: each rebuild's split is compared with the split of
the same index made from nothing. The index is read and written with orjson: its text must be
json's.
"""

from __future__ import annotations

import json
import random

import pytest

from kb import search_index, search_split
from kb.search_words import CODE_FIELD, FIELD, NAMES_FIELD

WORDS = ["adam", "ada", "모멘텀", "모멘텀항", "학습률", "0.9", "beta", "배치", "정규화", "lr", "x", "\U0001f600", "\uffe0"]


def _fresh_split(index: dict) -> tuple[dict, list[list]]:
    """The split of ``index`` with nothing kept from earlier calls."""
    kept = search_split._KEPT
    search_split._KEPT = search_split._Kept()
    try:
        return search_split.split(index)
    finally:
        search_split._KEPT = kept


def _words(rng: random.Random, extra: str) -> str:
    return " ".join(rng.choices(WORDS, k=rng.randint(0, 6)) + [extra] * rng.randint(0, 2))


def _entry(rng: random.Random, location: str, round_: int) -> dict:
    doc = {"location": location, "title": _words(rng, f"t{round_}"), "text": _words(rng, f"w{round_}")}
    for field, chance in (("tags", 0.5), (NAMES_FIELD, 0.3), (FIELD, 0.5), (CODE_FIELD, 0.2)):
        if rng.random() < chance:
            doc[field] = [_words(rng, f"g{round_}")] if field == "tags" else _words(rng, f"n{round_}")
    return doc


@pytest.mark.parametrize("seed", range(6))
def test_every_rebuild_splits_as_a_first_build_does(monkeypatch, seed):
    monkeypatch.setattr(search_split, "_KEPT", search_split._Kept())
    monkeypatch.setattr(search_split, "SHARD_BYTES", 300)  # several shards, whose borders move with the edits
    rng = random.Random(seed)
    docs = [_entry(rng, f"p{p}/" + (f"#s{s}" if s else ""), 0) for p in range(8) for s in range(rng.randint(1, 3))]
    kinds = []
    for round_ in range(1, 40):
        kind = rng.choice(["body", "body", "body", "same", "title", "tags", "move", "add", "remove"])
        d = rng.randrange(len(docs))
        if kind == "body":  # new words, and words gone from the index
            docs[d] = dict(docs[d], text=_words(rng, f"w{round_}"))
        elif kind == "title":
            docs[d] = dict(docs[d], title=_words(rng, f"t{round_}"))
        elif kind == "tags":
            docs[d] = dict(docs[d], tags=[_words(rng, f"g{round_}")]) if "tags" not in docs[d] else \
                {k: v for k, v in docs[d].items() if k != "tags"}
        elif kind == "move":  # a section becomes a page of its own, or a page a section: the same words
            location = docs[d]["location"]
            docs[d] = dict(docs[d], location=location.split("#")[0] + f"m{round_}/" if "#" in location else f"{location}#m")
        elif kind == "add":  # a new section: every later entry's number moves
            docs.insert(d + 1, _entry(rng, docs[d]["location"].split("#")[0] + f"#r{round_}", round_))
        elif kind == "remove" and len(docs) > 2:
            del docs[d]
        kinds.append(kind)
        index = {"config": {}, "docs": [dict(doc) for doc in docs]}  # new objects, as json.loads gives
        assert search_split.split(index) == _fresh_split(index), f"after the edits {kinds}"


def test_after_an_edit_only_the_tokens_whose_postings_changed_are_made_again(monkeypatch):
    monkeypatch.setattr(search_split, "_KEPT", search_split._Kept())
    docs = [{"location": "a/", "title": "Adam", "text": "모멘텀 학습률"}, {"location": "a/#b", "title": "B", "text": "beta"}]
    search_split.split({"docs": docs})
    kept = dict(search_split._KEPT.json)
    docs[1] = dict(docs[1], text="beta beta")
    base, shards = search_split.split({"docs": [dict(doc) for doc in docs]})
    changed = {t for t, text in search_split._KEPT.json.items() if text is not kept.get(t)}
    assert changed == {"beta"}  # its count in the edited entry changed; "b" (its title) did not
    assert [entry for shard in shards for entry in shard if entry[0] == "beta"] == [["beta", [1, 2]]]  # entry 1, twice


def test_the_index_is_read_and_written_as_json_would():
    # kb/search_index.py reads and writes the index with orjson; the text must be json's (compact, non-ASCII as is)
    index = {"config": {"lang": ["ko"], "separator": "[\\s\\-]+", "fields": {"title": {"boost": 1000.0}}},
             "docs": [{"location": "a/#b", "title": "모멘텀 \U0001f600 \"인용\" \\", "text": "탭\t줄\n\x1f\u2028\x7f",
                       "tags": ["optim", "학습률"], "n": 0, "on": True, "none": None}]}
    expected = json.dumps(index, ensure_ascii=False, separators=(",", ":"))
    assert search_index.json_bytes(index) == expected.encode("utf-8")
    assert search_index.json_value(json.dumps(index).encode("utf-8")) == index  # Material's file: non-ASCII escaped
    big = {"n": 2**70}  # orjson refuses it; json writes it
    assert search_index.json_bytes(big) == b'{"n":1180591620717411303424}'
    assert search_index.json_value(b'{"t":"\\ud800"}') == {"t": "\ud800"}  # orjson refuses a lone surrogate; json reads it
