"""What each proof on a page covers: 흔한 실수 sections and a badge under every tested snippet block.

Two things are written into a page's Markdown at build time (called from kb/plugin.py's
``on_page_markdown``):

* ``<!-- kb:mistakes snippets/qna/adagrad.py -->`` on a line of its own becomes the snippet's
  mistake catalogue (kb/mistakes.py), as "predict the failure" exercises: each mistake is a folded
  ``<details class="question">`` whose summary asks which check fails; opened, it shows the changed
  line, diff-style, and, folded again, the answer: the check that caught the mistake and what it printed. The output comes from running the changed section in a
  warm :class:`kb.runner.BlockRunner`, cached in ``.cache/kb-mistakes/<key>.json`` where the key
  hashes the changed code, the check lines, torch and Python versions, kb/mistakes.py and the
  runner's source (a stale output cannot be shown; tests/test_mistakes.py reads and fills the
  same cache). A mistake that its check does not catch fails the build.
* Under every ``python title="snippets/...py"`` block that includes a section
  (``--8<-- "snippets/x.py:name"``), a badge: what the section's checks compare against (the
  catalogue's ``proofs``), the torch version, the devices it ran on and when. The build claims the
  device it runs on (``KB_EXEC_DEVICE``, CPU by default) only when it executes the blocks
  (``KB_EXECUTE`` is not 0). CUDA is claimed only from a results file that a CUDA test run wrote
  (``pytest --device cuda`` -> ``proofs/cuda.json``, or ``$KB_PROOFS_CUDA``), and only for a
  section whose code still hashes to the recorded value.

Every text that reaches HTML is escaped with :func:`kb.safety.esc`.
"""

from __future__ import annotations

import atexit
import datetime as dt
import functools
import hashlib
import json
import os
import platform
import re
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from . import mistakes
from .exec_cache import torch_version
from .render import MarkerError
from .safety import esc

ROOT = Path(__file__).resolve().parent.parent
FORMAT = "1"  # of the CUDA results file
CACHE_FORMAT = "2"  # of a cached mistake run: bump when its layout or meaning changes
CUDA_RESULTS = ROOT / "proofs" / "cuda.json"
MISTAKES_RE = re.compile(r"^<!--\s*kb:mistakes\s+(\S+)\s*-->[ \t]*$", re.M)
INCLUDE_RE = re.compile(
    r'^(?P<fence>```+)python title="(?P<title>snippets/[^"]+\.py)"[ \t]*\n'
    r'--8<-- "(?P<file>snippets/[^":]+\.py):(?P<section>[A-Za-z0-9_-]+)"[ \t]*\n'
    r"(?P=fence)[ \t]*$",
    re.M,
)


class ProofError(MarkerError):
    """A marker or catalogue the build cannot use, or a mistake its check does not catch."""


def section_sha(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


# --- CUDA results: written by the CUDA test run, read by the build ------------------------------------


def cuda_results_path() -> Path:
    return Path(os.environ.get("KB_PROOFS_CUDA") or CUDA_RESULTS)


def read_results(path: Path) -> dict[str, dict]:
    """``{"snippets/x.py:section": {"sha256", "torch", "device", "when", "status"}}``; {} if absent."""
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ProofError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("results"), dict):
        raise ProofError(f"{path}: expected {{\"format\": \"{FORMAT}\", \"results\": {{...}}}}")
    return data["results"]


def record_results(path: Path, entries: dict[str, dict]) -> None:
    """Merge ``entries`` into the results file (atomically: a reader never sees half a file)."""
    results = read_results(path)
    results.update(entries)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump({"format": FORMAT, "results": dict(sorted(results.items()))}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def result_entry(code: str, device_name: str, status: str = "passed") -> dict:
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    return {"sha256": section_sha(code), "torch": torch_version(), "device": device_name,
            "when": now.isoformat().replace("+00:00", "Z"), "status": status}


# --- the badge ----------------------------------------------------------------------------------


@dataclass
class BuildInfo:
    """What this build can claim by itself: the device it runs the blocks on, if it runs them."""

    device: str  # "cpu" or "cuda"
    executes: bool
    date: str  # YYYY-MM-DD, UTC

    @classmethod
    def from_env(cls) -> BuildInfo:
        return cls(device=os.environ.get("KB_EXEC_DEVICE", "cpu"), executes=os.environ.get("KB_EXECUTE", "1") != "0",
                   date=dt.datetime.now(dt.timezone.utc).date().isoformat())


def badge_html(snippet: str, section: str, code: str, proof: mistakes.Proof, build: BuildInfo,
               cuda: dict[str, dict]) -> str:
    """One line under a tested block: checked against what, torch version, devices and when."""
    ran = []
    if build.executes:
        ran.append(f"{build.device.upper()} (이 빌드에서 실행, {build.date})")
    record = cuda.get(f"{snippet}:{section}")
    cuda_ok = (record is not None and record.get("status") == "passed" and record.get("sha256") == section_sha(code))
    if cuda_ok and not (build.executes and build.device == "cuda"):
        when = str(record.get("when", ""))[:10]
        ran.append(f"CUDA ({record.get('device', 'GPU')}, torch {record.get('torch', '?')}, {when} 테스트 기록)")
    if not any(r.startswith("CUDA") for r in ran):
        ran.append("CUDA 기록 없음" if build.executes else "이 빌드에서는 실행하지 않음, CUDA 기록 없음")
    parts = [
        f'<span class="kb-proof__against">검증 기준: {esc(mistakes.AGAINST[proof.against])}</span> '
        f"— {esc(proof.what)}",
        f"torch {esc(torch_version())}",
        " · ".join(esc(r) for r in ran),
    ]
    return (f'<p class="kb-proof" data-kb-proof="{esc(snippet)}:{esc(section)}" '
            f'data-kb-cuda="{"yes" if cuda_ok else "no"}">' + " · ".join(parts) + "</p>")


# --- mistakes: run (cached) and render ----------------------------------------------------------------


class _Runner:
    """One warm CPU worker for the build's mistakes, started on the first cache miss (by one
    thread: the mistakes of a catalogue run side by side through it)."""

    runner = None
    lock = threading.Lock()

    @classmethod
    def get(cls):
        with cls.lock:
            if cls.runner is None:
                from .runner import BlockRunner

                runner = BlockRunner("cpu")
                runner.start()
                cls.runner = runner
                atexit.register(cls.close)
            return cls.runner

    @classmethod
    def close(cls):
        if cls.runner is not None:
            cls.runner.close()
            cls.runner = None


def cache_dir() -> Path:
    return Path(os.environ.get("KB_MISTAKES_CACHE") or ROOT / ".cache" / "kb-mistakes")


@functools.cache
def machinery_version() -> str:
    """A hash of the code that decides whether a mistake is caught (kb/mistakes.py and the block
    runner, kb/runner/): a cached run stands for a run only while that code is the same."""
    h = hashlib.sha256()
    for path in [ROOT / "kb" / "mistakes.py", *sorted((ROOT / "kb" / "runner").glob("*.py"))]:
        h.update(path.name.encode("utf-8") + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def _key(mutant: mistakes.Mutant) -> str:
    h = hashlib.sha256()
    for part in (CACHE_FORMAT, machinery_version(), torch_version(), platform.python_version(), mutant.code,
                 ",".join(map(str, mutant.check_lines)), ",".join(map(str, mutant.line_numbers))):
        h.update(part.encode("utf-8") + b"\0")
    return h.hexdigest()[:32]


def _exception_text(traceback_text: str, error: str) -> str:
    """The exception's own message (all its lines), without the frames above it."""
    lines = traceback_text.rstrip().split("\n")
    frames = [i for i, line in enumerate(lines) if line.startswith("  File ")]
    if not frames:
        return error
    j = frames[-1] + 1
    while j < len(lines) and lines[j].startswith("    "):  # the frame's source line and its ^^^ marks
        j += 1
    return "\n".join(lines[j:]).strip() or error


def caught_output(mistake: mistakes.Mistake, root: Path = ROOT, get_runner=None) -> dict:
    """Run the mistake (or read its cached run): the failing line and what the check printed.

    Raises :class:`ProofError` when the check does not catch it. ``get_runner``: called on a
    cache miss for a started BlockRunner (the build's own warm CPU worker by default). The cache is shared with
    tests/test_mistakes.py: a mistake the build ran is not run again by the test, and the other
    way round; an entry exists only for a caught mistake, and its key holds everything the run
    depends on (the changed code, its check lines, torch, Python, kb/mistakes.py, the runner)."""
    with tempfile.TemporaryDirectory(prefix="kb-mistake-") as tmp:
        mutant = mistakes.mutate(mistake, root, Path(tmp))
    key = _key(mutant)
    path = cache_dir() / f"{key}.json"
    if path.is_file():
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass  # damaged: run it again
    outcome = mistakes.run(mistake, (get_runner or _Runner.get)(), root)
    if not outcome.caught:
        raise ProofError(outcome.verdict() + "\n" + outcome.result.report())
    data = {"changed": outcome.mutant.changed, "line": outcome.failed_line,
            "check": outcome.mutant.text.split("\n")[outcome.failed_line - 1].strip(),
            "printed": _exception_text(outcome.result.traceback, outcome.result.error)}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False)
    os.replace(tmp, path)
    return data


def _caught_side_by_side(items: list[mistakes.Mistake], root: Path) -> list[dict]:
    """:func:`caught_output` of each mistake, in order, run side by side as the page blocks are
    (``$KB_BLOCK_JOBS``, else the CPUs, at most 4; each mistake alone in its own process, through the
    one warm runner); the first one its check misses raises, in catalogue order."""
    from concurrent.futures import ThreadPoolExecutor

    from .runner.pool import jobs_from_env
    from .runner.runner import threads_from_env

    jobs = min(len(items), jobs_from_env(threads_from_env()))
    if jobs <= 1:
        return [caught_output(m, root) for m in items]
    with ThreadPoolExecutor(jobs, thread_name_prefix="kb-mistake") as pool:
        return list(pool.map(lambda m: caught_output(m, root), items))


def _pre(text: str, cls: str) -> str:
    # newlines as &#10;: the whole block stays on one Markdown line, so no Markdown rule touches it
    return f'<pre class="{cls}"><code>' + esc(text).replace("\n", "&#10;") + "</code></pre>"


def _diff(changed: list) -> str:
    css = {"-": "kb-diff__del", "+": "kb-diff__add"}
    rows = [f'<span class="{css[sign]}">{sign} {line:>4}  {esc(text)}</span>' for sign, line, text in changed]
    return '<pre class="kb-diff"><code>' + "&#10;".join(rows) + "</code></pre>"


# What the build writes for a snippet is the same on every page that shows it while the snippet
# and its catalogue are unchanged; a build (and every rebuild of `mkdocs serve`) makes it once.
_MEMO: dict[tuple, object] = {}


def _memo(key: tuple, make):
    if key not in _MEMO:
        _MEMO[key] = make()
    return _MEMO[key]


def mistakes_html(snippet: str, build: BuildInfo, root: Path = ROOT) -> str:
    path = root / snippet
    key = ("mistakes", mistakes.file_state(path, mistakes.catalogue_path(path)), str(root), build.executes,
           torch_version())
    return _memo(key, lambda: _mistakes_html(snippet, build, root))


def _sections(path: Path, root: Path) -> dict[str, str]:
    from .blocks import snippet_sections

    return _memo(("sections", mistakes.file_state(path), str(root)),
                 lambda: {s.name: s.code for s in snippet_sections(path, root)})


def _mistakes_html(snippet: str, build: BuildInfo, root: Path = ROOT) -> str:
    """Each mistake as a "predict the failure" exercise: folded, the question first (which check fails?);
    opened, the change as a diff, and folded under it the answer (the check that caught it, what it printed)."""
    cat = mistakes.load(root / snippet, root)
    caught = _caught_side_by_side(cat.mistakes, root) if build.executes else []
    items = []
    for i, m in enumerate(cat.mistakes):
        question = (f'<summary class="kb-mistake__title"><strong>{esc(m.title)}</strong> '
                    f"<code>{esc(m.name)}</code> · 구간 <code>{esc(m.section)}</code> — "
                    f"이 실수를 넣으면 어느 검사가 실패할까요?</summary>")
        why = f'<p class="kb-mistake__why">{esc(m.why)}</p>' if m.why else ""
        if build.executes:
            out = caught[i]
            change = _diff(out["changed"])
            answer = (f'<p class="kb-mistake__caught">잡아낸 검사 ({out["line"]}행): '
                      f'<code>{esc(out["check"])}</code></p>'
                      + _pre(out["printed"], "kb-mistake__output") + why)
        else:
            with tempfile.TemporaryDirectory(prefix="kb-mistake-") as tmp:
                mutant = mistakes.mutate(m, root, Path(tmp))
            change = _diff(mutant.changed)
            answer = ('<p class="kb-mistake__caught">이 빌드는 코드를 실행하지 않아(KB_EXECUTE=0) 검사 출력이 없습니다.</p>'
                      + why)
        prompt = '<p class="kb-mistake__prompt">바뀐 줄을 보고 어느 줄의 검사가 무엇을 출력하며 실패할지 예측한 뒤 답을 펼쳐 보세요.</p>'
        items.append(f'<details class="question kb-mistake" data-kb-mistake="{esc(m.name)}">{question}'
                     f'{change}{prompt}<details class="success kb-mistake__answer"><summary>답: 잡아낸 검사</summary>'
                     f"{answer}</details></details>")
    head = (f'<p class="kb-mistakes__file"><code>{esc(snippet)}</code>에 넣어 본 실수 {len(items)}가지 '
            f"(줄 번호는 이 파일의 줄). 하나씩 펼쳐, 답을 보기 전에 먼저 예측해 보세요.</p>")
    return (f'<div class="kb-mistakes" data-kb-snippet="{esc(snippet)}">' + head
            + "".join(items) + "</div>")


# --- the page -----------------------------------------------------------------------------------


def expand(src: str, markdown: str, root: Path = ROOT, build: BuildInfo | None = None,
           cuda: dict[str, dict] | None = None) -> str:
    """Expand ``<!-- kb:mistakes FILE -->`` markers and add a badge under every included snippet section."""
    build = build or BuildInfo.from_env()

    def where(pos: int) -> str:
        return f"docs/{src}:{markdown[:pos].count(chr(10)) + 1}"

    def mistakes_block(m: re.Match[str]) -> str:
        snippet = m.group(1)
        if not (root / snippet).is_file() or not snippet.startswith("snippets/"):
            raise ProofError(f"{where(m.start())}: kb:mistakes names {snippet!r}, not a snippet file")
        try:
            return "\n" + mistakes_html(snippet, build, root) + "\n"
        except mistakes.CatalogueError as exc:
            raise ProofError(f"{where(m.start())}: {exc}") from None

    markdown = MISTAKES_RE.sub(mistakes_block, markdown)
    if cuda is None:
        cuda = read_results(cuda_results_path())

    def badge(m: re.Match[str]) -> str:
        snippet, section = m.group("file"), m.group("section")
        path = root / snippet
        if not path.is_file():
            return m.group(0)  # pymdownx.snippets (check_paths) reports the missing file
        try:
            proof = mistakes.load(path, root).proofs.get(section)
        except mistakes.CatalogueError as exc:
            raise ProofError(f"{where(m.start())}: {exc}") from None
        if proof is None:
            raise ProofError(f"{where(m.start())}: {mistakes.catalogue_path(path).relative_to(root)} "
                             f"has no proofs.{section} (what the section's checks compare against)")
        code = _sections(path, root).get(section)
        if code is None:
            return m.group(0)
        return m.group(0) + "\n\n" + badge_html(snippet, section, code, proof, build, cuda) + "\n"

    return INCLUDE_RE.sub(badge, markdown)


def close() -> None:
    _Runner.close()
