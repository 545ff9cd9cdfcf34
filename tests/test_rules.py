"""`kb check` and the build share one set of rules: "문제 없음" means the strict build gets past its checks.

Each broken variant is written as its own page in one temporary copy of the project. `kb check`
must name every one with file and line, and a single strict build of the same copy must stop
naming the same file:line for each (the build's on_files runs kb.check.check).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import build_site, copy_project
from kb.check import check

pytestmark = pytest.mark.xdist_group("test_rules")  # its module fixture once, on one worker (pytest.ini)

BASE = "---\ntitle: 시험\ntags: [시험]\nmeeting: meetings/2021-08-10.md\n---\n\n본문 첫 줄\n"
# name -> (page text, line the problem is on, words of the message)
BROKEN = {
    "bad-tex": (BASE + "\n식 $\\frac{a}$ 입니다.\n", 9, "cannot render formula"),
    "unclosed-display-math": (BASE + "\n$$\nx + y\n", 9, "never closed"),
    "unknown-marker": (BASE + "\n<!-- kb:qna-indx -->\n", 9, "unknown marker 'kb:qna-indx'"),
    "duplicate-key": ("---\ntitle: 시험\ntags: [시험]\ntitle: 다른 제목\nmeeting: meetings/2021-08-10.md\n---\n\n본문\n", 4,
                      "key 'title' is given twice"),
    "nul-byte": (BASE + "\n바이너리\x00 데이터\n", 9, "NUL byte"),
    "unknown-field": ("---\ntitle: 시험\ntags: [시험]\nmeeting: meetings/2021-08-10.md\nauthr: 누구\n---\n\n본문\n", 5,
                      "unknown field 'authr'"),
    "unbalanced-yaml": ("---\ntitle: 시험\ntags: [시험, 모멘텀\nmeeting: meetings/2021-08-10.md\n---\n\n본문\n", 4,
                        "not valid YAML"),
    "tags-wrong-type": ("---\ntitle: 시험\ntags: 시험\nmeeting: meetings/2021-08-10.md\n---\n\n본문\n", 3,
                        "field 'tags' must be a list of strings"),
    "snippet-outside": (BASE + '\n```python\n--8<-- "../../../etc/hostname"\n```\n', 10, "프로젝트 밖"),
    "markup-in-title": ("---\ntitle: \"&lt;img src=x onerror=alert(1)&gt;\"\ntags: [시험]\nmeeting: meetings/2021-08-10.md\n---\n\n본문\n",
                        2, "field 'title' contains markup (<img>)"),
}


@pytest.fixture(scope="module")
def broken_project(tmp_path_factory) -> Path:
    dest = copy_project(tmp_path_factory.mktemp("rules") / "project")
    for name, (text, _, _) in BROKEN.items():
        (dest / f"docs/lectures/{name}.md").write_text(text, encoding="utf-8")
    return dest


def test_check_names_every_broken_page_with_its_line(broken_project):
    problems, _ = check(broken_project / "docs", broken_project)
    listed = [str(p) for p in problems]
    for name, (_, line, words) in BROKEN.items():
        assert any(p.startswith(f"docs/lectures/{name}.md:{line}: ") and words in p for p in listed), (name, listed)


def test_build_stops_on_the_same_problems(broken_project, tmp_path):
    result = build_site(broken_project, tmp_path / "site")
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Traceback" not in out
    problems, _ = check(broken_project / "docs", broken_project)
    for p in problems:
        assert str(p) in out
