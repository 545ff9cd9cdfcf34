"""`mkdocs serve` loads the Korean analyser in the background after its first build (issue #28 item 3).

A first serve build over a warm search cache never loads Kiwi; without the warm-up the first saved
edit would wait for it (about 2 s). Kiwi is replaced by a stand-in loader that counts its loads
and which thread made them; the MkDocs tests build a tiny project in this process, as
`mkdocs serve` rebuilds (the kb plugin kept across config loads), and as a one-shot build.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from mkdocs.commands.build import build
from mkdocs.config import load_config
from mkdocs.config.defaults import MkDocsConfig

from kb import search_index, search_ko
from test_search_cache import SEPARATOR, TEXTS, _index, _site

LOAD_SECONDS = 0.3  # long enough for a second caller to arrive while the first one loads


class _StandInKiwi:
    def tokenize(self, text):
        return []


@pytest.fixture
def loads(monkeypatch):
    """The name of the thread of every load of Kiwi (a stand-in, loaded in LOAD_SECONDS)."""
    threads: list[str] = []

    def load():
        threads.append(threading.current_thread().name)
        time.sleep(LOAD_SECONDS)
        return _StandInKiwi()

    monkeypatch.setattr(search_ko, "load_kiwi", load)
    return threads


def _warm_up_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == search_ko.WARM_UP_THREAD]


def _join_warm_ups() -> None:
    for thread in _warm_up_threads():
        thread.join(timeout=30)


# --- the Analyzer ---------------------------------------------------------------------------


def test_concurrent_first_use_waits_for_the_single_background_load(tmp_path, loads):
    analyzer = search_ko.Analyzer(SEPARATOR, tmp_path)
    thread = analyzer.warm_up()
    assert thread is not None and thread.daemon
    start = time.perf_counter()
    results = []
    users = [threading.Thread(target=lambda: results.append(analyzer.kiwi)) for _ in range(3)]
    for user in users:
        user.start()
    analyzer.fields("제목", TEXTS["a/"])  # needs Kiwi while the warm-up is loading it
    for user in users + [thread]:
        user.join(timeout=30)
    assert loads == [search_ko.WARM_UP_THREAD]  # one load, by the warm-up; nobody loaded again
    assert time.perf_counter() - start >= LOAD_SECONDS * 0.9  # the analysis waited for it
    assert len(results) == 3 and all(k is analyzer.kiwi for k in results)  # the whole analyser
    assert analyzer.warm_up() is None  # loaded: nothing to warm up


def test_a_failed_background_load_is_logged_and_the_next_analysis_loads_kiwi(tmp_path, monkeypatch, caplog):
    threads: list[str] = []

    def load():
        threads.append(threading.current_thread().name)
        if len(threads) != 2:
            raise OSError("model file missing")
        return _StandInKiwi()

    monkeypatch.setattr(search_ko, "load_kiwi", load)
    analyzer = search_ko.Analyzer(SEPARATOR, tmp_path)
    with caplog.at_level(logging.INFO, logger=search_ko.log.name):
        analyzer.warm_up().join(timeout=30)
    assert "in the background failed (model file missing)" in caplog.text
    assert analyzer._kiwi is None
    analyzer.fields("제목", TEXTS["a/"])  # loads it again, in this thread
    assert threads == [search_ko.WARM_UP_THREAD, "MainThread"]

    failing = search_ko.Analyzer(SEPARATOR, tmp_path / "other")  # the third load fails: reported as today
    failing.warm_up().join(timeout=30)
    with pytest.raises(search_index.SearchIndexError, match="morpheme analysis of 'b/' failed: model file missing"):
        search_index.add_field(_index({"b/": TEXTS["b/"]}), failing, lambda location: location)


# --- through MkDocs, in this process ---------------------------------------------------------


@contextmanager
def _project(tmp_path: Path):
    """A tiny site with a warm search cache; MkDocs' plugin cache emptied before and after, so
    that each test starts as a fresh process."""
    _site(tmp_path)
    plugins = dict(MkDocsConfig._schema)["plugins"]
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    os.environ.pop(search_ko.CACHE_ENV, None)
    os.environ["NO_MKDOCS_2_WARNING"] = "1"
    os.chdir(tmp_path)
    plugins.plugin_cache.clear()
    try:
        _one_shot_build(tmp_path)  # fills the search cache (loads Kiwi once)
        plugins.plugin_cache.clear()
        yield tmp_path
    finally:
        _join_warm_ups()
        plugins.plugin_cache.clear()
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)


def _config(project: Path) -> MkDocsConfig:
    return load_config(str(project / "mkdocs.yml"), site_dir=str(project / "site"))


def _one_shot_build(project: Path) -> MkDocsConfig:
    """What `mkdocs build` does."""
    config = _config(project)
    config.plugins.on_startup(command="build", dirty=False)
    try:
        build(config)
    finally:
        config.plugins.on_shutdown()
    return config


def _edit(project: Path) -> None:
    bn = project / "docs" / "bn.md"
    bn.write_text(bn.read_text(encoding="utf-8").replace("분산으로 나눕니다.", "표준편차로 나눕니다."), encoding="utf-8")


def test_after_the_serve_warm_up_the_first_edit_does_not_load_kiwi(tmp_path, loads):
    with _project(tmp_path) as project:
        loads.clear()
        config = _config(project)  # what `mkdocs serve` does: startup, a build, on_serve, rebuilds
        config.plugins.on_startup(command="serve", dirty=False)
        try:
            build(config)
            assert loads == []  # a warm cache: the first build loads nothing
            config.plugins.on_serve(object(), config=config, builder=lambda config=None: None)
            _join_warm_ups()
            analyzer = config.plugins["kb"].analyzer
            _edit(project)
            build(_config(project))  # the rebuild after the saved edit
            assert config.plugins["kb"].analyzer is analyzer and analyzer.analysed >= 1
        finally:
            config.plugins.on_shutdown()
    assert loads == [search_ko.WARM_UP_THREAD]  # loaded once, in the background, not by the rebuild


def test_a_one_shot_build_never_starts_the_warm_up(tmp_path, loads):
    with _project(tmp_path) as project:
        loads.clear()
        _one_shot_build(project)  # warm: nothing to analyse
        _edit(project)
        config = _one_shot_build(project)  # analyses the edit: loads Kiwi itself, in this thread
        assert config.plugins["kb"].analyzer.analysed >= 1
        assert _warm_up_threads() == []
    assert loads == ["MainThread"]
