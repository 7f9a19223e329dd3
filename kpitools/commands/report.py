"""CLI commands ``report``, ``new-client`` and ``templates``.

Register them on the ``kpitools`` group with ``main.add_command(report)`` (and ``new_client``,
``templates``). Each command turns a :class:`KpitoolsError` into ``Error: ...`` and exit code 1
by itself, so it behaves the same inside or outside the group; an :class:`ArgumentError` (an
output folder that cannot be written, a template that is not a notebook, a client folder name
that cannot name a report folder, an unknown or mistyped ``--param``) exits with 2, like click's
own usage errors.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from kpitools._errors import ArgumentError, KpitoolsError

__all__ = ["new_client", "report", "templates"]

_LANG = click.Choice(["zh-TW", "en"])


class _ArgumentProblem(click.ClickException):
    """An argument the command cannot use: one ``Error:`` message and exit code 2."""

    exit_code = 2


@contextmanager
def _friendly_errors() -> Iterator[None]:
    try:
        yield
    except ArgumentError as exc:
        raise _ArgumentProblem(str(exc)) from None
    except KpitoolsError as exc:
        raise click.ClickException(str(exc)) from None


def _parse_params(pairs: tuple[str, ...]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{pair!r} is not NAME=VALUE (e.g. trailing_quarters=6).",
                                     param_hint="--param")
        params[name.strip()] = value
    return params


@click.command("report")
@click.argument("client_dirs", nargs=-1, required=True, metavar="CLIENT_DIR...")
@click.option("--quarter", "quarters", multiple=True, required=True, metavar="QUARTER",
              help="Quarter to report, e.g. 2024Q4; repeat for several.")
@click.option("--lang", type=_LANG, default=None,
              help="Report language [default: each client's language in client.yml].")
@click.option("--out", default="reports", show_default=True, type=click.Path(file_okay=False),
              help="Output folder; reports go to OUT/<client>/<quarter>/.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(min=1),
              help="Reports run at once (one kernel each).")
@click.option("--pdf", is_flag=True, help="Also print report.pdf with headless Chromium.")
@click.option("--paper", type=click.Choice(["a4", "letter"], case_sensitive=False), default="a4",
              show_default=True, help="PDF page size.")
@click.option("--force", is_flag=True, help="Replace existing reports (kept by default).")
@click.option("--template", default=None, type=click.Path(dir_okay=False),
              help="Report notebook [default: templates/quarterly_report.ipynb].")
@click.option("--param", "-p", "params", multiple=True, metavar="NAME=VALUE",
              help="Extra template parameter, type-checked (see `kpitools templates`).")
def report(client_dirs: tuple[str, ...], quarters: tuple[str, ...], lang: str | None, out: str,
           workers: int, pdf: bool, paper: str, force: bool, template: str | None,
           params: tuple[str, ...]) -> None:
    """Run the quarterly report for every CLIENT_DIR and --quarter, then write OUT/index.html.

    Exit code 1 when any report failed; failed runs are kept under OUT/_failed/ with the error.
    """
    from kpitools.report.runner import run_reports

    with _friendly_errors():
        results = run_reports(list(client_dirs), list(quarters), lang=lang, out=out,
                              workers=workers, pdf=pdf, paper=paper.lower(), force=force,
                              template=template,
                              params=_parse_params(params), progress=True)
    index = Path(out).resolve() / "index.html"
    click.echo(f"Index: {index}")
    failed = [r for r in results if r.status == "failed"]
    skipped = [r for r in results if r.status.startswith("skipped")]
    if skipped:
        click.echo(f"{len(skipped)} existing report(s) kept; use --force to replace them.")
    if failed:
        click.secho(f"{len(failed)} of {len(results)} report(s) failed; see "
                    f"{Path(out).resolve() / '_failed'}", fg="red", err=True)
        raise click.exceptions.Exit(1)


@click.command("new-client")
@click.argument("slug")
@click.option("--name", required=True, help="Client name, in the --lang language.")
@click.option("--name-en", default=None,
              help="The client's English name, when --name is the Chinese one.")
@click.option("--lang", type=_LANG, default="zh-TW", show_default=True, help="Report language.")
@click.option("--business-model", default="saas", show_default=True,
              type=click.Choice(["saas", "ecommerce", "services", "content"]),
              help="Decides which data intake files are created.")
@click.option("--root", default="clients", show_default=True, type=click.Path(file_okay=False),
              help="Folder that holds client folders.")
def new_client(slug: str, name: str, name_en: str | None, lang: str, business_model: str,
               root: str) -> None:
    """Create a client folder SLUG: client.yml, intake CSVs, intake_guide.md, README.md."""
    from kpitools.report.scaffold import new_client as scaffold

    with _friendly_errors():
        folder = scaffold(slug, name=name, name_en=name_en, lang=lang,
                          business_model=business_model, root=root)
    click.echo(f"Created {folder}")
    for item in sorted(folder.iterdir()):
        click.echo(f"  {item.name}")
    click.echo(f"Next: fill the CSV files and client.yml, then `kpitools check-data {folder}` "
               f"and `kpitools report {folder} --quarter <quarter>`.")


@click.command("templates")
@click.option("--dir", "folder", default=None, type=click.Path(file_okay=False, exists=True),
              help="Folder of templates [default: the repository's templates/].")
def templates(folder: str | None) -> None:
    """List the report templates and their parameters (type, default, help)."""
    from rich.console import Console
    from rich.table import Table

    from kpitools.report.params import template_parameters
    from kpitools.report.runner import TEMPLATES_DIR

    root = Path(folder) if folder else TEMPLATES_DIR
    notebooks = sorted(root.glob("*.ipynb"))
    console = Console()
    if not notebooks:
        console.print(f"No templates (*.ipynb) in {root}.")
        return
    for notebook in notebooks:
        table = Table(title=str(notebook), title_justify="left")
        for column in ("parameter", "type", "default", "help"):
            table.add_column(column, overflow="fold")
        with _friendly_errors():
            declared = template_parameters(notebook)
        for p in declared.values():
            table.add_row(p.name, p.type, p.default, p.help)
        console.print(table)
