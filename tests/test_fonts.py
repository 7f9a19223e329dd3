"""Chinese in charts renders with a real Traditional-Chinese font, never as boxes.

matplotlib reports a glyph it cannot draw with a warning "Glyph N (...) missing from font(s)
...". These tests render zh-TW text to PNG and fail on any such warning; a negative control
proves the check would catch the boxes.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib as mpl
import pandas as pd
import pytest
import seaborn as sns
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font
from matplotlib.text import Text

from kpitools.plots import (
    BUNDLED_FAMILY,
    BUNDLED_FONT,
    _fonts,
    cjk_families,
    dual_axis,
    set_theme,
    trend_chart,
    use_cjk_font,
)

TITLE = "目標達成率與月營收趨勢"
#: The licence asks for the font to stay small enough to vendor (< 8 MB).
MAX_FONT_BYTES = 8 * 1024 * 1024


@pytest.fixture(autouse=True)
def _restore_rcparams():
    with mpl.rc_context():
        yield


def _render(fig: Figure) -> list[str]:
    """Save ``fig`` as PNG and return the text of every warning raised while drawing."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(io.BytesIO(), format="png")
    return [str(w.message) for w in caught]


def _missing(messages: list[str]) -> list[str]:
    return [m for m in messages if "missing" in m.lower()]


def _monthly() -> pd.DataFrame:
    months = [f"2024-{m:02d}" for m in range(1, 7)]
    revenue = [1.10e6, 1.25e6, 1.32e6, 1.28e6, 1.41e6, 1.55e6]
    return pd.DataFrame({"revenue": revenue, "attainment": [r / 1.4e6 for r in revenue]},
                        index=months)


def test_bundled_font_is_noto_sans_tc_under_8mb_with_its_licence():
    assert BUNDLED_FONT.is_file()
    assert BUNDLED_FONT.stat().st_size < MAX_FONT_BYTES
    face = FT2Font(str(BUNDLED_FONT))
    assert face.family_name == BUNDLED_FAMILY == "Noto Sans TC"
    for char in TITLE + "臺灣營收季度":
        assert face.get_char_index(ord(char)) != 0, char
    licence = (BUNDLED_FONT.parent / "OFL.txt").read_text("utf-8")
    assert "SIL OPEN FONT LICENSE Version 1.1" in licence
    assert "Copyright 2014-2021 Adobe" in licence


def test_importing_kpitools_plots_registers_the_bundled_file():
    entries = [e for e in font_manager.fontManager.ttflist if Path(e.fname) == BUNDLED_FONT]
    assert [e.name for e in entries] == ["Noto Sans TC"]
    found = font_manager.findfont(font_manager.FontProperties(family="Noto Sans TC"),
                                  fallback_to_default=False)
    assert Path(found) == BUNDLED_FONT
    assert _fonts.register_fonts() is True  # idempotent: still one entry
    assert sum(Path(e.fname) == BUNDLED_FONT for e in font_manager.fontManager.ttflist) == 1


def test_use_cjk_font_puts_the_bundled_family_first_and_only_installed_families():
    families = use_cjk_font()
    assert families[0] == "Noto Sans TC"
    assert families[-1] == "DejaVu Sans"
    assert mpl.rcParams["font.family"] == families
    assert mpl.rcParams["font.sans-serif"][: len(families)] == families
    assert mpl.rcParams["axes.unicode_minus"] is False
    installed = {e.name for e in font_manager.fontManager.ttflist}
    assert set(families) <= installed


def test_fallback_families_that_are_not_installed_are_left_out(monkeypatch):
    monkeypatch.setattr(_fonts, "CJK_FALLBACKS", ("No Such Font TC", "DejaVu Serif"))
    assert cjk_families() == ["Noto Sans TC", "DejaVu Serif"]


def test_faces_of_one_collection_are_listed_once(monkeypatch):
    """Two families in the same file (the TC and JP faces of one .ttc) cover the same
    characters: only the first is a useful fallback."""
    from types import SimpleNamespace

    entries = [SimpleNamespace(name="Noto Sans TC", fname="/f/NotoSansTC-Regular.otf"),
               SimpleNamespace(name="Noto Sans CJK TC", fname="/f/NotoSansCJK-Regular.ttc"),
               SimpleNamespace(name="Noto Sans CJK JP", fname="/f/NotoSansCJK-Regular.ttc"),
               SimpleNamespace(name="PingFang TC", fname="/f/PingFang.ttc"),
               SimpleNamespace(name="PingFang TC", fname="/f/NotoSansCJK-Regular.ttc")]
    monkeypatch.setattr(_fonts, "register_fonts", lambda: True)
    monkeypatch.setattr(font_manager.fontManager, "ttflist", entries)
    monkeypatch.setattr(_fonts, "CJK_FALLBACKS",
                        ("Noto Sans CJK TC", "Noto Sans CJK JP", "PingFang TC"))
    # PingFang stays: one of its files (/f/PingFang.ttc) is new
    assert cjk_families() == ["Noto Sans TC", "Noto Sans CJK TC", "PingFang TC"]


def test_a_missing_bundled_file_is_reported_not_raised(monkeypatch, tmp_path):
    monkeypatch.setattr(_fonts, "BUNDLED_FONT", tmp_path / "gone.otf")
    assert _fonts.register_fonts() is False


def test_negative_control_default_font_draws_boxes_and_warns():
    # Without the CJK fonts matplotlib must complain; otherwise the checks below prove nothing.
    with mpl.rc_context({"font.family": ["DejaVu Sans"]}):
        fig = Figure()
        fig.suptitle(TITLE)
        messages = _render(fig)
    assert _missing(messages), messages


def test_zh_tw_chart_renders_without_missing_glyphs(tmp_path):
    data = _monthly()
    fig = dual_axis(data, bar="revenue", line="attainment", bar_label="月營收",
                    line_label="目標達成率", line_target=1.0, title=TITLE, lang="zh-TW")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(tmp_path / "trend.png")
    assert not _missing([str(w.message) for w in caught])
    assert (tmp_path / "trend.png").stat().st_size > 10_000
    assert fig.axes[0].get_title(loc="left") == TITLE
    # The title is drawn with the bundled Traditional-Chinese face.
    (title,) = [text for text in fig.findobj(Text) if text.get_text() == TITLE]
    assert Path(font_manager.findfont(title.get_fontproperties())) == BUNDLED_FONT


def test_fonts_survive_a_seaborn_theme_through_set_theme():
    sns.set_theme()  # resets font.family to ['sans-serif'] and the sans-serif list
    assert mpl.rcParams["font.family"] == ["sans-serif"]
    set_theme("zh-TW")
    assert mpl.rcParams["font.family"][0] == "Noto Sans TC"
    fig = Figure()
    ax = fig.add_subplot()
    ax.plot([1, 2, 3], [3, 1, 2])
    ax.set_title(TITLE)
    ax.set_xlabel("月份")
    assert not _missing(_render(fig))


def test_chart_functions_render_chinese_even_after_a_bare_seaborn_theme():
    sns.set_theme(style="darkgrid")  # a notebook that never calls kpitools.plots.set_theme
    series = _monthly()["revenue"]
    fig = trend_chart(series, title=TITLE, unit="currency", target=1.4e6, lang="zh-TW")
    assert not _missing(_render(fig))


def test_set_theme_checks_the_language():
    with pytest.raises(Exception, match=r"(?s)unknown language 'tw'.*Hint: use 'zh-TW'"):
        set_theme("tw")
