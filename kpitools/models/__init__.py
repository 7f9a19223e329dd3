"""Predictive customer models: BG/NBD, Gamma-Gamma, CLV and shifted-beta-geometric retention.

Implemented on NumPy/SciPy (no lifetimes or PyMC) and checked against the published
Fader–Hardie results in ``tests/data/reference/clv_anchors.csv``.

Typical use on a repeat-purchase business::

    summary = rfm_summary(orders, observation_end="2024-12-31", time_unit="D", time_scaler=7)
    bg = fit_bgnbd(summary)
    gg = fit_gamma_gamma(summary)
    clv = top_customers(customer_lifetime_value(bg, gg, summary), lang="zh-TW")

and on a subscription business::

    sbg = fit_sbg(contract_lifetimes(contracts, "2024Q4"))
    sbg.projection(5)
"""

from __future__ import annotations

from kpitools.models.bgnbd import BgNbd, fit_bgnbd
from kpitools.models.clv import (
    customer_lifetime_value,
    predicted_clv,
    predicted_clv_by_customer,
    top_customers,
)
from kpitools.models.gamma_gamma import (
    FrequencyMonetaryCorrelationWarning,
    GammaGamma,
    fit_gamma_gamma,
)
from kpitools.models.rfm import repeat_purchase_tracking, rfm_summary
from kpitools.models.sbg import (
    ShiftedBetaGeometric,
    contract_lifetimes,
    fit_sbg,
    fit_sbg_cohort,
    projected_retention,
)

__all__ = [
    "BgNbd",
    "FrequencyMonetaryCorrelationWarning",
    "GammaGamma",
    "ShiftedBetaGeometric",
    "contract_lifetimes",
    "customer_lifetime_value",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "fit_sbg",
    "fit_sbg_cohort",
    "predicted_clv",
    "predicted_clv_by_customer",
    "projected_retention",
    "repeat_purchase_tracking",
    "rfm_summary",
    "top_customers",
]
