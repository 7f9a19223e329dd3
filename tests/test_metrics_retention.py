"""Retention KPIs: logo churn, MRR churn, GRR/NRR, cohort matrix and churn reasons."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from test_metrics_revenue import contracts

from kpitools._errors import KpitoolsError
from kpitools.metrics import (
    churn_reasons,
    cohort_retention,
    gross_mrr_churn_rate,
    grr,
    logo_churn_rate,
    net_mrr_churn_rate,
    nrr,
)


def _chartmogul_month() -> pd.DataFrame:
    """100 customers paying on 30 June; in July 10 leave, 1 leaves and comes back, 1 joins and
    leaves, 1 joins and stays."""
    stay = [(f"s{i}", "2024-01-01", "2024-12-31", 1200) for i in range(88)]
    leave = [(f"l{i}", "2024-01-01", "2024-07-15", 1000) for i in range(10)]
    back = [("b", "2024-01-01", "2024-07-10", 1000), ("b", "2024-07-20", "2024-12-31", 600)]
    flash = [("f", "2024-07-05", "2024-07-25", 100)]
    late = [("n", "2024-07-10", "2024-12-31", 600)]
    extra = [("z", "2024-01-01", "2024-12-31", 1200)]  # the 100th customer at the start
    return contracts(stay + leave + back + flash + late + extra)


def test_logo_churn_chartmogul_example():
    # ChartMogul: 100 at start, 12 "churned" of whom 1 reactivated and 1 joined in the month
    # → (12 − 1 − 1) ÷ 100 = 10 %. Here the flash customer never covers a month-end.
    c = _chartmogul_month()
    assert logo_churn_rate(c, "2024-07") == pytest.approx(0.10)
    # Stripe-style: 10 churn events ÷ (100 at start + 1 new (n)) = 10 / 101.
    assert logo_churn_rate(c, "2024-07", same_period_new="include") == pytest.approx(10 / 101)
    # Baremetrics-style: the same 10 events ÷ the 100 at the start only = 10 %.
    assert logo_churn_rate(c, "2024-07", same_period_new="include_numerator") == pytest.approx(
        0.10)


def test_logo_churn_quarter_is_whole_period_rate():
    c = contracts(
        [
            ("a", "2024-01-01", "2024-12-31", 1200),
            ("b", "2024-01-01", "2024-07-31", 700),  # leaves in August
            ("c", "2024-01-01", "2024-08-31", 800),  # leaves in September
            ("d", "2024-07-01", "2024-08-31", 200),  # joins in July, leaves in September
            ("e", "2024-01-01", "2024-07-31", 700),  # leaves in August ...
            ("e", "2024-09-01", "2024-12-31", 400),  # ... and is back by the end of September
        ]
    )
    # Start of Q3 (30 June): a, b, c, e. Gone on 30 Sept: b, c → 2 ÷ 4.
    assert logo_churn_rate(c, "2024Q3") == pytest.approx(0.5)
    # include: events b, c, d, e (e left in August) = 4 ÷ (4 at start + d new + e back) = 4 / 6.
    assert logo_churn_rate(c, "2024Q3", same_period_new="include") == pytest.approx(4 / 6)
    # include_numerator (Baremetrics): the same 4 events ÷ the 4 at the start = 1.0 — a whole
    # start base "churned" although a and e still pay, which is why it is not the default.
    assert logo_churn_rate(c, "2024Q3", same_period_new="include_numerator") == pytest.approx(1.0)


def test_logo_churn_edges():
    one = contracts([("solo", "2024-01-01", "2024-03-31", 300)])
    assert logo_churn_rate(one, "2024-04") == 1.0  # single customer leaves
    assert logo_churn_rate(one, "2024-02") == 0.0
    assert math.isnan(logo_churn_rate(one, "2023-06"))  # nobody at the start
    with pytest.raises(KpitoolsError, match=r"same_period_new='stripe' is not one of"):
        logo_churn_rate(one, "2024-04", same_period_new="stripe")


def test_mrr_churn_chartmogul_example():
    # Start 100: churn 10, contraction 10, expansion 10 → gross 20 %, net 10 %.
    c = contracts(
        [
            ("a", "2024-01-01", "2024-06-30", 60),  # 10 → 0
            ("b", "2024-01-01", "2024-06-30", 120),
            ("b", "2024-07-01", "2024-12-31", 60),  # 20 → 10
            ("c", "2024-01-01", "2024-06-30", 180),
            ("c", "2024-07-01", "2024-12-31", 240),  # 30 → 40
            ("d", "2024-01-01", "2024-12-31", 480),  # 40
            ("n", "2024-07-01", "2024-12-31", 600),  # new 100
        ]
    )
    assert gross_mrr_churn_rate(c, "2024-07") == pytest.approx(0.20)
    assert net_mrr_churn_rate(c, "2024-07") == pytest.approx(0.10)
    # The quarter adds July–September movements over the 30 June MRR: same numbers here.
    assert gross_mrr_churn_rate(c, "2024Q3") == pytest.approx(0.20)
    assert math.isnan(gross_mrr_churn_rate(c, "2023Q3"))


def test_mrr_churn_daily_sum_formula_adds_monthly_rates():
    # Q3 2024. a pays 100/month, 130 from September (+30 expansion); b pays 100/month to July
    # (churns in August); c pays 50/month, 25 from September (−25 contraction).
    c = contracts(
        [
            ("a", "2024-01-01", "2024-08-31", 800),
            ("a", "2024-09-01", "2024-12-31", 520),
            ("b", "2024-01-01", "2024-07-31", 700),
            ("c", "2024-01-01", "2024-08-31", 400),
            ("c", "2024-09-01", "2024-12-31", 100),
        ]
    )
    # Month openings: July 250, August 250, September 150 (a 100 + c 50).
    # Standard gross: (100 + 25) ÷ 250 = 0.5. Daily sum: 0 + 100/250 + 25/150 = 0.4 + 1/6.
    assert gross_mrr_churn_rate(c, "2024Q3") == pytest.approx(0.5)
    assert gross_mrr_churn_rate(c, "2024Q3", formula="daily_sum") == pytest.approx(0.4 + 1 / 6)
    # Net: standard (125 − 30) ÷ 250 = 0.38; daily sum 0.4 + (25 − 30)/150 = 0.4 − 1/30.
    assert net_mrr_churn_rate(c, "2024Q3") == pytest.approx(0.38)
    assert net_mrr_churn_rate(c, "2024Q3", formula="daily_sum") == pytest.approx(0.4 - 1 / 30)
    # One month: both formulas agree (August: 100 ÷ 250).
    assert gross_mrr_churn_rate(c, "2024-08", formula="daily_sum") == pytest.approx(0.4)
    # Nothing open before 2024: NaN; unknown formula: a teaching error.
    assert math.isnan(net_mrr_churn_rate(c, "2023Q4", formula="daily_sum"))
    with pytest.raises(KpitoolsError, match=r"formula='shopify' is not one of"):
        gross_mrr_churn_rate(c, "2024Q3", formula="shopify")


def test_net_mrr_churn_shopify_example():
    # ChartMogul Shopify formula: MRR 100 → 120 in a month with 10 of new business →
    # 1 − (120 − 10) ÷ 100 = −10 %. Here a grows 100 → 110 and newcomer n brings 10.
    c = contracts(
        [
            ("a", "2024-01-01", "2024-06-30", 600),
            ("a", "2024-07-01", "2024-12-31", 660),
            ("n", "2024-07-01", "2024-12-31", 60),
        ]
    )
    assert net_mrr_churn_rate(c, "2024-07", formula="daily_sum") == pytest.approx(-0.10)
    assert net_mrr_churn_rate(c, "2024-07") == pytest.approx(-0.10)


def test_net_mrr_churn_can_be_negative_and_counts_reactivation():
    c = contracts(
        [
            ("a", "2024-01-01", "2024-12-31", 1200),  # 100
            ("b", "2024-01-01", "2024-06-30", 600),
            ("b", "2024-07-01", "2024-12-31", 1200),  # 100→200
            ("r", "2024-01-01", "2024-05-31", 500),
            ("r", "2024-07-01", "2024-12-31", 300),  # back 50
        ]
    )
    # July: expansion 100 + reactivation 50 over start 200 → net −0.75; gross 0.
    assert net_mrr_churn_rate(c, "2024-07") == pytest.approx(-0.75)
    assert gross_mrr_churn_rate(c, "2024-07") == 0.0


def test_nrr_grr_twelve_month_snapshot():
    c = contracts(
        [
            ("a", "2023-01-01", "2023-12-31", 1200),
            ("a", "2024-01-01", "2024-12-31", 1800),  # 100→150
            ("b", "2023-01-01", "2023-12-31", 1200),
            ("b", "2024-01-01", "2024-12-31", 600),  # 100→50
            ("c", "2023-01-01", "2023-12-31", 2400),  # 200→0
            ("d", "2024-01-01", "2024-12-31", 9999),  # new
        ]
    )
    # Cohort on 2023-06-30: a, b, c = 400. On 2024-06-30: 150 + 50 + 0 = 200 → NRR 0.5.
    # GRR caps a at 100: (100 + 50 + 0) ÷ 400 = 0.375.
    assert nrr(c, "2024-06") == pytest.approx(0.5)
    assert grr(c, "2024-06") == pytest.approx(0.375)
    assert nrr(c, "2024Q2") == pytest.approx(0.5)  # snapshot at the quarter's last day
    # A 6-month window from 2023-12-31 to 2024-06-30 has the same cohort here.
    assert nrr(c, "2024-06", window_months=6) == pytest.approx(0.5)
    assert math.isnan(nrr(c, "2023-06"))
    with pytest.raises(KpitoolsError, match=r"method='movements' is not one of \['snapshot'\]"):
        nrr(c, "2024-06", method="movements")
    with pytest.raises(KpitoolsError, match="window_months must be a positive whole number"):
        grr(c, "2024-06", window_months=0)


def test_cohort_retention_monthly_logo_and_revenue():
    c = contracts(
        [
            ("a", "2024-01-01", "2024-12-31", 1200),  # 100
            ("b", "2024-01-10", "2024-02-20", 200),  # Jan only
            ("c", "2024-02-01", "2024-03-31", 400),
            ("c", "2024-04-01", "2024-04-30", 400),  # 200→400
            ("b", "2024-04-01", "2024-04-30", 50),  # b back
        ]
    )
    m = cohort_retention(c, "M")
    # Data end at the latest start month (April). Jan cohort {a, b}: Jan 2/2, Feb 1/2, Mar 1/2,
    # Apr 2/2 (b back). Feb cohort {c}: 1, 1, 1.
    assert m.loc["2024-01"].tolist() == pytest.approx([1.0, 0.5, 0.5, 1.0])
    assert m.loc["2024-02"].iloc[:3].tolist() == pytest.approx([1.0, 1.0, 1.0])
    assert math.isnan(m.loc["2024-02", 3])
    assert m.attrs["cohort_size"] == {"2024-01": 2, "2024-02": 1}
    assert list(m.index) == ["2024-01", "2024-02"]  # no customer started in March
    r = cohort_retention(c, "M", basis="revenue")
    # Feb cohort starting MRR 200; April 400 → 2.0.
    assert r.loc["2024-02", 2] == pytest.approx(2.0)
    # Jan cohort: a 100 + b 200 ÷ (1 + 11/30.44 months: 10 Jan → 21 Feb) at the start;
    # a 100 + b 50 in April.
    b_mrr = 200 / (1 + 11 / 30.436875)
    assert r.loc["2024-01", 3] == pytest.approx(150 / (100 + b_mrr))


def test_cohort_retention_quarterly():
    c = contracts(
        [
            ("a", "2024-01-01", "2024-12-31", 1200),
            ("b", "2024-02-01", "2024-04-30", 300),
            ("c", "2024-04-01", "2024-12-31", 900),
            ("z", "2024-10-01", "2024-12-31", 300),  # moves the data end to October
        ]
    )
    q = cohort_retention(c, "Q")
    # Q1 cohort {a, b}: end of Q1 2/2, end of Q2 1/2, end of Q3 1/2. Q2 cohort {c}: 1, 1.
    assert q.loc["2024Q1"].tolist() == pytest.approx([1.0, 0.5, 0.5])
    assert q.loc["2024Q2"].iloc[:2].tolist() == pytest.approx([1.0, 1.0])
    assert "2024Q4" not in q.index  # unfinished quarter left out
    with pytest.raises(KpitoolsError, match="basis='money'"):
        cohort_retention(c, "Q", basis="money")


def _events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "e"],
            "churn_date": pd.to_datetime(
                ["2024-07-03", "2024-08-09", "2024-09-30", "2024-10-01", "2024-07-20"]
            ),
            "reason": ["price", "price", "moved", "price", None],
            "mrr_lost": [100.0, 50.0, 20.0, 999.0, np.nan],
        }
    )


def test_churn_reasons_breakdown():
    t = churn_reasons(_events(), "2024Q3")
    # Q3: price ×2 (150 lost), moved ×1 (20), missing ×1 (0) → shares 0.5, 0.25, 0.25.
    assert t["reason"].tolist() == ["price", "(missing)", "moved"]
    assert t["customers"].tolist() == [2, 1, 1]
    assert t["share"].tolist() == pytest.approx([0.5, 0.25, 0.25])
    assert t["mrr_lost"].tolist() == pytest.approx([150.0, 0.0, 20.0])
    assert churn_reasons(_events())["customers"].sum() == 5


def test_churn_reasons_languages_and_empty():
    zh = churn_reasons(_events(), "2024Q3", lang="zh-TW")
    assert list(zh.columns) == ["流失原因", "客戶數", "占比", "流失 MRR"]
    en = churn_reasons(_events().drop(columns="mrr_lost"), "2024Q3", lang="en")
    assert list(en.columns) == ["Reason", "Customers", "Share"]
    assert churn_reasons(_events(), "2023Q1").empty
    with pytest.raises(KpitoolsError, match=r"lang='fr' is not one of"):
        churn_reasons(_events(), lang="fr")
