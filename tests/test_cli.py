"""`python -m kb`: help and exit codes, `new meeting`/`new qna`, `check` and `run`.

Every command is run through the real entry point (``sys.executable -m kb`` in a subprocess).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import textwrap
from pathlib import Path

import pytest
import yaml

from conftest import run_kb
from kb.frontmatter import load_docs

KST = dt.timezone(dt.timedelta(hours=9))


kb = run_kb


def front_matter(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8").split("\n---\n", 1)[0][4:])


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


# --- help and usage ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "command", [[], ["import-notion"], ["new"], ["new", "meeting"], ["new", "qna"], ["check"], ["run"]], ids=" ".join
)
def test_help_works_for_every_command_and_lists_exit_codes(command):
    result = kb(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: python -m kb")
    assert "종료 코드:" in result.stdout
    for code in ("0  성공", "1  문제가 있거나 거절함", "2  사용법 오류"):
        assert code in result.stdout


def test_exit_codes_are_in_the_module_docstring():
    import kb.cli

    for line in ("0  done", "1  problems found or refused", "2  usage error"):
        assert line in kb.cli.__doc__


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["frobnicate"],
        ["new"],
        ["new", "meeting"],
        ["new", "meeting", "--date", "2021-8-17", "--author", "x"],
        ["new", "meeting", "--date", "2021-02-30", "--author", "x"],
        ["import-notion"],
        ["check", "--docs", "/nonexistent/docs"],
        ["run", "/nonexistent/snippet.py"],
        ["run", "x.py", "--device", "tpu"],
    ],
    ids=lambda a: " ".join(a) or "(nothing)",
)
def test_usage_errors_exit_2(args):
    result = kb(*args)
    assert result.returncode == 2
    assert result.stderr.strip()


# --- new ----------------------------------------------------------------------------------


def test_new_meeting_writes_valid_front_matter(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    result = kb(
        "new", "meeting", "--date", "2021-08-17", "--author", "이하람", "--attendee", "김민", "--attendee", "박보성",
        "--created", "2021-08-16T21:05:00+09:00", "--docs", docs,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    page = docs / "meetings/2021-08-17.md"
    assert f"만들었습니다: {docs}/meetings/2021-08-17.md" in result.stdout
    assert front_matter(page) == {
        "title": "8/17(화) 회의록",
        "date": dt.date(2021, 8, 17),
        "created": dt.datetime(2021, 8, 16, 21, 5, tzinfo=KST),
        "author": "이하람",
        "attendees": ["김민", "박보성"],
        "updated": dt.datetime(2021, 8, 16, 21, 5, tzinfo=KST),
        "meeting_type": "일일 회의",
        "tags": ["회의록"],
    }
    assert load_docs(docs)[1] == []


def test_new_meeting_refuses_to_overwrite(tmp_path):
    docs = tmp_path / "docs"
    page = write(docs / "meetings/2021-08-17.md", "손으로 쓴 회의록\n")
    result = kb("new", "meeting", "--date", "2021-08-17", "--author", "이하람", "--docs", docs)
    assert result.returncode == 1
    assert "meetings/2021-08-17.md: 이미 있습니다" in result.stderr
    assert page.read_text(encoding="utf-8") == "손으로 쓴 회의록\n"


@pytest.fixture
def docs_with_meeting(tmp_path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    assert kb("new", "meeting", "--date", "2021-08-10", "--author", "이하람", "--docs", docs).returncode == 0
    return docs


def test_new_qna_writes_valid_front_matter_that_check_accepts(docs_with_meeting):
    """Valid front matter: check's only complaints are the placeholders (tests/test_new_drafts.py)."""
    docs = docs_with_meeting
    result = kb(
        "new", "qna", "--meeting", "meetings/2021-08-10.md", "--qid", "Q6", "--slug", "dropout",
        "--title", "드롭아웃: 왜 과적합을 줄이나요?", "--tag", "정규화", "--docs", docs,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert front_matter(docs / "qna/dropout.md") == {
        "title": "Q6. 드롭아웃: 왜 과적합을 줄이나요?",
        "qid": "Q6",
        "status": "open",
        "tags": ["정규화"],
        "meeting": "meetings/2021-08-10.md",
        "related": [],
    }
    assert load_docs(docs)[1] == []
    checked = kb("check", "--docs", docs)
    assert checked.returncode == 1 and checked.stdout, checked.stdout
    assert all("자리표시자가 남았습니다" in line for line in checked.stdout.splitlines()), checked.stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--meeting", "meetings/2021-09-01.md", "--qid", "Q6", "--slug", "x"], 2, "회의록 페이지가 아닙니다"),
        (["--meeting", "meetings/2021-08-10.md", "--qid", "6", "--slug", "x"], 2, "--qid"),
        (["--meeting", "meetings/2021-08-10.md", "--qid", "Q6", "--slug", "드롭아웃"], 2, "--slug"),
        (["--meeting", "meetings/2021-08-10.md", "--qid", "Q1", "--slug", "first"], 1, "이미 이 페이지에 있습니다"),
        (["--meeting", "meetings/2021-08-10.md", "--qid", "Q7", "--slug", "taken"], 1, "이미 있습니다"),
    ],
)
def test_new_qna_rejects_bad_arguments_and_existing_pages(docs_with_meeting, args, code, message):
    docs = docs_with_meeting
    write(docs / "qna/taken.md", "---\ntitle: Q1. x\nqid: Q1\nstatus: open\ntags: [x]\nmeeting: meetings/2021-08-10.md\nrelated: []\n---\n")
    before = sorted(p.name for p in (docs / "qna").iterdir())
    result = kb("new", "qna", *args, "--title", "제목", "--docs", docs)
    assert result.returncode == code, result.stderr
    assert message in result.stderr
    assert sorted(p.name for p in (docs / "qna").iterdir()) == before


# --- check --------------------------------------------------------------------------------

MEETING = """
---
title: 8/10(화) 회의록
date: 2021-08-10
created: 2021-08-06T17:57:00+09:00
author: 이하람
attendees: []
updated: 2021-08-17T14:00:00+09:00
meeting_type: 일일 회의
tags: [회의록]
---

## 질문 목록

#### Q1. 모듈 { #q1 }

### Adagrad update

[Q&A](../qna/good.md)
"""

GOOD = """
---
title: Q1. 모듈
qid: Q1
status: answered
tags: [PyTorch]
meeting: meetings/2021-08-10.md
related: []
---

[회의록](../meetings/2021-08-10.md#q1), [한글 제목](../meetings/2021-08-10.md#_1),
[영문 제목](../meetings/2021-08-10.md#adagrad-update), [이 페이지](#here), <https://example.org>,
[외부](https://pytorch.org/docs/stable/nn.html#module) `[코드](nowhere.md)`

## Here

```python
--8<-- "snippets/demo.py:update"
```

```text
[코드 블록 안](nowhere.md)
;--8<-- "snippets/escaped.py"
```
"""

BAD = """
---
title: Q2. 나쁜 페이지
qid: Q2
status: maybe
tags: [PyTorch]
meeting: meetings/2021-08-10.md
related: [qna/nope.md]
---

[없는 페이지](missing.md)와 [없는 앵커](good.md#nope)

```python
--8<-- "snippets/nope.py"
--8<-- "snippets/demo.py:other"
```

[절대 경로](/qna/good.md)

--8<--
snippets/demo.py
snippets/also-missing.py
--8<--
"""

UNTAGGED = """
---
title: Q3. 태그 없음
qid: Q3
status: open
meeting: meetings/2021-08-10.md
related: []
---

본문
"""

DUPLICATE_TAGS = """
---
title: Q4. 태그가 두 번
qid: Q4
status: open
tags: [pytorch, 옵티마이저, 옵티마이저]
meeting: meetings/2021-08-10.md
related: []
---

본문
"""

SNIPPET = """
import torch

# --8<-- [start:update]
x = torch.zeros(2)  # (2,)
# --8<-- [end:update]
# --8<-- [start:other]
y = 1
"""


@pytest.fixture
def project(tmp_path) -> Path:
    write(tmp_path / "docs/meetings/2021-08-10.md", MEETING)
    write(tmp_path / "docs/qna/good.md", GOOD)
    write(tmp_path / "snippets/demo.py", SNIPPET)
    return tmp_path


def test_check_passes_a_clean_docs_folder(project):
    result = kb("check", "--docs", project / "docs")
    assert result.returncode == 0, result.stdout
    assert result.stdout == ""
    assert "문제 없음: 페이지 2개, 내부 링크 5개, 스니펫 포함 1개" in result.stderr


def test_check_lists_every_problem_with_file_and_line(project):
    write(project / "docs/qna/bad.md", BAD)
    write(project / "docs/qna/untagged.md", UNTAGGED)
    write(project / "docs/qna/duplicate-tags.md", DUPLICATE_TAGS)
    result = kb("check", "--docs", project / "docs")
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "docs/qna/bad.md:4: field 'status' must be one of: answered, open (got 'maybe')",
        "docs/qna/bad.md:5: 태그 'PyTorch'의 표기가 사이트에서 갈립니다 (PyTorch / pytorch): 하나로 맞춰 주세요",
        "docs/qna/bad.md:7: field 'related' names 'qna/nope.md', which is not a page under docs/",
        "docs/qna/bad.md:10: 링크 대상이 없습니다: 'missing.md' (docs/qna/missing.md)",
        "docs/qna/bad.md:10: 앵커 '#nope'가 docs/qna/good.md에 없습니다 (제목이나 { #nope }가 없음)",
        "docs/qna/bad.md:13: 스니펫 파일이 없습니다: 'snippets/nope.py' (프로젝트 루트 기준)",
        "docs/qna/bad.md:14: 스니펫 'snippets/demo.py'에 구역 표시 # --8<-- [end:other]가 없습니다",
        "docs/qna/bad.md:17: 절대 경로 링크 '/qna/good.md': 이 페이지에서의 상대 경로로 써 주세요",
        "docs/qna/bad.md:21: 스니펫 파일이 없습니다: 'snippets/also-missing.py' (프로젝트 루트 기준)",
        "docs/qna/duplicate-tags.md:5: 태그 'pytorch'의 표기가 사이트에서 갈립니다 (PyTorch / pytorch): 하나로 맞춰 주세요",
        "docs/qna/duplicate-tags.md:5: 태그 '옵티마이저'가 두 번 있습니다",
        "docs/qna/good.md:5: 태그 'PyTorch'의 표기가 사이트에서 갈립니다 (PyTorch / pytorch): 하나로 맞춰 주세요",
        "docs/qna/untagged.md:1: missing required front matter field 'tags'",
    ]
    assert "문제 13개 (파일 4개)." in result.stderr


def test_check_reports_a_section_missing_entirely(project):
    write(project / "docs/qna/good.md", GOOD.replace("demo.py:update", "demo.py:nothing"))
    result = kb("check", "--docs", project / "docs")
    assert result.returncode == 1
    assert result.stdout == (
        "docs/qna/good.md:17: 스니펫 'snippets/demo.py'에 구역 표시 "
        "# --8<-- [start:nothing] # --8<-- [end:nothing]가 없습니다\n"
    )


def test_repository_docs_pass_check():
    result = kb("check")
    assert result.returncode == 0, result.stdout + result.stderr


# --- run ----------------------------------------------------------------------------------

PROBE = """
import os, sys
print("CUDA_VISIBLE_DEVICES=" + repr(os.environ.get("CUDA_VISIBLE_DEVICES")))
print("args=" + repr(sys.argv[1:]))
sys.exit(3)
"""


def test_run_shows_progress_and_timing_and_returns_the_snippets_exit_code(tmp_path):
    snippet = write(tmp_path / "snippets/probe.py", PROBE)
    result = kb("run", snippet, "--device", "cpu", "--", "--lr", "0.1")
    assert result.returncode == 3
    assert "CUDA_VISIBLE_DEVICES=''" in result.stdout  # --device cpu hides CUDA
    assert "args=['--lr', '0.1']" in result.stdout
    assert result.stderr.startswith(f"실행 중: {snippet} (장치: cpu)\n")
    assert re.search(rf"^끝: {re.escape(str(snippet))} — 종료 코드 3, \d+\.\d\d초$", result.stderr, re.M)


def test_run_without_device_leaves_the_environment_alone(tmp_path):
    snippet = write(tmp_path / "probe.py", PROBE)
    env_value = os.environ.get("CUDA_VISIBLE_DEVICES")
    result = kb("run", snippet)
    assert result.returncode == 3
    assert f"CUDA_VISIBLE_DEVICES={env_value!r}" in result.stdout


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


@pytest.mark.skipif(_cuda_available(), reason="this machine has CUDA; the no-CUDA error cannot happen here")
def test_run_on_cuda_without_cuda_is_a_usage_error(tmp_path):
    snippet = write(tmp_path / "probe.py", PROBE)
    result = kb("run", snippet, "--device", "cuda")
    assert result.returncode == 2
    assert "CUDA를 쓸 수 없습니다" in result.stderr
    assert "CUDA_VISIBLE_DEVICES" not in result.stdout  # the snippet did not run


@pytest.mark.skipif(not _cuda_available(), reason="needs a CUDA device (torch.cuda.is_available() is False)")
def test_run_on_cuda_sees_the_gpu(tmp_path):
    snippet = write(tmp_path / "gpu.py", "import torch\nassert torch.cuda.is_available()\nprint(torch.ones(2, device='cuda').sum().item())\n")
    result = kb("run", snippet, "--device", "cuda")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2.0"


def test_check_computes_the_same_heading_ids_as_the_build(built_site):
    """kb.check's anchors (toc slugs, { #id }) are the ids the strict build gives the headings."""
    from bs4 import BeautifulSoup

    from conftest import DOCS
    from kb.check import anchors

    pages, _ = load_docs(DOCS)
    compared = 0
    for src, page in pages.items():
        if src == "tags.md":  # the tags plugin adds its own ids there
            continue
        html_path = built_site / (src.removesuffix("index.md") if src.endswith("index.md") else src[:-3] + "/")
        soup = BeautifulSoup((html_path / "index.html").read_text(encoding="utf-8"), "html.parser")
        article = soup.find("article")
        ids = {h["id"] for h in article.find_all(re.compile(r"^h[1-6]$")) if h.get("id")}
        assert anchors((DOCS / src).read_text(encoding="utf-8"), page) == ids, src
        compared += len(ids)
    assert compared > 20
