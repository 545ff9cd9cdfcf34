"""The importer writes only pages the strict build accepts (issue #22, item 11).

It verifies with the build's own Markdown (kb.markdown_build: mkdocs.yml's extensions and options)
and kb.mathml, and converts what the build would refuse: ``\\href{url}{text}`` in math keeps its
text, a ``.python`` fence is a marked ``python`` block, a formula the build cannot render is code.
"""

from __future__ import annotations

import pytest

from notion_cli import kb_main
from notion_seed import body, make_export
from test_rulebook_parity import _build, _project
from kb.check import check
from kb.markdown_build import new_markdown
from kb.notion.messages import ConversionBug
from kb.notion.verify import render, visible_letters

EXPORT = (
    "Q1. 링크 달린 수식 $\\href{javascript:alert(1)}{x}$는 왜 안 되나요?\n\n"
    "답: 블록 수식도 있습니다.\n\n"
    "$$\\href{https://example.org}{y} = 1$$\n\n"
    "```.python\nopen('imported-code-ran', 'w').write('x')\n```\n\n"
    "렌더링되지 않는 식 $\\frac{1}$ 도 있습니다.\n"
)


def test_imported_math_links_and_dotted_fences_build(tmp_path):
    project = _project(tmp_path / "project", {}, [], broken_hooks=False)
    src = tmp_path / "export.md"
    src.write_text(make_export(EXPORT, title="# 9/7(화) 회의록"), encoding="utf-8")
    result = kb_main("import-notion", src, "--docs", project / "docs", "--date", "2021-09-07")
    assert result.returncode == 0, result.stderr
    meeting = body(project / "docs/meetings/2021-09-07.md")
    assert "javascript" not in meeting and "${x}$" in meeting and "$${y} = 1$$" in meeting
    assert f"{src.name}:9: 수식의 \\href{{주소}}{{글}}을 글만 남겼습니다" in result.stderr
    assert f"{src.name}:13: 수식의 \\href{{주소}}{{글}}을 글만 남겼습니다" in result.stderr
    assert '<!--pytest.mark.skip(reason="fragment quoted from the meeting notes")-->\n```python\n' in meeting
    assert "`$\\frac{1}$`" in meeting and f"{src.name}:19: 이 수식은 빌드에서 렌더링되지 않아 코드로 옮겼습니다" in result.stderr
    problems, _ = check(project / "docs", project)
    assert [str(p) for p in problems] == []
    built = _build(project)
    assert built.returncode == 0, built.stdout + built.stderr
    assert not (project / "imported-code-ran").exists()


def test_verification_refuses_a_formula_the_build_cannot_render():
    with pytest.raises(ConversionBug, match="빌드가 렌더링하지 못합니다"):
        render("글 $\\href{javascript:alert(1)}{x}$ 글\n")


def test_verification_refuses_an_unmarked_python_block_as_the_build_does():
    with pytest.raises(ConversionBug, match="skip 표시가 없어"):
        visible_letters("```.python\nx = 1\n```\n")
    visible_letters('<!--pytest.mark.skip(reason="notes")-->\n```.python\nx = 1\n```\n')  # marked: accepted


def test_the_markdown_factory_follows_mkdocs_yml(tmp_path):
    (tmp_path / "mkdocs.yml").write_text("site_name: x\nmarkdown_extensions:\n  - toc:\n      permalink: '¶'\n", encoding="utf-8")
    html = new_markdown(tmp_path).convert("## A\n\n본문[^1]\n\n[^1]: 각주\n")
    assert 'class="headerlink"' in html and "¶" in html  # toc's option from the file
    assert 'class="footnote"' not in html  # footnotes is not in this mkdocs.yml
    assert 'class="footnote"' in new_markdown().convert("본문[^1]\n\n[^1]: 각주\n")  # it is in the project's
