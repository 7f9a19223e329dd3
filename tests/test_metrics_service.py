"""Service KPIs: CSAT and response times on a five-row table."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from kpitools._errors import KpitoolsError
from kpitools.metrics.service import (
    csat_average,
    csat_share_satisfied,
    median_response_hours,
    response_time_distribution,
    response_within_sla_rate,
)


@pytest.fixture
def feedback() -> pd.DataFrame:
    # row  date        csat  response_hours
    # 1    2024-07-01     5        0.5
    # 2    2024-07-02     4        3
    # 3    2024-07-03     2       24     (exactly at the 24 h SLA)
    # 4    2024-07-04     -       30     (a ticket without a survey answer)
    # 5    2024-07-05     3        -     (a survey answer without a ticket)
    # 6    2024-10-01     1       99     (next quarter)
    return pd.DataFrame({
        "date": pd.to_datetime(["2024-07-01", "2024-07-02", "2024-07-03", "2024-07-04",
                                "2024-07-05", "2024-10-01"]),
        "csat": [5.0, 4.0, 2.0, None, 3.0, 1.0],
        "response_hours": [0.5, 3.0, 24.0, 30.0, None, 99.0],
    })


def test_csat(feedback):
    # Q3 answers 5, 4, 2, 3 → mean 3.5; satisfied (4–5): 2 of 4
    assert csat_average(feedback, "2024Q3") == pytest.approx(3.5)
    assert csat_share_satisfied(feedback, "2024Q3") == pytest.approx(0.5)
    # all data adds a 1 → (14 + 1) / 5 = 3.0
    assert csat_average(feedback) == pytest.approx(3.0)


def test_response_times(feedback):
    # Q3 tickets 0.5, 3, 24, 30 → median (3 + 24) / 2 = 13.5
    assert median_response_hours(feedback, "2024Q3") == pytest.approx(13.5)
    # within 24 h (inclusive): 0.5, 3, 24 → 3 of 4; within 4 h: 2 of 4
    assert response_within_sla_rate(feedback, "2024Q3") == pytest.approx(0.75)
    assert response_within_sla_rate(feedback, "2024Q3", sla_hours=4) == pytest.approx(0.5)


def test_response_time_distribution(feedback):
    out = response_time_distribution(feedback, "2024Q3", bins=[0, 1, 4, 24])
    # <1 h: 0.5; 1–4 h: 3; 4–24 h: none (24 is not < 24); ≥24 h: 24 and 30
    assert list(out.index) == ["0–1 h", "1–4 h", "4–24 h", "≥24 h"]
    assert out["tickets"].tolist() == [1, 1, 0, 2]
    assert out["share"].tolist() == pytest.approx([0.25, 0.25, 0.0, 0.5])
    assert out["cumulative_share"].tolist() == pytest.approx([0.25, 0.5, 0.5, 1.0])


def test_default_bins_cover_every_ticket(feedback):
    out = response_time_distribution(feedback)
    assert out["tickets"].sum() == 5 and len(out) == 6


def test_empty_period(feedback):
    for f in (csat_average, csat_share_satisfied, median_response_hours, response_within_sla_rate):
        assert math.isnan(f(feedback, "2023Q1")), f.__name__
    out = response_time_distribution(feedback, "2023Q1")
    assert out["tickets"].sum() == 0 and out["share"].isna().all()


def test_single_answer():
    one = pd.DataFrame({"date": pd.to_datetime(["2024-01-05"]), "csat": [4.0],
                        "response_hours": [2.0]})
    assert csat_average(one) == 4.0 and csat_share_satisfied(one) == 1.0
    assert median_response_hours(one) == 2.0 and response_within_sla_rate(one) == 1.0


def test_bad_arguments(feedback):
    with pytest.raises(KpitoolsError, match="bins must be increasing hour limits starting at 0"):
        response_time_distribution(feedback, bins=[1, 4])
    with pytest.raises(KpitoolsError, match="bins must be increasing"):
        response_time_distribution(feedback, bins=[0, 4, 4])
    with pytest.raises(KpitoolsError, match=r"sla_hours must be a non-negative number.*\nHint:"):
        response_within_sla_rate(feedback, sla_hours="24h")
    with pytest.raises(KpitoolsError, match=r"table 'feedback' lacks column\(s\) 'csat'"):
        csat_average(feedback.drop(columns="csat"))
