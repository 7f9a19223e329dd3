"""The workshop's goal builder without a browser: driven by setting widget values and clicking
its buttons, as ipywidgets' own tests do. Nothing a consultant typed may be lost or replaced,
and nothing reaches the client folder without a confirmation."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from kpitools.catalog import compute_kpi
from kpitools.goals import read_goals
from kpitools.workshop import _common
from kpitools.workshop import goals_widgets as gw
from kpitools.workshop._inputs import input_text, parse_number

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "data" / "sample"
KPIS = ["net_mrr_churn_rate", "cltv", "win_rate"]


@pytest.fixture(scope="module")
def saas():
    return _common.open_client(SAMPLES / "cloudledger")


@pytest.fixture
def builder(saas, tmp_path, monkeypatch):
    """A builder on a copy of the client folder (saving never touches data/sample)."""
    folder = tmp_path / "cloudledger"
    shutil.copytree(SAMPLES / "cloudledger", folder)
    monkeypatch.setattr(saas, "path", folder)
    return gw.GoalBuilder(saas, "2024Q4", "zh-TW", kpi_ids=KPIS)


# --------------------------------------------------------------------------- inputs


def test_numbers_typed_in_the_clients_units():
    assert parse_number("25", "rate") == pytest.approx(0.25)
    assert parse_number("25 %", "rate") == pytest.approx(0.25)
    assert parse_number("-0.28%", "rate") == pytest.approx(-0.0028)
    assert parse_number("1,200,000", "currency") == 1_200_000
    assert parse_number("NT$1,200,000", "currency") == 1_200_000
    assert parse_number("120萬元", "currency") == 1_200_000
    assert parse_number("", "currency") is None
    with pytest.raises(Exception, match=r"'abc' is not a number"):
        parse_number("abc", "count")
    # shown back the same way, never as a raw float
    assert input_text(0.011278195488721804, "rate") == "1.13%"
    assert input_text(2_396_550.4, "currency") == "2,396,550"
    assert input_text(None, "rate") == ""


# --------------------------------------------------------------------------- keeping input


def test_default_kpi_is_not_a_negative_metric(builder, saas):
    # net MRR churn comes first in the list but is better lower and negative for this client
    assert builder.controls["kpi"].options[0][1] == "net_mrr_churn_rate"
    assert builder.controls["kpi"].value == "cltv"
    base = compute_kpi("cltv", saas, "2024Q3")
    assert builder.goal.baseline == pytest.approx(base)
    # proposal = baseline + 10 %, shown with separators and no decimals
    assert builder.controls["target"].value == f"{base * 1.1:,.0f}"


def test_changing_the_deadline_keeps_target_and_baseline(builder, saas):
    """The issue's steps: 贏單率, target 25 %, deadline 2025年第2季 → nothing resets."""
    builder.controls["kpi"].value = "win_rate"
    builder.controls["target"].value = "25"
    baseline_html = builder.controls["baseline"].value
    builder.controls["period"].value = "2025Q2"
    assert builder.controls["target"].value == "25"
    assert builder.controls["baseline"].value == baseline_html
    assert "—" not in baseline_html
    base = compute_kpi("win_rate", saas, "2024Q3")
    assert builder.goal.target == pytest.approx(0.25)
    assert builder.goal.baseline == pytest.approx(base)
    assert builder.goal.period == "2025Q2"
    builder.controls["owner"].value = "王經理"
    assert builder.controls["target"].value == "25"
    assert builder.controls["period"].value == "2025Q2"
    assert builder.goal.owner == "王經理"


def test_switching_kpi_and_back_restores_the_typed_target(builder):
    builder.controls["kpi"].value = "win_rate"
    builder.controls["target"].value = "30%"
    builder.controls["kpi"].value = "cltv"
    assert builder.controls["target"].value != "30%"  # CLTV has its own (proposed) target
    builder.controls["target"].value = "3,000,000"
    builder.controls["kpi"].value = "win_rate"
    assert builder.controls["target"].value == "30%"
    builder.controls["kpi"].value = "cltv"
    assert builder.controls["target"].value == "3,000,000"
    assert builder.goal.target == 3_000_000


def test_target_in_percent_and_a_hint_for_a_fraction(builder, saas):
    builder.controls["kpi"].value = "win_rate"
    builder.controls["target"].value = "0.25"  # 0.25 % — probably meant 25 %
    assert builder.goal.target == pytest.approx(0.0025)
    assert "您輸入的是 0.25%；若要 25.0%，請輸入 25。" in builder.output.value
    base = compute_kpi("win_rate", saas, "2024Q3")
    builder.controls["target"].value = "25"
    # 25 % against the baseline: the change is written in percentage points
    points = (0.25 - base) * 100
    assert f"變動 +{points:.1f} 個百分點" in builder.output.value
    assert "0.0734" not in builder.output.value


def test_text_that_is_not_a_number_is_refused_in_the_clients_language(builder):
    builder.controls["target"].value = "兩百萬"
    assert builder.goal is None and builder.add_button.disabled
    assert "「兩百萬」不是數字" in builder.output.value
    before = list(builder.agreed)
    builder.add()
    assert builder.agreed == before


# --------------------------------------------------------------------------- zero targets


def test_empty_target_is_never_a_zero(builder):
    """A KPI without a baseline gets an empty box, not 0, and cannot be added empty."""
    builder._baseline["win_rate"] = None  # as if the client had no deals last quarter
    builder._targets.pop("win_rate", None)
    builder.controls["kpi"].value = "win_rate"
    assert builder.controls["target"].value == ""
    assert builder.goal is None
    assert builder.output.value == "<p>請輸入目標值。</p>"
    n = len(builder.agreed)
    builder.add_button.click()
    assert len(builder.agreed) == n
    assert builder.save_status.value == "請輸入目標值。"


def test_a_zero_nobody_typed_is_not_saved(builder):
    from kpitools.goals import Goal

    builder.agreed = [Goal(goal_id="g1", kpi="cltv", target=0.0, period="2024Q4")]
    assert builder.ask_save() is False
    assert "目標 g1 沒有目標值或目標值為 0" in builder.save_status.value
    assert not builder.asking
    assert not (Path(builder.client.path) / "goals.yaml").exists()


def test_a_typed_zero_is_kept(builder):
    builder.agreed = []
    builder.controls["kpi"].value = "net_mrr_churn_rate"
    builder.controls["target"].value = "0"  # "no net churn at all": a deliberate 0
    builder.add_button.click()
    assert builder.agreed[-1].target == 0
    assert builder.ask_save() is True


# --------------------------------------------------------------------------- saving


def test_save_asks_first_then_writes_with_a_backup(builder):
    folder = Path(builder.client.path)
    goals_file, backup = folder / "goals.yaml", folder / "goals.bak.yaml"
    builder.agreed = []
    builder.controls["kpi"].value = "win_rate"
    builder.controls["target"].value = "25"
    builder.add_button.click()
    builder.controls["kpi"].value = "cltv"
    builder.controls["target"].value = "2,500,000"
    builder.controls["period"].value = "2025Q1"
    builder.add_button.click()
    assert [g.kpi_id for g in builder.agreed] == ["win_rate", "cltv"]
    builder.save_button.click()
    assert builder.asking and not goals_file.exists()  # asked, nothing written yet
    assert (
        "確定要把 2 個目標寫入客戶資料夾「cloudledger」的 goals.yaml 嗎？"
        in builder.confirm_text.value
    )
    builder.cancel_button.click()
    assert not builder.asking and not goals_file.exists()
    builder.save_button.click()
    builder.confirm_button.click()
    saved = read_goals(goals_file)
    assert [(g.kpi_id, g.target, g.period) for g in saved] == [
        ("win_rate", pytest.approx(0.25), "2024Q4"),
        ("cltv", 2_500_000, "2025Q1"),
    ]
    assert "已將 2 個目標寫入" in builder.save_status.value
    assert str(folder) not in builder.save_status.value  # no machine paths on the screen
    # a second save says it replaces the file and keeps the first one as the backup
    first = goals_file.read_text(encoding="utf-8")
    builder.controls["target"].value = "2,600,000"
    builder.add_button.click()
    builder.save_button.click()
    assert "原檔會保留為 goals.bak.yaml" in builder.confirm_text.value
    builder.confirm_button.click()
    assert backup.read_text(encoding="utf-8") == first
    assert read_goals(goals_file)[-1].target == 2_600_000
    assert not list(folder.glob(".goals-*"))  # the temporary file was moved into place
    assert yaml.safe_load(goals_file.read_text(encoding="utf-8"))["goals"][0]["kpi"] == "win_rate"


def test_confirm_without_asking_writes_nothing(builder):
    assert builder.confirm_save() is None
    assert not (Path(builder.client.path) / "goals.yaml").exists()
