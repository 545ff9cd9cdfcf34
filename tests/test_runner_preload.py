"""The worker imports what blocks use while it waits, and its memory is in huge pages for cheap forks.

The worker is ready once numpy and torch are imported; matplotlib, sympy and torch._dynamo
(``PRELOAD_LATER``) are imported while it waits for a job, a module at a time, then its memory
moves into huge pages (also while a block runs). A block sent before the imports end waits for
them rather than import them again; every block finds them imported, in a worker that is still
one thread.
"""

from __future__ import annotations

import os
import textwrap
import time

import pytest

from kb.blockrunner import PRELOAD, PRELOAD_LATER, BlockRunner

# What a block sees of the worker that forked it, printed first thing (before it imports anything).
INSPECT = textwrap.dedent("""\
    import os, sys
    later = {later!r}
    print("missing", [name for name in later if name not in sys.modules])
    worker = os.getppid()
    print("worker threads", len(os.listdir(f"/proc/{{worker}}/task")))
    with open(f"/proc/{{worker}}/smaps_rollup") as f:
        huge = next(int(line.split()[1]) for line in f if line.startswith("AnonHugePages:"))
    print("worker huge KiB", huge)
    with open(f"/proc/{{worker}}/smaps") as f:  # one entry per mapping, each ends with VmFlags
        entries = f.read().split("VmFlags:")
    flags = [entry.split("\\n", 1)[0].split() for entry in entries[1:]]
    huge_kib = [int(e.split("AnonHugePages:", 1)[1].split()[0]) for e in entries[:-1]]
    print("huge mappings", sum(1 for kib in huge_kib if kib))
    print("huge mappings open to new huge pages", [f for f, kib in zip(flags, huge_kib) if kib and "nh" not in f])
    """).format(later=PRELOAD_LATER)

# A first block that needs what the worker has not imported yet: a figure with matplotlib.
PLOT = textwrap.dedent("""\
    import os
    import matplotlib.pyplot as plt
    import torch

    fig, ax = plt.subplots()
    ax.plot(torch.arange(5.0), torch.arange(5.0) ** 2)
    fig.savefig(os.path.join(os.getcwd(), "plot.png"))
    assert os.path.getsize("plot.png") > 1000
    """)


def huge_pages_expected() -> str | None:
    """Why this machine can't move memory into huge pages, or None when it can (Linux >= 6.1 for
    MADV_COLLAPSE, transparent huge pages not "never")."""
    try:
        mode = open("/sys/kernel/mm/transparent_hugepage/enabled").read()
    except OSError:
        return "no transparent huge pages in this kernel"
    if "[never]" in mode:
        return "transparent huge pages are off (never)"
    major, minor = (int(x) for x in os.uname().release.split(".")[:2])
    if (major, minor) < (6, 1):
        return f"Linux {os.uname().release} has no MADV_COLLAPSE (6.1+)"
    return None


def field(stdout: str, name: str) -> str:
    return stdout.split(name + " ", 1)[1].split("\n", 1)[0]


@pytest.fixture(scope="module")
def fresh_runner():
    runner = BlockRunner("cpu")
    runner.start()
    yield runner
    runner.close()


def test_the_worker_is_ready_before_its_later_imports(fresh_runner):
    info = fresh_runner.ready_info
    assert info["later"] == list(PRELOAD_LATER)
    assert set(PRELOAD) == {"numpy", "torch"} and not set(PRELOAD) & set(PRELOAD_LATER)
    assert info["os_threads"] == 1


def test_a_block_sent_before_the_imports_end_waits_for_them_and_later_ones_do_not_wait(fresh_runner):
    """Imported again in the block's own process, the modules would cost as much CPU again, on top
    of the worker's: a block that comes early waits for the worker's imports instead."""
    first = fresh_runner.run(INSPECT + PLOT, filename="<inspect, plot>")
    assert first.ok, first.report()
    # sent right after start-up: the worker was still importing, and the block waited for all of it
    assert first.waited > 0.05, first
    assert field(first.stdout, "missing") == "[]", first.stdout
    assert field(first.stdout, "worker threads") == "1"  # forking stays safe

    deadline = time.monotonic() + 120
    while (result := fresh_runner.run(INSPECT, filename="<inspect>")).preloading:  # the huge pages
        assert result.waited == 0.0, result
        assert time.monotonic() < deadline, "the worker never finished its preload while it waited"
        time.sleep(0.2)
    assert field(result.stdout, "missing") == "[]", result.stdout
    later = fresh_runner.run(PLOT, filename="<plot again>")
    assert later.ok and not later.preloading and later.waited == 0.0, later.report()


def test_the_worker_memory_is_in_huge_pages_once_preloaded(fresh_runner):
    reason = huge_pages_expected()
    if reason is not None:
        pytest.skip(reason)
    deadline = time.monotonic() + 120
    while (result := fresh_runner.run(INSPECT, filename="<inspect>")).preloading:
        assert time.monotonic() < deadline, "the worker never finished its preload while it waited"
        time.sleep(0.2)
    # the worker's heap and Python's arenas: about 200 MiB on this project's machines
    assert int(field(result.stdout, "worker huge KiB")) > 50 * 1024, result.stdout
    # and what blocks allocate there afterwards gets ordinary pages ("nh": no new huge pages)
    assert int(field(result.stdout, "huge mappings")) > 0, result.stdout
    assert field(result.stdout, "huge mappings open to new huge pages") == "[]", result.stdout


def test_a_preload_step_that_initialises_cuda_stops_the_worker(monkeypatch):
    """Forking after CUDA is initialised breaks every child's CUDA: the worker checks after each
    step of its preload, as it does before it reports ready (no GPU needed: the flag is faked)."""
    import gc

    import torch

    from kb.blockrunner import _IdleWork

    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    idle = _IdleWork(names=("json",))
    try:
        with pytest.raises(RuntimeError, match="preloading json initialised CUDA"):
            idle.step()
    finally:
        gc.unfreeze()  # step() froze this test process's objects


def test_a_preload_step_that_fails_is_said_and_the_worker_goes_on(capsys):
    """A module that can't be imported stops nothing: the worker says so on its stderr (kept by
    the runner, shown if the worker dies) and a block that needs the module fails on its own."""
    import gc

    from kb.blockrunner import _IdleWork

    idle = _IdleWork(names=("kb_no_such_module", "json"))
    try:
        idle.step()
        assert idle.pending  # json and the huge pages are still to do
        idle.step()
    finally:
        gc.unfreeze()
    err = capsys.readouterr().err
    assert "preloading kb_no_such_module failed: ModuleNotFoundError" in err, err
    assert "preloading json" not in err


# Matplotlib's settings as a block sees them, and whether the mathtext parser is already built.
MATPLOTLIB_STATE = textwrap.dedent("""\
    import json, sys
    built = "matplotlib.mathtext" in sys.modules and sys.modules["matplotlib.mathtext"].MathTextParser._parser is not None
    import matplotlib, matplotlib.pyplot as plt
    print(json.dumps({"parser built": built, "figures": plt.get_fignums(),
                      "rc": sorted((key, repr(value)) for key, value in dict.items(matplotlib.rcParams))}))
    """)


def test_the_worker_fills_matplotlibs_caches_and_leaves_its_settings_as_a_fresh_process_has_them(fresh_runner):
    """The worker builds Matplotlib's mathtext parser and draws a figure (off pyplot) so that a
    block's first figure does not pay for them; a block still sees no figure and the rcParams a
    fresh interpreter has."""
    import json
    import subprocess
    import sys

    deadline = time.monotonic() + 120
    while (result := fresh_runner.run(MATPLOTLIB_STATE, filename="<matplotlib>")).preloading:
        assert time.monotonic() < deadline, "the worker never finished its preload"
    assert result.ok, result.report()
    seen = json.loads(result.stdout)
    fresh = subprocess.run([sys.executable, "-c", MATPLOTLIB_STATE], capture_output=True, text=True, check=True,
                           env=dict(os.environ, MPLBACKEND="Agg")).stdout
    assert seen["parser built"] and not json.loads(fresh)["parser built"]
    assert seen["figures"] == []
    assert seen["rc"] == json.loads(fresh)["rc"]


# A 16 MiB tensor, made and dropped twice: where glibc put it (mmap or heap), from mallinfo2.
MALLOC = textwrap.dedent("""\
    import ctypes, torch

    class Info(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                                                          "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

    libc = ctypes.CDLL(None)
    libc.mallinfo2.restype = Info
    before = libc.mallinfo2().hblkhd
    mapped = []
    for _ in range(2):
        x = torch.ones(4 << 20)  # 16 MiB
        mapped.append(libc.mallinfo2().hblkhd - before)
        del x
    print(mapped)
    """)


def test_a_blocks_large_tensors_come_from_the_heap_as_in_a_long_running_process(fresh_runner):
    """glibc maps every allocation over 128 KiB on its own in a fresh process (zeroed pages again
    for each); a block's process starts with the limits a long-running process reaches (32 MiB)."""
    result = fresh_runner.run(MALLOC)
    assert result.ok, result.report()
    assert result.stdout.strip() == "[0, 0]", result.stdout
