"""The workshop app in a real browser (Playwright + Debian's chromium): the goal builder's
whole round trip, pages that never leave 127.0.0.1, kernels shut down and culled, and the
sales notebook's widgets in both languages.

Every page here comes from a browser context that refuses, and records, any request to a host
other than 127.0.0.1: each test ends by checking that nothing was asked for elsewhere.
The server works on a copy of the sample client, so saving goals never touches data/sample.
Slow on a shared 2-core machine: run it on its own (``pytest tests/test_browser_workshop.py``).
"""

from __future__ import annotations

import contextlib
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from kpitools.app.server import WorkshopServer

pytestmark = [pytest.mark.browser, pytest.mark.timeout(1200)]

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGE_MS = 400_000
UPDATE_MS = 60_000
#: Culling settings of the test server (seconds): short, so the test can watch it happen.
CULL_IDLE_S, CULL_INTERVAL_S = 20, 5
ASK_SAVE = re.compile(r"確定要把 \d+ 個目標寫入客戶資料夾「cloudledger」的 goals\.yaml 嗎？")

if not Path(CHROMIUM).is_file():
    pytest.skip(
        "Debian's chromium is not installed (apt-get install chromium); browser tests "
        "never download a browser",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (PyPI) not installed")
expect = sync_api.expect


def _nbsp(label: str) -> str:
    return label.replace(" ", "\xa0")


@pytest.fixture(scope="module")
def client_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("client") / "cloudledger"
    shutil.copytree(REPO / "data" / "sample" / "cloudledger", folder)
    (folder / "goals.yaml").unlink(missing_ok=True)
    return folder


@contextlib.contextmanager
def serve(client_dir: Path, names: tuple[str, ...], tmp_path_factory,
          **options: object) -> Iterator[WorkshopServer]:
    """The app (zh-TW, one pre-run kernel per pooled notebook) on copies of ``names``."""
    notebooks = tmp_path_factory.mktemp("notebooks")
    for name in names:
        shutil.copy(REPO / "notebooks" / f"{name}.ipynb", notebooks)
    server = WorkshopServer(client_dir, lang="zh-TW", notebooks_dir=notebooks, pool_size=1,
                            **options)
    try:
        server.start(timeout=180)
        assert server.wait_warm(300), server.log_tail()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def app(client_dir, tmp_path_factory) -> Iterator[WorkshopServer]:
    with serve(client_dir, ("01_smart_goals", "04_sales_kpis"), tmp_path_factory,
               cull_idle_s=CULL_IDLE_S, cull_interval_s=CULL_INTERVAL_S) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


class Offline:
    """A browser context whose requests may only go to 127.0.0.1 (others are refused)."""

    def __init__(self, browser) -> None:
        self.outside: list[str] = []
        self.context = browser.new_context(viewport={"width": 1280, "height": 1000})
        self.context.route("**/*", self._guard)

    def _guard(self, route) -> None:
        url = route.request.url
        if url.startswith(("data:", "blob:")) or urlsplit(url).hostname == "127.0.0.1":
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def page(self):
        return self.context.new_page()


@pytest.fixture
def offline(browser) -> Iterator[Offline]:
    guard = Offline(browser)
    try:
        yield guard
    finally:
        with contextlib.suppress(Exception):
            guard.context.close()


def _open(page, url: str) -> None:
    page.goto(url, wait_until="commit", timeout=PAGE_MS)
    page.wait_for_selector(".jupyter-widgets", timeout=PAGE_MS)
    page.wait_for_load_state("load", timeout=PAGE_MS)
    assert page.get_by_text("Error displaying widget").count() == 0
    body = page.locator("body").inner_text()
    for developer_text in ("papermill", "save_goals", "metrics.json", "/tmp/", "For analysts"):
        assert developer_text not in body


def _panel(page, title: str):
    return page.locator(".widget-vbox").filter(has=page.locator("h4", has_text=title)).last


def _open_panel(page, url: str, title: str):
    """Open a notebook page (checked as :func:`_open` does) and scroll to its panel ``title``."""
    _open(page, url)
    panel = _panel(page, title)
    panel.scroll_into_view_if_needed()
    return panel


def _kernels(app: WorkshopServer) -> int:
    return len(app.kernels())


# --- offline -----------------------------------------------------------------------------------


def test_pages_ask_nothing_of_any_host_but_loopback(app, offline):
    page = offline.page()
    page.goto(app.url, timeout=PAGE_MS)
    _open(page, app.url_for("04_sales_kpis.ipynb", "zh-TW"))
    assert offline.outside == []
    # The guard itself works: a request elsewhere is caught (and refused).
    page.evaluate("fetch('https://cdn.jsdelivr.net/npm/x.css').catch(() => null)")
    page.wait_for_timeout(500)
    assert offline.outside == ["https://cdn.jsdelivr.net/npm/x.css"]


# --- 01: the goal builder's round trip --------------------------------------------------------


def test_goal_builder_round_trip_saves_two_goals_and_shows_them_after_reload(
    app, offline, client_dir
):
    from kpitools.goals import read_goals

    page = offline.page()
    panel = _open_panel(page, app.url_for("01_smart_goals.ipynb", "zh-TW"), "目標產生器")
    kpi, period = panel.get_by_label("指標", exact=True), panel.get_by_label("期限", exact=True)
    target = panel.get_by_label("目標值", exact=True)
    # The steps: 贏單率, 25 (%), deadline 2025年第2季 → target and baseline stay.
    kpi.select_option(label=_nbsp("贏單率（成交率）"))
    from kpitools.catalog import compute_kpi
    from kpitools.workshop import _common

    win_rate = compute_kpi("win_rate", _common.open_client(client_dir), "2024Q3")
    baseline = f"基準（2024年第3季）：{win_rate * 100:.1f}%"
    baseline_line = panel.locator(".widget-html-content").filter(has_text="基準（").first
    expect(baseline_line).to_have_text(baseline, timeout=UPDATE_MS)
    target.fill("25")
    target.press("Enter")
    expect(panel).to_contain_text("目標：25.0%", timeout=UPDATE_MS)
    period.select_option(label=_nbsp("2025年第2季"))
    page.wait_for_timeout(1500)
    expect(target).to_have_value("25")
    assert baseline_line.inner_text() == baseline
    assert "—" not in baseline
    period.select_option(label=_nbsp("2024年第4季"))
    expect(target).to_have_value("25")
    panel.get_by_role("button", name="加入共識目標").click()
    kpi.select_option(label=_nbsp("顧客終身價值（CLTV）"))
    expect(target).not_to_have_value("25", timeout=UPDATE_MS)
    target.fill("2,500,000")
    target.press("Enter")
    expect(panel).to_contain_text("目標：2,500,000元", timeout=UPDATE_MS)
    panel.get_by_role("button", name="加入共識目標").click()
    # The list starts from the client's own goals for the quarter; each added goal replaces
    # one on the same KPI and quarter and goes last.
    agreed = panel.locator("ol.kpitools-agreed li")
    expect(agreed.last).to_contain_text(
        "顧客終身價值（CLTV）：2024年第4季達到 2,500,000元", timeout=UPDATE_MS
    )
    n = agreed.count()
    expect(agreed.nth(n - 2)).to_contain_text("贏單率（成交率）：2024年第4季達到 25.0%")
    assert page.get_by_text("贏單率（成交率）：").count() == 1
    # Saving asks first; nothing is written before the confirmation.
    panel.get_by_role("button", name="存入客戶資料夾").click()
    expect(panel).to_contain_text(ASK_SAVE, timeout=UPDATE_MS)
    assert not (client_dir / "goals.yaml").exists()
    panel.get_by_role("button", name="確定存檔").click()
    expect(panel).to_contain_text(
        f"已將 {n} 個目標寫入客戶資料夾「cloudledger」的 goals.yaml。", timeout=UPDATE_MS
    )
    saved = {g.kpi_id: g for g in read_goals(client_dir / "goals.yaml")}
    assert saved["win_rate"].target == pytest.approx(0.25)
    assert saved["cltv"].target == 2_500_000
    assert len(read_goals(client_dir / "goals.yaml")) == n
    # Reload: a fresh kernel from the pool reads the client folder as it is now.
    page.reload(wait_until="commit", timeout=PAGE_MS)
    page.wait_for_selector(".jupyter-widgets", timeout=PAGE_MS)
    panel = _panel(page, "目標產生器")
    agreed = panel.locator("ol.kpitools-agreed li")
    expect(agreed).to_have_count(n, timeout=UPDATE_MS)
    expect(agreed.nth(n - 2)).to_contain_text("贏單率（成交率）：2024年第4季達到 25.0%")
    expect(agreed.last).to_contain_text("顧客終身價值（CLTV）：2024年第4季達到 2,500,000元")
    assert offline.outside == []


# --- kernels: closed pages and idle ones -----------------------------------------------------


def _wait_kernels(app, count: int, timeout_s: float) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if _kernels(app) <= count:
            return _kernels(app)
        time.sleep(1)
    return _kernels(app)


def test_closed_page_kernel_is_shut_down_and_an_open_one_kept(app, offline):
    settled = _wait_kernels(app, 2, 120)  # one pooled kernel per zh-TW notebook
    assert settled == 2
    window = CULL_IDLE_S + 3 * CULL_INTERVAL_S + 20
    # A page that stays open keeps its kernel, however long it sits idle.
    page = offline.page()
    _open(page, app.url_for("04_sales_kpis.ipynb", "en"))  # not pooled: a kernel of its own
    assert _kernels(app) == 3
    time.sleep(window)
    assert _kernels(app) == 3
    # Closed (or a tab that crashed, a laptop lid shut): the kernel goes once nobody is
    # connected and it has been idle CULL_IDLE_S seconds.
    page.close(run_before_unload=True)
    assert _wait_kernels(app, 2, window) == 2
    assert offline.outside == []


# --- 04: the sales widgets, both languages -------------------------------------------------

SALES = {
    "zh-TW": {
        "funnel": "各通路的銷售漏斗",
        "channel": "通路",
        "incentive": "獎金試算（調整費率）",
        "base": "配額內費率",
        "total": "本期獎金合計 ",
    },
    "en": {
        "funnel": "Sales funnel by channel",
        "channel": "Channel",
        "incentive": "Commission calculator (adjust the rates)",
        "base": "Rate up to quota",
        "total": "Total commission this period ",
    },
}


@pytest.mark.parametrize("lang", ["zh-TW", "en"])
def test_sales_widgets_follow_their_inputs(app, offline, client_dir, lang):
    from kpitools.i18n import fmt_money
    from kpitools.workshop import _common
    from kpitools.workshop import sales_widgets as sw

    words = SALES[lang]
    page = offline.page()
    # Funnel: another channel draws another chart.
    funnel = _open_panel(page, app.url_for("04_sales_kpis.ipynb", lang), words["funnel"])
    image = funnel.locator("img")
    expect(image).to_be_visible(timeout=UPDATE_MS)
    before = image.get_attribute("src")
    funnel.get_by_label(words["channel"], exact=True).select_option(value="referral")
    expect(image).not_to_have_attribute("src", before, timeout=UPDATE_MS)
    # Commission: two steps of 0.5 % on the base rate (5 % → 6 %); the total shown is the
    # marginal formula 6 % of bookings up to quota + 8 % above it, summed over the owners.
    incentive = _panel(page, words["incentive"])
    incentive.scroll_into_view_if_needed()
    slider = incentive.locator(".widget-slider").filter(
        has=page.get_by_text(words["base"], exact=True)
    )
    handle = slider.locator(".noUi-handle")
    handle.focus()
    handle.press("ArrowRight")
    handle.press("ArrowRight")
    expect(slider.locator(".widget-readout")).to_have_text("6.0%", timeout=UPDATE_MS)
    client = _common.open_client(client_dir)
    table = sw.IncentivePanel(client, "2024Q4", lang).result
    booked, quota = table["bookings"], table["quota"]
    expected = (0.06 * booked.clip(upper=quota) + 0.08 * (booked - quota).clip(lower=0)).sum()
    total = words["total"] + fmt_money(expected, client.currency, lang)
    expect(incentive).to_contain_text(total, timeout=UPDATE_MS)
    assert re.search(r"\d\.\d{4,}", incentive.inner_text()) is None  # no raw floats
    page.close(run_before_unload=True)
    assert offline.outside == []
