"""The ``kpitools`` command line: check client data, list KPIs, run reports and workshops.

Every command turns a :class:`~kpitools.KpitoolsError` into a readable message and exit code 1;
no traceback reaches the user.
"""

from __future__ import annotations

import sys

import click

from kpitools import __version__
from kpitools._errors import KpitoolsError

__all__ = ["main"]


class _Group(click.Group):
    """A click group that prints KpitoolsError messages instead of tracebacks."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except KpitoolsError as exc:
            click.secho(f"Error: {exc}", fg="red", err=True)
            sys.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kpitools")
def main() -> None:
    """kpitools: KPI workshops and quarterly KPI reports for SMBs (zh-TW / en)."""


@main.command("kpis")
@click.option("--lang", type=click.Choice(["zh-TW", "en"]), default="zh-TW", show_default=True,
              help="Language of KPI names.")
@click.option("--business-model", default=None,
              help="Only KPIs suited to this business model (saas, ecommerce, services, content).")
@click.option("--strategy", default=None, help="Only KPIs serving this strategy id.")
def kpis_command(lang: str, business_model: str | None, strategy: str | None) -> None:
    """List the KPI catalog."""
    from rich.console import Console
    from rich.table import Table

    from kpitools.catalog import list_kpis

    rows = list_kpis(business_model=business_model, strategy=strategy, include_tables=True)
    table = Table("id", "name" if lang == "en" else "名稱", "unit", "tables")
    for kpi in rows:
        table.add_row(kpi.id, kpi.name_for(lang), kpi.unit, ", ".join(kpi.tables))
    Console().print(table)


def _register_commands() -> None:
    from kpitools.commands.check_data import check_data
    from kpitools.commands.report import new_client, report, templates
    from kpitools.commands.workshop import workshop

    for command in (check_data, report, new_client, templates, workshop):
        main.add_command(command)


_register_commands()
