"""Pacing inside a period (kpi-definitions.md §3.3) and the goals scorecard."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import pandas as pd
import pytest

from kpitools._errors import KpitoolsError, UnknownKPIError
from kpitools.goals import CustomMetric, Goal, pacing, scorecard
from kpitools.periods import parse_period


# ---------------------------------------------------------------- pacing
def test_run_rate_example_from_research():
    # 96,000 after 12 of 30 days → run rate 8,000/day → 240,000 projected; goal 260,000 → 92.3 %
    p = pacing(96_000, 260_000, "2024-06", "2024-06-12")
    assert p.elapsed_fraction == pytest.approx(12 / 30)
    assert p.expected_to_date == pytest.approx(104_000)          # 260,000 × 12/30
    assert p.projected == pytest.approx(240_000)
    assert p.projected_attainment == pytest.approx(240 / 260)
    assert p.pace_ratio == pytest.approx(96 / 104)
    assert p.required_per_day == pytest.approx((260_000 - 96_000) / 18)
    assert p.status == "at_risk"
    assert p.label("zh-TW") == "有風險" and p.label("en") == "At risk"


@pytest.mark.parametrize(("actual", "status"), [
    (104_000, "on_track"),   # exactly on the linear path → 100 %
    (93_600, "at_risk"),     # 90 % of the path
    (93_000, "off_track"),   # 89.4 %
])
def test_status_bands(actual, status):
    assert pacing(actual, 260_000, "2024-06", "2024-06-12").status == status


def test_thresholds_are_parameters():
    p = pacing(93_000, 260_000, "2024-06", "2024-06-12", at_risk_at=0.85)
    assert p.status == "at_risk"


def test_after_period_end_reads_achieved_or_missed():
    assert pacing(270_000, 260_000, "2024-06", "2024-07-05").status == "achieved"
    assert pacing(240_000, 260_000, "2024-06", "2024-06-30").status == "near_miss"  # 92.3 %
    assert pacing(100_000, 260_000, "2024-06", "2024-06-30").status == "missed"


def test_level_metric_moves_linearly_from_baseline_and_projects_flat():
    # churn baseline 10 %, target 8 % for 2024Q1 (91 days); 45 of 91 days elapsed on 14 Feb
    p = pacing(0.09, 0.08, "2024Q1", "2024-02-14", direction="lower", cumulative=False,
               baseline=0.10)
    assert p.elapsed_fraction == pytest.approx(45 / 91)
    assert p.expected_to_date == pytest.approx(0.10 - 0.02 * 45 / 91)
    assert p.projected == pytest.approx(0.09)
    assert p.projected_attainment == pytest.approx(2 - 0.09 / 0.08)  # 87.5 %
    assert p.status == "off_track"


def test_business_day_curve():
    # June 2024 has 20 weekdays; 3–7 June are the first 5 (1–2 June is a weekend) → 25 %
    p = pacing(50, 200, "2024-06", "2024-06-07", curve="business_days")
    assert p.elapsed_fraction == pytest.approx(0.25)
    assert p.status == "on_track"  # 50 ÷ 0.25 = 200


def test_pacing_errors():
    with pytest.raises(KpitoolsError, match=r"as_of 2024-05-31 is before the period 2024-06"):
        pacing(1, 2, "2024-06", "2024-05-31")
    with pytest.raises(KpitoolsError, match=r"unknown pacing curve 'seasonal'"):
        pacing(1, 2, "2024-06", "2024-06-02", curve="seasonal")


# ---------------------------------------------------------------- scorecard with a fake catalog
@dataclass(frozen=True)
class FakeKPI:
    id: str
    name: dict
    unit: str
    direction: str
    tables: tuple
    formula: str

    def name_for(self, lang):
        return self.name[lang]


class FakeCatalog:
    """revenue = Σ orders.amount in the window (a flow); churn_rate = 4 % always (a level)."""

    kpis: ClassVar[dict] = {
        "revenue": FakeKPI("revenue", {"zh-TW": "營收", "en": "Revenue"}, "currency", "higher",
                           ("orders",), "Σ amount"),
        "churn_rate": FakeKPI("churn_rate", {"zh-TW": "流失率", "en": "Churn rate"}, "rate",
                              "lower", ("contracts",), "churned ÷ start"),
    }

    def get_kpi(self, kpi_id):
        if kpi_id not in self.kpis:
            raise UnknownKPIError(f"unknown KPI {kpi_id!r}.")
        return self.kpis[kpi_id]

    def compute_kpi(self, kpi_id, data, period=None):
        kpi = self.get_kpi(kpi_id)
        missing = [t for t in kpi.tables if t not in data]
        if missing:
            raise KpitoolsError(f"KPI '{kpi_id}' needs table(s) {missing}.\nHint: add them.")
        if kpi_id == "churn_rate":
            return 0.04
        p = parse_period(period) if isinstance(period, str) else period
        o = data["orders"]
        return float(o.loc[(o.order_date >= p.start) & (o.order_date < p.end), "amount"].sum())


ORDERS = pd.DataFrame({
    "order_date": pd.to_datetime(["2023-10-05", "2023-12-01", "2024-01-01", "2024-02-10",
                                  "2024-03-20", "2024-04-05"]),
    "amount": [500.0, 300.0, 300.0, 200.0, 400.0, 100.0],
})
DATA = {"orders": ORDERS, "contracts": pd.DataFrame()}
GOALS = [
    Goal(goal_id="g1", kpi="revenue", target=1000, period="2024Q1", owner="Sales"),
    Goal(goal_id="g2", kpi="revenue", target_change=0.25, period="2024Q1"),
    Goal(goal_id="g3", kpi="churn_rate", target=0.05, period="2024Q1"),
    Goal(goal_id="g4", kpi=CustomMetric("Store visitors", "door count", "counter"), target=10,
         period="2024Q1"),
    Goal(goal_id="g5", kpi="revenue", target=100, period="2024Q2"),
    Goal(goal_id="g6", kpi="revenue", target=4000, period="2024"),
]


def test_scorecard_full_periods():
    sc = scorecard(GOALS[:5], DATA, lang="en", catalog=FakeCatalog()).set_index("goal_id")
    # g1: Q1 revenue 300 + 200 + 400 = 900 against 1,000 → 90 % → near miss
    assert sc.loc["g1", "actual"] == 900
    assert sc.loc["g1", "attainment"] == pytest.approx(0.9)
    assert sc.loc["g1", "status"] == "near_miss"
    assert sc.loc["g1", "status_label"] == "Nearly met"
    # g2: baseline measured from 2023Q4 = 500 + 300 = 800; target 800 × 1.25 = 1,000
    assert (sc.loc["g2", "baseline"], sc.loc["g2", "baseline_period"]) == (800, "2023Q4")
    assert sc.loc["g2", "target"] == pytest.approx(1000)
    # g3: churn 4 % against 5 %, downward polarity 2 − 4/5 = 120 % → achieved
    assert sc.loc["g3", "attainment"] == pytest.approx(1.2)
    assert (sc.loc["g3", "method"], sc.loc["g3", "status"]) == ("downward_polarity", "achieved")
    # g4: custom metric, nothing to compute
    assert sc.loc["g4", "status"] == "no_data"
    assert "no catalog metric" in sc.loc["g4", "note"]
    # g5: Q2 revenue 100 → 100 %
    assert sc.loc["g5", "status"] == "achieved"
    # the data behind it
    assert sc.loc["g1", "tables"] == "orders" and sc.loc["g1", "formula"] == "Σ amount"
    assert str(sc.loc["g1", "window_end"]) == "2024-03-31"


def test_scorecard_mid_period_paces_flows_and_levels():
    sc = scorecard(GOALS[:3], DATA, as_of="2024-02-15", lang="zh-TW",
                   catalog=FakeCatalog()).set_index("goal_id")
    # 46 of 91 days; revenue to date 300 + 200 = 500; projected 500 × 91/46 = 989.13 → 98.9 %
    assert sc.loc["g1", "actual"] == 500
    assert sc.loc["g1", "elapsed_fraction"] == pytest.approx(46 / 91)
    assert sc.loc["g1", "expected_to_date"] == pytest.approx(1000 * 46 / 91)
    assert sc.loc["g1", "projected"] == pytest.approx(500 * 91 / 46)
    assert (sc.loc["g1", "status"], sc.loc["g1", "status_label"]) == ("at_risk", "有風險")
    # churn is a level: projected flat at 4 % → 120 % → on track
    assert sc.loc["g3", "projected"] == pytest.approx(0.04)
    assert sc.loc["g3", "status"] == "on_track"


def test_scorecard_flows_override():
    # declared a level, revenue to date (500) is projected flat: 500 ÷ 1,000 = 50 % → off track
    sc = scorecard(GOALS[:1], DATA, as_of="2024-02-15", catalog=FakeCatalog(), flows=[])
    assert (sc.loc[0, "projected"], sc.loc[0, "status"]) == (500, "off_track")


def test_scorecard_report_period_filters_and_paces_annual_goal():
    sc = scorecard(GOALS, DATA, "2024Q1", lang="en", catalog=FakeCatalog()).set_index("goal_id")
    assert "g5" not in sc.index  # a Q2 goal is not in the Q1 report
    # g6 (year 2024): measured to 31 March, 91 of 366 days; 900 → 900 × 366/91 = 3,619.8 → 90.5 %
    assert sc.loc["g6", "projected"] == pytest.approx(900 * 366 / 91)
    assert sc.loc["g6", "status"] == "at_risk"
    assert sc.loc["g1", "status"] == "near_miss"


def test_scorecard_missing_table_is_reported_not_raised():
    sc = scorecard([GOALS[0]], {"contracts": pd.DataFrame()}, lang="en", catalog=FakeCatalog())
    assert sc.loc[0, "status"] == "no_data"
    assert math.isnan(sc.loc[0, "actual"])
    assert "needs table(s) ['orders']" in sc.loc[0, "note"]


def test_scorecard_accepts_client_goal_dicts():
    goals = [{"goal_id": "g1", "kpi": "revenue", "target": 1000, "period": "2024Q1"}]
    sc = scorecard(goals, DATA, lang="en", catalog=FakeCatalog())
    assert list(sc["attainment"]) == [pytest.approx(0.9)]


# ---------------------------------------------------------------- on a sample client
@pytest.fixture(scope="module")
def pandablog(sample_dir):
    from kpitools.io import load_client

    return load_client(sample_dir / "pandablog")


def _ad_revenue(client, start, stop):
    wt = client["web_traffic"]
    return float(wt.loc[(wt["date"] >= start) & (wt["date"] < stop), "ad_revenue"].sum())


def test_scorecard_on_sample_client(pandablog):
    from kpitools.goals import goals_from_client

    sc = scorecard(goals_from_client(pandablog), pandablog, "2024Q4", lang="zh-TW")
    assert len(sc) == len(pandablog.goals)
    assert sc["kpi_name"].str.len().gt(0).all()
    assert set(sc["status"]) <= {"achieved", "near_miss", "missed"}
    g1 = sc.set_index("goal_id").loc["g1"]
    # independent: Σ web_traffic.ad_revenue over Q4 with pandas, against the target 51,500
    q4 = _ad_revenue(pandablog, "2024-10-01", "2025-01-01")
    assert g1["actual"] == pytest.approx(q4)
    assert g1["attainment"] == pytest.approx(q4 / 51_500)


def test_mid_quarter_scorecard_on_sample_client(pandablog):
    from kpitools.goals import goals_from_client

    goals = [g for g in goals_from_client(pandablog) if g.goal_id == "g1"]
    sc = scorecard(goals, pandablog, as_of="2024-11-15", lang="en")
    # 1 Oct – 15 Nov is 46 of Q4's 92 days: the run rate doubles the amount so far
    so_far = _ad_revenue(pandablog, "2024-10-01", "2024-11-16")
    assert sc.loc[0, "actual"] == pytest.approx(so_far)
    assert sc.loc[0, "elapsed_fraction"] == pytest.approx(0.5)
    assert sc.loc[0, "projected"] == pytest.approx(2 * so_far)
    assert str(sc.loc[0, "window_end"]) == "2024-11-15"


# ---------------------------------------------------------------- no look-ahead mid-period
# Three customers from 1 January 2024; B's contract ends on 20 November. As of 15 November B is
# still a customer: churn in Q4 so far is 0 of 3, not 1 of 3.
LOOKAHEAD = {"contracts": pd.DataFrame({
    "contract_id": ["a", "b", "c"], "customer_id": ["A", "B", "C"],
    "start_date": pd.to_datetime(["2024-01-01"] * 3),
    "end_date": pd.to_datetime(["2024-12-31", "2024-11-20", "2024-12-31"]),
    "total_value": [12_000.0, 10_000.0, 24_000.0],
})}


def test_mid_period_stock_kpis_use_nothing_after_as_of():
    from kpitools.catalog import compute_kpi

    goals = [Goal(goal_id="churn", kpi="logo_churn_rate", target=0.05, period="2024Q4"),
             Goal(goal_id="mrr", kpi="mrr", target=3_500.0, period="2024Q4")]
    sc = scorecard(goals, LOOKAHEAD, as_of="2024-11-15", lang="en").set_index("goal_id")
    # measured to 31 October, the last month-end before 15 November
    assert str(sc.loc["churn", "window_end"]) == "2024-10-31"
    assert sc.loc["churn", "actual"] == 0.0
    assert "measured to 2024-10-31, the last month-end before 2024-11-15" in sc.loc["churn", "note"]
    # MRR as of 15 November is October's closing MRR (B included), not November's
    assert sc.loc["mrr", "actual"] == pytest.approx(compute_kpi("mrr", LOOKAHEAD, "2024-10"))
    assert sc.loc["mrr", "actual"] > compute_kpi("mrr", LOOKAHEAD, "2024-11")
    # once November is over, B's departure counts: 1 of 3
    late = scorecard(goals[:1], LOOKAHEAD, as_of="2024-11-30", lang="en")
    assert late.loc[0, "actual"] == pytest.approx(1 / 3)
    # as of 10 October no month of Q4 has ended: nothing to measure yet
    early = scorecard(goals[:1], LOOKAHEAD, as_of="2024-10-10", lang="en")
    assert early.loc[0, "status"] == "no_data" and "No month" in early.loc[0, "note"]


@pytest.fixture(scope="module")
def cloudledger(sample_dir):
    from kpitools.io import load_client

    return load_client(sample_dir / "cloudledger")


def test_quarterly_churn_is_paced_on_what_has_happened(cloudledger):
    from kpitools.catalog import compute_kpi

    goal = Goal(goal_id="g2", kpi="logo_churn_rate", target=0.015, period="2024Q4",
                baseline=0.0207, owner="CS")
    sc = scorecard([goal], cloudledger, as_of="2024-11-15", lang="en").iloc[0]
    october = compute_kpi("logo_churn_rate", cloudledger, "2024-10")
    assert sc["actual"] == pytest.approx(october)
    # 31 of Q4's 92 days measured: the quarter is projected at the run rate, not held flat
    assert sc["elapsed_fraction"] == pytest.approx(31 / 92)
    assert sc["projected"] == pytest.approx(october * 92 / 31)
    assert sc["expected_to_date"] == pytest.approx(0.015 * 31 / 92)
