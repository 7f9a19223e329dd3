"""Template parameters: read from the tagged cell, unknown names and wrong types rejected."""

from __future__ import annotations

import nbformat
import pytest

from kpitools._errors import KpitoolsError
from kpitools.report.params import template_parameters, validate_parameters
from kpitools.report.runner import default_template

PARAMS_SOURCE = "\n".join([
    'client_dir: str = "data/sample/cloudledger"  # client folder',
    "trailing_quarters: int = 4  # quarters in trend charts",
    "threshold: float = 0.2  # share that counts as a big mover",
    "show_goals: bool = True  # print the goal table",
    "cap: int | None = None  # optional limit",
    "channels: list[str] = []  # channels to show",
    "legacy = 'x'  # no annotation",
])


@pytest.fixture
def template(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# t"),
        nbformat.v4.new_code_cell(PARAMS_SOURCE, metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("print(client_dir)"),
    ])
    path = tmp_path / "t.ipynb"
    nbformat.write(nb, path)
    return path


def test_parameters_are_read_with_types_defaults_and_help(template):
    params = template_parameters(template)
    assert set(params) == {"client_dir", "trailing_quarters", "threshold", "show_goals", "cap",
                           "channels", "legacy"}
    # papermill's own parser skips `int | None`; the syntax-tree fallback keeps it.
    assert (params["cap"].type, params["cap"].default) == ("int | None", "None")
    assert params["trailing_quarters"].type == "int"
    assert params["trailing_quarters"].default == "4"
    assert params["trailing_quarters"].help == "quarters in trend charts"
    assert params["legacy"].type == "any"


def test_shipped_template_declares_the_runner_parameters():
    params = template_parameters(default_template())
    assert {name: p.type for name, p in params.items()} == {
        "client_dir": "str", "quarter": "str", "lang": "str", "output_dir": "str",
        "trailing_quarters": "int",
    }
    assert all(p.help for p in params.values())


def test_text_values_are_converted_to_the_declared_types(template):
    got = validate_parameters(template, {
        "trailing_quarters": "3", "threshold": "0.25", "show_goals": "false",
        "cap": "none", "channels": "line, shopee", "legacy": 5, "client_dir": "x",
    })
    assert got == {"trailing_quarters": 3, "threshold": 0.25, "show_goals": False, "cap": None,
                   "channels": ["line", "shopee"], "legacy": 5, "client_dir": "x"}
    assert type(got["trailing_quarters"]) is int
    assert validate_parameters(template, {"show_goals": "TRUE", "cap": "7"}) == {
        "show_goals": True, "cap": 7}
    assert validate_parameters(template, {"threshold": 1}) == {"threshold": 1.0}


def test_unknown_names_get_did_you_mean(template):
    with pytest.raises(KpitoolsError, match=r"unknown parameter 'trailing_quarter' \(did you "
                                            r"mean 'trailing_quarters'\?\)"):
        validate_parameters(template, {"trailing_quarter": 2})


def test_every_problem_is_reported_at_once(template):
    with pytest.raises(KpitoolsError) as err:
        validate_parameters(template, {"trailing_quarters": "abc", "show_goals": "maybe",
                                       "zzz": 1, "threshold": "1.5"})
    message = str(err.value)
    assert message.startswith("t.ipynb: 3 parameter problems:")
    assert "parameter 'trailing_quarters' expects int, got 'abc'" in message
    assert "parameter 'show_goals' expects bool, got 'maybe'" in message
    assert "unknown parameter 'zzz'" in message and "did you mean" not in message
    assert "Hint: the template's parameters are client_dir (str), trailing_quarters (int)" \
        in message
    assert "write booleans as true/false." in message


@pytest.mark.parametrize(("name", "value"), [
    ("trailing_quarters", "2.5"), ("trailing_quarters", True), ("trailing_quarters", 2.0),
    ("client_dir", 3), ("threshold", False), ("show_goals", 2),
])
def test_wrong_types_are_rejected(template, name, value):
    with pytest.raises(KpitoolsError, match=f"parameter '{name}' expects"):
        validate_parameters(template, {name: value})


def test_missing_template_and_template_without_parameters(tmp_path):
    with pytest.raises(KpitoolsError, match=r"Template .*nope.ipynb not found"):
        template_parameters(tmp_path / "nope.ipynb")
    bare = tmp_path / "bare.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), bare)
    with pytest.raises(KpitoolsError, match="has no cell tagged 'parameters'"):
        template_parameters(bare)


def test_reading_parameters_imports_no_pyarrow_nor_format_checkers_and_hides_nothing_after():
    # The runner checks parameters first; papermill's HDFS support (pyarrow + NumPy) and
    # jsonschema's optional format checkers cost it about 0.4 s of CPU and serve no report.
    # In a fresh interpreter: after the check, neither is imported, yet both still import.
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from kpitools.report.params import template_parameters\n"
        "from kpitools.report.runner import default_template\n"
        "assert 'client_dir' in template_parameters(default_template())\n"
        "loaded = sorted(m for m in ('pyarrow', 'numpy', 'rfc3986_validator', 'isoduration',\n"
        "                            'rfc3339_validator') if m in sys.modules)\n"
        "print('loaded', loaded)\n"
        "import pyarrow.fs, rfc3339_validator\n"
        "print('importable')\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ["loaded []", "importable"]


def test_the_cli_exits_with_2_for_unknown_or_mistyped_parameters(tmp_path):
    # A bad --param is a usage error like any bad option (click exits with 2), found before
    # any report runs; both problems are named in one message.
    from click.testing import CliRunner

    from kpitools.commands.report import report

    result = CliRunner().invoke(report, [
        str(default_template().parents[1] / "data" / "sample" / "shop"), "--quarter", "2024Q4",
        "--out", str(tmp_path / "out"), "--param", "trailing_quarter=6",
        "--param", "trailing_quarters=six"])
    assert result.exit_code == 2, result.output
    assert "unknown parameter 'trailing_quarter' (did you mean 'trailing_quarters'?)" in (
        result.output)
    assert "parameter 'trailing_quarters' expects int, got 'six'" in result.output
    assert not (tmp_path / "out" / "shop").exists()
