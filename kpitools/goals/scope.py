"""Measure a goal on its scope: 「B2B客戶」, "Enterprise plan", "from referrals", 「台中市場」.

A goal's ``scope`` names part of the business; :func:`scoped` restricts the client's tables to it
before a KPI is computed, so that "B2B customers' AOV" is the AOV of B2B customers' orders, not of
all orders. ``scope_kind`` (set by the goal parser, or written in the goal) says where to look:

``segment`` / ``region``
    customers whose ``segment`` / ``region`` in the ``customers`` table matches; every table with
    a ``customer_id`` keeps those customers' rows.
``tier``
    contracts whose ``tier`` matches.
``channel``
    rows whose ``channel`` matches, in every table that has one.

Values match without regard to case, spaces, underscores, full-width or Traditional/Simplified
characters, and a value may be the start of the data's value (「台中」 matches 「台中市」). When the
scope cannot be applied (no such column, or no row matches) the data are returned whole with the
reason, and the SMART check and scorecard say so instead of reporting a whole-business number as
if it were the scope's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

from kpitools.catalog.resolve import fold

__all__ = ["ScopedClient", "goal_data", "scoped"]

_ALL = (None, "", "all", "全部", "全公司")
_KINDS = ("segment", "region", "tier", "channel")


def _key(value: Any) -> str:
    return re.sub(r"[\s_\-]+", "", fold(str(value)))


def _matches(column: pd.Series, wanted: str) -> pd.Series:
    keys = column.astype("string").fillna("").map(_key)
    want = _key(wanted)
    return (keys == want) | keys.str.startswith(want) if want else keys == want


class ScopedClient:
    """A client whose tables are restricted to one scope; other attributes pass through."""

    def __init__(self, client: Any, tables: Mapping[str, Any]) -> None:
        self._client = client
        self.tables = dict(tables)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def __contains__(self, name: object) -> bool:
        return name in self.tables

    def __getitem__(self, name: str) -> Any:
        return self.tables[name]


def _tables(data: Any) -> Mapping[str, Any] | None:
    if isinstance(data, Mapping):
        return data
    tables = getattr(data, "tables", None)
    return tables if isinstance(tables, Mapping) else None


def scoped(
    data: Any, scope: str | None, kind: str | None, needs: tuple[str, ...] = ()
) -> tuple[Any, str]:
    """``data`` restricted to ``scope`` and the reason when it could not be (``""`` if it was).

    Parameters
    ----------
    data : a client or a dict of canonical tables (pandas)
    scope : str
        The value as written in the goal (``"B2B"``, ``"台中"``, ``"referral"``).
    kind : {"segment", "region", "tier", "channel"} or None
        None (or an unknown kind) leaves the data whole with reason ``"unknown_kind"``.
    needs : tuple of str
        The KPI's tables: the reason is ``"not_applicable"`` when none of them can be restricted.

    Returns
    -------
    (data, reason)
        reason is ``""``, ``"unknown_kind"``, ``"no_column"``, ``"no_match"`` or
        ``"not_applicable"``.
    """
    if scope in _ALL or data is None:
        return data, ""
    tables = _tables(data)
    if tables is None:  # e.g. a KPI history given directly: nothing to restrict
        return data, ""
    if kind is None:  # a scope written without its kind: the first kind that applies
        reasons = []
        for guess in _KINDS:
            out, why = scoped(data, scope, guess, needs)
            if not why:
                return out, ""
            reasons.append(why)
        return data, "no_match" if "no_match" in reasons else reasons[-1]
    if kind not in _KINDS:
        return data, "unknown_kind"
    frames = {k: v for k, v in tables.items() if isinstance(v, pd.DataFrame)}
    out = dict(tables)
    touched: set[str] = set()
    if kind in ("segment", "region"):
        customers = frames.get("customers")
        if customers is None or kind not in customers.columns:
            return data, "no_column"
        keep = customers.loc[_matches(customers[kind], scope), "customer_id"]
        if keep.empty:
            return data, "no_match"
        for name, frame in frames.items():
            if "customer_id" in frame.columns:
                out[name] = frame[frame["customer_id"].isin(keep)]
                touched.add(name)
    else:
        column = "tier" if kind == "tier" else "channel"
        candidates = ["contracts"] if kind == "tier" else list(frames)
        found = False
        for name in candidates:
            frame = frames.get(name)
            if frame is None or column not in frame.columns:
                continue
            mask = _matches(frame[column], scope)
            found = found or bool(mask.any())
            out[name] = frame[mask]
            touched.add(name)
        if not touched:
            return data, "no_column"
        if not found:
            return data, "no_match"
    if needs and not touched.intersection(needs):
        return data, "not_applicable"
    if isinstance(data, Mapping):
        return out, ""
    return ScopedClient(data, out), ""


def goal_data(goal: Any, data: Any, needs: tuple[str, ...] = ()) -> tuple[Any, str]:
    """:func:`scoped` for a goal: its ``scope`` and ``scope_kind`` (kept in ``goal.extra``)."""
    extra = goal.extra if isinstance(goal.extra, Mapping) else {}
    return scoped(data, goal.scope, extra.get("scope_kind"), needs)
