"""Benchmark the workshop app: start-up, time to the first chart, memory of 3 people.

Targets (issue 14): server up within 15 s; the first chart of any notebook within 5 s of
opening its page once the server is up (kernels pre-run); 3 people opening every notebook
stay under 2 GB resident.

    .venv/bin/python benchmarks/bench_workshop.py            # print the results
    .venv/bin/python benchmarks/bench_workshop.py --write    # also update results/workshop.md

Chromium comes from Debian (/usr/bin/chromium), driven by Playwright; nothing is downloaded.

What is measured
----------------
1. ``up``: from :meth:`WorkshopServer.start` (copies prepared, Voilà started) until Voilà
   answers on ``/``; ``warm``: until every pooled kernel has also finished running its
   notebook (the kernels' CPU time stops growing).
2. ``first chart``: for each notebook in the server's language, a new page; time from
   ``page.goto`` to the first chart image being visible (notebook 03 draws no chart: its
   headline KPI cards are timed instead); ``widgets``: until the first widget is drawn.
   The page is then closed (Voilà shuts its kernel down) and the pool refilled before the next.
3. ``3 people``: three browser contexts each open notebook 1, 2, ... 5 in one tab, moving on
   when the first chart shows, all three side by side. Memory of Voilà and every kernel is
   sampled every 0.5 s: the sum of RSS (counts shared library pages once per process, so it
   overstates) and the sum of PSS (shared pages divided among the processes sharing them:
   what the machine really holds). Then every page is closed and, once the idle-kernel culling
   has had time to act (CULL_IDLE_S + 2 × CULL_INTERVAL_S), the kernels left are counted.

CPU time (user + sys of this process, Voilà and all kernels) and the load average are written
beside each wall time: the machine is shared, and wall times depend on what else runs.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kpitools.app.server import (  # noqa: E402
    CULL_IDLE_S,
    CULL_INTERVAL_S,
    WorkshopServer,
    list_notebooks,
)

RESULTS = REPO / "benchmarks" / "results" / "workshop.md"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update"]
UP_TARGET_S, CHART_TARGET_S, MEMORY_TARGET_MB = 15.0, 5.0, 2048.0
PEOPLE = 3
#: First chart of a notebook page; notebook 03 has none, so its headline cards stand in.
CHART = ".jp-OutputArea-output img, .widget-image"
CARDS = ".kpitools-card"
MB = 2**20


class Sampler(threading.Thread):
    """Samples RSS and PSS of Voilà and its kernels every ``every`` seconds; keeps the peaks."""

    def __init__(self, server: WorkshopServer, every: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.server, self.every = server, every
        self.peak_rss = self.peak_pss = 0.0
        self.peak_kernels = 0
        self.running = True

    def sample(self) -> tuple[float, float, int]:
        rss = pss = 0.0
        procs = self.server.processes()
        for proc in procs:
            try:
                info = proc.memory_full_info()
            except psutil.Error:
                continue
            rss += info.rss
            pss += info.pss
        return rss / MB, pss / MB, len(self.server.kernels())

    def run(self) -> None:
        while self.running:
            rss, pss, kernels = self.sample()
            self.peak_rss = max(self.peak_rss, rss)
            self.peak_pss = max(self.peak_pss, pss)
            self.peak_kernels = max(self.peak_kernels, kernels)
            time.sleep(self.every)


def cpu_seconds(server: WorkshopServer) -> float:
    """User + sys CPU of this process, Voilà and the kernels alive now."""
    own = os.times()
    total = own.user + own.system
    for proc in server.processes():
        try:
            t = proc.cpu_times()
        except psutil.Error:
            continue
        total += t.user + t.system
    return total


def wait_idle(server: WorkshopServer, timeout: float = 600.0, quiet_s: float = 3.0) -> float:
    """Wait until the kernels stop using CPU (pooled notebooks finished running)."""
    started = time.perf_counter()
    server.wait_warm(timeout)
    last, calm_since = cpu_seconds(server), time.perf_counter()
    while time.perf_counter() - started < timeout:
        time.sleep(0.5)
        now = cpu_seconds(server)
        if now - last > 0.05:
            calm_since = time.perf_counter()
        elif time.perf_counter() - calm_since >= quiet_s:
            break
        last = now
    return time.perf_counter() - started - quiet_s


def first_chart(page, url: str, timeout_ms: int = 300_000) -> tuple[float, float, str]:
    """Seconds from navigation to the first chart (or the cards) and to the first widget."""
    started = time.perf_counter()
    page.goto(url, wait_until="commit", timeout=timeout_ms)
    shown = page.locator(CHART).or_(page.locator(CARDS)).first
    shown.wait_for(state="visible", timeout=timeout_ms)
    chart_s = time.perf_counter() - started
    what = "chart" if page.locator(CHART).count() else "cards"
    page.locator(".jupyter-widgets").first.wait_for(state="attached", timeout=timeout_ms)
    return chart_s, time.perf_counter() - started, what


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--client", type=Path, default=REPO / "data/sample/cloudledger")
    parser.add_argument("--lang", default="zh-TW")
    parser.add_argument("--write", action="store_true", help="update results/workshop.md")
    parser.add_argument("--notebooks", nargs="*", help="file names to time (default: all)")
    parser.add_argument("--people", type=int, default=PEOPLE,
                        help="people opening every notebook at once (0: skip that part)")
    parser.add_argument("--pool-size", type=int, default=None,
                        help="pre-run kernels per notebook (default: the app's)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    notebooks = args.notebooks or [p.name for p in list_notebooks(REPO / "notebooks")]
    load_start = os.getloadavg()
    extra = {} if args.pool_size is None else {"pool_size": args.pool_size}
    server = WorkshopServer(args.client, lang=args.lang, **extra)
    cpu0, t0 = cpu_seconds(server), time.perf_counter()
    rows, lines = [], []
    try:
        server.start(timeout=180)
        up_s, up_cpu = time.perf_counter() - t0, cpu_seconds(server) - cpu0
        warm_s = wait_idle(server) + up_s
        load_up = os.getloadavg()
        idle = Sampler(server)
        rss_idle, pss_idle, kernels_idle = idle.sample()
        print(f"up {up_s:.1f} s, warm {warm_s:.1f} s; {kernels_idle} kernels idle "
              f"RSS {rss_idle:.0f} MB PSS {pss_idle:.0f} MB", flush=True)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for name in notebooks:
                wait_idle(server)
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                load = os.getloadavg()[0]
                cpu_before = cpu_seconds(server)
                chart_s, widgets_s, what = first_chart(page, server.url_for(name, args.lang))
                rows.append((name, chart_s, widgets_s, what, cpu_seconds(server) - cpu_before,
                             load))
                print(f"{name}: first {what} {chart_s:.2f} s, widgets {widgets_s:.2f} s",
                      flush=True)
                page.close(run_before_unload=True)
            wait_idle(server)
            sampler = Sampler(server)
            sampler.start()
            people = [browser.new_context(viewport={"width": 1280, "height": 900})
                      for _ in range(args.people)]
            tabs = [person.new_page() for person in people]
            t_people, load_people = time.perf_counter(), os.getloadavg()[0]
            waits = [0.0]
            for name in notebooks:
                starts = []
                for tab in tabs:
                    starts.append(time.perf_counter())
                    tab.goto(server.url_for(name, args.lang), wait_until="commit")
                for tab, start in zip(tabs, starts, strict=True):
                    tab.locator(CHART).or_(tab.locator(CARDS)).first.wait_for(
                        state="visible", timeout=600_000)
                    waits.append(time.perf_counter() - start)
            people_s = time.perf_counter() - t_people
            for tab in tabs:
                tab.close(run_before_unload=True)
            for person in people:
                person.close()
            # Closed pages' kernels go once idle and unconnected for CULL_IDLE_S seconds.
            if args.people:
                time.sleep(CULL_IDLE_S + 2 * CULL_INTERVAL_S + 10)
            sampler.running = False
            sampler.join()
            after = Sampler(server).sample()
            browser.close()
    finally:
        server.stop()
    ok = {
        "up": up_s <= UP_TARGET_S,
        "chart": max(r[1] for r in rows) <= CHART_TARGET_S,
        "memory_pss": sampler.peak_pss <= MEMORY_TARGET_MB,
        "memory_rss": sampler.peak_rss <= MEMORY_TARGET_MB,
    }
    cpu = platform.processor() or platform.machine()
    lines = [
        f"## Run {datetime.now():%Y-%m-%d %H:%M} ({psutil.cpu_count()} CPUs, {cpu}, "
        f"Python {platform.python_version()})",
        "",
        f"Load average at start {load_start[0]:.2f} / {load_start[1]:.2f} / {load_start[2]:.2f}; "
        f"when the server was up {load_up[0]:.2f}.",
        "",
        "| step | wall | CPU (user+sys) | target | met |",
        "|---|---|---|---|---|",
        f"| server up (copies + Voilà answering) | {up_s:.1f} s | {up_cpu:.1f} s | "
        f"≤ {UP_TARGET_S:.0f} s | {'yes' if ok['up'] else 'NO'} |",
        f"| kernels warm ({kernels_idle} pre-run) | {warm_s:.1f} s | | | |",
        "",
        f"First chart after opening a page (server warm), language {args.lang}:",
        "",
        "| notebook | first chart | widgets drawn | CPU during the page | load avg | "
        f"≤ {CHART_TARGET_S:.0f} s |",
        "|---|---|---|---|---|---|",
    ]
    for name, chart_s, widgets_s, what, cpu_s, load in rows:
        shown = "first chart" if what == "chart" else "headline cards (no chart)"
        met = "yes" if chart_s <= CHART_TARGET_S else "NO"
        lines.append(f"| {name} ({shown}) | {chart_s:.2f} s | {widgets_s:.2f} s | "
                     f"{cpu_s:.1f} s | {load:.2f} | {met} |")
    lines += [
        "",
        f"{args.people} people, each opening every notebook in turn in one tab (all at once): "
        f"{people_s:.0f} s in all (load avg {load_people:.2f}); time to the first chart per "
        f"page: median {statistics.median(waits):.1f} s, max {max(waits):.1f} s.",
        "",
        "| memory (Voilà + kernels) | idle, pool warm | peak, 3 people | after closing | "
        f"≤ {MEMORY_TARGET_MB:.0f} MB |",
        "|---|---|---|---|---|",
        f"| PSS sum (shared pages divided) | {pss_idle:.0f} MB | {sampler.peak_pss:.0f} MB | "
        f"{after[1]:.0f} MB | {'yes' if ok['memory_pss'] else 'NO'} |",
        f"| RSS sum (shared pages counted per process) | {rss_idle:.0f} MB | "
        f"{sampler.peak_rss:.0f} MB | {after[0]:.0f} MB | {'yes' if ok['memory_rss'] else 'NO'} |",
        f"| kernels | {kernels_idle} | {sampler.peak_kernels} | {after[2]} | |",
        "",
    ]
    report = "\n".join(lines)
    print(report)
    if args.write:
        header = ("# Workshop app benchmark (`bench_workshop.py`)\n\n"
                  "Newest run first. See the script's docstring for what is measured.\n\n")
        old = RESULTS.read_text(encoding="utf-8").split("\n", 4)[-1] if RESULTS.exists() else ""
        RESULTS.write_text(header + report + "\n" + old, encoding="utf-8")


if __name__ == "__main__":
    main()
