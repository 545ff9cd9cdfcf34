"""The result channel between the runner and one block's process, on every platform.

This module owns the bytes on that channel. It is a ``multiprocessing.Pipe()`` (a socket pair on
Linux and macOS, a named pipe on Windows). The runner writes the block's two secrets into it before
the job (kb/runner/verdict.py): ``<nonce>\\n`` and ``<passed status, 3 digits>\\n``; the block's
process writes back one line, ``<nonce> <json report>\\n``, after its code is over.

On Linux and macOS both ends use the descriptor with ``os.read``/``os.write``, bound by the block's
process before its code runs: a block that patches ``multiprocessing``, ``os`` or ``json`` changes
nothing of how its process reads the secrets and reports. On Windows the pipe is a handle, used
through the ``Connection`` methods, bound the same way (a block could still patch the class's
private helpers there: it is not a sandbox, see kb/runner/__init__.py).
"""

from __future__ import annotations

import os
import sys

RAW = sys.platform != "win32"  # a descriptor that os.read/os.write can use
SECRET_PARTS = (33, 4)  # b"<32 hex digits>\n", b"<3 digits>\n"


def send_job(conn, job: dict) -> None:
    """The runner's side: the job, as 8 bytes of length and the JSON (one message on Windows)."""
    import json

    data = json.dumps(job).encode()
    if RAW:
        data = len(data).to_bytes(8, "big") + data
        fd = conn.fileno()
        while data:
            data = data[os.write(fd, data):]
    else:
        conn.send_bytes(data)


def send_secrets(conn, nonce: bytes, passed_status: int) -> None:
    """The runner's side, before the job: the nonce, then the passed status, as two parts."""
    parts = (nonce + b"\n", b"%03d\n" % passed_status)
    for part in parts:
        if RAW:
            os.write(conn.fileno(), part)  # 33 and 4 bytes: far below any pipe's buffer, never split
        else:
            conn.send_bytes(part)


def drain(conn, into: bytearray) -> bool:
    """The runner's side: move what the block's process wrote into ``into``; False at the end (every
    holder of the other end has closed it)."""
    if RAW:
        fd = conn.fileno()
        os.set_blocking(fd, False)
        while True:
            try:
                chunk = os.read(fd, 1 << 16)
            except BlockingIOError:
                return True
            except OSError:
                return False
            if not chunk:
                return False
            into += chunk
    while True:
        try:
            if not conn.poll(0):
                return True
            into += conn.recv_bytes()
        except (EOFError, OSError):
            return False


def child_ends(conn):
    """The block's side: ``(read_job, read_part, write)``, bound before the block's code runs.
    ``read_part(i)`` reads secret part ``i`` (0: the nonce line, 1: the status line)."""
    import json

    if RAW:
        fd, read, write = conn.fileno(), os.read, os.write

        def exactly(n: int, fd=fd, read=read) -> bytes:
            data = b""
            while len(data) < n:
                chunk = read(fd, n - len(data))
                if not chunk:
                    raise EOFError(f"{len(data)} of {n} bytes")
                data += chunk
            return data

        def read_job() -> dict:
            return json.loads(exactly(int.from_bytes(exactly(8), "big")))

        def read_part(i: int, exactly=exactly, sizes=SECRET_PARTS) -> bytes:
            return exactly(sizes[i])

        def send(data: bytes, fd=fd, write=write) -> None:
            while data:
                data = data[write(fd, data):]

        return read_job, read_part, send
    recv, send_bytes = conn.recv_bytes, conn.send_bytes
    return (lambda: json.loads(recv())), (lambda i, recv=recv: recv()), send_bytes
