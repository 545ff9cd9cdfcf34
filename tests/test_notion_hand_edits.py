"""`import-notion --force` keeps what members wrote on the site: a meeting page's lines that the new
import would drop with nothing in their place are named (file, line) and nothing is written, unless
`--discard-edits` lets them go. Every command runs through ``python -m kb`` in a subprocess."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import run_kb
from notion_cli import snapshot

KO = Path(__file__).parent / "fixtures/notion/ko-page"
MEETING = "meetings/2021-07-16.md"
ADDED = "## 사이트에서 덧붙임\n\n김민: 발표 자료는 스터디 드라이브에 올렸습니다.\n"


@pytest.fixture
def published(tmp_path) -> tuple[Path, Path]:
    """The Korean fixture imported, then changed in Notion: (export copy, docs)."""
    export = tmp_path / "export"
    shutil.copytree(KO, export)
    docs = tmp_path / "docs"
    docs.mkdir()
    imported = run_kb("import-notion", export, "--docs", docs)
    assert imported.returncode == 0, imported.stderr
    page = next(export.glob("*.md"))
    text = page.read_text(encoding="utf-8")
    assert "다음 주에는 ResNet 논문을 읽습니다." in text
    page.write_text(text.replace("다음 주에는 ResNet 논문을 읽습니다.", "다음 주에는 DenseNet 논문을 읽습니다."), encoding="utf-8")
    return export, docs


def add_by_hand(docs: Path) -> dict[str, int]:
    """Append a section to the published meeting page; the line of each of its non-blank lines."""
    page = docs / MEETING
    text = page.read_text(encoding="utf-8")
    page.write_text(text + "\n" + ADDED, encoding="utf-8")
    first = text.count("\n") + 2  # the text ends with a newline; then one blank line
    return {line: first + k for k, line in enumerate(ADDED.split("\n")) if line}


def test_force_refuses_to_drop_a_section_added_on_the_site(published):
    export, docs = published
    lines = add_by_hand(docs)
    before = snapshot(docs)
    result = run_kb("import-notion", export, "--docs", docs, "--force")
    assert result.returncode == 1, result.stdout + result.stderr
    for line, n in lines.items():
        assert f"docs/{MEETING}:{n}: 다시 가져오면 사라지는 줄 (새 내보내기에 없음): {line!r}" in result.stderr
    assert "--discard-edits" in result.stderr and "아무것도 쓰지 않았습니다." in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(docs) == before


def test_discard_edits_lets_force_replace_the_page(published):
    export, docs = published
    add_by_hand(docs)
    result = run_kb("import-notion", export, "--docs", docs, "--force", "--discard-edits")
    assert result.returncode == 0, result.stderr
    meeting = (docs / MEETING).read_text(encoding="utf-8")
    assert "DenseNet" in meeting and "사이트에서 덧붙임" not in meeting


def test_force_without_hand_edits_updates_the_page(published):
    export, docs = published
    result = run_kb("import-notion", export, "--docs", docs, "--force")
    assert result.returncode == 0, result.stderr
    meeting = (docs / MEETING).read_text(encoding="utf-8")
    assert "DenseNet" in meeting and "ResNet 논문" not in meeting
