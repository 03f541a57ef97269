"""CJK font guarantee shared by matplotlib, wordcloud and the HTML report.

Chinese text must never render as empty boxes ("tofu"), whatever fonts the
machine happens to have. This module finds one font file that covers Chinese:

1. a system CJK font already known to matplotlib (Noto Sans CJK SC, Source Han
   Sans SC, WenQuanYi, Droid Sans Fallback, ...), verified by reading its
   ``cmap`` with fontTools; otherwise
2. ``NotoSansSC-Regular.otf`` shipped inside the pinned PyPI package
   ``pylopdf-fonts-zh-cn``, so a fresh virtualenv always has one.

Only single-face files, or the first face of a collection (``.ttc``), are
accepted, so the returned path alone identifies the font for every consumer
(matplotlib, Pillow/wordcloud, fontTools).

Typical use, at the top of a notebook::

    from plan_analysis.fonts import use_cjk_font
    font_path = use_cjk_font()          # matplotlib now renders Chinese
    WordCloud(font_path=str(font_path))  # same font for word clouds

Nothing happens at import time; the search runs on first call and is cached.
"""

from __future__ import annotations

import functools
import logging
import unicodedata
import warnings
from pathlib import Path

__all__ = ["find_cjk_font", "use_cjk_font", "missing_glyphs", "SAMPLE_TEXT"]

log = logging.getLogger(__name__)

#: Characters every accepted font must cover.
SAMPLE_TEXT = "街道计划总结增长亿元"

#: Family names (as matplotlib reports them) tried in order of preference.
PREFERRED_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
)

#: Font file shipped in the pinned ``pylopdf-fonts-zh-cn`` package.
BUNDLED_PACKAGE = "pylopdf_fonts_zh_cn"
BUNDLED_FILE = "NotoSansSC-Regular.otf"

#: Regex (``warnings`` message filter) for matplotlib's missing-glyph warning.
GLYPH_WARNING = r"Glyph .* missing from font"

_IGNORED_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})


@functools.lru_cache(maxsize=None)
def _codepoints(path: str) -> frozenset[int]:
    """Return the code points mapped by the font at ``path`` (first face)."""
    from fontTools.ttLib import TTFont

    with TTFont(path, fontNumber=0, lazy=True) as font:
        return frozenset(font.getBestCmap() or {})


def _covers(path: str | Path, text: str = SAMPLE_TEXT) -> bool:
    """Return True if the font at ``path`` maps every character of ``text``."""
    try:
        cmap = _codepoints(str(path))
    except Exception as exc:  # unreadable/unsupported font file: just skip it
        log.debug("cannot read cmap of %s: %s", path, exc)
        return False
    return all(ord(ch) in cmap for ch in text)


def _system_font() -> Path | None:
    """Return the first preferred system CJK font covering SAMPLE_TEXT."""
    from matplotlib import font_manager

    entries = font_manager.fontManager.ttflist
    for family in PREFERRED_FAMILIES:
        for entry in entries:
            if entry.name != family or getattr(entry, "index", 0) != 0:
                continue
            if _covers(entry.fname):
                return Path(entry.fname)
            log.debug("system font %s (%s) lacks sample glyphs", family, entry.fname)
    return None


def _bundled_font() -> Path | None:
    """Return the Noto Sans SC file shipped in pylopdf-fonts-zh-cn, if installed."""
    from importlib import resources

    try:
        path = Path(str(resources.files(BUNDLED_PACKAGE).joinpath(BUNDLED_FILE)))
    except ModuleNotFoundError:
        return None
    return path if path.is_file() and _covers(path) else None


@functools.lru_cache(maxsize=None)
def find_cjk_font() -> Path:
    """Return the path of a font file that covers Simplified Chinese.

    Prefers a system font, falls back to the bundled Noto Sans SC; the result
    is cached for the process.

    >>> find_cjk_font().suffix.lower() in {".otf", ".ttf", ".ttc", ".otc"}
    True
    """
    path = _system_font()
    if path is not None:
        log.info("CJK font: system font %s", path)
        return path
    path = _bundled_font()
    if path is not None:
        log.info("CJK font: bundled %s", path.name)
        return path
    raise RuntimeError(
        "No font covering Chinese was found. Searched matplotlib's font list for "
        f"{', '.join(PREFERRED_FAMILIES)} and the package {BUNDLED_PACKAGE!r} "
        f"for {BUNDLED_FILE}. Install the pinned requirements "
        "(pip install -r requirements.txt, which includes pylopdf-fonts-zh-cn) "
        "or a system CJK font (e.g. apt-get install fonts-noto-cjk)."
    )


def use_cjk_font(*, strict: bool = True) -> Path:
    """Make matplotlib render Chinese with the CJK font and return its path.

    Registers the font, puts it first in ``font.sans-serif``, sets
    ``axes.unicode_minus=False`` and, when ``strict``, turns matplotlib's
    "Glyph ... missing from font(s)" warning into an error so missing
    characters fail loudly instead of drawing boxes. ``strict=False`` leaves
    the warning filters untouched. Safe to call repeatedly.

    >>> import matplotlib
    >>> with matplotlib.rc_context():
    ...     path = use_cjk_font(strict=False)
    ...     matplotlib.rcParams["axes.unicode_minus"]
    False
    """
    import matplotlib
    from matplotlib import font_manager

    path = find_cjk_font()
    known = {Path(entry.fname) for entry in font_manager.fontManager.ttflist}
    if path not in known:
        font_manager.fontManager.addfont(str(path))
    name = font_manager.FontProperties(fname=str(path)).get_name()

    rc = matplotlib.rcParams
    rc["font.family"] = ["sans-serif"]
    rc["font.sans-serif"] = [name] + [f for f in rc["font.sans-serif"] if f != name]
    rc["axes.unicode_minus"] = False
    if strict:
        # filterwarnings moves an identical existing filter to the front,
        # so repeated calls do not pile up duplicates.
        warnings.filterwarnings("error", message=GLYPH_WARNING, category=UserWarning)
    log.debug("matplotlib uses %r from %s (strict=%s)", name, path, strict)
    return path


def missing_glyphs(text: str, font_path: str | Path | None = None) -> set[str]:
    """Return the characters of ``text`` that the font cannot draw.

    Whitespace and control/format characters are ignored. ``font_path``
    defaults to :func:`find_cjk_font`.

    >>> missing_glyphs("铁西街道 2024年 增长5％")
    set()
    >>> missing_glyphs("\\U0010fffd")
    {'\\U0010fffd'}
    """
    cmap = _codepoints(str(font_path if font_path is not None else find_cjk_font()))
    return {
        ch
        for ch in set(text)
        if ord(ch) not in cmap
        and not ch.isspace()
        and unicodedata.category(ch) not in _IGNORED_CATEGORIES
    }
