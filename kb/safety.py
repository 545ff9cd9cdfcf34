"""Text from front matter and imports reaching HTML: one place that escapes it and one that spots markup.

Front matter values (titles, descriptions, tags, authors, attendees ...) are plain text. They
reach a reader's browser along several roads: the property boxes and generated lists that
:mod:`kb.render` writes as Markdown, the navigation, ``<title>``, ``<meta>`` tags, the tags
plugin and the search index, which Material's templates fill from ``page.meta`` without
escaping. Every road goes through one of the two helpers here:

* :func:`esc`: text -> HTML text or attribute value (``&<>"'`` escaped);
* :func:`md_text`: text -> Markdown that renders as exactly that text (HTML-escaped, and the
  characters Markdown would read as syntax backslash-escaped).

:func:`markup_in` says whether a value *looks like* it carries markup (an HTML element, a
comment, an event handler, a ``javascript:`` URL), after decoding entities, so that
``kb check``, the build and the importer can refuse it with the file and line. Text that only
looks like a tag (``List<Student>``, ``a < b``, ``<redacted>``) is not markup: it is kept and escaped.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

# Elements of HTML, SVG and MathML that a browser would create from a tag (WHATWG + SVG 2 + MathML Core).
ELEMENTS = frozenset(
    """a abbr address area article aside audio b base bdi bdo blockquote body br button canvas caption
    cite code col colgroup data datalist dd del details dfn dialog div dl dt em embed fieldset figcaption
    figure footer form frame frameset h1 h2 h3 h4 h5 h6 head header hgroup hr html i iframe image img input
    ins isindex kbd keygen label legend li link main map mark marquee math menu meta meter nav noembed
    noframes noscript object ol optgroup option output p param picture plaintext portal pre progress q rp
    rt ruby s samp script search section select slot small source span strike strong style sub summary
    sup svg table tbody td template textarea tfoot th thead time title tr track tt u ul var video wbr xmp
    animate animatemotion animatetransform circle clippath defs desc ellipse feimage filter
    foreignobject g line lineargradient marker mask path pattern polygon polyline radialgradient rect set
    stop symbol text textpath tspan use view maction mi mn mo mrow ms mtext semantics annotation
    annotation-xml""".split()
)
_SCHEME_RE = re.compile(r"(?i)\b(?:java|vb)\s*script\s*:|\bdata\s*:\s*text/html")
_ATTR_LIST_RE = re.compile(r"\{[^{}\n]{0,200}?\b(on[a-z]+)\s*=")  # Markdown attr_list setting a handler
_ENTITY_RE = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});?")
# Markdown syntax characters that Python-Markdown lets a backslash escape (with the tables extension's pipe)
_MD_SPECIAL_RE = re.compile(r"([\\`*_{}\[\]()#+\-.!|])")


def esc(text: object) -> str:
    """``text`` as HTML text or attribute value."""
    return html.escape(str(text), quote=True)


def md_text(text: object) -> str:
    """``text`` as Markdown that renders to exactly ``text`` (no links, emphasis, HTML or math)."""
    return _MD_SPECIAL_RE.sub(r"\\\1", esc(text).replace("\n", " "))


def decode_entities(text: str, rounds: int = 3) -> str:
    """Decode HTML entities until nothing changes (``&amp;lt;`` -> ``&lt;`` -> ``<``), at most ``rounds`` times."""
    for _ in range(rounds):
        if not _ENTITY_RE.search(text):
            break
        text = html.unescape(text)
    return text


class _TagFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: str | None = None

    def _hit(self, what: str) -> None:
        if self.found is None:
            self.found = what

    def handle_starttag(self, tag, attrs):
        handlers = [name for name, _ in attrs if name.lower().startswith("on")]
        if tag.lower() in ELEMENTS:
            self._hit(f"<{tag}>")
        elif handlers:
            self._hit(f"{handlers[0]}= attribute")

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag):
        if tag.lower() in ELEMENTS:
            self._hit(f"</{tag}>")

    def handle_comment(self, data):
        self._hit("<!-- -->")

    def handle_decl(self, decl):
        self._hit(f"<!{decl[:20]}>")

    def handle_pi(self, data):
        self._hit("<?...>")

    def unknown_decl(self, data):
        self._hit("<![...]>")


def markup_in(text: str) -> str | None:
    """What in ``text`` is markup (``'<script>'``, ``'onerror= attribute'``, ``'javascript: URL'``), or None.

    Entities are decoded first, so ``&lt;script&gt;`` counts as ``<script>``.
    """
    plain = decode_entities(text)
    if m := _SCHEME_RE.search(plain):
        return f"{m.group(0).strip()} URL"
    if m := _ATTR_LIST_RE.search(plain):
        return f"{{{m.group(1)}=}} attribute list"
    if "<!--" in plain:
        return "<!-- -->"
    if "<" not in plain:
        return None
    finder = _TagFinder()
    finder.feed(plain)
    finder.close()
    return finder.found


def strings_in(value: object, path: str = "") -> list[tuple[str, str]]:
    """Every string inside a front matter value, with where it is (``authors[1]``, ``paper.title``)."""
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in strings_in(v, f"{path}.{k}" if path else str(k))]
    if isinstance(value, (list, tuple)):
        return [s for i, v in enumerate(value) for s in strings_in(v, f"{path}[{i}]")]
    return []


def escape_meta(value: object) -> object:
    """A copy of a front matter value with every string in it escaped with :func:`esc`."""
    if isinstance(value, str):
        return esc(value)
    if isinstance(value, dict):
        return {k: escape_meta(v) for k, v in value.items()}
    if isinstance(value, list):
        return [escape_meta(v) for v in value]
    return value
