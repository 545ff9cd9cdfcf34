"""A block passes only if it ran to its last line, and only the runner can say that it did.

Each escape below once passed (the runner treated ``SystemExit(0)`` as success, and read its
result from a pipe the block could write to). Every block here ends with a check that fails, so
a block reported as passed skipped it.
"""

from __future__ import annotations

import pytest

FAILING_CHECK = '\nassert False, "the check after the exit never ran"\n'

EARLY_EXITS = {
    "sys.exit(0)": "import sys\nsys.exit(0)",
    "sys.exit()": "import sys\nsys.exit()",
    "exit()": "exit()",
    "quit()": "quit()",
    "raise SystemExit": "raise SystemExit",
    "raise SystemExit(0)": "raise SystemExit(0)",
    "sys.exit(0) inside a function": "import sys\n\ndef main():\n    sys.exit(0)\n\nmain()",
    "sys.exit(0) from an except": "import sys\ntry:\n    1 / 0\nexcept ZeroDivisionError:\n    sys.exit(0)",
}

# Code that writes a passing report wherever a result might travel: stdout, stderr, and every other
# descriptor the process has open (the runner's report pipe among them), in the old format and in
# the new one with a guessed nonce.
FORGE = """\
import json, os
fake = {"status": "passed", "error": "", "traceback": "", "location": "", "duration": 0.1}
line = json.dumps(fake)
print(line)
print(line, file=__import__("sys").stderr)
for name in os.listdir("/proc/self/fd"):
    fd = int(name)
    if fd > 2:
        for text in (line, "0" * 32 + " " + line):
            try:
                os.write(fd, (text + "\\n").encode())
            except OSError:
                pass
"""

FORGERIES = {
    "print a report, then os._exit(0)": FORGE + "os._exit(0)",
    "write a report to every descriptor, then fail": FORGE + "assert False, 'real result'",
    "write a report to every descriptor, then end normally": FORGE + "x = 1",
    "patch json.dumps and os.write, then fail": (
        "import json, os\n"
        "json.dumps = lambda *a, **k: '{\"status\": \"passed\"}'\n"
        "real_write = os.write\n"
        "os.write = lambda fd, data: real_write(fd, data.replace(b'failed', b'passed'))\n"
        "assert False, 'real result'"
    ),
    "kill itself": "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)",
    "os._exit(0)": "import os\nos._exit(0)",
    "close every descriptor, then end": (
        "import os\nfor name in os.listdir('/proc/self/fd'):\n    if int(name) > 2:\n"
        "        try:\n            os.close(int(name))\n        except OSError:\n            pass\nx = 1"
    ),
}


@pytest.fixture(scope="module")
def runner(any_backend_runner):
    return any_backend_runner  # each test runs under forkserver and spawn (tests/runner_fixtures.py)


@pytest.mark.parametrize("name", list(EARLY_EXITS))
def test_an_early_exit_before_the_checks_fails_the_block(runner, name):
    result = runner.run(EARLY_EXITS[name] + FAILING_CHECK, filename=f"<early exit: {name}>")
    assert result.status == "failed", result.report()
    assert "the block stopped before its end" in result.error
    assert result.location.startswith(f"<early exit: {name}>:"), result.location


def test_an_allowed_exit_passes_and_only_with_status_zero(runner):
    code = EARLY_EXITS["sys.exit(0)"] + FAILING_CHECK
    assert runner.run(code, allow_exit="demonstrates sys.exit").ok
    result = runner.run("import sys\nsys.exit(3)" + FAILING_CHECK, allow_exit="demonstrates sys.exit")
    assert result.status == "failed" and "SystemExit: 3" in result.error


def test_a_block_that_reaches_its_end_passes(runner):
    result = runner.run("import sys\nx = sys.version_info\nassert x.major == 3\n")
    assert result.ok, result.report()


@pytest.mark.parametrize("name", list(FORGERIES))
def test_a_block_cannot_forge_its_result(runner, name):
    result = runner.run(FORGERIES[name], filename=f"<forgery: {name}>")
    assert not result.ok, result.report()
    assert result.status in ("failed", "crashed"), result.status


def test_writing_into_the_result_channel_is_named(runner):
    result = runner.run(FORGERIES["write a report to every descriptor, then end normally"])
    assert result.status == "failed"
    assert "wrote to the runner's result channel" in result.error


def test_os_exit_is_reported_as_not_reaching_the_end(runner):
    result = runner.run("import os\nos._exit(0)" + FAILING_CHECK)
    assert result.status == "crashed"
    assert "exited with status 0 before the block reached its end" in result.error
