"""``kpitools check-data CLIENT_DIR...``: list every problem of one or more client folders.

Prints, per file, each problem (a rich table on a terminal, plain lines otherwise or with
``--plain``), then one summary line per client. Exit code 0 when no client has an error (warnings
are fine), 1 otherwise. Never prints a traceback for bad data or unreadable folders.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kpitools._errors import KpitoolsError, Problem

__all__ = ["check_data"]


def _count(problems: list[Problem], severity: str) -> int:
    return sum(p.severity == severity for p in problems)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _summary(client: str, found: dict[str, list[Problem]]) -> str:
    every = [p for ps in found.values() for p in ps]
    errors, warnings = _count(every, "error"), _count(every, "warning")
    files = _plural(len([k for k in found if k != "client.yml"]), "file")
    status = "OK" if errors == 0 else "FAILED"
    return (
        f"{client}: {status} - {files}, {_plural(errors, 'error')}, {_plural(warnings, 'warning')}"
    )


def _is_terminal() -> bool:
    return sys.stdout.isatty()


def _print_plain(client: str, found: dict[str, list[Problem]]) -> None:
    for label, problems in found.items():
        if not problems:
            click.echo(f"{client}/{label}: ok")
            continue
        click.echo(f"{client}/{label}: {_plural(len(problems), 'problem')}")
        for p in problems:
            click.echo(f"  - {p.severity}: {p.render()}")
            if p.hint:
                click.echo(f"    Hint: {p.hint}")


def _print_rich(client: str, found: dict[str, list[Problem]]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=client, show_lines=True)
    table.add_column("file")
    table.add_column("level")
    table.add_column("problem", overflow="fold")
    table.add_column("hint", overflow="fold")
    for label, problems in found.items():
        if not problems:
            table.add_row(label, "[green]ok[/green]", "", "")
        for p in problems:
            colour = "red" if p.severity == "error" else "yellow"
            table.add_row(label, f"[{colour}]{p.severity}[/{colour}]", p.render(), p.hint or "")
    console.print(table, markup=True, highlight=False)


@click.command("check-data")
@click.argument(
    "client_dirs",
    metavar="CLIENT_DIR...",
    nargs=-1,
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
)
@click.option("--plain", is_flag=True, help="Plain text lines even on a terminal.")
def check_data(client_dirs: tuple[Path, ...], plain: bool) -> None:
    """Check the data files of each CLIENT_DIR against the data contracts.

    Lists every problem of every file named in client.yml, then one summary line per client.
    Exits with 1 when any client has an error, 0 otherwise.
    """
    from kpitools.io.client import check_client

    use_plain = plain or not _is_terminal()
    failed = False
    summaries: list[str] = []
    for folder in client_dirs:
        name = folder.name or str(folder)
        try:
            found = check_client(folder)
        except (KpitoolsError, OSError) as exc:
            found = {"client.yml": [Problem(str(exc).split("\n")[0])]}
        if use_plain:
            _print_plain(name, found)
        else:
            _print_rich(name, found)
        summaries.append(_summary(name, found))
        failed |= any(p.severity == "error" for ps in found.values() for p in ps)
    for line in summaries:
        click.echo(line)
    click.get_current_context().exit(1 if failed else 0)
