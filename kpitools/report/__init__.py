"""Quarterly client reports: run the template per client × quarter, export HTML/PDF, index them.

A report notebook imports this package for :func:`title_page`, :func:`build_metrics` and
:func:`write_metrics`; those must stay cheap, so the heavier parts (papermill, nbconvert, rich)
are imported only when the names that need them are first used.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "RunResult",
    "atomic_write",
    "build_index",
    "build_metrics",
    "export_html",
    "export_pdf",
    "find_chromium",
    "new_client",
    "read_metrics",
    "run_reports",
    "template_parameters",
    "title_page",
    "validate_parameters",
    "write_metrics",
]

_HOME = {
    "atomic_write": "export",
    "build_metrics": "export",
    "export_html": "export",
    "export_pdf": "export",
    "find_chromium": "export",
    "read_metrics": "export",
    "title_page": "export",
    "write_metrics": "export",
    "template_parameters": "params",
    "validate_parameters": "params",
    "RunResult": "runner",
    "run_reports": "runner",
    "build_index": "index",
    "new_client": "scaffold",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'kpitools.report' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"kpitools.report.{_HOME[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
