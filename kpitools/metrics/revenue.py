"""Recurring revenue from contracts: MRR, ARR, ACV, TCV, ARPA, MRR movements and quick ratio.

Every function takes the canonical ``contracts`` table (pandas, Polars or Ibis) first. Stocks
(MRR, ARR, ARPA) are month-end snapshots; flows (ACV, TCV, movements) belong to the period in
which they happen. See :mod:`kpitools.metrics._contracts` for the shared conventions (term months,
contract MRR, month-end activity) and ``research/kpi-definitions.md`` §1 for the sources.
"""

from __future__ import annotations

import math

import ibis
import pandas as pd

from kpitools._engine import TableLike, in_period, scalar, to_pandas
from kpitools.metrics._contracts import (
    MOVEMENTS,
    active_at,
    check_choice,
    contracts_table,
    customer_mrr_at,
    data_months,
    month_of,
    month_start,
    monthly_flows,
    period_months,
    snapshot_period,
    started_by,
)
from kpitools.periods import MONTHS_PER_YEAR, Period, as_period

__all__ = ["acv", "arpa", "arr", "mrr", "mrr_movements", "quick_ratio", "tcv"]

#: Contracts shorter than this many months are left out of ``arr(contract_arr=True)``.
MIN_CONTRACT_ARR_MONTHS = MONTHS_PER_YEAR
_TERM_TOLERANCE = 1e-9
#: Label of rows whose grouping column is empty.
MISSING_LABEL = "(missing)"


def _snapshot_month(c, period: str | Period | None, at: str) -> int:
    check_choice("at", at, ("end", "start"))
    lo, hi = period_months(snapshot_period(c, period))
    return hi if at == "end" else lo - 1


def mrr(contracts: TableLike, period: str | Period | None = None, *, at: str = "end") -> float:
    """Monthly recurring revenue normalized from contracts.

    Formula: MRR = Σ over contracts covering the snapshot day of recurring value ÷ term months.

    Parameters
    ----------
    contracts : table
        Canonical contracts (``contract_id, customer_id, start_date, end_date, total_value``;
        ``recurring_value`` and ``one_time_fees`` used when present).
    period : str, Period or None
        ``at="end"`` measures on the period's last day; ``at="start"`` gives the opening stock,
        i.e. the MRR on the last day of the month before the period. None = the latest data
        month (the month of the most recent ``start_date``).
    at : {"end", "start"}

    Returns
    -------
    float
        Currency per month. 0.0 when no contract is active although some started before (a
        stock); NaN (no data) when no contract has started by the snapshot month.

    Notes
    -----
    One-time fees are excluded; there is no tax, trial or usage concept in the contracts table.
    The other MRR switches of kpi-definitions.md §0 have nothing to act on in the canonical
    contracts table, so they are not parameters: contract values are taken as invoiced, i.e.
    net of discounts (the ChartMogul / ProfitWell default, ``discounts="net"``); there is no
    payment status, so a contract counts until its ``end_date`` whether paid or past due
    (``include_past_due=True``); and all amounts are in the client's one currency, so no FX
    table is needed and FX never creates movements.
    Source: ChartMogul / Stripe MRR (kpi-definitions.md §1.1).

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"contract_id": ["k1", "k2"], "customer_id": ["a", "b"],
    ...     "start_date": pd.to_datetime(["2024-01-01", "2024-03-01"]),
    ...     "end_date": pd.to_datetime(["2024-12-31", "2024-08-31"]),
    ...     "total_value": [12000.0, 3000.0]})
    >>> mrr(c, "2024-06")
    1500.0
    """
    c = contracts_table(contracts)
    month = _snapshot_month(c, period, at)
    return _stock(c, active_at(c, month), month)


def _stock(c, live, month: int) -> float:
    """Σ mrr of the live contracts: 0.0 when none is live but some started by ``month``; NaN
    (no data) when no contract has started yet, e.g. a headers-only contracts file."""
    total = scalar(live.mrr.sum())
    if math.isnan(total):
        return 0.0 if scalar(c.filter(c.first_month <= month).count()) else math.nan
    return total


def arr(
    contracts: TableLike,
    period: str | Period | None = None,
    *,
    at: str = "end",
    contract_arr: bool = False,
) -> float:
    """Annual recurring revenue: ARR = MRR × 12 (annual run rate).

    ``contract_arr=True`` keeps only contracts of at least 12 months (the original "annual
    recurring" meaning, ChartMogul). Units: currency per year. Period and zero policy as
    :func:`mrr` (0.0 when nothing is active, NaN before any contract). Source: ChartMogul,
    Baremetrics (§1.3).

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"contract_id": ["k1", "k2"], "customer_id": ["a", "b"],
    ...     "start_date": pd.to_datetime(["2024-01-01", "2024-03-01"]),
    ...     "end_date": pd.to_datetime(["2024-12-31", "2024-08-31"]),
    ...     "total_value": [12000.0, 3000.0]})
    >>> arr(c, "2024-06"), arr(c, "2024-06", contract_arr=True)
    (18000.0, 12000.0)
    """
    c = contracts_table(contracts)
    month = _snapshot_month(c, period, at)
    live = active_at(c, month)
    if contract_arr:
        live = live.filter(live.term_months >= MIN_CONTRACT_ARR_MONTHS - _TERM_TOLERANCE)
    return MONTHS_PER_YEAR * _stock(c, live, month)


def arpa(
    contracts: TableLike,
    period: str | Period | None = None,
    *,
    denominator: str = "customers",
) -> float:
    """Average revenue per account: ARPA = MRR at period end ÷ paying customers at period end.

    A customer with several contracts counts once (``denominator="customers"``);
    ``"subscriptions"`` divides by active contracts instead. (The ``"users"`` denominator of
    kpi-definitions.md §0 needs seat counts, which the contracts table does not hold.)
    Units: currency per month.
    Period: month-end snapshot on the period's last day (None = latest data month).
    Zero policy: NaN when nobody pays. Source: ChartMogul ARPA (§1.5).

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"contract_id": ["k1", "k2", "k3"], "customer_id": ["a", "a", "b"],
    ...     "start_date": pd.to_datetime(["2024-01-01"] * 3),
    ...     "end_date": pd.to_datetime(["2024-12-31"] * 3),
    ...     "total_value": [1200.0, 2400.0, 3600.0]})
    >>> arpa(c, "2024Q2"), arpa(c, "2024Q2", denominator="subscriptions")
    (300.0, 200.0)
    """
    check_choice("denominator", denominator, ("customers", "subscriptions"))
    c = contracts_table(contracts)
    month = _snapshot_month(c, period, "end")
    live = active_at(c, month)
    total = scalar(live.mrr.sum().fill_null(0.0))
    if denominator == "customers":
        count = scalar(customer_mrr_at(c, month).count())
    else:
        count = scalar(live.filter(live.mrr > 0).count())
    return total / count if count else math.nan


def _contracts_in(contracts: TableLike, period: str | Period | None, extra=()):
    c = contracts_table(contracts, extra)
    return in_period(c, "start_date", as_period(period))


def acv_rows(
    contracts: TableLike,
    period: str | Period | None,
    *,
    include_one_time: bool = False,
    by: str | None = None,
):
    """Contracts started in ``period`` with their ``acv`` column (an Ibis table, not public)."""
    t = _contracts_in(contracts, period, [by] if by else [])
    value = t.total_value.cast("float64") if include_one_time else t.recurring
    years = ibis.greatest(t.term_months / MONTHS_PER_YEAR, 1.0)
    t = t.mutate(acv=value / years)
    if by:
        t = t.mutate(**{by: t[by].cast("string").fill_null(MISSING_LABEL)})
    return t


def acv(
    contracts: TableLike,
    period: str | Period | None = None,
    *,
    include_one_time: bool = False,
    mode: str = "average",
    by: str | None = None,
) -> float | pd.Series | pd.DataFrame:
    """Annual contract value, per contract or averaged over the contracts started in a period.

    Formula (one contract): ACV = (total_value − one_time_fees) ÷ max(term years, 1), where the
    recurring part is ``recurring_value`` when given. Partial-year contracts are not inflated
    (a 6-month 6,000 contract has ACV 6,000). ``include_one_time=True`` divides ``total_value``
    instead (HubSpot / DealHub convention).

    Parameters
    ----------
    period : flow convention: contracts whose ``start_date`` is in ``[start, end)``; None = all.
    mode : {"average", "per_contract"}
        ``"average"`` returns the mean ACV (float; a Series per group with ``by``);
        ``"per_contract"`` returns a DataFrame ``contract_id, customer_id, start_date, acv``
        (plus the ``by`` column).
    by : column such as ``"tier"`` to average within groups (missing labels become "(missing)").

    Returns
    -------
    float, Series or DataFrame. Units: currency per year. NaN average when no contract started.

    Notes
    -----
    Source: ChartMogul "don't inflate partial years", a16z, glossaries (kpi-definitions.md §1.4).

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"contract_id": ["k1", "k2"], "customer_id": ["a", "b"],
    ...     "start_date": pd.to_datetime(["2024-01-01", "2024-02-01"]),
    ...     "end_date": pd.to_datetime(["2026-12-31", "2024-07-31"]),
    ...     "total_value": [380000.0, 6000.0], "one_time_fees": [20000.0, 0.0]})
    >>> acv(c, mode="per_contract")["acv"].tolist()
    [120000.0, 6000.0]
    >>> acv(c, "2024Q1")
    63000.0
    """
    check_choice("mode", mode, ("average", "per_contract"))
    t = acv_rows(contracts, period, include_one_time=include_one_time, by=by)
    if mode == "per_contract":
        cols = ["contract_id", "customer_id", "start_date", *([by] if by else []), "acv"]
        return to_pandas(t.select(cols).order_by("start_date", "contract_id"))
    if by:
        g = to_pandas(t.group_by(by).aggregate(acv=t.acv.mean()).order_by(by))
        return g.set_index(by)["acv"]
    return scalar(t.acv.mean())


def tcv(
    contracts: TableLike, period: str | Period | None = None, *, mode: str = "total"
) -> float:
    """Total contract value booked: TCV = Σ total_value of contracts started in the period.

    ``total_value`` includes one-time fees (a16z). ``mode="average"`` gives the mean per
    contract. Units: currency. Period: flow by ``start_date`` (None = all contracts).
    Zero policy: 0.0 total / NaN average when no contract started in the period; NaN for both
    when no contract has started by its end (no data). Source: a16z (§1.4).

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"contract_id": ["k1", "k2"], "customer_id": ["a", "b"],
    ...     "start_date": pd.to_datetime(["2024-01-01", "2024-05-01"]),
    ...     "end_date": pd.to_datetime(["2026-12-31", "2024-10-31"]),
    ...     "total_value": [36000.0, 5000.0]})
    >>> tcv(c, "2024"), tcv(c, "2024", mode="average")
    (41000.0, 20500.0)
    """
    check_choice("mode", mode, ("total", "average"))
    t = _contracts_in(contracts, period)
    value = t.total_value.cast("float64")
    if mode == "average":
        return scalar(value.mean())
    total = scalar(value.sum())
    if math.isnan(total) and started_by(contracts, period):
        return 0.0
    return total



def mrr_movements(
    contracts: TableLike,
    start: str | Period | None = None,
    end: str | Period | None = None,
    *,
    reactivation_as: str = "reactivation",
) -> pd.DataFrame:
    """Monthly MRR bridge: new, expansion, contraction, churn and reactivation per month.

    Classified per customer and netted per month (a customer who upgrades and downgrades in the
    same month shows only the net change). For each customer and month with ``prev`` = MRR at
    the previous month-end and ``cur`` = MRR at this month-end:

    * new: prev = 0, cur > 0 and this is the customer's first month with MRR;
    * reactivation: prev = 0, cur > 0 for a customer who paid before;
    * churn: prev > 0, cur = 0 (only when the customer's *total* MRR reaches zero);
    * expansion / contraction: both > 0 and cur above / below prev.

    Parameters
    ----------
    start, end : months (or any period/date inside a month) bounding the table, inclusive.
        None = the first month with MRR / the latest data month (month of the latest
        ``start_date``; pass ``end=`` to see churn scheduled after it).
    reactivation_as : {"reactivation", "expansion", "new"}
        Where reactivated MRR is reported: its own column (ChartMogul, Stripe), folded into
        expansion (Lago) or into new. The ``reactivation`` column is then 0.

    Returns
    -------
    DataFrame with columns ``month`` (first day), ``new, expansion, contraction, churn,
    reactivation`` (all amounts ≥ 0, currency per month), ``net`` =
    new + expansion + reactivation − contraction − churn, ``mrr_start`` and ``mrr_end``
    (``mrr_start + net == mrr_end``). An empty range gives an empty frame.

    Notes
    -----
    Source: ChartMogul, Stripe, dbt-labs mrr-playbook (kpi-definitions.md §1.2).

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"contract_id": ["k1", "k2"], "customer_id": ["a", "a"],
    ...     "start_date": pd.to_datetime(["2024-01-01", "2024-03-01"]),
    ...     "end_date": pd.to_datetime(["2024-02-29", "2024-03-31"]),
    ...     "total_value": [200.0, 150.0]})
    >>> m = mrr_movements(c, "2024-01", "2024-04")
    >>> m[["new", "expansion", "churn", "mrr_end"]].to_numpy().tolist()
    [[100.0, 0.0, 0.0, 100.0], [0.0, 0.0, 0.0, 100.0], [0.0, 50.0, 0.0, 150.0], \
[0.0, 0.0, 150.0, 0.0]]
    """
    check_choice("reactivation_as", reactivation_as, ("reactivation", "expansion", "new"))
    c = contracts_table(contracts)
    lo, hi = _month_bounds(c, start, end)
    if hi < lo:
        return pd.DataFrame(columns=["month", *MOVEMENTS, "net", "mrr_start", "mrr_end"])
    flows = monthly_flows(c, lo, hi)
    out = flows[list(MOVEMENTS)].copy()
    if reactivation_as != "reactivation":
        out[reactivation_as] += out["reactivation"]
        out["reactivation"] = 0.0
    out["net"] = (out["new"] + out["expansion"] + out["reactivation"]
                  - out["contraction"] - out["churn"])
    out["mrr_start"] = flows["mrr_start"]
    out["mrr_end"] = flows["mrr_end"]
    out.insert(0, "month", [month_start(m) for m in out.index])
    return out.reset_index(drop=True)


def _month_bounds(c, start, end) -> tuple[int, int]:
    def month(x, which: str) -> int | None:
        if x is None:
            return None
        if isinstance(x, Period | str):
            p = as_period(x)
            return month_of(p.start if which == "lo" else p.last_day)
        return month_of(pd.Timestamp(x))

    lo, hi = month(start, "lo"), month(end, "hi")
    if lo is None or hi is None:
        first, latest = data_months(c)
        lo = first if lo is None else lo
        hi = latest if hi is None else hi
    return lo, hi


def quick_ratio(
    contracts: TableLike,
    period: str | Period | None = None,
    *,
    include_reactivation: bool = True,
) -> float:
    """SaaS quick ratio: (new + expansion + reactivation) ÷ (churn + contraction) MRR.

    Movements (see :func:`mrr_movements`) are summed over the months of the period, so a
    quarter adds up three monthly bridges. ``include_reactivation=False`` drops reactivation
    from the numerator (Baremetrics preset). Units: ratio (> 1 means MRR grows).
    Period: None = the latest data month. Zero policy: NaN when no MRR was lost in the period
    (the ratio is unbounded). Source: ChartMogul/Stripe movement model, Baremetrics (§1.10).

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"contract_id": ["k1", "k2", "k3"], "customer_id": ["a", "b", "c"],
    ...     "start_date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-02-01"]),
    ...     "end_date": pd.to_datetime(["2024-12-31", "2024-01-31", "2024-12-31"]),
    ...     "total_value": [1200.0, 100.0, 3300.0]})
    >>> quick_ratio(c, "2024-02")  # new 300 ÷ churn 100
    3.0
    """
    c = contracts_table(contracts)
    lo, hi = period_months(snapshot_period(c, period))
    return quick_ratio_of(monthly_flows(c, lo, hi), include_reactivation)


def quick_ratio_of(months: pd.DataFrame, include_reactivation: bool = True) -> float:
    """The quick ratio of the months in ``months`` (rows of ``monthly_flows``)."""
    f = months.sum()
    gained = f["new"] + f["expansion"] + (f["reactivation"] if include_reactivation else 0.0)
    lost = f["churn"] + f["contraction"]
    return float(gained / lost) if lost > 0 else math.nan
