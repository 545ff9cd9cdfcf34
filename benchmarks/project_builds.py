"""A temporary copy of the project with generated pages, and timed builds of it, for the benchmarks.

:func:`copy_project` copies the project's sources (and, asked, its caches) into a folder;
:func:`generate_pages` writes meetings and Q&A pages into it (copies of the site's own, titled and
dated apart, a different paragraph of the site's prose under each section heading);
:func:`write_noplugin_config` writes the baseline config (the ``kb`` plugin off); :func:`edit_page`
saves an edit. :func:`process_build` times a fresh ``mkdocs build`` process and its peak memory;
:func:`start_serve` and :func:`inprocess_build` build in this process as ``mkdocs serve`` does.
benchmarks/bench_build.py and the other benchmarks (bench_serve_edit, bench_cold_build, bench_search,
bench_page_weight, bench_first_search) build on these.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
COPIED = ["mkdocs.yml", "docs", "kb", "snippets", "overrides"]
NOPLUGIN = "mkdocs-noplugin.yml"
MEETING = "meetings/2021-08-10.md"


# --- the generated archive ----------------------------------------------------------------


def paragraphs(docs: Path) -> list[str]:
    """Prose paragraphs of the site's pages: no front matter, code, math, includes or markup blocks."""
    out = []
    for md in sorted(docs.rglob("*.md")):
        text = md.read_text(encoding="utf-8")
        text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S)
        text = re.sub(r"^(```|~~~).*?^\1\s*$", "", text, flags=re.S | re.M)
        for para in re.split(r"\n\s*\n", text):
            para = para.strip()
            if len(para) < 40 or re.search(r"[$`<>|\[\]{}#!=:*_\\]|--8<--|^\s*[-\d]", para):
                continue
            out.append(" ".join(para.split()))
    return out


def _front_matter(text: str) -> tuple[dict, str]:
    m = re.match(r"\A---\n(.*?)\n---\n", text, re.S)
    if m is None:
        raise SystemExit("a page to copy has no front matter")
    return yaml.safe_load(m.group(1)), text[m.end():]


def _vary(body: str, rng: random.Random, prose: list[str]) -> str:
    """``body`` with a paragraph of ``prose`` under every ``## `` heading outside code fences."""
    out, fence = [], None
    for line in body.split("\n"):
        out.append(line)
        marker = re.match(r"^\s*(```|~~~)", line)
        if marker:
            fence = None if fence == marker.group(1) else (fence or marker.group(1))
        elif fence is None and line.startswith("## "):
            out += ["", rng.choice(prose)]
    return "\n".join(out)


def _write_page(path: Path, meta: dict, body: str) -> None:
    head = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)
    path.write_text(f"---\n{head}---\n{body}", encoding="utf-8")


def generate_pages(project: Path, count: int, seed: int = 0) -> list[str]:
    """Write ``count`` pages into ``project/docs``: meetings ``meetings/gen-NNN.md``, each followed
    by a copy of every Q&A page ``qna/gen-NNN-<name>.md`` that names it. Returns their paths."""
    docs = project / "docs"
    rng = random.Random(seed)
    prose = paragraphs(docs)
    meeting_meta, meeting_body = _front_matter((docs / MEETING).read_text(encoding="utf-8"))
    questions = [(p.stem, *_front_matter(p.read_text(encoding="utf-8")))
                 for p in sorted((docs / "qna").glob("*.md")) if p.name != "index.md"]
    written: list[str] = []
    k = 0
    while len(written) < count:
        meeting = f"meetings/gen-{k:03d}.md"
        date = dt.date(2022, 1, 3) + dt.timedelta(days=k)
        meta = {**meeting_meta, "title": f"{date:%m/%d} 회의록 (생성 {k})", "date": date}
        _write_page(docs / meeting, meta, _vary(meeting_body, rng, prose))
        written.append(meeting)
        for stem, meta, body in questions[: count - len(written)]:
            src = f"qna/gen-{k:03d}-{stem}.md"
            _write_page(docs / src, {**meta, "title": f"{meta['title']} (생성 {k})", "meeting": meeting},
                        _vary(body, rng, prose))
            written.append(src)
        k += 1
    return written


def copy_project(dest: Path, caches: bool = False) -> Path:
    """A copy of the project's sources in ``dest`` (with ``caches``: its .cache too)."""
    dest.mkdir(parents=True)
    for name in COPIED + ([".cache"] if caches else []):
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.lock"))
        elif src.exists():
            shutil.copy2(src, dest / name)
    return dest


def write_noplugin_config(project: Path) -> Path:
    """The baseline config: no kb plugin, the navigation it would generate, notebooks not run."""
    sys.path.insert(0, str(project))
    try:
        from kb.nav import generate
        from mkdocs.utils.yaml import yaml_load
    finally:
        sys.path.remove(str(project))
    config = yaml_load((project / "mkdocs.yml").read_text(encoding="utf-8"))  # with its !ENV tags
    config["plugins"] = [p for p in config["plugins"] if p != "kb"]
    config["strict"] = False
    config["nav"] = generate(config["nav"], project / "docs")
    for plugin in config["plugins"]:
        if isinstance(plugin, dict) and "mkdocs-jupyter" in plugin:
            plugin["mkdocs-jupyter"]["execute"] = False
    path = project / NOPLUGIN
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def edit_page(project: Path, src: str, n: int) -> None:
    page = project / "docs" / src
    page.write_text(page.read_text(encoding="utf-8") + f"\n편집 {n}: 한 문장을 더했습니다.\n", encoding="utf-8")


# --- builds -------------------------------------------------------------------------------


def _env() -> dict[str, str]:
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", KB_EXECUTE="1")
    for name in ("KB_EXEC_CACHE", "KB_SEARCH_CACHE", "KB_EXEC_DEVICE"):
        env.pop(name, None)
    return env


@dataclass
class Timing:
    wall: float  # seconds
    cpu: float  # CPU seconds, user + system


# Runs `mkdocs` and, at exit, writes the process's own peak RSS (VmHWM, kB) to argv[1]. The
# rusage of a child cannot say it: its ru_maxrss also counts the bench's own memory, which the
# child shares between fork and exec (hundreds of MB once Kiwi is loaded in-process).
_PEAK_WRAPPER = """\
import atexit, runpy, sys
out = sys.argv.pop(1)
def peak():
    with open("/proc/self/status") as f:
        kb = next((line.split()[1] for line in f if line.startswith("VmHWM:")), "0")
    with open(out, "w") as f:
        f.write(kb)
atexit.register(peak)
sys.argv[0] = "mkdocs"
runpy.run_module("mkdocs", run_name="__main__", alter_sys=True)
"""


def process_build(project: Path, config: str = "mkdocs.yml") -> tuple[Timing, float]:
    """A fresh ``mkdocs build`` process: (its timing, peak RSS of that process in MB)."""
    peak_file = project / "build.peak"
    peak_file.unlink(missing_ok=True)
    linux = Path("/proc/self/status").is_file()
    start_args = [sys.executable, "-c", _PEAK_WRAPPER, str(peak_file)] if linux else [sys.executable, "-m", "mkdocs"]
    args = start_args + ["build", "-q", "-f", config, "--site-dir", str(project / "site")]
    log = project / "build.log"
    start = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.Popen(args, cwd=project, env=_env(), stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{project}: mkdocs build -f {config} failed:\n{log.read_text()[-3000:]}")
    peak_mb = int(peak_file.read_text()) / 1024 if linux else usage.ru_maxrss / 1024
    return Timing(seconds, usage.ru_utime + usage.ru_stime), peak_mb


@contextmanager
def _in(project: Path):
    """Environment and working folder of a build of ``project`` in this process."""
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    os.environ.clear()
    os.environ.update(_env())
    os.chdir(project)  # mkdocs-jupyter's cache folder is relative to it
    try:
        yield
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def start_serve(project: Path, dirty: bool = False) -> None:
    """What `mkdocs serve` does once before its first build: the plugins' ``on_startup('serve')``
    (the kb plugin then keeps its serve caches, kb/incremental.py). Plugin instances are kept by
    MkDocs for the whole process, so every later in-process build of any config is a serve build."""
    from mkdocs.config import load_config

    with _in(project):
        load_config(str(project / "mkdocs.yml"), site_dir=str(project / "site")).plugins.on_startup(
            command="serve", dirty=dirty)


def inprocess_build(project: Path, config: str = "mkdocs.yml", dirty: bool = False, site: str = "site") -> Timing:
    """A build in this process, as ``mkdocs serve`` rebuilds: config loaded again, the kb plugin kept
    (``dirty``: as ``mkdocs serve --dirty`` rebuilds, which ``make serve`` runs), into ``project/site``."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    with _in(project):
        start, cpu = time.perf_counter(), _cpu()
        build(load_config(str(project / config), site_dir=str(project / site)), dirty=dirty)
        return Timing(time.perf_counter() - start, _cpu() - cpu)
