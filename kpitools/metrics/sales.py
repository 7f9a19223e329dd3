"""B2B sales KPIs from the ``deals`` table: funnel, bottleneck, win rate, cycle, coverage, quotas.

``deals`` has one row per opportunity; ``stage`` is the **furthest** stage the deal reached and
``outcome`` is won, lost or open. The stage order is the client's ``funnel_stages`` list, passed as
``stages=[...]``. Stage names are matched without regard to case or surrounding spaces.

Period conventions (documented per function):

* funnel, bottleneck and the ``created`` win rate follow the cohort of deals **created** in the
  period (we only know when a deal was created, not when it entered each stage);
* the ``closed`` win rate, sales cycle, quota attainment and lost reasons look at deals
  **closed** in the period (``close_date`` in ``[start, end)``);
* pipeline coverage looks at open deals expected to close in the period.

Money columns: a missing ``amount`` counts as 0 in sums.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from kpitools._engine import TableLike, in_period, scalar, table, to_pandas
from kpitools._errors import KpitoolsError
from kpitools.metrics.orders import _choice
from kpitools.periods import SECONDS_PER_HOUR, Period, as_period, parse_period

__all__ = [
    "Bottleneck",
    "bottleneck",
    "funnel",
    "lost_reasons",
    "pipeline_coverage",
    "quota_attainment",
    "sales_cycle_days",
    "win_rate",
]

_REQUIRED = ("deal_id", "created_date", "stage", "outcome")
_WIN_DENOMINATORS = ("closed", "created")
_CYCLE_STATS = ("median", "mean")
_MISSING_LABEL = "(missing)"
_SECONDS_PER_DAY = 24 * SECONDS_PER_HOUR
_UNKNOWN_STAGE = -1


def _deals(deals: TableLike, *extra: str) -> ir.Table:
    return table(deals, "deals", (*_REQUIRED, *extra))


def _norm(value: ir.StringValue) -> ir.StringValue:
    return value.cast("string").strip().lower()


def _check_stages(stages: Sequence[str]) -> list[str]:
    if isinstance(stages, str) or not stages:
        raise KpitoolsError(
            f"stages must be a list of funnel stages in order, got {stages!r}.\n"
            "Hint: pass client.funnel_stages, e.g. ['lead', 'qualified', 'proposal', 'won']."
        )
    names = [str(s).strip().lower() for s in stages]
    if len(set(names)) != len(names):
        raise KpitoolsError(
            f"stages {list(stages)} repeat a stage.\nHint: list each funnel stage once, in order."
        )
    return names


def _with_stage_index(t: ir.Table, stages: list[str]) -> ir.Table:
    """Add ``reached``: the 0-based position of the deal's furthest stage (won = last stage)."""
    stage = _norm(t.stage)
    position = ibis.cases(*((stage == name, i) for i, name in enumerate(stages)),
                          else_=_UNKNOWN_STAGE)
    won = _norm(t.outcome) == "won"
    return t.mutate(reached=ibis.ifelse(won, len(stages) - 1, position))


def _raise_unknown_stages(t: ir.Table, stages: list[str]) -> None:
    bad = t.filter(t.reached == _UNKNOWN_STAGE)
    values = to_pandas(bad.group_by("stage").aggregate(n=bad.count()))
    if values.empty:
        return
    listed = ", ".join(f"{s!r} ({n} deals)" for s, n in zip(values["stage"], values["n"],
                                                            strict=True))
    raise KpitoolsError(
        f"deals: stage value(s) {listed} are not in the funnel stages {stages}.\n"
        "Hint: add the missing stage to funnel_stages in client.yml, or fix the stage column "
        "(it must hold the furthest stage each deal reached, not 'closed lost')."
    )


def _segment(t: ir.Table, by: str) -> ir.StringValue:
    if by not in t.columns:
        raise KpitoolsError(
            f"cannot split deals by {by!r}: no such column. Columns present: {list(t.columns)}.\n"
            "Hint: use 'channel' or 'owner'."
        )
    return t[by].cast("string").fill_null(_MISSING_LABEL)


def funnel(
    deals: TableLike,
    stages: Sequence[str],
    period: str | Period | None = None,
    *,
    by: str | None = None,
) -> pd.DataFrame:
    """Deals reaching each funnel stage, with stage-to-stage and overall conversion.

    A deal counts in every stage up to and including its ``stage`` (the furthest it reached);
    won deals count in every stage. Cohort: deals **created** in the period.

    Formulas: ``deals[k]`` = deals whose furthest stage is k or later;
    ``stage_conversion[k] = deals[k] ÷ deals[k-1]`` (NaN for the first stage and when
    ``deals[k-1]`` is 0); ``overall_conversion[k] = deals[k] ÷ deals[0]``.

    Parameters
    ----------
    stages : list of str
        The client's funnel stages in order (``client.funnel_stages``).
    by : str, optional
        A deals column (``"channel"``, ``"owner"``) to split the funnel by.

    Returns
    -------
    pandas.DataFrame
        Index ``stage`` (or ``(by, stage)``), columns ``deals`` (count),
        ``stage_conversion`` and ``overall_conversion`` (fractions in [0, 1]). An empty period
        gives zero counts and NaN conversions.

    Raises
    ------
    KpitoolsError
        When a deal's stage is not in ``stages`` (the message lists the values).

    Notes
    -----
    Source: stage conversion = deals advancing ÷ deals entering (kpi-definitions.md §2,
    secondary), HubSpot sales conversion rate.
    """
    names = _check_stages(stages)
    t = _with_stage_index(in_period(_deals(deals), "created_date", as_period(period)), names)
    keys = []
    if by is not None:
        t = t.mutate(_segment=_segment(t, by))
        keys = ["_segment"]
    counts = {f"s{i}": (t.reached >= i).cast("int64").sum() for i in range(len(names))}
    # deals at an unknown stage are counted in the same query; only then are they listed
    counts["_unknown"] = (t.reached == _UNKNOWN_STAGE).cast("int64").sum()
    wide = to_pandas(t.group_by(keys).aggregate(**counts) if keys else t.aggregate(**counts))
    wide = wide.fillna(0)
    if wide["_unknown"].sum() > 0:
        _raise_unknown_stages(t, names)
    wide = wide.drop(columns="_unknown")
    long = wide.melt(id_vars=keys, var_name="pos", value_name="deals")
    long["pos"] = long["pos"].str[1:].astype("int64")
    long["stage"] = long["pos"].map(dict(enumerate(str(x).strip() for x in stages)))
    long["deals"] = long["deals"].astype("int64")
    long = long.sort_values([*keys, "pos"]).reset_index(drop=True)
    if keys:
        grouped = long.groupby("_segment", sort=False)["deals"]
        previous, first = grouped.shift(1), grouped.transform("first")
    else:
        previous, first = long["deals"].shift(1), long["deals"].iloc[0]
    long["stage_conversion"] = long["deals"] / previous.replace(0, np.nan)
    long["overall_conversion"] = long["deals"] / pd.Series(first, index=long.index).replace(
        0, np.nan)
    index = ["_segment", "stage"] if keys else ["stage"]
    out = long.set_index(index)[["deals", "stage_conversion", "overall_conversion"]]
    if keys:
        out.index = out.index.set_names([by, "stage"])
    return out


@dataclass(frozen=True)
class Bottleneck:
    """The funnel step where one segment loses most deals against all other segments.

    ``lost_deals`` = (``conversion_rest`` − ``conversion``) × ``deals_entering``: how many more
    deals the segment would have moved from ``from_stage`` to ``to_stage`` had it converted like
    the rest. Conversions are fractions.
    """

    by: str
    segment: str
    from_stage: str
    to_stage: str
    deals_entering: int
    conversion: float
    conversion_rest: float
    lost_deals: float


def bottleneck(
    deals: TableLike,
    stages: Sequence[str],
    period: str | Period | None = None,
    *,
    by: str = "channel",
) -> Bottleneck | None:
    """The stage and segment that lose most deals compared with every other segment.

    For each segment *s* and each step k-1 → k of the funnel (see :func:`funnel`):
    ``conversion = n_s[k] ÷ n_s[k-1]`` and ``conversion_rest = (N[k] − n_s[k]) ÷
    (N[k-1] − n_s[k-1])`` over all other segments; the gap is weighted by volume:
    ``lost_deals = (conversion_rest − conversion) × n_s[k-1]``. The step with the largest
    positive ``lost_deals`` wins (ties: earlier stage, then segment name). Weighting by volume
    keeps a channel with 2 leads from outranking the channel that really leaks.

    Returns
    -------
    Bottleneck or None
        None when no segment converts worse than the rest at any step (e.g. a single segment,
        or an empty period).

    Notes
    -----
    Definition is ours (the issue asks for "the stage and channel that lose most against the
    rest"); conversions follow :func:`funnel`.
    """
    f = funnel(deals, stages, period, by=by).reset_index()
    if f.empty:
        return None
    f["pos"] = f.groupby(by, sort=False).cumcount()
    totals = f.groupby("pos")["deals"].sum()
    f["prev"] = f.groupby(by, sort=False)["deals"].shift(1)
    f["total"] = f["pos"].map(totals)
    f["total_prev"] = (f["pos"] - 1).map(totals)
    f = f[f["pos"] > 0].copy()
    rest_prev = (f["total_prev"] - f["prev"]).replace(0, np.nan)
    f["conversion"] = f["deals"] / f["prev"].replace(0, np.nan)
    f["conversion_rest"] = (f["total"] - f["deals"]) / rest_prev
    f["lost"] = (f["conversion_rest"] - f["conversion"]) * f["prev"]
    f = f[f["lost"] > 0]
    if f.empty:
        return None
    best = f.sort_values(["lost", "pos", by], ascending=[False, True, True]).iloc[0]
    names = [str(x).strip() for x in stages]
    pos = int(best["pos"])
    return Bottleneck(
        by=by,
        segment=str(best[by]),
        from_stage=names[pos - 1],
        to_stage=names[pos],
        deals_entering=int(best["prev"]),
        conversion=float(best["conversion"]),
        conversion_rest=float(best["conversion_rest"]),
        lost_deals=float(best["lost"]),
    )


def win_rate(
    deals: TableLike, period: str | Period | None = None, *, denominator: str = "closed"
) -> float:
    """Win rate (贏單率): won deals ÷ deals that could have been won.

    ``denominator="closed"`` (default): won ÷ (won + lost) among deals **closed** in the period
    (Salesforce's standard report formula ``WON:SUM / CLOSED:SUM``).
    ``denominator="created"``: won ÷ all deals **created** in the period, open ones included
    (Salesforce's "win rate of all created opportunities"); lower while deals are still open.

    Returns
    -------
    float
        A fraction in [0, 1]. NaN when the denominator is 0.

    Notes
    -----
    Source: Salesforce KB 000387867 (kpi-definitions.md §2, §6).

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"deal_id": ["a", "b", "c"], "stage": ["won", "demo", "lead"],
    ...     "outcome": ["won", "lost", "open"],
    ...     "created_date": pd.to_datetime(["2024-07-01"] * 3),
    ...     "close_date": pd.to_datetime(["2024-08-01", "2024-08-02", None])})
    >>> win_rate(d, "2024Q3"), win_rate(d, "2024Q3", denominator="created")
    (0.5, 0.3333333333333333)
    """
    _choice("denominator", denominator, _WIN_DENOMINATORS)
    p = as_period(period)
    if denominator == "created":
        t = in_period(_deals(deals), "created_date", p)
        base = t
    else:
        t = in_period(_deals(deals, "close_date"), "close_date", p)
        base = t.filter(_norm(t.outcome).isin(["won", "lost"]))
    won = (_norm(base.outcome) == "won").cast("int64").sum()
    return scalar(won / base.count().nullif(0))


def _days_between(later: ir.TimestampValue, earlier: ir.TimestampValue) -> ir.FloatingValue:
    return (later.epoch_seconds() - earlier.epoch_seconds()) / _SECONDS_PER_DAY


def sales_cycle_days(
    deals: TableLike, period: str | Period | None = None, *, stat: str = "median"
) -> float:
    """Sales cycle length (銷售週期): days from creation to close for won deals.

    Formula: median (or mean) of ``close_date − created_date`` in days over deals **won** with
    ``close_date`` in the period. The median is the default because a few stalled deals in a
    small pipeline pull the mean far up; ``stat="mean"`` gives the glossary (kpitree) figure.

    Returns
    -------
    float
        Days. NaN when no deal was won in the period.

    Notes
    -----
    Source: kpitree sales cycle length (secondary); Salesforce "Age" = close − created.
    """
    _choice("stat", stat, _CYCLE_STATS)
    t = in_period(_deals(deals, "close_date"), "close_date", as_period(period))
    won = t.filter(_norm(t.outcome) == "won")
    days = _days_between(won.close_date, won.created_date)
    return scalar(days.median() if stat == "median" else days.mean())


def _amount(t: ir.Table) -> ir.NumericValue:
    if "amount" not in t.columns:
        raise KpitoolsError(
            f"table 'deals' lacks column 'amount'. Columns present: {list(t.columns)}.\n"
            "Hint: map the deal value column (金額, amount) to 'amount' in client.yml."
        )
    return t.amount.cast("float64").fill_null(0.0)


def _quota_for(quotas: TableLike, p: Period) -> pd.Series:
    """Quota per owner for period ``p``: the sum of quota rows whose period lies inside ``p``."""
    q = to_pandas(table(quotas, "quotas", ("owner", "period", "quota")))
    labels = q["period"].astype("string").str.strip()
    parsed = {s: parse_period(s, fiscal_year_start_month=p.fiscal_year_start_month)
              for s in labels.dropna().unique()}
    within = {s: bool(p.start <= q.start and q.end <= p.end) for s, q in parsed.items()}
    inside = labels.map(within).fillna(False).astype(bool)
    if not inside.any():
        raise KpitoolsError(
            f"quotas: no quota row falls inside period {p.label}; quota periods present: "
            f"{sorted(parsed)}.\nHint: ask for a period that the quotas cover (e.g. the quarter "
            "or year they are written for), or add quota rows for this period."
        )
    return q[inside].groupby("owner")["quota"].sum().astype("float64")


def _as_of(as_of: object, p: Period) -> pd.Timestamp:
    ts = p.start if as_of is None else pd.Timestamp(as_of)
    if not p.start <= ts < p.end:
        raise KpitoolsError(
            f"as_of {ts.date()} is outside period {p.label}.\n"
            "Hint: as_of is the day the pipeline is measured; pick a day inside the period."
        )
    return ts


def pipeline_coverage(
    deals: TableLike,
    quotas: TableLike,
    period: str | Period,
    *,
    as_of: str | pd.Timestamp | None = None,
) -> float:
    """Pipeline coverage (銷售管道覆蓋率): open pipeline due in the period ÷ quota still to win.

    Formula: Σ amount of deals open on ``as_of`` with ``close_date`` in ``[as_of, end)`` ÷
    (Σ quota for the period − Σ amount won from the period start up to ``as_of``).
    ``as_of`` is read as the start of that day: a deal is open on ``as_of`` if it was created on
    or before it and not closed before it (still open, or closed on or after ``as_of``); deals
    won before ``as_of`` reduce the quota still to win. ``as_of`` defaults to the first day of
    the period (coverage entering the period). Open deals without a ``close_date`` or with an
    overdue one (before ``as_of``) are left out.

    Returns
    -------
    float
        A ratio (3.0 = "3×"). The coverage you need is 1 ÷ win rate. NaN when the remaining
        quota is zero or negative (the quota is already met).

    Notes
    -----
    Source: winsabove, getfairview, omegapoint (secondary; kpi-definitions.md §2).
    """
    p = as_period(period)
    if p is None:
        raise KpitoolsError("pipeline_coverage needs a period.\nHint: pass period='2024Q3'.")
    day = _as_of(as_of, p)
    quota = float(_quota_for(quotas, p).sum())
    t = _deals(deals, "close_date")
    t = t.mutate(_amt=_amount(t), _out=_norm(t.outcome))
    day_dt, start_dt, end_dt = day.to_pydatetime(), p.start.to_pydatetime(), p.end.to_pydatetime()
    open_then = (t.created_date <= day_dt) & ((t._out == "open") | (t.close_date >= day_dt))
    due = (t.close_date >= day_dt) & (t.close_date < end_dt)
    won_so_far = (t._out == "won") & (t.close_date >= start_dt) & (t.close_date < day_dt)
    row = to_pandas(t.aggregate(
        pipeline=t._amt.sum(where=open_then & due), won=t._amt.sum(where=won_so_far)
    )).iloc[0]
    pipeline = 0.0 if pd.isna(row["pipeline"]) else float(row["pipeline"])
    won = 0.0 if pd.isna(row["won"]) else float(row["won"])
    remaining = quota - won
    return pipeline / remaining if remaining > 0 else math.nan


def quota_attainment(deals: TableLike, quotas: TableLike, period: str | Period) -> pd.DataFrame:
    """Quota attainment (業績達成率) per owner: won amount closed in the period ÷ quota.

    Returns
    -------
    pandas.DataFrame
        Index ``owner``; columns ``won_amount`` (currency), ``quota`` (currency) and
        ``attainment`` (ratio; 1.0 = quota met, may exceed 1). Owners with a quota and no wins
        get 0.0; owners with wins but no quota are listed with NaN attainment.

    Notes
    -----
    Source: goal attainment = actual ÷ target (kpi-definitions.md §0).
    """
    p = as_period(period)
    if p is None:
        raise KpitoolsError("quota_attainment needs a period.\nHint: pass period='2024Q3'.")
    quota = _quota_for(quotas, p)
    t = in_period(_deals(deals, "close_date", "owner"), "close_date", p)
    won = t.filter(_norm(t.outcome) == "won")
    won = won.mutate(_amt=_amount(won), _owner=won.owner.cast("string").fill_null(_MISSING_LABEL))
    per = to_pandas(won.group_by("_owner").aggregate(won_amount=won._amt.sum()))
    won_amount = per.set_index("_owner")["won_amount"].astype("float64")
    out = pd.DataFrame({"won_amount": won_amount, "quota": quota})
    out["won_amount"] = out["won_amount"].fillna(0.0)
    out["attainment"] = out["won_amount"] / out["quota"].replace(0, np.nan)
    out.index.name = "owner"
    return out.sort_index()


def lost_reasons(deals: TableLike, period: str | Period | None = None) -> pd.DataFrame:
    """Why deals were lost: lost deals closed in the period by ``lost_reason``.

    Returns
    -------
    pandas.DataFrame
        Index ``lost_reason`` (missing reasons as ``"(missing)"``), columns ``deals`` (count),
        ``amount`` (currency) and ``share`` (fraction of lost deals), largest first. No rows
        when nothing was lost.
    """
    t = in_period(_deals(deals, "close_date", "lost_reason"), "close_date", as_period(period))
    lost = t.filter(_norm(t.outcome) == "lost")
    amount = _amount(lost) if "amount" in lost.columns else ibis.literal(0.0)
    lost = lost.mutate(_reason=lost.lost_reason.cast("string").fill_null(_MISSING_LABEL),
                       _amt=amount)
    out = lost.group_by("_reason").aggregate(deals=lost.count(), amount=lost._amt.sum())
    out = to_pandas(out).rename(columns={"_reason": "lost_reason"})
    out["deals"] = out["deals"].astype("int64")
    out["share"] = out["deals"] / out["deals"].sum() if len(out) else pd.Series(dtype=float)
    out = out.sort_values(["deals", "lost_reason"], ascending=[False, True])
    return out.set_index("lost_reason")
