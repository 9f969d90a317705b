"""``costloop allocate --check``: validate the allocation file and show what is in force."""

from __future__ import annotations

import json
from pathlib import Path

from tests.allocation.conftest import new_workspace
from tests.conftest import Cli

VALID = """
dimensions:
  env:
    values: [prod, dev]
    keys: [env, environment]
rules:
  - {dimension: env, account: ["222222222222"], value: prod}
pools:
  - name: support
    match: {service: [AWS Support]}
    method: even
"""


def test_check_lists_dimensions_rules_and_pools_without_allocating(
    tmp_path: Path, cli_main: Cli
) -> None:
    ws = new_workspace(tmp_path / "ws", VALID)
    proc = cli_main("allocate", "--check", "--json", "-w", ws.root)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert [d["name"] for d in doc["dimensions"]] == ["team", "env"]
    assert doc["dimensions"][1]["values"] == ["prod", "dev"]
    # The file's rule (with its line), then the org file's account mapping for team.
    assert doc["rules"][0] == {
        "dimension": "env",
        "kind": "account",
        "value": "prod",
        "accounts": ["222222222222"],
        "resource_name": None,
        "resource_id": None,
        "line": 6,
    }
    assert {(r["dimension"], r["line"]) for r in doc["rules"][1:]} == {("team", None)}
    assert doc["pools"] == [
        {
            "name": "support",
            "dimension": "team",
            "method": "even",
            "targets": [],
            "shares": {},
            "line": 8,
        }
    ]
    table = cli_main("allocate", "--check", "-w", ws.root)
    assert table.returncode == 0
    assert "allocation.yaml: valid." in table.stdout
    assert "support" in table.stdout


def test_check_refuses_an_invalid_file_with_its_line(tmp_path: Path, cli_main: Cli) -> None:
    ws = new_workspace(tmp_path / "ws", VALID.replace("method: even", "method: evenly"))
    proc = cli_main("allocate", "--check", "-w", ws.root)
    assert proc.returncode == 2
    assert "row 10" in proc.stderr and "pools[0].method" in proc.stderr
    assert "method is one of proportional, even, fixed, metric" in proc.stderr
