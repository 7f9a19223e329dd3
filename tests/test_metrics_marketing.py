"""Marketing KPIs the article names, each against a hand computation or plain pandas."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from kpitools._errors import KpitoolsError
from kpitools.catalog import compute_kpi
from kpitools.metrics.marketing import (
    ad_conversion_rate,
    ad_ctr,
    ecommerce_conversion_rate,
    market_revenue,
    qualified_leads,
    qualified_leads_by,
)

STAGES = ["lead", "qualified", "demo", "proposal", "won"]
DEALS = pd.DataFrame({
    "deal_id": list("abcdefg"),
    "created_date": pd.to_datetime(["2024-01-03", "2024-01-10", "2024-02-01", "2024-02-14",
                                    "2024-03-30", "2024-04-02", "2024-03-05"]),
    "stage": ["lead", "qualified", "demo", "lead", "proposal", "qualified", "lead"],
    "outcome": ["lost", "open", "lost", "open", "open", "open", "won"],
    "channel": ["online_ads", "online_ads", "referral", "online_ads", "Online_Ads ", "events",
                "referral"],
})


def test_qualified_leads_by_hand():
    # Q1 deals a–e and g; reaching "qualified" or later: b (qualified), c (demo), e (proposal),
    # g (won, so it passed every stage) = 4. Deal f is created in Q2.
    assert qualified_leads(DEALS, STAGES, "2024Q1") == 4.0
    # from online ads (case and spaces ignored): b and e = 2
    assert qualified_leads(DEALS, STAGES, "2024Q1", channel="online_ads") == 2.0
    # reaching "demo" or later: c, e, g = 3
    assert qualified_leads(DEALS, STAGES, "2024Q1", stage="demo") == 3.0
    by = qualified_leads_by(DEALS, STAGES, "2024Q1")
    assert by.to_dict() == {"referral": 2.0, "online_ads": 1.0, "Online_Ads ": 1.0}
    with pytest.raises(KpitoolsError, match="stage 'sql' is not one of the funnel stages"):
        qualified_leads(DEALS, STAGES, "2024Q1", stage="sql")


def test_qualified_leads_from_the_catalog_use_the_client_stages(sample_dir):
    import kpitools

    client = kpitools.load_client(sample_dir / "cloudledger")
    deals = client["deals"]
    stages = client.funnel_stages
    q = deals[(deals.created_date >= "2024-07-01") & (deals.created_date < "2024-10-01")]
    position = q.stage.str.strip().str.lower().map({s: i for i, s in enumerate(stages)})
    position = position.where(q.outcome != "won", len(stages) - 1)
    expected = float((position >= stages.index("qualified")).sum())
    assert compute_kpi("qualified_leads", client, "2024Q3") == expected


SPEND = pd.DataFrame({
    "period": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-02-01", "2024-04-01"]),
    "channel": ["google", "google", "meta", "google"],
    "spend": [1000.0, 1200.0, 800.0, 900.0],
    "impressions": [40_000.0, 60_000.0, None, 10_000.0],
    "clicks": [800.0, 900.0, 300.0, 100.0],
    "conversions": [24.0, 18.0, 3.0, 1.0],
})


def test_ad_ctr_and_conversion_by_hand():
    # Q1 rows with both impressions and clicks: (800 + 900) / (40,000 + 60,000) = 1.7 %
    assert ad_ctr(SPEND, "2024Q1") == pytest.approx(0.017)
    # conversions / clicks in Q1 over all three rows: (24 + 18 + 3) / (800 + 900 + 300) = 2.25 %
    assert ad_conversion_rate(SPEND, "2024Q1") == pytest.approx(0.0225)
    assert ad_conversion_rate(SPEND, "2024Q1", channel="meta") == pytest.approx(0.01)
    assert math.isnan(ad_ctr(SPEND, "2024Q3"))
    with pytest.raises(KpitoolsError, match=r"marketing_spend has no \['impressions'\]"):
        ad_ctr(SPEND.drop(columns="impressions"), "2024Q1")


def test_ecommerce_conversion_rate_on_the_sample_shop(sample_dir):
    import kpitools

    shop = kpitools.load_client(sample_dir / "shop")
    o, w = shop["orders"], shop["web_traffic"]
    in_q = (o.order_date >= "2024-10-01") & (o.order_date < "2025-01-01")
    website_orders = int((in_q & (o.channel == "website")).sum())
    sessions = w.loc[(w.date >= "2024-10-01") & (w.date < "2025-01-01"), "sessions"].sum()
    assert compute_kpi("ecommerce_conversion_rate", shop, "2024Q4") == pytest.approx(
        website_orders / sessions)
    # marketplace (LINE, Shopee) and shop orders are not website conversions
    all_orders = ecommerce_conversion_rate(o, w, "2024Q4", order_channels=None)
    assert all_orders == pytest.approx(int(in_q.sum()) / sessions)


def test_market_revenue_by_hand():
    orders = pd.DataFrame({
        "order_id": ["1", "2", "3", "4"], "customer_id": ["x", "y", "x", "z"],
        "order_date": pd.to_datetime(["2024-01-05", "2024-02-01", "2024-04-01", "2024-03-09"]),
        "amount": [1000.0, 2000.0, 500.0, 300.0], "discount": [100.0, 0.0, 0.0, None],
    })
    customers = pd.DataFrame({"customer_id": ["x", "y", "z"],
                              "region": ["台中市", "台北市", " 台中市"],
                              "segment": ["B2B", "B2C", "B2C"]})
    # Q1 Taichung: x (1000 − 100) + z (300 − 0) = 1,200
    assert market_revenue(orders, customers, "2024Q1", region="台中市") == 1200.0
    # B2C in Q1: y 2000 + z 300 = 2,300; B2C in Taichung: z only = 300
    assert market_revenue(orders, customers, "2024Q1", segment="b2c") == 2300.0
    assert market_revenue(orders, customers, "2024Q1", region="台中市", segment="B2C") == 300.0
    # without a market named: regions new in the period. Taichung (x, z) and Taipei (y) all
    # first ordered in 2024Q1, so every Q1 order counts: 900 + 2000 + 300 = 3,200; in Q2 no
    # region is new any more
    assert market_revenue(orders, customers, "2024Q1") == 3200.0
    assert market_revenue(orders, customers, "2024Q2") == 0.0
    with pytest.raises(KpitoolsError, match="measures new regions and needs a period"):
        market_revenue(orders, customers)


def test_market_revenue_region_may_be_the_start_of_the_name():
    orders = pd.DataFrame({"order_id": ["1", "2"], "customer_id": ["x", "y"],
                           "order_date": pd.to_datetime(["2024-01-05", "2024-02-01"]),
                           "amount": [1000.0, 2000.0]})
    customers = pd.DataFrame({"customer_id": ["x", "y"], "region": ["台中市", "台北市"]})
    # 「台中」 (as in 「台中市場」) is Taichung City: order 1 only
    assert market_revenue(orders, customers, "2024Q1", region="台中") == 1000.0
