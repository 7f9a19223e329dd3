"""BG/NBD: how many times will each customer buy again, and is the customer still "alive"?

The beta-geometric / negative binomial distribution model (Fader, Hardie & Lee 2005) for
non-contractual repeat buying: while alive, a customer buys at Poisson rate λ ~ Gamma(r, α);
after each purchase the customer drops out with probability p ~ Beta(a, b). Its four parameters
are fitted by maximum likelihood on the per-customer summary (x, t_x, T) from
:func:`kpitools.models.rfm_summary`; the fitted model predicts future purchases per customer.

Time is in whatever unit the summary uses (weeks for CDNOW: ``time_unit="D", time_scaler=7``);
``alpha`` and every ``t`` are in that unit.

Examples
--------
>>> m = BgNbd.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
>>> round(float(m.expected_purchases_new_customer(39)[0]), 3)
1.197
>>> round(float(m.probability_alive(x=2, t_x=30.43, T=38.86)[0]), 3)
0.727
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import betainc, betaln, digamma, expit, gammaln, xlogy

from kpitools._errors import KpitoolsError
from kpitools.models._fit import FitResult, dot, hyp2f1_checked, maximize_loglik
from kpitools.models._validate import as_float_array, check_summary, summary_arrays

__all__ = ["BgNbd", "fit_bgnbd"]

PARAM_NAMES = ("r", "alpha", "a", "b")
#: Shift of b that keeps 2F1 away from its pole at a + b − 1 = 0.
POLE_NUDGE = 1e-7
_MODEL = "BG/NBD"


@dataclass(frozen=True)
class BgNbd:
    """A BG/NBD model with known parameters (fitted by :func:`fit_bgnbd` or given).

    Attributes
    ----------
    r, alpha : float
        Shape and scale of the Gamma distribution of purchase rates (alpha in time units).
    a, b : float
        Beta distribution of the dropout probability after each purchase.
    result : FitResult or None
        Fit diagnostics (params, se, loglik, n_iter, converged, message); None for
        :meth:`from_params`.
    """

    r: float
    alpha: float
    a: float
    b: float
    result: FitResult | None = None

    @classmethod
    def from_params(cls, r: float, alpha: float, a: float, b: float) -> BgNbd:
        """A model with given (e.g. published) parameters."""
        values = {"r": r, "alpha": alpha, "a": a, "b": b}
        bad = {k: v for k, v in values.items() if not (np.isfinite(v) and v > 0)}
        if bad:
            raise KpitoolsError(
                f"BG/NBD parameters must be positive numbers, got {bad}.\n"
                "Hint: use the parameters printed by fit_bgnbd(...).params."
            )
        return cls(float(r), float(alpha), float(a), float(b))

    # -- fit facts, forwarded for convenience ------------------------------------------------
    @property
    def params(self) -> dict[str, float]:
        """Parameter name -> value."""
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b}

    @property
    def se(self) -> dict[str, float]:
        """Standard errors (NaN when the model was not fitted)."""
        return dict(self.result.se) if self.result else dict.fromkeys(PARAM_NAMES, np.nan)

    @property
    def loglik(self) -> float:
        """Log-likelihood at the estimate (NaN when the model was not fitted)."""
        return self.result.loglik if self.result else np.nan

    @property
    def converged(self) -> bool:
        """Whether the optimiser converged (True for given parameters)."""
        return self.result.converged if self.result else True

    # -- predictions ------------------------------------------------------------------------
    def expected_purchases_new_customer(self, t: object) -> np.ndarray:
        """E[X(t)]: expected purchases of a new customer in ``(0, t]`` (FHL 2005 eq. 9).

        E[X(t)] = (a + b − 1)/(a − 1) · [1 − (α/(α + t))^r · 2F1(r, b; a + b − 1; t/(α + t))]
        """
        t = _nonnegative(t, "t")
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        z = t / (alpha + t)
        # Euler's transformation: (1 − z)^r·2F1(r, b; c; z) = (1 − z)^(a−1)·2F1(c − r, a − 1; c; z)
        # with c = a + b − 1; its first two parameters do not grow with r or b
        b = _off_pole(a, b)
        c = a + b - 1
        f = hyp2f1_checked(c - r, a - 1, c, z, what="expected purchases")
        lead = np.exp((a - 1) * (np.log(alpha) - np.log(alpha + t)))
        # clip the rounding error of 1 − lead·f (about −1e-16) at tiny t
        return _finite(np.maximum(c / (a - 1) * (1 - lead * f), 0.0), "expected purchases")

    def probability_alive(self, x: object, t_x: object, T: object) -> np.ndarray:
        """P(alive | x, t_x, T) (FHL 2005 eq. 13); exactly 1 when x = 0.

        P = 1 / (1 + δ(x > 0) · a/(b + x − 1) · ((α + T)/(α + t_x))^(r + x))
        """
        x, t_x, T = _history(x, t_x, T)
        return expit(-self._log_odds_dead(x, t_x, T))

    def conditional_expected_purchases(
        self, t: object, x: object, t_x: object, T: object
    ) -> np.ndarray:
        """E[Y(t) | x, t_x, T]: expected purchases in ``(T, T + t]`` (FHL 2005 eq. 10).

        E = P(alive) · (a + b + x − 1)/(a − 1) ·
            [1 − ((α + T)/(α + T + t))^(r + x) · 2F1(r + x, b + x; a + b + x − 1; t/(α + T + t))]
        """
        t = _nonnegative(t, "t")
        x, t_x, T = _history(x, t_x, T)
        t, x, t_x, T = np.broadcast_arrays(t, x, t_x, T)
        r, alpha, a = self.r, self.alpha, self.a
        b = _off_pole(a, self.b)
        z = t / (alpha + T + t)
        # Euler's transformation, as in expected_purchases_new_customer: with c = a + b + x − 1,
        # (1 − z)^(r+x)·2F1(r + x, b + x; c; z) = (1 − z)^(a−1)·2F1(a + b − 1 − r, a − 1; c; z),
        # which stays finite for large x where the original series overflows
        f = hyp2f1_checked(a + b - 1 - r, a - 1, a + b + x - 1, z,
                           what="conditional expected purchases")
        lead = np.exp((a - 1) * (np.log(alpha + T) - np.log(alpha + T + t)))
        alive = expit(-self._log_odds_dead(x, t_x, T))
        out = alive * (a + b + x - 1) / (a - 1) * (1 - lead * f)
        return _finite(np.maximum(out, 0.0), "conditional expected purchases")

    def probability_of_n_purchases(self, n: object, t: object) -> np.ndarray:
        """P(X(t) = n) for a new customer (FHL 2005 eq. 8).

        P = B(a, b + n)/B(a, b) · Γ(r + n)/(Γ(r) n!) · q^r p^n
            + δ(n > 0) · B(a + 1, b + n − 1)/B(a, b) · [1 − q^r Σ_{j<n} Γ(r + j)/(Γ(r) j!) p^j]
        with p = t/(α + t) and q = α/(α + t); the bracket equals I_p(n, r).
        """
        n_arr = as_float_array(n, "n")
        if (n_arr < 0).any() or (n_arr != np.round(n_arr)).any():
            raise KpitoolsError("n must be whole numbers >= 0.\nHint: n counts purchases.")
        t = _nonnegative(t, "t")
        n_arr, t = np.broadcast_arrays(n_arr.astype(int), t)
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        p = t / (alpha + t)
        log_qr = r * (np.log(alpha) - np.log(alpha + t))
        first = np.exp(betaln(a, b + n_arr) - betaln(a, b) + gammaln(r + n_arr) - gammaln(r)
                       - gammaln(n_arr + 1) + log_qr + xlogy(n_arr, p))
        # 1 − q^r Σ_{j<n} NB(j) is the negative binomial upper tail P(J >= n) = I_p(n, r), the
        # regularised incomplete beta function; computing it directly avoids cancellation.
        tail = betainc(np.maximum(n_arr, 1), r, p)
        second = np.where(
            n_arr > 0,
            np.exp(betaln(a + 1, b + np.maximum(n_arr, 1) - 1) - betaln(a, b)) * tail,
            0.0,
        )
        return _finite(first + second, "probability of n purchases")

    def expected_cumulative_transactions(self, entry_times: object, t: object) -> np.ndarray:
        """Expected cumulative repeat purchases of a cohort with staggered entry.

        E_total(τ) = Σ_i E[X(max(τ − s_i, 0))], customer i entering at time ``s_i`` (first
        purchase); ``t`` holds the τ values (same unit and origin as ``entry_times``).
        Computed on the distinct entry times, so a million customers cost no more than the
        number of distinct first-purchase days.
        """
        s = as_float_array(entry_times, "entry_times")
        if not np.all(np.isfinite(s)):
            raise KpitoolsError("entry_times has missing values.\nHint: drop them first.")
        tau = _nonnegative(t, "t") if np.all(as_float_array(t, "t") >= 0) else None
        if tau is None:
            raise KpitoolsError("t must be >= 0.\nHint: t is time since the origin.")
        uniq, counts = np.unique(s, return_counts=True)
        age = np.clip(tau.reshape(-1, 1) - uniq.reshape(1, -1), 0, None)
        per = self.expected_purchases_new_customer(age.ravel()).reshape(age.shape)
        return (per * counts).sum(axis=1).reshape(tau.shape)

    def predict(self, summary: pd.DataFrame, t: float) -> pd.DataFrame:
        """``summary`` plus ``p_alive`` and ``expected_purchases`` over the next ``t`` units."""
        cols = summary_arrays(summary, ["frequency", "recency", "T"])
        out = summary.copy()
        out["p_alive"] = self.probability_alive(cols["frequency"], cols["recency"], cols["T"])
        out["expected_purchases"] = self.conditional_expected_purchases(
            t, cols["frequency"], cols["recency"], cols["T"])
        return out

    def _log_odds_dead(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """log of a/(b+x−1)·((α+T)/(α+t_x))^(r+x) for x > 0, −inf for x = 0."""
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        with np.errstate(divide="ignore", invalid="ignore"):
            value = (np.log(a) - np.log(b + x - 1)
                     + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x)))
        return np.where(x > 0, value, -np.inf)


def fit_bgnbd(
    summary: pd.DataFrame,
    *,
    penalizer: float = 0.0,
    weights: object | None = None,
) -> BgNbd:
    """Fit BG/NBD by maximum likelihood on a per-customer summary.

    Log-likelihood per customer (FHL 2005 eq. 6, in logs):
    ln L = ln B(a, b + x) − ln B(a, b) + ln Γ(r + x) − ln Γ(r) + r ln α
           + ln[(α + T)^−(r+x) + δ(x > 0) · a/(b + x − 1) · (α + t_x)^−(r+x)]
    The bracket is evaluated with ``logaddexp``; the optimiser works on log-parameters with the
    analytic gradient (L-BFGS-B, Nelder-Mead fallback).

    Parameters
    ----------
    summary : pandas.DataFrame
        ``frequency``, ``recency``, ``T`` per customer (from :func:`rfm_summary`), or per
        distinct history with a count in ``weights``.
    penalizer : float
        L2 penalty ``penalizer · (r² + α² + a² + b²)`` added to the mean negative
        log-likelihood (the lifetimes convention); 0 = plain MLE.
    weights : array-like, optional
        Number of customers per row (compressed data). Default 1 each.

    Returns
    -------
    BgNbd
        Fitted model; ``.result`` holds params, se, loglik, n_iter, converged, message.

    Raises
    ------
    ModelFitError
        Degenerate summary (no repeat buyers, recency > T, negative values, NaN, < 2 customers).

    Notes
    -----
    Distinct (x, t_x, T) rows are collapsed with counts before fitting, and x-only terms are
    computed once per distinct x, so large summaries fit in a fraction of a second per million
    customers per iteration. Source: Fader, Hardie & Lee (2005), Marketing Science 24(2).
    """
    cols = summary_arrays(summary, ["frequency", "recency", "T"])
    x, tx, T = cols["frequency"], cols["recency"], cols["T"]
    w = np.ones_like(x) if weights is None else as_float_array(weights, "weights")
    if w.shape != x.shape or not np.all(np.isfinite(w)) or (w < 0).any():
        raise KpitoolsError(
            "weights must be one finite number >= 0 per summary row.\n"
            "Hint: pass the customer count of each distinct (frequency, recency, T) row."
        )
    check_summary(x, tx, T, model=_MODEL)
    if not (np.isfinite(penalizer) and penalizer >= 0):
        raise KpitoolsError(f"penalizer must be >= 0, got {penalizer!r}.\nHint: try 0 or 0.001.")
    x, tx, T, w = _compress(x, tx, T, w)
    xu, inv = np.unique(x, return_inverse=True)
    w_x = np.bincount(inv, weights=w)
    n_obs = float(w.sum())
    # customers without repeat purchases (usually the majority) only need log(α + T); the
    # two-term bracket of the likelihood is evaluated for repeat buyers only
    zero = x == 0
    T0, w0 = T[zero], w[zero]
    x1, tx1, T1, w1 = x[~zero], tx[~zero], T[~zero], w[~zero]

    def neg_mean_loglik(z: np.ndarray) -> tuple[float, np.ndarray]:
        r, alpha, a, b = np.exp(z)
        ll_x = (gammaln(r + xu) - gammaln(r) + r * np.log(alpha)
                + betaln(a, b + xu) - betaln(a, b))
        l_T0 = np.log(alpha + T0)
        l_T = np.log(alpha + T1)
        l_tx = np.log(alpha + tx1)
        bx1 = b + x1 - 1
        l3 = -(r + x1) * l_T
        l4 = np.log(a) - np.log(bx1) - (r + x1) * l_tx
        lse = np.logaddexp(l3, l4)
        s4 = np.exp(l4 - lse)
        s3 = 1 - s4
        total = dot(w_x, ll_x) + dot(w1, lse) - r * dot(w0, l_T0)
        d_r = (dot(w_x, digamma(r + xu) - digamma(r) + np.log(alpha))
               - dot(w1, s3 * l_T + s4 * l_tx) - dot(w0, l_T0))
        d_alpha = (n_obs * r / alpha
                   - dot(w1, (r + x1) * (s3 / (alpha + T1) + s4 / (alpha + tx1)))
                   - r * dot(w0, 1 / (alpha + T0)))
        d_a = dot(w_x, digamma(a + b) - digamma(a + b + xu)) + dot(w1, s4) / a
        d_b = (dot(w_x, digamma(b + xu) + digamma(a + b) - digamma(b) - digamma(a + b + xu))
               - dot(w1, s4 / bx1))
        theta = np.array([r, alpha, a, b])
        grad = np.array([d_r, d_alpha, d_a, d_b]) * theta
        value = -total / n_obs + penalizer * float(theta @ theta)
        grad = -grad / n_obs + penalizer * 2 * theta * theta
        return value, grad

    z0 = np.log([1.0, max(float(np.average(T, weights=w)), 1e-3), 1.0, 1.0])
    z, n_iter, converged, message, se = maximize_loglik(
        PARAM_NAMES, neg_mean_loglik, z0, n_obs, model=_MODEL)
    theta = np.exp(z)
    loglik = -(neg_mean_loglik(z)[0] - penalizer * float(theta @ theta)) * n_obs
    result = FitResult(
        params=dict(zip(PARAM_NAMES, theta.tolist(), strict=True)),
        se=dict(zip(PARAM_NAMES, se.tolist(), strict=True)),
        loglik=float(loglik), n_iter=n_iter, converged=converged, message=message,
        n_obs=round(n_obs), penalizer=float(penalizer),
        diagnostics={"distinct_histories": len(x)},
    )
    return BgNbd(*theta.tolist(), result=result)


def _compress(
    x: np.ndarray, tx: np.ndarray, T: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Collapse identical (x, t_x, T) rows into one row with the summed weight (hash grouping)."""
    keep = w > 0
    frame = pd.DataFrame({"x": x[keep], "tx": tx[keep], "T": T[keep], "w": w[keep]})
    grouped = frame.groupby(["x", "tx", "T"], sort=False)["w"].sum().reset_index()
    return (grouped["x"].to_numpy(), grouped["tx"].to_numpy(), grouped["T"].to_numpy(),
            grouped["w"].to_numpy())


def _off_pole(a: float, b: float) -> float:
    """b, nudged by 1e-7 when a + b = 1 exactly (2F1 has a pole at c = 0; E[X(t)] is continuous
    in b, so the nudge changes predictions by about 1e-7)."""
    return b + POLE_NUDGE if abs(a + b - 1) < POLE_NUDGE else b


def _nonnegative(t: object, name: str) -> np.ndarray:
    arr = as_float_array(t, name)
    if not np.all(np.isfinite(arr)) or (arr < 0).any():
        raise KpitoolsError(f"{name} must be finite and >= 0.\nHint: {name} is a time span.")
    return arr


def _history(x: object, t_x: object, T: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x_a, tx_a, T_a = (as_float_array(v, n) for v, n in ((x, "x"), (t_x, "t_x"), (T, "T")))
    x_a, tx_a, T_a = np.broadcast_arrays(x_a, tx_a, T_a)
    check_summary(x_a, tx_a, T_a, model=_MODEL, min_customers=1, need_repeat_buyers=False)
    return x_a, tx_a, T_a


def _finite(values: np.ndarray, what: str) -> np.ndarray:
    if not np.all(np.isfinite(values)):
        raise KpitoolsError(
            f"{what}: the result is not finite for some inputs.\n"
            "Hint: the model parameters are extreme (e.g. a close to 1); refit with a penalizer."
        )
    return values
