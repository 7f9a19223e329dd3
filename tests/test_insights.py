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


def test_movers_sentences_in_both_languages(shop):
    movers = biggest_movers(shop, "2024Q2", ["revenue"], lang="en")
    (best,) = movers_insight(movers, lang="en")
    assert best.text.startswith("Revenue")
    assert "NT$300 to NT$700 (+133.3%)" in best.text
    movers = biggest_movers(shop, "2024Q2", ["revenue"], lang="zh-TW")
    (best,) = movers_insight(movers, lang="zh-TW")
    assert "300元 改善為 700元（+133.3%）" in best.text


def test_flat_quarter_says_so():
    movers = pd.DataFrame({"kpi": ["revenue"], "name": ["Revenue"], "unit": ["currency"],
                           "previous": [100.0], "current": [101.0], "change_rate": [0.01],
                           "improvement": [0.01]})
    (flat,) = movers_insight(movers, lang="en")
    assert "less than 2%" in flat.text


def test_acv_insight_names_the_mix_shift():
    contracts = pd.DataFrame({
        "contract_id": [f"c{i}" for i in range(6)],
        "customer_id": [f"k{i}" for i in range(6)],
        "start_date": pd.to_datetime(["2024-01-10", "2024-02-10", "2024-04-10", "2024-04-11",
                                      "2024-05-10", "2024-06-10"]),
        "end_date": pd.to_datetime(["2025-01-09", "2025-02-09", "2025-04-09", "2025-04-10",
                                    "2025-05-09", "2025-06-09"]),
        "total_value": [100_000.0, 10_000.0, 100_000.0, 10_000.0, 10_000.0, 10_000.0],
        "one_time_fees": [0.0] * 6,
        "tier": ["Enterprise", "Basic", "Enterprise", "Basic", "Basic", "Basic"],
    })
    # Q1: (100k + 10k) / 2 = 55k; Q2: (100k + 3 × 10k) / 4 = 32.5k, a fall of 40.9%.
    # Within each tier ACV is unchanged, so the whole fall is mix: Enterprise 50% → 25%.
    insight = acv_insight({"contracts": contracts}, "2024Q2", lang="en")
    assert insight.data["acv_base"] == pytest.approx(55_000)
    assert insight.data["acv_compare"] == pytest.approx(32_500)
    assert insight.data["driver"] == "mix"
    assert "Enterprise" in insight.text and "50%" in insight.text and "25%" in insight.text
    assert acv_insight({"orders": pd.DataFrame()}, "2024Q2") is None


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
    assert "20% convert against 80% elsewhere" in insight.text
    zh = funnel_insight(client, "2024Q2", lang="zh-TW")
    assert "「b」管道" in zh.text and "轉換率 20%" in zh.text


def test_churn_insight_top_reason():
    events = pd.DataFrame({
        "customer_id": ["a", "b", "c"],
        "churn_date": pd.to_datetime(["2024-04-01", "2024-05-01", "2024-06-01"]),
        "reason": ["價格太高", "價格太高", "缺少功能"],
    })
    # 2 of 3 churned customers gave the price reason: 67%.
    insight = churn_insight({"churn_events": events}, "2024Q2", lang="zh-TW")
    assert insight.text == "流失客戶中有 67%（2 位）的原因是「價格太高」，是最主要的流失原因。"
    none = churn_insight({"churn_events": events}, "2024Q1", lang="en")
    assert none.text == "No customer churn was recorded in this period."


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
    (empty,) = goals_insight(pd.DataFrame(), lang="zh-TW")
    assert "尚未設定目標" in empty.text
