"""Shared fixtures: the device option and one strict build of the site per test session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def pytest_addoption(parser):
    parser.addoption(
        "--device",
        choices=("cpu", "cuda", "all"),
        default=None,
        help="where to run snippets and code blocks: cpu, cuda, or all available "
        "(default: cpu, plus cuda when torch.cuda.is_available())",
    )


def pytest_configure(config):
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


def build_site(project: Path, site_dir: Path, *, execute: bool = False) -> subprocess.CompletedProcess:
    """Run ``mkdocs build --strict`` for ``project`` into ``site_dir``; return the finished process.

    ``execute=False`` builds without running the code blocks (``KB_EXECUTE=0``): the builds of
    temporary copies test other things and would otherwise run every block cold.
    """
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", KB_EXECUTE="1" if execute else "0")
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site_dir)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> Path:
    """The site built once with --strict from the working tree, every code block run (cached in
    .cache/kb-exec by content); fails loudly if the build fails."""
    site = tmp_path_factory.mktemp("site")
    result = build_site(ROOT, site, execute=True)
    if result.returncode != 0:
        pytest.fail(f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}", pytrace=False)
    return site


# --- Running code blocks: one warm worker per device for the whole session -----------------------


class BlockRunners:
    """The session's :class:`kb.blockrunner.BlockRunner` per device, started on first use.

    ``run`` executes a block alone in a fresh child of the device's worker. Code that already
    passed on the same device in this session (a snippet section that a page includes verbatim)
    is not run a second time: the earlier result is returned with ``reused=True``. Code that
    mentions ``__file__`` is always run again, since its result may depend on its name.
    """

    def __init__(self):
        self.runners = {}
        self.passed = {}
        self.reused = 0

    def get(self, device: str):
        from kb.blockrunner import BlockRunner

        if device not in self.runners:
            self.runners[device] = BlockRunner(device)
            self.runners[device].start()
        return self.runners[device]

    def run(self, device: str, code: str, filename: str, **kwargs):
        import dataclasses

        key = (device, code)
        if key in self.passed and "__file__" not in code:
            self.reused += 1
            return dataclasses.replace(self.passed[key], filename=filename, reused=True)
        result = self.get(device).run(code, filename, **kwargs)
        if result.ok:
            self.passed[key] = result
        return result

    def close(self):
        for runner in self.runners.values():
            runner.close()

    def summary(self) -> list[str]:
        lines = []
        for device, r in self.runners.items():
            lines.append(f"{device}: {r.starts} worker start-up ({r.startup_s:.1f} s), {r.jobs} blocks run")
        if self.reused:
            lines.append(f"{self.reused} block(s) identical to code that had passed on the same device: result reused")
        return lines


_RUNNERS = pytest.StashKey[BlockRunners]()
_SUMMARY = pytest.StashKey[list]()


@pytest.fixture(scope="session")
def block_runners(request) -> BlockRunners:
    """One warm worker per device (see kb/blockrunner.py), shared by the snippet and page-block tests."""
    runners = BlockRunners()
    request.config.stash[_RUNNERS] = runners
    yield runners
    runners.close()


def add_summary_line(config, line: str) -> None:
    """A line for the "code blocks" section of the terminal summary."""
    config.stash.setdefault(_SUMMARY, []).append(line)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    lines = list(config.stash.get(_SUMMARY, []))
    runners = config.stash.get(_RUNNERS, None)
    if runners is not None:
        lines += runners.summary()
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
