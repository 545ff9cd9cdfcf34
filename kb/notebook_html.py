"""A notebook page's HTML as mkdocs-jupyter rendered it, read once (kb/notebooks.py edits it).

:class:`Walker` records where the cells are and what is in them: the prose of the Markdown cells
(where math may be), their headings, the PNG figures and the stderr outputs of the code cells, and
everything a browser would load from another host. :func:`drop_template_scripts` removes what the
notebook template puts in front of the notebook (MathJax, mermaid and require.js from CDNs).

Cells are numbered from 1 in notebook order, Markdown cells included, as they are stored in the
``.ipynb`` file.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

EXTERNAL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.I)
# an inline script that reaches another host: import("https://..."), fetch('//...') ...
EXTERNAL_IN_CODE = re.compile(r"""["'`]((?:https?:)?//[^"'`\s]+)""", re.I)
_SCRIPT_RE = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.S | re.I)
_ATTR_RE = r"""\b{name}\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))"""

# element -> attributes a browser fetches by itself (as tests/test_offline.py checks)
FETCHED = {
    "script": ["src"], "link": ["href"], "img": ["src", "srcset"], "iframe": ["src"], "frame": ["src"],
    "source": ["src", "srcset"], "video": ["src", "poster"], "audio": ["src"], "track": ["src"],
    "embed": ["src"], "object": ["data"], "input": ["src"], "image": ["href", "xlink:href"],
    "use": ["href", "xlink:href"],
}
# text inside these is not prose: no math there
_NOT_PROSE = {"code", "pre", "kbd", "samp", "script", "style", "math", "svg", "textarea"}
_EXECUTABLE = {"", "module", "text/javascript", "application/javascript"}
PNG_URI = "data:image/png;base64,"
STDERR_MIME = "application/vnd.jupyter.stderr"


def _attr(attrs: str, name: str) -> str | None:
    m = re.search(_ATTR_RE.format(name=name), attrs, re.I)
    if m is None:
        return None
    return next(g for g in m.groups() if g is not None)


def drop_template_scripts(head: str) -> str:
    """Remove the template's MathJax, mermaid and require.js scripts (all but local inline code)."""

    def repl(m: re.Match[str]) -> str:
        attrs, code = m.group(1), m.group(2)
        src = _attr(attrs, "src")
        kind = (_attr(attrs, "type") or "").strip().lower()
        if src is not None and (not src.strip() or EXTERNAL.match(src)):
            return ""  # MathJax (src="" without a URL, else a CDN), require.js
        if kind == "text/x-mathjax-config":
            return ""
        if src is None and kind in _EXECUTABLE and EXTERNAL_IN_CODE.search(code):
            return ""  # the mermaid loader: import("https://cdnjs...")
        return m.group(0)

    head = _SCRIPT_RE.sub(repl, head)
    return re.sub(r"<!--[^>]*mathjax[^>]*-->\n*", "", head, flags=re.I)  # the comments around them


class Walker(HTMLParser):
    """Walks a notebook's HTML once and records, as offsets into it:

    * ``runs``: ``(start, end, cell)`` of each run of text between tags inside a rendered
      Markdown cell and outside code;
    * ``headings``: ``(start, end, cell)`` of each heading's start tag in a Markdown cell and
      ``(start, end)`` of its anchor link's start tag, or ``None``;
    * ``images``: ``(start, end, cell, base64)`` of each PNG ``<img>`` start tag in a code cell;
    * ``stderr``: ``(start, cell)`` of each stderr output (``data-mime-type`` ``STDERR_MIME``);
    * ``fetches``: ``(where, what, url)`` of everything a browser would load from another host.

    Code cells come wrapped twice in ``jp-Cell`` divs; only the outermost counts. A cell id
    (``id="cell-id=..."``) found in ``cell_ids`` fixes the number.
    """

    def __init__(self, html: str, cell_ids: list[str | None]):
        super().__init__(convert_charrefs=True)
        self.cell_numbers = {cid: i for i, cid in enumerate(cell_ids, start=1) if cid}
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", html)]
        self.cell = 0
        self.div_depth = 0
        self.cell_depth: int | None = None  # div depth of the outermost open jp-Cell
        self.markdown_depth: int | None = None  # div depth of the Markdown cell we are in
        self.not_prose = 0
        self.heading: str | None = None
        self.runs: list[tuple[int, int, int]] = []
        self.headings: list[tuple[int, int, int, tuple[int, int] | None]] = []
        self.images: list[tuple[int, int, int, str]] = []
        self.stderr: list[tuple[int, int]] = []
        self.fetches: list[tuple[str, str, str]] = []
        self._run_start: int | None = None
        self._script: tuple[str, bool] | None = None  # (type, has src) of the open <script>
        self.feed(html)
        self.close()
        self._end_run(len(html))

    def _offset(self) -> int:
        line, col = self.getpos()
        return self.line_starts[line - 1] + col

    def _end_run(self, end: int | None = None) -> None:
        if self._run_start is not None:
            self.runs.append((self._run_start, self._offset() if end is None else end, self.cell))
            self._run_start = None

    def _where(self) -> str:
        return f"cell {self.cell}" if self.cell else "the notebook's template"

    def handle_starttag(self, tag, attrs):
        self._end_run()
        values = {k: v or "" for k, v in attrs}
        if tag == "div":
            self.div_depth += 1
            classes = values.get("class", "").split()
            if "jp-Cell" in classes:
                if self.cell_depth is None:
                    self.cell_depth = self.div_depth
                    self.cell += 1
                cid = values.get("id", "").removeprefix("cell-id=")
                self.cell = self.cell_numbers.get(cid, self.cell)
                if "jp-MarkdownCell" in classes and self.markdown_depth is None:
                    self.markdown_depth = self.div_depth
        if tag in _NOT_PROSE:
            self.not_prose += 1
        if tag == "script":
            self._script = (values.get("type", "").strip().lower(), "src" in values)
        start = self._offset()
        end = start + len(self.get_starttag_text() or "")
        if re.fullmatch(r"h[1-6]", tag) and self.markdown_depth is not None and not self.not_prose:
            self.heading = tag
            self.headings.append((start, end, self.cell, None))
        elif tag == "div" and self.cell and values.get("data-mime-type") == STDERR_MIME:
            self.stderr.append((start, self.cell))
        elif tag == "img" and self.cell and self.markdown_depth is None and values.get("src", "").startswith(PNG_URI):
            self.images.append((start, end, self.cell, values["src"][len(PNG_URI):]))
        elif tag == "a" and self.heading and "anchor-link" in values.get("class", "").split():
            h_start, h_end, cell, _ = self.headings[-1]
            self.headings[-1] = (h_start, h_end, cell, (start, end))
        for attr in FETCHED.get(tag, []):
            value = values.get(attr)
            if not value:
                continue
            urls = [part.strip().split(" ")[0] for part in value.split(",")] if "srcset" in attr else [value]
            self.fetches += [(self._where(), f"<{tag} {attr}>", u) for u in urls if EXTERNAL.match(u)]

    def handle_endtag(self, tag):
        self._end_run()
        if tag == "div" and self.div_depth > 0:
            if self.markdown_depth == self.div_depth:
                self.markdown_depth = None
            if self.cell_depth == self.div_depth:
                self.cell_depth = None
            self.div_depth -= 1
        if tag in _NOT_PROSE and self.not_prose > 0:
            self.not_prose -= 1
        if tag == self.heading:
            self.heading = None
        if tag == "script":
            self._script = None

    def handle_data(self, data):
        if self._script is not None:
            kind, has_src = self._script
            if not has_src and kind in _EXECUTABLE:
                urls = [m.group(1) for m in EXTERNAL_IN_CODE.finditer(data)]
                self.fetches += [(self._where(), "an inline <script>", url) for url in urls]
            return
        if self.markdown_depth is not None and not self.not_prose and self._run_start is None:
            self._run_start = self._offset()

    def handle_comment(self, data):
        self._end_run()

    def handle_decl(self, decl):
        self._end_run()

    def handle_pi(self, data):
        self._end_run()
