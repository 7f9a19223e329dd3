"""The workshop app in a real browser, notebooks 03 and 05 on the content-site sample client:
key-result scoring, the KPI trend and the target what-if, in both languages (issue 14).

Each widget is driven as a participant would (typing, picking, toggling), and the output is
checked against a value worked out by hand or computed here from the same client data. Pages
come from a browser context that refuses any request to a host other than 127.0.0.1.
"""

# The browser fixtures come from test_browser_workshop; tests naming them as arguments are not
# redefinitions.
# ruff: noqa: F811

from __future__ import annotations

import base64
import shutil
from pathlib import Path

import pytest

from tests.test_browser_workshop import (  # noqa: F401  (browser, offline: fixtures)
    UPDATE_MS,
    _nbsp,
    _open_panel,
    browser,
    offline,
    serve,
)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(1200)]

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (PyPI) not installed")
expect = sync_api.expect

REPO = Path(__file__).resolve().parents[1]
PERIOD = "2024Q4"
WORDS = {
    "zh-TW": {"kr": "關鍵結果計分（輸入目前數值）", "score": "本期 OKR 總分 ",
              "trend": "指標趨勢", "kpi": "指標", "quarter": "季度",
              "target": "目標試算：換一個目標值看看", "goal": "目標"},
    "en": {"kr": "Key-result scoring (enter current values)", "score": "OKR score for the period ",
           "trend": "KPI trend", "kpi": "KPI", "quarter": "Quarter",
           "target": "Target what-if: try another target", "goal": "Goal"},
}


@pytest.fixture(scope="module")
def client_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("client") / "pandablog"
    shutil.copytree(REPO / "data" / "sample" / "pandablog", folder)
    return folder


@pytest.fixture(scope="module")
def app(client_dir, tmp_path_factory):
    with serve(client_dir, ("03_kpi_vs_okr", "05_website_kpis"), tmp_path_factory,
               period=PERIOD) as server:
        yield server


def _type(box, value: str) -> None:
    box.fill(value)
    box.press("Enter")


@pytest.mark.parametrize("lang", ["zh-TW", "en"])
def test_key_result_scores_follow_the_typed_values(app, offline, lang):
    words = WORDS[lang]
    page = offline.page()
    panel = _open_panel(page, app.url_for("03_kpi_vs_okr.ipynb", lang), words["kr"])
    boxes = panel.locator("input[type=text]")
    # pandablog's 2024Q4 goals, as client.yml sets them (start → target):
    #   objective 1: ad revenue 42,938 → 51,500; affiliate revenue 36,930 → 42,500
    #   objective 2: followers 42,192 → 46,400; sessions 243,105 → 280,000;
    #                engagement rate 61.66 % → 64 %
    expect(boxes).to_have_count(5, timeout=UPDATE_MS)
    # Objective 1 at its targets scores 1.0, objective 2 at its starts 0.0: (1 + 0) / 2 = 0.50.
    for box, value in zip(boxes.all(), ["51500", "42500", "42192", "243105", "61.66"],
                          strict=True):
        _type(box, value)
    expect(panel).to_contain_text(words["score"] + "0.50", timeout=UPDATE_MS)
    # Followers half-way (44,296): objective 2 = (0.5 + 0 + 0) / 3 = 0.1667, and the period
    # (1 + 0.1667) / 2 = 0.583 → 0.58.
    _type(boxes.nth(2), "44,296")
    expect(panel).to_contain_text(words["score"] + "0.58", timeout=UPDATE_MS)
    assert offline.outside == []


def _image_bytes(page, image) -> bytes:
    src = image.get_attribute("src")
    encoded = page.evaluate(
        """async (src) => {
            const buffer = await (await fetch(src)).arrayBuffer();
            let text = '';
            for (const b of new Uint8Array(buffer)) text += String.fromCharCode(b);
            return btoa(text);
        }""",
        src,
    )
    return base64.b64decode(encoded)


@pytest.mark.parametrize("lang", ["zh-TW", "en"])
def test_trend_chart_is_the_chosen_kpi_by_month_or_quarter(app, offline, client_dir, lang):
    from kpitools.workshop import _common
    from kpitools.workshop import web_widgets as ww
    from kpitools.workshop._common import kpi_label

    words = WORDS[lang]
    page = offline.page()
    panel = _open_panel(page, app.url_for("05_website_kpis.ipynb", lang), words["trend"])
    image = panel.locator("img")
    expect(image).to_be_visible(timeout=UPDATE_MS)
    first = image.get_attribute("src")
    panel.get_by_label(words["kpi"], exact=True).select_option(
        label=_nbsp(kpi_label("ad_revenue", lang)))
    expect(image).not_to_have_attribute("src", first, timeout=UPDATE_MS)
    by_month = image.get_attribute("src")
    panel.get_by_role("button", name=words["quarter"], exact=True).click()
    expect(image).not_to_have_attribute("src", by_month, timeout=UPDATE_MS)
    # The chart drawn in the page is the one the same panel draws here for ad revenue by
    # quarter, byte for byte: same data, same figure.
    from kpitools.plots import set_theme

    set_theme(lang)  # as the notebook's first cell does
    here = ww.TrendPanel(_common.open_client(client_dir), PERIOD, lang)
    here.controls["kpi"].value = "ad_revenue"
    here.controls["freq"].value = "Q"
    here.refresh()
    assert _image_bytes(page, image) == bytes(here.image.value)
    assert offline.outside == []


@pytest.mark.parametrize("lang", ["zh-TW", "en"])
def test_target_what_if_shows_the_attainment_of_the_typed_target(app, offline, client_dir,
                                                                  lang):
    from kpitools.catalog import compute_kpi
    from kpitools.i18n import fmt_money
    from kpitools.workshop import _common
    from kpitools.workshop._common import kpi_label

    words = WORDS[lang]
    page = offline.page()
    panel = _open_panel(page, app.url_for("05_website_kpis.ipynb", lang), words["target"])
    panel.get_by_label(words["goal"], exact=True).select_option(
        label=_nbsp(f"g2 · {kpi_label('affiliate_revenue', lang)}"))
    target = panel.locator("input[type=text]")
    expect(target).to_have_value("42,500", timeout=UPDATE_MS)  # g2's own target
    client = _common.open_client(client_dir)
    actual = compute_kpi("affiliate_revenue", client, PERIOD)
    # Twice the actual revenue as the target: attainment (actual ÷ target) is 50.0 %.
    doubled = round(2 * actual)
    _type(target, f"{doubled:,}")
    expect(panel).to_contain_text(fmt_money(doubled, "TWD", lang), timeout=UPDATE_MS)
    expect(panel).to_contain_text(fmt_money(actual, "TWD", lang))
    text = panel.inner_text()
    assert "50.0%" in text or "50.0 %" in text, text
    assert offline.outside == []
