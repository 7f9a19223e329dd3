"""Benchmark reading an Excel export whose table is followed by a million empty formatted rows.

Target (issue 12): ``load_orders`` on such a file is fast and reports an empty or small table,
instead of walking every empty row. The baseline is openpyxl's read-only mode reading every row
(what kpitools did before).

    .venv/bin/python benchmarks/bench_empty_xlsx.py                  # 1,000,000 empty rows
    .venv/bin/python benchmarks/bench_empty_xlsx.py --rows 200000 --write

The workbook is made by writing a tiny table with openpyxl and then adding the empty rows to
the sheet XML directly (one formatted, valueless cell per row, the way Excel stores a styled
column), so building it does not take longer than what is measured. Each measurement runs in a
fresh Python process; wall time, CPU time (user + system) and peak RSS are recorded with the
load average at the start.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import re
import subprocess
import sys
import tempfile
import zipfile
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "empty_xlsx.md"

_CHILD = {
    "kpitools": "import kpitools.io as io_; frame = io_.load_orders(PATH); n = len(frame)",
    "openpyxl (all rows)": (
        "import openpyxl; book = openpyxl.load_workbook(PATH, read_only=True, data_only=True); "
        "n = sum(1 for _ in book.active.iter_rows(values_only=True)); book.close()"
    ),
}
_TIMER = """
import os, resource, sys, time
sys.path.insert(0, {repo!r})
PATH = {path!r}
wall, cpu = time.perf_counter(), os.times()
{code}
after = os.times()
print(time.perf_counter() - wall, after.user + after.system - cpu.user - cpu.system,
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, n)
"""


def make_workbook(path: Path, empty_rows: int) -> None:
    import openpyxl
    from openpyxl.styles import Font

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["order_id", "customer_id", "order_date", "amount"])
    sheet.append(["A1", "c1", "2024-01-05", 100])
    sheet["A3"].font = Font(bold=True)  # creates the cell style the empty rows use
    buffer = io.BytesIO()
    book.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    last = empty_rows + 2
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = re.sub(r'<row r="3".*?</row>', "", data.decode("utf-8"))
                rows = "".join(
                    f'<row r="{i}" s="1" customFormat="1"><c r="A{i}" s="1"/></row>'
                    for i in range(3, last + 1)
                )
                text = text.replace("</sheetData>", rows + "</sheetData>")
                text = re.sub(
                    r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="A1:D{last}"/>', text
                )
                data = text.encode("utf-8")
            out.writestr(item, data)


def measure(code: str, path: Path) -> tuple[float, float, float, int]:
    script = _TIMER.format(repo=str(REPO), path=str(path), code=code)
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    wall, cpu, rss, n = result.stdout.split()
    return float(wall), float(cpu), float(rss), int(n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="empty formatted rows")
    parser.add_argument("--write", action="store_true", help="write results/empty_xlsx.md")
    args = parser.parse_args()
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "orders.xlsx"
        make_workbook(path, args.rows)
        size = path.stat().st_size
        rows = {name: measure(code, path) for name, code in _CHILD.items()}
    lines = [
        "# Excel export with empty formatted rows",
        "",
        f"{datetime.now():%Y-%m-%d %H:%M}, {platform.python_version()}, {os.cpu_count()} cores, "
        f"load average at start {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (shared machine).",
        f"Workbook: a header, 1 order, then {args.rows:,} empty formatted rows "
        f"({size / 2**20:.1f} MiB on disk).",
        "",
        "| reader | wall (s) | CPU user+sys (s) | peak RSS (MiB) | rows returned |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, (wall, cpu, rss, n) in rows.items():
        lines.append(f"| {name} | {wall:.2f} | {cpu:.2f} | {rss:,.0f} | {n:,} |")
    report = "\n".join(lines) + "\n"
    print(report)
    if args.write:
        RESULTS.write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
