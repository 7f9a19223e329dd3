"""Keep the Jupyter libraries' imports cheap in the report runner.

Two libraries under the runner import, when installed, modules that a report never uses:

* nbformat (under papermill and nbconvert) imports jsonschema, whose format checkers import
  the optional ``jsonschema[format]`` validators present (Voilà's server stack installs them).
  ``rfc3987_syntax`` alone builds about forty parser grammars on import (2–3 s of CPU); the
  others (URI, duration, colour, pointer, timestamp checkers) take about 0.1 s together.
  nbformat validates notebooks without a format checker, so none of them is ever called.
* papermill imports ``pyarrow.fs`` for its ``hdfs://`` paths, which pulls in pyarrow and NumPy
  (0.25–0.5 s). The runner reads and writes local files only.

:func:`lean_jsonschema` and :func:`lean_papermill` import those libraries with the optional
modules hidden, then un-hide them, so anything that imports them itself later still gets them.
The one lasting effect: papermill, in this process, answers an ``hdfs://`` path as it does
without pyarrow installed (an error naming the missing dependency).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

#: jsonschema's optional format-checker modules (its ``_format`` module imports each if present).
_JSONSCHEMA_OPTIONAL = ("rfc3987_syntax", "rfc3986_validator", "rfc3339_validator", "isoduration",
                        "webcolors", "jsonpointer", "uri_template")
#: papermill's optional HDFS support.
_PAPERMILL_OPTIONAL = ("pyarrow.fs",)


def _import_hiding(module: str, hidden: Iterable[str]) -> None:
    """Import ``module`` while the ``hidden`` modules (not yet imported) fail to import."""
    if module in sys.modules:
        return
    hide = [name for name in hidden if name not in sys.modules]
    for name in hide:
        sys.modules[name] = None  # type: ignore[assignment]  # makes its import fail
    try:
        __import__(module)
    finally:
        for name in hide:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]


def lean_jsonschema() -> None:
    """Import jsonschema without its optional format checkers (no-op when already imported)."""
    _import_hiding("jsonschema", _JSONSCHEMA_OPTIONAL)


def lean_papermill() -> None:
    """Import papermill (and jsonschema, lean) without its HDFS support."""
    lean_jsonschema()
    _import_hiding("papermill", _PAPERMILL_OPTIONAL)
