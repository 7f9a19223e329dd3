"""New customers, CAC (blended, paid, by channel, lagged) and CAC payback."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from test_metrics_revenue import contracts

from kpitools._errors import KpitoolsError
from kpitools.metrics import cac, cac_payback_months, new_customers


def _spend(rows) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["period", "channel", "spend", "category"])
    df["period"] = pd.to_datetime(df["period"])
    return df


def _bhargreaves():
    """20 new customers in July 2024, 5 of them from paid ads; 1,000 spent on ads."""
    rows = [(f"p{i}", "2024-07-05", "2025-07-04", 1200) for i in range(5)]
    rows += [(f"o{i}", "2024-07-05", "2025-07-04", 1200) for i in range(15)]
    c = contracts(rows, channel=[" Ads "] * 5 + ["organic"] * 15)
    s = _spend([("2024-07-01", "ads", 1000.0, "paid")])
    return s, c


def test_new_customers_counts_first_contracts_only():
    c = contracts(
        [
            ("a", "2024-02-01", "2024-07-31", 600),
            ("a", "2024-08-01", "2025-07-31", 1200),
            ("b", "2024-07-15", "2025-07-14", 1200),
            ("c", "2024-07-15", "2024-12-31", 600),
            ("c", "2024-07-15", "2025-07-14", 99),
        ]
    )
    assert new_customers(c, "2024Q3") == 2.0  # b and c (c's two same-day contracts count once)
    assert new_customers(c, "2024Q1") == 1.0
    assert new_customers(c) == 3.0
    # 2023: no contract had started yet → no data (NaN), not 0 (issue 12).
    assert math.isnan(new_customers(c, "2023"))
    # 2025Q1: contracts exist (a, b, c active) but nobody new started → a real 0.
    assert new_customers(c, "2025Q1") == 0.0


def test_cac_blended_and_paid_bhargreaves_example():
    # bhargreaves.com: 1,000 spent, 20 new customers, 5 from paid → blended 50, paid 200.
    s, c = _bhargreaves()
    assert cac(s, c, "2024-07") == pytest.approx(50.0)
    assert cac(s, c, "2024-07", mode="paid") == pytest.approx(200.0)


def test_cac_by_channel_and_other_spend():
    s, c = _bhargreaves()
    s = pd.concat(
        [
            s,
            _spend(
                [("2024-07-01", "Organic", 300.0, "other"), ("2024-07-01", "events", 50.0, "paid")]
            ),
        ],
        ignore_index=True,
    )
    by = cac(s, c, "2024-07", by_channel=True)
    # ads 1,000 ÷ 5; organic 300 ÷ 15; events has spend but no customers → NaN.
    assert by["ads"] == pytest.approx(200.0)
    assert by["organic"] == pytest.approx(20.0)
    assert math.isnan(by["events"])
    # Blended: 1,350 ÷ 20; paid: (1,000 + 50) ÷ 5 (customers of paid channels).
    assert cac(s, c, "2024-07") == pytest.approx(67.5)
    assert cac(s, c, "2024-07", mode="paid") == pytest.approx(210.0)
    assert cac(s, c, "2024-07", mode="paid", by_channel=True).index.tolist() == ["ads", "events"]


def test_cac_spend_lag_and_zero_new_customers():
    s, c = _bhargreaves()
    s = pd.concat([s, _spend([("2024-06-01", "ads", 400.0, "paid")])], ignore_index=True)
    # SaaSGrid timing: July customers against June spend → 400 ÷ 20 = 20.
    assert cac(s, c, "2024-07", spend_lag_months=1) == pytest.approx(20.0)
    assert math.isnan(cac(s, c, "2024-06"))  # spend but nobody new
    with pytest.raises(KpitoolsError, match="spend_lag_months must be a whole number"):
        cac(s, c, "2024-07", spend_lag_months=-1)
    with pytest.raises(KpitoolsError, match=r"lacks column\(s\) 'channel'"):
        cac(s, c.drop(columns="channel"), "2024-07", mode="paid")
    with pytest.raises(KpitoolsError, match=r"table 'marketing_spend' lacks column\(s\) 'spend'"):
        cac(s.drop(columns="spend"), c, "2024-07")


def test_cac_payback_months():
    # payproglobal: CAC 100, ARPA 50 → 2 months. 2 new customers at 50 / month, 200 spent.
    c = contracts(
        [
            ("a", "2024-07-01", "2025-06-30", 600),
            ("b", "2024-08-01", "2025-07-31", 600),
            ("old", "2023-01-01", "2025-12-31", 36 * 250),
        ]
    )
    s = _spend([("2024-07-01", "ads", 200.0, "paid")])
    assert cac_payback_months(s, c, "2024Q3") == pytest.approx(2.0)
    # With a 50 % margin it takes twice as long.
    assert cac_payback_months(s, c, "2024Q3", gross_margin=0.5) == pytest.approx(4.0)
    # ARPA of all accounts on 30 Sept: (50 + 50 + 250) ÷ 3 → 100 ÷ (350 / 3).
    assert cac_payback_months(s, c, "2024Q3", arpa_basis="all") == pytest.approx(300 / 350)
    assert math.isnan(cac_payback_months(s, c, "2024Q1"))
    with pytest.raises(KpitoolsError, match="arpa_basis='paying'"):
        cac_payback_months(s, c, "2024Q3", arpa_basis="paying")
