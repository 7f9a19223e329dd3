"""Parse date columns of client exports, deciding the order of dates such as 12/1/10.

Every parser works on a whole column at once (vectorised string operations, no row loops).
Empty cells are missing values, never parse failures.

Notation
    ISO ``2024-01-05``, ``2024/1/5``, ``2024.1.5``, ``2024年1月5日``, month-only ``2024-01``
    (first day of the month), ROC (Minguo) ``民國113年1月5日`` and ``113年1月5日``
    (year + 1911), compact ``20240105`` (GA4), Excel serial numbers (days since 1899-12-30),
    English month names (``Jan 5, 2024``), and datetimes with a time zone. A time written with
    its UTC offset (``2024-01-05 23:10:45 -0500``, as Shopify writes every timestamp) is a
    local time of that zone, the store's: its date is the one written, as in the store's own
    reports (converting it to Taipei time would move late-evening orders of a store elsewhere
    into the next day, or the next quarter). A time in UTC (``2024-01-05T20:00:00Z``,
    ``... UTC``) names no local zone and is converted to Asia/Taipei time first. The result is a
    calendar date: ``datetime64[ns]`` at midnight, time-zone naive.
Date order (``date_format=``)
    Dates whose year is not written with four digits first (``113/01/05``, ``12/1/10 8:26``,
    ``24/11/01``, ``05/01/2024``, ``1130105``) can be read in several orders: ROC year/month/day,
    two-digit-year Y/M/D, M/D/Y or D/M/Y (:data:`DATE_FORMATS`). The order is decided per column
    from *all* its values: the orders under which every value is a real date are kept, ROC
    readings before :data:`ROC_MIN_YEAR` are not accepted, and a column whose values still read
    as different dates under two orders is refused with a :class:`Finding`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kpitools._errors import KpitoolsError
from kpitools.io._parse import Finding, _as_text, _is_number

__all__ = [
    "DATE_FORMATS",
    "LOCAL_TIMEZONE",
    "ROC_MIN_YEAR",
    "ROC_YEAR_OFFSET",
    "ParsedDates",
    "check_date_format",
    "parse_dates",
    "read_dates",
]

#: Time zone in which time-zone-aware datetimes are turned into calendar dates.
LOCAL_TIMEZONE = "Asia/Taipei"
#: ROC (Minguo) year 1 is 1912: Gregorian year = ROC year + 1911.
ROC_YEAR_OFFSET = 1911
#: Excel's day 0 for serial dates (the 1900 system, including Lotus' 1900-02-29 bug).
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
#: Serial numbers outside this range are not read as Excel dates (1900-01-01 .. 2099-12-31).
EXCEL_SERIAL_RANGE = (1, 73415)
#: Orders a date such as 12/1/10 can be written in (``date_format=``): ROC year/month/day,
#: year/month/day with a two-digit year, month/day/year, day/month/year.
DATE_FORMATS = ("roc", "ymd", "mdy", "dmy")
#: A ROC (民國) reading before this year is not accepted silently (ROC 39 = 1950).
ROC_MIN_YEAR = 1950
#: Two-digit Gregorian years below this are 20xx, the others 19xx.
TWO_DIGIT_YEAR_PIVOT = 50
_DATE_FORMAT_SPELLINGS = {
    "民國": "roc",
    "民国": "roc",
    "minguo": "roc",
    "yyyymmdd": "ymd",
    "yymmdd": "ymd",
    "mmddyyyy": "mdy",
    "mmddyy": "mdy",
    "us": "mdy",
    "ddmmyyyy": "dmy",
    "ddmmyy": "dmy",
}

_DATE_DTYPE = "datetime64[ns]"
#: Calendar dates kpitools stores (datetime64[ns] spans 1677-09-21 .. 2262-04-11).
DATE_RANGE = (pd.Timestamp("1678-01-01"), pd.Timestamp("2261-12-31"))
_SEPARATORS = r"[-/.]"
# Each pattern captures year, month and (optionally) day; the flag says whether the year is ROC.
# Only notations whose order is certain are here; "12/1/10" and "1130105" are decided per column.
_DATE_PATTERNS: tuple[tuple[re.Pattern[str], bool], ...] = (
    (
        re.compile(
            r"^(\d{4})" + _SEPARATORS + r"(\d{1,2})" + _SEPARATORS + r"(\d{1,2})(?:[ T].*)?$"
        ),
        False,
    ),
    (re.compile(r"^(\d{4})年\s*(\d{1,2})月\s*(\d{1,2})日?(?:\s.*)?$"), False),
    (re.compile(r"^(\d{4})(\d{2})(\d{2})$"), False),
    (
        re.compile(r"^(?:民國|民国)\s*(\d{1,3})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?(?:\s.*)?$"),
        True,
    ),
    (re.compile(r"^(\d{2,3})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?(?:\s.*)?$"), True),
    (re.compile(r"^(\d{4})" + _SEPARATORS + r"(\d{1,2})$"), False),
    (re.compile(r"^(\d{4})年\s*(\d{1,2})月$"), False),
)
# Three numbers whose order must be decided: 113/01/05, 12/1/10 8:26, 24-11-01, 05.01.2024.
_UNORDERED_DATE = re.compile(
    r"^(\d{1,3})" + _SEPARATORS + r"(\d{1,2})" + _SEPARATORS + r"(\d{1,4})(?:[ T]\d.*)?$"
)
# The same without separators: 1130105 (ROC), 240105.
_UNORDERED_COMPACT_DATE = re.compile(r"^(\d{2,3})(\d{2})(\d{2})$")
#: Whole numbers of 6 or 7 digits in a date column are compact dates of undecided order.
_COMPACT_NUMBER_RANGE = (100_000, 9_999_999)
# An explicit offset or Z after a time of day: the value is an instant, not a local date.
_TZ_SUFFIX = re.compile(
    r"\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|UTC|GMT|[+-]\d{2}:?\d{2})$", re.I
)
_MONTH_NAME = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\b", re.IGNORECASE
)


@dataclass(frozen=True)
class ParsedDates:
    """The outcome of :func:`read_dates` for one column.

    ``order`` is the date order used for values such as ``12/1/10`` (one of
    :data:`DATE_FORMATS`, or None when the column has no such value or stayed ambiguous);
    ``fitting`` lists every order under which all those values are real dates.
    """

    dates: pd.Series
    bad: pd.Series
    findings: tuple[Finding, ...] = ()
    order: str | None = None
    fitting: tuple[str, ...] = ()


def check_date_format(date_format: str | None) -> str:
    """The canonical spelling of a ``date_format`` option; a KpitoolsError for unknown ones.

    >>> check_date_format("M/D/Y"), check_date_format("民國"), check_date_format(None)
    ('mdy', 'roc', 'auto')
    """
    if date_format is None:
        return "auto"
    key = str(date_format).strip().casefold().replace("/", "").replace("-", "")
    key = _DATE_FORMAT_SPELLINGS.get(key, key)
    if key not in ("auto", *DATE_FORMATS):
        raise KpitoolsError(
            f"unknown date_format {date_format!r}. Known: {['auto', *DATE_FORMATS]}\n"
            "Hint: roc = 民國 year/month/day (113/01/05), ymd = 24/11/01 is 2024-11-01, "
            "mdy = 12/1/10 is 2010-12-01, dmy = 1/12/10 is 2010-12-01."
        )
    return key


def parse_dates(values: pd.Series, date_format: str = "auto") -> tuple[pd.Series, pd.Series]:
    """Parse a column of dates written in any of the supported notations.

    Returns ``(dates, bad)``: ``dates`` is ``datetime64[ns]`` at midnight (NaT where missing,
    unparseable or of ambiguous order) and ``bad`` is True where a non-empty cell could not be
    read as one date. :func:`read_dates` also says *why* (ambiguous order, early ROC year).

    >>> dates, bad = parse_dates(pd.Series(["2024/1/5", "113/01/05", "民國113年1月5日", "x"]))
    >>> [d.date().isoformat() if not pd.isna(d) else None for d in dates]
    ['2024-01-05', '2024-01-05', '2024-01-05', None]
    >>> bad.tolist()
    [False, False, False, True]
    """
    parsed = read_dates(values, date_format)
    bad = parsed.bad.copy()
    for finding in parsed.findings:
        if finding.severity == "error":
            bad |= finding.cells
    return parsed.dates, bad


def read_dates(values: pd.Series, date_format: str = "auto") -> ParsedDates:
    """Parse a column of dates and report what could not be decided.

    ``date_format`` is ``"auto"`` (decide the order of ``12/1/10``-like values from the whole
    column) or one of :data:`DATE_FORMATS`. Cells whose order stays ambiguous are NaT and named
    by an error :class:`Finding`; ROC readings before :data:`ROC_MIN_YEAR` are refused in
    ``auto`` mode and kept with a warning when the file says ROC explicitly (``民國38年``,
    ``date_format="roc"``).

    >>> parsed = read_dates(pd.Series(["12/1/10 8:26", "12/13/10 9:01", "1/4/11"]))
    >>> parsed.order, [d.date().isoformat() for d in parsed.dates]
    ('mdy', ['2010-12-01', '2010-12-13', '2011-01-04'])
    >>> read_dates(pd.Series(["24/11/01"])).findings[0].message
    "the order of 1 date is ambiguous: '24/11/01' reads as 2024-11-01 (ymd) or 2001-11-24 (dmy)"
    """
    date_format = check_date_format(date_format)
    values = pd.Series(values)
    index = values.index
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        if _is_utc(values.dt.tz):  # an instant: the date in Taipei
            values = values.dt.tz_convert(LOCAL_TIMEZONE)
        local = _to_ns(values.dt.tz_localize(None))  # the date in the column's own zone
        return ParsedDates(local, values.notna() & local.isna())
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        dates = _to_ns(values)
        return ParsedDates(dates, values.notna() & dates.isna())

    result = pd.Series(pd.NaT, index=index, dtype=_DATE_DTYPE)
    findings: list[Finding] = []
    early_roc = pd.Series(False, index=index)  # ROC readings before ROC_MIN_YEAR, kept
    obj = values.astype(object)
    present = obj.notna()

    # Python datetimes / Timestamps (Excel cells read by openpyxl).
    is_stamp = obj.map(lambda v: isinstance(v, dt.date | pd.Timestamp)) & present
    if is_stamp.any():
        stamps = obj[is_stamp].map(_stamp_to_local_date)
        result[is_stamp] = _to_ns(pd.to_datetime(stamps))

    # Bare numbers: 8-digit yyyymmdd, Excel serials; 6-7 digits join the text of unknown order.
    is_num = obj.map(_is_number) & present & ~is_stamp
    numbers = pd.to_numeric(obj.where(is_num), errors="coerce")
    compact_number = is_num & numbers.between(*_COMPACT_NUMBER_RANGE) & (numbers % 1 == 0)
    plain_number = is_num & ~compact_number
    if plain_number.any():
        result[plain_number] = _dates_from_numbers(numbers[plain_number])

    cells = obj.where(present & ~is_stamp & ~plain_number, None)
    cells = cells.where(~compact_number, numbers.map(lambda n: f"{n:.0f}", na_action="ignore"))
    text = _as_text(cells)
    todo = text.notna()
    # Numbers written as text with a decimal part ("45296.0") are Excel serials too.
    serial_text = todo & text.fillna("").str.fullmatch(r"\d{4,5}(?:\.\d+)?")
    if serial_text.any():
        result[serial_text] = _dates_from_numbers(pd.to_numeric(text[serial_text]))
        todo &= ~serial_text

    tz_text = todo & text.fillna("").str.contains(_TZ_SUFFIX)
    if tz_text.any():
        result[tz_text] = _dates_from_instants(text[tz_text])
        todo &= ~tz_text

    for pattern, roc in _DATE_PATTERNS:
        if not todo.any():
            break
        parts = text[todo].str.extract(pattern)
        matched = parts[0].notna()
        if not matched.any():
            continue
        parts = parts[matched].astype(float)
        year = parts[0] + (ROC_YEAR_OFFSET if roc else 0)
        day = parts[2].fillna(1) if 2 in parts.columns else 1
        ymd = pd.DataFrame({"year": year, "month": parts[1], "day": day})
        result[ymd.index] = _dates_from_parts(ymd)
        todo[ymd.index] = False
        if roc:
            early_roc[ymd.index] = year < ROC_MIN_YEAR

    order: str | None = None
    fitting: tuple[str, ...] = ()
    parts = text[todo].str.extract(_UNORDERED_DATE)
    parts = parts.combine_first(text[todo].str.extract(_UNORDERED_COMPACT_DATE))
    parts = parts[parts[0].notna()]
    if len(parts):
        readings = _readings(parts)
        if date_format == "auto":
            order, fitting, finding = _decide_order(readings, text)
        else:
            order, fitting, finding = date_format, (date_format,), None
            if order == "roc":
                early_roc[parts.index] = readings["roc"] < pd.Timestamp(ROC_MIN_YEAR, 1, 1)
        if finding is not None:
            findings.append(finding)
        used = order or (fitting[0] if fitting else None)
        if used is not None:
            result[parts.index] = readings[used]
        if finding is not None and finding.severity == "error":
            result[finding.cells] = pd.NaT
        todo[parts.index] = False

    named = todo & text.fillna("").str.contains(_MONTH_NAME)
    if named.any():
        parsed = pd.to_datetime(text[named], format="mixed", errors="coerce")
        result[named] = _to_ns(parsed)

    if early_roc.any():
        findings.append(_early_roc(early_roc))
    bad = present & result.isna() & (is_stamp | is_num | text.notna())
    for finding in findings:
        bad &= ~finding.cells
    return ParsedDates(result, bad, tuple(findings), order, fitting)


def _mask(labels: pd.Index, index: pd.Index) -> pd.Series:
    mask = pd.Series(False, index=index)
    mask[labels] = True
    return mask


def _early_roc(early: pd.Series) -> Finding:
    n = int(early.sum())
    return Finding(
        f"{n} ROC (民國) {'date falls' if n == 1 else 'dates fall'} before {ROC_MIN_YEAR} "
        f"(ROC year below {ROC_MIN_YEAR - ROC_YEAR_OFFSET})",
        early,
        "check that these are ROC years; if the column is in another order, set date_format: "
        "ymd, mdy or dmy for this table in client.yml (or date_format= in the loader).",
        severity="warning",
    )


def _pivot_year(two_digits: pd.Series) -> pd.Series:
    """Two-digit Gregorian years: 00-49 → 2000-2049, 50-99 → 1950-1999."""
    return two_digits + np.where(two_digits < TWO_DIGIT_YEAR_PIVOT, 2000, 1900)


def _readings(parts: pd.DataFrame) -> dict[str, pd.Series]:
    """The date each unordered value means under each order (NaT where it is no date)."""
    a, b, c = (parts[i].astype(float) for i in range(3))
    width_a, width_c = parts[0].str.len(), parts[2].str.len()
    last_year = c.where(width_c == 4, _pivot_year(c)).where(width_c.isin([2, 4]))
    day_last = c.where(width_c <= 2)
    candidates = {
        "roc": (a.where(width_a.isin([2, 3])) + ROC_YEAR_OFFSET, b, day_last),
        "ymd": (_pivot_year(a).where(width_a == 2), b, day_last),
        "mdy": (last_year, a.where(width_a <= 2), b),
        "dmy": (last_year, b, a.where(width_a <= 2)),
    }
    out = {}
    for name, (year, month, day) in candidates.items():
        ymd = pd.DataFrame({"year": year, "month": month, "day": day})
        complete = ymd.notna().all(axis=1)
        dates = pd.Series(pd.NaT, index=parts.index, dtype=_DATE_DTYPE)
        dates[complete] = _dates_from_parts(ymd[complete])
        out[name] = dates
    return out


def _decide_order(
    readings: dict[str, pd.Series], text: pd.Series
) -> tuple[str | None, tuple[str, ...], Finding | None]:
    """The one order under which every value is a date, or a Finding saying what is unclear."""
    valid = {name: dates.notna() for name, dates in readings.items()}
    roc_floor = pd.Timestamp(ROC_MIN_YEAR, 1, 1)
    valid["roc"] = valid["roc"] & (readings["roc"] >= roc_floor)
    fitting = tuple(name for name in DATE_FORMATS if valid[name].all())
    if not fitting:
        # No order reads every value: take the one that reads the most; the rest are bad.
        best = max(valid[name].sum() for name in DATE_FORMATS)
        fitting = tuple(name for name in DATE_FORMATS if valid[name].sum() == best and best)
        if not fitting:
            return None, (), None
    first = readings[fitting[0]]
    differ = pd.Series(False, index=first.index)
    for name in fitting[1:]:
        other = readings[name]
        differ |= (first != other) & valid[fitting[0]] & valid[name]
    if not differ.any():
        return fitting[0], fitting, None
    shown = differ[differ].index[0]
    example = " or ".join(
        f"{readings[name][shown].date().isoformat()} ({name})"
        for name in fitting
        if valid[name][shown]
    )
    n = int(differ.sum())
    cells = _mask(differ[differ].index, text.index)
    return (
        None,
        fitting,
        Finding(
            f"the order of {n} {'date is' if n == 1 else 'dates is'} ambiguous: "
            f"{text[shown]!r} reads as {example}",
            cells,
            f"say how the dates are written: date_format: {fitting[0]} (one of "
            f"{', '.join(fitting)}) for this table in client.yml, or date_format="
            f"'{fitting[0]}' in the loader.",
        ),
    )


def _to_ns(values: pd.Series) -> pd.Series:
    """Naive datetimes of any unit → midnight datetime64[ns]; dates outside DATE_RANGE → NaT."""
    low, high = DATE_RANGE
    days = values.dt.normalize()
    return days.where(days.between(low, high)).astype(_DATE_DTYPE)


def _stamp_to_local_date(value: dt.date) -> pd.Timestamp:
    """A date or datetime cell → its calendar date (see the module docstring for zones)."""
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        if _is_utc(stamp.tzinfo):
            stamp = stamp.tz_convert(LOCAL_TIMEZONE)
        stamp = stamp.tz_localize(None)
    return stamp.normalize()


def _is_utc(tz: object) -> bool:
    """True for UTC itself (an instant), not for a zone that is at +00:00 some of the year."""
    return str(tz) in ("UTC", "Etc/UTC", "GMT", "Etc/GMT")


def _dates_from_parts(ymd: pd.DataFrame) -> pd.Series:
    """Calendar dates from year/month/day columns; impossible dates (2024-13-01) become NaT."""
    low, high = DATE_RANGE
    valid = (
        ymd["year"].between(low.year, high.year)
        & ymd["month"].between(1, 12)
        & ymd["day"].between(1, 31)
    )
    out = pd.Series(pd.NaT, index=ymd.index, dtype=_DATE_DTYPE)
    if valid.any():
        out[valid] = _to_ns(pd.to_datetime(ymd[valid], errors="coerce"))
    return out


def _dates_from_numbers(numbers: pd.Series) -> pd.Series:
    """8-digit numbers are yyyymmdd; numbers in the Excel range are serial days; others NaT."""
    out = pd.Series(pd.NaT, index=numbers.index, dtype=_DATE_DTYPE)
    whole = numbers == np.floor(numbers)
    compact = whole & numbers.between(1_000_01_01, 9999_12_31)
    if compact.any():
        n = numbers[compact].astype("int64")
        ymd = pd.DataFrame({"year": n // 10_000, "month": n // 100 % 100, "day": n % 100})
        out[compact] = _dates_from_parts(ymd.astype(float))
    low, high = EXCEL_SERIAL_RANGE
    serial = numbers.between(low, high) & ~compact
    if serial.any():
        days = pd.to_timedelta(np.floor(numbers[serial]), unit="D")
        out[serial] = _to_ns(EXCEL_EPOCH + days)
    return out


def _dates_from_instants(text: pd.Series) -> pd.Series:
    """Datetimes with a zone → calendar dates: the written date for a UTC offset (a local time
    of that zone), the Asia/Taipei date for a time in UTC."""
    cleaned = (
        text.str.replace(r"\s*(?:UTC|GMT)$", "Z", regex=True, flags=re.I)
        .str.replace(r"(\d)\s+([+-]\d{2}:?\d{2})$", r"\1\2", regex=True)
        .str.replace(r"^(\d{4})/(\d{1,2})/(\d{1,2})", r"\1-\2-\3", regex=True)
        .str.replace(r"^(\d{4})-(\d)(?=-)", r"\1-0\2", regex=True)
        .str.replace(r"^(\d{4}-\d{2})-(\d)(?=\D)", r"\1-0\2", regex=True)
    )
    offset = cleaned.str.contains(r"[+-]\d{2}:?\d{2}$", regex=True).fillna(False).astype(bool)
    # parsed as UTC first, so that a malformed value fails the same way in both branches
    instants = pd.to_datetime(cleaned, format="ISO8601", utc=True, errors="coerce")
    out = _to_ns(instants.dt.tz_convert(LOCAL_TIMEZONE).dt.tz_localize(None))
    if offset.any():
        wall = cleaned[offset].str.replace(r"[+-]\d{2}:?\d{2}$", "", regex=True)
        local = pd.to_datetime(wall, format="ISO8601", errors="coerce")
        out[offset] = _to_ns(local.where(instants[offset].notna()))
    return out
