"""`kpitools report` / `new-client` with arguments they cannot use: one clear message, exit 2,
no traceback, nothing written, and nothing of a wrong file quoted back."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from kpitools._errors import ArgumentError
from kpitools.commands.report import new_client, report
from kpitools.report.runner import MAX_SLUG_LENGTH, run_reports

SECRET = "TOP-SECRET-TEMPLATE-LINE"


@pytest.fixture
def client(tmp_path: Path) -> Path:
    folder = tmp_path / "acme"
    folder.mkdir()
    (folder / "client.yml").write_text("name: Acme\nbusiness_model: saas\ntables: {}\n")
    return folder


def _one_error_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert "Traceback" not in output
    assert len(lines) == 1, output
    assert lines[0].startswith("Error: ")
    return lines[0]


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc (Linux)")
def test_out_in_an_unwritable_place(client: Path):
    result = CliRunner().invoke(report, [str(client), "--quarter", "2024Q4", "--out", "/proc/x"])
    assert result.exit_code == 2
    assert _one_error_line(result.output) == (
        "Error: Cannot write reports to '/proc/x' (No such file or directory). "
        "Hint: pass --out a folder you may write to, e.g. --out reports."
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_out_inside_a_read_only_folder(client: Path, tmp_path: Path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    result = CliRunner().invoke(
        report, [str(client), "--quarter", "2024Q4", "--out", str(locked / "reports")]
    )
    assert result.exit_code == 2
    assert "(Permission denied)" in _one_error_line(result.output)


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (f"{SECRET},a\n1,2\n", "its text is not notebook JSON"),
        (f"print('{SECRET}')\n", "its text is not notebook JSON"),
        ('{"secret": "' + SECRET + '"}', "its JSON is not a notebook's"),
        (b"\x89PNG\r\n\x1a\n\x00\x00" + SECRET.encode(), "its text is not notebook JSON"),
    ],
)
def test_template_that_is_not_a_notebook(client: Path, tmp_path: Path, content, why):
    template = tmp_path / "report.ipynb"
    if isinstance(content, bytes):
        template.write_bytes(content)
    else:
        template.write_text(content, encoding="utf-8")
    out = tmp_path / "reports"
    result = CliRunner().invoke(
        report,
        [str(client), "--quarter", "2024Q4", "--out", str(out), "--template", str(template)],
    )
    assert result.exit_code == 2
    line = _one_error_line(result.output)
    assert line == (
        f"Error: Template {template} is not a Jupyter notebook ({why}). Hint: --template takes "
        "an .ipynb file; run `kpitools templates` to list the templates."
    )
    assert SECRET not in result.output
    assert not out.exists()


def test_a_250_character_client_folder_name(tmp_path: Path):
    folder = tmp_path / ("a" * 250)  # a legal folder name; report folders would exceed 255
    folder.mkdir()
    out = tmp_path / "reports"
    result = CliRunner().invoke(report, [str(folder), "--quarter", "2024Q4", "--out", str(out)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.output.startswith(
        f"Error: Client folder name {'a' * 20!r}… is 250 characters long; report folder names "
        f"have at most {MAX_SLUG_LENGTH}.\n"
    )
    assert not out.exists()
    with pytest.raises(ArgumentError, match="250 characters long"):
        run_reports([folder], ["2024Q4"], out=out, progress=False)


def test_a_64_character_client_folder_name_is_fine(tmp_path: Path):
    from kpitools.report.runner import client_slug

    assert client_slug(tmp_path / ("a" * MAX_SLUG_LENGTH)) == "a" * MAX_SLUG_LENGTH


def test_new_client_with_a_250_character_slug(tmp_path: Path):
    result = CliRunner().invoke(
        new_client, ["a" * 250, "--name", "Acme", "--root", str(tmp_path / "clients")]
    )
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.output.startswith(
        f"Error: Client slug {'a' * 20!r}… (250 characters) is not allowed: use at most "
        f"{MAX_SLUG_LENGTH} lower-case letters"
    )
    assert not (tmp_path / "clients").exists()
