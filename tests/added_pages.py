"""One copy of the project with every page that the tests add as a member would, with no edit of
mkdocs.yml: the Notion exports of tests/test_notion_fixtures.py and tests/test_notion_corpus.py,
imported, and the meeting and question ``kb new`` makes in tests/test_build_errors.py, filled in.
Built once with --strict (``KB_EXECUTE=0``) per test run: the ``added_pages`` fixture of
tests/conftest.py, made by :func:`make` through ``once_per_run``.

Each of the three modules made a copy of its own and built it (a build of the whole project each,
14-21 s of a worker under the suite's load). Their pages do not meet: the fixtures are dated
2021-07 to 2022-03 (the seed as 2021-08-03), ``kb new``'s meeting 2021-08-17, the corpus 2019
(tests/notion_corpus.py ``day_of``), and no test writes to the copy. Each command's exit status
and output, and the build's, are kept in ``results.json`` beside the project, so that every worker
reads what the one that made it saw.
"""

from __future__ import annotations

import json
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

import notion_corpus as corpus
from conftest import ROOT, build_site, copy_project
from kb.scaffold import ANSWERS_PLACEHOLDER, MEETING_HINT, QUESTION_PLACEHOLDER
from notion_cli import kb_main

FIX = ROOT / "tests/fixtures/notion"
KO_PAGE = next((FIX / "ko-page").glob("*.md"))
EN_PAGE = next((FIX / "en-page").glob("*.md"))
PLAIN_PAGE = next((FIX / "plain-page").glob("*.md"))
DATABASE = FIX / "database"
SEED = ROOT / "tests/fixtures/2021-08-10-meeting-notion-export.md"


def zip_folder(folder: Path, dest: Path) -> Path:
    with zipfile.ZipFile(dest, "w") as z:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                z.write(p, p.relative_to(folder).as_posix())
    return dest


def export_zip(tmp: Path) -> Path:
    """Export-<uuid>.zip holding Part-1.zip and Part-2.zip, as Notion splits a large export."""
    outer = tmp / "Export-6e5d4c3b-2a19-4807-b6c5-d4e3f2a1b0c9.zip"
    with zipfile.ZipFile(outer, "w") as z:
        for part in ("Part-1", "Part-2"):
            z.write(zip_folder(FIX / "parts" / part, tmp / f"{part}.zip"), f"{part}.zip")
    return outer


def import_fixtures(tmp: Path, docs: Path) -> dict[str, subprocess.CompletedProcess]:
    """Every fixture of tests/fixtures/notion/ and the seed page, imported into ``docs``."""
    return {
        "ko": kb_main("import-notion", KO_PAGE.parent, "--docs", docs),
        "en": kb_main("import-notion", EN_PAGE, "--docs", docs),
        "plain": kb_main("import-notion", PLAIN_PAGE, "--docs", docs, "--date", "2021-09-01"),
        "zip": kb_main("import-notion", export_zip(tmp), "--docs", docs),
        "database": kb_main("import-notion", DATABASE, "--docs", docs),
        # the seed (copy-paste form); 2021-08-10 is published already, so another Tuesday
        "seed": kb_main("import-notion", SEED, "--docs", docs, "--date", "2021-08-03"),
    }


def import_corpus(tmp: Path, docs: Path) -> dict[str, subprocess.CompletedProcess]:
    """Every case of the generated corpus, each its own export folder, then its database export."""
    runs = {c.name: kb_main("import-notion", corpus.write_export(c, tmp), "--docs", docs) for c in corpus.CASES}
    folder, _ = corpus.write_database(tmp)
    runs["database"] = kb_main("import-notion", folder, "--docs", docs)
    return runs


def new_pages(docs: Path) -> dict[str, subprocess.CompletedProcess]:
    """``kb new meeting`` and ``kb new qna``, then, as a member does before publishing, their
    placeholders replaced (they fail the strict build until then: tests/test_new_drafts.py)."""
    runs = {
        "meeting": kb_main("new", "meeting", "--date", "2021-08-17", "--author", "이하람", "--docs", docs),
        "qna": kb_main("new", "qna", "--meeting", "meetings/2021-08-17.md", "--qid", "Q1", "--slug", "new-question",
                       "--title", "새 질문", "--docs", docs),
    }
    for page in (docs / "meetings/2021-08-17.md", docs / "qna/new-question.md"):
        if page.is_file():  # else the test reports the command's failure
            lines = page.read_text(encoding="utf-8").split("\n")
            filled = [line.replace(QUESTION_PLACEHOLDER, "새 질문의 원문").replace(ANSWERS_PLACEHOLDER, "이하람: 답을 적었습니다.")
                      for line in lines if MEETING_HINT not in line]
            page.write_text("\n".join(filled), encoding="utf-8")
    return runs


def make(folder: Path) -> None:
    """Add every page to one copy of the project, build it, and record every result."""
    project = copy_project(folder / "project")
    docs = project / "docs"
    (folder / "fixtures").mkdir()
    runs = {"fixtures": import_fixtures(folder / "fixtures", docs), "corpus": import_corpus(folder / "exports", docs),
            "kb new": new_pages(docs)}
    build = build_site(project, folder / "site")
    results = {"runs": {group: {name: _saved(run) for name, run in group_runs.items()} for group, group_runs in runs.items()},
               "build": _saved(build)}
    (folder / "results.json").write_text(json.dumps(results, ensure_ascii=False), encoding="utf-8")
    return None  # failures are the tests' to report: each asserts on the runs and the build it reads


def _saved(run: subprocess.CompletedProcess) -> list:
    return [run.returncode, run.stdout, run.stderr]


@dataclass
class AddedPages:
    docs: Path
    site: Path
    runs: dict[str, dict[str, subprocess.CompletedProcess]]  # "fixtures", "corpus" or "kb new" -> name -> run
    build: subprocess.CompletedProcess


def load(folder: Path) -> AddedPages:
    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    runs = {group: {name: subprocess.CompletedProcess(["python", "-m", "kb", group, name], *saved)
                    for name, saved in group_runs.items()} for group, group_runs in results["runs"].items()}
    build = subprocess.CompletedProcess(["mkdocs", "build", "--strict"], *results["build"])
    return AddedPages(folder / "project/docs", folder / "site", runs, build)
