"""What MkDocs itself validates in a strict build, checked before it runs (for :mod:`kb.check`).

* links and anchors: every page is read with the build's own Markdown (:mod:`kb.markdown_build`,
  after the hooks' preprocessing), and every ``a[href]`` and ``img[src]`` of the element tree is
  judged by the rules of MkDocs's link validation (``mkdocs.structure.pages``): a relative link
  must name a file under docs/ (a folder is an "unrecognized link"), an absolute one is refused,
  and an ``#anchor`` must be an id of the target page's HTML (toc ids, ``{ #id }``, HTML ids,
  footnotes), collected by MkDocs's own anchor collectors. Links inside code are not links.
* the nav (``validation.omitted_files``): every page under docs/ (Markdown or notebook) must be in
  mkdocs.yml's nav as kb.nav completes it, and every page the nav names must exist;
* pages only as ``.md`` (the hooks and checks read only those);
* nothing where a page's output folder goes (``a/b.md`` is written to ``a/b/index.html``, so a
  file ``a/b`` beside it stops the build).

The line of a link is found by looking for its target in the page's text, after the previous one.
"""

from __future__ import annotations

import posixpath
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from . import nav as kb_nav
from .frontmatter import Page, Problem
from .markdown_build import Read, load_config, prepare, read_page

MARKDOWN_SUFFIXES = (".markdown", ".mdown", ".mkdn", ".mkd", ".md")  # mkdocs.utils.markdown_extensions
GENERATED_LINKS = {"headerlink", "footnote-ref", "footnote-backref"}  # made by toc and footnotes, never dangling
AMP_SUBSTITUTE = "\x02amp\x03"  # markdown.util.AMP_SUBSTITUTE: e-mail links


def docs_files(docs_dir: Path) -> set[str]:
    """Every file MkDocs copies or renders: all under docs/ except ``.*`` and ``/templates/``."""
    out = set()
    for path in docs_dir.rglob("*"):
        rel = path.relative_to(docs_dir).as_posix()
        if path.is_file() and not any(part.startswith(".") for part in rel.split("/")) and not rel.startswith("templates/"):
            out.add(rel)
    return out


def _notebook_patterns(config: dict) -> list[str]:
    for plugin in config.get("plugins") or []:
        if isinstance(plugin, dict) and "mkdocs-jupyter" in plugin:
            return list((plugin["mkdocs-jupyter"] or {}).get("include", ["*.py", "*.ipynb", "*.md"]))
        if plugin == "mkdocs-jupyter":
            return ["*.py", "*.ipynb", "*.md"]
    return []


def _nav_entries(items) -> list[str]:
    out = []
    for item in items or []:
        value = next(iter(item.values())) if isinstance(item, dict) and len(item) == 1 else item
        if isinstance(value, list):
            out += _nav_entries(value)
        elif isinstance(value, str) and not urlsplit(value).scheme:
            out.append(value)
    return out


def check_files(docs_dir: Path, root: Path, files: set[str], found: dict | None = None) -> list[Problem]:
    """Pages missing from the nav, nav entries without a page, non-.md pages, files in an output folder's place
    (``found``: the pages' front matter, ``load_docs(docs_dir)``'s, when the caller has it)."""
    problems = []
    for src in sorted(files):
        if src.endswith(MARKDOWN_SUFFIXES) and not src.endswith(".md"):
            problems.append(Problem(f"docs/{src}", 1, f"페이지는 .md 파일이어야 합니다 (빌드 훅과 kb check는 .md만 읽습니다): "
                                                       f"'{posixpath.splitext(src)[0]}.md'로 이름을 바꿔 주세요"))
        if src.endswith(".md") and posixpath.basename(src) not in ("index.md", "README.md"):
            out_dir = src[:-3]
            if out_dir in files:
                problems.append(Problem(f"docs/{out_dir}", 1, f"이 파일은 docs/{src} 페이지의 출력 폴더(site/{out_dir}/) 자리에 있어 "
                                                              "빌드가 쓰지 못합니다: 이름을 바꾸거나 지워 주세요"))
    config_path = root / "mkdocs.yml"
    if not config_path.is_file():
        return problems
    config = load_config(root)
    if not config.get("nav"):
        return problems  # MkDocs then lists every page itself
    patterns = _notebook_patterns(config)
    pages = {f for f in files if f.endswith(MARKDOWN_SUFFIXES) or any(PurePosixPath(f).match(p) for p in patterns if not p.endswith(".md"))}
    entries = _nav_entries(kb_nav.generate(config["nav"], docs_dir, found))
    for src in sorted(pages - set(entries)):
        problems.append(Problem(f"docs/{src}", 1, "이 페이지가 mkdocs.yml의 nav에 없습니다 (strict 빌드가 'not included in the nav'로 멈춥니다): "
                                                  "nav에 넣어 주세요"))
    config_lines = config_path.read_text(encoding="utf-8").split("\n")
    for entry in sorted(set(entries) - files):
        line = next((n for n, text in enumerate(config_lines, 1) if entry in text), 1)
        problems.append(Problem("mkdocs.yml", line, f"nav의 '{entry}'가 docs/에 없습니다"))
    return problems


def read_pages(pages: dict[str, Page], texts: dict[str, str], root: Path, site) -> dict[str, Read]:
    """Every page read as the build reads it (a page the hooks would refuse is read without the preprocessing)."""
    reads = {}
    for src, text in texts.items():
        body = "\n".join(text.split("\n")[pages[src].body_line - 1:])
        try:
            prepared = prepare(src, body, site)
        except Exception:  # noqa: BLE001 - the math and marker checks report it; read the rest anyway
            prepared = body
        reads[src] = read_page(prepared, root)
    return reads


def _lines(text: str, page: Page):
    """``(url) -> line``: where a link's target is written, looked for after the previous one."""
    cursor = sum(len(line) + 1 for line in text.split("\n")[: page.body_line - 1])

    def line_of(url: str) -> int:
        nonlocal cursor
        for needle in dict.fromkeys((url, unquote(url))):
            found = text.find(needle, cursor)
            if found >= 0:
                cursor = found + len(needle)
                return text.count("\n", 0, found) + 1
        found = text.find(url, 0)
        return text.count("\n", 0, found) + 1 if found >= 0 else text.count("\n", 0, cursor) + 1

    return line_of


def check_links(src: str, text: str, page: Page, reads: dict[str, Read], files: set[str]) -> tuple[list[Problem], int]:
    """Problems of one page's links as MkDocs's validation would log them; and how many links were internal."""
    label = f"docs/{src}"
    problems, internal = [], 0
    line_of = _lines(text, page)
    for el in reads[src].root.iter():
        if el.tag not in ("a", "img") or GENERATED_LINKS & set((el.get("class") or "").split()) or (el.get("id") or "").startswith("__codelineno"):
            continue
        url = el.get("href" if el.tag == "a" else "src") or ""
        scheme, netloc, path, _, anchor = urlsplit(url)
        if scheme or netloc or AMP_SUBSTITUTE in url:
            continue
        internal += 1
        n = line_of(url)
        if url.startswith(("/", "\\")):
            problems.append(Problem(label, n, f"절대 경로 링크 '{url}': 이 페이지에서의 상대 경로로 써 주세요"))
            continue
        target = src
        if path:
            path = unquote(path)
            target = posixpath.normpath(posixpath.join(posixpath.dirname(src), path).lstrip("/"))
            if target == ".." or target.startswith("../"):
                problems.append(Problem(label, n, f"링크 '{url}'가 docs/ 밖을 가리킵니다"))
                continue
            if target not in files:
                if not posixpath.splitext(path)[1]:
                    hint = f": 'docs/{target}/index.md'라면 '{path.rstrip('/')}/index.md'로 써 주세요" if f"{target}/index.md" in files else ""
                    problems.append(Problem(label, n, f"링크 '{url}'는 파일을 가리키지 않습니다 (빌드가 모르는 상대 링크){hint}"))
                else:
                    problems.append(Problem(label, n, f"링크 대상이 없습니다: '{url}' (docs/{target})"))
                continue
        if anchor and target in reads and anchor not in reads[target].ids:
            problems.append(Problem(label, n, f"앵커 '#{anchor}'가 docs/{target}에 없습니다 (제목이나 {{ #{anchor} }}가 없음)"))
    return problems, internal
