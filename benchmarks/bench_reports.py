"""Benchmark the report batch: CPU per report, and the 2-worker speed-up.

Targets (issue 13): one report costs at most 5 s of CPU in total (runner + kernel); a batch of
the 3 sample clients × 2 quarters with 2 workers is at least 1.6× faster than serially.

    .venv/bin/python benchmarks/bench_reports.py                 # sample clients, 2024Q3+2024Q4
    .venv/bin/python benchmarks/bench_reports.py --write         # also update results/reports.md

A single report is run the way an analyst runs it: ``run_reports`` in a fresh Python process
(imports, kernel start and stop included); its CPU time is that process's plus its kernel's.
The batches run in this process after a warm-up, as pairs (serial, then 2 workers) repeated
``--batch-repeat`` times; the median pair's ratio is the speed-up. Every run uses
``force=True`` in a fresh temporary output folder, so nothing is skipped and nothing in the
repository is touched (except results/reports.md with --write). The load average is written
down at each step: on a shared machine the wall-time speed-up needs a free second core, CPU
time does not.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kpitools.report.runner import run_reports  # noqa: E402

SINGLE_CPU_TARGET_SECONDS = 5.0
SPEEDUP_TARGET = 1.6
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


# run_reports in a new interpreter: argv = tree, out folder, workers, quarters (comma-separated),
# then the client folders. PYTHONPATH=tree makes its kernels import that tree's kpitools too
# (the editable install's finder comes after PYTHONPATH).
_FRESH_RUN = (
    "import sys\n"
    "sys.path.insert(0, sys.argv[1])\n"
    "from kpitools.report.runner import run_reports\n"
    "results = run_reports(sys.argv[5:], sys.argv[4].split(','), out=sys.argv[2],\n"
    "                      workers=int(sys.argv[3]), force=True, progress=False)\n"
    "sys.exit(any(r.status != 'ok' for r in results))\n"
)


def fresh_run(clients: list[Path], quarters: list[str], out: Path, workers: int = 1,
              tree: Path = REPO) -> tuple[float, float]:
    """``run_reports`` in a new interpreter with ``tree``'s code: (wall seconds, CPU seconds
    of that process and its kernels)."""
    env = dict(os.environ, PYTHONPATH=os.fspath(tree))
    before = os.times()
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", _FRESH_RUN, os.fspath(tree), os.fspath(out),
                    str(workers), ",".join(quarters), *map(os.fspath, clients)],
                   check=True, env=env, cwd=tree)
    wall = time.perf_counter() - started
    after = os.times()
    cpu = (after.children_user - before.children_user
           + after.children_system - before.children_system)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", nargs="*", type=Path,
                        default=sorted(p.parent for p in (REPO / "data" / "sample")
                                       .glob("*/client.yml")))
    parser.add_argument("--quarters", nargs="*", default=["2024Q3", "2024Q4"])
    parser.add_argument("--repeat", type=int, default=3, help="timed single-report runs")
    parser.add_argument("--batch-repeat", type=int, default=3,
                        help="serial/2-worker batch pairs, run one after the other")
    parser.add_argument("--write", action="store_true", help="update results/reports.md")
    args = parser.parse_args()
    clients, quarters = args.clients, args.quarters

    loads = {"start": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="kpitools-bench-") as tmp:
        out = Path(tmp)
        singles: dict[str, list[tuple[float, float]]] = {}
        for _ in range(args.repeat):
            for client in clients:
                singles.setdefault(client.name, []).append(
                    fresh_run([client], quarters[-1:], out / f"single-{client.name}"))
        loads["singles done"] = os.getloadavg()
        _timed(clients[:1], quarters[-1:], workers=1, out=out / "warm")
        # Pairs of batches, serial then parallel, so that each ratio compares runs made a few
        # seconds apart (a busy neighbour slows both); the median pair is reported.
        pairs: list[tuple[float, float, float, float]] = []
        for k in range(args.batch_repeat):
            serial_cpu: list[float] = []
            serial = _timed(clients, quarters, workers=1, out=out / f"serial{k}", cpu=serial_cpu)
            parallel_cpu: list[float] = []
            parallel = _timed(clients, quarters, workers=2, out=out / f"parallel{k}",
                              cpu=parallel_cpu)
            pairs.append((serial, serial_cpu[0], parallel, parallel_cpu[0]))
        loads["batches done"] = os.getloadavg()

    ratios = [p[0] / p[2] for p in pairs]
    serial, serial_cpu_s, parallel, parallel_cpu_s = sorted(
        pairs, key=lambda p: p[0] / p[2])[len(pairs) // 2]
    serial_cpu, parallel_cpu = [serial_cpu_s], [parallel_cpu_s]
    speedup = serial / parallel
    n_runs = len(clients) * len(quarters)
    best = {name: min(runs, key=lambda r: r[1]) for name, runs in singles.items()}
    mean_cpu = statistics.mean(cpu for _, cpu in best.values())
    load_text = "; ".join(f"{k} {a:.1f} / {b:.1f} / {c:.1f}" for k, (a, b, c) in loads.items())
    lines = [
        "# Report batch benchmark",
        "",
        f"Run {datetime.now().astimezone():%Y-%m-%d %H:%M %Z} on {platform.node() or 'host'}: "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}.",
        f"Load average (1 / 5 / 15 min): {load_text}.",
        f"Template templates/quarterly_report.ipynb; clients "
        f"{', '.join(c.name for c in clients)}; quarters {', '.join(quarters)}.",
        "",
        "| measure | result | target | met |",
        "|---|---|---|---|",
        *[f"| one report, fresh process: {name} {quarters[-1]} (least CPU of {args.repeat}) | "
          f"{cpu:.1f} s CPU ({wall:.1f} s wall) | ≤ {SINGLE_CPU_TARGET_SECONDS:g} s CPU | "
          f"{'yes' if cpu <= SINGLE_CPU_TARGET_SECONDS else 'no'} |"
          for name, (wall, cpu) in best.items()],
        f"| one report, mean of the clients above | {mean_cpu:.1f} s CPU | "
        f"≤ {SINGLE_CPU_TARGET_SECONDS:g} s CPU | "
        f"{'yes' if mean_cpu <= SINGLE_CPU_TARGET_SECONDS else 'no'} |",
        f"| batch of {n_runs} reports, serial (1 worker) | {serial:.1f} s wall, "
        f"{serial_cpu[0]:.1f} s CPU ({serial_cpu[0] / n_runs:.1f} s per report) | | |",
        f"| batch of {n_runs} reports, 2 workers | {parallel:.1f} s wall, "
        f"{parallel_cpu[0]:.1f} s CPU ({parallel_cpu[0] / n_runs:.1f} s per report) | | |",
        f"| speed-up 2 workers vs serial (wall; median of {len(pairs)} pairs) | {speedup:.2f}× "
        f"| ≥ {SPEEDUP_TARGET:g}× | {'yes' if speedup >= SPEEDUP_TARGET else 'no'} |",
        "",
        "All single runs (wall s / CPU s): " + "; ".join(
            f"{name} " + ", ".join(f"{w:.1f}/{c:.1f}" for w, c in runs)
            for name, runs in singles.items()) + ".",
        "Batch pairs (serial wall / 2-worker wall = ratio): " + "; ".join(
            f"{a:.1f} / {c:.1f} = {r:.2f}×" for (a, _, c, _), r in zip(pairs, ratios,
                                                                      strict=True)) + ".",
        "CPU = user + system seconds of the runner and its kernels. The 2-worker batch can only "
        "be faster in wall time when a second core is free; compare its CPU with the serial "
        "batch's to see the work itself.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:  # the new run on top; earlier runs (and their readings) stay below
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        earlier = RESULTS.read_text("utf-8") if RESULTS.exists() else ""
        title, _, rest = earlier.partition("\n")
        if title.startswith("# "):
            earlier = "## Earlier run\n" + rest
        RESULTS.write_text(text + ("\n" + earlier if earlier else ""), encoding="utf-8")


if __name__ == "__main__":
    main()
