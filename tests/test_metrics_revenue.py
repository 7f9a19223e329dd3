"""Revenue KPIs from contracts: MRR, ARR, ACV, TCV, ARPA, MRR movements and quick ratio."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pandas as pd
import pytest

from kpitools import metrics
from kpitools._errors import KpitoolsError, PeriodError
from kpitools.metrics import acv, arpa, arr, mrr, mrr_movements, quick_ratio, tcv
from kpitools.periods import DAYS_PER_MONTH


def contracts(rows, **extra) -> pd.DataFrame:
    """(customer_id, start, end, total_value) tuples → a canonical contracts table."""
    df = pd.DataFrame(rows, columns=["customer_id", "start_date", "end_date", "total_value"])
    df.insert(0, "contract_id", [f"k{i}" for i in range(len(df))])
    df["start_date"] = pd.to_datetime(df["start_date"])
    df["end_date"] = pd.to_datetime(df["end_date"])
    df["total_value"] = df["total_value"].astype(float)
    for name, values in extra.items():
        df[name] = values
    return df


@pytest.mark.parametrize(
    "module",
    ["revenue", "retention", "value", "acquisition", "diagnosis"],
)
def test_docstring_examples_run(module):
    mod = getattr(metrics, module)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


# --- MRR and ARR -------------------------------------------------------------------------------


def test_mrr_normalizes_by_term_months():
    c = contracts(
        [
            ("a", "2024-01-01", "2024-12-31", 12000),  # 12 months → 1,000 / month
            ("b", "2024-01-15", "2024-07-14", 600),  # 6 months (to the day) → 100 / month
            ("c", "2024-03-01", "2026-02-28", 48000),  # 24 months → 2,000 / month
        ]
    )
    assert mrr(c, "2024-05") == pytest.approx(3100.0)
    # July ends after b's last day (07-14): 1,000 + 2,000.
    assert mrr(c, "2024-07") == pytest.approx(3000.0)


def test_mrr_stripe_example_monthly_and_annual_plans():
    # Stripe glossary: 100 subscribers at 100/month + 50 at 600/year = 10,000 + 2,500 = 12,500
    # (the printed "800/12" is a typo, kpi-definitions.md §1.1).
    n = 150
    c = contracts(
        list(
            zip(
                [f"c{i}" for i in range(n)],
                ["2024-01-01"] * n,
                ["2024-12-31"] * n,
                [1200.0] * 100 + [600.0] * 50,
                strict=True,
            )
        )
    )
    assert mrr(c, "2024Q2") == pytest.approx(12500.0)


def test_mrr_excludes_one_time_and_prefers_recurring_value():
    c = contracts(
        [("a", "2024-01-01", "2024-12-31", 15000), ("b", "2024-01-01", "2024-12-31", 9000)],
        one_time_fees=[3000.0, np.nan],
        recurring_value=[np.nan, 6000.0],
    )
    # a: (15,000 − 3,000) / 12 = 1,000; b: recurring 6,000 / 12 = 500.
    assert mrr(c, "2024-06") == pytest.approx(1500.0)


def test_mrr_at_start_is_previous_month_end():
    c = contracts([("a", "2024-01-01", "2024-06-30", 600), ("b", "2024-07-01", "2024-12-31", 1200)])
    # Opening of Q3 = June 30: only a (100). Closing = Sept 30: only b (200).
    assert mrr(c, "2024Q3", at="start") == pytest.approx(100.0)
    assert mrr(c, "2024Q3") == pytest.approx(200.0)


def test_mrr_contract_inside_a_month_is_invisible_and_before_data_is_nan():
    c = contracts([("a", "2024-03-05", "2024-03-20", 500)])
    assert mrr(c, "2024-03") == 0.0  # never covers a month-end (documented limit)
    assert mrr(c, "2024Q3") == 0.0  # a started before and ended: a real 0
    # 2023Q1: no contract had started → no data (NaN, shown as —), not 0 (issue 12).
    assert math.isnan(mrr(c, "2023Q1"))
    assert math.isnan(arr(c, "2023Q1"))


def test_mrr_none_means_latest_data_month():
    c = contracts([("a", "2024-01-01", "2025-12-31", 2400), ("b", "2024-05-10", "2024-12-31", 0)])
    # Latest start_date is 2024-05-10 → snapshot at 2024-05-31: a = 2,400 / 24 = 100.
    assert mrr(c) == pytest.approx(100.0)


def test_arr_chartmogul_example_and_contract_arr():
    # ChartMogul: 5 customers × 5 = 25 MRR → ARR 300.
    c = contracts([(f"c{i}", "2024-01-01", "2024-12-31", 60) for i in range(5)])
    assert arr(c, "2024-06") == pytest.approx(300.0)
    short = contracts(
        [("a", "2024-01-01", "2024-12-31", 1200), ("b", "2024-04-01", "2024-09-30", 600)]
    )
    # All contracts: (100 + 100) × 12 = 2,400; contract ARR keeps the 12-month one only: 1,200.
    assert arr(short, "2024-06") == pytest.approx(2400.0)
    assert arr(short, "2024-06", contract_arr=True) == pytest.approx(1200.0)


# --- ARPA ----------------------------------------------------------------------------------------


def test_arpa_chartmogul_example():
    # 100, 100, 300, 500, 500 → 1,500 ÷ 5 = 300 (ChartMogul ARPA page).
    c = contracts(
        [
            (f"c{i}", "2024-01-01", "2024-12-31", 12 * m)
            for i, m in enumerate([100, 100, 300, 500, 500])
        ]
    )
    assert arpa(c, "2024Q1") == pytest.approx(300.0)


def test_arpa_counts_a_customer_once_and_nan_without_payers():
    c = contracts(
        [
            ("a", "2024-01-01", "2024-12-31", 1200),
            ("a", "2024-01-01", "2024-12-31", 2400),
            ("b", "2024-01-01", "2024-12-31", 3600),
        ]
    )
    # MRR 100 + 200 + 300 = 600 over 2 customers = 300, over 3 subscriptions = 200.
    assert arpa(c, "2024-03") == pytest.approx(300.0)
    assert arpa(c, "2024-03", denominator="subscriptions") == pytest.approx(200.0)
    assert math.isnan(arpa(c, "2025-03"))
    with pytest.raises(KpitoolsError, match=r"denominator='users' is not one of"):
        arpa(c, "2024-03", denominator="users")


# --- ACV and TCV ---------------------------------------------------------------------------------


def test_acv_published_examples():
    c = contracts(
        [
            ("t", "2024-01-01", "2026-12-31", 380000),  # trustenablement: (380k − 20k) ÷ 3 = 120k
            ("m", "2024-01-01", "2026-12-31", 90000),  # timber.me: (90k − 5k) ÷ 3 = 28,333.33
            ("p", "2024-01-01", "2024-12-31", 50000),  # practicalcsm: 30k licence + 20k setup → 30k
            ("h", "2024-01-01", "2024-06-30", 6000),  # 6 months, not inflated → 6,000
        ],
        one_time_fees=[20000.0, 5000.0, 20000.0, 0.0],
    )
    per = acv(c, mode="per_contract").set_index("customer_id")["acv"]
    assert per.to_dict() == pytest.approx(
        {"t": 120000.0, "m": 85000 / 3, "p": 30000.0, "h": 6000.0}
    )
    # include_one_time divides total_value: 380k ÷ 3, 90k ÷ 3, 50k, 6k.
    incl = acv(c, include_one_time=True, mode="per_contract").set_index("customer_id")["acv"]
    assert incl["t"] == pytest.approx(380000 / 3)
    assert incl["p"] == pytest.approx(50000.0)
    # Average: (120,000 + 28,333.33 + 30,000 + 6,000) ÷ 4.
    assert acv(c, "2024") == pytest.approx((120000 + 85000 / 3 + 30000 + 6000) / 4)


def test_acv_by_tier_period_filter_and_empty():
    c = contracts(
        [
            ("a", "2024-01-10", "2025-01-09", 1000),
            ("b", "2024-02-01", "2025-01-31", 3000),
            ("c", "2024-03-01", "2025-02-28", 8000),
            ("d", "2024-04-01", "2025-03-31", 9999),
        ],
        tier=["basic", "basic", "enterprise", None],
    )
    s = acv(c, "2024Q1", by="tier")
    # Q1: basic (1,000 + 3,000) ÷ 2 = 2,000; enterprise 8,000. d starts in Q2.
    assert s.to_dict() == pytest.approx({"basic": 2000.0, "enterprise": 8000.0})
    assert acv(c, "2024Q2", by="tier").to_dict() == pytest.approx({"(missing)": 9999.0})
    assert math.isnan(acv(c, "2023"))
    assert acv(c, "2023", mode="per_contract").empty
    with pytest.raises(KpitoolsError, match="lacks column"):
        acv(c.drop(columns="tier"), by="tier")


def test_tcv_total_and_average():
    c = contracts(
        [
            ("a", "2024-01-01", "2026-12-31", 36000),
            ("b", "2024-05-01", "2024-10-31", 5000),
            ("c", "2025-01-01", "2025-12-31", 7000),
        ]
    )
    assert tcv(c, "2024") == pytest.approx(41000.0)
    assert tcv(c, "2024", mode="average") == pytest.approx(20500.0)
    assert tcv(c) == pytest.approx(48000.0)
    # 2023: no contract had started yet → no data (NaN), not 0 (issue 12).
    assert math.isnan(tcv(c, "2023"))
    assert math.isnan(tcv(c, "2023", mode="average"))
    # 2026: a runs, nothing new was booked → a real 0 total, NaN average (0 contracts).
    assert tcv(c, "2026") == 0.0
    assert math.isnan(tcv(c, "2026", mode="average"))


# --- MRR movements -------------------------------------------------------------------------------


def _moves(c, start, end, **kw) -> pd.DataFrame:
    return mrr_movements(c, start, end, **kw).set_index(
        mrr_movements(c, start, end, **kw)["month"].dt.strftime("%Y-%m")
    )


def test_movements_lago_example_upgrade_then_terminate():
    # Lago: 100/month; upgrade to 200/month in March; terminated 10 April.
    # March: start 100, expansion +100, end 200. April: start 200, churn 200, end 0.
    april_term = 1 + 9 / DAYS_PER_MONTH  # 1 March .. 9 April = 1 month + 9 days
    c = contracts(
        [
            ("x", "2024-01-01", "2024-02-29", 200),
            ("x", "2024-03-01", "2024-04-09", 200 * april_term),
        ]
    )
    m = _moves(c, "2024-01", "2024-04")
    assert m.loc["2024-01", ["new", "mrr_end"]].tolist() == pytest.approx([100, 100])
    assert m.loc["2024-03", ["expansion", "mrr_start", "mrr_end"]].tolist() == pytest.approx(
        [100, 100, 200]
    )
    assert m.loc["2024-04", ["churn", "mrr_start", "mrr_end"]].tolist() == pytest.approx(
        [200, 200, 0]
    )
    assert m.loc["2024-02", ["new", "expansion", "contraction", "churn"]].sum() == 0


def test_movements_chartmogul_story_with_reactivation():
    # Gold yearly 2,000 → new 166.67; 2 Silver monthly (60 in total) → expansion 60;
    # Silver cancelled while Gold runs → contraction 60; Gold ends → churn 166.67 the month
    # after its last month; re-subscribing later → reactivation.
    c = contracts(
        [
            ("g", "2024-01-01", "2024-12-31", 2000),
            ("g", "2024-03-01", "2024-05-31", 180),  # Silver: 60 / month for 3 months
            ("g", "2025-03-01", "2025-05-31", 300),  # back: 100 / month
        ]
    )
    m = _moves(c, "2024-01", "2025-03")
    assert m.loc["2024-01", "new"] == pytest.approx(2000 / 12)
    assert m.loc["2024-03", "expansion"] == pytest.approx(60)
    assert m.loc["2024-06", "contraction"] == pytest.approx(60)
    assert m.loc["2025-01", "churn"] == pytest.approx(2000 / 12)
    assert m.loc["2025-03", "reactivation"] == pytest.approx(100)
    assert m["new"].sum() == pytest.approx(2000 / 12)  # a returning customer is not new
    as_exp = _moves(c, "2025-03", "2025-03", reactivation_as="expansion")
    assert as_exp.loc["2025-03", ["expansion", "reactivation"]].tolist() == pytest.approx([100, 0])
    as_new = _moves(c, "2025-03", "2025-03", reactivation_as="new")
    assert as_new.loc["2025-03", ["new", "reactivation"]].tolist() == pytest.approx([100, 0])


def test_movements_are_netted_and_cancel_one_of_two_is_contraction():
    c = contracts(
        [
            ("a", "2024-01-01", "2024-12-31", 1200),  # 100
            ("a", "2024-01-01", "2024-03-31", 150),  # +50 until March → a drops to 100 in April
            ("a", "2024-04-01", "2024-12-31", 270),  # +30 from April → net April: −50 + 30 = −20
        ]
    )
    m = _moves(c, "2024-04", "2024-04")
    assert m.loc["2024-04", ["contraction", "expansion", "churn"]].tolist() == pytest.approx(
        [20, 0, 0]
    )


def test_movements_bridge_identity_and_empty_range():
    rng = np.random.default_rng(7)
    starts = pd.to_datetime("2023-01-01") + pd.to_timedelta(rng.integers(0, 700, 60), "D")
    ends = starts + pd.to_timedelta(rng.integers(20, 500, 60), "D")
    c = contracts(
        list(
            zip(
                rng.choice(list("abcdefghij"), 60),
                starts,
                ends,
                rng.integers(100, 5000, 60).astype(float),
                strict=True,
            )
        )
    )
    m = mrr_movements(c, "2023-01", "2025-06")
    assert np.allclose(m["mrr_start"] + m["net"], m["mrr_end"])
    assert np.allclose(m["mrr_start"].iloc[1:].to_numpy(), m["mrr_end"].iloc[:-1].to_numpy())
    assert (m[["new", "expansion", "contraction", "churn", "reactivation"]] >= 0).all().all()
    assert mrr_movements(c, "2025-01", "2024-01").empty


# --- quick ratio ---------------------------------------------------------------------------------


def test_quick_ratio_pitchkit_example():
    # new 20k, expansion 8k, churn 5k, contraction 3k → (20 + 8) ÷ (5 + 3) = 3.5.
    c = contracts(
        [
            ("n", "2024-07-01", "2024-07-31", 20000),
            ("e", "2024-06-01", "2024-06-30", 10000),
            ("e", "2024-07-01", "2024-07-31", 18000),
            ("x", "2024-06-01", "2024-06-30", 5000),
            ("d", "2024-06-01", "2024-06-30", 10000),
            ("d", "2024-07-01", "2024-07-31", 7000),
            ("r", "2024-04-01", "2024-04-30", 4000),
            ("r", "2024-07-01", "2024-07-31", 4000),
        ]
    )
    # r comes back in July (+4k reactivation): (20 + 8 + 4) ÷ 8 = 4.0; Baremetrics drops it.
    assert quick_ratio(c, "2024-07") == pytest.approx(4.0)
    assert quick_ratio(c, "2024-07", include_reactivation=False) == pytest.approx(3.5)
    assert quick_ratio(c, "2024-05") == 0.0  # r churns in May, nothing gained
    assert math.isnan(quick_ratio(c, "2024-03"))  # nothing lost in March → undefined


def test_bad_arguments_teach():
    c = contracts([("a", "2024-01-01", "2024-12-31", 1200)])
    with pytest.raises(PeriodError, match="cannot read period '2024-Q5'"):
        mrr(c, "2024-Q5")
    with pytest.raises(KpitoolsError, match=r"at='middle' is not one of \['end', 'start'\]"):
        mrr(c, "2024-01", at="middle")
    with pytest.raises(KpitoolsError, match=r"lacks column\(s\) 'total_value'"):
        mrr(c.drop(columns="total_value"), "2024-01")
    with pytest.raises(KpitoolsError, match="reactivation_as='lago'"):
        mrr_movements(c, reactivation_as="lago")
    with pytest.raises(KpitoolsError, match="contracts table has no rows"):
        mrr(c.iloc[:0])
