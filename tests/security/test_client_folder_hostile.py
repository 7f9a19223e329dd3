"""Hostile client folders: files outside the folder, YAML alias bombs, devices as data files.

A client folder comes from a client or a colleague. Whatever its client.yml says, kpitools
reads only regular files inside the folder, and never shows a line of a file it refused.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kpitools._errors import DataValidationError, KpitoolsError
from kpitools.app.server import client_display_name
from kpitools.commands.check_data import check_data
from kpitools.goals.model import read_goals
from kpitools.io import load_table
from kpitools.io._yaml import MAX_CLIENT_YAML_BYTES
from kpitools.io.client import Client, check_client, load_client
from kpitools.report.runner import _client_language

SECRET = "TOP-SECRET-FIRST-LINE"
CUSTOMERS = "customer_id,signup_date\nC1,2024-01-05\n"


def _client(folder: Path, tables: str, extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "client.yml").write_text(
        f"name: Demo\nbusiness_model: saas\n{extra}tables:\n{tables}", encoding="utf-8"
    )
    return folder


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the client's, with a table-shaped secret file in it."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "secret.csv").write_text(f"{SECRET},x\n1,2\n", encoding="utf-8")
    return folder


def _all_text(problems: dict) -> str:
    return "\n".join(
        f"{label}: {p.render()} {p.hint}" for label, ps in problems.items() for p in ps
    )


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("../elsewhere/secret.csv", "points outside the client folder"),
        ("../../../../../../../../etc/passwd", "points outside the client folder"),
        ("sub/../../elsewhere/secret.csv", "points outside the client folder"),
        ("{outside}/secret.csv", "is an absolute path"),
        ("/etc/passwd", "is an absolute path"),
        ("C:\\\\Users\\\\x\\\\secret.csv", "is an absolute path"),
        ("link.csv", "points through a symbolic link outside the client folder"),
        ("linkdir/secret.csv", "points through a symbolic link outside the client folder"),
    ],
)
def test_files_outside_the_folder_are_refused_unread(tmp_path, outside, entry, message):
    client = _client(
        tmp_path / "acme", f"  customers: {{file: '{entry.format(outside=outside)}'}}\n"
    )
    (client / "sub").mkdir()
    (client / "link.csv").symlink_to(outside / "secret.csv")
    (client / "linkdir").symlink_to(outside, target_is_directory=True)
    problems = check_client(client)
    assert message in problems["client.yml"][0].render()
    assert SECRET not in _all_text(problems) and "root:" not in _all_text(problems)
    with pytest.raises(DataValidationError, match=message) as raised:
        load_client(client)
    assert SECRET not in str(raised.value)
    result = CliRunner().invoke(check_data, [str(client), "--plain"])
    assert result.exit_code == 1 and SECRET not in result.output


def test_a_symlink_that_stays_inside_the_folder_is_fine(tmp_path):
    client = _client(tmp_path / "acme", "  customers: {file: current.csv}\n")
    (client / "exports").mkdir()
    (client / "exports" / "customers_2024.csv").write_text(CUSTOMERS, encoding="utf-8")
    (client / "current.csv").symlink_to(Path("exports") / "customers_2024.csv")
    assert len(load_client(client)["customers"]) == 1


@pytest.mark.parametrize("name", ["client.yml", "goals.yaml"])
def test_config_files_linked_from_outside_are_refused(tmp_path, outside, name):
    client = _client(tmp_path / "acme", "  customers: {file: customers.csv}\n")
    (client / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    (outside / "x.yml").write_text(f"name: {SECRET}\ngoals: []\n", encoding="utf-8")
    (client / name).unlink(missing_ok=True)
    (client / name).symlink_to(outside / "x.yml")
    problems = check_client(client)
    assert "outside the client folder" in _all_text(problems)
    assert SECRET not in _all_text(problems)
    if name == "client.yml":
        with pytest.raises(KpitoolsError, match="a link to a file outside the client folder"):
            client_display_name(client, "en")


# --- YAML: anchors, aliases, duplicates, size ---------------------------------------------------

_BOMB = "\n".join(
    ["lol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    + [f"lol{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 10)]
    + ["name: *l9", "business_model: saas", "tables: {}", ""]
)


@pytest.mark.timeout(30)
def test_alias_bomb_is_refused_at_once_everywhere(tmp_path):
    client = tmp_path / "acme"
    client.mkdir()
    (client / "client.yml").write_text(_BOMB, encoding="utf-8")
    problems = check_client(client)["client.yml"]
    assert [p.render() for p in problems] == ["uses the YAML anchor &l0 (line 1)"]
    assert "anchors (&name) and aliases (*name) are not allowed" in problems[0].hint
    with pytest.raises(DataValidationError, match=r"uses the YAML anchor &l0 \(line 1\)"):
        load_client(client)
    with pytest.raises(KpitoolsError, match=r"uses the YAML anchor &l0 \(line 1\)"):
        client_display_name(client, "en")
    assert _client_language(client) == "zh-TW"  # falls back at once; the run reports the error


def test_a_lone_alias_in_goals_yaml_is_refused(tmp_path):
    client = _client(tmp_path / "acme", "  customers: {file: customers.csv}\n")
    (client / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    (client / "goals.yaml").write_text(
        "base: &g {kpi: acv, target: 1, period: 2024Q4}\ngoals:\n- *g\n", encoding="utf-8"
    )
    assert [p.render() for p in check_client(client)["goals.yaml"]] == [
        "uses the YAML anchor &g (line 1)"
    ]
    with pytest.raises(DataValidationError, match=r"goals\.yaml: 1 problem\n  - uses the YAML"):
        load_client(client)
    with pytest.raises(KpitoolsError, match=r"goals\.yaml: uses the YAML anchor &g"):
        Client(client, {}, {}).goals  # noqa: B018 - the property reads the file
    with pytest.raises(KpitoolsError, match="anchor &g"):
        read_goals(client / "goals.yaml")


def test_a_key_set_twice_is_refused(tmp_path):
    client = tmp_path / "acme"
    client.mkdir()
    (client / "client.yml").write_text(
        "name: Demo\nbusiness_model: saas\nlanguage: en\nlanguage: zh-TW\ntables: {}\n",
        encoding="utf-8",
    )
    assert [p.render() for p in check_client(client)["client.yml"]] == [
        "sets 'language' twice in the same block (line 4)"
    ]


def test_an_oversized_client_yml_is_refused_without_parsing(tmp_path):
    client = tmp_path / "acme"
    client.mkdir()
    padding = "# padding\n" * (MAX_CLIENT_YAML_BYTES // 10 + 1)
    (client / "client.yml").write_text(f"name: Demo\n{padding}", encoding="utf-8")
    (problem,) = check_client(client)["client.yml"]
    assert problem.render().startswith("is larger than 1,048,576 bytes")


# --- folders and devices named as data files ------------------------------------------------------


def test_folder_named_as_a_data_file_says_folder(tmp_path):
    client = _client(tmp_path / "acme", "  customers: {file: exports}\n")
    (client / "exports").mkdir()
    (problem,) = check_client(client)["client.yml"]
    assert problem.render() == "tables: customers: 'exports' is a folder, not a data file"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
@pytest.mark.timeout(30)
def test_pipe_named_as_a_data_file_is_refused_without_blocking(tmp_path):
    client = _client(tmp_path / "acme", "  customers: {file: customers.csv}\n")
    os.mkfifo(client / "customers.csv")  # opening it for reading would wait forever
    (problem,) = check_client(client)["client.yml"]
    assert problem.render() == (
        "tables: customers: 'customers.csv' is not a regular file (a device, pipe or socket), "
        "not a data file"
    )
    with pytest.raises(DataValidationError, match="is not a regular file"):
        load_table("customers", client / "customers.csv")


@pytest.mark.skipif(not Path("/dev/zero").exists() or sys.platform == "win32", reason="POSIX")
@pytest.mark.timeout(30)
def test_device_given_to_the_loader_is_refused_not_read(tmp_path):
    with pytest.raises(DataValidationError, match="is not a regular file") as raised:
        load_table("customers", "/dev/zero")  # reading it would never end
    assert "not found" not in str(raised.value)


def test_a_huge_bad_cell_is_quoted_only_in_part(tmp_path):
    path = tmp_path / "orders.csv"
    tail = "END-OF-A-VERY-LONG-CELL"
    path.write_text(
        f"order_id,customer_id,order_date,amount\nA1,C1,2024-01-05,{'9' * 5000}x{tail}\n",
        encoding="utf-8",
    )
    with pytest.raises(DataValidationError) as raised:
        load_table("orders", path)
    message = str(raised.value)
    assert tail not in message
    assert "9" * 59 + "…" in message and "9" * 60 not in message  # MAX_VALUE_CHARS = 60
