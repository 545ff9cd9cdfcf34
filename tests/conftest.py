"""Shared fixtures and hooks: the device option, one strict build of the site per test run (shared
by the xdist workers through ``once_per_run``), the xdist scheduling, and the "code blocks" section
of the terminal summary.

The code-block runner fixtures (``block_runners``, ``any_backend_runner``) live in
tests/runner_fixtures.py; they are imported here, so that every test sees them.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from runner_fixtures import RUNNERS, any_backend_runner, block_runners  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

# Fixtures are exported notes, not pages: pytest-codeblocks must not run their ```bash/```python blocks.
collect_ignore_glob = ["fixtures/*"]


def pytest_addoption(parser):
    parser.addoption(
        "--device",
        choices=("cpu", "cuda", "all"),
        default=None,
        help="where to run snippets and code blocks: cpu, cuda, or all available "
        "(default: cpu, plus cuda when torch.cuda.is_available())",
    )


def pytest_configure(config):
    # Every build of the run (the shared build and each copy of the project, however it is
    # started) reads and writes one search-term cache: a copy then analyses only the pages it
    # adds, instead of loading Kiwi and analysing every page again (about 2 s of CPU a build).
    # Entries are keyed by their text and the analyser (kb/search_ko.py), so a hit is what an
    # analysis would give; tests of the cache itself drop this variable.
    os.environ.setdefault("KB_SEARCH_CACHE", str(ROOT / ".cache" / "kb-search"))
    # Python keeps compiled modules (__pycache__/, git-ignored) unless PYTHONDONTWRITEBYTECODE is set,
    # as it is in many containers. Then every process the suite starts (each build, each `python -m kb`,
    # each xdist worker rewriting the test modules' asserts) compiled kb/ and the tests again: about
    # 1.5 s of a 5.5 s build of the project and 3 s of a worker's 7 s collection. The workers and every
    # process they start inherit this; copies of the project take kb/__pycache__ with them.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    config.pluginmanager.register(_SharedBuildFirst(), "kb-shared-build-first")
    choice = config.getoption("--device")
    if choice == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise pytest.UsageError("--device cuda: torch.cuda.is_available() is False on this machine")


def selected_devices(config) -> list[str]:
    """The devices the run covers, from --device (see pytest_addoption)."""
    choice = config.getoption("--device")
    if choice == "cpu":
        return ["cpu"]
    if choice == "cuda":
        return ["cuda"]
    import torch

    return ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]


def copy_project(dest: Path) -> Path:
    """A copy of what a build needs (config, pages, hooks, snippets, overrides) in ``dest``, with the
    notebook cache, so that unchanged notebooks need not run again; returns ``dest``."""
    import shutil

    dest.mkdir(parents=True)
    for name in ["mkdocs.yml", "docs", "kb", "snippets", "overrides"]:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name)  # with __pycache__: its files stay valid (copy2 keeps mtimes)
        elif src.exists():
            shutil.copy2(src, dest / name)
    notebook_cache = ROOT / ".cache" / "mkdocs-jupyter"
    if notebook_cache.is_dir():
        shutil.copytree(notebook_cache, dest / ".cache" / "mkdocs-jupyter")
    return dest


# Where the shared build (built_site) says it is published, as the Pages workflow tells a real
# build (kb/site_address.py): its links, sitemap.xml, canonical links and its 404 page's paths
# under /knowledge-base/ all carry this address, never the machine's git remote.
SITE_REPOSITORY = "https://github.com/example-owner/knowledge-base"
SITE_URL = "https://example-owner.github.io/knowledge-base/"


def build_site(project: Path, site_dir: Path, *, execute: bool = False,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run ``mkdocs build --strict`` for ``project`` into ``site_dir``; return the finished process.

    ``execute=False`` builds without running the code blocks (``KB_EXECUTE=0``): the builds of
    temporary copies test other things and would otherwise run every block cold. ``env``: more
    environment variables for the build.
    """
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "KB_EXECUTE": "1" if execute else "0", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site_dir)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def shared_build_places(site: Path) -> tuple[Path, Path]:
    """Beside the shared build's site: its block cache (empty before it) and the ``sitecustomize``
    that took Linux's own calls away from it (tests/no_linux.py)."""
    return site.parent / f"{site.name}-exec-cache", site.parent / f"{site.name}-no-linux"


def _make_shared_site(site: Path) -> str | None:
    """The shared build runs as on macOS (tests/no_linux.py: Linux's own calls taken away from the
    build and every process it starts) with an empty block cache, so that in every run every page
    block is executed by the runner a Mac uses (tests/test_portable.py checks both). The 흔한 실수
    catalogue's results and the notebooks come from the project's caches as in any build."""
    from no_linux import without_linux

    exec_cache, stub = shared_build_places(site)
    address = {"KB_REPOSITORY": SITE_REPOSITORY, "KB_SITE_URL": SITE_URL, "KB_EXEC_CACHE": str(exec_cache),
               "PYTHONPATH": without_linux(stub, root=ROOT)["PYTHONPATH"]}
    result = build_site(ROOT, site, execute=True, env=address)
    if result.returncode != 0:
        return f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}"
    return None


@pytest.fixture
def build_tmpdir():
    """TMPDIR for a build a test stops or kills: what the build could not remove goes with the test,
    not into the system's temporary folder. A short path in that folder, not under tmp_path:
    multiprocessing puts its forkserver's socket in TMPDIR, and a Unix socket's path has at most 107
    bytes (tmp_path under pytest-xdist is too long, and the build's blocks then never start)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="kbt") as folder:
        yield Path(folder)


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> Path:
    """The site built once with --strict from the working tree, every code block run (as on macOS,
    into a block cache of its own: :func:`_make_shared_site`), published at SITE_URL from
    SITE_REPOSITORY; fails loudly if the build fails. Under pytest-xdist the first worker that needs it builds it and the others use
    that build (see :func:`once_per_run`); the build starts in the background as soon as a
    worker has collected a test that needs it (:func:`pytest_collection_modifyitems`)."""
    return once_per_run(tmp_path_factory, "site", _make_shared_site)


class SharedBuildRuns:
    """The page blocks the shared build ran on its device (``KB_EXEC_DEVICE``, CPU by default):
    each executed block's output on a page carries the key of exactly its code
    (``data-kb-key``, :meth:`kb.execute.Executor.key`), and a block that fails stops the build, so
    a test whose code is one of them has its proof already: a fresh process ran exactly that code
    alone and it passed. Such a test counts it instead of running it again (issue #24: no test
    re-runs the page blocks the build ran)."""

    def __init__(self, keys: frozenset[str], device: str | None):
        from kb.execute import Executor

        self.keys, self.device = keys, device
        self.executor = Executor(cache_dir=Path("unused"), device=device) if device else None  # for its keys

    def ran(self, device: str, code: str, allow_exit: str | None = None) -> bool:
        return device == self.device and self.executor.key(code, allow_exit) in self.keys


@pytest.fixture(scope="session")
def shared_build_runs(request) -> SharedBuildRuns:
    """:class:`SharedBuildRuns` of the shared build when this session builds it anyway (some selected
    test needs ``built_site``); otherwise none, so that ``pytest tests/test_snippets.py`` alone runs
    every section and waits for no build."""
    if not request.config.stash.get(_BUILDS_SHARED_SITE, False):
        return SharedBuildRuns(frozenset(), None)
    from bs4 import BeautifulSoup, SoupStrainer

    site = request.getfixturevalue("built_site")
    keyed = SoupStrainer(attrs={"data-kb-key": True})  # only those elements parsed: a third of the time
    keys = frozenset(div["data-kb-key"] for html in site.rglob("*.html")
                     for div in BeautifulSoup(html.read_text(encoding="utf-8"), "html.parser", parse_only=keyed)
                     .find_all(attrs={"data-kb-key": True}) if "kb-output" in div.get("class", []))
    return SharedBuildRuns(keys, os.environ.get("KB_EXEC_DEVICE", "cpu"))


@pytest.fixture(scope="session")
def added_pages(tmp_path_factory):
    """A copy of the project with every page the Notion and ``kb new`` tests add (imports, new pages),
    built with --strict once per run (tests/added_pages.py); an :class:`added_pages.AddedPages`."""
    import added_pages

    return added_pages.load(once_per_run(tmp_path_factory, "added-pages", added_pages.make))


# --- Parallel runs (pytest-xdist, `pytest -n N`) and CI shards (pytest-split) --------------------
# Additive: without -n these change nothing. A CI job takes a slice with
# `pytest --splits N --group I` (pytest-split, balanced by the durations in .test_durations);
# a GPU runner takes the CUDA slice with `pytest --device cuda -m cuda`.


def once_per_run(tmp_path_factory, name: str, make) -> Path:
    """A folder filled once per test run by ``make(folder)`` (which returns an error text or None).

    Without xdist: a fresh temporary folder. Under xdist: ``<run's base temp>/<name>``, shared by
    every worker of this run (their base temps are siblings in one folder per run); the first
    worker to ask makes it under a file lock while the others wait, and a failure is recorded
    there so that every worker fails with the same message instead of building again.
    """
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        folder = tmp_path_factory.mktemp(name)
        error = make(folder)
    else:
        folder, error = _made_once(tmp_path_factory.getbasetemp().parent, name, make)
    if error:
        pytest.fail(error, pytrace=False)
    return folder


def _made_once(shared: Path, name: str, make) -> tuple[Path, str | None]:
    from filelock import FileLock

    folder, done = shared / name, shared / f"{name}.done.json"
    with FileLock(str(shared / f"{name}.lock")):
        if not done.is_file():
            folder.mkdir(exist_ok=True)
            done.write_text(json.dumps({"error": make(folder)}), encoding="utf-8")
        return folder, json.loads(done.read_text(encoding="utf-8"))["error"]


_BUILDS_SHARED_SITE = pytest.StashKey[bool]()  # whether a selected test needs built_site


def _uses_shared_build(item) -> bool:
    names = getattr(item, "fixturenames", ())
    return "built_site" in names or "shared_build_runs" in names


class _SharedBuildFirst:
    @pytest.hookimpl(trylast=True)  # after -k and -m have deselected: only the tests that will run
    def pytest_collection_modifyitems(self, config, items):
        config.stash[_BUILDS_SHARED_SITE] = any("built_site" in getattr(item, "fixturenames", ()) for item in items)
        _start_shared_build(config, items)


def _start_shared_build(config, items) -> None:
    """Under xdist, start the shared build (built_site) in a background thread of this worker as
    soon as the collection holds a test that needs it, and put those tests last: the build (a
    subprocess, every block and notebook run cold in a fresh clone) then runs while both workers
    run the tests that do not need it, instead of one worker waiting for it. The thread takes the
    same lock as :func:`once_per_run`, so the build is made once per run whoever asks first."""
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        return
    items.sort(key=_uses_shared_build)  # stable
    if not config.stash[_BUILDS_SHARED_SITE]:
        return
    import threading

    shared = config._tmp_path_factory.getbasetemp().parent
    threading.Thread(target=_made_once, args=(shared, "site", _make_shared_site), daemon=True,
                     name="shared build").start()


_GROUP_MARK = re.compile(r"^pytestmark = .*\bpytest\.mark\.xdist_group\(", re.M)


@functools.cache
def _grouped(module: str) -> bool:
    """Whether the test module at ``module`` (a path from the root) declares an xdist_group."""
    path = ROOT / module
    return path.suffix == ".py" and _GROUP_MARK.search(path.read_text(encoding="utf-8")) is not None


def pytest_xdist_auto_num_workers(config):
    """``-n auto`` (make test): one worker more than the machine has cores (``--maxprocesses``
    caps it). A worker often waits: for a build or an import it started, a browser's timer, a
    signal it sent; a third worker on 2 cores fills those waits (measured: 402 s against 431 s,
    same machine and hour; benchmarks/suite.md)."""
    return (os.cpu_count() or 1) + 1


def pytest_xdist_make_scheduler(config, log):
    """``--dist loadgroup`` (pytest.ini) as it is meant: every test of a module marked
    ``xdist_group`` on one worker, so its costly module fixture (an import of a whole export, a
    built copy) is made once; every other test scheduled on its own, as ``load`` does.
    pytest-xdist's own loadgroup renames each test's nodeid through ``item._nodeid``, which
    pytest 9 no longer reads (its nodeid comes from ``item._id``): its groups were silently split
    across workers, and each worker made the fixture again. Runs in the xdist controller only.
    (Handing out the longest tests first, by .test_durations, was measured slower: 456 s against
    374-400 s in collection order, both workers then starting with tests that wait for the shared
    build.)"""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ModuleGroups(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return module if _grouped(module) else nodeid

    return ModuleGroups(config, log)


def pytest_collection_modifyitems(config, items):
    """Tests parametrized with ``device="cuda"`` carry the ``cuda`` marker (``-m cuda``, ``-m "not cuda"``);
    a test or page block marked ``cuda`` is skipped, with its reason, when CUDA is not selected."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("device") == "cuda":
            item.add_marker(pytest.mark.cuda)
    # A page block marked <!--pytest.mark.cuda(reason=...)--> (pytest-codeblocks) runs only when CUDA is selected.
    # (The marker added above, to device="cuda" parameters, carries no reason and skips nothing.)
    needs_cuda = [item for item in items if (item.get_closest_marker("cuda") or pytest.mark.cuda).kwargs.get("reason")]
    if needs_cuda and "cuda" not in selected_devices(config):
        for item in needs_cuda:
            item.add_marker(pytest.mark.skip(reason=f"needs a CUDA GPU: {item.get_closest_marker('cuda').kwargs['reason']}"))


def pytest_sessionfinish(session):
    """An xdist worker hands its "code blocks" summary lines to the controller, which prints them;
    the controller, once every worker is done, stops the Chromium they shared (browser_helpers)."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["kb_summary"] = _summary_lines(session.config)
    elif getattr(session.config.option, "numprocesses", None):
        from browser_helpers import stop_shared_chromium

        stop_shared_chromium(session.config._tmp_path_factory.getbasetemp() / "chromium")


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):  # xdist controller: a worker has finished
    lines = getattr(node, "workeroutput", {}).get("kb_summary", [])
    node.config.stash.setdefault(_WORKER_SUMMARY, []).extend(f"{node.gateway.id}: {line}" for line in lines)


def _summary_lines(config) -> list[str]:
    lines = list(config.stash.get(_SUMMARY, []))
    runners = config.stash.get(RUNNERS, None)
    if runners is not None:
        lines += runners.summary()
    return lines


_SUMMARY = pytest.StashKey[list]()
_WORKER_SUMMARY = pytest.StashKey[list]()  # lines the xdist workers sent (see pytest_testnodedown)


def add_summary_line(config, line: str) -> None:
    """A line for the "code blocks" section of the terminal summary."""
    config.stash.setdefault(_SUMMARY, []).append(line)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    lines = _summary_lines(config) + config.stash.get(_WORKER_SUMMARY, [])
    if lines:
        terminalreporter.section("code blocks")
        for line in lines:
            terminalreporter.write_line(line)


def run_kb(*args, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """The real command line entry point: ``python -m kb ...`` in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "kb", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
