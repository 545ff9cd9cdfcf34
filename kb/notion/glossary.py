"""The glossary check: English terms of an export that ``docs/glossary.md`` does not list.

Rows of glossary.md's ``| 영문 | 한글 | 비고 |`` table give, for each English term, its Korean term
and aliases. The export's prose (not code, math or URLs) is searched for English words that look like terms of the
field (:func:`looks_like_term`: acronyms, CamelCase, digits, a capital inside a sentence, a word of
:data:`TERMS` or one sharing its root with a glossary term; never a word of :data:`COMMON`); those not
in the glossary are listed with the line they first appear on. A question's Q&A
``tags`` are the glossary's Korean terms for the English terms in the question (at most three).
"""

from __future__ import annotations

import functools
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

from .clean import intended_drops
from .messages import NotionError

_TAG_RE = re.compile(r"</?[A-Za-z][A-Za-z0-9:-]{0,30}(?:\s[^<>]{0,2000})?/?>")
_CODE_SPAN_RE = re.compile(r"(`{1,10})(?!`).{1,5000}?(?<!`)\1(?!`)")
_INLINE_RE = re.compile(r"\$[^$\n]{1,5000}\$")
_STOPWORDS = set(
    """a an the and or but nor of in on at to for from by with without into onto over under as is are was were be
    been being am do does did done have has had it its this that these those there here what which who whom whose
    when where why how all any both each few more most other some such no not only own same so than too very can
    will just should would could may might must shall also if then else than about above after again against
    before below between during through until up down out off once further while you your yours we our us they
    their them he she his her him i me my mine one two use used using need needs""".split()
)
# ~300 of the most common English words (and names of days, months, sites): never suggested
COMMON = _STOPWORDS | set(
    """about after again all also always among another any anything around ask away back bad because become
    before begin best better big bit both bring build call came can case change check close come comes coming
    could day days did different doing done down during each early easy end enough even ever every example
    fact far feel few find first follow found four free full get gets getting give given go goes going gone
    good got great group guess hand happen hard head help high hold home hope however idea important keep
    kind know known last late later least left less let life like likely line list little long look looks
    lot lots low made main make makes making many maybe mean means meet meeting mind more much must name near
    never new next nice note notes nothing now number often ok okay old once open order original others page
    part people per place plan play point possible pretty probably problem problems put question questions
    quite rather read real really reason record right run said same say says second see seem seems seen
    several short show side since small something sometimes soon start started still stop sure take taken
    talk tell thing things think third though thought three time times today together told took top toward
    try trying turn turned under understand up upon us want wanted way ways week well went whether while
    whole why work worked works world write wrong year years yes yet able actually add again agree already
    answer anyone area back based begin believe bring business came care certain clear clearly come common
    course current decide does doing draw else enough everyone everything exactly explain fine form forward
    general half happy hear heard hello hi however interest issue itself job just large later learn least
    level live local lose love matter member members minute minutes miss money month morning move myself
    need next night okay open own paper person please power present public quick quickly ready remember rest
    result return room saw school seen send sense set share should simple simply slides slide small sorry
    speak special stand state stay step study sure system team thank thanks thus tomorrow tonight true try
    usually various view wait watch whatever without word words yesterday your youtube google github notion
    zoom slack link links monday tuesday wednesday thursday friday saturday sunday january february march
    april may june july august september october november december data model size test train""".split()
)
# terms of the field that are all lower case and share no root with a glossary term
TERMS = set(
    """activation adam attention augmentation autoencoder backprop backpropagation batch benchmark bias
    checkpoint classifier classification convergence converge conv convolution dataloader dataset decoder
    derivative distillation dropout embedding encoder entropy epoch gaussian gpu gradient inference iterable
    iterator kernel latent layer likelihood logit logits loss manifold matrix momentum neuron normalization
    optimizer overfitting padding perceptron pooling pretrained pretraining quantization regression
    regularization residual sampler scheduler segmentation sigmoid slope softmax stochastic stride tanh
    tensor token tokenizer training transformer tuning underfitting validation variance vector warmup weights""".split()
)
_SENTENCE_START_RE = re.compile(r"(?:^|[.!?]\s)[\s\-*+>#\d.)(\[\]\"'“‘]*$")
_PERCENT_RE = re.compile(r"\S{0,2000}%[0-9A-Fa-f]{2}\S{0,2000}")  # a percent-encoded path: not prose
_WORD_RE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{1,200}(?:-[A-Za-z0-9]{1,200}){0,20}")
_CODEISH_RE = re.compile(r"(?<![\w\\])[\w\\]{0,200}(?:\.[A-Za-z_]\w{0,200}|\\?_\w{0,200}|\(\))[\w\\.()]{0,400}")
_URL_RE = re.compile(r"<[^<>\s]{1,2000}>|\]\([^)]{0,2000}\)|https?://\S{1,2000}")


@dataclass
class GlossaryEntry:
    english: str
    korean: str
    aliases: list[str]
    note: str = ""  # the 비고 column


def load_glossary(path: Path) -> list[GlossaryEntry] | None:
    """Rows of the ``| 영문 | 한글 | 비고 |`` table of ``glossary.md``; None if the file is missing."""
    if not path.is_file():
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise NotionError(str(path), line, "용어집이 UTF-8이 아닙니다: iconv -f cp949 -t utf-8로 바꿔 주세요") from None
    except OSError as exc:
        raise NotionError(str(path), None, f"용어집을 읽을 수 없습니다: {exc.strerror or exc}") from None
    entries: list[GlossaryEntry] = []
    in_table = False
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.strip().startswith("|") else None
        if cells is None:
            in_table = False
            continue
        if cells[:2] == ["영문", "한글"]:
            in_table = True
            continue
        if not in_table or set("".join(cells)) <= set("-: "):
            continue
        english = cells[0]
        korean = re.sub(r"\s*\([^)]*\)\s*$", "", cells[1] if len(cells) > 1 else "").strip()
        base = re.sub(r"\s*\([^)]*\)", "", english).strip()
        aliases = {english.lower(), base.lower()}
        for inner in re.findall(r"\(([^)]*)\)", english):
            aliases.update(a.strip().lower() for a in inner.split(",") if a.strip())
        note = cells[2] if len(cells) > 2 else ""
        entries.append(GlossaryEntry(english, korean, sorted(a for a in aliases if a), note))
    return entries


# The letters and digits an alias pattern (re.I) needs: ASCII ones, and the Kelvin sign and the long s,
# which re.I folds to k and s (lower() turns the Kelvin sign into k, not the long s into s).
_LATIN_RE = re.compile(r"[A-Za-z0-9\u017f\u212a]")
_FOLDED = str.maketrans({"\u212a": "k", "\u017f": "s"})


@functools.lru_cache(maxsize=4096)
def _latin_in(text: str) -> frozenset[str]:
    """The Latin letters (lowercase) and digits in ``text``: an alias can match only a text that
    has every one of its own."""
    return frozenset("".join(_LATIN_RE.findall(text)).lower().translate(_FOLDED))


@functools.lru_cache(maxsize=4096)  # hundreds of aliases, each page: more than re's own cache holds
def _alias_re(alias: str) -> re.Pattern[str]:
    body = r"[\s-]+".join(re.escape(w) for w in re.split(r"[\s-]+", alias))
    return re.compile(rf"(?<![A-Za-z0-9]){body}(?:s|es)?(?![A-Za-z0-9])", re.I)


def _prose(text: str) -> str:
    text = _TAG_RE.sub(" ", intended_drops(text))
    text = _CODE_SPAN_RE.sub(" ", text)
    text = _INLINE_RE.sub(" ", text)
    text = _URL_RE.sub(" ", text)
    text = _PERCENT_RE.sub(" ", text)
    return _CODEISH_RE.sub(" ", text)


def glossary_terms(text: str, glossary: list[GlossaryEntry]) -> tuple[list[GlossaryEntry], list[str]]:
    """(glossary entries used in ``text``, in order; English words of ``text`` not in the glossary)."""
    text = _prose(text)
    found: list[tuple[int, GlossaryEntry]] = []
    have = _latin_in(text)  # most lines of a Korean page have no Latin letter: no alias is tried
    for entry in glossary:
        for alias in sorted(entry.aliases, key=len, reverse=True):
            if not _latin_in(alias) <= have:
                continue  # it needs a letter or digit the text does not have
            pattern = _alias_re(alias)
            m = pattern.search(text)
            if m:
                found.append((m.start(), entry))
            text = pattern.sub(" ", text)
    if not have - set("0123456789"):  # no word below can be a term without a Latin letter
        return _in_order(found), []
    roots = {w for e in glossary for a in e.aliases for w in re.split(r"[\s-]+", a) if len(w) >= 5}
    words = []
    for m in _WORD_RE.finditer(text):
        w = m.group()
        if not re.search("[A-Za-z]", w) or re.fullmatch(r"Q\d+", w):  # numbers; question numbers
            continue
        if looks_like_term(w, roots, inside_sentence=not _SENTENCE_START_RE.search(text[: m.start()])):
            words.append(w)
    return _in_order(found), words


def _in_order(found: list[tuple[int, GlossaryEntry]]) -> list[GlossaryEntry]:
    used: list[GlossaryEntry] = []
    for _, entry in sorted(found, key=lambda t: t[0]):
        if entry not in used:
            used.append(entry)
    return used


def _forms(word: str) -> set[str]:
    """``word`` and what it may be inflected from: "goes" -> go, "turned" -> turn, "getting" -> get."""
    w = word.lower()
    forms = {w}
    for suffix in ("s", "es", "ed", "d", "ing", "ly"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 2:
            stem = w[: -len(suffix)]
            forms |= {stem, stem + "e", stem[:-1] if len(stem) > 2 and stem[-1] == stem[-2] else stem}
    return forms


def _shares_root(word: str, roots: set[str]) -> bool:
    w = word.lower()
    for r in roots:
        common = len(posixpath.commonprefix([w, r]))
        if common >= max(5, min(len(w), len(r)) - 3):
            return True
    return False


def looks_like_term(word: str, roots: set[str] = frozenset(), inside_sentence: bool = True) -> bool:
    """Whether an English word of the prose looks like a term of the field (not a common word)."""
    parts = word.split("-")
    if len(parts) > 1:
        return any(looks_like_term(p, roots, inside_sentence) for p in parts if p)
    if word.lower() in TERMS:
        return True
    if len(word) < 2 or len(word) > 40 or _forms(word) & COMMON:
        return False
    if sum(c.isupper() for c in word) >= 2 or re.search(r"[a-z][A-Z]", word):  # CNN, ReLU, BatchNorm
        return True
    if re.search(r"[A-Za-z]", word) and re.search(r"\d", word):  # L2, conv2d, VGG16
        return True
    if _forms(word) & TERMS or _shares_root(word, roots):
        return True
    return word[0].isupper() and inside_sentence  # Adam, Nesterov (not a sentence's first word)


@dataclass
class GlossaryReport:
    path: str  # the glossary
    exists: bool
    missing: list[tuple[str, int]]  # (term, export line)
    source: str = ""  # the export


def glossary_report(label: str, rows: list[tuple[int, str]], glossary: list[GlossaryEntry] | None, glossary_label: str) -> GlossaryReport:
    """rows: (line, text) of the export's prose (code and math left out)."""
    seen: set[str] = set()
    missing: list[tuple[str, int]] = []
    for n, line in rows:
        _, words = glossary_terms(line.replace("\t", " "), glossary or [])
        for w in words:
            if w.lower() not in seen:
                seen.add(w.lower())
                missing.append((w, n))
    return GlossaryReport(glossary_label, glossary is not None, missing, label)

