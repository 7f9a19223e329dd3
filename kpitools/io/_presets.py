"""Column presets for the export layouts of common tools, kept as YAML data in ``io/presets/``.

A preset says how one tool's export maps onto a canonical table:

``table``
    the canonical table it loads (``orders``, ``deals``, ``web_traffic``…).
``columns``
    export header → canonical column. Headers are compared after normalisation, so case,
    spaces and full-width characters do not matter. Listed first wins when two headers of one
    file map to the same column.
``read``
    reader options: ``skip_comment_rows`` (drop rows starting with ``#``, as in GA4 downloads)
    and ``stop_at_blank_row`` (the table ends at its first blank row; footers follow).
``derive``
    a column computed from another one when the export lacks it, e.g. a deal's outcome from
    its stage: ``{outcome: {from: stage, map: {closed won: won}, default: open}}``.
``drop_rows``
    rows to leave out, by canonical column and (normalised) values, e.g. a "Grand total" row.
``line_items``
    the export has one row per line item and order fields only on the first row: rows are
    grouped by ``key``; ``sum`` columns are added up, every other column takes its first
    non-empty value, and the group keeps the row number of its first row.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from importlib import resources

import numpy as np
import pandas as pd
import yaml

from kpitools._errors import KpitoolsError, did_you_mean
from kpitools.io._parse import normalize_header

__all__ = ["Preset", "get_preset", "preset_names", "presets_for"]


@dataclass(frozen=True)
class Preset:
    """One export layout; see the module docstring for the fields."""

    id: str
    table: str
    title: dict[str, str]
    columns: dict[str, str]
    skip_comment_rows: bool = False
    stop_at_blank_row: bool = False
    derive: dict[str, dict] = field(default_factory=dict)
    drop_rows: dict[str, tuple[str, ...]] = field(default_factory=dict)
    line_items_key: str | None = None
    line_items_sum: tuple[str, ...] = ()

    @functools.cached_property
    def header_index(self) -> dict[str, str]:
        """Normalised export header → canonical column (first listed wins)."""
        index: dict[str, str] = {}
        for header, column in self.columns.items():
            index.setdefault(normalize_header(header), column)
        return index

    def derive_columns(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Add derived columns the frame lacks (raw text in, raw text out; new frame)."""
        out = frame
        for target, rule in self.derive.items():
            source = rule["from"]
            if target in out.columns or source not in out.columns:
                continue
            mapping = {normalize_header(k): v for k, v in rule.get("map", {}).items()}
            key = out[source].map(lambda v: None if pd.isna(v) else normalize_header(v))
            derived = key.map(mapping).where(key.notna(), None)
            if "default" in rule:
                derived = derived.where(derived.notna() | key.isna(), rule["default"])
            out = out.assign(**{target: derived})
        return out

    def rows_to_drop(self, frame: pd.DataFrame) -> np.ndarray:
        """Boolean mask of rows the preset leaves out (totals rows and the like)."""
        drop = np.zeros(len(frame), dtype=bool)
        for column, values in self.drop_rows.items():
            if column in frame.columns:
                wanted = {normalize_header(v) for v in values}
                key = frame[column].map(lambda v: None if pd.isna(v) else normalize_header(v))
                drop |= key.isin(wanted).to_numpy()
        return drop

    def combine_line_items(
        self, frame: pd.DataFrame, rows: np.ndarray
    ) -> tuple[pd.DataFrame, np.ndarray]:
        """One row per ``line_items_key`` (typed frame in, typed frame out; new objects)."""
        key = self.line_items_key
        if key is None or key not in frame.columns or frame.empty:
            return frame, rows
        labelled = frame.assign(_row=rows)
        groups = labelled.groupby(key, sort=False, dropna=False)
        aggregations = {
            c: ("sum" if c in self.line_items_sum else "first")
            for c in labelled.columns
            if c != key
        }
        combined = groups.agg(aggregations).reset_index()
        sums = [c for c in self.line_items_sum if c in combined.columns]
        if sums:  # a group whose line items are all empty stays empty, not 0
            counts = groups[sums].count().reset_index(drop=True)
            combined[sums] = combined[sums].where(counts.to_numpy() > 0)
        combined = combined.astype({c: frame[c].dtype for c in frame.columns})
        new_rows = groups["_row"].min().to_numpy()
        return combined[list(frame.columns)], np.asarray(new_rows, dtype=int)


def _from_yaml(preset_id: str, raw: dict) -> Preset:
    read = raw.get("read") or {}
    line_items = raw.get("line_items") or {}
    return Preset(
        id=preset_id,
        table=raw["table"],
        title=dict(raw.get("title", {})),
        columns={str(k): str(v) for k, v in raw["columns"].items()},
        skip_comment_rows=bool(read.get("skip_comment_rows", False)),
        stop_at_blank_row=bool(read.get("stop_at_blank_row", False)),
        derive=dict(raw.get("derive") or {}),
        drop_rows={k: tuple(v) for k, v in (raw.get("drop_rows") or {}).items()},
        line_items_key=line_items.get("key"),
        line_items_sum=tuple(line_items.get("sum", ())),
    )


@functools.cache
def _all_presets() -> dict[str, Preset]:
    folder = resources.files("kpitools.io").joinpath("presets")
    presets: dict[str, Preset] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            preset_id = entry.name.removesuffix(".yaml")
            presets[preset_id] = _from_yaml(preset_id, yaml.safe_load(entry.read_text("utf-8")))
    return presets


def preset_names() -> list[str]:
    """Ids of the packaged presets (``hubspot``, ``salesforce``, ``shopify``, ``ga4``)."""
    return list(_all_presets())


def presets_for(table: str) -> list[Preset]:
    """The presets that load ``table``."""
    return [p for p in _all_presets().values() if p.table == table]


def get_preset(preset_id: str, table: str) -> Preset:
    """The preset ``preset_id`` for ``table``; a KpitoolsError with a hint otherwise."""
    presets = _all_presets()
    if preset_id not in presets:
        guess = did_you_mean(str(preset_id), list(presets))
        also = f" (did you mean '{guess}'?)" if guess else ""
        raise KpitoolsError(
            f"unknown preset '{preset_id}'{also}. Presets: {list(presets)}\n"
            "Hint: leave preset out to match columns by name, or map them with columns={...}."
        )
    preset = presets[preset_id]
    if preset.table != table:
        fitting = [p.id for p in presets_for(table)]
        raise KpitoolsError(
            f"preset '{preset_id}' loads the '{preset.table}' table, not '{table}'.\n"
            f"Hint: presets for '{table}': {fitting or 'none'}; "
            f"or load the file with kpitools.load_{preset.table}(...)."
        )
    return preset
