"""A small demo estate shared by the demo tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the test modules share demo_helpers

from demo_helpers import read_csv

from costloop.core.periods import Month
from costloop.demo import EstateManifest, generate_estate


@pytest.fixture(scope="session")
def estate(tmp_path_factory: pytest.TempPathFactory) -> EstateManifest:
    """Three months ending 2026-10: enough for anomalies, credits and a correction."""
    return generate_estate(tmp_path_factory.mktemp("estate"), months=3, end_month=Month(2026, 10))


@pytest.fixture(scope="session")
def billing(estate: EstateManifest) -> list[dict[str, str]]:
    """Every billing row of the shared estate."""
    rows: list[dict[str, str]] = []
    for path in estate.billing_files:
        rows += read_csv(path)
    return rows


@pytest.fixture(scope="session")
def inventory(estate: EstateManifest) -> list[dict[str, str]]:
    """The inventory snapshot of the shared estate."""
    return read_csv(estate.inventory_file)


@pytest.fixture(scope="session")
def utilization(estate: EstateManifest) -> list[dict[str, str]]:
    """The utilization metrics of the shared estate."""
    return read_csv(estate.utilization_file)
