"""Predictive customer lifetime value for repeat-purchase businesses (BG/NBD × Gamma-Gamma).

For each customer, the BG/NBD model predicts how many purchases fall in each of the next months
and the Gamma-Gamma model predicts the average spend per purchase; their product, times the
margin and discounted monthly, is the customer's expected value over the horizon:

CLV_i = margin × E[Z_i] × Σ_{m=1..H} (E[Y_i(t_m)] − E[Y_i(t_{m−1})]) / (1 + d)^m,
t_m = m months expressed in the summary's time unit.

This is the discounting scheme of lifetimes' ``customer_lifetime_value`` (purchases of month m are
discounted m months). Months are mean Gregorian months (``DAYS_PER_MONTH`` = 30.44 days), where
lifetimes uses 30 days.
"""

from __future__ import annotations

import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from kpitools._engine import TableLike
from kpitools._errors import KpitoolsError
from kpitools._packageyaml import package_yaml
from kpitools.models._validate import summary_arrays
from kpitools.models.bgnbd import BgNbd, fit_bgnbd
from kpitools.models.gamma_gamma import (
    FrequencyMonetaryCorrelationWarning,
    GammaGamma,
    fit_gamma_gamma,
)
from kpitools.models.rfm import rfm_summary
from kpitools.periods import DAYS_PER_MONTH, DAYS_PER_WEEK, as_period

__all__ = [
    "customer_lifetime_value",
    "predicted_clv",
    "predicted_clv_by_customer",
    "top_customers",
]

DEFAULT_HORIZON_MONTHS = 12
#: Monthly discount rate of lifetimes / pymc-marketing (about 12.7% a year).
DEFAULT_MONTHLY_DISCOUNT_RATE = 0.01
#: Top-customer tiers: the best 10%, the next 40%, the rest.
DEFAULT_TIER_SHARES = (0.1, 0.4)
TIERS = ("top", "middle", "rest")
LANGS = ("zh-TW", "en")
_LABELS = Path(__file__).with_name("labels.yaml")


@cache
def labels() -> dict:
    """The bilingual labels of the models package (``labels.yaml``)."""
    with _LABELS.open(encoding="utf-8") as fh:
        return package_yaml(fh)


def _check_lang(lang: str) -> None:
    if lang not in LANGS:
        raise KpitoolsError(f"lang={lang!r} is not supported.\nHint: use 'zh-TW' or 'en'.")


def customer_lifetime_value(
    bgnbd: BgNbd,
    gg: GammaGamma,
    summary: pd.DataFrame,
    *,
    horizon_months: int = DEFAULT_HORIZON_MONTHS,
    monthly_discount_rate: float = DEFAULT_MONTHLY_DISCOUNT_RATE,
    margin: float = 1.0,
    time_unit_days: float = DAYS_PER_WEEK,
) -> pd.DataFrame:
    """Discounted expected value of each customer over the next ``horizon_months``.

    Parameters
    ----------
    bgnbd, gg : BgNbd, GammaGamma
        Fitted (or given) models, both on ``summary``'s time unit and currency.
    summary : pandas.DataFrame
        ``frequency, recency, T, monetary_value`` per customer (from :func:`rfm_summary`).
    horizon_months : int
        Months ahead (whole months >= 1).
    monthly_discount_rate : float
        d in (1 + d)^−m; 0 = undiscounted.
    margin : float
        Share of spend that is profit (1.0 = revenue CLV).
    time_unit_days : float
        Length of the summary's time unit in days (7 for weeks, 1 for days).

    Returns
    -------
    pandas.DataFrame
        ``summary`` plus ``p_alive``, ``expected_purchases`` (over the horizon),
        ``expected_spend`` (per purchase) and ``clv`` (currency, discounted).

    Notes
    -----
    Zero policy: customers without repeat purchases get the population mean spend. Source:
    Fader, Hardie & Lee (2005), JMR 42(4) "RFM and CLV"; lifetimes ``customer_lifetime_value``.
    """
    if int(horizon_months) != horizon_months or horizon_months < 1:
        raise KpitoolsError(f"horizon_months must be a whole number >= 1, got {horizon_months!r}."
                            "\nHint: 12 gives a one-year CLV.")
    for name, value in (("monthly_discount_rate", monthly_discount_rate), ("margin", margin),
                        ("time_unit_days", time_unit_days)):
        if not np.isfinite(value) or value < 0 or (name == "time_unit_days" and value == 0):
            raise KpitoolsError(f"{name} must be a finite number >= 0, got {value!r}.\n"
                                "Hint: e.g. monthly_discount_rate=0.01, margin=0.4.")
    cols = summary_arrays(summary, ["frequency", "recency", "T", "monetary_value"])
    x, t_x, T, z = cols["frequency"], cols["recency"], cols["T"], cols["monetary_value"]
    months = np.arange(int(horizon_months) + 1)
    t = (months * DAYS_PER_MONTH / time_unit_days).reshape(-1, 1)
    cumulative = bgnbd.conditional_expected_purchases(t, x, t_x, T)  # (months, customers)
    per_month = np.diff(cumulative, axis=0)
    discount = (1 + monthly_discount_rate) ** -months[1:].astype(float)
    spend = gg.conditional_expected_spend(x, z)
    out = summary.copy()
    out["p_alive"] = bgnbd.probability_alive(x, t_x, T)
    out["expected_purchases"] = cumulative[-1]
    out["expected_spend"] = spend
    out["clv"] = margin * spend * (discount @ per_month)
    return out


def top_customers(
    clv: pd.DataFrame,
    *,
    shares: tuple[float, float] = DEFAULT_TIER_SHARES,
    lang: str = "zh-TW",
) -> pd.DataFrame:
    """Rank customers by ``clv`` and label the top tier, the middle tier and the rest.

    Tiers by rank: rank ≤ ceil(shares[0]·n) → ``top``; then up to ceil((shares[0] +
    shares[1])·n) → ``middle``; the others → ``rest``. Ties are broken by order of appearance.

    Returns
    -------
    pandas.DataFrame
        A copy sorted by ``clv`` (highest first) with ``clv_rank`` (1 = best), ``clv_share``
        (share of the total CLV), ``tier`` (code) and ``tier_label`` (in ``lang``).
    """
    _check_lang(lang)
    if "clv" not in clv.columns:
        raise KpitoolsError("the table has no 'clv' column.\n"
                            "Hint: pass the output of customer_lifetime_value(...).")
    top, middle = shares
    if not (0 < top < 1 and 0 <= middle < 1 and top + middle <= 1):
        raise KpitoolsError(f"shares must be two fractions summing to at most 1, got {shares!r}."
                            "\nHint: (0.1, 0.4) = top 10%, next 40%, rest 50%.")
    out = clv.sort_values("clv", ascending=False, kind="stable").reset_index(drop=True)
    n = len(out)
    rank = np.arange(1, n + 1)
    cut_top = int(np.ceil(top * n))
    cut_mid = int(np.ceil((top + middle) * n))
    tier = np.where(rank <= cut_top, TIERS[0], np.where(rank <= cut_mid, TIERS[1], TIERS[2]))
    total = float(out["clv"].sum())
    out["clv_rank"] = rank
    out["clv_share"] = out["clv"] / total if total > 0 else 0.0
    out["tier"] = tier
    names = labels()["tiers"]
    out["tier_label"] = pd.Series(tier).map(
        {code: names[code][lang].format(top=round(top * 100), middle=round(middle * 100),
                                        rest=round((1 - top - middle) * 100)) for code in TIERS})
    return out


def predicted_clv_by_customer(
    orders: TableLike,
    period: str | None = None,
    *,
    horizon_months: int = DEFAULT_HORIZON_MONTHS,
    monthly_discount_rate: float = DEFAULT_MONTHLY_DISCOUNT_RATE,
    margin: float = 1.0,
    penalizer: float = 0.0,
    lang: str = "zh-TW",
) -> pd.DataFrame:
    """Per-customer predicted CLV from an ``orders`` table, observed up to the end of ``period``.

    Builds the summary in weeks (days ÷ 7) with orders up to the period's last day (all orders
    when ``period`` is None), fits BG/NBD and Gamma-Gamma, and returns
    :func:`customer_lifetime_value` ranked by :func:`top_customers`. A frequency/spend
    correlation above 0.3 is reported in the ``gg_frequency_monetary_corr`` column, not raised.
    """
    p = as_period(period)
    end = None if p is None else p.last_day
    summary = rfm_summary(orders, observation_end=end, time_unit="D", time_scaler=DAYS_PER_WEEK)
    bg = fit_bgnbd(summary, penalizer=penalizer)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FrequencyMonetaryCorrelationWarning)
        gg = fit_gamma_gamma(summary, penalizer=penalizer)
    table = customer_lifetime_value(
        bg, gg, summary, horizon_months=horizon_months,
        monthly_discount_rate=monthly_discount_rate, margin=margin, time_unit_days=DAYS_PER_WEEK)
    ranked = top_customers(table, lang=lang)
    ranked["gg_frequency_monetary_corr"] = gg.result.diagnostics["frequency_monetary_corr"]
    return ranked


def predicted_clv(
    orders: TableLike,
    period: str | None = None,
    *,
    horizon_months: int = DEFAULT_HORIZON_MONTHS,
    monthly_discount_rate: float = DEFAULT_MONTHLY_DISCOUNT_RATE,
    margin: float = 1.0,
    penalizer: float = 0.0,
) -> float:
    """Average predicted CLV per customer (BG/NBD × Gamma-Gamma), as of the end of ``period``.

    Formula: mean over customers of :func:`customer_lifetime_value` (12 months, 1% a month by
    default). Unit: the orders' currency. Period convention: a stock measured at the period's
    last day, using every order up to that day. Raises ModelFitError when the orders cannot
    support the models (e.g. no repeat buyers). Source: Fader, Hardie & Lee (2005).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> orders = pd.DataFrame({"customer_id": rng.zipf(1.6, 600).astype(str),
    ...     "order_date": pd.Timestamp("2024-01-01")
    ...                   + pd.to_timedelta(rng.integers(0, 182, 600), "D"),
    ...     "amount": rng.gamma(4.0, 250.0, 600).round()})
    >>> predicted_clv(orders, "2024Q2") > 0
    True
    """
    table = predicted_clv_by_customer(
        orders, period, horizon_months=horizon_months,
        monthly_discount_rate=monthly_discount_rate, margin=margin, penalizer=penalizer)
    return float(table["clv"].mean())
