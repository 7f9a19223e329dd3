"""Benchmark: an e-commerce KPI suite by CPU time, kpitools vs hand-written DuckDB SQL vs pandas.

Usage::

    nice .venv/bin/python benchmarks/bench_suite.py                   # 10,000,000 orders
    nice .venv/bin/python benchmarks/bench_suite.py --rows 2000000 --out /tmp/suite-2m.md

Issue 13 measures on a machine shared with other jobs, where wall time says more about the
neighbours than about the code. Each approach therefore runs in its own fresh process and reports
its **CPU time** (user + system of all its threads, from ``getrusage``) beside wall time and peak
memory; the load average is written down at the start and end; the ratios compare CPU times of
the same run.

Data: N synthetic orders over three years (2022–2024; 1 order in 10 per customer), written to a
Parquet file in the canonical ``orders`` columns by a child process.

Two measurements, each approach checked against the others for the same numbers:

1. **new-customer series**: new customers per month for the 36 months, by
   ``kpi_series("new_customers_orders", ..., freq="M")`` on an Ibis table over the Parquet file,
   and by one hand-written DuckDB query.
2. **suite**: per-customer RFM (orders, revenue, recency); revenue, AOV and active customers per
   month; new customers per month; quarterly order cohorts (share of each first-order quarter
   ordering in each later quarter). Approaches: ``kpitools`` (Ibis over the Parquet file),
   ``duckdb-sql`` (hand-written SQL over the same file) and ``pandas`` (``read_parquet`` +
   ``groupby``).

Results go to ``benchmarks/results/suite.md``.
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
ORDERS_PER_CUSTOMER = 10
FIRST_DAY = "2022-01-01"
DAYS = 1096  # 2022-01-01 .. 2024-12-31
FIRST_MONTH, LAST_MONTH = "2022-01", "2024-12"
AS_OF = "2024-12-31"
CHANNELS = ("web", "app", "store", "line", "shopee")
RESULTS = Path(__file__).parent / "results" / "suite.md"
KIB_PER_MIB = 1024
REL_TOL = 1e-9
SERIES_APPROACHES = ("series-kpitools", "series-duckdb-sql")
SUITE_APPROACHES = ("suite-kpitools", "suite-duckdb-sql", "suite-pandas")


def generate(rows: int, path: Path, seed: int = 13) -> None:
    """Write ``rows`` synthetic orders (canonical ``orders`` columns) to ``path``."""
    write_orders(rows, path, seed=seed, first_day=FIRST_DAY, days=DAYS,
                 orders_per_customer=ORDERS_PER_CUSTOMER, channels=CHANNELS)


# ---------------------------------------------------------------------- new-customer series


def series_kpitools(path: Path) -> dict:
    import ibis

    from kpitools.catalog import kpi_series

    orders = ibis.duckdb.connect().read_parquet(path, table_name="orders")
    s = kpi_series("new_customers_orders", {"orders": orders}, "M", FIRST_MONTH, LAST_MONTH)
    return {"new_customers": [float(v) for v in s.to_numpy()]}


def series_duckdb_sql(path: Path) -> dict:
    import duckdb

    rows = duckdb.connect().execute(
        """
        WITH firsts AS (
            SELECT date_trunc('month', min(order_date)) AS month
            FROM read_parquet(?) GROUP BY customer_id),
        months AS (
            SELECT range AS month
            FROM range(TIMESTAMP '2022-01-01', TIMESTAMP '2025-01-01', INTERVAL 1 MONTH))
        SELECT m.month, count(f.month) AS n
        FROM months m LEFT JOIN firsts f ON f.month = m.month
        GROUP BY m.month ORDER BY m.month
        """,
        [str(path)],
    ).fetchall()
    return {"new_customers": [float(n) for _, n in rows]}


# ------------------------------------------------------------------------------------ suite


def _summary(rfm_orders, rfm_revenue, recency, months_revenue, months_aov, months_active,
             new_per_month, cohort_q1, cohort_cells) -> dict:
    """The numbers compared across approaches (all floats)."""
    return {
        "customers": float(len(rfm_orders)),
        "rfm_orders_total": float(sum(rfm_orders)),
        "rfm_revenue_max": float(max(rfm_revenue)),
        "mean_recency_days": float(sum(recency) / len(recency)),
        "revenue_total": float(sum(months_revenue)),
        "aov_first_month": float(months_aov[0]),
        "aov_last_month": float(months_aov[-1]),
        "active_customers": [float(x) for x in months_active],
        "new_customers": [float(x) for x in new_per_month],
        "cohort_2022Q1": [float(x) for x in cohort_q1],
        "cohort_cells": float(cohort_cells),
    }


def suite_kpitools(path: Path) -> dict:
    import ibis

    from kpitools.catalog import kpi_series
    from kpitools.metrics.order_retention import order_cohort_retention
    from kpitools.metrics.orders import customer_summary

    orders = ibis.duckdb.connect().read_parquet(path, table_name="orders")
    data = {"orders": orders}
    rfm = customer_summary(orders, as_of=AS_OF)
    revenue = kpi_series("revenue", data, "M", FIRST_MONTH, LAST_MONTH)
    aov = kpi_series("aov", data, "M", FIRST_MONTH, LAST_MONTH)
    active = kpi_series("active_customers", data, "M", FIRST_MONTH, LAST_MONTH)
    new = kpi_series("new_customers_orders", data, "M", FIRST_MONTH, LAST_MONTH)
    cohorts = order_cohort_retention(orders, "Q", as_of=AS_OF)
    return _summary(rfm["orders"].tolist(), rfm["revenue"].tolist(),
                    rfm["recency_days"].tolist(), revenue.tolist(), aov.tolist(),
                    active.tolist(), new.tolist(), cohorts.iloc[0].tolist(),
                    int((cohorts > 0).sum().sum()))


def suite_duckdb_sql(path: Path) -> dict:
    import duckdb

    con = duckdb.connect()
    con.read_parquet(str(path)).create_view("orders")
    rfm = con.execute(
        """
        SELECT customer_id, count(*) AS orders, sum(amount - coalesce(discount, 0)) AS revenue,
               date_diff('day', max(order_date), TIMESTAMP '2024-12-31') AS recency_days
        FROM orders GROUP BY customer_id ORDER BY revenue DESC, customer_id
        """
    ).df()
    months = con.execute(
        """
        SELECT date_trunc('month', order_date) AS month,
               sum(amount - coalesce(discount, 0)) AS revenue,
               sum(amount - coalesce(discount, 0)) / count(*) AS aov,
               count(DISTINCT customer_id) AS active
        FROM orders GROUP BY month ORDER BY month
        """
    ).fetchall()
    new = con.execute(
        """
        WITH firsts AS (
            SELECT date_trunc('month', min(order_date)) AS month FROM orders GROUP BY customer_id),
        months AS (
            SELECT range AS month
            FROM range(TIMESTAMP '2022-01-01', TIMESTAMP '2025-01-01', INTERVAL 1 MONTH))
        SELECT m.month, count(f.month) AS n
        FROM months m LEFT JOIN firsts f ON f.month = m.month
        GROUP BY m.month ORDER BY m.month
        """
    ).fetchall()
    cells = con.execute(
        """
        WITH visits AS (
            SELECT DISTINCT customer_id,
                   (year(order_date) * 12 + month(order_date) - 1) // 3 AS q
            FROM orders),
        cohorts AS (SELECT customer_id, min(q) AS cohort FROM visits GROUP BY 1)
        SELECT c.cohort, v.q - c.cohort AS age, count(*) AS n
        FROM visits v JOIN cohorts c USING (customer_id)
        GROUP BY 1, 2 ORDER BY 1, 2
        """
    ).fetchall()
    sizes = {cohort: n for cohort, age, n in cells if age == 0}
    first = min(sizes)
    q1 = [n / sizes[first] for cohort, _, n in cells if cohort == first]
    return _summary(rfm["orders"].tolist(), rfm["revenue"].tolist(),
                    rfm["recency_days"].astype(float).tolist(), [m[1] for m in months],
                    [m[2] for m in months], [m[3] for m in months], [n for _, n in new], q1,
                    len(cells))


def suite_pandas(path: Path) -> dict:
    import pandas as pd

    df = pd.read_parquet(path)
    df["net"] = df["amount"] - df["discount"].fillna(0.0)
    rfm = df.groupby("customer_id").agg(orders=("order_id", "count"), revenue=("net", "sum"),
                                        last=("order_date", "max"))
    rfm["recency_days"] = (pd.Timestamp(AS_OF) - rfm["last"]).dt.days
    rfm = rfm.sort_values("revenue", ascending=False)
    month = df["order_date"].dt.to_period("M")
    by_month = df.groupby(month).agg(revenue=("net", "sum"), orders=("order_id", "count"),
                                     active=("customer_id", "nunique"))
    by_month["aov"] = by_month["revenue"] / by_month["orders"]
    first = df.groupby("customer_id")["order_date"].min()
    new = first.dt.to_period("M").value_counts()
    new = new.reindex(pd.period_range(FIRST_MONTH, LAST_MONTH, freq="M"), fill_value=0)
    quarter = df["order_date"].dt.year * 4 + (df["order_date"].dt.month - 1) // 3
    visits = pd.DataFrame({"c": df["customer_id"], "q": quarter}).drop_duplicates()
    visits["cohort"] = visits.groupby("c")["q"].transform("min")
    cells = visits.groupby(["cohort", visits["q"] - visits["cohort"]]).size()
    first_cohort = cells.index.get_level_values(0).min()
    q1 = cells.loc[first_cohort]
    return _summary(rfm["orders"].tolist(), rfm["revenue"].tolist(),
                    rfm["recency_days"].astype(float).tolist(), by_month["revenue"].tolist(),
                    by_month["aov"].tolist(), by_month["active"].tolist(), new.tolist(),
                    (q1 / q1.iloc[0]).tolist(), len(cells))


# ---------------------------------------------------------------------------------- running

_WORK = {
    "series-kpitools": series_kpitools,
    "series-duckdb-sql": series_duckdb_sql,
    "suite-kpitools": suite_kpitools,
    "suite-duckdb-sql": suite_duckdb_sql,
    "suite-pandas": suite_pandas,
}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def worker(approach: str, path: Path) -> None:
    """Run one approach in this child process; print its numbers and costs as JSON."""
    wall0, cpu0 = time.perf_counter(), _cpu()
    # imports are part of the cost of each approach, and measured on their own too
    if "kpitools" in approach:
        import ibis
        import ibis.backends.duckdb  # noqa: F401  (what ibis.duckdb.connect() loads)

        import kpitools.catalog
        import kpitools.metrics.order_retention
        import kpitools.metrics.orders  # noqa: F401
    elif "pandas" in approach:
        import pandas  # noqa: F401
    else:
        import duckdb  # noqa: F401
    wall1, cpu1 = time.perf_counter(), _cpu()
    out = _WORK[approach](path)
    wall2, cpu2 = time.perf_counter(), _cpu()
    out.update(
        wall_seconds=wall2 - wall0, cpu_seconds=cpu2 - cpu0, import_cpu_seconds=cpu1 - cpu0,
        work_cpu_seconds=cpu2 - cpu1, import_wall_seconds=wall1 - wall0,
        peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / KIB_PER_MIB,
    )
    print(json.dumps(out))


def run_child(approach: str, path: Path) -> dict:
    """``approach`` in a fresh interpreter (its ``ru_maxrss`` is then its own)."""
    cmd = [sys.executable, __file__, "--worker", approach, "--data", str(path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{approach} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _differences(a: dict, b: dict) -> list[str]:
    bad = []
    for key, value in a.items():
        if key.endswith(("_seconds", "_mib")):
            continue
        x, y = value, b[key]
        xs, ys = (x, y) if isinstance(x, list) else ([x], [y])
        if len(xs) != len(ys) or any(abs(p - q) > REL_TOL * max(abs(p), abs(q), 1.0)
                                     for p, q in zip(xs, ys, strict=False)):
            bad.append(key)
    return bad


def _table(results: dict[str, dict], base: str, ref: str) -> list[str]:
    lines = ["| approach | wall (s) | CPU (s) | CPU of imports (s) | CPU without imports (s) "
             f"| CPU ÷ {ref} CPU | CPU ÷ {ref}, imports excluded | peak RSS (MiB) "
             f"| same numbers as {base} |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for name, r in results.items():
        diff = _differences(results[base], r)
        lines.append(
            f"| {name} | {r['wall_seconds']:.2f} | {r['cpu_seconds']:.2f} | "
            f"{r['import_cpu_seconds']:.2f} | {r['work_cpu_seconds']:.2f} | "
            f"{r['cpu_seconds'] / results[ref]['cpu_seconds']:.2f}× | "
            f"{r['work_cpu_seconds'] / results[ref]['work_cpu_seconds']:.2f}× | "
            f"{r['peak_rss_mib']:,.0f} | {'yes' if not diff else 'NO: ' + ', '.join(diff)} |"
        )
    return lines


def report(rows: int, series: dict, suite: dict, file_mib: float, gen_seconds: float,
           loads: list[tuple[float, float, float]], repeat: int) -> str:
    load_text = ", ".join(f"{a:.1f} / {b:.1f} / {c:.1f}" for a, b, c in loads)
    head = [
        "# E-commerce KPI suite by CPU time: kpitools vs hand-written DuckDB SQL vs pandas",
        "",
        f"Generated by `benchmarks/bench_suite.py --rows {rows}` on "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {os.cpu_count()} CPU cores, "
        f"Python {platform.python_version()}, {platform.system()} {platform.machine()}.",
        f"{rows:,} synthetic orders ({rows // ORDERS_PER_CUSTOMER:,} customers, 2022–2024), "
        f"Parquet file {file_mib:,.0f} MiB, generated in {gen_seconds:.1f} s.",
        f"Load average (1 / 5 / 15 min) at the start and at the end: {load_text}. The machine "
        "was shared with other jobs: wall times depend on them, CPU times much less.",
        f"Each approach ran {repeat}× in a fresh process, interleaved; the table shows the run "
        "with the least CPU time and the largest peak RSS of any run. CPU = user + system "
        "seconds of the process (all threads), imports included unless said otherwise.",
        "",
    ]
    parts = [head]
    if series:
        parts.append(_series_part(series))
    if suite:
        parts.append(_suite_part(suite))
    return "\n".join(line for part in parts for line in part)


def _series_part(series: dict) -> list[str]:
    return [
        "## 36-month new-customer series",
        "",
        "`kpi_series('new_customers_orders', {'orders': t}, 'M', '2022-01', '2024-12')` on an "
        "Ibis table over the Parquet file, against one hand-written DuckDB query.",
        "",
        *_table(series, "series-duckdb-sql", "series-duckdb-sql"),
        "",
        "Target: ≤ 1.5× the CPU of the hand-written query, same numbers.",
        "",
    ]


def _suite_part(suite: dict) -> list[str]:
    pandas_cpu = suite["suite-pandas"]["cpu_seconds"]
    kp_cpu = suite["suite-kpitools"]["cpu_seconds"]
    return [
        "## Suite",
        "",
        "RFM per customer; revenue, AOV and active customers per month; new customers per "
        "month; quarterly order cohorts.",
        "",
        *_table(suite, "suite-duckdb-sql", "suite-duckdb-sql"),
        "",
        f"pandas ÷ kpitools CPU: {pandas_cpu / kp_cpu:.1f}× (target ≥ 4×). "
        "Targets: kpitools ≤ 1.5× the CPU of hand-written SQL; peak RSS < 1 GB (1,024 MiB).",
        "",
    ]


def _best(results: dict[str, dict], name: str, r: dict) -> None:
    best = results.get(name)
    if best is None or r["cpu_seconds"] < best["cpu_seconds"]:
        peak = max(r["peak_rss_mib"], best["peak_rss_mib"] if best else 0.0)
        results[name] = {**r, "peak_rss_mib": peak}
    elif r["peak_rss_mib"] > best["peak_rss_mib"]:
        best["peak_rss_mib"] = r["peak_rss_mib"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--only", choices=("series", "suite"),
                        help="run one of the two measurements (the report shows only it)")
    parser.add_argument("--worker", choices=(*_WORK, "generate"), help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker == "generate":
        generate(args.rows, args.data)
        return
    if args.worker:
        worker(args.worker, args.data)
        return
    loads = [os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="kpitools-suite-") as tmp:
        path = Path(tmp) / "orders.parquet"
        t0 = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--worker", "generate", "--rows",
                        str(args.rows), "--data", str(path)], check=True)
        gen_seconds = time.perf_counter() - t0
        file_mib = path.stat().st_size / KIB_PER_MIB / KIB_PER_MIB
        series: dict[str, dict] = {}
        suite: dict[str, dict] = {}
        for round_ in range(args.repeat):
            names = (*(SERIES_APPROACHES if args.only != "suite" else ()),
                     *(SUITE_APPROACHES if args.only != "series" else ()))
            for name in names:
                r = run_child(name, path)
                _best(series if name.startswith("series") else suite, name, r)
                print(f"round {round_ + 1} {name:>18}: wall {r['wall_seconds']:.2f} s, CPU "
                      f"{r['cpu_seconds']:.2f} s (imports {r['import_cpu_seconds']:.2f}), peak "
                      f"{r['peak_rss_mib']:,.0f} MiB, load {os.getloadavg()[0]:.1f}", flush=True)
    loads.append(os.getloadavg())
    text = report(args.rows, series, suite, file_mib, gen_seconds, loads, args.repeat)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
