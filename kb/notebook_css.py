"""Notebook CSS served once as files, not inlined in every notebook page (kb/plugin.py calls it).

mkdocs-jupyter writes its stylesheets (JupyterLab's theme, Pygments, about 590 KB) as
``<style>`` elements into every notebook page, so each notebook page weighs 0.6 MB more and a
reader downloads the same CSS again on every notebook. Here each large ``<style>`` element of
a notebook page becomes a ``<link>`` to ``assets/stylesheets/notebook/<hash>.css`` (named by
its content, so identical CSS is one file that the browser caches, and a changed CSS gets a
new name). Small ``<style>`` elements (a cell output's own styles) stay inline, as does CSS
with a relative ``url(...)``, which would resolve against another folder from a file.

One ``<style>`` is dropped instead: mkdocs-jupyter 0.26 (nbconvert2.py) appends to every notebook
``<style>{resources["inlining"]["css"]}</style>``, the Python repr of a list of CSS strings, which
a browser reads as no rules at all (the same CSS already came through its template's loop).

The order of styles is kept: each link sits where its ``<style>`` was. The plugin calls
:func:`externalise` after it has checked the notebook's HTML (``event_priority(-50)``) and
:func:`write` after the build. Nothing here needs MkDocs.
"""

from __future__ import annotations

import ast
import hashlib
import posixpath
import re
from pathlib import Path

FOLDER = "assets/stylesheets/notebook"
MIN_BYTES = 2048  # smaller <style> elements stay inline: one request would cost more than they weigh
STYLE_RE = re.compile(r"<style\b([^>]*)>(.*?)</style\s*>", re.S | re.I)
TYPE_RE = re.compile(r"""\btype\s*=\s*["']?([^"'\s>]+)""", re.I)
RELATIVE_URL_RE = re.compile(r"""url\(\s*(?!["']?(?:data:|[a-z][a-z0-9+.-]*:|/|#))""", re.I)

def _movable(attrs: str, css: str) -> bool:
    kind = TYPE_RE.search(attrs)
    if kind is not None and kind.group(1).lower() != "text/css":
        return False
    if re.search(r"\bmedia\s*=", attrs, re.I):  # would need the same media on the link; none seen
        return False
    return len(css.encode("utf-8")) >= MIN_BYTES and RELATIVE_URL_RE.search(css) is None


def externalise(html: str, page_url: str, sheets: dict[str, str]) -> str:
    """``html`` with each large ``<style>`` replaced by a link; the CSS goes into ``sheets``."""

    def repl(m: re.Match[str]) -> str:
        attrs, css = m.group(1), m.group(2)
        if _python_list(css):
            return ""
        if not _movable(attrs, css):
            return m.group(0)
        path = f"{FOLDER}/{hashlib.sha256(css.encode('utf-8')).hexdigest()[:16]}.css"
        sheets[path] = css
        return f'<link rel="stylesheet" href="{relative_url(path, page_url)}">'

    return STYLE_RE.sub(repl, html)


def _python_list(css: str) -> bool:
    """Whether ``css`` is the repr of a list of strings (mkdocs-jupyter's stray ``<style>``), not CSS."""
    text = css.strip()
    if not (text.startswith("[") and text.endswith("]")):
        return False
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return False
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def relative_url(path: str, page_url: str) -> str:
    """``path`` (from the site's root) as a link from the page at ``page_url``, as MkDocs'
    ``get_relative_url`` makes it: ``notebooks/attention/`` or ``notebooks/attention.html``."""
    folder = page_url
    if page_url not in ("", ".") and "." in posixpath.basename(page_url):
        folder = posixpath.dirname(page_url)  # a page file, not a folder
    return posixpath.relpath("/" + path, "/" + folder)


def write(site_dir: Path, sheets: dict[str, str]) -> None:
    """Write each sheet into the site (an unchanged file is left as it is)."""
    for path, css in sheets.items():
        target = site_dir / path
        data = css.encode("utf-8")
        if target.is_file() and target.read_bytes() == data:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
