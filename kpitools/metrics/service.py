"""Customer-service KPIs from the ``feedback`` table: CSAT and response times.

``feedback`` mixes survey answers and support tickets, one row each: ``csat`` is a 1–5 score
(empty when the row is not a survey answer) and ``response_hours`` the hours to first response
(empty when the row is not a ticket or was never answered). Each KPI uses only the rows where its
column is filled, so an unanswered ticket is not counted as a breach — check for empty
``response_hours`` separately if unanswered tickets matter.

Period convention: rows whose ``date`` falls in ``[period.start, period.end)``; ``None`` = all.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from kpitools._engine import TableLike, in_period, scalar, table, to_pandas
from kpitools._errors import KpitoolsError
from kpitools.periods import Period, as_period

__all__ = [
    "RESPONSE_HOUR_BINS",
    "SATISFIED_MIN_SCORE",
    "csat_average",
    "csat_share_satisfied",
    "median_response_hours",
    "response_time_distribution",
    "response_within_sla_rate",
]

#: On the 1–5 CSAT scale, 4 ("satisfied") and 5 ("very satisfied") count as satisfied.
SATISFIED_MIN_SCORE = 4
#: Default bucket edges (hours) of :func:`response_time_distribution`: 1 h, 4 h, a working day,
#: a day, two days.
RESPONSE_HOUR_BINS = (0.0, 1.0, 4.0, 8.0, 24.0, 48.0)
_DEFAULT_SLA_HOURS = 24.0


def _rows_with(feedback: TableLike, column: str, period: str | Period | None) -> ir.Table:
    t = in_period(table(feedback, "feedback", ("date", column)), "date", as_period(period))
    return t.filter(t[column].notnull())


def csat_average(feedback: TableLike, period: str | Period | None = None) -> float:
    """Average customer satisfaction score (平均滿意度) on the 1–5 scale.

    Formula: mean(csat) over survey answers dated in the period (empty scores ignored).

    Returns
    -------
    float
        Score between 1 and 5. NaN when the period has no answers.

    Notes
    -----
    Source: the common CSAT survey ("how satisfied were you", 1–5), as issue 3 asks.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"date": pd.to_datetime(["2024-07-01"] * 3), "csat": [5.0, 4.0, None]})
    >>> csat_average(f, "2024Q3"), csat_share_satisfied(f, "2024Q3")
    (4.5, 1.0)
    """
    t = _rows_with(feedback, "csat", period)
    return scalar(t.csat.cast("float64").mean())


def csat_share_satisfied(feedback: TableLike, period: str | Period | None = None) -> float:
    """Share of satisfied answers (滿意比例): answers scoring 4 or 5 out of 5.

    Formula: count(csat ≥ 4) ÷ count(csat) over answers dated in the period. This is how most
    CSAT tools report a single CSAT percentage.

    Returns
    -------
    float
        A fraction in [0, 1]. NaN when the period has no answers.
    """
    t = _rows_with(feedback, "csat", period)
    satisfied = (t.csat >= SATISFIED_MIN_SCORE).cast("int64").sum()
    return scalar(satisfied / t.count().nullif(0))


def median_response_hours(feedback: TableLike, period: str | Period | None = None) -> float:
    """Median first-response time (首次回應時間中位數) in hours.

    Formula: median(response_hours) over tickets dated in the period with a response time.
    The median, not the mean, because one ticket left over a long weekend would dominate a mean.

    Returns
    -------
    float
        Hours. NaN when the period has no answered tickets.
    """
    t = _rows_with(feedback, "response_hours", period)
    return scalar(t.response_hours.cast("float64").median())


def response_within_sla_rate(
    feedback: TableLike,
    period: str | Period | None = None,
    *,
    sla_hours: float = _DEFAULT_SLA_HOURS,
) -> float:
    """Share of tickets answered within the service-level target (SLA 達成率).

    Formula: count(response_hours ≤ sla_hours) ÷ count(response_hours) over tickets dated in
    the period. A response exactly at the limit counts as within it.

    Parameters
    ----------
    sla_hours : float
        The promised first-response time in hours (default 24).

    Returns
    -------
    float
        A fraction in [0, 1]. NaN when the period has no answered tickets.
    """
    if not isinstance(sla_hours, int | float) or isinstance(sla_hours, bool) or sla_hours < 0:
        raise KpitoolsError(
            f"sla_hours must be a non-negative number of hours, got {sla_hours!r}.\n"
            "Hint: write the promised response time in hours, e.g. sla_hours=24 for one day."
        )
    t = _rows_with(feedback, "response_hours", period)
    within = (t.response_hours <= float(sla_hours)).cast("int64").sum()
    return scalar(within / t.count().nullif(0))


def _check_bins(bins: Sequence[float]) -> list[float]:
    edges = [float(b) for b in bins]
    if len(edges) < 2 or edges[0] != 0 or any(b <= a for a, b in pairwise(edges)):
        raise KpitoolsError(
            f"bins must be increasing hour limits starting at 0, got {list(bins)!r}.\n"
            "Hint: for example bins=[0, 1, 4, 24] gives <1 h, 1–4 h, 4–24 h and ≥24 h."
        )
    return edges


def _label(lo: float, hi: float | None) -> str:
    def fmt(x: float) -> str:
        return f"{x:g}"

    return f"≥{fmt(lo)} h" if hi is None else f"{fmt(lo)}–{fmt(hi)} h"


def response_time_distribution(
    feedback: TableLike,
    period: str | Period | None = None,
    bins: Sequence[float] = RESPONSE_HOUR_BINS,
) -> pd.DataFrame:
    """How many tickets were answered within each response-time bucket.

    Buckets are ``[bins[i], bins[i+1])`` hours plus a last open bucket ``≥ bins[-1]``.

    Returns
    -------
    pandas.DataFrame
        One row per bucket, in order (labels like ``"1–4 h"``), columns ``tickets`` (count),
        ``share`` (fraction) and ``cumulative_share`` (fraction answered before the bucket's
        upper limit). All buckets are present; shares are NaN when there are no tickets.
    """
    edges = _check_bins(bins)
    t = _rows_with(feedback, "response_hours", period)
    hours = t.response_hours.cast("float64")
    bucket = ibis.cases(*((hours < hi, i) for i, hi in enumerate(edges[1:])),
                        else_=len(edges) - 1)
    counts = t.mutate(bucket=bucket).group_by("bucket").aggregate(tickets=ibis._.count())
    got = to_pandas(counts).set_index("bucket")["tickets"]
    labels = [_label(lo, hi) for lo, hi in zip(edges, [*edges[1:], None], strict=True)]
    tickets = got.reindex(range(len(labels)), fill_value=0).astype("int64").to_numpy()
    total = tickets.sum()
    share = tickets / total if total else np.full(len(labels), math.nan)
    out = pd.DataFrame({"tickets": tickets, "share": share, "cumulative_share": share.cumsum()},
                       index=pd.Index(labels, name="response_time"))
    return out
