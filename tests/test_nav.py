"""The generated navigation (kb/nav.py): order, grouping, and nesting by year and month once the
archive holds more than a month of meetings.

Pages are built from front matter here (kb.frontmatter.Page), so these tests need no site build;
tests/test_build_errors.py and tests/test_notion_fixtures.py check the nav in built sites, and
the growth test below checks what a pruned Q&A page carries in a built site with many meetings.
"""

from __future__ import annotations

import datetime as dt

import pytest

from kb import nav
from kb.frontmatter import Page


def meeting(day: dt.date, title: str | None = None) -> Page:
    return Page(f"meetings/{day.isoformat()}.md", {"title": title or f"{day.month}/{day.day} 회의록", "date": day})


def question(day: dt.date, qid: str, title: str) -> Page:
    return Page(f"qna/{day.isoformat()}-{qid.lower()}.md",
                {"title": title, "qid": qid, "meeting": f"meetings/{day.isoformat()}.md"})


def site(*pages: Page) -> dict[str, Page]:
    return {p.src: p for p in pages}


def days(n: int, start=dt.date(2021, 8, 10), step=3) -> list[dt.date]:
    return [start + dt.timedelta(days=step * i) for i in range(n)]


def labels(tree) -> list[str]:
    """Every label and page in the nested lists, depth first."""
    out = []
    for item in tree:
        if isinstance(item, dict):
            for label, value in item.items():
                out.append(label)
                if isinstance(value, list):
                    out += labels(value)
                else:
                    out.append(value)
        else:
            out.append(item)
    return out


def test_a_small_archive_is_a_flat_list_newest_first():
    pages = site(*(meeting(d) for d in days(3)))
    assert nav.meetings(pages) == [{"8/16 회의록": "meetings/2021-08-16.md"}, {"8/13 회의록": "meetings/2021-08-13.md"},
                                   {"8/10 회의록": "meetings/2021-08-10.md"}]


def test_questions_are_grouped_by_meeting_and_numbered_in_order():
    a, b = dt.date(2021, 8, 10), dt.date(2021, 8, 17)
    pages = site(meeting(a), meeting(b), question(a, "Q2", "둘"), question(a, "Q10", "열"), question(a, "Q1", "하나"),
                 question(b, "Q1", "새"), Page("qna/loose.md", {"title": "떠돌이", "qid": "Q1"}))
    assert nav.qna(pages) == [
        {"8/17 회의록": [{"새": "qna/2021-08-17-q1.md"}]},
        {"8/10 회의록": [{"하나": "qna/2021-08-10-q1.md"}, {"둘": "qna/2021-08-10-q2.md"},
                      {"열": "qna/2021-08-10-q10.md"}]},
        {nav.OTHER_MEETING: [{"떠돌이": "qna/loose.md"}]},
    ]


def test_more_than_a_month_of_meetings_is_nested_by_year_and_month():
    # 2021-12-20 .. 2022-02-15, every 3 days: two years, three months
    dates = days(nav.FLAT_LIMIT + 8, start=dt.date(2021, 12, 20))
    assert dates[-1] == dt.date(2022, 2, 15)
    tree = nav.meetings(site(*(meeting(d) for d in dates)))
    assert [next(iter(y)) for y in tree] == ["2022년", "2021년"]
    assert [next(iter(m)) for m in tree[0]["2022년"]] == ["2월", "1월"]
    assert [next(iter(m)) for m in tree[1]["2021년"]] == ["12월"]
    december = tree[1]["2021년"][0]["12월"]
    assert [next(iter(e.values())) for e in december] == [
        f"meetings/{d.isoformat()}.md" for d in sorted((d for d in dates if d.year == 2021), reverse=True)]
    # every meeting once, newest first overall
    flat = [x for x in labels(tree) if x.startswith("meetings/")]
    assert flat == [f"meetings/{d.isoformat()}.md" for d in sorted(dates, reverse=True)]


def test_questions_of_many_meetings_are_nested_by_their_meetings_month():
    dates = days(nav.FLAT_LIMIT + 1, start=dt.date(2021, 8, 10), step=7)
    pages = site(*(meeting(d) for d in dates), *(question(d, "Q1", f"질문 {d}") for d in dates),
                 Page("qna/loose.md", {"title": "떠돌이", "qid": "Q1"}))
    tree = nav.qna(pages)
    assert [next(iter(g)) for g in tree] == ["2021년", nav.OTHER_MEETING]
    months = tree[0]["2021년"]
    assert [next(iter(m)) for m in months] == ["11월", "10월", "9월", "8월"]
    august = months[-1]["8월"]
    assert august[-1] == {"8/10 회의록": [{"질문 2021-08-10": "qna/2021-08-10-q1.md"}]}


def test_undated_meetings_are_listed_last_not_dropped():
    broken = Page("meetings/broken.md", {"title": "날짜 틀림", "date": "someday"})
    pages = site(*(meeting(d) for d in days(nav.FLAT_LIMIT + 1)), broken)
    tree = nav.meetings(pages)
    assert tree[-1] == {nav.NO_DATE: [{"날짜 틀림": "meetings/broken.md"}]}
    assert len([x for x in labels(tree) if x.startswith("meetings/")]) == nav.FLAT_LIMIT + 2


@pytest.mark.parametrize("count, nested", [(nav.FLAT_LIMIT, False), (nav.FLAT_LIMIT + 1, True)])
def test_nesting_starts_after_the_flat_limit(count, nested):
    tree = nav.meetings(site(*(meeting(d) for d in days(count))))
    assert (next(iter(tree[0])).endswith("년")) is nested
