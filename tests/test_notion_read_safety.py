"""Reading an export safely (issue #22 items 3, 4, 6 and 10): links, zip bombs, NFC/NFD names and
inputs that are not an export each end as a clear error naming the file, with nothing written.

Every hostile export is built here in tmp_path: real symlinks (os.symlink), real zips (zipfile; a
symlink entry is a member whose external_attr holds S_IFLNK). The zip bomb runs in a subprocess
under an address-space limit and a timeout, so that a reader that holds it in memory fails the
test instead of taking the machine's memory.
"""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
import time
import unicodedata
import zipfile
import zlib
from pathlib import Path

import pytest

from conftest import ROOT
from notion_cli import kb_main as run_kb
from notion_cli import snapshot
from test_notion_bad_input import docs  # noqa: F401  (the fixture: docs/ with meetings/keep.md)

PAGE = "7 16 회의록 0123456789abcdef0123456789abcdef"
HEAD = "# 7/16 회의록\n\n작성일시: 2021년 7월 16일 오후 3:52\n작성자: 김민지\n회의 유형: 정기 회의\n\n"
IMAGE = "![그림](7%2016%20%ED%9A%8C%EC%9D%98%EB%A1%9D%200123456789abcdef0123456789abcdef/a.png)\n"
NFC_NAME = unicodedata.normalize("NFC", "회의.png")
NFD_NAME = unicodedata.normalize("NFD", "회의.png")


def refused(src: Path, docs: Path, *parts: str) -> str:
    before = snapshot(docs)
    result = run_kb("import-notion", src, "--docs", docs)
    assert result.returncode == 1, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr
    for part in parts:
        assert part in result.stderr, (part, result.stderr[-2000:])
    assert "아무것도 쓰지 않았습니다" in result.stderr
    assert snapshot(docs) == before
    return result.stderr


def folder_export(tmp_path: Path, body: str = IMAGE) -> Path:
    """An unpacked export: ``export/<PAGE>.md`` and its folder ``export/<PAGE>/``."""
    root = tmp_path / "export"
    (root / PAGE).mkdir(parents=True)
    (root / f"{PAGE}.md").write_text(HEAD + body, encoding="utf-8")
    return root


def symlink(target, link: Path, *, directory: bool = False) -> None:
    try:
        os.symlink(target, link, target_is_directory=directory)
    except (OSError, NotImplementedError) as exc:  # Windows without the symlink privilege
        pytest.skip(f"this system cannot make a symlink: {exc}")


# --- item 3: links ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["outside file", "etc passwd", "dangling", "inside the export"])
def test_a_symlinked_image_in_a_folder_export_is_refused_with_its_path(tmp_path, docs, kind):
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"SECRET not part of the export\n")
    root = folder_export(tmp_path)
    (root / PAGE / "real.png").write_bytes(b"\x89PNG\r\n")
    target = {
        "outside file": secret,
        "etc passwd": Path("/etc/passwd"),
        "dangling": tmp_path / "gone.png",
        "inside the export": Path("real.png"),  # documented choice: no link is followed
    }[kind]
    if kind == "etc passwd" and not target.exists():
        pytest.skip("no /etc/passwd on this system (the outside-file case covers the same path)")
    symlink(target, root / PAGE / "a.png")
    refused(root, docs, f"{root}/{PAGE}/a.png: 심볼릭 링크(symbolic link)입니다", str(target))


def test_a_directory_symlink_loop_is_refused(tmp_path, docs):
    root = folder_export(tmp_path, "본문입니다\n")
    symlink("..", root / PAGE / "loop", directory=True)
    refused(root, docs, f"{root}/{PAGE}/loop: 심볼릭 링크(symbolic link)입니다")


def test_a_symlink_next_to_a_single_page_is_refused(tmp_path, docs):
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"SECRET\n")
    root = folder_export(tmp_path)
    symlink(secret, root / PAGE / "a.png")
    src = root / f"{PAGE}.md"
    refused(src, docs, f"{root}/{PAGE}/a.png: 심볼릭 링크(symbolic link)입니다")


def test_a_single_pages_asset_folder_that_is_a_link_out_is_refused(tmp_path, docs):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "a.png").write_bytes(b"SECRET\n")
    root = tmp_path / "export"
    root.mkdir()
    src = root / f"{PAGE}.md"
    src.write_text(HEAD + IMAGE, encoding="utf-8")
    symlink(outside, root / PAGE, directory=True)
    refused(src, docs, f"{root}/{PAGE}: 심볼릭 링크(symbolic link)입니다")


def test_a_symlink_entry_in_a_zip_is_refused(tmp_path, docs):
    src = tmp_path / "Export-1.zip"
    with zipfile.ZipFile(src, "w") as z:
        z.writestr(f"ws/{PAGE}.md", HEAD + IMAGE)
        link = zipfile.ZipInfo(f"ws/{PAGE}/a.png")
        link.create_system = 3  # Unix, as unzip reads it
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        z.writestr(link, "/etc/passwd")
    refused(src, docs, f"{src}:ws/{PAGE}/a.png: 심볼릭 링크(symbolic link)입니다")


@pytest.mark.parametrize("nofollow", [True, False], ids=["O_NOFOLLOW", "no O_NOFOLLOW (Windows)"])
def test_a_file_swapped_for_a_link_after_listing_is_not_read(tmp_path, monkeypatch, nofollow):
    from kb.notion import NotionError, read

    if not nofollow:
        monkeypatch.setattr(read, "_NOFOLLOW", 0)
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"SECRET\n")
    root = folder_export(tmp_path)
    image = root / PAGE / "a.png"
    image.write_bytes(b"\x89PNG\r\n")
    tree = read.load(root, str(root))
    image.unlink()
    symlink(secret, image)
    with pytest.raises(NotionError) as err:
        tree.read(f"{root}/{PAGE}/a.png")
    assert str(err.value).startswith(f"{root}/{PAGE}/a.png: ")
    assert "SECRET" not in str(err.value)


# --- item 4: one budget for the whole export ------------------------------------------------


def run_limited(*args, limit: int = 3 * 2**29, timeout: float = 90) -> subprocess.CompletedProcess:
    """``python -m kb ARGS`` in a subprocess that may map at most ``limit`` bytes (1.5 GiB)."""
    code = (
        "import resource, runpy, sys\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))\n"
        "sys.argv = ['kb', *sys.argv[1:]]\n"
        "runpy.run_module('kb', run_name='__main__')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, args)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS is enforced only on Linux; without it the bomb would take the machine's memory")
def test_nested_part_zips_share_one_budget(tmp_path, docs):
    # Part zip, stored: one 50 MB file of zeros (just under the per-file limit) -> 50 KB deflated
    part = io.BytesIO()
    with zipfile.ZipFile(part, "w", zipfile.ZIP_STORED) as z:
        z.writestr("zeros.bin", bytes(50 * 2**20 - 4096))
    middle = io.BytesIO()  # ten of them: 500 MB, under the old per-archive limit of 512 MB
    with zipfile.ZipFile(middle, "w", zipfile.ZIP_DEFLATED) as z:
        for k in range(10):
            z.writestr(f"m{k}/Part-{k}.zip", part.getvalue())  # a folder each: no two zeros.bin collide
    src = tmp_path / "Export-1.zip"  # four of those: 2 GB unpacked from about 2 MB
    with zipfile.ZipFile(src, "w", zipfile.ZIP_STORED) as z:
        z.writestr(f"ws/{PAGE}.md", HEAD + "본문입니다\n")
        for k in range(4):
            z.writestr(f"p{k}/Part-{k}.zip", middle.getvalue())
    assert src.stat().st_size < 4 * 2**20
    before = snapshot(docs)
    start = time.monotonic()
    result = run_limited("import-notion", src, "--docs", docs)
    assert time.monotonic() - start < 60
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and "MemoryError" not in result.stderr
    assert f"{src}:p0/Part-0.zip:m" in result.stderr and "압축을 풀면 너무 큽니다" in result.stderr, result.stderr[-2000:]
    assert snapshot(docs) == before


def test_a_bzip2_member_whose_header_lies_about_its_size_is_refused(tmp_path, docs):
    # bzip2 unpacks 45 MB of zeros from 40 bytes: one read of zipfile's (4 KB) could unpack
    # gigabytes before any count could stop it, so a bzip2 member is refused before it is unpacked.
    # Its central directory record says 1,000 bytes (CRC to match), the stream holds 50 MB.
    src = tmp_path / "Export-1.zip"
    name = f"ws/{PAGE}/a.png"
    with zipfile.ZipFile(src, "w") as z:
        z.writestr(f"ws/{PAGE}.md", HEAD + IMAGE, zipfile.ZIP_STORED)
        z.writestr(name, bytes(50 * 2**20), zipfile.ZIP_BZIP2)
    data = bytearray(src.read_bytes())
    record = data.rindex(b"PK\x01\x02")  # the last central directory record: the image
    assert bytes(data[record + 46 : record + 46 + len(name.encode())]) == name.encode()
    data[record + 16 : record + 20] = zlib.crc32(bytes(1000)).to_bytes(4, "little")  # CRC-32
    data[record + 24 : record + 28] = (1000).to_bytes(4, "little")  # uncompressed size
    src.write_bytes(bytes(data))
    with zipfile.ZipFile(src) as z:
        assert (z.getinfo(name).file_size, z.getinfo(name).compress_type) == (1000, zipfile.ZIP_BZIP2)
    refused(src, docs, f"{src}:{name}: zip 압축 방식 12번은 읽지 않습니다")


# --- item 6: names that differ only in Unicode normalisation ---------------------------------


def test_zip_members_that_differ_only_in_nfc_nfd_are_refused_with_both_names(tmp_path, docs):
    src = tmp_path / "Export-1.zip"
    with zipfile.ZipFile(src, "w") as z:
        z.writestr(f"ws/{PAGE}.md", HEAD + "![a](7%2016%20%ED%9A%8C%EC%9D%98%EB%A1%9D%200123456789abcdef0123456789abcdef/%ED%9A%8C%EC%9D%98.png)\n")
        z.writestr(f"ws/{PAGE}/{NFC_NAME}", b"first")
        z.writestr(f"ws/{PAGE}/{NFD_NAME}", b"second")
    err = refused(src, docs, "유니코드 정규화(NFC/NFD)만 다른 파일이 둘", f"{src}:ws/{PAGE}/{NFC_NAME}: ")
    assert f"/{NFC_NAME}' (NFC)" in err and f"/{NFD_NAME}' (NFD)" in err


def test_folder_pages_that_differ_only_in_nfc_nfd_are_refused_with_both_names(tmp_path, docs):
    root = tmp_path / "export"
    root.mkdir()
    first, second = root / f"{NFC_NAME[:2]} 7 16.md", root / f"{NFD_NAME[:-4]} 7 16.md"
    first.write_text(HEAD + "첫째\n", encoding="utf-8")
    second.write_text(HEAD + "둘째\n", encoding="utf-8")
    if len(list(root.iterdir())) != 2:
        pytest.skip("this file system treats NFC and NFD names as one (APFS, HFS+): both cannot exist")
    err = refused(root, docs, "유니코드 정규화(NFC/NFD)만 다른 파일이 둘")
    assert "(NFC)" in err and "(NFD)" in err


# --- item 10: inputs that are not an export ------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        (f"회의록 DB {'0' * 32}.csv", "이름,날짜\n7/16 회의록,2021년 7월 16일\n", "데이터베이스의 CSV 파일입니다"),
        ("notes.txt", "메모\n", "Notion 페이지(.md)가 아닙니다 (.txt)"),
        ("page.pdf", b"%PDF-1.4\n\x00\xff\xfe", "Notion 페이지(.md)가 아닙니다 (.pdf)"),
        ("page.html", "<html><body>회의</body></html>", "Notion 페이지(.md)가 아닙니다 (.html)"),
    ],
    ids=["database csv", "txt", "pdf", "html"],
)
def test_a_file_that_is_not_a_page_is_refused_by_name(tmp_path, docs, name, data, message):
    src = tmp_path / name
    src.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    refused(src, docs, f"{src}: {message}")


def zip_with_raw_name(path: Path, raw: bytes, *, utf8_flag: bool) -> None:
    """A zip whose second member is named by ``raw`` (bytes zipfile would not write itself); a
    non-ASCII placeholder of the same length makes zipfile set the UTF-8 flag."""
    placeholder = (f"ws/가{'X' * (len(raw) - 6)}" if utf8_flag else f"ws/{'X' * (len(raw) - 3)}").encode()
    assert len(placeholder) == len(raw)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(f"ws/{PAGE}.md", HEAD + "본문입니다\n")
        z.writestr(placeholder.decode(), b"x")
    data = path.read_bytes()
    assert data.count(placeholder) == 2  # local header and central directory
    path.write_bytes(data.replace(placeholder, raw))


@pytest.mark.parametrize(
    ("raw", "utf8_flag", "message"),
    [
        (b"ws/\xff\xfe.png", True, "zip 안의 파일 이름이 UTF-8이 아닙니다: b'ws/\\xff\\xfe.png'"),
        (b"ws/\xed\xa0\x80.png", True, "zip 안의 파일 이름이 UTF-8이 아닙니다"),  # a surrogate, UTF-8 encoded
        ("ws/회의.png".encode("cp949"), False, "zip 안의 파일 이름이 UTF-8이 아닙니다 (CP949 등으로"),
        (b"ws/a\x00b.png", False, "zip 안의 파일 이름에 쓸 수 없는 문자(NUL 등)가 있습니다: 'ws/a\\x00b.png'"),
    ],
    ids=["utf8 flag, bad bytes", "utf8 flag, surrogate", "cp949 without the flag", "NUL"],
)
def test_a_zip_member_name_with_a_bad_byte_is_refused_by_name(tmp_path, docs, raw, utf8_flag, message):
    src = tmp_path / "Export-1.zip"
    zip_with_raw_name(src, raw, utf8_flag=utf8_flag)
    refused(src, docs, f"{src}: {message}")
