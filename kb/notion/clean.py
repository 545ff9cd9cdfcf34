"""Making a line of notes safe Markdown without losing its text.

What a Notion page shows as text stays text: ``List<Student>``, ``a < b``, ``<redacted>`` and
``<!-- … -->`` are written with ``&lt;`` so the browser shows them. Only real markup (a tag whose
name is an HTML element, not glued to a word as in ``List<Object>``) is reduced, by the allow-list
sanitizer nh3: a few inline elements without attributes survive, ``<script>``/``<style>`` go with
their content, other tags are dropped and their text kept. Code spans are left as they are; math
too, except what the build cannot render: ``\\href{url}{text}`` keeps its text, and a formula
kb.mathml refuses becomes code (with a warning naming the line). Links are handed to a resolver
(kb.notion.assets) that says where they point after import.
Every pattern here is bounded, so a 20,000-character line is cleaned in linear time.
"""

from __future__ import annotations

import html
import re
import unicodedata
from typing import Callable
from urllib.parse import unquote

import nh3

from .. import mathml
from ..safety import decode_entities, markup_in
from .messages import Warnings

HTML_ELEMENTS = frozenset(
    """a abbr address area article aside audio b base bdi bdo blockquote body br button canvas caption
    center cite code col colgroup data datalist dd del details dfn dialog dir div dl dt em embed fieldset
    figcaption figure font footer form frame frameset h1 h2 h3 h4 h5 h6 head header hgroup hr html i iframe
    img input ins kbd label legend li link main map mark marquee math menu meta meter nav noembed noframes
    noscript object ol optgroup option output p param picture plaintext pre progress q rp rt ruby s samp
    script search section select slot small source span strike strong style sub summary sup svg table
    tbody td template textarea tfoot th thead time title tr track tt u ul var video wbr xmp""".split()
)
KEEP_TAGS = {"b", "strong", "i", "em", "u", "s", "del", "ins", "sub", "sup", "mark", "kbd", "br", "code"}
DROP_WITH_CONTENT = {"script", "style", "template", "noscript", "iframe", "object", "textarea", "title", "xmp", "noembed"}
SAFE_SCHEMES = {"http", "https", "mailto"}

# a tag: its name, then attributes whose quoted values may hold '<' or '>' (srcdoc="<script>")
_TAG_RE = re.compile(r"""<(/?)([A-Za-z][A-Za-z0-9-]{0,30})(?=[\s/>])(?:"[^"]{0,2000}"|'[^']{0,2000}'|[^<>"']){0,2000}>""")
_LT_RE = re.compile(r"<(?=[A-Za-z/!?])")
_CODE_SPAN_RE = re.compile(r"(`{1,10})(?!`)(.{1,5000}?)(?<!`)\1(?!`)")
_INLINE_MATH_RE = re.compile(r"(?<![\\$0-9A-Za-z])\$(?![\s$])((?:\\\$|[^$\n]){1,5000}?)(?<![\s\\])\$(?![0-9A-Za-z$])")
_DISPLAY_IN_TEXT_RE = re.compile(r"(?<![\\$])\$\$(?!\$)([^$\n]{1,5000}?)(?<!\\)\$\$(?!\$)")
MDLINK_RE = re.compile(
    r"(!?)\[((?:[^\[\]\\\n]|\\.|\[[^\[\]\n]{0,2000}\]){0,2000})\]"
    r"\([ \t]*(<[^<>\n]{0,2000}>|(?:[^()\s\\]|\\.|\([^()\s]{0,2000}\)){0,2000})"
    r"((?:[ \t]+(?:\"[^\"\n]{0,500}\"|'[^'\n]{0,500}'))?)[ \t]*\)"
)
_AUTOLINK_RE = re.compile(r"<([A-Za-z][A-Za-z0-9+.-]{1,31}):([^<>\s]{0,2000})>")
_BARE_JS_RE = re.compile(r"(?i)\b(?:java|vb)script[ \t]*:[^\s<>]{0,2000}")
_ATTR_LIST_RE = re.compile(r"\{:?([^{}\n]{0,500}=[^{}\n]{0,500})\}")
_EVENT_ATTR_LIST_RE = re.compile(r"\{:?[^{}\n]{0,500}\bon\w{1,40}[ \t]*=[^{}\n]{0,500}\}", re.I)
_SNIPPET_LINE_RE = re.compile(r"^([ \t]*)(-+8<-+(?:[ \t]+(?:\"[^\"\n]+\"|'[^'\n]+'))?[ \t]*)$")
_URL_ESCAPE_RE = re.compile(r"\\{1,4}([!-/:-@\[-`{-~])")
_TASK_RE = re.compile(r"^([ \t]*[-*+][ \t]+)(\[[ xX]\])(?=[ \t])", re.M)
_BRACKET_RUN_RE = re.compile(r"(?<!\\)[\[\]!]{8,}")
_BARE_BRACKET_RE = re.compile(r"(?<!\\)\[")
_STASH_RE = re.compile("\ue000(\\d{1,6})\ue001")
_MD_SPECIAL_RE = re.compile(r"([\\`*_\[\]<>#|$~])")
# \href{url}{text} in TeX: the build's MathML has no links (kb.mathml refuses the attribute)
_HREF_RE = re.compile(r"\\href[ \t]*\{[^{}\n]{0,2000}\}[ \t]*(\{(?:[^{}\n]|\{[^{}\n]{0,2000}\}){0,2000}\})")

# resolver(destination, is_image, line) -> new destination, or None to keep the link's text only
Resolver = Callable[[str, bool, int], "str | None"]


def scheme(url: str) -> str | None:
    cleaned = re.sub(r"[\x00-\x20]", "", html.unescape(url))
    m = re.match(r"([A-Za-z][A-Za-z0-9+.-]{0,31}):", cleaned)
    return m.group(1).lower() if m else None


def unescape_url(url: str) -> str:
    """Notion's ``\\_`` (and ``\\\\_``) inside URLs -> ``_``: autolinks do not process escapes."""
    return _URL_ESCAPE_RE.sub(r"\1", url)


def real_tags(text: str) -> list[re.Match[str]]:
    """Tags that a browser would treat as markup: an HTML element's name, not a generic type."""
    return [m for m in _TAG_RE.finditer(text) if m.group(2).lower() in HTML_ELEMENTS and not _generic(text, m)]


def _generic(text: str, m: re.Match[str]) -> bool:
    """``List<Object>``, ``Map<String>``: an opening tag glued to an ASCII word is a type, not markup."""
    before = text[m.start() - 1] if m.start() else ""
    return not m.group(1) and before.isascii() and (before.isalnum() or before == "_")


def escape_text_lt(text: str, keep: list[re.Match[str]] = ()) -> str:
    """Write every ``<`` that could start a tag as ``&lt;``, except those of ``keep``."""
    starts = {m.start() for m in keep}
    return "".join("&lt;" if ch == "<" and i not in starts and _LT_RE.match(text, i) else ch for i, ch in enumerate(text))


def sanitize(text: str) -> str:
    """Reduce real markup with nh3; text that only looks like markup is escaped first and kept."""
    tags = real_tags(text)
    if not tags:
        return escape_text_lt(text)
    cleaned = nh3.clean(
        escape_text_lt(text, tags),
        tags=KEEP_TAGS,
        clean_content_tags=DROP_WITH_CONTENT,
        attributes={},
        strip_comments=True,
        link_rel=None,
    )
    # nh3 writes text as HTML; Markdown needs only '<' and '&' escaped ('>' starts a quote)
    return cleaned.replace("&gt;", ">").replace("&quot;", '"').replace("&#39;", "'")


def intended_drops(text: str) -> str:
    """What the cleaner removes on purpose (script/style content, markup tags, javascript: words).

    Applied to the export's side of the nothing-lost check, so that check sees the rest.
    """
    def drop(m: re.Match[str]) -> str:
        return " "

    stash: list[str] = []  # code spans and math are kept as the cleaner keeps them (math without \href links)

    def keep(m: re.Match[str]) -> str:
        stash.append(m.group(0) if m.re is _CODE_SPAN_RE else drop_math_links(m.group(0)))
        return f"\ue000{len(stash) - 1}\ue001"

    for span in (_CODE_SPAN_RE, _DISPLAY_IN_TEXT_RE, _INLINE_MATH_RE):
        text = span.sub(keep, text)
    for name in DROP_WITH_CONTENT:
        if f"<{name}" in text.lower():
            text = re.sub(rf"(?is)<{name}\b[^>]{{0,2000}}>.*?(?:</{name}\s*>|\Z)", " ", text)
    for m in reversed(real_tags(text)):
        text = text[: m.start()] + drop(m) + text[m.end():]
    text = _BARE_JS_RE.sub(" ", _EVENT_ATTR_LIST_RE.sub(" ", text))
    return _STASH_RE.sub(lambda m: stash[int(m.group(1))], text)


def plain_value(text: str) -> tuple[str, bool]:
    """A title or property value -> (plain text, whether markup was removed).

    Markdown is reduced to its text and entities are decoded by the build's own rule
    (kb.safety.decode_entities), so ``&lt;script&gt;`` is seen as the ``<script>`` it becomes. What
    kb.safety.markup_in calls markup is then removed: elements by nh3 (``<script>`` with its
    content), ``javascript:`` words, handler attribute lists. Text that only looks like a tag
    (``List<Student>``) stays. Raises ValueError if markup is still there after that.
    """
    text = MDLINK_RE.sub(lambda m: m.group(2), text)
    text = re.sub(r"`{1,10}([^`]{0,2000})`{1,10}", r"\1", text)
    text = re.sub(r"(\*\*|__)([^*_]{1,2000})\1", r"\2", text)
    text = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text)
    text = decode_entities(text)
    if markup_in(text) is None:
        return text.strip(), False
    for _ in range(3):
        text = nh3.clean(text, tags=set(), clean_content_tags=DROP_WITH_CONTENT, attributes={}, strip_comments=True)
        text = decode_entities(text)
        text = _BARE_JS_RE.sub("", _EVENT_ATTR_LIST_RE.sub("", text))
        if markup_in(text) is None:
            return text.strip(), True
    raise ValueError(f"HTML이 남습니다: {markup_in(text)}")


def plain_text(markdown: str) -> str:
    """Markdown of one line -> the text Python-Markdown shows (links -> their text, tags dropped).

    Unlike :func:`plain_value` it drops every tag-like ``<…>``, as the rendered text does.
    (kb.check no longer uses it for anchors: it reads the ids the build's own Markdown makes.)
    """
    text = MDLINK_RE.sub(lambda m: m.group(2), markdown)
    text = re.sub(r"`{1,10}([^`]{0,2000})`{1,10}", r"\1", text)
    text = re.sub(r"</?[A-Za-z][A-Za-z0-9:-]{0,30}(?:\s[^<>]{0,2000})?/?>", "", text)
    text = re.sub(r"(\*\*|__)(.{1,2000}?)\1", r"\2", text)
    text = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text)
    return html.unescape(text).strip()


def drop_math_links(tex: str) -> str:
    """``\\href{url}{text}`` -> ``{text}``: the build's MathML has no links, the text stays."""
    return _HREF_RE.sub(r"\1", tex)


def math_for_build(tex: str, display: bool) -> tuple[str, str | None]:
    """A formula of the notes as the build can render it (:func:`drop_math_links`); returns the
    TeX and, if the build still cannot render it, why."""
    tex = drop_math_links(tex)
    try:
        mathml.to_mathml(tex, display)
    except ValueError as exc:
        return tex, str(exc)[:80]
    return tex, None


def code_span(text: str) -> str:
    """``text`` as an inline code span (enough backticks around it)."""
    ticks = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def md_escape(text: str) -> str:
    return _MD_SPECIAL_RE.sub(r"\\\1", text)


def escape_snippet_line(line: str) -> tuple[str, bool]:
    m = _SNIPPET_LINE_RE.match(line)
    return (m.group(1) + ";" + m.group(2), True) if m else (line, False)


def _file_stem(url: str) -> str:
    name = url.rsplit("/", 1)[-1]
    for _ in range(3):
        name = unquote(name)
    return md_escape(unicodedata.normalize("NFC", name.rsplit(".", 1)[0]))


class Cleaner:
    """Cleans one paragraph, heading or table cell of one page."""

    def __init__(self, label: str, warnings: Warnings, resolve: Resolver):
        self.label = label
        self.warnings = warnings
        self.resolve = resolve

    def warn(self, line: int, text: str) -> None:
        self.warnings.add(self.label, line, text)

    def clean(self, text: str, line: int) -> str:
        stash: list[str] = []

        def keep(s: str) -> str:
            stash.append(s)
            return f"\ue000{len(stash) - 1}\ue001"

        text = _CODE_SPAN_RE.sub(lambda m: keep(m.group(0)), text)
        text = _TASK_RE.sub(lambda m: m.group(1) + keep(m.group(2)), text)
        text = _DISPLAY_IN_TEXT_RE.sub(lambda m: keep(self._math(m.group(1).strip(), line)), text)
        text = _INLINE_MATH_RE.sub(lambda m: keep(self._math(m.group(1), line)), text)
        text = MDLINK_RE.sub(lambda m: self._link(m, line, keep), text)
        text = _AUTOLINK_RE.sub(lambda m: self._autolink(m, line, keep), text)
        if real_tags(text):
            self.warn(line, "HTML 태그를 허용 목록(nh3)으로 줄였습니다: 글자는 남기고 스크립트와 속성은 지웠습니다")
        elif _LT_RE.search(text):
            self.warn(line, "태그처럼 보이는 '<'를 글자로 보이도록 &lt;로 썼습니다")
        text = sanitize(text)
        # A '[' that starts no link is text. Python-Markdown looks for the ']' of each one, and
        # handles each escape with a placeholder: both are quadratic on a long run ('[' * 19,000
        # took over two minutes). So a run of brackets becomes one code span, a single '[' is escaped.
        text = _BRACKET_RUN_RE.sub(lambda m: keep(f"`{m.group(0)}`"), text)
        text = _BARE_BRACKET_RE.sub(r"\\[", text)
        if _BARE_JS_RE.search(text):
            self.warn(line, "javascript:/vbscript: 주소를 지웠습니다")
            text = _BARE_JS_RE.sub("", text)
        if _EVENT_ATTR_LIST_RE.search(text):
            self.warn(line, "이벤트 처리기(on...=)가 든 속성 목록 {...}을 지웠습니다")
            text = _EVENT_ATTR_LIST_RE.sub("", text)
        if _ATTR_LIST_RE.search(text):
            self.warn(line, "속성 목록처럼 읽힐 {...=...}의 괄호를 이스케이프했습니다")
            text = _ATTR_LIST_RE.sub(lambda m: "\\{" + m.group(1) + "\\}", text)
        for _ in range(3):  # stashed pieces may nest (a code span inside a link text)
            text = _STASH_RE.sub(lambda m: stash[int(m.group(1))], text)
        return text

    def _math(self, tex: str, line: int) -> str:
        """Inline math the build renders; a formula it cannot render is kept as code, with a warning."""
        new, error = math_for_build(tex, False)
        if new != tex:
            self.warn(line, "수식의 \\href{주소}{글}을 글만 남겼습니다 (빌드의 수식에는 링크가 없습니다)")
        if error:
            self.warn(line, f"이 수식은 빌드에서 렌더링되지 않아 코드로 옮겼습니다 ({error})")
            return code_span(f"${tex}$")
        return f"${new}$"

    def _link(self, m: re.Match[str], line: int, keep) -> str:
        bang, label, dest, title = m.groups()
        url = unescape_url(dest[1:-1] if dest.startswith("<") else dest)
        label = sanitize(label) if not bang else label
        if bang and label.strip() == dest.strip():  # older exports: the image's path as its alt text
            label = _file_stem(url)
        new = self.resolve(url, bool(bang), line)
        if new is None:
            return label
        if scheme(new) in SAFE_SCHEMES:
            # Notion writes a URL used as link text with doubled escapes: 3\\_q -> 3\_q
            label = re.sub(r"\\\\(?=[!-/:-@\[-`{-~])", r"\\", label)
        if bang:
            label = label.replace("<", "&lt;")
        target = f"<{new}>" if re.search(r"[\s()<>]", new) else new
        return keep(f"{bang}[{label}]({target}{title})")

    def _autolink(self, m: re.Match[str], line: int, keep) -> str:
        if m.group(1).lower() not in SAFE_SCHEMES:
            self.warn(line, f"{m.group(1)}: 주소는 옮기지 않습니다: {m.group(0)[:80]!r}")
            return ""
        url = unescape_url(m.group(1) + ":" + m.group(2))
        self.resolve(url, False, line)  # for its warnings (notion.so)
        return keep(f"<{url}>")
