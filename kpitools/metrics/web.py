"""Website, blog and social-media KPIs with GA4 definitions (``web_traffic`` and ``social``).

``web_traffic`` holds GA4-style **daily aggregates**, one row per date and channel. Two GA4
metrics cannot be rebuilt exactly from such rows, and the functions here say so in their names:

* GA4 ``activeUsers`` over a date range counts each person once. Summing daily rows counts a
  person once per day (and per channel), so :func:`active_users` is a count of **user-days**
  (≥ the unique users GA4 shows for the same range). Export the range total from GA4 when the
  unique count matters.
* GA4 ``sessionKeyEventRate`` is the share of sessions with at least one key event, which needs
  session-level data. From daily totals we compute :func:`key_events_per_session` (Σ key events ÷
  Σ sessions), which can exceed 1 when a session fires several key events.

Period convention: rows whose ``date`` falls in ``[period.start, period.end)``; ``None`` = all.
Social followers are a stock, read at the end of the period (see :func:`followers`).
"""

from __future__ import annotations

import operator
from functools import reduce

import ibis
import ibis.expr.types as ir
import pandas as pd

from kpitools._engine import TableLike, flow_total, in_period, scalar, table, to_pandas
from kpitools.metrics.orders import _choice
from kpitools.periods import Period, as_period

__all__ = [
    "REVENUE_STREAMS",
    "active_users",
    "ad_revenue",
    "affiliate_revenue",
    "average_engagement_seconds",
    "bounce_rate",
    "content_revenue",
    "engagement_rate",
    "follower_growth_rate",
    "followers",
    "key_events",
    "key_events_per_session",
    "mentions",
    "revenue_per_session",
    "sessions",
    "traffic_by_channel",
]

_REQUIRED = ("date", "sessions")
#: Revenue streams of ``web_traffic`` and the columns they add up.
REVENUE_STREAMS = {
    "all": ("ecommerce_revenue", "ad_revenue", "affiliate_revenue"),
    "ecommerce": ("ecommerce_revenue",),
    "ad": ("ad_revenue",),
    "affiliate": ("affiliate_revenue",),
    "content": ("ad_revenue", "affiliate_revenue"),
}


def _web(web_traffic: TableLike, period: str | Period | None, *extra: str) -> ir.Table:
    t = table(web_traffic, "web_traffic", (*_REQUIRED, *extra))
    return in_period(t, "date", as_period(period))


def _total(web_traffic: TableLike, period: str | Period | None, column: str) -> float:
    """Σ column (nulls skipped); empty periods as ``flow_total`` (0.0 inside the data's dates,
    NaN outside them)."""
    every = table(web_traffic, "web_traffic", (*_REQUIRED, column))
    p = as_period(period)
    return flow_total(every, "date", p, in_period(every, "date", p)[column].cast("float64").sum())


def _ratio(t: ir.Table, numerator: str, denominator: str) -> float:
    """Σ numerator ÷ Σ denominator over rows where both are filled; NaN if the denominator is 0."""
    rows = t.filter(t[numerator].notnull() & t[denominator].notnull())
    num = rows[numerator].cast("float64").sum()
    return scalar(num / rows[denominator].cast("float64").sum().nullif(0))


def _stream(t: ir.Table, stream: str) -> ir.NumericValue:
    columns = REVENUE_STREAMS[_choice("stream", stream, tuple(REVENUE_STREAMS))]
    present = [t[c].cast("float64").fill_null(0.0) for c in columns if c in t.columns]
    if not present:  # no revenue column at all: 0 on every row, still a column expression
        return t.sessions.cast("float64").fill_null(0.0) * 0.0
    return reduce(operator.add, present)


def sessions(web_traffic: TableLike, period: str | Period | None = None) -> float:
    """Sessions (工作階段): visits that started in the period (GA4 ``sessions``).

    Formula: Σ sessions. Units: count; 0.0 for a quiet period, NaN (no data) outside the
    dates of the data.

    Notes
    -----
    Source: GA4 Data API schema ``sessions`` (kpi-definitions.md §5).
    """
    return _total(web_traffic, period, "sessions")


def active_users(web_traffic: TableLike, period: str | Period | None = None) -> float:
    """Active users summed over the daily rows (使用者人天): a count of **user-days**.

    Formula: Σ users over the period's rows. A person who visits on 3 days counts 3 times, so this
    is at least GA4's unique ``activeUsers`` for the same range (equal only when the table holds
    one row per period, e.g. a GA4 export of the whole month). Use it for trends, not as "how
    many people".

    Returns
    -------
    float
        Count of user-days; 0.0 for a quiet period, NaN (no data) outside the dates of the data.

    Notes
    -----
    Source: GA4 Data API ``activeUsers`` (kpi-definitions.md §5), summed per day.
    """
    return _total(web_traffic, period, "users")


def engagement_rate(web_traffic: TableLike, period: str | Period | None = None) -> float:
    """Engagement rate (參與率): engaged sessions ÷ sessions (GA4 ``engagementRate``).

    An engaged session lasted over 10 seconds, had a key event or had two or more page views.
    Formula: Σ engaged_sessions ÷ Σ sessions over rows where both are filled.

    Returns
    -------
    float
        A fraction in [0, 1]. NaN when there are no sessions.

    Notes
    -----
    Source: GA4 Data API schema and help article "[GA4] Engagement metrics".
    """
    return _ratio(_web(web_traffic, period, "engaged_sessions"), "engaged_sessions", "sessions")


def bounce_rate(web_traffic: TableLike, period: str | Period | None = None) -> float:
    """Bounce rate (跳出率), GA4 definition: 1 − engagement rate.

    Formula: (Σ sessions − Σ engaged_sessions) ÷ Σ sessions. This is **not** Universal
    Analytics' single-page-session bounce rate.

    Returns
    -------
    float
        A fraction in [0, 1]. NaN when there are no sessions.

    Notes
    -----
    Source: GA4 Data API schema ``bounceRate`` (kpi-definitions.md §5, §6).

    Examples
    --------
    >>> import pandas as pd
    >>> w = pd.DataFrame({"date": pd.to_datetime(["2024-07-01", "2024-07-02"]),
    ...     "sessions": [100.0, 300.0], "engaged_sessions": [60.0, 240.0], "users": [90.0, 250.0]})
    >>> engagement_rate(w, "2024-07"), bounce_rate(w, "2024-07")
    (0.75, 0.25)
    """
    return 1.0 - engagement_rate(web_traffic, period)


def average_engagement_seconds(web_traffic: TableLike, period: str | Period | None = None) -> float:
    """Average engagement time per active user (平均互動時間), in seconds.

    Formula: Σ engagement_seconds ÷ Σ users over rows where both are filled. GA4 divides by
    unique active users; because summed daily users count user-days (see :func:`active_users`),
    this value is engagement time per user per day and at most GA4's figure for the range.

    Returns
    -------
    float
        Seconds. NaN when there are no users.

    Notes
    -----
    Source: GA4 ``userEngagementDuration`` ÷ ``activeUsers`` (kpi-definitions.md §5).
    """
    t = _web(web_traffic, period, "engagement_seconds", "users")
    return _ratio(t, "engagement_seconds", "users")


def key_events(web_traffic: TableLike, period: str | Period | None = None) -> float:
    """Key events (重要事件, formerly "conversions" in GA4) in the period.

    Formula: Σ key_events. Units: count; 0.0 for a quiet period, NaN (no data) outside the
    dates of the data.

    Notes
    -----
    Source: GA4 ``keyEvents`` (renamed from conversions in March 2024; kpi-definitions.md §5).
    """
    return _total(web_traffic, period, "key_events")


def key_events_per_session(web_traffic: TableLike, period: str | Period | None = None) -> float:
    """Key events per session (每工作階段重要事件數), the conversion rate daily totals allow.

    Formula: Σ key_events ÷ Σ sessions over rows where both are filled. GA4's
    ``sessionKeyEventRate`` (sessions with a key event ÷ sessions) needs session-level data; this
    ratio equals it only when no session has more than one key event, otherwise it is higher
    and may exceed 1.

    Returns
    -------
    float
        Key events per session (a ratio ≥ 0). NaN when there are no sessions.

    Notes
    -----
    Source: GA4 ``keyEvents`` and ``sessions`` (kpi-definitions.md §5); Shopify's conversion
    rate counts converting sessions, not orders (§6).
    """
    return _ratio(_web(web_traffic, period, "key_events"), "key_events", "sessions")


def revenue_per_session(
    web_traffic: TableLike, period: str | Period | None = None, *, stream: str = "all"
) -> float:
    """Revenue per session (每工作階段營收): revenue of the period ÷ sessions.

    Formula: Σ revenue of ``stream`` ÷ Σ sessions. ``stream="all"`` adds e-commerce, ad and
    affiliate revenue; ``"ecommerce"``, ``"ad"``, ``"affiliate"`` and ``"content"`` (ad +
    affiliate) pick a part (see :data:`REVENUE_STREAMS`). Missing revenue counts as 0.

    Returns
    -------
    float
        Currency per session. NaN when there are no sessions.
    """
    t = _web(web_traffic, period)
    return scalar(_stream(t, stream).sum() / t.sessions.cast("float64").sum().nullif(0))


def _revenue(web_traffic: TableLike, period: str | Period | None, stream: str) -> float:
    every = table(web_traffic, "web_traffic", _REQUIRED)
    p = as_period(period)
    return flow_total(every, "date", p, _stream(in_period(every, "date", p), stream).sum())


def ad_revenue(web_traffic: TableLike, period: str | Period | None = None) -> float:
    """Ad revenue (廣告收入) of the period: Σ ad_revenue (AdSense/AdMob, GA4 ``totalAdRevenue``).

    Currency; 0.0 for a table without the column or a quiet period, NaN (no data) outside the
    dates of the data.
    """
    return _revenue(web_traffic, period, "ad")


def affiliate_revenue(web_traffic: TableLike, period: str | Period | None = None) -> float:
    """Affiliate revenue (聯盟行銷收入): Σ affiliate_revenue (imported from affiliate networks).

    Currency; 0.0 for a table without the column or a quiet period, NaN (no data) outside the
    dates of the data. Not a GA4 metric.
    """
    return _revenue(web_traffic, period, "affiliate")


def content_revenue(web_traffic: TableLike, period: str | Period | None = None) -> float:
    """Content revenue (內容變現收入): ad revenue + affiliate revenue of the period.

    Currency; 0.0 for a quiet period, NaN (no data) outside the dates of the data.
    """
    return _revenue(web_traffic, period, "content")


def traffic_by_channel(web_traffic: TableLike, period: str | Period | None = None) -> pd.DataFrame:
    """GA4 "Traffic acquisition" table: sessions, engagement, key events and revenue per channel.

    Returns
    -------
    pandas.DataFrame
        Index ``channel`` (missing as ``"(missing)"``), columns ``sessions``,
        ``engaged_sessions``, ``engagement_rate``, ``users`` (user-days), ``key_events``,
        ``key_events_per_session``, ``revenue`` (all streams) and ``session_share``; largest
        channel first. Rates are NaN for a channel without sessions.
    """
    t = _web(web_traffic, period)
    channel = t.channel.cast("string") if "channel" in t.columns else ibis.literal("all")
    optional = {c: (t[c].cast("float64") if c in t.columns else ibis.null("float64"))
                for c in ("engaged_sessions", "users", "key_events")}
    g = t.mutate(channel=channel.fill_null("(missing)"), revenue=_stream(t, "all"),
                 **{f"_{c}": v for c, v in optional.items()})
    out = to_pandas(g.group_by("channel").aggregate(
        sessions=g.sessions.cast("float64").sum(),
        engaged_sessions=g._engaged_sessions.sum(),
        users=g._users.sum(),
        key_events=g._key_events.sum(),
        revenue=g.revenue.sum(),
    )).set_index("channel")
    sessions_ = out["sessions"].where(out["sessions"] > 0)
    out["engagement_rate"] = out["engaged_sessions"] / sessions_
    out["key_events_per_session"] = out["key_events"] / sessions_
    total = out["sessions"].sum()
    out["session_share"] = out["sessions"] / total if total else float("nan")
    cols = ["sessions", "engaged_sessions", "engagement_rate", "users", "key_events",
            "key_events_per_session", "revenue", "session_share"]
    return out[cols].sort_values(["sessions", "channel"], ascending=[False, True])


# --- social -------------------------------------------------------------------------------------


def _social(social: TableLike, *extra: str) -> ir.Table:
    return table(social, "social", ("date", "platform", *extra))


def _latest_followers(s: ir.Table) -> ir.Table:
    """Per platform, the followers of its latest dated observation in ``s``."""
    last = s.group_by("platform").aggregate(last_date=s.date.max())
    rows = s.join(last, (s.platform == last.platform) & (s.date == last.last_date))
    return rows.group_by(rows.platform).aggregate(value=rows.followers.cast("float64").max())


def _followers_at(s: ir.Table, cutoff: object | None) -> ir.Table:
    obs = s.filter(s.followers.notnull())
    if cutoff is not None:
        obs = obs.filter(obs.date < cutoff)
    return _latest_followers(obs)


def followers(social: TableLike, period: str | Period | None = None) -> float:
    """Followers (追蹤人數) at the end of the period, summed across platforms.

    For each platform the latest observation dated before ``period.end`` is used (so a platform
    counted weekly still counts), then the platforms are added. ``None`` = latest of all data.

    Returns
    -------
    float
        Count (a stock, at period end); NaN (no data) when no platform has an observation by
        then.
    """
    p = as_period(period)
    latest = _followers_at(_social(social, "followers"), p.end.to_pydatetime() if p else None)
    return scalar(latest.value.sum())


def follower_growth_rate(social: TableLike, period: str | Period | None = None) -> float:
    """Follower growth rate (粉絲成長率): (followers at end − at start) ÷ followers at start.

    At end: as in :func:`followers`. At start: per platform, the latest observation before
    ``period.start``; a platform first observed inside the period starts from its first
    observation there (so a data export that begins mid-period does not look like growth). With
    ``period=None`` the whole table is the period. Both sides add up the same platforms.

    Returns
    -------
    float
        A fraction (0.5 = +50 %; negative when followers fell). NaN when the start is 0.

    Notes
    -----
    Source: (end − start) ÷ start; 1,000 → 1,500 = 50 % (kpi-definitions.md §5, secondary).
    """
    p = as_period(period)
    s = _social(social, "followers")
    obs = s.filter(s.followers.notnull())
    if p is not None:
        obs = obs.filter(obs.date < p.end.to_pydatetime())
        start_dt = p.start.to_pydatetime()
        before = _latest_followers(obs.filter(obs.date < start_dt)).rename(before="value")
        inside = obs.filter(obs.date >= start_dt)
    else:
        before = _latest_followers(obs.filter(ibis.literal(False))).rename(before="value")
        inside = obs
    first_date = inside.group_by("platform").aggregate(first_date=inside.date.min())
    first_rows = inside.join(first_date, (inside.platform == first_date.platform)
                             & (inside.date == first_date.first_date))
    first = first_rows.group_by(first_rows.platform).aggregate(
        first=first_rows.followers.cast("float64").max())
    end = _latest_followers(obs).rename(end="value")
    with_before = end.join(before, "platform", how="left").select("platform", "end", "before")
    both = with_before.join(first, "platform", how="left")
    both = both.select(end=both.end, start=ibis.coalesce(both.before, both.first))
    return scalar((both.end.sum() - both.start.sum()) / both.start.sum().nullif(0))


def mentions(social: TableLike, period: str | Period | None = None) -> float:
    """Brand mentions (品牌提及次數) in the period, summed across platforms.

    Formula: Σ mentions of rows dated in the period. Count; 0.0 for a quiet period, NaN (no
    data) outside the dates of the data.

    Notes
    -----
    Source: counts from a social-listening tool (kpi-definitions.md §5, secondary).
    """
    every = _social(social, "mentions")
    p = as_period(period)
    t = in_period(every, "date", p)
    return flow_total(every, "date", p, t.mentions.cast("float64").sum())
