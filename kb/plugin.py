"""The knowledge base's MkDocs plugin: ``plugins: - kb`` in mkdocs.yml, last in the list.

Registered under the ``mkdocs.plugins`` entry point ``kb`` (pyproject.toml), so MkDocs 1.6 and
ProperDocs find it once the package is installed (``pip install -e .``). One class, its state on
the instance, its event methods in the order MkDocs calls them; each delegates to a module that
works without MkDocs:

* on_startup: under `mkdocs serve` (not ``--clean``), rebuilds look up what did not change
  (kb/incremental.py); under ``--dirty`` (``make serve``) they also read and write only the pages an
  edit changed (kb/partial.py); `mkdocs build` builds everything.
* on_config: the repository and site address (kb/site_address.py: source, edit and Colab links,
  site_url); the generated navigation (kb/nav.py); mkdocs-jupyter's cache kept per versions, device
  and kb code (kb/notebook_exec.py); the search fields kb/search_index.py writes must be configured (a
  site without the search plugin has no index, and gets no fields).
* on_pre_build: the build's executor (kb/execute.py) and a fresh set of notebook stylesheets.
* on_files: the search vocabulary (kb/search_words.py); then, after mkdocs-jupyter (priority -100),
  every rule of ``python -m kb check`` (kb/check.py), all problems at once with file and line, and
  every file under docs/attachments/ (what the importer copies from notes) made a plain file to
  copy: never a page, never a notebook; under ``--dirty``, which pages this build reads (kb/partial.py).
* on_nav: every notebook not cached starts running, beside the page blocks (kb/notebook_exec.py).
* on_pre_page: notebook pages render what ran (kb/notebook_exec.py; a cell that raises is named);
  under serve, a Markdown page converts only if its Markdown or an included file changed.
* on_page_markdown (priority 100, before tags and search read page.meta): front matter escaped
  (kb/safety.py); the page's header, markers, proofs and math placeholders (kb/pages.py); then
  (priority -49, just before the tags plugin) what the tags plugin reads, kept for ``--dirty``.
* on_page_content: MathML in and code blocks started (kb/pages.py), notebooks checked
  (kb/notebooks.py); then (priority -50) notebook CSS moved into files (kb/notebook_css.py).
* on_env: (priority 110, under ``--dirty``) the pages not read get their kept state and tags
  (kb/partial.py); wait for the blocks and put their outputs into the pages (kb/execute.py); so for the
  notebooks still running when their page was read (kb/notebook_exec.py); the index Material's search
  makes is handed to kb as data (kb/search_index.py ``Captured``); under serve, unchanged pages keep
  their HTML file and search entries (kb/incremental.py).
* on_page_context: which source file each page URL came from, for search errors.
* on_post_build: (priority 50, under ``--dirty``) every page's search entries in the site's order,
  the unread notebooks' cache entries kept; figures, downloadable snippets and notebook CSS into the
  site, unused cache dropped, the math font cut to the site's formulas (kb/fonts.py); then
  (priority -100, after the search plugin's) the index written with the Korean search fields
  (kb/search_index.py, with kb/search_ko.py's analysis); last (-110) the build remembered for the next ``--dirty`` one.
* on_build_error: the executor's workers stop, and notebooks not started yet; the next ``--dirty``
  build is whole.
* on_serve (`mkdocs serve`, after its first build): the search analyser loads Kiwi in the
  background (kb/search_ko.py), so that the first saved edit does not wait for it.
* on_shutdown: the executor's workers stop; MkDocs' warning about dirty builds is heard again.

These were hooks (``hooks:``), which run after every plugin; listed last, the plugin keeps that
order, and the priorities are the hooks' own. Having ``on_shutdown``, the instance is kept across
the rebuilds of ``mkdocs serve``, and so is the search analyser (Kiwi loads once). The project
is the folder of the config file. Anything the plugin does not understand raises a PluginError
naming the file.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, CombinedEvent, event_priority
from mkdocs.structure.files import File, Files

from kb import (fonts, incremental, nav, notebook_css, notebook_exec, notebooks, pages, partial, search_index, search_ko,
                search_words, site_address)
from kb.check import Loaded, check, load_pages
from kb.execute import ExecutionError, Executor
from kb.render import Site
from kb.safety import escape_meta

log = logging.getLogger("mkdocs.plugins.kb")
ATTACHMENTS_DIR = "attachments/"  # kb/notion/assets.py ATTACHMENTS: data from notes, never code


class _Attachment(File):
    """A file of docs/attachments/: copied as it is, whatever its name (never a page or a notebook)."""

    def is_documentation_page(self) -> bool:
        return False

    def is_static_page(self) -> bool:
        return False


class KbPlugin(BasePlugin):
    """The ``kb`` plugin: no options; what it does per event is in the module's docstring."""

    def __init__(self):
        self.root: Path | None = None  # the project: the folder of mkdocs.yml
        self.site: Site | None = None  # the pages' front matter, from on_files
        self.loaded: Loaded | None = None  # the pages as on_config read them, for on_files' check
        self.executor: Executor | None = None
        self.formulas: dict[str, list] = {}  # page -> its math, from on_page_markdown to on_page_content
        self.sheets: dict[str, str] = {}  # site path -> notebook CSS, of this build
        self.search = None  # the search plugin's options, None when the site has no search
        self.captured: search_index.Captured | None = None  # the index the search plugin made, from on_env
        self.sources: dict[str, str] = {}  # page URL -> source file, for search errors
        self.analyzer: search_ko.Analyzer | None = None  # kept across `mkdocs serve` rebuilds
        self.notebooks: notebook_exec.NotebookRuns | None = None  # running beside the blocks
        self.incremental: incremental.Incremental | None = None  # `mkdocs serve` only (kb/incremental.py)
        self.partial: partial.Partial | None = None  # `mkdocs serve --dirty` only (kb/partial.py)
        self.pages: list = []  # this build's documentation pages (their File), in MkDocs' order

    def on_startup(self, *, command, dirty):
        """`mkdocs serve` looks up what an edit did not change (kb/incremental.py); with ``--dirty``
        (``make serve``) it also reads and writes only the pages the edit changed (kb/partial.py).
        `mkdocs build` and `serve --clean` build every page."""
        self.incremental = incremental.Incremental() if command == "serve" else None
        self.partial = partial.Partial() if command == "serve" and dirty else None
        if self.partial is not None:
            self.partial.start()

    def on_config(self, config):
        """The generated navigation; mkdocs-jupyter's cache keyed by versions, device and kb code too
        (its own key hashes only the notebook and the plugin's options, so each combination gets
        a folder); the search fields configured."""
        self.root = Path(config.config_file_path).resolve().parent
        self._set_address(config)
        if self.incremental is not None:
            self.incremental.start(config, self.root)
        self.loaded = load_pages(Path(config["docs_dir"]))  # the pages read once: here and by the check
        config["nav"] = nav.generate(config["nav"], Path(config["docs_dir"]), self.loaded.pages)
        jupyter = config.plugins.get("mkdocs-jupyter")
        if jupyter is not None and os.environ.get("KB_EXECUTE", "1") == "0":
            jupyter.config["execute"] = False  # runs nothing: notebooks show as committed, without outputs
        if jupyter is not None and jupyter.config.get("cache"):
            flavour = notebook_exec.cache_flavour(os.environ.get("KB_EXEC_DEVICE", "cpu"))
            if not jupyter.config["execute"]:  # a folder of its own: after each build mkdocs-jupyter
                flavour += "-unexecuted"       # evicts the entries of its folder that the build did not use
            jupyter.config["cache_dir"] = str(Path(jupyter.config["cache_dir"]) / flavour)
        search = config.plugins.get("material/search") or config.plugins.get("search")
        self.search = search.config if search is not None else None
        if self.search is not None:
            _shown(search_index.check_fields, self.search.fields)
        return config

    def _set_address(self, config):
        """extra.repository (source, edit and Colab links) and site_url (sitemap, canonical links,
        the 404 page's paths) from kb/site_address.py; one info line when one is unknown."""
        extra = config["extra"]
        try:
            address = site_address.derive(self.root, config_repository=extra.get("repository"),
                                          config_repo_url=config["repo_url"], config_site_url=config["site_url"])
        except site_address.AddressError as exc:
            raise PluginError(str(exc)) from None
        extra["repository"], config["site_url"] = address.repository, address.site_url
        if address.note:
            log.info(address.note)

    def on_pre_build(self, config):
        self.executor = Executor.from_env(self.root)
        self.formulas, self.sheets = {}, {}
        if self.partial is None:  # a partial build names only the pages it reads
            self.sources = {}

    def _add_search_data(self, files, config):
        if files.get_file_from_path(search_words.DATA_JS) is not None:
            raise PluginError(f"docs/{search_words.DATA_JS}: this file is generated by kb/search_words.py; remove it")
        files.append(File.generated(config, search_words.DATA_JS, content=search_words.data_js()))
        return files

    @event_priority(-100)  # after mkdocs-jupyter's on_files, which wraps the notebooks it includes
    def _check_pages(self, files, config):
        """The rules of ``python -m kb check`` ("문제 없음" there means this passes); files under
        docs/attachments/ become plain files to copy, at the path they have in docs/."""
        with self.incremental.checking() if self.incremental is not None else contextlib.nullcontext():
            problems, summary = check(Path(config["docs_dir"]), self.root, self.loaded)
        self.loaded = None
        if problems:
            lines = "\n".join(f"  {p}" for p in problems)
            raise PluginError(f"{len(problems)} problem(s) in the pages (as `python -m kb check` lists them):\n{lines}")
        self.site = Site(summary.found)
        files = Files([self._as_attachment(f, config) if f.src_uri.startswith(ATTACHMENTS_DIR) else f for f in files])
        self.pages = [f for f in files if f.is_documentation_page() and f.inclusion.is_in_serve()]
        if self.partial is not None:  # which pages this build reads and writes
            self.partial.plan(files, config, self.incremental.site_key(), self.root, self.pages)
            self.incremental.partial_build = not self.partial.whole
        return files

    on_files = CombinedEvent(_add_search_data, _check_pages)

    @staticmethod
    def _as_attachment(file, config) -> File:
        return _Attachment(file.src_uri, config["docs_dir"], config["site_dir"], config["use_directory_urls"],
                           dest_uri=file.src_uri, inclusion=file.inclusion)

    def on_nav(self, site_nav, config, files):
        """The pages passed the check: the notebooks not cached start running, beside the blocks
        and each other, while MkDocs reads the pages (kb/notebook_exec.py)."""
        self.notebooks = notebook_exec.NotebookRuns.start(files, config, previous=self.notebooks)
        return site_nav

    def on_pre_page(self, page, config, files):
        if page.file.src_uri.endswith(".ipynb"):  # CPU unless KB_EXEC_DEVICE=cuda; "docs/x.ipynb: cell N raised ..."
            notebooks.wrap_render(page, self.notebooks)
        elif self.incremental is not None:  # Markdown converted only if it (or what it includes) changed
            self.incremental.wrap_render(page)
        return page

    @event_priority(100)  # before the tags and search plugins read page.meta
    def _prepare_page(self, markdown, page, config, files):
        # Material's templates, the tags plugin and the search index put page.meta values into
        # HTML unescaped (title, description, author, tags): from here on they hold escaped text.
        page.meta = escape_meta(page.meta)
        src = page.file.src_uri
        if not src.endswith(".md"):
            return markdown
        assert self.site is not None, "on_files did not run"
        prepared = _shown(pages.prepare, self.site, src, markdown, page.file.content_string)
        if prepared.meeting_date is not None:
            page.meta["kb_meeting_date"] = prepared.meeting_date  # partials/kb-page-facts.html
        self.formulas[src] = prepared.formulas
        return prepared.markdown

    @event_priority(-49)  # just before the tags plugin's (-50): what it reads, kept for the builds that skip the page
    def _see_tags_markdown(self, markdown, page, config, files):
        if self.partial is not None:
            self.partial.saw_tags_markdown(page, markdown)
        return markdown

    on_page_markdown = CombinedEvent(_prepare_page, _see_tags_markdown)

    def _finish_page(self, html, page, config, files):
        src = page.file.src_uri
        if src.endswith(".ipynb"):  # mkdocs-jupyter: MathML, no CDN scripts, download button
            return notebooks.page_content(html, page, config)
        formulas = self.formulas.pop(src, [])
        render_math = self.incremental.render_math if self.incremental is not None else pages.mathml.render
        return _shown(pages.finish, html, src, formulas, self.site, self.executor, page.url, page=page,
                      render_math=render_math)

    @event_priority(-50)  # after _finish_page checked and cleaned the notebook's HTML
    def _move_notebook_css(self, html, page, config, files):
        if not page.file.src_uri.endswith(".ipynb"):
            return html
        return notebook_css.externalise(html, page.url, self.sheets)

    on_page_content = CombinedEvent(_finish_page, _move_notebook_css)

    @event_priority(110)  # before the tags plugin's on_env (100) renders its listings
    def _restore_kept(self, env, config, files):
        """Under ``--dirty``, the pages this build did not read get what the last read gave them."""
        if self.partial is not None:
            self.partial.restore(self.pages, files, config)
        return env

    def _finish_blocks(self, env, config, files):
        """Every page is read and its blocks started (in a pool of workers, while MkDocs read the
        rest): wait for them and put each one's output and figures under it, before any page is
        written or indexed for search; so for the notebooks still running when their page was read."""
        if self.executor is not None:
            _shown(self.executor.finish)
        if self.notebooks is not None:
            self.notebooks.finish(config, files)
        search = config.plugins.get("material/search") or config.plugins.get("search")
        if getattr(search, "search_index", None) is not None and self.search.enabled:
            if search is config.plugins.get("material/search"):  # its value, for _add_search_fields
                self.captured = search_index.Captured(search.search_index)
            if self.incremental is not None:  # unchanged pages keep their search entries
                self.incremental.wrap_search(search.search_index)
        if self.incremental is not None:  # and their HTML file
            env = self.incremental.wrap_templates(env, config)
        return env

    on_env = CombinedEvent(_restore_kept, _finish_blocks)

    def on_page_context(self, context, page, config, nav):
        self.sources[page.url] = f"docs/{page.file.src_uri}"
        return context

    def _write_site_files(self, config):
        site_dir = Path(config["site_dir"])
        if self.incremental is not None:
            log.info("kb serve: %s", self.incremental.summary())
        if self.executor is not None:
            try:
                self._finish_executor(site_dir, Path(config["docs_dir"]))
            finally:
                self.executor.close()
        notebook_css.write(site_dir, self.sheets)
        # the math font cut to the site's formulas (kb/fonts.py), cached by its characters
        codepoints_of = self.incremental.math_codepoints if self.incremental is not None else fonts.file_math_codepoints
        _shown(fonts.write_math_font, Path(config["docs_dir"]), site_dir, self.root / ".cache" / "kb-webfonts",
               codepoints_of)

    def _finish_executor(self, site_dir: Path, docs_dir: Path) -> None:
        executor = self.executor
        executor.write_site_files(site_dir)
        partial_build = self.partial is not None and not self.partial.whole
        if not partial_build:  # a partial build has not seen every page's blocks
            executor.evict_unused(docs_dir)
        log.info("kb: ran %d code block(s), %d from the cache", executor.runs, executor.hits)
        if executor.index is not None:
            index = executor.index
            log.info("kb: Python blocks of %d page(s) found by parsing, %d from the last build",
                     index.parsed, index.reused)
            index.save(keep_old=partial_build)

    @event_priority(-100)  # after the search plugin has written the index
    def _add_search_fields(self, config):
        if self.search is None or not self.search.enabled:
            return
        folder = search_ko.cache_dir(self.root)
        self.analyzer = search_ko.analyzer_for(self.analyzer, self.search.separator, folder)
        path = Path(config.site_dir) / "search" / "search_index.json"

        def source_of(location: str) -> str:
            return self.sources.get(location.split("#", 1)[0], f"page '{location}'")

        index, self.captured = self.captured.take() if self.captured is not None else None, None
        analysed, hits = _shown(search_index.add_fields_to_file, path, self.analyzer, source_of, index)
        log.info("kb search: analysed %d entries, %d from the cache", analysed, hits)

    @event_priority(50)  # before the search plugin writes its index and mkdocs-jupyter evicts its cache
    def _keep_unread_pages(self, config):
        """Under ``--dirty``, a partial build's search index holds every page's entries, in order (the
        search plugin's own merge assumes one page and appends it), and the notebooks it did not read
        keep their cache entries."""
        if self.partial is None:
            return
        search = config.plugins.get("material/search") or config.plugins.get("search")
        if getattr(search, "search_index", None) is not None and self.search.enabled:
            search.search_index_prev = None
            self.partial.search_entries(search.search_index, self.pages,
                                        lambda page: self.incremental.entries[page.url][1])
        jupyter = config.plugins.get("mkdocs-jupyter")
        if jupyter is not None and not self.partial.whole:
            for file in self.pages:
                if file.src_uri.endswith(".ipynb") and file.src_uri not in self.partial.reading:
                    notebook_exec.keep_cached(jupyter, file.abs_src_path)

    @event_priority(-110)  # last: the build is done
    def _remember_build(self, config):
        if self.partial is not None:
            self.partial.done(self.pages)

    on_post_build = CombinedEvent(_keep_unread_pages, _write_site_files, _add_search_fields, _remember_build)

    def on_build_error(self, error):
        if self.partial is not None:
            self.partial.failed()
        if self.executor is not None:
            self.executor.close()
        if self.notebooks is not None:
            self.notebooks.close()

    def on_serve(self, server, config, builder):
        if self.analyzer is not None:
            self.analyzer.warm_up()
        return server

    def on_shutdown(self):
        if self.partial is not None:
            self.partial.stop()
        if self.executor is not None:
            self.executor.close()
        if self.notebooks is not None:
            self.notebooks.close()


def _shown(call, *args, **kwargs):
    """``call(*args, **kwargs)``, its errors as PluginError: MkDocs shows the message, not a traceback."""
    try:
        return call(*args, **kwargs)
    except (pages.PageError, search_index.SearchIndexError, ExecutionError, fonts.FontError) as exc:
        raise PluginError(str(exc)) from None
