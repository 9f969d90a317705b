"""Usage mistakes get a short message and exit code 2, never a traceback."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("ingest",), "Missing argument"),
        (("ingest", "--bogus", "x"), "No such option: --bogus"),
        (("report", "showback", "--month"), "requires an argument"),
        (("report", "showback", "--month", "2026-13"), "expected a month as YYYY-MM"),
        (("opportunities", "approve", "not-a-number"), "should be a valid integer"),
    ],
)
def test_usage_errors_exit_2_without_traceback(
    cli_main: Any, args: tuple[str, ...], says: str, tmp_path: Any
) -> None:
    cli_main("init", tmp_path / "ws")
    proc = cli_main(*args, "-w", tmp_path / "ws") if args[-1] != "--month" else cli_main(*args)
    assert proc.returncode == 2, proc.stderr
    assert says in proc.stderr
    assert "Traceback" not in proc.stderr


def test_help_lists_every_command(cli_main: Any) -> None:
    proc = cli_main("--help")
    assert proc.returncode == 0
    for command in (
        "init",
        "ingest",
        "sql",
        "allocate",
        "report",
        "discover",
        "opportunities",
        "pr",
        "verify",
        "demo",
        "config",
    ):
        assert command in proc.stdout
