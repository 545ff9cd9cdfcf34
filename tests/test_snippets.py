"""Every snippet program runs, and every section a page can include runs alone, on each device.

The programs run in kb/runner's processes (one forkserver import of torch per
device, one fork per block); the CPU run hides CUDA (CUDA_VISIBLE_DEVICES=""). A failure is
reported at the snippet's own file and line: "snippets/qna/adagrad.py:42: failed: AssertionError".
A section that a page includes and the shared build already ran on the same device, as exactly
this code, is counted, not run again (conftest.SharedBuildRuns; the summary says how many).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from conftest import ROOT, add_summary_line, selected_devices

from kb.blocks import section_names, snippet_files, snippet_sections

SNIPPETS = snippet_files(ROOT)


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _section_params():
    params = []
    for path in SNIPPETS:
        try:
            names = section_names(path)
        except ValueError as exc:  # reported by test_section_markers_are_well_formed
            names = [f"<malformed: {exc}>"]
        params += [pytest.param(path, name, id=f"{_rel(path)}:{name}") for name in names]
    return params


def pytest_generate_tests(metafunc):
    if "device" in metafunc.fixturenames:
        metafunc.parametrize("device", selected_devices(metafunc.config))


def test_there_are_snippets():
    assert len(SNIPPETS) >= 8, f"expected the Q&A and paper snippets under {ROOT / 'snippets'}"


@pytest.mark.parametrize("path", SNIPPETS, ids=_rel)
def test_snippet_runs(path, device, block_runners):
    rel = _rel(path)
    result = block_runners.run(device, path.read_text(encoding="utf-8"), rel, script=True)
    if not result.ok:
        pytest.fail(result.report(f"{rel}, whole file on {device}"), pytrace=False)


@pytest.fixture(scope="session")
def cuda_results():
    """Sections that passed on CUDA in this session, written at the end to proofs/cuda.json
    ($KB_PROOFS_CUDA), which the build reads for the badges' CUDA claims (kb/proofs.py)."""
    passed: dict[str, str] = {}  # "snippets/x.py:section" -> the section's code
    yield passed
    if passed:
        import torch

        from kb import proofs

        name = torch.cuda.get_device_name(0)
        proofs.record_results(proofs.cuda_results_path(),
                              {key: proofs.result_entry(code, name) for key, code in passed.items()})


@pytest.fixture(scope="session")
def by_build(request):
    """Counts the sections the shared build ran as page blocks; reports the count at the end."""
    counts = {"by build": 0, "run": 0}
    yield counts
    if counts["by build"]:
        add_summary_line(request.config, f"snippet sections: {counts['run']} run here, {counts['by build']} "
                                          "ran in the shared build as page blocks, not again")


@pytest.mark.parametrize(("path", "name"), _section_params())
def test_section_runs_alone(path, name, device, block_runners, cuda_results, shared_build_runs, by_build):
    """The code `--8<-- "file.py:name"` puts on a page is a whole program: own imports, seed, data.
    A section a page includes is a page block: when the shared build ran exactly this code on this
    device, alone in a fresh process, and passed, that run is the proof (conftest.SharedBuildRuns)."""
    rel = _rel(path)
    sections = {s.name: s for s in snippet_sections(path, ROOT)}
    section = sections[name]
    if shared_build_runs.ran(device, section.code):
        by_build["by build"] += 1
        if device == "cuda":
            cuda_results[f"{rel}:{name}"] = section.code
        return
    by_build["run"] += 1
    result = block_runners.run(device, section.code, rel, line_numbers=section.line_numbers)
    if not result.ok:
        pytest.fail(result.report(f"section {name!r} of {rel}, run alone on {device}"), pytrace=False)
    if device == "cuda":
        cuda_results[f"{rel}:{name}"] = section.code


@pytest.mark.parametrize("path", SNIPPETS, ids=_rel)
def test_section_markers_are_well_formed(path):
    names = section_names(path)  # raises with file and line for an unmatched or repeated marker
    assert names, f"{_rel(path)}: no `# --8<-- [start:name]` section for a page to include"
    for name in names:
        assert re.fullmatch(r"[a-z][a-z0-9_-]*", name), f"{_rel(path)}: section name {name!r}"


@pytest.mark.parametrize("path", SNIPPETS, ids=_rel)
def test_snippet_header_says_what_and_source(path):
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    assert doc, f"{_rel(path)}: no docstring saying what it shows"
    assert re.search(r"^Sources?:", doc, re.M), f"{_rel(path)}: the docstring names no source (a 'Sources:' list)"


def _checks(tree: ast.AST) -> int:
    """assert statements and assert*/assert_close calls."""
    n = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert):
            n += 1
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            n += name.startswith("assert")
    return n


@pytest.mark.parametrize("path", SNIPPETS, ids=_rel)
def test_every_section_is_seeded_checked_and_device_agnostic(path):
    rel = _rel(path)
    problems = []
    for section in snippet_sections(path, ROOT):
        code = section.code
        where = f"{rel}:{section.name}"
        if "manual_seed(" not in code:
            problems.append(f"{where}: not seeded (torch.manual_seed)")
        if _checks(ast.parse(code)) == 0:
            problems.append(f"{where}: checks nothing (no assert, no assert_close)")
    text = path.read_text(encoding="utf-8")
    for number, line in enumerate(text.split("\n"), start=1):
        code = line.split("#", 1)[0]
        if re.search(r"\.cuda\(", code):
            problems.append(f"{rel}:{number}: hard-coded .cuda(); use .to(device)")
        if re.search(r"""["']cuda(:\d+)?["']""", code) and 'if torch.cuda.is_available() else "cpu"' not in code:
            problems.append(f"{rel}:{number}: hard-coded device {code.strip()!r}")
    assert not problems, "\n".join(problems)


# --- The runner itself: isolation, device policy, and failure reports ------------------------------


def test_a_blocks_process_starts_without_cuda_initialised(block_runners):
    """Forked from a process that had initialised CUDA, a block could not use CUDA."""
    runner = block_runners.get("cpu")
    result = runner.run("import sys\nassert 'torch' not in sys.modules or not sys.modules['torch'].cuda.is_initialized()")
    assert runner.ready_info["ready"] and result.ok, result.report()


def test_cpu_run_hides_cuda(block_runners):
    code = "import os, torch\nassert os.environ['CUDA_VISIBLE_DEVICES'] == ''\nassert not torch.cuda.is_available()\n"
    result = block_runners.get("cpu").run(code, "<cpu check>")
    assert result.ok, result.report()


def test_blocks_run_alone_with_fresh_state(block_runners):
    runner = block_runners.get("cpu")
    first = runner.run(
        "import os, torch, matplotlib.pyplot as plt\n"
        "torch.set_default_dtype(torch.float64)\n"
        "torch.manual_seed(123)\n"
        "plt.figure()\n"
        "LEAK = 1\n"
        "open('left-behind.txt', 'w').write('x')\n"
        "print('cwd', os.getcwd())\n",
        "<first>",
    )
    assert first.ok, first.report()
    first_cwd = first.stdout.split("cwd ", 1)[1].strip()
    second = runner.run(
        "import os, torch, matplotlib.pyplot as plt\n"
        "assert torch.get_default_dtype() == torch.float32, 'default dtype leaked'\n"
        "assert 'LEAK' not in globals(), 'globals leaked'\n"
        "assert plt.get_fignums() == [], 'figures leaked'\n"
        "assert os.listdir('.') == [], 'a file from another block'\n"
        "assert __name__ == '__main__'\n"
        "torch.manual_seed(0)\n",
        "<second>",
    )
    assert second.ok, second.report()
    assert not Path(first_cwd).exists(), "the block's working directory was not removed"
    assert not (ROOT / "left-behind.txt").exists()


def test_failure_names_file_and_line(tmp_path, block_runners):
    snippet = tmp_path / "snippets" / "demo.py"
    snippet.parent.mkdir()
    snippet.write_text(
        '"""Demo."""\n'
        "# --8<-- [start:outer]\n"
        "import torch\n"
        "# --8<-- [start:inner]\n"
        "x = torch.zeros(2)\n"
        "# --8<-- [end:inner]\n"
        "\n"
        "def check(v):\n"
        "    assert v.sum() == 1, 'the sum is not 1'\n"  # line 9
        "\n"
        "check(x)\n"  # line 11
        "# --8<-- [end:outer]\n",
        encoding="utf-8",
    )
    runner = block_runners.get("cpu")
    whole = runner.run(snippet.read_text(), str(snippet), script=True)
    assert whole.status == "failed" and whole.location == f"{snippet}:9"
    assert whole.error == "AssertionError: the sum is not 1"
    report = whole.report()
    assert report.startswith(f"{snippet}:9: failed: AssertionError: the sum is not 1")
    assert "assert v.sum() == 1" in report and f'File "{snippet}", line 11' in report

    # a section that skips an inner marker still reports the file's own line numbers
    outer = {s.name: s for s in snippet_sections(snippet, tmp_path)}["outer"]
    assert "8<-" not in outer.code
    section = runner.run(outer.code, str(snippet), line_numbers=outer.line_numbers)
    assert section.location == f"{snippet}:9", section.report()


def test_crash_and_timeout_are_reported(block_runners):
    runner = block_runners.get("cpu")
    crash = runner.run("import os\nprint('before', flush=True)\nos._exit(3)\n", "<crash>")
    assert crash.status == "crashed" and "status 3" in crash.error and "before" in crash.stdout
    slow = runner.run("import time\ntime.sleep(30)\n", "<slow>", timeout=0.5)
    assert slow.status == "timeout"
    after = runner.run("print('still serving')\n", "<after>")
    assert after.ok and after.stdout == "still serving\n"
