"""What a block's process starts with: the forkserver's imports, and nothing else of theirs.

Under ``forkserver`` (Linux and macOS) one process imports torch, numpy and matplotlib once
(kb/runner/preload.py) and each block's process is forked from it: a block finds them imported, frozen
(``gc.freeze``), Matplotlib's caches filled, and still sees a fresh interpreter's ``sys.path``,
rcParams and no figure, and holds no descriptor of the runner's but its own channel. Under
``spawn`` (Windows; ``KB_RUNNER=spawn``) a block imports what it needs itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from kb.runner import BlockRunner, backend
from kb.runner.runner import PRELOAD

MISSING = f"import sys\nprint([n for n in {PRELOAD!r} if n not in sys.modules])"


@pytest.fixture(scope="module")
def runner(block_runners):
    return block_runners.get("cpu")


forkserver_only = pytest.mark.skipif(backend() != "forkserver", reason="what the forkserver preloads; spawn has no preload")


@forkserver_only
def test_a_block_finds_what_every_block_imports_already_imported(runner):
    result = runner.run(MISSING)
    assert result.ok, result.report()
    assert result.stdout.strip() == "[]"


def test_under_spawn_a_block_starts_with_nothing_imported(monkeypatch):
    """The other backend really is another: a fresh interpreter per block (Windows' way)."""
    monkeypatch.setenv("KB_RUNNER", "spawn")
    with BlockRunner("cpu") as spawned:
        assert spawned.backend == "spawn"
        result = spawned.run(MISSING)
    assert result.ok, result.report()
    assert "'torch'" in result.stdout and "'numpy'" in result.stdout


@forkserver_only
def test_a_block_starts_with_the_preload_frozen_and_its_own_objects_collected(runner):
    """The forkserver freezes what it imported (gc.freeze), so a block's cyclic collections do not
    write to, and so copy, that memory; the block's own cycles are still collected."""
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


FRESH_PATH = "import json, sys\nprint(json.dumps(sys.path[1:]))"


def test_a_block_sees_sys_path_as_a_fresh_interpreter_has_it(runner):
    """Imports may append to sys.path (setuptools its _vendor folder): a block must not be able to
    import what is not installed."""
    result = runner.run(FRESH_PATH)
    assert result.ok, result.report()
    fresh = subprocess.run([sys.executable, "-c", FRESH_PATH], capture_output=True, text=True, check=True,
                           cwd=runner.cwd).stdout
    assert json.loads(result.stdout) == json.loads(fresh)


MATPLOTLIB_STATE = textwrap.dedent("""\
    import json, sys
    built = "matplotlib.mathtext" in sys.modules and sys.modules["matplotlib.mathtext"].MathTextParser._parser is not None
    import matplotlib, matplotlib.pyplot as plt
    print(json.dumps({"parser built": built, "figures": plt.get_fignums(),
                      "rc": sorted((key, repr(value)) for key, value in dict.items(matplotlib.rcParams))}))
    """)


@forkserver_only
def test_the_preload_fills_matplotlibs_caches_and_leaves_its_settings_as_a_fresh_process_has_them(runner):
    """The forkserver builds Matplotlib's mathtext parser and draws a figure (off pyplot) so that a
    block's first figure does not pay for them; a block still sees no figure and the rcParams a
    fresh interpreter has."""
    result = runner.run(MATPLOTLIB_STATE, filename="<matplotlib>")
    assert result.ok, result.report()
    seen = json.loads(result.stdout)
    fresh = subprocess.run([sys.executable, "-c", MATPLOTLIB_STATE], capture_output=True, text=True, check=True,
                           env=dict(os.environ, MPLBACKEND="Agg")).stdout
    assert seen["parser built"] and not json.loads(fresh)["parser built"]
    assert seen["figures"] == []
    assert seen["rc"] == json.loads(fresh)["rc"]


# What a block's process holds: every pipe and socket but 0-2 (the listing's own descriptor aside).
PLUMBING = textwrap.dedent("""\
    import os, stat
    held = []
    for name in os.listdir("/proc/self/fd"):
        try:
            mode = os.fstat(int(name)).st_mode
        except OSError:  # the listing's own descriptor, closed by now
            continue
        if int(name) > 2 and (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):
            held.append(os.readlink(f"/proc/self/fd/{name}").split(":")[0])
    print(sorted(held))
    """)


@forkserver_only
@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="reads /proc/self/fd (Linux)")
def test_a_block_holds_no_pipe_of_the_runners_but_its_channel_and_the_builds_sentinel(runner):
    """multiprocessing's plumbing (the resource tracker's pipe, the forkserver's) is closed before the
    block runs: a block that writes to every descriptor it has cannot break the runner for the
    blocks after it (tests/test_runner_verdict.py does that)."""
    result = runner.run(PLUMBING)
    assert result.ok, result.report()
    assert json.loads(result.stdout.replace("'", '"')) == ["pipe", "socket"]  # the build's sentinel, the channel
