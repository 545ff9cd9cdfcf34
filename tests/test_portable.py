"""The build works where Linux's own calls do not exist (macOS), and the package imports without fcntl (Windows).

There is no macOS or Windows machine here, so their absence is simulated (tests/no_linux.py). The
suite's shared build (conftest.py, ``built_site``) runs under that simulation with an empty block
cache, so every page block of the site is executed in every run by the runner a Mac uses, and
every test that reads the built site reads that build.
"""

from __future__ import annotations

import subprocess
import sys

from bs4 import BeautifulSoup

from conftest import ROOT, shared_build_places
from no_linux import loaded_by, without_linux


def test_the_stub_really_removes_the_calls(tmp_path):
    """The simulation can fail: under it these calls are gone and fcntl cannot be imported."""
    code = ("import os, signal\nassert not hasattr(os, 'pidfd_open') and not hasattr(os, 'sched_getaffinity')\n"
            "try:\n    import fcntl\nexcept ImportError:\n    print('no fcntl')\n")
    done = subprocess.run([sys.executable, "-c", code], env=without_linux(tmp_path / "stub", no_fcntl=True, root=ROOT),
                          capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout == "no fcntl\n", done.stderr


def test_every_module_of_the_package_imports_without_fcntl_or_linux_only_calls(tmp_path):
    code = ("import importlib, pkgutil, kb\n"
            "names = [m.name for m in pkgutil.walk_packages(kb.__path__, 'kb.') if not m.name.endswith(('preload', '__main__'))]\n"
            "for name in names:\n    importlib.import_module(name)\n"
            "from kb.runner import jobs_from_env\nassert jobs_from_env(1) >= 1\n"
            "print(len(names))\n")
    done = subprocess.run([sys.executable, "-c", code], env=without_linux(tmp_path / "stub", no_fcntl=True, root=ROOT), cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 30  # every module, the runner's among them


def test_the_shared_strict_build_executed_every_block_without_linux_only_calls(built_site):
    exec_cache, stub = shared_build_places(built_site)
    loaded = loaded_by(stub)
    # the build itself, and the processes it started to run blocks (the forkserver, or one each)
    assert any("build --strict" in line for line in loaded), loaded[:5]
    assert len(loaded) >= 2, loaded
    # every block output on the pages was run in this build: its cache entry was written after the
    # build began (the sitecustomize is written just before it starts)
    began = (stub / "sitecustomize.py").stat().st_mtime
    made = {entry.name for entry in exec_cache.iterdir()
            if not entry.name.startswith(".") and (entry / "result.json").stat().st_mtime >= began}
    shown = set()
    for page in built_site.rglob("*.html"):
        shown |= {div["data-kb-key"] for div in BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
                  .select(".kb-output[data-kb-key]")}
    assert len(shown) >= 10, f"only {len(shown)} block outputs on the pages"
    assert shown <= made, f"outputs not run in this build: {sorted(shown - made)[:3]}"
