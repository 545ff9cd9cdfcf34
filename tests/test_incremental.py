"""`mkdocs serve` rebuilds only what an edit changes (kb/incremental.py; with ``--dirty``, as ``make
serve`` runs it, kb/partial.py), and its site is the site a full build of the same sources makes.

One small project (a meeting, three questions, the lists that name them, a formula, a snippet one
question includes) is built in this process as `mkdocs serve` builds it (the plugins told ``serve``
at startup, the kb plugin instance kept across builds); then, in turn: nothing, a body, a formula,
problems written and fixed, a page title, a question's status, the snippet file, several files and
the config at once, and a deleted page. After each, the serve build's HTML files and search entries
must equal those of a full build of the same sources (the serve caches off, into another folder),
the pages that show the change must differ from before and the others must not. Each test also
passes alone (``-k``): its edit does not need an earlier one. Every test runs twice: as `mkdocs
serve` builds (every page built, unchanged results looked up) and as `mkdocs serve --dirty` does
(only the changed pages read and written, the others kept in the site folder), both ``--strict``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

pytestmark = pytest.mark.xdist_group("incremental")

MEETING = """---
title: 1/3(월) 회의록
description: 질문 세 가지.
date: 2022-01-03
created: 2022-01-01T10:00:00+09:00
author: 이하람
attendees: []
updated: 2022-01-04T10:00:00+09:00
meeting_type: 일일 회의
tags: [회의록]
---

# 1/3(월) 회의록

세 가지 질문이 나왔습니다.
"""


def _question(n: int, title: str, status: str, body: str) -> str:
    return (f"---\ntitle: \"{title}\"\ndescription: 질문 {n}의 요약입니다.\nqid: Q{n}\nstatus: {status}\n"
            f"tags: [옵티마이저]\nmeeting: meetings/m1.md\nrelated: []\n---\n\n# {title}\n\n{body}\n")


SNIPPET = '''"""Demo snippet for the incremental build test."""
# --8<-- [start:step]
step = 0.1  # the step size
# --8<-- [end:step]
'''

HOME = """---
title: 홈
---

# 홈

## 새 질문

<!-- kb:newest-qna -->

## 답을 기다리는 질문

<!-- kb:open-qna -->
"""


NOTEBOOK = json.dumps({
    "cells": [
        {"cell_type": "markdown", "id": "c1", "metadata": {}, "source": ["# 노트북\n", "\n", "작은 노트북입니다."]},
        {"cell_type": "code", "execution_count": None, "id": "c2", "metadata": {}, "outputs": [], "source": ["x = 1 + 1"]},
    ],
    "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
                 "language_info": {"name": "python"}},
    "nbformat": 4, "nbformat_minor": 5,
}, ensure_ascii=False)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _project(dest: Path) -> Path:
    """A small copy of the site: the real config, theme overrides and index pages, five pages of its own."""
    for name in ("overrides",):
        shutil.copytree(ROOT / name, dest / name)
    for name in ("stylesheets", "javascripts", "assets/fonts/stix-two-math"):
        shutil.copytree(ROOT / "docs" / name, dest / "docs" / name)
    for name in ("meetings/index.md", "qna/index.md", "tags.md"):
        _write(dest / "docs" / name, (ROOT / "docs" / name).read_text(encoding="utf-8"))
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8").replace("!ENV", ""))
    config["nav"] = [{"홈": "index.md"}, {"회의록": ["meetings/index.md"]}, {"Q&A": ["qna/index.md"]}, {"태그": "tags.md"},
                     {"노트북": "notebooks/nb.ipynb"}]
    config["plugins"] = [p for p in config["plugins"]
                         if p in ("search", "tags", "kb") or "search" in p or "mkdocs-jupyter" in p]
    config.pop("watch", None)
    _write(dest / "mkdocs.yml", yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    _write(dest / "docs/index.md", HOME)
    _write(dest / "docs/meetings/m1.md", MEETING)
    _write(dest / "docs/qna/q1.md", _question(1, "Q1. 학습률은 왜 줄이나요?", "answered",
                                              "학습률 이야기입니다.\n\n보폭은 $a+b$입니다."))
    _write(dest / "docs/qna/q2.md", _question(2, "Q2. 스텝 크기는 어디에 쓰나요?", "open",
                                              '```python\n--8<-- "snippets/demo.py:step"\n```'))
    _write(dest / "docs/qna/q3.md", _question(3, "Q3. 모멘텀은 무엇인가요?", "open", "모멘텀 이야기입니다."))
    _write(dest / "snippets/demo.py", SNIPPET)
    _write(dest / "docs/notebooks/nb.ipynb", NOTEBOOK)  # rendered, not run (KB_EXECUTE=0), from mkdocs-jupyter's cache
    return dest


def _outputs(site: Path) -> dict[str, str]:
    """Every HTML file of a built site, and the search index's entries (one key each)."""
    out = {p.relative_to(site).as_posix(): p.read_text(encoding="utf-8") for p in site.rglob("*.html")}
    index = json.loads((site / "search/search_index.json").read_text(encoding="utf-8"))
    for entry in index["docs"]:
        out["search:" + entry["location"]] = json.dumps(entry, ensure_ascii=False, sort_keys=True)
    return out


_FULL_BUILDS: dict[str, dict[str, str]] = {}  # the sources' digest -> a full build's outputs


class Serve:
    """Builds of one project in this process, as `mkdocs serve` makes them, and full builds beside."""

    def __init__(self, project: Path, dirty: bool):
        from mkdocs.config import load_config

        self.project, self.load_config, self.dirty = project, load_config, dirty
        config = self._config(project / "serve-site")
        config.plugins.on_startup(command="serve", dirty=dirty)
        self.plugin = config.plugins["kb"]
        assert self.plugin.incremental is not None, "on_startup(command='serve') did not turn the serve builds on"
        assert (self.plugin.partial is not None) == dirty

    def _config(self, site: Path):
        return self.load_config(str(self.project / "mkdocs.yml"), site_dir=str(site), strict=True)

    def build(self) -> dict[str, str]:
        from mkdocs.commands.build import build

        build(self._config(self.project / "serve-site"), dirty=self.dirty)
        return _outputs(self.project / "serve-site")

    def first_build(self) -> dict[str, str]:
        """The session's first build, its config read as `mkdocs serve -f mkdocs.yml` reads it (an
        open file: MkDocs then names the theme's folders relative to the working folder, and
        absolute on every later load)."""
        from mkdocs.commands.build import build

        with open("mkdocs.yml", "rb") as config_file:  # the fixture works in the project folder
            config = self.load_config(config_file, site_dir=str(self.project / "serve-site"), strict=True)
        build(config, dirty=self.dirty)
        return _outputs(self.project / "serve-site")

    def read(self) -> set[str] | None:
        """The pages the last ``--dirty`` build read and wrote (None: every page)."""
        return self.plugin.partial.reading if self.dirty else None

    def full_build(self) -> dict[str, str]:
        """A clean build of the same sources with the serve caches off (as `mkdocs build` makes it);
        made once for both serve modes, which edit their copies alike (kept by the sources' bytes)."""
        from mkdocs.commands.build import build

        sources = sorted((p.relative_to(self.project).as_posix(), p.read_bytes())
                         for folder in ("docs", "snippets") for p in (self.project / folder).rglob("*") if p.is_file())
        key = hashlib.sha256(repr([sources, (self.project / "mkdocs.yml").read_bytes()]).encode()).hexdigest()
        if key in _FULL_BUILDS:
            return _FULL_BUILDS[key]
        kept = self.plugin.incremental, self.plugin.partial
        self.plugin.incremental = self.plugin.partial = None
        try:
            shutil.rmtree(self.project / "full-site", ignore_errors=True)
            build(self._config(self.project / "full-site"))
        finally:
            self.plugin.incremental, self.plugin.partial = kept
        _FULL_BUILDS[key] = _outputs(self.project / "full-site")
        return _FULL_BUILDS[key]

    def close(self) -> None:
        self.plugin.on_shutdown()
        self.plugin.on_startup(command="build", dirty=False)  # other tests of this worker build fully


@pytest.fixture(scope="module", params=["serve", "serve --dirty"])
def serve(tmp_path_factory, request):
    project = _project(tmp_path_factory.mktemp("incremental") / "project")
    saved = dict(os.environ), os.getcwd()
    os.environ.update(NO_MKDOCS_2_WARNING="1", KB_EXECUTE="0")
    os.chdir(project)
    mkdocs_log = logging.getLogger("mkdocs")
    level = mkdocs_log.level
    mkdocs_log.setLevel(logging.ERROR)
    session = Serve(project, dirty=request.param.endswith("--dirty"))
    try:
        session.before = session.first_build()
        yield session
    finally:
        session.close()
        mkdocs_log.setLevel(level)  # later tests of this worker see the build's warnings again
        os.chdir(saved[1])
        os.environ.clear()
        os.environ.update(saved[0])


def _edit(serve: Serve, src: str, old: str, new: str) -> None:
    path = serve.project / src
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{src}: {old!r} not found"
    path.write_text(text.replace(old, new), encoding="utf-8")


def _rebuild_and_compare(serve: Serve) -> set[str]:
    """Rebuild as serve does; the output must equal a full build's; returns what changed from before."""
    after = serve.build()
    full = serve.full_build()
    differ = sorted(k for k in set(after) | set(full) if after.get(k) != full.get(k))
    assert not differ, f"the serve build differs from a full build of the same sources in: {differ}"
    changed = {k for k in set(after) | set(serve.before) if after.get(k) != serve.before.get(k)}
    serve.before = after
    return changed


def _pages(changed: set[str]) -> set[str]:
    return {k for k in changed if k.endswith(".html")}


def test_an_unchanged_site_is_rebuilt_from_the_caches(serve, caplog):
    with caplog.at_level(logging.INFO, logger="mkdocs"):  # --strict sees every warning (the fixture quiets them)
        assert _rebuild_and_compare(serve) == set()
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    counts = serve.plugin.incremental.misses
    assert counts["render"] == 0 and counts["template"] == 0 and counts["search"] == 0 and counts["check"] == 0, counts
    assert serve.read() in (None, set())


def _notebook_cache(serve: Serve) -> list[str]:
    return sorted(p.relative_to(serve.project).as_posix() for p in (serve.project / ".cache/mkdocs-jupyter").rglob("*.json"))


def test_a_body_edit_remakes_only_that_page(serve):
    cached = _notebook_cache(serve)
    _edit(serve, "docs/qna/q1.md", "학습률 이야기입니다.", "학습률을 줄이는 이야기입니다.")
    serve.build()
    assert serve.plugin.incremental.misses["template"] == 1
    assert serve.read() in (None, {"qna/q1.md"})  # --dirty: the one page read and written
    # the notebook's page, not read by --dirty, keeps its cache entry (mkdocs-jupyter evicts what a build did not use)
    assert cached and _notebook_cache(serve) == cached
    changed = _rebuild_and_compare(serve)  # (nothing changed since: the site as the edit left it)
    assert _pages(changed) == {"qna/q1/index.html"}


def test_problems_written_in_an_edit_stop_the_serve_build_as_kb_check_says(serve, caplog):
    """kb check keeps what it found on unchanged pages; the edited page is read and checked again,
    so its problems are kb check's (file and line), as in a full build; fixed, the site is as before."""
    from mkdocs.exceptions import Abort

    added = "[스텝](q2.md#no-such-heading)\n\n<!-- kb:no-such-list -->\n\n"
    _edit(serve, "docs/qna/q1.md", "보폭은", added + "보폭은")
    with caplog.at_level(logging.ERROR, logger="mkdocs"), pytest.raises(Abort):
        serve.build()
    report = next((r.getMessage() for r in caplog.records if "as `python -m kb check` lists them" in r.getMessage()), "")
    assert "docs/qna/q1.md:" in report and "#no-such-heading" in report, [r.getMessage() for r in caplog.records]
    assert "kb:no-such-list" in report, report
    _edit(serve, "docs/qna/q1.md", added, "")
    assert _rebuild_and_compare(serve) == set()


def _showing(outputs: dict[str, str], text: str) -> set[str]:
    return {k for k, html in outputs.items() if k.endswith(".html") and text in html}


def test_a_formula_edit_remakes_only_that_page(serve):
    _edit(serve, "docs/qna/q1.md", "$a+b$", "$b+a$")  # the same characters: the math font stays
    changed = _rebuild_and_compare(serve)
    assert _pages(changed) == {"qna/q1/index.html"}


def test_a_title_edit_changes_every_page_that_shows_the_title_and_no_other(serve):
    old, new = "Q1. 학습률은 왜 줄이나요?", "Q1. 학습률은 언제 줄이나요?"
    before = serve.before
    _edit(serve, "docs/qna/q1.md", old, new)
    changed = _pages(_rebuild_and_compare(serve))
    # its page, the lists (home, Q&A index, tags), the meeting's box, the navigation that draws it
    assert {"qna/q1/index.html", "index.html", "qna/index.html", "tags/index.html"} <= changed
    assert changed == _showing(before, old) == _showing(serve.before, new)
    assert serve.read() is None  # --dirty: a front matter edit makes the build whole


def test_a_status_edit_changes_the_lists_and_the_page_and_no_other(serve):
    title = "Q3. 모멘텀은 무엇인가요?"
    _edit(serve, "docs/qna/q3.md", "status: open", "status: answered")
    changed = _pages(_rebuild_and_compare(serve))
    # its own box, the home page's open and newest lists, the Q&A index's table, the navigation's icon
    assert {"qna/q3/index.html", "index.html", "qna/index.html"} <= changed <= _showing(serve.before, title)
    assert "tags/index.html" not in changed  # names the page, not its status
    assert serve.read() is None  # --dirty: a front matter edit makes the build whole


def test_a_title_taken_from_the_first_heading_changes_every_page_that_shows_it(serve):
    """A page without ``title:`` in its front matter is named by its first heading: under
    ``--dirty`` an edit of that heading is an edit of the whole site (every page's navigation)."""
    _edit(serve, "docs/index.md", "title: 홈\n", "description: 첫 페이지.\n")
    _edit(serve, "mkdocs.yml", "- 홈: index.md\n", "- index.md\n")  # the navigation shows the page's own title
    _rebuild_and_compare(serve)
    before = serve.before
    _edit(serve, "docs/index.md", "# 홈\n", "# 스터디 홈\n")
    changed = _pages(_rebuild_and_compare(serve))
    assert "index.html" in changed and len(changed) > 1, changed  # the navigation of the others names it
    assert serve.read() is None  # --dirty: a whole build
    assert changed == {k for k, html in serve.before.items() if k.endswith(".html") and before[k] != html}


def test_a_snippet_edit_changes_the_page_that_includes_it(serve):
    _edit(serve, "snippets/demo.py", "step = 0.1", "step = 0.05")
    changed = _rebuild_and_compare(serve)
    assert _pages(changed) == {"qna/q2/index.html"}
    assert serve.read() is None  # --dirty: a snippet edit makes the build whole (its pages are looked up)


def test_several_files_and_the_config_changed_at_once(serve):
    site_description = yaml.safe_load((serve.project / "mkdocs.yml").read_text(encoding="utf-8"))["site_description"]
    _edit(serve, "mkdocs.yml", f"site_description: {site_description}", f"site_description: {site_description} (고침)")
    _edit(serve, "docs/qna/q2.md", "질문 2의 요약입니다.", "질문 2의 새 요약입니다.")
    _edit(serve, "docs/meetings/m1.md", "세 가지 질문이 나왔습니다.", "세 질문이 나왔습니다.")
    changed = _pages(_rebuild_and_compare(serve))
    assert {"qna/q2/index.html", "meetings/m1/index.html"} <= changed
    counts = serve.plugin.incremental.misses  # a changed config: every page made again
    pages = [k for k in serve.before if k.endswith("index.html")]
    assert counts["template"] == len(pages) and counts["render"] == len(pages) - 1, counts  # the notebook: mkdocs-jupyter


def test_a_deleted_page_leaves_the_site_and_every_page_that_named_it(serve):
    title = "Q3. 모멘텀은 무엇인가요?"
    before = serve.before
    (serve.project / "docs/qna/q3.md").unlink()
    changed = _rebuild_and_compare(serve)
    assert "qna/q3/index.html" in before and "qna/q3/index.html" not in serve.before
    assert any(k.startswith("search:qna/q3/") for k in before)
    assert not any(k.startswith("search:qna/q3/") for k in serve.before)
    # every page that named it, and the meetings list, whose question count went from 3 to 2
    assert _pages(changed) == _showing(before, title) | {"meetings/index.html"}
    assert {"index.html", "qna/index.html", "meetings/m1/index.html"} <= _pages(changed)


@pytest.mark.parametrize("engine", ["mkdocs", "properdocs"])
def test_the_dirty_build_warning_is_dropped_under_both_engines(engine, caplog):
    # `mkdocs serve --dirty` and `properdocs serve --dirty` log it on every build, each under its own
    # logger; --strict would stop on it. Other warnings of the same logger still count.
    import importlib
    import inspect

    from kb import partial

    build = importlib.import_module(f"{engine}.commands.build")
    assert partial.DIRTY_WARNING in inspect.getsource(build.build)  # the engine's own words
    kept = partial.Partial()
    kept.start()
    try:
        with caplog.at_level(logging.WARNING, logger=build.log.name):
            build.log.warning(partial.DIRTY_WARNING + ", this will likely lead to inaccurate navigation")
            build.log.warning("Doc file 'a.md' contains a link 'b.md', but the target is not found")
    finally:
        kept.stop()
    assert [r.getMessage()[:8] for r in caplog.records if r.name == build.log.name] == ["Doc file"]
