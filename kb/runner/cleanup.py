"""Nothing a block starts outlives it: process control for the runner, on every platform.

This module owns how a block's processes are found and ended. Each block's process
(kb/runner/child.py) is, on Linux and macOS, the leader of a process group of its own, and it puts a
random token into its environment (``KB_BLOCK_TOKEN``), which every program it starts inherits.
After the block, at its timeout, and when the build dies, :func:`end_block` kills

* its process group (what it forked: ``multiprocessing``, ``os.fork``), and
* every process whose environment carries its token (what it started with ``subprocess``, also
  in a new session or double-forked as a daemon, on Windows too), found with psutil.

Backstops: on Linux and macOS every process a block starts inherits a CPU-time limit (the block's
timeout x its threads + 1 s, ``RLIMIT_CPU``), so a loop left behind ends even if the runner was
killed outright; and a block's process watches the build (:func:`watch_parent`): when the build
dies, it ends its own processes and itself.

What is not caught: a process that both forked without ``exec`` and left the process group
(``os.fork(); os.setsid()`` with no program started), or that cleared its environment, when its
block's process is already gone. Linux-only calls are not used.

Also here: the temporary folders of blocks (:func:`temporary_folder`, the runner's and the
executor's), removed at the build's exit when a build stopped by Ctrl-C did not get to remove them.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import sys
import tempfile
import threading

TOKEN = "KB_BLOCK_TOKEN"
POSIX = os.name == "posix"
_FOLDERS: set[str] = set()  # temporary folders not removed yet


def temporary_folder(prefix: str) -> str:
    """A new temporary folder, removed at exit (also Ctrl-C) unless :func:`remove_folder` removed it."""
    folder = tempfile.mkdtemp(prefix=prefix)
    _FOLDERS.add(folder)
    return folder


def remove_folder(folder) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    _FOLDERS.discard(str(folder))


@atexit.register  # registered before the runner's handler that kills running blocks: runs after it
def _remove_folders() -> None:
    for folder in list(_FOLDERS):
        shutil.rmtree(folder, ignore_errors=True)


def holders(token: str, pgid: int | None, skip: frozenset[int] = frozenset(), since: float | None = None) -> list:
    """Live processes of this user whose environment carries ``token`` or that are in the process
    group ``pgid`` (psutil); with ``since`` (a time.time()), only those created after it (psutil
    keeps each process's creation time: a scan then reads only the new processes' environments)."""
    import psutil

    found = []
    skip = skip | {os.getpid()}
    for proc in psutil.process_iter():
        if proc.pid in skip:
            continue
        try:
            if since is not None and proc.create_time() < since:
                continue
            if pgid and os.getpgid(proc.pid) == pgid:
                pass
            elif proc.environ().get(TOKEN) != token:
                continue
            if proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except (psutil.Error, OSError):  # another user's, or gone meanwhile
            continue
    return found


def kill_group(pgid: int) -> bool:
    """SIGKILL to the process group ``pgid`` (POSIX); whether any member was there."""
    if not POSIX or pgid <= 0:
        return False
    try:
        os.killpg(pgid, signal.SIGKILL)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def end_block(token: str, pgid: int | None, skip: frozenset[int] = frozenset(), since: float | None = None) -> int:
    """Kill what a block started (its process group ``pgid``, the holders of its token, and the
    groups they made); return how many were running. Repeats until none is found: a process may
    start another while we look."""
    import psutil

    found: set[int] = set()
    for _ in range(50):
        if pgid:
            kill_group(pgid)
        alive = holders(token, pgid, skip, since)
        if not alive:
            break
        for proc in alive:
            found.add(proc.pid)
            try:
                if POSIX:
                    try:
                        group = os.getpgid(proc.pid)
                        if group != os.getpgid(0):  # its own group, if it made one (never ours)
                            kill_group(group)
                    except (ProcessLookupError, PermissionError):
                        pass
                proc.kill()
            except psutil.Error:
                pass
        psutil.wait_procs(alive, timeout=1)
    return len(found)


def limit_cpu(seconds: int) -> None:
    """A CPU-time limit of ``seconds`` more than this process used so far, for it and all it starts
    (POSIX; nothing on Windows)."""
    try:
        import resource
    except ImportError:  # Windows
        return
    usage = resource.getrusage(resource.RUSAGE_SELF)  # a spawned process's start-up counts too
    seconds += int(usage.ru_utime + usage.ru_stime) + 1
    soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        seconds = min(seconds, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, hard if hard != resource.RLIM_INFINITY else seconds + 5))


def close_plumbing(keep: set[int] | None) -> None:
    """In a block's process: close the resource tracker's pipe and, with ``keep``, every other pipe
    and socket but those (forked from the forkserver: its plumbing), so that a block writing to
    every descriptor it has reaches only its own channel. (POSIX; on Windows a process inherits no
    handle unasked.) A spawned process keeps its other pipes: one of them tells the runner that it
    ended, which is why the runner also checks that it really did (kb/runner/runner.py). Either way
    every descriptor it keeps is made non-inheritable: a program the block starts holds none."""
    import stat

    folder = "/proc/self/fd" if os.path.isdir("/proc/self/fd") else "/dev/fd"
    if not POSIX or not os.path.isdir(folder):
        return
    try:
        from multiprocessing import resource_tracker

        tracker = resource_tracker._resource_tracker  # a block that needs one starts its own
        if tracker._fd is not None:
            os.close(tracker._fd)
        tracker._fd, tracker._pid = None, None
    except (ImportError, AttributeError, OSError):
        pass
    for name in os.listdir(folder):  # what it keeps, no program it starts inherits
        fd = int(name)
        if fd > 2:
            try:
                os.set_inheritable(fd, False)
            except OSError:  # the listing's own descriptor, closed by now
                pass
    if keep is None:
        return
    for name in os.listdir(folder):
        fd = int(name)
        if fd <= 2 or fd in keep:
            continue
        try:
            mode = os.fstat(fd).st_mode
        except OSError:  # the listing's own descriptor, closed by now
            continue
        if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
            os.close(fd)


def own_group() -> None:
    """Make this process the leader of a new process group (POSIX)."""
    if POSIX:
        os.setpgid(0, 0)


def watch_parent(token: str) -> None:
    """In a block's process: a daemon thread that, when the build that started this process dies
    (multiprocessing's parent sentinel), kills what the block started and then this process."""
    import multiprocessing
    from multiprocessing.connection import wait

    parent = multiprocessing.parent_process()
    sentinel = getattr(parent, "sentinel", None)
    if sentinel is None:
        return

    def watch(exit_=os._exit) -> None:
        try:
            wait([sentinel])
        except OSError:
            pass
        try:
            end_block(token, None)
            if POSIX:
                kill_group(os.getpgid(0))  # what it forked, and this process
        finally:
            exit_(1)

    threading.Thread(target=watch, name="kb-watch-build", daemon=True).start()


def flush_std() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 - a closed (or the block's own) stream must not hide the result
            pass
