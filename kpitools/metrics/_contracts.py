"""Contracts as monthly recurring revenue: the shared machinery behind the subscription KPIs.

Conventions (one place, used by every subscription metric)
-----------------------------------------------------------
* A contract covers the days ``start_date ..= end_date`` (end inclusive).
* **Term months** = whole months from ``start_date`` to ``end_date + 1 day`` plus the leftover days
  as a fraction of :data:`~kpitools.periods.DAYS_PER_MONTH`:
  ``12 × Δyear + Δmonth + Δday-of-month ÷ DAYS_PER_MONTH``. It is exact for contracts that end
  the day before a month anniversary (2024-01-01..2024-12-31 → 12; 2024-01-15..2024-07-14 → 6).
* **Recurring value** = ``recurring_value``, or ``total_value − one_time_fees`` when it is missing.
  **Contract MRR** = recurring value ÷ term months.
* **MRR is a month-end stock.** A contract counts in month *m* when it covers the last day of *m*.
  Months are numbered by an integer *month index* ``12 × year + month − 1`` so every backend can
  join and compare them. A contract is therefore active in the month indices
  ``first_month = index(start_date)`` through ``last_month = index(end_date + 1 day) − 1``; a
  contract that starts and ends between two month-ends never shows in MRR (documented limit).
* **Opening stock** of a period = the closing stock of the month before it, so that
  ``opening + movements = closing`` holds exactly.

The customer-month table is built with a cross join against a small month spine followed by a
filter (``first_month <= month <= last_month``): DuckDB turns it into a range join, and the Polars
backend, which has no window functions, unnest or inequality joins, runs it as well.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import cache
from importlib import resources

import ibis
import ibis.expr.types as ir
import pandas as pd

from kpitools._engine import TableLike, built_once, frozen_memo, scalar, table
from kpitools._errors import KpitoolsError
from kpitools._packageyaml import package_yaml
from kpitools.periods import DAYS_PER_MONTH, MONTHS_PER_YEAR, Period, as_period

__all__: list[str] = []  # private module

#: Columns every subscription metric needs.
CONTRACT_COLUMNS = ("contract_id", "customer_id", "start_date", "end_date", "total_value")
#: MRR levels are rounded to this many decimals so float noise never becomes a movement.
MONEY_DECIMALS = 6
#: Movement kinds, in the order reports show them.
MOVEMENTS = ("new", "expansion", "contraction", "churn", "reactivation")


def check_choice(name: str, value: object, allowed: Iterable[object]) -> None:
    """Raise :class:`KpitoolsError` when an enumerated switch has an unknown value."""
    options = list(allowed)
    if value not in options:
        raise KpitoolsError(
            f"{name}={value!r} is not one of {options}.\n"
            f"Hint: pass {name}={options[0]!r} (the default) or another listed value."
        )


def check_margin(gross_margin: float) -> None:
    """Raise :class:`KpitoolsError` unless ``gross_margin`` is a fraction in (0, 1]."""
    if not isinstance(gross_margin, int | float) or not 0 < gross_margin <= 1:
        raise KpitoolsError(
            f"gross_margin must be a fraction in (0, 1], got {gross_margin!r}.\n"
            "Hint: write 70 % as gross_margin=0.7; use 1.0 for revenue-based figures."
        )


def month_index(col: ir.TimestampValue | ir.DateValue) -> ir.IntegerValue:
    """Month number ``12 × year + month − 1`` of a date column."""
    return col.year() * MONTHS_PER_YEAR + col.month() - 1


def month_of(ts: pd.Timestamp) -> int:
    """Month index of one timestamp."""
    return int(ts.year) * MONTHS_PER_YEAR + int(ts.month) - 1


def month_start(index: int) -> pd.Timestamp:
    """First day of the month with this month index."""
    return pd.Timestamp(index // MONTHS_PER_YEAR, index % MONTHS_PER_YEAR + 1, 1)


def period_months(period: Period) -> tuple[int, int]:
    """First and last month index inside ``period`` (both inclusive)."""
    return month_of(period.start), month_of(period.last_day)


def contracts_table(contracts: TableLike, extra: Iterable[str] = ()) -> ir.Table:
    """The contracts table with derived columns ``recurring``, ``term_months``, ``mrr``,
    ``first_month`` and ``last_month`` (see the module docstring)."""
    t = table(contracts, "contracts", [*CONTRACT_COLUMNS, *extra])
    return built_once(("contracts_table", t.op()), lambda: _derived_columns(t))


def _derived_columns(t: ir.Table) -> ir.Table:
    one_time = (
        t.one_time_fees.cast("float64").fill_null(0.0)
        if "one_time_fees" in t.columns
        else ibis.literal(0.0)
    )
    recurring = t.total_value.cast("float64") - one_time
    if "recurring_value" in t.columns:
        recurring = t.recurring_value.cast("float64").fill_null(recurring)
    day_after = t.end_date + ibis.interval(days=1)
    term = (
        (day_after.year() - t.start_date.year()) * MONTHS_PER_YEAR
        + (day_after.month() - t.start_date.month())
        + (day_after.day() - t.start_date.day()) / DAYS_PER_MONTH
    )
    return t.mutate(
        one_time=one_time,
        recurring=recurring,
        term_months=term,
        mrr=recurring / term,
        first_month=month_index(t.start_date),
        last_month=month_index(day_after) - 1,
    )


def started_by(contracts: TableLike, period: str | Period | None) -> bool:
    """Whether any contract starts before the end of ``period`` (any at all for None).

    Contract flows of a period (TCV, new customers) are 0.0 when contracts exist by then but
    none started in the period, and NaN (no data) when no contract has started yet.
    """
    c = contracts_table(contracts)
    p = as_period(period)
    if p is not None:
        c = c.filter(c.start_date < p.end.to_pydatetime())
    return bool(scalar(c.count()))


def active_at(c: ir.Table, month: int) -> ir.Table:
    """Contracts counted in the MRR of month ``month`` (they cover its last day)."""
    return c.filter((c.first_month <= month) & (c.last_month >= month))


def customer_mrr_at(c: ir.Table, month: int) -> ir.Table:
    """One row per customer with MRR at the end of ``month``: ``customer_id, mrr``."""
    a = active_at(c, month)
    out = a.group_by("customer_id").aggregate(mrr=a.mrr.sum().round(MONEY_DECIMALS))
    return out.filter(out.mrr > 0)


def customer_months(c: ir.Table, lo: int, hi: int) -> ir.Table:
    """Dense customer-month MRR for months ``lo..hi``: ``customer_id, month, mrr`` (mrr > 0)."""
    spine = ibis.memtable({"month": list(range(lo, hi + 1))})
    near = c.filter((c.last_month >= lo) & (c.first_month <= hi))
    pairs = near.select("customer_id", "first_month", "last_month", "mrr").cross_join(spine)
    pairs = pairs.filter((pairs.first_month <= pairs.month) & (pairs.month <= pairs.last_month))
    cm = pairs.group_by(["customer_id", "month"]).aggregate(
        mrr=pairs.mrr.sum().round(MONEY_DECIMALS)
    )
    return cm.filter(cm.mrr > 0)


def first_months(c: ir.Table) -> ir.Table:
    """Each customer's first month with MRR: ``customer_id, first_active``."""
    live = c.filter(c.last_month >= c.first_month)
    return live.group_by("customer_id").aggregate(first_active=live.first_month.min())


def movement_rows(c: ir.Table, lo: int, hi: int) -> ir.Table:
    """Per customer and month in ``lo..hi`` whose MRR changed: the movement kind and amount.

    Columns: ``customer_id, month, prev, cur, kind, amount`` with ``amount >= 0`` (a churn of 300
    has amount 300). Movements are netted per customer and month.
    """
    cm = customer_months(c, lo - 1, hi)
    cur = cm.filter(cm.month >= lo)
    prev = cm.filter(cm.month <= hi - 1)
    prev = prev.select(p_customer=prev.customer_id, p_month=prev.month + 1, p_mrr=prev.mrr)
    j = cur.join(
        prev, [cur.customer_id == prev.p_customer, cur.month == prev.p_month], how="outer"
    )
    j = j.select(
        customer_id=j.customer_id.fill_null(j.p_customer),
        month=j.month.fill_null(j.p_month),
        prev=j.p_mrr.fill_null(0.0),
        cur=j.mrr.fill_null(0.0),
    )
    firsts = first_months(c)
    firsts = firsts.select(f_customer=firsts.customer_id, first_active=firsts.first_active)
    j = j.view()  # a fresh relation: Ibis refuses to join a projection of a join directly
    j = j.left_join(firsts, j.customer_id == firsts.f_customer)
    diff = j.cur - j.prev
    kind = ibis.cases(
        ((j.prev == 0) & (j.month == j.first_active), "new"),
        (j.prev == 0, "reactivation"),
        (j.cur == 0, "churn"),
        (diff > 0, "expansion"),
        (diff < 0, "contraction"),
        else_="none",
    )
    j = j.mutate(kind=kind, amount=diff.abs())
    return j.filter(j.kind != "none")


def monthly_flows(c: ir.Table, lo: int, hi: int) -> pd.DataFrame:
    """Month-level movements and stocks for months ``lo..hi`` (one row per month index).

    Columns: the five :data:`MOVEMENTS` amounts, ``mrr_start``, ``mrr_end``,
    ``customers_start``, ``customers_end`` and the customer counts ``n_new``, ``n_churn``,
    ``n_reactivation``. Months without activity are zero rows.

    A month's row depends only on the contracts (its movements compare the month with the one
    before, and "new" looks at each customer's first month over all data), never on the window
    asked for. So inside a report, where KPIs of many periods ask for many windows, the frame is
    computed once for a window covering the data and the request, and each call gets its slice.
    """
    found = frozen_memo(c)
    if found is None:
        return _monthly_flows(c, lo, hi)
    memo, key = found
    span = memo.get(("monthly_flows span", key))
    if span is None or not (span[0] <= lo and hi <= span[1]):
        want_lo, want_hi = lo, hi
        if span is not None:
            want_lo, want_hi = min(want_lo, span[0]), max(want_hi, span[1])
        else:
            try:
                first, latest = data_months(c)
            except KpitoolsError:
                first, latest = lo, hi
            want_lo, want_hi = min(lo, first), max(hi, latest)
        span = (want_lo, want_hi, _monthly_flows(c, want_lo, want_hi))
        memo[("monthly_flows span", key)] = span
    return span[2].loc[lo:hi].copy()


def _monthly_flows(c: ir.Table, lo: int, hi: int) -> pd.DataFrame:
    rows = movement_rows(c, lo, hi)
    sums = {k: rows.amount.sum(where=rows.kind == k) for k in MOVEMENTS}
    counts = {f"n_{k}": rows.kind.count(where=rows.kind == k) for k in
              ("new", "churn", "reactivation")}
    moves = rows.group_by("month").aggregate(**sums, **counts).to_pandas()
    cm = customer_months(c, lo - 1, hi)
    stocks = cm.group_by("month").aggregate(mrr=cm.mrr.sum(), customers=cm.count()).to_pandas()
    months = pd.RangeIndex(lo - 1, hi + 1, name="month")
    stocks = stocks.set_index("month").reindex(months, fill_value=0).astype(float)
    out = moves.set_index("month").reindex(months[1:], fill_value=0).astype(float).fillna(0.0)
    out["mrr_start"] = stocks["mrr"].shift(1).loc[months[1:]]
    out["mrr_end"] = stocks["mrr"].loc[months[1:]]
    out["customers_start"] = stocks["customers"].shift(1).loc[months[1:]]
    out["customers_end"] = stocks["customers"].loc[months[1:]]
    return out


def data_months(c: ir.Table) -> tuple[int, int]:
    """First month with any MRR and the *latest data month* (month of the latest start_date).

    Raises :class:`KpitoolsError` for a contracts table without rows.
    """
    live = c.filter(c.last_month >= c.first_month)
    first = scalar(live.first_month.min())
    latest = scalar(c.first_month.max())
    if math.isnan(latest):
        raise KpitoolsError(
            "the contracts table has no rows, so there is no month to measure.\n"
            "Hint: check the file loaded for 'contracts' or pass a period explicitly."
        )
    return (int(latest) if math.isnan(first) else int(first)), int(latest)


def snapshot_period(c: ir.Table, period: str | Period | None) -> Period:
    """``period`` parsed, or the latest data month when it is None (stock KPIs)."""
    p = as_period(period)
    if p is not None:
        return p
    _, latest = data_months(c)
    start = month_start(latest)
    return Period(start, start + pd.DateOffset(months=1), "M")


@cache
def texts() -> dict:
    """Client-facing sentences and labels of the subscription metrics (``texts.yaml``)."""
    raw = resources.files("kpitools.metrics").joinpath("texts.yaml").read_text(encoding="utf-8")
    return package_yaml(raw)
