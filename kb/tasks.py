"""``python -m kb serve`` and ``python -m kb test``: what ``make serve`` and ``make test`` run, for a
machine without ``make`` (Windows, a bare macOS). The Makefile and these commands must agree:
tests/test_packaging.py compares them.

Both run in the project (the nearest folder up from here holding mkdocs.yml and pytest.ini) with
the interpreter that runs ``kb``, and return the child's exit status. Nothing here needs MkDocs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HOST = "127.0.0.1"  # Makefile: HOST ?= 127.0.0.1
PORT = 8000  # Makefile: PORT ?= 8000
PYTEST_ARGS = ("-n", "auto", "--maxprocesses", "4")  # Makefile: test: $(PY) -m pytest -n auto --maxprocesses 4
ENV = {"NO_MKDOCS_2_WARNING": "1"}  # Makefile: export NO_MKDOCS_2_WARNING := 1


def project_root(start: Path | None = None) -> Path | None:
    """The nearest folder from ``start`` (default: the working folder) up that holds mkdocs.yml."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "mkdocs.yml").is_file():
            return folder
    return None


def serve_command(host: str = HOST, port: int = PORT) -> list[str]:
    # --dirty: a saved edit reads and writes only the pages it changes (kb/partial.py)
    return [sys.executable, "-m", "mkdocs", "serve", "--strict", "--dirty", "--dev-addr", f"{host}:{port}"]


def pytest_command(extra: list[str] | tuple[str, ...] = ()) -> list[str]:
    return [sys.executable, "-m", "pytest", *PYTEST_ARGS, *extra]


def run(command: list[str], project: Path) -> int:
    """Run ``command`` in ``project``; Ctrl-C stops it (it gets the signal too) and returns 130."""
    proc = subprocess.Popen(command, cwd=project, env={**os.environ, **ENV})
    try:
        return proc.wait()
    except KeyboardInterrupt:
        try:
            return proc.wait(timeout=30) or 130
        except (KeyboardInterrupt, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()
            return 130
