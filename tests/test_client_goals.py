"""Goals agreed in a workshop (goals.yaml beside client.yml) are what the client loads next time."""

from __future__ import annotations

import shutil

import pytest

import kpitools
from kpitools.workshop.goals_widgets import export_goals


def test_exported_goals_take_precedence_over_client_yml(sample_dir, tmp_path):
    folder = tmp_path / "pandablog"
    shutil.copytree(sample_dir / "pandablog", folder)
    client = kpitools.load_client(folder)
    original = client.goals
    assert len(original) == 5
    agreed = [dict(original[0], target=123456.0)]
    export_goals(agreed, folder, lang="en")
    reloaded = kpitools.load_client(folder)
    assert [g["goal_id"] for g in reloaded.goals] == [original[0]["goal_id"]]
    assert reloaded.goals[0]["target"] == 123456.0
    # The sample folder itself is untouched.
    assert not (sample_dir / "pandablog" / "goals.yaml").exists()
    assert len(kpitools.load_client(sample_dir / "pandablog").goals) == 5


def test_client_yml_goals_written_as_sentences(sample_dir, tmp_path):
    """A goal in client.yml may be a sentence; the client's business model picks the KPI."""
    import yaml

    from kpitools.goals import goals_from_client, scorecard

    folder = tmp_path / "cloudledger"
    shutil.copytree(sample_dir / "cloudledger", folder)
    config = yaml.safe_load((folder / "client.yml").read_text(encoding="utf-8"))
    config["goals"] = [
        {"goal_id": "t1", "text": "In 2024Q1, increase monthly new customers by 10%, owner: Sales"},
        {"goal_id": "t2", "text": "2024年第四季把贏單率提高到10%，由業務部負責"},
        {"goal_id": "t3", "text": "三個月內客戶流失率降低到1.5%", "reference_date": "2024-10-01",
         "owner": "客戶成功部"},
    ]
    (folder / "client.yml").write_text(yaml.safe_dump(config, allow_unicode=True),
                                       encoding="utf-8")
    client = kpitools.load_client(folder)
    goals = goals_from_client(client)
    assert [(g.kpi, g.period, g.owner) for g in goals] == [
        ("new_customers", "2024Q1", "Sales"),  # not new_customers_orders: a SaaS client
        ("win_rate", "2024Q4", "業務部"),
        ("logo_churn_rate", "2024Q4", "客戶成功部"),  # 1 Oct + 3 months = 2024Q4
    ]
    assert goals[0].target_change == pytest.approx(0.10)
    assert (goals[1].target, goals[1].target_change) == (pytest.approx(0.10), None)
    card = scorecard(goals, client, lang="en").set_index("goal_id")
    # the baseline of t1 is measured from the data (2023Q4), the target 10 % above it
    assert card.loc["t1", "baseline_period"] == "2023Q4"
    assert card.loc["t1", "target"] == pytest.approx(card.loc["t1", "baseline"] * 1.1)
    assert card.loc["t2", "target"] == pytest.approx(0.10)


def test_client_yml_sentence_goal_that_says_too_little_is_refused(sample_dir, tmp_path):
    import yaml

    folder = tmp_path / "cloudledger"
    shutil.copytree(sample_dir / "cloudledger", folder)
    config = yaml.safe_load((folder / "client.yml").read_text(encoding="utf-8"))
    config["goals"] = [{"goal_id": "v1", "text": "改善客戶數"}]
    (folder / "client.yml").write_text(yaml.safe_dump(config, allow_unicode=True),
                                       encoding="utf-8")
    with pytest.raises(kpitools.DataValidationError, match=r"goal 1 \(v1\): missing \['kpi', "
                                                           r"'target', 'period'\]"):
        kpitools.load_client(folder)
