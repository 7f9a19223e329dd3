"""The data contracts: canonical tables, their columns, dtypes and rules (see ``tables.yaml``)."""

from __future__ import annotations

from kpitools.schemas._contract import ColumnSpec, TableSpec, contract, table_names, table_spec

__all__ = ["ColumnSpec", "TableSpec", "contract", "table_names", "table_spec"]
