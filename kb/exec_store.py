"""What a build keeps beside the blocks' results (kb/exec_cache.py; kb/execute.py uses both): the
lock that lets one build at a time use the cache and the site, and each page's Python blocks kept
from the last build (so an unchanged page is not parsed again); and the errors a build stops with.

Lock: a build holds ``<cache>.lock`` (``.cache/kb-exec.lock``) from its start to its end, for the
cache and the site output. A second build on the same checkout logs that it waits, and waits up to
``$KB_LOCK_TIMEOUT`` seconds (default 900), then stops with an error naming the build that holds it.

No MkDocs import but its PluginError (so that MkDocs shows the message, not a traceback).
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import logging
import os
import sys
import tempfile
from pathlib import Path

import orjson

from mkdocs.exceptions import PluginError

from .blocks import HtmlBlock, html_python_blocks

log = logging.getLogger("mkdocs.hooks.kb")


class ExecutionError(PluginError):
    """A block failed during the build; the message names page, block and location.
    (A PluginError, so that MkDocs shows the message, not a traceback, from any hook.)"""


class CacheDamaged(ExecutionError):
    """A block deleted what the build keeps in its cache; the message names the block (or the blocks
    that ran side by side), whichever block's result was being taken."""


class BuildLock:
    """An exclusive lock on ``path`` (``filelock``: flock on Linux and macOS, msvcrt.locking on
    Windows; the system drops it when its holder dies), held by one build at a time; the holder's
    pid is in ``<path>.owner``. A second build waits, saying so, then gives up."""

    def __init__(self, path: Path, timeout: float):
        from filelock import FileLock, Timeout

        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.owner = path.with_name(path.name + ".owner")
        self.lock = FileLock(str(path), is_singleton=False, thread_local=False)
        try:
            self.lock.acquire(timeout=0)
        except Timeout:
            log.info("kb: another build (pid %s) is using %s; waiting up to %.0f s for it to finish",
                     self.holder(), self.path.with_suffix(""), timeout)
            try:
                self.lock.acquire(timeout=timeout, poll_interval=0.2)
            except Timeout:
                raise ExecutionError(
                    f"{self.path}: another build (pid {self.holder()}) still holds the lock after "
                    f"{timeout:.0f} s; wait for it to end (or set KB_LOCK_TIMEOUT)") from None
        self.inode = os.stat(path).st_ino
        self.owner.write_text(f"{os.getpid()}\n", encoding="utf-8")

    def intact(self) -> bool:
        """Whether ``path`` is still the file this lock holds (a deleted lock no longer excludes)."""
        try:
            return os.stat(self.path).st_ino == self.inode
        except FileNotFoundError:
            return False

    def holder(self) -> str:
        try:
            return self.owner.read_text(encoding="utf-8").strip() or "?"
        except OSError:
            return "?"

    def close(self) -> None:
        if self.lock.is_locked:
            self.lock.release(force=True)


_held: list[BuildLock] = []  # the lock this process holds for its current build


class BlockIndex:
    """The Python blocks of each page's HTML, kept from one build to the next.

    Finding a page's blocks means parsing all of its HTML (kb.blocks.html_python_blocks);
    a page that did not change is not parsed again. Entries are keyed by the HTML's hash and
    live in one file beside the code cache (``.cache/kb-blocks.json``) that holds what the
    last build used, and nothing from a parser whose source has changed since.
    """

    def __init__(self, path: Path):
        self.path = path
        self.version = hashlib.sha256(inspect.getsource(sys.modules[html_python_blocks.__module__])
                                      .encode("utf-8")).hexdigest()[:16]
        self.old = self._read()
        self.new: dict[str, list[dict]] = {}
        self.parsed = 0  # pages parsed in this build
        self.reused = 0  # pages whose blocks came from the last build

    def _read(self) -> dict[str, list[dict]]:
        try:
            data = orjson.loads(self.path.read_bytes())
        except (OSError, ValueError):  # (orjson.JSONDecodeError is a ValueError)
            return {}
        return data.get("pages", {}) if isinstance(data, dict) and data.get("parser") == self.version else {}

    def blocks(self, page_html: str) -> list[HtmlBlock]:
        key = hashlib.sha256(page_html.encode("utf-8")).hexdigest()[:32]
        found = self.new.get(key)
        if found is None:  # (a page without blocks is [], found as well: it was parsed every build)
            found = self.old.get(key)
            if found is None:
                self.parsed += 1
                found = [dataclasses.asdict(b) for b in html_python_blocks(page_html)]
            else:
                self.reused += 1
        self.new[key] = found
        return [HtmlBlock(**b) for b in found]

    def save(self, keep_old: bool = False) -> None:
        """What this build used; with ``keep_old`` (a build that read some pages only, kb/partial.py)
        the last build's entries too."""
        pages = {**self.old, **self.new} if keep_old else self.new
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".tmp-blocks-")
        with os.fdopen(fd, "wb") as f:  # orjson: a 500-page site's index on every `mkdocs serve` rebuild
            f.write(orjson.dumps({"parser": self.version, "pages": pages}))
        os.replace(tmp, self.path)
