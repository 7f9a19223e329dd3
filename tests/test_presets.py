"""Presets for real export layouts: Shopify, HubSpot, Salesforce, GA4 (English and zh-TW)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from kpitools._errors import DataValidationError, KpitoolsError
from kpitools.io import load_deals, load_orders, load_web_traffic, preset_names

PRESETS = Path(__file__).parent / "data" / "presets"
TS = pd.Timestamp


def test_packaged_presets():
    assert preset_names() == ["ga4", "hubspot", "salesforce", "shopify"]


def test_shopify_line_items_become_one_row_per_order():
    orders = load_orders(PRESETS / "shopify_orders.csv", preset="shopify")
    assert orders["order_id"].tolist() == ["#1001", "#1002", "#1003"]
    assert orders["customer_id"].tolist() == ["amy@example.tw", "ben@example.tw", "amy@example.tw"]
    # amount = the line items' gross (#1001: 2 × 600 + 1 × 300 = 1500); Subtotal (1400) is
    # after discounts, so discount = 1500 − 1400 = 100 and revenue = Σ Subtotal
    assert orders["amount"].tolist() == [1500.0, 480.0, 900.0]
    assert orders["discount"].tolist() == [100.0, 0.0, 0.0]
    # #1001 has two line items: 2 + 1 = 3 units; the first item names the product
    assert orders["quantity"].tolist() == [3.0, 1.0, 3.0]
    assert orders["product"].tolist() == ["東方美人茶", "凍頂烏龍茶", "包種茶"]
    assert orders["channel"].tolist() == ["web", "pos", "web"]
    # each order's date is the store's, as written: 23:30 +08:00 and 17:10 -08:00 both stay on
    # the 5th (the latter is 09:10 on the 6th in Taipei)
    assert orders["order_date"].tolist() == [TS("2024-01-05"), TS("2024-01-05"), TS("2024-01-05")]
    # each order keeps the spreadsheet row of its first line item
    assert list(orders.attrs["kpitools_rows"]) == [2, 4, 5]


def test_shopify_problems_point_at_the_original_rows(tmp_path):
    text = (PRESETS / "shopify_orders.csv").read_text("utf-8").replace("480.00,0.00", "abc,0.00")
    path = tmp_path / "orders_export.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(
        DataValidationError, match=r"column 'amount': 1 value is not a number \(row 4: 'abc'\)"
    ):
        load_orders(path, preset="shopify")


def test_shopify_without_preset_suggests_it():
    with pytest.raises(DataValidationError, match=r"or use preset 'shopify'\."):
        load_orders(PRESETS / "shopify_orders.csv")


def test_user_mapping_overrides_preset():
    # Map the order total (after discount) to amount instead of Subtotal: taken as it is.
    orders = load_orders(
        PRESETS / "shopify_orders.csv", preset="shopify", columns={"Total": "amount"}
    )
    assert orders["amount"].tolist() == [1400.0, 480.0, 900.0]


def test_hubspot_deals_outcome_from_stage():
    deals = load_deals(PRESETS / "hubspot_deals.csv", preset="hubspot")
    assert deals["deal_id"].tolist() == ["9001", "9002", "9003"]
    assert deals["outcome"].tolist() == ["won", "lost", "open"]
    assert deals["stage"].tolist() == ["Closed won", "Closed lost", "Contract sent"]
    assert deals["close_date"].tolist()[:2] == [TS("2024-02-01"), TS("2024-02-10")]
    assert pd.isna(deals["close_date"].iloc[2])
    assert deals["owner"].tolist() == ["Amy Wang", "Ben Chen", "Amy Wang"]
    assert deals["channel"].tolist() == ["Organic Search", "Paid Search", "Referrals"]


def test_salesforce_report_footer_is_ignored():
    deals = load_deals(PRESETS / "salesforce_opportunities.csv", preset="salesforce")
    assert deals["deal_id"].tolist() == ["0065g00000A1", "0065g00000A2"]
    assert deals["amount"].tolist() == [120000.0, 80000.0]  # "TWD 120,000"
    assert deals["outcome"].tolist() == ["won", "open"]
    assert deals["customer_id"].tolist() == ["ACME Ltd", "Beta Co"]


def test_ga4_english_download_skips_comments_and_second_table():
    traffic = load_web_traffic(PRESETS / "ga4_traffic_en.csv", preset="ga4")
    assert traffic["date"].tolist() == [TS("2024-01-01"), TS("2024-01-01"), TS("2024-01-02")]
    assert traffic["channel"].tolist() == ["Organic Search", "Direct", "Organic Search"]
    assert traffic["sessions"].tolist() == [120.0, 30.0, 140.0]
    assert traffic["engaged_sessions"].tolist() == [80.0, 20.0, 90.0]
    assert traffic["users"].tolist() == [100.0, 25.0, 110.0]
    assert traffic["engagement_seconds"].tolist() == [3600.0, 900.0, 4000.0]
    assert traffic["ad_revenue"].tolist() == [12.5, 0.0, 15.0]
    # the header is on row 9, after 8 comment lines
    assert list(traffic.attrs["kpitools_rows"]) == [10, 11, 12]
    assert "Engagement rate" in traffic.attrs["kpitools_unmapped"]


def test_ga4_zh_tw_download():
    traffic = load_web_traffic(PRESETS / "ga4_traffic_zh.csv", preset="ga4")
    assert traffic["channel"].tolist() == ["Organic Search", "Direct"]
    assert traffic["users"].tolist() == [100.0, 25.0]
    assert traffic["key_events"].tolist() == [3.0, 0.0]
    assert traffic["new_users"].tolist() == [40.0, 5.0]


def test_ga4_grand_total_row_is_dropped():
    text = "# GA4\nDate,Sessions,Active users\n20240101,10,8\nGrand total,10,8\n"
    traffic = load_web_traffic(text.encode(), preset="ga4")
    assert traffic["sessions"].tolist() == [10.0]
    assert traffic["channel"].tolist() == ["all"]  # default when the report has no channel


def test_unknown_preset():
    with pytest.raises(
        KpitoolsError, match=r"unknown preset 'hubspt' \(did you mean 'hubspot'\?\)"
    ):
        load_deals(b"x\n1\n", preset="hubspt")


def test_preset_for_another_table():
    with pytest.raises(
        KpitoolsError,
        match=r"(?s)preset 'ga4' loads the 'web_traffic' table, not 'orders'.*"
        r"Hint: presets for 'orders': \['shopify'\]",
    ):
        load_orders(b"x\n1\n", preset="ga4")


def test_salesforce_custom_stages_are_refused_until_mapped(tmp_path):
    # Salesforce's default stages are known; a custom stage ("Signed", "Legal review") used to
    # pass silently as open, which kept won deals out of the win rate and bookings.
    text = (PRESETS / "salesforce_opportunities.csv").read_text("utf-8")
    custom = text.replace('"Closed Won"', '"Signed"').replace('"Negotiation/Review"',
                                                                '"Legal review"')
    path = tmp_path / "opportunities.csv"
    path.write_text(custom, encoding="utf-8")
    with pytest.raises(DataValidationError) as exc:
        load_deals(path, preset="salesforce")
    message = str(exc.value)
    assert "2 deals with a stage whose outcome is not known: ['Signed', 'Legal review']" in (
        message)
    assert "stages: {<stage>: lost}" in message
    deals = load_deals(path, preset="salesforce", stages={"Signed": "won", "Legal review": "open"})
    assert deals["outcome"].tolist() == ["won", "open"]
    assert deals["stage"].tolist() == ["Signed", "Legal review"]
