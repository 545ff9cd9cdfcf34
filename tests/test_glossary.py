"""Every term a page introduces as 한글(English) has its row in the glossary."""

from __future__ import annotations

import re

import pytest

from conftest import DOCS

GLOSSARY = DOCS / "glossary.md"
# 한글(English ...) — a Hangul word right before parentheses that start with a Latin letter.
INTRODUCED = re.compile(r"[가-힣]\(([A-Za-z][A-Za-z0-9 .'\-]*)(?:,[^)]*)?\)")
REFERENCE = re.compile(r"(table|figure|fig\.|section|sec\.|eq\.|algorithm|appendix)\s*[\dA-Z]", re.I)
CODE_OR_MATH = re.compile(r"```.*?```|`[^`\n]*`|\$\$.*?\$\$|\$[^$\n]*\$", re.S)


def glossary_terms() -> set[str]:
    terms: set[str] = set()
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or cells[0] in {"영문", ""} or set(cells[0]) <= {"-", ":"}:
            continue
        english = cells[0]
        terms.add(re.sub(r"\s*\(.*\)", "", english).lower())
        terms.update(alias.strip().lower() for alias in re.findall(r"\(([^)]*)\)", english))
    return terms


def introduced_terms(text: str) -> set[str]:
    body = CODE_OR_MATH.sub(" ", text.split("\n---\n", 1)[-1])
    terms = {m.group(1).strip().lower() for m in INTRODUCED.finditer(body)}
    # not terms: configuration letters (구성 D(...)) and references (결과(Table 6))
    return {t for t in terms if len(t) > 1 and not REFERENCE.match(t)}


def test_glossary_table_has_three_columns_and_no_duplicates():
    rows = [line for line in GLOSSARY.read_text(encoding="utf-8").splitlines() if line.startswith("|")]
    assert rows[0].replace(" ", "") == "|영문|한글|비고|"
    english = [r.split("|")[1].strip().lower() for r in rows[2:]]
    assert len(rows) > 20
    assert len(english) == len(set(english)), "duplicate glossary rows"
    assert english == sorted(english), "keep the glossary sorted by its English column"


def test_pattern_finds_introduced_terms():
    text = "카이밍 초기화(Kaiming initialization)와 앙상블(ensemble, 여러 모델)은 `코드(Not this)` $a(b)$ 2015(ICLR) 구성(D) 결과(Table 6)"
    assert introduced_terms(text) == {"kaiming initialization", "ensemble"}


@pytest.mark.parametrize("page", sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")))
def test_terms_introduced_on_page_are_in_the_glossary(page):
    missing = introduced_terms((DOCS / page).read_text(encoding="utf-8")) - glossary_terms()
    assert missing == set(), f"add these to docs/glossary.md: {sorted(missing)}"


def test_the_importer_skips_lines_without_latin_letters_and_finds_the_same_terms(monkeypatch):
    """kb/notion/glossary.py tries an English alias only on a line that has every Latin letter and
    digit of the alias (most lines of a Korean page have none: 0.28 s of a 200-image page's import
    went to trying them all). The same terms, and the same unknown words, as trying every alias on
    every line of every page."""
    from kb.notion import glossary as module

    entries = module.load_glossary(GLOSSARY)
    lines = [line for page in sorted(DOCS.rglob("*.md")) for line in page.read_text(encoding="utf-8").splitlines()]
    lines += ["드롭아웃(Dropout)과 배치 정규화", "그림 3: 학습률 스케줄", "\u212a-fold cross-validation 설명", "\u017foftmax 함수", "모멘텀 | 네스테로프 |",
              "![그림 0](fig000.png)", "DROPOUT과 BatchNorm", "L2 정규화와 l2"]
    fast = [module.glossary_terms(line, entries) for line in lines]
    every = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")  # as if each line had every letter and digit
    monkeypatch.setattr(module, "_latin_in", lambda text: every)
    slow = [module.glossary_terms(line, entries) for line in lines]
    assert sum(1 for used, words in slow if used or words) > 50  # the pages do use glossary terms
    assert fast == slow
