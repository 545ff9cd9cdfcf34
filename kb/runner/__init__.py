"""Run Python code blocks, each alone in a fresh process, on Linux, macOS and Windows.

The snippets and the site's code blocks number in the dozens, and each must run alone: fresh
globals, fresh process-wide state (default dtype, RNG, matplotlib figures), nothing it started left
running. The contract, for every backend:

* **Alone.** Each block runs in a fresh process with fresh globals (``__name__ == "__main__"``,
  ``__file__`` set), in a fresh empty working directory, with ``sys.path`` as a fresh interpreter
  has it; its stdout and stderr are captured; figures are the PNG files it saves into
  ``$SNIPPET_OUTPUT_DIR`` (kb/execute.py).
* **A timeout.** A block still running at its timeout is killed with all it started.
* **Nothing left running** (kb/runner/cleanup.py): after each block, its process group and every
  process carrying its environment token are killed; a CPU limit and a watch on the build are the
  backstops.
* **A verdict the block cannot forge** (kb/runner/verdict.py, kb/runner/child.py): a block passes
  only if it ran to its last line, shown by a report signed with a nonce and an exit status that
  its process reads only after its code returned. An assert or any exception, an early
  ``os._exit()`` or ``sys.exit()`` (unless its page allows it: ``allow_exit``), a report sent
  early, the runner's frames or closures rewritten, ``json``/``os`` patched, a forked copy that ends
  normally: each fails the block (tests/test_runner_verdict.py). It is not a sandbox: the block
  runs with the build's privileges, so code written against this runner can still forge a pass (by
  reading the secrets from its channel before its end, or rewriting the runner with ctypes).
* **Side by side.** :class:`BlockPool` runs several blocks at once; each is still alone.

Backends (``$KB_RUNNER``; kb/runner/runner.py): ``forkserver`` on Linux and macOS, where one
process imports torch, numpy and matplotlib once and forks each block's process from it
(kb/runner/preload.py); ``spawn`` on Windows, a fresh interpreter per block. ``KB_RUNNER=spawn``
(or ``portable``) runs Windows' way anywhere; ``make test`` and CI run the contract tests under both.
Either way each block's process is started ahead, while the block before it runs. No Linux-only
call is made: the Linux-only optimisations of the runner this one replaced, measured all together
against none, saved nothing of a cold build, a saved edit or the tests (benchmarks/runner.md).

    with BlockRunner(device="cpu") as runner:
        result = runner.run(code, filename="snippets/qna/adagrad.py")
        assert result.ok, result.report()

Files: runner.py (starting and waiting), child.py (the block's process), channel.py (the result
channel), verdict.py (results), cleanup.py (processes and temporary folders), pool.py (side by
side), preload.py (the forkserver's imports). What to run is found by kb/blocks.py.
"""

from .pool import BlockPool, jobs_from_env
from .runner import THREAD_VARIABLES, BlockRunner, WorkerError, backend, threads_from_env
from .verdict import BlockResult

__all__ = ["BlockPool", "BlockResult", "BlockRunner", "WorkerError", "THREAD_VARIABLES", "backend",
           "jobs_from_env", "threads_from_env"]
