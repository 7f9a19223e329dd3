"""Workshop layer without a kernel: widget panels driven by setting their values, sections,
the client-folder resolver, texts in both languages, the CLTV scenario and the goals export."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from kpitools._errors import KpitoolsError
from kpitools.workshop import _common
from kpitools.workshop import goals_widgets as gw
from kpitools.workshop import okr_widgets as ow
from kpitools.workshop import sales_widgets as sw
from kpitools.workshop import value_widgets as vw
from kpitools.workshop import web_widgets as ww

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "data" / "sample"


@pytest.fixture(scope="module")
def blog():
    return _common.open_client(SAMPLES / "pandablog")


@pytest.fixture(scope="module")
def saas():
    return _common.open_client(SAMPLES / "cloudledger")


# --------------------------------------------------------------------------- texts


def _leaves(node, path=()):
    if isinstance(node, dict) and set(node) == {"zh-TW", "en"}:
        yield path, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, (*path, key))
    else:
        raise AssertionError(f"texts.yaml entry {'.'.join(path)} is not a zh-TW/en pair")


def test_every_text_has_both_languages_and_the_same_placeholders():
    raw = yaml.safe_load((REPO / "kpitools" / "workshop" / "texts.yaml").read_text("utf-8"))
    pairs = list(_leaves(raw))
    assert len(pairs) > 150
    for path, pair in pairs:
        zh, en = str(pair["zh-TW"]), str(pair["en"])
        assert zh and en, path
        assert set(re.findall(r"{(\w+)}", zh)) == set(re.findall(r"{(\w+)}", en)), path


def test_text_lookup_and_unknown_key():
    assert _common.text("common.no_data", "zh-TW", tables="deals") == \
        "這位客戶沒有 deals 資料，因此略過本節。"
    with pytest.raises(KpitoolsError, match=r"no workshop text 'common\.nodata'"):
        _common.text("common.nodata", "en")
    with pytest.raises(KpitoolsError, match="Hint"):
        _common.text("common.no_data", "fr")


# --------------------------------------------------------------------------- resolver


def test_client_dir_resolves_from_repo_root_notebooks_and_elsewhere(tmp_path, monkeypatch):
    expected = (SAMPLES / "shop").resolve()
    for cwd in (REPO, REPO / "notebooks", tmp_path):
        monkeypatch.chdir(cwd)
        assert _common.resolve_client_dir("data/sample/shop").resolve() == expected
        assert _common.resolve_client_dir("../data/sample/shop").resolve() == expected
    with pytest.raises(KpitoolsError, match=r"client folder 'data/sample/nobody' not found"):
        _common.resolve_client_dir("data/sample/nobody")


# --------------------------------------------------------------------------- scenario


def test_cltv_scenario_by_hand():
    base = vw.ScenarioBase("2024Q4", arpa=1000.0, monthly_churn=0.02, gross_margin=0.8,
                           customers=100.0)
    result = vw.cltv_scenario(base, acv_change=0.1, churn_change=0.5, gross_margin=0.5)
    # now: 1000 × 0.8 ÷ 0.02 = 40,000; scenario: 1100 × 0.5 ÷ 0.01 = 55,000
    assert result.loc["cltv", "now"] == pytest.approx(40_000)
    assert result.loc["cltv", "scenario"] == pytest.approx(55_000)
    # revenue now: 100 × 1000 × (1 − 0.98¹²) ÷ 0.02 = 100 × 1000 × 10.8410… = 1,084,106
    assert result.loc["revenue", "now"] == pytest.approx(100 * 1000 * (1 - 0.98**12) / 0.02)
    assert result.loc["gross_profit", "scenario"] == pytest.approx(
        result.loc["revenue", "scenario"] * 0.5)
    assert result.loc["cltv", "change"] == pytest.approx(55_000 / 40_000 - 1)
    with pytest.raises(KpitoolsError, match=r"churn_change=1\.0 would make churn zero"):
        vw.cltv_scenario(base, churn_change=1.0)
    with pytest.raises(KpitoolsError, match=r"gross margin 55 is outside \(0, 1\]"):
        vw.cltv_scenario(base, gross_margin=55)


def test_scenario_panel_follows_its_sliders(saas):
    panel = vw.ScenarioPanel(saas, "2024Q4", "en")
    assert panel.result.loc["cltv", "change"] == pytest.approx(0.0)
    panel.controls["acv_change"].value = 0.2
    # CLTV is linear in ARPA: +20 % ACV gives +20 % CLTV, everything else unchanged
    assert panel.result.loc["cltv", "change"] == pytest.approx(0.2)
    panel.controls["gross_margin"].value = 0.5
    assert panel.result.loc["cltv", "change"] == pytest.approx(1.2 * 0.5 - 1)
    assert "Customer lifetime value" in panel.output.value


# --------------------------------------------------------------------------- goals


def test_goal_builder_checks_smart_live_and_saves(blog, tmp_path, monkeypatch):
    builder = gw.GoalBuilder(blog, "2024Q4", "en", kpi_ids=["ad_revenue", "sessions"])
    assert builder.controls["kpi"].value == "ad_revenue"
    # baseline = ad revenue of 2024Q3 (client.yml states 42,938); default target = +10 %
    assert builder.goal.baseline == pytest.approx(42_938, abs=1)
    assert builder.controls["target"].value == pytest.approx(builder.goal.baseline * 1.1,
                                                             rel=1e-4)
    assert gw.smart_status(builder.result) in {"pass", "warn"}
    builder.controls["target"].value = 30_000.0  # lower than the baseline on a higher-is-better KPI
    measurable = next(f for f in builder.result if f.criterion == "measurable")
    assert measurable.status == "fail"
    assert "Not SMART yet" in builder.output.value
    builder.controls["kpi"].value = "sessions"  # target resets from the new baseline
    assert builder.goal.kpi_id == "sessions"
    assert builder.controls["target"].value == pytest.approx(builder.goal.baseline * 1.1,
                                                             rel=1e-4)
    builder.add_button.click()
    builder.add_button.click()  # the same KPI and period again replaces, not duplicates
    assert [g.kpi_id for g in builder.agreed] == ["sessions"]
    # save into a copy of the client folder; refuse to overwrite, then overwrite with a backup
    monkeypatch.setattr(builder.client, "path", tmp_path)
    builder.save_button.click()
    assert (tmp_path / "goals.yaml").exists()
    assert builder.save() is None
    assert "already exists" in builder.save_status.value
    builder.overwrite.value = True
    assert builder.save() == tmp_path / "goals.yaml"
    assert (tmp_path / "goals.bak.yaml").exists()


def test_goal_builder_reads_a_goal_sentence(saas):
    builder = gw.GoalBuilder(saas, "2024Q4", "en")
    parsed = builder.apply_text("2024年第四季把贏單率提高到10%，由業務部負責")
    assert parsed.missing == ()
    assert (builder.controls["kpi"].value, builder.controls["period"].value) == ("win_rate",
                                                                                "2024Q4")
    assert builder.controls["target"].value == pytest.approx(0.10)  # "to 10 %", not +10 %
    assert builder.controls["owner"].value == "業務部"
    assert builder.goal.target == pytest.approx(0.10)
    # a relative goal is applied to the measured baseline (win rate of 2024Q3); the target box
    # holds four decimals
    builder.apply_text("In 2024Q4, raise the win rate by 10%")
    assert builder.goal.target == pytest.approx(builder.goal.baseline * 1.1, abs=5e-5)


def test_export_goals_refuses_existing_file_and_keeps_a_backup(blog, tmp_path):
    from kpitools.goals import read_goals

    goals = gw.agreed_goals(blog, "2024Q4")
    path = gw.export_goals(goals, tmp_path, lang="en")
    assert [g.goal_id for g in read_goals(path)] == ["g1", "g2", "g3", "g4", "g5"]
    with pytest.raises(KpitoolsError, match="already exists; the goals were not saved"):
        gw.export_goals(goals[:1], tmp_path)
    gw.export_goals(goals[:1], tmp_path, overwrite=True)
    assert len(read_goals(path)) == 1 and len(read_goals(tmp_path / "goals.bak.yaml")) == 5
    assert not list(tmp_path.glob(".goals-*"))  # no temporary file left behind
    with pytest.raises(KpitoolsError, match="does not exist"):
        gw.export_goals(goals, tmp_path / "missing")


def test_export_section_explains_instead_of_raising(blog, tmp_path, monkeypatch):
    goals = gw.agreed_goals(blog, "2024Q4")
    not_saved = gw.export_section(goals, blog, "zh-TW")
    assert not_saved.data["path"] is None and "save_goals" in not_saved.notes[0]
    (tmp_path / "goals.yaml").write_text("goals: []\n", encoding="utf-8")
    monkeypatch.setattr(blog, "path", tmp_path)
    refused = gw.export_section(goals, blog, "en", save=True)
    assert refused.data["path"] is None and "already exists" in refused.notes[0]
    assert (tmp_path / "goals.yaml").read_text(encoding="utf-8") == "goals: []\n"


def test_drafts_when_the_period_has_no_goals(blog):
    drafts = gw.agreed_goals(blog, "2025Q1", ["sessions", "bounce_rate"])
    assert [g.kpi_id for g in drafts] == ["sessions", "bounce_rate"]
    # sessions of 2024Q4 = 265,297 (see the attainment test) → target +10 %
    assert drafts[0].resolved_target(drafts[0].baseline) == pytest.approx(265_297 * 1.1)
    assert drafts[1].resolved_target(drafts[1].baseline) < drafts[1].baseline  # lower is better


# --------------------------------------------------------------------------- OKR


def test_questionnaire_panel_rescores_on_every_answer():
    from kpitools.goals import example_answers, score_answers

    panel = ow.QuestionnairePanel("en", example="mature_sales_team")
    assert panel.result.recommendation == "kpi"
    for qid, answer in example_answers("new_sales_team").items():
        panel.controls[qid].value = answer
    assert panel.result.recommendation == score_answers(
        example_answers("new_sales_team")).recommendation == "okr"
    assert "Recommendation: set OKRs." in panel.output.value


def test_key_result_panel_scores_what_is_typed(blog):
    objectives = ow.draft_objectives(blog, "2024Q4")
    panel = ow.KeyResultPanel(blog, objectives, "en")
    first = objectives[0].key_results[0]  # ad revenue: 42,938 → 51,500
    panel.controls["0.0"].value = first.start + 0.5 * (first.target - first.start)
    row = panel.result[(panel.result["level"] == "key_result")].iloc[0]
    assert row["score"] == pytest.approx(0.5)
    panel.controls["0.0"].value = first.target * 2
    assert panel.result[(panel.result["level"] == "key_result")].iloc[0]["score"] == 1.0


def test_okr_section_without_goals_says_so(blog):
    section = ow.okr_section(blog, "2025Q1", "zh-TW")
    assert section.skipped == _common.text("nb03.okr.none", "zh-TW")


# --------------------------------------------------------------------------- sales, web


def test_incentive_panel_matches_the_commission_formula(saas):
    panel = sw.IncentivePanel(saas, "2024Q4", "en")
    panel.controls["base_rate"].value = 0.04
    panel.controls["accelerated_rate"].value = 0.10
    table = panel.result.set_index("owner")
    # marginal: 4 % of bookings up to quota, 10 % of the part above it
    quota, booked = table["quota"], table["bookings"]
    expected = 0.04 * booked.clip(upper=quota) + 0.10 * (booked - quota).clip(lower=0)
    pd.testing.assert_series_equal(table["commission"], expected, check_names=False)
    panel.controls["threshold"].value = 0.5  # nobody under half of quota earns anything
    gated = panel.result.set_index("owner")
    assert (gated.loc[gated["attainment"] < 0.5, "commission"] == 0).all()


def test_funnel_panel_draws_one_channel(saas):
    panel = sw.FunnelPanel(saas, "2024Q4", "zh-TW")
    panel.controls["channel"].value = "referral"
    assert panel.result.data["funnel"]["deals"].iloc[0] == (
        (saas["deals"]["channel"] == "referral")
        & (saas["deals"]["created_date"] >= "2024-01-01")
        & (saas["deals"]["created_date"] < "2025-01-01")).sum()
    assert panel.image.value[:4] == b"\x89PNG"


def test_panels_and_sections_say_when_data_is_missing(blog):
    shown = _common.try_panel(sw.IncentivePanel, blog, "2024Q4", "en")
    assert "no deals, quotas data" in shown.data
    funnel = sw.funnel_section(blog, "2024Q4", "zh-TW")
    assert funnel.skipped == "這位客戶沒有 deals 資料，因此略過本節。"
    assert "⚠" in funnel.to_html()


def test_trend_and_attainment_panels(blog):
    trend = ww.TrendPanel(blog, "2024Q4", "en")
    assert len(trend.result) == 12  # months of 2024
    trend.controls["freq"].value = "Q"
    trend.controls["kpi"].value = "ad_revenue"
    assert trend.result.index[-1] == "2024Q4" and len(trend.result) == 8
    panel = ww.AttainmentPanel(blog, "2024Q4", "en")
    actual = float(panel.card.loc["g1", "actual"])
    panel.controls["target"].value = actual / 2  # target half the actual → 200 %
    assert panel.result == pytest.approx(2.0)
    panel.controls["goal"].value = "g4"  # switching goal restores its own target
    assert panel.controls["target"].value == 280_000
    assert panel.result == pytest.approx(265_297 / 280_000)


def test_metrics_document_collects_section_values(blog, tmp_path):
    from kpitools.report import read_metrics

    section = _common.Section(title="t", lang="en", values={"sessions": 265_297.0,
                                                           "bounce_rate": float("nan")})
    doc = _common.notebook_metrics(blog, "2024Q4", "en", "05_website_kpis", [section])
    path = _common.save_metrics(tmp_path / "out", doc)
    back = read_metrics(path)
    assert [h["kpi"] for h in back["headline"]] == ["sessions", "bounce_rate"]
    assert back["headline"][0]["formatted"] == "265,297"
    assert back["headline"][1]["value"] is None
    assert back["workshop"] == {"notebook": "05_website_kpis"}
    assert _common.save_metrics("", doc) is None
