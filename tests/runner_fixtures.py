"""The code-block runners the tests share: one warm worker per device for the whole session
(``block_runners``, a :class:`BlockRunners`) and a CPU runner of each backend this platform has
(``any_backend_runner``).

tests/conftest.py imports both fixtures, so every test sees them, and prints the runners' own
summary lines (left in the session's stash under ``RUNNERS``) in the "code blocks" section.
"""

from __future__ import annotations

import pytest


# --- Running code blocks: one warm worker per device for the whole session -----------------------


class BlockRunners:
    """The session's :class:`kb.runner.BlockRunner` per device, started on first use.

    ``run`` executes a block alone in a fresh child of the device's worker. Code that already
    passed on the same device in this session (a snippet section that a page includes verbatim)
    is not run a second time: the earlier result is returned with ``reused=True``. Code that
    mentions ``__file__`` is always run again, since its result may depend on its name.
    """

    def __init__(self):
        self.runners = {}
        self.passed = {}
        self.reused = 0

    def get(self, device: str):
        from kb.runner import BlockRunner

        if device not in self.runners:
            self.runners[device] = BlockRunner(device)
            self.runners[device].start()
        return self.runners[device]

    def run(self, device: str, code: str, filename: str, **kwargs):
        import dataclasses

        key = (device, code, repr(sorted(kwargs.items())))  # allow_exit etc. change the verdict; repr: lists too
        if key in self.passed and "__file__" not in code:
            self.reused += 1
            return dataclasses.replace(self.passed[key], filename=filename, reused=True)
        result = self.get(device).run(code, filename, **kwargs)
        if result.ok:
            self.passed[key] = result
        return result

    def close(self):
        for runner in self.runners.values():
            runner.close()

    def summary(self) -> list[str]:
        lines = []
        for device, r in self.runners.items():
            lines.append(f"{device}: {r.starts} worker start-up ({r.startup_s:.1f} s), {r.jobs} blocks run")
        if self.reused:
            lines.append(f"{self.reused} block(s) identical to code that had passed on the same device: result reused")
        return lines


RUNNERS = pytest.StashKey[BlockRunners]()  # the session's, for conftest's summary


@pytest.fixture(scope="session")
def block_runners(request) -> BlockRunners:
    """One warm worker per device (see kb/runner/), shared by the snippet and page-block tests."""
    runners = BlockRunners()
    request.config.stash[RUNNERS] = runners
    yield runners
    runners.close()


# --- The runner's contract under each backend (kb/runner): forkserver (Linux, macOS), spawn (Windows) ---

RUNNER_BACKENDS = ["forkserver", "spawn"]


@pytest.fixture(scope="module", params=RUNNER_BACKENDS)
def any_backend_runner(request, block_runners):
    """A CPU runner of each backend this platform has: the session's for the default one, a fresh
    one for the other (spawn is how Windows runs every block; KB_RUNNER=spawn forces it anywhere)."""
    import multiprocessing

    from kb.runner import BlockRunner, backend

    if request.param not in multiprocessing.get_all_start_methods():
        pytest.skip(f"{request.param} does not exist on this platform")
    if request.param == backend():
        yield block_runners.get("cpu")
        return
    runner = BlockRunner("cpu", backend_name=request.param)
    runner.start()
    yield runner
    runner.close()
