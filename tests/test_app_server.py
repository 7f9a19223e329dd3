"""Workshop app (kpitools.app, `kpitools workshop`) without a browser: arguments, URLs, landing
page, parameterised copies, and a real Voilà server answering and stopping cleanly."""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import nbformat
import psutil
import pytest
from click.testing import CliRunner

from kpitools._errors import KpitoolsError
from kpitools.app.server import (
    LOOPBACK_HOST,
    WorkshopServer,
    build_url,
    client_display_name,
    free_port,
    is_loopback,
    list_notebooks,
    prepare_notebook,
    render_landing,
    resolve_notebook,
)
from kpitools.commands.workshop import workshop

REPO = Path(__file__).resolve().parents[1]
TINY_DIR = REPO / "tests" / "data" / "app"
CLOUDLEDGER = REPO / "data" / "sample" / "cloudledger"
WORKSHOP_NAMES = [
    "01_smart_goals",
    "02_acv_cltv",
    "03_kpi_vs_okr",
    "04_sales_kpis",
    "05_website_kpis",
]
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _get(url: str, timeout: float = 60) -> tuple[int, str]:
    with _OPENER.open(url, timeout=timeout) as response:
        return response.status, response.read().decode("utf-8")


@pytest.fixture
def fake_notebooks(tmp_path: Path) -> Path:
    """Empty stand-ins: list/resolve only look at file names."""
    for name in [*WORKSHOP_NAMES, "99_extra", "extra_a"]:
        (tmp_path / f"{name}.ipynb").write_text("{}", encoding="utf-8")
    (tmp_path / "01_smart_goals.executed.ipynb").write_text("{}", encoding="utf-8")
    (tmp_path / ".hidden.ipynb").write_text("{}", encoding="utf-8")
    return tmp_path


# --- parameterised copies --------------------------------------------------------------------


def test_prepared_copy_injects_only_declared_parameters(tmp_path: Path):
    dest = prepare_notebook(
        TINY_DIR / "tiny_workshop.ipynb",
        tmp_path / "en" / "tiny.ipynb",
        {
            "client_dir": "/clients/acme",
            "lang": "en",
            "interactive": True,
            "output_dir": "/tmp/out",
            "period": None,
            "not_declared": 1,
        },
    )
    nb = nbformat.read(dest, as_version=4)
    tags = [c.metadata.get("tags", []) for c in nb.cells]
    injected = nb.cells[tags.index(["injected-parameters"])]
    assert tags.index(["injected-parameters"]) == tags.index(["parameters"]) + 1
    assert injected.source.splitlines()[1:] == [
        'client_dir = "/clients/acme"',
        'lang = "en"',
        "interactive = True",
        'output_dir = "/tmp/out"',
    ]
    source = nbformat.read(TINY_DIR / "tiny_workshop.ipynb", as_version=4)
    assert len(source.cells) == len(nb.cells) - 1  # the original is untouched


# --- notebooks, hosts, ports, URLs -------------------------------------------------------------


def test_list_notebooks_workshop_order_then_others(fake_notebooks: Path):
    names = [p.stem for p in list_notebooks(fake_notebooks)]
    assert names == [*WORKSHOP_NAMES, "99_extra", "extra_a"]


@pytest.mark.parametrize(
    "typed", ["03_kpi_vs_okr.ipynb", "03_kpi_vs_okr", "03", "3", "kpi_vs_okr", "KPI_vs_OKR"]
)
def test_resolve_notebook_accepts_what_people_type(fake_notebooks: Path, typed: str):
    assert resolve_notebook(typed, fake_notebooks) == (fake_notebooks / "03_kpi_vs_okr.ipynb")


def test_resolve_notebook_takes_an_existing_path(tmp_path: Path):
    nb = tmp_path / "mine.ipynb"
    nb.write_text("{}", encoding="utf-8")
    assert resolve_notebook(str(nb), REPO / "notebooks-that-do-not-exist") == nb.resolve()


def test_unknown_notebook_suggests_the_closest(fake_notebooks: Path):
    with pytest.raises(
        KpitoolsError,
        match=r"No workshop notebook 'smart_goal'.*Did you mean "
        r"'01_smart_goals'\?.*Hint: choose one of",
    ):
        resolve_notebook("smart_goal", fake_notebooks)


def test_missing_notebook_folder_teaches(tmp_path: Path):
    with pytest.raises(KpitoolsError, match=r"does not exist.*Hint: .*--notebooks-dir"):
        list_notebooks(tmp_path / "nope")


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("127.5.0.9", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("192.168.1.20", False),
        ("example.org", False),
    ],
)
def test_is_loopback(host: str, expected: bool):
    assert is_loopback(host) is expected


@pytest.mark.parametrize(
    ("args", "url"),
    [
        (("127.0.0.1", 8866), "http://127.0.0.1:8866/"),
        (("127.0.0.1", 8866, None, "en"), "http://127.0.0.1:8866/?lang=en"),
        (
            ("127.0.0.1", 8866, "01_smart_goals.ipynb", "zh-TW"),
            "http://127.0.0.1:8866/voila/render/zh-TW/01_smart_goals.ipynb",
        ),
        (("::1", 9000, "a b.ipynb", "en"), "http://[::1]:9000/voila/render/en/a%20b.ipynb"),
    ],
)
def test_build_url(args: tuple, url: str):
    assert build_url(*args) == url


def test_free_port_is_bindable_on_loopback():
    port = free_port()
    assert 0 < port < 65536
    with socket.socket() as sock:
        sock.bind((LOOPBACK_HOST, port))  # raises if it was not free


def test_server_defaults_to_loopback_and_a_free_port(fake_notebooks: Path):
    server = WorkshopServer(CLOUDLEDGER, notebooks_dir=fake_notebooks)
    assert server.host == "127.0.0.1"
    assert server.url == f"http://127.0.0.1:{server.port}/?lang=zh-TW&token={server.token}"
    one = WorkshopServer(CLOUDLEDGER, lang="en", notebook="2", notebooks_dir=fake_notebooks)
    assert one.url == (
        f"http://127.0.0.1:{one.port}/voila/render/en/02_acv_cltv.ipynb?token={one.token}"
    )
    assert len(one.token) >= 40 and one.token != server.token  # 32 random bytes, per server


def test_busy_port_is_refused_with_a_hint(fake_notebooks: Path):
    with socket.socket() as busy:
        busy.bind((LOOPBACK_HOST, 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(
            KpitoolsError,
            match=rf"Port {port} is already in use.*Hint: leave "
            r"--port out",
        ):
            WorkshopServer(CLOUDLEDGER, port=port, notebooks_dir=fake_notebooks)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lang": "de"}, r"Unknown language 'de'\. Hint: use one of zh-TW, en"),
        ({"host": "http://x/"}, r"not a network address\. Hint: leave --host out"),
        ({"port": 70000}, r"Port 70000 is out of range"),
    ],
)
def test_bad_server_arguments_teach(fake_notebooks: Path, kwargs: dict, message: str):
    with pytest.raises(KpitoolsError, match=message):
        WorkshopServer(CLOUDLEDGER, notebooks_dir=fake_notebooks, **kwargs)


def test_folder_without_client_yml_is_refused(tmp_path: Path):
    with pytest.raises(KpitoolsError, match=r"no client\.yml.*Hint: .*data/sample/cloudledger"):
        client_display_name(tmp_path, "en")


# --- landing page ------------------------------------------------------------------------------


def test_landing_page_in_chinese(fake_notebooks: Path):
    html = render_landing(list_notebooks(fake_notebooks), "zh-TW", "雲帳科技股份有限公司")
    assert '<html lang="zh-TW">' in html
    assert "KPI 工作坊" in html and "客戶：雲帳科技股份有限公司" in html
    assert "從策略到 SMART 目標" in html and "KPI 還是 OKR？" in html
    assert 'href="/voila/render/zh-TW/01_smart_goals.ipynb"' in html
    assert 'href="/?lang=en">English</a>' in html
    # unknown notebooks are listed by file name, after the workshop ones
    assert html.index("05_website_kpis.ipynb") < html.index("99 extra")


def test_landing_page_in_english_escapes_the_client_name(fake_notebooks: Path):
    html = render_landing(list_notebooks(fake_notebooks), "en", "A&B <Ltd>")
    assert "KPI workshop" in html and "Client: A&amp;B &lt;Ltd&gt;" in html
    assert "From strategy to SMART goals" in html and "ACV and customer lifetime value" in html
    assert 'href="/voila/render/en/04_sales_kpis.ipynb"' in html
    assert 'href="/?lang=zh-TW">中文</a>' in html
    assert "工作坊" not in html


def test_landing_page_without_notebooks_says_so():
    assert "There are no workshop notebooks in this folder." in render_landing([], "en", "X")


# --- the command, without starting a server ----------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "output"),
    [
        ([], 2, "Missing option '--client'"),
        (["--client", str(CLOUDLEDGER), "--lang", "fr"], 2, "'fr' is not one of 'zh-TW', 'en'"),
        (["--client", str(CLOUDLEDGER), "--port", "0"], 2, "0 is not in the range 1<=x<=65535"),
        (
            ["nope", "--client", str(CLOUDLEDGER), "--notebooks-dir", str(TINY_DIR)],
            1,
            "No workshop notebook 'nope'",
        ),
        (["--client", str(TINY_DIR), "--notebooks-dir", str(TINY_DIR)], 1, "no client.yml"),
    ],
)
def test_command_argument_errors(args: list[str], code: int, output: str):
    result = CliRunner().invoke(workshop, args)
    assert result.exit_code == code
    assert output in result.output


# --- a real server -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_app():
    server = WorkshopServer(CLOUDLEDGER, lang="zh-TW", notebooks_dir=TINY_DIR)
    try:
        server.start(timeout=90)
        yield server
    finally:
        server.stop()


def test_server_listens_on_loopback_only(tiny_app: WorkshopServer):
    voila = tiny_app.processes()[0]
    listening = {
        c.laddr.ip for c in voila.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN
    }
    assert listening == {"127.0.0.1"}


def test_landing_page_is_served_in_both_languages(tiny_app: WorkshopServer):
    status, html = _get(tiny_app.url_for())
    assert status == 200 and "KPI 工作坊" in html and "雲帳科技股份有限公司" in html
    assert 'href="/voila/render/zh-TW/tiny_workshop.ipynb"' in html
    status, html = _get(tiny_app.url_for(lang="en"))
    assert status == 200 and "KPI workshop" in html
    assert "CloudLedger Technology Co., Ltd." in html


def test_notebook_page_runs_with_app_parameters_and_hides_code(tiny_app: WorkshopServer):
    status, html = _get(tiny_app.url_for("tiny_workshop.ipynb", "en"), timeout=90)
    assert status == 200
    # printed by the notebook from the injected parameters (period keeps the notebook default)
    assert "client=CloudLedger Technology Co., Ltd. lang=en period=2024Q4 interactive=True" in html
    assert "application/vnd.jupyter.widget-view+json" in html
    assert "import ipywidgets" not in html  # sources stripped
    assert "def describe" not in html


def _read_lines(stream, lines: queue.Queue) -> None:
    for raw in iter(stream.readline, b""):
        lines.put(raw.decode("utf-8", errors="replace"))


def test_command_prints_url_and_ctrl_c_leaves_no_process():
    cmd = [
        sys.executable,
        "-c",
        "from kpitools.commands.workshop import workshop; workshop()",
        "--client",
        str(CLOUDLEDGER),
        "--lang",
        "en",
        "--no-browser",
        "--notebooks-dir",
        str(TINY_DIR),
        "tiny",
    ]
    cli = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_read_lines, args=(cli.stdout, lines), daemon=True).start()
    seen: list[psutil.Process] = []
    output = []
    try:
        url = None
        deadline = time.monotonic() + 90
        while url is None and time.monotonic() < deadline and cli.poll() is None:
            with contextlib.suppress(queue.Empty):
                output.append(lines.get(timeout=1))
                found = re.search(r"Workshop running at (http://\S+)", output[-1])
                url = found.group(1) if found else None
        assert url is not None, "".join(output)
        assert re.fullmatch(
            r"http://127\.0\.0\.1:\d+/voila/render/en/tiny_workshop\.ipynb\?token=[\w-]{40,}", url
        )
        status, html = _get(url, timeout=90)  # starts a kernel
        assert status == 200 and "interactive=True" in html
        seen = psutil.Process(cli.pid).children(recursive=True)
        assert len(seen) >= 2  # Voilà and at least one kernel
        os.killpg(cli.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        assert cli.wait(timeout=30) == 0
        time.sleep(0.2)
        while not lines.empty():
            output.append(lines.get())
        assert "Workshop stopped." in "".join(output)
        assert [p.pid for p in seen if p.is_running() and p.status() != psutil.STATUS_ZOMBIE] == []
    finally:
        if cli.poll() is None:
            os.killpg(cli.pid, signal.SIGKILL)
            cli.wait(timeout=10)
        for proc in seen:
            with contextlib.suppress(psutil.Error):
                proc.kill()
