"""The seed export (tests/fixtures/2021-08-10-meeting-notion-export.md) and small exports in its
shape, for the importer's tests; and how those tests read an imported page (front matter, body)."""

from __future__ import annotations

from pathlib import Path

import yaml

SEED = Path(__file__).resolve().parent / "fixtures/2021-08-10-meeting-notion-export.md"
SEED_TEXT = SEED.read_text(encoding="utf-8")

PROPS = (
    "🕒 작성일시\t@2021년 8월 6일 오후 5:57\n"
    "👤 작성자\t<span>하람</span> 이하람\n"
    "👥 참석자\t\n"
    "🕒 최종 편집일시\t@2021년 8월 17일 오후 2:00\n"
    "📌 회의 유형\t일일 회의\n"
)


def make_export(body: str, props: str = PROPS, title: str = "# 8/10(화) 회의록") -> str:
    """Title on line 1, properties on lines 3-7, body from line 9."""
    return f"{title}\n\n{props}\n{body}"


def front_matter(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("\n---\n", 1)[0][4:])


def body(path: Path) -> str:
    return path.read_text(encoding="utf-8").split("\n---\n", 1)[1]
