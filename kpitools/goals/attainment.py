"""Goal attainment (目標達成率), pacing inside a period, and the goals scorecard.

Attainment methods (kpi-definitions.md §3.2; all return a fraction, 1.0 = 100 %):

==================== ======================== =================================================
method               formula                  use
==================== ======================== =================================================
``ratio``            A ÷ T                    higher is better (default for ``higher``)
``downward_polarity`` 2 − A ÷ T               lower is better (default for ``lower``; Stratec,
                                              CAMMS "less is better"); 200 % at A = 0
``inverse_ratio``    T ÷ A                    lower is better, alternative; undefined at A = 0
``baseline_linear``  (A − B) ÷ (T − B)        progress from baseline B to target T, either
                                              direction (OKR style; oslokommune/okr-tracker)
==================== ======================== =================================================

Zero and negative targets. With T = 0 the ratio methods score 1.0 when the target is met (A ≥ 0
for higher, A ≤ 0 for lower) and 0.0 otherwise (Stratec / CAMMS rule, kpi-definitions.md §3.2).
A ratio of two numbers is a fair score only when both lie on the same side of zero, and for a
lower-is-better KPI only above zero: net MRR churn of −5.34 % against a target of −0.28 % is
"19 times the target" (1907 %) only because the target happens to sit near zero. So:

* higher is better, T < 0 and A < 0 (limit a loss): the polarity flips, 2 − A ÷ T (a loss of
  −50 against a limit of −100 scores 150 %), as in Stratec / CAMMS;
* lower is better with T < 0, or A and T on opposite sides of zero (either direction): the
  ratio is not meaningful. With a baseline B ≠ T the score is the share of the gap closed,
  (A − B) ÷ (T − B) (method ``gap``); without one it is NaN, and :func:`explain_attainment`
  says why (``not_meaningful``).

``inverse_ratio`` needs T > 0 and A > 0. The result is then clipped to ``[floor, cap]``
(``floor=0.0`` by default; ``cap=None`` means no cap). A missing actual or target gives NaN.

Pacing (§3.3): the linear pacer expects ``target × elapsed ÷ period length`` by ``as_of`` (days,
or business days with ``curve="business_days"``). A flow (``cumulative=True``: revenue, new
customers) is projected at its run rate, ``actual_to_date ÷ elapsed fraction``; a level
(``cumulative=False``: MRR, churn rate) is expected to move linearly from ``baseline`` to ``target``
and projected to stay where it is; a rate that accumulates over the period against a fixed opening
count (quarterly churn, ``aggregation: accumulating``) is paced like a flow. A mid-period
scorecard uses nothing after ``as_of`` (month-end stocks are read at the last month-end on or
before it; see :func:`scorecard`). Status is read from the projected attainment:
``on_track`` ≥ :data:`ON_TRACK_AT` (100 %), ``at_risk`` ≥ :data:`AT_RISK_AT` (90 %), else
``off_track``; once the period is over the same bands read ``achieved`` / ``near_miss`` /
``missed``. Both thresholds are parameters (our proposal, kpi-definitions.md §3.3).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from kpitools._errors import KpitoolsError
from kpitools.goals.model import (
    DIRECTIONS,
    CustomMetric,
    Goal,
    as_goals,
    check_lang,
    resolve_catalog,
    text,
)
from kpitools.goals.scope import goal_data
from kpitools.periods import Period, as_period, parse_period

__all__ = [
    "AT_RISK_AT",
    "FLOW_KPIS",
    "METHODS",
    "ON_TRACK_AT",
    "Pace",
    "attainment",
    "default_method",
    "explain_attainment",
    "pacing",
    "scorecard",
]

METHODS = ("ratio", "downward_polarity", "inverse_ratio", "baseline_linear")
_METHODS_FOR = {
    "higher": ("ratio", "baseline_linear"),
    "lower": ("downward_polarity", "inverse_ratio", "baseline_linear"),
}
#: Projected attainment at or above this is "on track" (or "achieved" once the period is over).
ON_TRACK_AT = 1.0
#: Projected attainment at or above this (and below ON_TRACK_AT) is "at risk" / "near miss".
AT_RISK_AT = 0.9
#: Catalog KPIs that are flows summed over the period (paced at their run rate). Every other KPI
#: is treated as a level (an average, a rate or a stock such as MRR or followers) and projected
#: flat. A catalog entry may say so itself with ``aggregation: flow`` or ``aggregation: stock``;
#: ``aggregation: accumulating`` (churn rates) is paced like a flow.
FLOW_KPIS = frozenset({
    "revenue", "gross_margin", "new_customers", "new_customers_orders", "tcv", "sessions",
    "active_users", "key_events", "ad_revenue", "affiliate_revenue", "content_revenue",
    "mentions",
})
CURVES = ("linear", "business_days")


def default_method(direction: str) -> str:
    """``"ratio"`` for higher-is-better, ``"downward_polarity"`` for lower-is-better."""
    _check_direction(direction)
    return "ratio" if direction == "higher" else "downward_polarity"


def _check_direction(direction: str) -> None:
    if direction not in DIRECTIONS:
        raise KpitoolsError(f"direction must be 'higher' or 'lower', got {direction!r}.\n"
                            "Hint: 'lower' for churn, cost or complaint KPIs, else 'higher'.")


def _missing(x: float | None) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _crosses_zero(a: float, t: float, direction: str) -> bool:
    """True when a ratio of actual and target would not be a fair score (module docstring)."""
    if t == 0:
        return False
    if (a < 0 < t) or (t < 0 < a):
        return True
    return direction == "lower" and t < 0


def explain_attainment(actual: float, target: float, direction: str = "higher",
                       baseline: float | None = None, method: str | None = None,
                       cap: float | None = None,
                       floor: float | None = 0.0) -> tuple[float, str, str]:
    """Attainment with the method actually used and, when it differs, why.

    Returns ``(score, method_used, reason)``: ``reason`` is ``""`` normally, ``"gap"`` when a
    negative or sign-crossing target was scored as the share of the gap closed from the
    baseline, ``"not_meaningful"`` when it could not be scored (no baseline), with NaN.

    Examples
    --------
    Net MRR churn (lower is better): baseline +0.5 %, target −0.28 %, actual −5.34 %. The gap
    from +0.5 % to −0.28 % is 0.78 points; the actual closed 5.84 points of it, 7.49 times:

    >>> score, used, why = explain_attainment(-0.0534, -0.0028, "lower", baseline=0.005)
    >>> round(score, 3), used, why
    (7.487, 'gap', 'gap')
    >>> explain_attainment(-0.0534, -0.0028, "lower")[1:]
    ('ratio', 'not_meaningful')
    """
    _check_direction(direction)
    used = default_method(direction) if method is None else method
    if (method in (None, "ratio", "downward_polarity") and not _missing(actual)
            and not _missing(target) and _crosses_zero(float(actual), float(target), direction)):
        if _missing(baseline) or float(baseline) == float(target):
            return math.nan, "ratio", "not_meaningful"
        score = attainment(actual, target, direction, baseline, "baseline_linear", cap, floor)
        return score, "gap", "gap"
    return attainment(actual, target, direction, baseline, method, cap, floor), used, ""


def attainment(actual: float, target: float, direction: str = "higher",
               baseline: float | None = None, method: str | None = None,
               cap: float | None = None, floor: float | None = 0.0) -> float:
    """Goal attainment as a fraction (1.0 = target met exactly).

    Parameters
    ----------
    actual, target : float
        Same unit as the KPI.
    direction : {"higher", "lower"}
        Which way is better.
    baseline : float, optional
        Needed by ``method="baseline_linear"`` only.
    method : str, optional
        One of :data:`METHODS`; default :func:`default_method` of ``direction``.
    cap, floor : float, optional
        Clip the result (e.g. ``cap=1.5`` for pay, ``cap=1.0`` for OKR grades). ``floor=None``
        allows negative attainment.

    Returns
    -------
    float
        NaN when ``actual`` or ``target`` is missing. See the module docstring for the formulas
        and the zero/negative-target rule.

    Examples
    --------
    >>> attainment(50_000, 45_000)                      # 111.1 %
    1.1111111111111112
    >>> attainment(0.065, 0.08, "lower")                # churn: 2 − 6.5/8 = 118.75 %
    1.1875
    >>> round(attainment(0.065, 0.08, "lower", baseline=0.10, method="baseline_linear"), 4)
    1.75
    """
    _check_direction(direction)
    method = default_method(direction) if method is None else method
    if method not in METHODS:
        raise KpitoolsError(f"unknown attainment method {method!r}.\nHint: use one of {METHODS}.")
    if method not in _METHODS_FOR[direction]:
        raise KpitoolsError(
            f"method {method!r} does not fit a {direction}-is-better KPI.\n"
            f"Hint: use one of {_METHODS_FOR[direction]} (default {default_method(direction)!r})."
        )
    if _missing(actual) or _missing(target):
        return math.nan
    a, t = float(actual), float(target)
    if method == "baseline_linear":
        if _missing(baseline):
            raise KpitoolsError("method 'baseline_linear' needs a baseline.\n"
                                "Hint: pass baseline=<value at the start>, or use the default "
                                f"method {default_method(direction)!r}.")
        if float(baseline) == t:
            raise KpitoolsError(f"the target ({t:g}) equals the baseline, so progress from one to "
                                "the other is undefined.\nHint: set a target that differs from the "
                                "baseline, or use method 'ratio'/'downward_polarity'.")
        score = (a - float(baseline)) / (t - float(baseline))
    elif method == "inverse_ratio":
        if t <= 0 or a <= 0:
            raise KpitoolsError(f"method 'inverse_ratio' (target ÷ actual) needs a positive "
                                f"target and actual, got target={t:g}, actual={a:g}.\n"
                                "Hint: use method 'downward_polarity', which handles zero.")
        score = t / a
    elif t == 0:
        met = a >= 0 if direction == "higher" else a <= 0
        score = 1.0 if met else 0.0
    elif _crosses_zero(a, t, direction):
        if _missing(baseline) or float(baseline) == t:
            return math.nan  # see explain_attainment for the reason
        score = (a - float(baseline)) / (t - float(baseline))
    else:
        ratio = a / t
        flips = t < 0
        use_ratio = (direction == "higher") != flips
        score = ratio if use_ratio else 2.0 - ratio
    if floor is not None:
        score = max(score, floor)
    if cap is not None:
        score = min(score, cap)
    return score


@dataclass(frozen=True)
class Pace:
    """Where a goal stands part-way through its period (see :func:`pacing`)."""

    period: str
    as_of: pd.Timestamp
    elapsed_fraction: float
    actual_to_date: float
    target: float
    expected_to_date: float
    pace_ratio: float
    projected: float
    projected_attainment: float
    required_per_day: float
    status: str

    def label(self, lang: str = "zh-TW") -> str:
        """The status in words."""
        return text(f"status.{self.status}", lang)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def status_for(projected_attainment: float, complete: bool, *, on_track_at: float = ON_TRACK_AT,
               at_risk_at: float = AT_RISK_AT) -> str:
    """Status id from a (projected) attainment; see the module docstring for the bands."""
    if _missing(projected_attainment):
        return "no_data"
    good, close, bad = (("achieved", "near_miss", "missed") if complete
                        else ("on_track", "at_risk", "off_track"))
    if projected_attainment >= on_track_at:
        return good
    return close if projected_attainment >= at_risk_at else bad


def _elapsed(period: Period, as_of: pd.Timestamp, curve: str) -> tuple[float, int]:
    """(elapsed fraction, days remaining) with ``as_of`` counted as elapsed."""
    if curve not in CURVES:
        raise KpitoolsError(f"unknown pacing curve {curve!r}.\nHint: use one of {CURVES}.")
    if as_of < period.start:
        raise KpitoolsError(
            f"as_of {as_of.date()} is before the period {period.label} starts "
            f"({period.start.date()}).\nHint: pass a date inside the period, e.g. today's date.")
    stop = min(as_of + pd.Timedelta(days=1), period.end)
    remaining = int((period.end - stop).days)
    if curve == "business_days":
        start_d, stop_d, end_d = (np.datetime64(x.date(), "D") for x in (period.start, stop,
                                                                           period.end))
        total = int(np.busday_count(start_d, end_d))
        return float(np.busday_count(start_d, stop_d)) / total, remaining
    return (stop - period.start).days / period.days, remaining


def pacing(actual_to_date: float, target: float, period: str | Period, as_of: Any, *,
           direction: str = "higher", cumulative: bool = True, baseline: float | None = None,
           method: str | None = None, curve: str = "linear", on_track_at: float = ON_TRACK_AT,
           at_risk_at: float = AT_RISK_AT, fiscal_year_start_month: int = 1) -> Pace:
    """Expected-to-date, run-rate projection and status of a goal part-way through its period.

    Formulas (f = elapsed fraction of the period, ``as_of`` included; days or business days):
    flows (``cumulative=True``) expected = T·f, projected = A ÷ f, required per day =
    (T − A) ÷ days remaining; levels (``cumulative=False``) expected = B + (T − B)·f (T without a
    baseline), projected = A. ``pace_ratio`` = attainment of A against the expected value;
    ``projected_attainment`` = attainment of the projection against T, which sets the status.

    Examples
    --------
    96,000 after 12 of 30 days against 260,000 → projected 240,000, 92.3 %, at risk:

    >>> p = pacing(96_000, 260_000, "2024-06", "2024-06-12")
    >>> round(p.projected), round(p.projected_attainment, 3), p.status
    (240000, 0.923, 'at_risk')
    """
    per = parse_period(period, fiscal_year_start_month=fiscal_year_start_month)
    when = pd.Timestamp(as_of).normalize()
    f, remaining = _elapsed(per, when, curve)
    a, t = float(actual_to_date), float(target)
    if cumulative:
        expected = t * f
        projected = a / f if f > 0 else math.nan
        required = (t - a) / remaining if remaining > 0 else math.nan
        if direction == "lower":
            required = math.nan  # a budget-style ceiling has no "required" pace
    else:
        expected = t if _missing(baseline) else float(baseline) + (t - float(baseline)) * f
        projected = a
        required = math.nan
    pace_ratio = attainment(a, expected, direction, method=_pace_method(method))
    projected_att = attainment(projected, t, direction, baseline=baseline, method=method)
    status = status_for(projected_att, f >= 1.0, on_track_at=on_track_at, at_risk_at=at_risk_at)
    return Pace(per.label, when, f, a, t, expected, pace_ratio, projected, projected_att,
                required, status)


def _pace_method(method: str | None) -> str | None:
    # Progress from a baseline is meaningless against a moving expected value; use the ratio form.
    return None if method == "baseline_linear" else method


# ---------------------------------------------------------------- scorecard
def _fy(data: Any) -> int:
    return int(getattr(data, "fiscal_year_start_month", None) or 1)


def _is_flow(kpi: Any, flows: Iterable[str] | None) -> bool:
    if flows is not None:
        return kpi.id in set(flows)
    aggregation = getattr(kpi, "aggregation", None)
    if aggregation in ("flow", "stock"):
        return aggregation == "flow"
    return kpi.id in FLOW_KPIS


def _has_source(goal: Goal) -> bool:
    return isinstance(goal.kpi, CustomMetric) and bool(goal.kpi.data_source)


def _score_custom(goal: Goal, gp: Period, stop: pd.Timestamp | None, data: Any, lang: str,
                  row: dict, direction: str, baseline: float | None,
                  baseline_period: str | None, target: float,
                  bands: tuple[float, float]) -> dict:
    """A custom KPI read from its own file: one value per period, scored once the period ends."""
    from kpitools.goals.custom import custom_value

    use = default_method(direction)
    row.update(direction=direction, baseline=baseline, baseline_period=baseline_period,
               target=target, method=use, unit=goal.kpi.unit, tables=goal.kpi.data_source,
               formula=text("scorecard.custom_formula", lang, source=goal.kpi.data_source),
               window_start=gp.start.date(), window_end=gp.last_day.date())
    if stop is not None and stop < gp.last_day:
        row.update(status="no_data", status_label=text("status.no_data", lang),
                   note=text("scorecard.custom_not_over", lang), actual=math.nan,
                   attainment=math.nan)
        return row
    try:
        actual = custom_value(goal.kpi, data, gp.label)
    except KpitoolsError as exc:
        actual, row["note"] = math.nan, str(exc).splitlines()[0]
    row["actual"] = actual
    score, used, why = explain_attainment(actual, target, direction, baseline, use)
    row.update(attainment=score, method=used)
    if why:
        row["note"] = text(f"scorecard.attainment_{why}", lang)
    if _missing(score):
        row["status"] = "no_data"
        row["note"] = row["note"] or text("scorecard.custom_no_row", lang, period=gp.label)
    else:
        row.update(elapsed_fraction=1.0, expected_to_date=target, pace_ratio=score,
                   projected=actual, projected_attainment=score,
                   status=status_for(score, True, on_track_at=bands[0], at_risk_at=bands[1]))
    row["status_label"] = text(f"status.{row['status']}", lang)
    return row


def _accumulates(kpi: Any, flows: Iterable[str] | None) -> bool:
    """A rate whose numerator builds up over the period against a fixed opening denominator
    (churn rates: ``aggregation: accumulating``): paced like a flow, not held flat."""
    return flows is None and getattr(kpi, "aggregation", None) == "accumulating"


def _month_end_stock(kpi: Any) -> bool:
    """KPIs read from contracts at month-ends (MRR, churn): measurable only to a month-end."""
    return (getattr(kpi, "aggregation", None) in ("stock", "accumulating")
            and "contracts" in tuple(getattr(kpi, "tables", ())))


def _last_month_end(day: pd.Timestamp) -> pd.Timestamp:
    """``day`` itself when it is the last day of a month, else the last day of the month before
    (as of 15 November: 31 October)."""
    after = day + pd.Timedelta(days=1)
    return day if after.day == 1 else pd.Timestamp(day.year, day.month, 1) - pd.Timedelta(days=1)


def measured_baseline(goal: Goal, data: Any,
                      catalog: Any = None) -> tuple[float | None, str | None]:
    """The goal's baseline and its period: as written, else measured from ``data``.

    Without ``baseline_period`` the period just before the goal's period is measured. ``data``
    may also be a pandas Series of the KPI indexed by period label. Returns (None, None) when
    nothing can be measured.
    """
    if goal.baseline is not None:
        return goal.baseline, goal.baseline_period
    if (goal.period is not None and _has_source(goal)
            and getattr(data, "path", None) is not None):
        return _custom_baseline(goal, data)
    if data is None or goal.kpi_id is None:
        return None, None
    fy = _fy(data)
    if goal.period is None:
        return _window_baseline(goal, data, catalog, fy)
    bp = goal.baseline_period or parse_period(goal.period,
                                              fiscal_year_start_month=fy).previous().label
    if isinstance(data, pd.Series):
        value = data.get(bp)
        return (None, None) if _missing(value) else (float(value), bp)
    cat = resolve_catalog(catalog)
    data, _ = goal_data(goal, data, tuple(getattr(_entry(cat, goal.kpi_id), "tables", ())))
    try:
        value = cat.compute_kpi(goal.kpi_id, data, bp, **kpi_args(goal))
    except KpitoolsError:
        return None, None
    return (None, None) if _missing(value) else (float(value), bp)


def kpi_args(goal: Goal) -> dict[str, Any]:
    """Extra arguments of the goal's KPI (``kpi_args:`` in the goal, e.g. ``{region: 台中}`` for
    revenue from one market); empty for most goals."""
    args = goal.extra.get("kpi_args") if isinstance(goal.extra, Mapping) else None
    return dict(args) if isinstance(args, Mapping) else {}


def goal_window(goal: Goal, fiscal_year_start_month: int = 1) -> Period | None:
    """The days a goal is measured over: its period, or the window from its ``start`` (kept in
    ``goal.extra`` by the goal parser: 「接下來的六個月內」 from the workshop day) to its
    ``deadline``. None when the goal has neither."""
    if goal.period is not None:
        return parse_period(goal.period, fiscal_year_start_month=fiscal_year_start_month)
    start = goal.extra.get("start") if isinstance(goal.extra, Mapping) else None
    if goal.deadline is None or start is None:
        return None
    first = pd.Timestamp(start).normalize()
    end = pd.Timestamp(goal.deadline).normalize() + pd.Timedelta(days=1)
    return Period(first, end, "M", fiscal_year_start_month) if end > first else None


def window_label(window: Period) -> str:
    """``2024-07-01–2024-12-31`` for a window that is not a calendar period."""
    return f"{window.start.date().isoformat()}–{window.last_day.date().isoformat()}"


def _earlier(window: Period) -> pd.Timestamp:
    """Start of the equally long window before ``window``: whole months when it spans whole
    months (1 Jul–31 Dec → 1 Jan), else the same number of days."""
    if window.start.day == 1 and window.end.day == 1:
        months = ((window.end.year - window.start.year) * 12 + window.end.month
                  - window.start.month)
        return window.start - pd.DateOffset(months=months)
    return window.start - (window.end - window.start)


def _window_baseline(goal: Goal, data: Any, catalog: Any,
                     fy: int) -> tuple[float | None, str | None]:
    """Baseline of a start–deadline goal: the KPI over the equally long window just before."""
    window = goal_window(goal, fy)
    if window is None or isinstance(data, pd.Series):
        return None, None
    before = Period(_earlier(window), window.start, window.freq, fy)
    cat = resolve_catalog(catalog)
    data, _ = goal_data(goal, data, tuple(getattr(_entry(cat, goal.kpi_id), "tables", ())))
    try:
        value = cat.compute_kpi(goal.kpi_id, data, before, **kpi_args(goal))
    except KpitoolsError:
        return None, None
    return (None, None) if _missing(value) else (float(value), window_label(before))


def _entry(cat: Any, kpi_id: str) -> Any:
    try:
        return cat.get_kpi(kpi_id)
    except KpitoolsError:
        return None


def _custom_baseline(goal: Goal, client: Any) -> tuple[float | None, str | None]:
    from kpitools.goals.custom import custom_value

    fy = _fy(client)
    bp = goal.baseline_period or parse_period(goal.period,
                                              fiscal_year_start_month=fy).previous().label
    try:
        value = custom_value(goal.kpi, client, bp)
    except KpitoolsError:
        return None, None
    return (None, None) if _missing(value) else (float(value), bp)


def _overlaps(a: Period, b: Period) -> bool:
    return a.start < b.end and b.start < a.end


def scorecard(goals: Iterable[Goal | Mapping[str, Any]] | pd.DataFrame, data: Any,
              period: str | Period | None = None, *, lang: str = "zh-TW", catalog: Any = None,
              as_of: Any = None, method: str | None = None, on_track_at: float = ON_TRACK_AT,
              at_risk_at: float = AT_RISK_AT, flows: Iterable[str] | None = None) -> pd.DataFrame:
    """One row per goal: actual, target, attainment, pace, status and the data behind them.

    Parameters
    ----------
    goals : goals, dicts or a goals DataFrame (e.g. ``client.goals``)
    data : a client (``kpitools.load_client``) or a dict of canonical tables
    period : str or Period, optional
        The report period. Only goals whose period overlaps it are shown, measured up to its
        last day (an annual goal in a Q3 report is paced as of 30 September). None: every goal,
        measured over its whole period.
    as_of : date, optional
        Measure up to this day instead (a mid-quarter check). Nothing after ``as_of`` is used:
        KPIs read from contracts at month-ends (``aggregation: stock`` or ``accumulating`` in the
        catalog: MRR, ARPA, churn rates) are measured to the last month-end on or before
        ``as_of`` (a customer leaving on 20 November does not count as of 15 November), and the
        note says so. Accumulating rates (quarterly churn) are paced on what has happened so
        far, like flows, instead of being held flat.
    method : str, optional
        Attainment method for every goal; default per direction (:func:`default_method`).
    flows : iterable of str, optional
        KPI ids to pace at their run rate mid-period (default :data:`FLOW_KPIS`, or the
        catalog entry's ``aggregation``); the others are projected flat.

    Returns
    -------
    pandas.DataFrame
        Columns: goal_id, kpi, kpi_name, objective, owner, period, direction, unit, baseline,
        baseline_period, target, actual, attainment, method, elapsed_fraction,
        expected_to_date, pace_ratio, projected, projected_attainment, status, status_label,
        window_start, window_end, tables, formula, note. ``window_*`` is the date range the actual
        was computed over and ``tables``/``formula`` say where it came from.
    """
    check_lang(lang)
    cat = resolve_catalog(catalog)
    fy = _fy(data)
    report = as_period(period, fiscal_year_start_month=fy)
    rows = []
    for goal in as_goals(goals, context=data):
        gp = goal_window(goal, fy)
        if report is not None and gp is not None and not _overlaps(gp, report):
            continue
        stop = pd.Timestamp(as_of).normalize() if as_of is not None else (
            report.last_day if report is not None else None)
        rows.append(_score_one(goal, gp, stop, data, cat, lang, method,
                               (on_track_at, at_risk_at), flows))
    columns = ["goal_id", "kpi", "kpi_name", "objective", "owner", "period", "direction", "unit",
               "baseline", "baseline_period", "target", "actual", "attainment", "method",
               "elapsed_fraction", "expected_to_date", "pace_ratio", "projected",
               "projected_attainment", "status", "status_label", "window_start", "window_end",
               "tables", "formula", "note"]
    return pd.DataFrame(rows, columns=columns)


def _score_one(goal: Goal, gp: Period | None, stop: pd.Timestamp | None, data: Any, cat: Any,
               lang: str, method: str | None, bands: tuple[float, float],
               flows: Iterable[str] | None) -> dict:
    on_track_at, at_risk_at = bands
    period = goal.period or (window_label(gp) if gp is not None else None)
    row: dict[str, Any] = {"goal_id": goal.goal_id, "objective": goal.objective_for(lang),
                           "owner": goal.owner, "period": period, "note": ""}
    kpi = None
    if goal.kpi_id is not None:
        kpi = cat.get_kpi(goal.kpi_id)
        row.update(kpi=kpi.id, kpi_name=kpi.name_for(lang), unit=kpi.unit,
                   tables=", ".join(kpi.tables), formula=kpi.formula)
    else:
        name = goal.kpi.name_for(lang) if goal.kpi is not None else ""
        row.update(kpi=name, kpi_name=name)
    direction = (goal.direction or getattr(kpi, "direction", None)
                 or getattr(goal.kpi, "direction", None) or "higher")
    baseline, baseline_period = measured_baseline(goal, data, cat)
    target = goal.resolved_target(baseline)
    if (kpi is None and _has_source(goal) and getattr(data, "path", None) is not None
            and gp is not None and target is not None):
        return _score_custom(goal, gp, stop, data, lang, row, direction, baseline,
                             baseline_period, target, bands)
    use = method or default_method(direction)
    row.update(direction=direction, baseline=baseline, baseline_period=baseline_period,
               target=target, method=use)
    if kpi is None or gp is None or target is None:
        key = "no_kpi" if kpi is None else ("no_period" if gp is None else "no_target")
        row.update(status="no_data", status_label=text("status.no_data", lang),
                   note=text(f"scorecard.{key}", lang), actual=math.nan, attainment=math.nan)
        return row
    if stop is not None and stop < gp.start:
        row.update(status="no_data", status_label=text("status.no_data", lang),
                   note=text("scorecard.not_started", lang), actual=math.nan,
                   attainment=math.nan)
        return row
    complete = stop is None or stop >= gp.last_day
    if not complete and _month_end_stock(kpi):
        as_of = stop
        stop = _last_month_end(stop)
        row["note"] = text("scorecard.month_end", lang, end=stop.date().isoformat(),
                           as_of=as_of.date().isoformat())
        if stop < gp.start:
            row.update(status="no_data", status_label=text("status.no_data", lang),
                       note=text("scorecard.no_month_yet", lang), actual=math.nan,
                       attainment=math.nan)
            return row
    window = gp if complete else Period(gp.start, stop + pd.Timedelta(days=1), gp.freq,
                                        gp.fiscal_year_start_month)
    row.update(window_start=window.start.date(), window_end=window.last_day.date())
    data, why_scope = goal_data(goal, data, tuple(kpi.tables))
    if why_scope:
        row["note"] = text(f"scope.{why_scope}", lang, scope=goal.scope)
    try:
        actual = float(cat.compute_kpi(kpi.id, data, window, **kpi_args(goal)))
    except KpitoolsError as exc:
        actual = math.nan
        row["note"] = str(exc).splitlines()[0]
    row["actual"] = actual
    if use == "baseline_linear" and baseline is None:
        row["note"] = row["note"] or text("scorecard.no_baseline", lang)
        actual = math.nan
    row["attainment"], used, why = explain_attainment(actual, target, direction, baseline, use)
    if why:
        row["method"] = used
        row["note"] = row["note"] or text(f"scorecard.attainment_{why}", lang)
    if _missing(row["attainment"]):
        row["status"] = "no_data"
    elif complete:
        row.update(elapsed_fraction=1.0, expected_to_date=target, pace_ratio=row["attainment"],
                   projected=actual, projected_attainment=row["attainment"],
                   status=status_for(row["attainment"], True, on_track_at=on_track_at,
                                     at_risk_at=at_risk_at))
    else:
        pace = pacing(actual, target, gp, stop, direction=direction,
                      cumulative=_is_flow(kpi, flows) or _accumulates(kpi, flows),
                      baseline=baseline, method=use, on_track_at=on_track_at,
                      at_risk_at=at_risk_at)
        row.update(elapsed_fraction=pace.elapsed_fraction, expected_to_date=pace.expected_to_date,
                   pace_ratio=pace.pace_ratio, projected=pace.projected,
                   projected_attainment=pace.projected_attainment, status=pace.status)
    row["status_label"] = text(f"status.{row['status']}", lang)
    return row
