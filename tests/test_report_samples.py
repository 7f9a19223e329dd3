"""The README's main job end to end: reports for the sample clients in both languages."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from kpitools.commands.report import report

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def reports(sample_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    zh = CliRunner().invoke(report, [str(sample_dir / "cloudledger"), str(sample_dir / "pandablog"),
                                     "--quarter", "2024Q4", "--out", str(out), "--workers", "2"])
    en = CliRunner().invoke(report, [str(sample_dir / "shop"), "--quarter", "2024Q4",
                                     "--lang", "en", "--out", str(out), "--workers", "1"])
    return out, zh, en


@pytest.mark.parametrize(("slug", "lang", "title"), [
    ("cloudledger", "zh-TW", "目標記分卡"),
    ("pandablog", "zh-TW", "網站與內容指標"),
    ("shop", "en", "Predicted customer lifetime value"),
])
def test_sample_report_shows_its_metrics(reports, slug, lang, title):
    out, zh, en = reports
    assert zh.exit_code == 0, zh.output
    assert en.exit_code == 0, en.output
    folder = out / slug / "2024Q4"
    metrics = json.loads((folder / "metrics.json").read_text("utf-8"))
    html = (folder / "report.html").read_text("utf-8")
    assert metrics["lang"] == lang
    assert title in html
    # Every headline number and every goal target of metrics.json is in the HTML.
    assert metrics["headline"]
    for entry in metrics["headline"]:
        assert entry["formatted"] in html, entry
    assert metrics["goals"]
    body = html.split("<main>", 1)[1].split("</main>", 1)[0]
    assert "jp-InputArea" not in body and "client_dir" not in html
    assert "Traceback" not in body and "Error" not in body


def test_index_lists_every_report(reports):
    out, _, _ = reports
    index = (out / "index.html").read_text("utf-8")
    for name in ("雲帳科技", "貓熊先生", "Mountain Mist Tea"):
        assert name in index
