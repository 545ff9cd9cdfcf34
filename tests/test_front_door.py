"""The README stays a front door and the writers' guide stays in step with the code (issue #26, item 5).

The README is short; what it links to exists, and a page of the site it links to is in the navigation;
every ``make`` target and ``python -m kb`` command it shows exists and takes the arguments shown. The
기여 안내 page (docs/contributing/index.md) names every module of kb/, and names no module that is gone.
Plain text reading only: no build, no subprocess.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex

import pytest
from mkdocs.utils.yaml import yaml_load

from conftest import DOCS, ROOT
from kb.cli import build_parser

README = ROOT / "README.md"
GUIDE = "contributing/index.md"  # under docs/
MAX_README_LINES = 150

FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.M | re.S)
INLINE_CODE = re.compile(r"`([^`\n]+)`")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
# `make` as the command (after env assignments), not as a word of another command (apt-get install make)
MAKE = re.compile(r"(?:^|&&|;)\s*(?:[A-Z_]+=\S+\s+)*make((?:\s+[A-Z_]+=\S+)*)\s+([a-z][\w-]*)")
KB = re.compile(r"python(?:3(?:\.\d+)?)? -m kb\s+(.*)")
TARGET = re.compile(r"^([A-Za-z][\w-]*)\s*:(?!=)", re.M)
MODULE = re.compile(r"`(kb/[\w/]+\.py)`")


def readme() -> str:
    return README.read_text(encoding="utf-8")


def code_pieces(text: str) -> list[str]:
    """Each line of the console blocks and each inline code span outside blocks: where commands are."""
    pieces = [re.sub(r"\s#\s.*", "", line)  # a comment may mention a command: "(= python -m kb check)"
              for lang, body in FENCE.findall(text) if lang == "console" for line in body.splitlines()]
    return pieces + INLINE_CODE.findall(FENCE.sub("", text))


def nav_pages(nav) -> set[str]:
    """Every page path mkdocs.yml's nav names (strings at any depth)."""
    if isinstance(nav, str):
        return {nav}
    if isinstance(nav, list):
        return set().union(*(nav_pages(item) for item in nav))
    if isinstance(nav, dict):
        return set().union(*(nav_pages(value) for value in nav.values()))
    return set()


def mkdocs_nav() -> list:
    with open(ROOT / "mkdocs.yml", encoding="utf-8") as f:
        return yaml_load(f)["nav"]


def link_problems(text: str, nav: list) -> list[str]:
    """Relative links whose file is missing, or that point at a page of docs/ the navigation lacks."""
    in_nav = nav_pages(nav)
    problems = []
    for target in LINK.findall(text):
        if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # another site, or an anchor of the README
        path = target.split("#", 1)[0]
        if not (ROOT / path).exists():
            problems.append(f"{target}: no such file")
        elif path.startswith("docs/") and path.endswith(".md") and path.removeprefix("docs/") not in in_nav:
            problems.append(f"{target}: not in mkdocs.yml's nav")
    return problems


def make_problems(text: str, makefile: str) -> list[str]:
    targets = set(TARGET.findall(makefile))
    return [f"make {m.group(2)}: no such target in the Makefile"
            for piece in code_pieces(text) for m in MAKE.finditer(piece) if m.group(2) not in targets]


def kb_problems(text: str) -> list[str]:
    """``python -m kb ...`` commands the real parser refuses (unknown command, option or value)."""
    problems = []
    for piece in code_pieces(text):
        for m in KB.finditer(piece):
            args = m.group(1).strip()
            if args.startswith("…"):
                continue  # "python -m kb …": the tool in general, no command named
            err = io.StringIO()
            try:
                with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
                    build_parser().parse_args(shlex.split(args))
            except SystemExit as exc:  # --help exits 0; a refusal exits 2
                if exc.code:
                    problems.append(f"python -m kb {args}: {err.getvalue().strip().splitlines()[-2:]}")
    return problems


def test_readme_is_short():
    lines = readme().count("\n")
    assert lines < MAX_README_LINES, (f"README.md has {lines} lines (at most {MAX_README_LINES}): it is the front "
                                      "door; measurements go to benchmarks/README.md, how-to to docs/contributing/")


def test_readme_links_to_the_guide_and_its_links_resolve():
    text = readme()
    assert f"(docs/{GUIDE})" in text, f"README.md does not link to the 기여 안내 page, docs/{GUIDE}"
    assert link_problems(text, mkdocs_nav()) == []


def test_contributing_md_points_at_the_guide():
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    assert f"(docs/{GUIDE})" in text
    assert link_problems(text, mkdocs_nav()) == []


def test_guide_is_in_the_navigation_under_its_title():
    sections = [item for item in mkdocs_nav() if isinstance(item, dict) and "기여 안내" in item]
    assert sections, "mkdocs.yml's nav has no 기여 안내 section"
    assert GUIDE in nav_pages(sections[0]["기여 안내"])


def test_make_targets_in_the_readme_exist():
    assert make_problems(readme(), (ROOT / "Makefile").read_text(encoding="utf-8")) == []


def test_kb_commands_in_the_readme_parse():
    text = readme()
    assert KB.search(text), "README.md shows no python -m kb command"
    assert kb_problems(text) == []


def test_guide_names_every_module_of_kb():
    named = set(MODULE.findall((DOCS / GUIDE).read_text(encoding="utf-8")))
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "kb").rglob("*.py")}
    assert sorted(modules - named) == [], f"add a line for each to the module list of docs/{GUIDE}"
    assert sorted(named - modules) == [], f"docs/{GUIDE} names modules that do not exist"


@pytest.mark.parametrize("broken, problem", [
    ("[x](docs/contributing/gone.md)", "no such file"),
    ("[x](docs/glossary.md)", "not in mkdocs.yml's nav"),
])
def test_link_check_catches_a_missing_file_and_a_page_outside_the_nav(broken, problem):
    nav = [n for n in mkdocs_nav() if not (isinstance(n, dict) and "용어집" in n)]  # a nav without glossary.md
    assert [p for p in link_problems(broken, nav) if problem in p]
