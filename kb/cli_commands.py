"""What each command of ``python -m kb`` does, once kb/cli.py has read its arguments (kb/cli.py
holds the command reference, the parser and the exit codes; ``main`` there calls these).

* import-notion and new write docs/ through kb.writeout: one writer at a time (the write lock),
  all files or none, an interrupting signal answered with one honest line;
* check lists every problem of the pages (kb.check), run runs one snippet in a subprocess;
* serve and test are ``make serve`` and ``make test`` without make (kb.tasks).

Messages are Korean and name the file and line; errors go to standard error.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from functools import partial
from pathlib import Path


class UsageError(Exception):
    """A command line that cannot be carried out as given (exit status 2)."""


def _say(*parts: object, err: bool = False) -> None:
    print(*parts, file=sys.stderr if err else sys.stdout, flush=True)


def _docs_dir(value: str) -> Path:
    path = Path(value)
    if not path.is_dir():
        raise UsageError(f"docs 폴더가 없습니다: {value}")
    return path


# --- writing docs/ (kb.writeout: one writer, all or nothing, signals) -------------------

WRITERS = ("import-notion", "new")  # the commands that take docs/'s write lock


def _locked(docs: Path, command: str, run) -> int:
    """``run()`` as docs/'s only writer (kb.writeout.lock); 1 at once when another process holds the lock."""
    from . import writeout

    try:
        with writeout.lock(docs, command):
            return run()
    except writeout.LockError as exc:
        _say(f"오류: {exc}", err=True)
        _say("아무것도 쓰지 않았습니다.", err=True)
        return 1


def _write_failed(exc, docs_label: str) -> int:
    """Report a kb.writeout.WriteError (exit status 1)."""
    from . import writeout

    if isinstance(exc, writeout.Changed):
        _say("오류: 계획을 세운 뒤에 다른 프로그램이 바꾼 파일이 있어 쓰지 않았습니다 (다시 실행하세요):", err=True)
        for path in exc.paths:
            _say(f"  {docs_label}/{path}", err=True)
        _say("아무것도 쓰지 않았습니다.", err=True)
        return 1
    _say(f"오류: 파일을 쓰지 못했습니다: {exc.cause}", err=True)
    if exc.left_changed:
        _say("되돌리지 못해 바뀐 채로 남은 파일:", err=True)
        for path in exc.left_changed:
            _say(f"  {path}", err=True)
    else:
        _say("아무것도 바꾸지 않았습니다 (바꾼 파일은 되돌리고 임시 파일은 지웠습니다).", err=True)
    return 1


def _interrupted(exc: KeyboardInterrupt, receipt) -> int:
    """An interrupted writer's one line (docs/ is as before or as after: kb.writeout) and exit status 128+N."""
    if receipt.left_changed:  # a rollback that failed: say exactly what is left
        _say("중단됨: 되돌리지 못해 바뀐 채로 남은 파일이 있습니다:", err=True)
        for path in receipt.left_changed:
            _say(f"  {path}", err=True)
    elif receipt.written:
        _say(f"중단됨: 모든 파일을 썼습니다 ({len(receipt.written)}개)", err=True)
    else:
        _say("중단됨: 아무것도 바꾸지 않았습니다", err=True)
    return 128 + getattr(exc, "signum", signal.SIGINT)


# --- import-notion ----------------------------------------------------------------------


def cmd_import(args: argparse.Namespace) -> int:
    export = Path(args.export)
    if not export.exists():
        raise UsageError(f"내보내기 파일이 없습니다: {args.export}")
    docs = _docs_dir(args.docs)
    slugs: dict[str, str] = {}
    for qid, slug in args.slug:
        if qid in slugs:
            raise UsageError(f"--slug {qid}가 두 번 주어졌습니다")
        if slug in slugs.values():
            raise UsageError(f"--slug 슬러그 '{slug}'가 두 질문에 주어졌습니다")
        slugs[qid] = slug
    if args.dry_run:  # writes nothing: no lock
        return _import(args, export, docs, slugs)
    return _locked(docs, "import-notion", lambda: _import(args, export, docs, slugs))


def _import(args: argparse.Namespace, export: Path, docs: Path, slugs: dict[str, str]) -> int:
    """Plan, show and write one import (under docs/'s write lock unless --dry-run)."""
    from . import notion, writeout
    from .notion import report

    docs_label = args.docs.rstrip("/")
    try:
        glossary = notion.load_glossary(docs / "glossary.md")
        plan = notion.prepare(
            export, args.export, docs, date=args.date, slugs=slugs, force=args.force, discard_edits=args.discard_edits, glossary=glossary,
            glossary_label=f"{docs_label}/glossary.md", progress=lambda line: _say(line, err=True),
            missing_assets=args.missing_assets,
        )
    except notion.NotionError as exc:
        _say(f"오류: {exc}", err=True)
        _say("아무것도 쓰지 않았습니다.", err=True)
        return 1
    except notion.Conflict as exc:
        _say("오류: 이미 발행된 페이지와 합칠 수 없는 변경이 있습니다:", err=True)
        for problem in exc.problems:
            _say(f"  {problem}", err=True)
        _say("아무것도 쓰지 않았습니다.", err=True)
        return 1
    except notion.ConversionBug as exc:
        _say(f"오류: {exc}", err=True)
        return 1
    for line in report.warning_lines(plan, args.export, quiet={label for label, _ in plan.current}):
        _say(line, err=True)
    for line in filter(None, (report.glossary_line(g, args.export) for g in plan.glossary)):
        _say(line, err=True)
    if plan.undated:
        _say("회의 날짜를 정할 수 없어 가져오지 않은 페이지 (회의록이면 페이지 하나만 --date와 함께 가져오세요):", err=True)
        for message in plan.undated:
            _say(f"  {message}", err=True)
    for line in report.skipped_lines(plan, args.export, docs_label):
        _say(line, err=True)
    if not plan.results:  # nothing to write: up to date (0), or published pages that differ (1: --force)
        return 1 if len(plan.skipped) > len(plan.current) else 0
    planned = writeout.plan(docs, plan.files)
    for p in planned:
        if p.exists and p.changed:
            sys.stdout.write(p.diff(docs_label))
    sys.stdout.flush()
    if args.dry_run:
        _say("--dry-run: 아무것도 쓰지 않았습니다. 쓸 파일:")
        for p in planned:
            _say(f"  {docs_label}/{p.path} ({'새 파일' if not p.exists else ('바뀜' if p.changed else '그대로')})")
        return 0
    try:
        written = writeout.write(planned, args.receipt)
    except writeout.WriteError as exc:
        return _write_failed(exc, docs_label)
    for p in planned:
        state = "새로 씀" if not p.exists else ("덮어씀" if p in written else "바뀐 것 없음")
        _say(f"{state}: {docs_label}/{p.path}")
    return 0


# --- new --------------------------------------------------------------------------------


def _git_user() -> str:
    try:
        out = subprocess.run(["git", "config", "user.name"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip()


def _write_new(docs: Path, docs_label: str, path: str, text: str, receipt) -> int:
    from . import writeout

    plan = writeout.plan(docs, {path: text})
    if plan[0].exists:  # scaffold checked before; this is the check made under the lock
        _say(f"오류: {docs_label}/{path}: 이미 있습니다. 덮어쓰지 않습니다", err=True)
        return 1
    try:
        writeout.write(plan, receipt)
    except writeout.WriteError as exc:
        return _write_failed(exc, docs_label)
    _say(f"만들었습니다: {docs_label}/{path}")
    return 0


def _scaffold_failed(exc) -> int:
    """A ScaffoldError: code 2 is a usage error, anything else is reported and returned."""
    if exc.code == 2:
        raise UsageError(str(exc)) from None
    _say(f"오류: {exc}", err=True)
    return exc.code


def cmd_new_meeting(args: argparse.Namespace) -> int:
    from .scaffold import new_meeting

    docs = _docs_dir(args.docs)
    author = args.author or _git_user()
    if not author:
        raise UsageError("작성자를 --author로 정해 주세요 (git config user.name도 비어 있습니다)")
    make = partial(
        new_meeting, docs, args.date, title=args.title, author=author, attendees=args.attendee,
        meeting_type=args.type, created=args.created,
    )  # fmt: skip
    return _new_page(args, docs, make)


def cmd_new_qna(args: argparse.Namespace) -> int:
    from .scaffold import new_qna

    docs = _docs_dir(args.docs)
    make = partial(
        new_qna, docs, meeting=args.meeting, qid=args.qid, slug=args.slug, title=args.title, tags=args.tag,
        asked_by=args.asked_by,
    )  # fmt: skip
    return _new_page(args, docs, make)


def _new_page(args: argparse.Namespace, docs: Path, make) -> int:
    """``make()`` -> (path, text) checked by kb.scaffold, then written; both under docs/'s write lock."""
    from .scaffold import ScaffoldError

    def run() -> int:
        try:
            path, text = make()
        except ScaffoldError as exc:
            return _scaffold_failed(exc)
        return _write_new(docs, args.docs.rstrip("/"), path, text, args.receipt)

    return _locked(docs, f"new {args.kind}", run)


# --- check ------------------------------------------------------------------------------


def cmd_check(args: argparse.Namespace) -> int:
    from .check import check

    docs = _docs_dir(args.docs)
    root = Path(args.root) if args.root else docs.resolve().parent
    if not root.is_dir():
        raise UsageError(f"프로젝트 루트 폴더가 없습니다: {args.root}")
    problems, summary = check(docs, root)
    for p in problems:
        _say(str(p))
    if problems:
        files = len({p.path for p in problems})
        _say(f"문제 {len(problems)}개 (파일 {files}개).", err=True)
        return 1
    _say(
        f"문제 없음: 페이지 {summary.pages}개, 내부 링크 {summary.links}개, 스니펫 포함 {summary.snippets}개를 확인했습니다.",
        err=True,
    )
    return 0


# --- run --------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    snippet = Path(args.snippet)
    if not snippet.is_file():
        raise UsageError(f"스니펫 파일이 없습니다: {args.snippet}")
    env = dict(os.environ)
    if args.device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""
    elif args.device == "cuda":
        try:
            import torch
        except ImportError:
            raise UsageError("--device cuda: torch가 설치되어 있지 않습니다") from None
        if not torch.cuda.is_available():
            raise UsageError("--device cuda: 이 컴퓨터에서는 CUDA를 쓸 수 없습니다 (torch.cuda.is_available()가 False)")
    extra = args.args
    device = f" (장치: {args.device})" if args.device else ""
    _say(f"실행 중: {args.snippet}{device}", err=True)
    start = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, str(snippet), *extra], env=env)
        code = proc.returncode if proc.returncode >= 0 else 128 - proc.returncode
    except KeyboardInterrupt:
        code = 130
    elapsed = time.perf_counter() - start
    _say(f"끝: {args.snippet} — 종료 코드 {code}, {elapsed:.2f}초", err=True)
    return code


# --- serve, test (make serve, make test without make) ------------------------------------


def _project() -> Path:
    from .tasks import project_root

    root = project_root()
    if root is None:
        raise UsageError(f"mkdocs.yml이 있는 프로젝트 폴더가 아닙니다: {Path.cwd()}")
    return root


def cmd_serve(args: argparse.Namespace) -> int:
    from . import tasks

    return tasks.run(tasks.serve_command(args.host, args.port), _project())


def cmd_test(args: argparse.Namespace) -> int:
    from . import tasks

    return tasks.run(tasks.pytest_command(args.args), _project())
