"""Notebook 02 (ACV and CLTV): contract value, customer value, retention, acquisition, churn.

Subscription clients (a ``contracts`` table) get ACV by quarter and tier, the mix/rate
diagnosis, simple CLTV, sBG retention, LTV:CAC and CAC payback, churn and its reasons.
Repeat-purchase clients (an ``orders`` table) get predictive CLV (BG/NBD × Gamma-Gamma) and
their high-value customers. :func:`cltv_scenario` and :class:`ScenarioPanel` show what a higher
ACV, lower churn or better margin would do to CLTV and next year's revenue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from kpitools._errors import KpitoolsError
from kpitools.i18n import fmt_money, fmt_pct, fmt_value, period_label
from kpitools.workshop._common import (
    Panel,
    Section,
    frame_html,
    kpi_label,
    localize_columns,
    missing_tables,
    reasons_frame,
    report_period,
    skipped_section,
    text,
    trailing_window,
    window_label,
)

__all__ = [
    "ScenarioBase",
    "ScenarioPanel",
    "acquisition_section",
    "acv_section",
    "churn_section",
    "cltv_scenario",
    "cltv_section",
    "high_value_section",
    "mix_rate_section",
    "predictive_clv_section",
    "retention_section",
    "scenario_base",
    "scenario_section",
    "scenario_table",
]

#: Quarters shown in trend charts.
TREND_QUARTERS = 8
#: High-value customers listed.
TOP_CUSTOMERS = 10
#: Months ahead used for the scenario's revenue (and by the sBG projection's chart, in years).
SCENARIO_MONTHS = 12
#: Contract terms drawn by the sBG retention chart (12-month terms → years).
RETENTION_PERIODS = 5


def _needs(client: Any, title: str, lang: str, tables: tuple[str, ...]) -> Section | None:
    missing = missing_tables(client, tables)
    return skipped_section(title, lang, missing) if missing else None


# --------------------------------------------------------------------------- ACV


def acv_section(client: Any, period: str, lang: str = "zh-TW",
                quarters: int = TREND_QUARTERS) -> Section:
    """Average ACV of new contracts per quarter, and by tier in ``period``.

    ``values["acv"]`` = :func:`kpitools.metrics.acv` of the period (catalog defaults).
    """
    from kpitools.catalog import compute_kpi, kpi_series
    from kpitools.metrics import acv
    from kpitools.plots import bar_chart, trend_chart

    title = text("nb02.acv.title", lang)
    if (skipped := _needs(client, title, lang, ("contracts",))) is not None:
        return skipped
    p = report_period(period, client)
    sec = Section(title=title, lang=lang)
    series = kpi_series("acv", client, freq="Q", start=p.shift(1 - quarters).label, end=p.label)
    by_tier = acv(client["contracts"], p, by="tier").sort_values(ascending=False)
    value = compute_kpi("acv", client, p)
    sec.values["acv"] = value
    sec.notes.append(text("nb02.acv.note", lang, period=period_label(p, lang),
                          value=fmt_money(value, client.currency, lang)))
    sec.figures.append(trend_chart(series.rename(kpi_label("acv", lang)),
                                   title=text("nb02.acv.trend", lang), unit="currency",
                                   lang=lang, currency=client.currency,
                                   xlabel=text("common.quarter", lang)))
    sec.figures.append(bar_chart(by_tier, title=text("nb02.acv.by_tier", lang,
                                                     period=period_label(p, lang)),
                                 unit="currency", lang=lang, currency=client.currency,
                                 xlabel=text("nb02.acv.tier", lang)))
    sec.data.update(series=series, by_tier=by_tier)
    return sec


def mix_rate_section(client: Any, period: str, lang: str = "zh-TW",
                     base_period: str | None = None) -> Section:
    """Why average ACV moved from ``base_period`` (default: a year earlier) to ``period``.

    The change splits into a *mix* effect (more or fewer contracts in expensive tiers) and a
    *rate* effect (prices within each tier), per :func:`kpitools.metrics.acv_mix_rate`.
    """
    from kpitools.metrics import acv_mix_rate, explain_acv_change
    from kpitools.plots import mix_rate_chart

    title = text("nb02.mix.title", lang)
    if (skipped := _needs(client, title, lang, ("contracts",))) is not None:
        return skipped
    p = report_period(period, client)
    base = report_period(base_period, client) if base_period else p.same_period_last_year()
    sec = Section(title=title, lang=lang)
    result = acv_mix_rate(client["contracts"], base, p, by="tier")
    sec.notes.append(explain_acv_change(result, lang))
    segments = result.segments.assign(
        acv_base=lambda d: d["acv_base"].map(lambda v: fmt_money(v, client.currency, lang)),
        acv_compare=lambda d: d["acv_compare"].map(lambda v: fmt_money(v, client.currency, lang)),
        share_base=lambda d: d["share_base"].map(lambda v: fmt_pct(v, lang)),
        share_compare=lambda d: d["share_compare"].map(lambda v: fmt_pct(v, lang)),
        mix_effect=lambda d: d["mix_effect"].map(lambda v: fmt_money(v, client.currency, lang)),
        rate_effect=lambda d: d["rate_effect"].map(lambda v: fmt_money(v, client.currency, lang)),
    )
    sec.tables.append(("", localize_columns(segments, "mix", lang)))
    effects = {"base": result.acv_base, "mix_effect": result.mix_effect,
               "rate_effect": result.rate_effect, "compare": result.acv_compare}
    sec.figures.append(mix_rate_chart(effects, lang=lang, base_label=base, compare_label=p,
                                      currency=client.currency))
    sec.data["result"] = result
    return sec


# --------------------------------------------------------------------------- customer value


def high_value_section(client: Any, period: str, lang: str = "zh-TW",
                       top: int = TOP_CUSTOMERS) -> Section:
    """The customers who bring the most value: contract value over the trailing year
    (subscriptions) or predicted 12-month CLV (repeat purchases)."""
    title = text("nb02.high_value.title", lang)
    if client.has("contracts"):
        return _high_value_contracts(client, period, lang, top, title)
    if client.has("orders"):
        return _high_value_orders(client, period, lang, top, title)
    return skipped_section(title, lang, ["contracts", "orders"])


def _high_value_contracts(client: Any, period: str, lang: str, top: int, title: str) -> Section:
    from kpitools.metrics import acv

    p = report_period(period, client)
    window = trailing_window(p, 4)
    per = acv(client["contracts"], window, mode="per_contract", by="tier")
    by_customer = (per.groupby("customer_id", as_index=False)
                   .agg(acv=("acv", "sum"), contracts=("contract_id", "count"),
                        tier=("tier", "last"))
                   .sort_values("acv", ascending=False, ignore_index=True))
    by_customer["share"] = by_customer["acv"] / by_customer["acv"].sum()
    sec = Section(title=title, lang=lang)
    head = by_customer.head(top)
    sec.notes.append(text("nb02.high_value.contracts_note", lang, n=len(head),
                          window=window_label(p, 4), share=fmt_pct(head["share"].sum(), lang),
                          total=len(by_customer)))
    shown = head.assign(acv=head["acv"].map(lambda v: fmt_money(v, client.currency, lang)),
                        share=head["share"].map(lambda v: fmt_pct(v, lang)))
    sec.tables.append(("", localize_columns(shown, "high_value", lang)))
    sec.data["customers"] = by_customer
    return sec


def _high_value_orders(client: Any, period: str, lang: str, top: int, title: str) -> Section:
    from kpitools.models import predicted_clv_by_customer

    p = report_period(period, client)
    clv = predicted_clv_by_customer(client["orders"], p.label, lang=lang)
    sec = Section(title=title, lang=lang)
    tiers = (clv.groupby("tier_label", sort=False)
             .agg(customers=("customer_id", "count"), clv=("clv", "sum")).reset_index())
    tiers["share"] = tiers["clv"] / tiers["clv"].sum()
    sec.notes.append(text("nb02.high_value.orders_note", lang,
                          share=fmt_pct(tiers["share"].iloc[0], lang),
                          tier=tiers["tier_label"].iloc[0]))
    shown = tiers.assign(clv=tiers["clv"].map(lambda v: fmt_money(v, client.currency, lang)),
                         share=tiers["share"].map(lambda v: fmt_pct(v, lang)))
    sec.tables.append((text("nb02.high_value.tiers", lang), localize_columns(shown, "tiers", lang)))
    head = clv.head(top).assign(
        clv=lambda d: d["clv"].map(lambda v: fmt_money(v, client.currency, lang)),
        p_alive=lambda d: d["p_alive"].map(lambda v: fmt_pct(v, lang)),
        monetary_value=lambda d: d["monetary_value"].map(
            lambda v: fmt_money(v, client.currency, lang)))
    sec.tables.append((text("nb02.high_value.top", lang, n=top),
                       localize_columns(head, "predicted", lang)))
    sec.data["clv"] = clv
    return sec


def cltv_section(client: Any, period: str, lang: str = "zh-TW") -> Section:
    """Simple CLTV = ARPA × gross margin ÷ monthly churn, with its three inputs.

    ``values``: ``cltv`` and ``arpa`` as the catalog computes them.
    """
    from kpitools.catalog import compute_kpi

    title = text("nb02.cltv.title", lang)
    if (skipped := _needs(client, title, lang, ("contracts",))) is not None:
        return skipped
    base = scenario_base(client, period)
    sec = Section(title=title, lang=lang)
    value = compute_kpi("cltv", client, base.period)
    sec.values["cltv"] = value
    sec.values["arpa"] = compute_kpi("arpa", client, base.period)
    rows = pd.DataFrame({
        "item": [kpi_label("arpa", lang), text("nb02.cltv.churn", lang),
                 text("nb02.cltv.margin", lang), kpi_label("cltv", lang)],
        "value": [fmt_money(base.arpa, client.currency, lang), fmt_pct(base.monthly_churn, lang, 2),
                  fmt_pct(base.gross_margin, lang), fmt_money(value, client.currency, lang)],
    })
    sec.tables.append(("", localize_columns(rows, "items", lang)))
    sec.notes.append(text("nb02.cltv.formula", lang))
    if base.floored:
        sec.notes.append(text("nb02.cltv.floored", lang))
    return sec


def predictive_clv_section(client: Any, period: str, lang: str = "zh-TW") -> Section:
    """BG/NBD × Gamma-Gamma: average predicted 12-month CLV per customer, with a P(alive) map.

    ``values["predicted_clv"]`` = the catalog's ``predicted_clv`` (12 months, 1 %/month
    discount, margin 1).
    """
    from kpitools.catalog import compute_kpi
    from kpitools.models import fit_bgnbd, rfm_summary
    from kpitools.models.plots import p_alive_heatmap

    title = text("nb02.predictive.title", lang)
    if (skipped := _needs(client, title, lang, ("orders",))) is not None:
        return skipped
    p = report_period(period, client)
    sec = Section(title=title, lang=lang)
    value = compute_kpi("predicted_clv", client, p)
    sec.values["predicted_clv"] = value
    sec.notes.append(text("nb02.predictive.note", lang,
                          value=fmt_money(value, client.currency, lang),
                          period=period_label(p, lang)))
    orders = client["orders"]
    summary = rfm_summary(orders[orders["order_date"] < p.end], observation_end=p.last_day,
                          time_scaler=7)
    model = fit_bgnbd(summary)
    sec.figures.append(p_alive_heatmap(model, T=float(summary["T"].max()), lang=lang))
    sec.data.update(model=model, summary=summary)
    return sec


def retention_section(client: Any, period: str, lang: str = "zh-TW") -> Section:
    """sBG: the share of a new cohort still renewing after each yearly term, projected.

    ``values["projected_retention"]`` = the catalog's 12-month projection.
    """
    from kpitools.catalog import compute_kpi
    from kpitools.models import contract_lifetimes, fit_sbg
    from kpitools.models.plots import retention_plot

    title = text("nb02.retention.title", lang)
    if (skipped := _needs(client, title, lang, ("contracts",))) is not None:
        return skipped
    p = report_period(period, client)
    sec = Section(title=title, lang=lang)
    value = compute_kpi("projected_retention", client, p)
    sec.values["projected_retention"] = value
    model = fit_sbg(contract_lifetimes(client["contracts"], p.label))
    sec.notes.append(text("nb02.retention.note", lang, value=fmt_pct(value, lang)))
    sec.figures.append(retention_plot(model, periods=RETENTION_PERIODS, lang=lang))
    sec.data["model"] = model
    return sec


def acquisition_section(client: Any, period: str, lang: str = "zh-TW") -> Section:
    """What a new customer costs and how fast it pays back: CAC, LTV:CAC, CAC payback."""
    from kpitools.catalog import compute_kpi

    title = text("nb02.acquisition.title", lang)
    if (skipped := _needs(client, title, lang, ("contracts", "marketing_spend"))) is not None:
        return skipped
    p = report_period(period, client)
    sec = Section(title=title, lang=lang)
    rows = []
    for kpi_id in ("cac", "ltv_to_cac", "cac_payback_months"):
        value = compute_kpi(kpi_id, client, p)
        sec.values[kpi_id] = value
        rows.append({"item": kpi_label(kpi_id, lang),
                     "value": fmt_value(value, _unit(kpi_id), lang, currency=client.currency)})
    sec.tables.append(("", localize_columns(pd.DataFrame(rows), "items", lang)))
    sec.notes.append(text("nb02.acquisition.note", lang))
    return sec


def churn_section(client: Any, period: str, lang: str = "zh-TW",
                  quarters: int = TREND_QUARTERS) -> Section:
    """Logo churn per quarter and, when ``churn_events`` exist, why customers left (last year)."""
    from kpitools.catalog import compute_kpi, kpi_series
    from kpitools.metrics import churn_reasons
    from kpitools.plots import reasons_chart, trend_chart

    title = text("nb02.churn.title", lang)
    if (skipped := _needs(client, title, lang, ("contracts",))) is not None:
        return skipped
    p = report_period(period, client)
    sec = Section(title=title, lang=lang)
    sec.values["logo_churn_rate"] = compute_kpi("logo_churn_rate", client, p)
    series = kpi_series("logo_churn_rate", client, freq="Q", start=p.shift(1 - quarters).label,
                        end=p.label)
    sec.figures.append(trend_chart(series.rename(kpi_label("logo_churn_rate", lang)),
                                   title=kpi_label("logo_churn_rate", lang), unit="rate",
                                   lang=lang, xlabel=text("common.quarter", lang)))
    if not client.has("churn_events"):
        sec.notes.append(text("common.no_data", lang, tables="churn_events"))
        return sec
    window = trailing_window(p, 4)
    events = client["churn_events"]
    in_window = events[(events["churn_date"] >= window.start) & (events["churn_date"] < window.end)]
    reasons = churn_reasons(events, window, lang=lang)
    sec.notes.append(text("nb02.churn.reasons_note", lang, window=window_label(p, 4),
                          n=len(in_window)))
    sec.tables.append(("", reasons_frame(reasons, lang, client.currency)))
    if len(in_window):
        sec.figures.append(reasons_chart(in_window, lang=lang, currency=client.currency))
    return sec


def _unit(kpi_id: str) -> str:
    from kpitools.workshop._common import kpi_unit

    return kpi_unit(kpi_id)


# --------------------------------------------------------------------------- scenario


@dataclass(frozen=True)
class ScenarioBase:
    """Today's inputs of the simple CLTV: ARPA (currency per month), monthly churn, margin."""

    period: str
    arpa: float
    monthly_churn: float
    gross_margin: float
    customers: float
    floored: bool = False


def scenario_base(client: Any, period: str, gross_margin: float = 1.0) -> ScenarioBase:
    """ARPA, monthly logo churn (floored as the catalog's CLTV does) and paying customers."""
    from kpitools.catalog import get_kpi
    from kpitools.metrics import arpa, monthly_logo_churn_rate, mrr

    p = report_period(period, client)
    contracts = client["contracts"]
    value = arpa(contracts, p)
    churn = monthly_logo_churn_rate(contracts, p)
    floor = float(get_kpi("cltv").kwargs.get("churn_floor", 0.0167))
    floored = bool(churn <= 0)
    customers = mrr(contracts, p) / value if value else 0.0
    return ScenarioBase(period=p.label, arpa=float(value),
                        monthly_churn=floor if floored else float(churn),
                        gross_margin=gross_margin, customers=float(customers), floored=floored)


def cltv_scenario(base: ScenarioBase, *, acv_change: float = 0.0, churn_change: float = 0.0,
                  gross_margin: float | None = None,
                  months: int = SCENARIO_MONTHS) -> pd.DataFrame:
    """CLTV and next-``months`` revenue now and under a scenario.

    Formulas: CLTV = ARPA × margin ÷ c (c = monthly churn). Revenue of today's customers over
    the next n months = customers × ARPA × Σ_{m=0}^{n−1} (1 − c)^m (no new customers). The
    scenario uses ARPA × (1 + ``acv_change``), c × (1 − ``churn_change``) and the new margin.
    Units: currency; changes as fractions (0.10 = +10 %).

    Returns
    -------
    DataFrame indexed by ``cltv``, ``revenue``, ``gross_profit`` with columns ``now``,
    ``scenario``, ``change`` (scenario ÷ now − 1).

    Raises
    ------
    KpitoolsError
        When ``churn_change`` ≥ 1 (churn cannot fall to zero or below) or a margin is
        outside (0, 1].

    Examples
    --------
    >>> b = ScenarioBase("2024Q4", arpa=1000.0, monthly_churn=0.02, gross_margin=0.8,
    ...                  customers=100.0)
    >>> round(cltv_scenario(b, acv_change=0.1, churn_change=0.5).loc["cltv", "scenario"])
    88000
    """
    margin = base.gross_margin if gross_margin is None else gross_margin
    if churn_change >= 1:
        raise KpitoolsError(f"churn_change={churn_change} would make churn zero or negative.\n"
                            "Hint: use a fraction below 1, e.g. 0.2 for churn 20 % lower.")
    for m in (margin, base.gross_margin):
        if not 0 < m <= 1:
            raise KpitoolsError(f"gross margin {m} is outside (0, 1].\n"
                                "Hint: write 55 % as 0.55.")

    def _run(arpa: float, churn: float, gm: float) -> dict[str, float]:
        kept = sum((1 - churn) ** m for m in range(months))
        revenue = base.customers * arpa * kept
        return {"cltv": arpa * gm / churn, "revenue": revenue, "gross_profit": revenue * gm}

    now = _run(base.arpa, base.monthly_churn, base.gross_margin)
    new = _run(base.arpa * (1 + acv_change), base.monthly_churn * (1 - churn_change), margin)
    frame = pd.DataFrame({"now": now, "scenario": new})
    frame["change"] = frame["scenario"] / frame["now"] - 1
    return frame


class ScenarioPanel(Panel):
    """Sliders for ACV change, churn change and gross margin → CLTV and next year's revenue."""

    def __init__(self, client: Any, period: str, lang: str = "zh-TW",
                 gross_margin: float = 1.0) -> None:
        import ipywidgets as widgets

        super().__init__(text("nb02.scenario.title", lang))
        if not client.has("contracts"):
            raise KpitoolsError(text("common.no_data", lang, tables="contracts"))
        self.client, self.lang = client, lang
        self.base = scenario_base(client, period, gross_margin)
        style = {"description_width": "10em"}
        layout = widgets.Layout(width="480px")
        self.controls = {
            "acv_change": widgets.FloatSlider(value=0.0, min=-0.3, max=0.5, step=0.01,
                                              readout_format=".0%", style=style, layout=layout,
                                              description=text("nb02.scenario.acv", lang)),
            "churn_change": widgets.FloatSlider(value=0.0, min=-0.5, max=0.8, step=0.01,
                                                readout_format=".0%", style=style,
                                                layout=layout,
                                                description=text("nb02.scenario.churn", lang)),
            "gross_margin": widgets.FloatSlider(value=gross_margin, min=0.05, max=1.0, step=0.01,
                                                readout_format=".0%", style=style,
                                                layout=layout,
                                                description=text("nb02.scenario.margin", lang)),
        }
        self._wire()

    def refresh(self) -> None:
        self.result = cltv_scenario(self.base, acv_change=self.controls["acv_change"].value,
                                    churn_change=self.controls["churn_change"].value,
                                    gross_margin=self.controls["gross_margin"].value)
        self.output.value = frame_html(scenario_table(self.result, self.lang,
                                                      self.client.currency))


def scenario_table(result: pd.DataFrame, lang: str, currency: str = "TWD") -> pd.DataFrame:
    """The scenario frame with row names and money in ``lang``."""
    rows = pd.DataFrame({
        "item": [text(f"nb02.scenario.{k}", lang) for k in result.index],
        "now": [fmt_money(v, currency, lang) for v in result["now"]],
        "scenario": [fmt_money(v, currency, lang) for v in result["scenario"]],
        "change": [fmt_pct(v, lang, signed=True) for v in result["change"]],
    })
    return localize_columns(rows, "scenario", lang)


def scenario_section(client: Any, period: str, lang: str = "zh-TW", *, acv_change: float = 0.1,
                     churn_change: float = 0.2, gross_margin: float = 1.0) -> Section:
    """The scenario table for the parameters' example (static version of the panel)."""
    title = text("nb02.scenario.title", lang)
    if (skipped := _needs(client, title, lang, ("contracts",))) is not None:
        return skipped
    base = scenario_base(client, period, gross_margin)
    result = cltv_scenario(base, acv_change=acv_change, churn_change=churn_change)
    sec = Section(title=title, lang=lang)
    sec.notes.append(text("nb02.scenario.note", lang, acv=fmt_pct(acv_change, lang, signed=True),
                          churn=fmt_pct(-churn_change, lang, signed=True)))
    sec.tables.append(("", scenario_table(result, lang, client.currency)))
    sec.data["result"] = result
    return sec
