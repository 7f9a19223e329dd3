"""The memtable cache of kpitools._engine.table: reused for an unchanged frame, never stale."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from kpitools._engine import scalar, table

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def orders() -> pd.DataFrame:
    return pd.DataFrame({
        "order_id": ["a", "b", "c"],
        "order_date": pd.to_datetime(["2024-01-05", "2024-02-10", "2024-03-15"]),
        "amount": [1.0, 10.0, 100.0],
    })


def _total(df: pd.DataFrame) -> float:
    return scalar(table(df, "orders", ["amount"]).amount.sum())


def test_unchanged_frame_reuses_its_table(orders):
    assert table(orders, "orders") is table(orders, "orders")
    # A different frame with equal content is its own table.
    assert table(orders.copy(), "orders") is not table(orders, "orders")


@pytest.mark.parametrize("mutate, expected", [
    # 1 + 10 + 100 = 111 before; each case is the new sum worked out by hand.
    (lambda df: df.loc.__setitem__((0, "amount"), 5.0), 5.0 + 10 + 100),
    (lambda df: df.__setitem__("amount", df["amount"] * 2), 222.0),
    (lambda df: df.at.__setitem__((2, "amount"), 0.0), 11.0),
    (lambda df: df.iloc.__setitem__((1, 2), 20.0), 1.0 + 20 + 100),
    (lambda df: df.update(pd.DataFrame({"amount": [0.0, 0.0, 0.0]})), 0.0),
])
def test_mutated_frame_is_not_served_from_a_stale_table(orders, mutate, expected):
    assert _total(orders) == 111.0
    mutate(orders)
    assert _total(orders) == expected


def test_renamed_added_and_dropped_columns_are_seen(orders):
    assert _total(orders) == 111.0
    orders.columns = ["order_id", "order_date", "value"]
    with pytest.raises(ValueError, match="lacks column"):
        table(orders, "orders", ["amount"])
    orders["amount"] = [2.0, 3.0, 4.0]  # 2 + 3 + 4 = 9
    assert _total(orders) == 9.0
    del orders["amount"]
    assert "amount" not in table(orders, "orders").columns


def test_string_column_edit_is_seen(orders):
    t = table(orders, "orders")
    assert scalar((t.order_id == "z").sum()) == 0
    orders.loc[1, "order_id"] = "z"
    t = table(orders, "orders")
    assert scalar((t.order_id == "z").sum()) == 1


def test_cached_table_never_changes_the_frame(orders):
    before = orders.copy(deep=True)
    _total(orders)
    _total(orders)
    pd.testing.assert_frame_equal(orders, before)


def test_non_range_index_is_dropped_and_cached(orders):
    indexed = orders.set_index(pd.Index([10, 20, 30]))
    assert list(table(indexed, "orders").columns) == ["order_id", "order_date", "amount"]
    assert _total(indexed) == 111.0
    assert table(indexed, "orders") is table(indexed, "orders")


def test_entry_goes_when_the_frame_goes():
    import gc

    from kpitools import _engine

    frame = pd.DataFrame({"amount": [1.0]})
    key = id(frame)
    table(frame, "orders")
    assert key in _engine._MEMTABLES
    del frame
    gc.collect()
    assert key not in _engine._MEMTABLES


def test_report_memo_recomputes_after_a_change(orders):
    from kpitools.catalog import _memoized, compute_kpi

    orders["customer_id"] = ["c1", "c2", "c1"]
    tables = {"orders": orders}
    memo: dict = {}
    with _memoized(memo):
        # Revenue of 2024Q1 = 1 + 10 + 100 = 111, asked twice: the second answer is memoized.
        assert compute_kpi("revenue", tables, "2024Q1") == 111.0
        assert compute_kpi("revenue", tables, "2024Q1") == 111.0
        assert _total(orders) == 111.0
        assert len(memo["scalar queries"]) >= 1
        orders.loc[0, "amount"] = 1001.0  # 1001 + 10 + 100 = 1111
        assert compute_kpi("revenue", tables, "2024Q1") == 1111.0
        assert _total(orders) == 1111.0
        tables["orders"] = orders.assign(amount=[1.0, 1.0, 1.0])  # another frame: 3
        assert compute_kpi("revenue", tables, "2024Q1") == 3.0
    # Outside the block nothing is memoized.
    assert _total(orders) == 1111.0


def test_report_memo_keeps_a_series_and_sees_a_changed_table():
    import kpitools
    from kpitools.catalog import _memoized, kpi_series

    client = kpitools.load_client(REPO / "data" / "sample" / "shop")
    memo: dict = {}
    with _memoized(memo):
        first = kpi_series("revenue", client, "Q", "2024Q1", "2024Q4")
        again = kpi_series("revenue", client, "Q", "2024Q1", "2024Q4")
        assert any(isinstance(k, tuple) and k and k[0] == "series" for k in memo)
        pd.testing.assert_series_equal(first, again)
        again.iloc[0] = -1.0  # a caller's edit does not reach the memo
        assert kpi_series("revenue", client, "Q", "2024Q1", "2024Q4").iloc[0] == first.iloc[0]
        # Doubling every order's amount in place: the memo sees the change and recomputes.
        orders = client["orders"]
        orders["amount"] = orders["amount"] * 2
        doubled = kpi_series("revenue", client, "Q", "2024Q1", "2024Q4")
    assert doubled.iloc[-1] > first.iloc[-1]


def test_report_memo_keeps_table_results_and_hands_out_copies(orders, monkeypatch):
    import ibis.backends.duckdb as duckdb_backend

    from kpitools._engine import to_pandas
    from kpitools.catalog import _memoized

    runs = []
    original = duckdb_backend.Backend.execute
    monkeypatch.setattr(duckdb_backend.Backend, "execute",
                        lambda self, expr, *a, **k: runs.append(1) or original(
                            self, expr, *a, **k))

    def by_month(frame):
        t = table(frame, "orders", ["order_date", "amount"])
        return to_pandas(t.group_by(month=t.order_date.month()).aggregate(total=t.amount.sum())
                         .order_by("month"))

    with _memoized({}):
        first = by_month(orders)
        first.loc[0, "total"] = -1.0  # a caller's edit does not reach the memo
        again = by_month(orders)
        assert len(runs) == 1
        # one order per month: January 1, February 10, March 100
        assert again["total"].tolist() == [1.0, 10.0, 100.0]
        orders.loc[0, "amount"] = 5.0  # a changed frame is a new memtable: computed again
        assert by_month(orders)["total"].tolist() == [5.0, 10.0, 100.0]
        assert len(runs) == 2
    by_month(orders)  # outside a report nothing is kept
    by_month(orders)
    assert len(runs) == 4


def test_report_memo_builds_the_contracts_expression_once():
    """Inside a report the contracts table with its derived columns is built once per
    unchanged frame (some thirty KPI queries of a report start from it); a changed frame gets
    a new one, and outside a report nothing is kept."""
    from kpitools.catalog import _memoized
    from kpitools.metrics._contracts import contracts_table

    contracts = pd.DataFrame({
        "contract_id": ["k1"], "customer_id": ["a"],
        "start_date": pd.to_datetime(["2024-01-01"]), "end_date": pd.to_datetime(["2024-12-31"]),
        "total_value": [1200.0],
    })
    with _memoized({}):
        first = contracts_table(contracts)
        assert contracts_table(contracts) is first
        contracts.loc[0, "total_value"] = 2400.0
        changed = contracts_table(contracts)
        assert changed is not first
        # a 12-month contract: MRR = total value / 12, before and after the edit
        assert first.mrr.sum().to_pandas() == 100.0
        assert changed.mrr.sum().to_pandas() == 200.0
    assert contracts_table(contracts) is not contracts_table(contracts)


def test_report_memo_shares_series_queries_between_kpis(monkeypatch):
    """CAC and CAC payback divide the same spend by the same new customers: inside a report
    their series read them with the same grouped queries, run once."""
    import ibis.backends.duckdb as duckdb_backend

    from kpitools.catalog import _memoized, kpi_series

    spend = pd.DataFrame({"period": pd.to_datetime(["2024-01-01", "2024-04-01"]),
                          "channel": ["ads", "ads"], "spend": [600.0, 900.0]})
    contracts = pd.DataFrame({
        "contract_id": ["k1", "k2", "k3"], "customer_id": ["a", "b", "c"],
        "start_date": pd.to_datetime(["2024-01-10", "2024-02-01", "2024-05-01"]),
        "end_date": pd.to_datetime(["2025-01-09", "2025-01-31", "2025-04-30"]),
        "total_value": [1200.0, 2400.0, 3600.0],  # 12 months: MRR 100, 200, 300
    })
    data = {"marketing_spend": spend, "contracts": contracts}
    runs = []
    original = duckdb_backend.Backend.execute
    monkeypatch.setattr(duckdb_backend.Backend, "execute",
                        lambda self, expr, *a, **k: runs.append(1) or original(
                            self, expr, *a, **k))
    with _memoized({}):
        cac = kpi_series("cac", data, "Q", "2024Q1", "2024Q2")
        before = len(runs)
        payback = kpi_series("cac_payback_months", data, "Q", "2024Q1", "2024Q2")
        assert len(runs) == before
    # Q1: 600 / 2 new = 300, their mean starting MRR (100 + 200) / 2 = 150 → 2 months;
    # Q2: 900 / 1 = 900 over MRR 300 → 3 months
    assert cac.tolist() == [300.0, 900.0] and payback.tolist() == [2.0, 3.0]
