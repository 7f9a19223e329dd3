"""Batch report runs end to end (papermill + nbconvert), export, index and atomic writes."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys

import nbformat
import pytest
from click.testing import CliRunner

from kpitools._errors import KpitoolsError
from kpitools.commands.report import report
from kpitools.i18n import fmt_value
from kpitools.report import runner
from kpitools.report.export import (
    atomic_write,
    build_metrics,
    export_pdf,
    find_chromium,
    read_metrics,
    write_metrics,
)
from kpitools.report.index import build_index
from kpitools.report.runner import run_reports

PAYLOAD = "<script>alert('x')</script>"
CLIENT_YML = f"""\
name: {{zh-TW: "雲帳{PAYLOAD}科技", en: "Acme {PAYLOAD} Ltd"}}
currency: TWD
language: zh-TW
business_model: saas
goals:
  - {{goal_id: g1, kpi: new_customers, target: 47, period: 2024Q4, baseline: 31, owner: 業務部}}
  - {{goal_id: g2, kpi: logo_churn_rate, target: 0.03, period: 2025Q1}}
tables:
  customers: {{file: customers.csv}}
"""
CUSTOMERS_CSV = "customer_id,name,signup_date\nC1,好日子烘焙坊,2024-03-15\n"


def _make_client(folder, client_yml=CLIENT_YML):
    folder.mkdir(parents=True)
    (folder / "client.yml").write_text(client_yml, encoding="utf-8")
    (folder / "customers.csv").write_text(CUSTOMERS_CSV, encoding="utf-8")
    return folder


def _body(html: str) -> str:
    return html.split("<main>", 1)[1].split("</main>", 1)[0]


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """One CLI batch: a good client and a broken one, two workers; ran once per module."""
    root = tmp_path_factory.mktemp("batch")
    _make_client(root / "clients" / "acme")
    _make_client(root / "clients" / "broken", "name: [unclosed\n")
    out = root / "reports"
    result = CliRunner().invoke(report, [
        str(root / "clients" / "acme"), str(root / "clients" / "broken"),
        "--quarter", "2024q4", "--out", str(out), "--workers", "2",
    ])
    return root, out, result


@pytest.mark.slow
def test_batch_isolates_the_failing_client(batch):
    _, out, result = batch
    assert result.exit_code == 1, result.output
    assert "1 of 2 report(s) failed" in result.output
    good = out / "acme" / "2024Q4"
    assert sorted(p.name for p in good.iterdir()) == ["metrics.json", "report.html",
                                                      "report.ipynb", "report.xlsx"]
    assert not (out / "broken").exists()  # never beside good reports
    failed = out / "_failed" / "broken" / "2024Q4"
    assert sorted(p.name for p in failed.iterdir()) == ["error.txt", "report.ipynb"]
    error = (failed / "error.txt").read_text(encoding="utf-8")
    assert "error: DataValidationError: client.yml: 1 problem" in error
    assert "is not valid YAML (line 2)" in error
    assert not (out / "_staging").exists()


@pytest.mark.slow
def test_html_has_no_code_and_shows_metrics_values(batch):
    _, out, _ = batch
    html = (out / "acme" / "2024Q4" / "report.html").read_text(encoding="utf-8")
    metrics = read_metrics(out / "acme" / "2024Q4" / "metrics.json")
    assert metrics["quarter"] == "2024Q4" and metrics["lang"] == "zh-TW"
    assert [g["goal_id"] for g in metrics["goals"]] == ["g1"]  # only goals of the quarter
    body = _body(html)
    assert "jp-InputArea" not in body and "jp-InputPrompt" not in body
    for leaked in ("client_dir", "output_dir", "injected-parameters", "import yaml", "Parameters"):
        assert leaked not in html
    goal = metrics["goals"][0]
    # The scorecard shows the goal's target as the report formats a count (47.0 → "47").
    assert goal["target"] == 47.0
    assert f"<td>{fmt_value(goal['target'], 'count', 'zh-TW')}</td>" in body
    assert "2024 年第 4 季" in body and "季度 KPI 報告" in body
    assert '<html lang="zh-Hant-TW">' in html
    assert '"Noto Sans TC", "Noto Sans CJK TC"' in html
    assert not re.search(r"<script[^>]+src=", html)  # nothing loaded from a CDN


@pytest.mark.slow
def test_script_in_client_name_is_escaped_in_report_and_index(batch):
    _, out, _ = batch
    html = (out / "acme" / "2024Q4" / "report.html").read_text(encoding="utf-8")
    index = (out / "index.html").read_text(encoding="utf-8")
    escaped = "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;"
    assert PAYLOAD not in html and PAYLOAD not in index
    assert "雲帳&lt;script&gt;alert('x')&lt;/script&gt;科技" in html  # title page and <title>
    assert f"雲帳{escaped}科技" in index
    assert 'href="acme/2024Q4/report.html"' in index
    assert 'href="_failed/broken/2024Q4/error.txt"' in index


@pytest.mark.slow
def test_existing_report_kept_without_force_and_replaced_with_force(batch):
    root, out, _ = batch
    html = out / "acme" / "2024Q4" / "report.html"
    before = html.read_bytes()
    os.utime(html, (1_000_000_000, 1_000_000_000))
    kept = CliRunner().invoke(report, [str(root / "clients" / "acme"), "--quarter", "2024Q4",
                                       "--out", str(out)])
    assert kept.exit_code == 0, kept.output
    assert "1 existing report(s) kept; use --force" in kept.output
    assert html.read_bytes() == before and html.stat().st_mtime == 1_000_000_000

    forced = CliRunner().invoke(report, [str(root / "clients" / "acme"), "--quarter", "2024Q4",
                                         "--out", str(out), "--force", "--lang", "en",
                                         "--workers", "1"])
    assert forced.exit_code == 0, forced.output
    replaced = html.read_text(encoding="utf-8")
    assert html.stat().st_mtime > 1_000_000_000
    assert '<html lang="en">' in replaced and "Quarterly KPI report · Q4 2024" in replaced
    assert read_metrics(out / "acme" / "2024Q4" / "metrics.json")["lang"] == "en"


@pytest.mark.slow
def test_failed_rerun_leaves_the_good_report_alone(batch, tmp_path):
    _, batch_out, _ = batch
    out = tmp_path / "reports"
    shutil.copytree(batch_out / "acme", out / "acme")  # a good report from an earlier run
    good = (out / "acme" / "2024Q4" / "report.html").read_bytes()
    client = _make_client(tmp_path / "acme", "- not a mapping\n")
    [second] = run_reports([client], ["2024Q4"], out=out, workers=1, force=True, progress=False)
    assert second.status == "failed" and second.output == out / "_failed" / "acme" / "2024Q4"
    assert second.error.startswith("DataValidationError: client.yml")
    assert (out / "acme" / "2024Q4" / "report.html").read_bytes() == good
    index = (out / "index.html").read_text(encoding="utf-8")
    assert index.count("<tr><td>") == 2  # the kept report and the failed rerun


@pytest.mark.slow
def test_custom_template_params_are_coerced_and_kernel_is_this_interpreter(tmp_path):
    template = tmp_path / "probe.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell(
            'client_dir: str = "."\nquarter: str = "2024Q1"\nlang: str = "zh-TW"\n'
            'output_dir: str = "."\nrepeat: int = 1  # times',
            metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("import sys\nprint(sys.executable, type(repeat).__name__, "
                                  "repeat * 2)"),
    ]), template)
    client = tmp_path / "acme"
    client.mkdir()
    result = CliRunner().invoke(report, [str(client), "--quarter", "2024Q1", "--out",
                                         str(tmp_path / "out"), "--template", str(template),
                                         "-p", "repeat=3", "--workers", "1"])
    failed = tmp_path / "out" / "_failed" / "acme" / "2024Q1" / "error.txt"
    assert result.exit_code == 0, failed.read_text() if failed.exists() else result.output
    nb = nbformat.read(tmp_path / "out" / "acme" / "2024Q1" / "report.ipynb", as_version=4)
    printed = nb.cells[-1].outputs[0].text.split()
    assert printed == [sys.executable, "int", "6"]


def test_names_that_escape_the_output_folder_are_rejected(tmp_path):
    (tmp_path / "clients" / "acme").mkdir(parents=True)
    out = tmp_path / "reports"
    bad_client = CliRunner().invoke(report, [str(tmp_path / "clients" / ".."), "--quarter",
                                             "2024Q4", "--out", str(out)])
    assert bad_client.exit_code == 2  # an argument the command cannot use
    assert "its name '..' cannot be used as a report folder name" in bad_client.output
    bad_quarter = CliRunner().invoke(report, [str(tmp_path / "clients" / "acme"), "--quarter",
                                              "../evil", "--out", str(out)])
    assert bad_quarter.exit_code == 2
    assert "Cannot read quarter '../evil'" in bad_quarter.output
    assert not out.exists()
    with pytest.raises(KpitoolsError, match="'2024-07' is not a quarter"):
        run_reports([tmp_path / "clients" / "acme"], ["2024-07"], out=out, progress=False)
    with pytest.raises(KpitoolsError, match=r"its name 'Acme Tea' cannot be used"):
        run_reports([tmp_path / "Acme Tea"], ["2024Q4"], out=out, progress=False)
    with pytest.raises(KpitoolsError, match=r"Client folder '.*missing' does not exist"):
        run_reports([tmp_path / "missing"], ["2024Q4"], out=out, progress=False)


def test_unknown_parameter_and_missing_chromium_fail_before_running(tmp_path, monkeypatch):
    (tmp_path / "acme").mkdir()
    with pytest.raises(KpitoolsError, match=r"did you mean 'trailing_quarters'"):
        run_reports([tmp_path / "acme"], ["2024Q4"], out=tmp_path / "r",
                    params={"trailing_quarter": "3"}, progress=False)
    with pytest.raises(KpitoolsError, match="set by the runner itself"):
        run_reports([tmp_path / "acme"], ["2024Q4"], params={"quarter": "2024Q1"},
                    progress=False)
    monkeypatch.setattr(runner, "find_chromium", lambda: None)
    with pytest.raises(KpitoolsError, match=r"(?s)PDF export needs a headless Chromium.*"
                                            r"Hint: install it"):
        run_reports([tmp_path / "acme"], ["2024Q4"], out=tmp_path / "r", pdf=True,
                    progress=False)
    assert not (tmp_path / "r").exists()


def test_atomic_write_keeps_the_old_file_when_the_rename_fails(tmp_path, monkeypatch):
    target = tmp_path / "sub" / "report.html"
    atomic_write(target, "old")
    assert target.read_text() == "old"
    assert oct(target.stat().st_mode & 0o777) == oct(0o666 & ~_umask())

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]  # no temp file left


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def test_metrics_schema_is_enforced_and_nan_becomes_null(tmp_path):
    doc = build_metrics({"slug": "acme", "name": {"en": "Acme"}}, "2024Q4", "en", headline=[
        {"kpi": "acv", "label": "ACV", "value": float("nan"), "formatted": "n/a"},
        {"kpi": "mrr", "label": "MRR", "value": 12, "formatted": "NT$12"},
    ])
    path = write_metrics(tmp_path / "metrics.json", doc)
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert [h["value"] for h in raw["headline"]] == [None, 12.0]
    with pytest.raises(KpitoolsError, match=r"(?s)missing key 'goals'.*'lang' is 'fr'.*"
                                            r"headline\[0\] lacks \['formatted'\]"):
        write_metrics(tmp_path / "bad.json", {
            "client": {}, "quarter": "2024Q4", "lang": "fr",
            "headline": [{"kpi": "acv", "label": "ACV", "value": 1}]})
    assert not (tmp_path / "bad.json").exists()


def test_index_lists_headlines_escaped_and_failed_runs(tmp_path):
    out = tmp_path / "reports"
    ok = out / "tea-shop" / "2024Q3"
    ok.mkdir(parents=True)
    (ok / "report.html").write_text("<html></html>", encoding="utf-8")
    write_metrics(ok / "metrics.json", build_metrics(
        {"slug": "tea-shop", "name": {"zh-TW": "山嵐茶行", "en": "Mountain Mist"}}, "2024Q3",
        "zh-TW", headline=[{"kpi": "aov", "label": "客單價 <b>", "value": 1234.5,
                            "formatted": "NT$1,235"}]))
    failed = out / "_failed" / "blog" / "2024Q3"
    failed.mkdir(parents=True)
    (failed / "error.txt").write_text("client: blog\nerror: KeyError: 'name'\n", encoding="utf-8")
    index = build_index(out).read_text(encoding="utf-8")
    assert "山嵐茶行" in index and "客單價 &lt;b&gt;: <strong>NT$1,235</strong>" in index
    assert "KeyError: &#x27;name&#x27;" in index
    assert index.index("blog") < index.index("tea-shop")  # sorted by client


@pytest.mark.browser
@pytest.mark.skipif(find_chromium() is None, reason="no Chromium installed")
def test_pdf_is_printed_with_headless_chromium(tmp_path):
    html = tmp_path / "r.html"
    html.write_text('<html lang="zh-Hant-TW"><body><h1>雲帳科技 2024 年第 4 季</h1></body></html>',
                    encoding="utf-8")
    pdf = export_pdf(html, tmp_path / "out" / "r.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
    assert sorted(p.name for p in pdf.parent.iterdir()) == ["r.pdf"]


def test_report_kernels_keep_no_input_history(tmp_path, monkeypatch):
    # IPython would write every executed cell (client folder paths included) into its
    # history database under IPYTHONDIR; a report's kernel must not: the notebook is the record.
    ipython_dir = tmp_path / "ipython"
    monkeypatch.setenv("IPYTHONDIR", str(ipython_dir))
    client = _make_client(tmp_path / "clients" / "acme")
    (result,) = run_reports([client], ["2024Q4"], out=tmp_path / "out", progress=False)
    assert result.status == "ok", result.error
    assert ipython_dir.is_dir()  # the kernel did use this IPython folder...
    assert not list(ipython_dir.rglob("history.sqlite"))  # ...but wrote no history there


def _executed_notebook(path, heading, figure_text):
    """A small executed notebook: an HTML output, a stderr warning and a text/plain result."""
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("show()")
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={"text/html": f"<h2>{heading}</h2>",
                                                     "text/plain": heading}),
        nbformat.v4.new_output("stream", name="stderr", text="UserWarning: for the analyst\n"),
        nbformat.v4.new_output("execute_result", data={"text/plain": figure_text},
                               execution_count=1),
    ]
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {heading}"), cell,
                nbformat.v4.new_code_cell("quiet = 1")]
    nbformat.write(nb, path)
    return path


def test_a_reused_exporter_writes_what_a_fresh_one_writes(tmp_path):
    """A thread keeps its HTML exporter for the next report: the second report must come out
    byte for byte as a fresh exporter writes it, with nothing of the first (title, header,
    paper size, text) left in it."""
    import threading

    from kpitools.report.export import export_html

    first = _executed_notebook(tmp_path / "first.ipynb", "Alpha Tea 阿爾法", "first result")
    second = _executed_notebook(tmp_path / "second.ipynb", "Beta Bakery 貝塔", "second result")
    jobs = [(first, "Alpha · 2024Q3", "a4"), (second, "Beta · 2024Q4", "letter")]

    def export(out, notebook, title, paper):
        export_html(notebook, out, lang="zh-TW", title=title, header=title, paper=paper)

    def in_thread(*runs):
        worker = threading.Thread(target=lambda: [export(*run) for run in runs])
        worker.start()
        worker.join()

    in_thread(*[(tmp_path / f"reused-{i}.html", *job) for i, job in enumerate(jobs)])
    for i, job in enumerate(jobs):
        in_thread((tmp_path / f"fresh-{i}.html", *job))
    for i in range(2):
        reused = (tmp_path / f"reused-{i}.html").read_text("utf-8")
        assert reused == (tmp_path / f"fresh-{i}.html").read_text("utf-8")
    second_html = (tmp_path / "reused-1.html").read_text("utf-8")
    assert "Beta Bakery" in second_html and "size: letter;" in second_html
    for trace in ("Alpha", "阿爾法", "first result", "size: A4;", "for the analyst"):
        assert trace not in second_html, trace


def test_each_thread_keeps_one_exporter_per_language():
    import threading

    from kpitools.report.export import _html_exporter

    mine = _html_exporter("en")
    assert _html_exporter("en") is mine and _html_exporter("zh-TW") is not mine
    other = []
    worker = threading.Thread(target=lambda: other.append(_html_exporter("en")))
    worker.start()
    worker.join()
    assert other[0] is not mine
