"""The build works where Linux's own calls do not exist (macOS), and the package imports without fcntl (Windows).

There is no macOS or Windows machine here, so their absence is simulated: a ``sitecustomize`` on
``PYTHONPATH`` (loaded by every interpreter the test starts: the build, the forkserver, each block)
deletes the Linux-only calls the old runner needed (``os.pidfd_open``, ``signal.pidfd_send_signal``,
``os.pipe2``, ``os.sched_getaffinity``, ``os.memfd_create``, ``prctl``) and, for the import test, makes
``import fcntl`` fail as it does on Windows.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bs4 import BeautifulSoup

from conftest import ROOT, copy_project

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
"""


def without_linux(tmp_path: Path, *, no_fcntl: bool = False) -> dict:
    folder = tmp_path / "site-packages-stub"
    folder.mkdir()
    (folder / "sitecustomize.py").write_text(SITECUSTOMIZE.format(names=LINUX_ONLY, no_fcntl=no_fcntl),
                                             encoding="utf-8")
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(folder), str(ROOT)]))


def test_the_stub_really_removes_the_calls(tmp_path):
    """The simulation can fail: under it these calls are gone and fcntl cannot be imported."""
    code = ("import os, signal\nassert not hasattr(os, 'pidfd_open') and not hasattr(os, 'sched_getaffinity')\n"
            "try:\n    import fcntl\nexcept ImportError:\n    print('no fcntl')\n")
    done = subprocess.run([sys.executable, "-c", code], env=without_linux(tmp_path, no_fcntl=True),
                          capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout == "no fcntl\n", done.stderr


def test_every_module_of_the_package_imports_without_fcntl_or_linux_only_calls(tmp_path):
    code = ("import importlib, pkgutil, kb\n"
            "names = [m.name for m in pkgutil.walk_packages(kb.__path__, 'kb.') if not m.name.endswith(('preload', '__main__'))]\n"
            "for name in names:\n    importlib.import_module(name)\n"
            "from kb.runner import jobs_from_env\nassert jobs_from_env(1) >= 1\n"
            "print(len(names))\n")
    done = subprocess.run([sys.executable, "-c", code], env=without_linux(tmp_path, no_fcntl=True), cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 30  # every module, the runner's among them


def test_a_strict_build_executes_every_block_without_linux_only_calls(tmp_path, built_site):
    # after the shared build (built_site): the copy then takes its notebook pages from the cache
    # that build filled; this build is about the page blocks, all run here cold
    project = copy_project(tmp_path / "project")
    env = without_linux(tmp_path)
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                          cwd=project, env=dict(env, NO_MKDOCS_2_WARNING="1", KB_EXECUTE="1",
                                                KB_EXEC_CACHE=str(tmp_path / "exec-cache"),
                                                # the 흔한 실수 catalogue's results as the other builds keep them:
                                                # this build is about the page blocks, all run here cold
                                                KB_MISTAKES_CACHE=str(ROOT / ".cache" / "kb-mistakes")),
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-4000:]
    outputs = 0
    for page in (tmp_path / "site").rglob("*.html"):
        outputs += len(BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").select(".kb-output"))
    assert outputs >= 10, f"only {outputs} block outputs on the pages"


