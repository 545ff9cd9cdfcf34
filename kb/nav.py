"""Navigation of meetings and Q&A, generated from the pages' front matter on every build.

In mkdocs.yml the 회의록 and Q&A sections list only their index page::

    nav:
      - 회의록:
          - meetings/index.md
      - Q&A:
          - qna/index.md

and :func:`generate` (called from the ``on_config`` hook, so ``mkdocs serve`` picks up a new
page on its next rebuild) appends every page of the folder: meetings newest first (by ``date``),
Q&A grouped by the meeting they came from (newest meeting first, questions by number). So a page
written by ``kb import-notion``, ``kb new meeting`` or ``kb new qna`` is in the navigation with no
hand edit. Labels are the pages' ``title``s, escaped (MkDocs writes nav labels into HTML as they are).

Once a section holds more than :data:`FLAT_LIMIT` meetings, its entries are nested by year and
month (``2021년`` → ``8월`` → meetings, or → meeting → questions). With ``navigation.sections`` and
``navigation.prune`` a page then carries the year headings, the month labels and only its own
month's entries, so its navigation (and the site, which writes it into every page) stops growing
with the archive; a flat list of hundreds of meetings would be written into each of hundreds of pages.

No nav plugin does this: mkdocs-awesome-nav and similar plugins order by file name or title, not
by a front matter date, and cannot group Q&A pages by the meeting named in their front matter.
Pages whose front matter is broken are still listed (by file name) so that the build reports
the front matter problem itself rather than "page not in nav".
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from pathlib import Path

from .frontmatter import Page, load_docs
from .safety import esc

GENERATED = {"meetings/index.md": "meetings", "qna/index.md": "qna"}
OTHER_MEETING = "기타"
NO_DATE = "날짜 없음"
FLAT_LIMIT = 12  # about a month of meetings; more are nested by year and month


def _entry(page: Page) -> str | dict[str, str]:
    title = page.meta.get("title")
    return {esc(title): page.src} if isinstance(title, str) and title.strip() else page.src


def _date(page: Page | None) -> dt.date:
    value = page.meta.get("date") if page else None
    return value if isinstance(value, dt.date) else dt.date.min


def _number(page: Page) -> int:
    digits = re.sub(r"\D", "", str(page.meta.get("qid", "")))[:9]
    return int(digits or 0)


def by_month(items: list[tuple[dt.date, object]]) -> list:
    """``items`` (newest first) nested as ``[{"2021년": [{"8월": [...]}, ...]}, ...]``; undated ones last."""
    years: dict[str, dict[str, list]] = {}
    undated = []
    for day, item in items:
        if day == dt.date.min:
            undated.append(item)
        else:
            years.setdefault(f"{day.year}년", {}).setdefault(f"{day.month}월", []).append(item)
    out: list = [{year: [{month: entries} for month, entries in months.items()]} for year, months in years.items()]
    return out + ([{NO_DATE: undated}] if undated else [])


def _nested(items: list[tuple[dt.date, object]]) -> list:
    return by_month(items) if len(items) > FLAT_LIMIT else [item for _, item in items]


def meetings(pages: dict[str, Page]) -> list:
    found = [p for p in pages.values() if p.section == "meetings" and not p.is_index]
    newest = sorted(found, key=lambda p: (_date(p), p.src), reverse=True)
    return _nested([(_date(p), _entry(p)) for p in newest])


def qna(pages: dict[str, Page]) -> list:
    groups: dict[str, list[Page]] = {}
    for p in pages.values():
        if p.section == "qna" and not p.is_index:
            meeting = p.meta.get("meeting")
            groups.setdefault(meeting if isinstance(meeting, str) and meeting in pages else "", []).append(p)

    def group_key(src: str):
        return (src != "", _date(pages.get(src)), src)

    dated, other = [], []
    for src in sorted(groups, key=group_key, reverse=True):
        items = [_entry(p) for p in sorted(groups[src], key=lambda p: (_number(p), p.src))]
        title = pages[src].meta.get("title") if src else None
        label = esc(title) if isinstance(title, str) and title.strip() else (src or OTHER_MEETING)
        (dated if src else other).append((_date(pages.get(src)), {label: items}))
    return _nested(dated) + [group for _, group in other]


def generate(nav: list | None, docs_dir: Path, pages: dict[str, Page] | None = None) -> list | None:
    """``nav`` with the meetings and Q&A sections filled in from ``docs_dir``'s pages (``pages``:
    what :func:`load_docs` gives for ``docs_dir``, when the caller has it already)."""
    if not nav:
        return nav
    if pages is None:
        pages, _ = load_docs(docs_dir)  # problems are reported by the build's own validation
    makers = {"meetings": meetings, "qna": qna}

    def fill(items: list) -> list:
        out = []
        for item in items:
            if isinstance(item, dict):
                item = {k: fill(v) if isinstance(v, list) else v for k, v in item.items()}
            out.append(item)
        first = items[0] if items else None
        if isinstance(first, str) and first in GENERATED:
            out += makers[GENERATED[first]](pages)
        return out

    return fill(copy.deepcopy(nav))
