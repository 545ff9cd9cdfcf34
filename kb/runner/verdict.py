"""A block's result, and how the runner decides it from outside the block.

This module owns :class:`BlockResult` and the verdict. A block passes only if it ran to its last
line, and the runner decides that it did from two things the block's code cannot produce before its
last statement ran: a report signed with a fresh nonce, and the exit status that means passed. The
runner makes both per block (:func:`new_secrets`) and sends them to the block's process as two
messages on its result channel before the job. They wait there, unread, while the block runs;
only the lines after ``exec`` returned read them (kb/runner/child.py). :func:`judge` then reads
what came back and the process's exit status:

* passed: exactly one message, signed with the nonce, that says ``passed``, and then the process
  exited with the passed status;
* an early ``sys.exit(0)`` passes only where the page allows it (``allow_exit``, which the block is
  never told);
* anything else on the channel, an early exit, a crash or a timeout fails it.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

NONCE_HEX = 32  # characters of the nonce that signs a report


@dataclass
class BlockResult:
    """What one block did. ``status`` is passed, failed, crashed (died without reporting) or timeout."""

    filename: str
    status: str
    stdout: str = ""
    stderr: str = ""
    error: str = ""  # one line: "AssertionError: NAG crosses the minimum fewer times"
    traceback: str = ""
    location: str = ""  # "snippets/qna/adagrad.py:42": innermost frame in the block's own file
    duration: float = 0.0  # seconds the code ran, measured in the block's process
    wall: float = 0.0  # seconds from starting its process to its end, in the runner
    reused: bool = False  # set by callers that reuse an earlier identical run
    began: float = 0.0  # time.monotonic() of the caller when it started the block, and when it ended
    ended: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "passed"

    def report(self, title: str | None = None) -> str:
        """A failure report that starts with where it failed."""
        head = title or self.filename
        where = self.location or self.filename
        lines = [f"{where}: {self.status}: {self.error}".rstrip(": "), f"  ({head}, {self.duration:.2f} s)"]
        if self.traceback:
            lines += ["", self.traceback.rstrip()]
        if self.stdout.strip():
            lines += ["", "--- stdout ---", tail(self.stdout)]
        if self.stderr.strip():
            lines += ["", "--- stderr ---", tail(self.stderr)]
        return "\n".join(lines)


def tail(text: str, limit: int = 4000) -> str:
    text = text.rstrip()
    return text if len(text) <= limit else "...\n" + text[-limit:]


def new_secrets() -> tuple[bytes, int]:
    """A fresh nonce (32 hex digits) and a fresh exit status that means passed (2-254)."""
    return secrets.token_hex(NONCE_HEX // 2).encode(), 2 + secrets.randbelow(253)


def ended(exitcode: int | None) -> str:
    """How a process ended, from multiprocessing's exit code (negative: killed by that signal)."""
    if exitcode is None:
        return "did not end"
    if exitcode < 0:
        import signal

        try:
            return f"was killed by signal {-exitcode} ({signal.Signals(-exitcode).name})"
        except ValueError:
            return f"was killed by signal {-exitcode}"
    return f"exited with status {exitcode}"


def judge(messages: list[bytes], nonce: bytes, passed_status: int, exitcode: int | None, *,
          timed_out: bool, timeout: float, allow_exit: str | None, garbled: bool = False) -> dict:
    """The block's status and error fields, from what came back on its channel (``messages``;
    ``garbled``: bytes that were not whole messages) and its exit code."""
    report = None
    if len(messages) == 1 and messages[0].startswith(nonce + b" "):
        try:
            report = json.loads(messages[0][len(nonce) + 1:])
        except ValueError:
            pass
    if timed_out:
        return {"status": "timeout", "error": f"no result within {timeout:g} s"
                + (" (it had sent a report, then did not end)" if messages else "")
                + "; the block and every process it started were killed"}
    if garbled or (messages and not isinstance(report, dict)):
        return {"status": "failed", "error": "the block wrote to the runner's result channel "
                "(what came back is not one report of this run): its result cannot be trusted"}
    if report is None:
        return {"status": "crashed", "error": f"the process {ended(exitcode)} before the block reached "
                "its end (os._exit(), a crash, a CPU limit, or out of memory)"}
    fields = {key: str(report.get(key) or "") for key in ("error", "traceback", "location")}
    fields["duration"] = float(report.get("duration") or 0.0)
    status = report.get("status")
    expected = passed_status if status == "passed" else 1
    if status in ("passed", "exit") and exitcode != expected:
        return dict(fields, status="failed", error=f"its report came, but then the process {ended(exitcode)}, "
                    "not as the runner ends it after the block's last line: its result cannot be trusted")
    if status == "passed":
        return dict(fields, status="passed")
    if status == "exit" and allow_exit:  # an early exit its page allows, with a reason
        return dict(fields, status="passed", error="", traceback="", location="")
    return dict(fields, status="failed")
