"""Numbered lists in a Notion export (issue #23 item 2): imported through the CLI, never refused as
a converter bug, and every word a Notion reader sees is on the rendered page, in order.

The words are read off the export by this file's own rules (a list item's number or bullet and a
to-do's checkbox are markers, ``\\*`` shows as ``*``, an image shows its alt text), and the page is
rendered here with Python-Markdown and the list-related extensions of mkdocs.yml."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import markdown
import pytest

from kb import notion
from notion_cli import kb_main as run_kb

HEAD = "# 7/16 스터디 회의록\n\n작성일시: 2021년 7월 16일 오후 3:52\n작성자: 김민지\n회의 유형: 정기 회의\n\n# 진행\n\n"
FOLDER = "7 16 회의록 abc"
IMAGE = "7%2016%20%ED%9A%8C%EC%9D%98%EB%A1%9D%20abc/diagram.png"
EXTENSIONS = ["admonition", "attr_list", "md_in_html", "tables", "pymdownx.superfences", "pymdownx.tasklist", "pymdownx.details"]

BODIES = {
    "flat": "1. 첫째 항목입니다\n2. 둘째 항목입니다\n3. 셋째 항목입니다\n",
    "nested four deep with bullets and to-dos": (
        "1. 바깥 번호 하나\n"
        "    1. 둘째 깊이 번호\n"
        "        - 셋째 깊이 불릿\n"
        "            - [ ] 넷째 깊이 할 일\n"
        "            - [x] 넷째 깊이 끝난 일\n"
        "            1. 넷째 깊이 번호\n"
        "        2. 둘째 깊이 두 번째\n"
        "    - 둘째 깊이 불릿\n"
        "2. 바깥 번호 둘\n"
        "- [ ] 바깥 할 일\n"
        "    1. 할 일 아래 번호\n"
        "    - [x] 할 일 아래 끝난 일\n"
    ),
    "parenthesis style": "1) 괄호 번호 하나\n2) 괄호 번호 둘\n\n1. 점 번호 하나\n    1) 안쪽 괄호 번호\n",
    "starting at three": "앞 문단입니다.\n\n3. 셋에서 시작하는 목록\n4. 넷째 항목\n    3. 안쪽도 셋부터\n",
    "code and images inside items": (
        "1. 환경을 준비합니다\n"
        "    \n"
        "    ```python\n"
        "    import torch\n"
        "    x = torch.zeros(3)\n"
        "    ```\n"
        "    \n"
        "2. 구조를 봅니다\n"
        "    \n"
        f"    ![구조도]({IMAGE})\n"
        "    \n"
        "    1. 그림 아래 번호\n"
        "        \n"
        "        ```\n"
        "        echo 안쪽 코드\n"
        "        ```\n"
        "        \n"
        "3. 마지막 단계\n"
    ),
    "escape artefacts": "1. \\*별표\\* 강조가 아닌 별\n2. \\_밑줄\\_ \\# 해시 \\[대괄호\\] 2\\. 글 속 번호\n",
    "indented with tabs": "1. 바깥 번호\n\t1. 탭 안쪽 번호\n\t2. 탭 안쪽 둘\n\t\t- [ ] 탭 더 안쪽 할 일\n2. 바깥 번호 둘\n",
    "under a question": "Q1. 순서가 있나요?\n\n1. 먼저 이것\n2. 다음 저것\n    1. 안쪽 번호\n    - [ ] 할 일\n",
}


def export(tmp_path: Path, body: str) -> Path:
    folder = tmp_path / "export"
    (folder / FOLDER).mkdir(parents=True)
    (folder / FOLDER / "diagram.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (folder / f"{FOLDER}.md").write_text(HEAD + body, encoding="utf-8")
    return folder


def seen_words(body: str) -> list[str]:
    """The words a Notion reader sees in ``body``, in order (this test's own reading)."""
    words = []
    fence = False
    for line in body.split("\n"):
        if line.strip().startswith("```"):
            fence = not fence
            continue
        if not fence:
            line = re.sub(r"^[ \t]*(?:\d+[.)]|[-*+])[ \t]+(?:\[[ xX]\][ \t]+)?", "", line)  # markers
            line = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", line)  # an image shows its alt text
            line = re.sub(r"\\(.)", r"\1", line)  # Notion's escapes
        words += line.split()
    return words


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.parts.append(" " + (dict(attrs).get("alt") or "") + " ")

    def handle_data(self, data):
        self.parts.append(data)


def rendered(page: Path) -> tuple[str, str]:
    """(HTML, its text) of a page's body."""
    html = markdown.markdown(page.read_text(encoding="utf-8").split("\n---\n", 1)[1], extensions=EXTENSIONS)
    parser = _Text()
    parser.feed(html)
    return html, "".join(parser.parts)


def assert_in_order(words: list[str], text: str) -> None:
    pos = 0
    for word in words:
        found = text.find(word, pos)
        assert found >= 0, f"{word!r} is not on the page after position {pos}: {text[pos:pos + 200]!r}"
        pos = found + len(word)


@pytest.mark.parametrize("case", list(BODIES))
def test_numbered_lists_are_imported_with_every_word_in_order(tmp_path, case):
    docs = tmp_path / "docs"
    docs.mkdir()
    result = run_kb("import-notion", export(tmp_path, BODIES[case]), "--docs", docs)
    assert result.returncode == 0, result.stderr
    assert "변환기 버그" not in result.stderr
    html, text = rendered(docs / "meetings/2021-07-16.md")
    words = seen_words(BODIES[case])
    assert_in_order(words, text)
    assert "<ol>" in html and "<li>" in html
    if case == "indented with tabs":  # leading tabs indent, as in Markdown: not a table
        assert "<table" not in html and html.count("<ol>") == 2 and 'type="checkbox"' in html
    if case == "under a question":
        _, qna = rendered(docs / "qna/2021-07-16-q1.md")
        assert_in_order(words[words.index("먼저"):], qna)


def imported_meeting(tmp_path: Path, body: str) -> tuple[Path, str]:
    """Import the export of ``BODIES[body]`` into a fresh docs/; its docs/ and the meeting page's HTML."""
    docs = tmp_path / "docs"
    docs.mkdir()
    result = run_kb("import-notion", export(tmp_path, BODIES[body]), "--docs", docs)
    assert result.returncode == 0, result.stderr
    html, _ = rendered(docs / "meetings/2021-07-16.md")
    return docs, html


def test_nested_items_render_nested_with_their_checkboxes(tmp_path):
    _, html = imported_meeting(tmp_path, "nested four deep with bullets and to-dos")
    depth = deepest = 0
    for tag in re.findall(r"</?(?:ol|ul)\b", html):
        depth += -1 if tag.startswith("</") else 1
        deepest = max(deepest, depth)
    assert deepest == 4
    assert html.count('type="checkbox"') == 4 and html.count("checked") == 2


def test_code_and_image_stay_inside_their_list_items(tmp_path):
    docs, html = imported_meeting(tmp_path, "code and images inside items")
    items = html[html.index("<ol>"): html.rindex("</ol>")]
    assert "torch" in items and 'alt="구조도"' in items and "echo" in items
    assert (docs / "attachments/2021-07-16/diagram.png").exists() or any(docs.rglob("diagram.png"))


def test_a_list_item_lost_by_the_converter_is_named_with_its_line(tmp_path):
    folder = export(tmp_path, BODIES["flat"])
    docs = tmp_path / "docs"
    docs.mkdir()
    result = notion.prepare(folder / f"{FOLDER}.md", "회의.md", docs).results[0]
    meeting = result.files["meetings/2021-07-16.md"]
    assert "둘째 항목입니다" in meeting
    result.files["meetings/2021-07-16.md"] = meeting.replace("둘째 항목입니다", "")
    with pytest.raises(notion.ConversionBug) as caught:
        notion.verify_complete(result)
    line = (HEAD + BODIES["flat"]).split("\n").index("2. 둘째 항목입니다") + 1
    assert f"회의.md:{line}: 번호 목록 항목 ({line}번째 줄)이 회의록 페이지에 없습니다: '2. 둘째 항목입니다'" in str(caught.value)
    assert "이슈로 알려 주세요" in str(caught.value)
    assert "1. 첫째" not in str(caught.value) and "3. 셋째" not in str(caught.value)
