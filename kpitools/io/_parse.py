"""Parsing primitives: turn the text found in client exports into dates, numbers and clean headers.

Every parser works on a whole column at once (vectorised string operations, no row loops) and
returns the parsed column together with a boolean mask of the cells it could *not* parse, so the
validator can report row numbers and the offending values. Empty cells are missing values, never
parse failures.

Dates
    ISO ``2024-01-05``, ``2024/1/5``, ``2024.1.5``, ``2024年1月5日``, month-only ``2024-01`` (first
    day of the month), ROC (Minguo) ``113/01/05``, ``1130105`` and ``民國113年1月5日``
    (year + 1911),
    compact ``20240105`` (GA4), Excel serial numbers (days since 1899-12-30), English month names
    (``Jan 5, 2024``), and datetimes with a time zone (``2024-01-05T20:00:00Z``,
    ``2024-01-05 10:23:45 +0800``), which are converted to Asia/Taipei local time first. The result
    is a calendar date: ``datetime64[ns]`` at midnight, time-zone naive.
Numbers and money
    ``NT$1,234``, ``1,234元``, ``$1,234.50``, ``TWD 1234``, ``(1,234)`` (accounting negative),
    ``−1,234`` (Unicode minus), full-width digits ``１２３４``, ``12%`` → 0.12, ``3.5萬`` → 35000.
Headers
    Compared after Unicode NFKC normalisation (full-width → half-width), case folding, and
    collapsing spaces, underscores and hyphens into one space.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

import numpy as np
import pandas as pd

__all__ = [
    "LOCAL_TIMEZONE",
    "ROC_YEAR_OFFSET",
    "normalize_header",
    "parse_categories",
    "parse_dates",
    "parse_numbers",
    "parse_strings",
]

#: Time zone in which time-zone-aware datetimes are turned into calendar dates.
LOCAL_TIMEZONE = "Asia/Taipei"
#: ROC (Minguo) year 1 is 1912: Gregorian year = ROC year + 1911.
ROC_YEAR_OFFSET = 1911
#: Excel's day 0 for serial dates (the 1900 system, including Lotus' 1900-02-29 bug).
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
#: Serial numbers outside this range are not read as Excel dates (1900-01-01 .. 2099-12-31).
EXCEL_SERIAL_RANGE = (1, 73415)
#: One 萬 (wan) = ten thousand.
WAN = 10_000
#: A percentage is a hundredth.
PERCENT = 100

_DATE_DTYPE = "datetime64[ns]"
#: Calendar dates kpitools stores (datetime64[ns] spans 1677-09-21 .. 2262-04-11).
DATE_RANGE = (pd.Timestamp("1678-01-01"), pd.Timestamp("2261-12-31"))
_SEPARATORS = r"[-/.]"
# Each pattern captures year, month and (optionally) day; the flag says whether the year is ROC.
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
    (
        re.compile(
            r"^(\d{2,3})" + _SEPARATORS + r"(\d{1,2})" + _SEPARATORS + r"(\d{1,2})(?:\s.*)?$"
        ),
        True,
    ),
    (re.compile(r"^(\d{2,3})(\d{2})(\d{2})$"), True),
    (re.compile(r"^(\d{4})" + _SEPARATORS + r"(\d{1,2})$"), False),
    (re.compile(r"^(\d{4})年\s*(\d{1,2})月$"), False),
)
# An explicit offset or Z after a time of day: the value is an instant, not a local date.
_TZ_SUFFIX = re.compile(
    r"\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|UTC|GMT|[+-]\d{2}:?\d{2})$", re.I
)
_MONTH_NAME = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\b", re.IGNORECASE
)
_CURRENCY_MARKS = re.compile(r"(?i)NT\$|NTD|TWD|US\$|USD|\$|元|圓|塊")
_MISSING_TEXT = re.compile(r"^\s*$")
_HEADER_SPACES = re.compile(r"[\s_\-]+")


def normalize_header(name: object) -> str:
    """Return the form in which a column header is compared with the known aliases.

    >>> normalize_header("  Order_Date ")
    'order date'
    >>> normalize_header("ＣＵＳＴＯＭＥＲ　ＩＤ")
    'customer id'
    """
    text = unicodedata.normalize("NFKC", str(name)).replace("\ufeff", "")
    return _HEADER_SPACES.sub(" ", text).strip().casefold()


def _as_text(values: pd.Series) -> pd.Series:
    """Cells as NFKC-normalised, stripped strings (object dtype); missing cells become NA."""
    text = values.astype(object).where(values.notna(), None)
    text = text.map(lambda v: None if v is None else unicodedata.normalize("NFKC", str(v)).strip())
    return text.where(~text.fillna("").str.match(_MISSING_TEXT), None)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def parse_dates(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse a column of dates written in any of the supported notations.

    Returns ``(dates, bad)``: ``dates`` is ``datetime64[ns]`` at midnight (NaT where missing or
    unparseable) and ``bad`` is True where a non-empty cell could not be read as a date.

    >>> dates, bad = parse_dates(pd.Series(["2024/1/5", "113/01/05", "民國113年1月5日", "x"]))
    >>> [d.date().isoformat() if not pd.isna(d) else None for d in dates]
    ['2024-01-05', '2024-01-05', '2024-01-05', None]
    >>> bad.tolist()
    [False, False, False, True]
    """
    values = pd.Series(values)
    index = values.index
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        local = _to_ns(values.dt.tz_convert(LOCAL_TIMEZONE).dt.tz_localize(None))
        return local, values.notna() & local.isna()
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        dates = _to_ns(values)
        return dates, values.notna() & dates.isna()

    result = pd.Series(pd.NaT, index=index, dtype=_DATE_DTYPE)
    obj = values.astype(object)
    present = obj.notna()

    # Python datetimes / Timestamps (Excel cells read by openpyxl).
    is_stamp = obj.map(lambda v: isinstance(v, dt.date | pd.Timestamp)) & present
    if is_stamp.any():
        stamps = obj[is_stamp].map(_stamp_to_local_date)
        result[is_stamp] = _to_ns(pd.to_datetime(stamps))

    # Bare numbers: 8-digit yyyymmdd or Excel serials.
    is_num = obj.map(_is_number) & present & ~is_stamp
    if is_num.any():
        result[is_num] = _dates_from_numbers(pd.to_numeric(obj[is_num], errors="coerce"))

    text = _as_text(obj.where(present & ~is_stamp & ~is_num, None))
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

    named = todo & text.fillna("").str.contains(_MONTH_NAME)
    if named.any():
        parsed = pd.to_datetime(text[named], format="mixed", errors="coerce")
        result[named] = _to_ns(parsed)

    bad = present & result.isna() & (is_stamp | is_num | text.notna())
    return result, bad


def _to_ns(values: pd.Series) -> pd.Series:
    """Naive datetimes of any unit → midnight datetime64[ns]; dates outside DATE_RANGE → NaT."""
    low, high = DATE_RANGE
    days = values.dt.normalize()
    return days.where(days.between(low, high)).astype(_DATE_DTYPE)


def _stamp_to_local_date(value: dt.date) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert(LOCAL_TIMEZONE).tz_localize(None)
    return stamp.normalize()


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
    roc_compact = whole & numbers.between(10101, 1991231) & ~numbers.between(*EXCEL_SERIAL_RANGE)
    if roc_compact.any():
        n = numbers[roc_compact].astype("int64")
        ymd = pd.DataFrame(
            {"year": n // 10_000 + ROC_YEAR_OFFSET, "month": n // 100 % 100, "day": n % 100}
        )
        out[roc_compact] = _dates_from_parts(ymd.astype(float))
    low, high = EXCEL_SERIAL_RANGE
    serial = numbers.between(low, high) & ~compact
    if serial.any():
        days = pd.to_timedelta(np.floor(numbers[serial]), unit="D")
        out[serial] = _to_ns(EXCEL_EPOCH + days)
    return out


def _dates_from_instants(text: pd.Series) -> pd.Series:
    """Datetimes carrying an offset → Asia/Taipei local calendar dates."""
    cleaned = (
        text.str.replace(r"\s*(?:UTC|GMT)$", "Z", regex=True, flags=re.I)
        .str.replace(r"(\d)\s+([+-]\d{2}:?\d{2})$", r"\1\2", regex=True)
        .str.replace(r"^(\d{4})/(\d{1,2})/(\d{1,2})", r"\1-\2-\3", regex=True)
        .str.replace(r"^(\d{4})-(\d)(?=-)", r"\1-0\2", regex=True)
        .str.replace(r"^(\d{4}-\d{2})-(\d)(?=\D)", r"\1-0\2", regex=True)
    )
    instants = pd.to_datetime(cleaned, format="ISO8601", utc=True, errors="coerce")
    return _to_ns(instants.dt.tz_convert(LOCAL_TIMEZONE).dt.tz_localize(None))


def parse_numbers(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse numbers and money amounts as written in Taiwanese exports.

    Returns ``(numbers, bad)``: ``numbers`` is float64 (NaN where missing or unparseable) and
    ``bad`` is True where a non-empty cell is not a number.

    >>> nums, bad = parse_numbers(pd.Series(["NT$1,234", "1,234元", "(1,234)", "１２３４", "12%"]))
    >>> nums.tolist()
    [1234.0, 1234.0, -1234.0, 1234.0, 0.12]
    """
    values = pd.Series(values)
    index = values.index
    if pd.api.types.is_bool_dtype(values.dtype):
        return pd.Series(np.nan, index=index, dtype="float64"), values.notna()
    if pd.api.types.is_numeric_dtype(values.dtype):
        return values.astype("float64"), pd.Series(False, index=index)

    obj = values.astype(object)
    present = obj.notna()
    is_num = obj.map(_is_number) & present
    result = pd.Series(np.nan, index=index, dtype="float64")
    if is_num.any():
        result[is_num] = obj[is_num].astype("float64")

    text = _as_text(obj.where(present & ~is_num, None))
    todo = text.notna()
    if todo.any():
        t = text[todo].str.replace("\u2212", "-", regex=False)  # Unicode minus sign
        negative_paren = t.str.fullmatch(r"\(.*\)")
        t = t.where(~negative_paren, t.str.slice(1, -1))
        t = t.str.replace(_CURRENCY_MARKS, "", regex=True).str.replace(r"[,\s']", "", regex=True)
        percent = t.str.endswith("%")
        wan = t.str.endswith("萬")
        t = t.str.replace(r"[%萬]$", "", regex=True)
        # Accept only plain decimal notation: no "inf", "nan", hex or stray letters.
        plain = t.str.fullmatch(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
        number = pd.to_numeric(t.where(plain, None), errors="coerce").astype("float64")
        number = number.where(~percent, number / PERCENT).where(~wan, number * WAN)
        number = number.where(~negative_paren, -number.abs())
        result[t.index] = number
    bad = present & result.isna() & (is_num | text.notna())
    return result, bad


def parse_strings(values: pd.Series) -> pd.Series:
    """Text cells stripped and NFKC-normalised, as pandas' ``str`` dtype (missing = NaN).

    Whole numbers read from Excel as floats (``1001.0``) are written back as ``"1001"`` so an id
    column reads the same whichever program exported it.
    """
    values = pd.Series(values)
    obj = values.astype(object)

    def to_text(v: object) -> object:
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT or v is pd.NA:
            return None
        if isinstance(v, float | np.floating) and float(v).is_integer():
            return str(int(v))
        if (
            isinstance(v, dt.datetime | pd.Timestamp)
            and pd.Timestamp(v) == pd.Timestamp(v).normalize()
        ):
            return pd.Timestamp(v).date().isoformat()
        return unicodedata.normalize("NFKC", str(v)).strip() or None

    return obj.map(to_text).astype("str")


def parse_categories(values: pd.Series, aliases: dict[str, str] | None = None) -> pd.Series:
    """Text cells lower-cased, with spelling variants mapped to the canonical value.

    ``aliases`` maps a normalised spelling (see :func:`normalize_header`) to the stored value,
    e.g. ``{"closed won": "won", "成交": "won"}``. Unknown values are kept (lower-cased) so the
    validator can report them.
    """
    text = parse_strings(values)
    key = text.map(lambda v: v if pd.isna(v) else normalize_header(v), na_action="ignore")
    mapped = key.map(lambda v: (aliases or {}).get(v, v), na_action="ignore")
    return mapped.astype("str")
