"""The same order KPIs on Spark (Ibis PySpark backend, local mode) as on pandas (issue 13).

Spark is optional: pyspark is not a kpitools dependency and needs a Java runtime. Where either is
missing the module is skipped with the reason; install ``pyspark`` (and a JDK) to run it.
"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pyspark", reason="pyspark is not installed (optional: pip install pyspark)")
if shutil.which("java") is None:
    pytest.skip("no Java runtime on PATH, which Spark needs", allow_module_level=True)

import ibis

from kpitools.catalog import kpi_series
from kpitools.metrics import orders as o
from kpitools.metrics.order_retention import active_customers

PERIODS = ("2024Q1", "2024Q2", "2024Q3", "2024Q4")
# third-party noise: PySpark 4.x warns that it does not fully support pandas 3 yet, and its
# toPandas passes pandas 3's deprecated copy= keyword
pytestmark = [
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]


@pytest.fixture(scope="module")
def frames():
    rng = np.random.default_rng(21)
    n = 500
    orders = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(n)],
            "customer_id": [f"c{i}" for i in rng.integers(0, 80, n)],
            "order_date": pd.Timestamp("2023-07-01")
            + pd.to_timedelta(rng.integers(0, 550, n), unit="D"),
            "amount": rng.integers(1, 40, n) * 100.0,
            "discount": np.where(rng.random(n) < 0.3, 50.0, 0.0),
        }
    )
    return {"orders": orders}


@pytest.fixture(scope="module")
def spark_tables(frames, tmp_path_factory):
    from pyspark.sql import SparkSession

    warehouse = tmp_path_factory.mktemp("spark-warehouse")
    session = (
        SparkSession.builder.master("local[1]")
        .appName("kpitools-test")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", str(warehouse))
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    con = ibis.pyspark.connect(session)
    yield {name: con.create_table(name, df, overwrite=True) for name, df in frames.items()}
    session.stop()


@pytest.mark.parametrize(
    "kpi", [o.revenue, o.aov, o.new_customers_orders, o.orders_per_customer, active_customers]
)
def test_per_period_kpis_match_pandas(frames, spark_tables, kpi):
    for period in PERIODS:
        expected = kpi(frames["orders"], period)
        got = kpi(spark_tables["orders"], period)
        assert got == pytest.approx(expected, rel=1e-9, nan_ok=True), (kpi.__name__, period)


@pytest.mark.parametrize("kpi_id", ["revenue", "aov", "new_customers_orders", "active_customers"])
def test_series_match_pandas(frames, spark_tables, kpi_id):
    expected = kpi_series(kpi_id, frames, "M", "2023-07", "2024-12")
    got = kpi_series(kpi_id, spark_tables, "M", "2023-07", "2024-12")
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-9, equal_nan=True)
