"""Notebook CSS is served once as a file (kb/notebook_css.py), not inlined in every notebook page."""

from __future__ import annotations

import posixpath
import re

from bs4 import BeautifulSoup

from kb import notebook_css

BIG = ".jp-Cell { color: red; }\n" * 200  # 5 KB
PAGE = f'<div><style type="text/css">{BIG}</style><p>x</p><style>.small {{ color: blue; }}</style></div>'


def test_a_large_style_becomes_a_link_to_a_file_named_by_its_content():
    sheets: dict[str, str] = {}
    out = notebook_css.externalise(PAGE, "notebooks/attention/", sheets)
    (path, css), = sheets.items()
    assert css == BIG
    assert re.fullmatch(r"assets/stylesheets/notebook/[0-9a-f]{16}\.css", path)
    link = BeautifulSoup(out, "html.parser").find("link")
    assert posixpath.normpath(posixpath.join("notebooks/attention/", link["href"])) == path
    assert BIG not in out
    assert out.index("<link") < out.index("<p>x</p>") < out.index(".small")  # the styles keep their order


def test_two_notebooks_share_one_file():
    sheets: dict[str, str] = {}
    notebook_css.externalise(PAGE, "notebooks/a/", sheets)
    notebook_css.externalise(PAGE, "notebooks/b/", sheets)
    assert len(sheets) == 1


def test_small_styles_other_types_and_relative_urls_stay_inline():
    for html in (
        "<style>.small { color: blue; }</style>",
        f'<style type="text/less">{BIG}</style>',
        f"<style>{BIG} .x {{ background: url(img/bg.png); }}</style>",
        f'<style media="print">{BIG}</style>',
    ):
        sheets: dict[str, str] = {}
        assert notebook_css.externalise(html, "notebooks/a/", sheets) == html
        assert sheets == {}
    for url in ("data:image/png;base64,AA", '"data:image/svg+xml,%3csvg%3e"', "'/assets/x.png'", "#clip"):
        sheets = {}
        notebook_css.externalise(f"<style>{BIG} .x {{ background: url({url}); }}</style>", "notebooks/a/", sheets)
        assert len(sheets) == 1, url  # these resolve the same from a file


def test_mkdocs_jupyters_list_repr_style_is_dropped():
    """mkdocs-jupyter 0.26 appends <style>['css', ...]</style> (a Python list's repr): no CSS, dropped."""
    stray = "<style>\n        " + repr([BIG, ".x { color: red; }"]) + "\n        </style>"
    sheets: dict[str, str] = {}
    assert notebook_css.externalise(f"<p>a</p>{stray}<p>b</p>", "notebooks/a/", sheets) == "<p>a</p><p>b</p>"
    assert sheets == {}
    css_with_brackets = f"<style>{BIG} [data-x] {{ color: red; }}</style>"  # CSS that merely has brackets
    assert len(notebook_css.externalise(css_with_brackets, "notebooks/a/", sheets) and sheets) == 1


def test_write_puts_each_sheet_into_the_site(tmp_path):
    sheets = {"assets/stylesheets/notebook/abc.css": BIG}
    notebook_css.write(tmp_path, sheets)
    assert (tmp_path / "assets/stylesheets/notebook/abc.css").read_text(encoding="utf-8") == BIG


def test_built_notebook_pages_link_their_css_instead_of_inlining_it(built_site):
    linked = {}
    for page in ("notebooks/attention/index.html", "notebooks/optimizer-playground/index.html"):
        soup = BeautifulSoup((built_site / page).read_text(encoding="utf-8"), "html.parser")
        big = [s for s in soup.find_all("style") if len(s.get_text().encode("utf-8")) >= notebook_css.MIN_BYTES]
        assert big == [], page
        hrefs = [a["href"] for a in soup.find_all("link", rel="stylesheet") if "/notebook/" in a["href"]]
        files = {posixpath.normpath(posixpath.join(posixpath.dirname(page), h)) for h in hrefs}
        assert files and all((built_site / f).is_file() for f in files), (page, files)
        linked[page] = files
    first, second = linked.values()
    assert first == second  # one set of files for every notebook
    assert sum((built_site / f).stat().st_size for f in first) > 100_000  # JupyterLab's theme is in them
    for f in first:  # each is CSS, not a Python list's repr (mkdocs-jupyter's stray <style>)
        assert not (built_site / f).read_text(encoding="utf-8").lstrip().startswith("["), f
