r"""A page's title and properties, in both forms Notion gives them.

Notion's "Export → Markdown & CSV" writes, after ``# Title`` and a blank line, one ``Name: value``
line per property (database rows only; a page outside a database has none). Copying a page out
of Notion gives instead ``icon name<TAB>value`` lines (``🕒 작성일시<TAB>@2021년 8월 6일 오후 5:57``),
the form of the seed. Both are read; a block of ``Name: value`` lines counts as properties only
if at least one name is known (otherwise it is the page's first paragraph).

:data:`FIELDS` maps property names (compared case-insensitively, spaces ignored) to front-matter
fields; a group that names its properties differently adds its names there, and only there.
Two properties of one field are an error, except the author: Notion's ``Created by`` beside a
``담당자`` (assignee) is common, so the name listed first in ``FIELDS["author"]`` is the author and
the other is kept in the note (with a warning).
Properties with other names are kept: they are listed in a note at the top of the meeting page
(with a warning). Dates are read in Korean and English forms (:func:`parse_datetime`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from .blocks import match_question
from .messages import NotionError, Warnings

KST = dt.timezone(dt.timedelta(hours=9))

# property name -> front-matter field (kb.frontmatter.SCHEMAS["meetings"]; "date" and "tags" too)
FIELDS = {
    "created": ["작성일시", "작성 일시", "생성 일시", "생성일시", "생성일", "만든 날짜", "Created", "Created time", "Created at"],
    "updated": ["최종 편집일시", "최종 편집 일시", "최종 편집", "수정일시", "Last edited time", "Last edited", "Updated"],
    "author": ["작성자", "생성자", "만든 사람", "Created by", "Author", "Owner", "담당자", "Assignee"],  # first wins
    "attendees": ["참석자", "참여자", "이해관계자", "Attendees", "Participants", "Stakeholders"],
    "meeting_type": ["회의 유형", "회의유형", "유형", "종류", "Meeting type", "Type"],
    "date": ["날짜", "회의 날짜", "회의일", "일시", "Date", "Meeting date", "When"],
    "tags": ["태그", "Tags", "Tag", "키워드", "Keywords"],
}
def _norm(name: str) -> str:
    return re.sub(r"\s+", "", name).casefold()


_BY_NAME = {_norm(n): field for field, names in FIELDS.items() for n in names}
_AUTHOR_RANK = {_norm(n): k for k, n in enumerate(FIELDS["author"])}
DATE_FIELDS = {"created", "updated", "date"}

_HEADING_RE = re.compile(r"^(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_TAB_PROPERTY_RE = re.compile(r"^(?:(?P<icon>[^\w\s]{1,8})[ \t]+)?(?P<name>[^\t]{0,60}?)[ \t]*\t(?P<value>.*)$")
_COLON_PROPERTY_RE = re.compile(r"^(?P<name>[^\s:#>*|!\[\-`$<][^:\n]{0,59}?)[ \t]*:[ \t]?(?P<value>.*)$")
_AVATAR_RE = re.compile(r"<span>([^<>]{0,200})</span>\s*")


def field_of(name: str) -> str | None:
    return _BY_NAME.get(_norm(name))


@dataclass
class Property:
    name: str
    value: str
    line: int
    raw: str
    field: str | None  # None: not one the importer knows


@dataclass
class Header:
    title: str
    title_line: int
    properties: dict[str, Property]  # by field
    extra: list[Property]
    body_start: int  # 0-based index of the first body line


def parse_header(lines: list[str], label: str, warnings: Warnings) -> Header:
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    m = _HEADING_RE.match(lines[i]) if i < len(lines) else None
    if not m or len(m.group(1)) != 1 or not (m.group(2) or "").strip():
        shown = lines[i][:60] if i < len(lines) else ""
        raise NotionError(label, i + 1, f"첫 줄이 제목('# 8/10(화) 회의록' 같은 줄)이 아닙니다: {shown!r}")
    title, title_line = m.group(2).strip(), i + 1
    i += 1
    while i < len(lines) and not lines[i].strip():
        i += 1
    end = i
    while end < len(lines) and lines[end].strip():
        end += 1
    block = lines[i:end]
    props = _tab_form(block, i, label) if block and all("\t" in b for b in block) else _colon_form(block, i)
    if props is None:
        return Header(title, title_line, {}, [], i)
    known: dict[str, Property] = {}
    extra: list[Property] = []
    for prop in props:
        if prop.field == "author" and "author" in known:
            first, other = sorted((known["author"], prop), key=lambda p: _AUTHOR_RANK[_norm(p.name)])
            known["author"] = first
            extra.append(other)
            warnings.add(label, other.line, f"속성 '{other.name}'과(와) '{first.name}'이(가) 모두 작성자 항목이라 '{first.name}'을(를) 작성자로 쓰고 '{other.name}'은(는) 회의록 맨 위 안내 상자에 옮깁니다")
            continue
        if prop.field and prop.field in known:
            first = known[prop.field]
            raise NotionError(label, prop.line, f"속성 '{prop.name}'이(가) '{first.name}'({first.line}번 줄)와 같은 항목({prop.field})입니다")
        if prop.field:
            known[prop.field] = prop
        else:
            extra.append(prop)
            warnings.add(label, prop.line, f"모르는 속성 '{prop.name}': 회의록 맨 위 안내 상자에 그대로 옮깁니다 (kb/notion/properties.py의 FIELDS에 이름을 더하면 front matter로 옮깁니다)")
    return Header(title, title_line, known, extra, end)


def _tab_form(block: list[str], start: int, label: str) -> list[Property]:
    out = []
    for k, raw in enumerate(block):
        m = _TAB_PROPERTY_RE.match(raw)
        if not m or not m.group("name").strip():
            raise NotionError(label, start + k + 1, f"속성 줄을 읽을 수 없습니다 ('아이콘 이름<TAB>값' 형식이어야 합니다): {raw[:80]!r}")
        name = m.group("name").strip()
        out.append(Property(name, m.group("value").strip(), start + k + 1, raw, field_of(name)))
    return out


def _colon_form(block: list[str], start: int) -> list[Property] | None:
    out = []
    for k, raw in enumerate(block):
        m = _COLON_PROPERTY_RE.match(raw)
        if not m or m.group("name").lower().startswith("http") or match_question(raw):
            return None
        name = m.group("name").strip()
        out.append(Property(name, m.group("value").strip(), start + k + 1, raw, field_of(name)))
    return out if any(p.field for p in out) else None


# --- values -----------------------------------------------------------------------------

_KO_DATE = r"(?P<y>\d{4})년\s*(?P<m>\d{1,2})월\s*(?P<d>\d{1,2})일(?:\s*\(.\))?(?:\s*(?P<half>오전|오후)\s*(?P<H>\d{1,2}):(?P<M>\d{2}))?"
_MONTHS = {m: n for n, names in enumerate(
    [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
     ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
     ("dec", "december")], 1) for m in names}
_EN_DATE = (
    r"(?P<mon>[A-Za-z]{3,9})\.?\s+(?P<d>\d{1,2}),\s*(?P<y>\d{4})"
    r"(?:\s+(?:at\s+)?(?P<H>\d{1,2}):(?P<M>\d{2})\s*(?P<half>AM|PM|am|pm))?"
)
_ISO_DATE = r"(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})(?:[ T](?P<H>\d{1,2}):(?P<M>\d{2}))?"
_DATE_FORMS = [re.compile(rf"^{p}$") for p in (_KO_DATE, _EN_DATE, _ISO_DATE)]
DATE_HELP = "'2021년 7월 16일 오후 3:52', 'July 16, 2021 3:52 PM', '2021-07-16' 같은 형식"


@dataclass(frozen=True)
class When:
    value: dt.datetime  # Korea time when no zone is given
    has_time: bool
    end: dt.datetime | None = None  # a range's end (Notion writes 'A → B')


def parse_datetime(value: str, label: str, line: int) -> When:
    """A date property -> :class:`When`; an ``@`` before it and a range's end are allowed."""
    text = value.strip().removeprefix("@").strip()
    start, arrow, rest = text.partition("→")
    first = _one_date(start.strip(), value, label, line)
    if not arrow:
        return first
    rest = rest.strip().removeprefix("@").strip()
    if re.fullmatch(r"(오전|오후)\s*\d{1,2}:\d{2}|\d{1,2}:\d{2}\s*(AM|PM|am|pm)", rest):  # same day, end time
        end = _one_date(_date_part(start.strip()) + " " + rest, value, label, line)
    else:
        end = _one_date(rest, value, label, line)
    return When(first.value, first.has_time, end.value)


def _date_part(text: str) -> str:
    return re.sub(r"\s*(오전|오후)\s*\d{1,2}:\d{2}$|\s+(at\s+)?\d{1,2}:\d{2}\s*(AM|PM|am|pm)$", "", text)


def _one_date(text: str, original: str, label: str, line: int) -> When:
    for form in _DATE_FORMS:
        m = form.match(text)
        if m:
            break
    else:
        raise NotionError(label, line, f"날짜를 읽을 수 없습니다: {original!r} ({DATE_HELP}이어야 합니다)")
    g = m.groupdict()
    month = int(g["m"]) if g.get("m") else _MONTHS.get(g["mon"].lower())
    if month is None:
        raise NotionError(label, line, f"날짜의 달 이름을 모릅니다: {original!r}")
    h, mi = (int(g["H"]), int(g["M"])) if g.get("H") else (0, 0)
    half = (g.get("half") or "").lower()
    if (half and not 1 <= h <= 12 and not (half in ("오전", "오후") and h == 0)) or h > 23 or mi > 59:
        raise NotionError(label, line, f"날짜의 시각이 잘못되었습니다: {original!r}")
    if half in ("오후", "pm") and h < 12:
        h += 12
    elif half in ("오전", "am") and h == 12:
        h = 0
    try:
        return When(dt.datetime(int(g["y"]), month, int(g["d"]), h, mi, tzinfo=KST), bool(g.get("H")))
    except ValueError as exc:
        raise NotionError(label, line, f"없는 날짜입니다: {original!r} ({exc})") from None


def people(value: str) -> list[str]:
    """'<span>하람</span> 이하람, 김민' -> ['이하람', '김민'] (avatar labels dropped; see clean.plain_value)."""
    return [p.strip() for p in _AVATAR_RE.sub("", value).split(",") if p.strip()]
