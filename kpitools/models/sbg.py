"""Shifted-beta-geometric (sBG): project how a cohort of subscribers keeps renewing.

In a contractual business each customer renews at the end of every period until they cancel.
Each customer has a constant churn probability θ per period, and θ varies across customers as
Beta(α, β). Because the customers most likely to churn leave first, the cohort's retention rate
rises over time — the pattern a single average churn rate misses (Fader & Hardie 2007).

Data conventions
----------------
* **Cohort counts**: ``alive = [n_0, n_1, …, n_k]``, the number of customers still active at the
  start of periods 0…k (``n_0`` = cohort size).
* **Per customer**: ``recency`` = the period in which the customer churned (1 = did not renew
  after the first period); ``recency == T`` means still active after ``T − 1`` renewals
  (censored). This is the layout of ``sbg_cohorts.csv`` (pymc-marketing).

Examples
--------
>>> m = fit_sbg_cohort([1000, 631, 468, 382, 326, 289, 262, 241])
>>> round(m.alpha, 3), round(m.beta, 3)
(0.704, 1.182)
>>> round(float(m.survival(12)[0]), 3)
0.17
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import betaln, digamma

from kpitools._engine import TableLike, table, to_pandas
from kpitools._errors import KpitoolsError, ModelFitError
from kpitools.models._fit import FitResult, dot, hyp2f1_checked, maximize_loglik
from kpitools.models._validate import as_float_array, summary_arrays
from kpitools.periods import DAYS_PER_MONTH, MONTHS_PER_YEAR, as_period

__all__ = [
    "ShiftedBetaGeometric",
    "contract_lifetimes",
    "fit_sbg",
    "fit_sbg_cohort",
    "projected_retention",
]

PARAM_NAMES = ("alpha", "beta")
_MODEL = "sBG"
#: Renewal period of the contract data in months (most SMB SaaS contracts renew yearly).
DEFAULT_PERIOD_MONTHS = MONTHS_PER_YEAR
#: Days of slack before a running customer counts as having started another period.
PERIOD_SLACK_DAYS = 15


@dataclass(frozen=True)
class ShiftedBetaGeometric:
    """An sBG retention model with known parameters.

    Attributes
    ----------
    alpha, beta : float
        Beta(α, β) distribution of the per-period churn probability; mean churn α/(α + β).
    result : FitResult or None
        Fit diagnostics; None for :meth:`from_params`.
    """

    alpha: float
    beta: float
    result: FitResult | None = None

    @classmethod
    def from_params(cls, alpha: float, beta: float) -> ShiftedBetaGeometric:
        """A model with given (e.g. published) parameters."""
        if not (np.isfinite(alpha) and alpha > 0 and np.isfinite(beta) and beta > 0):
            raise KpitoolsError(
                f"sBG parameters must be positive numbers, got alpha={alpha!r}, beta={beta!r}.\n"
                "Hint: use the parameters printed by fit_sbg(...).params."
            )
        return cls(float(alpha), float(beta))

    @property
    def params(self) -> dict[str, float]:
        """Parameter name -> value."""
        return {"alpha": self.alpha, "beta": self.beta}

    @property
    def se(self) -> dict[str, float]:
        """Standard errors (NaN when not fitted)."""
        return dict(self.result.se) if self.result else dict.fromkeys(PARAM_NAMES, np.nan)

    @property
    def loglik(self) -> float:
        """Log-likelihood at the estimate (NaN when not fitted)."""
        return self.result.loglik if self.result else np.nan

    def churn_probability(self, t: object) -> np.ndarray:
        """P(T = t): probability that a new customer's last period is period ``t`` (t >= 1).

        P(T = t) = B(α + 1, β + t − 1) / B(α, β)
        """
        t = _periods(t, minimum=1)
        return np.exp(betaln(self.alpha + 1, self.beta + t - 1) - betaln(self.alpha, self.beta))

    def survival(self, t: object) -> np.ndarray:
        """S(t) = P(T > t) = B(α, β + t) / B(α, β): share of a cohort active after t periods."""
        t = _periods(t, minimum=0)
        return np.exp(betaln(self.alpha, self.beta + t) - betaln(self.alpha, self.beta))

    def retention_rate(self, t: object) -> np.ndarray:
        """Renewal rate at the end of period t: r_t = S(t)/S(t−1) = (β+t−1)/(α+β+t−1)."""
        t = _periods(t, minimum=1)
        return (self.beta + t - 1) / (self.alpha + self.beta + t - 1)

    def projection(self, periods: int) -> pd.DataFrame:
        """Projected ``survival`` and ``retention_rate`` for periods 0…``periods``."""
        if int(periods) != periods or periods < 1:
            raise KpitoolsError(f"periods must be a whole number >= 1, got {periods!r}.\n"
                                "Hint: e.g. 12 for a one-year monthly projection.")
        t = np.arange(int(periods) + 1)
        rate = np.concatenate([[np.nan], self.retention_rate(t[1:])])
        return pd.DataFrame({"period": t, "survival": self.survival(t), "retention_rate": rate})

    def discounted_expected_residual_lifetime(
        self, discount_rate: float, *, renewals: object = 0
    ) -> np.ndarray:
        """DERL: expected discounted number of future payments of an active customer.

        For a customer who has renewed ``renewals`` = n − 1 times and is about to decide on
        renewal n (Fader & Hardie 2010, eq. 6):
        DERL = (β + n − 1)/(α + β + n − 1) · 2F1(1, β + n; α + β + n; 1/(1 + d)),
        counting the imminent payment undiscounted. Multiply by the per-period margin for a
        residual value.
        """
        if not (np.isfinite(discount_rate) and discount_rate > 0):
            raise KpitoolsError(
                f"discount_rate must be > 0 per period, got {discount_rate!r}.\n"
                "Hint: e.g. 0.1 for 10% a year with yearly periods."
            )
        n = _periods(renewals, minimum=0) + 1
        a, b = self.alpha, self.beta
        f = hyp2f1_checked(1.0, b + n, a + b + n, 1 / (1 + discount_rate), what="DERL")
        return (b + n - 1) / (a + b + n - 1) * f


def fit_sbg_cohort(alive: object) -> ShiftedBetaGeometric:
    """Fit sBG on one cohort's active counts ``[n_0, n_1, …, n_k]``.

    ln L = Σ_{t=1..k} (n_{t−1} − n_t) · ln P(T = t) + n_k · ln S(k)

    Raises
    ------
    ModelFitError
        Counts that rise, are negative or not whole; fewer than two periods; no churn at all.

    Notes
    -----
    Source: Fader & Hardie (2007), "How to project customer retention", JIM 21(1), eq. 3–5.
    """
    n = as_float_array(alive, "alive")
    problems = []
    if n.size < 2:
        problems.append("give at least two counts (cohort size and one later period)")
    if not np.all(np.isfinite(n)):
        problems.append("counts contain missing values")
    elif (n < 0).any() or (n != np.round(n)).any():
        problems.append("counts must be whole numbers >= 0")
    elif (np.diff(n) > 0).any():
        problems.append(f"counts rise over time ({n.tolist()}); a cohort can only shrink")
    if problems:
        raise ModelFitError(
            f"{_MODEL}: cannot use alive={n.tolist()}: " + "; ".join(problems) + ".\n"
            "Hint: pass the number of customers of one cohort still active at the start of each "
            "period, e.g. [1000, 631, 468]."
        )
    churned = -np.diff(n)
    censored = np.zeros(churned.size)
    censored[-1] = n[-1]  # still active after k periods: ln S(k)
    return _fit_counts(churned, censored)


def fit_sbg(customers: pd.DataFrame) -> ShiftedBetaGeometric:
    """Fit sBG on per-customer ``recency`` and ``T`` (censored when recency == T).

    ln L = Σ_churned ln P(T = recency) + Σ_active ln S(T − 1)

    Parameters
    ----------
    customers : pandas.DataFrame
        Columns ``recency`` and ``T`` in whole periods (see the module's data conventions), e.g.
        from :func:`kpitools.models.clv.contract_lifetimes`.

    Notes
    -----
    Source: Fader & Hardie (2007); per-customer form as in pymc-marketing's ShiftedBetaGeoModel.
    """
    cols = summary_arrays(customers, ["recency", "T"])
    rec, T = cols["recency"], cols["T"]
    bad = (~np.isfinite(rec) | ~np.isfinite(T) | (rec < 1) | (rec > T)
           | (rec != np.round(rec)) | (np.round(T) != T))
    if bad.any() or rec.size < 2:
        what = (f"{int(bad.sum())} row(s) where recency is not a whole period between 1 and T"
                if bad.any() else f"only {rec.size} customer(s)")
        raise ModelFitError(
            f"{_MODEL}: {what}.\n"
            "Hint: recency = the period in which the customer churned (1, 2, …), or recency = T "
            "for customers still active; build it with contract_lifetimes(contracts)."
        )
    alive = rec == T
    k = int(T.max())
    churned = np.bincount(rec[~alive].astype(int), minlength=k + 1)[1:].astype(float)
    censored = np.bincount((T[alive] - 1).astype(int), minlength=k + 1)[1:].astype(float)
    # censored[s − 1] counts customers known to be active after s renewals: ln S(s);
    # customers censored at S(0) carry no information and are dropped.
    return _fit_counts(churned, censored)


def _fit_counts(churned: np.ndarray, censored: np.ndarray) -> ShiftedBetaGeometric:
    """MLE from churn counts at t = 1..K and censored counts at S(1..K)."""
    t = np.arange(1, churned.size + 1, dtype=float)
    survivors_past_one = churned[1:].sum() + censored.sum()
    if churned.sum() == 0:
        raise ModelFitError(
            f"{_MODEL}: no customer churned, so the churn distribution cannot be estimated.\n"
            "Hint: wait for more renewal periods, or report the observed retention (100%)."
        )
    if survivors_past_one == 0:
        raise ModelFitError(
            f"{_MODEL}: every customer churned after the first period; there is no renewal "
            "behaviour to project.\nHint: check the contract dates and the period length."
        )
    n_obs = float(churned.sum() + censored.sum())

    def neg_mean_loglik(z: np.ndarray) -> tuple[float, np.ndarray]:
        a, b = np.exp(z)
        base = betaln(a, b)
        log_p = betaln(a + 1, b + t - 1) - base
        log_s = betaln(a, b + t) - base
        d_base_a = digamma(a) - digamma(a + b)
        d_base_b = digamma(b) - digamma(a + b)
        dp_a = digamma(a + 1) - digamma(a + b + t) - d_base_a
        dp_b = digamma(b + t - 1) - digamma(a + b + t) - d_base_b
        ds_a = digamma(a) - digamma(a + b + t) - d_base_a
        ds_b = digamma(b + t) - digamma(a + b + t) - d_base_b
        ll = dot(churned, log_p) + dot(censored, log_s)
        grad = np.array([dot(churned, dp_a) + dot(censored, ds_a),
                         dot(churned, dp_b) + dot(censored, ds_b)])
        return -ll / n_obs, -grad * np.array([a, b]) / n_obs

    z, n_iter, converged, message, se = maximize_loglik(
        PARAM_NAMES, neg_mean_loglik, np.zeros(2), n_obs, model=_MODEL)
    theta = np.exp(z)
    result = FitResult(
        params=dict(zip(PARAM_NAMES, theta.tolist(), strict=True)),
        se=dict(zip(PARAM_NAMES, se.tolist(), strict=True)),
        loglik=float(-neg_mean_loglik(z)[0] * n_obs), n_iter=n_iter, converged=converged,
        message=message, n_obs=round(n_obs),
        diagnostics={"churned": churned.tolist(), "censored": censored.tolist()},
    )
    return ShiftedBetaGeometric(*theta.tolist(), result=result)


def _periods(t: object, *, minimum: int) -> np.ndarray:
    arr = as_float_array(t, "t")
    if not np.all(np.isfinite(arr)) or (arr < minimum).any():
        raise KpitoolsError(
            f"periods must be numbers >= {minimum}, got {arr[:5].tolist()}.\n"
            "Hint: count periods from the start of the contract (0 = start)."
        )
    return arr


def contract_lifetimes(
    contracts: TableLike,
    period: str | None = None,
    *,
    period_months: int = DEFAULT_PERIOD_MONTHS,
) -> pd.DataFrame:
    """Per-customer renewal history in whole periods, the input of :func:`fit_sbg`.

    A customer's life runs from their first contract's ``start_date`` to their last
    ``end_date`` (inclusive; gaps between contracts are ignored). Observed on day ``obs`` = the
    last day of ``period`` (default: the latest ``start_date`` in the table):

    * churned (last end_date < obs): ``recency`` = round(covered days ÷ period days), at least
      1; ``T`` = max(periods started by obs, recency + 1);
    * active: ``recency = T`` = the number of periods started by ``obs``, counting a period
      once more than ``PERIOD_SLACK_DAYS`` of it have passed.

    Returns
    -------
    pandas.DataFrame
        ``customer_id, recency, T, churned`` (periods of ``period_months`` months).
    """
    if int(period_months) != period_months or period_months < 1:
        raise KpitoolsError(f"period_months must be a whole number >= 1, got {period_months!r}."
                            "\nHint: 12 for yearly renewals, 1 for monthly.")
    t = table(contracts, "contracts", ["customer_id", "start_date", "end_date"])
    p = as_period(period)
    obs = pd.Timestamp(t.start_date.max().to_pandas()) if p is None else p.last_day
    if obs is pd.NaT or pd.isna(obs):
        raise ModelFitError("contracts: the table is empty.\nHint: check the contracts file.")
    t = t.filter(t.start_date.cast("timestamp").date() <= obs.date())
    per = to_pandas(t.group_by("customer_id").aggregate(
        first_start=t.start_date.min(), last_end=t.end_date.max()))
    if per.empty:
        raise ModelFitError(
            f"contracts: no contract started on or before {obs.date()}.\n"
            "Hint: choose a later period."
        )
    first = pd.to_datetime(per["first_start"])
    last = pd.to_datetime(per["last_end"])
    period_days = period_months * DAYS_PER_MONTH
    churned = (last < obs).to_numpy()
    covered = ((last.where(churned, obs) - first).dt.days + 1).to_numpy(dtype=float)
    elapsed = ((obs - first).dt.days + 1).to_numpy(dtype=float)
    started = np.maximum(np.ceil((elapsed - PERIOD_SLACK_DAYS) / period_days), 1)
    lived = np.maximum(np.round(covered / period_days), 1)
    recency = np.where(churned, lived, started)
    T = np.where(churned, np.maximum(started, lived + 1), started)
    out = pd.DataFrame({"customer_id": per["customer_id"], "recency": recency.astype("int64"),
                        "T": T.astype("int64"), "churned": churned})
    return out.sort_values("customer_id", kind="stable").reset_index(drop=True)


def projected_retention(
    contracts: TableLike,
    period: str | None = None,
    *,
    horizon_months: int = MONTHS_PER_YEAR,
    period_months: int = DEFAULT_PERIOD_MONTHS,
) -> float:
    """Projected share of a new cohort still active after ``horizon_months`` (sBG model).

    Formula: S(h) = B(α, β + h) ÷ B(α, β) with h = horizon_months ÷ period_months and (α, β)
    fitted by :func:`fit_sbg` on :func:`contract_lifetimes`. Unit: rate in [0, 1]. Period
    convention: contracts observed up to the period's last day. Raises ModelFitError when no
    customer churned or no one reached a renewal. Source: Fader & Hardie (2007).

    Examples
    --------
    >>> contracts = pd.DataFrame({"customer_id": ["a", "b", "c", "c", "d"],
    ...     "start_date": pd.to_datetime(["2022-01-01", "2022-03-01", "2022-02-01",
    ...                                   "2023-02-01", "2023-05-01"]),
    ...     "end_date": pd.to_datetime(["2022-12-31", "2024-02-29", "2023-01-31",
    ...                                 "2025-01-31", "2024-04-30"])})
    >>> 0 < projected_retention(contracts, "2024Q4") < 1
    True
    """
    if horizon_months % period_months:
        raise KpitoolsError(
            f"horizon_months ({horizon_months}) must be a multiple of period_months "
            f"({period_months}).\nHint: e.g. horizon_months=24 with yearly periods."
        )
    model = fit_sbg(contract_lifetimes(contracts, period, period_months=period_months))
    return float(model.survival(horizon_months // period_months)[0])
