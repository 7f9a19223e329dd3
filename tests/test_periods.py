"""Periods: parsing, fiscal years, ranges and shifting."""

from __future__ import annotations

import pandas as pd
import pytest

from kpitools import PeriodError
from kpitools.periods import (
    DAYS_PER_MONTH,
    DAYS_PER_YEAR,
    Period,
    normalize_freq,
    parse_period,
    period_containing,
    period_range,
)


@pytest.mark.parametrize(
    ("text", "start", "end", "freq", "label"),
    [
        ("2024Q3", "2024-07-01", "2024-10-01", "Q", "2024Q3"),
        ("2024-Q1", "2024-01-01", "2024-04-01", "Q", "2024Q1"),
        ("Q4 2023", "2023-10-01", "2024-01-01", "Q", "2023Q4"),
        ("2024q2", "2024-04-01", "2024-07-01", "Q", "2024Q2"),
        ("2024-07", "2024-07-01", "2024-08-01", "M", "2024-07"),
        ("2024/7", "2024-07-01", "2024-08-01", "M", "2024-07"),
        ("2024-12", "2024-12-01", "2025-01-01", "M", "2024-12"),
        ("2024", "2024-01-01", "2025-01-01", "Y", "2024"),
        ("FY2024", "2024-01-01", "2025-01-01", "Y", "2024"),
    ],
)
def test_parse_period_forms(text, start, end, freq, label):
    p = parse_period(text)
    assert p.start == pd.Timestamp(start)
    assert p.end == pd.Timestamp(end)
    assert p.freq == freq
    assert p.label == label


def test_fiscal_year_named_after_its_first_calendar_year():
    # April–March fiscal year: FY2024 = 2024-04-01 .. 2025-03-31, its Q4 = Jan–Mar 2025.
    fy = parse_period("2024", fiscal_year_start_month=4)
    assert (fy.start, fy.end) == (pd.Timestamp("2024-04-01"), pd.Timestamp("2025-04-01"))
    q4 = parse_period("2024Q4", fiscal_year_start_month=4)
    assert (q4.start, q4.end) == (pd.Timestamp("2025-01-01"), pd.Timestamp("2025-04-01"))
    assert q4.label == "2024Q4"
    # February 2025 lies in fiscal 2024, fourth quarter.
    assert period_containing("2025-02-10", "Q", fiscal_year_start_month=4).label == "2024Q4"


@pytest.mark.parametrize("bad", ["2024Q5", "2024-13", "24Q1", "last quarter", "", "2024-00"])
def test_bad_period_text_raises_with_hint(bad):
    with pytest.raises(PeriodError, match=r"(cannot read period|is not 1–12).*\n.*Hint"):
        parse_period(bad)


def test_bad_fiscal_start_month():
    with pytest.raises(PeriodError, match="fiscal_year_start_month must be a month number"):
        parse_period("2024", fiscal_year_start_month=13)


def test_unknown_frequency():
    with pytest.raises(PeriodError, match="unknown frequency 'W'"):
        normalize_freq("W")
    assert normalize_freq("QS") == "Q"
    assert normalize_freq("monthly") == "M"


def test_shift_previous_and_last_year():
    q = parse_period("2024Q1")
    assert q.previous().label == "2023Q4"
    assert q.shift(3).label == "2024Q4"
    assert q.same_period_last_year().label == "2023Q1"
    m = parse_period("2024-01")
    assert m.previous().label == "2023-12"
    assert m.same_period_last_year().label == "2023-01"


def test_period_properties():
    q = parse_period("2024Q1")
    # 2024 is a leap year: Jan 31 + Feb 29 + Mar 31 = 91 days.
    assert q.days == 91
    assert q.months == 3
    assert q.last_day == pd.Timestamp("2024-03-31")
    assert q.contains("2024-03-31 23:59")
    assert not q.contains("2024-04-01")
    assert q.contains(pd.Timestamp("2024-02-01", tz="Asia/Taipei"))
    assert str(q) == "2024Q1"


def test_period_range_inclusive_and_mixed_inputs():
    labels = [p.label for p in period_range("2023Q3", "2024Q2", "Q")]
    assert labels == ["2023Q3", "2023Q4", "2024Q1", "2024Q2"]
    # Dates are mapped to the period containing them.
    labels = [p.label for p in period_range(pd.Timestamp("2024-02-15"), "2024-05-02", "M")]
    assert labels == ["2024-02", "2024-03", "2024-04", "2024-05"]
    # A year given as end includes all of it at quarterly frequency.
    assert [p.label for p in period_range("2024", "2024", "Q")][-1] == "2024Q4"


def test_period_range_reversed_raises():
    with pytest.raises(PeriodError, match=r"ends .* before it starts"):
        period_range("2024Q3", "2024Q1")


def test_constants_are_consistent():
    assert pytest.approx(DAYS_PER_YEAR) == DAYS_PER_MONTH * 12
    assert isinstance(parse_period("2024"), Period)
