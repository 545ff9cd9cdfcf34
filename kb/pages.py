"""What the build does to each Markdown page, apart from MkDocs (kb/plugin.py calls it).

* :func:`prepare`, before the Markdown is converted: the date of the meeting the page came from,
  math swapped for placeholders (kb/mathml.py), the property box under the title with the page's
  one-line summary (kb/render.py ``Site.header``), ``<!-- kb:... -->`` markers expanded
  (kb/render.py) and proof badges (kb/proofs.py).
* :func:`finish`, on the converted HTML: MathML where the placeholders are, Python blocks of an
  imported page refused unless each carries a skip marker, and every block handed to the executor
  (kb/execute.py), whose outputs go in once all pages are read.

A page that cannot be made raises :class:`PageError` naming its file (``docs/...``); the
executor's own errors (kb.execute.ExecutionError) pass through.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from kb import mathml, proofs
from kb.blocks import html_python_blocks
from kb.render import MarkerError, Site
from kb.safety import esc


class PageError(Exception):
    """A page the build cannot make; the message names its file."""


@dataclass
class Prepared:
    """A page's Markdown ready for conversion, with what :func:`finish` needs afterwards."""

    markdown: str
    formulas: list[mathml.Formula]
    meeting_date: str | None  # YYYY-MM-DD of the meeting it was asked or presented at


def prepare(site: Site, src: str, markdown: str, source: str) -> Prepared:
    """The Markdown of page ``src`` (its body ``markdown``, its whole file ``source``) ready to convert."""
    info = site.pages.get(src)
    if info is None:
        raise PageError(f"docs/{src}: page was not seen when the docs were validated")
    try:
        first_line = source.count("\n") - markdown.count("\n") + 1
        markdown, formulas = mathml.extract(markdown, first_line)
        markdown = insert_header(markdown, site.header(info), info.meta.get("description"))
        markdown = site.expand_markers(src, markdown)
        markdown = proofs.expand(src, markdown)  # kb:proofs (issue 12)
    except (MarkerError, mathml.MathError) as exc:
        raise PageError(f"docs/{src}: {exc}" if not str(exc).startswith("docs/") else str(exc)) from None
    return Prepared(markdown, formulas, meeting_date(site, info))


def meeting_date(site: Site, info) -> str | None:
    """The date (YYYY-MM-DD) of the meeting a Q&A, paper review or lecture page came from."""
    meeting = site.pages.get(info.meta.get("meeting")) if isinstance(info.meta.get("meeting"), str) else None
    day = meeting.meta.get("date") if meeting else None
    return day.isoformat() if isinstance(day, dt.date) else None


def insert_header(markdown: str, header: str, lead: str | None = None) -> str:
    """``markdown`` with the property box ``header`` (and the summary ``lead``) under its H1."""
    if not header:
        return markdown
    # the property box is not the page's answer: keep it out of search hits and teasers; the
    # page's one-line summary (front matter description) is what search shows under its title
    header = f'<div class="kb-header" data-search-exclude markdown>\n\n{header}\n</div>\n'
    if lead:
        header = f'<p class="kb-lead">{esc(lead)}</p>\n\n' + header
    lines = markdown.split("\n")
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        if line.startswith("# "):
            return "\n".join(lines[: i + 1] + ["", header] + lines[i + 1 :])
        break
    return header + "\n" + markdown


def finish(html: str, src: str, formulas: list[mathml.Formula], site: Site | None, executor, url: str,
           page=None, render_math=mathml.render) -> str:
    """The converted HTML of page ``src``: MathML in (``render_math``: :func:`kb.mathml.render` or a
    cache of it, kb/incremental.py), blocks started on ``executor`` (None: not run)."""
    try:
        if formulas:
            html = render_math(html, formulas, f"docs/{src}")
    except mathml.MathError as exc:
        raise PageError(str(exc)) from None
    if not src.endswith(".md"):
        return html
    refuse_unmarked_imported_blocks(html, src, site, executor)
    if executor is not None:
        html = executor.process_page(html, src, url, page=page)  # outputs: Executor.finish
    return html


def refuse_unmarked_imported_blocks(html: str, src: str, site: Site | None, executor) -> None:
    """Code from notes never runs: on a page written by the importer (front matter ``source``),
    every Python block must carry a skip marker, as kb/notion gives each one."""
    info = site.pages.get(src) if site is not None else None
    if info is None or not info.meta.get("source"):
        return
    index = executor.index if executor is not None else None  # the blocks process_page will use
    for block in index.blocks(html) if index is not None else html_python_blocks(html):
        try:
            marked = block.skip_reason is not None
        except ValueError:
            marked = False
        if not marked:
            raise PageError(
                f"docs/{src}: Python block {block.index} (first line: {block.first_line!r}) is on a page imported "
                "from notes (front matter 'source') and has no skip marker; code from notes is not run. "
                'Add <!--pytest.mark.skip(reason="...")--> above it, or move runnable code to snippets/.'
            )
