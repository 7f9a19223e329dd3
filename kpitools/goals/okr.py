"""OKRs: objectives with weighted key results, Google-style 0.0–1.0 grades, KPIs beside them.

Scoring (kpi-definitions.md §3.4):

* key result score = clamp((current − start) ÷ (target − start), 0, 1). This is the linear scale
  of oslokommune/okr-tracker and works for decreasing KRs too (start 10 % churn, target 6 %).
* objective score = Σ weightᵢ × scoreᵢ ÷ Σ weightᵢ (Doerr's average when weights are equal);
  the period score is the same weighted mean over objectives.
* colours, Google OKR playbook: below 0.4 red, 0.4 up to 0.7 yellow, 0.7 and above green.
* expectation: a **committed** objective is expected to reach 1.0 (anything less is a missed
  commitment); an **aspirational** one succeeds at about 0.7 (:data:`ASPIRATIONAL_SUCCESS`), and
  a steady 1.0 suggests the objective was not ambitious enough.

OKR grades are for learning and focus, not for pay or performance reviews (Google re:Work): see
:func:`pay_caution`. In a hybrid, KPIs stay as health metrics beside the OKRs
(:func:`hybrid_view`), each judged on its own scale: KPIs against 100 % attainment, OKRs on the
0–1 grade.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from kpitools._errors import KpitoolsError
from kpitools.goals.model import check_lang, pick, resolve_catalog, text

__all__ = [
    "ASPIRATIONAL_SUCCESS",
    "GREEN_FROM",
    "YELLOW_FROM",
    "KeyResult",
    "Objective",
    "grade",
    "hybrid_view",
    "objectives_from_dicts",
    "okr_table",
    "pay_caution",
    "period_score",
]

#: Google playbook colour bands on the 0.0–1.0 grade.
YELLOW_FROM = 0.4
GREEN_FROM = 0.7
#: Where an aspirational objective counts as a success ("the sweet spot is 0.6–0.7").
ASPIRATIONAL_SUCCESS = 0.7
#: A committed objective is expected to be fully delivered.
COMMITTED_EXPECTED = 1.0
#: Tolerance for "scored 1.0" in floating point.
_EPS = 1e-9


@dataclass(frozen=True)
class KeyResult:
    """A measurable key result: move ``kpi`` (or a described metric) from ``start`` to ``target``.

    ``title`` may be text or ``{zh-TW: ..., en: ...}``; ``kpi`` an optional catalog id whose
    current value can be computed from data (:meth:`with_current_from`).
    """

    title: Mapping[str, str] | str
    start: float
    target: float
    current: float | None = None
    weight: float = 1.0
    kpi: str | None = None
    unit: str | None = None

    def __post_init__(self) -> None:
        if self.target == self.start:
            raise KpitoolsError(
                f"key result {pick(self.title, 'en')!r}: target equals start ({self.start:g}), so "
                "progress is undefined.\nHint: write it 'from X to Y' with Y different from X; a "
                "metric to keep steady belongs in the KPIs (hybrid_view), not in an OKR.")
        if not self.weight > 0:
            raise KpitoolsError(f"key result {pick(self.title, 'en')!r}: weight must be positive, "
                                f"got {self.weight!r}.\nHint: use 1 for equal weights.")

    @property
    def score(self) -> float:
        """clamp((current − start) ÷ (target − start), 0, 1); NaN while ``current`` is unknown."""
        if self.current is None or math.isnan(self.current):
            return math.nan
        raw = (self.current - self.start) / (self.target - self.start)
        return min(max(raw, 0.0), 1.0)

    def with_current_from(self, data: Any, period: Any, *, catalog: Any = None) -> KeyResult:
        """A copy whose ``current`` is the KPI computed from ``data`` for ``period``."""
        if self.kpi is None:
            raise KpitoolsError(f"key result {pick(self.title, 'en')!r} names no catalog KPI.\n"
                                "Hint: set kpi='new_customers' (a catalog id) or fill current=.")
        value = resolve_catalog(catalog).compute_kpi(self.kpi, data, period)
        return KeyResult(self.title, self.start, self.target, float(value), self.weight,
                         self.kpi, self.unit)


@dataclass(frozen=True)
class Objective:
    """A qualitative objective with its key results; ``committed`` (True) vs aspirational."""

    title: Mapping[str, str] | str
    key_results: Sequence[KeyResult] = field(default_factory=tuple)
    committed: bool = False
    weight: float = 1.0
    owner: str | None = None

    def __post_init__(self) -> None:
        if not self.key_results:
            raise KpitoolsError(f"objective {pick(self.title, 'en')!r} has no key results.\n"
                                "Hint: give it 2–5 measurable key results.")

    @property
    def kind(self) -> str:
        return "committed" if self.committed else "aspirational"

    @property
    def score(self) -> float:
        """Weighted mean of the key-result scores (KRs without a current value are skipped)."""
        scored = [kr for kr in self.key_results if not math.isnan(kr.score)]
        if not scored:
            return math.nan
        return sum(kr.score * kr.weight for kr in scored) / sum(kr.weight for kr in scored)


def period_score(objectives: Iterable[Objective]) -> float:
    """Weighted mean of the objectives' scores (those with a score)."""
    scored = [o for o in objectives if not math.isnan(o.score)]
    if not scored:
        return math.nan
    return sum(o.score * o.weight for o in scored) / sum(o.weight for o in scored)


@dataclass(frozen=True)
class Grade:
    """How to read a score: colour band and verdict against the objective's kind."""

    score: float
    color: str
    verdict: str
    message: str


def grade(score: float, committed: bool = False, lang: str = "zh-TW") -> Grade:
    """Colour (red/yellow/green) and verdict of a 0.0–1.0 score.

    Verdicts: committed — ``met`` at 1.0, else ``missed_commitment``; aspirational —
    ``too_easy`` at 1.0 (a steady 1.0 means the bar was low), ``success`` from 0.7, ``progress``
    from 0.4, else ``low``.

    >>> grade(0.7).verdict, grade(0.7, committed=True).verdict
    ('success', 'missed_commitment')
    """
    check_lang(lang)
    if math.isnan(score):
        return Grade(score, "none", "no_data", text("okr.verdict.no_data", lang))
    color = "green" if score >= GREEN_FROM else ("yellow" if score >= YELLOW_FROM else "red")
    if committed:
        verdict = "met" if score >= COMMITTED_EXPECTED - _EPS else "missed_commitment"
    elif score >= 1.0 - _EPS:
        verdict = "too_easy"
    elif score >= ASPIRATIONAL_SUCCESS:
        verdict = "success"
    else:
        verdict = "progress" if score >= YELLOW_FROM else "low"
    return Grade(score, color, verdict, text(f"okr.verdict.{verdict}", lang, score=f"{score:.2f}"))


def okr_table(objectives: Sequence[Objective], lang: str = "zh-TW") -> pd.DataFrame:
    """One row per key result and one summary row per objective, with scores and verdicts."""
    check_lang(lang)
    rows = []
    for i, obj in enumerate(objectives, start=1):
        g = grade(obj.score, obj.committed, lang)
        rows.append({"objective": pick(obj.title, lang), "key_result": "", "level": "objective",
                     "kind": text(f"okr.kind.{obj.kind}", lang), "start": None, "target": None,
                     "current": None, "weight": obj.weight, "score": obj.score, "color": g.color,
                     "verdict": g.message, "owner": obj.owner, "objective_no": i})
        for kr in obj.key_results:
            krg = grade(kr.score, obj.committed, lang)
            rows.append({"objective": pick(obj.title, lang), "key_result": pick(kr.title, lang),
                         "level": "key_result", "kind": text(f"okr.kind.{obj.kind}", lang),
                         "start": kr.start, "target": kr.target, "current": kr.current,
                         "weight": kr.weight, "score": kr.score, "color": krg.color,
                         "verdict": krg.message, "owner": obj.owner, "objective_no": i})
    return pd.DataFrame(rows)


def objectives_from_dicts(raw: Iterable[Mapping[str, Any]]) -> list[Objective]:
    """Objectives from YAML-style dicts::

        - title: {zh-TW: 打開中部市場, en: Open the central-Taiwan market}
          committed: false
          key_results:
            - {title: 台中新客戶, kpi: new_customers, start: 0, target: 30, current: 12}
    """
    out = []
    for item in raw:
        krs = []
        for kr in item.get("key_results") or ():
            try:
                krs.append(KeyResult(title=kr["title"], start=float(kr["start"]),
                                     target=float(kr["target"]),
                                     current=None if kr.get("current") is None
                                     else float(kr["current"]),
                                     weight=float(kr.get("weight", 1.0)), kpi=kr.get("kpi"),
                                     unit=kr.get("unit")))
            except KeyError as exc:
                raise KpitoolsError(f"a key result lacks {exc.args[0]!r}: {dict(kr)}.\n"
                                    "Hint: each key result needs title, start and target.") from exc
        out.append(Objective(title=item.get("title", ""), key_results=tuple(krs),
                             committed=bool(item.get("committed", False)),
                             weight=float(item.get("weight", 1.0)), owner=item.get("owner")))
    return out


def hybrid_view(objectives: Sequence[Objective], kpi_scorecard: pd.DataFrame | None = None,
                lang: str = "zh-TW") -> pd.DataFrame:
    """OKRs for change and KPIs for health, side by side (the article's hybrid).

    ``kpi_scorecard`` is the output of :func:`kpitools.goals.scorecard` for the health KPIs.
    Columns: section (OKR / KPI health), item, scale, value, target_or_expectation, status.
    """
    check_lang(lang)
    rows = []
    for obj in objectives:
        g = grade(obj.score, obj.committed, lang)
        expected = COMMITTED_EXPECTED if obj.committed else ASPIRATIONAL_SUCCESS
        rows.append({"section": text("okr.section.okr", lang), "item": pick(obj.title, lang),
                     "scale": text("okr.scale.grade", lang), "value": obj.score,
                     "target_or_expectation": expected, "status": g.message})
    if kpi_scorecard is not None:
        for rec in kpi_scorecard.to_dict("records"):
            rows.append({"section": text("okr.section.kpi", lang), "item": rec.get("kpi_name"),
                         "scale": text("okr.scale.attainment", lang),
                         "value": rec.get("attainment"), "target_or_expectation": 1.0,
                         "status": rec.get("status_label")})
    return pd.DataFrame(rows, columns=["section", "item", "scale", "value",
                                       "target_or_expectation", "status"])


def pay_caution(lang: str = "zh-TW") -> str:
    """Why OKR grades should not drive pay (Google re:Work; kpi-definitions.md §3.4–3.5)."""
    return text("okr.pay_caution", lang)
