"""Marketing KPIs the source article names: qualified leads, ad click-through and conversion rates,
the store's conversion rate, and revenue from a market (a region or a customer segment).

* :func:`qualified_leads` — deals that reached the qualified stage (or later), optionally from one
  source such as online ads; :func:`qualified_leads_by` splits them by source.
* :func:`ad_ctr`, :func:`ad_conversion_rate` — from the optional ``impressions``, ``clicks`` and
  ``conversions`` columns of ``marketing_spend`` (the monthly figures an ad platform reports).
* :func:`ecommerce_conversion_rate` — orders placed on the website ÷ website sessions.
* :func:`market_revenue` — sales to customers of one region or segment.

Period conventions are given per function; every ratio is NaN when its denominator is 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis.expr.types as ir
import pandas as pd

from kpitools._engine import TableLike, in_period, scalar, table, to_pandas
from kpitools._errors import KpitoolsError
from kpitools.metrics.sales import (
    _check_stages,
    _deals,
    _norm,
    _raise_unknown_stages,
    _with_stage_index,
)
from kpitools.periods import Period, as_period

__all__ = [
    "WEBSITE_CHANNELS",
    "ad_conversion_rate",
    "ad_ctr",
    "ecommerce_conversion_rate",
    "market_revenue",
    "qualified_leads",
    "qualified_leads_by",
]

#: Order channel names that mean "placed on the client's own website" (compared lower-case).
WEBSITE_CHANNELS = (
    "website",
    "web",
    "online",
    "online_store",
    "online store",
    "官網",
    "官方網站",
    "網站",
    "shopify",
)


def _reached(
    deals: TableLike, stages: Sequence[str] | None, stage: str, period: str | Period | None
) -> ir.Table:
    names = _check_stages(stages or [])
    wanted = str(stage).strip().lower()
    if wanted not in names:
        raise KpitoolsError(
            f"stage {stage!r} is not one of the funnel stages {list(stages)}.\n"
            "Hint: pass stage= with the name your CRM uses for qualified leads (e.g. 'SQL')."
        )
    t = in_period(_with_stage_index(_deals(deals), names), "created_date", as_period(period))
    _raise_unknown_stages(t, names)
    return t.filter(t.reached >= names.index(wanted))


def qualified_leads(
    deals: TableLike,
    stages: Sequence[str] | None = None,
    period: str | Period | None = None,
    *,
    stage: str = "qualified",
    channel: str | None = None,
) -> float:
    """Qualified leads (合格潛在客戶數): deals created in the period that reached ``stage``.

    Formula: count of deals created in the period whose furthest stage is ``stage`` or later
    (a won deal counts as having passed every stage). ``channel`` keeps one lead source
    (compared without case or surrounding spaces), e.g. ``"online_ads"``.

    Returns
    -------
    float
        A count; 0.0 for an empty period.

    Examples
    --------
    >>> d = pd.DataFrame({"deal_id": ["a", "b", "c", "d"],
    ...     "stage": ["lead", "qualified", "demo", "lead"],
    ...     "outcome": ["lost", "open", "won", "open"],
    ...     "created_date": pd.to_datetime(["2024-01-05"] * 4),
    ...     "channel": ["ads", "ads", "web", "ads"]})
    >>> qualified_leads(d, ["lead", "qualified", "demo", "won"], "2024Q1")
    2.0
    >>> qualified_leads(d, ["lead", "qualified", "demo", "won"], "2024Q1", channel="ADS")
    1.0
    """
    return float(scalar(leads(deals, stages, period, stage=stage, channel=channel).count()))


def leads(deals: TableLike, stages: Sequence[str] | None, period: str | Period | None, *,
          stage: str, channel: str | None) -> ir.Table:
    """The deals :func:`qualified_leads` counts (also used by its per-period series)."""
    t = _reached(deals, stages, stage, period)
    if channel is not None:
        if "channel" not in t.columns:
            raise KpitoolsError(
                "deals has no 'channel' column, so leads cannot be counted by "
                "source.\nHint: map your CRM's lead source column to channel."
            )
        t = t.filter(_norm(t.channel) == str(channel).strip().lower())
    return t


def qualified_leads_by(
    deals: TableLike,
    stages: Sequence[str] | None,
    period: str | Period | None = None,
    *,
    stage: str = "qualified",
    by: str = "channel",
) -> pd.Series:
    """Qualified leads per lead source (or per ``by`` column), largest first."""
    t = _reached(deals, stages, stage, period)
    if by not in t.columns:
        raise KpitoolsError(
            f"cannot split deals by {by!r}: no such column.\n"
            "Hint: use 'channel' (lead source) or 'owner'."
        )
    key = t[by].cast("string").fill_null("(missing)")
    counts = to_pandas(t.group_by(key.name("group")).aggregate(n=t.count()))
    out = counts.set_index("group")["n"].astype("float64").sort_values(ascending=False)
    out.index.name, out.name = by, "qualified_leads"
    return out


def _ads(
    marketing_spend: TableLike,
    period: str | Period | None,
    columns: tuple[str, str],
    channel: str | None,
) -> ir.Table:
    t = table(marketing_spend, "marketing_spend", ("period", "channel"))
    missing = [c for c in columns if c not in t.columns]
    if missing:
        raise KpitoolsError(
            f"marketing_spend has no {missing} column(s), which this ad KPI needs.\n"
            "Hint: export impressions, clicks and conversions per month and channel from the ad "
            "platform (Google Ads, Meta) into marketing_spend."
        )
    t = in_period(t, "period", as_period(period))
    if channel is not None:
        t = t.filter(_norm(t.channel) == str(channel).strip().lower())
    return t.filter(t[columns[0]].notnull() & t[columns[1]].notnull())


def _share(t: ir.Table, numerator: str, denominator: str) -> float:
    return scalar(share(t, numerator, denominator))


def share(t: ir.Table, numerator: str, denominator: str) -> ir.FloatingScalar:
    """Σ numerator ÷ Σ denominator of ``t``'s rows; NULL when the denominator sums to 0."""
    num = t[numerator].cast("float64").sum()
    return num / t[denominator].cast("float64").sum().nullif(0)


def ad_ctr(
    marketing_spend: TableLike, period: str | Period | None = None, *, channel: str | None = None
) -> float:
    """Ad click-through rate (廣告點擊率): Σ clicks ÷ Σ impressions.

    Rows (months) in the period with both numbers filled; ``channel`` keeps one ad channel.
    NaN when there are no impressions.

    Examples
    --------
    >>> m = pd.DataFrame({"period": pd.to_datetime(["2024-01-01", "2024-02-01"]),
    ...     "channel": ["google", "meta"], "spend": [1000.0, 500.0],
    ...     "impressions": [20000.0, 5000.0], "clicks": [400.0, 100.0]})
    >>> ad_ctr(m, "2024Q1")
    0.02
    """
    return _share(
        _ads(marketing_spend, period, ("clicks", "impressions"), channel), "clicks", "impressions"
    )


def ad_conversion_rate(
    marketing_spend: TableLike, period: str | Period | None = None, *, channel: str | None = None
) -> float:
    """Ad conversion rate (廣告轉換率): Σ conversions ÷ Σ clicks, as the ad platform counts them.

    Rows (months) in the period with both numbers filled; NaN when there are no clicks.

    Examples
    --------
    >>> m = pd.DataFrame({"period": pd.to_datetime(["2024-01-01"]), "channel": ["google"],
    ...     "spend": [1000.0], "clicks": [400.0], "conversions": [12.0]})
    >>> ad_conversion_rate(m, "2024-01")
    0.03
    """
    return _share(
        _ads(marketing_spend, period, ("conversions", "clicks"), channel), "conversions", "clicks"
    )


def ecommerce_conversion_rate(
    orders: TableLike,
    web_traffic: TableLike,
    period: str | Period | None = None,
    *,
    order_channels: Sequence[str] | None = WEBSITE_CHANNELS,
) -> float:
    """E-commerce conversion rate (電商轉換率): website orders ÷ website sessions.

    Formula: orders dated in the period whose ``channel`` is one of ``order_channels`` (the
    website's own orders; marketplace and store orders had no website session) ÷ Σ sessions of
    ``web_traffic`` in the period. ``order_channels=None`` counts every order; so does an orders
    table without a channel column. NaN without sessions.

    Examples
    --------
    >>> o = pd.DataFrame({"order_id": ["a", "b", "c"], "customer_id": ["x", "y", "z"],
    ...     "order_date": pd.to_datetime(["2024-01-02"] * 3), "amount": [100.0] * 3,
    ...     "channel": ["website", "website", "store"]})
    >>> w = pd.DataFrame({"date": pd.to_datetime(["2024-01-02"]), "sessions": [80.0],
    ...     "users": [60.0]})
    >>> ecommerce_conversion_rate(o, w, "2024-01")
    0.025
    """
    p = as_period(period)
    n_orders = scalar(in_period(website_orders(orders, order_channels), "order_date", p).count())
    w = in_period(table(web_traffic, "web_traffic", ("date", "sessions")), "date", p)
    sessions = scalar(w.sessions.cast("float64").sum())
    return n_orders / sessions if sessions and sessions > 0 else float("nan")


def website_orders(orders: TableLike, order_channels: Sequence[str] | None) -> ir.Table:
    """The orders :func:`ecommerce_conversion_rate` counts, of every date."""
    t = table(orders, "orders", ("order_id", "order_date"))
    if order_channels is not None and "channel" in t.columns:
        wanted = [str(c).strip().lower() for c in order_channels]
        t = t.filter(_norm(t.channel).isin(wanted))
    return t


def market_revenue(
    orders: TableLike,
    customers: TableLike,
    period: str | Period | None = None,
    *,
    region: str | None = None,
    segment: str | None = None,
) -> float:
    """Revenue from a market (新市場銷售額): sales to customers of one region and/or segment.

    Formula: Σ (amount − discount) over orders dated in the period whose customer's ``region``
    (and/or ``segment``) in ``customers`` starts with the value given (compared without case or
    surrounding spaces, so 「台中」 matches 「台中市」). Without ``region`` and ``segment`` the
    market is every *new* region: regions whose customers had never ordered before the period
    starts. 0.0 when nothing was sold there.

    Examples
    --------
    >>> o = pd.DataFrame({"order_id": ["a", "b", "c"], "customer_id": ["x", "y", "y"],
    ...     "order_date": pd.to_datetime(["2024-01-02", "2023-05-03", "2024-01-03"]),
    ...     "amount": [1000.0, 300.0, 400.0], "discount": [100.0, 0.0, 0.0]})
    >>> c = pd.DataFrame({"customer_id": ["x", "y"], "region": ["台中市", "台北市"]})
    >>> market_revenue(o, c, "2024Q1", region="台中市")
    900.0
    >>> market_revenue(o, c, "2024Q1")  # Taipei sold in 2023: only Taichung is new
    900.0
    """
    p = as_period(period)
    o, c, wanted = market_tables(orders, customers, region=region, segment=segment)
    if wanted:
        keep_ids = market_customers(c, wanted).customer_id
    else:
        if p is None:
            raise KpitoolsError(
                "market_revenue without region= or segment= measures new regions "
                "and needs a period.\nHint: pass period='2024Q4', or region=."
            )
        first = region_first_orders(o, c)
        new = first.filter(first.first_order >= p.start).market
        keep_ids = c.filter(_norm(c.region).isin(new)).customer_id
    o = in_period(o, "order_date", p)
    keep = o.filter(o.customer_id.isin(keep_ids))
    total = scalar(net_sales(keep).sum())
    return 0.0 if total is None or pd.isna(total) else float(total)


# Pieces of market_revenue, also used by its per-period series (kpitools.metrics._series).
def market_tables(orders: TableLike, customers: TableLike, *, region: str | None,
                  segment: str | None) -> tuple[ir.Table, ir.Table, dict[str, str]]:
    """The orders and customers tables, checked, and the market asked for
    (``{"region": ..., "segment": ...}``, empty for "every new region")."""
    o = table(orders, "orders", ("order_id", "customer_id", "order_date", "amount"))
    wanted = {k: v for k, v in (("region", region), ("segment", segment)) if v is not None}
    c = table(customers, "customers", ("customer_id", *(wanted or {"region": None})))
    return o, c, wanted


def market_customers(c: ir.Table, wanted: dict[str, str]) -> ir.Table:
    """Customers whose region / segment starts with the value asked for (no case, no spaces)."""
    for column, value in wanted.items():
        c = c.filter(_norm(c[column]).startswith(str(value).strip().lower()))
    return c


def region_first_orders(o: ir.Table, c: ir.Table) -> ir.Table:
    """Each region's first order date: ``market`` (the region compared without case or
    spaces), ``first_order``."""
    located = o.join(c.select("customer_id", market=_norm(c.region)), "customer_id")
    return located.group_by("market").aggregate(first_order=located.order_date.min())


def net_sales(t: ir.Table) -> ir.FloatingValue:
    """``amount − discount`` of each order (a missing discount is 0)."""
    discount = t.discount.cast("float64").fill_null(0.0) if "discount" in t.columns else 0.0
    return t.amount.cast("float64") - discount
