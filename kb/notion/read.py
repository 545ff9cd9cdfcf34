"""Reading an export: a page ``.md``, an export folder, or Notion's ``Export-….zip``.

Every source becomes a :class:`~.archive.Tree`: the export's files by path (``/``-separated, NFC),
read on demand. Zips (a wrapper folder ``<workspace>_Export-<uuid>/``, nested ``…Part-N.zip``; any
other ``.zip`` is an attached file) are
:mod:`.archive`'s job, within one budget for the whole export. Pages are the ``.md`` files of the
tree; a database export's ``Name <id>.csv`` is not needed (every row is also a page with its
properties). A single page brings its sibling folder (``Title <id>/``, its images and attachments).

This module owns the folders: a folder export, and a single page with its ``Title <id>/`` folder.
The PATH given on the command line is the user's and is followed if it is a link; inside the
export, no link is followed, not even one to another file of the export (Notion never writes
links, and a link that stays inside today can be changed to point out before it is read): a
symlink, a Windows junction, a FIFO or device file is refused with its
path. A file is opened without following links (``O_NOFOLLOW`` where the system has it) and is
read only if it is still the file that was listed (same device and inode), so a file swapped for
a link between listing and reading is refused too, also where ``O_NOFOLLOW`` does not exist.

Limits, each refused with a message naming the file: a page over :data:`MAX_PAGE_BYTES`, any file
over :data:`MAX_FILE_BYTES`, an export over :data:`~.archive.MAX_EXPORT_BYTES` unpacked, more than
:data:`~.archive.MAX_ENTRIES` files, a line over :data:`MAX_LINE_CHARS` characters. A page must be
UTF-8 text (CP949 gets the ``iconv`` command). Two names that differ only in Unicode
normalisation (NFC/NFD) are refused with both.
"""

from __future__ import annotations

import os
import posixpath
import re
import stat
from pathlib import Path
from typing import IO, Callable

from .archive import MAX_FILE_BYTES, Budget, Tree, add_zip, is_part, nfc, open_zip
from .messages import NotionError

MAX_PAGE_BYTES = 5 * 1024 * 1024
MAX_LINE_CHARS = 20_000
_NOTION_ID_RE = re.compile(r"[ _-]?[0-9a-f]{32}$")
# Windows: symlinks and junctions (not every reparse point: OneDrive's placeholders are files)
_LINK_TAGS = {getattr(stat, "IO_REPARSE_TAG_SYMLINK", 0xA000000C), getattr(stat, "IO_REPARSE_TAG_MOUNT_POINT", 0xA0000003)}
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)  # not on Windows: the inode check below still holds
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)  # a FIFO must not block


def page_name(path: str) -> str:
    """'Export/3 10 회의록 0123…cdef.md' -> '3 10 회의록' (the title as a file name, id dropped)."""
    stem = posixpath.basename(path).removesuffix(".md")
    return _NOTION_ID_RE.sub("", stem) or stem


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


def _is_link(st: os.stat_result) -> bool:
    return stat.S_ISLNK(st.st_mode) or getattr(st, "st_reparse_tag", 0) in _LINK_TAGS


def _refuse_link(path: Path, where: str) -> NotionError:
    try:
        target = f" ({os.readlink(path)!r}를 가리킴)"
    except (OSError, ValueError):
        target = ""
    return NotionError(
        where, None, f"심볼릭 링크(symbolic link)입니다{target}: 내보내기 밖의 파일을 가리킬 수 있어 읽지 않습니다. 링크를 지우거나 실제 파일로 바꿔 주세요"
    )


def _open(path: Path, listed: os.stat_result, where: str, *, follow: bool = False) -> IO[bytes]:
    """``path`` opened for reading if it is still the regular file that was listed."""
    if not follow and _is_link(os.lstat(path)):
        raise _refuse_link(path, where)
    try:
        fd = os.open(path, _OPEN_FLAGS | (0 if follow else _NOFOLLOW))
    except OSError:
        if not follow and _is_link(os.lstat(path)):  # swapped for a link just now (ELOOP)
            raise _refuse_link(path, where) from None
        raise
    f = os.fdopen(fd, "rb")
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or (st.st_dev, st.st_ino) != (listed.st_dev, listed.st_ino):
        f.close()
        raise NotionError(where, None, "목록을 만든 뒤 다른 파일(링크 등)로 바뀌었습니다: 읽지 않습니다")
    return f


def _file_reader(path: Path, listed: os.stat_result, where: str, *, follow: bool = False) -> Callable[[], bytes]:
    def read() -> bytes:
        with _open(path, listed, where, follow=follow) as f:
            data = f.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise NotionError(where, None, f"파일이 너무 큽니다: {len(data):,}+ 바이트 (제한 {MAX_FILE_BYTES // 2**20} MB)")
        return data

    return read


def _walk(folder: Path, shown: str, budget: Budget) -> list[tuple[str, Path, os.stat_result]]:
    """The regular files under ``folder`` (relative path, path, lstat), links refused."""
    found, todo = [], [(folder, "")]
    while todo:
        here, rel = todo.pop()
        with os.scandir(here) as it:
            entries = sorted(it, key=lambda e: e.name)
        budget.entries(len(entries), posixpath.join(shown, rel) if rel else shown)
        for entry in entries:
            sub = posixpath.join(rel, entry.name) if rel else entry.name
            where = posixpath.join(shown, sub)
            st = os.lstat(entry.path)  # not entry.stat(): on Windows its st_ino is always 0
            if _is_link(st):
                raise _refuse_link(Path(entry.path), where)
            if stat.S_ISDIR(st.st_mode):
                todo.append((Path(entry.path), sub))
            elif stat.S_ISREG(st.st_mode):
                found.append((sub, Path(entry.path), st))
            else:
                raise NotionError(where, None, "일반 파일이 아닙니다 (FIFO, 장치 파일 등): 읽지 않습니다")
    return found


def _add_dir(tree: Tree, folder: Path, prefix: str, budget: Budget) -> None:
    for rel, path, st in sorted(_walk(folder, prefix, budget)):
        full, where = nfc(posixpath.join(prefix, rel)), posixpath.join(prefix, rel)
        if is_part(rel):  # Part-N.zip lying in an unpacked export folder; other zips are files
            budget.part(where)
            archive = open_zip(_open(path, st, where), where)
            tree.keep.append(archive)
            add_zip(tree, archive, posixpath.dirname(full), where, 1, budget)
            continue
        tree.add(full, st.st_size, _file_reader(path, st, where), where)


def _page_tree(path: Path, label: str) -> Tree:
    if not path.is_file():
        raise NotionError(label, None, "읽을 수 있는 파일이 아닙니다")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        raise NotionError(
            label, None, "데이터베이스의 CSV 파일입니다: 페이지는 같은 내보내기의 .md 파일에 있습니다. 내보내기 폴더나 zip 전체를 주세요"
        )
    if suffix != ".md":
        raise NotionError(
            label, None, f"Notion 페이지(.md)가 아닙니다 ({suffix or '확장자 없음'}): 'Markdown & CSV'로 내보낸 .md 파일, 그 폴더나 zip을 주세요"
        )
    tree = Tree(label, {})
    tree.add(nfc(label), path.stat().st_size, _file_reader(path, path.stat(), label, follow=True), label)
    assets = path.with_suffix("")
    shown = posixpath.join(posixpath.dirname(label), assets.name)
    try:
        st = os.lstat(assets)
    except FileNotFoundError:
        return tree
    if _is_link(st):
        raise _refuse_link(assets, shown)
    if stat.S_ISDIR(st.st_mode):
        _add_dir(tree, assets, shown, Budget())
    return tree


def _dir_tree(path: Path, label: str) -> Tree:
    tree = Tree(label.rstrip("/") or label, {})
    _add_dir(tree, path, tree.label, Budget())
    return _non_empty(tree)


def _zip_tree(path: Path, label: str) -> Tree:
    tree = Tree(label, {})
    add_zip(tree, open_zip(path, label), "", label, 0, Budget())
    return _non_empty(tree)


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
