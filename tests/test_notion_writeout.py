"""kb.writeout: all files or none. A failure while renaming (after some targets were already
replaced) restores them; nothing temporary is left; the CLI says what happened."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from notion_cli import kb_main as run_kb
from notion_cli import snapshot
from notion_seed import SEED
from kb import writeout

KO = Path(__file__).parent / "fixtures/notion/ko-page"



@pytest.fixture
def docs(tmp_path) -> Path:
    d = tmp_path / "docs"
    (d / "a").mkdir(parents=True)
    (d / "a/one.md").write_text("old one\n", encoding="utf-8")
    (d / "a/two.md").write_text("old two\n", encoding="utf-8")
    return d


def files() -> dict[str, str | bytes]:
    return {"a/one.md": "new one\n", "a/two.md": "new two\n", "b/new.md": "brand new\n", "b/img.png": b"\x89PNG"}


def test_all_files_are_written(docs):
    written = writeout.write(writeout.plan(docs, files()))
    assert [p.path for p in written] == list(files())
    assert snapshot(docs) == {k: v.encode() if isinstance(v, str) else v for k, v in files().items()}


@pytest.mark.parametrize("fail_at", [1, 2, 3, 4])
def test_a_failed_rename_midway_restores_every_file(docs, monkeypatch, fail_at):
    before = snapshot(docs)
    real_replace, calls = os.replace, []

    def flaky(src, dst):
        if str(src).endswith(".tmp"):
            calls.append(dst)
            if len(calls) == fail_at:
                raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(writeout.os, "replace", flaky)
    with pytest.raises(writeout.WriteError) as info:
        writeout.write(writeout.plan(docs, files()))
    assert info.value.left_changed == []
    assert snapshot(docs) == before  # replaced targets are back, new files and new folders gone
    assert sorted(p.name for p in docs.rglob("*")) == ["a", "one.md", "two.md"]


def test_when_restoring_fails_too_the_error_lists_what_is_left(docs, monkeypatch):
    real_replace = os.replace

    def flaky(src, dst):
        if str(src).endswith(".tmp") and str(dst).endswith("two.md"):
            raise OSError(5, "I/O error")
        if str(src).endswith(".bak"):
            raise OSError(5, "I/O error while restoring")
        return real_replace(src, dst)

    monkeypatch.setattr(writeout.os, "replace", flaky)
    with pytest.raises(writeout.WriteError) as info:
        writeout.write(writeout.plan(docs, files()))
    assert info.value.left_changed == [str(docs / "a/one.md")]
    assert (docs / "a/one.md").read_text(encoding="utf-8") == "new one\n"


def test_cli_failed_write_restores_and_says_so(tmp_path):
    """One target cannot be replaced (a folder stands where an image goes): the meeting page and
    the Q&A pages written before it are put back, and the message says nothing changed."""
    docs = tmp_path / "docs"
    docs.mkdir()
    export = tmp_path / "export"
    shutil.copytree(KO, export)
    assert run_kb("import-notion", export, "--docs", docs).returncode == 0
    page = next(export.glob("*.md"))
    page.write_text(page.read_text(encoding="utf-8").replace("ResNet 논문", "DenseNet 논문"), encoding="utf-8")
    image = docs / "attachments/2021-07-16/Untitled.png"
    image.unlink()
    (image / "blocker").mkdir(parents=True)
    before = snapshot(docs)
    result = run_kb("import-notion", export, "--docs", docs, "--force")
    assert result.returncode == 1
    assert "파일을 쓰지 못했습니다" in result.stderr
    assert "아무것도 바꾸지 않았습니다 (바꾼 파일은 되돌리고 임시 파일은 지웠습니다)" in result.stderr
    assert snapshot(docs) == before
    leftovers = [p.name for p in docs.rglob("*") if p.name.endswith((".tmp", ".bak"))]
    assert leftovers == []


def test_a_failed_write_leaves_nothing_behind(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "qna").write_text("a file where the qna/ folder should be\n", encoding="utf-8")
    before = snapshot(docs)
    result = run_kb("import-notion", SEED, "--docs", docs)
    assert result.returncode == 1
    assert "파일을 쓰지 못했습니다" in result.stderr
    assert snapshot(docs) == before  # the meeting page was written to a temporary file only, now removed
    assert sorted(p.name for p in docs.iterdir()) == ["qna"]  # and meetings/ made for it is gone
