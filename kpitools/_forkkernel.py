"""Jupyter kernels forked from a process that has already imported the kernel's libraries.

A fresh IPython kernel that imports pandas, Ibis, DuckDB, matplotlib, SciPy and kpitools
spends two to three seconds of CPU before its first cell, and holds 250-300 MB of its own. Every
report and every workshop page starts one. A *fork server* pays that once: it imports the
libraries (and may load the clients the kernels will read, through the content-keyed cache of
:func:`kpitools.io.client.load_client`), then waits on a Unix socket. Each kernel start asks it
for a kernel; it forks, and the child turns into an ordinary ipykernel process reading the
connection file it was given. The kernel starts in milliseconds, and the pages it shares with
the server and its siblings (copy-on-write) are counted once.

Pieces:

* :func:`serve` -- the server's loop (``python -m kpitools._forkkernel --socket ...``);
* :class:`ForkServer` -- starts a server process and stops it;
* :class:`ForkProvisioner` -- a jupyter_client kernel provisioner that asks a server instead of
  starting a new interpreter; a kernel spec names it (Voilà), or :class:`ForkKernelManager`
  uses it directly (the report runner, through papermill's ``km=``).

The kernels are real, separate processes: a crash or ``sys.exit`` in one of them touches
neither the server nor other kernels, and jupyter_client interrupts, restarts and stops them as
usual (each kernel leads its own process group). A kernel exits when the process that manages
it (Voilà, a report worker) is gone; the server exits when the process that started it is
gone. The socket lives in an owner-only temporary folder.

This module imports nothing of kpitools at module level: Voilà loads it (copied beside its
other start-up files as ``kpitools_forkkernel``) without importing pandas into the server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import importlib
import json
import os
import pickle
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jupyter_client.provisioning import LocalProvisioner
from traitlets import Float, Integer, Unicode

#: Modules a kernel for kpitools' notebooks imports; the server imports them before forking.
DEFAULT_PRELOAD = (
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.comm",
    "matplotlib_inline.backend_inline",
    "matplotlib.pyplot",
    "numpy",
    "pandas",
    "scipy.special",
    "scipy.optimize",
    "duckdb",
    "ibis",
    "ibis.backends.duckdb",
    "ipywidgets",
    "kpitools",
    "kpitools.report",
    "kpitools.report.sections",
    "kpitools.insights",
    "kpitools.goals",
    "kpitools.plots",
    "kpitools.workshop",
    # imported on first use while loading a client, computing KPIs or writing report.xlsx
    "pandera.pandas",
    "pandera.strategies",
    "python_calamine",
    "openpyxl",
    "openpyxl.writer.excel",
    "pyarrow.pandas_compat",
    "ibis.backends.duckdb.converter",
    "ibis.expr.types.groupby",
    "ibis.formats.numpy",
    "ibis.formats.pandas",
    "ibis.formats.pyarrow",
    "pandas.core.methods.to_dict",
    "kpitools.*",  # every module of the package (see _import_all)
)
#: What only some reports import (customer-value models; validating a client that was not
#: loaded ahead): a report batch's server imports them once its first kernels are running.
REPORT_LATER = ("scipy.optimize", "pandera.pandas", "pandera.strategies")
#: What a report's kernel imports: the above without the workshop's widgets.
REPORT_PRELOAD = (
    *(name for name in DEFAULT_PRELOAD
      if name not in ("ipywidgets", "kpitools.workshop", "kpitools.*", *REPORT_LATER)),
    *(f"kpitools.{package}.*" for package in (
        "catalog", "goals", "i18n", "insights", "io", "metrics", "models", "plots", "report",
        "schemas")),
    "kpitools._engine",
    "kpitools.periods",
)
#: The inline backend a kernel uses; set before matplotlib is imported, as ipykernel would.
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
#: Name under which kernel specs refer to :class:`ForkProvisioner`.
PROVISIONER_NAME = "kpitools-fork"
#: Seconds a kernel start waits for the server (it may still be importing or loading clients).
CONNECT_TIMEOUT_S = 120.0
#: How often the server and each kernel look whether the process they serve is still there.
WATCH_S = 1.0
#: How long the server waits for kernel requests before doing idle work (imports, loading);
#: a kernel start asks every 0.05 s while the socket is not there yet.
IDLE_S = 0.1
#: Clients a report batch's server loads ahead while no kernel is asked for (more would only
#: push earlier ones out of load_client's small cache); the others are loaded when asked for.
IDLE_LOADS = 3
_SOCKET_NAME = "kernels.sock"
_MAX_SOCKET_PATH = 100  # sockaddr_un holds 108 bytes on Linux, 104 on macOS
_MAX_REQUEST = 4 * 1024 * 1024


def fork_kernels_enabled() -> bool:
    """Whether kernels should come from a fork server here: on Linux unless the environment
    says ``KPITOOLS_FORK_KERNELS=0``; elsewhere only with ``KPITOOLS_FORK_KERNELS=1`` (macOS
    system libraries are not safe to use in a forked child, which is why Python's own
    multiprocessing stopped forking there)."""
    setting = os.environ.get("KPITOOLS_FORK_KERNELS", "")
    if not hasattr(os, "fork") or setting == "0":
        return False
    return setting == "1" or sys.platform.startswith("linux")


# ------------------------------------------------------------------------------ the server
def serve(socket_path: str, parent_pid: int, preload: Sequence[str] = DEFAULT_PRELOAD,
          warm_clients: Sequence[str] = (), listen_early: bool = False,
          later: Sequence[str] = (), left_out: Sequence[str] = ()) -> None:
    """Import ``preload``, load ``warm_clients``, and fork a kernel for each request.

    Runs until SIGTERM/SIGINT or until ``parent_pid`` is gone. The socket appears once the
    modules are imported and, unless ``listen_early``, the clients loaded, so a kernel start
    simply waits for it. With ``listen_early`` (a report batch) the clients are loaded one by
    one between requests: the first kernels load their client themselves, in parallel with
    the server, and later ones find it loaded. Modules in ``later`` (needed by some kernels
    only) are imported once the socket is there, between requests. Modules in ``left_out``
    cannot be imported by the server nor its kernels (a report's kernel leaves out the
    debugger and pandera's test-data generator: see :mod:`kpitools.report._kernel`).
    """
    for name in left_out:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]  # makes its import fail
    os.environ.setdefault("MPLBACKEND", INLINE_BACKEND)
    pending = list(warm_clients)
    # A report batch (listen_early) has its first clients loaded by a child while this process
    # imports the rest: start-up otherwise leaves the second core idle, and the first kernels
    # wait for both. The workshop loads them here, as before: what loading sets up (parsers,
    # caches) is then shared with every kernel, and measured with either way, its start-up and
    # memory were the same (server up 2.7-2.8 s; 934 vs 946 MB with the pool warm).
    loader = _Loader.start(pending[:IDLE_LOADS]) if listen_early else None
    if loader is not None:
        pending = pending[IDLE_LOADS:]
    for name in preload:
        _preload(name)
    _warm_fonts()
    _warm_caches()
    if not listen_early:
        _load_clients(pending)
        pending = []
    _freeze()

    stop = threading.Event()
    selecting = [False]

    def _stop(_signum: int, _frame: Any) -> None:
        stop.set()
        if selecting[0]:  # end the wait now (select would go on waiting after a signal)
            raise _Stopped

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    partial = socket_path + ".partial"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(partial)
    listener.bind(partial)
    listener.listen(32)
    os.replace(partial, socket_path)  # appears complete, never half-bound
    idle_loads = 0 if loader is None else IDLE_LOADS
    later = [name for name in later if name not in preload]
    try:
        while not stop.is_set() and _alive(parent_pid):
            _reap()
            watched: list[Any] = [listener]
            if loader is not None and loader.waiting:
                watched.append(loader)
            # idle work only once no request has come for IDLE_S: requests come first
            wait = IDLE_S if later or (pending and idle_loads < IDLE_LOADS) else WATCH_S
            selecting[0] = True
            try:
                ready, _, _ = select.select(watched, [], [], wait)
            except InterruptedError:
                continue
            except _Stopped:
                break
            finally:
                selecting[0] = False
            if loader is not None and loader in ready:
                if loader.receive():
                    _freeze()
            elif ready:
                connection, _ = listener.accept()
                with connection:
                    _answer(connection, listener, pending, loader)
            elif later:
                _preload(later.pop(0))
                _freeze()
            elif pending and idle_loads < IDLE_LOADS:
                idle_loads += 1
                _load_clients([pending.pop(0)])
                _freeze()
    finally:
        listener.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(socket_path)
        _reap()


class _Stopped(Exception):
    """Raised by the server's SIGTERM/SIGINT handler while it waits for requests."""


def _preload(name: str) -> None:
    """Import a module (``pkg.*``: a package and all its modules), quietly: a module that fails
    here fails again, with its real traceback, in the kernel that needs it."""
    with contextlib.suppress(Exception):
        if name.endswith(".*"):
            _import_all(name[:-2])
        else:
            importlib.import_module(name)


#: Modules of a package that a kernel never needs (the app server, the command line).
_SKIP_SUBMODULES = ("app", "commands", "cli", "__main__", "_forkkernel")


def _import_all(package: str) -> None:
    """Import ``package`` and every module in it, but those in :data:`_SKIP_SUBMODULES`."""
    import pkgutil

    root = importlib.import_module(package)
    for info in pkgutil.walk_packages(root.__path__, prefix=package + "."):
        if info.name[len(package) + 1:].split(".")[0] in _SKIP_SUBMODULES:
            continue
        with contextlib.suppress(Exception):
            importlib.import_module(info.name)


def _freeze() -> None:
    """Keep the collector off the objects that exist now: they are shared with every kernel,
    and collecting would write to (and so copy) their pages in each kernel."""
    gc.collect()
    gc.freeze()


def _load_clients(client_dirs: Sequence[str]) -> None:
    """Load clients into :func:`kpitools.io.client.load_client`'s cache, for kernels to find."""
    if not client_dirs:
        return
    with contextlib.suppress(Exception):
        from kpitools.io.client import load_client

        for client_dir in client_dirs:
            with contextlib.suppress(Exception):  # the report itself says what is wrong
                load_client(client_dir)


class _Loader:
    """A child process that loads clients and sends each, pickled, back through a pipe.

    The server forks it as soon as the loader's own imports are done, and goes on importing
    the kernel's libraries meanwhile; what arrives is put into ``load_client``'s cache. A
    client that fails to load is sent back as None: its kernel loads it and reports why.
    """

    def __init__(self, fd: int, client_dirs: Sequence[str]) -> None:
        self.fd: int | None = fd
        self.waiting = list(client_dirs)
        self._buffer = b""

    @classmethod
    def start(cls, client_dirs: Sequence[str]) -> _Loader | None:
        """Fork the loader for ``client_dirs``; None when there is nothing to load or no fork."""
        if not client_dirs or not hasattr(os, "fork"):
            return None
        try:  # what loading needs, imported once here rather than in both processes
            for name in _LOADER_IMPORTS:
                importlib.import_module(name)
        except Exception:
            return None
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the loader
            code = 1
            try:
                os.close(read_end)
                code = _send_clients(client_dirs, write_end)
            finally:
                os._exit(code)
        os.close(write_end)
        return cls(read_end, client_dirs)

    def fileno(self) -> int:
        assert self.fd is not None
        return self.fd

    def receive(self) -> bool:
        """Read what the loader has sent (blocks until some bytes come); True if a client
        arrived. At the end of the pipe nothing more is waited for."""
        assert self.fd is not None
        chunk = os.read(self.fd, 1 << 20)
        if not chunk:
            self.close()
            return False
        self._buffer += chunk
        arrived = False
        while len(self._buffer) >= _LENGTH_BYTES:
            size = int.from_bytes(self._buffer[:_LENGTH_BYTES], "big")
            if len(self._buffer) < _LENGTH_BYTES + size:
                break
            message = self._buffer[_LENGTH_BYTES:_LENGTH_BYTES + size]
            self._buffer = self._buffer[_LENGTH_BYTES + size:]
            client_dir, entry = pickle.loads(message)  # our own child's, via a private pipe
            if entry is not None:
                from kpitools.io.client import _cache_put

                _cache_put(*entry)
                arrived = True
            with contextlib.suppress(ValueError):
                self.waiting.remove(client_dir)
        return arrived

    def wait_for(self, client_dir: str) -> None:
        """Block until ``client_dir`` has arrived or the loader has ended."""
        while self.fd is not None and client_dir in self.waiting:
            self.receive()

    def close(self) -> None:
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.close(self.fd)
        self.fd = None
        self.waiting = []


_LENGTH_BYTES = 8
#: Modules loading a client imports (reading, validating, checking goals against the catalog).
_LOADER_IMPORTS = ("kpitools.io.client", "kpitools.io.loaders", "kpitools.schemas._validate",
                   "pandera.pandas", "kpitools.goals", "python_calamine")


def _send_clients(client_dirs: Sequence[str], fd: int) -> int:
    """In the loader child: load each client, write ``(client_dir, cache entry or None)``."""
    from kpitools.io.client import _cache_entry, load_client

    server = os.getppid()
    for client_dir in client_dirs:
        if os.getppid() != server:  # the server is gone: nobody to load for
            return 1
        entry = None
        with contextlib.suppress(Exception):  # the kernel will load it and say what is wrong
            load_client(client_dir)
            entry = _cache_entry(client_dir)
        message = pickle.dumps((client_dir, entry), protocol=pickle.HIGHEST_PROTOCOL)
        data = memoryview(len(message).to_bytes(_LENGTH_BYTES, "big") + message)
        try:
            while data:
                data = data[os.write(fd, data):]
        except OSError:  # the server is gone
            return 1
    os.close(fd)
    return 0


def _warm_caches(package: str = "kpitools") -> None:
    """Fill the cached loaders of ``package`` (catalog, texts, presets: YAML files) that take no
    argument, so that kernels inherit them parsed."""
    import functools
    import inspect

    for name, module in list(sys.modules.items()):
        if module is None or not (name == package or name.startswith(package + ".")):
            continue
        for value in list(vars(module).values()):
            if not (isinstance(value, functools._lru_cache_wrapper)
                    and getattr(value, "__module__", None) == name):
                continue
            with contextlib.suppress(Exception):
                parameters = inspect.signature(value.__wrapped__).parameters.values()
                if all(p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
                       for p in parameters):
                    value()


def _warm_fonts() -> None:
    """Draw one chart with Chinese text, so kernels inherit the loaded fonts."""
    with contextlib.suppress(Exception):
        import io

        import matplotlib

        matplotlib.use("agg")  # a throw-away figure; the kernel sets its own backend
        from matplotlib.figure import Figure

        with contextlib.suppress(Exception):
            from kpitools.plots import use_cjk_font

            use_cjk_font()
        figure = Figure(figsize=(2, 1))
        figure.subplots().set_title("營收 Revenue 0123")
        figure.savefig(io.BytesIO(), format="png")
        matplotlib.rcdefaults()
        matplotlib.use(os.environ.get("MPLBACKEND", INLINE_BACKEND))


def _answer(connection: socket.socket, listener: socket.socket, pending: list[str],
            loader: _Loader | None = None) -> None:
    """Read one request, fork the kernel, reply with its pid (or the reason it failed).

    A request may name the client its kernel will read; if that client is still waiting in
    ``pending`` it is loaded first, so the kernel (and every later one) inherits it.
    """
    connection.settimeout(10)
    try:
        request = json.loads(_read_all(connection))
        argv = [str(a) for a in request["argv"]]
        env = {str(k): str(v) for k, v in (request.get("env") or os.environ).items()}
        cwd = str(request.get("cwd") or os.getcwd())
        manager_pid = int(request.get("manager_pid") or 0)
        arguments = _kernel_arguments(argv)
        client = request.get("client")
    except (ValueError, KeyError, TypeError, OSError) as exc:
        _reply(connection, {"error": f"bad kernel request: {exc}"})
        return
    if client in pending:
        pending.remove(client)
        _load_clients([client])
        _freeze()
    elif loader is not None and client in loader.waiting:
        loader.wait_for(client)
        _freeze()
    pid = os.fork()
    if pid == 0:  # the kernel
        code = 1
        try:
            connection.close()
            listener.close()
            if loader is not None:
                loader.close()
            code = _become_kernel(arguments, env, cwd, manager_pid)
        finally:
            os._exit(code)
    _reply(connection, {"pid": pid})


def _kernel_arguments(argv: list[str]) -> list[str]:
    """The ipykernel arguments of a kernel command (``... -m ipykernel_launcher -f f.json``)."""
    for marker in ("ipykernel_launcher", "ipykernel"):
        if marker in argv:
            return argv[argv.index(marker) + 1:]
    raise ValueError(f"not an ipykernel command: {argv[:3]}")


def _become_kernel(arguments: list[str], env: dict[str, str], cwd: str,
                   manager_pid: int) -> int:
    """Run an ipykernel in this (forked) process until it is shut down; return an exit code."""
    os.setsid()  # its own process group, which jupyter_client signals as a whole
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
        signal.signal(signum, signal.SIG_DFL)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.chdir(cwd)
    env.setdefault("MPLBACKEND", os.environ.get("MPLBACKEND", INLINE_BACKEND))
    os.environ.clear()
    os.environ.update(env)
    gc.unfreeze()
    if manager_pid:
        threading.Thread(target=_exit_without, args=(manager_pid,), daemon=True).start()
    sys.argv = [sys.executable, *arguments]
    import atexit

    from ipykernel import kernelapp

    code = 0
    try:
        kernelapp.launch_new_instance(argv=arguments)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    with contextlib.suppress(Exception):
        atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    return code


def _exit_without(pid: int) -> None:
    """End this kernel once the process managing it is gone (as ipykernel's parent poller)."""
    while _alive(pid):
        time.sleep(WATCH_S)
    os._exit(1)


def _alive(pid: int) -> bool:
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped) counts as gone
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _reap() -> None:
    """Collect the exit status of kernels that ended, so none lingers as a zombie."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _read_all(connection: socket.socket) -> bytes:
    chunks = []
    size = 0
    while True:
        chunk = connection.recv(65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > _MAX_REQUEST:
            raise ValueError("request too large")


def _reply(connection: socket.socket, message: dict[str, Any]) -> None:
    with contextlib.suppress(OSError):
        connection.sendall(json.dumps(message).encode())


# ------------------------------------------------------------------------------ client side
def request_kernel(socket_path: str, argv: Sequence[str], env: dict[str, str] | None,
                   cwd: str | None, client: str | None = None) -> int:
    """Ask the server at ``socket_path`` for a kernel; return its pid (blocking, one try).

    ``client`` names the client folder the kernel will load (the server loads it first when
    it was asked to warm it and has not yet).
    """
    payload = json.dumps({"argv": list(argv), "env": env, "cwd": cwd, "client": client,
                          "manager_pid": os.getpid()}).encode()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(30)
        sock.connect(socket_path)
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        answer = json.loads(_read_all(sock) or b"{}")
    if "pid" not in answer:
        raise RuntimeError(answer.get("error") or "the kernel fork server sent no answer")
    return int(answer["pid"])


class ForkedProcess:
    """The part of :class:`subprocess.Popen` that jupyter_client uses, for a forked kernel.

    The kernel is the server's child, not ours: liveness comes from the pid (a zombie counts
    as ended) and the exit status is not known (``returncode`` is 0 once it has ended).
    """

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and not _alive(self.pid):
            self.returncode = 0
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout or 0)
            time.sleep(0.05)
        return self.returncode or 0

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class ForkProvisioner(LocalProvisioner):
    """Kernel provisioner that gets its kernels from a fork server (``socket_path``).

    Kernel spec metadata for Voilà::

        "kernel_provisioner": {"provisioner_name": "kpitools-fork",
                               "config": {"socket_path": "/tmp/.../kernels.sock"}}
    """

    socket_path = Unicode(config=True, help="Unix socket of the fork server.")
    server_pid = Integer(0, config=True, help="The fork server's pid (0: unknown).")
    connect_timeout = Float(CONNECT_TIMEOUT_S, config=True,
                            help="Seconds to wait for the server to be ready.")
    client = Unicode("", config=True, help="Client folder the kernel will load, if known.")

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        env = kwargs.get("env")
        cwd = os.fspath(kwargs.get("cwd") or os.getcwd())
        deadline = time.monotonic() + self.connect_timeout
        while True:
            try:
                pid = request_kernel(self.socket_path, cmd, env, cwd, self.client or None)
                break
            except (FileNotFoundError, ConnectionRefusedError) as exc:
                if self.server_pid and not _alive(self.server_pid):
                    raise RuntimeError(
                        f"The kernel fork server (pid {self.server_pid}) has stopped; its "
                        "errors are in the server's log."
                    ) from exc
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"The kernel fork server at {self.socket_path} did not answer within "
                        f"{self.connect_timeout:.0f} s ({exc})."
                    ) from exc
                await asyncio.sleep(0.05)
        self.process = ForkedProcess(pid)
        self.pid = pid
        self.pgid = pid  # the kernel called setsid(): it leads its own group
        self.cwd = cwd
        return self.connection_info


def register_provisioner(module: str = __name__) -> None:
    """Make :data:`PROVISIONER_NAME` known to jupyter_client in this process (no entry point
    needed; ``module`` is the name this file is imported under)."""
    from importlib.metadata import EntryPoint

    from jupyter_client.provisioning.factory import KernelProvisionerFactory

    KernelProvisionerFactory.provisioners[PROVISIONER_NAME] = EntryPoint(
        PROVISIONER_NAME, f"{module}:ForkProvisioner", KernelProvisionerFactory.GROUP_NAME)


def kernel_spec(socket_path: str, server_pid: int = 0) -> dict[str, Any]:
    """A ``kernel.json`` for an IPython kernel that the fork server at ``socket_path`` (process
    ``server_pid``) starts."""
    return {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "metadata": {"debugger": False, "kernel_provisioner": {
            "provisioner_name": PROVISIONER_NAME,
            "config": {"socket_path": socket_path, "server_pid": server_pid}}},
    }


def fork_kernel_manager(socket_path: str, client: str | None = None, server_pid: int = 0,
                        **kwargs: Any) -> Any:
    """A jupyter_client ``KernelManager`` whose kernel comes from the server at
    ``socket_path`` (pass it to papermill as ``km=``); ``client``: see :func:`request_kernel`."""
    from jupyter_client.manager import KernelManager

    class ForkKernelManager(KernelManager):
        async def _async_pre_start_kernel(self, **kw: Any) -> Any:
            if self.provisioner is None:
                import uuid

                self.kernel_id = self.kernel_id or kw.pop("kernel_id", str(uuid.uuid4()))
                self.provisioner = ForkProvisioner(
                    kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self,
                    socket_path=socket_path, server_pid=server_pid,
                    client=os.path.abspath(client) if client else "")
            return await super()._async_pre_start_kernel(**kw)

    return ForkKernelManager(**kwargs)


class ForkServer:
    """A fork server process for this process's kernels, as a context manager.

    Parameters
    ----------
    preload : modules to import before forking.
    warm_clients : client folders to load before forking (their kernels then find them in
        :func:`kpitools.io.client.load_client`'s cache).
    env : environment of the server (and so of its kernels' imports); default this one's.
    stderr : where the server and its kernels write errors; default this process's.
    listen_early : take kernel requests once the modules are imported, loading the clients
        between requests (or first when a kernel asks for one); a report batch does.
    later : modules some kernels need, imported once requests are taken.
    left_out : modules neither the server nor its kernels can import.
    """

    def __init__(self, preload: Sequence[str] = DEFAULT_PRELOAD,
                 warm_clients: Sequence[str | os.PathLike[str]] = (),
                 env: dict[str, str] | None = None, stderr: Any = None,
                 listen_early: bool = False, later: Sequence[str] = (),
                 left_out: Sequence[str] = ()) -> None:
        self.listen_early = listen_early
        self.later = list(later)
        self.left_out = list(left_out)
        self.preload = list(preload)
        self.warm_clients = [os.path.abspath(c) for c in warm_clients]
        self.env = env
        self.stderr = stderr
        self.process: subprocess.Popen[bytes] | None = None
        self.folder: Path | None = None

    @property
    def socket_path(self) -> str:
        assert self.folder is not None, "start() the server first"
        return os.fspath(self.folder / _SOCKET_NAME)

    def start(self) -> ForkServer:
        """Start the server (it keeps loading in the background); return self."""
        if self.process is not None:
            return self
        self.folder = _socket_folder()
        source = Path(__file__).resolve()
        command = [sys.executable, os.fspath(source), "--socket", self.socket_path,
                   "--parent", str(os.getpid())]
        if self.preload != list(DEFAULT_PRELOAD):  # the server's default otherwise
            for name in self.preload:
                command += ["--preload", name]
        for client in self.warm_clients:
            command += ["--warm", client]
        if self.listen_early:
            command.append("--listen-early")
        for name in self.later:
            command += ["--later", name]
        for name in self.left_out:
            command += ["--leave-out", name]
        env = dict(self.env if self.env is not None else os.environ)
        # the server runs this file as a script: the folder holding kpitools must be importable
        package_root = os.fspath(source.parents[1])
        if (Path(package_root) / "kpitools" / "__init__.py").is_file():
            env["PYTHONPATH"] = os.pathsep.join(
                p for p in (package_root, env.get("PYTHONPATH")) if p)
        self.process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=self.stderr,
                                        cwd=self.folder)
        return self

    def wait_ready(self, timeout: float = CONNECT_TIMEOUT_S) -> bool:
        """Wait until the server accepts kernel requests; False after ``timeout`` or if it died."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            if os.path.exists(self.socket_path):
                return True
            time.sleep(0.05)
        return False

    def pids(self) -> list[int]:
        """The server's pid (empty when not running)."""
        if self.process is None or self.process.poll() is not None:
            return []
        return [self.process.pid]

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the server (kernels already started keep running until their manager stops
        them or exits)."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout)
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def __enter__(self) -> ForkServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _socket_folder() -> Path:
    """A new owner-only folder for the socket, short enough for a Unix socket path (about 100
    bytes at most: a deep TMPDIR falls back to /tmp)."""
    folder = Path(tempfile.mkdtemp(prefix="kpitools-kernels-"))  # mode 0700
    if len(os.fsencode(folder / _SOCKET_NAME)) < _MAX_SOCKET_PATH:
        return folder
    folder.rmdir()
    return Path(tempfile.mkdtemp(prefix="kpitools-kernels-", dir="/tmp"))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fork server of kpitools' Jupyter kernels.")
    parser.add_argument("--socket", required=True)
    parser.add_argument("--parent", type=int, default=os.getppid())
    parser.add_argument("--preload", action="append", default=None)
    parser.add_argument("--warm", action="append", default=[])
    parser.add_argument("--listen-early", action="store_true")
    parser.add_argument("--later", action="append", default=[])
    parser.add_argument("--leave-out", action="append", default=[])
    args = parser.parse_args(argv)
    serve(args.socket, args.parent, DEFAULT_PRELOAD if args.preload is None else args.preload,
          args.warm, args.listen_early, args.later, args.leave_out)


if __name__ == "__main__":
    # Run as a script (not ``-m``) so that this file's folder, not kpitools, is sys.path[0]:
    # drop it, a kernel must not see kpitools' private modules as top-level ones.
    if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
        del sys.path[0]
    main()
