"""Workshop layer of the notebooks: section functions and widget panels, in zh-TW and English.

Each workshop notebook (``notebooks/0*.ipynb``) stays thin: it opens the client with
:func:`open_client`, displays the :class:`Section` objects that the functions below compute
for ``(client, period, lang)``, writes ``metrics.json`` with :func:`notebook_metrics` and
:func:`save_metrics`, and, when ``interactive`` is True, displays a :class:`Panel` whose widgets
``observe`` their controls and re-run the same kpitools functions.
"""

from __future__ import annotations

from kpitools.workshop._common import (
    Panel,
    Section,
    figure_png,
    heading,
    headline_cards,
    headline_entry,
    kpi_label,
    metrics_note,
    notebook_metrics,
    open_client,
    report_period,
    resolve_client_dir,
    save_metrics,
    text,
    try_panel,
    wait_for_page,
)

__all__ = [
    "Panel",
    "Section",
    "figure_png",
    "heading",
    "headline_cards",
    "headline_entry",
    "kpi_label",
    "metrics_note",
    "notebook_metrics",
    "open_client",
    "report_period",
    "resolve_client_dir",
    "save_metrics",
    "text",
    "try_panel",
    "wait_for_page",
]
