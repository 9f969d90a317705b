"""Fixtures for execution tests: golden files and real git repositories."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest


def check_golden(path: Path, actual: str) -> None:
    """Compare ``actual`` with a golden file, or rewrite it when regenerating."""
    if os.environ.get("COSTLOOP_REGEN_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), f"missing golden file {path}; see tests/golden/README.md"
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{path} differs; regenerate and review (tests/golden/README.md)"


@pytest.fixture
def golden() -> Callable[[Path, str], None]:
    """``golden(path, text)``: assert text equals the file (or regenerate it)."""
    return check_golden


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` and return stdout (fails the test on error)."""
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def run_git() -> Callable[..., str]:
    """``run_git(repo, *args)``: run git and return stdout."""
    return git


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[[Path], Path]:
    """Copy a folder into a fresh git repository on ``main`` with one commit."""

    def make(source: Path) -> Path:
        repo = tmp_path / "infra"
        shutil.copytree(source, repo)
        git(repo, "init", "--quiet", "--initial-branch=main")
        git(repo, "config", "user.name", "Infra Owner")
        git(repo, "config", "user.email", "infra@example.com")
        git(repo, "config", "commit.gpgsign", "false")
        git(repo, "add", "-A")
        git(repo, "commit", "--quiet", "-m", "initial infrastructure")
        return repo

    return make
