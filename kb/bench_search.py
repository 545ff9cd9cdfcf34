"""Search benchmark: index size per page and keystroke-to-results time of the real search box.

    python -m kb.bench_search [--pages 500] [--rounds 3]      (part of ``make bench``)

Two sites are measured:

* the site itself (the working tree, built into a temporary directory);
* a generated archive: a temporary copy of the project with ``--pages`` generated meeting and
  Q&A pages (kb/bench_build.py's :func:`generate_pages`: the site's own pages, titled and
  dated apart, a paragraph of the site's prose added under each section), so the Korean/English
  mix and the vocabulary are realistic.

For each: the size of ``search/search_index.json`` per page with and without the morpheme
field (kb/search_ko.py), the build time, the time until the search worker has loaded the
index, and the median (and 90th percentile) time from the keyup of a query typed into
Material's search box to the first render of its results, over every query in
tests/search_queries.yaml, ``--rounds`` times. Chromium runs headless on 127.0.0.1 only.

Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from browser_helpers import SearchBox, browser_unavailable, guard, launch, serve  # noqa: E402
from kb.bench_build import copy_project, generate_pages  # noqa: E402
from kb.search_ko import FIELD, Analyzer, add_field  # noqa: E402


def build(project: Path, site: Path) -> float:
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=project, env=env, capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"build of {project} failed:\n{result.stdout}\n{result.stderr}")
    return time.perf_counter() - start


def index_sizes(site: Path) -> dict:
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    pages = len({d["location"].split("#", 1)[0] for d in index["docs"]})

    def size(data) -> int:
        return len(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))

    with_field = size(index)
    plain = {**index, "docs": [{k: v for k, v in d.items() if k != FIELD} for d in index["docs"]]}
    without = size(plain)
    # Material itself writes the index with non-ASCII escaped (\uXXXX); the hook rewrites it as UTF-8
    as_material = len(json.dumps(plain, separators=(",", ":")).encode("utf-8"))
    # the hook's own cost, measured again in this process: Kiwi's load, then the analysis
    start = time.perf_counter()
    analyzer = Analyzer(index["config"]["separator"])
    loaded = time.perf_counter()
    add_field(plain, analyzer, lambda location: location)
    analysed = time.perf_counter()
    return {"pages": pages, "entries": len(index["docs"]), "bytes_with": with_field, "bytes_without": without,
            "bytes_material": as_material,
            "kiwi_load_s": loaded - start, "analysis_s": analysed - loaded}


def time_queries(browser, site: Path, queries: list[str], rounds: int) -> dict:
    with serve(site) as base:
        context = browser.new_context()
        blocked = guard(context)
        page = context.new_page()
        start = time.perf_counter()
        page.goto(base, wait_until="load")
        box = SearchBox(page, base)
        box.open(timeout_ms=120_000)
        ready = time.perf_counter() - start
        times = []
        for _ in range(rounds):
            for q in queries:
                times.append(box.search(q, timeout_ms=60_000)["ms"])
        context.close()
    if blocked:
        raise SystemExit(f"requests to other hosts were attempted: {blocked}")
    times.sort()
    return {
        "ready_s": ready,
        "median_ms": statistics.median(times),
        "p90_ms": times[int(0.9 * (len(times) - 1))],
        "n": len(times),
    }


def report(name: str, build_s: float, sizes: dict, timing: dict) -> None:
    per_with = sizes["bytes_with"] / sizes["pages"]
    per_without = sizes["bytes_without"] / sizes["pages"]
    print(f"\n{name}: {sizes['pages']} pages, {sizes['entries']} index entries, build {build_s:.1f} s")
    print(f"  index size       : {sizes['bytes_with']:,} B with the {FIELD} field, "
          f"{sizes['bytes_without']:,} B without (+{100 * (per_with / per_without - 1):.1f} %)")
    print(f"  per page         : {per_with:,.0f} B with, {per_without:,.0f} B without "
          f"(Material's own ASCII-escaped index: {sizes['bytes_material'] / sizes['pages']:,.0f} B)")
    print(f"  morpheme field   : Kiwi load {sizes['kiwi_load_s']:.2f} s, analysis {sizes['analysis_s']:.2f} s "
          f"(part of the build time)")
    print(f"  index ready      : {timing['ready_s']:.2f} s after navigation (load, fetch, lunr index build)")
    print(f"  keyup -> results : median {timing['median_ms']:.1f} ms, p90 {timing['p90_ms']:.1f} ms "
          f"({timing['n']} searches)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=500, help="generated pages (default 500)")
    parser.add_argument("--rounds", type=int, default=3, help="times each query is typed (default 3)")
    args = parser.parse_args()

    why = browser_unavailable()
    if why:
        raise SystemExit(why)
    queries = [q["query"] for q in yaml.safe_load((ROOT / "tests" / "search_queries.yaml").read_text("utf-8"))]

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="search-bench-") as tmp, sync_playwright() as p:
        tmp = Path(tmp)
        browser = launch(p)

        site = tmp / "site"
        build_s = build(ROOT, site)
        report("site", build_s, index_sizes(site), time_queries(browser, site, queries, args.rounds))

        project = copy_project(tmp / "project", caches=True)
        generate_pages(project, args.pages)
        corpus_site = tmp / "corpus-site"
        build_s = build(project, corpus_site)
        report(f"generated archive (+{args.pages} pages)", build_s, index_sizes(corpus_site),
               time_queries(browser, corpus_site, queries, args.rounds))
        browser.close()


if __name__ == "__main__":
    main()
