"""Markdown that the build writes from front matter: property boxes and index lists.

Pages ask for a generated list with an HTML comment marker on a line of its own:

``<!-- kb:meetings -->``        every meeting, newest first
``<!-- kb:recent-meetings -->`` the five newest meetings
``<!-- kb:latest-meeting -->``  the newest meeting with its questions
``<!-- kb:qna-index -->``       every Q&A entry with status, tags and meeting
``<!-- kb:newest-qna -->``      the five newest Q&A entries
``<!-- kb:open-qna -->``        every Q&A entry still waiting for an answer, with its meeting
``<!-- kb:papers -->``          every paper review
``<!-- kb:lectures -->``        every lecture

An unknown ``kb:`` marker is an error. Links are written relative to the page that shows
them, so MkDocs checks them like any other link.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import pickle
import posixpath
import re
from typing import Callable

from .frontmatter import Page
from .safety import md_text

STATUS_LABEL = {"answered": "답변 완료", "open": "답변 대기"}
MARKER_RE = re.compile(r"^<!--\s*kb:([a-z-]+)\s*-->[ \t]*$", re.M)  # [ \t]: keep the blank line after it


class MarkerError(ValueError):
    pass


MARKERS = ("meetings", "recent-meetings", "latest-meeting", "qna-index", "newest-qna", "open-qna", "papers", "lectures")
RECENT = 5  # how many entries the "recent" and "newest" lists show
_EXPANDED: dict[tuple, str] = {}  # (site key, page, Markdown) -> the Markdown with its lists (Site.expand_markers)


def unknown_markers(markdown: str) -> list[tuple[int, str]]:
    """(line, name) of every ``<!-- kb:name -->`` marker that the build does not know."""
    return [
        (markdown[: m.start()].count("\n") + 1, m.group(1))
        for m in MARKER_RE.finditer(markdown)
        if m.group(1) not in MARKERS
    ]


def korean_datetime(value: dt.datetime) -> str:
    """2021-08-06T17:57+09:00 -> '2021년 8월 6일 오후 5:57' (Notion's Korean format)."""
    half = "오전" if value.hour < 12 else "오후"
    hour = value.hour % 12 or 12
    return f"{value.year}년 {value.month}월 {value.day}일 {half} {hour}:{value.minute:02d}"


def korean_date(value: dt.date) -> str:
    weekday = "월화수목금토일"[value.weekday()]
    return f"{value.year}년 {value.month}월 {value.day}일 ({weekday})"


def rel(from_src: str, to_src: str) -> str:
    """Relative Markdown link target from one docs page to another."""
    return posixpath.relpath(to_src, posixpath.dirname(from_src) or ".")


def _title(page: Page) -> str:
    return str(page.meta.get("title", page.src))


def _link(from_src: str, page: Page) -> str:
    return f"[{md_text(_title(page))}]({rel(from_src, page.src)})"


def _url_link(text: str, url: str) -> str:
    """A Markdown link to an external URL (validated as http(s) with no spaces by the schema)."""
    return f"[{md_text(text)}](<{url.replace('<', '%3C').replace('>', '%3E')}>)"


def _tags(page: Page) -> str:
    return " ".join(f'<code>{md_text(t)}</code>' for t in page.meta.get("tags", []))


class Site:
    """All pages' front matter, for generated lists and back-links."""

    def __init__(self, pages: dict[str, Page]):
        self.pages = pages
        self._sections: dict[str, list[Page]] | None = None
        self._by_meeting: dict[tuple[str, str], list[Page]] | None = None

    def section(self, name: str) -> list[Page]:
        if self._sections is None:  # once per build: every page's box and list asks (was a scan per call)
            self._sections = {}
            for p in self.pages.values():
                if not p.is_index:
                    self._sections.setdefault(p.section, []).append(p)
        return list(self._sections.get(name, []))

    def _of_meeting(self, meeting_src: str, section: str) -> list[Page]:
        if self._by_meeting is None:
            self._by_meeting = {}
            for p in self.pages.values():
                meeting = p.meta.get("meeting")
                if not p.is_index and isinstance(meeting, str):
                    self._by_meeting.setdefault((meeting, p.section), []).append(p)
        return list(self._by_meeting.get((meeting_src, section), []))

    def meetings(self) -> list[Page]:
        return sorted(self.section("meetings"), key=lambda p: p.meta["date"], reverse=True)

    def qna(self) -> list[Page]:
        def key(p: Page):
            meeting = self.pages.get(p.meta["meeting"])
            date = meeting.meta.get("date") if meeting else None
            number = int(re.sub(r"\D", "", p.meta["qid"]) or 0)
            return (date or dt.date.min, -number)

        return sorted(self.section("qna"), key=key, reverse=True)

    def questions_of(self, meeting_src: str) -> list[Page]:
        qs = self._of_meeting(meeting_src, "qna")
        return sorted(qs, key=lambda p: int(re.sub(r"\D", "", p.meta["qid"]) or 0))

    def pages_of(self, meeting_src: str, section: str) -> list[Page]:
        return sorted(self._of_meeting(meeting_src, section), key=lambda p: p.src)

    # --- property boxes ----------------------------------------------------------------

    def header(self, page: Page) -> str:
        """The box of properties shown under a page's title, or '' for pages without one."""
        m = page.meta
        if page.is_index:
            return ""
        if page.section == "meetings":
            attendees = md_text(", ".join(m["attendees"])) if m["attendees"] else "(기록 없음)"
            rows = [
                ("🕒 작성일시", korean_datetime(m["created"])),
                ("👤 작성자", md_text(m["author"])),
                ("👥 참석자", attendees),
                ("🕒 최종 편집일시", korean_datetime(m["updated"])),
                ("📌 회의 유형", md_text(m["meeting_type"])),
            ]
            box = "\n".join(f"| {k} | {v} |" for k, v in rows)
            out = f'<div class="kb-properties" markdown>\n\n| 속성 | 값 |\n|---|---|\n{box}\n\n</div>\n'
            related = []
            for label, section in (("Q&A", "qna"), ("논문 리뷰", "papers"), ("특강", "lectures")):
                linked = self.questions_of(page.src) if section == "qna" else self.pages_of(page.src, section)
                if linked:
                    related.append(f"**{label}**: " + " · ".join(_link(page.src, p) for p in linked))
            if related:
                out += '\n!!! info "이 회의에서 나온 글"\n\n' + "\n".join(f"    - {r}" for r in related) + "\n"
            return out
        if page.section == "qna":
            meeting = self.pages[m["meeting"]]
            lines = [
                f"**상태**: {STATUS_LABEL[m['status']]} · **질문 번호**: {md_text(m['qid'])}"
                + (f" · **질문한 사람**: {md_text(m['asked_by'])}" if m.get("asked_by") else ""),
                f"**출처 회의**: {_link(page.src, meeting)}",
            ]
            if m["related"]:
                lines.append("**관련 글**: " + " · ".join(_link(page.src, self.pages[r]) for r in m["related"]))
            kind = "success" if m["status"] == "answered" else "warning"
            return f'!!! {kind} "Q&A 정보"\n\n' + "\n".join(f"    {line}  " for line in lines) + "\n"
        if page.section == "papers":
            p = m["paper"]
            authors = md_text(", ".join(p["authors"]))
            lines = [
                f"**논문**: {_url_link(p['title'], p['url'])} ({md_text(p['venue'])}, {p['year']})",
                f"**저자**: {authors}",
                f"**발표 자료**: {_url_link(m['slides'], m['slides'])}",
                f"**출처 회의**: {_link(page.src, self.pages[m['meeting']])}",
            ]
            if m.get("related"):
                lines.append("**관련 글**: " + " · ".join(_link(page.src, self.pages[r]) for r in m["related"]))
            return '!!! abstract "논문 정보"\n\n' + "\n".join(f"    {line}  " for line in lines) + "\n"
        if page.section == "lectures":
            lines = [f"**출처 회의**: {_link(page.src, self.pages[m['meeting']])}"]
            if m.get("related"):
                lines.append("**관련 글**: " + " · ".join(_link(page.src, self.pages[r]) for r in m["related"]))
            return '!!! abstract "특강 정보"\n\n' + "\n".join(f"    {line}  " for line in lines) + "\n"
        return ""

    # --- generated lists ---------------------------------------------------------------

    def _meetings(self, src: str, limit: int | None = None) -> str:
        rows = []
        for p in self.meetings()[:limit]:
            n = len(self.questions_of(p.src))
            rows.append(f"| {korean_date(p.meta['date'])} | {_link(src, p)} | {md_text(p.meta['meeting_type'])} | {n} |")
        return "| 날짜 | 회의 | 유형 | 질문 수 |\n|---|---|---|---|\n" + "\n".join(rows)

    def _latest_meeting(self, src: str) -> str:
        meetings = self.meetings()
        if not meetings:
            return "_아직 회의록이 없습니다._"
        p = meetings[0]
        out = f"**{_link(src, p)}** ({korean_date(p.meta['date'])})"
        if p.meta.get("description"):
            out += f": {md_text(p.meta['description'])}"
        qs = self.questions_of(p.src)
        if qs:
            out += "\n\n" + "\n".join(f"- {_link(src, q)} ({STATUS_LABEL[q.meta['status']]})" for q in qs)
        return out

    def _qna_row(self, src: str, p: Page) -> str:
        meeting = self.pages[p.meta["meeting"]]
        status = STATUS_LABEL[p.meta["status"]]
        return (
            f'| {_link(src, p)} | <span class="kb-status kb-status--{p.meta["status"]}">{status}</span> '
            f"| {_tags(p)} | {_link(src, meeting)} |"
        )

    def _qna_index(self, src: str) -> str:
        rows = "\n".join(self._qna_row(src, p) for p in self.qna())
        table = "| 질문 | 상태 | 태그 | 회의 |\n|---|---|---|---|\n" + rows
        return f'<div class="kb-qna-index" markdown>\n\n{table}\n\n</div>'

    def _newest_qna(self, src: str) -> str:
        return "\n".join(
            f"- {_link(src, p)} ({STATUS_LABEL[p.meta['status']]})" for p in self.qna()[:RECENT]
        ) or "_아직 Q&A가 없습니다._"

    def _open_qna(self, src: str) -> str:
        """Questions still waiting for a consolidated answer, newest meeting first, with their meeting."""
        waiting = [p for p in self.qna() if p.meta["status"] == "open"]
        return "\n".join(
            f"- {_link(src, p)} ({_link(src, self.pages[p.meta['meeting']])})" for p in waiting
        ) or "_답을 기다리는 질문이 없습니다._"

    def _list(self, section: str) -> Callable[[str], str]:
        def make(src: str) -> str:
            items = sorted(self.section(section), key=lambda p: _title(p))
            return "\n".join(
                f"- {_link(src, p)}" + (f": {md_text(p.meta['description'])}" if p.meta.get("description") else "")
                for p in items
            )

        return make

    @functools.cached_property
    def key(self) -> bytes:
        """A digest of every page's path and front matter: all that the generated lists are made of."""
        return hashlib.sha256(pickle.dumps([(src, p.meta) for src, p in self.pages.items()], pickle.HIGHEST_PROTOCOL)).digest()

    def expand_markers(self, src: str, markdown: str) -> str:
        """``markdown`` with each ``<!-- kb:... -->`` marker replaced by its list. `mkdocs serve` and
        kb check ask again on every rebuild for the same pages: kept by the site's :attr:`key`."""
        key = (self.key, src, markdown)
        if key not in _EXPANDED:
            _EXPANDED[key] = self._expand_markers(src, markdown)
            while len(_EXPANDED) > 4096:
                _EXPANDED.pop(next(iter(_EXPANDED)))
        return _EXPANDED[key]

    def _expand_markers(self, src: str, markdown: str) -> str:
        makers: dict[str, Callable[[str], str]] = {
            "meetings": self._meetings,
            "latest-meeting": self._latest_meeting,
            "qna-index": self._qna_index,
            "newest-qna": self._newest_qna,
            "open-qna": self._open_qna,
            "recent-meetings": lambda src: self._meetings(src, RECENT),
            "papers": self._list("papers"),
            "lectures": self._list("lectures"),
        }

        def repl(m: re.Match[str]) -> str:
            name = m.group(1)
            if name not in makers:
                line = markdown[: m.start()].count("\n") + 1
                known = ", ".join(sorted(makers))
                raise MarkerError(f"docs/{src}:{line}: unknown marker 'kb:{name}' (known: {known})")
            return makers[name](src)

        return MARKER_RE.sub(repl, markdown)
