"""The execution cache (kb/exec_cache.py, used by kb/execute.py) under faults: eviction only after a complete build, one
build at a time, entries that appear whole or not at all, and blocks that delete the cache."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT
from kb.execute import ExecutionError, Executor

BLOCK = '<div class="language-python highlight"><pre><span></span><code>{}\n</code></pre></div>'


def page(*codes: str) -> str:
    return "<h1>T</h1>\n" + "\n".join(BLOCK.format(code) for code in codes)


@pytest.fixture
def executor(tmp_path, block_runners):
    """An executor on a fresh cache, using the session's warm worker (left running afterwards)."""
    docs = tmp_path / "docs"
    docs.mkdir()
    ex = Executor(cache_dir=tmp_path / "cache", docs_dir=docs, runner=block_runners.get("cpu"))
    yield ex
    ex.runner = None  # the session's, left running
    ex.close()  # the output folders of blocks started and not finished (a block that failed the page)


def write_page(ex: Executor, src: str, n_fences: int = 1) -> None:
    (ex.docs_dir / src).write_text("# T\n\n" + "```python\nx = 1\n```\n\n" * n_fences, encoding="utf-8")


def entries(ex: Executor) -> set[str]:
    return {e.name for e in ex.cache_dir.iterdir() if not e.name.startswith(".")} if ex.cache_dir.is_dir() else set()


def test_a_complete_build_evicts_entries_it_did_not_use(executor):
    write_page(executor, "a.md")
    executor.process_page(page("print('old')"), "a.md", "a/")
    old = entries(executor)
    nxt = Executor(cache_dir=executor.cache_dir, docs_dir=executor.docs_dir, runner=executor.runner)
    nxt.process_page(page("print('new')"), "a.md", "a/")
    assert nxt.evict_unused() == sorted(old)
    assert entries(executor) == nxt.cache.used
    nxt.runner = None


def test_a_partial_build_evicts_nothing(executor):
    write_page(executor, "a.md")
    write_page(executor, "b.md")
    executor.process_page(page("print('b')"), "b.md", "b/")
    nxt = Executor(cache_dir=executor.cache_dir, docs_dir=executor.docs_dir, runner=executor.runner)
    nxt.process_page(page("print('a')"), "a.md", "a/")  # b.md, with code, was not rebuilt
    assert nxt.evict_unused() == []
    assert len(entries(executor)) == 2
    nxt.runner = None


def test_kb_execute_0_evicts_nothing(executor):
    write_page(executor, "a.md")
    executor.process_page(page("print('a')"), "a.md", "a/")
    before = entries(executor)
    off = Executor(cache_dir=executor.cache_dir, docs_dir=executor.docs_dir, enabled=False)
    assert ".kb-output" not in off.process_page(page("print('a')"), "a.md", "a/")
    assert off.evict_unused() == []
    assert entries(executor) == before and before


def test_a_half_written_or_damaged_entry_is_run_again(executor):
    code = "print('whole')"
    key = executor.key(code)
    (executor.cache_dir / key).mkdir(parents=True)  # a build killed before result.json
    assert not executor.run(code, "<a>").cached
    (executor.cache_dir / key / "result.json").write_text('{"stdout": "tru', encoding="utf-8")  # cut short
    result = executor.run(code, "<a>")
    assert not result.cached and result.stdout == "whole\n"
    assert executor.run(code, "<a>").cached
    assert executor.runs == 2


def test_a_failed_write_leaves_no_entry_and_no_staging_folder(executor, monkeypatch):
    import kb.exec_cache

    def copytree_then_fail(src, dst):
        Path(dst).mkdir()
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(kb.exec_cache.shutil, "copytree", copytree_then_fail)
    with pytest.raises(ExecutionError, match="could not be kept"):
        executor.run("print('x')", "<a>")
    assert [e for e in executor.cache_dir.iterdir() if e != executor.cache.mark] == []  # the build's own mark only
    executor.close()
    assert list(executor.cache_dir.iterdir()) == []


def test_staging_folders_of_a_killed_build_are_removed_when_the_next_build_starts(tmp_path, monkeypatch):
    stale = tmp_path / "cache" / ".tmp-0123-abc"
    stale.mkdir(parents=True)
    (stale / "result.json").write_text("{}", encoding="utf-8")
    monkeypatch.setenv("KB_EXEC_CACHE", str(tmp_path / "cache"))
    ex = Executor.from_env(tmp_path)
    try:
        assert not stale.exists()
    finally:
        ex.close()


def test_a_block_deleting_the_cache_is_named_with_its_page(executor):
    write_page(executor, "a.md", 2)
    html = page("print('kept')", f"import shutil\nshutil.rmtree({str(executor.cache_dir)!r})")
    with pytest.raises(ExecutionError) as caught:
        executor.process_page(html, "a.md", "a/")
    message = str(caught.value)
    assert message.startswith("docs/a.md: Python block 2 (first line: 'import shutil') failed during the build")
    assert "disappeared" in message and "must not delete the build's cache" in message


def test_a_cache_folder_deleted_and_made_again_with_the_same_inode_number_is_still_seen(executor):
    """A folder deleted and made again (the next result stored makes it) can get the inode number of
    the one deleted: the build's mark in the folder tells them apart (side by side this let a build
    with a deleted cache pass)."""
    write_page(executor, "a.md")
    executor.process_page(page("print('kept')"), "a.md", "a/")
    assert executor.cache.damage(executor.lock) is None
    import shutil

    shutil.rmtree(executor.cache_dir)
    executor.cache_dir.mkdir()
    (executor.cache_dir / next(iter(executor.cache.used))).mkdir()
    (executor.cache_dir / next(iter(executor.cache.used)) / "result.json").write_text("{}", encoding="utf-8")
    damage = executor.cache.damage(executor.lock)
    assert damage is not None and "disappeared" in damage


def test_a_block_deleting_the_whole_cache_folder_with_its_lock_is_named(tmp_path, monkeypatch, block_runners):
    monkeypatch.setenv("KB_EXEC_CACHE", str(tmp_path / ".cache" / "kb-exec"))
    (tmp_path / "docs").mkdir()
    ex = Executor.from_env(tmp_path)
    ex.runner = block_runners.get("cpu")
    try:
        with pytest.raises(ExecutionError, match=r"^docs/a.md: Python block 1 .*\n.*build lock .* was removed"):
            ex.process_page(page(f"import shutil\nshutil.rmtree({str(tmp_path / '.cache')!r})"), "a.md", "a/")
    finally:
        ex.runner = None
        ex.close()


def test_a_block_deleting_its_output_folder_is_named_with_its_page(executor):
    write_page(executor, "a.md")
    html = page("import os, shutil\nshutil.rmtree(os.environ['SNIPPET_OUTPUT_DIR'])")
    with pytest.raises(ExecutionError, match=r"^docs/a.md: Python block 1 .*\n.*output folder"):
        executor.process_page(html, "a.md", "a/")


LOCKER = """\
import logging, sys, time
sys.path.insert(0, {root!r})
logging.basicConfig(level=logging.INFO, format="%(message)s")
from kb.execute import ExecutionError, Executor
try:
    ex = Executor.from_env(__import__("pathlib").Path({project!r}))
except ExecutionError as exc:
    print("ERROR", exc, flush=True)
    sys.exit(1)
print("LOCKED", flush=True)
time.sleep({hold})
ex.close()
"""


def locker(tmp_path: Path, hold: float, **env: str) -> subprocess.Popen:
    script = tmp_path / f"locker-{time.monotonic_ns()}.py"
    script.write_text(LOCKER.format(root=str(ROOT), project=str(tmp_path), hold=hold), encoding="utf-8")
    full = dict(os.environ, KB_EXEC_CACHE=str(tmp_path / "cache"), **env)
    return subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=full)


def test_a_second_build_waits_for_the_first_and_says_so(tmp_path):
    first = locker(tmp_path, hold=3)
    assert first.stdout.readline().strip() == "LOCKED"
    second = locker(tmp_path, hold=0)
    out, _ = second.communicate(timeout=60)
    first.wait(timeout=60)
    assert second.returncode == 0, out
    assert f"another build (pid {first.pid}) is using" in out and "waiting" in out
    assert out.rstrip().endswith("LOCKED")


def test_a_second_build_gives_up_after_the_lock_timeout(tmp_path):
    first = locker(tmp_path, hold=30)
    try:
        assert first.stdout.readline().strip() == "LOCKED"
        second = locker(tmp_path, hold=0, KB_LOCK_TIMEOUT="1")
        out, _ = second.communicate(timeout=60)
        assert second.returncode == 1
        assert f"ERROR {tmp_path / 'cache.lock'}: another build (pid {first.pid}) still holds the lock" in out
    finally:
        first.kill()
        first.wait()


def test_a_killed_build_releases_the_lock(tmp_path):
    first = locker(tmp_path, hold=30)
    assert first.stdout.readline().strip() == "LOCKED"
    first.kill()
    first.wait()
    second = locker(tmp_path, hold=0, KB_LOCK_TIMEOUT="5")
    out, _ = second.communicate(timeout=60)
    assert second.returncode == 0 and "LOCKED" in out and "waiting" not in out


def test_an_allowed_exit_is_cached_apart_from_the_same_code_without_the_marker(executor):
    code = "import sys\nprint('early')\nsys.exit(0)\nassert False"
    assert executor.run(code, "<a>", allow_exit="demo").stdout == "early\n"
    with pytest.raises(ExecutionError, match="stopped before its end"):
        executor.run(code, "<a>")  # not served from the allowed run's entry
