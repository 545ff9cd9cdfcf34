"""A page's text -> :class:`Export`, the parsed page the rest of the importer reads.

:func:`parse` splits the text into the header (``# Title`` and properties, kb.notion.properties)
and the body's blocks (kb.notion.blocks), then applies the page-style fixes that change the parsed
page once (kb.notion.looks: empty headings dropped, untitled images named). :func:`plain` turns a
header value or a question into plain text, warning when it had HTML.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .blocks import Block, parse_body
from .clean import plain_value
from .looks import drop_empty_headings, name_untitled_images
from .messages import NotionError, Warnings
from .properties import Header, parse_header


@dataclass
class Export:
    """One page of an export, parsed."""

    label: str  # the page in messages
    name: str  # its file name
    lines: list[str]
    header: Header
    blocks: list[Block]
    warnings: Warnings = field(default_factory=Warnings)

    @property
    def title(self) -> str:
        return self.header.title

    @property
    def title_line(self) -> int:
        return self.header.title_line


def parse(text: str, label: str, name: str, warnings: Warnings | None = None) -> Export:
    warnings = warnings if warnings is not None else Warnings()
    lines = text.split("\n")
    header = parse_header(lines, label, warnings)
    rows = [(n + 1, lines[n]) for n in range(header.body_start, len(lines))]
    blocks = drop_empty_headings(parse_body(rows, label, warnings), label, warnings)
    name_untitled_images(blocks, header.title)
    return Export(label, name, lines, header, blocks, warnings)


def plain(export: Export, text: str, line: int, what: str) -> str:
    """``text`` (``what`` in messages) without its HTML tags, with a warning if it had any."""
    try:
        value, had_markup = plain_value(text)
    except ValueError as exc:
        raise NotionError(export.label, line, f"{what}의 HTML을 지울 수 없어 가져오지 않습니다 ({exc})") from None
    if had_markup:
        export.warnings.add(export.label, line, f"{what}에 HTML이 있어 태그를 지우고 글자만 남겼습니다 (엔티티는 한 번만 풀었습니다)")
    return value
