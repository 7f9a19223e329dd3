"""Goal model: dicts, YAML, CSV (goals table with zh-TW headers), client.yml; bilingual texts."""

from __future__ import annotations

import string
from pathlib import Path

import pandas as pd
import pytest
import yaml

from kpitools._errors import KpitoolsError
from kpitools.goals import model
from kpitools.goals.model import (
    CustomMetric,
    Goal,
    goal_from_dict,
    goals_from_client,
    goals_to_frame,
    read_goals,
    text,
    write_goals,
)

GOALS_DIR = Path(model.__file__).parent


def _g1() -> dict:
    return {"goal_id": "g1", "kpi": "new_customers", "target": 40, "period": "2024Q4",
            "direction": "higher", "baseline": 31, "baseline_period": "2024Q3",
            "owner": "業務部 / Sales", "strategy": "acquire_customers",
            "objective": {"zh-TW": "拓展新客戶", "en": "Win new customers"}, "scope": "all"}


def test_goal_from_client_yml_entry_keeps_every_field():
    g = goal_from_dict(_g1())
    assert (g.goal_id, g.kpi_id, g.target, g.baseline, g.period) == ("g1", "new_customers", 40.0,
                                                                     31.0, "2024Q4")
    assert g.objective_for("en") == "Win new customers"
    assert g.objective_for("zh-TW") == "拓展新客戶"
    # 40 / 31 − 1 = 0.290322…
    assert g.required_change() == pytest.approx(9 / 31)


def test_target_change_as_percent_text_and_resolved_target():
    g = goal_from_dict({"kpi": "new_customers", "baseline": 40, "target_change": "10%"}, index=2)
    assert g.goal_id == "g3"
    assert g.target_change == pytest.approx(0.10)
    assert g.resolved_target() == pytest.approx(44.0)  # 40 × 1.10
    assert g.resolved_target(baseline=50) == pytest.approx(55.0)
    assert Goal(kpi="x", target_change=-0.2).resolved_target() is None  # no baseline yet


def test_direction_words_and_errors():
    assert goal_from_dict({"kpi": "x", "direction": "越低越好"}).direction == "lower"
    with pytest.raises(KpitoolsError, match=r"direction must be 'higher' or 'lower'.*\n"
                                            r"Hint: did you mean 'higher'\?"):
        goal_from_dict({"goal_id": "g9", "kpi": "x", "direction": "highre"})
    with pytest.raises(KpitoolsError, match=r"goal 'g2': target must be a number, got 'forty'"):
        goal_from_dict({"goal_id": "g2", "kpi": "x", "target": "forty"})


def test_custom_metric_from_mapping():
    g = goal_from_dict({"kpi": {"name": {"zh-TW": "門市來客數", "en": "Store visitors"},
                                "definition": "people counter total", "data_source": "POS"}})
    assert isinstance(g.kpi, CustomMetric)
    assert g.kpi_id is None
    assert g.kpi.name_for("en") == "Store visitors"


def test_yaml_roundtrip(tmp_path):
    goals = [goal_from_dict(_g1()),
             Goal(goal_id="g2", kpi=CustomMetric("門市來客數", "人流計數器每日合計", "POS"),
                  target_change=0.05, period="2024Q4", extra={"note": "pilot"})]
    path = write_goals(goals, tmp_path / "goals.yaml")
    back = read_goals(path)
    assert back == goals
    assert back[1].extra == {"note": "pilot"}


def test_csv_roundtrip_keeps_both_languages_and_custom_metric(tmp_path):
    goals = [goal_from_dict(_g1()),
             Goal(goal_id="g2", kpi=CustomMetric("門市來客數", "人流計數器每日合計", "POS"),
                  target_change=0.05, period="2024Q4")]
    path = write_goals(goals, tmp_path / "goals.csv")
    frame = pd.read_csv(path, encoding="utf-8-sig")
    assert list(frame.columns[:4]) == ["goal_id", "kpi", "target", "period"]
    assert "target_change" in frame.columns and "kpi_data_source" in frame.columns
    back = read_goals(path)
    assert back[0] == goals[0]  # bilingual objective rebuilt from objective + objective_en
    assert back[1].kpi == CustomMetric("門市來客數", "人流計數器每日合計", "POS")
    assert back[1].target_change == pytest.approx(0.05)


def test_csv_with_chinese_headers(tmp_path):
    path = tmp_path / "目標.csv"
    path.write_text("目標編號,指標,目標值,期間,方向,基準值,負責人\n"
                    "g1,churn_rate,0.05,2024Q3,越低越好,0.08,客服部\n", encoding="utf-8-sig")
    (g,) = read_goals(path)
    assert (g.goal_id, g.kpi, g.target, g.direction, g.baseline, g.owner) == (
        "g1", "churn_rate", 0.05, "lower", 0.08, "客服部")


def test_goals_from_client_forms(tmp_path):
    (tmp_path / "client.yml").write_text(yaml.safe_dump(
        {"name": {"zh-TW": "測試", "en": "Test"}, "goals": [_g1()]}, allow_unicode=True),
        encoding="utf-8")
    from_dir = goals_from_client(tmp_path)
    assert [g.goal_id for g in from_dir] == ["g1"]
    assert goals_from_client({"goals": [_g1()]}) == from_dir

    class FakeClient:  # what kpitools.load_client returns, as far as goals are concerned
        goals = (_g1(),)

    assert goals_from_client(FakeClient()) == from_dir


def test_goals_to_frame_in_english():
    frame = goals_to_frame([goal_from_dict(_g1())], lang="en")
    assert frame.loc[0, "objective"] == "Win new customers"
    assert "objective_en" not in frame.columns


def test_read_goals_errors(tmp_path):
    with pytest.raises(KpitoolsError, match="does not exist"):
        read_goals(tmp_path / "missing.yaml")
    bad = tmp_path / "goals.txt"
    bad.write_text("x")
    with pytest.raises(KpitoolsError, match=r"unknown file type '\.txt'.*\nHint: use a \.yaml"):
        read_goals(bad)


# ---------------------------------------------------------------- bilingual texts
def _leaves(node, path=()):
    if isinstance(node, dict) and set(node) & {"zh-TW", "en"}:
        yield ".".join(path), node
    elif isinstance(node, dict):
        for k, v in node.items():
            yield from _leaves(v, (*path, str(k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _leaves(v, (*path, str(i)))


def _fields(s: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(s) if f}


@pytest.mark.parametrize("filename", ["texts.yaml", "questionnaire.yaml"])
def test_every_text_exists_in_both_languages_with_same_placeholders(filename):
    data = yaml.safe_load((GOALS_DIR / filename).read_text(encoding="utf-8"))
    leaves = list(_leaves(data))
    assert len(leaves) > 20
    for key, node in leaves:
        assert set(node) == {"zh-TW", "en"}, key
        zh, en = str(node["zh-TW"]), str(node["en"])
        assert zh.strip() and en.strip(), key
        assert _fields(zh) == _fields(en), key


def test_text_lookup_and_errors():
    assert text("status.on_track", "zh-TW") == "進度正常"
    assert text("smart.specific.ok_scope.msg", "en", kpi="ACV", scope="B2B") == (
        'The metric "ACV" is defined, with scope "B2B".')
    with pytest.raises(KpitoolsError, match=r"unknown language 'fr'"):
        text("status.on_track", "fr")
    with pytest.raises(KpitoolsError, match=r"no text 'status.nope'"):
        text("status.nope", "en")


def test_every_status_and_finding_key_used_in_code_exists():
    import re

    used = set()
    for name in ("smart.py", "attainment.py", "recommend.py", "okr.py", "questionnaire.py",
                 "incentives.py"):
        src = (GOALS_DIR / name).read_text(encoding="utf-8")
        used |= {m for m in re.findall(r'text\("([a-z_.]+)"', src)}
        for crit, status, key in re.findall(
                r'_finding\("(\w+)", "(\w+)", "(\w+)"', src):
            used.add(f"smart.{crit}.{key}.msg")
            if status != "pass":
                used.add(f"smart.{crit}.{key}.suggest")
    assert len(used) > 40
    for key in sorted(used):
        for lang in ("zh-TW", "en"):
            assert text(key, lang)  # raises KpitoolsError for a missing key


@pytest.mark.parametrize("client", ["cloudledger", "shop", "pandablog"])
def test_sample_clients_goals_read_and_name_catalog_kpis(sample_dir, client):
    from kpitools.catalog import get_kpi

    goals = goals_from_client(sample_dir / client)
    assert len(goals) >= 3
    for g in goals:
        kpi = get_kpi(g.kpi_id)  # raises UnknownKPIError for an id the catalog lacks
        assert g.direction in (None, kpi.direction)
        assert g.objective_for("zh-TW") and g.objective_for("en")
        assert g.resolved_target() is not None and g.period
