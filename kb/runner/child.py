"""A block's own process: it runs the block alone, reports, and exits; the runner decides.

This module owns what happens in the process that ``multiprocessing`` starts for one block
(:func:`run_block`, its target). Before its job comes: its own process group, its token, a watch on
the build. Then, for the job: a CPU limit, the block's torch threads, stdout and stderr into files, a fresh empty working directory,
``sys.path`` as a fresh interpreter has it, fresh globals (``__name__ == "__main__"``, ``__file__``).

Then exactly one of two ends, read from kb/runner/verdict.py's point of view:

* its code returned (the lines right after ``exec``, not a function a block could call): it reads
  both secrets from the channel, sends ``passed`` signed with the nonce, and exits with the passed
  status;
* it raised (also ``SystemExit``): it describes what it raised, then reads the nonce only, sends the
  failure signed with it, and exits with 1.

Everything used after ``exec`` is bound before it, and the block's own code (its streams'
``flush``, its exception's ``__str__``) runs only before a secret is read. A copy of this process
that the block forked and that gets this far ends with status 0 and reports nothing: the runner
waits for the block's own process.
"""

from __future__ import annotations

import builtins
import json
import linecache
import math
import os
import sys
import time
import traceback

from . import cleanup
from .channel import child_ends

MAX_TRACEBACK = 20_000  # characters of a traceback kept in the report

def run_block(conn, token: str, backend: str) -> None:
    """The target of a block's process, started before its block is known: it readies itself (its
    own process group, its token, a watch on the build, no plumbing of the forkserver's), then waits
    for the job on its channel. Never returns."""
    read_job, read_part, send = child_ends(conn)
    import multiprocessing

    sentinel = getattr(multiprocessing.parent_process(), "sentinel", None)
    forked = backend == "forkserver"  # its plumbing is the forkserver's: none of it is the block's
    cleanup.close_plumbing({conn.fileno(), sentinel} if forked else None)
    cleanup.own_group()
    os.environ[cleanup.TOKEN] = token
    cleanup.watch_parent(token)
    exit_, getpid, dumps, clock, flush = os._exit, os.getpid, json.dumps, time.perf_counter, cleanup.flush_std
    try:
        job = read_job()  # waits here until the runner has a block for this process
    except BaseException:  # noqa: BLE001 - the runner closed without a job for it: nothing to report
        exit_(1)
    try:
        _prepare(job)
        filename, run_dir = job["filename"], job.get("cwd") or job["job_dir"]
        compiled, namespace = _compiled(job, run_dir)
        os.chdir(run_dir)
    except BaseException as exc:  # noqa: BLE001 - the runner's own failure, reported as the block's
        _failed(exc, job["filename"], 0.0, getpid(), read_part, send)  # never returns
    me = getpid()
    t0 = clock()
    try:
        exec(compiled, namespace)
    except BaseException as exc:  # noqa: BLE001 - everything a block can raise is its result
        _failed(exc, filename, clock() - t0, me, read_part, send)  # never returns
    try:
        # The block's code returned: it ran to its last line.
        duration = clock() - t0
        if getpid() != me:  # a copy the block forked
            exit_(0)
        flush()
        nonce = read_part(0)[:-1]
        status = int(read_part(1))
        send(nonce + b" " + dumps({"status": "passed", "duration": duration}).encode() + b"\n")
        exit_(status)
    finally:  # the block closed the channel, or a stream's flush raised: it cannot pass
        exit_(1)


def _prepare(job: dict) -> None:
    """Everything before the code that depends on it: limits, threads, streams, environment."""
    threads = int(job.get("threads") or 1)
    # CPU seconds: the wall-clock timeout times its threads, plus one. Inherited by every process
    # it starts, so a loop left behind ends even if nobody is there to kill it.
    cleanup.limit_cpu(math.ceil(float(job.get("timeout") or 120.0) * threads) + 1)
    if job.get("device") == "cpu":
        os.environ["CUDA_VISIBLE_DEVICES"] = ""  # before anything initialises CUDA
    os.environ["MPLBACKEND"] = "Agg"
    from kb import figure_fonts  # NanumGothic with a minus sign once the block imports koreanize_matplotlib

    figure_fonts.install()
    os.environ["PYTHONIOENCODING"] = "utf-8"
    os.environ.update(job.get("env") or {})
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    for fd, path in ((1, job["out_path"]), (2, job["err_path"])):
        f = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(f, fd)
        os.close(f)
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.reconfigure(line_buffering=True, encoding="utf-8", errors="backslashreplace")
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)


def _compiled(job: dict, run_dir: str):
    """The code compiled as the file's lines (``line_numbers``) and its fresh globals; sys.path and
    sys.argv as ``python file.py`` would have them (``script``) or for a copied block."""
    code, filename = job["code"], job["filename"]
    source = code
    numbers = job.get("line_numbers")
    if numbers:  # put each line at its line number in the file; blank lines fill the gaps
        placed: list[str] = []
        for number, text in zip(numbers, code.split("\n")):
            placed.extend([""] * (number - 1 - len(placed)))
            placed.append(text)
        source = "\n".join(placed)
    # Source lines for tracebacks, registered so that they survive the change of directory (an
    # entry without a modification time is never re-checked): the file's own for a real file.
    is_file = os.path.isfile(filename)
    if is_file:
        with open(filename, encoding="utf-8") as f:
            shown = f.read()
    else:
        shown = source
    linecache.cache[filename] = (len(shown), None, shown.splitlines(True), filename)
    first = os.path.dirname(os.path.abspath(filename)) if job.get("script") and is_file else run_dir
    sys.path[:] = [first, *job["fresh_path"][1:]]  # as a fresh interpreter has it, not what imports added
    file_attr = os.path.abspath(filename) if is_file else filename
    sys.argv = [file_attr]
    namespace = {"__name__": "__main__", "__file__": file_attr, "__builtins__": builtins,
                 "__doc__": None, "__package__": None, "__spec__": None, "__loader__": None}
    return compile(source, filename, "exec"), namespace


def _failed(exc: BaseException, filename: str, duration: float, me: int, read_part, send,
            exit_=os._exit, getpid=os.getpid, dumps=json.dumps) -> None:
    """The end of a block's process whose code raised: what it raised (SystemExit with status 0 as
    ``exit``: the runner knows whether the page allows it), signed with the nonce only (the passed
    status stays unread); then exit with 1. Never returns."""
    try:
        if getpid() != me:  # a copy the block forked: its error to stderr, no report
            traceback.print_exception(exc)
            cleanup.flush_std()
            return
        error, tb_text, location = _describe(exc, filename)
        if isinstance(exc, SystemExit):
            error = (f"{error}: the block stopped before its end (sys.exit(), exit() or raise SystemExit), "
                     "so the lines after it, and their checks, never ran")
        status = "exit" if isinstance(exc, SystemExit) and exc.code in (None, 0) else "failed"
        cleanup.flush_std()
        nonce = read_part(0)[:-1]
        send(nonce + b" " + dumps({"status": status, "error": error, "traceback": tb_text,
                                   "location": location, "duration": duration}).encode() + b"\n")
    finally:
        exit_(1)


def _describe(exc: BaseException, filename: str) -> tuple[str, str, str]:
    """(one-line error, traceback without the runner's frames, innermost line in the block's file)."""
    error = "".join(traceback.format_exception_only(type(exc), exc)).strip().splitlines()[-1]
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:  # drop the runner's frames
        tb = tb.tb_next
    tb_text = "".join(traceback.format_exception(type(exc), exc, tb))
    if len(tb_text) > MAX_TRACEBACK:
        tb_text = tb_text[:2000] + "\n...\n" + tb_text[-MAX_TRACEBACK:]
    frames = [(f.filename, f.lineno) for f in traceback.extract_tb(tb)]
    if isinstance(exc, SyntaxError) and exc.filename == filename:
        frames.append((filename, exc.lineno))
    own = [f"{name}:{lineno}" for name, lineno in frames if name == filename]
    return error, tb_text, own[-1] if own else ""
