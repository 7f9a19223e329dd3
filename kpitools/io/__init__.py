"""Loading client files into the canonical tables (see ``kpitools/schemas/tables.yaml``).

The names below are imported on first use (PEP 562): a process that only needs a light
submodule (the report runner reads client.yml through ``kpitools.io._yaml``) does not import
pandas and the loaders with it.
"""

from __future__ import annotations

from kpitools._lazy import lazy_attributes

_LAZY = {
    "preset_names": "kpitools.io._presets",
    "Client": "kpitools.io.client",
    "check_client": "kpitools.io.client",
    "load_client": "kpitools.io.client",
    **{name: "kpitools.io.loaders" for name in (
        "load_churn_events", "load_contracts", "load_customers", "load_deals", "load_feedback",
        "load_goals", "load_marketing_spend", "load_orders", "load_quotas", "load_social",
        "load_table", "load_web_traffic")},
}


__getattr__, __dir__ = lazy_attributes(__name__, globals(), _LAZY)


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
