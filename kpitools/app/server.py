"""Start Voilà for the workshop notebooks: loopback by default, code hidden, clean stop.

At start-up every workshop notebook is copied into a temporary folder once per language, with the
client, language, ``interactive=True`` and an output folder injected by papermill (prepare-only,
nothing is executed; see :mod:`kpitools.app`). Voilà serves that folder: the landing page at
``/`` lists the notebooks (in the chosen language, ``?lang=`` switches) and each copy is at
``/voila/render/<lang>/<file>.ipynb``. When one notebook is asked for, the printed URL points
straight at it.

Voilà runs in its own process group with its log in a temporary folder; :meth:`WorkshopServer.stop`
sends SIGTERM to that group (Voilà then shuts its kernels down), waits, and kills whatever is
left, kernels included, so a Ctrl-C leaves no process behind. On Linux Voilà also gets SIGTERM
when the process that started it dies, even by SIGKILL.

Protection: every request needs a random token (in the printed URL; the first page visited sets
a login cookie), and on a loopback address a request whose ``Host`` header names another machine
is refused with 403 (DNS rebinding). The client's name and the notebook list reach the landing
page as Jinja variables of Voilà's autoescaping environment, never as template source.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from functools import cache, partial
from pathlib import Path
from urllib.parse import quote, urlencode

import jinja2
import psutil

from kpitools._errors import KpitoolsError, did_you_mean
from kpitools._forkkernel import ForkServer, fork_kernels_enabled, kernel_spec
from kpitools._packageyaml import package_yaml
from kpitools._process import die_with_parent, pid_running, terminate
from kpitools.app import LANGUAGES
from kpitools.io._yaml import ClientYamlError, load_client_yaml

__all__ = [
    "LOOPBACK_HOST",
    "WorkshopServer",
    "build_url",
    "client_display_name",
    "default_notebooks_dir",
    "free_port",
    "is_loopback",
    "list_notebooks",
    "prepare_notebook",
    "remove_stale_work_dirs",
    "render_landing",
    "resolve_notebook",
]

LOOPBACK_HOST = "127.0.0.1"
#: Seconds to wait for Voilà to answer on / (first start imports pandas, ibis, matplotlib...).
READY_TIMEOUT_S = 90.0
#: Seconds Voilà gets to shut its kernels down after SIGTERM before it is killed.
STOP_TIMEOUT_S = 10.0
_POLL_S = 0.25
#: Random bytes in the access token (urlsafe base64: 43 characters).
TOKEN_BYTES = 32
#: Name of the Voilà template written at start-up (extends Voilà's "lab" template).
TEMPLATE_NAME = "kpitools"
_HERE = Path(__file__).resolve().parent
#: Start of the temporary folder's name; the owning process id follows.
WORK_DIR_PREFIX = "kpitools-workshop-"
_UNSPECIFIED_HOSTS = {"0.0.0.0", "::"}
#: Pre-executed kernels kept ready per notebook of the server's language (Voilà's kernel pool).
POOL_SIZE = 1
#: A kernel whose page is gone (no browser connected) is shut down after this many idle
#: seconds. Voilà's own page asks for the shutdown as it closes (a ``beforeunload`` beacon), but
#: that request is not always sent (measured: never, for tabs closed or navigated in Chromium
#: 156), so culling is what bounds the kernels. A page left open keeps its kernel.
CULL_IDLE_S = 60
#: How often (s) Voilà looks for such kernels.
CULL_INTERVAL_S = 15
#: Voilà's kernel manager (kpitools/app/voila_kernels.py, copied beside the app's files).
KERNEL_MANAGER = "kpitools_voila_kernels.WorkshopKernelManager"
#: Cell tag of notebook cells meant for analysts only; the app's copies leave them out.
ANALYST_TAG = "analyst"
#: Cell tag prefix of a cell written in one language (``lang-zh-TW``, ``lang-en``).
LANG_TAG = "lang-"
#: Stylesheet of the app (fonts, colours and tables of the report), inlined in every page.
APP_CSS = "workshop.css"
#: A ``<link>`` or ``<script>`` loading a file from another host.
_REMOTE_LINK = re.compile(r"<(link|script)[^>]+(href|src)=[\"'](https?:)?//", re.IGNORECASE)


@cache
def _landing_data() -> dict:
    return package_yaml((_HERE / "landing.yaml").read_text(encoding="utf-8"))


def default_notebooks_dir() -> Path:
    """The repository's ``notebooks/`` (beside the ``kpitools`` package), else ``./notebooks``."""
    beside_package = _HERE.parents[1] / "notebooks"
    return beside_package if beside_package.is_dir() else Path.cwd() / "notebooks"


def _check_lang(lang: str) -> str:
    if lang not in LANGUAGES:
        raise KpitoolsError(f"Unknown language {lang!r}. Hint: use one of {', '.join(LANGUAGES)}.")
    return lang


def list_notebooks(notebooks_dir: str | os.PathLike[str]) -> list[Path]:
    """Notebooks in ``notebooks_dir``: the workshop ones in workshop order, then the rest by name.

    Hidden files and executed copies (``*.executed.ipynb``) are left out.
    """
    folder = Path(notebooks_dir)
    if not folder.is_dir():
        raise KpitoolsError(
            f"Notebook folder {str(folder)!r} does not exist. "
            "Hint: run from the kpitools repository or pass --notebooks-dir."
        )
    found = [
        p
        for p in folder.glob("*.ipynb")
        if not p.name.startswith(".") and not p.name.endswith(".executed.ipynb")
    ]
    order = list(_landing_data()["notebooks"])
    rank = {stem: i for i, stem in enumerate(order)}
    return sorted(found, key=lambda p: (rank.get(p.stem, len(order)), p.name))


def resolve_notebook(name: str, notebooks_dir: str | os.PathLike[str]) -> Path:
    """Find a notebook from what a user types: a path, a file name, a stem, a number or a topic.

    ``01_smart_goals.ipynb``, ``01_smart_goals``, ``01``, ``1`` and ``smart_goals`` all find
    ``notebooks/01_smart_goals.ipynb``.
    """
    as_path = Path(name)
    if as_path.suffix == ".ipynb" and as_path.is_file():
        return as_path.resolve()
    notebooks = list_notebooks(notebooks_dir)
    key = name.removesuffix(".ipynb").strip().lower()
    if key.isdigit():
        key = f"{int(key):02d}"
    exact = [p for p in notebooks if p.stem.lower() == key]
    prefix = [p for p in notebooks if p.stem.lower().startswith(key + "_")]
    topic = [p for p in notebooks if p.stem.lower().split("_", 1)[-1] == key]
    for matches in (exact, prefix, topic):
        if len(matches) == 1:
            return matches[0].resolve()
    stems = [p.stem for p in notebooks]
    close = did_you_mean(key, stems)
    suggestion = f" Did you mean {close!r}?" if close else ""
    raise KpitoolsError(
        f"No workshop notebook {name!r} in {str(Path(notebooks_dir))!r}.{suggestion} "
        f"Hint: choose one of {', '.join(stems) or '(none found)'}, or leave NOTEBOOK out "
        "to open the landing page."
    )


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _check_host(host: str) -> str:
    host = host.strip().strip("[]")
    if not host or any(c in host for c in "/ ?#@"):
        raise KpitoolsError(
            f"{host!r} is not a network address. "
            f"Hint: leave --host out to stay on {LOOPBACK_HOST}, or give an IP address."
        )
    return host


def _probe_host(host: str) -> str:
    """Where this machine can reach a server bound to ``host``."""
    return LOOPBACK_HOST if host in _UNSPECIFIED_HOSTS else host


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def free_port(host: str = LOOPBACK_HOST) -> int:
    """A TCP port that is free on ``host`` right now (the OS picks it)."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _check_port_free(host: str, port: int) -> None:
    with socket.socket(_family(host), socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise KpitoolsError(
                    f"Port {port} is already in use on {host}. "
                    "Hint: leave --port out and a free port is chosen."
                ) from None
            raise KpitoolsError(
                f"Cannot listen on {host}:{port} ({exc.strerror}). "
                f"Hint: use an address of this machine, or leave --host out for {LOOPBACK_HOST}."
            ) from None


def _page_path(notebook: str | None, lang: str | None) -> str:
    if notebook is None:
        return "/" + ("?" + urlencode({"lang": lang}) if lang else "")
    return f"/voila/render/{quote(lang or LANGUAGES[0])}/{quote(notebook)}"


def build_url(
    host: str,
    port: int,
    notebook: str | None = None,
    lang: str | None = None,
    token: str | None = None,
) -> str:
    """The address of the landing page (``?lang=``) or of a notebook's copy in ``lang``.

    With ``token`` the address logs the browser in (as Jupyter's printed URL does).

    >>> build_url("127.0.0.1", 8866, "01_smart_goals.ipynb", "en")
    'http://127.0.0.1:8866/voila/render/en/01_smart_goals.ipynb'
    >>> build_url("::1", 8866, lang="en", token="abc")
    'http://[::1]:8866/?lang=en&token=abc'
    """
    shown = f"[{host}]" if ":" in host else host
    path = _page_path(notebook, lang)
    if token:
        path += ("&" if "?" in path else "?") + urlencode({"token": token})
    return f"http://{shown}:{port}{path}"


def client_display_name(client_dir: str | os.PathLike[str], lang: str) -> str:
    """The client name in client.yml, in ``lang`` (else another language, else the folder name)."""
    folder = Path(client_dir)
    config_file = folder / "client.yml"
    if not config_file.is_file():
        raise KpitoolsError(
            f"{str(folder)!r} is not a client folder (no client.yml). "
            "Hint: pass the folder that holds client.yml, e.g. --client data/sample/cloudledger; "
            "`kpitools new-client` creates one."
        )
    if config_file.resolve().parent != folder.resolve():
        raise KpitoolsError(
            f"{str(config_file)!r} is a link to a file outside the client folder. "
            "Hint: copy the real client.yml into the folder."
        )
    try:
        config = load_client_yaml(config_file) or {}
    except ClientYamlError as exc:
        raise KpitoolsError(
            f"{str(config_file)!r} {exc.problem}. "
            "Hint: `kpitools check-data` lists every problem of the client folder."
        ) from None
    name = config.get("name") if isinstance(config, dict) else None
    if isinstance(name, dict):
        return str(name.get(lang) or next(iter(name.values()), folder.name))
    return str(name) if name else folder.name


def _landing_context(notebooks: list[Path], lang: str, client_name: str) -> dict[str, object]:
    """Values of the landing page in ``lang``, as plain JSON-able data (never template source)."""
    _check_lang(lang)
    data = _landing_data()
    known = data["notebooks"]
    entries = []
    for nb in notebooks:
        info = known.get(nb.stem, {})
        entries.append(
            {
                "file": nb.name,
                "title": info.get("title", {}).get(lang) or nb.stem.replace("_", " "),
                "summary": info.get("summary", {}).get(lang, ""),
                "href": _page_path(nb.name, lang),
            }
        )
    other = LANGUAGES[1 - LANGUAGES.index(lang)]
    return {
        "lang": lang,
        "text": {key: value[lang] for key, value in data["texts"].items()},
        "client_name": str(client_name),
        "notebooks": entries,
        "switch_href": _page_path(None, other),
    }


def render_landing(notebooks: list[Path], lang: str, client_name: str) -> str:
    """The landing page (full HTML) in ``lang``: one link per notebook, opening it in ``lang``."""
    context = _landing_context(notebooks, lang, client_name)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_HERE), autoescape=True, keep_trailing_newline=True
    )
    return env.get_template("landing.html.j2").render(**context)


def _write_template(share_dir: Path) -> None:
    """Write the Voilà template whose tree page is the landing page (both languages, ``?lang=``).

    Only files shipped with kpitools are written: the client's name and the notebook list reach
    the page as template variables (see :func:`_voila_settings`), never as template source, so
    nothing a client folder holds can be run by Jinja.
    """
    template_dir = share_dir / "voila" / "templates" / TEMPLATE_NAME
    template_dir.mkdir(parents=True)
    (template_dir / "conf.json").write_text(json.dumps({"base_template": "lab"}), encoding="utf-8")
    shutil.copyfile(_HERE / "landing.html.j2", template_dir / "landing.html.j2")
    for name in ("tree-lab.html", "tree.html"):
        shutil.copyfile(_HERE / "voila_tree.html.j2", template_dir / name)


def _landing_variables(notebooks: list[Path], lang: str, client_dir: Path) -> dict[str, object]:
    """The ``kpitools_landing`` template variable: one page of values per language."""
    pages = {
        code: _landing_context(notebooks, code, client_display_name(client_dir, code))
        for code in LANGUAGES
    }
    return {"lang": lang, "pages": pages}


def _write_voila_config(config_dir: Path, settings: dict[str, object]) -> Path:
    """Write ``voila.json`` (owner-only) holding ``settings``; return the folder."""
    config_dir.mkdir(parents=True, exist_ok=True)
    path = config_dir / "voila.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(settings, handle, ensure_ascii=False)
    return config_dir


def _voila_command(root_dir: Path, host: str, port: int, config_dir: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "voila",
        str(root_dir),
        f"--Voila.config_file_paths={config_dir}",
        "--no-browser",
        f"--port={port}",
        f"--Voila.ip={host}",
        "--Voila.port_retries=0",
        f"--template={TEMPLATE_NAME}",
        "--strip_sources=True",
        "--theme=light",
    ]


def _kernel_arguments(
    pooled: list[str], pool_size: int, cull_idle_s: int, cull_interval_s: int
) -> list[str]:
    """Voilà options for fast pages and bounded memory.

    ``pooled`` notebooks (paths relative to Voilà's root) each keep ``pool_size`` kernels that
    have already run the notebook, so opening the page only streams the finished outputs; the
    others start a kernel when opened. A kernel with no page connected (its page was closed,
    or the browser went away) that stays idle ``cull_idle_s`` seconds is shut down; a busy
    kernel, one whose page is open, and kernels waiting in the pool are never culled.
    """
    args = [
        f"--VoilaConfiguration.multi_kernel_manager_class={KERNEL_MANAGER}",
        f"--MappingKernelManager.cull_idle_timeout={cull_idle_s}",
        f"--MappingKernelManager.cull_interval={cull_interval_s}",
        "--MappingKernelManager.cull_connected=False",
        "--MappingKernelManager.cull_busy=False",
    ]
    if pool_size > 0 and pooled:
        pools: dict[str, dict[str, int]] = {"default": {"pool_size": 0}}
        pools.update((name, {"pool_size": pool_size}) for name in pooled)
        args += [
            "--preheat_kernel=True",
            "--VoilaKernelManager.fill_delay=0",
            f"--VoilaKernelManager.kernel_pools_config={json.dumps(pools)}",
        ]
    return args


def _prerun(notebook: Path) -> bool:
    """Whether the app keeps a pre-run kernel for ``notebook`` (see WorkshopServer.pooled)."""
    try:
        metadata = json.loads(notebook.read_text(encoding="utf-8")).get("metadata", {})
    except (OSError, ValueError):
        return True
    settings = metadata.get("kpitools") if isinstance(metadata, dict) else None
    return not (isinstance(settings, dict) and settings.get("prerun") is False)


def _strip_for_client(notebook: Path, lang: str) -> None:
    """Leave analyst-only cells and the other language's cells out of an app copy (in place).

    Cells tagged :data:`ANALYST_TAG` (how to run the notebook with papermill, parameter notes)
    and cells tagged ``lang-<other>`` are removed, so the page shows one language and no
    developer text. The parameter cells stay (they set the values) but show nothing.
    """
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    nb["cells"] = _client_cells(nb["cells"], lang)
    notebook.write_text(json.dumps(nb, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def _client_cells(cells: list[dict], lang: str) -> list[dict]:
    other = {f"{LANG_TAG}{code}" for code in LANGUAGES if code != lang}
    kept = []
    for cell in cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if ANALYST_TAG in tags or tags & other:
            continue
        if tags & {"parameters", "injected-parameters"}:
            cell["outputs"] = []
            cell.setdefault("metadata", {}).setdefault("jupyter", {})["outputs_hidden"] = True
        kept.append(cell)
    return kept


def _write_offline_pages(template_dir: Path) -> None:
    """Add the app's own page templates: Voilà's, minus every file fetched from the internet.

    Voilà's ``lab`` page links FontAwesome from a CDN, which a meeting room without internet
    waits for. The installed templates are read and written back without those ``<link>``
    lines (a notebook page never needs the icons), with the app stylesheet added to the page.
    """
    found = _voila_template_root()
    style = (_HERE / APP_CSS).read_text(encoding="utf-8")
    sources = {
        "index.html.j2": found / "lab" / "index.html.j2",
        "page.html": found / "base" / "page.html",
    }
    for name, source in sources.items():
        lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = "".join(line for line in lines if not _REMOTE_LINK.search(line))
        if name == "index.html.j2":
            css = f"{{% raw %}}<style id=\"kpitools-style\">\n{style}</style>{{% endraw %}}\n"
            end = "{%- endblock notebook_css -%}"
            kept = kept.replace(end, css + end, 1)
        (template_dir / name).write_text(kept, encoding="utf-8")


def _voila_template_root() -> Path:
    """The folder holding Voilà's installed templates (``lab``, ``base``...)."""
    from jupyter_core.paths import jupyter_path

    for folder in jupyter_path("voila", "templates"):
        if (Path(folder) / "lab" / "index.html.j2").is_file():
            return Path(folder)
    raise KpitoolsError(
        "Voilà's page templates are not installed (no voila/templates/lab/index.html.j2). "
        "Hint: reinstall voila in this environment (pip install voila)."
    )


def prepare_notebook(
    source: Path, dest: Path, parameters: dict[str, object], *, client_lang: str | None = None
) -> Path:
    """Copy ``source`` to ``dest`` with ``parameters`` injected after its ``parameters`` cell.

    The same cell papermill's prepare-only mode adds (tagged ``injected-parameters``, nothing
    runs), written here with plain JSON, without papermill or nbformat's schema validation,
    which would cost the app seconds at start-up. Only parameters the notebook declares are
    injected, so a notebook without ``period`` simply keeps its own default. Values are written
    as Python literals (strings as JSON strings, which Python reads the same way), never as
    code taken from the data. ``client_lang`` also leaves out what the app's client must not
    see (see :func:`_strip_for_client`).
    """
    nb = json.loads(Path(source).read_text(encoding="utf-8"))
    cells = nb["cells"]
    tagged = [
        i for i, c in enumerate(cells) if "parameters" in c.get("metadata", {}).get("tags", [])
    ]
    where = tagged[0] + 1 if tagged else 0
    declared = _declared_parameters(_source(cells[tagged[0]])) if tagged else set()
    lines = [
        f"{name} = {_literal(value)}"
        for name, value in parameters.items()
        if name in declared and value is not None
    ]
    cells.insert(
        where,
        {
            "cell_type": "code",
            "execution_count": None,
            "id": f"injected-{where}",
            "metadata": {"tags": ["injected-parameters"]},
            "outputs": [],
            "source": "# Parameters\n" + "\n".join(lines) + "\n",
        },
    )
    if client_lang is not None:
        nb["cells"] = _client_cells(cells, client_lang)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(nb, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return dest


def remove_stale_work_dirs(temp_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """Delete this user's workshop temp folders whose ``kpitools workshop`` process is gone.

    A workshop killed with SIGKILL cannot delete its folder (notebook copies, Voilà's config);
    the next start does. Folders are named ``kpitools-workshop-<pid>-…``; those of running
    processes and of other users are left alone. Returns the folders removed.
    """
    removed = []
    for folder in Path(temp_dir or tempfile.gettempdir()).glob(f"{WORK_DIR_PREFIX}*"):
        pid = folder.name.removeprefix(WORK_DIR_PREFIX).partition("-")[0]
        with contextlib.suppress(OSError):
            if not pid.isdigit() or pid_running(int(pid)):
                continue
            if not folder.is_dir() or folder.is_symlink() or folder.stat().st_uid != os.getuid():
                continue
            shutil.rmtree(folder)
            removed.append(folder)
    return removed


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _declared_parameters(source: str) -> set[str]:
    """Names assigned at the top level of a parameters cell."""
    import ast

    names = set()
    for node in ast.parse(source).body:
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, ast.AnnAssign) else [])
        names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def _literal(value: object) -> str:
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)


def _voila_environment(work_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    modules = work_dir / "python"
    modules.mkdir(exist_ok=True)
    shutil.copyfile(_HERE / "voila_kernels.py", modules / "kpitools_voila_kernels.py")
    shutil.copyfile(_HERE.parent / "_forkkernel.py", modules / "kpitools_forkkernel.py")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(modules), env.get("PYTHONPATH")) if p)
    share_dir = work_dir / "share" / "jupyter"
    previous = env.get("JUPYTER_PATH")
    env["JUPYTER_PATH"] = os.pathsep.join(p for p in (str(share_dir), previous) if p)
    env.setdefault("MPLBACKEND", "Agg")
    return env


class WorkshopServer:
    """Voilà serving the workshop notebooks for one client, as a context manager.

    Parameters
    ----------
    client_dir : path
        Client folder (holds ``client.yml``); passed to the notebooks as ``client_dir``.
    lang : {"zh-TW", "en"}
        Language of the landing page and the notebooks (a page's ``?lang=`` can switch).
    notebook : str, optional
        Notebook to open (see :func:`resolve_notebook`); None opens the landing page.
    host : str
        Address to listen on; loopback unless asked otherwise.
    port : int, optional
        TCP port; None picks a free one.
    period : str, optional
        Period injected into the notebooks (``period``); None keeps their default.
    notebooks_dir : path, optional
        Folder of workshop notebooks (default :func:`default_notebooks_dir`).
    pool_size : int
        Kernels kept ready, already run, per notebook in ``lang`` (0: start one per visit).
    cull_idle_s, cull_interval_s : int
        An idle kernel without a connected page is shut down after ``cull_idle_s`` seconds;
        Voilà looks for such kernels every ``cull_interval_s`` seconds.

    Examples
    --------
    >>> with WorkshopServer("data/sample/cloudledger", lang="en") as app:  # doctest: +SKIP
    ...     print(app.url)
    """

    def __init__(
        self,
        client_dir: str | os.PathLike[str],
        lang: str = "zh-TW",
        notebook: str | None = None,
        host: str = LOOPBACK_HOST,
        port: int | None = None,
        period: str | None = None,
        notebooks_dir: str | os.PathLike[str] | None = None,
        pool_size: int = POOL_SIZE,
        cull_idle_s: int = CULL_IDLE_S,
        cull_interval_s: int = CULL_INTERVAL_S,
    ) -> None:
        self.lang = _check_lang(lang)
        self.pool_size = max(int(pool_size), 0)
        self.cull_idle_s = int(cull_idle_s)
        self.cull_interval_s = int(cull_interval_s)
        self.client_dir = Path(client_dir).resolve()
        self.client_name = client_display_name(self.client_dir, lang)
        self.host = _check_host(host)
        if port is not None and not 0 < port < 65536:
            raise KpitoolsError(
                f"Port {port} is out of range. Hint: use 1024–65535, or leave "
                "--port out and a free port is chosen."
            )
        self.period = period
        folder = Path(notebooks_dir) if notebooks_dir is not None else default_notebooks_dir()
        self.notebook: Path | None = None
        self.notebooks = list_notebooks(folder) if folder.is_dir() else []
        if notebook is not None:
            self.notebook = resolve_notebook(notebook, folder)
            if self.notebook not in [p.resolve() for p in self.notebooks]:
                self.notebooks = [self.notebook]
        elif not self.notebooks:
            list_notebooks(folder)  # raises for a missing folder
            raise KpitoolsError(
                f"No notebooks in {str(folder)!r}. Hint: pass --notebooks-dir "
                "with the workshop notebooks, or run from the repository."
            )
        if port is None:
            port = free_port(self.host)
        else:
            _check_port_free(self.host, port)
        self.port = port
        #: Secret that every request must carry (in the URL once, then as a login cookie).
        self.token = secrets.token_urlsafe(TOKEN_BYTES)
        self.process: subprocess.Popen[bytes] | None = None
        self.kernel_server: ForkServer | None = None
        self.work_dir: Path | None = None
        self.log_path: Path | None = None
        self._log_file = None
        self._seen: dict[int, psutil.Process] = {}

    @property
    def url(self) -> str:
        """The address to open (landing page or the chosen notebook)."""
        name = self.notebook.name if self.notebook is not None else None
        return build_url(self.host, self.port, name, self.lang, self.token)

    def url_for(self, notebook: str | None = None, lang: str | None = None) -> str:
        """Address of another page: the landing page, or a notebook (file name) in ``lang``."""
        return build_url(self.host, self.port, notebook, lang, self.token)

    def start(self, timeout: float = READY_TIMEOUT_S) -> str:
        """Start Voilà and wait (at most ``timeout`` s) until it answers; return :attr:`url`."""
        if self.process is not None:
            return self.url
        remove_stale_work_dirs()
        self.work_dir = Path(tempfile.mkdtemp(prefix=f"{WORK_DIR_PREFIX}{os.getpid()}-"))
        try:
            root_dir = self._prepare(self.work_dir)
            self.log_path = self.work_dir / "voila.log"
            self._log_file = self.log_path.open("wb")
            env = _voila_environment(self.work_dir)
            self.kernel_server = self._start_kernel_server(env)
            self.process = subprocess.Popen(
                [
                    *_voila_command(root_dir, self.host, self.port, self.work_dir / "config"),
                    *self._kernel_arguments(),
                ],
                env=env,
                cwd=root_dir,
                stdin=subprocess.DEVNULL,
                stdout=self._log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=partial(die_with_parent, signal.SIGTERM, os.getpid()),
            )
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self.url

    def _start_kernel_server(self, env: dict[str, str]) -> ForkServer | None:
        """Start the fork server of the app's kernels and point the kernel spec at it.

        The server imports the notebooks' libraries and loads the client once; every kernel
        (pool or page) is forked from it, so it starts in a fraction of a second and shares
        those pages with the server and its sibling kernels instead of holding its own copy
        (see :mod:`kpitools._forkkernel`). Where kernels are not forked (not Linux, or
        ``KPITOOLS_FORK_KERNELS=0``) they start the usual way.
        """
        if not fork_kernels_enabled():
            return None
        assert self.work_dir is not None
        server = ForkServer(warm_clients=[self.client_dir], env=env, stderr=self._log_file)
        server.start()
        spec_dir = self.work_dir / "share" / "jupyter" / "kernels" / "python3"
        spec_dir.mkdir(parents=True, exist_ok=True)
        spec = kernel_spec(server.socket_path, server.process.pid if server.process else 0)
        (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
        return server

    def _prepare(self, work_dir: Path) -> Path:
        """Write the landing-page template and the parameterised copies; return Voilà's root."""
        _write_template(work_dir / "share" / "jupyter")
        _write_voila_config(work_dir / "config", self._voila_settings())
        _write_offline_pages(work_dir / "share" / "jupyter" / "voila" / "templates" / TEMPLATE_NAME)
        root_dir = work_dir / "notebooks"
        for code in LANGUAGES:
            output_dir = work_dir / "output" / code
            output_dir.mkdir(parents=True)
            for source in self.notebooks:
                prepare_notebook(
                    source,
                    root_dir / code / source.name,
                    {
                        "client_dir": str(self.client_dir),
                        "lang": code,
                        "interactive": True,
                        "output_dir": str(output_dir),
                        "period": self.period,
                    },
                    client_lang=code,
                )
        return root_dir

    def _voila_settings(self) -> dict[str, object]:
        """Voilà's configuration: token, Host-header check and the landing page's values.

        On a loopback address jupyter_server's Host check is switched on
        (``allow_remote_access=False``): a request whose ``Host`` header is neither a loopback
        address nor ``localhost`` gets 403, so a web page cannot reach the app through DNS
        rebinding. Bound to another address (``--host``) the check would refuse the address
        itself, so, as in Jupyter, only the token protects it there.
        """
        landing = _landing_variables(self.notebooks, self.lang, self.client_dir)
        tornado_settings = {
            "allow_remote_access": not is_loopback(self.host),
            "local_hostnames": ["localhost"],
            "jinja_template_vars": {"kpitools_landing": landing},
        }
        return {"Voila": {"token": self.token, "tornado_settings": tornado_settings}}

    def _kernel_arguments(self) -> list[str]:
        """Kernel pool (the server's language only) and culling options for Voilà."""
        return _kernel_arguments(
            self.pooled, self.pool_size, self.cull_idle_s, self.cull_interval_s
        )

    @property
    def pooled(self) -> list[str]:
        """Notebooks (relative to Voilà's root) that keep pre-run kernels ready: all but those
        whose metadata says ``"kpitools": {"prerun": false}`` (a notebook that shows its first
        chart within seconds in a freshly forked kernel; a pooled kernel would only hold memory).
        """
        if not self.pool_size:
            return []
        return [f"{self.lang}/{nb.name}" for nb in self.notebooks if _prerun(nb)]

    def warm(self) -> list[str]:
        """The pooled notebooks whose kernels have started (as Voilà's log says); each then
        runs its notebook in the background."""
        if self.log_path is None or not self.log_path.exists():
            return []
        log = self.log_path.read_text(encoding="utf-8", errors="replace")
        return [name for name in self.pooled if f"Kernel pool of {name} is filled" in log]

    def wait_warm(self, timeout: float = READY_TIMEOUT_S) -> bool:
        """Wait until every pooled notebook has a kernel started; False if ``timeout`` passed.

        Voilà answers before its pool is filled; a page opened earlier still works, it only
        waits for its kernel to finish running the notebook.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.warm()) == len(self.pooled):
                return True
            time.sleep(_POLL_S)
        return False

    def _wait_ready(self, timeout: float) -> None:
        probe = build_url(_probe_host(self.host), self.port)
        request = urllib.request.Request(probe, headers={"Authorization": f"token {self.token}"})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise KpitoolsError(
                    f"Voilà stopped at start-up (exit code {self.process.returncode}):\n"
                    f"{self.log_tail()}\nHint: the lines above say why."
                )
            with contextlib.suppress(OSError), opener.open(request, timeout=2) as response:
                if response.status == 200:
                    return
            time.sleep(_POLL_S)
        raise KpitoolsError(
            f"Voilà did not answer on {probe} within {timeout:.0f} s:\n{self.log_tail()}\n"
            "Hint: the log lines above may say why; a slow machine may need another try."
        )

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of Voilà's log (empty before start)."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def processes(self) -> list[psutil.Process]:
        """Voilà, the kernel fork server, and the kernels, while Voilà runs."""
        if self.process is None or self.process.poll() is not None:
            return []
        found = []
        roots = [self.process.pid, *(self.kernel_server.pids() if self.kernel_server else [])]
        for pid in roots:
            with contextlib.suppress(psutil.Error):
                root = psutil.Process(pid)
                children = root.children(recursive=True)
                # psutil.Process remembers each start time, so a reused pid is never signalled.
                self._seen.update((child.pid, child) for child in children)
                found += [root, *children]
        return found

    def kernels(self) -> list[psutil.Process]:
        """The kernel processes (pooled and in use), while Voilà runs."""
        roots = {self.process.pid} if self.process is not None else set()
        servers: set[int] = set()
        if self.kernel_server is not None:
            servers.update(self.kernel_server.pids())
        roots |= servers
        return [proc for proc in self.processes() if proc.pid not in roots
                and not (_parent_pid(proc) in servers and not _session_leader(proc.pid))]

    def wait(self) -> int:
        """Block until Voilà exits (Ctrl-C raises KeyboardInterrupt here); return its exit code."""
        assert self.process is not None, "call start() first"
        while self.process.poll() is None:
            self.processes()  # remember the kernels, so stop() can find them after Voilà exits
            time.sleep(1.0)
        return self.process.returncode

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Stop Voilà and its kernels: SIGTERM to its group, wait, then SIGKILL what is left."""
        process = self.process
        if process is not None:
            self.processes()
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout)
            self._stop_kernel_server(timeout)
            # Voilà shuts its kernels down on SIGTERM; anything still alive is killed here.
            terminate([proc for proc in self._seen.values() if proc.is_running()], timeout)
            self._seen.clear()
            self.process = None
        self._stop_kernel_server(timeout)  # also when Voilà never started
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        if self.work_dir is not None:
            shutil.rmtree(self.work_dir, ignore_errors=True)
            self.work_dir = None
            self.log_path = None

    def _stop_kernel_server(self, timeout: float) -> None:
        if self.kernel_server is not None:
            self.kernel_server.stop(timeout)
            self.kernel_server = None

    def __enter__(self) -> WorkshopServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _parent_pid(proc: psutil.Process) -> int | None:
    try:
        return proc.ppid()
    except psutil.Error:
        return None


def _session_leader(pid: int) -> bool:
    """A forked kernel leads its own session (see kpitools._forkkernel); the fork server's
    other child, the loader of its clients, does not and is no kernel."""
    try:
        return os.getsid(pid) == pid
    except OSError:
        return False
