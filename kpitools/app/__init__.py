"""Workshop mode: the widget notebooks served as a code-free app with Voilà.

How the client and language reach a notebook
--------------------------------------------
``kpitools workshop`` starts Voilà with these variables in the *server* environment; Voilà copies
its own environment into every kernel it starts, so the notebook sees them in ``os.environ``:

=========================  ==========================================================
``KPITOOLS_APP``           ``"1"``: the notebook runs inside the workshop app
``KPITOOLS_CLIENT_DIR``    absolute path of the client folder (``--client``)
``KPITOOLS_LANG``          ``zh-TW`` or ``en`` (``--lang``)
``KPITOOLS_PERIOD``        period to show, when ``--period`` was given
``KPITOOLS_OUTPUT_DIR``    a temporary folder for ``metrics.json`` and other side files
=========================  ==========================================================

Voilà also gives each kernel the page's query string as ``QUERY_STRING``. Only ``lang`` and
``period`` are read from it (``?lang=en`` switches one page to English); the client folder is never
taken from a URL, so a link cannot make the app open another folder on the consultant's machine.

A notebook honours all this with one line right after its ``parameters`` cell::

    globals().update(parameters_from_environment(dict(client_dir=client_dir, period=period,
                     lang=lang, interactive=interactive, output_dir=output_dir)))

Outside the app (JupyterLab, papermill, nbval) ``KPITOOLS_APP`` is unset and the function returns
the parameters unchanged, so the notebooks behave exactly as before.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from kpitools._errors import KpitoolsError

__all__ = [
    "ENV_APP",
    "ENV_CLIENT_DIR",
    "ENV_LANG",
    "ENV_OUTPUT_DIR",
    "ENV_PERIOD",
    "LANGUAGES",
    "WorkshopServer",
    "parameters_from_environment",
]

#: Set to "1" by the workshop server; without it the environment is ignored.
ENV_APP = "KPITOOLS_APP"
ENV_CLIENT_DIR = "KPITOOLS_CLIENT_DIR"
ENV_LANG = "KPITOOLS_LANG"
ENV_PERIOD = "KPITOOLS_PERIOD"
ENV_OUTPUT_DIR = "KPITOOLS_OUTPUT_DIR"
#: Languages every client-facing text exists in.
LANGUAGES = ("zh-TW", "en")

_FROM_ENV = {
    "client_dir": ENV_CLIENT_DIR,
    "lang": ENV_LANG,
    "period": ENV_PERIOD,
    "output_dir": ENV_OUTPUT_DIR,
}
#: Parameters a page's query string may set (never the client folder).
_FROM_QUERY = ("lang", "period")


def parameters_from_environment(
    parameters: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Return a notebook's parameters with the workshop app's choices applied.

    Parameters
    ----------
    parameters : mapping
        The values from the notebook's ``parameters`` cell (after any papermill injection), e.g.
        ``{"client_dir": ..., "period": ..., "lang": ..., "interactive": ..., "output_dir": ...}``.
    environ : mapping, optional
        Environment to read (default ``os.environ``); tests pass a dict.

    Returns
    -------
    dict
        A new dict. Unchanged when ``KPITOOLS_APP`` is not ``"1"`` (JupyterLab, papermill).
        Inside the app: ``client_dir``, ``lang``, ``period`` and ``output_dir`` come from the
        ``KPITOOLS_*`` variables when set, then ``lang`` and ``period`` from the page's query
        string (``?lang=en&period=2024Q4``) when given, and ``interactive`` is always ``True``.
        Only keys already present in ``parameters`` are replaced, plus ``interactive``.

    Raises
    ------
    KpitoolsError
        When the language asked for (environment or query string) is not zh-TW or en.
    """
    env = os.environ if environ is None else environ
    result = dict(parameters)
    if env.get(ENV_APP) != "1":
        return result
    for name, variable in _FROM_ENV.items():
        value = env.get(variable)
        if value and name in result:
            result[name] = value
    query = parse_qs(env.get("QUERY_STRING", ""), keep_blank_values=False)
    for name in _FROM_QUERY:
        values = query.get(name)
        if values and name in result:
            result[name] = values[-1]
    if "lang" in result and result["lang"] not in LANGUAGES:
        raise KpitoolsError(
            f"Unknown language {result['lang']!r} for the workshop app. "
            f"Hint: use one of {', '.join(LANGUAGES)}, e.g. ?lang=en in the page address."
        )
    result["interactive"] = True
    return result


def __getattr__(name: str) -> Any:
    # The server pulls in psutil and jinja2; notebooks importing the helper above do not need it.
    if name == "WorkshopServer":
        from kpitools.app.server import WorkshopServer

        return WorkshopServer
    raise AttributeError(f"module 'kpitools.app' has no attribute {name!r}")
