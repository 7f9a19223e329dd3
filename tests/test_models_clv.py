"""customer_lifetime_value, top_customers, predicted_clv and their catalog entries."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kpitools._errors import KpitoolsError, ModelFitError
from kpitools.models import (
    BgNbd,
    GammaGamma,
    customer_lifetime_value,
    predicted_clv,
    predicted_clv_by_customer,
    top_customers,
)
from kpitools.periods import DAYS_PER_MONTH

_REPO = Path(__file__).resolve().parents[1]
SHOP = _REPO / "data" / "sample" / "shop" / "online_orders.csv"
SAAS = _REPO / "data" / "sample" / "cloudledger" / "contracts.csv"

BG = BgNbd.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
GG = GammaGamma.from_params(p=6.25, q=3.74, gamma=15.44)
SUMMARY = pd.DataFrame({
    "customer_id": ["c1", "c2", "c3"],
    "frequency": [2, 0, 7],
    "recency": [30.43, 0.0, 35.0],
    "T": [38.86, 38.86, 38.0],
    "monetary_value": [22.35, 0.0, 40.0],
})


def test_one_month_by_hand():
    # CLV = margin × E[Z] × E[Y(t1)] / (1 + d), t1 = one mean month in weeks
    t1 = DAYS_PER_MONTH / 7
    out = customer_lifetime_value(BG, GG, SUMMARY, horizon_months=1, monthly_discount_rate=0.02,
                                  margin=0.4)
    x, tx, T = SUMMARY["frequency"], SUMMARY["recency"], SUMMARY["T"]
    expected = (0.4 * GG.conditional_expected_spend(x, SUMMARY["monetary_value"])
                * BG.conditional_expected_purchases(t1, x, tx, T) / 1.02)
    np.testing.assert_allclose(out["clv"], expected)


def test_undiscounted_clv_telescopes_to_the_horizon_total():
    # with d = 0 the monthly increments add up to E[Y(12 months)]
    out = customer_lifetime_value(BG, GG, SUMMARY, monthly_discount_rate=0.0)
    t12 = 12 * DAYS_PER_MONTH / 7
    x, tx, T = SUMMARY["frequency"], SUMMARY["recency"], SUMMARY["T"]
    total = BG.conditional_expected_purchases(t12, x, tx, T)
    np.testing.assert_allclose(out["expected_purchases"], total)
    np.testing.assert_allclose(out["clv"], total * out["expected_spend"])


def test_discounting_bounds_and_columns():
    plain = customer_lifetime_value(BG, GG, SUMMARY, monthly_discount_rate=0.0)
    disc = customer_lifetime_value(BG, GG, SUMMARY, monthly_discount_rate=0.01)
    assert (disc["clv"] < plain["clv"]).all()
    assert (disc["clv"] > plain["clv"] / 1.01 ** 12).all()
    assert disc["p_alive"].iloc[1] == 1.0  # x = 0
    assert disc["expected_spend"].iloc[1] == pytest.approx(GG.population_mean_spend)
    assert list(SUMMARY.columns) == ["customer_id", "frequency", "recency", "T", "monetary_value"]


def test_top_customers_by_hand():
    clv = pd.DataFrame({"customer_id": list("abcdefghij"), "clv": [5, 1, 9, 3, 7, 2, 8, 4, 6, 0.0]})
    out = top_customers(clv, lang="en")
    # 10 customers: top 10% → 1 (c, 9), next 40% → 4 (g, e, i, a), rest → 5
    assert out["customer_id"].tolist()[:5] == ["c", "g", "e", "i", "a"]
    assert out["tier"].value_counts().to_dict() == {"rest": 5, "middle": 4, "top": 1}
    assert out.loc[0, "tier_label"] == "Top 10% customers"
    assert out.loc[0, "clv_share"] == pytest.approx(9 / 45)
    zh = top_customers(clv, lang="zh-TW")
    assert zh["tier_label"].tolist()[:2] == ["頂尖 10% 顧客", "次 40% 顧客"]
    assert zh["tier_label"].iloc[-1] == "其餘 50% 顧客"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"horizon_months": 0}, "horizon_months must be a whole number >= 1"),
        ({"monthly_discount_rate": -0.1}, "monthly_discount_rate must be a finite number >= 0"),
        ({"time_unit_days": 0}, "time_unit_days must be a finite number >= 0"),
    ],
)
def test_bad_clv_arguments(kwargs, match):
    with pytest.raises(KpitoolsError, match=match):
        customer_lifetime_value(BG, GG, SUMMARY, **kwargs)


def test_bad_tier_arguments():
    with pytest.raises(KpitoolsError, match="lang='fr' is not supported"):
        top_customers(pd.DataFrame({"clv": [1.0]}), lang="fr")
    with pytest.raises(KpitoolsError, match="no 'clv' column"):
        top_customers(pd.DataFrame({"x": [1.0]}))
    with pytest.raises(KpitoolsError, match="two fractions summing to at most 1"):
        top_customers(pd.DataFrame({"clv": [1.0]}), shares=(0.7, 0.5))


def test_orders_without_repeat_buyers_raise():
    orders = pd.DataFrame({"customer_id": ["a", "b"], "order_date": pd.to_datetime(
        ["2024-01-02", "2024-02-03"]), "amount": [10.0, 20.0]})
    with pytest.raises(ModelFitError, match="no customer made a repeat purchase"):
        predicted_clv(orders, "2024Q1")


@pytest.fixture(scope="module")
def shop_orders() -> pd.DataFrame:
    if not SHOP.is_file():
        pytest.skip("sample e-commerce client data not present")
    return pd.read_csv(SHOP, parse_dates=["order_date"], dtype={"customer_id": str})


def test_sample_shop_gets_per_customer_clv(shop_orders):
    table = predicted_clv_by_customer(shop_orders, "2024Q4")
    assert table["customer_id"].is_unique
    assert len(table) == shop_orders.loc[shop_orders["order_date"] <= "2024-12-31",
                                         "customer_id"].nunique()
    assert (table["clv"] >= 0).all() and table["p_alive"].between(0, 1).all()
    assert set(table["tier"]) == {"top", "middle", "rest"}
    headline = predicted_clv(shop_orders, "2024Q4")
    assert headline == pytest.approx(table["clv"].mean())
    # an earlier period sees fewer orders and only the customers seen by then
    assert len(predicted_clv_by_customer(shop_orders, "2023Q4")) < len(table)


def test_catalog_entries_reach_the_models(shop_orders):
    from kpitools.catalog import compute_kpi, get_kpi

    kpi = get_kpi("predicted_clv")
    assert kpi.tables == ("orders",) and kpi.unit == "currency"
    value = compute_kpi("predicted_clv", {"orders": shop_orders}, "2024Q4")
    assert value == pytest.approx(predicted_clv(shop_orders, "2024Q4"))
    if SAAS.is_file():
        contracts = pd.read_csv(SAAS, parse_dates=["start_date", "end_date"])
        rate = compute_kpi("projected_retention", {"contracts": contracts}, "2024Q4")
        assert get_kpi("projected_retention").unit == "rate" and 0 < rate < 1
