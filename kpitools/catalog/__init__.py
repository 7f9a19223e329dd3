"""The KPI catalog: every KPI kpitools knows, its names and definitions, and how to compute it.

The catalog is data: ``kpis_*.yaml`` files beside this module, one per business theme. Each entry
names the function that computes the KPI, the canonical tables it needs, its unit and direction,
and the business models and strategies it serves. Notebooks, reports and goal setting read KPI
names and formulas from here, so nothing is written twice.

Examples
--------
>>> kpi = get_kpi("acv")
>>> kpi.tables
('contracts',)
>>> kpi.name_for("en")
'Average annual contract value (ACV)'
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from kpitools._errors import KpitoolsError, UnknownKPIError, did_you_mean
from kpitools._packageyaml import package_yaml
from kpitools.periods import Period, normalize_freq, parse_period, period_range

__all__ = [
    "BUSINESS_MODELS",
    "KPI",
    "UNITS",
    "business_model_label",
    "compute_kpi",
    "get_kpi",
    "kpi_series",
    "list_kpis",
    "strategy_ids",
    "strategy_label",
]

_HERE = Path(__file__).parent
UNITS = ("currency", "rate", "percent", "ratio", "count", "months", "days", "hours", "seconds",
         "score")
DIRECTIONS = ("higher", "lower")
#: ``series:`` value of a KPI that :func:`kpi_series` computes one period at a time.
PER_PERIOD = "per_period"
LANGS = ("zh-TW", "en")


@dataclass(frozen=True)
class KPI:
    """One catalog entry. ``function`` is imported on first use."""

    id: str
    name: Mapping[str, str]
    definition: Mapping[str, str]
    formula: str
    unit: str
    direction: str
    tables: tuple[str, ...]
    function_path: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    business_models: tuple[str, ...] = ()
    strategies: tuple[str, ...] = ()
    source: str = ""
    returns: str = "float"
    theme: str = ""
    #: ``flow`` (summed over a period: revenue, new customers) or ``stock`` (a level at a date:
    #: MRR, followers); None when the entry does not say. Pacing projects only flows.
    aggregation: str | None = None
    #: Ids of KPIs that measure nearly the same thing (MRR and ARR); KPI-set reviews warn on both.
    overlaps: tuple[str, ...] = ()
    #: How :func:`kpi_series` computes many periods: the path of a function giving all periods in
    #: one grouped query (``kpitools.metrics._series``), or ``"per_period"`` for KPIs that need
    #: one computation per period (windows over earlier periods, model fits, several tables).
    series: str = PER_PERIOD
    #: Arguments a goal must give before the KPI can be measured (``market_revenue`` needs the
    #: ``region`` or ``segment`` of the market); such KPIs are never recommended on their own.
    needs: tuple[str, ...] = ()

    @property
    def set_based(self) -> bool:
        """Whether :func:`kpi_series` computes all periods of this KPI in one grouped query."""
        return self.series != PER_PERIOD

    def name_for(self, lang: str = "zh-TW") -> str:
        """The KPI's display name in ``lang`` (``"zh-TW"`` or ``"en"``)."""
        return _pick(self.name, lang)

    def definition_for(self, lang: str = "zh-TW") -> str:
        """The one-paragraph definition in ``lang``."""
        return _pick(self.definition, lang)

    @property
    def function(self) -> Callable[..., Any]:
        """The Python function that computes this KPI."""
        return _resolve(self.function_path)

    @property
    def higher_is_better(self) -> bool:
        return self.direction == "higher"


def _pick(texts: Mapping[str, str], lang: str) -> str:
    if lang not in LANGS:
        raise KpitoolsError(f"unknown language {lang!r}.\nHint: use one of {list(LANGS)}.")
    return texts.get(lang) or texts.get("en") or next(iter(texts.values()), "")


@cache
def _resolve(path: str) -> Callable[..., Any]:
    module_name, _, attr = path.partition(":")
    try:
        module = importlib.import_module(module_name)
        return getattr(module, attr)
    except (ImportError, AttributeError) as exc:
        raise KpitoolsError(
            f"the catalog names function {path!r}, which cannot be imported ({exc}).\n"
            "Hint: this is a packaging bug in kpitools; please report it."
        ) from exc


@cache
def _load() -> dict[str, KPI]:
    kpis: dict[str, KPI] = {}
    for path in sorted(_HERE.glob("kpis_*.yaml")):
        entries = package_yaml(path.read_text(encoding="utf-8")) or []
        theme = path.stem.removeprefix("kpis_")
        for raw in entries:
            kpi = KPI(
                id=raw["id"],
                name=dict(raw["name"]),
                definition=dict(raw.get("definition") or {}),
                formula=str(raw.get("formula", "")),
                unit=raw["unit"],
                direction=raw.get("direction", "higher"),
                tables=tuple(raw.get("tables") or ()),
                function_path=raw["function"],
                kwargs=dict(raw.get("kwargs") or {}),
                business_models=tuple(raw.get("business_models") or ()),
                strategies=tuple(raw.get("strategies") or ()),
                source=str(raw.get("source", "")),
                returns=raw.get("returns", "float"),
                theme=theme,
                aggregation=raw.get("aggregation"),
                overlaps=tuple(raw.get("overlaps") or ()),
                series=str(raw.get("series") or PER_PERIOD),
                needs=tuple(raw.get("needs") or ()),
            )
            if kpi.id in kpis:
                raise KpitoolsError(
                    f"KPI id {kpi.id!r} appears twice in the catalog ({path.name}).")
            kpis[kpi.id] = kpi
    return kpis


@cache
def _vocabulary(name: str) -> dict[str, dict[str, str]]:
    return package_yaml((_HERE / f"{name}.yaml").read_text(encoding="utf-8"))


def strategy_ids() -> list[str]:
    """All strategy ids a client may list in ``client.yml`` (``strategy:``)."""
    return list(_vocabulary("strategies"))


BUSINESS_MODELS = ("saas", "ecommerce", "services", "content")


def strategy_label(strategy_id: str, lang: str = "zh-TW") -> str:
    """Display text of a strategy id, e.g. ``retain_customers`` → 「留住客戶、降低流失」."""
    vocab = _vocabulary("strategies")
    if strategy_id not in vocab:
        raise KpitoolsError(_unknown_msg("strategy", strategy_id, list(vocab)))
    return _pick(vocab[strategy_id], lang)


def business_model_label(model: str, lang: str = "zh-TW") -> str:
    """Display text of a business model id (``saas``, ``ecommerce``, ``services``, ``content``)."""
    vocab = _vocabulary("business_models")
    if model not in vocab:
        raise KpitoolsError(_unknown_msg("business model", model, list(vocab)))
    return _pick(vocab[model], lang)


def _unknown_msg(kind: str, value: str, choices: list[str]) -> str:
    guess = did_you_mean(value, choices)
    hint = f"did you mean '{guess}'?" if guess else f"choose one of {choices}."
    return f"unknown {kind} {value!r}.\nHint: {hint}"


def list_kpis(*, business_model: str | None = None, strategy: str | Iterable[str] | None = None,
              theme: str | None = None, include_tables: bool = False) -> list[KPI]:
    """Catalog entries, optionally only those suiting a business model and/or serving a strategy.

    ``strategy`` may be one id or several (an entry qualifies when it serves any of them).
    Entries that return a table rather than a number (order cohort retention) are listed only
    with ``include_tables=True``: they cannot be a goal, a trend or a scorecard row.
    """
    if business_model is not None and business_model not in BUSINESS_MODELS:
        raise KpitoolsError(_unknown_msg("business model", business_model, list(BUSINESS_MODELS)))
    wanted: set[str] | None = None
    if strategy is not None:
        wanted = {strategy} if isinstance(strategy, str) else set(strategy)
        for s in wanted:
            if s not in _vocabulary("strategies"):
                raise KpitoolsError(_unknown_msg("strategy", s, strategy_ids()))
    out = []
    for kpi in _load().values():
        if business_model is not None and business_model not in kpi.business_models:
            continue
        if wanted is not None and not wanted.intersection(kpi.strategies):
            continue
        if theme is not None and kpi.theme != theme:
            continue
        if kpi.returns != "float" and not include_tables:
            continue
        out.append(kpi)
    return out


def get_kpi(kpi_id: str) -> KPI:
    """The catalog entry for ``kpi_id``; :class:`UnknownKPIError` with a suggestion otherwise."""
    kpis = _load()
    if kpi_id not in kpis:
        raise UnknownKPIError(_unknown_msg("KPI", str(kpi_id), sorted(kpis)))
    return kpis[kpi_id]


def _tables_of(data: Any) -> Mapping[str, Any]:
    if isinstance(data, Mapping):
        return data
    tables = getattr(data, "tables", None)
    if isinstance(tables, Mapping):
        return tables
    raise KpitoolsError(
        "expected a client (kpitools.load_client) or a dict of tables, got "
        f"{type(data).__name__}.\n"
        "Hint: pass load_client('data/sample/shop') or {'orders': orders_df}."
    )


def _client_setting(data: Any, name: str, default: Any) -> Any:
    value = getattr(data, name, None)
    return default if value is None else value


def compute_kpi(kpi_id: str, data: Any, period: str | Period | None = None, **kwargs: Any) -> Any:
    """Compute a catalog KPI for a client (or a dict of canonical tables) and a period.

    The entry's ``kwargs`` are the defaults; keyword arguments given here override them. Client
    settings that a function asks for by name (``stages`` from ``funnel_stages``) are passed along.

    Raises
    ------
    UnknownKPIError
        For an id not in the catalog.
    KpitoolsError
        When the client lacks a table the KPI needs (the message names the table and the KPI).
    """
    kpi = get_kpi(kpi_id)
    tables = _tables_of(data)
    args = _arguments(kpi, data, tables, kpi.function_path, kwargs)
    params = _parameters(kpi.function_path)
    fy = int(_client_setting(data, "fiscal_year_start_month", 1))
    if "period" in params:
        args["period"] = (None if period is None
                          else parse_period(period, fiscal_year_start_month=fy))
    elif period is not None:
        raise KpitoolsError(f"KPI '{kpi.id}' is not computed per period; call it without period.")
    memo = _MEMO.get()
    if memo is None or kwargs:
        return kpi.function(**args)
    inputs = tuple(tables[t] for t in kpi.tables)
    key = _memo_key(kpi, inputs, args.get("period"), args.get("stages"))
    hit = memo.get(key)
    if hit is not None and _unchanged(hit[0], hit[1], inputs):
        return hit[2]
    tokens = _tokens(inputs)
    value = kpi.function(**args)
    if tokens is not None and isinstance(value, float | int):  # immutable results only
        memo[key] = (inputs, tokens, value)
    return value


def _arguments(kpi: KPI, data: Any, tables: Mapping[str, Any], function_path: str,
               kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments of ``function_path`` for ``kpi``: its tables, catalog defaults,
    ``kwargs`` and client settings the function asks for by name (not the period)."""
    missing = [t for t in kpi.tables if t not in tables or tables[t] is None]
    if missing:
        raise KpitoolsError(
            f"KPI '{kpi.id}' needs table(s) {missing}, which this client does not have.\n"
            f"Hint: add the file(s) under 'tables:' in client.yml, or choose a KPI that uses "
            f"{sorted(k for k in tables if tables[k] is not None)}."
        )
    args: dict[str, Any] = {t: tables[t] for t in kpi.tables}
    args.update(kpi.kwargs)
    args.update(kwargs)
    if "stages" in _parameters(function_path) and "stages" not in args:
        stages = _client_setting(data, "funnel_stages", None)
        if stages:
            args["stages"] = list(stages)
    return args


def _memo_key(kpi: KPI, inputs: tuple, period: Period | None, stages: Any) -> tuple:
    return (kpi.id, tuple(id(x) for x in inputs), _period_key(period), tuple(stages or ()))


# ------------------------------------------------------------------------------- memo
# A quarterly report asks for the same KPI of the same quarter several times (the trend table,
# the quarter-on-quarter tables, the goal scorecard, the insights), and each computation is a
# few database queries. Inside ``with _memoized(memo):`` compute_kpi keeps in ``memo`` the
# numbers returned by catalog-default calls (no extra keyword arguments), keyed by the KPI, the
# identity of its input tables, the period and the funnel stages. A pandas table changed since
# (seen as in kpitools._engine's memtable cache, which needs pandas' copy-on-write) is computed
# again. Outside such a block nothing is kept.
_MEMO: ContextVar[dict | None] = ContextVar("kpitools_kpi_memo", default=None)


@contextlib.contextmanager
def _memoized(memo: dict) -> Iterator[dict]:
    """Memoize catalog-default :func:`compute_kpi` calls in ``memo`` inside the block.

    Scalar queries on frozen memtables are memoized too (``kpitools._engine.scalar``).
    """
    from kpitools._engine import _SCALAR_MEMO

    token = _MEMO.set(memo)
    scalar_token = _SCALAR_MEMO.set(memo.setdefault("scalar queries", {}))
    try:
        yield memo
    finally:
        _SCALAR_MEMO.reset(scalar_token)
        _MEMO.reset(token)


@cache
def _parameters(function_path: str) -> Mapping[str, inspect.Parameter]:
    return inspect.signature(_resolve(function_path)).parameters


def _period_key(period: Period | None) -> tuple | None:
    if period is None:
        return None
    return (period.label, period.freq, period.start, period.end)


def _tokens(inputs: tuple) -> tuple | None:
    """Fingerprints of pandas inputs; None when an input's changes cannot be seen."""
    import ibis.expr.types as ir

    from kpitools._engine import _COW_ALWAYS_ON, _fingerprint

    if not _COW_ALWAYS_ON:
        return None
    tokens = []
    for x in inputs:
        if isinstance(x, pd.DataFrame):
            token = _fingerprint(x)
            if token is None:
                return None
            tokens.append(token)
        elif isinstance(x, ir.Table):  # immutable expressions
            tokens.append(None)
        else:  # e.g. a Polars frame, which can change in place unseen
            return None
    return tuple(tokens)


def _unchanged(before: tuple, tokens: tuple, inputs: tuple) -> bool:
    from kpitools._engine import _same

    if any(a is not b for a, b in zip(before, inputs, strict=True)):
        return False
    now = _tokens(inputs)
    return now is not None and all(
        old is new is None or (old is not None and new is not None and _same(old, new))
        for old, new in zip(tokens, now, strict=True))


@cache
def _table_contract() -> dict:
    """The data contract (``schemas/tables.yaml``), parsed once."""
    return package_yaml((_HERE.parent / "schemas" / "tables.yaml").read_text("utf-8"))


@cache
def _date_column(table_name: str) -> str | None:
    """The first required date column of a canonical table (read from the data contract)."""
    contract = _table_contract()
    for name, col in (contract.get(table_name) or {}).get("columns", {}).items():
        if col.get("dtype") == "date" and col.get("required"):
            return name
    return None


def _data_span(kpi: KPI, tables: Mapping[str, Any]) -> tuple[pd.Timestamp, pd.Timestamp]:
    from kpitools._engine import table

    lows, highs = [], []
    for name in kpi.tables:
        column = _date_column(name)
        if column is None:
            continue
        t = table(tables[name], name, [column])
        lo, hi = t.aggregate(lo=t[column].min(), hi=t[column].max()).to_pandas().iloc[0]
        if pd.notna(lo):
            lows.append(pd.Timestamp(lo))
            highs.append(pd.Timestamp(hi))
    if not lows:
        raise KpitoolsError(
            f"cannot tell which periods the data of KPI '{kpi.id}' covers.\n"
            "Hint: pass start= and end= (e.g. start='2023Q1', end='2024Q4')."
        )
    return min(lows), max(highs)


def kpi_series(kpi_id: str, data: Any, freq: str = "Q", start: str | Period | None = None,
               end: str | Period | None = None, **kwargs: Any) -> pd.Series:
    """The KPI computed for each period from ``start`` to ``end`` (inclusive), for trend charts.

    Without ``start``/``end`` the span of the data's main date column is used. The result is a
    float Series indexed by period label (``'2024Q1'``…) and named after the KPI id; periods where
    the KPI is undefined (a zero denominator) hold NaN.

    A KPI whose catalog entry names a ``series`` function is computed for all periods in one
    grouped query (flows grouped by period, stocks through a period calendar); the others
    (``series: per_period``, see :attr:`KPI.set_based`) are computed period by period. Both give
    the same numbers as :func:`compute_kpi` for each period.
    """
    kpi = get_kpi(kpi_id)
    if kpi.returns != "float":
        raise KpitoolsError(f"KPI '{kpi.id}' returns a {kpi.returns}, not a number per period.")
    tables = _tables_of(data)
    f = normalize_freq(freq)
    fy = int(_client_setting(data, "fiscal_year_start_month", 1))
    if start is None or end is None:
        _arguments(kpi, data, tables, kpi.function_path, {})  # names missing tables first
        lo, hi = _data_span(kpi, tables)
        start = lo if start is None else start
        end = hi if end is None else end
    periods = period_range(start, end, f, fiscal_year_start_month=fy)
    index = pd.Index([p.label for p in periods], name="period")
    # Inside a report memo the same series (e.g. the trend table of the report and of its twin
    # in the other language) is computed once, like compute_kpi's numbers.
    memo = _MEMO.get()
    inputs = tuple(tables.get(t) for t in kpi.tables)
    stages = tuple(_client_setting(data, "funnel_stages", None) or ())
    key = (("series", kpi.id, tuple(id(x) for x in inputs),
            tuple(_period_key(p) for p in periods), stages)
           if memo is not None and not kwargs and all(x is not None for x in inputs) else None)
    if key is not None:
        hit = memo.get(key)
        if hit is not None and _unchanged(hit[0], hit[1], inputs):
            return hit[2].copy()
    if kpi.set_based:
        args = _arguments(kpi, data, tables, kpi.series, kwargs)
        values = _resolve(kpi.series)(periods=periods, **args)
        out = pd.Series(values.to_numpy(dtype="float64"), index=index, name=kpi.id)
        _remember(kpi, tables, periods, out, args, kwargs)
    else:
        values = []
        for p in periods:
            value = compute_kpi(kpi_id, data, p, **kwargs)
            values.append(math.nan if value is None else float(value))
        out = pd.Series(values, index=index, name=kpi.id, dtype="float64")
    tokens = _tokens(inputs) if key is not None else None
    if tokens is not None:
        memo[key] = (inputs, tokens, out.copy())
    return out


def _remember(kpi: KPI, tables: Mapping[str, Any], periods: list[Period], values: pd.Series,
              args: Mapping[str, Any], kwargs: Mapping[str, Any]) -> None:
    """Inside :func:`_memoized`, keep each period's value for later :func:`compute_kpi` calls."""
    memo = _MEMO.get()
    if memo is None or kwargs:
        return
    inputs = tuple(tables[t] for t in kpi.tables)
    tokens = _tokens(inputs)
    if tokens is None:
        return
    for p, value in zip(periods, values.tolist(), strict=True):
        memo[_memo_key(kpi, inputs, p, args.get("stages"))] = (inputs, tokens, float(value))
