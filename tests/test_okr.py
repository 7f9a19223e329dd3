"""OKR scoring: Google 0.0–1.0 key-result grades, weighted roll-ups, verdicts, hybrid view."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from kpitools._errors import KpitoolsError
from kpitools.goals import (
    KeyResult,
    Objective,
    grade,
    hybrid_view,
    objectives_from_dicts,
    okr_table,
    pay_caution,
    period_score,
)


def test_key_result_score_is_clamped_linear_progress():
    assert KeyResult("new clients", start=0, target=30, current=12).score == pytest.approx(0.4)
    # decreasing KR: churn from 10 % to 6 %, now 7 % → (7 − 10) ÷ (6 − 10) = 0.75
    assert KeyResult("churn", start=0.10, target=0.06, current=0.07).score == pytest.approx(0.75)
    assert KeyResult("over", start=0, target=10, current=15).score == 1.0
    assert KeyResult("worse", start=10, target=20, current=8).score == 0.0
    assert math.isnan(KeyResult("not yet", start=0, target=1).score)


def test_objective_weighted_roll_up_and_period_score():
    o1 = Objective("Open Taichung", [KeyResult("a", 0, 30, 12, weight=2),
                                     KeyResult("b", 0.10, 0.06, 0.07, weight=1)])
    # (0.4 × 2 + 0.75 × 1) ÷ 3 = 0.516667
    assert o1.score == pytest.approx(1.55 / 3)
    o2 = Objective("Ship v2", [KeyResult("c", 0, 1, 1)], committed=True, weight=3)
    # (0.516667 × 1 + 1.0 × 3) ÷ 4 = 0.879167
    assert period_score([o1, o2]) == pytest.approx((1.55 / 3 + 3) / 4)
    # KRs without a current value are left out of the mean
    o3 = Objective("x", [KeyResult("d", 0, 10, 5), KeyResult("e", 0, 10)])
    assert o3.score == pytest.approx(0.5)


@pytest.mark.parametrize(("score", "committed", "color", "verdict"), [
    (0.7, False, "green", "success"),
    (0.65, False, "yellow", "progress"),
    (0.3, False, "red", "low"),
    (1.0, False, "green", "too_easy"),
    (1.0, True, "green", "met"),
    (0.9, True, "green", "missed_commitment"),
])
def test_grade_interpretation(score, committed, color, verdict):
    g = grade(score, committed, "en")
    assert (g.color, g.verdict) == (color, verdict)
    assert g.message.startswith(f"{score:.2f}:")


def test_grade_texts_in_zh():
    assert grade(0.7, lang="zh-TW").message == "0.70：挑戰型目標約 0.7 即算成功。"


def test_invalid_key_results_and_objectives():
    with pytest.raises(KpitoolsError, match=r"target equals start \(5\).*\nHint: .*hybrid_view"):
        KeyResult("flat", start=5, target=5)
    with pytest.raises(KpitoolsError, match=r"weight must be positive"):
        KeyResult("w", 0, 1, weight=0)
    with pytest.raises(KpitoolsError, match=r"has no key results"):
        Objective("empty", [])


def test_objectives_from_yaml_dicts_and_table():
    objs = objectives_from_dicts([
        {"title": {"zh-TW": "打開中部市場", "en": "Open central Taiwan"}, "committed": False,
         "key_results": [{"title": "台中新客戶", "kpi": "new_customers", "start": 0,
                          "target": 30, "current": 21},
                         {"title": "經銷夥伴", "start": 0, "target": 4, "current": 2}]}])
    assert objs[0].score == pytest.approx((0.7 + 0.5) / 2)
    table = okr_table(objs, "en")
    assert list(table["level"]) == ["objective", "key_result", "key_result"]
    assert table.loc[0, "objective"] == "Open central Taiwan"
    assert table.loc[0, "kind"] == "Aspirational"
    with pytest.raises(KpitoolsError, match=r"a key result lacks 'target'"):
        objectives_from_dicts([{"title": "x", "key_results": [{"title": "y", "start": 0}]}])


def test_hybrid_view_puts_kpis_beside_okrs():
    objs = [Objective("New product", [KeyResult("pilots", 0, 5, 4)])]
    kpis = pd.DataFrame({"kpi_name": ["Revenue"], "attainment": [0.97],
                         "status_label": ["At risk"]})
    view = hybrid_view(objs, kpis, "en")
    assert list(view["section"]) == ["OKR (change)", "KPI (health)"]
    assert list(view["target_or_expectation"]) == [0.7, 1.0]
    assert view.loc[0, "value"] == pytest.approx(0.8)


def test_key_result_current_from_catalog():
    class Cat:
        def compute_kpi(self, kpi_id, data, period):
            return {"2024Q1": 18.0}[period]

    kr = KeyResult("new", 0, 30, kpi="new_customers").with_current_from({}, "2024Q1",
                                                                         catalog=Cat())
    assert (kr.current, kr.score) == (18.0, pytest.approx(0.6))
    with pytest.raises(KpitoolsError, match="names no catalog KPI"):
        KeyResult("x", 0, 1).with_current_from({}, "2024Q1", catalog=Cat())


def test_pay_caution_in_both_languages():
    assert "不應直接決定薪酬" in pay_caution("zh-TW")
    assert "should not set pay" in pay_caution("en")
