"""Child processes kept in their parent's care: they stop when the parent goes away.

Two tools, used by the workshop server (Voilà) and the report runner (worker processes):

- :func:`die_with_parent` asks Linux to send a signal to this process when its parent exits
  (``prctl(PR_SET_PDEATHSIG)``); a no-op on other systems. Meant for ``preexec_fn``.
- :func:`watch_parent` starts a daemon thread that notices the parent is gone (the process
  has been re-parented), stops this process's own children (kernels) and exits. It works on
  every POSIX system and also covers a parent killed with ``SIGKILL``.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time

__all__ = ["die_with_parent", "pid_running", "stop_children", "terminate", "watch_parent"]

#: prctl option that sets the parent-death signal (linux/prctl.h).
_PR_SET_PDEATHSIG = 1
#: Seconds between two looks at the parent process.
PARENT_POLL_S = 0.5
#: Seconds children get to exit after SIGTERM before they are killed.
CHILD_STOP_TIMEOUT_S = 5.0
#: Exit code of a worker whose parent has gone (128 + SIGHUP, as a shell would report it).
ORPHAN_EXIT_CODE = 128 + signal.SIGHUP


def die_with_parent(sig: int = signal.SIGTERM, parent_pid: int | None = None) -> None:
    """Have the kernel send ``sig`` to this process when its parent exits (Linux only).

    When ``parent_pid`` is given and the parent is already gone, the signal is sent at once.
    """
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    if parent_pid is not None and os.getppid() != parent_pid:
        os.kill(os.getpid(), sig)


def stop_children(timeout: float = CHILD_STOP_TIMEOUT_S) -> None:
    """SIGTERM every descendant of this process, wait, then SIGKILL the ones still running."""
    import psutil

    with contextlib.suppress(psutil.Error):
        terminate(psutil.Process().children(recursive=True), timeout)


def pid_running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (dead, waiting to be reaped)."""
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def terminate(processes: list, timeout: float = CHILD_STOP_TIMEOUT_S) -> None:
    """SIGTERM ``processes`` (psutil), wait ``timeout`` s, then SIGKILL and reap those alive."""
    import psutil

    for proc in processes:
        with contextlib.suppress(psutil.Error):
            proc.terminate()
    _, alive = psutil.wait_procs(processes, timeout=timeout)
    for proc in alive:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    psutil.wait_procs(alive, timeout=timeout)


def _watch(parent_pid: int, poll_s: float) -> None:
    while os.getppid() == parent_pid:
        time.sleep(poll_s)
    stop_children()
    os._exit(ORPHAN_EXIT_CODE)


def watch_parent(parent_pid: int, poll_s: float = PARENT_POLL_S) -> threading.Thread:
    """Exit this process (after stopping its children) as soon as ``parent_pid`` is gone.

    Returns the daemon thread doing the watching. Used as a process-pool ``initializer``, so a
    worker never goes on writing reports for a batch nobody waits for.
    """
    thread = threading.Thread(
        target=_watch, args=(parent_pid, poll_s), name="kpitools-parent-watch", daemon=True
    )
    thread.start()
    return thread
