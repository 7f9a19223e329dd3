"""Number inputs in the client's units: rates typed and shown in %, money with separators.

A workshop input is a text box (``widgets.Text``) rather than ``FloatText``: a consultant types
``25`` or ``25%`` for a 25 % win rate, ``1,200,000`` or ``120萬`` for money, and reads back the
same form, never ``0.011278195488721804``. :func:`parse_number` turns what was typed into the
fraction or amount kpitools computes with; :func:`input_text` writes a value back in that form.
"""

from __future__ import annotations

import re
from typing import Any

from kpitools._errors import KpitoolsError
from kpitools.i18n import t

__all__ = ["input_text", "parse_number", "unit_input", "unit_suffix"]

#: Units typed in percent (the stored value is a fraction: 25 typed = 0.25).
PERCENT_UNITS = frozenset({"rate", "percent"})
#: Multipliers a consultant may type after a number (``120萬`` = 1,200,000).
_SCALES = {"萬": 1e4, "万": 1e4, "億": 1e8, "亿": 1e8, "k": 1e3, "K": 1e3, "m": 1e6, "M": 1e6}
#: Currency marks removed before reading the number.
_MONEY_MARKS = re.compile(
    r"NT\$|US\$|HK\$|S\$|JP¥|CN¥|[$€¥元圓]|新臺幣|新台幣|台幣|臺幣|美元|港幣|歐元|日圓"
)
_NUMBER = re.compile(r"^([+\-−]?)(\d+(?:\.\d*)?|\.\d+)([萬万億亿kKmM]?)$")
_DIGITS = 2
PERCENT = 100


def unit_suffix(unit: str, lang: str, currency: str = "TWD") -> str:
    """What follows (or, for English money, precedes) the number: ``%``, ``元``, ``NT$``, ``倍``."""
    if unit in PERCENT_UNITS:
        return "%"
    if unit == "currency":
        try:
            return t(f"currency.{str(currency).upper()}", lang)
        except KpitoolsError:
            return str(currency).upper()
    if unit == "ratio":
        return t("unit.ratio_suffix", lang)
    if unit in ("months", "days", "hours", "seconds", "score"):
        return t(f"unit.{unit}_suffix", lang)
    return ""


def parse_number(raw: str | None, unit: str, *, what: str = "value") -> float | None:
    """The number typed in a box for a value in ``unit``; None when the box is empty.

    Rates are typed in percent with or without the sign (``25`` and ``25%`` both give 0.25);
    thousands separators, currency marks and ``萬``/``億``/``k``/``M`` are understood.

    >>> parse_number("25%", "rate"), parse_number("1,200,000元", "currency")
    (0.25, 1200000.0)
    >>> parse_number("120萬", "currency"), parse_number("  ", "count") is None
    (1200000.0, True)

    Raises
    ------
    KpitoolsError
        When the text is not a number (the message quotes it and shows what is accepted).
    """
    text = (raw or "").strip()
    if not text:
        return None
    cleaned = _MONEY_MARKS.sub("", text).replace(",", "").replace("，", "").replace(" ", "")
    cleaned = cleaned.replace("×", "").replace("倍", "")
    percent = cleaned.endswith("%") or cleaned.endswith("％")
    cleaned = cleaned.rstrip("%％")
    match = _NUMBER.match(cleaned)
    if match is None:
        example = "25%" if unit in PERCENT_UNITS else "1,200,000"
        raise KpitoolsError(
            f"{what} {text!r} is not a number.\nHint: type digits only, e.g. {example}."
        )
    sign, digits, scale = match.groups()
    value = float(digits) * _SCALES.get(scale, 1.0) * (-1.0 if sign in ("-", "−") else 1.0)
    if unit in PERCENT_UNITS or percent:
        value /= PERCENT
    return value


def input_text(value: float | None, unit: str) -> str:
    """``value`` as it is shown in an input box: ``25%``, ``1,234,567``, ``3.25`` (no unit word).

    >>> input_text(0.011278195488721804, "rate"), input_text(1234567.4, "currency")
    ('1.13%', '1,234,567')
    """
    if value is None:
        return ""
    if unit in PERCENT_UNITS:
        return f"{_trim(f'{value * PERCENT:,.{_DIGITS}f}')}%"
    if unit in ("currency", "count"):
        return f"{value:,.0f}"
    return _trim(f"{value:,.{_DIGITS}f}")


def _trim(number: str) -> str:
    return number.rstrip("0").rstrip(".") if "." in number else number


def unit_input(
    description: str,
    unit: str,
    lang: str,
    *,
    currency: str = "TWD",
    value: float | None = None,
    style: dict[str, Any] | None = None,
) -> Any:
    """A text box for a number in ``unit``; its description ends with the unit (``目標值（%）``).

    ``continuous_update=False``: the value is sent when the user presses Enter or leaves the
    box, so half-typed numbers are never checked.
    """
    import ipywidgets as widgets

    suffix = unit_suffix(unit, lang, currency)
    label = (
        f"{description}（{suffix}）"
        if suffix and lang == "zh-TW"
        else (f"{description} ({suffix})" if suffix else description)
    )
    return widgets.Text(
        value=input_text(value, unit),
        description=label,
        continuous_update=False,
        placeholder=input_text(
            0.25 if unit in PERCENT_UNITS else 1_000_000 if unit == "currency" else None, unit
        ),
        style=style or {},
    )
