"""`kb check` and the strict build judge every page the same way (issue #22, item 12).

A small temporary site (this project's mkdocs.yml with its own nav, kb/, overrides/) holds one page
per case under docs/t/. Two real ``mkdocs build --strict`` runs judge them:

* the valid pages, with the project's plugin as it is: the build passes and ``kb check`` finds
  nothing (footnotes, setext headings, headings in admonitions, links in code were refused before);
* the broken pages, with the plugin's own ``kb check`` call switched off (``parity_hooks.py``), so what
  stops the build is MkDocs's own validation: every page MkDocs names, ``kb check`` names too, and
  ``kb check`` names no page MkDocs passes. MkDocs names files, not lines; ``kb check``'s line for
  each broken page is compared with the line the case says.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from kb.check import check

ROOT = Path(__file__).resolve().parent.parent

MEETING = """---
title: 시험 회의
date: 2021-08-10
created: 2021-08-06T17:57:00+09:00
author: 시험
attendees: []
updated: 2021-08-17T14:00:00+09:00
meeting_type: 일일 회의
tags: [회의록]
---

# 시험 회의
"""
LECTURE = "---\ntitle: {title}\ntags: [특강]\nmeeting: meetings/2021-08-10.md\n---\n\n본문입니다.\n"
TARGET = """# 목표

## Plain heading

목표 문단
{ #para-id }

Setext heading
--------------

!!! note "안의 제목"

    ## Boxed heading

??? tip "접힌 상자"

    ### Folded heading

## Same heading

## Same heading

## `nn.Module` explained

## [Linked](../index.md) heading

<div id="html-id"></div>

각주가 있습니다[^a].

[^a]: 각주 내용
"""

# name -> page text: each must pass both the build and kb check
VALID = {
    "footnote": "본문[^n] 그리고 또[^m].\n\n[^n]: 첫 각주\n[^m]: 둘째 각주 [목표](target.md)\n",
    "footnote-anchor": "[각주로](target.md#fn:a) [되돌아가기](target.md#fnref:a)\n",
    "setext": "Big title\n=========\n\n[위로](#big-title) [셋엑스](target.md#setext-heading)\n",
    "heading-in-admonition": "!!! note \"상자\"\n\n    ## In the box\n\n    [여기](#in-the-box)\n",
    "anchor-in-admonition-of-other-page": "[상자 속](target.md#boxed-heading) [접힌](target.md#folded-heading)\n",
    "indented-code-link": "코드입니다:\n\n    [없음](nowhere.md)\n    ![없음](nowhere.png)\n\n끝.\n",
    "fenced-code-link": "```text\n[없음](nowhere.md)\n```\n",
    "tilde-fence-link": "~~~\n[없음](nowhere.md#x)\n~~~\n",
    "code-span-link": "글 `[없음](nowhere.md)` 글\n",
    "comment-link": "<!-- [없음](nowhere.md) -->\n\n글.\n",
    "unused-reference": "글.\n\n[안 쓰는 참조]: nowhere.md\n",
    "reference-link": "[참조 링크][r]\n\n[r]: target.md#plain-heading\n",
    "math-heading-with-id": "## $x^2$ theorem { #x-theorem }\n\n[정리](#x-theorem)\n",
    "attr-list-id": "[문단](target.md#para-id)\n",
    "html-id": "[상자](target.md#html-id)\n",
    "duplicate-heading": "[둘째](target.md#same-heading_1)\n",
    "code-heading": "[코드 제목](target.md#nnmodule-explained)\n",
    "link-heading": "[링크 제목](target.md#linked-heading)\n",
    "self-anchor": "## Here\n\n[여기로](#here)\n",
    "up-link": "[처음](../index.md) [회의](../meetings/2021-08-10.md#_1)\n",
    "image": "![그림](pic.png)\n",
    "title-link": "[목표](target.md \"제목 있음\")\n",
    "angle-link": "[목표](<target.md>)\n",
    "external": "[밖](https://example.org/x.md) <https://example.org> <someone@example.org>\n",
    "table-link": "| a | b |\n|---|---|\n| [목표](target.md#plain-heading) | 글 |\n",
    "def-list-link": "용어\n:   [목표](target.md)\n",
    "tabbed-link": "=== \"하나\"\n\n    [목표](target.md#plain-heading)\n\n=== \"둘\"\n\n    글\n",
    "task-list": "- [x] 끝난 일 [목표](target.md)\n- [ ] 남은 일\n",
    "abbr": "CNN은 모델입니다.\n\n*[CNN]: Convolutional Neural Network\n",
    "math": "식 $a_i$와\n\n$$\nb_j\n$$\n",
    "snippet": "```python\n--8<-- \"snippets/parity/demo.py:part\"\n```\n",
    "lecture-list": "<!-- kb:lectures -->\n",
    "quote-link": "> [목표](target.md#plain-heading)\n",
}

# name -> (page text, the line kb check must name); MkDocs alone must refuse each page
BROKEN = {
    "missing-page": ("글.\n\n[없음](missing.md)\n", 3),
    "missing-anchor": ("[없는 앵커](target.md#nope)\n", 1),
    "missing-self-anchor": ("## Present\n\n글.\n\n[없음](#nope)\n", 5),
    "math-heading-anchor": ("## $x$ theorem\n\n[정리](#x-theorem)\n", 3),  # the build's id is the placeholder's
    "folder-link": ("[폴더](../meetings/)\n", 1),
    "absolute-link": ("글\n[절대](/t/target.md)\n", 2),
    "missing-image": ("\n\n![그림](missing.png)\n", 3),
    "missing-reference": ("[참조][r]\n\n[r]: missing.md\n", 3),
    "setext-anchor-typo": ("Title\n-----\n\n[오타](#titlex)\n", 4),
    "admonition-anchor-typo": ("[상자](target.md#boxed-headingx)\n", 1),
    "missing-footnote": ("[각주](target.md#fn:zz)\n", 1),
    "outside-docs": ("[밖](../../../outside.md)\n", 1),
    "second-link-broken": ("[좋음](target.md)\n\n[나쁨](target.md#nope)\n", 3),
}
# files that are not pages of the nav; MkDocs refuses each
NOT_IN_NAV = {
    "lectures/forgotten.md": LECTURE.format(title="nav에 없는 특강"),
    "t/old.markdown": "# 옛 확장자\n",
    "notebooks/forgotten.ipynb": '{"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# 노트북"]}], '
                        '"metadata": {}, "nbformat": 4, "nbformat_minor": 5}\n',
}


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _project(dest: Path, pages: dict[str, str], nav_extra: list[str], broken_hooks: bool) -> Path:
    """A copy of the project's build (mkdocs.yml, kb/, overrides/) with ``pages`` under docs/t/."""
    for name in ["kb", "overrides"]:
        shutil.copytree(ROOT / name, dest / name)  # with __pycache__ (conftest.py)
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    nav = ["nav:", "  - 홈: index.md", "  - 회의록:", "      - meetings/index.md", "  - Q&A:", "      - qna/index.md", "  - 특강:",
           "      - lectures/index.md", "      - lectures/kept.md", "  - 시험:"]
    nav += [f"      - {p}" for p in ["t/target.md", *(f"t/{n}.md" for n in pages), *nav_extra]]
    config = re.sub(r"(?ms)^nav:\n.*?(?=^\S)", "\n".join(nav) + "\n\n", config, count=1)
    if broken_hooks:  # MkDocs's own validation only: the plugin's call of kb check returns no problem
        config += "\nhooks:\n  - parity_hooks.py\n"
        _write(dest / "parity_hooks.py", (
            "import kb.plugin\nfrom kb.check import check\n\n"
            "kb.plugin.check = lambda docs, root, loaded: ([], check(docs, root, loaded)[1])  # what KbPlugin.on_files calls\n"))
    assert "parity_hooks" in config or not broken_hooks
    _write(dest / "mkdocs.yml", config)
    docs = dest / "docs"
    # the math font is an input of every build whose pages have formulas (kb/fonts.py cuts it)
    shutil.copytree(ROOT / "docs/assets/fonts/stix-two-math", docs / "assets/fonts/stix-two-math")
    _write(docs / "index.md", "# 처음\n")
    _write(docs / "meetings/index.md", "# 회의록\n")
    _write(docs / "qna/index.md", "# Q&A\n")
    _write(docs / "meetings/2021-08-10.md", MEETING)
    _write(docs / "lectures/index.md", "# 특강\n\n<!-- kb:lectures -->\n")
    _write(docs / "lectures/kept.md", LECTURE.format(title="nav에 있는 특강"))
    _write(docs / "t/target.md", TARGET)
    (docs / "t/pic.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    _write(dest / "snippets/parity/demo.py", "# --8<-- [start:part]\nx = 1\n# --8<-- [end:part]\n")
    for name, text in pages.items():
        _write(docs / f"t/{name}.md", text)
    return dest


def _build(project: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", KB_EXECUTE="0")
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(project / "site")],
                          cwd=project, env=env, capture_output=True, text=True, timeout=300)


def _named_by_mkdocs(output: str) -> set[str]:
    """The files MkDocs's warnings name (docs/-relative), and 'mkdocs.yml' for nav entries."""
    named = set(re.findall(r"Doc file '([^']+)'", output))
    if m := re.search(r"not included in the \"nav\" configuration:\n((?:\s+- \S+\n?)+)", output):
        named |= set(re.findall(r"- (\S+)", m.group(1)))
    if re.search(r"A reference to '[^']+' is included in the 'nav' configuration, which is not found", output):
        named.add("mkdocs.yml")
    return named


def test_valid_pages_pass_kb_check_and_the_strict_build(tmp_path):
    project = _project(tmp_path / "valid", VALID, [], broken_hooks=False)
    _write(project / "docs/t/data.ipynb", NOT_IN_NAV["notebooks/forgotten.ipynb"])  # not a notebook page: a download
    problems, summary = check(project / "docs", project)
    assert [str(p) for p in problems] == []
    assert summary.pages == len(VALID) + 7
    result = _build(project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(VALID) + len(BROKEN) + len(NOT_IN_NAV) + 2 >= 40  # cases judged by this file


def test_broken_pages_are_refused_by_kb_check_and_by_mkdocs_alike(tmp_path):
    pages = {name: text for name, (text, _) in BROKEN.items()}
    project = _project(tmp_path / "broken", pages, ["t/ghost.md"], broken_hooks=True)
    for path, text in NOT_IN_NAV.items():
        _write(project / "docs" / path, text)

    problems, _ = check(project / "docs", project)
    by_file: dict[str, set[int]] = {}
    for p in problems:
        by_file.setdefault(p.path.removeprefix("docs/"), set()).add(p.line)
    expected = {f"t/{name}.md": {line} for name, (_, line) in BROKEN.items()}
    nav_line = (project / "mkdocs.yml").read_text(encoding="utf-8").split("\n").index("      - t/ghost.md") + 1
    expected |= {path: {1} for path in NOT_IN_NAV} | {"mkdocs.yml": {nav_line}}
    assert by_file == expected, "\n".join(map(str, problems))

    result = _build(project)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Traceback" not in output
    assert _named_by_mkdocs(output) == set(expected), output


def test_a_file_where_a_page_output_folder_goes_is_refused_by_both(tmp_path):
    """docs/t/clash.md is written to site/t/clash/index.html: a file docs/t/clash stops the build
    (it crashes, so this case has a build of its own)."""
    project = _project(tmp_path / "clash", {"clash": "# 출력 폴더\n"}, [], broken_hooks=True)
    (project / "docs/t/clash").write_text("not a page\n", encoding="utf-8")
    problems, _ = check(project / "docs", project)
    assert [(p.path, p.line) for p in problems] == [("docs/t/clash", 1)], problems
    result = _build(project)
    assert result.returncode != 0
    assert re.search(r"Error building page 't/clash\.md': .*site/t/clash'", result.stdout + result.stderr)
