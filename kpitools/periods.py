"""Reporting periods: parse ``"2024Q3"``, ``"2024-07"``, ``"2024"`` and build period ranges.

A :class:`Period` is a half-open interval ``[start, end)`` of calendar days with a frequency
(``"M"``, ``"Q"`` or ``"Y"``). Fiscal years are supported through ``fiscal_year_start_month``: a
fiscal year is named after the calendar year in which it **begins** (the Taiwanese and Japanese
年度 convention), so with ``fiscal_year_start_month=4`` the period ``"2024"`` runs from 2024-04-01
to 2025-03-31 and ``"2024Q1"`` is April–June 2024. Months (``"2024-07"``) are always calendar
months.

Examples
--------
>>> p = parse_period("2024Q3")
>>> (p.start.date().isoformat(), p.end.date().isoformat(), p.freq, p.label)
('2024-07-01', '2024-10-01', 'Q', '2024Q3')
>>> parse_period("2024Q1", fiscal_year_start_month=4).start.date().isoformat()
'2024-04-01'
>>> [str(p) for p in period_range("2024-11", "2025-02", freq="M")]
['2024-11', '2024-12', '2025-01', '2025-02']
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd

from kpitools._errors import PeriodError

__all__ = [
    "DAYS_PER_MONTH",
    "DAYS_PER_WEEK",
    "DAYS_PER_YEAR",
    "FREQS",
    "MONTHS_PER_QUARTER",
    "MONTHS_PER_YEAR",
    "QUARTERS_PER_YEAR",
    "SECONDS_PER_HOUR",
    "Period",
    "as_period",
    "parse_period",
    "period_containing",
    "period_range",
]

MONTHS_PER_YEAR = 12
MONTHS_PER_QUARTER = 3
QUARTERS_PER_YEAR = 4
DAYS_PER_WEEK = 7
#: Mean Gregorian year, used to turn day counts into years (contract terms).
DAYS_PER_YEAR = 365.2425
#: Mean Gregorian month (DAYS_PER_YEAR / 12), used to turn day counts into months.
DAYS_PER_MONTH = DAYS_PER_YEAR / MONTHS_PER_YEAR
SECONDS_PER_HOUR = 3600

FREQS = ("M", "Q", "Y")
_FREQ_MONTHS = {"M": 1, "Q": MONTHS_PER_QUARTER, "Y": MONTHS_PER_YEAR}
_FREQ_ALIASES = {
    "M": "M", "MS": "M", "ME": "M", "MONTH": "M", "MONTHLY": "M",
    "Q": "Q", "QS": "Q", "QE": "Q", "QUARTER": "Q", "QUARTERLY": "Q",
    "Y": "Y", "A": "Y", "YS": "Y", "YE": "Y", "YEAR": "Y", "YEARLY": "Y", "ANNUAL": "Y",
}

_RE_YEAR = re.compile(r"^(?:FY)?(\d{4})$", re.IGNORECASE)
_RE_QUARTER = re.compile(r"^(?:FY)?(\d{4})\s*[-_ ]?\s*Q([1-4])$", re.IGNORECASE)
_RE_QUARTER_FIRST = re.compile(r"^Q([1-4])\s*[-_ ]?\s*(\d{4})$", re.IGNORECASE)
_RE_MONTH = re.compile(r"^(\d{4})[-/](\d{1,2})$")
_HINT = "Hint: write a period as '2024Q3' (quarter), '2024-07' (month) or '2024' (year)."


@dataclass(frozen=True, order=True)
class Period:
    """A half-open reporting interval ``[start, end)``.

    Attributes
    ----------
    start, end : pandas.Timestamp
        First day of the period and first day after it (midnight, timezone-naive).
    freq : str
        ``"M"``, ``"Q"`` or ``"Y"``.
    fiscal_year_start_month : int
        1 for calendar years; the month a fiscal year begins otherwise.
    """

    start: pd.Timestamp
    end: pd.Timestamp
    freq: str
    fiscal_year_start_month: int = 1

    @property
    def label(self) -> str:
        """Canonical text of the period (``'2024Q3'``, ``'2024-07'``, ``'2024'``)."""
        if self.freq == "M":
            return f"{self.start.year:04d}-{self.start.month:02d}"
        fy = _fiscal_year_of(self.start, self.fiscal_year_start_month)
        if self.freq == "Y":
            return f"{fy:04d}"
        months_in = (self.start.month - self.fiscal_year_start_month) % MONTHS_PER_YEAR
        return f"{fy:04d}Q{months_in // MONTHS_PER_QUARTER + 1}"

    @property
    def months(self) -> int:
        """Number of calendar months in the period."""
        return _FREQ_MONTHS[self.freq]

    @property
    def days(self) -> int:
        """Number of calendar days in the period."""
        return int((self.end - self.start).days)

    @property
    def last_day(self) -> pd.Timestamp:
        """The last calendar day inside the period (``end`` minus one day)."""
        return self.end - pd.Timedelta(days=1)

    def shift(self, n: int) -> Period:
        """The period ``n`` steps later (negative: earlier) at the same frequency."""
        start = self.start + pd.DateOffset(months=n * self.months)
        return Period(start, start + pd.DateOffset(months=self.months), self.freq,
                      self.fiscal_year_start_month)

    def previous(self) -> Period:
        """The period just before this one."""
        return self.shift(-1)

    def same_period_last_year(self) -> Period:
        """The period one year earlier (for year-over-year comparisons)."""
        return self.shift(-(MONTHS_PER_YEAR // self.months))

    def contains(self, when: date | datetime | pd.Timestamp | str) -> bool:
        """Whether a date falls inside the period."""
        ts = pd.Timestamp(when)
        if ts.tzinfo is not None:
            ts = ts.tz_localize(None)
        return bool(self.start <= ts < self.end)

    def __str__(self) -> str:
        return self.label


def _fiscal_year_of(ts: pd.Timestamp, fy_start: int) -> int:
    return ts.year if ts.month >= fy_start else ts.year - 1


def _check_fy(fiscal_year_start_month: int) -> None:
    if not isinstance(fiscal_year_start_month, int) or not 1 <= fiscal_year_start_month <= 12:
        raise PeriodError(
            "fiscal_year_start_month must be a month number 1–12, got "
            f"{fiscal_year_start_month!r}.\n"
            "Hint: use 1 for calendar years, 4 for an April–March fiscal year."
        )


def normalize_freq(freq: str) -> str:
    """Map ``'Q'``, ``'QS'``, ``'quarter'``… to one of ``'M'``, ``'Q'``, ``'Y'``."""
    key = str(freq).strip().upper()
    if key not in _FREQ_ALIASES:
        raise PeriodError(
            f"unknown frequency {freq!r}; expected one of 'M' (month), 'Q' (quarter), 'Y' (year)."
        )
    return _FREQ_ALIASES[key]


def parse_period(text: str | Period, *, fiscal_year_start_month: int = 1) -> Period:
    """Parse ``'2024Q3'``, ``'2024-Q3'``, ``'Q3 2024'``, ``'2024-07'``, ``'2024/7'`` or ``'2024'``.

    Raises
    ------
    PeriodError
        When the text is none of these forms.
    """
    if isinstance(text, Period):
        return text
    _check_fy(fiscal_year_start_month)
    if not isinstance(text, str):
        if isinstance(text, int) and 1000 <= text <= 9999:
            text = str(text)
        else:
            raise PeriodError(f"a period must be text such as '2024Q3', got {text!r}.\n{_HINT}")
    s = text.strip()
    fy = fiscal_year_start_month
    if m := _RE_QUARTER.match(s):
        year, q = int(m.group(1)), int(m.group(2))
        start = pd.Timestamp(year, fy, 1) + pd.DateOffset(months=(q - 1) * MONTHS_PER_QUARTER)
        return Period(start, start + pd.DateOffset(months=MONTHS_PER_QUARTER), "Q", fy)
    if m := _RE_QUARTER_FIRST.match(s):
        return parse_period(f"{m.group(2)}Q{m.group(1)}", fiscal_year_start_month=fy)
    if m := _RE_MONTH.match(s):
        year, month = int(m.group(1)), int(m.group(2))
        if not 1 <= month <= 12:
            raise PeriodError(f"month {month} in period {text!r} is not 1–12.\n{_HINT}")
        start = pd.Timestamp(year, month, 1)
        return Period(start, start + pd.DateOffset(months=1), "M", fy)
    if m := _RE_YEAR.match(s):
        start = pd.Timestamp(int(m.group(1)), fy, 1)
        return Period(start, start + pd.DateOffset(months=MONTHS_PER_YEAR), "Y", fy)
    raise PeriodError(f"cannot read period {text!r}.\n{_HINT}")


def as_period(value: str | Period | None, *, fiscal_year_start_month: int = 1) -> Period | None:
    """Like :func:`parse_period` but passes ``None`` through (meaning: all data)."""
    if value is None:
        return None
    return parse_period(value, fiscal_year_start_month=fiscal_year_start_month)


def period_containing(
    when: date | datetime | pd.Timestamp | str, freq: str = "Q", *, fiscal_year_start_month: int = 1
) -> Period:
    """The month, quarter or year that contains a date."""
    _check_fy(fiscal_year_start_month)
    f = normalize_freq(freq)
    ts = pd.Timestamp(when)
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    ts = ts.normalize()
    if f == "M":
        start = pd.Timestamp(ts.year, ts.month, 1)
    else:
        fy = _fiscal_year_of(ts, fiscal_year_start_month)
        fy_start = pd.Timestamp(fy, fiscal_year_start_month, 1)
        if f == "Y":
            start = fy_start
        else:
            months_in = (ts.year - fy_start.year) * MONTHS_PER_YEAR + ts.month - fy_start.month
            start = fy_start + pd.DateOffset(months=(months_in // MONTHS_PER_QUARTER)
                                             * MONTHS_PER_QUARTER)
    return Period(start, start + pd.DateOffset(months=_FREQ_MONTHS[f]), f,
                  fiscal_year_start_month)


def period_range(
    start: str | Period | date | pd.Timestamp,
    end: str | Period | date | pd.Timestamp,
    freq: str = "Q",
    *,
    fiscal_year_start_month: int = 1,
) -> list[Period]:
    """All periods of ``freq`` from the one containing ``start`` to the one containing ``end``.

    Both ends are inclusive. ``start``/``end`` may be period strings or dates.
    """
    f = normalize_freq(freq)

    def first_day(x: object) -> pd.Timestamp:
        if isinstance(x, Period):
            return x.start
        if isinstance(x, str):
            try:
                return parse_period(x, fiscal_year_start_month=fiscal_year_start_month).start
            except PeriodError:
                pass
        try:
            return pd.Timestamp(x)
        except (ValueError, TypeError) as exc:
            raise PeriodError(f"cannot read {x!r} as a period or date.\n{_HINT}") from exc

    def last_day(x: object) -> pd.Timestamp:
        if isinstance(x, Period):
            return x.last_day
        if isinstance(x, str):
            try:
                return parse_period(x, fiscal_year_start_month=fiscal_year_start_month).last_day
            except PeriodError:
                pass
        return first_day(x)

    first = period_containing(first_day(start), f, fiscal_year_start_month=fiscal_year_start_month)
    last = period_containing(last_day(end), f, fiscal_year_start_month=fiscal_year_start_month)
    if last < first:
        raise PeriodError(f"period range ends ({end}) before it starts ({start}).")
    out = [first]
    while out[-1].end <= last.start:
        out.append(out[-1].shift(1))
    return out
