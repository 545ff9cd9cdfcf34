"""Running the notebooks (docs/notebooks/*.ipynb) for their pages: beside the page blocks, cached by
content, on the build's device, with the site's figure fonts; a cell that raises is named.

mkdocs-jupyter runs a notebook while it renders its page (nbconvert's ExecutePreprocessor): one
notebook after another, and nothing else read meanwhile. Instead:

* :meth:`NotebookRuns.start` (KbPlugin on_nav, once the pages passed ``kb check``) starts every
  notebook whose page is not in the cache, in a pool of threads, each driving its own kernel
  process with nbclient as nbconvert would (the notebook's kernel, ``allow_errors`` of mkdocs.yml,
  the notebook's folder as working folder). So the notebooks run beside each other and beside the
  page blocks (kb/execute.py) while MkDocs reads the pages. ``KB_NOTEBOOK_JOBS`` at once (default:
  the CPUs, at most 4); ``KB_NOTEBOOK_JOBS=0`` turns this off: mkdocs-jupyter runs each notebook
  during its render, one after the other (what benchmarks/bench_cold_build.py compares).
* :func:`wrap_render` (on_pre_page) gives mkdocs-jupyter's render the notebook executed in the
  background (its ``nb2html`` converts it without running it again), or, when none was started,
  lets it run the notebook as before, with the same kernel set-up either way. A notebook still
  running when MkDocs reads its page leaves a placeholder there and MkDocs reads on; KbPlugin
  on_env (:meth:`NotebookRuns.finish`), as it does for the blocks, waits for it and puts the page
  in, through every plugin's on_page_content as if it had been read then.
* The kernel runs on the CPU (CUDA hidden) unless ``KB_EXEC_DEVICE=cuda``, as the blocks do, and
  starts with :func:`kb.figure_fonts.install` (a startup file in a fresh ``IPYTHONDIR``, which also
  keeps the builder's own IPython profile out).
* A cell that raises fails the build as ``docs/notebooks/x.ipynb: cell 4 raised ValueError: ...``
  with the traceback without colour codes (:func:`describe_cell_error`), whichever way it ran.

Cache: mkdocs-jupyter's own, one JSON of the rendered page per notebook, keyed by the notebook file
and its options (the file: the cells' sources, and outputs, which notebooks are committed without,
tests/test_notebooks.py), kept apart from execution. kb/plugin.py puts it in a folder per
:func:`cache_flavour`: the torch, Python, nbclient and ipykernel versions, the device and a hash of
the kb code that shapes a run (this module and kb/figure_fonts.py). A notebook whose entry is there
renders from it and starts no kernel; a changed cell changes the key and runs again. An entry that
does not read back (a build killed while mkdocs-jupyter wrote it: it writes in place), or that still
holds a placeholder (a build stopped before on_env), is removed and made again (:func:`cached_page`),
never served or left to break every later build.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import platform
import re
import secrets
import shutil
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePath

from mkdocs.exceptions import PluginError

from kb import figure_fonts

log = logging.getLogger("mkdocs.plugins.kb")
JOBS_ENV = "KB_NOTEBOOK_JOBS"
_ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_IN_CELL_RE = re.compile(r"Cell In\[(\d+)\], line (\d+)")
# run by the kernel before the first cell: leaves no name in the notebook's namespace
KERNEL_STARTUP = "import kb.figure_fonts as _kb_figure_fonts\n_kb_figure_fonts.install()\ndel _kb_figure_fonts\n"


def device_from_env() -> str:
    device = os.environ.get("KB_EXEC_DEVICE", "cpu")
    if device not in ("cpu", "cuda"):
        raise PluginError(f"KB_EXEC_DEVICE must be cpu or cuda, not {device!r}")
    return device


@functools.cache
def _kb_code_hash() -> str:
    h = hashlib.sha256()
    for module in (__file__, figure_fonts.__file__):
        h.update(Path(module).read_bytes())
    return h.hexdigest()[:12]


def cache_flavour(device: str) -> str:
    """The folder of mkdocs-jupyter's cache for this build: what a notebook's outputs depend on
    besides the notebook itself (mkdocs-jupyter keys an entry by the file and its options only)."""
    from importlib.metadata import version

    from kb.exec_cache import torch_version

    return (f"torch-{torch_version()}-py{platform.python_version()}-nbclient{version('nbclient')}"
            f"-ipykernel{version('ipykernel')}-kb{_kb_code_hash()}-{device}")


def _executes(jupyter, path: str) -> bool:
    """Whether mkdocs-jupyter runs the notebook at ``path`` (its ``execute`` and ``execute_ignore``)."""
    options = jupyter.config
    return bool(options["execute"]) and not any(PurePath(path).match(p) for p in options["execute_ignore"] or [])


def _cache_entry(jupyter, path: str) -> Path:
    """Where mkdocs-jupyter's cache keeps the page of the notebook at ``path`` (its own key)."""
    from mkdocs_jupyter.plugin import _compute_cache_key, _get_cache_path

    return _get_cache_path(jupyter.config["cache_dir"], _compute_cache_key(path, jupyter.config, _executes(jupyter, path)))


def cached_page(jupyter, path: str) -> bool:
    """Whether mkdocs-jupyter's cache holds the page of the notebook at ``path``, as its render
    looks it up; an entry that does not read back is removed (the render makes it again)."""
    if not jupyter.config["cache"]:
        return False
    entry = _cache_entry(jupyter, path)
    try:
        data = json.loads(entry.read_text(encoding="utf-8"))
        whole = isinstance(data["content"], str) and isinstance(data["toc_tokens"], list) and not pending(data["content"])
    except FileNotFoundError:
        return False
    except (OSError, ValueError, KeyError, TypeError):
        whole = False
    if not whole:
        log.info("kb: %s: 캐시된 %s 페이지를 읽을 수 없어(빌드가 쓰다 멈춤?) 지우고 다시 만듭니다", entry, path)
        entry.unlink(missing_ok=True)
    return whole


def keep_cached(jupyter, path: str) -> None:
    """Mark the cache entry of the notebook at ``path`` used in this build, as its render would:
    a build that does not read the page (kb/partial.py) must not have mkdocs-jupyter evict it."""
    if jupyter.config["cache"]:
        jupyter._used_cache_paths.add(_cache_entry(jupyter, path))


def _jobs() -> int:
    value = os.environ.get(JOBS_ENV)
    if value is None:
        return min(os.cpu_count() or 1, 4)
    if not value.isdigit():
        raise PluginError(f"{JOBS_ENV}는 한 번에 실행할 노트북 수(0이면 끔)여야 합니다: {value!r}")
    return int(value)


def kernel_home() -> str:
    """A fresh ``IPYTHONDIR`` whose startup file installs the figure fonts (the caller removes it)."""
    folder = tempfile.mkdtemp(prefix="kb-ipython-")
    startup = Path(folder, "profile_default", "startup")
    startup.mkdir(parents=True)
    (startup / "00-kb-figure-fonts.py").write_text(KERNEL_STARTUP, encoding="utf-8")
    try:
        figure_fonts.ensure()  # made here once, not by each kernel
    except figure_fonts.FigureFontError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise PluginError(str(exc)) from None
    return folder


def kernel_env(device: str, ipython_dir: str) -> dict[str, str]:
    """What a kernel's environment changes: CUDA hidden on the CPU, the startup file's folder."""
    return {"IPYTHONDIR": ipython_dir, **({"CUDA_VISIBLE_DEVICES": ""} if device == "cpu" else {})}


def execute(path: str, kernel_name: str, allow_errors: bool, env: dict[str, str]):
    """The notebook at ``path`` run in a fresh kernel (nbclient, as nbconvert's ExecutePreprocessor
    configured by mkdocs-jupyter); raises nbclient's errors."""
    import nbformat
    from nbclient import NotebookClient

    start = time.perf_counter()
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, kernel_name=kernel_name, allow_errors=allow_errors, store_widget_state=True,
                            resources={"metadata": {"path": os.path.dirname(path)}})
    client.execute(env=env)
    log.info("kb: %s ran in %.1f s", path, time.perf_counter() - start)
    return nb


class NotebookRuns:
    """The notebooks of one build running in the background, by their absolute path."""

    def __init__(self, device: str, jobs: int, jupyter=None):
        self.jupyter = jupyter  # mkdocs-jupyter's plugin: its options and its cache
        self.home = kernel_home()
        self.env = dict(os.environ, **kernel_env(device, self.home))
        self.jobs = jobs
        self.pool = ThreadPoolExecutor(jobs, thread_name_prefix="kb-notebook")
        self.futures: dict[str, Future] = {}
        self.token = secrets.token_hex(8)  # makes the pages' placeholders unique
        self.deferred: list[_Deferred] = []  # pages read while their notebook still ran

    @classmethod
    def start(cls, files, config, previous: NotebookRuns | None = None) -> NotebookRuns | None:
        """Start every notebook page of ``files`` that mkdocs-jupyter would run and has not cached;
        None when there is none (or ``KB_NOTEBOOK_JOBS=0``). ``previous``: the last build's, closed."""
        if previous is not None:
            previous.close()
        jupyter = config.plugins.get("mkdocs-jupyter")
        if jupyter is None:
            return None
        paths = [f.abs_src_path for f in files if f.abs_src_path and jupyter.should_include(f)
                 and _executes(jupyter, f.abs_src_path)]
        todo = [p for p in paths if not cached_page(jupyter, p)]  # (a damaged entry removed, also when off)
        jobs = _jobs()
        if not todo or jobs == 0:
            return None
        runs = cls(device_from_env(), min(jobs, len(todo)), jupyter)
        for path in todo:
            runs.futures[path] = runs.pool.submit(execute, path, jupyter.config["kernel_name"],
                                                  jupyter.config["allow_errors"], runs.env)
        log.info("kb: %d notebook(s) not cached started, %d at once (%s)", len(todo), runs.jobs, JOBS_ENV)
        return runs

    def placeholder(self) -> str:
        """What a page holds while its notebook runs (:func:`pending` knows it)."""
        return f'<div class="kb-notebook-pending" data-kb-notebook="{self.token}-{len(self.deferred)}"></div>'

    def finish(self, config, files) -> None:
        """KbPlugin on_env: each page read while its notebook ran gets the notebook as it ran, through
        every plugin's on_page_content as MkDocs would have done then (kb's checks and CSS included);
        mkdocs-jupyter's cache entry, written with the placeholder, gets it too."""
        deferred, self.deferred = self.deferred, []
        for later in deferred:
            html = later.convert()
            self._cache_content(later, html)
            later.page.content = config.plugins.on_page_content(html, page=later.page, config=config, files=files)

    def _cache_content(self, later: _Deferred, html: str) -> None:
        if self.jupyter is None or not self.jupyter.config["cache"]:
            return
        entry = _cache_entry(self.jupyter, later.path)
        try:
            data = json.loads(entry.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if not isinstance(data, dict) or data.get("content") != later.placeholder:
            return
        data["content"] = html
        fd, staged = tempfile.mkstemp(dir=entry.parent, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f)
        os.replace(staged, entry)  # whole or not at all

    def close(self) -> None:
        """Drop the notebooks not started yet; one running ends by itself (its kernel with it)."""
        self.pool.shutdown(wait=False, cancel_futures=True)
        shutil.rmtree(self.home, ignore_errors=True)


@dataclass
class _Deferred:
    """A notebook page read while its notebook still ran: converted once it has (:meth:`NotebookRuns.finish`)."""

    page: object
    path: str
    src: str
    future: Future
    options: dict  # mkdocs-jupyter's arguments to nb2html
    placeholder: str

    def convert(self) -> str:
        return _convert_executed(self.future, self.path, self.src, self.options)


_PENDING_RE = re.compile(r'<div class="kb-notebook-pending" data-kb-notebook="[0-9a-f]+-[0-9]+"></div>')


def pending(html: str) -> bool:
    """Whether ``html`` is a placeholder of a page whose notebook still runs (filled at on_env)."""
    return _PENDING_RE.fullmatch(html) is not None


def _convert_executed(future: Future, path: str, src: str, options: dict) -> str:
    """The page of the notebook run by ``future`` (waited for; a cell that raised is named),
    converted by mkdocs-jupyter without running it again."""
    import nbformat
    from mkdocs_jupyter import convert

    with _cells_named(path, src):
        nb = future.result()
    with tempfile.TemporaryDirectory(prefix="kb-notebook-") as folder:
        executed = os.path.join(folder, os.path.basename(path))  # the same name: the same page
        nbformat.write(nb, executed)
        return convert.nb2html(executed, execute=False, **options)


@contextmanager
def _cells_named(path: str, src: str):
    """nbclient's errors as a :class:`PluginError` naming the notebook and the cell."""
    from jupyter_client.kernelspec import NoSuchKernel
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    try:
        yield
    except CellExecutionError as exc:
        raise PluginError(describe_cell_error(path, src, exc)) from None
    except (CellTimeoutError, DeadKernelError, NoSuchKernel) as exc:
        raise PluginError(f"{src}: {type(exc).__name__}: {_ANSI_RE.sub('', str(exc)).strip()}") from None


def wrap_render(page, runs: NotebookRuns | None = None) -> None:
    """Wrap ``page.render`` (set by mkdocs-jupyter's on_pre_page, where the notebook runs): the
    notebook executed by ``runs``, else run by mkdocs-jupyter in a kernel set up the same way."""
    render, path, src = page.render, page.file.abs_src_path, f"docs/{page.file.src_uri}"
    future = runs.futures.get(path) if runs is not None else None

    def render_what_ran_beside(config, files):
        from mkdocs_jupyter import convert

        convert_now, later = convert.nb2html, {}

        def nb2html(nb_path, execute=False, **options):  # called by render when the page is not cached
            if not execute or os.path.abspath(nb_path) != os.path.abspath(path):
                return convert_now(nb_path, execute=execute, **options)
            if future.done():
                return _convert_executed(future, path, src, options)
            later.update(options=options, placeholder=runs.placeholder())  # MkDocs reads on
            return later["placeholder"]

        convert.nb2html = nb2html
        try:
            render(config, files)
        finally:
            convert.nb2html = convert_now
        if later:
            runs.deferred.append(_Deferred(page, path, src, future, **later))

    def render_on_device_naming_the_cell(config, files):
        device = device_from_env()
        ipython_dir = kernel_home()
        changed = kernel_env(device, ipython_dir)
        saved = {name: os.environ.get(name) for name in changed}
        os.environ.update(changed)  # the kernel inherits them when it starts
        try:
            with _cells_named(path, src):
                render(config, files)
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            shutil.rmtree(ipython_dir, ignore_errors=True)

    page.render = render_on_device_naming_the_cell if future is None else render_what_ran_beside


def describe_cell_error(path: str | os.PathLike, src: str, exc) -> str:
    """``docs/x.ipynb: cell N raised ValueError: ...`` and the traceback, from nbclient's error.

    IPython names the running cell ``Cell In[k]``: the k-th non-empty code cell (nbclient
    skips empty ones, a fresh kernel counts from 1). Without that, the cell whose source
    nbclient quotes is taken, when only one matches.
    """
    import nbformat

    text = _ANSI_RE.sub("", str(exc))
    cells = nbformat.read(path, as_version=4).cells
    code_cells = [i for i, c in enumerate(cells, start=1) if c.cell_type == "code" and c.source.strip()]
    number = None
    m = _IN_CELL_RE.search(text)
    if m and 1 <= int(m.group(1)) <= len(code_cells):
        number = code_cells[int(m.group(1)) - 1]
    else:
        quoted = [i for i in code_cells if f"------------------\n{cells[i - 1].source}\n------------------" in text]
        if len(quoted) == 1:
            number = quoted[0]
    evalue = (exc.evalue or "").strip().splitlines()
    where = f"cell {number}" if number else "a cell"
    first = f"{src}: {where} raised {exc.ename}: {evalue[0] if evalue else ''}".rstrip()
    start = text.rfind("\n", 0, max(text.find("Traceback (most recent call last)"), 0)) + 1
    traceback = text[start:].strip() if "Traceback (most recent call last)" in text else text.strip()
    details = []
    if m:
        details.append(f"  at line {m.group(2)} of that cell (In [{m.group(1)}])")
    details += ["  " + line for line in traceback.splitlines()]
    return "\n".join([first, *details])
