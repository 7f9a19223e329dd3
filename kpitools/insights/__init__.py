"""Insights: the plain-words findings a report writes next to its numbers.

Each rule looks at one aspect of a client's quarter — the KPIs that moved most, why average ACV
changed, where the sales funnel leaks, why customers leave, how the goals stand — and returns an
:class:`Insight` with a sentence in the report's language and the numbers behind it. A rule returns
``None`` when the client lacks the data it needs, so a report shows only the findings it can back.

Every change is judged against the noise its counts allow (:mod:`kpitools.insights.noise`) and
called "improved", "worsened" or "within normal variation"; every number is labelled with its
period; data values (channels, stages, reasons) are shown by their display names
(:mod:`kpitools.insights.labels`). Rules that have a chart beside them take the chart's table as
input, so the sentence and the chart cannot disagree.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from kpitools._errors import KpitoolsError
from kpitools._packageyaml import package_yaml
from kpitools.catalog import compute_kpi, get_kpi
from kpitools.i18n import (
    check_lang,
    fmt_number,
    fmt_pct,
    fmt_value,
    period_label,
    status_label,
    t,
)
from kpitools.insights.labels import Labels
from kpitools.insights.noise import Change, judge_change
from kpitools.periods import Period, parse_period

__all__ = [
    "Insight",
    "Labels",
    "acv_insight",
    "biggest_movers",
    "churn_insight",
    "fmt_change",
    "fmt_display",
    "funnel_insight",
    "funnel_step_insight",
    "goals_insight",
    "method_note",
    "movers_insight",
    "quarter_insights",
    "verdict_label",
]

#: A KPI whose relative change is below this is never called a mover, even when significant.
FLAT_CHANGE = 0.02
#: A change within noise but at least this large is named as "looks big, is noise".
NOTABLE_CHANGE = 0.10
#: At most this many "looks big, is noise" KPIs are named, largest change first.
MAX_NOISE_NAMED = 3
#: Kept for callers of earlier versions: an ACV change below this share of the base is small.
ACV_STABLE_CHANGE = 0.03
#: A funnel gap smaller than this (in conversion points) is not called a bottleneck.
MIN_BOTTLENECK_GAP = 0.05
#: Significant digits money keeps when it is small (NT$12.6, NT$0.35, not NT$0).
MONEY_SIGNIFICANT_DIGITS = 3
#: Decimals money shows at most, unless fewer would round a non-zero amount to 0.
MONEY_MAX_DIGITS = 2


@dataclass(frozen=True)
class Insight:
    """One finding: its kind, the sentence in the chosen language, and the numbers behind it."""

    kind: str
    text: str
    data: Mapping[str, Any] = field(default_factory=dict)


@cache
def _texts() -> dict[str, dict[str, Any]]:
    return package_yaml((Path(__file__).parent / "texts.yaml").read_text("utf-8"))


def _say(key: str, lang: str, **values: Any) -> str:
    return _texts()[key][check_lang(lang)].format(**values)


def _tables(client: Any) -> Mapping[str, Any]:
    return client.tables if hasattr(client, "tables") else client


def _has(client: Any, *names: str) -> bool:
    tables = _tables(client)
    return all(tables.get(n) is not None and len(tables[n]) > 0 for n in names)


def _currency(client: Any) -> str:
    return getattr(client, "currency", None) or "TWD"


def _labels(client: Any, lang: str, labels: Labels | None) -> Labels:
    return labels if labels is not None else Labels(client, lang)


def _period(client: Any, period: str | Period) -> Period:
    fy = getattr(client, "fiscal_year_start_month", 1) or 1
    return parse_period(period, fiscal_year_start_month=fy)


# --------------------------------------------------------------------------- numbers in words


def fmt_display(value: float | None, unit: str, lang: str, *, currency: str = "TWD") -> str:
    """A KPI value as the report prints it: money keeps three significant digits when small.

    >>> fmt_display(0.3521, "currency", "en"), fmt_display(12.55, "currency", "zh-TW")
    ('NT$0.35', '12.6元')
    >>> fmt_display(131484.0, "currency", "en"), fmt_display(0.0042, "currency", "en")
    ('NT$131,484', 'NT$0.004')
    """
    digits = None
    if unit == "currency" and value is not None and not math.isnan(value) and value != 0:
        magnitude = math.floor(math.log10(abs(value)))
        # 131,484 · 12.6 · 0.35 · 0.0042: cents at most, unless the amount would show as 0.
        digits = max(0, min(MONEY_MAX_DIGITS, MONEY_SIGNIFICANT_DIGITS - 1 - magnitude))
        digits = max(digits, -magnitude)
    return fmt_value(value, unit, lang, currency=currency, digits=digits)


def fmt_change(before: float, after: float, unit: str, lang: str) -> str:
    """The change from ``before`` to ``after``: points for rates, percent otherwise; no "-0.0".

    >>> fmt_change(0.5723, 0.5719, "rate", "zh-TW"), fmt_change(0.0207, 0.0113, "rate", "en")
    ('0.0 個百分點', '-0.9 pp')
    >>> fmt_change(100.0, 150.0, "currency", "en"), fmt_change(0.0, 5.0, "count", "en")
    ('+50.0%', '—')
    """
    check_lang(lang)
    if any(v is None or math.isnan(v) for v in (before, after)):
        return "—"
    if unit in ("rate", "percent"):
        points = round((after - before) * 100, 1)
        sign = "+" if points > 0 else ("-" if points < 0 else "")
        return f"{sign}{abs(points):.1f} {t('unit.pp_suffix', lang)}"
    if before == 0:
        return "—"
    change = round((after - before) / abs(before) * 100, 1)
    sign = "+" if change > 0 else ("-" if change < 0 else "")
    return f"{sign}{abs(change):.1f}%"


def verdict_label(verdict: str, lang: str) -> str:
    """改善 / Improved, 退步 / Worsened, 正常波動範圍內 / Within normal variation, or —."""
    return _texts()["verdict"][check_lang(lang)][verdict]


def method_note(lang: str) -> str:
    """The sentence explaining how the report judges changes (tests named, 5% level)."""
    return _say("method_note", lang)


def window_text(start: Period, end: Period, lang: str) -> str:
    """``'2024年第1季至2024年第4季'`` / ``'from Q1 2024 to Q4 2024'``, or one period's label."""
    if start.label == end.label:
        return _say("window_single", lang, period=period_label(end, lang))
    return _say("window_quarters", lang, start=period_label(start, lang),
                end=period_label(end, lang))


def _join(items: Sequence[str], lang: str) -> str:
    return _texts()["list_sep"][lang].join(items)


# --------------------------------------------------------------------------- movers


def biggest_movers(client: Any, period: str | Period, kpi_ids: Iterable[str], *,
                   lang: str = "zh-TW") -> pd.DataFrame:
    """Each KPI this period against the previous one, best improvement first, noise judged.

    ``improvement`` is the relative change signed so that positive is good (a fall in churn is an
    improvement); ``verdict`` is improved / worsened / within_noise / not_tested
    (:func:`kpitools.insights.noise.judge_change`). KPIs the client lacks data for, or that are
    undefined in either period, are left out. Columns: kpi, name, unit, previous, current,
    change_rate, improvement, verdict, p_value, method.
    """
    check_lang(lang)
    p = _period(client, period)
    rows = []
    for kpi_id in kpi_ids:
        kpi = get_kpi(kpi_id)
        if kpi.returns != "float" or not _has(client, *kpi.tables):
            continue
        try:
            now = float(compute_kpi(kpi_id, client, p))
            before = float(compute_kpi(kpi_id, client, p.previous()))
        except KpitoolsError:
            continue
        if math.isnan(now) or math.isnan(before) or before == 0:
            continue
        judged = judge_change(kpi_id, client, p.previous(), p, values=(before, now))
        rows.append(_mover_row(kpi_id, lang, before, now, judged))
    return _movers_frame(rows)


def _mover_row(kpi_id: str, lang: str, before: float, now: float,
               judged: Change | None) -> dict[str, Any]:
    kpi = get_kpi(kpi_id)
    change = (now - before) / abs(before)
    return {"kpi": kpi_id, "name": kpi.name_for(lang), "unit": kpi.unit, "previous": before,
            "current": now, "change_rate": change,
            "improvement": change if kpi.higher_is_better else -change,
            "verdict": judged.verdict if judged else "not_tested",
            "p_value": judged.p_value if judged else math.nan,
            "method": judged.method if judged else "none"}


def _movers_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    columns = ["kpi", "name", "unit", "previous", "current", "change_rate", "improvement",
               "verdict", "p_value", "method"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values("improvement", ascending=False, ignore_index=True)


def movers_insight(movers: pd.DataFrame, *, lang: str = "zh-TW", currency: str = "TWD",
                   periods: tuple[str | Period, str | Period] | None = None,
                   attainment: Mapping[str, float] | None = None) -> list[Insight]:
    """Sentences for the best and the worst real mover of a :func:`biggest_movers` table.

    Only changes judged beyond normal variation (``verdict`` improved / worsened) are called
    movers; large changes within the noise get one sentence saying so. ``periods`` = (previous,
    current) labels the numbers; ``attainment`` = {kpi: attainment} keeps a KPI that still meets
    its goal from being called the one that "needs most attention".
    """
    if movers.empty:
        return []
    check_lang(lang)
    previous, current = (("上一期", "本期") if lang == "zh-TW" else
                         ("the previous period", "this period"))
    if periods is not None:
        previous, current = (period_label(p, lang) for p in periods)
    verdicts = movers["verdict"] if "verdict" in movers else pd.Series("not_tested",
                                                                      index=movers.index)
    big = movers["change_rate"].abs() >= FLAT_CHANGE
    real = movers[big & verdicts.isin(["improved", "worsened"])]
    out = []

    def values(row: pd.Series) -> dict[str, str]:
        return {"kpi": row["name"], "previous": previous, "current": current,
                "before": fmt_display(row["previous"], row["unit"], lang, currency=currency),
                "after": fmt_display(row["current"], row["unit"], lang, currency=currency),
                "change": fmt_change(row["previous"], row["current"], row["unit"], lang)}

    improved = real[real["verdict"] == "improved"]
    worsened = real[real["verdict"] == "worsened"]
    if not improved.empty:
        best = improved.iloc[0]
        out.append(Insight("movers", _say("mover_up_good", lang, **values(best)), best.to_dict()))
    if not worsened.empty:
        worst = worsened.iloc[-1]
        met = (attainment or {}).get(worst["kpi"])
        if met is not None and not math.isnan(met) and met >= 1:
            text = _say("mover_down_goal_met", lang, **values(worst),
                        attainment=fmt_pct(met, lang, 0))
        else:
            text = _say("mover_down_bad", lang, **values(worst))
        out.append(Insight("movers", text, worst.to_dict()))
    if real.empty:
        out.append(Insight("movers", _say("mover_none", lang, previous=previous), {}))
    noisy = movers[(movers["change_rate"].abs() >= NOTABLE_CHANGE)
                   & (verdicts == "within_noise")]
    noisy = noisy.reindex(noisy["change_rate"].abs().sort_values(ascending=False).index)
    noisy = noisy.head(MAX_NOISE_NAMED)
    if not noisy.empty:
        items = [_say("mover_noise_item", lang, kpi=row["name"],
                      change=fmt_change(row["previous"], row["current"], row["unit"], lang))
                 for _, row in noisy.iterrows()]
        out.append(Insight("noise", _say("mover_noise", lang, kpis=_join(items, lang)),
                           {"kpis": noisy["kpi"].tolist()}))
    return out


# --------------------------------------------------------------------------- ACV


def acv_insight(client: Any, period: str | Period, *, lang: str = "zh-TW",
                by: str = "tier", labels: Labels | None = None) -> Insight | None:
    """Why average ACV of new contracts changed against the previous period (mix vs rate).

    A change within normal variation (Welch test on the monthly ACVs) is said to be so and not
    explained; a real one names the segment behind it, by its display name.
    """
    from kpitools.metrics import acv_mix_rate

    if not _has(client, "contracts"):
        return None
    p = _period(client, period)
    try:
        result = acv_mix_rate(_tables(client)["contracts"], p.previous(), p, by=by)
    except KpitoolsError:
        return None
    if any(math.isnan(x) for x in (result.acv_base, result.acv_compare)):
        return None
    label = _labels(client, lang, labels)
    currency = _currency(client)
    judged = judge_change("acv", client, p.previous(), p,
                          values=(result.acv_base, result.acv_compare))
    money = lambda v: fmt_display(v, "currency", lang, currency=currency)  # noqa: E731
    words = _texts()["acv_words"][lang]
    fill = {"previous": period_label(p.previous(), lang), "current": period_label(p, lang),
            "before": money(result.acv_base), "after": money(result.acv_compare),
            "change": fmt_change(result.acv_base, result.acv_compare, "currency", lang),
            "verb": words["up" if result.change > 0 else "down"]}
    data = {"acv_base": result.acv_base, "acv_compare": result.acv_compare,
            "mix_effect": result.mix_effect, "rate_effect": result.rate_effect,
            "driver": result.driver, "driver_segment": result.driver_segment,
            "verdict": judged.verdict, "p_value": judged.p_value}
    if not judged.real or result.driver == "none" or result.driver_segment is None:
        return Insight("acv", _say("acv_noise", lang, **fill), data)
    row = result.segments.set_index("segment").loc[result.driver_segment]
    fill["segment"] = label(by, result.driver_segment)
    if result.driver == "mix":
        up = row["share_compare"] > row["share_base"]
        text = _say("acv_mix", lang, **fill, share_before=fmt_pct(row["share_base"], lang, 0),
                    share_after=fmt_pct(row["share_compare"], lang, 0),
                    share_verb=words["share_up" if up else "share_down"])
    else:
        up = row["acv_compare"] > row["acv_base"]
        text = _say("acv_rate", lang, **fill, segment_before=money(row["acv_base"]),
                    segment_after=money(row["acv_compare"]),
                    segment_verb=words["segment_up" if up else "segment_down"])
    return Insight("acv", text, data)


# --------------------------------------------------------------------------- funnel


def funnel_step_insight(funnel_table: pd.DataFrame, *, lang: str = "zh-TW",
                        window: str, labels: Labels | None = None) -> Insight | None:
    """The weakest step of a funnel table — the same table, and step, the funnel chart draws.

    ``funnel_table`` is :func:`kpitools.metrics.sales.funnel` without ``by=`` (index = stage,
    columns deals and stage_conversion); ``window`` names the deals' creation period in words.
    """
    frame = funnel_table.reset_index()
    if len(frame) < 2 or frame["deals"].iloc[0] <= 0:
        return None
    conversion = frame["stage_conversion"].iloc[1:]
    if conversion.isna().all():
        return None
    k = int(conversion.idxmin())
    label = labels or Labels(None, lang)
    stages = frame["stage"].astype(str).tolist()
    text = _say("funnel_weakest_step", lang, window=window,
                deals=fmt_number(float(frame["deals"].iloc[0]), lang),
                from_stage=label("stage", stages[k - 1]), to_stage=label("stage", stages[k]),
                conversion=fmt_pct(float(frame["stage_conversion"].iloc[k]), lang, 1))
    return Insight("funnel_step", text, {"from_stage": stages[k - 1], "to_stage": stages[k],
                                         "conversion": float(frame["stage_conversion"].iloc[k])})


def funnel_insight(client: Any, period: str | Period, *, lang: str = "zh-TW",
                   by: str = "channel", labels: Labels | None = None) -> Insight | None:
    """The funnel step and segment that lose most deals against the other segments.

    The gap is judged with the two-proportion test (segment against the rest at that step); a
    gap within normal variation is not called a bottleneck.
    """
    from kpitools.insights.noise import SIGNIFICANCE, two_proportion_test
    from kpitools.metrics.sales import bottleneck

    stages: Sequence[str] | None = getattr(client, "funnel_stages", None)
    if not _has(client, "deals") or not stages:
        return None
    try:
        found = bottleneck(_tables(client)["deals"], list(stages), period, by=by)
    except KpitoolsError:
        return None
    if found is None or (found.conversion_rest - found.conversion) < MIN_BOTTLENECK_GAP:
        return Insight("funnel", _say("funnel_no_bottleneck", lang), {})
    # Deals entering the step in the rest of the segments: moved on ÷ their conversion.
    n1 = found.deals_entering
    k1 = round(found.conversion * n1)
    rest_entering = _rest_entering(client, stages, period, by, found)
    k2 = round(found.conversion_rest * rest_entering)
    p_value = two_proportion_test(k1, n1, k2, rest_entering)
    data = dict(vars(found), p_value=p_value)
    if math.isnan(p_value) or p_value >= SIGNIFICANCE:
        return Insight("funnel", _say("funnel_no_bottleneck", lang), data)
    label = _labels(client, lang, labels)
    text = _say(
        "funnel_bottleneck", lang, segment=label(by, found.segment),
        from_stage=label("stage", found.from_stage), to_stage=label("stage", found.to_stage),
        conversion=fmt_pct(found.conversion, lang, 0), rest=fmt_pct(found.conversion_rest, lang, 0),
        lost=fmt_number(found.lost_deals, lang))
    return Insight("funnel", text, data)


def _rest_entering(client: Any, stages: Sequence[str], period: str | Period, by: str,
                   found: Any) -> float:
    from kpitools.metrics.sales import funnel

    table = funnel(_tables(client)["deals"], list(stages), period, by=by)
    entering = table.xs(found.from_stage, level="stage")["deals"]
    return float(entering.sum() - entering.get(found.segment, 0))


# --------------------------------------------------------------------------- churn reasons


def churn_insight(client: Any, period: str | Period, *, lang: str = "zh-TW",
                  window: str | None = None, labels: Labels | None = None,
                  reasons: pd.DataFrame | None = None) -> Insight | None:
    """The most common stated reason among customers who churned in ``period``; ties said so.

    ``reasons`` is the :func:`kpitools.metrics.churn_reasons` table the report's chart draws
    (computed here when not given); ``window`` names the period in words (default: its label).
    """
    from kpitools.metrics import churn_reasons

    if not _has(client, "churn_events"):
        return None
    if reasons is None:
        reasons = churn_reasons(_tables(client)["churn_events"], period)
    if window is None:
        p = _period(client, period)
        window = window_text(p, p, lang)
    if reasons.empty:
        return Insight("churn", _say("churn_none", lang, window=window), {})
    label = _labels(client, lang, labels)
    total = int(reasons["customers"].sum())
    top_count = int(reasons["customers"].max())
    top = reasons[reasons["customers"] == top_count]
    names = [label("reason", r) for r in top["reason"]]
    data = {"reasons": top["reason"].tolist(), "customers": top_count, "total": total,
            "share": top_count / total}
    if len(top) > 1:
        text = _say("churn_tied_reasons", lang, window=window, total=total, count=top_count,
                    reasons=_join([f"「{n}」" if lang == "zh-TW" else f"“{n}”" for n in names],
                                  lang))
        return Insight("churn", text, data)
    text = _say("churn_top_reason", lang, window=window, total=total, count=top_count,
                share=fmt_pct(top_count / total, lang, 0), reason=names[0])
    return Insight("churn", text, {**data, "reason": top["reason"].iloc[0]})


# --------------------------------------------------------------------------- goals


def goals_insight(card: pd.DataFrame, *, lang: str = "zh-TW",
                  currency: str = "TWD") -> list[Insight]:
    """How the goals stand, from a :func:`kpitools.scorecard` table (nothing without goals)."""
    if card is None or card.empty:
        return []
    order = ["achieved", "on_track", "near_miss", "at_risk", "missed", "off_track", "no_data"]
    counts = card["status"].astype(str).value_counts()
    items = [_say("goals_breakdown_item", lang, status=status_label(s, lang).lower()
                  if lang == "en" else status_label(s, lang), count=int(counts[s]))
             for s in order if s in counts.index]
    breakdown = _texts()["goals_breakdown_sep"][lang].join(items)
    out = [Insight("goals", _say("goals_summary", lang, total=len(card), breakdown=breakdown),
                   {s: int(counts[s]) for s in counts.index})]
    scored = card.dropna(subset=["attainment"])
    if not scored.empty:
        worst = scored.sort_values("attainment").iloc[0]
        if worst["attainment"] < 1:
            kpi = get_kpi(worst["kpi"]) if "kpi" in worst else None
            unit = kpi.unit if kpi else "count"
            name = kpi.name_for(lang) if kpi else str(worst.get("kpi"))
            out.append(Insight("goals", _say(
                "goals_worst", lang, kpi=name,
                actual=fmt_display(worst["actual"], unit, lang, currency=currency),
                target=fmt_display(worst["target"], unit, lang, currency=currency),
                attainment=fmt_pct(worst["attainment"], lang, 0)), worst.to_dict()))
    return out


def quarter_insights(client: Any, period: str | Period, kpi_ids: Iterable[str], *,
                     lang: str = "zh-TW") -> list[Insight]:
    """Every finding a quarterly report can back with this client's data, in reading order."""
    p = _period(client, period)
    labels = Labels(client, lang)
    found: list[Insight] = []
    movers = biggest_movers(client, p, kpi_ids, lang=lang)
    found.extend(movers_insight(movers, lang=lang, currency=_currency(client),
                                periods=(p.previous(), p)))
    for rule in (acv_insight, funnel_insight, churn_insight):
        insight = rule(client, p, lang=lang, labels=labels)
        if insight is not None:
            found.append(insight)
    return found
