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
from collections.abc import Iterable
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from kpitools._errors import KpitoolsError, did_you_mean
from kpitools.periods import Period

__all__ = ["TableLike", "in_period", "require_columns", "scalar", "table", "to_pandas"]

TableLike = Any  # pandas.DataFrame | polars.DataFrame | ibis.Table


def table(data: TableLike, name: str, required: Iterable[str] = ()) -> ir.Table:
    """Return ``data`` as an Ibis table, checking that ``required`` columns exist.

    ``name`` is the canonical table name (``"orders"``, ``"contracts"``…) used in messages.
    The caller's object is never modified: pandas input is wrapped, not copied in place.
    """
    if isinstance(data, ir.Table):
        t = data
    elif isinstance(data, pd.DataFrame):
        t = ibis.memtable(_arrow_safe(data))
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


def _arrow_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Drop the index so Ibis sees only columns (a RangeIndex costs nothing to drop)."""
    if isinstance(df.index, pd.RangeIndex):
        return df
    return df.reset_index(drop=True)


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


def to_pandas(expr: ir.Table | ir.Column) -> pd.DataFrame | pd.Series:
    """Execute an expression on its backend and return pandas."""
    return expr.to_pandas()


def scalar(expr: ir.Scalar) -> float:
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
