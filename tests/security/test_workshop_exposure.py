"""The workshop app answers only requests that carry its token and name a local Host, and it
leaves no process or temp folder behind when it is stopped by a signal or its parent dies."""

from __future__ import annotations

import contextlib
import http.client
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import psutil
import pytest

from kpitools.app.server import WorkshopServer, remove_stale_work_dirs

REPO = Path(__file__).resolve().parents[2]
TINY_DIR = REPO / "tests" / "data" / "app"
CLOUDLEDGER = REPO / "data" / "sample" / "cloudledger"
CLIENT_NAME_EN = "CloudLedger Technology Co., Ltd."


def _request(app: WorkshopServer, path: str, host: str | None = None, cookie: str | None = None):
    """GET ``path`` on the app's socket with a chosen Host header; no redirects followed."""
    conn = http.client.HTTPConnection(app.host, app.port, timeout=60)
    headers = {"Host": host or f"{app.host}:{app.port}"}
    if cookie:
        headers["Cookie"] = cookie
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read().decode("utf-8", "replace")
    finally:
        conn.close()


def _path(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@pytest.fixture(scope="module")
def app():
    # no kernel pool: every kernel then comes from a request, which the token tests count
    server = WorkshopServer(CLOUDLEDGER, lang="en", notebooks_dir=TINY_DIR, pool_size=0)
    try:
        server.start(timeout=90)
        yield server
    finally:
        server.stop()


def test_without_token_nothing_of_the_client_is_served(app: WorkshopServer):
    for path in (
        "/?lang=en",
        "/?lang=en&token=wrong",
        "/voila/render/en/tiny_workshop.ipynb",
        "/voila/tree/en",
        "/voila/api/contents/en",
    ):
        status, headers, body = _request(app, path)
        assert status in (302, 403), (path, status)
        assert CLIENT_NAME_EN not in body and "tiny_workshop" not in body
        if status == 302:
            assert dict(headers)["Location"].startswith("/login")
    assert app.kernels() == []  # no kernel was started for the anonymous render request


def test_token_url_logs_in_and_the_cookie_opens_the_other_pages(app: WorkshopServer):
    status, headers, body = _request(app, _path(app.url_for(lang="en")))
    assert status == 200 and CLIENT_NAME_EN in body
    cookies = [value.split(";", 1)[0] for name, value in headers if name.lower() == "set-cookie"]
    assert cookies, "a login cookie is set"
    status, _, body = _request(app, "/?lang=zh-TW", cookie="; ".join(cookies))
    assert status == 200 and "雲帳科技股份有限公司" in body


@pytest.mark.parametrize("host", ["attacker.example", "attacker.example:80", "192.0.2.7"])
def test_foreign_host_header_is_refused_even_with_the_token(app: WorkshopServer, host: str):
    status, _, body = _request(app, _path(app.url_for(lang="en")), host=host)
    assert status == 403
    assert CLIENT_NAME_EN not in body


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_local_host_names_are_accepted(app: WorkshopServer, host: str):
    status, _, body = _request(app, _path(app.url_for(lang="en")), host=f"{host}:{app.port}")
    assert status == 200 and CLIENT_NAME_EN in body


def test_voila_config_is_private_and_not_on_the_command_line(app: WorkshopServer):
    assert app.work_dir is not None
    config = app.work_dir / "config" / "voila.json"
    assert config.stat().st_mode & 0o077 == 0 and app.work_dir.stat().st_mode & 0o077 == 0
    voila = app.processes()[0]
    assert app.token not in " ".join(voila.cmdline())


# --- signals and orphans ------------------------------------------------------------------------


def _read_lines(stream, lines: queue.Queue) -> None:
    for raw in iter(stream.readline, b""):
        lines.put(raw.decode("utf-8", errors="replace"))


def _start_cli(tmp_path: Path) -> tuple[subprocess.Popen, queue.Queue, str]:
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
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TMPDIR": str(tmp_path)}
    cli = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True, env=env
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_read_lines, args=(cli.stdout, lines), daemon=True).start()
    output: list[str] = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and cli.poll() is None:
        with contextlib.suppress(queue.Empty):
            output.append(lines.get(timeout=1))
            found = re.search(r"Workshop running at (http://\S+)", output[-1])
            if found:
                return cli, lines, found.group(1)
    cli.kill()
    raise AssertionError("".join(output))


def _alive(procs: list[psutil.Process]) -> list[int]:
    return [p.pid for p in procs if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


def _wait_gone(procs: list[psutil.Process], seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while _alive(procs) and time.monotonic() < deadline:
        time.sleep(0.25)
    return _alive(procs)


@pytest.mark.parametrize(("sig", "open_notebook"), [(signal.SIGTERM, True), (signal.SIGHUP, False)])
def test_sigterm_and_sighup_stop_voila_kernels_and_remove_the_temp_folder(
    tmp_path: Path, sig: int, open_notebook: bool
):
    cli, lines, url = _start_cli(tmp_path)
    seen: list[psutil.Process] = []
    try:
        assert len(list(tmp_path.glob("kpitools-workshop-*"))) == 1
        if open_notebook:
            parts = urllib.parse.urlsplit(url)
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=90)
            conn.request("GET", _path(url))
            assert conn.getresponse().status == 200  # starts a kernel
            conn.close()
        seen = psutil.Process(cli.pid).children(recursive=True)
        assert len(seen) >= (2 if open_notebook else 1)
        os.kill(cli.pid, sig)  # the CLI process alone, as `kill` or a closed terminal does
        assert cli.wait(timeout=30) == 0
        time.sleep(0.2)
        output = []
        while not lines.empty():
            output.append(lines.get())
        assert "Workshop stopped." in "".join(output)
        assert _wait_gone(seen, 5) == []
        assert list(tmp_path.glob("kpitools-workshop-*")) == []
    finally:
        if cli.poll() is None:
            os.killpg(cli.pid, signal.SIGKILL)
            cli.wait(timeout=10)
        for proc in seen:
            with contextlib.suppress(psutil.Error):
                proc.kill()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_voila_and_kernels_stop_when_the_cli_is_killed(tmp_path: Path):
    cli, _, url = _start_cli(tmp_path)
    seen: list[psutil.Process] = []
    try:
        parts = urllib.parse.urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=90)
        conn.request("GET", _path(url))
        assert conn.getresponse().status == 200
        conn.close()
        seen = psutil.Process(cli.pid).children(recursive=True)
        assert len(seen) >= 2
        os.kill(cli.pid, signal.SIGKILL)  # no clean-up code can run in the CLI itself
        cli.wait(timeout=10)
        assert _wait_gone(seen, 20) == []
        # Its temp folder stays behind; the next start removes it (and only it).
        (left,) = tmp_path.glob("kpitools-workshop-*")
        live = tmp_path / f"kpitools-workshop-{os.getpid()}-abc"
        live.mkdir()
        assert remove_stale_work_dirs(tmp_path) == [left]
        assert live.is_dir() and not left.exists()
    finally:
        for proc in seen:
            with contextlib.suppress(psutil.Error):
                proc.kill()
