"""Blocks side by side: kb.runner.BlockPool, and the build's use of it (kb.execute.Executor).

Each block still runs alone in a fresh process; the pool only runs several such processes at
once. Concurrency is shown without timing: two blocks meet at a
rendezvous (each waits for the other's file), which blocks run one after another never reach.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
from bs4 import BeautifulSoup

from conftest import ROOT
from test_runner_processes import marked
from kb.runner import BlockPool, WorkerError, jobs_from_env
from kb.execute import ExecutionError, Executor


def rendezvous(folder: Path, me: str, other: str, wait_s: int = 60) -> str:
    """A block that leaves ``me`` in ``folder`` and fails unless ``other`` appears within ``wait_s``."""
    return textwrap.dedent(f"""\
        import os, time
        folder = {str(folder)!r}
        open(os.path.join(folder, {me!r}), "w").close()
        deadline = time.monotonic() + {wait_s}
        while not os.path.exists(os.path.join(folder, {other!r})):
            assert time.monotonic() < deadline, "the other block never ran while this one did"
            time.sleep(0.01)
        print(os.getpid())
        """)


def page(code: str) -> str:
    """A built page's HTML with one Python block, as Material renders it."""
    from html import escape

    return (f'<h1>T</h1><div class="language-python highlight"><pre><span></span><code>{escape(code)}\n'
            "</code></pre></div>")


def test_two_blocks_run_at_the_same_time_each_in_its_own_process(tmp_path):
    with BlockPool("cpu", jobs=2) as pool:
        futures = [pool.submit(rendezvous(tmp_path, "a", "b"), filename="<a>"),
                   pool.submit(rendezvous(tmp_path, "b", "a"), filename="<b>")]
        results = [future.result(timeout=300) for future in futures]
        assert all(result.ok for result in results), [result.report() for result in results]
        pids = {int(result.stdout) for result in results}
        assert len(pids) == 2 and os.getpid() not in pids


def test_one_job_at_a_time_never_reaches_the_rendezvous(tmp_path):
    """The check above can fail: with one block at a time, the first block waits for the second in vain."""
    with BlockPool("cpu", jobs=1) as pool:
        first = pool.submit(rendezvous(tmp_path, "a", "b", wait_s=3), filename="<a>").result(timeout=300)
    assert not first.ok and "never ran while this one did" in first.error


def test_closing_stops_running_blocks_and_drops_queued_ones(tmp_path):
    mark = tmp_path / "started"
    pool = BlockPool("cpu", jobs=1)
    running = pool.submit(f"import os\nopen({str(mark)!r}, 'w').write(str(os.getpid()))\nwhile True:\n    pass\n",
                          filename="<loop>")
    queued = pool.submit("print('never')", filename="<queued>")
    try:
        deadline = time.monotonic() + 300  # the worker's start-up, then the block
        while not (mark.exists() and mark.read_text()) and not running.done() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert mark.exists() and not running.done()
        block = int(mark.read_text())
    finally:
        pool.close()
    assert isinstance(running.exception(timeout=60), WorkerError)
    assert queued.cancelled()
    assert not Path(f"/proc/{block}").exists()  # the block's process is gone (killed, and reaped)
    with pytest.raises(WorkerError, match="closed"):
        pool.submit("print(1)")


def test_jobs_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("KB_BLOCK_JOBS", "3")
    assert jobs_from_env(1) == 3
    monkeypatch.setenv("KB_BLOCK_JOBS", "0")
    with pytest.raises(ValueError, match="KB_BLOCK_JOBS"):
        jobs_from_env(1)
    monkeypatch.delenv("KB_BLOCK_JOBS")
    assert 1 <= jobs_from_env(1) <= min(4, len(os.sched_getaffinity(0)))
    monkeypatch.delattr(os, "sched_getaffinity")  # as on macOS and Windows: the CPU count
    assert 1 <= jobs_from_env(1) <= min(4, os.cpu_count())


# --- the build: blocks of many pages at once, outputs put in at on_env ------------------------


def built_page(html: str) -> SimpleNamespace:
    return SimpleNamespace(content=html)


def test_the_build_runs_blocks_of_different_pages_side_by_side(tmp_path):
    (tmp_path / "meet").mkdir()
    ex = Executor(cache_dir=tmp_path / "cache", docs_dir=tmp_path, pool=BlockPool("cpu", jobs=2))
    pages = {}
    try:
        for src, me, other in (("a.md", "a", "b"), ("b.md", "b", "a")):
            pages[src] = built_page(None)
            pages[src].content = ex.process_page(page(rendezvous(tmp_path / "meet", me, other)), src, src[:-3] + "/",
                                                 page=pages[src])
            assert "kb-output" in pages[src].content and 'class="kb-output"' not in pages[src].content
        assert ex.pages_run == set()  # started, not finished
        ex.finish()
    finally:
        ex.close()
    for src in pages:
        output = BeautifulSoup(pages[src].content, "html.parser").select_one(".kb-output__text")
        assert output is not None and output.get_text().strip().isdigit()
    assert ex.pages_run == {"a.md", "b.md"} and ex.runs == 2


def test_outputs_put_in_later_equal_outputs_put_in_at_once(tmp_path, block_runners):
    codes = ["print('one')", "import torch\ntorch.manual_seed(0)\nprint(torch.rand(2))", "print('one')"]
    deferred = Executor(cache_dir=tmp_path / "deferred", docs_dir=tmp_path, jobs=2)
    at_once = Executor(cache_dir=tmp_path / "at-once", docs_dir=tmp_path, runner=block_runners.get("cpu"))
    try:
        pages = [built_page(None) for _ in codes]
        for n, (code, target) in enumerate(zip(codes, pages)):
            target.content = deferred.process_page(page(code), f"p{n}.md", f"p{n}/", page=target)
        deferred.finish()
        expected = [at_once.process_page(page(code), f"p{n}.md", f"p{n}/") for n, code in enumerate(codes)]
    finally:
        at_once.runner = None
        deferred.close()
        at_once.close()
    assert [p.content for p in pages] == expected
    assert deferred.runs == 2  # the same code on two pages ran once


def test_the_first_failing_block_in_page_order_stops_the_build(tmp_path):
    """The later page's block fails first in time; the build still names the earlier page's."""
    ex = Executor(cache_dir=tmp_path / "cache", docs_dir=tmp_path, pool=BlockPool("cpu", jobs=2))
    (tmp_path / "go").mkdir()
    slow = f"import os, time\nwhile not os.path.exists({str(tmp_path / 'go' / 'x')!r}):\n    time.sleep(0.01)\nassert False, 'late'"
    fast = f"open({str(tmp_path / 'go' / 'x')!r}, 'w').close()\nassert False, 'early'"
    try:
        targets = [built_page(None), built_page(None)]
        for target, src, code in zip(targets, ("a.md", "b.md"), (slow, fast)):
            target.content = ex.process_page(page(code), src, src[:-3] + "/", page=target)
        with pytest.raises(ExecutionError, match=r"^docs/a.md: Python block 1 .*failed during the build(.|\n)*late"):
            ex.finish()
    finally:
        ex.close()


def test_a_placeholder_a_plugin_removed_is_an_error_not_a_silent_gap(tmp_path):
    ex = Executor(cache_dir=tmp_path / "cache", docs_dir=tmp_path, jobs=1)
    try:
        target = built_page(None)
        target.content = ex.process_page(page("print(1)"), "a.md", "a/", page=target)
        target.content = target.content.replace("<!--", "<!-- changed ")
        with pytest.raises(ExecutionError, match="docs/a.md: the output of Python block 1 has no single place"):
            ex.finish()
    finally:
        ex.close()


def test_a_build_stopped_without_closing_the_pool_exits_at_once_and_its_block_dies(tmp_path, build_tmpdir):
    """Ctrl-C in the middle of a block: the build exits (the pool's threads don't hold it for the
    block's 600 s timeout), the block's process goes with its worker, and its temporary folder too."""
    mark = tmp_path / "pid"
    script = textwrap.dedent(f"""\
        import os, sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from kb.runner import BlockPool
        if __name__ == "__main__":
            pool = BlockPool("cpu", jobs=1, timeout=600)
            pool.submit("import os\\nopen({str(mark)!r}, 'w').write(str(os.getpid()))\\nwhile True:\\n    pass\\n")
            while not os.path.exists({str(mark)!r}) or not open({str(mark)!r}).read():
                time.sleep(0.05)
            raise KeyboardInterrupt
        """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, TMPDIR=str(build_tmpdir)))
    assert "KeyboardInterrupt" in done.stderr and done.returncode != 0
    assert [p.name for p in build_tmpdir.iterdir() if p.name.startswith("kb-")] == []  # its folder went too
    block = int(mark.read_text())
    deadline = time.monotonic() + 30
    while Path(f"/proc/{block}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(f"/proc/{block}").exists() or Path(f"/proc/{block}/stat").read_text().split(") ")[1][0] == "Z"


def test_a_build_stopped_by_ctrl_c_while_a_page_block_runs_leaves_no_temporary_folder(tmp_path, build_tmpdir):
    """MkDocs calls no on_build_error for Ctrl-C, so the executor is not closed: the block's output
    folder (kb-exec-out-*) and its process's folder (kb-block-*) are removed at exit all the same."""
    mark = tmp_path / "pid"
    script = textwrap.dedent(f"""\
        import os, sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from pathlib import Path
        from kb.execute import Executor
        from kb.runner import BlockPool
        if __name__ == "__main__":
            ex = Executor(cache_dir=Path({str(tmp_path / "cache")!r}), docs_dir=Path({str(tmp_path)!r}),
                          pool=BlockPool("cpu", jobs=1, timeout=600))
            ex._start("import os\\nopen({str(mark)!r}, 'w').write(str(os.getpid()))\\nwhile True:\\n    pass\\n", "docs/a.md")
            while not os.path.exists({str(mark)!r}) or not open({str(mark)!r}).read():
                time.sleep(0.05)
            raise KeyboardInterrupt
        """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, TMPDIR=str(build_tmpdir)))
    assert "KeyboardInterrupt" in done.stderr and done.returncode != 0, done.stderr
    assert mark.read_text()  # the block ran
    assert [p.name for p in build_tmpdir.iterdir() if p.name.startswith("kb-")] == []


def test_a_cache_deleted_while_blocks_ran_side_by_side_names_every_block_that_ran(tmp_path):
    """Which of two blocks running at once deleted the cache cannot be told: both are named (the
    block that did it among them), none is let through."""
    ex = Executor(cache_dir=tmp_path / "cache", docs_dir=tmp_path, pool=BlockPool("cpu", jobs=2))
    (tmp_path / "go").mkdir()
    signal = str(tmp_path / "go" / "x")
    waits = f"import os, time\nwhile not os.path.exists({signal!r}):\n    time.sleep(0.01)\nprint('waited')"
    deletes = f"import shutil\nshutil.rmtree({str(tmp_path / 'cache')!r})\nopen({signal!r}, 'w').close()"
    try:
        targets = [built_page(None), built_page(None), built_page(None)]
        for target, src, code in zip(targets, ("a.md", "b.md", "c.md"), (waits, deletes, "print('after')")):
            target.content = ex.process_page(page(code), src, src[:-3] + "/", page=target)
        with pytest.raises(ExecutionError) as caught:
            ex.finish()
    finally:
        ex.close()
    message = str(caught.value)
    assert message.startswith("while these 2 Python blocks ran side by side, the cache folder"), message
    assert "\n  docs/a.md: Python block 1 (first line: 'import os, time')" in message
    assert "\n  docs/b.md: Python block 1 (first line: 'import shutil')" in message
    assert "c.md" not in message and "must not delete the build's cache" in message


# --- how a block ended is read once, whichever thread asks --------------------------------------


RACE = """\
import json, os, sys, threading, time
sys.path.insert(0, sys.argv[1])  # the project
import multiprocessing.forkserver as forkserver
import multiprocessing.popen_forkserver as popen
from kb.runner import BlockPool

original, read_signed = popen.Popen.poll, forkserver.read_signed
inside, overlaps, guard = {}, [], threading.Lock()

def poll(self, flag=os.WNOHANG):
    with guard:
        inside[id(self)] = inside.get(id(self), 0) + 1
        if inside[id(self)] > 1:
            overlaps.append(self.pid)
    try:
        return original(self, flag)
    finally:
        with guard:
            inside[id(self)] -= 1

def slow_read(fd):
    time.sleep(0.05)
    return read_signed(fd)

if __name__ == "__main__":
    popen.Popen.poll, forkserver.read_signed = poll, slow_read
    with BlockPool("cpu", jobs=4, backend_name="forkserver") as pool:
        futures = [pool.submit("print('ran')", filename=f"<block {n}>") for n in range(24)]
        failed = [f.result().report() for f in futures if not f.result().ok]
    print(json.dumps({"failed": failed, "overlaps": len(overlaps)}))
"""


@pytest.mark.skipif("forkserver" not in multiprocessing.get_all_start_methods(), reason="no forkserver here")
def test_no_block_that_passed_is_read_as_status_255_while_other_blocks_start(tmp_path):
    """multiprocessing reads a forkserver child's exit status once from a pipe. A second thread that
    asks at the same moment (``Process.start`` asks every live child) reads end-of-file and records
    255 over the real status: a block that passed failed the CI build of 2026-12-06 with "its report
    came, but then the process exited with status 255" (CPython gh-130895). The runner asks under
    one lock: no two threads are ever inside one process's ``poll``. Here each read of a status
    first sleeps 50 ms, which widens the window: without the lock, blocks fail with 255, or threads
    wait for a status another thread took, and the run hangs (hence its own process)."""
    script = tmp_path / "race.py"
    script.write_text(RACE, encoding="utf-8")
    try:
        done = subprocess.run([sys.executable, str(script), str(ROOT)], capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail("24 one-line blocks, 4 at a time, did not end within 120 s: a thread waits for an "
                    "exit status that another thread read")
    assert done.returncode == 0, done.stderr[-3000:]
    outcome = json.loads(done.stdout.splitlines()[-1])
    assert outcome["failed"] == []
    assert outcome["overlaps"] == 0, f"{outcome['overlaps']} times two threads asked one process how it ended at once"


# --- the build killed outright: blocks running side by side, and what they started, die too -------


def test_killing_the_build_kills_blocks_running_side_by_side_and_what_they_started(tmp_path, build_tmpdir):
    mark = f"kb-test-{uuid.uuid4().hex}"
    script = textwrap.dedent(f"""\
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from kb.runner import BlockPool
        if __name__ == "__main__":
            pool = BlockPool("cpu", jobs=2, timeout=600)
            loop = "import os, subprocess, sys\\nprint(os.getpid(), flush=True)\\nsubprocess.Popen([sys.executable, '-c', 'import time; time.sleep(1000)', {mark!r}])\\nwhile True:\\n    pass\\n"
            futures = [pool.submit(loop), pool.submit(loop)]
            time.sleep(1000)
        """)
    (tmp_path / "build.py").write_text(script, encoding="utf-8")  # not on the command line: that is marked
    build = subprocess.Popen([sys.executable, str(tmp_path / "build.py")], stdout=subprocess.PIPE, text=True,
                             env=dict(os.environ, TMPDIR=str(build_tmpdir)))
    try:
        deadline = time.monotonic() + 120
        while len(marked(mark)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(marked(mark)) == 2, "the two blocks did not start their processes"
    finally:
        build.kill()  # SIGKILL: no clean-up by the build
        build.wait()
    deadline = time.monotonic() + 30
    while marked(mark) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert marked(mark) == []
