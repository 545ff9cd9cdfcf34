"""One import, from the path on the command line to the files to write (nothing written here).

read the export -> parse each page -> meeting date and path (in an export of several pages, a page
without a date is left out and listed) -> skip pages already published (unless ``force``) -> convert
with links between the export's pages and its assets -> check nothing is lost -> merge with
published Q&A pages -> check front matter and the rendered site -> a :class:`Plan`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from ..frontmatter import load_docs
from .assets import ATTACHMENTS, MISSING_MODES, Links
from .convert import UNSORTED_TAG, Converted, convert
from .glossary import GlossaryEntry, GlossaryReport, glossary_report, glossary_terms
from .meeting import meeting_date
from .messages import ConversionBug, NotionError, Warnings
from .page import Export, parse
from .read import Tree, load, page_name, read_page
from .reimport import Conflict, first_names, hand_edits, merge
from .report import short_label
from .verify import source_rows, verify_complete, verify_front_matter, verify_safe


@dataclass
class Plan:
    files: dict[str, str | bytes] = field(default_factory=dict)  # docs/ path -> text or bytes
    results: list[Converted] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (page, docs/ path already there)
    current: list[tuple[str, str]] = field(default_factory=list)  # of skipped: this export gives the same files
    undated: list[str] = field(default_factory=list)  # pages left out: no meeting date (the message)
    warnings: Warnings = field(default_factory=Warnings)
    glossary: list[GlossaryReport] = field(default_factory=list)


def prepare(
    path: Path,
    label: str,
    docs: Path,
    *,
    date: dt.date | None = None,
    slugs: dict[str, str] | None = None,
    force: bool = False,
    discard_edits: bool = False,
    glossary: list[GlossaryEntry] | None = None,
    glossary_label: str = "docs/glossary.md",
    progress=lambda line: None,
    missing_assets: str = "error",
) -> Plan:
    """``missing_assets``: "error" (a file a link points to is not in the export: stop, listing every
    such file of the run) or "placeholder" (import with a visible note in its place; assets.Links)."""
    if missing_assets not in MISSING_MODES:
        raise ValueError(f"missing_assets: {missing_assets!r} (one of {MISSING_MODES})")
    plan = Plan()
    tree = load(path, label)
    page_paths = tree.pages()
    if len(page_paths) > 1 and (date or slugs):
        raise NotionError(label, None, f"--date와 --slug는 페이지가 하나일 때만 씁니다 (이 내보내기에는 {len(page_paths)}개)")
    exports = [(p, parse(read_page(tree, p), tree.where(p), p.rsplit("/", 1)[-1], plan.warnings)) for p in page_paths]
    exports, plan.undated = _dated(exports, date)
    page_paths = [p for p, _ in exports]
    targets = _targets(exports, date)
    order = sorted(range(len(exports)), key=lambda k: targets[k][1])  # oldest meeting first
    exports, targets, page_paths = [exports[k] for k in order], [targets[k] for k in order], [page_paths[k] for k in order]
    try:
        pages, _ = load_docs(docs) if docs.is_dir() else ({}, [])
    except OSError as exc:  # a folder named *.md, an unreadable page
        raise NotionError(str(docs), None, f"docs 폴더의 페이지를 읽을 수 없습니다: {exc}") from None
    link_map = {p: f"meetings/{d.isoformat()}.md" for p, (_, d) in zip(page_paths, targets)}
    todo = []
    for (p, export), (_, day) in zip(exports, targets):
        if link_map[p] in pages and not force:
            plan.skipped.append((export.label, link_map[p]))
            if _published_as_is(tree, p, export, day, link_map, pages, slugs or {}, glossary, docs):
                plan.current.append((export.label, link_map[p]))
        else:
            todo.append((p, export, day))
    conflicts: list[str] = []
    missing: list[str] = []
    for n, (p, export, day) in enumerate(todo, 1):
        result = _convert_one(tree, p, export, day, link_map, pages, slugs or {}, glossary, missing_assets)
        missing += result.links.missing_report()
        conflicts += merge(result, pages, lambda src: (docs / src).read_text(encoding="utf-8"))
        if result.meeting in pages and not discard_edits:  # --force: keep what members wrote on the site
            conflicts += hand_edits((docs / result.meeting).read_text(encoding="utf-8"), result.files[result.meeting], result.meeting)
        plan.results.append(result)
        files = {**result.files, **{d: tree.read(src) for d, src in result.links.assets.items()}}
        for d in files:
            if d in plan.files:
                raise NotionError(export.label, None, f"docs/{d}를 두 페이지가 만듭니다: 같은 날짜의 회의가 둘이면 따로 --date로 가져오세요")
        plan.files.update(files)
        replaced = f", 없는 파일 {len(result.links.missing)}개는 안내로 바꿈" if result.links.missing and missing_assets == "placeholder" else ""
        progress(f"[{n}/{len(todo)}] {short_label(export.label, tree.label)} -> docs/{result.meeting} (질문 {len(result.questions)}개, 파일 {len(result.links.assets)}개{replaced})")
        plan.glossary.append(glossary_report(export.label, _prose_rows(export), glossary, glossary_label))
    if missing and missing_assets == "error":
        raise NotionError(
            tree.label, None,
            f"링크나 이미지가 가리키는 파일 {len(missing)}개가 내보내기에 없습니다:\n  " + "\n  ".join(missing)
            + "\n  (내보내기에 그 파일을 넣거나, --missing-assets=placeholder로 '원본에 없던 파일' 안내를 넣어 가져오세요)",
        )
    if conflicts:
        raise Conflict(conflicts)
    texts = {k: v for k, v in plan.files.items() if isinstance(v, str)}
    verify_front_matter(texts, set(pages) | {p.relative_to(docs).as_posix() for p in docs.rglob("*.ipynb")} if docs.is_dir() else set())
    verify_safe(docs, texts)
    return plan


def _dated(exports: list[tuple[str, Export]], date: dt.date | None) -> tuple[list[tuple[str, Export]], list[str]]:
    """In an export of several pages, a page whose date cannot be found (a sub-page of notes, say)
    is left out and listed, not an error; a single page without one is an error."""
    if len(exports) == 1:
        return exports, []
    kept, undated = [], []
    for p, export in exports:
        try:
            meeting_date(export, date)
        except NotionError as exc:
            if "회의 날짜를 정할 수 없습니다" not in str(exc):
                raise
            undated.append(str(exc))
            continue
        kept.append((p, export))
    if not kept:
        raise NotionError(exports[0][1].label, None, "날짜를 정할 수 있는 페이지가 없습니다:\n  " + "\n  ".join(undated))
    return kept, undated


def _targets(exports: list[tuple[str, Export]], date: dt.date | None) -> list[tuple[str, dt.date]]:
    out, seen = [], {}
    for p, export in exports:
        day = meeting_date(export, date)
        if day in seen:
            raise NotionError(
                export.label, export.title_line,
                f"회의 날짜 {day.isoformat()}가 {seen[day]}와 같습니다: 한 날짜에 회의록 하나만 가져옵니다 (따로 --date로 가져오세요)",
            )
        seen[day] = export.label
        out.append((p, day))
    return out


def _convert_one(tree: Tree, p: str, export: Export, day: dt.date, link_map, pages, slugs, glossary, missing_assets) -> Converted:
    """Convert and check one page. Its Q&A pages are first named by question number; reimport.merge
    matches them with the published ones by the question's text and calls ``result.redo(names)``
    when the names must change (a question inserted, the numbers shifted)."""
    links = Links(tree, p, export.label, link_map, f"{ATTACHMENTS}/{day.isoformat()}", export.warnings, missing_assets)

    def tags_of(text: str) -> list[str]:
        used, _ = glossary_terms(text, glossary or [])
        return [e.korean or e.english for e in used if (e.korean or e.english)][:3] or [UNSORTED_TAG]

    def build(names: dict[str, str]) -> Converted:
        result = convert(export, day, links, slugs, tags_of, names)
        verify_complete(result)
        result.redo = build
        return result

    qids = [b.qid for b in export.blocks if b.kind == "question"]
    return build(first_names(pages, f"meetings/{day.isoformat()}.md", qids, slugs))


def _published_as_is(tree: Tree, p: str, export: Export, day: dt.date, link_map, pages, slugs, glossary, docs: Path) -> bool:
    """Whether importing ``export`` with --force would leave docs/ as it is (its warnings dropped:
    they were shown when it was imported). An export that cannot be merged is not as published."""
    quiet = dataclasses.replace(export, warnings=Warnings())
    try:
        result = _convert_one(tree, p, quiet, day, link_map, pages, slugs, glossary, "placeholder")
        if result.links.missing or merge(result, pages, lambda src: (docs / src).read_text(encoding="utf-8")):
            return False
        files = {**result.files, **{d: tree.read(src) for d, src in result.links.assets.items()}}
        return all(_same(docs / d, v) for d, v in files.items())
    except (NotionError, Conflict, ConversionBug, OSError):
        return False


def _same(path: Path, content: str | bytes) -> bool:
    if not path.is_file():
        return False
    return path.read_bytes() == (content if isinstance(content, bytes) else content.encode("utf-8"))


def _prose_rows(export: Export) -> list[tuple[int, str]]:
    rows = []

    def walk(blocks):
        for b in blocks:
            if b.kind in ("code", "math"):
                continue
            if b.children:
                rows.append((b.line, b.lines[0]))
                walk(b.children)
                continue
            rows.extend((b.line + k, line) for k, line in enumerate(b.lines))

    walk(export.blocks)
    return rows


__all__ = ["Plan", "prepare", "page_name", "source_rows"]
