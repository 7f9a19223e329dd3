"""Compare the report benchmark between two source trees, run alternately in the same hour.

The machine is shared and its speed drifts from day to day (20% between two evenings was seen),
so a change is judged by running the old and the new code one after the other, not against a
number written down on another day. Make a tree of the older commit with git, then:

    git worktree add /tmp/kpitools-old <commit>
    .venv/bin/python benchmarks/bench_reports_ab.py --old /tmp/kpitools-old
    git worktree remove /tmp/kpitools-old

For each repetition, every sample client's 2024Q4 report is made alone in a fresh process with
the old tree, then with the new one; then the batch (3 clients × 2 quarters) serially and with
2 workers, old then new. Each run gets ``PYTHONPATH=<tree>``, so its runner and its kernels
import that tree's kpitools (the editable install's finder comes after PYTHONPATH). CPU is the
user + system time of the run's processes (runner, fork server, kernels). Prints a Markdown
table with every run and the least-CPU ratio new ÷ old; writes nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_reports import REPO, fresh_run

CLIENTS = ("cloudledger", "pandablog", "shop")


def _run(tree: Path, clients: list[str], quarters: list[str], workers: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run_reports call with ``tree``'s code."""
    with tempfile.TemporaryDirectory(prefix="kpitools-ab-") as out:
        return fresh_run([tree / "data" / "sample" / c for c in clients], quarters, Path(out),
                         workers, tree=tree)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", type=Path, required=True, help="tree of the older code")
    parser.add_argument("--new", type=Path, default=REPO, help="tree of the newer code")
    parser.add_argument("--repeat", type=int, default=2, help="repetitions of every run")
    parser.add_argument("--no-batches", action="store_true", help="single reports only")
    args = parser.parse_args()
    trees = {"old": args.old.resolve(), "new": args.new.resolve()}
    for name, tree in trees.items():
        if not (tree / "kpitools" / "report" / "runner.py").is_file():
            sys.exit(f"--{name} {tree}: not a kpitools source tree")

    runs: dict[tuple[str, str], list[tuple[float, float]]] = {}
    loads = [os.getloadavg()[0]]
    for _ in range(args.repeat):
        for client in CLIENTS:
            for name, tree in trees.items():
                runs.setdefault((f"one report alone, {client}", name), []).append(
                    _run(tree, [client], ["2024Q4"], 1))
        if not args.no_batches:
            for workers in (1, 2):
                label = "batch of 6, serial" if workers == 1 else "batch of 6, 2 workers"
                for name, tree in trees.items():
                    runs.setdefault((label, name), []).append(
                        _run(tree, list(CLIENTS), ["2024Q3", "2024Q4"], workers))
        loads.append(os.getloadavg()[0])

    print(f"Load average (1 min) before and after each repetition: "
          f"{', '.join(f'{x:.1f}' for x in loads)}.\n")
    print("| run | old: CPU s (wall s) | new: CPU s (wall s) | new ÷ old (least CPU) |")
    print("| --- | --- | --- | --- |")
    for label in dict.fromkeys(key for key, _ in runs):
        old, new = runs[label, "old"], runs[label, "new"]
        shown = [", ".join(f"{c:.1f} ({w:.1f})" for w, c in side) for side in (old, new)]
        ratio = min(c for _, c in new) / min(c for _, c in old)
        print(f"| {label} | {shown[0]} | {shown[1]} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
