"""Interrupting a write (SIGINT, SIGTERM) leaves docs/ exactly as before or exactly as after, byte for
byte and with no stray ``.tmp``/``.bak``; the command line prints one honest Korean line, no
traceback, and exits 130 (SIGINT) or 143 (SIGTERM).

In-process tests place a signal deterministically (raised from inside a rename or a file's fsync),
with ``signal.pthread_sigmask`` present and taken away (Windows has none). The stress test kills the
real ``python -m kb import-notion`` of a page with 200 images at spread-out moments of its run.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest

from conftest import DOCS, ROOT
from notion_cli import kb_main, snapshot
from test_notion_writeout import docs  # noqa: F401  (the fixture: docs/a/one.md and two.md)
from kb import writeout

pytestmark = pytest.mark.xdist_group("test_write_interrupt")  # its module fixture (scene) once, on one worker (pytest.ini)

NOSIGMASK = "import runpy, signal; del signal.pthread_sigmask; runpy.run_module('kb', run_name='__main__')"


@pytest.fixture(autouse=True)
def interruptible():
    """SIGINT as in a terminal: pytest-xdist's workers ignore it (SIG_IGN), and an ignored signal
    stays ignored in this process and in every program it starts, so these tests passed or failed
    by which test had run before them in the same worker (one that restored the handler)."""
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, old)


@pytest.fixture(params=["pthread_sigmask", "no pthread_sigmask"])
def sigmask(request, monkeypatch):
    if request.param == "no pthread_sigmask":
        monkeypatch.delattr(signal, "pthread_sigmask", raising=False)
    elif not hasattr(signal, "pthread_sigmask"):
        pytest.skip("signal.pthread_sigmask does not exist on this platform")
    return request.param




FILES = {"a/one.md": "new one\n", "a/two.md": "new two\n", "b/new.md": "brand new\n", "b/img.png": b"\x89PNG"}
AFTER = {k: v.encode() if isinstance(v, str) else v for k, v in FILES.items()}


def signal_on_call(monkeypatch, module, name: str, n: int, when=lambda *a: True):
    """Make the n-th matching call of ``module.name`` raise SIGINT in this process right after it ran."""
    real, calls = getattr(module, name), []

    def wrapped(*args, **kwargs):
        result = real(*args, **kwargs)
        if when(*args):
            calls.append(args)
            if len(calls) == n:
                signal.raise_signal(signal.SIGINT)
        return result

    monkeypatch.setattr(module, name, wrapped)


def test_signal_during_a_rename_waits_until_every_file_is_in_place(docs, monkeypatch, sigmask):
    signal_on_call(monkeypatch, os, "replace", 2, when=lambda src, dst: str(src).endswith(".tmp"))
    with pytest.raises(KeyboardInterrupt):  # after the last rename, not between a rename and its record
        writeout.write(writeout.plan(docs, FILES))
    assert sorted(p.relative_to(docs).as_posix() for p in docs.rglob("*")) == ["a", "a/one.md", "a/two.md", "b", *sorted(FILES)[2:]]
    assert snapshot(docs) == AFTER


def test_signal_while_staging_stops_and_restores_every_file(docs, monkeypatch, sigmask):
    before = snapshot(docs)
    signal_on_call(monkeypatch, os, "fsync", 3)
    with pytest.raises(KeyboardInterrupt):  # the staging stops at the next file, and all is undone
        writeout.write(writeout.plan(docs, FILES))
    assert sorted(p.relative_to(docs).as_posix() for p in docs.rglob("*")) == ["a", "a/one.md", "a/two.md"]
    assert snapshot(docs) == before


@pytest.mark.parametrize("where", ["rename", "staging"])
def test_cli_interrupted_says_honestly_what_docs_holds(tmp_path, monkeypatch, sigmask, where):
    export = make_export(tmp_path / "export", variant=0, images=5)
    docs = tmp_path / "docs"
    docs.mkdir()
    if where == "rename":
        signal_on_call(monkeypatch, os, "replace", 3, when=lambda src, dst: str(src).endswith(".tmp"))
    else:
        signal_on_call(monkeypatch, os, "fsync", 3)
    result = kb_main("import-notion", export, "--docs", docs)
    assert result.returncode == 130
    assert "Traceback" not in result.stderr
    if where == "rename":
        assert result.stderr.endswith("중단됨: 모든 파일을 썼습니다 (7개)\n")  # meeting page, Q&A page, 5 images
        assert len(snapshot(docs)) == 7
    else:
        assert result.stderr.endswith("중단됨: 아무것도 바꾸지 않았습니다\n")
        assert list(docs.iterdir()) == []
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # main() put it back


# --- the stress test: the real command line, killed at many moments ---------------------------

# trials per signal and mode; half are timed from the import's first line, half from its first .tmp file
TRIALS = {("SIGTERM", "pthread_sigmask"): 16, ("SIGINT", "pthread_sigmask"): 16,
          ("SIGTERM", "no pthread_sigmask"): 6, ("SIGINT", "no pthread_sigmask"): 6}  # fmt: skip
PAGE = "9 7 회의록 0123456789abcdef0123456789abcdef"


def make_export(root: Path, variant: int, images: int = 200) -> Path:
    """A Notion page with ``images`` distinct PNG attachments; ``variant`` changes every byte that differs."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    folder = root / PAGE
    folder.mkdir(parents=True)
    lines = ["# 9/7(화) 회의록", "", "작성일시: 2021년 9월 7일 오후 3:52", "작성자: 김민지", "참석자: 김민지", "", f"# 그림 {variant}", ""]
    for i in range(images):
        text = bytes((7 * (i + 1000 * variant) + k) % 251 for k in range(2000))
        png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)) + chunk(b"tEXt", text)
        (folder / f"fig{i:03d}.png").write_bytes(png + chunk(b"IEND", b""))
        lines += [f"![그림 {i}](9%207%20%ED%9A%8C%EC%9D%98%EB%A1%9D%200123456789abcdef0123456789abcdef/fig{i:03d}.png)", ""]
    lines += ["# 질문", "", f"Q1. 그림은 몇 장인가요? ({variant})", ""]
    (root / f"{PAGE}.md").write_text("\n".join(lines), encoding="utf-8")
    return root


def tree(docs: Path) -> dict[str, bytes | None]:
    """Every file (with its bytes) and folder under ``docs``, dotfiles included."""
    return {p.relative_to(docs).as_posix(): p.read_bytes() if p.is_file() else None for p in sorted(docs.rglob("*"))}


def start(project: Path, export: Path, wrapper: list[str]) -> tuple[subprocess.Popen, float]:
    """Start the import; return once it printed its first line (main() runs: its handlers are set)."""
    stdout = open(project / "stdout.txt", "w", encoding="utf-8")  # the diff is long: a pipe could fill
    proc = subprocess.Popen(
        [sys.executable, *wrapper, "import-notion", str(export), "--docs", str(project / "docs"), "--force"],
        cwd=ROOT, stdout=stdout, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as from a terminal, not nohup
    )  # fmt: skip
    stdout.close()
    assert proc.stderr.readline().startswith("[1/1] ")
    return proc, time.perf_counter()


def first_tmp(proc: subprocess.Popen, folder: Path) -> float | None:
    """When the write phase began: the first ``.tmp`` file seen in ``folder`` (None: the run ended first)."""
    while proc.poll() is None:
        with os.scandir(folder) as entries:
            if any(e.name.endswith(".tmp") for e in entries):
                return time.perf_counter()
        time.sleep(0.001)
    return None


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    """docs/ after importing export 0 (before), after importing export 1 over it with --force (after),
    and how long that import runs after its first line and after its first .tmp file (the shortest
    of two uninterrupted runs)."""
    base = tmp_path_factory.mktemp("interrupt")
    make_export(base / "export0", variant=0)
    make_export(base / "export1", variant=1)
    before = base / "before"
    (before / "docs").mkdir(parents=True)
    shutil.copy(DOCS / "glossary.md", before / "docs/glossary.md")
    assert kb_main("import-notion", base / "export0", "--docs", before / "docs").returncode == 0
    images = next((before / "docs").rglob("fig000.png")).parent.relative_to(before).as_posix()  # where the write is longest
    tails = []
    for k in range(2):
        shutil.rmtree(base / "after", ignore_errors=True)
        shutil.copytree(before, base / "after")
        proc, t0 = start(base / "after", base / "export1", ["-m", "kb"])
        t1 = first_tmp(proc, base / "after" / images)
        err = proc.communicate(timeout=120)[1]
        assert proc.returncode == 0 and t1 is not None, err
        tails.append((time.perf_counter() - t0, time.perf_counter() - t1))
    return base, images, tree(before / "docs"), tree(base / "after/docs"), min(tails)


@pytest.mark.skipif(sys.platform == "win32", reason="sends POSIX SIGINT/SIGTERM with os.kill; Windows has no such delivery")
@pytest.mark.parametrize(("signame", "mode"), list(TRIALS))
def test_import_killed_at_any_moment_leaves_docs_before_or_after(scene, signame, mode):
    base, images, before, after, (tail, write_tail) = scene
    changed = sum(1 for path, data in after.items() if before.get(path) != data)
    assert changed == 202  # the meeting page, its Q&A page and 200 images
    sig, wrapper = getattr(signal, signame), (["-c", NOSIGMASK] if mode == "no pthread_sigmask" else ["-m", "kb"])
    rng, n = random.Random(f"{signame} {mode}"), TRIALS[signame, mode]
    outcomes, problems = {"before": 0, "after": 0, "finished": 0}, []
    expected = {"before": ["중단됨: 아무것도 바꾸지 않았습니다"], "after": [f"중단됨: 모든 파일을 썼습니다 ({changed}개)"]}
    for k in range(n):
        project = base / f"{signame}-{mode}-{k}".replace(" ", "-")
        shutil.copytree(base / "before", project)
        proc, t0 = start(project, base / "export1", wrapper)
        if k % 2:  # from the first .tmp file: staging, renames, the report
            delay = write_tail * (k // 2 + rng.random()) / (n // 2)
            t0 = first_tmp(proc, project / images) or t0
        else:  # from the first line: the checks, the plan, the diff, the write
            delay = tail * (k // 2 + rng.random()) / (n // 2)
        time.sleep(max(0.0, delay - (time.perf_counter() - t0)))
        if proc.poll() is None:
            proc.send_signal(sig)
        err = proc.communicate(timeout=120)[1]
        now = tree(project / "docs")
        state = "before" if now == before else "after" if now == after else "neither"
        said = [line for line in err.splitlines() if line.startswith("중단됨")]
        if proc.returncode == 0 and state == "after" and not said:
            outcomes["finished"] += 1
        elif proc.returncode == 128 + sig and state in expected and said == expected[state] and "Traceback" not in err:
            outcomes[state] += 1
        else:
            stray = sorted(set(now) - set(before) - set(after))[:5]
            problems.append(f"trial {k}, delay {delay:.3f}s: exit {proc.returncode}, docs {state} (stray {stray}), stderr {err[-600:]!r}")
        shutil.rmtree(project)
    assert not problems, f"{len(problems)} of {n} trials:\n" + "\n".join(problems)
    assert outcomes["before"] + outcomes["after"] > 0, outcomes  # the signals did land during runs
    print(f"{signame}, {mode}: {outcomes} over {n} trials; run after its first line {tail:.2f}s, after its first .tmp {write_tail:.2f}s")
