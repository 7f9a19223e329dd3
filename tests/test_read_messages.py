"""Messages that name the real cause: an unmatched quote, an Excel formula never calculated."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from kpitools._errors import DataValidationError
from kpitools.io import load_table

HEADER = "order_id,customer_id,order_date,amount\n"


def _problems(source: Path) -> list[str]:
    with pytest.raises(DataValidationError) as raised:
        load_table("orders", source)
    return [p.render() for ps in raised.value.problems.values() for p in ps]


@pytest.mark.parametrize(
    "body",
    [
        'A1,C1,2024-01-05,"100\nA2,C2,2024-01-06,200\nA3,C3,2024-01-07,300\n',
        'A1,"C1,2024-01-05,100\nA2,C2,2024-01-06,200\nA3,C3,2024-01-07,300\n',
    ],
)
def test_unmatched_quote_names_the_line_not_a_bad_amount(tmp_path: Path, body: str):
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    # The quote opens on line 2 (the header is line 1) and runs to line 4, the last line.
    assert _problems(path) == [
        'line 2: a quote character (") opens a value that never closes, so lines 2–4 would be '
        "read as a single value"
    ]


def test_quoted_line_breaks_inside_a_file_are_still_fine(tmp_path: Path):
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_id,customer_id,order_date,amount,note\n"
        'A1,C1,2024-01-05,100,"two\nlines"\nA2,C2,2024-01-06,200,"last\nrow too"\n',
        encoding="utf-8",
    )
    orders = load_table("orders", path)
    assert orders["amount"].tolist() == [100.0, 200.0]


def test_formula_without_a_saved_result_says_formula(tmp_path: Path):
    book = openpyxl.Workbook()  # openpyxl writes formulas but never their results
    sheet = book.active
    sheet.append(["order_id", "customer_id", "order_date", "qty", "price", "amount"])
    sheet.append(["A1", "C1", "2024-01-05", 1, 100, 100])
    sheet.append(["A2", "C2", "2024-01-06", 2, 50, "=D3*E3"])
    sheet.append(["A3", "C3", "2024-01-07", 3, 50, "=D4*E4"])
    path = tmp_path / "orders.xlsx"
    book.save(path)
    with pytest.raises(DataValidationError) as raised:
        load_table("orders", path)
    problems = raised.value.problems["orders.xlsx"]
    assert problems[0].render() == (
        "column 'amount': 2 formula cells without a saved result (row 3: '=D3*E3', row 4: '=D4*E4')"
    )
    assert problems[0].hint.startswith("open the file in Excel and save it")
    assert "empty cell" not in str(raised.value)
