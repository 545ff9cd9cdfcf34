"""MkDocs hooks of the knowledge base (listed under ``hooks:`` in mkdocs.yml).

* on_files: every check of ``python -m kb check`` (front matter, links, snippets, tags, math,
  markers: all problems at once, with file and line); the front matter is kept for generated
  lists and back-links. Every file under docs/attachments/ (what the importer copies from notes)
  is only copied, whatever its name: never a page, never a notebook.
* on_page_markdown: escape every front matter string that templates and plugins put into HTML
  (kb/safety.py), check the page's own front matter block, show its properties under the title, expand ``<!-- kb:... -->`` markers, and swap math for placeholders.
* on_page_content: put the MathML in; start every Python block whose output is not cached
  (kb/execute.py: in a pool of workers, several pages' blocks at once).
* on_env: wait for the blocks and put each one's output and figures under it.
* notebooks (mkdocs-jupyter pages): see kb/notebooks.py (on_pre_page, on_page_content).
* on_post_build: copy figures and downloadable snippets into the site; drop unused cache.

A hook that meets something it does not understand raises with the file named.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import platform
import sys
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # MkDocs loads hooks by path; make the package importable
    sys.path.insert(0, str(ROOT))

from kb import mathml, nav, notebooks  # noqa: E402
from kb import proofs  # noqa: E402  (kb:proofs, issue 12: 흔한 실수 and proof badges)
from kb.blocks import html_python_blocks  # noqa: E402
from kb.execute import ExecutionError, Executor, torch_version  # noqa: E402
from kb.check import check  # noqa: E402
from kb.render import MarkerError, Site  # noqa: E402
from kb.safety import esc, escape_meta  # noqa: E402

log = logging.getLogger("mkdocs.hooks.kb")
_site: Site | None = None
_executor: Executor | None = None
_formulas: dict[str, list[mathml.Formula]] = {}
ATTACHMENTS_DIR = "attachments/"  # kb/notion/assets.py ATTACHMENTS: data from notes, never code


class _Attachment(File):
    """A file of docs/attachments/: copied as it is, whatever its name (never a page or a notebook)."""

    def is_documentation_page(self) -> bool:
        return False

    def is_static_page(self) -> bool:
        return False


@event_priority(-100)  # after mkdocs-jupyter's on_files, which wraps the notebooks it includes
def on_files(files, config):
    """Apply the rules of ``python -m kb check`` (one set of rules: "문제 없음" means this passes),
    and make every file under docs/attachments/ (kb.notion.assets.ATTACHMENTS: what the importer
    copies from notes) a plain file to copy, at the path it has in docs/."""
    global _site
    problems, summary = check(Path(config["docs_dir"]), ROOT)
    if problems:
        lines = "\n".join(f"  {p}" for p in problems)
        raise PluginError(f"{len(problems)} problem(s) in the pages (as `python -m kb check` lists them):\n{lines}")
    _site = Site(summary.found)
    return Files([_as_attachment(f, config) if f.src_uri.startswith(ATTACHMENTS_DIR) else f for f in files])


def _as_attachment(file, config) -> File:
    return _Attachment(file.src_uri, config["docs_dir"], config["site_dir"], config["use_directory_urls"],
                       dest_uri=file.src_uri, inclusion=file.inclusion)


def _insert_header(markdown: str, header: str, lead: str | None = None) -> str:
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


@event_priority(100)  # before the tags and search plugins read page.meta
def on_page_markdown(markdown, page, config, files):
    # Material's templates, the tags plugin and the search index put page.meta values into
    # HTML unescaped (title, description, author, tags): from here on they hold escaped text.
    page.meta = escape_meta(page.meta)
    src = page.file.src_uri
    if not src.endswith(".md"):
        return markdown
    assert _site is not None, "on_files did not run"
    info = _site.pages.get(src)
    if info is None:
        raise PluginError(f"docs/{src}: page was not seen when the docs were validated")
    if (day := _meeting_date(info)) is not None:
        page.meta["kb_meeting_date"] = day  # partials/kb-page-facts.html: the date it was asked or presented
    try:
        source_lines = page.file.content_string.count("\n")
        first_line = source_lines - markdown.count("\n") + 1
        markdown, formulas = mathml.extract(markdown, first_line)
        markdown = _insert_header(markdown, _site.header(info), info.meta.get("description"))
        markdown = _site.expand_markers(src, markdown)
        markdown = proofs.expand(src, markdown)  # kb:proofs (issue 12)
    except (MarkerError, mathml.MathError) as exc:
        raise PluginError(f"docs/{src}: {exc}" if not str(exc).startswith("docs/") else str(exc)) from None
    _formulas[src] = formulas
    return markdown


def _meeting_date(info) -> str | None:
    """The date (YYYY-MM-DD) of the meeting a Q&A, paper review or lecture page came from."""
    meeting = _site.pages.get(info.meta.get("meeting")) if isinstance(info.meta.get("meeting"), str) else None
    day = meeting.meta.get("date") if meeting else None
    return day.isoformat() if isinstance(day, dt.date) else None


def on_pre_page(page, config, files):
    if page.file.src_uri.endswith(".ipynb"):  # CPU unless KB_EXEC_DEVICE=cuda; "docs/x.ipynb: cell N raised ..."
        notebooks.wrap_render(page)
    return page


def on_page_content(html, page, config, files):
    src = page.file.src_uri
    if src.endswith(".ipynb"):  # mkdocs-jupyter: MathML, no CDN scripts, download button
        return notebooks.page_content(html, page, config)
    formulas = _formulas.pop(src, [])
    try:
        if formulas:
            html = mathml.render(html, formulas, f"docs/{src}")
        if src.endswith(".md"):
            _refuse_unmarked_imported_blocks(html, src)
        if src.endswith(".md") and _executor is not None:
            html = _executor.process_page(html, src, page.url, page=page)  # outputs: on_env
    except (mathml.MathError, ExecutionError) as exc:
        raise PluginError(str(exc)) from None
    return html


def on_env(env, config, files):
    """Every page is read and its blocks started (kb.execute.Executor.process_page, in a pool of
    workers, while MkDocs read the rest): wait for them and put their outputs into the pages, before
    any page is written or indexed for search."""
    if _executor is not None:
        try:
            _executor.finish()
        except ExecutionError as exc:
            raise PluginError(str(exc)) from None
    return env


def _refuse_unmarked_imported_blocks(html: str, src: str) -> None:
    """Code from notes never runs: on a page written by the importer (front matter ``source``),
    every Python block must carry a skip marker, as kb/notion gives each one."""
    info = _site.pages.get(src) if _site is not None else None
    if info is None or not info.meta.get("source"):
        return
    index = _executor.index if _executor is not None else None  # the blocks process_page will use
    for block in index.blocks(html) if index is not None else html_python_blocks(html):
        try:
            marked = block.skip_reason is not None
        except ValueError:
            marked = False
        if not marked:
            raise PluginError(
                f"docs/{src}: Python block {block.index} (first line: {block.first_line!r}) is on a page imported "
                "from notes (front matter 'source') and has no skip marker; code from notes is not run. "
                'Add <!--pytest.mark.skip(reason="...")--> above it, or move runnable code to snippets/.'
            )


def on_config(config):
    """Fill in the generated navigation (kb/nav.py) and key mkdocs-jupyter's cache per torch/device.

    The cache: mkdocs-jupyter keys it on torch, Python and device too, not only the notebook's text.

    Its own key hashes the notebook and the plugin options; a notebook run with another torch
    or on another device must not be served from that cache, so each combination gets a folder.
    """
    config["nav"] = nav.generate(config["nav"], Path(config["docs_dir"]))
    jupyter = config.plugins.get("mkdocs-jupyter")
    if jupyter is not None and jupyter.config.get("cache"):
        device = os.environ.get("KB_EXEC_DEVICE", "cpu")
        flavour = f"torch-{torch_version()}-py{platform.python_version()}-{device}"
        jupyter.config["cache_dir"] = str(Path(jupyter.config["cache_dir"]) / flavour)
    return config


def on_pre_build(config):
    global _executor
    _executor = Executor.from_env(ROOT)


def on_post_build(config):
    if _executor is None:
        return
    try:
        _executor.write_site_files(Path(config["site_dir"]))
        _executor.evict_unused(Path(config["docs_dir"]))
        log.info("kb: ran %d code block(s), %d from the cache", _executor.runs, _executor.hits)
        if _executor.index is not None:
            index = _executor.index
            log.info("kb: Python blocks of %d page(s) found by parsing, %d from the last build",
                     index.parsed, len(index.new) - index.parsed)
            index.save()
    finally:
        _executor.close()


def on_build_error(error):
    if _executor is not None:
        _executor.close()


def on_shutdown():
    if _executor is not None:
        _executor.close()
