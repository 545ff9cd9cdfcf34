"""Outputs and figures on the pages come from running the code in the build (kb/execute.py).

The site's own build (``built_site``) is checked for outputs that match their code; a tiny
project in a temporary folder checks the cache, failures and the switches.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from conftest import ROOT, once_per_run
from kb.blocks import html_python_blocks
from kb.runner import BlockResult
from kb.execute import BlockIndex, ExecutionError, Executor

REQUIRED_FIGURES = {"optimizer_paths.png", "momentum_nag.png", "batch_norm_loss.png", "attention_weights.png",
                    "transformer_lr.png", "vgg_params.png"}


def pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("index.html") if "assets" not in p.parts)


def test_every_runnable_block_shows_the_output_of_its_own_code(built_site):
    executor = Executor(cache_dir=Path("unused"), device=os.environ.get("KB_EXEC_DEVICE", "cpu"))  # as built
    checked = 0
    for page in pages(built_site):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        html_blocks = html_python_blocks(str(soup))
        divs = soup.select("div.language-python.highlight")
        assert len(divs) == len(html_blocks), page
        for div, block in zip(divs, html_blocks):
            output = div.find_next_sibling()
            action, reason = block.plan(executor.device)
            if action == "skip":
                assert output is None or "kb-output" not in (output.get("class") or []), page
                continue
            if action == "needs_cuda":
                assert "kb-output--needs-cuda" in output.get("class", []) and reason in output.get_text(), page
                assert not output.has_attr("data-kb-key"), f"{page}: block {block.index} was run"
                continue
            assert output is not None and "kb-output" in output.get("class", []), f"{page}: block {block.index}"
            # the output was produced from exactly this code: its key is the hash of the code shown
            assert output["data-kb-key"] == executor.key(block.code), f"{page}: block {block.index} is stale"
            checked += 1
    assert checked >= 20


def test_required_figures_are_drawn_with_alt_text(built_site):
    found = {}
    for page in pages(built_site):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for img in soup.select(".kb-figure img"):
            assert img.get("alt", "").strip(), f"{page}: figure without alt text"
            target = (page.parent / img["src"]).resolve()
            assert target.is_file() and target.stat().st_size > 10_000, f"{page}: {img['src']}"
            found[img["src"].rsplit("-", 1)[-1]] = page
    assert REQUIRED_FIGURES <= set(found), sorted(found)


def test_pages_offer_their_snippets_for_download(built_site):
    for src in ["qna/adagrad", "qna/momentum-vs-nag", "papers/vgg", "papers/batch-normalization",
                "papers/attention-is-all-you-need"]:
        page = built_site / src / "index.html"
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        links = soup.select(".kb-download a[download]")
        assert links, src
        for a in links:
            served = (page.parent / a["href"]).resolve()
            original = ROOT / "snippets" / served.relative_to(built_site.resolve() / "snippets")
            assert served.read_bytes() == original.read_bytes()


# --- a tiny project: cache, failures, switches ------------------------------------------------

MKDOCS_YML = """\
site_name: exec-test
strict: true
theme: {name: material, language: ko, font: false}
plugins: [kb]  # kb/plugin.py alone: no search index, so no Korean analysis to wait for
markdown_extensions:
  - pymdownx.highlight: {pygments_lang_class: true}
  - pymdownx.superfences
  - pymdownx.snippets: {base_path: ["."], check_paths: true}
"""
DEMO = '''\
"""Demo snippet for the execution tests."""

# --8<-- [start:a]
print("section a", 1 + 1)
# --8<-- [end:a]

# --8<-- [start:b]
print("section b")
# --8<-- [end:b]
'''
PAGE = '''\
# Demo

```python
--8<-- "snippets/demo/demo.py:a"
```

```python
--8<-- "snippets/demo/demo.py:b"
```

<!--pytest.mark.skip(reason="shown, not run")-->
```python
raise SystemExit("never runs")
```
'''


def _tiny(root: Path) -> Path:
    project = root / "tiny"
    (project / "docs").mkdir(parents=True)
    (project / "snippets" / "demo").mkdir(parents=True)
    shutil.copytree(ROOT / "kb", project / "kb")  # with __pycache__ (conftest.py)
    (project / "mkdocs.yml").write_text(MKDOCS_YML, encoding="utf-8")
    (project / "snippets" / "demo" / "demo.py").write_text(DEMO, encoding="utf-8")
    (project / "docs" / "index.md").write_text(PAGE, encoding="utf-8")
    return project


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    return _tiny(tmp_path)


def _first_build(folder: Path) -> str | None:
    result = build(_tiny(folder))
    (folder / "first-build.json").write_text(json.dumps([result.stdout, result.stderr]), encoding="utf-8")
    return None if result.returncode == 0 else f"the tiny project's first build failed:\n{result.stderr[-4000:]}"


@pytest.fixture
def built_tiny(tmp_path_factory, tmp_path: Path) -> tuple[Path, subprocess.CompletedProcess]:
    """The tiny project after its first build, and that build: built once per run (its forkserver
    start is most of a build's 4 s), each test gets a copy of its own."""
    folder = once_per_run(tmp_path_factory, "tiny-built", _first_build)
    project = shutil.copytree(folder / "tiny", tmp_path / "tiny", symlinks=True)
    stdout, stderr = json.loads((folder / "first-build.json").read_text(encoding="utf-8"))
    return project, subprocess.CompletedProcess(["mkdocs", "build"], 0, stdout, stderr)


def build(project: Path, **env: str) -> subprocess.CompletedProcess:
    import os

    full_env = dict(os.environ, NO_MKDOCS_2_WARNING="1", KB_EXEC_CACHE=str(project / "cache"), **env)
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(project / "site")],
                          cwd=project, env=full_env, capture_output=True, text=True, timeout=300)


def entries(project: Path) -> dict[str, dict]:
    cache = project / "cache"
    return {e.name: json.loads((e / "result.json").read_text(encoding="utf-8")) for e in cache.iterdir()}


def test_outputs_appear_under_blocks_and_skipped_blocks_stay_unrun(built_tiny):
    tiny, _ = built_tiny
    soup = BeautifulSoup((tiny / "site" / "index.html").read_text(encoding="utf-8"), "html.parser")
    outputs = [o.get_text() for o in soup.select(".kb-output pre")]
    assert outputs == ["section a 2", "section b"]
    assert len(soup.select(".kb-output")) == 2  # the skipped block has none


def test_changing_one_line_invalidates_exactly_its_cache_entry(built_tiny):
    tiny, _ = built_tiny
    before = entries(tiny)
    assert sorted(e["stdout"] for e in before.values()) == ["section a 2\n", "section b\n"]
    snippet = tiny / "snippets" / "demo" / "demo.py"
    snippet.write_text(DEMO.replace('print("section a", 1 + 1)', 'print("section a", 2 + 2)'), encoding="utf-8")
    result = build(tiny)
    assert result.returncode == 0, result.stderr
    after = entries(tiny)
    assert len(set(before) & set(after)) == 1  # section b's entry is kept and reused
    (new,) = set(after) - set(before)
    assert after[new]["stdout"] == "section a 4\n"
    assert "ran 1 code block(s), 1 from the cache" in result.stderr


def test_a_page_without_blocks_is_not_parsed_again_either(tmp_path):
    """Its entry is an empty list: it was taken for a miss and every build parsed such pages again."""
    pages = ["<p>no code here</p>", '<div class="language-python highlight"><pre><code>x = 1\n</code></pre></div>']
    first = BlockIndex(tmp_path / "kb-blocks.json")
    assert [len(first.blocks(html)) for html in pages] == [0, 1]
    assert first.blocks(pages[0]) == [] and (first.parsed, first.reused) == (2, 0)  # the same page twice
    first.save()
    again = BlockIndex(tmp_path / "kb-blocks.json")
    assert [len(again.blocks(html)) for html in pages] == [0, 1]
    assert (again.parsed, again.reused) == (0, 2)


def test_a_rebuild_parses_only_changed_pages_for_blocks(built_tiny):
    """The Python blocks of an unchanged page come from the last build (.cache/kb-blocks.json)."""
    tiny, first = built_tiny
    assert "blocks of 1 page(s) found by parsing, 0 from the last build" in first.stderr, first.stderr
    again = build(tiny)
    assert "blocks of 0 page(s) found by parsing, 1 from the last build" in again.stderr, again.stderr
    assert again.stdout == first.stdout and (tiny / "site" / "index.html").read_text(encoding="utf-8").count(
        'class="kb-output"') == 2
    page = tiny / "docs" / "index.md"
    page.write_text(PAGE.replace("# Demo", "# Demo, edited"), encoding="utf-8")
    edited = build(tiny)
    assert "blocks of 1 page(s) found by parsing, 0 from the last build" in edited.stderr, edited.stderr
    saved = json.loads((tiny / "kb-blocks.json").read_text(encoding="utf-8"))
    assert len(saved["pages"]) == 1  # only what the last build used
    (block_a, block_b, skipped) = next(iter(saved["pages"].values()))
    assert block_a["code"] == 'print("section a", 1 + 1)' and skipped["marker"].startswith("pytest.mark.skip")


def test_blocks_from_another_parser_version_are_not_used(built_tiny):
    tiny, _ = built_tiny
    index = tiny / "kb-blocks.json"
    data = json.loads(index.read_text(encoding="utf-8"))
    data["parser"] = "0" * 16
    for blocks in data["pages"].values():
        blocks[0]["code"] = "print('stale')"
    index.write_text(json.dumps(data), encoding="utf-8")
    result = build(tiny)
    assert "blocks of 1 page(s) found by parsing" in result.stderr, result.stderr
    assert "stale" not in (tiny / "site" / "index.html").read_text(encoding="utf-8")


def test_a_failing_block_fails_the_build_naming_page_block_and_line(tiny):
    snippet = tiny / "snippets" / "demo" / "demo.py"
    snippet.write_text(DEMO.replace('print("section b")', 'print("section b")\nassert 1 == 2, "wrong"'),
                       encoding="utf-8")
    result = build(tiny)
    assert result.returncode != 0
    assert "docs/index.md: Python block 2 (first line: 'print(\"section b\")') failed during the build" in result.stderr
    assert "AssertionError: wrong" in result.stderr
    assert "<docs/index.md block 2>:2" in result.stderr
    assert not (tiny / "cache").exists() or all((e / "result.json").is_file() for e in (tiny / "cache").iterdir()
                                                if not e.name.startswith(".tmp-"))


def test_a_figure_without_alt_text_fails_the_build(tiny):
    code = textwrap.dedent('''\
        import os
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots()
        ax.plot([0, 1])
        fig.savefig(os.path.join(os.environ["SNIPPET_OUTPUT_DIR"], "plain.png"))
        ''')
    (tiny / "docs" / "index.md").write_text(f"# Demo\n\n```python\n{code}```\n", encoding="utf-8")
    result = build(tiny)
    assert result.returncode != 0
    assert "figure plain.png has no alt text" in result.stderr


def test_execution_can_be_switched_off_and_keeps_the_cache(tiny):
    result = build(tiny, KB_EXECUTE="0")
    assert result.returncode == 0, result.stderr
    soup = BeautifulSoup((tiny / "site" / "index.html").read_text(encoding="utf-8"), "html.parser")
    assert soup.select(".kb-output") == []
    assert not (tiny / "cache").exists()
    assert build(tiny).returncode == 0
    cached = entries(tiny)
    assert len(cached) == 2
    # a preview build without execution must not empty the cache the next full build needs
    result = build(tiny, KB_EXECUTE="0")
    assert result.returncode == 0, result.stderr
    assert entries(tiny) == cached


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_block_deleting_the_cache_stops_the_build_naming_page_and_block(tiny, jobs):
    """One block at a time, the block that deleted the cache is named; two at a time, the blocks
    that ran side by side since the cache was last found whole are (the culprit among them)."""
    # moved aside, then deleted: the folder is gone at once (an rmtree in place can meet the result of
    # the block running beside it being stored, and fail with "Directory not empty", deleting nothing)
    code = ('import os, shutil\ncache = os.environ["KB_EXEC_CACHE"]\n'
            'os.rename(cache, cache + ".gone")\nshutil.rmtree(cache + ".gone")')
    (tiny / "docs" / "index.md").write_text(f"# Demo\n\n```python\nprint(1)\n```\n\n```python\n{code}\n```\n",
                                            encoding="utf-8")
    result = build(tiny, KB_BLOCK_JOBS=jobs)
    assert result.returncode != 0
    culprit = "docs/index.md: Python block 2 (first line: 'import os, shutil')"
    if jobs == "1":
        assert f"{culprit} failed during the build" in result.stderr
        assert "print(1)" not in result.stderr
    else:
        assert f"{culprit} failed during the build" in result.stderr or (
            "ran side by side" in result.stderr and f"\n  {culprit}\n" in result.stderr), result.stderr
    assert "must not delete the build's cache" in result.stderr
    assert "Traceback" not in result.stderr


# --- blocks that need CUDA (<!--pytest.mark.cuda(reason="...")-->) ------------------------------

CUDA_CODE = 'import torch\nx = torch.zeros(1, device="cuda")\nprint(x)'
CUDA_PAGE = ('<h1>T</h1>\n<div class="language-python highlight"><pre><code>print("cpu")\n</code></pre></div>\n'
             '<!--pytest.mark.cuda(reason="a <b>GPU</b> tensor & more")-->\n'
             '<div class="language-python highlight"><pre><code>' + CUDA_CODE.replace('"', "&quot;")
             + "\n</code></pre></div>\n<p>after</p>")


class StandInRunner:
    """Answers as a worker on a CUDA machine would (there is no GPU here), recording each block."""

    def __init__(self):
        self.codes = []

    def run(self, code, filename, env=None, allow_exit=None):
        self.codes.append(code)
        out = "tensor([0.], device='cuda:0')\n" if "cuda" in code else "cpu\n"
        return BlockResult(filename=filename, status="passed", stdout=out)


def test_a_cpu_build_shows_a_note_for_a_cuda_block_and_does_not_run_it(tmp_path, block_runners):
    """The real CPU worker: were the cuda block run, it would raise (Torch not compiled with CUDA
    enabled) and process_page would stop with an ExecutionError."""
    executor = Executor(cache_dir=tmp_path / "cache", device="cpu", runner=block_runners.get("cpu"))
    try:
        soup = BeautifulSoup(executor.process_page(CUDA_PAGE, "gpu.md", "gpu/"), "html.parser")
    finally:
        executor.runner = None  # the session's worker stays up for other tests
    assert executor.runs == 1 and executor.cache.used == {executor.key('print("cpu")')}
    plain, cuda = soup.select("div.language-python.highlight")
    assert plain.find_next_sibling()["data-kb-key"] == executor.key('print("cpu")')
    note = cuda.find_next_sibling()
    assert note["class"] == ["kb-output", "kb-output--needs-cuda"] and not note.has_attr("data-kb-key")
    assert note.select_one(".kb-output__label").get_text() == "실행하지 않음 (CUDA GPU 필요, 이 빌드: CPU)"
    assert note.select_one(".kb-output__note").get_text() == \
        "이 코드는 CUDA GPU가 있어야 실행됩니다. 이유: a <b>GPU</b> tensor & more"
    assert note.find("b") is None  # the reason is text, escaped, not markup


def test_a_cuda_build_runs_a_cuda_block_like_any_other(tmp_path):
    executor = Executor(cache_dir=tmp_path / "cache", device="cuda", runner=StandInRunner())
    soup = BeautifulSoup(executor.process_page(CUDA_PAGE, "gpu.md", "gpu/"), "html.parser")
    assert executor.runner.codes == ['print("cpu")', CUDA_CODE]
    assert soup.select(".kb-output--needs-cuda") == []
    output = soup.select("div.language-python.highlight")[1].find_next_sibling()
    assert output["data-kb-key"] == executor.key(CUDA_CODE) != Executor(tmp_path, device="cpu").key(CUDA_CODE)
    assert output.select_one(".kb-output__label").get_text().startswith("실행 결과 (CUDA, torch ")
    assert output.select_one("pre").get_text() == "tensor([0.], device='cuda:0')"


def test_a_malformed_cuda_marker_stops_the_build_naming_page_and_block(tmp_path):
    executor = Executor(cache_dir=tmp_path / "cache", device="cpu", runner=StandInRunner())
    with pytest.raises(ExecutionError, match=r"^docs/gpu.md block 2: <!--pytest.mark.cuda\(...\)--> without a reason"):
        executor.process_page(CUDA_PAGE.replace('reason="a <b>GPU</b> tensor & more"', 'reason=""'), "gpu.md", "gpu/")
    assert executor.runner.codes == ['print("cpu")']
    executor.runner = None  # (a stand-in) the build's on_build_error closes its executor: so here, block 1's output folder too
    executor.close()


def test_a_block_titled_with_a_snippet_gets_its_download_link_and_a_missing_one_stops_the_build(tmp_path):
    titled = ('<div class="language-python highlight"><span class="filename">{}</span><pre><code>print("cpu")\n'
              "</code></pre></div>")
    executor = Executor(cache_dir=tmp_path / "cache", device="cpu", runner=StandInRunner())
    soup = BeautifulSoup(executor.process_page(titled.format("snippets/qna/adagrad.py"), "qna/adagrad.md", "qna/adagrad/"),
                         "html.parser")
    link = soup.select_one("p.kb-download a")
    assert link["href"] == "../../snippets/qna/adagrad.py" and link["download"] == "adagrad.py"
    assert executor.snippets_used == {"snippets/qna/adagrad.py"}
    with pytest.raises(ExecutionError, match=r"^docs/t.md block 1: title names snippets/qna/gone.py, which does not exist"):
        executor.process_page(titled.format("snippets/qna/gone.py"), "t.md", "t/")
    executor.runner = None  # (a stand-in)
    executor.close()

def test_a_real_cpu_build_of_a_page_with_a_cuda_block_passes_and_shows_the_note(tiny):
    (tiny / "docs" / "index.md").write_text(
        '# Demo\n\n```python\nprint("cpu")\n```\n\n'
        '<!--pytest.mark.cuda(reason="allocates on the GPU")-->\n'
        f"```python\n{CUDA_CODE}\n```\n", encoding="utf-8")
    result = build(tiny)
    assert result.returncode == 0, result.stderr
    assert "ran 1 code block(s), 0 from the cache" in result.stderr
    soup = BeautifulSoup((tiny / "site" / "index.html").read_text(encoding="utf-8"), "html.parser")
    assert [o.get_text() for o in soup.select(".kb-output pre")] == ["cpu"]
    (note,) = soup.select(".kb-output--needs-cuda")
    assert "이유: allocates on the GPU" in note.get_text()
    assert note.find_previous_sibling("div")["class"][0] == "language-python"
