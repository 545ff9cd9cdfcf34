"""What makes an imported page look like the group's own pages (issue 23, item 6).

* A title without a date gets the meeting's, as the group titles its meetings
  (``8/10(화) 회의록``, kb.scaffold.default_meeting_title): ``Attention 리뷰`` of 2021-08-10 becomes
  ``8/10(화) Attention 리뷰`` (:func:`house_title`). The nav and the Q&A pages show the ``title``.
* A heading with no text (``#``, ``## ``) is dropped, with one warning for the page
  (:func:`drop_empty_headings`): Markdown would draw an empty heading, and the converter would put
  an "empty heading" note under it.
* An image whose alt text is Notion's default (``Untitled``, ``Untitled 1``; in older exports the
  path itself, ``Untitled.png``) is named ``<page title> 그림 N``, N its place among the page's
  images (:func:`name_untitled_images`). Notion writes an image's caption as its alt text
  (``![손실 곡선](…/Untitled.png)``), so an image with a caption keeps it. "Untitled" is never
  shown to a Notion reader, so the rewritten line is also what the nothing-lost check reads.

The last two change the parsed page (:class:`~.page.Export`) once, right after parsing.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import unquote

from .blocks import HEADING_RE, Block
from .clean import MDLINK_RE, md_escape, plain_value
from .messages import Warnings

WEEKDAYS = "월화수목금토일"
# a date in a title: 8/10, "8 10" at its start (a file name's '8/10'), 2021-08-10, 8월 10일
_DATE_IN_TITLE_RE = re.compile(
    r"(?<!\d)\d{1,2}/\d{1,2}(?!\d)|^\d{1,2} \d{1,2}(?!\d)|(?<!\d)\d{4}[-./]\d{1,2}[-./]\d{1,2}(?!\d)|\d{1,2}월\s*\d{1,2}일"
)
_NO_TEXT_RE = re.compile(r"[#\s\u200b-\u200d\u2060\ufeff]*")
_DEFAULT_ALT_RE = re.compile(r"Untitled(?: \d{1,4})?(?:\.\w{1,5})?")
_CODE_SPAN_SPLIT_RE = re.compile(r"((`+)[^`\n]*?\2)")  # split: [text, span, its fence, text, …]


def house_title(title: str, day: dt.date) -> str:
    """``title`` with ``M/D(요일)`` in front unless it names a date already."""
    if _DATE_IN_TITLE_RE.search(title):
        return title
    return f"{day.month}/{day.day}({WEEKDAYS[day.weekday()]}) {title}".rstrip()


def drop_empty_headings(blocks: list[Block], label: str, warnings: Warnings) -> list[Block]:
    """``blocks`` without headings that have no text (in callouts too); one warning lists their lines."""
    dropped: list[int] = []

    def keep(items: list[Block]) -> list[Block]:
        out = []
        for b in items:
            if _empty_heading(b):
                dropped.append(b.line)
                continue
            b.children = keep(b.children)
            out.append(b)
        return out

    kept = keep(blocks)
    # the parser's own warning for each ("글자가 없는 제목: 그대로 둡니다") no longer holds: one for all
    gone = {(label, n) for n in dropped}
    warnings[:] = [w for w in warnings if not ((w.path, w.line) in gone and w.text.startswith("글자가 없는 제목"))]
    if dropped:
        lines = ", ".join(map(str, dropped[:20])) + (" …" if len(dropped) > 20 else "")
        warnings.add(label, dropped[0], f"글자가 없는 제목 {len(dropped)}개를 뺐습니다 ({lines}번 줄)")
    return kept


def _empty_heading(b: Block) -> bool:
    """``#``, ``## ``, ``### ###`` (a closing sequence only): Markdown draws an empty heading. The
    parser keeps a bare ``#`` line as a "text" block."""
    if b.kind == "heading":
        text = b.text
    elif b.kind == "text" and len(b.lines) == 1 and (m := HEADING_RE.match(b.lines[0])):
        text = m.group(2) or ""
    else:
        return False
    return _NO_TEXT_RE.fullmatch(text) is not None


def name_untitled_images(blocks: list[Block], title: str) -> None:
    """Give images with Notion's default alt text the name ``<title> 그림 N`` (in place)."""
    try:
        shown_title = plain_value(title)[0].strip() or title
    except ValueError:
        shown_title = title
    shown_title = md_escape(re.sub(r"\s+", " ", shown_title))
    count = 0

    def image(m: re.Match[str]) -> str:
        nonlocal count
        bang, alt, dest, rest = m.groups()
        if not bang:
            return m.group(0)
        count += 1
        target = unquote(unquote(dest.strip("<>").strip())).rsplit("/", 1)[-1]
        default = _DEFAULT_ALT_RE.fullmatch(alt.strip()) or (alt.strip() == dest.strip() and _DEFAULT_ALT_RE.fullmatch(target))
        if not default:
            return m.group(0)
        return f"![{shown_title} 그림 {count}]({dest}{rest})"

    def line(text: str) -> str:
        parts = _CODE_SPAN_SPLIT_RE.split(text)
        return "".join(MDLINK_RE.sub(image, p) if k % 3 == 0 else p if k % 3 == 1 else "" for k, p in enumerate(parts))

    def walk(items: list[Block]) -> None:
        for b in items:
            if b.kind not in ("code", "math", "heading", "aside"):  # an aside's text is its children
                b.lines = [line(t) for t in b.lines]
            walk(b.children)

    walk(blocks)
