"""Notebook pages (mkdocs-jupyter): math as MathML, no third-party requests, failing cells named.

mkdocs-jupyter executes each notebook and renders it with nbconvert, bypassing Markdown, so
the math placeholders of kb/mathml.py never happen for notebooks: the HTML of the Markdown
cells still holds raw ``$...$`` and ``$$...$$``. Its template also puts, in front of the
notebook, a MathJax ``<script src>`` (a CDN, or ``src=""`` when no URL is configured) with its
configuration script, an inline module that imports mermaid from a CDN, and optionally
require.js from a CDN.

:func:`page_content` (kb/plugin.py, on_page_content of ``*.ipynb`` pages):

* drops those template scripts; anything else in the notebook that a browser would fetch
  from another host (an output's ``<script src>``, ``<link href>``, ``<img src>`` ...) fails
  the build, naming the notebook and the cell;
* renders the math of the Markdown cells as MathML by the rules of kb/mathml.py, never inside
  code, code cells or outputs; a formula that cannot be rendered fails the build naming the
  notebook, the cell and the formula;
* gives each figure of an output its alt text, read from the PNG's ``Description`` metadata
  (as the figures of Markdown pages, kb/execute.py), and its ``width`` and ``height`` (the PNG's
  own, so that the page does not grow while a reader scrolls); a figure without alt text fails
  the build, naming the notebook and the cell;
* fails the build when a cell wrote to stderr (a warning, a log line: the page would show it in
  a red box), naming the notebook, the cell and the first line, unless the cell carries the tag
  ``kb-allow-warning`` (the output is then shown as it is);
* keeps what is not the notebook's content out of the search index (``data-search-exclude``):
  the buttons, the ``In [n]:`` prompts, the cell tags, the copy buttons' "Copied!" and the hidden
  second copy of each cell's code that they copy (the code is indexed once, from its ``<pre>``);
* puts two labelled buttons above the notebook: "노트북 내려받기" for the ``.ipynb`` (copied
  next to the page by ``include_source``) and "Colab에서 열기", built from
  ``extra.repository`` and ``extra.branch`` of mkdocs.yml (:func:`colab_url`).

Running the notebook (device, fonts, side by side with the page blocks, a cell that raises
named as ``docs/notebooks/x.ipynb: cell 4 raised ValueError: ...``) is kb/notebook_exec.py's.

Cells are numbered from 1 in notebook order, Markdown cells included, as they are stored in
the ``.ipynb`` file.
"""

from __future__ import annotations

import base64
import binascii
import html as htmllib
import os
import re
import zlib
from html.parser import HTMLParser
from urllib.parse import quote

from mkdocs.exceptions import PluginError

from kb import mathml, notebook_exec, site_address
from kb.notebook_exec import wrap_render  # noqa: F401 (kb/plugin.py calls notebooks.wrap_render)

WRAPPER = '<div class="jupyter-wrapper">'
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
# nbconvert's furniture around a cell, kept out of the search index: prompts, tags, copy buttons
_SEARCH_EXCLUDE_RE = re.compile(
    r'<(div class="(?:jp-InputPrompt|jp-OutputPrompt|celltoolbar|clipboard-copy-txt)\b[^"]*"|clipboard-copy\b)')
STDERR_MIME = "application/vnd.jupyter.stderr"
ALLOW_WARNING_TAG = "kb-allow-warning"  # a cell whose stderr output is meant to be shown

DOWNLOAD_ICON = (  # Material's material/download icon, inline: no request
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" aria-hidden="true">'
    '<path d="M5 20h14v-2H5m14-9h-4V3H9v6H5l7 7z"/></svg>'
)
OPEN_ICON = (  # Material's material/open-in-new icon
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" aria-hidden="true">'
    '<path d="M14 3v2h3.59l-9.83 9.83 1.41 1.41L19 6.41V10h2V3m-2 16H5V5h7V3H5a2 2 0 0 0-2 2v14a2 2 0 0 0 2 '
    '2h14a2 2 0 0 0 2-2v-7h-2z"/></svg>'
)


class NotebookError(ValueError):
    """A notebook page that cannot be published as it is; the message names notebook and cell."""


def page_content(html: str, page, config) -> str:
    """on_page_content of a notebook page: :func:`process_page`, errors as :class:`PluginError`."""
    import nbformat

    if notebook_exec.pending(html):  # its notebook still runs: checked once it is in (on_env)
        return html
    jupyter = config["plugins"]["mkdocs-jupyter"].config
    download = os.path.basename(page.file.src_uri) if jupyter["include_source"] else None
    colab = colab_url(config["extra"], f"docs/{page.file.src_uri}")
    cells = nbformat.read(page.file.abs_src_path, as_version=4).cells
    cell_ids = [c.get("id") for c in cells]
    try:
        return process_page(html, f"docs/{page.file.src_uri}", download, _toc_ids(page.toc), cell_ids, colab,
                            warnings_allowed=warning_cells(cells))
    except (mathml.MathError, NotebookError) as exc:
        raise PluginError(str(exc)) from None


def warning_cells(cells) -> set[int]:
    """Numbers (from 1) of the cells tagged ``kb-allow-warning``: their stderr is meant to be shown."""
    return {i for i, c in enumerate(cells, start=1) if ALLOW_WARNING_TAG in c.get("metadata", {}).get("tags", [])}


def colab_url(extra: dict, path: str) -> str | None:
    """Colab's address for the notebook ``path`` (``docs/notebooks/x.ipynb``) of the repository
    named by ``extra.repository`` (``https://github.com/OWNER/REPO``) on ``extra.branch``;
    None when no repository is set. Any other address raises :class:`NotebookError`."""
    repo = extra.get("repository")
    if not repo:
        return None
    address = site_address.github_repository(str(repo))  # the one reading of GitHub addresses
    if address is None:
        raise NotebookError(f"mkdocs.yml: extra.repository must be https://github.com/OWNER/REPO, not {repo!r}")
    branch = extra.get("branch") or "main"
    owner_repo = address.removeprefix(site_address.GITHUB + "/")
    return f"https://colab.research.google.com/github/{owner_repo}/blob/{quote(str(branch))}/{quote(path)}"


def _toc_ids(toc) -> list[str]:
    ids: list[str] = []
    for item in toc:
        ids += [item.id, *_toc_ids(item.children)]
    return ids


def process_page(html: str, page: str, download: str | None = None, toc_ids: list[str] | None = None,
                 cell_ids: list[str | None] | None = None, colab: str | None = None,
                 warnings_allowed: set[int] = frozenset()) -> str:
    """Clean the HTML mkdocs-jupyter rendered for the notebook ``page`` (``docs/...ipynb``).

    ``download``: file name of the ``.ipynb`` copied next to the page, for the download
    button (``None``: no button). ``toc_ids``: the anchors of the page's table of contents,
    in order; the headings of the Markdown cells get them (nbconvert leaves ``id=""`` for a
    Hangul heading, while the table of contents has ``_1``, ``_2`` as on Markdown pages).
    ``cell_ids``: the notebook's cell ids in order, to number cells in messages. ``colab``:
    the notebook's address in Colab, for the "Colab에서 열기" button (``None``: no button).
    ``warnings_allowed``: numbers of the cells tagged ``kb-allow-warning``, whose stderr may show.
    Raises :class:`NotebookError` or :class:`kb.mathml.MathError`.
    """
    head, sep, body = html.partition(WRAPPER)
    if not sep:
        raise NotebookError(f"{page}: no {WRAPPER} in the rendered notebook (has mkdocs-jupyter's template changed?)")
    head = _drop_template_scripts(head)
    walker = _Walker(body, cell_ids or [])
    errors = [f"{page}: {where}: {what} loads {url} from another host; the site makes no third-party requests"
              for where, what, url in _Walker(head, []).fetches + walker.fetches]
    errors += _stderr_errors(body, walker.stderr, warnings_allowed, page)
    if errors:
        raise NotebookError("\n".join(errors))
    edits = _heading_edits(body, walker.headings, toc_ids, page) if toc_ids is not None else []
    formulas, math_edits = _math_edits(body, walker.runs, page)
    edits += math_edits + _alt_edits(body, walker.images, page)
    out, last = [], 0
    for start, end, text in sorted(edits):
        out += [body[last:start], text]
        last = end
    out.append(body[last:])
    body = _SEARCH_EXCLUDE_RE.sub(r"<\1 data-search-exclude", "".join(out))
    body = mathml.render(body, formulas, page) if formulas else body
    return _buttons(download, colab) + head + sep + body


def _buttons(download: str | None, colab: str | None) -> str:
    """The labelled download and Colab buttons above the notebook."""
    buttons = []
    if download:
        name = htmllib.escape(download)
        buttons.append(
            f'<a href="{quote(download)}" download class="md-button md-content__button kb-nb-button" '
            f'title="{name} 내려받기">{DOWNLOAD_ICON}<span>노트북 내려받기 (.ipynb)</span></a>'
        )
    if colab:
        buttons.append(
            f'<a href="{htmllib.escape(colab)}" class="md-button kb-nb-button kb-nb-button--colab" '
            f'target="_blank" rel="noopener" title="Google Colab에서 이 노트북 열기 (새 탭)">'
            f"{OPEN_ICON}<span>Colab에서 열기</span></a>"
        )
    return f'<p class="kb-nb-actions" data-search-exclude>{"".join(buttons)}</p>\n' if buttons else ""


def _attr(attrs: str, name: str) -> str | None:
    m = re.search(_ATTR_RE.format(name=name), attrs, re.I)
    if m is None:
        return None
    return next(g for g in m.groups() if g is not None)


def _drop_template_scripts(head: str) -> str:
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


class _Walker(HTMLParser):
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


def _heading_edits(body, headings, toc_ids, page) -> list[tuple[int, int, str]]:
    if len(headings) != len(toc_ids):
        raise NotebookError(
            f"{page}: {len(headings)} heading(s) in the Markdown cells but {len(toc_ids)} in the table of "
            "contents; a heading written as HTML or inside a list? Write headings as '# ...' lines"
        )
    edits = []
    for (start, end, _, anchor), anchor_id in zip(headings, toc_ids):
        tag = body[start:end]
        tag = re.sub(r'\sid="[^"]*"', "", tag)
        edits.append((start, end, tag[:3] + f' id="{htmllib.escape(anchor_id)}"' + tag[3:]))
        if anchor is not None:
            a = re.sub(r'\shref="[^"]*"', f' href="#{htmllib.escape(anchor_id)}"', body[anchor[0]:anchor[1]])
            # the "¶" is a permalink, not part of the heading: keep it out of search titles
            edits.append((anchor[0], anchor[1], a[:2] + " data-search-exclude" + a[2:]))
    return edits


def _stderr_errors(body: str, outputs: list[tuple[int, int]], allowed, page: str) -> list[str]:
    """A Korean message for each cell not tagged ``kb-allow-warning`` that wrote to stderr."""
    errors = []
    for start, cell in outputs:
        if cell in allowed:
            continue
        end = body.find("</pre>", start)
        text = htmllib.unescape(re.sub(r"<[^>]+>", "", body[start:end if end > 0 else start + 2000]))
        first = next((line.strip() for line in text.splitlines() if line.strip()), "")
        errors.append(
            f"{page}: cell {cell}이(가) 경고나 stderr 출력을 페이지에 씁니다: {first[:200]!r}. "
            f"원인을 고치세요. 독자에게 보여 주려는 출력이면 그 셀에 태그 {ALLOW_WARNING_TAG}를 다세요. "
            "(코드를 고쳤는데도 그대로면 .cache/mkdocs-jupyter의 저장된 출력입니다: "
            "그 폴더를 지우고 다시 빌드하세요)")
    return list(dict.fromkeys(errors))


def png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) in pixels from a PNG's IHDR chunk, or None if ``data`` is not a PNG."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n") or data[12:16] != b"IHDR":
        return None
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def png_description(data: bytes) -> str | None:
    """The ``Description`` text of a PNG (``tEXt``, ``iTXt`` or ``zTXt`` chunk), if it has one."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return None
    i = 8
    while i + 8 <= len(data):
        size = int.from_bytes(data[i:i + 4], "big")
        kind, chunk = data[i + 4:i + 8], data[i + 8:i + 8 + size]
        i += 12 + size
        keyword, _, rest = chunk.partition(b"\0")
        if keyword != b"Description":
            continue
        if kind == b"tEXt":
            return rest.decode("latin-1")
        if kind == b"zTXt":
            return zlib.decompress(rest[1:]).decode("latin-1")
        if kind == b"iTXt":
            compressed, text = rest[0], rest[2:].split(b"\0", 2)[2]  # skip language and translated keyword
            return (zlib.decompress(text) if compressed else text).decode("utf-8")
    return None


def _alt_edits(body, images, page) -> list[tuple[int, int, str]]:
    edits, missing = [], []
    for start, end, cell, data in images:
        try:
            png = base64.b64decode(htmllib.unescape(data))
            alt, size = png_description(png), png_size(png)
        except (binascii.Error, ValueError, IndexError, zlib.error):
            alt, size = None, None
        if not alt or not alt.strip() or size is None:
            missing.append(cell)
            continue
        tag = re.sub(r'\s(?:alt|width|height)="[^"]*"', "", body[start:end])
        attrs = f' alt="{htmllib.escape(alt.strip())}" width="{size[0]}" height="{size[1]}"'
        edits.append((start, end, tag[:4] + attrs + tag[4:]))
    if missing:
        cells = ", ".join(str(c) for c in dict.fromkeys(missing))
        raise NotebookError(
            f"{page}: cell {cells}: a figure without alt text; save it with "
            'fig.savefig(buf, format="png", metadata={"Description": "..."}) and display the PNG '
            "(plt.show() gives none)"
        )
    return edits


def _math_edits(body, runs, page) -> tuple[list[mathml.Formula], list[tuple[int, int, str]]]:
    """Placeholders of kb/mathml.py in place of the math in the Markdown cells' text."""
    formulas: list[mathml.Formula] = []
    edits: list[tuple[int, int, str]] = []
    errors: list[str] = []
    for start, end, cell in runs:
        text = body[start:end]
        prose = []
        last = 0
        for s, e, tex, display in mathml.find_in_text(text):
            formulas.append(mathml.Formula(htmllib.unescape(tex), display, cell))
            placeholder = mathml.PLACEHOLDER.format(kind="B" if display else "I", index=len(formulas) - 1)
            edits.append((start + s, start + e, placeholder))
            prose.append(text[last:s])
            last = e
        prose.append(text[last:])
        if "\\begin{" in "".join(prose):
            errors.append(f"{page}: cell {cell}: a LaTeX environment outside $$ ... $$ stays raw TeX; "
                          "put it inside $$ ... $$")
    for f in formulas:
        try:
            mathml.to_mathml(f.tex, f.display)
        except ValueError as exc:
            errors.append(f"{page}: cell {f.line}: cannot render formula ${f.tex}$: {exc}")
    if errors:
        raise mathml.MathError("\n".join(dict.fromkeys(errors)))
    return formulas, edits
