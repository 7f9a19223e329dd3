"""Validate a table against its contract and describe every problem in words a client can act on.

Two steps, both reporting problems instead of stopping at the first one:

1. :func:`coerce` parses each present column into its contract dtype (dates, numbers,
   categories, strings) and reports the cells that cannot be parsed, with their original text.
2. :func:`check` runs the contract's rules on the typed table: required columns filled, unique
   ids, bounds, allowed categories, date order and conditional requirements (as one lazy pandera
   ``DataFrameSchema``), then adds warnings for suspicious but usable data (future dates, extreme
   outliers in money columns).

Problems carry 1-based spreadsheet row numbers taken from ``rows`` (``rows[i]`` is the row a
spreadsheet user sees for ``frame.iloc[i]``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from kpitools._errors import Problem
from kpitools.io._dates import check_date_format, read_dates
from kpitools.io._numbers import ParsedNumbers, check_decimal, currency_codes, read_numbers
from kpitools.io._parse import Finding, parse_categories, parse_strings
from kpitools.schemas._contract import ColumnSpec, TableSpec

if TYPE_CHECKING:
    import pandera.pandas as pa

__all__ = [
    "MAX_VALUES_SHOWN",
    "OUTLIER_MEDIAN_MULTIPLE",
    "OUTLIER_MIN_VALUES",
    "ValueOptions",
    "build_schema",
    "check",
    "coerce",
    "complete",
]

#: Offending values quoted per problem (all row numbers are kept).
MAX_VALUES_SHOWN = 5
#: A money value above this multiple of the column's median gives an "extreme value" warning.
OUTLIER_MEDIAN_MULTIPLE = 20
#: The outlier warning needs at least this many values for the median to mean something.
OUTLIER_MIN_VALUES = 5

_DATE_HINT = "write dates as 2024-01-05, 2024/1/5 or ROC 113/01/05 (Excel date cells work too)."
_NUMBER_HINT = (
    "write numbers as 1234, 1,234, NT$1,234, (1,234) for a negative or 12% for a rate; "
    "remove other words and units."
)


@dataclass(frozen=True)
class ValueOptions:
    """How a file writes its values (client.yml table options / loader arguments).

    ``date_format``: "auto" or an order of ``DATE_FORMATS``; ``decimal``: "auto", "." or ",";
    ``currency``: the currency amounts must be in (the client's, "TWD" by default);
    ``dollar_is``: the currency a bare "$" stands for, when the user declared it.
    """

    date_format: str = "auto"
    decimal: str = "auto"
    currency: str | None = "TWD"
    dollar_is: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "date_format", check_date_format(self.date_format))
        object.__setattr__(self, "decimal", check_decimal(self.decimal))


_AT_MOST_HINTS = {
    "discount": "a discount cannot exceed the amount before discounts: check whether the amount "
    "column is already after discounts (then leave the discount column out) and whether the two "
    "columns are swapped.",
    "engaged_sessions": "engaged sessions are part of sessions: check that both columns come from "
    "the same GA4 report and dimension (GA4 estimates counts, so up to 5% above is only a "
    "warning).",
}


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _problem(
    message: str,
    column: str | None,
    positions: np.ndarray,
    rows: np.ndarray,
    values: pd.Series | list | None = None,
    hint: str | None = None,
    severity: str = "error",
) -> Problem:
    positions = np.asarray(positions, dtype=int)
    shown: tuple[object, ...] = ()
    if values is not None:
        shown = tuple(_plain(v) for v in list(values)[:MAX_VALUES_SHOWN])
    return Problem(
        message,
        column=column,
        rows=tuple(int(r) for r in rows[positions]),
        values=shown,
        hint=hint,
        severity=severity,
    )


def _plain(value: object) -> object:
    """Python scalars for messages: 1200.0 not np.float64(1200.0), dates as text."""
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, np.generic):
        return value.item()
    return value


# --- step 1: types -----------------------------------------------------------------------------


def coerce(
    frame: pd.DataFrame,
    spec: TableSpec,
    rows: np.ndarray,
    options: ValueOptions | None = None,
) -> tuple[pd.DataFrame, list[Problem]]:
    """Parse every canonical column present in ``frame`` into its contract dtype.

    Returns a new frame (columns in the order given) and the parse problems. Cells that cannot be
    parsed (or whose date order, decimal convention or currency is unclear) become missing
    values in the new frame. A number column whose values do not settle the decimal convention
    takes the one of the file's other number columns; a date column likewise takes the date
    order of the file's other date columns when that order is one of its possible readings.
    """
    options = options or ValueOptions()
    out: dict[str, pd.Series] = {}
    problems: list[Problem] = []
    numbered = _numbers_of_file(frame, spec, options)
    dated = {
        name: read_dates(frame[name].reset_index(drop=True), options.date_format)
        for name in frame.columns
        if name in spec.columns and spec.columns[name].dtype == "date"
    }
    orders = {p.order for p in dated.values() if p.order is not None}
    for name in frame.columns:
        column = spec.columns.get(name)
        values = frame[name].reset_index(drop=True)
        if column is None:
            out[name] = values
            continue
        findings: tuple[Finding, ...] = ()
        if column.dtype == "date":
            parsed_dates = dated[name]
            shared = orders & set(parsed_dates.fitting)
            if parsed_dates.order is None and len(shared) == 1:
                parsed_dates = read_dates(values, shared.pop())
            parsed, bad, findings = parsed_dates.dates, parsed_dates.bad, parsed_dates.findings
            what = ("value is not a date", "values are not dates")
            hint = _DATE_HINT
        elif column.is_number:
            numbers = numbered[name]
            parsed, bad, findings = numbers.numbers, numbers.bad, numbers.findings
            what = ("value is not a number", "values are not numbers")
            hint = _NUMBER_HINT
        elif column.dtype == "category":
            parsed, bad = parse_categories(values, column.value_aliases), None
        else:
            parsed, bad = parse_strings(values), None
            if name == "currency" and options.currency:
                problems.extend(_other_currency(values, options.currency, rows))
        out[name] = parsed
        if bad is not None and bad.any():
            positions = np.flatnonzero(bad.to_numpy())
            problems.append(
                _problem(
                    _plural(len(positions), *what),
                    name,
                    positions,
                    rows,
                    [str(v) for v in values.iloc[positions[:MAX_VALUES_SHOWN]]],
                    hint,
                )
            )
        for finding in findings:
            positions = np.flatnonzero(finding.cells.to_numpy(dtype=bool))
            problems.append(
                _problem(
                    finding.message,
                    name,
                    positions,
                    rows,
                    [str(v) for v in values.iloc[positions[:MAX_VALUES_SHOWN]]],
                    finding.hint,
                    severity=finding.severity,
                )
            )
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame))), problems


def _other_currency(values: pd.Series, expected: str, rows: np.ndarray) -> list[Problem]:
    """Rows whose ``currency`` column names another currency than the client's."""
    codes = currency_codes(values)
    odd = (codes.notna() & (codes != expected.upper())).to_numpy()
    if not odd.any():
        return []
    positions = np.flatnonzero(odd)
    found = ", ".join(f"{c} ({n})" for c, n in codes[odd].value_counts().sort_index().items())
    return [
        _problem(
            f"{_plural(len(positions), 'row is', 'rows are')} in {found}, but amounts must be in "
            f"{expected.upper()}",
            "currency",
            positions,
            rows,
            [str(v) for v in values.iloc[positions[:MAX_VALUES_SHOWN]]],
            f"kpitools does not convert currencies: export or convert the amounts in "
            f"{expected.upper()}, or set currency: in client.yml to the client's reporting "
            "currency.",
        )
    ]


def _numbers_of_file(
    frame: pd.DataFrame, spec: TableSpec, options: ValueOptions
) -> dict[str, ParsedNumbers]:
    """Every number column parsed; a column that its own values leave undecided (only
    ``1,234``- or ``1.234``-like values) is read again with the decimal convention the file's
    other number columns agree on, when they agree on one."""

    def read(name: str, fallback: str | None = None) -> ParsedNumbers:
        return read_numbers(
            frame[name].reset_index(drop=True),
            decimal=options.decimal,
            fallback=fallback,
            currency=options.currency,
            dollar_is=options.dollar_is,
            money=spec.columns[name].money,
        )

    names = [n for n in frame.columns if n in spec.columns and spec.columns[n].is_number]
    parsed = {name: read(name) for name in names}
    agreed = {p.decimal for p in parsed.values() if p.settled and p.decimal is not None}
    undecided = [name for name, p in parsed.items() if not p.settled]
    if len(agreed) == 1 and undecided:
        (fallback,) = agreed
        parsed.update({name: read(name, fallback) for name in undecided})
    return parsed


def complete(frame: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    """Canonical columns in contract order; absent optional columns added as defaults or nulls.

    Defaults also fill empty cells of a present column (e.g. a blank discount means 0).
    """
    n = len(frame)
    out: dict[str, pd.Series] = {}
    for name, column in spec.columns.items():
        if name in frame.columns:
            values = frame[name]
            if column.default is not None:
                values = values.fillna(_typed_default(column))
        else:
            values = _empty(column, n)
        out[name] = values.astype(_dtype(column))
    return pd.DataFrame(out, index=pd.RangeIndex(n))


def _dtype(column: ColumnSpec) -> str:
    if column.dtype == "date":
        return "datetime64[ns]"
    if column.is_number:
        return "float64"
    return "str"


def _typed_default(column: ColumnSpec) -> object:
    if column.is_number:
        return float(column.default)
    if column.dtype == "date":
        return pd.Timestamp(column.default)
    return str(column.default)


def _empty(column: ColumnSpec, n: int) -> pd.Series:
    if column.default is not None:
        return pd.Series([_typed_default(column)] * n, dtype=_dtype(column))
    if column.dtype == "date":
        return pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]")
    if column.is_number:
        return pd.Series(np.nan, index=range(n), dtype="float64")
    return pd.Series([None] * n, dtype="str")


# --- step 2: rules -----------------------------------------------------------------------------


def build_schema(spec: TableSpec, present: set[str]) -> pa.DataFrameSchema:
    """A pandera schema for the rules of ``spec`` that fit pandera, with our own check names.

    Only columns in ``present`` get "required" (non-null) rules: a missing column is reported
    once by the loader, not again as thousands of empty cells.
    """
    import pandera.pandas as pa  # on first use: 0.2 s of imports a cached client never needs

    columns: dict[str, pa.Column] = {}
    for name, column in spec.columns.items():
        checks = []
        if column.min is not None:
            checks.append(pa.Check.ge(column.min, error=f"min:{column.min}"))
        if column.max is not None:
            checks.append(pa.Check.le(column.max, error=f"max:{column.max}"))
        if column.allowed:
            checks.append(pa.Check.isin(list(column.allowed), error="allowed"))
        columns[name] = pa.Column(
            checks=checks,
            nullable=not (column.required and name in present),
            unique=column.unique and name in present,
            required=False,
        )
    table_checks = []
    for first, second in spec.date_order:
        table_checks.append(
            pa.Check(
                lambda df, a=first, b=second: ~(df[b] < df[a]),
                error=f"date_order:{first}:{second}",
            )
        )
    for needed, tested, values in spec.required_if:
        if needed in present and tested in present:
            table_checks.append(
                pa.Check(
                    lambda df, c=needed, t=tested, v=values: ~(df[t].isin(v) & df[c].isna()),
                    error=f"required_if:{needed}:{tested}",
                )
            )
    return pa.DataFrameSchema(columns, checks=table_checks, name=spec.name)


def check(
    frame: pd.DataFrame,
    spec: TableSpec,
    rows: np.ndarray,
    present: set[str] | None = None,
    today: dt.date | None = None,
    reported: list[Problem] = (),
) -> list[Problem]:
    """Every rule violation (errors) and suspicious value (warnings) of a typed, complete frame.

    ``present`` names the columns the file really had (absent optional ones were added empty);
    ``reported`` are the parse problems already found: a cell that was not a date is not
    reported a second time as an empty cell.
    """
    import pandera.pandas as pa  # on first use: 0.2 s of imports a cached client never needs

    present = set(frame.columns) if present is None else present
    problems: list[Problem] = []
    schema = build_schema(spec, present)
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        already = {(p.column, row) for p in reported for row in p.rows}
        if already:
            case_rows = rows[cases["index"].fillna(0).astype(int).to_numpy()]
            repeat = [
                check_name == "not_nullable" and (column, int(row)) in already
                for check_name, column, row in zip(
                    cases["check"], cases["column"], case_rows, strict=True
                )
            ]
            cases = cases[~np.asarray(repeat, dtype=bool)]
        problems.extend(_describe_failures(cases, frame, spec, rows))
    problems.extend(_at_most(frame, spec, rows, present))
    problems.extend(_warnings(frame, spec, rows, present, today))
    return problems


def _at_most(
    frame: pd.DataFrame, spec: TableSpec, rows: np.ndarray, present: set[str]
) -> list[Problem]:
    """Rows where a column exceeds the one it is part of (discount > amount…)."""
    problems: list[Problem] = []
    for smaller, larger, tolerance in spec.at_most:
        if smaller not in present or larger not in present:
            continue
        a, b = frame[smaller], frame[larger]
        above = (a > b).to_numpy()
        far = (a > b * (1 + tolerance)).to_numpy()
        for mask, severity in ((far, "error"), (above & ~far, "warning")):
            if not mask.any():
                continue
            positions = np.flatnonzero(mask)
            shown = positions[:MAX_VALUES_SHOWN]
            values = [
                f"{smaller} {_plain(x):g}, {larger} {_plain(y):g}"
                for x, y in zip(a.iloc[shown], b.iloc[shown], strict=True)
            ]
            margin = f" by more than {tolerance:.0%}" if tolerance and severity == "error" else ""
            problems.append(
                _problem(
                    f"{_plural(len(positions), 'row has', 'rows have')} {smaller} larger than "
                    f"{larger}{margin}",
                    smaller,
                    positions,
                    rows,
                    values,
                    hint=_AT_MOST_HINTS.get(
                        smaller, f"{smaller} is part of {larger} and cannot exceed it."
                    ),
                    severity=severity,
                )
            )
    return problems


def _describe_failures(
    cases: pd.DataFrame, frame: pd.DataFrame, spec: TableSpec, rows: np.ndarray
) -> list[Problem]:
    problems: list[Problem] = []
    cases = cases[cases["index"].notna()]
    seen: set[str] = set()
    # Keep contract column order, then table rules, for a stable report.
    order = {name: i for i, name in enumerate(spec.columns)}
    keys = cases[["check", "column"]].drop_duplicates()
    keys = keys.assign(
        _table=keys["check"].str.contains(":") & ~keys["check"].str.match(r"(?:min|max):"),
        _order=keys["column"].map(order).fillna(len(order)),
    ).sort_values(["_table", "_order"])
    for check_name, column in keys[["check", "column"]].itertuples(index=False):
        if check_name.startswith(("date_order:", "required_if:")):
            if check_name in seen:
                continue
            seen.add(check_name)
            chosen = cases[cases["check"] == check_name]
            positions = np.unique(chosen["index"].astype(int).to_numpy())
            problems.append(_table_rule(check_name, positions, frame, rows))
            continue
        chosen = cases[(cases["check"] == check_name) & (cases["column"] == column)]
        positions = chosen["index"].astype(int).to_numpy()
        order_by = np.argsort(positions, kind="stable")
        positions = positions[order_by]
        values = chosen["failure_case"].to_numpy()[order_by]
        problems.append(_column_rule(check_name, column, positions, values, spec, rows))
    return problems


def _column_rule(
    check_name: str,
    column: str,
    positions: np.ndarray,
    values: np.ndarray,
    spec: TableSpec,
    rows: np.ndarray,
) -> Problem:
    n = len(positions)
    col = spec.columns[column]
    if check_name == "not_nullable":
        return _problem(
            _plural(n, "empty cell", "empty cells") + " in a required column",
            column,
            positions,
            rows,
            hint=f"fill in every row of the required columns {spec.required}, "
            "or remove the incomplete rows.",
        )
    if check_name == "field_uniqueness":
        return _problem(
            _plural(n, "row repeats", "rows repeat") + " an id that must be unique",
            column,
            positions,
            rows,
            values,
            hint=f"each {column} may appear only once; "
            "remove duplicate rows or give each its own id.",
        )
    if check_name.startswith("min:"):
        if col.min == 0:
            message = _plural(n, "negative value", "negative values")
            hint = (
                f"{column} must be 0 or more; record refunds and credit notes separately "
                "(e.g. as a discount) rather than as negative amounts."
            )
        else:
            message = f"{_plural(n, 'value', 'values')} below the minimum {col.min:g}"
            hint = (
                f"{column} must be between {col.min:g} and {col.max:g}."
                if col.max is not None
                else f"{column} must be at least {col.min:g}."
            )
        return _problem(message, column, positions, rows, values, hint)
    if check_name.startswith("max:"):
        message = f"{_plural(n, 'value', 'values')} above the maximum {col.max:g}"
        hint = (
            f"{column} must be between {col.min:g} and {col.max:g}."
            if col.min is not None
            else f"{column} must be at most {col.max:g}."
        )
        return _problem(message, column, positions, rows, values, hint)
    if check_name == "allowed":
        message = f"{_plural(n, 'value is', 'values are')} not one of {list(col.allowed)}"
        hint = f"use one of {list(col.allowed)} in {column} (upper or lower case both work)."
        return _problem(message, column, positions, rows, values, hint)
    return _problem(
        f"{_plural(n, 'value fails', 'values fail')} check {check_name}",
        column,
        positions,
        rows,
        values,
    )


def _table_rule(
    check_name: str, positions: np.ndarray, frame: pd.DataFrame, rows: np.ndarray
) -> Problem:
    kind, first, second = check_name.split(":")
    n = len(positions)
    shown = positions[:MAX_VALUES_SHOWN]
    if kind == "date_order":
        values = [
            f"{first} {_plain(a)}, {second} {_plain(b)}"
            for a, b in zip(frame[first].iloc[shown], frame[second].iloc[shown], strict=True)
        ]
        return _problem(
            f"{_plural(n, 'row has', 'rows have')} {second} before {first}",
            second,
            positions,
            rows,
            values,
            hint=f"{second} must be on or after {first}; "
            "check whether the two columns are swapped.",
        )
    needed, tested = first, second
    values = [str(v) for v in frame[tested].iloc[shown]]
    return _problem(
        f"{_plural(n, 'row has', 'rows have')} no {needed} although {tested} says it is closed",
        needed,
        positions,
        rows,
        values,
        hint=f"give every closed row (by {tested}) its {needed}.",
    )


def _warnings(
    frame: pd.DataFrame,
    spec: TableSpec,
    rows: np.ndarray,
    present: set[str],
    today: dt.date | None,
) -> list[Problem]:
    problems: list[Problem] = []
    today_stamp = pd.Timestamp(today or dt.date.today())
    for name, column in spec.columns.items():
        if name not in present:
            continue
        values = frame[name]
        if column.warn_future:
            future = values > today_stamp
            if future.any():
                positions = np.flatnonzero(future.to_numpy())
                problems.append(
                    _problem(
                        f"{_plural(len(positions), 'date is', 'dates are')} in the future "
                        f"(after {today_stamp.date().isoformat()})",
                        name,
                        positions,
                        rows,
                        values.iloc[positions[:MAX_VALUES_SHOWN]],
                        hint="check the year of future dates (a ROC year such as 113 must be "
                        "written 113/01/05 or 民國113年).",
                        severity="warning",
                    )
                )
        if column.money:
            positive = values[values > 0]
            if len(positive) >= OUTLIER_MIN_VALUES:
                median = float(positive.median())
                extreme = values > OUTLIER_MEDIAN_MULTIPLE * median
                if extreme.any():
                    positions = np.flatnonzero(extreme.to_numpy())
                    problems.append(
                        _problem(
                            f"{_plural(len(positions), 'value is', 'values are')} more than "
                            f"{OUTLIER_MEDIAN_MULTIPLE}x the median ({median:,.0f})",
                            name,
                            positions,
                            rows,
                            values.iloc[positions[:MAX_VALUES_SHOWN]],
                            hint="check extreme amounts for extra zeros or a different currency.",
                            severity="warning",
                        )
                    )
    return problems
