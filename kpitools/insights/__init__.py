"""Insights: the plain-words findings a report writes next to its numbers.

Each rule looks at one aspect of a client's quarter — the KPIs that moved most, why average ACV
changed, where the sales funnel leaks, why customers leave, how the goals stand — and returns an
:class:`Insight` with a sentence in the report's language and the numbers behind it. A rule returns
``None`` when the client lacks the data it needs, so a report shows only the findings it can back.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from kpitools._errors import KpitoolsError
from kpitools.catalog import compute_kpi, get_kpi
from kpitools.i18n import check_lang, fmt_number, fmt_pct, fmt_value, status_label
from kpitools.periods import Period, parse_period

__all__ = [
    "Insight",
    "acv_insight",
    "biggest_movers",
    "churn_insight",
    "funnel_insight",
    "goals_insight",
    "movers_insight",
    "quarter_insights",
]

#: A KPI whose relative change is below this is "flat" and never called a mover.
FLAT_CHANGE = 0.02
#: An ACV change below this share of the base ACV is reported as stable.
ACV_STABLE_CHANGE = 0.03
#: A funnel gap smaller than this (in conversion points) is not called a bottleneck.
MIN_BOTTLENECK_GAP = 0.05


@dataclass(frozen=True)
class Insight:
    """One finding: its kind, the sentence in the chosen language, and the numbers behind it."""

    kind: str
    text: str
    data: Mapping[str, Any] = field(default_factory=dict)


@cache
def _texts() -> dict[str, dict[str, str]]:
    return yaml.safe_load((Path(__file__).parent / "texts.yaml").read_text("utf-8"))


def _say(key: str, lang: str, **values: Any) -> str:
    return _texts()[key][check_lang(lang)].format(**values)


def _tables(client: Any) -> Mapping[str, Any]:
    return client.tables if hasattr(client, "tables") else client


def _has(client: Any, *names: str) -> bool:
    tables = _tables(client)
    return all(tables.get(n) is not None and len(tables[n]) > 0 for n in names)


def _currency(client: Any) -> str:
    return getattr(client, "currency", None) or "TWD"


def biggest_movers(client: Any, period: str | Period, kpi_ids: Iterable[str], *,
                   lang: str = "zh-TW") -> pd.DataFrame:
    """Each KPI this period against the previous one, best improvement first.

    ``improvement`` is the relative change signed so that positive is good (a fall in churn is an
    improvement). KPIs the client lacks data for, or that are undefined in either period, are left
    out. Columns: kpi, name, unit, previous, current, change_rate, improvement.
    """
    check_lang(lang)
    fy = getattr(client, "fiscal_year_start_month", 1) or 1
    p = parse_period(period, fiscal_year_start_month=fy)
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
        change = (now - before) / abs(before)
        rows.append({
            "kpi": kpi_id, "name": kpi.name_for(lang), "unit": kpi.unit, "previous": before,
            "current": now, "change_rate": change,
            "improvement": change if kpi.higher_is_better else -change,
        })
    columns = ["kpi", "name", "unit", "previous", "current", "change_rate", "improvement"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values("improvement", ascending=False, ignore_index=True)


def movers_insight(movers: pd.DataFrame, *, lang: str = "zh-TW",
                   currency: str = "TWD") -> list[Insight]:
    """Sentences for the best and the worst mover of a :func:`biggest_movers` table."""
    if movers.empty:
        return []
    big = movers[movers["change_rate"].abs() >= FLAT_CHANGE]
    if big.empty:
        flat = _say("mover_flat", lang, threshold=fmt_pct(FLAT_CHANGE, lang, 0))
        return [Insight("movers", flat)]
    out = []

    def sentence(row: pd.Series, key: str) -> Insight:
        values = {
            "kpi": row["name"],
            "before": fmt_value(row["previous"], row["unit"], lang, currency=currency),
            "after": fmt_value(row["current"], row["unit"], lang, currency=currency),
            "change": fmt_pct(row["change_rate"], lang, 1, signed=True),
        }
        return Insight("movers", _say(key, lang, **values), row.to_dict())

    best, worst = big.iloc[0], big.iloc[-1]
    if best["improvement"] > 0:
        out.append(sentence(best, "mover_up_good"))
    if worst["improvement"] < 0:
        out.append(sentence(worst, "mover_down_bad"))
    return out


def acv_insight(client: Any, period: str | Period, *, lang: str = "zh-TW",
                by: str = "tier") -> Insight | None:
    """Why average ACV of new contracts changed against the previous period (mix vs rate)."""
    from kpitools.metrics import acv_mix_rate, explain_acv_change

    if not _has(client, "contracts"):
        return None
    fy = getattr(client, "fiscal_year_start_month", 1) or 1
    p = parse_period(period, fiscal_year_start_month=fy)
    try:
        result = acv_mix_rate(_tables(client)["contracts"], p.previous(), p, by=by)
    except KpitoolsError:
        return None
    if any(math.isnan(x) for x in (result.acv_base, result.acv_compare)):
        return None
    currency = _currency(client)
    data = {"acv_base": result.acv_base, "acv_compare": result.acv_compare,
            "mix_effect": result.mix_effect, "rate_effect": result.rate_effect,
            "driver": result.driver, "driver_segment": result.driver_segment}
    if abs(result.change_rate) < ACV_STABLE_CHANGE:
        text = _say("acv_stable", lang,
                    before=fmt_value(result.acv_base, "currency", lang, currency=currency),
                    after=fmt_value(result.acv_compare, "currency", lang, currency=currency))
        return Insight("acv", text, data)
    text = explain_acv_change(result, lang)
    return Insight("acv", text, data)


def funnel_insight(client: Any, period: str | Period, *, lang: str = "zh-TW",
                   by: str = "channel") -> Insight | None:
    """The funnel step and segment that lose most deals against the other segments."""
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
    text = _say(
        "funnel_bottleneck", lang, segment=found.segment, from_stage=found.from_stage,
        to_stage=found.to_stage, conversion=fmt_pct(found.conversion, lang, 0),
        rest=fmt_pct(found.conversion_rest, lang, 0), lost=fmt_number(found.lost_deals, lang))
    return Insight("funnel", text, dict(vars(found)))


def churn_insight(client: Any, period: str | Period, *, lang: str = "zh-TW") -> Insight | None:
    """The leading stated reason among customers who churned in the period."""
    from kpitools.metrics import churn_reasons

    if not _has(client, "churn_events"):
        return None
    reasons = churn_reasons(_tables(client)["churn_events"], period)
    if reasons.empty:
        return Insight("churn", _say("churn_none", lang), {})
    top = reasons.sort_values(["customers", "reason"], ascending=[False, True]).iloc[0]
    text = _say("churn_top_reason", lang, reason=top["reason"],
                share=fmt_pct(top["share"], lang, 0), count=int(top["customers"]))
    return Insight("churn", text, {k: top[k] for k in ("reason", "customers", "share")})


def goals_insight(card: pd.DataFrame, *, lang: str = "zh-TW",
                  currency: str = "TWD") -> list[Insight]:
    """How the goals stand, from a :func:`kpitools.scorecard` table."""
    if card is None or card.empty:
        return [Insight("goals", _say("no_goals", lang), {})]
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
                actual=fmt_value(worst["actual"], unit, lang, currency=currency),
                target=fmt_value(worst["target"], unit, lang, currency=currency),
                attainment=fmt_pct(worst["attainment"], lang, 0)), worst.to_dict()))
    return out


def quarter_insights(client: Any, period: str | Period, kpi_ids: Iterable[str], *,
                     lang: str = "zh-TW") -> list[Insight]:
    """Every finding a quarterly report can back with this client's data, in reading order."""
    found: list[Insight] = []
    movers = biggest_movers(client, period, kpi_ids, lang=lang)
    found.extend(movers_insight(movers, lang=lang, currency=_currency(client)))
    for rule in (acv_insight, funnel_insight, churn_insight):
        insight = rule(client, period, lang=lang)
        if insight is not None:
            found.append(insight)
    return found
