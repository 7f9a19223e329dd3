"""Notebook 01 (SMART goals): strategy → recommended KPIs → history → SMART goals → goals file.

The section functions compute what the notebook shows for one client, period and language;
:class:`GoalBuilder` is the live goal-setting widget of the workshop; :func:`export_goals`
writes the agreed goals into the client folder, never silently over an existing file.

``period`` is the period the goals are *for* (e.g. ``"2024Q4"``); baselines and history are
measured up to the quarter before it, which is what a team knows when it sets the goal.
"""

from __future__ import annotations

import contextlib
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
                   save: bool = False, overwrite: bool = False,
                   interactive: bool = False) -> Section:
    """Save the agreed goals when asked (``save``); say where, or why not, in ``lang``.

    A refusal (file exists, ``overwrite`` False) is a message, not an exception.
    ``data["path"]`` is the file written, or None. With ``interactive`` (the live workshop)
    the note points to the goal builder instead of the notebook's parameters.
    """
    from kpitools.goals import goals_to_frame

    sec = Section(title=text("nb01.export.title", lang), lang=lang)
    sec.data["path"] = None
    if goals:
        frame = goals_to_frame(goals, lang)
        sec.tables.append(("", localize_columns(frame, "goals", lang)))
    if not save:
        key = "nb01.export.use_builder" if interactive else "nb01.export.not_saved"
        sec.notes.append(text(key, lang, file=GOALS_FILE))
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
    """The workshop's goal builder: KPI, baseline (from data), target, deadline, owner → SMART.

    Every control keeps its own value: choosing another KPI shows the target typed for that KPI
    before (or a proposal from its baseline when none was typed), and changing the deadline or
    the owner changes nothing else. Targets are typed in the KPI's unit (rates in %, money with
    separators; see :mod:`kpitools.workshop._inputs`). The baseline is always the last quarter
    the team knows, the one before ``period``, whatever deadline is chosen.

    **Add** appends the goal to ``agreed`` (a goal without a target is refused). **Save** only
    asks (:meth:`ask_save`); **Confirm** writes ``agreed`` with :func:`export_goals`, atomically,
    keeping the previous file as ``goals.bak.yaml`` (:meth:`confirm_save`). A goal whose target
    is 0 is only saved when that 0 was typed.
    """

    def __init__(self, client: Any, period: str, lang: str = "zh-TW",
                 kpi_ids: Sequence[str] = (), agreed: Sequence[Any] = ()) -> None:
        import ipywidgets as widgets

        from kpitools.catalog import list_kpis

        super().__init__(text("nb01.builder.title", lang))
        self.client, self.lang = client, lang
        p = report_period(period, client)
        self.period = p
        self.baseline_period = p.previous()
        offered = list(dict.fromkeys([*kpi_ids, *(k.id for k in list_kpis(
            business_model=client.business_model)
            if all(client.has(t) for t in k.tables) and not k.needs)]))
        if not offered:
            raise KpitoolsError(f"client {client.slug!r} has no table any catalog KPI needs.\n"
                                "Hint: check client.yml's tables: section.")
        self.agreed: list[Any] = list(agreed)
        self.goal: Any = None
        self.target_value: float | None = None
        self._history: dict[str, pd.Series] = {}
        self._baseline: dict[str, float | None] = {}
        #: Text of the target box per KPI, and the KPIs whose text the user typed.
        self._targets: dict[str, str] = {}
        self._typed: set[str] = set()
        #: (kpi, period) of agreed goals whose target of 0 was typed by the user.
        self._typed_zero: set[tuple[str | None, str | None]] = set()
        self._quiet = False
        first = self._default_kpi(offered)
        style = {"description_width": "8em"}
        self.controls = {
            "kpi": widgets.Dropdown(options=[(kpi_label(k, lang), k) for k in offered],
                                    value=first, description=text("nb01.builder.kpi", lang),
                                    style=style),
            "baseline": widgets.HTML(),
            "target": widgets.Text(description=text("nb01.builder.target", lang),
                                   continuous_update=False, style=style),
            "period": widgets.Dropdown(
                options=[(period_label(q, lang), q.label) for q in (p, p.shift(1), p.shift(2))],
                value=p.label, description=text("nb01.builder.period", lang), style=style),
            "owner": widgets.Text(value=text("nb01.builder.default_owner", lang),
                                  description=text("nb01.builder.owner", lang),
                                  continuous_update=False, style=style),
        }
        self.unit_label = widgets.HTML()
        self.add_button = widgets.Button(description=text("nb01.builder.add", lang),
                                         button_style="success")
        self.save_button = widgets.Button(description=text("nb01.builder.save", lang))
        self.confirm_text = widgets.HTML()
        self.confirm_button = widgets.Button(description=text("nb01.builder.confirm", lang),
                                             button_style="warning")
        self.cancel_button = widgets.Button(description=text("nb01.builder.cancel", lang))
        self.confirm_box = widgets.VBox(
            [self.confirm_text, widgets.HBox([self.confirm_button, self.cancel_button])],
            layout=widgets.Layout(display="none"))
        self.agreed_html = widgets.HTML()
        self.save_status = widgets.HTML()
        self.add_button.on_click(lambda _b: self.add())
        self.save_button.on_click(lambda _b: self.ask_save())
        self.confirm_button.on_click(lambda _b: self.confirm_save())
        self.cancel_button.on_click(lambda _b: self.cancel_save())
        self._show_target(first)
        self._wire()
        self._show_agreed()

    # -- state
    @property
    def asking(self) -> bool:
        """True while the confirmation to save is shown."""
        return self.confirm_box.layout.display != "none"

    def _default_kpi(self, offered: Sequence[str]) -> str:
        """The first offered KPI that is better higher and has a positive baseline.

        A negative or lower-is-better KPI (net MRR churn, bounce rate) is a poor first example
        of a target; it stays in the list for those who choose it.
        """
        for kpi in offered:
            base = self._baseline_for(kpi)
            if _direction(kpi) == "higher" and base is not None and base > 0:
                return kpi
        return offered[0]

    def _baseline_for(self, kpi_id: str) -> float | None:
        from kpitools.catalog import compute_kpi

        if kpi_id not in self._baseline:
            self._baseline[kpi_id] = _safe_kpi(compute_kpi, kpi_id, self.client,
                                               self.baseline_period.label)
        return self._baseline[kpi_id]

    def _history_for(self, kpi_id: str) -> pd.Series | None:
        from kpitools.catalog import kpi_series

        if kpi_id not in self._history:
            last = self.baseline_period
            try:
                self._history[kpi_id] = kpi_series(kpi_id, self.client, freq="Q",
                                                   start=last.shift(1 - HISTORY_QUARTERS).label,
                                                   end=last.label)
            except KpitoolsError:
                return None
        return self._history[kpi_id]

    def proposal(self, kpi_id: str) -> float | None:
        """The target offered for ``kpi_id`` before anyone types one: the baseline moved
        :data:`DEFAULT_CHANGE` of its size in the good direction (None without a baseline)."""
        base = self._baseline_for(kpi_id)
        if base is None or base == 0:
            return None
        sign = -1.0 if _direction(kpi_id) == "lower" else 1.0
        return base + sign * DEFAULT_CHANGE * abs(base)

    def _show_target(self, kpi_id: str) -> None:
        """Put ``kpi_id``'s own target text into the box (typed before, else the proposal)."""
        from kpitools.workshop._inputs import input_text, unit_suffix

        unit = kpi_unit(kpi_id)
        if kpi_id not in self._targets:
            self._targets[kpi_id] = input_text(self.proposal(kpi_id), unit)
        self._quiet = True
        try:
            self.controls["target"].value = self._targets[kpi_id]
            self.controls["target"].placeholder = text("nb01.builder.placeholder", self.lang,
                                                       example=input_text(
                                                           0.25 if unit in ("rate", "percent")
                                                           else 1_000_000, unit))
        finally:
            self._quiet = False
        self.unit_label.value = html.escape(unit_suffix(unit, self.lang, self.client.currency))

    def _changed(self, change: Mapping[str, Any] | None = None) -> None:
        if self._quiet:
            return
        owner = change.get("owner") if change is not None else None
        if owner is self.controls["kpi"]:
            self._show_target(change["new"])
        elif owner is self.controls["target"]:
            kpi = self.controls["kpi"].value
            self._targets[kpi] = str(change["new"])
            self._typed.add(kpi)
        super()._changed(change)

    def refresh(self) -> None:
        from kpitools.goals import Goal, check_smart, findings_frame
        from kpitools.workshop._inputs import input_text, parse_number

        kpi = self.controls["kpi"].value
        base = self._baseline_for(kpi)
        unit = kpi_unit(kpi)
        currency = self.client.currency
        self.controls["baseline"].value = text(
            "nb01.builder.baseline", self.lang, period=period_label(self.baseline_period,
                                                                    self.lang),
            value=html.escape(fmt_value(base, unit, self.lang, currency=currency,
                                        digits=2 if _small_rate(base, unit) else None)))
        self.goal, self.result, self.target_value = None, None, None
        self.add_button.disabled = True
        raw = self.controls["target"].value
        try:
            target = parse_number(raw, unit)
        except KpitoolsError:
            example = input_text(0.25 if unit in ("rate", "percent") else 1_000_000, unit)
            raise KpitoolsError(text("nb01.builder.not_a_number", self.lang, value=raw.strip(),
                                     example=example)) from None
        if target is None:
            self.output.value = f"<p>{html.escape(text('nb01.builder.need_target', self.lang))}</p>"
            return
        self.target_value = target
        self.goal = Goal(goal_id=f"g{len(self.agreed) + 1}", kpi=kpi, target=target,
                         baseline=base,
                         baseline_period=self.baseline_period.label if base is not None else None,
                         period=self.controls["period"].value,
                         owner=self.controls["owner"].value.strip() or None,
                         direction=_direction(kpi))
        history = self._history_for(kpi)
        data = history if history is not None else self.client
        self.result = check_smart(self.goal, data, lang=self.lang, strategy=self.client.strategy)
        self.add_button.disabled = False
        frame = localize_columns(findings_frame(self.result, self.lang), "findings", self.lang)
        verdict = text(f"nb01.builder.verdict.{smart_status(self.result)}", self.lang)
        parts = [f"<p><b>{html.escape(verdict)}</b></p>",
                 f"<p>{html.escape(target_sentence(target, base, unit, self.lang, currency))}</p>"]
        hint = _percent_hint(target, base, unit, self.lang)
        if hint:
            parts.append(f'<p class="kpitools-hint">{html.escape(hint)}</p>')
        self.output.value = "".join(parts) + frame_html(frame)

    def apply_text(self, sentence: str, reference_date: Any = None) -> Any:
        """Fill the controls from a goal sentence (「2024年第四季把贏單率提高到10%，由業務部負責」).

        Reads it with :func:`kpitools.goals.parse.parse_goal` for this client; sets the KPI (if
        offered), period (if offered), owner and target (a change is applied to the baseline);
        the target then counts as typed. Returns the parsed sentence, whose ``missing`` says what
        it lacked.
        """
        from kpitools.goals.parse import parse_goal
        from kpitools.workshop._inputs import input_text

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
        kpi = c["kpi"].value
        target = parsed.to_goal().resolved_target(self._baseline_for(kpi))
        if target is not None:
            self._targets[kpi] = input_text(float(target), kpi_unit(kpi))
            self._typed.add(kpi)
        self._show_target(kpi)
        self._changed()
        return parsed

    def use_agreed(self, goals: Sequence[Any]) -> None:
        """Start from ``goals`` (e.g. the client's goals as saved when the page opened)."""
        self.agreed = list(goals)
        self._show_agreed()
        self._changed()

    # -- actions
    def add(self) -> None:
        """Append the current goal to ``agreed`` (replacing one on the same KPI and period)."""
        if self.goal is None or self.error:
            self.save_status.value = html.escape(text("nb01.builder.need_target", self.lang))
            return
        key = (self.goal.kpi_id, self.goal.period)
        if self.goal.target == 0 and self.goal.kpi_id in self._typed:
            self._typed_zero.add(key)
        kept = [g for g in self.agreed if (g.kpi_id, g.period) != key]
        self.agreed = [*kept, self.goal]
        self.agreed = [g.replace(goal_id=f"g{i}") for i, g in enumerate(self.agreed, 1)]
        self.save_status.value = ""
        self._show_agreed()
        self._changed()

    def _unsaveable(self) -> list[str]:
        """Ids of agreed goals that must not be written: no target, or a 0 nobody typed."""
        bad = []
        for g in self.agreed:
            target = g.resolved_target(g.baseline)
            if target is None or (target == 0 and (g.kpi_id, g.period) not in self._typed_zero):
                bad.append(g.goal_id)
        return bad

    def ask_save(self) -> bool:
        """Show what saving will do and the Confirm / Cancel buttons; False when refused."""
        if not self.agreed:
            self.save_status.value = html.escape(text("nb01.builder.nothing", self.lang))
            return False
        bad = self._unsaveable()
        if bad:
            self.save_status.value = "⚠ " + html.escape(text(
                "nb01.builder.refuse_zero", self.lang, goals=", ".join(bad)))
            return False
        exists = (Path(self.client.path) / GOALS_FILE).exists()
        key = "confirm_replace" if exists else "confirm_new"
        self.confirm_text.value = html.escape(text(
            f"nb01.builder.{key}", self.lang, n=len(self.agreed), file=GOALS_FILE,
            backup=BACKUP_FILE, folder=Path(self.client.path).name))
        self.confirm_box.layout.display = None
        self.save_status.value = ""
        return True

    def cancel_save(self) -> None:
        """Hide the confirmation; nothing is written."""
        self.confirm_box.layout.display = "none"
        self.save_status.value = html.escape(text("nb01.builder.cancelled", self.lang))

    def confirm_save(self) -> Path | None:
        """Write ``agreed`` (atomically, previous file kept as backup); say what happened."""
        if not self.asking:
            return None
        self.confirm_box.layout.display = "none"
        if self._unsaveable() or not self.agreed:
            self.ask_save()  # says why, and does not ask again
            self.confirm_box.layout.display = "none"
            return None
        try:
            path = export_goals(self.agreed, self.client.path, overwrite=True, lang=self.lang)
        except (KpitoolsError, OSError) as exc:
            self.save_status.value = f"⚠ {html.escape(str(exc).split(chr(10))[0])}"
            return None
        self.save_status.value = html.escape(text(
            "nb01.builder.saved", self.lang, n=len(self.agreed), file=GOALS_FILE,
            folder=Path(self.client.path).name))
        return path

    def _show_agreed(self) -> None:
        if not self.agreed:
            self.agreed_html.value = f"<i>{html.escape(text('nb01.builder.none', self.lang))}</i>"
            return
        items = "".join(f"<li>{html.escape(goal_line(g, self.lang, self.client.currency))}</li>"
                        for g in self.agreed)
        self.agreed_html.value = (f"<b>{html.escape(text('nb01.builder.agreed', self.lang))}"
                                  f"</b><ol class='kpitools-agreed'>{items}</ol>")

    @property
    def widget(self) -> Any:
        import ipywidgets as widgets

        head = widgets.HTML(f"<h4>{html.escape(self.title)}</h4>")
        c = self.controls
        target_row = widgets.HBox([c["target"], self.unit_label])
        buttons = widgets.HBox([self.add_button, self.save_button])
        return widgets.VBox([head, c["kpi"], c["baseline"], target_row, c["period"], c["owner"],
                             self.output, buttons, self.confirm_box, self.agreed_html,
                             self.save_status], _dom_classes=["kpitools-goal-builder"])


def target_sentence(target: float, baseline: float | None, unit: str, lang: str,
                    currency: str = "TWD") -> str:
    """「目標 25.0%，基準 22.1%，差 +2.9 個百分點」: the target against the baseline, in units."""
    small = unit in ("rate", "percent") and min(abs(target), abs(baseline or target)) < 0.01
    digits = 2 if small else None
    shown = fmt_value(target, unit, lang, currency=currency, digits=digits)
    if baseline is None:
        return text("nb01.builder.target_only", lang, target=shown)
    if unit in ("rate", "percent"):
        change = fmt_delta(target - baseline, lang, unit="rate", digits=digits)
    elif baseline > 0:
        change = fmt_pct(target / baseline - 1.0, lang, signed=True)
    else:  # a relative change of a negative or zero baseline reads backwards: give the difference
        change = fmt_delta(target - baseline, lang, unit=unit, currency=currency)
    return text("nb01.builder.target_vs", lang, target=shown,
                baseline=fmt_value(baseline, unit, lang, currency=currency, digits=digits),
                change=change)


def goal_line(goal: Any, lang: str, currency: str = "TWD") -> str:
    """One agreed goal as the client reads it: KPI, target in its unit, deadline, owner."""
    kpi = goal.kpi_id
    unit = kpi_unit(kpi) if kpi else "count"
    target = goal.resolved_target(goal.baseline)
    period = goal.period
    with_period = period
    if period:
        with contextlib.suppress(KpitoolsError):
            with_period = period_label(period, lang)
    return text("nb01.builder.goal_line", lang,
                kpi=kpi_label(kpi, lang) if kpi else goal.objective_for(lang),
                target=fmt_value(target, unit, lang, currency=currency),
                period=with_period or "—", owner=goal.owner or "—")


def _small_rate(value: float | None, unit: str) -> bool:
    """A rate under 1 % (shown with two decimals, so -0.28 % does not read as -0.3 %)."""
    return unit in ("rate", "percent") and value is not None and abs(value) < 0.01


def _percent_hint(target: float, baseline: float | None, unit: str, lang: str) -> str | None:
    """A reminder when a rate target looks typed as a fraction (0.25 for 25 %)."""
    if unit not in ("rate", "percent") or baseline is None:
        return None
    if 0 < abs(target) < 0.01 <= abs(baseline) * 0.2:
        return text("nb01.builder.percent_hint", lang, typed=fmt_pct(target, lang, 2),
                    meant=fmt_pct(target * 100, lang, 1),
                    example=f"{target * 100 * 100:g}")
    return None


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
