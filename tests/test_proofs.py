"""kb/proofs.py: the proof badge under each tested block and the 흔한 실수 section of a page.

The badge claims CUDA only from a results file a CUDA test run wrote, and only for the section
code it recorded; these tests use synthetic results files in a temporary folder (no GPU here).
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from conftest import ROOT

from kb import mistakes, proofs

CPU_BUILD = proofs.BuildInfo(device="cpu", executes=True, date="2026-11-30")
NO_RUN_BUILD = proofs.BuildInfo(device="cpu", executes=False, date="2026-11-30")
ADAGRAD = "snippets/qna/adagrad.py"
PAGE = f'''## 코드

```python title="{ADAGRAD}"
--8<-- "{ADAGRAD}:update"
```

끝.
'''


def _section_code(snippet: str, name: str, root: Path = ROOT) -> str:
    from kb.blocks import snippet_sections

    return next(s.code for s in snippet_sections(root / snippet, root) if s.name == name)


def _badge(md: str) -> str:
    start = md.index('<p class="kb-proof"')
    return md[start : md.index("</p>", start) + 4]


def test_badge_without_cuda_results_says_cpu_only():
    md = proofs.expand("qna/adagrad.md", PAGE, ROOT, CPU_BUILD, cuda={})
    badge = _badge(md)
    assert md.index("```\n\n<p class=\"kb-proof\"") > md.index('--8<-- "snippets/qna/adagrad.py:update"')
    assert "검증 기준: PyTorch 구현" in badge and "torch.optim.Adagrad" in badge
    assert f"torch {proofs.torch_version()}" in badge
    assert "CPU (이 빌드에서 실행, 2026-11-30)" in badge and "CUDA 기록 없음" in badge
    assert 'data-kb-cuda="no"' in badge


def test_build_that_does_not_execute_claims_no_device():
    badge = _badge(proofs.expand("qna/adagrad.md", PAGE, ROOT, NO_RUN_BUILD, cuda={}))
    assert "CPU" not in badge and "이 빌드에서는 실행하지 않음" in badge


def _cuda_file(tmp_path: Path, code: str) -> Path:
    path = tmp_path / "proofs" / "cuda.json"
    entry = proofs.result_entry(code, "NVIDIA H200")
    entry["when"] = "2026-11-29T08:00:00Z"
    proofs.record_results(path, {f"{ADAGRAD}:update": entry})
    return path


def test_badge_shows_cuda_only_from_a_matching_cuda_record(tmp_path, monkeypatch):
    path = _cuda_file(tmp_path, _section_code(ADAGRAD, "update"))
    monkeypatch.setenv("KB_PROOFS_CUDA", str(path))
    badge = _badge(proofs.expand("qna/adagrad.md", PAGE, ROOT, CPU_BUILD))  # reads $KB_PROOFS_CUDA
    assert 'data-kb-cuda="yes"' in badge
    assert "CUDA (NVIDIA H200, torch " in badge and "2026-11-29 테스트 기록" in badge
    assert "CPU (이 빌드에서 실행" in badge and "CUDA 기록 없음" not in badge


def test_a_cuda_record_of_other_code_is_not_shown(tmp_path):
    path = _cuda_file(tmp_path, _section_code(ADAGRAD, "update") + "\n# changed since the CUDA run")
    badge = _badge(proofs.expand("qna/adagrad.md", PAGE, ROOT, CPU_BUILD, cuda=proofs.read_results(path)))
    assert 'data-kb-cuda="no"' in badge and "CUDA 기록 없음" in badge


def test_a_failed_cuda_record_is_not_shown(tmp_path):
    path = tmp_path / "cuda.json"
    proofs.record_results(path, {f"{ADAGRAD}:update": proofs.result_entry(_section_code(ADAGRAD, "update"), "GPU",
                                                                           status="failed")})
    badge = _badge(proofs.expand("qna/adagrad.md", PAGE, ROOT, CPU_BUILD, cuda=proofs.read_results(path)))
    assert 'data-kb-cuda="no"' in badge


def test_results_file_merges_and_is_checked(tmp_path):
    path = tmp_path / "cuda.json"
    assert proofs.read_results(path) == {}  # absent: no CUDA claims at all
    proofs.record_results(path, {"a.py:x": {"status": "passed"}})
    proofs.record_results(path, {"b.py:y": {"status": "passed"}})
    assert sorted(proofs.read_results(path)) == ["a.py:x", "b.py:y"]
    assert not list(tmp_path.glob(".tmp-*"))
    path.write_text('{"format": "1", "results": [', encoding="utf-8")
    with pytest.raises(proofs.ProofError, match=r"cuda\.json:1: not valid JSON"):
        proofs.read_results(path)
    path.write_text(json.dumps({"results": {}}), encoding="utf-8")
    with pytest.raises(proofs.ProofError, match="expected"):
        proofs.read_results(path)


def test_every_included_section_on_the_pages_has_a_proof_entry():
    """The build raises for a block without one; this names them all at once."""
    missing = []
    for page in sorted((ROOT / "docs").rglob("*.md")):
        for m in proofs.INCLUDE_RE.finditer(page.read_text(encoding="utf-8")):
            cat = mistakes.load(ROOT / m.group("file"), ROOT)
            if m.group("section") not in cat.proofs:
                missing.append(f"{page.relative_to(ROOT)}: {m.group('file')}:{m.group('section')}")
    assert not missing, missing


def test_every_qna_and_paper_page_with_a_snippet_shows_its_mistakes():
    problems = []
    for page in sorted([*(ROOT / "docs" / "qna").glob("*.md"), *(ROOT / "docs" / "papers").glob("*.md")]):
        text = page.read_text(encoding="utf-8")
        included = {m.group("file") for m in proofs.INCLUDE_RE.finditer(text)}
        shown = set(proofs.MISTAKES_RE.findall(text))
        if included - shown:
            problems.append(f"{page.relative_to(ROOT)}: no <!-- kb:mistakes FILE --> for {sorted(included - shown)}")
    assert not problems, problems


# --- the 흔한 실수 section, on a small project ---------------------------------------------------------

SNIPPET = '''"""Demo."""
# --8<-- [start:demo]
import torch

torch.manual_seed(0)
eps = 1.0
G = torch.tensor([4.0, 9.0], dtype=torch.float64)
step = 1 / (torch.sqrt(G) + eps)
print("step", step.tolist())
torch.testing.assert_close(step, torch.tensor([1 / 3, 1 / 4], dtype=torch.float64), rtol=0, atol=1e-12)
# --8<-- [end:demo]
'''
CATALOGUE = """\
    proofs:
      demo: {against: identity, what: "1 / (sqrt(G) + eps) <b>by hand</b>"}
    mistakes:
      - name: eps-inside-sqrt
        title: "ε inside <script>alert(1)</script>"
        section: demo
        find: "step = 1 / (torch.sqrt(G) + eps)"
        replace: "step = 1 / torch.sqrt(G + eps)"
        check: "torch.testing.assert_close(step"
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    snippet = tmp_path / "snippets" / "demo" / "eps.py"
    snippet.parent.mkdir(parents=True)
    snippet.write_text(SNIPPET, encoding="utf-8")
    mistakes.catalogue_path(snippet).write_text(textwrap.dedent(CATALOGUE), encoding="utf-8")
    monkeypatch.setenv("KB_MISTAKES_CACHE", str(tmp_path / "cache"))
    return tmp_path


@pytest.fixture(scope="module", autouse=True)
def _close_the_build_runner():
    """kb.proofs starts one warm worker on its first cache miss; close it after this module."""
    yield
    proofs.close()


def test_mistakes_section_shows_the_changed_line_and_what_the_check_printed(project):
    md = proofs.expand("qna/demo.md", "앞\n\n<!-- kb:mistakes snippets/demo/eps.py -->\n\n뒤\n", project, CPU_BUILD, cuda={})
    assert "<!-- kb:mistakes" not in md and md.startswith("앞\n\n\n<div class=\"kb-mistakes\"")
    block = md[md.index("<div"):md.rindex("</div>") + 6]
    assert "\n" not in block  # one Markdown line: no Markdown rule can touch it
    assert '<span class="kb-diff__del">-    8  step = 1 / (torch.sqrt(G) + eps)</span>' in block
    assert '<span class="kb-diff__add">+    8  step = 1 / torch.sqrt(G + eps)</span>' in block
    assert "잡아낸 검사 (10행)" in block
    assert "AssertionError: Tensor-likes are not close!" in block and "Greatest absolute difference" in block
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in block and "<script>" not in block
    assert len(list((project / "cache").glob("*.json"))) == 1


def test_mistake_output_is_recomputed_when_the_code_changes(project):
    proofs.expand("qna/demo.md", "<!-- kb:mistakes snippets/demo/eps.py -->\n", project, CPU_BUILD, cuda={})
    snippet = project / "snippets" / "demo" / "eps.py"
    snippet.write_text(SNIPPET.replace("[4.0, 9.0]", "[16.0, 9.0]").replace("[1 / 3, 1 / 4]", "[1 / 5, 1 / 4]"))
    md = proofs.expand("qna/demo.md", "<!-- kb:mistakes snippets/demo/eps.py -->\n", project, CPU_BUILD, cuda={})
    assert len(list((project / "cache").glob("*.json"))) == 2  # a new key: the stale output is not used
    assert "잡아낸 검사 (10행)" in md


def test_a_snippets_mistakes_are_made_once_while_its_files_are_unchanged(project, monkeypatch):
    """Every page showing the snippet (and every `serve` rebuild) reuses them; an edit of the
    catalogue or the snippet makes them again."""
    made = []
    real = proofs._mistakes_html
    monkeypatch.setattr(proofs, "_mistakes_html", lambda *a, **k: made.append(a[0]) or real(*a, **k))
    page = "<!-- kb:mistakes snippets/demo/eps.py -->\n"
    first = proofs.expand("qna/a.md", page, project, NO_RUN_BUILD, cuda={})
    assert proofs.expand("qna/b.md", page, project, NO_RUN_BUILD, cuda={}) == first
    assert len(made) == 1
    catalogue = mistakes.catalogue_path(project / "snippets" / "demo" / "eps.py")
    catalogue.write_text(textwrap.dedent(CATALOGUE).replace("ε inside", "ε placed inside"), encoding="utf-8")
    again = proofs.expand("qna/a.md", page, project, NO_RUN_BUILD, cuda={})
    assert len(made) == 2 and "ε placed inside" in again


def test_a_mistake_its_check_does_not_catch_fails_the_build(project):
    snippet = project / "snippets" / "demo" / "eps.py"
    snippet.write_text(SNIPPET.replace("eps = 1.0", "eps = 1e-10").replace("[1 / 3, 1 / 4]", "[1 / 2, 1 / 3]")
                       .replace("atol=1e-12", "atol=1e-6"))
    with pytest.raises(proofs.ProofError, match=r"snippets/demo/eps\.py: mistake 'eps-inside-sqrt' survived"):
        proofs.expand("qna/demo.md", "<!-- kb:mistakes snippets/demo/eps.py -->\n", project, CPU_BUILD, cuda={})


def test_build_without_execution_shows_the_change_but_no_output(project):
    md = proofs.expand("qna/demo.md", "<!-- kb:mistakes snippets/demo/eps.py -->\n", project, NO_RUN_BUILD, cuda={})
    assert "kb-diff__add" in md and "KB_EXECUTE=0" in md and "AssertionError" not in md
    assert not (project / "cache").exists()


@pytest.mark.parametrize(("text", "message"), [
    ("x\n<!-- kb:mistakes snippets/demo/none.py -->\n", r"docs/qna/demo\.md:2: kb:mistakes names 'snippets/demo/none\.py'"),
    ('```python title="snippets/demo/eps.py"\n--8<-- "snippets/demo/eps.py:other"\n```\n',
     r"docs/qna/demo\.md:1: snippets/demo/eps\.mistakes\.yaml has no proofs\.other"),
])
def test_bad_markers_are_named_with_page_and_line(project, text, message):
    with pytest.raises(proofs.ProofError, match=message):
        proofs.expand("qna/demo.md", text, project, CPU_BUILD, cuda={})


def test_badge_text_is_escaped(project):
    page = '```python title="snippets/demo/eps.py"\n--8<-- "snippets/demo/eps.py:demo"\n```\n'
    badge = _badge(proofs.expand("qna/demo.md", page, project, CPU_BUILD, cuda={}))
    assert "&lt;b&gt;by hand&lt;/b&gt;" in badge and "<b>" not in badge
