"""check-data checks what the report will use: goals (KPI ids, direction, numbers) and every
client.yml setting, all problems at once, with did-you-mean hints."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from kpitools._errors import DataValidationError
from kpitools.commands.check_data import check_data
from kpitools.io.client import check_client, load_client

CUSTOMERS = "customer_id,signup_date\nC1,2024-01-05\n"


def _client(folder: Path, settings: str) -> Path:
    folder.mkdir()
    (folder / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    (folder / "client.yml").write_text(
        f"{settings}tables:\n  customers: {{file: customers.csv}}\n", encoding="utf-8"
    )
    return folder


def _rendered(problems: list) -> list[str]:
    return [f"{p.severity}: {p.render()}" for p in problems]


def test_goal_problems_the_report_would_hit_are_all_listed(tmp_path):
    client = _client(
        tmp_path / "acme",
        "name: Demo\nbusiness_model: saas\ngoals:\n"
        "- {goal_id: g1, kpi: revenuee, target: 100, period: 2024Q4, direction: sideways}\n"
        "- {goal_id: g2, kpi: acv, target: 100, period: 2024Q4, baseline: lots}\n"
        "- {goal_id: g3, kpi: acv, target: 100, period: 2024Q4, direction: 越高越好}\n"
        "- {goal_id: g4, kpi: {name: 展店數, definition: 新開門市}, target: 3, period: 2024Q4}\n",
    )
    problems = check_client(client)["client.yml"]
    assert _rendered(problems) == [
        "error: goal 1 (g1): unknown KPI 'revenuee' (did you mean 'revenue'?)",
        "error: goal 1 (g1): direction must be 'higher' or 'lower', got 'sideways'.",
        "error: goal 2 (g2): baseline must be a number, got 'lots'.",
    ]  # g3 uses an accepted Chinese spelling, g4 a custom metric: both fine for the report
    assert "`kpitools kpis`" in problems[0].hint
    with pytest.raises(DataValidationError, match="unknown KPI 'revenuee'"):
        load_client(client)  # the report's own loading refuses it the same way


def test_goals_yaml_is_checked_like_client_yml_goals(tmp_path):
    client = _client(tmp_path / "acme", "name: Demo\nbusiness_model: saas\n")
    (client / "goals.yaml").write_text(
        "goals:\n- {goal_id: g1, kpi: logo_churn, target: 0.02, period: 2024Q4, direction: down}\n",
        encoding="utf-8",
    )
    assert _rendered(check_client(client)["goals.yaml"]) == [
        "error: goal 1 (g1): unknown KPI 'logo_churn' (did you mean 'logo_churn_rate'?)"
    ]


def test_every_setting_the_report_reads_is_checked(tmp_path):
    client = _client(
        tmp_path / "acme",
        "name: {zh-TW: 示範, eng: Demo}\nbusiness_model: saas\ncurrency: NT$\n"
        "funnel_stages: [lead, 3, won]\nlangauge: en\n",
    )
    assert _rendered(check_client(client)["client.yml"]) == [
        "warning: unknown setting 'langauge' (did you mean 'language'?); it is ignored",
        "error: unknown language in name 'eng' (did you mean 'en'?). Known: ['zh-TW', 'en']",
        "error: currency must be a three-letter ISO 4217 code, got 'NT$'",
        "error: funnel_stages must list stage names (text), in funnel order",
    ]


def test_repeated_funnel_stage_is_an_error(tmp_path):
    client = _client(
        tmp_path / "acme", "name: Demo\nbusiness_model: saas\nfunnel_stages: [lead, won, lead]\n"
    )
    assert _rendered(check_client(client)["client.yml"]) == [
        "error: funnel_stages lists a stage twice"
    ]


def test_sample_clients_still_pass(sample_dir: Path):
    folders = sorted(p.parent for p in sample_dir.glob("*/client.yml"))
    result = CliRunner().invoke(check_data, [*map(str, folders), "--plain"])
    assert result.exit_code == 0, result.output
    assert "warning: unknown setting" not in result.output
