"""Who keeps ordering: active customers per period and order cohort retention of a shop.

Both take the canonical ``orders`` table (pandas, Polars or Ibis; see
:mod:`kpitools.metrics.orders`) and compute on its engine. A shop without subscriptions has no
contract that ends, so "retained" means "ordered again": a customer is **active** in a period
when they placed at least one order in it, and an order **cohort** is the set of customers whose
first-ever order falls in the same calendar month or quarter.
"""

from __future__ import annotations

import pandas as pd

from kpitools._engine import TableLike, in_period, scalar, to_pandas
from kpitools.metrics._contracts import month_index, month_start
from kpitools.metrics.orders import _choice, _orders
from kpitools.periods import MONTHS_PER_QUARTER, Period, as_period, normalize_freq

__all__ = ["COHORT_VALUES", "active_customers", "order_cohort_retention"]

_COHORT_MONTHS = {"M": 1, "Q": MONTHS_PER_QUARTER}
#: What :func:`order_cohort_retention` puts in its cells.
COHORT_VALUES = ("rate", "count")


def active_customers(orders: TableLike, period: str | Period | None = None) -> float:
    """Active customers (活躍顧客數): distinct customers with at least one order in the period.

    Formula: count(distinct customer_id) over orders dated in ``[start, end)``.

    Returns
    -------
    float
        A count. 0.0 for a period without orders; ``period=None`` counts every customer.

    Notes
    -----
    Source: the monthly active customers of e-commerce dashboards (Shopify "customers who
    purchased"); it is the denominator of :func:`~kpitools.metrics.orders.orders_per_customer`.

    Examples
    --------
    >>> import pandas as pd
    >>> o = pd.DataFrame({"order_id": ["a", "b", "c"], "customer_id": ["x", "x", "y"],
    ...     "order_date": pd.to_datetime(["2024-07-03", "2024-07-20", "2024-09-01"]),
    ...     "amount": [100.0, 200.0, 50.0]})
    >>> active_customers(o, "2024-07"), active_customers(o, "2024Q3")
    (1.0, 2.0)
    """
    t = in_period(_orders(orders), "order_date", as_period(period))
    return scalar(t.customer_id.nunique())


def _label(index: int, months: int) -> str:
    start = month_start(index * months)
    if months == 1:
        return f"{start.year:04d}-{start.month:02d}"
    return f"{start.year:04d}Q{(start.month - 1) // MONTHS_PER_QUARTER + 1}"


def order_cohort_retention(
    orders: TableLike, freq: str = "Q", *, value: str = "rate", as_of: str | None = None
) -> pd.DataFrame:
    """Order cohorts: of the customers who first ordered in a period, who ordered again later.

    A customer's cohort is the calendar month (``freq="M"``) or quarter (``"Q"``) of their
    first-ever order. Cell (cohort, k) is about the k-th period after the cohort's own
    (k = 0 is the cohort period, where every member ordered):

    * ``value="rate"``: members with at least one order in that period ÷ members (a fraction);
    * ``value="count"``: members with at least one order in that period.

    A customer who skips a period and comes back counts again when they come back (this is
    "ordered in period k", not "still ordering every period since").

    Parameters
    ----------
    freq : {"M", "Q"}
    value : {"rate", "count"}
    as_of : date, optional
        The last day the data covers; default the latest order date. Only complete periods
        (ending on or before the day after ``as_of``) are shown: a cohort whose own period is
        still running is left out, and cells of later periods not yet complete are NaN.

    Returns
    -------
    pandas.DataFrame
        Indexed by cohort label (``"2024-01"`` or ``"2024Q1"``), columns ``0, 1, 2, …``
        (``periods_since_first``). ``result.attrs["cohort_size"]`` maps each cohort to its
        number of customers. No orders (or no complete period): an empty frame.

    Notes
    -----
    Source: the order (purchase) cohort analysis of e-commerce analytics — Shopify's customer
    cohort analysis groups customers by first order month and shows the share ordering again
    in each later month.

    Examples
    --------
    >>> import pandas as pd
    >>> o = pd.DataFrame({"order_id": list("abcd"), "customer_id": ["x", "y", "x", "y"],
    ...     "order_date": pd.to_datetime(["2024-01-05", "2024-01-09", "2024-02-01",
    ...                                   "2024-03-31"]), "amount": 100.0})
    >>> order_cohort_retention(o, "M").round(2).to_dict("list")
    {0: [1.0], 1: [0.5], 2: [0.5]}
    """
    months = _COHORT_MONTHS.get(normalize_freq(freq))
    if months is None:
        _choice("freq", freq, tuple(_COHORT_MONTHS))
    _choice("value", value, COHORT_VALUES)
    t = _orders(orders)
    visits = t.select(customer_id=t.customer_id, p=month_index(t.order_date) // months).distinct()
    firsts = visits.group_by("customer_id").aggregate(cohort=visits.p.min())
    firsts = firsts.rename(f_customer="customer_id")
    pairs = visits.join(firsts, visits.customer_id == firsts.f_customer)
    pairs = pairs.mutate(age=pairs.p - pairs.cohort)
    cells = pairs.group_by(["cohort", "age"]).aggregate(customers=pairs.count())
    cells_df = to_pandas(cells)
    end = pd.Timestamp(as_of if as_of is not None else t.order_date.max().execute())
    empty = pd.DataFrame(
        columns=pd.Index([], name="periods_since_first"),
        index=pd.Index([], name="cohort"),
        dtype="float64",
    )
    if cells_df.empty or pd.isna(end):
        empty.attrs["cohort_size"] = {}
        return empty
    day_after = end.normalize() + pd.Timedelta(days=1)
    last_done = (day_after.year * 12 + day_after.month - 1) // months - 1
    counts = cells_df.pivot_table(index="cohort", columns="age", values="customers", aggfunc="sum")
    counts = counts[counts.index <= last_done]
    if counts.empty:
        empty.attrs["cohort_size"] = {}
        return empty
    ages = range(0, int(last_done - counts.index.min()) + 1)
    counts = counts.reindex(columns=ages).fillna(0.0)
    sizes = counts[0]
    grid = counts.div(sizes, axis=0) if value == "rate" else counts.astype("float64")
    observed = pd.DataFrame({a: counts.index + a <= last_done for a in ages}, index=counts.index)
    grid = grid.where(observed)
    labels = [_label(int(i), months) for i in counts.index]
    grid.index = pd.Index(labels, name="cohort")
    grid.columns = pd.Index(list(ages), name="periods_since_first")
    grid.attrs["cohort_size"] = dict(zip(labels, sizes.astype(int).tolist(), strict=True))
    return grid
