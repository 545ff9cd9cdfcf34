"""The files a page's ``--8<--`` lines include (pymdownx.snippets), read for the cache keys of
`mkdocs serve` (kb/incremental.py): a page is read again when a file it includes changed.
Nothing here is executed or rendered: the names are looked up under the project folder as written.
"""

from __future__ import annotations

import functools
import hashlib
import re
from pathlib import Path

_SNIPPET_LINE = re.compile(r"^[ \t]*-+8<-+[ \t]*(.*)$")


def included_files(markdown: str, root: Path, seen: set[Path] | None = None,
                   read: dict | None = None) -> list[tuple[str, bytes]]:
    """Every file that a ``--8<--`` line of ``markdown`` may include (``--8<-- "path"``, ``"path:section"``,
    or one path a line between two bare ``--8<--`` lines) with its bytes, and the files those
    include in turn. A name that is no file is left out: the Markdown holding it is in the key.
    ``read``: the bytes of the files read so far in this build, by path (many pages include one file)."""
    seen = set() if seen is None else seen
    read = {} if read is None else read
    out: list[tuple[str, bytes]] = []
    for name in _snippet_names(markdown):
        name = name.strip("\"'")
        for candidate in dict.fromkeys([name, re.sub(r"(:[^:/]*)+$", "", name)]):
            path = root / candidate
            if path not in read:
                try:
                    read[path] = path.read_bytes()
                except OSError:  # not a file (or no such file)
                    read[path] = None
            data = read[path]
            if data is None:
                continue
            out.append((candidate, data))
            if path not in seen:
                seen.add(path)
                out += included_files(data.decode("utf-8", "replace"), root, seen, read)
    return out


@functools.lru_cache(maxsize=4096)  # every rebuild looks at every page's text
def _snippet_names(markdown: str) -> tuple[str, ...]:
    """The names of :func:`included_files`'s ``--8<--`` lines, as written."""
    if "8<" not in markdown:
        return ()
    names, block = [], False
    for line in markdown.splitlines():
        m = _SNIPPET_LINE.match(line)
        if m is not None and not m.group(1).strip():
            block = not block
        elif m is not None:
            names += m.group(1).split()
        elif block and line.strip():
            names.append(line.strip())
    return tuple(names)


def included_key(markdown: str, root: Path, read: dict, digests: dict) -> list[tuple[str, str]]:
    """:func:`included_files` for a cache key: each file's name and the digest of its bytes.
    ``digests``, for this build: the digest of each file's bytes, and the key of each list of
    ``--8<--`` names (many pages include the same files, and the lines naming them are all a key
    depends on besides the files)."""
    names = _snippet_names(markdown)
    if not names:
        return []
    key = (root, names)
    if key not in digests:
        out = []
        for name, data in included_files(markdown, root, read=read):
            if data not in digests:
                digests[data] = hashlib.sha256(data).hexdigest()
            out.append((name, digests[data]))
        digests[key] = out
    return list(digests[key])
