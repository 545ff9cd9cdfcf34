"""Notebooks (docs/notebooks/*.ipynb): they run, and the site shows them with outputs, MathML and no CDN.

* each notebook runs without error in a fresh kernel (nbclient, allow_errors false), on the CPU
  with CUDA hidden and on CUDA when there is one;
* the built pages have their outputs and figures (with alt text), the Markdown cells' math as
  MathML (no raw TeX), no third-party request, headings that the table of contents links to,
  and a download button for the .ipynb;
* a cell that raises fails the build with the notebook and the cell named; so do a formula
  that cannot be rendered, a figure without alt text and an output that loads from another
  host (kb/notebooks.py);
* mkdocs-jupyter's cache key changes when the notebook changes.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urljoin

import nbformat
import pytest
from bs4 import BeautifulSoup
from mkdocs.config import load_config
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from conftest import DOCS, ROOT, build_site, copy_project, selected_devices, shared_build_places
from kb import mathml, notebook_exec, notebooks
from test_glossary import glossary_terms, introduced_terms
from test_offline import external_urls_in_html
from test_site_build import nav_pages, site_nav

NOTEBOOKS = sorted((DOCS / "notebooks").glob("*.ipynb"))
IDS = [p.name for p in NOTEBOOKS]
FIGURES = {"optimizer-playground.ipynb": 2, "attention.ipynb": 2}  # plt.show() calls in each


def pytest_generate_tests(metafunc):
    if "device" in metafunc.fixturenames:
        metafunc.parametrize("device", selected_devices(metafunc.config))


def page_html(site: Path, path: Path) -> str:
    return (site / "notebooks" / path.stem / "index.html").read_text(encoding="utf-8")


def markdown_sources(path: Path) -> list[str]:
    return [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown"]


def test_there_are_notebooks():
    assert [p.name for p in NOTEBOOKS] == sorted(FIGURES)


# --- The notebooks themselves ---------------------------------------------------------------------


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [i for i, c in enumerate(nb.cells, 1) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert dirty == [], f"cells with outputs (clear them; the build makes them): {dirty}"
    assert nb.metadata.kernelspec.name == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_runs_in_a_fresh_kernel(path, device, request):
    """Every cell runs, in a fresh kernel on ``device``, printing the device and drawing its figures.
    On the CPU the shared build has done just that (kb/notebook_exec.py: a kernel of its own per
    notebook, CUDA hidden, a raising cell fails the build), or taken the page from the cache of such
    a run of the same notebook, kb code, versions and device: its page is read, not run again."""
    if device == "cpu" and os.environ.get("KB_EXEC_DEVICE", "cpu") == "cpu":
        soup = BeautifulSoup(page_html(request.getfixturevalue("built_site"), path), "html.parser")
        outputs = soup.select("div.jp-CodeCell div.jp-OutputArea-output")
        assert any(o.get_text().strip() == "device: cpu" for o in outputs)
        assert len(soup.select('div.jp-OutputArea-output img[src^="data:image/png;base64,"]')) == FIGURES[path.name]
        return
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="") if device == "cpu" else dict(os.environ)
    client = NotebookClient(nb, kernel_name="python3", timeout=120, allow_errors=False,
                            resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute(env=env)
    except CellExecutionError as exc:
        pytest.fail(notebook_exec.describe_cell_error(path, f"docs/notebooks/{path.name}", exc), pytrace=False)
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert f"device: {device}\n" in printed
    figures = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert figures == FIGURES[path.name]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_terms_introduced_in_a_notebook_are_in_the_glossary(path):
    missing = introduced_terms("\n\n".join(markdown_sources(path))) - glossary_terms()
    assert missing == set(), f"add these to docs/glossary.md: {sorted(missing)}"


def test_notebooks_are_in_the_navigation():
    in_nav = {p for p in nav_pages(site_nav()) if p.endswith(".ipynb")}
    on_disk = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.ipynb")}
    assert in_nav == {p for p in on_disk if ".ipynb_checkpoints" not in p}  # MkDocs skips hidden folders


# --- The built pages ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_page_shows_outputs_and_figures(built_site, path):
    soup = BeautifulSoup(page_html(built_site, path), "html.parser")
    outputs = soup.select("div.jp-CodeCell div.jp-OutputArea-output")
    device = os.environ.get("KB_EXEC_DEVICE", "cpu")  # the build hides CUDA from notebooks unless cuda
    assert any(o.get_text().strip() == f"device: {device}" for o in outputs)
    images = soup.select('div.jp-OutputArea-output img[src^="data:image/png;base64,"]')
    assert len(images) == FIGURES[path.name]
    assert all(len(img["alt"]) > 20 and "No description" not in img["alt"] for img in images)
    assert soup.find("h1").get_text().rstrip("¶") == nbformat.read(path, 4).cells[0].source.splitlines()[0][2:]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_markdown_math_is_mathml_without_raw_tex(built_site, path):
    soup = BeautifulSoup(page_html(built_site, path), "html.parser")
    expected = sum(len(mathml.extract(source)[1]) for source in markdown_sources(path))
    cells = soup.select("div.jp-MarkdownCell")
    assert len(cells) == len(markdown_sources(path))
    assert len([m for c in cells for m in c.find_all("math")]) == expected > 10
    for cell in cells:
        for node in cell.find_all(["annotation", "code"]):
            node.decompose()
        text = cell.get_text(" ")
        assert "$" not in text and "\\frac" not in text and "\\beta" not in text, text
    assert not soup.select("div.jp-CodeCell math"), "math rendered inside a code cell or an output"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_page_makes_no_third_party_request(built_site, path):
    html = page_html(built_site, path)
    assert external_urls_in_html(html) == []
    soup = BeautifulSoup(html, "html.parser")
    scripts = soup.find_all("script")
    assert not [s for s in scripts if s.get("src") is not None and not s["src"].strip()], '<script src=""> left'
    assert not [s for s in scripts if "mathjax" in (s.get("type", "") + s.get("src", "") + s.get_text()).lower()]
    assert not [s for s in scripts if "cdnjs" in s.get_text() or "mermaid" in s.get_text()]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_download_button_serves_the_notebook(built_site, path):
    page = built_site / "notebooks" / path.stem / "index.html"
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    (button,) = soup.select("a.md-content__button[download]")
    target = Path(unquote(urljoin(page.as_uri(), button["href"]).removeprefix("file://")))
    assert target.is_file() and target.read_bytes() == path.read_bytes()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_headings_are_the_table_of_contents_anchors(built_site, path):
    soup = BeautifulSoup(page_html(built_site, path), "html.parser")
    toc = [a["href"][1:] for a in soup.select("nav.md-nav--secondary a.md-nav__link[href^='#']")]
    headings = [h["id"] for h in soup.select("div.jp-MarkdownCell :is(h1, h2, h3, h4, h5, h6)")]
    assert len(toc) >= 4 and all(toc) and set(toc) <= set(headings)
    assert len(set(headings)) == len(headings) and "" not in headings


# --- Failures name the notebook and the cell ------------------------------------------------------


def test_raising_cell_fails_the_build_naming_notebook_and_cell(built_site, tmp_path):
    """A real build, the notebook run beside the blocks (kb/notebook_exec.py); KB_EXECUTE=0 would run
    nothing, so the blocks and mistakes come from the caches the shared build (built_site) filled."""
    project = copy_project(tmp_path / "project")  # with the notebook cache: the untouched notebook need not run again
    path = project / "docs/notebooks/attention.ipynb"
    nb = nbformat.read(path, as_version=4)
    assert [c.cell_type for c in nb.cells[:3]] == ["markdown", "code", "markdown"]
    nb.cells.insert(3, new_code_cell("x = 1\nraise ValueError('no such head: 7')", id="raises"))
    nbformat.write(nb, path)

    caches = {"KB_EXEC_CACHE": str(shared_build_places(built_site)[0]),
              "KB_MISTAKES_CACHE": str(ROOT / ".cache" / "kb-mistakes")}
    result = build_site(project, tmp_path / "site", execute=True, env=caches)
    out = result.stdout + result.stderr
    assert result.returncode != 0, out
    # cell 4 of the notebook is its second code cell: In [2]
    expected = ("docs/notebooks/attention.ipynb: cell 4 raised ValueError: no such head: 7\n"
                "  at line 2 of that cell (In [2])")
    assert expected in out
    assert "\x1b[" not in out.split("cell 4 raised", 1)[1], "colour codes in the message"


def render_notebook(tmp_path: Path, cells: list) -> str:
    from mkdocs_jupyter import convert

    path = tmp_path / "t.ipynb"
    nbformat.write(new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "language": "python",
                                                                      "display_name": "Python 3"}}), path)
    return convert.nb2html(str(path), execute=False, allow_errors=False, custom_mathjax_url="")


SAMPLE = [
    new_markdown_cell("# 제목\n\n본문 $a_i < b$와 $5 and $6.\n\n$$\\frac{1}{2}$$\n\n`$code$`\n\n"
                      "```python\nx = '$y$'\n```", id="m1"),
    new_code_cell("print('$$z$$')", id="c1", outputs=[
        new_output("stream", name="stdout", text="$$z$$\n"),
        new_output("display_data", data={"text/markdown": "output $w$", "text/plain": "w"}),
    ]),
    new_markdown_cell("## 둘\n\n$$\n\\sum_i x_i\n$$", id="m2"),
]


def test_only_markdown_cells_get_mathml(tmp_path):
    html = notebooks.process_page(render_notebook(tmp_path, SAMPLE), "docs/t.ipynb", "t.ipynb", ["_1", "_2"])
    soup = BeautifulSoup(html, "html.parser")
    md = soup.select("div.jp-MarkdownCell")
    assert [a.get_text() for c in md for a in c.find_all("annotation")] == ["a_i < b", "\\frac{1}{2}", "\\sum_i x_i"]
    assert md[0].select_one("div.kb-math--block").parent.name != "p"  # block math replaces its paragraph
    assert "$5 and $6." in md[0].get_text() and md[0].code.get_text() == "$code$" and "'$y$'" in md[0].pre.get_text()
    code = soup.select_one("div.jp-CodeCell")
    assert code.find("math") is None
    assert "$$z$$" in code.select_one("div.jp-RenderedText").get_text()
    assert "output $w$" in code.select_one("div.jp-RenderedMarkdown").get_text()
    assert [h["id"] for h in soup.select("h1, h2")] == ["_1", "_2"]
    assert [a["href"] for a in soup.select("h1 a.anchor-link, h2 a.anchor-link")] == ["#_1", "#_2"]
    assert soup.select_one("a.md-content__button[download]")["href"] == "t.ipynb"


def test_template_scripts_for_mathjax_and_mermaid_are_dropped(tmp_path):
    raw = render_notebook(tmp_path, SAMPLE)
    assert 'src=""' in raw and "text/x-mathjax-config" in raw and "cdnjs.cloudflare.com/ajax/libs/mermaid" in raw
    html = notebooks.process_page(raw, "docs/t.ipynb")
    assert 'src=""' not in html and "mathjax" not in html.lower() and "cdnjs" not in html
    assert "clipboard-copy" in html  # the copy buttons' own inline script stays


def test_output_loading_from_another_host_names_notebook_and_cell(tmp_path):
    cells = [*SAMPLE, new_code_cell("show()", id="c2", outputs=[
        new_output("display_data", data={"text/html": '<img src="https://example.org/a.png">', "text/plain": "x"})])]
    expected = "docs/t.ipynb: cell 4: <img src> loads https://example.org/a.png from another host"
    with pytest.raises(notebooks.NotebookError, match=expected):
        notebooks.process_page(render_notebook(tmp_path, cells), "docs/t.ipynb", cell_ids=[c.id for c in cells])


def test_unrenderable_formula_names_notebook_cell_and_formula(tmp_path):
    cells = [*SAMPLE, new_markdown_cell("틀린 식 $\\frac{a}$", id="m3")]
    with pytest.raises(mathml.MathError, match=r"docs/t.ipynb: cell 4: cannot render formula \$\\frac\{a\}\$"):
        notebooks.process_page(render_notebook(tmp_path, cells), "docs/t.ipynb", cell_ids=[c.id for c in cells])


def png(description: str | None) -> str:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1, 1))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Description": description} if description else {})
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def test_figures_get_their_alt_text_and_a_figure_without_one_names_the_cell(tmp_path):
    def figure(cid, description):
        return new_code_cell("show(fig)", id=cid, outputs=[
            new_output("display_data", data={"image/png": png(description), "text/plain": "<Figure>"})])

    cells = [*SAMPLE, figure("f1", "손실 곡선 <로그 눈금>")]
    soup = BeautifulSoup(notebooks.process_page(render_notebook(tmp_path, cells), "docs/t.ipynb"), "html.parser")
    assert [img["alt"] for img in soup.select("div.jp-CodeCell img")] == ["손실 곡선 <로그 눈금>"]

    cells.append(figure("f2", None))  # plt.show(): no Description
    with pytest.raises(notebooks.NotebookError, match="docs/t.ipynb: cell 5: a figure without alt text"):
        notebooks.process_page(render_notebook(tmp_path, cells), "docs/t.ipynb")

    broken = new_code_cell("show(fig)", id="f3", outputs=[  # not a PNG, or one cut short: no alt text either
        new_output("display_data", data={"image/png": base64.b64encode(b"not a png").decode(), "text/plain": "?"})])
    cut = new_code_cell("show(fig)", id="f4", outputs=[
        new_output("display_data", data={"image/png": png("잘린 그림")[:60], "text/plain": "?"})])
    for cell in (broken, cut):
        with pytest.raises(notebooks.NotebookError, match="docs/t.ipynb: cell 4: a figure without alt text"):
            notebooks.process_page(render_notebook(tmp_path, [*SAMPLE, cell]), "docs/t.ipynb")


# --- Cache ----------------------------------------------------------------------------------------


def test_changing_a_notebook_changes_its_cache_key(built_site, tmp_path):
    from mkdocs_jupyter.plugin import _compute_cache_key

    config = load_config(str(ROOT / "mkdocs.yml"))
    config = config.plugins["kb"].on_config(config)  # as the build sets it up (kb/plugin.py)
    options = config.plugins["mkdocs-jupyter"].config
    assert options["cache"] and Path(options["cache_dir"]).parts[0] == ".cache"  # .cache/ is gitignored
    # one folder per torch version, Python version and device
    assert Path(options["cache_dir"]).name.startswith("torch-") and Path(options["cache_dir"]).name.endswith("-cpu")

    def key(path: Path) -> str:
        return _compute_cache_key(str(path), options, options["execute"])

    for path in NOTEBOOKS:
        entry = ROOT / options["cache_dir"] / f"{key(path)}.json"
        assert entry.is_file(), "the build did not store this notebook under the key computed here"
        content = json.loads(entry.read_text(encoding="utf-8"))["content"]
        assert len(re.findall(r'<img [^>]*src="data:image/png;base64,', content)) == FIGURES[path.name]
        same = tmp_path / f"copy-{path.name}"
        shutil.copy2(path, same)
        assert key(same) == key(path)  # the key is the content, not the path
        nb = nbformat.read(path, as_version=4)
        nb.cells[-1].source += " "
        nbformat.write(nb, tmp_path / path.name)
        assert key(tmp_path / path.name) != key(path)


def test_notebook_search_titles_carry_no_permalink_sign(built_site):
    index = json.loads((built_site / "search" / "search_index.json").read_text(encoding="utf-8"))
    titles = [doc["title"] for doc in index["docs"] if doc["location"].startswith("notebooks/")]
    assert len(titles) >= 4
    assert [t for t in titles if "¶" in t] == []
