"""Report kernels (issue 13): forked from one server per batch, one fresh kernel per report;
without fork, one kernel per process reset between reports."""

from __future__ import annotations

import os
import sys

import nbformat
import pytest

from kpitools.report import runner
from kpitools.report.runner import _Job, _ordered, _tasks, run_reports

CLIENT_YML = "name: Acme\ncurrency: TWD\nbusiness_model: saas\ntables: {}\n"


def _client(tmp_path):
    client = tmp_path / "acme"
    client.mkdir()
    (client / "client.yml").write_text(CLIENT_YML, encoding="utf-8")
    return client


def _template(path, body):
    nb = nbformat.v4.new_notebook()
    params = (
        'client_dir: str = "."\nquarter: str = "2024Q4"\nlang: str = "en"\noutput_dir: str = "."'
    )
    nb.cells = [
        nbformat.v4.new_code_cell(params, metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(body),
    ]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "language": "python",
        "display_name": "Python 3",
    }
    nbformat.write(nb, path)
    return path


def test_each_report_gets_its_own_kernel_forked_from_one_server(tmp_path):
    client = _client(tmp_path)
    # Records the kernel's pid and its parent's (the fork server), and whether pandas was
    # already imported when the kernel started (inherited from the server).
    body = (
        "import os, sys\nassert 'leftover' not in globals()\nleftover = 1\n"
        "open(f'{client_dir}/../pid-{quarter}.txt', 'w').write("
        "f'{os.getpid()} {os.getppid()} {os.getpgid(0) == os.getpid()}')"
    )
    template = _template(tmp_path / "t.ipynb", body)
    results = run_reports([client], ["2024Q3", "2024Q4", "2025Q1"], out=tmp_path / "out",
                          workers=2, template=template, progress=False)
    assert [r.status for r in results] == ["ok"] * 3, [r.error for r in results]
    rows = [(tmp_path / f"pid-{q}.txt").read_text().split()
            for q in ("2024Q3", "2024Q4", "2025Q1")]
    assert len({pid for pid, _, _ in rows}) == 3  # a fresh kernel per report
    assert len({parent for _, parent, _ in rows}) == 1  # all forked by one server
    assert all(leader == "True" for _, _, leader in rows)  # each leads its process group


def test_no_variable_survives_into_the_next_report(tmp_path, monkeypatch):
    monkeypatch.setenv("KPITOOLS_FORK_KERNELS", "0")  # as where os.fork is missing
    client = _client(tmp_path)
    # Fails in any report that sees the variable the previous report left behind; records the
    # kernel's process id so the test can see that the kernel was shared.
    body = (
        "import os\nassert 'leftover' not in globals(), 'state leaked'\nleftover = 1\n"
        "open(f'{client_dir}/../pid-{quarter}.txt', 'w').write(str(os.getpid()))"
    )
    template = _template(tmp_path / "t.ipynb", body)
    results = run_reports(
        [client],
        ["2024Q3", "2024Q4", "2025Q1"],
        out=tmp_path / "out",
        workers=1,
        template=template,
        progress=False,
    )
    assert [r.status for r in results] == ["ok"] * 3, [r.error for r in results]
    pids = {(tmp_path / f"pid-{q}.txt").read_text() for q in ("2024Q3", "2024Q4", "2025Q1")}
    assert len(pids) == 1  # one kernel ran the three reports
    assert not runner._KERNEL.get("km")  # and was stopped when the batch ended


def test_a_failed_report_does_not_poison_the_next(tmp_path, monkeypatch):
    monkeypatch.setenv("KPITOOLS_FORK_KERNELS", "0")
    client = _client(tmp_path)
    body = "if quarter == '2024Q3':\n    raise RuntimeError('boom')\nx = 1"
    template = _template(tmp_path / "t.ipynb", body)
    results = run_reports(
        [client],
        ["2024Q3", "2024Q4"],
        out=tmp_path / "out",
        workers=1,
        template=template,
        progress=False,
    )
    assert [r.status for r in results] == ["failed", "ok"]
    assert "boom" in results[0].error


def test_pool_tasks_keep_a_clients_quarters_together_and_use_every_worker():
    jobs = [_Job(c, c, q, "en", "/out", "t.ipynb") for c in "abc" for q in ("2024Q3", "2024Q4")]
    tasks = _tasks(jobs, 2)
    assert [[(j.slug, j.quarter) for j in t] for t in tasks] == [
        [("a", "2024Q3"), ("a", "2024Q4")],
        [("b", "2024Q3"), ("b", "2024Q4")],
        [("c", "2024Q3"), ("c", "2024Q4")],
    ]
    one_client = [_Job("a", "a", f"2024Q{i}", "en", "/out", "t.ipynb") for i in range(1, 5)]
    assert [len(t) for t in _tasks(one_client, 2)] == [2, 2]
    assert sorted(j.quarter for t in _tasks(one_client, 3) for j in t) == [
        "2024Q1",
        "2024Q2",
        "2024Q3",
        "2024Q4",
    ]


def test_jobs_start_with_the_client_with_most_data(tmp_path):
    sizes = {"small": 10, "large": 1000, "middle": 100}
    for name, size in sizes.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "data.csv").write_bytes(b"x" * size)
    jobs = [_Job(str(tmp_path / c), c, q, "en", "/out", "t.ipynb")
            for c in ("middle", "small", "large") for q in ("2024Q3", "2024Q4")]
    assert [(j.slug, j.quarter) for j in _ordered(jobs)] == [
        ("large", "2024Q3"), ("large", "2024Q4"),
        ("middle", "2024Q3"), ("middle", "2024Q4"),
        ("small", "2024Q3"), ("small", "2024Q4"),
    ]


def test_a_workbook_weighs_by_its_unpacked_size(tmp_path):
    # 200,000 repeated bytes pack into a small .xlsx (a zip), but it holds as much data as a
    # 200,000-byte CSV: so "book" (unpacked 200,000) outweighs "csv" (100,000 on disk).
    import zipfile

    (tmp_path / "book").mkdir()
    with zipfile.ZipFile(tmp_path / "book" / "deals.xlsx", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"x" * 200_000)
    assert (tmp_path / "book" / "deals.xlsx").stat().st_size < 100_000
    (tmp_path / "csv").mkdir()
    (tmp_path / "csv" / "orders.csv").write_bytes(b"y" * 100_000)
    (tmp_path / "tiny").mkdir()
    (tmp_path / "tiny" / "orders.csv").write_bytes(b"z" * 10)
    jobs = [_Job(str(tmp_path / c), c, "2024Q4", "en", "/out", "t.ipynb")
            for c in ("csv", "book", "tiny")]
    assert [j.slug for j in _ordered(jobs)] == ["book", "csv", "tiny"]


def test_reports_are_still_made_when_the_fork_server_has_died(tmp_path, monkeypatch):
    from kpitools._forkkernel import ForkServer

    client = _client(tmp_path)
    body = "import os\nopen(f'{client_dir}/../ppid-{quarter}.txt', 'w').write(str(os.getppid()))"
    template = _template(tmp_path / "t.ipynb", body)

    def dead_server(_client_dirs):  # a server that died before the first kernel was asked for
        server = ForkServer(preload=("json",)).start()
        assert server.wait_ready(60)
        server.process.kill()
        server.process.wait(10)
        return server

    monkeypatch.setattr(runner, "_fork_server", dead_server)
    monkeypatch.setattr(ForkServer, "pids", lambda self: [12345678])  # "still running" at start
    results = run_reports([client], ["2024Q3", "2024Q4"], out=tmp_path / "out", workers=2,
                          template=template, progress=False)
    assert [r.status for r in results] == ["ok", "ok"], [r.error for r in results]
    parents = {(tmp_path / f"ppid-{q}.txt").read_text() for q in ("2024Q3", "2024Q4")}
    assert parents == {str(os.getpid())}  # kernels started by this process, not forked


@pytest.mark.parametrize("fork", ["1", "0"])
def test_report_kernels_leave_out_the_debugger_and_hypothesis(tmp_path, monkeypatch, fork):
    # Both are installed here (hypothesis for the tests), and each costs every report's
    # kernel 0.1-0.15 s of CPU to import: the kernels started for reports (forked, or plain
    # for a single report) cannot import them, while pandera still validates.
    monkeypatch.setenv("KPITOOLS_FORK_KERNELS", fork)
    client = _client(tmp_path)
    body = (
        "import importlib, sys\n"
        "from ipykernel.debugger import _is_debugpy_available\n"
        "import pandera.pandas as pa, pandas as pd\n"
        "pa.DataFrameSchema({'x': pa.Column(int)}).validate(pd.DataFrame({'x': [1]}))\n"
        "seen = []\n"
        "for name in ('debugpy', 'hypothesis'):\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "        seen.append(name + ' imported')\n"
        "    except ImportError:\n"
        "        seen.append(name + ' left out')\n"
        "seen.append(f'debugger {_is_debugpy_available}')\n"
        "open(f'{client_dir}/../seen-{quarter}.txt', 'w').write(', '.join(seen))"
    )
    template = _template(tmp_path / "t.ipynb", body)
    quarters = ["2024Q3", "2024Q4"] if fork == "1" else ["2024Q4"]  # a batch; a single report
    results = run_reports([client], quarters, out=tmp_path / "out", workers=1,
                          template=template, progress=False)
    assert [r.status for r in results] == ["ok"] * len(quarters), [r.error for r in results]
    for q in quarters:
        assert (tmp_path / f"seen-{q}.txt").read_text() == (
            "debugpy left out, hypothesis left out, debugger False")


def test_only_the_usual_ipykernel_command_is_replaced():
    from kpitools.report._kernel import kernel_argv

    usual = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    assert kernel_argv(usual) == [sys.executable, "-m", "kpitools.report._kernel", "-f",
                                  "{connection_file}"]
    other_kernel = [sys.executable, "-m", "my_kernel", "-f", "{connection_file}"]
    assert kernel_argv(other_kernel) == other_kernel
    # another environment's Python may not have kpitools: started as its spec says
    other_python = ["/opt/conda/bin/python", "-m", "ipykernel_launcher", "-f", "{c}"]
    assert kernel_argv(other_python) == other_python
