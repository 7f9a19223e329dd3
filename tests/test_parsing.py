"""Parsing primitives: one test per notation a Taiwanese client export may contain."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from kpitools.io._dates import parse_dates
from kpitools.io._numbers import parse_numbers, read_numbers
from kpitools.io._parse import normalize_header, parse_categories, parse_strings

JAN5 = pd.Timestamp("2024-01-05")


def one_date(value):
    dates, bad = parse_dates(pd.Series([value], dtype=object))
    assert not bad.iloc[0], f"{value!r} was flagged as not a date"
    return dates.iloc[0]


def one_number(value):
    numbers, bad = parse_numbers(pd.Series([value], dtype=object))
    assert not bad.iloc[0], f"{value!r} was flagged as not a number"
    return numbers.iloc[0]


# --- dates -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("2024-01-05", "ISO"),
        ("2024/1/5", "slashes, no zero padding"),
        ("2024.01.05", "dots"),
        ("2024-1-5 23:59", "naive datetime: the calendar date is kept"),
        ("2024年1月5日", "Chinese y/m/d"),
        ("113/01/05", "ROC year 113 = 113 + 1911 = 2024"),
        ("113-1-5", "ROC with dashes"),
        ("1130105", "ROC compact yyymmdd"),
        ("民國113年1月5日", "ROC written out"),
        ("民國 113 年 1 月 5 日", "ROC written out with spaces"),
        ("20240105", "compact yyyymmdd as in GA4 downloads"),
        ("45296", "Excel serial: 1899-12-30 + 45296 days = 2024-01-05"),
        ("45296.75", "Excel serial with a time of day"),
        ("２０２４／１／５", "full-width digits and slash"),
        ("Jan 5, 2024", "English month name"),
        ("5 January 2024", "English month name, day first"),
    ],
)
def test_date_notations(text, why):
    assert one_date(text) == JAN5, why


def test_roc_two_digit_year_needs_a_decision():
    # Alone, 99/12/31 is ROC 99 (1911 + 99 = 2010-12-31) or two-digit 1999-12-31: refused.
    dates, bad = parse_dates(pd.Series(["99/12/31"]))
    assert bad.tolist() == [True]
    assert pd.isna(dates.iloc[0])
    # date_format="roc" settles it; so does a three-digit ROC year in the same column
    # (100/01/05 can only be ROC 100 = 2011-01-05).
    dates, bad = parse_dates(pd.Series(["99/12/31"]), date_format="roc")
    assert dates.tolist() == [pd.Timestamp("2010-12-31")]
    dates, bad = parse_dates(pd.Series(["99/12/31", "100/01/05"]))
    assert dates.tolist() == [pd.Timestamp("2010-12-31"), pd.Timestamp("2011-01-05")]
    assert not bad.any()


def test_month_only_is_first_day_of_month():
    assert one_date("2024-03") == pd.Timestamp("2024-03-01")
    assert one_date("2024年3月") == pd.Timestamp("2024-03-01")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a time in UTC names no local zone: 20:00 UTC = 04:00 next day in Taipei (UTC+8)
        ("2024-01-05T20:00:00Z", "2024-01-06"),
        ("2024-01-05 15:59:59 UTC", "2024-01-05"),  # 23:59:59 in Taipei
        ("2024-01-05 16:00:00 UTC", "2024-01-06"),  # midnight in Taipei
        # Shopify writes the store's offset after a space and without a colon
        ("2024-01-05 10:23:45 +0800", "2024-01-05"),
        # a local time of its own zone: 17:00 on Jan 4 in a UTC-8 store is Jan 4 in its books
        # (09:00 on Jan 5 in Taipei), and 23:50 in a UTC+2 store stays on its day
        ("2024-01-04T17:00:00-08:00", "2024-01-04"),
        ("2024-03-31 23:50:26 +0200", "2024-03-31"),  # the store's Q1, not Q2
        ("2024-12-31 23:59:00 -05:00", "2024-12-31"),
    ],
)
def test_time_zone_aware_text_becomes_the_stores_date_or_taipeis(text, expected):
    assert one_date(text) == pd.Timestamp(expected)


def test_time_zone_aware_dtype_becomes_the_zones_date_or_taipeis():
    stamps = pd.Series(pd.to_datetime(["2024-01-05T20:00:00Z", "2024-01-05T01:00:00Z"]))
    dates, bad = parse_dates(stamps)
    assert dates.tolist() == [pd.Timestamp("2024-01-06"), JAN5]  # UTC: the Taipei date
    assert not bad.any()
    # a column in a named zone keeps its own dates (as a store's local times)
    chicago = pd.Series(pd.to_datetime(["2024-01-04 23:30", "2024-01-05 08:00"])
                        ).dt.tz_localize("America/Chicago")
    dates, bad = parse_dates(chicago)
    assert dates.tolist() == [pd.Timestamp("2024-01-04"), JAN5]
    assert not bad.any()


def test_python_datetimes_from_excel_cells():
    values = pd.Series([dt.datetime(2024, 1, 5, 13, 30), dt.date(2024, 1, 5)], dtype=object)
    dates, bad = parse_dates(values)
    assert dates.tolist() == [JAN5, JAN5]
    assert not bad.any()


def test_numeric_cells_are_serials_or_compact_dates():
    values = pd.Series([45296, 20240105, 1130105.0], dtype=object)
    dates, _ = parse_dates(values)
    assert dates.tolist() == [JAN5, JAN5, JAN5]


def test_dates_are_naive_ns_midnight():
    dates, _ = parse_dates(pd.Series(["2024-01-05 13:45"]))
    assert str(dates.dtype) == "datetime64[ns]"
    assert dates.iloc[0] == JAN5


@pytest.mark.parametrize(
    "text", ["2024/13/01", "2024-02-30", "N/A", "tomorrow", "113/13/01", "12345678"]
)
def test_unparseable_dates_are_flagged(text):
    dates, bad = parse_dates(pd.Series([text]))
    assert bad.tolist() == [True]
    assert pd.isna(dates.iloc[0])


def test_empty_date_cells_are_missing_not_bad():
    dates, bad = parse_dates(pd.Series(["", "  ", None, np.nan], dtype=object))
    assert dates.isna().all()
    assert not bad.any()


def test_parse_dates_does_not_modify_input():
    values = pd.Series(["113/01/05", "2024-01-05"])
    before = values.copy()
    parse_dates(values)
    pd.testing.assert_series_equal(values, before)


# --- numbers and money -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234", 1234.0),
        ("NT$1,234", 1234.0),
        ("NT$ 1,234", 1234.0),
        ("1,234元", 1234.0),
        ("$1,234.50", 1234.5),
        ("TWD 1,000", 1000.0),
        ("(1,234)", -1234.0),  # accounting notation for a negative number
        ("-1,234", -1234.0),
        ("\u22121,234", -1234.0),  # Unicode minus sign
        ("１２３４", 1234.0),  # full-width digits
        ("ＮＴ＄１，２３４", 1234.0),  # full-width currency mark and comma
        ("12%", 0.12),
        ("12.5 %", 0.125),
        ("3.5萬", 35000.0),  # 1 萬 = 10,000
        ("1e3", 1000.0),
    ],
)
def test_number_notations(text, expected):
    assert one_number(text) == pytest.approx(expected)


def test_numeric_dtype_passes_through_as_float64():
    numbers, bad = parse_numbers(pd.Series([1, 2, 3]))
    assert str(numbers.dtype) == "float64"
    assert numbers.tolist() == [1.0, 2.0, 3.0]
    assert not bad.any()


@pytest.mark.parametrize("text", ["abc", "N/A", "inf", "nan", "-", "1.2.3", "12,3,4元x", "0x10"])
def test_unparseable_numbers_are_flagged(text):
    numbers, bad = parse_numbers(pd.Series([text]))
    assert bad.tolist() == [True]
    assert np.isnan(numbers.iloc[0])


def test_empty_number_cells_are_missing_not_bad():
    numbers, bad = parse_numbers(pd.Series(["", None, " "], dtype=object))
    assert numbers.isna().all()
    assert not bad.any()


def test_booleans_are_not_numbers():
    _, bad = parse_numbers(pd.Series([True, False]))
    assert bad.tolist() == [True, True]


@pytest.mark.parametrize("dtype", [object, "string"])
def test_plain_integers_mixed_with_other_notations(dtype):
    # Plain whole numbers take a short cut past the general parser; mixed with marked,
    # full-width, padded and empty cells the column must read as each cell does alone:
    # 720, -5, +3 = 3, 007 = 7, "1,234" = 1234, NT$1,200 = 1200, full-width １２ = 12,
    # " 8 " = 8 (padded), then a missing and an empty cell.
    values = pd.Series(["720", "-5", "+3", "007", "1,234", "NT$1,200", "１２", " 8 ", None, ""],
                       dtype=dtype)
    parsed = read_numbers(values)
    assert parsed.numbers.tolist()[:8] == [720.0, -5.0, 3.0, 7.0, 1234.0, 1200.0, 12.0, 8.0]
    assert parsed.numbers.iloc[8:].isna().all()
    assert not parsed.bad.any()
    assert parsed.decimal == "." and parsed.marks == {"TWD": 1}


@pytest.mark.parametrize("dtype", [object, "string"])
def test_column_of_plain_integers_takes_the_files_convention(dtype):
    # Whole numbers say nothing about the decimal mark: the given or the file's convention is
    # the column's; without either, the point (as for "1,234"-like columns).
    values = pd.Series(["1", "20", "300"], dtype=dtype)
    assert read_numbers(values).decimal == "."
    assert read_numbers(values, fallback=",").decimal == ","
    assert read_numbers(values, decimal=",").decimal == ","
    assert read_numbers(values).settled
    assert read_numbers(values).numbers.tolist() == [1.0, 20.0, 300.0]
    # a plain integer beside a value that only the comma convention reads: 100,5 is 100.5
    mixed = read_numbers(pd.Series(["7", "100,5", "1.234,5"], dtype=dtype))
    assert mixed.decimal == "," and mixed.numbers.tolist() == [7.0, 100.5, 1234.5]


def test_huge_plain_integer_is_refused_as_infinite():
    parsed = read_numbers(pd.Series(["1" * 400, "5"]))
    (finding,) = parsed.findings
    assert "infinite" in finding.message and finding.cells.tolist() == [True, False]
    assert np.isnan(parsed.numbers.iloc[0]) and parsed.numbers.iloc[1] == 5.0


# --- headers, strings, categories --------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Order Date", "order date"),
        ("order_date", "order date"),
        ("  ORDER   DATE ", "order date"),
        ("Order-Date", "order date"),
        ("ＣＵＳＴＯＭＥＲ　ＩＤ", "customer id"),  # full-width letters and ideographic space
        ("\ufeff客戶編號", "客戶編號"),  # a BOM glued to the first header
        ("首次回應時間（小時）", "首次回應時間(小時)"),  # full-width parentheses
    ],
)
def test_normalize_header(header, expected):
    assert normalize_header(header) == expected


def test_strings_are_stripped_and_whole_floats_lose_dot_zero():
    out = parse_strings(pd.Series([" A-1 ", 1001.0, 12.5, "", None], dtype=object))
    assert out.tolist()[:3] == ["A-1", "1001", "12.5"]
    assert out.iloc[3:].isna().all()
    assert out.dtype == "str"


def test_categories_are_lower_case_and_aliases_mapped():
    out = parse_categories(
        pd.Series(["Closed Won", " LOST ", "贏單", None]), {"closed won": "won", "贏單": "won"}
    )
    assert out.tolist()[:3] == ["won", "lost", "won"]
    assert pd.isna(out.iloc[3])
