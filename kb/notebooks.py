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

Where things are in the rendered HTML (cells, prose, headings, figures, stderr, fetches) is read
once by kb/notebook_html.py; figures' alt text and size by kb/exec_output.py, as for Markdown pages.
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
from urllib.parse import quote

from mkdocs.exceptions import PluginError

from kb import mathml, notebook_exec, site_address
from kb.exec_output import png_alt_and_size
from kb.notebook_html import Walker, drop_template_scripts
from kb.notebook_exec import wrap_render  # noqa: F401 (kb/plugin.py calls notebooks.wrap_render)

WRAPPER = '<div class="jupyter-wrapper">'
# nbconvert's furniture around a cell, kept out of the search index: prompts, tags, copy buttons
_SEARCH_EXCLUDE_RE = re.compile(
    r'<(div class="(?:jp-InputPrompt|jp-OutputPrompt|celltoolbar|clipboard-copy-txt)\b[^"]*"|clipboard-copy\b)')
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
    head = drop_template_scripts(head)
    walker = Walker(body, cell_ids or [])
    errors = [f"{page}: {where}: {what} loads {url} from another host; the site makes no third-party requests"
              for where, what, url in Walker(head, []).fetches + walker.fetches]
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


def _alt_edits(body, images, page) -> list[tuple[int, int, str]]:
    edits, missing = [], []
    for start, end, cell, data in images:
        try:
            alt, size = png_alt_and_size(base64.b64decode(htmllib.unescape(data)))
        except (binascii.Error, ValueError, OSError, SyntaxError):  # (PIL: not a PNG, or a broken one)
            alt, size = "", None
        if not alt or size is None:
            missing.append(cell)
            continue
        tag = re.sub(r'\s(?:alt|width|height)="[^"]*"', "", body[start:end])
        attrs = f' alt="{htmllib.escape(alt)}" width="{size[0]}" height="{size[1]}"'
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
