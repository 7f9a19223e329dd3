"""The table engine behind every metric: Ibis expressions, DuckDB by default.

Metric functions accept a pandas DataFrame (what the loaders return), a Polars DataFrame or an
Ibis table (bound to any backend: DuckDB, Polars, PySpark, a warehouse) and call :func:`table`
first. pandas and Polars frames become in-memory Ibis tables that run on the default backend
(DuckDB, embedded); an Ibis table keeps its own backend, so the same call runs where the data is.
Results come back as pandas objects or Python floats through :func:`to_pandas` and
:func:`scalar`.
"""

from __future__ import annotations

import math
import threading
import weakref
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import Any

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir
import pandas as pd

from kpitools._errors import KpitoolsError, did_you_mean
from kpitools.periods import Period

__all__ = [
    "TableLike",
    "flow_total",
    "in_period",
    "require_columns",
    "scalar",
    "table",
    "to_pandas",
]

TableLike = Any  # pandas.DataFrame | polars.DataFrame | ibis.Table


def table(data: TableLike, name: str, required: Iterable[str] = ()) -> ir.Table:
    """Return ``data`` as an Ibis table, checking that ``required`` columns exist.

    ``name`` is the canonical table name (``"orders"``, ``"contracts"``…) used in messages.
    The caller's object is never modified: pandas input is wrapped, not copied in place.
    """
    if isinstance(data, ir.Table):
        t = data
    elif isinstance(data, pd.DataFrame):
        t = _cached_memtable(data)
    elif type(data).__module__.startswith("polars"):
        t = ibis.memtable(data)
    elif data is None:
        raise KpitoolsError(
            f"no '{name}' table was given.\n"
            f"Hint: load it with kpitools.load_{name}(...) or add it to the client's client.yml."
        )
    else:
        raise KpitoolsError(
            f"expected the '{name}' table as a pandas DataFrame or an Ibis table, "
            f"got {type(data).__name__}.\n"
            f"Hint: load it with kpitools.load_{name}(path)."
        )
    require_columns(t, name, required)
    return t


# --------------------------------------------------------------------------- memtable cache
# Wrapping a pandas frame as an Ibis memtable is cheap, but every new memtable is converted to
# Arrow and registered with DuckDB at its first query (~20 ms for a few hundred rows), and a
# quarterly report runs hundreds of KPI queries on the same few client tables. So the memtable of
# a frame is kept while the frame lives and reused as long as the frame is unchanged.
#
# Why a reused memtable can never show stale data: the memtable is built from a shallow copy of
# the frame taken when it is cached. Under pandas' copy-on-write (always on from pandas 3), a
# write to a frame whose data is shared with a shallow copy makes the frame copy that data
# first, so the shallow copy -- and so the memtable -- keeps the values it was built from. The
# same copy-on-write gives the written frame new block arrays, which is how a change is seen:
# the fingerprint holds the frame's block arrays (compared by identity), their column positions
# and the column labels. Any difference builds a new memtable. The caller's frame is never
# modified (a shallow copy only adds a reference to its data).
_COW_ALWAYS_ON = int(pd.__version__.split(".")[0]) >= 3
_MEMTABLES: dict[int, tuple[weakref.ref, tuple, ir.Table]] = {}
_MEMTABLES_LOCK = threading.Lock()
#: Names of the memtables made here: built from frozen snapshots, so a query on them alone
#: always gives the same answer (see :func:`scalar`).
_FROZEN_NAMES: set[str] = set()


def _fingerprint(df: pd.DataFrame) -> tuple | None:
    """What must be unchanged for a cached memtable to show ``df``; None when unknowable."""
    try:
        blocks = df._mgr.blocks
        layout = tuple((b.values, b.mgr_locs.as_array.tobytes()) for b in blocks)
    except AttributeError:  # pandas internals changed: do not cache
        return None
    return (tuple(df.columns), df.shape, layout)


def _same(a: tuple, b: tuple) -> bool:
    columns_a, shape_a, layout_a = a
    columns_b, shape_b, layout_b = b
    return (shape_a == shape_b and len(layout_a) == len(layout_b)
            and len(columns_a) == len(columns_b)
            and all(x is y or (type(x) is type(y) and x == y)
                    for x, y in zip(columns_a, columns_b, strict=True))
            and all(va is vb and la == lb
                    for (va, la), (vb, lb) in zip(layout_a, layout_b, strict=True)))


def _forget(key: int) -> None:
    with _MEMTABLES_LOCK:
        entry = _MEMTABLES.pop(key, None)
        if entry is not None:
            _FROZEN_NAMES.discard(entry[2].op().name)


def _cached_memtable(df: pd.DataFrame) -> ir.Table:
    """The Ibis memtable of ``df``, reused while ``df`` is alive and unchanged."""
    fingerprint = _fingerprint(df) if _COW_ALWAYS_ON else None
    if fingerprint is None:
        return ibis.memtable(_arrow_safe(df))
    key = id(df)
    with _MEMTABLES_LOCK:
        entry = _MEMTABLES.get(key)
    if entry is not None:
        ref, cached_fingerprint, t = entry
        if ref() is df and _same(fingerprint, cached_fingerprint):
            return t
    snapshot = _arrow_safe(df)
    t = ibis.memtable(snapshot)
    try:
        ref = weakref.ref(df, lambda _, key=key: _forget(key))
    except TypeError:  # a frame subclass without weak references
        return t
    with _MEMTABLES_LOCK:
        old = _MEMTABLES.get(key)
        if old is not None:
            _FROZEN_NAMES.discard(old[2].op().name)
        _MEMTABLES[key] = (ref, fingerprint, t)
        _FROZEN_NAMES.add(t.op().name)
    return t


def _arrow_safe(df: pd.DataFrame) -> pd.DataFrame:
    """A shallow copy of ``df`` for Ibis: columns only, no index, no ``attrs``.

    Built with the DataFrame constructor, not ``df.copy(deep=False)``: ``copy`` deep-copies
    ``attrs``, and a loaded table's attrs hold one row number per row (seconds for a million rows)
    and Problem objects, which Arrow cannot store as schema metadata. Under copy-on-write the
    shallow copy keeps the values it was made from.
    """
    out = pd.DataFrame(df, copy=False)
    if isinstance(out.index, pd.RangeIndex):
        return out
    return out.reset_index(drop=True)


def require_columns(t: ir.Table, name: str, required: Iterable[str]) -> None:
    """Raise :class:`KpitoolsError` naming every missing column of table ``name``."""
    present = list(t.columns)
    missing = [c for c in required if c not in present]
    if not missing:
        return
    parts = []
    for col in missing:
        guess = did_you_mean(col, present)
        parts.append(f"'{col}'" + (f" (did you mean '{guess}'?)" if guess else ""))
    raise KpitoolsError(
        f"table '{name}' lacks column(s) {', '.join(parts)}. Columns present: {present}.\n"
        f"Hint: load the file with kpitools.load_{name}(...), which maps client headers to the "
        "canonical columns, or map them in client.yml."
    )


def in_period(t: ir.Table, column: str, period: Period | None) -> ir.Table:
    """Rows whose ``column`` (a date or timestamp) falls in ``[period.start, period.end)``."""
    if period is None:
        return t
    col = t[column]
    return t.filter((col >= period.start.to_pydatetime()) & (col < period.end.to_pydatetime()))


def flow_total(t: ir.Table, column: str, period: Period | None, total: ir.Scalar) -> float:
    """A period's sum ``total`` (over the rows of ``t`` in ``period``) as a float.

    When no row falls in the period the sum is NULL: it is 0.0 if the period lies within the
    dates of ``t[column]`` (a quiet month between orders), and NaN, "no data" (shown as —), if
    the period is before the first or after the last row, or the table is empty.
    """
    value = scalar(total)
    if not math.isnan(value):
        return value
    span = t.aggregate(first=t[column].min(), last=t[column].max()).to_pandas()
    first, last = span["first"].iloc[0], span["last"].iloc[0]
    if pd.isna(first):
        return math.nan
    if period is None or (first < period.end and last >= period.start):
        return 0.0
    return math.nan


def to_pandas(expr: ir.Table | ir.Column) -> pd.DataFrame | pd.Series:
    """Execute an expression on its backend and return pandas.

    Inside a quarterly report (see :func:`scalar`) the result of a query that reads only frozen
    memtables is kept, and the same query later gets a copy: the report in the other language
    (report.xlsx holds both) and the findings that share a section's tables then run nothing.
    """
    found = frozen_memo(expr)
    if found is None:
        return expr.to_pandas()
    memo, key = found
    key = ("frame", key)
    if key in memo:
        return memo[key].copy()
    out = expr.to_pandas()
    memo[key] = out.copy()
    return out


#: While set (by ``kpitools.catalog._memoized``, i.e. inside a quarterly report), scalar results
#: of queries that read only memtables made by :func:`table` are kept here: those memtables are
#: frozen snapshots, so the same query gives the same number. Several KPIs share sub-queries
#: (ARPA inside CLTV and LTV:CAC, CAC inside CAC payback), which then run once.
_SCALAR_MEMO: ContextVar[dict | None] = ContextVar("kpitools_scalar_memo", default=None)
_VOLATILE = (ops.DateNow, ops.TimestampNow, ops.RandomScalar, ops.RandomUUID)


def scalar(expr: ir.Scalar) -> float:
    """Execute a scalar expression and return a Python float (NaN for NULL)."""
    memo = _SCALAR_MEMO.get()
    key = _frozen_key(expr) if memo is not None else None
    if key is not None and key in memo:
        return memo[key]
    value = _scalar(expr)
    if key is not None:
        memo[key] = value
    return value


def frozen_memo(expr: ir.Expr) -> tuple[dict, tuple] | None:
    """The report memo and ``expr``'s key in it, when a memo is active and ``expr`` reads
    frozen memtables alone (their results may then be kept, as :func:`scalar` does); else
    None. Whoever keeps a frame there hands out copies."""
    memo = _SCALAR_MEMO.get()
    key = _frozen_key(expr) if memo is not None else None
    return None if memo is None or key is None else (memo, key)


def built_once(key: tuple, build: Callable[[], ir.Expr]) -> ir.Expr:
    """``build()``, kept inside a quarterly report (see :func:`scalar`) under ``key``.

    For expressions derived again and again from the same input (the contracts table with its
    derived columns is asked for by some thirty KPI queries of a report): building an Ibis
    expression validates every node, about 15 ms for the contracts table. ``key`` must hold
    everything the expression depends on, the input tables' operations (``t.op()``)
    included; an expression reads no data when it is built, so a kept one is never stale.
    Outside a report nothing is kept (a kept expression would hold its tables' data).
    """
    memo = _SCALAR_MEMO.get()
    if memo is None:
        return build()
    key = ("expression", *key)
    if key not in memo:
        memo[key] = build()
    return memo[key]


def _frozen_key(expr: ir.Expr) -> tuple | None:
    """A memo key for ``expr`` when it reads only frozen memtables, else None."""
    op = expr.op()
    if op.find(_VOLATILE):  # now(), random(): a new answer each time
        return None
    leaves = [r for r in op.find(ops.Relation)
              if not any(isinstance(arg, ops.Relation) for arg in r.__args__)]
    if not leaves or not all(isinstance(leaf, ops.InMemoryTable) and leaf.name in _FROZEN_NAMES
                             for leaf in leaves):
        return None
    # the backend that runs memtable-only queries: the default one, made at the first query if
    # need be (keyed by ``ibis.options.default_backend`` alone, the first query of a process
    # was kept under "no backend yet" and never found again)
    return (op, id(ibis.get_backend()))


def _scalar(expr: ir.Scalar) -> float:
    """Execute a scalar expression and return a Python float (NaN for NULL)."""
    value = expr.to_pandas() if hasattr(expr, "to_pandas") else expr.execute()
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return math.nan
    try:
        if pd.isna(value):
            return math.nan
    except (TypeError, ValueError):
        pass
    return float(value)


def safe_div(numerator: float, denominator: float) -> float:
    """``numerator / denominator``, or NaN when the denominator is zero or missing."""
    if denominator is None or math.isnan(denominator) or denominator == 0:
        return math.nan
    return float(numerator) / float(denominator)
