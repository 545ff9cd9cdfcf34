"""Checks on the importer's output before anything is written.

* :func:`verify_complete`: nothing is lost. Each line of the export, reduced to the letters and
  digits a Notion reader sees (link targets, what the cleaner drops on purpose, and a list item's
  number, bullet or checkbox, which the page draws as the list's marker, left out), must
  appear, in order, in the letters and digits a reader of the *rendered* page sees: the page is
  rendered with the build's own Markdown (kb.markdown_build: mkdocs.yml's extensions and options),
  math put back as its TeX, and the text taken from the HTML (image ``alt`` included). So a word
  the browser would hide (``<Student>`` read as a tag) or a dropped line fails the check. Each
  question's lines must be in its Q&A page. What the build would refuse fails it too: a formula
  kb.mathml cannot render, a Python block without a skip marker.
* :func:`verify_front_matter`: every page passes kb.frontmatter's schema.
* :func:`verify_safe`: the second line of defence. Every page of docs/ whose HTML the import can
  change (its own pages, pages with generated lists, pages whose property box names one of its
  pages) is rendered as the build renders it (kb.render.Site's property box and generated lists,
  then Python-Markdown) with the new pages in place, and the HTML is scanned for script-like
  elements, ``on…`` attributes and non-http(s) URLs; a finding that the same pages without the
  import do not have stops the import.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Callable

from .. import mathml
from ..blocks import html_python_blocks
from ..markdown_build import SNIPPETS, new_markdown
from ..frontmatter import Page, load_page, split, validate_page
from ..render import MARKER_RE, MarkerError, Site
from .blocks import Block
from ..safety import markup_in
from .clean import MDLINK_RE, SAFE_SCHEMES, drop_math_links, intended_drops, scheme
from .convert import Converted
from .messages import ConversionBug

# a list item's marker: the bullet, the number (1. 1) 3. …, Markdown shows it as the list's own
# marker and may renumber it) and a to-do's checkbox; inside a quote too
_LIST_MARK_RE = re.compile(r"^((?:[ \t]*>)*)[ \t]*(?:[-*+]|\d{1,9}[.)])(?:[ \t]+\[[ xX]\])?(?=[ \t]|$)")


def letters(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    return "".join(ch for ch in text if ch.isalnum())


class _Text(HTMLParser):
    """The text of rendered HTML as a reader sees it (and the alt text of images)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.hidden += 1
        if tag == "img":
            self.parts.append(dict(attrs).get("alt") or "")

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self.hidden:
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def body_of(text: str) -> str:
    return text.split("\n---\n", 1)[1] if text.startswith("---\n") else text


def render(md_text: str, then: Callable[[str], str] | None = None) -> str:
    """Markdown -> HTML as the build makes it (kb.markdown_build: mkdocs.yml's extensions and options),
    math written back as its TeX (escaped). A formula the build cannot render raises ConversionBug.
    ``then`` changes the text after its math is swapped out, as the hooks add the property box and lists."""
    try:
        md, formulas = mathml.extract(md_text)
    except mathml.MathError as exc:
        raise ConversionBug(f"수식을 읽을 수 없습니다: {exc}") from None
    for f in formulas:
        try:
            mathml.to_mathml(f.tex, f.display)
        except ValueError as exc:
            raise ConversionBug(f"{f.line}번째 줄의 수식 ${f.tex}$를 빌드가 렌더링하지 못합니다: {exc}") from None
    if then is not None:
        md = then(md)
    # missing snippet files are kb check's to report; here only the HTML matters
    out = new_markdown(**{SNIPPETS: {"check_paths": False}}).convert(md)
    return mathml._PLACEHOLDER_RE.sub(lambda m: (m.group(1) or "") + html.escape(formulas[int(m.group(3))].tex) + (m.group(4) or ""), out)


def visible_letters(md_text: str) -> str:
    parser = _Text()
    html = render(body_of(md_text))
    if unmarked := [b for b in html_python_blocks(html) if _skip_reason(b) is None]:
        b = unmarked[0]  # the build refuses an imported page's Python block without a skip marker
        raise ConversionBug(f"Python 블록 {b.index}(첫 줄 {b.first_line!r})에 skip 표시가 없어 빌드가 이 페이지를 거부합니다 (변환기 버그)")
    parser.feed(html)
    return letters("".join(parser.parts))


def _skip_reason(block) -> str | None:
    try:
        return block.skip_reason
    except ValueError:
        return None


def _shown_in_notion(line: str) -> str:
    """The letters a Notion reader sees on a line of the export."""
    def link(m: re.Match[str]) -> str:
        bang, label, dest = m.group(1), m.group(2), m.group(3)
        return "" if bang and label.strip() == dest.strip("<>").strip() else label

    line = MDLINK_RE.sub(link, intended_drops(line))
    line = _LIST_MARK_RE.sub(r"\1", line)
    return letters(html.unescape(line))


def source_rows(blocks: list[Block]) -> list[tuple[int, str]]:
    """(line, letters a reader sees) for every line of ``blocks`` (fence lines left out)."""
    rows = []
    for b in blocks:
        lines = b.lines[1:-1] if b.kind == "code" else b.lines
        first = b.line + 1 if b.kind == "code" else b.line
        if b.kind == "aside" or (b.kind == "question" and b.children):
            rows += [(first, _shown_in_notion(b.lines[0]))] if b.kind == "question" else []
            rows += source_rows(b.children)
            continue
        for n, line in enumerate(lines, start=first):
            shown = letters(line) if b.kind == "code" else letters(drop_math_links(line)) if b.kind == "math" else _shown_in_notion(line)
            rows.append((n, shown))
    return rows


def _missing(rows: list[tuple[int, str]], haystack: str) -> list[int]:
    missing, pos = [], 0
    for line, needle in rows:
        if not needle:
            continue
        found = haystack.find(needle, pos)
        if found < 0:
            missing.append(line)
        else:
            pos = found + len(needle)
    return missing


_KIND_NAMES = {"heading": "제목", "question": "질문", "code": "코드 블록", "math": "수식", "table": "표", "pipetable": "표", "text": "글"}


def _what(b: Block, line: str) -> str:
    """A line's block, as a reader of the export calls it."""
    if b.kind in _KIND_NAMES:
        return _KIND_NAMES[b.kind]
    m = re.match(r"^[ \t]*(?:>[ \t]?)*[ \t]*(?:(\d{1,9}[.)])|([-*+]))(?:[ \t]+(\[[ xX]\]))?[ \t]", line)
    if m and m.group(3):
        return "할 일"
    if m:
        return "번호 목록 항목" if m.group(1) else "목록 항목"
    return "인용" if line.lstrip().startswith(">") else "문단"


def _kinds(blocks: list[Block], inside: str = "") -> dict[int, str]:
    """line -> what the line is (``_what``), for the messages of :func:`verify_complete`."""
    out = {}
    for b in blocks:
        if b.kind == "aside" or b.children:
            out[b.line] = inside + ("콜아웃" if b.kind == "aside" else _what(b, b.lines[0]))
            out.update(_kinds(b.children, "콜아웃 안의 " if b.kind == "aside" else inside))
            continue
        for n, line in enumerate(b.lines, start=b.line):
            out[n] = inside + _what(b, line)
    return out


def verify_complete(result: Converted) -> None:
    """Raise :class:`ConversionBug` naming every export line a reader would not find in the output,
    with what the line is (``번호 목록 항목 (12번째 줄)``)."""
    export = result.export
    problems = []
    kinds = _kinds(export.blocks)

    def lost(line: int, where: str) -> str:
        return f"{export.label}:{line}: {kinds.get(line, '줄')} ({line}번째 줄)이 {where}에 없습니다: {export.lines[line - 1][:80]!r}"

    meeting = result.files[result.meeting]
    seen = visible_letters(meeting)
    for line in _missing(source_rows(export.blocks), seen):
        problems.append(lost(line, "회의록 페이지"))
    for prop in export.header.extra:
        if letters(prop.name + prop.value) not in seen:
            problems.append(f"{export.label}:{prop.line}: 속성 줄이 회의록 페이지에 없습니다: {prop.raw[:80]!r}")
    for q in result.questions:
        page = visible_letters(result.files[f"qna/{q.slug}.md"])
        for line in _missing(source_rows([replace(q.block, children=[]), *q.answer]), page):
            problems.append(lost(line, f"qna/{q.slug}.md"))
    if problems:
        raise ConversionBug(
            "변환 결과 검사 실패 (변환기 버그; 아무것도 쓰지 않았습니다):\n" + "\n".join(f"  {p}" for p in problems)
            + "\n내보내기가 아니라 변환기의 잘못입니다: 이 메시지와 내보내기 파일을 이슈로 알려 주세요."
        )


def verify_front_matter(files: dict[str, str], known_pages: set[str]) -> None:
    problems = []
    known = known_pages | set(files)
    for path, text in files.items():
        meta, key_lines, body_line, found = split(text, f"docs/{path}")
        problems += found
        problems += validate_page(Page(path, meta, key_lines, body_line), known)
        for key, value in meta.items():
            for v in value if isinstance(value, list) else [value]:
                if isinstance(v, str) and (found := markup_in(v)):
                    problems.append(f"docs/{path}:{key_lines.get(key, 1)}: front matter '{key}'에 HTML이 남았습니다: {found}")
    if problems:
        raise ConversionBug("만든 페이지의 front matter가 kb.frontmatter 검사를 통과하지 못했습니다:\n" + "\n".join(f"  {p}" for p in problems))


class _Scan(HTMLParser):
    URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background"}
    BAD_TAGS = {"script", "iframe", "object", "embed", "style", "base", "meta", "link", "form"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.BAD_TAGS:
            self.found.append(f"<{tag}> element")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{name}= attribute on <{tag}>")
            if name in self.URL_ATTRS and value and scheme(value) not in (None, *SAFE_SCHEMES):
                self.found.append(f"{name}={value[:60]!r} on <{tag}>")


def _site_findings(pages: dict[str, Page], texts: dict[str, str]) -> set[str]:
    site = Site(pages)
    found = set()
    for src, text in texts.items():
        page = pages[src]
        scan = _Scan()
        try:
            scan.feed(render(body_of(text), lambda md: site.expand_markers(src, site.header(page) + "\n" + md)))
        except (MarkerError, KeyError, TypeError, ValueError, ConversionBug) as exc:
            found.add(f"docs/{src}: 빌드가 이 페이지를 만들지 못합니다: {exc}")
            continue
        found.update(f"docs/{src}: {f}" for f in scan.found)
    return found


def verify_safe(docs: Path, files: dict[str, str]) -> None:
    """Render every page of docs/ with the new ``files`` in place, as the build does; raise on script."""
    before_pages: dict[str, Page] = {}
    texts: dict[str, str] = {}
    for path in sorted(docs.rglob("*.md")) if docs.is_dir() else []:
        src = path.relative_to(docs).as_posix()
        try:
            page, problems = load_page(docs, src)
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if not problems:
            before_pages[src], texts[src] = page, text
    after_pages, after_texts = dict(before_pages), dict(texts)
    for src, text in files.items():
        meta, key_lines, body_line, _ = split(text, src)
        after_pages[src], after_texts[src] = Page(src, meta, key_lines, body_line), text
    # pages whose HTML the import can change: its own, generated lists (a kb: marker), and
    # property boxes that name one of its pages; the others render the same with or without it
    # (an earlier import's `<!--pytest.mark.skip-->` comments do not make a page depend on others)
    affected = {
        src for src, text in after_texts.items()
        if src in files or MARKER_RE.search(text) or after_pages[src].meta.get("meeting") in files
        or set(after_pages[src].meta.get("related") or []) & set(files)
    }
    baseline = _site_findings(before_pages, {k: v for k, v in texts.items() if k in affected})
    new = sorted(_site_findings(after_pages, {k: v for k, v in after_texts.items() if k in affected}) - baseline)
    if new:
        raise ConversionBug("가져온 뒤의 사이트에 스크립트가 될 수 있는 HTML이 생깁니다 (아무것도 쓰지 않았습니다):\n" + "\n".join(f"  {f}" for f in new))
