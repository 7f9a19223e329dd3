"""Real export files load with the right numbers, or are refused clearly (issue 12).

Fixtures are in ``tests/data/real/`` (sources and changes in its README). Every expected number
is computed here from the raw file with plain pandas, or by hand in a comment.
"""

from __future__ import annotations

import math
import shutil
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from kpitools._errors import DataValidationError, KpitoolsError, ModelFitError
from kpitools.io import check_client, load_client, load_deals, load_orders, load_web_traffic
from kpitools.metrics.orders import (
    new_customers_orders,
    orders_per_customer,
    repeat_purchase_rate,
    revenue,
)
from kpitools.models import rfm_summary

REAL = Path(__file__).parent / "data" / "real"
REFERENCE = Path(__file__).parent / "data" / "reference"
SHOPIFY_ZA = REAL / "shopify_orders_export_za.csv"
SHOPIFY_BD = REAL / "shopify_orders_export_bd.csv"
UCI = REAL / "uci_online_retail_2010-12-01.csv"
HUBSPOT = REAL / "hubspot-crm-exports-all-deals.csv"
GA4_SNAPSHOT = REAL / "ga4_reports_snapshot.csv"
GA4_TRAFFIC = REAL / "ga4_traffic_by_nth_day.csv"
TS = pd.Timestamp


def _client(tmp_path: Path, source: Path, table_yaml: str, currency: str = "TWD") -> Path:
    """A client folder holding ``source`` and a client.yml whose tables: entry is given."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, tmp_path / source.name)
    entry = textwrap.indent(textwrap.dedent(table_yaml).strip(), "  ")
    (tmp_path / "client.yml").write_text(
        f"name: {{zh-TW: 測試, en: Test}}\nbusiness_model: ecommerce\ncurrency: {currency}\n"
        "tables:\n" + entry + "\n",
        encoding="utf-8",
    )
    return tmp_path


def _messages(problems) -> list[str]:
    return [p.render() for p in problems]


# --- Shopify ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def za_raw() -> pd.DataFrame:
    return pd.read_csv(SHOPIFY_ZA, dtype=str, keep_default_na=False)


def _first_rows(raw: pd.DataFrame) -> pd.DataFrame:
    """Order-level fields are on the first row of each order: the rows with a Financial Status."""
    return raw[raw["Financial Status"] != ""].set_index("Name")


def test_shopify_revenue_is_the_sum_of_subtotals_of_kept_orders(za_raw):
    first = _first_rows(za_raw)
    reversed_ = first["Financial Status"].isin(["refunded", "voided"]) | (
        first["Cancelled at"] != ""
    )
    kept = first[~reversed_]
    orders = load_orders(SHOPIFY_ZA, preset="shopify", currency="ZAR")
    assert orders["order_id"].tolist() == kept.index.tolist()
    # Subtotal is after discounts: revenue = Σ Subtotal, no second discount.
    assert revenue(orders) == pytest.approx(kept["Subtotal"].astype(float).sum())
    net = (orders["amount"] - orders["discount"]).tolist()
    assert net == pytest.approx(kept["Subtotal"].astype(float).tolist())


def test_shopify_gross_comes_from_the_line_items(za_raw):
    lines = za_raw.assign(
        value=za_raw["Lineitem price"].astype(float) * za_raw["Lineitem quantity"].astype(float)
    )
    gross = lines.groupby("Name", sort=False)["value"].sum()
    units = lines.groupby("Name", sort=False)["Lineitem quantity"].apply(
        lambda q: q.astype(float).sum()
    )
    orders = load_orders(SHOPIFY_ZA, preset="shopify", currency="ZAR", refunds="keep").set_index(
        "order_id"
    )
    assert orders["amount"].tolist() == pytest.approx(gross.loc[orders.index].tolist())
    assert orders["quantity"].tolist() == pytest.approx(units.loc[orders.index].tolist())
    # #13531 has a free bundle item (price 0.00): 269 + 0 + 19400 + 6000 + 2249 + 5099 = 33017
    assert orders.loc["#13531", "amount"] == 33017.0
    assert orders.loc["#13531", "customer_id"] == "customer09@example.com"


def test_shopify_order_dates_are_the_stores_dates(za_raw):
    # "Created at" is the store's local time with its offset (+0200 here). The order date is
    # the date written, as in Shopify's own reports: an order placed at 19:51 on 13 May in
    # Johannesburg is a 13 May order, although it is already 14 May in Taipei.
    first = _first_rows(za_raw)
    written = pd.to_datetime(first["Created at"].str[:10])
    late = first["Created at"].str[11:13].astype(int) >= 18  # after 18:00 = next day in Taipei
    assert late.sum() >= 2  # the fixture has such orders
    orders = load_orders(SHOPIFY_ZA, preset="shopify", currency="ZAR", refunds="keep")
    dates = orders.set_index("order_id")["order_date"]
    assert dates.loc[first.index].tolist() == written.tolist()


def test_shopify_refund_policy_is_switchable_and_reported(za_raw):
    first = _first_rows(za_raw)
    kept_all = load_orders(SHOPIFY_ZA, preset="shopify", currency="ZAR", refunds="keep")
    assert revenue(kept_all) == pytest.approx(first["Subtotal"].astype(float).sum())
    warnings = _messages(
        load_orders(SHOPIFY_ZA, preset="shopify", currency="ZAR").attrs["kpitools_warnings"]
    )
    assert (
        "column 'order_id': 2 refunded, voided or cancelled orders left out (refunds: exclude, "
        "as in Shopify's sales report) (row 3: '#13520', row 8: '#13523')"
    ) in warnings
    assert any(
        "1 partly refunded order kept at full subtotal (85.00 refunded" in w for w in warnings
    )
    # VAT-inclusive shop: Total = Subtotal + Shipping on every kept order (784 = 699 + 85, …)
    assert any(w.startswith("column 'amount': 7 orders price taxes in") for w in warnings)


def test_shopify_discount_is_not_taken_twice():
    orders = load_orders(SHOPIFY_BD, preset="shopify", currency="BDT").set_index("order_id")
    # #71737: lines 600 + 1400 = 2000 gross, Discount Amount 400, Subtotal 1600
    assert orders.loc["#71737", ["amount", "discount"]].tolist() == [2000.0, 400.0]
    # 4 orders of 1400 + 1600 = 7200 (Σ Subtotal)
    assert revenue(orders.reset_index()) == 7200.0


def test_shopify_guest_orders_stay_in_revenue_but_not_in_customer_kpis():
    orders = load_orders(SHOPIFY_BD, preset="shopify", currency="BDT")
    assert orders["customer_id"].isna().all()
    assert revenue(orders) == 7200.0
    assert new_customers_orders(orders) == 0.0
    assert math.isnan(orders_per_customer(orders))
    assert math.isnan(repeat_purchase_rate(orders))
    warning = orders.attrs["kpitools_warnings"][0].render()
    assert warning.startswith(
        "column 'customer_id': 5 orders without a customer (guests): kept in revenue, left out "
        "of customer KPIs (guests: exclude_from_customer_kpis) (row 2, row 3,"
    )


def test_shopify_guests_as_own_customers():
    orders = load_orders(SHOPIFY_BD, preset="shopify", currency="BDT", guests="own_customer")
    assert orders["customer_id"].tolist() == [
        "guest:#71733",
        "guest:#71734",
        "guest:#71735",
        "guest:#71736",
        "guest:#71737",
    ]
    assert new_customers_orders(orders) == 5.0
    assert orders_per_customer(orders) == 1.0


def test_guest_orders_mixed_with_customers():
    raw = pd.DataFrame(
        {
            "order_id": ["A1", "A2", "A3", "A4"],
            "customer_id": ["c1", None, "c1", None],
            "order_date": ["2024-01-05"] * 4,
            "amount": [100, 50, 30, 20],
        }
    )
    orders = load_orders(raw, guests="exclude_from_customer_kpis")
    assert revenue(orders) == 200.0  # 100 + 50 + 30 + 20
    assert orders_per_customer(orders) == 2.0  # c1's 2 orders / 1 customer
    assert repeat_purchase_rate(orders) == 1.0
    summary = rfm_summary(orders, observation_end="2024-01-31")
    assert summary["customer_id"].tolist() == ["c1"]
    with pytest.raises(
        DataValidationError,
        match=r"(?s)2 empty cells in a required column"
        r".*guests: exclude_from_customer_kpis",
    ):
        load_orders(raw)


def test_check_data_says_how_many_rows_the_policies_touched(tmp_path):
    folder = _client(
        tmp_path,
        SHOPIFY_ZA,
        f"""
        orders: {{file: {SHOPIFY_ZA.name}, preset: shopify, currency: ZAR}}
    """,
        currency="ZAR",
    )
    found = check_client(folder)
    assert not [p for p in found[SHOPIFY_ZA.name] if p.severity == "error"]
    assert any(
        "2 refunded, voided or cancelled orders left out" in m
        for m in _messages(found[SHOPIFY_ZA.name])
    )
    client = load_client(folder)
    assert len(client["orders"]) == 7


def test_policy_values_are_checked_in_client_yml(tmp_path):
    folder = _client(
        tmp_path,
        SHOPIFY_ZA,
        f"""
        orders: {{file: {SHOPIFY_ZA.name}, preset: shopify, currency: ZAR,
                  refunds: exclud, guests: nobody}}
    """,
        currency="ZAR",
    )
    rendered = _messages(check_client(folder)["client.yml"])
    assert len(rendered) == 1
    assert (
        "refunds: 'exclud' is not one of ['exclude', 'keep'] (did you mean 'exclude'?)"
        in (rendered[0])
    )
    assert "guests: 'nobody' is not one of" in rendered[0]


def test_unknown_loader_option():
    with pytest.raises(
        KpitoolsError, match=r"unknown option 'refund' \(did you mean 'refunds'\?\)"
    ):
        load_orders(SHOPIFY_ZA, preset="shopify", currency="ZAR", refund="keep")


# --- UCI Online Retail: line items from client.yml alone --------------------------------------

UCI_ENTRY = """
    orders:
      file: uci_online_retail_2010-12-01.csv
      columns: {InvoiceNo: order_id, CustomerID: customer_id, InvoiceDate: order_date,
                Quantity: quantity, Description: product}
      line_items: {unit_price: UnitPrice}
      returns: exclude
      guests: exclude_from_customer_kpis
"""


@pytest.fixture(scope="module")
def uci_raw() -> pd.DataFrame:
    raw = pd.read_csv(UCI, dtype={"InvoiceNo": str, "CustomerID": str})
    return raw.assign(value=raw["Quantity"] * raw["UnitPrice"])


def test_line_item_file_loads_from_client_yml(tmp_path, uci_raw):
    client = load_client(_client(tmp_path, UCI, UCI_ENTRY))
    orders = client["orders"].set_index("order_id")
    sales = uci_raw[~uci_raw["InvoiceNo"].str.startswith("C")]
    per_invoice = sales.groupby("InvoiceNo", sort=False)["value"].sum()
    assert orders.index.tolist() == per_invoice.index.tolist()
    assert orders["amount"].tolist() == pytest.approx(per_invoice.tolist())
    assert orders["quantity"].tolist() == pytest.approx(
        sales.groupby("InvoiceNo", sort=False)["Quantity"].sum().tolist()
    )
    # blank CustomerID (536414, 536544) = guests, kept in revenue
    assert orders.loc[["536414", "536544"], "customer_id"].isna().all()
    assert revenue(client["orders"]) == pytest.approx(sales["value"].sum())
    assert orders.loc["536382", "customer_id"] == "16098.0"


def test_cancellations_are_reported_and_switchable(tmp_path, uci_raw):
    folder = _client(tmp_path, UCI, UCI_ENTRY)
    found = _messages(check_client(folder)[UCI.name])
    cancelled = uci_raw[uci_raw["InvoiceNo"].str.startswith("C")]
    value = -cancelled["value"].sum()  # 27.50 + 4.65 + 141.48 = 173.63
    assert value == pytest.approx(173.63)
    assert (
        "column 'order_id': 3 cancellation invoices left out (returns: exclude; 173.63 cancelled "
        "in all): revenue is counted before returns (row 2: 'C536379', row 15: 'C536383', "
        "row 58: 'C536391')"
    ) in found
    assert any(
        m.startswith("column 'customer_id': 2 orders without a customer (guests)") for m in found
    )
    strict = _client(
        tmp_path / "strict", UCI, UCI_ENTRY.replace("returns: exclude", "returns: error")
    )
    with pytest.raises(DataValidationError, match=r"3 cancellation invoices \(C-prefixed"):
        load_client(strict)


def test_line_items_name_a_missing_price_column():
    with pytest.raises(
        DataValidationError,
        match=r"line_items names the unit price column "
        r"'Price', which is not in the file",
    ):
        load_orders(
            UCI,
            columns={
                "InvoiceNo": "order_id",
                "CustomerID": "customer_id",
                "InvoiceDate": "order_date",
                "Quantity": "quantity",
            },
            line_items={"unit_price": "Price"},
            guests="own_customer",
        )


# --- CDNOW master file: whitespace, no header, no order id -------------------------------------


def test_cdnow_master_file_layout(tmp_path):
    folder = _client(
        tmp_path,
        REFERENCE / "CDNOW_sample.txt",
        """
        orders:
          file: CDNOW_sample.txt
          delimiter: whitespace
          names: [null, customer_id, order_date, quantity, amount]
          order_ids: generate
    """,
    )
    orders = load_client(folder)["orders"]
    raw = pd.read_csv(
        REFERENCE / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master", "customer", "date", "cds", "dollars"],
        dtype={"date": str},
    )
    assert len(orders) == len(raw) == 6919
    assert orders["amount"].sum() == pytest.approx(raw["dollars"].sum())
    assert orders["order_id"].iloc[:2].tolist() == ["row-1", "row-2"]
    assert orders["order_date"].min() == TS("1997-01-01")
    # the published calibration summary: Σx = 2,457 repeat purchases (tests/data/reference/README)
    summary = rfm_summary(orders, observation_end="1997-09-30", time_scaler=7)
    assert summary["frequency"].sum() == 2457


def test_whitespace_file_with_wrong_names_is_refused():
    with pytest.raises(DataValidationError, match=r"6919 rows do not have 4 cells"):
        load_orders(
            REFERENCE / "CDNOW_sample.txt",
            delimiter="whitespace",
            names=["customer_id", "order_date", "quantity", "amount"],
            order_ids="generate",
        )


# --- HubSpot all-deals export ---------------------------------------------------------------------


def test_hubspot_custom_stages_must_be_mapped():
    with pytest.raises(DataValidationError) as info:
        load_deals(HUBSPOT, preset="hubspot")
    text = str(info.value)
    assert (
        "column 'stage': 3 deals with a stage whose outcome is not known: ['Signed (Partner "
        "Pipeline)', 'Dead (Partner Pipeline)', 'Negotiating (Partner Pipeline)']"
    ) in text
    assert "stages: {<pipeline>: {<stage>: won}}" in text


def test_hubspot_stage_mapping_per_pipeline_from_client_yml(tmp_path):
    folder = _client(
        tmp_path,
        HUBSPOT,
        f"""
        deals:
          file: {HUBSPOT.name}
          preset: hubspot
          stages:
            Partner Pipeline: {{Signed: won, Dead: lost, Negotiating: open}}
    """,
    )
    deals = load_client(folder)["deals"]
    raw = pd.read_csv(HUBSPOT, dtype=str)
    assert deals["deal_id"].tolist() == raw["Record ID"].tolist()
    # by hand: Closed won, Closed lost, Contract sent, Appointment scheduled, Signed, Dead,
    # Negotiating, Qualified to buy
    assert deals["outcome"].tolist() == [
        "won",
        "lost",
        "open",
        "open",
        "won",
        "lost",
        "open",
        "open",
    ]
    assert deals["amount"].sum() == pytest.approx(pd.to_numeric(raw["Amount"]).sum())
    assert deals["close_date"].iloc[0] == TS("2024-02-01")
    assert deals["created_date"].iloc[4] == TS("2024-01-20")
    assert deals["customer_id"].iloc[5] == "Company F"


def test_hubspot_stage_qualified_by_pipeline_and_client_override():
    text = (
        '"Record ID","Deal Stage","Pipeline","Create Date","Close Date"\n'
        '"1","Closed won (Partner Pipeline)","Partner Pipeline","2024-01-02","2024-02-01"\n'
        '"2","Closed won","Sales Pipeline","2024-01-02","2024-02-01"\n'
    )
    deals = load_deals(text.encode(), preset="hubspot")
    assert deals["outcome"].tolist() == ["won", "won"]
    # the client's own map wins over the preset's: here "Closed won" of one pipeline means lost
    deals = load_deals(
        text.encode(), preset="hubspot", stages={"Sales Pipeline": {"Closed won": "lost"}}
    )
    assert deals["outcome"].tolist() == ["won", "lost"]


# --- GA4 downloads ----------------------------------------------------------------------------


def test_ga4_table_with_nth_day_is_picked_and_dated():
    traffic = load_web_traffic(GA4_TRAFFIC, preset="ga4")
    # Start date 20240301: Nth day 0000 = 1 March, 0001 = 2 March, 0002 = 3 March
    assert (
        traffic["date"].tolist()
        == [TS("2024-03-01")] * 2 + [TS("2024-03-02")] * 2 + [TS("2024-03-03")] * 2
    )
    assert traffic["channel"].tolist() == ["Organic Search", "Direct"] * 3
    assert traffic["sessions"].sum() == 140 + 80 + 132 + 90 + 130 + 81
    assert traffic["users"].tolist() == [120.0, 75.0, 115.0, 81.0, 115.0, 74.0]


def test_ga4_snapshot_without_a_fitting_table_is_refused():
    with pytest.raises(DataValidationError) as info:
        load_web_traffic(GA4_SNAPSHOT, preset="ga4")
    text = str(info.value)
    assert "no table in the file has the columns web_traffic needs (table 1 lacks ['sessions']" in (
        text
    )
    assert "table 3 lacks ['date', 'users']" in text
    assert "table 2 'Reports snapshot' (row 28): columns ['Nth day', 'New users']" in text
    assert "or name the table with report_table: in client.yml" in text


def test_ga4_table_named_in_client_yml(tmp_path):
    folder = _client(
        tmp_path,
        GA4_TRAFFIC,
        f"""
        web_traffic: {{file: {GA4_TRAFFIC.name}, preset: ga4, report_table: 2}}
    """,
    )
    traffic = load_client(folder)["web_traffic"]
    assert len(traffic) == 6
    missing = _client(
        tmp_path / "b",
        GA4_TRAFFIC,
        f"""
        web_traffic: {{file: {GA4_TRAFFIC.name}, preset: ga4, report_table: Engagement}}
    """,
    )
    found = _messages(check_client(missing)[GA4_TRAFFIC.name])
    assert found[0].startswith(
        "report_table 'Engagement' is not in the file. Tables: table 1 "
        "'Traffic acquisition: Session primary channel group"
    )


def test_ga4_weeks_are_dated_on_their_first_day_with_a_warning():
    text = "# Start date: 20240304\n# End date: 20240317\nNth week,Sessions,Active users\n"
    text += "0000,700,500\n0001,650,480\n"
    traffic = load_web_traffic(text.encode(), preset="ga4")
    assert traffic["date"].tolist() == [TS("2024-03-04"), TS("2024-03-11")]
    assert "rows of 'Nth week' are weeks" in traffic.attrs["kpitools_warnings"][0].render()


def test_ga4_nth_day_without_start_date():
    text = b"# Report\nNth day,Sessions,Active users\n0000,10,8\n"
    with pytest.raises(DataValidationError, match=r"no table in the file has the columns"):
        load_web_traffic(text, preset="ga4")


# --- models --------------------------------------------------------------------------------------


def test_rfm_summary_on_an_empty_window_is_an_error():
    orders = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "order_date": pd.to_datetime(["2024-03-01", "2024-03-05"]),
            "amount": [10.0, 20.0],
        }
    )
    with pytest.raises(ModelFitError, match=r"no order with a customer on or before 2024-01-31"):
        rfm_summary(orders, observation_end="2024-01-31")
    guests = orders.assign(customer_id=[None, None])
    with pytest.raises(ModelFitError, match=r"guest orders are left out"):
        rfm_summary(guests, observation_end="2024-03-31")


def test_report_model_error_gives_the_analyst_its_cause_and_hint(tmp_path):
    from kpitools.io.client import Client
    from kpitools.report.sections import QuarterReport

    # nobody buys twice: the BG/NBD fit has no repeat purchases to learn from
    orders = load_orders(
        pd.DataFrame(
            {
                "order_id": ["A1", "A2", "A3"],
                "customer_id": ["a", "b", "c"],
                "order_date": ["2024-10-02", "2024-11-05", "2024-12-01"],
                "amount": [100, 200, 300],
            }
        )
    )
    client = Client(tmp_path, {"name": "t", "business_model": "ecommerce"}, {"orders": orders})
    report = QuarterReport(client, "2024Q4", lang="en")
    # the client sees no half-built section; the analyst's note names the cause and the hint
    assert report.clv() is None
    (paragraph,) = [n for n in report.analyst_notes() if "CLV model" in n]
    assert "no customer made a repeat purchase" in paragraph
    assert "Hint: use a longer observation window" in paragraph
    assert "problem(s) in the customer summary:" in paragraph


RETAIL_COLUMNS = {
    "InvoiceNo": "order_id",
    "CustomerID": "customer_id",
    "InvoiceDate": "order_date",
    "Quantity": "quantity",
}


def test_returns_net_against_the_customers_earlier_purchase():
    # A1/A2/C1–C3 are made up; 581483 / C581484 are the UCI data set's largest order and its
    # cancellation (80,995 × 2.08 = 168,469.60), as they appear in the data set.
    text = (
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
        "A1,X,x,10,2011-01-03 10:00:00,2.0,C1,UK\n"
        "A1,Y,y,1,2011-01-03 10:00:00,5.0,C1,UK\n"
        "A2,X,x,3,2011-01-05 10:00:00,2.0,,UK\n"
        "C1,X,x,-4,2011-01-06 10:00:00,2.0,C1,UK\n"
        "C2,Z,z,-1,2011-01-06 10:00:00,9.0,C1,UK\n"
        '581483,23843,"PAPER CRAFT , LITTLE BIRDIE",80995,2011-12-09 09:15:00,2.08,16446.0,'
        "United Kingdom\n"
        'C581484,23843,"PAPER CRAFT , LITTLE BIRDIE",-80995,2011-12-09 09:27:00,2.08,16446.0,'
        "United Kingdom\n"
    )
    orders = load_orders(
        text.encode(),
        columns=RETAIL_COLUMNS,
        line_items={"unit_price": "UnitPrice", "item": "StockCode"},
        returns="net",
        guests="exclude_from_customer_kpis",
    ).set_index("order_id")
    # A1: 10 × 2 + 1 × 5 = 25, less C1's 4 × 2 = 8 → 17 (7 units); C2's item Z was never bought
    assert orders["amount"].to_dict() == {"A1": 17.0, "A2": 6.0, "581483": 0.0}
    assert orders.loc["A1", "quantity"] == 7.0
    warnings = _messages(orders.attrs["kpitools_warnings"])
    assert warnings[0].startswith(
        "column 'order_id': 2 cancelled lines netted against the customer's latest earlier "
        "purchase of the same item (returns: net; 168,477.60 in all"
    )
    assert warnings[1].startswith(
        "column 'order_id': 1 cancelled line with no earlier purchase of the same item by the "
        "same customer in the file, left out (9.00 in all) (row 6: 'C2')"
    )


def test_returns_net_on_the_uci_rows(uci_raw):
    orders = load_orders(
        UCI,
        columns=RETAIL_COLUMNS,
        line_items={"unit_price": "UnitPrice", "item": "StockCode"},
        returns="net",
        guests="exclude_from_customer_kpis",
    )
    # none of the 3 cancelled invoices (9 lines) has its purchase in this one-morning extract
    cancelled = uci_raw[uci_raw["InvoiceNo"].str.startswith("C")]
    assert len(cancelled) == 9
    assert _messages(orders.attrs["kpitools_warnings"])[0].startswith(
        "column 'order_id': 9 cancelled lines with no earlier purchase of the same item by the "
        "same customer in the file, left out (173.63 in all)"
    )
    assert revenue(orders) == pytest.approx(
        uci_raw.loc[~uci_raw["InvoiceNo"].str.startswith("C"), "value"].sum()
    )


def test_returns_net_needs_the_item_column():
    with pytest.raises(KpitoolsError, match=r"returns: net needs line_items: \{unit_price"):
        load_orders(
            UCI, columns=RETAIL_COLUMNS, line_items={"unit_price": "UnitPrice"}, returns="net"
        )


def test_whitespace_file_without_the_option_gets_a_clear_hint():
    with pytest.raises(DataValidationError) as info:
        load_orders(REFERENCE / "CDNOW_sample.txt")
    text = str(info.value)
    assert "its values look separated by spaces, not by commas or tabs" in text
    assert "Hint: set delimiter: whitespace in client.yml (tables: orders:), with names:" in text
    assert "order_ids: generate when it has no order number." in text


def test_missing_order_id_suggests_generated_ids():
    with pytest.raises(DataValidationError, match=r"when each row is one order, set order_ids"):
        load_orders(b"customer_id,order_date,amount\nc1,2024-01-01,10\n")
    orders = load_orders(b"customer_id,order_date,amount\nc1,2024-01-01,10\n", order_ids="generate")
    assert orders["order_id"].tolist() == ["row-2"]  # the data row is row 2 under the header


def test_shopify_emails_identify_customers_without_case(tmp_path):
    text = SHOPIFY_ZA.read_text("utf-8").replace("customer06@example.com", "Customer06@Example.com")
    path = tmp_path / "orders_export.csv"
    path.write_text(text, encoding="utf-8")
    orders = load_orders(path, preset="shopify", currency="ZAR").set_index("order_id")
    assert orders.loc["#13524", "customer_id"] == "customer06@example.com"


def test_stage_map_for_every_pipeline_and_its_checks():
    text = (
        b'"Record ID","Deal Stage","Create Date","Close Date"\n'
        b'"1","Signed","2024-01-02","2024-02-01"\n'
    )
    deals = load_deals(text, preset="hubspot", stages={"Signed": "won"})
    assert deals["outcome"].tolist() == ["won"]
    with pytest.raises(KpitoolsError, match=r"stages: outcomes must be one of \['won', 'lost', "):
        load_deals(text, preset="hubspot", stages={"Signed": "maybe"})


def test_ga4_table_chosen_by_title_and_zh_tw_header():
    traffic = load_web_traffic(GA4_TRAFFIC, preset="ga4", report_table="over time")
    assert len(traffic) == 6
    text = (
        "# 流量開發\n# 開始日期：20240301\n# 結束日期：20240302\n"
        "第 N 天,工作階段,活躍使用者\n0000,10,8\n0001,12,9\n"
    )
    traffic = load_web_traffic(text.encode("utf-8"), preset="ga4")
    assert traffic["date"].tolist() == [TS("2024-03-01"), TS("2024-03-02")]
    assert traffic["sessions"].tolist() == [10.0, 12.0]
