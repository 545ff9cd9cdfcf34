"""Writing a set of files under docs/ all at once, never overwriting one silently, one writer at a time.

**One writer.** Every command that writes docs/ (import-notion, new meeting, new qna) holds
:func:`lock` from before it reads docs/ to make its plan until its write has ended, so that "does this
page exist, has it changed" and the write are decided under the same lock. The lock file is
``<project>/.cache/kb-write.lock`` (the project is docs/'s parent folder, as for ``check --root``):
outside docs/, so MkDocs never publishes it and docs/ stays byte for byte as it was, and in .cache/,
which is gitignored. It is a ``filelock.FileLock`` (flock on Linux and macOS, msvcrt.locking on
Windows; the system drops it when its holder dies). A second writer does not wait: it gets
:class:`Busy` at once, naming the holder's pid (from ``kb-write.owner`` beside the lock file).

**All or nothing.** :func:`plan` compares the new contents (text or bytes) with what is on disk;
:func:`write` puts every changed file in place:

1. each new content goes to a temporary file next to its target (``.name.XXXX.tmp``), and each
   existing target is kept as a hard link (or copy) ``.name.XXXX.bak``;
2. every planned file is read again: a file planned as new must still not exist and any other must
   still have the bytes the plan was made from; if not, :class:`Changed` names them and nothing is
   written (someone other than kb wrote meanwhile);
3. only then are the temporary files renamed over the targets (``os.replace``);
4. on any failure, in any step, the targets already replaced are restored from their backups, new
   files are removed, folders made for them are removed, and every temporary file goes. The error
   raised is :class:`WriteError`, which says whether the rollback was complete and, if not, exactly
   which files are left changed. On success the backups are removed.

**Signals.** :func:`write` holds SIGINT, SIGTERM, SIGHUP (and SIGBREAK on Windows) for its whole
length (:class:`_Held`): where ``signal.pthread_sigmask`` exists they are blocked, and everywhere their
handlers are swapped for one that only notes them (the only means on Windows, and the catch for a
signal another thread receives). Between two staged files a held signal stops the staging and the
rollback runs; once the renames begin they all run, and a rollback is never cut short. When write()
ends the held signal goes to its own handler (KeyboardInterrupt, the CLI's exception, the default
action), so no signal lands between a rename and its bookkeeping: docs/ is exactly as before or
exactly as after, and the :class:`Receipt` the caller passed says which. :func:`signals_interrupt`
turns SIGTERM and SIGHUP into :class:`Interrupted` (a KeyboardInterrupt, as Ctrl-C is) for the CLI,
which reports one line and exits 128+N.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import shutil
import signal
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

LOCK_FILE = ".cache/kb-write.lock"  # relative to docs/'s parent folder


@dataclass
class Planned:
    path: str  # relative to docs/
    target: Path
    data: bytes
    old: bytes | None  # None: the file does not exist yet

    @property
    def text(self) -> str:
        return self.data.decode("utf-8")

    @property
    def exists(self) -> bool:
        return self.old is not None

    @property
    def changed(self) -> bool:
        return self.old != self.data

    def diff(self, docs_label: str = "docs") -> str:
        name = f"{docs_label}/{self.path}"
        try:
            old = (self.old or b"").decode("utf-8").splitlines(keepends=True)
            new = self.data.decode("utf-8").splitlines(keepends=True)
        except UnicodeDecodeError:
            return f"바이너리 파일 {name}: {len(self.old or b''):,} -> {len(self.data):,} 바이트\n"
        return "".join(difflib.unified_diff(old, new, f"{name}\t(지금 파일)", f"{name}\t(새 내용)"))


class WriteError(OSError):
    """Writing failed. ``left_changed`` lists the files that could not be put back (empty: nothing changed)."""

    def __init__(self, cause: BaseException, left_changed: list[str]):
        self.cause = cause
        self.left_changed = left_changed
        super().__init__(str(cause))


class Changed(WriteError):
    """Planned files (``paths``, relative to docs/) changed on disk after the plan was made; nothing was written."""

    def __init__(self, paths: list[str]):
        self.paths = paths
        super().__init__(RuntimeError(f"계획한 뒤에 바뀐 파일: {', '.join(paths)}"), [])


@dataclass
class Receipt:
    """What :func:`write` did, filled in while signals are held, for a caller that is interrupted:
    ``written`` is None until every file is in place (then the files written); ``left_changed``
    lists what a failed rollback could not put back."""

    written: list[Planned] | None = None
    left_changed: list[str] = field(default_factory=list)


def plan(docs_dir: Path, files: dict[str, str | bytes]) -> list[Planned]:
    out = []
    for path, content in files.items():
        target = docs_dir / path
        data = content.encode("utf-8") if isinstance(content, str) else content
        old = target.read_bytes() if target.is_file() else None
        out.append(Planned(path, target, data, old))
    return out


def changed_since(planned: list[Planned]) -> list[str]:
    """The planned files whose bytes on disk are no longer those the plan was made from."""
    out = []
    for p in planned:
        try:
            now = p.target.read_bytes() if p.target.is_file() else None
        except OSError:
            now = b"" if p.old is None else None  # unreadable: anything but what the plan read
        if now != p.old:
            out.append(p.path)
    return out


def write(planned: list[Planned], receipt: Receipt | None = None) -> list[Planned]:
    """Write every changed file, all or nothing; return those written. Raises :class:`WriteError`
    (:class:`Changed` when a planned file changed meanwhile). A signal is acted on when it returns."""
    receipt = receipt if receipt is not None else Receipt()
    txn = _Txn()
    with _Held() as held:
        try:
            for p in planned:
                if p.changed:
                    held.stop_if_pending()
                    txn.stage(p)
            held.stop_if_pending()
            moved = changed_since(planned)
            if moved:
                raise Changed(moved)
            for tmp, p in txn.temps:  # no signal can land between a rename and its record
                os.replace(tmp, p.target)
                txn.replaced.append(p)
        except BaseException as exc:
            receipt.left_changed = left = txn.rollback()
            if isinstance(exc, Changed):
                raise
            raise WriteError(exc, left) from exc
        receipt.written = list(txn.replaced)
        txn.cleanup()
    return receipt.written


@dataclass
class _Txn:
    made_dirs: list[Path] = field(default_factory=list)
    temps: list[tuple[Path, Planned]] = field(default_factory=list)
    backups: dict[Path, Path] = field(default_factory=dict)  # target -> backup
    replaced: list[Planned] = field(default_factory=list)

    def make_dirs(self, folder: Path) -> None:
        missing = []
        while not folder.exists():
            missing.append(folder)
            folder = folder.parent
        for d in reversed(missing):
            d.mkdir()
            self.made_dirs.append(d)

    def stage(self, p: Planned) -> None:
        self.make_dirs(p.target.parent)
        fd, tmp = tempfile.mkstemp(dir=p.target.parent, prefix=f".{p.target.name}.", suffix=".tmp")
        self.temps.append((Path(tmp), p))
        with os.fdopen(fd, "wb") as f:
            f.write(p.data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, p.target.stat().st_mode & 0o777 if p.target.exists() else 0o644)
        if p.exists:
            fd, bak = tempfile.mkstemp(dir=p.target.parent, prefix=f".{p.target.name}.", suffix=".bak")
            self.backups[p.target] = Path(bak)  # recorded first: a failed copy leaves nothing behind
            os.close(fd)
            os.unlink(bak)
            try:
                os.link(p.target, bak)
            except OSError:
                shutil.copy2(p.target, bak)

    def rollback(self) -> list[str]:
        """Undo; return the files that could not be put back."""
        left = []
        for p in reversed(self.replaced):
            try:
                if p.target in self.backups:
                    os.replace(self.backups.pop(p.target), p.target)
                else:
                    p.target.unlink()
            except OSError:
                left.append(str(p.target))
        self.cleanup()
        for d in reversed(self.made_dirs):
            try:
                d.rmdir()
            except OSError:
                pass
        return left

    def cleanup(self) -> None:
        for path in [tmp for tmp, _ in self.temps] + list(self.backups.values()):
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)


# --- signals ----------------------------------------------------------------------------

HELD_SIGNALS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK") if hasattr(signal, n))


class _Stopped(BaseException):
    """A held signal stopped the staging; the signal itself is acted on when the write ends."""

    def __str__(self) -> str:
        return "중단 시그널을 받았습니다"


class _Held:
    """Inside ``with``, the signals of HELD_SIGNALS are noted, not acted on; on leaving, the first one
    goes to the handler it had. Signals that are ignored (SIG_IGN, as under nohup) stay ignored.
    Python runs signal handlers in the main thread only, so in any other thread this does nothing."""

    def __init__(self) -> None:
        self.active = False
        self.noted: list[int] = []
        self.handlers: dict[int, object] = {}
        self.mask: set | None = None

    def _note(self, signum, frame) -> None:
        if self.active:
            self.noted.append(signum)
            return
        handler = self.handlers.get(signum)  # left already, not yet restored: act as it would
        if callable(handler):
            handler(signum, frame)
        elif handler == signal.SIG_DFL:
            signal.signal(signum, signal.SIG_DFL)
            signal.raise_signal(signum)

    def __enter__(self) -> _Held:
        if threading.current_thread() is not threading.main_thread():
            return self
        held = [s for s in HELD_SIGNALS if signal.getsignal(s) is not signal.SIG_IGN]
        block = getattr(signal, "pthread_sigmask", None)  # looked up now: absent on Windows
        self.active = True
        try:
            if block is not None:
                self.mask = block(signal.SIG_BLOCK, held)
            for s in held:
                self.handlers[s] = signal.signal(s, self._note)
        except BaseException:  # a signal that came before its handler was swapped: not held
            self.noted.clear()
            self._restore()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self._restore()
        if self.noted:  # received while no mask held it (Windows, another thread): act on it now
            signal.raise_signal(self.noted[0])

    def _restore(self) -> None:
        self.active = False
        try:
            for s, handler in self.handlers.items():
                signal.signal(s, handler)
        finally:
            if self.mask is not None:  # a blocked signal is delivered here, to its own handler
                mask, self.mask = self.mask, None
                signal.pthread_sigmask(signal.SIG_SETMASK, mask)

    def pending(self) -> bool:
        if self.noted:
            return True
        if self.mask is not None and hasattr(signal, "sigpending"):
            return bool(signal.sigpending() & set(self.handlers))
        return False

    def stop_if_pending(self) -> None:
        if self.pending():
            raise _Stopped()


class Interrupted(KeyboardInterrupt):
    """SIGTERM, SIGHUP (SIGBREAK) made an exception, as Ctrl-C is; ``signum`` gives the exit status 128+N."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def signals_interrupt(restore: bool = True):
    """Inside ``with`` (in the main thread), a signal of HELD_SIGNALS raises :class:`Interrupted`, and
    the ones after it are ignored, so that one report is made. Ignored signals (nohup) stay ignored.
    On leaving, the handlers are restored, or, with ``restore=False`` (a program about to exit),
    all are ignored."""
    old: dict[int, object] = {}

    def raise_interrupted(signum, frame):
        for s in list(old):
            signal.signal(s, signal.SIG_IGN)
        raise Interrupted(signum)

    try:
        if threading.current_thread() is threading.main_thread():
            for s in HELD_SIGNALS:
                if signal.getsignal(s) is not signal.SIG_IGN:
                    old[s] = signal.signal(s, raise_interrupted)
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler if restore else signal.SIG_IGN)


# --- one writer -------------------------------------------------------------------------


class LockError(Exception):
    """The write lock could not be taken; the message says why (Korean)."""


class Busy(LockError):
    """Another process holds the write lock: ``holder`` is its pid (None when it cannot be read)."""

    def __init__(self, lock_file: Path, holder: int | None, command: str):
        self.lock_file, self.holder = lock_file, holder
        who = f"pid {holder}" + (f": {command}" if command else "") if holder else "pid를 알 수 없음"
        super().__init__(
            f"다른 kb 명령({who})이 docs에 쓰는 중입니다 (잠금 파일 {lock_file}). 그 명령이 끝난 뒤 다시 실행하세요"
        )


def lock_path(docs_dir: Path) -> Path:
    return docs_dir.resolve().parent / LOCK_FILE


@contextlib.contextmanager
def lock(docs_dir: Path, command: str = ""):
    """Hold the write lock of ``docs_dir`` for the ``with`` body; :class:`Busy` at once when another
    process holds it. ``command`` (e.g. ``import-notion``) is shown to a writer that finds it busy."""
    from filelock import FileLock, Timeout

    path = lock_path(docs_dir)
    owner = path.with_name("kb-write.owner")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        held = FileLock(str(path))
        held.acquire(blocking=False)
    except Timeout:
        raise Busy(path, *_owner(owner)) from None
    except OSError as exc:
        raise LockError(f"잠금 파일을 만들 수 없습니다: {path}: {exc.strerror or exc}") from None
    try:
        with contextlib.suppress(OSError):
            owner.write_text(f"{os.getpid()}\n{command}\n", encoding="utf-8")
        yield path
    finally:
        with contextlib.suppress(OSError):
            owner.unlink()
        held.release()


def _owner(owner: Path) -> tuple[int | None, str]:
    try:
        pid, command = (owner.read_text(encoding="utf-8").split("\n") + ["", ""])[:2]
        return int(pid), command.strip()
    except (OSError, ValueError):
        return None, ""
