"""Is a target achievable? Compare the change it asks for with comparable past changes.

"Comparable" means the same length and, where the history allows, the same season: a goal for
2024Q1 measured against 2023Q4 is compared with the Q4 → Q1 changes of earlier years; a goal
against the same quarter last year with earlier year-over-year changes. With fewer than
:data:`MIN_HISTORY` same-season changes every change of the same length is used (and the finding
says so); with fewer than that in all, the history is too short to judge.

The changes are summarised robustly, so that one odd quarter (a data gap, a one-off deal) does
not widen the range until anything passes: the typical change is their median and the spread
their interquartile range ÷ 1.349 (the standard deviation a normal distribution with that IQR
would have), at least :data:`MIN_SPREAD`. With z = (required − typical) ÷ spread, measured in the
KPI's good direction:

=============  =========  ====================================================
z              status     reading
=============  =========  ====================================================
> FAR_Z (2)    fail       far outside anything the past suggests
> 1            warn       a stretch: above the usual range
< −1           warn       below the usual range (too easy, possibly sandbagged)
otherwise      pass       within the usual range
=============  =========  ====================================================

This replaces a comparison with the best and worst past change, which let almost any target
pass once the history held one odd quarter.

Changes are relative (+10 %) when the KPI is positive. A KPI that is zero or negative at the
baseline, or below zero anywhere in its history (net new MRR, NPS, profit), is compared in
absolute changes instead (+5 points, +NT$20,000): a relative change of a negative value reads
backwards (from −10 to +5 is "−150 %"). :func:`scale_for` makes that choice; the spread floor is
then :data:`MIN_SPREAD` of the KPI's typical size (the median of its absolute values).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from kpitools._errors import PeriodError
from kpitools.periods import Period, parse_period

__all__ = ["FAR_Z", "MIN_HISTORY", "MIN_SPREAD", "SCALES", "Comparison", "compare_with_history",
           "scale_for"]

#: Fewer comparable past changes than this: too little history to judge.
MIN_HISTORY = 3
#: Spread floor (2 percentage points of relative change), so a very steady history does not turn
#: every small deviation into a failure.
MIN_SPREAD = 0.02
#: More than this many spreads beyond the typical change: far outside (fail).
FAR_Z = 2.0
_STRETCH_Z = 1.0
_TINY = 1e-12
#: Interquartile range of a normal distribution in standard deviations.
IQR_PER_SD = 1.349
#: How changes are measured: ``target ÷ baseline − 1`` or ``target − baseline``.
SCALES = ("relative", "absolute")


@dataclass(frozen=True)
class Comparison:
    """The outcome: ``key`` is ``no_history``, ``far_beyond``, ``stretch``, ``sandbag`` or
    ``ok``; changes are in the KPI's own sign, relative (0.1 = +10 %) or, with
    ``scale="absolute"``, in the KPI's unit."""

    key: str
    n: int
    basis: str  # "season", "all" or "year"
    n_season: int
    typical: float = math.nan
    low: float = math.nan
    high: float = math.nan
    z: float = math.nan
    changes: pd.Series | None = None
    scale: str = "relative"


def _season(label: str, fy: int) -> tuple[str, int] | None:
    try:
        p: Period = parse_period(label, fiscal_year_start_month=fy)
    except PeriodError:
        return None
    if p.freq == "Y":
        return ("Y", 0)
    return (p.freq, p.start.month)


def scale_for(series: pd.Series, baseline: float | None) -> str:
    """``"relative"`` when the baseline is positive and no past value is negative, else
    ``"absolute"`` (see the module docstring); relative when the baseline is unknown.

    >>> scale_for(pd.Series([100.0, 0.0, 120.0]), 130.0), scale_for(pd.Series([-5.0, 8.0]), 12.0)
    ('relative', 'absolute')
    """
    if baseline is None or math.isnan(baseline):
        return "relative"
    negative = bool((series.astype("float64") < 0).any())
    return "absolute" if baseline <= 0 or negative else "relative"


def compare_with_history(
    series: pd.Series,
    period: str,
    span: int,
    required: float,
    direction: str = "higher",
    *,
    fiscal_year_start_month: int = 1,
    scale: str = "relative",
) -> Comparison:
    """Compare ``required`` with the past changes over ``span`` periods.

    Parameters
    ----------
    series : pandas.Series
        The KPI per period (index: labels such as ``'2023Q4'``), up to the period before the goal.
    period : str
        The goal's period; its season selects comparable changes.
    span : int
        Periods between baseline and goal (1 = previous period, 4 = same quarter last year).
    required : float
        The change the target asks for: relative, or in the KPI's unit for
        ``scale="absolute"``.
    direction : {"higher", "lower"}
    scale : {"relative", "absolute"}
        How changes are measured (:func:`scale_for` chooses).

    Examples
    --------
    Quarterly values 100, 110, 121, 133.1: every change is +10 % (spread floored at 2 pp).

    >>> s = pd.Series([100, 110, 121, 133.1], index=["2023Q1", "2023Q2", "2023Q3", "2023Q4"])
    >>> c = compare_with_history(s, "2024Q1", 1, 0.11)
    >>> c.key, c.n, c.basis, round(c.typical, 4)
    ('ok', 3, 'all', 0.1)

    Net new MRR of −20, −12, 0, 6, 14 (thousands) rose by 8, 12, 6 and 8: median 8, quartiles
    7.5 and 9, spread 1.5 ÷ 1.349 = 1.11. Going from 14 to 24 asks +10: z = 2 ÷ 1.11 = 1.8.

    >>> s = pd.Series([-20.0, -12, 0, 6, 14],
    ...               index=["2022Q4", "2023Q1", "2023Q2", "2023Q3", "2023Q4"])
    >>> c = compare_with_history(s, "2024Q1", 1, 24.0 - 14.0, scale=scale_for(s, 14.0))
    >>> c.scale, c.typical, round(c.z, 1), c.key
    ('absolute', 8.0, 1.8, 'stretch')
    """
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")
    fy = fiscal_year_start_month
    values = series.astype("float64").dropna()
    before = values.shift(span)
    if scale == "absolute":
        changes = (values - before)[before.notna()]
        floor = MIN_SPREAD * float(values.abs().median()) if len(values) else 0.0
    else:
        changes = (values / before - 1.0)[before.notna() & (before != 0)]
        changes = changes[~changes.isin([math.inf, -math.inf])]
        floor = MIN_SPREAD
    goal_season = _season(period, fy)
    seasonal = (
        changes[[(_season(str(i), fy) == goal_season) for i in changes.index]]
        if len(changes)
        else changes
    )
    if goal_season is not None and goal_season[0] == "Y":
        use, basis = changes, "year"
    elif len(seasonal) >= MIN_HISTORY:
        use, basis = seasonal, "season"
    else:
        use, basis = changes, "all"
    n = int(use.size)
    if n < MIN_HISTORY:
        return Comparison("no_history", n, basis, int(seasonal.size), changes=use, scale=scale)
    sign = 1.0 if direction == "higher" else -1.0
    better = use * sign
    typical = float(better.median())
    iqr = float(better.quantile(0.75) - better.quantile(0.25))
    # a history that never moved from zero has no size: any change at all is then far outside
    spread = max(iqr / IQR_PER_SD, floor, _TINY)
    z = (required * sign - typical) / spread
    if z > FAR_Z:
        key = "far_beyond"
    elif z > _STRETCH_Z:
        key = "stretch"
    elif z < -_STRETCH_Z:
        key = "sandbag"
    else:
        key = "ok"
    ends = sorted(((typical - spread) * sign, (typical + spread) * sign))
    return Comparison(key, n, basis, int(seasonal.size), typical * sign, ends[0], ends[1], z, use,
                      scale)
