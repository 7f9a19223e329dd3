"""Notebook 03 (KPI or OKR?): the questionnaire, OKRs drafted from the goals, the hybrid view.

The article's advice: mature teams with stable processes manage by KPIs, new or fast-changing
teams by OKRs, and teams that need both stability and breakthroughs combine them — KPIs as
health metrics, OKRs for change. :func:`questionnaire_section` scores a team's answers;
:func:`draft_objectives` turns the client's goals for the period into objectives with key
results (start = baseline, target = goal, current = measured); :func:`hybrid_section` shows
the OKRs beside the KPIs that must merely stay healthy.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from kpitools._errors import KpitoolsError
from kpitools.i18n import fmt_pct, fmt_value
from kpitools.workshop._common import (
    Panel,
    Section,
    frame_html,
    kpi_label,
    kpi_unit,
    localize_columns,
    report_period,
    text,
)

__all__ = [
    "DEFAULT_EXAMPLE",
    "KeyResultPanel",
    "QuestionnairePanel",
    "draft_objectives",
    "health_goals",
    "hybrid_section",
    "okr_section",
    "questionnaire_section",
]

#: Stored example answers used when the notebook is run without a workshop.
DEFAULT_EXAMPLE = "stability_plus_breakthrough"


# --------------------------------------------------------------------------- questionnaire


def questionnaire_section(lang: str = "zh-TW", answers: Mapping[str, str] | None = None,
                          example: str = DEFAULT_EXAMPLE) -> Section:
    """Score the team's answers (default: the stored ``example``) → KPI, OKR or hybrid.

    ``data["result"]`` is the :class:`kpitools.goals.QuestionnaireResult`.
    """
    from kpitools.goals import example_answers, score_answers

    chosen = dict(answers) if answers is not None else example_answers(example)
    result = score_answers(chosen, lang=lang)
    sec = Section(title=text("nb03.questionnaire.title", lang), lang=lang)
    sec.notes.append(text(f"nb03.questionnaire.verdict.{result.recommendation}", lang))
    sec.notes.append(result.summary)
    sec.notes.extend(result.reasons)
    sec.tables.append(("", localize_columns(result.breakdown, "questionnaire", lang)))
    sec.data["result"] = result
    return sec


class QuestionnairePanel(Panel):
    """One dropdown per question; every change re-scores with :func:`score_answers`.

    ``result`` is the latest :class:`kpitools.goals.QuestionnaireResult`.
    """

    def __init__(self, lang: str = "zh-TW", example: str = DEFAULT_EXAMPLE) -> None:
        import ipywidgets as widgets

        from kpitools.goals import example_answers, questions_frame

        super().__init__(text("nb03.questionnaire.panel", lang))
        self.lang = lang
        start = example_answers(example)
        questions = questions_frame(lang)
        style = {"description_width": "initial"}
        for qid, rows in questions.groupby("question_id", sort=False):
            options = list(zip(rows["answer"], rows["answer_id"], strict=True))
            self.controls[qid] = widgets.Dropdown(
                options=options, value=start.get(qid, options[0][1]),
                description=str(rows["question"].iloc[0]), style=style,
                layout=widgets.Layout(width="640px"))
        self._wire()

    @property
    def answers(self) -> dict[str, str]:
        """Question id → chosen answer id."""
        return {qid: w.value for qid, w in self.controls.items()}

    def refresh(self) -> None:
        from kpitools.goals import score_answers

        self.result = score_answers(self.answers, lang=self.lang)
        verdict = text(f"nb03.questionnaire.verdict.{self.result.recommendation}", self.lang)
        reasons = "".join(f"<li>{html.escape(r)}</li>" for r in self.result.reasons)
        self.output.value = (f"<h4>{html.escape(verdict)}</h4>"
                             f"<p>{html.escape(self.result.summary)}</p><ul>{reasons}</ul>")


# --------------------------------------------------------------------------- OKRs


def draft_objectives(client: Any, period: str, scorecard: pd.DataFrame | None = None) -> list[Any]:
    """Objectives drafted from the client's goals for ``period``, one per strategy.

    Each goal becomes a key result moving its KPI from the baseline to the target, with the
    value measured in the period as ``current`` (from ``scorecard`` when given, which is
    :func:`kpitools.goals.scorecard` of the same goals). Titles are bilingual.
    """
    from kpitools.catalog import strategy_label
    from kpitools.goals import KeyResult, Objective, goal_from_dict
    from kpitools.goals import scorecard as make_scorecard

    p = report_period(period, client)
    goals = [goal_from_dict(g, index=i) for i, g in enumerate(client.goals)]
    goals = [g for g in goals if g.period and report_period(g.period, client).label == p.label]
    if not goals:
        return []
    card = scorecard if scorecard is not None else make_scorecard(goals, client, p, lang="en")
    actual = dict(zip(card["goal_id"], card["actual"], strict=True))
    by_strategy: dict[str, list[Any]] = {}
    for goal in goals:
        if goal.baseline is None or goal.target is None:
            continue
        current = actual.get(goal.goal_id)
        by_strategy.setdefault(goal.strategy or "", []).append(KeyResult(
            title={lang: kpi_label(goal.kpi_id, lang) for lang in ("zh-TW", "en")},
            start=float(goal.baseline), target=float(goal.target),
            current=None if current is None or pd.isna(current) else float(current),
            kpi=goal.kpi_id, unit=kpi_unit(goal.kpi_id)))
    return [Objective(title={lang: strategy_label(s, lang) if s else text("nb03.okr.untitled",
                                                                           lang)
                             for lang in ("zh-TW", "en")},
                      key_results=krs, owner=None)
            for s, krs in by_strategy.items()]


def okr_section(client: Any, period: str, lang: str = "zh-TW",
                objectives: Sequence[Any] | None = None) -> Section:
    """The drafted OKRs scored 0.0–1.0, with each objective's grade and verdict.

    ``data["score"]`` is the period score (weighted mean of the objectives' scores).
    """
    from kpitools.goals import grade, okr_table, period_score

    objectives = list(objectives) if objectives is not None else draft_objectives(client, period)
    sec = Section(title=text("nb03.okr.title", lang), lang=lang)
    if not objectives:
        sec.skipped = text("nb03.okr.none", lang)
        return sec
    table = okr_table(objectives, lang)
    shown = table.assign(
        start=[_kr_value(v, u, lang, client) for v, u in zip(table["start"], _units(objectives),
                                                              strict=True)],
        target=[_kr_value(v, u, lang, client) for v, u in zip(table["target"],
                                                               _units(objectives), strict=True)],
        current=[_kr_value(v, u, lang, client) for v, u in zip(table["current"],
                                                                _units(objectives), strict=True)],
        score=table["score"].map(lambda v: f"{v:.2f}" if pd.notna(v) else "—"),
    )
    sec.tables.append(("", localize_columns(shown, "okr", lang)))
    score = period_score(objectives)
    sec.notes.append(text("nb03.okr.score", lang, score=f"{score:.2f}",
                          verdict=grade(score, lang=lang).message))
    sec.notes.append(text("nb03.okr.how", lang))
    sec.data.update(objectives=objectives, score=score, table=table)
    return sec


def health_goals(client: Any, period: str, kpi_ids: Sequence[str]) -> list[Any]:
    """"Keep it healthy" goals for KPIs outside the OKRs: hold last quarter's value."""
    from kpitools.catalog import compute_kpi, get_kpi
    from kpitools.goals import Goal

    p = report_period(period, client)
    goals = []
    for i, kpi_id in enumerate(kpi_ids, 1):
        try:
            value = compute_kpi(kpi_id, client, p.previous())
        except KpitoolsError:
            continue
        if value is None or pd.isna(value) or value == 0:
            continue
        goals.append(Goal(goal_id=f"h{i}", kpi=kpi_id, target=float(value),
                          baseline=float(value), baseline_period=p.previous().label,
                          period=p.label, direction=get_kpi(kpi_id).direction))
    return goals


def hybrid_section(client: Any, period: str, lang: str = "zh-TW",
                   objectives: Sequence[Any] = (), kpi_ids: Sequence[str] = ()) -> Section:
    """OKRs for change beside KPIs for health (the article's hybrid), and why not pay on OKRs.

    Health KPIs are ``kpi_ids`` that no key result uses, expected to hold last quarter's value.
    """
    from kpitools.goals import hybrid_view, okr_pay_caution, scorecard

    sec = Section(title=text("nb03.hybrid.title", lang), lang=lang)
    in_okrs = {kr.kpi for o in objectives for kr in o.key_results}
    health = health_goals(client, period, [k for k in kpi_ids if k not in in_okrs])
    card = scorecard(health, client, report_period(period, client), lang=lang) if health \
        else None
    view = hybrid_view(list(objectives), card, lang=lang)
    records = iter(card.to_dict("records") if card is not None else [])
    shown = []
    for v, section in zip(view["value"], view["section"], strict=True):
        if section.startswith("OKR"):  # hybrid_view's OKR rows; the others are health KPIs
            shown.append(f"{v:.2f}")
        else:
            shown.append(attainment_text(next(records), lang, client.currency))
    view = view.assign(value=shown,
                       target_or_expectation=view["target_or_expectation"].map(
                           lambda v: f"{v:.2f}" if v < 1 else fmt_pct(v, lang)))
    sec.tables.append(("", localize_columns(view, "hybrid", lang)))
    sec.notes.append(text("nb03.hybrid.note", lang))
    sec.notes.append(okr_pay_caution(lang))
    sec.data["health"] = card
    return sec


def attainment_text(row: Mapping[str, Any], lang: str, currency: str = "TWD") -> str:
    """A scorecard row's attainment as a client can read it.

    Attainment is a ratio to the target, which reads sensibly only when the target and the
    actual are both positive. For a KPI that can go negative (net MRR churn, where expansion
    outweighs churn) the ratio turns into numbers like 1907 %; the row then says "not
    meaningful", why, and gives the actual and the target in the KPI's unit instead.
    """
    value, target, actual = row.get("attainment"), row.get("target"), row.get("actual")
    unit = row.get("unit") or "count"
    if target is None or pd.isna(target) or actual is None or pd.isna(actual):
        return "—"
    if target <= 0 or actual < 0:
        return text("nb03.hybrid.not_meaningful", lang,
                    actual=fmt_value(actual, unit, lang, currency=currency, digits=2
                                     if unit in ("rate", "percent") else None),
                    target=fmt_value(target, unit, lang, currency=currency, digits=2
                                     if unit in ("rate", "percent") else None))
    return fmt_pct(value, lang) if value is not None and not pd.isna(value) else "—"


class KeyResultPanel(Panel):
    """One number box per key result (its current value) → scores and grades, live."""

    def __init__(self, client: Any, objectives: Sequence[Any], lang: str = "zh-TW") -> None:
        from kpitools.i18n import localize

        super().__init__(text("nb03.okr.panel", lang))
        if not objectives:
            raise KpitoolsError(text("nb03.okr.none", lang))
        self.client, self.lang, self.objectives = client, lang, list(objectives)
        from kpitools.workshop._inputs import unit_input

        style = {"description_width": "14em"}
        for i, objective in enumerate(self.objectives):
            for j, kr in enumerate(objective.key_results):
                self.controls[f"{i}.{j}"] = unit_input(
                    localize(kr.title, lang), kr.unit or "count", lang,
                    currency=client.currency,
                    value=kr.current if kr.current is not None else kr.start, style=style)
        self._wire()

    def refresh(self) -> None:
        from dataclasses import replace

        from kpitools.goals import okr_table, period_score
        from kpitools.workshop._inputs import parse_number

        updated = []
        for i, objective in enumerate(self.objectives):
            krs = []
            for j, kr in enumerate(objective.key_results):
                box = self.controls[f"{i}.{j}"]
                typed = parse_number(box.value, kr.unit or "count", what=box.description)
                krs.append(replace(kr, current=kr.start if typed is None else typed))
            updated.append(replace(objective, key_results=krs))
        table = okr_table(updated, self.lang)
        self.result = table
        shown = table.assign(score=table["score"].map(lambda v: f"{v:.2f}"))
        score = text("nb03.okr.score_short", self.lang, score=f"{period_score(updated):.2f}")
        self.output.value = (f"<p><b>{html.escape(score)}</b></p>"
                             + frame_html(localize_columns(shown, "okr_live", self.lang)))


def _units(objectives: Sequence[Any]) -> list[str | None]:
    """The unit of each okr_table row: None for objective rows, the KR's unit otherwise."""
    units: list[str | None] = []
    for objective in objectives:
        units.append(None)
        units.extend(kr.unit for kr in objective.key_results)
    return units


def _kr_value(value: float, unit: str | None, lang: str, client: Any) -> str:
    if unit is None or value is None or pd.isna(value):
        return "—" if unit is not None else ""
    return fmt_value(value, unit, lang, currency=client.currency)
