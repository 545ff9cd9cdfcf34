"""Parallel runs (pytest-xdist): the same results as a serial run, and one shared build per run.

Speed is measured by hand (benchmarks/suite.md, benchmarks/README.md), never here.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from browser_helpers import chromium  # noqa: F401  (fixture: skips or fails as the other browser tests)
from conftest import ROOT

# fast tests: one per page (parametrized) and the marker test below; not the glossary's importer test, which
# runs the importer's term search over every page twice (6 s, in each of the two runs)
SUBSET = ["tests/test_glossary.py", "tests/test_parallel.py::test_cuda_parameters_carry_the_cuda_marker", "--deselect",
          "tests/test_glossary.py::test_the_importer_skips_lines_without_latin_letters_and_finds_the_same_terms"]


def _pytest(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env.pop("PYTEST_XDIST_WORKER", None)  # this test may itself run inside an xdist worker
    env.pop("PYTEST_XDIST_TESTRUNUID", None)
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def _outcomes(junit: Path) -> dict[str, str]:
    out = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        out[f"{case.get('classname')}::{case.get('name')}"] = kinds[0] if kinds else "passed"
    return out


def test_parallel_run_gives_the_serial_results(tmp_path):
    serial = _pytest([*SUBSET, f"--junitxml={tmp_path / 'serial.xml'}"], ROOT)
    parallel = _pytest([*SUBSET, "-n", "2", f"--junitxml={tmp_path / 'parallel.xml'}"], ROOT)
    assert serial.returncode == 0, serial.stdout[-3000:]
    assert "2 workers" in parallel.stdout, parallel.stdout[-3000:]
    a, b = _outcomes(tmp_path / "serial.xml"), _outcomes(tmp_path / "parallel.xml")
    assert len(a) >= 10
    assert b == a
    assert parallel.returncode == serial.returncode


SHARED_CONFTEST = textwrap.dedent('''\
    import importlib.util, os, sys
    import pytest

    sys.path.insert(0, {tests!r})  # tests/conftest.py imports tests/runner_fixtures.py
    spec = importlib.util.spec_from_file_location("kb_tests_conftest", {conftest!r})
    kb_conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(kb_conftest)
    once_per_run = kb_conftest.once_per_run

    @pytest.fixture(scope="session")
    def thing(tmp_path_factory):
        def make(folder):
            with open({log!r}, "a") as f:
                f.write(os.environ.get("PYTEST_XDIST_WORKER", "main") + "\\n")
            (folder / "made").write_text("x")
            return {error!r}
        return once_per_run(tmp_path_factory, "thing", make)
    ''')

SHARED_TESTS = "".join(
    f"def test_{i}(thing):\n    with open('folders.log', 'a') as f:\n        f.write(f'{{thing}}\\n')\n"
    f"    assert (thing / 'made').is_file()\n\n" for i in range(6))


def _shared_run(tmp_path: Path, error: str | None) -> tuple[subprocess.CompletedProcess, list[str]]:
    log = tmp_path / "made.log"
    project = tmp_path / "p"
    project.mkdir()
    (project / "conftest.py").write_text(
        SHARED_CONFTEST.format(tests=str(ROOT / "tests"), conftest=str(ROOT / "tests" / "conftest.py"),
                               log=str(log), error=error), encoding="utf-8")
    (project / "test_shared.py").write_text(SHARED_TESTS, encoding="utf-8")
    (project / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    result = _pytest(["-n", "2", f"--basetemp={tmp_path / 'base'}"], project)
    return result, log.read_text().split() if log.is_file() else []


def test_workers_share_one_build(tmp_path):
    result, makers = _shared_run(tmp_path, None)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "6 passed" in result.stdout
    assert len(makers) == 1 and makers[0].startswith("gw")  # made once, by one worker
    folders = (tmp_path / "p" / "folders.log").read_text().split()
    assert len(folders) == 6 and len(set(folders)) == 1, folders


def test_a_failed_build_fails_every_worker_without_building_again(tmp_path):
    result, makers = _shared_run(tmp_path, "mkdocs build --strict failed: 예시")
    assert "6 errors" in result.stdout, result.stdout[-3000:]  # at set-up, in both workers
    assert result.stdout.count("mkdocs build --strict failed: 예시") >= 6
    assert len(makers) == 1


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_cuda_parameters_carry_the_cuda_marker(request, device):
    assert (request.node.get_closest_marker("cuda") is not None) == (device == "cuda")


BROWSER_CONFTEST = textwrap.dedent('''\
    import importlib.util, sys
    sys.path.insert(0, {tests!r})
    spec = importlib.util.spec_from_file_location("kb_tests_conftest", {conftest!r})
    kb_conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(kb_conftest)
    once_per_run = kb_conftest.once_per_run            # browser_helpers imports it from "conftest"
    pytest_sessionfinish = kb_conftest.pytest_sessionfinish  # the controller stops the shared browser
    from browser_helpers import chromium  # noqa: F401  (the fixture under test)
    ''')

BROWSER_TESTS = "".join(
    f"def test_{i}(chromium):\n"
    f"    import os\n"
    f"    cdp = chromium.new_browser_cdp_session()\n"
    f"    pid = next(p['id'] for p in cdp.send('SystemInfo.getProcessInfo')['processInfo'] if p['type'] == 'browser')\n"
    f"    page = chromium.new_page()\n"
    f"    page.set_content('<p>{i}</p>')\n"
    f"    assert page.inner_text('p') == '{i}'\n"
    f"    page.close()\n"
    f"    with open('browsers.log', 'a') as f:\n"
    f"        f.write(f\"{{os.environ['PYTEST_XDIST_WORKER']}} {{pid}}\\n\")\n\n" for i in range(6))


@pytest.mark.browser
def test_workers_share_one_chromium_and_the_controller_stops_it(tmp_path):
    """Two workers, one Chromium (the same browser process behind both), gone when the run ends."""
    from browser_helpers import browser_unavailable, ci

    if (why := browser_unavailable()) is not None:
        if ci():
            pytest.fail(f"CI=true and {why}", pytrace=False)
        pytest.skip(why)
    project = tmp_path / "p"
    project.mkdir()
    (project / "conftest.py").write_text(BROWSER_CONFTEST.format(
        tests=str(ROOT / "tests"), conftest=str(ROOT / "tests" / "conftest.py")), encoding="utf-8")
    (project / "test_browsers.py").write_text(BROWSER_TESTS, encoding="utf-8")
    (project / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    result = _pytest(["-n", "2", f"--basetemp={tmp_path / 'base'}"], project)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "6 passed" in result.stdout
    rows = [line.split() for line in (project / "browsers.log").read_text().splitlines()]
    assert len(rows) == 6 and {w for w, _ in rows} == {"gw0", "gw1"}, rows
    pids = {int(pid) for _, pid in rows}
    assert len(pids) == 1, f"each worker started its own Chromium: {pids}"
    assert not (tmp_path / "base/chromium/pid").exists()  # the controller stopped the server
    (pid,) = pids
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(pid), "the shared Chromium outlived the test run"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:  # a zombie has ended; only its parent has not reaped it
        return f.read().rsplit(")", 1)[1].split()[0] != "Z"


def _browser_pid(chromium, folder: Path) -> int:
    """The browser process behind the server in ``folder`` (attached with this session's Playwright)."""
    browser = chromium.browser_type.connect((folder / "endpoint").read_text(encoding="utf-8"))
    info = browser.new_browser_cdp_session().send("SystemInfo.getProcessInfo")["processInfo"]
    browser.close()
    return next(proc["id"] for proc in info if proc["type"] == "browser")


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    return not _alive(pid)


@pytest.mark.browser
def test_shared_chromium_is_stopped_by_the_controller(tmp_path, chromium):  # chromium: skip/fail as its fixture
    from browser_helpers import start_shared_chromium, stop_shared_chromium

    assert start_shared_chromium(tmp_path, watch=os.getpid()) is None
    pid = _browser_pid(chromium, tmp_path)
    assert _alive(pid)
    stop_shared_chromium(tmp_path)
    assert _gone_within(pid, 10)


@pytest.mark.browser
def test_shared_chromium_ends_when_the_run_it_serves_dies(tmp_path, chromium):
    from browser_helpers import start_shared_chromium, stop_shared_chromium

    controller = subprocess.Popen(["sleep", "600"])
    try:
        assert start_shared_chromium(tmp_path, watch=controller.pid) is None
        pid = _browser_pid(chromium, tmp_path)
        time.sleep(3)
        assert _alive(pid)  # still serving while its run lives
    finally:
        controller.kill()
        controller.wait()
    gone = _gone_within(pid, 15)
    stop_shared_chromium(tmp_path)  # tidy up if the check failed
    assert gone, "the shared Chromium outlived the run (controller) it served"


def test_the_test_server_keeps_quiet_when_a_browser_drops_a_request(tmp_path, capfd):
    """A browser that navigates on drops what it no longer needs; the server's default printed a
    traceback into the suite's output for it (seen in CI). Real errors are still printed."""
    import socket
    import struct
    import time

    from browser_helpers import serve

    (tmp_path / "big.bin").write_bytes(b"x" * (32 << 20))
    with serve(tmp_path) as url:
        client = socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1].strip("/"))))
        client.sendall(b"GET /big.bin HTTP/1.0\r\n\r\n")
        assert client.recv(100).startswith(b"HTTP/1.0 200")
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # reset, not close
        client.close()
        time.sleep(1)  # the server's thread meets the reset while it still sends
    assert "Traceback" not in capfd.readouterr().err
