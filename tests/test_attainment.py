"""Goal attainment methods (kpi-definitions.md §3.2), zero/negative targets, caps and floors."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from kpitools._errors import KpitoolsError
from kpitools.goals import attainment, default_method, explain_attainment, scorecard
from kpitools.goals.attainment import FLOW_KPIS


def test_higher_is_better_ratio():
    # quota attainment 50,000 ÷ 45,000 = 111.11 % (calculator.academy example, §3.2)
    assert attainment(50_000, 45_000) == pytest.approx(1.111111, rel=1e-6)
    assert default_method("higher") == "ratio"


@pytest.mark.parametrize(("method", "expected"), [
    # churn target 8 %, actual 6.5 %, baseline 10 % — the table in §3.2:
    ("downward_polarity", 1.1875),   # 2 − 6.5/8
    ("inverse_ratio", 8 / 6.5),      # 123.1 %
    ("baseline_linear", 1.75),       # (10 − 6.5) ÷ (10 − 8)
])
def test_lower_is_better_three_methods(method, expected):
    got = attainment(0.065, 0.08, "lower", baseline=0.10, method=method)
    assert got == pytest.approx(expected)


def test_lower_default_is_downward_polarity():
    assert default_method("lower") == "downward_polarity"
    assert attainment(0.065, 0.08, "lower") == pytest.approx(1.1875)
    # 200 % at zero actual is the maximum of downward polarity
    assert attainment(0.0, 0.08, "lower") == pytest.approx(2.0)


def test_zero_target_rule():
    # T = 0: met → 1.0, missed → 0.0 (Stratec / CAMMS)
    assert attainment(0, 0, "lower") == 1.0
    assert attainment(3, 0, "lower") == 0.0      # e.g. 3 complaints against a target of none
    assert attainment(0, 0, "higher") == 1.0
    assert attainment(-5, 0, "higher") == 0.0    # a loss against a break-even target


def test_negative_target_flips_polarity():
    # higher: loss limited to −50 against a target of −100 → 2 − (−50/−100) = 1.5
    assert attainment(-50, -100, "higher") == pytest.approx(1.5)
    assert attainment(-200, -100, "higher") == pytest.approx(0.0)
    # lower with a negative target: a ratio is not meaningful (see the next test)
    assert math.isnan(attainment(-0.10, -0.05, "lower"))


def test_negative_and_sign_crossing_targets_score_the_gap_closed():
    # Net MRR churn (lower is better), target −0.28 %, actual −5.34 %: the ratio would be
    # 0.0534 / 0.0028 = 19.07 (1907 %), an artefact of a target near zero.
    score, used, why = explain_attainment(-0.0534, -0.0028, "lower")
    assert math.isnan(score) and (used, why) == ("ratio", "not_meaningful")
    # With the baseline +0.5 %: gap 0.5 − (−0.28) = 0.78 points, closed 0.5 − (−5.34) = 5.84
    # points → 5.84 / 0.78 = 7.487
    score, used, why = explain_attainment(-0.0534, -0.0028, "lower", baseline=0.005)
    assert score == pytest.approx(5.84 / 0.78, rel=1e-3) and (used, why) == ("gap", "gap")
    # … and half-way there: actual (0.5 − 0.39) = +0.11 % → 0.39 / 0.78 = 0.5
    assert attainment(0.0011, -0.0028, "lower", baseline=0.005) == pytest.approx(0.5)
    # lower, both negative: −10 % against −5 % from a baseline of +1 %: 11 / 6 = 1.833
    assert attainment(-0.10, -0.05, "lower", baseline=0.01) == pytest.approx(11 / 6)
    # sign crossing on a higher-is-better KPI: profit target +100 from a loss of −300, actual
    # −100: 200 of the 400 gap closed = 0.5 (a ratio −100 / 100 would say −100 %)
    assert attainment(-100, 100, "higher", baseline=-300) == pytest.approx(0.5)
    # a loss limit (both negative, higher is better) keeps the flipped ratio: 2 − (−50/−100)
    assert explain_attainment(-50, -100, "higher") == (pytest.approx(1.5), "ratio", "")


def test_scorecard_explains_a_negative_target(sample_dir):
    import kpitools
    from kpitools.goals import Goal, scorecard

    client = kpitools.load_client(sample_dir / "cloudledger")
    goal = Goal(goal_id="n1", kpi="net_mrr_churn_rate", target=-0.0028, period="2024Q3",
                owner="CS")
    card = scorecard([goal], client, lang="en").iloc[0]
    # the baseline (2024Q2's net MRR churn) is measured, so the gap is scored
    from kpitools.catalog import compute_kpi

    base = compute_kpi("net_mrr_churn_rate", client, "2024Q2")
    actual = compute_kpi("net_mrr_churn_rate", client, "2024Q3")
    assert card["baseline"] == pytest.approx(base)
    assert card["method"] == "gap"
    assert card["attainment"] == pytest.approx(max((actual - base) / (-0.0028 - base), 0.0))
    assert "share of the gap from baseline to target" in card["note"]


def test_baseline_linear_both_directions():
    # higher: baseline 100, target 150, actual 125 → 0.5
    assert attainment(125, 150, "higher", baseline=100, method="baseline_linear") == 0.5
    # a result below baseline is floored at 0 by default, negative with floor=None
    assert attainment(90, 150, "higher", baseline=100, method="baseline_linear") == 0.0
    assert attainment(90, 150, "higher", baseline=100, method="baseline_linear",
                      floor=None) == pytest.approx(-0.2)


def test_cap_and_floor():
    assert attainment(200, 100, cap=1.5) == 1.5
    assert attainment(0.065, 0.08, "lower", baseline=0.10, method="baseline_linear",
                      cap=1.0) == 1.0
    assert attainment(0.30, 0.08, "lower") == 0.0  # 2 − 3.75 < 0 → floor 0


def test_missing_values_give_nan():
    assert math.isnan(attainment(math.nan, 100))
    assert math.isnan(attainment(5, None))


def test_errors_teach():
    with pytest.raises(KpitoolsError, match=r"method 'ratio' does not fit a lower-is-better KPI"
                                            r".*\nHint: use one of"):
        attainment(1, 2, "lower", method="ratio")
    with pytest.raises(KpitoolsError, match=r"unknown attainment method 'linear'"):
        attainment(1, 2, method="linear")
    with pytest.raises(KpitoolsError, match=r"'baseline_linear' needs a baseline"):
        attainment(1, 2, method="baseline_linear")
    with pytest.raises(KpitoolsError, match=r"target \(2\) equals the baseline"):
        attainment(1, 2, baseline=2, method="baseline_linear")
    with pytest.raises(KpitoolsError, match=r"'inverse_ratio' .* needs a positive target and "
                                            r"actual.*\nHint: use method 'downward_polarity'"):
        attainment(0, 0.05, "lower", method="inverse_ratio")
    with pytest.raises(KpitoolsError, match=r"direction must be 'higher' or 'lower'"):
        attainment(1, 2, "up")


def test_summed_catalog_kpis_are_paced_at_their_run_rate():
    # TCV (Σ total_value of contracts signed in the period) and active users (Σ daily users)
    # are sums over the period, so mid-period they must be projected at their run rate.
    # Goal: TCV 900 in 2024Q1 (91 days). By 31 Jan (31 of 91 days) one contract of 300 was
    # signed → run-rate projection 300 × 91 / 31 = 880.6 → 97.8 % → at risk (flat: 33 % → off).
    assert {"tcv", "active_users"} <= FLOW_KPIS
    contracts = pd.DataFrame({
        "contract_id": ["k1"], "customer_id": ["a"],
        "start_date": pd.to_datetime(["2024-01-10"]), "end_date": pd.to_datetime(["2024-12-31"]),
        "total_value": [300.0]})
    goal = {"goal_id": "g", "kpi": "tcv", "target": 900, "period": "2024Q1", "direction": "higher"}
    row = scorecard([goal], {"contracts": contracts}, as_of="2024-01-31").iloc[0]
    assert row["actual"] == pytest.approx(300)
    assert row["projected"] == pytest.approx(300 * 91 / 31)
    assert row["status"] == "at_risk"
