"""Benchmark: the first search on a page just opened, from navigation to its first result (``make bench``).

    python -m benchmarks.bench_first_search [--pages 50,500] [--rounds 3] [--baseline REV]

For each page count, a temporary copy of the project gets that many generated pages
(benchmarks/project_builds.py's :func:`generate_pages`) and is built twice:

* **kb**: the site as it ships (the ``kb`` plugin on: search-lazy.js, search-ko.js and the index
  split by term, kb/search_split.py);
* **stock Material**: the ``kb`` plugin off, as bench_build's "plugin off" build
  (:func:`write_noplugin_config`), and the page opened without the site's search scripts, which
  overrides/main.html still lists: Material's own search as it ships;
* with ``--baseline REV``, **kb at REV**: the kb build with the site's search scripts as they were at
  commit REV (``git show``) and search/kb/docs.json with each entry's text in it, as written before
  the text was split into chunks (kb/search_docs.py): a before and after on the same build and run.

In a fresh Chromium context (empty cache) a generated Q&A page is opened; as soon as the page can
take input (DOMContentLoaded: Material's bundle has run) a query is typed into the search box
(focus, the text, a keyup, in the page: no round trip to Playwright), and the time of the first
result drawn is read, from the navigation's start (``performance.now()``). Beside it: when the
query was sent to the worker (Material sends none before its worker is ready), when the worker
said it was ready, when the first result showed a teaser (search-ko.js draws the results before
their text has come, then again with it), and the bytes of search files the page had by then. Sites and rounds are interleaved;
medians of ``--rounds`` rounds over the queries below. Wall seconds on a shared machine move with
its load: the ratio is of the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from benchmarks.project_builds import copy_project, generate_pages, process_build, write_noplugin_config  # noqa: E402
from browser_helpers import browser_unavailable, guard, launch, serve, site_pages  # noqa: E402

PAGE = "qna/gen-000-adagrad/"
QUERIES = ["모멘텀", "adagrad", "배치 정규화"]  # found by stock Material too (no particles to strip)
SITE_SEARCH_SCRIPTS = re.compile(r'<script src="[^"]*javascripts/search-(?:lazy|ko(?:-[a-z]+)?)\.js"></script>')

# Run in the page before its scripts: types the query at DOMContentLoaded and records the times.
TYPE_JS = """
(query) => {
  const t = window.__first = {};
  const Native = window.Worker;
  window.Worker = function (url, options) {  // wraps whatever Worker the page's scripts see
    const worker = arguments.length > 1 ? new Native(url, options) : new Native(url);
    // Material's query, whoever answers it: search-ko.js puts its own postMessage on the worker
    let current = worker.postMessage;
    const wrap = fn => function (m) {
      if (m && m.type === 2 && m.data && t.sent === undefined) t.sent = performance.now();
      return fn.apply(worker, arguments);
    };
    Object.defineProperty(worker, "postMessage", { configurable: true, get: () => wrap(current),
                                                   set: fn => { current = fn; } });
    worker.addEventListener("message", ev => {
      if (ev.data && ev.data.type === 1 && t.ready === undefined) t.ready = performance.now();
    });
    return worker;
  };
  window.Worker.prototype = Native.prototype;
  performance.setResourceTimingBufferSize(5000);  // the text's chunks (kb/search_docs.py) are many
  document.addEventListener("DOMContentLoaded", () => {
    const input = document.querySelector("input.md-search__input");
    const list = document.querySelector(".md-search-result__list");
    // a teaser: what an article of the result shows besides its title, tags and missing words
    const OTHER = "h1, h2, nav, .md-search-result__icon, .md-search-result__terms";
    const teaser = li => [...li.querySelectorAll("article")].some(a => [...a.childNodes].some(
      n => !(n.nodeType === 1 && n.matches(OTHER)) && n.textContent.trim()));
    new MutationObserver((_, observer) => {
      const li = list.querySelector("li");
      if (li && t.result === undefined) {
        t.result = performance.now();
        t.first = li.querySelector("a").getAttribute("href");
      }
      if (li && t.text === undefined && teaser(li)) {
        t.text = performance.now();
        observer.disconnect();
      }
    }).observe(list, { childList: true, subtree: true });
    t.input = performance.now();
    input.focus();
    input.value = query;
    input.dispatchEvent(new KeyboardEvent("keyup", { bubbles: true }));
  });
}
"""


# The times, and the bytes of search files that had come when the first teaser was drawn (search-ko.js
# fetches the rest of the results' text after it).
BYTES_JS = """() => Object.assign(window.__first, {search_bytes: performance.getEntriesByType("resource")
  .filter(e => e.name.includes("/search/") && e.responseEnd <= window.__first.text)
  .reduce((sum, e) => sum + e.encodedBodySize, 0)})"""


def first_result(browser, base: str, query: str) -> dict:
    """Open PAGE in a fresh context, type ``query`` at once; the times (ms from navigation) and bytes."""
    context = browser.new_context()
    blocked = guard(context)
    page = context.new_page()
    page.add_init_script(f"({TYPE_JS})({json.dumps(query)})")
    page.goto(base + PAGE, wait_until="domcontentloaded")
    page.wait_for_function("() => window.__first && window.__first.text !== undefined", timeout=120_000,
                           polling=50)
    times = page.evaluate(BYTES_JS)
    context.close()
    if blocked:
        raise SystemExit(f"requests to other hosts were attempted: {blocked}")
    return times


def stock_page(site: Path) -> None:
    """The page opened, without the site's search scripts (the plugin-off build still lists them)."""
    html_file = site / PAGE / "index.html"
    html, count = SITE_SEARCH_SCRIPTS.subn("", html_file.read_text(encoding="utf-8"))
    if count < 3:  # search-lazy.js, search-ko-data.js, search-ko.js and any other search-ko-*.js
        raise SystemExit(f"{html_file}: expected the site's search scripts, found {count}")
    html_file.write_text(html, encoding="utf-8")


def baseline_site(kb_site: Path, rev: str, dest: Path) -> Path:
    """A copy of ``kb_site`` with the site's search scripts as at ``rev`` and docs.json with the text;
    the page opened loads none of the scripts that ``rev`` did not have (search-ko.js was one file
    before its parts went into search-ko-*.js)."""
    shutil.copytree(kb_site, dest)
    absent = []
    for script in sorted((dest / "javascripts").glob("search-*.js")):
        old = subprocess.run(["git", "show", f"{rev}:docs/javascripts/{script.name}"], cwd=ROOT, capture_output=True)
        if old.returncode == 0:
            script.write_bytes(old.stdout)
        elif script.name != "search-ko-data.js":  # written by the build, never in git
            absent.append(script.name)
    html_file = dest / PAGE / "index.html"
    html = html_file.read_text(encoding="utf-8")
    for name in absent:
        html = re.sub(rf'<script src="[^"]*javascripts/{re.escape(name)}"></script>', "", html)
    html_file.write_text(html, encoding="utf-8")
    index = json.loads((dest / "search" / "search_index.json").read_text(encoding="utf-8"))
    rows = []
    for doc in index["docs"]:
        if isinstance(doc, dict) and isinstance(doc.get("location"), str):  # as kb/search_split.py counts them
            rows.append([doc["location"], doc.get("title"), doc.get("text")] + ([doc["tags"]] if "tags" in doc else []))
    (dest / "search" / "kb" / "docs.json").write_text(json.dumps(rows, ensure_ascii=False, separators=(",", ":")),
                                                     encoding="utf-8")
    return dest


def build_both(count: int, tmp: Path) -> tuple[Path, Path]:
    """(kb site, stock Material site) of a copy of the project with ``count`` generated pages."""
    project = copy_project(tmp / f"project-{count}", caches=True)
    generate_pages(project, count)
    process_build(project)
    kb_site = tmp / f"kb-{count}"
    shutil.move(str(project / "site"), kb_site)
    if not (kb_site / "search" / "kb" / "base.json").is_file():
        raise SystemExit(f"{kb_site}: the build wrote no split search index (search/kb/base.json)")
    process_build(project, write_noplugin_config(project).name)
    stock_site = tmp / f"stock-{count}"
    shutil.move(str(project / "site"), stock_site)
    stock_page(stock_site)
    return kb_site, stock_site


def measure(browser, sites: dict[str, Path], rounds: int) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {name: [] for name in sites}
    with contextlib.ExitStack() as stack:
        bases = {name: stack.enter_context(serve(site)) for name, site in sites.items()}
        for _ in range(rounds):
            for query in QUERIES:
                for name, base in bases.items():
                    out[name].append(first_result(browser, base, query))
    return out


def _median(runs: list[dict], key: str) -> float:
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else float("nan")


def report(count: int, pages: int, runs: dict[str, list[dict]]) -> None:
    kb, stock = runs["kb"], runs["stock Material"]
    print(f"\n{pages} pages ({count} generated), {len(kb)} first searches each (median, s from navigation start):")
    print(f"  {'':16} {'input':>7} {'sent':>7} {'ready':>7} {'result':>7} {'teaser':>7}  search bytes")
    for name, rs in runs.items():
        row = [_median(rs, k) / 1000 for k in ("input", "sent", "ready", "result", "text")]
        print(f"  {name:16} " + " ".join(f"{v:7.2f}" for v in row) + f"  {_median(rs, 'search_bytes') / 1e6:.1f} MB")
    ratio = _median(kb, "result") / _median(stock, "result")
    print(f"  first result: kb {_median(kb, 'result') / 1000:.2f} s, stock Material "
          f"{_median(stock, 'result') / 1000:.2f} s, ratio {ratio:.2f}x (target: kb within 1 s at 500 pages)")
    for name in [n for n in runs if n.startswith("kb at ")]:
        print(f"  {name}: first result {_median(runs[name], 'result') / 1000:.2f} s, teaser "
              f"{_median(runs[name], 'text') / 1000:.2f} s (kb: {_median(kb, 'result') / 1000:.2f} s, "
              f"{_median(kb, 'text') / 1000:.2f} s)")


def _git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", default="50,500", help="generated page counts (default 50,500)")
    parser.add_argument("--rounds", type=int, default=3, help="times each query is typed (default 3)")
    parser.add_argument("--baseline", metavar="REV", help="also the kb build with the search scripts of commit REV")
    args = parser.parse_args(argv)
    why = browser_unavailable()
    if why:
        raise SystemExit(why)
    from playwright.sync_api import sync_playwright

    print(f"bench_first_search: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, commit {_git_commit()}")
    with tempfile.TemporaryDirectory(prefix="first-search-") as tmp, sync_playwright() as p:
        browser = launch(p)
        for count in dict.fromkeys(int(n) for n in args.pages.split(",")):  # 50,50 once
            kb_site, stock_site = build_both(count, Path(tmp))
            sites = {"kb": kb_site, "stock Material": stock_site}
            if args.baseline:
                sites[f"kb at {args.baseline}"] = baseline_site(kb_site, args.baseline, Path(tmp) / f"before-{count}")
            report(count, len(site_pages(kb_site)), measure(browser, sites, args.rounds))
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
