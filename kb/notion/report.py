"""What ``import-notion`` prints about a plan: short page labels, warnings, the glossary line, and
pages skipped because they are already published.

A page is shown by its path inside the export with Notion's 32-hex ids dropped
(``회의록/8 10 회의록.md``), not by the zip path it was read from; warnings keep ``file:line:``.
Errors (kb.notion.messages.NotionError) keep the full path: they are printed as raised.
"""

from __future__ import annotations

import posixpath
import re
import unicodedata

from .glossary import GlossaryReport

GLOSSARY_SHOWN = 10  # terms named on the glossary line; the rest are counted

_NOTION_ID_RE = re.compile(r"[ _-]?\b[0-9a-f]{32}\b")
# Notion's wrapper folders: "<uuid>_Export-<uuid>", "Export-<uuid>", "Part-N"
_WRAPPER_RE = re.compile(r"(?:[0-9a-f-]{36}_)?Export-[0-9a-f-]{36}(?:-Part-\d+)?|Part-\d+", re.I)


def short_label(label: str, export: str) -> str:
    """``label`` (a file of the export ``export`` as kb.notion.archive.Tree.where names it) as its
    path inside the export, without zip names, Notion's wrapper folders and 32-hex page ids."""
    label, export = unicodedata.normalize("NFC", label), unicodedata.normalize("NFC", export).rstrip("/")
    if ".zip:" in label:
        inner = label.rsplit(".zip:", 1)[1]
    elif label.startswith(export + "/"):
        inner = label[len(export) + 1:]
    else:  # the page itself was named on the command line
        inner = posixpath.basename(label)
    parts = [p for p in inner.split("/") if p and not _WRAPPER_RE.fullmatch(p)]
    parts = [_NOTION_ID_RE.sub("", p).strip() or p for p in parts]
    return "/".join(parts) or label


def warning_lines(plan, export: str, quiet: set[str] = frozenset()) -> list[str]:
    """One ``경고: page:line: text`` per warning; pages in ``quiet`` (up to date) are left out."""
    return [
        f"경고: {_with_short(str(w), w.path, export)}" for w in plan.warnings if w.path not in quiet
    ]


def _with_short(text: str, path: str, export: str) -> str:
    return short_label(path, export) + text[len(path):] if text.startswith(path) else text


def glossary_line(report: GlossaryReport, export: str) -> str | None:
    """The terms of a page missing from the glossary, in one line (None when there are none)."""
    if report.exists and not report.missing:
        return None
    shown = ", ".join(f"{term}({line}행)" for term, line in report.missing[:GLOSSARY_SHOWN])
    more = f" 외 {len(report.missing) - GLOSSARY_SHOWN}개" if len(report.missing) > GLOSSARY_SHOWN else ""
    page = short_label(report.source, export)
    if not report.exists:
        used = f" 쓰인 용어 {len(report.missing)}개: {shown}{more}" if report.missing else ""
        return f"경고: {page}: 용어집 {report.path}이(가) 없어 용어를 대조하지 못했습니다.{used}"
    return f"경고: {page}: 용어집 {report.path}에 없는 용어 {len(report.missing)}개 (오류는 아님; 쓰려면 용어집에 추가하세요): {shown}{more}"


def skipped_lines(plan, export: str, docs_label: str) -> list[str]:
    """Published pages: up to date (this export gives the same files) or different (--force)."""
    current = set(plan.current)
    lines = [f"이미 최신입니다: {docs_label}/{path}" for label, path in plan.skipped if (label, path) in current]
    stale = [(label, path) for label, path in plan.skipped if (label, path) not in current]
    if stale:
        lines.append("이미 발행된 회의라 건너뜁니다. 내보내기가 발행된 페이지와 다릅니다 (--force: 회의록을 갱신하고 Q&A는 회의 인용 부분만 바꿉니다; 정리된 답은 그대로):")
        lines += [f"  {short_label(label, export)} -> {docs_label}/{path}" for label, path in stale]
    return lines
