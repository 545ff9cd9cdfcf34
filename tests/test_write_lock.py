"""One writer at a time (kb.writeout.lock): a command that writes docs/ while another process holds
the write lock is refused at once, naming the holder's pid, and writes nothing; the lock is held
while the import makes its plan; a file that changes between the plan and the write is refused.

Concurrency is real and deterministic: the lock is held by this test process (or a child that says
so on its standard output) while the real command line runs in a subprocess; no sleeps race.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import DOCS, ROOT, run_kb
from notion_cli import kb_main, snapshot
from kb import notion, writeout

KO = Path(__file__).parent / "fixtures/notion/ko-page"
MEETING = "meetings/2021-07-16.md"  # what KO imports to


@pytest.fixture
def docs(tmp_path) -> Path:
    d = tmp_path / "docs"
    d.mkdir()
    shutil.copy(DOCS / "glossary.md", d / "glossary.md")
    return d


@pytest.fixture
def export(tmp_path) -> Path:
    dest = tmp_path / "export"
    shutil.copytree(KO, dest)
    return dest


def test_import_is_refused_at_once_while_another_process_holds_the_lock(docs, export):
    before = snapshot(docs)
    with writeout.lock(docs, "import-notion"):
        result = run_kb("import-notion", export, "--docs", docs)
    assert result.returncode == 1, result.stderr
    assert f"다른 kb 명령(pid {os.getpid()}: import-notion)이 docs에 쓰는 중입니다" in result.stderr
    assert "아무것도 쓰지 않았습니다." in result.stderr and "Traceback" not in result.stderr
    assert snapshot(docs) == before
    again = run_kb("import-notion", export, "--docs", docs)  # released: the same command now writes
    assert again.returncode == 0, again.stderr
    assert (docs / MEETING).is_file()
    assert not [p for p in docs.rglob(".*")]  # the lock lives outside docs/ (MkDocs never sees it)
    assert writeout.lock_path(docs) == docs.parent / ".cache/kb-write.lock"


@pytest.mark.parametrize("kind", ["meeting", "qna"])
def test_new_page_is_refused_while_another_process_holds_the_lock(docs, kind):
    assert kb_main("new", "meeting", "--date", "2021-08-10", "--author", "이하람", "--docs", docs).returncode == 0
    args = {
        "meeting": ["new", "meeting", "--date", "2021-08-17", "--author", "이하람"],
        "qna": ["new", "qna", "--meeting", "meetings/2021-08-10.md", "--qid", "Q6", "--slug", "dropout", "--title", "드롭아웃"],
    }[kind]
    before = snapshot(docs)
    with writeout.lock(docs, "import-notion"):
        result = run_kb(*args, "--docs", docs)
    assert result.returncode == 1, result.stderr
    assert f"pid {os.getpid()}" in result.stderr and "쓰는 중입니다" in result.stderr
    assert snapshot(docs) == before
    assert run_kb(*args, "--docs", docs).returncode == 0


def test_a_holder_that_was_killed_leaves_no_lock_behind(docs, export):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; from kb import writeout\n"
         "with writeout.lock(Path(sys.argv[1]), 'holder'):\n    print('held', flush=True); time.sleep(120)", str(docs)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline() == "held\n"  # handshake: it holds the lock now
        refused = run_kb("import-notion", export, "--docs", docs)
        assert refused.returncode == 1 and f"pid {holder.pid}: holder" in refused.stderr
    finally:
        holder.kill()
        holder.wait()
    result = run_kb("import-notion", export, "--docs", docs)
    assert result.returncode == 0, result.stderr


def test_lock_is_held_while_the_import_makes_its_plan(docs, export, monkeypatch):
    """Probed from another process during notion.prepare (the plan): the lock must be taken."""
    probe = (
        "import sys; from filelock import FileLock, Timeout\n"
        "try:\n    FileLock(sys.argv[1]).acquire(blocking=False)\nexcept Timeout:\n    sys.exit(3)"
    )
    seen = []
    real_prepare = notion.prepare

    def probing_prepare(*args, **kwargs):
        path = writeout.lock_path(docs)
        path.parent.mkdir(parents=True, exist_ok=True)
        seen.append(subprocess.run([sys.executable, "-c", probe, str(path)], cwd=ROOT, timeout=60).returncode)
        return real_prepare(*args, **kwargs)

    monkeypatch.setattr(notion, "prepare", probing_prepare)
    result = kb_main("import-notion", export, "--docs", docs)
    assert result.returncode == 0, result.stderr
    assert seen == [3]  # the probe found the lock taken


def test_a_page_that_appears_after_the_plan_is_not_overwritten(docs, export, monkeypatch):
    """Another program (not kb) creates a planned page between the plan and the write."""
    real_plan = writeout.plan

    def plan_then_someone_writes(docs_dir, files):
        planned = real_plan(docs_dir, files)
        (docs_dir / MEETING).parent.mkdir(parents=True, exist_ok=True)
        (docs_dir / MEETING).write_text("손으로 쓴 회의록\n", encoding="utf-8")
        return planned

    monkeypatch.setattr(writeout, "plan", plan_then_someone_writes)
    before = snapshot(docs)
    result = kb_main("import-notion", export, "--docs", docs)
    assert result.returncode == 1, result.stderr
    assert "계획을 세운 뒤에 다른 프로그램이 바꾼 파일이 있어 쓰지 않았습니다" in result.stderr
    assert f"  {docs}/{MEETING}\n" in result.stderr
    assert snapshot(docs) == {**before, MEETING: "손으로 쓴 회의록\n".encode()}


def test_a_page_edited_after_the_plan_is_not_overwritten(docs, export, monkeypatch):
    assert kb_main("import-notion", export, "--docs", docs).returncode == 0
    page = next(export.glob("*.md"))
    page.write_text(page.read_text(encoding="utf-8").replace("ResNet 논문", "DenseNet 논문"), encoding="utf-8")
    real_plan = writeout.plan

    def plan_then_someone_edits(docs_dir, files):
        planned = real_plan(docs_dir, files)
        with open(docs_dir / MEETING, "a", encoding="utf-8") as f:
            f.write("\n손으로 덧붙인 줄\n")
        return planned

    monkeypatch.setattr(writeout, "plan", plan_then_someone_edits)
    before = snapshot(docs)
    result = kb_main("import-notion", export, "--docs", docs, "--force")
    assert result.returncode == 1, result.stderr
    assert f"  {docs}/{MEETING}\n" in result.stderr
    assert snapshot(docs) == {**before, MEETING: before[MEETING] + "\n손으로 덧붙인 줄\n".encode()}
    assert not [p for p in docs.rglob("*") if p.name.endswith((".tmp", ".bak"))]


def test_write_refuses_files_changed_since_the_plan(tmp_path):
    (tmp_path / "a.md").write_text("old\n", encoding="utf-8")
    planned = writeout.plan(tmp_path, {"a.md": "new\n", "b.md": "new b\n", "c.md": "new c\n"})
    (tmp_path / "a.md").write_text("edited\n", encoding="utf-8")
    (tmp_path / "b.md").write_text("appeared\n", encoding="utf-8")
    with pytest.raises(writeout.Changed) as info:
        writeout.write(planned)
    assert info.value.paths == ["a.md", "b.md"]
    assert snapshot(tmp_path) == {"a.md": b"edited\n", "b.md": b"appeared\n"}  # c.md not written either
