"""Parse numbers and money amounts, deciding the decimal convention and checking currency marks.

Every parser works on a whole column at once (vectorised string operations, no row loops). A
value that cannot be read one way only is never guessed: it is named in a :class:`Finding`.

Notation
    ``1234``, ``1,234``, ``NT$1,234``, ``1,234元``, ``TWD 1234``, ``(1,234)`` (accounting
    negative), ``−1,234`` (Unicode minus), full-width ``１２３４``, ``12%`` → 0.12 (not in money
    columns), ``3.5萬`` → 35000, ``1e3``.
Decimal convention (``decimal=``)
    ``"."`` reads ``1,234.56``; ``","`` reads ``1.234,56`` (and ``100,50`` = 100.5). ``"auto"``
    decides per column from the values that can only be read one way (``1,234.56``, ``12.5``,
    ``1,234,567`` → point; ``1.234,56``, ``100,50``, ``1.234.567`` → comma), then from the
    other number columns of the file (``fallback``). A column left with ``1,234``-like values
    only reads them with the point (a thousands comma: Taiwanese and US habit); one left with
    ``1.234``-like values only is ambiguous (1.234 or 1234) and refused; a column holding both
    conventions is refused.
Currency (``currency=``)
    The currency the amounts must be in. A value marked with another currency (``US$``,
    ``USD``, ``€``…) is refused; so is a column that mixes currencies, and a bare ``$`` unless
    ``dollar_is`` says which dollar it is. ``NT$``, ``NTD``, ``TWD``, ``元``, ``圓`` and ``塊``
    are Taiwan dollars.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kpitools._errors import KpitoolsError
from kpitools.io._parse import Finding, _as_text, _is_number

__all__ = [
    "DECIMAL_MARKS",
    "ParsedNumbers",
    "check_decimal",
    "currency_codes",
    "parse_numbers",
    "read_numbers",
]

#: The decimal conventions ``decimal=`` accepts (besides "auto").
DECIMAL_MARKS = (".", ",")
#: One 萬 (wan) = ten thousand.
WAN = 10_000
#: A percentage is a hundredth.
PERCENT = 100

# Mark as written (NFKC-normalised, upper case) → ISO 4217 code; "$" and "¥" stay themselves
# because they do not say which dollar or yen they are.
_MARK_CODES = {
    "NT$": "TWD",
    "NTD": "TWD",
    "TWD": "TWD",
    "新台幣": "TWD",
    "新臺幣": "TWD",
    "台幣": "TWD",
    "臺幣": "TWD",
    "元": "TWD",
    "圓": "TWD",
    "塊": "TWD",
    "US$": "USD",
    "USD": "USD",
    "美元": "USD",
    "美金": "USD",
    "HK$": "HKD",
    "HKD": "HKD",
    "港幣": "HKD",
    "S$": "SGD",
    "SGD": "SGD",
    "A$": "AUD",
    "AUD": "AUD",
    "C$": "CAD",
    "CAD": "CAD",
    "€": "EUR",
    "EUR": "EUR",
    "£": "GBP",
    "GBP": "GBP",
    "JPY": "JPY",
    "円": "JPY",
    "日圓": "JPY",
    "日幣": "JPY",
    "CNY": "CNY",
    "RMB": "CNY",
    "人民幣": "CNY",
    "$": "$",
    "¥": "¥",
}
#: A bare "$" is this currency without being declared (it is the everyday sign there).
_DOLLAR_HOME = {"USD"}
_YEN_HOMES = {"JPY", "CNY"}
_MARKS = re.compile(
    "|".join(re.escape(m) for m in sorted(_MARK_CODES, key=len, reverse=True)), re.IGNORECASE
)
# Point convention: 1,234,567.89 / 1234.5 / .5 / 1e3 ; comma convention: 1.234.567,89 / 100,5.
_POINT_FORM = re.compile(
    r"[+-]?(?:[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?|\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)"
)
_COMMA_FORM = re.compile(r"[+-]?(?:[1-9]\d{0,2}(?:\.\d{3})+(?:,\d+)?|\d+(?:,\d*)?|,\d+)")
_DECIMAL_SPELLINGS = {"point": ".", "dot": ".", "period": ".", "comma": ",", "，": ","}


@dataclass(frozen=True)
class ParsedNumbers:
    """The outcome of :func:`read_numbers` for one column.

    ``decimal`` is the convention used ("." or ",", None when the column has no text);
    ``settled`` is False when it was not given and no value decided it (only ``1,234`` or
    ``1.234``-like values: the file's other columns may); ``marks`` maps each currency found
    to its number of cells.
    """

    numbers: pd.Series
    bad: pd.Series
    findings: tuple[Finding, ...] = ()
    decimal: str | None = None
    marks: dict[str, int] | None = None
    settled: bool = True


def check_decimal(decimal: str | None) -> str:
    """The canonical spelling of a ``decimal`` option; a KpitoolsError for unknown ones.

    >>> check_decimal("comma"), check_decimal("."), check_decimal(None)
    (',', '.', 'auto')
    """
    if decimal is None:
        return "auto"
    key = str(decimal).strip().casefold()
    key = _DECIMAL_SPELLINGS.get(key, key)
    if key not in ("auto", *DECIMAL_MARKS):
        raise KpitoolsError(
            f"unknown decimal {decimal!r}. Known: ['auto', '.', ',']\n"
            "Hint: decimal: ',' reads 1.234,56 as 1234.56 (European exports); "
            "decimal: '.' reads 1,234.56."
        )
    return key


def currency_codes(values: pd.Series) -> pd.Series:
    """ISO codes of a column of currency names or marks (``NT$`` → TWD, ``usd`` → USD).

    >>> currency_codes(pd.Series(["TWD", "usd", "新台幣"])).tolist()
    ['TWD', 'USD', 'TWD']
    """
    text = _as_text(pd.Series(values).astype(object))
    return text.map(lambda v: _MARK_CODES.get(v.upper(), v.upper()), na_action="ignore")


def parse_numbers(values: pd.Series, decimal: str = "auto") -> tuple[pd.Series, pd.Series]:
    """Parse numbers and money amounts as written in client exports.

    Returns ``(numbers, bad)``: float64 (NaN where missing, unparseable or refused) and True
    where a non-empty cell was not read as a number. :func:`read_numbers` also says *why*.

    >>> nums, bad = parse_numbers(pd.Series(["NT$1,234", "1,234元", "(1,234)", "１２３４", "12%"]))
    >>> nums.tolist()
    [1234.0, 1234.0, -1234.0, 1234.0, 0.12]
    """
    parsed = read_numbers(values, decimal=decimal)
    bad = parsed.bad.copy()
    for finding in parsed.findings:
        if finding.severity == "error":
            bad |= finding.cells
    return parsed.numbers, bad


def _clean(text: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series, pd.Series]:
    """``(number text, currency mark, negative, percent, wan)`` of non-empty text cells."""
    t = text.str.replace("\u2212", "-", regex=False)  # Unicode minus sign
    negative = t.str.fullmatch(r"\(.*\)")
    t = t.where(~negative, t.str.slice(1, -1))
    mark = t.str.extract(f"({_MARKS.pattern})", flags=re.IGNORECASE)[0]
    mark = mark.str.upper().map(lambda m: _MARK_CODES.get(m, m), na_action="ignore")
    t = t.str.replace(_MARKS, "", regex=True).str.replace(r"[\s']", "", regex=True)
    percent = t.str.endswith("%")
    wan = t.str.endswith("萬")
    t = t.str.replace(r"[%萬]$", "", regex=True)
    return t, mark, negative, percent, wan


def _forms(t: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    point = t.str.fullmatch(_POINT_FORM).fillna(False).astype(bool)
    comma = t.str.fullmatch(_COMMA_FORM).fillna(False).astype(bool)
    has_sep = t.str.contains(r"[.,]").fillna(False).astype(bool)
    return point, comma, has_sep


def read_numbers(
    values: pd.Series,
    *,
    decimal: str = "auto",
    fallback: str | None = None,
    currency: str | None = None,
    dollar_is: str | None = None,
    money: bool = False,
) -> ParsedNumbers:
    """Parse a column of numbers; report the cells that cannot be read one way only.

    Parameters
    ----------
    decimal
        "auto", "." or "," (see the module docstring).
    fallback
        The convention of the file's other number columns, used by "auto" when this column
        has no value that settles it.
    currency
        The currency amounts must be in (ISO code, e.g. "TWD"); None checks only that a column
        does not mix currencies (a bare "$" is then accepted).
    dollar_is
        The currency a bare "$" stands for in this file (declared by the user), or None.
    money
        A money column: percentages are refused there.

    >>> parsed = read_numbers(pd.Series(["1.234,56", "2.000,00", "100,50"]))
    >>> parsed.decimal, parsed.numbers.tolist()
    (',', [1234.56, 2000.0, 100.5])
    >>> read_numbers(pd.Series(["US$1,000"]), currency="TWD").findings[0].message
    '1 value is marked USD, but amounts must be in TWD'
    """
    decimal = check_decimal(decimal)
    values = pd.Series(values)
    index = values.index
    no_cells = pd.Series(False, index=index)
    if pd.api.types.is_bool_dtype(values.dtype):
        return ParsedNumbers(pd.Series(np.nan, index=index, dtype="float64"), values.notna())
    if pd.api.types.is_numeric_dtype(values.dtype):
        numbers, bad, findings = _refuse_infinite(values.astype("float64"), no_cells, [])
        return ParsedNumbers(numbers, bad, tuple(findings))

    obj = values.astype(object)
    present = obj.notna()
    plain = _plain_integers(values)
    # a column of pandas' string dtype holds no number objects: skip looking at each cell
    text_only = isinstance(values.dtype, pd.StringDtype)
    is_num = no_cells if text_only else obj.map(_is_number) & present
    result = pd.Series(np.nan, index=index, dtype="float64")
    if is_num.any():
        result[is_num] = obj[is_num].astype("float64")
    if plain.any():
        result[plain] = obj[plain].astype("float64")

    findings: list[Finding] = []
    text = _as_text(obj.where(present & ~is_num & ~plain, None))
    todo = text.notna()
    used: str | None = None
    settled = True
    marks: dict[str, int] = {}
    if plain.any() and not todo.any():
        # what _decide_decimal answers for texts without a separator
        used = decimal if decimal in DECIMAL_MARKS else (
            fallback if fallback in DECIMAL_MARKS else ".")
    if todo.any():
        t, mark, negative, percent, wan = _clean(text[todo])
        point, comma, has_sep = _forms(t)
        used, finding, refused = _decide_decimal(t, point, comma, has_sep, decimal, fallback)
        settled = decimal in DECIMAL_MARKS or fallback in DECIMAL_MARKS or not has_sep.any()
        settled = settled or bool((point ^ comma)[has_sep].any())
        if finding is not None:
            findings.append(_on_index(finding, index))
        if used == ",":
            readable = comma
            t = t.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
        else:
            readable = point
            t = t.str.replace(",", "", regex=False)
        number = pd.to_numeric(t.where(readable & ~refused), errors="coerce").astype("float64")
        number = number.where(~percent, number / PERCENT).where(~wan, number * WAN)
        number = number.where(~negative, -number.abs())
        if money and percent.any():
            findings.append(_percent_in_money(_widen(percent & number.notna(), index)))
            number = number.where(~percent)
        currency_findings, foreign = _check_marks(mark, currency, dollar_is, index)
        findings.extend(currency_findings)
        number = number.where(~foreign)
        marks = {str(k): int(v) for k, v in mark.value_counts().items()}
        result[t.index] = number
    bad = present & result.isna() & (is_num | text.notna())
    for finding in findings:
        bad &= ~finding.cells
    result, bad, findings = _refuse_infinite(result, bad, findings)
    return ParsedNumbers(result, bad, tuple(findings), used, marks or None, settled)


#: Text that is a whole number written plainly (ASCII digits, maybe a sign): the usual cell of
#: a count or amount column. It reads one way only, whatever the decimal convention, and has
#: no mark, so it skips the general parser (most of a loader's time on real exports).
_PLAIN_INTEGER = r"[+-]?[0-9]+"


def _plain_integers(values: pd.Series) -> pd.Series:
    """True where a cell is a string of :data:`_PLAIN_INTEGER` (vectorised; no row loop for
    pandas' string dtypes)."""
    if not (isinstance(values.dtype, pd.StringDtype) or values.dtype == object):
        return pd.Series(False, index=values.index)
    try:
        found = values.str.fullmatch(_PLAIN_INTEGER)
    except AttributeError:  # an object column without any string
        return pd.Series(False, index=values.index)
    return found.fillna(False).astype(bool)


def _widen(mask: pd.Series, index: pd.Index) -> pd.Series:
    out = pd.Series(False, index=index)
    out[mask.index] = mask.to_numpy(dtype=bool)
    return out


def _on_index(finding: Finding, index: pd.Index) -> Finding:
    return Finding(finding.message, _widen(finding.cells, index), finding.hint, finding.severity)


def _decide_decimal(
    t: pd.Series,
    point: pd.Series,
    comma: pd.Series,
    has_sep: pd.Series,
    decimal: str,
    fallback: str | None,
) -> tuple[str, Finding | None, pd.Series]:
    """``(convention, finding or None, cells refused)`` for the number texts ``t``."""
    refused = pd.Series(False, index=t.index)
    if decimal in DECIMAL_MARKS:
        return decimal, None, refused
    point_only = point & ~comma & has_sep
    comma_only = comma & ~point & has_sep
    if point_only.any() and comma_only.any():
        minority = comma_only if comma_only.sum() <= point_only.sum() else point_only
        majority = "." if minority is comma_only else ","
        return (
            majority,
            Finding(
                f"{minority.sum()} values use the other decimal convention: the column has "
                f"{point_only.sum()} like 1,234.56 and {comma_only.sum()} like 1.234,56",
                minority,
                "one column must use one convention; fix the odd values, or set decimal: '.' "
                "or decimal: ',' for this table in client.yml (decimal= in the loader).",
            ),
            minority,
        )
    if comma_only.any():
        return ",", None, refused
    if point_only.any():
        return ".", None, refused
    if fallback in DECIMAL_MARKS:
        return fallback, None, refused
    # Left: 1,234 (a thousands comma by habit) and 1.234 (1.234 or 1234?).
    unclear = point & comma & t.str.contains(".", regex=False)
    if unclear.any():
        n = int(unclear.sum())
        return (
            ".",
            Finding(
                f"{n} {'value reads' if n == 1 else 'values read'} two ways: "
                f"{t[unclear].iloc[0]!r} is {t[unclear].iloc[0]} with a decimal point or "
                f"{t[unclear].iloc[0].replace('.', '')} with a thousands point",
                unclear,
                "set decimal: '.' (1.234 is one point two three four) or decimal: ',' "
                "(1.234 is one thousand two hundred thirty-four) for this table in client.yml, "
                "or decimal= in the loader.",
            ),
            unclear,
        )
    return ".", None, refused


def _percent_in_money(cells: pd.Series) -> Finding:
    n = int(cells.sum())
    return Finding(
        f"{n} {'value is a percentage' if n == 1 else 'values are percentages'} in a money column",
        cells,
        "money columns hold amounts; turn a rate into an amount (e.g. a 12% discount on "
        "NT$1,000 is 120) before loading.",
    )


def _check_marks(
    mark: pd.Series, currency: str | None, dollar_is: str | None, index: pd.Index
) -> tuple[list[Finding], pd.Series]:
    """Findings about currency marks, and the cells whose amounts must not be used."""
    code = mark.copy()
    if dollar_is:
        code = code.replace("$", dollar_is.upper())
    elif currency and currency.upper() in _DOLLAR_HOME:
        code = code.replace("$", currency.upper())
    if currency and currency.upper() in _YEN_HOMES:
        code = code.replace("¥", currency.upper())
    expected = currency.upper() if currency else None
    found = code.dropna()
    kinds = sorted(found.unique())
    refused = pd.Series(False, index=mark.index)
    findings: list[Finding] = []
    if not kinds:
        return findings, refused
    if len(kinds) > 1:
        odd = found != (expected if expected in kinds else found.mode().iloc[0])
        cells = _widen(odd.reindex(mark.index, fill_value=False), index)
        counts = ", ".join(f"{k} ({int((found == k).sum())})" for k in kinds)
        findings.append(
            Finding(
                f"the column mixes currencies: {counts}",
                cells,
                "one column must hold one currency; convert the amounts to "
                f"{expected or 'one currency'} before loading (kpitools does not convert "
                "currencies).",
            )
        )
        refused = cells.reindex(mark.index)
        return findings, refused
    (kind,) = kinds
    cells = _widen(code.notna(), index)
    if expected is None:
        return findings, refused
    if kind == "$":
        findings.append(
            Finding(
                f"{int(cells.sum())} values carry a bare '$', which may be NT$ or US$",
                cells,
                "say which dollar it is: currency: TWD (or USD) for this table in client.yml, "
                "or currency='TWD' in the loader; amounts in another currency than the "
                "client's must be converted first.",
            )
        )
        return findings, code.notna()
    if kind == "¥":
        findings.append(
            Finding(
                f"{int(cells.sum())} values carry a bare '¥', which may be yen or yuan",
                cells,
                "write JPY or CNY, and convert the amounts to the client's currency first.",
            )
        )
        return findings, code.notna()
    if expected and kind != expected:
        n = int(cells.sum())
        findings.append(
            Finding(
                f"{n} {'value is' if n == 1 else 'values are'} marked {kind}, "
                f"but amounts must be in {expected}",
                cells,
                f"kpitools does not convert currencies: convert the amounts to {expected}, or "
                f"set currency: {kind} in client.yml if the client reports in {kind}.",
            )
        )
        return findings, code.notna()
    return findings, refused


def _refuse_infinite(
    numbers: pd.Series, bad: pd.Series, findings: list[Finding]
) -> tuple[pd.Series, pd.Series, list[Finding]]:
    """Infinite values (1e309, inf cells) are refused with their own finding."""
    infinite = pd.Series(np.isinf(numbers.to_numpy(dtype="float64")), index=numbers.index)
    if infinite.any():
        n = int(infinite.sum())
        findings = [
            *findings,
            Finding(
                f"{n} {'value is' if n == 1 else 'values are'} too large to be a number (infinite)",
                infinite,
                "check the cell: a number this large is a typing or export error.",
            ),
        ]
        numbers = numbers.where(~infinite)
        bad = bad & ~infinite
    return numbers, bad, findings
