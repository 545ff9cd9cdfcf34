"""What `python -m kb import-notion` prints for an ordinary page: short enough to read (issue #23).

Run through kb.cli.main in a docs/ of tmp_path with the real glossary, from tmp_path as the working
directory (`--docs docs`), so the lengths measured are those a member sees.
"""

from __future__ import annotations

import re
import shutil
import zipfile

import pytest

from conftest import DOCS, ROOT
from notion_cli import kb_main, snapshot

FIXTURES = ROOT / "tests/fixtures/notion"
KO_PAGE = FIXTURES / "ko-page/7 16 스터디 회의록 3f1c2a9be07d4c5f8a61b2d3e4f5a6b7.md"
EN_PAGE = FIXTURES / "en-page/Weekly sync 3 10 9a8b7c6d5e4f40312a1b2c3d4e5f6a7b.md"
SEED = ROOT / "tests/fixtures/2021-08-10-meeting-notion-export.md"
HEX_ID = re.compile(r"[0-9a-f]{32}")
# Notion's zip: Export-<uuid>.zip / <uuid>_Export-<uuid> / Title <id>.md (+ its folder)
UUID = "6e5d4c3b-2a19-4807-b6c5-d4e3f2a1b0c9"
WRAPPER = f"b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e_Export-{UUID}"


@pytest.fixture
def docs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "docs").mkdir()
    shutil.copy(DOCS / "glossary.md", tmp_path / "docs/glossary.md")
    return tmp_path / "docs"


def output(result) -> list[str]:
    return (result.stdout + result.stderr).splitlines()


def notion_zip(tmp_path):
    """The ko-page fixture as Notion zips it: ~200-character member paths."""
    path = tmp_path / f"Export-{UUID}.zip"
    page_dir = KO_PAGE.with_suffix("")
    with zipfile.ZipFile(path, "w") as z:
        z.write(KO_PAGE, f"{WRAPPER}/{KO_PAGE.name}")
        for f in page_dir.iterdir():
            z.write(f, f"{WRAPPER}/{page_dir.name}/{f.name}")
    return path


@pytest.mark.parametrize("page", [KO_PAGE, EN_PAGE, SEED], ids=["ko-page", "en-page", "seed"])
def test_import_of_an_ordinary_page_prints_at_most_20_lines(docs, page):
    result = kb_main("import-notion", page, "--docs", "docs", "--missing-assets", "placeholder")
    assert result.returncode == 0, result.stderr
    assert len(output(result)) <= 20, "\n".join(output(result))


def test_zip_export_is_shown_by_the_path_inside_it_without_ids(docs, tmp_path):
    result = kb_main("import-notion", notion_zip(tmp_path), "--docs", "docs")
    assert result.returncode == 0, result.stderr
    lines = output(result)
    assert ".zip:" not in result.stderr and WRAPPER not in result.stderr
    paths = [tok for line in lines for tok in re.findall(r"(?:\S+ ){0,6}\S+\.(?:md|zip)\b", line)]
    assert paths and all(len(p) <= 100 for p in paths), paths
    assert not [line for line in lines if HEX_ID.search(line)], "\n".join(lines)
    assert result.stderr.splitlines()[0].startswith("[1/1] 7 16 스터디 회의록.md -> docs/meetings/2021-07-16.md")
    assert "경고: 7 16 스터디 회의록.md:14: 태그처럼 보이는" in result.stderr  # file:line: kept


def test_database_folder_pages_are_labelled_by_folder_and_title(docs):
    result = kb_main("import-notion", FIXTURES / "database", "--docs", "docs")
    assert result.returncode == 0, result.stderr
    assert "[1/3] 회의록/10 5 회의록.md -> docs/meetings/2021-10-05.md" in result.stderr
    assert "경고: 회의록/10 19 회의록.md:1: 작성자가 없습니다" in result.stderr
    assert not HEX_ID.search(result.stdout + result.stderr)


def test_english_page_suggests_field_terms_not_common_words_in_one_line(docs, tmp_path):
    page = tmp_path / EN_PAGE.name
    text = EN_PAGE.read_text(encoding="utf-8")
    page.write_text(text + "\nWe were going to try GroupNorm, but the run got slower and the team went home.\n", encoding="utf-8")
    line_no = len(text.split("\n")) + 1
    result = kb_main("import-notion", page, "--docs", "docs")
    assert result.returncode == 0, result.stderr
    glossary = [line for line in result.stderr.splitlines() if "용어집" in line]
    assert len(glossary) == 1, glossary
    assert f"GroupNorm({line_no}행)" in glossary[0]
    terms = set(re.findall(r"([\w-]+)\(\d+행\)", glossary[0]))
    assert not terms & {"going", "got", "the", "went", "home", "slower", "run", "team", "Notes", "See"}, terms


def test_second_identical_import_exits_0_and_says_up_to_date(docs):
    assert kb_main("import-notion", SEED, "--docs", "docs").returncode == 0
    before = snapshot(docs)
    result = kb_main("import-notion", SEED, "--docs", "docs")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == ["이미 최신입니다: docs/meetings/2021-08-10.md"]
    assert snapshot(docs) == before


def test_second_import_of_a_changed_export_is_refused_and_suggests_force(docs, tmp_path):
    assert kb_main("import-notion", SEED, "--docs", "docs").returncode == 0
    changed = tmp_path / SEED.name
    changed.write_text(SEED.read_text(encoding="utf-8") + "\n추가된 문단입니다.\n", encoding="utf-8")
    before = snapshot(docs)
    result = kb_main("import-notion", changed, "--docs", "docs")
    assert result.returncode == 1
    assert "이미 최신" not in result.stderr and "--force" in result.stderr
    assert f"  {SEED.name} -> docs/meetings/2021-08-10.md" in result.stderr
    assert snapshot(docs) == before
