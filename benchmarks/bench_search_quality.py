"""Search quality benchmark: recall@1, recall@5 and MRR with kb's result ordering and without it.

    .venv/bin/python -m benchmarks.bench_search_quality [--site DIR]   (also part of `make bench`)

Builds the site (or uses ``--site``), then types every query of tests/search_queries.yaml
(keywords) and tests/search_questions.yaml (questions as members ask them) into Material's
search box in headless Chromium, twice: with search-ko.js ordering the results (page-level
BM25, one score per typed word, title/tags bonus, listing pages weighted down) and with
lunr's own order (``window.kbSearchKoPlainRanking``; the query rewriting stays on in both).
Then once more with kb's order but without reading hurried queries (issue #29: unspaced Korean,
other spellings, typos; ``window.kbSearchKoPlainQuery`` reads the words as typed, as before), over
the same sets and tests/search_hurried.yaml.

Not part of the test suite; tests/test_search.py holds the thresholds.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]

import search_quality  # noqa: E402
from browser_helpers import guard, launch, serve  # noqa: E402
from search_box import SearchBox  # noqa: E402


def measure(site: Path, plain: bool, plain_query: bool = False) -> dict[str, dict]:
    from playwright.sync_api import sync_playwright

    with serve(site) as base, sync_playwright() as p:
        browser = launch(p)
        context = browser.new_context()
        guard(context)
        page = context.new_page()
        if plain:
            page.add_init_script("window.kbSearchKoPlainRanking = true")
        if plain_query:
            page.add_init_script("window.kbSearchKoPlainQuery = true")
        page.goto(base)
        box = SearchBox(page, base)
        box.open()
        out = {name: search_quality.measure(box, search_quality.load(name)) for name in search_quality.QUERY_SETS}
        browser.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, help="a built site (default: build the working tree)")
    args = parser.parse_args()
    site = args.site
    if site is None:
        site = Path(tempfile.mkdtemp()) / "site"
        env = dict(os.environ, NO_MKDOCS_2_WARNING="1", KB_EXECUTE="0")
        subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
                       cwd=ROOT, env=env, check=True, capture_output=True)
    new, old = measure(site, plain=False), measure(site, plain=True)
    _table(old, new, "| query set | queries | recall@1 (lunr → kb) | recall@5 (lunr → kb) | MRR (lunr → kb) |")
    before = measure(site, plain=False, plain_query=True)
    print()
    _table(before, new, "| query set | queries | recall@1 (as typed → hurried read) | recall@5 | MRR |")
    return 0


def _table(old: dict, new: dict, header: str) -> None:
    print(header)
    print("|---|---:|---:|---:|---:|")
    for name in search_quality.QUERY_SETS:
        o, n = old[name], new[name]
        cells = " | ".join(f"{o[k]:.2f} → {n[k]:.2f}" for k in ("recall@1", "recall@5", "mrr"))
        print(f"| {name} | {n['queries']} | {cells} |")


if __name__ == "__main__":
    raise SystemExit(main())
