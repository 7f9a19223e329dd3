"""Maximum-likelihood machinery shared by the models: optimiser, Hessian, result object.

Every model maximises a log-likelihood over the logarithms of its (positive) parameters, so the
optimiser never steps outside the parameter space. BFGS with the model's analytic gradient does
the work; if it fails or runs off to an extreme value, L-BFGS-B retries inside ±LOG_BOUND, and as
a last resort Nelder-Mead restarts from where that stopped and L-BFGS-B polishes once more.
Standard errors come from a finite-difference Hessian of the analytic gradient in log space,
mapped back with the delta method (se(θ) = θ · se(log θ)).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize

from kpitools._errors import ModelFitError

__all__ = ["FitResult", "dot", "hyp2f1_checked", "maximize_loglik"]

#: Gradient tolerance of L-BFGS-B on the per-customer mean negative log-likelihood.
GRADIENT_TOL = 1e-10
#: Gradient tolerance of BFGS (first choice: no bounds are needed on log-parameters, and unlike
#: SciPy's L-BFGS-B it does not stall on OpenBLAS threads on a busy machine).
BFGS_GRADIENT_TOL = 1e-9
MAX_ITER = 2000
#: Largest |gradient| of the mean negative log-likelihood (log space) accepted as converged.
CONVERGED_GRADIENT = 1e-6
#: Relative step of the finite-difference Hessian in log-parameter space.
HESSIAN_STEP = 1e-5
#: log-parameters are kept inside ±LOG_BOUND (parameters between about 1e-9 and 1e9).
LOG_BOUND = 20.0
#: A parameter beyond e^±LOG_EXTREME (about 1e-6 … 1e6) means the data did not identify it.
LOG_EXTREME = 13.8


def dot(a: np.ndarray, b: np.ndarray) -> float:
    """Σ a_i·b_i without BLAS.

    ``a @ b`` on 1-D arrays goes to OpenBLAS, whose worker threads spin on a busy 2-core machine
    and made the CDNOW fit 8× slower in wall time; ``einsum`` sums in a single thread.
    """
    return float(np.einsum("i,i->", a, b))


@dataclass(frozen=True)
class FitResult:
    """Outcome of a maximum-likelihood fit.

    Attributes
    ----------
    params : dict
        Parameter name -> estimate.
    se : dict
        Parameter name -> standard error from the observed information (NaN if the Hessian is
        not positive definite; ``message`` then says so).
    loglik : float
        Log-likelihood at the estimate (without the penalty), summed over customers.
    n_iter : int
        Optimiser iterations (all stages).
    converged : bool
        True when the gradient test passed.
    message : str
        What the optimiser reported, plus any diagnostic notes.
    n_obs : int
        Number of customers (sum of weights) the model was fitted on.
    penalizer : float
        L2 penalty coefficient used.
    diagnostics : dict
        Model-specific extra facts (e.g. frequency/monetary correlation for Gamma-Gamma).
    """

    params: Mapping[str, float]
    se: Mapping[str, float]
    loglik: float
    n_iter: int
    converged: bool
    message: str
    n_obs: int
    penalizer: float = 0.0
    diagnostics: Mapping[str, object] = field(default_factory=dict)

    @property
    def aic(self) -> float:
        """Akaike information criterion, 2k − 2·loglik."""
        return 2 * len(self.params) - 2 * self.loglik


def maximize_loglik(
    names: tuple[str, ...],
    neg_mean_loglik: Callable[[np.ndarray], tuple[float, np.ndarray]],
    x0: np.ndarray,
    n_obs: float,
    *,
    model: str,
) -> tuple[np.ndarray, int, bool, str, np.ndarray]:
    """Minimise ``neg_mean_loglik`` (value, gradient in log space) from ``x0``.

    Returns the log-parameters, iteration count, convergence flag, message and the
    standard errors of the **natural** parameters.
    """

    def safe(z: np.ndarray) -> tuple[float, np.ndarray]:
        with np.errstate(all="ignore"):
            value, grad = neg_mean_loglik(z)
        if not np.isfinite(value) or not np.all(np.isfinite(grad)):
            return 1e300, np.zeros_like(z)
        return value, grad

    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(names)
    lbfgs_options = {"maxiter": MAX_ITER, "gtol": GRADIENT_TOL, "ftol": 1e-15}
    res = optimize.minimize(safe, x0, jac=True, method="BFGS",
                            options={"maxiter": MAX_ITER, "gtol": BFGS_GRADIENT_TOL})
    n_iter = int(res.nit)
    message = f"BFGS: {res.message}"
    if not _usable(res, safe):
        res = optimize.minimize(safe, x0, jac=True, method="L-BFGS-B", bounds=bounds,
                                options=lbfgs_options)
        n_iter += int(res.nit)
        message = f"BFGS failed, L-BFGS-B: {res.message}"
    if not _usable(res, safe):
        nm = optimize.minimize(lambda z: safe(z)[0], res.x if np.isfinite(res.fun) else x0,
                               method="Nelder-Mead",
                               options={"maxiter": MAX_ITER * 5, "xatol": 1e-10, "fatol": 1e-14})
        res = optimize.minimize(safe, np.clip(nm.x, -LOG_BOUND, LOG_BOUND), jac=True,
                                method="L-BFGS-B", bounds=bounds, options=lbfgs_options)
        n_iter += int(nm.nit) + int(res.nit)
        message = f"BFGS and L-BFGS-B failed, Nelder-Mead then L-BFGS-B: {res.message}"
    if not np.isfinite(res.fun) or res.fun >= 1e299:
        raise ModelFitError(
            f"the {model} likelihood could not be evaluated anywhere the optimiser looked.\n"
            "Hint: check the summary for extreme values (e.g. T in days vs weeks) or add a "
            "small penalizer (e.g. penalizer=0.001)."
        )
    grad = safe(res.x)[1]
    converged = bool(np.max(np.abs(grad)) < CONVERGED_GRADIENT)
    extreme = np.abs(res.x) >= LOG_EXTREME
    if extreme.any():
        converged = False
        hit = [n for n, b in zip(names, extreme, strict=True) if b]
        message += (f"; parameter(s) {hit} ran off to an extreme value (the data cannot pin "
                    "them down; fit with a small penalizer, e.g. 0.01)")
    se = _standard_errors(safe, res.x, n_obs)
    if not np.all(np.isfinite(se)):
        message += "; Hessian not positive definite, standard errors unavailable"
    return res.x, n_iter, converged, message, se


def _usable(res: optimize.OptimizeResult, fun: Callable) -> bool:
    """The optimiser ended at a finite optimum inside the search range.

    BFGS often reports "precision loss" at an optimum it has reached; a near-zero gradient is
    accepted as success then.
    """
    if not (np.isfinite(res.fun) and res.fun < 1e299 and np.all(np.abs(res.x) < LOG_BOUND)):
        return False
    return bool(res.success or np.max(np.abs(fun(res.x)[1])) < CONVERGED_GRADIENT)


def _standard_errors(
    fun: Callable[[np.ndarray], tuple[float, np.ndarray]], z: np.ndarray, n_obs: float
) -> np.ndarray:
    k = len(z)
    hess = np.empty((k, k))
    for i in range(k):
        step = np.zeros(k)
        step[i] = HESSIAN_STEP * max(1.0, abs(z[i]))
        hess[i] = (fun(z + step)[1] - fun(z - step)[1]) / (2 * step[i])
    hess = (hess + hess.T) / 2 * n_obs  # mean → total negative log-likelihood
    try:
        cov = np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        return np.full(k, np.nan)
    var = np.diag(cov)
    if not np.all(np.isfinite(var)) or (var <= 0).any():
        return np.full(k, np.nan)
    return np.exp(z) * np.sqrt(var)


def hyp2f1_checked(a: object, b: object, c: object, z: object, *, what: str) -> np.ndarray:
    """Gauss hypergeometric 2F1 (SciPy) with a clear error instead of NaN or inf.

    Callers keep ``0 <= z < 1``, where the series converges; SciPy's transformations handle
    ``z`` near 1. Anything non-finite left over means the parameters are extreme.
    """
    from scipy.special import hyp2f1

    with np.errstate(all="ignore"):
        out = np.asarray(hyp2f1(a, b, c, z), dtype=float)
    if not np.all(np.isfinite(out)):
        raise ModelFitError(
            f"{what}: the hypergeometric function 2F1 overflowed for "
            f"{int(np.sum(~np.isfinite(out)))} value(s).\n"
            "Hint: the parameters or horizons are extreme; shorten the horizon or refit with a "
            "small penalizer."
        )
    return out
