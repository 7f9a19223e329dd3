"""Hostile client names never become Jinja source in the workshop app's landing page.

The names below close a ``{% raw %}`` block and call into Python; if any of them were pasted into
template source, the page would show the result (``uid=``, ``49``) instead of the text itself.
"""

from __future__ import annotations

import html
import urllib.request
from pathlib import Path

import jinja2
import pytest

from kpitools.app.server import (
    WorkshopServer,
    _landing_variables,
    _write_template,
    render_landing,
)

REPO = Path(__file__).resolve().parents[2]
TINY_DIR = REPO / "tests" / "data" / "app"

HOSTILE_NAMES = {
    "zh-TW": "示範{% endraw %}{{ cycler.__init__.__globals__.os.popen('id').read() }}{% raw %}",
    "en": "Demo{{ 7*7 }}{% raw %}'\"</p><script>alert(1)</script>{% endraw %}",
}


def _client(folder: Path) -> Path:
    folder.mkdir()
    name = {code: text.replace('"', '\\"') for code, text in HOSTILE_NAMES.items()}
    (folder / "client.yml").write_text(
        f'name:\n  zh-TW: "{name["zh-TW"]}"\n  en: "{name["en"]}"\n'
        "business_model: saas\ntables: {}\n",
        encoding="utf-8",
    )
    return folder


def _voila_like_env(template_dir: Path) -> jinja2.Environment:
    # Voilà renders its templates with an autoescaping FileSystemLoader environment.
    return jinja2.Environment(loader=jinja2.FileSystemLoader(template_dir), autoescape=True)


def test_written_template_holds_no_client_text(tmp_path: Path):
    share = tmp_path / "share"
    _write_template(share)
    written = "".join(p.read_text(encoding="utf-8") for p in share.rglob("*") if p.is_file())
    # The files are the ones shipped with kpitools, byte for byte: no data was pasted in.
    assert "示範" not in written and "Demo" not in written
    assert "kpitools_landing" in written


@pytest.mark.parametrize("query", ["", "lang=en", "lang=zh-TW&x=1", "token=abc&lang=en"])
def test_tree_page_shows_hostile_names_as_text(tmp_path: Path, query: str):
    client = _client(tmp_path / "evil")
    share = tmp_path / "share"
    _write_template(share)
    landing = _landing_variables([TINY_DIR / "tiny_workshop.ipynb"], "zh-TW", client)
    template_dir = share / "voila" / "templates" / "kpitools"
    page = (
        _voila_like_env(template_dir)
        .get_template("tree.html")
        .render(query=query, kpitools_landing=landing)
    )
    lang = "en" if "lang=en" in query.split("&") else "zh-TW"
    assert HOSTILE_NAMES[lang] in html.unescape(page)  # shown verbatim, as text
    assert "uid=" not in page and "Demo49" not in page
    assert "<script>alert(1)</script>" not in page
    assert f'<html lang="{lang}">' in page


@pytest.mark.parametrize("lang", ["zh-TW", "en"])
def test_render_landing_escapes_quotes_and_braces(lang: str):
    page = render_landing([TINY_DIR / "tiny_workshop.ipynb"], lang, HOSTILE_NAMES[lang])
    assert HOSTILE_NAMES[lang] in html.unescape(page)  # shown verbatim, as text
    assert "<script>" not in page.split("</style>", 1)[1]


@pytest.mark.slow
def test_served_landing_page_shows_hostile_names_as_text(tmp_path: Path):
    client = _client(tmp_path / "evil")
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor()
    )
    with WorkshopServer(client, lang="zh-TW", notebooks_dir=TINY_DIR) as app:
        for lang in ("zh-TW", "en"):
            with opener.open(app.url_for(lang=lang), timeout=60) as response:
                page = response.read().decode("utf-8")
            assert HOSTILE_NAMES[lang] in html.unescape(page)  # shown verbatim, as text
            assert "uid=" not in page and "Demo49" not in page
