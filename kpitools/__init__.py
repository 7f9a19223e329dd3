"""kpitools: KPI workshops and quarterly KPI reports for small and medium businesses.

Load a client's files into canonical tables, compute KPIs (on Ibis, DuckDB embedded by default),
set SMART goals, track attainment and produce bilingual (zh-TW / en) reports.
"""

from __future__ import annotations

__version__ = "0.1.0"

from kpitools._errors import (
    DataValidationError,
    KpitoolsError,
    ModelFitError,
    PeriodError,
    Problem,
    UnknownKPIError,
)
from kpitools._lazy import lazy_attributes

# Everything below is imported on first use (PEP 562): `import kpitools` stays fast, which matters
# for short scripts and for process pools that import it once per worker. Periods too: the report
# runner and the command line start without pandas (the kernels' business).
_LAZY = {
    "Period": "kpitools.periods",
    "parse_period": "kpitools.periods",
    "period_range": "kpitools.periods",
    "KPI": "kpitools.catalog",
    "compute_kpi": "kpitools.catalog",
    "get_kpi": "kpitools.catalog",
    "kpi_series": "kpitools.catalog",
    "list_kpis": "kpitools.catalog",
    "strategy_label": "kpitools.catalog",
    "attainment": "kpitools.goals",
    "check_smart": "kpitools.goals",
    "recommend_kpis": "kpitools.goals",
    "scorecard": "kpitools.goals",
    "Client": "kpitools.io",
    "check_client": "kpitools.io",
    "load_churn_events": "kpitools.io",
    "load_client": "kpitools.io",
    "load_contracts": "kpitools.io",
    "load_customers": "kpitools.io",
    "load_deals": "kpitools.io",
    "load_feedback": "kpitools.io",
    "load_goals": "kpitools.io",
    "load_marketing_spend": "kpitools.io",
    "load_orders": "kpitools.io",
    "load_quotas": "kpitools.io",
    "load_social": "kpitools.io",
    "load_table": "kpitools.io",
    "load_web_traffic": "kpitools.io",
}


__getattr__, __dir__ = lazy_attributes(__name__, globals(), _LAZY)


__all__ = [
    "KPI",
    "Client",
    "DataValidationError",
    "KpitoolsError",
    "ModelFitError",
    "Period",
    "PeriodError",
    "Problem",
    "UnknownKPIError",
    "__version__",
    "attainment",
    "check_client",
    "check_smart",
    "compute_kpi",
    "get_kpi",
    "kpi_series",
    "list_kpis",
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
    "parse_period",
    "period_range",
    "recommend_kpis",
    "scorecard",
    "strategy_label",
]
