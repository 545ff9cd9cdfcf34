"""`mkdocs serve --dirty` (what ``make serve`` runs): a saved edit reads and writes only the pages it changes.

MkDocs' ``--dirty`` skips reading and writing every page whose file is not newer than its HTML.
Alone it is wrong for this site (a page's navigation keeps a renamed title, Material's search keeps
one page's entries, the tags page loses the pages it did not read), and under ``--strict`` its own
warning fails every build. With kb, kb decides what is dirty (:class:`Partial`, on the plugin
instance, kept across the rebuilds of one serve session), and MkDocs does the skipping:

* **The site's signature**: the configuration and theme (kb/incremental.py's build key), the list of
  files, every page's front matter, the whole text of a page that has no ``title:`` there (its title
  comes from its first heading) and of every notebook, a stamp (size, time) of every other file
  and of everything under ``snippets/``, and the commit the page dates were read at. A build whose
  signature differs from the last good build's, the first build, and the build after one that
  failed, are whole: the site folder emptied as MkDocs' clean build does, every page read and written.
* Otherwise only the pages whose text changed are read and written. What a whole build would
  have from the others is kept from the build that last read them (:class:`_Kept`): their front
  matter, Markdown, HTML, table of contents, title and anchors (the navigation, the sitemap and the
  tags plugin read them; their links are not checked again by MkDocs, kb check checks every page's
  links and anchors on every build), their search entries in the site's order, their tags (given to the tags
  plugin again, with the Markdown it read then), their notebook cache entries (marked used, or
  mkdocs-jupyter evicts them), the block index's entries and every code cache entry.
* Everything that runs over the whole site still runs over all of it: kb check, the search
  fields and the split index, the math font, the sitemap and the 404 page; each takes what did not
  change from the last build (a page's front matter by its bytes, kb/frontmatter.py; the generated
  lists by the site's front matter, kb/render.py; a page's read by its text, kb/incremental.py; the
  split index's files by their bytes, kb/search_split.py).

``tests/test_incremental.py`` requires each kind of edit to give the same site as a whole build
(every HTML file and search entry) and to change only the pages that show the edit.
Files and pages are duck-typed; the front matter split and the site folder's cleaning are MkDocs' own.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from mkdocs.utils import clean_directory
from mkdocs.utils.meta import YAML_RE

from kb.incremental import _digest

log = logging.getLogger("mkdocs.plugins.kb")

# a top-level title key in a page's front matter
_TITLE_KEY = re.compile(r"^[\"']?title[\"']?[ \t]*:", re.MULTILINE)
# what MkDocs (and ProperDocs, under its own name) logs on every --dirty build; kb makes those
# builds whole where they must be
DIRTY_WARNING = "A 'dirty' build is being performed"
DIRTY_LOGGERS = ("mkdocs.commands.build", "properdocs.commands.build")
_PAGE_STATE = ("markdown", "content", "toc", "meta", "_title_from_render", "present_anchor_ids")


class _DirtyWarning(logging.Filter):
    """Drops MkDocs' (or ProperDocs') warning that a dirty build may be wrong (``--strict`` would fail on it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(DIRTY_WARNING)


@dataclass
class _Kept:
    """One page as the build that last read it left it."""

    state: dict  # the Page attributes of _PAGE_STATE
    tags_markdown: str | None  # what the tags plugin's on_page_markdown was given
    title: str | None


class Partial:
    """What one `mkdocs serve --dirty` session knows of its last good build."""

    def __init__(self):
        self.signature = ""  # of the last good build; "" before the first
        self.texts: dict[str, str] = {}  # page path -> digest of its text, at the last good build
        self.kept: dict[str, _Kept] = {}  # page path -> the page, from the build that last read it
        self.tags_markdown: dict[str, str] = {}  # this build's: page path -> Markdown the tags plugin read
        self.reading: set[str] | None = None  # the pages this build reads and writes; None: every page
        self.whole = True
        self._next: tuple[str, dict[str, str]] = ("", {})
        self._filter = _DirtyWarning()

    # -- the session ----------------------------------------------------------------------

    def start(self) -> None:
        for name in DIRTY_LOGGERS:
            logging.getLogger(name).addFilter(self._filter)

    def stop(self) -> None:
        for name in DIRTY_LOGGERS:
            logging.getLogger(name).removeFilter(self._filter)

    # -- one build, in event order -------------------------------------------------------

    def plan(self, files, config, build_key: str, root: Path, pages) -> None:
        """on_files, after every plugin's: whole or partial, and which pages to read. ``pages``: the
        documentation pages (their ``File``), each told through ``is_modified`` (MkDocs asks it
        before reading and writing a page under ``--dirty``) whether this build reads it."""
        texts, fronts = {}, []
        for file in pages:
            data = file.content_bytes  # the file's, or a plugin's generated page's
            texts[file.src_uri] = hashlib.sha1(data).hexdigest()
            fronts.append((file.src_uri, _front_part(file.src_uri, data)))
        stamps = []
        for file in files:
            if file.src_uri not in texts:
                stamps.append(_stamp(file))
        snippets = root / "snippets"
        if snippets.is_dir():
            stamps.extend(_file_stamp(str(p), p) for p in sorted(snippets.rglob("*")) if p.is_file())
        signature = _digest(build_key, sorted(stamps), fronts)
        self.tags_markdown = {}
        self._next = (signature, texts)
        self.whole = signature != self.signature
        if self.whole:
            clean_directory(config["site_dir"])  # as MkDocs' clean build does
            self.reading = None
        else:
            self.reading = {src for src, digest in texts.items() if self.texts.get(src) != digest or src not in self.kept}
        for file in pages:
            read = self.reading is None or file.src_uri in self.reading
            file.is_modified = lambda read=read: read  # kb's answer, not the file times'
        log.info("kb serve: %s", "every page built" if self.whole else
                 f"{len(self.reading)} changed page(s) read and written, {len(pages) - len(self.reading)} kept")

    def saw_tags_markdown(self, page, markdown: str) -> None:
        """on_page_markdown, just before the tags plugin: what it reads of a page."""
        self.tags_markdown[page.file.src_uri] = markdown

    def restore(self, pages, files, config) -> None:
        """on_env, before the tags plugin's: the pages not read get what the last read gave them;
        the tags plugin is given their tags again."""
        if self.whole:
            return
        tags = config.plugins.get("material/tags") or config.plugins.get("tags")
        for file in pages:
            page, kept = file.page, self.kept.get(file.src_uri)
            if file.src_uri in self.reading:
                if kept is not None and page.title != kept.title:  # _TITLE_KEY missed a way to write it
                    self.signature = ""  # the next build is whole
                    log.warning("kb serve: docs/%s: 제목이 본문에서 바뀌어 다른 페이지의 목차가 옛 제목을 "
                                "보일 수 있습니다; 다시 저장하면 사이트 전체를 다시 만듭니다", file.src_uri)
                continue
            for name, value in kept.state.items():
                setattr(page, name, value)
            if tags is not None and kept.tags_markdown is not None:
                tags.on_page_markdown(kept.tags_markdown, page=page, config=config, files=files)

    def search_entries(self, index, pages, entries_of) -> None:
        """on_post_build, before the search plugin writes its index: every page's entries, in the
        site's order (``entries_of(page)``: the entries kb/incremental.py keeps per page)."""
        if self.whole:
            return
        index.entries = [dict(entry) for file in pages for entry in entries_of(file.page)]

    def done(self, pages) -> None:
        """on_post_build, last: this build is the one the next compares with."""
        for file in pages:
            if self.reading is None or file.src_uri in self.reading:
                page = file.page
                self.kept[file.src_uri] = _Kept({name: getattr(page, name) for name in _PAGE_STATE},
                                                self.tags_markdown.get(file.src_uri), page.title)
        present = {file.src_uri for file in pages}
        for src in [s for s in self.kept if s not in present]:
            del self.kept[src]
        self.signature, self.texts = self._next

    def failed(self) -> None:
        """on_build_error: the site folder holds part of a build; the next one is whole."""
        self.signature = ""


def _front_part(src: str, data: bytes) -> bytes:
    """What of a page's text other pages can show: its front matter; the whole text of a
    notebook, of a page without front matter, or of one whose title is not in it."""
    if not src.endswith(".md"):
        return data
    text = data.decode("utf-8-sig", errors="replace")
    found = YAML_RE.match(text)
    if found is None or not _TITLE_KEY.search(found.group(1)):
        return data
    return found.group(0).encode("utf-8")


def _stamp(file) -> tuple:
    path = getattr(file, "abs_src_path", None)
    if path is None:  # generated by a plugin: its content
        content = file.content_bytes
        return (file.src_uri, hashlib.sha1(content).hexdigest())
    return _file_stamp(file.src_uri, Path(path))


def _file_stamp(name: str, path: Path) -> tuple:
    stat = path.stat()
    return (name, stat.st_mtime_ns, stat.st_size)
