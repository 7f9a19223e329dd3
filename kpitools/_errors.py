"""Exceptions raised by kpitools.

Every error a user can trigger is a :class:`KpitoolsError` (a ``ValueError``), so a notebook or the
CLI can catch one type and show the message without a traceback. Messages say what is wrong, where,
what was expected, and end with a ``Hint:`` when there is an obvious fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "ArgumentError",
    "DataValidationError",
    "KpitoolsError",
    "ModelFitError",
    "PeriodError",
    "Problem",
    "UnknownKPIError",
]


class KpitoolsError(ValueError):
    """Base class of every error kpitools raises on purpose."""


class ArgumentError(KpitoolsError):
    """An argument a command cannot use (output folder, template, client folder name).

    The CLI reports it on one line and exits with 2, like click's own usage errors.
    """


class PeriodError(KpitoolsError):
    """A period string or frequency that kpitools cannot interpret."""


class UnknownKPIError(KpitoolsError):
    """A KPI id that is not in the catalog."""


class ModelFitError(KpitoolsError):
    """A model cannot be fitted on the data given (degenerate input, no convergence)."""


@dataclass(frozen=True)
class Problem:
    """One problem found in one file.

    ``rows`` are 1-based row numbers as a spreadsheet user sees them (header row = 1 unless the
    loader says otherwise); ``values`` are a few offending values, already truncated.
    """

    message: str
    column: str | None = None
    rows: tuple[int, ...] = ()
    values: tuple[object, ...] = ()
    hint: str | None = None
    severity: str = "error"  # "error" or "warning"

    def render(self) -> str:
        where = f"column '{self.column}': " if self.column else ""
        text = f"{where}{self.message}"
        if self.rows or self.values:
            pairs = []
            for i, row in enumerate(self.rows[:5]):
                value = self.values[i] if i < len(self.values) else None
                shown = _shorten(value)
                pairs.append(f"row {row}: {shown!r}" if value is not None else f"row {row}")
            if pairs:
                more = f", … {len(self.rows) - 5} more" if len(self.rows) > 5 else ""
                text += f" ({', '.join(pairs)}{more})"
        return text


#: Longest piece of a cell's text quoted in a message; enough to recognise it, no more.
MAX_VALUE_CHARS = 60


def _shorten(value: object) -> object:
    if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
        return f"{value[: MAX_VALUE_CHARS - 1]}…"
    return value


class DataValidationError(KpitoolsError):
    """Every problem found while loading one or more files, raised once.

    ``problems`` maps a file label (path or table name) to its problems; warnings ride along
    but only errors make a file fail.
    """

    def __init__(self, problems: dict[str, list[Problem]]) -> None:
        self.problems = {k: list(v) for k, v in problems.items()}
        super().__init__(self.render())

    @property
    def n_errors(self) -> int:
        return sum(p.severity == "error" for ps in self.problems.values() for p in ps)

    def render(self) -> str:
        lines: list[str] = []
        hints: list[str] = []
        for label, problems in self.problems.items():
            errors = [p for p in problems if p.severity == "error"]
            if not errors:
                continue
            noun = "problem" if len(errors) == 1 else "problems"
            lines.append(f"{label}: {len(errors)} {noun}")
            for p in errors:
                lines.append(f"  - {p.render()}")
                if p.hint and p.hint not in hints:
                    hints.append(p.hint)
        lines.extend(f"Hint: {h}" for h in hints)
        return "\n".join(lines)

    def __reduce__(self):  # keep the exception picklable across process pools
        return (type(self), (self.problems,))


def did_you_mean(name: str, choices: Sequence[str]) -> str | None:
    """Return the closest of ``choices`` to ``name`` (for hints), or None."""
    import difflib

    match = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return match[0] if match else None
