"""The data contracts of ``tables.yaml`` as typed objects.

``tables.yaml`` is the one place that says which tables exist, which columns they have, their
dtypes, rules and the header spellings seen in client exports. This module reads it once and
answers questions such as "which canonical column is the header '訂單日期'?".
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from importlib import resources

from kpitools._errors import KpitoolsError, did_you_mean
from kpitools._packageyaml import package_yaml

__all__ = ["DTYPES", "ColumnSpec", "TableSpec", "contract", "table_names", "table_spec"]

#: The dtypes a column may declare in tables.yaml.
DTYPES = ("string", "date", "float", "int", "category")


@dataclass(frozen=True)
class ColumnSpec:
    """One canonical column: dtype, rules and accepted header spellings."""

    name: str
    dtype: str
    required: bool = False
    unique: bool = False
    min: float | None = None
    max: float | None = None
    money: bool = False
    warn_future: bool = False
    default: object = None
    allowed: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    #: normalised spelling -> allowed value (category columns)
    value_aliases: dict[str, str] = field(default_factory=dict)

    @property
    def is_number(self) -> bool:
        return self.dtype in {"float", "int"}


@dataclass(frozen=True)
class TableSpec:
    """One canonical table: its columns (in order) and table-level rules."""

    name: str
    description: dict[str, str]
    columns: dict[str, ColumnSpec]
    date_order: tuple[tuple[str, str], ...] = ()
    #: (column that must be filled, column tested, values of the tested column that require it)
    required_if: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    #: (column, column it may not exceed, relative tolerance that is only a warning)
    at_most: tuple[tuple[str, str, float], ...] = ()

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns.values() if c.required]

    @functools.cached_property
    def header_index(self) -> dict[str, str]:
        """Normalised header spelling -> canonical column (the canonical name included).

        When two columns share a spelling (e.g. 來源 for channel), the first column listed wins,
        as the contract's column order puts the more specific meaning first.
        """
        from kpitools.io._parse import normalize_header  # kpitools.io imports this module

        index: dict[str, str] = {}
        for column in self.columns.values():
            for spelling in (column.name, *column.aliases):
                index.setdefault(normalize_header(spelling), column.name)
        return index


def _column(name: str, raw: dict) -> ColumnSpec:
    dtype = raw.get("dtype", "string")
    if dtype not in DTYPES:
        raise KpitoolsError(f"tables.yaml: column {name!r} has unknown dtype {dtype!r}")
    from kpitools.io._parse import normalize_header  # kpitools.io imports this module

    value_aliases: dict[str, str] = {}
    for value, spellings in (raw.get("values") or {}).items():
        for spelling in (value, *spellings):
            value_aliases[normalize_header(spelling)] = value
    return ColumnSpec(
        name=name,
        dtype=dtype,
        required=bool(raw.get("required", False)),
        unique=bool(raw.get("unique", False)),
        min=raw.get("min"),
        max=raw.get("max"),
        money=bool(raw.get("money", False)),
        warn_future=bool(raw.get("warn_future", False)),
        default=raw.get("default"),
        allowed=tuple(raw.get("allowed", ())),
        aliases=tuple(str(a) for a in raw.get("aliases", ())),
        value_aliases=value_aliases,
    )


def _table(name: str, raw: dict) -> TableSpec:
    date_order: list[tuple[str, str]] = []
    required_if: list[tuple[str, str, tuple[str, ...]]] = []
    at_most: list[tuple[str, str, float]] = []
    for rule in raw.get("rules", ()):
        if "at_most" in rule:
            smaller, larger = rule["at_most"]
            at_most.append((smaller, larger, float(rule.get("tolerance", 0.0))))
        if "date_order" in rule:
            first, second = rule["date_order"]
            date_order.append((first, second))
        if "required_if" in rule:
            spec = rule["required_if"]
            ((tested, values),) = spec["when"].items()
            required_if.append((spec["column"], tested, tuple(values)))
    return TableSpec(
        name=name,
        description=dict(raw.get("description", {})),
        columns={c: _column(c, spec) for c, spec in raw["columns"].items()},
        date_order=tuple(date_order),
        required_if=tuple(required_if),
        at_most=tuple(at_most),
    )


@functools.cache
def contract() -> dict[str, TableSpec]:
    """Every canonical table, read from the packaged ``tables.yaml``."""
    text = resources.files("kpitools.schemas").joinpath("tables.yaml").read_text("utf-8")
    return {name: _table(name, raw) for name, raw in package_yaml(text).items()}


def table_names() -> list[str]:
    """Names of the canonical tables, in contract order."""
    return list(contract())


def table_spec(name: str) -> TableSpec:
    """The contract of table ``name``; unknown names raise a KpitoolsError with a suggestion."""
    tables = contract()
    if name in tables:
        return tables[name]
    guess = did_you_mean(str(name), list(tables))
    also = f" (did you mean '{guess}'?)" if guess else ""
    raise KpitoolsError(
        f"unknown table '{name}'{also}. Known tables: {list(tables)}\n"
        f"Hint: use one of the canonical table names listed in kpitools/schemas/tables.yaml."
    )
