"""Validation: every error kind and warning, with its message pinned."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest

from kpitools._errors import DataValidationError
from kpitools.io import (
    check_client,
    load_client,
    load_contracts,
    load_deals,
    load_feedback,
    load_orders,
)
from kpitools.io.loaders import _load
from kpitools.schemas import table_spec
from kpitools.schemas._validate import (
    OUTLIER_MEDIAN_MULTIPLE,
    build_schema,
    check,
    coerce,
    complete,
)

DATA = Path(__file__).parent / "data"
BROKEN = DATA / "broken_client"

BROKEN_REPORT = """\
orders.csv: 5 problems
  - missing column 'customer_id' (did you mean '客戶'?). Columns present: ['訂單編號', '客戶', '訂單日期', '金額']
  - column 'order_date': 2 values are not dates (row 3: '2024/13/01', row 5: 'N/A')
  - column 'amount': 1 value is not a number (row 5: 'one thousand')
  - column 'order_id': 2 rows repeat an id that must be unique (row 3: 'A2', row 4: 'A2')
  - column 'amount': 1 negative value (row 4: -1200.0)
contracts.csv: 1 problem
  - column 'end_date': 1 row has end_date before start_date (row 3: 'start_date 2024-06-01, end_date 2024-05-31')
customers.csv: 1 problem
  - the file is empty
feedback.csv: 1 problem
  - is a binary file, not a table (it contains NUL bytes)
Hint: map '客戶' to customer_id in client.yml (tables: orders: columns: {客戶: customer_id}) or with columns={'客戶': 'customer_id'}.
Hint: write dates as 2024-01-05, 2024/1/5 or ROC 113/01/05 (Excel date cells work too).
Hint: write numbers as 1234, 1,234, NT$1,234, (1,234) for a negative or 12% for a rate; remove other words and units.
Hint: each order_id may appear only once; remove duplicate rows or give each its own id.
Hint: amount must be 0 or more; record refunds and credit notes separately (e.g. as a discount) rather than as negative amounts.
Hint: end_date must be on or after start_date; check whether the two columns are swapped.
Hint: export the table again; the file has no header and no rows.
Hint: export the data as CSV, Excel (.xlsx) or Parquet."""  # noqa: E501 - pinned message text


def test_broken_client_reports_every_problem_of_every_file_at_once():
    with pytest.raises(DataValidationError) as info:
        load_client(BROKEN)
    assert str(info.value) == BROKEN_REPORT
    assert info.value.n_errors == 8


def test_check_client_never_raises_and_lists_every_file():
    found = check_client(BROKEN)
    assert list(found) == [
        "client.yml",
        "orders.csv",
        "contracts.csv",
        "customers.csv",
        "feedback.csv",
    ]
    assert found["client.yml"] == []
    assert [p.column for p in found["orders.csv"]] == [
        None,
        "order_date",
        "amount",
        "order_id",
        "amount",
    ]
    # row numbers are spreadsheet rows: header = row 1
    assert found["orders.csv"][1].rows == (3, 5)


def test_bad_client_yml_is_reported_with_hints():
    found = check_client(DATA / "bad_config")
    lines = [p.render() for p in found["client.yml"]]
    assert lines == [
        "unknown business_model 'saass' (did you mean 'saas'?). "
        "Known: ['saas', 'ecommerce', 'services', 'content']",
        "unknown strategy 'grow_revenu' (did you mean 'grow_revenue'?). Known: "
        "['acquire_customers', 'retain_customers', 'grow_revenue', 'grow_account_value', "
        "'improve_margin', 'sales_efficiency', 'customer_satisfaction', 'grow_audience', "
        "'monetize_content']",
        "goal 1 (g1): missing ['target']",
        "goal 1 (g1): period '2024Q5' is not a period",
        "unknown table 'order' (did you mean 'orders'?). Known: ['customers', 'orders', "
        "'contracts', 'deals', 'marketing_spend', 'goals', 'web_traffic', 'social', 'feedback', "
        "'churn_events', 'quotas']",
        "tables: contracts: file 'contract.csv' not found (did you mean 'contracts.csv'?)",
        "tables: deals: unknown preset 'hubspott' (did you mean 'hubspot'?). "
        "Presets: ['ga4', 'hubspot', 'salesforce', 'shopify']",
    ]
    assert found["client.yml"][0].hint == (
        "set business_model: to one of ['saas', 'ecommerce', 'services', 'content']."
    )


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("name: [unclosed\n", r"is not valid YAML \(line 2\)"),
        ("- a\n- b\n", r"must be a mapping of settings"),
        ("name: X\nbusiness_model: saas\n", r"no tables: section"),
        ("business_model: saas\ntables: {}\n", r"missing 'name'"),
        ("name: X\ntables: {}\n", r"missing 'business_model'"),
        (
            "name: X\nbusiness_model: saas\nfiscal_year_start_month: 13\ntables: {}\n",
            r"fiscal_year_start_month must be a month number 1-12, got 13",
        ),
        ("name: X\nbusiness_model: saas\nlanguage: fr\ntables: {}\n", r"unknown language 'fr'"),
        (
            "name: X\nbusiness_model: saas\ntables: {customers: {file: c.csv, sheeet: 1}}\n",
            r"tables: customers: unknown options \['sheeet'\]",
        ),
        (
            "name: X\nbusiness_model: saas\ntables: {customers: {sheet: 1}}\n",
            r"tables: customers: has no file",
        ),
        (
            "name: X\nbusiness_model: saas\ntables: {deals: {file: c.csv, preset: shopify}}\n",
            r"tables: deals: preset 'shopify' loads the 'orders' table, not 'deals'",
        ),
        (
            "name: X\nbusiness_model: saas\ngoals: [{kpi: acv, target: high, period: 2024Q4}]\n"
            "tables: {}\n",
            r"goal 1: target must be a number, got 'high'",
        ),
    ],
)
def test_client_yml_problems(tmp_path, yaml_text, message):
    (tmp_path / "client.yml").write_text(yaml_text, encoding="utf-8")
    (tmp_path / "c.csv").write_text("customer_id\nC1\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match=message):
        load_client(tmp_path)


def test_missing_client_folder_and_file(tmp_path):
    assert check_client(tmp_path / "nope")["client.yml"][0].render() == (
        f"client folder not found: {str(tmp_path / 'nope')!r}"
    )
    assert check_client(tmp_path)["client.yml"][0].render().startswith("client.yml not found")


# --- one test per rule ------------------------------------------------------------------------

ORDERS_HEAD = "order_id,customer_id,order_date,amount\n"


def orders_problems(body: str, today: dt.date | None = None):
    frame, problems = _load("orders", (ORDERS_HEAD + body).encode(), today=today)
    return frame, problems


def test_missing_required_column_without_suggestion_lists_accepted_headers():
    with pytest.raises(DataValidationError) as info:
        load_orders(b"order_id,customer_id,amount\nA1,C1,100\n")
    assert str(info.value) == (
        "orders (data): 1 problem\n"
        "  - missing column 'order_date'. Columns present: ['order_id', 'customer_id', 'amount']\n"
        "Hint: add the column order_date (accepted headers include 訂單日期, 交易日期, 下單日期, "
        "消費日期) or map an existing header to it in client.yml (tables: orders: columns: "
        "{<header>: order_date})."
    )


def test_empty_cells_in_required_column():
    _, problems = orders_problems("A1,,2024-01-05,100\nA2,C2,2024-01-05,100\n")
    assert [p.render() for p in problems] == [
        "column 'customer_id': 1 empty cell in a required column (row 2)"
    ]


def test_unparseable_cell_is_not_also_reported_as_empty():
    _, problems = orders_problems("A1,C1,someday,100\n")
    assert [p.render() for p in problems] == [
        "column 'order_date': 1 value is not a date (row 2: 'someday')"
    ]


def test_values_shown_are_capped_but_all_rows_counted():
    body = "".join(f"A{i},C1,2024-01-05,-{i}\n" for i in range(1, 8))
    _, problems = orders_problems(body)
    (problem,) = problems
    assert problem.rows == (2, 3, 4, 5, 6, 7, 8)
    assert problem.render() == (
        "column 'amount': 7 negative values (row 2: -1.0, row 3: -2.0, row 4: -3.0, "
        "row 5: -4.0, row 6: -5.0, … 2 more)"
    )


def test_bounds_other_than_zero():
    with pytest.raises(DataValidationError) as info:
        load_feedback(b"date,csat\n2024-01-05,0\n2024-01-06,6\n2024-01-07,5\n")
    assert str(info.value) == (
        "feedback (data): 2 problems\n"
        "  - column 'csat': 1 value below the minimum 1 (row 2: 0.0)\n"
        "  - column 'csat': 1 value above the maximum 5 (row 3: 6.0)\n"
        "Hint: csat must be between 1 and 5."
    )


def test_category_not_allowed():
    with pytest.raises(
        DataValidationError,
        match=r"column 'outcome': 1 value is not one of \['won', 'lost', 'open'\] "
        r"\(row 3: 'maybe'\)",
    ):
        load_deals(
            b"deal_id,created_date,stage,outcome,close_date\n"
            b"D1,2024-01-05,demo,open,\nD2,2024-01-05,demo,maybe,\n"
        )


def test_closed_deal_needs_close_date():
    with pytest.raises(DataValidationError) as info:
        load_deals(
            b"deal_id,created_date,stage,outcome,close_date\n"
            b"D1,2024-01-05,won,won,\nD2,2024-01-05,demo,open,\nD3,2024-01-05,demo,lost,2024-02-01\n"
        )
    assert str(info.value) == (
        "deals (data): 1 problem\n"
        "  - column 'close_date': 1 row has no close_date although outcome says it is closed "
        "(row 2: 'won')\n"
        "Hint: give every closed row (by outcome) its close_date."
    )


def test_end_before_start_in_deals_and_contracts():
    with pytest.raises(DataValidationError, match=r"1 row has close_date before created_date"):
        load_deals(
            b"deal_id,created_date,stage,outcome,close_date\nD1,2024-02-05,won,won,2024-02-01\n"
        )
    with pytest.raises(DataValidationError, match=r"\(row 2: 'start_date 2024-06-01, end_date "):
        load_contracts(
            b"contract_id,customer_id,start_date,end_date,total_value\n"
            b"K1,C1,2024-06-01,2024-05-31,100\n"
        )


def test_rows_with_more_cells_than_header():
    _, problems = orders_problems("A1,C1,2024-01-05,100,extra\nA2,C1,2024-01-05,100,,\n")
    assert [p.render() for p in problems] == [
        "1 rows have more cells than the header has columns (4) (row 2: 5)"
    ]


# --- warnings ---------------------------------------------------------------------------------


def test_future_dates_warn_but_load():
    frame, problems = orders_problems(
        "A1,C1,2024-01-05,100\nA2,C1,2024-03-01,100\n", today=dt.date(2024, 2, 1)
    )
    (warning,) = problems
    assert warning.severity == "warning"
    assert warning.render() == (
        "column 'order_date': 1 date is in the future (after 2024-02-01) (row 3: '2024-03-01')"
    )
    assert len(frame) == 2


def test_extreme_amount_warns_and_rides_on_the_frame():
    # amounts 100 x5 and 5000: median of positive values = 100; 5000 > 20 x 100 = 2000
    body = "".join(f"A{i},C1,2024-01-05,100\n" for i in range(5)) + "A9,C1,2024-01-05,5000\n"
    orders = load_orders((ORDERS_HEAD + body).encode())
    (warning,) = orders.attrs["kpitools_warnings"]
    assert warning.render() == (
        f"column 'amount': 1 value is more than {OUTLIER_MEDIAN_MULTIPLE}x the median (100) "
        "(row 7: 5000.0)"
    )


def test_no_outlier_warning_with_few_values():
    body = "A1,C1,2024-01-05,100\nA2,C1,2024-01-05,100000\n"
    orders = load_orders((ORDERS_HEAD + body).encode())
    assert orders.attrs["kpitools_warnings"] == []


def test_warnings_only_do_not_make_the_error_render():
    err = DataValidationError({"x.csv": []})
    assert str(err) == ""


# --- the pandera layer ------------------------------------------------------------------------


def test_schema_is_pandera_with_contract_rules():
    spec = table_spec("contracts")
    schema = build_schema(spec, set(spec.columns))
    assert isinstance(schema, pa.DataFrameSchema)
    assert schema.columns["contract_id"].unique
    assert not schema.columns["contract_id"].nullable
    assert schema.columns["recurring_value"].nullable
    checks = [c.error for c in schema.checks]
    assert checks == ["date_order:start_date:end_date"]


def test_coerce_complete_check_pipeline_on_inline_frame():
    spec = table_spec("marketing_spend")
    raw = pd.DataFrame(
        {"period": ["2024-01", "2024/2"], "channel": ["FB", "Google"], "spend": ["1,000", "x"]},
        dtype=object,
    )
    rows = np.array([2, 3])
    typed, parse_problems = coerce(raw, spec, rows)
    full = complete(typed, spec)
    # impressions, clicks and conversions are optional (ad CTR and conversion rate), added empty
    assert list(full.columns) == ["period", "channel", "spend", "category", "impressions",
                                  "clicks", "conversions"]
    assert full[["impressions", "clicks", "conversions"]].isna().all().all()
    assert full["category"].tolist() == ["paid", "paid"]  # default
    assert [p.render() for p in parse_problems] == [
        "column 'spend': 1 value is not a number (row 3: 'x')"
    ]
    assert check(full, spec, rows, set(typed.columns), reported=parse_problems) == []
