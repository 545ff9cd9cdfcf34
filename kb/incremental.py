"""`mkdocs serve` rebuilds only what a saved edit changes (kb/plugin.py calls it; `mkdocs build` never).

MkDocs rebuilds the whole site on every save: every page's Markdown converted, every page's
template rendered, Material's search plugin reading every page's HTML again. Under plain `mkdocs
serve` the build stays a normal, whole build (same events, every page in it, the site folder
written afresh); under ``--dirty`` (``make serve``) kb/partial.py has MkDocs read and write only the
pages an edit changed, and what those pages and a whole build still do goes through here. Either
way the costly steps look their result up by everything the result is made of:

* Markdown -> HTML (``Page.render``): by the page's Markdown as the plugins left it (kb's property
  box and ``<!-- kb:... -->`` lists already expanded from every page's front matter, so a
  question's status changes the Markdown of exactly the pages that show it), the site's files
  (its links), the content of the files it includes with ``--8<--``, and the configuration.
  What ``on_page_content`` does afterwards (code block outputs) runs every time.
* page -> HTML file (the theme's template): by the page's final HTML (block outputs in), its table
  of contents, front matter, title and addresses, the extra template variables plugins gave it
  (the tags plugin's), the configuration, and a signature of the navigation (every entry's title,
  address, status, icon and subtitle, in order, so previous/next links are in it too). A title
  or status edit changes the signature, and every page is rendered again: correct, not fast.
* page -> search entries (Material's ``SearchIndex.add_entry_from_context``): by the HTML the
  search plugin reads, the table of contents, address, title and the front matter it uses.
* kb check (kb/check.py, every build): a page is read with the build's Markdown again only if its
  prepared text or an included file changed, and its one-page rules rerun only if its text did.
* formulas (``kb.mathml.render``) by the page's HTML and the formulas' TeX; the math font's code
  points (``kb.fonts.file_math_codepoints``) by the built page's file (path, size, time), then by its text.
* each page's last commit (git-revision-date-localized's ``git log``) by the page's file, until
  HEAD moves (kb/git_dates.py).

A step that logged a warning or raised is not kept (so ``--strict`` sees it again on the next
build). Each cache holds one result per page (or those of the last build), so memory does not grow
with edits. No MkDocs imports: Page, Files, Navigation and the Jinja environment are duck-typed.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import xml.etree.ElementTree as ET
from pathlib import Path

from kb.git_dates import GitDates, WarningCount
from kb.included import included_key

NAV_META = ("status", "icon", "subtitle")  # what Material's navigation shows of a page's front matter
_STANDARD_CONTEXT = {"nav", "pages", "base_url", "extra_css", "extra_javascript", "mkdocs_version",
                     "build_date_utc", "config", "page"}  # MkDocs' own template variables
# kb check's rules that read nothing but one page's text (and its first body line)
PAGE_RULES = ("_check_math_and_markers", "_check_block_markers", "_check_placeholders")
_PAGE_VARS = ("content", "toc", "_title_from_render", "present_anchor_ids", "links_to_anchors")


def _digest(*parts) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part if isinstance(part, bytes) else str(part).encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


def toc_text(toc) -> str:
    """A table of contents as text: every entry's level, id, title, nested."""
    return "".join(f"({item.level}|{item.id}|{item.title}|{toc_text(item.children)})" for item in toc or [])


def nav_text(items) -> str:
    """The navigation as the theme draws it: titles, addresses and the front matter it shows."""
    out = []
    for item in items or []:
        meta = getattr(item, "meta", None) or {}
        shown = "|".join(repr(meta.get(k)) for k in NAV_META)
        out.append(f"({type(item).__name__}|{item.title}|{getattr(item, 'url', '')}|{shown}|"
                   f"{nav_text(getattr(item, 'children', None))})")
    return "".join(out)


class Incremental:
    """The caches of one `mkdocs serve` session (on the plugin instance, kept across its rebuilds)."""

    def __init__(self):
        self.rendered: dict[str, tuple] = {}  # src -> (key, Page.render's results, links to anchors by path)
        self.written: dict[str, tuple[str, str]] = {}  # src -> (key, the page's HTML file)
        self.entries: dict[str, tuple[str, list[dict]]] = {}  # page URL -> (key, search entries)
        self.reads: dict[tuple, object] = {}  # key -> kb check's Read of a page (links and anchors)
        self.reads_used: dict[tuple, object] = {}
        self.math: dict[str, str] = {}  # a page's HTML with its formulas -> with their MathML in
        self.math_used: dict[str, str] = {}
        self.checked: dict[tuple, list] = {}  # kb check's rules of one page's text -> their problems
        self.checked_used: dict[tuple, list] = {}
        self.codepoints: dict = {}  # page file (path, time, size), and its text's sha1 -> its formulas' code points
        self.codepoints_used: dict = {}
        self.build_key = ""
        self.root: Path | None = None
        self.hits = {"check": 0, "render": 0, "template": 0, "search": 0}
        self.misses = dict.fromkeys(self.hits, 0)
        self._nav: tuple[int, str] | None = None
        self._rendering = False
        self.partial_build = False  # the last build read some pages only (kb/partial.py says so)
        self.compiled = _Compiled()  # the theme's templates, compiled (Jinja's bytecode)
        self.git = GitDates()  # each page's last commit, until HEAD moves
        self.included: dict[Path, bytes | None] = {}  # the files ``--8<--`` lines name, read in this build
        self.digests: dict = {}  # their digests, and each list of names' key (kb/included.py)

    # -- the build ----------------------------------------------------------------------

    def start(self, config, root: Path) -> None:
        """A new build: what every page's results depend on (the config file, the theme's
        overrides, where the site goes) is read again."""
        self.root = root
        self.included, self.digests = {}, {}
        config_file = Path(config.config_file_path)
        # resolved: MkDocs names the theme's folders relative to the working folder on the first
        # load of a `mkdocs serve -f mkdocs.yml` and absolute on each reload
        theme = [Path(d).resolve() for d in config.theme.dirs if Path(d).resolve().is_relative_to(root)]
        stamps = sorted((str(p), p.stat().st_mtime_ns, p.stat().st_size)
                        for d in theme for p in d.rglob("*") if p.is_file())
        self.build_key = _digest(root, config_file.read_bytes(), stamps, config.site_url, config.site_dir,
                                 repr(dict(config.extra)), config.use_directory_urls)
        self.codepoints, self.codepoints_used = self.codepoints_used or self.codepoints, {}
        if self.partial_build:  # it rendered the formulas of the pages it read only: the others' stay
            self.math.update(self.math_used)
            self.math_used = {}
        else:
            self.math, self.math_used = self.math_used or self.math, {}
        self.hits = dict.fromkeys(self.hits, 0)
        self.misses = dict.fromkeys(self.misses, 0)
        self._nav = None
        self.git.wrap(config)

    def site_key(self) -> str:
        """What every page of this build depends on: :meth:`start`'s key and the commit the page
        dates are read at (kb/partial.py)."""
        return _digest(self.build_key, self.git.head)

    def summary(self) -> str:
        return ", ".join(f"{step} {self.hits[step]} kept / {self.hits[step] + self.misses[step]}"
                         for step in self.hits)

    # -- kb check ------------------------------------------------------------------------

    @contextlib.contextmanager
    def checking(self):
        """While ``kb.check.check`` runs, it reads each page with the build's Markdown only if the
        page's prepared text (or a file it includes) changed; what it keeps of a read is what the
        link check looks at (``a`` and ``img`` elements, in order) and the page's anchors. The rules
        of :data:`PAGE_RULES` run again only on a page whose text changed."""
        from kb import check, check_site

        read_page = check_site.read_page

        def cached_read_page(md_text, root):
            # a tuple, not a digest: the prepared texts of unchanged pages are the same str objects
            # from build to build (kb/markdown_build.py, kb/render.py keep them), whose hash Python keeps
            key = (self.build_key, str(root), md_text, tuple(included_key(md_text, Path(root), self.included, self.digests)))
            kept = self.reads.get(key)
            if kept is not None:
                self.hits["check"] += 1
                self.reads_used[key] = kept
                return kept
            self.misses["check"] += 1
            read = read_page(md_text, root)
            links = ET.Element("div")
            links.extend(ET.Element(el.tag, dict(el.attrib)) for el in read.root.iter() if el.tag in ("a", "img"))
            kept = self.reads_used[key] = type(read)(links, set(read.ids))
            return kept

        def kept_rule(rule):
            def cached_rule(src, text, page):
                key = (rule.__name__, src, text, page.body_line)
                found = self.checked.get(key)
                if found is None:
                    found = rule(src, text, page)
                self.checked_used[key] = found
                return list(found)

            return cached_rule

        rules = {name: getattr(check, name) for name in PAGE_RULES}
        self.reads_used, self.checked_used = {}, {}
        check_site.read_page = cached_read_page
        for name, rule in rules.items():
            setattr(check, name, kept_rule(rule))
        try:
            yield
        finally:
            check_site.read_page = read_page
            for name, rule in rules.items():
                setattr(check, name, rule)
            self.reads, self.reads_used = self.reads_used, {}
            self.checked, self.checked_used = self.checked_used, {}

    # -- Markdown -> HTML ---------------------------------------------------------------

    def wrap_render(self, page) -> None:
        """``page.render`` looks its result up first (call before MkDocs reads the page)."""
        render = page.render

        def cached_render(config, files):
            key = _digest(self.build_key, page.file.src_uri, page.markdown, _files_text(files),
                          included_key(page.markdown, self.root, self.included, self.digests))
            kept = self.rendered.get(page.file.src_uri)
            if kept is not None and kept[0] == key:
                self.hits["render"] += 1
                values = copy.deepcopy(kept[1])  # plugins change them in place (tags: the toc)
                links = kept[2]  # by path: the File objects are this build's
                values["links_to_anchors"] = None if links is None else {
                    files.get_file_from_path(src): dict(v) for src, v in links.items()}
                for name, value in values.items():
                    setattr(page, name, value)
                return
            self.misses["render"] += 1
            with WarningCount() as warnings:
                render(config, files)
            if warnings.count:
                self.rendered.pop(page.file.src_uri, None)
            else:
                values = {name: getattr(page, name) for name in _PAGE_VARS if name != "links_to_anchors"}
                links = {f.src_uri: dict(v) for f, v in (page.links_to_anchors or {}).items()}
                self.rendered[page.file.src_uri] = (key, copy.deepcopy(values), links if page.links_to_anchors is not None else None)

        page.render = cached_render

    # -- page -> HTML file --------------------------------------------------------------

    def wrap_templates(self, env, config):
        """``env.get_template`` hands out, for a page's own template, one that looks the page's
        HTML up first (MkDocs calls it for each page with ``config._current_page`` set)."""
        get_template = env.get_template

        def cached_get_template(name, parent=None, globals=None):
            template = get_template(name, parent, globals)
            page = getattr(config, "_current_page", None)
            if page is None or parent is not None or self._rendering:
                return template
            return _PageTemplate(template, page, self)

        env.get_template = cached_get_template
        env.bytecode_cache = self.compiled  # the theme's templates compiled once a session, not once a build
        return env

    def _nav_key(self, nav) -> str:
        if self._nav is None or self._nav[0] != id(nav):
            self._nav = (id(nav), _digest(nav_text(getattr(nav, "items", None))))
        return self._nav[1]

    def render_page(self, template, page, context) -> str:
        extra = sorted((k, repr(v)) for k, v in context.items() if k not in _STANDARD_CONTEXT)
        key = _digest(self.build_key, page.file.src_uri, page.url, page.title, page.edit_url, page.canonical_url,
                      page.content, toc_text(page.toc),
                      repr(sorted(page.meta.items(), key=lambda kv: str(kv[0]))), extra,
                      context.get("extra_css"), context.get("extra_javascript"), context.get("base_url"),
                      self._nav_key(context.get("nav")))
        kept = self.written.get(page.file.src_uri)
        if kept is not None and kept[0] == key:
            self.hits["template"] += 1
            return kept[1]
        self.misses["template"] += 1
        self._rendering = True
        try:
            with WarningCount() as warnings:
                output = template.render(context)
        finally:
            self._rendering = False
        if warnings.count:
            self.written.pop(page.file.src_uri, None)
        else:
            self.written[page.file.src_uri] = (key, output)
        return output

    # -- formulas ------------------------------------------------------------------------

    def render_math(self, page_html: str, formulas, label: str) -> str:
        """``kb.mathml.render``, kept by the HTML and the formulas' TeX (a formula that fails is
        never kept: its error, with file and line, comes again)."""
        from kb import mathml

        key = _digest(page_html, [(f.tex, f.display) for f in formulas])
        found = self.math.get(key)
        if found is None:
            found = mathml.render(page_html, formulas, label)
        self.math_used[key] = found
        return found

    # -- the math font -------------------------------------------------------------------

    def math_codepoints(self, path: Path) -> set[int]:
        """``kb.fonts.file_math_codepoints`` of a built page's file, kept by its path, size and time
        across rebuilds (a ``--dirty`` build leaves the unchanged pages' files as they were)."""
        from kb import fonts

        stat = path.stat()
        stamp = (str(path), stat.st_mtime_ns, stat.st_size)
        found = self.codepoints.get(stamp)
        if found is None:  # written again (every page is, without --dirty): by its text
            page_html = path.read_text(encoding="utf-8", errors="replace")
            key = hashlib.sha1(page_html.encode("utf-8", "surrogatepass")).hexdigest()
            found = self.codepoints.get(key)
            if found is None:
                found = fonts.math_codepoints(page_html) if "<math" in page_html else set()
            self.codepoints_used[key] = found
        self.codepoints_used[stamp] = found
        return found

    # -- page -> search entries ---------------------------------------------------------

    def wrap_search(self, index) -> None:
        """Material's ``index.add_entry_from_context(page)`` reuses the entries of an unchanged page."""
        add = index.add_entry_from_context

        def cached_add(page):
            meta = {k: page.meta.get(k) for k in ("search", "tags", "title")}
            key = _digest(self.build_key, page.url, page.title, page.content, toc_text(page.toc), repr(meta))
            kept = self.entries.get(page.url)
            if kept is not None and kept[0] == key:
                self.hits["search"] += 1
                index.entries.extend(dict(entry) for entry in kept[1])
                return
            self.misses["search"] += 1
            before = len(index.entries)
            add(page)
            self.entries[page.url] = (key, [dict(entry) for entry in index.entries[before:]])

        index.add_entry_from_context = cached_add


class _Compiled:
    """Jinja's bytecode of every template, kept in memory (each build's Environment is new, and
    compiled them all again). Jinja checks each entry against the template's source (its checksum)."""

    def __init__(self):
        self.code: dict[tuple, bytes] = {}

    def get_bucket(self, environment, name, filename, source):
        from jinja2.bccache import Bucket

        key = (name, filename, tuple(sorted(environment.extensions)), environment.autoescape)
        bucket = Bucket(environment, repr(key), hashlib.sha1(source.encode("utf-8")).hexdigest())
        if key in self.code:
            bucket.bytecode_from_string(self.code[key])
        bucket.kb_key = key
        return bucket

    def set_bucket(self, bucket):
        self.code[bucket.kb_key] = bucket.bytecode_to_string()


class _PageTemplate:
    """A page's template whose ``render`` asks :class:`Incremental` first."""

    def __init__(self, template, page, incremental: Incremental):
        self.template, self.page, self.incremental = template, page, incremental

    def render(self, context) -> str:
        return self.incremental.render_page(self.template, self.page, context)

    def __getattr__(self, name):
        return getattr(self.template, name)


def _files_text(files) -> str:
    """The site's files, for the links a page's Markdown resolves (cached per Files object)."""
    text = getattr(files, "_kb_files_text", None)
    if text is None:
        text = _digest(sorted(f.src_uri for f in files))
        try:
            files._kb_files_text = text
        except AttributeError:
            pass
    return text
