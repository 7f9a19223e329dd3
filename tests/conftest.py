"""Shared pytest set-up: headless plotting and paths to the repo, samples and reference data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "data" / "sample"
#: Published reference data (CDNOW, sBG cohorts, anchors), kept in the repository with its sources.
REFERENCE = REPO / "tests" / "data" / "reference"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    return SAMPLES


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    return REFERENCE
