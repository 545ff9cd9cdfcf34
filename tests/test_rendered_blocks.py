"""The guard: every Python block of the built site runs alone, as a reader would copy it.

The site is built once with ``mkdocs build --strict`` (the ``built_site`` fixture). In each page,
every ``<div class="language-python highlight">`` (also ``py``, ``python3``, ``py3``) is a block;
its code is what Material's copy button copies (``.md-code__button[data-clipboard-target]`` targets
the ``<code>`` inside the block's ``<pre>``; line numbers and annotations are not part of it). Each
block runs alone in a fresh process of kb/runner on each selected device. A block preceded by
``<!--pytest.mark.skip(reason="...")-->`` (the comment survives into the HTML) is counted, not run.
A block preceded by ``<!--pytest.mark.cuda(reason="...")-->`` needs a CUDA GPU: it runs only in the
``device="cuda"`` run (marked ``cuda``: ``pytest --device cuda -m cuda``); on cpu it is counted as
needing CUDA and listed in the summary.

Unlike pytest-codeblocks (which reads the Markdown), this sees included snippet sections expanded,
fences with a ``title=``, and ``py`` fences; a page whose source has more Python fences than its
HTML has Python blocks fails, so no block escapes unseen. How a block's copy text and markers are
read, and Python fences counted: tests/test_block_parsing.py.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import NamedTuple

import pytest
from conftest import DOCS, ROOT, add_summary_line, build_site, selected_devices

from kb.blocks import Page, html_python_blocks, markdown_python_fences, site_pages, snippet_sections
from kb.runner import BlockResult


def pytest_generate_tests(metafunc):
    if "device" in metafunc.fixturenames:
        metafunc.parametrize("device", selected_devices(metafunc.config))


class Checked(NamedTuple):
    problems: list[str]
    ran: int
    skipped: list[str]  # "label: reason" of each block with a skip marker
    needs_cuda: list[str]  # "label: reason" of each cuda block not run on this device


def check_pages(pages, run, docs_fences: int, device: str = "cpu") -> Checked:
    """Run every block of ``pages`` meant for ``device`` with ``run(code, filename, allow_exit=reason)``
    (a cuda-marked block only on "cuda"; kb.blocks.HtmlBlock.plan, as the build decides)."""
    problems, ran, skipped, needs_cuda, invalid = [], 0, [], [], 0
    total = sum(len(page.blocks) for page in pages)
    if total == 0 and docs_fences:
        problems.append(
            f"no Python block found in the built site, but the Markdown has {docs_fences} Python fences: "
            "are the blocks still rendered as <div class=\"language-python highlight\"> "
            "(pymdownx.highlight: pygments_lang_class: true)?"
        )
    for page in pages:
        if page.source is not None and len(page.blocks) < page.fences:
            problems.append(
                f"{page.name}: {page.fences} Python fences in the Markdown, {len(page.blocks)} Python blocks "
                f"in {page.html}: some blocks are rendered in a way the guard does not recognise"
            )
        for block in page.blocks:
            label = f"{page.name} block {block.index} (first line: {block.first_line!r})"
            try:
                action, reason = block.plan(device)
            except ValueError as exc:
                invalid += 1
                problems.append(f"{label}: {exc}")
                continue
            if action != "run":
                (skipped if action == "skip" else needs_cuda).append(f"{label}: {reason}")
                continue
            result = run(block.code, f"<{page.name} block {block.index}>", allow_exit=reason)
            ran += 1
            if not result.ok:
                problems.append(result.report(label))
    assert ran + len(skipped) + len(needs_cuda) + invalid == total, \
        "every block is run, skipped with a reason, counted as needing CUDA, or reported"
    return Checked(problems, ran, skipped, needs_cuda)


def test_every_rendered_python_block_runs_alone(device, built_site, block_runners, shared_build_runs, request):
    pages = site_pages(built_site, DOCS, ROOT)
    docs_fences = sum(markdown_python_fences(md.read_text(encoding="utf-8")) for md in DOCS.rglob("*.md"))

    # A block the shared build ran on this device is not run again: the build's run is the proof
    # (conftest.SharedBuildRuns).
    by_build = 0

    def run(code, filename, allow_exit=None):
        nonlocal by_build
        if shared_build_runs.ran(device, code, allow_exit):
            by_build += 1
            return BlockResult(filename, "passed", reused=True)
        return block_runners.run(device, code, filename, allow_exit=allow_exit)

    problems, ran, skipped, needs_cuda = check_pages(pages, run, docs_fences, device)
    total = sum(len(page.blocks) for page in pages)
    on_pages = sum(1 for page in pages if page.blocks)
    add_summary_line(request.config, f"rendered Python blocks on {device}: {total} on {on_pages} pages, "
                                      f"{ran} run, {len(skipped)} skipped with a reason, "
                                      f"{len(needs_cuda)} need CUDA (not run on {device}); "
                                      f"{by_build} of the run ones ran in the shared build, not again")
    for line in skipped:
        add_summary_line(request.config, f"  skipped: {line}")
    for line in needs_cuda:
        add_summary_line(request.config, f"  needs CUDA: {line}")
    if problems:
        pytest.fail(f"{len(problems)} of {total} rendered Python blocks failed on {device}:\n\n"
                    + "\n\n".join(problems), pytrace=False)


# --- The parts of the guard: a block marked cuda, a malformed marker, a throw-away site ------------

CUDA_CODE = 'import torch\nx = torch.zeros(1, device="cuda")  # fails where there is no CUDA GPU\nassert x.is_cuda'
CUDA_HTML = ('<!--pytest.mark.cuda(reason="allocates on the GPU")-->\n'
             '<div class="language-python highlight"><pre><span></span><code><span class="kn">import</span> torch\n'
             'x = torch.zeros(1, device=<span class="s2">&quot;cuda&quot;</span>)  '
             '<span class="c1"># fails where there is no CUDA GPU</span>\nassert x.is_cuda\n</code></pre></div>')
PLAIN_HTML = '<div class="language-python highlight"><pre><code>print("anywhere")\n</code></pre></div>'


def test_cuda_marker_names_its_reason_and_runs_the_block_on_cuda_only():
    (block,) = html_python_blocks(CUDA_HTML)
    assert block.code == CUDA_CODE
    assert (block.skip_reason, block.allow_exit_reason, block.cuda_reason) == (None, None, "allocates on the GPU")
    assert block.plan("cpu") == ("needs_cuda", "allocates on the GPU")
    assert block.plan("cuda") == ("run", None)  # not an allowed exit: it must run to its end


def _fixture_pages() -> list[Page]:
    blocks = html_python_blocks(PLAIN_HTML + "\n" + CUDA_HTML)
    return [Page(Path("gpu/index.html"), Path("docs/gpu.md"), blocks, fences=2)]


def test_the_cuda_block_really_fails_on_the_cpu_runner(block_runners):
    """The fixture proves something: run on the CPU, its code raises."""
    result = block_runners.get("cpu").run(CUDA_CODE, "<cuda fixture>")
    assert not result.ok and "CUDA" in result.error, result.report()


def test_guard_on_cpu_counts_a_cuda_block_and_does_not_run_it(block_runners):
    ran_codes = []

    def run(code, filename, allow_exit=None):  # the real CPU runner, recording what it was given
        ran_codes.append(code)
        return block_runners.get("cpu").run(code, filename, allow_exit=allow_exit)

    problems, ran, skipped, needs_cuda = check_pages(_fixture_pages(), run, docs_fences=2, device="cpu")
    assert problems == [] and ran == 1 and skipped == []
    assert ran_codes == ['print("anywhere")']
    assert needs_cuda == ["docs/gpu.md block 2 (first line: 'import torch'): allocates on the GPU"]


def test_guard_on_cuda_runs_the_cuda_block_like_any_other():
    """No GPU here: a stand-in runner records what the device="cuda" run would execute."""
    calls = []

    def run(code, filename, allow_exit=None):
        calls.append((code, filename, allow_exit))
        return BlockResult(filename=filename, status="passed")

    problems, ran, skipped, needs_cuda = check_pages(_fixture_pages(), run, docs_fences=2, device="cuda")
    assert (problems, ran, skipped, needs_cuda) == ([], 2, [], [])
    assert calls[1] == (CUDA_CODE, "<docs/gpu.md block 2>", None)


def test_guard_reports_a_malformed_cuda_marker_with_page_and_block():
    html = '<!--pytest.mark.cuda()-->\n' + PLAIN_HTML
    pages = [Page(Path("gpu/index.html"), Path("docs/gpu.md"), html_python_blocks(html), fences=1)]
    problems, ran, skipped, needs_cuda = check_pages(pages, None, docs_fences=1, device="cuda")
    (problem,) = problems
    assert ran == 0 and problem.startswith("docs/gpu.md block 1 (first line: 'print(\"anywhere\")'): "
                                           "unsupported marker <!--pytest.mark.cuda()-->")


def test_pytest_codeblocks_skips_a_cuda_page_block_with_its_reason_on_cpu(tmp_path):
    """pytest-codeblocks turns the comment into a ``cuda`` mark; on a CPU run conftest skips that
    block with its reason instead of exec'ing it (where it would raise)."""
    page = tmp_path / "page.md"
    page.write_text("```python\nprint(1)\n```\n\n<!--pytest.mark.cuda(reason=\"allocates on the GPU\")-->\n"
                    f"```python\n{CUDA_CODE}\n```\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "conftest", "-p", "no:cacheprovider", "-q", "-rs",
                             "-c", str(ROOT / "pytest.ini"), "--rootdir", str(ROOT), "--device", "cpu", str(page)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed, 1 skipped" in result.stdout and "needs a CUDA GPU: allocates on the GPU" in result.stdout


def test_guard_reports_page_block_and_line_in_a_built_site(tmp_path, block_runners):
    """A throw-away project that inherits mkdocs.yml (theme features, Markdown extensions: the same
    rendering), minus everything tied to this project's files, with one page of blocks."""
    project = tmp_path / "project"
    (project / "docs").mkdir(parents=True)
    (project / "snippets").mkdir()
    (project / "snippets" / "demo.py").write_text(
        '"""Demo."""\n# --8<-- [start:part]\nimport math\n\nassert math.isclose(math.pi, 3.14159, rel_tol=1e-5)\n'
        "# --8<-- [end:part]\n",
        encoding="utf-8",
    )
    (project / "mkdocs.yml").write_text(
        textwrap.dedent(
            f"""\
            INHERIT: {ROOT / "mkdocs.yml"}
            site_name: guard check
            docs_dir: docs
            nav: [index.md]
            hooks: []
            plugins: [search]
            watch: []
            extra_css: []
            extra_javascript: []
            theme:
              custom_dir: {ROOT / "overrides"}
            """
        ),
        encoding="utf-8",
    )
    (project / "docs" / "index.md").write_text(
        textwrap.dedent(
            """\
            # Guard check

            ```python
            print("runs")
            ```

            <!--pytest.mark.skip(reason="a fragment")-->
            ```python
            undefined_name
            ```

            ```python title="snippets/demo.py"
            --8<-- "snippets/demo.py:part"
            ```

            !!! note
                ```python
                import math
                assert math.pi > 4, "pi is not above 4"
                ```

            <!--pytest.mark.cuda(reason="allocates on the GPU")-->
            ```python
            import torch
            x = torch.zeros(1, device="cuda")
            ```
            """
        ),
        encoding="utf-8",
    )
    built = build_site(project, tmp_path / "site")
    assert built.returncode == 0, "the throw-away project (INHERIT: mkdocs.yml) did not build:\n" + built.stderr

    pages = site_pages(tmp_path / "site", project / "docs", project)
    (page,) = [p for p in pages if p.blocks]
    assert page.name == "docs/index.md" and page.fences == 5 and len(page.blocks) == 5
    # an included section renders byte-identical to the section the snippet tests run
    (section,) = snippet_sections(project / "snippets" / "demo.py", project)
    assert page.blocks[2].code == section.code

    runner = block_runners.get("cpu")
    problems, ran, skipped, needs_cuda = check_pages(pages, runner.run, docs_fences=5, device="cpu")
    assert (ran, skipped) == (3, ["docs/index.md block 2 (first line: 'undefined_name'): a fragment"])
    assert needs_cuda == ["docs/index.md block 5 (first line: 'import torch'): allocates on the GPU"]
    (problem,) = problems
    assert problem.startswith("<docs/index.md block 4>:2: failed: AssertionError: pi is not above 4")
    assert "docs/index.md block 4 (first line: 'import math')" in problem

    # a page whose Python blocks the guard cannot see fails, as does a site with none at all
    page.blocks.clear()
    problems, ran, skipped, needs_cuda = check_pages(pages, runner.run, docs_fences=5)
    assert ran == 0 and len(problems) == 2
    assert "no Python block found" in problems[0] and "5 Python fences in the Markdown, 0" in problems[1]

