"""Notebook 05 (website KPIs): the article's blog example, for any client with web data.

Traffic, engagement and bounce, ad and affiliate revenue, social followers and mentions, a
SMART KPI table shaped like the article's (business goal, KPI, how it is measured, target,
time frame, and the five SMART verdicts), and attainment against the client's goals.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import pandas as pd

from kpitools._errors import KpitoolsError
from kpitools.i18n import direction_label, fmt_pct, fmt_value, localize, period_label
from kpitools.workshop._common import (
    Panel,
    Section,
    kpi_label,
    kpi_unit,
    localize_columns,
    missing_tables,
    report_period,
    skipped_section,
    text,
)
from kpitools.workshop._inputs import input_text, parse_number, unit_input
from kpitools.workshop.okr_widgets import attainment_text

__all__ = [
    "TREND_KPIS",
    "AttainmentPanel",
    "TrendPanel",
    "engagement_section",
    "goals_attainment_section",
    "kpi_trend",
    "revenue_section",
    "smart_table_section",
    "social_section",
    "traffic_section",
]

#: Months in the monthly trends.
TREND_MONTHS = 12
#: Amounts below this (e.g. revenue per session) are shown with cents.
SMALL_AMOUNT = 100
#: Web and social KPIs offered by the trend widget.
TREND_KPIS = ("sessions", "active_users", "engagement_rate", "bounce_rate",
              "average_engagement_seconds", "key_events", "ad_revenue", "affiliate_revenue",
              "content_revenue", "followers", "mentions")


def _needs(client: Any, title: str, lang: str, tables: Sequence[str]) -> Section | None:
    missing = missing_tables(client, tables)
    return skipped_section(title, lang, missing) if missing else None


def kpi_trend(client: Any, kpi_ids: Sequence[str], period: str, *, freq: str = "M",
              steps: int = TREND_MONTHS, lang: str = "zh-TW") -> pd.DataFrame:
    """The KPIs over the ``steps`` months (``freq="M"``) or quarters (``"Q"``) ending with
    ``period``; one column per KPI, named in ``lang``."""
    from kpitools.catalog import kpi_series
    from kpitools.periods import parse_period

    p = report_period(period, client)
    last = parse_period(p.last_day.strftime("%Y-%m")) if freq == "M" else p
    first = last.shift(1 - steps)
    columns = {kpi_label(k, lang): kpi_series(k, client, freq=freq, start=first.label,
                                              end=last.label)
               for k in kpi_ids}
    return pd.DataFrame(columns)


def _values_table(sec: Section, client: Any, period: Any, kpi_ids: Sequence[str],
                  lang: str) -> None:
    from kpitools.catalog import compute_kpi

    rows = []
    for kpi_id in kpi_ids:
        value = compute_kpi(kpi_id, client, period)
        sec.values[kpi_id] = value
        unit = kpi_unit(kpi_id)
        digits = 2 if unit == "currency" and abs(value) < SMALL_AMOUNT else None
        rows.append({"item": kpi_label(kpi_id, lang),
                     "value": fmt_value(value, unit, lang, currency=client.currency,
                                        digits=digits)})
    sec.tables.append(("", localize_columns(pd.DataFrame(rows), "items", lang)))


# --------------------------------------------------------------------------- sections


def traffic_section(client: Any, period: str, lang: str = "zh-TW") -> Section:
    """Sessions and active users (values for the period), a monthly trend, traffic by channel."""
    from kpitools.metrics.web import traffic_by_channel
    from kpitools.plots import trend_chart

    title = text("nb05.traffic.title", lang)
    if (skipped := _needs(client, title, lang, ("web_traffic",))) is not None:
        return skipped
    p = report_period(period, client)
    sec = Section(title=title, lang=lang)
    _values_table(sec, client, p, ("sessions", "active_users", "key_events"), lang)
    trend = kpi_trend(client, ["sessions"], period, lang=lang)
    sec.figures.append(trend_chart(trend, title=text("nb05.traffic.trend", lang), unit="count",
                                   lang=lang, xlabel=text("common.month", lang)))
    channels = traffic_by_channel(client["web_traffic"], p).reset_index()
    channels = channels.assign(
        engagement_rate=channels["engagement_rate"].map(lambda v: fmt_pct(v, lang)),
        session_share=channels["session_share"].map(lambda v: fmt_pct(v, lang)),
        sessions=channels["sessions"].map(lambda v: f"{v:,.0f}"),
        revenue=channels["revenue"].map(lambda v: fmt_value(v, "currency", lang,
                                                            currency=client.currency)))
    sec.tables.append((text("nb05.traffic.channels", lang, period=period_label(p, lang)),
                       localize_columns(channels, "channels", lang)))
    sec.data["trend"] = trend
    return sec


def engagement_section(client: Any, period: str, lang: str = "zh-TW") -> Section:
    """Engagement rate, bounce rate (= 1 − engagement) and engagement time, with a trend."""
    from kpitools.plots import trend_chart

    title = text("nb05.engagement.title", lang)
    if (skipped := _needs(client, title, lang, ("web_traffic",))) is not None:
        return skipped
    p = report_period(period, client)
    sec = Section(title=title, lang=lang)
    _values_table(sec, client, p, ("engagement_rate", "bounce_rate",
                                   "average_engagement_seconds"), lang)
    trend = kpi_trend(client, ["engagement_rate", "bounce_rate"], period, lang=lang)
    sec.figures.append(trend_chart(trend, title=text("nb05.engagement.trend", lang),
                                   unit="rate", lang=lang, xlabel=text("common.month", lang)))
    sec.notes.append(text("nb05.engagement.note", lang))
    return sec


def revenue_section(client: Any, period: str, lang: str = "zh-TW") -> Section:
    """Ad and affiliate revenue of the period, and both per month."""
    from kpitools.plots import trend_chart

    title = text("nb05.revenue.title", lang)
    if (skipped := _needs(client, title, lang, ("web_traffic",))) is not None:
        return skipped
    p = report_period(period, client)
    sec = Section(title=title, lang=lang)
    _values_table(sec, client, p, ("ad_revenue", "affiliate_revenue", "content_revenue",
                                   "revenue_per_session"), lang)
    if not sec.values["content_revenue"]:
        sec.notes.append(text("nb05.revenue.none", lang))
        return sec
    trend = kpi_trend(client, ["ad_revenue", "affiliate_revenue"], period, lang=lang)
    sec.figures.append(trend_chart(trend, title=text("nb05.revenue.trend", lang),
                                   unit="currency", lang=lang, currency=client.currency,
                                   xlabel=text("common.month", lang)))
    return sec


def social_section(client: Any, period: str, lang: str = "zh-TW") -> Section:
    """Followers at the period's end (per platform), their growth, and brand mentions."""
    from kpitools.plots import bar_chart

    title = text("nb05.social.title", lang)
    if (skipped := _needs(client, title, lang, ("social",))) is not None:
        return skipped
    p = report_period(period, client)
    sec = Section(title=title, lang=lang)
    _values_table(sec, client, p, ("followers", "follower_growth_rate", "mentions"), lang)
    social = client["social"]
    inside = social[(social["date"] >= p.start) & (social["date"] < p.end)]
    latest = inside.sort_values("date").groupby("platform")["followers"].last()
    sec.figures.append(bar_chart(latest.sort_values(ascending=False),
                                 title=text("nb05.social.chart", lang,
                                            date=p.last_day.strftime("%Y-%m-%d")),
                                 unit="count", lang=lang,
                                 xlabel=text("nb05.social.platform", lang)))
    sec.data["followers_by_platform"] = latest
    return sec


def _goals_for(client: Any, period: Any) -> list[Any]:
    from kpitools.goals import goal_from_dict

    goals = [goal_from_dict(g, index=i) for i, g in enumerate(client.goals)]
    return [g for g in goals if g.period and report_period(g.period, client).label == period.label]


def smart_table_section(client: Any, period: str, lang: str = "zh-TW") -> Section:
    """The article's SMART KPI table, one row per goal: business goal, KPI, how it is
    measured, target, time frame, and a ✔/▲/✘ per SMART letter."""
    from kpitools.catalog import get_kpi
    from kpitools.goals import check_smart

    title = text("nb05.smart.title", lang)
    p = report_period(period, client)
    goals = _goals_for(client, p)
    sec = Section(title=title, lang=lang)
    if not goals:
        sec.skipped = text("nb05.smart.none", lang, period=period_label(p, lang))
        return sec
    marks = {"pass": "✔", "warn": "▲", "fail": "✘"}
    rows = []
    for goal in goals:
        entry = get_kpi(goal.kpi_id)
        unit = entry.unit
        change = goal.required_change(goal.baseline)
        findings = check_smart(goal, client, lang=lang, strategy=client.strategy)
        rows.append({
            "objective": localize(goal.objective, lang) if goal.objective else "",
            "kpi": localize(entry.name, lang),
            "measure": text("nb05.smart.measure", lang, tables=", ".join(entry.tables),
                            direction=direction_label(entry.direction, lang)),
            "target": text("nb05.smart.target", lang,
                           baseline=fmt_value(goal.baseline, unit, lang,
                                              currency=client.currency),
                           target=fmt_value(goal.target, unit, lang, currency=client.currency),
                           change=fmt_pct(change, lang, signed=True)),
            "time_frame": period_label(report_period(goal.period, client), lang),
            "smart": " ".join(f"{f.criterion[0].upper()}{marks[f.status]}" for f in findings),
        })
    sec.tables.append(("", localize_columns(pd.DataFrame(rows), "smart_table", lang)))
    sec.notes.append(text("nb05.smart.legend", lang))
    return sec


def goals_attainment_section(client: Any, period: str, lang: str = "zh-TW") -> Section:
    """Attainment of each goal of the period (:func:`kpitools.goals.scorecard`), with a chart.

    ``data["scorecard"]`` is the raw scorecard; ``data["goals"]`` the metrics.json entries.
    """
    from kpitools.goals import scorecard
    from kpitools.plots import scorecard_chart

    title = text("nb05.attainment.title", lang)
    p = report_period(period, client)
    goals = _goals_for(client, p)
    sec = Section(title=title, lang=lang)
    if not goals:
        sec.skipped = text("nb05.smart.none", lang, period=period_label(p, lang))
        return sec
    card = scorecard(goals, client, p, lang=lang)
    shown = card.assign(
        target=[fmt_value(v, u, lang, currency=client.currency)
                for v, u in zip(card["target"], card["unit"], strict=True)],
        actual=[fmt_value(v, u, lang, currency=client.currency)
                for v, u in zip(card["actual"], card["unit"], strict=True)],
        attainment=[attainment_text(r, lang, client.currency)
                    for r in card.to_dict("records")])
    sec.tables.append(("", localize_columns(shown, "scorecard", lang)))
    sec.figures.append(scorecard_chart(card, lang=lang, title=title))
    met = int(card["status"].isin(["achieved", "on_track"]).sum())
    sec.notes.append(text("nb05.attainment.note", lang, met=met, n=len(card)))
    sec.data["scorecard"] = card
    sec.data["goals"] = [
        {"goal_id": str(r.goal_id), "kpi": str(r.kpi), "target": _num(r.target),
         "actual": _num(r.actual), "attainment": _num(r.attainment), "status": str(r.status)}
        for r in card.itertuples()
    ]
    return sec


def _num(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


# --------------------------------------------------------------------------- widgets


class TrendPanel(Panel):
    """A KPI dropdown and a month/quarter toggle → the KPI's trend chart."""

    def __init__(self, client: Any, period: str, lang: str = "zh-TW") -> None:
        import ipywidgets as widgets

        from kpitools.catalog import get_kpi

        super().__init__(text("nb05.panel.trend", lang))
        offered = [k for k in TREND_KPIS if all(client.has(t) for t in get_kpi(k).tables)]
        if not offered:
            raise KpitoolsError(text("common.no_data", lang, tables="web_traffic"))
        self.client, self.lang, self.period = client, lang, period
        self.controls = {
            "kpi": widgets.Dropdown(options=[(kpi_label(k, lang), k) for k in offered],
                                    value=offered[0], description=text("common.kpi", lang)),
            "freq": widgets.ToggleButtons(options=[(text("common.month", lang), "M"),
                                                   (text("common.quarter", lang), "Q")],
                                          value="M"),
        }
        self._wire()

    def refresh(self) -> None:
        from kpitools.plots import trend_chart

        kpi_id, freq = self.controls["kpi"].value, self.controls["freq"].value
        steps = TREND_MONTHS if freq == "M" else TREND_MONTHS // 3 * 2
        self.result = kpi_trend(self.client, [kpi_id], self.period, freq=freq, steps=steps,
                                lang=self.lang)
        axis = text("common.month" if freq == "M" else "common.quarter", self.lang)
        self.show_figure(trend_chart(self.result, title=kpi_label(kpi_id, self.lang),
                                     unit=kpi_unit(kpi_id), lang=self.lang,
                                     currency=self.client.currency, xlabel=axis))
        self.output.value = ""


class AttainmentPanel(Panel):
    """Pick a goal and try another target → its attainment (what-if for the target talk)."""

    def __init__(self, client: Any, period: str, lang: str = "zh-TW") -> None:
        import ipywidgets as widgets

        from kpitools.goals import scorecard

        super().__init__(text("nb05.panel.target", lang))
        p = report_period(period, client)
        goals = _goals_for(client, p)
        if not goals:
            raise KpitoolsError(text("nb05.smart.none", lang, period=period_label(p, lang)))
        self.client, self.lang = client, lang
        self.card = scorecard(goals, client, p, lang=lang).set_index("goal_id")
        first = self.card.index[0]
        self.controls = {
            "goal": widgets.Dropdown(options=[(f"{g} · {r.kpi_name}", g)
                                              for g, r in self.card.iterrows()],
                                     value=first, description=text("nb05.panel.goal", lang)),
            "target": unit_input(text("nb01.builder.target", lang), self.card.loc[first, "unit"],
                                 lang, currency=client.currency,
                                 value=float(self.card.loc[first, "target"])),
        }
        self._quiet = False
        self._wire()

    def _changed(self, change: Any = None) -> None:
        if self._quiet:
            return
        if change is not None and change.get("owner") is self.controls["goal"]:
            row = self.card.loc[change["new"]]
            self._quiet = True
            self.controls["target"].value = input_text(float(row["target"]), row["unit"])
            self.controls["target"].description = unit_input(
                text("nb01.builder.target", self.lang), row["unit"], self.lang,
                currency=self.client.currency).description
            self._quiet = False
        super()._changed(change)

    def refresh(self) -> None:
        from kpitools.goals import attainment

        row = self.card.loc[self.controls["goal"].value]
        target = parse_number(self.controls["target"].value, row["unit"],
                              what=self.controls["target"].description)
        if target is None:
            self.result = None
            self.output.value = html.escape(text("nb01.builder.need_target", self.lang))
            return
        self.result = attainment(float(row["actual"]), target, row["direction"],
                                 baseline=row["baseline"] if pd.notna(row["baseline"]) else None)
        unit = row["unit"]
        self.output.value = html.escape(text(
            "nb05.panel.result", self.lang,
            actual=fmt_value(row["actual"], unit, self.lang, currency=self.client.currency),
            target=fmt_value(target, unit, self.lang, currency=self.client.currency),
            attainment=attainment_text({"attainment": self.result, "target": target,
                                        "actual": row["actual"], "unit": unit},
                                       self.lang, self.client.currency)))
