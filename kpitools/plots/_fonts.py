"""Traditional-Chinese fonts for matplotlib, in every environment.

matplotlib's default DejaVu Sans has no Han glyphs: Chinese titles come out as boxes with a
``Glyph ... missing from font(s)`` warning. kpitools ships Noto Sans TC Regular (SIL Open Font
License 1.1, see ``fonts/OFL.txt``; version 2.004, © Adobe, from the Noto CJK project) and
registers it with matplotlib when this module is imported, so a plain ``pip install`` renders
Chinese without any system font. System CJK fonts (Debian ``fonts-noto-cjk``, macOS PingFang,
Windows Microsoft JhengHei) are used as fallbacks when present.

Registering a font does not make matplotlib use it: :func:`use_cjk_font` puts the CJK families
first in ``rcParams["font.family"]`` (matplotlib then falls back glyph by glyph along that list).
``seaborn.set_theme()`` resets the fonts, so call :func:`use_cjk_font` again after it, or use
:func:`kpitools.plots.set_theme`, which does both.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import matplotlib as mpl
from matplotlib import font_manager

__all__ = ["BUNDLED_FAMILY", "BUNDLED_FONT", "CJK_FALLBACKS", "cjk_families", "register_fonts",
           "use_cjk_font"]

#: Family name inside the bundled file (what ``rcParams["font.family"]`` refers to).
BUNDLED_FAMILY = "Noto Sans TC"
#: Path of the bundled OpenType file.
BUNDLED_FONT = Path(str(resources.files(__package__).joinpath("fonts", "NotoSansTC-Regular.otf")))
#: System families tried after the bundled one, Traditional-Chinese faces first. Japanese and
#: Simplified faces still render Traditional text, with some regional glyph shapes.
CJK_FALLBACKS = (
    "Noto Sans CJK TC",
    "Source Han Sans TC",
    "Noto Sans CJK HK",
    "Microsoft JhengHei",
    "PingFang TC",
    "Heiti TC",
    "Noto Sans CJK JP",
    "Noto Sans CJK SC",
    "WenQuanYi Zen Hei",
    "Arial Unicode MS",
)
#: Latin fallback matplotlib always has.
LATIN_FALLBACK = "DejaVu Sans"


def register_fonts() -> bool:
    """Add the bundled Noto Sans TC to matplotlib's font list (idempotent).

    Returns True when the bundled file is registered, False when it is missing (a stripped
    install); system CJK fonts are then the only option.
    """
    if not BUNDLED_FONT.is_file():
        return False
    registered = {Path(entry.fname) for entry in font_manager.fontManager.ttflist}
    if BUNDLED_FONT not in registered:
        font_manager.fontManager.addfont(str(BUNDLED_FONT))
    return True


def cjk_families() -> list[str]:
    """The CJK families matplotlib can use here, in order of preference.

    Only installed families are listed, so matplotlib never logs "findfont: Font family ... not
    found" for a fallback this machine lacks. A family whose every file an earlier family
    already uses is left out: the faces of one collection (``NotoSansCJK-Regular.ttc`` holds
    TC, HK, JP and SC) cover the same characters, so only the first could ever supply a glyph,
    while each family in the list costs a font lookup every time matplotlib lays out a text.
    """
    register_fonts()
    files: dict[str, set[str]] = {}
    for entry in font_manager.fontManager.ttflist:
        files.setdefault(entry.name, set()).add(str(entry.fname))
    families: list[str] = []
    used: set[str] = set()
    for name in (BUNDLED_FAMILY, *CJK_FALLBACKS):
        if name in files and not files[name] <= used:
            families.append(name)
            used |= files[name]
    return families


def use_cjk_font() -> list[str]:
    """Make matplotlib render Traditional Chinese: CJK families first, then DejaVu Sans.

    Sets ``font.family`` to the full fallback list (matplotlib ≥ 3.6 falls back per glyph along
    it), puts the same families first in ``font.sans-serif`` (so code that resets
    ``font.family`` to ``"sans-serif"`` still gets a CJK face), and turns ``axes.unicode_minus``
    off so negative tick labels use a plain hyphen in every font. Returns the family list.
    """
    families = [*cjk_families(), LATIN_FALLBACK]
    others = [name for name in mpl.rcParams["font.sans-serif"] if name not in families]
    mpl.rcParams["font.family"] = families
    mpl.rcParams["font.sans-serif"] = [*families, *others]
    mpl.rcParams["axes.unicode_minus"] = False
    return families


register_fonts()
