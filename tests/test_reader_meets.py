"""What a reader meets (issue #26 items 1-4): no tool noise on a page, Table 1 on one screen,
figures that keep the page's height, search previews in prose.

* Figures: NanumGothic's minus sign is tested in tests/test_figure_fonts.py.
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
import re
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from PIL import Image

from browser_helpers import Tab, chromium, site_url  # noqa: F401  (fixtures)
from kb import notebook_html, notebooks, search_index, search_words
from kb.execute import ExecutionError, Executor
from search_box import SearchBox

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
