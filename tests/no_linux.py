"""macOS and Windows simulated on Linux: what the shared build (conftest.py) and tests/test_portable.py
run under.

There is no macOS or Windows machine here, so their absence of Linux's own calls is simulated: a
``sitecustomize`` on ``PYTHONPATH`` (loaded by every interpreter a build starts: the build, the
forkserver, each block, the notebook kernels) deletes the Linux-only calls the old runner needed
(``os.pidfd_open``, ``signal.pidfd_send_signal``, ``os.pipe2``, ``os.sched_getaffinity``,
``os.memfd_create``, ``prctl``) and, where asked, makes ``import fcntl`` fail as it does on Windows.
Each interpreter that loads it writes one line to ``loaded.log`` beside it, so a test can see that
the build's processes ran under it.
"""

from __future__ import annotations

import os
from pathlib import Path

LINUX_ONLY = ("os.pidfd_open", "os.pipe2", "os.sched_getaffinity", "os.sched_setaffinity", "os.memfd_create",
              "signal.pidfd_send_signal")

SITECUSTOMIZE = """\
import ctypes, os, signal, sys
for dotted in {names!r}:
    module, name = dotted.split(".")
    if hasattr(sys.modules[module], name):
        delattr(sys.modules[module], name)
_CDLL = ctypes.CDLL
class _NoPrctl(_CDLL):
    def __getattr__(self, name):
        if name in ("prctl", "mallopt", "madvise"):
            raise AttributeError(name + ": not on this system")
        return super().__getattr__(name)
ctypes.CDLL = _NoPrctl
if {no_fcntl!r}:
    sys.modules["fcntl"] = None  # `import fcntl` raises ImportError, as on Windows
with open({log!r}, "a", encoding="utf-8") as _log:
    _log.write(f"{{os.getpid()}} {{' '.join(sys.argv)[:200]}}\\n")
"""


def without_linux(folder: Path, *, no_fcntl: bool = False, root: Path | None = None) -> dict:
    """The environment for a process (and all it starts) without Linux's own calls: the
    ``sitecustomize`` is written into ``folder``, put first on PYTHONPATH (``root`` after it)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(
        SITECUSTOMIZE.format(names=LINUX_ONLY, no_fcntl=no_fcntl, log=str(folder / "loaded.log")), encoding="utf-8")
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(folder), *([str(root)] if root else [])]))


def loaded_by(folder: Path) -> list[str]:
    """The processes (pid and command line) that loaded the ``sitecustomize`` in ``folder``."""
    log = folder / "loaded.log"
    return log.read_text(encoding="utf-8").splitlines() if log.is_file() else []
