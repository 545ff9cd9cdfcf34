"""``python -m kb check``: every problem the strict build would stop at, listed at once.

Checked, for every Markdown page under docs/:

* front matter: :func:`kb.frontmatter.load_docs` (the same rules as the build hook);
* math and markers: every formula renders (an unclosed ``$$`` too) and every ``<!-- kb:... -->``
  marker is known, as in the build;
* code block markers: every ``<!--pytest.mark....-->`` / ``<!--pytest-codeblocks:...-->`` comment
  outside code is one the build accepts (``skip``, ``allow_exit`` or ``cuda``, each with a reason:
  :func:`kb.blockrunner.parse_marker`, the build's own parser) and sits right before a code block,
  the one it applies to;
* tags: every page of meetings/, qna/, papers/, lectures/ (not their index.md) has at least
  one tag (the schema), no tag twice on a page, no tag with spaces around it, and no two
  spellings of one tag on the site (``Adagrad`` / ``adagrad``: the tags plugin would make two);
* internal links ``[text](target)``, ``![alt](target)`` and ``[ref]: target`` outside code: a
  relative target must be a file under docs/ (a folder needs an index.md), and an ``#anchor``
  must be a heading (slug as Python-Markdown's toc makes it), an ``{ #id }`` or an HTML
  ``id=``/``name=`` in the target page. Absolute paths (``/x.md``) are problems too: the strict
  build rejects them;
* snippet includes ``--8<-- "path"``, ``--8<-- "path:section"`` and the block form (``--8<--``
  lines around a list of paths), in code blocks too (pymdownx.snippets runs before Markdown):
  the file must exist under the project root (``base_path: ["."]``) and a section needs both
  ``--8<-- [start:name]`` and ``--8<-- [end:name]`` in it. Lines escaped with ``;`` are skipped.

Each problem is ``file:line: message``; they are sorted by file and line.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from markdown.extensions.toc import slugify, unique

from . import mathml
from .blockrunner import MARKER_LIKE, parse_marker
from .frontmatter import SCHEMAS, Page, Problem, load_docs
from .render import MARKERS, unknown_markers
from .notion import plain_text

_FENCE_RE = re.compile(r"^[ \t]*(`{3,}|~{3,})")
_HEADING_RE = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t]*$")
_ATTR_TAIL_RE = re.compile(r"[ \t]*\{:?([^{}]*)\}[ \t]*$")
_ATTR_ID_RE = re.compile(r"\{:?[^{}\n]*?#([\w-]+)[^{}\n]*\}")
_HTML_ID_RE = re.compile(r"""\b(?:id|name)\s*=\s*["']([^"']+)["']""")
_CODE_SPAN_RE = re.compile(r"(`+).+?\1")
_COMMENT_RE = re.compile(r"<!--.*?-->")
_LINE_COMMENT_RE = re.compile(r"^[ \t]*<!--(.*?)-->[ \t]*$")
_LINK_RE = re.compile(
    r"!?\[(?:[^\[\]\\\n]|\\.|\[[^\[\]\n]*\])*\]"
    r"\([ \t]*(<[^<>\n]*>|(?:[^()\s\\]|\\.|\([^()\s]*\))*)(?:[ \t]+(?:\"[^\"\n]*\"|'[^'\n]*'|\([^()\n]*\)))?[ \t]*\)"
)
_REFDEF_RE = re.compile(r"^ {0,3}\[[^\]\n]+\]:[ \t]*<?([^\s>]+)>?")
_SNIPPET_INLINE_RE = re.compile(r"""^[ \t]*(;*)-+8<-+[ \t]+(["'])(.+?)\2[ \t]*$""")
_SNIPPET_BLOCK_RE = re.compile(r"^[ \t]*(;*)-+8<-+[ \t]*$")
_SECTION_MARK_RE = re.compile(r"(?<!;)-+8<-+[ \t]+\[[ \t]*(start|end)[ \t]*:[ \t]*([a-z][-_0-9a-z]*)[ \t]*\]", re.I)
_SECTION_PATH_RE = re.compile(r"^(.*?):([a-z][-_0-9a-z]*)$", re.I)
_LINES_PATH_RE = re.compile(r"^(.*?)((?::-?\d*){1,2}(?:,-?\d*(?::-?\d*)?)*)$")
_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:|^//")

TAGGED_SECTIONS = tuple(SCHEMAS)


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
    """``(number, line, opens_fence)`` for the lines not inside fenced code (a fence's opening
    line is kept, flagged; its body and closing line are not)."""
    out = []
    fence: str | None = None
    for n, line in lines:
        m = _FENCE_RE.match(line)
        if fence is not None:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not line.strip().lstrip(fence[0]):
                fence = None
            continue
        if m:
            fence = m.group(1)
        out.append((n, line, m is not None))
    return out


def _outside_code(lines: list[tuple[int, str]], blank_code_spans: bool = True) -> list[tuple[int, str]]:
    """Lines not in fenced code or HTML comments, with code spans blanked out (if asked)."""
    out = []
    in_comment = False
    for n, line, opens_fence in _outside_fences(lines):
        if opens_fence:
            continue
        if in_comment:
            if "-->" not in line:
                continue
            line = line.split("-->", 1)[1]
            in_comment = False
        line = _COMMENT_RE.sub("", line)
        if "<!--" in line:
            line, in_comment = line.split("<!--", 1)[0], True
        if blank_code_spans:
            line = _CODE_SPAN_RE.sub(lambda m: " " * len(m.group(0)), line)
        out.append((n, line))
    return out


def anchors(text: str, page: Page) -> set[str]:
    """The ids a page's HTML will have: headings (toc slugs or { #id }), attr_list ids, HTML ids."""
    lines = _outside_code(_body_lines(text, page), blank_code_spans=False)
    ids: set[str] = set()
    headings: list[str] = []
    for _, line in lines:
        ids.update(_ATTR_ID_RE.findall(line))
        ids.update(_HTML_ID_RE.findall(line))
        m = _HEADING_RE.match(line)
        if not m:
            continue
        title = re.sub(r"[ \t]+#+$", "", m.group(2))
        attr = _ATTR_TAIL_RE.search(title)
        if attr and "#" in attr.group(1):
            continue  # explicit id, collected above
        if attr:
            title = title[: attr.start()]
        headings.append(title)
    for title in headings:
        unique(slugify(plain_text(title), "-"), ids)
    return ids


def _check_links(src: str, text: str, page: Page, docs_dir: Path, pages: dict[str, Page], texts: dict[str, str], cache: dict[str, set[str]], summary: Summary) -> list[Problem]:
    label = f"docs/{src}"
    problems = []
    for n, line in _outside_code(_body_lines(text, page)):
        targets = [m.group(1) for m in _LINK_RE.finditer(line)]
        if m := _REFDEF_RE.match(line):
            targets.append(m.group(1))
        for raw in targets:
            dest = raw[1:-1] if raw.startswith("<") and raw.endswith(">") else raw
            dest = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", dest)
            if not dest or _SCHEME_RE.match(dest):
                continue
            summary.links += 1
            path, _, anchor = dest.partition("#")
            path = unquote(path.split("?", 1)[0])
            if path.startswith("/"):
                problems.append(Problem(label, n, f"절대 경로 링크 '{dest}': 이 페이지에서의 상대 경로로 써 주세요"))
                continue
            if path:
                target = posixpath.normpath(posixpath.join(posixpath.dirname(src), path))
                if target == ".." or target.startswith("../"):
                    problems.append(Problem(label, n, f"링크 '{dest}'가 docs/ 밖을 가리킵니다"))
                    continue
                full = docs_dir / target
                if full.is_dir():
                    target = posixpath.join(target, "index.md")
                    full = docs_dir / target
                if not full.is_file():
                    problems.append(Problem(label, n, f"링크 대상이 없습니다: '{dest}' (docs/{target})"))
                    continue
            else:
                target = src
            if anchor and target.endswith(".md"):
                if target not in cache:
                    tp = pages.get(target)
                    cache[target] = anchors(texts[target], tp) if tp is not None and target in texts else set()
                if anchor not in cache[target]:
                    problems.append(Problem(label, n, f"앵커 '#{anchor}'가 docs/{target}에 없습니다 (제목이나 {{ #{anchor} }}가 없음)"))
    return problems


def _section_marks(path: Path) -> tuple[set[str], set[str]]:
    starts, ends = set(), set()
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        for kind, name in _SECTION_MARK_RE.findall(line):
            (starts if kind.lower() == "start" else ends).add(name)
    return starts, ends


def _check_snippet(label: str, n: int, spec: str, root: Path, summary: Summary) -> list[Problem]:
    summary.snippets += 1
    spec = spec.strip()
    section = None
    if m := _SECTION_PATH_RE.match(spec):
        path, section = m.group(1), m.group(2)
    elif m := _LINES_PATH_RE.match(spec):
        path = m.group(1)
    else:
        path = spec
    full = (root / path).resolve()
    try:
        full.relative_to(root.resolve())
    except ValueError:
        return [Problem(label, n, f"스니펫 '{spec}'이 프로젝트 밖을 가리킵니다")]
    if not full.is_file():
        return [Problem(label, n, f"스니펫 파일이 없습니다: '{path}' (프로젝트 루트 기준)")]
    if section:
        starts, ends = _section_marks(full)
        missing = [f"[{kind}:{section}]" for kind, marks in (("start", starts), ("end", ends)) if section not in marks]
        if missing:
            return [Problem(label, n, f"스니펫 '{path}'에 구역 표시 {' '.join('# --8<-- ' + m for m in missing)}가 없습니다")]
    return []


def _check_snippets(src: str, text: str, page: Page, root: Path, summary: Summary) -> list[Problem]:
    label = f"docs/{src}"
    problems = []
    block_open: int | None = None
    for n, line in _body_lines(text, page):
        if block_open is not None:
            if m := _SNIPPET_BLOCK_RE.match(line):
                block_open = None
            elif line.strip() and not line.strip().startswith(";"):
                problems += _check_snippet(label, n, line.strip().strip("\"'"), root, summary)
            continue
        if m := _SNIPPET_INLINE_RE.match(line):
            if not m.group(1):
                problems += _check_snippet(label, n, m.group(3), root, summary)
        elif (m := _SNIPPET_BLOCK_RE.match(line)) and not m.group(1):
            block_open = n
    if block_open is not None:
        problems.append(Problem(label, block_open, "스니펫 블록(--8<--)이 닫히지 않았습니다"))
    return problems


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
        following = next((rest for _, rest, _ in lines[i + 1:] if rest.strip()), "")
        if not _FENCE_RE.match(following):
            problems.append(Problem(label, n, f"코드 블록 표시 <!--{m.group(1).strip()}--> 바로 다음에 코드 블록이 "
                                              "없습니다: 표시는 바로 아래 블록에만 적용됩니다"))
    return problems


def check(docs_dir: Path, root: Path | None = None) -> tuple[list[Problem], Summary]:
    """Every problem of the pages under ``docs_dir``; snippet paths are relative to ``root``."""
    root = root if root is not None else docs_dir.parent
    summary = Summary()
    pages, problems = load_docs(docs_dir)
    summary.pages = len(pages)
    problems = list(problems)
    problems += _check_tags(pages, problems)
    texts: dict[str, str] = {}
    for src in pages:
        try:
            texts[src] = (docs_dir / src).read_text(encoding="utf-8").replace("\r\n", "\n")
        except UnicodeDecodeError:
            continue  # load_docs reported it
    cache: dict[str, set[str]] = {}
    for src, text in texts.items():
        page = pages[src]
        problems += _check_links(src, text, page, docs_dir, pages, texts, cache, summary)
        problems += _check_snippets(src, text, page, root, summary)
        problems += _check_math_and_markers(src, text, page)
        problems += _check_block_markers(src, text, page)
    summary.found = pages
    unique_problems = sorted(set(problems), key=lambda p: (p.path, p.line, p.message))
    return unique_problems, summary
