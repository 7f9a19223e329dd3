"""Export shapes and policies: what a table entry of client.yml (or ``load_table(...)``) may say
about how a real export is laid out and which of its rows count.

This module checks the options (:class:`Shape`) and holds the steps on a file's shape (line
items, stage → outcome, generated ids); the order policies (refunds, returns, guests, taxes) are
in :mod:`kpitools.io._order_policies` and GA4's several tables in :mod:`kpitools.io._ga4`.

Options (keys of a table entry in client.yml, or keyword arguments of the loaders)
---------------------------------------------------------------------------------------
``refunds`` (orders with ``Financial Status`` / ``Cancelled at``, e.g. preset ``shopify``)
    ``exclude`` (default): orders whose financial status is ``refunded`` or ``voided``, or that
    have a ``Cancelled at`` date, are left out, as Shopify's own sales report nets them to zero.
    ``keep``: every order counts as a sale. Partly refunded orders always stay; the refunded
    amount is undated and mixes goods, shipping and tax, so it is reported, not subtracted.
``guests`` (orders without a customer: guest checkout, POS, blank ``CustomerID``)
    ``error`` (default without a preset): a blank customer is an error.
    ``exclude_from_customer_kpis`` (preset ``shopify`` default): the order stays in revenue and
    order counts; its ``customer_id`` stays empty, and customer KPIs (repeat rate, new customers,
    orders per customer, RFM / CLV) leave it out. ``own_customer``: each guest order becomes its
    own customer ``guest:<order_id>`` (every guest counts as a new, one-time customer).
``returns`` (line-item files with cancellation invoices, e.g. UCI Online Retail)
    An invoice is a cancellation when its number starts with ``C`` or its line total is negative.
    ``exclude`` (default): cancellations are left out (sales are counted before returns).
    ``net`` (needs ``line_items: {item: <product code header>}``): each cancelled line reduces
    the same customer's latest earlier purchase of the same item, on that purchase's date
    (cancellations do not say which invoice they reverse); a cancelled line without such a
    purchase in the file is left out and reported. ``error``: a cancellation is an error.
``line_items``
    The file has one row per line: ``{unit_price: <header>}`` makes ``amount`` = Σ quantity ×
    unit price per ``order_id``; ``{item: <header>}`` names the product code (for ``returns:
    net``); ``{key: <canonical column>}`` groups on another column. Other columns take the first
    non-empty value of the order.
``stages`` (deals)
    Stage name → outcome (``won``/``lost``/``open``), per pipeline: ``{Sales Pipeline: {Signed:
    won}}``, or for every pipeline at once: ``{Signed: won}``. Wins over the preset's map.
``report_table`` (GA4 downloads with several tables)
    The table to read, by its title (the ``#`` line above it) or number (1 = first).
``delimiter`` / ``names``
    ``delimiter: whitespace`` reads columns separated by runs of spaces (the CDNOW master file);
    ``names: [customer_id, order_date, quantity, amount]`` names the columns of a file without
    a header row (``null`` skips a column).
``order_ids``
    ``generate``: the file has no order number and each row is one order; the order id is
    ``row-<spreadsheet row number>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kpitools._errors import KpitoolsError, Problem, did_you_mean
from kpitools.io._numbers import parse_numbers
from kpitools.io._parse import normalize_header

__all__ = ["SHAPE_OPTIONS", "Shape", "combine_rows"]

#: Allowed values of the options that take one word.
CHOICES: dict[str, tuple[str, ...]] = {
    "refunds": ("exclude", "keep"),
    "guests": ("error", "exclude_from_customer_kpis", "own_customer"),
    "returns": ("exclude", "net", "error"),
    "order_ids": ("generate",),
}
#: Every option this module understands (client.yml table entries accept them all).
SHAPE_OPTIONS = (
    "refunds",
    "guests",
    "returns",
    "line_items",
    "stages",
    "report_table",
    "delimiter",
    "names",
    "order_ids",
)
#: Outcomes a stage may map to.
OUTCOMES = ("won", "lost", "open")
#: Prefix of generated order ids (``order_ids: generate``).
ROW_ID_PREFIX = "row-"
#: Private working columns a preset may map export headers to (never in the canonical table).
FINANCIAL_STATUS, CANCELLED_AT, REFUNDED = "_financial_status", "_cancelled_at", "_refunded"
PIPELINE, UNIT_PRICE, LINE_VALUE, ITEM = "_pipeline", "_unit_price", "_line_value", "_item"
TAXES, TOTAL, SHIPPING = "_taxes", "_total", "_shipping"
#: Two money amounts closer than this are equal (half a cent).
MONEY_TOLERANCE = 0.005


def _default_for(table: str, preset_defaults: Mapping[str, object]) -> dict[str, object]:
    defaults: dict[str, object] = {"guests": "error"}
    if table == "orders":
        defaults.update(refunds="exclude", returns="exclude")
    defaults.update(preset_defaults)
    return defaults


@dataclass(frozen=True)
class Shape:
    """The shape options of one file, checked; see the module docstring."""

    refunds: str = "exclude"
    guests: str = "error"
    returns: str = "exclude"
    line_items: dict[str, str] = field(default_factory=dict)
    stages: dict[str, dict[str, str]] = field(default_factory=dict)
    report_table: str | int | None = None
    delimiter: str | None = None
    names: tuple[str | None, ...] | None = None
    order_ids: str | None = None

    @classmethod
    def from_options(
        cls,
        options: Mapping[str, object] | None,
        table: str,
        preset_defaults: Mapping[str, object] = (),
    ) -> Shape:
        """Check ``options`` and fill defaults; a KpitoolsError lists every bad option."""
        given = dict(options or {})
        values = _default_for(table, dict(preset_defaults))
        values.update({k: v for k, v in given.items() if v is not None})
        messages: list[str] = []
        for key in given:
            if key not in SHAPE_OPTIONS:
                guess = did_you_mean(str(key), SHAPE_OPTIONS)
                also = f" (did you mean '{guess}'?)" if guess else ""
                messages.append(f"unknown option '{key}'{also}. Options: {list(SHAPE_OPTIONS)}")
        for key, allowed in CHOICES.items():
            value = values.get(key)
            if value is not None and value not in allowed:
                guess = did_you_mean(str(value), allowed)
                also = f" (did you mean '{guess}'?)" if guess else ""
                messages.append(f"{key}: '{value}' is not one of {list(allowed)}{also}")
        line_items = values.get("line_items") or {}
        if not isinstance(line_items, Mapping) or set(line_items) - {"unit_price", "key", "item"}:
            messages.append(
                "line_items must be a mapping with unit_price: <header> and optionally "
                "item: <header of the product code> and key: <canonical column>"
            )
            line_items = {}
        if values.get("returns") == "net" and not (line_items or {}).get("item"):
            messages.append(
                "returns: net needs line_items: {unit_price: <header>, item: <header of the "
                "product code>} to find the purchase each cancelled line reverses"
            )
        stages = _stage_maps(values.get("stages"), messages)
        delimiter = values.get("delimiter")
        if delimiter is not None and delimiter != "whitespace" and len(str(delimiter)) != 1:
            messages.append(f"delimiter: '{delimiter}' is neither 'whitespace' nor one character")
        names = values.get("names")
        if names is not None and not (
            isinstance(names, list | tuple) and all(n is None or isinstance(n, str) for n in names)
        ):
            messages.append("names must be a list of column names (null skips a column)")
            names = None
        table_choice = values.get("report_table")
        if table_choice is not None and not isinstance(table_choice, str | int):
            messages.append("report_table must be a table title or a number from 1")
        if messages:
            raise KpitoolsError(
                "; ".join(messages)
                + "\nHint: see the README section 'Real exports: shapes and policies' for the "
                "options of a table entry."
            )
        return cls(
            refunds=str(values.get("refunds", "exclude")),
            guests=str(values.get("guests", "error")),
            returns=str(values.get("returns", "exclude")),
            line_items={str(k): str(v) for k, v in dict(line_items).items()},
            stages=stages,
            report_table=table_choice,
            delimiter=None if delimiter is None else str(delimiter),
            names=None if names is None else tuple(names),
            order_ids=values.get("order_ids"),
        )

    # --- steps on the renamed, still textual frame -------------------------------------------

    def attach_raw_columns(
        self, renamed: pd.DataFrame, raw: pd.DataFrame
    ) -> tuple[pd.DataFrame, list[Problem]]:
        """Add export columns the options name (``line_items.unit_price``) as working columns."""
        wanted = {
            UNIT_PRICE: ("unit_price", "unit price", "price per unit"),
            ITEM: ("item", "item", "product code"),
        }
        by_key = {normalize_header(h): h for h in reversed(list(raw.columns))}
        out, problems = renamed.reset_index(drop=True), []
        for target, (option, label, what) in wanted.items():
            header = self.line_items.get(option)
            if header is None or target in out.columns:
                continue
            if normalize_header(header) not in by_key:
                problems.append(
                    Problem(
                        f"line_items names the {label} column '{header}', which is not in the "
                        f"file. Columns present: {list(raw.columns)}",
                        hint=f"set line_items: {{{option}: <header of the {what}>}}.",
                    )
                )
                continue
            column = raw[by_key[normalize_header(header)]].reset_index(drop=True)
            out = out.assign(**{target: column})
        return out, problems

    def generate_order_ids(self, frame: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
        """``order_ids: generate``: one order per row, numbered by its spreadsheet row."""
        if self.order_ids != "generate" or "order_id" in frame.columns:
            return frame
        ids = ROW_ID_PREFIX + pd.Series(rows, index=frame.index).astype(int).astype(str)
        return frame.assign(order_id=ids)

    def derive_outcome(
        self,
        frame: pd.DataFrame,
        rows: np.ndarray,
        preset_stages: Mapping[str, Mapping[str, str]],
    ) -> tuple[pd.DataFrame, list[Problem]]:
        """Deals without an outcome column: outcome from the stage, per pipeline.

        The client's ``stages`` win over the preset's; within one, a pipeline's own map wins
        over the ``"*"`` map. A stage no map knows is an error naming the stage and pipeline.
        """
        if "outcome" in frame.columns or "stage" not in frame.columns:
            return frame, []
        if not preset_stages and not self.stages:
            return frame, []
        stage = frame["stage"].map(lambda v: None if pd.isna(v) else normalize_header(v))
        if PIPELINE in frame.columns:
            pipeline = frame[PIPELINE].map(lambda v: "*" if pd.isna(v) else normalize_header(v))
            # Exports listing several pipelines may qualify a stage: "Closed won (Partners)".
            parts = stage.astype(object).str.extract(r"^(.*) \(([^()]*)\)$")
            qualified = (parts[1] == pipeline).fillna(False).astype(bool)
            stage = stage.where(~qualified, parts[0])
        else:
            pipeline = pd.Series("*", index=frame.index)
        outcome = pd.Series([None] * len(frame), index=frame.index, dtype=object)
        for maps in (_normalised(preset_stages), _normalised(self.stages)):
            for scope in ("*", *sorted(k for k in maps if k != "*")):
                mapping = maps.get(scope)
                if not mapping:
                    continue
                found = stage.map(mapping)
                where = found.notna() if scope == "*" else found.notna() & (pipeline == scope)
                outcome = outcome.where(~where, found)
        unknown = stage.notna() & outcome.isna()
        problems: list[Problem] = []
        if unknown.any():
            positions = np.flatnonzero(unknown.to_numpy())
            raw_pipeline = frame[PIPELINE] if PIPELINE in frame.columns else None
            pairs = frame["stage"].iloc[positions].astype(str)
            if raw_pipeline is not None:
                pairs = pairs + " (" + raw_pipeline.iloc[positions].fillna("?").astype(str) + ")"
            names = list(dict.fromkeys(pairs.tolist()))
            problems.append(
                Problem(
                    f"{count_noun(len(positions), 'deal')} with a stage whose outcome is not "
                    f"known: {names[:5]}",
                    column="stage",
                    rows=tuple(int(r) for r in rows[positions]),
                    values=tuple(pairs.tolist()[:5]),
                    hint="map each stage to won, lost or open in client.yml, per pipeline: "
                    "stages: {<pipeline>: {<stage>: won}} (or stages: {<stage>: lost} for all "
                    "pipelines).",
                )
            )
        return frame.assign(outcome=outcome), problems

    # --- steps on the typed frame --------------------------------------------------------------

    def line_values(self, typed: pd.DataFrame) -> tuple[pd.DataFrame, list[Problem]]:
        """Parse the working money columns and add each line's value (quantity × unit price)."""
        out = typed
        problems: list[Problem] = []
        if UNIT_PRICE in out.columns:
            price, bad = parse_numbers(out[UNIT_PRICE])
            if bad.any():
                problems.append(
                    Problem(
                        f"{int(bad.sum())} unit prices are not numbers",
                        column=self.line_items.get("unit_price", "unit price"),
                        values=tuple(out.loc[bad, UNIT_PRICE].astype(str).head(5)),
                    )
                )
            quantity = out["quantity"] if "quantity" in out.columns else 1.0
            out = out.assign(**{UNIT_PRICE: price, LINE_VALUE: price * quantity})
        if REFUNDED in out.columns:
            out = out.assign(**{REFUNDED: parse_numbers(out[REFUNDED])[0]})
        return out, problems

    def line_items_key(self, preset_key: str | None) -> str | None:
        return self.line_items.get("key") or (
            "order_id" if self.line_items.get("unit_price") else preset_key
        )

    def amounts_from_lines(
        self, combined: pd.DataFrame, subtotal_is_net: bool
    ) -> tuple[pd.DataFrame, list[Problem]]:
        """Order amounts from the summed line values.

        Generic line-item files: ``amount`` = Σ quantity × unit price. Shopify
        (``subtotal_is_net``): ``Subtotal`` is after discounts, so ``amount`` = the gross line
        value and ``discount`` = gross − Subtotal; revenue (amount − discount) = Σ Subtotal.
        """
        if LINE_VALUE not in combined.columns:
            return combined, []
        gross = combined[LINE_VALUE]
        if not subtotal_is_net:
            return combined.assign(amount=gross), []
        if "amount" not in combined.columns:
            return combined, []
        subtotal = combined["amount"]
        usable = gross.notna() & subtotal.notna() & (gross + MONEY_TOLERANCE >= subtotal)
        discount = (gross - subtotal).clip(lower=0).round(2)
        return combined.assign(
            amount=gross.where(usable, subtotal),
            discount=discount.where(usable, 0.0),
        ), []


def count_noun(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _normalised(maps: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]]:
    return {
        ("*" if scope == "*" else normalize_header(scope)): {
            normalize_header(stage): str(outcome) for stage, outcome in mapping.items()
        }
        for scope, mapping in maps.items()
    }


def _stage_maps(value: object, messages: list[str]) -> dict[str, dict[str, str]]:
    """``stages`` as {pipeline or "*": {stage: outcome}}; a flat map applies to every pipeline."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        messages.append("stages must map stage names (or pipelines) to outcomes")
        return {}
    flat = {k: v for k, v in value.items() if not isinstance(v, Mapping)}
    nested = {k: v for k, v in value.items() if isinstance(v, Mapping)}
    maps: dict[str, dict[str, str]] = {}
    if flat:
        maps["*"] = {str(k): str(v) for k, v in flat.items()}
    for pipeline, mapping in nested.items():
        maps[str(pipeline)] = {str(k): str(v) for k, v in mapping.items()}
    bad = sorted({o for m in maps.values() for o in m.values() if o not in OUTCOMES})
    if bad:
        messages.append(f"stages: outcomes must be one of {list(OUTCOMES)}, got {bad}")
    return maps


def combine_rows(
    frame: pd.DataFrame, rows: np.ndarray, key: str, sums: tuple[str, ...]
) -> tuple[pd.DataFrame, np.ndarray]:
    """One row per ``key``: ``sums`` columns added up, others the first non-empty value.

    Typed frame in, typed frame out (new objects); a group keeps its first spreadsheet row.
    A sum over a group whose values are all empty stays empty, not 0.
    """
    if key not in frame.columns or frame.empty:
        return frame, rows
    labelled = frame.assign(_row=rows)
    groups = labelled.groupby(key, sort=False, dropna=False)
    aggregations = {c: ("sum" if c in sums else "first") for c in labelled.columns if c != key}
    combined = groups.agg(aggregations).reset_index()
    summed = [c for c in sums if c in combined.columns]
    if summed:
        counts = groups[summed].count().reset_index(drop=True)
        combined[summed] = combined[summed].where(counts.to_numpy() > 0)
    combined = combined.astype({c: frame[c].dtype for c in frame.columns})
    new_rows = groups["_row"].min().to_numpy()
    return combined[list(frame.columns)], np.asarray(new_rows, dtype=int)
