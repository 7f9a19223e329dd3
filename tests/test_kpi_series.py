"""Set-based KPI series (issue 13): one grouped query per KPI, the same numbers as period by period.

The expected values are the old path: :func:`compute_kpi` called once per period on the pandas
tables of the sample clients. The series under test runs on pandas frames, on a DuckDB-backed
Ibis table and on Polars input.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import ibis
import numpy as np
import pandas as pd
import polars as pl
import pytest

import kpitools
from kpitools.catalog import compute_kpi, get_kpi, kpi_series, list_kpis
from kpitools.periods import period_range

CLIENTS = ("shop", "pandablog", "cloudledger")
#: (freq, start, end) of the series compared: quarters over the sample years and a month range
#: that starts before and ends after the data, so empty periods are compared too.
RANGES = (("Q", "2022Q1", "2025Q4"), ("M", "2024-10", "2025-01"))
FLOATS = [k for k in list_kpis() if k.returns == "float"]


@pytest.fixture(scope="module")
def clients(sample_dir):
    return {name: kpitools.load_client(sample_dir / name) for name in CLIENTS}


def _old_path(kpi_id, data, freq, start, end):
    fy = getattr(data, "fiscal_year_start_month", 1)
    periods = period_range(start, end, freq, fiscal_year_start_month=fy)
    return pd.Series(
        [float(compute_kpi(kpi_id, data, p)) for p in periods],
        index=pd.Index([p.label for p in periods], name="period"),
        name=kpi_id,
    )


def _usable(client, kpi_id):
    return all(client.has(t) and len(client[t]) > 0 for t in get_kpi(kpi_id).tables)


@pytest.mark.parametrize("freq,start,end", RANGES, ids=["quarters", "months"])
@pytest.mark.parametrize("name", CLIENTS)
def test_series_equals_the_per_period_results_on_sample_clients(clients, name, freq, start, end):
    client = clients[name]
    checked = 0
    for kpi in FLOATS:
        if not kpi.set_based or not _usable(client, kpi.id):
            continue
        expected = _old_path(kpi.id, client, freq, start, end)
        got = kpi_series(kpi.id, client, freq, start, end)
        pd.testing.assert_series_equal(got, expected, rtol=1e-9, obj=f"{name}/{kpi.id}")
        checked += 1
    assert checked >= 4, f"{name}: only {checked} set-based KPIs apply"


def _as_backend(tables: dict, backend: str) -> dict:
    if backend == "duckdb":
        con = ibis.duckdb.connect()
        return {n: con.create_table(n, df) for n, df in tables.items()}
    return {n: pl.from_pandas(df) for n, df in tables.items()}


@pytest.mark.parametrize("backend", ["duckdb", "polars"])
@pytest.mark.parametrize("name", CLIENTS)
def test_series_is_the_same_on_duckdb_and_polars_inputs(clients, name, backend):
    client = clients[name]
    frames = {
        t: client[t]
        for t in ("orders", "web_traffic", "social", "feedback", "deals", "contracts")
        if client.has(t) and len(client[t]) > 0
    }
    data = SimpleNamespace(
        tables=_as_backend(frames, backend),
        fiscal_year_start_month=client.fiscal_year_start_month,
        funnel_stages=client.funnel_stages,
    )
    for kpi in FLOATS:
        if not kpi.set_based or not set(kpi.tables) <= set(frames):
            continue
        expected = _old_path(kpi.id, client, "Q", "2023Q3", "2025Q1")
        got = kpi_series(kpi.id, data, "Q", "2023Q3", "2025Q1")
        pd.testing.assert_series_equal(got, expected, rtol=1e-9, obj=f"{backend}/{kpi.id}")


def test_every_float_kpi_says_how_its_series_is_computed():
    """The catalog names each KPI computed period by period (``series: per_period``)."""
    import yaml

    from kpitools import catalog

    for path in sorted(catalog._HERE.glob("kpis_*.yaml")):
        for raw in yaml.safe_load(path.read_text("utf-8")):
            if raw.get("returns", "float") == "float":
                assert raw.get("series"), f"{path.name}: {raw['id']} has no 'series:'"
    per_period = {k.id for k in FLOATS if not k.set_based}
    # a model fitted per period, a per-platform growth between two snapshots, and a pipeline
    # measured on each period's first day against that period's own quota rows
    assert per_period == {"predicted_clv", "projected_retention", "follower_growth_rate",
                          "pipeline_coverage"}


def test_a_series_is_one_query_not_one_per_period(monkeypatch):
    """36 months of new customers: the per-period function is never called."""
    from kpitools.metrics import orders as o

    calls = []
    monkeypatch.setattr(o, "new_customers_orders", lambda *a, **k: calls.append(1))
    from kpitools import catalog

    catalog._resolve.cache_clear()
    try:
        rng = np.random.default_rng(3)
        n = 400
        df = pd.DataFrame(
            {
                "order_id": [f"o{i}" for i in range(n)],
                "customer_id": [f"c{i}" for i in rng.integers(0, 120, n)],
                "order_date": pd.Timestamp("2022-01-01")
                + pd.to_timedelta(rng.integers(0, 3 * 365, n), unit="D"),
                "amount": 100.0,
            }
        )
        got = kpi_series("new_customers_orders", {"orders": df}, "M", "2022-01", "2024-12")
    finally:
        catalog._resolve.cache_clear()
    assert not calls
    assert len(got) == 36
    # plain pandas: each customer's first order month, counted
    first = df.groupby("customer_id")["order_date"].min().dt.strftime("%Y-%m")
    expected = first.value_counts().reindex(got.index, fill_value=0).astype(float)
    np.testing.assert_array_equal(got.to_numpy(), expected.to_numpy())
    assert got.sum() == df["customer_id"].nunique()


def test_fiscal_quarters_group_like_the_per_period_path():
    """An April fiscal year: '2024Q1' is April–June 2024 in both paths."""
    df = pd.DataFrame(
        {
            "order_id": ["a", "b", "c", "d"],
            "customer_id": ["x", "y", "x", "z"],
            "order_date": pd.to_datetime(["2024-03-31", "2024-04-01", "2024-06-30", "2024-07-01"]),
            "amount": [100.0, 200.0, 300.0, 400.0],
        }
    )
    data = SimpleNamespace(tables={"orders": df}, fiscal_year_start_month=4)
    got = kpi_series("revenue", data, "Q", "2023Q4", "2024Q2")
    # hand: FY2023Q4 = Jan–Mar 2024 → 100; FY2024Q1 = Apr–Jun → 200 + 300; Q2 = Jul–Sep → 400
    assert got.to_dict() == {"2023Q4": 100.0, "2024Q1": 500.0, "2024Q2": 400.0}
    assert got.equals(_old_path("revenue", data, "Q", "2023Q4", "2024Q2"))


def test_series_passes_keyword_arguments_and_errors_through():
    df = pd.DataFrame(
        {
            "order_id": ["a"],
            "customer_id": ["x"],
            "order_date": pd.to_datetime(["2024-02-01"]),
            "amount": [100.0],
            "discount": [10.0],
        }
    )
    got = kpi_series("revenue", {"orders": df}, "Q", "2024Q1", "2024Q2", basis="gross")
    # 2024Q2 lies after the only order: "no data" (NaN), as compute_kpi says for that quarter
    assert got["2024Q1"] == 100.0 and math.isnan(got["2024Q2"])
    with pytest.raises(kpitools.KpitoolsError, match="unknown basis 'grose'"):
        kpi_series("revenue", {"orders": df}, "Q", "2024Q1", "2024Q2", basis="grose")
    assert math.isnan(kpi_series("aov", {"orders": df}, "Q", "2024Q1", "2024Q2")["2024Q2"])


@pytest.mark.parametrize(
    "kpi_id,kwargs",
    [
        ("arpa", {"denominator": "subscriptions"}),
        ("logo_churn_rate", {"same_period_new": "include"}),
        ("logo_churn_rate", {"same_period_new": "include_numerator"}),
        ("cltv", {"churn_smoothing": "trailing_6m"}),
        ("cltv", {"gross_margin": 0.7}),
        ("arr", {"contract_arr": True}),
        ("mrr", {"at": "start"}),
        ("nrr", {"window_months": 6}),
        ("grr", {"window_months": 3}),
        ("repeat_purchase_rate", {"history": "all"}),
        ("win_rate", {"denominator": "created"}),
        ("sales_cycle_days", {"stat": "mean"}),
        ("revenue_per_session", {"stream": "ad"}),
        ("cac", {"mode": "paid"}),
        ("cac", {"mode": "paid", "spend_lag_months": 2}),
        ("cac_payback_months", {"arpa_basis": "all", "gross_margin": 0.7}),
        ("cac_payback_months", {"mode": "paid", "spend_lag_months": 1}),
        ("ltv_to_cac", {"mode": "paid", "churn_smoothing": "trailing_6m"}),
    ],
)
def test_switches_give_the_per_period_results(clients, kpi_id, kwargs):
    kpi = get_kpi(kpi_id)
    client = next(clients[n] for n in CLIENTS if _usable(clients[n], kpi_id))
    periods = period_range("2023Q3", "2025Q1", "Q")
    expected = [float(compute_kpi(kpi_id, client, p, **kwargs)) for p in periods]
    got = kpi_series(kpi_id, client, "Q", "2023Q3", "2025Q1", **kwargs)
    assert kpi.set_based
    np.testing.assert_allclose(got.to_numpy(), expected, rtol=1e-9, equal_nan=True)


def test_cac_series_by_hand_with_a_spend_lag_and_paid_channels():
    """CAC, paid CAC and CAC payback for 2024Q3-Q4 with spend lagged one month, by hand."""
    spend = pd.DataFrame({
        "period": pd.to_datetime(["2024-06-01", "2024-07-01", "2024-09-01", "2024-09-01"]),
        "channel": ["ads", "ads", "events", "Ads"],
        "spend": [600.0, 300.0, 900.0, 100.0],
        "category": ["paid", "paid", "other", "paid"],
    })
    contracts = pd.DataFrame({
        "contract_id": ["k1", "k2", "k3", "k4"],
        "customer_id": ["a", "b", "c", "d"],
        "start_date": pd.to_datetime(["2024-07-10", "2024-08-01", "2024-10-05", "2024-11-01"]),
        "end_date": pd.to_datetime(["2025-07-09", "2025-07-31", "2025-10-04", "2025-10-31"]),
        "total_value": [1200.0, 2400.0, 1200.0, 3600.0],  # 12 months each: MRR 100/200/100/300
        "channel": ["Ads ", "referral", "events", "ads"],
    })
    data = {"marketing_spend": spend, "contracts": contracts}
    # Lag 1: Q3 counts the spend of Jun-Aug (600 + 300), Q4 that of Sep-Nov (900 + 100).
    # Blended: Q3 900 / 2 new (a, b) = 450; Q4 1,000 / 2 (c, d) = 500.
    # Paid: Q3 900 (ads) / 1 (a came through ads) = 900; Q4 100 (ads) / 1 (d; events had no
    # paid spend) = 100. Payback divides by the new customers' mean starting MRR:
    # Q3 (100 + 200) / 2 = 150, Q4 (100 + 300) / 2 = 200.
    expected = {
        ("cac", "blended"): [450.0, 500.0],
        ("cac", "paid"): [900.0, 100.0],
        ("cac_payback_months", "blended"): [3.0, 2.5],
        ("cac_payback_months", "paid"): [6.0, 0.5],
    }
    for (kpi_id, mode), values in expected.items():
        got = kpi_series(kpi_id, data, "Q", "2024Q3", "2024Q4", mode=mode, spend_lag_months=1)
        assert got.tolist() == values, (kpi_id, mode)
        assert [compute_kpi(kpi_id, data, q, mode=mode, spend_lag_months=1)
                for q in ("2024Q3", "2024Q4")] == values, (kpi_id, mode)


def _both_paths(kpi_id, data, start, end, **kwargs):
    """The series and the per-period values of 2024Q1..Q3 (they must agree)."""
    got = kpi_series(kpi_id, data, "Q", start, end, **kwargs)
    by_period = [float(compute_kpi(kpi_id, data, p, **kwargs))
                 for p in period_range(start, end, "Q")]
    np.testing.assert_allclose(got.to_numpy(), by_period, rtol=1e-12, equal_nan=True)
    return got.tolist()


def test_marketing_series_by_hand():
    stages = ["lead", "qualified", "demo", "won"]
    deals = pd.DataFrame({
        "deal_id": ["a", "b", "c", "d", "e"],
        "stage": ["lead", "qualified", "demo", "qualified", "demo"],
        "outcome": ["lost", "open", "won", "open", "lost"],
        "created_date": pd.to_datetime(["2024-01-05", "2024-02-01", "2024-03-30",
                                        "2024-07-01", "2024-08-15"]),
        "channel": ["ads", " ADS", "web", "ads", "web"],
    })
    data = SimpleNamespace(tables={"deals": deals}, funnel_stages=stages)
    # Q1: b (qualified) and c (won: passed every stage); a stopped at lead. Q2: none. Q3: d, e.
    assert _both_paths("qualified_leads", data, "2024Q1", "2024Q3") == [2.0, 0.0, 2.0]
    # from ads only: Q1 b (" ADS" is ads), Q3 d; demo or later: Q1 c, Q3 e
    assert _both_paths("qualified_leads", data, "2024Q1", "2024Q3", channel="ads") == [
        1.0, 0.0, 1.0]
    assert _both_paths("qualified_leads", data, "2024Q1", "2024Q3", stage="demo") == [
        1.0, 0.0, 1.0]

    spend = pd.DataFrame({
        "period": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-04-01", "2024-07-01"]),
        "channel": ["google", "meta", "google", "meta"],
        "spend": [1000.0, 500.0, 800.0, 300.0],
        "impressions": [20000.0, 5000.0, 0.0, None],
        "clicks": [400.0, 100.0, 0.0, 50.0],
        "conversions": [12.0, 3.0, 0.0, 1.0],
    })
    data = {"marketing_spend": spend}
    # CTR: Q1 (400 + 100) / (20,000 + 5,000) = 0.02; Q2 no impressions: NaN; Q3 the only row
    # lacks impressions, so it is left out: NaN
    ctr = _both_paths("ad_ctr", data, "2024Q1", "2024Q3")
    assert ctr[0] == pytest.approx(0.02) and math.isnan(ctr[1]) and math.isnan(ctr[2])
    # conversions ÷ clicks: Q1 15 / 500 = 0.03; Q2 0 clicks: NaN; Q3 1 / 50 = 0.02
    conv = _both_paths("ad_conversion_rate", data, "2024Q1", "2024Q3")
    assert conv[0] == pytest.approx(0.03) and math.isnan(conv[1]) and conv[2] == pytest.approx(0.02)
    assert _both_paths("ad_ctr", data, "2024Q1", "2024Q1", channel="Meta") == [pytest.approx(0.02)]

    orders = pd.DataFrame({
        "order_id": ["o1", "o2", "o3", "o4", "o5"],
        "customer_id": ["x", "y", "y", "z", "w"],
        "order_date": pd.to_datetime(["2024-01-02", "2024-02-03", "2024-05-03", "2024-05-20",
                                      "2024-08-01"]),
        "amount": [1000.0, 300.0, 400.0, 500.0, 200.0],
        "discount": [100.0, 0.0, None, 50.0, 0.0],
        "channel": ["website", "store", "website", "Website", "shopee"],
    })
    web = pd.DataFrame({"date": pd.to_datetime(["2024-01-15", "2024-04-15", "2024-07-15"]),
                        "sessions": [100.0, 0.0, 40.0]})
    data = {"orders": orders, "web_traffic": web}
    # website orders ÷ sessions: Q1 1 / 100; Q2 no sessions: NaN; Q3 no website order: 0 / 40
    rate = _both_paths("ecommerce_conversion_rate", data, "2024Q1", "2024Q3")
    assert rate[0] == 0.01 and math.isnan(rate[1]) and rate[2] == 0.0

    customers = pd.DataFrame({"customer_id": ["x", "y", "z", "w"],
                              "region": ["台中市", "台北市", " 台北市", "高雄市"],
                              "segment": ["b2b", "b2c", "b2c", "b2b"]})
    data = {"orders": orders, "customers": customers}
    # new regions: Taichung first ordered in Q1 (x: 1,000 − 100), Taipei too (y: 300), so Q1
    # sells 1,200 to new regions; in Q2 Taipei is no longer new: 0; Kaohsiung is new in Q3: 200
    assert _both_paths("market_revenue", data, "2024Q1", "2024Q3") == [1200.0, 0.0, 200.0]
    # Taipei (y and z, spaces ignored): Q1 300; Q2 400 (no discount) + 450; Q3 0
    assert _both_paths("market_revenue", data, "2024Q1", "2024Q3", region="台北") == [
        300.0, 850.0, 0.0]
    assert _both_paths("market_revenue", data, "2024Q1", "2024Q3", segment="B2B") == [
        900.0, 0.0, 200.0]


def test_tcv_series_by_hand():
    contracts = pd.DataFrame({
        "contract_id": ["k1", "k2", "k3"], "customer_id": ["a", "b", "a"],
        "start_date": pd.to_datetime(["2024-04-10", "2024-05-01", "2024-10-01"]),
        "end_date": pd.to_datetime(["2025-04-09", "2025-04-30", "2025-09-30"]),
        "total_value": [12000.0, 30000.0, 6000.0],
    })
    data = {"contracts": contracts}
    # Q1 before any contract: NaN (no data); Q2 12,000 + 30,000; Q3 none started: 0; Q4 6,000
    total = _both_paths("tcv", data, "2024Q1", "2024Q4")
    assert math.isnan(total[0]) and total[1:] == [42000.0, 0.0, 6000.0]
    average = _both_paths("tcv", data, "2024Q1", "2024Q4", mode="average")
    assert math.isnan(average[0]) and average[1] == 21000.0 and math.isnan(average[2])
