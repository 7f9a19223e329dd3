"""Parsing primitives: clean headers, text and category cells of client exports.

Every parser works on a whole column at once (vectorised string operations, no row loops).
Empty cells are missing values, never parse failures. Dates are parsed in
:mod:`kpitools.io._dates` and numbers in :mod:`kpitools.io._numbers`; both report what they
cannot decide (date order, decimal convention, currency) as :class:`Finding` objects.

Headers
    Compared after Unicode NFKC normalisation (full-width → half-width), case folding, and
    collapsing spaces, underscores and hyphens into one space.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "Finding",
    "normalize_header",
    "parse_categories",
    "parse_strings",
]

_MISSING_TEXT = re.compile(r"^\s*$")
_HEADER_SPACES = re.compile(r"[\s_\-]+")
# Names that moved to the date and number modules, still importable from here.
_MOVED = {
    "parse_dates": "kpitools.io._dates",
    "read_dates": "kpitools.io._dates",
    "check_date_format": "kpitools.io._dates",
    "LOCAL_TIMEZONE": "kpitools.io._dates",
    "ROC_YEAR_OFFSET": "kpitools.io._dates",
    "parse_numbers": "kpitools.io._numbers",
}


def __getattr__(name: str) -> object:
    if name in _MOVED:
        import importlib

        return getattr(importlib.import_module(_MOVED[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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


@dataclass(frozen=True)
class Finding:
    """A problem a parser found in some cells of one column, for the validator to report.

    ``cells`` is a boolean mask (aligned with the parsed column) of the cells concerned; the
    validator turns it into row numbers and quotes a few of the original values.
    """

    message: str
    cells: pd.Series
    hint: str
    severity: str = "error"


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
