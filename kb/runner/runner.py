"""One block at a time, or several from threads: :class:`BlockRunner`, the runner's parent side.

This module owns starting a block's process, waiting for it, and collecting what it left: the
verdict (kb/runner/verdict.py), its stdout and stderr, and the processes it started (ended by
kb/runner/cleanup.py). Blocks start through ``multiprocessing``:

* ``forkserver`` (Linux and macOS): one server process imports torch, numpy and matplotlib once
  (kb/runner/preload.py) and forks a fresh process per block; it lives as long as the process that
  started it, so ``mkdocs serve`` pays the imports once per session;
* ``spawn`` (Windows; anywhere with ``KB_RUNNER=spawn``): a fresh interpreter per block, which
  imports what it needs.

A block's process is started before its block is known: each :meth:`BlockRunner.run` takes a
process that is ready (forked, in its own group, waiting for a job on its channel) and starts the
next one while its block runs, so a block's start is off its way (about 25 ms a block here; see
benchmarks/runner.md). A :class:`BlockRunner` may be used from several threads at once
(kb/runner/pool.py does): each run has its own process, channel and folder. Asking a process how it
ended goes through :func:`_exit_status` and :func:`_start` only, under one lock: ``multiprocessing``
reads a forkserver child's exit status once, and a second thread that reads it at the same time
(``Process.start`` asks every live child) records 255 instead (CPython gh-130895).
"""

from __future__ import annotations

import atexit
import multiprocessing
import multiprocessing.util  # registers its exit handler before ours: ours runs first
import os
import secrets as _secrets
import sys
import threading
import time
from multiprocessing.connection import wait
from pathlib import Path

from . import cleanup
from .channel import drain, send_job, send_secrets
from .child import run_block
from .verdict import BlockResult, judge, new_secrets

ROOT = Path(__file__).resolve().parent.parent.parent
MAX_OUTPUT = 200_000  # characters of stdout / stderr kept per block
BACKENDS = ("forkserver", "spawn")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
# What the forkserver imports (kb/runner/preload.py). Every block imports torch. matplotlib and PIL's PNG writer: every figure. torch._dynamo (with
# sympy, about 800 modules) is what the first torch.optim step or nn.Module call imports lazily:
# seconds per block if each block imported it again.
PRELOAD = ("psutil", "numpy", "torch", "matplotlib", "matplotlib.pyplot", "matplotlib.backends.backend_agg",
           "PIL.PngImagePlugin", "torch.optim", "torch._dynamo")


class WorkerError(RuntimeError):
    """The runner itself failed (not a block): a process could not start, or it was closed."""


def backend(name: str | None = None) -> str:
    """The start method: ``name``, else ``$KB_RUNNER`` (forkserver or spawn; ``portable`` means spawn,
    the way Windows runs), else forkserver where the platform has it, spawn on Windows."""
    name = (name if name is not None else os.environ.get("KB_RUNNER", "")).strip().lower()
    if name == "portable":
        name = "spawn"
    if not name or name == "auto":
        name = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    if name not in BACKENDS or name not in multiprocessing.get_all_start_methods():
        raise ValueError(f"KB_RUNNER must be one of {', '.join(BACKENDS)} (or portable) on this platform, not {name!r}")
    return name


def threads_from_env() -> int:
    """Torch/BLAS threads per block: ``$KB_BLOCK_THREADS``, else 1 (blocks are small, and the
    machines that build the site are shared; more threads made small-tensor blocks slower)."""
    value = os.environ.get("KB_BLOCK_THREADS", "1")
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"KB_BLOCK_THREADS must be a positive whole number, not {value!r}")
    return int(value)


# Held while multiprocessing asks a process how it ended (exitcode, join, close, and start, which asks
# every child): under forkserver the status is read once from a pipe, and a second thread reading it
# at the same time gets end-of-file and records 255, over the real status (CPython gh-130895).
_STATUS = threading.Lock()


def _start(process) -> None:
    with _STATUS:
        process.start()


def _exit_status(process, *, wait_for_end: bool = False) -> int | None:
    """The process's exit code, or None while it runs; ``wait_for_end``: until it has ended (it was
    killed, or it ended already). The lock is never held while waiting."""
    while True:
        with _STATUS:
            code = process.exitcode
        if code is not None or not wait_for_end:
            return code
        wait([process.sentinel], timeout=0.05)


def _close(process) -> None:
    """Release a process that has ended (its pipes; multiprocessing forgets it)."""
    with _STATUS:
        process.close()


def _context(name: str):
    ctx = multiprocessing.get_context(name)
    if name == "forkserver":
        ctx.set_forkserver_preload(["kb.runner.preload"])
    return ctx


class _Ready:
    """A block's process started ahead of its block: forked (or spawned), readied, waiting for its
    job on ``conn`` (kb/runner/child.py run_block)."""

    def __init__(self, ctx, backend: str):
        self.token = _secrets.token_hex(16)  # in its environment, and so in what its block starts
        self.since = time.time() - 1.0  # nothing created before this can carry the token
        self.conn, theirs = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=run_block, args=(theirs, self.token, backend), name="kb-block (ready)")
        try:
            _start(self.process)
        finally:
            theirs.close()

    def discard(self) -> None:
        _kill(self.process)
        _exit_status(self.process, wait_for_end=True)
        cleanup.end_block(self.token, self.process.pid if cleanup.POSIX else None, since=self.since)
        self.conn.close()
        _close(self.process)


class BlockRunner:
    """Runs blocks, each alone in a fresh process; :meth:`run` returns its :class:`BlockResult`."""

    def __init__(self, device: str = "cpu", *, timeout: float = 120.0, cwd: Path | str = ROOT,
                 env: dict[str, str] | None = None, threads: int | None = None, backend_name: str | None = None):
        if device not in ("cpu", "cuda"):
            raise ValueError(f"device must be 'cpu' or 'cuda', not {device!r}")
        self.device = device
        self.threads = threads if threads is not None else threads_from_env()
        self.timeout = timeout
        self.cwd = str(cwd)
        self.extra_env = dict(env or {})
        self.backend = backend(backend_name)
        self.ctx = _context(self.backend)
        self.starts = 0  # start-ups (the device probe, and with it the forkserver's imports)
        self.startup_s = 0.0
        self.jobs = 0
        self.ready_info: dict = {}
        self._running: set = set()  # processes of blocks running now
        self._ready: list[_Ready] = []  # processes started ahead, waiting for a block
        self._lock = threading.Lock()
        self._closed = False
        self._fresh_path: list[str] | None = None

    def __enter__(self) -> BlockRunner:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> None:
        """Start the forkserver (its imports) and check the device policy once, in a block: a CPU
        run really has no GPU, a CUDA run has one, and the forked process did not inherit CUDA."""
        if self.ready_info:
            return
        t0 = time.perf_counter()
        self._closed = False
        self._fresh_path = _fresh_path(self.cwd)
        want = self.device == "cuda"
        probe = self._run(
            "import os, torch\n"
            "assert not torch.cuda.is_initialized(), 'the process the blocks fork from had initialised CUDA'\n"
            f"assert torch.cuda.is_available() is {want}, "
            f"'torch.cuda.is_available() is not {want} for a {self.device} run'\n"
            "print(os.getpid(), torch.__version__)\n",
            f"<device probe: {self.device}>", {"timeout": 300.0})  # the forkserver's imports come first
        self.starts += 1
        self.startup_s = time.perf_counter() - t0
        if not probe.ok:
            raise WorkerError(probe.report())
        pid, version = probe.stdout.split()
        self.ready_info = {"ready": True, "backend": self.backend, "device": self.device, "torch": version,
                           "threads": self.threads, "probe_pid": int(pid)}

    def close(self) -> None:
        """Stop the blocks running now (their callers get :class:`WorkerError`)."""
        with self._lock:
            self._closed = True
            running = list(self._running)
            ready, self._ready = self._ready, []
        for process in running:
            _kill(process)
        for spare in ready:
            spare.discard()
        self.ready_info = {}

    def run(self, code: str, filename: str = "<block>", *, line_numbers: list[int] | None = None,
            script: bool = False, timeout: float | None = None, env: dict[str, str] | None = None,
            cwd: str | None = None, allow_exit: str | None = None) -> BlockResult:
        """Run ``code`` alone in a fresh process.

        ``filename`` names the code in tracebacks and is its ``__file__``; a real file is read for
        source lines. ``line_numbers`` (one per line of ``code``) places the lines at those line
        numbers of ``filename``. ``script=True`` runs a whole file as ``python file.py`` would (its
        directory first on sys.path); otherwise the code runs as a block copied into a fresh
        directory. Either way the working directory is a fresh, empty one (``cwd`` overrides it),
        removed afterwards. The block passes only if it ran to its last line: an exit before its
        end fails it, unless ``allow_exit`` gives the reason why ``sys.exit(0)`` is its end.
        """
        if not self.ready_info:
            self.start()
        n_lines = code.count("\n") + 1
        if line_numbers is not None and len(line_numbers) != n_lines:
            raise ValueError(f"{filename}: {len(line_numbers)} line numbers for {n_lines} lines of code")
        options = {"line_numbers": line_numbers, "script": script, "env": env or {}, "cwd": cwd,
                   "timeout": self.timeout if timeout is None else timeout}
        result = self._run(code, filename, options, allow_exit=allow_exit)
        self.jobs += 1
        return result

    def _take_ready(self) -> _Ready:
        """A process started ahead and still alive, else one started now; and the next one started."""
        with self._lock:
            if self._closed:
                raise WorkerError("the runner is closed")
            spares, self._ready = self._ready, []
        taken, kept = None, []
        for spare in spares:
            if _exit_status(spare.process) is not None:
                spare.discard()  # dead: a block may kill it
            elif taken is None:
                taken = spare
            else:
                kept.append(spare)
        with self._lock:
            self._ready.extend(kept)
        return taken or _Ready(self.ctx, self.backend)

    def _start_next(self) -> None:
        """Start the next block's process (in a thread of its own, while this block runs)."""
        try:
            ahead = _Ready(self.ctx, self.backend)
        except (OSError, EOFError, ValueError):  # the next block starts its own
            return
        with self._lock:
            if not self._closed:
                self._ready.append(ahead)
                return
        ahead.discard()

    def _run(self, code: str, filename: str, options: dict, allow_exit: str | None = None) -> BlockResult:
        limit = float(options.get("timeout") or self.timeout)
        folder = cleanup.temporary_folder("kb-block-")  # removed at exit too (Ctrl-C while the block runs)
        job = dict(options, code=code, filename=filename, timeout=limit, threads=self.threads,
                   device=self.device, fresh_path=self._fresh_path or _fresh_path(self.cwd),
                   job_dir=os.path.join(folder, "run"), out_path=os.path.join(folder, "stdout"),
                   err_path=os.path.join(folder, "stderr"))
        job["env"] = dict(self.extra_env, **(options.get("env") or {}))
        os.mkdir(job["job_dir"])
        nonce, passed_status = new_secrets()
        for attempt in (1, 2):  # a process started ahead may have died meanwhile: then one started now
            spare = None
            try:
                spare = self._take_ready() if attempt == 1 else _Ready(self.ctx, self.backend)
                process, ours = spare.process, spare.conn
                process.name = f"kb-block {filename}"
                began, t0 = time.monotonic(), time.perf_counter()
                send_job(ours, job)
                break
            except (OSError, EOFError, ValueError) as exc:
                if attempt == 2:
                    cleanup.remove_folder(folder)
                    raise WorkerError(f"could not start a process for {filename}: {exc!r}") from exc
                if spare is not None:
                    spare.discard()
        with self._lock:
            self._running.add(process)
        try:
            send_secrets(ours, nonce, passed_status)  # after the job: read by its process only at its end
        except OSError:  # it has ended already, before its end: judged below from what came back
            pass
        try:
            threading.Thread(target=self._start_next, name="kb-block-ahead", daemon=True).start()
            received, timed_out = self._wait(process, ours, t0 + limit)
            if timed_out:
                _kill(process)
            exitcode = _exit_status(process, wait_for_end=True)
            survivors = cleanup.end_block(spare.token, process.pid if cleanup.POSIX else None, since=spare.since)
            drain(ours, received)  # what it wrote until the end, also from processes it started
            wall = time.perf_counter() - t0
        finally:
            with self._lock:
                self._running.discard(process)
                closed = self._closed
            ours.close()
        _close(process)
        lines = bytes(received).split(b"\n")
        garbled = lines.pop() != b""
        fields = judge(lines, nonce, passed_status, exitcode, timed_out=timed_out,
                       timeout=limit, allow_exit=allow_exit, garbled=garbled)
        out, err = (_read_output(job[key]) for key in ("out_path", "err_path"))
        cleanup.remove_folder(folder)
        if closed and fields["status"] != "passed":
            raise WorkerError(f"the runner was closed while {filename} ran")
        if survivors and fields["status"] == "passed":
            err += f"\n[kb runner] {survivors} process(es) it started were still running and were killed\n"
        return BlockResult(filename=filename, stdout=out, stderr=err, wall=wall, began=began,
                           ended=time.monotonic(), **fields)

    @staticmethod
    def _wait(process, channel, deadline: float) -> tuple[bytearray, bool]:
        """Wait for the block's process to end, reading its channel meanwhile (a report does not
        end the wait); return what came and whether the deadline came first. The sentinel says
        that the process ended, but the exit status decides, and it is also asked every 0.5 s: a
        process the block forked can hold the sentinel's pipe open after the block's end, and under
        spawn the block could write to it (then it is asked every 50 ms)."""
        received, listening, trusted = bytearray(), True, True
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                return received, True
            ready = wait(([process.sentinel] if trusted else []) + ([channel] if listening else []),
                         timeout=min(left, 0.5) if trusted else min(left, 0.05))
            if channel in ready:
                listening = drain(channel, received)
            if _exit_status(process) is not None:
                return received, False
            if process.sentinel in ready:
                trusted = False


def _fresh_path(cwd: str) -> list[str]:
    """sys.path as a fresh interpreter has it: what a block sees (after its own folder), not what
    the imports of the process it was forked from, or the caller's (spawn), added."""
    import json
    import subprocess

    done = subprocess.run([sys.executable, "-c", "import json, sys; print(json.dumps(sys.path))"], cwd=cwd,
                          capture_output=True, text=True, check=True, timeout=60)
    return json.loads(done.stdout)


@atexit.register
def _kill_running_blocks() -> None:
    """At the build's exit (also Ctrl-C): kill the blocks still running, before multiprocessing's
    own exit handler would wait for them to end (cleanup.py then removes their temporary folders)."""
    held = _STATUS.acquire(timeout=5)  # active_children() asks every child how it ended
    try:
        children = multiprocessing.active_children()
    finally:
        if held:
            _STATUS.release()
    for process in children:
        if process.name.startswith("kb-block "):
            _kill(process)


def _kill(process) -> None:
    """The block's process and its process group, at once."""
    try:
        if cleanup.POSIX and process.pid:
            cleanup.kill_group(process.pid)
        process.kill()
    except (ValueError, OSError, AttributeError):  # not started, or closed already
        pass


def _read_output(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except FileNotFoundError:
        return ""
    return text if len(text) <= MAX_OUTPUT else text[:1000] + "\n...\n" + text[-MAX_OUTPUT:]
