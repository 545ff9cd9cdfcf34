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


def build_site(project: Path, site_dir: Path) -> subprocess.CompletedProcess:
    """Run ``mkdocs build --strict`` for ``project`` into ``site_dir``; return the finished process."""
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
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
    """The site built once with --strict from the working tree; fails loudly if the build fails."""
    site = tmp_path_factory.mktemp("site")
    result = build_site(ROOT, site)
    if result.returncode != 0:
        pytest.fail(f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}", pytrace=False)
    return site
