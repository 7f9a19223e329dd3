"""Batch runs of the report template: one papermill execution per (client, quarter).

Layout of the output folder (``out``, default ``reports/``)::

    reports/
      index.html                       every report with its headline KPIs and status
      <client-slug>/<quarter>/         one finished report, moved into place only when complete
        report.ipynb  report.html  metrics.json  [report.pdf]
      _failed/<client-slug>/<quarter>/ a failed run: the partly executed notebook + error.txt
      _staging/                        work folders of runs in progress (removed afterwards;
                                       those of a killed batch are removed by the next run)

Each report runs in a fresh kernel of its own, forked from the batch's kernel fork server
(:mod:`kpitools._forkkernel`): the server imports the kernel's libraries and loads the batch's
clients once, so a kernel starts in a fraction of a second with its client already loaded.
``workers`` reports run at once, each driven by a thread of this process (the work happens in
the kernels; papermill is given no ``cwd``, so the threads share nothing mutable). Where
processes cannot fork, each worker is a process with one kernel reset between its reports.
Every run has its own staging folder inside ``out``, so the final :func:`os.replace` calls stay
on one file system and are atomic. A failing run never stops the others and never touches the
good report of the same client and quarter.

The index is rewritten after every finished run. Kernels and the fork server end when the
batch process is gone (and worker processes, where used, exit with it), so a batch killed with
SIGKILL leaves a correct index and no process behind.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import os
import queue
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    as_completed,
    wait,
)
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from kpitools._errors import ArgumentError, KpitoolsError, PeriodError
from kpitools._process import pid_running, watch_parent
from kpitools.report.export import (
    CANONICAL_QUARTER,
    LANGS,
    atomic_write,
    check_lang,
    check_paper,
    chromium_missing_message,
    export_html,
    export_pdf,
    find_chromium,
    quarter_label,
)
from kpitools.report.params import validate_parameters

__all__ = [
    "FAILED_DIR",
    "SLUG_PATTERN",
    "TEMPLATES_DIR",
    "RunResult",
    "client_slug",
    "default_template",
    "run_reports",
    "summary_table",
]

#: Longest client folder name used as a report folder name; staging folders add a few dozen
#: characters and most file systems stop at 255.
MAX_SLUG_LENGTH = 64
#: Client folder names usable as report folder names (no dots, slashes or upper case).
SLUG_PATTERN = re.compile(rf"^[a-z0-9][a-z0-9_-]{{0,{MAX_SLUG_LENGTH - 1}}}$")
#: Templates shipped with the repository (``templates/`` beside the package).
TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"
DEFAULT_TEMPLATE = "quarterly_report.ipynb"
FAILED_DIR = "_failed"
STAGING_DIR = "_staging"
#: Files of a finished report, in the order they are moved into place; report.html goes last
#: because its presence is what marks a report as existing.
OUTPUT_FILES = ("report.ipynb", "metrics.json", "analyst_notes.txt", "report.xlsx", "report.pdf",
                "report.html")
#: Analyst notes of every run (missing goals, labels, data gaps) are appended here, in ``out``.
RUN_LOG = "run.log"
#: Longest a single cell may run (seconds) before the run is stopped as failed.
DEFAULT_TIMEOUT_SECONDS = 600
#: Seconds allowed for a kernel to start; kernels start slowly when several launch at once.
KERNEL_START_TIMEOUT_SECONDS = 120
# ipykernel >= 7 warns on stderr about unencrypted local TCP at every start (and logs an
# ERROR for the interrupt nbclient sends while shutting a finished kernel down); the kernel and
# client share this machine, so the warning is noise in a batch of dozens of runs.
# A report kernel keeps no input history (IPython would write every cell, client paths
# included, into ~/.ipython; the executed notebook is the record) and needs no completer.
_KERNEL_ARGUMENTS = ("--IPKernelApp.log_level=CRITICAL", "--HistoryManager.enabled=False",
                     "--IPCompleter.use_jedi=False")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_RUNNER_PARAMS = ("client_dir", "quarter", "lang", "output_dir")


@dataclass(frozen=True)
class RunResult:
    """Outcome of one (client, quarter) run.

    ``status`` is ``"ok"``, ``"failed"`` or ``"skipped (exists)"``; ``output`` is the report's
    HTML for ok/skipped runs and the ``_failed/<client>/<quarter>`` folder for failed ones.
    """

    client: str
    quarter: str
    status: str
    seconds: float
    output: Path | None
    lang: str
    error: str | None = None
    notes: tuple[str, ...] = ()  # messages for the analyst (never in the report)

    @property
    def ok(self) -> bool:
        return self.status != "failed"


@dataclass(frozen=True)
class _Job:
    client_dir: str
    slug: str
    quarter: str
    lang: str
    out: str
    template: str
    params: dict[str, Any] = field(default_factory=dict)
    pdf: bool = False
    paper: str = "a4"
    chromium: str | None = None
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    kernels: str | None = None  # socket of the batch's kernel fork server (None: plain kernels)
    kernel_server_pid: int = 0


def default_template() -> Path:
    """The quarterly report template shipped in the repository's ``templates/`` folder."""
    return TEMPLATES_DIR / DEFAULT_TEMPLATE


def client_slug(client_dir: str | os.PathLike[str]) -> str:
    """The report folder name of a client: its folder name, which must match ``SLUG_PATTERN``.

    >>> client_slug("data/sample/cloudledger")
    'cloudledger'
    """
    name = Path(client_dir).name
    if len(name) > MAX_SLUG_LENGTH:
        raise ArgumentError(
            f"Client folder name {name[:20]!r}… is {len(name)} characters long; report folder "
            f"names have at most {MAX_SLUG_LENGTH}.\nHint: rename the folder to a short slug, "
            "e.g. 'acme-tea'."
        )
    if not SLUG_PATTERN.match(name):
        raise ArgumentError(
            f"Client folder {os.fspath(client_dir)!r}: its name {name!r} cannot be used as a "
            "report folder name (expected lower-case letters, digits, '-' or '_', starting "
            "with a letter or digit).\nHint: rename the folder, e.g. 'acme-tea', and point to "
            "it directly (not through '..' or '.')."
        )
    return name


def _canonical_quarter(quarter: str) -> str:
    if CANONICAL_QUARTER.fullmatch(str(quarter)):
        return str(quarter)  # already "2024Q4": no need for pandas in this process
    from kpitools.periods import parse_period

    try:
        period = parse_period(str(quarter))
    except PeriodError:
        match = re.fullmatch(r"\s*(\d{4})\s*-?\s*[Qq]\s*(\d+)\s*", str(quarter))
        why = (f" ({match.group(2)} is not a quarter: quarters run 1–4)"
               if match and not 1 <= int(match.group(2)) <= 4 else "")
        raise ArgumentError(
            f"Cannot read quarter {quarter!r}{why}.\nHint: write quarters like 2024Q3; "
            "quarters run Q1–Q4."
        ) from None
    if period.freq != "Q":
        raise ArgumentError(
            f"{quarter!r} is not a quarter (reports are quarterly).\nHint: write it like 2024Q3."
        )
    return period.label


def _client_language(client_dir: Path) -> str:
    """The client's default report language from client.yml, or zh-TW when unreadable.

    A broken client.yml is not reported here: the run itself fails on it, alone.
    """
    from kpitools.io._yaml import load_client_yaml

    try:
        config = load_client_yaml(client_dir / "client.yml")
    except (OSError, KpitoolsError):
        return LANGS[0]
    language = config.get("language") if isinstance(config, dict) else None
    return language if language in LANGS else LANGS[0]


def run_reports(
    client_dirs: Sequence[str | os.PathLike[str]],
    quarters: Sequence[str],
    *,
    lang: str | None = None,
    out: str | os.PathLike[str] = "reports",
    workers: int = 2,
    pdf: bool = False,
    paper: str = "a4",
    force: bool = False,
    template: str | os.PathLike[str] | None = None,
    params: dict[str, Any] | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    progress: bool = True,
) -> list[RunResult]:
    """Run the report template for every client × quarter and write ``out/index.html``.

    Parameters
    ----------
    client_dirs : folders holding a ``client.yml``; each folder's name is the client's slug.
    quarters : quarters such as ``"2024Q4"`` (also ``"2024q4"``; re-written canonically).
    lang : ``"zh-TW"`` or ``"en"``; None uses each client's ``language`` from client.yml.
    out : output folder; reports go to ``out/<slug>/<quarter>/``.
    workers : reports running at once (each in its own kernel); 1 runs them one after another.
    pdf : also print ``report.pdf`` with headless Chromium (must be installed).
    paper : ``"a4"`` (default) or ``"letter"``, the PDF's page size.
    force : replace existing reports; without it they are kept and reported as skipped.
    template : notebook to run; default ``templates/quarterly_report.ipynb``.
    params : extra template parameters (e.g. ``{"trailing_quarters": "6"}``), type-checked.
    timeout : seconds any one cell may run before the run fails.
    progress : show a progress bar and a summary table on the terminal.

    Returns
    -------
    list of RunResult, one per client × quarter in argument order.

    Raises
    ------
    KpitoolsError
        Before anything runs, for every bad argument at once: unknown or mistyped template
        parameters, quarters that are not quarters (``../evil``), client folders whose names
        are not safe folder names, missing folders, ``pdf=True`` without a Chromium.
    """
    # Kernels' imports and clients' loading start at once, in parallel with the checks below.
    # A single report gains nothing from a fork server (its one kernel imports what it uses).
    single = len(client_dirs) * len(quarters) == 1
    server = None if single else _fork_server(
        [str(Path(c).resolve()) for c in client_dirs if Path(c).is_dir()])
    try:
        return _run_reports(client_dirs, quarters, server, lang=lang, out=out, workers=workers,
                            pdf=pdf, paper=paper, force=force, template=template,
                            params=params, timeout=timeout, progress=progress)
    finally:
        if server is not None:
            server.stop()


def _run_reports(client_dirs: Sequence[str | os.PathLike[str]], quarters: Sequence[str],
                 server: Any, *, lang: str | None, out: str | os.PathLike[str], workers: int,
                 pdf: bool, paper: str, force: bool, template: str | os.PathLike[str] | None,
                 params: dict[str, Any] | None, timeout: float,
                 progress: bool) -> list[RunResult]:
    template_path = Path(template) if template is not None else default_template()
    extra = dict(params or {})
    clash = sorted(set(extra) & set(_RUNNER_PARAMS))
    if clash:
        raise ArgumentError(
            f"Parameters {clash} are set by the runner itself.\n"
            "Hint: use the command's own options (client folders, --quarter, --lang, --out)."
        )
    probe = {"client_dir": ".", "quarter": "2024Q1", "lang": LANGS[0], "output_dir": ".", **extra}
    checked = validate_parameters(template_path, probe)
    extra = {k: checked[k] for k in extra}
    if lang is not None:
        check_lang(lang)
    quarter_labels = list(dict.fromkeys(_canonical_quarter(q) for q in quarters))
    if not quarter_labels:
        raise KpitoolsError("No quarter given.\nHint: add --quarter 2024Q4.")
    clients = _checked_clients(client_dirs)
    paper = check_paper(paper)
    chromium = find_chromium() if pdf else None
    if pdf and chromium is None:
        raise KpitoolsError(chromium_missing_message())

    out_dir = _writable_out(out)
    _remove_stale_staging(out_dir / STAGING_DIR)
    results: dict[tuple[str, str], RunResult] = {}
    jobs: list[_Job] = []
    for slug, path in clients:
        client_lang = lang or _client_language(path)
        for quarter in quarter_labels:
            html = out_dir / slug / quarter / "report.html"
            if html.exists() and not force:
                results[slug, quarter] = RunResult(slug, quarter, "skipped (exists)", 0.0, html,
                                                   client_lang)
                continue
            jobs.append(_Job(os.fspath(path), slug, quarter, client_lang, os.fspath(out_dir),
                             os.fspath(template_path.resolve()), extra, pdf, paper, chromium,
                             timeout))

    if server is not None and jobs:
        _prepare_in_background()
    from kpitools.report.index import build_index

    # The index is rewritten after every finished run, so a batch stopped half-way (even by
    # SIGKILL) leaves an index that lists exactly the reports on disk.
    for result in _execute(jobs, workers, progress, lambda _: build_index(out_dir), server):
        results[result.client, result.quarter] = result
    _remove_empty(out_dir / STAGING_DIR)
    build_index(out_dir)
    ordered = [results[slug, q] for slug, _ in clients for q in quarter_labels]
    _log_notes(out_dir, ordered)
    if progress:
        from rich.console import Console
        from rich.markup import escape

        console = Console(stderr=True)
        console.print(summary_table(ordered))
        for r in ordered:  # notes quote client data: escaped, so '[x]' is not rich markup
            for note in r.notes:
                console.print(f"[yellow]note[/yellow] {escape(f'{r.client} {r.quarter}: {note}')}",
                              highlight=False)
    return ordered


def _log_notes(out_dir: Path, results: Sequence[RunResult]) -> None:
    """Append each run's analyst notes to ``out/run.log`` (one line per note, time-stamped)."""
    stamp = datetime.now().astimezone().isoformat(timespec="seconds")
    lines = [f"{stamp} {r.client} {r.quarter} {r.lang}: {note}\n"
             for r in results for note in r.notes]
    if lines:
        with open(out_dir / RUN_LOG, "a", encoding="utf-8") as log:
            log.writelines(lines)


def _checked_clients(client_dirs: Iterable[str | os.PathLike[str]]) -> list[tuple[str, Path]]:
    problems: list[str] = []
    clients: dict[str, Path] = {}
    for raw in client_dirs:
        try:
            slug = client_slug(raw)
        except KpitoolsError as exc:
            problems.append(str(exc).split("\nHint:")[0])
            continue
        path = Path(raw).resolve()
        if not path.is_dir():
            problems.append(f"Client folder {os.fspath(raw)!r} does not exist"
                            f"{_folder_guess(path, os.path.isabs(raw))}.")
        elif slug in clients and clients[slug] != path:
            problems.append(f"Two client folders are both named {slug!r}: {clients[slug]} and "
                            f"{path}; their reports would overwrite each other.")
        else:
            clients[slug] = path
    if problems:
        raise ArgumentError(
            "\n".join(problems) + "\nHint: pass client folders (holding client.yml) with "
            "lower-case names such as 'acme-tea'; `kpitools new-client` creates one."
        )
    if not clients:
        raise KpitoolsError("No client folder given.\nHint: kpitools report data/sample/<client>.")
    return list(clients.items())


def _folder_guess(path: Path, absolute: bool) -> str:
    """``" (did you mean 'data/sample/shop'?)"`` for a misspelt client folder, else ``""``."""
    from kpitools._errors import did_you_mean

    parent = path.parent
    if not parent.is_dir():
        return ""
    siblings = [p.name for p in parent.iterdir()
                if p.is_dir() and (p / "client.yml").is_file()]
    guess = did_you_mean(path.name, siblings)
    if guess is None:
        return ""
    shown = parent / guess if absolute else os.path.relpath(parent / guess)
    return f" (did you mean '{shown}'?)"




def _writable_out(out: str | os.PathLike[str]) -> Path:
    """``out`` resolved and created, or an ArgumentError when reports cannot be written there."""
    out_dir = Path(out).resolve()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out_dir, prefix=".kpitools-probe-"):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ArgumentError(
            f"Cannot write reports to {os.fspath(out)!r} ({reason}). Hint: pass --out a "
            "folder you may write to, e.g. --out reports."
        ) from None
    return out_dir


def _remove_stale_staging(staging_root: Path) -> None:
    """Remove work folders left by runs that were killed (their process no longer exists).

    Each work folder starts with the id of the process writing it (``<pid>-<slug>-<quarter>-``);
    folders of a batch still running elsewhere are left alone.
    """

    if not staging_root.is_dir():
        return
    for folder in staging_root.iterdir():
        pid, _, _ = folder.name.partition("-")
        if pid.isdigit() and pid_running(int(pid)):
            continue
        shutil.rmtree(folder, ignore_errors=True)


def _execute(jobs: list[_Job], workers: int, progress: bool,
             after_each: Callable[[RunResult], None] | None = None,
             server: Any = None) -> list[RunResult]:
    if not jobs:
        return []
    if server is not None and server.pids():
        jobs = [replace(job, kernels=server.socket_path, kernel_server_pid=server.pids()[0])
                for job in _ordered(jobs)]
    else:
        server = None
    bar, task = _progress_bar(len(jobs)) if progress else (None, None)
    done: list[RunResult] = []

    def advance(result: RunResult) -> None:
        done.append(result)
        if after_each is not None:
            after_each(result)
        if bar is not None:
            bar.update(task, advance=1, description=f"{result.client} {result.quarter}")

    try:
        if server is not None and workers > 1 and len(jobs) > 1:
            # The kernels do the work, each in its own process: this process only drives them
            # (nbclient) and exports each report, so threads suffice, and there is no worker
            # process to start, import the runner or load anything.
            with ThreadPoolExecutor(max_workers=min(workers, len(jobs)),
                                    thread_name_prefix="kpitools-report") as threads:
                for future in as_completed([threads.submit(_run_job, job) for job in jobs]):
                    advance(future.result())
        elif workers <= 1 or len(jobs) == 1:
            try:
                for job in jobs:
                    advance(_run_job(job))
            finally:
                _stop_kernel()
        else:
            # spawn: a clean interpreter per worker; forking a process that runs a progress
            # thread (and maybe a kernel client) can deadlock on locks held by those threads.
            context = multiprocessing.get_context("spawn")
            # Each worker watches this process and exits (stopping its kernel) when it is gone,
            # so a killed batch leaves no worker writing reports nobody waits for. A worker runs
            # a client's quarters in turn (its kernel loads the client once) and sends each
            # finished report back at once, so the index follows report by report.
            finished = context.Queue()
            seen: set[tuple[str, str]] = set()

            def take(result: RunResult) -> None:
                if (result.client, result.quarter) not in seen:
                    seen.add((result.client, result.quarter))
                    advance(result)

            def drain() -> None:
                while True:
                    try:
                        take(finished.get_nowait())
                    except queue.Empty:
                        return

            with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context,
                                     initializer=_init_worker,
                                     initargs=(os.getpid(), finished)) as pool:
                futures = {pool.submit(_run_jobs, task): task
                           for task in _tasks(jobs, min(workers, len(jobs)))}
                pending = set(futures)
                while pending:
                    ended, pending = wait(pending, timeout=_POLL_S, return_when=FIRST_COMPLETED)
                    drain()
                    for future in ended:
                        try:
                            for result in future.result():
                                take(result)
                        except Exception as exc:  # the worker process itself died
                            drain()
                            for job in futures[future]:
                                if (job.slug, job.quarter) not in seen:
                                    take(_record_failure(job, exc, None, 0.0))
    finally:
        if bar is not None:
            bar.stop()
    return done


def _fork_server(client_dirs: list[str]) -> Any:
    """A started kernel fork server for the batch, with its clients loaded; None where kernels
    are not forked (see :func:`kpitools._forkkernel.fork_kernels_enabled`; each worker process
    then starts one kernel the usual way).

    The server imports the kernel's libraries and loads every client of the batch once, while
    the runs get going; each report's kernel is forked from it, so a report pays neither a
    kernel's imports nor its client's loading, and still runs in a fresh kernel of its own.
    """
    from kpitools._forkkernel import (
        REPORT_LATER,
        REPORT_PRELOAD,
        ForkServer,
        fork_kernels_enabled,
    )
    from kpitools.report._kernel import LEFT_OUT

    if not fork_kernels_enabled():
        return None

    if not client_dirs:
        return None
    # the server loads its clients in the order the jobs will ask for them
    warm = _client_order(list(dict.fromkeys(client_dirs)))
    return ForkServer(preload=REPORT_PRELOAD, later=REPORT_LATER, warm_clients=warm,
                      listen_early=True, left_out=LEFT_OUT).start()


def _client_order(client_dirs: list[str]) -> list[str]:
    """Clients in the order to run their reports: the most data first, so that the longest
    reports do not start last and leave a worker idle at the end (the batch's fork server
    loads the first client while it imports the kernels' libraries, so the first kernels do
    not wait for it)."""
    size: dict[str, int] = {}
    for client_dir in client_dirs:
        with contextlib.suppress(OSError):  # a missing folder is reported by the checks
            size[client_dir] = sum(
                _data_bytes(p) for p in Path(client_dir).rglob("*") if p.is_file())
    return sorted(client_dirs, key=lambda c: -size.get(c, 0))  # stable: ties keep their order


def _data_bytes(path: Path) -> int:
    """How much data a file holds: its size, or for a workbook (a zip) its unpacked size, so
    that a compressed .xlsx weighs like the CSV it would be."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        import zipfile

        with contextlib.suppress(OSError, zipfile.BadZipFile), zipfile.ZipFile(path) as archive:
            return sum(info.file_size for info in archive.infolist())
    return path.stat().st_size


def _ordered(jobs: list[_Job]) -> list[_Job]:
    """Jobs in the order of :func:`_client_order`; a client's quarters in argument order."""
    rank = {c: i for i, c in enumerate(_client_order(list(dict.fromkeys(j.client_dir
                                                                         for j in jobs))))}
    return sorted(jobs, key=lambda job: rank[job.client_dir])


def _tasks(jobs: list[_Job], workers: int) -> list[list[_Job]]:
    """Jobs grouped for the pool: a client's quarters stay together (its worker's kernel then
    loads the client once), in pieces of at most ``ceil(jobs / workers)`` so that every worker
    gets work; longer pieces first, otherwise in argument order.
    """
    size = -(-len(jobs) // workers)
    by_client: dict[str, list[_Job]] = {}
    for job in jobs:
        by_client.setdefault(job.client_dir, []).append(job)
    tasks = [group[i:i + size] for group in by_client.values()
             for i in range(0, len(group), size)]
    return sorted(tasks, key=lambda task: -len(task))


#: Queue of a pool worker on which each finished report is sent back (see :func:`_execute`).
_FINISHED: Any = None
#: Seconds between looks at the workers' finished reports.
_POLL_S = 0.2


def _init_worker(parent_pid: int, finished: Any) -> None:
    global _FINISHED
    watch_parent(parent_pid)
    _FINISHED = finished


def _run_jobs(jobs: list[_Job]) -> list[RunResult]:
    results = []
    for job in jobs:
        results.append(_run_job(job))
        if _FINISHED is not None:
            _FINISHED.put(results[-1])
    return results


def _progress_bar(total: int):
    from rich import progress as rp
    from rich.console import Console

    bar = rp.Progress(rp.TextColumn("[bold]reports[/bold]"), rp.BarColumn(),
                      rp.MofNCompleteColumn(), rp.TimeElapsedColumn(),
                      rp.TextColumn("{task.description}", markup=False),
                      console=Console(stderr=True))
    task = bar.add_task("starting", total=total)
    bar.start()
    return bar, task


# While a batch's fork server imports the kernels' libraries (a few seconds, one core), this
# process imports what it needs to run and export reports on the other core instead of after.
_PREPARING: dict[str, threading.Thread] = {}


def _prepare_in_background() -> None:
    if "thread" not in _PREPARING:
        _PREPARING["thread"] = threading.Thread(target=_import_runner_libraries, daemon=True,
                                                name="kpitools-prepare")
        _PREPARING["thread"].start()


def _import_runner_libraries() -> None:
    # papermill is imported already (it checked the template's parameters); nbconvert is next
    with contextlib.suppress(Exception):  # the report run imports it again and fails there
        from kpitools.report._imports import lean_jsonschema

        lean_jsonschema()
        import nbconvert.exporters.html  # noqa: F401


def _run_job(job: _Job) -> RunResult:
    """Execute one report in a staging folder and move the finished files into place."""
    started = time.perf_counter()
    out = Path(job.out)
    staging_root = out / STAGING_DIR
    staging_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-{job.slug}-{job.quarter}-",
                                    dir=staging_root))
    notebook = staging / "report.ipynb"
    try:
        preparing = _PREPARING.get("thread")
        if preparing is not None:  # no two threads importing the same modules at once
            preparing.join()
        from kpitools.report._imports import lean_papermill

        lean_papermill()
        import papermill

        km = (_fresh_kernel(job, staging) if job.kernels
              else _kernel(out / STAGING_DIR))
        try:
            papermill.execute_notebook(
                job.template, os.fspath(notebook),
                parameters={"client_dir": job.client_dir, "quarter": job.quarter,
                            "lang": job.lang, "output_dir": os.fspath(staging), **job.params},
                kernel_name="python3", language="python", km=km,
                progress_bar=False,
                execution_timeout=job.timeout, start_timeout=KERNEL_START_TIMEOUT_SECONDS,
            )
        except BaseException:
            if not job.kernels:
                _stop_kernel()  # a failed or interrupted run leaves no state for the next one
            raise
        finally:
            if job.kernels:
                with contextlib.suppress(Exception):
                    km.shutdown_kernel(now=True)
        export_html(notebook, staging / "report.html", lang=job.lang,
                    title=f"{_client_name(staging, job)} · {job.quarter}",
                    header=f"{_client_name(staging, job)} · {quarter_label(job.quarter, job.lang)}",
                    paper=job.paper)
        if job.pdf:
            export_pdf(staging / "report.html", staging / "report.pdf", chromium=job.chromium,
                       paper=job.paper)
        notes_file = staging / "analyst_notes.txt"
        notes = tuple(notes_file.read_text("utf-8").splitlines()) if notes_file.exists() else ()
        dest = out / job.slug / job.quarter
        dest.mkdir(parents=True, exist_ok=True)
        for name in OUTPUT_FILES:
            if (staging / name).exists():
                os.replace(staging / name, dest / name)
            else:
                (dest / name).unlink(missing_ok=True)  # stale file of an earlier run
        shutil.rmtree(out / FAILED_DIR / job.slug / job.quarter, ignore_errors=True)
        _remove_empty(out / FAILED_DIR / job.slug)
        return RunResult(job.slug, job.quarter, "ok", time.perf_counter() - started,
                         dest / "report.html", job.lang, notes=notes)
    except Exception as exc:
        return _record_failure(job, exc, notebook, time.perf_counter() - started)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# ------------------------------------------------------------------------------ kernels
def _fresh_kernel(job: _Job, cwd: Path) -> Any:
    """A new kernel for one report, forked from the batch's fork server (see
    :mod:`kpitools._forkkernel`) once that has loaded the report's client.

    Should the server have died (killed for memory, say), the kernel is started the usual way
    instead: slower, but the report is still made.
    """
    from kpitools._forkkernel import fork_kernel_manager

    assert job.kernels is not None
    km = fork_kernel_manager(job.kernels, client=job.client_dir,
                             server_pid=job.kernel_server_pid, kernel_name="python3")
    try:
        km.start_kernel(extra_arguments=list(_KERNEL_ARGUMENTS), cwd=os.fspath(cwd))
    except RuntimeError:  # the server is gone or does not answer
        km = _report_kernel_manager()
        km.start_kernel(extra_arguments=list(_KERNEL_ARGUMENTS), cwd=os.fspath(cwd))
    return km


# Without a fork server (no os.fork):
# Starting a kernel and importing pandas, Ibis, DuckDB, matplotlib and kpitools in it cost more
# CPU than a small client's report itself. So each process that runs reports (this one for
# --workers 1, each pool worker otherwise) keeps one kernel for all its reports. Before every
# report but the first the kernel's namespace is reset (``%reset -f``): no variable of one
# report is seen by the next, while imported modules stay loaded -- including
# kpitools.io.client's cache, so the second quarter of a client reuses the loaded and validated
# files when they are byte for byte the same. A report that fails or is interrupted stops the
# kernel; the next report starts a fresh one.
_KERNEL: dict[str, Any] = {}


def _kernel(staging_root: Path) -> Any:
    """This process's kernel manager, started (or reset for a new report) and ready."""
    km = _KERNEL.get("km")
    if km is not None and km.is_alive():
        try:
            _reset_namespace(km)
            return km
        except Exception:  # any trouble with the old kernel: start afresh
            _stop_kernel()
    staging_root.mkdir(parents=True, exist_ok=True)
    cwd = Path(tempfile.mkdtemp(prefix="kernel-", dir=staging_root))
    km = _report_kernel_manager()
    km.start_kernel(extra_arguments=list(_KERNEL_ARGUMENTS), cwd=os.fspath(cwd))
    if not _KERNEL.get("atexit"):
        atexit.register(_stop_kernel)
    _KERNEL.update(km=km, cwd=cwd, atexit=True)
    return km


def _report_kernel_manager() -> Any:
    """A KernelManager for the "python3" kernel, started as :mod:`kpitools.report._kernel`
    (ipykernel without the debugger and pandera's test-data generator) when its kernel spec
    is the usual ``python -m ipykernel_launcher`` of this interpreter; any other spec is
    started as it is (see :func:`kpitools.report._kernel.kernel_argv`)."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    from kpitools.report._kernel import kernel_argv

    class ReportKernelSpecs(KernelSpecManager):
        def get_kernel_spec(self, kernel_name: str) -> Any:
            spec = super().get_kernel_spec(kernel_name)
            spec.argv = kernel_argv(spec.argv)
            return spec

    return KernelManager(kernel_name="python3", kernel_spec_manager=ReportKernelSpecs())


def _reset_namespace(km: Any) -> None:
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=KERNEL_START_TIMEOUT_SECONDS)
        reply = kc.execute_interactive("get_ipython().run_line_magic('reset', '-f')",
                                       store_history=False, timeout=60,
                                       output_hook=lambda _msg: None)
        if reply["content"].get("status") != "ok":
            raise RuntimeError("kernel reset failed")
    finally:
        kc.stop_channels()


def _stop_kernel() -> None:
    km = _KERNEL.pop("km", None)
    cwd = _KERNEL.pop("cwd", None)
    if km is not None:
        with contextlib.suppress(Exception):
            km.shutdown_kernel(now=True)
    if cwd is not None:
        shutil.rmtree(cwd, ignore_errors=True)


def _client_name(staging: Path, job: _Job) -> str:
    from kpitools.report.export import read_metrics

    try:
        names = read_metrics(staging / "metrics.json")["client"].get("name") or {}
    except (OSError, KpitoolsError):
        return job.slug
    if isinstance(names, dict):
        return str(names.get(job.lang) or next(iter(names.values()), job.slug))
    return str(names)


def _record_failure(job: _Job, exc: BaseException, notebook: Path | None,
                    seconds: float) -> RunResult:
    """Put the partial notebook and the error beside each other in ``_failed/``."""
    failed = Path(job.out) / FAILED_DIR / job.slug / job.quarter
    shutil.rmtree(failed, ignore_errors=True)
    failed.mkdir(parents=True, exist_ok=True)
    if notebook is not None and notebook.exists():
        os.replace(notebook, failed / "report.ipynb")
    summary, details = _describe(exc)
    atomic_write(failed / "error.txt", "\n".join([
        f"client: {job.slug} ({job.client_dir})",
        f"quarter: {job.quarter}",
        f"language: {job.lang}",
        f"template: {job.template}",
        f"failed at: {datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"error: {summary}",
        "",
        details,
    ]) + "\n")
    return RunResult(job.slug, job.quarter, "failed", seconds, failed, job.lang, summary)


def _describe(exc: BaseException) -> tuple[str, str]:
    """A one-line summary and the full text of an error (ANSI colours removed)."""
    ename = getattr(exc, "ename", None)
    if ename is not None:  # papermill.PapermillExecutionError: the notebook's own exception
        summary = f"{ename}: {exc.evalue}".strip()
        cell = getattr(exc, "exec_count", None)
        details = f"in cell [{cell}]:\n" + "\n".join(exc.traceback)
    else:
        summary = f"{type(exc).__name__}: {exc}".strip()
        import traceback

        details = "".join(traceback.format_exception(exc))
    first_line = _ANSI.sub("", summary).splitlines()[0] if summary else type(exc).__name__
    return first_line[:300], _ANSI.sub("", details)


def _remove_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not empty or already gone
        folder.rmdir()


def summary_table(results: Sequence[RunResult]):
    """A rich ``Table`` of runs: client, quarter, status, seconds, output path (and error)."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title="kpitools report")
    for column in ("client", "quarter", "status", "seconds", "output"):
        table.add_column(column, justify="right" if column == "seconds" else "left",
                         overflow="fold")
    colour = {"ok": "green", "failed": "bold red"}
    for r in results:
        where = Text(os.fspath(r.output) if r.output else "")
        if r.error:
            where.append(f"\n{r.error}", style="red")
        status = Text(r.status, style=colour.get(r.status, "yellow"))
        table.add_row(Text(r.client), r.quarter, status, f"{r.seconds:.1f}", where)
    return table
