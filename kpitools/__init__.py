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
from kpitools.catalog import (
    KPI,
    compute_kpi,
    get_kpi,
    kpi_series,
    list_kpis,
    strategy_label,
)
from kpitools.goals import attainment, check_smart, recommend_kpis, scorecard
from kpitools.io import (
    Client,
    check_client,
    load_churn_events,
    load_client,
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
from kpitools.periods import Period, parse_period, period_range

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
