"""Loaders: file formats, encodings, header rows, column mapping, dtypes, clients."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from kpitools._errors import DataValidationError, KpitoolsError
from kpitools.io import (
    Client,
    load_churn_events,
    load_client,
    load_contracts,
    load_customers,
    load_deals,
    load_feedback,
    load_goals,
    load_marketing_spend,
    load_orders,
    load_quotas,
    load_social,
    load_table,
    load_web_traffic,
)
from kpitools.schemas import table_names

DATA = Path(__file__).parent / "data"
GOOD = DATA / "good"
SAMPLES = Path(__file__).resolve().parents[1] / "data" / "sample"
TS = pd.Timestamp


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


# --- formats and encodings ---------------------------------------------------------------------


def test_big5_pos_export_with_roc_dates_and_nt_dollars():
    orders = load_orders(GOOD / "pos_big5.csv")
    assert orders["order_id"].tolist() == ["P001", "P002", "P003"]
    assert orders["product"].tolist() == ["東方美人茶", "凍頂烏龍茶", "茶具禮盒"]  # no mojibake
    # 113/01/05 → 2024-01-05; 民國113年2月1日 → 2024-02-01
    assert orders["order_date"].tolist() == [TS("2024-01-05"), TS("2024-01-06"), TS("2024-02-01")]
    assert orders["amount"].tolist() == [2400.0, 1200.0, 4800.0]
    # discount: NT$0, NT$100, empty → default 0
    assert orders["discount"].tolist() == [0.0, 100.0, 0.0]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "big5", "cp950", "utf-16"])
def test_encodings_detected_automatically(tmp_path, encoding):
    text = "客戶編號,客戶名稱,註冊日期\nC1,雲帳科技,2024-01-05\nC2,貓熊先生,2024-01-06\n"
    path = write(tmp_path, "customers.csv", text, encoding)
    customers = load_customers(path)
    assert customers["name"].tolist() == ["雲帳科技", "貓熊先生"]


def test_cp950_only_character_is_read():
    # '碁' and '裏' are among the ETEN characters CP950 adds to plain Big5.
    text = "客戶編號,客戶名稱\nC1,碁裏資訊\n"
    with pytest.raises(UnicodeEncodeError):
        text.encode("big5")
    customers = load_customers(text.encode("cp950"))
    assert customers["name"].tolist() == ["碁裏資訊"]


def test_explicit_encoding_wins(tmp_path):
    # The bytes are valid UTF-8, but the caller says latin-1: latin-1 is used.
    path = write(tmp_path, "c.csv", "customer_id,name\nC1,café\n")
    customers = load_customers(path, encoding="latin-1")
    assert customers["name"].tolist() == ["cafÃ©"]


def test_explicit_wrong_encoding_is_a_clear_error(tmp_path):
    path = write(tmp_path, "c.csv", "客戶編號\nC1\n", "big5")
    with pytest.raises(
        DataValidationError, match=r"c\.csv: 1 problem\n  - cannot be read as utf-8"
    ):
        load_customers(path, encoding="utf-8")


def test_utf8_bom_header_is_matched():
    orders = load_orders(GOOD / "orders_utf8_bom.csv")
    assert orders["order_id"].tolist() == ["A1", "A2"]
    assert orders["amount"].tolist() == [1234.0, 1234.5]


def test_tsv_and_full_width_digits():
    orders = load_orders(GOOD / "orders.tsv")
    assert orders["amount"].tolist() == [1234.0]  # １２３４
    assert orders["discount"].tolist() == [120.0]  # １２０


@pytest.mark.parametrize("delimiter", [";", "|", "\t"])
def test_delimiter_is_sniffed(tmp_path, delimiter):
    text = delimiter.join(["customer_id", "name"]) + "\nC1" + delimiter + "Amy\n"
    customers = load_customers(write(tmp_path, "c.txt", text))
    assert customers["name"].tolist() == ["Amy"]


def test_excel_sheet_and_header_on_row_3_found_automatically():
    deals = load_deals(GOOD / "deals_header_row3.xlsx", sheet="商機")
    assert deals["deal_id"].tolist() == ["D1", "D2", "D3"]
    # 45301 = 1899-12-30 + 45301 days = 2024-01-10; 113/01/10 = 2024-01-10
    assert deals["created_date"].tolist() == [TS("2024-01-05"), TS("2024-01-10"), TS("2024-01-10")]
    assert deals["outcome"].tolist() == ["won", "open", "lost"]  # 成交, 進行中, Closed Lost
    assert deals["amount"].tolist() == [120000.0, 80000.0, 50000.0]
    assert list(deals.attrs["kpitools_rows"]) == [4, 5, 6]


def test_excel_sheet_with_the_table_is_chosen_when_sheet_not_given():
    # The first sheet (說明) holds a note; the second (商機) holds the deals.
    deals = load_deals(GOOD / "deals_header_row3.xlsx")
    assert deals["deal_id"].tolist() == ["D1", "D2", "D3"]


def test_excel_explicit_header_row_and_sheet_by_position():
    deals = load_deals(GOOD / "deals_header_row3.xlsx", sheet=1, header_row=3)
    assert len(deals) == 3


def test_excel_unknown_sheet_lists_sheets():
    with pytest.raises(
        DataValidationError,
        match=r"has no sheet '商' \(did you mean '商機'\?\)\. Sheets present: \['說明', '商機'\]",
    ):
        load_deals(GOOD / "deals_header_row3.xlsx", sheet="商")


def test_excel_wrong_header_row_is_reported():
    with pytest.raises(DataValidationError, match=r"row 2 \(header_row\) is empty"):
        load_deals(GOOD / "deals_header_row3.xlsx", sheet="商機", header_row=2)


def test_parquet_keeps_types():
    contracts = load_contracts(GOOD / "contracts.parquet")
    assert contracts["end_date"].tolist() == [TS("2024-12-31"), TS("2025-02-28")]
    assert contracts["total_value"].tolist() == [120000.0, 60000.0]


def test_dataframe_source_is_not_modified():
    raw = pd.DataFrame({"客戶編號": ["C1"], "註冊日期": ["113/01/05"]})
    before = raw.copy()
    customers = load_customers(raw)
    pd.testing.assert_frame_equal(raw, before)
    assert customers["signup_date"].tolist() == [TS("2024-01-05")]


def test_csv_bytes_source():
    customers = load_customers(b"customer_id\nC1\nC2\n")
    assert customers["customer_id"].tolist() == ["C1", "C2"]


@pytest.mark.parametrize(
    "path",
    [
        GOOD / "pos_big5.csv",
        GOOD / "deals_header_row3.xlsx",
        GOOD / "contracts.parquet",
        DATA / "presets" / "shopify_orders.csv",
    ],
)
def test_source_files_are_never_modified(path):
    before = (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
    loaders = {".csv": load_orders, ".xlsx": load_deals, ".parquet": load_contracts}
    kwargs = {"preset": "shopify"} if "shopify" in path.name else {}
    loaders[path.suffix](path, **kwargs)
    assert (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns) == before


def test_blank_rows_and_title_rows_keep_spreadsheet_row_numbers(tmp_path):
    text = "月報\n\ncustomer_id,signup_date\nC1,2024-01-05\n\nC2,bad\n"
    path = write(tmp_path, "c.csv", text)
    # header on row 3; C1 on row 4; blank row 5; C2 on row 6
    with pytest.raises(DataValidationError, match=r"1 value is not a date \(row 6: 'bad'\)"):
        load_customers(path)


def test_quoted_newline_counts_as_one_spreadsheet_row(tmp_path):
    text = 'customer_id,name,signup_date\nC1,"two\nlines",2024-01-05\nC2,x,bad\n'
    with pytest.raises(DataValidationError, match=r"\(row 3: 'bad'\)"):
        load_customers(write(tmp_path, "c.csv", text))


# --- canonical output --------------------------------------------------------------------------


def test_dtypes_follow_the_contract():
    orders = load_orders(GOOD / "pos_big5.csv")
    assert list(orders.columns) == [
        "order_id",
        "customer_id",
        "order_date",
        "amount",
        "discount",
        "cost",
        "channel",
        "currency",
        "product",
        "quantity",
    ]
    assert str(orders["order_date"].dtype) == "datetime64[ns]"
    assert orders["amount"].dtype == "float64"
    assert orders["order_id"].dtype == "str"
    assert orders["cost"].isna().all()  # optional, absent, no default


def test_categories_are_lower_case(tmp_path):
    text = "contract_id,customer_id,start_date,end_date,total_value,billing_period,status\n"
    text += (
        "K1,C1,2024-01-01,2024-12-31,1200,Monthly,ACTIVE\nK2,C2,2024-01-01,2024-12-31,1,年繳,續約\n"
    )
    contracts = load_contracts(write(tmp_path, "k.csv", text))
    assert contracts["billing_period"].tolist() == ["monthly", "annual"]
    assert contracts["status"].tolist() == ["active", "renewed"]


def test_unknown_columns_are_dropped_and_listed(tmp_path):
    text = "customer_id,備註\nC1,VIP\n"
    customers = load_customers(write(tmp_path, "c.csv", text))
    assert "備註" not in customers.columns
    assert customers.attrs["kpitools_unmapped"] == ["備註"]


def test_columns_mapping_renames_and_can_ignore(tmp_path):
    text = "客戶,日期,訂單編號,金額,交易日期\nC1,2024-01-05,A1,100,bad\n"
    path = write(tmp_path, "o.csv", text)
    # 日期 and 交易日期 both look like order_date; ignore 交易日期 explicitly
    orders = load_orders(path, columns={"客戶": "customer_id", "交易日期": None})
    assert orders[["customer_id", "order_date"]].iloc[0].tolist() == ["C1", TS("2024-01-05")]


def test_two_headers_for_one_column_is_a_warning(tmp_path):
    text = "customer_id,order_id,訂單日期,日期,amount\nC1,A1,2024-01-05,2023-01-01,100\n"
    orders = load_orders(write(tmp_path, "o.csv", text))
    # 訂單日期 is listed before 日期 among order_date's spellings, so it wins.
    assert orders["order_date"].tolist() == [TS("2024-01-05")]
    warning = orders.attrs["kpitools_warnings"][0]
    assert warning.render() == "columns ['訂單日期', '日期'] all match order_date; used '訂單日期'"


def test_columns_mapping_errors_are_reported(tmp_path):
    path = write(tmp_path, "c.csv", "客戶,名稱\nC1,Amy\n")
    with pytest.raises(DataValidationError) as info:
        load_customers(path, columns={"客戶名": "customer_id", "名稱": "nmae"})
    text = str(info.value)
    assert (
        "the column mapping names '客戶名', which is not in the file (did you mean '客戶'?)" in text
    )
    assert (
        "sends '名稱' to 'nmae', which is not a column of customers (did you mean 'name'?)" in text
    )


def test_columns_must_be_a_mapping():
    with pytest.raises(KpitoolsError, match=r"columns must map export headers"):
        load_customers(b"customer_id\nC1\n", columns=["customer_id"])


def test_unknown_table_name():
    with pytest.raises(KpitoolsError, match=r"unknown table 'order' \(did you mean 'orders'\?\)"):
        load_table("order", b"x\n1\n")


def test_bad_header_row_argument():
    with pytest.raises(DataValidationError, match=r"header_row must be a row number from 1, got 0"):
        load_customers(b"customer_id\nC1\n", header_row=0)


def test_unsupported_source_type():
    with pytest.raises(DataValidationError, match=r"cannot read a int"):
        load_customers(42)


def test_file_not_found(tmp_path):
    with pytest.raises(DataValidationError, match=r"missing\.csv: 1 problem\n  - file not found"):
        load_customers(tmp_path / "missing.csv")


def test_old_xls_is_refused_with_hint(tmp_path):
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64)
    with pytest.raises(DataValidationError, match=r"(?s)Excel 97-2003.*save it as \.xlsx"):
        load_customers(path)


def test_corrupt_xlsx_is_refused(tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DataValidationError, match=r"cannot be opened as an Excel workbook"):
        load_customers(path)


def test_corrupt_parquet_is_refused(tmp_path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1 garbage")
    with pytest.raises(DataValidationError, match=r"cannot be read as Parquet"):
        load_customers(path)


def test_every_table_has_a_loader():
    loaders = {
        "customers": load_customers,
        "orders": load_orders,
        "contracts": load_contracts,
        "deals": load_deals,
        "marketing_spend": load_marketing_spend,
        "goals": load_goals,
        "web_traffic": load_web_traffic,
        "social": load_social,
        "feedback": load_feedback,
        "churn_events": load_churn_events,
        "quotas": load_quotas,
    }
    assert sorted(loaders) == sorted(table_names())
    for name, loader in loaders.items():
        assert loader.__name__ == f"load_{name}"
        assert f"Columns of ``{name}``" in loader.__doc__


def test_small_tables_load(tmp_path):
    spend = load_marketing_spend(b'month,channel,spend\n2024-01,Google Ads,"NT$12,000"\n')
    assert spend.iloc[0].tolist()[:4] == [TS("2024-01-01"), "Google Ads", 12000.0, "paid"]
    # the optional ad columns (impressions, clicks, conversions) are present and empty
    assert spend[["impressions", "clicks", "conversions"]].isna().all().all()
    quotas = load_quotas("業務,期間,業績目標\n王小明,2024Q1,1200000\n".encode())
    assert quotas.iloc[0].tolist() == ["王小明", "2024Q1", 1200000.0]
    churn = load_churn_events(b"customer_id,churn_date,reason\nC1,113/03/31,price\n")
    assert churn["churn_date"].tolist() == [TS("2024-03-31")]
    social = load_social("日期,平台,粉絲數\n2024-01-05,Facebook,1200\n".encode())
    assert social["mentions"].tolist() == [0.0]  # default
    goals = load_goals(b"kpi,target,period,direction\nacv,185000,2024Q4,Higher\n")
    assert goals["direction"].tolist() == ["higher"]
    feedback = load_feedback(b"date,csat,response_hours\n2024-01-05,4,1.5\n")
    assert feedback["csat"].tolist() == [4.0]


# --- clients -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shop() -> Client:
    return load_client(SAMPLES / "shop")


@pytest.mark.skipif(not (SAMPLES / "shop" / "client.yml").exists(), reason="sample data absent")
def test_sample_shop_client(shop):
    assert shop.slug == "shop"
    assert shop.has("orders") and "orders" in shop and not shop.has("deals")
    assert shop.business_model == "ecommerce"
    assert shop.currency == "TWD"
    assert isinstance(shop.goals, list) and shop.goals
    # orders come from two files (online + Big5 POS export) stacked into one table
    orders = shop["orders"]
    assert orders["order_id"].is_unique
    assert str(orders["order_date"].dtype) == "datetime64[ns]"
    assert {"line", "store"} <= set(orders["channel"].dropna())


@pytest.mark.skipif(not (SAMPLES / "shop" / "client.yml").exists(), reason="sample data absent")
def test_missing_table_on_client_has_hint(shop):
    with pytest.raises(
        KpitoolsError, match=r"(?s)client 'shop' has no 'deals' table.*Hint: add it"
    ):
        shop["deals"]


def test_client_attributes(tmp_path):
    write(
        tmp_path,
        "client.yml",
        "name: {zh-TW: 範例公司, en: Example Ltd.}\nbusiness_model: saas\n"
        "strategy: retain_customers\nfiscal_year_start_month: 4\nlanguage: en\n"
        "funnel_stages: [lead, won]\n"
        "tables:\n  customers: customers.csv\n",
    )
    write(tmp_path, "customers.csv", "customer_id\nC1\n")
    client = load_client(tmp_path)
    assert client.name_for("zh-TW") == "範例公司"
    assert client.name_for("en") == "Example Ltd."
    assert client.strategy == ["retain_customers"]
    assert client.fiscal_year_start_month == 4
    assert client.language == "en"
    assert client.funnel_stages == ["lead", "won"]
    assert client.goals == []
    assert client.warnings == {}
    assert repr(client).startswith(f"Client('{tmp_path.name}', saas, tables: customers=1")


def test_client_warnings_do_not_raise(tmp_path):
    write(tmp_path, "client.yml", "name: X\nbusiness_model: saas\ntables:\n  customers: c.csv\n")
    write(tmp_path, "c.csv", "customer_id,signup_date\nC1,2200-01-01\n")
    client = load_client(tmp_path)
    (warning,) = client.warnings["c.csv"]
    assert warning.severity == "warning"
    assert warning.render().startswith("column 'signup_date': 1 date is in the future")


def test_same_id_in_two_files_of_one_table(tmp_path):
    write(
        tmp_path,
        "client.yml",
        "name: X\nbusiness_model: ecommerce\ntables:\n"
        "  customers: {files: [{file: a.csv}, {file: b.csv}]}\n",
    )
    write(tmp_path, "a.csv", "customer_id\nC1\nC2\n")
    write(tmp_path, "b.csv", "customer_id\nC2\n")
    with pytest.raises(
        DataValidationError,
        match=r"customers \(all files\): 1 problem\n  - column 'customer_id': 1 ids appear in "
        r"more than one file: \['C2'\]",
    ):
        load_client(tmp_path)


def test_row_numbers_are_not_copied_with_every_operation(tmp_path):
    # pandas deep-copies attrs into each result: the row numbers must come along as the same
    # immutable object (not a new list per operation), and still say which file row each is.
    import copy

    path = tmp_path / "orders.csv"
    path.write_text("order_id,customer_id,order_date,amount\n"
                    + "".join(f"o{i},c{i % 7},2024-01-{1 + i % 28:02d},{100 + i}\n"
                              for i in range(5000)), encoding="utf-8")
    orders = load_orders(path)
    rows = orders.attrs["kpitools_rows"]
    assert list(rows) == list(range(2, 5002))  # header on line 1
    derived = orders[orders["amount"] > 150].assign(double=lambda f: f["amount"] * 2)
    assert derived.attrs["kpitools_rows"] is rows
    assert copy.deepcopy(rows) is rows
    with pytest.raises(TypeError):
        rows[0] = 99  # immutable: sharing it is safe
