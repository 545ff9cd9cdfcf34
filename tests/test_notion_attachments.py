"""Files attached to notes are data, never code (issue 22, items 1, 2 and 8).

The importer copies a page's files to docs/attachments/<date>/ (kb/notion/assets.py), under names
that are safe on every file system and that nothing reads as a page, a notebook or a script;
the strict build copies them as they are and the page links to them as downloads
(kb/plugin.py ``on_files``, mkdocs.yml's mkdocs-jupyter ``include``).

The export is made here, in the shape Notion writes it (``Title <id>.md`` with a sibling folder).
"""

from __future__ import annotations

import json
import shutil
import unicodedata
from pathlib import Path, PurePosixPath
from urllib.parse import quote, unquote

import pytest
from bs4 import BeautifulSoup
from markdown import markdown

from conftest import ROOT, build_site
from notion_cli import kb_main as run_kb

pytestmark = pytest.mark.xdist_group("test_notion_attachments")  # its module fixture once, on one worker (pytest.ini)

PAGE = "7 16 회의록 0123456789abcdef0123456789abcdef"
HEAD = "# 7/16 회의록\n\n작성일시: 2021년 7월 16일 오후 3:52\n작성자: 김민지\n회의 유형: 정기 회의\n\n"
LONG = "가" * 80  # 240 bytes of UTF-8: a legal name on Linux, too long once a suffix is added
WINDOWS_DEVICES = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}


def notebook(marker: Path) -> bytes:
    """A notebook whose only cell leaves ``marker`` behind if anything runs it."""
    cell = {"cell_type": "code", "execution_count": None, "id": "c1", "metadata": {}, "outputs": [],
            "source": [f"open({str(marker)!r}, 'w').write('ran')"]}
    nb = {"cells": [cell], "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
          "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(nb).encode()


def export(tmp_path: Path, files: dict[str, bytes], body: str) -> Path:
    """A page whose folder holds ``files``; ``<name>`` in ``body`` is that file's link target."""
    page = tmp_path / "export" / f"{PAGE}.md"
    folder = page.with_suffix("")
    folder.mkdir(parents=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    for name in files:
        body = body.replace(f"<{name}>", quote(f"{PAGE}/{name}"))
    page.write_text(HEAD + body + "\n", encoding="utf-8")
    return page


HOSTILE_NAMES = {
    "..!": b"dots",
    ".hidden": b"hidden",
    "index.html": b"<script>alert(1)</script>",
    "con.txt": b"con",
    "NUL": b"nul",
    "trailing.": b"trailing dot",
    "Foo.PNG": b"\x89PNG upper",
    "foo.png": b"\x89PNG lower",
    unicodedata.normalize("NFD", "발표.pdf"): b"%PDF nfd",
    "발표.PDF": b"%PDF nfc upper",
    f"{LONG}.pdf": b"%PDF long",
}


def test_attachment_names_are_a_safe_set_unique_ignoring_case(tmp_path):
    """Names a file system could refuse, merge or mistake (``..!``, ``con``, ``Foo.PNG`` beside
    ``foo.png``, NFD beside NFC, a name too long for a suffix) each become one file of their own in
    the meeting's attachments folder, and nothing lands where a page or its output goes."""
    body = "\n\n".join(f"[{n}](<{n}>)" for n in HOSTILE_NAMES)
    docs = tmp_path / "docs"
    (docs / "meetings").mkdir(parents=True)
    result = run_kb("import-notion", export(tmp_path, HOSTILE_NAMES, body), "--docs", docs)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    written = sorted(p.relative_to(docs).as_posix() for p in docs.rglob("*") if p.is_file())
    folder = docs / "attachments/2021-07-16"
    assert written == sorted(["meetings/2021-07-16.md", *(f"attachments/2021-07-16/{p.name}" for p in folder.iterdir())])
    names = [p.name for p in folder.iterdir()]
    assert sorted(p.read_bytes() for p in folder.iterdir()) == sorted(HOSTILE_NAMES.values())  # one file each
    folded = [unicodedata.normalize("NFC", n).casefold() for n in names]
    assert len(set(folded)) == len(names), names
    for name in names:
        stem = name.split(".", 1)[0]
        assert name == unicodedata.normalize("NFC", name), name
        assert not name.startswith(".") and not name.endswith((".", " ")), name
        assert stem and stem.lower() not in WINDOWS_DEVICES, name
        assert len(name.encode()) <= 140, name
        assert not name.lower().endswith((".html", ".htm", ".svg")), name
    assert not (docs / "meetings/2021-07-16").exists()  # where the meeting page's output folder goes


def test_every_attachment_link_downloads_the_copied_file(tmp_path):
    """A file that is not an image shown on the page is linked with ``download`` set to its own
    name, and the link leads to the bytes of the export; an SVG "image" becomes such a link."""
    files = {"run.py": b"print('hi')\n", "pic.svg": b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
             "slides.pdf": b"%PDF-1.4\n", "loss.png": b"\x89PNG\r\n"}
    body = "코드 [run](<run.py>) 자료 [slides](<slides.pdf>)\n\n![그림](<pic.svg>)\n\n![곡선](<loss.png>)"
    docs = tmp_path / "docs"
    (docs / "meetings").mkdir(parents=True)
    result = run_kb("import-notion", export(tmp_path, files, body), "--docs", docs)
    assert result.returncode == 0, result.stderr
    assert ":9: 그림 'pic.svg'은(는) 페이지에 보이지 않고 내려받기 링크가 됩니다" in result.stderr
    text = (docs / "meetings/2021-07-16.md").read_text(encoding="utf-8")

    html = BeautifulSoup(markdown(text.split("\n---\n", 1)[1], extensions=["attr_list"]), "html.parser")
    downloads = {a["download"]: a["href"] for a in html.find_all("a") if a.has_attr("download")}
    assert sorted(downloads) == ["pic.svg", "run.py", "slides.pdf"]
    for name, href in downloads.items():
        assert (docs / "meetings" / unquote(href)).read_bytes() == files[name], (name, href)
    assert [img["src"] for img in html.find_all("img")] == ["../attachments/2021-07-16/loss.png"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A copy of the project with a hostile export imported, built with --strict."""
    tmp = tmp_path_factory.mktemp("attachments")
    project = tmp / "project"
    for name in ("kb", "overrides", "snippets", "docs"):
        shutil.copytree(ROOT / name, project / name, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    shutil.copy(ROOT / "mkdocs.yml", project / "mkdocs.yml")
    if (ROOT / ".cache/mkdocs-jupyter").is_dir():  # the site's own notebooks are not what this tests
        shutil.copytree(ROOT / ".cache/mkdocs-jupyter", project / ".cache/mkdocs-jupyter")
    marker = tmp / "RAN"
    files = {
        "evil.ipynb": notebook(marker),
        "notes.markdown": "---\ntitle: x\n---\n# 페이지가 되면 안 됩니다\n".encode(),
        "run.py": f"open({str(marker)!r}, 'w').write('ran')\n".encode(),
        "index.html": b"<script>alert(1)</script>",
        "pic.svg": b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
    }
    body = "\n\n".join(f"[{n}](<{n}>)" for n in files)
    result = run_kb("import-notion", export(tmp, files, body), "--docs", project / "docs")
    assert result.returncode == 0, result.stderr
    build = build_site(project, tmp / "site")
    return project, tmp / "site", files, marker, build


def test_imported_code_and_html_are_neither_run_nor_rendered_by_the_build(built):
    project, site, files, marker, build = built
    assert build.returncode == 0, build.stderr[-3000:]
    assert not marker.exists(), "a file copied from notes ran during the build"
    out = site / "attachments/2021-07-16"
    copied = {p.name: p.read_bytes() for p in out.iterdir()}
    assert all(p.is_file() for p in out.iterdir())  # no page folder (x/index.html) made of one
    assert sorted(copied.values()) == sorted(files.values())
    assert all(name.endswith(".txt") for name in copied), sorted(copied)  # served as plain text
    meeting = BeautifulSoup((site / "meetings/2021-07-16/index.html").read_text(encoding="utf-8"), "html.parser")
    assert meeting.select_one("article h1").get_text(strip=True).startswith("7/16 회의록")
    links = {a["download"]: a["href"] for a in meeting.select("article a[download]")}
    assert sorted(links) == sorted(files)
    for name, href in links.items():
        target = (site / "meetings/2021-07-16" / unquote(href)).resolve()
        assert target.parent == out.resolve() and target.read_bytes() == files[name], (name, href)
    search = json.loads((site / "search/search_index.json").read_text(encoding="utf-8"))
    assert not [d["location"] for d in search["docs"] if d["location"].startswith("attachments/")]


def test_the_build_copies_every_file_of_the_attachments_folder_as_it_is(built):
    """mkdocs-jupyter reads only docs/notebooks/; and even an .ipynb or .md put in docs/attachments/
    by hand, with mkdocs-jupyter told to take every notebook, stays a plain file: the hook's
    on_files runs after the plugins' and unwraps it."""
    from mkdocs.config import load_config
    from mkdocs.structure.files import get_files

    project = built[0]
    extra = project / "docs/attachments/2021-07-16"
    (extra / "hand.ipynb").write_bytes(notebook(project / "RAN"))
    (extra / "hand.md").write_text("# hand\n", encoding="utf-8")
    config = load_config(str(project / "mkdocs.yml"))
    # MkDocs keeps one instance of a plugin with on_startup per process (for `mkdocs serve`): its
    # on_config gives it this project, else it keeps the project this worker last built in process
    config = config.plugins["kb"].on_config(config)
    files = get_files(config)
    as_configured = config.plugins["mkdocs-jupyter"].on_files(files, config=config)  # mkdocs.yml: notebooks/ only
    assert not as_configured.get_file_from_path("attachments/2021-07-16/hand.ipynb").is_documentation_page()
    assert as_configured.get_file_from_path("notebooks/attention.ipynb").is_documentation_page()
    config.plugins["mkdocs-jupyter"].config["include"] = ["*.ipynb"]
    for name in ("hand.ipynb", "hand.md"):
        assert files.get_file_from_path(f"attachments/2021-07-16/{name}").is_documentation_page() == (name == "hand.md")
    jupyter = config.plugins["mkdocs-jupyter"].on_files(files, config=config)
    assert jupyter.get_file_from_path("attachments/2021-07-16/hand.ipynb").is_documentation_page()  # what it would run
    (extra / "hand.md").unlink()  # kb check reads every .md of docs/ as a page; its File stays in `files`
    final = config.plugins.on_files(files, config=config)  # every plugin and hook, in MkDocs's order
    for name in ("hand.ipynb", "hand.md", "evil.ipynb.txt"):
        f = final.get_file_from_path(f"attachments/2021-07-16/{name}")
        assert not f.is_documentation_page() and not f.is_static_page(), name
        assert f.dest_uri == f"attachments/2021-07-16/{name}", name
    assert PurePosixPath("notebooks/attention.ipynb") in {PurePosixPath(f.src_uri) for f in final.documentation_pages()}
