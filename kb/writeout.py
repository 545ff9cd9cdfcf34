"""Writing a set of pages under docs/ all at once, never overwriting one silently.

:func:`plan` compares the new texts with what is on disk; :func:`write` puts every changed file
in place: each text goes to a temporary file next to its target first, and only when all of
them are written are they renamed over the targets (``os.replace``, atomic per file). If
writing a temporary file fails, the temporary files and any folders made for them are removed
and nothing under docs/ has changed.
"""

from __future__ import annotations

import difflib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Planned:
    path: str  # relative to docs/
    target: Path
    text: str
    old: str | None  # None: the file does not exist yet

    @property
    def exists(self) -> bool:
        return self.old is not None

    @property
    def changed(self) -> bool:
        return self.old != self.text

    def diff(self, docs_label: str = "docs") -> str:
        old = (self.old or "").splitlines(keepends=True)
        new = self.text.splitlines(keepends=True)
        name = f"{docs_label}/{self.path}"
        return "".join(difflib.unified_diff(old, new, f"{name}\t(지금 파일)", f"{name}\t(새 내용)"))


def plan(docs_dir: Path, files: dict[str, str]) -> list[Planned]:
    out = []
    for path, text in files.items():
        target = docs_dir / path
        old = target.read_text(encoding="utf-8") if target.is_file() else None
        out.append(Planned(path, target, text, old))
    return out


def write(planned: list[Planned]) -> list[Planned]:
    """Write every changed file; return those written."""
    todo = [p for p in planned if p.changed]
    made_dirs: list[Path] = []
    temps: list[tuple[Path, Path]] = []
    try:
        for p in todo:
            missing = []
            d = p.target.parent
            while not d.exists():
                missing.append(d)
                d = d.parent
            for d in reversed(missing):
                d.mkdir()
                made_dirs.append(d)
            fd, tmp = tempfile.mkstemp(dir=p.target.parent, prefix=f".{p.target.name}.", suffix=".tmp")
            temps.append((Path(tmp), p.target))
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
                f.write(p.text)
                f.flush()
                os.fsync(f.fileno())
    except BaseException:
        for tmp, _ in temps:
            tmp.unlink(missing_ok=True)
        for d in reversed(made_dirs):
            try:
                d.rmdir()
            except OSError:
                pass
        raise
    for tmp, target in temps:
        os.chmod(tmp, target.stat().st_mode & 0o777 if target.exists() else 0o644)
        os.replace(tmp, target)
    return todo
