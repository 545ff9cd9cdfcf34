"""Every snippet catches the classic mistakes of its catalogue (``snippets/<topic>/<name>.mistakes.yaml``).

Each mistake is applied to its snippet as a textual change (``find`` -> ``replace``; the find must
occur exactly once), the changed section runs alone in the session's warm CPU worker (conftest's
``block_runners``), and it must fail on the catalogue's ``check`` line. A mistake that survives, or
that fails somewhere else, fails here with the snippet, the mistake and the check that should have
caught it. The terminal summary says "mistakes caught C/N".
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from conftest import ROOT, add_summary_line

from kb import mistakes, proofs
from kb.blocks import section_names, snippet_files

SNIPPETS = snippet_files(ROOT)
CATALOGUES = {path: mistakes.load(path, ROOT) for path in SNIPPETS}
ALL = [m for cat in CATALOGUES.values() for m in cat.mistakes]


@pytest.fixture(scope="session")
def tally(request):
    """Counts caught mistakes; reports "mistakes caught C/N" (N: the whole catalogue) at the end."""
    counts = {"caught": 0, "run": 0}
    yield counts
    if counts["run"]:
        line = f"mistakes caught {counts['caught']}/{len(ALL)}"
        if counts["run"] != len(ALL):
            line += f" ({counts['run']} run in this session)"
        add_summary_line(request.config, line)


def test_catalogue_is_large_enough():
    small = {mistakes.catalogue_path(p).relative_to(ROOT).as_posix(): len(c.mistakes)
             for p, c in CATALOGUES.items() if len(c.mistakes) < 3}
    assert not small, f"fewer than three mistakes: {small}"
    assert len(ALL) >= 30, f"{len(ALL)} mistakes in all; the catalogue needs 30 or more"


@pytest.mark.parametrize("path", SNIPPETS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_section_says_what_its_proof_covers(path):
    proofs = CATALOGUES[path].proofs
    names = section_names(path)
    assert sorted(proofs) == sorted(names), (
        f"{mistakes.catalogue_path(path).relative_to(ROOT)}: 'proofs' lists {sorted(proofs)}, "
        f"the snippet has the sections {sorted(names)}")


@pytest.mark.parametrize("mistake", ALL, ids=lambda m: f"{m.snippet}:{m.name}")
def test_find_occurs_exactly_once_in_its_section(mistake, tmp_path):
    """A refactor of the snippet cannot make a mistake a silent no-op."""
    mutant = mistakes.mutate(mistake, ROOT, tmp_path)  # raises naming the catalogue line
    assert mutant.code != next(s for s in _sections(mistake) if s.name == mistake.section).code
    assert mutant.check_lines, mistake


def _sections(mistake):
    from kb.blocks import snippet_sections

    return snippet_sections(ROOT / mistake.snippet, ROOT)


@pytest.mark.parametrize("mistake", ALL, ids=lambda m: f"{m.snippet}:{m.name}")
def test_snippet_catches_mistake(mistake, block_runners, tally):
    """Through the build's own cache (kb/proofs.py, .cache/kb-mistakes): a mistake that a build
    (the shared one, or the last `make serve`) caught with the same code, check lines, torch,
    Python, kb/mistakes.py and runner is not run again; any other is run here and, caught,
    cached for the build."""
    tally["run"] += 1
    try:
        out = proofs.caught_output(mistake, ROOT, get_runner=lambda: block_runners.get("cpu"))
    except proofs.ProofError as exc:
        pytest.fail(str(exc), pytrace=False)
    assert mistake.check in out["check"], out
    tally["caught"] += 1


# --- the machinery itself -------------------------------------------------------------------------

WEAK = '''"""Demo."""
# --8<-- [start:demo]
import torch

torch.manual_seed(0)
eps = 1e-10
G = torch.tensor([4.0, 9.0], dtype=torch.float64)
step = 1 / (torch.sqrt(G) + eps)
print("step", step.tolist())
torch.testing.assert_close(step, torch.tensor([0.5, 1 / 3], dtype=torch.float64), rtol=0, atol=1e-6)
# --8<-- [end:demo]
'''


def _project(tmp_path: Path, catalogue: str) -> Path:
    snippet = tmp_path / "snippets" / "demo" / "weak.py"
    snippet.parent.mkdir(parents=True)
    snippet.write_text(WEAK, encoding="utf-8")
    mistakes.catalogue_path(snippet).write_text(textwrap.dedent(catalogue), encoding="utf-8")
    return snippet


EPS_INSIDE = """\
    proofs:
      demo: {against: identity, what: "1 / sqrt(G)"}
    mistakes:
      - name: eps-inside-sqrt
        title: eps inside
        section: demo
        find: "step = 1 / (torch.sqrt(G) + eps)"
        replace: "step = 1 / torch.sqrt(G + eps)"
        check: "torch.testing.assert_close(step"
      - name: no-sqrt
        title: no sqrt
        section: demo
        find: "step = 1 / (torch.sqrt(G) + eps)"
        replace: "step = 1 / (G + eps)"
        check: "torch.testing.assert_close(step"
"""


def test_a_surviving_mistake_is_reported_with_snippet_mistake_and_check(tmp_path, block_runners):
    snippet = _project(tmp_path, EPS_INSIDE)
    cat = mistakes.load(snippet, tmp_path)
    survivor, caught = (mistakes.run(m, block_runners.get("cpu"), tmp_path) for m in cat.mistakes)
    # eps = 1e-10 inside the square root is invisible at atol 1e-6: the weak check lets it through
    assert survivor.result.ok and not survivor.caught
    verdict = survivor.verdict()
    assert verdict.startswith("snippets/demo/weak.py: mistake 'eps-inside-sqrt' survived")
    assert "'torch.testing.assert_close(step'" in verdict and "(line 10)" in verdict
    assert caught.caught and caught.failed_line == 10
    assert caught.mutant.changed == [("-", 8, "step = 1 / (torch.sqrt(G) + eps)"), ("+", 8, "step = 1 / (G + eps)")]


def test_a_mistake_failing_elsewhere_is_not_caught(tmp_path, block_runners):
    snippet = _project(tmp_path, EPS_INSIDE.replace('replace: "step = 1 / (G + eps)"', 'replace: "step = 1 / (G + undefined)"'))
    outcome = mistakes.run(mistakes.load(snippet, tmp_path).mistakes[1], block_runners.get("cpu"), tmp_path)
    assert not outcome.result.ok and outcome.failed_line == 8 and not outcome.caught
    assert "failed elsewhere" in outcome.verdict() and "NameError" in outcome.verdict()


@pytest.mark.parametrize(("find", "count"), [("step = 1 / (torch.sqrt(G) + eps) ", 0), ("torch.float64", 2)])
def test_find_must_occur_exactly_once(tmp_path, find, count):
    catalogue = EPS_INSIDE.replace('find: "step = 1 / (torch.sqrt(G) + eps)"', f"find: {find!r}", 1)
    snippet = _project(tmp_path, catalogue)
    mistake = mistakes.load(snippet, tmp_path).mistakes[0]
    with pytest.raises(mistakes.CatalogueError, match=rf"weak\.mistakes\.yaml:4: eps-inside-sqrt: 'find' occurs {count} times"):
        mistakes.mutate(mistake, tmp_path, tmp_path / "out")


@pytest.mark.parametrize(("change", "message"), [
    (("check: \"torch.testing.assert_close(step\"", "check: \"assert nothing\"", 1), "no line of section 'demo' contains the check"),
    (("section: demo", "section: other", 1), "no section 'other'"),
    (("        title: eps inside\n", "", 1), r"keys \["),
    (("        section: demo\n", "        section: [demo\n", 1), "not valid YAML"),
    (("name: no-sqrt", "name: eps-inside-sqrt", 1), "must be a unique lower-case slug"),
    (("against: identity", "against: vibes", 1), "proofs.demo: needs 'against'"),
])
def test_malformed_catalogue_is_named_with_file_and_line(tmp_path, change, message):
    snippet = _project(tmp_path, EPS_INSIDE.replace(*change))
    with pytest.raises(mistakes.CatalogueError, match=r"snippets/demo/weak\.mistakes\.yaml:\d+: ") as info:
        cat = mistakes.load(snippet, tmp_path)
        for m in cat.mistakes:
            mistakes.mutate(m, tmp_path, tmp_path / "out")
    assert re.search(message, str(info.value)), str(info.value)
