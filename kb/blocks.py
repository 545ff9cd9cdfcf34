"""What to run: the Python code of snippet files and of built pages, found as the site shows it.

This module owns block extraction, apart from the runner that executes blocks:

* the sections of a snippet file exactly as pymdownx.snippets includes them into a page
  (:func:`snippet_sections`, :func:`section_names`, :func:`snippet_files`);
* the Python blocks of a built page exactly as Material's copy button copies them, with the
  marker comment before each (:func:`html_python_blocks`, :class:`HtmlBlock`): ``skip``,
  ``allow_exit`` or ``cuda``, each with a reason, read by :meth:`HtmlBlock.plan` for the build,
  the guard (tests/test_rendered_blocks.py) and ``python -m kb check`` alike (:func:`parse_marker`);
* the pages of a built site and their sources (:func:`site_pages`, :func:`page_source`).

Nothing here runs code; it is plain standard library plus pymdownx for the snippet sections.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def snippet_files(root: Path = ROOT) -> list[Path]:
    """Every snippet program: ``snippets/<topic>/<name>.py``."""
    return sorted(p for p in (root / "snippets").rglob("*.py") if "__pycache__" not in p.parts)


def _section_regex():
    from pymdownx.snippets import SnippetPreprocessor

    return SnippetPreprocessor.RE_SNIPPET_SECTION


@dataclass
class Section:
    path: Path  # the snippet file
    name: str
    code: str  # exactly what `--8<-- "file.py:name"` puts on the page
    line_numbers: list[int] = field(default_factory=list)  # file line of each line of `code`


def section_names(path: Path) -> list[str]:
    """Names of the sections marked in ``path``, in order; raises ValueError naming file and line
    for a malformed marking (an end without start, a start without end, a name used twice)."""
    regex = _section_regex()
    names, open_at, closed = [], {}, set()
    for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
        m = regex.match(line) if "8<-" in line else None
        if m is None or m.group("escape"):
            continue
        name, kind = m.group("name"), m.group("type").lower()
        if kind == "start":
            if name in open_at or name in closed:
                raise ValueError(f"{path}:{number}: section {name!r} starts twice")
            open_at[name] = number
            names.append(name)
        else:
            if name not in open_at:
                raise ValueError(f"{path}:{number}: section {name!r} ends without a start")
            del open_at[name]
            closed.add(name)
    for name, number in open_at.items():
        raise ValueError(f"{path}:{number}: section {name!r} has no end")
    return names


def snippet_sections(path: Path, root: Path = ROOT) -> list[Section]:
    """Every section of ``path`` as pymdownx.snippets includes it (its own code: same regex, same
    extraction), with the file line numbers of its lines."""
    import markdown

    md = markdown.Markdown(extensions=["pymdownx.snippets"],
                           extension_configs={"pymdownx.snippets": {"base_path": [str(root)], "check_paths": True}})
    pre = md.preprocessors["snippet"]
    regex = _section_regex()
    rel = path.resolve().relative_to(root.resolve()).as_posix()
    lines = path.read_text(encoding="utf-8").split("\n")
    sections = []
    for name in section_names(path):
        included = pre.run([f'--8<-- "{rel}:{name}"'])
        # the file line of each included line: walk the file as the extraction does
        numbers, inside = [], False
        for number, line in enumerate(lines, start=1):
            m = regex.match(line) if "8<-" in line else None
            if m is not None and not m.group("escape"):
                if m.group("name") == name:
                    if m.group("type").lower() == "end":
                        break  # as pymdownx: the end, or an end before any start
                    inside = True  # the start (a repeated start is ignored)
                continue
            if inside:
                numbers.append(number)
        if len(numbers) != len(included):
            raise ValueError(f"{rel}: section {name!r}: {len(included)} lines included, {len(numbers)} mapped")
        sections.append(Section(path, name, "\n".join(included), numbers))
    return sections


PYTHON_LANGUAGES = ("python", "py", "python3", "py3")
# The comment right before a block, each with a reason:
# <!--pytest.mark.skip(reason="...")-->: not run.
# <!--pytest.mark.allow_exit(reason="...")-->: run, and an exit with status 0 before its last line passes.
# <!--pytest.mark.cuda(reason="...")-->: needs a CUDA GPU: run on device "cuda" only, reported elsewhere.
MARKER = re.compile(r"""^\s*pytest\.mark\.(?P<kind>skip|allow_exit|cuda)\(\s*reason\s*=\s*(?P<q>["'])(?P<reason>.*?)(?P=q)\s*\)\s*$""",
                    re.S)
MARKER_LIKE = re.compile(r"^\s*(pytest\.mark\.|pytest-codeblocks:)")


def parse_marker(comment: str) -> tuple[str, str]:
    """(kind, reason) of a marker comment's text (what is between ``<!--`` and ``-->``).
    Raises ValueError for a marker the guard does not accept, or one without a reason."""
    m = MARKER.match(comment)
    if m is None:
        raise ValueError(f"unsupported marker <!--{comment.strip()}-->: the guard runs every block "
                         'alone; only <!--pytest.mark.skip(reason="...")--> exempts one, '
                         '<!--pytest.mark.cuda(reason="...")--> runs one on a CUDA GPU only, and '
                         '<!--pytest.mark.allow_exit(reason="...")--> lets one end early')
    if not m.group("reason").strip():
        raise ValueError(f"<!--pytest.mark.{m.group('kind')}(...)--> without a reason: say why")
    return m.group("kind"), m.group("reason").strip()


@dataclass
class HtmlBlock:
    """A Python code block of a built page."""

    index: int  # 1-based among the page's Python blocks
    code: str  # what the copy button copies
    language: str
    marker: str | None = None  # the HTML comment right before the block, if it looks like a test marker

    @property
    def first_line(self) -> str:
        return next((line.strip() for line in self.code.splitlines() if line.strip()), "")

    @property
    def skip_reason(self) -> str | None:
        """The reason of a well-formed skip marker; None when the block is to run.
        Raises ValueError for a marker the guard does not accept."""
        return self._reason("skip")

    @property
    def allow_exit_reason(self) -> str | None:
        """The reason of an allow_exit marker: the block may end early with ``sys.exit(0)``."""
        return self._reason("allow_exit")

    @property
    def cuda_reason(self) -> str | None:
        """The reason of a cuda marker: the block needs a CUDA GPU and runs only on device "cuda"."""
        return self._reason("cuda")

    def plan(self, device: str) -> tuple[str, str | None]:
        """What the build and the guard do with this block on ``device`` ("cpu" or "cuda"):
        ``("skip", reason)``; ``("needs_cuda", reason)`` for a cuda block on another device; else
        ``("run", allow_exit)`` with the allow_exit reason or None. Raises ValueError as skip_reason."""
        if self.marker is None:
            return "run", None
        kind, reason = parse_marker(self.marker)
        if kind == "skip":
            return "skip", reason
        if kind == "cuda":
            return ("run", None) if device == "cuda" else ("needs_cuda", reason)
        return "run", reason  # allow_exit

    def _reason(self, kind: str) -> str | None:
        if self.marker is None:
            return None
        found, reason = parse_marker(self.marker)
        return reason if found == kind else None


class _BlockParser(HTMLParser):
    """Finds <div class="language-X highlight"> blocks and the text of their <pre><code>.

    The text is what Material's copy button copies: its target is ``#__code_N > code`` (the
    <code> child of the <pre>), read as innerText with ``.md-annotation`` elements hidden and
    trailing whitespace trimmed. Line-number anchors are empty; a line-number table keeps its
    numbers outside that <code>.
    """

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, str, str | None]] = []  # (language, code, marker)
        self.last: tuple[str, str] | None = None  # the last significant node outside blocks
        self.div_depth = 0  # > 0 inside a highlight div
        self.language = ""
        self.marker: str | None = None
        self.in_pre = 0
        self.code_depth = 0  # > 0 inside the <pre><code>
        self.hidden_depth = 0  # > 0 inside an .md-annotation
        self.text: list[str] = []
        self.stack: list[str] = []  # open tags inside the code element

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if self.div_depth:
            if tag == "div":
                self.div_depth += 1
            if tag == "pre":
                self.in_pre += 1
            elif tag == "code" and self.in_pre and not self.code_depth:
                self.code_depth = 1
                return
            if self.code_depth and tag not in self.VOID:
                self.stack.append(tag)
                if self.hidden_depth or "md-annotation" in classes:
                    self.hidden_depth += 1
                if tag == "br" and not self.hidden_depth:
                    self.text.append("\n")
            return
        if tag == "div" and "highlight" in classes:
            langs = [c.removeprefix("language-") for c in classes if c.startswith("language-")]
            if langs:
                self.div_depth = 1
                self.language = langs[0]
                comment = self.last[1] if self.last and self.last[0] == "comment" else None
                self.marker = comment if comment is not None and MARKER_LIKE.match(comment) else None
                self.text = []
                return
        self.last = ("tag", tag)

    def handle_endtag(self, tag):
        if self.div_depth:
            if self.code_depth:
                if tag == "code" and not self.stack:
                    self.code_depth = 0
                    return
                if self.stack and self.stack[-1] == tag:
                    self.stack.pop()
                    if self.hidden_depth:
                        self.hidden_depth -= 1
                return
            if tag == "pre":
                self.in_pre -= 1
            elif tag == "div":
                self.div_depth -= 1
                if not self.div_depth:
                    self.blocks.append((self.language, "".join(self.text).rstrip(), self.marker))
                    self.last = ("tag", "div")
            return
        self.last = ("tag", tag)

    def handle_data(self, data):
        if self.div_depth:
            if self.code_depth and not self.hidden_depth:
                self.text.append(data)
            return
        if data.strip():
            self.last = ("data", data)

    def handle_comment(self, data):
        if not self.div_depth:
            self.last = ("comment", data)


def html_python_blocks(html: str) -> list[HtmlBlock]:
    """The Python code blocks of a built page, numbered from 1, with the marker comment before each."""
    if "language-py" not in html:  # every class of PYTHON_LANGUAGES starts so: no need to parse the page
        return []
    parser = _BlockParser()
    parser.feed(html)
    parser.close()
    blocks = [(lang, code, marker) for lang, code, marker in parser.blocks if lang in PYTHON_LANGUAGES]
    return [HtmlBlock(i, code, lang, marker) for i, (lang, code, marker) in enumerate(blocks, start=1)]


def markdown_python_fences(text: str) -> int:
    """How many fenced blocks of ``text`` the build shows with a Python language (``python``, ``py``,
    ...), found as the build finds fences (:mod:`kb.markdown_scan`): a fence inside a longer fence
    (an example of Markdown), or one never closed, does not count."""
    from .markdown_scan import fences

    return sum(f.lang.lower() in PYTHON_LANGUAGES for f in fences(text))


def page_source(site: Path, html_path: Path, docs: Path) -> Path | None:
    """The Markdown file a built page came from (directory URLs: a/b/index.html <- a/b.md or a/b/index.md)."""
    rel = html_path.relative_to(site)
    parent = rel.parent
    candidates = [docs / parent / "index.md", docs / parent / "README.md"]
    if rel.name == "index.html" and parent.parts:
        candidates.insert(0, docs / parent.parent / f"{parent.name}.md")
    if rel.name != "index.html":
        candidates = [docs / rel.with_suffix(".md")]
    return next((c for c in candidates if c.is_file()), None)


@dataclass
class Page:
    """A built page, the Markdown it came from, and its Python blocks."""

    html: Path  # relative to the site directory
    source: Path | None  # docs/... .md, when found
    blocks: list[HtmlBlock]
    fences: int  # Python fences in the source (0 without a source)

    @property
    def name(self) -> str:
        return self.source.as_posix() if self.source is not None else self.html.as_posix()


def site_pages(site: Path, docs: Path, root: Path = ROOT) -> list[Page]:
    """Every HTML page of a built site with its Python blocks, and the Python fences of its source."""
    pages = []
    for html in sorted(site.rglob("*.html")):
        source = page_source(site, html, docs)
        fences = markdown_python_fences(source.read_text(encoding="utf-8")) if source else 0
        shown = source.resolve().relative_to(root.resolve()) if source and source.resolve().is_relative_to(
            root.resolve()) else source
        pages.append(Page(html.relative_to(site), shown, html_python_blocks(html.read_text(encoding="utf-8")),
                          fences))
    return pages
