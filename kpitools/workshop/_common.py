"""Shared pieces of the workshop layer: finding the client, texts, sections, panels, metrics.json.

A workshop notebook stays thin: it opens the client with :func:`open_client`, asks a section
function for a :class:`Section` (title, findings, tables, charts and the raw numbers behind
them) and displays it; the optional interactive layer displays a :class:`Panel`, whose widgets
call the same section functions through ``observe``. Everything here returns plain objects, so
the tests can check it without a Jupyter kernel.
"""

from __future__ import annotations

import base64
import html
import io
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from kpitools._errors import KpitoolsError, did_you_mean
from kpitools._packageyaml import package_yaml
from kpitools.i18n import check_lang, fmt_value
from kpitools.periods import Period, parse_period

__all__ = [
    "Panel",
    "Section",
    "figure_png",
    "heading",
    "headline_cards",
    "headline_entry",
    "kpi_label",
    "kpi_unit",
    "metrics_note",
    "missing_tables",
    "notebook_metrics",
    "open_client",
    "report_period",
    "resolve_client_dir",
    "save_metrics",
    "skipped_section",
    "text",
    "trailing_window",
    "try_panel",
    "wait_for_page",
]

#: The file that marks a client folder.
CLIENT_FILE = "client.yml"
#: Resolution of the PNG images shown in notebooks and widgets.
FIGURE_DPI = 110
#: The repository holding this package (an editable install); sample clients live under it.
REPO_ROOT = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------- texts


@cache
def _texts() -> dict[str, Any]:
    raw = resources.files(__package__).joinpath("texts.yaml").read_text(encoding="utf-8")
    return package_yaml(raw)


def text(key: str, lang: str = "zh-TW", **values: Any) -> str:
    """The workshop text ``key`` (dotted, e.g. ``"common.skipped"``) in ``lang``, formatted.

    >>> text("common.no_data", "en", tables="deals")
    'This client has no deals data, so this section is skipped.'
    """
    check_lang(lang)
    node: Any = _texts()
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            choices = list(node) if isinstance(node, Mapping) else []
            raise KpitoolsError(
                f"no workshop text {key!r}.{did_you_mean(part, choices) or ''}\n"
                "Hint: add it to kpitools/workshop/texts.yaml in both zh-TW and en."
            )
        node = node[part]
    if not isinstance(node, Mapping) or lang not in node:
        raise KpitoolsError(f"workshop text {key!r} has no {lang!r} version.\n"
                            "Hint: every entry of texts.yaml needs zh-TW and en.")
    return str(node[lang]).format(**values) if values else str(node[lang])


def headers(group: str, lang: str) -> dict[str, str]:
    """Column id → header in ``lang`` for the table group ``group`` of texts.yaml (``columns``)."""
    check_lang(lang)
    return {col: str(words[lang]) for col, words in _texts()["columns"][group].items()}


def localize_columns(frame: pd.DataFrame, group: str, lang: str) -> pd.DataFrame:
    """A copy of ``frame`` keeping the columns listed in texts.yaml ``columns.<group>``, renamed.

    Columns are kept in the order texts.yaml lists them; those absent from ``frame`` are skipped.
    """
    names = headers(group, lang)
    keep = [c for c in names if c in frame.columns]
    return frame.loc[:, keep].rename(columns=names)


# --------------------------------------------------------------------------- client and period


def resolve_client_dir(client_dir: str | os.PathLike[str]) -> Path:
    """The client folder named by ``client_dir``, looked up from the current folder, then its
    parents, then the kpitools repository.

    Notebooks keep a repository-relative default such as ``"data/sample/cloudledger"``; this
    finds it whether the notebook runs from the repository root or from ``notebooks/``.
    A leading ``../`` is also accepted when the folder is found from the repository root.

    Raises
    ------
    KpitoolsError
        When no candidate holds a ``client.yml``.
    """
    given = Path(client_dir).expanduser()
    if (given / CLIENT_FILE).is_file():
        return given
    tried = [given.resolve()]
    if not given.is_absolute():
        stripped = Path(*[p for p in given.parts if p not in ("..", ".")] or ["."])
        bases = [*Path.cwd().resolve().parents, REPO_ROOT]
        for base in bases:
            for candidate in (base / given, base / stripped):
                if (candidate / CLIENT_FILE).is_file():
                    return candidate.resolve()
                tried.append(candidate.resolve())
    shown = ", ".join(str(p) for p in dict.fromkeys(tried[:4]))
    raise KpitoolsError(
        f"client folder {str(client_dir)!r} not found (no {CLIENT_FILE} in {shown}).\n"
        "Hint: pass the folder that holds client.yml, e.g. client_dir='data/sample/cloudledger'."
    )


def open_client(client_dir: str | os.PathLike[str]) -> Any:
    """Load the client in ``client_dir`` (see :func:`resolve_client_dir`) with every table."""
    from kpitools.io import load_client

    return load_client(resolve_client_dir(client_dir))


def report_period(period: str | Period, client: Any = None) -> Period:
    """The notebook's period parsed with the client's fiscal year (``"2024Q4"`` → Period)."""
    fy = getattr(client, "fiscal_year_start_month", 1) if client is not None else 1
    return parse_period(period, fiscal_year_start_month=fy)


def trailing_window(period: Period, quarters: int = 4) -> Period:
    """The ``quarters`` quarters ending with ``period`` as one Period (e.g. a trailing year).

    Used where a single quarter holds too few events (funnels: deals created late in a
    quarter have not closed yet).
    """
    first = period.shift(-(quarters - 1)) if period.freq == "Q" else period
    return Period(start=first.start, end=period.end, freq="Q" if quarters == 1 else "Y",
                  fiscal_year_start_month=period.fiscal_year_start_month)


def window_label(period: Period, quarters: int) -> str:
    """``2024Q1–2024Q4``: the label of the trailing window of ``quarters`` ending at ``period``."""
    return f"{period.shift(-(quarters - 1)).label}–{period.label}" if quarters > 1 else period.label


def heading(client: Any, period: str | Period, lang: str, notebook: str) -> Any:
    """The notebook's title line for this client and period, as IPython Markdown."""
    from IPython.display import Markdown

    from kpitools.i18n import period_label

    p = period if isinstance(period, Period) else report_period(period, client)
    return Markdown(f"## {text(f'{notebook}.title', lang)} · {client.name_for(lang)} · "
                    f"{period_label(p, lang)}")


#: KPIs on the cards at the top of each notebook page (those the client lacks are left out);
#: ``None``: the first of the report's headline KPIs for the client's business model.
CARD_KPIS: dict[str, tuple[str, ...] | None] = {
    "nb01": None,
    "nb02": ("acv", "cltv", "logo_churn_rate", "cac_payback_months", "ltv_to_cac"),
    "nb03": None,
    "nb04": ("win_rate", "sales_cycle_days", "pipeline_coverage", "csat_average"),
    "nb05": ("sessions", "engagement_rate", "ad_revenue", "affiliate_revenue", "followers"),
}
#: Most cards shown on one page.
MAX_CARDS = 4


def headline_cards(client: Any, period: str | Period, lang: str, notebook: str) -> Any:
    """The page's headline KPIs as cards: value in its unit and change on the quarter before.

    Notebook 01 sets goals *for* ``period``, so its cards show the quarter before it (what the
    team knows); the others show ``period``. Rates change in percentage points, other units
    in percent; the change is green when it went the KPI's good way, red otherwise.
    """
    from IPython.display import HTML

    from kpitools.catalog import compute_kpi, get_kpi
    from kpitools.i18n import fmt_delta, fmt_pct, period_label

    p = period if isinstance(period, Period) else report_period(period, client)
    if notebook == "nb01":
        p = p.previous()
    cards = []
    for kpi_id in _card_kpis(client, notebook):
        try:
            value = compute_kpi(kpi_id, client, p.label)
            before = compute_kpi(kpi_id, client, p.previous().label)
        except KpitoolsError:
            continue
        if value is None or pd.isna(value):
            continue
        entry = get_kpi(kpi_id)
        change, tone = "", ""
        if before is not None and not pd.isna(before):
            diff = float(value) - float(before)
            if entry.unit in ("rate", "percent"):
                change = fmt_delta(diff, lang, unit="rate")
            elif before > 0:
                change = fmt_pct(diff / float(before), lang, signed=True)
            better = diff > 0 if entry.direction == "higher" else diff < 0
            tone = "" if diff == 0 else (" good" if better else " bad")
        label = html.escape(kpi_label(kpi_id, lang))
        shown = html.escape(fmt_value(value, entry.unit, lang, currency=client.currency))
        versus = text("common.card_change", lang, change=change,
                      period=period_label(p.previous(), lang))
        cards.append(
            f'<div class="kpitools-card" data-kpi="{html.escape(kpi_id)}">'
            f'<div class="label">{label}</div><div class="value">{shown}</div>'
            + (f'<div class="change{tone}">{html.escape(versus)}</div>'
               if change else "")
            + "</div>"
        )
        if len(cards) == MAX_CARDS:
            break
    caption = html.escape(text("common.cards", lang, period=period_label(p, lang)))
    return HTML(f'<div class="kpitools-cards-box"><p class="kpitools-cards-caption">{caption}'
                f'</p><div class="kpitools-cards">{"".join(cards)}</div></div>')


def _card_kpis(client: Any, notebook: str) -> tuple[str, ...]:
    chosen = CARD_KPIS.get(notebook)
    if chosen is not None:
        return chosen
    # The report's own list (kpitools/report/headline.yaml), so page and report lead alike.
    raw = resources.files("kpitools.report").joinpath("headline.yaml").read_text("utf-8")
    return tuple((package_yaml(raw) or {}).get(client.business_model, ()))


def wait_for_page() -> None:
    """In the workshop app's kernel pool, pause here until someone opens the page.

    The app runs each notebook in a spare kernel before anyone asks for it, so a page opens at
    once. What a notebook computes after this call runs only when its page is opened, so it
    reads the client folder as it is then (goals saved a minute ago, for instance). Anywhere
    else (papermill, JupyterLab, Voilà without a pool) it returns at once.
    """
    if os.environ.get("VOILA_PREHEAT") != "True":
        return
    from voila.utils import wait_for_request

    wait_for_request()


def missing_tables(client: Any, needed: Iterable[str]) -> list[str]:
    """The tables of ``needed`` the client does not have, in the order given."""
    return [name for name in needed if not client.has(name)]


# --------------------------------------------------------------------------- KPI labels


def kpi_label(kpi_id: str, lang: str) -> str:
    """The catalog name of ``kpi_id`` in ``lang`` (the id itself for a non-catalog metric)."""
    from kpitools.catalog import get_kpi
    from kpitools.i18n import localize

    try:
        return localize(get_kpi(kpi_id).name, lang)
    except KpitoolsError:
        return kpi_id


def kpi_unit(kpi_id: str) -> str:
    """The catalog unit of ``kpi_id`` (``count`` for a non-catalog metric)."""
    from kpitools.catalog import get_kpi

    try:
        return get_kpi(kpi_id).unit
    except KpitoolsError:
        return "count"


# --------------------------------------------------------------------------- sections


@dataclass
class Section:
    """What one notebook section shows, in one language.

    ``values`` holds the raw numbers (KPI id → float) behind the text, for ``metrics.json`` and
    tests; ``tables`` are display-ready (headers and cells in the section's language);
    ``data`` keeps unformatted frames and fitted objects for code that wants to reuse them.
    ``skipped`` is the reason the section could not be computed (missing data), shown instead.
    """

    title: str
    lang: str
    notes: list[str] = field(default_factory=list)
    tables: list[tuple[str, pd.DataFrame]] = field(default_factory=list)
    figures: list[Any] = field(default_factory=list)
    values: dict[str, float | None] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    skipped: str | None = None

    @property
    def ok(self) -> bool:
        """True when the section was computed (not skipped)."""
        return self.skipped is None

    def to_html(self) -> str:
        """The section as one HTML fragment (title, notes, tables, charts as inline PNG)."""
        parts = [f"<h3>{html.escape(self.title)}</h3>"]
        if self.skipped:
            parts.append(f'<p class="kpitools-skip">⚠ {html.escape(self.skipped)}</p>')
            return "\n".join(parts)
        if self.notes:
            items = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
            parts.append(f"<ul>{items}</ul>")
        for caption, frame in self.tables:
            if caption:
                parts.append(f"<h4>{html.escape(caption)}</h4>")
            parts.append(frame_html(frame))
        for fig in self.figures:
            encoded = base64.b64encode(figure_png(fig)).decode("ascii")
            parts.append(f'<img src="data:image/png;base64,{encoded}"/>')
        return "\n".join(parts)

    def show(self) -> None:
        """Display the section in a notebook: Markdown title and notes, tables, PNG charts."""
        from IPython.display import HTML, Image, Markdown, display

        display(Markdown(f"### {self.title}"))
        if self.skipped:
            display(Markdown(f"> ⚠ {self.skipped}"))
            return
        if self.notes:
            display(Markdown("\n".join(f"- {_md_escape(n)}" for n in self.notes)))
        for caption, frame in self.tables:
            if caption:
                display(Markdown(f"**{_md_escape(caption)}**"))
            display(HTML(frame_html(frame)))  # no pandas index column on the client's page
        for fig in self.figures:
            display(Image(data=figure_png(fig), format="png"))

    def _ipython_display_(self) -> None:
        self.show()


def skipped_section(title: str, lang: str, needed: Sequence[str]) -> Section:
    """A section that could not be computed because the client lacks the tables ``needed``."""
    names = ", ".join(needed)
    return Section(title=title, lang=lang, skipped=text("common.no_data", lang, tables=names))


def _md_escape(value: str) -> str:
    return str(value).replace("*", r"\*").replace("_", r"\_").replace("#", r"\#")


def figure_png(fig: Any) -> bytes:
    """PNG bytes of a matplotlib figure (what notebooks and ``widgets.Image`` show)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=FIGURE_DPI)
    return buffer.getvalue()


# --------------------------------------------------------------------------- panels


class Panel:
    """Base of the interactive layer: a widget box whose controls re-run kpitools on change.

    Subclasses build ``controls`` (name → widget), an ``output`` (``widgets.HTML``) and
    optionally ``image`` (``widgets.Image``), call :meth:`_wire` to ``observe`` every control,
    and implement :meth:`refresh`, which recomputes and stores the result in ``self.result``
    as well as in the widgets — so tests can set ``panel.controls["x"].value`` and read it.
    """

    def __init__(self, title: str) -> None:
        import ipywidgets as widgets

        self.title = title
        self.controls: dict[str, Any] = {}
        self.output = widgets.HTML()
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="820px",
                                                                       display="none"))
        self.result: Any = None
        self.error: str | None = None

    def _wire(self) -> None:
        for control in self.controls.values():
            if hasattr(control, "value"):
                control.observe(self._changed, names="value")
        self._changed()

    def _changed(self, _change: Mapping[str, Any] | None = None) -> None:
        try:
            self.error = None
            self.refresh()
        except KpitoolsError as exc:  # a bad combination of inputs: say so, keep the widget alive
            self.error = str(exc).split("\nHint:")[0]
            self.output.value = f'<p class="kpitools-error">⚠ {html.escape(self.error)}</p>'

    def refresh(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def show_figure(self, fig: Any | None) -> None:
        """Put ``fig`` into the panel's image widget (hidden when None)."""
        self.image.value = figure_png(fig) if fig is not None else b""
        self.image.layout.display = None if fig is not None else "none"

    @property
    def widget(self) -> Any:
        """The box to display: title, controls, result HTML, chart."""
        import ipywidgets as widgets

        head = widgets.HTML(f"<h4>{html.escape(self.title)}</h4>")
        controls = [c for c in self.controls.values() if isinstance(c, widgets.DOMWidget)]
        return widgets.VBox([head, *controls, self.output, self.image])

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


def try_panel(factory: Any, *args: Any, **kwargs: Any) -> Any:
    """``factory(*args, **kwargs)``, or a Markdown message when the client lacks its data.

    Lets a notebook's ``if interactive:`` block display a panel without a traceback for a
    client the panel does not apply to.
    """
    from IPython.display import Markdown

    try:
        return factory(*args, **kwargs)
    except KpitoolsError as exc:
        return Markdown(f"> ⚠ {_md_escape(str(exc).split(chr(10))[0])}")


def frame_html(frame: pd.DataFrame) -> str:
    """A display table as HTML (escaped, blanks as —) without pandas' row numbers.

    An index that carries labels (a KPI, a channel) becomes the first column; a plain
    0, 1, 2... index is left out, so the client never sees a column of row numbers.
    """
    plain = isinstance(frame.index, pd.RangeIndex) and frame.index.name is None
    unnamed = frame.index.nlevels == 1 and frame.index.name is None
    shown = frame if plain else frame.reset_index(names="" if unnamed else None)
    return shown.to_html(escape=True, na_rep="—", index=False, classes="kpitools-table",
                         border=0)


def reasons_frame(reasons: pd.DataFrame, lang: str, currency: str = "TWD") -> pd.DataFrame:
    """:func:`kpitools.metrics.churn_reasons` output with its share and lost MRR formatted."""
    from kpitools.i18n import fmt_money, fmt_pct

    shares, amounts = reasons.columns[2], reasons.columns[3]
    return reasons.assign(**{
        shares: reasons[shares].map(lambda v: fmt_pct(v, lang)),
        amounts: reasons[amounts].map(lambda v: fmt_money(v, currency, lang)),
    })


# --------------------------------------------------------------------------- metrics.json


def headline_entry(kpi_id: str, value: float | None, lang: str, *, currency: str = "TWD",
                   unit: str | None = None, label: str | None = None) -> dict[str, Any]:
    """One ``metrics.json`` headline entry: kpi, label (in ``lang``), value, formatted text."""
    unit = unit or kpi_unit(kpi_id)
    number = None if value is None or pd.isna(value) else float(value)
    return {
        "kpi": kpi_id,
        "label": label or kpi_label(kpi_id, lang),
        "value": number,
        "formatted": fmt_value(number, unit, lang, currency=currency),
    }


def notebook_metrics(client: Any, period: str | Period, lang: str, notebook: str,
                     sections: Iterable[Section] = (), *,
                     goals: Iterable[Mapping[str, Any]] = (),
                     extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The ``metrics.json`` document of a workshop notebook: every section's ``values``.

    Headline entries follow the sections' order; a KPI reported by two sections appears once.
    ``notebook`` (e.g. ``"02_acv_cltv"``) and ``extra`` (non-KPI results such as the
    questionnaire's recommendation) are stored under ``"workshop"``.
    """
    from kpitools.report import build_metrics

    label = period.label if isinstance(period, Period) else report_period(period, client).label
    headline: dict[str, dict[str, Any]] = {}
    for section in sections:
        for kpi_id, value in section.values.items():
            headline.setdefault(kpi_id, headline_entry(kpi_id, value, lang,
                                                       currency=client.currency))
    info = {"slug": client.slug, "name": client.config.get("name") or client.slug,
            "business_model": client.business_model, "currency": client.currency}
    doc = build_metrics(info, label, lang, headline=headline.values(), goals=goals)
    doc["workshop"] = {"notebook": notebook, **dict(extra or {})}
    return doc


def metrics_note(path: Path | None, lang: str) -> Any:
    """Where ``metrics.json`` went (or that it was not written), in ``lang``, as Markdown."""
    from IPython.display import Markdown

    if path is None:
        return Markdown(text("common.metrics_not_saved", lang))
    return Markdown(text("common.metrics_saved", lang, path=f"`{path}`"))


def save_metrics(output_dir: str | os.PathLike[str], metrics: Mapping[str, Any]) -> Path | None:
    """Write ``metrics.json`` into ``output_dir`` (created if needed); nothing when it is ``""``.

    Returns the path written, or None.
    """
    from kpitools.report import write_metrics

    if not str(output_dir):
        return None
    folder = Path(output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    return write_metrics(folder / "metrics.json", metrics)
