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
import yaml

from kpitools._errors import PeriodError
from kpitools.goals.model import Goal, available_tables
from kpitools.periods import Period, parse_period, period_containing

__all__ = ["ParsedGoal", "parse_goal"]

_HERE = Path(__file__).parent
_PERCENT = 100.0
_DAYS_PER_WEEK = 7
_DOUBLE, _HALF = 1.0, -0.5
_PER_MONTHS = {"month": 1, "quarter": 3}


@cache
def _words() -> dict[str, Any]:
    return yaml.safe_load((_HERE / "parse_words.yaml").read_text(encoding="utf-8"))


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


# ---------------------------------------------------------------- numbers
_ZH_NUM = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "兩": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
    "半": 0.5,
}
_EN_NUM = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "eighteen": 18,
    "twenty": 20,
    "thirty": 30,
    "sixty": 60,
    "ninety": 90,
    "half": 0.5,
}
_SCALE = {
    "萬": 1e4,
    "万": 1e4,
    "億": 1e8,
    "亿": 1e8,
    "千": 1e3,
    "k": 1e3,
    "m": 1e6,
    "million": 1e6,
    "thousand": 1e3,
    "bn": 1e9,
    "billion": 1e9,
}


def _zh_number(s: str) -> float | None:
    """一 … 九十九 (and 半) as a number; None for anything else."""
    if not s:
        return None
    if all(ch in _ZH_NUM for ch in s):
        if "十" in s:
            tens, _, ones = s.partition("十")
            return (_ZH_NUM.get(tens, 1) if tens else 1) * 10 + (
                _ZH_NUM.get(ones, 0) if ones else 0
            )
        if len(s) == 1:
            return float(_ZH_NUM[s])
    return None


def _count(s: str) -> float | None:
    """A small count written as digits, Chinese numerals or English words."""
    s = s.strip().lower()
    if re.fullmatch(r"\d+(?:\.\d+)?", s):
        return float(s)
    return _EN_NUM.get(s) if s in _EN_NUM else _zh_number(s)


_NUM = r"(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
_SCALE_RE = r"(萬|万|億|亿|千|k|m(?:illion)?\b|thousand\b|bn\b|billion\b)?"
_UNIT_RE = (
    r"(%|percent\b|per\s*cent\b|個百分點|个百分点|百分點|百分点|pp\b|"
    r"percentage\s+points?\b|points?\b|分)?"
)
_RE_AMOUNT = re.compile(
    r"(?:nt\$|us\$|\$|新台幣|台幣)?\s*" + _NUM + r"\s*" + _SCALE_RE + r"\s*" + _UNIT_RE,
    re.IGNORECASE,
)
_RE_ZH_PERCENT = re.compile(r"百分之([一二兩三四五六七八九十]+|\d+(?:\.\d+)?)")
_RE_ZH_TENTHS = re.compile(r"([一二兩三四五六七八九])成")


@dataclass
class _Amount:
    value: float
    kind: str  # "percent", "points" or "value"
    start: int
    end: int


def _amounts(s: str) -> list[_Amount]:
    out = []
    for m in _RE_AMOUNT.finditer(s):
        value = float(m.group(1).replace(",", ""))
        scale, unit = (m.group(2) or "").lower(), (m.group(3) or "").lower()
        if scale and (scale != "m" or not unit):
            value *= _SCALE.get(scale, _SCALE.get(scale[:1], 1.0))
        if "point" in unit or "百分" in unit or unit == "pp":
            out.append(_Amount(value, "points", m.start(), m.end()))
        elif unit in ("%", "percent") or unit.startswith("per"):
            out.append(_Amount(value / _PERCENT, "percent", m.start(), m.end()))
        elif unit:
            kind = "points" if unit != "分" else "value"
            out.append(_Amount(value, kind, m.start(), m.end()))
        else:
            out.append(_Amount(value, "value", m.start(), m.end()))
    for m in _RE_ZH_PERCENT.finditer(s):
        n = _count(m.group(1))
        if n is not None:
            out.append(_Amount(n / _PERCENT, "percent", m.start(), m.end()))
    for m in _RE_ZH_TENTHS.finditer(s):
        out.append(_Amount(_ZH_NUM[m.group(1)] / 10, "percent", m.start(), m.end()))
    return sorted(out, key=lambda a: a.start)


# ---------------------------------------------------------------- periods and deadlines
_ZH_Q = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_MONTHS = {
    m.lower(): i
    for i, m in enumerate(
        [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ],
        1,
    )
}
_MONTHS.update({k[:3]: v for k, v in list(_MONTHS.items())})
_MON = (
    r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_UNIT_MONTHS = {
    "月": 1,
    "個月": 1,
    "个月": 1,
    "季": 3,
    "季度": 3,
    "個季度": 3,
    "個季": 3,
    "年": 12,
    "month": 1,
    "months": 1,
    "quarter": 3,
    "quarters": 3,
    "year": 12,
    "years": 12,
}
_UNIT_DAYS = {
    "天": 1,
    "日": 1,
    "週": 7,
    "周": 7,
    "星期": 7,
    "day": 1,
    "days": 1,
    "week": 7,
    "weeks": 7,
}
_CNT = (
    r"(\d+|[一二兩两三四五六七八九十半]+|a|an|one|two|three|four|five|six|seven|eight|nine|"
    r"ten|eleven|twelve|eighteen|thirty|sixty|ninety|half)"
)


@dataclass
class _Window:
    start: pd.Timestamp | None
    last: pd.Timestamp  # last day inside the window
    span: tuple[int, int]
    label: str | None = None


def _explicit_periods(s: str, fy: int) -> list[tuple[int, int, Period]]:
    """Every written-out period in ``s`` as (start, end, Period)."""
    out: list[tuple[int, int, Period]] = []

    def add(m: re.Match[str], label: str) -> None:
        try:
            out.append((m.start(), m.end(), parse_period(label, fiscal_year_start_month=fy)))
        except PeriodError:
            return

    for m in re.finditer(r"(\d{4})\s*年?\s*(?:的)?\s*第?\s*([一二三四1-4])\s*(?:季度|季)", s):
        add(m, f"{m.group(1)}Q{_ZH_Q[m.group(2)]}")
    for m in re.finditer(r"(?<![\d])(?:fy)?(\d{4})\s*[-_ ]?\s*q([1-4])(?![\d])", s, re.I):
        add(m, f"{m.group(1)}Q{m.group(2)}")
    for m in re.finditer(r"(?<![a-z])q([1-4])\s*(?:of\s*)?[-_ ,]?\s*(?:fy)?(\d{4})", s, re.I):
        add(m, f"{m.group(2)}Q{m.group(1)}")
    for m in re.finditer(
        r"(?:the\s+)?(first|second|third|fourth)\s+quarter\s+(?:of\s+)?(\d{4})", s, re.I
    ):
        n = ("first", "second", "third", "fourth").index(m.group(1).lower()) + 1
        add(m, f"{m.group(2)}Q{n}")
    for m in re.finditer(r"(\d{4})\s*年\s*(\d{1,2})\s*月(?!\s*\d{1,2}\s*[日號号])", s):
        add(m, f"{m.group(1)}-{int(m.group(2)):02d}")
    for m in re.finditer(r"(?<![\d-])(\d{4})[-/](\d{1,2})(?![\d/-])", s):
        add(m, f"{m.group(1)}-{int(m.group(2)):02d}")
    for m in re.finditer(_MON + r"\.?\s*,?\s*(\d{4})", s, re.I):
        add(m, f"{m.group(2)}-{_MONTHS[m.group(1).lower()[:3]]:02d}")
    for m in re.finditer(r"(?:fy\s*)?(?<!\d)(\d{4})\s*(?:年度|年)(?![\d一二三四上下第])", s, re.I):
        add(m, m.group(1))
    for m in re.finditer(r"\b(?:in|for|during|fy)\s*(\d{4})\b(?!\s*[-/q])", s, re.I):
        add(m, m.group(1))
    for m in re.finditer(r"\bend\s+of\s+(?:fy\s*)?(\d{4})\b(?!\s*[-/q])", s, re.I):
        add(m, m.group(1))
    out.sort(key=lambda x: (x[0], -(x[1] - x[0])))
    kept: list[tuple[int, int, Period]] = []
    for item in out:
        if not any(item[0] < e and s_ < item[1] for s_, e, _ in kept):
            kept.append(item)
    return kept


def _dates(s: str) -> list[tuple[int, int, pd.Timestamp]]:
    out = []
    for m in re.finditer(r"(\d{4})\s*[年/-]\s*(\d{1,2})\s*[月/-]\s*(\d{1,2})\s*[日號号]?", s):
        try:
            out.append(
                (
                    m.start(),
                    m.end(),
                    pd.Timestamp(int(m.group(1)), int(m.group(2)), int(m.group(3))),
                )
            )
        except ValueError:
            continue
    for m in re.finditer(_MON + r"\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})", s, re.I):
        out.append(
            (
                m.start(),
                m.end(),
                pd.Timestamp(int(m.group(3)), _MONTHS[m.group(1).lower()[:3]], int(m.group(2))),
            )
        )
    return out


def _relative_period(s: str, ref: pd.Timestamp, fy: int) -> tuple[int, int, Period] | None:
    table = (
        (r"本季|這一?季|这一?季|當季|this quarter|the current quarter", "Q", 0),
        (r"下一?季|下個季度|next quarter", "Q", 1),
        (r"本月|這個月|这个月|this month", "M", 0),
        (r"下個?月|下个月|next month", "M", 1),
        (r"今年|本年度?|this year|this fiscal year", "Y", 0),
        (r"明年|下一?年度?|next year|next fiscal year", "Y", 1),
    )
    for pattern, freq, shift in table:
        if m := re.search(pattern, s, re.I):
            p = period_containing(ref, freq, fiscal_year_start_month=fy).shift(shift)
            return m.start(), m.end(), p
    if m := re.search(r"(?<![\d年])第?\s*([一二三四])\s*季(?:度)?", s):
        q = _ZH_Q[m.group(1)]
        p = parse_period(f"{ref.year}Q{q}", fiscal_year_start_month=fy)
        return m.start(), m.end(), (p if p.end > ref else p.shift(4))
    return None


_HALF_RE = (
    r"(\d{4})\s*年?\s*(上|下)\s*半年(?:度)?|(?<![a-z])h([12])\s*[-_ ]?\s*(\d{4})|"
    r"(\d{4})\s*[-_ ]?\s*h([12])(?![a-z])|(?:the\s+)?(first|second)\s+half\s+(?:of\s+)?(\d{4})"
)


def _half_window(s: str, fy: int) -> _Window | None:
    """「2025年上半年」, "H2 2024", "2024H1", "the first half of 2025" as a six-month window."""
    m = re.search(_HALF_RE, s, re.I)
    if m is None:
        return None
    g = m.groups()
    if g[0]:
        year, first = int(g[0]), g[1] == "上"
    elif g[2]:
        year, first = int(g[3]), g[2] == "1"
    elif g[4]:
        year, first = int(g[4]), g[5] == "1"
    else:
        year, first = int(g[7]), g[6].lower() == "first"
    start = pd.Timestamp(year, fy, 1) + pd.DateOffset(months=0 if first else 6)
    return _Window(start, start + pd.DateOffset(months=6) - pd.Timedelta(days=1), m.span())


def _before_month(s: str) -> list[tuple[int, int, pd.Timestamp]]:
    """ "before July 2024" / 「2024年7月前」: the day before that month starts."""
    out = []
    for m in re.finditer(r"\b(?:before|prior\s+to)\s+" + _MON + r"\.?\s*,?\s*(\d{4})", s, re.I):
        first = pd.Timestamp(int(m.group(2)), _MONTHS[m.group(1).lower()[:3]], 1)
        out.append((m.start(), m.end(), first - pd.Timedelta(days=1)))
    for m in re.finditer(r"(\d{4})\s*年\s*(\d{1,2})\s*月(?:之前|以前|前)", s):
        first = pd.Timestamp(int(m.group(1)), int(m.group(2)), 1)
        out.append((m.start(), m.end(), first - pd.Timedelta(days=1)))
    return out


def _relative_window(s: str, ref: pd.Timestamp) -> _Window | None:
    units = "|".join(sorted(map(re.escape, [*_UNIT_MONTHS, *_UNIT_DAYS]), key=len, reverse=True))
    zh = re.search(
        r"(?:在|於)?(?:接下來|接下来|未來|未来|之後|今後)?(?:的)?\s*"
        + _CNT
        + r"\s*("
        + units
        + r")\s*(?:內|内|之內|之内|以內|以内)",
        s,
    )
    zh2 = re.search(r"(?:接下來|接下来|未來|未来)(?:的)?\s*" + _CNT + r"\s*(" + units + r")", s)
    en = re.search(
        r"\b(?:within|in|over|during)\s+(?:the\s+)?(?:next|coming|following)?\s*"
        + _CNT
        + r"\s+("
        + units
        + r")\b",
        s,
        re.I,
    )
    half = re.search(
        r"(?:接下來|未來|未来)?(?:的)?(?<![上下])半年(?:內|内)?|(?:within|in|over)\s+(?:the\s+)?"
        r"(?:next\s+)?half\s+(?:a\s+)?year",
        s,
        re.I,
    )
    m = zh or zh2 or en
    if m is not None:
        n = _count(m.group(1))
        unit = m.group(2).lower()
        if n is None:
            return None
        if unit in _UNIT_DAYS:
            last = ref + pd.Timedelta(days=round(n * _UNIT_DAYS[unit])) - pd.Timedelta(days=1)
        else:
            months = n * _UNIT_MONTHS[unit]
            if months != int(months):
                return None
            last = ref + pd.DateOffset(months=int(months)) - pd.Timedelta(days=1)
        return _Window(ref, last, (m.start(), m.end()))
    if half is not None:
        return _Window(ref, ref + pd.DateOffset(months=6) - pd.Timedelta(days=1), half.span())
    if m := re.search(
        r"年底前|年底|年末|by (?:the )?end of (?:the |this )?year|by year[- ]end", s, re.I
    ):
        return _Window(None, pd.Timestamp(ref.year, 12, 31), m.span())
    return None


def _as_window(p: Period) -> _Window:
    return _Window(p.start, p.last_day, (-1, -1), p.label)


def _label_of(start: pd.Timestamp, last: pd.Timestamp, fy: int) -> str | None:
    """The period label when [start, last] is exactly a calendar month, quarter or year."""
    for freq in ("M", "Q", "Y"):
        p = period_containing(start, freq, fiscal_year_start_month=fy)
        if p.start == start and p.last_day == last:
            return p.label
    return None


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
