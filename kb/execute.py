"""Run every Python block of a page during the build and show what it printed and drew.

Under each code block a reader can copy, the page shows the block's output and figures, produced
by running exactly the code the copy button copies (:func:`kb.blocks.html_python_blocks`), alone,
in a fresh process (kb/runner/). A block that fails stops the build with the page, the block and
the location; a block passes only if it runs to its last line. The markers before a block
(``pytest.mark.skip``, ``allow_exit``, ``cuda``: read by :meth:`kb.blocks.HtmlBlock.plan`, as in
``python -m kb check``) say it is not run, may end early, or needs a CUDA GPU: a build on the
default device (cpu) shows a short note with the reason where its output would be, and one with
``KB_EXEC_DEVICE=cuda`` runs it. A malformed or unknown marker stops the build naming page and block.

Warnings and figures: a block that writes to stderr fails the build unless the comment
``<!--kb-allow-warning: 이유-->`` right before it says the warning is the point; figures are PNG files
saved into ``$SNIPPET_OUTPUT_DIR`` with alt text (``fig.savefig(path, metadata={"Description": alt})``).
What a reader sees under a block is drawn by kb/exec_output.py; the build lock (one build at a time
per checkout, ``$KB_LOCK_TIMEOUT``) and the blocks kept per page are kb/exec_store.py's.

Blocks run side by side: the page hook only starts a page's blocks, in a pool of workers
(:class:`kb.runner.BlockPool`, ``$KB_BLOCK_JOBS`` at once), leaving a placeholder where each
output goes, and MkDocs goes on reading the other pages (and running the notebooks) meanwhile;
``on_env``, once every page is read, waits for the blocks and puts their outputs in, before any
page is written or indexed. The first block that failed, in the order of the pages, stops the
build. A block that deletes the build's cache is named; when blocks ran side by side since the
cache was last found whole, all of them are named (``KB_BLOCK_JOBS=1`` names the one).

Cache: results are kept by the block's code, versions and device (kb/exec_cache.py), so unchanged
code is not run again. Entries the build did not use are removed after it, but only after a build
that ran every page with code (not under ``KB_EXECUTE=0``, not after ``--dirty`` or partial rebuilds).

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

import logging
import os
import re
import secrets
import threading
import time
from concurrent.futures import Future
from concurrent.futures import wait as futures_wait
from dataclasses import dataclass, field
from pathlib import Path

from . import figure_fonts
from .blocks import HtmlBlock, html_python_blocks, markdown_python_fences
from .exec_cache import Result, ResultCache, torch_version
from .exec_output import (allow_warning_of, copy_site_files, download_html, figure_site_path, figures_in,
                          needs_cuda_html, output_html, snippet_of)
from .exec_store import BlockIndex, BuildLock, CacheDamaged, ExecutionError, _held
from .runner import BlockPool, BlockRunner, WorkerError, cleanup

ROOT = Path(__file__).resolve().parent.parent
_BLOCK_RE = re.compile(r'<div class="language-(?:python|py|python3) highlight">.*?</pre></div>', re.S)


log = logging.getLogger("mkdocs.hooks.kb")


def _ran_between(future: Future, since: float, until: float) -> bool:
    """Whether the block of ``future`` ran at some time between ``since`` and ``until`` (monotonic)."""
    if future.running():
        return True
    if not future.done() or future.cancelled() or future.exception() is not None:
        return False
    result = future.result()
    return result.began <= until and result.ended >= since


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
    and the cache (``cache``, in ``cache_dir``). ``runner`` (a :class:`BlockRunner` given by the
    caller) runs each block at once instead, one at a time."""

    cache_dir: Path
    device: str = "cpu"
    enabled: bool = True
    docs_dir: Path = ROOT / "docs"
    runner: BlockRunner | None = None
    pool: BlockPool | None = None
    jobs: int | None = None  # blocks at once (None: $KB_BLOCK_JOBS, else the CPUs; kb.runner.BlockPool)
    lock: BuildLock | None = None
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
    guard: threading.Lock = field(default_factory=threading.Lock)  # for the checks in the pool's threads

    def __post_init__(self):
        self.cache = ResultCache(self.cache_dir, self.device)

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
        executor.cache.remove_staged()
        return executor

    def key(self, code: str, allow_exit: str | None = None) -> str:
        """The block's key in the cache (on this executor's device)."""
        return self.cache.key(code, allow_exit)

    def run(self, code: str, label: str, allow_exit: str | None = None) -> Result:
        """The block's result: from the cache, or run now (and cached)."""
        started = self._start(code, label, allow_exit)
        return started if isinstance(started, Result) else self._finish(started)

    def _start(self, code: str, label: str, allow_exit: str | None = None, where: str = "") -> Result | _Pending:
        """The cached result, or the block started: in the pool, so that it runs while the build goes
        on (and beside other blocks), or at once in the given ``runner``."""
        key = self.key(code, allow_exit)
        hit = self.cache.get(key)
        if hit is not None:
            with self.guard:
                self.cache.used.add(key)
            self.hits += 1
            return hit
        if key in self.started and self.started[key].result is None:  # the same code, on another page, running
            return self.started[key]
        if self.cache.mark is None:  # the first block to run: the folder a block could delete, checked after each
            self.cache.put_mark()
            self.intact_at = time.monotonic()
            try:  # NanumGothic with a minus, made once here rather than by blocks side by side
                figure_fonts.ensure()
            except figure_fonts.FigureFontError as exc:
                raise ExecutionError(str(exc)) from None
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
            damage = self.cache.damage(self.lock)
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
                    self.cache.put(pending.key, data, pending.out)
                    self.cache.used.add(pending.key)
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

    def close(self) -> None:
        if self.pool is not None:  # blocks still running (a build that failed) are stopped
            self.pool.close()
            self.pool = None
        for pending in self.started.values():
            cleanup.remove_folder(pending.out)
        self.started, self.deferred = {}, []
        self.cache.remove_mark()
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
        if not self.enabled or not self.cache_dir.is_dir():
            return []
        missing = self.pages_not_run(docs_dir or self.docs_dir)
        if missing:
            log.info("kb: cache kept: %d page(s) with code were not run in this build (%s)",
                     len(missing), ", ".join(missing[:3]))
            return []
        return self.cache.remove_unused()

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
            snippet = snippet_of(span.group(0), f"docs/{src} block {block.index}", ROOT)
            extra = download_html(snippet, page_url) if snippet else ""
            if snippet:
                self.snippets_used.add(snippet)
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
            return self.cache.figure(result.key, name)

        for fig in result.figures:
            self.figures_out[figure_site_path(result.key, fig["file"])] = (figure_file(fig["file"]), label)
        return output_html(result.key, result.stdout, result.stderr, result.figures, label=label, where=where,
                           allow_warning=allow_warning, device=self.device, torch=torch_version(),
                           page_url=page_url, figure_file=figure_file)

    def write_site_files(self, site_dir: Path) -> None:
        """Copy the figures and the included snippet files into the built site."""
        copy_site_files(site_dir, self.figures_out, self.snippets_used, ROOT)
