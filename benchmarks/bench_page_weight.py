"""Benchmark: what a real browser transfers on a first visit to a Q&A page, fonts included.

    python -m benchmarks.bench_page_weight [--pages 500] [--site DIR]   (part of ``make bench``)

A temporary copy of the project gets ``--pages`` generated pages (benchmarks/project_builds.py's
:func:`generate_pages`) and is built once, its code blocks' outputs from the project's caches
(``--site DIR`` measures a site already built instead). The site is served on 127.0.0.1 as
GitHub Pages serves it: HTML, CSS, JavaScript, JSON and SVG gzip-compressed, fonts and images as
stored. Headless Chromium (tests/browser_helpers.py) opens the Q&A page ``--page`` with an empty
cache and waits until its fonts are ready and the network is idle; nothing is typed, so search
loads nothing. The figure is the sum of the responses' encoded body sizes (what came over the
wire, headers apart), by kind, with every font file named.

Three font setups on the same built pages, each in a fresh browser context:

* **now**: the site as built (docs/stylesheets/kb-fonts.css), on this machine's installed fonts;
* **no Korean font installed**: the same with every ``local()`` source taken out of
  kb-fonts.css, as for a reader whose system has no Korean font (Pretendard's Hangul slices load);
* **before** (commit 5d0a327): kb-fonts.css answered with the old rules, whole KS X 1001
  Pretendard subsets (Regular, Bold) and the whole STIX Two Math, taken from git (the pages
  differ from those of 5d0a327 only by the link to kb-fonts.css, which the old rules replace).

Not part of the test suite.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import http.server
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from browser_helpers import browser_unavailable, guard, launch  # noqa: E402
from benchmarks.project_builds import copy_project, generate_pages  # noqa: E402

OLD_COMMIT = "5d0a327"
OLD_FILES = {  # served under /__old/ for the "before" setup
    "Pretendard-Regular.subset.woff2": "docs/assets/fonts/pretendard/Pretendard-Regular.subset.woff2",
    "Pretendard-Bold.subset.woff2": "docs/assets/fonts/pretendard/Pretendard-Bold.subset.woff2",
    "STIXTwoMath-Regular.woff2": "docs/assets/fonts/stix-two-math/STIXTwoMath-Regular.woff2",
}
OLD_CSS = """\
@font-face { font-family: "Pretendard"; font-weight: 100 500; font-display: swap;
  src: url("/__old/Pretendard-Regular.subset.woff2") format("woff2"); }
@font-face { font-family: "Pretendard"; font-weight: 600 900; font-display: swap;
  src: url("/__old/Pretendard-Bold.subset.woff2") format("woff2"); }
@font-face { font-family: "KB STIX Two Math"; font-display: swap;
  src: url("/__old/STIXTwoMath-Regular.woff2") format("woff2"); }
"""
FONT_CSS = "stylesheets/kb-fonts.css"
GZIPPED = {".html", ".css", ".js", ".json", ".svg", ".xml", ".txt", ".map"}
TARGET_KB = 200


class _GzipHandler(http.server.SimpleHTTPRequestHandler):
    """Files of the site; text gzip-compressed when the browser accepts it (as GitHub Pages)."""

    extra: dict[str, bytes] = {}  # path -> body, answered instead of a file (the other setups)

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        local = Path(self.translate_path(path))
        if path in self.extra:
            body, ctype = self.extra[path], self.guess_type(path)
            if path.endswith(".css"):
                return self._send(gzip.compress(body, compresslevel=6), ctype, "gzip")
            return self._send(body, ctype)
        if local.is_dir():
            if not path.endswith("/"):
                self.send_response(301)
                self.send_header("Location", path + "/")
                self.end_headers()
                return None
            local = local / "index.html"
        if not local.is_file():
            return self.send_error(404)
        body, ctype = local.read_bytes(), self.guess_type(str(local))
        if local.suffix in GZIPPED and "gzip" in self.headers.get("Accept-Encoding", ""):
            return self._send(gzip.compress(body, compresslevel=6), ctype, "gzip")
        return self._send(body, ctype)

    def _send(self, body: bytes, ctype: str, encoding: str | None = None):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if encoding:
            self.send_header("Content-Encoding", encoding)
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def serve_gzip(site: Path, extra: dict[str, bytes]):
    handler = functools.partial(type("H", (_GzipHandler,), {"extra": extra}), directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def _kind(url: str, rtype: str) -> str:
    if rtype == "font" or url.endswith((".woff2", ".woff", ".ttf")):
        return "font"
    return {"document": "html", "stylesheet": "css", "script": "js", "image": "image"}.get(rtype, "other")


def first_visit(browser, base: str, page: str, font_css: str | None) -> dict:
    """Open ``page`` in a fresh context (empty cache); the bytes each response brought, by kind.
    ``font_css``: the path on the server fetched instead of kb-fonts.css."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    blocked = guard(context)
    if font_css is not None:
        context.route(re.compile(re.escape(base + FONT_CSS) + r"(\?.*)?$"),
                      lambda route: route.continue_(url=base + font_css))
    seen: list[tuple[str, str, int]] = []
    tab = context.new_page()
    tab.on("requestfinished", lambda r: seen.append((r.url, r.resource_type, r.sizes()["responseBodySize"])))
    tab.goto(base + page, wait_until="networkidle")
    tab.evaluate("() => document.fonts.ready.then(() => null)")
    tab.wait_for_load_state("networkidle")
    time.sleep(0.5)
    context.close()
    if blocked:
        raise SystemExit(f"requests to other hosts: {blocked}")
    by_kind: dict[str, int] = {}
    fonts = []
    for url, rtype, size in seen:
        kind = _kind(url, rtype)
        by_kind[kind] = by_kind.get(kind, 0) + size
        if kind == "font":
            fonts.append((url.rsplit("/", 1)[1], size))
    return {"total": sum(by_kind.values()), "by_kind": by_kind, "fonts": sorted(fonts), "requests": len(seen)}


def old_fonts() -> dict[str, bytes]:
    out = {}
    for name, path in OLD_FILES.items():
        got = subprocess.run(["git", "show", f"{OLD_COMMIT}:{path}"], cwd=ROOT, capture_output=True, check=True)
        out[f"/__old/{name}"] = got.stdout
    return out


def build(project: Path, site: Path) -> float:
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", KB_EXECUTE="1")
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "-q", "--strict", "--site-dir", str(site)],
                            cwd=project, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"build failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return time.perf_counter() - start


def measure(site: Path, page: str) -> dict[str, dict]:
    from playwright.sync_api import sync_playwright

    css = (site / FONT_CSS).read_text(encoding="utf-8")
    extra = old_fonts()
    # the same folder depth as stylesheets/, so that the relative url()s still resolve
    extra["/__nolocal/kb-fonts.css"] = re.sub(r'local\("[^"]*"\),\s*', "", css).encode()
    extra["/__old/kb-fonts.css"] = OLD_CSS.encode()
    setups = {"now": None, "no Korean font installed": "__nolocal/kb-fonts.css",
              f"before ({OLD_COMMIT})": "__old/kb-fonts.css"}
    out = {}
    with serve_gzip(site, extra) as base, sync_playwright() as p:
        browser = launch(p)
        try:
            for name, font_css in setups.items():
                out[name] = first_visit(browser, base, page, font_css)
        finally:
            browser.close()
    return out


def font_step(docs: Path, site: Path, cache: Path) -> tuple[float, float, int]:
    """Seconds of the build's math font step (kb/fonts.py) with an empty cache and again with its
    own cache (the pages scanned, the subset reused); the number of code points."""
    from kb.fonts import write_math_font

    start = time.perf_counter()
    write_math_font(docs, site, cache)
    cold = time.perf_counter() - start
    start = time.perf_counter()
    codepoints = write_math_font(docs, site, cache)
    return cold, time.perf_counter() - start, len(codepoints)


def report(results: dict[str, dict], pages: int | None, page: str, build_s: float | None) -> None:
    where = f"{pages} generated pages" if pages is not None else "the given site"
    print(f"\nfirst visit of {page} ({where}{f', built in {build_s:.0f} s' if build_s else ''}): bytes over the "
          f"wire in Chromium, empty cache, text gzip, fonts as stored (KB; target < {TARGET_KB})")
    kinds = ["html", "css", "js", "image", "font", "other"]
    print(f"  {'setup':<28} {'total':>7}  " + "  ".join(f"{k:>6}" for k in kinds) + "  requests")
    for name, r in results.items():
        cells = "  ".join(f"{r['by_kind'].get(k, 0) / 1024:6.1f}" for k in kinds)
        print(f"  {name:<28} {r['total'] / 1024:7.1f}  {cells}  {r['requests']:8d}")
    for name, r in results.items():
        print(f"  fonts, {name}: " + (", ".join(f"{f} {s / 1024:.1f}" for f, s in r["fonts"]) or "none"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=500, help="generated pages (default 500)")
    parser.add_argument("--page", default=None, help="the page opened (default: the first generated Q&A page)")
    parser.add_argument("--site", type=Path, help="measure this built site instead of building one")
    args = parser.parse_args(argv)
    why = browser_unavailable()
    if why:
        raise SystemExit(why)
    if args.site:
        page = args.page or "qna/adagrad/"
        report(measure(args.site, page), None, page, None)
        return 0
    with tempfile.TemporaryDirectory(prefix="kb-bench-weight-") as tmp:
        project = copy_project(Path(tmp) / "p", caches=True)
        generated = generate_pages(project, args.pages)
        page = args.page or next(p for p in generated if p.startswith("qna/"))[:-3] + "/"
        seconds = build(project, project / "site")
        report(measure(project / "site", page), args.pages, page, seconds)
        cold, warm, count = font_step(project / "docs", project / "site", Path(tmp) / "font-cache")
        print(f"  the build's math font step ({count} code points): {cold:.2f} s with an empty cache, "
              f"{warm:.2f} s cached (scanning the pages), of a {seconds:.0f} s build")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
