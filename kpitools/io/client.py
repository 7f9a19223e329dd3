"""A client folder: ``client.yml`` plus the files it names, loaded and validated together.

``client.yml`` says who the client is (name, business model, strategy, goals…) and which file
holds each canonical table, with per-file options::

    tables:
      contracts: {file: contracts.csv}
      deals: {file: deals.xlsx, sheet: 商機, header_row: 3}
      orders: {file: pos_export.csv, encoding: auto, preset: null, columns: {客戶: customer_id}}

:func:`load_client` reads every file, gathers the problems of *all* of them (and of client.yml
itself) and raises one :class:`~kpitools.DataValidationError`; :func:`check_client` returns the
same problems without raising, for ``kpitools check-data``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from kpitools._errors import DataValidationError, KpitoolsError, Problem, did_you_mean
from kpitools.io._presets import get_preset
from kpitools.io.loaders import _load
from kpitools.schemas._contract import table_names

__all__ = ["CONFIG_FILE", "Client", "check_client", "load_client"]

#: The file that describes a client folder.
CONFIG_FILE = "client.yml"
#: Goals agreed in a workshop (notebook 01) are saved beside client.yml and take precedence.
GOALS_FILE = "goals.yaml"
#: Options a table entry of client.yml may set.
TABLE_OPTIONS = ("file", "sheet", "header_row", "encoding", "preset", "columns")
# A table may also list several files of the same layout: {files: [{file: a.csv}, {file: b.csv}]}.
#: Report languages.
LANGUAGES = ("zh-TW", "en")
MONTHS_IN_YEAR = 12
#: Fields every goal in client.yml needs.
GOAL_FIELDS = ("kpi", "target", "period")


@functools.cache
def _catalog_ids(file_name: str) -> tuple[str, ...]:
    text = resources.files("kpitools.catalog").joinpath(file_name).read_text("utf-8")
    return tuple(yaml.safe_load(text) or {})


class Client:
    """One client's configuration and validated canonical tables.

    Attributes
    ----------
    path : pathlib.Path
        The client folder.
    slug : str
        The folder name, used in file names of reports.
    config : dict
        client.yml as read.
    tables : dict[str, pandas.DataFrame]
        Canonical table name → validated frame.
    warnings : dict[str, list[Problem]]
        File label → suspicious-but-usable findings (future dates, extreme amounts).
    """

    def __init__(
        self,
        path: Path,
        config: dict[str, Any],
        tables: dict[str, pd.DataFrame],
        warnings: dict[str, list[Problem]] | None = None,
    ) -> None:
        self.path = Path(path)
        self.slug = self.path.name
        self.config = config
        self.tables = tables
        self.warnings = warnings or {}

    def has(self, name: str) -> bool:
        """True when the client has the canonical table ``name``."""
        return name in self.tables

    def __contains__(self, name: object) -> bool:
        return name in self.tables

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self.tables:
            raise KpitoolsError(
                f"client '{self.slug}' has no '{name}' table. Tables: {sorted(self.tables)}\n"
                f"Hint: add it to {CONFIG_FILE} under tables: (e.g. {name}: {{file: {name}.csv}})."
            )
        return self.tables[name]

    def name_for(self, lang: str = "zh-TW") -> str:
        """The client's name in ``lang`` ("zh-TW" or "en"), falling back to the other one."""
        name = self.config.get("name", self.slug)
        if isinstance(name, Mapping):
            for key in (lang, *LANGUAGES):
                if name.get(key):
                    return str(name[key])
            return self.slug
        return str(name)

    @property
    def business_model(self) -> str | None:
        return self.config.get("business_model")

    @property
    def strategy(self) -> list[str]:
        value = self.config.get("strategy") or []
        return [value] if isinstance(value, str) else list(value)

    @property
    def goals(self) -> list[dict[str, Any]]:
        """The client's goals, as plain dicts.

        In order of precedence: ``goals.yaml`` beside client.yml (the goals agreed in the latest
        workshop, written by notebook 01 / ``kpitools.workshop.goals_widgets.export_goals``),
        the ``goals:`` list of client.yml, then a ``goals`` table file.
        """
        agreed = self.path / GOALS_FILE
        if agreed.is_file():
            raw = yaml.safe_load(agreed.read_text(encoding="utf-8"))
            raw = raw.get("goals") if isinstance(raw, dict) else raw
            if isinstance(raw, list) and raw:
                return [dict(g) for g in raw if isinstance(g, dict)]
        if self.config.get("goals"):
            return [dict(g) for g in self.config["goals"]]
        if "goals" in self.tables:
            return self.tables["goals"].to_dict("records")
        return []

    @property
    def currency(self) -> str:
        return str(self.config.get("currency", "TWD"))

    @property
    def language(self) -> str:
        return str(self.config.get("language", "zh-TW"))

    @property
    def fiscal_year_start_month(self) -> int:
        return int(self.config.get("fiscal_year_start_month", 1))

    @property
    def funnel_stages(self) -> list[str]:
        return [str(s) for s in self.config.get("funnel_stages") or []]

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={len(v)}" for k, v in self.tables.items())
        return f"Client({self.slug!r}, {self.business_model}, tables: {sizes or 'none'})"


def load_client(client_dir: str | Path) -> Client:
    """Read ``client_dir/client.yml`` and load every table it lists.

    Raises one DataValidationError listing the problems of every file (and of client.yml)
    when any file has an error. Warnings do not raise; they are in ``client.warnings``.

    Examples
    --------
    >>> client = load_client("data/sample/cloudledger")  # doctest: +SKIP
    >>> client["contracts"].head()  # doctest: +SKIP
    """
    config, tables, problems = _read_client(Path(client_dir))
    if any(p.severity == "error" for ps in problems.values() for p in ps):
        raise DataValidationError({k: v for k, v in problems.items() if v})
    warnings = {k: [p for p in v if p.severity == "warning"] for k, v in problems.items()}
    return Client(Path(client_dir), config, tables, {k: v for k, v in warnings.items() if v})


def check_client(client_dir: str | Path) -> dict[str, list[Problem]]:
    """Every problem of a client folder, by file label; never raises for data problems.

    Every file named in client.yml appears as a key, with an empty list when it is clean.
    """
    _, _, problems = _read_client(Path(client_dir))
    return problems


def _read_client(
    folder: Path,
) -> tuple[dict[str, Any], dict[str, pd.DataFrame], dict[str, list[Problem]]]:
    problems: dict[str, list[Problem]] = {CONFIG_FILE: []}
    config_problems = problems[CONFIG_FILE]
    config = _read_config(folder, config_problems)
    tables: dict[str, pd.DataFrame] = {}
    if config is None:
        return {}, tables, problems
    config_problems.extend(_check_config(config))
    loaded: dict[str, list[pd.DataFrame | None]] = {}
    for name, entry in _table_entries(config, folder, config_problems):
        label = str(entry["file"])
        if label in problems:
            label = f"{label} ({name})"
        frame, found = _load(
            name,
            folder / str(entry["file"]),
            preset=entry.get("preset"),
            columns=entry.get("columns"),
            encoding=entry.get("encoding") or "auto",
            sheet=entry.get("sheet"),
            header_row=entry.get("header_row"),
        )
        problems[label] = found
        ok = frame is not None and not any(p.severity == "error" for p in found)
        loaded.setdefault(name, []).append(frame if ok else None)
    for name, frames in loaded.items():
        if any(f is None for f in frames):
            continue
        if len(frames) == 1:
            tables[name] = frames[0]
            continue
        combined, found = _combine(name, frames)
        if found:
            problems[f"{name} (all files)"] = found
        if not any(p.severity == "error" for p in found):
            tables[name] = combined
    return config, tables, problems


def _combine(name: str, frames: list[pd.DataFrame]) -> tuple[pd.DataFrame, list[Problem]]:
    """Stack the files of one table; ids that must be unique may not repeat across files."""
    from kpitools.schemas._contract import table_spec

    combined = pd.concat(frames, ignore_index=True)
    combined.attrs = {
        "kpitools_table": name,
        "kpitools_warnings": [w for f in frames for w in f.attrs.get("kpitools_warnings", [])],
    }
    problems: list[Problem] = []
    for column in table_spec(name).columns.values():
        if not column.unique:
            continue
        repeated = combined[column.name].dropna()
        repeated = repeated[repeated.duplicated()].unique().tolist()
        if repeated:
            problems.append(
                Problem(
                    f"{len(repeated)} ids appear in more than one file: {repeated[:5]}",
                    column=column.name,
                    hint=f"each {column.name} may appear only once across the files of {name}; "
                    "give each file its own id prefix.",
                )
            )
    return combined, problems


def _read_config(folder: Path, problems: list[Problem]) -> dict[str, Any] | None:
    path = folder / CONFIG_FILE
    if not folder.is_dir():
        problems.append(
            Problem(
                f"client folder not found: {str(folder)!r}",
                hint="give the folder that contains client.yml, e.g. data/sample/<client>.",
            )
        )
        return None
    if not path.is_file():
        problems.append(
            Problem(
                f"{CONFIG_FILE} not found in {str(folder)!r}",
                hint="create client.yml (name, business_model, tables: …); "
                "copy one from data/sample/ to start.",
            )
        )
        return None
    try:
        config = yaml.safe_load(path.read_text("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problems.append(
            Problem(
                f"is not valid YAML{where}: {getattr(exc, 'problem', None) or exc}",
                hint="check indentation and quotes; save the file as UTF-8.",
            )
        )
        return None
    if not isinstance(config, dict):
        problems.append(
            Problem(
                "must be a mapping of settings (name:, business_model:, tables: …)",
                hint="copy a client.yml from data/sample/ and edit it.",
            )
        )
        return None
    return config


def _unknown(what: str, value: object, choices: tuple[str, ...] | list[str], hint: str) -> Problem:
    guess = did_you_mean(str(value), list(choices))
    also = f" (did you mean '{guess}'?)" if guess else ""
    return Problem(f"unknown {what} '{value}'{also}. Known: {list(choices)}", hint=hint)


def _check_config(config: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    if not config.get("name"):
        problems.append(
            Problem(
                "missing 'name'",
                hint="add name: {zh-TW: 公司名稱, en: Company name} to client.yml.",
            )
        )
    models = _catalog_ids("business_models.yaml")
    model = config.get("business_model")
    if model is None:
        problems.append(
            Problem(
                "missing 'business_model'", hint=f"set business_model: to one of {list(models)}."
            )
        )
    elif model not in models:
        problems.append(
            _unknown(
                "business_model", model, models, f"set business_model: to one of {list(models)}."
            )
        )
    strategies = _catalog_ids("strategies.yaml")
    strategy = config.get("strategy") or []
    for item in [strategy] if isinstance(strategy, str) else list(strategy):
        if item not in strategies:
            problems.append(
                _unknown(
                    "strategy",
                    item,
                    strategies,
                    "strategy: lists ids from kpitools/catalog/strategies.yaml.",
                )
            )
    month = config.get("fiscal_year_start_month", 1)
    if not (isinstance(month, int) and 1 <= month <= MONTHS_IN_YEAR):
        problems.append(
            Problem(
                f"fiscal_year_start_month must be a month number 1-12, got {month!r}",
                hint="use 1 for a calendar fiscal year.",
            )
        )
    language = config.get("language", "zh-TW")
    if language not in LANGUAGES:
        problems.append(_unknown("language", language, LANGUAGES, "set language: to zh-TW or en."))
    stages = config.get("funnel_stages")
    if stages is not None and not isinstance(stages, list):
        problems.append(
            Problem(
                "funnel_stages must be a list of stage names",
                hint="write funnel_stages: [lead, qualified, proposal, won].",
            )
        )
    problems.extend(_check_goals(config.get("goals")))
    problems.extend(_check_labels(config.get("labels")))
    return problems


def _check_labels(labels: object) -> list[Problem]:
    """``labels: {channel: {cold_outbound: {zh-TW: 陌生開發, en: Cold outbound}}}``."""
    if labels is None:
        return []
    hint = ("write labels: {channel: {cold_outbound: {zh-TW: 陌生開發, en: Cold outbound}}} "
            "(kinds: channel, stage, tier, reason, product).")
    if not isinstance(labels, Mapping):
        return [Problem("labels must map a kind (channel, stage, …) to its values", hint=hint)]
    problems = []
    for kind, entries in labels.items():
        if not isinstance(entries, Mapping):
            problems.append(Problem(f"labels.{kind} must map each value to its names", hint=hint))
            continue
        for value, names in entries.items():
            ok = isinstance(names, str) or (
                isinstance(names, Mapping) and set(names) <= set(LANGUAGES)
                and all(isinstance(v, str) for v in names.values()))
            if not ok:
                problems.append(Problem(f"labels.{kind}.{value}: expected a name or "
                                        f"{{zh-TW: ..., en: ...}}, got {names!r}", hint=hint))
    return problems


def _check_goals(goals: object) -> list[Problem]:
    from kpitools._errors import PeriodError
    from kpitools.periods import parse_period

    if goals is None:
        return []
    if not isinstance(goals, list):
        return [Problem("goals must be a list", hint="write each goal as - {kpi: …, target: …}.")]
    problems: list[Problem] = []
    for i, goal in enumerate(goals, 1):
        if not isinstance(goal, dict):
            problems.append(Problem(f"goal {i} is not a mapping", hint="write each goal as - {…}."))
            continue
        who = f"goal {i}" + (f" ({goal['goal_id']})" if goal.get("goal_id") else "")
        missing = [f for f in GOAL_FIELDS if goal.get(f) is None]
        if missing:
            problems.append(
                Problem(
                    f"{who}: missing {missing}",
                    hint="every goal needs kpi, target and period (e.g. period: 2024Q4).",
                )
            )
        if goal.get("target") is not None and not isinstance(goal["target"], int | float):
            problems.append(
                Problem(
                    f"{who}: target must be a number, got {goal['target']!r}",
                    hint="write targets as plain numbers (0.05 for 5%).",
                )
            )
        for key in ("period", "baseline_period"):
            if goal.get(key) is None:
                continue
            try:
                parse_period(str(goal[key]))
            except PeriodError:
                problems.append(
                    Problem(
                        f"{who}: {key} {goal[key]!r} is not a period",
                        hint="write periods like 2024, 2024Q3, 2024-07 or 2024H2.",
                    )
                )
    return problems


def _table_entries(config: dict[str, Any], folder: Path, problems: list[Problem]):
    """Yield (table, entry) for every usable table entry; report unusable ones."""
    tables = config.get("tables")
    if tables is None:
        problems.append(
            Problem(
                "no tables: section",
                hint="list the client's files, e.g. tables: {orders: {file: orders.csv}}.",
            )
        )
        return
    if not isinstance(tables, dict):
        problems.append(
            Problem(
                "tables: must map table names to files",
                hint="write tables: {orders: {file: orders.csv}}.",
            )
        )
        return
    known = table_names()
    for name, entry in tables.items():
        if name not in known:
            problems.append(
                _unknown(
                    "table",
                    name,
                    known,
                    "table names under tables: are the canonical ones (see tables.yaml).",
                )
            )
            continue
        if isinstance(entry, dict) and isinstance(entry.get("files"), list):
            for part in entry["files"]:
                yield from _file_entry(name, part, folder, problems)
            continue
        yield from _file_entry(name, entry, folder, problems)


def _file_entry(name: str, entry: object, folder: Path, problems: list[Problem]):
    """Yield (table, entry) when one file entry is usable; report it otherwise."""
    if isinstance(entry, str):
        entry = {"file": entry}
    if not isinstance(entry, dict) or not entry.get("file"):
        problems.append(
            Problem(
                f"tables: {name}: has no file",
                hint=f"write tables: {{{name}: {{file: {name}.csv}}}}.",
            )
        )
        return
    extra = [k for k in entry if k not in TABLE_OPTIONS]
    if extra:
        problems.append(
            Problem(
                f"tables: {name}: unknown options {extra}. Options: {list(TABLE_OPTIONS)}",
                hint="check the spelling of the table options in client.yml.",
            )
        )
        return
    path = folder / str(entry["file"])
    if not path.is_file():
        files = sorted(p.name for p in folder.iterdir() if p.is_file())
        guess = did_you_mean(str(entry["file"]), files)
        also = f" (did you mean '{guess}'?)" if guess else ""
        problems.append(
            Problem(
                f"tables: {name}: file '{entry['file']}' not found{also}",
                hint="file: is relative to the client folder; check the name and extension.",
            )
        )
        return
    if entry.get("preset"):
        try:
            get_preset(str(entry["preset"]), name)
        except KpitoolsError as exc:
            message, _, hint = str(exc).partition("\nHint: ")
            problems.append(Problem(f"tables: {name}: {message}", hint=hint or None))
            return
    columns = entry.get("columns")
    if columns is not None and not isinstance(columns, dict):
        problems.append(
            Problem(
                f"tables: {name}: columns must map file headers to canonical columns",
                hint=f"write columns: {{客戶: customer_id}} under tables: {name}:.",
            )
        )
        return
    yield name, entry
