"""SMART check of a goal, and a helper that rewrites a vague goal into a SMART one.

:func:`check_smart` returns one :class:`Finding` per criterion (Doran 1981, in the later
Specific / Measurable / Achievable / Relevant / Time-bound wording; kpi-definitions.md §3.1):

Specific
    fail without a KPI (catalog id or a custom metric with a definition), or without a stated
    result (no target and no change): "improve customer count" names no amount. warn without an
    owner (Doran's *assignable*: who answers for it), so a goal nobody owns is never SMART. The
    scope defaults to the whole business and is then mentioned.
Measurable
    fail without a numeric target, for a custom metric without a data source, or when the target
    moves the wrong way for the KPI's direction; warn without a baseline (and none measurable from
    the data), when target = baseline, or when the client lacks a table the KPI needs.
Achievable
    with data: the required change from baseline to target, compared with the spread of the
    client's own comparable past changes of the KPI (same span and, with enough history, same
    season; :mod:`kpitools.goals.achievable`). fail when it lies more than two spreads beyond the
    typical change; warn above one spread (stretch), below minus one spread (too easy), or with
    fewer than :data:`MIN_HISTORY` comparable changes (history too short); warn without data.
Relevant
    the catalog lists the KPI under the goal's strategy (or the client's): pass; the KPI serves
    other strategies: fail; no KPI yet, no strategy known, or a custom metric: warn.
Time-bound
    a period (``2024Q1``) or deadline that can be read: pass, else fail; warn when the baseline
    period is not before the goal period.

Messages and suggestions come from ``texts.yaml`` in zh-TW or en.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from kpitools._errors import KpitoolsError, PeriodError
from kpitools.goals.achievable import MIN_HISTORY, compare_with_history, scale_for
from kpitools.goals.attainment import measured_baseline
from kpitools.goals.model import (
    DIRECTIONS,
    CustomMetric,
    Goal,
    available_tables,
    check_lang,
    goal_from_dict,
    pick,
    resolve_catalog,
    text,
)
from kpitools.goals.parse import parse_goal
from kpitools.goals.scope import goal_data
from kpitools.i18n import UNITS, fmt_delta, fmt_pct
from kpitools.periods import Period, parse_period

__all__ = [
    "CRITERIA",
    "MIN_HISTORY",
    "Finding",
    "check_smart",
    "findings_frame",
    "goal_sentence",
    "is_smart",
    "parse_goal_text",
    "rewrite_goal",
]

CRITERIA = ("specific", "measurable", "achievable", "relevant", "time_bound")
STATUSES = ("pass", "warn", "fail")
_PERCENT = 100.0


@dataclass(frozen=True)
class Finding:
    """One SMART criterion's verdict: ``status`` is ``pass``, ``warn`` or ``fail``."""

    criterion: str
    status: str
    message: str
    suggestion: str = ""

    def label(self, lang: str = "zh-TW") -> str:
        return text(f"smart.criterion.{self.criterion}", lang)


def _finding(criterion: str, status: str, key: str, lang: str, **values: Any) -> Finding:
    base = f"smart.{criterion}.{key}"
    suggestion = "" if status == "pass" else text(f"{base}.suggest", lang, **values)
    return Finding(criterion, status, text(f"{base}.msg", lang, **values), suggestion)


def is_smart(findings: Iterable[Finding]) -> bool:
    """True when every criterion passed."""
    return all(f.status == "pass" for f in findings)


def findings_frame(findings: Sequence[Finding], lang: str = "zh-TW") -> pd.DataFrame:
    """The findings as a table for a notebook: criterion, status (both as words), message,
    suggestion."""
    return pd.DataFrame({
        "criterion": [f.label(lang) for f in findings],
        "status": [text(f"smart.status.{f.status}", lang) for f in findings],
        "message": [f.message for f in findings],
        "suggestion": [f.suggestion for f in findings],
    })


# ---------------------------------------------------------------- free-text goals
def parse_goal_text(goal_text: str, *, catalog: Any = None, goal_id: str = "goal",
                    data: Any = None, reference_date: Any = None) -> Goal:
    """Read a free-text goal into a :class:`Goal` with :func:`kpitools.goals.parse.parse_goal`.

    KPI (for the client's business model and tables when ``data`` is a client), absolute or
    relative target, baseline period, period or deadline (relative ones counted from
    ``reference_date``), scope and owner. The original wording is kept as ``objective``.

    >>> parse_goal_text("improve customer count", catalog=_NoCatalog()).target_change is None
    True
    """
    stand_in = None if catalog is None or catalog is resolve_catalog(None) else catalog
    parsed = parse_goal(goal_text, data=data, reference_date=reference_date, catalog=stand_in)
    return parsed.to_goal(goal_id)


class _NoCatalog:
    """An empty catalog (for the doctest above)."""

    def list_kpis(self, **_: Any) -> list:
        return []


# ---------------------------------------------------------------- the five checks
def _kpi_entry(goal: Goal, cat: Any) -> Any:
    if goal.kpi_id is None:
        return None
    return cat.get_kpi(goal.kpi_id)  # UnknownKPIError (with a did-you-mean hint) propagates


def _kpi_name(goal: Goal, entry: Any, lang: str) -> str:
    if entry is not None:
        return entry.name_for(lang)
    return goal.kpi.name_for(lang) if isinstance(goal.kpi, CustomMetric) else ""


def _specific(goal: Goal, entry: Any, lang: str) -> Finding:
    if goal.kpi is None:
        return _finding("specific", "fail", "no_kpi", lang)
    name = _kpi_name(goal, entry, lang)
    if isinstance(goal.kpi, CustomMetric) and not pick(goal.kpi.definition, lang):
        return _finding("specific", "fail", "custom_no_definition", lang, kpi=name)
    if not _has_target(goal):
        return _finding("specific", "fail", "no_result", lang, kpi=name)
    if not goal.owner or not str(goal.owner).strip():
        return _finding("specific", "warn", "no_owner", lang, kpi=name)
    if goal.scope in (None, "all", "全部"):
        return _finding("specific", "pass", "ok_all", lang, kpi=name)
    return _finding("specific", "pass", "ok_scope", lang, kpi=name, scope=goal.scope)



def _has_target(goal: Goal) -> bool:
    return any(x is not None for x in (goal.target, goal.target_change, goal.target_delta))


def _direction(goal: Goal, entry: Any) -> str:
    found = goal.direction or getattr(entry, "direction", None) or getattr(goal.kpi, "direction",
                                                                          None)
    return found if found in DIRECTIONS else "higher"


def _measurable(goal: Goal, entry: Any, baseline: float | None, data: Any, lang: str) -> Finding:
    if goal.kpi is None:
        return _finding("measurable", "fail", "no_kpi", lang)
    if isinstance(goal.kpi, CustomMetric) and not goal.kpi.data_source:
        return _finding("measurable", "fail", "no_source", lang, kpi=goal.kpi.name_for(lang))
    if not _has_target(goal):
        return _finding("measurable", "fail", "no_target", lang)
    change = goal.required_change(baseline)
    step = _step(goal, baseline)
    if step is not None and step != 0:
        wanted_up = _direction(goal, entry) == "higher"
        if (step > 0) != wanted_up:
            key = "wrong_way_down" if wanted_up else "wrong_way_up"
            return _finding("measurable", "fail", key, lang)
    if entry is not None:
        _, why = goal_data(goal, data, tuple(entry.tables))
        if why:
            return _finding("measurable", "warn", "scope_not_applied", lang, scope=goal.scope,
                            why=text(f"scope.{why}", lang, scope=goal.scope))
    if baseline is None:
        return _finding("measurable", "warn", "no_baseline", lang)
    if change == 0:
        return _finding("measurable", "warn", "target_equals_baseline", lang)
    have = available_tables(data)
    if entry is not None and have is not None:
        missing = [t for t in entry.tables if t not in have]
        if missing:
            return _finding("measurable", "warn", "missing_tables", lang,
                            tables=", ".join(missing))
    target = goal.resolved_target(baseline)
    scale = "absolute" if baseline <= 0 else "relative"
    return _finding("measurable", "pass", "ok", lang, baseline=_fmt(baseline, entry, lang),
                    target=_fmt(target, entry, lang),
                    change=_change_text(goal, baseline, scale, entry, data, lang))


def _fmt(x: float | None, entry: Any = None, lang: str = "zh-TW") -> str:
    """A number in the KPI's catalog unit when it is known (``25.0%``), else plainly."""
    if x is None or math.isnan(x):
        return "—"
    unit = getattr(entry, "unit", None)
    if unit in ("rate", "percent"):
        return fmt_pct(x, lang, 2 if abs(x) < 0.01 else 1)
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.4g}"


def _pct(x: float | None) -> str:
    return "—" if x is None or math.isnan(x) else f"{x:+.1%}"


def _step(goal: Goal, baseline: float | None) -> float | None:
    """The signed step the goal asks for: ``target − baseline`` when both are known, else the
    relative change (its sign is the step's). Unlike the relative change it points the right
    way from a negative baseline (from −10 to −5 is up)."""
    target = goal.resolved_target(baseline)
    base = goal.baseline if baseline is None else baseline
    if target is not None and base is not None:
        return target - base
    return goal.required_change(baseline)


def _change_text(goal: Goal, baseline: float | None, scale: str, entry: Any, data: Any,
                 lang: str) -> str:
    """The change the goal asks for as the reader should see it: ``+12.0%``, or for an
    absolute comparison the difference in the KPI's unit (``+5``, ``+2.0 pp``)."""
    if scale == "relative":
        return _pct(goal.required_change(baseline))
    return _delta(_step(goal, baseline), entry, data, lang)


def _delta(x: float | None, entry: Any, data: Any, lang: str) -> str:
    """A signed difference in the KPI's unit (rates in percentage points)."""
    if x is None or math.isnan(x):
        return "—"
    unit = getattr(entry, "unit", None)
    unit = "rate" if unit == "percent" else unit if unit in UNITS else "count"
    currency = getattr(data, "currency", None) or "TWD"
    digits = None if unit != "count" or abs(x) >= 100 or float(x).is_integer() else 2
    return fmt_delta(x, lang, unit=unit, currency=currency, digits=digits)


def _span(goal: Goal, gp: Period, fy: int) -> int:
    """How many goal-periods lie between the baseline period and the goal period (default 1)."""
    if goal.baseline_period is None:
        return 1
    try:
        bp = parse_period(goal.baseline_period, fiscal_year_start_month=fy)
    except PeriodError:
        return 1
    months = (gp.start.year - bp.start.year) * 12 + gp.start.month - bp.start.month
    steps, rest = divmod(months, gp.months)
    return steps if rest == 0 and steps >= 1 and bp.freq == gp.freq else 1


def _history(goal: Goal, gp: Period, data: Any, cat: Any) -> pd.Series | None:
    if isinstance(data, pd.Series):
        return data.astype("float64")
    if data is None or goal.kpi_id is None:
        return None
    have = available_tables(data)
    entry = cat.get_kpi(goal.kpi_id)
    if have is not None and any(t not in have for t in getattr(entry, "tables", ())):
        return None  # the client lacks a table this KPI needs; Measurable says which
    data, _ = goal_data(goal, data, tuple(getattr(entry, "tables", ())))
    try:
        return cat.kpi_series(goal.kpi_id, data, freq=gp.freq, end=gp.previous().label)
    except KpitoolsError:
        return None


def _achievable(goal: Goal, entry: Any, baseline: float | None, data: Any, cat: Any,
                lang: str) -> Finding:
    change = goal.required_change(baseline)
    # a zero or negative baseline has no relative change: the step is compared instead
    absolute = baseline is not None and baseline <= 0 and _step(goal, baseline) is not None
    if data is None:
        return _finding("achievable", "warn", "no_data", lang)
    if (change is not None or absolute) and goal.period is None and goal.deadline is not None:
        scale = "absolute" if absolute else "relative"
        return _finding("achievable", "warn", "window", lang,
                        required=_change_text(goal, baseline, scale, entry, data, lang))
    if (change is None and not absolute) or goal.period is None:
        return _finding("achievable", "warn", "no_change", lang)
    fy = int(getattr(data, "fiscal_year_start_month", None) or 1)
    try:
        gp = parse_period(goal.period, fiscal_year_start_month=fy)
    except PeriodError:
        return _finding("achievable", "warn", "no_change", lang)
    series = _history(goal, gp, data, cat)
    if series is None:
        return _finding("achievable", "warn", "no_history", lang, n=0)
    scale = scale_for(series, baseline)
    if scale == "absolute" and _step(goal, baseline) is None:
        scale = "relative"  # no baseline to measure the step from: the goal's own change
    required = _step(goal, baseline) if scale == "absolute" else change
    c = compare_with_history(series, gp.label, _span(goal, gp, fy), required,
                             _direction(goal, entry), fiscal_year_start_month=fy, scale=scale)
    basis = text(f"smart.achievable.basis.{c.basis}_{gp.freq}", lang, m=c.n_season)
    if c.key == "no_history":
        return _finding("achievable", "warn", "no_history", lang, n=c.n)
    status = {"far_beyond": "fail", "stretch": "warn", "sandbag": "warn", "ok": "pass"}[c.key]

    def shown(x: float) -> str:
        return _pct(x) if scale == "relative" else _delta(x, entry, data, lang)

    return _finding("achievable", status, c.key, lang, required=shown(required), n=c.n,
                    basis=basis, typical=shown(c.typical), low=shown(c.low), high=shown(c.high))


def _strategies(goal: Goal, strategy: Any, data: Any) -> list[str]:
    if goal.strategy:
        return [goal.strategy]
    found = strategy if strategy is not None else getattr(data, "strategy", None)
    if found is None:
        return []
    return [found] if isinstance(found, str) else list(found)


def _relevant(goal: Goal, entry: Any, strategies: list[str], cat: Any, lang: str) -> Finding:
    if goal.kpi is None:
        return _finding("relevant", "warn", "no_kpi", lang)
    if entry is None:
        return _finding("relevant", "warn", "custom", lang)
    if not strategies:
        return _finding("relevant", "warn", "no_strategy", lang)
    labels = {s: _strategy_label(cat, s, lang) for s in {*strategies, *entry.strategies}}
    served = [s for s in strategies if s in entry.strategies]
    kpi = entry.name_for(lang)
    sep = " / " if lang == "zh-TW" else "; "
    if served:
        return _finding("relevant", "pass", "ok", lang, kpi=kpi,
                        strategy=sep.join(labels[s] for s in served))
    return _finding("relevant", "fail", "mismatch", lang, kpi=kpi,
                    strategy=sep.join(labels[s] for s in strategies),
                    serves=sep.join(labels[s] for s in entry.strategies) or "—")


def _strategy_label(cat: Any, strategy_id: str, lang: str) -> str:
    try:
        return cat.strategy_label(strategy_id, lang)
    except (KpitoolsError, AttributeError):
        return strategy_id


def _time_bound(goal: Goal, fy: int, lang: str) -> Finding:
    if goal.period is None and goal.deadline is None:
        return _finding("time_bound", "fail", "no_period", lang)
    if goal.period is not None:
        try:
            gp = parse_period(goal.period, fiscal_year_start_month=fy)
        except PeriodError:
            return _finding("time_bound", "fail", "bad_period", lang, period=goal.period)
        if goal.baseline_period is not None:
            try:
                bp = parse_period(goal.baseline_period, fiscal_year_start_month=fy)
            except PeriodError:
                return _finding("time_bound", "warn", "bad_baseline_period", lang,
                                period=goal.baseline_period)
            if bp.start >= gp.start:
                return _finding("time_bound", "warn", "baseline_after", lang,
                                baseline_period=bp.label, period=gp.label)
        return _finding("time_bound", "pass", "ok_period", lang, period=gp.label,
                        end=gp.last_day.date().isoformat())
    try:
        due = pd.Timestamp(goal.deadline)
    except (ValueError, TypeError):
        return _finding("time_bound", "fail", "bad_period", lang, period=goal.deadline)
    return _finding("time_bound", "pass", "ok_deadline", lang, end=due.date().isoformat())


def check_smart(goal: Goal | Mapping[str, Any] | str, data: Any = None, *, lang: str = "zh-TW",
                catalog: Any = None, strategy: str | Sequence[str] | None = None,
                reference_date: Any = None, owner: str | None = None) -> list[Finding]:
    """Check a goal against the five SMART criteria; one :class:`Finding` per criterion.

    Parameters
    ----------
    goal : Goal, dict or str
        A free-text goal is read with :func:`parse_goal_text` first.
    data : client, dict of tables or pandas Series, optional
        The client's data: lets Measurable see which tables exist and Achievable compare the
        target with the KPI's history. A Series is taken as that history directly (indexed by
        period label, e.g. from ``kpi_series``).
    lang : {"zh-TW", "en"}
    catalog : optional
        A stand-in for :mod:`kpitools.catalog` (tests, custom catalogs).
    strategy : str or list of str, optional
        The client's strategy ids when the goal names none (defaults to ``data.strategy``).
    reference_date : date, optional
        "Today" for a free-text goal's relative deadline (「三個月內」); default: today.
    owner : str, optional
        Who is accountable, when the goal (e.g. a sentence) does not say. A goal without an
        owner gets a warning under Specific, so it is never SMART.

    Examples
    --------
    >>> [f.status for f in check_smart("improve customer count", catalog=_NoCatalog(), lang="en")]
    ['fail', 'fail', 'warn', 'warn', 'fail']
    """
    check_lang(lang)
    cat = resolve_catalog(catalog)
    if isinstance(goal, str):
        goal = parse_goal_text(goal, catalog=catalog, data=_client_of(data),
                               reference_date=reference_date)
    elif not isinstance(goal, Goal):
        goal = goal_from_dict(goal, context=_client_of(data), reference_date=reference_date)
    if owner:
        goal = goal.replace(owner=owner)
    entry = _kpi_entry(goal, cat)
    fy = int(getattr(data, "fiscal_year_start_month", None) or 1)
    baseline, _ = measured_baseline(goal, data, cat)
    return [
        _specific(goal, entry, lang),
        _measurable(goal, entry, baseline, data, lang),
        _achievable(goal, entry, baseline, data, cat, lang),
        _relevant(goal, entry, _strategies(goal, strategy, data), cat, lang),
        _time_bound(goal, fy, lang),
    ]


def _client_of(data: Any) -> Any:
    """``data`` when it can tell a business model or tables (a client or a dict of tables)."""
    return None if data is None or isinstance(data, pd.Series) else data


# ---------------------------------------------------------------- rewrite
def rewrite_goal(vague_text: str, *, kpi: str | CustomMetric | Mapping[str, Any],
                 period: str, owner: str, target: float | None = None,
                 target_change: float | None = None, baseline: float | None = None,
                 baseline_period: str | None = None, scope: str | None = None,
                 strategy: str | None = None, direction: str | None = None,
                 goal_id: str = "goal", objective: Mapping[str, str] | None = None,
                 catalog: Any = None, data: Any = None) -> Goal:
    """Turn a vague goal plus the workshop's answers (which KPI, how much, by when, who) into a
    SMART :class:`Goal`.

    Exactly one of ``target`` / ``target_change`` (a fraction, 0.10 = +10 %) is required. The
    direction comes from the catalog unless given; a missing baseline is measured from ``data``
    (the period before ``period``) when data is given. The vague wording is kept as the
    objective unless ``objective`` is given.

    Raises
    ------
    UnknownKPIError
        For a KPI id not in the catalog (with a suggestion).
    KpitoolsError
        When target/target_change, period or owner is missing or unreadable.
    """
    cat = resolve_catalog(catalog)
    if (target is None) == (target_change is None):
        raise KpitoolsError("give exactly one of target= (a value) or target_change= (e.g. 0.10 "
                            "for +10 %).\nHint: 'raise monthly new customers by 10 %' is "
                            "target_change=0.10.")
    if not owner or not str(owner).strip():
        raise KpitoolsError("a SMART goal needs an owner (who is accountable).\n"
                            "Hint: owner='業務部 / Sales' or a person's name.")
    parse_period(period)  # raises PeriodError with the accepted forms
    if isinstance(kpi, Mapping):
        kpi = goal_from_dict({"kpi": kpi}).kpi
    if isinstance(kpi, str):
        direction = direction or cat.get_kpi(kpi).direction  # UnknownKPIError with a hint
    goal = Goal(goal_id=goal_id, kpi=kpi, objective=objective or vague_text, scope=scope,
                baseline=baseline, baseline_period=baseline_period, target=target,
                target_change=target_change, direction=direction, period=period, owner=owner,
                strategy=strategy)
    if baseline is None and data is not None:
        measured, measured_period = measured_baseline(goal, data, cat)
        goal = goal.replace(baseline=measured, baseline_period=measured_period)
    return goal


def goal_sentence(goal: Goal, lang: str = "zh-TW", *, catalog: Any = None) -> str:
    """The goal as one sentence.

    E.g. 「業務部：在 2024Q1，將新客戶數提升 10.0%（基準 40，2023Q4）」 in zh-TW.
    """
    check_lang(lang)
    entry = _kpi_entry(goal, resolve_catalog(catalog))
    change = goal.required_change()
    verb = "lower" if (change is not None and change < 0) or (
        change is None and _direction(goal, entry) == "lower") else "raise"
    if goal.target_change is not None:
        amount = text("sentence.by_change", lang, change=f"{abs(goal.target_change):.1%}")
    elif goal.target is not None:
        amount = text("sentence.to_target", lang, target=_fmt(goal.target, entry, lang))
    else:
        amount = ""
    parts = {
        "owner": goal.owner or text("sentence.no_owner", lang),
        "period": goal.period or goal.deadline or text("sentence.no_period", lang),
        "scope": "" if goal.scope in (None, "all") else text("sentence.scope", lang,
                                                              scope=goal.scope),
        "kpi": _kpi_name(goal, entry, lang) or goal.objective_for(lang),
        "verb": text(f"sentence.{verb}", lang),
        "amount": amount,
        "baseline": "" if goal.baseline is None else text(
            "sentence.baseline", lang, baseline=_fmt(goal.baseline, entry, lang),
            baseline_period=goal.baseline_period or "—"),
    }
    return text("sentence.template", lang, **parts).strip()
