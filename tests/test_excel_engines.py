"""Excel files read by calamine give the cells openpyxl gives (kpitools.io._read).

calamine is the fast path; openpyxl stays the reference and the fallback. Every workbook here
is read both ways and must give the same table, the same row numbers and the same problems.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from kpitools.io import _read
from kpitools.io._read import read_raw

pytest.importorskip("python_calamine")

REPO = Path(__file__).resolve().parents[1]
KNOWN = {"deal_id", "amount", "created_date", "stage"}


def _save(book: openpyxl.Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _varied() -> bytes:
    """One sheet with a note above the header (row 3, from column C) and cells of every kind."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Deals 商機"
    ws["C1"] = "CRM export 匯出"
    ws.append([])
    header = ["deal_id", "amount", "created_date", "stage", "note"]
    for j, name in enumerate(header, start=3):
        ws.cell(row=3, column=j, value=name)
    rows = [
        ["D001", 1200, dt.datetime(2024, 1, 5), "won", " padded "],
        ["D002", 12.5, dt.date(2024, 1, 6), "lost", "007"],
        ["D003", 3.0, dt.datetime(2024, 1, 7, 13, 45, 10), "open", True],
        ["D004", -0.0, dt.time(9, 30), "won", 12345678901234],
        ["D005", 0.125, dt.timedelta(hours=30), "lost", 1e-7],
        [None, None, None, None, None],  # a blank row inside the table
        ["D006", 2**60, 45000, "won", "價格,含稅"],
        ["D007", -1234.75, dt.datetime(1999, 12, 31, 23, 59, 59), "open", None],
    ]
    for i, values in enumerate(rows, start=4):
        for j, value in enumerate(values, start=3):
            if value is not None:
                ws.cell(row=i, column=j, value=value)
    ws["D8"].number_format = "0.0%"
    ws["E10"].number_format = "yyyy-mm-dd"
    ws.merge_cells("G4:G5")
    return _save(book)


def _two_sheets() -> bytes:
    """A notes sheet first; the table (header row 2) on the second sheet."""
    book = openpyxl.Workbook()
    book.active.title = "說明"
    book.active["A1"] = "read me"
    ws = book.create_sheet("data")
    ws["A1"] = "title"
    ws.append(["deal_id", "amount", "created_date", "stage"])
    for k in range(40):
        ws.append([f"D{k:03d}", 100 * k + 0.5 * (k % 2), dt.date(2023, 1 + k % 12, 1 + k % 28),
                   ("won", "lost")[k % 2]])
    return _save(book)


WORKBOOKS = {
    "varied": _varied,
    "two sheets": _two_sheets,
    "sample cloudledger deals": lambda: (REPO / "data/sample/cloudledger/deals.xlsx").read_bytes(),
    "header on row 3": lambda: (REPO / "tests/data/good/deals_header_row3.xlsx").read_bytes(),
}


def _file(data: bytes, folder: Path) -> Path:
    path = folder / f"book{len(list(folder.glob('*.xlsx')))}.xlsx"
    path.write_bytes(data)
    return path


def _both(data: bytes, folder: Path, monkeypatch,
          **options) -> tuple[_read.RawTable, _read.RawTable]:
    path = _file(data, folder)
    fast = read_raw(path, known_headers=KNOWN, **options)
    with monkeypatch.context() as m:
        m.setattr(_read, "_calamine_records", lambda *a: None)
        slow = read_raw(path, known_headers=KNOWN, **options)
    return fast, slow


@pytest.mark.parametrize("name", list(WORKBOOKS))
def test_calamine_and_openpyxl_give_the_same_table(name, monkeypatch, tmp_path):
    data = WORKBOOKS[name]()
    assert _read._calamine_records(data, None, KNOWN) is not None  # the fast path is taken
    fast, slow = _both(data, tmp_path, monkeypatch)
    pd.testing.assert_frame_equal(fast.frame, slow.frame)
    for a, b in zip(fast.frame.to_numpy().ravel(), slow.frame.to_numpy().ravel(), strict=True):
        assert type(a) is type(b), (a, b)  # 3 stays an int, dates stay datetimes
    np.testing.assert_array_equal(fast.rows, slow.rows)
    assert fast.header_row == slow.header_row
    assert [str(p) for p in fast.problems] == [str(p) for p in slow.problems]


@pytest.mark.parametrize("sheet", [0, 1, "data"])
def test_a_chosen_sheet_is_the_same_sheet(sheet, monkeypatch, tmp_path):
    fast, slow = _both(_two_sheets(), tmp_path, monkeypatch, sheet=sheet)
    pd.testing.assert_frame_equal(fast.frame, slow.frame)
    np.testing.assert_array_equal(fast.rows, slow.rows)


def test_error_cells_and_1904_dates_are_left_to_openpyxl(tmp_path, monkeypatch):
    # calamine reads #N/A as an empty cell, which would hide it; openpyxl keeps its text for
    # the parsers to report. Workbooks on the 1904 date system are left to openpyxl too.
    def calamine_must_not_read(*args):
        raise AssertionError("calamine was asked to read this workbook")

    monkeypatch.setattr(_read, "_calamine_records", calamine_must_not_read)
    book = openpyxl.Workbook()
    book.active.append(["deal_id", "amount"])
    book.active.append(["D1", "#N/A"])
    book.active["B2"].data_type = "e"
    with_error = _save(book)
    assert _read._xml_facts(with_error).error_cells
    assert read_raw(_file(with_error, tmp_path)).frame["amount"].tolist() == ["#N/A"]

    book = openpyxl.Workbook()
    book.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    book.active.append(["deal_id", "created_date"])
    book.active.append(["D1", dt.datetime(2024, 1, 5)])
    mac = _save(book)
    assert _read._xml_facts(mac).date1904
    dates = read_raw(_file(mac, tmp_path)).frame["created_date"]
    assert dates.tolist() == [dt.datetime(2024, 1, 5)]


def test_a_missing_sheet_is_worded_by_the_openpyxl_reader(tmp_path):
    with pytest.raises(_read.ReadError, match="has no sheet 'dta' \\(did you mean 'data'\\?\\)"):
        read_raw(_file(_two_sheets(), tmp_path), sheet="dta")
