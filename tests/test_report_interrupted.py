"""A report batch killed half-way: workers and kernels stop, the index lists what finished, and
the next run clears the dead batch's staging folders."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import psutil
import pytest

from kpitools.report.runner import STAGING_DIR, _remove_stale_staging, run_reports

SLOW_SECONDS = 120  # far longer than the test: a run that finishes was not stopped


def _template(path: Path) -> Path:
    """Q1 finishes at once; any other quarter sleeps (a report still running when killed)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "P"}
    nb.cells = [
        nbformat.v4.new_code_cell(
            'client_dir = "."\nquarter = "2024Q1"\nlang = "en"\noutput_dir = "."',
            metadata={"tags": ["parameters"]},
        ),
        nbformat.v4.new_code_cell(
            f"import time\nif not quarter.endswith('Q1'):\n    time.sleep({SLOW_SECONDS})\n"
            "print('done', quarter)"
        ),
    ]
    nbformat.write(nb, path)
    return path


def _alive(procs: list[psutil.Process]) -> list[int]:
    alive = []
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                alive.append(proc.pid)
    return alive


def _wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.25)
    return condition()


@pytest.mark.slow
def test_kill_9_of_the_batch_stops_workers_and_keeps_a_correct_index(tmp_path: Path):
    client = tmp_path / "clients" / "acme"
    client.mkdir(parents=True)
    template = _template(tmp_path / "slow.ipynb")
    out = tmp_path / "reports"
    script = textwrap.dedent(f"""
        from kpitools.report.runner import run_reports
        run_reports([{str(client)!r}], ["2024Q1", "2024Q2", "2024Q3"], out={str(out)!r},
                    workers=2, template={str(template)!r}, progress=False)
    """)
    batch = subprocess.Popen(
        [sys.executable, "-c", script],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    family: list[psutil.Process] = []
    try:
        finished = out / "acme" / "2024Q1" / "report.html"
        assert _wait_for(finished.exists, 180), "the quick report never finished"
        # The index is written as soon as one report is done, not at the end of the batch.
        index = out / "index.html"
        assert _wait_for(lambda: index.exists() and "2024Q1" in index.read_text("utf-8"), 30)
        assert "2024Q2" not in index.read_text("utf-8")

        # Wait until both slow runs have their kernels: processes forked by the kernel fork
        # server (or, without fork, started as ipykernel_launcher).
        def kernels() -> list[psutil.Process]:
            procs = psutil.Process(batch.pid).children(recursive=True)
            servers = {p.pid for p in procs if "_forkkernel" in " ".join(p.cmdline())}
            return [p for p in procs if p.ppid() in servers
                    or "ipykernel_launcher" in " ".join(p.cmdline())]

        assert _wait_for(lambda: len(kernels()) >= 2, 120)
        family = psutil.Process(batch.pid).children(recursive=True)
        os.kill(batch.pid, signal.SIGKILL)  # nothing in the parent can clean up
        batch.wait(timeout=10)
        assert _wait_for(lambda: not _alive(family), 30), _alive(family)
        assert not (out / "acme" / "2024Q2").exists()
        stale = list((out / STAGING_DIR).iterdir())
        assert stale, "the killed runs left their work folders behind"
        assert "2024Q1" in index.read_text("utf-8")
        # The next run (here an empty one: the Q1 report exists) clears the dead batch's folders.
        run_reports([client], ["2024Q1"], out=out, template=template, progress=False)
        assert not (out / STAGING_DIR).exists(), list((out / STAGING_DIR).rglob("*"))
    finally:
        if batch.poll() is None:
            os.killpg(batch.pid, signal.SIGKILL)
        for proc in family:
            with contextlib.suppress(psutil.Error):
                proc.kill()


def test_staging_folders_of_live_processes_are_kept(tmp_path: Path):
    root = tmp_path / STAGING_DIR
    mine = root / f"{os.getpid()}-acme-2024Q4-abc"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    gone = root / f"{dead.pid}-acme-2024Q4-def"
    old_layout = root / "acme-2024Q4-xyz"
    for folder in (mine, gone, old_layout):
        (folder / "sub").mkdir(parents=True)
    _remove_stale_staging(root)
    if psutil.pid_exists(dead.pid):  # the pid was reused meanwhile: the folder is kept
        assert sorted(p.name for p in root.iterdir()) == sorted([mine.name, gone.name])
    else:
        assert [p.name for p in root.iterdir()] == [mine.name]
