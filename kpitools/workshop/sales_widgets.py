"""Notebook 04 (sales department): 3–5 sales KPIs, funnel and bottleneck, win rate and cycle,
quota attainment and commissions, why deals and customers were lost, satisfaction and response.

The article: pick 3–5 clear sales KPIs tied to the strategy, find the funnel's bottleneck by
comparing channels, analyse why customers leave, and link KPIs to pay fairly and openly.
Funnel, lost reasons and the churn reasons use the trailing four quarters, because deals created
late in one quarter have not closed by its end.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import pandas as pd

from kpitools._errors import KpitoolsError
from kpitools.i18n import fmt_delta, fmt_money, fmt_pct, fmt_value, period_label
from kpitools.workshop._common import (
    Panel,
    Section,
    frame_html,
    kpi_label,
    kpi_unit,
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
    "DEFAULT_PLAN",
    "FunnelPanel",
    "IncentivePanel",
    "attainment_section",
    "commission_plan",
    "funnel_section",
    "incentive_section",
    "lost_section",
    "sales_kpis",
    "sales_kpis_section",
    "service_section",
    "win_cycle_section",
]

#: Strategies whose KPIs a sales department owns (the article's sales KPIs).
SALES_STRATEGIES = ("sales_efficiency", "acquire_customers", "customer_satisfaction")
#: How many sales KPIs to show (the article: 3–5).
N_SALES_KPIS = 5
#: Quarters in the win-rate and cycle-length trends.
TREND_QUARTERS = 6
#: Quarters pooled for the funnel and the lost/churn reasons.
WINDOW_QUARTERS = 4
#: Example commission plan: 5 % of bookings up to quota, 8 % above it (marginal).
DEFAULT_PLAN = {"base_rate": 0.05, "accelerated_rate": 0.08, "threshold": 0.0}
#: Share of quota from which the accelerated rate applies.
QUOTA_LINE = 1.0


def _needs(client: Any, title: str, lang: str, tables: Sequence[str]) -> Section | None:
    missing = missing_tables(client, tables)
    return skipped_section(title, lang, missing) if missing else None


# --------------------------------------------------------------------------- KPIs


def sales_kpis(client: Any, n: int = N_SALES_KPIS) -> list[str]:
    """The sales department's KPIs: catalog KPIs serving sales strategies, with data on hand."""
    from kpitools.goals import recommend_kpis

    picks = recommend_kpis(list(SALES_STRATEGIES), client.business_model, n=n,
                           available_tables=client.tables)
    return [k for k, ok in zip(picks["kpi_id"], picks["has_data"], strict=True) if ok]


def sales_kpis_section(client: Any, period: str, lang: str = "zh-TW",
                       kpi_ids: Sequence[str] | None = None) -> Section:
    """Each sales KPI this quarter and last, with the change. ``values`` = this quarter."""
    from kpitools.catalog import compute_kpi

    title = text("nb04.kpis.title", lang)
    ids = list(kpi_ids) if kpi_ids is not None else sales_kpis(client)
    if not ids:
        return skipped_section(title, lang, ["deals", "feedback"])
    p = report_period(period, client)
    sec = Section(title=title, lang=lang)
    rows = []
    for kpi_id in ids:
        now = _value(compute_kpi, kpi_id, client, p)
        before = _value(compute_kpi, kpi_id, client, p.previous())
        unit = kpi_unit(kpi_id)
        sec.values[kpi_id] = now
        change = None if now is None or before is None else now - before
        rows.append({text("common.kpi", lang): kpi_label(kpi_id, lang),
                     period_label(p, lang): fmt_value(now, unit, lang, currency=client.currency),
                     period_label(p.previous(), lang): fmt_value(before, unit, lang,
                                                                 currency=client.currency),
                     text("nb04.kpis.change", lang): fmt_delta(change, lang, unit=unit,
                                                               currency=client.currency)})
    sec.tables.append(("", pd.DataFrame(rows)))
    sec.notes.append(text("nb04.kpis.note", lang, n=len(ids)))
    return sec


# --------------------------------------------------------------------------- funnel


def funnel_section(client: Any, period: str, lang: str = "zh-TW",
                   channel: str | None = None) -> Section:
    """Deals reaching each stage over the trailing year, conversion by channel, the bottleneck.

    ``channel`` limits the funnel chart to one channel (the table always shows every channel).
    """
    from kpitools.metrics.sales import bottleneck, funnel
    from kpitools.plots import funnel_chart

    title = text("nb04.funnel.title", lang)
    if (skipped := _needs(client, title, lang, ("deals",))) is not None:
        return skipped
    stages = client.funnel_stages
    if not stages:
        sec = Section(title=title, lang=lang)
        sec.skipped = text("nb04.funnel.no_stages", lang)
        return sec
    p = report_period(period, client)
    window = trailing_window(p, WINDOW_QUARTERS)
    deals = client["deals"]
    if channel:
        deals = deals[deals["channel"] == channel]
    sec = Section(title=title, lang=lang)
    total = funnel(deals, stages, window)
    by_channel = funnel(client["deals"], stages, window, by="channel")
    pivot = by_channel["stage_conversion"].unstack("stage").reindex(columns=stages[1:])
    pivot = pivot.map(lambda v: fmt_pct(v, lang)).rename(
        columns=lambda s: _stage(s, lang))
    pivot.index.name = text("nb04.funnel.channel", lang)
    pivot.columns.name = None
    found = bottleneck(client["deals"], stages, window, by="channel")
    sec.notes.append(text("nb04.funnel.window", lang, window=window_label(p, WINDOW_QUARTERS)))
    if found is not None:
        sec.notes.append(text("nb04.funnel.bottleneck", lang, segment=found.segment,
                              step=f"{_stage(found.from_stage, lang)} → "
                                   f"{_stage(found.to_stage, lang)}",
                              conversion=fmt_pct(found.conversion, lang),
                              rest=fmt_pct(found.conversion_rest, lang),
                              lost=f"{found.lost_deals:,.0f}"))
    sec.tables.append((text("nb04.funnel.by_channel", lang), pivot.reset_index()))
    chart_title = text("nb04.funnel.chart", lang, channel=channel or text("nb04.funnel.all",
                                                                          lang))
    sec.figures.append(funnel_chart(total, lang=lang, title=chart_title))
    sec.data.update(funnel=total, by_channel=by_channel, bottleneck=found)
    return sec


def _stage(stage: str, lang: str) -> str:
    from kpitools.i18n import has, t

    return t(f"stage.{stage}", lang) if has(f"stage.{stage}") else str(stage)


def win_cycle_section(client: Any, period: str, lang: str = "zh-TW",
                      quarters: int = TREND_QUARTERS) -> Section:
    """Win rate and median sales-cycle length per quarter. ``values``: both, this quarter."""
    from kpitools.catalog import compute_kpi, kpi_series
    from kpitools.plots import trend_chart

    title = text("nb04.win.title", lang)
    if (skipped := _needs(client, title, lang, ("deals",))) is not None:
        return skipped
    p = report_period(period, client)
    sec = Section(title=title, lang=lang)
    for kpi_id in ("win_rate", "sales_cycle_days"):
        sec.values[kpi_id] = compute_kpi(kpi_id, client, p)
        series = kpi_series(kpi_id, client, freq="Q", start=p.shift(1 - quarters).label,
                            end=p.label)
        sec.figures.append(trend_chart(series.rename(kpi_label(kpi_id, lang)),
                                       title=kpi_label(kpi_id, lang), unit=kpi_unit(kpi_id),
                                       lang=lang, xlabel=text("common.quarter", lang)))
    sec.notes.append(text("nb04.win.note", lang,
                          win=fmt_pct(sec.values["win_rate"], lang),
                          days=fmt_value(sec.values["sales_cycle_days"], "days", lang)))
    return sec


# --------------------------------------------------------------------------- people and pay


def attainment_section(client: Any, period: str, lang: str = "zh-TW") -> Section:
    """Quota attainment per owner in ``period`` (won amount closed ÷ quota)."""
    from kpitools.metrics.sales import quota_attainment
    from kpitools.plots import bar_chart

    title = text("nb04.attainment.title", lang)
    if (skipped := _needs(client, title, lang, ("deals", "quotas"))) is not None:
        return skipped
    p = report_period(period, client)
    sec = Section(title=title, lang=lang)
    table = quota_attainment(client["deals"], client["quotas"], p)
    table = table.sort_values("attainment", ascending=False)
    below = [str(o) for o, a in table["attainment"].items() if a < 1]
    sec.notes.append(text("nb04.attainment.note", lang, met=int((table["attainment"] >= 1).sum()),
                          n=len(table)))
    shown = table.reset_index().assign(
        won_amount=lambda d: d["won_amount"].map(lambda v: fmt_money(v, client.currency, lang)),
        quota=lambda d: d["quota"].map(lambda v: fmt_money(v, client.currency, lang)),
        attainment=lambda d: d["attainment"].map(lambda v: fmt_pct(v, lang)))
    sec.tables.append(("", localize_columns(shown, "attainment", lang)))
    sec.figures.append(bar_chart(table["attainment"], title=title, unit="rate", lang=lang,
                                 horizontal=True, highlight=below or None,
                                 xlabel=text("nb04.attainment.axis", lang)))
    sec.data["table"] = table
    return sec


def commission_plan(base_rate: float = DEFAULT_PLAN["base_rate"],
                    accelerated_rate: float = DEFAULT_PLAN["accelerated_rate"],
                    threshold: float = DEFAULT_PLAN["threshold"]) -> Any:
    """A two-tier marginal plan on quota attainment: ``base_rate`` up to quota, then
    ``accelerated_rate``; nothing under ``threshold`` × quota (0 = no gate)."""
    from kpitools.goals import CommissionPlan

    return CommissionPlan(tiers=[(0.0, base_rate), (QUOTA_LINE, accelerated_rate)],
                          basis="attainment", threshold=threshold)


def incentive_section(client: Any, period: str, lang: str = "zh-TW",
                      plan: Any = None) -> Section:
    """Commission per owner under ``plan`` (default :func:`commission_plan`), with the caveats."""
    from kpitools.goals import okr_pay_caution, payout_table

    title = text("nb04.incentive.title", lang)
    if (skipped := _needs(client, title, lang, ("deals", "quotas"))) is not None:
        return skipped
    plan = plan or commission_plan()
    p = report_period(period, client)
    sec = Section(title=title, lang=lang)
    table = payout_table(client["deals"], client["quotas"], plan, p,
                         fiscal_year_start_month=client.fiscal_year_start_month)
    sec.notes.append(plan_text(plan, lang))
    sec.notes.append(text("nb04.incentive.total", lang,
                          total=fmt_money(table["commission"].sum(), client.currency, lang)))
    sec.notes.append(text("nb04.incentive.fair", lang))
    sec.notes.append(okr_pay_caution(lang))
    sec.tables.append(("", payout_frame(table, lang, client.currency)))
    sec.data["table"] = table
    return sec


def plan_text(plan: Any, lang: str) -> str:
    """The two-tier plan in one sentence."""
    (_, base), (_, fast) = plan.tiers[0], plan.tiers[-1]
    key = "nb04.incentive.plan" if plan.threshold else "nb04.incentive.plan_no_gate"
    return text(key, lang, base=fmt_pct(base, lang), fast=fmt_pct(fast, lang),
                gate=fmt_pct(plan.threshold, lang))


def payout_frame(table: pd.DataFrame, lang: str, currency: str) -> pd.DataFrame:
    """:func:`payout_table` output with money, shares and headers in ``lang``."""
    money = {c: table[c].map(lambda v: fmt_money(v, currency, lang))
             for c in ("quota", "bookings", "commission")}
    rates = {c: table[c].map(lambda v: fmt_pct(v, lang)) for c in ("attainment",
                                                                    "effective_rate")}
    return localize_columns(table.assign(**money, **rates), "payout", lang)


class IncentivePanel(Panel):
    """Sliders for the base rate, the rate above quota and the gate → commission per owner."""

    def __init__(self, client: Any, period: str, lang: str = "zh-TW") -> None:
        import ipywidgets as widgets

        super().__init__(text("nb04.incentive.panel", lang))
        missing = missing_tables(client, ("deals", "quotas"))
        if missing:
            raise KpitoolsError(text("common.no_data", lang, tables=", ".join(missing)))
        self.client, self.lang = client, lang
        self.period = report_period(period, client)
        style = {"description_width": "12em"}
        layout = widgets.Layout(width="480px")
        pct = {"readout_format": ".1%", "style": style, "layout": layout}
        self.controls = {
            "base_rate": widgets.FloatSlider(value=DEFAULT_PLAN["base_rate"], min=0.0, max=0.2,
                                             step=0.005,
                                             description=text("nb04.incentive.base", lang),
                                             **pct),
            "accelerated_rate": widgets.FloatSlider(
                value=DEFAULT_PLAN["accelerated_rate"], min=0.0, max=0.3, step=0.005,
                description=text("nb04.incentive.fast", lang), **pct),
            "threshold": widgets.FloatSlider(value=DEFAULT_PLAN["threshold"], min=0.0, max=1.0,
                                             step=0.05,
                                             description=text("nb04.incentive.gate", lang),
                                             **pct),
        }
        self._wire()

    def refresh(self) -> None:
        from kpitools.goals import payout_table

        plan = commission_plan(**{k: w.value for k, w in self.controls.items()})
        self.result = payout_table(self.client["deals"], self.client["quotas"], plan,
                                   self.period,
                                   fiscal_year_start_month=self.client.fiscal_year_start_month)
        total = text("nb04.incentive.total", self.lang,
                     total=fmt_money(self.result["commission"].sum(), self.client.currency,
                                     self.lang))
        self.output.value = (f"<p>{html.escape(plan_text(plan, self.lang))}<br/>"
                             f"<b>{html.escape(total)}</b></p>"
                             + frame_html(payout_frame(self.result, self.lang,
                                                       self.client.currency)))


class FunnelPanel(Panel):
    """A channel dropdown → the funnel chart and bottleneck of that channel."""

    def __init__(self, client: Any, period: str, lang: str = "zh-TW") -> None:
        import ipywidgets as widgets

        super().__init__(text("nb04.funnel.panel", lang))
        if not client.has("deals"):
            raise KpitoolsError(text("common.no_data", lang, tables="deals"))
        self.client, self.lang, self.period = client, lang, period
        channels = sorted(client["deals"]["channel"].dropna().unique())
        self.controls = {"channel": widgets.Dropdown(
            options=[(text("nb04.funnel.all", lang), "")] + [(str(c), str(c)) for c in channels],
            value="", description=text("nb04.funnel.channel", lang))}
        self._wire()

    def refresh(self) -> None:
        sec = funnel_section(self.client, self.period, self.lang,
                             channel=self.controls["channel"].value or None)
        self.result = sec
        self.output.value = "".join(f"<p>{html.escape(n)}</p>" for n in sec.notes)
        self.show_figure(sec.figures[0] if sec.figures else None)


# --------------------------------------------------------------------------- reasons, service


def lost_section(client: Any, period: str, lang: str = "zh-TW") -> Section:
    """Why deals were lost and why customers left, over the trailing year."""
    from kpitools.metrics import churn_reasons
    from kpitools.metrics.sales import lost_reasons
    from kpitools.plots import reasons_chart

    title = text("nb04.lost.title", lang)
    have = [t for t in ("deals", "churn_events") if client.has(t)]
    if not have:
        return skipped_section(title, lang, ["deals", "churn_events"])
    p = report_period(period, client)
    window = trailing_window(p, WINDOW_QUARTERS)
    sec = Section(title=title, lang=lang)
    sec.notes.append(text("nb04.funnel.window", lang, window=window_label(p, WINDOW_QUARTERS)))
    if client.has("deals"):
        lost = lost_reasons(client["deals"], window).reset_index()
        lost = lost.assign(amount=lost["amount"].map(lambda v: fmt_money(v, client.currency,
                                                                          lang)),
                           share=lost["share"].map(lambda v: fmt_pct(v, lang)))
        sec.tables.append((text("nb04.lost.deals", lang), localize_columns(lost, "lost", lang)))
    else:
        sec.notes.append(text("common.no_data", lang, tables="deals"))
    if client.has("churn_events"):
        events = client["churn_events"]
        in_window = events[(events["churn_date"] >= window.start)
                           & (events["churn_date"] < window.end)]
        reasons = churn_reasons(events, window, lang=lang)
        sec.tables.append((text("nb04.lost.churn", lang),
                           reasons_frame(reasons, lang, client.currency)))
        if len(in_window):
            sec.figures.append(reasons_chart(in_window, lang=lang, currency=client.currency))
    else:
        sec.notes.append(text("common.no_data", lang, tables="churn_events"))
    return sec


def service_section(client: Any, period: str, lang: str = "zh-TW") -> Section:
    """Customer satisfaction and first-response time in ``period``."""
    from kpitools.catalog import compute_kpi
    from kpitools.metrics.service import response_time_distribution
    from kpitools.plots import bar_chart

    title = text("nb04.service.title", lang)
    if (skipped := _needs(client, title, lang, ("feedback",))) is not None:
        return skipped
    p = report_period(period, client)
    sec = Section(title=title, lang=lang)
    rows = []
    for kpi_id in ("csat_average", "csat_share_satisfied", "median_response_hours",
                   "response_within_sla_rate"):
        value = compute_kpi(kpi_id, client, p)
        sec.values[kpi_id] = value
        rows.append({"item": kpi_label(kpi_id, lang),
                     "value": fmt_value(value, kpi_unit(kpi_id), lang)})
    sec.tables.append(("", localize_columns(pd.DataFrame(rows), "items", lang)))
    dist = response_time_distribution(client["feedback"], p)
    sec.figures.append(bar_chart(dist["tickets"], title=text("nb04.service.chart", lang,
                                                             period=period_label(p, lang)),
                                 unit="count", lang=lang,
                                 xlabel=text("nb04.service.axis", lang)))
    sec.data["distribution"] = dist
    return sec


def _value(compute: Any, kpi_id: str, client: Any, period: Any) -> float | None:
    try:
        value = compute(kpi_id, client, period)
    except KpitoolsError:
        return None
    return None if value is None or pd.isna(value) else float(value)
