"""Nothing a block starts outlives it: on its end, at its timeout, and when the build dies.

The blocks start real processes (also in a new session, also double-forked daemons) whose
command line carries a random mark; /proc is then searched for the mark. Under either backend
(``KB_RUNNER=spawn`` runs them as Windows would).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from conftest import ROOT


def marked(mark: str) -> list[int]:
    """Live (not zombie) processes whose command line contains ``mark``."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            cmdline = Path(entry.path, "cmdline").read_bytes()
            state = Path(entry.path, "stat").read_bytes().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if mark.encode() in cmdline and state != b"Z":
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
    except OSError:
        return False
    return state != b"Z"


def wait_until(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def spawner(mark: str, loop: bool = False) -> str:
    """A block that starts a sleeper in a new session and a double-forked daemon, both marked,
    checks that they run, and then ends (or loops forever)."""
    return textwrap.dedent(f"""\
        import os, subprocess, sys, time
        sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1000)", "{mark}"],
                                   start_new_session=True)
        if os.fork() == 0:  # a daemon: fork, new session, fork again, parent gone
            os.setsid()
            if os.fork() == 0:
                os.execv(sys.executable, [sys.executable, "-c", "while True: pass", "{mark}"])
            os._exit(0)
        time.sleep(0.5)
        assert sleeper.poll() is None
        print("started", sleeper.pid)
        while {loop}:
            pass
        """)


@pytest.fixture(scope="module")
def runner(any_backend_runner):
    return any_backend_runner  # each test runs under forkserver and spawn (tests/runner_fixtures.py)


def test_processes_a_block_started_are_killed_when_it_ends(runner):
    mark = f"kb-test-{uuid.uuid4().hex}"
    result = runner.run(spawner(mark), timeout=120)
    assert result.ok, result.report()
    # its end is seen when it ends (about 1 s), not when the daemon holding an inherited descriptor
    # dies of its CPU limit (about the timeout: 121 s under spawn before descriptors were made
    # non-inheritable and the exit status asked every 0.5 s)
    assert result.wall < 60, result.wall
    assert "started" in result.stdout
    assert marked(mark) == []
    assert "process(es) it started were still running and were killed" in result.stderr


def test_a_looping_block_and_its_children_are_killed_at_the_timeout(runner):
    mark = f"kb-test-{uuid.uuid4().hex}"
    result = runner.run(spawner(mark, loop=True), timeout=3)
    assert result.status == "timeout", result.report()
    assert marked(mark) == []
    assert runner.run("x = 1").ok  # the worker goes on


BUILD = """\
import os, sys, time
sys.path.insert(0, {root!r})
from kb.runner import BlockRunner
if __name__ == "__main__":
    runner = BlockRunner("cpu", timeout=600)
    runner.start()
    print("ready", flush=True)
    runner.run({code!r})
"""


def start_build(mark: str, tmp_path: Path, tmpdir: Path, timeout: int = 600) -> tuple[subprocess.Popen, int]:
    """A process standing for the build (``tmpdir``: its TMPDIR, conftest's build_tmpdir): a runner
    whose block writes its pid, starts marked processes and loops; returns the build and the block's process."""
    pid_file = tmp_path / "block.pid"
    code = f"import os\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\n" + spawner(mark, loop=True)
    script = tmp_path / "build.py"
    script.write_text(BUILD.format(root=str(ROOT), code=code).replace("timeout=600", f"timeout={timeout}"),
                      encoding="utf-8")
    build = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                             env=dict(os.environ, TMPDIR=str(tmpdir)))
    assert build.stdout.readline() == "ready\n"
    assert wait_until(lambda: len(marked(mark)) == 2 and pid_file.exists() and pid_file.read_text(), 60), \
        "the block did not start its processes"
    return build, int(pid_file.read_text())


def test_killing_the_build_kills_the_block_and_everything_it_started(tmp_path, build_tmpdir):
    mark = f"kb-test-{uuid.uuid4().hex}"
    build, block = start_build(mark, tmp_path, build_tmpdir)
    build.kill()  # SIGKILL: the build gets no chance to clean up
    build.wait()
    survivors = lambda: [pid for pid in (block, *marked(mark)) if alive(pid)]  # noqa: E731
    try:
        assert wait_until(lambda: not survivors(), 30), f"survivors: {survivors()} (block {block})"
    finally:
        for pid in survivors():
            os.kill(pid, signal.SIGKILL)


def test_an_orphaned_looping_process_ends_by_its_cpu_limit(tmp_path, build_tmpdir):
    """Even with nobody left to kill it (the build and the block's process killed outright at once),
    a loop ends: every process a block starts inherits a CPU limit derived from the block's timeout."""
    if os.name != "posix":
        pytest.skip("RLIMIT_CPU is POSIX; Windows has no such backstop")
    mark = f"kb-test-{uuid.uuid4().hex}"
    build, block = start_build(mark, tmp_path, build_tmpdir, timeout=2)
    try:
        (loop,) = [pid for pid in marked(mark) if b"while True" in Path(f"/proc/{pid}/cmdline").read_bytes()]
        os.kill(block, signal.SIGKILL)  # no clean-up: neither the block's watch nor the runner runs
        build.kill()
        # the loop's CPU limit is 2 s (timeout) x 1 thread + 1 s; a sleeper, using no CPU, would
        # outlive a build killed this way (the limit of this backstop)
        assert wait_until(lambda: not alive(loop), 120), f"the orphaned loop {loop} still runs"
    finally:
        build.kill()
        build.wait()
        for pid in marked(mark):
            os.kill(pid, signal.SIGKILL)
