"""Input checks shared by the predictive models: every degenerate input becomes a ModelFitError.

The models work on per-customer summaries (``frequency``, ``recency``, ``T``, ``monetary_value``).
Before a likelihood is evaluated, these checks make sure the numbers describe real customers, so a
user sees one message naming every problem instead of a NaN table or a SciPy traceback.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from kpitools._errors import ModelFitError

__all__ = ["as_float_array", "check_summary", "summary_arrays"]

#: Relative slack when comparing recency with T (the published CDNOW file rounds both to 2 dp).
RECENCY_SLACK = 1e-9

_SUMMARY_HINT = (
    "Hint: build the summary with kpitools.models.rfm_summary(orders, observation_end=...), "
    "which returns frequency, recency, T and monetary_value per customer."
)


def as_float_array(values: object, name: str) -> np.ndarray:
    """``values`` as a 1-D float array, or a ModelFitError naming the argument."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ModelFitError(
            f"'{name}' must be numbers, got {type(values).__name__}.\n"
            "Hint: pass a number, a list of numbers or a numeric column."
        ) from exc
    return np.atleast_1d(arr)


def summary_arrays(summary: pd.DataFrame, columns: Iterable[str]) -> dict[str, np.ndarray]:
    """Take ``columns`` from a summary frame as float arrays (missing column: ModelFitError)."""
    if not isinstance(summary, pd.DataFrame):
        raise ModelFitError(
            f"expected the customer summary as a pandas DataFrame, got {type(summary).__name__}.\n"
            + _SUMMARY_HINT
        )
    columns = list(columns)
    missing = [c for c in columns if c not in summary.columns]
    if missing:
        raise ModelFitError(
            f"the customer summary lacks column(s) {missing}. "
            f"Columns present: {list(summary.columns)}.\n" + _SUMMARY_HINT
        )
    return {c: pd.to_numeric(summary[c], errors="coerce").to_numpy(dtype=float) for c in columns}


def check_summary(
    frequency: np.ndarray,
    recency: np.ndarray,
    T: np.ndarray,
    monetary_value: np.ndarray | None = None,
    *,
    model: str,
    min_customers: int = 2,
    need_repeat_buyers: bool = True,
) -> None:
    """Raise one ModelFitError listing every problem of a per-customer summary.

    Checks: no missing values, frequency a whole number >= 0, 0 <= recency <= T, T >= 0,
    recency = 0 when frequency = 0, monetary_value > 0 for repeat buyers, enough customers
    and (optionally) at least one repeat buyer.
    """
    problems: list[str] = []
    hints: list[str] = []
    arrays = {"frequency": frequency, "recency": recency, "T": T}
    if monetary_value is not None:
        arrays["monetary_value"] = monetary_value
    for name, arr in arrays.items():
        bad = ~np.isfinite(arr)
        if bad.any():
            problems.append(f"{name}: {int(bad.sum())} missing or infinite value(s)")
            hints.append("drop or fill customers with missing values before fitting.")
    ok = np.isfinite(frequency) & np.isfinite(recency) & np.isfinite(T)
    f, r, t = frequency[ok], recency[ok], T[ok]
    for name, arr in (("frequency", f), ("recency", r)):
        neg = arr < 0
        if neg.any():
            problems.append(
                f"{name}: {int(neg.sum())} negative value(s), e.g. {arr[neg][:3].tolist()}")
            hints.append("counts and durations cannot be negative; check the order dates.")
    if (t < 0).any():
        problems.append(f"T: {int((t < 0).sum())} negative value(s) (first purchase after the "
                        "end of the observation window)")
        hints.append("observation_end must be on or after each customer's first purchase.")
    if (np.abs(f - np.round(f)) > 0).any():
        problems.append("frequency: some values are not whole numbers (purchases are counts)")
        hints.append("frequency counts repeat purchase occasions; do not average or scale it.")
    late = r > t * (1 + RECENCY_SLACK) + RECENCY_SLACK
    if late.any():
        problems.append(
            f"recency > T for {int(late.sum())} customer(s) "
            f"(e.g. recency {r[late][:3].tolist()} vs T {t[late][:3].tolist()})"
        )
        hints.append("recency (time of the last purchase) cannot exceed the observation length "
                     "T; use the same observation_end and time unit for both.")
    stray = (f == 0) & (r > 0)
    if stray.any():
        problems.append(f"{int(stray.sum())} customer(s) with frequency 0 but recency > 0")
        hints.append("a customer without repeat purchases has recency 0 by definition.")
    if monetary_value is not None:
        m = monetary_value[ok]
        bad_m = (f > 0) & np.isfinite(m) & (m <= 0)
        if bad_m.any():
            problems.append(f"monetary_value: {int(bad_m.sum())} repeat buyer(s) with a value <= 0")
            hints.append("Gamma-Gamma needs a positive average spend; drop refunds or zero orders.")
    n = int(ok.sum())
    if n < min_customers:
        problems.append(
            f"only {n} usable customer(s); the {model} model needs at least {min_customers}")
        hints.append("fit the model on the whole customer base, not on one customer.")
    if need_repeat_buyers and n and not (f > 0).any():
        problems.append("no customer made a repeat purchase (every frequency is 0)")
        hints.append("use a longer observation window; the model learns purchase rates from repeat "
                     "purchases.")
    if problems:
        body = "\n".join(f"  - {p}" for p in problems)
        hint_text = " ".join(dict.fromkeys(hints))
        raise ModelFitError(
            f"{model}: {len(problems)} problem(s) in the customer summary\n"
            f"{body}\nHint: {hint_text}"
        )
