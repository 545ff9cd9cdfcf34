"""What a reader meets (issue #26 items 1-4): no tool noise on a page, Table 1 on one screen,
figures that keep the page's height, search previews in prose.

* Figures: NanumGothic has no minus sign, and mathtext draws a log axis's ``10^{-2}`` with U+2212
  in it; kb/figure_fonts.py gives the font one, in every block's process (kb/runner/child.py) and in
  the notebooks' kernel (kb/notebooks.py).
* Noise: a block or a notebook cell that writes to stderr fails the build, naming page and block or
  cell, unless its page marks the warning as intended (``<!--kb-allow-warning: reason-->`` before a
  block, the tag ``kb-allow-warning`` on a cell); then the warning is shown.
* Sizes: every ``<img>`` the build writes has the image's own width and height.
* Search: an entry's text (the preview) has no code; the code is searched from the ``code`` field.
* In Chromium: VGG's Table 1 at 1280 px, the 흔한 실수 frame, the momentum page's height while
  its lazy figures load, a notebook's search preview.
"""

from __future__ import annotations

import base64
import io
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup
from mkdocs.exceptions import PluginError
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from PIL import Image

from browser_helpers import SearchBox, Tab, chromium, site_url  # noqa: F401  (fixtures)
from kb import figure_fonts, notebook_html, notebooks, search_index, search_words
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


# --- noise: stderr on a page -----------------------------------------------------------------------

WARNS = 'import warnings\nwarnings.warn("the old knob is deprecated")\nprint("done")'


def block_page(code: str, before: str = "") -> str:
    escaped = code.replace('"', "&quot;")
    return (f'<h1>W</h1>\n{before}<div class="language-python highlight"><pre><code>{escaped}\n'
            "</code></pre></div>\n<p>after</p>")


def test_a_block_that_warns_fails_the_build_unless_its_page_allows_it(tmp_path, block_runners):
    executor = Executor(cache_dir=tmp_path / "cache", device="cpu", runner=block_runners.get("cpu"))
    try:
        with pytest.raises(ExecutionError) as failed:
            executor.process_page(block_page(WARNS), "w.md", "w/")
        message = str(failed.value)
        assert message.startswith("docs/w.md: Python block 1 (first line: 'import warnings')")
        assert "stderr에 경고나 로그를 씁니다" in message and "the old knob is deprecated" in message
        assert "<!--kb-allow-warning: 이유-->" in message

        allowed = executor.process_page(block_page(WARNS, "<!--kb-allow-warning: the deprecation is the point-->\n"),
                                        "w.md", "w/")
    finally:
        executor.runner = None  # the session's worker stays up for other tests
    output = BeautifulSoup(allowed, "html.parser").select_one(".kb-output")
    assert output.select_one(".kb-output__stderr").get_text().strip().endswith(
        'UserWarning: the old knob is deprecated\n  warnings.warn("the old knob is deprecated")')
    assert output.select_one(".kb-output__text").get_text() == "done"


@pytest.mark.parametrize("before, error", [
    ("<!--kb-allow-warning-->\n", "이유와 함께"),
    ("<!--kb-allow-warning:   -->\n", "이유와 함께"),
    ('<!--pytest.mark.allow_exit(reason="ends early")-->\n<!--kb-allow-warning: shown-->\n', "pytest.mark 표시보다 앞에"),
])
def test_a_malformed_or_misplaced_allow_warning_comment_names_page_and_block(tmp_path, before, error):
    executor = Executor(cache_dir=tmp_path / "cache", device="cpu", enabled=False)
    with pytest.raises(ExecutionError, match=rf"^docs/w.md block 1: .*{error}"):
        executor.process_page(block_page(WARNS, before), "w.md", "w/")


def test_the_comment_may_stand_before_a_pytest_marker_which_still_applies(tmp_path):
    executor = Executor(cache_dir=tmp_path / "cache", device="cpu", enabled=False)
    html = executor.process_page(block_page(WARNS, '<!--kb-allow-warning: shown-->\n'
                                                   '<!--pytest.mark.cuda(reason="needs a GPU")-->\n'), "w.md", "w/")
    assert "kb-output--needs-cuda" in html  # the cuda marker was read


def render_notebook(tmp_path: Path, cells: list) -> str:
    from mkdocs_jupyter import convert

    path = tmp_path / "t.ipynb"
    nbformat.write(new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "language": "python",
                                                                      "display_name": "Python 3"}}), path)
    return convert.nb2html(str(path), execute=False, allow_errors=False, custom_mathjax_url="")


def test_a_cell_that_writes_to_stderr_fails_unless_tagged_and_then_shows(tmp_path):
    cells = [new_markdown_cell("# 제목", id="m1"),
             new_code_cell("import warnings; warnings.warn('x')", id="c1", outputs=[
                 new_output("stream", name="stdout", text="fine\n"),
                 new_output("stream", name="stderr", text="<ipython>:1: UserWarning: the old knob\n")])]
    html = render_notebook(tmp_path, cells)
    with pytest.raises(notebooks.NotebookError, match=r"docs/t.ipynb: cell 2이\(가\) 경고나 stderr 출력을 페이지에 씁니다: "
                       r"'<ipython>:1: UserWarning: the old knob'.*태그 kb-allow-warning"):
        notebooks.process_page(html, "docs/t.ipynb", cell_ids=["m1", "c1"])

    cells[1].metadata["tags"] = [notebooks.ALLOW_WARNING_TAG]
    assert notebooks.warning_cells(cells) == {2}
    shown = notebooks.process_page(html, "docs/t.ipynb", cell_ids=["m1", "c1"], warnings_allowed={2})
    stderr = BeautifulSoup(shown, "html.parser").select_one(f'[data-mime-type="{notebook_html.STDERR_MIME}"]')
    assert "UserWarning: the old knob" in stderr.get_text()


def test_no_notebook_page_shows_stderr_or_a_missing_glyph(built_site):
    for page in sorted((built_site / "notebooks").glob("*/index.html")):
        html = page.read_text(encoding="utf-8")
        assert notebook_html.STDERR_MIME not in html, page
        assert "does not have a glyph" not in html, page


# --- every <img> with its size ---------------------------------------------------------------------


def test_every_img_the_build_writes_has_its_own_width_and_height(built_site):
    checked = 0
    for page in sorted(built_site.rglob("*.html")):
        for img in BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").find_all("img"):
            src = img.get("src", "")
            where = f"{page.relative_to(built_site)}: <img src={src[:60]!r}>"
            assert img.has_attr("width") and img.has_attr("height"), where
            if src.startswith("data:image/png;base64,"):
                data = base64.b64decode(src.split(",", 1)[1])
            else:
                data = (page.parent / src).resolve().read_bytes()
            with Image.open(io.BytesIO(data)) as image:
                assert (int(img["width"]), int(img["height"])) == image.size, where
            checked += 1
    assert checked >= 10  # the notebooks' four figures and the pages' figures


# --- search previews -------------------------------------------------------------------------------


class NoAnalysis:
    def fields(self, title, text):
        return "", ""


def test_code_moves_out_of_the_preview_into_a_searched_field():
    index = {"config": {"fields": {f: {} for f in ("title", "text", *search_words.FIELDS, search_words.CODE_FIELD)}},
             "docs": [{"location": "notebooks/x/", "title": "X", "text": "<p>버튼</p> <pre>import torch\nx = a &lt; b</pre>"},
                      {"location": "notebooks/x/#_1", "title": "X", "text": "<p>첫 문단입니다.</p> <p>둘째</p>"},
                      {"location": "qna/y/#s", "title": "S", "text": "<p>설명</p> y.py<pre><code>y = 1</code></pre> <p>끝</p>"}]}
    sources = {"notebooks/x/": "docs/notebooks/x.ipynb", "qna/y/": "docs/qna/y.md"}
    docs = search_index.add_field(index, NoAnalysis(), lambda loc: sources[loc.split("#")[0]])["docs"]
    assert docs[0]["text"] == "<p>첫 문단입니다.</p> <p>버튼</p>"  # a notebook's entry opens with its introduction
    assert docs[0]["code"] == "import torch x = a &lt; b"
    assert docs[2]["text"] == "<p>설명</p> y.py <p>끝</p>" and docs[2]["code"] == "y = 1"
    assert "code" not in docs[1]

    del index["config"]["fields"][search_words.CODE_FIELD]
    for doc in index["docs"]:
        doc.pop("code", None)
    index["docs"][2]["text"] = "<pre>z = 2</pre>"
    with pytest.raises(search_index.SearchIndexError, match="has no 'code' entry"):
        search_index.add_field(index, NoAnalysis(), lambda loc: sources[loc.split("#")[0]])


def test_no_preview_in_the_built_index_holds_code_and_notebook_code_is_still_searched(built_site):
    import json

    index = json.loads((built_site / "search" / "search_index.json").read_text(encoding="utf-8"))
    assert [d["location"] for d in index["docs"] if "<pre" in d["text"]] == []
    page = next(d for d in index["docs"] if d["location"] == "notebooks/attention/")
    assert "scaled_dot_product_attention" in page["code"] and "import torch" not in page["text"]
    assert re.match(r"<p>[^<]*[가-힣]", page["text"]), page["text"][:200]


# --- in Chromium -----------------------------------------------------------------------------------

TABLE_1_JS = """async () => {
  await document.fonts.ready;
  const table = [...document.querySelectorAll("article table")].find(t => t.textContent.includes("바로 앞 구성과 다른 점"));
  const lines = el => { const r = document.createRange(); r.selectNodeContents(el);
    return new Set([...r.getClientRects()].filter(x => x.width > 0).map(x => Math.round(x.top))).size; };
  const wrap = table.closest(".md-typeset__scrollwrap");
  const head = [...table.querySelectorAll("th")].pop();
  const hint = wrap.nextElementSibling;
  return { column: head.getBoundingClientRect().width, headLines: lines(head),
           cellLines: [...table.querySelectorAll("tbody tr")].map(r => lines(r.lastElementChild)),
           scrolls: wrap.scrollWidth > wrap.clientWidth + 1, height: table.getBoundingClientRect().height,
           hint: hint && hint.classList.contains("kb-scroll-hint") && getComputedStyle(hint).display !== "none"
                 ? hint.textContent : null };
}"""

HEIGHT_WHILE_SCROLLING_JS = """async () => {
  await document.fonts.ready;
  const before = document.documentElement.scrollHeight;
  for (let y = 0; y < document.documentElement.scrollHeight; y += innerHeight / 2) {
    scrollTo(0, y);
    await new Promise(r => setTimeout(r, 30));
  }
  await Promise.all([...document.images].map(i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; })));
  return { before, after: document.documentElement.scrollHeight, images: document.images.length };
}"""

MISTAKE_JS = """() => { const d = document.querySelector("details.kb-mistake"), cs = getComputedStyle(d);
  return { sides: [cs.borderTopWidth, cs.borderRightWidth, cs.borderBottomWidth, cs.borderLeftWidth],
           left: cs.borderLeftColor, top: cs.borderTopColor, margin: parseFloat(cs.marginTop) / parseFloat(cs.fontSize) }; }"""

# the preview Material shows for each page: its best section's teaser (the text after the heading)
PREVIEWS_JS = """() => [...document.querySelectorAll(".md-search-result__item")].map(item => {
  const article = item.querySelector(":scope > a > article").cloneNode(true);
  article.querySelectorAll("h1, h2, .md-search-result__icon, .md-search-result__terms").forEach(el => el.remove());
  return { href: item.querySelector("a").href, text: article.textContent.trim() };
})"""

CODE_LIKE = re.compile(r"\bimport \w|\w+\s*=\s*\w+\(|torch\.\w+\(|^\s*#|def \w+\(")


@pytest.mark.browser
def test_what_a_reader_sees_in_chromium(chromium, site_url):
    """One tab for all: each check would need its own page load anyway."""
    t = Tab(chromium, site_url, viewport={"width": 1280, "height": 900})
    try:
        page = t.goto("papers/vgg/")
        desktop = page.evaluate(TABLE_1_JS)
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_timeout(300)  # kb-reader.js marks overflowing tables on resize
        phone = page.evaluate(TABLE_1_JS)

        page.set_viewport_size({"width": 1280, "height": 900})
        page = t.goto("qna/adagrad/")
        mistake = page.evaluate(MISTAKE_JS)

        page = t.goto("qna/momentum-vs-nag/")
        height = page.evaluate(HEIGHT_WHILE_SCROLLING_JS)

        page = t.goto("")
        box = SearchBox(page, site_url)
        box.open()
        searches = {}
        for query in ["assert_close", "멀티헤드 어텐션"]:  # a word of the notebook's code, and of its prose
            searches[query] = (box.search(query)["paths"], page.evaluate(PREVIEWS_JS))
    finally:
        t.close()

    # Table 1 at 1280 px: on one screen, the column of prose wide enough for its header on one line
    assert not desktop["scrolls"] and desktop["hint"] is None, desktop
    assert desktop["column"] >= 140 and desktop["headLines"] == 1, desktop
    assert max(desktop["cellLines"]) <= 3 and desktop["height"] <= 900, desktop
    # on a phone it scrolls sideways, with the hint
    assert phone["scrolls"] and phone["hint"] and "옆으로" in phone["hint"], phone

    # a mistake is framed by its admonition's border on every side (no stale thick left bar)
    assert len(set(mistake["sides"])) == 1 and mistake["sides"][0] != "0px" and mistake["left"] == mistake["top"], mistake
    assert mistake["margin"] == pytest.approx(0.8, abs=0.05), mistake

    # lazy figures with their size: the page keeps its height while they load
    assert height["images"] >= 1 and height["after"] == height["before"], height

    # a notebook among the first results shows Korean prose, not code (it showed its code cells)
    for query, (paths, previews) in searches.items():
        assert "notebooks/attention/" in paths[:3], (query, paths)
        notebook = [p for p in previews if "/notebooks/attention/" in p["href"]]
        assert notebook and all(re.search("[가-힣]{2}", p["text"]) for p in notebook), (query, notebook)
        assert not [p for p in notebook if CODE_LIKE.search(p["text"])], (query, notebook)
    assert t.blocked == [] and t.errors == []
