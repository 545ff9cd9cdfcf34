"""TeX to MathML at build time: what counts as math, and formulas that must fail."""

from __future__ import annotations

import pytest

from kb.mathml import MathError, extract, find_in_text, render, to_mathml


def test_display_and_inline_math_become_placeholders():
    text, formulas = extract("앞 $a_i$ 와 $b$.\n\n$$x^2$$\n")
    assert [(f.tex, f.display, f.line) for f in formulas] == [("a_i", False, 1), ("b", False, 1), ("x^2", True, 3)]
    assert "$" not in text


def test_hangul_particle_may_touch_inline_math():
    _, formulas = extract("분모 $G_t$가 커지면 $x$를")
    assert [f.tex for f in formulas] == ["G_t", "x"]


def test_multiline_display_block():
    text, formulas = extract("$$\n\\frac{a}{b}\n+ c\n$$\n", first_line=10)
    assert formulas[0].tex == "\\frac{a}{b}\n+ c" and formulas[0].display and formulas[0].line == 10


@pytest.mark.parametrize(
    "source",
    [
        "```python\nx = '$a$'\n```",
        "~~~\n$$x$$\n~~~",
        "`$a$` in code",
        "`` a`$b$ `` in a span of two backticks",
        "`코드 $a$\n계속` across two lines of a paragraph",
        "```python\nx = '$a$'\n````\ny = '$b$'\n```",  # a longer run does not close a fence
        "costs $5 and $6 today",
        "<!-- $a$ -->",
        "escaped \\$a\\$",
    ],
)
def test_code_comments_and_prices_are_not_math(source):
    text, formulas = extract(source)
    assert formulas == [] and text == source


def test_math_where_the_build_shows_text_is_math():
    """A fence never closed, or with an option the build refuses, and an escaped backtick open no
    code: the build shows those lines as text (kb.markdown_scan), so their math is rendered."""
    _, formulas = extract("\\`$a$`\n\n```python foo\n$b$\n\n```text\n$c$ 닫지 않음\n")
    assert [f.tex for f in formulas] == ["a", "b", "c"]


def test_unclosed_display_block_names_its_line():
    with pytest.raises(MathError, match="line 3: display math opened with '\\$\\$' is never closed"):
        extract("a\n\n$$\nx\n", first_line=1)


@pytest.mark.parametrize("tex, reason", [("\\frac{a", "unbalanced"), ("\\frac{a}", "needs 2 arguments"),
                                         ("\\nosuchcommand x", "unknown command"), ("  ", "empty")])
def test_bad_formulas_are_rejected(tex, reason):
    with pytest.raises(ValueError, match=reason):
        to_mathml(tex, display=True)


def test_mathml_keeps_the_tex_source_as_annotation():
    out = to_mathml("a < b", display=False)
    assert out.startswith("<math") and 'display="inline"' in out
    assert '<annotation encoding="application/x-tex" data-search-exclude>a &lt; b</annotation>' in out


def test_render_puts_block_math_in_place_of_its_paragraph():
    text, formulas = extract("$$x$$\n\nand $y$")
    html = f"<p>{text.splitlines()[0]}</p>\n<p>and {text.splitlines()[2][4:]}</p>"
    out = render(html, formulas, "docs/x.md")
    assert out.startswith('<div class="kb-math kb-math--block"><math')
    assert '<span class="kb-math"><math' in out


def test_render_reports_page_and_line():
    _, formulas = extract("ok\n$$\\frac{1}$$", first_line=5)
    with pytest.raises(MathError, match="docs/p.md:6: cannot render formula"):
        render("", formulas, "docs/p.md")


def test_render_reports_a_swallowed_placeholder():
    _, formulas = extract("$$x$$")
    with pytest.raises(MathError, match="swallowed"):
        render("<p>nothing here</p>", formulas, "docs/p.md")


def test_find_in_text_uses_the_markdown_rules_on_rendered_text():
    # what nbconvert leaves in a notebook's Markdown cell: escaped, display math may span lines
    text = "본문 $a_i &lt; b$와 $5 and $6, then $$\n\\sum_i x_i\n$$ and \\$x\\$"
    found = find_in_text(text)
    assert [(tex, display) for _, _, tex, display in found] == [("a_i &lt; b", False), ("\n\\sum_i x_i\n", True)]
    assert [text[s:e] for s, e, _, _ in found] == ["$a_i &lt; b$", "$$\n\\sum_i x_i\n$$"]


def test_search_index_has_no_tex_source(built_site):
    import json

    index = json.loads((built_site / "search" / "search_index.json").read_text(encoding="utf-8"))
    # display formulas use \frac and \sqrt; code and inline code on the pages do not
    with_tex = [doc["location"] for doc in index["docs"] if "\\frac{" in doc["text"] or "\\sqrt{" in doc["text"]]
    assert len(index["docs"]) > 100
    assert with_tex == []
