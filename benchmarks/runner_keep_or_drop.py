"""Keep or drop: the Linux-only block runner against the portable one, on what a user waits for.

Issue #24 asked to keep each Linux-only optimisation of the old runner (kb/blockrunner.py: forking
each block's process ahead, clones of the worker over SCM_RIGHTS, huge pages, malloc tuning,
subreaper, gc.freeze) only if it saves at least 5 % of a user's wait, measured with it on and off.
The old runner had no switch for each; this compares all of them together against none (the
portable runner of kb/runner/): if all of them together save less than 5 % of a wait, none of them
alone does, and each is dropped.

Two source trees from git (``--old`` and ``--new``, each a commit), side by side in one run, the
order alternating every round so that a machine getting busier does not favour one:

* cold build: ``mkdocs build --strict`` with every cache removed (blocks, catalogue, notebooks,
  search), as a fresh clone's first build;
* saved edit: a warm build, one code block's line changed, the build again in the same process
  (what ``mkdocs serve`` does; the second build is timed);
* the runner's share of ``make test``: ``pytest -n 2 tests/test_snippets.py tests/test_mistakes.py``
  (every snippet and every catalogue mistake, each block alone), its mistakes cache removed.

    python benchmarks/runner_keep_or_drop.py --old fadea8d --new 5a73ab3 --rounds 2

Prints a Markdown table (median wall seconds, new/old ratio); benchmarks/runner.md records a run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

EDIT_SCRIPT = """\
import sys, time
from pathlib import Path
from mkdocs.commands.build import build
from mkdocs.config import load_config

def once():
    config = load_config("mkdocs.yml", strict=True, site_dir="site")
    t0 = time.perf_counter()
    build(config)
    return time.perf_counter() - t0

if __name__ == "__main__":
    once()  # warm: every block cached
    page = Path("docs/qna/adagrad.md")
    text = page.read_text(encoding="utf-8")
    marker = "```python"
    at = text.index(marker)
    end = text.index("\\n", at) + 1
    page.write_text(text[:end] + "print('edited', 1)\\n" + text[end:], encoding="utf-8")
    try:
        print(f"EDIT {once():.3f}")
    finally:
        page.write_text(text, encoding="utf-8")
"""


def tree(commit: str, into: Path) -> Path:
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", commit], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "x"], cwd=into, input=archive, check=True)
    return into


def timed(cmd: list[str], cwd: Path, env: dict) -> tuple[float, str]:
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=1800)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed in {cwd}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return wall, done.stdout


def measure(src: Path, env: dict) -> dict[str, float]:
    shutil.rmtree(src / ".cache", ignore_errors=True)
    shutil.rmtree(src / "site", ignore_errors=True)
    cold, _ = timed([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", "site"], src, env)
    (src / "edit_bench.py").write_text(EDIT_SCRIPT, encoding="utf-8")
    _, out = timed([sys.executable, "edit_bench.py"], src, env)
    edit = float(out.rsplit("EDIT ", 1)[1].split()[0])
    shutil.rmtree(src / ".cache" / "kb-mistakes", ignore_errors=True)
    tests, _ = timed([sys.executable, "-m", "pytest", "-q", "-n", "2", "-p", "no:cacheprovider",
                      "tests/test_snippets.py", "tests/test_mistakes.py"], src, env)
    return {"cold build": cold, "saved edit": edit, "snippet + catalogue tests": tests}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--old", required=True, help="commit with the Linux-only runner")
    parser.add_argument("--new", required=True, help="commit with the portable runner")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    env.pop("KB_RUNNER", None)
    work = Path(tempfile.mkdtemp(prefix="kb-keep-or-drop-"))
    trees = {"old": tree(args.old, work / "old"), "new": tree(args.new, work / "new")}
    runs: dict[str, list[dict]] = {"old": [], "new": []}
    try:
        for r in range(args.rounds):
            for name in (("old", "new") if r % 2 == 0 else ("new", "old")):
                runs[name].append(measure(trees[name], env))
                print(f"round {r + 1} {name}: {runs[name][-1]}", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"| wait (median of {args.rounds}, s) | old: Linux-only runner ({args.old}) | new: portable ({args.new}) | new / old |")
    print("|---|---:|---:|---:|")
    for key in runs["old"][0]:
        old = statistics.median(run[key] for run in runs["old"])
        new = statistics.median(run[key] for run in runs["new"])
        print(f"| {key} | {old:.1f} | {new:.1f} | {new / old:.2f} |")


if __name__ == "__main__":
    main()
