"""Nothing a block starts outlives it: on its end, at its timeout, and when the build dies.

The blocks start real processes (also in a new session, also double-forked daemons) whose
command line carries a random mark; /proc is then searched for the mark.
"""

from __future__ import annotations

import json
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
def runner(block_runners):
    return block_runners.get("cpu")


def test_processes_a_block_started_are_killed_when_it_ends(runner):
    mark = f"kb-test-{uuid.uuid4().hex}"
    result = runner.run(spawner(mark))
    assert result.ok, result.report()
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
import sys, time
sys.path.insert(0, {root!r})
from kb.blockrunner import BlockRunner
runner = BlockRunner("cpu", timeout=600)
runner.start()
print(runner.ready_info["pid"], flush=True)
runner.run({code!r})
"""


def start_build(mark: str, tmp_path: Path) -> tuple[subprocess.Popen, int]:
    """A process standing for the build: a runner whose block starts marked processes and loops."""
    script = tmp_path / "build.py"
    script.write_text(BUILD.format(root=str(ROOT), code=spawner(mark, loop=True)), encoding="utf-8")
    build = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    worker = int(build.stdout.readline())
    assert wait_until(lambda: len(marked(mark)) == 2, 60), "the block did not start its processes"
    return build, worker


def children(pid: int) -> set[int]:
    found = set()
    for task in os.listdir(f"/proc/{pid}/task"):
        found |= {int(child) for child in Path(f"/proc/{pid}/task/{task}/children").read_text().split()}
    return found


def test_killing_the_build_kills_the_worker_and_everything_its_blocks_started(tmp_path):
    mark = f"kb-test-{uuid.uuid4().hex}"
    build, worker = start_build(mark, tmp_path)
    processes: set[int] = set()
    try:
        # the looping block's process and the one forked ahead for the next block (forks of the worker)
        def forks() -> set[int]:
            return {pid for pid in children(worker) if b"--worker" in Path(f"/proc/{pid}/cmdline").read_bytes()}

        assert wait_until(lambda: len(forks()) == 2, 30), forks()
        processes = forks()
    finally:
        build.kill()  # SIGKILL: the build gets no chance to clean up
        build.wait()
    survivors = lambda: [pid for pid in (worker, *processes, *marked(mark)) if alive(pid)]  # noqa: E731
    try:
        assert wait_until(lambda: not survivors(), 30), f"survivors: {survivors()} (worker {worker})"
    finally:
        for pid in survivors():
            os.kill(pid, signal.SIGKILL)


def test_an_orphaned_looping_process_ends_by_its_cpu_limit(tmp_path):
    """Even with nobody left to kill it (the worker itself killed outright), a loop ends: every
    process a block starts inherits a CPU limit derived from the block's timeout."""
    mark = f"kb-test-{uuid.uuid4().hex}"
    script = tmp_path / "build.py"
    script.write_text(BUILD.format(root=str(ROOT), code=spawner(mark, loop=True)).replace(
        "timeout=600", "timeout=2"), encoding="utf-8")
    build = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        worker = int(build.stdout.readline())
        assert wait_until(lambda: len(marked(mark)) == 2, 60), "the block did not start its processes"
        (loop,) = [pid for pid in marked(mark) if b"while True" in Path(f"/proc/{pid}/cmdline").read_bytes()]
        os.kill(worker, signal.SIGKILL)  # no clean-up handler runs
        # the loop's CPU limit is 2 s (timeout) x 1 thread + 1 s; a sleeper, using no CPU, would
        # outlive a worker killed this way (the limit of this backstop)
        assert wait_until(lambda: not alive(loop), 120), f"the orphaned loop {loop} still runs"
    finally:
        build.kill()
        build.wait()
        for pid in marked(mark):
            os.kill(pid, signal.SIGKILL)


def test_a_block_starts_with_the_workers_imports_frozen_and_its_own_objects_collected(runner):
    """The worker freezes what it imported before forking (gc.freeze), so a block's cyclic
    collections do not write to, and so copy, the worker's memory; the block's own cycles
    are still collected."""
    code = textwrap.dedent("""\
        import gc
        assert gc.isenabled()
        print("frozen", gc.get_freeze_count())

        class Node:
            pass

        a, b = Node(), Node()
        a.other, b.other = b, a
        del a, b
        print("collected", gc.collect())
        """)
    result = runner.run(code)
    assert result.ok, result.report()
    frozen = int(result.stdout.split("frozen ")[1].split()[0])
    assert frozen > 100_000  # torch, numpy and matplotlib's objects (several hundred thousand)
    assert int(result.stdout.split("collected ")[1].split()[0]) >= 2


def settled(runner):
    """Run blocks until the worker's preload is done: from then on it forks each block's process ahead."""
    deadline = time.monotonic() + 120
    while runner.run("x = 1").preloading:
        assert time.monotonic() < deadline, "the worker never finished its preload"
        time.sleep(0.2)


# What a block's process holds: every descriptor but 0-2, and where it leads.
DESCRIPTORS = textwrap.dedent("""\
    import os
    fds = sorted(int(name) for name in os.listdir("/proc/self/fd"))  # closes the listing's own
    targets = []
    for fd in fds:
        try:
            targets.append((fd, os.readlink(f"/proc/self/fd/{fd}")))
        except FileNotFoundError:  # the listing's own descriptor, closed by now
            pass
    print([(fd, target) for fd, target in targets if fd > 2])
    """)


def test_a_block_runs_in_a_process_forked_ahead_holding_no_descriptor_of_the_workers(runner):
    """The worker forks the next block's process while a block runs: that process must not keep
    the worker's descriptors (its job pipe, its protocol, the running block's report pipe and
    pidfd): only its own report channel, at a high number (and the listing's own descriptor)."""
    settled(runner)
    spares = 0
    for _ in range(20):  # on a busy machine a short block can end before the worker forked ahead
        result = runner.run(DESCRIPTORS)
        assert result.ok, result.report()
        held = eval(result.stdout)  # the same in a process forked on the spot
        assert len(held) == 1 and held[0][0] >= 512 and held[0][1].startswith("pipe:"), held
        spares += result.spare
    assert spares, "no block ran in a process forked ahead"


KILL_SPARE = textwrap.dedent("""\
    import os, signal, time

    def started(pid):  # clock ticks after boot (field 22 of /proc/PID/stat)
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])

    worker, me = os.getppid(), os.getpid()
    deadline = time.monotonic() + 10
    while True:  # the next block's process: forked by the worker after this one (the one before may still be exiting)
        others = [int(pid) for task in os.listdir(f"/proc/{worker}/task")
                  for pid in open(f"/proc/{worker}/task/{task}/children").read().split() if int(pid) != me]
        ahead = [pid for pid in others if started(pid) >= started(me)]
        if ahead or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert ahead, "no process forked ahead"
    for pid in ahead:
        os.kill(pid, signal.SIGKILL)
    """)


def test_a_block_whose_process_forked_ahead_was_killed_gets_a_fresh_one(runner):
    settled(runner)
    killer = runner.run(KILL_SPARE)
    assert killer.ok, killer.report()
    after = runner.run("import torch\nassert torch.ones(3).sum() == 3")
    assert after.ok and not after.spare, after.report()  # forked on the spot
    assert any(runner.run("x = 1").spare for _ in range(20))  # and ahead again for those after


FRESH_PATH = "import json, sys\nprint(json.dumps(sys.path[1:]), 'setuptools' in sys.modules)"


def test_a_block_sees_sys_path_as_a_fresh_interpreter_has_it(runner):
    """The worker imports setuptools (for koreanize_matplotlib), which appends its _vendor folder to
    sys.path: a block must not be able to import what is not installed."""
    settled(runner)
    result = runner.run(FRESH_PATH)
    assert result.ok, result.report()
    seen, preloaded = result.stdout.rsplit(" ", 1)
    fresh = subprocess.run([sys.executable, "-c", FRESH_PATH], capture_output=True, text=True, check=True,
                           cwd=runner.cwd).stdout.rsplit(" ", 1)[0]
    assert preloaded.strip() == "True"  # the worker did import it
    assert json.loads(seen) == json.loads(fresh)
