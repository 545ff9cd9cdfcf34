"""What a parsed page says about its meeting: the meeting's date and the front matter.

:func:`meeting_date` picks the date (``--date``, a date property, the title's M/D near the creation
date, or the creation date); :func:`meeting_fields` gives the meeting page's front matter fields
(authors, attendees, meeting type, tags; ``기록 없음`` with a warning where the export has none) and
the values the front matter cannot hold (a date range), which the meeting page lists in a note.
:func:`yaml_scalar`, :func:`yaml_list` and :func:`front_matter_block` write front matter that YAML
reads back as written; the Q&A pages (kb.notion.convert) and ``kb new`` (kb.scaffold) use them too.
"""

from __future__ import annotations

import datetime as dt
import re

import yaml

from .looks import house_title
from .messages import NotionError
from .page import Export, plain
from .properties import KST, Property, When, parse_datetime, people

MEETING_TAGS = ["회의록"]
UNKNOWN = "기록 없음"
_TITLE_DATE_RE = re.compile(r"(?<!\d)(\d{1,2})/(\d{1,2})(?!\d)(?:\s*\(([월화수목금토일])\))?")
_TITLE_DATE_SPACE_RE = re.compile(r"^(\d{1,2}) (\d{1,2})(?!\d)")  # '03/10 …' as a file name: '03 10 …'


def _when(export: Export, field_name: str) -> When | None:
    prop = export.header.properties.get(field_name)
    if prop is None or not prop.value.strip():
        return None
    return parse_datetime(prop.value, export.label, prop.line)


def meeting_date(export: Export, override: dt.date | None = None) -> dt.date:
    """--date, a date property, the title's M/D, or the creation date, in that order."""
    if override is not None:
        return override
    if (when := _when(export, "date")) is not None:
        return when.value.date()
    created = _when(export, "created") or _when(export, "updated")
    m = _TITLE_DATE_RE.search(export.title) or _TITLE_DATE_SPACE_RE.search(export.title)
    if m and created is not None:
        return _title_date(export, m, created.value)
    if m and (year := re.search(r"(?<!\d)(20\d\d)(?!\d)", export.title)):
        return _title_date(export, m, dt.datetime(int(year.group(1)), int(m.group(1)), 1, tzinfo=KST))
    if created is not None:
        return created.value.date()
    hint = "제목에 M/D가 있지만 연도를 알 수 없습니다" if m else "날짜 속성도, 제목의 M/D도, 작성일시도 없습니다"
    raise NotionError(export.label, export.title_line, f"회의 날짜를 정할 수 없습니다 ({hint}): --date YYYY-MM-DD로 정해 주세요")


def _title_date(export: Export, m: re.Match[str], near: dt.datetime) -> dt.date:
    month, day = int(m.group(1)), int(m.group(2))
    candidates = []
    for year in (near.year - 1, near.year, near.year + 1):
        try:
            candidates.append(dt.date(year, month, day))
        except ValueError:
            pass
    if not candidates:
        raise NotionError(export.label, export.title_line, f"제목의 날짜 {m.group(0)!r}는 없는 날짜입니다")
    date = min(candidates, key=lambda d: abs((d - near.date()).days))
    weekday = "월화수목금토일"[date.weekday()]
    if m.lastindex and m.lastindex >= 3 and m.group(3) and m.group(3) != weekday:
        export.warnings.add(export.label, export.title_line, f"제목의 요일({m.group(3)})이 {date.isoformat()}의 요일({weekday})과 다릅니다")
    return date


def _people(export: Export, prop: Property | None) -> list[str]:
    if prop is None:
        return []
    return [v for v in (plain(export, p, prop.line, f"속성 '{prop.name}'") for p in people(prop.value)) if v]


def meeting_fields(export: Export, day: dt.date) -> tuple[list[tuple[str, str]], list[str]]:
    """(front matter fields, notes for the page: values the front matter cannot hold)."""
    props, label = export.header.properties, export.label
    notes: list[str] = []
    created, updated = _when(export, "created"), _when(export, "updated")
    for name, when in (("created", created), ("updated", updated), ("date", _when(export, "date"))):
        if when is not None and when.end is not None:
            prop = props[name]
            notes.append(f"{prop.name}: {prop.value}")
    if created is None and updated is None:
        export.warnings.add(label, export.title_line, f"작성일시가 없어 회의 날짜 {day.isoformat()} 0시(한국 시간)로 둡니다")
    stamp = dt.datetime(day.year, day.month, day.day, tzinfo=KST)
    created_at = (created or updated).value if (created or updated) else stamp
    updated_at = (updated or created).value if (updated or created) else stamp
    authors = _people(export, props.get("author"))
    if not authors:
        export.warnings.add(label, props["author"].line if "author" in props else export.title_line, f"작성자가 없습니다: '{UNKNOWN}'으로 둡니다")
    kind = plain(export, props["meeting_type"].value, props["meeting_type"].line, "회의 유형") if "meeting_type" in props else ""
    if not kind:
        export.warnings.add(label, props["meeting_type"].line if "meeting_type" in props else export.title_line, f"회의 유형이 없습니다: '{UNKNOWN}'으로 둡니다")
    tags = list(MEETING_TAGS)
    if "tags" in props:
        tags += [t for t in _people(export, props["tags"]) if t not in tags]
    fields = [
        ("title", yaml_scalar(house_title(plain(export, export.title, export.title_line, "제목") or export.name, day))),
        ("date", day.isoformat()),
        ("created", created_at.isoformat()),
        ("author", yaml_scalar(", ".join(authors) or UNKNOWN)),
        ("attendees", yaml_list(_people(export, props.get("attendees")))),
        ("updated", updated_at.isoformat()),
        ("meeting_type", yaml_scalar(kind or UNKNOWN)),
        ("tags", yaml_list(tags)),
        ("source", yaml_scalar(f"Notion export ({export.name})")),
    ]
    return fields, notes


# --- writing front matter -------------------------------------------------------------


def yaml_scalar(value: str, in_flow: bool = False) -> str:
    doc = f"k: [{value}]" if in_flow else f"k: {value}"
    try:
        loaded = yaml.safe_load(doc)
    except yaml.YAMLError:
        loaded = None
    expected = {"k": [value]} if in_flow else {"k": value}
    if loaded == expected and value == value.strip() and "\n" not in value:
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def yaml_list(values: list[str]) -> str:
    return "[" + ", ".join(yaml_scalar(v, in_flow=True) for v in values) + "]"


def front_matter_block(fields: list[tuple[str, str]]) -> str:
    return "---\n" + "".join(f"{k}: {v}\n" for k, v in fields) + "---\n"
