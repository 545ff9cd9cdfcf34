"""A corpus of Notion "Markdown & CSV" exports made from the format, not from pages already seen.

Each form Notion's export writes is a :class:`Piece`: its Markdown lines (as Notion writes them:
children indented four spaces, a blank line between blocks, ``- [ ]  `` with two spaces, callouts
as ``<aside>``), the words a reader of the page in Notion sees, in order, and the files it shows.
Forms are nested (:func:`in_item`, four deep) and combined into pages (:data:`CASES`), and
:func:`write_export` writes each case as an export folder (``Title <id>.md`` and ``Title <id>/``).

The expected words come from the generator, never from the importer's output. Sources for the
shapes: real exported pages in public repositories (4-space children, ``- [ ]  ``, ``<aside>``
with the emoji on its own line in newer exports, a custom icon as ``<img … width="40px" />``, an
image in a list item between indented blank lines, a soft line break written at column 0) and
Notion's own export (``Export-<uuid>-Part-N.zip``, ``Name <id>.csv`` with ``_all.csv`` and a
folder of row pages, percent-encoded relative links, NFD names from macOS).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

ASSET = "\ue0a0"  # in Piece.md: the page's asset folder, written URL-encoded by write_export


@dataclass
class Piece:
    md: list[str]
    words: list[str]  # what a reader sees in Notion, in order
    files: dict[str, bytes] = field(default_factory=dict)  # name in the page's folder -> bytes
    images: list[str] = field(default_factory=list)  # names of files shown as images
    downloads: list[str] = field(default_factory=list)  # names of files shown as links
    code: list[str] = field(default_factory=list)  # the words that Notion shows as code

    def then(self, other: "Piece", gap: list[str]) -> "Piece":
        return Piece(self.md + gap + other.md, self.words + other.words, {**self.files, **other.files},
                     self.images + other.images, self.downloads + other.downloads, self.code + other.code)

    def __add__(self, other: "Piece") -> "Piece":
        return self.then(other, [""])


def join(*pieces: Piece) -> Piece:
    """Blocks one after another: Notion writes a blank line between them."""
    out = pieces[0]
    for p in pieces[1:]:
        out = out + p
    return out


def items(*pieces: Piece) -> Piece:
    """List items of one list: Notion writes no blank line between them."""
    out = pieces[0]
    for p in pieces[1:]:
        out = out.then(p, [])
    return out


def data(name: str) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + hashlib.sha256(name.encode()).digest() if name.endswith(".png") else f"{name}\n".encode()


def link(name: str) -> str:
    return ASSET + "/" + quote(name)


# --- the forms -------------------------------------------------------------------------

def heading(level: int, text: str) -> Piece:
    return Piece([f"{'#' * level} {text}"], [text])


def paragraph(text: str, shown: str | None = None) -> Piece:
    return Piece([text], [shown if shown is not None else text])


def image(name: str, alt: str = "Untitled") -> Piece:
    """``![Untitled](Title%20<id>/Untitled.png)``; a caption is written as the alt text and shown."""
    return Piece([f"![{alt}]({link(name)})"], [] if alt in ("Untitled", name) else [alt], {name: data(name)}, [name])


def attachment(name: str) -> Piece:
    """A file, PDF, video or audio block: a link to the file in the page's folder."""
    return Piece([f"[{name}]({link(name)})"], [name], {name: data(name)}, downloads=[name])


def code(lang: str, body: list[str]) -> Piece:
    return Piece([f"```{lang}", *body, "```"], body, code=body)


def table(rows: list[list[str]], shown: list[list[str]] | None = None) -> Piece:
    lines = ["| " + " | ".join(rows[0]) + " |", "| " + " | ".join("---" for _ in rows[0]) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    md = [x for line in lines for x in line.split("\n")]  # a cell's line break is written raw
    return Piece(md, [c for r in (shown or rows) for c in r])


def callout(icon: str, text: str, own_line: bool = False) -> Piece:
    """``<aside>`` with the emoji before the text (older) or on its own line (newer exports)."""
    body = [icon, "", text] if own_line else [f"{icon} {text}"]
    return Piece(["<aside>", *body, "", "</aside>"], [text])


def in_item(marker: str, text: str, child: Piece, blank: bool = True) -> Piece:
    """A list item with ``child`` as its indented children; a non-list child sits between
    indented blank lines, as Notion writes an image or code block inside an item."""
    inner = [("    " + line) if line else "    " for line in child.md]
    pad = ["    "] if blank else []
    return Piece([f"{marker}{text}", *pad, *inner, *pad], [text, *child.words], child.files, child.images, child.downloads, child.code)


def nested(markers: list[str], texts: list[str], leaf: Piece | None = None) -> Piece:
    """Items nested len(texts) deep; ``leaf`` (a block) inside the deepest one."""
    piece = in_item(markers[-1], texts[-1], leaf) if leaf else Piece([f"{markers[-1]}{texts[-1]}"], [texts[-1]])
    for marker, text in zip(reversed(markers[:-1]), reversed(texts[:-1])):
        piece = in_item(marker, text, piece, blank=False)
    return piece


BULLET, TODO, DONE = "- ", "- [ ]  ", "- [x]  "
NUMBERED = ["1. ", "1. ", "1. ", "1. "]
DEEP = ["첫째 단계", "둘째 단계", "셋째 단계", "넷째 단계"]
SMALL_TABLE = [["모델", "정확도"], ["ResNet", "94.3"]]
PY = ["import torch", "x = torch.zeros(2, 3)  # (2, 3)", "print(x.sum())"]


def leaves(tag: str) -> dict[str, Piece]:
    """Blocks that Notion lets a list item hold."""
    return {
        "paragraph": paragraph(f"항목 안의 문단 {tag}"),
        "code": code("python", [f"print('{tag}')"]),
        "image": image(f"{tag}.png"),
        "table": table([["열", f"값 {tag}"], ["a", "b"]]),
        "callout": callout("💡", f"항목 안의 콜아웃 {tag}"),
        "quote": paragraph(f"> 항목 안의 인용 {tag}", f"항목 안의 인용 {tag}"),
        "math": Piece(["$$", f"y_{{{tag}}} = W x + b", "$$"], [f"y_{tag} = W x + b"]),
    }


def list_case(kind: str, markers: list[str]) -> Piece:
    """One list: an item nested four deep, items holding each block one and four deep, a line
    break inside an item. A numbered list's items are numbered 1, 2, 3 … as Notion writes them."""
    top = (lambda n: f"{n}. ") if markers[0][0].isdigit() else (lambda n: markers[0])
    parts = [lambda m: nested([m, *markers[1:]], [f"{t} {kind}" for t in DEEP])]
    for name, leaf in leaves(f"{kind}1").items():
        parts.append(lambda m, name=name, leaf=leaf: nested([m], [f"{name}을 품은 항목 {kind}"], leaf))
    for name, leaf in leaves(f"{kind}4").items():
        parts.append(lambda m, name=name, leaf=leaf: nested([m, *markers[1:]], [f"{t} {name} {kind}" for t in DEEP], leaf))
    # a line break inside an item (shift-enter): Notion writes the rest at column 0
    parts.append(lambda m: Piece([f"{m}줄바꿈 앞 {kind}", f"줄바꿈 뒤 {kind}"], [f"줄바꿈 앞 {kind}", f"줄바꿈 뒤 {kind}"]))
    return items(*(make(top(n)) for n, make in enumerate(parts, 1)))


def toggles() -> Piece:
    return join(
        in_item(BULLET, "토글 제목 옛 형식", paragraph("토글 안의 문단 옛 형식")),
        Piece(["<details>", "<summary>토글 제목 새 형식</summary>", "", "토글 안의 문단 새 형식", "", "</details>"],
              ["토글 제목 새 형식", "토글 안의 문단 새 형식"]),
        in_item(BULLET, "### 제목 토글", paragraph("제목 토글 안의 문단"), blank=True),
        heading(2, "제목 토글 새 형식") + paragraph("제목 토글 새 형식 안의 문단"),
        in_item(BULLET, "토글 안 목록", nested([BULLET] * 3, ["토글 깊이 하나", "토글 깊이 둘", "토글 깊이 셋"])),
    )


def callouts() -> Piece:
    return join(
        callout("💡", "콜아웃 한 줄 형식"),
        callout("⚠️", "콜아웃 새 형식", own_line=True),
        Piece(["<aside>", '<img src="https://www.notion.so/icons/merge_gray.svg" alt="https://www.notion.so/icons/merge_gray.svg" '
               'width="40px" /> **사용자 아이콘 콜아웃**', "", "</aside>"], ["사용자 아이콘 콜아웃"]),
        Piece(["<aside>", "📌 콜아웃 안 목록", "", "- 콜아웃 항목 하나", "- 콜아웃 항목 둘", "", "</aside>"],
              ["콜아웃 안 목록", "콜아웃 항목 하나", "콜아웃 항목 둘"]),
    )


def media() -> Piece:
    return join(
        image("Untitled.png"),
        image("image.png", "image.png"),
        image("Untitled 1.png", "손실 곡선 캡션"),
        attachment("발표 자료.pdf"),
        attachment("report.pdf"),
        attachment("demo video.mp4"),
        attachment("녹음.m4a"),
        attachment("code.zip"),
        paragraph("[https://arxiv.org/abs/1706.03762](https://arxiv.org/abs/1706.03762)", "https://arxiv.org/abs/1706.03762"),
        paragraph("https://www.youtube.com/watch?v=aircAruvnKk"),
        paragraph("[Attention Is All You Need](https://arxiv.org/pdf/1706.03762.pdf)", "Attention Is All You Need"),
    )


def text_forms() -> Piece:
    return join(
        heading(1, "제목 하나"), heading(2, "제목 둘"), heading(3, "제목 셋"),
        Piece(["##"], []),  # an empty heading
        heading(3, "빈 제목 다음"),
        paragraph("**굵게**와 *기울임*, `인라인 코드`, ~~취소선~~, <u>밑줄</u>이 섞인 문단", "굵게와 기울임, 인라인 코드, 취소선, 밑줄이 섞인 문단"),
        paragraph("> 인용 블록입니다", "인용 블록입니다"),
        Piece(["---"], []),
        paragraph("구분선 다음 문단"),
        paragraph("날짜 @2021년 8월 10일 오후 5:57 와 @August 10, 2021 언급, 사람 @김민지 @Jane Doe", "날짜 2021년 8월 10일 오후 5:57 와 August 10, 2021 언급, 사람 김민지 Jane Doe"),
        paragraph("단 첫째 칸의 글"), paragraph("단 둘째 칸의 글"),  # columns: plain sequential blocks
        paragraph("동기화 블록의 글"),  # a synced block: its content, as is
    )


def math_and_code() -> Piece:
    return join(
        paragraph(r"인라인 수식 $\alpha_t = \eta / \sqrt{G_t}$ 입니다", r"인라인 수식 \alpha_t = \eta / \sqrt{G_t} 입니다"),
        Piece(["$$", r"L = -\sum_i y_i \log p_i", "$$"], [r"L = -\sum_i y_i \log p_i"]),
        code("python", PY), code("java", ["List<Student> s = new ArrayList<>();"]),
        code("cpp", ["std::vector<int> v{1, 2};"]), code("bash", ["pip install torch"]),
        code("sql", ["SELECT name FROM users;"]), code("json", ['{"lr": 0.001}']), code("", ["plain text 코드"]),
    )


def tables() -> Piece:
    return join(
        table(SMALL_TABLE),
        table([["이름", "설명"], ["줄바꿈", "첫 줄\n둘째 줄"]]),
        table([["식", "뜻"], ["a \\| b", "또는"]], [["식", "뜻"], ["a b", "또는"]]),
        table([["링크", "코드"], ["[논문](https://arxiv.org/abs/1512.03385)", "`x.sum()`"]], [["링크", "코드"], ["논문", "x.sum()"]]),
        table([["", "빈 머리"], ["값", ""]], [["빈 머리"], ["값"]]),
    )


@dataclass
class Case:
    name: str
    body: Piece
    locale: str = "ko"  # ko | en: property names and date format
    nfd: bool = False  # file and folder names as macOS writes them
    subpages: bool = False  # a sub-page and an inline database in the page's folder


CASES = [
    Case("text", text_forms()),
    Case("bulleted", list_case("bulleted", [BULLET] * 4)),
    Case("numbered", list_case("numbered", NUMBERED)),
    Case("todo", list_case("todo", [TODO, DONE, TODO, DONE])),
    Case("toggles", toggles(), locale="en"),
    Case("callouts", callouts()),
    Case("math-code", math_and_code(), locale="en"),
    Case("tables", tables()),
    Case("media", media()),
    Case("media-nfd", media(), nfd=True),
    Case("subpages", paragraph("하위 페이지와 인라인 데이터베이스가 있는 페이지"), subpages=True),
    Case("kitchen-ko", join(text_forms(), callouts(), toggles(), tables(), list_case("mixed", [BULLET, "1. ", TODO, BULLET]), media())),
    Case("kitchen-en-nfd", join(math_and_code(), media(), list_case("mixed", ["1. ", BULLET, DONE, "1. "])), locale="en", nfd=True),
]


def notion_id(name: str) -> str:
    return hashlib.md5(name.encode()).hexdigest()


def day_of(case: Case) -> dt.date:
    return dt.date(2019, 1, 1) + dt.timedelta(days=7 * CASES.index(case))


def properties(case: Case) -> list[str]:
    d = day_of(case)
    if case.locale == "ko":
        return [f"작성일시: {d.year}년 {d.month}월 {d.day}일 오후 5:57", "작성자: 김민지", "태그: CNN, 최적화"]
    return [f"Created: {d.strftime('%B')} {d.day}, {d.year} 5:57 PM", "Created by: Jane Doe", "Tags: CNN"]


def title_of(case: Case) -> str:
    return f"코퍼스 {case.name}"


def write_export(case: Case, root: Path) -> Path:
    """``root/<case>/``: the page ``Title <id>.md`` and its folder ``Title <id>/``; returns the folder."""
    form = (lambda s: unicodedata.normalize("NFD", s)) if case.nfd else (lambda s: s)
    stem = form(f"{title_of(case)} {notion_id(case.name)}")
    out = root / case.name
    folder = out / stem
    folder.mkdir(parents=True)
    body = list(case.body.md)
    if case.subpages:
        sub = form(f"하위 페이지 {notion_id('sub' + case.name)}")
        db = form(f"할 일 목록 {notion_id('db' + case.name)}")
        (folder / f"{sub}.md").write_text("# 하위 페이지\n\n하위 페이지의 글\n", encoding="utf-8")
        (folder / f"{db}.csv").write_text("이름,상태\n자료 정리,완료\n", encoding="utf-8")
        (folder / f"{db}_all.csv").write_text("이름,상태\n자료 정리,완료\n", encoding="utf-8")
        (folder / db).mkdir()
        (folder / db / form(f"자료 정리 {notion_id('row' + case.name)}.md")).write_text("# 자료 정리\n\n상태: 완료\n", encoding="utf-8")
        body += ["", f"[하위 페이지]({quote(stem)}/{quote(sub)}.md)", "", f"[할 일 목록]({quote(stem)}/{quote(db)}.csv)"]
    for name, content in case.body.files.items():
        (folder / form(name)).write_bytes(content)
    text = "\n".join([f"# {title_of(case)}", "", *properties(case), "", *body, ""])
    (out / f"{stem}.md").write_text(text.replace(ASSET, quote(stem)), encoding="utf-8")
    return out


def expected_words(case: Case) -> list[str]:
    extra = ["하위 페이지", "할 일 목록"] if case.subpages else []
    return case.body.words + extra


DATABASE_ROWS = [  # (row title, properties, body): a full-page database, one row per locale
    ("12 3 회의", ["작성일시: 2019년 12월 3일 오후 5:57", "태그: CNN"], paragraph("데이터베이스 행의 글") + nested(["1. "] * 2, ["행 번호 하나", "행 번호 둘"])),
    ("Dec 10 sync", ["Created: December 10, 2019 9:26 PM", "Tags: RNN"], paragraph("A database row in English") + image("Untitled.png")),
]
DATABASE_DAYS = [dt.date(2019, 12, 3), dt.date(2019, 12, 10)]  # the meeting date of each row, read off its properties


def write_database(root: Path) -> tuple[Path, list[tuple[dt.date, Piece]]]:
    """A database exported as Notion writes it: ``Name <id>.csv``, ``Name <id>_all.csv`` and the
    folder of row pages; returns the export folder and (meeting date, body) per row."""
    db = f"회의록 {notion_id('database')}"
    out = root / "database"
    (out / db).mkdir(parents=True)
    header = "이름,작성일시,태그\n"
    (out / f"{db}.csv").write_text(header + "".join(f"{t},,\n" for t, _, _ in DATABASE_ROWS), encoding="utf-8")
    (out / f"{db}_all.csv").write_text(header, encoding="utf-8")
    for title, props, body in DATABASE_ROWS:
        stem = f"{title} {notion_id(title)}"
        for name, content in body.files.items():
            (out / db / stem).mkdir(exist_ok=True)
            (out / db / stem / name).write_bytes(content)
        text = "\n".join([f"# {title}", "", *props, "", *body.md, ""]).replace(ASSET, quote(stem))
        (out / db / f"{stem}.md").write_text(text, encoding="utf-8")
    return out, database_rows()


def database_rows() -> list[tuple[dt.date, Piece]]:
    """(meeting date, body) per row of the database export, without writing it."""
    return [(d, body) for d, (_, _, body) in zip(DATABASE_DAYS, DATABASE_ROWS)]


def write_zip(folders: list[Path], dest: Path) -> Path:
    """The export folders as Notion zips a large export: ``Export-<uuid>.zip`` holding
    ``Export-<uuid>-Part-N.zip``, one per folder, each under the workspace wrapper folder."""
    uuid = "6e5d4c3b-2a19-4807-b6c5-d4e3f2a1b0c9"
    outer = dest / f"Export-{uuid}.zip"
    with zipfile.ZipFile(outer, "w") as z:
        for n, folder in enumerate(folders, 1):
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w") as part:
                for p in sorted(folder.rglob("*")):
                    if p.is_file():
                        part.write(p, f"b1c2d3e4_Export-{uuid}/{p.relative_to(folder).as_posix()}")
            z.writestr(f"Export-{uuid}-Part-{n}.zip", buf.getvalue())
    return outer
