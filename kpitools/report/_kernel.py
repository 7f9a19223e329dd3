"""The kernel a report runs in: ipykernel without two modules no report uses.

``python -m kpitools.report._kernel -f <connection file>`` starts an IPython kernel as
``python -m ipykernel_launcher`` does, except that these modules cannot be imported in it:

* ``debugpy``: ipykernel imports it at start-up to offer a debugger to front ends (about 0.1 s
  of CPU); papermill never debugs.
* ``hypothesis``: pandera imports it, when it is installed (a development environment), for
  generating test data from schemas (about 0.15 s); validating a client never generates data.

Every report pays for its kernel's start-up, so these count (issue 13: one report alone should
cost at most 5 s of CPU). The batch's kernel fork server leaves them out the same way.
"""

from __future__ import annotations

import os
import sys

#: Modules a report kernel cannot import (see the module's docstring).
LEFT_OUT = ("debugpy", "hypothesis")


def leave_out(names: tuple[str, ...] = LEFT_OUT) -> None:
    """Make ``names`` unimportable in this process (those not imported yet): code that treats
    them as optional (ipykernel, pandera) carries on without them."""
    for name in names:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]


def kernel_argv(argv: list[str], python: str = sys.executable) -> list[str]:
    """A kernel spec's command with ``-m ipykernel_launcher`` replaced by this module, when the
    command runs ``python`` (this interpreter, which has kpitools); any other command unchanged.

    A kernel of another Python environment may lack kpitools: it is started as its spec says,
    so that a missing kpitools shows as the template's failing import, not as a dead kernel.
    """
    if not argv or os.path.abspath(argv[0]) != os.path.abspath(python):
        return list(argv)
    for i in range(len(argv) - 1):
        if argv[i] == "-m" and argv[i + 1] == "ipykernel_launcher":
            return [*argv[:i + 1], __name__, *argv[i + 2:]]
    return list(argv)


def main() -> None:
    # As ipykernel_launcher: the working folder (a report's staging folder) is not on the path
    # while the kernel starts; IPython adds it back for the notebook's own imports.
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]
    leave_out()
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


if __name__ == "__main__":
    main()
