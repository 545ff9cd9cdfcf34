"""Blocks side by side: :class:`BlockPool`, up to ``jobs`` blocks at once.

This module owns the parallelism: a queue and ``jobs`` daemon threads, each handing one block at a
time to a shared :class:`~kb.runner.runner.BlockRunner` (every block still alone in its own
process, folder and channel, so running them side by side changes no result). Daemon threads: a
build stopped without closing the pool (Ctrl-C) exits at once, and each block's process, which
watches the build, ends with what it started.

    with BlockPool("cpu") as pool:
        futures = [pool.submit(code, filename=name) for name, code in blocks]
        results = [future.result() for future in futures]  # BlockResult, in any order they end
"""

from __future__ import annotations

import os
import queue
import threading
from concurrent.futures import Future

from .runner import BlockRunner, WorkerError, threads_from_env
from .verdict import BlockResult


def jobs_from_env(threads: int) -> int:
    """Blocks at once: ``$KB_BLOCK_JOBS``, else as many as the CPUs this process may use hold blocks
    of ``threads`` threads, at most 4."""
    value = os.environ.get("KB_BLOCK_JOBS")
    if value is not None:
        if not value.isdigit() or int(value) < 1:
            raise ValueError(f"KB_BLOCK_JOBS must be a positive whole number, not {value!r}")
        return int(value)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(4, cpus // threads))


class BlockPool:
    """Up to ``jobs`` blocks at once (default ``$KB_BLOCK_JOBS``, else the CPUs, at most 4), each
    run as :meth:`BlockRunner.run` runs it. :meth:`close` stops the blocks still running (their
    callers get :class:`WorkerError`) and drops those not started."""

    def __init__(self, device: str = "cpu", jobs: int | None = None, **runner_options):
        self.runner = BlockRunner(device, **runner_options)
        self.device = device
        self.jobs = jobs if jobs is not None else jobs_from_env(runner_options.get("threads") or threads_from_env())
        if self.jobs < 1:
            raise ValueError(f"jobs must be at least 1, not {self.jobs}")
        self._queue: queue.SimpleQueue = queue.SimpleQueue()  # (future, code, filename, options); None: stop
        self._closed = False
        self._started = threading.Lock()
        self._threads = [threading.Thread(target=self._serve, name=f"kb-block-{n}", daemon=True)
                         for n in range(self.jobs)]
        for thread in self._threads:
            thread.start()

    def __enter__(self) -> BlockPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def submit(self, code: str, filename: str = "<block>", **options) -> Future:
        """Queue ``code``; a ``Future`` of its :class:`BlockResult` (``options`` as for :meth:`BlockRunner.run`)."""
        if self._closed:
            raise WorkerError(f"the block pool is closed; {filename} was not run")
        future: Future = Future()
        self._queue.put((future, code, filename, options))
        return future

    def _serve(self) -> None:
        while (item := self._queue.get()) is not None:
            future, code, filename, options = item
            if not future.set_running_or_notify_cancel():  # cancelled by close()
                continue
            try:
                future.set_result(self._run(code, filename, options))
            except BaseException as exc:  # noqa: BLE001 - the caller gets it from the future
                future.set_exception(exc)

    def _run(self, code: str, filename: str, options: dict) -> BlockResult:
        if self._closed:
            raise WorkerError(f"the block pool was closed before {filename} ran")
        with self._started:  # the first block starts the runner (the forkserver's imports) once
            if not self.runner.ready_info and not self._closed:
                self.runner.start()
        if self._closed:
            raise WorkerError(f"the block pool was closed before {filename} ran")
        return self.runner.run(code, filename, **options)

    def close(self) -> None:
        self._closed = True
        while True:  # blocks not started are dropped
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                item[0].cancel()
        self.runner.close()
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join()
