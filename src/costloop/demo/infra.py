"""The infra git repository: Terraform and Kubernetes files committed with real git."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from costloop.core.errors import ExecutionError
from costloop.demo.model import Resource
from costloop.demo.terraform import render_terraform

__all__ = ["AUTHOR", "write_infra_repo"]

AUTHOR = ("Stride Infra", "infra@stride.example")


def _git(repo: Path, *args: str, when: datetime) -> None:
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S+0000")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(repo),  # no user or global config leaks into the commit
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": AUTHOR[0],
        "GIT_AUTHOR_EMAIL": AUTHOR[1],
        "GIT_COMMITTER_NAME": AUTHOR[0],
        "GIT_COMMITTER_EMAIL": AUTHOR[1],
        "GIT_AUTHOR_DATE": stamp,
        "GIT_COMMITTER_DATE": stamp,
        "TZ": "UTC",
    }
    git = shutil.which("git", path=env["PATH"])
    if git is None:
        raise ExecutionError("git is not installed; it is needed to create the infra repository")
    result = subprocess.run(
        [git, "-c", "commit.gpgsign=false", "-c", "core.autocrlf=false", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise ExecutionError(f"git {args[0]} failed: {result.stderr.strip()}")


def write_infra_repo(resources: Sequence[Resource], repo: Path, when: datetime) -> Path:
    """Write the repository at ``repo`` (replacing it) with one commit on ``main``."""
    if repo.exists():
        shutil.rmtree(repo)
    repo.mkdir(parents=True)
    for rel, text in sorted(render_terraform(resources).items()):
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
    _git(repo, "init", "-q", "-b", "main", when=when)
    _git(repo, "add", "-A", when=when)
    _git(repo, "commit", "-q", "-m", "Stride infrastructure as of the estate snapshot", when=when)
    return repo
