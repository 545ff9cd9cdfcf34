"""Run Python code blocks alone, fast: one warm worker per device, one fork per block.

A fresh ``python -c "import torch"`` costs about a second; the snippets and the site's code blocks
number in the dozens, and each must run alone (fresh globals, fresh process-wide state: default
dtype, RNG, matplotlib figures). So a :class:`BlockRunner` starts one worker process per device
that imports torch and numpy once, then for every block forks a child that runs
the code with fresh globals (``__name__ == "__main__"``, ``__file__`` set), its stdout and stderr
captured, and reports status, output, traceback and duration back over a pipe as one JSON line.

The worker never touches CUDA (forking after CUDA is initialised breaks the children); children
may. ``device="cpu"`` hides the GPUs from the worker and its children (``CUDA_VISIBLE_DEVICES=""``),
so code that picks its device with ``torch.cuda.is_available()`` runs on the CPU. While it waits
(for a job, or for a block to end: the block runs on another core) the worker imports, a module at
a time, what blocks import later or lazily (matplotlib; ``torch._dynamo``, which the first optimizer
step pulls in: about 800 modules), then moves its memory into huge pages (a fork and an exit cost
a third as much). A block sent before those imports end waits for them rather than import them
again in its own process. From then on the worker forks each block's process ahead of time, while
the block before it runs, and that process readies itself (its own process group, no descriptor of
the worker's, its torch threads) and waits for its job; so a block's fork and start are off its
way. Its exit is not: the worker answers once the process has exited, as its exit status is part
of the verdict (below). A block sees ``sys.path`` as a fresh interpreter has it, whatever the
worker's imports added. It freezes what it imported (``gc.freeze()``: a child's cyclic collections neither scan nor copy the
worker's objects; about 15 % of the blocks' time on this site), and each block runs with
``$KB_BLOCK_THREADS`` torch/BLAS threads (default 1).

A block passes only if it ran to its last line, and the worker, not the block's process, decides
that it did, from two things the block's code cannot produce before its last statement ran. After
the fork the worker writes two fresh secrets into the block's report pipe, a nonce and the exit
status that means passed (2-255), then sends the job. They stay there, unread, while the block runs
(the process holds the pipe as one read-write descriptor at a random high number, closed on exec):
nothing of them is in the process's memory. Only the lines after ``exec`` returned (inline, not a
function a block could call) read both, send ``passed`` signed with the nonce and exit with that
status; if the code raised, the process reads
the nonce alone, sends what it raised and exits with 1. The worker waits for the exit: passed is
one signed report that says so, then the exit with that status. So an assert or any exception, an
early ``os._exit()`` (any status), ``sys.exit(0)`` mid-block, a report sent early (then sleeping,
raising or exiting), the runner's frames and closures found with ``sys._getframe`` or ``gc`` and
what they hold rewritten or called, ``json``/``os`` patched, a fork whose copy ends normally: each
fails the block (tests/test_runner_verdict.py). ``sys.exit(0)`` passes only where the caller
passes ``allow_exit="reason"`` (a page marks such a block
``<!--pytest.mark.allow_exit(reason="...")-->``), which the worker keeps and the block never sees.
Anything else on the report pipe fails the block. It is not a sandbox: the block runs with the
runner's privileges in its process, so code written against this runner can still forge a pass:
by reading the secrets from the report pipe before its end (its descriptor is a local of the
runner's frame, or found by trying every descriptor), by replacing a function of this module
that the failure path calls, by rewriting the runner's frames or code with ctypes or driving them
with ``sys.settrace``, or from a thread that outlives a failed block's code and reads the pipe.
What is guaranteed: no ordinary failure shows as passed, nor any of the attacks above.

Nothing a block starts outlives it: the worker is a child subreaper (orphans, also in a new
session, are reparented to it) and kills every descendant after each block and at a timeout; it
gets SIGTERM when the process that started it dies (``PR_SET_PDEATHSIG``) and then kills its whole
tree; a block's process dies with the worker, and every process a block starts has a CPU limit
(timeout x threads + 1 s), so a loop left behind ends even if the worker was killed outright.

    with BlockRunner(device="cpu") as runner:
        result = runner.run(code, filename="snippets/qna/adagrad.py")
        assert result.ok, result.report()

A :class:`BlockPool` runs several blocks at once, one worker per block running (``$KB_BLOCK_JOBS``,
default: the CPUs, at most 4; the extra workers are forks of the first, :meth:`BlockRunner.clone`);
the build hands it every block of every page as it reads them. Each
block is still alone in its own process: side by side is what isolated blocks can do and blocks
``exec``'d in one process cannot.

The module also finds what to run: the sections of a snippet file exactly as pymdownx.snippets
includes them into a page (:func:`snippet_sections`), and the Python blocks of a built page exactly
as Material's copy button copies them, with the marker comment before each (:func:`html_python_blocks`):
``skip``, ``allow_exit`` or ``cuda``, each with a reason, read by :meth:`HtmlBlock.plan` for the build,
the guard and ``python -m kb check`` alike (:func:`parse_marker`).

Worker protocol (``python kb/blockrunner.py --worker --device D --parent PID --threads N --control FD``):
one JSON object per line on stdin (``code``, ``filename``, ``line_numbers``, ``script``, ``timeout``,
``env``, ``cwd``, ``allow_exit``); one JSON object per line back on the worker's original stdout, the
first being ``{"ready": true, ...}``. ``{"clone": true}`` forks another worker from it (answered
``{"cloned": PID}``; the clone's two pipes come over the Unix socket FD).
"""

from __future__ import annotations

import fcntl
import gc
import json
import math
import os
import queue
import re
import resource
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Imported before the worker reports ready: every block imports torch.
PRELOAD = ("numpy", "torch")
# Imported by the worker while it waits (for a job, or for a block to end), one module at a time,
# so that the blocks after them don't pay for them and the first block needn't wait for them.
# torch._dynamo (with sympy, about 800 modules) is what the first torch.optim step or nn.Module
# call imports lazily: seconds per block when every fork had to import it again. distutils.version
# is what koreanize_matplotlib (every figure with Korean labels) imports: through setuptools, 80 ms.
# What these imports add to sys.path a block does not see (_FRESH_PATH).
PRELOAD_LATER = ("matplotlib", "matplotlib.pyplot", "matplotlib.backends.backend_agg", "PIL.PngImagePlugin",
                 "sympy", "torch._dynamo", "torch.optim", "distutils.version")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
MAX_OUTPUT = 200_000  # characters of stdout / stderr kept per block


# ---------------------------------------------------------------------------------------------
# Results and the parent side
# ---------------------------------------------------------------------------------------------


class _Clone:
    """The build's handle on a cloned worker (a child of the worker it was forked from, not of the
    build): what BlockRunner uses of a Popen. Its exit is seen on a pidfd; its exit status is its
    parent's to read, so ``returncode`` is -1 once it has exited."""

    def __init__(self, pid: int, job_fd: int, reply_fd: int):
        self.pid = pid
        self.pidfd = os.pidfd_open(pid)
        self.stdin = os.fdopen(job_fd, "wb")
        self.stdout = os.fdopen(reply_fd, "rb")
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and select.select([self.pidfd], [], [], 0)[0]:
            self.returncode = -1
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            if not select.select([self.pidfd], [], [], timeout)[0]:
                raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout)
            self.returncode = -1
        return self.returncode

    def send_signal(self, sig: int) -> None:
        try:
            signal.pidfd_send_signal(self.pidfd, sig)
        except ProcessLookupError:
            pass

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


@dataclass
class BlockResult:
    """What one block did. ``status`` is passed, failed, crashed (died without reporting) or timeout."""

    filename: str
    status: str
    stdout: str = ""
    stderr: str = ""
    error: str = ""  # one line: "AssertionError: NAG crosses the minimum fewer times"
    traceback: str = ""
    location: str = ""  # "snippets/qna/adagrad.py:42": innermost frame in the block's own file
    duration: float = 0.0  # seconds the code ran, measured in the child
    wall: float = 0.0  # seconds from handing the job to its process to its report (or death), in the worker
    reused: bool = False  # set by callers that reuse an earlier identical run
    preloading: bool = False  # the worker's preload (its last step: huge pages) was not done when it started
    waited: float = 0.0  # seconds it waited for the worker to import PRELOAD_LATER before it started
    spare: bool = False  # it ran in a process the worker had forked before the job came
    began: float = 0.0  # time.monotonic() of the caller when it sent the job, and when the answer came
    ended: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "passed"

    def report(self, title: str | None = None) -> str:
        """A failure report that starts with where it failed."""
        head = title or self.filename
        where = self.location or self.filename
        lines = [f"{where}: {self.status}: {self.error}".rstrip(": "), f"  ({head}, {self.duration:.2f} s)"]
        if self.traceback:
            lines += ["", self.traceback.rstrip()]
        if self.stdout.strip():
            lines += ["", "--- stdout ---", _tail(self.stdout)]
        if self.stderr.strip():
            lines += ["", "--- stderr ---", _tail(self.stderr)]
        return "\n".join(lines)


def _tail(text: str, limit: int = 4000) -> str:
    text = text.rstrip()
    return text if len(text) <= limit else "...\n" + text[-limit:]


def _threads_from_env() -> int:
    """Torch/BLAS threads per block: ``$KB_BLOCK_THREADS``, else 1 (blocks are small, and the
    machines that build the site are shared; more threads made small-tensor blocks slower)."""
    value = os.environ.get("KB_BLOCK_THREADS", "1")
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"KB_BLOCK_THREADS must be a positive whole number, not {value!r}")
    return int(value)


def _jobs_from_env(threads: int) -> int:
    """Blocks at once in a :class:`BlockPool`: ``$KB_BLOCK_JOBS``, else as many as the CPUs this
    process may use hold blocks of ``threads`` threads, at most 4 (each worker holds about 340 MB)."""
    value = os.environ.get("KB_BLOCK_JOBS")
    if value is not None:
        if not value.isdigit() or int(value) < 1:
            raise ValueError(f"KB_BLOCK_JOBS must be a positive whole number, not {value!r}")
        return int(value)
    return max(1, min(4, len(os.sched_getaffinity(0)) // threads))


class WorkerError(RuntimeError):
    """The worker process itself failed (not a block): it could not start or it died."""


class BlockRunner:
    """A warm worker for one device; :meth:`run` executes one block alone in a forked child."""

    def __init__(self, device: str = "cpu", *, timeout: float = 120.0, cwd: Path | str = ROOT,
                 python: str = sys.executable, env: dict[str, str] | None = None, threads: int | None = None):
        if device not in ("cpu", "cuda"):
            raise ValueError(f"device must be 'cpu' or 'cuda', not {device!r}")
        self.device = device
        self.threads = threads if threads is not None else _threads_from_env()
        self.timeout = timeout
        self.cwd = str(cwd)
        self.python = python
        self.extra_env = dict(env or {})
        self.proc: subprocess.Popen | None = None
        self.starts = 0  # worker start-ups (interpreter + imports): one per runner unless restarted
        self.startup_s = 0.0  # seconds from launching the worker to its "ready"
        self.ready_info: dict = {}
        self.jobs = 0
        self._stderr = None
        self._control: socket.socket | None = None
        self._writing = threading.Lock()  # a clone request may come from another thread

    # -- lifecycle --------------------------------------------------------------------------

    def __enter__(self) -> BlockRunner:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> None:
        if self.proc is not None:
            return
        env = dict(os.environ)
        env.update(self.extra_env)
        env["MPLBACKEND"] = "Agg"
        env["PYTHONIOENCODING"] = "utf-8"
        if self.device == "cpu":
            env["CUDA_VISIBLE_DEVICES"] = ""  # hidden before torch can initialise CUDA
        for name in THREAD_VARIABLES:  # before numpy and torch load: no idle BLAS threads to fork
            env[name] = str(self.threads)
        self._stderr = tempfile.TemporaryFile()
        t0 = time.perf_counter()
        self._control, theirs = socket.socketpair()  # the worker passes a clone's pipes on it
        try:
            self.proc = subprocess.Popen(
                [self.python, str(Path(__file__).resolve()), "--worker", "--device", self.device,
                 "--parent", str(os.getpid()), "--threads", str(self.threads), "--control", str(theirs.fileno())],
                cwd=self.cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
                pass_fds=(theirs.fileno(),),
            )
        finally:
            theirs.close()
        self.starts += 1
        self.ready_info = self._read(timeout=300.0, what="worker start-up")
        self.startup_s = time.perf_counter() - t0
        if not self.ready_info.get("ready"):
            raise WorkerError(f"worker did not report ready: {self.ready_info}")
        if self.ready_info.get("cuda_initialized"):
            raise WorkerError("the worker initialised CUDA before forking")
        # The device policy, checked once in a child: a CPU run really has no GPU, a CUDA run has one.
        want = self.device == "cuda"
        probe = self.run(
            "import torch\n"
            f"assert torch.cuda.is_available() is {want}, "
            f"'torch.cuda.is_available() is not {want} for a {self.device} run'\n",
            filename=f"<device probe: {self.device}>",
        )
        self.jobs -= 1
        if not probe.ok:
            self.close()
            raise WorkerError(probe.report())

    def close(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            proc.stdin.close()
            proc.wait(timeout=10)
        except Exception:
            proc.kill()
            proc.wait()
        finally:
            proc.stdout.close()
            if isinstance(proc, _Clone):
                os.close(proc.pidfd)
            if self._stderr is not None:
                self._stderr.close()
            if self._control is not None:
                self._control.close()
                self._control = None

    def clone(self) -> BlockRunner:
        """Another worker, forked from this one (started; it may be running a block, from another
        thread): it has all this one imported, at the cost of a fork instead of a start-up (seconds
        of CPU), runs blocks exactly as this one does, alone in fresh processes, and dies with it.
        BlockPool's extra workers are clones. The answer comes on the control socket: the
        worker's stdout may be awaited by the thread whose block runs."""
        if self.proc is None or self._control is None or not self.ready_info:
            raise WorkerError("only a started worker (not a clone) can be cloned")
        try:
            with self._writing:
                self.proc.stdin.write(b'{"clone": true}\n')
                self.proc.stdin.flush()
        except BrokenPipeError:
            raise WorkerError(f"worker died before it could be cloned:\n{self._worker_stderr()}") from None
        if not select.select([self._control], [], [], 300.0)[0]:
            raise WorkerError("the worker did not answer a clone request within 300 s")
        data, fds, _, _ = socket.recv_fds(self._control, 64, 2)
        if len(fds) != 2:
            raise WorkerError(f"the worker died while cloning:\n{self._worker_stderr()}")
        twin = BlockRunner(self.device, timeout=self.timeout, cwd=self.cwd, python=self.python,
                           env=self.extra_env, threads=self.threads)
        twin.proc = _Clone(int(data), fds[0], fds[1])
        twin.ready_info = dict(self.ready_info, pid=twin.proc.pid, clone_of=self.proc.pid)
        return twin

    # -- jobs -------------------------------------------------------------------------------

    def run(self, code: str, filename: str = "<block>", *, line_numbers: list[int] | None = None,
            script: bool = False, timeout: float | None = None, env: dict[str, str] | None = None,
            cwd: str | None = None, allow_exit: str | None = None) -> BlockResult:
        """Run ``code`` alone in a fresh child of the worker.

        ``filename`` names the code in tracebacks and is its ``__file__``; a real file is read for
        source lines, any other name gets ``code`` registered as its source. ``line_numbers`` (one
        per line of ``code``) places the lines at those line numbers of ``filename``, so that a
        section of a file reports the file's line numbers. ``script=True`` runs a whole file as
        ``python file.py`` would (its directory first on sys.path); otherwise the code runs as a block
        copied into a fresh directory. Either way the working directory is a fresh, empty one
        (``cwd`` overrides it), removed afterwards.

        The block passes only if it ran to its last line: ``sys.exit()``, ``exit()`` or ``raise
        SystemExit`` before its end fails it, unless ``allow_exit`` gives the reason why an exit with
        status 0 is that block's end; ``os._exit()`` always fails it.
        """
        if self.proc is None:
            self.start()
        n_lines = code.count("\n") + 1
        if line_numbers is not None and len(line_numbers) != n_lines:
            raise ValueError(f"{filename}: {len(line_numbers)} line numbers for {n_lines} lines of code")
        limit = self.timeout if timeout is None else timeout
        job = {"code": code, "filename": filename, "line_numbers": line_numbers, "script": script,
               "timeout": limit, "env": env or {}, "cwd": cwd, "allow_exit": allow_exit}
        began = time.monotonic()
        try:
            with self._writing:
                self.proc.stdin.write(json.dumps(job).encode() + b"\n")
                self.proc.stdin.flush()
        except BrokenPipeError:
            raise WorkerError(f"worker died before {filename}:\n{self._worker_stderr()}") from None
        reply = self._read(timeout=limit + 30.0, what=filename)
        self.jobs += 1
        return BlockResult(**reply, began=began, ended=time.monotonic())

    def _read(self, timeout: float, what: str) -> dict:
        assert self.proc is not None
        out = self.proc.stdout
        ready, _, _ = select.select([out], [], [], timeout)
        if not ready:
            self.proc.kill()
            raise WorkerError(f"worker gave no answer for {what} within {timeout:.0f} s")
        line = out.readline()
        if not line:
            code = self.proc.wait()
            raise WorkerError(f"worker exited ({code}) during {what}:\n{self._worker_stderr()}")
        return json.loads(line)

    def _worker_stderr(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-4000:]


# A BlockPool adds a worker (a clone: a fork of one, about 10 ms and some memory copied on write
# later) only while this many blocks wait for one; a cold build has dozens waiting at once, a
# rebuild after an edit one or two, which one worker runs one after another as fast.
EXTRA_WORKER_BACKLOG = 4


class BlockPool:
    """Up to ``jobs`` blocks at once, each alone in a fresh process exactly as :meth:`BlockRunner.run`
    runs it: one :class:`BlockRunner` (one worker) per block running at the same time. The first
    worker starts with the first block; each other one is a clone of a worker that came free
    (:meth:`BlockRunner.clone`: a fork, which shares all the worker imported, instead of a start-up
    of seconds of CPU), made only while at least ``backlog`` blocks (default
    :data:`EXTRA_WORKER_BACKLOG`) wait: a rebuild with two or three changed blocks runs them on one
    worker, one after another, and a cold build gets them all. Blocks share
    nothing (each its own process, directory and output folder), so running them side by side
    changes no result; what an in-process way cannot do, isolated blocks can. ``jobs`` defaults to
    ``$KB_BLOCK_JOBS``, else to the CPUs this process may use (at most 4).

        with BlockPool("cpu") as pool:
            futures = [pool.submit(code, filename=name) for name, code in blocks]
            results = [future.result() for future in futures]  # BlockResult, in any order they end

    A worker that fails (:class:`WorkerError`) is not used again; :meth:`close` stops the blocks
    still running (their workers get SIGTERM and kill their trees) and drops those not started. Its
    threads are daemon threads: a build stopped without closing it (Ctrl-C) exits at once, and its
    workers, which die with the process that started them, take their blocks with them."""

    def __init__(self, device: str = "cpu", jobs: int | None = None, *, backlog: int | None = None,
                 **runner_options):
        if device not in ("cpu", "cuda"):
            raise ValueError(f"device must be 'cpu' or 'cuda', not {device!r}")
        self.device = device
        self.options = runner_options
        threads = runner_options.get("threads") or _threads_from_env()
        self.jobs = jobs if jobs is not None else _jobs_from_env(threads)
        if self.jobs < 1:
            raise ValueError(f"jobs must be at least 1, not {self.jobs}")
        self.backlog = EXTRA_WORKER_BACKLOG if backlog is None else backlog
        self._cloning = 0  # clones being made
        self.runners: list[BlockRunner] = []  # every worker started, busy or idle
        self._idle: list[BlockRunner] = []
        self._lock = threading.Condition()  # notified when a worker comes free or a block comes
        self._closed = False
        self._queue: queue.SimpleQueue = queue.SimpleQueue()  # (future, code, filename, options); None: stop
        self._threads = [threading.Thread(target=self._serve, name=f"kb-block-{n}", daemon=True)
                         for n in range(self.jobs)]
        for thread in self._threads:
            thread.start()

    def __enter__(self) -> BlockPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def submit(self, code: str, filename: str = "<block>", **options):
        """Queue ``code``; a ``Future`` of its :class:`BlockResult` (``options`` as for :meth:`BlockRunner.run`)."""
        from concurrent.futures import Future

        if self._closed:
            raise WorkerError(f"the block pool is closed; {filename} was not run")
        future: Future = Future()
        self._queue.put((future, code, filename, options))
        with self._lock:  # a thread that waits for a worker may start one now
            self._lock.notify_all()
        return future

    def _serve(self) -> None:
        """One thread: takes the next block, runs it, until told to stop."""
        while (item := self._queue.get()) is not None:
            future, code, filename, options = item
            if not future.set_running_or_notify_cancel():  # cancelled by close()
                continue
            try:
                future.set_result(self._run(code, filename, options))
            except BaseException as exc:  # noqa: BLE001 - the caller gets it from the future
                future.set_exception(exc)

    def _run(self, code: str, filename: str, options: dict) -> BlockResult:
        origin = None
        with self._lock:
            while True:
                if self._closed:
                    raise WorkerError(f"the block pool was closed before {filename} ran")
                if self._idle:
                    runner = self._idle.pop()
                    break
                origins = [r for r in self.runners if not isinstance(r.proc, _Clone)]  # started, or starting
                started = [r for r in origins if r.ready_info]
                if not origins:
                    runner = BlockRunner(self.device, **self.options)  # started below
                    self.runners.append(runner)
                    break
                if (started and len(self.runners) + self._cloning < self.jobs
                        and self._queue.qsize() >= self.backlog):
                    origin = started[0]  # another worker for the backlog: its clone (a fork, no start-up)
                    self._cloning += 1
                    break
                self._lock.wait(1.0)  # for a worker to come free or be started, or more blocks to wait
        if origin is not None:
            try:
                runner = origin.clone()
            finally:
                with self._lock:
                    self._cloning -= 1
            with self._lock:
                self.runners.append(runner)
        try:
            if runner.proc is None:
                runner.start()
                with self._lock:  # a thread waiting to clone it can now
                    self._lock.notify_all()
                if self._closed:  # closed while this worker started: close() could not stop it
                    raise WorkerError(f"the block pool was closed before {filename} ran")
            result = runner.run(code, filename, **options)
        except BaseException:
            with self._lock:
                self.runners.remove(runner)
                self._lock.notify_all()
            runner.close()
            raise
        with self._lock:
            self._idle.append(runner)
            self._lock.notify_all()
        return result

    def close(self) -> None:
        with self._lock:
            self._closed = True
            busy = [runner for runner in self.runners if runner not in self._idle]
            self._lock.notify_all()
        while True:  # blocks not started are dropped
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                item[0].cancel()
        for runner in busy:  # its worker kills its tree on SIGTERM; the waiting thread gets WorkerError
            if runner.proc is not None:
                runner.proc.terminate()
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join()
        for runner in reversed(self.runners):  # a clone before the worker it was forked from
            runner.close()
        self.runners, self._idle = [], []


# ---------------------------------------------------------------------------------------------
# The worker side
# ---------------------------------------------------------------------------------------------

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
PR_SET_CHILD_SUBREAPER = 36


_LIBC = None


def _libc():
    """The C library, loaded once (by the worker, before it forks: a block's process reuses it)."""
    global _LIBC
    if _LIBC is None:
        import ctypes

        _LIBC = ctypes.CDLL(None, use_errno=True)
        _LIBC.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    return _LIBC


def _prctl(option: int, value: int) -> None:
    import ctypes

    libc = _libc()
    if libc.prctl(option, value, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), f"prctl({option}, {value}) failed")


def _descendants(root: int, skip: frozenset[int] = frozenset()) -> list[int]:
    """Live (not zombie) descendants of ``root``, from one scan of /proc; not those of ``skip``."""
    children: dict[int, list[tuple[int, bytes]]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:  # gone meanwhile
            continue
        fields = stat[stat.rindex(b")") + 2:].split()  # after "pid (comm) ": state ppid ...
        children.setdefault(int(fields[1]), []).append((int(entry.name), fields[0]))
    found, todo = [], [root]
    while todo:
        for pid, state in children.get(todo.pop(), []):
            if pid in skip:
                continue
            todo.append(pid)
            if state != b"Z":
                found.append(pid)
    return found


def _reap() -> set[int]:
    """Reap every exited child of this process; return the children it has left (the kernel's
    list, zombies that exited meanwhile included)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return set()
        if pid == 0:
            break
    return _children_of(os.getpid())


def _children_of(pid: int) -> set[int]:
    """The children of ``pid`` as the kernel lists them (every thread's), zombies included."""
    found: set[int] = set()
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found.update(int(child) for child in f.read().split())
    except FileNotFoundError:  # gone meanwhile
        pass
    return found


def _kill_tree(keep: frozenset[int] = frozenset(), trees: frozenset[int] = frozenset()) -> int:
    """Kill every descendant of this process (the worker is a child subreaper, so a block's
    orphans, also those in a new session, are reparented to it) except ``keep`` (the spare
    child, a killed block's process on its way out), and their descendants still die, and except
    ``trees`` with all their descendants (the worker's clones: other workers, with blocks of their
    own); return how many were killed. Done when the kernel lists no child but ``keep`` and
    ``trees``, and none of ``keep`` has a live descendant."""
    killed = 0
    spared = keep | trees
    for _ in range(1000):  # until nothing is left; a process may fork while we look
        # At once when only ``keep`` is left, childless: read the worker's children again after
        # theirs, as a child reparented meanwhile (its parent ended) would show there.
        if _reap() <= spared and not any(_children_of(pid) for pid in keep) and _reap() <= spared:
            return killed
        alive = [pid for pid in _descendants(os.getpid(), skip=trees) if pid not in keep]
        if not alive:
            time.sleep(0.001)  # only zombies on their way to us
            continue
        for pid in alive:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
    return killed


MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_COLLAPSE = 14, 15, 25  # <asm-generic/mman-common.h>
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # <malloc.h>
HUGE_PAGE = 2 << 20


def _huge_pages() -> None:
    """Move the worker's anonymous memory (its heap, Python's arenas) into transparent huge pages
    (``MADV_COLLAPSE``, Linux 6.1+).

    A fork copies one page-table entry per 4 KiB page the worker has written, and a child's exit
    drops them again: with about 240 MB, forking and ending an empty child took 28 ms here (in a
    VM); with one entry per 2 MiB, 10 ms. A child that writes to a huge page still copies only
    4 KiB of it (the kernel splits the mapping first). Where the kernel can't, nothing changes.
    The ranges are then marked MADV_NOHUGEPAGE: the huge pages stay, but what a block allocates
    there later gets ordinary pages (2 MiB zeroed per fault for a block's tensors made the heavy
    blocks 3-5 % slower in two A/B runs)."""
    libc = _libc()
    with open("/proc/self/maps") as f:
        maps = [line.split() for line in f]
    for fields in maps:
        start, end = (int(x, 16) for x in fields[0].split("-"))
        anonymous = len(fields) < 6 or fields[5] == "[heap]"
        start, end = -(-start // HUGE_PAGE) * HUGE_PAGE, end // HUGE_PAGE * HUGE_PAGE
        if fields[1] == "rw-p" and anonymous and end > start:
            libc.madvise(start, end - start, MADV_HUGEPAGE)
            libc.madvise(start, end - start, MADV_COLLAPSE)  # fails harmlessly where unsupported
            libc.madvise(start, end - start, MADV_NOHUGEPAGE)


_FRESH_PATH: list[str] = list(sys.path)  # as the interpreter started (the worker: before its imports)


def _warm_matplotlib() -> None:
    """Fill what Matplotlib computes once per process and keeps: its mathtext parser (a log axis's
    tick labels, any ``$...$``: 60 ms to build), the default font loaded and its lookups, the text
    layout of a first figure (drawn off pyplot: no figure number taken, rcParams untouched).
    Caches only: a block sees the same results, sooner."""
    import matplotlib.mathtext
    from matplotlib.figure import Figure

    matplotlib.mathtext.MathTextParser("agg").parse("$10^{-1}$", 72)
    fig = Figure(figsize=(2, 2), dpi=50)
    ax = fig.add_subplot()
    ax.set_yscale("log")
    ax.plot([1, 10, 100], label="a")
    ax.set(title="$x^2$", xlabel="x")
    ax.legend()
    ax.contour([[1.0, 2.0], [3.0, 4.0]])
    fig.canvas.draw()


def _worker(device: str, parent: int, threads: int, control_fd: int) -> None:
    # The protocol keeps the original stdout; fd 1 itself goes to stderr, so that stray output
    # (from imports, or C code) can never corrupt it.
    proto = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    # Nothing a block starts outlives the build: orphans come to the worker, which kills them
    # after each block, and the worker gets SIGTERM (and kills its tree) when the build dies.
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    signal.signal(signal.SIGTERM, lambda *_: (_kill_tree(), os._exit(143)))
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the build died before the line above
        _kill_tree()
        os._exit(143)
    t0 = time.perf_counter()
    import importlib

    os.environ.setdefault("MPLBACKEND", "Agg")
    for name in PRELOAD:
        importlib.import_module(name)
    import torch

    gc.freeze()  # what is imported so far; _IdleWork freezes what it imports after each step
    idle = _IdleWork(threads=threads)
    workdir = tempfile.mkdtemp(prefix="blockrunner-")
    proto.write(json.dumps({
        "ready": True, "pid": os.getpid(), "device": device, "torch": torch.__version__,
        "import_s": time.perf_counter() - t0, "threads": threads, "later": list(PRELOAD_LATER),
        "cuda_initialized": bool(torch.cuda.is_initialized()),  # a flag only: does not initialise CUDA
        "os_threads": len(os.listdir("/proc/self/task")),  # forking is safe only with one
    }) + "\n")
    import socket

    jobs, first = _Lines(0), True
    idle.cloner = (socket.socket(fileno=control_fd), proto, jobs)  # a clone's pipes go to the build on it
    try:
        while True:
            try:
                # A block that comes before the imports end waits for them: imported again in its
                # process they would cost as much, on top of the worker's; the huge pages can wait.
                waited_since = None
                while idle.pending and not first:
                    if jobs.waiting():
                        if not idle.importing:
                            break
                        waited_since = waited_since or time.perf_counter()
                    idle.step()
                line = jobs.readline()
                if not line:
                    break
                job = json.loads(line)
                if job.get("clone"):
                    idle.clones_wanted += 1
                    while idle.importing:  # the clone gets all of the preload
                        idle.step()
                    idle.serve_clones()
                    continue
                job["threads"] = threads
                job["waited"] = time.perf_counter() - waited_since if waited_since else 0.0
                # the first job is the runner's device probe, part of its start-up: answered at once
                proto.write(json.dumps(_run_job(job, workdir, None if first else idle)) + "\n")
                first = False
            except _NowAClone as became:  # this process is the clone now, on its own pipes
                became.leave()
                workdir, first = tempfile.mkdtemp(prefix="blockrunner-"), False
    finally:
        _kill_tree()
        shutil.rmtree(workdir, ignore_errors=True)


class _NowAClone(Exception):
    """Raised in a clone just forked (:func:`_fork_clone`), also from within the worker's wait for a
    block, to unwind to the worker loop; ``leave`` closes what it has of that block."""

    def __init__(self, process: _Process | None = None):
        self.process = process

    def leave(self) -> None:
        if self.process is not None:  # the worker's block, not the clone's: only the descriptors
            self.process.close()


def _fork_clone(idle: _IdleWork, control, proto, jobs: _Lines) -> bool:
    """Fork another worker from this one (``{"clone": true}``, also while a block runs): it shares
    all this one imported, at the cost of a fork, and goes on as a worker of its own: its jobs and
    answers on two new pipes, whose other ends go to the build over ``control`` with its pid; it
    kills its own tree, and dies with this worker (which spares it and its blocks when it kills
    its own block's tree). Returns True in the clone."""
    job_read, job_write = os.pipe()
    reply_read, reply_write = os.pipe()
    worker = os.getpid()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.close(job_write)
        os.close(reply_read)
        control.close()
        os.dup2(job_read, 0)
        os.close(job_read)
        os.dup2(reply_write, proto.fileno())
        os.close(reply_write)
        jobs.buffer = b""  # what the worker had read of its own jobs
        if idle.spare is not None:  # the worker's, not the clone's
            idle.spare.close()
            idle.spare = None
        idle.clones, idle.clones_wanted, idle.cloner = set(), 0, None  # a clone is not cloned
        _prctl(PR_SET_CHILD_SUBREAPER, 1)  # not inherited
        _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != worker:  # the worker died before the line above
            _kill_tree()
            os._exit(143)
        return True
    os.close(job_read)
    os.close(reply_write)
    import socket

    socket.send_fds(control, [str(pid).encode()], [job_write, reply_read])
    os.close(job_write)
    os.close(reply_read)
    idle.clones.add(pid)
    return False


class _IdleWork:
    """What the worker does while it waits for a job or for a block to end, one step at a time:
    import each of PRELOAD_LATER, move its memory into huge pages (:func:`_huge_pages`), then
    keep one block's process forked ahead (``spare``, a :class:`_Process`), forked again after each
    block took it.

    It forks only between steps, so a child never sees half an import, and the worker keeps one
    thread. A block that comes while modules are still to import waits for them (``waited``): in its
    own process it would import them again, as much CPU again on top of the worker's; the huge
    pages are done while it runs. After each step everything imported is frozen (``gc.freeze()``):
    shared with every child until one writes to it, and the cyclic GC writes to every object it
    scans, so a child's first collection would copy most of the worker's memory; frozen objects
    are never scanned (the children still collect their own)."""

    def __init__(self, names: tuple[str, ...] = PRELOAD_LATER, threads: int = 1):
        import importlib

        self.steps = [(name, lambda name=name: importlib.import_module(name)) for name in names]
        if "matplotlib.pyplot" in names:
            self.steps.append(("matplotlib's caches", _warm_matplotlib))
        self.steps.append(("huge pages", _huge_pages))
        self.threads = threads
        self.spare: _Process | None = None
        self.clones: set[int] = set()  # workers forked from this one (_fork_clone), each with its own blocks
        self.clones_wanted = 0  # clone requests not served yet (they wait for the imports)
        self.cloner = None  # (control socket, protocol file, job lines): set by the worker

    def serve_clones(self, process: _Process | None = None) -> None:
        """Fork the clones asked for, once the imports are done; in a clone, raise _NowAClone
        (``process``: the block the worker is waiting for, whose descriptors the clone closes)."""
        while self.clones_wanted and not self.importing:
            self.clones_wanted -= 1
            if _fork_clone(self, *self.cloner):
                raise _NowAClone(process)

    def clone_request(self) -> None:
        """A line came on the job pipe while a block runs: only a clone request can (the build
        sends the next job after the answer)."""
        line = self.cloner[2].readline()
        if not line:  # the build closed the pipe: no more clones (the worker loop ends at its EOF)
            self.cloner = None
        elif json.loads(line).get("clone"):
            self.clones_wanted += 1
        else:
            raise RuntimeError(f"blockrunner: a job came while a block ran: {line[:200]!r}")

    @property
    def pending(self) -> bool:
        return bool(self.steps) or self.spare is None

    @property
    def preloading(self) -> bool:
        """PRELOAD_LATER or the huge pages are still to do."""
        return bool(self.steps)

    @property
    def keep(self) -> frozenset[int]:
        """The processes that are not a block's: the spare."""
        return frozenset([self.spare.pid]) if self.spare is not None else frozenset()

    def take_spare(self) -> _Process | None:
        """The spare process, if there is one and it is still alive (a block could kill it)."""
        spare, self.spare = self.spare, None
        if spare is not None and (select.select([spare.pidfd], [], [], 0)[0] or _dying(spare.pid)):
            try:
                signal.pidfd_send_signal(spare.pidfd, signal.SIGKILL)  # by its pidfd: never another process
            except ProcessLookupError:  # gone, and reaped already
                pass
            spare.close()  # _reap() collects it
            return None
        return spare

    @property
    def importing(self) -> bool:
        """Modules are still to import (not only the huge pages)."""
        return any(name != "huge pages" for name, _ in self.steps)

    def step(self) -> None:
        if not self.steps:
            if self.spare is None:  # once the preload is done: each block's process forked ahead
                self.spare = _Process(self.threads)
            return
        name, work = self.steps.pop(0)
        try:
            work()
        except Exception as exc:  # noqa: BLE001 - the worker goes on; a block that needs it fails on its own
            print(f"blockrunner: preloading {name} failed: {exc!r}", file=sys.stderr, flush=True)
        gc.freeze()
        # as checked at start-up: forking after CUDA is initialised breaks every child's CUDA
        if sys.modules["torch"].cuda.is_initialized():
            raise RuntimeError(f"preloading {name} initialised CUDA in the block runner's worker")


PF_EXITING = 0x4  # <linux/sched.h>


def _dying(pid: int) -> bool:
    """Whether ``pid`` was killed or is exiting, though not gone yet: a SIGKILL pending (kill() has
    returned), or already in its exit (PF_EXITING), or a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()  # after "pid (comm)": state ppid ... flags
        with open(f"/proc/{pid}/status") as f:
            status = dict(line.split(":", 1) for line in f if ":" in line)
    except (FileNotFoundError, ProcessLookupError):
        return True
    pending = int(status.get("SigPnd", "0"), 16) | int(status.get("ShdPnd", "0"), 16)
    return fields[0] in (b"Z", b"X", b"x") or bool(int(fields[6]) & PF_EXITING) or bool(
        pending & (1 << (signal.SIGKILL - 1)))


class _Lines:
    """Lines read from a file descriptor, with a way to ask, without blocking, whether one has come."""

    def __init__(self, fd: int):
        self.fd = fd
        self.buffer = b""

    def waiting(self) -> bool:
        return b"\n" in self.buffer or bool(select.select([self.fd], [], [], 0)[0])

    def readline(self) -> bytes:
        while b"\n" not in self.buffer:
            chunk = os.read(self.fd, 1 << 16)
            if not chunk:  # end of input
                line, self.buffer = self.buffer, b""
                return line
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line + b"\n"


class _Process:
    """A block's process, forked from the worker before its job is known: it readies itself
    (:func:`_child`), then waits for the job on a pipe. The worker keeps one forked ahead, while
    a block runs on the other core (``_IdleWork.spare``), so that a block's fork and start-up are
    not on its way; a process is forked on the spot when there is none. The worker keeps both ends
    of the report pipe: it writes the block's secrets into it (``secrets``, closed then), and
    reads the report from it once the process has exited."""

    def __init__(self, threads: int):
        report_read, report_write = os.pipe2(os.O_CLOEXEC)
        job_read, job_write = os.pipe2(os.O_CLOEXEC)
        sys.stdout.flush()
        sys.stderr.flush()
        worker = os.getpid()
        pid = os.fork()
        if pid == 0:  # never returns
            _child(worker, threads, job_read, report_read, report_write)
        os.close(job_read)
        self.pid, self.pidfd = pid, os.pidfd_open(pid)
        self.report, self.secrets, self.job = report_read, report_write, job_write

    def close(self, *names: str) -> None:
        """Close its descriptors (``names``: only those), each once: a number closed twice could
        by then be another's."""
        for name in names or ("report", "secrets", "job", "pidfd"):
            fd = getattr(self, name)
            if fd >= 0:
                os.close(fd)
                setattr(self, name, -1)


def _run_job(job: dict, workdir: str, idle: _IdleWork | None) -> dict:
    paths = {"out_path": os.path.join(workdir, "stdout"), "err_path": os.path.join(workdir, "stderr"),
             "job_dir": tempfile.mkdtemp(prefix="job-", dir=workdir)}
    spare = idle.take_spare() if idle is not None else None
    preloading = idle is None or idle.preloading
    t0 = time.perf_counter()
    process = spare or _Process(int(job.get("threads") or 1))
    # Fresh secrets per block, made after the fork: the nonce that signs its report and the status
    # its process must exit with. They go into its report pipe before the job, and stay there,
    # unread, while the block runs (see _child). What the page allows (allow_exit) it is not told.
    nonce, passed_status = secrets.token_hex(16), 2 + secrets.randbelow(254)
    secret = f"{nonce}\n{passed_status:03d}\n".encode()  # SECRET_SIZE bytes: one write, never split
    os.write(process.secrets, secret)
    process.close("secrets")
    message = json.dumps({k: v for k, v in dict(job, **paths).items() if k != "allow_exit"}).encode()
    try:
        while message:
            message = message[os.write(process.job, message):]
    except BrokenPipeError:  # the process is already gone; it cannot report
        pass
    process.close("job")  # end of the job: the process reads to here

    timed_out = _wait(process, t0 + float(job.get("timeout") or 120.0), idle)
    pid = process.pid
    if timed_out:
        try:
            os.killpg(pid, signal.SIGKILL)  # the process and its process group
        except ProcessLookupError:
            pass
    _, wait_status = os.waitpid(pid, 0)  # it has exited (or was just killed): its status is here
    payload = _drain(process.report)
    clones = frozenset()
    if idle is not None and idle.clones:  # those still alive: a pid of one that ended could be reused
        idle.clones &= _children_of(os.getpid())
        clones = frozenset(idle.clones)
    survivors = _kill_tree(idle.keep if idle is not None else frozenset(), clones)  # anything it started
    payload += _drain(process.report)  # anything written after the report (by processes it started, now killed) fails the block
    process.close()
    wall = time.perf_counter() - t0
    shutil.rmtree(paths["job_dir"], ignore_errors=True)

    result = {"filename": job["filename"], "wall": wall, "preloading": preloading,
              "waited": job.get("waited", 0.0), "spare": spare is not None}
    result.update(_verdict(payload, secret, wait_status, timed_out, job))
    if survivors and result["status"] == "passed":
        result["stderr_note"] = f"{survivors} process(es) it started were still running and were killed"
    for key, path in (("stdout", paths["out_path"]), ("stderr", paths["err_path"])):
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
            os.unlink(path)
        except FileNotFoundError:
            text = ""
        result[key] = text if len(text) <= MAX_OUTPUT else text[:1000] + "\n...\n" + text[-MAX_OUTPUT:]
    if "stderr_note" in result:
        result["stderr"] += f"\n[blockrunner] {result.pop('stderr_note')}\n"
    return result


def _wait(process: _Process, deadline: float, idle: _IdleWork | None) -> bool:
    """Wait for the process to exit; return whether the deadline came first. A report does not
    end the wait (a block that sent one early, then sleeps, is still running), and the report pipe
    is not read meanwhile: its secrets are the block's to read at its end. Meanwhile the worker
    does its idle work, a step at a time, and forks the clones the build asks for."""
    pidfd = process.pidfd
    while True:
        left = deadline - time.perf_counter()
        if left <= 0:
            return True
        busy = idle is not None and idle.pending
        asks = idle is not None and idle.cloner is not None  # the build may ask for a clone meanwhile
        if asks and b"\n" in idle.cloner[2].buffer:  # read with the block's job
            idle.clone_request()
        ready, _, _ = select.select([pidfd] + ([0] if asks else []), [], [], 0 if busy else left)
        if 0 in ready:  # the build asks for a clone of this worker while its block runs
            idle.clone_request()
        if idle is not None and idle.clones_wanted and not idle.importing:
            idle.serve_clones(process)
        if pidfd in ready:
            return False
        if busy and not ready:
            idle.step()


def _drain(fd: int) -> bytes:
    """What the pipe holds now (its writers may still hold it open)."""
    os.set_blocking(fd, False)
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 1 << 16)
        except BlockingIOError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def _ended(wait_status: int) -> str:
    if os.WIFSIGNALED(wait_status):
        sig = os.WTERMSIG(wait_status)
        return f"was killed by signal {sig} ({signal.Signals(sig).name})"
    return f"exited with status {os.WEXITSTATUS(wait_status)}"


def _verdict(payload: bytes, secret: bytes, wait_status: int, timed_out: bool, job: dict) -> dict:
    """The block's result, decided here, from two things its code cannot produce before its last
    statement ran: a report signed with this run's nonce and the exit status that means passed
    (``secret``: both, read by its process only after its code returned, see _child). Passed: one
    signed report that says so, then that exit status. Anything else on the pipe fails the block."""
    nonce, passed_status = secret[:32], int(secret[33:36])
    if payload.startswith(secret):  # never read: the process ended before the block's end
        payload = payload[len(secret):]
    elif payload.startswith(secret[33:]):  # the passed status, left there by a block that raised
        payload = payload[len(secret) - 33:]
    lines = payload.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    report = None
    if len(lines) == 1 and lines[0].startswith(nonce + b" "):
        try:
            report = json.loads(lines[0][33:])
        except ValueError:
            pass
    if timed_out:
        return {"status": "timeout", "error": f"no result within {job.get('timeout')} s"
                + (" (it had sent a report, then did not end)" if lines else "")
                + "; the block and every process it started were killed"}
    if lines and report is None:
        return {"status": "failed", "error": "the block wrote to the runner's result channel "
                f"({len(payload)} bytes that are not one report of this run): its result cannot be trusted"}
    if report is None:
        return {"status": "crashed", "error": f"the process {_ended(wait_status)} before the block reached "
                "its end (os._exit(), a crash, a CPU limit, or out of memory)"}
    fields = {key: str(report.get(key) or "") for key in ("error", "traceback", "location")}
    fields["duration"] = float(report.get("duration") or 0.0)
    status = report.get("status")
    if status in ("passed", "exit") and not (os.WIFEXITED(wait_status) and (
            os.WEXITSTATUS(wait_status) == (passed_status if status == "passed" else 1))):
        return dict(fields, status="failed", error=f"its report came, but then the process {_ended(wait_status)}, "
                    "not as the runner ends it after the block's last line: its result cannot be trusted")
    if status == "passed":
        return dict(fields, status="passed")
    if status == "exit" and job.get("allow_exit"):  # an early exit its page allows, with a reason
        return dict(fields, status="passed", error="", traceback="", location="")
    return dict(fields, status="failed")


def _ready_child(worker: int, threads: int, keep: tuple[int, ...]) -> None:
    """What a block's process does before its job is known: it dies with the worker, in a process
    group of its own (a timeout kills what it started too), with no descriptor of the worker's but
    ``keep`` and stdin, stdout, stderr (stdin reads nothing), and the block's torch threads."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the worker's tree-killing handler
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != worker:  # the worker died before the line above
        os._exit(1)
    os.setpgid(0, 0)
    low = 3
    for fd in sorted(keep):  # the worker's pipes and files, and another block's, if one is running
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    sys.modules["torch"].set_num_threads(threads)
    # malloc as a long-running process has it by then: blocks up to 32 MiB from the heap, and up to
    # 64 MiB freed at its top kept for the next (glibc's own dynamic limits, fixed at their highest).
    # A fresh process starts at 128 KiB: a block's loop of large tensors mapped and zeroed fresh
    # pages on every step (the bagging block: 154 -> 133 ms; in one process: 116 ms)
    libc = _libc()
    libc.mallopt(M_MMAP_THRESHOLD, 32 << 20)
    libc.mallopt(M_TRIM_THRESHOLD, 64 << 20)


def _read_exactly(fd: int, n: int, read=os.read) -> bytes:
    data = b""
    while len(data) < n:
        chunk = read(fd, n - len(data))
        if not chunk:
            raise EOFError(f"{len(data)} of {n} bytes")
        data += chunk
    return data


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks)


def _channel(read_fd: int, write_fd: int) -> int:
    """The report pipe as one descriptor that reads and writes it (reopened read-write through
    /proc), at a random high number, closed on exec: the secrets come in on it, the report goes out."""
    both = os.open(f"/proc/self/fd/{read_fd}", os.O_RDWR | os.O_CLOEXEC)
    high = fcntl.fcntl(both, fcntl.F_DUPFD_CLOEXEC, 512 + secrets.randbelow(512))
    for fd in (both, read_fd, write_fd):
        os.close(fd)
    return high


def _child(worker: int, threads: int, job_fd: int, report_read: int, report_write: int) -> None:
    """A block's process: it runs the block and reports, then exits; the worker decides.

    Its report pipe holds, from the worker, the run's nonce and the exit status that means passed,
    written before the job. They stay there until the block's code is over, so nothing of them is
    in this process's memory while it runs. Then exactly one of two ends: its code returned (the
    lines after ``exec``, not a function a block could call): it reads both, sends ``passed``
    signed with the nonce and exits with that status; or it raised (also SystemExit): it reads the
    nonce only, sends what it raised signed with it and exits with 1. What is used after ``exec``
    is bound before it, and the block's own code (its streams' ``flush``, its exception's
    ``__str__``) runs only before a secret is read."""
    import builtins
    import linecache
    import traceback

    # bound now: a block that patches os or json changes nothing of what follows its code
    read, write, exit_, getpid, dumps, clock = os.read, os.write, os._exit, os.getpid, json.dumps, time.perf_counter
    try:
        _ready_child(worker, threads, (job_fd, report_read, report_write))
        channel = _channel(report_read, report_write)
        job = json.loads(_read_all(job_fd))  # waits here for its job
    except BaseException:  # noqa: BLE001 - no job (the worker is gone or closed the pipe): nothing to report
        exit_(1)
    me = getpid()
    code, filename = job["code"], job["filename"]
    t0 = clock()
    try:
        # CPU seconds: the wall-clock timeout times its threads, plus one. Inherited by every process
        # it starts, so a loop left behind ends even if nobody is there to kill it.
        cpu = math.ceil(float(job.get("timeout") or 120.0) * max(1, threads)) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
        for fd, path in ((1, job["out_path"]), (2, job["err_path"])):
            f = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(f, fd)
            os.close(f)
        sys.stdout.reconfigure(line_buffering=True)
        sys.stderr.reconfigure(line_buffering=True)
        os.environ.update(job.get("env") or {})

        source = code
        numbers = job.get("line_numbers")
        if numbers:  # put each line at its line number in the file; blank lines fill the gaps
            placed: list[str] = []
            for number, text in zip(numbers, code.split("\n")):
                placed.extend([""] * (number - 1 - len(placed)))
                placed.append(text)
            source = "\n".join(placed)
        # Source lines for tracebacks, registered so that they survive the change of directory
        # (an entry without a modification time is never re-checked): the file's own lines for a
        # real file, else the code itself.
        is_file = os.path.isfile(filename)
        if is_file:
            with open(filename, encoding="utf-8") as f:
                shown = f.read()
        else:
            shown = source
        linecache.cache[filename] = (len(shown), None, shown.splitlines(True), filename)
        # A fresh, empty working directory: nothing a block writes lands in the repository, and
        # nothing next to it can be imported. A whole script (`python file.py`) gets its own
        # directory first on sys.path and an absolute __file__, as Python gives it.
        run_dir = job.get("cwd") or job["job_dir"]
        # sys.path as a fresh interpreter has it: not what the worker's imports added (setuptools
        # appends its _vendor folder: a block could import what is not installed)
        sys.path[:] = [os.path.dirname(os.path.abspath(filename)) if job.get("script") and is_file else run_dir,
                       *_FRESH_PATH[1:]]
        file_attr = os.path.abspath(filename) if is_file else filename
        os.chdir(run_dir)
        sys.argv = [file_attr]
        namespace = {"__name__": "__main__", "__file__": file_attr, "__builtins__": builtins,
                     "__doc__": None, "__package__": None, "__spec__": None, "__loader__": None}
        compiled = compile(source, filename, "exec")
        t0 = clock()
        exec(compiled, namespace)
    except BaseException as exc:  # noqa: BLE001 - everything a block can raise is its result
        _failed(exc, filename, clock() - t0, me, channel, traceback)  # never returns
    try:
        # The block's code returned: it ran to its last line. (A copy of this process that the
        # block forked and that got here has not: the worker waits for the block's own process.)
        duration = clock() - t0
        if getpid() != me:
            exit_(0)
        _flush()
        nonce, _, status = _read_exactly(channel, SECRET_SIZE, read).partition(b"\n")
        data = nonce + b" " + dumps({"status": "passed", "duration": duration}).encode() + b"\n"
        while data:
            data = data[write(channel, data):]
        exit_(int(status))
    finally:  # the block closed or drained the pipe, or a stream's flush raised: it cannot pass
        exit_(1)


SECRET_SIZE = 32 + 1 + 3 + 1  # "<nonce>\n<passed status, 3 digits>\n": 37 bytes, before the job


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 - a closed (or the block's own) stream must not hide the result
            pass


def _failed(exc: BaseException, filename: str, duration: float, me: int, channel: int, traceback, read=os.read, write=os.write, exit_=os._exit, getpid=os.getpid, dumps=json.dumps) -> None:
    """The end of a block's process whose code raised: what it raised (SystemExit with status 0 as
    ``exit``: the worker knows whether the page allows it), signed with the nonce only (the passed
    status stays in the pipe); then exit with 1. Never returns."""
    try:
        if getpid() != me:  # a copy the block forked: its error to stderr, no report
            traceback.print_exception(exc)
            _flush()
            return
        error, tb_text, location = _describe(exc, filename, traceback)
        if isinstance(exc, SystemExit):
            error = (f"{error}: the block stopped before its end (sys.exit(), exit() or raise SystemExit), "
                     "so the lines after it, and their checks, never ran")
        status = "exit" if isinstance(exc, SystemExit) and exc.code in (None, 0) else "failed"
        _flush()
        nonce = _read_exactly(channel, 33, read)[:32]
        data = nonce + b" " + dumps({"status": status, "error": error, "traceback": tb_text,
                                     "location": location, "duration": duration}).encode() + b"\n"
        while data:
            data = data[write(channel, data):]
    finally:
        exit_(1)
def _describe(exc: BaseException, filename: str, traceback) -> tuple[str, str, str]:
    """(one-line error, traceback without the runner's frames, innermost line in the block's file)."""
    error = "".join(traceback.format_exception_only(type(exc), exc)).strip().splitlines()[-1]
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:  # drop the runner's frames
        tb = tb.tb_next
    tb_text = "".join(traceback.format_exception(type(exc), exc, tb))
    frames = [(f.filename, f.lineno) for f in traceback.extract_tb(tb)]
    if isinstance(exc, SyntaxError) and exc.filename == filename:
        frames.append((filename, exc.lineno))
    own = [f"{name}:{lineno}" for name, lineno in frames if name == filename]
    return error, tb_text, own[-1] if own else ""


# ---------------------------------------------------------------------------------------------

if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "--worker":
        _worker(device=sys.argv[3], parent=int(sys.argv[5]), threads=int(sys.argv[7]), control_fd=int(sys.argv[9]))
    else:
        print(__doc__)
        sys.exit(2)
