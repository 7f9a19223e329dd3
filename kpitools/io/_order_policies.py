"""Order policies for real exports: refunds, returns (cancellations), guests and taxes.

Each function takes the checked :class:`~kpitools.io._shapes.Shape` of the file and the typed
orders (one row per order, or per line for :func:`net_returns`) with their spreadsheet row
numbers, and returns the rows that count plus a warning (or error) saying how many rows the
policy touched. The policies themselves are described in :mod:`kpitools.io._shapes`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpitools._errors import Problem
from kpitools.io._numbers import parse_numbers
from kpitools.io._parse import normalize_header
from kpitools.io._shapes import (
    CANCELLED_AT,
    FINANCIAL_STATUS,
    ITEM,
    LINE_VALUE,
    MONEY_TOLERANCE,
    REFUNDED,
    SHIPPING,
    TAXES,
    TOTAL,
    Shape,
    count_noun,
)

__all__ = [
    "apply_guests",
    "apply_policies",
    "apply_refunds",
    "apply_returns",
    "net_returns",
    "tax_inclusive",
]

#: Shopify financial statuses of an order that Shopify's sales report nets to zero.
REVERSED_STATUSES = ("refunded", "voided")
#: Prefix of generated customer ids for guests (``guests: own_customer``).
GUEST_PREFIX = "guest:"
#: Prefix of a cancellation invoice in line-item files (UCI Online Retail).
CANCELLATION_PREFIX = "C"


def net_returns(
    shape: Shape, lines: pd.DataFrame, rows: np.ndarray
) -> tuple[pd.DataFrame, np.ndarray, list[Problem]]:
    """``returns: net``: each cancelled line reduces the customer's latest earlier purchase
    of the same item (line level, before lines become orders); unmatched ones are left out.
    """
    if shape.returns != "net" or ITEM not in lines.columns or LINE_VALUE not in lines.columns:
        return lines, rows, []
    cancel = _cancellation_ids(lines["order_id"])
    if not cancel.any():
        return lines, rows, []
    frame = lines.assign(_line=np.arange(len(lines)), _at=lines["order_date"])
    if "quantity" not in frame.columns:
        frame = frame.assign(quantity=1.0)
    sales = frame[~cancel & frame["_at"].notna() & frame["customer_id"].notna()]
    returns = frame[cancel & frame["_at"].notna()]
    matched = pd.merge_asof(
        returns.sort_values("_at")[["_at", "_line", "customer_id", ITEM, LINE_VALUE, "quantity"]],
        sales.sort_values("_at")[["_at", "_line", "customer_id", ITEM]].rename(
            columns={"_line": "_sale"}
        ),
        on="_at",
        by=["customer_id", ITEM],
        direction="backward",
    )
    found = matched[matched["_sale"].notna()]
    back = found.groupby("_sale").agg(value=(LINE_VALUE, "sum"), units=("quantity", "sum"))
    index = back.index.astype(int).to_numpy()
    value = frame[LINE_VALUE].to_numpy(dtype=float, copy=True)
    units = frame["quantity"].to_numpy(dtype=float, copy=True)
    value[index] = np.maximum(value[index] + back["value"].to_numpy(), 0.0)
    units[index] = np.maximum(units[index] + back["units"].to_numpy(), 0.0)
    keep = ~cancel.to_numpy()
    netted = frame.assign(**{LINE_VALUE: value, "quantity": units}).drop(columns=["_line", "_at"])
    lost = matched.loc[matched["_sale"].isna(), "_line"].astype(int).to_numpy()
    problems = (
        [
            Problem(
                f"{count_noun(len(found), 'cancelled line')} netted against the customer's latest "
                f"earlier purchase of the same item (returns: net; "
                f"{float(-found[LINE_VALUE].sum()):,.2f} in all, dated on that purchase)",
                column="order_id",
                rows=tuple(int(r) for r in rows[found["_line"].astype(int).to_numpy()]),
                values=tuple(lines["order_id"].iloc[found["_line"].astype(int).to_numpy()[:5]]),
                severity="warning",
                hint="set returns: exclude in client.yml to count sales before returns.",
            )
        ]
        if len(found)
        else []
    )
    if len(lost):
        problems.append(
            Problem(
                f"{count_noun(len(lost), 'cancelled line')} with no earlier purchase of the same "
                f"item by the same customer in the file, left out "
                f"({float(-lines[LINE_VALUE].iloc[lost].sum()):,.2f} in all)",
                column="order_id",
                rows=tuple(int(r) for r in rows[lost]),
                values=tuple(lines["order_id"].iloc[lost[:5]]),
                severity="warning",
                hint="the purchase may predate the export; export a longer period.",
            )
        )
    return netted.loc[keep].reset_index(drop=True), rows[keep], problems


def apply_returns(
    shape: Shape, frame: pd.DataFrame, rows: np.ndarray
) -> tuple[pd.DataFrame, np.ndarray, list[Problem]]:
    """Cancellation invoices (``C…`` or a negative total) of a line-item file."""
    if LINE_VALUE not in frame.columns or "order_id" not in frame.columns:
        return frame, rows, []
    ids = frame["order_id"].astype(object)
    is_c = _cancellation_ids(ids)
    cancelled = is_c | (frame["amount"] < 0).fillna(False)
    if not cancelled.any():
        return frame, rows, []
    positions = np.flatnonzero(cancelled.to_numpy())
    value = float(-frame.loc[cancelled, "amount"].clip(upper=0).sum())
    shown = tuple(ids.iloc[positions[:5]].tolist())
    if shape.returns == "error":
        return (
            frame,
            rows,
            [
                Problem(
                    f"{count_noun(len(positions), 'cancellation invoice')} (C-prefixed or with "
                    f"a negative total, {value:,.2f} in all)",
                    column="order_id",
                    rows=tuple(int(r) for r in rows[positions]),
                    values=shown,
                    hint="set returns: exclude in client.yml to leave cancellations out.",
                )
            ],
        )
    keep = ~cancelled.to_numpy()
    return (
        frame.loc[keep].reset_index(drop=True),
        rows[keep],
        [
            Problem(
                f"{count_noun(len(positions), 'cancellation invoice')} left out (returns: "
                f"exclude; {value:,.2f} cancelled in all): revenue is counted before returns",
                column="order_id",
                rows=tuple(int(r) for r in rows[positions]),
                values=shown,
                severity="warning",
                hint="cancellations have no link to the invoice they cancel, so they are not "
                "netted; compare with the client's net sales figure.",
            )
        ],
    )


def apply_refunds(
    shape: Shape, frame: pd.DataFrame, rows: np.ndarray
) -> tuple[pd.DataFrame, np.ndarray, list[Problem]]:
    """Refunded, voided and cancelled orders (Shopify's financial status and cancel date)."""
    if FINANCIAL_STATUS not in frame.columns and CANCELLED_AT not in frame.columns:
        return frame, rows, []
    none = pd.Series(False, index=frame.index)
    status = (
        frame[FINANCIAL_STATUS].map(lambda v: normalize_header(v), na_action="ignore")
        if FINANCIAL_STATUS in frame.columns
        else pd.Series(None, index=frame.index, dtype=object)
    )
    # Any text in "Cancelled at" marks a cancellation, even a date that does not parse.
    reversed_ = status.isin(REVERSED_STATUSES).fillna(False) | (
        frame[CANCELLED_AT].notna() if CANCELLED_AT in frame.columns else none
    )
    problems: list[Problem] = []
    partly = status.eq("partially refunded").fillna(False) & ~reversed_
    if partly.any() and REFUNDED in frame.columns:
        positions = np.flatnonzero(partly.to_numpy())
        refunded = float(frame.loc[partly, REFUNDED].fillna(0).sum())
        problems.append(
            Problem(
                f"{count_noun(len(positions), 'partly refunded order')} kept at full subtotal "
                f"({refunded:,.2f} refunded in all, undated, goods + shipping + tax)",
                column="order_id",
                rows=tuple(int(r) for r in rows[positions]),
                values=tuple(frame["order_id"].iloc[positions[:5]].tolist()),
                severity="warning",
                hint="Shopify books a refund as a return on the day it is made; for exact "
                "net sales use Shopify's Finance > Total sales report.",
            )
        )
    if not reversed_.any():
        return frame, rows, problems
    positions = np.flatnonzero(reversed_.to_numpy())
    shown = tuple(frame["order_id"].iloc[positions[:5]].tolist())
    if shape.refunds == "keep":
        problems.append(
            Problem(
                f"{count_noun(len(positions), 'refunded, voided or cancelled order')} counted "
                "as sales (refunds: keep)",
                column="order_id",
                rows=tuple(int(r) for r in rows[positions]),
                values=shown,
                severity="warning",
                hint="set refunds: exclude in client.yml to match Shopify's sales report.",
            )
        )
        return frame, rows, problems
    keep = ~reversed_.to_numpy()
    problems.append(
        Problem(
            f"{count_noun(len(positions), 'refunded, voided or cancelled order')} left out "
            "(refunds: exclude, as in Shopify's sales report)",
            column="order_id",
            rows=tuple(int(r) for r in rows[positions]),
            values=shown,
            severity="warning",
            hint="set refunds: keep in client.yml to count them as sales.",
        )
    )
    return frame.loc[keep].reset_index(drop=True), rows[keep], problems


def apply_guests(
    shape: Shape, frame: pd.DataFrame, rows: np.ndarray
) -> tuple[pd.DataFrame, list[Problem]]:
    """Orders without a customer, handled by the ``guests`` policy."""
    if "customer_id" not in frame.columns:
        return frame, []
    guests = frame["customer_id"].isna()
    if not guests.any():
        return frame, []
    positions = np.flatnonzero(guests.to_numpy())
    where = tuple(int(r) for r in rows[positions])
    n = len(positions)
    if shape.guests == "error":
        return frame, [
            Problem(
                f"{count_noun(n, 'empty cell')} in a required column",
                column="customer_id",
                rows=where,
                hint="fill the customer, or, if these are guest orders, set a policy in "
                "client.yml: guests: exclude_from_customer_kpis (kept in revenue, left out "
                "of customer KPIs) or guests: own_customer (one customer per guest order).",
            )
        ]
    if shape.guests == "own_customer" and "order_id" in frame.columns:
        own = GUEST_PREFIX + frame["order_id"].astype(str)
        frame = frame.assign(customer_id=frame["customer_id"].where(~guests, own))
        message = (
            f"{count_noun(n, 'order')} without a customer (guests) count as one customer each "
            "(guests: own_customer)"
        )
        hint = (
            "set guests: exclude_from_customer_kpis in client.yml to keep them out of "
            "customer KPIs instead."
        )
    else:
        message = (
            f"{count_noun(n, 'order')} without a customer (guests): kept in revenue, left out of "
            "customer KPIs (guests: exclude_from_customer_kpis)"
        )
        hint = "set guests: own_customer in client.yml to count each guest order as a customer."
    return frame, [
        Problem(message, column="customer_id", rows=where, severity="warning", hint=hint)
    ]


def tax_inclusive(shape: Shape, frame: pd.DataFrame, rows: np.ndarray) -> list[Problem]:
    """Warn when Shopify totals show tax-inclusive prices (Total = Subtotal + Shipping)."""
    needed = (TAXES, TOTAL, SHIPPING, "amount")
    if not all(c in frame.columns for c in needed):
        return []
    subtotal = frame["amount"] - frame["discount"] if "discount" in frame.columns else 0.0
    taxes, total, shipping = (parse_numbers(frame[c])[0] for c in (TAXES, TOTAL, SHIPPING))
    inclusive = (taxes > 0) & ((total - subtotal - shipping).abs() < MONEY_TOLERANCE)
    if not inclusive.any():
        return []
    positions = np.flatnonzero(inclusive.to_numpy())
    return [
        Problem(
            f"{count_noun(len(positions), 'order')} price taxes in (Total = Subtotal + Shipping): "
            f"their amounts include the tax ({float(taxes[inclusive].sum()):,.2f} in all, "
            "shipping tax included)",
            column="amount",
            rows=tuple(int(r) for r in rows[positions]),
            values=tuple(frame["order_id"].iloc[positions[:5]].tolist()),
            severity="warning",
            hint="the orders table expects amounts without tax; compare revenue with the "
            "client's figures before and after tax.",
        )
    ]


def apply_policies(
    shape: Shape, orders: pd.DataFrame, rows: np.ndarray
) -> tuple[pd.DataFrame, np.ndarray, list[Problem]]:
    """Returns, refunds, the tax check and guests, in that order, on one row per order."""
    problems: list[Problem] = []
    orders, rows, found = apply_returns(shape, orders, rows)
    problems.extend(found)
    orders, rows, found = apply_refunds(shape, orders, rows)
    problems.extend(found)
    problems.extend(tax_inclusive(shape, orders, rows))
    orders, found = apply_guests(shape, orders, rows)
    problems.extend(found)
    return orders, rows, problems


def _cancellation_ids(ids: pd.Series) -> pd.Series:
    """True for invoice numbers of cancellations (``C536379``)."""
    text = ids.astype(object).where(ids.notna(), "").astype(str)
    return text.str.upper().str.startswith(CANCELLATION_PREFIX)
