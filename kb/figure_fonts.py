"""Korean figures with a minus sign: koreanize-matplotlib's NanumGothic, with U+2212 added.

koreanize-matplotlib (imported by every figure of the site) makes NanumGothic Matplotlib's font.
NanumGothic has no MINUS SIGN (U+2212), and Matplotlib's mathtext always draws ``-`` as U+2212 in
the font of the surrounding text (``axes.unicode_minus`` does not apply there): a log axis's tick
``$\\mathdefault{10^{-2}}$`` came out as ``10^□2`` with "Font 'default' does not have a glyph for
'\\u2212'" on stderr, once per label. A font list with a fallback (DejaVu Sans) does not help mathtext,
and DejaVu Sans first would break Hangul inside a label that also holds ``$...$``.

So this module makes a copy of each NanumGothic face that has a minus: the plus sign's
horizontal bar as glyph ``uni2212``, its advance width that of ``+`` (the mathematical sign, as
digits and ``+`` line up). The copies are made once (about 0.3 s of CPU each, fontTools) into
``kb-fonts/`` of Matplotlib's cache folder (``matplotlib.get_cachedir()``: shared by every checkout
and copy of the project), keyed by the original file, and registered with Matplotlib in place of the
originals, under the same family name, right after ``koreanize_matplotlib`` runs.

:func:`install` is called where figures are drawn: in each code block's process before its code
(kb/runner/child.py) and in the notebooks' kernel at its start (kb/notebooks.py). It imports
nothing itself: it waits for the code's own ``import koreanize_matplotlib`` (an import hook), so a
block that draws nothing pays nothing, and a block that draws without that import sees
Matplotlib's defaults, as on a reader's machine.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import tempfile
from pathlib import Path

MODULE = "koreanize_matplotlib"
# every face koreanize-matplotlib registers ("bold" is the ExtraBold file: its weight reads 700, Bold 600)
FILES = ("NanumGothic.ttf", "NanumGothicBold.ttf", "NanumGothicExtraBold.ttf", "NanumGothicLight.ttf")
FORMAT = "1"  # bump when the glyph or the file layout changes


class FigureFontError(ValueError):
    """A copy with a minus could not be made; the message names the file, in Korean."""


def original_dir() -> Path | None:
    """koreanize-matplotlib's font folder, found without importing it (None if not installed)."""
    spec = importlib.util.find_spec(MODULE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "fonts"


def cache_dir() -> Path:
    """``kb-fonts`` in Matplotlib's cache folder (``$MPLCONFIGDIR``, else ``~/.cache/matplotlib``)."""
    import matplotlib

    return Path(matplotlib.get_cachedir()) / "kb-fonts"


def patched_path(original: Path, cache: Path) -> Path:
    """Where the copy of ``original`` with a minus lives: named by the original's size and time."""
    st = original.stat()
    return cache / f"{original.stem}-minus-{FORMAT}-{st.st_size}-{st.st_mtime_ns}.ttf"


def add_minus(original: Path, dest: Path) -> None:
    """Write ``dest``: ``original`` with U+2212 mapped to a new glyph, the bar of its ``+``."""
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont

    # recalcBBoxes=False: every other glyph is written back as read. Recomputing the bounds would
    # decode and encode every glyph of the face (20,000 in three of the four: 5-7 s of CPU, against 0.3 s);
    # the bar lies inside "+", so the font's bounds and maxima hold it already (checked below).
    font = TTFont(str(original), recalcTimestamp=False, recalcBBoxes=False)
    for tag in [t for t in font.keys() if t.startswith("TSI")]:  # VTT hinting sources: unused, large
        del font[tag]
    cmap = font.getBestCmap()
    if 0x2212 in cmap:  # nothing to add
        font.save(str(dest))
        return
    glyf, plus = font["glyf"], cmap[ord("+")]
    points = glyf[plus].getCoordinates(glyf)[0]
    # the bar of "+": the y values that span the whole width of the glyph
    x_min, x_max = min(x for x, _ in points), max(x for x, _ in points)
    bar = sorted({y for x, y in points if x in (x_min, x_max)})
    y_min, y_max = bar[0], bar[-1]
    if not 0 < y_max - y_min < (x_max - x_min) / 2:
        raise FigureFontError(f"{original}: '+'의 가로 막대를 찾지 못해 빼기 기호를 더하지 못했습니다 (y {bar})")
    pen = TTGlyphPen(None)
    for point in [(x_min, y_min), (x_min, y_max), (x_max, y_max), (x_max, y_min)]:  # clockwise: filled
        (pen.lineTo if pen.points else pen.moveTo)(point)
    pen.closePath()
    glyph = pen.glyph()
    glyph.recalcBounds(glyf)
    head, maxp = font["head"], font["maxp"]
    if not (head.xMin <= glyph.xMin and glyph.xMax <= head.xMax and head.yMin <= glyph.yMin and glyph.yMax <= head.yMax
            and maxp.maxPoints >= 4 and maxp.maxContours >= 1):
        raise FigureFontError(f"{original}: 빼기 기호가 글꼴에 기록된 경계 밖으로 나가 더하지 않았습니다")
    glyf["uni2212"] = glyph  # appended to the glyph order
    font["hmtx"]["uni2212"] = font["hmtx"][plus]
    for table in font["cmap"].tables:
        if table.isUnicode():
            table.cmap[0x2212] = "uni2212"
    font.save(str(dest))


def ensure(cache: Path | None = None) -> dict[Path, Path]:
    """The copies with a minus, made if missing: {original: copy}. Safe to call from several
    processes at once (each writes a temporary file and renames it into place). Raises
    :class:`FigureFontError` when a copy cannot be made (the build stops: figures would show □)."""
    folder = original_dir()
    if folder is None:
        return {}
    cache = cache or cache_dir()
    made = {}
    for name in FILES:
        original = folder / name
        if not original.is_file():
            continue
        dest = patched_path(original, cache)
        if not dest.is_file():
            from fontTools.ttLib import TTLibError

            try:
                _write_copy(original, dest)
            except OSError as exc:
                raise FigureFontError(f"{dest}: 빼기 기호를 더한 그림 글꼴을 쓸 수 없습니다 ({exc})") from None
            except TTLibError as exc:  # not a font (a broken install of koreanize-matplotlib)
                raise FigureFontError(f"{original}: 글꼴로 읽을 수 없어 빼기 기호를 더하지 못했습니다 ({exc})") from None
        made[original] = dest
    return made


def _write_copy(original: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-", suffix=".ttf")
    os.close(fd)
    try:
        add_minus(original, Path(tmp))
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide it from other users of the checkout
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def use_patched(cache: Path | None = None) -> None:
    """Replace koreanize-matplotlib's fonts in Matplotlib's font list by the copies with a minus."""
    from matplotlib import font_manager

    copies = ensure(cache)
    originals = {os.path.normcase(str(p)) for p in copies}
    manager = font_manager.fontManager
    manager.ttflist = [e for e in manager.ttflist if os.path.normcase(e.fname) not in originals]
    for copy in copies.values():
        manager.addfont(copy)  # also clears the font lookups cached so far


class _ThenPatch(importlib.abc.Loader):
    """koreanize_matplotlib's own loader, then :func:`use_patched`."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        use_patched()


class _Hook(importlib.abc.MetaPathFinder):
    """Finds koreanize_matplotlib as Python would, and wraps its loader."""

    def find_spec(self, name, path=None, target=None):
        if name != MODULE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _ThenPatch(spec.loader)
        return spec


def install() -> None:
    """From now on, figures of this process that use NanumGothic have a minus sign."""
    if MODULE in sys.modules:
        use_patched()
    elif not any(isinstance(f, _Hook) for f in sys.meta_path):
        sys.meta_path.insert(0, _Hook())
