"""Material's search box on an open page in Chromium: ``SearchBox`` waits until the search worker
has loaded the index, types a query as a reader would, and reads the first rendered result list
(the result paths, the count line, the highlighted marks, and the time it took to render).

The page comes from tests/browser_helpers.py (``Tab``, ``shared_tab``). Used by tests/test_search*.py,
tests/test_subpath.py, tests/test_reader_meets.py and benchmarks/bench_search.py,
benchmarks/bench_search_quality.py.
"""

from __future__ import annotations

from urllib.parse import urlsplit


# Material's search box. Material searches on `keyup`; Playwright's keyboard.type() of
# Hangul fires no keyup, so text is inserted and End pressed (which fires keyup).
_MEASURE_JS = """
() => { window.__kbSearchResult = new Promise(resolve => {
  const input = document.querySelector("input.md-search__input");
  const list = document.querySelector(".md-search-result__list");
  const meta = document.querySelector(".md-search-result__meta");
  let t0 = null;
  input.addEventListener("keyup", () => { if (t0 === null) t0 = performance.now(); },
                         { capture: true, once: true });
  const observer = new MutationObserver(() => {
    if (t0 === null) return;
    observer.disconnect();
    const links = [...list.querySelectorAll(":scope > li")].map(li => {
      const a = li.querySelector("a.md-search-result__link");
      return a ? a.href : null;
    });
    resolve({
      ms: performance.now() - t0,
      links,
      meta: meta.textContent,
      marks: list.querySelectorAll("mark").length,
    });
  });
  observer.observe(list.parentElement, { childList: true, subtree: true, characterData: true });
}); }
"""


class SearchBox:
    """Material's search box on an open page."""

    INPUT = "input.md-search__input"
    META = ".md-search-result__meta"

    def __init__(self, page, base_url: str):
        self.page = page
        self.base = base_url

    def open(self, timeout_ms: int = 15000):
        """Focus the box and wait until the search worker has loaded the index."""
        page = self.page
        page.locator(self.INPUT).focus()
        placeholder = page.evaluate("() => JSON.parse(document.getElementById('__config').textContent)"
                                    ".translations['search.result.placeholder']")
        page.wait_for_function(
            "(text) => document.querySelector('.md-search-result__meta').textContent.trim() === text",
            arg=placeholder,
            timeout=timeout_ms,
        )
        # search-ko-rank.js orders results with the copy of the index (search-ko-engine.js) fetched on first focus
        page.wait_for_function("() => !window.kbSearchKo || window.kbSearchKo.ready()", timeout=timeout_ms)

    def clear(self):
        page = self.page
        page.locator(self.INPUT).fill("")
        page.keyboard.press("End")  # keyup: Material searches for "" and shows the placeholder

    def search(self, query: str, timeout_ms: int = 10000) -> dict:
        """Type ``query`` and return {ms, paths, meta, marks} of the first result render."""
        page = self.page
        self.clear()
        page.wait_for_function(
            "() => document.querySelector('.md-search-result__list').children.length === 0"
        )
        page.evaluate(_MEASURE_JS)
        page.locator(self.INPUT).focus()
        page.keyboard.insert_text(query)
        page.keyboard.press("End")
        result = page.evaluate("() => window.__kbSearchResult", None)  # awaits the first render
        result["paths"] = [self.path_of(href) for href in result.pop("links") if href]
        return result

    def path_of(self, href: str) -> str:
        """'http://127.0.0.1:1234/qna/adagrad/?h=x#frag' -> 'qna/adagrad/'."""
        parts = urlsplit(href)
        base = urlsplit(self.base).path
        path = parts.path
        return path[len(base):] if path.startswith(base) else path.lstrip("/")
