"""The goals scorecard as a chart: attainment per KPI, coloured by status, target at 100 %."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from kpitools._errors import KpitoolsError
from kpitools.i18n import check_lang, fmt_pct, status_label, t
from kpitools.plots._style import (
    REFERENCE,
    STATUS_COLORS,
    format_axis,
    new_figure,
    require_columns,
    styled,
    title_and_labels,
)

__all__ = ["scorecard_chart"]

#: Attainment of the target line (100 %).
TARGET_ATTAINMENT = 1.0
#: Room to the right of the longest bar for its label, as a share of the axis.
LABEL_ROOM = 0.35


def _statuses(frame: pd.DataFrame) -> list[str]:
    if "status" in frame.columns:
        raw = frame["status"].astype("string").fillna("no_data").str.strip().str.lower()
        statuses = raw.str.replace(" ", "_").str.replace("-", "_").tolist()
        unknown = sorted({s for s in statuses if s not in STATUS_COLORS})
        if unknown:
            raise KpitoolsError(
                f"scorecard has unknown status value(s) {unknown}.\n"
                f"Hint: use {', '.join(STATUS_COLORS)} (as kpitools.goals.scorecard writes them)."
            )
        return statuses
    # No status column: read it from attainment with the same bands as the goals scorecard.
    from kpitools.goals.attainment import AT_RISK_AT, ON_TRACK_AT

    att = pd.to_numeric(frame["attainment"], errors="coerce")
    return np.select([att.isna(), att >= ON_TRACK_AT, att >= AT_RISK_AT],
                     ["no_data", "on_track", "at_risk"], default="off_track").tolist()


def scorecard_chart(scorecard: pd.DataFrame, *, lang: str = "zh-TW",
                    title: str | None = None) -> Figure:
    """Attainment per KPI as horizontal bars coloured by status, with the 100 % target line.

    Parameters
    ----------
    scorecard : DataFrame
        One row per goal, drawn top to bottom: ``attainment`` (fraction, 1.0 = target met),
        a label column ``kpi_name`` (else ``kpi``), and optionally ``status`` (on_track,
        at_risk, off_track, achieved, near_miss, missed, no_data) — the output of
        :func:`kpitools.goals.scorecard`. Without ``status`` it is read from attainment with the
        goals module's bands (≥ 100 % on track, ≥ 90 % at risk). Each bar is labelled with its
        attainment and status word, so colour is never the only cue.
    """
    check_lang(lang)
    label_col = "kpi_name" if isinstance(scorecard, pd.DataFrame) and (
        "kpi_name" in scorecard.columns) else "kpi"
    frame = require_columns(scorecard, [label_col, "attainment"], "scorecard",
                            "pass kpitools.goals.scorecard(...) or a DataFrame with columns kpi "
                            "and attainment (fraction of target).")
    statuses = _statuses(frame)
    att = pd.to_numeric(frame["attainment"], errors="coerce").to_numpy(dtype=float)
    names = frame[label_col].astype("string").fillna("").tolist()
    y = np.arange(len(frame))
    shown = np.nan_to_num(att, nan=0.0)
    with styled():
        fig, ax = new_figure((8.0, max(2.6, 0.5 * len(frame) + 1.4)))
        ax.barh(y, shown, 0.62, color=[STATUS_COLORS[s] for s in statuses])
        right = max(TARGET_ATTAINMENT, float(np.nanmax(shown))) * (1 + LABEL_ROOM)
        left = min(0.0, float(np.nanmin(shown)) * 1.1)
        for yi, value, status in zip(y, att, statuses, strict=True):
            word = status_label(status, lang)
            text = (f"{fmt_pct(value, lang)}（{word}）" if lang == "zh-TW"
                    else f"{fmt_pct(value, lang)} ({word})") if not np.isnan(value) else (
                t("value.not_available", lang))
            # Drawn above the target line on a white box, so the line never strikes through it.
            ax.annotate(text, (max(0.0, 0.0 if np.isnan(value) else value), yi),
                        xytext=(4, 0), textcoords="offset points", va="center", fontsize=9,
                        color="#333333", zorder=4,
                        bbox={"boxstyle": "round,pad=0.15", "facecolor": "white",
                              "edgecolor": "none", "alpha": 0.9})
        ax.axvline(TARGET_ATTAINMENT, color=REFERENCE, linestyle="--", linewidth=1.2, zorder=2)
        ax.annotate(t("chart.target", lang), (TARGET_ATTAINMENT, 1.0),
                    xycoords=("data", "axes fraction"), xytext=(0, 3),
                    textcoords="offset points", ha="center", va="bottom", fontsize=9,
                    color=REFERENCE)
        ax.set_yticks(y, names)
        ax.invert_yaxis()
        ax.set_xlim(left, right)
        ax.grid(axis="y", visible=False)
        ax.grid(axis="x")
        ax.tick_params(axis="y", length=0)
        format_axis(ax.xaxis, "rate", lang, "TWD")
        title_and_labels(ax, title or t("chart.scorecard_title", lang),
                         t("chart.scorecard_xlabel", lang), None)
    return fig
