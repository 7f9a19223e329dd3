"""load_client keeps recently loaded clients, keyed by the bytes of their files (issue 13)."""

from __future__ import annotations

import shutil

import pandas as pd

import kpitools
from kpitools.io import client as client_module


def test_same_files_give_an_equal_client_without_reading_again(sample_dir, tmp_path, monkeypatch):
    folder = tmp_path / "shop"
    shutil.copytree(sample_dir / "shop", folder)
    first = kpitools.load_client(folder)
    reads = []
    real = client_module._read_client
    monkeypatch.setattr(client_module, "_read_client", lambda f: reads.append(f) or real(f))
    second = kpitools.load_client(folder)
    assert reads == []  # served from the cache
    assert second is not first and second.tables["orders"] is not first.tables["orders"]
    pd.testing.assert_frame_equal(second["orders"], first["orders"])
    assert second.config == first.config and second.config is not first.config


def test_a_changed_file_is_read_again(sample_dir, tmp_path):
    folder = tmp_path / "shop"
    shutil.copytree(sample_dir / "shop", folder)
    before = kpitools.load_client(folder)
    text = (folder / "client.yml").read_text("utf-8")
    (folder / "client.yml").write_text(text.replace("en: Mountain Mist Tea", "en: Misty Tea"),
                                       "utf-8")
    after = kpitools.load_client(folder)
    assert before.name_for("en") == "Mountain Mist Tea" and after.name_for("en") == "Misty Tea"


def test_changing_a_returned_table_does_not_change_the_next_client(sample_dir, tmp_path):
    folder = tmp_path / "shop"
    shutil.copytree(sample_dir / "shop", folder)
    first = kpitools.load_client(folder)
    amount = first["orders"]["amount"].sum()
    first["orders"]["amount"] = 0.0
    first.config["currency"] = "JPY"
    second = kpitools.load_client(folder)
    assert second["orders"]["amount"].sum() == amount
    assert second.currency == "TWD"
