"""Exports the importer must refuse, each with a clear error naming the file (and the line where
there is one) and nothing written; and inputs that once hung or crashed it.

Each export is made here in tmp_path, in the shape Notion writes (``Title <id>.md`` with a sibling
folder), so the expected messages are read off these few lines.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from conftest import DOCS
from notion_cli import kb_main as run_kb
from notion_cli import snapshot

PAGE = "7 16 회의록 0123456789abcdef0123456789abcdef"
HEAD = "# 7/16 회의록\n\n작성일시: 2021년 7월 16일 오후 3:52\n작성자: 김민지\n회의 유형: 정기 회의\n\n"  # body from line 7



@pytest.fixture
def docs(tmp_path) -> Path:
    d = tmp_path / "docs"
    (d / "meetings").mkdir(parents=True)
    (d / "meetings/keep.md").write_text("untouched\n", encoding="utf-8")
    return d


def page(tmp_path: Path, body: str | bytes, name: str = PAGE) -> Path:
    src = tmp_path / "export" / f"{name}.md"
    src.parent.mkdir(exist_ok=True)
    src.write_bytes(body if isinstance(body, bytes) else (HEAD + body).encode("utf-8"))
    return src


def refused(src: Path, docs: Path, *parts: str, args=()) -> str:
    before = snapshot(docs)
    result = run_kb("import-notion", src, "--docs", docs, *args)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    for part in parts:
        assert part in result.stderr, (part, result.stderr[-2000:])
    assert snapshot(docs) == before
    return result.stderr


def test_missing_asset_names_the_line(tmp_path, docs):
    src = page(tmp_path, "Q1. 그림?\n\n![Untitled](7%2016%20%ED%9A%8C%EC%9D%98%EB%A1%9D%200123456789abcdef0123456789abcdef/Untitled.png)\n")
    refused(src, docs, f"{src}:9: ", "이미지가 가리키는 파일이 내보내기에 없습니다", "Untitled.png")


def test_zip_with_no_page(tmp_path, docs):
    src = tmp_path / "Export-1.zip"
    with zipfile.ZipFile(src, "w") as z:
        z.writestr("ws_Export-1/image.png", b"\x89PNG")
    refused(src, docs, f"{src}: ", "페이지(.md 파일)가 없습니다")


def test_broken_zip(tmp_path, docs):
    src = tmp_path / "Export-1.zip"
    src.write_bytes(b"PK\x03\x04 this is not really a zip")
    refused(src, docs, f"{src}: ", "zip 파일을 열 수 없습니다")


def test_broken_part_zip_inside_the_export(tmp_path, docs):
    src = tmp_path / "Export-1.zip"
    with zipfile.ZipFile(src, "w") as z:
        z.writestr("Part-1.zip", b"PK\x03\x04 truncated")
    refused(src, docs, f"{src}:Part-1.zip: ", "zip 파일을 열 수 없습니다")


def test_zip_member_with_a_bad_crc(tmp_path, docs):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr(f"ws/{PAGE}.md", (HEAD + "본문입니다\n").encode())
    data = bytearray(buf.getvalue())
    data[data.index("본문".encode())] ^= 0xFF  # corrupt a stored byte: the CRC no longer matches
    src = tmp_path / "Export-1.zip"
    src.write_bytes(bytes(data))
    refused(src, docs, f"{src}:ws/{PAGE}.md", "깨졌습니다")


def test_cp949_page_names_the_line_and_gives_the_iconv_command(tmp_path, docs):
    src = page(tmp_path, (HEAD + "Q1. 질문?\n").encode("cp949"))
    refused(src, docs, f"{src}:1: UTF-8이 아닙니다", "iconv -f cp949 -t utf-8")


def test_empty_page(tmp_path, docs):
    refused(page(tmp_path, b""), docs, "빈 파일입니다")


def test_50_mb_page_is_refused_before_it_is_read(tmp_path, docs):
    src = page(tmp_path, b"")
    with src.open("r+b") as f:
        f.truncate(50 * 1024 * 1024)  # sparse: 50 MB without writing them
    refused(src, docs, f"{src}: 파일이 너무 큽니다: 52,428,800 바이트", "제한 5 MB")


def test_200_kb_line_is_refused_with_its_line(tmp_path, docs):
    src = page(tmp_path, "짧은 줄\n\n" + "가" * 200_000 + "\n")
    refused(src, docs, f"{src}:9: 줄이 너무 깁니다: 200,000자 (제한 20,000자)")


@pytest.mark.parametrize("line", ["a" * 19_000, "[" * 19_000, "![" * 9_000, "a $" * 6_000, "<" * 19_000, "x `````" + "x" * 18_000])
def test_long_lines_under_the_limit_import(tmp_path, docs, line):
    """Each once made the importer quadratic (a 20 KB word took 21.6 s); run_kb's timeout (120 s)
    stops a hang, and `make bench` measures the time."""
    src = page(tmp_path, f"Q1. 긴 줄?\n\n{line}\n")
    result = run_kb("import-notion", src, "--docs", docs)
    assert result.returncode == 0, result.stderr[-2000:]


def test_overlong_question_number(tmp_path, docs):
    src = page(tmp_path, "Q12345678901234567890. 질문?\n")
    refused(src, docs, f"{src}:7: 질문 번호가 너무 깁니다")


def test_overlong_slug_is_a_usage_error(tmp_path, docs):
    src = page(tmp_path, "Q1. 질문?\n")
    result = run_kb("import-notion", src, "--docs", docs, "--slug", "Q1=" + "a" * 300)
    assert result.returncode == 2 and "--slug가 너무 깁니다" in result.stderr and "Traceback" not in result.stderr


def test_non_utf8_glossary(tmp_path, docs):
    (docs / "glossary.md").write_bytes("| 영문 | 한글 | 비고 |\n|---|---|---|\n| momentum | 모멘텀 | |\n".encode("cp949"))
    src = page(tmp_path, "Q1. 질문?\n")
    refused(src, docs, f"{docs / 'glossary.md'}:1: 용어집이 UTF-8이 아닙니다")


def test_a_folder_named_like_a_page_is_not_read_as_one(tmp_path, docs):
    folder = tmp_path / "export" / "폴더.md"
    folder.mkdir(parents=True)
    refused(tmp_path / "export", docs, "페이지(.md 파일)가 없습니다")
    src = page(tmp_path, "Q1. 질문?\n")  # with a real page beside it, only the page is imported
    result = run_kb("import-notion", src.parent, "--docs", docs)
    assert result.returncode == 0, result.stderr
    assert (docs / "meetings/2021-07-16.md").is_file()


def test_unreadable_export_is_a_clear_error(tmp_path, docs):
    link = tmp_path / "gone.md"
    link.symlink_to(tmp_path / "nowhere.md")
    result = run_kb("import-notion", link, "--docs", docs)
    assert result.returncode == 2 and "내보내기 파일이 없습니다" in result.stderr and "Traceback" not in result.stderr


def test_zero_width_space_does_not_hide_a_question(tmp_path, docs):
    src = page(tmp_path, "Q\u200b1. 숨은 질문?\n\n답입니다.\n")
    result = run_kb("import-notion", src, "--docs", docs)
    assert result.returncode == 0, result.stderr
    assert (docs / "qna/2021-07-16-q1.md").is_file()


def test_unclosed_callout_names_its_line(tmp_path, docs):
    src = page(tmp_path, "앞 문단\n\n<aside>\n💡 닫히지 않은 콜아웃\n")
    refused(src, docs, f"{src}:9: 콜아웃(<aside>)이 열린 뒤 닫히지 않았습니다")


def test_table_row_that_never_closes_names_its_line(tmp_path, docs):
    src = page(tmp_path, "| a | b |\n| --- | --- |\n| 1 | 둘째 칸이\n\n끝나지 않음\n")
    refused(src, docs, f"{src}:9: 표의 행이 닫히지 않았습니다")


def test_two_pages_for_one_date_are_refused(tmp_path, docs):
    page(tmp_path, "첫째\n")
    page(tmp_path, "둘째\n", name="7 16 회의록 사본 fedcba9876543210fedcba9876543210")
    refused(tmp_path / "export", docs, "회의 날짜 2021-07-16가", "같습니다")


def test_real_glossary_is_still_read(tmp_path, docs):
    (docs / "glossary.md").write_bytes((DOCS / "glossary.md").read_bytes())
    src = page(tmp_path, "Q1. momentum은 무엇인가요?\n")
    result = run_kb("import-notion", src, "--docs", docs)
    assert result.returncode == 0, result.stderr


def test_undated_sub_page_of_a_folder_export_is_listed_not_imported(tmp_path, docs):
    src = page(tmp_path, f"[참고 노트]({PAGE.replace(' ', '%20')}/%EC%B0%B8%EA%B3%A0%20%EB%85%B8%ED%8A%B8%20abcdefabcdefabcdefabcdefabcdefab.md)\n")
    sub = src.with_suffix("") / "참고 노트 abcdefabcdefabcdefabcdefabcdefab.md"
    sub.parent.mkdir()
    sub.write_text("# 참고 노트\n\n날짜 없는 메모입니다.\n", encoding="utf-8")
    result = run_kb("import-notion", src.parent, "--docs", docs)
    assert result.returncode == 0, result.stderr
    assert "회의 날짜를 정할 수 없어 가져오지 않은 페이지" in result.stderr and f"{sub}:1: " in result.stderr
    assert "경고: 7 16 회의록.md:7: 링크 대상 " in result.stderr  # the link keeps its text only
    assert sorted(p.name for p in (docs / "meetings").iterdir()) == ["2021-07-16.md", "keep.md"]
    assert "참고 노트" in (docs / "meetings/2021-07-16.md").read_text(encoding="utf-8")


def test_a_link_out_of_the_export_is_not_followed(tmp_path, docs):
    outside = tmp_path / "secret.txt"
    outside.write_text("not part of the export\n", encoding="utf-8")
    src = page(tmp_path, "[비밀](../secret.txt)\n")
    refused(src, docs, f"{src}:7: 링크가 가리키는 파일이 내보내기에 없습니다", "../secret.txt")


def test_page_named_by_a_relative_path_finds_its_files(tmp_path, docs, monkeypatch):
    src = page(tmp_path, "![Untitled](7%2016%20%ED%9A%8C%EC%9D%98%EB%A1%9D%200123456789abcdef0123456789abcdef/Untitled.png)\n")
    (src.with_suffix("") / "Untitled.png").parent.mkdir()
    (src.with_suffix("") / "Untitled.png").write_bytes(b"\x89PNG\r\n")
    monkeypatch.chdir(tmp_path / "export")
    result = run_kb("import-notion", f"../export/{src.name}", "--docs", docs)
    assert result.returncode == 0, result.stderr
    assert (docs / "attachments/2021-07-16/Untitled.png").read_bytes() == b"\x89PNG\r\n"
