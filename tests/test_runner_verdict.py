"""A block's verdict comes from outside the block: the worker's view of its process.

Each block here attacks the runner from inside its own process with what any Python code has:
``sys._getframe`` into the runner's frames, ``gc`` and closure cells, the report pipe, an early
``os._exit(0)``/``sys.exit(0)``. Each once showed as passed (the worker took the first line of
the report pipe as the verdict and the child's status from a local). Every one of them ends in a
check that fails, or never ends, so a pass here is a lie.

The attacks search rather than name the runner's variables, so they attack whatever the runner
keeps: any callable named ``report`` in the runner's frames and closures is called with a passing
result, every local of the runner's frames that says "failed" is rewritten to "passed", every
32-character hex string there is tried as the nonce on every descriptor.
"""

from __future__ import annotations

import pytest

# What the attacks share: the runner's frames (its functions, not the block's), what they hold.
TOOLKIT = '''\
import ctypes, gc, json, os, re, sys, types

FAKE = {"status": "passed", "error": "", "traceback": "", "location": "", "duration": 0.1}


def runner_frames():
    """The frames of kb/runner/ that are running this block."""
    f, found = sys._getframe(1), []
    while f is not None:
        if "/kb/runner/" in f.f_code.co_filename:
            found.append(f)
        f = f.f_back
    return found


def runner_closures():
    """Every function of kb/runner/ alive in this process, and every value its closure holds."""
    found = []
    for obj in gc.get_objects():
        if isinstance(obj, types.FunctionType) and "/kb/runner/" in obj.__code__.co_filename:
            found.append(obj)
    return found


def runner_values():
    values = []
    for f in runner_frames():
        values += list(f.f_locals.values())
    for fn in runner_closures():
        values += [cell.cell_contents for cell in fn.__closure__ or () if _full(cell)]
    return values


def _full(cell):
    try:
        cell.cell_contents
    except ValueError:
        return False
    return True


def send_fake_report():
    """Call every reporter the runner holds with a passing result; return how many were called."""
    sent = 0
    for value in runner_values():
        if callable(value) and getattr(value, "__name__", "") == "report":
            value(dict(FAKE))
            sent += 1
    return sent


def write_fake_report():
    """Write a passing report to every descriptor, signed with the first nonce-like value (32 hex
    digits) the runner holds, innermost frame first; return whether there was one."""
    for value in runner_values():
        if isinstance(value, str):
            value = value.encode()
        if isinstance(value, bytes) and re.fullmatch(rb"[0-9a-f]{32}", value):
            for name in os.listdir("/proc/self/fd"):
                try:
                    os.write(int(name), value + b" " + json.dumps(FAKE).encode() + b"\\n")
                except OSError:
                    pass
            return True
    return False


def settle():
    """Wait until the runner has read what was sent (every pipe this process writes to is empty),
    so that it can answer before the block goes on and fails."""
    import fcntl, termios, time
    pipes = []
    for name in os.listdir("/proc/self/fd"):
        try:
            if (os.readlink(f"/proc/self/fd/{name}").startswith("pipe:")
                    and fcntl.fcntl(int(name), fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY):
                pipes.append(int(name))
        except OSError:
            pass
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        waiting = 0
        for fd in pipes:
            try:
                waiting += fcntl.ioctl(fd, termios.FIONREAD, bytes(4)) != bytes(4)
            except OSError:
                pass
        if not waiting:
            break
        time.sleep(0.01)
    time.sleep(0.05)
'''

FAILING_CHECK = '\nassert False, "the block\'s own check failed"\n'

ATTACKS = {
    # (a) the runner's frames: the local that holds the verdict, rewritten to "passed" (written back
    # into the frame), then the block fails
    "sys._getframe: rewrite the runner's locals": (
        "for f in runner_frames():\n"
        "    for name, value in list(f.f_locals.items()):\n"
        "        if value == 'failed':\n"
        "            f.f_locals[name] = 'passed'\n"
        "        elif isinstance(value, dict) and value.get('status') == 'failed':\n"
        "            value['status'] = 'passed'\n"
        "    ctypes.pythonapi.PyFrame_LocalsToFast(ctypes.py_object(f), ctypes.c_int(0))\n"
        + FAILING_CHECK
    ),
    # (a) the runner's frames: its report function, called with a passing result before the check
    "sys._getframe: call the runner's reporter, then fail": "send_fake_report()\nsettle()" + FAILING_CHECK,
    # (b) gc: the reporter's closure cells, its json.dumps swapped for one that says "passed"
    "gc and closure cells: flip what the reporter sends": (
        "real = json.dumps\n"
        "for fn in runner_closures():\n"
        "    for cell in fn.__closure__ or ():\n"
        "        if _full(cell) and cell.cell_contents is real:\n"
        "            cell.cell_contents = lambda r, real=real: real(dict(r, status='passed', error=''))\n"
        + FAILING_CHECK
    ),
    # (b) gc.get_referrers: the runner's reporter, found from what it holds, called early
    "gc.get_referrers: from os.write to the closure that holds it, call it": (
        "for cell in [r for r in gc.get_referrers(os.write) if isinstance(r, types.CellType)]:\n"
        "    for closure in gc.get_referrers(cell):\n"
        "        for fn in gc.get_referrers(closure):\n"
        "            if isinstance(fn, types.FunctionType) and fn.__name__ == 'report':\n"
        "                fn(dict(FAKE))\n"
        "settle()" + FAILING_CHECK
    ),
    # (c) a report signed with the nonce the runner holds, on every descriptor, then the check fails
    "a signed report on the report pipe, then fail": "write_fake_report()\nsettle()" + FAILING_CHECK,
    # (e) its check fails, it reports "passed" and leaves before the runner sees the failure
    "report early, catch the failed check, os._exit(0)": (
        "send_fake_report()\nsettle()\n"
        "try:\n    assert False, \"the block's own check failed\"\nexcept AssertionError:\n    os._exit(0)\n"
    ),
    # (f) sys.exit(0) mid-block, after giving itself the allow_exit its page did not give it
    "sys.exit(0) mid-block, allow_exit forged in the runner's job": (
        "for f in runner_frames():\n"
        "    for value in list(f.f_locals.values()):\n"
        "        if isinstance(value, dict) and 'allow_exit' in value:\n"
        "            value['allow_exit'] = 'forged'\n"
        "sys.exit(0)" + FAILING_CHECK
    ),
    # (f) sys.exit(0) mid-block, after an early passing report
    "report early, then sys.exit(0) mid-block": "send_fake_report()\nsettle()\nsys.exit(0)" + FAILING_CHECK,
    # a child process of the block ends the block normally (the runner's epilogue runs in it),
    # while the block itself fails its check
    "fork: the copy ends normally, the block fails": (
        "pid = os.fork()\nif pid:\n    os.waitpid(pid, 0)" + FAILING_CHECK.replace("\nassert", "\n    assert")
    ),
}


@pytest.fixture(scope="module")
def runner(any_backend_runner):
    return any_backend_runner  # each test runs under forkserver and spawn (tests/runner_fixtures.py)


@pytest.mark.parametrize("name", list(ATTACKS))
def test_a_block_that_attacks_the_runner_does_not_pass(runner, name):
    result = runner.run(TOOLKIT + ATTACKS[name], filename=f"<attack: {name}>")
    assert not result.ok, result.report()
    assert result.status in ("failed", "crashed"), result.report()
    assert result.error, result.report()


def test_the_failed_check_is_what_the_report_shows(runner):
    """A block that tried to rewrite its verdict and then failed its check is reported by that check."""
    code = TOOLKIT + ATTACKS["sys._getframe: rewrite the runner's locals"]
    result = runner.run(code, filename="<attack>")
    assert result.status == "failed", result.report()
    assert "AssertionError: the block's own check failed" in result.error, result.report()
    assert result.location.startswith("<attack>:"), result.location


def test_an_early_report_then_a_sleep_times_out(runner):
    """(d) A block that reports "passed" early and then never ends is a timeout, not a pass."""
    code = TOOLKIT + "send_fake_report()\nwrite_fake_report()\nimport time\ntime.sleep(60)" + FAILING_CHECK
    result = runner.run(code, filename="<attack: report early, then sleep>", timeout=2.0)
    assert result.status == "timeout", result.report()
    assert result.wall < 30, result.wall


def test_os_exit_after_catching_its_failed_check_fails(runner):
    """(e) ``os._exit(0)`` from the handler of its own failed check skips the rest of the block."""
    code = ("import os\ntry:\n    assert False\nexcept AssertionError:\n    os._exit(0)\n"
            "print('the rest of the block')\n")
    result = runner.run(code, filename="<os._exit in except>")
    assert result.status == "crashed", result.report()
    assert "exited with status 0 before the block reached its end" in result.error


def test_an_allowed_exit_still_passes(runner):
    """allow_exit keeps its meaning: ``sys.exit(0)`` is that block's end, and only status 0."""
    assert runner.run("import sys\nsys.exit(0)" + FAILING_CHECK, allow_exit="demonstrates sys.exit").ok
    assert not runner.run("import sys\nsys.exit(2)" + FAILING_CHECK, allow_exit="demonstrates sys.exit").ok


def test_a_block_that_ends_normally_after_poking_the_runner_passes(runner):
    """Reading the runner's frames is not a failure in itself: the verdict is the block's own."""
    result = runner.run(TOOLKIT + "assert runner_frames()\nx = 1\n", filename="<harmless>")
    assert result.ok, result.report()
