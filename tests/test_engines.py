"""What runs on which engine (issue #24): the core works without MkDocs; the plugin builds the same
site with MkDocs 1.6 and with ProperDocs, the maintained fork of MkDocs 1.6.

ProperDocs redirects every ``mkdocs.*`` import to itself when its command runs, and reads plugins
registered under ``mkdocs.plugins`` (the ``kb`` entry point), so the project needs no second config.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import ROOT

GENERATOR = re.compile(r'<meta name="generator" content="[^"]*">')


def _build(engine: str, site: Path) -> subprocess.CompletedProcess:
    """A strict build of the working tree with ``engine`` (code blocks not run: KB_EXECUTE=0)."""
    command = [sys.executable, "-m", engine, "build", "--strict", "--site-dir", str(site)]
    if engine == "properdocs":
        command += ["-f", "mkdocs.yml"]  # else ProperDocs looks for properdocs.yml first and says so
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", KB_EXECUTE="0")
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def _pages(site: Path) -> dict[str, str]:
    """Every file of the site; HTML without the generator tag, which names the engine."""
    out = {}
    for path in sorted(p for p in site.rglob("*") if p.is_file()):
        rel = path.relative_to(site).as_posix()
        if path.suffix in (".html", ".json", ".js", ".css", ".xml"):
            out[rel] = GENERATOR.sub("", path.read_text(encoding="utf-8"))
        else:
            out[rel] = path.read_bytes().hex() if path.stat().st_size < 4096 else str(path.stat().st_size)
    return out


def test_properdocs_builds_the_same_site_as_mkdocs(tmp_path, built_site):
    """... and these builds without execution (after the shared one, which ran the notebooks) keep
    the executed notebooks' cache: mkdocs-jupyter evicts, after each build, every entry of its
    cache folder that the build did not use, so an unexecuted build has a folder of its own."""
    if importlib.util.find_spec("properdocs") is None:
        if os.environ.get("CI"):
            pytest.fail("properdocs is not installed; requirements.txt pins it")
        pytest.skip("properdocs is not installed (python -m pip install -r requirements.txt installs it)")
    executed = {p for p in (ROOT / ".cache" / "mkdocs-jupyter").glob("*/*.json") if not p.parent.name.endswith("-unexecuted")}
    assert executed, "the shared build left no executed notebook in mkdocs-jupyter's cache"
    built = {}
    for engine in ("mkdocs", "properdocs"):
        result = _build(engine, tmp_path / engine)
        assert result.returncode == 0, f"{engine} build --strict failed:\n{result.stderr[-4000:]}"
        built[engine] = _pages(tmp_path / engine)
    assert "ProperDocs" in (tmp_path / "properdocs" / "index.html").read_text(encoding="utf-8")  # it really ran
    mkdocs, properdocs = built["mkdocs"], built["properdocs"]
    assert sorted(properdocs) == sorted(mkdocs)
    assert [p for p in mkdocs if p.endswith("index.html")] and "search/search_index.json" in mkdocs
    assert [p for p in mkdocs if mkdocs[p] != properdocs[p]] == []
    # KB_EXECUTE=0 runs nothing: the notebooks show as committed, without outputs (no kernel started)
    assert "jp-OutputArea-output" not in mkdocs["notebooks/attention/index.html"]
    assert [p for p in executed if not p.is_file()] == []


def test_the_core_runs_without_mkdocs(tmp_path):
    """MathML, the search analysis, the navigation and the notebook CSS, imported and called in a
    process where any import of mkdocs fails."""
    script = textwrap.dedent(
        f"""\
        import sys
        from pathlib import Path

        class NoMkDocs:
            def find_spec(self, name, path=None, target=None):
                if name == "mkdocs" or name.startswith("mkdocs."):
                    raise ImportError("no MkDocs here: " + name)

        sys.meta_path.insert(0, NoMkDocs())

        from kb import mathml, nav, notebook_css, search_ko

        text, formulas = mathml.extract("면적은 $a^2$입니다.\\n")
        html = mathml.render(f"<p>{{text}}</p>", formulas, "docs/t.md")
        assert "<math" in html and "<msup>" in html, html

        analyzer = search_ko.Analyzer(r"[\\s\\-]+")
        morph, names = analyzer.fields("t", "<p>교차검증은 k-겹으로 나눕니다.</p>")  # 검증 finds 교차검증은
        assert "검증" in morph.split() and "cross" in names.split(), (morph, names)

        generated = nav.generate(["index.md", {{"회의록": ["meetings/index.md"]}}], Path({str(ROOT / "docs")!r}))
        assert len(generated[1]["회의록"]) > 1, generated

        sheets = {{}}
        page = notebook_css.externalise("<style>" + "x" * 4096 + "</style>", "notebooks/a/", sheets)
        assert page.startswith('<link rel="stylesheet" href="../../assets/') and len(sheets) == 1, page
        assert not [m for m in sys.modules if m == "mkdocs" or m.startswith("mkdocs.")]
        print("core ok")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "core ok" in result.stdout
