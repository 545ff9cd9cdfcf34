"""Import Notion meeting notes: ``python -m kb import-notion PATH``.

PATH is a page that Notion exported as Markdown, an export folder, or Notion's ``Export-….zip``
(a wrapper folder and nested ``Part-N.zip`` included). Every page becomes a meeting page
``docs/meetings/YYYY-MM-DD.md`` and one Q&A page ``docs/qna/<slug>.md`` per question; its images
and attachments are copied to ``docs/attachments/YYYY-MM-DD/`` (kb.notion.assets).

The package follows the data:

=================  ==========================================================================
``archive``        the export's files as a tree; zips read within one budget for the whole export
``read``           a path on the command line -> its tree (no link followed); a page's bytes -> text
``properties``     ``# Title`` and the properties (both forms; :data:`properties.FIELDS`), dates
``blocks``         the body -> blocks (questions, code, math, callouts, tables, lists)
``clean``          a line -> safe Markdown with its text kept (nh3 for real markup)
``assets``         links and images -> published pages and copied files
``looks``          the group's page style: a date in the title, empty headings dropped, images named
``page``           a page's text -> :class:`Export` (header and blocks, the page style applied)
``meeting``        the meeting's date and the front matter (fields, YAML written as it reads back)
``to_markdown``    one block -> Markdown (code fences, math, tables, callouts)
``convert``        a parsed page -> the meeting page and Q&A pages (each question with its answer)
``verify``         nothing lost (rendered text), front matter valid, no script in the built pages
``reimport``       a newer export of a published meeting: Q&A answers kept
``glossary``       English terms missing from docs/glossary.md
``pipeline``       all of the above for one command; :func:`prepare` returns what to write
``report``         what the command prints: short page labels, one glossary line, skipped pages
=================  ==========================================================================

Writing is kb.writeout's job: all files or none.
"""

from __future__ import annotations

from .blocks import Block, parse_body
from .clean import md_escape, plain_text, plain_value
from .convert import Converted, Question, convert, short_title
from .glossary import GlossaryReport, glossary_terms, load_glossary
from .meeting import front_matter_block, meeting_date, yaml_list, yaml_scalar
from .messages import ConversionBug, Message, NotionError, Warnings
from .page import Export, parse
from .pipeline import Plan, prepare
from .properties import FIELDS, KST, parse_datetime
from .read import MAX_LINE_CHARS, MAX_PAGE_BYTES, page_text
from .reimport import Conflict, merge_qna
from .to_markdown import SKIP_MARKER, python_fence
from .verify import verify_complete, verify_safe, visible_letters


__all__ = [
    "Block", "parse_body", "md_escape", "plain_value", "plain_text", "SKIP_MARKER", "Converted", "Export",
    "Question", "convert", "front_matter_block", "meeting_date", "parse", "python_fence", "short_title",
    "yaml_list", "yaml_scalar", "GlossaryReport", "glossary_terms", "load_glossary", "ConversionBug", "Message",
    "NotionError", "Warnings", "Plan", "prepare", "FIELDS", "KST", "parse_datetime", "MAX_LINE_CHARS",
    "MAX_PAGE_BYTES", "page_text", "Conflict", "merge_qna", "verify_complete", "verify_safe", "visible_letters",
]
