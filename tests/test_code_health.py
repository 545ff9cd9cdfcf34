"""The project's own code stays readable and loadable: pyflakes finds nothing in it (a name used
that is never defined, an unused import or variable, an f-string without a value), and no file is
longer than a newcomer reads in one sitting (``MAX_LINES``).

Undefined names are what a test run can miss: code on a path no test takes (a benchmark's
``make bench``, an error branch) raises NameError only when it runs. An import marked
``# noqa: F401`` (pytest fixtures, imported to be found by name) is the one exception. The line
limit covers the Python of kb/, tests/ and benchmarks/ and the site's own scripts (docs/javascripts/).
"""

from __future__ import annotations

from pathlib import Path

from pyflakes import api, messages

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 400
PYTHON = sorted(p for folder in ("kb", "tests", "benchmarks") for p in (ROOT / folder).rglob("*.py")
                if "__pycache__" not in p.parts and "fixtures" not in p.relative_to(ROOT).parts)
SCRIPTS = sorted((ROOT / "docs" / "javascripts").glob("*.js"))


class _Collected:
    """pyflakes' reporter, keeping the messages instead of printing them."""

    def __init__(self):
        self.found: list = []

    def flake(self, message):
        self.found.append(message)

    def syntaxError(self, filename, msg, lineno, offset, text):  # noqa: N802 - pyflakes' name
        self.found.append(f"{filename}:{lineno}: {msg}")

    def unexpectedError(self, filename, msg):  # noqa: N802 - pyflakes' name
        self.found.append(f"{filename}: {msg}")


def findings(path: Path) -> list[str]:
    """pyflakes' messages for ``path``, but for imports marked ``# noqa: F401`` (and their reuse as
    a test's fixture argument)."""
    reporter = _Collected()
    api.checkPath(str(path), reporter)
    lines = path.read_text(encoding="utf-8").splitlines()

    def marked(line: int) -> bool:
        return "noqa: F401" in lines[line - 1]

    return [str(m) for m in reporter.found if isinstance(m, str) or not (
        isinstance(m, messages.UnusedImport) and marked(m.lineno)
        or isinstance(m, messages.RedefinedWhileUnused) and marked(m.message_args[1]))]


def test_pyflakes_finds_nothing():
    found = [line for path in PYTHON for line in findings(path)]
    assert not found, "\n".join(found)


def test_the_undefined_name_check_catches_a_missing_import(tmp_path):
    # the mistake it exists for: benchmarks/bench_blocks.py called site_pages without importing it
    source = (ROOT / "benchmarks" / "bench_blocks.py").read_text(encoding="utf-8")
    broken = tmp_path / "bench_blocks.py"
    broken.write_text(source.replace("from kb.blocks import site_pages, snippet_files, snippet_sections\n", ""),
                      encoding="utf-8")
    assert [m.split(": ", 1)[1] for m in findings(broken)] == [
        "undefined name 'site_pages'", "undefined name 'snippet_files'", "undefined name 'snippet_sections'"]


def test_no_file_is_longer_than_a_sitting():
    lengths = {path: len(path.read_text(encoding="utf-8").splitlines()) for path in PYTHON + SCRIPTS}
    long = [f"{path.relative_to(ROOT)}: {n} lines" for path, n in lengths.items() if n > MAX_LINES]
    assert len(lengths) > 100 and not long, (
        f"split by what each part owns (at most {MAX_LINES} lines: a file a newcomer reads in one sitting):\n"
        + "\n".join(long))
