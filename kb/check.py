"""``python -m kb check``: every problem the strict build would stop at, listed at once.

Checked, for every Markdown page under docs/:

* front matter: :func:`kb.frontmatter.load_docs` (the same rules as the build hook);
* math and markers: every formula renders (an unclosed ``$$`` too) and every ``<!-- kb:... -->``
  marker is known, as in the build;
* code block markers: every ``<!--pytest.mark....-->`` / ``<!--pytest-codeblocks:...-->`` comment
  outside code is one the build accepts (``skip``, ``allow_exit`` or ``cuda``, each with a reason:
  :func:`kb.blocks.parse_marker`, the build's own parser) and sits right before a code block,
  the one it applies to;
* placeholders: no line outside code still holds one of :data:`kb.scaffold.PLACEHOLDERS`, the
  texts ``kb new`` leaves for the writer to replace (a page made by ``kb new`` fails until filled);
  "code" here is fenced code as the build reads it (:mod:`kb.markdown_scan`: an opening never
  closed, or one whose info string the build refuses, opens nothing);
* tags: every page of meetings/, qna/, papers/, lectures/ (not their index.md) has at least
  one tag (the schema), no tag twice on a page, no tag with spaces around it, and no two
  spellings of one tag on the site (``Adagrad`` / ``adagrad``: the tags plugin would make two);
* what MkDocs itself validates (:mod:`kb.check_site`): links and anchors, read with the build's
  own Markdown from mkdocs.yml (:mod:`kb.markdown_build`, so a footnote, a setext heading or a
  link in code is read as the build reads it, and a heading with math has the build's id); every
  page in the nav; pages only as ``.md``; no file where a page's output folder goes;
* snippet includes ``--8<-- "path"``, ``--8<-- "path:section"`` and the block form (``--8<--``
  lines around a list of paths), in code blocks too (pymdownx.snippets runs before Markdown):
  the file must exist under the project root (``base_path: ["."]``) and a section needs both
  ``--8<-- [start:name]`` and ``--8<-- [end:name]`` in it. Lines escaped with ``;`` are skipped.

Each problem is ``file:line: message``; they are sorted by file and line.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from . import mathml
from .blocks import MARKER_LIKE, parse_marker
from .check_site import check_files, check_links, docs_files, read_pages
from .frontmatter import SCHEMAS, Page, Problem, load_docs
from .markdown_build import ROOT, prepare, read_page
from .markdown_scan import fences
from .render import MARKERS, Site, unknown_markers
from .scaffold import PLACEHOLDERS

_LINE_COMMENT_RE = re.compile(r"^[ \t]*<!--(.*?)-->[ \t]*$")
_SNIPPET_INLINE_RE = re.compile(r"""^[ \t]*(;*)-+8<-+[ \t]+(["'])(.+?)\2[ \t]*$""")
_SNIPPET_BLOCK_RE = re.compile(r"^[ \t]*(;*)-+8<-+[ \t]*$")
_SECTION_MARK_RE = re.compile(r"(?<!;)-+8<-+[ \t]+\[[ \t]*(start|end)[ \t]*:[ \t]*([a-z][-_0-9a-z]*)[ \t]*\]", re.I)
_SECTION_PATH_RE = re.compile(r"^(.*?):([a-z][-_0-9a-z]*)$", re.I)
_LINES_PATH_RE = re.compile(r"^(.*?)((?::-?\d*){1,2}(?:,-?\d*(?::-?\d*)?)*)$")

TAGGED_SECTIONS = tuple(SCHEMAS)


class Loaded(NamedTuple):
    """Every page's front matter, the front matter's problems, and every page's text (a page that
    is not UTF-8 has none: its problem says so), as :func:`kb.frontmatter.load_docs` reads them."""

    pages: dict[str, Page]
    problems: list[Problem]
    texts: dict[str, str]


def load_pages(docs_dir: Path) -> Loaded:
    texts: dict[str, str] = {}
    pages, problems = load_docs(docs_dir, texts)
    return Loaded(pages, problems, texts)


@dataclass
class Summary:
    pages: int = 0
    links: int = 0
    snippets: int = 0
    found: dict[str, Page] = field(default_factory=dict)  # the pages, as parsed


def _body_lines(text: str, page: Page) -> list[tuple[int, str]]:
    lines = text.split("\n")
    return [(n, lines[n - 1]) for n in range(page.body_line, len(lines) + 1)]


def _outside_fences(lines: list[tuple[int, str]]) -> list[tuple[int, str, bool]]:
    """``(number, line, opens_fence)`` for the lines not inside fenced code as the build reads it
    (:mod:`kb.markdown_scan`): a fence's opening line is kept, flagged; its body and closing line are not."""
    found = fences([line for _, line in lines])
    opens = {f.start for f in found}
    inside = {i for f in found for i in range(f.start + 1, f.end + 1)}
    return [(n, line, i in opens) for i, (n, line) in enumerate(lines) if i not in inside]


def anchors(text: str, page: Page, root: Path | None = None) -> set[str]:
    """The ids a page's HTML will have, as the build's Markdown and MkDocs's anchor collectors see them."""
    body = "\n".join(text.split("\n")[page.body_line - 1:])
    try:
        body = prepare(page.src, body)
    except mathml.MathError:
        pass
    return read_page(body, root or ROOT).ids


def _section_marks(path: Path) -> tuple[frozenset[str], frozenset[str]]:
    """The section names a snippet file starts and ends (read again only when the file changes:
    pages of a large site name the same few files many times)."""
    stat = path.stat()
    return _marks_in(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=512)
def _marks_in(path: str, mtime_ns: int, size: int) -> tuple[frozenset[str], frozenset[str]]:
    starts, ends = set(), set()
    for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
        for kind, name in _SECTION_MARK_RE.findall(line):
            (starts if kind.lower() == "start" else ends).add(name)
    return frozenset(starts), frozenset(ends)


@functools.lru_cache(maxsize=4096)
def _resolved(path: Path) -> Path:
    """``path.resolve()``, kept for one :func:`check` (the pages name the same snippet files many times)."""
    return path.resolve()


def _check_snippet(label: str, n: int, spec: str, root: Path, summary: Summary) -> list[Problem]:
    summary.snippets += 1
    message = _snippet_problem(spec.strip(), root)
    return [Problem(label, n, message)] if message else []


@functools.lru_cache(maxsize=4096)
def _snippet_problem(spec: str, root: Path) -> str | None:
    """What is wrong with the include ``spec`` (kept for one :func:`check`: pages name the same
    snippets many times)."""
    section = None
    if m := _SECTION_PATH_RE.match(spec):
        path, section = m.group(1), m.group(2)
    elif m := _LINES_PATH_RE.match(spec):
        path = m.group(1)
    else:
        path = spec
    full = _resolved(root / path)
    try:
        full.relative_to(_resolved(root))
    except ValueError:
        return f"스니펫 '{spec}'이 프로젝트 밖을 가리킵니다"
    if not full.is_file():
        return f"스니펫 파일이 없습니다: '{path}' (프로젝트 루트 기준)"
    if section:
        starts, ends = _section_marks(full)
        missing = [f"[{kind}:{section}]" for kind, marks in (("start", starts), ("end", ends)) if section not in marks]
        if missing:
            return f"스니펫 '{path}'에 구역 표시 {' '.join('# --8<-- ' + m for m in missing)}가 없습니다"
    return None


def _check_snippets(src: str, text: str, page: Page, root: Path, summary: Summary) -> list[Problem]:
    label = f"docs/{src}"
    includes, unclosed = _includes(text, page.body_line)
    problems = [p for n, spec in includes for p in _check_snippet(label, n, spec, root, summary)]
    if unclosed is not None:
        problems.append(Problem(label, unclosed, "스니펫 블록(--8<--)이 닫히지 않았습니다"))
    return problems


@functools.lru_cache(maxsize=4096)  # a rebuild in `mkdocs serve` checks the same texts again
def _includes(text: str, body_line: int) -> tuple[tuple[tuple[int, str], ...], int | None]:
    """The body's snippet includes, ``(line, spec)``, and the line of a block form left open."""
    lines = text.split("\n")
    includes = []
    block_open: int | None = None
    for n in range(body_line, len(lines) + 1):
        line = lines[n - 1]
        if block_open is not None:
            if _SNIPPET_BLOCK_RE.match(line):
                block_open = None
            elif line.strip() and not line.strip().startswith(";"):
                includes.append((n, line.strip().strip("\"'")))
            continue
        if m := _SNIPPET_INLINE_RE.match(line):
            if not m.group(1):
                includes.append((n, m.group(3)))
        elif (m := _SNIPPET_BLOCK_RE.match(line)) and not m.group(1):
            block_open = n
    return tuple(includes), block_open


def _check_tags(pages: dict[str, Page], fm_problems: list[Problem]) -> list[Problem]:
    already = {p.path for p in fm_problems if "'tags'" in p.message}
    problems = []
    spellings: dict[str, dict[str, list[str]]] = {}
    for page in pages.values():
        tags = page.meta.get("tags")
        label = f"docs/{page.src}"
        if label in already or not isinstance(tags, list):
            continue
        line = page.line_of("tags")
        seen: set[str] = set()
        for tag in tags:
            if not isinstance(tag, str) or not tag.strip():
                continue  # the schema reports these
            if tag != tag.strip():
                problems.append(Problem(label, line, f"태그 {tag!r} 앞뒤에 공백이 있습니다"))
            key = " ".join(tag.split()).casefold()
            if key in seen:
                problems.append(Problem(label, line, f"태그 {tag!r}가 두 번 있습니다"))
            seen.add(key)
            spellings.setdefault(key, {}).setdefault(tag.strip(), []).append(page.src)
    for variants in spellings.values():
        if len(variants) > 1:
            names = " / ".join(sorted(variants))
            for tag, srcs in sorted(variants.items()):
                for src in srcs:
                    page = pages[src]
                    problems.append(Problem(f"docs/{src}", page.line_of("tags"), f"태그 {tag!r}의 표기가 사이트에서 갈립니다 ({names}): 하나로 맞춰 주세요"))
    return problems


def _check_math_and_markers(src: str, text: str, page: Page) -> list[Problem]:
    """What the build's on_page_markdown would stop at: unknown ``kb:`` markers and formulas."""
    label = f"docs/{src}"
    body = "\n".join(line for _, line in _body_lines(text, page))
    known = ", ".join(sorted(MARKERS))
    problems = [
        Problem(label, page.body_line + n - 1, f"unknown marker 'kb:{name}' (known: {known})")
        for n, name in unknown_markers(body)
    ]
    try:
        _, formulas = mathml.extract(body, page.body_line)
    except mathml.MathError as exc:
        m = re.match(r"line (\d+): (.*)", str(exc), re.S)
        return problems + [Problem(label, int(m.group(1)), m.group(2)) if m else Problem(label, page.body_line, str(exc))]
    for f in formulas:
        try:
            mathml.to_mathml(f.tex, f.display)
        except ValueError as exc:
            problems.append(Problem(label, f.line, f"cannot render formula ${f.tex}$: {exc}"))
    return problems


def _check_block_markers(src: str, text: str, page: Page) -> list[Problem]:
    """What the build and the guard would stop at, or silently not apply: a ``pytest.mark`` comment
    that the build's parser rejects, or one that no code block follows."""
    label = f"docs/{src}"
    problems = []
    lines = _outside_fences(_body_lines(text, page))
    for i, (n, line, _) in enumerate(lines):
        m = _LINE_COMMENT_RE.match(line)
        if m is None or not MARKER_LIKE.match(m.group(1)):
            continue
        try:
            parse_marker(m.group(1))
        except ValueError as exc:
            problems.append(Problem(label, n, f"코드 블록 표시를 읽을 수 없습니다: {exc}"))
            continue
        if not next((opens for _, rest, opens in lines[i + 1:] if rest.strip()), False):
            problems.append(Problem(label, n, f"코드 블록 표시 <!--{m.group(1).strip()}--> 바로 다음에 코드 블록이 "
                                              "없습니다: 표시는 바로 아래 블록에만 적용됩니다"))
    return problems


def _check_placeholders(src: str, text: str, page: Page) -> list[Problem]:
    """A line (outside fenced code) that still holds a text ``kb new`` left for the writer."""
    label = f"docs/{src}"
    return [
        Problem(label, n, f"자리표시자가 남았습니다: {found!r} (kb new가 넣은 자리입니다; 실제 내용으로 바꾸거나 지워 주세요)")
        for n, line, _ in _outside_fences(_body_lines(text, page))
        for found in PLACEHOLDERS
        if found in line
    ]


def check(docs_dir: Path, root: Path | None = None, loaded: Loaded | None = None) -> tuple[list[Problem], Summary]:
    """Every problem of the pages under ``docs_dir``; snippet paths are relative to ``root``.
    ``loaded``: what :func:`load_pages` gave for ``docs_dir``, when the caller has it (the build: its
    navigation and its check read the pages once)."""
    root = root if root is not None else docs_dir.parent
    _resolved.cache_clear()
    _snippet_problem.cache_clear()
    summary = Summary()
    pages, problems, texts = loaded if loaded is not None else load_pages(docs_dir)
    summary.pages = len(pages)
    problems = list(problems)
    problems += _check_tags(pages, problems)
    files = docs_files(docs_dir)
    site = Site(pages) if not problems else None  # generated lists need valid front matter
    problems += check_files(docs_dir, root, files, pages)
    reads = read_pages(pages, texts, root, site)
    for src, text in texts.items():
        page = pages[src]
        found, links = check_links(src, text, page, reads, files)
        problems += found
        summary.links += links
        problems += _check_snippets(src, text, page, root, summary)
        problems += _check_math_and_markers(src, text, page)
        problems += _check_block_markers(src, text, page)
        problems += _check_placeholders(src, text, page)
    summary.found = pages
    unique_problems = sorted(set(problems), key=lambda p: (p.path, p.line, p.message))
    return unique_problems, summary
