"""Winning customers: new customers, customer acquisition cost (CAC) and CAC payback.

New customers come from ``contracts`` (a customer is new in the period that holds its first
``start_date``); spend comes from ``marketing_spend`` (one row per month and channel, ``period``
= first day of the month, ``category`` = paid or other). Channels are matched between the two
tables case-insensitively and ignoring surrounding spaces.
"""

from __future__ import annotations

import math

import ibis
import ibis.expr.types as ir
import pandas as pd

from kpitools._engine import TableLike, in_period, scalar, table, to_pandas
from kpitools._errors import KpitoolsError
from kpitools.metrics._contracts import (
    check_choice,
    check_margin,
    contracts_table,
    started_by,
)
from kpitools.periods import Period, as_period

__all__ = ["cac", "cac_payback_months", "new_customers"]

SPEND_COLUMNS = ("period", "channel", "spend")


def _first_contracts(contracts: TableLike, extra=()) -> ir.Table:
    """Each customer's first contract date, channel and starting MRR.

    Columns: ``customer_id, first_start, channel, start_mrr`` (channel only when present);
    the starting MRR adds every contract that begins on the customer's first day.
    """
    c = contracts_table(contracts, extra)
    firsts = c.group_by("customer_id").aggregate(first_start=c.start_date.min())
    firsts = firsts.select(f_customer=firsts.customer_id, first_start=firsts.first_start)
    day_one = c.join(firsts, [c.customer_id == firsts.f_customer,
                              c.start_date == firsts.first_start])
    aggs = {"first_start": day_one.first_start.min(), "start_mrr": day_one.mrr.sum()}
    if "channel" in c.columns:
        aggs["channel"] = _channel_key(day_one.channel).min()
    return day_one.group_by("customer_id").aggregate(**aggs)


def _channel_key(col: ir.StringValue) -> ir.StringValue:
    return col.cast("string").strip().lower().fill_null("(missing)")


def _new_in(contracts: TableLike, period: Period | None, extra=()) -> ir.Table:
    return in_period(_first_contracts(contracts, extra), "first_start", period)


def new_customers(contracts: TableLike, period: str | Period | None = None) -> float:
    """Number of customers whose first contract starts in the period.

    Formula: count of customers with min(start_date) in ``[start, end)``. Units: count.
    Period: flow by the first ``start_date``; None = every customer ever. Zero policy: 0.0;
    NaN (no data) when no contract has started by the period's end.
    A returning customer is not new again (see reactivation in ``mrr_movements``).
    Source: kpi-definitions.md §1.9 (CAC denominator).

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"contract_id": ["k1", "k2", "k3"], "customer_id": ["a", "a", "b"],
    ...     "start_date": pd.to_datetime(["2024-02-01", "2024-08-01", "2024-07-15"]),
    ...     "end_date": pd.to_datetime(["2024-07-31", "2025-07-31", "2025-07-14"]),
    ...     "total_value": [600.0, 1200.0, 1200.0]})
    >>> new_customers(c, "2024Q3")  # a renewed in Q3 but started in Q1
    1.0
    """
    count = scalar(_new_in(contracts, as_period(period)).count())
    if count == 0 and not started_by(contracts, period):
        return math.nan
    return count


def _spend_table(marketing_spend: TableLike) -> ir.Table:
    s = table(marketing_spend, "marketing_spend", SPEND_COLUMNS)
    category = (
        s.category.cast("string").strip().lower().fill_null("paid")
        if "category" in s.columns
        else ibis.literal("paid")
    )
    return s.mutate(channel_key=_channel_key(s.channel), is_paid=category == "paid",
                    spend=s.spend.cast("float64"))


def check_cac_options(mode: str, spend_lag_months: int) -> None:
    """Raise :class:`KpitoolsError` for a CAC ``mode`` or spend lag that does not exist."""
    check_choice("mode", mode, ("blended", "paid"))
    if not isinstance(spend_lag_months, int) or spend_lag_months < 0:
        raise KpitoolsError(
            f"spend_lag_months must be a whole number ≥ 0, got {spend_lag_months!r}.\n"
            "Hint: use 0 (same month) or 1 (customers follow last month's spend)."
        )


def _spend_window(period: Period | None, lag_months: int) -> Period | None:
    if period is None or not lag_months:
        return period
    shift = pd.DateOffset(months=lag_months)
    return Period(period.start - shift, period.end - shift, period.freq,
                  period.fiscal_year_start_month)


def cac(
    marketing_spend: TableLike,
    contracts: TableLike,
    period: str | Period | None = None,
    *,
    mode: str = "blended",
    by_channel: bool = False,
    spend_lag_months: int = 0,
) -> float | pd.Series:
    """Customer acquisition cost = sales & marketing spend ÷ new customers.

    Parameters
    ----------
    marketing_spend, contracts : tables
        Spend per month and channel; contracts give the new customers (:func:`new_customers`).
    period : str, Period or None
        Flow: spend dated in the period and customers whose first contract starts in it.
        None = all spend ÷ all customers.
    mode : {"blended", "paid"}
        ``"blended"``: all spend ÷ all new customers. ``"paid"``: spend with category "paid"
        ÷ new customers whose first contract came through a channel with paid spend
        (needs ``contracts.channel``).
    by_channel : bool
        Return a Series: each spend channel's spend ÷ the new customers of that channel
        (customers of channels without spend are not shown).
    spend_lag_months : int
        Compare customers with the spend of ``n`` months earlier (SaaSGrid uses 1).

    Returns
    -------
    float or Series, currency per new customer. NaN when there are no new customers.

    Notes
    -----
    "Fully loaded" CAC needs salaries and tools in ``marketing_spend`` with category "other".
    Source: Skok, Finmark, a16z; blended vs paid example of bhargreaves.com (§1.9).

    Examples
    --------
    >>> import pandas as pd
    >>> spend = pd.DataFrame({"period": pd.to_datetime(["2024-07-01", "2024-08-01"]),
    ...     "channel": ["ads", "events"], "spend": [600.0, 300.0],
    ...     "category": ["paid", "other"]})
    >>> c = pd.DataFrame({"contract_id": ["k1", "k2", "k3"], "customer_id": ["a", "b", "c"],
    ...     "start_date": pd.to_datetime(["2024-07-10", "2024-08-01", "2024-09-01"]),
    ...     "end_date": pd.to_datetime(["2025-07-09", "2025-07-31", "2025-08-31"]),
    ...     "total_value": [1200.0] * 3, "channel": ["Ads", "referral", "events"]})
    >>> cac(spend, c, "2024Q3"), cac(spend, c, "2024Q3", mode="paid")
    (300.0, 600.0)
    """
    check_cac_options(mode, spend_lag_months)
    p = as_period(period)
    s = in_period(_spend_table(marketing_spend), "period", _spend_window(p, spend_lag_months))
    needs_channel = mode == "paid" or by_channel
    new = _new_in(contracts, p, ["channel"] if needs_channel else [])
    if mode == "paid":
        s = s.filter(s.is_paid)
    if by_channel:
        spent = to_pandas(s.group_by("channel_key").aggregate(spend=s.spend.sum()))
        won = to_pandas(new.group_by("channel").aggregate(n=new.count()))
        won = won.set_index("channel")["n"]
        spent = spent.set_index("channel_key")["spend"].sort_index()
        out = spent / won.reindex(spent.index).where(lambda n: n > 0)
        out.index.name = "channel"
        return out.rename("cac").astype(float)
    total = scalar(s.spend.sum().fill_null(0.0))
    if mode == "paid":
        paid_channels = s.select("channel_key").distinct()
        new = new.semi_join(paid_channels, new.channel == paid_channels.channel_key)
    n = scalar(new.count())
    return total / n if n else math.nan


def cac_payback_months(
    marketing_spend: TableLike,
    contracts: TableLike,
    period: str | Period | None = None,
    *,
    gross_margin: float = 1.0,
    arpa_basis: str = "new",
    mode: str = "blended",
    spend_lag_months: int = 0,
) -> float:
    """Months of gross profit needed to earn back CAC: CAC ÷ (ARPA × gross margin).

    ``arpa_basis="new"`` (default) uses the average starting MRR of the period's new customers
    (the MRR of the contracts each signed on its first day); ``"all"`` uses
    :func:`~kpitools.metrics.revenue.arpa` at the period's end (Calqulate). ``mode`` and
    ``spend_lag_months`` are passed to :func:`cac`. Units: months. Zero policy: NaN when there
    are no new customers or the ARPA is 0. Source: Skok, Calqulate, Finmark (§1.9).

    Examples
    --------
    >>> import pandas as pd
    >>> spend = pd.DataFrame({"period": pd.to_datetime(["2024-07-01"]), "channel": ["ads"],
    ...     "spend": [1200.0]})
    >>> c = pd.DataFrame({"contract_id": ["k1", "k2"], "customer_id": ["a", "b"],
    ...     "start_date": pd.to_datetime(["2024-07-01", "2024-08-01"]),
    ...     "end_date": pd.to_datetime(["2025-06-30", "2025-07-31"]),
    ...     "total_value": [1200.0, 2400.0]})
    >>> cac_payback_months(spend, c, "2024Q3", gross_margin=0.8)  # 600 ÷ (150 × 0.8)
    5.0
    """
    from kpitools.metrics.revenue import arpa  # local: revenue does not depend on acquisition

    check_choice("arpa_basis", arpa_basis, ("new", "all"))
    check_margin(gross_margin)
    cost = cac(marketing_spend, contracts, period, mode=mode, spend_lag_months=spend_lag_months)
    if arpa_basis == "all":
        per_account = arpa(contracts, period)
    else:
        per_account = scalar(_new_in(contracts, as_period(period)).start_mrr.mean())
    margin = per_account * gross_margin
    if math.isnan(cost) or math.isnan(margin) or margin <= 0:
        return math.nan
    return cost / margin

