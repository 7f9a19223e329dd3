"""The quarterly report's sections, computed from a client's data for one quarter.

:class:`QuarterReport` is what ``templates/quarterly_report.ipynb`` calls: one method per
section, each returning a :class:`Section` (heading, plain-words findings, tables and charts) or
``None`` when the client lacks the data the section needs, so a report shows only what its data
can back. Every number comes from the KPI catalog and the metric functions; every sentence from
:mod:`kpitools.insights`; every word the client reads is in the report's language. Client text
(names, reasons, channels) is HTML-escaped when rendered.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache, cached_property, wraps
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from kpitools._errors import KpitoolsError
from kpitools.catalog import _memoized, compute_kpi, get_kpi, kpi_series
from kpitools.i18n import check_lang, fmt_delta, fmt_pct, fmt_value, period_label, status_label
from kpitools.periods import Period, parse_period

__all__ = ["QuarterReport", "Section"]

#: Trend charts drawn for at most this many goal KPIs (the table shows them all).
MAX_TREND_CHARTS = 4
#: Predicted CLV looks this many months ahead in the report.
CLV_HORIZON_MONTHS = 12
#: Rows of the per-owner quota table.
MAX_OWNERS = 10


@cache
def _words() -> dict[str, dict[str, dict[str, str]]]:
    return yaml.safe_load((Path(__file__).parent / "sections.yaml").read_text("utf-8"))


@cache
def _headline_ids() -> dict[str, list[str]]:
    return yaml.safe_load((Path(__file__).parent / "headline.yaml").read_text("utf-8"))


def _w(group: str, key: str, lang: str, **values: Any) -> str:
    return _words()[group][key][lang].format(**values)


def _error_reason(exc: Exception) -> str:
    """An error as one line for a report: its heading, every listed cause and the hint."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    causes = [line.removeprefix("- ") for line in lines[1:] if line.startswith("- ")]
    hints = [line for line in lines[1:] if line.startswith("Hint:")]
    text = lines[0] + (": " + "; ".join(causes) if causes else "")
    return " ".join([text.rstrip(".") + ".", *hints])


def _figure_html(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img class="kpitools-figure" alt="" src="data:image/png;base64,{data}"/>'


def _memo(method: Callable[..., Any]) -> Callable[..., Any]:
    """Run a QuarterReport method with the report's KPI memo active (see catalog._memoized).

    The sections ask for the same KPI and quarter several times (trend table, quarter-on-quarter
    tables, scorecard, insights); each is computed once per report.
    """
    @wraps(method)
    def run(self: QuarterReport, *args: Any, **kwargs: Any) -> Any:
        with _memoized(self._kpi_memo):
            return method(self, *args, **kwargs)
    return run


@dataclass
class Section:
    """One report section; displays itself as HTML in a notebook (client text escaped)."""

    key: str
    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[tuple[str | None, pd.DataFrame]] = field(default_factory=list)
    figures: list[Any] = field(default_factory=list)

    def _repr_html_(self) -> str:
        parts = [f'<section class="kpitools-section" id="{self.key}">',
                 f"<h2>{html.escape(self.title)}</h2>"]
        parts += [f"<p>{html.escape(p)}</p>" for p in self.paragraphs]
        for caption, frame in self.tables:
            if caption:
                parts.append(f'<p class="kpitools-caption">{html.escape(caption)}</p>')
            parts.append(frame.to_html(escape=True, border=0, classes="kpitools-table",
                                       na_rep="—"))
        parts += [_figure_html(fig) for fig in self.figures]
        parts.append("</section>")
        return "\n".join(parts)


class QuarterReport:
    """The sections of one client's report for one quarter, in one language.

    Parameters
    ----------
    client : a :class:`kpitools.Client` (``kpitools.load_client``)
    quarter : ``"2024Q4"`` (fiscal quarters follow the client's ``fiscal_year_start_month``)
    lang : ``"zh-TW"`` or ``"en"``
    trailing_quarters : how many quarters, ending with ``quarter``, the trends show
    """

    def __init__(self, client: Any, quarter: str | Period, *, lang: str = "zh-TW",
                 trailing_quarters: int = 4) -> None:
        self.client = client
        self.lang = check_lang(lang)
        self.period = parse_period(quarter, fiscal_year_start_month=client.fiscal_year_start_month)
        if self.period.freq != "Q":
            raise KpitoolsError(f"a quarterly report needs a quarter such as '2024Q4', got "
                                f"{self.period.label!r}.\nHint: pass quarter='2024Q4'.")
        if not isinstance(trailing_quarters, int) or trailing_quarters < 2:
            raise KpitoolsError("trailing_quarters must be a whole number of at least 2.\n"
                                "Hint: 4 shows the last year.")
        self.quarters = [self.period.shift(-i) for i in range(trailing_quarters - 1, -1, -1)]
        self.currency = client.currency or "TWD"
        self._kpi_memo: dict = {}
        self._insights: dict[tuple, Any] = {}

    # ------------------------------------------------------------------ helpers
    def _has(self, *tables: str) -> bool:
        return all(self.client.has(t) and len(self.client[t]) > 0 for t in tables)

    def _can(self, kpi_id: str) -> bool:
        return self._has(*get_kpi(kpi_id).tables)

    def _fmt(self, value: float, unit: str) -> str:
        return fmt_value(value, unit, self.lang, currency=self.currency)

    @_memo
    def _value(self, kpi_id: str, period: Period | None = None) -> float:
        try:
            return float(compute_kpi(kpi_id, self.client, period or self.period))
        except KpitoolsError:
            return math.nan

    def _insight(self, rule: Callable[..., Any], period: Period) -> Any:
        """``rule(client, period, lang=...)``, computed once per report (summary and section)."""
        key = (rule.__module__, rule.__qualname__, period.label, period.start, period.end)
        if key not in self._insights:
            self._insights[key] = rule(self.client, period, lang=self.lang)
        return self._insights[key]

    @cached_property
    def goal_kpis(self) -> list[str]:
        ids = []
        for goal in self.client.goals:
            kpi = goal.get("kpi") if isinstance(goal, dict) else getattr(goal, "kpi", None)
            if isinstance(kpi, str) and kpi not in ids:
                try:
                    get_kpi(kpi)
                except KpitoolsError:
                    continue
                ids.append(kpi)
        return ids

    @cached_property
    def headline_kpis(self) -> list[str]:
        """Goal KPIs first, then the business model's headline KPIs the data supports."""
        ids = list(self.goal_kpis)
        for kpi_id in _headline_ids().get(self.client.business_model, []):
            if kpi_id not in ids:
                ids.append(kpi_id)
        return [k for k in ids if self._can(k)]

    @property
    def sales_window(self) -> Period:
        """The trailing quarters as one period: deals need time to close, so the funnel uses it."""
        first = self.quarters[0]
        return Period(first.start, self.period.end, "Y", first.start.month)

    @cached_property
    @_memo
    def card(self) -> pd.DataFrame:
        from kpitools.goals import scorecard

        return scorecard(self.client.goals, self.client, self.period, lang=self.lang)

    @cached_property
    @_memo
    def trend_table(self) -> pd.DataFrame:
        start, end = self.quarters[0], self.quarters[-1]
        rows = {k: kpi_series(k, self.client, "Q", start, end) for k in self.headline_kpis}
        return pd.DataFrame(rows).T

    # ------------------------------------------------------------------ sections
    @_memo
    def summary(self) -> Section:
        """Highlights: how the goals stand and what moved, with the reasons found in the data."""
        from kpitools.insights import (
            acv_insight,
            churn_insight,
            funnel_insight,
            goals_insight,
            movers_insight,
        )

        found = goals_insight(self.card, lang=self.lang, currency=self.currency)
        found += movers_insight(self._movers(), lang=self.lang, currency=self.currency)
        found += [self._insight(acv_insight, self.period),
                  self._insight(funnel_insight, self.sales_window),
                  self._insight(churn_insight, self.period)]
        found = [i.text for i in found if i is not None]
        return Section("summary", _w("title", "summary", self.lang), paragraphs=found)

    @_memo
    def _movers(self) -> pd.DataFrame:
        table = self.trend_table
        if table.shape[1] < 2:
            return pd.DataFrame()
        prev, now = table.iloc[:, -2], table.iloc[:, -1]
        rows = []
        for kpi_id in table.index:
            kpi = get_kpi(kpi_id)
            if pd.isna(prev[kpi_id]) or pd.isna(now[kpi_id]) or prev[kpi_id] == 0:
                continue
            change = (now[kpi_id] - prev[kpi_id]) / abs(prev[kpi_id])
            rows.append({"kpi": kpi_id, "name": kpi.name_for(self.lang), "unit": kpi.unit,
                         "previous": prev[kpi_id], "current": now[kpi_id], "change_rate": change,
                         "improvement": change if kpi.higher_is_better else -change})
        if not rows:
            return pd.DataFrame()
        return pd.DataFrame(rows).sort_values("improvement", ascending=False, ignore_index=True)

    @_memo
    def scorecard(self) -> Section:
        """The goals due in this quarter: actual, target, attainment and status, with a chart."""
        from kpitools.plots import scorecard_chart

        title = _w("title", "scorecard", self.lang)
        card = self.card
        if card.empty:
            return Section("scorecard", title, paragraphs=[_w("text", "no_goals", self.lang)])
        h = lambda key: _w("header", key, self.lang)  # noqa: E731 - a local shorthand
        shown = pd.DataFrame({
            h("kpi"): card["kpi_name"],
            h("owner"): card["owner"],
            h("target"): [self._fmt(v, u) for v, u in zip(card["target"], card["unit"],
                                                          strict=True)],
            h("actual"): [self._fmt(v, u) for v, u in zip(card["actual"], card["unit"],
                                                          strict=True)],
            h("attainment"): [fmt_pct(v, self.lang, 0) for v in card["attainment"]],
            h("status"): [status_label(s, self.lang) for s in card["status"]],
        }).set_index(h("kpi"))
        figures = []
        if card["attainment"].notna().any():
            figures.append(scorecard_chart(card, lang=self.lang))
        return Section("scorecard", title, tables=[(None, shown)], figures=figures)

    @_memo
    def trends(self) -> Section | None:
        """The headline KPIs over the trailing quarters, with charts for the goal KPIs."""
        from kpitools.plots import trend_chart

        table = self.trend_table
        if table.empty:
            return None
        shown = pd.DataFrame(
            {period_label(q, self.lang): [self._fmt(table.loc[k, q.label], get_kpi(k).unit)
                                          for k in table.index] for q in self.quarters},
            index=pd.Index([get_kpi(k).name_for(self.lang) for k in table.index],
                           name=_w("header", "kpi", self.lang)))
        figures = []
        targets = self.card.set_index("kpi")["target"] if not self.card.empty else pd.Series()
        for kpi_id in [k for k in self.goal_kpis if k in table.index][:MAX_TREND_CHARTS]:
            kpi = get_kpi(kpi_id)
            series = table.loc[kpi_id].rename(kpi.name_for(self.lang))
            target = targets.get(kpi_id) if kpi_id in targets.index else None
            figures.append(trend_chart(series, title=kpi.name_for(self.lang), unit=kpi.unit,
                                       target=None if target is None or pd.isna(target)
                                       else float(target), lang=self.lang,
                                       currency=self.currency))
        return Section("trends", _w("title", "trends", self.lang), tables=[(None, shown)],
                       figures=figures)

    @_memo
    def value(self) -> Section | None:
        """ACV by tier and its mix/rate diagnosis, CLTV, LTV:CAC and CAC payback (contracts)."""
        if not self._has("contracts"):
            return None
        from kpitools.insights import acv_insight
        from kpitools.metrics import acv, acv_mix_rate
        from kpitools.plots import mix_rate_chart

        contracts = self.client["contracts"]
        section = Section("value", _w("title", "value", self.lang))
        insight = self._insight(acv_insight, self.period)
        if insight is not None:
            section.paragraphs.append(insight.text)
        if "tier" in contracts.columns and contracts["tier"].notna().any():
            by_tier = pd.DataFrame({period_label(q, self.lang): acv(contracts, q, by="tier")
                                    for q in self.quarters})
            by_tier = by_tier.map(lambda v: self._fmt(v, "currency"))
            by_tier.index.name = _w("header", "tier", self.lang)
            section.tables.append((_w("caption", "acv_by_tier", self.lang), by_tier))
            try:
                change = acv_mix_rate(contracts, self.period.previous(), self.period, by="tier")
                if not math.isnan(change.change):
                    section.figures.append(mix_rate_chart(
                        change.effects(), lang=self.lang, base_label=self.period.previous(),
                        compare_label=self.period, currency=self.currency))
            except KpitoolsError:
                pass
        rows = [k for k in ("cltv", "ltv_to_cac", "cac", "cac_payback_months",
                            "projected_retention") if self._can(k)]
        if rows:
            section.tables.append((_w("caption", "value_kpis", self.lang), self._compare(rows)))
        return section

    @_memo
    def clv(self) -> Section | None:
        """Predicted customer lifetime value per customer tier (orders, BG/NBD + Gamma-Gamma)."""
        if not self._has("orders"):
            return None
        from kpitools.models import predicted_clv_by_customer

        section = Section("clv", _w("title", "clv", self.lang))
        try:
            ranked = predicted_clv_by_customer(self.client["orders"], self.period,
                                               horizon_months=CLV_HORIZON_MONTHS, lang=self.lang)
        except KpitoolsError as exc:
            section.paragraphs.append(_w("text", "clv_model_failed", self.lang,
                                         reason=_error_reason(exc)))
            return section
        tiers = ranked.groupby(["tier", "tier_label"], sort=False).agg(
            customers=("clv", "size"), share=("clv_share", "sum"), average=("clv", "mean"))
        tiers = tiers.reset_index(level="tier", drop=True)
        top_share = tiers["customers"].iloc[0] / tiers["customers"].sum()
        section.paragraphs.append(_w("text", "clv_concentration", self.lang,
                                     share=fmt_pct(top_share, self.lang, 0),
                                     value_share=fmt_pct(tiers["share"].iloc[0], self.lang, 0)))
        shown = pd.DataFrame({
            _w("header", "customers", self.lang): tiers["customers"].map(
                lambda v: fmt_value(v, "count", self.lang)),
            _w("header", "clv_share", self.lang): tiers["share"].map(
                lambda v: fmt_pct(v, self.lang, 0)),
            _w("header", "average_clv", self.lang): tiers["average"].map(
                lambda v: self._fmt(v, "currency")),
        })
        shown.index.name = _w("header", "segment", self.lang)
        section.tables.append((_w("caption", "clv_tiers", self.lang,
                                  months=CLV_HORIZON_MONTHS), shown))
        return section

    @_memo
    def sales(self) -> Section | None:
        """Funnel over the trailing quarters with its bottleneck, win rate and quota attainment."""
        stages = self.client.funnel_stages
        if not self._has("deals") or not stages:
            return None
        from kpitools.insights import funnel_insight
        from kpitools.metrics.sales import funnel, quota_attainment
        from kpitools.plots import funnel_chart

        deals = self.client["deals"]
        window = self.sales_window
        section = Section("sales", _w("title", "sales", self.lang))
        insight = self._insight(funnel_insight, window)
        if insight is not None:
            section.paragraphs.append(insight.text)
        section.figures.append(funnel_chart(funnel(deals, stages, window), lang=self.lang))
        by_channel = funnel(deals, stages, window, by="channel")
        first, last = stages[0], stages[-1]
        entered = by_channel.xs(first, level="stage")["deals"]
        won = by_channel.xs(last, level="stage")["deals"]
        shown = pd.DataFrame({
            _w("header", "deals", self.lang): entered.map(lambda v: fmt_value(v, "count",
                                                                              self.lang)),
            _w("header", "lead_to_won", self.lang): (won / entered.where(entered > 0)).map(
                lambda v: fmt_pct(v, self.lang, 1)),
        })
        shown.index.name = _w("header", "channel", self.lang)
        caption = _w("caption", "funnel_window", self.lang,
                     start=period_label(self.quarters[0], self.lang),
                     end=period_label(self.period, self.lang))
        section.tables.append((caption, shown))
        rows = [k for k in ("win_rate", "sales_cycle_days", "pipeline_coverage") if self._can(k)]
        section.tables.append((None, self._compare(rows)))
        if self._has("quotas"):
            quota = quota_attainment(deals, self.client["quotas"], self.period).head(MAX_OWNERS)
            shown = pd.DataFrame({
                _w("header", "won_amount", self.lang): quota["won_amount"].map(
                    lambda v: self._fmt(v, "currency")),
                _w("header", "quota", self.lang): quota["quota"].map(
                    lambda v: self._fmt(v, "currency")),
                _w("header", "attainment", self.lang): quota["attainment"].map(
                    lambda v: fmt_pct(v, self.lang, 0)),
            })
            shown.index.name = _w("header", "owner", self.lang)
            section.tables.append((_w("caption", "quota_attainment", self.lang), shown))
        return section

    @_memo
    def retention(self) -> Section | None:
        """Churn and retention KPIs against last quarter, and why customers left."""
        if not (self._has("contracts") or self._has("churn_events")):
            return None
        from kpitools.insights import churn_insight
        from kpitools.plots import reasons_chart

        section = Section("retention", _w("title", "retention", self.lang))
        rows = [k for k in ("logo_churn_rate", "gross_mrr_churn_rate", "net_mrr_churn_rate",
                            "grr", "nrr") if self._can(k)]
        if rows:
            section.tables.append((None, self._compare(rows)))
        if self._has("churn_events"):
            insight = self._insight(churn_insight, self.period)
            if insight is not None:
                section.paragraphs.append(insight.text)
            events = self.client["churn_events"]
            window = events[(events["churn_date"] >= self.quarters[0].start)
                            & (events["churn_date"] < self.period.end)]
            if len(window):
                section.figures.append(reasons_chart(window, lang=self.lang,
                                                     currency=self.currency))
        return section

    @_memo
    def web(self) -> Section | None:
        """Traffic, engagement and revenue streams against last quarter, and traffic by channel."""
        if not self._has("web_traffic"):
            return None
        from kpitools.metrics.web import traffic_by_channel

        section = Section("web", _w("title", "web", self.lang))
        rows = [k for k in ("sessions", "active_users", "engagement_rate", "bounce_rate",
                            "average_engagement_seconds", "key_events", "revenue_per_session",
                            "ad_revenue", "affiliate_revenue", "followers", "mentions")
                if self._can(k)]
        section.tables.append((_w("caption", "web_kpis", self.lang), self._compare(rows)))
        channels = traffic_by_channel(self.client["web_traffic"], self.period)
        shown = pd.DataFrame({
            _w("header", "sessions", self.lang): channels["sessions"].map(
                lambda v: fmt_value(v, "count", self.lang)),
            _w("header", "session_share", self.lang): channels["session_share"].map(
                lambda v: fmt_pct(v, self.lang, 1)),
            _w("header", "engagement_rate", self.lang): channels["engagement_rate"].map(
                lambda v: fmt_pct(v, self.lang, 1)),
            _w("header", "revenue", self.lang): channels["revenue"].map(
                lambda v: self._fmt(v, "currency")),
        })
        shown.index.name = _w("header", "channel", self.lang)
        section.tables.append((_w("caption", "traffic_by_channel", self.lang), shown))
        return section

    @_memo
    def _compare(self, kpi_ids: Iterable[str]) -> pd.DataFrame:
        """This quarter against the previous one, formatted, one row per KPI."""
        prev = self.period.previous()
        records = []
        for kpi_id in kpi_ids:
            kpi = get_kpi(kpi_id)
            now, before = self._value(kpi_id), self._value(kpi_id, prev)
            if kpi.unit in ("rate", "percent"):
                # Rates move in percentage points: -5.9% after -0.3% is "-5.6 pp", not "-1807%".
                change = fmt_delta(now - before, self.lang, unit="rate")
            else:
                ratio = (now - before) / abs(before) if before and not math.isnan(before) \
                    else math.nan
                change = fmt_pct(ratio, self.lang, 1, signed=True)
            records.append({
                _w("header", "kpi", self.lang): kpi.name_for(self.lang),
                _w("header", "this_quarter", self.lang): self._fmt(now, kpi.unit),
                _w("header", "previous_quarter", self.lang): self._fmt(before, kpi.unit),
                _w("header", "change", self.lang): change,
            })
        return pd.DataFrame(records).set_index(_w("header", "kpi", self.lang))

    @_memo
    def sections(self) -> list[Section]:
        """Every section this client's data supports, in report order."""
        found = [self.summary(), self.scorecard(), self.trends(), self.value(), self.clv(),
                 self.sales(), self.retention(), self.web()]
        return [s for s in found if s is not None]

    # ------------------------------------------------------------------ metrics.json
    @_memo
    def headline(self) -> list[dict[str, Any]]:
        """``metrics.json`` headline entries: each headline KPI's value this quarter."""
        table = self.trend_table
        out = []
        for kpi_id in table.index:
            kpi = get_kpi(kpi_id)
            value = table.loc[kpi_id, self.period.label]
            out.append({"kpi": kpi_id, "label": kpi.name_for(self.lang),
                        "value": None if pd.isna(value) else float(value),
                        "formatted": self._fmt(value, kpi.unit)})
        return out

    @_memo
    def goals(self) -> list[dict[str, Any]]:
        """``metrics.json`` goal entries: one per goal in the scorecard."""
        keep = ["goal_id", "kpi", "kpi_name", "baseline", "target", "actual", "attainment",
                "status"]
        out = []
        for record in self.card[keep].to_dict("records"):
            out.append({k: (None if isinstance(v, float) and math.isnan(v) else v)
                        for k, v in record.items()})
        return out
