"""A custom KPI with its own data source (market share from a small CSV named in client.yml)."""

from __future__ import annotations

import shutil

import pytest
import yaml

import kpitools
from kpitools._errors import KpitoolsError
from kpitools.goals import CustomMetric, check_smart, goals_from_client, scorecard
from kpitools.goals.custom import custom_series

SHARE_GOAL = {
    "goal_id": "g5",
    "kpi": {"name": {"zh-TW": "市場佔有率", "en": "Market share"},
            "definition": {"zh-TW": "本公司營收占台灣中小企業會計軟體市場的比例",
                           "en": "Our revenue as a share of the SME accounting-software market"},
            "data_source": "market_share.csv", "unit": "rate", "direction": "higher"},
    "target": 0.08, "period": "2024", "owner": "總經理 / CEO", "strategy": "acquire_customers",
}


@pytest.fixture
def client_with_share(sample_dir, tmp_path):
    folder = tmp_path / "cloudledger"
    shutil.copytree(sample_dir / "cloudledger", folder)
    (folder / "market_share.csv").write_text("period,value\n2022,5.2%\n2023,0.061\n2024,0.069\n",
                                             encoding="utf-8")
    config = yaml.safe_load((folder / "client.yml").read_text(encoding="utf-8"))
    config["goals"] = [SHARE_GOAL]
    (folder / "client.yml").write_text(yaml.safe_dump(config, allow_unicode=True),
                                       encoding="utf-8")
    return kpitools.load_client(folder)


def test_custom_kpi_is_read_from_its_file(client_with_share):
    (goal,) = goals_from_client(client_with_share)
    assert isinstance(goal.kpi, CustomMetric) and goal.kpi.data_source == "market_share.csv"
    series = custom_series(goal.kpi, client_with_share)
    assert series.to_dict() == {"2022": pytest.approx(0.052), "2023": 0.061, "2024": 0.069}
    row = scorecard([goal], client_with_share, lang="en").iloc[0]
    # 2024: 6.9 % against 8 % → 0.069 / 0.08 = 86.25 % → missed (below 90 %)
    assert row["actual"] == pytest.approx(0.069)
    assert row["attainment"] == pytest.approx(0.8625)
    assert row["status"] == "missed"
    # baseline = the 2023 row of the file
    assert (row["baseline"], row["baseline_period"]) == (pytest.approx(0.061), "2023")
    assert row["tables"] == "market_share.csv"


def test_custom_kpi_mid_period_waits_for_the_period_to_end(client_with_share):
    (goal,) = goals_from_client(client_with_share)
    row = scorecard([goal], client_with_share, as_of="2024-06-30", lang="en").iloc[0]
    assert row["status"] == "no_data" and "once the period is over" in row["note"]


def test_custom_kpi_goal_is_measurable(client_with_share):
    (goal,) = goals_from_client(client_with_share)
    findings = check_smart(goal, client_with_share, lang="en")
    specific, measurable = findings[0], findings[1]
    assert specific.status == "pass"
    # baseline 0.061 (2023) → target 0.08 = +31.1 %
    assert measurable.status == "pass" and "baseline 0.061, target 0.08 (+31.1%)" in (
        measurable.message)


def test_custom_source_must_stay_in_the_client_folder_and_be_clean(client_with_share):
    outside = CustomMetric("Share", "x", data_source="../elsewhere.csv")
    with pytest.raises(KpitoolsError, match="outside the client folder"):
        custom_series(outside, client_with_share)
    (client_with_share.path / "bad.csv").write_text(
        "period,value\n2023,abc\nlast year,0.1\n2024,0.07\n", encoding="utf-8")
    bad = CustomMetric("Share", "x", data_source="bad.csv")
    with pytest.raises(KpitoolsError, match=r"bad.csv: 2 problem\(s\)\n  - row 2: value 'abc' is "
                                            r"not a number\n  - row 3: period 'last year'"):
        custom_series(bad, client_with_share)
    with pytest.raises(KpitoolsError, match="no client folder was given"):
        custom_series(bad, {"contracts": None})
