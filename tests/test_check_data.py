"""``kpitools check-data``: per-file problems, a summary per client, exit codes, no tracebacks."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from kpitools.commands import check_data as module
from kpitools.commands.check_data import check_data

DATA = Path(__file__).parent / "data"
SAMPLES = Path(__file__).resolve().parents[1] / "data" / "sample"


@click.group()
def cli() -> None:
    """A stand-in for the kpitools group."""


cli.add_command(check_data)


def run(*args: str):
    return CliRunner().invoke(cli, ["check-data", *args])


def test_broken_client_lists_every_problem_and_exits_1():
    result = run(str(DATA / "broken_client"))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == "broken_client/client.yml: ok"
    assert lines[1] == "broken_client/orders.csv: 5 problems"
    assert lines[2] == (
        "  - error: missing column 'customer_id' (did you mean '客戶'?). "
        "Columns present: ['訂單編號', '客戶', '訂單日期', '金額']"
    )
    assert lines[3] == (
        "    Hint: map '客戶' to customer_id in client.yml (tables: orders: columns: "
        "{客戶: customer_id}) or with columns={'客戶': 'customer_id'}."
    )
    assert "  - error: column 'amount': 1 negative value (row 4: -1200.0)" in lines
    assert "broken_client/customers.csv: 1 problem" in lines
    assert "  - error: is a binary file, not a table (it contains NUL bytes)" in lines
    assert lines[-1] == "broken_client: FAILED - 4 files, 8 errors, 0 warnings"
    assert "Traceback" not in result.output


def test_bad_config_exits_1_with_summary():
    result = run(str(DATA / "bad_config"))
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == "bad_config: FAILED - 0 files, 7 errors, 0 warnings"


def test_missing_folder_is_a_message_not_a_traceback(tmp_path):
    result = run(str(tmp_path / "nowhere"))
    assert result.exit_code == 1
    assert "  - error: client folder not found" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_clean_client_exits_0(tmp_path):
    (tmp_path / "client.yml").write_text(
        "name: X\nbusiness_model: saas\ntables:\n  customers: c.csv\n", encoding="utf-8"
    )
    (tmp_path / "c.csv").write_text("customer_id,signup_date\nC1,2200-01-01\n", encoding="utf-8")
    result = run(str(tmp_path), "--plain")
    assert result.exit_code == 0  # a warning is not an error
    assert f"{tmp_path.name}: OK - 1 file, 0 errors, 1 warning" in result.output
    assert "  - warning: column 'signup_date': 1 date is in the future" in result.output


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="sample data absent")
def test_every_sample_client_is_clean():
    folders = sorted(p for p in SAMPLES.iterdir() if (p / "client.yml").exists())
    result = run(*map(str, folders))
    assert result.exit_code == 0, result.output
    summaries = [line for line in result.output.splitlines() if ": OK - " in line]
    assert len(summaries) == len(folders)


def test_one_bad_client_among_good_ones_fails(tmp_path):
    (tmp_path / "client.yml").write_text(
        "name: X\nbusiness_model: saas\ntables:\n  customers: c.csv\n", encoding="utf-8"
    )
    (tmp_path / "c.csv").write_text("customer_id\nC1\n", encoding="utf-8")
    result = run(str(tmp_path), str(DATA / "broken_client"))
    assert result.exit_code == 1
    assert result.output.splitlines()[-2:] == [
        f"{tmp_path.name}: OK - 1 file, 0 errors, 0 warnings",
        "broken_client: FAILED - 4 files, 8 errors, 0 warnings",
    ]


def test_rich_table_on_a_terminal(monkeypatch):
    monkeypatch.setattr(module, "_is_terminal", lambda: True)
    result = run(str(DATA / "broken_client"))
    assert result.exit_code == 1
    assert "┃ file" in result.output  # a rich table header
    assert "missing column" in result.output  # rich may wrap the long message
    assert result.output.splitlines()[-1] == "broken_client: FAILED - 4 files, 8 errors, 0 warnings"


def test_plain_flag_wins_on_a_terminal(monkeypatch):
    monkeypatch.setattr(module, "_is_terminal", lambda: True)
    result = run(str(DATA / "broken_client"), "--plain")
    assert "┃" not in result.output
    assert result.output.splitlines()[0] == "broken_client/client.yml: ok"


def test_needs_a_folder():
    result = run()
    assert result.exit_code == 2
    assert "Missing argument 'CLIENT_DIR...'" in result.output


def test_unexpected_kpitools_error_is_caught(monkeypatch):
    from kpitools._errors import KpitoolsError

    def boom(folder):
        raise KpitoolsError("something odd\nHint: ignore")

    monkeypatch.setattr("kpitools.io.client.check_client", boom)
    result = run(str(DATA / "broken_client"))
    assert result.exit_code == 1
    assert "  - error: something odd" in result.output
