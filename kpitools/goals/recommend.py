"""Choosing KPIs: recommend 3–5 catalog KPIs for a strategy, and review a chosen set.

The article's advice: pick 3–5 KPIs that serve the company's strategy, avoid too many, avoid
vague or duplicated ones. :func:`recommend_kpis` ranks the catalog entries that fit the client's
business model by how many of the client's strategies they serve (see :data:`STRATEGY_POINTS`),
first covering each strategy in the order given, then filling by score, and skipping a KPI that
overlaps one already chosen. KPIs whose tables the client lacks go last. :func:`review_kpi_set`
gives the warnings a consultant would give about a set.

Two KPIs *overlap* when they are a known pair measuring one thing twice (:data:`KNOWN_OVERLAPS`,
plus any ``overlaps:`` list a catalog entry carries; e.g. MRR and ARR, ARR = 12 × MRR), or when
they need the same tables, serve exactly the same strategies and share unit and direction (two
churn rates on ``contracts``). Unit and direction are part of the rule because the article itself
tracks visitors, bounce rate and time on site together, all from one table for one strategy.
:data:`DISTINCT_PAIRS` lists pairs the article sets as separate goals although the rule would
join them (ad vs affiliate revenue; followers vs mentions).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from kpitools._errors import KpitoolsError
from kpitools.goals.model import check_lang, resolve_catalog, text

__all__ = [
    "DISTINCT_PAIRS",
    "KNOWN_OVERLAPS",
    "MAX_KPIS",
    "MIN_KPIS",
    "Advice",
    "kpis_overlap",
    "recommend_kpis",
    "review_kpi_set",
]

#: The article: "選擇3-5個最關鍵的指標".
MIN_KPIS = 3
MAX_KPIS = 5
#: Score per requested strategy a KPI serves; the first strategy listed (the primary one)
#: earns PRIMARY_BONUS more.
STRATEGY_POINTS = 2
PRIMARY_BONUS = 1
#: Pairs of catalog ids that measure the same thing in two ways.
KNOWN_OVERLAPS: tuple[tuple[str, str], ...] = (
    ("mrr", "arr"),
    ("engagement_rate", "bounce_rate"),
    ("csat_average", "csat_share_satisfied"),
    ("gross_mrr_churn_rate", "grr"),
    ("net_mrr_churn_rate", "nrr"),
    ("cltv", "predicted_clv"),
    ("sessions", "active_users"),
    ("ad_revenue", "content_revenue"),
    ("affiliate_revenue", "content_revenue"),
)
#: Pairs that the rule would join but the article sets as separate goals.
DISTINCT_PAIRS: tuple[tuple[str, str], ...] = (
    ("ad_revenue", "affiliate_revenue"),
    ("followers", "mentions"),
    ("csat_share_satisfied", "response_within_sla_rate"),
)


def _strategy_list(strategy: str | Sequence[str]) -> list[str]:
    items = [strategy] if isinstance(strategy, str) else list(strategy)
    if not items:
        raise KpitoolsError("no strategy given.\nHint: pass a strategy id such as "
                            "'acquire_customers', or the client's list (client.strategy).")
    return list(dict.fromkeys(items))


def kpis_overlap(a: Any, b: Any) -> bool:
    """Whether two catalog entries overlap (see the module docstring)."""
    if a.id == b.id:
        return True
    pairs = {frozenset(p) for p in KNOWN_OVERLAPS}
    pairs |= {frozenset((a.id, o)) for o in getattr(a, "overlaps", ()) or ()}
    pairs |= {frozenset((b.id, o)) for o in getattr(b, "overlaps", ()) or ()}
    if frozenset((a.id, b.id)) in pairs:
        return True
    if frozenset((a.id, b.id)) in {frozenset(p) for p in DISTINCT_PAIRS}:
        return False
    return (bool(a.strategies) and set(a.tables) == set(b.tables)
            and set(a.strategies) == set(b.strategies)
            and getattr(a, "unit", None) == getattr(b, "unit", None)
            and getattr(a, "direction", None) == getattr(b, "direction", None))


def _label(cat: Any, kind: str, value: str, lang: str) -> str:
    fn = getattr(cat, f"{kind}_label", None)
    if fn is None:
        return value
    try:
        return fn(value, lang)
    except KpitoolsError:
        return value


def _join(items: Iterable[str], lang: str) -> str:
    return (" / " if lang == "zh-TW" else ", ").join(items)


def recommend_kpis(strategy: str | Sequence[str], business_model: str | None = None, n: int = 4,
                   *, lang: str = "zh-TW", available_tables: Iterable[str] | None = None,
                   catalog: Any = None) -> pd.DataFrame:
    """The ``n`` (3–5) catalog KPIs that best serve ``strategy`` for ``business_model``.

    Parameters
    ----------
    strategy : str or list of str
        Strategy ids, the primary one first (``client.strategy``).
    business_model : {"saas", "ecommerce", "services", "content"}, optional
        Only KPIs suited to it are considered.
    n : int
        How many to recommend, 3 to 5.
    available_tables : iterable of str, optional
        Tables the client has (``client.tables``); KPIs needing others go last and say so.

    Returns
    -------
    pandas.DataFrame
        One row per KPI, best first: kpi_id, name, score, strategies, tables, has_data, reason.
        ``has_data`` is None when ``available_tables`` is not given.
    """
    check_lang(lang)
    if not isinstance(n, int) or not MIN_KPIS <= n <= MAX_KPIS:
        raise KpitoolsError(f"n must be {MIN_KPIS} to {MAX_KPIS}, got {n!r}.\n"
                            "Hint: the article recommends focusing on 3–5 KPIs.")
    wanted = _strategy_list(strategy)
    cat = resolve_catalog(catalog)
    # A KPI that needs a goal's arguments (the market of market_revenue) cannot stand alone.
    candidates = [k for k in cat.list_kpis(business_model=business_model, strategy=wanted)
                  if not getattr(k, "needs", ())]
    have = None if available_tables is None else set(available_tables)

    def score(kpi: Any) -> int:
        served = [s for s in wanted if s in kpi.strategies]
        return STRATEGY_POINTS * len(served) + (PRIMARY_BONUS if wanted[0] in served else 0)

    def has_data(kpi: Any) -> bool | None:
        return None if have is None else set(kpi.tables) <= have

    # Stable sort: data first, then score, then catalog order (deterministic ties).
    ranked = sorted(candidates, key=lambda k: (has_data(k) is False, -score(k)))
    chosen: list[Any] = []
    for s in wanted:  # cover each strategy first, in the client's order
        for kpi in ranked:
            if (s in kpi.strategies and has_data(kpi) is not False
                    and not any(kpis_overlap(kpi, c) for c in chosen)):
                chosen.append(kpi)
                break
        if len(chosen) == n:
            break
    for kpi in ranked:  # then fill by score
        if len(chosen) == n:
            break
        if not any(kpis_overlap(kpi, c) for c in chosen):
            chosen.append(kpi)
    rows = []
    for kpi in chosen:
        served = [s for s in wanted if s in kpi.strategies]
        parts = [text("recommend.reason.serves", lang,
                      strategies=_join((_label(cat, "strategy", s, lang) for s in served), lang))]
        if business_model is not None:
            parts.append(text("recommend.reason.fits", lang,
                              model=_label(cat, "business_model", business_model, lang)))
        if have is not None:
            missing = [t for t in kpi.tables if t not in have]
            parts.append(text("recommend.reason.missing", lang, tables=", ".join(missing))
                         if missing else text("recommend.reason.has_data", lang,
                                              tables=", ".join(kpi.tables)))
        rows.append({"kpi_id": kpi.id, "name": kpi.name_for(lang), "score": score(kpi),
                     "strategies": list(served), "tables": list(kpi.tables),
                     "has_data": has_data(kpi),
                     "reason": ("；" if lang == "zh-TW" else "; ").join(parts)})
    return pd.DataFrame(rows, columns=["kpi_id", "name", "score", "strategies", "tables",
                                       "has_data", "reason"])


@dataclass(frozen=True)
class Advice:
    """One warning about a KPI set: ``code`` is too_many, too_few, duplicate, overlap or
    no_data; ``kpis`` the ids concerned."""

    code: str
    message: str
    kpis: tuple[str, ...] = ()


def review_kpi_set(kpi_ids: Sequence[str], *, available_tables: Iterable[str] | None = None,
                   lang: str = "zh-TW", catalog: Any = None) -> list[Advice]:
    """Warnings about a chosen KPI set; an empty list means no objection.

    Checks: more than :data:`MAX_KPIS` (focus is lost) or fewer than :data:`MIN_KPIS`; the same
    id twice; overlapping pairs (:func:`kpis_overlap`); KPIs whose tables are not in
    ``available_tables`` (when given). Unknown ids raise :class:`UnknownKPIError`.
    """
    check_lang(lang)
    cat = resolve_catalog(catalog)
    ids = list(kpi_ids)
    entries = {i: cat.get_kpi(i) for i in ids}
    out: list[Advice] = []
    unique = list(dict.fromkeys(ids))
    if len(unique) > MAX_KPIS:
        out.append(Advice("too_many", text("recommend.review.too_many", lang, n=len(unique),
                                           max=MAX_KPIS), tuple(unique)))
    elif len(unique) < MIN_KPIS:
        out.append(Advice("too_few", text("recommend.review.too_few", lang, n=len(unique),
                                          min=MIN_KPIS), tuple(unique)))
    dupes = [i for i in unique if ids.count(i) > 1]
    if dupes:
        out.append(Advice("duplicate", text("recommend.review.duplicate", lang,
                                            kpis=", ".join(dupes)), tuple(dupes)))
    for pos, a in enumerate(unique):
        for b in unique[pos + 1:]:
            if kpis_overlap(entries[a], entries[b]):
                out.append(Advice("overlap", text(
                    "recommend.review.overlap", lang, a=entries[a].name_for(lang),
                    b=entries[b].name_for(lang)), (a, b)))
    if available_tables is not None:
        have = set(available_tables)
        for i in unique:
            missing = [t for t in entries[i].tables if t not in have]
            if missing:
                out.append(Advice("no_data", text(
                    "recommend.review.no_data", lang, kpi=entries[i].name_for(lang),
                    tables=", ".join(missing)), (i,)))
    return out
