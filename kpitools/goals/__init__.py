"""Goals and frameworks: SMART goals, attainment and pacing, choosing KPIs, KPI vs OKR, incentives.

The article's method as tested functions (zh-TW / en text kept in ``texts.yaml``):

* :class:`Goal` and its files — :func:`read_goals`, :func:`write_goals`, :func:`goals_from_client`;
* :func:`parse_goal` — a goal sentence in zh-TW or English read into KPI, target, period or
  deadline, scope and owner;
* :func:`check_smart` and :func:`rewrite_goal` — is the goal Specific, Measurable, Achievable,
  Relevant and Time-bound, and how to make it so;
* :func:`attainment`, :func:`pacing`, :func:`scorecard` — how far along each goal is;
* :func:`recommend_kpis`, :func:`review_kpi_set` — 3–5 KPIs that serve the strategy;
* :func:`score_answers` (questionnaire) — KPI, OKR or a hybrid for this team;
* :class:`Objective` / :class:`KeyResult` — OKRs graded 0.0–1.0;
* :class:`CommissionPlan`, :func:`payout_table`, :class:`BonusPlan` — linking KPIs to pay.
"""

from __future__ import annotations

from kpitools.goals.attainment import (
    AT_RISK_AT,
    ON_TRACK_AT,
    Pace,
    attainment,
    default_method,
    explain_attainment,
    pacing,
    scorecard,
)
from kpitools.goals.incentives import (
    BonusPlan,
    CommissionPlan,
    Measure,
    bonus,
    bonus_table,
    commission,
    okr_pay_caution,
    payout_table,
)
from kpitools.goals.model import (
    CustomMetric,
    Goal,
    goal_from_dict,
    goals_from_client,
    goals_from_frame,
    goals_to_frame,
    read_goals,
    text,
    write_goals,
)
from kpitools.goals.okr import (
    KeyResult,
    Objective,
    grade,
    hybrid_view,
    objectives_from_dicts,
    okr_table,
    pay_caution,
    period_score,
)
from kpitools.goals.parse import ParsedGoal, parse_goal
from kpitools.goals.questionnaire import (
    QuestionnaireResult,
    example_answers,
    questions_frame,
    score_answers,
)
from kpitools.goals.recommend import Advice, recommend_kpis, review_kpi_set
from kpitools.goals.smart import (
    Finding,
    check_smart,
    findings_frame,
    goal_sentence,
    is_smart,
    parse_goal_text,
    rewrite_goal,
)

__all__ = [
    "AT_RISK_AT",
    "ON_TRACK_AT",
    "Advice",
    "BonusPlan",
    "CommissionPlan",
    "CustomMetric",
    "Finding",
    "Goal",
    "KeyResult",
    "Measure",
    "Objective",
    "Pace",
    "ParsedGoal",
    "QuestionnaireResult",
    "attainment",
    "bonus",
    "bonus_table",
    "check_smart",
    "commission",
    "default_method",
    "example_answers",
    "explain_attainment",
    "findings_frame",
    "goal_from_dict",
    "goal_sentence",
    "goals_from_client",
    "goals_from_frame",
    "goals_to_frame",
    "grade",
    "hybrid_view",
    "is_smart",
    "objectives_from_dicts",
    "okr_pay_caution",
    "okr_table",
    "pacing",
    "parse_goal",
    "parse_goal_text",
    "pay_caution",
    "payout_table",
    "period_score",
    "questions_frame",
    "read_goals",
    "recommend_kpis",
    "review_kpi_set",
    "rewrite_goal",
    "score_answers",
    "scorecard",
    "text",
    "write_goals",
]
