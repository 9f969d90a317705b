"""Fixtures of the budget tests: one shared warehouse of hand-made daily charges."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the test modules share budget_helpers

from budget_helpers import build_workspace, daily_rows

from costloop.workspace import Workspace


@pytest.fixture(scope="session")
def budget_ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """The warehouse of ``budget_helpers.daily_rows`` (read it, do not write)."""
    return build_workspace(tmp_path_factory.mktemp("budgets") / "ws", daily_rows())
