"""GA4 report downloads: a ``#`` comment header, then one or more tables one after another.

A "Reports snapshot" or report download (Share → Download file → CSV) looks like::

    # ----------------------------------------
    # Reports snapshot
    # Account: …
    # Property: …
    # ----------------------------------------
    #
    # Start date: 20240101
    # End date: 20240131
    Nth day,Active users
    0000,120
    …
    (blank line, then the next card's "#" block and table)

Each table is read with the start date of the ``#`` block above it. Time series index rows by
``Nth day`` / ``Nth week`` (``0000`` = the start date) instead of a date; they are turned into
calendar dates (week N is dated on its first day). :class:`TablePicker` chooses the table to
load: the one named by ``report_table`` (its title, i.e. the first line of the ``#`` block above
it that is not a rule, account, property or date line; or its number from 1), otherwise the first
table whose columns cover what the canonical table requires. When none fits, the error lists every
table with its columns.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from kpitools._errors import Problem
from kpitools.io._parse import normalize_header

__all__ = ["TablePicker", "split_tables"]

Record = tuple[int, list[object]]

_START = re.compile(r"^(?:start date|開始日期)\s*[:：]\s*(\d{8})\s*$", re.IGNORECASE)
_END = re.compile(r"^(?:end date|結束日期)\s*[:：]\s*(\d{8})\s*$", re.IGNORECASE)
_NOT_A_TITLE = re.compile(
    r"^(?:-+|account\s*[:：].*|property\s*[:：].*|帳戶\s*[:：].*|資源\s*[:：].*)$"
)
#: Normalised headers of GA4's ordinal time dimensions → days per step.
ORDINAL_HEADERS = {"nth day": 1, "第 n 天": 1, "第n天": 1, "nth week": 7, "第 n 週": 7, "第n週": 7}
#: The header an ordinal column gets once turned into dates.
DATE_HEADER = "Date"


@dataclass
class Ga4Table:
    """One table of a download: its title, start date and records (header first)."""

    title: str | None
    start: dt.date | None
    records: list[Record] = field(default_factory=list)

    @property
    def headers(self) -> list[str]:
        return [str(c) for c in self.records[0][1] if c is not None and str(c).strip()]

    def describe(self, number: int) -> str:
        name = f"'{self.title}'" if self.title else "(untitled)"
        return f"table {number} {name} (row {self.records[0][0]}): columns {self.headers}"


def _comment_text(cells: list[object]) -> str | None:
    if not cells or not isinstance(cells[0], str) or not cells[0].lstrip().startswith("#"):
        return None
    text = ",".join(str(c) for c in cells if c is not None and str(c) != "")
    return text.lstrip()[1:].strip()


def _blank(cells: list[object]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def split_tables(records: list[Record]) -> list[Ga4Table]:
    """The tables of a GA4 download, in file order."""
    tables: list[Ga4Table] = []
    current: Ga4Table | None = None
    title: str | None = None
    start: dt.date | None = None
    in_block = False
    for number, cells in records:
        comment = _comment_text(cells)
        if comment is not None:
            if not in_block:  # a new "#" block: its first plain line is the report's name
                in_block, block_titled = True, False
            current = None
            if match := _START.match(comment):
                start = dt.datetime.strptime(match.group(1), "%Y%m%d").date()
            elif (
                comment
                and not block_titled
                and not _END.match(comment)
                and not _NOT_A_TITLE.match(comment.lower())
            ):
                title, block_titled = comment, True
            continue
        in_block = False
        if _blank(cells):
            current = None
            continue
        if current is None:
            current = Ga4Table(title, start)
            tables.append(current)
        current.records.append((number, cells))
    return tables


def _dated(table: Ga4Table) -> tuple[list[Record], list[Problem]]:
    """The table with an ``Nth day`` / ``Nth week`` column turned into ``Date`` values."""
    header_number, header = table.records[0]
    keys = [normalize_header(c) if c is not None else "" for c in header]
    ordinal = next((i for i, k in enumerate(keys) if k in ORDINAL_HEADERS), None)
    if ordinal is None:
        return table.records, []
    step = ORDINAL_HEADERS[keys[ordinal]]
    if table.start is None:
        return table.records, [
            Problem(
                f"column '{header[ordinal]}' counts days from the report's start date, but the "
                "file has no '# Start date: YYYYMMDD' line",
                hint="download the report again with its header lines, or export a report "
                "with the Date dimension.",
            )
        ]
    new_header = list(header)
    new_header[ordinal] = DATE_HEADER
    out: list[Record] = [(header_number, new_header)]
    bad: list[int] = []
    for number, cells in table.records[1:]:
        cells = list(cells)
        value = str(cells[ordinal]).strip() if ordinal < len(cells) and cells[ordinal] else ""
        if value.isdigit():
            day = table.start + dt.timedelta(days=int(value) * step)
            cells[ordinal] = day.isoformat()
        elif value:
            bad.append(number)
        out.append((number, cells))
    problems = []
    if bad:
        problems.append(
            Problem(
                f"{len(bad)} values of '{header[ordinal]}' are not whole numbers",
                rows=tuple(bad),
                hint="the column should hold 0000, 0001, …; export the report again.",
            )
        )
    if step > 1:
        problems.append(
            Problem(
                f"rows of '{header[ordinal]}' are weeks: each week's totals are dated on its "
                "first day, so daily figures are weekly sums",
                severity="warning",
                hint="download the report by day (Nth day or Date) for daily KPIs.",
            )
        )
    return out, problems


@dataclass
class TablePicker:
    """Choose and date the table to load from a GA4 download.

    ``missing`` gives, for a table's headers, the required canonical columns it lacks;
    ``wanted`` is the ``report_table`` option (a title or a number from 1), or None.
    """

    missing: Callable[[list[str]], list[str]]
    wanted: str | int | None = None

    def __call__(self, records: list[Record]) -> tuple[list[Record], list[Problem]]:
        """``(records of the chosen table, header first; problems)``.

        With an error problem the records are empty: nothing fits or the named table is absent.
        """
        tables = split_tables(records)
        if not tables:
            return [], [
                Problem(
                    "the file has no table after its '#' header lines",
                    hint="export the report again; the download looks empty.",
                )
            ]
        dated = [_dated(t) for t in tables]
        listing = "; ".join(t.describe(i) for i, t in enumerate(tables, 1))
        if self.wanted is not None:
            chosen = self._named(tables)
            if chosen is None:
                return [], [
                    Problem(
                        f"report_table {self.wanted!r} is not in the file. Tables: {listing}",
                        hint="set report_table: to a table's title (the '#' line above it) or "
                        "its number from 1.",
                    )
                ]
            return dated[chosen]
        for records_, problems in dated:
            if not any(p.severity == "error" for p in problems) and not self.missing(
                [str(c) for c in records_[0][1] if c is not None]
            ):
                return records_, problems
        lacks = "; ".join(
            f"table {i} lacks {self.missing([str(c) for c in d[0][0][1] if c is not None])}"
            for i, d in enumerate(dated, 1)
        )
        return [], [
            Problem(
                f"no table in the file has the columns web_traffic needs ({lacks}). "
                f"Tables: {listing}",
                hint="download a report with the Date (or Nth day) dimension and the Sessions "
                "and Active users metrics, e.g. Reports > Acquisition > Traffic acquisition with "
                "Date added, or an exploration; or name the table with report_table: in "
                "client.yml.",
            )
        ]

    def _named(self, tables: list[Ga4Table]) -> int | None:
        if isinstance(self.wanted, int) and not isinstance(self.wanted, bool):
            return self.wanted - 1 if 1 <= self.wanted <= len(tables) else None
        wanted = normalize_header(self.wanted)
        titles = [normalize_header(t.title) if t.title else "" for t in tables]
        exact = [i for i, t in enumerate(titles) if t == wanted]
        partial = [i for i, t in enumerate(titles) if wanted and wanted in t]
        found = exact or partial
        return found[0] if found else None
