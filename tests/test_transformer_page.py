"""The Transformer page's rest-of-the-model sections say what the snippet checks (issue 25, item 12).

The snippet (snippets/papers/attention.py) proves itself with asserts, and its mistake catalogue
shows those asserts catch realistic errors. What neither can see is the page around it: the shape
table is Markdown, and a table edited by hand (or a step added to the code) would drift from what
the code asserts. These tests read the page and the snippet's source (no code is run) and, for the
built page, the outputs the shared build (``built_site``) already produced.
"""

from __future__ import annotations

import ast
import re

from conftest import DOCS, ROOT
from sitetext import article, soup

from kb.blocks import section_names, snippet_sections

PAGE = "papers/attention-is-all-you-need.md"
SNIPPET = "snippets/papers/attention.py"


def shape_table(text: str) -> list[str]:
    """The shapes column of the page's table headed | 단계 | 코드 | 모양 |, top to bottom."""
    lines = text.splitlines()
    start = lines.index("| 단계 | 코드 | 모양 |")
    shapes = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        m = re.fullmatch(r"`(\([^`]*\))`", cells[-1])
        assert m, f"docs/{PAGE}: the shape table's row {line!r} has no `(...)` shape in its last cell"
        shapes.append(m.group(1))
    return shapes


def snippet_shapes() -> list[str]:
    """The values of the SHAPES dict that the model section asserts step by step, in order."""
    code = next(s.code for s in snippet_sections(ROOT / SNIPPET, ROOT) if s.name == "model")
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "SHAPES" for t in node.targets):
            return list(ast.literal_eval(node.value).values())
    raise AssertionError(f"{SNIPPET}: the model section has no SHAPES = {{...}}")


def test_shape_table_is_the_one_the_snippet_asserts():
    page_shapes = shape_table((DOCS / PAGE).read_text(encoding="utf-8"))
    assert page_shapes == snippet_shapes()
    # the walk the issue asks for is in it, in this order
    walk = ["(B, T, d_model)", "(B, T, h, d_k)", "(B, h, T, d_k)", "(B, h, T, T)", "(B, h, T, d_k)", "(B, T, d_model)"]
    it = iter(page_shapes)
    assert all(shape in it for shape in walk), page_shapes


def test_page_shows_every_section_of_the_snippet():
    text = (DOCS / PAGE).read_text(encoding="utf-8")
    missing = [name for name in section_names(ROOT / SNIPPET) if f'--8<-- "{SNIPPET}:{name}"' not in text]
    assert not missing, f"docs/{PAGE} does not include the sections {missing}"


def test_built_page_shows_the_copy_task_learning(built_site):
    """The copy task ran in the site build and its output, on the page, reports a model that learned."""
    outputs = [pre.get_text() for pre in article(soup(built_site, PAGE)).select(".kb-output pre")]
    (out,) = [o for o in outputs if "held-out tokens copied" in o]
    m = re.search(r"untrained ([\d.]+), after (\d+) steps ([\d.]+) \(chance ([\d.]+)\); whole sequences ([\d.]+)", out)
    assert m, out
    untrained, trained, chance, whole = (float(m.group(i)) for i in (1, 3, 4, 5))
    assert untrained < 0.5 <= 0.95 <= trained and whole >= 0.8 and chance == 0.1, out
    (shapes,) = [o for o in outputs if "heads first" in o]
    assert re.findall(r": (\([^)]*\)) +=", shapes) == snippet_shapes()
