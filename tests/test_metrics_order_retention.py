"""Active customers and order cohort retention (issue 13), by hand and against plain pandas."""

from __future__ import annotations

import math

import ibis
import numpy as np
import pandas as pd
import polars as pl
import pytest

from kpitools import KpitoolsError
from kpitools.catalog import compute_kpi, get_kpi, kpi_series, list_kpis
from kpitools.metrics.order_retention import active_customers, order_cohort_retention

NAN = math.nan


@pytest.fixture
def orders():
    # customer: order dates
    #   x: 2024-01-05, 2024-02-10, 2024-04-02     y: 2024-01-20
    #   z: 2024-02-14, 2024-02-15, 2024-03-30     w: 2024-04-30     v: 2024-06-30
    rows = [
        ("x", "2024-01-05"),
        ("x", "2024-02-10"),
        ("x", "2024-04-02"),
        ("y", "2024-01-20"),
        ("z", "2024-02-14"),
        ("z", "2024-02-15"),
        ("z", "2024-03-30"),
        ("w", "2024-04-30"),
        ("v", "2024-06-30"),
    ]
    return pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(len(rows))],
            "customer_id": [c for c, _ in rows],
            "order_date": pd.to_datetime([d for _, d in rows]),
            "amount": 100.0,
        }
    )


def _backends(df):
    con = ibis.duckdb.connect()
    return {"pandas": df, "duckdb": con.create_table("orders", df), "polars": pl.from_pandas(df)}


@pytest.mark.parametrize("backend", ["pandas", "duckdb", "polars"])
def test_active_customers_by_hand(orders, backend):
    t = _backends(orders)[backend]
    # Jan: x, y; Feb: x, z (z's two orders count once); Q1: x, y, z; Q2: x, w, v; July: nobody
    assert active_customers(t, "2024-01") == 2.0
    assert active_customers(t, "2024-02") == 2.0
    assert active_customers(t, "2024Q1") == 3.0
    assert active_customers(t, "2024Q2") == 3.0
    assert active_customers(t, "2024-07") == 0.0
    assert active_customers(t) == 5.0


def test_active_customers_series_by_hand(orders):
    got = kpi_series("active_customers", {"orders": orders}, "M", "2024-01", "2024-07")
    assert got.tolist() == [2.0, 2.0, 1.0, 2.0, 0.0, 1.0, 0.0]  # Mar: z; Apr: x, w; Jun: v


@pytest.mark.parametrize("backend", ["pandas", "duckdb", "polars"])
def test_monthly_cohorts_by_hand(orders, backend):
    got = order_cohort_retention(_backends(orders)[backend], "M")
    # data end 2024-06-30, so June is the last complete month (5 periods after January).
    # 2024-01 = {x, y}: Feb x, Apr x.  2024-02 = {z}: Mar z.  2024-04 = {w}.  2024-06 = {v}.
    expected = pd.DataFrame(
        [
            [1.0, 0.5, 0.0, 0.5, 0.0, 0.0],
            [1.0, 1.0, 0.0, 0.0, 0.0, NAN],
            [1.0, 0.0, 0.0, NAN, NAN, NAN],
            [1.0, NAN, NAN, NAN, NAN, NAN],
        ],
        index=pd.Index(["2024-01", "2024-02", "2024-04", "2024-06"], name="cohort"),
        columns=pd.Index(range(6), name="periods_since_first"),
    )
    pd.testing.assert_frame_equal(got, expected)
    assert got.attrs["cohort_size"] == {"2024-01": 2, "2024-02": 1, "2024-04": 1, "2024-06": 1}


@pytest.mark.parametrize("backend", ["pandas", "duckdb", "polars"])
def test_quarterly_cohort_counts_by_hand(orders, backend):
    got = order_cohort_retention(_backends(orders)[backend], "Q", value="count")
    # Q1 = {x, y, z}: in Q2 only x ordered.  Q2 = {w, v}: Q3 not complete yet.
    expected = pd.DataFrame(
        [[3.0, 1.0], [2.0, NAN]],
        index=pd.Index(["2024Q1", "2024Q2"], name="cohort"),
        columns=pd.Index(range(2), name="periods_since_first"),
    )
    pd.testing.assert_frame_equal(got, expected)
    rates = order_cohort_retention(_backends(orders)[backend], "Q")
    assert rates.loc["2024Q1", 1] == pytest.approx(1 / 3)


def test_incomplete_periods_are_left_out(orders):
    got = order_cohort_retention(orders, "M", as_of="2024-05-31")
    # May is the last complete month: the June cohort goes, April's cohort has May only.
    assert list(got.index) == ["2024-01", "2024-02", "2024-04"]
    assert got.loc["2024-04", 1] == 0.0 and math.isnan(got.loc["2024-04", 2])
    assert got.loc["2024-01"].tolist() == [1.0, 0.5, 0.0, 0.5, 0.0]
    mid = order_cohort_retention(orders, "Q", as_of="2024-06-29")
    assert list(mid.index) == ["2024Q1"] and list(mid.columns) == [0]


def test_no_orders_give_an_empty_table(orders):
    got = order_cohort_retention(orders.iloc[:0], "Q")
    assert got.empty and got.attrs["cohort_size"] == {}


def test_bad_arguments(orders):
    with pytest.raises(KpitoolsError, match="unknown freq 'Y'"):
        order_cohort_retention(orders, "Y")
    with pytest.raises(KpitoolsError, match=r"(?s)unknown value 'rates'.*did you mean 'rate'"):
        order_cohort_retention(orders, "Q", value="rates")


def _random_orders(seed=5, n=3000):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(n)],
            "customer_id": [f"c{i}" for i in rng.integers(0, 500, n)],
            "order_date": pd.Timestamp("2023-01-01")
            + pd.to_timedelta(rng.integers(0, 730, n), unit="D"),
            "amount": rng.integers(1, 50, n) * 10.0,
        }
    )


def _pandas_cohorts(df: pd.DataFrame) -> pd.DataFrame:
    """Plain pandas: quarter of each order and of each customer's first order, counted."""
    q = df["order_date"].dt.to_period("Q")
    first = q.groupby(df["customer_id"]).transform("min")
    age = (q - first).apply(lambda x: x.n)
    visits = pd.DataFrame(
        {"c": df["customer_id"], "cohort": first.astype(str), "age": age}
    ).drop_duplicates()
    counts = visits.groupby(["cohort", "age"]).size().unstack(fill_value=0)
    return counts.div(counts[0], axis=0)


@pytest.mark.parametrize("backend", ["pandas", "duckdb", "polars"])
def test_cohorts_match_plain_pandas(backend):
    df = _random_orders()
    got = order_cohort_retention(_backends(df)[backend], "Q", as_of="2024-12-31")
    expected = _pandas_cohorts(df)
    # the data cover 2023-2024 whole, so every cell pandas has is observed
    for cohort in expected.index:
        for age in expected.columns:
            want = expected.loc[cohort, age]
            have = got.loc[cohort, age]
            if math.isnan(have):
                assert want == 0.0  # pandas fills cells after the data end with 0
                assert int(cohort[:4]) * 4 + int(cohort[-1]) + age > 2024 * 4 + 4
            else:
                assert have == pytest.approx(want, rel=1e-12)
    assert list(got.index) == list(expected.index)


def test_active_customers_series_matches_plain_pandas():
    df = _random_orders()
    got = kpi_series("active_customers", {"orders": df}, "M", "2023-01", "2024-12")
    expected = df.groupby(df["order_date"].dt.strftime("%Y-%m"))["customer_id"].nunique()
    np.testing.assert_array_equal(got.to_numpy(), expected.reindex(got.index).to_numpy())


def test_catalog_entries(orders):
    assert get_kpi("active_customers").set_based
    entry = get_kpi("order_cohort_retention")
    assert entry.returns == "table"
    assert entry.name_for("zh-TW") and entry.name_for("en")
    assert "order_cohort_retention" not in {k.id for k in list_kpis()}
    assert "order_cohort_retention" in {k.id for k in list_kpis(include_tables=True)}
    table = compute_kpi("order_cohort_retention", {"orders": orders})
    assert list(table.index) == ["2024Q1", "2024Q2"]
    assert compute_kpi("active_customers", {"orders": orders}, "2024Q1") == 3.0
