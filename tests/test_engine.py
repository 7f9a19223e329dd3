"""The engine layer: table coercion, column checks, period filters on every backend."""

from __future__ import annotations

import math

import ibis
import pandas as pd
import polars as pl
import pytest

from kpitools import KpitoolsError
from kpitools._engine import in_period, safe_div, scalar, table
from kpitools.periods import parse_period


@pytest.fixture
def orders() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_date": pd.to_datetime(["2024-06-30", "2024-07-01", "2024-09-30", "2024-10-01"]),
            "amount": [1.0, 10.0, 100.0, 1000.0],
        }
    )


def _backends(df: pd.DataFrame):
    yield df
    yield pl.from_pandas(df)
    yield ibis.duckdb.connect().create_table("orders", df)
    yield ibis.polars.connect().create_table("orders", df)


def test_in_period_is_half_open_on_every_backend(orders):
    # Only the orders dated 2024-07-01 and 2024-09-30 fall in 2024Q3: 10 + 100 = 110.
    for data in _backends(orders):
        t = table(data, "orders", ["amount"])
        assert scalar(in_period(t, "order_date", parse_period("2024Q3")).amount.sum()) == 110.0


def test_missing_column_names_all_and_suggests(orders):
    with pytest.raises(KpitoolsError,
                       match=r"lacks column\(s\) 'amout' \(did you mean 'amount'\?\)"):
        table(orders, "orders", ["amout", "customer_id"])


def test_wrong_type_and_none():
    with pytest.raises(KpitoolsError, match="expected the 'orders' table as a pandas DataFrame"):
        table([1, 2], "orders")
    with pytest.raises(KpitoolsError, match="no 'contracts' table was given"):
        table(None, "contracts")


def test_input_not_mutated(orders):
    before = orders.copy()
    t = table(orders.set_index("order_date", drop=False), "orders")
    scalar(t.amount.sum())
    pd.testing.assert_frame_equal(orders, before)


def test_scalar_null_is_nan_and_safe_div():
    empty = pd.DataFrame({"amount": pd.Series([], dtype="float64")})
    assert math.isnan(scalar(table(empty, "orders").amount.mean()))
    assert math.isnan(safe_div(1, 0))
    assert safe_div(3, 4) == 0.75
