"""Words and number formats in the two languages kpitools speaks: ``"zh-TW"`` and ``"en"``.

Texts live in ``texts.yaml`` beside this module (group -> key -> {zh-TW, en}); :func:`t` looks one
up by its dotted key. The ``fmt_*`` helpers belong to the presentation layer: metrics return
plain floats (a ``_rate`` is a fraction in [0, 1]) and only tables, charts and reports turn them
into text.

Examples
--------
>>> t("status.at_risk", "zh-TW")
'有風險'
>>> t("chart.target_value", "en", value="NT$1.2M")
'Target NT$1.2M'
>>> fmt_money(1234567, lang="zh-TW"), fmt_money(1234567, lang="en")
('1,234,567元', 'NT$1,234,567')
>>> fmt_money(1_234_567, lang="zh-TW", compact=True), fmt_money(1_234_567, lang="en", compact=True)
('123.5萬元', 'NT$1.2M')
>>> fmt_pct(0.1234, "en"), fmt_delta(0.025, "zh-TW", unit="rate")
('12.3%', '+2.5 個百分點')
>>> period_label("2024Q3", "zh-TW"), period_label("2024-07", "en")
('2024年第3季', 'Jul 2024')
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import cache
from importlib import resources
from numbers import Real
from typing import Any

from kpitools._errors import KpitoolsError, did_you_mean
from kpitools._packageyaml import package_yaml
from kpitools.periods import MONTHS_PER_QUARTER, MONTHS_PER_YEAR, Period, parse_period

__all__ = [
    "DEFAULT_LANG",
    "LANGS",
    "NA_TEXT",
    "UNITS",
    "check_lang",
    "direction_label",
    "fmt_delta",
    "fmt_money",
    "fmt_number",
    "fmt_pct",
    "fmt_value",
    "has",
    "keys",
    "localize",
    "month_name",
    "period_label",
    "quarter_name",
    "status_label",
    "t",
]

LANGS = ("zh-TW", "en")
DEFAULT_LANG = "zh-TW"
#: What a missing number (None or NaN) is shown as, in either language.
NA_TEXT = "—"
#: The unit vocabulary of the KPI catalog; :func:`fmt_value` knows how to write each.
#: ``percent`` is a ratio read as a percentage that may pass 100% (NRR); ``rate`` stays in [0, 1].
UNITS = ("currency", "rate", "percent", "ratio", "count", "months", "days", "hours", "seconds",
         "score")
STATUSES = ("on_track", "at_risk", "off_track")
PERCENT = 100

# Compact number words, largest first. zh-TW groups digits by 萬 (10^4) and 億 (10^8).
_COMPACT_SCALES = {
    "zh-TW": ((1e8, "億"), (1e4, "萬")),
    "en": ((1e9, "B"), (1e6, "M"), (1e3, "K")),
}
_COMPACT_DIGITS = 1
_SUFFIX_UNITS = {"months", "days", "hours", "seconds", "score"}


# --------------------------------------------------------------------------- text lookup


@cache
def _table() -> dict[str, dict[str, str]]:
    raw = package_yaml(resources.files(__package__).joinpath("texts.yaml").read_text("utf-8"))
    flat: dict[str, dict[str, str]] = {}
    for group, entries in raw.items():
        for key, texts in entries.items():
            flat[f"{group}.{key}"] = {lang: str(text) for lang, text in texts.items()}
    return flat


def keys() -> list[str]:
    """Every dotted text key in ``texts.yaml``, sorted (``'status.on_track'``, ...)."""
    return sorted(_table())


def has(key: str) -> bool:
    """Whether ``texts.yaml`` has a text for ``key`` (to translate ids that may be custom)."""
    return key in _table()


def check_lang(lang: str) -> str:
    """Return ``lang`` if kpitools speaks it, else raise a :class:`KpitoolsError` with a hint.

    >>> check_lang("en")
    'en'
    """
    if lang in LANGS:
        return lang
    close = {"zh": "zh-TW", "zh_tw": "zh-TW", "zh-tw": "zh-TW", "tw": "zh-TW", "zh-hant": "zh-TW",
             "english": "en", "en-us": "en", "en_us": "en", "en-gb": "en"}
    guess = close.get(str(lang).strip().lower())
    hint = f"use {guess!r}" if guess else "use 'zh-TW' (Traditional Chinese) or 'en' (English)"
    raise KpitoolsError(
        f"unknown language {lang!r}; kpitools speaks {', '.join(LANGS)}.\nHint: {hint}."
    )


def t(key: str, lang: str = DEFAULT_LANG, **fmt: Any) -> str:
    """The text for ``key`` in ``lang``, with ``{placeholders}`` filled from ``fmt``.

    Parameters
    ----------
    key : str
        Dotted key ``"group.name"`` from ``texts.yaml``, e.g. ``"header.attainment"``.
    lang : {"zh-TW", "en"}
    **fmt
        Values for the placeholders of that text (``str.format`` names).

    Raises
    ------
    KpitoolsError
        For an unknown language, an unknown key, or a missing placeholder value.

    >>> t("header.attainment", "zh-TW"), t("header.attainment", "en")
    ('達成率', 'Attainment')
    """
    check_lang(lang)
    table = _table()
    if key not in table:
        guess = did_you_mean(key, list(table))
        hint = f"did you mean {guess!r}?" if guess else "see kpitools/i18n/texts.yaml for the keys."
        raise KpitoolsError(f"no text with key {key!r}.\nHint: {hint}")
    text = table[key][lang]
    if not fmt and "{" not in text:
        return text
    try:
        return text.format(**fmt)
    except KeyError as missing:
        raise KpitoolsError(
            f"text {key!r} needs a value for {missing}.\nHint: call t({key!r}, lang, "
            f"{missing.args[0]}=...)."
        ) from None


def localize(text: str | Mapping[str, str], lang: str = DEFAULT_LANG) -> str:
    """Pick ``lang`` from a ``{"zh-TW": ..., "en": ...}`` mapping; plain strings pass through.

    Catalog names, client names and goal objectives are stored this way. When the mapping lacks
    ``lang`` the other language is used, so a half-translated client file still renders.

    >>> localize({"zh-TW": "年度合約價值", "en": "Annual contract value"}, "en")
    'Annual contract value'
    >>> localize("ACV", "zh-TW")
    'ACV'
    """
    check_lang(lang)
    if isinstance(text, Mapping):
        for candidate in (lang, *LANGS):
            if text.get(candidate):
                return str(text[candidate])
        return ""
    return str(text)


def status_label(status: str, lang: str = DEFAULT_LANG) -> str:
    """Word for a goal status id (``on_track``, ``at_risk``, ``off_track``, ...).

    >>> status_label("off_track", "zh-TW"), status_label("at risk", "en")
    ('落後', 'At risk')
    """
    norm = str(status).strip().lower().replace(" ", "_").replace("-", "_")
    if f"status.{norm}" not in _table():
        known = [k.split(".", 1)[1] for k in _table() if k.startswith("status.")]
        raise KpitoolsError(
            f"unknown status {status!r}; known: {', '.join(known)}.\n"
            "Hint: statuses are the ids kpitools.goals.scorecard writes; check for a typo."
        )
    return t(f"status.{norm}", lang)


def direction_label(direction: str, lang: str = DEFAULT_LANG) -> str:
    """``'higher'`` / ``'lower'`` as 越高越好 / Higher is better, etc."""
    if direction not in ("higher", "lower"):
        raise KpitoolsError(
            f"direction must be 'higher' or 'lower', got {direction!r}.\n"
            "Hint: 'higher' when a bigger number is better (revenue), 'lower' otherwise (churn)."
        )
    return t(f"direction.{direction}", lang)


def month_name(month: int, lang: str = DEFAULT_LANG) -> str:
    """Short month name: ``7`` -> ``'7月'`` / ``'Jul'``."""
    if not isinstance(month, int) or not 1 <= month <= MONTHS_PER_YEAR:
        raise KpitoolsError(f"month must be 1–12, got {month!r}.\nHint: January is 1.")
    return t(f"month.{month}", lang)


def quarter_name(quarter: int, lang: str = DEFAULT_LANG) -> str:
    """Quarter name: ``3`` -> ``'第三季'`` / ``'Q3'``."""
    quarters = MONTHS_PER_YEAR // MONTHS_PER_QUARTER
    if not isinstance(quarter, int) or not 1 <= quarter <= quarters:
        raise KpitoolsError(f"quarter must be 1–4, got {quarter!r}.\nHint: use 3 for Q3.")
    return t(f"quarter.{quarter}", lang)


def period_label(period: str | Period, lang: str = DEFAULT_LANG) -> str:
    """A period written for people: ``'2024Q3'`` -> ``'2024年第3季'`` / ``'Q3 2024'``.

    Fiscal periods (``fiscal_year_start_month != 1``) are marked 年度 / FY, and are named after
    the year in which the fiscal year begins, as in :mod:`kpitools.periods`.

    >>> period_label("2024", "zh-TW"), period_label("2024-12", "zh-TW")
    ('2024年', '2024年12月')
    """
    check_lang(lang)
    p = parse_period(period)
    fiscal = p.fiscal_year_start_month != 1
    if p.freq == "M":
        month = p.start.month
        return t("period.month_label", lang, year=p.start.year,
                 month_name=month_name(month, lang))
    year = int(p.label[:4])
    if p.freq == "Y":
        return t("period.fiscal_year_label" if fiscal else "period.year_label", lang, year=year)
    quarter = int(p.label[-1])
    key = "period.fiscal_quarter_label" if fiscal else "period.quarter_label"
    return t(key, lang, year=year, quarter=quarter)


# --------------------------------------------------------------------------- numbers


def _is_missing(x: object) -> bool:
    return x is None or (isinstance(x, Real) and math.isnan(float(x)))


def _check_number(x: object, what: str) -> float:
    if isinstance(x, bool) or not isinstance(x, Real):
        raise KpitoolsError(
            f"{what} must be a number, got {x!r} ({type(x).__name__}).\n"
            "Hint: pass the float a metric returns, not a formatted string."
        )
    return float(x)


def _plain(x: float, digits: int) -> str:
    return f"{x:,.{digits}f}"


def _compact(x: float, lang: str, digits: int) -> str:
    """``1_234_567`` -> ``'123.5萬'`` (zh-TW) / ``'1.2M'`` (en); trailing zeros dropped."""
    size = abs(x)
    for scale, word in _COMPACT_SCALES[lang]:
        if size >= scale:
            text = f"{x / scale:,.{digits}f}"
            if "." in text:
                text = text.rstrip("0").rstrip(".")
            return f"{text}{word}"
    text = f"{x:,.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def fmt_number(x: float | None, lang: str = DEFAULT_LANG, digits: int = 0, *,
               compact: bool = False) -> str:
    """A count or plain number with thousands separators.

    >>> fmt_number(1234.5, "en", 1), fmt_number(56_000, "zh-TW", compact=True)
    ('1,234.5', '5.6萬')
    """
    check_lang(lang)
    if _is_missing(x):
        return NA_TEXT
    value = _check_number(x, "the number")
    if compact:
        return _compact(value, lang, max(digits, _COMPACT_DIGITS))
    return _plain(value, digits)


def fmt_money(x: float | None, currency: str = "TWD", lang: str = DEFAULT_LANG, *,
              digits: int = 0, compact: bool = False) -> str:
    """An amount of money as a client reads it.

    zh-TW writes the currency word after the number (``1,234元``, ``120萬元``, ``3.5萬美元``);
    English writes the symbol first (``NT$1,234``, ``NT$1.2M``). Currencies not in
    ``texts.yaml`` are written with their ISO code (``1,234 MYR`` / ``MYR 1,234``).

    >>> fmt_money(-2500, lang="en"), fmt_money(12_000_000, lang="zh-TW", compact=True)
    ('-NT$2,500', '1,200萬元')
    >>> fmt_money(3.5e4, "USD", "zh-TW", compact=True)
    '3.5萬美元'
    """
    check_lang(lang)
    if _is_missing(x):
        return NA_TEXT
    value = _check_number(x, "the amount")
    number = (_compact(abs(value), lang, max(digits, _COMPACT_DIGITS)) if compact
              else _plain(abs(value), digits))
    sign = "-" if value < 0 and number.strip("0.,") else ""
    code = str(currency).upper()
    known = f"currency.{code}" in _table()
    if lang == "zh-TW":
        return f"{sign}{number}{t(f'currency.{code}', lang)}" if known else f"{sign}{number} {code}"
    return f"{sign}{t(f'currency.{code}', lang)}{number}" if known else f"{sign}{code} {number}"


def fmt_pct(rate: float | None, lang: str = DEFAULT_LANG, digits: int = 1, *,
            signed: bool = False) -> str:
    """A fraction as a percentage: ``0.1234`` -> ``'12.3%'`` (same in both languages).

    >>> fmt_pct(0.5, "zh-TW", 0), fmt_pct(-0.034, "en", signed=True)
    ('50%', '-3.4%')
    """
    check_lang(lang)
    if _is_missing(rate):
        return NA_TEXT
    value = _check_number(rate, "the rate") * PERCENT
    return f"{value:+.{digits}f}%" if signed else f"{value:.{digits}f}%"


def _suffixed(x: float, unit: str, lang: str, digits: int) -> str:
    word = t(f"unit.{unit}_suffix", lang)
    return f"{_plain(x, digits)} {word}"


def fmt_value(x: float | None, unit: str, lang: str = DEFAULT_LANG, *, currency: str = "TWD",
              digits: int | None = None, compact: bool = False) -> str:
    """Format a KPI value by its catalog ``unit`` (currency, rate, ratio, count, months, ...).

    Default digits: 0 for currency and count, 1 for rate, months, days, hours, score and ratio
    (ratio shows as ``3.2×`` / ``3.2倍``), 0 for seconds.

    >>> fmt_value(0.256, "rate", "en"), fmt_value(3.24, "ratio", "zh-TW")
    ('25.6%', '3.2倍')
    >>> fmt_value(14, "months", "en"), fmt_value(2.5, "days", "zh-TW")
    ('14.0 months', '2.5 天')
    """
    check_lang(lang)
    if unit not in UNITS:
        guess = did_you_mean(unit, UNITS)
        hint = f"did you mean {guess!r}?" if guess else f"use one of {', '.join(UNITS)}."
        raise KpitoolsError(f"unknown unit {unit!r}.\nHint: {hint}")
    if _is_missing(x):
        return NA_TEXT
    if unit == "currency":
        return fmt_money(x, currency, lang, digits=digits or 0, compact=compact)
    if unit in ("rate", "percent"):
        return fmt_pct(x, lang, 1 if digits is None else digits)
    if unit == "count":
        return fmt_number(x, lang, digits or 0, compact=compact)
    if unit == "ratio":
        value = _check_number(x, "the ratio")
        return f"{_plain(value, 1 if digits is None else digits)}{t('unit.ratio_suffix', lang)}"
    default_digits = 0 if unit == "seconds" else 1
    value = _check_number(x, "the value")
    return _suffixed(value, unit, lang, default_digits if digits is None else digits)


def fmt_delta(delta: float | None, lang: str = DEFAULT_LANG, *, unit: str = "count",
              currency: str = "TWD", digits: int | None = None, relative: bool = False) -> str:
    """A signed change, e.g. between a period and the previous one.

    ``relative=True`` means ``delta`` is already a relative change (``0.12`` = +12%). Otherwise
    it is an absolute difference in ``unit``; for ``unit="rate"`` that is a difference of two
    fractions, written in percentage points (``+2.5 pp`` / ``+2.5 個百分點``).

    >>> fmt_delta(-1500, "en", unit="currency"), fmt_delta(0.12, "zh-TW", relative=True)
    ('-NT$1,500', '+12.0%')
    >>> fmt_delta(-0.031, "en", unit="rate")
    '-3.1 pp'
    """
    check_lang(lang)
    if _is_missing(delta):
        return NA_TEXT
    value = _check_number(delta, "the change")
    if relative:
        return fmt_pct(value, lang, 1 if digits is None else digits, signed=True)
    if unit == "rate":
        points = value * PERCENT
        return f"{points:+.{1 if digits is None else digits}f} {t('unit.pp_suffix', lang)}"
    body = fmt_value(abs(value), unit, lang, currency=currency, digits=digits)
    shown_zero = not any(ch in "123456789" for ch in body)
    sign = "" if shown_zero else ("-" if value < 0 else "+")
    return f"{sign}{body}"
