"""Spellings of the glossary's names that members type, for the query side of search (issue #29).

Members type a name however they heard it: ``에이다그래드`` or ``아다그라드`` for Adagrad, ``붓스트랩`` for
bootstrap, ``kfold`` or ``k fold`` for k-fold, ``교차엔트로피`` for 교차 엔트로피. The pages write one
spelling. This module generates, at build time and by rule, what ``docs/javascripts/search-ko-words.js``
needs to read the others (written into ``search/kb-words.json``, see below), from ``docs/glossary.md`` (its 영문 and 한글 columns, and the acronyms of
its 비고 column) and the synonym groups of ``kb/search_words.py``:

* ``sounds``: the consonant skeleton (:func:`latin_skeleton`) of every Latin word of those names, and
  of each name of several words spelled in one go -> the words or names, ``|``-separated. A Hangul spelling of a Latin word keeps its consonants and changes its vowels
  (아다그라드, 에이다그래드, 애더그래드 are all ``TKLT``, as ``adagrad`` is), so the query side compares
  skeletons (search-ko-query.js ``skeleton``: the same classes, read from Hangul) and needs no list
  of spellings;
* ``joined``: every Latin name written with spaces or hyphens (the query side reads ``kfold`` and
  ``k fold`` as ``k-fold``, ``batchnorm`` as ``batch norm``: it joins the names itself);
* ``spaced``: every Korean name of several words (the query side splits ``교차엔트로피`` into
  ``교차``, ``엔트로피`` and joins ``교차 엔트로피``).

With them, after the search fields are added, the index's own words (:func:`write_words`:
``search/kb-words.json``, fetched when the search box is first used), against which the query
side splits a query typed without spaces (드롭아웃과배치정규화) and corrects one wrong Korean letter
(모맨텀: the jamo, not the syllables, are compared). Sizes and costs: benchmarks/bench_search.py.
The glossary is read from ``docs/glossary.md`` beside this package (the project's layout).
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

GLOSSARY = Path(__file__).resolve().parent.parent / "docs" / "glossary.md"

# Names the pages use as tags or titles that the glossary does not list (it lists terms of the field).
SITE_NAMES: tuple[str, ...] = ("VGG", "NLP", "MLOps", "DevOps", "PyTorch", "Inception", "ImageNet")

MIN_SKELETON = 3  # a skeleton of two consonants (NG, TK) would match too many Korean words
VOWELS = set("aeiouy")
_STOP = {"of", "and", "the", "for", "with", "to", "in", "on", "by", "a", "an", "or"}
_CLASS = {**dict.fromkeys("bpfv", "P"), **dict.fromkeys("dt", "T"), **dict.fromkeys("kq", "K"),
          **dict.fromkeys("jz", "C"), "s": "S", "m": "M", "n": "N", "l": "L"}


def latin_skeleton(word: str) -> str:
    """The consonants of ``word`` as its Korean spelling writes them, in the classes of
    search-ko-query.js ``skeleton``: P (b p f v), T (d t th), K (g k c q), C (j z, ch, soft g),
    S (s, soft c, sh, the t of -tion), L (l, r before a vowel), M, N, H, G (ng); repeats collapsed.

    Korean loanword spelling drops an r after a vowel (norm -> 놈), writes ng as a final ㅇ, and
    reads the vowels freely; vowels are left out. ``adagrad`` -> ``TKLT``, ``bootstrap`` -> ``PTSTLP``.
    """
    w = re.sub(r"[^a-z]", "", word.lower())
    out: list[str] = []
    i = 0
    while i < len(w):
        c, prev = w[i], w[i - 1] if i else ""
        nxt = w[i + 1] if i + 1 < len(w) else ""
        after = w[i + 2] if i + 2 < len(w) else ""
        step, sound = 1, ""
        if c in VOWELS or c == "w":
            sound = ""
        elif w.startswith("tch", i):
            step, sound = 3, "C"
        elif c + nxt in ("ch", "sh", "th", "ph", "ck", "qu", "gh"):
            step, sound = 2, {"ch": "C", "sh": "S", "th": "T", "ph": "P", "ck": "K", "qu": "K", "gh": ""}[c + nxt]
        elif c + nxt == "ng" and after not in VOWELS:
            step, sound = 2, "G"
        elif c == "t" and nxt == "i" and after in VOWELS:  # -tion, -tial
            sound = "S"
        elif c == "x":
            sound = "KS"
        elif c == "c":
            sound = "S" if nxt in "eiy" and nxt else "K"
        elif c == "g":
            sound = "C" if nxt and nxt in "eiy" and prev != "g" else "K"
        elif c == "h":
            sound = "H" if (not prev or prev in VOWELS) and nxt in VOWELS and nxt else ""
        elif c == "r":
            sound = "L" if (nxt and nxt in VOWELS) or prev not in VOWELS else ""
        else:
            sound = _CLASS.get(c, "")
        for s in sound:
            if not out or out[-1] != s:
                out.append(s)
        i += step
    return "".join(out)


def glossary_names(path: Path = GLOSSARY) -> tuple[list[str], list[str]]:
    """(Latin names, Korean names) of the glossary's rows: the 영문 column and its parenthesised
    aliases, the acronyms of the 비고 column; the 한글 column. [] for a missing file."""
    from kb.notion.glossary import load_glossary

    latin: list[str] = []
    korean: list[str] = []
    notes: list[str] = []
    for entry in load_glossary(path) or []:
        latin.extend(entry.aliases)
        if entry.korean:
            korean.append(entry.korean)
        notes.extend(re.findall(r"\b[A-Z][A-Za-z]*[A-Z]\b", entry.note))  # BN, CNN, MLflow, VGG
    return latin + notes, korean


def variants(latin: list[str], korean: list[str]) -> dict:
    """The ``sounds`` map and the ``joined`` and ``spaced`` lists (see the module docstring) of these names."""
    sounds: dict[str, list[str]] = {}
    joined: dict[str, None] = {}
    spaced: dict[str, None] = {}
    for name in latin:
        low = name.lower().strip()
        parts = [p for p in re.split(r"[\s\-]+", low) if p]
        if len(parts) > 1 and all(re.fullmatch(r"[a-z0-9]+", p) for p in parts):
            joined[" ".join(parts) if " " in low else low] = None
        for part in parts:
            if part in _STOP or not re.fullmatch(r"[a-z]{3,}", part):
                continue
            key = latin_skeleton(part)
            if len(key) >= MIN_SKELETON and part not in sounds.setdefault(key, []):
                sounds[key].append(part)
        if len(parts) > 1:  # the name spelled in one go (배치노멀라이제이션 = batch normalization)
            key = latin_skeleton("".join(parts))
            if len(key) > MIN_SKELETON and low not in sounds.setdefault(key, []):
                sounds[key].append(low)
    for name in korean:
        words = [w for w in re.split(r"[\s\-]+", name) if w]
        if len(words) > 1 and all(re.fullmatch(r"[\uac00-\ud7a3]+", w) for w in words):
            spaced[" ".join(words)] = None
    return {"sounds": {k: "|".join(sorted(v)) for k, v in sorted(sounds.items())},
            "joined": sorted(joined), "spaced": sorted(spaced)}


def query_variants(synonyms, path: Path = GLOSSARY) -> dict:
    """The variants of the glossary's names, the site's names and the synonym groups ``synonyms``.

    A skeleton that a name of the synonym groups or the site's names shares with glossary words
    (k-fold and covariate: KPLT) belongs to that name alone: those are the names members ask for.
    """
    latin, korean = glossary_names(path)
    own = list(SITE_NAMES)
    for group in synonyms:
        for name in group:
            (korean if re.search(r"[\uac00-\ud7a3]", name) else own).append(name)
    first = variants(own, [])["sounds"]
    result = variants(latin + own, korean)
    result["sounds"].update(first)
    return result


# --- the index's words, for splitting a query typed without spaces ----------------------------

WORDS_FILE = "kb-words.json"  # beside search_index.json
WORDS_FORMAT = 2  # 2: the words front-coded
_HANGUL_RUN = re.compile(r"[\uac00-\ud7a3]{2,}")
_LATIN_WORD = re.compile(r"[a-z][a-z0-9]+")  # of the lowercased prose: names (nag, vgg16, mlops), not code
_MARKUP = re.compile(r"<[^>]*>|&[a-z]+;|&#\d+;")
# Particles and endings cut from the end of a word (search-ko-words.js cuts the same from queries; a
# word cut differently here only costs a few bytes: the query side matches words by their start).
PARTICLES = tuple(sorted(
    """이란 란 이라는 라는 이라고 라고 이나 이랑 랑 에서는 에서의 에서도 에서 에게는 에게 에는 에도 에선 으로는 으로의
    으로 로는 로의 와는 과는 와의 과의 와도 과도 까지 부터 보다 처럼 만큼 마다 들은 들이 들을 들의 들에 들 이 가 은 는
    을 를 의 에 와 과 도 로 만 이에요 예요 이다 입니다 인데 하는 하기 하다 하면 해서 한다 했다 합니다 된다 되는
    됩니다""".split(), key=len, reverse=True))


@functools.lru_cache(maxsize=65536)  # the same words recur on every page: 630,000 calls at 500 pages
def _stem(word: str) -> str:
    for _ in range(2):
        for p in PARTICLES:
            if word.endswith(p) and len(word) - len(p) >= (2 if len(p) == 1 else 1):
                word = word[: -len(p)]
                break
        else:
            break
    return word


def index_words(index: dict) -> list[str]:
    """The words of the index's entries (title, text, tags and the two fields kb/search_index.py adds):
    Hangul words with their particles cut, and Latin words of the prose (not the code field),
    lowercased, sorted as JavaScript sorts (UTF-16 code units: code points, for these), without a
    word that starts another: the query side asks only whether a piece of a query starts a word of
    the index, as the search matches it."""
    found: set[str] = set()
    for doc in index.get("docs", []):
        values = (doc.get(field) or "" for field in ("title", "text", "tags", "morph", "syn"))
        found.update(_entry_words(tuple(" ".join(v) if isinstance(v, list) else str(v) for v in values)))
    ordered = sorted(found)
    return [w for i, w in enumerate(ordered) if not (i + 1 < len(ordered) and ordered[i + 1].startswith(w))]


@functools.lru_cache(maxsize=65536)  # a rebuild after one edit reads the same entries again
def _entry_words(values: tuple[str, ...]) -> frozenset[str]:
    """:func:`index_words` of one entry's field values."""
    found: set[str] = set()
    for value in values:
        value = _MARKUP.sub(" ", value).lower()
        found.update(_LATIN_WORD.findall(value))
        for run in _HANGUL_RUN.findall(value):
            stem = _stem(run)
            if len(stem) >= 2:
                found.add(stem)
    return frozenset(found)


def front_coded(words: list[str]) -> str:
    """Sorted ``words`` as one string: each word as the number of letters (0-9) it shares with the
    one before and the rest, space-separated (모멘텀 모멘텀계수 -> ``0모멘텀 3계수``; a third fewer bytes)."""
    out, prev = [], ""
    for word in words:
        shared = 0
        while shared < min(len(word) - 1, len(prev), 9) and word[shared] == prev[shared]:
            shared += 1
        out.append(f"{shared}{word[shared:]}")
        prev = word
    return " ".join(out)


def read_front_coded(text: str) -> list[str]:
    """The words of :func:`front_coded` (search-ko-words.js ``useWords`` reads them the same way)."""
    words, prev = [], ""
    for entry in text.split(" "):
        prev = prev[: int(entry[0])] + entry[1:]
        words.append(prev)
    return words


def write_words(search_dir: Path, index: dict, synonyms) -> Path:
    """Write ``search_dir/kb-words.json``: ``{"format", "words", "sounds", "joined", "spaced"}``
    (:func:`index_words`, :func:`front_coded`; :func:`query_variants` of the glossary and ``synonyms``),
    fetched by search-ko-words.js (``loadWords``) when the search box is first used, not with every page."""
    path = search_dir / WORDS_FILE
    data = {"format": WORDS_FORMAT, "words": front_coded(index_words(index)), **query_variants(synonyms)}
    path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return path
