"""Writing a set of files under docs/ all at once, never overwriting one silently.

:func:`plan` compares the new contents (text or bytes) with what is on disk; :func:`write` puts
every changed file in place, all or nothing:

1. each new content goes to a temporary file next to its target (``.name.XXXX.tmp``), and each
   existing target is kept as a hard link (or copy) ``.name.XXXX.bak``;
2. only when all of them are written are they renamed over the targets (``os.replace``);
3. on any failure, in either phase, the targets already replaced are restored from their
   backups, new files are removed, folders made for them are removed, and every temporary file
   goes. The error raised is :class:`WriteError`, which says whether the rollback was complete and,
   if not, exactly which files are left changed.

On success the backups are removed and the written files are returned.
"""

from __future__ import annotations

import difflib
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Planned:
    path: str  # relative to docs/
    target: Path
    data: bytes
    old: bytes | None  # None: the file does not exist yet

    @property
    def text(self) -> str:
        return self.data.decode("utf-8")

    @property
    def exists(self) -> bool:
        return self.old is not None

    @property
    def changed(self) -> bool:
        return self.old != self.data

    def diff(self, docs_label: str = "docs") -> str:
        name = f"{docs_label}/{self.path}"
        try:
            old = (self.old or b"").decode("utf-8").splitlines(keepends=True)
            new = self.data.decode("utf-8").splitlines(keepends=True)
        except UnicodeDecodeError:
            return f"바이너리 파일 {name}: {len(self.old or b''):,} -> {len(self.data):,} 바이트\n"
        return "".join(difflib.unified_diff(old, new, f"{name}\t(지금 파일)", f"{name}\t(새 내용)"))


class WriteError(OSError):
    """Writing failed. ``left_changed`` lists the files that could not be put back (empty: nothing changed)."""

    def __init__(self, cause: BaseException, left_changed: list[str]):
        self.cause = cause
        self.left_changed = left_changed
        super().__init__(str(cause))


def plan(docs_dir: Path, files: dict[str, str | bytes]) -> list[Planned]:
    out = []
    for path, content in files.items():
        target = docs_dir / path
        data = content.encode("utf-8") if isinstance(content, str) else content
        old = target.read_bytes() if target.is_file() else None
        out.append(Planned(path, target, data, old))
    return out


@dataclass
class _Txn:
    made_dirs: list[Path] = field(default_factory=list)
    temps: list[tuple[Path, Planned]] = field(default_factory=list)
    backups: dict[Path, Path] = field(default_factory=dict)  # target -> backup
    replaced: list[Planned] = field(default_factory=list)

    def make_dirs(self, folder: Path) -> None:
        missing = []
        while not folder.exists():
            missing.append(folder)
            folder = folder.parent
        for d in reversed(missing):
            d.mkdir()
            self.made_dirs.append(d)

    def stage(self, p: Planned) -> None:
        self.make_dirs(p.target.parent)
        fd, tmp = tempfile.mkstemp(dir=p.target.parent, prefix=f".{p.target.name}.", suffix=".tmp")
        self.temps.append((Path(tmp), p))
        with os.fdopen(fd, "wb") as f:
            f.write(p.data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, p.target.stat().st_mode & 0o777 if p.target.exists() else 0o644)
        if p.exists:
            fd, bak = tempfile.mkstemp(dir=p.target.parent, prefix=f".{p.target.name}.", suffix=".bak")
            os.close(fd)
            os.unlink(bak)
            try:
                os.link(p.target, bak)
            except OSError:
                shutil.copy2(p.target, bak)
            self.backups[p.target] = Path(bak)

    def rollback(self) -> list[str]:
        """Undo; return the files that could not be put back."""
        left = []
        for p in reversed(self.replaced):
            try:
                if p.target in self.backups:
                    os.replace(self.backups.pop(p.target), p.target)
                else:
                    p.target.unlink()
            except OSError:
                left.append(str(p.target))
        self.cleanup()
        for d in reversed(self.made_dirs):
            try:
                d.rmdir()
            except OSError:
                pass
        return left

    def cleanup(self) -> None:
        for tmp, _ in self.temps:
            tmp.unlink(missing_ok=True)
        for bak in self.backups.values():
            bak.unlink(missing_ok=True)


def write(planned: list[Planned]) -> list[Planned]:
    """Write every changed file, all or nothing; return those written. Raises :class:`WriteError`."""
    txn = _Txn()
    try:
        for p in planned:
            if p.changed:
                txn.stage(p)
        for tmp, p in txn.temps:
            os.replace(tmp, p.target)
            txn.replaced.append(p)
    except BaseException as exc:
        left = txn.rollback()
        raise WriteError(exc, left) from exc
    txn.cleanup()
    return list(txn.replaced)
