"""Noise or change? Judging a KPI's move between two periods against what chance alone gives.

A quarter with 5 churned customers out of 240 and the next with 3 out of 260 look like churn fell
by half; with counts that small the same customers could produce either number. Every change a
report calls "improved" or "worsened" passes one of these tests at the 5 % level (two-sided);
anything else is "within normal variation":

* **rates of countable events** (logo churn, win rate, engagement, repeat purchase): the
  two-proportion z-test on the events and their base; each rate has its Wilson 95 % interval;
* **counts of events** (new customers, sessions, key events, mentions): the exact Poisson test
  (given the two counts' sum, the later one is binomial), scaled by the periods' lengths;
* **KPIs driven by one small count** (CLTV and LTV:CAC divide by churned customers; CAC and CAC
  payback divide by new customers): the Poisson test of that count, with the rest of the formula
  taken as exact;
* **averages of items** (ACV per new contract, CSAT per answer): Welch's t-test on the items;
* **everything else** (sums of money, shares, stocks): Welch's t-test on the monthly values
  inside each quarter, i.e. the change against the month-to-month spread.

The functions are plain statistics on numbers; :func:`judge_change` picks the test for a KPI.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from kpitools._errors import KpitoolsError
from kpitools.periods import Period

__all__ = [
    "SIGNIFICANCE",
    "Change",
    "judge_change",
    "poisson_test",
    "two_proportion_test",
    "welch_test",
    "wilson_interval",
]

#: Two-sided significance level below which a change counts as real.
SIGNIFICANCE = 0.05
#: Normal quantile of a two-sided 95 % interval.
Z_95 = 1.959963984540054
#: Verdicts, as ids the report translates (kpitools/insights/texts.yaml, group ``verdict``).
VERDICTS = ("improved", "worsened", "within_noise", "not_tested")
#: Months in the periods compared by the month-to-month test (a quarter).
MIN_MONTHS = 2


@dataclass(frozen=True)
class Change:
    """How a KPI moved: ``verdict`` (one of VERDICTS), the test used and its p-value."""

    kpi: str
    previous: float
    current: float
    verdict: str
    method: str  # two_proportion, poisson, poisson_driver, welch_items, welch_monthly, none
    p_value: float = math.nan
    evidence: Mapping[str, Any] | None = None

    @property
    def real(self) -> bool:
        return self.verdict in ("improved", "worsened")


def wilson_interval(successes: float, trials: float, *, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval of a proportion ``successes / trials`` (95 % by default).

    Formula: (p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) ÷ (1 + z²/n). NaN bounds when ``trials`` is 0.

    >>> [round(x, 4) for x in wilson_interval(5, 240)]
    [0.0089, 0.0478]
    """
    if trials <= 0:
        return (math.nan, math.nan)
    p = successes / trials
    z2 = z * z
    centre = p + z2 / (2 * trials)
    spread = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    denominator = 1 + z2 / trials
    return (max(0.0, (centre - spread) / denominator), min(1.0, (centre + spread) / denominator))


def _normal_two_sided(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2))


def two_proportion_test(k1: float, n1: float, k2: float, n2: float) -> float:
    """Two-sided p-value of the pooled two-proportion z-test of k1/n1 against k2/n2.

    z = (p2 − p1) ÷ √(p̄(1−p̄)(1/n1 + 1/n2)) with p̄ = (k1 + k2) ÷ (n1 + n2). NaN when a base is 0;
    1.0 when neither period has any event (or every trial is one).

    >>> round(two_proportion_test(5, 240, 3, 265), 3)
    0.393
    """
    if n1 <= 0 or n2 <= 0:
        return math.nan
    pooled = (k1 + k2) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if variance <= 0:
        return 1.0
    return _normal_two_sided((k2 / n2 - k1 / n1) / math.sqrt(variance))


def poisson_test(x1: float, x2: float, *, exposure_ratio: float = 1.0) -> float:
    """Two-sided exact p-value that counts x1 and x2 share one Poisson rate.

    ``exposure_ratio`` = exposure of period 2 ÷ exposure of period 1 (e.g. days, or money
    spent). Given n = x1 + x2, x2 is Binomial(n, r ÷ (1 + r)) under equal rates; the p-value sums
    the probabilities of outcomes no more likely than the one seen.

    >>> round(poisson_test(29, 25), 3)
    0.683
    """
    n = round(x1 + x2)
    if n <= 0 or exposure_ratio <= 0 or not math.isfinite(exposure_ratio):
        return 1.0 if n <= 0 else math.nan
    return _binomial_two_sided(round(x2), n, exposure_ratio / (1 + exposure_ratio))


def _binomial_two_sided(k: int, n: int, p: float) -> float:
    """Exact two-sided binomial p-value: the probability of every outcome no more likely than
    ``k`` (the "minlike" rule of R's binom.test and SciPy's binomtest, with the same relative
    tolerance of 1e-7 for ties). SciPy's scipy.stats is not imported for this: it costs more
    CPU than a whole small report's noise tests."""
    from scipy.special import gammaln

    i = np.arange(n + 1, dtype="float64")
    log_pmf = (gammaln(n + 1) - gammaln(i + 1) - gammaln(n - i + 1)
               + i * math.log(p) + (n - i) * math.log1p(-p))
    pmf = np.exp(log_pmf)
    if k == p * n:
        return 1.0
    return float(min(1.0, pmf[pmf <= pmf[k] * (1 + 1e-7)].sum()))


def welch_test(before: Any, after: Any) -> float:
    """Two-sided p-value of Welch's t-test between two samples (NaN below two values each).

    >>> round(welch_test([10, 12, 11], [15, 16, 14]), 4)
    0.008
    """
    from scipy.special import stdtr

    a = pd.Series(before, dtype="float64").dropna()
    b = pd.Series(after, dtype="float64").dropna()
    if len(a) < MIN_MONTHS or len(b) < MIN_MONTHS:
        return math.nan
    if a.var() == 0 and b.var() == 0:
        return 1.0 if a.mean() == b.mean() else 0.0
    # t = (mean_a − mean_b) ÷ √(s²_a/n_a + s²_b/n_b), Welch–Satterthwaite degrees of freedom.
    va, vb = a.var() / len(a), b.var() / len(b)
    t = (a.mean() - b.mean()) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    return float(2 * stdtr(df, -abs(t)))


# --------------------------------------------------------------------------- bases of the rates


def _in(frame: pd.DataFrame, column: str, period: Period) -> pd.DataFrame:
    dates = frame[column]
    return frame[(dates >= period.start) & (dates < period.end)]


def _churn_base(client: Any, period: Period) -> float:
    from kpitools._engine import scalar
    from kpitools.metrics._contracts import contracts_table, customer_mrr_at, period_months

    c = contracts_table(client["contracts"])
    lo, _ = period_months(period)
    return float(scalar(customer_mrr_at(c, lo - 1).count()))


def _closed_deals(client: Any, period: Period) -> float:
    deals = _in(client["deals"], "close_date", period)
    return float(
        deals["outcome"].astype("string").str.strip().str.lower().isin(["won", "lost"]).sum()
    )


def _buyers(client: Any, period: Period) -> float:
    return float(_in(client["orders"], "order_date", period)["customer_id"].nunique())


def _sessions(client: Any, period: Period) -> float:
    return float(_in(client["web_traffic"], "date", period)["sessions"].sum())


#: Rate KPIs and the base (denominator count) each divides by.
PROPORTIONS: dict[str, Callable[[Any, Period], float]] = {
    "logo_churn_rate": _churn_base,
    "win_rate": _closed_deals,
    "repeat_purchase_rate": _buyers,
    "engagement_rate": _sessions,
    "bounce_rate": _sessions,
}
def _acv_items(client: Any, period: Period) -> pd.Series:
    from kpitools.metrics import acv

    return acv(client["contracts"], period, mode="per_contract")["acv"]


def _csat_items(client: Any, period: Period) -> pd.Series:
    return _in(client["feedback"], "date", period)["csat"].dropna()


#: Averages and the items they average: Welch's t-test on the items themselves.
ITEMS: dict[str, Callable[[Any, Period], pd.Series]] = {
    "acv": _acv_items,
    "csat_average": _csat_items,
}
#: KPIs that are counts of events.
COUNTS = (
    "new_customers",
    "new_customers_orders",
    "sessions",
    "active_users",
    "key_events",
    "mentions",
)
#: KPIs proportional to 1 ÷ a small count: the count is what makes them noisy.
DRIVERS = {
    "cltv": "logo_churn_rate",
    "ltv_to_cac": "logo_churn_rate",
    "cac": "new_customers",
    "cac_payback_months": "new_customers",
}


def _days(period: Period) -> float:
    return float((period.end - period.start).days)


def _verdict(p_value: float, previous: float, current: float, higher_is_better: bool) -> str:
    if math.isnan(p_value):
        return "not_tested"
    if p_value >= SIGNIFICANCE or current == previous:
        return "within_noise"
    return "improved" if (current > previous) == higher_is_better else "worsened"


def judge_change(
    kpi_id: str,
    client: Any,
    previous: Period,
    current: Period,
    *,
    values: tuple[float, float] | None = None,
) -> Change:
    """Whether a KPI's change from ``previous`` to ``current`` is beyond normal variation.

    ``values`` = (previous value, current value) when the caller has them already (the report's
    trend table), else they are computed. The test follows the module docstring; a KPI with too
    little data for its test gets ``verdict="not_tested"``.
    """
    from kpitools.catalog import compute_kpi, get_kpi, kpi_series

    kpi = get_kpi(kpi_id)

    def value(k: str, p: Period) -> float:
        try:
            return float(compute_kpi(k, client, p))
        except (KpitoolsError, TypeError, ValueError):
            return math.nan

    before, after = (
        values if values is not None else (value(kpi_id, previous), value(kpi_id, current))
    )
    if math.isnan(before) or math.isnan(after):
        return Change(kpi_id, before, after, "not_tested", "none")
    method, p_value, evidence = "none", math.nan, None
    try:
        if kpi_id in PROPORTIONS:
            base = PROPORTIONS[kpi_id]
            n1, n2 = base(client, previous), base(client, current)
            k1, k2 = round(before * n1), round(after * n2)
            method, p_value = "two_proportion", two_proportion_test(k1, n1, k2, n2)
            evidence = {
                "events": (k1, k2),
                "base": (n1, n2),
                "interval": (wilson_interval(k1, n1), wilson_interval(k2, n2)),
            }
        elif kpi_id in ITEMS:
            items = ITEMS[kpi_id]
            method = "welch_items"
            p_value = welch_test(items(client, previous), items(client, current))
        elif kpi_id in COUNTS:
            ratio = _days(current) / _days(previous)
            method, p_value = "poisson", poisson_test(before, after, exposure_ratio=ratio)
            evidence = {"events": (before, after)}
        elif kpi_id in DRIVERS:
            driver = DRIVERS[kpi_id]
            if driver in PROPORTIONS:
                base = PROPORTIONS[driver]
                x1 = round(value(driver, previous) * base(client, previous))
                x2 = round(value(driver, current) * base(client, current))
            else:
                x1, x2 = value(driver, previous), value(driver, current)
            if x1 > 0 and x2 > 0:
                # KPI = exposure ÷ count (CAC = spend ÷ new customers; CLTV = ARPA·margin·base ÷
                # churned): the exposure grows by (after·x2) ÷ (before·x1) between the periods.
                exposure = (after * x2) / (before * x1) if before * after > 0 else math.nan
                method = "poisson_driver"
                p_value = poisson_test(x1, x2, exposure_ratio=abs(exposure))
                evidence = {"driver": driver, "events": (x1, x2)}
        else:
            months = kpi_series(
                kpi_id,
                client,
                "M",
                previous.start.strftime("%Y-%m"),
                (current.end - pd.Timedelta(days=1)).strftime("%Y-%m"),
            )
            monthly = months.to_numpy()
            split = len(monthly) // 2
            method = "welch_monthly"
            p_value = welch_test(monthly[:split], monthly[split:])
            evidence = {"monthly": tuple(float(v) for v in monthly)}
    except (KpitoolsError, KeyError, ValueError, ZeroDivisionError):
        method, p_value = "none", math.nan
    return Change(
        kpi_id,
        before,
        after,
        _verdict(p_value, before, after, kpi.higher_is_better),
        method,
        p_value,
        evidence,
    )
