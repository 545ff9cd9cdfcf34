"""No string from a page's front matter can run in a reader's browser (kb/safety.py).

Two lines of defence, each tested on its own:

1. ``kb check`` and the build refuse front matter that carries markup (file and line named);
   text that only looks like a tag (``List<Student>``) is kept.
2. Every road from front matter to HTML escapes: the property boxes and generated lists
   (kb/render.py), the navigation (kb/nav.py), and page.meta, which Material's templates, the tags
   plugin and the search index use unescaped. To test this line alone, a hostile corpus is built
   with the first line switched off (in that build process only) and every page of the result
   is loaded in a real Chromium: no dialog opens, and no script element, event-handler attribute
   or ``javascript:`` link from the corpus is in any page. The same copy of the project holds a
   hostile Notion export, imported as a member would import it, so its pages are loaded too.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import markdown
import pytest
import yaml

from browser_helpers import chromium, guard, serve, site_pages  # noqa: F401  (fixture)
from conftest import DOCS, ROOT, copy_project
from kb import mathml
from kb.check import check
from kb.frontmatter import Page
from kb.render import Site
from kb.safety import markup_in, md_text

pytestmark = pytest.mark.xdist_group("test_security")  # its module fixture once, on one worker (pytest.ini)

# Payloads as a hostile export or a careless page would carry them; each alert() has its own number.
PAYLOADS = [
    "<script>alert(101)</script>",
    "&lt;script&gt;alert(102)&lt;/script&gt;",
    "<ScRiPt>alert(103)</sCrIpT>",
    "<img src=x onerror=alert(104)>",
    '"><svg onload=alert(105)>',
    "' onmouseover='alert(106)' x='",
    '" autofocus onfocus="alert(107)" x="',
    "javascript:alert(108)",
    "&amp;lt;img src=x onerror=alert(109)&amp;gt;",
    '<a href="javascript:alert(110)">x</a>',
    "[클릭](javascript:alert(111))",
    '<iframe srcdoc="<script>alert(112)</script>"></iframe>',
    "{: onclick=alert(113) } `x` <!-- y",
    "</title><script>alert(114)</script>",
    "<details open ontoggle=alert(115)>",
    "$\\text{<img src=x onerror=alert(116)>}$",
]
LOOKS_LIKE_MARKUP = ["List<Student>", "a < b 그리고 c > d", "<redacted>", "Map<String, List<Integer>>", "x<y>z"]
MARKDOWN_EXTENSIONS = ["tables", "attr_list", "md_in_html", "def_list", "abbr", "footnotes", "admonition",
                       "pymdownx.superfences", "pymdownx.tasklist", "toc"]


def _render(text: str) -> str:
    return markdown.Markdown(extensions=MARKDOWN_EXTENSIONS).convert(text)


# --- the helpers ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", PAYLOADS + LOOKS_LIKE_MARKUP + ["*별* _밑줄_ | 파이프 \\ 역슬래시 # 1. - + !"])
def test_md_text_renders_as_exactly_the_text(text):
    import html

    for source in (f"- {md_text(text)}", f"| 열 |\n|---|\n| {md_text(text)} |"):
        out = _render(source)
        assert "<script" not in out.lower() and "<img" not in out and "<a " not in out
        cell = out.split("<li>")[-1].split("</li>")[0] if "<li>" in out else out.split("<td>")[1].split("</td>")[0]
        assert html.unescape(cell) == text


@pytest.mark.parametrize("text", [p for p in PAYLOADS if "onmouseover" not in p and "autofocus" not in p
                                  and not p.startswith("[") and not p.startswith("$")])
def test_markup_in_finds_markup_after_decoding_entities(text):
    assert markup_in(text)


@pytest.mark.parametrize("text", LOOKS_LIKE_MARKUP + ["3 < 4", "Q&A", "R&D 팀의 <초안>"])
def test_text_that_only_looks_like_markup_is_not_markup(text):
    assert markup_in(text) is None


# --- first line: kb check and the build refuse markup in front matter -------------------------


def _project_copy(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "project")


def _checked(docs: Path) -> str:
    """What ``kb check`` prints for ``docs`` (a line per problem), checked in this process: the
    command line prints these lines and exits 1 (tests/test_cli.py), the build stops with them
    (tests/test_rules.py)."""
    problems, _ = check(docs, ROOT)
    assert problems, "kb check should have refused these pages"
    return "\n".join(str(p) for p in problems)


def test_check_names_file_and_line_of_markup_in_front_matter(tmp_path):
    docs = shutil.copytree(DOCS, tmp_path / "docs")
    page = docs / "qna/adagrad.md"
    text = page.read_text(encoding="utf-8")
    page.write_text(text.replace("qid: Q3\n", "qid: Q3\nasked_by: \"&lt;img src=x onerror=alert(1)&gt;\"\n", 1),
                    encoding="utf-8")
    assert "docs/qna/adagrad.md:5: field 'asked_by' contains markup (<img>)" in _checked(docs)


def test_template_cannot_be_chosen_from_front_matter():
    from kb.frontmatter import validate_page

    page = Page("glossary.md", {"title": "용어집", "template": "redirect.html"}, {"template": 3})
    assert [str(p) for p in validate_page(page, set())] == [
        "docs/glossary.md:3: unknown field 'template' (allowed: description, hide, icon, search, status, tags, title)"
    ]


# --- second line: everything that reaches HTML is escaped --------------------------------------


def test_generated_lists_and_boxes_escape_every_front_matter_string():
    import datetime as dt

    p = PAYLOADS
    meeting = Page("meetings/2030-01-01.md", {
        "title": p[0], "description": p[3], "date": dt.date(2030, 1, 1),
        "created": dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc), "updated": dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc),
        "author": p[4], "attendees": [p[5], p[9]], "meeting_type": p[10], "tags": [p[13]]})
    qna = Page("qna/x.md", {"title": p[2], "description": p[11], "qid": p[12], "status": "open", "tags": [p[1], p[14]],
                            "meeting": meeting.src, "related": [], "asked_by": p[6]})
    paper = Page("papers/x.md", {"title": p[7], "tags": [p[0]], "meeting": meeting.src, "slides": "https://e.org/a\"b",
                                 "paper": {"title": p[3], "authors": [p[4]], "venue": p[10], "year": 2030, "url": "https://e.org/"}})
    site = Site({pg.src: pg for pg in (meeting, qna, paper)})
    html = "".join(_render(site.header(pg)) for pg in (meeting, qna, paper))
    from kb.render import MARKERS

    html += _render(site.expand_markers("index.md", "\n\n".join(f"<!-- kb:{name} -->" for name in MARKERS)))
    assert_no_markup_from_corpus(html)
    assert "&lt;script&gt;alert(101)&lt;/script&gt;" in html  # shown as text, not dropped


def assert_no_markup_from_corpus(html: str) -> None:
    from html.parser import HTMLParser

    found = []

    class Scan(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag in ("script", "img", "svg", "iframe", "details"):
                found.append(f"<{tag}>")
            for name, value in attrs:
                if name.startswith("on") or (value or "").strip().lower().startswith("javascript:"):
                    found.append(f"<{tag} {name}={value}>")

    Scan().feed(html)
    assert found == []


def test_tex_text_is_escaped_and_foreign_elements_are_refused():
    out = mathml.to_mathml(r"\text{<script>alert(4)</script>} + \text{<img src=x onerror=alert(1)>}", True)
    assert "<script" not in out and "<img" not in out
    assert "&lt;script&gt;alert(4)&lt;/script&gt;" in out
    with pytest.raises(ValueError, match="unexpected element"):
        mathml._check_elements(__import__("xml.etree.ElementTree").etree.ElementTree.fromstring(
            '<math xmlns="http://www.w3.org/1998/Math/MathML"><mtext><script xmlns="http://www.w3.org/1999/xhtml"/></mtext></math>'))


_BUILD_WITHOUT_FIRST_LINE = """
import sys
import kb.frontmatter
kb.frontmatter._markup_problems = lambda page, label: []   # this process only: test the escaping alone
from mkdocs.__main__ import cli

sys.argv = ["mkdocs", "build", "--strict", "--site-dir", sys.argv[1]]
cli()
"""


def _front_matter(fields: dict) -> str:
    return "---\n" + yaml.safe_dump(fields, allow_unicode=True, sort_keys=False) + "---\n"


def _write_corpus(docs: Path) -> int:
    """One meeting, one Q&A page and one paper review per payload, the payload in every text field."""
    import datetime as dt

    kst = dt.timezone(dt.timedelta(hours=9))
    for i, p in enumerate(PAYLOADS):
        date = dt.date(2030, 1, i + 1)
        meeting = f"meetings/{date.isoformat()}.md"
        (docs / meeting).write_text(_front_matter({
            "title": p, "description": p, "date": date, "created": dt.datetime(2030, 1, i + 1, 10, tzinfo=kst),
            "author": p, "attendees": [p, "이하람"], "updated": dt.datetime(2030, 1, i + 1, 11, tzinfo=kst),
            "meeting_type": p, "tags": [p, "회의록"],
        }) + f"\n본문은 평범합니다 {i}.\n", encoding="utf-8")
        (docs / f"qna/hostile-{i}.md").write_text(_front_matter({
            "title": p, "description": p, "qid": f"Q{i + 1}", "status": "open", "tags": [p],
            "meeting": meeting, "related": [], "asked_by": p,
        }) + "\n질문입니다.\n", encoding="utf-8")
    (docs / "papers/hostile.md").write_text(_front_matter({
        "title": PAYLOADS[0], "description": PAYLOADS[4], "tags": PAYLOADS[:3], "slides": "https://example.org/s",
        "meeting": "meetings/2030-01-01.md",
        "paper": {"title": PAYLOADS[3], "authors": PAYLOADS[5:8], "venue": PAYLOADS[9], "year": 2030,
                  "url": "https://example.org/p"},
    }) + "\n리뷰입니다.\n", encoding="utf-8")
    return len(PAYLOADS)


@pytest.fixture(scope="module")
def hostile_site(hostile_project) -> Path:
    """The hostile project (:func:`hostile_project`: the imported export and the front matter corpus)
    built with --strict and the first line switched off, in that build process only."""
    project, _, _ = hostile_project
    cfg = project / "mkdocs.yml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace(
        "      - papers/attention-is-all-you-need.md\n",
        "      - papers/attention-is-all-you-need.md\n      - papers/hostile.md\n"), encoding="utf-8")
    site = project.parent / "site"
    env = {"NO_MKDOCS_2_WARNING": "1", "KB_EXECUTE": "0", "PYTHONPATH": str(project)}
    import os

    result = subprocess.run([sys.executable, "-c", _BUILD_WITHOUT_FIRST_LINE, str(site)], cwd=project,
                            env=dict(os.environ, **env), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return site


def test_first_line_alone_refuses_the_corpus(tmp_path):
    """Without the patch, the same corpus is refused by kb check, naming each page."""
    docs = shutil.copytree(DOCS, tmp_path / "docs")
    _write_corpus(docs)
    out = _checked(docs)
    for i, p in enumerate(PAYLOADS):
        if markup_in(p):
            assert f"docs/qna/hostile-{i}.md:2: field 'title' contains markup" in out, p


_DOM_SCAN = """
() => {
  const bad = [];
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) {
      if (a.name.startsWith('on')) bad.push(`<${el.tagName} ${a.name}>`);
      if (['href', 'src', 'action', 'formaction', 'xlink:href', 'data', 'srcdoc'].includes(a.name)
          && /^\\s*javascript:|alert\\(/i.test(a.value)) bad.push(`<${el.tagName} ${a.name}=${a.value}>`);
    }
    if (el.tagName === 'SCRIPT' && /alert\\(/.test(el.textContent)) bad.push('<script>alert</script>');
    if (el.tagName === 'IFRAME' || (el.tagName === 'IMG' && /^x$|\\/x$/.test(el.getAttribute('src') || '')))
      bad.push(`<${el.tagName}> ${el.outerHTML.slice(0, 80)}`);
  }
  return bad;
}
"""


@pytest.fixture(scope="module")
def every_page_loaded(chromium, hostile_site):  # noqa: F811
    """:func:`_load_every_page` of the hostile site, once for both browser tests below."""
    return _load_every_page(chromium, hostile_site)


@pytest.mark.browser
def test_hostile_front_matter_runs_nothing_on_any_page(every_page_loaded):
    dialogs, problems, shown = every_page_loaded
    assert dialogs == []
    assert problems == {}
    assert "alert(101)" in shown  # the payload is found by search and shown, as text


def _load_every_page(chromium, site: Path) -> tuple[list[str], dict[str, list[str]], str]:  # noqa: F811
    """Open every page of ``site`` and search for the payloads' words; return the dialogs that
    opened, what the DOM scan found per page, and the text of the last search results."""
    pages = site_pages(site)
    dialogs: list[str] = []
    problems: dict[str, list[str]] = {}
    with serve(site) as base:
        context = chromium.new_context()
        blocked = guard(context)
        page = context.new_page()
        page.on("dialog", lambda d: (dialogs.append(f"{page.url}: {d.message}"), d.dismiss()))
        for path in pages:
            page.goto(base + path, wait_until="load")
            page.wait_for_timeout(50)
            if found := page.evaluate(_DOM_SCAN):
                problems[path] = found
        # search results render titles and teasers from the index: search for the payloads' words
        page.goto(base, wait_until="load")
        page.click("label.md-search__icon, .md-search__input", timeout=5000)
        for query in ("alert", "script", "onerror", "svg"):
            page.fill("input.md-search__input", query)
            page.keyboard.press("End")
            page.wait_for_timeout(600)
            if found := page.evaluate(_DOM_SCAN):
                problems[f"search:{query}"] = found
        shown = page.inner_text(".md-search-result")
        context.close()
    assert len(pages) > 2 * len(PAYLOADS)
    assert blocked == []
    return dialogs, problems, shown


# --- the importer: a hostile Notion export, imported into the hostile site's copy -------------


def _notion_page(i: int, payload: str) -> str:
    """A page in Notion's "Markdown & CSV" export form with the payload in its title, properties and body."""
    return (
        f"# 3/{i + 1} 회의록 {payload}\n\n"
        f"작성일시: 2031년 3월 {i + 1}일 오후 3:52\n"
        f"작성자: 하람 {payload}\n"
        f"참석자: {payload}, 이하람\n"
        f"회의 유형: 일일 회의 {payload}\n"
        f"태그: {payload}, 회의\n\n"
        f"Q1. {payload} 이건 왜 그런가요?\n\n"
        f"답: {payload} 그리고 List<Student>와 a < b는 글자입니다.\n\n"
        "```{.python}\nopen('hostile-import-ran', 'w').write('x')\n```\n"
    )


@pytest.fixture(scope="module")
def hostile_project(tmp_path_factory) -> tuple[Path, str, list[str]]:
    """A copy of the project with an export of one page per payload imported (one import of the
    whole export, as a member imports a database), then the front matter corpus written into it
    (:func:`_write_corpus`). Returns it, the importer's refusal if any, and the problems the build's
    own rules (``load_docs``) found in docs/ right after the import, before the corpus was added.

    Both browser tests load every page of its one build (:func:`hostile_site`, the first line off):
    the imported pages come out of the importer with no markup left (checked here by the first
    line's own rule, ``load_docs``), so switching the first line off does not change what they render."""
    from kb.frontmatter import load_docs
    from notion_cli import kb_main

    tmp = tmp_path_factory.mktemp("hostile")
    project = _project_copy(tmp)
    export = tmp / "export"
    export.mkdir()
    for i, payload in enumerate(PAYLOADS):
        (export / f"Meeting {i} {i:032x}.md").write_text(_notion_page(i, payload), encoding="utf-8")
    result = kb_main("import-notion", export, "--docs", project / "docs")
    _, problems = load_docs(project / "docs")
    _write_corpus(project / "docs")
    return project, "" if result.returncode == 0 else result.stdout + result.stderr, [str(p) for p in problems]


def test_hostile_export_imports_with_markup_neutralised(hostile_project):
    project, refused, problems = hostile_project
    assert refused == ""  # neutralised with a warning naming the line, not refused
    from kb.frontmatter import load_docs

    assert problems == []  # the build's own rule finds no markup left
    pages, _ = load_docs(project / "docs")
    imported = [p for p in pages.values() if p.src.startswith(("meetings/2031-", "qna/2031-"))]
    assert len(imported) == 2 * len(PAYLOADS)
    bodies = "".join((project / "docs" / p.src).read_text(encoding="utf-8") for p in imported)
    # the {.python} fence of the notes, quoted on the meeting page and under the question, never runs
    marked = bodies.count('<!--pytest.mark.skip(reason="fragment quoted from the meeting notes")-->\n```python')
    assert marked == bodies.count("```python") == 2 * len(PAYLOADS)


@pytest.mark.browser
def test_imported_hostile_export_runs_nothing_on_any_page(every_page_loaded, hostile_site):
    dialogs, problems, _ = every_page_loaded
    assert dialogs == [] and problems == {}
    page = (hostile_site / "meetings/2031-03-04/index.html").read_text(encoding="utf-8")
    assert "List&lt;Student&gt;와 a &lt; b는 글자입니다" in page  # text that only looks like markup is kept


def test_unmarked_block_on_an_imported_page_stops_the_build(tmp_path):
    project = _project_copy(tmp_path)
    page = project / "docs/meetings/2021-08-10.md"
    page.write_text(page.read_text(encoding="utf-8") + "\n```python\nprint('from notes')\n```\n", encoding="utf-8")
    import os

    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", KB_EXECUTE="0")
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                            cwd=project, env=env, capture_output=True, text=True, timeout=600)
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "docs/meetings/2021-08-10.md: Python block 2 (first line: \"print('from notes')\")" in out
    assert "no skip marker" in out
