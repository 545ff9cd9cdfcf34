"""kb.markdown_scan finds code where the build's Markdown renders code, on every fence variant.

Each case is rendered with the build's own Markdown (kb.markdown_build: mkdocs.yml's extensions and
options). Every ``qz`` in a case becomes a numbered token; a token inside ``<pre>`` is on a code
line of a block, one inside ``<code>`` elsewhere is in an inline code span, the rest is text. The
scanner must say the same of every token.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from html.parser import HTMLParser

import pytest

from kb import markdown_scan
from kb.blocks import html_python_blocks
from kb.markdown_build import SNIPPETS, new_markdown

CASES = {
    "backtick fence, Korean around": "모멘텀(momentum) 설명 qz\n\n```python\nqz = 1  # 주석\n```\n\n뒤 qz\n",
    "tilde fence holds a backtick fence": "~~~\nqz\n```\nqz\n```\n~~~\n\n뒤 qz\n",
    "backtick fence holds a tilde line": "```\n~~~\nqz 코드\n~~~\n```\nqz 글\n",
    "a longer run does not close": "```python\nqz\n````\nqz\n```\n\n뒤 qz\n",
    "a shorter run does not close": "````markdown\n```python\nqz\n```\nqz\n````\n\n뒤 qz\n",
    "a closing indented otherwise is code": "```\nqz\n  ```\nqz 코드\n```\nqz 글\n",
    "closing with trailing spaces closes": "```\nqz\n```   \n\n뒤 qz\n",
    "closing with words after is code": "```\nqz\n``` 끝\nqz\n```\n",
    "never closed: text to the end": "앞 qz\n\n```python\nqz 코드\n\n뒤 문단 qz\n",
    "backtick in the info string": "```py`x\nqz\n```\n\n뒤 qz\n",
    "an option highlight does not know": "```python foo\nqz\n```\n\n뒤 qz\n",
    "options highlight knows": '```python title="제목.py" hl_lines="1" linenums="1"\nqz\n```\n',
    "a malformed hl_lines": '```python hl_lines="x"\nqz\n```\n\n뒤 qz\n',
    "attribute list and dotted language": "```{.python .extra}\nqz = '가'\n```\n\n```.py\nqz = '나'\n```\n",
    "two-space indent at the top": "  ```\n  qz 코드\n  ```\nqz 글\n",
    "in a list item after a blank line": "- 항목 qz\n\n    ```python\n    qz\n    ```\n\n- 다음 qz\n",
    "in a list item right under its text": "1. 항목 qz\n    ```python\n    qz\n    ```\n2. 다음 qz\n",
    "two lists deep": "- 바깥 qz\n    - 안쪽 qz\n\n        ```py\n        qz\n        ```\n",
    "a code line indented less ends no block": "- 항목\n\n    ```python\n    qz\n  qz\n    ```\n\n뒤 qz\n",
    "tab-indented in a list item": "-\t항목 qz\n\n\t```\n\tqz\n\t```\n",
    "admonition": '!!! note "참고"\n\n    본문 qz\n\n    ```python\n    qz\n    ```\n\n뒤 qz\n',
    "details, open": '???+ tip "접힘"\n    ```\n    qz\n    ```\n',
    "content tabs": '=== "탭 하나"\n\n    ```python\n    qz\n    ```\n\n=== "탭 둘"\n\n    글 qz\n',
    "quote": "> 인용 qz\n>\n> ```\n> qz\n> ```\n",
    "quote with a lazy code line": "> ```\nqz\n> ```\n\n뒤 qz\n",
    "indented code block at the top holds a fence": "문단 qz\n\n    ```\n    qz\n    ```\n\n뒤 qz\n",
    "fence right under a paragraph line": "문단 qz\n```\nqz\n```\n",
    "fences back to back": "```\nqz 하나\n```\n```\nqz 둘\n```\nqz 글\n",
    "double backticks around a backtick": "글 `` a`b qz `` 뒤 qz\n",
    "a double run inside single backticks": "글 `a``b qz` 뒤 qz\n",
    "escaped backtick": "글 \\`qz` 뒤\n",
    "escaped backslash, then a span": "글 \\\\`qz` 뒤 qz\n",
    "a shorter closing run": "글 ``qz` 뒤 qz\n",
    "only longer runs after": "글 `qz`` 뒤 qz\n",
    "a span across lines of a paragraph": "앞 `코드\nqz 계속` 뒤 qz\n",
    "no span across list items": "- 하나 `x\n- qz 둘` 셋\n",
    "no span from a heading into the next line": "## 제목 `x\n\n글 qz` 뒤\n",
    "math-like dollars in a span": "값 `$qz$` 과 $y$ qz\n",
}


def _numbered(source: str) -> str:
    counter = itertools.count(1)
    return re.sub(r"qz", lambda m: f"qz{next(counter)}", source)


class _Places(HTMLParser):
    """Where each token of the rendered HTML is: 'block' (in <pre>), 'inline' (in <code>), or 'text'."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.pre = self.code = 0
        self.places: dict[str, list[str]] = {}

    def handle_starttag(self, tag, attrs):
        self.pre += tag == "pre"
        self.code += tag == "code"

    def handle_endtag(self, tag):
        self.pre -= tag == "pre"
        self.code -= tag == "code"

    def handle_data(self, data):
        for token in re.findall(r"qz\d+", data):
            self.places.setdefault(token, []).append("block" if self.pre else "inline" if self.code else "text")


def built_places(source: str) -> dict[str, str]:
    md = new_markdown(**{SNIPPETS: {"check_paths": False}})
    parser = _Places()
    parser.feed(md.convert(source))
    parser.close()
    tokens = re.findall(r"qz\d+", source)
    assert sorted(parser.places) == sorted(tokens) and all(len(p) == 1 for p in parser.places.values()), \
        f"every token once in the HTML: {parser.places}"
    return {token: places[0] for token, places in parser.places.items()}


def scanned_places(source: str, block_lines, span_columns) -> dict[str, str]:
    lines = source.split("\n")
    block = block_lines(lines)
    spans = span_columns(lines)
    places = {}
    for i, line in enumerate(lines):
        for m in re.finditer(r"qz\d+", line):
            inline = any(a <= m.start() < b for a, b in spans.get(i, []))
            places[m.group(0)] = "block" if block[i] else "inline" if inline else "text"
    return places


def scanner_block_lines(lines: list[str]) -> list[bool]:
    """Code lines of a fenced block (opening and closing lines are not shown as code)."""
    code = [False] * len(lines)
    for f in markdown_scan.fences(lines):
        for i in f.body:
            code[i] = True
    return code


def disagreements(block_lines=scanner_block_lines, span_columns=markdown_scan.span_columns) -> dict[str, dict]:
    found = {}
    for name, case in CASES.items():
        source = _numbered(case)
        built, scanned = built_places(source), scanned_places(source, block_lines, span_columns)
        if built != scanned:
            found[name] = {t: (built[t], scanned[t]) for t in built if built[t] != scanned[t]}
    return found


def test_cases_are_nfc_korean_and_cover_blocks_spans_and_text():
    assert all(unicodedata.is_normalized("NFC", case) and re.search("[가-힣]", case) for case in CASES.values())
    places = [p for case in CASES.values() for p in built_places(_numbered(case)).values()]
    assert {"block", "inline", "text"} <= set(places)


def test_scanner_finds_code_where_the_build_renders_it():
    assert disagreements() == {}, "case: {token: (build, scanner)}"


def _old_check_block_lines(lines: list[str]) -> list[bool]:
    """kb check's rule before the scanner (kb/check.py ``_FENCE_RE``), kept to show the test can fail."""
    fence_re = re.compile(r"^[ \t]*(`{3,}|~{3,})")
    code, fence = [False] * len(lines), None
    for i, line in enumerate(lines):
        m = fence_re.match(line)
        if fence is not None:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not line.strip().lstrip(fence[0]):
                fence = None
            else:
                code[i] = True
            continue
        if m:
            fence = m.group(1)
    return code


def test_the_comparison_fails_for_the_old_check_rule():
    found = disagreements(_old_check_block_lines)
    assert {"a longer run does not close", "never closed: text to the end", "an option highlight does not know",
            "a closing indented otherwise is code"} <= set(found), found


# --- what each user of the scanner gets -------------------------------------------------------------


def test_opening_reads_language_as_superfences_does():
    assert markdown_scan.opening("    ```{.python title='x'}")[3] == "python"
    assert markdown_scan.opening("~~~~ .py3")[1:] == ("~~~~", ".py3", "py3")
    assert markdown_scan.opening("```python foo") is None
    assert markdown_scan.opening("``` py`x") is None
    assert markdown_scan.opening("text ```") is None


@pytest.mark.parametrize("text, spans", [
    ("`a` b `c`", [(0, 3), (6, 9)]),
    ("`` a`b ``", [(0, 9)]),
    ("`a``b`", [(0, 6)]),
    ("\\`a`", []),
    ("\\\\`a`", [(2, 5)]),
    ("``a`", [(0, 4)]),
    ("`a``", []),
])
def test_code_spans_pair_runs_as_python_markdown(text, spans):
    assert markdown_scan.code_spans(text) == spans


def test_written_fence_is_read_back_as_one_block_with_the_same_code():
    body = ["x = 1", "```", "      y = 2", "", "\tz = 3"]
    lines = markdown_scan.write_fence("  ", "```", "python", body)
    assert lines[0] == "  ````python" and lines[-1] == "  ````"
    found = markdown_scan.fences(lines)
    assert [(f.start, f.end) for f in found] == [(0, len(lines) - 1)]
    html = new_markdown(**{SNIPPETS: {"check_paths": False}}).convert("\n".join(lines) + "\n")
    # CommonMark drops up to 2 columns of each line's indentation, as the opening has 2
    assert [b.code for b in html_python_blocks(html)] == ["x = 1\n```\n    y = 2\n\n  z = 3"]


def test_export_fences_close_by_commonmark_rule():
    assert markdown_scan.export_opening("\t```python") == ("\t", "```", "python")
    assert markdown_scan.export_opening("```py`x") is None
    assert markdown_scan.export_opening("~~~ a`b") == ("", "~~~", " a`b")
    assert markdown_scan.export_closes("```", "  `````  ")
    assert not markdown_scan.export_closes("````", "```")
    assert not markdown_scan.export_closes("```", "~~~")


def _check_page(tmp_path, body: str) -> list[str]:
    from kb.check import check

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text(body, encoding="utf-8")
    problems, _ = check(docs, tmp_path)
    return [f"{p.line}: {p.message}" for p in problems]


def test_check_reads_placeholders_and_markers_outside_the_fences_the_build_shows(tmp_path):
    from kb.scaffold import PLACEHOLDERS

    placeholder = PLACEHOLDERS[0]
    body = (
        "# 쪽\n\n"
        '!!! note "상자"\n\n    <!--pytest.mark.skip(reason="예시")-->\n    ```python\n    x = 1\n    ```\n\n'
        f"```\n{placeholder}\n````\n{placeholder}\n```\n\n"
        '<!--pytest.mark.skip(reason="옵션을 빌드가 받지 않음")-->\n```python foo\ny = 2\n```\n\n'
        f"{placeholder} 닫히지 않은 펜스 뒤\n"
    )
    found = _check_page(tmp_path, body)
    # the marker in the box and the placeholders on 11 and 13 are in code; the fence on 17 opens
    # nothing (an option the build refuses), and the one its last line opens is never closed
    assert [p.split(":")[0] for p in found] == ["16", "21"], found
    assert "바로 다음에 코드 블록이 없습니다" in found[0] and "자리표시자" in found[1]


def test_python_fences_are_counted_as_the_build_renders_them():
    from kb.blocks import markdown_python_fences

    text = ("```{.python}\na\n```\n\n~~~{ .py3 }\nb\n~~~\n\n> ```py\n> c\n> ```\n\n"  # three Python blocks
            "```python foo\nd\n```\n\n````md\n```python\ne\n```\n````\n\n```py\nf\n")  # none
    assert markdown_python_fences(text) == 3


def test_imported_code_is_code_on_the_built_page(tmp_path):
    """Fences of a Notion export closed by CommonMark's rule (a longer run), or with lines indented
    less than their opening, are written so that the build shows every code line as code."""
    from kb import notion

    export = (
        "# 7/16 스터디 회의록\n\n작성일시: 2021년 7월 16일 오후 3:52\n작성자: 김민지\n\n"
        "본문 qz\n\n"
        "```text\nqz 하나\n`````\n\n"
        "1. 목록 안의 코드 qz\n    ```text\n    qz 둘\n  qz 셋\n    ```\n\n"
        "~~~~\nqz 넷\n```\n~~~~~~\n\n끝 qz\n"
    )
    source = tmp_path / "7 16 회의록 abc.md"
    source.write_text(_numbered(export), encoding="utf-8")
    (tmp_path / "docs").mkdir()
    page = notion.prepare(source, source.name, tmp_path / "docs").results[0].files["meetings/2021-07-16.md"]
    body = page.split("\n---\n", 1)[1]
    places = built_places(body)
    assert places == {t: "text" if t in ("qz1", "qz3", "qz7") else "block" for t in places}, body
    assert len(places) == 7
    assert scanned_places(body, scanner_block_lines, markdown_scan.span_columns) == places
