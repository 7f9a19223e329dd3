"""The workshop notebooks: committed clean, and executed headless for every applicable sample
client in both languages (papermill), with their metrics.json checked against the library.

The executions are slow (a kernel per run), so they run in parallel, once per session, in a
thread pool of papermill subprocesses started by the ``runs`` fixture; each parametrized test
then reads one executed notebook and its metrics.json.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
SAMPLES = REPO / "data" / "sample"
PERIOD = "2024Q4"
LANGS = ("zh-TW", "en")
#: Which sample clients each notebook applies to. 04 on the shop (no deals) checks the
#: "this client has no … data" messages instead of tracebacks.
CLIENTS = {
    "01_smart_goals": ("cloudledger", "shop", "pandablog"),
    "02_acv_cltv": ("cloudledger", "shop"),
    "03_kpi_vs_okr": ("cloudledger", "pandablog"),
    "04_sales_kpis": ("cloudledger", "shop"),
    "05_website_kpis": ("pandablog", "shop"),
}
MATRIX = [(nb, client, lang) for nb, clients in CLIENTS.items() for client in clients
          for lang in LANGS]
REQUIRED_PARAMETERS = {"client_dir": "str", "period": "str", "lang": "str",
                       "interactive": "bool", "output_dir": "str"}
RUN_TIMEOUT_S = 600
#: The extra run that saves goals into a copy of a sample client.
SAVE_KEY = ("01_smart_goals", "pandablog-copy", "en")


def _notebook(name: str) -> dict:
    import nbformat

    return nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)


# --------------------------------------------------------------------------- committed form


@pytest.mark.parametrize("name", list(CLIENTS))
def test_committed_without_outputs_and_with_one_parameters_cell(name):
    nb = _notebook(name)
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in code)
    tagged = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1 and tagged[0] is code[0]
    assert nb["cells"][0]["cell_type"] == "markdown"
    assert "".join(nb["cells"][0]["source"]).startswith("# ")


@pytest.mark.parametrize("name", list(CLIENTS))
def test_parameters_are_typed_and_explained(name):
    from papermill.translators import PythonTranslator

    cell = next(c for c in _notebook(name)["cells"]
                if "parameters" in c.get("metadata", {}).get("tags", []))
    found = {p.name: p for p in PythonTranslator.inspect(cell)}
    for param, kind in REQUIRED_PARAMETERS.items():
        assert found[param].inferred_type_name == kind
        assert len(found[param].help) > 10, f"{param} has no explanation"
    source = cell["source"]
    assert len(found) == sum(1 for line in source.splitlines() if line.strip()), \
        "papermill could not read every parameter line"


@pytest.mark.parametrize("name", list(CLIENTS))
def test_thin_cells_define_nothing(name):
    for cell in _notebook(name)["cells"]:
        if cell["cell_type"] == "code":
            source = "".join(cell["source"])
            assert not re.search(r"^\s*(def|class|async def)\s", source, re.M), source


# --------------------------------------------------------------------------- executions


class _Runs:
    """Executed notebooks, started in parallel on first use (only the collected ones)."""

    def __init__(self, root: Path, keys: list[tuple[str, str, str]]) -> None:
        self.root = root
        workers = max(2, min(4, os.cpu_count() or 2))
        self.pool = ThreadPoolExecutor(max_workers=workers)
        self.futures: dict[tuple[str, str, str], Future] = {}
        for key in keys:
            self.futures[key] = self.pool.submit(self._run, key)

    def _run(self, key: tuple[str, str, str]) -> tuple[dict, Path]:
        name, client, lang = key
        folder = self.root / "-".join(key)
        folder.mkdir(parents=True)
        extra = []
        if client.endswith("-copy"):
            copy = folder / "client"
            shutil.copytree(SAMPLES / client.removesuffix("-copy"), copy)
            client_dir = str(copy)
            extra = ["-p", "save_goals", "True"]
        else:
            client_dir = f"data/sample/{client}"  # repository-relative: found by the resolver
        out = folder / "executed.ipynb"
        cmd = [sys.executable, "-m", "papermill", str(NOTEBOOKS / f"{name}.ipynb"), str(out),
               "-k", "python3", "--cwd", str(folder), "--no-progress-bar",
               "-p", "client_dir", client_dir, "-p", "period", PERIOD, "-p", "lang", lang,
               "-p", "output_dir", str(folder / "out"), *extra]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
                              check=False)
        if done.returncode != 0 and not out.exists():
            raise AssertionError(f"papermill failed for {key}:\n{done.stderr[-3000:]}")
        return json.loads(out.read_text(encoding="utf-8")), folder

    def get(self, key: tuple[str, str, str]) -> tuple[dict, Path]:
        if key not in self.futures:
            self.futures[key] = self.pool.submit(self._run, key)
        return self.futures[key].result()


@pytest.fixture(scope="session")
def runs(request, tmp_path_factory):
    wanted = []
    for item in request.session.items:
        callspec = getattr(item, "callspec", None)
        if item.module.__name__.endswith("test_notebooks") and callspec is not None:
            key = callspec.params.get("key")
            if key is not None:
                wanted.append(tuple(key))
    if any(item.name.startswith("test_save_goals") for item in request.session.items):
        wanted.append(SAVE_KEY)
    runner = _Runs(tmp_path_factory.mktemp("notebooks"), wanted)
    yield runner
    runner.pool.shutdown(wait=True)


def _texts(nb: dict) -> list[str]:
    """Every text output of an executed notebook (streams, errors, plain/markdown/html)."""
    found = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            if out["output_type"] == "stream":
                found.append("".join(out["text"]))
            elif out["output_type"] == "error":
                found.append(f"{out['ename']}: {out['evalue']}")
            else:
                for mime in ("text/plain", "text/markdown", "text/html"):
                    if mime in out.get("data", {}):
                        found.append("".join(out["data"][mime]))
    return found


@cache
def _client(slug: str):
    import kpitools

    return kpitools.load_client(SAMPLES / slug)


@pytest.mark.slow
@pytest.mark.parametrize("key", MATRIX, ids=["-".join(k) for k in MATRIX])
def test_notebook_runs_clean_and_metrics_match_the_library(runs, key):
    from kpitools.catalog import compute_kpi
    from kpitools.workshop import kpi_label, text

    name, slug, lang = key
    nb, folder = runs.get(key)
    errors = [o for c in nb["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert errors == [], errors[0]["evalue"] if errors else ""
    everything = "\n".join(_texts(nb))
    assert "missing from font" not in everything
    assert "Traceback" not in everything
    metrics = json.loads((folder / "out" / "metrics.json").read_text(encoding="utf-8"))
    assert (metrics["client"]["slug"], metrics["quarter"], metrics["lang"]) == (slug, PERIOD, lang)
    assert metrics["workshop"]["notebook"] == name
    client = _client(slug)
    for entry in metrics["headline"]:
        expected = compute_kpi(entry["kpi"], client, PERIOD)
        if name == "01_smart_goals":  # 01 reports the baselines: the quarter before
            expected = compute_kpi(entry["kpi"], client, "2024Q3")
        if expected is None or (isinstance(expected, float) and math.isnan(expected)):
            assert entry["value"] is None
        else:
            assert entry["value"] == pytest.approx(expected, rel=1e-9), entry["kpi"]
        assert entry["label"] == kpi_label(entry["kpi"], lang)
        assert entry["formatted"]
    if name == "04_sales_kpis" and slug == "shop":
        assert text("common.no_data", lang, tables="deals") in everything
    if name == "02_acv_cltv" and slug == "shop":
        assert text("common.no_data", lang, tables="contracts") in everything
    # Running the notebook never writes into the sample client folder.
    assert not (SAMPLES / slug / "goals.yaml").exists()


@pytest.mark.slow
def test_acv_cltv_headline_for_cloudledger_by_direct_calls(runs):
    """Spot-check 02's numbers against the metric functions themselves (not the catalog)."""
    from kpitools.metrics import acv, cac_payback_months, logo_churn_rate

    _, folder = runs.get(("02_acv_cltv", "cloudledger", "en"))
    values = {h["kpi"]: h["value"] for h in
              json.loads((folder / "out" / "metrics.json").read_text("utf-8"))["headline"]}
    client = _client("cloudledger")
    assert values["acv"] == pytest.approx(acv(client["contracts"], PERIOD))
    assert values["logo_churn_rate"] == pytest.approx(logo_churn_rate(client["contracts"], PERIOD))
    assert values["cac_payback_months"] == pytest.approx(
        cac_payback_months(client["marketing_spend"], client["contracts"], PERIOD))
    assert set(values) >= {"cltv", "ltv_to_cac", "projected_retention", "cac"}


@pytest.mark.slow
def test_website_goals_and_questionnaire_in_metrics(runs):
    from kpitools.goals import example_answers, score_answers
    from kpitools.metrics.web import ad_revenue, sessions

    _, folder = runs.get(("05_website_kpis", "pandablog", "zh-TW"))
    doc = json.loads((folder / "out" / "metrics.json").read_text("utf-8"))
    web = _client("pandablog")["web_traffic"]
    values = {h["kpi"]: h["value"] for h in doc["headline"]}
    assert values["sessions"] == sessions(web, PERIOD)
    assert values["ad_revenue"] == pytest.approx(ad_revenue(web, PERIOD))
    # the blog's five goals for 2024Q4 (client.yml), g1 ad revenue: actual ÷ target
    goals = {g["goal_id"]: g for g in doc["goals"]}
    assert sorted(goals) == ["g1", "g2", "g3", "g4", "g5"]
    assert goals["g1"]["attainment"] == pytest.approx(ad_revenue(web, PERIOD) / 51500)

    _, folder = runs.get(("03_kpi_vs_okr", "cloudledger", "en"))
    workshop = json.loads((folder / "out" / "metrics.json").read_text("utf-8"))["workshop"]
    expected = score_answers(example_answers("stability_plus_breakthrough"), lang="en")
    assert workshop["recommendation"] == expected.recommendation == "hybrid"
    assert (workshop["kpi_points"], workshop["okr_points"]) == (expected.kpi_points,
                                                                expected.okr_points)


@pytest.mark.slow
def test_save_goals_writes_only_the_copied_client(runs):
    from kpitools.goals import read_goals

    nb, folder = runs.get(SAVE_KEY)
    assert not [o for c in nb["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]
    saved = folder / "client" / "goals.yaml"
    assert [g.goal_id for g in read_goals(saved)] == ["g1", "g2", "g3", "g4", "g5"]
    assert [g.kpi_id for g in read_goals(saved)][:2] == ["ad_revenue", "affiliate_revenue"]
    assert not (SAMPLES / "pandablog" / "goals.yaml").exists()
