"""Benchmark: a saved edit in `mkdocs serve`, ours against the plugin off (``make bench``).

    python -m benchmarks.bench_serve_edit [--pages 50,500] [--repeat 3]

For each page count, a copy of the project with its caches gets that many generated pages
(benchmarks/bench_build.py ``generate_pages``), committed in a git repository of its own as the
project's pages are, and is built in this process as `mkdocs serve`
builds it: the plugins told ``serve`` at startup (so the kb plugin keeps its serve caches,
kb/incremental.py), their instances kept from build to build, the config loaded again for each.
After one unmeasured build and one unmeasured edit (the session's first, which loads Kiwi), each
measured round appends a sentence to one generated Q&A page and times the rebuild:

* ours: the kb plugin on, as ``make serve`` runs it (`mkdocs serve --dirty`: kb/partial.py reads
  and writes the edited page only, the others kept; every page still checked and indexed);
* ours, plain serve: `mkdocs serve` without ``--dirty`` (every page built, unchanged ones from the
  serve caches of kb/incremental.py);
* ours, no caches: plain serve with the serve caches off for one edit (the kb plugin as it was
  before kb/incremental.py: every page converted, rendered and indexed again);
* plugin off: stock Material + mkdocs-jupyter on the same pages (bench_build's baseline config:
  no kb plugin, its navigation written in, notebooks not run), edited and rebuilt the same way;
* ours, title: the edited page's title changed (every page's navigation may show it);
* ours, status: a question's status flipped (the lists and the navigation show it).

What is timed is the build call, save to the last file written (``mkdocs serve`` adds its file
watcher's poll, up to 0.5 s + 0.1 s, and the browser's reload after it). Wall seconds, median of
--repeat; CPU seconds beside (this process and the processes it waited for); ratios are of CPU
seconds (on the shared machine wall time swings with others' jobs), ours / plugin off, same page
count, same run.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import tempfile
from pathlib import Path

from benchmarks.bench_build import (NOPLUGIN, Timing, copy_project, edit_page, generate_pages, inprocess_build,
                                    start_serve, write_noplugin_config)


def commit(project: Path) -> None:
    """The copy made a git repository with its pages committed, as the project is: the
    git-revision-date plugin then dates pages by their commit, not by the build's clock (which a
    full build writes into every page it cannot date, so that no two builds would be alike)."""
    env = dict(os.environ, GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@example.com",
               GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.com")
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "bench"]):
        subprocess.run(["git", *args], cwd=project, env=env, check=True, stdout=subprocess.DEVNULL)


def _kb_plugin(project: Path):
    """The kb plugin instance every in-process build of this process uses (MkDocs keeps one)."""
    from mkdocs.config import load_config

    return load_config(str(project / "mkdocs.yml"), site_dir=str(project / "site")).plugins["kb"]


def _flip(project: Path, src: str, old: str, new: str) -> None:
    path = project / "docs" / src
    text = path.read_text(encoding="utf-8")
    if old not in text:
        raise SystemExit(f"docs/{src}: {old!r} not found")
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _median(runs: list[Timing]) -> Timing:
    return Timing(statistics.median(t.wall for t in runs), statistics.median(t.cpu for t in runs))


def make_project(count: int, tmp: Path) -> tuple[Path, str]:
    """A committed copy with ``count`` generated pages, and the Q&A page the edits go to."""
    project = copy_project(tmp / f"serve{count}", caches=True)
    edited = [p for p in generate_pages(project, count) if p.startswith("qna/")][-1]
    write_noplugin_config(project)
    commit(project)
    return project, edited


def measure(project: Path, edited: str, repeat: int) -> dict[str, Timing]:
    start_serve(project, dirty=True)
    out: dict[str, list[Timing]] = {"off": [], "ours": [], "plain": [], "uncached": [], "title": [], "status": []}

    def off() -> Timing:  # stock `mkdocs serve` (its --dirty is not correct for this site), into a folder of its own
        return inprocess_build(project, NOPLUGIN, site="site-off")

    def ours() -> Timing:
        return inprocess_build(project, dirty=True)

    off()
    ours()
    edit_page(project, edited, 0)
    ours()  # the session's first edit: Kiwi loads
    for i in range(repeat):
        edit_page(project, edited, 10 + i)
        out["off"].append(off())
        edit_page(project, edited, 20 + i)
        out["ours"].append(ours())
    # a title and a status edit (front matter: every page built, unchanged results from the caches),
    # before the plain serve builds below, whose other site folder is in the caches' key
    title = (project / "docs" / edited).read_text(encoding="utf-8").split("title: ", 1)[1].split("\n", 1)[0]
    _flip(project, edited, f"title: {title}", f"title: {title[:-1]} 고침{title[-1]}")
    out["title"].append(ours())
    status = "status: answered" if "status: answered" in (project / "docs" / edited).read_text(encoding="utf-8") else "status: open"
    _flip(project, edited, status, "status: open" if status.endswith("answered") else "status: answered")
    out["status"].append(ours())
    plugin = _kb_plugin(project)
    kept = plugin.incremental, plugin.partial
    try:  # plain `mkdocs serve`, into a folder of its own: every page built, unchanged ones from the caches
        plugin.partial = None
        inprocess_build(project, site="site-plain")  # (not measured: the caches fill for this folder)
        for i in range(repeat):
            edit_page(project, edited, 40 + i)
            out["plain"].append(inprocess_build(project, site="site-plain"))
        plugin.incremental = None  # what a serve edit cost before kb/incremental.py: every page made again
        edit_page(project, edited, 30)
        out["uncached"].append(inprocess_build(project, site="site-plain"))
    finally:
        plugin.incremental, plugin.partial = kept
    return {k: _median(v) for k, v in out.items()}


def real_serve(project: Path, config: str, edited: str, repeat: int, port: int, settle: float = 10.0) -> list[float]:
    """Seconds from each save to "Documentation built" in a real ``mkdocs serve -f config`` (its
    watcher polls every 0.5 s; livereload tells the browser to reload once the build is done)."""
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", KB_EXECUTE="1")
    for name in ("KB_EXEC_CACHE", "KB_SEARCH_CACHE", "KB_EXEC_DEVICE"):
        env.pop(name, None)
    flags = ["--strict", "--dirty"] if config == "mkdocs.yml" else []  # ours as `make serve` runs it
    proc = subprocess.Popen([sys.executable, "-m", "mkdocs", "serve", "-f", config, *flags, "-a", f"127.0.0.1:{port}"],
                            cwd=project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines: list[tuple[float, str]] = []
    threading.Thread(target=lambda: [lines.append((time.perf_counter(), l)) for l in proc.stderr], daemon=True).start()

    def wait_for(text: str | tuple[str, ...], after: float, timeout: float = 900) -> float:
        texts = (text,) if isinstance(text, str) else text
        end = time.perf_counter() + timeout
        while time.perf_counter() < end:
            found = next((t for t, l in list(lines) if t >= after and any(x in l for x in texts)), None)
            if found is not None:
                return found
            if proc.poll() is not None:
                break
            time.sleep(0.02)
        raise SystemExit(f"mkdocs serve -f {config}: no {text!r}:\n" + "".join(l for _, l in lines[-30:]))

    try:
        wait_for("Serving on", 0)
        time.sleep(settle)  # the analyser's warm-up (kb/search_ko.py), as a writer would pause
        seconds = []
        for i in range(repeat + 1):  # the first edit loads what the first build did not need
            edit_page(project, edited, 1000 + port + i)
            start = time.perf_counter()
            # MkDocs logs a message only the first time it is seen (its DuplicateFilter): a second
            # "Documentation built in 0.57 seconds" never shows; livereload's line has the time in it
            seconds.append(wait_for(("Documentation built", "Reloading browsers"), start) - start)
            time.sleep(1.0)
        return seconds[1:]
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", default="50,500", help="generated page counts, comma-separated (default 50,500)")
    parser.add_argument("--repeat", type=int, default=3, help="measured edits per kind, median (default 3)")
    parser.add_argument("--real", action="store_true",
                        help="also time saves in a real `mkdocs serve` of each config (save to 'Documentation built')")
    args = parser.parse_args(argv)
    logging.getLogger("mkdocs").setLevel(logging.ERROR)
    rows, real = [], []
    with tempfile.TemporaryDirectory(prefix="kb-bench-serve-") as tmp:
        for count in (int(n) for n in args.pages.split(",")):
            project, edited = make_project(count, Path(tmp))
            rows.append((count, measure(project, edited, args.repeat)))
            if args.real:
                real.append((count, real_serve(project, NOPLUGIN, edited, args.repeat, 8811),
                             real_serve(project, "mkdocs.yml", edited, args.repeat, 8812)))
            print(f"{count} generated pages measured", file=sys.stderr, flush=True)
    print(f"\n`mkdocs serve`: save -> site rebuilt, wall seconds [CPU seconds] (median of {args.repeat}; "
          "title and status: one edit each); x = CPU of ours / CPU of plugin off")
    print("  ours: `make serve` (--dirty, kb/partial.py); plain: `mkdocs serve` with kb's caches; no caches: plain, as "
          "before kb/incremental.py (one edit)")
    print(f"  {'generated':>9}  {'plugin off':>16}  {'ours: body edit':>24}  {'plain serve: body':>24}  "
          f"{'no caches: body':>24}  {'ours: title edit':>24}  {'ours: status edit':>24}")
    for count, t in rows:
        off = t["off"]
        cells = [f"{t[k].wall:6.2f} [{t[k].cpu:6.2f}] {t[k].cpu / off.cpu:5.2f}x"
                 for k in ("ours", "plain", "uncached", "title", "status")]
        print(f"  {count:9d}  {off.wall:6.2f} [{off.cpu:6.2f}]  " + "  ".join(f"{c:>24}" for c in cells))
    if len(rows) > 1:
        (n0, t0), (n1, t1) = rows[0], rows[-1]
        print(f"  body edit at {n1} pages / at {n0} pages, wall (CPU): ours {t1['ours'].wall / t0['ours'].wall:.2f}x "
              f"({t1['ours'].cpu / t0['ours'].cpu:.2f}x), plugin off {t1['off'].wall / t0['off'].wall:.2f}x "
              f"({t1['off'].cpu / t0['off'].cpu:.2f}x)")
    if real:
        print(f"\nreal `mkdocs serve`: save -> 'Documentation built' (the browser reloads then), wall seconds, "
              f"median of {args.repeat} (runs)")
        for count, off, ours in real:
            print(f"  {count:5d} generated: plugin off {statistics.median(off):6.2f} {[round(x, 2) for x in off]}   "
                  f"ours {statistics.median(ours):6.2f} {[round(x, 2) for x in ours]}   "
                  f"{statistics.median(ours) / statistics.median(off):.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
