"""Values as real exports write them: date orders, decimal commas, currency marks, empty tables.

Every file here is shaped like a real export (UCI Online Retail's US dates, a European
semicolon CSV, a Shopify-like amount column with dollar signs, a GA4 table) and either loads
to the numbers computed by hand in the comments, or is refused with a message that names the
file, column, rows and a hint (issue 12).
"""

from __future__ import annotations

import math
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from openpyxl.styles import Font

from kpitools._errors import DataValidationError, KpitoolsError
from kpitools.io import check_client, load_client, load_orders, load_table, load_web_traffic
from kpitools.io._dates import read_dates
from kpitools.io._numbers import read_numbers
from kpitools.io._read import EMPTY_RUN_ROWS, _calamine_records, _openpyxl_records

TS = pd.Timestamp


def write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def problems_of(exc: DataValidationError) -> list[str]:
    return [p.render() for ps in exc.problems.values() for p in ps]


# --- dates: the order is decided from the whole column ------------------------------------------

# One line per invoice, in the layout of the UCI Online Retail file (US month/day/2-digit year).
UCI = """\
InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/10 8:26,2.55,17850,United Kingdom
536366,22633,HAND WARMER UNION JACK,6,12/1/10 8:28,1.85,17850,United Kingdom
536532,84692,BOX OF 24 COCKTAIL PARASOLS,5,12/13/10 9:02,0.42,12433,Norway
539993,22386,JUMBO BAG PINK POLKADOT,10,1/4/11 10:00,1.95,13313,United Kingdom
"""
UCI_COLUMNS = {
    "InvoiceNo": "order_id",
    "CustomerID": "customer_id",
    "InvoiceDate": "order_date",
    "UnitPrice": "amount",
}


def test_uci_us_dates_are_month_first_not_roc(tmp_path):
    # 12/13/10 has no month 13, so neither Y/M/D (2012-13-10) nor D/M/Y (2010-13-12) reads it;
    # ROC 12 = 1923 lies before 1950. Only M/D/Y reads all four rows:
    # 2010-12-01, 2010-12-01, 2010-12-13, 2011-01-04 (the UCI file spans 2010-12-01..2011-12-09).
    orders = load_orders(write(tmp_path, "Online Retail.csv", UCI), columns=UCI_COLUMNS)
    assert orders["order_date"].tolist() == [
        TS("2010-12-01"),
        TS("2010-12-01"),
        TS("2010-12-13"),
        TS("2011-01-04"),
    ]
    assert orders["amount"].tolist() == [2.55, 1.85, 0.42, 1.95]


def test_uci_first_rows_alone_are_ambiguous_and_refused(tmp_path):
    # The first two rows only: 12/1/10 is 2012-01-10 (ymd), 2010-12-01 (mdy) or 2010-01-12 (dmy).
    head = "\n".join(UCI.splitlines()[:3]) + "\n"
    path = write(tmp_path, "Online Retail.csv", head)
    with pytest.raises(DataValidationError) as info:
        load_orders(path, columns=UCI_COLUMNS)
    message = str(info.value)
    assert message.startswith("Online Retail.csv: 1 problem\n")
    assert (
        "column 'order_date': the order of 2 dates is ambiguous: '12/1/10 8:26' reads as "
        "2012-01-10 (ymd) or 2010-12-01 (mdy) or 2010-01-12 (dmy) "
        "(row 2: '12/1/10 8:26', row 3: '12/1/10 8:28')" in message
    )
    assert "Hint: say how the dates are written: date_format: ymd" in message
    # The switch settles it.
    orders = load_orders(path, columns=UCI_COLUMNS, date_format="mdy")
    assert orders["order_date"].tolist() == [TS("2010-12-01"), TS("2010-12-01")]


def test_two_digit_year_first_is_refused_not_1935():
    # 24/11/01 was read as ROC 24 = 1935-11-01. ROC readings before 1950 are not accepted;
    # what is left is 2024-11-01 (ymd) or 2001-11-24 (dmy): refused.
    parsed = read_dates(pd.Series(["24/11/01", "24/11/15"]))
    assert parsed.order is None
    assert parsed.fitting == ("ymd", "dmy")
    assert parsed.dates.isna().all()
    (finding,) = parsed.findings
    assert finding.message == (
        "the order of 2 dates is ambiguous: '24/11/01' reads as 2024-11-01 (ymd) or "
        "2001-11-24 (dmy)"
    )
    assert finding.cells.tolist() == [True, True]
    dates = read_dates(pd.Series(["24/11/01", "24/11/15"]), "ymd").dates
    assert dates.tolist() == [TS("2024-11-01"), TS("2024-11-15")]


def test_roc_column_decided_by_its_three_digit_years():
    # 99/12/31 alone could be 1999 or ROC 99 = 2010; 100/01/05 can only be ROC 100 = 2011,
    # and 1130105 (compact) ROC 113 = 2024-01-05.
    parsed = read_dates(pd.Series(["99/12/31", "100/01/05", "1130105"]))
    assert parsed.order == "roc"
    assert parsed.dates.tolist() == [TS("2010-12-31"), TS("2011-01-05"), TS("2024-01-05")]
    assert not parsed.bad.any()


def test_day_first_european_dates_with_four_digit_year():
    # 13/01/2024 has no month 13, so the column is D/M/Y: 05/01/2024 = 5 January 2024.
    parsed = read_dates(pd.Series(["05/01/2024", "13/01/2024", "28.02.2024"]))
    assert parsed.order == "dmy"
    assert parsed.dates.tolist() == [TS("2024-01-05"), TS("2024-01-13"), TS("2024-02-28")]


def test_day_month_equal_is_not_ambiguous():
    # 05/05/2024 reads the same under M/D/Y and D/M/Y: nothing to decide.
    parsed = read_dates(pd.Series(["05/05/2024", "12/12/2024"]))
    assert parsed.findings == ()
    assert parsed.dates.tolist() == [TS("2024-05-05"), TS("2024-12-12")]


def test_explicit_roc_before_1950_is_kept_with_a_warning():
    # 民國38年 = 1911 + 38 = 1949: the file says ROC, so it is read, but not silently.
    parsed = read_dates(pd.Series(["民國38年1月1日", "民國113年1月5日"]))
    assert parsed.dates.tolist() == [TS("1949-01-01"), TS("2024-01-05")]
    (finding,) = parsed.findings
    assert finding.severity == "warning"
    assert finding.message == "1 ROC (民國) date falls before 1950 (ROC year below 39)"
    assert finding.cells.tolist() == [True, False]


def test_forced_roc_before_1950_warns_in_the_loader():
    raw = pd.DataFrame(
        {"客戶編號": ["C1"], "訂單編號": ["A1"], "訂單日期": ["30/01/05"], "金額": ["100"]}
    )
    orders = load_table("orders", raw, date_format="roc")
    assert orders["order_date"].tolist() == [TS("1941-01-05")]  # ROC 30 = 1941
    (warning,) = orders.attrs["kpitools_warnings"]
    assert warning.column == "order_date" and warning.rows == (2,)


def test_second_date_column_takes_the_files_order():
    # created_date settles M/D/Y (12/13/24); close_date alone (01/02/25) would be ambiguous
    # (January 2 or 1 February): it takes the order of the file's other date column.
    raw = pd.DataFrame(
        {
            "deal_id": ["D1", "D2"],
            "created_date": ["12/13/24", "12/20/24"],
            "close_date": ["01/02/25", None],
            "stage": ["won", "lead"],
            "outcome": ["won", "open"],
        }
    )
    deals = load_table("deals", raw)
    assert deals["created_date"].tolist() == [TS("2024-12-13"), TS("2024-12-20")]
    assert deals.loc[0, "close_date"] == TS("2025-01-02")


def test_unknown_date_format_is_an_argument_error():
    with pytest.raises(KpitoolsError, match=r"unknown date_format 'dd/mm'.*\nHint: roc = 民國"):
        load_orders(pd.DataFrame({"order_id": ["A"]}), date_format="dd/mm")


# --- numbers: the decimal convention --------------------------------------------------------------

EUROPEAN = """\
order_id;customer_id;order_date;amount;discount
A1;C1;2024-01-05;1.234,56;1.000
A2;C2;2024-01-06;2.000,00;12,5
A3;C3;2024-01-07;"100,50";0
"""


def test_european_decimal_commas_are_detected(tmp_path):
    # amount: 1.234,56 and 2.000,00 read only with a decimal comma → 1234.56, 2000.00, 100.50
    # (Σ = 3335.06). discount: 12,5 reads only with a decimal comma, so 1.000 is one thousand.
    orders = load_orders(write(tmp_path, "export_eu.csv", EUROPEAN))
    assert orders["amount"].tolist() == [1234.56, 2000.0, 100.5]
    assert orders["amount"].sum() == pytest.approx(3335.06)
    assert orders["discount"].tolist() == [1000.0, 12.5, 0.0]


@pytest.mark.parametrize(
    ("amount", "expected_quantity"),
    [
        # amount 1.234,56 settles the decimal comma: quantity 1.500 is one thousand five hundred.
        ("1.234,56", 1500.0),
        # amount 1,234.56 settles the decimal point: quantity 1.500 is one and a half.
        ("1,234.56", 1.5),
    ],
)
def test_undecided_column_takes_the_files_convention(amount, expected_quantity):
    raw = orders_with_amounts(amount).assign(quantity=["1.500"])
    orders = load_orders(raw)
    assert orders["amount"].tolist() == [1234.56]
    assert orders["quantity"].tolist() == [expected_quantity]


def test_european_file_with_decimal_point_forced_is_refused(tmp_path):
    with pytest.raises(DataValidationError) as info:
        load_orders(write(tmp_path, "export_eu.csv", EUROPEAN), decimal=".")
    found = problems_of(info.value)
    # 1.234,56 / 2.000,00 / 100,50 are no numbers with a decimal point (100,50 has a 2-digit
    # thousands group); 12,5 likewise.
    assert (
        "column 'amount': 3 values are not numbers "
        "(row 2: '1.234,56', row 3: '2.000,00', row 4: '100,50')" in found
    )
    assert "column 'discount': 1 value is not a number (row 3: '12,5')" in found


def test_a_column_mixing_conventions_is_refused():
    parsed = read_numbers(pd.Series(["1,234.56", "2,000.00", "1.234,56"]))
    (finding,) = parsed.findings
    assert finding.message == (
        "1 values use the other decimal convention: the column has 2 like 1,234.56 and 1 like "
        "1.234,56"
    )
    assert finding.cells.tolist() == [False, False, True]
    assert parsed.numbers.tolist()[:2] == [1234.56, 2000.0]
    assert math.isnan(parsed.numbers.iloc[2])


def test_point_with_three_decimals_alone_is_ambiguous():
    # 1.234 is 1.234 (decimal point) or 1234 (thousands point): refused unless decimal= says.
    parsed = read_numbers(pd.Series(["1.234", "5.600"]))
    (finding,) = parsed.findings
    assert finding.message.startswith("2 values read two ways: '1.234' is 1.234")
    assert parsed.numbers.isna().all()
    assert read_numbers(pd.Series(["1.234"]), decimal=",").numbers.tolist() == [1234.0]
    assert read_numbers(pd.Series(["1.234"]), decimal=".").numbers.tolist() == [1.234]


def test_thousands_comma_stays_the_default():
    # 1,234 alone is a thousands comma (Taiwanese and US habit): 1234, as before.
    parsed = read_numbers(pd.Series(["1,234", "NT$12,000"]), currency="TWD")
    assert parsed.findings == ()
    assert parsed.numbers.tolist() == [1234.0, 12000.0]


# --- currency marks ----------------------------------------------------------------------------


def orders_with_amounts(*amounts: str) -> pd.DataFrame:
    n = len(amounts)
    return pd.DataFrame(
        {
            "order_id": [f"#{1001 + i}" for i in range(n)],
            "customer_id": [f"c{i}" for i in range(n)],
            "order_date": ["2024-01-05"] * n,
            "amount": list(amounts),
        }
    )


def test_taiwan_dollar_marks_are_fine():
    orders = load_orders(orders_with_amounts("NT$1,234", "1,234元", "TWD 1234", "NTD 1,234"))
    assert orders["amount"].tolist() == [1234.0] * 4


def test_bare_dollar_in_a_twd_client_is_refused_until_declared():
    raw = orders_with_amounts("$1,234", "$56")
    with pytest.raises(DataValidationError) as info:
        load_orders(raw)
    message = str(info.value)
    assert (
        "column 'amount': 2 values carry a bare '$', which may be NT$ or US$ "
        "(row 2: '$1,234', row 3: '$56')" in message
    )
    assert "Hint: say which dollar it is: currency: TWD (or USD)" in message
    assert load_orders(raw, currency="TWD")["amount"].tolist() == [1234.0, 56.0]


@pytest.mark.parametrize("text", ["US$1,000", "USD 1000", "€1.000,00", "HK$1,000"])
def test_another_currency_is_refused(text):
    with pytest.raises(DataValidationError, match=r"1 value is marked [A-Z]{3}, but amounts must"):
        load_orders(orders_with_amounts(text))


def test_two_currencies_in_one_column_are_refused():
    with pytest.raises(DataValidationError) as info:
        load_orders(orders_with_amounts("NT$100", "US$5", "200元"))
    assert "column 'amount': the column mixes currencies: TWD (2), USD (1) (row 3: 'US$5')" in (
        str(info.value)
    )


def test_usd_client_reads_dollars(tmp_path):
    # A client reporting in USD: $ and US$ are its currency; an NT$ value is refused.
    folder = tmp_path / "usshop"
    folder.mkdir()
    write(folder, "client.yml", CLIENT_YML.format(currency="USD", options=""))
    write(folder, "orders.csv", "order_id,customer_id,order_date,amount\nA,c,2024-01-05,$12.50\n")
    assert load_client(folder)["orders"]["amount"].tolist() == [12.5]
    write(folder, "orders.csv", "order_id,customer_id,order_date,amount\nA,c,2024-01-05,NT$400\n")
    found = check_client(folder)["orders.csv"]
    assert [p.message for p in found] == ["1 value is marked TWD, but amounts must be in USD"]


CLIENT_YML = """\
name: {{zh-TW: 測試, en: Test}}
business_model: ecommerce
currency: {currency}
tables:
  orders: {{file: orders.csv{options}}}
"""


def test_client_yml_switches(tmp_path):
    folder = tmp_path / "euroshop"
    folder.mkdir()
    text = "order_id;customer_id;order_date;amount\nA1;C1;01/02/24;1.234\nA2;C2;03/02/24;12\n"
    write(folder, "orders.csv", text)
    # Auto: 01/02/24 is ambiguous and 1.234 reads two ways: both refused, at once.
    write(folder, "client.yml", CLIENT_YML.format(currency="TWD", options=""))
    found = [p.message for p in check_client(folder)["orders.csv"]]
    assert found[0].startswith("the order of 2 dates is ambiguous: '01/02/24' reads as")
    assert found[1].startswith("1 value reads two ways: '1.234' is 1.234")
    # The switches settle both: D/M/Y and a decimal comma → 1 February 2024, 1234.
    options = ", date_format: dmy, decimal: ','"
    write(folder, "client.yml", CLIENT_YML.format(currency="TWD", options=options))
    orders = load_client(folder)["orders"]
    assert orders["order_date"].tolist() == [TS("2024-02-01"), TS("2024-02-03")]
    assert orders["amount"].tolist() == [1234.0, 12.0]


def test_client_yml_rejects_unknown_switch_values(tmp_path):
    folder = tmp_path / "shop"
    folder.mkdir()
    write(folder, "orders.csv", "order_id,customer_id,order_date,amount\nA,c,2024-01-05,1\n")
    write(folder, "client.yml", CLIENT_YML.format(currency="TWD", options=", decimal: ';'"))
    (problem,) = check_client(folder)["client.yml"]
    assert problem.message.startswith("tables: orders: unknown decimal ';'")


def test_table_currency_other_than_the_clients_is_refused(tmp_path):
    folder = tmp_path / "shop"
    folder.mkdir()
    write(folder, "orders.csv", "order_id,customer_id,order_date,amount\nA,c,2024-01-05,$5\n")
    write(folder, "client.yml", CLIENT_YML.format(currency="TWD", options=", currency: USD"))
    (problem,) = check_client(folder)["orders.csv"]
    assert problem.message == (
        "the file's amounts are declared in USD, but the client reports in TWD"
    )


def test_shopify_currency_column_other_than_the_clients_is_refused():
    # A Shopify export has a Currency column with the store currency; a USD store's Subtotal
    # must not be counted as TWD.
    raw = pd.DataFrame(
        {
            "Name": ["#1001", "#1002"],
            "Email": ["a@example.com", "b@example.com"],
            "Created at": ["2024-01-05 10:00:00 +0800"] * 2,
            "Subtotal": ["12.50", "30.00"],
            "Currency": ["USD", "USD"],
        }
    )
    mapping = {"Name": "order_id", "Email": "customer_id", "Created at": "order_date"}
    mapping["Subtotal"] = "amount"
    with pytest.raises(DataValidationError) as info:
        load_orders(raw, columns=mapping)
    assert problems_of(info.value) == [
        "column 'currency': 2 rows are in USD (2), but amounts must be in TWD "
        "(row 2: 'USD', row 3: 'USD')"
    ]
    # The same file for a client that reports in USD: 12.50 + 30.00 = 42.50.
    orders = load_orders(raw, columns=mapping, currency="USD")
    assert orders["amount"].sum() == pytest.approx(42.5)


# --- impossible values -----------------------------------------------------------------------


def test_percent_infinite_and_discount_above_amount_all_reported_at_once():
    raw = pd.DataFrame(
        {
            "order_id": ["A1", "A2", "A3", "A4"],
            "customer_id": ["c1", "c2", "c3", "c4"],
            "order_date": ["2024-01-05"] * 4,
            "amount": ["50%", "1e309", "1,000", "500"],
            "discount": ["0", "0", "1,500", "12%"],
        }
    )
    with pytest.raises(DataValidationError) as info:
        load_orders(raw)
    found = problems_of(info.value)
    assert found == [
        "column 'amount': 1 value is a percentage in a money column (row 2: '50%')",
        "column 'amount': 1 value is too large to be a number (infinite) (row 3: '1e309')",
        "column 'discount': 1 value is a percentage in a money column (row 5: '12%')",
        "column 'discount': 1 row has discount larger than amount "
        "(row 4: 'discount 1500, amount 1000')",
    ]


GA4_ROWS = """\
Date,Sessions,Engaged sessions,Active users
20240105,100,60,80
20240106,100,103,80
20240107,100,295,80
"""


def test_ga4_engaged_sessions_above_sessions(tmp_path):
    # Row 3: 103 > 100 but within 5% (GA4 estimates counts): a warning. Row 4: 295 = 2.95 × 100,
    # an engagement rate of 295 %: an error naming the row.
    path = write(tmp_path, "ga4.csv", GA4_ROWS)
    with pytest.raises(DataValidationError) as info:
        load_web_traffic(path, preset="ga4")
    (error,) = [p for p in info.value.problems["ga4.csv"] if p.severity == "error"]
    assert error.render() == (
        "column 'engaged_sessions': 1 row has engaged_sessions larger than sessions by more "
        "than 5% (row 4: 'engaged_sessions 295, sessions 100')"
    )
    ok = load_web_traffic(write(tmp_path, "ga4_ok.csv", GA4_ROWS.replace(",295,", ",95,")))
    (warning,) = ok.attrs["kpitools_warnings"]
    assert warning.rows == (3,) and warning.severity == "warning"


# --- empty data ------------------------------------------------------------------------------


def test_headers_only_table_warns_and_kpis_say_no_data(tmp_path):
    folder = tmp_path / "shop"
    folder.mkdir()
    write(folder, "orders.csv", "order_id,customer_id,order_date,amount\n")
    write(folder, "client.yml", CLIENT_YML.format(currency="TWD", options=""))
    (warning,) = check_client(folder)["orders.csv"]
    assert warning.severity == "warning"
    assert warning.message == "the table has no rows (a header only)"
    from kpitools.catalog import compute_kpi

    client = load_client(folder)
    for kpi in ("revenue", "aov", "new_customers_orders", "gross_margin_rate"):
        assert math.isnan(compute_kpi(kpi, client, "2024Q3")), kpi


def styled_sheet(path: Path, empty_rows: int, data_after: bool) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["order_id", "customer_id", "order_date", "amount"])
    sheet.append(["A1", "c1", "2024-01-05", 100])
    bold = Font(bold=True)
    for row in range(3, 3 + empty_rows):
        sheet.cell(row=row, column=1).font = bold  # formatted, no value
    if data_after:
        sheet.append(["A2", "c2", "2024-01-06", 200])
    book.save(path)
    return path


def test_styled_empty_rows_below_a_table_are_not_read(tmp_path):
    path = styled_sheet(tmp_path / "orders.xlsx", EMPTY_RUN_ROWS + 500, data_after=False)
    records, _ = _openpyxl_records(path.read_bytes(), None, set())
    # openpyxl stops after the first EMPTY_RUN_ROWS empty rows: header + 1 row + the run.
    assert len(records) == 2 + EMPTY_RUN_ROWS
    # calamine (the fast path) does not see cells without a value at all
    fast, _ = _calamine_records(path.read_bytes(), None, set())
    assert fast == [(1, ["order_id", "customer_id", "order_date", "amount"]),
                    (2, ["A1", "c1", "2024-01-05", 100])]
    assert load_orders(path)["amount"].tolist() == [100.0]


def test_data_after_many_empty_rows_is_still_read(tmp_path):
    path = styled_sheet(tmp_path / "orders.xlsx", EMPTY_RUN_ROWS + 500, data_after=True)
    orders = load_orders(path)
    assert orders["amount"].tolist() == [100.0, 200.0]
    assert list(orders.attrs["kpitools_rows"]) == [2, 3 + EMPTY_RUN_ROWS + 500]
