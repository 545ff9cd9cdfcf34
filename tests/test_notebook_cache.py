"""Notebooks run beside the page blocks and are cached by content (kb/notebook_exec.py, issue #28 item 2).

One page of a tiny notebook goes through the build's own steps in this process: mkdocs-jupyter's
on_files and on_pre_page (as mkdocs.yml configures it, its cache in a temporary folder), the kb
plugin's start of the notebooks (on_nav) and its wrap of the render (on_pre_page). A kernel that
starts is counted where jupyter_client starts one, with the thread that started it.

* a cached notebook renders with no kernel started, and nothing starts in the background;
* an edited code cell runs again, in the background, and the page shows its new output;
* a page read while its notebook still runs holds a placeholder, filled in at on_env (KbPlugin),
  and mkdocs-jupyter's cache entry too;
* a cell that raises, run in the background, fails the build naming the notebook and the cell, as
  mkdocs-jupyter's own run did (tests/test_notebooks.py builds a whole copy for that one);
* an entry of the cache that does not read back is removed, not served;
* the cache's folder changes with the device and with the kb code that shapes a run.
"""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import nbformat
import pytest
from mkdocs.config import load_config
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import get_files
from mkdocs.structure.pages import Page
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from kb import figure_fonts, notebook_exec, notebooks

pytestmark = pytest.mark.xdist_group("notebook_cache")  # the module's project runs its notebook once
KERNELSPEC = {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}}


def make_project(folder: Path, cells: list, cache: Path) -> Path:
    """A site of one notebook, docs/notebooks/t.ipynb, with mkdocs-jupyter set up as mkdocs.yml sets it."""
    (folder / "docs" / "notebooks").mkdir(parents=True)
    nbformat.write(new_notebook(cells=cells, metadata=KERNELSPEC), folder / "docs/notebooks/t.ipynb")
    (folder / "mkdocs.yml").write_text(
        "site_name: t\nplugins:\n  - mkdocs-jupyter:\n      include: ['notebooks/*.ipynb']\n      execute: true\n"
        f"      allow_errors: false\n      kernel_name: python3\n      cache: true\n      cache_dir: {cache}\n",
        encoding="utf-8")
    return folder


def build_page(project: Path) -> tuple[str | None, notebook_exec.NotebookRuns | None]:
    """The notebook's page rendered as the build renders it: (its HTML, the notebooks started)."""
    config = load_config(str(project / "mkdocs.yml"), site_dir=str(project / "site"))
    jupyter = config.plugins["mkdocs-jupyter"]
    jupyter.on_pre_build(config)
    files = jupyter.on_files(get_files(config), config=config)
    runs = notebook_exec.NotebookRuns.start(files, config)
    page = Page(None, files.get_file_from_path("notebooks/t.ipynb"), config)
    jupyter.on_pre_page(page, config, files)
    notebooks.wrap_render(page, runs)
    try:
        page.render(config, files)
        page.content = config.plugins.on_page_content(page.content, page=page, config=config, files=files)
        if runs is not None:
            runs.finish(config, files)  # KbPlugin on_env: a page read while its notebook ran gets it now
    finally:
        if runs is not None:
            runs.close()
    return page.content, runs


@pytest.fixture
def kernels(monkeypatch) -> list[str]:
    """The thread that started each kernel started in this process from here on: ``kb-notebook_N``
    for kb/notebook_exec.py's pool, ``MainThread`` for mkdocs-jupyter's run during the render."""
    from jupyter_client.manager import AsyncKernelManager

    started = []
    start = AsyncKernelManager.start_kernel

    async def counted(self, **kwargs):
        started.append(threading.current_thread().name)
        return await start(self, **kwargs)

    monkeypatch.setattr(AsyncKernelManager, "start_kernel", counted)  # nbclient's, and nbconvert's through it
    return started


CELLS = [new_markdown_cell("# 제목", id="m1"), new_code_cell("print('answer:', 6 * 7)", id="c1")]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    """(project, cache): the tiny notebook built once (its one kernel), the cache holding its page."""
    folder = tmp_path_factory.mktemp("nbcache")
    cache = folder / "cache"
    project = make_project(folder / "project", CELLS, cache)
    html, runs = build_page(project)
    assert runs is not None and list(runs.futures) == [str(project / "docs/notebooks/t.ipynb")], "not run beside"
    assert "answer: 42" in html
    assert len(list(cache.glob("*.json"))) == 1
    return project, cache


def test_a_cached_notebook_renders_without_starting_a_kernel(built, kernels):
    project, _ = built
    html, runs = build_page(project)
    assert runs is None, "a cached notebook was started in the background"
    assert kernels == []
    assert "answer: 42" in html


def test_an_edited_code_cell_runs_again_beside_the_blocks(built, tmp_path, kernels):
    project, cache = built
    edited = shutil.copytree(project, tmp_path / "edited")
    config = (edited / "mkdocs.yml").read_text(encoding="utf-8")
    (edited / "mkdocs.yml").write_text(config.replace(str(cache), str(tmp_path / "cache")), encoding="utf-8")
    path = edited / "docs/notebooks/t.ipynb"
    nb = nbformat.read(path, as_version=4)
    # and the kernel is set up as the build sets it: CUDA hidden, the figure fonts' hook installed at start
    nb.cells[1].source = ("import os, sys\nprint('answer:', 6 * 9, os.environ.get('CUDA_VISIBLE_DEVICES') == '',\n"
                          "      any(type(f).__name__ == '_Hook' for f in sys.meta_path))")
    nbformat.write(nb, path)
    html, runs = build_page(edited)
    assert runs is not None and list(runs.futures) == [str(path)], "the edited notebook was not started beside"
    assert kernels == ["kb-notebook_0"], "not one kernel, in the background"
    assert "answer: 54 True True" in html and "answer: 42" not in html
    assert len(list((tmp_path / "cache").glob("*.json"))) == 1  # its page cached


def test_a_failing_cell_run_in_the_background_names_notebook_and_cell(tmp_path, kernels):
    cells = [new_markdown_cell("# 실패", id="m1"), new_code_cell("x = 1", id="c1"),
             new_code_cell("y = 2\nraise ValueError('no such head: 7')", id="c2")]
    project = make_project(tmp_path / "project", cells, tmp_path / "cache")
    with pytest.raises(PluginError) as failed:
        build_page(project)
    assert kernels == ["kb-notebook_0"], "not one kernel, in the background"
    message = str(failed.value)
    # the same words as mkdocs-jupyter's own run gave (tests/test_notebooks.py)
    assert message.startswith("docs/notebooks/t.ipynb: cell 3 raised ValueError: no such head: 7\n"
                              "  at line 2 of that cell (In [2])\n"), message
    assert "\x1b[" not in message


def test_a_page_read_while_its_notebook_runs_is_filled_in_at_on_env(tmp_path):
    """MkDocs reads on past a notebook still running (no kernel here: the run is a future this test
    ends); on_env puts the page in, and mkdocs-jupyter's cache entry gets it in place of the placeholder."""
    from concurrent.futures import Future

    project = make_project(tmp_path / "project", CELLS, tmp_path / "cache")
    path = str(project / "docs/notebooks/t.ipynb")
    config = load_config(str(project / "mkdocs.yml"), site_dir=str(project / "site"))
    jupyter = config.plugins["mkdocs-jupyter"]
    jupyter.on_pre_build(config)
    files = jupyter.on_files(get_files(config), config=config)
    runs = notebook_exec.NotebookRuns("cpu", 1, jupyter)
    runs.futures[path] = running = Future()
    page = Page(None, files.get_file_from_path("notebooks/t.ipynb"), config)
    jupyter.on_pre_page(page, config, files)
    notebooks.wrap_render(page, runs)
    try:
        page.render(config, files)
        assert notebook_exec.pending(page.content) and page.title == "제목" and page.toc
        (entry,) = (tmp_path / "cache").glob("*.json")  # written by mkdocs-jupyter's render
        assert notebook_exec.pending(json.loads(entry.read_text(encoding="utf-8"))["content"])
        assert len(runs.deferred) == 1
        nb = nbformat.read(path, as_version=4)
        nb.cells[1].outputs = [new_output("stream", name="stdout", text="answer: 42\n")]
        running.set_result(nb)
        runs.finish(config, files)
    finally:
        runs.close()
    assert "answer: 42" in page.content and not notebook_exec.pending(page.content)
    assert "answer: 42" in json.loads(entry.read_text(encoding="utf-8"))["content"]
    assert notebook_exec.cached_page(jupyter, path)


def test_a_cache_entry_that_does_not_read_back_is_removed(built, tmp_path):
    project, cache = built
    (entry,) = cache.glob("*.json")
    config = load_config(str(project / "mkdocs.yml"))
    jupyter = config.plugins["mkdocs-jupyter"]
    path = str(project / "docs/notebooks/t.ipynb")
    assert notebook_exec.cached_page(jupyter, path)
    whole = entry.read_bytes()
    try:
        entry.write_bytes(whole[: len(whole) // 2])  # a build killed while mkdocs-jupyter wrote it
        assert not notebook_exec.cached_page(jupyter, path)
        assert not entry.exists(), "the damaged entry is still there: mkdocs-jupyter's render would fail on it"
        entry.write_text(json.dumps({"content": None}), encoding="utf-8")
        assert not notebook_exec.cached_page(jupyter, path) and not entry.exists()
        # a build stopped between reading the page and on_env: the entry holds the placeholder
        placeholder = '<div class="kb-notebook-pending" data-kb-notebook="0123abcd-0"></div>'
        assert notebook_exec.pending(placeholder)
        entry.write_text(json.dumps({"content": placeholder, "toc_tokens": [], "title": "t"}), encoding="utf-8")
        assert not notebook_exec.cached_page(jupyter, path) and not entry.exists()
    finally:
        entry.write_bytes(whole)


def test_the_cache_folder_changes_with_the_device_and_the_kb_code(tmp_path, monkeypatch):
    cpu, cuda = notebook_exec.cache_flavour("cpu"), notebook_exec.cache_flavour("cuda")
    assert cpu != cuda and cpu.endswith("-cpu") and cuda.endswith("-cuda")
    edited = tmp_path / "figure_fonts.py"
    edited.write_text(Path(figure_fonts.__file__).read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    monkeypatch.setattr(figure_fonts, "__file__", str(edited))
    notebook_exec._kb_code_hash.cache_clear()
    try:
        assert notebook_exec.cache_flavour("cpu") != cpu
    finally:
        monkeypatch.undo()
        notebook_exec._kb_code_hash.cache_clear()
    assert notebook_exec.cache_flavour("cpu") == cpu
