"""An export's files as a :class:`Tree`, and its zips read within one budget.

Owns the tree (paths ``/``-separated, NFC, each file once) and everything read from a zip:
Notion's ``Export-….zip`` and the ``Part-N.zip`` files a large export holds (nested at most
:data:`MAX_ZIP_DEPTH` deep, at most :data:`MAX_PARTS` of them). Only a zip named as Notion names
its parts (:func:`is_part`: ``Export-<uuid>-Part-1.zip``, ``Part-2.zip``) is unpacked; any other
``.zip`` (an attached ``code.zip``) is a file of the export like a PDF.

One :class:`Budget` covers the whole export, every zip in it together: the bytes its members
unpack to (:data:`MAX_EXPORT_BYTES`; a ``Part-N.zip`` and the files in it both count) and the
number of entries (:data:`MAX_ENTRIES`). Declared sizes are taken from the budget before anything
is unpacked, and every member is read in chunks, counted, and refused once it passes its declared
size, so a header that lies cannot unpack more than was budgeted. A ``Part-N.zip`` is copied to a
temporary file past :data:`SPOOL_BYTES` instead of being held in memory.

Refused, each naming the member: a symlink entry (a zip can store one, and ``unzip`` makes it a
link), a name with a control character (NUL), a name that is not UTF-8, a path out of the export,
two names that differ only in Unicode normalisation (NFC/NFD, macOS writes NFD) or are the same,
an encrypted member, a compression method other than stored, deflate or LZMA (bzip2 can unpack
gigabytes from one small read, before any size check could stop it).
"""

from __future__ import annotations

import io
import posixpath
import re
import stat
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass, field
from typing import IO, Callable

from .messages import NotionError

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_EXPORT_BYTES = 512 * 1024 * 1024
MAX_ENTRIES = 20_000
MAX_ZIP_DEPTH = 2
MAX_PARTS = 64
SPOOL_BYTES = 4 * 1024 * 1024
_CHUNK = 64 * 1024
_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_LZMA}
_PART_RE = re.compile(r"(?:^|[-_ ])Part-\d{1,4}\.zip$", re.I)  # Export-<uuid>-Part-1.zip, Part-2.zip


def is_part(path: str) -> bool:
    """Whether ``path`` is one of the part archives Notion splits a large export into."""
    return bool(_PART_RE.search(posixpath.basename(path)))


def nfc(path: str) -> str:
    """A path as the tree keys it: NFC, normalised ('./a/../b' -> 'b')."""
    return posixpath.normpath(unicodedata.normalize("NFC", path))


def _form(name: str) -> str:
    return "NFC" if unicodedata.is_normalized("NFC", name) else "NFD" if unicodedata.is_normalized("NFD", name) else "NFC도 NFD도 아님"


def shown(first: str, second: str) -> str:
    """Two names in a message, each marked with the form of the part where they differ, so that
    'a/회의.png' (NFC) and 'a/회의.png' (NFD) can be told apart."""
    for a, b in zip(first.split("/"), second.split("/")):
        if a != b:
            return f"{first!r} ({_form(a)}), {second!r} ({_form(b)})"
    return f"{first!r}, {second!r}"


@dataclass
class Tree:
    """An export's files: path -> (size, reader). ``label`` names the export in messages."""

    label: str
    files: dict[str, tuple[int, Callable[[], bytes]]]
    origins: dict[str, str] = field(default_factory=dict)  # path -> the name as the export spells it
    keep: list = field(default_factory=list)  # open Part-N.zip files the readers need

    def add(self, path: str, size: int, reader: Callable[[], bytes], origin: str) -> None:
        """One file; a second file at the same NFC path is refused with both names."""
        if path in self.files:
            first = self.origins.get(path, path)
            why = "이름이 유니코드 정규화(NFC/NFD)만 다른" if first != origin else "이름이 같은"
            raise NotionError(
                self.where(path), None,
                f"{why} 파일이 둘 있어 하나를 잃게 됩니다: {shown(first, origin)}. 하나의 이름을 바꿔 주세요",
            )
        self.files[path] = (size, reader)
        self.origins[path] = origin

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


@dataclass
class Budget:
    """What one export may unpack to, all its zips together."""

    bytes_left: int = MAX_EXPORT_BYTES
    entries_left: int = MAX_ENTRIES
    parts_left: int = MAX_PARTS

    def entries(self, n: int, where: str) -> None:
        self.entries_left -= n
        if self.entries_left < 0:
            raise NotionError(where, None, f"내보내기의 파일이 너무 많습니다: zip을 모두 합쳐 {MAX_ENTRIES:,}개가 넘습니다")

    def take(self, n: int, where: str) -> None:
        self.bytes_left -= n
        if self.bytes_left < 0:
            raise NotionError(
                where, None,
                f"압축을 풀면 너무 큽니다: 내보내기 전체(안의 zip 포함)가 {MAX_EXPORT_BYTES // 2**20} MB를 넘습니다",
            )

    def part(self, where: str) -> None:
        self.parts_left -= 1
        if self.parts_left < 0:
            raise NotionError(where, None, f"내보내기 안의 zip이 너무 많습니다: {MAX_PARTS}개가 넘습니다")


def open_zip(file: str | IO[bytes], where: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(file)
    except UnicodeDecodeError as exc:  # the UTF-8 flag is set but a name is not UTF-8
        raise NotionError(where, None, f"zip 안의 파일 이름이 UTF-8이 아닙니다: {exc.object!r}") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise NotionError(where, None, f"zip 파일을 열 수 없습니다 (깨졌거나 zip이 아닙니다): {exc}") from None


def add_zip(tree: Tree, archive: zipfile.ZipFile, prefix: str, label: str, depth: int, budget: Budget) -> None:
    """The members of ``archive`` into ``tree`` under ``prefix``; ``label`` names the archive."""
    infos = archive.infolist()
    budget.entries(len(infos), label)
    budget.take(sum(info.file_size for info in infos), label)
    for info in infos:
        name = member_name(info, label)
        if info.is_dir():
            continue
        where = f"{label}:{name}"
        if stat.S_ISLNK(info.external_attr >> 16):
            raise NotionError(where, None, "심볼릭 링크(symbolic link)입니다: 내보내기 밖의 파일을 가리킬 수 있어 읽지 않습니다")
        full = posixpath.join(prefix, nfc(name)) if prefix else nfc(name)
        if is_part(name) and depth < MAX_ZIP_DEPTH:  # Part-N.zip of a large export; other zips are files
            budget.part(where)
            spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
            tree.keep.append(spool)
            read_member(archive, info, where, spool)
            spool.seek(0)
            add_zip(tree, open_zip(spool, where), posixpath.dirname(full), where, depth + 1, budget)
            continue
        origin = posixpath.join(prefix, name) if prefix else name
        tree.add(full, info.file_size, lambda a=archive, i=info, w=where: _read_bytes(a, i, w), origin)


def member_name(info: zipfile.ZipInfo, label: str) -> str:
    """The member's path inside its zip, or :class:`NotionError` for a name that cannot be one.

    Zips without the UTF-8 flag (some archivers) hold UTF-8 that zipfile reads as CP437."""
    raw = info.orig_filename
    if any(ord(c) < 0x20 or ord(c) == 0x7F or 0xD800 <= ord(c) <= 0xDFFF for c in raw):
        raise NotionError(label, None, f"zip 안의 파일 이름에 쓸 수 없는 문자(NUL 등)가 있습니다: {raw!r}")
    name = raw
    if not info.flag_bits & 0x800:
        try:
            name = raw.encode("cp437").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            raise NotionError(
                label, None,
                f"zip 안의 파일 이름이 UTF-8이 아닙니다 (CP949 등으로 압축한 것 같습니다): {raw.encode('cp437', 'replace')!r}. "
                "Notion에서 받은 zip을 그대로 쓰거나, 이름을 UTF-8로 쓰는 프로그램으로 다시 압축해 주세요",
            ) from None
    name = posixpath.normpath(name.replace("\\", "/")).lstrip("/")
    if name == ".." or name.startswith("../"):
        raise NotionError(label, None, f"zip 안의 경로가 폴더 밖을 가리킵니다: {raw!r}")
    return name


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: str, out: IO[bytes]) -> None:
    """Copy a member to ``out`` in chunks, never more than it declared or :data:`MAX_FILE_BYTES`."""
    if info.file_size > MAX_FILE_BYTES:
        raise NotionError(where, None, f"파일이 너무 큽니다: {info.file_size:,} 바이트 (제한 {MAX_FILE_BYTES // 2**20} MB)")
    if info.flag_bits & 0x1:
        raise NotionError(where, None, "암호가 걸린 zip 항목은 읽지 않습니다: 암호 없이 다시 내보내 주세요")
    if info.compress_type not in _METHODS:
        raise NotionError(
            where, None,
            f"zip 압축 방식 {info.compress_type}번은 읽지 않습니다 (stored, deflate, LZMA만 읽습니다): Notion에서 받은 zip을 그대로 써 주세요",
        )
    count = 0
    try:
        with archive.open(info) as f:
            while chunk := f.read(_CHUNK):
                count += len(chunk)
                if count > info.file_size:  # zipfile stops there too; this does not rely on it
                    raise NotionError(where, None, f"zip 헤더에 적힌 크기({info.file_size:,} 바이트)보다 큽니다: 깨졌거나 조작된 zip입니다")
                out.write(chunk)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError) as exc:  # CRC error, truncated
        raise NotionError(where, None, f"zip에서 읽을 수 없습니다 (깨졌습니다): {exc}") from None


def _read_bytes(archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> bytes:
    out = io.BytesIO()
    read_member(archive, info, where, out)
    return out.getvalue()

