"""The search analysis cache (kb/search_ko.py): a rebuild analyses only what changed.

Speed is measured by ``make bench`` (benchmarks/bench_build.py); these tests count analyser calls and
check where each entry's terms come from.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kb import search_index, search_ko, search_words

ROOT = Path(__file__).resolve().parent.parent
SEPARATOR = r"[\s\-]+"
TEXTS = {
    "a/": "<p>교차 검증에서 k-겹을 나눕니다.</p>",
    "b/": "<p>배치 정규화 층은 평균과 분산으로 정규화합니다.</p>",
    "c/": "<p>아다그라드는 기울기 제곱을 누적합니다.</p>",
}


_KIWIS: dict[tuple, object] = {}


@pytest.fixture(autouse=True)
def one_kiwi_per_word_list(monkeypatch):
    """The in-process builds below share one loaded Kiwi per list of user words (a load costs about
    2 s of CPU, and these tests make ten analysers). Whether an analyser loads Kiwi at all is still
    seen: ``_kiwi`` stays None until an entry misses the cache."""
    real = search_ko.load_kiwi

    def load():
        words = tuple(search_ko.USER_WORDS)
        if words not in _KIWIS:
            _KIWIS[words] = real()
        return _KIWIS[words]

    monkeypatch.setattr(search_ko, "load_kiwi", load)


def _index(texts: dict[str, str]) -> dict:
    docs = [{"location": loc, "title": f"제목 {loc}", "text": text} for loc, text in texts.items()]
    return {"config": {"separator": SEPARATOR, "fields": {"title": {}, "text": {}, search_words.FIELD: {}, search_words.NAMES_FIELD: {}}}, "docs": docs}


def _build(cache: Path, texts: dict[str, str]) -> tuple[search_ko.Analyzer, dict]:
    """One build as a fresh process sees it: a new analyzer reading the cache folder."""
    analyzer = search_ko.Analyzer(SEPARATOR, cache)
    analyzer.cache.begin()
    index = search_index.add_field(_index(texts), analyzer, lambda location: location)
    analyzer.cache.save()
    return analyzer, index


def _morph(index: dict) -> dict[str, str]:
    return {d["location"]: d.get(search_words.FIELD, "") for d in index["docs"]}


def _names(index: dict) -> dict[str, str]:
    return {d["location"]: d.get(search_words.NAMES_FIELD, "") for d in index["docs"]}


def test_a_warm_rebuild_analyses_only_the_changed_entry(tmp_path):
    cold, _ = _build(tmp_path, TEXTS)
    assert (cold.analysed, cold.hits) == (3, 0)

    warm, _ = _build(tmp_path, TEXTS)
    assert (warm.analysed, warm.hits) == (0, 3)
    assert warm._kiwi is None  # nothing to analyse: Kiwi was never loaded

    edited = {**TEXTS, "b/": "<p>가중치 감쇠는 과적합을 줄입니다.</p>"}
    after_edit, index = _build(tmp_path, edited)
    assert (after_edit.analysed, after_edit.hits) == (1, 2)
    uncached = search_index.add_field(_index(edited), search_ko.Analyzer(SEPARATOR), lambda location: location)
    assert _morph(index) == _morph(uncached) and _names(index) == _names(uncached)


def test_an_unchanged_entry_comes_from_the_cache(tmp_path):
    _, first = _build(tmp_path, TEXTS)
    (cache_file,) = tmp_path.glob("terms-*.json")
    entries = json.loads(cache_file.read_text(encoding="utf-8"))
    # one value per entry: its morphemes and its names, tab-separated
    assert sorted(entries.values()) == sorted(f"{m}\t{n}" for m, n in zip(_morph(first).values(), _names(first).values()))
    # mark every cached value: an entry served from the cache carries the mark
    marked = {k: v.replace("\t", " 캐시표시\t", 1) for k, v in entries.items()}
    cache_file.write_text(json.dumps(marked, ensure_ascii=False), encoding="utf-8")
    warm, second = _build(tmp_path, TEXTS)
    assert warm.analysed == 0
    assert _morph(second) == {loc: f"{v} 캐시표시" for loc, v in _morph(first).items()}


def test_the_cache_keeps_only_what_the_last_build_used(tmp_path):
    _build(tmp_path, TEXTS)
    _build(tmp_path, {"a/": TEXTS["a/"]})
    (cache_file,) = tmp_path.glob("terms-*.json")
    assert len(json.loads(cache_file.read_text(encoding="utf-8"))) == 1
    again, _ = _build(tmp_path, TEXTS)
    assert (again.analysed, again.hits) == (2, 1)


def test_another_analyser_version_does_not_read_the_cache(tmp_path, monkeypatch):
    _build(tmp_path, TEXTS)
    monkeypatch.setattr(search_ko, "USER_WORDS", (*search_ko.USER_WORDS, "새단어"))
    changed, _ = _build(tmp_path, TEXTS)
    assert changed.analysed == 3
    assert len(list(tmp_path.glob("terms-*.json"))) == 1  # the old version's file is removed


def test_a_damaged_cache_is_analysed_again_and_rewritten(tmp_path, caplog):
    _build(tmp_path, TEXTS)
    (cache_file,) = tmp_path.glob("terms-*.json")
    cache_file.write_text('{"half": ', encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger=search_ko.log.name):
        again, _ = _build(tmp_path, TEXTS)
    assert again.analysed == 3
    assert str(cache_file) in caplog.text and "unreadable search cache" in caplog.text
    assert len(json.loads(cache_file.read_text(encoding="utf-8"))) == 3


# --- through MkDocs: each build a fresh `mkdocs build` process ---------------------------

ANALYSED = re.compile(r"kb search: analysed (\d+) entries, (\d+) from the cache")


def _site(project: Path) -> None:
    (project / "docs").mkdir(parents=True)
    (project / "mkdocs.yml").write_text(textwrap.dedent(f"""\
        site_name: t
        theme: {{name: material, language: ko}}
        plugins:
          - search:
              separator: '{SEPARATOR}'
              fields: {{{search_words.FIELD}: {{boost: 1.0}}, {search_words.NAMES_FIELD}: {{boost: 1.0}}}}
          - kb
        """), encoding="utf-8")
    (project / "docs" / "index.md").write_text("# 홈\n\n교차 검증에서 k-겹을 나눕니다.\n", encoding="utf-8")
    (project / "docs" / "bn.md").write_text(
        "# 배치 정규화\n\n## 평균\n\n배치마다 평균을 구합니다.\n\n## 분산\n\n분산으로 나눕니다.\n", encoding="utf-8")


def _mkdocs_build(project: Path) -> tuple[int, int]:
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    env.pop(search_ko.CACHE_ENV, None)
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict"], cwd=project, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    found = ANALYSED.findall(result.stderr)
    assert len(found) == 1, result.stderr
    return tuple(map(int, found[0]))


def test_mkdocs_rebuilds_analyse_only_the_edited_page(tmp_path):
    _site(tmp_path)
    analysed, hits = _mkdocs_build(tmp_path)
    index = json.loads((tmp_path / "site" / "search" / "search_index.json").read_text(encoding="utf-8"))
    assert (analysed, hits) == (len(index["docs"]), 0) and analysed >= 4
    assert list((tmp_path / ".cache" / "kb-search").glob("terms-*.json"))
    assert _mkdocs_build(tmp_path) == (0, analysed)  # nothing changed: all from the cache
    bn = tmp_path / "docs" / "bn.md"
    bn.write_text(bn.read_text(encoding="utf-8").replace("분산으로 나눕니다.", "표준편차로 나눕니다."),
                  encoding="utf-8")
    rebuilt = _mkdocs_build(tmp_path)
    index = json.loads((tmp_path / "site" / "search" / "search_index.json").read_text(encoding="utf-8"))
    edited = [d for d in index["docs"] if "표준편차" in d["text"]]
    assert len(edited) >= 1
    assert rebuilt == (len(edited), analysed - len(edited))  # only the entries holding the edit
