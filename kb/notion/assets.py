"""Where a page's links and images point after import.

Notion writes relative, percent-encoded links (``![Untitled](Title%20<id>/Untitled.png)``); Korean
names are often NFD (``%E1%84%91…``) and sometimes encoded twice (``%25ED…``). Each link is
decoded (up to three times, until a file of the export matches; names compared in NFC) and:

* a file of the export (image, attachment) is copied next to the meeting page, to
  ``docs/meetings/<date>/<name>``, and the link points there; a file that is not in the export is
  an error naming the line (nothing is written);
* a page of the same export that is imported in the same run -> a link to its published page;
  a page that is not (a ``.md`` outside the export, a database ``.csv``) keeps the link's text only,
  with a warning;
* ``http(s)``/``mailto`` stay as they are; links to ``notion.so`` pages stay external, with a warning;
* anything else (``javascript:``, an anchor ``#…``, an empty target) keeps the text only, with a warning.

Targets inside docs/ are written as markers (:func:`doc_link`) and made relative to the page that
shows them by :func:`localize`, since the same text appears on the meeting page and a Q&A page.
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlsplit

from ..render import rel
from .clean import SAFE_SCHEMES, scheme
from .messages import NotionError, Warnings
from .read import Tree, nfc

_DOC_LINK_RE = re.compile("\ue002([^\ue003]{1,2000})\ue003")
_NOTION_HOSTS = re.compile(r"(^|\.)(notion\.so|notion\.site)$", re.I)
_UNSAFE_NAME_RE = re.compile(r"[^\w.\-]+")


def doc_link(docs_path: str) -> str:
    return f"\ue002{docs_path}\ue003"


def localize(text: str, page_src: str) -> str:
    """Replace doc-link markers with paths relative to ``page_src`` (both under docs/)."""
    return _DOC_LINK_RE.sub(lambda m: quote(rel(page_src, m.group(1)), safe="/#-._~"), text)


@dataclass
class Links:
    """Resolves the links of one page (``page`` is its path in ``tree``)."""

    tree: Tree
    page: str
    label: str
    pages: dict[str, str]  # tree path of each page imported in this run -> its docs/ path
    asset_dir: str  # docs/ folder for this page's files, e.g. meetings/2021-08-10
    warnings: Warnings
    assets: dict[str, str] = field(default_factory=dict)  # docs/ path -> tree path

    def resolve(self, url: str, is_image: bool, line: int) -> str | None:
        kind = "이미지" if is_image else "링크"
        s = scheme(url)
        if s in SAFE_SCHEMES:
            host = urlsplit(url).hostname or ""
            if _NOTION_HOSTS.search(host):
                self.warnings.add(self.label, line, f"Notion 페이지 링크 {url[:80]!r}는 내보내기 밖의 페이지라 외부 링크로 둡니다")
            return url
        if s is not None or not url.strip() or url.startswith("#"):
            self.warnings.add(self.label, line, f"{kind} 대상 {url[:80]!r}은(는) 옮길 수 없어 글자만 남깁니다")
            return None
        found = self._find(url)
        if found is None:
            if url.lower().split("#")[0].endswith((".md", ".csv")):
                self.warnings.add(self.label, line, f"{kind} 대상 {unquote(url)[:80]!r}은(는) 이번에 가져오는 페이지가 아니라 글자만 남깁니다")
                return None
            raise NotionError(self.label, line, f"{kind}가 가리키는 파일이 내보내기에 없습니다: {unquote(url)[:120]!r}")
        if found in self.pages:
            return doc_link(self.pages[found])
        if found.lower().endswith((".md", ".csv")):
            self.warnings.add(self.label, line, f"{kind} 대상 {found[-80:]!r}은(는) 이번에 가져오는 페이지가 아니라 글자만 남깁니다")
            return None
        return doc_link(self._copy(found))

    def _find(self, url: str) -> str | None:
        path = url.split("#", 1)[0].split("?", 1)[0]
        base = posixpath.dirname(self.page)
        seen = set()
        for _ in range(4):
            candidate = posixpath.normpath(posixpath.join(base, nfc(path)))
            if candidate not in seen and self.tree.has(candidate):  # only the export's own files are there
                return nfc(candidate)
            seen.add(candidate)
            decoded = unquote(path)
            if decoded == path:
                return None
            path = decoded
        return None

    def _copy(self, tree_path: str) -> str:
        for docs_path, src in self.assets.items():
            if src == tree_path:
                return docs_path
        name = unicodedata.normalize("NFC", posixpath.basename(tree_path))
        stem, dot, ext = name.rpartition(".")
        stem = _UNSAFE_NAME_RE.sub("-", stem if dot else name).strip("-") or "file"
        ext = _UNSAFE_NAME_RE.sub("", ext) if dot else ""
        candidate = f"{self.asset_dir}/{stem}{'.' + ext if ext else ''}"
        n = 2
        while candidate in self.assets:
            candidate = f"{self.asset_dir}/{stem}-{n}{'.' + ext if ext else ''}"
            n += 1
        self.assets[candidate] = tree_path
        return candidate
