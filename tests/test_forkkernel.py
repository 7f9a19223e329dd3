"""The kernel fork server (kpitools._forkkernel): real kernels, quick to start, none left over."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from kpitools._forkkernel import (
    ForkedProcess,
    ForkServer,
    _alive,
    fork_kernel_manager,
    kernel_spec,
)

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

# A light server: these tests are about processes, not about kpitools' imports.
LIGHT = ("ipykernel.kernelapp", "json")


def _run(km, code: str) -> str:
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        out: list[str] = []
        reply = kc.execute_interactive(
            code, timeout=60,
            output_hook=lambda m: out.append(m["content"].get("text", "")))
        assert reply["content"]["status"] == "ok", reply["content"]
        return "".join(out).strip()
    finally:
        kc.stop_channels()


def _wait_gone(pid: int, seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return False


@pytest.fixture(scope="module")
def server():
    with ForkServer(preload=LIGHT) as srv:
        assert srv.wait_ready(60)
        yield srv


def test_kernel_runs_code_in_its_own_process_group_and_stops(server, tmp_path):
    km = fork_kernel_manager(server.socket_path, kernel_name="python3")
    km.start_kernel(cwd=os.fspath(tmp_path))
    try:
        pid, ppid, pgid, cwd, modules = _run(km, textwrap.dedent("""
            import os, sys
            print(os.getpid(), os.getppid(), os.getpgid(0), os.getcwd(), 'json' in sys.modules)
        """)).split()
    finally:
        km.shutdown_kernel(now=False)
    assert int(ppid) == server.pids()[0]  # forked by the server
    assert pgid == pid  # leads its own group: jupyter_client signals the group
    assert cwd == os.fspath(tmp_path)
    assert modules == "True"  # inherited the server's imports
    assert _wait_gone(int(pid))


def test_interrupt_reaches_the_kernel(server):
    km = fork_kernel_manager(server.socket_path, kernel_name="python3")
    km.start_kernel()
    try:
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        msg_id = kc.execute("import time; time.sleep(60)")
        time.sleep(1.0)
        km.interrupt_kernel()
        deadline = time.monotonic() + 20
        status = None
        while time.monotonic() < deadline and status is None:
            reply = kc.get_shell_msg(timeout=20)
            if reply["parent_header"].get("msg_id") == msg_id:
                status = reply["content"]["status"]
        kc.stop_channels()
        assert status == "error"  # KeyboardInterrupt ended the cell
        assert km.is_alive()
    finally:
        km.shutdown_kernel(now=True)


def test_kernel_ends_when_its_manager_is_killed(server, tmp_path):
    # A manager process that starts a kernel, prints its pid, then waits to be killed.
    script = tmp_path / "manager.py"
    script.write_text(textwrap.dedent(f"""
        import sys, time
        from kpitools._forkkernel import fork_kernel_manager
        km = fork_kernel_manager({server.socket_path!r}, kernel_name="python3")
        km.start_kernel()
        print(km.provisioner.pid, flush=True)
        time.sleep(600)
    """), encoding="utf-8")
    manager = subprocess.Popen([sys.executable, os.fspath(script)], stdout=subprocess.PIPE,
                               text=True)
    try:
        kernel_pid = int(manager.stdout.readline())
        assert _alive(kernel_pid)
        manager.send_signal(signal.SIGKILL)
        manager.wait(10)
        assert _wait_gone(kernel_pid)
    finally:
        if manager.poll() is None:
            manager.kill()


def test_server_ends_when_its_parent_is_killed(tmp_path):
    script = tmp_path / "parent.py"
    script.write_text(textwrap.dedent(f"""
        import time
        from kpitools._forkkernel import ForkServer
        srv = ForkServer(preload={list(LIGHT)!r}).start()
        srv.wait_ready(60)
        print(srv.process.pid, flush=True)
        time.sleep(600)
    """), encoding="utf-8")
    parent = subprocess.Popen([sys.executable, os.fspath(script)], stdout=subprocess.PIPE,
                              text=True)
    try:
        server_pid = int(parent.stdout.readline())
        parent.kill()
        parent.wait(10)
        assert _wait_gone(server_pid)
    finally:
        if parent.poll() is None:
            parent.kill()


def test_a_request_that_is_not_an_ipykernel_command_is_refused(server):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(server.socket_path)
        sock.sendall(json.dumps({"argv": ["/bin/sh", "-c", "touch /tmp/x"]}).encode())
        sock.shutdown(socket.SHUT_WR)
        answer = json.loads(sock.recv(65536))
    assert "not an ipykernel command" in answer["error"]


def test_socket_folder_is_private(server):
    mode = os.stat(os.path.dirname(server.socket_path)).st_mode & 0o777
    assert mode == 0o700


def test_forked_process_reports_an_ended_kernel():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    process = ForkedProcess(child.pid)
    assert process.poll() == 0
    assert process.wait(1) == 0


def test_kernel_spec_names_the_provisioner_and_socket():
    spec = kernel_spec("/tmp/k/kernels.sock")
    provisioner = spec["metadata"]["kernel_provisioner"]
    assert provisioner == {"provisioner_name": "kpitools-fork",
                           "config": {"socket_path": "/tmp/k/kernels.sock", "server_pid": 0}}
    assert spec["argv"][-2:] == ["-f", "{connection_file}"]


def test_a_deep_temp_folder_still_gives_a_short_socket_path(tmp_path, monkeypatch):
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    monkeypatch.setenv("TMPDIR", os.fspath(deep))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    with ForkServer(preload=LIGHT) as srv:
        assert len(os.fsencode(srv.socket_path)) < 108
        assert srv.wait_ready(60)


def test_a_kernel_start_fails_fast_when_the_server_is_gone(tmp_path):
    srv = ForkServer(preload=LIGHT).start()
    assert srv.wait_ready(60)
    socket_path, pid = srv.socket_path, srv.pids()[0]
    srv.process.kill()
    srv.process.wait(10)
    os.unlink(socket_path)
    km = fork_kernel_manager(socket_path, server_pid=pid, kernel_name="python3")
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="has stopped"):
        km.start_kernel()
    assert time.monotonic() - started < 10
    srv.stop()


def test_forking_is_on_for_linux_and_can_be_switched(monkeypatch):
    from kpitools import _forkkernel

    monkeypatch.delenv("KPITOOLS_FORK_KERNELS", raising=False)
    monkeypatch.setattr(_forkkernel.sys, "platform", "linux")
    assert _forkkernel.fork_kernels_enabled()
    monkeypatch.setenv("KPITOOLS_FORK_KERNELS", "0")
    assert not _forkkernel.fork_kernels_enabled()
    monkeypatch.setattr(_forkkernel.sys, "platform", "darwin")
    monkeypatch.delenv("KPITOOLS_FORK_KERNELS")
    assert not _forkkernel.fork_kernels_enabled()  # macOS: only when asked for
    monkeypatch.setenv("KPITOOLS_FORK_KERNELS", "1")
    assert _forkkernel.fork_kernels_enabled()


@pytest.mark.parametrize("listen_early", [True, False])
def test_clients_loaded_ahead_reach_the_kernels(tmp_path, listen_early):
    # A report batch's server (listen_early) hands its first clients to a child that loads
    # them while the server imports; the workshop's loads them itself. Either way a kernel
    # forked afterwards must find them in load_client's cache, equal to a fresh load.
    # A client that cannot be loaded (client.yml names a file that is not there) arrives as
    # nothing, and its kernel still starts (it will load the client and report the problem).
    import shutil

    from kpitools.io.client import load_client

    good = tmp_path / "good"
    shutil.copytree(os.path.join(os.path.dirname(__file__), "..", "data", "sample", "pandablog"),
                    good)
    broken = tmp_path / "broken"
    shutil.copytree(good, broken)
    (broken / "web_traffic.csv").unlink()
    expected = load_client(good)
    probe = textwrap.dedent("""
        import json
        from pathlib import Path
        from kpitools.io import client as c
        hit = c._CACHE.get(str(Path({folder!r}).resolve()))
        print(json.dumps(None if hit is None else {{
            name: [len(t), float(t.select_dtypes('number').sum().sum())]
            for name, t in hit[1].tables.items()}}))
    """)
    with ForkServer(preload=(*LIGHT, "kpitools.io.client"), warm_clients=[good, broken],
                    listen_early=listen_early) as srv:
        assert srv.wait_ready(120)
        seen = {}
        for folder in (good, broken):
            km = fork_kernel_manager(srv.socket_path, client=os.fspath(folder),
                                     kernel_name="python3")
            km.start_kernel()
            try:
                seen[folder] = json.loads(_run(km, probe.format(folder=os.fspath(folder))))
            finally:
                km.shutdown_kernel(now=True)
        deadline = time.monotonic() + 10  # the server reaps ended children once a second
        while True:
            children = subprocess.run(["ps", "--ppid", str(srv.pids()[0]), "-o", "stat="],
                                      capture_output=True, text=True).stdout.split()
            if not children or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    assert seen[good] == {
        name: [len(t), pytest.approx(float(t.select_dtypes("number").sum().sum()))]
        for name, t in expected.tables.items()}
    assert seen[broken] is None
    assert children == []  # the loader and the kernels were reaped
