"""A CJK font for charts, installed with channelkit, so Chinese channel and SKU names draw on a
fresh machine instead of as empty boxes with "Glyph ... missing from font" warnings.

The font is Noto Sans CJK (SIL Open Font License 1.1) from the ``noto-cjk-sans-otc`` package on the
package index, a plain font file with no code. It is registered with matplotlib at run time and
placed *after* the default Latin font in the sans-serif list: matplotlib (3.6+) falls back glyph by
glyph, so Latin text keeps its look and only CJK characters come from Noto.
"""
from __future__ import annotations

import dataclasses
from functools import lru_cache
from pathlib import Path

from matplotlib import font_manager

CJK_FAMILY = "Noto Sans CJK SC"  # simplified Chinese face of the collection
LATIN_FAMILY = "DejaVu Sans"  # matplotlib's own default, always present


@lru_cache(maxsize=1)
def cjk_font_path() -> Path | None:
    """Path of the bundled Noto Sans CJK collection, or ``None`` when the package is absent."""
    try:
        from noto_cjk_sans_otc import FONT_PATH
    except ImportError:  # pragma: no cover - a dependency of channelkit; only a broken install lacks it
        return None
    path = Path(str(FONT_PATH))
    return path if path.is_file() else None


def register_cjk_font() -> list[str]:
    """Register the CJK font with matplotlib (once) and return the sans-serif fallback list.

    The list is ``[DejaVu Sans, Noto Sans CJK SC]`` when the font is installed, else only the
    Latin font (CJK text then draws as boxes, as before).
    """
    path = cjk_font_path()
    if path is None:
        return [LATIN_FAMILY]
    if not any(f.fname == str(path) for f in font_manager.fontManager.ttflist):
        font_manager.fontManager.addfont(str(path))
        # The collection has one weight; list it as bold too, so bold titles use its regular glyphs
        # instead of logging "Failed to find font weight bold" for every chart.
        regular = [f for f in font_manager.fontManager.ttflist if f.fname == str(path) and f.name == CJK_FAMILY]
        font_manager.fontManager.ttflist.extend(dataclasses.replace(f, weight=700) for f in regular)
        font_manager.fontManager._findfont_cached.cache_clear()
    return [LATIN_FAMILY, CJK_FAMILY]
