"""First saved edit of a `mkdocs serve` session, with and without the Kiwi warm-up.

Runs `mkdocs serve` in a copy of the project with warm caches, waits SETTLE s after "Serving on",
appends a Korean sentence to one page and times save -> "Documentation built in" (the rebuilt
site: livereload reloads the browser then). Also the serve process's CPU during the rebuild (read
from /proc: Linux only).

    python benchmarks/serve_first_edit.py PROJECT_COPY PYTHON REPEAT SETTLE_SECONDS
    e.g. python benchmarks/serve_first_edit.py /tmp/copy .venv/bin/python 4 15

PROJECT_COPY is a copy of the project (tests/conftest.py copy_project) whose caches are warm: its
docs/qna/adagrad.md is appended to on every run. Results are in benchmarks/README.md.
"""
import os, re, signal, subprocess, sys, threading, time
PROJECT, PY = sys.argv[1], sys.argv[2]
REPEAT, SETTLE = int(sys.argv[3]), float(sys.argv[4])
PAGE = os.path.join(PROJECT, "docs/qna/adagrad.md")
WRAPPER = """import runpy, sys
if sys.argv.pop(1) == "off":
    import kb.search_ko as s
    s.Analyzer.warm_up = lambda self: None
sys.argv[0] = "mkdocs"
runpy.run_module("mkdocs", run_name="__main__", alter_sys=True)
"""
TICK = os.sysconf("SC_CLK_TCK")

def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / TICK

def session(variant, n, port):
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", KB_EXECUTE="1")
    for k in ("KB_EXEC_CACHE", "KB_SEARCH_CACHE", "KB_EXEC_DEVICE"):
        env.pop(k, None)
    p = subprocess.Popen([PY, "-c", WRAPPER, variant, "serve", "-a", f"127.0.0.1:{port}"], cwd=PROJECT, env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    events = []
    def read():
        for line in p.stderr:
            events.append((time.perf_counter(), line.rstrip()))
    threading.Thread(target=read, daemon=True).start()
    def wait_for(pattern, after=0, timeout=300):
        end = time.time() + timeout
        while time.time() < end:
            for t, line in list(events):
                if t >= after and re.search(pattern, line):
                    return t, line
            time.sleep(0.02)
        raise SystemExit(f"timeout waiting for {pattern}:\n" + "\n".join(l for _, l in events))
    try:
        t_serving, _ = wait_for("Serving on")
        first = [l for _, l in events if "Documentation built" in l or "kb search" in l]
        time.sleep(SETTLE)
        cpu0 = cpu(p.pid)
        with open(PAGE, "a", encoding="utf-8") as f:
            f.write(f"\n편집 {variant} {n} {time.time():.0f}: 가중치를 갱신하는 학습률을 조정했습니다.\n")
        t0 = time.perf_counter()
        t1, line = wait_for(r"Documentation built in", after=t0)
        time.sleep(0.2)
        cpu1 = cpu(p.pid)
        built = float(re.search(r"built in ([\d.]+)", line).group(1))
        search = [l for t, l in events if t >= t0 and "kb search" in l]
        return t1 - t0, built, cpu1 - cpu0, first, search
    finally:
        p.send_signal(signal.SIGINT)
        try:
            p.wait(60)
        except subprocess.TimeoutExpired:
            p.kill()

rows = []
for n in range(REPEAT):
    for variant in ("on", "off") if n % 2 == 0 else ("off", "on"):
        save_to_built, built, rebuild_cpu, first, search = session(variant, n, 8790 + 2 * n + (variant == "on"))
        rows.append((variant, save_to_built, built, rebuild_cpu))
        print(f"{variant:3} run {n}: save->built {save_to_built:5.2f} s  (mkdocs: built in {built:5.2f} s)  "
              f"serve CPU during rebuild {rebuild_cpu:5.2f} s | first build: {first} | {search}", flush=True)
import statistics as st
for variant in ("on", "off"):
    r = [x for x in rows if x[0] == variant]
    print(f"warm-up {variant}: median save->built {st.median(x[1] for x in r):.2f} s, built-in {st.median(x[2] for x in r):.2f} s, "
          f"rebuild CPU {st.median(x[3] for x in r):.2f} s  (n={len(r)}; save->built {[round(x[1],2) for x in r]})")
