"""KPI vs OKR questionnaire: data, scoring rule, the article's three cases, errors."""

from __future__ import annotations

import pytest

from kpitools._errors import KpitoolsError
from kpitools.goals import example_answers, questions_frame, score_answers
from kpitools.goals.questionnaire import load_questionnaire

REQUIRED = {"team_maturity", "process_stability", "market_volatility", "innovation_need",
            "goal_type", "data_availability", "management_style", "team_size"}


def test_at_least_eight_questions_with_the_required_topics():
    frame = questions_frame("en")
    assert frame["question_id"].nunique() >= 8
    assert set(frame["question_id"]) >= REQUIRED
    assert set(questions_frame("zh-TW")["question"]).isdisjoint(set(frame["question"]))


@pytest.mark.parametrize(("case", "expected", "k", "o"), [
    # mature stable sales team: K = 3+3+2+2+3+2+2+1+2+1 = 21, O = 0+…+1 (team size)+1 (capacity) = 2
    ("mature_sales_team", "kpi", 21, 2),
    # new team: every answer leans OKR: O = 3+3+2+3+3+2+2+1+1+2 = 22
    ("new_sales_team", "okr", 0, 22),
    # growing fast: K = 1+1+1+0+0+1+1+0+1+1 = 7, O = 2+1+1+3+3+1+1+1+1+1 = 15, share 68 % ≥ 60 %
    ("fast_growing_team", "okr", 7, 15),
    # stability + breakthrough: K 16, O 8, share 33 % (alone → KPI) but the "both" answer is a
    # hybrid vote and 33 % lies in the 20–80 % band → hybrid
    ("stability_plus_breakthrough", "hybrid", 16, 8),
])
def test_article_cases(case, expected, k, o):
    stored = load_questionnaire()["examples"][case]["expected"]
    assert stored == expected
    r = score_answers(example_answers(case), lang="en")
    assert (r.recommendation, r.kpi_points, r.okr_points) == (expected, k, o)
    assert r.okr_share == pytest.approx(o / (k + o))
    assert int(r.breakdown["kpi_points"].sum()) == k


def test_reasons_and_summary_in_both_languages():
    zh = score_answers(example_answers("stability_plus_breakthrough"), lang="zh-TW")
    en = score_answers(example_answers("stability_plus_breakthrough"), lang="en")
    assert zh.reasons[0] == "既要穩定又要突破：用 KPI 守住核心指標，再用 OKR 推動創新。"
    assert en.reasons[0].startswith("Stability plus breakthrough")
    assert en.summary == ("KPI points 16, OKR points 8 (OKR share 33%); recommendation: "
                          "Hybrid: KPIs plus OKRs.")
    assert zh.label("zh-TW") == "KPI 與 OKR 並用"
    mature = score_answers(example_answers("mature_sales_team"), lang="en")
    assert mature.reasons[0] == ("A mature team has the know-how for clear performance targets "
                                 "(KPI).")


def test_deterministic():
    a = score_answers(example_answers("fast_growing_team"))
    b = score_answers(example_answers("fast_growing_team"))
    assert (a.recommendation, a.reasons, a.summary) == (b.recommendation, b.reasons, b.summary)
    assert a.breakdown.equals(b.breakdown)


def test_middle_share_without_hybrid_vote_is_hybrid():
    answers = example_answers("stability_plus_breakthrough") | {
        "goal_type": "breakthrough", "innovation_need": "high", "market_volatility": "high"}
    # K = 16 − 2 (goal) − 1 (innovation) − 1 (market) = 12; O = 8 + 1 + 2 + 1 = 12 → 50 %
    r = score_answers(answers)
    assert (r.kpi_points, r.okr_points, r.recommendation) == (12, 12, "hybrid")


def test_yaml_booleans_for_yes_no():
    answers = example_answers("mature_sales_team") | {"pay_link": True}
    assert score_answers(answers).breakdown.set_index("question_id").loc[
        "pay_link", "answer_id"] == "yes"


def test_errors():
    answers = example_answers("mature_sales_team")
    with pytest.raises(KpitoolsError, match=r"1 question\(s\) unanswered: \['capacity'\]"):
        score_answers({k: v for k, v in answers.items() if k != "capacity"})
    with pytest.raises(KpitoolsError, match=r"question 'team_maturity': unknown answer 'matur'.*"
                                            r"\nHint: did you mean 'mature'\?"):
        score_answers(answers | {"team_maturity": "matur"})
    with pytest.raises(KpitoolsError, match=r"unknown question id\(s\) \['team_mood'\]"):
        score_answers(answers | {"team_mood": "good"})
    with pytest.raises(KpitoolsError, match=r"no questionnaire example 'mature'"):
        example_answers("mature")
