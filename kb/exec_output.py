"""The HTML under a block the build ran (kb/execute.py decides what runs; this module draws it).

A block's output: its stdout, its stderr where the page allows a warning (``<!--kb-allow-warning:
이유-->`` right before the block, before its ``pytest.mark`` marker if it has one), and its figures
(PNG files with alt text, each ``<img>`` with its own width and height); a block marked
``pytest.mark.cuda`` on a build without CUDA gets a note instead; under a block taken from a
snippet file, a link to download the whole file. The figures and snippet files the HTML links to
are copied into the site here too.
"""

from __future__ import annotations

import html
import io
import posixpath
import re
import shutil
from pathlib import Path

from .blocks import HtmlBlock
from .exec_store import ExecutionError
from .safety import esc

# the HTML comments right before a block (Markdown keeps them as they were written)
_COMMENTS_BEFORE_RE = re.compile(r"(?:<!--(?:(?!-->).)*-->\s*)+$", re.S)
_ALLOW_WARNING_RE = re.compile(r"<!--\s*kb-allow-warning\b(.*?)-->", re.S)
ALLOW_WARNING = "<!--kb-allow-warning: 이유-->"
_TITLE_RE = re.compile(r'<span class="filename">([^<]*)</span>')  # a block's title (pymdownx: title="...")
SNIPPET_DIR = "snippets"


def output_html(key: str, stdout: str, stderr: str, figures: list[dict], *, label: str, where: str,
                allow_warning: str | None, device: str, torch: str, page_url: str, figure_file) -> str:
    """The output under a block (``figure_file(name)``: where its figure ``name`` is kept); a block
    that wrote to stderr without its page allowing it (``allow_warning``: the reason of its
    kb-allow-warning comment) fails the build."""
    stderr = stderr.rstrip()
    if stderr and allow_warning is None:
        first = next(line.strip() for line in stderr.splitlines() if line.strip())
        raise ExecutionError(
            f"{where or label}: 코드 블록이 stderr에 경고나 로그를 씁니다: {first[:200]!r}. "
            "원인을 고치세요. 독자에게 보여 주려는 경고면 블록 바로 앞(pytest.mark 표시가 있으면 "
            f"그 앞)에 {ALLOW_WARNING}를 쓰세요.")
    parts = [f'<div class="kb-output" data-kb-key="{key}">',
             f'<p class="kb-output__label">실행 결과 ({device.upper()}, torch {torch})</p>']
    text = stdout.rstrip()
    if text:
        parts.append(f'<pre class="kb-output__text"><code>{html.escape(text)}</code></pre>')
    if stderr:
        parts.append(f'<pre class="kb-output__text kb-output__stderr" title="stderr"><code>{html.escape(stderr)}'
                     "</code></pre>")
    for fig in figures:
        site_path = figure_site_path(key, fig["file"])
        href = posixpath.relpath(site_path, page_url.rstrip("/") or ".") if page_url else site_path
        alt = html.escape(fig["alt"], quote=True)
        width, height = fig.get("size") or png_alt_and_size(figure_file(fig["file"]))[1]
        parts.append(f'<figure class="kb-figure"><img src="{html.escape(href)}" alt="{alt}" '
                     f'width="{width}" height="{height}" loading="lazy">'
                     f"<figcaption>{html.escape(fig['alt'])}</figcaption></figure>")
    if not text and not stderr and not figures:
        parts.append('<p class="kb-output__empty">(출력 없음)</p>')
    parts.append("</div>")
    return "".join(parts)


def figure_site_path(key: str, name: str) -> str:
    """Where a result's figure is in the built site."""
    return f"assets/figures/{key}-{name}"


def snippet_of(block_html: str, where: str, root: Path) -> str | None:
    """The snippet file (``snippets/....py``, under ``root``) a block's title names, or None; a title
    that names one that does not exist stops the build."""
    title = _TITLE_RE.search(block_html)
    snippet = html.unescape(title.group(1)).strip() if title else ""
    if not (snippet.startswith(SNIPPET_DIR + "/") and snippet.endswith(".py")):
        return None
    if not (root / snippet).is_file():
        raise ExecutionError(f"{where}: title names {snippet}, which does not exist")
    return snippet


def download_html(snippet: str, page_url: str) -> str:
    """The link under a block taken from a snippet file: the whole file, copied into the site."""
    href = posixpath.relpath(snippet, page_url.rstrip("/") or ".") if page_url else snippet
    name = posixpath.basename(snippet)
    return (f'<p class="kb-download"><a href="{html.escape(href)}" download="{html.escape(name)}">'
            f"{html.escape(name)} 내려받기</a> (전체 프로그램)</p>")


def needs_cuda_html(reason: str, device: str) -> str:
    """What a reader sees under a ``<!--pytest.mark.cuda(reason=...)-->`` block that this build
    (on ``device``, not cuda) did not run: in the output's place, a note saying why."""
    return (f'<div class="kb-output kb-output--needs-cuda">'
            f'<p class="kb-output__label">실행하지 않음 (CUDA GPU 필요, 이 빌드: {esc(device.upper())})</p>'
            f'<p class="kb-output__note">이 코드는 CUDA GPU가 있어야 실행됩니다. 이유: {esc(reason)}</p></div>')


def figures_in(out: Path, label: str) -> list[dict]:
    """The figures a block saved into ``out``: PNG files, each with its alt text."""
    figures = []
    for png in sorted(out.iterdir()):
        if png.suffix.lower() != ".png":
            raise ExecutionError(f"{label}: wrote {png.name}; figures must be PNG files")
        alt, size = png_alt_and_size(png)
        if not alt:
            raise ExecutionError(
                f"{label}: figure {png.name} has no alt text; save it with "
                'fig.savefig(path, metadata={"Description": "..."})'
            )
        figures.append({"file": png.name, "alt": alt, "size": list(size)})
    return figures


def allow_warning_of(before: str, block: HtmlBlock, src: str) -> str | None:
    """The reason of the ``<!--kb-allow-warning: ...-->`` comment among the comments right before a
    block (``before``: the page's HTML from the end of the last block to this one), or None."""
    comments = _COMMENTS_BEFORE_RE.search(before.rstrip())
    if comments is None:
        return None
    found = list(_ALLOW_WARNING_RE.finditer(comments.group(0)))
    if not found:
        return None
    where = f"docs/{src} block {block.index}"
    reason = found[-1].group(1).strip()
    if len(found) > 1 or not reason.startswith(":") or not reason[1:].strip():
        raise ExecutionError(f"{where}: 경고 허용 표시는 블록마다 하나, 이유와 함께 {ALLOW_WARNING} 꼴로 씁니다 "
                             f"(이 블록 앞: {found[-1].group(0)!r})")
    if block.marker is None and "pytest.mark." in comments.group(0):
        raise ExecutionError(f"{where}: {ALLOW_WARNING}는 pytest.mark 표시보다 앞에 쓰세요. 뒤에 쓰면 "
                             "빌드와 검사가 pytest.mark 표시를 읽지 못합니다")
    return reason[1:].strip()


def png_alt_and_size(png: Path | bytes) -> tuple[str, tuple[int, int]]:
    """A PNG's ``Description`` text (how matplotlib's ``metadata=`` stores it: a tEXt, zTXt or iTXt
    chunk), stripped, and its (width, height) in pixels. PIL raises on a file that is not a PNG."""
    from PIL import Image

    with Image.open(io.BytesIO(png) if isinstance(png, bytes) else png) as img:
        return str(img.info.get("Description", "")).strip(), img.size


def copy_site_files(site_dir: Path, figures: dict[str, tuple[Path, str]], snippets: set[str], root: Path) -> None:
    """Copy the figures (site path -> (cached file, the block's label)) and the snippet files
    (paths under ``root``) that the pages link to into the built site."""
    for site_path, (source, label) in figures.items():
        dest = site_dir / site_path
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copyfile(source, dest)
        except FileNotFoundError:
            raise ExecutionError(f"{label}: its figure {source} disappeared from the cache during the build "
                                 "(did a block delete the cache?); build again") from None
    for snippet in sorted(snippets):
        dest = site_dir / snippet
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / snippet, dest)
