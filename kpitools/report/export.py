"""Turn an executed report notebook into files a client can open: HTML, PDF and ``metrics.json``.

Every file is written atomically (a temporary file in the same folder, then :func:`os.replace`),
so a reader never sees half a report and a crash never leaves a truncated one behind.

``metrics.json`` schema
-----------------------
The report notebook writes one ``metrics.json`` beside the report; the batch runner's
``index.html`` reads its ``headline`` entries. All keys are required unless marked optional::

    {
      "client": {"slug": "cloudledger",                      # folder name, ^[a-z0-9][a-z0-9_-]*$
                 "name": {"zh-TW": "雲帳科技", "en": "CloudLedger"},
                 "business_model": "saas", "currency": "TWD"},   # both optional
      "quarter": "2024Q4",                                   # canonical period label
      "lang": "zh-TW",                                       # "zh-TW" or "en"
      "generated_at": "2025-01-05T09:30:00+08:00",           # ISO 8601, filled in when missing
      "headline": [                                          # the numbers shown in the index
        {"kpi": "acv", "label": "年度合約價值", "value": 182000.0, "formatted": "NT$182,000"}
      ],
      "goals": [                                             # one entry per goal of the quarter
        {"goal_id": "g1", "kpi": "new_customers", "target": 40.0, "actual": 36.0, ...}
      ]
    }

``value`` is a plain float (``null`` when the KPI is undefined for the quarter, e.g. a zero
denominator); ``formatted`` is the same number as the report shows it, in the report's language.
Optional headline keys: ``verdict`` (improved / worsened / within_noise / not_tested, the change
against the previous quarter judged against noise) and ``change`` (that change, formatted).
Goal entries are free-form dictionaries of JSON values; ``goal_id`` and ``kpi`` are required.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from kpitools._errors import KpitoolsError

__all__ = [
    "LANGS",
    "REMOVED_CELL_TAGS",
    "atomic_write",
    "build_metrics",
    "check_paper",
    "export_html",
    "export_pdf",
    "find_chromium",
    "read_metrics",
    "title_page",
    "write_metrics",
]

#: Report languages; the first is the default.
LANGS = ("zh-TW", "en")
#: Cells with these tags never reach the client's HTML: papermill's injected parameters (their
#: non-ASCII values are unreadable ``\\uXXXX`` escapes), the defaults cell, papermill's error
#: banner, and anything an analyst tags ``remove_cell``.
REMOVED_CELL_TAGS = frozenset(
    {"injected-parameters", "parameters", "papermill-error-cell-tag", "remove_cell"}
)
#: Browsers to try for PDF printing, in order; an absolute path is tried as is.
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-pdf-header-footer",
)
PDF_TIMEOUT_SECONDS = 120
#: PDF page sizes (CSS ``@page size``); A4 is the default, Letter for North American clients.
PAPER_SIZES = {"a4": "A4", "letter": "letter"}

_HTML_TEMPLATE = Path(__file__).with_name("report.html.j2")
_PAGE_SIZE = re.compile(r"size: (A4|letter);")
_HTML_LANG = {"zh-TW": "zh-Hant-TW", "en": "en"}
_NBCONVERT_LANG = {"zh-TW": "zh", "en": "en"}  # nbconvert only accepts ISO 639-1 codes
_TITLE = {"zh-TW": "季度 KPI 報告", "en": "Quarterly KPI report"}
_METRICS_KEYS = ("client", "quarter", "lang", "generated_at", "headline", "goals")
_HEADLINE_KEYS = ("kpi", "label", "value", "formatted")


def check_lang(lang: str) -> str:
    """Return ``lang`` if it is a report language, else raise a :class:`KpitoolsError`."""
    if lang not in LANGS:
        raise KpitoolsError(
            f"Unknown report language {lang!r}; expected one of {list(LANGS)}.\n"
            "Hint: use 'zh-TW' for 繁體中文 or 'en' for English."
        )
    return lang


def check_paper(paper: str) -> str:
    """Return ``paper`` lower-cased if it is a known PDF page size, else raise KpitoolsError."""
    key = str(paper).strip().lower()
    if key not in PAPER_SIZES:
        raise KpitoolsError(
            f"Unknown paper size {paper!r}; expected one of {list(PAPER_SIZES)}.\n"
            "Hint: A4 is the default; use --paper letter for US Letter."
        )
    return key


def _css_text(text: str) -> str:
    """Text safe inside a CSS string in a <style> element (no quotes, backslashes or tags)."""
    return "".join(ch for ch in str(text) if ch not in '"\\<>\n\r')


def atomic_write(
    path: str | os.PathLike[str], data: str | bytes, *, encoding: str = "utf-8"
) -> Path:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a mix.

    The bytes go to a temporary file in the same folder (same file system, so the final
    :func:`os.replace` is atomic) which is flushed to disk before the rename. The parent folder
    is created when missing. Returns the path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode(encoding) if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    # os.open with 0o666 honours the umask (mkstemp would make the report private, 0o600).
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


# --------------------------------------------------------------------------- metrics.json


def build_metrics(
    client: Mapping[str, Any],
    quarter: str,
    lang: str,
    *,
    headline: Iterable[Mapping[str, Any]] = (),
    goals: Iterable[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """Assemble a ``metrics.json`` document (see the module docstring for the schema).

    Examples
    --------
    >>> doc = build_metrics({"slug": "acme", "name": {"en": "Acme"}}, "2024Q4", "en",
    ...                     headline=[{"kpi": "acv", "label": "ACV", "value": 1200,
    ...                                "formatted": "NT$1,200"}])
    >>> doc["headline"][0]["value"], sorted(doc)[:3]
    (1200.0, ['client', 'generated_at', 'goals'])
    """
    doc = {
        "client": dict(client),
        "quarter": str(quarter),
        "lang": lang,
        "generated_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "headline": [dict(h) for h in headline],
        "goals": [dict(g) for g in goals],
    }
    return _checked_metrics(doc, "metrics")


def write_metrics(path: str | os.PathLike[str], metrics: Mapping[str, Any]) -> Path:
    """Validate ``metrics`` against the ``metrics.json`` schema and write it atomically.

    ``generated_at`` is filled in with the current local time when missing; NaN and infinite
    headline values are written as ``null`` (JSON has no NaN). Raises :class:`KpitoolsError`
    listing every schema problem at once.
    """
    doc = dict(metrics)
    doc.setdefault("generated_at", datetime.now().astimezone().isoformat(timespec="seconds"))
    doc = _checked_metrics(doc, str(path))
    text = json.dumps(doc, ensure_ascii=False, indent=2, allow_nan=False, default=str)
    return atomic_write(path, text + "\n")


def read_metrics(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and validate a ``metrics.json`` written by :func:`write_metrics`."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise KpitoolsError(
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}).\n"
            "Hint: re-run the report with --force to regenerate it."
        ) from None
    if not isinstance(doc, dict):
        raise KpitoolsError(f"{path}: expected a JSON object, found {type(doc).__name__}.")
    return _checked_metrics(doc, str(path))


def _checked_metrics(doc: dict[str, Any], where: str) -> dict[str, Any]:
    problems = [f"missing key '{k}'" for k in _METRICS_KEYS if k not in doc]
    if not isinstance(doc.get("client", {}), dict):
        problems.append("'client' must be an object like {\"slug\": ..., \"name\": {...}}")
    if "lang" in doc and doc["lang"] not in LANGS:
        problems.append(f"'lang' is {doc['lang']!r}, expected one of {list(LANGS)}")
    headline = []
    for i, entry in enumerate(doc.get("headline") or []):
        missing = [k for k in _HEADLINE_KEYS if not isinstance(entry, dict) or k not in entry]
        if missing:
            problems.append(f"headline[{i}] lacks {missing}")
            continue
        value = entry["value"]
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            problems.append(f"headline[{i}] ('{entry['kpi']}'): value {value!r} is not a number")
            continue
        finite = value is not None and math.isfinite(value)
        headline.append({**entry, "value": float(value) if finite else None})
    for i, goal in enumerate(doc.get("goals") or []):
        if not isinstance(goal, dict) or "goal_id" not in goal or "kpi" not in goal:
            problems.append(f"goals[{i}] needs at least 'goal_id' and 'kpi'")
    if problems:
        raise KpitoolsError(
            f"{where}: metrics.json does not follow the schema:\n"
            + "\n".join(f"  - {p}" for p in problems)
            + "\nHint: build it with kpitools.report.build_metrics(...)."
        )
    return {**doc, "headline": headline, "goals": list(doc.get("goals") or [])}


# --------------------------------------------------------------------------- notebook display


def title_page(name: str, quarter: str, lang: str):
    """The report's first block: client name and quarter, HTML-escaped, in the report language.

    Returns an ``IPython.display.HTML`` object for a notebook cell to display. Client text is
    escaped, so a ``<script>`` in a client's name shows as text instead of running.
    """
    from IPython.display import HTML

    check_lang(lang)
    return HTML(
        '<div class="kpitools-title">'
        f"<h1>{html.escape(str(name))}</h1>"
        f'<div class="kpitools-subtitle">{html.escape(_TITLE[lang])} · '
        f"{html.escape(quarter_label(quarter, lang))}</div></div>"
    )


#: A quarter written the canonical way (what the runner passes on): no parsing needed.
CANONICAL_QUARTER = re.compile(r"\d{4}Q[1-4]")


def quarter_label(quarter: str, lang: str) -> str:
    """``'2024Q4'`` as a reader says it: ``'2024 年第 4 季'`` or ``'Q4 2024'``."""
    if CANONICAL_QUARTER.fullmatch(quarter):
        label = quarter  # the runner's own form: spares this process pandas (parse_period)
    else:
        from kpitools.periods import parse_period

        label = parse_period(quarter).label
    if "Q" not in label:
        return label
    year, q = label.split("Q")
    return f"{year} 年第 {q} 季" if lang == "zh-TW" else f"Q{q} {year}"


# --------------------------------------------------------------------------- HTML and PDF


def export_html(
    notebook: str | os.PathLike[str], html_path: str | os.PathLike[str], *, lang: str,
    title: str | None = None, header: str | None = None, paper: str = "a4",
) -> Path:
    """Write the client-facing HTML of an executed notebook.

    No code, no prompts, no injected parameters, no cells tagged ``remove_cell`` and no stderr
    output (warnings are for the analyst, who has the ``.ipynb``); images embedded; no script
    loaded from a CDN, so the file opens offline. ``<html lang>`` follows ``lang`` and the CSS
    lists Traditional Chinese fonts first, so Han text renders with TC glyph shapes.

    Printed (or turned into a PDF) the page is ``paper`` sized (A4 by default), with ``header``
    (client and quarter; default ``title``) at the top of every page and "page / pages" at the
    bottom, drawn by CSS ``@page`` margin boxes.
    """
    from kpitools.report._imports import lean_jsonschema

    lean_jsonschema()
    import nbformat

    check_lang(lang)
    nb = nbformat.read(os.fspath(notebook), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [
                o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")
            ]
    # A code cell without output would leave an empty block once its input is hidden.
    nb.cells = [c for c in nb.cells if c.cell_type != "code" or c.outputs]
    exporter = _html_exporter(lang)
    resources = {"metadata": {"name": title or Path(notebook).stem,
                              "path": os.fspath(Path(notebook).parent)},
                 "kpitools_page_size": PAPER_SIZES[check_paper(paper)],
                 "kpitools_header": _css_text(header or title or "")}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    opening = f'<html lang="{_NBCONVERT_LANG[lang]}">'
    body = body.replace(opening, f'<html lang="{_HTML_LANG[lang]}">', 1)
    return atomic_write(html_path, body)


#: Each thread's HTML exporters, by language. Building one compiles nbconvert's templates
#: (about 0.17 s of CPU); a batch exports report after report, so each thread keeps its own
#: (an exporter registers per-notebook filters while it exports: not to be shared by threads).
#: Everything that differs between reports (notebook, title, header, paper) is passed per call.
_EXPORTERS = threading.local()


def _html_exporter(lang: str) -> Any:
    exporters = getattr(_EXPORTERS, "by_lang", None)
    if exporters is None:
        exporters = _EXPORTERS.by_lang = {}
    if lang not in exporters:
        from nbconvert import HTMLExporter
        from traitlets.config import Config

        config = Config()
        config.TagRemovePreprocessor.enabled = True
        config.TagRemovePreprocessor.remove_cell_tags = set(REMOVED_CELL_TAGS)
        config.HTMLExporter.exclude_input = True
        config.HTMLExporter.exclude_input_prompt = True
        config.HTMLExporter.exclude_output_prompt = True
        config.HTMLExporter.embed_images = True
        config.HTMLExporter.language_code = _NBCONVERT_LANG[lang]
        exporters[lang] = HTMLExporter(config=config, template_file=os.fspath(_HTML_TEMPLATE))
    return exporters[lang]


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome executable usable for headless printing, or None."""
    for candidate in CHROMIUM_CANDIDATES:
        found = candidate if os.path.isabs(candidate) and os.access(candidate, os.X_OK) else None
        found = found or shutil.which(candidate)
        if found:
            return found
    return None


def chromium_missing_message() -> str:
    return (
        "PDF export needs a headless Chromium, and none was found (tried "
        + ", ".join(CHROMIUM_CANDIDATES)
        + ").\nHint: install it (Debian/Ubuntu: apt-get install chromium fonts-noto-cjk) "
        "or run without --pdf; the HTML report prints to PDF from any browser."
    )


def export_pdf(
    html_path: str | os.PathLike[str], pdf_path: str | os.PathLike[str], *,
    chromium: str | None = None, timeout: float = PDF_TIMEOUT_SECONDS, paper: str = "a4",
) -> Path:
    """Print an HTML report to PDF with headless Chromium.

    The page size, header and page numbers come from the report's CSS ``@page`` rule (see
    :func:`export_html`); ``paper`` is passed again so a report exported for A4 prints on Letter
    only when asked: the ``@page`` size is rewritten in a temporary copy of the HTML.

    Chromium writes into a temporary file beside ``pdf_path`` which is then renamed, and runs
    with a throw-away profile so parallel workers never share one. Needs CJK fonts installed on
    the machine (Debian: ``fonts-noto-cjk``) for Chinese text.
    """
    browser = chromium or find_chromium()
    if browser is None:
        raise KpitoolsError(chromium_missing_message())
    size = PAPER_SIZES[check_paper(paper)]
    pdf_path = Path(pdf_path)
    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = pdf_path.with_name(f".{pdf_path.name}.{secrets.token_hex(6)}.tmp")
    try:
        with tempfile.TemporaryDirectory(prefix="kpitools-chromium-") as profile:
            page = Path(profile) / "print-report.html"
            text = Path(html_path).read_text(encoding="utf-8")
            page.write_text(_PAGE_SIZE.sub(f"size: {size};", text, count=1), encoding="utf-8")
            cmd = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                   f"--print-to-pdf={tmp}", page.as_uri()]
            try:
                done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                                      check=False)
            except subprocess.TimeoutExpired:
                raise KpitoolsError(
                    f"Chromium did not finish printing {html_path} within {timeout:g} s.\n"
                    "Hint: check that the report opens in a browser; retry without --pdf."
                ) from None
        if done.returncode != 0 or not tmp.exists() or tmp.stat().st_size == 0:
            tail = "\n".join(done.stderr.strip().splitlines()[-5:])
            raise KpitoolsError(
                f"Chromium failed to print {html_path} (exit code {done.returncode}):\n{tail}\n"
                "Hint: run the command by hand to see the browser's message; retry without --pdf."
            )
        os.replace(tmp, pdf_path)
    finally:
        tmp.unlink(missing_ok=True)
    return pdf_path
