"""Shared pytest set-up: headless plotting and paths to the repo, samples and reference data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "data" / "sample"
#: CI clones the repo next to a read-only copy of shared/ (../shared); KPITOOLS_SHARED overrides.
SHARED = Path(os.environ.get("KPITOOLS_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    return SAMPLES


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    ref = SHARED / "reference"
    if not ref.is_dir():
        pytest.skip(f"reference data not found at {ref} (set KPITOOLS_SHARED to shared/)")
    return ref
