"""Run every Python block of a page during the build and show what it printed and drew.

Under each code block a reader can copy, the page shows the block's output and figures,
produced by running exactly the code the copy button copies (see
:func:`kb.blocks.html_python_blocks`), alone, in a fresh child of one warm worker per
build. A block that fails stops the build with the page, the block and the location. A
block preceded by ``<!--pytest.mark.skip(reason="...")-->`` is not run and shows no output.
A block passes only if it runs to its last line; one that ends early on purpose (``sys.exit(0)``)
says why with ``<!--pytest.mark.allow_exit(reason="...")-->``. A block that needs a CUDA GPU
(``torch.zeros(1, device="cuda")``, a CUDA-only kernel) is marked
``<!--pytest.mark.cuda(reason="...")-->``: a build on the default device (cpu) does not run it and
shows, where its output would be, a short note that it needs a CUDA GPU, with the reason; a build
with ``KB_EXEC_DEVICE=cuda`` runs it like any other block. The marker is read by
:meth:`kb.blocks.HtmlBlock.plan`, as in the guard (tests/test_rendered_blocks.py) and
``python -m kb check``; a malformed or unknown marker stops the build naming page and block.

Warnings and figures: a block that writes to stderr fails the build unless the comment
``<!--kb-allow-warning: 이유-->`` right before it says the warning is the point; figures are PNG files
saved into ``$SNIPPET_OUTPUT_DIR`` with alt text (``fig.savefig(path, metadata={"Description": alt})``).
What a reader sees under a block is drawn by kb/exec_output.py; the build lock and the blocks kept per
page are kb/exec_store.py's.

Blocks run side by side: the page hook only starts a page's blocks, in a pool of workers
(:class:`kb.runner.BlockPool`, ``$KB_BLOCK_JOBS`` at once), leaving a placeholder where each
output goes, and MkDocs goes on reading the other pages (and running the notebooks) meanwhile;
``on_env``, once every page is read, waits for the blocks and puts their outputs in, before any
page is written or indexed. The first block that failed, in the order of the pages, stops the
build. A block that deletes the build's cache is named; when blocks ran side by side since the
cache was last found whole, all of them are named (``KB_BLOCK_JOBS=1`` names the one).

Cache: results live in ``.cache/kb-exec/<key>/`` where the key hashes the block's code, the
torch and Python versions, the device and this module's format version, so unchanged code
is not re-run (``mkdocs serve`` stays fast) and a changed line invalidates exactly the
entries of the blocks that contain it. An entry is staged in ``.tmp-*`` and renamed into place
when complete, so a killed build never leaves a half entry that a later build serves. Entries
the build did not use are removed after it, but only after a build that ran every page with
code (not under ``KB_EXECUTE=0``, not after ``--dirty`` or partial rebuilds).

Lock: a build holds ``<cache>.lock`` (``.cache/kb-exec.lock``) from its start to its end, for
the cache and the site output. A second build on the same checkout logs that it waits, and
waits up to ``$KB_LOCK_TIMEOUT`` seconds (default 900), then stops with an error naming the
build that holds the lock.

Environment:
``KB_EXECUTE=0``          build without running anything, notebooks included (kb/plugin.py; no
                          outputs on the pages; the notes of cuda blocks stay, as they say nothing
                          about a run);
``KB_EXEC_DEVICE=cuda``   run the blocks on the GPU, cuda-marked ones too (default: cpu, so the site
                          is reproducible);
``KB_EXEC_CACHE=DIR``     where the cache lives (default: ``.cache/kb-exec`` in the project);
``KB_LOCK_TIMEOUT=S``     how long a build waits for another build's lock (default 900 s);
``KB_BLOCK_THREADS=N``    torch/BLAS threads per block (default 1; kb/runner/);
``KB_BLOCK_JOBS=N``       blocks at once, one worker each (default: the CPUs / threads, at most 4).
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
import logging
import os
import platform
import posixpath
import re
import secrets
import shutil
import tempfile
import threading
import time
from concurrent.futures import Future
from concurrent.futures import wait as futures_wait
from dataclasses import dataclass, field
from pathlib import Path

from . import figure_fonts
from .blocks import HtmlBlock, html_python_blocks, markdown_python_fences
from .exec_output import allow_warning_of, figure_site_path, figures_in, needs_cuda_html, output_html
from .exec_store import BlockIndex, BuildLock, CacheDamaged, ExecutionError, _held
from .runner import BlockPool, BlockRunner, WorkerError, cleanup

# Bump when the cached result's layout or meaning changes. 2: a block passes only if it reached
# its end (format 1 results may come from blocks that exited early).
FORMAT = "2"
ROOT = Path(__file__).resolve().parent.parent
_BLOCK_RE = re.compile(r'<div class="language-(?:python|py|python3) highlight">.*?</pre></div>', re.S)
_TITLE_RE = re.compile(r'<span class="filename">([^<]*)</span>')
SNIPPET_DIR = "snippets"


log = logging.getLogger("mkdocs.hooks.kb")
_KEY_RE = re.compile(r"^[0-9a-f]{32}$")


def _ran_between(future: Future, since: float, until: float) -> bool:
    """Whether the block of ``future`` ran at some time between ``since`` and ``until`` (monotonic)."""
    if future.running():
        return True
    if not future.done() or future.cancelled() or future.exception() is not None:
        return False
    result = future.result()
    return result.began <= until and result.ended >= since


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


@dataclass
class _Pending:
    """A block started in the pool (or run at once by a given runner): its result comes in :meth:`Executor._finish`."""

    key: str
    label: str
    out: Path  # its $SNIPPET_OUTPUT_DIR, outside the cache
    future: Future
    where: str = ""  # "docs/a.md: Python block 2 (first line: '...')", for messages
    checked: bool = False  # the cache was checked after it ended (Executor._after_block)
    result: Result | None = None  # once finished (the same code on two pages runs once)


@dataclass
class _Placed:
    """Where a started block's output goes on its page (a placeholder until it ends)."""

    pending: _Pending
    src: str
    block: HtmlBlock
    page_url: str
    extra: str  # the download link of a snippet block, after the output
    allow_warning: str | None = None  # the reason of its kb-allow-warning comment
    page: object = None  # the build's Page, whose content holds ``marker``
    marker: str = ""


@dataclass
class Executor:
    """One build's execution state: the blocks' pool of workers (started on the first cache miss)
    and the cache. ``runner`` (a :class:`BlockRunner` given by the caller) runs each block at once
    instead, one at a time."""

    cache_dir: Path
    device: str = "cpu"
    enabled: bool = True
    docs_dir: Path = ROOT / "docs"
    runner: BlockRunner | None = None
    pool: BlockPool | None = None
    jobs: int | None = None  # blocks at once (None: $KB_BLOCK_JOBS, else the CPUs; kb.runner.BlockPool)
    lock: BuildLock | None = None
    used: set[str] = field(default_factory=set)
    figures_out: dict[str, tuple[Path, str]] = field(default_factory=dict)  # site path -> (cached file, label)
    snippets_used: set[str] = field(default_factory=set)
    pages_run: set[str] = field(default_factory=set)  # pages whose blocks were all run or served
    index: BlockIndex | None = None  # the blocks of unchanged pages, from the last build
    runs: int = 0
    hits: int = 0
    deferred: list[_Placed] = field(default_factory=list)  # outputs still to put into their pages
    started: dict[str, _Pending] = field(default_factory=dict)  # by key, this build
    token: str = field(default_factory=lambda: secrets.token_hex(8))  # makes the placeholders unique
    damage: str | None = None  # what a block did to the cache, found when it ended (raised by _finish)
    intact_at: float = 0.0  # time.monotonic() when the cache was last found intact
    # a file this build puts in the cache folder when its first block runs: gone if the folder was
    # deleted or replaced (a folder made again can even get the same inode number)
    cache_mark: Path | None = None
    guard: threading.Lock = field(default_factory=threading.Lock)  # for the checks in the pool's threads

    @classmethod
    def from_env(cls, project: Path) -> Executor:
        """The build's executor, configured from the environment, holding the build lock."""
        cache = Path(os.environ.get("KB_EXEC_CACHE") or project / ".cache" / "kb-exec")
        device = os.environ.get("KB_EXEC_DEVICE", "cpu")
        if device not in ("cpu", "cuda"):
            raise ExecutionError(f"KB_EXEC_DEVICE must be cpu or cuda, not {device!r}")
        timeout = os.environ.get("KB_LOCK_TIMEOUT", "900")
        try:
            seconds = float(timeout)
        except ValueError:
            raise ExecutionError(f"KB_LOCK_TIMEOUT must be a number of seconds, not {timeout!r}") from None
        while _held:  # an earlier build of this process (mkdocs serve) that did not close
            _held.pop().close()
        executor = cls(cache_dir=cache, device=device, enabled=os.environ.get("KB_EXECUTE", "1") != "0",
                       docs_dir=project / "docs")
        executor.lock = BuildLock(cache.with_name(cache.name + ".lock"), seconds)
        _held.append(executor.lock)
        executor.index = BlockIndex(cache.with_name("kb-blocks.json"))
        executor.remove_staged()
        return executor

    def key(self, code: str, allow_exit: str | None = None) -> str:
        h = hashlib.sha256()
        for part in (FORMAT, torch_version(), platform.python_version(), self.device, code):
            h.update(part.encode("utf-8") + b"\0")
        if allow_exit is not None:  # an allowed early exit is a different result from the same code
            h.update(b"allow_exit\0" + allow_exit.encode("utf-8"))
        return h.hexdigest()[:32]

    def cached(self, key: str) -> Result | None:
        """The complete cache entry for ``key``, or None (missing, or damaged: it is run again)."""
        try:
            data = json.loads((self.cache_dir / key / "result.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not all((self.cache_dir / key / "figures" / fig["file"]).is_file() for fig in data["figures"]):
            return None
        return Result(key=key, cached=True, **data)

    def run(self, code: str, label: str, allow_exit: str | None = None) -> Result:
        """The block's result: from the cache, or run now (and cached)."""
        started = self._start(code, label, allow_exit)
        return started if isinstance(started, Result) else self._finish(started)

    def _start(self, code: str, label: str, allow_exit: str | None = None, where: str = "") -> Result | _Pending:
        """The cached result, or the block started: in the pool, so that it runs while the build goes
        on (and beside other blocks), or at once in the given ``runner``."""
        key = self.key(code, allow_exit)
        hit = self.cached(key)
        if hit is not None:
            with self.guard:
                self.used.add(key)
            self.hits += 1
            return hit
        if key in self.started and self.started[key].result is None:  # the same code, on another page, running
            return self.started[key]
        if self.cache_mark is None:  # the first block to run: the folder a block could delete, checked after each
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            self.cache_mark = self.cache_dir / f".tmp-build-{os.getpid()}-{secrets.token_hex(4)}"
            self.cache_mark.touch()
            self.intact_at = time.monotonic()
            figure_fonts.ensure()  # NanumGothic with a minus, made once here rather than by blocks side by side
        out = Path(cleanup.temporary_folder("kb-exec-out-"))  # outside the cache; removed at exit too
        options = {"filename": label, "env": {"SNIPPET_OUTPUT_DIR": str(out)}, "allow_exit": allow_exit}
        pending = _Pending(key, label, out, Future(), where or label)
        with self.guard:
            self.started[key] = pending
        if self.runner is not None:
            try:
                pending.future.set_result(self.runner.run(code, **options))
            except Exception as exc:  # noqa: BLE001 - raised where the result is taken
                pending.future.set_exception(exc)
        else:
            if self.pool is None:
                self.pool = BlockPool(self.device, jobs=self.jobs)
            pending.future = self.pool.submit(code, **options)
        pending.future.add_done_callback(lambda future: self._after_block(pending))  # at once if done already
        return pending

    def _after_block(self, ended: _Pending, again: bool = False) -> None:
        """When a block ends (in the pool's thread): is the cache still whole? A block that deleted
        entries of this build, the build lock or the cache folder is named by _finish; where blocks
        ran side by side, every block that ran since the cache was last found whole. ``again``
        looks once more at a block already looked at."""
        with self.guard:
            if self.damage is not None or (ended.checked and not again):
                return
            ended.checked = True
            now = time.monotonic()
            damage = self._cache_damage()
            if damage is None:
                self.intact_at = now
                return
            suspects = [p for p in self.started.values()
                        if p is ended or _ran_between(p.future, self.intact_at, now)]
            if len(suspects) == 1:
                self.damage = f"{suspects[0].where} failed during the build:\n{suspects[0].label}: while it ran, {damage}"
            else:
                names = "\n".join(f"  {p.where}" for p in suspects)
                self.damage = (f"while these {len(suspects)} Python blocks ran side by side, {damage}; one of them did "
                               f"it (KB_BLOCK_JOBS=1 runs one block at a time and names it):\n{names}")

    def _finish(self, pending: _Pending) -> Result:
        """Wait for a started block, fail the build if it failed, and cache its result."""
        if pending.result is not None:
            return pending.result
        label = pending.label
        try:
            try:
                result = pending.future.result()
            except WorkerError as exc:
                raise ExecutionError(f"{label}: the block runner's worker failed: {exc}") from None
            self.runs += 1
            if not result.ok:
                raise ExecutionError(result.report(label))
            self._raise_damage(pending)
            try:
                figures = figures_in(pending.out, label)
                data = {"stdout": result.stdout, "stderr": result.stderr, "figures": figures,
                        "duration": round(result.duration, 3)}
                with self.guard:
                    self._store(pending.key, data, pending.out)
                    self.used.add(pending.key)
            except OSError as exc:
                # a block still running may be deleting the cache as this one was written: once every
                # started block has ended, the deletion is whole and the cache is looked at again
                futures_wait([p.future for p in list(self.started.values()) if p.future is not None])
                self._after_block(pending, again=True)
                self._raise_damage(pending)
                raise ExecutionError(f"{label}: ran, but its output could not be kept ({exc}); "
                                     "did the block remove its output folder $SNIPPET_OUTPUT_DIR?") from None
        finally:
            cleanup.remove_folder(pending.out)
        pending.result = Result(key=pending.key, **data)
        return pending.result

    def _raise_damage(self, pending: _Pending) -> None:
        # the check after its end, now if the pool's thread has not come to it yet (result() returns
        # before the callbacks run): before anything is written to the cache again
        self._after_block(pending)
        if self.damage is not None:
            raise CacheDamaged(self.damage)

    def _cache_damage(self) -> str | None:
        """What is missing of what this build keeps in the cache, or None."""
        if self.lock is not None and not self.lock.intact():
            return (f"the build lock {self.lock.path} was removed or replaced: "
                    "a block must not delete the build's cache folder")
        gone = sorted(key for key in self.used if not (self.cache_dir / key / "result.json").is_file())
        replaced = self.cache_mark is not None and not self.cache_mark.is_file()
        if replaced:
            return (f"the cache folder {self.cache_dir} disappeared (deleted, or replaced by another): a block "
                    "must not delete the build's cache")
        if gone:
            return (f"{len(gone)} cache entr{'y' if len(gone) == 1 else 'ies'} of this build disappeared from "
                    f"{self.cache_dir} (e.g. {gone[0]}): a block must not delete the build's cache")
        return None

    def _store(self, key: str, data: dict, out: Path) -> None:
        """Write the entry in a staging folder, then rename it into place (atomic)."""
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        staged = Path(tempfile.mkdtemp(dir=self.cache_dir, prefix=f".tmp-{key}-"))
        try:
            shutil.copytree(out, staged / "figures")
            (staged / "result.json").write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
            entry = self.cache_dir / key
            if entry.exists():  # damaged (cached() refused it): replaced
                shutil.rmtree(entry)
            staged.rename(entry)
        finally:
            if staged.exists():
                shutil.rmtree(staged, ignore_errors=True)

    def remove_staged(self) -> None:
        """Remove staging folders left by a build that was killed (the lock is held: none is in use)."""
        if self.cache_dir.is_dir():
            for entry in self.cache_dir.glob(".tmp-*"):
                if entry.is_dir():
                    shutil.rmtree(entry, ignore_errors=True)
                else:  # the mark of a build that was killed
                    entry.unlink(missing_ok=True)

    def close(self) -> None:
        if self.pool is not None:  # blocks still running (a build that failed) are stopped
            self.pool.close()
            self.pool = None
        for pending in self.started.values():
            cleanup.remove_folder(pending.out)
        self.started, self.deferred = {}, []
        if self.cache_mark is not None:
            self.cache_mark.unlink(missing_ok=True)
            self.cache_mark = None
        if self.runner is not None:
            self.runner.close()
            self.runner = None
        if self.lock is not None:
            self.lock.close()
            if self.lock in _held:
                _held.remove(self.lock)
            self.lock = None

    def pages_not_run(self, docs_dir: Path) -> list[str]:
        """Pages with Python code in ``docs_dir`` whose blocks this build did not run."""
        missing = []
        for md in sorted(docs_dir.rglob("*.md")):
            src = md.relative_to(docs_dir).as_posix()
            if src not in self.pages_run and markdown_python_fences(md.read_text(encoding="utf-8")):
                missing.append(src)
        return missing

    def evict_unused(self, docs_dir: Path | None = None) -> list[str]:
        """Remove cache entries that this build did not use; return their keys. Only after a build
        that ran every page with code: a build with ``KB_EXECUTE=0``, or one that rebuilt some
        pages only, does not know what the site uses, and removes nothing."""
        removed = []
        if not self.enabled or not self.cache_dir.is_dir():
            return removed
        missing = self.pages_not_run(docs_dir or self.docs_dir)
        if missing:
            log.info("kb: cache kept: %d page(s) with code were not run in this build (%s)",
                     len(missing), ", ".join(missing[:3]))
            return removed
        for entry in self.cache_dir.iterdir():
            if entry.is_dir() and _KEY_RE.match(entry.name) and entry.name not in self.used:
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry.name)
        return removed

    # -- pages -------------------------------------------------------------------------

    def process_page(self, page_html: str, src: str, page_url: str, page=None) -> str:
        """Insert output (and download links) under every runnable Python block of a page.

        With ``page`` (the build's Page, in ``on_page_content``) a block that must run is only
        started, and a placeholder stands where its output goes: :meth:`finish` (``on_env``, once
        every page is read) waits for the blocks and puts their outputs into ``page.content``. So
        the pool runs the blocks of many pages at once while MkDocs reads the rest. Without it,
        the page comes back complete."""
        spans = list(_BLOCK_RE.finditer(page_html))
        blocks = self.index.blocks(page_html) if self.index is not None else html_python_blocks(page_html)
        if len(spans) != len(blocks):
            raise ExecutionError(f"docs/{src}: found {len(blocks)} Python blocks but could place {len(spans)}")
        pieces, last, waiting = [], 0, []
        for span, block in zip(spans, blocks):
            pieces.append(page_html[last : span.end()])
            last_end, last = last, span.end()
            try:
                action, reason = block.plan(self.device)
            except ValueError as exc:
                raise ExecutionError(f"docs/{src} block {block.index}: {exc}") from None
            allow_warning = allow_warning_of(page_html[last_end:span.start()], block, src)
            title = _TITLE_RE.search(span.group(0))
            snippet = html.unescape(title.group(1)).strip() if title else ""
            extra = ""
            if snippet.startswith(SNIPPET_DIR + "/") and snippet.endswith(".py"):
                if not (ROOT / snippet).is_file():
                    raise ExecutionError(f"docs/{src} block {block.index}: title names {snippet}, which does not exist")
                self.snippets_used.add(snippet)
                href = posixpath.relpath(snippet, page_url.rstrip("/") or ".") if page_url else snippet
                name = posixpath.basename(snippet)
                extra = (f'<p class="kb-download"><a href="{html.escape(href)}" download="{html.escape(name)}">'
                         f"{html.escape(name)} 내려받기</a> (전체 프로그램)</p>")
            if action == "needs_cuda":
                pieces.append(needs_cuda_html(reason, self.device) + extra)
                continue
            if action == "skip" or not self.enabled:
                pieces.append(extra)
                continue
            label = f"<docs/{src} block {block.index}>"
            where = f"docs/{src}: Python block {block.index} (first line: {block.first_line!r})"
            started = self._start(block.code, label, allow_exit=reason, where=where)
            if isinstance(started, Result):
                pieces.append(self._output_html(started, page_url, label, where, allow_warning) + extra)
                continue
            waiting.append((len(pieces), _Placed(started, src, block, page_url, extra, allow_warning)))
            pieces.append("")
        pieces.append(page_html[last:])
        defer = bool(waiting) and page is not None and self.runner is None
        for slot, placed in waiting:
            if defer:
                placed.page, placed.marker = page, f"<!--kb-output {self.token} {len(self.deferred)}-->"
                pieces[slot] = placed.marker
                self.deferred.append(placed)
            else:
                pieces[slot] = self._placed_html(placed)
        if self.enabled and not defer:  # a deferred page counts once finish() put its outputs in
            self.pages_run.add(src)
        return "".join(pieces)

    def finish(self) -> None:
        """Put the output of every block started by :meth:`process_page` into its page, in the order
        of the build; the first block that failed, in that order, stops the build."""
        deferred, self.deferred = self.deferred, []
        for placed in deferred:
            output = self._placed_html(placed)
            content = placed.page.content
            if content is None or content.count(placed.marker) != 1:
                raise ExecutionError(f"docs/{placed.src}: the output of Python block {placed.block.index} has "
                                     "no single place left on the page (a plugin changed the page after kb)")
            placed.page.content = content.replace(placed.marker, output)
        for placed in deferred:
            self.pages_run.add(placed.src)

    def _placed_html(self, placed: _Placed) -> str:
        try:
            result = self._finish(placed.pending)
        except CacheDamaged:
            raise  # names the block that did it, not necessarily this one
        except ExecutionError as exc:
            raise ExecutionError(f"docs/{placed.src}: Python block {placed.block.index} "
                                 f"(first line: {placed.block.first_line!r}) failed during the build:\n{exc}") from None
        where = f"docs/{placed.src}: Python block {placed.block.index} (first line: {placed.block.first_line!r})"
        return self._output_html(result, placed.page_url, placed.pending.label, where, placed.allow_warning) + placed.extra

    def _output_html(self, result: Result, page_url: str, label: str, where: str = "",
                     allow_warning: str | None = None) -> str:
        """The output under a block (kb/exec_output.py); its figures are copied by write_site_files."""
        def figure_file(name: str) -> Path:
            return self.cache_dir / result.key / "figures" / name

        for fig in result.figures:
            self.figures_out[figure_site_path(result.key, fig["file"])] = (figure_file(fig["file"]), label)
        return output_html(result.key, result.stdout, result.stderr, result.figures, label=label, where=where,
                           allow_warning=allow_warning, device=self.device, torch=torch_version(),
                           page_url=page_url, figure_file=figure_file)

    def write_site_files(self, site_dir: Path) -> None:
        """Copy the figures and the included snippet files into the built site."""
        for site_path, (source, label) in self.figures_out.items():
            dest = site_dir / site_path
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                shutil.copyfile(source, dest)
            except FileNotFoundError:
                raise ExecutionError(f"{label}: its figure {source} disappeared from the cache during the build "
                                     "(did a block delete the cache?); build again") from None
        for snippet in sorted(self.snippets_used):
            dest = site_dir / snippet
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ROOT / snippet, dest)
