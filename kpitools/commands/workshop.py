"""CLI command ``workshop``: serve the workshop notebooks as a code-free app (Voilà).

Register it on the ``kpitools`` group with ``main.add_command(workshop)``. Like the other commands
it turns a :class:`KpitoolsError` into ``Error: ...`` and exit code 1 by itself.
"""

from __future__ import annotations

import contextlib
import signal
import webbrowser
from collections.abc import Iterator

import click

from kpitools._errors import KpitoolsError

__all__ = ["workshop"]

_MESSAGES = {
    "zh-TW": {
        "serving": "工作坊已啟動：{url}",
        "client": "客戶：{name}",
        "stop": "按 Ctrl-C 結束。",
        "remote": (
            "注意：伺服器監聽 {host}，同一網路上拿到這個含 token 網址的人都能看到這位客戶的資料。"
        ),
        "stopped": "工作坊已結束。",
        "exited": "Voilà 意外結束（代碼 {code}）。",
    },
    "en": {
        "serving": "Workshop running at {url}",
        "client": "Client: {name}",
        "stop": "Press Ctrl-C to stop.",
        "remote": (
            "Note: listening on {host}; anyone on that network who has this URL (with its "
            "token) can see this client's data."
        ),
        "stopped": "Workshop stopped.",
        "exited": "Voilà exited unexpectedly (code {code}).",
    },
}


#: Signals that stop the workshop like Ctrl-C does: Voilà, its kernels and the temp folder go.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into KeyboardInterrupt while the block runs, so cleanup runs."""
    previous = {sig: signal.signal(sig, _interrupt) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _echo(message: str, **style: object) -> None:
    # After SIGHUP the terminal may be gone; stopping cleanly matters more than the message.
    with contextlib.suppress(OSError):
        click.secho(message, **style)


@click.command("workshop")
@click.argument("notebook", required=False)
@click.option(
    "--client",
    "client_dir",
    required=True,
    metavar="CLIENT_DIR",
    type=click.Path(file_okay=False),
    help="Client folder holding client.yml, e.g. data/sample/cloudledger.",
)
@click.option(
    "--lang",
    type=click.Choice(["zh-TW", "en"]),
    default="zh-TW",
    show_default=True,
    help="Language of the landing page and of the notebook opened (both are served).",
)
@click.option(
    "--period",
    default=None,
    metavar="PERIOD",
    help="Period the notebooks show, e.g. 2024Q4 [default: each notebook's own].",
)
@click.option(
    "--port", type=click.IntRange(1, 65535), default=None, help="TCP port [default: a free port]."
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    metavar="ADDR",
    help="Address to listen on. Anything but loopback exposes the client's data to that network.",
)
@click.option("--no-browser", is_flag=True, help="Print the URL only; do not open a browser.")
@click.option(
    "--notebooks-dir",
    default=None,
    type=click.Path(file_okay=False, exists=True),
    help="Folder of workshop notebooks [default: the repository's notebooks/].",
)
def workshop(
    notebook: str | None,
    client_dir: str,
    lang: str,
    period: str | None,
    port: int | None,
    host: str,
    no_browser: bool,
    notebooks_dir: str | None,
) -> None:
    """Serve the workshop notebooks for one client as an app: widgets and charts, no code.

    NOTEBOOK (optional) opens one notebook directly, by file name, number or topic (e.g.
    01_smart_goals, 1, smart_goals); without it the landing page lists them all. The client
    folder, the language, interactive=True and a temporary output folder are injected into a copy
    of each notebook per language (a parameters cell, as papermill injects one), so the
    notebooks themselves are served unchanged, with their code hidden.
    """
    text = _MESSAGES[lang]
    with _stop_on_signals():
        _serve(text, notebook, client_dir, lang, period, port, host, no_browser, notebooks_dir)


def _serve(
    text: dict[str, str],
    notebook: str | None,
    client_dir: str,
    lang: str,
    period: str | None,
    port: int | None,
    host: str,
    no_browser: bool,
    notebooks_dir: str | None,
) -> None:
    from kpitools.app.server import WorkshopServer, is_loopback

    try:
        server = WorkshopServer(
            client_dir,
            lang=lang,
            notebook=notebook,
            host=host,
            port=port,
            period=period,
            notebooks_dir=notebooks_dir,
        )
        if not is_loopback(server.host):
            click.secho(text["remote"].format(host=server.host), fg="yellow", err=True)
        url = server.start()
    except KpitoolsError as exc:
        raise click.ClickException(str(exc)) from None
    except KeyboardInterrupt:  # stopped while starting; start() has cleaned up already
        _echo(text["stopped"])
        return
    try:
        click.echo(text["client"].format(name=server.client_name))
        click.secho(text["serving"].format(url=url), fg="green", bold=True)
        click.echo(text["stop"])
        if not no_browser:
            webbrowser.open(url)
        code = server.wait()
        click.secho(text["exited"].format(code=code), fg="red", err=True)
        click.echo(server.log_tail(), err=True)
        raise click.exceptions.Exit(1)
    except KeyboardInterrupt:
        _echo("")
        _echo(text["stopped"])
    finally:
        # A second SIGTERM/SIGHUP must not cut the clean-up short.
        previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in STOP_SIGNALS}
        try:
            server.stop()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
