"""Noise or change: the tests behind "improved", "worsened" and "within normal variation".

Expected values are computed by hand in the comments (normal and t quantiles from tables).
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from kpitools.insights.noise import (
    judge_change,
    poisson_test,
    two_proportion_test,
    welch_test,
    wilson_interval,
)
from kpitools.periods import parse_period


def test_wilson_interval_by_hand():
    # k = 5, n = 240, z = 1.96: p = 0.020833, z²/n = 0.016007,
    # centre = (0.020833 + 0.0080033) / 1.016007 = 0.028382,
    # spread = 1.96·√(0.020833·0.979167/240 + 3.8415/(4·57600)) / 1.016007
    #        = 1.96·√(0.000084997 + 0.000016673) / 1.016007 = 1.96·0.010083 / 1.016007 = 0.019451
    # -> [0.008931, 0.047833]
    lo, hi = wilson_interval(5, 240)
    assert lo == pytest.approx(0.00893, abs=2e-4)
    assert hi == pytest.approx(0.04783, abs=2e-4)
    assert all(math.isnan(x) for x in wilson_interval(0, 0))
    # Zero events still give an interval above 0: [0, z²/(n + z²)] = [0, 3.8415/103.8415].
    assert wilson_interval(0, 100)[1] == pytest.approx(3.8415 / 103.8415, rel=1e-3)


def test_two_proportion_test_by_hand():
    # Cloudledger's logo churn: 5 of 242 customers in Q3, 3 of 266 in Q4.
    # p1 = 0.020661, p2 = 0.011278, pooled = 8/508 = 0.015748,
    # se = √(0.015748·0.984252·(1/242 + 1/266)) = √(0.015500·0.0078914) = 0.011060,
    # z = -0.009383 / 0.011060 = -0.8484 -> two-sided p = 2·(1 − Φ(0.8484)) = 0.3962
    assert two_proportion_test(5, 242, 3, 266) == pytest.approx(0.396, abs=2e-3)
    # 60 of 200 against 30 of 200: pooled 0.225, se = √(0.225·0.775·0.01) = 0.041758,
    # z = 0.15 / 0.041758 = 3.592 -> p = 0.00033
    assert two_proportion_test(60, 200, 30, 200) == pytest.approx(0.00033, abs=5e-5)
    assert math.isnan(two_proportion_test(1, 0, 1, 10))


def test_poisson_test_by_hand():
    # 3 against 5 events: given 8, x2 ~ Binomial(8, 0.5); P(X ≤ 3) = (1 + 8 + 28 + 56)/256 =
    # 93/256 = 0.36328; two-sided (symmetric) p = 2 · 0.36328 = 0.72656.
    assert poisson_test(5, 3) == pytest.approx(93 / 128)
    # 0 against 10: P(X = 0) = 2^-10 on each side -> p = 2/1024.
    assert poisson_test(10, 0) == pytest.approx(2 / 1024)
    # Double the exposure, double the count: no evidence of change.
    assert poisson_test(20, 40, exposure_ratio=2.0) > 0.9


def test_welch_test_by_hand():
    # a = 10, 12, 11 (mean 11, s² = 1); b = 15, 16, 14 (mean 15, s² = 1):
    # se = √(1/3 + 1/3) = 0.8165, t = 4.899, df = (2/3)² / (2·(1/3)²/2) = 4
    # -> two-sided p = 0.0080 (t table: t₄ = 4.604 at 0.01, 5.598 at 0.005).
    assert welch_test([10, 12, 11], [15, 16, 14]) == pytest.approx(0.0080, abs=2e-4)
    assert math.isnan(welch_test([1.0], [2.0, 3.0]))


def _contracts(churned_q3: int, churned_q4: int, base: int = 240) -> pd.DataFrame:
    """``base`` customers from 2024-01 to 2025-12; some end inside Q3 or Q4 2024."""
    ends = (["2024-08-31"] * churned_q3 + ["2024-11-30"] * churned_q4
            + ["2025-12-31"] * (base - churned_q3 - churned_q4))
    n = len(ends)
    return pd.DataFrame({
        "contract_id": [f"k{i}" for i in range(n)],
        "customer_id": [f"c{i}" for i in range(n)],
        "start_date": pd.to_datetime(["2024-01-01"] * n),
        "end_date": pd.to_datetime(ends),
        "total_value": [24_000.0] * n,
    })


def test_small_churn_counts_are_within_noise_and_large_gaps_are_not():
    q3, q4 = parse_period("2024Q3"), parse_period("2024Q4")
    # 5 of 240 churn in Q3, then 3 of 235 in Q4: churn "halves" but the counts are tiny.
    small = judge_change("logo_churn_rate", {"contracts": _contracts(5, 3)}, q3, q4)
    assert small.method == "two_proportion"
    assert small.evidence["events"] == (5, 3)
    assert small.evidence["base"] == (240, 235)
    assert small.verdict == "within_noise"
    # 40 of 240 in Q3, then 5 of 200: p ≈ 1e-7, a real improvement (churn is lower-is-better).
    big = judge_change("logo_churn_rate", {"contracts": _contracts(40, 5)}, q3, q4)
    assert big.verdict == "improved"


def test_counts_use_the_poisson_test():
    orders = pd.DataFrame({
        "order_id": [f"o{i}" for i in range(90)],
        "customer_id": [f"c{i}" for i in range(90)],  # every customer is new
        "order_date": pd.to_datetime(["2024-08-01"] * 30 + ["2024-11-01"] * 60),
        "amount": [100.0] * 90,
    })
    change = judge_change("new_customers_orders", {"orders": orders}, parse_period("2024Q3"),
                          parse_period("2024Q4"))
    # 30 -> 60 over 92 days each: given 90, P(X ≥ 60 | Bin(90, ½)) ≈ 0.0009 per side.
    assert change.method == "poisson"
    assert change.verdict == "improved"
    assert change.p_value < 0.01


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_exact_and_welch_p_values_match_scipy_stats(seed):
    """The tests are written on scipy.special (scipy.stats is slow to import); scipy.stats'
    binomtest and ttest_ind are the independent reference."""
    import random

    from scipy.stats import binomtest, ttest_ind

    rng = random.Random(seed)
    for _ in range(300):
        x1, x2 = rng.randint(0, 400), rng.randint(1, 400)
        ratio = rng.choice([1.0, 0.5, 2.0, 92 / 91, rng.uniform(0.2, 5.0)])
        expected = binomtest(x2, x1 + x2, ratio / (1 + ratio)).pvalue
        assert poisson_test(x1, x2, exposure_ratio=ratio) == pytest.approx(expected, abs=1e-10)
        a = [rng.gauss(10, 3) for _ in range(rng.randint(2, 8))]
        b = [rng.gauss(11, rng.uniform(0.5, 5)) for _ in range(rng.randint(2, 8))]
        assert welch_test(a, b) == pytest.approx(ttest_ind(a, b, equal_var=False).pvalue,
                                                 abs=1e-12)
