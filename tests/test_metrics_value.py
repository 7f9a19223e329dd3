"""Customer lifetime value and LTV:CAC."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from test_metrics_revenue import contracts

from kpitools._errors import KpitoolsError
from kpitools.metrics import cltv, ltv_to_cac, monthly_logo_churn_rate


def _twenty() -> pd.DataFrame:
    """20 customers at 100 / month all year; one leaves at the end of May, one at end of July."""
    rows = [(f"c{i}", "2024-01-01", "2024-12-31", 1200) for i in range(18)]
    rows += [("m", "2024-01-01", "2024-05-31", 500), ("j", "2024-01-01", "2024-07-31", 700)]
    return contracts(rows)


def test_cltv_chartmogul_example():
    # ChartMogul: ARPA 100, churn 5 % → 2,000. June: 1 of 20 left; ARPA on 30 June = 100.
    assert cltv(_twenty(), "2024-06") == pytest.approx(2000.0)
    # Skok: with a 80 % gross margin → 1,600.
    assert cltv(_twenty(), "2024-06", gross_margin=0.8) == pytest.approx(1600.0)


def test_cltv_quarter_uses_average_monthly_churn():
    # Q3: July 0/19, August 1/19, September 0/18 → mean = (1/19) / 3. ARPA on 30 Sept = 100.
    churn = (1 / 19) / 3
    assert monthly_logo_churn_rate(_twenty(), "2024Q3") == pytest.approx(churn)
    assert cltv(_twenty(), "2024Q3") == pytest.approx(100 / churn)


def test_cltv_trailing_six_months():
    # Period 2024-09: trailing months March–August: churn 0,0,1/20,0,1/19,0 → mean (1/20+1/19)/6.
    churn = (1 / 20 + 1 / 19) / 6
    assert monthly_logo_churn_rate(_twenty(), "2024-09", churn_smoothing="trailing_6m") == (
        pytest.approx(churn)
    )
    assert cltv(_twenty(), "2024-09", churn_smoothing="trailing_6m") == pytest.approx(100 / churn)


def test_cltv_zero_churn_policies():
    zero_msg = r"(?s)no customer churned in 2024-04.*Hint: pass zero_churn='floor'"
    with pytest.raises(KpitoolsError, match=zero_msg):
        cltv(_twenty(), "2024-04")
    # Stripe floor 1.67 %: 100 ÷ 0.0167 = 5,988.02.
    assert cltv(_twenty(), "2024-04", zero_churn="floor") == pytest.approx(100 / 0.0167)
    assert cltv(_twenty(), "2024-04", zero_churn="floor", churn_floor=0.02) == pytest.approx(5000)
    # A non-zero churn is never replaced by the floor.
    assert cltv(_twenty(), "2024-06", zero_churn="floor") == pytest.approx(2000.0)


def test_cltv_nan_and_bad_arguments():
    assert math.isnan(cltv(_twenty(), "2023-06"))  # no customers at all
    with pytest.raises(KpitoolsError, match=r"gross_margin must be a fraction in \(0, 1\], got 70"):
        cltv(_twenty(), "2024-06", gross_margin=70)
    with pytest.raises(KpitoolsError, match="churn_floor must be a monthly rate"):
        cltv(_twenty(), "2024-06", zero_churn="floor", churn_floor=0)
    with pytest.raises(KpitoolsError, match="churn_smoothing='ewm'"):
        cltv(_twenty(), "2024-06", churn_smoothing="ewm")


def test_single_customer_cltv():
    one = contracts(
        [("solo", "2024-01-01", "2024-03-31", 300), ("x", "2024-01-01", "2024-12-31", 1200)]
    )
    # April: 1 of 2 left → 50 %; ARPA on 30 April = x's 100 → 200.
    assert cltv(one, "2024-04") == pytest.approx(200.0)


def test_ltv_to_cac():
    spend = pd.DataFrame(
        {"period": pd.to_datetime(["2024-06-01"]), "channel": ["ads"], "spend": [500.0]}
    )
    c = pd.concat(
        [_twenty(), contracts([("new", "2024-06-10", "2024-12-31", 700)])], ignore_index=True
    )
    c["contract_id"] = [f"k{i}" for i in range(len(c))]
    # June: churn 1/20; ARPA on 30 June = (19 × 100 + new's MRR) / 20, where the new contract
    # (10 June .. 31 Dec, day after = 1 Jan 2025) lasts 12 × 1 + (1 − 6) + (1 − 10) / 30.44 months.
    new_mrr = 700 / (7 - 9 / 30.436875)
    ltv = (1900 + new_mrr) / 20 / (1 / 20)
    assert ltv_to_cac(c, spend, "2024-06") == pytest.approx(ltv / 500)
    # No spend → CAC 0 and no new customers → CAC NaN: both make the ratio NaN.
    assert math.isnan(ltv_to_cac(c, spend.iloc[:0], "2024-06"))
    assert math.isnan(ltv_to_cac(c, spend, "2024-08"))
