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

from kpitools._errors import KpitoolsError
from kpitools._packageyaml import package_yaml
from kpitools.catalog import _date_column, _memoized, compute_kpi, get_kpi, kpi_series
from kpitools.i18n import check_lang, fmt_pct, fmt_value, period_label, status_label
from kpitools.insights import (
    Labels,
    fmt_change,
    fmt_display,
    method_note,
    verdict_label,
    window_text,
)
from kpitools.insights.noise import Change, judge_change
from kpitools.periods import Period, parse_period

__all__ = ["QuarterReport", "Section"]

#: Trend charts drawn for at most this many goal KPIs (the table shows them all).
MAX_TREND_CHARTS = 4
#: Predicted CLV looks this many months ahead in the report.
CLV_HORIZON_MONTHS = 12
#: Rows of the per-owner quota table.
MAX_OWNERS = 10
#: Units whose value 0 in every quarter means "no data" (money and counts), not a real zero.
ZERO_MEANS_NO_DATA = ("currency", "count")


@cache
def _date_columns(table_name: str) -> str | None:
    return _date_column(table_name)


@cache
def _words() -> dict[str, dict[str, dict[str, str]]]:
    return package_yaml((Path(__file__).parent / "sections.yaml").read_text("utf-8"))


@cache
def _headline_ids() -> dict[str, list[str]]:
    return package_yaml((Path(__file__).parent / "headline.yaml").read_text("utf-8"))


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
    """Run a QuarterReport method with the report's KPI memo active (see catalog._memoized),
    and keep its result for the report.

    The sections ask for the same KPI and quarter several times (trend table, quarter-on-quarter
    tables, scorecard, insights); each is computed once per report. The sections themselves
    are asked for twice (by their notebook cell, then for the analyst notes): built once too.
    A report's data does not change under it (the client's tables are its own copies).
    """
    @wraps(method)
    def run(self: QuarterReport, *args: Any, **kwargs: Any) -> Any:
        try:
            key = (method.__name__, args, tuple(sorted(kwargs.items())))
            hash(key)
        except TypeError:  # an argument that cannot be a key (a list): computed each time
            key = None
        if key is not None and key in self._results:
            return self._results[key]
        with _memoized(self._kpi_memo):
            result = method(self, *args, **kwargs)
        if key is not None:
            self._results[key] = result
        return result
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
        self.labels = Labels(client, self.lang)
        self._kpi_memo: dict = {}
        self._results: dict[tuple, Any] = {}
        self._insights: dict[tuple, Any] = {}
        self._changes: dict[str, Change] = {}
        self._notes: list[str] = []

    # ------------------------------------------------------------------ helpers
    def _has(self, *tables: str) -> bool:
        return all(self.client.has(t) and len(self.client[t]) > 0 for t in tables)

    def _can(self, kpi_id: str) -> bool:
        return self._has(*get_kpi(kpi_id).tables)

    def _fmt(self, value: float, unit: str) -> str:
        return fmt_display(value, unit, self.lang, currency=self.currency)

    def _note(self, text: str) -> None:
        """A message for the analyst (CLI output and run log), never shown in the report."""
        if text not in self._notes:
            self._notes.append(text)

    def analyst_notes(self) -> list[str]:
        """What the analyst should know about this report: missing goals, labels, data gaps."""
        self.sections()
        return [*self._notes, *self.labels.notes]

    def write_analyst_notes(self, path: str | Path) -> None:
        """Write :meth:`analyst_notes` to ``path`` (one per line; nothing when there are none).

        The batch runner prints the file and appends it to the run log; the notes never reach
        the notebook's outputs, so even a plain ``nbconvert --no-input`` cannot show them.
        """
        notes = self.analyst_notes()
        if notes:
            from kpitools.report.export import atomic_write

            atomic_write(path, "".join(f"{n}\n" for n in notes))

    def write_workbook(self, path: str | Path) -> Path:
        """Write ``report.xlsx`` (scorecard, KPI trends, findings; both languages)."""
        from kpitools.report.workbook import write_workbook

        with _memoized(self._kpi_memo):
            return write_workbook(self, path)

    @_memo
    def change(self, kpi_id: str) -> Change:
        """This quarter against the previous one, judged against noise (kpitools.insights.noise)."""
        if kpi_id not in self._changes:
            prev = self.period.previous()
            self._changes[kpi_id] = judge_change(
                kpi_id, self.client, prev, self.period,
                values=(self._value(kpi_id, prev), self._value(kpi_id)))
        return self._changes[kpi_id]

    def _data_start(self, kpi_id: str) -> pd.Timestamp | None:
        """The first date in the tables the KPI reads: earlier quarters have no value (—)."""
        starts = []
        for name in get_kpi(kpi_id).tables:
            column = _date_columns(name)
            if column and self._has(name) and column in self.client[name].columns:
                first = self.client[name][column].min()
                if pd.notna(first):
                    starts.append(pd.Timestamp(first))
        return max(starts) if starts else None

    def _prefetch(self, kpi_ids: Iterable[str]) -> None:
        """Put each set-based KPI's values for the report's quarters into the KPI memo with one
        grouped query (``kpi_series`` remembers every period's value), so that :meth:`_value`
        finds them instead of running one computation per quarter. The quarters are those of
        the trend table, whose series are kept: a headline KPI costs nothing more. A series
        that fails leaves its quarters to :meth:`_value`, which says NaN where it fails."""
        for kpi_id in kpi_ids:
            if self._can(kpi_id) and get_kpi(kpi_id).set_based:
                try:
                    kpi_series(kpi_id, self.client, "Q", self.quarters[0], self.period)
                except KpitoolsError:
                    continue

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
        rows = {}
        for kpi_id in self.headline_kpis:
            series = kpi_series(kpi_id, self.client, "Q", start, end)
            first = self._data_start(kpi_id)
            if first is not None:  # quarters that end before the data starts: no value
                ends = pd.Series([q.end for q in self.quarters], index=series.index)
                series = series.where(ends > first)
            if self._no_data(kpi_id, series):
                self._note(f"{kpi_id}: no data in any of the report's quarters; left out.")
                continue
            rows[kpi_id] = series
        return pd.DataFrame(rows, columns=list(rows)).T

    @staticmethod
    def _no_data(kpi_id: str, values: Iterable[float]) -> bool:
        """All NaN, or all 0 for money and counts (e.g. ad revenue of a shop without ads)."""
        clean = [v for v in values if not pd.isna(v)]
        return not clean or (get_kpi(kpi_id).unit in ZERO_MEANS_NO_DATA
                             and all(v == 0 for v in clean))

    # ------------------------------------------------------------------ sections
    @_memo
    def summary(self) -> Section:
        """Highlights: how the goals stand and what moved, with the reasons found in the data.

        Every sentence is the one its section prints, from the same table its chart draws.
        """
        from kpitools.insights import goals_insight, movers_insight

        # The trend table first: its grouped queries leave every quarter's value in the KPI
        # memo, where the scorecard then finds the goals' KPIs of this quarter.
        self.trend_table  # noqa: B018 - computed for its memo
        found = goals_insight(self.card, lang=self.lang, currency=self.currency)
        attainment = (self.card.set_index("kpi")["attainment"].to_dict()
                      if not self.card.empty else {})
        found += movers_insight(self._movers(), lang=self.lang, currency=self.currency,
                                periods=(self.period.previous(), self.period),
                                attainment=attainment)
        found += [self._acv_finding(), *self._funnel_findings(), self._churn_finding()]
        found = [i.text for i in found if i is not None]
        return Section("summary", _w("title", "summary", self.lang), paragraphs=found)

    @_memo
    def _movers(self) -> pd.DataFrame:
        table = self.trend_table
        if table.shape[1] < 2:
            return pd.DataFrame()
        from kpitools.insights import _mover_row, _movers_frame

        prev, now = table.iloc[:, -2], table.iloc[:, -1]
        rows = []
        for kpi_id in table.index:
            if pd.isna(prev[kpi_id]) or pd.isna(now[kpi_id]) or prev[kpi_id] == 0:
                continue
            rows.append(_mover_row(kpi_id, self.lang, prev[kpi_id], now[kpi_id],
                                   self.change(kpi_id)))
        return _movers_frame(rows) if rows else pd.DataFrame()

    def _acv_finding(self) -> Any:
        from kpitools.insights import acv_insight

        key = ("acv", self.period.label)
        if key not in self._insights:
            self._insights[key] = acv_insight(self.client, self.period, lang=self.lang,
                                              labels=self.labels)
        return self._insights[key]

    @_memo
    def _funnel_tables(self) -> tuple[pd.DataFrame, pd.DataFrame] | None:
        """The funnel of the trailing quarters, overall and by channel (chart, table, text)."""
        stages = self.client.funnel_stages
        if not self._has("deals") or not stages:
            return None
        from kpitools.metrics.sales import funnel

        deals = self.client["deals"]
        by = "channel" if "channel" in deals.columns else None
        overall = funnel(deals, stages, self.sales_window)
        by_channel = funnel(deals, stages, self.sales_window, by=by) if by else None
        return overall, by_channel

    def _funnel_findings(self) -> list[Any]:
        key = ("funnel", self.period.label)
        if key not in self._insights:
            from kpitools.insights import funnel_insight, funnel_step_insight

            found: list[Any] = []
            tables = self._funnel_tables()
            if tables is not None:
                window = window_text(self.quarters[0], self.period, self.lang)
                found.append(funnel_step_insight(tables[0], lang=self.lang, window=window,
                                                 labels=self.labels))
                if tables[1] is not None:
                    found.append(funnel_insight(self.client, self.sales_window, lang=self.lang,
                                                labels=self.labels))
            self._insights[key] = found
        return self._insights[key]

    @_memo
    def _churn_reasons(self) -> pd.DataFrame | None:
        """Why customers left over the trailing quarters: the table the chart and text share."""
        if not self._has("churn_events"):
            return None
        from kpitools.metrics import churn_reasons

        return churn_reasons(self.client["churn_events"], self.sales_window)

    def _churn_finding(self) -> Any:
        key = ("churn", self.period.label)
        if key not in self._insights:
            from kpitools.insights import churn_insight

            reasons = self._churn_reasons()
            self._insights[key] = None if reasons is None else churn_insight(
                self.client, self.sales_window, lang=self.lang, labels=self.labels,
                reasons=reasons, window=window_text(self.quarters[0], self.period, self.lang))
        return self._insights[key]

    @_memo
    def scorecard(self) -> Section | None:
        """The goals due in this quarter: actual, target, attainment and status, with a chart."""
        from kpitools.plots import scorecard_chart

        title = _w("title", "scorecard", self.lang)
        card = self.card
        if card.empty:
            self._note("this client has no goals for this quarter, so the report has no "
                       "scorecard; add 3-5 SMART goals under goals: in client.yml.")
            return None
        h = lambda key: _w("header", key, self.lang)  # noqa: E731 - a local shorthand
        shown = pd.DataFrame({
            h("kpi"): card["kpi_name"],
            h("owner"): [self.labels.owner(o) for o in card["owner"]],
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
        shown[_w("header", "reading", self.lang)] = [
            verdict_label(self.change(k).verdict, self.lang) for k in table.index]
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
        caption = _w("caption", "trends", self.lang,
                     previous=period_label(self.period.previous(), self.lang))
        return Section("trends", _w("title", "trends", self.lang), tables=[(caption, shown)],
                       figures=figures)

    @_memo
    def value(self) -> Section | None:
        """ACV by tier and its mix/rate diagnosis, CLTV, LTV:CAC and CAC payback (contracts)."""
        if not self._has("contracts"):
            return None
        from kpitools.metrics import acv, acv_mix_rate
        from kpitools.plots import mix_rate_chart

        contracts = self.client["contracts"]
        section = Section("value", _w("title", "value", self.lang))
        insight = self._acv_finding()
        if insight is not None:
            section.paragraphs.append(insight.text)
        if "tier" in contracts.columns and contracts["tier"].notna().any():
            by_tier = pd.DataFrame({period_label(q, self.lang): acv(contracts, q, by="tier")
                                    for q in self.quarters})
            by_tier = by_tier.map(lambda v: self._fmt(v, "currency"))
            by_tier.index = pd.Index(self.labels.many("tier", by_tier.index),
                                     name=_w("header", "tier", self.lang))
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
            self._note(f"the CLV model could not be fitted: {_error_reason(exc)}")
            return None
        tiers = ranked.groupby(["tier", "tier_label"], sort=False).agg(
            customers=("clv", "size"), share=("clv_share", "sum"), average=("clv", "mean"))
        tiers = tiers.reset_index(level="tier", drop=True)
        # The sentence names the table's first row by its own label, so text and table agree.
        section.paragraphs.append(_w("text", "clv_concentration", self.lang,
                                     tier=tiers.index[0],
                                     customers=fmt_value(tiers["customers"].iloc[0], "count",
                                                         self.lang),
                                     months=CLV_HORIZON_MONTHS,
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
        tables = self._funnel_tables()
        if tables is None:
            return None
        from kpitools.metrics.sales import quota_attainment
        from kpitools.plots import funnel_chart

        overall, by_channel = tables
        section = Section("sales", _w("title", "sales", self.lang))
        findings = [i for i in self._funnel_findings() if i is not None]
        section.paragraphs += [i.text for i in findings]
        window = window_text(self.quarters[0], self.period, self.lang)
        step = next((i for i in findings if i.kind == "funnel_step"), None)
        drawn = overall.copy()
        drawn.index = pd.Index(self.labels.many("stage", drawn.index), name="stage")
        highlight = self.labels("stage", step.data["from_stage"]) if step else None
        section.figures.append(funnel_chart(
            drawn, lang=self.lang, highlight=highlight,
            title=_w("caption", "funnel_chart", self.lang, window=window)))
        stages = self.client.funnel_stages
        if by_channel is not None:
            first, last = stages[0], stages[-1]
            entered = by_channel.xs(first, level="stage")["deals"]
            won = by_channel.xs(last, level="stage")["deals"]
            shown = pd.DataFrame({
                _w("header", "deals", self.lang): entered.map(
                    lambda v: fmt_value(v, "count", self.lang)),
                _w("header", "lead_to_won", self.lang): (won / entered.where(entered > 0)).map(
                    lambda v: fmt_pct(v, self.lang, 1)),
            })
            gap = next((i for i in findings if i.kind == "funnel" and "from_stage" in i.data),
                       None)
            if gap is not None:  # the step the sentence names, for every channel
                came = by_channel.xs(gap.data["from_stage"], level="stage")["deals"]
                went = by_channel.xs(gap.data["to_stage"], level="stage")["deals"]
                column = _w("header", "step_conversion", self.lang,
                            from_stage=self.labels("stage", gap.data["from_stage"]),
                            to_stage=self.labels("stage", gap.data["to_stage"]))
                shown[column] = (went / came.where(came > 0)).map(
                    lambda v: fmt_pct(v, self.lang, 0))
            shown.index = pd.Index(self.labels.many("channel", shown.index),
                                   name=_w("header", "channel", self.lang))
            caption = _w("caption", "funnel_window", self.lang, window=window)
            section.tables.append((caption, shown))
        rows = [k for k in ("win_rate", "sales_cycle_days", "pipeline_coverage") if self._can(k)]
        section.tables.append((_w("caption", "quarter_compare", self.lang), self._compare(rows)))
        if self._has("quotas"):
            quota = quota_attainment(self.client["deals"], self.client["quotas"],
                                     self.period).head(MAX_OWNERS)
            shown = pd.DataFrame({
                _w("header", "won_amount", self.lang): quota["won_amount"].map(
                    lambda v: self._fmt(v, "currency")),
                _w("header", "quota", self.lang): quota["quota"].map(
                    lambda v: self._fmt(v, "currency")),
                _w("header", "attainment", self.lang): quota["attainment"].map(
                    lambda v: fmt_pct(v, self.lang, 0)),
            })
            shown.index.name = _w("header", "owner", self.lang)
            section.tables.append((_w("caption", "quota_attainment", self.lang,
                                      quarter=period_label(self.period, self.lang)), shown))
        return section

    @_memo
    def retention(self) -> Section | None:
        """Churn and retention KPIs against last quarter, and why customers left."""
        if not (self._has("contracts") or self._has("churn_events")):
            return None
        from kpitools.plots import reasons_chart

        section = Section("retention", _w("title", "retention", self.lang))
        rows = [k for k in ("logo_churn_rate", "gross_mrr_churn_rate", "net_mrr_churn_rate",
                            "grr", "nrr") if self._can(k)]
        if rows:
            section.tables.append((_w("caption", "quarter_compare", self.lang),
                                   self._compare(rows)))
        reasons = self._churn_reasons()
        insight = self._churn_finding()
        if insight is not None:
            section.paragraphs.append(insight.text)
        if reasons is not None and not reasons.empty:
            counts = pd.Series(reasons["customers"].to_numpy(),
                               index=self.labels.many("reason", reasons["reason"]))
            counts = counts.groupby(level=0, sort=False).sum()
            window = window_text(self.quarters[0], self.period, self.lang)
            section.figures.append(reasons_chart(
                counts, lang=self.lang, currency=self.currency,
                title=_w("caption", "reasons_chart", self.lang, window=window)))
        return section

    @_memo
    def web(self) -> Section | None:
        """Traffic, engagement and revenue streams against last quarter, and traffic by channel."""
        if not self._has("web_traffic"):
            return None
        from kpitools.metrics.web import traffic_by_channel

        section = Section("web", _w("title", "web", self.lang))
        candidates = ("sessions", "active_users", "engagement_rate", "bounce_rate",
                      "average_engagement_seconds", "key_events", "revenue_per_session",
                      "ad_revenue", "affiliate_revenue", "followers", "mentions")
        self._prefetch(candidates)
        rows = [k for k in candidates
                if self._can(k) and not self._no_data(
                    k, (self._value(k, q) for q in self.quarters))]
        section.tables.append((_w("caption", "web_kpis", self.lang), self._compare(rows)))
        channels = traffic_by_channel(self.client["web_traffic"], self.period)
        shown = pd.DataFrame({
            _w("header", "sessions", self.lang): channels["sessions"].map(
                lambda v: fmt_value(v, "count", self.lang)),
            _w("header", "session_share", self.lang): channels["session_share"].map(
                lambda v: fmt_pct(v, self.lang, 1)),
            _w("header", "engagement_rate", self.lang): channels["engagement_rate"].map(
                lambda v: fmt_pct(v, self.lang, 1)),
        })
        if not self._no_data("revenue", channels["revenue"]):
            shown[_w("header", "revenue", self.lang)] = channels["revenue"].map(
                lambda v: self._fmt(v, "currency"))
        shown.index = pd.Index(self.labels.many("channel", shown.index),
                               name=_w("header", "channel", self.lang))
        section.tables.append((_w("caption", "traffic_by_channel", self.lang,
                                  quarter=period_label(self.period, self.lang)), shown))
        return section

    @_memo
    def method(self) -> Section:
        """How the report judges a change: the tests behind "improved" and "within variation"."""
        return Section("method", _w("title", "method", self.lang),
                       paragraphs=[method_note(self.lang)])

    @_memo
    def _compare(self, kpi_ids: Iterable[str]) -> pd.DataFrame:
        """This quarter against the previous one, formatted, with the noise verdict."""
        prev = self.period.previous()
        kpi_ids = list(kpi_ids)
        self._prefetch(kpi_ids)
        records = []
        for kpi_id in kpi_ids:
            kpi = get_kpi(kpi_id)
            now, before = self._value(kpi_id), self._value(kpi_id, prev)
            records.append({
                _w("header", "kpi", self.lang): kpi.name_for(self.lang),
                period_label(self.period, self.lang): self._fmt(now, kpi.unit),
                period_label(prev, self.lang): self._fmt(before, kpi.unit),
                # Rates move in points: -5.9% after -0.3% is "-5.6 pp", not "-1807%".
                _w("header", "change", self.lang): fmt_change(before, now, kpi.unit, self.lang),
                _w("header", "reading", self.lang): verdict_label(self.change(kpi_id).verdict,
                                                                 self.lang),
            })
        return pd.DataFrame(records).set_index(_w("header", "kpi", self.lang))

    @_memo
    def sections(self) -> list[Section]:
        """Every section this client's data supports, in report order."""
        found = [self.summary(), self.scorecard(), self.trends(), self.value(), self.clv(),
                 self.sales(), self.retention(), self.web(), self.method()]
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
            change = self.change(kpi_id)
            before = table.loc[kpi_id, self.period.previous().label] \
                if self.period.previous().label in table.columns else math.nan
            out.append({"kpi": kpi_id, "label": kpi.name_for(self.lang),
                        "value": None if pd.isna(value) else float(value),
                        "formatted": self._fmt(value, kpi.unit),
                        "verdict": change.verdict,
                        "change": fmt_change(before, value, kpi.unit, self.lang)})
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
