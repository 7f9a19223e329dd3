"""Web (GA4) and social KPIs on tables small enough to add up by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from kpitools._errors import KpitoolsError
from kpitools.metrics.web import (
    active_users,
    ad_revenue,
    affiliate_revenue,
    average_engagement_seconds,
    bounce_rate,
    content_revenue,
    engagement_rate,
    follower_growth_rate,
    followers,
    key_events,
    key_events_per_session,
    mentions,
    revenue_per_session,
    sessions,
    traffic_by_channel,
)


@pytest.fixture
def web_traffic() -> pd.DataFrame:
    # date        channel  sessions engaged users eng_sec key_ev  ad  affiliate ecommerce
    # 2024-07-01  organic     100      60    80    4000     5     10      5         0
    # 2024-07-01  paid         50      20    40    1000    10      0      -       100
    # 2024-07-02  organic     100      70    90    5000     5     20      0         0
    # 2024-10-01  organic      10       5     9      10     0      1      0         0  (Q4)
    return pd.DataFrame({
        "date": pd.to_datetime(["2024-07-01", "2024-07-01", "2024-07-02", "2024-10-01"]),
        "channel": ["organic", "paid", "organic", "organic"],
        "sessions": [100.0, 50.0, 100.0, 10.0],
        "engaged_sessions": [60.0, 20.0, 70.0, 5.0],
        "users": [80.0, 40.0, 90.0, 9.0],
        "engagement_seconds": [4000.0, 1000.0, 5000.0, 10.0],
        "key_events": [5.0, 10.0, 5.0, 0.0],
        "ad_revenue": [10.0, 0.0, 20.0, 1.0],
        "affiliate_revenue": [5.0, None, 0.0, 0.0],
        "ecommerce_revenue": [0.0, 100.0, 0.0, 0.0],
    })


def test_traffic_counts(web_traffic):
    assert sessions(web_traffic, "2024Q3") == 250.0          # 100 + 50 + 100
    assert active_users(web_traffic, "2024Q3") == 210.0      # 80 + 40 + 90 user-days
    assert key_events(web_traffic, "2024Q3") == 20.0         # 5 + 10 + 5


def test_engagement_and_bounce_are_complements(web_traffic):
    # engaged 60 + 20 + 70 = 150 of 250 sessions → 0.6; bounce 1 − 0.6 = 0.4
    assert engagement_rate(web_traffic, "2024Q3") == pytest.approx(0.6)
    assert bounce_rate(web_traffic, "2024Q3") == pytest.approx(0.4)


def test_average_engagement_seconds_per_user(web_traffic):
    # (4000 + 1000 + 5000) ÷ 210 user-days
    assert average_engagement_seconds(web_traffic, "2024Q3") == pytest.approx(10000 / 210)


def test_key_events_per_session(web_traffic):
    # 20 key events ÷ 250 sessions
    assert key_events_per_session(web_traffic, "2024Q3") == pytest.approx(0.08)


def test_revenue(web_traffic):
    # ad 10 + 0 + 20 = 30; affiliate 5 + (missing → 0) + 0 = 5; e-commerce 100
    assert ad_revenue(web_traffic, "2024Q3") == 30.0
    assert affiliate_revenue(web_traffic, "2024Q3") == 5.0
    assert content_revenue(web_traffic, "2024Q3") == 35.0
    # all streams 135 ÷ 250 sessions; content only 35 ÷ 250
    assert revenue_per_session(web_traffic, "2024Q3") == pytest.approx(135 / 250)
    assert revenue_per_session(web_traffic, "2024Q3", stream="content") == pytest.approx(35 / 250)
    with pytest.raises(KpitoolsError, match=r"unknown stream 'ads'.*\nHint: did you mean 'ad'"):
        revenue_per_session(web_traffic, stream="ads")


def test_revenue_columns_are_optional(web_traffic):
    bare = web_traffic[["date", "sessions", "users"]]
    assert ad_revenue(bare, "2024Q3") == 0.0 and math.isnan(revenue_per_session(bare, "2023Q1"))


def test_traffic_by_channel(web_traffic):
    out = traffic_by_channel(web_traffic, "2024Q3")
    # organic: 200 sessions, 130 engaged, 170 users, 10 key events, revenue 30 + 5 = 35
    # paid: 50 sessions, 20 engaged, 40 users, 10 key events, revenue 100
    assert list(out.index) == ["organic", "paid"]
    assert out.loc["organic", ["sessions", "engaged_sessions", "users", "key_events",
                               "revenue"]].tolist() == [200.0, 130.0, 170.0, 10.0, 35.0]
    assert out.loc["paid", "engagement_rate"] == pytest.approx(0.4)
    assert out.loc["paid", "key_events_per_session"] == pytest.approx(0.2)
    assert out["session_share"].tolist() == pytest.approx([0.8, 0.2])


def test_empty_period(web_traffic):
    # 2023Q1 is before the first row: sums are "no data" (NaN, shown as —), not 0 (issue 12).
    for f in (sessions, ad_revenue, engagement_rate, bounce_rate, average_engagement_seconds,
              key_events_per_session):
        assert math.isnan(f(web_traffic, "2023Q1")), f.__name__


def test_missing_column(web_traffic):
    with pytest.raises(KpitoolsError, match=r"lacks column\(s\) 'engaged_sessions'"):
        engagement_rate(web_traffic.drop(columns="engaged_sessions"))


@pytest.fixture
def social() -> pd.DataFrame:
    # fb: 1000 on 06-30, 1100 on 07-15, 1200 on 09-30; ig: first seen 08-01 with 200, 300 on 09-01
    return pd.DataFrame({
        "date": pd.to_datetime(["2024-06-30", "2024-07-15", "2024-09-30", "2024-08-01",
                                "2024-09-01"]),
        "platform": ["fb", "fb", "fb", "ig", "ig"],
        "followers": [1000.0, 1100.0, 1200.0, 200.0, 300.0],
        "mentions": [1.0, 2.0, 3.0, 4.0, 5.0],
    })


def test_followers_at_period_end(social):
    assert followers(social, "2024Q3") == 1500.0    # fb 1200 + ig 300
    assert followers(social, "2024-07") == 1100.0   # fb 1100 (07-15); ig not seen yet
    assert math.isnan(followers(social, "2023Q1"))  # nothing observed yet: no data


def test_follower_growth_rate(social):
    # start: fb 1000 (06-30, before Q3); ig first seen inside Q3 → 200. End 1500.
    # (1500 − 1200) ÷ 1200 = 0.25
    assert follower_growth_rate(social, "2024Q3") == pytest.approx(0.25)
    # July: fb 1000 → 1100 = 0.10
    assert follower_growth_rate(social, "2024-07") == pytest.approx(0.10)
    # reference example: 1,000 → 1,500 = 50 %
    ref = pd.DataFrame({"date": pd.to_datetime(["2024-01-01", "2024-03-31"]),
                        "platform": ["x", "x"], "followers": [1000.0, 1500.0]})
    assert follower_growth_rate(ref, "2024Q1") == pytest.approx(0.5)
    assert math.isnan(follower_growth_rate(social, "2023Q1"))


def test_mentions(social):
    assert mentions(social, "2024Q3") == 14.0       # 2 + 3 + 4 + 5
    assert mentions(social) == 15.0
