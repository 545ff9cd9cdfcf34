"""Search benchmark: index size per page and keystroke-to-results time of the real search box.

    python -m benchmarks.bench_search [--pages 500] [--rounds 3]      (part of ``make bench``)

Two sites are measured:

* the site itself (the working tree, built into a temporary directory);
* a generated archive: a temporary copy of the project with ``--pages`` generated meeting and
  Q&A pages (benchmarks/project_builds.py's :func:`generate_pages`: the site's own pages, titled and
  dated apart, a paragraph of the site's prose added under each section), so the Korean/English
  mix and the vocabulary are realistic.

For each: the size of ``search/search_index.json`` per page with and without the morpheme
field (kb/search_ko.py), the build time, the time until the search worker has loaded the
index, and the median (and 90th percentile) time from the keyup of a query typed into
Material's search box to the first render of its results, over every query in
tests/search_queries.yaml, ``--rounds`` times. Chromium runs headless on 127.0.0.1 only.

Beside each, **stock Material** on the same pages: a copy of the built site whose pages load none of
the site's search scripts (search-lazy.js, search-ko-data.js, search-ko.js and the search-ko-*.js files
it reads: no query rewriting, no re-ranking) and whose index has neither the morpheme nor the names
field, so Material's own search runs as it ships. The same queries are typed into both, interleaved
round by round, and the ratio of the medians is reported (target: at most 1.2). On the site, the
hurried questions (tests/search_hurried.yaml, issue #29) are timed the same way.

Hurried queries (issue #29) cost, per site: the bytes of search/kb-words.json (kb/search_variants.py:
the index's words and the spellings of the glossary's names, fetched when the box is first used) and
of search-ko-query.js (with every page), raw and gzip; and the time ``kbSearchKo.expand`` (the splitting, spellings and
typo correction) and ``normalize`` (the whole rewrite) take per keystroke, over every prefix of
every hurried question, in the page.

Not part of the test suite.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
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

from browser_helpers import browser_unavailable, guard, launch, serve  # noqa: E402
from benchmarks.project_builds import copy_project, generate_pages  # noqa: E402
from kb.search_index import add_field  # noqa: E402
from kb.search_ko import Analyzer  # noqa: E402
from kb.search_words import FIELD, FIELDS as OURS, NAMES_FIELD  # noqa: E402
from search_box import SearchBox  # noqa: E402


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
    plain = {**index, "docs": [{k: v for k, v in d.items() if k not in OURS} for d in index["docs"]]}
    without = size(plain)
    # Material itself writes the index with non-ASCII escaped (\uXXXX); the plugin rewrites it as UTF-8
    as_material = len(json.dumps(plain, separators=(",", ":")).encode("utf-8"))
    # the analysis's own cost, measured again in this process: Kiwi's load, then the analysis
    start = time.perf_counter()
    analyzer = Analyzer(index["config"]["separator"])
    analyzer.kiwi  # loaded on first use: load it here, so the analysis is timed apart
    loaded = time.perf_counter()
    add_field(plain, analyzer, lambda location: location)
    analysed = time.perf_counter()
    return {"pages": pages, "entries": len(index["docs"]), "bytes_with": with_field, "bytes_without": without,
            "bytes_material": as_material,
            "kiwi_load_s": loaded - start, "analysis_s": analysed - loaded}


SITE_SEARCH_SCRIPTS = re.compile(r'<script src="[^"]*javascripts/search-(?:lazy|ko(?:-[a-z]+)?)\.js"></script>')


def stock_copy(site: Path, dest: Path) -> Path:
    """``site`` as stock Material would serve it: the home page without the site's search scripts
    (the one page the timing opens) and an index without the fields kb/search_ko.py adds."""
    shutil.copytree(site, dest)
    home = dest / "index.html"
    html, count = SITE_SEARCH_SCRIPTS.subn("", home.read_text(encoding="utf-8"))
    expected = len(list((site / "javascripts").glob("search-*.js")))  # search-ko-data.js included
    if count != expected:
        raise SystemExit(f"{home}: expected the {expected} site search scripts, found {count}")
    home.write_text(html, encoding="utf-8")
    index_file = dest / "search" / "search_index.json"
    index = json.loads(index_file.read_text(encoding="utf-8"))
    for field in OURS:
        index["config"].get("fields", {}).pop(field, None)
    index["docs"] = [{k: v for k, v in d.items() if k not in OURS} for d in index["docs"]]
    index_file.write_text(json.dumps(index, separators=(",", ":")), encoding="utf-8")
    return dest


class Timer:
    """A search box on one served site, kept open across rounds."""

    def __init__(self, browser, base: str, stock: bool):
        self.context = browser.new_context()
        self.blocked = guard(self.context)
        page = self.context.new_page()
        start = time.perf_counter()
        page.goto(base, wait_until="load")
        if stock and page.evaluate("() => 'kbSearchKo' in window"):
            raise SystemExit("the stock copy still loads search-ko.js")
        self.box = SearchBox(page, base)
        self.box.open(timeout_ms=120_000)
        self.ready_s = time.perf_counter() - start
        self.times: list[float] = []

    def round(self, queries: list[str]) -> None:
        for q in queries:
            self.times.append(self.box.search(q, timeout_ms=60_000)["ms"])

    def result(self) -> dict:
        self.context.close()
        if self.blocked:
            raise SystemExit(f"requests to other hosts were attempted: {self.blocked}")
        times = sorted(self.times)
        return {"ready_s": self.ready_s, "median_ms": statistics.median(times),
                "p90_ms": times[int(0.9 * (len(times) - 1))], "n": len(times)}


def time_queries(browser, site: Path, queries: list[str], rounds: int, tmp: Path) -> tuple[dict, dict]:
    """Keyup-to-results times on the site and on its stock copy, rounds interleaved."""
    stock_site = stock_copy(site, tmp / f"{site.name}-stock")
    with serve(site) as base, serve(stock_site) as stock_base:
        ours, stock = Timer(browser, base, stock=False), Timer(browser, stock_base, stock=True)
        for _ in range(rounds):
            ours.round(queries)
            stock.round(queries)
        return ours.result(), stock.result()


def hurried_bytes(site: Path) -> dict:
    """(raw, gzip) bytes of what hurried queries add: search/kb-words.json (fetched when the box is
    first used), and in it the spellings; the query script (loaded with every page)."""
    from kb.search_variants import WORDS_FILE

    def both(data: bytes) -> tuple[int, int]:
        return len(data), len(gzip.compress(data, 9))

    raw = (site / "search" / WORDS_FILE).read_bytes()
    data = json.loads(raw)
    spellings = {k: data[k] for k in ("sounds", "joined", "spaced")}
    return {"spellings": both(json.dumps(spellings, ensure_ascii=False, separators=(",", ":")).encode()),
            "script": both((site / "javascripts" / "search-ko-query.js").read_bytes()),
            "words": both(raw)}


KEYSTROKES_JS = """(queries) => {
  const time = (fn, q) => { const n = 20, t0 = performance.now(); for (let i = 0; i < n; i++) fn(q); return (performance.now() - t0) / n; };
  const expand = [], normalize = [];
  for (const q of queries) for (let k = 1; k <= q.length; k++) {
    expand.push(time(window.kbSearchKo.expand, q.slice(0, k)));
    normalize.push(time(window.kbSearchKo.normalize, q.slice(0, k)));
  }
  return {expand, normalize};
}"""


def keystroke_cost(browser, site: Path, queries: list[str]) -> dict:
    """Per-keystroke time of the query rewriting in the page: every prefix of every query."""
    with serve(site) as base:
        context = browser.new_context()
        blocked = guard(context)
        page = context.new_page()
        page.goto(base, wait_until="load")
        SearchBox(page, base).open(timeout_ms=120_000)  # the index words are fetched on first use
        got = page.evaluate(KEYSTROKES_JS, queries)
        context.close()
    if blocked:
        raise SystemExit(f"requests to other hosts were attempted: {blocked}")

    def stats(times: list[float]) -> dict:
        times = sorted(times)
        return {"median": statistics.median(times), "p95": times[int(0.95 * (len(times) - 1))], "max": times[-1],
                "n": len(times)}

    return {"expand": stats(got["expand"]), "normalize": stats(got["normalize"])}


def report_hurried(sizes: dict, cost: dict, timing: tuple[dict, dict] | None) -> None:
    def kb(pair) -> str:
        return f"{pair[0] / 1024:.1f} KiB ({pair[1] / 1024:.1f} KiB gzip)"

    print(f"  hurried queries  : search/kb-words.json {kb(sizes['words'])}, fetched on first use, of which the "
          f"names' spellings {kb(sizes['spellings'])}; search-ko-query.js {kb(sizes['script'])}, with every page")
    e, n = cost["expand"], cost["normalize"]
    print(f"  per keystroke    : splitting {e['median']:.3f} ms median, p95 {e['p95']:.3f}, max {e['max']:.3f}; "
          f"whole rewrite {n['median']:.3f} ms median, p95 {n['p95']:.3f}, max {n['max']:.3f} ({e['n']} prefixes)")
    if timing:
        ours, stock = timing
        print(f"  hurried keyup -> results: median {ours['median_ms']:.1f} ms, stock Material {stock['median_ms']:.1f} ms; "
              f"ratio {ours['median_ms'] / stock['median_ms']:.2f}x")


def report(name: str, build_s: float, sizes: dict, timing: tuple[dict, dict]) -> None:
    timing, stock = timing
    per_with = sizes["bytes_with"] / sizes["pages"]
    per_without = sizes["bytes_without"] / sizes["pages"]
    print(f"\n{name}: {sizes['pages']} pages, {sizes['entries']} index entries, build {build_s:.1f} s")
    print(f"  index size       : {sizes['bytes_with']:,} B with the {FIELD} and {NAMES_FIELD} fields, "
          f"{sizes['bytes_without']:,} B without (+{100 * (per_with / per_without - 1):.1f} %)")
    print(f"  per page         : {per_with:,.0f} B with, {per_without:,.0f} B without "
          f"(Material's own ASCII-escaped index: {sizes['bytes_material'] / sizes['pages']:,.0f} B)")
    print(f"  morpheme field   : Kiwi load {sizes['kiwi_load_s']:.2f} s, analysis {sizes['analysis_s']:.2f} s "
          f"(part of the build time)")
    print(f"  index ready      : {timing['ready_s']:.2f} s after navigation (load, fetch, lunr index build)")
    print(f"  keyup -> results : median {timing['median_ms']:.1f} ms, p90 {timing['p90_ms']:.1f} ms "
          f"({timing['n']} searches)")
    print(f"  stock Material   : median {stock['median_ms']:.1f} ms, p90 {stock['p90_ms']:.1f} ms; "
          f"ratio of medians {timing['median_ms'] / stock['median_ms']:.2f}x (target <= 1.2x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=500, help="generated pages (default 500)")
    parser.add_argument("--rounds", type=int, default=3, help="times each query is typed (default 3)")
    args = parser.parse_args()

    why = browser_unavailable()
    if why:
        raise SystemExit(why)
    queries = [q["query"] for q in yaml.safe_load((ROOT / "tests" / "search_queries.yaml").read_text("utf-8"))]
    hurried = [q["query"] for q in yaml.safe_load((ROOT / "tests" / "search_hurried.yaml").read_text("utf-8"))]

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="search-bench-") as tmp, sync_playwright() as p:
        tmp = Path(tmp)
        browser = launch(p)

        site = tmp / "site"
        build_s = build(ROOT, site)
        report("site", build_s, index_sizes(site), time_queries(browser, site, queries, args.rounds, tmp))
        report_hurried(hurried_bytes(site), keystroke_cost(browser, site, hurried),
                       time_queries(browser, site, hurried, args.rounds, tmp / "hurried"))

        project = copy_project(tmp / "project", caches=True)
        generate_pages(project, args.pages)
        corpus_site = tmp / "corpus-site"
        build_s = build(project, corpus_site)
        report(f"generated archive (+{args.pages} pages)", build_s, index_sizes(corpus_site),
               time_queries(browser, corpus_site, queries, args.rounds, tmp))
        report_hurried(hurried_bytes(corpus_site), keystroke_cost(browser, corpus_site, hurried), None)
        browser.close()


if __name__ == "__main__":
    main()
