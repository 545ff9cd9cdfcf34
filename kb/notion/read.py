"""Reading an export: a page ``.md``, an export folder, or Notion's ``Export-….zip``.

Every source becomes a :class:`Tree`: the export's files by path (``/``-separated, NFC), read on
demand. A zip may hold a wrapper folder (``<workspace>_Export-<uuid>/``) and, for large exports,
``Part-N.zip`` files, which are opened in memory. Pages are the ``.md`` files of the tree; a
database export's ``Name <id>.csv`` is not needed (every row is also a page with its properties).
A single page brings its sibling folder (``Title <id>/``, its images and attachments) with it.

Limits, each refused with a message naming the file: a page over :data:`MAX_PAGE_BYTES`, any file
over :data:`MAX_FILE_BYTES`, an export over :data:`MAX_EXPORT_BYTES` unpacked, a line over
:data:`MAX_LINE_CHARS` characters. A page must be UTF-8 text (CP949 gets the ``iconv`` command).
"""

from __future__ import annotations

import io
import posixpath
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .messages import NotionError

MAX_PAGE_BYTES = 5 * 1024 * 1024
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_EXPORT_BYTES = 512 * 1024 * 1024
MAX_LINE_CHARS = 20_000
MAX_ZIP_DEPTH = 2
_NOTION_ID_RE = re.compile(r"[ _-]?[0-9a-f]{32}$")


def nfc(path: str) -> str:
    """A path as the tree keys it: NFC, normalised ('./a/../b' -> 'b')."""
    return posixpath.normpath(unicodedata.normalize("NFC", path))


def page_name(path: str) -> str:
    """'Export/3 10 회의록 0123…cdef.md' -> '3 10 회의록' (the title as a file name, id dropped)."""
    stem = posixpath.basename(path).removesuffix(".md")
    return _NOTION_ID_RE.sub("", stem) or stem


@dataclass
class Tree:
    """An export's files: path -> (size, reader). ``label`` names the export in messages."""

    label: str
    files: dict[str, tuple[int, Callable[[], bytes]]]

    def pages(self) -> list[str]:
        return sorted(p for p in self.files if p.lower().endswith(".md"))

    def has(self, path: str) -> bool:
        return nfc(path) in self.files

    def size(self, path: str) -> int:
        return self.files[nfc(path)][0]

    def read(self, path: str) -> bytes:
        size, reader = self.files[nfc(path)]
        where = self.where(path)
        if size > MAX_FILE_BYTES:
            raise NotionError(where, None, f"파일이 너무 큽니다: {size:,} 바이트 (제한 {MAX_FILE_BYTES // 2**20} MB)")
        try:
            return reader()
        except (OSError, zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError, EOFError) as exc:
            raise NotionError(where, None, f"읽을 수 없습니다: {exc}") from None

    def where(self, path: str) -> str:
        """The label of one file of the export in messages."""
        return path if self.label == path else f"{self.label}:{path}" if self.label.endswith(".zip") else path


def load(path: Path, label: str) -> Tree:
    """The tree of a page, a folder or a zip given on the command line."""
    try:
        if path.is_dir():
            return _dir_tree(path, label)
        if path.suffix.lower() == ".zip":
            return _zip_tree(path, label)
        return _page_tree(path, label)
    except OSError as exc:
        raise NotionError(label, None, f"읽을 수 없습니다: {exc.strerror or exc}") from None


def _file_reader(path: Path) -> Callable[[], bytes]:
    def read() -> bytes:
        with path.open("rb") as f:
            return f.read(MAX_FILE_BYTES + 1)

    return read


def _add_dir(files: dict, folder: Path, prefix: str, label: str) -> None:
    for p in sorted(folder.rglob("*")):
        if p.is_file():  # a folder named *.md is not a page; a broken link is not a file
            rel = nfc(p.relative_to(folder).as_posix())
            files[posixpath.join(prefix, rel) if prefix else rel] = (p.stat().st_size, _file_reader(p))


def _page_tree(path: Path, label: str) -> Tree:
    if not path.is_file():
        raise NotionError(label, None, "읽을 수 있는 파일이 아닙니다")
    files = {nfc(label): (path.stat().st_size, _file_reader(path))}
    assets = path.with_suffix("")
    if assets.is_dir():
        _add_dir(files, assets, nfc(posixpath.join(posixpath.dirname(label), assets.name)), label)
    return Tree(label, files)


def _dir_tree(path: Path, label: str) -> Tree:
    files: dict = {}
    _add_dir(files, path, "", label)
    tree = Tree(label.rstrip("/"), {})
    for rel, entry in files.items():
        tree.files[posixpath.join(tree.label, rel)] = entry
    _expand_zips(tree)
    return _non_empty(tree)


def _zip_tree(path: Path, label: str) -> Tree:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise NotionError(label, None, f"zip 파일을 열 수 없습니다 (깨졌거나 zip이 아닙니다): {exc}") from None
    tree = Tree(label, {})
    _add_zip(tree, archive, "", label, 0)
    return _non_empty(tree)


def _add_zip(tree: Tree, archive: zipfile.ZipFile, prefix: str, label: str, depth: int) -> None:
    total = sum(info.file_size for info in archive.infolist())
    if total > MAX_EXPORT_BYTES:
        raise NotionError(label, None, f"압축을 풀면 너무 큽니다: {total:,} 바이트 (제한 {MAX_EXPORT_BYTES // 2**20} MB)")
    for info in archive.infolist():
        if info.is_dir():
            continue
        name = nfc(posixpath.normpath(_member_name(info).replace("\\", "/")).lstrip("/"))
        if name.startswith("../"):
            raise NotionError(label, None, f"zip 안의 경로가 폴더 밖을 가리킵니다: {info.filename!r}")
        full = posixpath.join(prefix, name) if prefix else name
        if name.lower().endswith(".zip") and depth < MAX_ZIP_DEPTH:  # Part-N.zip of a large export
            inner_label = f"{label}:{full}"
            data = _read_member(archive, info, label)
            try:
                inner = zipfile.ZipFile(io.BytesIO(data))
            except zipfile.BadZipFile as exc:
                raise NotionError(inner_label, None, f"zip 파일을 열 수 없습니다 (깨졌습니다): {exc}") from None
            _add_zip(tree, inner, posixpath.dirname(full), inner_label, depth + 1)
            continue
        tree.files[full] = (info.file_size, lambda a=archive, i=info: _read_member(a, i, label))


def _member_name(info: zipfile.ZipInfo) -> str:
    """The name as written: zips without the UTF-8 flag (some archivers) hold UTF-8 read as CP437."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, label: str) -> bytes:
    if info.file_size > MAX_FILE_BYTES:
        raise NotionError(f"{label}:{info.filename}", None, f"파일이 너무 큽니다: {info.file_size:,} 바이트")
    try:
        with archive.open(info) as f:
            return f.read(MAX_FILE_BYTES + 1)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:  # CRC error, truncated, encrypted
        raise NotionError(f"{label}:{info.filename}", None, f"zip에서 읽을 수 없습니다 (깨졌습니다): {exc}") from None


def _expand_zips(tree: Tree) -> None:
    """Part-N.zip files lying in an unpacked export folder."""
    for path in [p for p in tree.files if p.lower().endswith(".zip")]:
        size, reader = tree.files.pop(path)
        try:
            inner = zipfile.ZipFile(io.BytesIO(reader()))
        except (zipfile.BadZipFile, OSError) as exc:
            raise NotionError(path, None, f"zip 파일을 열 수 없습니다 (깨졌습니다): {exc}") from None
        _add_zip(tree, inner, posixpath.dirname(path), path, 1)


def _non_empty(tree: Tree) -> Tree:
    if not tree.pages():
        raise NotionError(tree.label, None, "내보내기에 페이지(.md 파일)가 없습니다: Notion에서 'Markdown & CSV'로 내보냈는지 확인해 주세요")
    return tree


# --- a page's text ----------------------------------------------------------------------


def page_text(data: bytes, label: str) -> str:
    """A page's bytes -> its text (LF line ends, no BOM), or :class:`NotionError` naming the line."""
    if len(data) > MAX_PAGE_BYTES:
        raise NotionError(
            label, None, f"파일이 너무 큽니다: {len(data):,}+ 바이트 (제한 {MAX_PAGE_BYTES // 2**20} MB = {MAX_PAGE_BYTES:,} 바이트)"
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise NotionError(label, 1, "UTF-16 파일입니다. UTF-8로 바꿔 주세요: iconv -f utf-16 -t utf-8")
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise NotionError(label, line, "NUL 바이트가 있습니다: 텍스트가 아닌(바이너리) 파일로 보입니다")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        hint = ""
        try:
            data.decode("cp949")
            name = posixpath.basename(label)
            stem = name.rsplit(".", 1)[0]
            hint = f" CP949(EUC-KR)로 보입니다. 변환: iconv -f cp949 -t utf-8 '{name}' > '{stem}.utf8.md'"
        except UnicodeDecodeError:
            pass
        raise NotionError(label, line, f"UTF-8이 아닙니다 (바이트 0x{data[exc.start]:02x}).{hint}") from None
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise NotionError(label, None, "빈 파일입니다")
    for n, line in enumerate(text.split("\n"), 1):
        if len(line) > MAX_LINE_CHARS:
            raise NotionError(
                label, n, f"줄이 너무 깁니다: {len(line):,}자 (제한 {MAX_LINE_CHARS:,}자). 문단을 나누거나 코드 블록을 파일로 옮겨 주세요"
            )
    return text


def read_page(tree: Tree, path: str) -> str:
    size = tree.size(path)
    if size > MAX_PAGE_BYTES:
        raise NotionError(
            tree.where(path), None, f"파일이 너무 큽니다: {size:,} 바이트 (제한 {MAX_PAGE_BYTES // 2**20} MB = {MAX_PAGE_BYTES:,} 바이트)"
        )
    return page_text(tree.read(path), tree.where(path))
