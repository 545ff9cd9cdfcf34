"""Reading the built site in tests: pages, their visible text and their URLs."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from bs4 import BeautifulSoup


def soup(site: Path, url_path: str) -> BeautifulSoup:
    """The built page for a docs path such as 'qna/adagrad.md' (directory URLs)."""
    stem = url_path.removesuffix(".md")
    if stem == "index" or stem.endswith("/index"):
        html = site / stem.removesuffix("index") / "index.html"
    else:
        html = site / stem / "index.html"
    return BeautifulSoup(html.read_text(encoding="utf-8"), "html.parser")


def article(page: BeautifulSoup):
    node = page.select_one("article.md-content__inner")
    assert node is not None, "page has no <article class='md-content__inner'>"
    return node


def normalize(text: str) -> str:
    """Letters and digits only (NFKC), so line wrapping, markup and punctuation don't matter."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")


def links(node, base: str) -> set[str]:
    """The docs paths that the <a href>s of ``node`` point to, resolved from page ``base``.

    ``base`` is the built page's directory URL such as 'qna/adagrad/'.
    """
    from posixpath import normpath

    out = set()
    for a in node.find_all("a", href=True):
        href = a["href"].split("#", 1)[0]
        if not href or re.match(r"[a-z]+:", href):
            continue
        out.add(normpath(base + href).strip("/") + "/")
    return out
