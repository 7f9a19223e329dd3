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

import copy
import functools
import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from importlib import resources
from pathlib import Path, PureWindowsPath
from typing import Any

import pandas as pd

from kpitools._errors import DataValidationError, KpitoolsError, Problem, did_you_mean
from kpitools._packageyaml import package_yaml
from kpitools.io._dates import check_date_format
from kpitools.io._numbers import check_decimal
from kpitools.io._presets import get_preset
from kpitools.io._shapes import SHAPE_OPTIONS, Shape
from kpitools.io._yaml import ClientYamlError, load_client_yaml
from kpitools.io.loaders import _load
from kpitools.schemas._contract import table_names

__all__ = ["CONFIG_FILE", "Client", "check_client", "load_client"]

#: The file that describes a client folder.
CONFIG_FILE = "client.yml"
#: Goals agreed in a workshop (notebook 01) are saved beside client.yml and take precedence.
GOALS_FILE = "goals.yaml"
#: Options a table entry of client.yml may set (shapes and policies of real exports: _shapes.py;
#: value conventions: date_format, decimal, currency).
TABLE_OPTIONS = (
    "file",
    "sheet",
    "header_row",
    "encoding",
    "preset",
    "columns",
    "date_format",
    "decimal",
    "currency",
    *SHAPE_OPTIONS,
)
# A table may also list several files of the same layout: {files: [{file: a.csv}, {file: b.csv}]}.
#: Report languages.
LANGUAGES = ("zh-TW", "en")
MONTHS_IN_YEAR = 12
#: Fields every goal in client.yml needs.
GOAL_FIELDS = ("kpi", "target", "period")
#: Top-level settings of client.yml that kpitools reads.
CONFIG_KEYS = (
    "name",
    "business_model",
    "strategy",
    "currency",
    "language",
    "fiscal_year_start_month",
    "funnel_stages",
    "goals",
    "labels",
    "tables",
)
#: Goal fields that must be numbers when given (``target`` is checked on its own).
GOAL_NUMBERS = ("baseline", "target_change")


@functools.cache
def _catalog_ids(file_name: str) -> tuple[str, ...]:
    text = resources.files("kpitools.catalog").joinpath(file_name).read_text("utf-8")
    return tuple(package_yaml(text) or {})


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
        agreed = _agreed_goals_file(self.path)
        if agreed is not None:
            try:
                raw = load_client_yaml(agreed)
            except ClientYamlError as exc:
                raise KpitoolsError(f"{GOALS_FILE}: {exc}") from None
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
    folder = Path(client_dir)
    digest = _digest(folder)
    key = str(folder.resolve())
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
    if hit is not None and digest is not None and hit[0] == digest:
        return _copy(hit[1], folder)
    config, tables, problems = _read_client(folder)
    if any(p.severity == "error" for ps in problems.values() for p in ps):
        raise DataValidationError({k: v for k, v in problems.items() if v})
    warnings = {k: [p for p in v if p.severity == "warning"] for k, v in problems.items()}
    client = Client(folder, config, tables, {k: v for k, v in warnings.items() if v})
    if digest is not None:
        with _CACHE_LOCK:
            _CACHE[key] = (digest, _copy(client, folder))
            _CACHE.move_to_end(key)
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
    return client


# ------------------------------------------------------------------------------ client cache
# A report batch loads the same client for each of its quarters, and reading and validating the
# files (Excel above all) is most of a small client's report time. So load_client keeps the last
# few clients of this process, keyed by the folder and a digest of the bytes of every file in it:
# any edit, added or removed file reads the client again. Each caller gets its own Client with
# its own config and table objects (copy-on-write copies), so changing one changes no other.
_CACHE: OrderedDict[str, tuple[bytes, Client]] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 4
_COW = int(pd.__version__.split(".")[0]) >= 3


def _digest(folder: Path) -> bytes | None:
    """A digest of the names and bytes of every file under ``folder``; None if unreadable."""
    try:
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        h = hashlib.blake2b(digest_size=32)
        for path in files:
            h.update(path.relative_to(folder).as_posix().encode("utf-8") + b"\0")
            h.update(path.read_bytes())
            h.update(b"\0")
        return h.digest()
    except OSError:
        return None


def _cache_entry(client_dir: str | Path) -> tuple[str, tuple[bytes, Client]] | None:
    """The cache's entry for ``client_dir`` (key, (digest, client)), or None. With
    :func:`_cache_put` it lets a process that loaded clients hand them to another
    (:mod:`kpitools._forkkernel` loads them in a child while the server imports)."""
    key = str(Path(client_dir).resolve())
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
    return None if hit is None else (key, hit)


def _cache_put(key: str, entry: tuple[bytes, Client]) -> None:
    """Put an entry from :func:`_cache_entry` (of another process) into this process's cache."""
    with _CACHE_LOCK:
        _CACHE[key] = entry
        _CACHE.move_to_end(key)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)


def _copy(client: Client, folder: Path) -> Client:
    tables = {name: frame.copy(deep=not _COW) for name, frame in client.tables.items()}
    for name, frame in tables.items():
        frame.attrs = copy.deepcopy(client.tables[name].attrs)
    return Client(folder, copy.deepcopy(client.config), tables,
                  copy.deepcopy(client.warnings))


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
    goals_problems = _check_goals_file(folder)
    if goals_problems is not None:
        problems[GOALS_FILE] = goals_problems
    loaded: dict[str, list[pd.DataFrame | None]] = {}
    for name, entry, path in _table_entries(config, folder, config_problems):
        label = str(entry["file"])
        if label in problems:
            label = f"{label} ({name})"
        frame, found = _load(
            name,
            path,
            preset=entry.get("preset"),
            columns=entry.get("columns"),
            encoding=entry.get("encoding") or "auto",
            sheet=entry.get("sheet"),
            header_row=entry.get("header_row"),
            options={k: entry[k] for k in SHAPE_OPTIONS if k in entry},
            date_format=entry.get("date_format") or "auto",
            decimal=entry.get("decimal") or "auto",
            currency=entry.get("currency"),
            client_currency=config.get("currency"),
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
    outside = _outside_problem(folder, CONFIG_FILE, CONFIG_FILE)
    if outside is not None:
        problems.append(outside)
        return None
    try:
        config = load_client_yaml(path)
    except ClientYamlError as exc:
        problems.append(Problem(exc.problem, hint=exc.hint))
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


def _outside_problem(folder: Path, relative: str, where: str) -> Problem | None:
    """A problem when ``folder/relative`` is absolute or resolves outside ``folder``."""
    hint = (
        "files of a client live inside its folder: copy the file into the client folder and "
        "name it relative to it, e.g. file: orders.csv."
    )
    if Path(relative).is_absolute() or PureWindowsPath(relative).is_absolute():
        return Problem(f"{where}: '{relative}' is an absolute path", hint=hint)
    root = folder.resolve()
    resolved = (folder / relative).resolve()
    if resolved == root or not resolved.is_relative_to(root):
        how = "through a symbolic link " if _has_symlink(folder, relative) else ""
        return Problem(f"{where}: '{relative}' points {how}outside the client folder", hint=hint)
    return None


def _has_symlink(folder: Path, relative: str) -> bool:
    current = folder
    for part in Path(relative).parts:
        current = current / part
        if current.is_symlink():
            return True
    return False


def _agreed_goals_file(folder: Path) -> Path | None:
    """``goals.yaml`` of the folder when it is a regular file inside the folder, else None."""
    path = folder / GOALS_FILE
    if not path.is_file() or _outside_problem(folder, GOALS_FILE, GOALS_FILE) is not None:
        return None
    return path


def _check_goals_file(folder: Path) -> list[Problem] | None:
    """Problems of ``goals.yaml`` (None when the folder has none)."""
    path = folder / GOALS_FILE
    if not path.exists() and not path.is_symlink():
        return None
    outside = _outside_problem(folder, GOALS_FILE, GOALS_FILE)
    if outside is not None:
        return [outside]
    if not path.is_file():
        return [
            Problem(
                f"{GOALS_FILE} is not a regular file",
                hint="remove it, or save the goals again from the workshop (notebook 01).",
            )
        ]
    try:
        raw = load_client_yaml(path)
    except ClientYamlError as exc:
        return [Problem(exc.problem, hint=exc.hint)]
    goals = raw.get("goals") if isinstance(raw, dict) else raw
    return _check_goals(goals)


def _unknown(what: str, value: object, choices: tuple[str, ...] | list[str], hint: str) -> Problem:
    guess = did_you_mean(str(value), list(choices))
    also = f" (did you mean '{guess}'?)" if guess else ""
    return Problem(f"unknown {what} '{value}'{also}. Known: {list(choices)}", hint=hint)


def _check_config(config: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    for key in config:
        if key not in CONFIG_KEYS:
            guess = did_you_mean(str(key), CONFIG_KEYS)
            also = f" (did you mean '{guess}'?)" if guess else ""
            problems.append(
                Problem(
                    f"unknown setting '{key}'{also}; it is ignored",
                    hint=f"client.yml settings are {list(CONFIG_KEYS)}.",
                    severity="warning",
                )
            )
    problems.extend(_check_name(config.get("name")))
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
    currency = config.get("currency", "TWD")
    if not (isinstance(currency, str) and re.fullmatch(r"[A-Za-z]{3}", currency)):
        problems.append(
            Problem(
                f"currency must be a three-letter ISO 4217 code, got {currency!r}",
                hint="write currency: TWD (or USD, JPY, …), not a symbol such as NT$.",
            )
        )
    stages = config.get("funnel_stages")
    if isinstance(stages, list) and not all(isinstance(s, str) and s.strip() for s in stages):
        problems.append(
            Problem(
                "funnel_stages must list stage names (text), in funnel order",
                hint="write funnel_stages: [lead, qualified, proposal, won].",
            )
        )
    elif isinstance(stages, list) and len(set(stages)) != len(stages):
        problems.append(
            Problem(
                "funnel_stages lists a stage twice",
                hint="each stage appears once, in funnel order.",
            )
        )
    if stages is not None and not isinstance(stages, list):
        problems.append(
            Problem(
                "funnel_stages must be a list of stage names",
                hint="write funnel_stages: [lead, qualified, proposal, won].",
            )
        )
    problems.extend(_check_goals(config.get("goals"), config.get("business_model")))
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


def _check_name(name: object) -> list[Problem]:
    hint = "write name: {zh-TW: 公司名稱, en: Company name} in client.yml."
    if not name:
        return [Problem("missing 'name'", hint=hint.replace("write", "add"))]
    if isinstance(name, str):
        return []
    if not isinstance(name, dict):
        return [Problem(f"name must be text or one text per language, got {name!r}", hint=hint)]
    problems = []
    for key, value in name.items():
        if key not in LANGUAGES:
            problems.append(_unknown("language in name", key, LANGUAGES, hint))
        elif not isinstance(value, str | int | float) or isinstance(value, bool):
            problems.append(Problem(f"name: {key}: must be text", hint=hint))
    return problems


def _check_goal_semantics(goal: dict[str, Any], who: str) -> list[Problem]:
    """What the report checks when it builds a goal: known KPI, direction, numbers."""
    from kpitools.catalog import list_kpis
    from kpitools.goals.model import goal_from_dict

    problems: list[Problem] = []
    kpi = goal.get("kpi")
    custom = isinstance(kpi, dict) or goal.get("kpi_definition") or goal.get("kpi_data_source")
    if isinstance(kpi, str) and not custom:
        ids = [k.id for k in list_kpis()]
        if kpi not in ids:
            guess = did_you_mean(kpi, ids)
            also = f" (did you mean '{guess}'?)" if guess else ""
            problems.append(
                Problem(
                    f"{who}: unknown KPI '{kpi}'{also}",
                    hint="use a KPI id from `kpitools kpis`, or describe a custom metric with "
                    "kpi: {name: …, definition: …}.",
                )
            )
    # The report builds each goal with goal_from_dict; each field is tried on its own, so every
    # problem of the goal is listed, not only the first.
    for key in ("direction", *GOAL_NUMBERS):
        if goal.get(key) is None:
            continue
        try:
            goal_from_dict({"goal_id": goal.get("goal_id"), key: goal[key]})
        except KpitoolsError as exc:
            message, _, hint = str(exc).partition("\nHint: ")
            problems.append(Problem(f"{who}: {message.split(': ', 1)[-1]}", hint=hint or None))
    return problems


def _unread_in_text(goal: dict[str, Any], business_model: object) -> list[str]:
    """Fields a goal written as a sentence (``text:``) still lacks after reading the sentence."""
    from kpitools.goals.parse import parse_goal

    parsed = parse_goal(str(goal["text"]), business_model=business_model if isinstance(
        business_model, str) else None, reference_date=goal.get("reference_date"))
    read = {"kpi": parsed.kpi, "period": parsed.period or parsed.deadline,
            "target": next((v for v in (parsed.target, parsed.target_change, parsed.target_delta)
                            if v is not None), None)}
    return [f for f in GOAL_FIELDS if goal.get(f) is None and read.get(f) is None]


def _check_goals(goals: object, business_model: object = None) -> list[Problem]:
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
        if goal.get("text") and missing:
            missing = _unread_in_text(goal, business_model)
        if missing:
            problems.append(
                Problem(
                    f"{who}: missing {missing}",
                    hint="every goal needs kpi, target and period (e.g. period: 2024Q4), given "
                    "as fields or in its text: sentence.",
                )
            )
        if goal.get("target") is not None and not isinstance(goal["target"], int | float):
            problems.append(
                Problem(
                    f"{who}: target must be a number, got {goal['target']!r}",
                    hint="write targets as plain numbers (0.05 for 5%).",
                )
            )
        problems.extend(_check_goal_semantics(goal, who))
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
    """Yield (table, entry, resolved path) for every usable table entry; report unusable ones."""
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
    """Yield (table, entry, resolved path) when one file entry is usable; report it otherwise.

    The path must stay inside the client folder once every ``..`` and symlink is resolved;
    a file outside it is refused before a single byte is read, so nothing of it can appear in
    a message.
    """
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
    outside = _outside_problem(folder, str(entry["file"]), f"tables: {name}")
    if outside is not None:
        problems.append(outside)
        return
    path = (folder / str(entry["file"])).resolve()
    if path.exists() and not path.is_file():
        kind = "a folder" if path.is_dir() else "not a regular file (a device, pipe or socket)"
        problems.append(
            Problem(
                f"tables: {name}: '{entry['file']}' is {kind}, not a data file",
                hint="file: names one exported table inside the client folder, "
                "e.g. orders.csv or deals.xlsx.",
            )
        )
        return
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
    try:
        preset = get_preset(str(entry["preset"]), name) if entry.get("preset") else None
        given = {k: entry[k] for k in SHAPE_OPTIONS if k in entry}
        Shape.from_options(given, name, preset.policies if preset else {})
        check_date_format(entry.get("date_format"))
        check_decimal(entry.get("decimal"))
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
    yield name, entry, path
