"""``reports/index.html``: the consultant's overview of every client and quarter.

One row per report: how the client's goals stand (achieved / near / missed), the KPIs that moved
beyond normal variation against the previous quarter (the report's noise verdicts), whether the
client needs a call (a goal missed or a KPI worsened), and links to the HTML, PDF and Excel
files. The page is rebuilt from the files on disk after every batch (not from the batch's
results), so it also lists reports made by earlier runs. Client text is HTML-escaped everywhere.
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from kpitools._errors import KpitoolsError
from kpitools.report.export import atomic_write, read_metrics

__all__ = ["IndexEntry", "build_index", "collect_entries"]

_FAILED = "_failed"
#: Goal statuses of the scorecard grouped as the overview counts them.
GOAL_GROUPS = {"achieved": "achieved", "on_track": "achieved", "near_miss": "near",
               "at_risk": "near", "missed": "missed", "off_track": "missed", "no_data": "no_data"}
_GROUP_WORDS = {"achieved": "達標 achieved", "near": "接近 near", "missed": "未達 missed",
                "no_data": "無資料 no data"}
_VERDICT_MARKS = {"improved": ("▲", "improved"), "worsened": ("▼", "worsened")}


@dataclass(frozen=True)
class IndexEntry:
    """One row of the index: a finished report or a failed run."""

    slug: str
    quarter: str
    status: str  # "ok" or "failed"
    name: str
    lang: str | None
    headline: tuple[tuple[str, str], ...]  # (label, formatted value)
    link: str  # relative to the index
    note: str = ""
    goals: tuple[tuple[str, int], ...] = ()  # (achieved | near | missed | no_data, count)
    moved: tuple[tuple[str, str, str], ...] = ()  # (label, verdict, change) beyond noise
    files: tuple[tuple[str, str], ...] = ()  # (file name, link) of report.pdf / report.xlsx

    @property
    def needs_call(self) -> bool:
        """A goal missed or a KPI worse beyond noise: worth a call this quarter."""
        missed = dict(self.goals).get("missed", 0) > 0
        return missed or any(verdict == "worsened" for _, verdict, _ in self.moved)


def collect_entries(out: str | os.PathLike[str]) -> list[IndexEntry]:
    """Every report under ``out/<slug>/<quarter>/`` and every failed run under ``out/_failed/``.

    Sorted by client then quarter, failed runs after the report of the same quarter.
    """
    root = Path(out)
    entries: list[IndexEntry] = []
    for html_path in sorted(root.glob("*/*/report.html")):
        slug, quarter = html_path.parent.parent.name, html_path.parent.name
        if slug.startswith(("_", ".")):
            continue
        entries.append(_report_entry(root, html_path, slug, quarter))
    for error in sorted(root.glob(f"{_FAILED}/*/*/error.txt")):
        slug, quarter = error.parent.parent.name, error.parent.name
        summary = next((line[len("error: "):] for line in error.read_text(encoding="utf-8")
                        .splitlines() if line.startswith("error: ")), "")
        entries.append(IndexEntry(slug, quarter, "failed", slug, None, (),
                                  error.relative_to(root).as_posix(), summary))
    entries.sort(key=lambda e: (e.slug, e.quarter, e.status != "ok"))
    return entries


def _report_entry(root: Path, html_path: Path, slug: str, quarter: str) -> IndexEntry:
    link = html_path.relative_to(root).as_posix()
    metrics_path = html_path.with_name("metrics.json")
    if not metrics_path.exists():
        return IndexEntry(slug, quarter, "ok", slug, None, (), link, "no metrics.json")
    try:
        metrics = read_metrics(metrics_path)
    except KpitoolsError as exc:
        return IndexEntry(slug, quarter, "ok", slug, None, (), link,
                          str(exc).splitlines()[0])
    lang = metrics.get("lang")
    names = metrics["client"].get("name") or slug
    if isinstance(names, dict):
        names = names.get(lang) or next(iter(names.values()), slug)
    headline = tuple((str(h["label"]), str(h["formatted"])) for h in metrics["headline"])
    counts: dict[str, int] = {}
    for goal in metrics["goals"]:
        group = GOAL_GROUPS.get(str(goal.get("status")), "no_data")
        counts[group] = counts.get(group, 0) + 1
    goals = tuple((g, counts[g]) for g in ("achieved", "near", "missed", "no_data") if g in counts)
    moved = tuple((str(h["label"]), str(h["verdict"]), str(h.get("change", "")))
                  for h in metrics["headline"] if h.get("verdict") in _VERDICT_MARKS)
    files = tuple((name, html_path.with_name(name).relative_to(root).as_posix())
                  for name in ("report.pdf", "report.xlsx") if html_path.with_name(name).exists())
    return IndexEntry(slug, quarter, "ok", str(names), lang, headline, link, goals=goals,
                      moved=moved, files=files)


def build_index(out: str | os.PathLike[str]) -> Path:
    """Write ``out/index.html`` (atomically) and return its path."""
    root = Path(out)
    entries = collect_entries(root)
    rows = "\n".join(_row(e) for e in entries) or (
        '<tr><td colspan="7">尚無報告 · No reports yet</td></tr>'
    )
    stamp = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")
    page = f"""<!DOCTYPE html>
<html lang="zh-Hant-TW">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>KPI 報告總覽 · KPI reports</title>
<style>
body {{ font-family: "Noto Sans TC", "Noto Sans CJK TC", "PingFang TC", "Microsoft JhengHei",
       "Helvetica Neue", Arial, sans-serif; margin: 2rem auto; max-width: 70rem; color: #222; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border-bottom: 1px solid #ddd; padding: .5rem .75rem; text-align: left;
         vertical-align: top; }}
th {{ background: #1f4e79; color: #fff; }}
.ok {{ color: #1b7f3b; font-weight: bold; }}
.failed {{ color: #b00020; font-weight: bold; }}
ul {{ margin: 0; padding-left: 1.1rem; }}
.note {{ color: #666; font-size: .9em; }}
.achieved {{ color: #1b7f3b; }} .near {{ color: #a86b00; }} .missed {{ color: #b00020; }}
.improved {{ color: #1b7f3b; }} .worsened {{ color: #b00020; }}
.call {{ color: #b00020; font-weight: bold; }}
</style>
</head>
<body>
<h1>KPI 報告總覽 · KPI reports</h1>
<p class="note">更新於 Updated {html.escape(stamp)} · {len(entries)} 份 reports ·
{sum(e.needs_call for e in entries)} 份需要聯絡客戶 need a call ·
「超出正常波動」= 與上季相比通過報告中的雜訊檢定 / "beyond noise" = passed the report's noise
test against the previous quarter</p>
<table>
<thead><tr><th>客戶 Client</th><th>季度 Quarter</th><th>狀態 Status</th>
<th>目標 Goals</th><th>超出正常波動的變化 Moved beyond noise</th>
<th>重點指標 Headline KPIs</th><th>檔案 Files</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
</body>
</html>
"""
    return atomic_write(root / "index.html", page)


def _row(entry: IndexEntry) -> str:
    esc = html.escape
    kpis = "".join(f"<li>{esc(label)}: <strong>{esc(value)}</strong></li>"
                   for label, value in entry.headline)
    kpis = f"<ul>{kpis}</ul>" if kpis else ""
    if entry.note:
        kpis += f'<div class="note">{esc(entry.note)}</div>'
    status = "完成 ok" if entry.status == "ok" else "失敗 failed"
    if entry.needs_call:
        status += '<div class="call">需要聯絡 call</div>'
    label = "report.html" if entry.status == "ok" else "error.txt"
    href = esc(quote(entry.link), quote=True)
    links = f"<a href=\"{href}\">{label}</a>" + "".join(
        f"<br><a href=\"{esc(quote(link), quote=True)}\">{esc(name)}</a>"
        for name, link in entry.files)
    goals = "<br>".join(f'<span class="{g}">{_GROUP_WORDS[g]}: {n}</span>'
                        for g, n in entry.goals) or '<span class="note">—</span>'
    moved = "".join(
        f'<li class="{verdict}">{_VERDICT_MARKS[verdict][0]} {esc(label_)} '
        f"{esc(change)}</li>" for label_, verdict, change in entry.moved)
    moved = f"<ul>{moved}</ul>" if moved else '<span class="note">無 none</span>'
    return (f"<tr><td>{esc(entry.name)}<div class=\"note\">{esc(entry.slug)}</div></td>"
            f"<td>{esc(entry.quarter)}</td><td class=\"{esc(entry.status)}\">{status}</td>"
            f"<td>{goals}</td><td>{moved}</td>"
            f"<td>{kpis}</td><td>{links}</td></tr>")
