"""The mistake catalogue: classic errors, each a named textual change to a snippet, that its checks must catch.

Beside every snippet ``snippets/<topic>/<name>.py`` lies ``<name>.mistakes.yaml``::

    proofs:                      # per section: what its checks compare against (shown in the badge)
      update: {against: torch, what: "torch.optim.Adagrad, 200 steps"}
    mistakes:
      - name: eps-inside-sqrt    # a slug, unique in the file
        title: ε를 제곱근 안에 넣기   # Korean, shown on the page
        section: update          # the section that is run with the change applied
        find: "W = W - eta / (torch.sqrt(G) + eps) * g"
        replace: "W = W - eta / torch.sqrt(G + eps) * g"
        check: "torch.testing.assert_close(w.detach(), by_hand[t]"   # text of the line that must fail

``find`` must occur exactly once in the snippet file and inside ``section``; the change is
applied to the file, the section is cut out of the changed file exactly as a page includes it,
and run alone in a warm :class:`kb.runner.BlockRunner`. The mistake is *caught* when the
run fails on the line containing ``check`` (so a mistake that crashes somewhere else, or a
check that passes, does not count).

``against`` is one of :data:`AGAINST` (torch's implementation, the paper's table, an identity or
derivation, a property the code asserts).
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .blocks import snippet_files, snippet_sections
from .runner import BlockResult
from .blocks import ROOT

AGAINST = {
    "torch": "PyTorch 구현",
    "paper": "논문의 표·수치",
    "identity": "수식·항등식",
    "property": "성질 검사",
}
_NAME = re.compile(r"[a-z][a-z0-9-]*")
_KEYS = {"name", "title", "section", "find", "replace", "check", "why"}


class CatalogueError(ValueError):
    """A malformed catalogue or a mistake that cannot be applied; the message names file and line."""


@dataclass(frozen=True)
class Mistake:
    snippet: str  # "snippets/qna/adagrad.py", relative to the project
    name: str
    title: str
    section: str
    find: str
    replace: str
    check: str
    why: str = ""
    where: str = ""  # "snippets/qna/adagrad.mistakes.yaml:12", for error messages

    @property
    def label(self) -> str:
        return f"{self.snippet} [{self.name}]"


@dataclass(frozen=True)
class Proof:
    section: str
    against: str  # a key of AGAINST
    what: str


@dataclass
class Catalogue:
    snippet: str
    proofs: dict[str, Proof] = field(default_factory=dict)
    mistakes: list[Mistake] = field(default_factory=list)


def catalogue_path(snippet: Path) -> Path:
    return snippet.with_name(snippet.stem + ".mistakes.yaml")


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that records the line of every mapping (``__line__``) for error messages."""


def _mapping_with_line(loader, node):
    data = loader.construct_mapping(node, deep=True)
    data["__line__"] = node.start_mark.line + 1
    return data


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_line)


_LOADED: dict[tuple, Catalogue] = {}  # (file state, root) -> catalogue: a build reads each once


def file_state(*paths: Path) -> tuple:
    """The identity of files as they are now (path, modification time, size of each; None for a
    file that cannot be read): a key for work that stays valid while the files are unchanged."""
    out = []
    for path in paths:
        try:
            st = path.stat()
            out.append((str(path.resolve()), st.st_mtime_ns, st.st_size))
        except OSError:
            out.append((str(path), None, None))
    return tuple(out)


def load(snippet: Path, root: Path = ROOT) -> Catalogue:
    """Read and validate the catalogue beside ``snippet``; raise CatalogueError naming file and line.

    A catalogue is parsed once per process while its file is unchanged (the build asks for it
    on every page and every proof badge that shows its snippet)."""
    state = file_state(catalogue_path(snippet))
    if state[0][1] is None:
        return _load(snippet, root)
    key = (state, str(root.resolve()))
    if key not in _LOADED:
        _LOADED[key] = _load(snippet, root)
    return _LOADED[key]


def _load(snippet: Path, root: Path) -> Catalogue:
    path = catalogue_path(snippet)
    rel_snippet = snippet.resolve().relative_to(root.resolve()).as_posix()
    rel = path.resolve().relative_to(root.resolve()).as_posix()
    if not path.is_file():
        raise CatalogueError(f"{rel}: missing (every snippet has a mistake catalogue beside it)")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise CatalogueError(f"{rel}:{mark.line + 1 if mark else 1}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or set(data) - {"proofs", "mistakes", "__line__"}:
        raise CatalogueError(f"{rel}:1: expected the keys 'proofs' and 'mistakes'")
    cat = Catalogue(rel_snippet)
    for section, spec in (data.get("proofs") or {}).items():
        if section == "__line__":
            continue
        line = spec.get("__line__", 1) if isinstance(spec, dict) else 1
        if not isinstance(spec, dict) or spec.get("against") not in AGAINST or not spec.get("what"):
            raise CatalogueError(f"{rel}:{line}: proofs.{section}: needs 'against' (one of "
                                 f"{', '.join(AGAINST)}) and 'what'")
        cat.proofs[section] = Proof(section, spec["against"], str(spec["what"]))
    seen = set()
    for spec in data.get("mistakes") or []:
        line = spec.get("__line__", 1) if isinstance(spec, dict) else 1
        where = f"{rel}:{line}"
        if not isinstance(spec, dict):
            raise CatalogueError(f"{where}: a mistake is a mapping")
        spec = {k: v for k, v in spec.items() if k != "__line__"}
        missing = _KEYS - {"why"} - set(spec)
        if missing or set(spec) - _KEYS:
            raise CatalogueError(f"{where}: keys {sorted(spec)}; needs {sorted(_KEYS - {'why'})} (and optional 'why')")
        if not all(isinstance(spec[k], str) and spec[k] for k in _KEYS - {"why"}):
            raise CatalogueError(f"{where}: every field is a non-empty string")
        if not _NAME.fullmatch(spec["name"]) or spec["name"] in seen:
            raise CatalogueError(f"{where}: name {spec['name']!r} must be a unique lower-case slug")
        if spec["find"] == spec["replace"]:
            raise CatalogueError(f"{where}: {spec['name']}: 'replace' equals 'find'")
        seen.add(spec["name"])
        cat.mistakes.append(Mistake(rel_snippet, where=where, **spec))
    return cat


def all_catalogues(root: Path = ROOT) -> list[Catalogue]:
    return [load(path, root) for path in snippet_files(root)]


# --- applying a mistake -------------------------------------------------------------------------


@dataclass
class Mutant:
    mistake: Mistake
    text: str  # the whole changed snippet file
    code: str  # the changed section, as a page would include it
    line_numbers: list[int]
    changed: list[tuple[str, int, str]]  # diff rows: ("-" or "+", line, text)
    check_lines: list[int]  # lines of the changed file containing `check`, inside the section


def apply(mistake: Mistake, text: str) -> str:
    """``text`` with the mistake's ``find`` replaced; the find must occur exactly once."""
    count = text.count(mistake.find)
    if count != 1:
        raise CatalogueError(f"{mistake.where}: {mistake.name}: 'find' occurs {count} times in "
                             f"{mistake.snippet} (must be exactly once): {mistake.find!r}")
    return text.replace(mistake.find, mistake.replace)


def _changed_lines(before: str, after: str) -> list[tuple[str, int, str]]:
    """``("-", line in the original, text)`` and ``("+", line in the changed file, text)`` rows."""
    import difflib

    a, b = before.split("\n"), after.split("\n")
    out = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag != "equal":
            out += [("-", i + 1, a[i]) for i in range(i1, i2)] + [("+", j + 1, b[j]) for j in range(j1, j2)]
    return out


def mutate(mistake: Mistake, root: Path, workdir: Path) -> Mutant:
    """Apply the mistake to its snippet and cut its section out of the changed file.

    The changed file is written to ``workdir`` (the caller's temporary folder) at the
    snippet's relative path, so that tracebacks show the changed lines.
    """
    original = (root / mistake.snippet).read_text(encoding="utf-8")
    text = apply(mistake, original)
    base = Path(workdir)
    path = base / mistake.snippet
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    sections = {s.name: s for s in snippet_sections(path, base)}
    if mistake.section not in sections:
        raise CatalogueError(f"{mistake.where}: {mistake.name}: no section {mistake.section!r} in {mistake.snippet}")
    section = sections[mistake.section]
    changed = _changed_lines(original, text)
    inside = set(section.line_numbers)
    added = {line for sign, line, _ in changed if sign == "+"}
    if not (added & inside or _removed_inside(changed, inside)):
        raise CatalogueError(f"{mistake.where}: {mistake.name}: the change is outside section {mistake.section!r}")
    lines = text.split("\n")
    check_lines = [n for n in section.line_numbers if mistake.check in lines[n - 1]]
    if not check_lines:
        raise CatalogueError(f"{mistake.where}: {mistake.name}: no line of section {mistake.section!r} "
                             f"contains the check {mistake.check!r}")
    return Mutant(mistake, text, section.code, section.line_numbers, changed, check_lines)


def _removed_inside(changed: list[tuple[str, int, str]], inside: set[int]) -> bool:
    """A deletion whose neighbouring line (unchanged above it) belongs to the section."""
    return any(sign == "-" and (line - 1 in inside or line in inside) for sign, line, _ in changed)


@dataclass
class Outcome:
    mutant: Mutant
    result: BlockResult
    filename: str

    @property
    def failed_line(self) -> int | None:
        loc = self.result.location
        if not loc or not loc.startswith(self.filename + ":"):
            return None
        return int(loc.rsplit(":", 1)[1])

    @property
    def caught(self) -> bool:
        """The run failed, and on a line that holds the catalogue's check."""
        return not self.result.ok and self.failed_line in self.mutant.check_lines

    def verdict(self) -> str:
        m = self.mutant.mistake
        expected = f"the check {m.check!r} (line {', '.join(map(str, self.mutant.check_lines))})"
        if self.result.ok:
            return f"{m.snippet}: mistake {m.name!r} survived: section {m.section!r} passed; {expected} should fail"
        if not self.caught:
            return (f"{m.snippet}: mistake {m.name!r} failed elsewhere ({self.result.status} at line "
                    f"{self.failed_line}: {self.result.error}); {expected} should catch it")
        return f"{m.snippet}: mistake {m.name!r} caught at line {self.failed_line}: {self.result.error}"


def run(mistake: Mistake, runner, root: Path = ROOT, timeout: float = 120.0) -> Outcome:
    """Apply ``mistake``, run its section alone in ``runner`` (a started BlockRunner), say if it was caught."""
    with tempfile.TemporaryDirectory(prefix="kb-mistake-") as tmp:
        mutant = mutate(mistake, root, Path(tmp))
        filename = str(Path(tmp) / mistake.snippet)
        result = runner.run(mutant.code, filename, line_numbers=mutant.line_numbers, timeout=timeout)
    return Outcome(mutant, result, filename)
