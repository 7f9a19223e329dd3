"""Set-based KPI series: every period of a KPI in one grouped query.

``kpitools.catalog.kpi_series`` used to compute a KPI once per period, i.e. one scan of the
table per period (a 36-month series was 36 scans). The functions here compute the same numbers
for a whole list of periods at once and are named in the catalog (``series:``) beside the
per-period function they mirror:

* **flows** (summed over a period: revenue, sessions, new customers) tag each row with its
  period (an integer computed from the date: months since year 0, divided by the period length,
  fiscal years respected) and group by it: one scan;
* **stocks** (a level at a date: MRR, followers) join a small period calendar (one row per
  period with its snapshot date) to the table once and group by period.

Every function takes the KPI's tables, ``periods`` (consecutive periods of one frequency, as
``kpitools.periods.period_range`` makes them) and the same keyword arguments as its per-period
function, and returns a float Series indexed by period label. A period without rows gets what
the per-period function returns for an empty period (0.0 for sums and counts, NaN for ratios);
the tests check every series against the per-period results.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from kpitools._engine import TableLike, table, to_pandas
from kpitools.metrics import marketing as mk
from kpitools.metrics import orders as o
from kpitools.metrics import sales as s
from kpitools.metrics import service as sv
from kpitools.metrics import web as w
from kpitools.metrics._contracts import (
    MONEY_DECIMALS,
    check_choice,
    check_margin,
    contracts_table,
    customer_months,
    month_of,
    monthly_flows,
)
from kpitools.metrics.retention import MRR_CHURN_FORMULAS, mrr_churn_of
from kpitools.metrics.revenue import quick_ratio_of
from kpitools.metrics.value import STRIPE_CHURN_FLOOR, TRAILING_CHURN_MONTHS
from kpitools.metrics.value import cltv as _cltv
from kpitools.periods import MONTHS_PER_YEAR, Period

_KEY = "_period"


# ------------------------------------------------------------------------------ helpers
def _offset(first: Period) -> int:
    """Months to shift so that a quarter or year starts at a multiple of its length."""
    return 0 if first.freq == "M" else first.fiscal_year_start_month - 1


def _key_of(p: Period, first: Period) -> int:
    return (month_of(p.start) - _offset(first)) // first.months


def _bucket(col: ir.TimestampValue | ir.DateValue, first: Period,
            shift_months: int = 0) -> ir.IntegerValue:
    """The period number of each date (same numbering as :func:`_key_of`); with
    ``shift_months``, the number of the period that many months later."""
    month = col.year() * MONTHS_PER_YEAR + col.month() - (1 + _offset(first) - shift_months)
    return month if first.months == 1 else month // first.months


def _check(periods: Sequence[Period]) -> None:
    if not periods:
        raise ValueError("a series needs at least one period")
    first = periods[0]
    for i, p in enumerate(periods):
        if p != first.shift(i):  # internal contract: kpi_series passes period_range output
            raise ValueError(f"periods must be consecutive {first.freq} periods, got {p.label}")


def _to_series(frame: pd.DataFrame, periods: Sequence[Period], empty: float) -> pd.Series:
    got = {int(k): v for k, v in zip(frame[_KEY], frame["value"], strict=True)}
    values = []
    for p in periods:
        v = got.get(_key_of(p, periods[0]), empty)
        values.append(math.nan if v is None or pd.isna(v) else float(v))
    return pd.Series(values, index=[p.label for p in periods], dtype="float64")


def flow_series(
    t: ir.Table,
    column: str,
    periods: Sequence[Period],
    value: Callable[[ir.Table], ir.Scalar],
    *,
    empty: float,
) -> pd.Series:
    """``value`` (a reduction over one period's rows) for every period, in one ``GROUP BY``.

    Rows are those whose ``column`` falls in ``[periods[0].start, periods[-1].end)``; a period
    with no rows gets ``empty``.
    """
    _check(periods)
    first, last = periods[0], periods[-1]
    col = t[column]
    t = t.filter((col >= first.start.to_pydatetime()) & (col < last.end.to_pydatetime()))
    keyed = t.mutate(**{_KEY: _bucket(t[column], first)})
    out = to_pandas(keyed.group_by(_KEY).aggregate(value=value(keyed)))
    return _to_series(out, periods, empty)


def _no_data_outside(series: pd.Series, t: ir.Table, column: str,
                     periods: Sequence[Period]) -> pd.Series:
    """NaN ("no data") for periods before the first or after the last row of ``t``.

    The per-period functions do the same through :func:`kpitools._engine.flow_total`: a quiet
    period between two rows is a real 0, a period outside the data is unknown.
    """
    span = to_pandas(t.aggregate(first=t[column].min(), last=t[column].max()))
    first, last = span["first"].iloc[0], span["last"].iloc[0]
    if pd.isna(first):
        return series * math.nan
    inside = [first < p.end and last >= p.start for p in periods]
    return series.where(inside)


def _calendar(periods: Sequence[Period], **columns: Sequence[object]) -> ir.Table:
    """One row per period: its number and the given per-period values."""
    keys = [_key_of(p, periods[0]) for p in periods]
    return ibis.memtable({_KEY: keys, **{k: list(v) for k, v in columns.items()}})


def _zero_if_nan(series: pd.Series) -> pd.Series:
    return series.fillna(0.0)


# ------------------------------------------------------------------------------- orders
def revenue(
    orders: TableLike, periods: Sequence[Period], *, basis: str = "gross_less_discounts"
) -> pd.Series:
    t = o._orders(orders)
    return _no_data_outside(
        _zero_if_nan(
            flow_series(t, "order_date", periods, lambda g: o._sales(g, basis).sum(), empty=0.0)
        ),
        t, "order_date", periods,
    )


def aov(
    orders: TableLike, periods: Sequence[Period], *, basis: str = "gross_less_discounts"
) -> pd.Series:
    t = o._orders(orders)
    return flow_series(
        t,
        "order_date",
        periods,
        lambda g: o._sales(g, basis).sum() / g.count().nullif(0),
        empty=math.nan,
    )


def _with_cost(orders: TableLike) -> ir.Table:
    t = o._orders(orders, "cost")
    return t.filter(t.cost.notnull())


def gross_margin(orders: TableLike, periods: Sequence[Period]) -> pd.Series:
    value = lambda g: (o._sales(g, "gross_less_discounts") - g.cost).sum()  # noqa: E731
    series = _zero_if_nan(flow_series(_with_cost(orders), "order_date", periods, value, empty=0.0))
    return _no_data_outside(series, o._orders(orders), "order_date", periods)


def gross_margin_rate(orders: TableLike, periods: Sequence[Period]) -> pd.Series:
    def value(g: ir.Table) -> ir.Scalar:
        sales = o._sales(g, "gross_less_discounts")
        return (sales - g.cost).sum() / sales.sum().nullif(0)

    return flow_series(_with_cost(orders), "order_date", periods, value, empty=math.nan)


def orders_per_customer(orders: TableLike, periods: Sequence[Period]) -> pd.Series:
    t = o._orders(orders)
    return flow_series(
        t,
        "order_date",
        periods,
        lambda g: g.count() / g.customer_id.nunique().nullif(0),
        empty=math.nan,
    )


def new_customers_orders(orders: TableLike, periods: Sequence[Period]) -> pd.Series:
    t = o._orders(orders)
    firsts = o._first_orders(t)
    series = flow_series(firsts, "first_order_date", periods, lambda g: g.count(), empty=0.0)
    return _no_data_outside(series, t, "order_date", periods)


def repeat_purchase_rate(
    orders: TableLike, periods: Sequence[Period], *, history: str = "period"
) -> pd.Series:
    """Customers with ≥ 2 orders ÷ customers with ≥ 1, per period (see the per-period docs).

    With ``history="all"`` a buyer of the period is a repeater when they ordered twice in it or
    had ordered before it started (their first-ever order precedes the period).
    """
    o._choice("history", history, o._REPEAT_HISTORY)
    _check(periods)
    first, last = periods[0], periods[-1]
    t = o._orders(orders)
    inside = t.filter(
        (t.order_date >= first.start.to_pydatetime()) & (t.order_date < last.end.to_pydatetime())
    )
    inside = inside.mutate(**{_KEY: _bucket(inside.order_date, first)})
    per = inside.group_by([_KEY, "customer_id"]).aggregate(n=inside.count())
    repeater = per.n >= o.REPEAT_MIN_ORDERS
    if history == "all":
        firsts = o._first_orders(t).rename(f_customer="customer_id")
        cal = _calendar(periods, p_start=[p.start for p in periods])
        per = per.join(firsts, per.customer_id == firsts.f_customer).join(cal, _KEY)
        repeater = (per.n >= o.REPEAT_MIN_ORDERS) | (per.first_order_date < per.p_start)
    out = to_pandas(
        per.group_by(_KEY).aggregate(value=repeater.cast("int64").sum() / per.count().nullif(0))
    )
    return _to_series(out, periods, math.nan)


def active_customers(orders: TableLike, periods: Sequence[Period]) -> pd.Series:
    t = o._orders(orders)
    return flow_series(t, "order_date", periods, lambda g: g.customer_id.nunique(), empty=0.0)


# ---------------------------------------------------------------------------------- web
def _web_total(column: str) -> Callable[..., pd.Series]:
    def series(web_traffic: TableLike, periods: Sequence[Period]) -> pd.Series:
        t = table(web_traffic, "web_traffic", (*w._REQUIRED, column))
        series = flow_series(
            t, "date", periods, lambda g: g[column].cast("float64").sum().fill_null(0.0), empty=0.0
        )
        return _no_data_outside(series, t, "date", periods)

    series.__name__ = column
    return series


sessions = _web_total("sessions")
active_users = _web_total("users")
key_events = _web_total("key_events")


def _web_ratio(
    web_traffic: TableLike, periods: Sequence[Period], numerator: str, denominator: str
) -> pd.Series:
    t = table(web_traffic, "web_traffic", (*w._REQUIRED, numerator, denominator))
    t = t.filter(t[numerator].notnull() & t[denominator].notnull())
    return flow_series(
        t,
        "date",
        periods,
        lambda g: (
            g[numerator].cast("float64").sum() / g[denominator].cast("float64").sum().nullif(0)
        ),
        empty=math.nan,
    )


def engagement_rate(web_traffic: TableLike, periods: Sequence[Period]) -> pd.Series:
    return _web_ratio(web_traffic, periods, "engaged_sessions", "sessions")


def bounce_rate(web_traffic: TableLike, periods: Sequence[Period]) -> pd.Series:
    return 1.0 - engagement_rate(web_traffic, periods)


def average_engagement_seconds(web_traffic: TableLike, periods: Sequence[Period]) -> pd.Series:
    return _web_ratio(web_traffic, periods, "engagement_seconds", "users")


def key_events_per_session(web_traffic: TableLike, periods: Sequence[Period]) -> pd.Series:
    return _web_ratio(web_traffic, periods, "key_events", "sessions")


def revenue_per_session(
    web_traffic: TableLike, periods: Sequence[Period], *, stream: str = "all"
) -> pd.Series:
    t = table(web_traffic, "web_traffic", w._REQUIRED)
    return flow_series(
        t,
        "date",
        periods,
        lambda g: w._stream(g, stream).sum() / g.sessions.cast("float64").sum().nullif(0),
        empty=math.nan,
    )


def _web_revenue(stream: str) -> Callable[..., pd.Series]:
    def series(web_traffic: TableLike, periods: Sequence[Period]) -> pd.Series:
        t = table(web_traffic, "web_traffic", w._REQUIRED)
        series = flow_series(
            t, "date", periods, lambda g: w._stream(g, stream).sum().fill_null(0.0), empty=0.0
        )
        return _no_data_outside(series, t, "date", periods)

    series.__name__ = f"{stream}_revenue"
    return series


ad_revenue = _web_revenue("ad")
affiliate_revenue = _web_revenue("affiliate")
content_revenue = _web_revenue("content")


def mentions(social: TableLike, periods: Sequence[Period]) -> pd.Series:
    t = w._social(social, "mentions")
    series = flow_series(
        t, "date", periods, lambda g: g.mentions.cast("float64").sum().fill_null(0.0), empty=0.0
    )
    return _no_data_outside(series, t, "date", periods)


def followers(social: TableLike, periods: Sequence[Period]) -> pd.Series:
    """Followers at each period end: per platform the latest count before it, summed (a stock)."""
    _check(periods)
    t = w._social(social, "followers")
    obs = t.filter(t.followers.notnull() & (t.date < periods[-1].end.to_pydatetime()))
    cal = _calendar(periods, cutoff=[p.end for p in periods])
    pairs = obs.cross_join(cal)
    pairs = pairs.filter(pairs.date < pairs.cutoff)
    last = pairs.group_by([_KEY, "platform"]).aggregate(last_date=pairs.date.max())
    last = last.rename(l_key=_KEY, l_platform="platform")
    rows = pairs.join(
        last,
        [
            pairs[_KEY] == last.l_key,
            pairs.platform == last.l_platform,
            pairs.date == last.last_date,
        ],
    )
    per = rows.group_by([_KEY, "platform"]).aggregate(value=rows.followers.cast("float64").max())
    out = to_pandas(per.group_by(_KEY).aggregate(value=per.value.sum()))
    return _to_series(out, periods, 0.0)


# ------------------------------------------------------------------------------ service
def _answered(feedback: TableLike, column: str) -> ir.Table:
    t = table(feedback, "feedback", ("date", column))
    return t.filter(t[column].notnull())


def csat_average(feedback: TableLike, periods: Sequence[Period]) -> pd.Series:
    return flow_series(
        _answered(feedback, "csat"),
        "date",
        periods,
        lambda g: g.csat.cast("float64").mean(),
        empty=math.nan,
    )


def csat_share_satisfied(feedback: TableLike, periods: Sequence[Period]) -> pd.Series:
    return flow_series(
        _answered(feedback, "csat"),
        "date",
        periods,
        lambda g: (g.csat >= sv.SATISFIED_MIN_SCORE).cast("int64").sum() / g.count().nullif(0),
        empty=math.nan,
    )


def median_response_hours(feedback: TableLike, periods: Sequence[Period]) -> pd.Series:
    return flow_series(
        _answered(feedback, "response_hours"),
        "date",
        periods,
        lambda g: g.response_hours.cast("float64").median(),
        empty=math.nan,
    )


def response_within_sla_rate(
    feedback: TableLike, periods: Sequence[Period], *, sla_hours: float = sv._DEFAULT_SLA_HOURS
) -> pd.Series:
    if not isinstance(sla_hours, int | float) or isinstance(sla_hours, bool) or sla_hours < 0:
        # the per-period function owns the message for a bad limit
        sv.response_within_sla_rate(feedback, periods[0], sla_hours=sla_hours)
    return flow_series(
        _answered(feedback, "response_hours"),
        "date",
        periods,
        lambda g: (g.response_hours <= float(sla_hours)).cast("int64").sum() / g.count().nullif(0),
        empty=math.nan,
    )


# -------------------------------------------------------------------------------- sales
def win_rate(
    deals: TableLike, periods: Sequence[Period], *, denominator: str = "closed"
) -> pd.Series:
    o._choice("denominator", denominator, s._WIN_DENOMINATORS)
    if denominator == "created":
        t, column = s._deals(deals), "created_date"
    else:
        t, column = s._deals(deals, "close_date"), "close_date"
        t = t.filter(s._norm(t.outcome).isin(["won", "lost"]))
    return flow_series(
        t,
        column,
        periods,
        lambda g: (s._norm(g.outcome) == "won").cast("int64").sum() / g.count().nullif(0),
        empty=math.nan,
    )


def sales_cycle_days(
    deals: TableLike, periods: Sequence[Period], *, stat: str = "median"
) -> pd.Series:
    o._choice("stat", stat, s._CYCLE_STATS)
    t = s._deals(deals, "close_date")
    t = t.filter(s._norm(t.outcome) == "won")

    def value(g: ir.Table) -> ir.Scalar:
        days = s._days_between(g.close_date, g.created_date)
        return days.median() if stat == "median" else days.mean()

    return flow_series(t, "close_date", periods, value, empty=math.nan)


def _span(periods: Sequence[Period]) -> Period:
    """All of ``periods`` as one period (for per-period helpers that filter by a period)."""
    _check(periods)
    return Period(periods[0].start, periods[-1].end, "Y", periods[0].fiscal_year_start_month)


# ---------------------------------------------------------------------------- marketing
def qualified_leads(
    deals: TableLike,
    stages: Sequence[str] | None,
    periods: Sequence[Period],
    *,
    stage: str = "qualified",
    channel: str | None = None,
) -> pd.Series:
    # filtered to the whole span first, so that a stage outside it is not refused (as period
    # by period)
    t = mk.leads(deals, stages, _span(periods), stage=stage, channel=channel)
    return flow_series(t, "created_date", periods, lambda g: g.count(), empty=0.0)


def _ad_ratio(marketing_spend: TableLike, periods: Sequence[Period], numerator: str,
              denominator: str, channel: str | None) -> pd.Series:
    t = mk._ads(marketing_spend, None, (numerator, denominator), channel)
    return flow_series(t, "period", periods, lambda g: mk.share(g, numerator, denominator),
                       empty=math.nan)


def ad_ctr(marketing_spend: TableLike, periods: Sequence[Period], *,
           channel: str | None = None) -> pd.Series:
    return _ad_ratio(marketing_spend, periods, "clicks", "impressions", channel)


def ad_conversion_rate(marketing_spend: TableLike, periods: Sequence[Period], *,
                       channel: str | None = None) -> pd.Series:
    return _ad_ratio(marketing_spend, periods, "conversions", "clicks", channel)


def ecommerce_conversion_rate(
    orders: TableLike,
    web_traffic: TableLike,
    periods: Sequence[Period],
    *,
    order_channels: Sequence[str] | None = mk.WEBSITE_CHANNELS,
) -> pd.Series:
    placed = flow_series(mk.website_orders(orders, order_channels), "order_date", periods,
                         lambda g: g.count(), empty=0.0)
    w = table(web_traffic, "web_traffic", ("date", "sessions"))
    sessions = flow_series(w, "date", periods, lambda g: g.sessions.cast("float64").sum(),
                           empty=math.nan)
    return (placed / sessions.where(sessions > 0)).astype("float64")


def market_revenue(
    orders: TableLike,
    customers: TableLike,
    periods: Sequence[Period],
    *,
    region: str | None = None,
    segment: str | None = None,
) -> pd.Series:
    """Sales to a market per period; without region/segment, to the regions whose first
    order falls in that period (the regions new in it)."""
    _check(periods)
    orders_t, c, wanted = mk.market_tables(orders, customers, region=region, segment=segment)
    if wanted:
        ids = mk.market_customers(c, wanted).customer_id
        keep = orders_t.filter(orders_t.customer_id.isin(ids))
    else:
        firsts = mk.region_first_orders(orders_t, c)
        firsts = firsts.mutate(**{_KEY: _bucket(firsts.first_order, periods[0])})
        located = c.view()
        located = located.select(m_customer=located.customer_id, market=mk._norm(located.region))
        opened = located.join(firsts, "market").select("m_customer", m_period=firsts[_KEY])
        keyed = orders_t.mutate(**{_KEY: _bucket(orders_t.order_date, periods[0])})
        keep = keyed.semi_join(opened, [keyed.customer_id == opened.m_customer,
                                        keyed[_KEY] == opened.m_period])
    series = flow_series(keep, "order_date", periods, lambda g: mk.net_sales(g).sum(),
                         empty=0.0)
    return series.fillna(0.0)


# ------------------------------------------------------------------------ subscriptions
def _mrr_at_ends(
    contracts: TableLike,
    periods: Sequence[Period],
    at: str,
    keep: Callable[[ir.Table], ir.BooleanValue] | None = None,
) -> pd.Series:
    """Σ MRR of the contracts active at each period's snapshot month (a stock)."""
    check_choice("at", at, ("end", "start"))
    _check(periods)
    months = [month_of(p.last_day) if at == "end" else month_of(p.start) - 1 for p in periods]
    c = contracts_table(contracts)
    if keep is not None:
        c = c.filter(keep(c))
    near = c.filter((c.last_month >= min(months)) & (c.first_month <= max(months)))
    near = near.select("first_month", "last_month", "mrr")
    pairs = near.cross_join(_calendar(periods, month=months))
    pairs = pairs.filter((pairs.first_month <= pairs.month) & (pairs.last_month >= pairs.month))
    out = to_pandas(pairs.group_by(_KEY).aggregate(value=pairs.mrr.sum()))
    return _zero_if_nan(_to_series(out, periods, 0.0))


def mrr(contracts: TableLike, periods: Sequence[Period], *, at: str = "end") -> pd.Series:
    return _mrr_at_ends(contracts, periods, at)


def arr(
    contracts: TableLike, periods: Sequence[Period], *, at: str = "end", contract_arr: bool = False
) -> pd.Series:
    from kpitools.metrics.revenue import _TERM_TOLERANCE, MIN_CONTRACT_ARR_MONTHS

    keep = None
    if contract_arr:

        def keep(c: ir.Table) -> ir.BooleanValue:
            return c.term_months >= MIN_CONTRACT_ARR_MONTHS - _TERM_TOLERANCE

    return MONTHS_PER_YEAR * _mrr_at_ends(contracts, periods, at, keep)


def acv(
    contracts: TableLike,
    periods: Sequence[Period],
    *,
    include_one_time: bool = False,
    mode: str = "average",
) -> pd.Series:
    from kpitools.metrics.revenue import acv_rows

    check_choice("mode", mode, ("average",))
    t = acv_rows(contracts, None, include_one_time=include_one_time)
    return flow_series(t, "start_date", periods, lambda g: g.acv.mean(), empty=math.nan)


def new_customers(contracts: TableLike, periods: Sequence[Period]) -> pd.Series:
    from kpitools.metrics.acquisition import _first_contracts

    firsts = _first_contracts(contracts)
    return flow_series(firsts, "first_start", periods, lambda g: g.count(), empty=0.0)


def tcv(contracts: TableLike, periods: Sequence[Period], *, mode: str = "total") -> pd.Series:
    """Σ (or mean) total_value of the contracts started in each period; a total is 0.0 once a
    contract has started, NaN (no data) before."""
    check_choice("mode", mode, ("total", "average"))
    c = contracts_table(contracts)
    series = flow_series(c, "start_date", periods,
                         lambda g: (g.total_value.cast("float64").mean() if mode == "average"
                                    else g.total_value.cast("float64").sum()),
                         empty=math.nan)
    if mode == "total":
        first = c.start_date.min().to_pandas()
        started = [pd.notna(first) and pd.Timestamp(first) < p.end for p in periods]
        series = series.where(~(series.isna() & pd.Series(started, index=series.index)), 0.0)
    return series


def _acquisition(marketing_spend: TableLike, contracts: TableLike, periods: Sequence[Period],
                 mode: str, spend_lag_months: int) -> pd.DataFrame:
    """Per period: the spend CAC counts (``spend``), the new customers it divides by
    (``won``; in paid mode only those of channels with paid spend in the period's window),
    ``cac`` (NaN without such customers) and the average starting MRR of all new customers
    (``start_mrr``). Two grouped queries, three in paid mode.

    A period's spend window is the period moved ``spend_lag_months`` earlier, so a spend row
    belongs to the period that holds its month moved that many months later.
    """
    from kpitools.metrics.acquisition import _first_contracts, _spend_table

    _check(periods)
    first, last = periods[0], periods[-1]
    lag = pd.DateOffset(months=spend_lag_months)
    sp = _spend_table(marketing_spend)
    if mode == "paid":
        sp = sp.filter(sp.is_paid)
    sp = sp.filter((sp.period >= (first.start - lag).to_pydatetime())
                   & (sp.period < (last.end - lag).to_pydatetime()))
    sp = sp.mutate(**{_KEY: _bucket(sp.period, first, spend_lag_months)})
    spend = to_pandas(sp.group_by(_KEY).aggregate(value=sp.spend.sum()))

    firsts = _first_contracts(contracts, ["channel"] if mode == "paid" else [])
    firsts = firsts.filter((firsts.first_start >= first.start.to_pydatetime())
                           & (firsts.first_start < last.end.to_pydatetime()))
    firsts = firsts.mutate(**{_KEY: _bucket(firsts.first_start, first)})
    new = to_pandas(firsts.group_by(_KEY).aggregate(value=firsts.count(),
                                                    start_mrr=firsts.start_mrr.mean()))
    won = new
    if mode == "paid":
        channels = sp.select(c_period=sp[_KEY], channel_key=sp.channel_key).distinct()
        paid = firsts.semi_join(channels, [firsts[_KEY] == channels.c_period,
                                           firsts.channel == channels.channel_key])
        won = to_pandas(paid.group_by(_KEY).aggregate(value=paid.count()))
    out = pd.DataFrame({
        "spend": _to_series(spend, periods, 0.0),
        "won": _to_series(won, periods, 0.0),
        "start_mrr": _to_series(new.drop(columns="value").rename(columns={"start_mrr": "value"}),
                                periods, math.nan),
    })
    out["spend"] = out["spend"].fillna(0.0)  # a window whose spend cells are all empty
    out["cac"] = (out["spend"] / out["won"].where(out["won"] > 0)).astype("float64")
    return out


def cac(marketing_spend: TableLike, contracts: TableLike, periods: Sequence[Period], *,
        mode: str = "blended", spend_lag_months: int = 0) -> pd.Series:
    """Spend in each period's window ÷ the period's new customers; NaN without new customers."""
    from kpitools.metrics.acquisition import check_cac_options

    check_cac_options(mode, spend_lag_months)
    return _acquisition(marketing_spend, contracts, periods, mode, spend_lag_months)["cac"]


def cac_payback_months(
    marketing_spend: TableLike,
    contracts: TableLike,
    periods: Sequence[Period],
    *,
    gross_margin: float = 1.0,
    arpa_basis: str = "new",
    mode: str = "blended",
    spend_lag_months: int = 0,
) -> pd.Series:
    """CAC ÷ (ARPA × gross margin) per period; ARPA of the new customers or of all."""
    from kpitools.metrics.acquisition import check_cac_options

    check_choice("arpa_basis", arpa_basis, ("new", "all"))
    check_margin(gross_margin)
    check_cac_options(mode, spend_lag_months)
    a = _acquisition(marketing_spend, contracts, periods, mode, spend_lag_months)
    per_account = (arpa(contracts, periods).to_numpy() if arpa_basis == "all"
                   else a["start_mrr"].to_numpy())
    margin = pd.Series(per_account * gross_margin, index=a.index)
    return (a["cac"] / margin.where(margin > 0)).astype("float64")


def ltv_to_cac(
    contracts: TableLike,
    marketing_spend: TableLike,
    periods: Sequence[Period],
    *,
    gross_margin: float = 1.0,
    zero_churn: str = "error",
    churn_floor: float = STRIPE_CHURN_FLOOR,
    churn_smoothing: str = "none",
    mode: str = "blended",
    spend_lag_months: int = 0,
) -> pd.Series:
    """CLTV ÷ CAC per period; NaN where CAC is NaN or 0."""
    value = cltv(contracts, periods, gross_margin=gross_margin, zero_churn=zero_churn,
                 churn_floor=churn_floor, churn_smoothing=churn_smoothing)
    cost = cac(marketing_spend, contracts, periods, mode=mode,
               spend_lag_months=spend_lag_months)
    return (value / cost.where(cost != 0)).astype("float64")


def _month_span(periods: Sequence[Period]) -> list[tuple[int, int]]:
    """First and last month index of each period."""
    _check(periods)
    return [(month_of(p.start), month_of(p.last_day)) for p in periods]


def arpa(
    contracts: TableLike, periods: Sequence[Period], *, denominator: str = "customers"
) -> pd.Series:
    """MRR at each period end ÷ paying customers (or live subscriptions) then; NaN if none."""
    check_choice("denominator", denominator, ("customers", "subscriptions"))
    months = [hi for _, hi in _month_span(periods)]
    c = contracts_table(contracts)
    near = c.filter((c.last_month >= min(months)) & (c.first_month <= max(months)))
    pairs = near.select("customer_id", "first_month", "last_month", "mrr").cross_join(
        _calendar(periods, month=months)
    )
    pairs = pairs.filter((pairs.first_month <= pairs.month) & (pairs.last_month >= pairs.month))
    if denominator == "customers":
        per = pairs.group_by([_KEY, "customer_id"]).aggregate(
            mrr=pairs.mrr.sum().round(MONEY_DECIMALS)
        )
        paying = per.filter(per.mrr > 0)
        count = paying.group_by(_KEY).aggregate(n=paying.count())
    else:
        live = pairs.filter(pairs.mrr > 0)
        count = live.group_by(_KEY).aggregate(n=live.count())
    total = pairs.group_by(_KEY).aggregate(value=pairs.mrr.sum())
    totals = _to_series(to_pandas(total), periods, 0.0)
    counts = _to_series(to_pandas(count.rename(value="n")), periods, 0.0)
    return (totals / counts.where(counts > 0)).astype("float64")


def _flows(contracts: TableLike, lo: int, hi: int) -> pd.DataFrame:
    return monthly_flows(contracts_table(contracts), lo, hi)


def _by_months(contracts: TableLike, periods: Sequence[Period],
               value: Callable[[pd.DataFrame], float]) -> pd.Series:
    """``value`` of each period's rows of the monthly MRR flows, read once for all periods."""
    spans = _month_span(periods)
    f = _flows(contracts, spans[0][0], spans[-1][1])
    return pd.Series([value(f.loc[lo:hi]) for lo, hi in spans],
                     index=[p.label for p in periods], dtype="float64")


def gross_mrr_churn_rate(contracts: TableLike, periods: Sequence[Period], *,
                         formula: str = "standard") -> pd.Series:
    check_choice("formula", formula, MRR_CHURN_FORMULAS)
    return _by_months(contracts, periods, lambda f: mrr_churn_of(f, False, formula))


def net_mrr_churn_rate(contracts: TableLike, periods: Sequence[Period], *,
                       formula: str = "standard") -> pd.Series:
    check_choice("formula", formula, MRR_CHURN_FORMULAS)
    return _by_months(contracts, periods, lambda f: mrr_churn_of(f, True, formula))


def quick_ratio(contracts: TableLike, periods: Sequence[Period], *,
                include_reactivation: bool = True) -> pd.Series:
    return _by_months(contracts, periods, lambda f: quick_ratio_of(f, include_reactivation))


def logo_churn_rate(
    contracts: TableLike, periods: Sequence[Period], *, same_period_new: str = "exclude"
) -> pd.Series:
    """Customers at each period start without MRR at its end ÷ customers at its start."""
    check_choice("same_period_new", same_period_new, ("exclude", "include", "include_numerator"))
    spans = _month_span(periods)
    first, last = spans[0][0], spans[-1][1]
    values = []
    if same_period_new != "exclude":
        f = _flows(contracts, first, last)
        for lo, hi in spans:
            exposed = f.loc[lo, "customers_start"]
            if same_period_new == "include":
                exposed += f.loc[lo:hi, "n_new"].sum() + f.loc[lo:hi, "n_reactivation"].sum()
            values.append(float(f.loc[lo:hi, "n_churn"].sum() / exposed) if exposed else math.nan)
    else:
        cm = customer_months(contracts_table(contracts), first - 1, last)
        cm = to_pandas(cm.select("customer_id", "month"))
        by_month = cm.groupby("month")["customer_id"]
        sets = {int(m): set(ids) for m, ids in by_month}
        for lo, hi in spans:
            start, end = sets.get(lo - 1, set()), sets.get(hi, set())
            values.append(len(start - end) / len(start) if start else math.nan)
    return pd.Series(values, index=[p.label for p in periods], dtype="float64")


def _revenue_retention(contracts: TableLike, periods: Sequence[Period], window_months: int,
                       method: str, gross: bool) -> pd.Series:
    """NRR or GRR at each period's last month: one query over a calendar of (then, now) months.

    Per period the same as :func:`kpitools.metrics.retention.nrr` / ``grr``: the cohort is every
    customer with MRR ``window_months`` before the period's last month; NaN without a cohort.
    """
    from kpitools.metrics.retention import check_retention_options

    check_retention_options(window_months, method)
    ends = [hi for _, hi in _month_span(periods)]
    cm = customer_months(contracts_table(contracts), min(ends) - window_months, max(ends))
    cal = _calendar(periods, then=[e - window_months for e in ends], now=ends)
    cohort = cm.join(cal, cm.month == cal.then).select(_KEY, "customer_id", base=cm.mrr)
    later = cm.join(cal, cm.month == cal.now)
    later = later.select(k_now=later[_KEY], c_now=later.customer_id, later=later.mrr)
    j = cohort.left_join(later, (cohort[_KEY] == later.k_now)
                         & (cohort.customer_id == later.c_now))
    now = j.later.fill_null(0.0)
    kept = ibis.least(now, j.base) if gross else now
    out = to_pandas(j.group_by(_KEY).aggregate(value=kept.sum(), base=j.base.sum()))
    base = _to_series(out[[_KEY, "base"]].rename(columns={"base": "value"}), periods, 0.0)
    value = _to_series(out[[_KEY, "value"]], periods, 0.0)
    return (value / base.where(base > 0)).astype("float64")


def nrr(contracts: TableLike, periods: Sequence[Period], *, window_months: int = MONTHS_PER_YEAR,
        method: str = "snapshot") -> pd.Series:
    return _revenue_retention(contracts, periods, window_months, method, gross=False)


def grr(contracts: TableLike, periods: Sequence[Period], *, window_months: int = MONTHS_PER_YEAR,
        method: str = "snapshot") -> pd.Series:
    return _revenue_retention(contracts, periods, window_months, method, gross=True)


def cltv(
    contracts: TableLike,
    periods: Sequence[Period],
    *,
    gross_margin: float = 1.0,
    zero_churn: str = "error",
    churn_floor: float = STRIPE_CHURN_FLOOR,
    churn_smoothing: str = "none",
) -> pd.Series:
    """ARPA × margin ÷ average monthly logo churn, per period (monthly flows read once)."""
    check_choice("zero_churn", zero_churn, ("error", "floor"))
    check_choice("churn_smoothing", churn_smoothing, ("none", "trailing_6m"))
    check_margin(gross_margin)
    if not 0 < churn_floor <= 1:  # the per-period function owns the message
        _cltv(contracts, periods[0], churn_floor=churn_floor)
    spans = _month_span(periods)
    if churn_smoothing == "trailing_6m":
        spans = [(hi - TRAILING_CHURN_MONTHS, hi - 1) for _, hi in spans]
    f = _flows(contracts, min(lo for lo, _ in spans), max(hi for _, hi in spans))
    f = f[f["customers_start"] > 0]
    rate = f["n_churn"] / f["customers_start"]
    churn = [rate.loc[lo:hi] for lo, hi in spans]
    churn = [float(np.mean(r)) if len(r) else math.nan for r in churn]
    per_account = arpa(contracts, periods)
    values = []
    for p, ch, acct in zip(periods, churn, per_account.tolist(), strict=True):
        if math.isnan(ch) or math.isnan(acct):
            values.append(math.nan)
            continue
        if ch == 0:
            if zero_churn == "error":  # raises the per-period function's message
                _cltv(contracts, p, gross_margin=gross_margin, churn_smoothing=churn_smoothing)
            ch = churn_floor
        values.append(acct * gross_margin / ch)
    return pd.Series(values, index=[p.label for p in periods], dtype="float64")
