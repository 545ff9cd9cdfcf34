"""The glossary check: English terms of an export that ``docs/glossary.md`` does not list.

Rows of glossary.md's ``| 영문 | 한글 | 비고 |`` table give, for each English term, its Korean term
and aliases. The export's prose (not code, math or URLs) is searched for English words; those not
in the glossary are listed as warnings with the line they first appear on. A question's Q&A
``tags`` are the glossary's Korean terms for the English terms in the question (at most three).
"""

from __future__ import annotations

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
_WORD_RE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{1,200}(?:-[A-Za-z0-9]{1,200}){0,20}")
_CODEISH_RE = re.compile(r"(?<![\w\\])[\w\\]{0,200}(?:\.[A-Za-z_]\w{0,200}|\\?_\w{0,200}|\(\))[\w\\.()]{0,400}")
_URL_RE = re.compile(r"<[^<>\s]{1,2000}>|\]\([^)]{0,2000}\)|https?://\S{1,2000}")


@dataclass
class GlossaryEntry:
    english: str
    korean: str
    aliases: list[str]


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
        entries.append(GlossaryEntry(english, korean, sorted(a for a in aliases if a)))
    return entries


def _alias_re(alias: str) -> re.Pattern[str]:
    body = r"[\s-]+".join(re.escape(w) for w in re.split(r"[\s-]+", alias))
    return re.compile(rf"(?<![A-Za-z0-9]){body}(?:s|es)?(?![A-Za-z0-9])", re.I)


def _prose(text: str) -> str:
    text = _TAG_RE.sub(" ", intended_drops(text))
    text = _CODE_SPAN_RE.sub(" ", text)
    text = _INLINE_RE.sub(" ", text)
    text = _URL_RE.sub(" ", text)
    return _CODEISH_RE.sub(" ", text)


def glossary_terms(text: str, glossary: list[GlossaryEntry]) -> tuple[list[GlossaryEntry], list[str]]:
    """(glossary entries used in ``text``, in order; English words of ``text`` not in the glossary)."""
    text = _prose(text)
    found: list[tuple[int, GlossaryEntry]] = []
    for entry in glossary:
        for alias in sorted(entry.aliases, key=len, reverse=True):
            pattern = _alias_re(alias)
            m = pattern.search(text)
            if m:
                found.append((m.start(), entry))
            text = pattern.sub(" ", text)
    words = []
    for w in _WORD_RE.findall(text):
        if not re.search("[A-Za-z]", w) or re.fullmatch(r"Q\d+", w):  # numbers; question numbers
            continue
        if w.lower() in _STOPWORDS or (len(w) < 3 and not (w.isupper() and len(w) == 2)):
            continue
        words.append(w)
    used = []
    for _, entry in sorted(found, key=lambda t: t[0]):
        if entry not in used:
            used.append(entry)
    return used, words


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

