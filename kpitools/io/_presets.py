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
    and ``stop_at_blank_row`` (the table ends at its first blank row; footers follow), or
    ``ga4_tables`` (a GA4 download: ``#`` header with the date range, then one or more tables;
    the loader picks the table that fits, see :mod:`kpitools.io._ga4`).
``derive``
    a column computed from another one when the export lacks it:
    ``{channel: {from: source, map: {web: online}, default: other}}``.
``stages``
    a deal's outcome from its stage, per pipeline: ``{"*": {closed won: won}, Sales Pipeline:
    {…}}`` (``"*"`` = every pipeline); a stage no map knows is an error. The client's
    ``stages:`` in client.yml wins.
``policies``
    default shape options for files of this layout (``guests``, ``refunds``…; see
    :mod:`kpitools.io._shapes`); client.yml overrides them.
``lowercase``
    canonical text columns compared without case, e.g. ``[customer_id]`` when it is an email.
``amount``
    ``subtotal_after_discounts``: the column mapped to ``amount`` is already net of discounts
    (Shopify's ``Subtotal``); the gross is rebuilt from the line items and the difference
    becomes the discount.
``drop_rows``
    rows to leave out, by canonical column and (normalised) values, e.g. a "Grand total" row.
``line_items``
    the export has one row per line item and order fields only on the first row: rows are
    grouped by ``key``; ``sum`` columns are added up, every other column takes its first
    non-empty value, and the group keeps the row number of its first row.

Headers may map to working columns starting with ``_`` (``_financial_status``, ``_unit_price``…,
listed in :mod:`kpitools.io._shapes`); they feed the policies and never reach the canonical table.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from importlib import resources

import numpy as np
import pandas as pd

from kpitools._errors import KpitoolsError, did_you_mean
from kpitools._packageyaml import package_yaml
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
    stages: dict[str, dict[str, str]] = field(default_factory=dict)
    policies: dict[str, object] = field(default_factory=dict)
    subtotal_is_net: bool = False
    ga4_tables: bool = False
    lowercase: tuple[str, ...] = ()

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
        stages={str(k): dict(v) for k, v in (raw.get("stages") or {}).items()},
        policies=dict(raw.get("policies") or {}),
        subtotal_is_net=raw.get("amount") == "subtotal_after_discounts",
        ga4_tables=bool(read.get("ga4_tables", False)),
        lowercase=tuple(raw.get("lowercase") or ()),
    )


@functools.cache
def _all_presets() -> dict[str, Preset]:
    folder = resources.files("kpitools.io").joinpath("presets")
    presets: dict[str, Preset] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            preset_id = entry.name.removesuffix(".yaml")
            presets[preset_id] = _from_yaml(preset_id, package_yaml(entry.read_text("utf-8")))
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
