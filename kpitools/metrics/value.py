"""What a customer is worth: simple customer lifetime value (CLTV) and LTV:CAC.

This is the vendor-style subscription LTV (ARPA × margin ÷ churn). Probabilistic CLV for
non-contractual shops lives in :mod:`kpitools.models`, not here.
"""

from __future__ import annotations

import math

import numpy as np

from kpitools._engine import TableLike
from kpitools._errors import KpitoolsError
from kpitools.metrics._contracts import (
    check_choice,
    check_margin,
    contracts_table,
    monthly_flows,
    period_months,
    snapshot_period,
)
from kpitools.metrics.acquisition import cac
from kpitools.metrics.revenue import arpa
from kpitools.periods import Period

__all__ = ["cltv", "ltv_to_cac", "monthly_logo_churn_rate"]

#: Stripe Billing's assumed monthly churn when the observed churn is zero (≈ 60-month life).
STRIPE_CHURN_FLOOR = 0.0167
#: Months averaged by ``churn_smoothing="trailing_6m"`` (ChartMogul).
TRAILING_CHURN_MONTHS = 6


def monthly_logo_churn_rate(
    contracts: TableLike,
    period: str | Period | None = None,
    *,
    churn_smoothing: str = "none",
) -> float:
    """Average monthly customer churn rate over the months of a period.

    Each month's rate is customers with MRR at the previous month-end and none at this
    month-end ÷ customers at the previous month-end (ChartMogul standard, which for a single
    month equals :func:`~kpitools.metrics.retention.logo_churn_rate`). The result is the
    plain mean of those monthly rates; months without customers at their start are skipped.
    ``churn_smoothing="trailing_6m"`` averages the 6 months *before* the period's last month
    instead (ChartMogul's LTV churn, current month excluded).

    Units: fraction per month. Period: None = latest data month. Zero policy: NaN when no
    month had customers at its start.
    """
    check_choice("churn_smoothing", churn_smoothing, ("none", "trailing_6m"))
    c = contracts_table(contracts)
    lo, hi = period_months(snapshot_period(c, period))
    if churn_smoothing == "trailing_6m":
        lo, hi = hi - TRAILING_CHURN_MONTHS, hi - 1
    f = monthly_flows(c, lo, hi)
    f = f[f["customers_start"] > 0]
    if f.empty:
        return math.nan
    return float(np.mean(f["n_churn"] / f["customers_start"]))


def cltv(
    contracts: TableLike,
    period: str | Period | None = None,
    *,
    gross_margin: float = 1.0,
    zero_churn: str = "error",
    churn_floor: float = STRIPE_CHURN_FLOOR,
    churn_smoothing: str = "none",
) -> float:
    """Customer lifetime value = ARPA × gross margin ÷ monthly customer churn rate.

    Parameters
    ----------
    contracts : table
    period : str, Period or None
        ARPA is the month-end snapshot at the period's last day; churn is the **average
        monthly** logo churn rate of the months in the period (one month for a monthly period,
        three for a quarter; see :func:`monthly_logo_churn_rate`). None = latest data month.
    gross_margin : float in (0, 1]
        1.0 (default) gives the revenue LTV of ChartMogul, Baremetrics and Stripe; a real margin
        gives the gross-profit LTV of Skok / Finmark.
    zero_churn : {"error", "floor"}
        What to do when no customer churned: raise (ChartMogul refuses) or use ``churn_floor``
        instead of 0 (Stripe assumes 1.67 % a month, i.e. a 60-month lifetime). Non-zero churn
        is never changed.
    churn_smoothing : {"none", "trailing_6m"}
        ``"trailing_6m"``: average churn of the 6 months before the period's last month.

    Returns
    -------
    float, currency per customer. NaN when ARPA or churn is undefined (no customers).

    Raises
    ------
    KpitoolsError
        With ``zero_churn="error"`` when the churn rate is 0.

    Notes
    -----
    Source: ChartMogul LTV (ARPA 100, churn 5 % → 2,000), Stripe floor, Skok margin
    (kpi-definitions.md §1.8).

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"contract_id": ["k1", "k2", "k3", "k4"],
    ...     "customer_id": ["a", "b", "c", "d"],
    ...     "start_date": pd.to_datetime(["2024-01-01"] * 4),
    ...     "end_date": pd.to_datetime(["2024-12-31"] * 3 + ["2024-05-31"]),
    ...     "total_value": [1200.0, 1200.0, 1200.0, 500.0]})
    >>> cltv(c, "2024-06")  # ARPA 100 ÷ (1 of 4 churned in June)
    400.0
    """
    check_choice("zero_churn", zero_churn, ("error", "floor"))
    check_margin(gross_margin)
    if not 0 < churn_floor <= 1:
        raise KpitoolsError(
            f"churn_floor must be a monthly rate in (0, 1], got {churn_floor!r}.\n"
            "Hint: Stripe uses 0.0167 (1.67 % a month)."
        )
    churn = monthly_logo_churn_rate(contracts, period, churn_smoothing=churn_smoothing)
    per_account = arpa(contracts, period)
    if math.isnan(churn) or math.isnan(per_account):
        return math.nan
    if churn == 0:
        if zero_churn == "error":
            raise KpitoolsError(
                f"no customer churned in {period or 'the latest month'}, so lifetime value is "
                "unbounded (ARPA ÷ 0).\n"
                "Hint: pass zero_churn='floor' to assume 1.67 % monthly churn (Stripe), "
                "churn_smoothing='trailing_6m', or a longer period."
            )
        churn = churn_floor
    return per_account * gross_margin / churn


def ltv_to_cac(
    contracts: TableLike,
    marketing_spend: TableLike,
    period: str | Period | None = None,
    *,
    gross_margin: float = 1.0,
    zero_churn: str = "error",
    churn_floor: float = STRIPE_CHURN_FLOOR,
    churn_smoothing: str = "none",
    mode: str = "blended",
    spend_lag_months: int = 0,
) -> float:
    """LTV:CAC ratio = :func:`cltv` ÷ :func:`~kpitools.metrics.acquisition.cac` for one period.

    Options are passed through. Units: ratio (Skok's rule of thumb: ≥ 3). Zero policy: NaN when
    CAC is NaN or 0 (no new customers or no spend); churn zero follows ``zero_churn``.
    Source: Skok, ChartMogul (§1.9).
    """
    value = cltv(contracts, period, gross_margin=gross_margin, zero_churn=zero_churn,
                 churn_floor=churn_floor, churn_smoothing=churn_smoothing)
    cost = cac(marketing_spend, contracts, period, mode=mode, spend_lag_months=spend_lag_months)
    if math.isnan(cost) or cost == 0 or math.isnan(value):
        return math.nan
    return value / cost
