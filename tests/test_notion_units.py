"""The importer's stages one at a time: question forms, property blocks, dates, fences.

Expected values are written from the inputs by hand.
"""

from __future__ import annotations

import datetime as dt

import pytest

from notion_seed import PROPS, make_export
from kb import notion
from kb.notion.blocks import parse_body
from kb.notion.properties import field_of, parse_header

KST = dt.timezone(dt.timedelta(hours=9))


def questions(text: str) -> list[tuple[str, str]]:
    rows = list(enumerate(text.split("\n"), 1))
    return [(b.qid, b.text) for b in parse_body(rows, "x.md", notion.Warnings()) if b.kind == "question"]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Q1. 왜 그런가요?", ("Q1", "왜 그런가요?")),
        ("Q1) 왜 그런가요?", ("Q1", "왜 그런가요?")),
        ("Q. 왜 그런가요?", ("Q1", "왜 그런가요?")),
        ("Q: 왜 그런가요?", ("Q1", "왜 그런가요?")),
        ("**Q1.** 왜 그런가요?", ("Q1", "왜 그런가요?")),
        ("**Q1. 왜 그런가요?**", ("Q1", "왜 그런가요?")),
        ("- Q1. 왜 그런가요?", ("Q1", "왜 그런가요?")),
        ("질문: 왜 그런가요?", ("Q1", "왜 그런가요?")),
        ("질문 2. 왜 그런가요?", ("Q2", "왜 그런가요?")),
        ("### Q3 왜 그런가요?", ("Q3", "왜 그런가요?")),
        ("## Q4. 왜 그런가요?", ("Q4", "왜 그런가요?")),
        ("Q\u200b1. 왜 그런가요?", ("Q1", "왜 그런가요?")),
    ],
)
def test_question_forms(line, expected):
    assert questions(line) == [expected]


@pytest.mark.parametrize("line", ["Queue는 FIFO입니다.", "QA: 끝", "질문이 있었습니다.", "## 질문", "Q1 결과는 좋았다"])
def test_lines_that_are_not_questions(line):
    assert questions(line) == []


def test_unnumbered_questions_take_the_next_free_numbers():
    assert [q for q, _ in questions("Q: 하나\n\nQ3. 셋\n\nQ. 넷\n\nQ1. 하나 더")] == ["Q2", "Q3", "Q4", "Q1"]


def test_colon_properties_need_a_known_name():
    header = parse_header(["# 제목", "", "참고: 지난주 자료", "", "본문"], "x.md", notion.Warnings())
    assert header.properties == {} and header.body_start == 2  # a paragraph, not properties
    header = parse_header(["# 제목", "", "Created: July 16, 2021", "참고: 지난주 자료", "", "본문"], "x.md", notion.Warnings())
    assert header.properties["created"].value == "July 16, 2021"
    assert [p.name for p in header.extra] == ["참고"] and header.body_start == 4


@pytest.mark.parametrize(
    ("name", "field"),
    [("작성일시", "created"), ("생성 일시", "created"), ("Created", "created"), ("최종 편집일시", "updated"),
     ("Last edited time", "updated"), ("작성자", "author"), ("Created by", "author"), ("참석자", "attendees"),
     ("이해관계자", "attendees"), ("회의 유형", "meeting_type"), ("태그", "tags"), ("Tags", "tags"),
     ("날짜", "date"), ("Date", "date"), ("상태", None)],
)
def test_property_names(name, field):
    assert field_of(name) == field


@pytest.mark.parametrize(
    ("value", "start", "has_time", "end"),
    [
        ("2021년 7월 16일 오후 3:52", dt.datetime(2021, 7, 16, 15, 52), True, None),
        ("@2021년 7월 16일 오전 12:05", dt.datetime(2021, 7, 16, 0, 5), True, None),
        ("July 16, 2021 3:52 PM", dt.datetime(2021, 7, 16, 15, 52), True, None),
        ("Dec 6, 2020 9:26 PM", dt.datetime(2020, 12, 6, 21, 26), True, None),
        ("@Dec 6, 2020 12:00 AM", dt.datetime(2020, 12, 6, 0, 0), True, None),
        ("2021년 7월 16일", dt.datetime(2021, 7, 16), False, None),
        ("July 16, 2021", dt.datetime(2021, 7, 16), False, None),
        ("2021-07-16", dt.datetime(2021, 7, 16), False, None),
        ("@2021년 7월 16일 → 2021년 7월 18일", dt.datetime(2021, 7, 16), False, dt.datetime(2021, 7, 18)),
        ("July 16, 2021 3:00 PM → 5:00 PM", dt.datetime(2021, 7, 16, 15), True, dt.datetime(2021, 7, 16, 17)),
        ("2021년 7월 16일 오후 3:00 → 오후 5:00", dt.datetime(2021, 7, 16, 15), True, dt.datetime(2021, 7, 16, 17)),
    ],
)
def test_dates_in_korean_and_english(value, start, has_time, end):
    when = notion.parse_datetime(value, "x.md", 3)
    assert when.value == start.replace(tzinfo=KST) and when.has_time == has_time
    assert when.end == (end.replace(tzinfo=KST) if end else None)


@pytest.mark.parametrize("value", ["지난 화요일", "Smarch 3, 2021", "2021년 2월 30일", "July 16, 2021 13:00 PM"])
def test_unreadable_dates_name_the_line(value):
    with pytest.raises(notion.NotionError, match=r"^x\.md:3: "):
        notion.parse_datetime(value, "x.md", 3)


def test_meeting_date_order_date_property_then_title_then_created():
    def day(props: str, title: str = "# 8/10 회의록", override=None) -> dt.date:
        return notion.meeting_date(notion.parse(f"{title}\n\n{props}\n\n본문\n", "x.md", "x.md"), override)

    created = "작성일시: 2021년 8월 6일 오후 5:57"
    assert day(created + "\n날짜: 2021년 8월 12일", override=dt.date(2021, 8, 13)) == dt.date(2021, 8, 13)
    assert day(created + "\n날짜: 2021년 8월 12일") == dt.date(2021, 8, 12)
    assert day(created) == dt.date(2021, 8, 10)
    assert day(created, title="# 정기 회의") == dt.date(2021, 8, 6)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("@2021년 8월 6일 오후 5:57", dt.datetime(2021, 8, 6, 17, 57, tzinfo=KST)),
        ("@2021년 8월 6일 오전 12:05", dt.datetime(2021, 8, 6, 0, 5, tzinfo=KST)),
        ("@2021년 8월 6일 오후 12:00", dt.datetime(2021, 8, 6, 12, 0, tzinfo=KST)),
        ("@2021년 12월 31일 오전 9:03", dt.datetime(2021, 12, 31, 9, 3, tzinfo=KST)),
    ],
)
def test_korean_12_hour_clock(value, expected):
    assert notion.parse_datetime(value, "x.md", 1).value == expected


def test_january_meeting_written_in_december_gets_the_next_year():
    text = make_export("본문\n", title="# 1/3(월) 회의록", props=PROPS.replace("2021년 8월 6일", "2021년 12월 28일"))
    export = notion.parse(text, "x.md", "x.md")
    assert notion.meeting_date(export) == dt.date(2022, 1, 3)
    assert not [w for w in export.warnings if "요일" in w.text]  # 2022-01-03 is a Monday
