"""The build's Markdown reader, made once from mkdocs.yml, for everyone who must read a page as the build does.

:func:`new_markdown` gives a ``markdown.Markdown`` with the extensions MkDocs gives every page: its
built-ins (``toc``, ``tables``, ``fenced_code``) and mkdocs.yml's ``markdown_extensions`` with their
options, read with MkDocs's own YAML loader (``!ENV``) and MkDocs's own validation of that option, so
a change to mkdocs.yml reaches ``kb check`` and the Notion importer's verification with no edit here.
:func:`read_page` also registers MkDocs's own anchor collectors (ids in the element tree and in raw
HTML) and returns the element tree with the links in it, as MkDocs's link validation sees them.

:func:`prepare` is the plugin's preprocessing (kb/plugin.py ``on_page_markdown``): math swapped
for placeholders, ``<!-- kb:... -->`` lists expanded. Headings are read after it, so a heading with
math gets the id the build gives it.
"""

from __future__ import annotations

import copy
import functools
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import markdown
from markdown.treeprocessors import Treeprocessor

ROOT = Path(__file__).resolve().parent.parent
SNIPPETS = "pymdownx.snippets"


@functools.lru_cache(maxsize=8)
def load_config(root: Path) -> dict:
    """mkdocs.yml of ``root`` (or of this project, if ``root`` has none), as MkDocs reads it."""
    from mkdocs.utils.yaml import yaml_load

    path = root / "mkdocs.yml"
    if not path.is_file():
        path = ROOT / "mkdocs.yml"
    with path.open(encoding="utf-8") as f:
        return yaml_load(f)


@functools.lru_cache(maxsize=8)
def _extensions(root: Path) -> tuple[tuple[str, ...], dict[str, dict]]:
    from mkdocs.config.defaults import MkDocsConfig

    option = copy.deepcopy(dict(MkDocsConfig._schema)["markdown_extensions"])
    names = option.run_validation(copy.deepcopy(load_config(root).get("markdown_extensions") or []))
    configs = copy.deepcopy(option.configdata)
    if SNIPPETS in configs:  # base_path is relative to the build's working folder: the project root
        base = configs[SNIPPETS].get("base_path", ["."])
        configs[SNIPPETS]["base_path"] = [str(root / p) for p in ([base] if isinstance(base, str) else base)]
    return tuple(names), configs


def new_markdown(root: Path = ROOT, **options: dict) -> markdown.Markdown:
    """A Markdown instance with the build's extensions and options (``options`` overrides one
    extension's options, e.g. ``new_markdown(root, **{"pymdownx.snippets": {"check_paths": False}})``)."""
    names, configs = _extensions(root)
    configs = copy.deepcopy(configs)
    for name, values in options.items():
        configs.setdefault(name, {}).update(values)
    return markdown.Markdown(extensions=list(names), extension_configs=configs)


class _Keep(Treeprocessor):
    """Keeps the element tree as MkDocs's link rewriter sees it (same priority, after toc)."""

    root: ET.Element | None = None

    def run(self, root: ET.Element) -> None:
        self.root = root


@dataclass
class Read:
    """A page as the build reads it: its tree (links as ``a[href]``/``img[src]``) and its anchors."""

    root: ET.Element
    ids: set[str] = field(default_factory=set)


def read_page(md_text: str, root: Path = ROOT) -> Read:
    """Render ``md_text`` (already prepared) with the build's Markdown and MkDocs's anchor collectors."""
    from mkdocs.structure.pages import _ExtractAnchorsTreeprocessor, _RawHTMLPreprocessor

    # kb check names missing snippets itself. Pygments stays on although it is half the time of a
    # check: without it pymdownx.superfences does not take a fence with options (``title="…"``),
    # and the code's comments became headings with ids the build never makes.
    md = new_markdown(root, **{SNIPPETS: {"check_paths": False}})
    raw_html = _RawHTMLPreprocessor()
    raw_html._register(md)
    anchors = _ExtractAnchorsTreeprocessor(None, None, None)  # type: ignore[arg-type]  (it uses none of them)
    anchors._register(md)
    keep = _Keep(md)
    md.treeprocessors.register(keep, "kb_keep", 0)
    md.convert(md_text)
    assert keep.root is not None
    return Read(keep.root, anchors.present_anchor_ids | raw_html.present_anchor_ids)


def prepare(src: str, body: str, site=None) -> str:
    """The page body as the hooks hand it to Markdown: math as placeholders, kb lists expanded.

    Raises what the hooks raise (:class:`kb.mathml.MathError`, :class:`kb.render.MarkerError`)."""
    text = _math_as_placeholders(body)
    return site.expand_markers(src, text) if site is not None and "kb:" in text else text


@functools.lru_cache(maxsize=4096)
def _math_as_placeholders(body: str) -> str:
    """A body with its math as placeholders; kept per body text (every build of a large site reads
    the same pages again in kb check)."""
    from . import mathml

    return mathml.extract(body)[0]
