"""Charts of things flowing from one state to the next: the sales funnel and change bridges.

* :func:`funnel_chart` — deals reaching each stage, conversion between stages, bottleneck marked.
* :func:`waterfall_chart` — a start total, signed changes, an end total (MRR movements).
* :func:`mix_rate_chart` — an ACV change split into mix and rate effects, drawn as a waterfall.

Like every kpitools chart they take plain pandas objects and return a matplotlib Figure.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from kpitools._errors import KpitoolsError
from kpitools.i18n import check_lang, fmt_delta, fmt_pct, has, t
from kpitools.periods import Period
from kpitools.plots._style import (
    FIGSIZE,
    HIGHLIGHT,
    MUTED,
    NEGATIVE,
    POSITIVE,
    PRIMARY,
    as_series,
    check_unit,
    format_axis,
    new_figure,
    require_columns,
    set_xticks,
    styled,
    tick_text,
    title_and_labels,
    value_text,
)

__all__ = ["funnel_chart", "mix_rate_chart", "waterfall_chart"]

#: Relative tolerance when checking that start + changes equals a reported end total.
BRIDGE_RTOL = 1e-6
#: Zoom the value axis when all changes together are smaller than this share of the totals.
ZOOM_BELOW = 0.25
#: MRR movement columns (kpitools.metrics.revenue.mrr_movements) and the sign each takes.
MRR_MOVEMENTS = {"new": 1, "expansion": 1, "reactivation": 1, "contraction": -1, "churn": -1}


def _step_label(name: object, lang: str) -> str:
    return t(f"movement.{name}", lang) if has(f"movement.{name}") else str(name)


# --------------------------------------------------------------------------- funnel


def funnel_chart(funnel: pd.DataFrame, *, lang: str = "zh-TW", title: str | None = None,
                 highlight: str | None = "auto", xlabel: str | None = None) -> Figure:
    """A horizontal sales funnel with the conversion between stages and the bottleneck marked.

    Parameters
    ----------
    funnel : DataFrame
        One row per stage, in funnel order: the stage in the index or a ``stage`` column, and
        ``deals`` (or ``count``) = deals that reached the stage — the output of
        :func:`kpitools.metrics.sales.funnel` without ``by=``. ``stage_conversion``
        (= deals[k] ÷ deals[k-1]) is used when present, else computed.
    highlight : "auto", a stage name, or None
        The bottleneck: the stage that passes the smallest share of its deals on to the next
        stage. ``"auto"`` finds it; a stage name forces it; None marks nothing.
        Standard stage ids (lead, qualified, demo, proposal, negotiation, won) are translated;
        other stage names are shown as written.
    """
    check_lang(lang)
    frame = _funnel_frame(funnel)
    stages = [str(s) for s in frame["stage"]]
    counts = frame["deals"].to_numpy(dtype=float)
    conversion = frame["stage_conversion"].to_numpy(dtype=float)
    source = _bottleneck(stages, conversion, highlight)
    widest = float(np.nanmax(counts)) if np.nanmax(counts) > 0 else 1.0
    y = np.arange(len(stages))
    names = [t(f"stage.{s}", lang) if has(f"stage.{s}") else s for s in stages]
    with styled():
        fig, ax = new_figure((8.0, max(3.2, 0.62 * len(stages) + 1.4)))
        colors = [HIGHLIGHT if k == source else PRIMARY for k in range(len(stages))]
        bars = ax.barh(y, counts, 0.72, left=(widest - counts) / 2, color=colors)
        ax.bar_label(bars, labels=[f"{v:,.0f}" for v in counts], label_type="center",
                     color="white", fontsize=10)
        for k in range(1, len(stages)):
            if np.isnan(conversion[k]):
                continue
            is_source = source == k - 1
            text = t("chart.conversion_from_previous", lang, value=fmt_pct(conversion[k], lang))
            if is_source:
                text = f"{text}  ◀ {t('chart.bottleneck', lang)}"
            upper_edge = (widest + counts[k - 1]) / 2  # right edge of the stage above
            ax.annotate(text, (upper_edge, k - 0.5), xytext=(6, 0), textcoords="offset points",
                        va="center", ha="left", fontsize=9,
                        color=HIGHLIGHT if is_source else "#555555")
        ax.set_yticks(y, names)
        ax.invert_yaxis()
        ax.set_xlim(0, widest * 1.45)
        ax.set_xticks([])
        ax.grid(False)
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)
        ax.tick_params(axis="y", length=0)
        title_and_labels(ax, title or t("chart.funnel_title", lang),
                         xlabel or t("chart.funnel_xlabel", lang), None)
    return fig


def _funnel_frame(funnel: object) -> pd.DataFrame:
    hint = ("pass kpitools.metrics.sales.funnel(deals, stages) (one segment), or a DataFrame with "
            "columns stage and deals.")
    if not isinstance(funnel, pd.DataFrame):
        raise KpitoolsError(f"funnel must be a DataFrame, got {type(funnel).__name__}.\n"
                            f"Hint: {hint}")
    if isinstance(funnel.index, pd.MultiIndex):
        raise KpitoolsError(
            f"funnel has several segments (index levels {list(funnel.index.names)}); a funnel "
            "chart draws one.\nHint: select a segment first, e.g. f.xs('web', level=0), or call "
            "funnel() without by=."
        )
    frame = funnel.reset_index() if "stage" not in funnel.columns else funnel.copy()
    if "deals" not in frame.columns and "count" in frame.columns:
        frame = frame.rename(columns={"count": "deals"})
    frame = require_columns(frame, ["stage", "deals"], "funnel", hint)
    frame["deals"] = pd.to_numeric(frame["deals"], errors="coerce").fillna(0.0)
    if "stage_conversion" not in frame.columns:
        previous = frame["deals"].shift(1).replace(0, np.nan)
        frame["stage_conversion"] = frame["deals"] / previous
    return frame


def _bottleneck(stages: list[str], conversion: np.ndarray, highlight: str | None) -> int | None:
    """Position of the stage that loses most of its deals (source of the weakest step)."""
    if highlight is None:
        return None
    if highlight != "auto":
        if highlight not in stages:
            raise KpitoolsError(f"highlight stage {highlight!r} is not in the funnel {stages}.\n"
                                "Hint: use one of the stage names, 'auto' or None.")
        return stages.index(highlight)
    steps = conversion[1:]
    if steps.size == 0 or np.all(np.isnan(steps)):
        return None
    return int(np.nanargmin(steps))  # step k-1 -> k has index k-1 in steps: its source stage


# --------------------------------------------------------------------------- waterfalls


def waterfall_chart(steps: pd.DataFrame | pd.Series | Mapping, *, lang: str = "zh-TW",
                    title: str | None = None, unit: str = "currency", currency: str = "TWD",
                    end: float | None = None, end_label: str | None = None,
                    ylabel: str | None = None, zoom: bool | None = None) -> Figure:
    """A bridge from a start total through signed changes to the end total.

    Parameters
    ----------
    steps : Series, dict or DataFrame
        Series/dict: the first item is the starting total, the others are signed changes, in
        drawing order (e.g. ``{"mrr_start": 1000, "new": 120, "churn": -80}``). DataFrame: the
        output of :func:`kpitools.metrics.revenue.mrr_movements` (columns ``mrr_start``,
        ``new``, ``expansion``, ``contraction``, ``churn``, ``reactivation``, ``mrr_end`` with
        contraction and churn as positive amounts); its months are added up into one bridge
        from the first month's ``mrr_start`` to the last month's ``mrr_end``.
        Ids of MRR movements are translated; other labels are shown as written.
    end : number, optional
        The reported end total; it must equal start + changes (relative tolerance
        :data:`BRIDGE_RTOL`), which catches a missing movement.
    zoom : bool, optional
        Start the value axis near the smallest level instead of 0 so small changes are visible.
        Default: zoom when all changes together are under :data:`ZOOM_BELOW` of the start.
    """
    check_lang(lang)
    check_unit(unit)
    if isinstance(steps, pd.DataFrame):
        series, reported_end = _mrr_bridge(steps)
        end = reported_end if end is None else end
        end_label = end_label or t("movement.mrr_end", lang)
    else:
        series = as_series(steps, "waterfall steps")
    series = pd.to_numeric(series, errors="coerce").fillna(0.0)
    labels = [_step_label(k, lang) for k in series.index]
    labels.append(end_label or t("movement.end", lang))
    return _draw_bridge(series, labels, end, title=title, unit=unit, currency=currency,
                        lang=lang, ylabel=ylabel, zoom=zoom)


def _mrr_bridge(movements: pd.DataFrame) -> tuple[pd.Series, float]:
    columns = ["mrr_start", "mrr_end", *[c for c in MRR_MOVEMENTS if c != "reactivation"]]
    frame = require_columns(movements, columns, "MRR movements",
                            "pass kpitools.metrics.revenue.mrr_movements(contracts, start, end).")
    values = {"mrr_start": float(frame["mrr_start"].iloc[0])}
    for name, sign in MRR_MOVEMENTS.items():
        if name in frame.columns:
            total = float(pd.to_numeric(frame[name], errors="coerce").fillna(0.0).sum())
            if name != "reactivation" or total != 0:
                values[name] = sign * total
    return pd.Series(values, dtype="float64"), float(frame["mrr_end"].iloc[-1])


def mix_rate_chart(effects: pd.Series | Mapping, *, lang: str = "zh-TW",
                   base_label: str | Period | None = None,
                   compare_label: str | Period | None = None, title: str | None = None,
                   currency: str = "TWD", unit: str = "currency") -> Figure:
    """Why ACV changed between two periods: base → mix effect → rate effect → compare.

    Parameters
    ----------
    effects : Series or dict
        ``base`` (ACV in the base period), ``mix_effect`` (change from a different mix of
        tiers/segments at base-period prices), ``rate_effect`` (change from prices within each
        tier), optionally ``interaction``, and optionally ``compare`` (ACV in the compare
        period; checked against the sum). ``mix`` and ``rate`` are accepted as short names.
    base_label, compare_label : period or text, optional
        Shown in the first and last bar names (``基期 2024年第2季`` / ``Base Q2 2024``).
    """
    check_lang(lang)
    series = as_series(effects, "mix/rate effects").rename(
        index={"mix": "mix_effect", "rate": "rate_effect"})
    missing = [k for k in ("base", "mix_effect", "rate_effect") if k not in series.index]
    if missing:
        raise KpitoolsError(
            f"mix/rate effects lack {missing}; present: {list(series.index)}.\n"
            "Hint: pass base, mix_effect, rate_effect (and optionally interaction, compare)."
        )
    order = ["base", "mix_effect", "rate_effect"] + (
        ["interaction"] if "interaction" in series.index else [])
    steps = series.reindex(order).astype(float)
    compare = float(series["compare"]) if "compare" in series.index else None

    def _name(key: str, label: object) -> str:
        shown = tick_text(label.label if isinstance(label, Period) else label, lang) if (
            label is not None) else ""
        return t(f"movement.{key}", lang, label=shown).strip()

    labels = [_name("base", base_label)] + [_step_label(k, lang) for k in order[1:]]
    labels.append(_name("compare", compare_label))
    return _draw_bridge(steps, labels, compare,
                        title=title or t("chart.mix_rate_title", lang), unit=unit,
                        currency=currency, lang=lang, ylabel=None, zoom=None)


def _draw_bridge(series: pd.Series, labels: list[str], end: float | None, *, title: str | None,
                 unit: str, currency: str, lang: str, ylabel: str | None,
                 zoom: bool | None) -> Figure:
    start = float(series.iloc[0])
    changes = series.iloc[1:].to_numpy(dtype=float)
    final = start + float(changes.sum())
    if end is not None and not np.isclose(final, float(end), rtol=BRIDGE_RTOL, atol=0.0):
        raise KpitoolsError(
            f"the bridge does not add up: start {start:,.2f} + changes {changes.sum():,.2f} = "
            f"{final:,.2f}, but the end total is {float(end):,.2f}.\n"
            "Hint: a movement is missing or has the wrong sign (decreases must be negative)."
        )
    levels = np.concatenate([[start], start + np.cumsum(changes)])
    bottoms = np.concatenate([[0.0], np.minimum(levels[:-1], levels[1:]), [0.0]])
    heights = np.concatenate([[start], np.abs(changes), [final]])
    colors = [PRIMARY, *[POSITIVE if c >= 0 else NEGATIVE for c in changes], PRIMARY]
    texts = [value_text(start, unit, lang, currency),
             *[_delta_text(c, unit, lang, currency) for c in changes],
             value_text(final, unit, lang, currency)]
    x = np.arange(len(heights))
    with styled():
        fig, ax = new_figure(FIGSIZE if len(x) <= 7 else (1.0 * len(x) + 1.5, 4.5))
        bars = ax.bar(x, heights, 0.62, bottom=bottoms, color=colors)
        ax.bar_label(bars, labels=texts, padding=3, fontsize=9)
        for i in range(len(x) - 1):  # connectors from each bar's top level to the next bar
            ax.plot([x[i] + 0.31, x[i + 1] - 0.31], [levels[min(i, len(levels) - 1)]] * 2,
                    color=MUTED, linewidth=1)
        moved = float(np.abs(changes).sum())
        if zoom if zoom is not None else (start > 0 and moved < ZOOM_BELOW * start):
            low = float(levels.min()) - max(moved, 0.05 * float(levels.max()))
            ax.set_ylim(bottom=max(0.0, low), top=float(levels.max()) + 0.6 * max(moved, 1e-9))
        else:
            ax.margins(y=0.12)
        format_axis(ax.yaxis, unit, lang, currency)
        set_xticks(ax, labels)
        title_and_labels(ax, title or t("chart.waterfall_title", lang), None, ylabel)
    return fig


def _delta_text(change: float, unit: str, lang: str, currency: str) -> str:
    """Signed bar label: compact for money and counts (+12.5萬元), else as fmt_delta writes it."""
    if unit in ("currency", "count"):
        return f"{'-' if change < 0 else '+'}{value_text(abs(change), unit, lang, currency)}"
    return fmt_delta(change, lang, unit=unit, currency=currency)
