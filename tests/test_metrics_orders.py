"""Order KPIs on a table small enough to check by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from kpitools._errors import KpitoolsError
from kpitools.metrics.orders import (
    aov,
    customer_summary,
    gross_margin,
    gross_margin_rate,
    new_customers_orders,
    new_vs_returning_revenue,
    orders_per_customer,
    repeat_purchase_rate,
    revenue,
    revenue_by,
)


@pytest.fixture
def orders() -> pd.DataFrame:
    # order  customer  date        amount  discount  cost  channel
    # o1     c1        2024-03-01     200         0   100  web      (before Q3)
    # o2     c1        2024-07-03    1000       100   400  web
    # o3     c2        2024-07-05     500         0     ?  shop     (cost unknown)
    # o4     c3        2024-08-10     300         0   100  (none)
    # o5     c3        2024-09-01     300        50   100  shop
    # o6     c2        2024-10-01      50         0    10  web      (after Q3)
    return pd.DataFrame({
        "order_id": ["o1", "o2", "o3", "o4", "o5", "o6"],
        "customer_id": ["c1", "c1", "c2", "c3", "c3", "c2"],
        "order_date": pd.to_datetime(["2024-03-01", "2024-07-03", "2024-07-05", "2024-08-10",
                                      "2024-09-01", "2024-10-01"]),
        "amount": [200.0, 1000.0, 500.0, 300.0, 300.0, 50.0],
        "discount": [0.0, 100.0, 0.0, 0.0, 50.0, 0.0],
        "cost": [100.0, 400.0, None, 100.0, 100.0, 10.0],
        "channel": ["web", "web", "shop", None, "shop", "web"],
        "product": ["tea", "tea", "cup", "cup", "tea", "tea"],
    })


def test_revenue_bases(orders):
    # Q3 after discounts: 900 + 500 + 300 + 250 = 1950; before discounts: 1000+500+300+300 = 2100
    assert revenue(orders, "2024Q3") == pytest.approx(1950.0)
    assert revenue(orders, "2024Q3", basis="gross") == pytest.approx(2100.0)
    # all data: 200 + 1950 + 50 = 2200
    assert revenue(orders) == pytest.approx(2200.0)


def test_net_and_total_sales_use_optional_columns(orders):
    # Without returns/tax/shipping columns both equal gross less discounts.
    assert revenue(orders, "2024Q3", basis="net_sales") == pytest.approx(1950.0)
    assert aov(orders, "2024Q3", basis="total_sales") == pytest.approx(1950.0 / 4)
    extra = orders.assign(returns=[0, 0, 100.0, 0, 0, 0], tax=[0, 45.0, 25.0, 15.0, 12.5, 0],
                          shipping=[0, 60.0, 0, 0, 0, 0])
    # net = 1950 − 100 = 1850; total = 1850 + (45+25+15+12.5) + 60 = 2007.5
    assert revenue(extra, "2024Q3", basis="net_sales") == pytest.approx(1850.0)
    assert aov(extra, "2024Q3", basis="total_sales") == pytest.approx(2007.5 / 4)


def test_aov(orders):
    # 1950 ÷ 4 orders; gross basis 2100 ÷ 4
    assert aov(orders, "2024Q3") == pytest.approx(487.5)
    assert aov(orders, "2024Q3", basis="gross") == pytest.approx(525.0)
    # July: o2 (900) and o3 (500) → 700
    assert aov(orders, "2024-07") == pytest.approx(700.0)


def test_empty_period_policies(orders):
    # 2023Q1 is before the first order (2024-03-01): every KPI is "no data" (NaN, shown as —),
    # never 0 (issue 12); so is 2025Q1, after the last order (2024-10-01).
    for f in (revenue, gross_margin, new_customers_orders, aov, gross_margin_rate,
              repeat_purchase_rate, orders_per_customer):
        assert math.isnan(f(orders, "2023Q1")), f.__name__
        assert math.isnan(f(orders, "2025Q1")), f.__name__
    # 2024Q2 lies between the first and last orders but has none: a quiet quarter, 0 sales;
    # the ratios have a zero denominator and stay NaN.
    assert revenue(orders, "2024Q2") == 0.0
    assert gross_margin(orders, "2024Q2") == 0.0
    assert new_customers_orders(orders, "2024Q2") == 0.0
    assert math.isnan(aov(orders, "2024Q2"))
    # A headers-only orders table: no data for any period, nor for all data.
    empty = orders.iloc[:0]
    for f in (revenue, gross_margin, new_customers_orders):
        assert math.isnan(f(empty, "2024Q3")), f.__name__
        assert math.isnan(f(empty)), f.__name__


def test_gross_margin_skips_orders_without_cost(orders):
    # Q3 with known cost: o2 900−400=500, o4 300−100=200, o5 250−100=150 → 850 of sales 1450
    assert gross_margin(orders, "2024Q3") == pytest.approx(850.0)
    assert gross_margin_rate(orders, "2024Q3") == pytest.approx(850.0 / 1450.0)


def test_gross_margin_needs_cost(orders):
    with pytest.raises(KpitoolsError, match=r"table 'orders' lacks column\(s\) 'cost'"):
        gross_margin_rate(orders.drop(columns="cost"), "2024Q3")


def test_repeat_purchase_rate_history_switch(orders):
    # Q3 buyers c1, c2, c3; only c3 has 2 orders inside Q3 → 1/3.
    assert repeat_purchase_rate(orders, "2024Q3") == pytest.approx(1 / 3)
    # history="all": c1 also bought in March → c1 and c3; c2's October order is after Q3 → 2/3
    assert repeat_purchase_rate(orders, "2024Q3", history="all") == pytest.approx(2 / 3)
    # all data: c1, c2 and c3 each have 2 orders → 1
    assert repeat_purchase_rate(orders) == pytest.approx(1.0)
    with pytest.raises(KpitoolsError, match=r"unknown history 'al'.*\nHint: did you mean 'all'"):
        repeat_purchase_rate(orders, history="al")


def test_orders_per_customer(orders):
    # Q3: 4 orders by 3 customers
    assert orders_per_customer(orders, "2024Q3") == pytest.approx(4 / 3)


def test_new_customers_use_the_whole_history(orders):
    # first orders: c1 2024-03-01, c2 2024-07-05, c3 2024-08-10 → Q3 has c2 and c3
    assert new_customers_orders(orders, "2024Q3") == 2.0
    assert new_customers_orders(orders, "2024Q1") == 1.0
    assert new_customers_orders(orders, "2024Q4") == 0.0


def test_new_vs_returning_revenue(orders):
    # Q3: new c2 (500) + c3 (300 + 250) = 1050 over 3 orders; returning c1 900 over 1 order
    out = new_vs_returning_revenue(orders, "2024Q3")
    assert list(out.index) == ["new", "returning"]
    assert out.loc["new", ["customers", "orders", "revenue"]].tolist() == [2, 3, 1050.0]
    assert out.loc["returning", ["customers", "orders", "revenue"]].tolist() == [1, 1, 900.0]
    assert out["revenue_share"].tolist() == pytest.approx([1050 / 1950, 900 / 1950])


def test_new_vs_returning_keeps_both_rows_when_one_is_empty(orders):
    # Q4: only c2 (first order in July) → all returning
    out = new_vs_returning_revenue(orders, "2024Q4")
    assert out.loc["new", "revenue"] == 0.0 and out.loc["new", "customers"] == 0
    assert out.loc["returning", "revenue_share"] == pytest.approx(1.0)
    empty = new_vs_returning_revenue(orders, "2023Q1")
    assert empty["revenue"].tolist() == [0.0, 0.0] and empty["revenue_share"].isna().all()


def test_revenue_by_channel_keeps_missing_labels(orders):
    out = revenue_by(orders, "2024Q3", by="channel")
    # web: o2 900; shop: o3 500 + o5 250 = 750; missing: o4 300
    assert list(out.index) == ["web", "shop", "(missing)"]
    assert out["revenue"].tolist() == pytest.approx([900.0, 750.0, 300.0])
    assert out["orders"].tolist() == [1, 2, 1]
    assert out["aov"].tolist() == pytest.approx([900.0, 375.0, 300.0])
    assert out["revenue"].sum() == pytest.approx(revenue(orders, "2024Q3"))


def test_revenue_by_product_and_month(orders):
    by_product = revenue_by(orders, "2024Q3", by="product")
    # tea: o2 900 + o5 250 = 1150; cup: o3 500 + o4 300 = 800
    assert by_product["revenue"].to_dict() == pytest.approx({"tea": 1150.0, "cup": 800.0})
    by_month = revenue_by(orders, by="month")
    assert list(by_month.index) == ["2024-03", "2024-07", "2024-08", "2024-09", "2024-10"]
    assert by_month.loc["2024-07", "aov"] == pytest.approx(700.0)


def test_revenue_by_unknown_column(orders):
    with pytest.raises(KpitoolsError, match=r"cannot group orders by 'chanel'.*\nHint: did you "
                                            "mean 'channel'"):
        revenue_by(orders, by="chanel")


def test_customer_summary_rfm(orders):
    out = customer_summary(orders, "2024Q3")
    # as_of = 2024-09-30. c1: 1 order, 900, last 07-03 → 89 days; c3: 2 orders, 550, last 09-01
    # → 29 days; c2: 1 order, 500, last 07-05 → 87 days. Sorted by revenue.
    assert list(out.index) == ["c1", "c3", "c2"]
    assert out["orders"].tolist() == [1, 2, 1]
    assert out["revenue"].tolist() == pytest.approx([900.0, 550.0, 500.0])
    assert out["recency_days"].tolist() == pytest.approx([89.0, 29.0, 87.0])
    assert out.loc["c3", "aov"] == pytest.approx(275.0)
    # all data, as_of = last order 2024-10-01: c2 last ordered that day → 0
    assert customer_summary(orders).loc["c2", "recency_days"] == 0.0
    assert customer_summary(orders, as_of="2024-10-11").loc["c2", "recency_days"] == 10.0


def test_single_customer():
    one = pd.DataFrame({"order_id": ["a", "b"], "customer_id": ["x", "x"],
                        "order_date": pd.to_datetime(["2024-01-02", "2024-01-20"]),
                        "amount": [100.0, 300.0], "discount": [0.0, 0.0]})
    # one customer, 2 orders: AOV 200, repeat rate 1, 2 orders per customer, 1 new customer
    assert aov(one, "2024-01") == pytest.approx(200.0)
    assert repeat_purchase_rate(one, "2024-01") == 1.0
    assert orders_per_customer(one, "2024-01") == 2.0
    assert new_customers_orders(one, "2024-01") == 1.0


def test_missing_discount_column_means_no_discount(orders):
    # discount is optional in the data contract: absent → 0, so gross less discounts = gross
    plain = orders.drop(columns="discount")
    assert revenue(plain, "2024Q3") == pytest.approx(2100.0)


def test_bad_arguments(orders):
    with pytest.raises(KpitoolsError, match=r"unknown basis 'net'.*\nHint:"):
        aov(orders, basis="net")
    with pytest.raises(KpitoolsError, match="cannot read period '2024Q5'"):
        revenue(orders, "2024Q5")
    with pytest.raises(KpitoolsError, match=r"lacks column\(s\) 'amount'"):
        revenue(orders.drop(columns="amount"))
