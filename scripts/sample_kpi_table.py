"""Print a Markdown table of headline KPI values for the sample clients (for the README).

Usage: ``python scripts/sample_kpi_table.py [--period 2024Q4]``. Each value comes from
``kpitools.compute_kpi``, formatted by the KPI's catalog unit in English.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import kpitools
from kpitools.i18n import fmt_value
from kpitools.report.sections import QuarterReport

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "sample"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--period", default="2024Q4")
    args = parser.parse_args()
    print(f"| client | KPI | {args.period} | previous quarter |")
    print("| --- | --- | ---: | ---: |")
    for folder in sorted(p for p in SAMPLES.iterdir() if (p / "client.yml").exists()):
        client = kpitools.load_client(folder)
        report = QuarterReport(client, args.period, lang="en")
        table = report.trend_table
        for kpi_id in table.index:
            kpi = kpitools.get_kpi(kpi_id)
            now, before = table.loc[kpi_id].iloc[-1], table.loc[kpi_id].iloc[-2]
            print(f"| {folder.name} | {kpi.name_for('en')} (`{kpi_id}`) | "
                  f"{fmt_value(now, kpi.unit, 'en')} | {fmt_value(before, kpi.unit, 'en')} |")


if __name__ == "__main__":
    main()
