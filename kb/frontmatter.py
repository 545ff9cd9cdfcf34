"""Front matter of the knowledge base's pages: parsing with line numbers and the schema.

Every page under ``docs/`` may start with a YAML block between ``---`` lines. Pages in
``meetings/``, ``qna/``, ``papers/`` and ``lectures/`` (other than the section's
``index.md``) must carry the fields of their section's schema. The MkDocs hook and the
``check`` command both use :func:`validate_docs`, so the build and the command line apply
the same rules; the build stops at the first run with every problem listed.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import pickle
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Callable

import yaml

from .safety import markup_in, strings_in

FENCE = "---"


@dataclass(frozen=True)
class Problem:
    """One problem in one file, with the 1-based line it is on."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class FrontMatterError(ValueError):
    """Raised when one or more pages have malformed or incomplete front matter."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{len(problems)} front matter problem(s):\n{lines}")


@dataclass
class Page:
    """A page's source path (relative to ``docs/``), its front matter and the line of each key."""

    src: str
    meta: dict[str, Any]
    key_lines: dict[str, int] = field(default_factory=dict)
    body_line: int = 1  # line on which the Markdown body starts

    @property
    def section(self) -> str:
        parts = PurePosixPath(self.src).parts
        return parts[0] if len(parts) > 1 else ""

    @property
    def is_index(self) -> bool:
        return PurePosixPath(self.src).name == "index.md"

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, 1)


def _duplicate_key(node: yaml.MappingNode) -> yaml.ScalarNode | None:
    """The first key that appears a second time in a mapping (at any depth), or None."""
    seen: set[str] = set()
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode):
            if key.value in seen:
                return key
            seen.add(key.value)
        if isinstance(value, yaml.MappingNode) and (dup := _duplicate_key(value)) is not None:
            return dup
    return None


def split(text: str, src: str) -> tuple[dict[str, Any], dict[str, int], int, list[Problem]]:
    """Split ``text`` into (front matter, line of each top-level key, body start line, problems).

    A file without a leading ``---`` line has empty front matter. An unclosed block, YAML
    that does not parse, or YAML that is not a mapping is a problem with its line.
    """
    lines = text.splitlines()
    if not lines or lines[0].rstrip() != FENCE:
        return {}, {}, 1, []
    for end in range(1, len(lines)):
        if lines[end].rstrip() in (FENCE, "..."):
            break
    else:
        return {}, {}, 1, [Problem(src, 1, "front matter opened with '---' is never closed")]
    block = "\n".join(lines[1:end])
    try:
        node = yaml.compose(block, Loader=yaml.SafeLoader)
        data = yaml.safe_load(block)
        if isinstance(node, yaml.MappingNode) and (dup := _duplicate_key(node)) is not None:
            return {}, {}, end + 2, [Problem(src, dup.start_mark.line + 2, f"front matter key '{dup.value}' is given twice (YAML would keep only the last)")]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = (mark.line + 2) if mark is not None else 2
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return {}, {}, end + 2, [Problem(src, line, f"front matter is not valid YAML: {problem}")]
    if data is None:
        return {}, {}, end + 2, []
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        return {}, {}, end + 2, [Problem(src, 2, "front matter must be a mapping of 'key: value' lines")]
    key_lines = {k.value: k.start_mark.line + 2 for k, _ in node.value if isinstance(k, yaml.ScalarNode)}
    return data, key_lines, end + 2, []


# --- the schema -----------------------------------------------------------------------

Check = Callable[[Any], str | None]  # returns an error message or None


def _str(v: Any) -> str | None:
    return None if isinstance(v, str) and v.strip() else "must be a non-empty string"


def _date(v: Any) -> str | None:
    if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        return None
    return "must be a date written as YYYY-MM-DD"


def _datetime(v: Any) -> str | None:
    if isinstance(v, dt.datetime) and v.tzinfo is not None:
        return None
    return "must be a timestamp with a time zone, e.g. 2021-08-06T17:57:00+09:00"


def _day(v: Any) -> str | None:
    if _date(v) is None or _datetime(v) is None:
        return None
    return "must be a date (YYYY-MM-DD) or a timestamp with a time zone, e.g. 2021-08-06T17:57:00+09:00"


def _str_list(allow_empty: bool) -> Check:
    def check(v: Any) -> str | None:
        if not isinstance(v, list) or not all(isinstance(x, str) and x.strip() for x in v):
            return "must be a list of strings"
        if not v and not allow_empty:
            return "must list at least one entry"
        return None

    return check


def _one_of(*choices: str) -> Check:
    def check(v: Any) -> str | None:
        return None if v in choices else f"must be one of: {', '.join(choices)} (got {v!r})"

    return check


def _url(v: Any) -> str | None:
    return None if isinstance(v, str) and re.match(r"https?://\S+$", v) else "must be an http(s) URL"


def _paper(v: Any) -> str | None:
    if not isinstance(v, dict):
        return "must be a mapping with title, authors, year, venue and url"
    for key, check in (("title", _str), ("authors", _str_list(False)), ("venue", _str), ("url", _url)):
        if key not in v:
            return f"is missing '{key}'"
        if (err := check(v[key])) is not None:
            return f"'{key}' {err}"
    if not isinstance(v.get("year"), int):
        return "'year' must be a number such as 2015"
    return None


# Fields whose values name other pages (paths relative to docs/).
PAGE_REF_FIELDS = {"meeting", "related"}

# Who wrote a Q&A answer, paper review or lecture note, and when; optional (the page facts show the
# site's author, the date of the meeting it came from and the file's last commit otherwise).
WRITER_FIELDS: dict[str, tuple[bool, Check]] = {
    "author": (False, _str),
    "created": (False, _day),
    "updated": (False, _day),
}

SCHEMAS: dict[str, dict[str, tuple[bool, Check]]] = {
    # field: (required, check)
    "meetings": {
        "title": (True, _str),
        "date": (True, _date),
        "created": (True, _datetime),
        "author": (True, _str),
        "attendees": (True, _str_list(True)),
        "updated": (True, _datetime),
        "meeting_type": (True, _str),
        "tags": (True, _str_list(False)),
        "description": (False, _str),
        "source": (False, _str),
    },
    "qna": {
        "title": (True, _str),
        "qid": (True, _str),
        "status": (True, _one_of("answered", "open")),
        "tags": (True, _str_list(False)),
        "meeting": (True, _str),
        "related": (True, _str_list(True)),
        "asked_by": (False, _str),
        "description": (False, _str),
        **WRITER_FIELDS,
    },
    "papers": {
        "title": (True, _str),
        "tags": (True, _str_list(False)),
        "paper": (True, _paper),
        "slides": (True, _url),
        "meeting": (True, _str),
        "related": (False, _str_list(True)),
        "description": (False, _str),
        **WRITER_FIELDS,
    },
    "lectures": {
        "title": (True, _str),
        "tags": (True, _str_list(False)),
        "meeting": (True, _str),
        "related": (False, _str_list(True)),
        "description": (False, _str),
        **WRITER_FIELDS,
    },
}

def _hide(v: Any) -> str | None:
    known = {"navigation", "toc", "footer", "path", "tags", "feedback"}
    if isinstance(v, list) and all(x in known for x in v):
        return None
    return f"must be a list of: {', '.join(sorted(known))}"


def _search(v: Any) -> str | None:
    if isinstance(v, dict) and set(v) <= {"exclude", "boost"}:
        if isinstance(v.get("exclude", False), bool) and isinstance(v.get("boost", 1), (int, float)):
            return None
    return "must be a mapping with 'exclude' (true/false) and/or 'boost' (a number)"


def _icon(v: Any) -> str | None:
    return None if isinstance(v, str) and re.fullmatch(r"[a-z0-9-]+(/[a-z0-9-]+)+", v) else "must be an icon name such as material/star"


# Keys every page may carry (MkDocs and Material understand them), and their checks. Material
# writes these into its templates unescaped, so each is checked here (and escaped by the hook).
# `template` is not allowed: a page must not pick a template such as redirect.html.
COMMON_CHECKS: dict[str, Check] = {
    "title": _str,
    "description": _str,
    "tags": _str_list(False),
    "hide": _hide,
    "search": _search,
    "icon": _icon,
    "status": _one_of("answered", "open"),
}
COMMON_OPTIONAL = set(COMMON_CHECKS)


def load_page(docs_dir: Path, src: str) -> tuple[Page, list[Problem]]:
    """Read ``docs_dir / src`` and parse its front matter."""
    return parse_page((docs_dir / src).read_bytes(), src)


def parse_page(raw: bytes, src: str) -> tuple[Page, list[Problem]]:
    """The page ``docs/src`` of bytes ``raw``: its front matter parsed."""
    label = f"docs/{src}"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return Page(src, {}), [Problem(label, line, "file is not valid UTF-8")]
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        return Page(src, {}), [Problem(label, line, "file contains a NUL byte (binary data?)")]
    meta, key_lines, body_line, problems = split(text, label)
    return Page(src, meta, key_lines, body_line), problems


def _markup_problems(page: Page, label: str) -> list[Problem]:
    """Front matter is plain text: a value that carries HTML markup is refused (kb.safety.markup_in)."""
    problems = []
    for key, value in page.meta.items():
        for where, text in strings_in(value, str(key)):
            if found := markup_in(text):
                problems.append(
                    Problem(label, page.line_of(key), f"field '{where}' contains markup ({found}); front matter is plain text")
                )
    return problems


def validate_page(page: Page, known_pages: set[str]) -> list[Problem]:
    """Check one page against its section's schema and that referenced pages exist."""
    label = f"docs/{page.src}"
    schema = SCHEMAS.get(page.section)
    problems: list[Problem] = _markup_problems(page, label)
    own = schema if schema is not None and not page.is_index else {}
    for key, check in COMMON_CHECKS.items():
        if key in page.meta and key not in own and (err := check(page.meta[key])) is not None:
            problems.append(Problem(label, page.line_of(key), f"field '{key}' {err}"))
    if schema is None or page.is_index:
        for key in page.meta:
            if key not in COMMON_OPTIONAL:
                allowed = ", ".join(sorted(COMMON_OPTIONAL))
                problems.append(Problem(label, page.line_of(key), f"unknown field '{key}' (allowed: {allowed})"))
        return problems
    for key, (required, check) in schema.items():
        if key not in page.meta:
            if required:
                problems.append(Problem(label, 1, f"missing required front matter field '{key}'"))
            continue
        if (err := check(page.meta[key])) is not None:
            problems.append(Problem(label, page.line_of(key), f"field '{key}' {err}"))
    for key in page.meta:
        if key not in schema and key not in COMMON_OPTIONAL:
            allowed = ", ".join(sorted(schema))
            problems.append(Problem(label, page.line_of(key), f"unknown field '{key}' (allowed: {allowed})"))
    for key in PAGE_REF_FIELDS & set(schema):
        value = page.meta.get(key)
        refs = value if isinstance(value, list) else [value] if isinstance(value, str) else []
        for ref in refs:
            if ref not in known_pages:
                problems.append(
                    Problem(label, page.line_of(key), f"field '{key}' names '{ref}', which is not a page under docs/")
                )
    return problems


def load_docs(docs_dir: Path, texts: dict[str, str] | None = None) -> tuple[dict[str, Page], list[Problem]]:
    """Parse every Markdown page under ``docs_dir`` and validate it; return pages and problems.

    ``texts``, when given, receives each readable page's text (newlines as text mode reads them),
    so that a caller does not read the pages again."""
    srcs = sorted(p.relative_to(docs_dir).as_posix() for p in docs_dir.rglob("*.md") if p.is_file())
    known = frozenset(srcs) | {p.relative_to(docs_dir).as_posix() for p in docs_dir.rglob("*.ipynb")}
    pages: dict[str, Page] = {}
    loaded: list[Problem] = []
    validated: list[Problem] = []
    for src in srcs:
        raw = (docs_dir / src).read_bytes()
        page, found, valid = _loaded(docs_dir, src, raw, known)
        pages[src] = page
        loaded += found
        validated += valid
        if texts is not None:
            with contextlib.suppress(UnicodeDecodeError):  # (reported as a problem)
                texts[src] = raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    return pages, loaded + validated


# `mkdocs serve` reads every page's front matter twice per rebuild (the navigation in on_config, the
# checks in on_files): a page whose bytes and the site's list of pages are those of an earlier call
# is not parsed or validated again (about 10 % of a saved edit at 500 pages, benchmarks/README.md).
# Kept pickled, so that each caller gets Page objects of its own.
_LOADED: collections.OrderedDict[tuple, tuple[frozenset, bytes]] = collections.OrderedDict()
_LOADED_SIZE = 4096


def _loaded(docs_dir: Path, src: str, raw: bytes, known: frozenset) -> tuple[Page, list[Problem], list[Problem]]:
    key = (str(docs_dir), src, raw)
    kept = _LOADED.get(key)
    if kept is not None and kept[0] == known:
        _LOADED.move_to_end(key)
        return pickle.loads(kept[1])
    page, found = parse_page(raw, src)
    result = (page, found, validate_page(page, known))
    _LOADED[key] = (known, pickle.dumps(result, pickle.HIGHEST_PROTOCOL))
    _LOADED.move_to_end(key)
    while len(_LOADED) > _LOADED_SIZE:
        _LOADED.popitem(last=False)
    return result


def validate_docs(docs_dir: Path) -> dict[str, Page]:
    """Load all pages; raise :class:`FrontMatterError` listing every problem if there are any."""
    pages, problems = load_docs(docs_dir)
    if problems:
        raise FrontMatterError(problems)
    return pages
