"""Loading client files into the canonical tables (see ``kpitools/schemas/tables.yaml``)."""

from __future__ import annotations

from kpitools.io._presets import preset_names
from kpitools.io.client import Client, check_client, load_client
from kpitools.io.loaders import (
    load_churn_events,
    load_contracts,
    load_customers,
    load_deals,
    load_feedback,
    load_goals,
    load_marketing_spend,
    load_orders,
    load_quotas,
    load_social,
    load_table,
    load_web_traffic,
)

__all__ = [
    "Client",
    "check_client",
    "load_churn_events",
    "load_client",
    "load_contracts",
    "load_customers",
    "load_deals",
    "load_feedback",
    "load_goals",
    "load_marketing_spend",
    "load_orders",
    "load_quotas",
    "load_social",
    "load_table",
    "load_web_traffic",
    "preset_names",
]
