"""How the guard and ``python -m kb check`` read a page's Python blocks (kb/blocks.py).

In the built HTML (as Material 9.8 renders it): each block's copy text, without line numbers,
anchors or annotations, and the marker comment right before it (``skip``, ``allow_exit``, ``cuda``,
each with a reason; any other is refused). In the Markdown: the same markers as ``kb check`` reads
them, and the Python fences counted as the build renders them. The guard that runs the blocks, and
a ``cuda`` block through it: tests/test_rendered_blocks.py.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from kb.blocks import html_python_blocks, markdown_python_fences
from kb.check import check


RENDERED = """\
<h1 id="t">T</h1>
<div class="language-python highlight"><span class="filename">a.py</span><pre><span></span><code><a id="__codelineno-0-1" name="__codelineno-0-1" href="#__codelineno-0-1"></a><span class="kn">import</span><span class="w"> </span><span class="nn">torch</span>
<a id="__codelineno-0-2" name="__codelineno-0-2" href="#__codelineno-0-2"></a><span class="n">x</span> <span class="o">=</span> <span class="mi">1</span> <span class="o">&lt;</span> <span class="mi">2</span>  <span class="c1"># (1)!</span>
<a id="__codelineno-0-3" name="__codelineno-0-3" href="#__codelineno-0-3"></a><span class="nb">print</span><span class="p">(</span><span class="s2">"a&amp;b"</span><span class="p">)</span>
</code></pre></div>
<ol>
<li>an annotation</li>
</ol>
<!--pytest.mark.skip(reason="fragment")-->
<div class="language-python highlight"><pre><span></span><code><a id="__codelineno-1-1" name="__codelineno-1-1" href="#__codelineno-1-1"></a><span class="n">y</span> <span class="o">=</span> <span class="n">undefined</span>
</code></pre></div>
<div class="language-python highlight"><table class="highlighttable"><tr><td class="linenos"><div class="linenodiv"><pre><span></span><span class="normal"><a href="#__codelineno-2-1">1</a></span>
<span class="normal"><a href="#__codelineno-2-2">2</a></span></pre></div></td><td class="code"><div><pre><span></span><code><a id="__codelineno-2-1" name="__codelineno-2-1"></a><span class="n">a</span> <span class="o">=</span> <span class="mi">1</span>
<a id="__codelineno-2-2" name="__codelineno-2-2"></a><span class="hll"><span class="n">b</span> <span class="o">=</span> <span class="mi">2</span>
</span></code></pre></div></td></tr></table></div>
<div class="language-console highlight"><pre><span></span><code>$ ls
</code></pre></div>
<!-- an ordinary comment -->
<div class="language-py highlight"><pre><span></span><code><span class="n">c</span> <span class="o">=</span> <span class="mi">3</span><aside class="md-annotation">hidden</aside>
</code></pre></div>
"""


def test_copy_text_is_the_code_without_line_numbers():
    blocks = html_python_blocks(RENDERED)
    assert [b.code for b in blocks] == [
        'import torch\nx = 1 < 2  # (1)!\nprint("a&b")',  # entities decoded, anchors empty, filename not code
        "y = undefined",
        "a = 1\nb = 2",  # the line-number table is outside the <code>
        "c = 3",  # a `py` fence; annotation elements are hidden when copying
    ]
    assert [b.index for b in blocks] == [1, 2, 3, 4]
    assert blocks[0].first_line == "import torch"


def test_skip_marker_right_before_a_block():
    blocks = html_python_blocks(RENDERED)
    assert [b.skip_reason for b in blocks] == [None, "fragment", None, None]
    assert [b.allow_exit_reason for b in blocks] == [None, None, None, None]
    assert [b.cuda_reason for b in blocks] == [None, None, None, None]
    assert [b.plan("cuda") for b in blocks] == [("run", None), ("skip", "fragment"), ("run", None), ("run", None)]


def test_allow_exit_marker_runs_the_block_and_names_its_reason():
    html = ('<!--pytest.mark.allow_exit(reason="shows sys.exit")-->\n'
            '<div class="language-python highlight"><pre><code>import sys\nsys.exit(0)\n</code></pre></div>')
    (block,) = html_python_blocks(html)
    assert (block.skip_reason, block.allow_exit_reason) == (None, "shows sys.exit")
    assert block.plan("cpu") == block.plan("cuda") == ("run", "shows sys.exit")


@pytest.mark.parametrize(
    ("comment", "error"),
    [
        ('pytest.mark.skip(reason="")', "without a reason"),
        ('pytest.mark.allow_exit(reason=" ")', "without a reason"),
        ("pytest.mark.allow_exit()", "unsupported marker"),
        ("pytest.mark.skip()", "unsupported marker"),
        ('pytest.mark.cuda(reason="")', "without a reason"),
        ("pytest.mark.cuda()", "unsupported marker"),
        ("pytest.mark.cuda", "unsupported marker"),
        ('pytest.mark.gpu(reason="x")', "unsupported marker"),
        ('pytest.mark.skipif(True, reason="x")', "unsupported marker"),
        ("pytest-codeblocks:cont", "unsupported marker"),
    ],
)
def test_a_marker_needs_a_reason_and_only_known_markers_are_accepted(comment, error):
    html = f'<p>x</p>\n<!--{comment}-->\n<div class="language-python highlight"><pre><code>1\n</code></pre></div>'
    (block,) = html_python_blocks(html)
    for read in (lambda: block.skip_reason, lambda: block.cuda_reason, lambda: block.plan("cpu"),
                 lambda: block.plan("cuda")):
        with pytest.raises(ValueError, match=error):
            read()


def _docs_with_page(tmp_path: Path, body: str) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text(body, encoding="utf-8")
    return docs


def test_kb_check_reads_block_markers_with_the_builds_parser(tmp_path):
    docs = _docs_with_page(tmp_path, textwrap.dedent("""\
        # Markers

        <!--pytest.mark.cuda(reason="allocates on the GPU")-->
        ```python
        import torch
        ```

        <!--pytest.mark.cuda()-->
        ```python
        x = 1
        ```

        <!--pytest.mark.skip(reason="")-->

        ```python
        y = 2
        ```

        <!--pytest.mark.cuda(reason="nothing follows")-->
        Some text.

        ````markdown
        <!--pytest.mark.cuda()-->
        ````
        """))
    problems, _ = check(docs, tmp_path)
    assert [(p.path, p.line) for p in problems] == [("docs/index.md", 8), ("docs/index.md", 13), ("docs/index.md", 19)]
    assert "unsupported marker <!--pytest.mark.cuda()-->" in problems[0].message
    assert "without a reason" in problems[1].message
    assert "바로 다음에 코드 블록이 없습니다" in problems[2].message


def test_python_fences_are_counted_in_markdown():
    text = textwrap.dedent(
        """\
        ```python
        a = 1
        ```

        ```python title="snippets/qna/adagrad.py"
        --8<-- "snippets/qna/adagrad.py:update"
        ```

        !!! note
            ```py
            b = 2
            ```

        ````markdown
        ```python
        not a block of this page
        ```
        ````

        ```console
        $ make test
        ```
        """
    )
    assert markdown_python_fences(text) == 3
