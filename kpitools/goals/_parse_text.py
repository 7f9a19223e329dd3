"""Numbers, periods and deadlines in goal sentences (the parts of :mod:`kpitools.goals.parse` that
read amounts such as 「18 萬」 or "NT$2M" and times such as 「2024年第一季度」, 「三個月內」,
"H2 2024" or "before July 2024")."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from kpitools._errors import PeriodError
from kpitools.periods import Period, parse_period, period_containing

_PERCENT = 100.0

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
