"""Small exports in the seed's shape (notion_seed.make_export), made in tmp_path by each test.

Malformed ones (no date, a broken table, an unclosed fence, binary, too big, cp949) are refused
naming the file and the line, with nothing written; a missing file is a usage error. Constructs the
importer does not understand (an unknown property, a lone tab line, math the build cannot render)
are imported with a warning naming the line, and nothing is lost. Expected messages are read off
these few lines.
"""

from __future__ import annotations

import pytest

from notion_cli import kb_main as kb  # kb.cli.main in this process (tests/test_cli.py runs the real entry point)
from notion_cli import snapshot
from notion_seed import PROPS, SEED_TEXT, body, make_export

MALFORMED = {
    # name: (file content, expected message parts)
    "no-year-for-the-title-date": (
        "# 8/10(화) 회의록\n\nQ1. 질문?\n",
        [":1: ", "회의 날짜를 정할 수 없습니다", "연도를 알 수 없습니다", "--date"],
    ),
    "unparseable-date": (
        make_export("Q1. 질문?\n", props=PROPS.replace("@2021년 8월 17일 오후 2:00", "@지난 화요일 오후")),
        [":6: ", "날짜를 읽을 수 없습니다", "@지난 화요일 오후"],
    ),
    "impossible-date": (
        make_export("Q1. 질문?\n", props=PROPS.replace("8월 6일", "2월 30일")),
        [":3: ", "없는 날짜"],
    ),
    "broken-table": (
        make_export("Q1. 표\n\n\tA\tB\n행1\tO\tX\n행2\tO\n"),
        [":13: ", "표가 깨졌습니다", "칸이 2개", "머리줄(11번 줄)은 3개"],
    ),
    "unclosed-code-fence": (
        make_export("Q1. 코드\n\n```python\nprint(1)\n\n다음 줄\n"),
        [":11: ", "코드 블록(```)이 열린 뒤 닫히지 않았습니다"],
    ),
    "unclosed-math": (
        make_export("Q1. 수식\n\n$$\na + b\n\n끝\n"),
        [":11: ", "수식($$)이 열린 뒤 닫히지 않았습니다"],
    ),
    "empty-file": ("", ["빈 파일입니다"]),
    "whitespace-only": ("\n  \n\t\n", ["빈 파일입니다"]),
    "no-title": (PROPS + "\nQ1. 질문?\n", [":1: ", "제목"]),
    "duplicate-question": (
        make_export("Q1. 하나\n\nQ1. 둘\n"),
        [":11: ", "질문 번호 Q1가 두 번", "먼저 9번 줄"],
    ),
    "no-date-at-all": (
        "# 정기 회의록\n\nQ1. 질문?\n",
        [":1: ", "회의 날짜를 정할 수 없습니다", "--date"],
    ),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_export_names_the_line_and_writes_nothing(tmp_path, name):
    content, expected = MALFORMED[name]
    src = tmp_path / f"{name}.md"
    src.write_text(content, encoding="utf-8")
    docs = tmp_path / "docs"
    (docs / "meetings").mkdir(parents=True)
    (docs / "meetings/keep.md").write_text("untouched\n", encoding="utf-8")
    before = snapshot(docs)
    result = kb("import-notion", src, "--docs", docs)
    assert result.returncode == 1, result.stderr
    assert f"{src}" in result.stderr
    for part in expected:
        assert part in result.stderr
    assert snapshot(docs) == before


def test_binary_input_is_refused(tmp_path):
    src = tmp_path / "image.md"
    src.write_bytes(b"# 8/10\n\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    docs = tmp_path / "docs"
    docs.mkdir()
    result = kb("import-notion", src, "--docs", docs)
    assert result.returncode == 1
    assert f"{src}:4: " in result.stderr and "NUL 바이트" in result.stderr  # \x89PNG\r\n, \x1a\n, then NUL
    assert snapshot(docs) == {}


def test_file_over_the_size_limit_is_refused_with_the_limit(tmp_path):
    src = tmp_path / "big.md"
    src.write_text(SEED_TEXT + "\n" + ("가나다라마바사 " * 100 + "\n") * 2500, encoding="utf-8")
    assert src.stat().st_size > 5 * 1024 * 1024
    docs = tmp_path / "docs"
    docs.mkdir()
    result = kb("import-notion", src, "--docs", docs)
    assert result.returncode == 1
    assert "파일이 너무 큽니다" in result.stderr and "제한 5 MB" in result.stderr
    assert snapshot(docs) == {}


def test_cp949_file_is_refused_with_the_iconv_command(tmp_path):
    content = make_export("Q1. 질문?\n", props=PROPS.replace("🕒 ", "").replace("👤 ", "").replace("👥 ", "").replace("📌 ", ""))
    src = tmp_path / "euckr.md"
    src.write_bytes(content.encode("cp949"))
    docs = tmp_path / "docs"
    docs.mkdir()
    result = kb("import-notion", src, "--docs", docs)
    assert result.returncode == 1
    assert f"{src}:1: UTF-8이 아닙니다" in result.stderr
    assert "iconv -f cp949 -t utf-8" in result.stderr
    assert snapshot(docs) == {}


def test_missing_export_file_is_a_usage_error(tmp_path):
    result = kb("import-notion", tmp_path / "nope.md", "--docs", tmp_path)
    assert result.returncode == 2
    assert "내보내기 파일이 없습니다" in result.stderr


ODDITIES = """Q1. 이상한 것들

혼자 있는\t탭 줄

#

$$a = b
+ c$$

$$\\frac{1}$$

```bash
echo hi
```

```
not python: (
```
"""


def test_constructs_it_does_not_understand_are_kept_with_a_warning(tmp_path):
    src = tmp_path / "odd.md"
    props = PROPS + "🏷️ 분류\t스터디\n"  # a property the importer does not know (line 8)
    src.write_text(make_export(ODDITIES, props=props), encoding="utf-8")
    docs = tmp_path / "docs"
    docs.mkdir()
    result = kb("import-notion", src, "--docs", docs)
    assert result.returncode == 0, result.stderr
    text = body(docs / "meetings/2021-08-10.md")
    # body lines start at 10 here (one more property line)
    assert "경고: odd.md:8: 모르는 속성 '분류'" in result.stderr and "분류: 스터디" in text
    assert "경고: odd.md:12: 탭으로 나뉜 줄이 하나뿐이라" in result.stderr and "혼자 있는\t탭 줄" in text
    assert "경고: odd.md:14: 글자가 없는 제목 1개를 뺐습니다" in result.stderr and "\n#\n" not in text  # issue 23 item 6(d)
    assert "\n$$\na = b\n+ c\n$$\n" in text  # "$$a ... c$$" rewrapped so the build reads it as display math
    # the build cannot render it: kept as code, so the imported page builds and nothing is lost
    assert "경고: odd.md:19: 이 수식은 빌드에서 렌더링되지 않아 코드 블록으로 옮겼습니다" in result.stderr
    assert "```latex\n$$\\frac{1}$$\n```" in text
    assert "경고: odd.md:21: ```bash 블록을 ```console로" in result.stderr and '```console title="bash"\necho hi\n```' in text
    assert "```text\nnot python: (\n```" in text  # a bare fence that is not Python
    assert "pytest.mark.skip" not in text  # no python block here
