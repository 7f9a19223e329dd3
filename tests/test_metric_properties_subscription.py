"""Property registry over the subscription KPIs (in the spirit of sklearn's test_common).

Every registered KPI is checked for: the same value on pandas, Polars, a DuckDB-backed Ibis
table and the Ibis Polars backend; invariance to row order; money KPIs scaling linearly when all
amounts are multiplied (ratios and rates unchanged); inputs never mutated; rates in [0, 1].
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import ibis
import numpy as np
import pandas as pd
import polars as pl
import pytest

from kpitools import metrics as m

PERIOD = "2024Q2"
MONEY_COLUMNS = {
    "contracts": ["total_value", "recurring_value", "one_time_fees"],
    "marketing_spend": ["spend"],
}
SCALE = 1000.0


def _dataset(seed: int = 11) -> dict[str, pd.DataFrame]:
    """~40 customers with 1–3 contracts each (renewals, upgrades, gaps) and monthly spend."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(40):
        start = pd.Timestamp("2023-01-01") + pd.Timedelta(days=int(rng.integers(0, 540)))
        for _ in range(int(rng.integers(1, 4))):
            months = int(rng.choice([1, 3, 6, 12]))
            end = start + pd.DateOffset(months=months) - pd.Timedelta(days=1)
            recurring = float(rng.integers(1, 40)) * 100.0 * months
            fee = float(rng.choice([0.0, 0.0, 5000.0]))
            rows.append(
                (
                    f"c{i:02d}",
                    start,
                    end,
                    recurring + fee,
                    fee,
                    rng.choice(["Basic", "Pro", "Enterprise"]),
                    rng.choice(["ads", "seo"]),
                )
            )
            start = end + pd.Timedelta(days=int(rng.choice([1, 1, 1, 45])))
    c = pd.DataFrame(
        rows,
        columns=[
            "customer_id",
            "start_date",
            "end_date",
            "total_value",
            "one_time_fees",
            "tier",
            "channel",
        ],
    )
    c.insert(0, "contract_id", [f"k{i:03d}" for i in range(len(c))])
    c["recurring_value"] = np.where(
        np.arange(len(c)) % 3 == 0, np.nan, c["total_value"] - c["one_time_fees"]
    )
    months = pd.date_range("2023-01-01", "2024-12-01", freq="MS")
    s = pd.DataFrame(
        {
            "period": np.repeat(months, 2),
            "channel": ["ads", "seo"] * len(months),
            "spend": rng.integers(1000, 9000, 2 * len(months)).astype(float),
            "category": ["paid", "other"] * len(months),
        }
    )
    return {"contracts": c, "marketing_spend": s}


@dataclass(frozen=True)
class Spec:
    name: str
    fn: Callable[[dict], object]
    kind: str  # "money" (scales), "ratio" (scale-free), "rate" (scale-free and in [0, 1])


def _c(fn, **kw):
    return lambda d: fn(d["contracts"], PERIOD, **kw)


REGISTRY = [
    Spec("mrr", _c(m.mrr), "money"),
    Spec("arr", _c(m.arr), "money"),
    Spec("arr_contract", _c(m.arr, contract_arr=True), "money"),
    Spec("acv", _c(m.acv), "money"),
    Spec("acv_by_tier", _c(m.acv, by="tier"), "money"),
    Spec("tcv", _c(m.tcv), "money"),
    Spec("arpa", _c(m.arpa), "money"),
    Spec("quick_ratio", _c(m.quick_ratio), "ratio"),
    Spec("new_customers", _c(m.new_customers), "ratio"),
    Spec("logo_churn_rate", _c(m.logo_churn_rate), "rate"),
    Spec("logo_churn_include", _c(m.logo_churn_rate, same_period_new="include"), "rate"),
    Spec(
        "gross_mrr_churn_month", lambda d: m.gross_mrr_churn_rate(d["contracts"], "2024-05"), "rate"
    ),
    Spec("net_mrr_churn_rate", _c(m.net_mrr_churn_rate), "ratio"),
    Spec("net_mrr_churn_daily_sum", _c(m.net_mrr_churn_rate, formula="daily_sum"), "ratio"),
    Spec("logo_churn_include_numerator",
         _c(m.logo_churn_rate, same_period_new="include_numerator"), "ratio"),
    Spec("grr", _c(m.grr), "rate"),
    Spec("nrr", _c(m.nrr), "ratio"),
    Spec("monthly_logo_churn", _c(m.monthly_logo_churn_rate), "rate"),
    Spec("cltv", _c(m.cltv, zero_churn="floor", gross_margin=0.7), "money"),
    Spec("cac", lambda d: m.cac(d["marketing_spend"], d["contracts"], PERIOD), "money"),
    Spec(
        "cac_paid",
        lambda d: m.cac(d["marketing_spend"], d["contracts"], PERIOD, mode="paid"),
        "money",
    ),
    Spec(
        "cac_by_channel",
        lambda d: m.cac(d["marketing_spend"], d["contracts"], PERIOD, by_channel=True),
        "money",
    ),
    Spec(
        "cac_payback_months",
        lambda d: m.cac_payback_months(d["marketing_spend"], d["contracts"], PERIOD),
        "ratio",
    ),
    Spec(
        "ltv_to_cac",
        lambda d: m.ltv_to_cac(d["contracts"], d["marketing_spend"], PERIOD, zero_churn="floor"),
        "ratio",
    ),
    Spec(
        "mrr_movements",
        lambda d: m.mrr_movements(d["contracts"], "2023-06", "2024-06").drop(columns="month"),
        "money",
    ),
    Spec("cohort_logo", lambda d: m.cohort_retention(d["contracts"], "Q"), "rate"),
    Spec(
        "cohort_revenue",
        lambda d: m.cohort_retention(d["contracts"], "Q", basis="revenue"),
        "ratio",
    ),
    Spec(
        "acv_mix_rate",
        lambda d: pd.Series(
            {
                k: v
                for k, v in m.acv_mix_rate(d["contracts"], "2023Q4", PERIOD).to_dict().items()
                if k in ("acv_base", "acv_compare", "mix_effect", "rate_effect")
            }
        ),
        "money",
    ),
]
IDS = [s.name for s in REGISTRY]


def _values(x) -> np.ndarray:
    if isinstance(x, pd.DataFrame | pd.Series):
        return x.sort_index().to_numpy(dtype=float).ravel()
    return np.array([float(x)])


def _same(a, b, scale: float = 1.0) -> None:
    va, vb = _values(a), _values(b)
    assert va.shape == vb.shape
    np.testing.assert_allclose(
        vb, va * scale, rtol=1e-9, atol=1e-9 * max(scale, 1.0), equal_nan=True
    )


@pytest.fixture(scope="module")
def data() -> dict[str, pd.DataFrame]:
    return _dataset()


@pytest.fixture(scope="module")
def baseline(data) -> dict[str, object]:
    return {s.name: s.fn(data) for s in REGISTRY}


def test_dataset_exercises_the_kpis(baseline):
    # A registry over NaNs would prove nothing: the headline values must be real numbers.
    for name in ("mrr", "acv", "arpa", "logo_churn_rate", "grr", "nrr", "cac", "cltv"):
        assert not math.isnan(float(baseline[name])), name
    assert baseline["logo_churn_rate"] > 0


RATES = [s for s in REGISTRY if s.kind == "rate"]


@pytest.mark.parametrize("spec", RATES, ids=[s.name for s in RATES])
def test_rates_are_bounded(spec, baseline):
    v = _values(baseline[spec.name])
    v = v[~np.isnan(v)]
    assert v.size and ((v >= 0) & (v <= 1)).all()


@pytest.mark.parametrize("spec", REGISTRY, ids=IDS)
def test_row_order_does_not_matter_and_input_is_not_mutated(spec, data, baseline):
    shuffled = {
        k: v.sample(frac=1.0, random_state=3).reset_index(drop=True) for k, v in data.items()
    }
    before = {k: v.copy(deep=True) for k, v in shuffled.items()}
    _same(baseline[spec.name], spec.fn(shuffled))
    for k, v in shuffled.items():
        pd.testing.assert_frame_equal(v, before[k])


@pytest.mark.parametrize("spec", REGISTRY, ids=IDS)
def test_money_scales_linearly(spec, data, baseline):
    scaled = {}
    for name, df in data.items():
        df = df.copy()
        for col in MONEY_COLUMNS[name]:
            df[col] = df[col] * SCALE
        scaled[name] = df
    _same(baseline[spec.name], spec.fn(scaled), SCALE if spec.kind == "money" else 1.0)


def _on_backend(data: dict[str, pd.DataFrame], backend: str) -> dict:
    if backend == "polars_frame":
        return {k: pl.from_pandas(v) for k, v in data.items()}
    con = ibis.duckdb.connect() if backend == "duckdb" else ibis.polars.connect()
    # create_table(name, DataFrame) trips a DuckDB 2.0 / Ibis 12 bug (DROP VIEW IF EXISTS
    # without a name); going through a memtable avoids it.
    return {k: con.create_table(k, ibis.memtable(v)) for k, v in data.items()}


@pytest.mark.parametrize("backend", ["polars_frame", "duckdb", "ibis_polars"])
@pytest.mark.parametrize("spec", REGISTRY, ids=IDS)
def test_same_result_on_every_backend(spec, backend, data, baseline):
    _same(baseline[spec.name], spec.fn(_on_backend(data, backend)))
