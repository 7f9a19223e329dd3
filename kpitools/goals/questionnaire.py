"""KPI, OKR or a hybrid? Score a workshop questionnaire kept as data (``questionnaire.yaml``).

Each answer carries KPI points and OKR points (0–3). With K and O their sums over all answers
and ``okr_share = O ÷ (K + O)``:

* ``okr_share ≥ 0.60`` → OKR, ``≤ 0.40`` → KPI, in between → hybrid (``decision:`` in the YAML);
* an answer marked ``hybrid: true`` ("stability and breakthrough") makes the hybrid the
  recommendation while ``okr_share`` stays within 20–80 %.

The result is deterministic: the same answers always give the same recommendation, breakdown and
reasons. The weights are our proposal, grounded in the article and the sources listed at the top
of ``questionnaire.yaml``; the article's three cases are stored there as ``examples`` and tested.

Example
-------
>>> r = score_answers(example_answers("mature_sales_team"), lang="en")
>>> r.recommendation, r.kpi_points, r.okr_points
('kpi', 21, 2)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from kpitools._errors import KpitoolsError, did_you_mean
from kpitools._packageyaml import package_yaml
from kpitools.goals.model import check_lang, pick, text

__all__ = [
    "RECOMMENDATIONS",
    "QuestionnaireResult",
    "example_answers",
    "load_questionnaire",
    "questions_frame",
    "score_answers",
]

RECOMMENDATIONS = ("kpi", "okr", "hybrid")
#: How many answer reasons the result quotes.
N_REASONS = 4
_PATH = Path(__file__).parent / "questionnaire.yaml"


@cache
def load_questionnaire() -> dict[str, Any]:
    """The parsed questionnaire: ``decision`` thresholds, ``questions`` and ``examples``."""
    return package_yaml(_PATH.read_text(encoding="utf-8"))


def questions_frame(lang: str = "zh-TW") -> pd.DataFrame:
    """One row per (question, answer) with the points, for a notebook form or a handout."""
    check_lang(lang)
    rows = [{"question_id": q["id"], "question": pick(q["text"], lang), "answer_id": a["id"],
             "answer": pick(a["text"], lang), "kpi_points": a["kpi"], "okr_points": a["okr"],
             "hybrid_vote": bool(a.get("hybrid", False))}
            for q in load_questionnaire()["questions"] for a in q["answers"]]
    return pd.DataFrame(rows)


def example_answers(name: str) -> dict[str, str]:
    """The answers of a stored example (``mature_sales_team``, ``new_sales_team``,
    ``fast_growing_team``, ``stability_plus_breakthrough``)."""
    examples = load_questionnaire()["examples"]
    if name not in examples:
        guess = did_you_mean(name, list(examples))
        hint = f"did you mean {guess!r}?" if guess else f"use one of {list(examples)}."
        raise KpitoolsError(f"no questionnaire example {name!r}.\nHint: {hint}")
    return dict(examples[name]["answers"])


@dataclass(frozen=True)
class QuestionnaireResult:
    """Recommendation (``kpi``/``okr``/``hybrid``), points, breakdown table and reasons."""

    recommendation: str
    kpi_points: int
    okr_points: int
    okr_share: float
    breakdown: pd.DataFrame
    reasons: tuple[str, ...]
    summary: str

    def label(self, lang: str = "zh-TW") -> str:
        return text(f"questionnaire.recommendation.{self.recommendation}", lang)


def _answer(question: Mapping[str, Any], answer_id: Any) -> Mapping[str, Any]:
    ids = [str(a["id"]) for a in question["answers"]]
    key = str(answer_id).strip()
    if key.lower() in ("true", "false"):  # YAML/Python booleans for yes/no answers
        key = "yes" if key.lower() == "true" else "no"
    if key not in ids:
        guess = did_you_mean(key, ids)
        raise KpitoolsError(
            f"question {question['id']!r}: unknown answer {answer_id!r}.\nHint: "
            + (f"did you mean {guess!r}?" if guess else f"answer one of {ids}."))
    return question["answers"][ids.index(key)]


def score_answers(answers: Mapping[str, Any], *, lang: str = "zh-TW") -> QuestionnaireResult:
    """Score the answers (question id → answer id) and recommend KPI, OKR or a hybrid.

    Raises
    ------
    KpitoolsError
        When a question is unanswered, a question id is unknown, or an answer id is not offered.
    """
    check_lang(lang)
    spec = load_questionnaire()
    questions = spec["questions"]
    qids = [q["id"] for q in questions]
    unknown = [k for k in answers if k not in qids]
    if unknown:
        guess = did_you_mean(str(unknown[0]), qids)
        raise KpitoolsError(f"unknown question id(s) {unknown}.\nHint: "
                            + (f"did you mean {guess!r}?" if guess else f"questions are {qids}."))
    missing = [q for q in qids if q not in answers]
    if missing:
        raise KpitoolsError(f"{len(missing)} question(s) unanswered: {missing}.\n"
                            "Hint: answer every question; questions_frame() lists the choices.")
    rows = []
    for q in questions:
        a = _answer(q, answers[q["id"]])
        rows.append({"question_id": q["id"], "question": pick(q["text"], lang),
                     "answer_id": str(a["id"]), "answer": pick(a["text"], lang),
                     "kpi_points": int(a["kpi"]), "okr_points": int(a["okr"]),
                     "hybrid_vote": bool(a.get("hybrid", False)),
                     "reason": pick(a["reason"], lang)})
    breakdown = pd.DataFrame(rows)
    k, o = int(breakdown["kpi_points"].sum()), int(breakdown["okr_points"].sum())
    share = o / (k + o) if k + o else 0.5
    rule = spec["decision"]
    low, high = rule["hybrid_vote_band"]
    if breakdown["hybrid_vote"].any() and low <= share <= high:
        rec = "hybrid"
    elif share >= rule["okr_from"]:
        rec = "okr"
    elif share <= rule["kpi_up_to"]:
        rec = "kpi"
    else:
        rec = "hybrid"
    # lean > 0: the answer favours KPI; < 0: OKR. Reasons are quoted strongest first.
    lean = breakdown["kpi_points"] - breakdown["okr_points"]
    kpi_side = breakdown[lean > 0].loc[lambda d: (-lean[d.index]).sort_values(kind="stable").index]
    okr_side = breakdown[lean < 0].loc[lambda d: lean[d.index].sort_values(kind="stable").index]
    if rec == "kpi":
        order = kpi_side
    elif rec == "okr":
        order = okr_side
    else:  # hybrid: the hybrid vote first, then the strongest reason on each side
        order = pd.concat([breakdown[breakdown["hybrid_vote"]], kpi_side.head(1),
                           okr_side.head(1)])
    reasons = tuple(order["reason"].head(N_REASONS))
    summary = text("questionnaire.summary", lang, kpi=k, okr=o, share=f"{share:.0%}",
                   recommendation=text(f"questionnaire.recommendation.{rec}", lang))
    return QuestionnaireResult(rec, k, o, share, breakdown, reasons, summary)
