"""The goal model: one SMART goal on one KPI, read from and written to YAML, CSV and client.yml.

A :class:`Goal` says which business objective it serves, which KPI measures it (a catalog id such as
``new_customers``, or a :class:`CustomMetric` with its own definition and data source), for which
scope, from which baseline to which target, in which direction, by when and who owns it. The target
is either an absolute value (``target``) or a change from the baseline (``target_change``, a
fraction: ``0.10`` means +10 %). The same fields are the columns of the canonical ``goals`` table
(``kpitools/schemas/tables.yaml``) and the keys of a client's ``goals:`` list in ``client.yml``.

This module also holds the two small pieces every goals module shares: the bilingual text lookup
(:func:`text`, reading ``texts.yaml``) and access to the KPI catalog (:func:`resolve_catalog`), so
that functions accept ``catalog=`` and tests can pass a stand-in.

Examples
--------
>>> g = goal_from_dict({"goal_id": "g1", "kpi": "new_customers", "baseline": 40,
...                     "target_change": "10%", "period": "2024Q1"})
>>> round(g.resolved_target(), 6), g.required_change()
(44.0, 0.1)
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from kpitools._errors import KpitoolsError, did_you_mean
from kpitools._packageyaml import package_yaml

__all__ = [
    "DIRECTIONS",
    "LANGS",
    "CustomMetric",
    "Goal",
    "goal_from_dict",
    "goals_from_client",
    "goals_from_frame",
    "goals_to_frame",
    "read_goals",
    "resolve_catalog",
    "text",
    "write_goals",
]

LANGS = ("zh-TW", "en")
DIRECTIONS = ("higher", "lower")
_HERE = Path(__file__).parent
#: Columns written to a goals CSV, canonical ones first (schemas/tables.yaml ``goals``), then the
#: optional extras this model understands.
CSV_COLUMNS = (
    "goal_id", "kpi", "target", "period", "direction", "baseline", "baseline_period", "owner",
    "strategy", "objective", "scope", "target_change", "deadline", "kpi_definition",
    "kpi_data_source", "objective_en", "target_delta", "scope_kind", "start", "text",
)
#: Keys of ``Goal.extra`` that goal sentences produce and a goals CSV keeps.
_EXTRA_COLUMNS = ("scope_kind", "start", "text")
_PERCENT = 100.0


# ---------------------------------------------------------------- text lookup (texts.yaml)
@cache
def _texts() -> dict[str, Any]:
    return package_yaml((_HERE / "texts.yaml").read_text(encoding="utf-8"))


def check_lang(lang: str) -> str:
    """Return ``lang`` if it is ``"zh-TW"`` or ``"en"``; raise :class:`KpitoolsError` otherwise."""
    if lang not in LANGS:
        raise KpitoolsError(f"unknown language {lang!r}.\nHint: use one of {list(LANGS)}.")
    return lang


def text(key: str, lang: str = "zh-TW", **values: Any) -> str:
    """The user-facing text ``group.key`` of ``kpitools/goals/texts.yaml`` in ``lang``, formatted.

    >>> text("smart.criterion.time_bound", "en")
    'Time-bound'
    """
    check_lang(lang)
    node: Any = _texts()
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise KpitoolsError(f"no text {key!r} in kpitools/goals/texts.yaml.\n"
                                "Hint: this is a bug in kpitools; please report it.")
        node = node[part]
    return str(node[lang]).format(**values) if values else str(node[lang])


def pick(value: Mapping[str, str] | str | None, lang: str) -> str:
    """One language out of a ``{zh-TW: ..., en: ...}`` mapping (plain strings pass through)."""
    if value is None:
        return ""
    if isinstance(value, Mapping):
        return str(value.get(lang) or value.get("en") or next(iter(value.values()), ""))
    return str(value)


# ---------------------------------------------------------------- catalog access
def resolve_catalog(catalog: Any = None) -> Any:
    """The catalog to use: ``catalog`` when given (any object with ``get_kpi``, ``list_kpis``,
    ``compute_kpi``, ``kpi_series`` and ``strategy_label``), else :mod:`kpitools.catalog`."""
    if catalog is not None:
        return catalog
    import kpitools.catalog as real

    return real


def available_tables(data: Any) -> set[str] | None:
    """Names of the tables a client (or a dict of tables) holds; None when ``data`` is None."""
    if data is None:
        return None
    tables = data if isinstance(data, Mapping) else getattr(data, "tables", None)
    if not isinstance(tables, Mapping):
        return None
    return {name for name, t in tables.items() if t is not None}


# ---------------------------------------------------------------- the model
@dataclass(frozen=True)
class CustomMetric:
    """A metric outside the catalog: it must say what it measures and where the numbers come from.

    ``name`` and ``definition`` may be plain text or ``{zh-TW: ..., en: ...}``.
    """

    name: Mapping[str, str] | str
    definition: Mapping[str, str] | str | None = None
    data_source: str | None = None
    unit: str | None = None
    direction: str | None = None

    def name_for(self, lang: str = "zh-TW") -> str:
        return pick(self.name, lang)

    def to_dict(self) -> dict[str, Any]:
        out = {"name": _plain(self.name), "definition": _plain(self.definition),
               "data_source": self.data_source, "unit": self.unit, "direction": self.direction}
        return {k: v for k, v in out.items() if v is not None}


@dataclass(frozen=True)
class Goal:
    """One goal on one KPI.

    Attributes
    ----------
    goal_id : str
    objective : dict or str or None
        The business goal it serves, e.g. ``{"zh-TW": "拓展新客戶", "en": "Win new customers"}``;
        for a vague goal, its original wording.
    kpi : str or CustomMetric or None
        A catalog KPI id or a custom metric. None for a goal not yet tied to a metric.
    scope : str or None
        Segment the goal covers (``"B2B customers"``); None or ``"all"`` means the whole business.
    baseline, baseline_period
        Where the KPI stands now, and in which period that was measured (``"2023Q4"``).
    target, target_change, target_delta
        Absolute target, or change from the baseline as a fraction (0.10 = +10 %, −0.2 = −20 %),
        or change in the KPI's own units (+0.03 = three percentage points on a rate, +50 new
        customers on a count).
    direction : {"higher", "lower"} or None
        Which way is better; None = take it from the catalog.
    period, deadline
        The period the goal is measured over (``"2024Q1"``) and/or a due date (``"2024-03-31"``).
    owner, strategy
        Who is accountable (Doran's *assignable*) and which strategy id it serves.
    """

    goal_id: str = "goal"
    kpi: str | CustomMetric | None = None
    objective: Mapping[str, str] | str | None = None
    scope: str | None = None
    baseline: float | None = None
    baseline_period: str | None = None
    target: float | None = None
    target_change: float | None = None
    target_delta: float | None = None
    direction: str | None = None
    period: str | None = None
    deadline: str | None = None
    owner: str | None = None
    strategy: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def kpi_id(self) -> str | None:
        """The catalog id, or None for a custom metric or a goal without a KPI."""
        return self.kpi if isinstance(self.kpi, str) else None

    def objective_for(self, lang: str = "zh-TW") -> str:
        return pick(self.objective, lang)

    def resolved_target(self, baseline: float | None = None) -> float | None:
        """``target`` if given, else ``baseline × (1 + target_change)`` or ``baseline +
        target_delta``; None if neither is known.

        ``baseline`` overrides the goal's own baseline (e.g. one measured from the data).
        """
        if self.target is not None:
            return self.target
        base = self.baseline if baseline is None else baseline
        if base is None:
            return None
        if self.target_change is not None:
            return base * (1.0 + self.target_change)
        if self.target_delta is not None:
            return base + self.target_delta
        return None

    def required_change(self, baseline: float | None = None) -> float | None:
        """Relative change the goal asks for, ``target ÷ baseline − 1`` (None if unknown or
        the baseline is zero)."""
        if self.target is None and self.target_change is not None:
            return self.target_change
        base = self.baseline if baseline is None else baseline
        target = self.resolved_target(base)
        if target is None or base is None or base == 0:
            return None
        return target / base - 1.0

    def replace(self, **changes: Any) -> Goal:
        """A copy with some fields changed (goals are immutable)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return Goal(**values)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for YAML (``None`` fields left out)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "extra":
                out.update(dict(value))
                continue
            if isinstance(value, CustomMetric):
                value = value.to_dict()
            elif isinstance(value, Mapping):
                value = dict(value)
            if value is not None:
                out[f.name] = value
        return out


def _plain(value: Any) -> Any:
    return dict(value) if isinstance(value, Mapping) else value


def _number(name: str, value: Any, goal_id: str) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        s = value.strip().replace(",", "")
        if s == "":
            return None
        if s.endswith("%"):
            try:
                return float(s[:-1]) / _PERCENT
            except ValueError:
                pass
        try:
            return float(s)
        except ValueError:
            pass
        raise KpitoolsError(
            f"goal {goal_id!r}: {name} must be a number, got {value!r}.\n"
            "Hint: write 40 or 1200000 (no units); a change from the baseline as 0.1 or '10%'."
        )
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise KpitoolsError(f"goal {goal_id!r}: {name} must be a number, got {value!r}.\n"
                            "Hint: write plain numbers such as 40 or 0.08.") from exc


def _text_or_none(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    s = str(value).strip()
    return s or None


_GOAL_KEYS = {f.name for f in fields(Goal)} - {"extra"}


def goal_from_dict(raw: Mapping[str, Any], *, index: int | None = None, context: Any = None,
                   reference_date: Any = None) -> Goal:
    """Build a :class:`Goal` from a dict (a ``client.yml`` entry, a YAML item or a CSV row).

    ``kpi`` may be an id or a mapping ``{name, definition, data_source, unit, direction}`` for a
    custom metric; a CSV row may instead carry ``kpi_definition`` / ``kpi_data_source`` columns.
    ``target_change`` accepts ``0.1`` or ``"10%"``. Unknown keys are kept in ``Goal.extra``.

    A goal may also be written as a sentence (``text: 2024Q4 把贏單率提高到10%，由業務部負責``):
    :func:`kpitools.goals.parse.parse_goal` fills every field the entry does not give itself
    (``context``: the client, so that the KPI suits its business model and tables;
    ``reference_date``, or the entry's own ``reference_date:``, anchors relative deadlines such as
    「三個月內」; write it in client.yml so the goal does not move each time it is read).
    """
    if not isinstance(raw, Mapping):
        raise KpitoolsError(f"a goal must be a mapping of fields, got {type(raw).__name__}.\n"
                            "Hint: write each goal as {goal_id: g1, kpi: new_customers, ...}.")
    data = {str(k).strip(): v for k, v in raw.items()}
    sentence = _text_or_none(data.get("text"))
    if sentence is not None:
        from kpitools.goals.parse import parse_goal

        when = reference_date if reference_date is not None else data.get("reference_date")
        parsed = parse_goal(sentence, data=context, reference_date=when)
        for key, value in parsed.to_goal().to_dict().items():
            if key != "goal_id" and data.get(key) is None:
                data[key] = value
    goal_id = _text_or_none(data.get("goal_id") or data.get("id")) or (
        f"g{index + 1}" if index is not None else "goal")
    kpi: Any = data.get("kpi")
    definition = _text_or_none(data.get("kpi_definition"))
    source = _text_or_none(data.get("kpi_data_source"))
    if isinstance(kpi, Mapping):
        kpi = CustomMetric(name=_plain(kpi.get("name") or kpi.get("id") or "custom"),
                           definition=_plain(kpi.get("definition")),
                           data_source=_text_or_none(kpi.get("data_source")),
                           unit=_text_or_none(kpi.get("unit")),
                           direction=_text_or_none(kpi.get("direction")))
    else:
        kpi = _text_or_none(kpi)
        if kpi is not None and (definition or source):
            kpi = CustomMetric(name=kpi, definition=definition, data_source=source)
    direction = _text_or_none(data.get("direction"))
    if direction is not None and direction not in DIRECTIONS:
        guess = {"up": "higher", "increase": "higher", "down": "lower", "decrease": "lower",
                 "越高越好": "higher", "越低越好": "lower"}.get(direction.lower(), direction)
        if guess not in DIRECTIONS:
            close = did_you_mean(direction, DIRECTIONS)
            hint = f"did you mean {close!r}?" if close else "'higher' means more is better."
            raise KpitoolsError(
                f"goal {goal_id!r}: direction must be 'higher' or 'lower', got {direction!r}.\n"
                f"Hint: {hint}"
            )
        direction = guess
    objective: Any = data.get("objective")
    if isinstance(objective, Mapping):
        objective = {str(k): str(v) for k, v in objective.items()}
    else:
        objective = _text_or_none(objective)
        en = _text_or_none(data.get("objective_en"))
        if objective and en:
            objective = {"zh-TW": objective, "en": en}
    period = data.get("period")
    return Goal(
        goal_id=goal_id,
        kpi=kpi,
        objective=objective,
        scope=_text_or_none(data.get("scope")),
        baseline=_number("baseline", data.get("baseline"), goal_id),
        baseline_period=_text_or_none(data.get("baseline_period")),
        target=_number("target", data.get("target"), goal_id),
        target_change=_number("target_change", data.get("target_change"), goal_id),
        target_delta=_number("target_delta", data.get("target_delta"), goal_id),
        direction=direction,
        period=_text_or_none(period),
        deadline=_text_or_none(data.get("deadline")),
        owner=_text_or_none(data.get("owner")),
        strategy=_text_or_none(data.get("strategy")),
        extra={k: v for k, v in data.items()
               if k not in _GOAL_KEYS and k not in ("id", "kpi_definition", "kpi_data_source",
                                                    "objective_en")},
    )


def _as_goal(item: Goal | Mapping[str, Any], index: int, context: Any = None) -> Goal:
    return item if isinstance(item, Goal) else goal_from_dict(item, index=index, context=context)


def as_goals(goals: Iterable[Goal | Mapping[str, Any]] | Goal | Mapping[str, Any],
             context: Any = None) -> list[Goal]:
    """A list of goals from one goal, a list of goals/dicts, or a goals DataFrame.

    ``context`` (the client) is used to read goals written as sentences (``text:``)."""
    if isinstance(goals, pd.DataFrame):
        return goals_from_frame(goals)
    if isinstance(goals, Goal | Mapping):
        return [_as_goal(goals, 0, context)]
    return [_as_goal(g, i, context) for i, g in enumerate(goals)]


# ---------------------------------------------------------------- tables and files
@cache
def _aliases() -> dict[str, str]:
    contract = package_yaml((_HERE.parent / "schemas" / "tables.yaml").read_text("utf-8"))
    out: dict[str, str] = {}
    for name, spec in contract["goals"]["columns"].items():
        out[name.lower()] = name
        for alias in spec.get("aliases", []):
            out[str(alias).strip().lower()] = name
    return out


def goals_from_frame(frame: pd.DataFrame) -> list[Goal]:
    """Goals from a ``goals`` table; headers may be any alias listed in schemas/tables.yaml."""
    aliases = _aliases()
    renamed = frame.rename(columns=lambda c: aliases.get(str(c).strip().lower(), str(c).strip()))
    records = renamed.astype(object).where(renamed.notna(), None).to_dict("records")
    return [goal_from_dict(r, index=i) for i, r in enumerate(records)]


def goals_to_frame(goals: Iterable[Goal | Mapping[str, Any]], lang: str = "zh-TW") -> pd.DataFrame:
    """The canonical ``goals`` table (plus the optional extra columns that are used).

    A bilingual objective is written in ``lang`` with the English text in ``objective_en``; a
    custom metric is written as its name with ``kpi_definition`` / ``kpi_data_source``.
    """
    rows = []
    for g in as_goals(goals):
        row: dict[str, Any] = {c: None for c in CSV_COLUMNS}
        row.update({k: getattr(g, k) for k in _GOAL_KEYS})
        row.update({k: g.extra.get(k) for k in _EXTRA_COLUMNS if k in g.extra})
        if isinstance(g.kpi, CustomMetric):
            row["kpi"] = g.kpi.name_for(lang)
            row["kpi_definition"] = pick(g.kpi.definition, lang) or None
            row["kpi_data_source"] = g.kpi.data_source
        if isinstance(g.objective, Mapping):
            row["objective"] = pick(g.objective, lang)
            row["objective_en"] = pick(g.objective, "en") if lang != "en" else None
        rows.append(row)
    frame = pd.DataFrame(rows, columns=list(CSV_COLUMNS))
    used = [c for c in CSV_COLUMNS if c in CSV_COLUMNS[:11] or frame[c].notna().any()]
    return frame[used]


def read_goals(path: str | Path) -> list[Goal]:
    """Read goals from a ``.yaml``/``.yml`` file (a list, or a mapping with ``goals:``, e.g. a
    client.yml) or a ``.csv`` file (the ``goals`` table, UTF-8 with or without BOM)."""
    p = Path(path)
    if not p.exists():
        raise KpitoolsError(f"goals file {str(p)!r} does not exist.\n"
                            "Hint: check the path, or write goals with kpitools.goals.write_goals.")
    suffix = p.suffix.lower()
    if suffix in (".yaml", ".yml"):
        from kpitools.io._yaml import load_client_yaml

        raw = load_client_yaml(p)  # safe types only; anchors and aliases refused
        if isinstance(raw, Mapping):
            raw = raw.get("goals") or []
        if not isinstance(raw, list):
            raise KpitoolsError(f"{p.name}: expected a list of goals, got {type(raw).__name__}.\n"
                                "Hint: start each goal with '- goal_id: ...'.")
        return [goal_from_dict(r, index=i) for i, r in enumerate(raw)]
    if suffix == ".csv":
        frame = pd.read_csv(p, encoding="utf-8-sig", dtype=str, keep_default_na=False)
        frame = frame.replace("", None)
        return goals_from_frame(frame)
    raise KpitoolsError(f"cannot read goals from {p.name!r}: unknown file type {suffix!r}.\n"
                        "Hint: use a .yaml or .csv file.")


def write_goals(goals: Iterable[Goal | Mapping[str, Any]], path: str | Path,
                lang: str = "zh-TW") -> Path:
    """Write goals as YAML (a ``goals:`` list, both languages kept) or CSV (the goals table)."""
    p = Path(path)
    items = as_goals(goals)
    suffix = p.suffix.lower()
    if suffix in (".yaml", ".yml"):
        body = yaml.safe_dump({"goals": [g.to_dict() for g in items]}, allow_unicode=True,
                              sort_keys=False)
        p.write_text(body, encoding="utf-8")
    elif suffix == ".csv":
        # utf-8-sig so that Excel on Windows (common in Taiwanese offices) shows the Chinese text.
        goals_to_frame(items, lang).to_csv(p, index=False, encoding="utf-8-sig",
                                           quoting=csv.QUOTE_MINIMAL)
    else:
        raise KpitoolsError(f"cannot write goals to {p.name!r}: unknown file type {suffix!r}.\n"
                            "Hint: use a .yaml or .csv file.")
    return p


def goals_from_client(client: Any) -> list[Goal]:
    """The goals listed in a client's ``client.yml`` (``goals:``).

    ``client`` may be a loaded client (anything with ``.goals`` or ``.config``), a client folder,
    a path to client.yml, or the parsed client.yml dict.
    """
    if isinstance(client, str | Path):
        p = Path(client)
        p = p / "client.yml" if p.is_dir() else p
        return read_goals(p)
    if isinstance(client, Mapping):
        raw = client.get("goals") or []
    else:
        raw = getattr(client, "goals", None)
        if raw is None:
            raw = (getattr(client, "config", None) or {}).get("goals") or []
        return [_as_goal(r, i, client) for i, r in enumerate(raw)]
    return [_as_goal(r, i) for i, r in enumerate(raw)]
