"""Charts of KPI values over time and across categories, in zh-TW or English.

Every function takes plain pandas objects, returns a ``matplotlib.figure.Figure`` (display it in
Jupyter by making it the cell's last value, save it with ``fig.savefig(path)``), and writes its
default titles and axis labels in ``lang``. Values are in the units the metrics return: money
in the client's currency, rates as fractions in [0, 1]. Index values that are periods
(``"2024Q3"``, ``"2024-07"``, timestamps) are written as periods in ``lang``.

``unit`` is one of the catalog units (currency, rate, ratio, count, months, days, hours,
seconds, score); it decides the axis format (``120萬元`` / ``NT$1.2M``, ``25%``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from kpitools._errors import KpitoolsError
from kpitools.i18n import check_lang, fmt_pct, t
from kpitools.plots._style import (
    FIGSIZE,
    HIGHLIGHT,
    MUTED,
    PALETTE,
    PRIMARY,
    REFERENCE,
    as_series,
    check_unit,
    format_axis,
    new_figure,
    require_columns,
    require_numbers,
    set_xticks,
    styled,
    tick_text,
    title_and_labels,
    value_formatter,
    value_text,
)

__all__ = ["bar_chart", "cohort_heatmap", "dual_axis", "reasons_chart", "share_bar",
           "trend_chart"]

#: Heatmaps with more columns than this get no cell labels (they would not fit).
MAX_ANNOTATED_COLUMNS = 18
#: White rounded box behind labels drawn over bars.
_LABEL_BOX = {"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none", "alpha": 0.85}
#: Default number of categories in a share chart before the rest become "Other".
DEFAULT_TOP = 8


def _unit_label(unit: str, lang: str, currency: str) -> str:
    word = t(f"unit.{unit}", lang)
    if unit != "currency":
        return word
    return f"{word}（{currency}）" if lang == "zh-TW" else f"{word} ({currency})"


def _as_frame(data: object, what: str) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        frame = data
        if frame.empty or frame.shape[1] == 0:
            raise KpitoolsError(f"{what} is empty: nothing to draw.\n"
                                "Hint: check the period filter.")
        return frame
    series = as_series(data, what)
    return series.to_frame(name=series.name if series.name is not None else "value")


def trend_chart(data: pd.Series | pd.DataFrame, *, title: str | None = None,
                ylabel: str | None = None, unit: str = "count",
                target: float | pd.Series | Mapping | None = None, lang: str = "zh-TW",
                currency: str = "TWD", xlabel: str | None = None) -> Figure:
    """A KPI over time: one line per series, optional target, the latest value labelled.

    Parameters
    ----------
    data : Series or DataFrame
        Index = periods in order (``"2024Q1"``, ``"2024-07"``, Timestamps, or any labels);
        a DataFrame draws one line per column, named after the column.
    target : number or Series, optional
        A constant target (dashed line) or a target per period (dashed line over the same index).
    unit, currency : axis format; ``ylabel`` defaults to the unit's word in ``lang``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    check_lang(lang)
    check_unit(unit)
    frame = _as_frame(data, "trend data")
    require_numbers(frame, "trend data")
    labels = [tick_text(v, lang) for v in frame.index]
    x = np.arange(len(frame))
    with styled():
        fig, ax = new_figure()
        for i, column in enumerate(frame.columns):
            values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
            color = PALETTE[i % len(PALETTE)]
            ax.plot(x, values, marker="o", markersize=4, linewidth=2, color=color,
                    label=str(column))
            last = np.flatnonzero(~np.isnan(values))
            if last.size:
                j = last[-1]
                ax.annotate(value_text(values[j], unit, lang, currency), (x[j], values[j]),
                            xytext=(6, 0), textcoords="offset points", va="center",
                            fontsize=9, color=color)
        finite = frame.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
        if target is not None and np.isscalar(target):  # keep the target line in view
            ax.update_datalim([(0, float(target))])
            ax.autoscale_view()
        if np.nanmin(finite) >= 0:
            ax.set_ylim(bottom=0)
        if target is not None:
            _draw_target(ax, target, frame.index, x, unit, lang, currency, points=finite)
        ax.margins(x=0.08)
        format_axis(ax.yaxis, unit, lang, currency)
        set_xticks(ax, labels)
        title_and_labels(ax, title, xlabel, ylabel or _unit_label(unit, lang, currency))
        if frame.shape[1] > 1 or (target is not None and not np.isscalar(target)):
            fig.legend(loc="outside lower center", ncols=min(frame.shape[1] + 1, 4))
    return fig


#: A point closer than this share of the value axis to the target line would collide with the
#: target's label (or the point's own value label) if both sat at the same end of the chart.
LABEL_CLEARANCE = 0.08


def _target_label_place(ax, value: float, points: np.ndarray | None) -> tuple[float, str]:
    """Where the target label goes: the right end, unless the latest value (labelled there) is
    close to the target; then the left end, or the middle when the first point is close too."""
    if points is None or points.size == 0:
        return 1.0, "right"
    lo, hi = ax.get_ylim()
    reach = LABEL_CLEARANCE * ((hi - lo) or 1.0)
    rows = points.reshape(len(points), -1)

    def near(row: np.ndarray) -> bool:
        return bool(np.any(np.abs(row[np.isfinite(row)] - value) < reach))

    if not near(rows[-1]):
        return 1.0, "right"
    if not near(rows[0]):
        return 0.0, "left"
    return 0.5, "center"


def _draw_target(ax, target, index, x, unit: str, lang: str, currency: str,
                 points: np.ndarray | None = None) -> None:
    if np.isscalar(target):
        value = float(target)
        ax.axhline(value, color=REFERENCE, linestyle="--", linewidth=1.2)
        where, align = _target_label_place(ax, value, points)
        ax.annotate(t("chart.target_value", lang, value=value_text(value, unit, lang, currency)),
                    (where, value), xycoords=("axes fraction", "data"), xytext=(0, 4),
                    textcoords="offset points", ha=align, va="bottom", fontsize=9,
                    color=REFERENCE, bbox=_LABEL_BOX)
        return
    series = as_series(target, "target")
    aligned = pd.to_numeric(series.reindex(index), errors="coerce").to_numpy(dtype=float)
    ax.plot(x, aligned, linestyle="--", linewidth=1.5, color=REFERENCE, label=t("chart.target",
                                                                                lang))


def bar_chart(data: pd.Series | pd.DataFrame | Mapping, *, title: str | None = None,
              ylabel: str | None = None, xlabel: str | None = None, unit: str = "count",
              lang: str = "zh-TW", currency: str = "TWD", horizontal: bool = False,
              highlight: str | Sequence[str] | None = None, value_labels: bool = True) -> Figure:
    """Bars per category (or per period); a DataFrame gives grouped bars, one colour per column.

    Parameters
    ----------
    data : Series, dict or DataFrame
        Index = categories in the order to draw them; values in ``unit``.
    highlight : label or list of labels, optional
        Categories drawn in the emphasis colour (single-series charts only).
    horizontal : bool
        Horizontal bars, first category on top (better for long names).
    """
    check_lang(lang)
    check_unit(unit)
    frame = _as_frame(data, "bar data").apply(pd.to_numeric, errors="coerce")
    labels = [tick_text(v, lang) for v in frame.index]
    wanted = {highlight} if isinstance(highlight, str) else set(highlight or ())
    n_series = frame.shape[1]
    width = 0.8 / n_series
    x = np.arange(len(frame))
    with styled():
        fig, ax = new_figure((8.0, max(3.0, 0.45 * len(frame) + 1.2)) if horizontal
                             else FIGSIZE)
        for i, column in enumerate(frame.columns):
            offset = (i - (n_series - 1) / 2) * width
            if n_series == 1:
                colors = [HIGHLIGHT if k in wanted or lab in wanted else PRIMARY
                          for k, lab in zip(frame.index, labels, strict=True)]
            else:
                colors = PALETTE[i % len(PALETTE)]
            draw = ax.barh if horizontal else ax.bar
            bars = draw(x + offset, frame[column].to_numpy(dtype=float), width * 0.95,
                        color=colors, label=str(column))
            if value_labels:
                ax.bar_label(bars, labels=[value_text(v, unit, lang, currency)
                                           for v in frame[column]], padding=2, fontsize=8)
        format_axis(ax.xaxis if horizontal else ax.yaxis, unit, lang, currency)
        unit_text = ylabel or _unit_label(unit, lang, currency)
        if horizontal:
            ax.set_yticks(x, labels)
            ax.invert_yaxis()
            ax.grid(axis="x")
            ax.grid(axis="y", visible=False)
            ax.margins(x=0.12)
            title_and_labels(ax, title, unit_text, xlabel)
        else:
            set_xticks(ax, labels)
            ax.margins(y=0.12)
            title_and_labels(ax, title, xlabel, unit_text)
        if n_series > 1:
            fig.legend(loc="outside lower center", ncols=min(n_series, 4))
    return fig


def dual_axis(data: pd.DataFrame, *, bar: str, line: str, title: str | None = None,
              bar_label: str | None = None, line_label: str | None = None,
              bar_unit: str = "currency", line_unit: str = "rate",
              line_target: float | None = None, lang: str = "zh-TW",
              currency: str = "TWD") -> Figure:
    """Bars on the left axis and a line on the right, e.g. monthly revenue and attainment.

    Parameters
    ----------
    data : DataFrame
        Index = periods in order; column ``bar`` (drawn as bars, ``bar_unit``) and column
        ``line`` (drawn as a line, ``line_unit``).
    line_target : number, optional
        Reference line on the right axis (e.g. 1.0 = 100 % attainment).
    """
    check_lang(lang)
    check_unit(bar_unit)
    check_unit(line_unit)
    frame = require_columns(data, [bar, line], "dual_axis data",
                            f"pass a DataFrame with columns {bar!r} and {line!r}.")
    labels = [tick_text(v, lang) for v in frame.index]
    x = np.arange(len(frame))
    bar_values = pd.to_numeric(frame[bar], errors="coerce").to_numpy(dtype=float)
    line_values = pd.to_numeric(frame[line], errors="coerce").to_numpy(dtype=float)
    bar_name = bar_label or str(bar)
    line_name = line_label or str(line)
    with styled():
        fig, ax = new_figure()
        ax.bar(x, bar_values, 0.6, color=PRIMARY, alpha=0.55, label=bar_name)
        format_axis(ax.yaxis, bar_unit, lang, currency)
        ax.set_ylabel(bar_name)
        right = ax.twinx()
        right.grid(False)
        right.spines["right"].set_visible(True)
        right.plot(x, line_values, color=PALETTE[2], marker="o", linewidth=2.2, label=line_name)
        for xi, v in zip(x, line_values, strict=True):
            if not np.isnan(v):
                right.annotate(value_text(v, line_unit, lang, currency), (xi, v), xytext=(0, 8),
                               textcoords="offset points", ha="center", fontsize=8,
                               color="#5C3D00", bbox=_LABEL_BOX)
        if line_target is not None:
            right.axhline(float(line_target), color=REFERENCE, linestyle="--", linewidth=1.1,
                          label=t("chart.target", lang))
        format_axis(right.yaxis, line_unit, lang, currency)
        right.set_ylabel(line_name)
        finite = line_values[np.isfinite(line_values)]
        top = max([*finite, line_target or 0.0])
        right.set_ylim(bottom=min([0.0, *finite]), top=top * 1.2 if top > 0 else None)
        set_xticks(ax, labels)
        if title:
            ax.set_title(title)
        fig.legend(loc="outside lower center", ncols=3)
    return fig


def share_bar(data: pd.Series | Mapping, *, title: str | None = None, unit: str = "count",
              lang: str = "zh-TW", currency: str = "TWD", top: int | None = DEFAULT_TOP,
              xlabel: str | None = None) -> Figure:
    """Horizontal bars, largest first, each labelled with its value and share of the total.

    Parameters
    ----------
    data : Series or dict
        Category -> count or amount (non-negative). Order does not matter: bars are sorted.
    top : int, optional
        Keep the ``top`` largest categories and add the rest up as 其他 / Other. None = all.
    """
    check_lang(lang)
    check_unit(unit)
    series = pd.to_numeric(as_series(data, "share data"), errors="coerce").fillna(0.0)
    if (series < 0).any():
        negative = series[series < 0].index.tolist()[:5]
        raise KpitoolsError(
            f"share data has negative values for {negative}.\n"
            "Hint: a share chart needs counts or amounts ≥ 0; use waterfall_chart for changes."
        )
    total = float(series.sum())
    if total == 0:
        raise KpitoolsError("share data adds up to 0: nothing to draw.\n"
                            "Hint: check the period filter.")
    series = series.sort_values(ascending=False, kind="stable")
    if top is not None and len(series) > top:
        rest = series.iloc[top - 1:].sum()
        series = pd.concat([series.iloc[: top - 1], pd.Series({t("chart.other", lang): rest})])
    labels = [f"{value_text(v, unit, lang, currency)} ({fmt_pct(v / total, lang)})"
              for v in series]
    other = t("chart.other", lang)
    top_value = series.iloc[0]  # every category tied for first is emphasised, not just one
    colors = [MUTED if k == other else (HIGHLIGHT if v == top_value else PRIMARY)
              for k, v in zip(series.index, series, strict=True)]
    y = np.arange(len(series))
    with styled():
        fig, ax = new_figure((8.0, max(2.8, 0.42 * len(series) + 1.3)))
        bars = ax.barh(y, series.to_numpy(dtype=float), 0.7, color=colors)
        ax.bar_label(bars, labels=labels, padding=3, fontsize=9)
        ax.set_yticks(y, [str(k) for k in series.index])
        ax.invert_yaxis()
        ax.grid(axis="y", visible=False)
        ax.grid(axis="x")
        ax.margins(x=0.25)
        format_axis(ax.xaxis, unit, lang, currency)
        title_and_labels(ax, title, xlabel or _unit_label(unit, lang, currency), None)
    return fig


def reasons_chart(churn_events: pd.DataFrame | pd.Series, *, lang: str = "zh-TW",
                  title: str | None = None, weight: str | None = None,
                  top: int | None = DEFAULT_TOP, currency: str = "TWD") -> Figure:
    """Why customers left: churned customers (or lost MRR) per stated reason, largest first.

    Parameters
    ----------
    churn_events : DataFrame or Series
        The ``churn_events`` table (column ``reason``; blank reasons count as 未註明 / Not
        stated), or a Series reason -> count already aggregated.
    weight : str, optional
        A money column to add up instead of counting rows, e.g. ``"mrr_lost"``.
    """
    check_lang(lang)
    if isinstance(churn_events, pd.DataFrame):
        needed = ["reason"] + ([weight] if weight else [])
        frame = require_columns(churn_events, needed, "churn_events",
                                "pass the churn_events table (columns reason, mrr_lost).")
        reasons = frame["reason"].astype("string").str.strip().replace("", pd.NA)
        reasons = reasons.fillna(t("chart.not_stated", lang))
        if weight:
            amounts = pd.to_numeric(frame[weight], errors="coerce").fillna(0.0)
            series = amounts.groupby(reasons.to_numpy()).sum()
        else:
            series = reasons.value_counts()
    else:
        series = as_series(churn_events, "churn reasons")
    unit = "currency" if weight else "count"
    return share_bar(series, title=title or t("chart.reasons_title", lang), unit=unit,
                     lang=lang, currency=currency, top=top)


def cohort_heatmap(matrix: pd.DataFrame, *, lang: str = "zh-TW", title: str | None = None,
                   unit: str = "rate", xlabel: str | None = None, ylabel: str | None = None,
                   currency: str = "TWD") -> Figure:
    """Cohort table as a heatmap: one row per cohort, one column per period since it started.

    Parameters
    ----------
    matrix : DataFrame
        Index = cohort (e.g. ``"2024-01"``, the month customers started); columns = periods since
        start (0, 1, 2, ...); values = retention rate (fraction) or another ``unit``. Missing
        cells (periods not reached yet) stay blank.
    """
    check_lang(lang)
    check_unit(unit)
    if not isinstance(matrix, pd.DataFrame) or matrix.empty:
        raise KpitoolsError(
            "cohort matrix must be a non-empty DataFrame (rows = cohorts, columns = periods "
            "since start).\nHint: build it with the retention cohort function, or "
            "df.pivot(index='cohort', columns='age', values='rate')."
        )
    require_numbers(matrix, "cohort matrix")
    values = matrix.apply(pd.to_numeric, errors="coerce").astype(float)
    n_rows, n_cols = values.shape
    annot = n_cols <= MAX_ANNOTATED_COLUMNS
    cell_text = values.map(lambda v: "" if np.isnan(v) else value_text(v, unit, lang, currency))
    with styled():
        fig, ax = new_figure((max(6.0, 0.62 * n_cols + 2.5), max(3.0, 0.42 * n_rows + 1.8)))
        import seaborn as sns  # imported here: seaborn pulls in scipy.stats (~0.8 s)

        sns.heatmap(values, ax=ax, mask=values.isna(), cmap=sns.light_palette(PRIMARY,
                                                                              as_cmap=True),
                    vmax=1 if unit == "rate" else None,
                    annot=cell_text.to_numpy() if annot else False, fmt="",
                    annot_kws={"fontsize": 8}, linewidths=0.6, linecolor="white",
                    cbar_kws={"format": value_formatter(unit, lang, currency), "shrink": 0.8})
        ax.set_yticks(np.arange(n_rows) + 0.5, [tick_text(v, lang) for v in values.index],
                      rotation=0)
        ax.set_xticks(np.arange(n_cols) + 0.5, [str(c) for c in values.columns], rotation=0)
        ax.grid(False)
        ax.tick_params(length=0)
        title_and_labels(ax, title or t("chart.cohort_title", lang),
                         xlabel or t("chart.cohort_xlabel", lang),
                         ylabel or t("chart.cohort_ylabel", lang))
    return fig
