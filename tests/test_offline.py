"""The built site makes no request to another host: no CDN, no web fonts, no API calls.

Content hyperlinks (<a href> to papers and slides) are fine; everything a browser would
fetch by itself (scripts, stylesheets, icons, images, frames, media, fonts, CSS imports)
must come from the site.
"""

from __future__ import annotations

import re
from pathlib import Path

from bs4 import BeautifulSoup

# element -> attributes a browser fetches without a click
FETCHED = {
    "script": ["src"],
    "link": ["href"],
    "img": ["src", "srcset"],
    "iframe": ["src"],
    "frame": ["src"],
    "source": ["src", "srcset"],
    "video": ["src", "poster"],
    "audio": ["src"],
    "track": ["src"],
    "embed": ["src"],
    "object": ["data"],
    "input": ["src"],
    "image": ["href", "xlink:href"],
    "use": ["href", "xlink:href"],
}
EXTERNAL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.I)
CSS_URL = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])([^'")\s]+)""", re.I)


def external_urls_in_html(html: str) -> list[str]:
    soup = BeautifulSoup(html, "html.parser")
    found = []
    for tag, attrs in FETCHED.items():
        for el in soup.find_all(tag):
            if tag == "link" and el.get("rel") == ["canonical"]:
                continue  # the page's own published address: named, never fetched
            for attr in attrs:
                value = el.get(attr)
                if not value:
                    continue
                candidates = [part.strip().split(" ")[0] for part in value.split(",")] if "srcset" in attr else [value]
                found += [f"<{tag} {attr}={c}>" for c in candidates if EXTERNAL.match(c)]
    for el in soup.find_all(style=True):
        found += [f"style url {u}" for u in CSS_URL.findall(el["style"]) if EXTERNAL.match(u)]
    for el in soup.find_all("style"):
        found += [f"<style> {u}" for u in CSS_URL.findall(el.get_text()) if EXTERNAL.match(u)]
    return found


def test_detector_finds_what_it_should():
    html = """<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto">
    <script src="//cdn.example.org/x.js"></script><img srcset="a.png 1x, https://x.org/b.png 2x">
    <style>@import "https://x.org/y.css"; body { background: url(https://x.org/z.png) }</style>
    <a href="https://arxiv.org/abs/1409.1556">paper</a><img src="../assets/ok.png">
    <link rel="canonical" href="https://owner.github.io/kb/"><link rel="preload" href="https://x.org/f.woff2">"""
    found = external_urls_in_html(html)
    assert len(found) == 6, found
    assert not any("arxiv" in f or "ok.png" in f for f in found)


def test_no_page_fetches_from_another_host(built_site: Path):
    pages = sorted(built_site.rglob("*.html"))
    assert len(pages) >= 15
    offenders = {}
    for page in pages:
        found = external_urls_in_html(page.read_text(encoding="utf-8"))
        if found:
            offenders[str(page.relative_to(built_site))] = found
    assert offenders == {}


def test_no_stylesheet_imports_from_another_host(built_site: Path):
    offenders = {}
    for css in sorted(built_site.rglob("*.css")):
        found = [u for u in CSS_URL.findall(css.read_text(encoding="utf-8")) if EXTERNAL.match(u)]
        if found:
            offenders[str(css.relative_to(built_site))] = found
    assert offenders == {}


def test_google_fonts_are_switched_off(built_site: Path):
    html = (built_site / "index.html").read_text(encoding="utf-8")
    assert "fonts.googleapis.com" not in html and "fonts.gstatic.com" not in html
