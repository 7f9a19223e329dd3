"""E-commerce and retail order KPIs: revenue, AOV, gross margin, repeat purchases, new vs returning.

Every function takes the canonical ``orders`` table (one row per order; ``amount`` = gross sales
before discounts, tax excluded; ``discount``; ``cost`` = cost of goods) as a pandas DataFrame, a
Polars DataFrame or an Ibis table, and computes on the table's engine (DuckDB by default).

Sales bases
-----------
Shopify's vocabulary, adapted to our columns (kpi-definitions.md §2):

``gross``
    Σ amount (price × quantity before discounts; Shopify "gross sales").
``gross_less_discounts`` (default)
    Σ (amount − discount). Shopify's AOV numerator since 9 January 2023.
``net_sales``
    Σ (amount − discount − returns). The canonical table has no ``returns`` column, so this equals
    ``gross_less_discounts`` unless the table you pass carries one.
``total_sales``
    net sales + tax + shipping (+ duties). Canonical amounts exclude tax and there is no shipping
    column, so this also equals ``gross_less_discounts`` unless the table carries ``tax``,
    ``shipping`` or ``duties`` columns (Shopify's pre-2023 AOV numerator).

Guests: orders with an empty ``customer_id`` (loaded with ``guests: exclude_from_customer_kpis``)
count in revenue, AOV and margin but not in the customer KPIs (repeat purchase rate, orders per
customer, new customers, new vs returning, customer summary).

Period convention: revenue and orders are flows, summed over orders whose ``order_date`` falls in
``[period.start, period.end)``; ``period=None`` means all data. "First-ever order" always looks at
the whole table, not only the period.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import ibis
import ibis.expr.types as ir
import pandas as pd

from kpitools._engine import TableLike, flow_total, in_period, scalar, table, to_pandas
from kpitools._errors import KpitoolsError, did_you_mean
from kpitools.periods import Period, as_period

__all__ = [
    "SALES_BASES",
    "aov",
    "customer_summary",
    "gross_margin",
    "gross_margin_rate",
    "new_customers_orders",
    "new_vs_returning_revenue",
    "orders_per_customer",
    "repeat_purchase_rate",
    "revenue",
    "revenue_by",
]

_REQUIRED = ("order_id", "customer_id", "order_date", "amount")
#: Sales bases understood by :func:`revenue` and :func:`aov` (see the module docstring).
SALES_BASES = ("gross_less_discounts", "gross", "net_sales", "total_sales")
_REPEAT_HISTORY = ("period", "all")
#: A customer with at least this many orders is a repeat purchaser.
REPEAT_MIN_ORDERS = 2
_MISSING_LABEL = "(missing)"


def _choice(name: str, value: str, allowed: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``allowed``; raise a KpitoolsError with a hint otherwise."""
    if value in allowed:
        return value
    guess = did_you_mean(str(value), list(allowed))
    hint = f"did you mean {guess!r}?" if guess else f"use one of {list(allowed)}."
    raise KpitoolsError(f"unknown {name} {value!r}; expected one of {list(allowed)}.\nHint: {hint}")


def _orders(orders: TableLike, *extra: str) -> ir.Table:
    return table(orders, "orders", (*_REQUIRED, *extra))


def _optional(t: ir.Table, column: str) -> ir.NumericValue:
    """A money column that may be absent or null, read as 0."""
    if column in t.columns:
        return t[column].cast("float64").fill_null(0.0)
    return ibis.literal(0.0)


def _sales(t: ir.Table, basis: str) -> ir.NumericValue:
    """Per-order sales on ``basis`` (one of :data:`SALES_BASES`)."""
    _choice("basis", basis, SALES_BASES)
    gross = t.amount.cast("float64")
    if basis == "gross":
        return gross
    value = gross - _optional(t, "discount")
    if basis == "gross_less_discounts":
        return value
    value = value - _optional(t, "returns")
    if basis == "net_sales":
        return value
    return value + _optional(t, "tax") + _optional(t, "shipping") + _optional(t, "duties")


def _customers(t: ir.Table) -> ir.Table:
    """Orders with a known customer: guest orders (``customer_id`` empty, loaded with
    ``guests: exclude_from_customer_kpis``) count in revenue but not in customer KPIs."""
    return t.filter(t.customer_id.notnull())


def _first_orders(t: ir.Table) -> ir.Table:
    """One row per customer with the date of the first order in the whole table."""
    t = _customers(t)
    return t.group_by("customer_id").aggregate(first_order_date=t.order_date.min())


def revenue(
    orders: TableLike, period: str | Period | None = None, *, basis: str = "gross_less_discounts"
) -> float:
    """Sales of the orders placed in the period.

    Formula: Σ (amount − discount) over orders in the period (``basis="gross_less_discounts"``);
    ``basis="gross"`` sums ``amount`` before discounts (see the module docstring for all bases).

    Parameters
    ----------
    orders : table
        Canonical ``orders`` table.
    period : str, Period or None
        ``"2024Q3"``, ``"2024-07"``, ``"2024"``; ``None`` = all orders.
    basis : str
        One of :data:`SALES_BASES`.

    Returns
    -------
    float
        Currency (the client's, tax excluded). Flow over ``[start, end)``. A period without
        orders gives 0.0 when it lies between the first and last order dates, and NaN ("no
        data", shown as —) before or after them or for an empty table.

    Notes
    -----
    Source: Shopify sales vocabulary (gross sales, discounts, net sales, total sales),
    kpi-definitions.md §2.

    Examples
    --------
    >>> import pandas as pd
    >>> o = pd.DataFrame({"order_id": ["a", "b"], "customer_id": ["c1", "c2"],
    ...     "order_date": pd.to_datetime(["2024-07-03", "2024-08-10"]),
    ...     "amount": [1000.0, 500.0], "discount": [100.0, 0.0]})
    >>> revenue(o, "2024Q3"), revenue(o, "2024Q3", basis="gross")
    (1400.0, 1500.0)
    """
    p = as_period(period)
    every = _orders(orders)
    t = in_period(every, "order_date", p)
    return flow_total(every, "order_date", p, _sales(t, basis).sum())


def aov(
    orders: TableLike, period: str | Period | None = None, *, basis: str = "gross_less_discounts"
) -> float:
    """Average order value (客單價): sales ÷ number of orders in the period.

    Formula: Σ (amount − discount) ÷ count(orders) by default (Shopify since 9 Jan 2023; before
    that Shopify divided total sales). ``basis`` switches the numerator (see :data:`SALES_BASES`).

    Returns
    -------
    float
        Currency per order. Flow over ``[start, end)``. NaN when the period has no orders.

    Notes
    -----
    Source: changelog.shopify.com "your average order value now has a new definition"
    (kpi-definitions.md §2 and §6).

    Examples
    --------
    >>> import pandas as pd
    >>> o = pd.DataFrame({"order_id": ["a", "b"], "customer_id": ["c1", "c2"],
    ...     "order_date": pd.to_datetime(["2024-07-03", "2024-08-10"]),
    ...     "amount": [1000.0, 500.0], "discount": [100.0, 0.0]})
    >>> aov(o, "2024Q3")
    700.0
    """
    t = in_period(_orders(orders), "order_date", as_period(period))
    return scalar(_sales(t, basis).sum() / t.count().nullif(0))


def _with_cost(orders: TableLike, period: str | Period | None) -> ir.Table:
    t = in_period(_orders(orders, "cost"), "order_date", as_period(period))
    return t.filter(t.cost.notnull())


def gross_margin(orders: TableLike, period: str | Period | None = None) -> float:
    """Gross margin (毛利) in currency: sales after discounts minus cost of goods.

    Formula: Σ (amount − discount − cost) over orders in the period **whose cost is known**.
    Orders with a missing ``cost`` are left out (counting them at zero cost would overstate the
    margin); check ``orders.cost.isna()`` if the result looks low.

    Returns
    -------
    float
        Currency. Flow over ``[start, end)``; empty periods as :func:`revenue` (0.0 inside the
        order dates, NaN outside them).

    Notes
    -----
    Source: Wikipedia "Gross margin" (revenue − COGS), kpi-definitions.md §2. Markup
    (profit ÷ cost) is a different number.
    """
    t = _with_cost(orders, period)
    margin = (_sales(t, "gross_less_discounts") - t.cost).sum()
    return flow_total(_orders(orders), "order_date", as_period(period), margin)


def gross_margin_rate(orders: TableLike, period: str | Period | None = None) -> float:
    """Gross margin rate (毛利率): gross margin ÷ sales after discounts.

    Formula: Σ (amount − discount − cost) ÷ Σ (amount − discount), both over orders in the period
    whose ``cost`` is known.

    Returns
    -------
    float
        A fraction (0.35 = 35 %); negative when goods are sold below cost. NaN when the period
        has no sales with a known cost.

    Notes
    -----
    Source: Wikipedia "Gross margin", kpi-definitions.md §2.
    """
    t = _with_cost(orders, period)
    sales = _sales(t, "gross_less_discounts")
    return scalar((sales - t.cost).sum() / sales.sum().nullif(0))


def repeat_purchase_rate(
    orders: TableLike, period: str | Period | None = None, *, history: str = "period"
) -> float:
    """Repeat purchase rate (回購率): share of buying customers with two or more orders.

    Formula: customers with ≥ 2 orders ÷ customers with ≥ 1 order, among customers who ordered
    in the period.

    Parameters
    ----------
    history : {"period", "all"}
        ``"period"`` (default) counts only orders inside the period, so the value does not depend
        on how much history the client exported. ``"all"`` also counts the customer's earlier
        orders (everything before ``period.end``): a customer with one order this quarter and one
        last year is a repeat purchaser — close to Shopify's "returning customer" idea.

    Returns
    -------
    float
        A fraction in [0, 1]. NaN when nobody ordered in the period.

    Notes
    -----
    Source: common e-commerce definition (Shopify "returning customer rate" counts customers with
    more than one order); the history switch is ours.
    """
    _choice("history", history, _REPEAT_HISTORY)
    p = as_period(period)
    t = _customers(_orders(orders))
    if history == "period" or p is None:
        inside = in_period(t, "order_date", p)
        per = inside.group_by("customer_id").aggregate(n_orders=inside.count())
    else:  # one pass over history up to period end; keep customers who bought in the period
        before_end = t.filter(t.order_date < p.end.to_pydatetime())
        in_p = before_end.order_date >= p.start.to_pydatetime()
        per = before_end.group_by("customer_id").aggregate(
            n_orders=before_end.count(), n_inside=before_end.count(where=in_p))
        per = per.filter(per.n_inside > 0)
    repeaters = (per.n_orders >= REPEAT_MIN_ORDERS).cast("int64").sum()
    return scalar(repeaters / per.count().nullif(0))


def orders_per_customer(orders: TableLike, period: str | Period | None = None) -> float:
    """Orders per customer (購買頻率): orders in the period ÷ distinct customers who ordered.

    Returns
    -------
    float
        Orders per customer (≥ 1 whenever defined). NaN when the period has no orders.

    Notes
    -----
    Source: standard purchase-frequency definition (orders ÷ unique customers).
    """
    t = _customers(in_period(_orders(orders), "order_date", as_period(period)))
    return scalar(t.count() / t.customer_id.nunique().nullif(0))


def new_customers_orders(orders: TableLike, period: str | Period | None = None) -> float:
    """New customers (新客數) of a shop: customers whose first-ever order falls in the period.

    Formula: count of customers with min(order_date over the whole table) in ``[start, end)``.
    The whole table is searched for earlier orders, so load enough history (a customer whose
    earlier orders were not exported looks new).

    Returns
    -------
    float
        A count; 0.0 for a period between the first and last order dates without a first
        order, NaN (no data) outside them. With ``period=None`` every customer is new.

    Notes
    -----
    Source: kpi-definitions.md §2 ("for non-subscription shops: customers whose first order
    falls in the month").
    """
    p = as_period(period)
    t = _orders(orders)
    count = scalar(in_period(_first_orders(t), "first_order_date", p).count())
    return flow_total(t, "order_date", p, ibis.null("float64")) if count == 0 else count


def new_vs_returning_revenue(
    orders: TableLike, period: str | Period | None = None, *, basis: str = "gross_less_discounts"
) -> pd.DataFrame:
    """Split the period's revenue between new and returning customers.

    A customer is **new** in the period when their first-ever order falls in it (all their orders
    in the period then count as new revenue, including a second order the same month) and
    **returning** when they had ordered before the period started.

    Returns
    -------
    pandas.DataFrame
        Index ``["new", "returning"]`` (both always present), columns ``customers``, ``orders``,
        ``revenue`` (currency, on ``basis``) and ``revenue_share`` (fraction of the period's
        revenue; NaN when the period has no revenue).

    Notes
    -----
    Source: Shopify "first-time vs returning customer sales", at customer level.
    """
    p = as_period(period)
    t = _customers(_orders(orders))
    # One pass, no join: per customer, the first-ever order date and the period's totals.
    t = t.mutate(_sales=_sales(t, basis))
    if p is None:
        inside = ibis.literal(True)
    else:
        inside = (t.order_date >= p.start.to_pydatetime()) & (t.order_date < p.end.to_pydatetime())
    per = t.group_by("customer_id").aggregate(
        first_order_date=t.order_date.min(),
        period_orders=t.count(where=inside),
        period_sales=t._sales.sum(where=inside),
    ).filter(lambda x: x.period_orders > 0)
    is_new = per.first_order_date >= p.start.to_pydatetime() if p is not None else True
    tagged = per.mutate(segment=ibis.ifelse(is_new, "new", "returning"))
    out = to_pandas(tagged.group_by("segment").aggregate(
        customers=tagged.count(),
        orders=tagged.period_orders.sum(),
        revenue=tagged.period_sales.sum(),
    ))
    result = (
        out.set_index("segment")
        .reindex(["new", "returning"])
        .fillna({"customers": 0, "orders": 0, "revenue": 0.0})
        .astype({"customers": "int64", "orders": "int64", "revenue": "float64"})
    )
    total = float(result["revenue"].sum())
    result["revenue_share"] = result["revenue"] / total if total else math.nan
    result.index.name = "segment"
    return result


def revenue_by(
    orders: TableLike,
    period: str | Period | None = None,
    *,
    by: str = "channel",
    basis: str = "gross_less_discounts",
) -> pd.DataFrame:
    """Revenue, orders and AOV per channel, product, month or any other ``orders`` column.

    ``by="month"`` groups on the calendar month of ``order_date`` (labels like ``"2024-07"``).
    Missing labels are shown as ``"(missing)"`` rather than dropped, so the rows add up to
    :func:`revenue`.

    Returns
    -------
    pandas.DataFrame
        One row per group, columns ``revenue`` (currency), ``orders`` (count), ``aov``
        (currency per order) and ``revenue_share`` (fraction; NaN if total revenue is 0). Sorted
        by revenue, largest first (by month: chronologically). Empty period: no rows.
    """
    t = in_period(_orders(orders), "order_date", as_period(period))
    if by == "month":
        key = t.order_date.truncate("M")
    elif by in t.columns:
        key = t[by].cast("string").fill_null(_MISSING_LABEL)
    else:
        guess = did_you_mean(by, list(t.columns))
        hint = f"did you mean {guess!r}?" if guess else "use 'channel', 'product' or 'month'."
        raise KpitoolsError(
            f"cannot group orders by {by!r}: no such column. Columns present: {list(t.columns)}."
            f"\nHint: {hint}"
        )
    g = t.mutate(group=key, sales=_sales(t, basis))
    out = to_pandas(g.group_by("group").aggregate(revenue=g.sales.sum(), orders=g.count()))
    out["orders"] = out["orders"].astype("int64")
    if by == "month":
        out = out.sort_values("group")
        out["group"] = pd.to_datetime(out["group"]).dt.strftime("%Y-%m")
    else:
        out = out.sort_values(["revenue", "group"], ascending=[False, True])
    out = out.rename(columns={"group": by}).set_index(by)
    out["aov"] = out["revenue"] / out["orders"]
    total = float(out["revenue"].sum())
    out["revenue_share"] = out["revenue"] / total if total else math.nan
    return out


def customer_summary(
    orders: TableLike,
    period: str | Period | None = None,
    *,
    as_of: str | pd.Timestamp | None = None,
    basis: str = "gross_less_discounts",
) -> pd.DataFrame:
    """Per-customer RFM summary: frequency, recency and monetary value of the period's orders.

    Columns: ``orders`` (frequency, count), ``revenue`` (monetary, currency on ``basis``),
    ``aov`` (currency per order), ``first_order_date``, ``last_order_date`` and
    ``recency_days`` = days from the last order to ``as_of``. ``as_of`` defaults to the
    period's last day, or the latest order date when ``period=None``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id``, sorted by revenue (largest first). Empty period: no rows.

    Notes
    -----
    Source: the recency / frequency / monetary segmentation (Hughes' RFM); frequency here counts
    all orders (lifetimes' ``frequency`` counts repeat orders only, i.e. ours minus one).
    """
    p = as_period(period)
    t = _customers(in_period(_orders(orders), "order_date", p))
    g = t.mutate(sales=_sales(t, basis))
    per = g.group_by("customer_id").aggregate(
        orders=g.count(),
        revenue=g.sales.sum(),
        first_order_date=g.order_date.min(),
        last_order_date=g.order_date.max(),
    )
    per = per.order_by([ibis.desc("revenue"), "customer_id"])
    # Arrow's own conversion is zero-copy for these columns; the per-customer result is small
    # next to the orders, so recency is computed on it in pandas (no second pass over orders).
    out = per.to_pyarrow().to_pandas().set_index("customer_id")
    for col in ("first_order_date", "last_order_date"):
        out[col] = pd.to_datetime(out[col])
    if as_of is not None:
        ref = pd.Timestamp(as_of)
    elif p is not None:
        ref = p.last_day
    else:
        ref = out["last_order_date"].max()
    out["recency_days"] = (ref - out["last_order_date"]) / pd.Timedelta(days=1)
    out["aov"] = out["revenue"] / out["orders"]
    cols = ["orders", "revenue", "aov", "first_order_date", "last_order_date", "recency_days"]
    out = out[cols]
    return out.astype({"orders": "int64"})
