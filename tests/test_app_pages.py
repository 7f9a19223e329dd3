"""What the workshop app's pages contain, without a browser: one language, no analyst text,
no file fetched from the internet, kernels pooled and culled, headline cards on top."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from kpitools.app.server import (
    _kernel_arguments,
    _strip_for_client,
    _write_offline_pages,
    prepare_notebook,
)

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("0*.ipynb"))
DEVELOPER_TEXT = re.compile(r"papermill|save_goals|overwrite_goals|metrics\.json|For analysts")


@pytest.mark.parametrize("lang", ["zh-TW", "en"])
@pytest.mark.parametrize("source", NOTEBOOKS, ids=lambda p: p.stem)
def test_app_copy_has_one_language_and_no_analyst_text(tmp_path, source, lang):
    copy = prepare_notebook(source, tmp_path / source.name, {"lang": lang, "interactive": True})
    _strip_for_client(copy, lang)
    nb = nbformat.read(copy, as_version=4)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert not DEVELOPER_TEXT.search(markdown)
    han = re.findall(r"[\u4e00-\u9fff]", markdown)
    if lang == "en":
        assert han == []
    else:  # zh-TW pages: no English sentence (a word or acronym such as KPI or ACV is fine)
        assert not re.search(r"[A-Za-z]+ [a-z]+ [a-z]+ [a-z]+", markdown), markdown
        assert len(han) > 20
    tags = [set(c.metadata.get("tags", [])) for c in nb.cells]
    assert not any("analyst" in t for t in tags)
    assert sum("parameters" in t for t in tags) == 1
    assert sum("injected-parameters" in t for t in tags) == 1
    # the analyst's copy (the notebook itself) still has everything
    original = nbformat.read(source, as_version=4)
    assert len(original.cells) > len(nb.cells) - 1


def test_offline_pages_fetch_nothing_from_the_internet(tmp_path):
    _write_offline_pages(tmp_path)
    for page in ("index.html.j2", "page.html"):
        body = (tmp_path / page).read_text(encoding="utf-8")
        assert "cdn.jsdelivr.net" not in body
        assert not re.search(r"<(link|script)[^>]+(href|src)=[\"'](https?:)?//", body)
    index = (tmp_path / "index.html.j2").read_text(encoding="utf-8")
    assert 'id="kpitools-style"' in index and "Noto Sans TC" in index
    assert "{% raw %}" in index  # the stylesheet is never read as template code


def test_kernel_pool_for_the_servers_language_and_culling():
    args = _kernel_arguments(["zh-TW/01_smart_goals.ipynb"], 1, 300, 60)
    assert "--preheat_kernel=True" in args
    assert "--MappingKernelManager.cull_idle_timeout=300" in args
    assert any(a.endswith("kpitools_voila_kernels.WorkshopKernelManager") for a in args)
    assert "--MappingKernelManager.cull_connected=False" in args
    pools = json.loads(next(a for a in args if "kernel_pools_config" in a).split("=", 1)[1])
    assert pools == {"default": {"pool_size": 0}, "zh-TW/01_smart_goals.ipynb": {"pool_size": 1}}
    no_pool = _kernel_arguments(["zh-TW/01_smart_goals.ipynb"], 0, 300, 60)
    assert not any("preheat" in a for a in no_pool)


def test_headline_cards_show_units_and_the_good_direction():
    from kpitools.catalog import compute_kpi
    from kpitools.workshop import _common

    client = _common.open_client(REPO / "data" / "sample" / "cloudledger")
    cards = _common.headline_cards(client, "2024Q4", "en", "nb02").data
    now = compute_kpi("logo_churn_rate", client, "2024Q4")
    before = compute_kpi("logo_churn_rate", client, "2024Q3")
    card = re.search(r'data-kpi="logo_churn_rate">(.*?)</div></div>', cards).group(1)
    assert f"{now * 100:.1f}%" in card
    points = (now - before) * 100
    assert f"{points:+.1f} pp vs Q3 2024" in card or f"{points:+.1f} pp vs 2024 Q3" in card
    # churn fell, and lower is better: the change is marked good
    assert ("good" if points < 0 else "bad") in card
    acv = re.search(r'data-kpi="acv">(.*?)</div></div>', cards).group(1)
    assert "NT$" in acv and re.search(r"NT\$\d{1,3}(,\d{3})+", acv)
    assert not re.search(r"\d\.\d{3,}", re.sub(r"<[^>]+>", " ", cards))  # no raw floats


def test_notebooks_that_start_fast_are_not_pooled(tmp_path):
    from kpitools.app.server import WorkshopServer

    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    for name in ("01_smart_goals", "03_kpi_vs_okr", "05_website_kpis"):
        shutil.copy(REPO / "notebooks" / f"{name}.ipynb", notebooks)
    app = WorkshopServer(REPO / "data" / "sample" / "pandablog", lang="en",
                         notebooks_dir=notebooks)
    # 03 and 05 say "kpitools": {"prerun": false} in their metadata: a forked kernel shows
    # their first chart within seconds, so only 01 keeps a pre-run kernel.
    assert app.pooled == ["en/01_smart_goals.ipynb"]
    assert WorkshopServer(REPO / "data" / "sample" / "pandablog", notebooks_dir=notebooks,
                          pool_size=0).pooled == []
