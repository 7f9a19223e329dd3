"""Figures for the predictive models, labelled in zh-TW or English (labels in ``labels.yaml``).

Each function returns a :class:`matplotlib.figure.Figure` built without pyplot, so notebooks
display it and scripts can ``fig.savefig(...)`` it without touching pyplot's global state.

* :func:`p_alive_heatmap` — P(alive) over frequency × recency (FHL 2005 style).
* :func:`calibration_holdout_plot` — holdout purchases, actual vs model, by calibration frequency.
* :func:`tracking_plot` — cumulative repeat purchases, actual vs model (FHL 2005 fig. 2).
* :func:`retention_plot` — sBG survival projection with the observed cohort (FH 2007 fig. 3).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from kpitools._errors import KpitoolsError
from kpitools.models._validate import summary_arrays
from kpitools.models.bgnbd import BgNbd
from kpitools.models.clv import LANGS, labels
from kpitools.models.sbg import ShiftedBetaGeometric

__all__ = ["calibration_holdout_plot", "p_alive_heatmap", "retention_plot", "tracking_plot"]

FIGSIZE = (8.0, 5.0)
HEATMAP_RECENCY_STEPS = 20
ACTUAL_COLOR = "#4C72B0"
MODEL_COLOR = "#DD8452"


def _text(plot: str, key: str, lang: str, **fmt: str) -> str:
    return labels()["plots"][plot][key][lang].format(**fmt)


def _unit(unit: str, lang: str) -> str:
    units = labels()["units"]
    if unit not in units:
        raise KpitoolsError(f"unit={unit!r} is not known; expected one of {list(units)}.\n"
                            "Hint: 'weeks' for CDNOW-style summaries, 'years' for annual renewals.")
    return units[unit][lang]


def _figure(lang: str) -> tuple[Figure, object]:
    if lang not in LANGS:
        raise KpitoolsError(f"lang={lang!r} is not supported.\nHint: use 'zh-TW' or 'en'.")
    if lang == "zh-TW":
        _use_cjk_font()
    fig = Figure(figsize=FIGSIZE, layout="constrained")
    return fig, fig.add_subplot()


def _use_cjk_font() -> None:
    """Use kpitools' CJK font helper when it is available; do nothing otherwise."""
    try:
        from kpitools.plots._fonts import use_cjk_font
    except ImportError:  # the plots package is optional for the models
        return
    use_cjk_font()


def p_alive_heatmap(
    model: BgNbd,
    *,
    T: float,
    max_frequency: int = 20,
    unit: str = "weeks",
    lang: str = "zh-TW",
) -> Figure:
    """Heatmap of P(alive | x, t_x, T) for x = 0…``max_frequency`` and t_x from 0 to ``T``.

    Cells with x = 0 are 1 by definition (only t_x = 0 is possible; shown across the row).
    """
    if not (np.isfinite(T) and T > 0) or int(max_frequency) != max_frequency or max_frequency < 1:
        raise KpitoolsError(f"need T > 0 and max_frequency >= 1, got T={T!r}, "
                            f"max_frequency={max_frequency!r}.\nHint: e.g. T=39, max_frequency=20.")
    x = np.arange(int(max_frequency) + 1, dtype=float).reshape(-1, 1)
    t_x = np.linspace(0, T, HEATMAP_RECENCY_STEPS + 1).reshape(1, -1)
    grid = model.probability_alive(x, np.where(x > 0, t_x, 0.0), T)
    frame = pd.DataFrame(grid[::-1], index=x.ravel()[::-1].astype(int),
                         columns=[f"{v:.0f}" for v in t_x.ravel()])
    fig, ax = _figure(lang)
    u = _unit(unit, lang)
    import seaborn as sns  # imported here: seaborn pulls in scipy.stats (~0.8 s)

    sns.heatmap(frame, ax=ax, vmin=0, vmax=1, cmap="viridis",
                cbar_kws={"label": _text("p_alive_heatmap", "colorbar", lang)})
    ax.tick_params(axis="y", labelrotation=0)
    ax.set_title(_text("p_alive_heatmap", "title", lang))
    ax.set_xlabel(_text("p_alive_heatmap", "x", lang, unit=u))
    ax.set_ylabel(_text("p_alive_heatmap", "y", lang))
    return fig


def calibration_holdout_plot(
    model: BgNbd, summary: pd.DataFrame, *, max_frequency: int = 7, lang: str = "zh-TW"
) -> Figure:
    """Mean holdout purchases by calibration frequency (last group = ``max_frequency`` +).

    ``summary`` comes from ``rfm_summary(..., calibration_end=...)``; the model value is the mean
    of E[Y(duration_holdout) | x, t_x, T] in each group.
    """
    cols = summary_arrays(summary, ["frequency", "recency", "T", "frequency_holdout",
                                    "duration_holdout"])
    x = cols["frequency"]
    predicted = model.conditional_expected_purchases(cols["duration_holdout"], x,
                                                     cols["recency"], cols["T"])
    group = np.minimum(x, max_frequency).astype(int)
    frame = pd.DataFrame({"group": group, "actual": cols["frequency_holdout"],
                          "model": predicted}).groupby("group", sort=True).mean()
    fig, ax = _figure(lang)
    ticks = [str(g) if g < max_frequency else f"{g}+" for g in frame.index]
    ax.plot(ticks, frame["actual"], marker="o", color=ACTUAL_COLOR,
            label=_text("calibration_holdout", "actual", lang))
    ax.plot(ticks, frame["model"], marker="s", linestyle="--", color=MODEL_COLOR,
            label=_text("calibration_holdout", "model", lang))
    ax.set_title(_text("calibration_holdout", "title", lang))
    ax.set_xlabel(_text("calibration_holdout", "x", lang))
    ax.set_ylabel(_text("calibration_holdout", "y", lang))
    ax.legend()
    return fig


def tracking_plot(
    model: BgNbd,
    actual: pd.DataFrame,
    entry_times: object,
    *,
    calibration_end: float | None = None,
    unit: str = "weeks",
    lang: str = "zh-TW",
) -> Figure:
    """Cumulative repeat purchases per period: actual vs ``model.expected_cumulative_transactions``.

    ``actual`` comes from :func:`kpitools.models.repeat_purchase_tracking` (``period``,
    ``cumulative_repeat_transactions``); ``entry_times`` are the customers' first-purchase
    times on the same clock (e.g. ``calibration length − T`` for a calibration summary).
    """
    for col in ("period", "cumulative_repeat_transactions"):
        if col not in actual.columns:
            raise KpitoolsError(f"actual lacks column '{col}'.\n"
                                "Hint: pass the output of repeat_purchase_tracking(...).")
    periods = actual["period"].to_numpy(dtype=float)
    expected = model.expected_cumulative_transactions(entry_times, periods)
    fig, ax = _figure(lang)
    u = _unit(unit, lang)
    ax.plot(periods, actual["cumulative_repeat_transactions"], color=ACTUAL_COLOR,
            label=_text("tracking", "actual", lang))
    ax.plot(periods, expected, linestyle="--", color=MODEL_COLOR,
            label=_text("tracking", "model", lang))
    if calibration_end is not None:
        ax.axvline(calibration_end, color="grey", linestyle=":",
                   label=_text("tracking", "calibration_end", lang))
    ax.set_title(_text("tracking", "title", lang))
    ax.set_xlabel(_text("tracking", "x", lang, unit=u))
    ax.set_ylabel(_text("tracking", "y", lang))
    ax.legend()
    return fig


def retention_plot(
    model: ShiftedBetaGeometric,
    *,
    periods: int = 12,
    actual: object | None = None,
    unit: str = "years",
    lang: str = "zh-TW",
) -> Figure:
    """sBG projected survival S(t), t = 0…``periods``, with the observed shares if given.

    ``actual``: observed share of the cohort still active at periods 0, 1, … (fractions).
    """
    projection = model.projection(periods)
    fig, ax = _figure(lang)
    u = _unit(unit, lang)
    ax.plot(projection["period"], projection["survival"], linestyle="--", color=MODEL_COLOR,
            label=_text("retention", "model", lang))
    if actual is not None:
        observed = np.asarray(actual, dtype=float)
        ax.plot(np.arange(observed.size), observed, marker="o", color=ACTUAL_COLOR,
                label=_text("retention", "actual", lang))
    ax.set_ylim(0, 1.05)
    ax.set_title(_text("retention", "title", lang))
    ax.set_xlabel(_text("retention", "x", lang, unit=u))
    ax.set_ylabel(_text("retention", "y", lang))
    ax.legend()
    return fig
