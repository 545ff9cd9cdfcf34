"""A page's files are found where its links point, and a file that is truly absent is reported
(issue 23, item 3).

Notion links a file relative to the page (``Title%20<id>/a.png``), percent-encoded once or twice,
with Korean names in NFC or NFD; a sub-page links files of its parent's or another page's folder
with ``../``. Each such file must be copied (kb/notion/assets.py ``Links._find``). A file that is not
in the export stops the import listing every missing file with its line, or, with
``--missing-assets=placeholder``, is replaced by a visible note "원본에 없던 파일: <name>".

The exports are made here, in the shape Notion writes them.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from urllib.parse import quote, unquote

from bs4 import BeautifulSoup
from markdown import markdown

from notion_cli import kb_main as run_kb, snapshot

ID = "0123456789abcdef0123456789abcdef"
PAGE = f"7 16 회의록 {ID}"
HEAD = "# 7/16 회의록\n\n작성일시: 2021년 7월 16일 오후 3:52\n작성자: 김민지\n회의 유형: 정기 회의\n\n"


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def html_of(page: Path) -> BeautifulSoup:
    body = page.read_text(encoding="utf-8").split("\n---\n", 1)[1]
    return BeautifulSoup(markdown(body, extensions=["attr_list"]), "html.parser")


def test_files_are_found_wherever_a_relative_link_points(tmp_path):
    """One sub-page (in its parent's folder) links, in every form Notion writes: its own folder
    (encoded once), its parent's folder via ``../`` (plain), another page's folder via ``../..``
    (NFD, encoded twice), and its own folder by an NFD name left unencoded. Each image on the page
    shows the bytes of the file it links."""
    root = tmp_path / "export"
    parent = root / f"모임 {'a' * 32}"
    files = {
        parent / PAGE / "손실 곡선.png": b"\x89PNG own",
        parent / "부모 그림.png": b"\x89PNG parent",
        root / f"다른 페이지 {'b' * 32}" / "다른 그림.png": b"\x89PNG other",
        parent / PAGE / "정확도.png": b"\x89PNG nfd-plain",
    }
    for path, data in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    links = [
        quote(f"{PAGE}/손실 곡선.png"),
        "../" + quote(f"{parent.name}/부모 그림.png"),
        "../" + quote(quote(nfd(f"다른 페이지 {'b' * 32}/다른 그림.png"))),
        f"<{nfd(PAGE + '/정확도.png')}>",
    ]
    (parent / f"{PAGE}.md").write_text(HEAD + "\n\n".join(f"![그림{k}]({u})" for k, u in enumerate(links)) + "\n", encoding="utf-8")
    docs = tmp_path / "docs"
    (docs / "meetings").mkdir(parents=True)

    result = run_kb("import-notion", root, "--docs", docs)

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    page = docs / "meetings/2021-07-16.md"
    shown = {img["alt"]: (page.parent / unquote(img["src"])).read_bytes() for img in html_of(page).find_all("img")}
    assert shown == {f"그림{k}": data for k, data in enumerate(files.values())}


def at(line: int) -> str:
    """A message's place: the page (its full path, or its name without Notion's id) and the line."""
    return rf"7 16 회의록(?: {ID})?\.md:{line}: "


def missing_page(tmp_path: Path) -> tuple[Path, list[tuple[int, str]]]:
    """A page with one file present and three absent (two images, one attachment), and the
    (line, name) of each absent one: the head is 5 lines, then one link per paragraph."""
    folder = tmp_path / "export" / PAGE
    folder.mkdir(parents=True)
    (folder / "있는 그림.png").write_bytes(b"\x89PNG here")
    body = [
        f"![있는 그림]({quote(PAGE + '/있는 그림.png')})",
        f"![Untitled]({quote(PAGE + '/Untitled.png')})",
        "설명 문단",
        f"자료: [발표 자료]({quote(quote(nfd(PAGE + '/발표 자료.pdf')))})",
        f"![곡선]({quote(PAGE + '/곡선 1.png')})",
    ]
    src = folder.with_suffix(".md")
    src.write_text(HEAD + "\n\n".join(body) + "\n", encoding="utf-8")
    first = HEAD.count("\n") + 1
    return src, [(first + 2 * k, name) for k, name in ((1, "Untitled.png"), (3, "발표 자료.pdf"), (4, "곡선 1.png"))]


def test_every_missing_file_is_listed_with_its_line_and_nothing_is_written(tmp_path):
    src, missing = missing_page(tmp_path)
    docs = tmp_path / "docs"
    (docs / "meetings").mkdir(parents=True)
    before = snapshot(docs)

    result = run_kb("import-notion", src, "--docs", docs)

    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "파일 3개가 내보내기에 없습니다" in result.stderr
    for line, name in missing:
        row = next((r for r in result.stderr.splitlines() if re.search(at(line), r)), None)
        assert row is not None and name in unicodedata.normalize("NFC", row), (line, name, result.stderr)
    assert "--missing-assets=placeholder" in result.stderr
    assert "안내로 바꿈" not in result.stderr  # nothing was replaced: the import stopped
    assert snapshot(docs) == before


def test_placeholder_imports_the_page_with_a_visible_note_for_each_missing_file(tmp_path):
    src, missing = missing_page(tmp_path)
    docs = tmp_path / "docs"
    (docs / "meetings").mkdir(parents=True)

    result = run_kb("import-notion", src, "--docs", docs, "--missing-assets=placeholder")

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "없는 파일 3개는 안내로 바꿈" in result.stderr
    for line, name in missing:
        assert any(r.startswith("경고: ") and re.search(at(line), r) and name in r for r in result.stderr.splitlines()), (line, result.stderr)
    page = docs / "meetings/2021-07-16.md"
    html = html_of(page)
    notes = [em.get_text() for em in html.find_all("em")]
    assert notes == [f"(원본에 없던 파일: {name})" for _, name in missing]
    assert "발표 자료" in html.get_text()  # the link's own text stays
    assert [img["alt"] for img in html.find_all("img")] == ["있는 그림"]
    assert (page.parent / unquote(html.find("img")["src"])).read_bytes() == b"\x89PNG here"
    assert sorted(p.name for p in (docs / "attachments/2021-07-16").iterdir()) == ["있는-그림.png"]
