"""The knowledge base's command line: ``python -m kb COMMAND`` (``--help`` on every command). This
module reads the command line (the reference below, the parser, the exit codes); what each command
does is in kb/cli_commands.py.

Commands::

    import-notion PATH [--docs DIR] [--date YYYY-MM-DD] [--slug Q1=slug ...] [--force] [--dry-run]
        Notion export (page .md, folder or Export-….zip) -> docs/meetings/DATE.md (+ its files in
        docs/attachments/DATE/) and docs/qna/<slug>.md per question (kb.notion)
    new meeting --date YYYY-MM-DD [--title T] [--author NAME] [--attendee NAME ...] [--type T]
    new qna --meeting meetings/DATE.md --qid Q6 --slug SLUG --title T [--tag T ...] [--asked-by NAME]
        a page with the required front matter, checked with kb.frontmatter (kb.scaffold)
    check [--docs DIR] [--root DIR]
        front matter, tags, internal links and anchors, snippet includes: every problem as
        file:line: message (kb.check)
    run SNIPPET [--device cpu|cuda] [-- ARGS...]
        run a snippet in a subprocess with a progress line and its timing
    serve [--host H] [--port P]
        `make serve` without make: mkdocs serve --strict on http://127.0.0.1:8000 (kb.tasks)
    test [PYTEST ARGS...]
        `make test` without make: pytest -n auto --maxprocesses 4 [ARGS] in the project (kb.tasks)

Exit codes (also in ``--help``)::

    0  done (warnings may have been printed)
    1  problems found or refused: an export that cannot be imported, a page that already exists
       (import-notion without --force, new), another kb command writing docs/ (its pid is named),
       a planned file changed by another program before the write, problems found by check
    2  usage error: unknown command or option, a malformed value (--date, --slug, --qid),
       a file or folder named on the command line that does not exist,
       run --device cuda where torch.cuda.is_available() is False
    run: the snippet's own exit status (128+N when a signal N ended it); 2 when it cannot start
    serve, test: the exit status of mkdocs serve and pytest; 2 outside a project (no mkdocs.yml)
    130, 143, 129  import-notion and new stopped by SIGINT (Ctrl-C), SIGTERM, SIGHUP: one line says
       whether docs/ is as before ("중단됨: 아무것도 바꾸지 않았습니다") or as after ("중단됨: 모든 파일을
       썼습니다"), never in between (kb.writeout)

import-notion and new take docs/'s write lock (kb.writeout.lock, <project>/.cache/kb-write.lock) before
they read docs/ and keep it until they have written: a second writer is refused at once (exit 1,
naming the holder's pid), and a file changed meanwhile by another program is refused too.

Messages are Korean and name the file and line (``file:line: message``). Errors and warnings go
to standard error; diffs, written files and check's problem list go to standard output.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys

from kb.cli_commands import (
    WRITERS, UsageError, _interrupted, _say, cmd_check, cmd_import, cmd_new_meeting, cmd_new_qna, cmd_run, cmd_serve,
    cmd_test,
)

EXIT_CODES = """\
종료 코드:
  0  성공 (경고는 출력될 수 있음)
  1  문제가 있거나 거절함: 가져올 수 없는 내보내기 파일, 이미 있는 페이지(--force 없이),
     다른 kb 명령이 docs에 쓰는 중, 쓰기 직전에 다른 프로그램이 바꾼 파일, check가 찾은 문제
  2  사용법 오류: 모르는 명령/옵션, 잘못된 값(--date, --slug, --qid), 없는 파일이나 폴더,
     CUDA가 없는데 run --device cuda
  run: 스니펫의 종료 코드 (시그널 N으로 끝나면 128+N)
  serve, test: mkdocs serve와 pytest의 종료 코드 (mkdocs.yml이 있는 폴더 밖이면 2)
  130, 143  import-notion, new가 Ctrl-C(SIGINT), SIGTERM으로 중단됨 (docs는 이전 그대로이거나 모두 쓴 상태)"""


def _date(value: str) -> dt.date:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise argparse.ArgumentTypeError(f"날짜는 YYYY-MM-DD로 씁니다: {value!r}")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"없는 날짜입니다: {value!r}") from None


def _timestamp(value: str) -> dt.datetime:
    try:
        stamp = dt.datetime.fromisoformat(value)
    except ValueError:
        stamp = None
    if stamp is None or stamp.tzinfo is None:
        raise argparse.ArgumentTypeError(f"시간대가 있는 ISO 시각으로 씁니다 (예: 2021-08-06T17:57:00+09:00): {value!r}")
    return stamp


def _slug_option(value: str) -> tuple[str, str]:
    from .scaffold import QID_RE, SLUG_RE

    qid, sep, slug = value.partition("=")
    qid = qid.strip().upper()
    if len(slug.strip()) > 80 or len(qid) > 4:
        raise argparse.ArgumentTypeError(f"--slug가 너무 깁니다: {value[:40]!r}… (슬러그는 80자, 질문 번호는 Q999까지)")
    if not sep or not QID_RE.match(qid) or not SLUG_RE.match(slug.strip()):
        raise argparse.ArgumentTypeError(
            f"--slug는 Q번호=슬러그로 씁니다 (슬러그는 영문 소문자, 숫자, '-'): {value!r} (예: Q1=module-modules)"
        )
    return qid, slug.strip()


# --- the parser -------------------------------------------------------------------------


class _Formatter(argparse.RawDescriptionHelpFormatter):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse with a Korean error line and a pointer to --help (exit status 2, as argparse)."""

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: 오류: {message}\n도움말: {self.prog} --help\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m kb",
        description="딥러닝 스터디 지식 베이스의 명령줄 도구: Notion 회의록 가져오기, 새 페이지, 검사, 스니펫 실행, 사이트 띄우기, 테스트.",
        epilog=EXIT_CODES,
        formatter_class=_Formatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "import-notion",
        help="Notion 내보내기(페이지 .md, 폴더, Export-….zip)를 회의록 페이지와 Q&A 페이지로 가져옵니다",
        description=(
            "Notion 내보내기(Markdown & CSV)의 페이지마다 docs/meetings/YYYY-MM-DD.md와 질문마다 docs/qna/<슬러그>.md를\n"
            "만들고, 이미지와 첨부 파일은 docs/attachments/YYYY-MM-DD/로 복사합니다. 읽는 사람이 보는 글이 모두 옮겨졌는지,\n"
            "front matter가 kb.frontmatter 검사를 통과하는지, 빌드된 페이지에 스크립트가 없는지 확인한 뒤에만 쓰며,\n"
            "모든 파일을 한꺼번에 쓰고 실패하면 모두 되돌립니다. 이미 발행된 회의는 건너뜁니다(--force: 갱신;\n"
            "Q&A 페이지는 회의 인용 부분만 바꾸고 정리된 답은 그대로 둡니다). 자세한 규칙: kb/notion/."
        ),
        epilog=EXIT_CODES + "\n\n예:\n  python -m kb import-notion Export-1234.zip --dry-run"
        "\n  python -m kb import-notion '8 10 회의록 0123abcd.md' --slug Q1=module-modules",
        formatter_class=_Formatter,
    )
    p.add_argument("export", metavar="PATH", help="Notion 내보내기: 페이지 .md, 압축을 푼 폴더, 또는 Export-….zip (페이지는 UTF-8, 5 MB 이하)")
    p.add_argument("--docs", default="docs", metavar="DIR", help="docs 폴더 (기본값: docs)")
    p.add_argument("--date", type=_date, metavar="YYYY-MM-DD", help="회의 날짜 (기본값: 날짜 속성, 제목의 M/D, 작성일시 순; 페이지가 하나일 때만)")
    p.add_argument(
        "--slug",
        type=_slug_option,
        action="append",
        default=[],
        metavar="QN=SLUG",
        help="질문의 Q&A 페이지 이름 (여러 번 가능; 기본값: 있던 페이지 또는 YYYY-MM-DD-qN)",
    )
    p.add_argument("--force", action="store_true", help="이미 발행된 회의를 갱신합니다 (먼저 unified diff를 출력; 정리된 답은 바꾸지 않음)")
    p.add_argument("--discard-edits", action="store_true", help="--force와 함께: 새 내보내기에 없는 회의록의 줄(사이트에서 덧붙였거나 Notion에서 고치거나 지운 줄)을 버리고 갱신합니다 (기본값: 그 줄을 알리고 거절)")
    p.add_argument("--dry-run", action="store_true", help="검사와 diff만 하고 아무것도 쓰지 않습니다")
    p.add_argument(
        "--missing-assets", choices=("error", "placeholder"), default="error",
        help="링크한 파일이 내보내기에 없을 때: error는 없는 파일을 모두 알리고 멈춤(기본값), placeholder는 그 자리에 '원본에 없던 파일: 이름' 안내를 넣고 가져옴",
    )
    p.set_defaults(func=cmd_import)

    p = sub.add_parser(
        "new",
        help="필수 front matter가 있는 새 페이지를 만듭니다 (meeting, qna)",
        description="필수 front matter가 있는 새 페이지를 만듭니다. 이미 있는 파일은 덮어쓰지 않습니다.",
        epilog=EXIT_CODES,
        formatter_class=_Formatter,
    )
    new_sub = p.add_subparsers(dest="kind", metavar="KIND", required=True)
    m = new_sub.add_parser(
        "meeting",
        help="새 회의록 docs/meetings/YYYY-MM-DD.md",
        description="새 회의록 페이지 docs/meetings/YYYY-MM-DD.md를 만듭니다.",
        epilog=EXIT_CODES + "\n\n예:\n  python -m kb new meeting --date 2021-08-17 --author 이하람",
        formatter_class=_Formatter,
    )
    m.add_argument("--date", type=_date, required=True, metavar="YYYY-MM-DD", help="회의 날짜")
    m.add_argument("--title", help="제목 (기본값: '8/17(화) 회의록' 꼴)")
    m.add_argument("--author", help="작성자 (기본값: git config user.name)")
    m.add_argument("--attendee", action="append", default=[], metavar="NAME", help="참석자 (여러 번 가능)")
    m.add_argument("--type", default="일일 회의", help="회의 유형 (기본값: 일일 회의)")
    m.add_argument("--created", type=_timestamp, metavar="ISO", help="작성일시 (기본값: 회의 날짜 0시, 회의가 오늘이면 지금; 한국 시간)")
    m.add_argument("--docs", default="docs", metavar="DIR", help="docs 폴더 (기본값: docs)")
    m.set_defaults(func=cmd_new_meeting)
    q = new_sub.add_parser(
        "qna",
        help="새 Q&A 페이지 docs/qna/<슬러그>.md",
        description="회의록의 질문 하나에 대한 새 Q&A 페이지 docs/qna/<슬러그>.md를 만듭니다 (status: open).",
        epilog=EXIT_CODES
        + "\n\n예:\n  python -m kb new qna --meeting meetings/2021-08-10.md --qid Q6 --slug dropout --title '드롭아웃은 왜 되나요?'",
        formatter_class=_Formatter,
    )
    q.add_argument("--meeting", required=True, metavar="meetings/DATE.md", help="질문이 나온 회의록 (docs/ 기준 경로)")
    q.add_argument("--qid", required=True, metavar="QN", help="질문 번호 (예: Q6)")
    q.add_argument("--slug", required=True, help="페이지 이름: 영문 소문자, 숫자, '-' (예: momentum-vs-nag)")
    q.add_argument("--title", required=True, help="질문 제목")
    q.add_argument("--tag", action="append", default=[], help="태그 (여러 번 가능; 기본값: 미분류)")
    q.add_argument("--asked-by", help="질문한 사람")
    q.add_argument("--docs", default="docs", metavar="DIR", help="docs 폴더 (기본값: docs)")
    q.set_defaults(func=cmd_new_qna)

    p = sub.add_parser(
        "check",
        help="front matter, 태그, 내부 링크, 스니펫 포함을 검사합니다",
        description=(
            "docs 아래 모든 페이지의 front matter(kb.frontmatter), 태그, 내부 링크와 앵커, 스니펫 포함(--8<--)을\n"
            "검사하고 모든 문제를 'file:line: message'로 나열합니다."
        ),
        epilog=EXIT_CODES,
        formatter_class=_Formatter,
    )
    p.add_argument("--docs", default="docs", metavar="DIR", help="docs 폴더 (기본값: docs)")
    p.add_argument("--root", metavar="DIR", help="스니펫 경로의 기준인 프로젝트 루트 (기본값: docs의 상위 폴더)")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser(
        "run",
        help="스니펫을 하위 프로세스로 실행하고 걸린 시간을 보여 줍니다",
        description=(
            "스니펫을 지금의 파이썬으로 하위 프로세스에서 실행합니다. 시작할 때 '실행 중: …', 끝날 때 종료 코드와\n"
            "걸린 시간을 표준 오류로 출력하고, 스니펫의 종료 코드로 끝납니다."
        ),
        epilog=EXIT_CODES + "\n\n예:\n  python -m kb run snippets/qna/adagrad.py --device cpu",
        formatter_class=_Formatter,
    )
    p.add_argument("snippet", metavar="SNIPPET", help="실행할 .py 파일")
    p.add_argument(
        "--device",
        choices=("cpu", "cuda"),
        help="cpu: CUDA를 숨깁니다 (CUDA_VISIBLE_DEVICES=\"\"); cuda: CUDA가 없으면 종료 코드 2 (기본값: 그대로)",
    )
    p.add_argument("args", nargs="*", metavar="ARGS", help="스니펫에 넘길 인자 ('-'로 시작하는 인자는 -- 뒤에)")
    p.set_defaults(func=cmd_run)

    from . import tasks

    p = sub.add_parser(
        "serve",
        help="사이트를 빌드하고 띄웁니다 (make serve와 같음: mkdocs serve --strict)",
        description="make 없이 make serve를 합니다: 사이트를 --strict로 빌드해 띄우고, 고칠 때마다 다시 빌드합니다.",
        epilog=EXIT_CODES + "\n\n예:\n  python -m kb serve\n  python -m kb serve --port 8001",
        formatter_class=_Formatter,
    )
    p.add_argument("--host", default=tasks.HOST, help=f"주소 (기본값: {tasks.HOST})")
    p.add_argument("--port", type=int, default=tasks.PORT, help=f"포트 (기본값: {tasks.PORT})")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser(
        "test",
        help="모든 테스트를 돌립니다 (make test와 같음: pytest -n auto --maxprocesses 4)",
        description="make 없이 make test를 합니다. 뒤에 쓴 인자는 모두 pytest에 넘깁니다.",
        epilog=EXIT_CODES + "\n\n예:\n  python -m kb test\n  python -m kb test tests/test_cli.py -n 0",
        formatter_class=_Formatter,
    )
    p.add_argument("args", nargs="*", metavar="PYTEST_ARGS", help="pytest에 넘길 인자 (예: tests/test_cli.py -k check)")
    p.set_defaults(func=cmd_test)
    return parser


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    parser = build_parser()
    argv_given = argv is not None
    argv = list(sys.argv[1:] if argv is None else argv)
    passthrough: list[str] = []
    if argv[:1] == ["run"] and "--" in argv:  # run SNIPPET [--device D] -- ARGS: ARGS go to the snippet
        k = argv.index("--")
        argv, passthrough = argv[:k], argv[k + 1 :]
    elif argv[:1] == ["test"] and argv[1:2] not in (["-h"], ["--help"]):  # test ARGS: all of them go to pytest
        argv, passthrough = argv[:1], argv[2:] if argv[1:2] == ["--"] else argv[1:]
    args = parser.parse_args(argv)
    if args.command in ("run", "test"):
        args.args = [*args.args, *passthrough]
    if args.command not in WRITERS:
        return _command(parser, args)
    from . import writeout

    args.receipt = writeout.Receipt()  # what was written, for an interruption's message
    # SIGTERM and SIGHUP interrupt as Ctrl-C does; run as the program, signals are ignored after the command
    with writeout.signals_interrupt(restore=argv_given):
        try:
            return _command(parser, args)
        except KeyboardInterrupt as exc:
            return _interrupted(exc, args.receipt)


def _command(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    try:
        return args.func(args)
    except UsageError as exc:
        _say(f"{parser.prog}: 오류: {exc}", err=True)
        return 2
