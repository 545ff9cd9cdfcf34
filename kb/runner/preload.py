"""What the process that forks the blocks imports once, so that no block pays for it.

This module owns the preload of the forkserver (kb/runner/runner.py starts it with this module as
its preload; nothing else imports it). Importing it: sets the BLAS/OpenMP thread counts before
numpy and torch load (``$KB_BLOCK_THREADS``, default 1), imports what nearly every block imports,
fills Matplotlib's per-process caches, and freezes it all (``gc.freeze()``: a block's cyclic
collections neither scan nor copy these objects). It never initialises CUDA: a process forked from
one that did cannot use CUDA.

Under ``spawn`` (Windows, or ``KB_RUNNER=spawn``) there is no such process: each block imports what
it needs itself.
"""

import gc
import importlib
import os
import sys

from . import child  # noqa: F401  (what each block's process runs)
from .runner import PRELOAD, THREAD_VARIABLES



_threads = os.environ.get("KB_BLOCK_THREADS", "1")
for _name in THREAD_VARIABLES:
    os.environ[_name] = _threads if _threads.isdigit() else "1"
os.environ.setdefault("MPLBACKEND", "Agg")


def _warm_matplotlib() -> None:
    """Fill what Matplotlib computes once per process and keeps: its mathtext parser (a log axis's
    tick labels), the default font and its lookups, the text layout of a first figure (drawn off
    pyplot: no figure number taken, rcParams untouched). Caches only: a block sees the same results."""
    import matplotlib.mathtext
    from matplotlib.figure import Figure

    matplotlib.mathtext.MathTextParser("agg").parse("$10^{-1}$", 72)
    fig = Figure(figsize=(2, 2), dpi=50)
    ax = fig.add_subplot()
    ax.set_yscale("log")
    ax.plot([1, 10, 100], label="a")
    ax.set(title="$x^2$", xlabel="x")
    ax.legend()
    fig.canvas.draw()


for _name in PRELOAD:
    try:
        importlib.import_module(_name)
    except Exception as exc:  # noqa: BLE001 - a block that needs it fails on its own, with its traceback
        print(f"kb runner: preloading {_name} failed: {exc!r}", file=sys.stderr, flush=True)
try:
    _warm_matplotlib()
except Exception as exc:  # noqa: BLE001
    print(f"kb runner: warming matplotlib failed: {exc!r}", file=sys.stderr, flush=True)
if "torch" in sys.modules and sys.modules["torch"].cuda.is_initialized():
    raise SystemExit("kb runner: the preload initialised CUDA; blocks forked from it could not use CUDA")
gc.freeze()
