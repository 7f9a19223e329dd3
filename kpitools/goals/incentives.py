"""Incentives: commission plans with tiers, gates, accelerators and caps; multi-KPI bonus plans.

Commission (kpi-definitions.md §4). A plan has tiers ``[(from, rate), ...]`` whose bounds are
currency (``basis="amount"``) or fractions of quota (``basis="attainment"``), and an explicit
``mode`` — the word vendors disagree on most:

``marginal`` (default; Spiff ``mamount``, Sales Cookie "cumulative")
    each tier's rate pays only the amount inside its band, like tax brackets:
    commission = Σ rateₖ × clip(amount − fromₖ, 0, fromₖ₊₁ − fromₖ).
``whole_amount`` (Spiff ``tier_payout``, Xactly "highest rate", Sales Cookie "non-cumulative")
    the rate of the tier reached pays the whole amount: commission = amount × rate(tier). An
    amount exactly on a bound is in the upper tier.

Worked example (Spiff): tiers 0–150k 4 %, 150–250k 8 %, 250k+ 12 %, 220,000 booked → whole
amount 220,000 × 8 % = 17,600; marginal 150,000 × 4 % + 70,000 × 8 % = 11,600.

Then, in this order: ``accelerator=(above, m)`` pays the dollars credited above ``above × quota``
at ``m`` times the rate they earned; ``decelerator=(below, m)`` multiplies the payout by ``m`` when
attainment is under ``below``; ``threshold`` (a gate) pays nothing under that attainment; ``cap``
limits the payout (currency). Attainment = bookings ÷ quota.

Bonus on several KPIs: payout = target bonus × Σ wᵢ × scoreᵢ with Σ wᵢ = 1 and
scoreᵢ = 0 below the measure's threshold, else min(attainmentᵢ, capᵢ) (codingace / Xactly quota
relationships, §4). OKR grades are refused as pay measures: see :func:`okr_pay_caution`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd

from kpitools._engine import in_period, table, to_pandas
from kpitools._errors import KpitoolsError, PeriodError
from kpitools.goals.model import text
from kpitools.periods import Period, parse_period

__all__ = [
    "BASES",
    "MODES",
    "BonusPlan",
    "CommissionPlan",
    "Measure",
    "bonus",
    "bonus_table",
    "commission",
    "okr_pay_caution",
    "payout_table",
]

MODES = ("marginal", "whole_amount")
BASES = ("amount", "attainment")
#: Default per-measure attainment cap in a bonus plan (150 %).
DEFAULT_MEASURE_CAP = 1.5
_WEIGHT_TOL = 1e-9


def okr_pay_caution(lang: str = "zh-TW") -> str:
    """Why OKR grades should not set pay (Google re:Work; kpi-definitions.md §3.4)."""
    return text("okr.pay_caution", lang)


@dataclass(frozen=True)
class CommissionPlan:
    """A commission plan; see the module docstring for the formulas.

    Parameters
    ----------
    tiers : sequence of (from, rate)
        Lower bound of each tier (the first must be 0) and its rate as a fraction (0.04 = 4 %).
    mode : {"marginal", "whole_amount"}
    basis : {"amount", "attainment"}
        Whether tier bounds are currency or fractions of quota (1.0 = 100 %).
    threshold : float
        Attainment gate; nothing is paid below it (0 = no gate).
    accelerator, decelerator : (attainment, multiplier), optional
    cap : float, optional
        Maximum payout in currency.
    """

    tiers: Sequence[tuple[float, float]]
    mode: str = "marginal"
    basis: str = "amount"
    threshold: float = 0.0
    accelerator: tuple[float, float] | None = None
    decelerator: tuple[float, float] | None = None
    cap: float | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise KpitoolsError(f"unknown commission mode {self.mode!r}.\nHint: use 'marginal' "
                                "(each rate pays its own band) or 'whole_amount' (the tier reached "
                                "pays everything).")
        if self.basis not in BASES:
            raise KpitoolsError(f"unknown tier basis {self.basis!r}.\nHint: use 'amount' "
                                "(bounds in currency) or 'attainment' (bounds as share of quota).")
        bounds = [float(b) for b, _ in self.tiers]
        if not bounds or bounds[0] != 0:
            raise KpitoolsError(f"the first tier must start at 0, got {self.tiers!r}.\n"
                                "Hint: tiers=[(0, 0.04), (150_000, 0.06), (250_000, 0.08)].")
        if any(b2 <= b1 for b1, b2 in pairwise(bounds)):
            raise KpitoolsError(f"tier bounds must increase, got {bounds}.\n"
                                "Hint: list tiers from the lowest bound up.")
        if any(r < 0 for _, r in self.tiers):
            raise KpitoolsError("tier rates must not be negative.\n"
                                "Hint: write rates as fractions, 0.04 for 4 %.")

    @property
    def needs_quota(self) -> bool:
        return (self.basis == "attainment" or self.threshold > 0 or self.accelerator is not None
                or self.decelerator is not None)


def _bounds(plan: CommissionPlan, quota: np.ndarray) -> np.ndarray:
    """Tier lower bounds in currency, one row per payee."""
    lows = np.array([b for b, _ in plan.tiers], dtype="float64")
    return quota[:, None] * lows[None, :] if plan.basis == "attainment" else np.broadcast_to(
        lows, (quota.size, lows.size))


def _raw(amount: np.ndarray, lows: np.ndarray, rates: np.ndarray, mode: str) -> np.ndarray:
    if mode == "marginal":
        highs = np.concatenate([lows[:, 1:], np.full((lows.shape[0], 1), np.inf)], axis=1)
        band = np.clip(amount[:, None] - lows, 0.0, highs - lows)
        return (band * rates[None, :]).sum(axis=1)
    return amount * _rate_reached(amount, lows, rates)


def _rate_reached(amount: np.ndarray, lows: np.ndarray, rates: np.ndarray) -> np.ndarray:
    index = (amount[:, None] >= lows).sum(axis=1) - 1
    return rates[np.clip(index, 0, rates.size - 1)]


def _commissions(plan: CommissionPlan, amount: np.ndarray, quota: np.ndarray) -> np.ndarray:
    amount = np.clip(amount.astype("float64"), 0.0, None)
    quota = quota.astype("float64")
    rates = np.array([r for _, r in plan.tiers], dtype="float64")
    lows = _bounds(plan, quota)
    pay = _raw(amount, lows, rates, plan.mode)
    with np.errstate(divide="ignore", invalid="ignore"):
        att = np.where(quota > 0, amount / quota, np.nan)
    if plan.accelerator is not None:
        above, mult = plan.accelerator
        edge = np.minimum(amount, above * quota)
        if plan.mode == "marginal":
            above_pay = pay - _raw(edge, lows, rates, "marginal")
        else:
            above_pay = _rate_reached(amount, lows, rates) * (amount - edge)
        pay = pay + (mult - 1.0) * above_pay
    if plan.decelerator is not None:
        below, mult = plan.decelerator
        pay = np.where(att < below, pay * mult, pay)
    if plan.threshold > 0:
        pay = np.where(att < plan.threshold, 0.0, pay)
    if plan.cap is not None:
        pay = np.minimum(pay, plan.cap)
    if plan.needs_quota:
        pay = np.where(np.isnan(quota) | (quota <= 0), np.nan, pay)
    return pay


def commission(amount: float, plan: CommissionPlan, quota: float | None = None) -> float:
    """Commission on ``amount`` credited in the period under ``plan``.

    ``quota`` is needed for attainment tiers, a threshold, an accelerator or a decelerator.

    Examples
    --------
    >>> spiff = [(0, 0.04), (150_000, 0.08), (250_000, 0.12)]
    >>> commission(220_000, CommissionPlan(spiff, mode="whole_amount"))
    17600.0
    >>> round(commission(220_000, CommissionPlan(spiff, mode="marginal")), 2)
    11600.0
    """
    if plan.needs_quota and (quota is None or not quota > 0):
        raise KpitoolsError("this plan needs a positive quota (attainment tiers, threshold, "
                            f"accelerator or decelerator), got quota={quota!r}.\n"
                            "Hint: pass quota=<the payee's quota for the period>.")
    q = np.array([math.nan if quota is None else float(quota)])
    return float(_commissions(plan, np.array([float(amount)]), q)[0])


def _quota_for(quotas: Any, period: Period) -> pd.DataFrame:
    q = to_pandas(table(quotas, "quotas", ["owner", "period", "quota"])
                  .select("owner", "period", "quota"))
    labels = {}
    for value in q["period"].dropna().unique():
        try:
            labels[value] = parse_period(str(value),
                                         fiscal_year_start_month=period.fiscal_year_start_month
                                         ).label
        except PeriodError:
            labels[value] = None
    q = q.assign(period=q["period"].map(labels))
    q = q[q["period"] == period.label]
    return q.groupby("owner", as_index=False)["quota"].sum()


def payout_table(deals: Any, quotas: Any, plan: CommissionPlan, period: str | Period, *,
                 fiscal_year_start_month: int = 1) -> pd.DataFrame:
    """Per-owner commission for a period from won deals and quotas.

    Bookings = Σ amount of deals with outcome ``won`` and ``close_date`` in ``[start, end)``,
    per ``owner``; quota = that owner's quota row whose period equals ``period`` (written like
    ``2024Q3``). Owners with a quota and no won deal appear with 0 bookings; owners with bookings
    and no quota get NaN commission when the plan needs a quota.

    Returns
    -------
    pandas.DataFrame
        owner, quota, bookings, deals_won, attainment, commission, effective_rate, capped.
    """
    per = parse_period(period, fiscal_year_start_month=fiscal_year_start_month)
    t = table(deals, "deals", ["owner", "outcome", "amount", "close_date"])
    won = in_period(t.filter(t.outcome == "won"), "close_date", per)
    booked = to_pandas(won.group_by("owner").aggregate(bookings=won.amount.sum(),
                                                       deals_won=won.count()))
    quota = _quota_for(quotas, per)
    if quota.empty and booked.empty:
        raise KpitoolsError(f"no quota and no won deal for period {per.label}.\n"
                            "Hint: check the quotas table's period column (e.g. '2024Q3') and the "
                            "deals' close_date values.")
    out = quota.merge(booked, on="owner", how="outer").sort_values("owner", kind="stable")
    out = out.assign(bookings=out["bookings"].fillna(0.0).astype("float64"),
                     deals_won=out["deals_won"].fillna(0).astype("int64"))
    pay = _commissions(plan, out["bookings"].to_numpy(), out["quota"].to_numpy(dtype="float64"))
    out = out.assign(
        attainment=out["bookings"] / out["quota"].where(out["quota"] > 0),
        commission=pay,
        effective_rate=np.where(out["bookings"] > 0, pay / out["bookings"].where(
            out["bookings"] > 0), np.nan),
        capped=(pay >= plan.cap) if plan.cap is not None else False,
    )
    return out[["owner", "quota", "bookings", "deals_won", "attainment", "commission",
                "effective_rate", "capped"]].reset_index(drop=True)


# ---------------------------------------------------------------- multi-KPI bonus
@dataclass(frozen=True)
class Measure:
    """One measure of a bonus plan: the column/KPI it reads, its weight, gate and cap.

    ``kind="okr"`` is refused (OKR grades must not drive pay; :func:`okr_pay_caution`).
    """

    key: str
    weight: float
    threshold: float = 0.0
    cap: float | None = DEFAULT_MEASURE_CAP
    kind: str = "kpi"


@dataclass(frozen=True)
class BonusPlan:
    """Target bonus paid on several weighted KPI attainments (weights sum to 1)."""

    target_bonus: float
    measures: Sequence[Measure]
    cap: float | None = None

    def __post_init__(self) -> None:
        if not self.measures:
            raise KpitoolsError("a bonus plan needs at least one measure.\n"
                                "Hint: Measure('new_customers', weight=0.6), ...")
        okr = [m.key for m in self.measures if m.kind == "okr"]
        if okr:
            raise KpitoolsError(f"measure(s) {okr} are OKR grades. {okr_pay_caution('en')}\n"
                                "Hint: pay on KPI attainment or committed targets instead.")
        total = sum(m.weight for m in self.measures)
        if abs(total - 1.0) > _WEIGHT_TOL or any(m.weight < 0 for m in self.measures):
            raise KpitoolsError(f"measure weights must be non-negative and sum to 1, got "
                                f"{[m.weight for m in self.measures]} (sum {total:g}).\n"
                                "Hint: e.g. 0.5, 0.3, 0.2.")


def bonus_table(plan: BonusPlan, attainments: pd.DataFrame) -> pd.DataFrame:
    """Bonus per row (one row per owner) from a frame with one attainment column per measure.

    Adds ``score_<key>`` per measure, ``payout_rate`` (Σ wᵢ × scoreᵢ) and ``bonus``; a missing
    attainment scores 0. The input frame is not modified.
    """
    missing = [m.key for m in plan.measures if m.key not in attainments.columns]
    if missing:
        raise KpitoolsError(f"attainment column(s) {missing} missing. Columns present: "
                            f"{list(attainments.columns)}.\nHint: one column per measure key, "
                            "values as fractions (1.0 = 100 %).")
    scores = {}
    for m in plan.measures:
        att = attainments[m.key].astype("float64").fillna(0.0)
        score = att.where(att >= m.threshold, 0.0).clip(lower=0.0)
        scores[f"score_{m.key}"] = score if m.cap is None else score.clip(upper=m.cap)
    out = attainments.assign(**scores)
    rate = sum(m.weight * out[f"score_{m.key}"] for m in plan.measures)
    payout = rate * plan.target_bonus
    if plan.cap is not None:
        payout = payout.clip(upper=plan.cap)
    return out.assign(payout_rate=rate, bonus=payout)


def bonus(plan: BonusPlan, attainments: Mapping[str, float]) -> float:
    """Bonus for one payee from ``{measure key: attainment}``.

    >>> plan = BonusPlan(60_000, [Measure("revenue", 0.6), Measure("nrr", 0.4, threshold=0.9)])
    >>> bonus(plan, {"revenue": 1.2, "nrr": 0.85})   # 60,000 × (0.6 × 1.2 + 0.4 × 0)
    43200.0
    """
    frame = pd.DataFrame([{m.key: attainments.get(m.key, math.nan) for m in plan.measures}])
    return float(bonus_table(plan, frame)["bonus"].iloc[0])
