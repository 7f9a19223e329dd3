"""Keep the Jupyter libraries' imports cheap in the report runner.

nbformat (under papermill and nbconvert) imports jsonschema, and jsonschema's format checkers
import ``rfc3987_syntax`` when it is installed (it comes with ``jsonschema[format-nongpl]``, which
Voilà's server stack asks for). That module builds about forty parser grammars when imported:
2–3 s of CPU in every process that runs or exports a report, for IRI format checks the notebook
schema never uses. :func:`lean_jsonschema` imports jsonschema with that one module hidden, then
un-hides it, so anything that imports ``rfc3987_syntax`` itself still gets it.
"""

from __future__ import annotations

import sys

_SLOW_OPTIONAL = "rfc3987_syntax"


def lean_jsonschema() -> None:
    """Import jsonschema without its slow optional IRI checker (no-op when already imported)."""
    if "jsonschema" in sys.modules or _SLOW_OPTIONAL in sys.modules:
        return
    sys.modules[_SLOW_OPTIONAL] = None  # type: ignore[assignment]  # makes its import fail
    try:
        import jsonschema  # noqa: F401  (imports jsonschema._format, which skips the checker)
    finally:
        del sys.modules[_SLOW_OPTIONAL]
