"""Read a goal written in plain words, zh-TW or English, into the fields of a :class:`Goal`.

「在2024年第一季度，將每月新增客戶數提升10%」, "Raise the win rate to 10% by Q4 2024, owner: Sales"
and 「三個月內廣告收入提升20%」 all say which KPI, which way, how much, by when, for whom and who
answers for it. :func:`parse_goal` finds each of these:

KPI
    a catalog term (:mod:`kpitools.catalog.resolve`; the article's words, common business
    wording, Simplified characters), chosen for the client's business model and tables.
Target
    *absolute* after "to / reach / below" and 「到、至、達到、降到、低於」 (「把贏單率提高到10%」 →
    target 0.10); *relative* after "by" and 「提升、增加、成長、降低」 (「提升10%」 → +10 %);
    *points* for 「3 個百分點」 / "3 percentage points" (added to the baseline); 「倍增」 / "double"
    is +100 %, 「減半」 / "halve" −50 %. 萬, 億, k and M multiply; "from 40 to 44" also gives the
    baseline.
Period and deadline
    a quarter, month or year (2024Q1, 「2024年第一季度」, "Q1 2024", "March 2024", 「2024年」);
    relative ones counted from ``reference_date`` (「本季」, "next quarter", 「三個月內」, "within
    90 days", "in the next six months", 「年底前」). A window that is exactly a calendar month,
    quarter or year becomes the period; any other window becomes a start and a deadline.
Baseline period
    「比去年同期」 / "year over year" (same period last year), 「比上一季」 / "vs last quarter",
    or a period named after "compared with / 相較於 / 基準".
Scope
    a segment (B2B, 企業客戶, SMB), a plan (企業版, Enterprise plan), a channel (「透過線上廣告」,
    "from paid search", LINE, Shopee, 門市) or a region / market (「日本市場」, "in Taichung").
Owner
    「由業務部負責」, 「負責人：王經理」, "owner: Sales", "owned by Amy", or a leading "業務部：".

What was not found stays None and is listed in :attr:`ParsedGoal.missing`, so the SMART check
can say exactly what the sentence lacks.

Examples
--------
>>> p = parse_goal("把贏單率提高到10%", business_model="saas", reference_date="2024-10-01")
>>> p.kpi, p.target, p.target_change
('win_rate', 0.1, None)
>>> p = parse_goal("三個月內廣告收入提升20%", reference_date="2024-01-01")
>>> p.kpi, p.target_change, p.period
('ad_revenue', 0.2, '2024Q1')
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from kpitools._packageyaml import package_yaml
from kpitools.goals._parse_text import (
    _Amount,
    _amounts,
    _as_window,
    _before_month,
    _dates,
    _explicit_periods,
    _half_window,
    _label_of,
    _relative_period,
    _relative_window,
    _Window,
)
from kpitools.goals.model import Goal, available_tables
from kpitools.periods import parse_period

__all__ = ["ParsedGoal", "parse_goal"]

_HERE = Path(__file__).parent
_PERCENT = 100.0
_DOUBLE, _HALF = 1.0, -0.5
_PER_MONTHS = {"month": 1, "quarter": 3}


@cache
def _words() -> dict[str, Any]:
    return package_yaml((_HERE / "parse_words.yaml").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class ParsedGoal:
    """What a goal sentence states. Fields not found are None; ``missing`` lists the ones a SMART
    goal needs (``kpi``, ``target``, ``period``, ``owner``) that the sentence does not give."""

    text: str
    kpi: str | None = None
    kpi_term: str | None = None
    kpi_candidates: tuple[str, ...] = ()
    kpi_reason: str = ""
    movement: str | None = None  # "up" / "down": the verb, not the KPI's polarity
    target: float | None = None
    target_change: float | None = None
    target_delta: float | None = None
    baseline: float | None = None
    baseline_period: str | None = None
    period: str | None = None
    start: str | None = None
    deadline: str | None = None
    scope: str | None = None
    scope_kind: str | None = None
    owner: str | None = None
    per: str | None = None
    kpi_args: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    missing: tuple[str, ...] = field(default=())

    def to_goal(self, goal_id: str = "goal", **overrides: Any) -> Goal:
        """A :class:`Goal` with these fields (``overrides`` win, e.g. ``owner=`` from a form)."""
        extra: dict[str, Any] = {"text": self.text}
        if self.scope_kind:
            extra["scope_kind"] = self.scope_kind
        if self.start:
            extra["start"] = self.start
        if self.per:
            extra["per"] = self.per
        if self.kpi_args:
            extra["kpi_args"] = dict(self.kpi_args)
        values: dict[str, Any] = {
            "goal_id": goal_id,
            "kpi": self.kpi,
            "objective": self.text,
            "scope": self.scope,
            "baseline": self.baseline,
            "baseline_period": self.baseline_period,
            "target": self.target,
            "target_change": self.target_change,
            "target_delta": self.target_delta,
            "period": self.period,
            "deadline": self.deadline,
            "owner": self.owner,
            "extra": extra,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return Goal(**values)


# ---------------------------------------------------------------- scope and owner
def _scope(s: str) -> tuple[str | None, str | None, tuple[int, int] | None]:
    words = _words()["scope"]
    for kind in ("segment", "tier", "channel", "region"):
        for pattern in words[kind]:
            if m := re.search(pattern, s, re.I):
                value = next((g for g in m.groups() if g), m.group(0)) if m.groups() else m.group(0)
                return value.strip(), kind, m.span()
    return None, None, None


def _owner(s: str) -> tuple[str | None, tuple[int, int] | None]:
    for pattern in _words()["owner"]:
        if m := re.search(pattern, s, re.I | re.M):
            who = m.group("o").strip(" ：:，,、。.()（）")
            if who and not any(w in who.lower() for w in _words()["not_owner"]):
                return who, m.span()
    return None, None


# ---------------------------------------------------------------- the parser
_TO = re.compile(
    r"(?:提高|提升|增加|成長|成长|增長|增长|降低|減少|减少|下降|降|拉高|壓低|压低|"
    r"縮短|缩短)?(?:到|至|達到|达到|達|达|為|为|成為|成为)\s*$|(?:\bto|\breach(?:es|ing)?|"
    r"\bhit|\bat\s+least|\bat\s+most|\bbelow|\bunder|\babove|\bover|不低於|不高於|"
    r"不超過|不少於|低於|高於|控制在|維持在|维持在)\s*$",
    re.I,
)
_BY = re.compile(
    r"(?:\bby|提升|提高|增加|成長|成长|增長|增长|降低|減少|减少|下降|up|down)\s*$", re.I
)


def _movement(s: str, before: int) -> str | None:
    w = _words()["verbs"]
    up = [m.end() for p in w["up"] for m in re.finditer(p, s[:before], re.I)]
    down = [m.end() for p in w["down"] for m in re.finditer(p, s[:before], re.I)]
    if not up and not down:
        up = [m.end() for p in w["up"] for m in re.finditer(p, s, re.I)]
        down = [m.end() for p in w["down"] for m in re.finditer(p, s, re.I)]
    if not up and not down:
        return None
    return "up" if max(up, default=-1) > max(down, default=-1) else "down"


def _mask(s: str, spans: Iterable[tuple[int, int] | None]) -> str:
    chars = list(s)
    for span in spans:
        if span is None or span[0] < 0:
            continue
        for i in range(span[0], span[1]):
            chars[i] = " "
    return "".join(chars)


def _context(
    data: Any, business_model: str | None, tables: Iterable[str] | None, fy: int | None
) -> tuple[str | None, list[str] | None, int]:
    if data is not None:
        business_model = business_model or getattr(data, "business_model", None)
        if tables is None:
            have = available_tables(data)
            tables = None if have is None else sorted(have)
        fy = fy or getattr(data, "fiscal_year_start_month", None)
    return business_model, None if tables is None else list(tables), int(fy or 1)


def parse_goal(
    text: str,
    *,
    business_model: str | None = None,
    tables: Iterable[str] | None = None,
    data: Any = None,
    reference_date: Any = None,
    fiscal_year_start_month: int | None = None,
    catalog: Any = None,
) -> ParsedGoal:
    """Read KPI, movement, target, baseline period, period or deadline, scope and owner.

    Parameters
    ----------
    text : str
        The goal as written (zh-TW, Simplified Chinese or English).
    business_model, tables : optional
        The client's business model and canonical tables, for choosing between KPIs that share a
        word. Taken from ``data`` (a client) when not given.
    reference_date : date, optional
        "Today" for relative periods and deadlines (「三個月內」, "next quarter"); default: today.
    catalog : optional
        A stand-in for :mod:`kpitools.catalog` with ``list_kpis`` (tests); its KPI names are then
        the only terms.
    """
    raw = str(text)
    s = unicodedata.normalize("NFKC", raw)
    bm, have, fy = _context(data, business_model, tables, fiscal_year_start_month)
    ref = pd.Timestamp("today" if reference_date is None else reference_date).normalize()
    notes: list[str] = []

    # 1. baseline period (so that "compared with 2023Q4" is not read as the goal period)
    baseline_period, base_span, base_rel = None, None, None
    bw = _words()["baseline"]
    for key in ("yoy", "previous"):
        for pattern in bw[key]:
            if m := re.search(pattern, s, re.I):
                base_rel, base_span = key, m.span()
                break
        if base_rel:
            break
    explicit = _explicit_periods(s, fy)
    for start, end, p in explicit:
        before = s[max(0, start - 12) : start]
        if re.search(bw["named"], before, re.I):
            baseline_period, base_span = p.label, (start - len(before), end)
            break
    # 2. period or deadline
    masked = _mask(s, [base_span])
    window: _Window | None = None
    dates = _dates(masked) + _before_month(masked)
    half = _half_window(masked, fy)
    if half is not None:
        masked = _mask(masked, [half.span])
    goal_periods = [
        x
        for x in _explicit_periods(masked, fy)
        if not any(x[0] < e and d_s < x[1] for d_s, e, _ in dates)
    ]
    if half is not None:
        window = half
    elif dates:
        start_, end_, when = dates[-1]
        window = _Window(None, when, (start_, end_))
    elif goal_periods:
        start_, end_, p = goal_periods[0]
        window = _as_window(p)
        window.span = (start_, end_)
    elif (rel := _relative_window(masked, ref)) is not None:
        window = rel
    elif (relp := _relative_period(masked, ref, fy)) is not None:
        window = _as_window(relp[2])
        window.span = relp[:2]
    period = deadline = start_iso = None
    if window is not None:
        label = window.label or (
            None if window.start is None else _label_of(window.start, window.last, fy)
        )
        if label:
            period = label
        else:
            deadline = window.last.date().isoformat()
            start_iso = None if window.start is None else window.start.date().isoformat()
    if base_rel and period:
        p = parse_period(period, fiscal_year_start_month=fy)
        baseline_period = (p.same_period_last_year() if base_rel == "yoy" else p.previous()).label
    # 3. KPI
    kpi = term = None
    candidates: tuple[str, ...] = ()
    reason = ""
    kpi_span = None
    if catalog is None:
        from kpitools.catalog.resolve import resolve_kpi

        match = resolve_kpi(s, business_model=bm, tables=have)
        kpi, term, candidates, reason = match.kpi, match.term, match.candidates, match.reason
        kpi_span = (match.start, match.end) if match.kpi else None
    else:
        kpi, term, kpi_span = _find_in_names(s, catalog)
        candidates = (kpi,) if kpi else ()
    # 4. scope and owner
    scope, scope_kind, scope_span = _scope(_mask(s, [kpi_span]))
    owner, owner_span = _owner(s)
    kpi_args: dict[str, str] = {}
    if scope_kind == "region" and kpi in _REVENUE_KPIS and _market_fits(bm, have):
        kpi, candidates, reason = "market_revenue", (kpi, "market_revenue"), "market"
        kpi_args["region"] = re.sub(r"\s*(?:市場|市场|market)$", "", scope or "", flags=re.I)
    # 5. amounts
    rest = _mask(s, [base_span, window.span if window else None, kpi_span, owner_span, scope_span])
    target = change = delta = baseline = None
    amounts = _amounts(rest)
    movement = _movement(s, amounts[0].start if amounts else len(s))
    unit = _kpi_unit(kpi)
    if (
        len(amounts) >= 2
        and re.search(r"(?:\bfrom|從|从)\s*\S{0,4}$", rest[: amounts[0].start], re.I)
        and _TO.search(rest[amounts[0].end : amounts[1].start].rstrip())
    ):
        baseline, target = _value(amounts[0], unit), _value(amounts[1], unit)
    elif amounts:
        a = amounts[0]
        before = rest[: a.start]
        after = rest[a.end : a.end + 6]
        absolute = bool(_TO.search(before.rstrip())) or bool(
            re.match(
                r"\s*(?:以下|以上|或以下|或以上|or (?:less|more|lower|higher|below|above))",
                after,
                re.I,
            )
        )
        if a.kind == "points":
            points = a.value / _PERCENT if unit in (None, "rate", "percent") else a.value
            delta = points if movement != "down" else -points
        elif absolute or (a.kind == "value" and not _BY.search(before.rstrip())):
            target = _value(a, unit)
        elif a.kind == "percent":
            change = a.value if movement != "down" else -a.value
        else:  # "increase by 50" / 「增加 50 位」: a change in the KPI's own units
            delta = a.value if movement != "down" else -a.value
    if target is None and change is None and delta is None:
        if re.search(_words()["double"], rest, re.I):
            change = _DOUBLE
        elif re.search(_words()["halve"], rest, re.I):
            change = _HALF
    per = None
    if re.search(r"每月|每個月|每个月|per month|a month|monthly|/\s*month", s, re.I):
        per = "month"
    elif re.search(r"每季|每一季|per quarter|a quarter|quarterly|/\s*quarter", s, re.I):
        per = "quarter"
    if per and target is not None and period and _is_flow(kpi):
        factor = parse_period(period, fiscal_year_start_month=fy).months // _PER_MONTHS[per]
        if factor > 1:
            notes.append(f"per_{per}_target_scaled:{factor}")
            target = target * factor
    missing = tuple(
        name
        for name, value in (
            ("kpi", kpi),
            ("target", _any(target, change, delta)),
            ("period", period or deadline),
            ("owner", owner),
        )
        if value is None
    )
    if reason in ("fits_model", "has_tables", "first") and len(candidates) > 1:
        notes.append(f"kpi_choice:{reason}")
    return ParsedGoal(
        text=raw,
        kpi=kpi,
        kpi_term=term,
        kpi_candidates=tuple(candidates),
        kpi_reason=reason,
        movement=movement,
        target=target,
        target_change=change,
        target_delta=delta,
        baseline=baseline,
        baseline_period=baseline_period,
        period=period,
        start=start_iso,
        deadline=deadline,
        scope=scope,
        scope_kind=scope_kind,
        owner=owner,
        per=per,
        notes=tuple(notes),
        missing=missing,
    )


_REVENUE_KPIS = ("revenue", "tcv", "mrr", "content_revenue")


def _market_fits(business_model: str | None, tables: list[str] | None) -> bool:
    """Revenue by region needs orders and customers (an e-commerce client)."""
    if tables is not None:
        return "orders" in tables and "customers" in tables
    return business_model in (None, "ecommerce")


def _any(*values: float | None) -> float | None:
    return next((v for v in values if v is not None and not math.isnan(v)), None)


def _kpi_unit(kpi: str | None) -> str | None:
    if kpi is None:
        return None
    try:
        from kpitools.catalog import get_kpi

        return get_kpi(kpi).unit
    except Exception:
        return None


def _is_flow(kpi: str | None) -> bool:
    from kpitools.goals.attainment import FLOW_KPIS

    if kpi is None:
        return False
    try:
        from kpitools.catalog import get_kpi

        aggregation = get_kpi(kpi).aggregation
    except Exception:
        aggregation = None
    return aggregation == "flow" if aggregation else kpi in FLOW_KPIS


def _value(a: _Amount, unit: str | None) -> float:
    """An absolute target as the KPI stores it: rates and percents are fractions (10% → 0.10,
    NRR 110% → 1.10), everything else is the number written ("4.5 分" → 4.5)."""
    del unit  # every catalog unit stores a percentage as a fraction
    return a.value


def _find_in_names(s: str, catalog: Any) -> tuple[str | None, str | None, tuple[int, int] | None]:
    """KPI by id or display name in a stand-in catalog (longest name wins)."""
    from kpitools.catalog.resolve import fold

    folded = fold(s)
    best: tuple[int, str, str, tuple[int, int]] | None = None
    for kpi in catalog.list_kpis():
        names = [kpi.id.replace("_", " "), *kpi.name.values()]
        for name in names:
            needle = fold(re.sub(r"[(（].*?[)）]", "", name)).strip()
            at = folded.find(needle) if len(needle) >= 2 else -1
            if at >= 0 and (best is None or len(needle) > best[0]):
                best = (len(needle), kpi.id, s[at : at + len(needle)], (at, at + len(needle)))
    return (None, None, None) if best is None else best[1:]


def parsed_fields(parsed: ParsedGoal) -> Mapping[str, Any]:
    """The goal fields a parsed sentence gives (None values left out), for filling a dict."""
    goal = parsed.to_goal()
    return {k: v for k, v in goal.to_dict().items() if k not in ("goal_id", "text")}
