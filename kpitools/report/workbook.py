"""``report.xlsx``: the quarter's numbers as a workbook a client can forward and edit.

Three sheets, every label in both languages and every number a real number with its format
(money ``#,##0``, rates ``0.0%``), so sums and charts work in Excel:

* **Scorecard / 目標記分卡** — each goal: KPI, owner, target, actual, attainment, status;
* **KPI trends / 指標趨勢** — each headline KPI per quarter, the change against the previous
  quarter, and the noise verdict with the test behind it;
* **Findings / 重點發現** — the report's sentences, zh-TW and English side by side.

Written atomically like every report file.
"""

from __future__ import annotations

import io
import math
import os
from pathlib import Path
from typing import Any

from kpitools.i18n import LANGS, period_label, status_label

__all__ = ["NUMBER_FORMATS", "write_workbook"]

#: Excel number format per catalog unit.
NUMBER_FORMATS = {
    "currency": "#,##0",
    "rate": "0.0%",
    "percent": "0.0%",
    "ratio": '0.0"×"',
    "count": "#,##0",
    "months": "0.0",
    "days": "0.0",
    "hours": "0.0",
    "seconds": "0",
    "score": "0.00",
}
_SMALL_MONEY = "#,##0.00"  # amounts under 100 (revenue per session) keep their cents
_SMALL_MONEY_BELOW = 100
_HEADER_FILL = "1F4E79"
_SHEETS = {
    "scorecard": {"zh-TW": "目標記分卡", "en": "Scorecard"},
    "trends": {"zh-TW": "指標趨勢", "en": "KPI trends"},
    "findings": {"zh-TW": "重點發現", "en": "Findings"},
}
_HEADERS = {
    "kpi_id": {"zh-TW": "指標代碼", "en": "KPI id"},
    "kpi": {"zh-TW": "指標", "en": "KPI"},
    "owner": {"zh-TW": "負責人", "en": "Owner"},
    "target": {"zh-TW": "目標", "en": "Target"},
    "actual": {"zh-TW": "實際", "en": "Actual"},
    "attainment": {"zh-TW": "達成率", "en": "Attainment"},
    "status": {"zh-TW": "狀態", "en": "Status"},
    "change": {"zh-TW": "與上季相比變化", "en": "Change against previous quarter"},
    "reading": {"zh-TW": "判讀", "en": "Reading"},
    "test": {"zh-TW": "檢定方法", "en": "Test"},
    "p_value": {"zh-TW": "p 值", "en": "p-value"},
    "finding": {"zh-TW": "發現", "en": "Finding"},
}
_TESTS = {
    "two_proportion": {"zh-TW": "兩比例 z 檢定", "en": "Two-proportion z-test"},
    "poisson": {"zh-TW": "卜瓦松檢定", "en": "Poisson test"},
    "poisson_driver": {"zh-TW": "卜瓦松檢定（驅動筆數）", "en": "Poisson test (driving count)"},
    "welch_items": {"zh-TW": "個別項目 Welch t 檢定", "en": "Welch t-test on the items"},
    "welch_monthly": {"zh-TW": "月值 Welch t 檢定", "en": "Welch t-test on monthly values"},
    "none": {"zh-TW": "—", "en": "—"},
}


def _both(words: dict[str, str]) -> str:
    return " / ".join(words[lang] for lang in LANGS)


def _sheet_title(words: dict[str, str]) -> str:
    """Sheet names may not hold "/" and are at most 31 characters long."""
    return " · ".join(words[lang] for lang in LANGS)[:31]


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) or math.isinf(number) else number


def _format(unit: str, value: float | None) -> str:
    if unit == "currency" and value is not None and abs(value) < _SMALL_MONEY_BELOW:
        return _SMALL_MONEY
    return NUMBER_FORMATS.get(unit, "General")


def write_workbook(report: Any, path: str | os.PathLike[str]) -> Path:
    """Write ``report.xlsx`` for a :class:`kpitools.report.sections.QuarterReport`.

    The findings are taken from the report in its own language and from a twin report in the
    other language that shares its computed KPIs (nothing is computed twice).
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    from kpitools.catalog import get_kpi
    from kpitools.insights import verdict_label
    from kpitools.report.export import atomic_write
    from kpitools.report.sections import QuarterReport

    reports = {report.lang: report}
    other = next(lang for lang in LANGS if lang != report.lang)
    twin = QuarterReport(
        report.client, report.period, lang=other, trailing_quarters=len(report.quarters)
    )
    twin._kpi_memo = report._kpi_memo  # same client and quarters: reuse every KPI value
    twin._changes = report._changes
    reports[other] = twin

    book = Workbook()
    bold = Font(bold=True, color="FFFFFF")
    fill = PatternFill("solid", fgColor=_HEADER_FILL)

    def header(sheet: Any, names: list[str]) -> None:
        sheet.append(names)
        for cell in sheet[1]:
            cell.font, cell.fill = bold, fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.freeze_panes = "A2"

    # Scorecard
    sheet = book.active
    sheet.title = _sheet_title(_SHEETS["scorecard"])
    header(
        sheet,
        [
            _both(_HEADERS["kpi_id"]),
            *[f"{_HEADERS['kpi'][lang]} ({lang})" for lang in LANGS],
            *[f"{_HEADERS['owner'][lang]} ({lang})" for lang in LANGS],
            _both(_HEADERS["target"]),
            _both(_HEADERS["actual"]),
            _both(_HEADERS["attainment"]),
            *[f"{_HEADERS['status'][lang]} ({lang})" for lang in LANGS],
        ],
    )
    for record in report.card.to_dict("records"):
        kpi = get_kpi(record["kpi"])
        target, actual = _number(record["target"]), _number(record["actual"])
        sheet.append(
            [
                record["kpi"],
                *[kpi.name_for(lang) for lang in LANGS],
                *[reports[lang].labels.owner(record.get("owner")) for lang in LANGS],
                target,
                actual,
                _number(record["attainment"]),
                *[status_label(record["status"], lang) for lang in LANGS],
            ]
        )
        row = sheet.max_row
        sheet.cell(row, 6).number_format = _format(kpi.unit, target)
        sheet.cell(row, 7).number_format = _format(kpi.unit, actual)
        sheet.cell(row, 8).number_format = "0%"

    # KPI trends
    sheet = book.create_sheet(_sheet_title(_SHEETS["trends"]))
    quarters = report.quarters
    header(
        sheet,
        [
            _both(_HEADERS["kpi_id"]),
            *[f"{_HEADERS['kpi'][lang]} ({lang})" for lang in LANGS],
            *[" / ".join(period_label(q, lang) for lang in LANGS) for q in quarters],
            _both(_HEADERS["change"]),
            *[f"{_HEADERS['reading'][lang]} ({lang})" for lang in LANGS],
            _both(_HEADERS["test"]),
            _both(_HEADERS["p_value"]),
        ],
    )
    table = report.trend_table
    for kpi_id in table.index:
        kpi = get_kpi(kpi_id)
        values = [_number(table.loc[kpi_id, q.label]) for q in quarters]
        change = report.change(kpi_id)
        before, after = values[-2] if len(values) > 1 else None, values[-1]
        points = kpi.unit in ("rate", "percent")
        if before is None or after is None:
            delta = None
        elif points:
            delta = (after - before) * 100  # percentage points
        else:
            delta = (after - before) / abs(before) if before else None
        sheet.append(
            [
                kpi_id,
                *[kpi.name_for(lang) for lang in LANGS],
                *values,
                delta,
                *[verdict_label(change.verdict, lang) for lang in LANGS],
                _both(_TESTS.get(change.method, _TESTS["none"])),
                _number(change.p_value),
            ]
        )
        row = sheet.max_row
        for i, value in enumerate(values):
            sheet.cell(row, 4 + i).number_format = _format(kpi.unit, value)
        sheet.cell(row, 4 + len(values)).number_format = (
            '+0.0" pp";-0.0" pp";0.0" pp"' if points else "+0.0%;-0.0%;0.0%"
        )
        sheet.cell(row, sheet.max_column).number_format = "0.000"

    # Findings
    sheet = book.create_sheet(_sheet_title(_SHEETS["findings"]))
    header(sheet, [f"{_HEADERS['finding'][lang]} ({lang})" for lang in LANGS])
    texts = {lang: reports[lang].summary().paragraphs for lang in LANGS}
    for pair in zip(*(texts[lang] for lang in LANGS), strict=False):
        sheet.append(list(pair))
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")

    for sheet in book.worksheets:
        for column in sheet.columns:
            longest = max(len(str(c.value)) if c.value is not None else 0 for c in column)
            sheet.column_dimensions[column[0].column_letter].width = min(60, max(10, longest + 2))
    buffer = io.BytesIO()
    book.save(buffer)
    return atomic_write(path, buffer.getvalue())
