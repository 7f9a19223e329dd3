"""Per-customer recency / frequency / monetary summaries, the input of the BTYD models.

Everything here is an Ibis expression over the canonical ``orders`` table (DuckDB by default), so
the summary of a million-row order history is computed by the engine, not by a Python loop.

Definitions (Fader, Hardie & Lee 2005, "Counting your customers the easy way")
------------------------------------------------------------------------------
Purchases are first merged into *purchase occasions*: all orders of one customer in the same time
unit (a day with ``time_unit="D"``) count once, with their amounts added. Then, per customer:

* ``frequency`` x = number of occasions after the first one (repeat purchases);
* ``recency`` t_x = time from the first to the last occasion (0 when x = 0);
* ``T`` = time from the first occasion to the end of the observation window;
* ``monetary_value`` = mean amount of the repeat occasions (the first purchase is excluded;
  0 when x = 0).

Times are counted in ``time_unit`` steps and divided by ``time_scaler``: ``time_unit="D",
time_scaler=7`` gives weeks measured as days / 7 (the CDNOW convention).
"""

from __future__ import annotations

from datetime import date, datetime

import ibis
import ibis.expr.types as ir
import pandas as pd

from kpitools._engine import TableLike, scalar, table, to_pandas
from kpitools._errors import KpitoolsError, ModelFitError
from kpitools.periods import DAYS_PER_WEEK, MONTHS_PER_YEAR

__all__ = ["TIME_UNITS", "repeat_purchase_tracking", "rfm_summary"]

#: Supported time units: day, week (Monday-based) and calendar month.
TIME_UNITS = ("D", "W", "M")
_REQUIRED = ("customer_id", "order_date", "amount")
#: 1970-01-01 (epoch day 0) was a Thursday; +3 makes Monday-based week numbers.
_EPOCH_TO_MONDAY_DAYS = 3

DateLike = str | date | datetime | pd.Timestamp


def _timestamp(value: DateLike, name: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise KpitoolsError(
            f"{name}={value!r} is not a date.\nHint: write dates as '2024-12-31'."
        ) from exc
    if ts is pd.NaT:
        raise KpitoolsError(f"{name} is missing.\nHint: write dates as '2024-12-31'.")
    return ts.normalize()


def _unit_index(day: ir.DateValue, time_unit: str) -> ir.IntegerValue:
    """Integer index of the time unit a date falls in (days, weeks or months since an origin)."""
    if time_unit == "D":
        return day.epoch_days()
    if time_unit == "W":
        return (day.epoch_days() + _EPOCH_TO_MONDAY_DAYS) // DAYS_PER_WEEK
    return day.year() * MONTHS_PER_YEAR + day.month() - 1


def _unit_of(ts: pd.Timestamp, time_unit: str) -> int:
    days = int((ts - pd.Timestamp("1970-01-01")).days)
    if time_unit == "D":
        return days
    if time_unit == "W":
        return (days + _EPOCH_TO_MONDAY_DAYS) // DAYS_PER_WEEK
    return ts.year * MONTHS_PER_YEAR + ts.month - 1


def _check_args(time_unit: str, time_scaler: float) -> None:
    if time_unit not in TIME_UNITS:
        raise KpitoolsError(
            f"time_unit={time_unit!r} is not supported; expected one of {list(TIME_UNITS)}.\n"
            "Hint: use time_unit='D' with time_scaler=7 to measure time in weeks of days."
        )
    if not time_scaler > 0:
        raise KpitoolsError(
            f"time_scaler must be > 0, got {time_scaler!r}.\n"
            "Hint: time_scaler=7 turns days into weeks; 1 keeps the time unit."
        )


def _occasions(orders: TableLike, end: pd.Timestamp, time_unit: str) -> ir.Table:
    """Purchase occasions up to ``end`` (inclusive): one row per customer and time unit."""
    t = table(orders, "orders", _REQUIRED)
    bad = scalar(
        (t.amount < 0).cast("int64").sum()
        + t.amount.isnull().cast("int64").sum()
        + t.order_date.isnull().cast("int64").sum()
    )
    if bad and bad > 0:
        raise ModelFitError(
            f"orders: {int(bad)} row(s) with a negative or missing amount or order_date; a "
            "purchase summary cannot use them.\n"
            "Hint: load orders with kpitools.load_orders(...), which validates these columns, "
            "or drop refunds and blank rows first."
        )
    # Guest orders (empty customer_id, guests: exclude_from_customer_kpis) have no customer.
    t = t.filter(t.customer_id.notnull())
    day = t.order_date.cast("timestamp").date()
    t = t.filter(day <= ibis.date(end.date()))
    unit = _unit_index(t.order_date.cast("timestamp").date(), time_unit)
    t = t.mutate(unit=unit)
    return t.group_by(["customer_id", "unit"]).aggregate(amount=t.amount.sum())


def _summary_expr(occ: ir.Table, end_unit: int, time_scaler: float) -> ir.Table:
    first = occ.group_by("customer_id").aggregate(first_unit=occ.unit.min())
    j = occ.join(first, "customer_id")
    repeat = j.unit > j.first_unit
    per = j.group_by("customer_id").aggregate(
        n=j.unit.count(),
        first_unit=j.first_unit.min(),
        last_unit=j.unit.max(),
        repeat_amount=j.amount.sum(where=repeat),
    )
    frequency = per.n - 1
    return per.select(
        customer_id=per.customer_id,
        frequency=frequency,
        recency=(per.last_unit - per.first_unit).cast("float64") / time_scaler,
        T=(ibis.literal(end_unit) - per.first_unit).cast("float64") / time_scaler,
        monetary_value=ibis.ifelse(
            frequency > 0, per.repeat_amount.cast("float64") / frequency.cast("float64"), 0.0
        ),
        first_unit=per.first_unit,
    )


def rfm_summary(
    orders: TableLike,
    *,
    observation_end: DateLike | None = None,
    time_unit: str = "D",
    time_scaler: float = 1,
    calibration_end: DateLike | None = None,
) -> pd.DataFrame:
    """Frequency, recency, T and monetary value per customer (the BTYD model input).

    Formula: x = occasions − 1; t_x = (last − first) ÷ time_scaler; T = (end − first) ÷
    time_scaler; monetary_value = Σ amount of repeat occasions ÷ x (0 when x = 0).

    Parameters
    ----------
    orders : DataFrame or Ibis table
        Canonical ``orders`` (``customer_id``, ``order_date``, ``amount``).
    observation_end : date-like, optional
        Last day observed (inclusive). Default: the last order date. Orders after it are ignored.
    time_unit : {"D", "W", "M"}
        Purchases in the same unit are merged into one occasion; times are counted in units.
    time_scaler : float
        Divide unit counts by this (``"D"`` with 7 gives weeks of 7 days).
    calibration_end : date-like, optional
        Split: the model summary uses orders up to this day (inclusive), T is measured to it, and
        ``frequency_holdout`` / ``monetary_value_holdout`` count the occasions after it up to
        ``observation_end``; ``duration_holdout`` is the holdout length. Customers whose first
        purchase falls in the holdout are left out.

    Returns
    -------
    pandas.DataFrame
        One row per customer, sorted by ``customer_id``: ``customer_id, frequency, recency, T,
        monetary_value`` (+ holdout columns with ``calibration_end``). Amounts in the orders'
        currency; times in ``time_unit`` ÷ ``time_scaler``.

    Raises
    ------
    ModelFitError
        When no order with a customer falls in the window (an empty summary fits no model), or
        an amount or date is negative or missing.

    Notes
    -----
    Zero policy: customers without repeat purchases get ``recency = 0`` and ``monetary_value = 0``.
    Orders with an empty ``customer_id`` (guests) are left out.
    Source: Fader, Hardie & Lee (2005), Marketing Science 24(2), sec. 2 and 7.

    Examples
    --------
    >>> orders = pd.DataFrame({"customer_id": ["a", "a", "a", "b"],
    ...     "order_date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-15", "2024-01-10"]),
    ...     "amount": [100.0, 50.0, 80.0, 30.0]})
    >>> rfm_summary(orders, observation_end="2024-01-29", time_scaler=7).round(2)
      customer_id  frequency  recency     T  monetary_value
    0           a          1      2.0  4.00            80.0
    1           b          0      0.0  2.71             0.0
    """
    _check_args(time_unit, time_scaler)
    if observation_end is None:
        t = table(orders, "orders", _REQUIRED)
        last = t.order_date.max().to_pandas()
        if last is None or pd.isna(last):
            raise ModelFitError("orders: the table is empty.\nHint: check the orders file.")
        observation_end = last
    end = _timestamp(observation_end, "observation_end")
    cal = None if calibration_end is None else _timestamp(calibration_end, "calibration_end")
    if cal is not None and cal >= end:
        raise KpitoolsError(
            f"calibration_end ({cal.date()}) must be before observation_end ({end.date()}).\n"
            "Hint: keep a holdout window after calibration_end to check the predictions."
        )
    occ = _occasions(orders, end, time_unit)
    summary_end = end if cal is None else cal
    summary_unit = _unit_of(summary_end, time_unit)
    calib = _summary_expr(occ.filter(occ.unit <= summary_unit), summary_unit, time_scaler)
    columns = ["customer_id", "frequency", "recency", "T", "monetary_value"]
    if cal is not None:
        hold = occ.filter(occ.unit > summary_unit)
        hold_per = hold.group_by("customer_id").aggregate(
            frequency_holdout=hold.unit.count(), holdout_amount=hold.amount.sum()
        )
        joined = calib.left_join(hold_per, "customer_id")
        n_hold = joined.frequency_holdout.fill_null(0)
        calib = joined.select(
            *[joined[c] for c in columns],
            frequency_holdout=n_hold,
            monetary_value_holdout=ibis.ifelse(
                n_hold > 0, joined.holdout_amount.cast("float64") / n_hold.cast("float64"), 0.0
            ),
            duration_holdout=ibis.literal((_unit_of(end, time_unit) - summary_unit) / time_scaler),
        )
        columns += ["frequency_holdout", "monetary_value_holdout", "duration_holdout"]
    result = to_pandas(calib.select(columns).order_by("customer_id"))
    result = result.reset_index(drop=True)
    if result.empty:
        raise ModelFitError(
            f"orders: no order with a customer on or before {summary_end.date()}, so there is "
            "no customer to summarise.\n"
            "Hint: check observation_end / calibration_end against the order dates, and that "
            "the orders have customer ids (guest orders are left out)."
        )
    for col in ("frequency", "frequency_holdout"):
        if col in result:
            result[col] = result[col].astype("int64")
    return result


def repeat_purchase_tracking(
    orders: TableLike,
    *,
    origin: DateLike,
    observation_end: DateLike,
    time_scaler: int = DAYS_PER_WEEK,
) -> pd.DataFrame:
    """Repeat purchase occasions per period since ``origin``, and their running total.

    Formula: period = floor(days since origin ÷ time_scaler) + 1; a repeat occasion is any
    purchase day of a customer after their first purchase day (same-day orders merged).

    Returns
    -------
    pandas.DataFrame
        ``period`` (1, 2, … through the period holding ``observation_end``),
        ``repeat_transactions`` and ``cumulative_repeat_transactions``. Periods without purchases
        are included with 0.

    Notes
    -----
    The actual series of the BG/NBD tracking plot (FHL 2005 fig. 2): weeks with
    ``time_scaler=7``. Source: Fader, Hardie & Lee (2005); R BTYD walkthrough.
    """
    start = _timestamp(origin, "origin")
    end = _timestamp(observation_end, "observation_end")
    if not time_scaler >= 1 or int(time_scaler) != time_scaler:
        raise KpitoolsError(
            f"time_scaler must be a whole number of days >= 1, got {time_scaler!r}.\n"
            "Hint: 7 gives weekly periods."
        )
    occ = _occasions(orders, end, "D")
    first = occ.group_by("customer_id").aggregate(first_unit=occ.unit.min())
    j = occ.join(first, "customer_id")
    origin_unit = _unit_of(start, "D")
    rep = j.filter((j.unit > j.first_unit) & (j.unit >= origin_unit))
    rep = rep.mutate(period=(rep.unit - origin_unit) // int(time_scaler) + 1)
    counts = to_pandas(rep.group_by("period").aggregate(repeat_transactions=rep.unit.count()))
    n_periods = (_unit_of(end, "D") - origin_unit) // int(time_scaler) + 1
    out = pd.DataFrame({"period": range(1, n_periods + 1)})
    out = out.merge(counts, on="period", how="left")
    out["repeat_transactions"] = out["repeat_transactions"].fillna(0).astype("int64")
    out["cumulative_repeat_transactions"] = out["repeat_transactions"].cumsum()
    return out
