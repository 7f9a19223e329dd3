"""Workshop mode: the widget notebooks served as a code-free app with Voilà.

``kpitools workshop --client DIR --lang zh-TW`` (or :class:`WorkshopServer`) serves the workshop
notebooks for one client on 127.0.0.1, with the code hidden.

How the client and language reach a notebook
--------------------------------------------
The same way as with papermill and ``kpitools report``: at start-up the server copies each
notebook into a temporary folder, once per language, with papermill's *prepare-only* mode, which
adds an ``injected-parameters`` cell right after the ``parameters`` cell::

    client_dir = "/abs/path/to/client"   # --client
    lang = "en"                          # one copy per language: zh-TW/ and en/
    interactive = True                   # the app always shows the widgets
    output_dir = "/tmp/kpitools-workshop-.../output/en"   # metrics.json stays out of the repo
    period = "2024Q4"                    # only with --period

Only parameters a notebook declares are set. Voilà then serves the copies, so the notebooks
themselves need no change and run exactly as they do in JupyterLab with those parameters.
The landing page (``/``) links to ``/voila/render/<lang>/<notebook>.ipynb``; ``/?lang=en``
shows it in English. Nothing is read from a page's query string, so a link cannot make the app
open another client folder.
"""

from __future__ import annotations

from typing import Any

__all__ = ["LANGUAGES", "WorkshopServer"]

#: Languages every client-facing text exists in (also the copies' folder names).
LANGUAGES = ("zh-TW", "en")


def __getattr__(name: str) -> Any:
    # Imported on first use: the server pulls in papermill, psutil and jinja2.
    if name == "WorkshopServer":
        from kpitools.app.server import WorkshopServer

        return WorkshopServer
    raise AttributeError(f"module 'kpitools.app' has no attribute {name!r}")
