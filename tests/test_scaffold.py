"""`kpitools new-client`: a complete starter folder, never overwriting, safe names only."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import kpitools
from kpitools._errors import KpitoolsError
from kpitools.commands.report import new_client as new_client_command
from kpitools.commands.report import templates as templates_command
from kpitools.report.runner import TEMPLATES_DIR
from kpitools.report.scaffold import new_client

TABLES_YAML = Path(kpitools.__file__).parent / "schemas" / "tables.yaml"

SAAS_FILES = ["churn_events.csv", "contracts.csv", "customers.csv", "deals.csv", "feedback.csv",
              "marketing_spend.csv"]


def test_saas_client_gets_config_intake_files_guide_and_readme(tmp_path):
    folder = new_client("cloud-ledger", name='雲帳科技: "雲" #1', root=tmp_path)
    assert folder == tmp_path / "cloud-ledger"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [*SAAS_FILES, "README.md", "client.yml", "intake_guide.md"])
    config = yaml.safe_load((folder / "client.yml").read_text(encoding="utf-8"))
    # The name survives quotes, a colon and '#' (which would start a YAML comment unquoted).
    assert config["name"] == {"zh-TW": '雲帳科技: "雲" #1', "en": '雲帳科技: "雲" #1'}
    assert config["language"] == "zh-TW" and config["business_model"] == "saas"
    assert config["funnel_stages"] == ["lead", "qualified", "demo", "proposal", "negotiation",
                                       "won"]
    assert config["goals"] == [] and config["strategy"] == []
    assert config["tables"]["deals"] == {"file": "deals.csv"}
    assert set(config["tables"]) == {name.removesuffix(".csv") for name in SAAS_FILES}


def test_intake_files_carry_the_canonical_headers(tmp_path):
    folder = new_client("acme", name="Acme", lang="en", business_model="ecommerce", root=tmp_path)
    with (folder / "orders.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    schema = yaml.safe_load(TABLES_YAML.read_text(encoding="utf-8"))
    assert rows == [list(schema["orders"]["columns"])]
    assert rows[0][:4] == ["order_id", "customer_id", "order_date", "amount"]
    assert not (folder / "contracts.csv").exists()  # not part of the e-commerce kit


def test_intake_guide_lists_every_column_in_both_languages(tmp_path):
    folder = new_client("acme", name="Acme", business_model="services", root=tmp_path)
    guide = (folder / "intake_guide.md").read_text(encoding="utf-8")
    assert "## `quotas.csv`: 業績配額 · Sales quotas" in guide
    assert "| `amount` | 金額 | 數字 number | 選填 no | 240000 |" in guide  # deals.amount
    assert "| `outcome` | 結果 | 選項 one of: won, lost, open | 必填 yes | lost |" in guide
    assert "| `start_date` | 開始日期 | 日期（YYYY-MM-DD） date (YYYY-MM-DD) | 必填 yes | " \
           "2024-01-01 |" in guide
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert readme.startswith("# Acme\n")
    assert f"kpitools report {folder.as_posix()} --quarter 2025Q1" in readme


def test_existing_folder_is_never_overwritten(tmp_path):
    (tmp_path / "acme").mkdir()
    (tmp_path / "acme" / "client.yml").write_text("keep me", encoding="utf-8")
    with pytest.raises(KpitoolsError, match="already exists; new-client never overwrites"):
        new_client("acme", name="Acme", root=tmp_path)
    assert (tmp_path / "acme" / "client.yml").read_text(encoding="utf-8") == "keep me"
    assert [p.name for p in tmp_path.iterdir()] == ["acme"]  # no half-built folder left


@pytest.mark.parametrize("slug", ["../evil", "Acme", "acme tea", ".hidden", "-x", "", "a/b"])
def test_unsafe_slugs_are_rejected(tmp_path, slug):
    with pytest.raises(KpitoolsError, match=f"Client slug {slug!r} is not allowed"):
        new_client(slug, name="x", root=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_bad_language_model_and_name(tmp_path):
    with pytest.raises(KpitoolsError, match="Unknown report language 'fr'"):
        new_client("acme", name="Acme", lang="fr", root=tmp_path)
    with pytest.raises(KpitoolsError, match=r"Unknown business model 'sas'.*\nHint: did you mean "
                                            r"'saas'\?"):
        new_client("acme", name="Acme", business_model="sas", root=tmp_path)
    with pytest.raises(KpitoolsError, match="The client needs a name"):
        new_client("acme", name="  ", root=tmp_path)


def test_cli_new_client_and_templates(tmp_path):
    made = CliRunner().invoke(new_client_command, ["blog", "--name", "熊貓部落格",
                                                   "--business-model", "content",
                                                   "--root", str(tmp_path)])
    assert made.exit_code == 0, made.output
    assert f"Created {tmp_path / 'blog'}" in made.output and "web_traffic.csv" in made.output
    again = CliRunner().invoke(new_client_command, ["blog", "--name", "x", "--root",
                                                    str(tmp_path)])
    assert again.exit_code == 1 and "already exists" in again.output
    listed = CliRunner().invoke(templates_command, ["--dir", str(TEMPLATES_DIR)])
    assert listed.exit_code == 0, listed.output
    assert "quarterly_report.ipynb" in listed.output
    assert "trailing_quarters" in listed.output and "int" in listed.output
