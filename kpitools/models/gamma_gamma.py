"""Gamma-Gamma: how much will each customer spend per purchase?

Each purchase amount of a customer is Gamma(p, ν); across customers ν ~ Gamma(q, γ). The model is
fitted on repeat buyers only (x > 0, zbar = their mean repeat spend) and shrinks each customer's
observed average towards the population mean, more so when the customer bought few times.

The model assumes that how often a customer buys tells nothing about how much they spend. When
frequency and average spend are clearly correlated (|Pearson r| > 0.3) the fit still runs but
warns with :class:`FrequencyMonetaryCorrelationWarning`, and the correlation is always reported in
``result.diagnostics["frequency_monetary_corr"]``.

Examples
--------
>>> gg = GammaGamma.from_params(p=6.25, q=3.74, gamma=15.44)
>>> round(gg.population_mean_spend, 2)
35.22
>>> round(float(gg.conditional_expected_spend(2, 22.35)[0]), 2)
24.66
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln

from kpitools._errors import KpitoolsError, ModelFitError
from kpitools.models._fit import FitResult, dot, maximize_loglik
from kpitools.models._validate import as_float_array, check_summary, summary_arrays

__all__ = ["FrequencyMonetaryCorrelationWarning", "GammaGamma", "fit_gamma_gamma"]

PARAM_NAMES = ("p", "q", "gamma")
#: |Pearson r| between frequency and monetary value above which the fit warns.
CORRELATION_WARN = 0.3
_MODEL = "Gamma-Gamma"


class FrequencyMonetaryCorrelationWarning(UserWarning):
    """Frequency and average spend are correlated, against the Gamma-Gamma assumption."""


@dataclass(frozen=True)
class GammaGamma:
    """A Gamma-Gamma spend model with known parameters.

    Attributes
    ----------
    p : float
        Shape of each purchase amount's Gamma distribution.
    q, gamma : float
        Shape and rate of the Gamma distribution of ν across customers.
    result : FitResult or None
        Fit diagnostics; None for :meth:`from_params`.
    """

    p: float
    q: float
    gamma: float
    result: FitResult | None = None

    @classmethod
    def from_params(cls, p: float, q: float, gamma: float) -> GammaGamma:
        """A model with given (e.g. published) parameters."""
        values = {"p": p, "q": q, "gamma": gamma}
        bad = {k: v for k, v in values.items() if not (np.isfinite(v) and v > 0)}
        if bad:
            raise KpitoolsError(
                f"Gamma-Gamma parameters must be positive numbers, got {bad}.\n"
                "Hint: use the parameters printed by fit_gamma_gamma(...).params."
            )
        return cls(float(p), float(q), float(gamma))

    @property
    def params(self) -> dict[str, float]:
        """Parameter name -> value."""
        return {"p": self.p, "q": self.q, "gamma": self.gamma}

    @property
    def se(self) -> dict[str, float]:
        """Standard errors (NaN when the model was not fitted)."""
        return dict(self.result.se) if self.result else dict.fromkeys(PARAM_NAMES, np.nan)

    @property
    def loglik(self) -> float:
        """Log-likelihood at the estimate (NaN when not fitted)."""
        return self.result.loglik if self.result else np.nan

    @property
    def population_mean_spend(self) -> float:
        """E[Z] = p·γ/(q − 1), the mean spend per purchase across customers (needs q > 1)."""
        if self.q <= 1:
            raise ModelFitError(
                f"the population mean spend is infinite because q = {self.q:.3f} <= 1.\n"
                "Hint: a few very large average spends dominate; trim outliers or add a "
                "penalizer."
            )
        return self.p * self.gamma / (self.q - 1)

    def conditional_expected_spend(self, frequency: object, monetary_value: object) -> np.ndarray:
        """E[Z | x, zbar] = (p·γ + p·x·zbar) / (p·x + q − 1) (Fader & Hardie 2013, eq. 5).

        For x = 0 this is the population mean p·γ/(q − 1).
        """
        x = as_float_array(frequency, "frequency")
        z = as_float_array(monetary_value, "monetary_value")
        x, z = np.broadcast_arrays(x, z)
        z = np.where(x > 0, z, 0.0)
        check_summary(x, np.zeros_like(x), np.ones_like(x), z, model=_MODEL,
                      min_customers=1, need_repeat_buyers=False)
        if self.q <= 1 and (x == 0).any():
            _ = self.population_mean_spend  # raises with the explanation
        return (self.p * self.gamma + self.p * x * z) / (self.p * x + self.q - 1)


def fit_gamma_gamma(summary: pd.DataFrame, *, penalizer: float = 0.0) -> GammaGamma:
    """Fit Gamma-Gamma by maximum likelihood on the repeat buyers of a summary.

    Log-likelihood per repeat buyer (x > 0, zbar = mean repeat spend):
    ln L = ln Γ(px + q) − ln Γ(px) − ln Γ(q) + q ln γ + (px − 1) ln zbar + px ln x
           − (px + q) ln(γ + x·zbar)

    Parameters
    ----------
    summary : pandas.DataFrame
        ``frequency`` and ``monetary_value`` per customer (rows with frequency 0 are skipped).
    penalizer : float
        L2 penalty ``penalizer · (p² + q² + γ²)`` on the mean negative log-likelihood.

    Returns
    -------
    GammaGamma
        ``.result.diagnostics`` has ``frequency_monetary_corr`` and ``n_repeat_buyers``.

    Warns
    -----
    FrequencyMonetaryCorrelationWarning
        When |corr(frequency, monetary_value)| among repeat buyers exceeds 0.3.

    Notes
    -----
    Source: Fader & Hardie (2013), "The Gamma-Gamma model of monetary value"; Fader, Hardie &
    Lee (2005), JMR 42(4).
    """
    cols = summary_arrays(summary, ["frequency", "monetary_value"])
    x_all, z_all = cols["frequency"], cols["monetary_value"]
    finite = np.isfinite(x_all)
    check_summary(x_all, np.zeros_like(x_all), np.ones_like(x_all),
                  np.where(finite & (x_all > 0), z_all, 1.0), model=_MODEL)
    if not (np.isfinite(penalizer) and penalizer >= 0):
        raise KpitoolsError(f"penalizer must be >= 0, got {penalizer!r}.\nHint: try 0 or 0.001.")
    buyers = x_all > 0
    x, z = x_all[buyers], z_all[buyers]
    if len(x) < 2:
        raise ModelFitError(
            f"{_MODEL}: only {len(x)} repeat buyer(s); the model needs at least 2.\n"
            "Hint: use a longer observation window, or use the average order value instead."
        )
    corr = _correlation(x, z)
    n = float(len(x))
    # terms that depend on x only are computed once per distinct x and weighted by its count
    xu, inv = np.unique(x, return_inverse=True)
    count_x = np.bincount(inv).astype(float)
    sum_log_z = float(np.log(z).sum())
    sum_x_log_xz = dot(x, np.log(x) + np.log(z))
    sum_x_log_z = dot(x, np.log(z))
    sum_x_log_x = dot(x, np.log(x))

    def neg_mean_loglik(v: np.ndarray) -> tuple[float, np.ndarray]:
        p, q, g = np.exp(v)
        pxu = p * xu
        log_gz = np.log(g + x * z)
        ll = (dot(count_x, gammaln(pxu + q) - gammaln(pxu)) - n * gammaln(q) + n * q * np.log(g)
              + p * sum_x_log_z - sum_log_z + p * sum_x_log_x
              - (p * dot(x, log_gz) + q * log_gz.sum()))
        d_p = dot(count_x, xu * (digamma(pxu + q) - digamma(pxu))) + sum_x_log_xz - dot(x, log_gz)
        d_q = dot(count_x, digamma(pxu + q)) - n * digamma(q) + n * np.log(g) - log_gz.sum()
        d_g = n * q / g - np.sum((p * x + q) / (g + x * z))
        theta = np.array([p, q, g])
        value = -ll / n + penalizer * float(theta @ theta)
        grad = -np.array([d_p, d_q, d_g]) * theta / n + penalizer * 2 * theta * theta
        return value, grad

    z0 = np.log([1.0, 1.0, max(float(np.mean(z)), 1e-6)])
    v, n_iter, converged, message, se = maximize_loglik(
        PARAM_NAMES, neg_mean_loglik, z0, n, model=_MODEL)
    theta = np.exp(v)
    loglik = -(neg_mean_loglik(v)[0] - penalizer * float(theta @ theta)) * n
    diagnostics = {"frequency_monetary_corr": corr, "n_repeat_buyers": len(x)}
    result = FitResult(
        params=dict(zip(PARAM_NAMES, theta.tolist(), strict=True)),
        se=dict(zip(PARAM_NAMES, se.tolist(), strict=True)),
        loglik=float(loglik), n_iter=n_iter, converged=converged, message=message,
        n_obs=len(x), penalizer=float(penalizer), diagnostics=diagnostics,
    )
    if np.isfinite(corr) and abs(corr) > CORRELATION_WARN:
        warnings.warn(
            f"frequency and average spend of repeat buyers are correlated (r = {corr:.2f}); the "
            "Gamma-Gamma model assumes they are independent, so its spend predictions may be "
            "biased. Consider the observed average order value per segment instead.",
            FrequencyMonetaryCorrelationWarning,
            stacklevel=2,
        )
    return GammaGamma(*theta.tolist(), result=result)


def _correlation(x: np.ndarray, z: np.ndarray) -> float:
    if np.std(x) == 0 or np.std(z) == 0:
        return 0.0
    return float(np.corrcoef(x, z)[0, 1])
