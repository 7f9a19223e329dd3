"""The kpitools look: palette, theme, axis formatters and small helpers shared by the charts.

Every chart function draws inside :func:`styled`, a ``matplotlib.rc_context`` holding the kpitools
look, so charts look the same whatever theme a notebook set. Figures are built as
``matplotlib.figure.Figure`` objects (not through ``pyplot``), so nothing piles up in pyplot's
figure registry; Jupyter displays a returned Figure, and ``fig.savefig`` writes it to a file.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from kpitools._errors import KpitoolsError, PeriodError
from kpitools.i18n import UNITS, check_lang, fmt_value, period_label
from kpitools.plots._fonts import use_cjk_font

__all__ = ["PALETTE", "STATUS_COLORS", "set_theme"]

#: Series colours, in order: deep blue, teal, amber, slate, plum, olive.
PALETTE = ("#1F4E79", "#2A9D8F", "#E9A23B", "#6C7A89", "#8E5572", "#7A9E3B")
PRIMARY = PALETTE[0]
#: Emphasis colour (bottleneck, highlighted bar).
HIGHLIGHT = "#D1495B"
#: De-emphasised bars and reference lines.
MUTED = "#B8C2CC"
REFERENCE = "#4A4A4A"
POSITIVE = "#2E7D32"
NEGATIVE = "#C62828"
#: Goal status colours: green / amber / red, chosen to stay distinct for red-green colour blindness
#: by lightness as well as hue.
STATUS_COLORS = {
    "on_track": "#2E7D32", "achieved": "#2E7D32",
    "at_risk": "#F2A900", "near_miss": "#F2A900",
    "off_track": "#C62828", "missed": "#C62828",
    "no_data": "#B8C2CC",
}

FIGSIZE = (8.0, 4.5)
TITLE_SIZE = 14
LABEL_SIZE = 10
#: Data labels switch to compact form (12.5萬元, NT$125K) from these magnitudes on.
COMPACT_MONEY_FROM = 1e4
COMPACT_COUNT_FROM = 1e5
#: Rotate x labels when (number of labels × widest label) exceeds this many half-width
#: character cells (a Han character counts two), so labels never overlap on an 8-inch figure.
MAX_FLAT_LABEL_CELLS = 80
XLABEL_ROTATION = 35
#: Most x labels shown at once; beyond this only every n-th period is labelled.
MAX_ROTATED_LABELS = 16

_RC: dict[str, Any] = {
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "axes.edgecolor": "#9AA5B1",
    "axes.grid": True,
    "axes.grid.axis": "y",
    "axes.axisbelow": True,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": TITLE_SIZE,
    # Only the Regular weight is bundled: asking for bold would log a findfont fallback warning.
    "axes.titleweight": "normal",
    "axes.titlecolor": "#1A1A1A",
    "axes.titlelocation": "left",
    "axes.titlepad": 12,
    "axes.labelsize": LABEL_SIZE,
    "axes.labelcolor": "#333333",
    "axes.prop_cycle": mpl.cycler(color=list(PALETTE)),
    "grid.color": "#E3E8ED",
    "grid.linewidth": 0.8,
    "xtick.color": "#333333",
    "ytick.color": "#333333",
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.frameon": False,
    "legend.fontsize": 9,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    # "$" in "NT$1,234 → NT$1,500" must stay a dollar sign, not start mathtext.
    "text.parse_math": False,
}


def set_theme(lang: str = "zh-TW", *, style: str = "whitegrid", context: str = "notebook") -> None:
    """Apply a seaborn theme in the kpitools palette, THEN re-apply the CJK fonts.

    ``seaborn.set_theme`` resets ``font.family``, which would bring back boxes for Chinese; this
    wrapper calls it and then :func:`kpitools.plots.use_cjk_font`. ``lang`` is checked but the
    same fonts serve both languages (an English chart may still show a Chinese client name).
    """
    import seaborn as sns

    check_lang(lang)
    sns.set_theme(context=context, style=style, palette=list(PALETTE))
    use_cjk_font()


@contextmanager
def styled() -> Iterator[None]:
    """Context in which charts are drawn: CJK fonts plus the kpitools look."""
    use_cjk_font()  # global on purpose: lazily drawn tick labels must find the CJK font too
    with mpl.rc_context(_RC):
        yield


def new_figure(figsize: tuple[float, float] = FIGSIZE) -> tuple[Figure, Axes]:
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def check_unit(unit: str) -> str:
    if unit not in UNITS:
        raise KpitoolsError(
            f"unknown unit {unit!r} for a chart.\nHint: use one of {', '.join(UNITS)}."
        )
    return unit


def value_formatter(unit: str, lang: str, currency: str) -> FuncFormatter:
    """Axis tick formatter writing values as the unit says (compact money, percentages...)."""
    check_unit(unit)

    def _format(value: float, _pos: int | None = None) -> str:
        if unit in ("rate", "percent"):
            return fmt_value(value, "rate", lang, digits=0)
        if unit in ("currency", "count"):
            return fmt_value(value, unit, lang, currency=currency, compact=True)
        return f"{value:,.{0 if float(value).is_integer() else 1}f}"

    return FuncFormatter(_format)


def format_axis(axis: Axis, unit: str, lang: str, currency: str) -> None:
    """Tick labels in ``unit`` (compact money, percentages); whole-number ticks for counts."""
    axis.set_major_formatter(value_formatter(unit, lang, currency))
    if unit == "count":
        axis.set_major_locator(MaxNLocator(integer=True))


def value_text(value: float, unit: str, lang: str, currency: str) -> str:
    """A data label: full precision for rates, compact for money and large counts."""
    compact = (unit == "currency" and abs(value) >= COMPACT_MONEY_FROM) or (
        unit == "count" and abs(value) >= COMPACT_COUNT_FROM)
    return fmt_value(value, unit, lang, currency=currency, compact=compact)


def tick_text(value: object, lang: str) -> str:
    """Label for an index value: periods and dates read as periods, anything else as text."""
    if isinstance(value, pd.Period):
        value = value.to_timestamp()
    if isinstance(value, pd.Timestamp):
        return period_label(f"{value.year:04d}-{value.month:02d}", lang)
    if isinstance(value, str):
        try:
            return period_label(value, lang)
        except PeriodError:
            return value
    if hasattr(value, "label") and hasattr(value, "freq"):  # kpitools Period
        return period_label(value, lang)
    return str(value)


def _cells(text: str) -> int:
    """Display width in half-width cells: East Asian wide characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def set_xticks(ax: Axes, labels: Sequence[str]) -> None:
    labels = list(labels)
    if len(labels) > MAX_ROTATED_LABELS:  # keep every step-th label so rotated ones never collide
        step = math.ceil(len(labels) / MAX_ROTATED_LABELS)
        labels = [label if i % step == 0 else "" for i, label in enumerate(labels)]
    ax.set_xticks(list(range(len(labels))), labels)
    widest = max((_cells(s) for s in labels), default=0)
    if len(labels) * widest > MAX_FLAT_LABEL_CELLS:
        for label in ax.get_xticklabels():
            label.set_rotation(XLABEL_ROTATION)
            label.set_horizontalalignment("right")


def title_and_labels(ax: Axes, title: str | None, xlabel: str | None, ylabel: str | None) -> None:
    if title:
        ax.set_title(title)
    ax.set_xlabel(xlabel or "")
    ax.set_ylabel(ylabel or "")


def as_series(data: object, what: str) -> pd.Series:
    """Accept a Series or a mapping (ordered as given); anything else is a teaching error."""
    if isinstance(data, pd.Series):
        series = data
    elif isinstance(data, Mapping):
        series = pd.Series(dict(data), dtype="float64")
    else:
        raise KpitoolsError(
            f"{what} must be a pandas Series or a dict of label -> number, got "
            f"{type(data).__name__}.\nHint: for a DataFrame pick one column, e.g. df['revenue']."
        )
    if series.empty:
        raise KpitoolsError(f"{what} is empty: nothing to draw.\nHint: check the period filter.")
    return series


def require_columns(df: object, columns: Sequence[str], what: str, hint: str) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise KpitoolsError(
            f"{what} must be a pandas DataFrame, got {type(df).__name__}.\nHint: {hint}"
        )
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise KpitoolsError(
            f"{what} lacks column(s) {missing}. Columns present: {list(df.columns)}.\nHint: {hint}"
        )
    if df.empty:
        raise KpitoolsError(f"{what} is empty: nothing to draw.\nHint: check the period filter.")
    return df


def require_numbers(values: object, what: str) -> None:
    """Refuse data with no finite number at all (e.g. every value missing in the period)."""
    array = pd.DataFrame(values).apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(array).any():
        raise KpitoolsError(
            f"{what} has no numbers to draw (every value is missing).\n"
            "Hint: check the period filter, or that the KPI has data for these periods."
        )
