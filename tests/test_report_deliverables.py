"""Client-ready deliverables: what a client reads has no raw ids, no analyst text, no 0-rounded
money, speaks one language, and says the same thing in its sentences as in its charts."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import sys

import pandas as pd
import pytest
from click.testing import CliRunner

import kpitools
from kpitools.insights import Labels, fmt_change, fmt_display, funnel_step_insight
from kpitools.report.sections import QuarterReport

SAMPLES = ("cloudledger", "pandablog", "shop")
#: Words meant for the analyst, never for the client.
ANALYST_WORDS = ("client.yml", "goals:", "請在", "analyst", "分析師", "Hint", "labels:",
                 "kpitools", "Traceback")
CJK = re.compile(r"[\u3400-\u9fff]")


@pytest.fixture(scope="module")
def clients(sample_dir):
    return {slug: kpitools.load_client(sample_dir / slug) for slug in SAMPLES}


def _text(html: str) -> str:
    """Visible text of report HTML (tags and base64 images removed, entities decoded)."""
    import html as html_module

    html = re.sub(r"<img[^>]*>", " ", html)
    return html_module.unescape(re.sub(r"<[^>]+>", " ", html))


def _raw_ids(client) -> set[str]:
    """Data ids that have a display name different from themselves (so must never show)."""
    ids = set(client.funnel_stages)
    for name, column in (("deals", "channel"), ("web_traffic", "channel"),
                         ("contracts", "tier")):
        if client.has(name) and column in client[name].columns:
            ids |= {str(v) for v in client[name][column].dropna().unique() if "_" in str(v)}
    return ids


# --------------------------------------------------------------------------- every sample report


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["zh-TW", "en"])
@pytest.mark.parametrize("slug", SAMPLES)
def test_every_sample_report_is_client_ready(clients, slug, lang):
    client = clients[slug]
    report = QuarterReport(client, "2024Q4", lang=lang)
    sections = report.sections()
    text = _text("\n".join(s._repr_html_() for s in sections))
    problems = []
    for raw in _raw_ids(client):
        if re.search(rf"(?<![\w-]){re.escape(raw)}(?![\w-])", text):
            problems.append(f"raw id {raw!r}")
    if re.search(r"\b[a-z]+ → [a-z]+\b", text):
        problems.append("raw stage ids 'x → y'")
    problems += [f"raw KPI id {k!r}" for k in ("acv", "cltv", "mrr", "logo_churn_rate")
                 if re.search(rf"\b{k}\b", text)]
    problems += [f"unformatted number {m!r}" for m in re.findall(r"\d+\.\d{4,}", text)]
    problems += [f"minus zero {m!r}" for m in re.findall(r"-0\.0(?!\d)", text)]
    problems += [f"0-rounded money {m!r}" for m in
                 re.findall(r"(?<![\d.,])0元|NT\$0(?![.,\d])", text)]
    problems += [f"analyst text {w!r}" for w in ANALYST_WORDS if w in text]
    problems += [f"missing value {w!r}" for w in ("nan", "None") if re.search(rf"\b{w}\b", text)]
    if lang == "en":
        # People's names (quota owners) are names, not words to translate; nothing else Chinese.
        people = set(client["quotas"]["owner"].astype(str)) if client.has("quotas") else set()
        rest = text
        for name in people:
            rest = rest.replace(name, "")
        problems += [f"Chinese in the English report: {m!r}"
                     for m in sorted(set(re.findall(r"[\u3400-\u9fff]+", rest)))]
    assert not problems, problems
    # The method note says which tests judge the changes.
    method = sections[-1].paragraphs[0]
    assert ("two-proportion" in method and "Poisson" in method) or (
        "兩比例" in method and "卜瓦松" in method)


@pytest.mark.slow
def test_findings_come_from_the_tables_the_charts_draw(clients):
    report = QuarterReport(clients["cloudledger"], "2024Q4", lang="en")
    # Churn: one table (the trailing quarters) for the chart and the sentence, both labelled.
    reasons = report._churn_reasons()
    finding = report._churn_finding()
    total, top = int(reasons["customers"].sum()), int(reasons["customers"].max())
    assert finding.text.startswith(f"{total} customers left from Q1 2024 to Q4 2024; {top} of")
    assert finding.text in report.retention().paragraphs
    assert finding.text in report.summary().paragraphs
    # Funnel: the weakest step named in the text is the step the chart marks red.
    overall, _ = report._funnel_tables()
    step = funnel_step_insight(overall, lang="en", window="x")
    conversion = overall["stage_conversion"]
    assert step.data["to_stage"] == conversion.iloc[1:].idxmin()
    sales = report.sales()
    chart = sales.figures[0]
    bars = chart.axes[0].patches
    red = [i for i, bar in enumerate(bars) if bar.get_facecolor() != bars[0].get_facecolor()]
    stages = list(overall.index)
    assert [stages[i] for i in red] == [step.data["from_stage"]]
    # The channel sentence's step has a column in the channel table, with its numbers.
    (_, channels) = sales.tables[0]
    column = "Lead → Qualified conversion"
    assert channels.loc["Cold outbound", column] == "19%"
    assert "Cold outbound converts only 19% at Lead → Qualified" in sales.paragraphs[1]


@pytest.mark.slow
def test_quarters_before_the_data_starts_show_a_dash(clients):
    # The shop as if its data started in 2024Q2: 2024Q1 has no value, not 0元.
    client = copy.copy(clients["shop"])
    start = pd.Timestamp("2024-04-01")
    dates = {"orders": "order_date", "web_traffic": "date", "marketing_spend": "period"}
    client.tables = dict(client.tables)
    for name, column in dates.items():
        frame = client.tables[name]
        client.tables[name] = frame[frame[column] >= start]
    report = QuarterReport(client, "2024Q4", lang="zh-TW")
    assert pd.isna(report.trend_table.loc["revenue", "2024Q1"])
    (_, shown), = report.trends().tables
    assert shown.loc["營收（折扣後）", "2024年第1季"] == "—"
    assert shown.loc["營收（折扣後）", "2024年第2季"].endswith("元")


@pytest.mark.slow
def test_kpis_without_data_are_left_out(clients):
    # The shop's web traffic has no ad or affiliate columns: those KPIs would read 0元.
    (_, shown), _ = QuarterReport(clients["shop"], "2024Q4", lang="zh-TW").web().tables
    assert "廣告收入" not in shown.index and "聯盟行銷收入" not in shown.index
    assert "每工作階段營收" in shown.index


def test_report_without_goals_tells_the_analyst_not_the_client(clients):
    client = copy.copy(clients["pandablog"])
    client.config = {**client.config, "goals": []}
    report = QuarterReport(client, "2024Q4", lang="zh-TW")
    assert report.scorecard() is None
    assert not any("目標" in p for p in report.summary().paragraphs)
    notes = report.analyst_notes()
    assert any("goals: in client.yml" in n for n in notes)


# --------------------------------------------------------------------------- labels and numbers


def test_labels_from_client_yml_then_defaults_then_readable_fallback():
    from types import SimpleNamespace

    client = SimpleNamespace(config={"labels": {"channel": {
        "cold_outbound": {"zh-TW": "電話開發", "en": "Cold calls"}, "line": "LINE@"}}})
    zh, en = Labels(client, "zh-TW"), Labels(client, "en")
    assert (zh("channel", "cold_outbound"), en("channel", "cold_outbound")) == ("電話開發",
                                                                              "Cold calls")
    assert en("channel", "line") == "LINE@"  # a plain string serves both languages
    assert (zh("channel", "referral"), en("channel", "referral")) == ("推薦", "Referral")
    assert en("stage", "negotiation") == "Negotiation" and zh("stage", "lead") == "潛在客戶"
    assert (zh("reason", "價格太高"), en("reason", "價格太高")) == ("價格太高", "Price too high")
    assert zh.notes == [] and en.notes == []
    # No label anywhere: an id is made readable, a Chinese word stays, and the analyst hears it.
    assert en("channel", "trade_show") == "Trade show"
    assert en("reason", "老闆換人") == "老闆換人"
    assert len(en.notes) == 2 and "labels: {reason: {'老闆換人'" in en.notes[1]
    assert (en.owner("業務部 / Sales"), zh.owner("業務部 / Sales")) == ("Sales", "業務部")


def test_numbers_keep_their_precision_and_never_show_minus_zero():
    assert fmt_display(0.3521, "currency", "zh-TW") == "0.35元"
    assert fmt_display(0.3521, "currency", "en") == "NT$0.35"
    assert fmt_display(12.55, "currency", "en") == "NT$12.6"
    assert fmt_display(131_484.0, "currency", "zh-TW") == "131,484元"
    assert fmt_display(float("nan"), "currency", "zh-TW") == "—"
    # 57.23% -> 57.19%: -0.04 points rounds to 0.0, written without a sign.
    assert fmt_change(0.5723, 0.5719, "rate", "zh-TW") == "0.0 個百分點"
    assert fmt_change(0.0207, 0.0113, "rate", "en") == "-0.9 pp"
    assert fmt_change(100.0, 99.99, "currency", "en") == "0.0%"


@pytest.mark.slow
def test_text_and_table_name_the_same_top_customers(clients):
    section = QuarterReport(clients["shop"], "2024Q4", lang="zh-TW").clv()
    (_, table), = section.tables
    first = table.index[0]
    assert section.paragraphs[0].startswith(f"「{first}」（{table.iloc[0, 0]} 位）")


# --------------------------------------------------------------------------- CLI


def test_new_client_takes_an_english_name(tmp_path):
    from kpitools.commands.report import new_client

    result = CliRunner().invoke(new_client, ["acme", "--name", "艾克米股份有限公司",
                                             "--name-en", "Acme Co., Ltd.",
                                             "--root", str(tmp_path)])
    assert result.exit_code == 0, result.output
    import yaml

    config = yaml.safe_load((tmp_path / "acme" / "client.yml").read_text("utf-8"))
    assert config["name"] == {"zh-TW": "艾克米股份有限公司", "en": "Acme Co., Ltd."}


def test_misspelt_client_folder_and_quarter_five(sample_dir, tmp_path, monkeypatch):
    from kpitools.commands.report import report

    monkeypatch.chdir(sample_dir.parent.parent)
    result = CliRunner().invoke(report, ["data/sample/shopp", "--quarter", "2024Q4",
                                         "--out", str(tmp_path)])
    assert result.exit_code == 2  # argument errors exit with 2 (issue 11)
    assert "does not exist (did you mean 'data/sample/shop'?)" in result.output
    result = CliRunner().invoke(report, ["data/sample/shop", "--quarter", "2024Q5",
                                         "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "5 is not a quarter: quarters run 1–4" in result.output


# --------------------------------------------------------------------------- workbook and index


@pytest.mark.slow
def test_workbook_has_both_languages_and_number_formats(clients, tmp_path):
    from openpyxl import load_workbook

    report = QuarterReport(clients["shop"], "2024Q4", lang="zh-TW")
    report.write_workbook(tmp_path / "report.xlsx")
    book = load_workbook(tmp_path / "report.xlsx")
    scorecard, trends, findings = book.worksheets
    assert [ws.title for ws in book.worksheets] == ["目標記分卡 · Scorecard",
                                                    "指標趨勢 · KPI trends", "重點發現 · Findings"]
    rows = {row[0].value: row for row in scorecard.iter_rows(min_row=2)}
    revenue = rows["revenue"]
    assert revenue[1].value == "營收（折扣後）" and revenue[2].value == "Revenue (after discounts)"
    assert revenue[5].value == 1_210_000 and revenue[5].number_format == "#,##0"
    assert rows["gross_margin_rate"][6].number_format == "0.0%"
    trend = {row[0].value: row for row in trends.iter_rows(min_row=2)}
    assert trend["new_customers_orders"][8].value == "退步"
    assert trend["new_customers_orders"][9].value == "Worsened"
    pairs = list(findings.iter_rows(min_row=2, values_only=True))
    assert pairs and all(CJK.search(zh) and not CJK.search(en) for zh, en in pairs)


def test_portfolio_index_shows_goal_status_moves_and_links(tmp_path):
    from kpitools.report.export import build_metrics, write_metrics
    from kpitools.report.index import build_index

    folder = tmp_path / "acme" / "2024Q4"
    folder.mkdir(parents=True)
    (folder / "report.html").write_text("<html></html>", encoding="utf-8")
    (folder / "report.xlsx").write_bytes(b"x")
    headline = [{"kpi": "revenue", "label": "營收", "value": 1.0, "formatted": "1元",
                 "verdict": "worsened", "change": "-12.0%"},
                {"kpi": "aov", "label": "客單價", "value": 2.0, "formatted": "2元",
                 "verdict": "within_noise", "change": "+30.0%"}]
    goals = [{"goal_id": "g1", "kpi": "revenue", "status": "achieved"},
             {"goal_id": "g2", "kpi": "aov", "status": "near_miss"},
             {"goal_id": "g3", "kpi": "sessions", "status": "missed"}]
    write_metrics(folder / "metrics.json", build_metrics(
        {"slug": "acme", "name": {"zh-TW": "艾克米"}}, "2024Q4", "zh-TW", headline=headline,
        goals=goals))
    page = build_index(tmp_path).read_text("utf-8")
    assert "達標 achieved: 1" in page and "接近 near: 1" in page and "未達 missed: 1" in page
    assert "▼ 營收 -12.0%" in page
    assert "客單價 +30.0%" not in page  # within noise: not a move
    assert 'href="acme/2024Q4/report.xlsx"' in page
    assert "需要聯絡 call" in page


# --------------------------------------------------------------------------- end to end, PDF


@pytest.fixture(scope="module")
def shop_run(sample_dir, tmp_path_factory):
    from kpitools.commands.report import report
    from kpitools.report.export import find_chromium

    out = tmp_path_factory.mktemp("deliverables")
    args = [str(sample_dir / "shop"), "--quarter", "2024Q4", "--lang", "en", "--out", str(out),
            "--workers", "1"]
    if find_chromium():
        args.append("--pdf")
    result = CliRunner().invoke(report, args)
    assert result.exit_code == 0, result.output
    return out / "shop" / "2024Q4", result


@pytest.mark.slow
def test_plain_nbconvert_of_the_report_shows_no_analyst_text(shop_run, tmp_path):
    folder, _ = shop_run
    notebook = tmp_path / "report.ipynb"
    shutil.copy(folder / "report.ipynb", notebook)
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", "--no-input",
                    str(notebook)], check=True, capture_output=True)
    text = _text((tmp_path / "report.html").read_text("utf-8"))
    assert "Mountain Mist Tea" in text
    for word in ("analyst", "分析師", "client.yml", "remove_cell", "papermill"):
        assert word not in text, word
    assert (folder / "report.xlsx").exists()
    metrics = json.loads((folder / "metrics.json").read_text("utf-8"))
    assert {h["verdict"] for h in metrics["headline"]} <= {"improved", "worsened",
                                                           "within_noise", "not_tested"}


@pytest.mark.slow
def test_pdf_is_a4_with_header_and_page_numbers(shop_run):
    from pypdf import PdfReader

    folder, _ = shop_run
    if not (folder / "report.pdf").exists():
        pytest.skip("no Chromium on this machine")
    pdf = PdfReader(folder / "report.pdf")
    # A4 = 210 × 297 mm = 595.3 × 841.9 pt (Chromium rounds to whole device pixels).
    for page in pdf.pages:
        assert float(page.mediabox.width) == pytest.approx(595.3, abs=1.5)
        assert float(page.mediabox.height) == pytest.approx(841.9, abs=1.5)
    # The shop's report: title, highlights, scorecard, trends, CLV, web, method; it filled 7
    # half-empty Letter pages before charts were sized for the page.
    assert 2 <= len(pdf.pages) <= 6
    second = pdf.pages[1].extract_text()
    assert "Mountain Mist Tea · Q4 2024" in second
    assert f"2 / {len(pdf.pages)}" in second


def test_bad_labels_in_client_yml_are_refused(sample_dir, tmp_path):
    folder = tmp_path / "blog"
    shutil.copytree(sample_dir / "pandablog", folder)
    with open(folder / "client.yml", "a", encoding="utf-8") as fh:
        fh.write("labels:\n  channel:\n    Email: {zh-TW: 電子報}\n    Direct: [1, 2]\n")
    with pytest.raises(kpitools.DataValidationError,
                       match=r"labels\.channel\.Direct: expected a name or"):
        kpitools.load_client(folder)


def test_target_label_moves_away_from_the_latest_value():
    from kpitools.plots import trend_chart

    def target_x(values):
        fig = trend_chart(pd.Series(values, index=["2024Q1", "2024Q2", "2024Q3", "2024Q4"]),
                          unit="score", target=4.5, lang="en")
        (label,) = [a for a in fig.axes[0].texts if a.get_text().startswith("Target")]
        return label.xy[0]

    # The latest value 1.0 is far from the target 4.5: the label sits at the right end.
    assert target_x([2.0, 1.5, 1.2, 1.0]) == 1.0
    # CSAT 4.3 against 4.5 (5% of a 0-4.7 axis): the right end is taken by "4.3 pts" -> left.
    assert target_x([2.0, 3.0, 4.0, 4.3]) == 0.0
    # Close at both ends: the middle.
    assert target_x([4.4, 3.0, 3.0, 4.3]) == 0.5
