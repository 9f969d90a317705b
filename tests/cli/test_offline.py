"""costloop needs no network at run time: DuckDB extensions come from site-packages."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

PROBE = """
import socket
try:
    socket.create_connection(("1.1.1.1", 443), timeout=3).close()
except OSError:
    print("offline")
"""
UNROUTABLE = "http://10.255.255.1:9"  # no route, nothing listens: any proxied request fails


def _no_network_prefix() -> tuple[str, ...] | None:
    """A command prefix that runs its command in a network namespace without interfaces."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    for flags in ("-rn", "-n"):
        probe = subprocess.run(
            [unshare, flags, sys.executable, "-c", PROBE],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == "offline":
            return (unshare, flags)
    return None


@pytest.fixture(scope="module")
def offline() -> tuple[tuple[str, ...], dict[str, str]]:
    """(command prefix, extra environment) that cut costloop off the network."""
    prefix = _no_network_prefix()
    if prefix is not None:
        return prefix, {}
    # Fallback when namespaces are not permitted: every proxied connection goes nowhere.
    proxies = {k: UNROUTABLE for k in ("http_proxy", "https_proxy", "ALL_PROXY")}
    proxies.update({k.upper(): UNROUTABLE for k in proxies})
    return (), proxies


def test_init_ingest_sql_without_network(
    offline: tuple[tuple[str, ...], dict[str, str]],
    cli: Any,
    focus_sample: Path,
    tmp_path: Path,
) -> None:
    prefix, env = offline
    home = tmp_path / "home"
    home.mkdir()
    env = {**env, "HOME": str(home)}  # where DuckDB would install downloaded extensions
    ws = tmp_path / "ws"

    init = cli("init", ws, env=env, prefix=prefix)
    assert init.returncode == 0, init.stderr
    ingest = cli("ingest", focus_sample, "-w", ws, "--json", env=env, prefix=prefix)
    assert ingest.returncode == 0, ingest.stderr
    assert sum(s["rows"] for s in json.loads(ingest.stdout)["loads"]) == 1000
    sql = cli(
        "sql",
        "SELECT (SELECT sum(BilledCost) FROM charges) AS billed, "
        "(SELECT list(extension_name ORDER BY extension_name) FROM duckdb_extensions() "
        "WHERE loaded AND NOT installed) AS from_wheels, "
        "(SELECT list(value) FROM duckdb_settings() "
        "WHERE name IN ('autoinstall_known_extensions', 'autoload_known_extensions')) AS auto",
        "-w",
        ws,
        "--json",
        env=env,
        prefix=prefix,
    )
    assert sql.returncode == 0, sql.stderr

    (row,) = json.loads(sql.stdout)["rows"]
    assert Decimal(row["billed"]) == Decimal("20.52022672899")
    assert row["from_wheels"] == ["ducklake", "sqlite_scanner"]
    assert row["auto"] == ["false", "false"]
    assert not (home / ".duckdb").exists(), "DuckDB installed an extension at run time"


def test_connections_disable_extension_autoinstall_and_autoload(tmp_path: Path) -> None:
    from costloop.warehouse import Lake, LakePaths

    lake = Lake(LakePaths(tmp_path / ".costloop"))
    lake.create()
    for read_only in (True, False):
        with lake.connect(read_only=read_only) as con:
            settings = dict(
                con.execute(
                    "SELECT name, value FROM duckdb_settings() WHERE name IN "
                    "('autoinstall_known_extensions', 'autoload_known_extensions')"
                ).fetchall()
            )
        assert settings == {
            "autoinstall_known_extensions": "false",
            "autoload_known_extensions": "false",
        }
