"""Custom KPIs with their own data source: numbers the client's tables cannot hold.

Market share, a trade-show lead count or an industry ranking come from outside the client's
exports. A goal declares such a KPI in client.yml with a small CSV file inside the client folder,
one row per period::

    goals:
    - goal_id: g5
      kpi:
        name: {zh-TW: 市場佔有率, en: Market share}
        definition: {zh-TW: 本公司營收占台灣中小企業會計軟體市場的比例（產業公會年報）,
                     en: Our revenue as a share of the Taiwanese SME accounting-software market}
        data_source: market_share.csv
        unit: rate
      target: 0.08
      period: 2024

``market_share.csv``::

    period,value
    2022,0.052
    2023,0.061

``value`` may be written as ``6.1%``. :func:`custom_series` reads the file (kept inside the client
folder; the file is never modified) and :func:`custom_value` gives one period's value; the goals
scorecard and the SMART check use them for custom KPIs.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from kpitools._errors import KpitoolsError, PeriodError
from kpitools.goals.model import CustomMetric
from kpitools.periods import parse_period

__all__ = ["custom_series", "custom_value"]

_PERCENT = 100.0


def _source_path(metric: CustomMetric, client: Any) -> Path:
    folder = getattr(client, "path", None)
    if folder is None:
        raise KpitoolsError(
            f"custom KPI {metric.name_for('en')!r}: its data source {metric.data_source!r} is a "
            "file in the client folder, but no client folder was given.\n"
            "Hint: pass the loaded client (kpitools.load_client) rather than a dict of tables."
        )
    root = Path(folder).resolve()
    path = (root / str(metric.data_source)).resolve()
    if not path.is_relative_to(root):
        raise KpitoolsError(
            f"custom KPI {metric.name_for('en')!r}: data source {metric.data_source!r} lies "
            "outside the client folder.\nHint: put the file in the client folder and give its "
            "name only, e.g. data_source: market_share.csv."
        )
    if path.suffix.lower() != ".csv":
        raise KpitoolsError(
            f"custom KPI data source {metric.data_source!r} is not a .csv file.\n"
            "Hint: save it as CSV with the columns period,value."
        )
    if not path.exists():
        raise KpitoolsError(
            f"custom KPI data source {path.name!r} does not exist in "
            f"{root.name}.\nHint: create it with the columns period,value."
        )
    return path


def _number(text: str) -> float:
    s = str(text).strip().replace(",", "")
    if s.endswith(("%", "％")):
        return float(s[:-1]) / _PERCENT
    return float(s)


def custom_series(metric: CustomMetric, client: Any) -> pd.Series:
    """The custom KPI's values by period label (``'2023'``, ``'2024Q1'``, ``'2024-03'``).

    Raises
    ------
    KpitoolsError
        For a file outside the client folder or missing, missing columns, or unreadable periods
        or values (every bad row named at once).
    """
    path = _source_path(metric, client)
    frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in ("period", "value") if c not in frame.columns]
    if missing:
        raise KpitoolsError(
            f"{path.name}: missing column(s) {missing}. Columns present: "
            f"{list(frame.columns)}\nHint: write the header as period,value."
        )
    fy = int(getattr(client, "fiscal_year_start_month", None) or 1)
    labels, values, problems = [], [], []
    for row, (period, value) in enumerate(zip(frame["period"], frame["value"], strict=True), 2):
        try:
            labels.append(parse_period(period.strip(), fiscal_year_start_month=fy).label)
        except PeriodError:
            problems.append(f"row {row}: period {period!r} is not a period")
            continue
        try:
            values.append(_number(value) if value.strip() else math.nan)
        except ValueError:
            labels.pop()
            problems.append(f"row {row}: value {value!r} is not a number")
    if problems:
        raise KpitoolsError(
            f"{path.name}: {len(problems)} problem(s)\n  - "
            + "\n  - ".join(problems)
            + "\nHint: periods like 2024, 2024Q1 or 2024-03; values like 0.061 "
            "or 6.1%."
        )
    return pd.Series(
        values, index=pd.Index(labels, name="period"), name=metric.name_for("en"), dtype="float64"
    )


def custom_value(metric: CustomMetric, client: Any, period: str) -> float:
    """The custom KPI's value for ``period`` (NaN when the file has no row for it)."""
    series = custom_series(metric, client)
    fy = int(getattr(client, "fiscal_year_start_month", None) or 1)
    label = parse_period(period, fiscal_year_start_month=fy).label
    value = series.get(label)
    return math.nan if value is None else float(value)
