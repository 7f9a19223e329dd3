"""The workshop app and JupyterLab driven in a real browser (Playwright + Debian's chromium).

Each test changes a widget the way a consultant would (types a target, moves a slider with the
keyboard, answers the questionnaire) and checks what the page then shows, in zh-TW and English.
Screenshots go to test-artifacts/ (git-ignored). Servers are always stopped, even on failure.

Never downloads a browser: chromium comes from Debian (`apt-get install chromium`); without it
every test here is skipped with the reason.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from kpitools.app.server import WorkshopServer, free_port, list_notebooks, prepare_notebook

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
CLOUDLEDGER = REPO / "data" / "sample" / "cloudledger"
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
#: Chromium on this closed network: no sandbox as root, no GPU, no calls home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LANGS = ("zh-TW", "en")
WORKSHOP = ("01_smart_goals", "02_acv_cltv", "03_kpi_vs_okr")
#: Bounds (ms): a page runs its whole notebook before "load"; six kernels share two cores.
PAGE_LOAD_MS = 300_000
WIDGET_MS = 60_000
UPDATE_MS = 30_000
LAB_RUN_MS = 120_000
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

if not Path(CHROMIUM).is_file():
    pytest.skip(
        "Debian's chromium is not installed (apt-get install chromium); browser tests "
        "need /usr/bin/chromium and never download a browser",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (PyPI) not installed")


def _nbsp(label: str) -> str:
    """ipywidgets 8 writes option labels with non-breaking spaces."""
    return label.replace(" ", "\xa0")


def _shot(page, name: str, locator=None) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    target = locator if locator is not None else page
    target.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def _panel(page, title: str):
    """The innermost widget box whose heading is ``title`` (a kpitools Panel)."""
    return page.locator(".widget-vbox").filter(has=page.locator("h4", has_text=title)).last


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def app() -> Iterator[WorkshopServer]:
    missing = [n for n in WORKSHOP if not (NOTEBOOKS / f"{n}.ipynb").is_file()]
    if missing:
        pytest.fail(f"workshop notebooks missing from notebooks/: {missing}")
    server = WorkshopServer(CLOUDLEDGER, lang="zh-TW", notebooks_dir=NOTEBOOKS)
    try:
        server.start(timeout=120)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def pages(browser, app: WorkshopServer) -> Iterator[dict[tuple[str, str], object]]:
    """Every (notebook, language) page, requested at once so the kernels run side by side."""
    opened: dict[tuple[str, str], object] = {}
    try:
        for name in WORKSHOP:
            for lang in LANGS:
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(
                    app.url_for(f"{name}.ipynb", lang), wait_until="commit", timeout=WIDGET_MS
                )
                opened[name, lang] = page
        yield opened
    finally:
        for page in opened.values():
            with contextlib.suppress(Exception):
                page.close()


def _ready(page) -> None:
    page.wait_for_load_state("load", timeout=PAGE_LOAD_MS)
    page.wait_for_selector(".jupyter-widgets", timeout=WIDGET_MS)
    assert page.get_by_text("Error displaying widget").count() == 0
    assert page.locator(".jp-OutputArea-output[data-mime-type*='stderr']").count() == 0
    # no code shown (markdown cells also sit in .jp-InputArea, so look for editors and imports)
    assert page.locator(".jp-InputArea-editor, .jp-CodeCell .highlight").count() == 0
    assert "from kpitools" not in page.locator("body").inner_text()


# --- JupyterLab --------------------------------------------------------------------------------


def _stop_group(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(20)


@pytest.fixture
def jupyterlab(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """JupyterLab on a free loopback port with a token, a temp root and temp config/settings."""
    root, settings = tmp_path / "root", tmp_path / "settings"
    root.mkdir()
    # Render every cell (no virtual scrolling) and never ask about news.
    lab_settings = {
        "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
        "@jupyterlab/apputils-extension/notification": {
            "fetchNews": "false",
            "checkForUpdates": False,
        },
    }
    for plugin, values in lab_settings.items():
        path = settings / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values), encoding="utf-8")
    port, token = free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
        "MPLBACKEND": "Agg",
    }
    log = (tmp_path / "lab.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--ServerApp.token={token}",
            f"--ServerApp.root_dir={root}",
            "--ServerApp.allow_root=True",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ],
        env=env,
        cwd=root,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, (tmp_path / "lab.log").read_text(errors="replace")
            with (
                contextlib.suppress(OSError),
                _OPENER.open(
                    f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2
                ) as reply,
            ):
                if reply.status == 200:
                    break
            assert time.monotonic() < deadline, "JupyterLab did not answer within 90 s"
            time.sleep(0.3)
        yield f"http://127.0.0.1:{port}/lab/tree/{{}}?token={token}&reset", root
    finally:
        _stop_group(proc)
        log.close()


def _run_all_cells(page, attempts: int = 3) -> None:
    """Run > Run All Cells; again if the kernel was not ready to take it (no prompt moved)."""
    started = page.locator(".jp-CodeCell .jp-InputPrompt").filter(has_text="[")
    for _ in range(attempts):
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
        try:
            sync_api.expect(
                started.filter(has_text="*").or_(started.filter(has_text="1"))
            ).not_to_have_count(0, timeout=15_000)
            return
        except AssertionError:
            continue
    raise AssertionError(f"JupyterLab ran no cell after {attempts} × Run All Cells")


def test_notebook_runs_with_widgets_in_jupyterlab(browser, jupyterlab):
    url, root = jupyterlab
    source = NOTEBOOKS / "03_kpi_vs_okr.ipynb"
    if not source.is_file():
        pytest.fail("notebooks/03_kpi_vs_okr.ipynb is missing")
    prepare_notebook(
        source,
        root / "kpi_vs_okr.ipynb",
        {"client_dir": str(CLOUDLEDGER), "lang": "en", "interactive": True},
    )
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(url.format("kpi_vs_okr.ipynb"), timeout=WIDGET_MS)
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=WIDGET_MS)
        idle = page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")
        ask = page.get_by_role("dialog").get_by_role("button", name="Select", exact=True)
        sync_api.expect(idle.or_(ask)).to_be_visible(timeout=WIDGET_MS)
        if ask.is_visible():  # a slow kernel start makes Lab ask; keep the notebook's python3
            ask.click()
        sync_api.expect(idle).to_be_visible(timeout=WIDGET_MS)
        _run_all_cells(page)
        panel = _panel(page, VERDICT["en"]["title"])
        sync_api.expect(panel).to_be_attached(timeout=LAB_RUN_MS)
        panel.scroll_into_view_if_needed()
        verdict = _verdict(panel, VERDICT["en"]["title"])
        sync_api.expect(verdict).to_have_text(VERDICT["en"]["hybrid"], timeout=UPDATE_MS)
        _answer_like(panel, "en", "new_sales_team")
        sync_api.expect(verdict).to_have_text(VERDICT["en"]["okr"], timeout=UPDATE_MS)
        assert page.get_by_text("Error displaying widget").count() == 0
        _shot(page, "jupyterlab_03_kpi_vs_okr")
    except BaseException:
        _shot(page, "jupyterlab_failure")
        raise
    finally:
        page.close()


# --- landing page ------------------------------------------------------------------------------


def test_landing_page_links_every_notebook_and_switches_language(browser, app):
    page = browser.new_page(viewport={"width": 1100, "height": 760})
    try:
        page.goto(app.url, timeout=WIDGET_MS)
        assert page.locator("h1").inner_text() == "KPI 工作坊"
        links = page.locator("#notebooks a")
        assert links.count() == len(list_notebooks(NOTEBOOKS)) >= len(WORKSHOP)
        assert links.first.get_attribute("href") == "/voila/render/zh-TW/01_smart_goals.ipynb"
        _shot(page, "landing_zh-TW")
        page.click("#switch-lang")
        page.wait_for_url("**/?lang=en", timeout=WIDGET_MS)
        assert page.locator("h1").inner_text() == "KPI workshop"
        assert "CloudLedger Technology Co., Ltd." in page.locator(".client").inner_text()
        assert (
            page.locator("#notebooks a").nth(2).get_attribute("href")
            == "/voila/render/en/03_kpi_vs_okr.ipynb"
        )
        _shot(page, "landing_en")
    finally:
        page.close()


# --- 01 SMART goals ----------------------------------------------------------------------------

BUILDER = {
    "zh-TW": {
        "title": "目標產生器",
        "kpi": "指標",
        "target": "目標值",
        "cltv": "顧客終身價值（CLTV）",
        "win": "贏單率（成交率）",
        "fail": "還不是 SMART 目標，請依建議修改。",
        "fail_mark": "不通過",
    },
    "en": {
        "title": "Goal builder",
        "kpi": "KPI",
        "target": "Target",
        "cltv": "Customer lifetime value (CLTV)",
        "win": "Win rate",
        "fail": "Not SMART yet; follow the suggestions.",
        "fail_mark": "Fail",
    },
}


@pytest.mark.parametrize("lang", LANGS)
def test_smart_goal_builder_reacts_to_a_typed_target(pages, lang):
    page, words = pages["01_smart_goals", lang], BUILDER[lang]
    _ready(page)
    panel = _panel(page, words["title"])
    panel.scroll_into_view_if_needed()
    target = panel.get_by_label(words["target"], exact=True)
    verdict = panel.locator(".widget-html-content p b").first
    sync_api.expect(verdict).not_to_be_empty(timeout=UPDATE_MS)
    # The builder opens on CLTV (its first positive, higher-is-better KPI); start from win rate,
    # typed and shown in percent, then switch to CLTV.
    panel.get_by_label(words["kpi"], exact=True).select_option(label=_nbsp(words["win"]))
    sync_api.expect(target).to_have_value(re.compile(r"^\d+(\.\d+)?%$"), timeout=UPDATE_MS)
    first_proposal = target.input_value()
    panel.get_by_label(words["kpi"], exact=True).select_option(label=_nbsp(words["cltv"]))
    # Choosing CLTV proposes its baseline × 1.1 as the target (goals_widgets.DEFAULT_CHANGE).
    sync_api.expect(target).not_to_have_value(first_proposal, timeout=UPDATE_MS)
    # Money is shown with thousands separators (no raw floats): "2,396,550".
    shown = target.input_value()
    assert re.fullmatch(r"\d{1,3}(,\d{3})+", shown), shown
    proposed = float(shown.replace(",", ""))
    assert proposed > 0
    page.wait_for_timeout(500)
    before = verdict.inner_text()
    assert before != words["fail"]
    # Ten times the proposal is +1000 % on the baseline: far beyond any past quarter's growth
    # of CLTV, so Achievable fails and with it the goal.
    target.fill(str(round(proposed * 10)))
    target.press("Enter")
    sync_api.expect(verdict).to_have_text(words["fail"], timeout=UPDATE_MS)
    achievable = panel.locator("table tr").filter(has_text="Achievable")
    sync_api.expect(achievable).to_contain_text(words["fail_mark"])
    sync_api.expect(achievable).to_contain_text("+1000.0%")
    _shot(page, f"01_smart_goals_{lang}", panel)
    # Back to the proposal: the verdict shown before returns.
    target.fill(shown)
    target.press("Enter")
    sync_api.expect(verdict).to_have_text(before, timeout=UPDATE_MS)


# --- 02 ACV / CLTV -----------------------------------------------------------------------------

SCENARIO = {
    "zh-TW": {
        "title": "9. 情境模擬：ACV、流失率與毛利率",
        "acv": "ACV 變化",
        "churn": "流失率降低",
        "cltv": "顧客終身價值（CLTV）",
    },
    "en": {
        "title": "9. Scenario: ACV, churn and margin",
        "acv": "ACV change",
        "churn": "Churn reduction",
        "cltv": "Customer lifetime value (CLTV)",
    },
}


def _press(handle, key: str, times: int) -> None:
    handle.focus()
    for _ in range(times):
        handle.press(key)


@pytest.mark.parametrize("lang", LANGS)
def test_cltv_scenario_follows_the_sliders(pages, lang):
    page, words = pages["02_acv_cltv", lang], SCENARIO[lang]
    _ready(page)
    panel = _panel(page, words["title"])
    panel.scroll_into_view_if_needed()
    sliders = panel.locator(".widget-slider")
    acv = sliders.filter(has=page.get_by_text(words["acv"], exact=True))
    churn = sliders.filter(has=page.get_by_text(words["churn"], exact=True))
    cltv_row = panel.locator("table tr").filter(has_text=words["cltv"])
    sync_api.expect(cltv_row).to_contain_text("+0.0%", timeout=UPDATE_MS)
    # CLTV = ARPA × margin ÷ churn. Ten right-arrow steps of 1 % put ACV at +10 %:
    # CLTV × 1.10 → +10.0 %.
    _press(acv.locator(".noUi-handle"), "ArrowRight", 10)
    sync_api.expect(acv.locator(".widget-readout")).to_have_text("10%", timeout=UPDATE_MS)
    sync_api.expect(cltv_row).to_contain_text("+10.0%", timeout=UPDATE_MS)
    # Twenty steps cut churn by 20 %: CLTV × 1.10 ÷ 0.80 = × 1.375 → +37.5 %.
    _press(churn.locator(".noUi-handle"), "ArrowRight", 20)
    sync_api.expect(churn.locator(".widget-readout")).to_have_text("20%", timeout=UPDATE_MS)
    sync_api.expect(cltv_row).to_contain_text("+37.5%", timeout=UPDATE_MS)
    _shot(page, f"02_acv_cltv_{lang}", panel)


# --- 03 KPI vs OKR -----------------------------------------------------------------------------

VERDICT = {
    "zh-TW": {
        "title": "KPI / OKR 問卷",
        "kpi": "建議：以 KPI 管理績效。",
        "okr": "建議：以 OKR 推動目標。",
        "hybrid": "建議：KPI 與 OKR 並用（KPI 顧穩定、OKR 求突破）。",
    },
    "en": {
        "title": "KPI / OKR questionnaire",
        "kpi": "Recommendation: manage by KPIs.",
        "okr": "Recommendation: set OKRs.",
        "hybrid": "Recommendation: combine them (KPIs for stability, OKRs for breakthroughs).",
    },
}


def _verdict(panel, title: str):
    """The recommendation heading in the panel's output (not the panel's own title)."""
    return panel.locator(".widget-html-content h4").filter(has_not_text=title)


def _answer_like(panel, lang: str, example: str) -> None:
    """Pick, question by question, the answers of a stored questionnaire example."""
    from kpitools.goals import example_answers, questions_frame

    frame = questions_frame(lang)
    for qid, answer_id in example_answers(example).items():
        rows = frame[frame["question_id"] == qid]
        question = rows["question"].iloc[0]
        answer = rows.loc[rows["answer_id"] == answer_id, "answer"].iloc[0]
        panel.get_by_label(question, exact=True).select_option(label=_nbsp(answer))


@pytest.mark.parametrize("lang", LANGS)
def test_questionnaire_recommendation_follows_the_answers(pages, lang):
    page, words = pages["03_kpi_vs_okr", lang], VERDICT[lang]
    _ready(page)
    panel = _panel(page, words["title"])
    panel.scroll_into_view_if_needed()
    verdict = _verdict(panel, words["title"])
    # The panel opens on the example "stability_plus_breakthrough", documented as hybrid.
    sync_api.expect(verdict).to_have_text(words["hybrid"], timeout=UPDATE_MS)
    # kpitools/goals/questionnaire.yaml documents new_sales_team → okr and
    # mature_sales_team → kpi.
    _answer_like(panel, lang, "new_sales_team")
    sync_api.expect(verdict).to_have_text(words["okr"], timeout=UPDATE_MS)
    _shot(page, f"03_kpi_vs_okr_{lang}", panel)
    _answer_like(panel, lang, "mature_sales_team")
    sync_api.expect(verdict).to_have_text(words["kpi"], timeout=UPDATE_MS)
