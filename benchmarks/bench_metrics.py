"""Benchmark: the order-KPI suite through kpitools (Ibis on DuckDB) against plain pandas.

Usage::

    .venv/bin/python benchmarks/bench_metrics.py              # 10,000,000 orders
    .venv/bin/python benchmarks/bench_metrics.py --rows 1000000

The script writes N synthetic orders to a Parquet file, then runs the same KPI suite in separate
child processes so each one's peak memory (``ru_maxrss``) is its own:

* ``pandas``           — an idiomatic pandas implementation: ``read_parquet`` + ``groupby``;
* ``kpitools-parquet`` — kpitools on an Ibis table that DuckDB reads straight from the Parquet
  file (the recommended usage for large data);
* ``kpitools-duckdb``  — kpitools on a DuckDB in-memory table loaded once from the Parquet file;
* ``kpitools-pandas``  — kpitools given the pandas DataFrame (what a loader returns); every call
  hands the frame to DuckDB.

The suite: revenue and AOV by month, a per-customer recency/frequency/monetary summary, repeat
purchase rate for a year, new vs returning revenue for a quarter, revenue by channel for a year.
Each approach's headline numbers are compared with the pandas ones before timings are reported.
Results go to ``benchmarks/results/metrics.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _orders import write_orders  # benchmarks/_orders.py (this folder is on sys.path)

DEFAULT_ROWS = 10_000_000
ORDERS_PER_CUSTOMER = 10  # average; customers = rows / this
FIRST_DAY = "2023-01-01"
DAYS = 730  # two years of orders: 2023 and 2024
CHANNELS = ("web", "app", "store", "line", "shopee")
N_PRODUCTS = 50
YEAR, QUARTER = "2024", "2024Q4"
APPROACHES = ("pandas", "kpitools-parquet", "kpitools-duckdb", "kpitools-pandas")
RESULTS = Path(__file__).parent / "results" / "metrics.md"
KIB_PER_MIB = 1024
REL_TOL = 1e-9


def generate(rows: int, path: Path, seed: int = 7) -> None:
    """Write ``rows`` synthetic orders in the canonical ``orders`` columns to ``path``."""
    write_orders(rows, path, seed=seed, first_day=FIRST_DAY, days=DAYS,
                 orders_per_customer=ORDERS_PER_CUSTOMER, channels=CHANNELS,
                 products=N_PRODUCTS)


# --- the two implementations ---------------------------------------------------------------------


def suite_pandas(df) -> dict:
    """The KPI suite written the way a pandas user would (``df`` is the loaded frame)."""
    import pandas as pd

    df["net"] = df["amount"] - df["discount"]
    month = df.groupby(df["order_date"].dt.to_period("M")).agg(
        revenue=("net", "sum"), orders=("order_id", "count"))
    month["aov"] = month["revenue"] / month["orders"]
    as_of = df["order_date"].max()
    rfm = df.groupby("customer_id").agg(
        orders=("order_id", "count"), revenue=("net", "sum"), last_order_date=("order_date", "max"))
    rfm["recency_days"] = (as_of - rfm["last_order_date"]).dt.days
    rfm = rfm.sort_values("revenue", ascending=False)
    year = df[(df["order_date"] >= "2024-01-01") & (df["order_date"] < "2025-01-01")]
    per_customer = year.groupby("customer_id").size()
    repeat = float((per_customer >= 2).mean())
    first = df.groupby("customer_id")["order_date"].min()
    q4 = df[(df["order_date"] >= "2024-10-01") & (df["order_date"] < "2025-01-01")]
    is_new = q4["customer_id"].map(first) >= pd.Timestamp("2024-10-01")
    new_rev = q4.groupby(is_new)["net"].sum()
    channel = year.groupby("channel")["net"].sum().sort_values(ascending=False)
    return {
        "months": len(month),
        "month_revenue_total": float(month["revenue"].sum()),
        "aov_first_month": float(month["aov"].iloc[0]),
        "customers": len(rfm),
        "mean_recency_days": float(rfm["recency_days"].mean()),
        "top_customer_revenue": float(rfm["revenue"].iloc[0]),
        "repeat_purchase_rate": repeat,
        "new_revenue": float(new_rev.get(True, 0.0)),
        "returning_revenue": float(new_rev.get(False, 0.0)),
        "top_channel_revenue": float(channel.iloc[0]),
    }


def suite_kpitools(orders) -> dict:
    """The same suite through kpitools; ``orders`` is a pandas frame or an Ibis table."""
    from kpitools.metrics.orders import (
        customer_summary,
        new_vs_returning_revenue,
        repeat_purchase_rate,
        revenue_by,
    )

    month = revenue_by(orders, by="month")
    rfm = customer_summary(orders)
    repeat = repeat_purchase_rate(orders, YEAR)
    new_ret = new_vs_returning_revenue(orders, QUARTER)
    channel = revenue_by(orders, YEAR, by="channel")
    return {
        "months": len(month),
        "month_revenue_total": float(month["revenue"].sum()),
        "aov_first_month": float(month["aov"].iloc[0]),
        "customers": len(rfm),
        "mean_recency_days": float(rfm["recency_days"].mean()),
        "top_customer_revenue": float(rfm["revenue"].iloc[0]),
        "repeat_purchase_rate": repeat,
        "new_revenue": float(new_ret.loc["new", "revenue"]),
        "returning_revenue": float(new_ret.loc["returning", "revenue"]),
        "top_channel_revenue": float(channel["revenue"].iloc[0]),
    }


def worker(approach: str, path: Path) -> None:
    """Run one approach in this (child) process and print timings + results as JSON."""
    start = time.perf_counter()
    import pandas as pd

    if approach != "pandas":
        import ibis

        import kpitools.metrics.orders  # noqa: F401  (import cost belongs to this phase)
    imported = time.perf_counter()
    if approach == "pandas":
        orders = pd.read_parquet(path)
    elif approach == "kpitools-parquet":  # lazy: DuckDB reads the file inside each query
        orders = ibis.duckdb.connect().read_parquet(path, table_name="orders")
    elif approach == "kpitools-duckdb":
        con = ibis.duckdb.connect()
        orders = con.create_table("orders", con.read_parquet(path))
    else:
        orders = pd.read_parquet(path)
    loaded = time.perf_counter()
    out = suite_pandas(orders) if approach == "pandas" else suite_kpitools(orders)
    end = time.perf_counter()
    out["import_seconds"] = imported - start
    out["load_seconds"] = loaded - imported
    out["compute_seconds"] = end - loaded
    out["total_seconds"] = end - start
    out["work_seconds"] = end - imported
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out["peak_rss_mib"] = usage.ru_maxrss / KIB_PER_MIB
    out["cpu_seconds"] = usage.ru_utime + usage.ru_stime
    print(json.dumps(out))


def run_child(approach: str, path: Path) -> dict:
    """Run ``approach`` in a fresh interpreter and return what it printed.

    Linux keeps ``ru_maxrss`` across ``execve``, so the parent stays small (it never holds the
    data: generation runs in a child too) or its memory would show up in the child's peak.
    """
    cmd = [sys.executable, __file__, "--worker", approach, "--data", str(path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{approach} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


_CHECKED = ("months", "month_revenue_total", "aov_first_month", "customers", "mean_recency_days",
            "top_customer_revenue", "repeat_purchase_rate", "new_revenue", "returning_revenue",
            "top_channel_revenue")


def _same(a: dict, b: dict) -> list[str]:
    return [k for k in _CHECKED if abs(a[k] - b[k]) > REL_TOL * max(abs(a[k]), abs(b[k]))]


def report(rows: int, results: dict[str, dict], gen_seconds: float, file_mib: float,
           load: float, repeat: int) -> str:
    base = results["pandas"]
    lines = [
        "# Metric engine benchmark: order KPIs, kpitools (DuckDB) vs pandas",
        "",
        f"Generated by `benchmarks/bench_metrics.py --rows {rows}` on "
        f"{time.strftime('%Y-%m-%d')}; {os.cpu_count()} CPU cores, Python "
        f"{platform.python_version()}, {platform.system()} {platform.machine()}.",
        f"{rows:,} synthetic orders ({rows // ORDERS_PER_CUSTOMER:,} customers, 2023–2024), "
        f"Parquet file {file_mib:,.0f} MiB, generated in {gen_seconds:.1f} s.",
        "",
        "Suite: revenue and AOV by month; per-customer orders, revenue and recency; repeat "
        f"purchase rate {YEAR}; new vs returning revenue {QUARTER}; revenue by channel {YEAR}.",
        f"Each approach ran {repeat}× in its own fresh process, interleaved with the others; "
        "times are the fastest run, peak memory the largest maximum RSS of any run.",
        "",
        "| approach | import (s) | load (s) | compute (s) | total (s) | speed-up, total "
        "| speed-up, imports excluded | CPU (s) | peak RSS (MiB) | same results |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, r in results.items():
        diff = _same(base, r)
        same = "yes" if not diff else "NO: " + ", ".join(diff)
        lines.append(
            f"| {name} | {r['import_seconds']:.2f} | {r['load_seconds']:.2f} | "
            f"{r['compute_seconds']:.2f} | {r['total_seconds']:.2f} | "
            f"{base['total_seconds'] / r['total_seconds']:.1f}× | "
            f"{base['work_seconds'] / r['work_seconds']:.1f}× | "
            f"{r['cpu_seconds']:.1f} | {r['peak_rss_mib']:,.0f} | {same} |"
        )
    lines += ["", "Target: kpitools ≥ 3× faster than pandas at 10M rows, < 2 GB (2,048 MiB) peak.",
              f"Load average (1 min) when the run started: {load:.1f}; timings on a shared "
              "machine vary from run to run, the ratio within one run is the useful number. "
              "CPU = user + system seconds of the process (all threads), imports included. "
              "Imports: pandas for the baseline; pandas, Ibis and kpitools (which loads its "
              "whole package) for kpitools.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="orders to generate")
    parser.add_argument("--out", type=Path, default=RESULTS, help="markdown file for results")
    parser.add_argument("--approaches", default=",".join(APPROACHES),
                        help="comma-separated subset of " + ", ".join(APPROACHES))
    parser.add_argument("--repeat", type=int, default=2,
                        help="runs per approach; the fastest is reported, peak RSS is the max")
    parser.add_argument("--worker", choices=(*APPROACHES, "generate"), help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker == "generate":
        generate(args.rows, args.data)
        return
    if args.worker:
        worker(args.worker, args.data)
        return
    approaches = [a.strip() for a in args.approaches.split(",") if a.strip()]
    if "pandas" not in approaches:
        approaches.insert(0, "pandas")
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="kpitools-bench-") as tmp:
        path = Path(tmp) / "orders.parquet"
        t0 = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--worker", "generate", "--rows",
                        str(args.rows), "--data", str(path)], check=True)
        gen_seconds = time.perf_counter() - t0
        file_mib = path.stat().st_size / KIB_PER_MIB / KIB_PER_MIB
        results: dict[str, dict] = {}
        for round_ in range(args.repeat):  # interleaved, so a busy spell hits every approach
            for name in approaches:
                r = run_child(name, path)
                best = results.get(name)
                if best is None or r["total_seconds"] < best["total_seconds"]:
                    results[name] = {**r, "peak_rss_mib": max(
                        r["peak_rss_mib"], best["peak_rss_mib"] if best else 0.0)}
                elif r["peak_rss_mib"] > best["peak_rss_mib"]:
                    best["peak_rss_mib"] = r["peak_rss_mib"]
                print(f"round {round_ + 1} {name:>18}: total {r['total_seconds']:.2f} s "
                      f"(import {r['import_seconds']:.2f}, load {r['load_seconds']:.2f}), "
                      f"CPU {r['cpu_seconds']:.1f} s, peak {r['peak_rss_mib']:,.0f} MiB",
                      flush=True)
        for name, r in results.items():
            print(f"best {name:>18}: total {r['total_seconds']:.2f} s", flush=True)
    text = report(args.rows, results, gen_seconds, file_mib, load, args.repeat)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
