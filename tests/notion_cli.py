"""``python -m kb`` run in this process, for the importer's many tests: the same ``kb.cli.main``
as the subprocess helper conftest.run_kb, without a Python start-up and imports per call (those
dominated the importer tests' time). tests/test_cli.py covers the real entry point."""

from __future__ import annotations

import contextlib
import io
import subprocess

from kb import cli


def kb_main(*args) -> subprocess.CompletedProcess:
    out, err = io.StringIO(), io.StringIO()
    argv = [str(a) for a in args]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(argv)
        except SystemExit as exc:  # argparse: usage errors
            code = exc.code if isinstance(exc.code, int) else 2
    return subprocess.CompletedProcess(["python", "-m", "kb", *argv], code, out.getvalue(), err.getvalue())


def snapshot(folder) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes, to show that nothing was written."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
