"""Commission and bonus plans: the worked examples of kpi-definitions.md §4, payout tables."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from kpitools._errors import KpitoolsError
from kpitools.goals import (
    BonusPlan,
    CommissionPlan,
    Measure,
    bonus,
    bonus_table,
    commission,
    okr_pay_caution,
    payout_table,
)

SPIFF_TIERS = [(0, 0.04), (150_000, 0.08), (250_000, 0.12)]


def test_worked_example_whole_amount_vs_marginal_at_220k():
    # kpi-definitions.md §4, Spiff tier payout: 220,000 ARR with tiers 0–150k 4 %, 150–250k 8 %,
    # 250k+ 12 %. Whole amount: everything at the tier reached, 220,000 × 8 % = 17,600.
    # Marginal: 150,000 × 4 % + 70,000 × 8 % = 6,000 + 5,600 = 11,600.
    assert commission(220_000, CommissionPlan(SPIFF_TIERS, mode="whole_amount")) == (
        pytest.approx(17_600))
    assert commission(220_000, CommissionPlan(SPIFF_TIERS, mode="marginal")) == (
        pytest.approx(11_600))
    assert CommissionPlan(SPIFF_TIERS).mode == "marginal"  # the documented default


def test_spiff_marginal_deal_straddling_a_bound():
    # A rep at 145,000 closes 20,000 with tiers 4 % / 6 % (150k) / 8 % (250k):
    # 5,000 × 4 % + 15,000 × 6 % = 200 + 900 = 1,100 (Trailhead example)
    plan = CommissionPlan([(0, 0.04), (150_000, 0.06), (250_000, 0.08)])
    assert commission(165_000, plan) - commission(145_000, plan) == pytest.approx(1_100)


def test_sales_cookie_attainment_tiers():
    # quota 100k; <100 % 6 %, 100–150 % 8 %, >150 % 10 %; 110k booked:
    # non-cumulative 110,000 × 8 % = 8,800; cumulative 100,000 × 6 % + 10,000 × 8 % = 6,800
    tiers = [(0, 0.06), (1.0, 0.08), (1.5, 0.10)]
    whole = CommissionPlan(tiers, mode="whole_amount", basis="attainment")
    marginal = CommissionPlan(tiers, basis="attainment")
    assert commission(110_000, whole, quota=100_000) == pytest.approx(8_800)
    assert commission(110_000, marginal, quota=100_000) == pytest.approx(6_800)


def test_quotapath_accelerator_above_quota():
    # quota 33,000; 0–50 % 5 %, 50–100 % 10 % (whole amount), above 100 % the rate doubles on the
    # dollars above quota: 33,000 × 10 % + 7,000 × 20 % = 3,300 + 1,400 = 4,700
    plan = CommissionPlan([(0, 0.05), (0.5, 0.10)], mode="whole_amount", basis="attainment",
                          accelerator=(1.0, 2.0))
    assert commission(40_000, plan, quota=33_000) == pytest.approx(4_700)
    # marginal with the same accelerator: 16,500 × 5 % + 16,500 × 10 % + 7,000 × 10 % × 2
    marginal = CommissionPlan([(0, 0.05), (0.5, 0.10)], basis="attainment",
                              accelerator=(1.0, 2.0))
    assert commission(40_000, marginal, quota=33_000) == pytest.approx(825 + 1_650 + 1_400)


def test_threshold_decelerator_and_cap():
    flat = [(0, 0.10)]
    gated = CommissionPlan(flat, threshold=0.5)
    assert commission(40, gated, quota=100) == 0.0          # 40 % < 50 % gate
    assert commission(60, gated, quota=100) == pytest.approx(6.0)
    slowed = CommissionPlan(flat, decelerator=(0.8, 0.65))
    assert commission(70, slowed, quota=100) == pytest.approx(7 * 0.65)
    assert commission(90, slowed, quota=100) == pytest.approx(9.0)
    capped = CommissionPlan(flat, cap=15)
    assert commission(300, capped) == 15.0


def test_plan_validation_messages():
    with pytest.raises(KpitoolsError, match=r"unknown commission mode 'retroactive'.*\nHint:"):
        CommissionPlan(SPIFF_TIERS, mode="retroactive")
    with pytest.raises(KpitoolsError, match=r"the first tier must start at 0"):
        CommissionPlan([(10, 0.04)])
    with pytest.raises(KpitoolsError, match=r"tier bounds must increase"):
        CommissionPlan([(0, 0.04), (200, 0.05), (100, 0.06)])
    with pytest.raises(KpitoolsError, match=r"this plan needs a positive quota"):
        commission(10, CommissionPlan([(0, 0.1)], threshold=0.5))


def _deals() -> pd.DataFrame:
    return pd.DataFrame({
        "deal_id": ["d1", "d2", "d3", "d4", "d5", "d6"],
        "created_date": pd.to_datetime(["2024-06-01"] * 6),
        "close_date": pd.to_datetime(["2024-07-03", "2024-09-30", "2024-08-01", "2024-08-15",
                                      "2024-10-01", "2024-07-20"]),
        "stage": ["won", "won", "won", "proposal", "won", "won"],
        "outcome": ["won", "won", "won", "lost", "won", "won"],
        "amount": [100_000.0, 60_000, 80_000, 500_000, 10_000, 40_000],
        "owner": ["Amy", "Amy", "Ben", "Ben", "Amy", "Cai"],
    })


def _quotas() -> pd.DataFrame:
    return pd.DataFrame({"owner": ["Amy", "Ben", "Dee", "Amy"],
                         "period": ["2024Q3", "2024-Q3", "2024Q3", "2024Q4"],
                         "quota": [150_000.0, 100_000, 50_000, 999]})


def test_payout_table_per_owner():
    plan = CommissionPlan([(0, 0.05), (1.0, 0.08)], basis="attainment", threshold=0.5)
    deals, quotas = _deals(), _quotas()
    before = deals.copy()
    out = payout_table(deals, quotas, plan, "2024Q3").set_index("owner")
    pd.testing.assert_frame_equal(deals, before)  # input untouched
    # Amy: Q3 won 100k + 60k = 160k (the 1 Oct deal is Q4) vs 150k → 106.7 %
    #      150,000 × 5 % + 10,000 × 8 % = 7,500 + 800 = 8,300
    assert out.loc["Amy", "bookings"] == 160_000 and out.loc["Amy", "deals_won"] == 2
    assert out.loc["Amy", "attainment"] == pytest.approx(160 / 150)
    assert out.loc["Amy", "commission"] == pytest.approx(8_300)
    # Ben: 80k (the lost 500k deal does not count) vs 100k → 80 % → 80,000 × 5 % = 4,000
    assert out.loc["Ben", "commission"] == pytest.approx(4_000)
    # Dee: quota, no deals → 0 %, under the 50 % gate → 0
    assert out.loc["Dee", "bookings"] == 0 and out.loc["Dee", "commission"] == 0
    # Cai: 40k booked but no quota → commission unknown under an attainment plan
    assert math.isnan(out.loc["Cai", "commission"])
    assert out.loc["Amy", "effective_rate"] == pytest.approx(8_300 / 160_000)


def test_payout_table_nothing_in_period():
    with pytest.raises(KpitoolsError, match=r"no quota and no won deal for period 2023Q1"):
        payout_table(_deals(), _quotas(), CommissionPlan([(0, 0.1)]), "2023Q1")


def test_bonus_on_several_weighted_kpis():
    plan = BonusPlan(60_000, [Measure("revenue", 0.5), Measure("new_customers", 0.3),
                              Measure("nrr", 0.2, threshold=0.9)])
    # 60,000 × (0.5 × min(1.8, 1.5) + 0.3 × 0.8 + 0.2 × 0 [0.85 < 0.9 gate]) = 60,000 × 0.99
    assert bonus(plan, {"revenue": 1.8, "new_customers": 0.8, "nrr": 0.85}) == (
        pytest.approx(59_400))
    frame = pd.DataFrame({"owner": ["Amy", "Ben"], "revenue": [1.0, 0.5],
                          "new_customers": [1.0, None], "nrr": [1.0, 0.95]})
    out = bonus_table(plan, frame)
    assert list(out["bonus"]) == [pytest.approx(60_000), pytest.approx(60_000 * (0.25 + 0.19))]
    assert "score_nrr" in out.columns and "score_nrr" not in frame.columns


def test_bonus_plan_refuses_okr_grades_and_bad_weights():
    with pytest.raises(KpitoolsError, match=r"are OKR grades\. OKR grades are for focus"):
        BonusPlan(1000, [Measure("okr_q3", 1.0, kind="okr")])
    with pytest.raises(KpitoolsError, match=r"weights must be non-negative and sum to 1"):
        BonusPlan(1000, [Measure("a", 0.5), Measure("b", 0.3)])
    with pytest.raises(KpitoolsError, match=r"attainment column\(s\) \['b'\] missing"):
        bonus_table(BonusPlan(1000, [Measure("a", 0.5), Measure("b", 0.5)]),
                    pd.DataFrame({"a": [1.0]}))


def test_okr_pay_caution_in_both_languages():
    assert "OKR" in okr_pay_caution("zh-TW") and "獎金" in okr_pay_caution("zh-TW")
    assert "not performance reviews" in okr_pay_caution("en")


def test_payout_table_on_sample_client(sample_dir):
    from kpitools.io import load_client

    client = load_client(sample_dir / "cloudledger")
    deals, quotas = client["deals"], client["quotas"]
    plan = CommissionPlan([(0, 0.03), (1.0, 0.05)], basis="attainment", threshold=0.5)
    out = payout_table(deals, quotas, plan, "2024Q3").set_index("owner")
    # independent: pandas groupby of won deals closed in Q3, quota rows for 2024Q3
    won = deals[(deals["outcome"] == "won") & (deals["close_date"] >= "2024-07-01")
                & (deals["close_date"] < "2024-10-01")]
    booked = won.groupby("owner")["amount"].sum()
    quota = quotas[quotas["period"] == "2024Q3"].set_index("owner")["quota"]
    for owner in quota.index:
        b, q = float(booked.get(owner, 0.0)), float(quota[owner])
        expected = 0.0 if b / q < 0.5 else 0.03 * min(b, q) + 0.05 * max(b - q, 0.0)
        assert out.loc[owner, "bookings"] == pytest.approx(b)
        assert out.loc[owner, "commission"] == pytest.approx(expected)
