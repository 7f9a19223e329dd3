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
from kpitools.periods import Period, parse_period, period_range

__all__ = [
    "KPI",
    "DataValidationError",
    "KpitoolsError",
    "ModelFitError",
    "Period",
    "PeriodError",
    "Problem",
    "UnknownKPIError",
    "__version__",
    "compute_kpi",
    "get_kpi",
    "kpi_series",
    "list_kpis",
    "parse_period",
    "period_range",
    "strategy_label",
]
