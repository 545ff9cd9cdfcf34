"""Run every Python block of a page during the build and show what it printed and drew.

Under each code block a reader can copy, the page shows the block's output and figures,
produced by running exactly the code the copy button copies (see
:func:`kb.blockrunner.html_python_blocks`), alone, in a fresh child of one warm worker per
build. A block that fails stops the build with the page, the block and the location. A
block preceded by ``<!--pytest.mark.skip(reason="...")-->`` is not run and shows no output.

Figures: a block saves PNG files into the folder named by ``$SNIPPET_OUTPUT_DIR`` and gives
each its alt text as PNG metadata (``fig.savefig(path, metadata={"Description": alt})``).
A figure without alt text fails the build.

Cache: results live in ``.cache/kb-exec/<key>/`` where the key hashes the block's code, the
torch and Python versions, the device and this module's format version, so unchanged code
is not re-run (``mkdocs serve`` stays fast) and a changed line invalidates exactly the
entries of the blocks that contain it. Entries no build used are removed after the build.

Environment:
``KB_EXECUTE=0``          build without running anything (no outputs on the pages);
``KB_EXEC_DEVICE=cuda``   run the blocks on the GPU (default: cpu, so the site is reproducible);
``KB_EXEC_CACHE=DIR``     where the cache lives (default: ``.cache/kb-exec`` in the project).
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import platform
import posixpath
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .blockrunner import BlockRunner, html_python_blocks

FORMAT = "1"  # bump when the cached result's layout or meaning changes
ROOT = Path(__file__).resolve().parent.parent
_BLOCK_RE = re.compile(r'<div class="language-(?:python|py|python3) highlight">.*?</pre></div>', re.S)
_TITLE_RE = re.compile(r'<span class="filename">([^<]*)</span>')
SNIPPET_DIR = "snippets"


class ExecutionError(RuntimeError):
    """A block failed during the build; the message names page, block and location."""


def torch_version() -> str:
    from importlib.metadata import version

    return version("torch")


@dataclass
class Result:
    key: str
    stdout: str
    stderr: str
    figures: list[dict]  # {"file": name, "alt": text}
    duration: float
    cached: bool = False


@dataclass
class Executor:
    """One build's execution state: the worker (started on the first cache miss) and the cache."""

    cache_dir: Path
    device: str = "cpu"
    enabled: bool = True
    runner: BlockRunner | None = None
    used: set[str] = field(default_factory=set)
    figures_out: dict[str, Path] = field(default_factory=dict)  # site path -> cached file
    snippets_used: set[str] = field(default_factory=set)
    runs: int = 0
    hits: int = 0

    @classmethod
    def from_env(cls, project: Path) -> Executor:
        cache = Path(os.environ.get("KB_EXEC_CACHE") or project / ".cache" / "kb-exec")
        device = os.environ.get("KB_EXEC_DEVICE", "cpu")
        if device not in ("cpu", "cuda"):
            raise ExecutionError(f"KB_EXEC_DEVICE must be cpu or cuda, not {device!r}")
        return cls(cache_dir=cache, device=device, enabled=os.environ.get("KB_EXECUTE", "1") != "0")

    def key(self, code: str) -> str:
        h = hashlib.sha256()
        for part in (FORMAT, torch_version(), platform.python_version(), self.device, code):
            h.update(part.encode("utf-8") + b"\0")
        return h.hexdigest()[:32]

    def run(self, code: str, label: str) -> Result:
        key = self.key(code)
        self.used.add(key)
        entry = self.cache_dir / key
        meta = entry / "result.json"
        if meta.is_file():
            data = json.loads(meta.read_text(encoding="utf-8"))
            self.hits += 1
            return Result(key=key, cached=True, **data)
        if self.runner is None:
            self.runner = BlockRunner(device=self.device)
            self.runner.start()
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        staged = Path(tempfile.mkdtemp(dir=self.cache_dir, prefix=".tmp-"))
        try:
            out = staged / "figures"
            out.mkdir()
            result = self.runner.run(code, filename=label, env={"SNIPPET_OUTPUT_DIR": str(out)})
            self.runs += 1
            if not result.ok:
                raise ExecutionError(result.report(label))
            figures = []
            for png in sorted(out.iterdir()):
                if png.suffix.lower() != ".png":
                    raise ExecutionError(f"{label}: wrote {png.name}; figures must be PNG files")
                alt = _png_description(png)
                if not alt:
                    raise ExecutionError(
                        f"{label}: figure {png.name} has no alt text; save it with "
                        'fig.savefig(path, metadata={"Description": "..."})'
                    )
                figures.append({"file": png.name, "alt": alt})
            data = {"stdout": result.stdout, "stderr": result.stderr, "figures": figures,
                    "duration": round(result.duration, 3)}
            (staged / "result.json").write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
            if entry.exists():
                shutil.rmtree(entry)
            staged.rename(entry)  # atomic: a half-written entry is never read
        finally:
            if staged.exists():
                shutil.rmtree(staged, ignore_errors=True)
        return Result(key=key, **data)

    def close(self) -> None:
        if self.runner is not None:
            self.runner.close()
            self.runner = None

    def evict_unused(self) -> list[str]:
        """Remove cache entries that this build did not use; return their keys."""
        removed = []
        if not self.cache_dir.is_dir():
            return removed
        for entry in self.cache_dir.iterdir():
            if entry.is_dir() and not entry.name.startswith(".tmp-") and entry.name not in self.used:
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry.name)
        return removed

    # -- pages -------------------------------------------------------------------------

    def process_page(self, page_html: str, src: str, page_url: str) -> str:
        """Insert output (and download links) under every runnable Python block of a page."""
        spans = list(_BLOCK_RE.finditer(page_html))
        blocks = html_python_blocks(page_html)
        if len(spans) != len(blocks):
            raise ExecutionError(f"docs/{src}: found {len(blocks)} Python blocks but could place {len(spans)}")
        pieces, last = [], 0
        for span, block in zip(spans, blocks):
            pieces.append(page_html[last : span.end()])
            last = span.end()
            try:
                reason = block.skip_reason
            except ValueError as exc:
                raise ExecutionError(f"docs/{src} block {block.index}: {exc}") from None
            title = _TITLE_RE.search(span.group(0))
            snippet = html.unescape(title.group(1)).strip() if title else ""
            extra = ""
            if snippet.startswith(SNIPPET_DIR + "/") and snippet.endswith(".py"):
                if not (ROOT / snippet).is_file():
                    raise ExecutionError(f"docs/{src} block {block.index}: title names {snippet}, which does not exist")
                self.snippets_used.add(snippet)
                href = posixpath.relpath(snippet, page_url.rstrip("/") or ".") if page_url else snippet
                name = posixpath.basename(snippet)
                extra = (f'<p class="kb-download"><a href="{html.escape(href)}" download="{html.escape(name)}">'
                         f"{html.escape(name)} 내려받기</a> (전체 프로그램)</p>")
            if reason is not None or not self.enabled:
                pieces.append(extra)
                continue
            label = f"<docs/{src} block {block.index}>"
            try:
                result = self.run(block.code, label)
            except ExecutionError as exc:
                raise ExecutionError(f"docs/{src}: Python block {block.index} "
                                     f"(first line: {block.first_line!r}) failed during the build:\n{exc}") from None
            pieces.append(self._output_html(result, page_url) + extra)
        pieces.append(page_html[last:])
        return "".join(pieces)

    def _output_html(self, result: Result, page_url: str) -> str:
        parts = [f'<div class="kb-output" data-kb-key="{result.key}">',
                 f'<p class="kb-output__label">실행 결과 ({self.device.upper()}, torch {torch_version()})</p>']
        text = result.stdout.rstrip()
        if text:
            parts.append(f'<pre class="kb-output__text"><code>{html.escape(text)}</code></pre>')
        for fig in result.figures:
            site_path = f"assets/figures/{result.key}-{fig['file']}"
            self.figures_out[site_path] = self.cache_dir / result.key / "figures" / fig["file"]
            href = posixpath.relpath(site_path, page_url.rstrip("/") or ".") if page_url else site_path
            alt = html.escape(fig["alt"], quote=True)
            parts.append(f'<figure class="kb-figure"><img src="{html.escape(href)}" alt="{alt}" loading="lazy">'
                         f"<figcaption>{html.escape(fig['alt'])}</figcaption></figure>")
        if not text and not result.figures:
            parts.append('<p class="kb-output__empty">(출력 없음)</p>')
        parts.append("</div>")
        return "".join(parts)

    def write_site_files(self, site_dir: Path) -> None:
        """Copy the figures and the included snippet files into the built site."""
        for site_path, source in self.figures_out.items():
            dest = site_dir / site_path
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, dest)
        for snippet in sorted(self.snippets_used):
            dest = site_dir / snippet
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ROOT / snippet, dest)


def _png_description(path: Path) -> str:
    """The PNG's ``Description`` text chunk (how matplotlib's ``metadata=`` stores it)."""
    from PIL import Image

    with Image.open(path) as img:
        return str(img.info.get("Description", "")).strip()
