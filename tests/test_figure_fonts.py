"""Figures with a minus sign (issue #26 item 1): NanumGothic has no U+2212, and mathtext draws a log
axis's ``10^{-2}`` with it; kb/figure_fonts.py gives the font one, in every block's process
(kb/runner/child.py) and in the notebooks' kernel (kb/notebook_exec.py). The copy is the face as
it was with one glyph more, made without decoding the others; a copy that cannot be made stops
the build with a Korean message.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap

import nbformat
import pytest
from mkdocs.exceptions import PluginError
from nbformat.v4 import new_code_cell, new_notebook

from kb import figure_fonts, notebooks
from kb.execute import ExecutionError, Executor

# --- figures: a minus sign in NanumGothic ----------------------------------------------------------

LOG_AXIS = textwrap.dedent("""\
    import logging
    import warnings

    import koreanize_matplotlib  # noqa: F401
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from fontTools.ttLib import TTFont
    from matplotlib import font_manager

    messages = []
    class Keep(logging.Handler):
        def emit(self, record):
            messages.append(record.getMessage())
    logging.getLogger("matplotlib").addHandler(Keep())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig, ax = plt.subplots(figsize=(3, 2))
        ax.semilogy([1e-3, 1e2])
        ax.set_title("손실 (로그 눈금)")
        fig.canvas.draw()
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert any("{-" in t for t in ticks), ticks  # $\\mathdefault{10^{-2}}$: a minus drawn by mathtext
    path = font_manager.findfont(font_manager.FontProperties(family=matplotlib.rcParams["font.family"]))
    assert 0x2212 in TTFont(path, lazy=True).getBestCmap(), f"{path} has no U+2212"
    noise = [m for m in messages + [str(w.message) for w in caught] if "glyph" in m.lower()]
    assert not noise, noise
    print("font:", path)
""")


def test_a_log_axis_in_a_block_draws_its_minus_sign_without_a_glyph_warning(any_backend_runner):
    """Under forkserver and under spawn (Windows' way, where nothing is preloaded)."""
    result = any_backend_runner.run(LOG_AXIS, filename="<log axis>")
    assert result.ok, result.report()
    assert result.stderr == "" and "kb-fonts" in result.stdout, (result.stdout, result.stderr)


def test_the_same_figure_without_the_fix_draws_a_dummy_glyph():
    """What the check above catches: koreanize-matplotlib alone (a plain interpreter, as before)."""
    proc = subprocess.run([sys.executable, "-c", LOG_AXIS], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, MPLBACKEND="Agg"))
    assert proc.returncode != 0
    assert "has no U+2212" in proc.stderr or "glyph" in proc.stderr, proc.stderr[-2000:]


def test_the_copy_with_a_minus_is_the_face_as_it_was_with_one_glyph_more(tmp_path, monkeypatch):
    """kb/figure_fonts.py copies each NanumGothic face once per machine, on a fresh clone's first
    build. Every glyph but the new one is written back as read: decoding and encoding all 20,000 of
    them to recompute bounds took 5-7 s of CPU a face (23 s for the four), against 0.1-0.4 s."""
    from fontTools.ttLib import TTFont
    from fontTools.ttLib.tables import _g_l_y_f

    from kb import figure_fonts

    decoded = []  # glyphs whose outline fontTools decoded while the copy was made
    expand = _g_l_y_f.Glyph.expand

    def counted(glyph, glyf):
        if hasattr(glyph, "data"):
            decoded.append(glyph)
        return expand(glyph, glyf)

    monkeypatch.setattr(_g_l_y_f.Glyph, "expand", counted)
    original = figure_fonts.original_dir() / "NanumGothic.ttf"
    figure_fonts.add_minus(original, tmp_path / "copy.ttf")
    monkeypatch.undo()
    assert len(decoded) <= 2, f"{len(decoded)} glyphs decoded to add one"  # "+" (for its bar)
    before, after = TTFont(original), TTFont(tmp_path / "copy.ttf")
    names = after.getGlyphOrder()  # (the new glyph reads back as "minus": the post table's standard name)
    assert names[:-1] == before.getGlyphOrder() and after.getBestCmap()[0x2212] == names[-1]
    assert 0x2212 not in before.getBestCmap() and after["maxp"].numGlyphs == len(names)
    plus_name = before.getBestCmap()[ord("+")]  # read for its bar: may be written back re-encoded
    changed = [name for name in before.getGlyphOrder()  # raw bytes, no glyph decoded (an empty one has none)
               if getattr(before["glyf"].glyphs[name], "data", b"") != getattr(after["glyf"].glyphs[name], "data", b"")]
    assert set(changed) <= {plus_name}, f"{len(changed)} glyphs re-encoded, e.g. {changed[:3]}"
    bar = after["glyf"][names[-1]]
    plus = after["glyf"][after.getBestCmap()[ord("+")]]
    assert bar.numberOfContours == 1 and (bar.xMin, bar.xMax) == (plus.xMin, plus.xMax)
    assert plus.yMin < bar.yMin < bar.yMax < plus.yMax  # the bar of "+", inside it
    assert after["hmtx"][names[-1]] == after["hmtx"][after.getBestCmap()[ord("+")]]



@pytest.mark.parametrize("fault", ["cache folder is a file", "not a font", "no bar on '+'"])
def test_a_figure_font_that_cannot_be_made_stops_the_build_in_korean(fault, tmp_path, monkeypatch):
    # the copies are made in the build's main thread when the first block runs: a fault there must
    # be a PluginError (MkDocs prints the message, no traceback), naming the file, in Korean
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    shutil.copyfile(figure_fonts.original_dir() / "NanumGothic.ttf", fonts / "NanumGothic.ttf")
    monkeypatch.setattr(figure_fonts, "original_dir", lambda: fonts)
    monkeypatch.setattr(figure_fonts, "cache_dir", lambda: tmp_path / "mpl" / "kb-fonts")
    if fault == "cache folder is a file":
        (tmp_path / "mpl").write_text("not a folder", encoding="utf-8")
        said = "빼기 기호를 더한 그림 글꼴을 쓸 수 없습니다"
    elif fault == "not a font":
        (fonts / "NanumGothic.ttf").write_bytes(b"garbage" * 100)
        said = "NanumGothic.ttf: 글꼴로 읽을 수 없어"
    else:  # a face whose "+" is drawn as an "l": no bar across it, and the minus is not guessed
        from fontTools.ttLib import TTFont

        font = TTFont(fonts / "NanumGothic.ttf")
        font["glyf"][font.getBestCmap()[ord("+")]] = font["glyf"][font.getBestCmap()[ord("l")]]
        font.save(fonts / "NanumGothic.ttf")
        said = "NanumGothic.ttf: '+'의 가로 막대를 찾지 못해"
    executor = Executor(cache_dir=tmp_path / "cache", device="cpu")
    try:
        with pytest.raises(ExecutionError, match=re.escape(said)) as raised:
            executor.run("print(1)", "<a>")
    finally:
        executor.close()
    assert isinstance(raised.value, PluginError) and raised.value.__cause__ is None
    assert not list(tmp_path.glob("mpl/kb-fonts/*"))  # no copy, and no half-written one

def test_the_notebook_kernel_starts_with_the_same_fonts(tmp_path):
    """kb/notebooks.py wraps mkdocs-jupyter's render: the kernel it starts runs kb/figure_fonts.py first."""
    import nbclient

    path = tmp_path / "t.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell(LOG_AXIS)], metadata={"kernelspec": {
        "name": "python3", "language": "python", "display_name": "Python 3"}}), path)
    ran = {}

    class Page:
        class file:
            abs_src_path = str(path)
            src_uri = "notebooks/t.ipynb"

        def render(self, config, files):  # what mkdocs-jupyter's render does: run the notebook
            nb = nbformat.read(path, as_version=4)
            ran["outputs"] = nbclient.NotebookClient(nb, kernel_name="python3", timeout=120).execute().cells[0].outputs

    page = Page()
    notebooks.wrap_render(page)
    page.render({}, None)
    streams = {o.name: o.text for o in ran["outputs"] if o.output_type == "stream"}
    assert "stderr" not in streams and "kb-fonts" in streams.get("stdout", ""), ran["outputs"]
