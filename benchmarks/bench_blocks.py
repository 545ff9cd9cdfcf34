"""Benchmark of the block runner: `make bench` (python -m benchmarks.bench_blocks [--snippets] [--device ...]).

The site's real Python blocks (every runnable block of the built site, as the copy button copies
it; ``--snippets`` adds every snippet file and section) run four ways (six: below), each way's blocks back to
back, as a build runs them, one way after the other; which way goes first rotates from round to
round. (Earlier versions interleaved the ways block by block: the runner's worker then did its
preload, and later its forks ahead and its blocks' exits, during the other ways' blocks, on the
other core: hidden from the runner's time. That flattered the runner by about 10 %.)

* runner: kb.runner's BlockRunner, one fresh process per block forked by its forkserver (what the
  build and the tests use; the forkserver is started afresh for each round, its imports counted);
* in-process: one Python process that ``exec``s each block with fresh globals, one after
  another, as pytest-codeblocks does (no isolation: process-wide state leaks between blocks);
* subprocess: ``python file.py`` per block, a fresh interpreter each time;
* pytest-codeblocks: the plugin itself (``pytest --codeblocks`` on a Markdown file of the same
  blocks), the tool a user would pick to run a page's blocks: one process, each block ``exec``'d
  under pytest's collection, capture and reporting.

On a machine with more than one CPU (``$KB_BLOCK_JOBS``, else the CPUs, at most 4: N), two more:

* runner, N at once: every block handed at once to a kb.runner.BlockPool running N, as the
  build does; each block still alone in its process;
* pytest-codeblocks -n N: the same plugin spread over N pytest-xdist processes, what a user would
  pick to use N CPUs (blocks in the same process share its state).

Each total counts its own start-up (the worker's imports, the in-process interpreter, every
subprocess's interpreter). CPU is user + system time of the processes involved, children
included. All four use the same torch/BLAS threads (``$KB_BLOCK_THREADS``, default 1), so only
the process model differs. Ratios: runner / in-process (target: at most 1), runner /
pytest-codeblocks and subprocess / runner.

A shared machine's noise is larger than the difference between the first two (one block's time
varies by 20 % from run to run), so they run ``--rounds`` times (default 3), each round with a
fresh worker and a fresh interpreter, and the medians of the totals are compared; the subprocess
way, six times slower, runs in the first round only. A round's runner CPU is read after one more
block, so that the last block's process (the worker does not wait for its exit) is counted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kb.blocks import site_pages, snippet_files, snippet_sections
from kb.runner import THREAD_VARIABLES, BlockPool, BlockRunner, jobs_from_env, threads_from_env

TICK = os.sysconf("SC_CLK_TCK")

# The in-process way: one interpreter, each block exec'd with fresh globals in turn (pytest-codeblocks).
IN_PROCESS = textwrap.dedent('''\
    import contextlib, io, json, os, sys, tempfile, time, traceback
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    print(json.dumps({"ready": True}), file=proto)
    for line in sys.stdin:
        job = json.loads(line)
        out = tempfile.mkdtemp()
        os.environ["SNIPPET_OUTPUT_DIR"] = out
        t0 = time.perf_counter()
        ok, error = True, ""
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            try:
                exec(compile(job["code"], job["filename"], "exec"), {"__name__": "__main__"})
            except BaseException as exc:
                ok, error = False, traceback.format_exception_only(type(exc), exc)[-1].strip()
        print(json.dumps({"ok": ok, "error": error, "wall": time.perf_counter() - t0}), file=proto)
    ''')


@dataclass
class Way:
    name: str
    startup: float = 0.0
    walls: list[float] = field(default_factory=list)
    cpu: float = 0.0
    failed: list[str] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return self.startup + sum(self.walls)


def proc_cpu(pid: int) -> float:
    """User + system seconds of ``pid`` and of its reaped children, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / TICK  # utime stime cutime cstime


def collect_jobs(site: Path, snippets: bool) -> list[tuple[str, str]]:
    """(label, code) for every runnable page block, and with ``snippets`` every snippet file and section."""
    jobs = []
    for page in site_pages(site, ROOT / "docs", ROOT):
        for block in page.blocks:
            if block.plan("cpu")[0] == "run":  # not skipped, not a block that needs CUDA
                jobs.append((f"<{page.name} block {block.index}>", block.code))
    if snippets:
        for path in snippet_files(ROOT):
            rel = path.relative_to(ROOT).as_posix()
            jobs.append((rel, path.read_text(encoding="utf-8")))
            jobs += [(f"{rel}:{s.name}", s.code) for s in snippet_sections(path, ROOT)]
    return jobs


def build(site_dir: Path) -> None:
    """The site without running its blocks (only the blocks' code is needed here)."""
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", KB_EXECUTE="0")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--site-dir", str(site_dir)],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit("mkdocs build failed:\n" + done.stderr[-3000:])


class InProcess:
    def __init__(self, env: dict[str, str]):
        t0 = time.perf_counter()
        self.proc = subprocess.Popen([sys.executable, "-c", IN_PROCESS], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=env, cwd=tempfile.mkdtemp())
        assert json.loads(self.proc.stdout.readline())["ready"]
        self.startup = time.perf_counter() - t0

    def run(self, label: str, code: str) -> dict:
        self.proc.stdin.write(json.dumps({"code": code, "filename": label}) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> float:
        cpu = proc_cpu(self.proc.pid)
        self.proc.stdin.close()
        self.proc.wait()
        return cpu


def run_waited(args: list[str], cwd: str, env: dict[str, str], output: int) -> tuple[int, float, str]:
    """Run ``args`` to its end: (exit status, its CPU seconds, its output when ``output`` is PIPE)."""
    proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT)
    out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)  # wait4: the CPU time of this process alone
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.stdout:
        proc.stdout.close()
    return proc.returncode, usage.ru_utime + usage.ru_stime, out


def run_subprocess(code: str, env: dict[str, str]) -> tuple[bool, float]:
    """``python file.py`` in a fresh folder: (passed, CPU seconds)."""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "block.py").write_text(code, encoding="utf-8")
        status, cpu, _ = run_waited([sys.executable, "block.py"], tmp, dict(env, SNIPPET_OUTPUT_DIR=tmp),
                                    subprocess.DEVNULL)
    return status == 0, cpu


def fresh_forkserver() -> None:
    """Stop the forkserver, so that the next runner starts one and pays its imports, as a build does."""
    from multiprocessing import forkserver

    forkserver._forkserver._stop()


def forkserver_cpu() -> float:
    """CPU of the forkserver and of the blocks it forked (its reaped children) so far."""
    from multiprocessing import forkserver

    pid = forkserver._forkserver._forkserver_pid
    return proc_cpu(pid) if pid else 0.0


def run_codeblocks(jobs: list[tuple[str, str]], env: dict[str, str], parallel: int = 1) -> Way:
    """``pytest --codeblocks`` on one Markdown file holding every block, in a fresh folder; with
    ``parallel`` > 1 spread over that many pytest-xdist processes (``-n``)."""
    way = Way("pytest-codeblocks" + (f" -n {parallel}" if parallel > 1 else ""))
    with tempfile.TemporaryDirectory() as tmp:
        page = "\n".join(f"{label}\n\n```python\n{code}\n```\n" for label, code in jobs)
        (Path(tmp) / "blocks.md").write_text(page, encoding="utf-8")
        t0 = time.perf_counter()
        spread = ["-n", str(parallel)] if parallel > 1 else []
        status, way.cpu, out = run_waited([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                           "--codeblocks", *spread, "blocks.md"], tmp, dict(env, SNIPPET_OUTPUT_DIR=tmp),
                                          subprocess.PIPE)
        way.walls.append(time.perf_counter() - t0)
    if status != 0:
        way.failed.append(out.strip().splitlines()[-1] if out.strip() else f"exit status {status}")
    return way


def run_pool(device: str, jobs: list[tuple[str, str]], parallel: int) -> Way:
    """Every block handed at once to a :class:`BlockPool` of ``parallel`` workers, as the build
    does (its pages' blocks start while MkDocs reads the rest); wall time to the last result, each
    block's own time from its hand-over (queued blocks wait for a worker)."""
    way = Way(f"runner, {parallel} at once")
    fresh_forkserver()
    t0 = time.perf_counter()
    with BlockPool(device, jobs=parallel) as pool:
        futures = [pool.submit(code, filename=label) for label, code in jobs]
        for (label, _), future in zip(jobs, futures):
            result = future.result()
            if not result.ok:
                way.failed.append(label)
        way.walls.append(time.perf_counter() - t0)
        way.cpu = forkserver_cpu()
    return way


def bench_round(device: str, jobs: list[tuple[str, str]], subprocesses: bool, first: int) -> list[Way]:
    """One round: every block three ways (four with ``subprocesses``), each way's blocks back to
    back as a build runs them, each way with a fresh worker or interpreter; ``first`` rotates which
    way goes first from round to round, so that the drifting load of a shared machine falls on
    every way alike over the rounds."""
    runner_way, inproc_way, sub_way = Way("runner"), Way("in-process"), Way("subprocess")
    # the same torch/BLAS threads all ways, so that only the process model differs
    threads = threads_from_env()  # what BlockRunner uses
    env = dict(os.environ, MPLBACKEND="Agg", **{name: str(threads) for name in THREAD_VARIABLES})
    if device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""
    codeblocks = Way("pytest-codeblocks")

    def run_runner() -> None:
        fresh_forkserver()
        t0 = time.perf_counter()
        runner = BlockRunner(device)
        runner.start()
        runner_way.startup = time.perf_counter() - t0
        for label, code in jobs:
            t = time.perf_counter()
            result = runner.run(code, filename=label)
            runner_way.walls.append(time.perf_counter() - t)
            if not result.ok:
                runner_way.failed.append(label)
        runner_way.cpu = forkserver_cpu()
        runner.close()

    def run_in_process() -> None:
        inproc = InProcess(env)
        inproc_way.startup = inproc.startup
        for label, code in jobs:
            t = time.perf_counter()
            ok = inproc.run(label, code)["ok"]
            inproc_way.walls.append(time.perf_counter() - t)
            if not ok:
                inproc_way.failed.append(label)
        inproc_way.cpu = inproc.close()

    def run_codeblocks_way() -> None:
        nonlocal codeblocks
        codeblocks = run_codeblocks(jobs, env)

    def run_subprocesses() -> None:
        for label, code in jobs:
            t = time.perf_counter()
            ok, cpu = run_subprocess(code, env)
            sub_way.walls.append(time.perf_counter() - t)
            sub_way.cpu += cpu
            if not ok:
                sub_way.failed.append(label)

    parallel = jobs_from_env(threads)
    pool_way, codeblocks_n = Way(f"runner, {parallel} at once"), Way(f"pytest-codeblocks -n {parallel}")

    def run_pool_way() -> None:
        nonlocal pool_way
        pool_way = run_pool(device, jobs, parallel)

    def run_codeblocks_n() -> None:
        nonlocal codeblocks_n
        codeblocks_n = run_codeblocks(jobs, env, parallel)

    ways = [run_runner, run_in_process, run_codeblocks_way] + ([run_pool_way, run_codeblocks_n] if parallel > 1 else [])
    ways += [run_subprocesses] if subprocesses else []
    for way in ways[first % len(ways):] + ways[: first % len(ways)]:
        way()
    return [runner_way, inproc_way, codeblocks, sub_way, pool_way, codeblocks_n]


def median_way(rounds: list[Way]) -> Way:
    """The round with the median total wall time (its CPU, start-up and blocks go with it)."""
    return sorted(rounds, key=lambda way: way.wall)[len(rounds) // 2]


def report(device: str, jobs: list[tuple[str, str]], rounds: list[list[Way]]) -> None:
    runner, inproc, codeblocks, _, pool, codeblocks_n = (median_way([r[k] for r in rounds]) for k in range(6))
    sub = rounds[0][3]
    parallel = bool(pool.walls)
    print(f"\n[{device}] {len(jobs)} blocks; every way but subprocess: median of {len(rounds)} rounds, "
          "subprocess: the first round")
    print(f"  {'way':<24}{'wall s':>8}{'start-up s':>12}{'CPU s':>8}  failed   (every round's wall s)")
    shown = [(runner, 0), (inproc, 1), (codeblocks, 2), (sub, 3)] + ([(pool, 4), (codeblocks_n, 5)] if parallel else [])
    for way, k in shown:
        walls = " ".join(f"{r[k].wall:.1f}" for r in rounds if r[k].walls)
        print(f"  {way.name:<24}{way.wall:8.1f}{way.startup:12.1f}{way.cpu:8.1f}  {len(way.failed)}"
              + (f" ({', '.join(way.failed[:3])})" if way.failed else "") + f"   ({walls})")
    print(f"  runner / in-process          wall {runner.wall / inproc.wall:.2f}   CPU {runner.cpu / inproc.cpu:.2f}"
          "   (target: <= 1)")
    # each round's two ways ran minutes apart at most: their ratio drifts less than the totals do
    paired = sorted(r[0].wall / r[1].wall for r in rounds)
    paired_cpu = sorted(r[0].cpu / r[1].cpu for r in rounds)
    print(f"    the same, round by round   wall {' '.join(f'{x:.2f}' for x in paired)} (median "
          f"{statistics.median(paired):.2f}), CPU median {statistics.median(paired_cpu):.2f}")
    print(f"  runner / pytest-codeblocks   wall {runner.wall / codeblocks.wall:.2f}   "
          f"CPU {runner.cpu / codeblocks.cpu:.2f}")
    print(f"  subprocess / runner          wall {sub.wall / runner.wall:.2f}   CPU {sub.cpu / runner.cpu:.2f}")
    print(f"  runner without its start-up: {sum(runner.walls):.1f} s, "
          f"{1000 * sum(runner.walls) / len(jobs):.0f} ms per block")
    if parallel:  # what the build does: its blocks side by side, each still alone in its process
        paired = sorted(r[4].wall / r[1].wall for r in rounds)
        print(f"  {pool.name} / in-process     wall {pool.wall / inproc.wall:.2f}   CPU {pool.cpu / inproc.cpu:.2f}"
              f"   (round by round {' '.join(f'{x:.2f}' for x in paired)})")
        print(f"  {pool.name} / {codeblocks_n.name}   wall {pool.wall / codeblocks_n.wall:.2f}   "
              f"CPU {pool.cpu / codeblocks_n.cpu:.2f}")
    slowest = sorted(zip(runner.walls, inproc.walls, (label for label, _ in jobs)), reverse=True)[:3]
    print("  slowest in the runner (runner s / in-process s): "
          + ", ".join(f"{label} {r:.2f}/{i:.2f}" for r, i, label in slowest))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=("cpu", "cuda", "all"), default="cpu",
                        help="cpu (default), cuda, or all: cpu plus cuda when torch.cuda.is_available()")
    parser.add_argument("--snippets", action="store_true", help="also every snippet file and section")
    parser.add_argument("--limit", type=int, default=0, help="only the first N blocks (a quick look)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of runner and in-process (default 3)")
    args = parser.parse_args(argv)
    devices = [args.device]
    if args.device == "all":
        import torch  # this process only; the workers are separate processes

        devices = ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        build(Path(tmp) / "site")
        jobs = collect_jobs(Path(tmp) / "site", args.snippets)
        jobs = jobs[: args.limit] if args.limit else jobs
        print(f"site built without execution in {time.perf_counter() - t0:.1f} s (not counted below)")
    failures = 0
    for device in devices:
        rounds = [bench_round(device, jobs, subprocesses=r == 0, first=r) for r in range(max(1, args.rounds))]
        report(device, jobs, rounds)
        failures += sum(len(way.failed) for r in rounds for way in r)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
