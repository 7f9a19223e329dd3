"""Goals measured on their scope: a region, a channel, a plan; said plainly when impossible."""

from __future__ import annotations

import pandas as pd
import pytest

import kpitools
from kpitools.goals import Goal, check_smart, scorecard
from kpitools.goals.parse import parse_goal
from kpitools.goals.scope import scoped


@pytest.fixture(scope="module")
def shop(sample_dir):
    return kpitools.load_client(sample_dir / "shop")


@pytest.fixture(scope="module")
def cloudledger(sample_dir):
    return kpitools.load_client(sample_dir / "cloudledger")


def test_region_scope_restricts_orders_to_that_regions_customers(shop):
    goal = parse_goal("LINE 通路的營收在2024Q4成長20%", data=shop).to_goal("line")
    row = scorecard([goal], shop, lang="en").iloc[0]
    o = shop["orders"]
    q4 = o[(o.order_date >= "2024-10-01") & (o.order_date < "2025-01-01")]
    line = q4[q4.channel == "line"]
    # revenue basis: amount − discount, LINE orders only
    assert row["actual"] == pytest.approx((line.amount - line.discount).sum())
    q3 = o[(o.order_date >= "2024-07-01") & (o.order_date < "2024-10-01")]
    q3_line = q3[q3.channel == "line"]
    assert row["baseline"] == pytest.approx((q3_line.amount - q3_line.discount).sum())


def test_region_scope_on_revenue(shop):
    goal = Goal(goal_id="tc", kpi="revenue", scope="台中", target=100_000.0, period="2024Q4",
                owner="店長", extra={"scope_kind": "region"})
    row = scorecard([goal], shop, lang="en").iloc[0]
    c, o = shop["customers"], shop["orders"]
    taichung = set(c.loc[c.region == "台中市", "customer_id"])
    q4 = o[(o.order_date >= "2024-10-01") & (o.order_date < "2025-01-01")
           & o.customer_id.isin(taichung)]
    assert row["actual"] == pytest.approx((q4.amount - q4.discount).sum())
    assert row["note"] == ""


def test_channel_scope_on_win_rate(cloudledger):
    goal = Goal(goal_id="ref", kpi="win_rate", scope="referral", target=0.2, period="2024Q3",
                owner="Sales", extra={"scope_kind": "channel"})
    row = scorecard([goal], cloudledger, lang="en").iloc[0]
    d = cloudledger["deals"]
    closed = d[(d.close_date >= "2024-07-01") & (d.close_date < "2024-10-01")
               & d.outcome.isin(["won", "lost"]) & (d.channel == "referral")]
    assert row["actual"] == pytest.approx((closed.outcome == "won").mean())


def test_scope_that_the_data_cannot_measure_is_said(cloudledger):
    # the article's software-company goal: leads from online ads; CloudLedger's deals have no
    # such channel (cold_outbound, website, events, partners, referral)
    text = "在接下來的六個月內，透過線上廣告獲得的合格潛在客戶數提升20%，由行銷部負責"
    findings = check_smart(text, cloudledger, lang="en", reference_date="2024-07-01",
                           strategy="acquire_customers")
    measurable = findings[1]
    assert measurable.status == "warn"
    assert 'no record in the data matches the scope "線上廣告"' in measurable.message
    # with the data's own channel name the scope is measured
    ok = check_smart(text.replace("線上廣告", "website"), cloudledger, lang="en",
                     reference_date="2024-07-01", strategy="acquire_customers")
    assert "scope" not in ok[1].message


def test_scoped_leaves_data_whole_without_a_scope():
    tables = {"orders": pd.DataFrame({"customer_id": ["a"], "channel": ["web"]})}
    assert scoped(tables, "all", "channel") == (tables, "")
    out, why = scoped(tables, "WEB", "channel")
    assert why == "" and len(out["orders"]) == 1
    assert scoped(tables, "B2B", "segment")[1] == "no_column"


def test_article_six_month_window_is_measured(cloudledger):
    """「在接下來的六個月內…」 set on 1 July 2024: measured over 1 Jul–31 Dec 2024 against the
    six months before, on the deals from the website (the data's name for the channel)."""
    text = "在接下來的六個月內，透過website獲得的合格潛在客戶數提升20%，由行銷部負責"
    goal = parse_goal(text, data=cloudledger, reference_date="2024-07-01").to_goal("g1")
    assert (goal.period, goal.deadline, goal.extra["start"]) == (None, "2024-12-31",
                                                                 "2024-07-01")
    d = cloudledger["deals"]
    stages = cloudledger.funnel_stages
    position = d.stage.str.strip().str.lower().map({s: i for i, s in enumerate(stages)})
    position = position.where(d.outcome != "won", len(stages) - 1)
    qualified = (position >= stages.index("qualified")) & (d.channel == "website")

    def count(start, stop):
        return float((qualified & (d.created_date >= start) & (d.created_date < stop)).sum())

    row = scorecard([goal], cloudledger, lang="en").iloc[0]
    assert row["period"] == "2024-07-01–2024-12-31"
    assert row["actual"] == count("2024-07-01", "2025-01-01")
    assert row["baseline"] == count("2024-01-01", "2024-07-01")  # the six months before
    assert row["target"] == pytest.approx(row["baseline"] * 1.2)
    findings = check_smart(goal, cloudledger, lang="en", strategy="acquire_customers")
    assert [f.status for f in findings][::4] == ["pass", "pass"]  # Specific, Time-bound
    assert findings[1].status == "pass"
    assert findings[2].status == "warn" and "window" in findings[2].message
