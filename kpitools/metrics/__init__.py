"""KPI functions, one pure function per KPI, grouped by business theme.

Subscription side: :mod:`~kpitools.metrics.revenue`, :mod:`~kpitools.metrics.retention`,
:mod:`~kpitools.metrics.value`, :mod:`~kpitools.metrics.acquisition` and
:mod:`~kpitools.metrics.diagnosis`, whose functions are also importable from here.

Orders, sales, service and web KPIs live in :mod:`~kpitools.metrics.orders`,
:mod:`~kpitools.metrics.sales`, :mod:`~kpitools.metrics.service` and
:mod:`~kpitools.metrics.web` and are used through their module
(``from kpitools.metrics import orders; orders.aov(...)``): ``orders.revenue`` would otherwise
clash with the :mod:`~kpitools.metrics.revenue` module name.
"""

from __future__ import annotations

from kpitools.metrics import orders, sales, service, web
from kpitools.metrics.acquisition import cac, cac_payback_months, new_customers
from kpitools.metrics.diagnosis import AcvChange, acv_mix_rate, explain_acv_change
from kpitools.metrics.retention import (
    churn_reasons,
    cohort_retention,
    gross_mrr_churn_rate,
    grr,
    logo_churn_rate,
    net_mrr_churn_rate,
    nrr,
)
from kpitools.metrics.revenue import acv, arpa, arr, mrr, mrr_movements, quick_ratio, tcv
from kpitools.metrics.value import cltv, ltv_to_cac, monthly_logo_churn_rate

__all__ = [
    "AcvChange",
    "acv",
    "acv_mix_rate",
    "arpa",
    "arr",
    "cac",
    "cac_payback_months",
    "churn_reasons",
    "cltv",
    "cohort_retention",
    "explain_acv_change",
    "gross_mrr_churn_rate",
    "grr",
    "logo_churn_rate",
    "ltv_to_cac",
    "monthly_logo_churn_rate",
    "mrr",
    "mrr_movements",
    "net_mrr_churn_rate",
    "new_customers",
    "nrr",
    "orders",
    "quick_ratio",
    "sales",
    "service",
    "tcv",
    "web",
]
