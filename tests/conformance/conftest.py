"""Conformance fixtures (see harness.py): the validator, the allow-list, the sample runs."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the test modules share harness and samples

from harness import Runs, load_allowlist, load_validator_script


@pytest.fixture(scope="session")
def fv() -> ModuleType:
    """The validator wrapper, with focus-validator installed in ``.venv-fv``.

    Skipped only when no Python ≥ 3.12 exists; a failed install is an error.
    """
    module = load_validator_script()
    if module.find_python() is None:
        pytest.skip(
            "focus-validator 2.2.1 needs Python >= 3.12: none found (python3.12 on PATH, "
            "pyenv versions, or $FOCUS_VALIDATOR_PYTHON)"
        )
    module.ensure_installed()
    return module


@pytest.fixture(scope="session")
def conformance_runs(cli: Any, fv: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Runs:
    """Sample runs shared by the conformance tests."""
    return Runs(cli, fv, tmp_path_factory.mktemp("conformance"))


@pytest.fixture(scope="session")
def allowlist() -> list[dict[str, Any]]:
    """The allow-list entries."""
    return load_allowlist()
