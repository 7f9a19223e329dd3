"""Keeping customers and their revenue: logo churn, MRR churn, GRR/NRR, cohorts, churn reasons.

Customers and MRR are month-end stocks (see :mod:`kpitools.metrics._contracts`): a customer is
"at the start" of a period when it has MRR on the last day of the month before the period, and
"at the end" when it has MRR on the period's last day.

Periods longer than a month
---------------------------
The churn *rates* here are rates **for the period asked**, not monthly averages: for
``period="2024Q3"`` the logo churn rate is the share of the customers at the start of July who
no longer pay at the end of September, and the MRR churn rates add up the monthly movements of
July–September and divide by the MRR at the start of July. Use :func:`kpitools.metrics.value.cltv`
(which averages the monthly rates) when a monthly rate is needed, and never multiply a monthly
rate by 12 (annual retention = (1 − monthly churn)^12).
"""

from __future__ import annotations

import math

import ibis
import pandas as pd

from kpitools._engine import TableLike, in_period, scalar, table, to_pandas
from kpitools._errors import KpitoolsError
from kpitools.metrics._contracts import (
    check_choice,
    contracts_table,
    customer_months,
    customer_mrr_at,
    data_months,
    first_months,
    month_start,
    monthly_flows,
    period_months,
    snapshot_period,
    texts,
)
from kpitools.periods import MONTHS_PER_QUARTER, MONTHS_PER_YEAR, Period, as_period, normalize_freq

__all__ = [
    "churn_reasons",
    "cohort_retention",
    "gross_mrr_churn_rate",
    "grr",
    "logo_churn_rate",
    "net_mrr_churn_rate",
    "nrr",
]

#: Default look-back of GRR/NRR, in months.
RETENTION_WINDOW_MONTHS = MONTHS_PER_YEAR
_FREQ_MONTHS = {"M": 1, "Q": MONTHS_PER_QUARTER, "Y": MONTHS_PER_YEAR}


def logo_churn_rate(
    contracts: TableLike,
    period: str | Period | None = None,
    *,
    same_period_new: str = "exclude",
) -> float:
    """Customer (logo) churn rate = churned customers in the period ÷ customers at its start.

    Parameters
    ----------
    contracts : table
        Canonical contracts; a customer is active while some contract covers a month-end.
    period : str, Period or None
        Calendar month, quarter or year; None = the latest data month.
    same_period_new : {"exclude", "include", "include_numerator"}
        ``"exclude"`` (ChartMogul standard, default): customers at the start who have no MRR at
        the period's end ÷ customers at the start. Customers who joined during the period and
        left again, and customers who left and came back within it, are not churn.
        ``"include"`` (Stripe): every churn event in the period, including customers who joined
        or came back during it (a customer leaving twice counts twice) ÷ (customers at the start
        + customers who joined or came back during the period).
        ``"include_numerator"`` (Baremetrics): the same churn events as ``"include"`` ÷
        customers at the start only (the denominator is not enlarged).

    Returns
    -------
    float
        A fraction in [0, 1] for the whole period (quarterly rate for a quarter; see the module
        docstring); only ``"include_numerator"`` can exceed 1, when more customers leave than
        were there at the start. NaN when there are no customers to churn (empty denominator).

    Notes
    -----
    Source: ChartMogul churn-rate formulas; Stripe Billing; Baremetrics "churn update"
    changelog (kpi-definitions.md §1.6, §6).

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"contract_id": ["k1", "k2", "k3", "k4"],
    ...     "customer_id": ["a", "b", "c", "d"],
    ...     "start_date": pd.to_datetime(["2024-01-01"] * 3 + ["2024-07-01"]),
    ...     "end_date": pd.to_datetime(["2024-12-31", "2024-07-31", "2024-08-31", "2024-08-31"]),
    ...     "total_value": [1200.0, 700.0, 800.0, 200.0]})
    >>> logo_churn_rate(c, "2024Q3")  # b and c of {a, b, c} left; d joined and left
    0.6666666666666666
    >>> logo_churn_rate(c, "2024Q3", same_period_new="include")  # (b, c, d) ÷ (3 + d)
    0.75
    """
    check_choice("same_period_new", same_period_new, ("exclude", "include", "include_numerator"))
    c = contracts_table(contracts)
    lo, hi = period_months(snapshot_period(c, period))
    if same_period_new != "exclude":
        f = monthly_flows(c, lo, hi)
        exposed = f["customers_start"].iloc[0]
        if same_period_new == "include":
            exposed += f["n_new"].sum() + f["n_reactivation"].sum()
        return float(f["n_churn"].sum() / exposed) if exposed else math.nan
    start = customer_mrr_at(c, lo - 1)
    end = customer_mrr_at(c, hi).select(still="customer_id")
    n_start = scalar(start.count())
    if not n_start:
        return math.nan
    lost = start.anti_join(end, start.customer_id == end.still)
    return scalar(lost.count()) / n_start


#: Values of the ``formula`` switch of the MRR churn rates.
MRR_CHURN_FORMULAS = ("standard", "daily_sum")


def _mrr_churn(contracts: TableLike, period, net: bool, formula: str) -> float:
    check_choice("formula", formula, MRR_CHURN_FORMULAS)
    c = contracts_table(contracts)
    lo, hi = period_months(snapshot_period(c, period))
    return mrr_churn_of(monthly_flows(c, lo, hi), net, formula)


def mrr_churn_of(f: pd.DataFrame, net: bool, formula: str) -> float:
    """Gross (or ``net``) MRR churn rate of the months in ``f`` (rows of ``monthly_flows``)."""
    lost = f["churn"] + f["contraction"]
    if net:
        lost = lost - f["expansion"] - f["reactivation"]
    if formula == "daily_sum":
        opened = f["mrr_start"] > 0
        return float((lost[opened] / f["mrr_start"][opened]).sum()) if opened.any() else math.nan
    opening = f["mrr_start"].iloc[0]
    return float(lost.sum() / opening) if opening > 0 else math.nan


def gross_mrr_churn_rate(
    contracts: TableLike, period: str | Period | None = None, *, formula: str = "standard"
) -> float:
    """Gross MRR churn rate = (churned MRR + contraction MRR) ÷ MRR at the start of the period.

    Movements are those of :func:`~kpitools.metrics.revenue.mrr_movements` (customer level,
    netted per month) summed over the months of the period; the denominator is the MRR at the
    end of the month before the period. For one month the value lies in [0, 1]; for a quarter
    or a year it can exceed 1 when customers who joined during the period also left in it.

    ``formula="daily_sum"`` is ChartMogul's "Shopify formula": a rate per day, each over that
    day's opening MRR, added up over the period. Contract MRR here only changes at month-ends,
    so this is exactly Σ over the period's months of (month's movements ÷ MRR at the month's
    start); months that open with no MRR add nothing. For a single month both formulas agree.

    Units: fraction of opening MRR. Period: None = latest data month.
    Zero policy: NaN when the opening MRR is 0 (``daily_sum``: when every month opens at 0).
    Source: ChartMogul standard and Shopify formulas (kpi-definitions.md §0, §1.6).

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"contract_id": ["k1", "k2", "k3", "k4"],
    ...     "customer_id": ["a", "b", "c", "c"],
    ...     "start_date": pd.to_datetime(["2024-01-01"] * 3 + ["2024-06-01"]),
    ...     "end_date": pd.to_datetime(["2024-12-31", "2024-05-31", "2024-05-31", "2024-12-31"]),
    ...     "total_value": [1200.0, 500.0, 250.0, 105.0]})
    >>> gross_mrr_churn_rate(c, "2024-06")  # (b churns 100, c 50 → 15) ÷ (100 + 100 + 50)
    0.54
    """
    return _mrr_churn(contracts, period, net=False, formula=formula)


def net_mrr_churn_rate(
    contracts: TableLike, period: str | Period | None = None, *, formula: str = "standard"
) -> float:
    """Net MRR churn rate = (churn + contraction − expansion − reactivation) ÷ opening MRR.

    Same movements, period, ``formula`` switch and zero policy as
    :func:`gross_mrr_churn_rate` (``"daily_sum"``: Σ of 1 − (MRR at the end − new MRR) ÷ MRR
    at the start, per month). Negative values mean expansion outgrew losses ("negative
    churn"). Units: fraction of opening MRR.
    Source: ChartMogul standard formula (start 100, churn 10, contraction 10, expansion 10 →
    10 %) and Shopify formula (100 → 120 with 10 of new business → −10 %; kpi-definitions.md
    §1.6).
    """
    return _mrr_churn(contracts, period, net=True, formula=formula)


def check_retention_options(window_months: int, method: str) -> None:
    """The checks of :func:`nrr` and :func:`grr` (also used by their per-period series)."""
    check_choice("method", method, ("snapshot",))
    if not isinstance(window_months, int) or window_months < 1:
        raise KpitoolsError(
            f"window_months must be a positive whole number of months, got {window_months!r}.\n"
            "Hint: use window_months=12 for the usual year-over-year GRR/NRR."
        )


def _retention(contracts, period, window_months: int, method: str, gross: bool) -> float:
    check_retention_options(window_months, method)
    c = contracts_table(contracts)
    _, t1 = period_months(snapshot_period(c, period))
    before = customer_mrr_at(c, t1 - window_months)
    after = customer_mrr_at(c, t1)
    after = after.select(a_customer=after.customer_id, later=after.mrr)
    j = before.left_join(after, before.customer_id == after.a_customer)
    later = j.later.fill_null(0.0)
    kept = ibis.least(later, j.mrr) if gross else later
    base = scalar(j.mrr.sum().fill_null(0.0))
    return scalar(kept.sum()) / base if base > 0 else math.nan


def nrr(
    contracts: TableLike,
    period: str | Period | None = None,
    *,
    window_months: int = RETENTION_WINDOW_MONTHS,
    method: str = "snapshot",
) -> float:
    """Net revenue retention = cohort's MRR now ÷ the same cohort's MRR ``window_months`` ago.

    The cohort is every customer with MRR at the month-end ``window_months`` before the period's
    last month-end; customers who left count 0, customers who joined since are ignored, so
    expansion raises NRR above 1 and churn and contraction lower it.
    Units: fraction (1.1 = 110 %). Period: snapshot at the period's last day (None = latest
    data month). Zero policy: NaN when the cohort had no MRR. ``method`` accepts only
    ``"snapshot"`` (12-month cohort snapshot, bigdelta/dbt-labs, kpi-definitions.md §1.7).
    A movement-based NRR restricted to the same cohort would equal the snapshot exactly (its
    movements add up to the change in the cohort's MRR); the dashboard variant over all
    customers is ``1 − net_mrr_churn_rate(contracts, "2024")`` for a 12-month period.

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"contract_id": ["k1", "k2", "k3", "k4"],
    ...     "customer_id": ["a", "a", "b", "c"],
    ...     "start_date": pd.to_datetime(["2023-01-01", "2024-01-01", "2023-01-01", "2024-03-01"]),
    ...     "end_date": pd.to_datetime(["2023-12-31", "2024-12-31", "2023-12-31", "2024-12-31"]),
    ...     "total_value": [1200.0, 1800.0, 1200.0, 9999.0]})
    >>> nrr(c, "2024-06"), grr(c, "2024-06")  # a 100 → 150, b 100 → 0; c is new
    (0.75, 0.5)
    """
    return _retention(contracts, period, window_months, method, gross=False)


def grr(
    contracts: TableLike,
    period: str | Period | None = None,
    *,
    window_months: int = RETENTION_WINDOW_MONTHS,
    method: str = "snapshot",
) -> float:
    """Gross revenue retention: as :func:`nrr` but each customer counts at most its old MRR.

    GRR = Σ min(MRR now, MRR then) ÷ Σ MRR then over the cohort, so it lies in [0, 1]
    (expansion cannot offset churn). Units, period, zero policy and source as :func:`nrr`.
    """
    return _retention(contracts, period, window_months, method, gross=True)


def _cohort_label(index: int, months: int) -> str:
    start = month_start(index * months)
    if months == 1:
        return f"{start.year:04d}-{start.month:02d}"
    if months == MONTHS_PER_QUARTER:
        return f"{start.year:04d}Q{(start.month - 1) // MONTHS_PER_QUARTER + 1}"
    return f"{start.year:04d}"


def cohort_retention(
    contracts: TableLike, freq: str = "M", *, basis: str = "logo"
) -> pd.DataFrame:
    """Retention matrix of acquisition cohorts (calendar months, quarters or years).

    A customer's cohort is the period of its first month-end with MRR (re-subscribers stay in
    their first cohort, as in Stripe). Cell (cohort, k) is measured at the last month-end of the
    k-th period after the cohort's own period (k = 0 is the cohort period itself):

    * ``basis="logo"``: customers of the cohort with MRR then ÷ customers in the cohort;
    * ``basis="revenue"``: the cohort's MRR then ÷ the cohort's starting MRR (each customer's
      MRR at its first month-end; ChartMogul net MRR retention cohorts).

    Returns
    -------
    DataFrame indexed by cohort label (``"2024-01"``, ``"2024Q1"`` or ``"2024"``), columns
    ``0, 1, 2, …`` (periods since the cohort started); cells not yet observed are NaN. The
    cohort sizes are in ``result.attrs["cohort_size"]``. Data end at the latest data month; an
    unfinished last period is left out. Source: Stripe, ChartMogul cohorts (§1.11).
    """
    check_choice("basis", basis, ("logo", "revenue"))
    months = _FREQ_MONTHS[normalize_freq(freq)]
    c = contracts_table(contracts)
    first, latest = data_months(c)
    cm = customer_months(c, first, latest)
    firsts = first_months(c)
    firsts = firsts.select(f_customer=firsts.customer_id, first_active=firsts.first_active)
    start_mrr = cm.join(
        firsts, [cm.customer_id == firsts.f_customer, cm.month == firsts.first_active]
    )
    start_mrr = start_mrr.mutate(cohort=start_mrr.first_active // months)
    sizes = start_mrr.group_by("cohort").aggregate(n0=start_mrr.count(), m0=start_mrr.mrr.sum())
    ends = cm.filter(cm.month % months == months - 1)
    ends = ends.join(firsts, ends.customer_id == firsts.f_customer)
    ends = ends.mutate(cohort=ends.first_active // months, age=ends.month // months
                       - ends.first_active // months)
    cells = ends.group_by(["cohort", "age"]).aggregate(n=ends.count(), m=ends.mrr.sum())
    cells = to_pandas(cells)
    sizes = to_pandas(sizes).set_index("cohort").sort_index()
    last_done = (latest + 1) // months - 1  # last period whose final month-end is in the data
    sizes = sizes[sizes.index <= last_done]
    value = "n" if basis == "logo" else "m"
    denom = "n0" if basis == "logo" else "m0"
    cells = cells[cells["cohort"].isin(sizes.index)]
    grid = cells.pivot_table(index="cohort", columns="age", values=value, aggfunc="sum")
    ages = range(0, int(last_done - sizes.index.min()) + 1) if len(sizes) else range(0)
    grid = grid.reindex(index=sizes.index, columns=ages).fillna(0.0)
    rates = grid.div(sizes[denom], axis=0)
    observed = pd.DataFrame(
        {a: (sizes.index + a <= last_done) for a in ages}, index=sizes.index
    )
    rates = rates.where(observed)
    labels = [_cohort_label(int(i), months) for i in sizes.index]
    rates.index = pd.Index(labels, name="cohort")
    rates.columns = pd.Index(list(ages), name="periods_since_start")
    rates.attrs["cohort_size"] = dict(zip(labels, sizes["n0"].astype(int).tolist(), strict=True))
    return rates


def churn_reasons(
    churn_events: TableLike, period: str | Period | None = None, *, lang: str | None = None
) -> pd.DataFrame:
    """Why customers left: churn events per stated reason, most frequent first.

    Columns: ``reason``, ``customers`` (events in the period), ``share`` (of all events, sums
    to 1) and ``mrr_lost`` (Σ ``mrr_lost``) when the table has that column. Missing reasons are
    grouped as "(missing)". ``lang="zh-TW"`` or ``"en"`` renames the columns for display.

    Period: flow by ``churn_date`` in ``[start, end)``; None = all events. Zero policy: an empty
    period gives an empty table. Source: churn_events table (schemas/tables.yaml).

    Examples
    --------
    >>> import pandas as pd
    >>> e = pd.DataFrame({"customer_id": ["a", "b", "c"],
    ...     "churn_date": pd.to_datetime(["2024-07-03", "2024-08-09", "2024-09-30"]),
    ...     "reason": ["price", "price", "moved"]})
    >>> churn_reasons(e, "2024Q3")["share"].round(3).tolist()
    [0.667, 0.333]
    """
    if lang is not None:
        check_choice("lang", lang, ("zh-TW", "en"))
    t = table(churn_events, "churn_events", ["customer_id", "churn_date", "reason"])
    t = in_period(t, "churn_date", as_period(period))
    t = t.mutate(reason=t.reason.cast("string").fill_null("(missing)"))
    aggs = {"customers": t.count()}
    if "mrr_lost" in t.columns:
        aggs["mrr_lost"] = t.mrr_lost.cast("float64").sum().fill_null(0.0)
    g = to_pandas(t.group_by("reason").aggregate(**aggs))
    g = g.sort_values(["customers", "reason"], ascending=[False, True]).reset_index(drop=True)
    g["customers"] = g["customers"].astype(int)
    g.insert(2, "share", g["customers"] / g["customers"].sum() if len(g) else [])
    if lang is not None:
        g = g.rename(columns=texts()["churn_reasons_columns"][lang])
    return g
