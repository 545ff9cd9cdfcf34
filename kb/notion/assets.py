"""Where a page's links and images point after import, and what an attached file becomes.

Notion writes relative, percent-encoded links (``![Untitled](Title%20<id>/Untitled.png)``); Korean
names are often NFD (``%E1%84%91…``) and sometimes encoded twice (``%25ED…``). Each link is
decoded (up to three times, until a file of the export matches; names compared in NFC) and:

* a file of the export (image, attachment), wherever the link points inside the export (the page's
  own folder, another page's, a parent's: ``../Other <id>/a.png``), is copied to the meeting's
  attachments folder, ``docs/attachments/<date>/`` (:data:`ATTACHMENTS`), and the link points there;
* a file that is not in the export is recorded (:attr:`Links.missing`, with its line). With
  ``missing_assets="error"`` (the default) the import stops listing every missing file of the run
  (kb.notion.pipeline); with ``"placeholder"`` the link's text stays, followed by a visible note
  ``*(원본에 없던 파일: <name>)*`` (:func:`localize`), and a warning names the line;
* a page of the same export that is imported in the same run -> a link to its published page;
  a page that is not (a ``.md`` outside the export, a database ``.csv``) keeps the link's text only,
  with a warning;
* ``http(s)``/``mailto`` stay as they are; links to ``notion.so`` pages stay external, with a warning;
* anything else (``javascript:``, an anchor ``#…``, an empty target) keeps the text only, with a warning.

Attachments are data, never code (issue 22). docs/attachments/ is a folder no page is built into
(a meeting page ``meetings/<date>.md`` is built to ``site/meetings/<date>/index.html``), and the
build plugin (kb/plugin.py ``on_files``) copies every file there as it is: never a page, never a
notebook. On top of that each file gets a name that nothing reads as a page, a notebook or script:

* :data:`SHOWN` (png, jpg, gif, webp, …) keep their extension and show on the page as ``<img>``;
* :data:`KEPT` (pdf, txt, office files, archives, audio/video, tensors) keep their extension and are
  linked as downloads;
* everything else (``.html``, ``.svg``, ``.ipynb``, ``.md``, ``.py``, ``.js``, an unknown or no
  extension) is stored as ``<name>.txt``, so the site serves it as plain text and no browser runs
  it, and linked with ``{: download="<name>"}`` so it downloads under its own name. Such a file
  (an SVG, say) used as an image becomes a download link with the image's text.

A name (:func:`attachment_name`) is NFC; letters, digits, ``_`` and ``-`` in the stem (anything
else becomes ``-``, so no leading dot, no ``.``/``..``, no trailing dot or space, no separator);
a lower-case alphanumeric extension; the stem bounded to :data:`MAX_STEM_BYTES` bytes of UTF-8;
Windows device names (``con``, ``nul``, ``com1``, …) get ``-file``; and within one folder names
are unique ignoring case (``-2``, ``-3``, …), so macOS and Windows keep them apart.

Targets inside docs/ are written as markers (:func:`doc_link`, :func:`download_link`) and made
relative to the page that shows them by :func:`localize`, since the same text appears on the
meeting page and a Q&A page.
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlsplit

from ..render import rel
from .clean import SAFE_SCHEMES, md_escape, scheme
from .messages import Warnings
from .read import Tree, nfc

ATTACHMENTS = "attachments"  # docs/attachments/<date>/: data only (kb/plugin.py on_files)
SHOWN = frozenset({"png", "jpg", "jpeg", "gif", "webp", "avif", "bmp"})  # shown on the page as <img>
KEPT = SHOWN | frozenset(
    """pdf txt csv tsv zip gz tgz tar 7z bz2 xz ppt pptx doc docx xls xlsx hwp hwpx key odt odp ods
    mp3 mp4 m4a wav ogg webm mov pt pth ckpt npy npz h5 onnx parquet""".split()
)  # served as they are: a browser shows or downloads them and runs nothing; MkDocs only copies them
MAX_STEM_BYTES = 100

_DOC_LINK_RE = re.compile("\ue002([^\ue003]{1,2000})\ue003")
# a link (or image) to a download marker; the image's "!" goes: a download is a link
_DOWNLOAD_RE = re.compile(
    r"!?(\[(?:[^\[\]\\\n]|\\.|\[[^\[\]\n]{0,2000}\]){0,2000}\])"
    "\\(\ue004([^\ue003\ue005]{1,2000})\ue005([^\ue003]{1,300})\ue003"
    r"((?:[ \t]+(?:\"[^\"\n]{0,500}\"|'[^'\n]{0,500}'))?)\)"
)
# a link (or image) to a missing-file marker: its text stays, with a visible note
_MISSING_RE = re.compile(
    r"!?\[((?:[^\[\]\\\n]|\\.|\[[^\[\]\n]{0,2000}\]){0,2000})\]"
    "\\(<?\ue006([^\ue003]{1,300})\ue003>?"
    r"(?:[ \t]+(?:\"[^\"\n]{0,500}\"|'[^'\n]{0,500}'))?\)"
)
MISSING_NOTE = "원본에 없던 파일"
MISSING_MODES = ("error", "placeholder")
_NOTION_HOSTS = re.compile(r"(^|\.)(notion\.so|notion\.site)$", re.I)
_STEM_UNSAFE_RE = re.compile(r"[^\w\-]+")  # \w is Unicode: 손실_곡선 stays
_WINDOWS_DEVICE_RE = re.compile(r"(?i)(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])")


def doc_link(docs_path: str) -> str:
    return f"\ue002{docs_path}\ue003"


def download_link(docs_path: str, name: str) -> str:
    """A marker for a link that downloads ``docs_path`` as ``name`` (see :func:`localize`)."""
    return f"\ue004{docs_path}\ue005{name}\ue003"


def localize(text: str, page_src: str) -> str:
    """Replace link markers with paths relative to ``page_src`` (both under docs/); a download
    marker's link gets ``{: download="name"}`` (attr_list), and loses an image's ``!``."""

    def url(docs_path: str) -> str:
        return quote(rel(page_src, docs_path), safe="/#-._~")

    text = _MISSING_RE.sub(lambda m: f"{m[1]} *({MISSING_NOTE}: {md_escape(m[2])})*".lstrip(), text)
    text = _DOWNLOAD_RE.sub(lambda m: f'{m[1]}({url(m[2])}{m[4]}){{: download="{m[3]}" }}', text)
    return _DOC_LINK_RE.sub(lambda m: url(m.group(1)), text)


def attachment_name(name: str) -> tuple[str, str]:
    """(the name a file of the export is stored under, the name it downloads as); see the module
    docstring. Not yet unique: :meth:`Links._copy` adds ``-2``, ``-3``, … within a folder."""
    name = unicodedata.normalize("NFC", name)
    stem, dot, ext = name.rpartition(".")
    ext = re.sub(r"[^a-z0-9]", "", ext.lower())[:10] if dot else ""
    if not ext or not _STEM_UNSAFE_RE.sub("", stem):
        stem, ext = name, ""  # "Makefile", ".hidden", "..!": the whole name is the stem
    stem = re.sub(r"-{2,}", "-", _STEM_UNSAFE_RE.sub("-", stem)).strip("-")
    stem = stem.encode("utf-8")[:MAX_STEM_BYTES].decode("utf-8", "ignore").rstrip("-") or "file"
    if _WINDOWS_DEVICE_RE.fullmatch(stem):
        stem += "-file"
    download = f"{stem}.{ext}" if ext else stem
    return (download if ext in KEPT else download + ".txt"), download


def _key(name: str) -> str:
    """Names that one case-insensitive file system (macOS, Windows) would take for the same file."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold())


@dataclass
class Links:
    """Resolves the links of one page (``page`` is its path in ``tree``)."""

    tree: Tree
    page: str
    label: str
    pages: dict[str, str]  # tree path of each page imported in this run -> its docs/ path
    asset_dir: str  # docs/ folder for this page's files: attachments/<date> (ATTACHMENTS)
    warnings: Warnings
    missing_assets: str = "error"  # or "placeholder" (MISSING_MODES)
    assets: dict[str, str] = field(default_factory=dict)  # docs/ path -> tree path
    missing: dict[tuple[int, str], str] = field(default_factory=dict)  # (line, link) -> the message's text
    _downloads: dict[str, str] = field(default_factory=dict)  # docs/ path -> name it downloads as

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
            return self._missing(url, kind, line)
        if found in self.pages:
            return doc_link(self.pages[found])
        if found.lower().endswith((".md", ".csv")):
            self.warnings.add(self.label, line, f"{kind} 대상 {found[-80:]!r}은(는) 이번에 가져오는 페이지가 아니라 글자만 남깁니다")
            return None
        docs_path, download = self._copy(found)
        if is_image and download.rpartition(".")[2] in SHOWN:
            return doc_link(docs_path)
        if is_image:
            self.warnings.add(self.label, line, f"그림 {download!r}은(는) 페이지에 보이지 않고 내려받기 링크가 됩니다 (그림으로 보이는 형식: {', '.join(sorted(SHOWN))})")
        return download_link(docs_path, download)

    def _missing(self, url: str, kind: str, line: int) -> str | None:
        """A file the export does not hold: recorded; with "placeholder", a marker for the note."""
        shown = _decoded(url)
        name = shown.rstrip("/").rsplit("/", 1)[-1][:120] or shown[:120]
        self.missing[(line, url)] = f"{kind}가 가리키는 파일이 내보내기에 없습니다: {shown[-160:]!r}"
        if self.missing_assets != "placeholder":
            return None  # the import stops (pipeline): the text is kept until then
        self.warnings.add(self.label, line, f"{kind}가 가리키는 파일 {name!r}이(가) 내보내기에 없어 '{MISSING_NOTE}: {name}' 안내로 바꿨습니다")
        return f"\ue006{name}\ue003"

    def missing_report(self) -> list[str]:
        """``page:line: what is missing`` for each missing file, in the page's order."""
        return [f"{self.label}:{line}: {text}" for (line, _), text in sorted(self.missing.items(), key=lambda kv: kv[0][0])]

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

    def _copy(self, tree_path: str) -> tuple[str, str]:
        """Where ``tree_path`` is copied (its docs/ path, unique in its folder ignoring case) and the
        name it downloads as; a file linked twice is copied once."""
        for docs_path, src in self.assets.items():
            if src == tree_path:
                return docs_path, self._downloads[docs_path]
        stored, download = attachment_name(posixpath.basename(tree_path))
        taken = {_key(posixpath.basename(d)) for d in self.assets}
        n = 1
        while _key(_numbered(stored, n)) in taken:
            n += 1
        docs_path = f"{self.asset_dir}/{_numbered(stored, n)}"
        self.assets[docs_path] = tree_path
        self._downloads[docs_path] = _numbered(download, n)
        return docs_path, self._downloads[docs_path]


def _decoded(url: str) -> str:
    """A link's path as a reader would spell it (decoded up to three times, NFC, no control or
    private-use characters: those mark links in this module)."""
    path = url.split("#", 1)[0].split("?", 1)[0]
    for _ in range(3):
        path = unquote(path)
    return re.sub(r"[\x00-\x1f\x7f\ue000-\uf8ff]", "", unicodedata.normalize("NFC", path)) or "?"


def _numbered(name: str, n: int) -> str:
    """``a.html.txt`` -> ``a-2.html.txt`` (a stored name's stem has no dot)."""
    head, dot, tail = name.partition(".")
    return f"{head}-{n}{dot}{tail}" if n > 1 else name
