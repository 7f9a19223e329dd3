"""Insights: each rule's sentence and numbers, on tiny tables computed by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from kpitools.insights import (
    acv_insight,
    biggest_movers,
    churn_insight,
    funnel_insight,
    goals_insight,
    movers_insight,
)


@pytest.fixture
def shop() -> dict:
    orders = pd.DataFrame({
        "order_id": ["o1", "o2", "o3", "o4"],
        "customer_id": ["a", "b", "a", "c"],
        "order_date": pd.to_datetime(["2024-01-05", "2024-02-10", "2024-04-01", "2024-06-30"]),
        "amount": [100.0, 200.0, 300.0, 400.0],
        "discount": [0.0, 0.0, 0.0, 0.0],
    })
    feedback = pd.DataFrame({
        "date": pd.to_datetime(["2024-02-01", "2024-05-01"]),
        "csat": [4.0, 4.0],
        "response_hours": [10.0, 5.0],
    })
    return {"orders": orders, "feedback": feedback}


def test_biggest_movers_signs_improvement_by_direction(shop):
    movers = biggest_movers(shop, "2024Q2", ["revenue", "median_response_hours", "csat_average"],
                            lang="en")
    by_kpi = movers.set_index("kpi")
    # Revenue Q1 = 100 + 200 = 300, Q2 = 300 + 400 = 700: +133.3%, an improvement.
    assert by_kpi.loc["revenue", "change_rate"] == pytest.approx(400 / 300)
    assert by_kpi.loc["revenue", "improvement"] == pytest.approx(400 / 300)
    # Median response time 10 h → 5 h: -50%, which is an improvement (lower is better).
    assert by_kpi.loc["median_response_hours", "change_rate"] == pytest.approx(-0.5)
    assert by_kpi.loc["median_response_hours", "improvement"] == pytest.approx(0.5)
    assert movers["kpi"].iloc[0] == "revenue"


def test_movers_are_judged_against_noise(shop):
    movers = biggest_movers(shop, "2024Q2", ["revenue"], lang="en")
    # Revenue 300 -> 700 looks like +133%, but the months are 100, 200, 0 against 300, 0, 400:
    # Welch's t on those (means 100 and 233, t = 0.98) is far from significant.
    assert movers.loc[0, "verdict"] == "within_noise"
    none, noise = movers_insight(movers, lang="en", periods=("2024Q1", "2024Q2"))
    assert none.text == "Compared with Q1 2024, no KPI moved beyond normal variation."
    assert noise.text.startswith("Revenue (after discounts) (+133.3%) look like big moves")


def _movers(verdict: str, before: float = 300.0, after: float = 700.0) -> pd.DataFrame:
    change = (after - before) / before
    return pd.DataFrame({"kpi": ["revenue"], "name": ["Revenue"], "unit": ["currency"],
                         "previous": [before], "current": [after], "change_rate": [change],
                         "improvement": [change], "verdict": [verdict]})


def test_movers_sentences_in_both_languages():
    (best,) = movers_insight(_movers("improved"), lang="en", periods=("2024Q1", "2024Q2"))
    assert best.text.startswith("Revenue improved from NT$300 in Q1 2024 to NT$700 in Q2 2024 "
                                "(+133.3%), beyond normal variation")
    (best,) = movers_insight(_movers("improved"), lang="zh-TW", periods=("2024Q1", "2024Q2"))
    assert "從2024年第1季的 300元 改善為2024年第2季的 700元（+133.3%）" in best.text


def test_a_decline_that_still_meets_its_goal_is_not_the_main_worry():
    # Shop's new customers: 465 -> 384 is a real fall, but 384 against a goal of 350 is 110%.
    movers = _movers("worsened", 465, 384).assign(kpi="new_customers_orders",
                                                  name="New customers", unit="count",
                                                  improvement=-0.174)
    (worst,) = movers_insight(movers, lang="en", attainment={"new_customers_orders": 1.097})
    assert "needs most attention" not in worst.text
    assert "still meets this period's goal (110% attained)" in worst.text
    (worst,) = movers_insight(movers, lang="zh-TW", attainment={"new_customers_orders": 1.097})
    assert "最需要關注" not in worst.text and "仍達成本期目標（達成率 110%）" in worst.text
    (worst,) = movers_insight(movers, lang="zh-TW", attainment={"new_customers_orders": 0.9})
    assert "最需要關注" in worst.text


def test_flat_quarter_says_so():
    (flat,) = movers_insight(_movers("within_noise", 100.0, 101.0), lang="en")
    assert flat.text == ("Compared with the previous period, no KPI moved beyond normal "
                         "variation.")


def _tier_contracts(copies: int) -> pd.DataFrame:
    # Q1: one Enterprise (100k) and one Basic (10k) contract; Q2: one Enterprise, three Basic;
    # each pattern repeated ``copies`` times.
    starts = ["2024-01-10", "2024-02-10", "2024-04-10", "2024-04-11", "2024-05-10", "2024-06-10"]
    values = [100_000.0, 10_000.0, 100_000.0, 10_000.0, 10_000.0, 10_000.0]
    tiers = ["Enterprise", "Basic", "Enterprise", "Basic", "Basic", "Basic"]
    n = 6 * copies
    start = pd.to_datetime(starts * copies)
    return pd.DataFrame({
        "contract_id": [f"c{i}" for i in range(n)], "customer_id": [f"k{i}" for i in range(n)],
        "start_date": start, "end_date": start + pd.DateOffset(years=1) - pd.Timedelta(days=1),
        "total_value": values * copies, "one_time_fees": [0.0] * n, "tier": tiers * copies})


def test_acv_insight_names_the_mix_shift():
    # Q1: (100k + 10k) / 2 = 55k; Q2: (100k + 3 × 10k) / 4 = 32.5k, a fall of 40.9%.
    # Within each tier ACV is unchanged, so the whole fall is mix: Enterprise 50% → 25%.
    # With 30 copies (60 contracts against 120) Welch's t on the contracts is about 3.2.
    insight = acv_insight({"contracts": _tier_contracts(30)}, "2024Q2", lang="en")
    assert insight.data["acv_base"] == pytest.approx(55_000)
    assert insight.data["acv_compare"] == pytest.approx(32_500)
    assert insight.data["driver"] == "mix"
    assert insight.data["verdict"] == "worsened"
    assert insight.text.endswith("mainly because Enterprise's share of new contracts fell from "
                                 "50% to 25%.")
    zh = acv_insight({"contracts": _tier_contracts(30)}, "2024Q2", lang="zh-TW")
    assert "「企業版」占新約的比例從 50% 降至 25%" in zh.text
    assert acv_insight({"orders": pd.DataFrame()}, "2024Q2") is None


def test_acv_change_from_a_few_contracts_is_within_noise():
    # The same pattern once: 2 contracts against 4, far too few to call the fall real.
    insight = acv_insight({"contracts": _tier_contracts(1)}, "2024Q2", lang="en")
    assert insight.data["verdict"] == "within_noise"
    assert insight.text == ("Average ACV of new contracts went from NT$55,000 in Q1 2024 to "
                            "NT$32,500 in Q2 2024 (-40.9%), within normal variation.")


class _Client:
    def __init__(self, tables, stages):
        self.tables = tables
        self.funnel_stages = stages
        self.fiscal_year_start_month = 1


def test_funnel_insight_points_at_the_weak_channel():
    n = 20
    deals = pd.DataFrame({
        "deal_id": [f"d{i}" for i in range(n)],
        "created_date": pd.to_datetime(["2024-04-02"] * n),
        "close_date": pd.to_datetime(["2024-05-02"] * n),
        # Channel a: 8 of 10 leads qualify; channel b: 2 of 10.
        "stage": ["qualified"] * 8 + ["lead"] * 2 + ["qualified"] * 2 + ["lead"] * 8,
        "outcome": ["lost"] * n,
        "channel": ["a"] * 10 + ["b"] * 10,
    })
    client = _Client({"deals": deals}, ["lead", "qualified", "won"])
    insight = funnel_insight(client, "2024Q2", lang="en")
    assert insight.data["segment"] == "b"
    assert (insight.data["from_stage"], insight.data["to_stage"]) == ("lead", "qualified")
    # 2 of 10 against 8 of 10: pooled 0.5, z = 0.6 / √(0.25 · 0.2) = 2.683, p = 0.0073.
    assert insight.data["p_value"] == pytest.approx(0.0073, abs=2e-4)
    assert "B converts only 20% at Lead → Qualified against 80%" in insight.text
    zh = funnel_insight(client, "2024Q2", lang="zh-TW")
    assert "「B」在「潛在客戶 → 合格商機」的轉換率只有 20%" in zh.text


def test_churn_insight_top_reason():
    events = pd.DataFrame({
        "customer_id": ["a", "b", "c"],
        "churn_date": pd.to_datetime(["2024-04-01", "2024-05-01", "2024-06-01"]),
        "reason": ["價格太高", "價格太高", "缺少功能"],
    })
    # 2 of 3 churned customers gave the price reason: 67%.
    insight = churn_insight({"churn_events": events}, "2024Q2", lang="zh-TW")
    assert insight.text == ("2024年第2季共有 3 位客戶流失，其中 2 位（67%）的原因是「價格太高」，"
                            "是最常見的流失原因。")
    en = churn_insight({"churn_events": events}, "2024Q2", lang="en")
    assert en.text == ("3 customers left in Q2 2024; 2 of them (67%) gave “Price too high”, "
                       "the most common reason.")
    none = churn_insight({"churn_events": events}, "2024Q1", lang="en")
    assert none.text == "No customer churn was recorded in Q1 2024."


def test_tied_churn_reasons_are_said_to_be_tied():
    # Three churn events, three different reasons: no reason leads, whatever the sort order.
    events = pd.DataFrame({
        "customer_id": ["a", "b", "c"],
        "churn_date": pd.to_datetime(["2024-10-01", "2024-11-01", "2024-12-01"]),
        "reason": ["價格太高", "缺少功能", "導入困難"],
    })
    zh = churn_insight({"churn_events": events}, "2024Q4", lang="zh-TW")
    assert zh.text.startswith("2024年第4季共有 3 位客戶流失，最常見的原因並列：")
    assert "各 1 位，沒有單一的主要原因" in zh.text
    assert "33%" not in zh.text
    en = churn_insight({"churn_events": events}, "2024Q4", lang="en")
    assert "the most common reasons are tied at 1 each" in en.text
    assert "“Price too high”" in en.text and "“Missing features”" in en.text
    assert sorted(zh.data["reasons"]) == sorted(events["reason"])


def test_goals_insight_counts_and_worst():
    card = pd.DataFrame({
        "kpi": ["revenue", "aov", "win_rate"],
        "status": ["achieved", "missed", "near_miss"],
        "actual": [120.0, 80.0, 0.09],
        "target": [100.0, 100.0, 0.10],
        "attainment": [1.2, 0.8, 0.9],
    })
    summary, worst = goals_insight(card, lang="en")
    assert summary.text == "3 goals this period: 1 achieved, 1 near miss, 1 missed."
    assert worst.text.startswith("Furthest behind is Average order value")
    assert "(80% attained)" in worst.text
    # Without goals the client reads nothing about goals (the analyst gets a CLI note instead).
    assert goals_insight(pd.DataFrame(), lang="zh-TW") == []
