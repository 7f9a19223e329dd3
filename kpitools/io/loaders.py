"""Load a client's file into a validated canonical table, or report every problem at once.

Each ``load_<table>`` reads one file (CSV/TSV, Excel, Parquet) or a pandas DataFrame, renames its
columns to the canonical names of ``kpitools/schemas/tables.yaml``, parses dates and amounts the
way Taiwanese exports write them, and checks the contract's rules. All problems of the file are
raised together as one :class:`~kpitools.DataValidationError`; warnings (future dates, extreme
amounts) never raise and ride on the result as ``df.attrs["kpitools_warnings"]``.

Column names are matched in this order: the ``columns=`` mapping (export header → canonical
column; ``None`` ignores a header), then the preset's mapping, then the contract's aliases.
Headers the contract does not know are dropped and listed in ``df.attrs["kpitools_unmapped"]``.

Returned dtypes: dates ``datetime64[ns]`` (midnight, naive, Asia/Taipei), numbers ``float64``,
text and categories pandas' ``str`` dtype (missing = NaN; categories lower-case).
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from kpitools._errors import DataValidationError, KpitoolsError, Problem, did_you_mean
from kpitools.io import _order_policies as policies
from kpitools.io._ga4 import TablePicker
from kpitools.io._parse import normalize_header
from kpitools.io._presets import Preset, get_preset, presets_for
from kpitools.io._read import RawTable, ReadError, read_raw
from kpitools.io._shapes import LINE_VALUE, Shape, combine_rows
from kpitools.schemas._contract import TableSpec, table_spec
from kpitools.schemas._validate import ValueOptions, check, coerce, complete

__all__ = [
    "load_churn_events",
    "load_contracts",
    "load_customers",
    "load_deals",
    "load_feedback",
    "load_goals",
    "load_marketing_spend",
    "load_orders",
    "load_quotas",
    "load_social",
    "load_table",
    "load_web_traffic",
]

#: A header counts as a "did you mean" suggestion when this similar to a column's spelling.
SUGGESTION_CUTOFF = 0.6
#: A lone header like "1 1 19970101 1 11.77": a whitespace-separated file read as one column.
_WORDS_AND_BLANKS = re.compile(r"\S[ \t]+\S")
#: A preset is suggested when at least this many of its headers are in the file.
PRESET_SUGGESTION_MIN_HEADERS = 3
#: Amounts are in this currency unless the caller or client.yml says otherwise.
DEFAULT_CURRENCY = "TWD"

Source = str | os.PathLike | pd.DataFrame | bytes


def load_table(
    name: str,
    source: Source,
    *,
    preset: str | None = None,
    columns: Mapping[str, str | None] | None = None,
    encoding: str = "auto",
    sheet: str | int | None = None,
    header_row: int | None = None,
    date_format: str = "auto",
    decimal: str = "auto",
    currency: str | None = None,
    **options: object,
) -> pd.DataFrame:
    """Load ``source`` as the canonical table ``name`` (see ``kpitools/schemas/tables.yaml``).

    Parameters
    ----------
    name
        Canonical table: customers, orders, contracts, deals, marketing_spend, goals,
        web_traffic, social, feedback, churn_events or quotas.
    source
        Path to a .csv/.tsv/.txt, .xlsx/.xlsm or .parquet file, raw CSV bytes, or a DataFrame.
    preset
        Export layout of a known tool: ``"hubspot"``, ``"salesforce"`` (deals), ``"shopify"``
        (orders) or ``"ga4"`` (web_traffic).
    columns
        Export header → canonical column, e.g. ``{"客戶": "customer_id"}``; wins over the preset.
    encoding
        ``"auto"`` detects UTF-8 (with or without BOM), UTF-16 with BOM and Big5/CP950;
        any other value is used as given.
    sheet
        Excel sheet name or 0-based position; the first sheet by default.
    header_row
        Row number (1 = first row, as the spreadsheet shows it) of the header; found
        automatically when left out.
    date_format
        Order of dates such as ``12/1/10``: ``"auto"`` decides it from all the values of a
        column and refuses a column that stays ambiguous; ``"roc"`` (民國 year/month/day),
        ``"ymd"``, ``"mdy"`` or ``"dmy"`` say it.
    decimal
        ``"auto"`` detects ``1,234.56`` versus ``1.234,56`` per column and refuses what stays
        ambiguous; ``"."`` or ``","`` say it.
    currency
        Currency of the file's amounts (ISO code). Left out, amounts must be Taiwan dollars
        (``NT$``, ``元`` or unmarked) and a bare ``$`` is refused; ``currency="TWD"`` also reads
        a bare ``$`` as NT$. Values marked with another currency are always refused.
    **options
        Shapes and policies of real exports, as in client.yml: ``refunds``, ``guests``,
        ``returns``, ``line_items``, ``stages``, ``report_table``, ``delimiter``, ``names``,
        ``order_ids`` (see :mod:`kpitools.io._shapes` and the README).

    Returns
    -------
    pandas.DataFrame
        A new frame with the contract's columns in contract order. The source file is never
        modified.

    Raises
    ------
    DataValidationError
        With every problem of the file (missing columns, unparseable values, broken rules).

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.DataFrame({"客戶編號": ["C1"], "訂單編號": ["A1"], "訂單日期": ["113/01/05"],
    ...                     "金額": ["NT$1,234"]})
    >>> orders = load_table("orders", raw)
    >>> orders.loc[0, ["order_id", "customer_id"]].tolist()
    ['A1', 'C1']
    >>> str(orders.loc[0, "order_date"].date()), float(orders.loc[0, "amount"])
    ('2024-01-05', 1234.0)
    """
    label = _label(name, source)
    frame, problems = _load(
        name,
        source,
        preset=preset,
        columns=columns,
        encoding=encoding,
        sheet=sheet,
        header_row=header_row,
        options=options,
        date_format=date_format,
        decimal=decimal,
        currency=currency,
    )
    if frame is None or any(p.severity == "error" for p in problems):
        raise DataValidationError({label: problems})
    return frame


def _label(name: str, source: object) -> str:
    if isinstance(source, str | os.PathLike):
        return Path(source).name
    if isinstance(source, pd.DataFrame):
        return f"{name} (DataFrame)"
    return f"{name} (data)"


def _load(
    name: str,
    source: Source,
    *,
    preset: str | None = None,
    columns: Mapping[str, str | None] | None = None,
    encoding: str = "auto",
    sheet: str | int | None = None,
    header_row: int | None = None,
    today: dt.date | None = None,
    options: Mapping[str, object] | None = None,
    date_format: str = "auto",
    decimal: str = "auto",
    currency: str | None = None,
    client_currency: str | None = None,
) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Load without raising for data problems: ``(frame or None, problems)``.

    Bad *arguments* (unknown table or preset, a ``columns=`` that is not a mapping, an unknown
    date_format or decimal) still raise KpitoolsError: they are the caller's mistake, not the
    file's. ``client_currency`` is the client's reporting currency (client.yml ``currency``);
    ``currency`` the currency declared for this file.
    """
    spec = table_spec(name)
    expected = str(client_currency or currency or DEFAULT_CURRENCY).upper()
    values = ValueOptions(
        date_format=date_format,
        decimal=decimal,
        currency=expected,
        dollar_is=str(currency).upper() if currency else None,
    )
    if currency and str(currency).upper() != expected:
        return None, [
            Problem(
                f"the file's amounts are declared in {str(currency).upper()}, but the client "
                f"reports in {expected}",
                hint=f"kpitools does not convert currencies: convert the amounts to {expected} "
                "before loading, or change the client's currency: in client.yml.",
            )
        ]
    chosen = get_preset(preset, name) if preset else None
    if columns is not None and not isinstance(columns, Mapping):
        raise KpitoolsError(
            f"columns must map export headers to canonical columns, got {type(columns).__name__}.\n"
            "Hint: pass a dict such as columns={'客戶': 'customer_id'}."
        )
    shape = Shape.from_options(options, name, chosen.policies if chosen else {})
    known = set(spec.header_index) | set(chosen.header_index if chosen else ())
    known |= {normalize_header(k) for k in (columns or {})}
    tables = None
    if chosen is not None and chosen.ga4_tables:
        tables = TablePicker(_fits(spec, chosen, dict(columns or {})), shape.report_table)
    try:
        raw = read_raw(
            source,
            encoding=encoding,
            sheet=sheet,
            header_row=header_row,
            known_headers=known,
            skip_comment_rows=bool(chosen and chosen.skip_comment_rows),
            stop_at_blank_row=bool(chosen and chosen.stop_at_blank_row),
            delimiter=shape.delimiter,
            names=shape.names,
            tables=tables,
        )
    except ReadError as exc:
        return None, [exc.problem]
    return _to_canonical(raw, spec, chosen, dict(columns or {}), today, shape, values)


def _fits(spec: TableSpec, preset: Preset, user_columns: dict[str, str | None]):
    """For a GA4 table's headers: the required canonical columns it lacks."""
    index = {**spec.header_index, **preset.header_index}
    index.update({normalize_header(k): v for k, v in user_columns.items() if v})

    def missing(headers: list[str]) -> list[str]:
        found = {index.get(normalize_header(h)) for h in headers}
        return [c for c in spec.required if c not in found]

    return missing


def _to_canonical(
    raw: RawTable,
    spec: TableSpec,
    preset: Preset | None,
    user_columns: dict[str, str | None],
    today: dt.date | None,
    shape: Shape | None = None,
    values: ValueOptions | None = None,
) -> tuple[pd.DataFrame, list[Problem]]:
    shape = shape or Shape.from_options(None, spec.name, preset.policies if preset else {})
    problems = list(raw.problems)
    renamed, mapping_problems, unmapped = _rename(raw.frame, spec, preset, user_columns)
    problems.extend(mapping_problems)
    renamed, found = shape.attach_raw_columns(renamed, raw.frame)
    problems.extend(found)
    rows = raw.rows
    renamed = shape.generate_order_ids(renamed, rows)
    if preset is not None:
        renamed = preset.derive_columns(renamed)
    renamed, found = shape.derive_outcome(renamed, rows, preset.stages if preset else {})
    problems.extend(found)
    if preset is not None:
        drop = preset.rows_to_drop(renamed)
        if drop.any():
            renamed = renamed.loc[~drop].reset_index(drop=True)
            rows = rows[~drop]
    derived_amount = bool(shape.line_items.get("unit_price"))
    missing = [
        c
        for c in spec.required
        if c not in renamed.columns and not (c == "amount" and derived_amount)
    ]
    headers = [str(h) for h in raw.frame.columns]
    if missing and len(headers) == 1 and _WORDS_AND_BLANKS.search(headers[0]):
        problems.append(_one_blank_separated_column(headers[0], spec))
    else:
        problems.extend(_missing_column(c, spec, headers, unmapped, preset) for c in missing)

    typed, parse_problems = coerce(renamed, spec, rows, values)
    problems.extend(parse_problems)
    if preset is not None and preset.lowercase:
        lower = [c for c in preset.lowercase if c in typed.columns]
        typed = typed.assign(**{c: typed[c].str.lower() for c in lower})
    typed, found = shape.line_values(typed)
    problems.extend(found)
    if spec.name == "orders":
        typed, rows, found = policies.net_returns(shape, typed, rows)
        problems.extend(found)
    key = shape.line_items_key(preset.line_items_key if preset else None)
    if key is not None:
        sums = (*(preset.line_items_sum if preset else ()), "quantity", LINE_VALUE)
        typed, rows = combine_rows(typed, rows, key, tuple(dict.fromkeys(sums)))
    amount_is_users = any(v == "amount" for v in user_columns.values())
    net_subtotal = bool(preset and preset.subtotal_is_net and not amount_is_users)
    if derived_amount or net_subtotal:
        typed, found = shape.amounts_from_lines(typed, subtotal_is_net=net_subtotal)
        problems.extend(found)
    present = set(typed.columns)
    if spec.name == "orders":
        typed, rows, found = policies.apply_policies(shape, typed, rows)
        problems.extend(found)
        present.discard("customer_id")  # empty customers are reported by the guests policy
    frame = complete(typed, spec)
    problems.extend(check(frame, spec, rows, present, today=today, reported=parse_problems))
    if frame.empty and not missing:
        problems.append(
            Problem(
                "the table has no rows (a header only)",
                hint="export the table again with its data; KPIs of an empty table show "
                "'—' (no data), not 0.",
                severity="warning",
            )
        )

    frame.attrs["kpitools_table"] = spec.name
    frame.attrs["kpitools_warnings"] = [p for p in problems if p.severity == "warning"]
    frame.attrs["kpitools_unmapped"] = list(unmapped)
    frame.attrs["kpitools_rows"] = RowNumbers(int(r) for r in rows)
    return frame, problems


class RowNumbers(tuple):
    """The file's row number of each row of a loaded table (``attrs["kpitools_rows"]``).

    pandas deep-copies ``attrs`` into the result of every operation on a frame. A list of row
    numbers made that cost one Python step per row each time (a second per hundred operations
    on a 5,000-row table, far more on big exports); this tuple is immutable, so a deep copy is
    the tuple itself.
    """

    __slots__ = ()

    def __deepcopy__(self, memo: dict) -> RowNumbers:
        return self

    def __copy__(self) -> RowNumbers:
        return self


def _rename(
    frame: pd.DataFrame,
    spec: TableSpec,
    preset: Preset | None,
    user_columns: dict[str, str | None],
) -> tuple[pd.DataFrame, list[Problem], list[str]]:
    """Canonical names for the file's headers: ``(renamed frame, problems, unmapped headers)``."""
    problems: list[Problem] = []
    headers = list(frame.columns)
    by_key = {normalize_header(h): h for h in reversed(headers)}  # first spelling wins
    user = {normalize_header(k): (k, v) for k, v in user_columns.items()}

    for key, (given, target) in user.items():
        if key not in by_key:
            guess = _closest(key, headers)
            also = f" (did you mean '{guess}'?)" if guess else ""
            problems.append(
                Problem(
                    f"the column mapping names '{given}', which is not in the file{also}. "
                    f"Columns present: {headers}",
                    hint="the keys of columns: are the headers exactly as they appear in the file.",
                )
            )
        if target is not None and target not in spec.columns:
            guess = did_you_mean(str(target), list(spec.columns))
            also = f" (did you mean '{guess}'?)" if guess else ""
            problems.append(
                Problem(
                    f"the column mapping sends '{given}' to '{target}', which is not a column "
                    f"of {spec.name}{also}",
                    hint=f"the values of columns: are canonical names: {list(spec.columns)}.",
                )
            )

    # (priority, rank) per header: user mapping 0, preset 1, contract 2; lower wins.
    claims: dict[str, list[tuple[int, int, str]]] = {}
    preset_index = preset.header_index if preset else {}
    preset_rank = {k: i for i, k in enumerate(preset_index)}
    spelling_rank = {
        normalize_header(s): i
        for column in spec.columns.values()
        for i, s in reversed(list(enumerate((column.name, *column.aliases))))
    }
    for header in headers:
        key = normalize_header(header)
        if key in user:
            target = user[key][1]
            if target is None or target not in spec.columns:
                continue
            claim = (0, 0, header)
        elif key in preset_index:
            target, claim = preset_index[key], (1, preset_rank[key], header)
        elif key in spec.header_index:
            target, claim = spec.header_index[key], (2, spelling_rank[key], header)
        else:
            continue
        claims.setdefault(target, []).append(claim)

    rename: dict[str, str] = {}
    for target, candidates in claims.items():
        candidates.sort()
        winner = candidates[0]
        rename[winner[2]] = target
        losers = [c[2] for c in candidates[1:]]
        if losers:
            both = [winner[2], *losers]
            severity = "error" if candidates[1][0] == 0 else "warning"
            problems.append(
                Problem(
                    f"columns {both} all match {target}; used '{winner[2]}'",
                    severity=severity,
                    hint=f"map only one header to {target}, e.g. columns={{'{losers[0]}': None}} "
                    "to ignore the other.",
                )
            )
    unmapped = [h for h in headers if h not in rename]
    renamed = frame[list(rename)].rename(columns=rename)
    return renamed, problems, unmapped


def _closest(key: str, headers: list[str]) -> str | None:
    scored = [(difflib.SequenceMatcher(None, key, normalize_header(h)).ratio(), h) for h in headers]
    best = max(scored, default=(0.0, None))
    return best[1] if best[0] >= SUGGESTION_CUTOFF else None


def _missing_column(
    column: str, spec: TableSpec, headers: list[str], unmapped: list[str], preset: Preset | None
) -> Problem:
    spellings = [normalize_header(s) for s in (column, *spec.columns[column].aliases)]
    best: tuple[float, str | None] = (0.0, None)
    for header in unmapped:
        key = normalize_header(header)
        score = max(difflib.SequenceMatcher(None, key, s).ratio() for s in spellings)
        best = max(best, (score, header), key=lambda pair: pair[0])
    guess = best[1] if best[0] >= SUGGESTION_CUTOFF else None
    also = f" (did you mean '{guess}'?)" if guess else ""
    message = f"missing column '{column}'{also}. Columns present: {headers}"
    suggestion = _suggest_preset(unmapped, spec.name) if preset is None else None
    or_preset = f", or use preset '{suggestion}'" if suggestion else ""
    if guess:
        hint = (
            f"map '{guess}' to {column} in client.yml (tables: {spec.name}: columns: "
            f"{{{guess}: {column}}}) or with columns={{'{guess}': '{column}'}}{or_preset}."
        )
    else:
        accepted = ", ".join(spec.columns[column].aliases[:4])
        hint = (
            f"add the column {column} (accepted headers include {accepted}) or map an existing "
            f"header to it in client.yml (tables: {spec.name}: columns: "
            f"{{<header>: {column}}}){or_preset}."
        )
    if column == "order_id" and spec.name == "orders":
        hint = hint[:-1] + "; or, when each row is one order, set order_ids: generate."
    return Problem(message, hint=hint)


def _one_blank_separated_column(header: str, spec: TableSpec) -> Problem:
    """A file read as one column whose header is several words: likely whitespace-separated."""
    required = ", ".join(spec.required)
    return Problem(
        f"the file has one column, '{header[:60]}': its values look separated by spaces, not "
        "by commas or tabs",
        hint=f"set delimiter: whitespace in client.yml (tables: {spec.name}:), with names: "
        f"[{required}] (null for a column to skip) when the file has no header row"
        + ("; order_ids: generate when it has no order number." if spec.name == "orders" else "."),
    )


def _suggest_preset(headers: list[str], table: str) -> str | None:
    keys = {normalize_header(h) for h in headers}
    best, best_hits = None, PRESET_SUGGESTION_MIN_HEADERS - 1
    for preset in presets_for(table):
        hits = len(keys & set(preset.header_index))
        if hits > best_hits:
            best, best_hits = preset.id, hits
    return best


# --- one loader per canonical table -------------------------------------------------------------


def _table_loader(name: str, summary: str):
    def loader(
        source: Source,
        *,
        preset: str | None = None,
        columns: Mapping[str, str | None] | None = None,
        encoding: str = "auto",
        sheet: str | int | None = None,
        header_row: int | None = None,
        date_format: str = "auto",
        decimal: str = "auto",
        currency: str | None = None,
        **options: object,
    ) -> pd.DataFrame:
        return load_table(
            name,
            source,
            preset=preset,
            columns=columns,
            encoding=encoding,
            sheet=sheet,
            header_row=header_row,
            date_format=date_format,
            decimal=decimal,
            currency=currency,
            **options,
        )

    spec = table_spec(name)
    lines = []
    for column in spec.columns.values():
        need = "required" if column.required else "optional"
        lines.append(f"    - ``{column.name}`` ({column.dtype}, {need})")
    loader.__name__ = loader.__qualname__ = f"load_{name}"
    loader.__doc__ = (
        f"{summary}\n\n"
        f"Same as ``load_table({name!r}, source, ...)``; see :func:`load_table` for the "
        "parameters, the returned dtypes and the errors.\n\n"
        f"Columns of ``{name}``:\n\n" + "\n".join(lines) + "\n"
    )
    return loader


load_customers = _table_loader("customers", "Load the customers table (one row per customer).")
load_orders = _table_loader("orders", "Load the orders table (one row per order).")
load_contracts = _table_loader("contracts", "Load the contracts table (one row per contract).")
load_deals = _table_loader("deals", "Load the deals table (one row per sales opportunity).")
load_marketing_spend = _table_loader(
    "marketing_spend", "Load marketing spend (one row per month and channel)."
)
load_goals = _table_loader("goals", "Load SMART goals (one row per goal).")
load_web_traffic = _table_loader(
    "web_traffic", "Load daily web traffic (one row per date and channel)."
)
load_social = _table_loader("social", "Load social-media audience (one row per date and platform).")
load_feedback = _table_loader("feedback", "Load satisfaction and support feedback (one row each).")
load_churn_events = _table_loader(
    "churn_events", "Load churn events (one row per churned customer)."
)
load_quotas = _table_loader("quotas", "Load sales quotas (one row per owner and period).")
