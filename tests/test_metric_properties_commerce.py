"""Property registry over the order, sales, service and web KPIs (sklearn's test_common idea).

Every registered KPI is checked for: rates within [0, 1], the same answer whatever the row order,
money KPIs scaling linearly with amounts (and ratios of money not moving), inputs left untouched,
and identical results on pandas input, a DuckDB-backed Ibis table and the Polars Ibis backend.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import ibis
import numpy as np
import pandas as pd
import pytest

from kpitools.metrics import orders as o
from kpitools.metrics import sales as s
from kpitools.metrics import service as sv
from kpitools.metrics import web as w

STAGES = ["lead", "qualified", "proposal", "negotiation", "won"]
SCALE = 3.0
#: Money columns per table: what "scale amounts by k" multiplies.
MONEY = {
    "orders": ["amount", "discount", "cost"],
    "deals": ["amount"],
    "quotas": ["quota"],
    "web_traffic": ["ad_revenue", "affiliate_revenue", "ecommerce_revenue"],
}


def _make_tables(seed: int = 11) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n = 60
    days = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    amount = rng.integers(1, 50, n) * 100.0
    orders = pd.DataFrame({
        "order_id": [f"o{i}" for i in range(n)],
        "customer_id": [f"c{i}" for i in rng.integers(0, 15, n)],
        "order_date": days,
        "amount": amount,
        "discount": np.where(rng.random(n) < 0.3, amount * 0.1, 0.0),
        "cost": np.where(rng.random(n) < 0.9, amount * 0.5, np.nan),
        "channel": rng.choice(["web", "shop", "line"], n),
        "product": rng.choice(["tea", "cup", "pot"], n),
    })
    m = 40
    created = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 300, m), unit="D")
    outcome = rng.choice(["won", "lost", "open"], m)
    stage = np.where(outcome == "won", "won", rng.choice(STAGES[:-1], m))
    close = created + pd.to_timedelta(rng.integers(5, 90, m), unit="D")
    deals = pd.DataFrame({
        "deal_id": [f"d{i}" for i in range(m)],
        "created_date": created,
        "close_date": close,
        "stage": stage,
        "outcome": outcome,
        "amount": rng.integers(1, 30, m) * 1000.0,
        "owner": rng.choice(["amy", "bob", "cai"], m),
        "channel": rng.choice(["web", "ads", "referral"], m),
        "lost_reason": np.where(outcome == "lost", rng.choice(["price", "timing"], m), None),
    })
    quotas = pd.DataFrame({"owner": ["amy", "bob", "cai"], "period": ["2024Q3"] * 3,
                           "quota": [50_000.0, 40_000.0, 30_000.0]})
    k = 50
    feedback = pd.DataFrame({
        "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, k), unit="D"),
        "csat": np.where(rng.random(k) < 0.8, rng.integers(1, 6, k), np.nan),
        "response_hours": np.where(rng.random(k) < 0.8, rng.gamma(2.0, 8.0, k), np.nan),
    })
    dates = pd.date_range("2024-06-01", "2024-09-30", freq="D")
    web = pd.DataFrame({
        "date": np.repeat(dates, 2),
        "channel": ["organic", "social"] * len(dates),
    })
    nw = len(web)
    web["sessions"] = rng.integers(0, 200, nw).astype(float)
    web["engaged_sessions"] = np.floor(web["sessions"] * rng.uniform(0.3, 0.9, nw))
    web["users"] = np.floor(web["sessions"] * 0.8)
    web["engagement_seconds"] = web["users"] * rng.uniform(10, 90, nw)
    web["key_events"] = rng.integers(0, 10, nw).astype(float)
    web["ad_revenue"] = rng.uniform(0, 50, nw).round(2)
    web["affiliate_revenue"] = rng.uniform(0, 20, nw).round(2)
    web["ecommerce_revenue"] = rng.uniform(0, 100, nw).round(2)
    sdates = pd.date_range("2024-05-01", "2024-10-31", freq="W")
    social = pd.DataFrame({
        "date": np.tile(sdates, 2),
        "platform": np.repeat(["fb", "ig"], len(sdates)),
        "followers": np.concatenate([1000 + 10 * np.arange(len(sdates)),
                                     400 + 7 * np.arange(len(sdates))]).astype(float),
        "mentions": rng.integers(0, 20, 2 * len(sdates)).astype(float),
    })
    return {"orders": orders, "deals": deals, "quotas": quotas, "feedback": feedback,
            "web_traffic": web, "social": social}


TABLES = _make_tables()


@dataclass(frozen=True)
class Case:
    """One KPI call: function, the tables it takes (by parameter name) and extra arguments."""

    name: str
    func: Callable
    tables: tuple[str, ...]
    kwargs: dict = field(default_factory=dict)
    rate: bool = False          # a fraction that must lie in [0, 1]
    money_power: int = 0        # result × k**money_power when money columns are × k
    period: str | None = "2024Q3"

    def __call__(self, data: dict) -> object:
        args = [data[t] for t in self.tables]
        return self.func(*args, period=self.period, **self.kwargs)


CASES = [
    Case("revenue", o.revenue, ("orders",), money_power=1),
    Case("revenue_gross", o.revenue, ("orders",), {"basis": "gross"}, money_power=1),
    Case("aov", o.aov, ("orders",), money_power=1),
    Case("gross_margin", o.gross_margin, ("orders",), money_power=1),
    Case("gross_margin_rate", o.gross_margin_rate, ("orders",), rate=True),
    Case("repeat_purchase_rate", o.repeat_purchase_rate, ("orders",), rate=True),
    Case("repeat_purchase_rate_all", o.repeat_purchase_rate, ("orders",), {"history": "all"},
         rate=True),
    Case("orders_per_customer", o.orders_per_customer, ("orders",)),
    Case("new_customers_orders", o.new_customers_orders, ("orders",)),
    Case("new_vs_returning_revenue", o.new_vs_returning_revenue, ("orders",)),
    Case("revenue_by_channel", o.revenue_by, ("orders",), {"by": "channel"}),
    Case("revenue_by_month", o.revenue_by, ("orders",), {"by": "month"}, period=None),
    Case("customer_summary", o.customer_summary, ("orders",)),
    Case("funnel", s.funnel, ("deals",), {"stages": STAGES, "by": "channel"}),
    Case("bottleneck", s.bottleneck, ("deals",), {"stages": STAGES}, period=None),
    Case("win_rate", s.win_rate, ("deals",), rate=True),
    Case("win_rate_created", s.win_rate, ("deals",), {"denominator": "created"}, rate=True),
    Case("sales_cycle_days", s.sales_cycle_days, ("deals",)),
    Case("sales_cycle_days_mean", s.sales_cycle_days, ("deals",), {"stat": "mean"}),
    Case("pipeline_coverage", s.pipeline_coverage, ("deals", "quotas")),
    Case("pipeline_coverage_mid", s.pipeline_coverage, ("deals", "quotas"),
         {"as_of": "2024-08-15"}),
    Case("quota_attainment", s.quota_attainment, ("deals", "quotas")),
    Case("lost_reasons", s.lost_reasons, ("deals",), period="2024"),
    Case("csat_average", sv.csat_average, ("feedback",)),
    Case("csat_share_satisfied", sv.csat_share_satisfied, ("feedback",), rate=True),
    Case("median_response_hours", sv.median_response_hours, ("feedback",)),
    Case("response_within_sla_rate", sv.response_within_sla_rate, ("feedback",), rate=True),
    Case("response_time_distribution", sv.response_time_distribution, ("feedback",)),
    Case("sessions", w.sessions, ("web_traffic",)),
    Case("active_users", w.active_users, ("web_traffic",)),
    Case("engagement_rate", w.engagement_rate, ("web_traffic",), rate=True),
    Case("bounce_rate", w.bounce_rate, ("web_traffic",), rate=True),
    Case("average_engagement_seconds", w.average_engagement_seconds, ("web_traffic",)),
    Case("key_events", w.key_events, ("web_traffic",)),
    Case("key_events_per_session", w.key_events_per_session, ("web_traffic",)),
    Case("revenue_per_session", w.revenue_per_session, ("web_traffic",), money_power=1),
    Case("ad_revenue", w.ad_revenue, ("web_traffic",), money_power=1),
    Case("affiliate_revenue", w.affiliate_revenue, ("web_traffic",), money_power=1),
    Case("content_revenue", w.content_revenue, ("web_traffic",), money_power=1),
    Case("traffic_by_channel", w.traffic_by_channel, ("web_traffic",)),
    Case("followers", w.followers, ("social",)),
    Case("follower_growth_rate", w.follower_growth_rate, ("social",)),
    Case("mentions", w.mentions, ("social",)),
]
FLOAT_CASES = [c for c in CASES if c.name not in {
    "new_vs_returning_revenue", "revenue_by_channel", "revenue_by_month", "customer_summary",
    "funnel", "bottleneck", "quota_attainment", "lost_reasons", "response_time_distribution",
    "traffic_by_channel"}]
ids = lambda c: c.name  # noqa: E731  (pytest id helper)


def assert_same(a: object, b: object) -> None:
    """Equal up to float rounding; DataFrames compared cell by cell (dtypes may differ)."""
    if isinstance(a, pd.DataFrame | pd.Series):
        pd.testing.assert_frame_equal(pd.DataFrame(a), pd.DataFrame(b), check_dtype=False,
                                      check_index_type=False, rtol=1e-9)
    elif isinstance(a, float):
        assert isinstance(b, float)
        assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-9)
    else:
        assert a == b


def test_every_case_gives_a_value():
    # Guard against a registry that checks nothing: most headline KPIs are defined here.
    values = [c(TABLES) for c in FLOAT_CASES]
    assert all(isinstance(v, float) for v in values)
    assert sum(not math.isnan(v) for v in values) == len(values)


@pytest.mark.parametrize("case", [c for c in CASES if c.rate], ids=ids)
def test_rates_are_fractions(case):
    value = case(TABLES)
    assert 0.0 <= value <= 1.0


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_row_order_does_not_matter(case):
    shuffled = {name: df.sample(frac=1.0, random_state=3).reset_index(drop=True)
                for name, df in TABLES.items()}
    assert_same(case(TABLES), case(shuffled))


@pytest.mark.parametrize("case", FLOAT_CASES, ids=ids)
def test_money_scales_linearly(case):
    scaled = {}
    for name, df in TABLES.items():
        cols = [c for c in MONEY.get(name, []) if c in df.columns]
        scaled[name] = df.assign(**{c: df[c] * SCALE for c in cols})
    assert case(scaled) == pytest.approx(case(TABLES) * SCALE ** case.money_power, rel=1e-9)


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_inputs_are_not_mutated(case):
    data = {name: df.copy(deep=True) for name, df in TABLES.items()}
    before = copy.deepcopy(data)
    case(data)
    for name in data:
        pd.testing.assert_frame_equal(data[name], before[name])


@pytest.fixture(scope="module")
def backends() -> dict[str, dict]:
    duck = ibis.duckdb.connect()
    pol = ibis.polars.connect()
    return {
        "duckdb": {n: duck.create_table(n, df) for n, df in TABLES.items()},
        "polars": {n: pol.create_table(n, df) for n, df in TABLES.items()},
    }


@pytest.mark.parametrize("backend", ["duckdb", "polars"])
@pytest.mark.parametrize("case", CASES, ids=ids)
def test_same_result_on_every_backend(case, backend, backends):
    assert_same(case(TABLES), case(backends[backend]))
