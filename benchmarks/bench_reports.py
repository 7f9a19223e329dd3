"""Benchmark the report batch: one report's wall time and the 2-worker speed-up.

Targets (issue 7): one report after warm-up < 10 s; a batch with 2 workers at least 1.5× faster
than the same batch run serially.

    .venv/bin/python benchmarks/bench_reports.py                 # sample clients, 2024Q3+2024Q4
    .venv/bin/python benchmarks/bench_reports.py --write         # also update results/reports.md

Every run uses ``force=True`` in a fresh temporary output folder, so nothing is skipped and
nothing in the repository is touched (except results/reports.md with --write).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kpitools.report.runner import run_reports  # noqa: E402

SINGLE_TARGET_SECONDS = 10.0
SPEEDUP_TARGET = 1.5
RESULTS = REPO / "benchmarks" / "results" / "reports.md"


def _cpu() -> float:
    """CPU seconds (user + system) of this process and its finished children (kernels)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _timed(clients: list[Path], quarters: list[str], workers: int, out: Path,
           cpu: list[float] | None = None) -> float:
    started, cpu_started = time.perf_counter(), _cpu()
    results = run_reports(clients, quarters, out=out, workers=workers, force=True,
                          progress=False)
    seconds = time.perf_counter() - started
    if cpu is not None:
        cpu.append(_cpu() - cpu_started)
    failed = [f"{r.client} {r.quarter}: {r.error}" for r in results if r.status == "failed"]
    if failed:
        sys.exit("benchmark runs failed:\n" + "\n".join(failed))
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", nargs="*", type=Path,
                        default=sorted(p.parent for p in (REPO / "data" / "sample")
                                       .glob("*/client.yml")))
    parser.add_argument("--quarters", nargs="*", default=["2024Q3", "2024Q4"])
    parser.add_argument("--repeat", type=int, default=3, help="timed single-report runs")
    parser.add_argument("--write", action="store_true", help="update results/reports.md")
    args = parser.parse_args()
    clients, quarters = args.clients, args.quarters

    with tempfile.TemporaryDirectory(prefix="kpitools-bench-") as tmp:
        out = Path(tmp)
        one = [clients[0]], [quarters[-1]]
        _timed(*one, workers=1, out=out / "warm")  # kernel, imports, font cache
        cpus: list[float] = []
        singles = [_timed(*one, workers=1, out=out / f"single{i}", cpu=cpus)
                   for i in range(args.repeat)]
        serial_cpu: list[float] = []
        serial = _timed(clients, quarters, workers=1, out=out / "serial", cpu=serial_cpu)
        parallel = _timed(clients, quarters, workers=2, out=out / "parallel")

    single = statistics.median(singles)
    speedup = serial / parallel
    n_runs = len(clients) * len(quarters)
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    lines = [
        "# Report batch benchmark",
        "",
        f"Run {datetime.now().astimezone():%Y-%m-%d %H:%M %Z} on {platform.node() or 'host'}: "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, load average at the end "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min).",
        f"Template templates/quarterly_report.ipynb; clients "
        f"{', '.join(c.name for c in clients)}; quarters {', '.join(quarters)}.",
        "",
        "| measure | result | target | met |",
        "|---|---|---|---|",
        f"| one report after warm-up ({clients[0].name} {quarters[-1]}, median of "
        f"{args.repeat}) | {single:.1f} s | < {SINGLE_TARGET_SECONDS:g} s | "
        f"{'yes' if single < SINGLE_TARGET_SECONDS else 'no'} |",
        f"| batch of {n_runs} reports, serial (1 worker) | {serial:.1f} s | | |",
        f"| batch of {n_runs} reports, 2 workers | {parallel:.1f} s | | |",
        f"| speed-up 2 workers vs serial | {speedup:.2f}× | ≥ {SPEEDUP_TARGET:g}× | "
        f"{'yes' if speedup >= SPEEDUP_TARGET else 'no'} |",
        "",
        f"Single runs: {', '.join(f'{s:.1f}' for s in singles)} s wall; CPU (user + system of "
        f"the runner and the kernel) {', '.join(f'{c:.1f}' for c in cpus)} s. Serial batch CPU "
        f"{serial_cpu[0]:.1f} s for {n_runs} reports. CPU time depends far less than wall "
        "time on what else runs on the machine.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
