"""Benchmark: site builds, page weight and memory as the archive grows (``make bench``).

    python -m benchmarks.bench_build [--pages 50,200,500] [--repeat 1] [--profile N]

For each page count, a temporary copy of the project gets that many generated pages (meetings,
each with a copy of every Q&A page, titled and dated apart, with a different paragraph of the
site's own prose under each section heading so that no two pages index alike; in the copy
only, never in the working tree) and is built:

* plugin off: the ``kb`` plugin (kb/plugin.py) removed, the generated navigation written into
  the config, notebooks not executed, not strict: plain Material + mkdocs-jupyter on the same
  pages (the baseline);
* cold: plugin on, every cache empty (every block, notebook and search entry computed);
* warm: nothing changed since the last build;
* edit: one generated Q&A page edited and saved, then built.

Each as a fresh ``mkdocs build`` process, and (edit, plugin off) in one process that builds
again and again as ``mkdocs serve`` does (the plugins told ``serve`` at startup, so the kb plugin
rebuilds only what changed, kb/incremental.py; after one unmeasured build there).
benchmarks/bench_serve_edit.py times serve edits of several kinds. Ratios are to the plugin-off build of the
same kind, in **CPU seconds** (user + system, of the build process and the processes it waited
for): on a shared machine the CPU a build uses moves far less than its wall time, which is
printed beside it. Peak memory is the build process's maximum RSS (the block runner's and Jupyter's
processes not counted). Page weight: each kind of page with the files it loads (CSS, scripts,
images), raw and gzip-compressed, and what the search box loads on first use (the index and
the worker). ``--profile N`` instead prints a cProfile of an edit rebuild at N pages.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import logging
import os
import pstats
import shutil
import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `python benchmarks/bench_build.py` as well as `python -m benchmarks.bench_build`

from benchmarks.project_builds import (NOPLUGIN, Timing, copy_project, edit_page, generate_pages,  # noqa: E402
                                       inprocess_build, process_build, start_serve, write_noplugin_config)
from benchmarks.site_measures import Weight, page_weight, search_index, site_size  # noqa: E402

PAGE_KINDS = {  # kind -> the built page measured (generated ones exist at every page count)
    "home": "index.html",
    "meeting": "meetings/gen-000/index.html",
    "Q&A": "qna/gen-000-adagrad/index.html",
    "paper": "papers/vgg/index.html",
    "notebook": "notebooks/attention/index.html",
}


# --- one page count -----------------------------------------------------------------------


@dataclass
class Result:
    generated: int
    pages: int  # in the site: generated + the site's own
    times: dict[str, Timing] = field(default_factory=dict)  # "process cold", "serve edit", ...
    peak_mb: dict[str, float] = field(default_factory=dict)
    weights: dict[str, Weight] = field(default_factory=dict)
    site_mb: float = 0.0
    index_bytes: int = 0
    index_pages: int = 0


def _median(fn, repeat: int) -> Timing:
    runs = [fn(i) for i in range(repeat)]
    return Timing(statistics.median(t.wall for t in runs), statistics.median(t.cpu for t in runs))


def measure(count: int, repeat: int, tmp: Path, cold: bool = True) -> Result:
    project = copy_project(tmp / f"p{count}", caches=not cold)
    edited = [p for p in generate_pages(project, count) if p.startswith("qna/")][-1]
    write_noplugin_config(project)
    res = Result(count, len(list((project / "docs").rglob("*.md"))) + len(list((project / "docs").rglob("*.ipynb"))))

    def process(kind: str, config: str = "mkdocs.yml") -> Timing:
        timing, res.peak_mb[kind] = process_build(project, config)
        return timing

    res.times["process plugin off"] = _median(lambda i: process("plugin off", NOPLUGIN), repeat)
    if cold:
        res.times["process cold"] = process("cold")
    else:
        process_build(project)  # fills the search cache and the new pages' blocks
    res.times["process warm"] = _median(lambda i: process_build(project)[0], repeat)

    def process_edit(i: int) -> Timing:
        edit_page(project, edited, i)
        return process("edit")

    res.times["process edit"] = _median(process_edit, repeat)
    for name, kind in PAGE_KINDS.items():
        res.weights[name] = page_weight(project / "site", kind)
    res.site_mb = site_size(project / "site") / 2**20
    res.index_bytes, res.index_pages = search_index(project / "site")

    start_serve(project)
    inprocess_build(project)  # imports and plugins: once per `mkdocs serve`, not measured
    res.times["serve plugin off"] = _median(lambda i: inprocess_build(project, NOPLUGIN), repeat)

    def serve_edit(i: int) -> Timing:
        edit_page(project, edited, 100 + i)
        return inprocess_build(project)

    res.times["serve first edit"] = serve_edit(-1)  # loads Kiwi, once per `mkdocs serve` session
    res.times["serve edit"] = _median(serve_edit, repeat)
    shutil.rmtree(project)
    return res


# --- report -------------------------------------------------------------------------------


def report(results: list[Result], repeat: int) -> None:
    print(f"\nsite builds: CPU seconds (x = ratio to plugin off of the same kind) [wall seconds]; "
          f"median of {repeat} where repeated")
    print("  (pages: in the site, the generated ones and the site's own)")
    heads = ["plugin off", "cold", "warm", "edit 1 page", "serve: off", "serve: 1st edit", "serve: edit"]
    keys = ["process plugin off", "process cold", "process warm", "process edit", "serve plugin off",
            "serve first edit", "serve edit"]
    print(f"  {'pages':>5}  " + "  ".join(f"{h:>21}" for h in heads))
    for r in results:
        cells = []
        for key in keys:
            t = r.times.get(key)
            base = r.times["serve plugin off" if key.startswith("serve") else "process plugin off"]
            if t is None:
                cells.append("-")
            elif key.endswith("plugin off"):
                cells.append(f"{t.cpu:6.1f}       [{t.wall:6.1f}]")
            else:
                cells.append(f"{t.cpu:6.1f} {t.cpu / base.cpu:4.2f}x [{t.wall:6.1f}]")
        print(f"  {r.pages:5d}  " + "  ".join(f"{c:>21}" for c in cells))
    print("\npeak memory of the build process (MB, max RSS; block runner and Jupyter kernels apart)")
    for r in results:
        print(f"  {r.pages:5d} pages: " + ", ".join(f"{k} {v:.0f}" for k, v in r.peak_mb.items()))
    print("\nsite size and search index")
    for r in results:
        print(f"  {r.pages:5d} pages: site {r.site_mb:6.1f} MB ({1024 * r.site_mb / r.pages:5.0f} KB/page), "
              f"search_index.json {r.index_bytes / 1024:7.0f} KB for {r.index_pages} pages "
              f"({r.index_bytes / max(r.index_pages, 1) / 1024:.1f} KB/page)")
    print("\npage weight, KB: the page's HTML and everything it loads on opening (gzip in brackets);\n"
          "search: index + worker, loaded when the search box is first used (gzip)")
    for r in results:
        print(f"  {r.pages} pages:")
        for kind, w in r.weights.items():
            print(f"    {kind:<9} html {w.html / 1024:7.0f} ({w.html_gz / 1024:5.0f})   with {w.files:2d} files "
                  f"{w.total / 1024:7.0f} ({w.total_gz / 1024:5.0f})   search {w.search_gz / 1024:6.0f}"
                  + (f"   not found: {', '.join(w.missing)}" if w.missing else ""))


def profile(count: int, tmp: Path, top: int = 30) -> None:
    """cProfile of an in-process rebuild after editing one page (not the session's first edit),
    at ``count`` generated pages."""
    project = copy_project(tmp / "profile", caches=True)
    edited = [p for p in generate_pages(project, count) if p.startswith("qna/")][-1]
    start_serve(project)
    inprocess_build(project)
    edit_page(project, edited, 0)
    inprocess_build(project)  # the session's first edit: loads Kiwi
    edit_page(project, edited, 1)
    prof = cProfile.Profile()
    prof.enable()
    inprocess_build(project)
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out).sort_stats("cumulative")
    stats.print_stats(top)
    stats.print_stats(r"/kb/", top)  # the kb plugin's own functions
    print(out.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", default=os.environ.get("BENCH_PAGES", "50,200,500"),
                        help="generated page counts, comma-separated (default 50,200,500; env BENCH_PAGES)")
    parser.add_argument("--repeat", type=int, default=int(os.environ.get("BENCH_REPEAT", "1")),
                        help="builds per warm, edit and plugin-off measurement, median (default 1)")
    parser.add_argument("--no-cold", action="store_true", help="start from the project's caches; no cold build")
    parser.add_argument("--cold-max", type=int, default=0,
                        help="cold builds only at page counts up to this (default: at every count)")
    parser.add_argument("--profile", type=int, metavar="N", help="profile an edit rebuild at N pages instead")
    args = parser.parse_args(argv)
    logging.getLogger("mkdocs").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="kb-bench-") as tmp:
        if args.profile:
            profile(args.profile, Path(tmp))
            return 0
        results = []
        for count in (int(n) for n in args.pages.split(",")):
            cold = not args.no_cold and (not args.cold_max or count <= args.cold_max)
            results.append(measure(count, args.repeat, Path(tmp), cold=cold))
            print(f"{count} generated pages measured", file=sys.stderr, flush=True)
    report(results, args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
