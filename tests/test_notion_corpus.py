"""The generated corpus (tests/notion_corpus.py) through the real command line and one strict build.

Every case is its own export folder, imported with ``python -m kb import-notion`` (in process) into
one copy of the project; then one ``mkdocs build --strict`` (KB_EXECUTE=0). The copy also holds the
fixture tests' imports and ``kb new``'s pages (tests/added_pages.py: one copy and one build for all,
once per run). For each case the built meeting page must show every word the generator says a
Notion reader sees, in order, every image it shows (the same bytes) and every file it links, and no
prose of the page inside a code block. The expected side comes from the generator.

Also here: which ``.zip`` in an export is one of Notion's part archives (``…Part-N.zip``) and which
is an attachment that stays a file.
"""

from __future__ import annotations

import io
import unicodedata
import zipfile
from pathlib import Path
from urllib.parse import unquote

import pytest
from bs4 import BeautifulSoup

import notion_corpus as corpus
from notion_cli import kb_main

pytestmark = pytest.mark.xdist_group("test_notion_corpus")  # its module fixture once, on one worker (pytest.ini)

CASES = {c.name: c for c in corpus.CASES}


def letters(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFC", text) if ch.isalnum())


@pytest.fixture(scope="module")
def site(added_pages):
    """The copy of the project shared with the fixture and ``kb new`` tests (tests/added_pages.py ``import_corpus``)."""
    return added_pages.docs, added_pages.site, added_pages.runs["corpus"], added_pages.build, corpus.database_rows()


def article(site_dir: Path, day) -> BeautifulSoup:
    path = site_dir / f"meetings/{day.isoformat()}/index.html"
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser").select_one("article")


def shown_letters(art: BeautifulSoup) -> str:
    """Letters a reader sees in the article: an image as its alt text, a formula as its TeX."""
    art = BeautifulSoup(str(art), "html.parser")
    for img in art.find_all("img"):
        img.replace_with(img.get("alt", ""))
    for formula in art.find_all("math"):
        note = formula.find("annotation")
        formula.replace_with(note.get_text() if note else "")
    return letters(art.get_text(" "))


def missing_words(words: list[str], shown: str) -> list[str]:
    missing, pos = [], 0
    for word in words:
        found = shown.find(letters(word), pos)
        if found < 0:
            missing.append(word)
        else:
            pos = found + len(letters(word))
    return missing


def target_bytes(site_dir: Path, day, url: str) -> bytes | None:
    path = (site_dir / f"meetings/{day.isoformat()}" / unquote(url.split("#")[0])).resolve()
    return path.read_bytes() if path.is_file() else None


def check_page(site_dir: Path, day, piece: corpus.Piece, words: list[str]) -> list[str]:
    """What the built page of ``day`` lacks of ``piece`` (empty when nothing)."""
    page = site_dir / f"meetings/{day.isoformat()}/index.html"
    if not page.is_file():
        return [f"빌드된 페이지가 없습니다: {page}"]
    art = article(site_dir, day)
    problems = [f"보이지 않는 글: {w!r}" for w in missing_words(words, shown_letters(art))]
    code = "".join(letters(pre.get_text()) for pre in art.find_all("pre"))
    problems += [f"글이 코드 블록으로 보입니다: {w!r}" for w in words if w not in piece.code and len(letters(w)) >= 6 and letters(w) in code]
    shown_images = [target_bytes(site_dir, day, img.get("src", "")) for img in art.find_all("img")]
    for name in piece.images:
        if piece.files[name] not in shown_images:
            problems.append(f"보이지 않는 그림: {name}")
    linked = [target_bytes(site_dir, day, a.get("href", "")) for a in art.find_all("a")]
    for name in piece.downloads:
        if piece.files[name] not in linked:
            problems.append(f"내려받을 수 없는 파일: {name}")
    return problems


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_form_imports_and_its_page_shows_what_notion_shows(site, name):
    _, site_dir, runs, build, _ = site
    case = CASES[name]
    assert runs[name].returncode == 0, runs[name].stderr[-3000:]
    assert build.returncode == 0, build.stderr[-3000:]
    assert check_page(site_dir, corpus.day_of(case), case.body, corpus.expected_words(case)) == []


def test_database_export_rows_become_meetings_that_show_their_text(site):
    _, site_dir, runs, build, rows = site
    assert runs["database"].returncode == 0, runs["database"].stderr[-3000:]
    assert build.returncode == 0, build.stderr[-3000:]
    for day, body in rows:
        assert check_page(site_dir, day, body, body.words) == [], day


def test_the_check_fails_on_a_page_that_lost_a_word_or_an_image(site):
    """The comparison itself can fail: a word out of order, a word the page lacks, an image it lacks."""
    _, site_dir, _, build, _ = site
    assert build.returncode == 0, build.stderr[-3000:]
    case = CASES["media"]
    assert missing_words(["둘째", "첫째"], letters("첫째 그리고 둘째")) == ["첫째"]
    lost = corpus.Piece([], ["이 글은 어느 페이지에도 없습니다"], {"x.png": b"not there"}, ["x.png"], ["x.png"])
    assert len(check_page(site_dir, corpus.day_of(case), lost, lost.words)) == 3
    as_code = corpus.Piece([], ["pip install torch"])  # the code block of math-code, taken for prose
    assert check_page(site_dir, corpus.day_of(CASES["math-code"]), as_code, as_code.words) == ["글이 코드 블록으로 보입니다: 'pip install torch'"]


# --- zips inside an export ----------------------------------------------------------------


def page_zip(title: str, attachment: bytes | None = None) -> bytes:
    """One page as a zip: ``Title <id>.md`` and, if given, ``Title <id>/code.zip`` linked from it."""
    stem = f"{title} {corpus.notion_id(title)}"
    body = f"# {title}\n\n작성일시: 2019년 11월 5일 오후 5:57\n\n첨부 파일입니다.\n"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        if attachment is not None:
            body += f"\n[code.zip]({stem.replace(' ', '%20')}/code.zip)\n"
            z.writestr(f"{stem}/code.zip", attachment)
        z.writestr(f"{stem}.md", body)
    return buf.getvalue()


def attached_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("train.py", "print('학습')\n")
    return buf.getvalue()


@pytest.mark.parametrize("form", ["zip", "folder"])
def test_an_attached_zip_stays_a_file_that_the_page_links(tmp_path, form):
    attachment = attached_zip()
    export = tmp_path / "Export-0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0.zip"
    export.write_bytes(page_zip("첨부 회의", attachment))
    if form == "folder":
        with zipfile.ZipFile(export) as z:
            z.extractall(tmp_path / "unpacked")
        export = tmp_path / "unpacked"
    docs = tmp_path / "docs"
    docs.mkdir()
    result = kb_main("import-notion", export, "--docs", docs)
    assert result.returncode == 0, result.stderr[-3000:]
    copied = docs / "attachments/2019-11-05/code.zip"
    assert copied.read_bytes() == attachment
    assert "](../attachments/2019-11-05/code.zip)" in (docs / "meetings/2019-11-05.md").read_text(encoding="utf-8")
    assert not list(docs.rglob("train.py*"))


@pytest.mark.parametrize("part", ["Export-6e5d4c3b-2a19-4807-b6c5-d4e3f2a1b0c9-Part-1.zip", "Part-2.zip"])
def test_notions_part_archives_are_unpacked_in_a_zip_and_in_a_folder(tmp_path, part):
    attachment = attached_zip()
    outer = tmp_path / "Export-6e5d4c3b-2a19-4807-b6c5-d4e3f2a1b0c9.zip"
    with zipfile.ZipFile(outer, "w") as z:
        z.writestr(part, page_zip("분할 회의", attachment))
    folder = tmp_path / "unpacked"
    folder.mkdir()
    (folder / part).write_bytes(page_zip("분할 회의", attachment))
    for source in (outer, folder):
        docs = tmp_path / f"docs-{source.name}"
        docs.mkdir()
        result = kb_main("import-notion", source, "--docs", docs)
        assert result.returncode == 0, result.stderr[-3000:]
        assert (docs / "attachments/2019-11-05/code.zip").read_bytes() == attachment


def test_the_corpus_zipped_in_part_archives_imports_with_its_attached_zip(tmp_path):
    """The media pages (NFC and NFD names) as Notion's Export-….zip with Part-N.zip inside: both
    pages import, and the attached code.zip is copied as the file it is."""
    cases = [CASES["media"], CASES["media-nfd"]]
    export = corpus.write_zip([corpus.write_export(c, tmp_path / "exports") for c in cases], tmp_path)
    docs = tmp_path / "docs"
    docs.mkdir()
    result = kb_main("import-notion", export, "--docs", docs)
    assert result.returncode == 0, result.stderr[-3000:]
    for case in cases:
        day = corpus.day_of(case).isoformat()
        assert (docs / f"attachments/{day}/code.zip").read_bytes() == case.body.files["code.zip"]
        assert "](../attachments/" + day + "/code.zip)" in (docs / f"meetings/{day}.md").read_text(encoding="utf-8")
