"""rfm_summary and repeat_purchase_tracking: hand-computed tables and the published CDNOW summary.

The CDNOW checks rebuild ``cdnow_customers_summary_with_transactions.csv`` from the raw
``CDNOW_sample.txt`` with the recipe in ``tests/data/reference/README.md`` and test the data rows of
``clv_anchors.csv`` (counts, exact).
"""

from __future__ import annotations

import csv
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import polars as pl
import pytest

from kpitools._errors import KpitoolsError, ModelFitError
from kpitools.models import repeat_purchase_tracking, rfm_summary

_REPO = Path(__file__).resolve().parents[1]
#: Published CDNOW / sBG data and anchors, kept in the repository (sources in its README).
REF = _REPO / "tests" / "data" / "reference"


def _anchor_rows(keep) -> list:
    with (REF / "clv_anchors.csv").open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if keep(r)]
    return [pytest.param(r, id=r["anchor_id"]) for r in rows]


def cdnow_orders() -> pd.DataFrame:
    raw = pd.read_csv(REF / "CDNOW_sample.txt", sep=r"\s+", header=None,
                      names=["master_id", "sample_id", "date", "n_cds", "amount"],
                      dtype={"date": str, "sample_id": str})
    return pd.DataFrame({
        "customer_id": raw["sample_id"],
        "order_date": pd.to_datetime(raw["date"], format="%Y%m%d"),
        "amount": raw["amount"],
    })


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return cdnow_orders()


@pytest.fixture(scope="module")
def cdnow_split(cdnow) -> pd.DataFrame:
    return rfm_summary(cdnow, observation_end="1998-06-30", calibration_end="1997-09-30",
                       time_unit="D", time_scaler=7)


@pytest.fixture(scope="module")
def cdnow_tracking(cdnow) -> pd.DataFrame:
    return repeat_purchase_tracking(cdnow, origin="1997-01-01", observation_end="1998-06-30")


# --- hand-computed examples ---------------------------------------------------------------------

def _orders() -> pd.DataFrame:
    # a: 2024-01-01 twice (100 + 50, one occasion), 01-15 (80), 01-22 (40)  → x = 2
    # b: one order on 01-10                                                  → x = 0
    # c: 01-03 and 02-10 (after the calibration end 01-31)                  → holdout only
    return pd.DataFrame({
        "customer_id": ["a", "a", "a", "a", "b", "c", "c"],
        "order_date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-15", "2024-01-22",
                                      "2024-01-10", "2024-01-03", "2024-02-10"]),
        "amount": [100.0, 50.0, 80.0, 40.0, 30.0, 20.0, 60.0],
    })


def test_summary_by_hand_in_weeks():
    s = rfm_summary(_orders(), observation_end="2024-01-29", time_unit="D", time_scaler=7)
    a, b, c = (s.set_index("customer_id").loc[k] for k in "abc")
    # a: occasions 01-01 (150), 01-15 (80), 01-22 (40): x = 2, t_x = 21 d = 3 wk, T = 28 d = 4 wk,
    #    monetary = (80 + 40) / 2 = 60 (first purchase excluded)
    assert (a.frequency, a.recency, a["T"], a.monetary_value) == (2, 3.0, 4.0, 60.0)
    # b: x = 0, t_x = 0, T = 19 d, monetary 0
    assert (b.frequency, b.recency, b.monetary_value) == (0, 0.0, 0.0)
    assert b["T"] == pytest.approx(19 / 7)
    # c: 01-03 and 02-10 but observation ends 01-29: x = 0, T = 26 d
    assert (c.frequency, c["T"]) == (0, pytest.approx(26 / 7))
    assert list(s.columns) == ["customer_id", "frequency", "recency", "T", "monetary_value"]
    assert s["customer_id"].tolist() == ["a", "b", "c"]


def test_week_and_month_units_merge_occasions():
    # weeks (Monday-based; 2024-01-01 is a Monday): a's orders 01-01, 01-01, 01-15, 01-22 fall in
    # weeks 1, 1, 3, 4 → 3 occasions; x = 2, t_x = 4 − 1 = 3 weeks
    s = rfm_summary(_orders(), observation_end="2024-01-29", time_unit="W")
    assert s.set_index("customer_id").loc["a", ["frequency", "recency"]].tolist() == [2, 3]
    # months: every January order is one occasion; c buys again in February → x = 1, t_x = 1
    m = rfm_summary(_orders(), observation_end="2024-02-29", time_unit="M")
    c = m.set_index("customer_id").loc["c"]
    assert (c.frequency, c.recency, c["T"], c.monetary_value) == (1, 1.0, 1.0, 60.0)
    assert m.set_index("customer_id").loc["a", "frequency"] == 0


def test_calibration_holdout_split_by_hand():
    s = rfm_summary(_orders(), observation_end="2024-02-29", calibration_end="2024-01-31",
                    time_scaler=7).set_index("customer_id")
    # c: calibration 01-03 only (x = 0, T = 28 d = 4 wk); holdout: 02-10 → 1 occasion worth 60
    assert s.loc["c", ["frequency", "T", "frequency_holdout", "monetary_value_holdout"]].tolist() \
        == [0, 4.0, 1, 60.0]
    assert s.loc["a", "frequency_holdout"] == 0 and s.loc["a", "monetary_value_holdout"] == 0.0
    # holdout runs 02-01..02-29 = 29 days
    assert s["duration_holdout"].unique().tolist() == [pytest.approx(29 / 7)]


def test_same_result_from_ibis_and_polars_and_input_untouched():
    orders = _orders()
    before = orders.copy()
    expected = rfm_summary(orders, observation_end="2024-01-29")
    pd.testing.assert_frame_equal(orders, before)
    from_ibis = rfm_summary(ibis.memtable(orders), observation_end="2024-01-29")
    from_polars = rfm_summary(pl.from_pandas(orders), observation_end="2024-01-29")
    pd.testing.assert_frame_equal(from_ibis, expected)
    pd.testing.assert_frame_equal(from_polars, expected)


def test_row_order_is_irrelevant():
    orders = _orders()
    shuffled = orders.sample(frac=1, random_state=3).reset_index(drop=True)
    pd.testing.assert_frame_equal(rfm_summary(shuffled, observation_end="2024-01-29"),
                                  rfm_summary(orders, observation_end="2024-01-29"))


def test_default_observation_end_is_last_order():
    s = rfm_summary(_orders(), time_scaler=7).set_index("customer_id")
    assert s.loc["c", "T"] == pytest.approx((pd.Timestamp("2024-02-10")
                                             - pd.Timestamp("2024-01-03")).days / 7)


def test_tracking_by_hand():
    # repeat occasions: a on 01-15 and 01-22, c on 02-10; weeks from 2024-01-01:
    # 01-15 → week 3, 01-22 → week 4, 02-10 → week 6 (day 40 // 7 + 1)
    tr = repeat_purchase_tracking(_orders(), origin="2024-01-01", observation_end="2024-02-11")
    assert tr["repeat_transactions"].tolist() == [0, 0, 1, 1, 0, 1]
    assert tr["cumulative_repeat_transactions"].tolist() == [0, 0, 1, 2, 2, 3]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"time_unit": "Q"}, KpitoolsError, "time_unit='Q' is not supported"),
        ({"time_scaler": 0}, KpitoolsError, "time_scaler must be > 0"),
        ({"calibration_end": "2024-03-01"}, KpitoolsError, "must be before observation_end"),
        ({"observation_end": "not a date"}, KpitoolsError, "is not a date"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    args = {"observation_end": "2024-02-29", **kwargs}
    with pytest.raises(error, match=match):
        rfm_summary(_orders(), **args)


def test_negative_amount_and_missing_column():
    bad = _orders()
    bad.loc[2, "amount"] = -5.0
    with pytest.raises(ModelFitError, match=r"1 row\(s\) with a negative or missing amount"):
        rfm_summary(bad, observation_end="2024-02-29")
    with pytest.raises(KpitoolsError, match="lacks column"):
        rfm_summary(_orders().drop(columns="amount"), observation_end="2024-02-29")


# --- the published CDNOW summary ----------------------------------------------------------------

def test_rebuilds_published_cdnow_summary(cdnow_split):
    ref = pd.read_csv(REF / "cdnow_customers_summary_with_transactions.csv")
    ref["customer_id"] = ref["ID"].astype(str).str.zfill(4)
    merged = ref.merge(cdnow_split, on="customer_id", how="outer", indicator=True)
    assert (merged["_merge"] == "both").all() and len(merged) == 2357
    assert (merged["x"] == merged["frequency"]).all()
    # t_x and T are printed with 2 decimals in the file: at most 0.005 off (README: 0.004)
    assert np.abs(merged["t_x"] - merged["recency"]).max() <= 0.005
    assert np.abs(merged["T_x"] - merged["T_y"]).max() <= 0.005
    assert np.abs(merged["zbar"] - merged["monetary_value"]).max() <= 0.005 + 1e-9


def _check_data_anchor(row, split, tracking):
    value = row["value"]
    x = split["frequency"]
    actual = {
        "cdnow_zero_class_n": lambda: int((x == 0).sum()),
        "cdnow_zero_class_holdout": lambda: int(split.loc[x == 0, "frequency_holdout"].sum()),
        "cdnow_calib_repeat_tx": lambda: int(x.sum()),
        "cdnow_holdout_repeat_tx": lambda: int(split["frequency_holdout"].sum()),
        "cdnow_cum_wk78": lambda: int(
            tracking.set_index("period").loc[78, "cumulative_repeat_transactions"]),
        "btyd_cum_actual_wk20_25": lambda: ";".join(
            str(v) for v in tracking.set_index("period").loc[20:25,
                                                             "cumulative_repeat_transactions"]),
    }
    assert row["anchor_id"] in actual, f"no check written for anchor {row['anchor_id']}"
    assert row["suggested_tolerance"] == "exact"
    assert str(actual[row["anchor_id"]]()) == value


@pytest.mark.parametrize(
    "row", _anchor_rows(lambda r: r["model"] == "data" and r["dataset"].startswith("CDNOW")))
def test_cdnow_data_anchor(row, cdnow_split, cdnow_tracking):
    _check_data_anchor(row, cdnow_split, cdnow_tracking)


def test_tracking_by_week_39_equals_calibration_total(cdnow_tracking):
    # README: cumulative repeat transactions are 2,457 by week 39 (= sum of x)
    assert cdnow_tracking.set_index("period").loc[39, "cumulative_repeat_transactions"] == 2457
