"""One block of a parsed page -> its Markdown on the published pages (:class:`Renderer`).

Callouts become admonitions (💡 tip, ⚠️ warning, ℹ️/📌 info, else note), to-dos and toggles
stay nested lists (pymdownx.tasklist), tab and pipe tables become Markdown tables (a cell's line
break as ``<br>``), ``$$…$$`` inside a sentence becomes inline math. Code keeps its language; a
fence Markdown would treat as Python (``python``, ``py``, ``py3``, ``python3``, ``{.python}``,
``.python``, ``python title="x"`` …, or a bare fence whose text parses as Python) is written as
``python`` after the skip marker, so the build never runs it; ``sh``/``bash`` become ``console``.
Display math keeps its text but not ``\\href`` links; one the build cannot render becomes a
``latex`` code block (kb.notion.clean does the same for inline math). Every code block is written as
a fence the build reads back as one block with the same code (:func:`kb.markdown_scan.write_fence`:
the export's closing may be longer or indented otherwise; the build's must match the opening).

Text within a block is cleaned by kb.notion.clean; links and images resolve through
kb.notion.assets.
"""

from __future__ import annotations

import ast
import re

from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from ..markdown_scan import export_opening, opening, write_fence
from .assets import Links
from .blocks import LINE_BREAK, Block
from .clean import Cleaner, escape_snippet_line, math_for_build
from .page import Export

SKIP_MARKER = '<!--pytest.mark.skip(reason="fragment quoted from the meeting notes")-->'
_SHELL = {"sh", "bash", "shell", "zsh", "console", "shell-session"}
_ASIDE_KINDS = [("💡", "tip"), ("⚠", "warning"), ("❗", "warning"), ("🚨", "danger"), ("⛔", "danger"), ("ℹ", "info"), ("📌", "info"), ("✅", "success")]


def python_fence(info: str) -> tuple[str, str] | None:
    """(language, rest) of a fence's info string; language is 'python' for every Python alias."""
    info = info.strip()
    if info.startswith("{"):  # {.python title="x"} / { .py3 }
        m = re.match(r"^\{\s*\.([\w+-]{1,40})\s*(.{0,500}?)\s*\}$", info)
        lang, rest = (m.group(1), m.group(2)) if m else ("", info)
    else:
        lang, _, rest = info.partition(" ")
        lang = lang.removeprefix(".")  # ```.python: pymdownx.superfences reads it as python
    try:
        lexer = get_lexer_by_name(lang.lower()) if lang else None
    except ClassNotFound:
        lexer = None
    if lexer is not None and lexer.name.startswith(("Python", "IPython")) and "Traceback" not in lexer.name:
        return "python", rest.strip()
    return lang, rest.strip()


class Renderer:
    def __init__(self, export: Export, links: Links, shift: int):
        self.export = export
        self.shift = shift
        self.cleaner = Cleaner(export.label, export.warnings, links.resolve)

    def warn(self, line: int, text: str) -> None:
        self.cleaner.warn(line, text)

    def clean(self, text: str, line: int) -> str:
        return self.cleaner.clean(text, line)

    def escaped_lines(self, lines: list[str], first: int) -> list[str]:
        out = []
        for n, line in enumerate(lines, start=first):
            line, escaped = escape_snippet_line(line)
            if escaped:
                self.warn(n, "스니펫 포함 줄(--8<--)은 ';'로 이스케이프해 글로 보여 줍니다")
            out.append(line)
        return out

    def block(self, b: Block, level: int | None = None) -> str:
        if b.kind == "heading":
            return "#" * (level or min(b.level + self.shift, 6)) + " " + self.clean(b.text, b.line)
        method = {"code": self.code, "math": self.math, "table": self.table, "pipetable": self.pipetable, "aside": self.aside}.get(b.kind)
        if method:
            return method(b)
        cleaned = self.clean("\n".join(b.lines), b.line).split("\n")  # para, text, nested question
        return "\n".join(self.escaped_lines(cleaned, b.line))

    def code(self, b: Block) -> str:
        indent, fence, _ = export_opening(b.lines[0])
        content = b.lines[1:-1]
        lang, rest = python_fence(b.lang)
        if not lang:
            try:
                ast.parse("\n".join(line[len(indent):] if line.startswith(indent) else line for line in content))
                lang = "python"
            except (SyntaxError, ValueError):
                lang = "text"
        elif lang.lower() in _SHELL - {"console"}:
            self.warn(b.line, f"```{lang} 블록을 ```console로 바꿨습니다 (테스트가 sh/bash 블록을 실행하므로)")
            if "title=" not in rest:
                rest = f'title="{lang}" {rest}'.strip()
            lang = "console"
        elif not re.fullmatch(r"[\w+#.-]{1,40}", lang):
            self.warn(b.line, f"코드 블록의 언어 {lang[:40]!r}를 읽을 수 없어 text로 둡니다")
            lang, rest = "text", ""
        if rest and (not re.fullmatch(r'(?:[\w-]{1,40}="[^"<>\n]{0,200}"\s*){1,5}', rest)
                     or opening(f"```{lang} {rest}") is None):  # an option the build's fences refuse
            self.warn(b.line, f"코드 블록 머리의 {rest[:60]!r}는 옮기지 않습니다")
            rest = ""
        body = self.escaped_lines(content, b.line + 1)
        # the closing line as the build needs it (the export's may be longer or indented otherwise)
        out = write_fence(indent, fence, lang + (f" {rest}" if rest else ""), body)
        if lang == "python":
            out.insert(0, indent + SKIP_MARKER)
        return "\n".join(out)

    def math(self, b: Block) -> str:
        indent = b.lines[0][: len(b.lines[0]) - len(b.lines[0].lstrip())]
        if len(b.lines) == 1:
            out = [b.lines[0]]
            tex = b.lines[0].strip()[2:-2]
        else:
            first, last = b.lines[0].strip(), b.lines[-1].strip()
            head = [first[2:]] if first[2:].strip() else []
            tail = [last[:-2]] if last[:-2].strip() else []
            inner = head + b.lines[1:-1] + tail
            out = [indent + "$$", *inner, indent + "$$"]
            tex = "\n".join(inner)
        new, error = math_for_build(tex, True)
        if error:  # kept as code, so the build neither fails on it nor loses it
            self.warn(b.line, f"이 수식은 빌드에서 렌더링되지 않아 코드 블록으로 옮겼습니다 ({error})")
            out = write_fence(indent, "```", "latex", b.lines)
        elif new != tex:
            self.warn(b.line, "수식의 \\href{주소}{글}을 글만 남겼습니다 (빌드의 수식에는 링크가 없습니다)")
            out = [indent + "$$", *new.split("\n"), indent + "$$"] if len(b.lines) > 1 else [f"{indent}$${new}$$"]
        return "\n".join(self.escaped_lines(out, b.line))

    def table(self, b: Block) -> str:
        rows = []
        for n, row in enumerate(b.lines, start=b.line):
            cells = [self.clean(c.strip(), n).replace("|", "\\|") for c in row.split("\t")]
            rows.append("| " + " | ".join(cells) + " |")
        rows.insert(1, "|" + "---|" * len(b.lines[0].split("\t")))
        return "\n".join(rows)

    def pipetable(self, b: Block) -> str:
        rows = [self.clean(row, b.line).replace(LINE_BREAK, "<br>") for row in b.lines]
        return "\n".join(rows[:1] + [b.lines[1]] + rows[2:])

    def aside(self, b: Block) -> str:
        text = "".join("".join(c.lines) for c in b.children[:1])
        kind = next((k for icon, k in _ASIDE_KINDS if text.lstrip().startswith(icon)), "note")
        inner = "\n\n".join(self.block(c) for c in b.children)
        body = "\n".join(("    " + line) if line.strip() else "" for line in inner.split("\n"))
        return f'!!! {kind} ""\n\n{body}' if body.strip() else f'!!! {kind} ""\n    (빈 콜아웃)'
