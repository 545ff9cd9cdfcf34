"""Benchmark: a fresh clone's first build, notebooks run beside the page blocks or one after another
(issue #28 items 2 and 5; ``make bench``).

    python -m benchmarks.bench_cold_build [--repeat 1]

Each build is a fresh ``mkdocs build`` process in a fresh copy of the project's sources
(benchmarks/project_builds.py ``copy_project``: no ``.cache``, so every cache is empty: code blocks,
notebooks, search fields, fonts), as after ``git clone``:

* before: ``KB_NOTEBOOK_JOBS=0``: mkdocs-jupyter runs each notebook while it renders its page, one
  after the other, after the Markdown pages before it (how builds ran before kb/notebook_exec.py);
* after: the notebooks start when the pages passed the check and run beside each other and the
  page blocks (kb/notebook_exec.py);
* plugin off: stock Material + mkdocs-jupyter on the same pages, the ``kb`` plugin removed and
  notebooks not run (bench_build's baseline);
* notebooks cached: as "after", but with the notebooks' pages in mkdocs-jupyter's cache (taken
  from the "after" build of the same round), every other cache empty: the floor "after" can
  reach, what the build costs without the notebooks;
* fresh machine: as "after", with an empty Matplotlib cache folder (``MPLCONFIGDIR``), as in CI or
  on a new member's computer: Matplotlib's font list and kb/figure_fonts.py's copies of NanumGothic
  are made once per machine, and the other kinds find them made.

And, for where the time goes, each notebook run alone in a fresh kernel as the build runs it.
Prints wall seconds (what a contributor waits) and CPU seconds (user + system of the build and the
processes it waited for), with ratios to "before" and to "plugin off"; medians of ``--repeat``
rounds, the three kinds taking turns within a round so that a busy machine weighs on each alike.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.project_builds import NOPLUGIN, ROOT, Timing, copy_project, process_build, write_noplugin_config

KINDS = ("plugin off", "before", "after", "notebooks cached", "fresh machine")


def cold_build(tmp: Path, kind: str, n: int) -> Timing:
    """One build of ``kind`` in a fresh copy of the sources under ``tmp``."""
    project = copy_project(tmp / f"{kind.replace(' ', '-')}-{n}")
    if kind == "notebooks cached":
        shutil.copytree(tmp / f"after-{n}" / ".cache" / "mkdocs-jupyter", project / ".cache" / "mkdocs-jupyter")
    saved = {name: os.environ.get(name) for name in ("KB_NOTEBOOK_JOBS", "MPLCONFIGDIR")}
    if kind == "before":
        os.environ["KB_NOTEBOOK_JOBS"] = "0"
    else:
        os.environ.pop("KB_NOTEBOOK_JOBS", None)
    if kind == "fresh machine":  # Matplotlib's cache empty: its font list, kb/figure_fonts.py's copies
        os.environ["MPLCONFIGDIR"] = str(tmp / f"matplotlib-{n}")
    try:
        if kind == "plugin off":
            write_noplugin_config(project)
            return process_build(project, NOPLUGIN)[0]
        return process_build(project)[0]
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def notebook_alone(path: Path) -> float:
    """Seconds to run one notebook in a fresh kernel on the CPU, as the build does."""
    from kb import notebook_exec

    home = notebook_exec.kernel_home()
    try:
        env = dict(os.environ, **notebook_exec.kernel_env("cpu", home))
        start = time.perf_counter()
        notebook_exec.execute(str(path), "python3", False, env)
        return time.perf_counter() - start
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _commit() -> str:
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain"], capture_output=True, text=True)
        return out.stdout.strip() + ("+changes" if dirty.stdout.strip() else "")
    except OSError:
        return "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=1, help="rounds, median (default 1)")
    args = parser.parse_args(argv)
    times: dict[str, list[Timing]] = {kind: [] for kind in KINDS}
    with tempfile.TemporaryDirectory(prefix="kb-bench-cold-") as tmp:
        for n in range(args.repeat):
            for kind in KINDS:
                times[kind].append(cold_build(Path(tmp), kind, n))
                print(f"  round {n + 1}: {kind}: {times[kind][-1].wall:.1f} s wall", flush=True)
    alone = {p.name: notebook_alone(p) for p in sorted((ROOT / "docs" / "notebooks").glob("*.ipynb"))}

    def median(kind: str, what: str) -> float:
        return statistics.median(getattr(t, what) for t in times[kind])

    print(f"\ncold build of a fresh copy, {dt.date.today()}, commit {_commit()}, {platform.machine()}, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}; median of {args.repeat}")
    print(f"{'':18}{'wall s':>9}{'CPU s':>9}{'/ before':>10}{'/ plugin off':>14}")
    for kind in KINDS:
        wall, cpu = median(kind, "wall"), median(kind, "cpu")
        print(f"{kind:18}{wall:9.1f}{cpu:9.1f}{wall / median('before', 'wall'):9.2f}x"
              f"{wall / median('plugin off', 'wall'):13.2f}x")
    print("each notebook alone (fresh kernel, CPU): "
          + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in alone.items())
          + f"; together {sum(alone.values()):.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
