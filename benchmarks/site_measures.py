"""A built site's page weight, size and search index, for benchmarks/bench_build.py.

* :func:`page_weight`: a page and every file it loads by itself (stylesheets, scripts, images),
  each once, raw and gzip-compressed, and what the search box loads on first use (the index and
  the worker);
* :func:`site_size`: bytes of every file of the site;
* :func:`search_index`: bytes of search_index.json and how many pages it holds.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

SEARCH_FILES = ("search/search_index.json",)  # plus the worker, found in the page's config


class _Loads(HTMLParser):
    """The files a page loads by itself: stylesheets, scripts, images."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "link" and "stylesheet" in (a.get("rel") or "").split() and a.get("href"):
            self.urls.append(a["href"])
        elif tag in ("script", "img") and a.get("src"):
            self.urls.append(a["src"])


def _gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6))


def _site_file(site: Path, page: str, url: str) -> Path | None:
    if urlsplit(url).scheme or url.startswith("//"):
        return None
    path = urlsplit(urljoin("/" + page, url)).path.lstrip("/")
    found = site / path
    return found if found.is_file() else None


@dataclass
class Weight:
    html: int
    html_gz: int
    files: int
    total: int
    total_gz: int
    search_gz: int
    missing: list[str] = field(default_factory=list)


def page_weight(site: Path, page: str) -> Weight:
    """The page and every file it loads (each once), raw and gzip; search's first-use load apart."""
    data = (site / page).read_bytes()
    parser = _Loads()
    parser.feed(data.decode("utf-8"))
    total, total_gz, seen, missing = len(data), _gz(data), set(), []
    for url in parser.urls:
        if url.startswith("data:"):
            continue  # inline, part of the HTML
        path = _site_file(site, page, url)
        if path is None:
            missing.append(url)
        elif path not in seen:
            seen.add(path)
            body = path.read_bytes()
            total, total_gz = total + len(body), total_gz + _gz(body)
    search = [site / f for f in SEARCH_FILES] + list((site / "assets/javascripts/workers").glob("search.*.js"))
    search_gz = sum(_gz(p.read_bytes()) for p in search if p.is_file())
    return Weight(len(data), _gz(data), len(seen), total, total_gz, search_gz, missing)


def site_size(site: Path) -> int:
    return sum(p.stat().st_size for p in site.rglob("*") if p.is_file())


def search_index(site: Path) -> tuple[int, int]:
    """(bytes of search_index.json, pages in it)."""
    path = site / "search" / "search_index.json"
    docs = json.loads(path.read_text(encoding="utf-8"))["docs"]
    return path.stat().st_size, len({d["location"].split("#", 1)[0] for d in docs})
