"""Notebook 01 (SMART goals): strategy → recommended KPIs → history → SMART goals → goals file.

The section functions compute what the notebook shows for one client, period and language;
:class:`GoalBuilder` is the live goal-setting widget of the workshop; :func:`export_goals`
writes the agreed goals into the client folder, never silently over an existing file.

``period`` is the period the goals are *for* (e.g. ``"2024Q4"``); baselines and history are
measured up to the quarter before it, which is what a team knows when it sets the goal.
"""

from __future__ import annotations

import html
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from kpitools._errors import KpitoolsError
from kpitools.i18n import fmt_delta, fmt_pct, fmt_value, period_label
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
    "GOALS_FILE",
    "HISTORY_QUARTERS",
    "GoalBuilder",
    "agreed_goals",
    "export_goals",
    "export_section",
    "goal_entries",
    "goals_check_section",
    "history_section",
    "recommend_section",
    "smart_status",
    "strategy_section",
]

#: File in the client folder that receives the agreed goals (YAML ``goals:`` list).
GOALS_FILE = "goals.yaml"
#: Copy of the previous goals file kept when it is overwritten (still a readable YAML file).
BACKUP_FILE = "goals.bak.yaml"
#: Quarters of history shown and used for the Achievable check.
HISTORY_QUARTERS = 8
#: How many KPIs the workshop recommends (the article: 3–5).
RECOMMENDED_KPIS = 4
#: Most history charts drawn (one per KPI; the table shows them all).
MAX_HISTORY_CHARTS = 4
#: Starting change offered for a new goal: +10 % (or −10 % for lower-is-better KPIs).
DEFAULT_CHANGE = 0.10
#: SMART criteria in the article's order.
CRITERIA = ("specific", "measurable", "achievable", "relevant", "time_bound")


# --------------------------------------------------------------------------- sections


def strategy_section(client: Any, period: str, lang: str = "zh-TW") -> Section:
    """Who the client is: business model, strategies (in words) and the data on hand."""
    from kpitools.catalog import business_model_label, strategy_label

    p = report_period(period, client)
    sec = Section(title=text("nb01.strategy.title", lang), lang=lang)
    model = client.business_model
    sec.notes.append(text("nb01.strategy.model", lang,
                          model=business_model_label(model, lang) if model else "—"))
    sec.notes.append(text("nb01.strategy.period", lang, period=period_label(p, lang),
                          baseline=period_label(p.previous(), lang)))
    rows = pd.DataFrame({"strategy_id": client.strategy,
                         "strategy": [strategy_label(s, lang) for s in client.strategy]})
    sec.tables.append((text("nb01.strategy.strategies", lang),
                       localize_columns(rows, "strategy", lang)))
    sec.notes.append(text("nb01.strategy.tables", lang, tables=", ".join(sorted(client.tables))))
    return sec


def recommend_section(client: Any, period: str, lang: str = "zh-TW",
                      n: int = RECOMMENDED_KPIS) -> Section:
    """The ``n`` KPIs that best serve the client's strategy, with their value last quarter.

    ``values`` = each recommended KPI in the quarter before ``period`` (the baseline);
    ``data["kpi_ids"]`` = the ids, best first.
    """
    from kpitools.catalog import compute_kpi
    from kpitools.goals import recommend_kpis, review_kpi_set

    p = report_period(period, client)
    base = p.previous()
    sec = Section(title=text("nb01.recommend.title", lang, n=n), lang=lang)
    picks = recommend_kpis(client.strategy, client.business_model, n=n, lang=lang,
                           available_tables=client.tables)
    ids = list(picks["kpi_id"])
    values = {k: _safe_kpi(compute_kpi, k, client, base.label) for k in ids}
    shown = picks.assign(
        baseline=[fmt_value(values[k], kpi_unit(k), lang, currency=client.currency) for k in ids],
        has_data=[text("common.yes_word" if v else "common.no_word", lang)
                  for v in picks["has_data"]],
    )
    sec.tables.append(("", localize_columns(shown, "recommend", lang)))
    sec.notes.append(text("nb01.recommend.baseline_note", lang, period=period_label(base, lang)))
    advice = review_kpi_set(ids, available_tables=client.tables, lang=lang)
    sec.notes.extend(a.message for a in advice)
    if not advice:
        sec.notes.append(text("nb01.recommend.set_ok", lang))
    sec.values.update(values)
    sec.data["kpi_ids"] = ids
    return sec


def history_section(client: Any, period: str, lang: str = "zh-TW",
                    kpi_ids: Sequence[str] = (), quarters: int = HISTORY_QUARTERS) -> Section:
    """Each KPI over the ``quarters`` quarters before ``period``, with its past quarterly changes.

    The best and worst past change tell the team what a target asks of them: a target beyond
    the best quarter on record is a stretch (SMART's Achievable). ``data["series"]`` holds the
    unformatted series (KPI id → Series indexed by quarter label).
    """
    from kpitools.catalog import kpi_series
    from kpitools.plots import trend_chart

    p = report_period(period, client)
    last = p.previous()
    first = last.shift(-(quarters - 1))
    sec = Section(title=text("nb01.history.title", lang), lang=lang)
    series: dict[str, pd.Series] = {}
    for k in dict.fromkeys(kpi_ids):
        try:
            series[k] = kpi_series(k, client, freq="Q", start=first.label, end=last.label)
        except KpitoolsError:
            continue  # the client lacks this KPI's tables; the recommendation already says so
    if not series:
        sec.skipped = text("nb01.history.none", lang)
        return sec
    rows = []
    for k, s in series.items():
        unit = kpi_unit(k)
        change = _quarterly_change(s, unit)
        row = {"kpi": kpi_label(k, lang)}
        row.update({q: fmt_value(v, unit, lang, currency=client.currency) for q, v in s.items()})
        for key, stat in (("median", change.median()), ("best", change.max()),
                          ("worst", change.min())):
            row[text(f"nb01.history.{key}", lang)] = _change_text(stat, unit, lang)
        rows.append(row)
    table = pd.DataFrame(rows).rename(columns={"kpi": text("common.kpi", lang)})
    sec.tables.append(("", table))
    sec.notes.append(text("nb01.history.note", lang, n=quarters))
    for k, s in list(series.items())[:MAX_HISTORY_CHARTS]:
        sec.figures.append(trend_chart(s.rename(kpi_label(k, lang)), title=kpi_label(k, lang),
                                       unit=kpi_unit(k), lang=lang, currency=client.currency,
                                       xlabel=text("common.quarter", lang)))
    sec.data["series"] = series
    return sec


def agreed_goals(client: Any, period: str, kpi_ids: Sequence[str] = (),
                 owner: str = "") -> list[Any]:
    """The goals the workshop starts from: the client's goals for ``period``, else drafts.

    Drafts (when client.yml has no goal for the period) take each KPI of ``kpi_ids`` from its
    value in the previous quarter by :data:`DEFAULT_CHANGE` in the KPI's good direction.
    """
    from kpitools.goals import goal_from_dict, rewrite_goal

    p = report_period(period, client)
    own = [goal_from_dict(g, index=i) for i, g in enumerate(client.goals)]
    matching = [g for g in own if g.period and report_period(g.period, client).label == p.label]
    if matching:
        return matching
    drafts = []
    for i, k in enumerate(kpi_ids, 1):
        sign = -1.0 if _direction(k) == "lower" else 1.0
        try:
            drafts.append(rewrite_goal(kpi_label(k, "en"), kpi=k, period=p.label,
                                       owner=owner or client.name_for("zh-TW"),
                                       target_change=sign * DEFAULT_CHANGE, goal_id=f"g{i}",
                                       data=client))
        except KpitoolsError:
            continue  # no baseline can be measured for this KPI: leave it to the workshop
    return drafts


def goals_check_section(client: Any, period: str, lang: str = "zh-TW",
                        goals: Sequence[Any] = (),
                        history: Mapping[str, pd.Series] | None = None) -> Section:
    """Each goal as a sentence with its five SMART verdicts, and what to fix.

    ``history`` (KPI id → quarterly series, e.g. ``history_section(...).data["series"]``)
    spares recomputing each KPI's past for the Achievable check. ``data["findings"]`` maps
    goal id → findings; ``data["smart"]`` goal id → True when all five pass.
    """
    from kpitools.goals import check_smart, goal_sentence

    sec = Section(title=text("nb01.check.title", lang), lang=lang)
    if not goals:
        sec.skipped = text("nb01.check.none", lang)
        return sec
    rows, findings_by_goal = [], {}
    for goal in goals:
        known = (history or {}).get(goal.kpi_id)
        one_step = goal.baseline_period in (None, _previous_label(goal, client))
        data = known if known is not None and one_step else client
        findings = check_smart(goal, data, lang=lang, strategy=client.strategy)
        findings_by_goal[goal.goal_id] = findings
        row = {"goal_id": goal.goal_id, "goal": goal_sentence(goal, lang)}
        row.update({f.criterion: text(f"nb01.check.status.{f.status}", lang) for f in findings})
        rows.append(row)
        sec.notes.extend(f"{goal.goal_id} · {f.label(lang)}: {f.message} {f.suggestion}".strip()
                         for f in findings if f.status != "pass")
    table = pd.DataFrame(rows)
    sec.tables.append(("", localize_columns(table, "smart", lang)))
    if not sec.notes:
        sec.notes.append(text("nb01.check.all_pass", lang))
    sec.data["findings"] = findings_by_goal
    sec.data["smart"] = {g: smart_status(f) == "pass" for g, f in findings_by_goal.items()}
    return sec


def goal_entries(goals: Sequence[Any], check: Section | None = None) -> list[dict[str, Any]]:
    """The goals as ``metrics.json`` entries (goal_id, kpi, target, baseline, period, smart)."""
    smart = (check.data.get("smart") if check is not None else None) or {}
    return [{"goal_id": g.goal_id, "kpi": g.kpi_id, "target": g.target,
             "baseline": g.baseline, "baseline_period": g.baseline_period,
             "period": g.period, "owner": g.owner, "smart": smart.get(g.goal_id)}
            for g in goals]


def smart_status(findings: Iterable[Any]) -> str:
    """``pass`` when every criterion passed, ``fail`` when any failed, else ``warn``."""
    statuses = {f.status for f in findings}
    return "fail" if "fail" in statuses else "warn" if "warn" in statuses else "pass"


# --------------------------------------------------------------------------- export


def export_goals(goals: Iterable[Any], client_dir: str | os.PathLike[str], *,
                 overwrite: bool = False, lang: str = "zh-TW") -> Path:
    """Write the agreed goals to ``<client_dir>/goals.yaml`` atomically.

    An existing file is kept unless ``overwrite`` is True; it is then first copied to
    ``goals.bak.yaml``. The new file is written beside the old one and moved into place, so a
    reader never sees half a file.

    Raises
    ------
    KpitoolsError
        When the folder does not exist, or the file exists and ``overwrite`` is False.
    """
    from kpitools.goals import write_goals

    folder = Path(client_dir)
    if not folder.is_dir():
        raise KpitoolsError(f"cannot save goals: folder {str(folder)!r} does not exist.\n"
                            "Hint: pass the client folder that holds client.yml.")
    target = folder / GOALS_FILE
    if target.exists() and not overwrite:
        raise KpitoolsError(f"{target} already exists; the goals were not saved.\n"
                            "Hint: set overwrite_goals = True to replace it (a copy is kept "
                            f"as {BACKUP_FILE}).")
    handle, tmp_name = tempfile.mkstemp(prefix=".goals-", suffix=".yaml", dir=folder)
    os.close(handle)
    try:
        write_goals(list(goals), tmp_name, lang=lang)
        if target.exists():
            shutil.copy2(target, folder / BACKUP_FILE)
        os.replace(tmp_name, target)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
    return target


def export_section(goals: Sequence[Any], client: Any, lang: str = "zh-TW", *,
                   save: bool = False, overwrite: bool = False) -> Section:
    """Save the agreed goals when asked (``save``); say where, or why not, in ``lang``.

    A refusal (file exists, ``overwrite`` False) is a message, not an exception.
    ``data["path"]`` is the file written, or None.
    """
    from kpitools.goals import goals_to_frame

    sec = Section(title=text("nb01.export.title", lang), lang=lang)
    sec.data["path"] = None
    if goals:
        frame = goals_to_frame(goals, lang)
        sec.tables.append(("", localize_columns(frame, "goals", lang)))
    if not save:
        sec.notes.append(text("nb01.export.not_saved", lang, file=GOALS_FILE))
        return sec
    try:
        path = export_goals(goals, client.path, overwrite=overwrite, lang=lang)
    except KpitoolsError as exc:
        sec.notes.append(str(exc).replace("\nHint:", " —"))
        return sec
    sec.data["path"] = path
    sec.notes.append(text("nb01.export.saved", lang, n=len(goals), path=str(path)))
    return sec


# --------------------------------------------------------------------------- widget


class GoalBuilder(Panel):
    """The workshop's goal builder: KPI, baseline (from data), target, period, owner → SMART.

    Changing any control re-runs :func:`kpitools.goals.check_smart`; ``result`` is then the
    findings list and ``goal`` the goal as set. **Add** appends the goal to ``agreed``;
    **Save** writes ``agreed`` with :func:`export_goals` (``overwrite`` box unchecked = refuse
    an existing file).
    """

    def __init__(self, client: Any, period: str, lang: str = "zh-TW",
                 kpi_ids: Sequence[str] = (), agreed: Sequence[Any] = ()) -> None:
        import ipywidgets as widgets

        from kpitools.catalog import list_kpis

        super().__init__(text("nb01.builder.title", lang))
        self.client, self.lang = client, lang
        p = report_period(period, client)
        self.period = p
        offered = list(dict.fromkeys([*kpi_ids, *(k.id for k in list_kpis(
            business_model=client.business_model) if all(client.has(t) for t in k.tables))]))
        if not offered:
            raise KpitoolsError(f"client {client.slug!r} has no table any catalog KPI needs.\n"
                                "Hint: check client.yml's tables: section.")
        self.agreed: list[Any] = list(agreed)
        self.goal: Any = None
        self._history: dict[str, pd.Series] = {}
        self._baseline: dict[tuple[str, str], float | None] = {}
        self._quiet = False
        style = {"description_width": "8em"}
        self.controls = {
            "kpi": widgets.Dropdown(options=[(kpi_label(k, lang), k) for k in offered],
                                    value=offered[0], description=text("nb01.builder.kpi", lang),
                                    style=style),
            "baseline": widgets.HTML(),
            "target": widgets.FloatText(description=text("nb01.builder.target", lang),
                                        style=style),
            "period": widgets.Dropdown(
                options=[(period_label(q, lang), q.label) for q in (p, p.shift(1), p.shift(2))],
                value=p.label, description=text("nb01.builder.period", lang), style=style),
            "owner": widgets.Text(value=text("nb01.builder.default_owner", lang),
                                  description=text("nb01.builder.owner", lang), style=style),
        }
        self.add_button = widgets.Button(description=text("nb01.builder.add", lang),
                                         button_style="success")
        self.save_button = widgets.Button(description=text("nb01.builder.save", lang))
        self.overwrite = widgets.Checkbox(value=False,
                                          description=text("nb01.builder.overwrite", lang))
        self.agreed_html = widgets.HTML()
        self.save_status = widgets.HTML()
        self.add_button.on_click(lambda _b: self.add())
        self.save_button.on_click(lambda _b: self.save())
        self._set_target_from_baseline()
        self._wire()
        self._show_agreed()

    # -- behaviour
    def _baseline_for(self, kpi_id: str) -> float | None:
        from kpitools.catalog import compute_kpi

        base = report_period(self.controls["period"].value, self.client).previous()
        key = (kpi_id, base.label)
        if key not in self._baseline:
            self._baseline[key] = _safe_kpi(compute_kpi, kpi_id, self.client, base.label)
        return self._baseline[key]

    def _history_for(self, kpi_id: str) -> pd.Series | None:
        from kpitools.catalog import kpi_series

        if kpi_id not in self._history:
            last = self.period.previous()
            try:
                self._history[kpi_id] = kpi_series(kpi_id, self.client, freq="Q",
                                                   start=last.shift(1 - HISTORY_QUARTERS).label,
                                                   end=last.label)
            except KpitoolsError:
                return None
        return self._history[kpi_id]

    def _set_target_from_baseline(self) -> None:
        base = self._baseline_for(self.controls["kpi"].value)
        sign = -1.0 if _direction(self.controls["kpi"].value) == "lower" else 1.0
        self._quiet = True
        try:
            self.controls["target"].value = round(base * (1 + sign * DEFAULT_CHANGE), 4) \
                if base is not None else 0.0
        finally:
            self._quiet = False

    def _changed(self, change: Mapping[str, Any] | None = None) -> None:
        if self._quiet:
            return
        if change is not None and change.get("owner") in (self.controls["kpi"],
                                                          self.controls["period"]):
            self._set_target_from_baseline()
        super()._changed(change)

    def refresh(self) -> None:
        from kpitools.goals import Goal, check_smart, findings_frame

        kpi = self.controls["kpi"].value
        base = self._baseline_for(kpi)
        prev = report_period(self.controls["period"].value, self.client).previous()
        unit = kpi_unit(kpi)
        self.controls["baseline"].value = text(
            "nb01.builder.baseline", self.lang, period=period_label(prev, self.lang),
            value=fmt_value(base, unit, self.lang, currency=self.client.currency))
        self.goal = Goal(goal_id=f"g{len(self.agreed) + 1}", kpi=kpi,
                         target=float(self.controls["target"].value),
                         baseline=base, baseline_period=prev.label if base is not None else None,
                         period=self.controls["period"].value,
                         owner=self.controls["owner"].value.strip() or None,
                         direction=_direction(kpi))
        history = self._history_for(kpi) if self.controls["period"].value == self.period.label \
            else None
        data = history if history is not None else self.client
        self.result = check_smart(self.goal, data, lang=self.lang, strategy=self.client.strategy)
        frame = localize_columns(findings_frame(self.result, self.lang), "findings", self.lang)
        verdict = text(f"nb01.builder.verdict.{smart_status(self.result)}", self.lang)
        self.output.value = f"<p><b>{html.escape(verdict)}</b></p>{frame_html(frame)}"

    def apply_text(self, sentence: str, reference_date: Any = None) -> Any:
        """Fill the controls from a goal sentence (「2024年第四季把贏單率提高到10%，由業務部負責」).

        Reads it with :func:`kpitools.goals.parse.parse_goal` for this client; sets the KPI (if
        offered), period (if offered), owner and target (a change is applied to the baseline),
        then re-checks. Returns the parsed sentence, whose ``missing`` says what it lacked.
        """
        from kpitools.goals.parse import parse_goal

        parsed = parse_goal(sentence, data=self.client, reference_date=reference_date)
        c = self.controls
        self._quiet = True
        try:
            if parsed.kpi in [v for _label, v in c["kpi"].options]:
                c["kpi"].value = parsed.kpi
            if parsed.period in [v for _label, v in c["period"].options]:
                c["period"].value = parsed.period
            if parsed.owner:
                c["owner"].value = parsed.owner
        finally:
            self._quiet = False
        base = self._baseline_for(c["kpi"].value)
        goal = parsed.to_goal()
        target = goal.resolved_target(base)
        if target is not None:
            self._quiet = True
            try:
                c["target"].value = round(float(target), 4)
            finally:
                self._quiet = False
        self._changed()
        return parsed

    def add(self) -> None:
        """Append the current goal to ``agreed`` (replacing one on the same KPI and period)."""
        if self.goal is None or self.error:
            return
        kept = [g for g in self.agreed
                if not (g.kpi_id == self.goal.kpi_id and g.period == self.goal.period)]
        self.agreed = [*kept, self.goal]
        self.agreed = [g.replace(goal_id=f"g{i}") for i, g in enumerate(self.agreed, 1)]
        self._show_agreed()
        self._changed()

    def save(self) -> Path | None:
        """Write ``agreed`` to the client folder; the status line says what happened."""
        try:
            path = export_goals(self.agreed, self.client.path, overwrite=self.overwrite.value,
                                lang=self.lang)
        except KpitoolsError as exc:
            self.save_status.value = f"⚠ {html.escape(str(exc).split(chr(10))[0])}"
            return None
        self.save_status.value = html.escape(text("nb01.export.saved", self.lang,
                                                  n=len(self.agreed), path=str(path)))
        return path

    def _show_agreed(self) -> None:
        from kpitools.goals import goal_sentence

        if not self.agreed:
            self.agreed_html.value = f"<i>{html.escape(text('nb01.builder.none', self.lang))}</i>"
            return
        items = "".join(f"<li>{html.escape(goal_sentence(g, self.lang))}</li>"
                        for g in self.agreed)
        self.agreed_html.value = (f"<b>{html.escape(text('nb01.builder.agreed', self.lang))}"
                                  f"</b><ol>{items}</ol>")

    @property
    def widget(self) -> Any:
        import ipywidgets as widgets

        box = super().widget
        buttons = widgets.HBox([self.add_button, self.save_button, self.overwrite])
        return widgets.VBox([*box.children, buttons, self.agreed_html, self.save_status])


# --------------------------------------------------------------------------- helpers


def _direction(kpi_id: str) -> str:
    from kpitools.catalog import get_kpi

    try:
        return get_kpi(kpi_id).direction
    except KpitoolsError:
        return "higher"


def _safe_kpi(compute: Any, kpi_id: str, client: Any, period: str) -> float | None:
    """The KPI's value, or None when the client lacks its data or it is undefined."""
    try:
        value = compute(kpi_id, client, period)
    except KpitoolsError:
        return None
    return None if value is None or pd.isna(value) else float(value)


def _previous_label(goal: Any, client: Any) -> str | None:
    if not goal.period:
        return None
    try:
        return report_period(goal.period, client).previous().label
    except KpitoolsError:
        return None


def _quarterly_change(series: pd.Series, unit: str) -> pd.Series:
    """Quarter-on-quarter change: points for rates, relative change for everything else."""
    if unit == "rate":
        return series.diff()
    change = series / series.shift(1) - 1.0
    return change.replace([float("inf"), float("-inf")], float("nan"))


def _change_text(change: float, unit: str, lang: str) -> str:
    if unit == "rate":
        return fmt_delta(change, lang, unit="rate")
    return fmt_pct(change, lang, signed=True)
