"""Shared fixtures: the real ``costloop`` console script and fresh workspaces."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

Cli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def costloop_exe() -> Path:
    """The installed ``costloop`` console script of this interpreter's environment."""
    return Path(sys.executable).parent / "costloop"


@pytest.fixture(scope="session")
def cli_environ() -> dict[str, str]:
    """Environment for ``costloop`` subprocesses: wide plain output, no stray settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COSTLOOP_")}
    env.update(COLUMNS="200", NO_COLOR="1", TERM="dumb")
    return env


@pytest.fixture(scope="session")
def focus_sample() -> Path:
    """The real FOCUS 1.0 sample (1,000 rows; see tests/fixtures/focus/NOTICE.md)."""
    return Path(__file__).parent / "fixtures" / "focus" / "focus_sample_1_0.csv"


@pytest.fixture(scope="session")
def cli(costloop_exe: Path, cli_environ: dict[str, str]) -> Cli:
    """Run ``costloop ARGS...``; ``env=`` adds variables, ``prefix=`` wraps the command."""

    def run(
        *args: str | Path, env: dict[str, str] | None = None, prefix: tuple[str, ...] = ()
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*prefix, str(costloop_exe), *map(str, args)],
            capture_output=True,
            text=True,
            env={**cli_environ, **(env or {})},
            timeout=180,
            check=False,
        )

    return run


@pytest.fixture
def cli_main(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    """Like ``cli`` but in this process: the console script's ``main()``, no start-up cost.

    For matrices of many invocations; exit code, stdout and stderr are the same as the
    subprocess's (``main`` maps errors to exit codes exactly as the installed script does).
    """
    from costloop.cli.main import main

    for name in [k for k in os.environ if k.startswith("COSTLOOP_")]:
        monkeypatch.delenv(name)

    def run(
        *args: str | Path, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        from costloop.cli import common

        argv = ["costloop", *map(str, args)]
        with monkeypatch.context() as patch:
            patch.setattr(sys, "argv", argv)
            for name, value in (env or {}).items():
                patch.setenv(name, value)
            # The consoles read COLUMNS once, at import: give them the width the
            # subprocess would have (200, as cli_environ, or the env= override).
            width = int((env or {}).get("COLUMNS", "200"))
            patch.setattr(common.console, "width", width)
            patch.setattr(common.err_console, "width", width)
            try:
                main()
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
        out = capsys.readouterr()
        return subprocess.CompletedProcess(argv, code, out.out, out.err)

    return run


@pytest.fixture(scope="session")
def cli_json(cli: Cli) -> Callable[..., Any]:
    """Run ``costloop ARGS... --json``, require exit code 0 and return the parsed output."""

    def run(*args: str | Path, env: dict[str, str] | None = None) -> Any:
        proc = cli(*args, "--json", env=env)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    return run


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """An initialized, empty workspace (made in-process; ``costloop init`` is tested apart)."""
    from costloop.workspace import Workspace

    return Workspace.init(tmp_path / "ws").root
