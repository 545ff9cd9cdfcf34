"""Benchmark of the block runner: `make bench` (python -m kb.bench_blocks [--device cpu|cuda|all]).

Runs what the tests run (every snippet file, every snippet section alone, every Python block of
the built site) through one kb.blockrunner worker per device, and prints the number of blocks,
the total wall time, the sum of the blocks' own times, the cost of one interpreter + torch
start-up (a fresh ``python -c "import torch"``), and the overhead. Nothing is reused between
identical blocks here: every block runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kb.blockrunner import BlockRunner, site_pages, snippet_files, snippet_sections  # noqa: E402


def fresh_import_torch(repeat: int = 3) -> float:
    """Median seconds of a fresh ``python -c "import torch"`` (the cost the worker pays once)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import torch"], check=True,
                       env=dict(os.environ, CUDA_VISIBLE_DEVICES=""))
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def collect_jobs(site: Path | None) -> tuple[list[tuple[str, str, dict]], str]:
    """(label, code, run() keywords) for every snippet file, section and runnable page block."""
    jobs = []
    for path in snippet_files(ROOT):
        rel = path.relative_to(ROOT).as_posix()
        jobs.append((rel, path.read_text(encoding="utf-8"), {"filename": rel, "script": True}))
        for section in snippet_sections(path, ROOT):
            jobs.append((f"{rel}:{section.name}", section.code,
                         {"filename": rel, "line_numbers": section.line_numbers}))
    note = "site: not built (--no-site)"
    if site is not None:
        skipped = 0
        for page in site_pages(site, ROOT / "docs", ROOT):
            for block in page.blocks:
                try:
                    if block.skip_reason is not None:
                        skipped += 1
                        continue
                except ValueError:
                    pass  # the guard reports it; here it simply runs
                label = f"<{page.name} block {block.index}>"
                jobs.append((label, block.code, {"filename": label}))
        note = f"site: page blocks included ({skipped} skipped with a reason)"
    return jobs, note


def build(site_dir: Path) -> bool:
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site_dir)],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        print("mkdocs build --strict failed; benchmarking the snippets only:\n" + done.stderr[-2000:])
    return done.returncode == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=("cpu", "cuda", "all"), default="all",
                        help="all (default): cpu, plus cuda when torch.cuda.is_available()")
    parser.add_argument("--no-site", action="store_true", help="snippets only; do not build the site")
    args = parser.parse_args(argv)

    if args.device == "all":
        import torch  # this process only; the workers are separate processes

        devices = ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]
    else:
        devices = [args.device]

    with tempfile.TemporaryDirectory() as tmp:
        site = None
        if not args.no_site:
            t0 = time.perf_counter()
            site = Path(tmp) / "site" if build(Path(tmp) / "site") else None
            if site is not None:
                print(f"site built in {time.perf_counter() - t0:.1f} s (not counted below)")
        jobs, note = collect_jobs(site)

    startup = fresh_import_torch()
    failures = 0
    print(f"{len(jobs)} blocks per device: {note}")
    for device in devices:
        t0 = time.perf_counter()
        with BlockRunner(device) as runner:
            own = 0.0
            slowest = []
            for label, code, kwargs in jobs:
                result = runner.run(code, **kwargs)
                own += result.duration
                slowest.append((result.wall, label))
                if not result.ok:
                    failures += 1
                    print(result.report(label))
        wall = time.perf_counter() - t0
        overhead = wall - own
        print(f"\n[{device}]")
        print(f"  blocks run                          {len(jobs)}")
        print(f"  interpreter + import start-ups      {runner.starts} ({runner.startup_s:.2f} s, "
              f"imports {runner.ready_info['import_s']:.2f} s; a device probe adds one tiny block)")
        print(f"  total wall time                     {wall:.2f} s")
        print(f"  sum of the blocks' own times        {own:.2f} s")
        print(f"  overhead (wall - sum)               {overhead:.2f} s = {100 * overhead / wall:.0f}% of wall, "
              f"{1000 * (overhead - runner.startup_s) / len(jobs):.0f} ms per block after start-up")
        print(f"  ratio wall / sum                    {wall / own:.2f}")
        print(f"  fresh `python -c \"import torch\"`    {startup:.2f} s (median of 3)")
        print(f"  one interpreter per block instead   ~{own + len(jobs) * startup:.1f} s "
              f"({len(jobs)} x {startup:.2f} s start-up + {own:.1f} s)")
        print("  slowest: " + ", ".join(f"{label} {w:.2f} s" for w, label in sorted(slowest, reverse=True)[:3]))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
