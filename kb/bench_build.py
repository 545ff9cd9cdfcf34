"""Benchmark: how long the site takes to build with code execution and its cache.

Builds a temporary copy of the project in this process, as ``mkdocs serve`` rebuilds:

* off:    execution switched off (``KB_EXECUTE=0``), the baseline;
* cold:   execution on, empty cache (every block and notebook runs);
* warm:   execution on, everything cached;
* touch:  one page edited and saved, then rebuilt (the ``mkdocs serve`` case).

Each is printed in seconds and as a ratio to the baseline. Run with ``make bench``
(or ``python -m kb.bench_build``).
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COPIED = ["mkdocs.yml", "docs", "kb", "snippets", "overrides"]


def _build(project: Path, site: Path) -> float:
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    t0 = time.perf_counter()
    config = load_config(str(project / "mkdocs.yml"), site_dir=str(site))
    build(config)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="builds per warm measurement (median)")
    parser.add_argument("--page", default="docs/qna/adagrad.md", help="the page to touch")
    args = parser.parse_args(argv)
    logging.getLogger("mkdocs").setLevel(logging.WARNING)
    os.environ["NO_MKDOCS_2_WARNING"] = "1"
    with tempfile.TemporaryDirectory(prefix="kb-bench-") as tmp:
        project = Path(tmp) / "project"
        project.mkdir()
        for name in COPIED:
            src = ROOT / name
            if src.is_dir():
                shutil.copytree(src, project / name, ignore=shutil.ignore_patterns("__pycache__", ".cache"))
            elif src.exists():
                shutil.copy2(src, project / name)
        os.chdir(project)  # relative cache folders (mkdocs-jupyter's) land in the copy
        os.environ["KB_EXEC_CACHE"] = str(project / ".cache" / "kb-exec")
        site = project / "site"

        os.environ["KB_EXECUTE"] = "0"
        _build(project, site)  # imports and first-time setup, not measured
        off = statistics.median(_build(project, site) for _ in range(args.repeat))

        os.environ["KB_EXECUTE"] = "1"
        shutil.rmtree(project / ".cache", ignore_errors=True)
        cold = _build(project, site)
        warm = statistics.median(_build(project, site) for _ in range(args.repeat))

        page = project / args.page
        touches = []
        for i in range(args.repeat):
            page.write_text(page.read_text(encoding="utf-8") + f"\n<!-- edit {i} -->\n", encoding="utf-8")
            touches.append(_build(project, site))
        touch = statistics.median(touches)
        entries = len(list((project / ".cache" / "kb-exec").iterdir()))

    print(f"site build, {entries} cached code blocks (median of {args.repeat} where repeated)")
    print(f"  {'execution off (baseline)':<34}{off:7.2f} s   1.00x   (notebooks from their cache)")
    for label, value in (("cold: empty cache", cold), ("warm: everything cached", warm),
                         (f"touch one page ({args.page})", touch)):
        print(f"  {label:<34}{value:7.2f} s  {value / off:5.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
