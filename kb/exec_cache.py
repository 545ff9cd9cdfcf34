"""The blocks' results kept on disk between builds (kb/execute.py's :class:`ResultCache`).

An entry lives in ``.cache/kb-exec/<key>/`` (``result.json`` and a ``figures/`` folder) where the
key hashes the block's code, the torch and Python versions, the device and :data:`FORMAT`, so
unchanged code is not run again (``mkdocs serve`` stays fast) and a changed line invalidates
exactly the entries of the blocks that contain it. An entry is staged in ``.tmp-*`` and renamed
into place when complete, so a killed build never leaves a half entry that a later build serves;
an entry that is damaged anyway (cut short, a figure missing) counts as missing and is run again.

A block runs in the build's folder and could delete the cache while the build uses it. The cache
remembers the entries this build used and puts a mark file in the folder when the first block
runs: :meth:`ResultCache.damage` says what of that is gone (kb/execute.py names the block).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import re
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

# Bump when the cached result's layout or meaning changes. 2: a block passes only if it reached
# its end (format 1 results may come from blocks that exited early).
FORMAT = "2"
_KEY_RE = re.compile(r"^[0-9a-f]{32}$")


@functools.cache  # importlib.metadata scans the installed packages each time (~5 ms)
def torch_version() -> str:
    from importlib.metadata import version

    return version("torch")


@dataclass
class Result:
    key: str
    stdout: str
    stderr: str
    figures: list[dict]  # {"file": name, "alt": text}
    duration: float
    cached: bool = False


class ResultCache:
    """The entries in ``folder`` for blocks run on ``device``, and which of them this build used."""

    def __init__(self, folder: Path, device: str):
        self.folder = folder
        self.device = device
        self.used: set[str] = set()
        # a file this build puts in the folder when its first block runs: gone if the folder was
        # deleted or replaced (a folder made again can even get the same inode number)
        self.mark: Path | None = None

    def key(self, code: str, allow_exit: str | None = None) -> str:
        h = hashlib.sha256()
        for part in (FORMAT, torch_version(), platform.python_version(), self.device, code):
            h.update(part.encode("utf-8") + b"\0")
        if allow_exit is not None:  # an allowed early exit is a different result from the same code
            h.update(b"allow_exit\0" + allow_exit.encode("utf-8"))
        return h.hexdigest()[:32]

    def get(self, key: str) -> Result | None:
        """The complete entry for ``key``, or None (missing, or damaged: it is run again)."""
        try:
            data = json.loads((self.folder / key / "result.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not all((self.folder / key / "figures" / fig["file"]).is_file() for fig in data["figures"]):
            return None
        return Result(key=key, cached=True, **data)

    def put(self, key: str, data: dict, figures: Path) -> None:
        """Write the entry (``data`` and a copy of the folder ``figures``) in a staging folder, then
        rename it into place (atomic)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        staged = Path(tempfile.mkdtemp(dir=self.folder, prefix=f".tmp-{key}-"))
        try:
            shutil.copytree(figures, staged / "figures")
            (staged / "result.json").write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
            entry = self.folder / key
            if entry.exists():  # damaged (get() refused it): replaced
                shutil.rmtree(entry)
            staged.rename(entry)
        finally:
            if staged.exists():
                shutil.rmtree(staged, ignore_errors=True)

    def figure(self, key: str, name: str) -> Path:
        return self.folder / key / "figures" / name

    def remove_staged(self) -> None:
        """Remove staging folders left by a build that was killed (the build lock is held: none is in use)."""
        if self.folder.is_dir():
            for entry in self.folder.glob(".tmp-*"):
                if entry.is_dir():
                    shutil.rmtree(entry, ignore_errors=True)
                else:  # the mark of a build that was killed
                    entry.unlink(missing_ok=True)

    def put_mark(self) -> None:
        """Before the first block runs: the folder exists, with this build's mark in it."""
        if self.mark is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.mark = self.folder / f".tmp-build-{os.getpid()}-{secrets.token_hex(4)}"
            self.mark.touch()

    def remove_mark(self) -> None:
        if self.mark is not None:
            self.mark.unlink(missing_ok=True)
            self.mark = None

    def damage(self, lock=None) -> str | None:
        """What is missing of what this build keeps here (and the build lock, a
        :class:`kb.exec_store.BuildLock`), or None."""
        if lock is not None and not lock.intact():
            return (f"the build lock {lock.path} was removed or replaced: "
                    "a block must not delete the build's cache folder")
        if self.mark is not None and not self.mark.is_file():
            return (f"the cache folder {self.folder} disappeared (deleted, or replaced by another): a block "
                    "must not delete the build's cache")
        gone = sorted(key for key in self.used if not (self.folder / key / "result.json").is_file())
        if gone:
            return (f"{len(gone)} cache entr{'y' if len(gone) == 1 else 'ies'} of this build disappeared from "
                    f"{self.folder} (e.g. {gone[0]}): a block must not delete the build's cache")
        return None

    def remove_unused(self) -> list[str]:
        """Remove the entries this build did not use; return their keys."""
        removed = []
        if self.folder.is_dir():
            for entry in self.folder.iterdir():
                if entry.is_dir() and _KEY_RE.match(entry.name) and entry.name not in self.used:
                    shutil.rmtree(entry, ignore_errors=True)
                    removed.append(entry.name)
        return removed
