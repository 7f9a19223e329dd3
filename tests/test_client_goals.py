"""Goals agreed in a workshop (goals.yaml beside client.yml) are what the client loads next time."""

from __future__ import annotations

import shutil

import kpitools
from kpitools.workshop.goals_widgets import export_goals


def test_exported_goals_take_precedence_over_client_yml(sample_dir, tmp_path):
    folder = tmp_path / "pandablog"
    shutil.copytree(sample_dir / "pandablog", folder)
    client = kpitools.load_client(folder)
    original = client.goals
    assert len(original) == 5
    agreed = [dict(original[0], target=123456.0)]
    export_goals(agreed, folder, lang="en")
    reloaded = kpitools.load_client(folder)
    assert [g["goal_id"] for g in reloaded.goals] == [original[0]["goal_id"]]
    assert reloaded.goals[0]["target"] == 123456.0
    # The sample folder itself is untouched.
    assert not (sample_dir / "pandablog" / "goals.yaml").exists()
    assert len(kpitools.load_client(sample_dir / "pandablog").goals) == 5
